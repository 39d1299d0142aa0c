//! The embedded server's `/scenario/` fault injections, each run through the real binary, with the
//! records each fault must produce: reconnect forensics, `id_gap`, `lint`, close codes, resets,
//! timeouts.

mod support;

use std::time::Duration;

use serde_json::Value;
use streamscope::server::ServerConfig;
use support::{RawServer, RunOutput, embedded_server, run};

/// A 20 ms feed, and heartbeats (SSE comments, WebSocket pings) every 50 ms.
const SERVER: ServerConfig = ServerConfig {
    tick: Duration::from_millis(20),
    heartbeat: Duration::from_millis(50),
};

fn rules(out: &RunOutput) -> Vec<String> {
    out.kind("lint")
        .iter()
        .map(|r| r["rule"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn ids(out: &RunOutput) -> Vec<String> {
    out.kind("event")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn sse_drop_resumes_after_last_event_id_and_honours_retry() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "6",
        &format!("http://{a}/scenario/sse/drop?after=3&retry_ms=80"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(ids(&out), ["1", "2", "3", "4", "5", "6"]);
    let rc = out.kind("reconnect");
    assert_eq!(rc.len(), 1, "{:?}", out.records);
    assert_eq!(rc[0]["last_event_id"], "3");
    assert_eq!(rc[0]["retry_ms"], 80);
    assert_eq!(rc[0]["delay_ms"], 80);
    let reason = rc[0]["reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("stream broke"), "{reason}");
    assert!(out.kind("id_gap").is_empty(), "{:?}", out.kind("id_gap"));
}

#[tokio::test]
async fn sse_reset_mid_stream_is_named_in_the_reconnect_reason() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "4",
        &format!("http://{a}/scenario/sse/drop?after=2&reset=1"),
    ])
    .await;
    assert_eq!(ids(&out), ["1", "2", "3", "4"]);
    let rc = out.kind("reconnect");
    assert!(!rc.is_empty(), "{:?}", out.records);
    let reason = rc[0]["reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("connection reset by peer"), "{reason}");
}

#[tokio::test]
async fn sse_resume_that_skips_ids_is_an_id_gap() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "6",
        &format!("http://{a}/scenario/sse/drop?after=3&skip=2"),
    ])
    .await;
    assert_eq!(ids(&out), ["1", "2", "3", "6", "7", "8"]);
    let gaps = out.kind("id_gap");
    assert_eq!(gaps.len(), 1, "{:?}", out.records);
    assert_eq!(gaps[0]["expected"], 4);
    assert_eq!(gaps[0]["got"], 6);
    assert_eq!(gaps[0]["missing"], 2);
    assert_eq!(gaps[0]["repeated"], 0);
    assert_eq!(gaps[0]["count"], 1);
    // The gap record follows the event that broke the sequence.
    let kinds = out.kinds();
    let at = kinds.iter().position(|k| k == "id_gap").unwrap_or(0);
    assert_eq!(out.records[at - 1]["id"], "6");
}

#[tokio::test]
async fn sse_resume_that_repeats_ids_is_an_id_gap() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "5",
        &format!("http://{a}/scenario/sse/drop?after=3&repeat=1"),
    ])
    .await;
    assert_eq!(ids(&out), ["1", "2", "3", "3", "4"]);
    let gaps = out.kind("id_gap");
    assert_eq!(gaps.len(), 1, "{:?}", out.records);
    assert_eq!(
        (&gaps[0]["expected"], &gaps[0]["got"], &gaps[0]["repeated"]),
        (&Value::from(4), &Value::from(3), &Value::from(1))
    );
}

#[tokio::test]
async fn seq_pointer_reads_the_sequence_from_json_data() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    // Ids go 1,2,3 then 5,6 on the wire; --seq reads the same numbers from {"seq":n}.
    let out = run(&[
        "--json",
        "--count",
        "5",
        "--seq",
        "/seq",
        &format!("http://{a}/scenario/sse/drop?after=3&skip=1"),
    ])
    .await;
    let gaps = out.kind("id_gap");
    assert_eq!(gaps.len(), 1, "{:?}", out.records);
    assert_eq!(
        (&gaps[0]["expected"], &gaps[0]["got"]),
        (&Value::from(4), &Value::from(5))
    );
    // A pointer that matches nothing finds no sequence, so no gap.
    let out = run(&[
        "--json",
        "--count",
        "5",
        "--seq",
        "/nope",
        &format!("http://{a}/scenario/sse/drop?after=3&skip=1"),
    ])
    .await;
    assert!(out.kind("id_gap").is_empty());
}

#[tokio::test]
async fn seq_pointer_applies_to_websocket_messages() {
    // The demo feed's messages are {"seq":n,...} with consecutive seqs: no gap.
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "5",
        "--seq",
        "/seq",
        &format!("ws://{a}/ws"),
    ])
    .await;
    assert_eq!(out.kind("message").len(), 5);
    assert!(out.kind("id_gap").is_empty(), "{:?}", out.kind("id_gap"));
    // A raw server whose messages skip seq 2.
    let raw = RawServer::start(|_, mut sock, log| async move {
        support::ws_accept(&mut sock, &log, None).await;
        let mut out = Vec::new();
        for n in [1, 3, 4] {
            out.extend(support::frame(
                true,
                0,
                1,
                format!("{{\"seq\":{n}}}").as_bytes(),
            ));
        }
        let _ = tokio::io::AsyncWriteExt::write_all(&mut sock, &out).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    let out = run(&[
        "--json",
        "--count",
        "3",
        "--seq",
        "/seq",
        &raw.url("ws", "/"),
    ])
    .await;
    let gaps = out.kind("id_gap");
    assert_eq!(gaps.len(), 1, "{:?}", out.records);
    assert_eq!(gaps[0]["missing"], 1);
    assert_eq!(gaps[0]["proto"], "ws");
}

#[tokio::test]
async fn sse_retry_changes_are_followed() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "3",
        &format!("http://{a}/scenario/sse/retry?ms=900,60"),
    ])
    .await;
    let ev = out.kind("event");
    assert_eq!(ev[0]["retry"], 900);
    assert_eq!(ev[1]["retry"], 60);
    let rc = out.kind("reconnect");
    assert_eq!(rc.len(), 1, "{:?}", out.records);
    // The last retry: wins, and the delay is exactly it (first attempt).
    assert_eq!(rc[0]["retry_ms"], 60);
    assert_eq!(rc[0]["delay_ms"], 60);
    assert_eq!(rc[0]["reason"], "server closed the stream");
}

#[tokio::test]
async fn sse_silence_between_heartbeats_raises_gaps() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--heartbeat",
        "100ms",
        &format!("http://{a}/scenario/sse/silence?ms=250&n=2"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kind("comment").len(), 2);
    assert_eq!(out.kind("gap").len(), 2, "{:?}", out.kinds());
    for c in out.kind("comment") {
        assert!(c["gap_ms"].as_f64().unwrap_or(0.0) >= 240.0, "{c}");
    }
}

#[tokio::test]
async fn sse_stall_mid_event_delays_the_event_and_idle_timeout_fires() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/scenario/sse/stall?ms=300"),
    ])
    .await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 1, "{:?}", out.records);
    assert_eq!(ev[0]["data"], "first half\nsecond half");
    assert!(
        ev[0]["gap_ms"].as_f64().unwrap_or(0.0) >= 290.0,
        "{}",
        ev[0]
    );

    let out = run(&[
        "--json",
        "--max-retries",
        "0",
        "--idle-timeout",
        "100ms",
        &format!("http://{a}/scenario/sse/stall?ms=3000"),
    ])
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.kind("event").is_empty());
    let err = out.kind("error");
    assert_eq!(err.len(), 1, "{:?}", out.records);
    assert_eq!(
        err[0]["message"],
        "idle timeout: nothing received for 100ms"
    );
    // The half event was lost with the connection.
    assert_eq!(rules(&out), ["unterminated-event"]);
    let end = out.kind("end")[0];
    assert!(
        end["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("idle timeout")
    );
}

#[tokio::test]
async fn sse_slow_drip_assembles_one_event_from_many_reads() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/scenario/sse/drip?ms=5"),
    ])
    .await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 1, "{:?}", out.records);
    assert_eq!(ev[0]["data"], "drip");
    assert_eq!(ev[0]["wire_bytes"], 18);
    // 18 bytes written one by one, 5 ms apart: most arrive in reads of their own.
    assert!(ev[0]["read"].as_u64().unwrap_or(0) >= 10, "{}", ev[0]);
}

#[tokio::test]
async fn sse_wrong_content_type_fails_without_retry() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("http://{a}/scenario/sse/content-type")]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.kinds(), ["error", "end"]);
    let msg = out.kind("error")[0]["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("Content-Type is text/html"), "{msg}");
}

#[tokio::test]
async fn sse_huge_single_line() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/scenario/sse/huge-line?bytes=3000000"),
    ])
    .await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["payload_bytes"], 3_000_000);
    assert_eq!(ev[0]["wire_bytes"], 3_000_008);
    assert_eq!(ev[0]["data"].as_str().map(str::len), Some(3_000_000));
}

#[tokio::test]
async fn http_statuses_204_401_500_redirect_and_429_retry_after() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("http://{a}/status/204")]).await;
    assert_eq!(out.code, 0);
    assert_eq!(out.kinds(), ["end"]);
    for code in [401, 500] {
        let out = run(&["--json", &format!("http://{a}/status/{code}")]).await;
        assert_eq!(out.code, 1, "{code}");
        assert_eq!(out.kinds(), ["error", "end"], "{code}");
        assert_eq!(out.kind("error")[0]["status"], code);
    }
    // With redirects turned off, a redirect is an error that names the option.
    let out = run(&[
        "--json",
        "--max-redirects",
        "0",
        &format!("http://{a}/status/302?location=/sse"),
    ])
    .await;
    assert_eq!(out.code, 1);
    assert_eq!(out.kinds(), ["error", "end"]);
    assert_eq!(out.kind("error")[0]["status"], 302);
    let msg = out.kind("error")[0]["message"].as_str().unwrap_or("");
    assert!(msg.contains("not followed: --max-redirects 0"), "{msg}");
    // 429 is retried after Retry-After, which takes the place of retry:.
    let out = run(&[
        "--json",
        "--max-retries",
        "1",
        &format!("http://{a}/status/429?retry_after=0"),
    ])
    .await;
    assert_eq!(out.code, 1);
    let rc = out.kind("reconnect");
    assert_eq!(rc.len(), 1, "{:?}", out.records);
    assert_eq!(rc[0]["delay_ms"], 0);
    assert!(rc[0]["retry_ms"].is_null());
    let reason = rc[0]["reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("HTTP 429 Too Many Requests"), "{reason}");
}

#[tokio::test]
async fn sse_lint_scenario_reports_each_rule() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/scenario/sse/lint"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut got = rules(&out);
    got.sort();
    assert_eq!(
        got,
        [
            "bom",
            "id-with-nul",
            "invalid-retry",
            "mixed-line-endings",
            "unknown-field",
            "unterminated-event"
        ]
    );
    assert_eq!(out.kind("event").len(), 3);
}

#[tokio::test]
async fn burst_after_silence_is_linted_as_buffering() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/scenario/sse/burst?n=12&after_ms=1100"),
    ])
    .await;
    assert_eq!(out.kind("event").len(), 13);
    assert_eq!(rules(&out), ["buffered-burst"]);
    let lint = out.kind("lint")[0];
    let msg = lint["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("12 records arrived in one read"), "{msg}");
    // The same burst without the silence is a fast stream, not buffering.
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/scenario/sse/burst?n=12&after_ms=10"),
    ])
    .await;
    assert!(rules(&out).is_empty(), "{:?}", out.records);
}

#[tokio::test]
async fn server_that_never_answers_hits_the_connect_timeout() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    for url in [
        format!("http://{a}/scenario/sse/no-response"),
        format!("ws://{a}/scenario/ws/no-handshake"),
    ] {
        let started = std::time::Instant::now();
        let out = run(&[
            "--json",
            "--max-retries",
            "0",
            "--connect-timeout",
            "200ms",
            &url,
        ])
        .await;
        assert_eq!(out.code, 1, "{url}");
        assert_eq!(out.kinds(), ["error", "end"], "{url}");
        let msg = out.kind("error")[0]["message"].as_str().unwrap_or("");
        assert!(msg.contains("within 200ms"), "{msg}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn ws_close_codes_are_reported() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    for (code, failed) in [
        (1000, false),
        (1001, false),
        (1003, true),
        (1008, true),
        (1011, true),
        (1013, true),
        (4000, true),
    ] {
        let out = run(&[
            "--json",
            &format!("ws://{a}/scenario/ws/close/{code}?reason=bye"),
        ])
        .await;
        assert_eq!(out.code, i32::from(failed), "{code}: {:?}", out.records);
        let closes = out.kind("close");
        assert_eq!(closes[0]["code"], code);
        assert_eq!(closes[0]["reason"], "bye");
        assert_eq!(closes[0]["by"], "server");
        assert_eq!(out.kind_dir("close", "out").len(), 1, "the close is echoed");
        let end = out.kind("end")[0];
        assert_eq!(end["failed"], failed);
        assert!(
            end["reason"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("server closed: {code}")),
            "{end}"
        );
    }
    // 1005 may not be sent on the wire: a protocol error (1002).
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/close/1005")]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.kind("error")[0]["close_code"], 1002);
    // An empty close body is legal: no code.
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/close/none")]).await;
    assert_eq!(out.code, 0);
    assert!(out.kind("close")[0]["code"].is_null());
}

#[tokio::test]
async fn ws_server_that_stops_answering_pings_hits_the_idle_timeout() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--max-retries",
        "0",
        "--ping-interval",
        "50ms",
        "--idle-timeout",
        "300ms",
        "--reconnect",
        &format!("ws://{a}/scenario/ws/no-pong"),
    ])
    .await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    assert!(out.kind_dir("ping", "out").len() >= 3, "{:?}", out.kinds());
    assert!(out.kind("pong").is_empty());
    let err = out.kind("error");
    assert_eq!(
        err[0]["message"],
        "idle timeout: nothing received for 300ms"
    );
    assert_eq!(err[0]["close_code"], 1006);
}

#[tokio::test]
async fn no_auto_pong_leaves_server_pings_unanswered() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let url = format!("ws://{a}/ws?interval_ms=100000");
    let out = run(&["--json", "--duration", "300ms", &url]).await;
    assert!(
        !out.kind_dir("pong", "out").is_empty(),
        "auto-pong is on by default"
    );
    let out = run(&["--json", "--duration", "300ms", "--no-auto-pong", &url]).await;
    assert!(out.kind_dir("ping", "in").len() >= 2, "{:?}", out.kinds());
    assert!(out.kind("pong").is_empty(), "{:?}", out.kinds());
}

#[tokio::test]
async fn ws_fragmented_message_with_ping_between_fragments() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/fragmented")]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let msg = out.kind("message");
    assert_eq!(msg.len(), 1);
    assert_eq!(msg[0]["data"], "héllo wörld");
    assert_eq!(msg[0]["frames"], 3);
    assert_eq!(out.kind_dir("ping", "in")[0]["data"], "between");
    assert_eq!(out.kind_dir("pong", "out")[0]["data"], "between");
    assert_eq!(rules(&out), ["utf8-split-across-frames"]);
    // The ping is reported before the message it interrupted.
    let kinds = out.kinds();
    let ping = kinds.iter().position(|k| k == "ping");
    let message = kinds.iter().position(|k| k == "message");
    assert!(ping < message, "{kinds:?}");
}

#[tokio::test]
async fn ws_compressed_frame_is_inflated() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/compressed")]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let open = out.kind("open")[0];
    assert_eq!(
        open["headers"]["sec-websocket-extensions"],
        "permessage-deflate"
    );
    assert_eq!(open["compression"], "permessage-deflate");
    let msg = out.kind("message")[0];
    assert_eq!(msg["compressed"], true);
    assert_eq!(msg["data"], "Hello");
    // RFC 7692 7.2.3.1: 7 deflated bytes in a 9-byte frame, 5 decoded.
    assert_eq!(
        (
            &msg["wire_bytes"],
            &msg["compressed_bytes"],
            &msg["payload_bytes"]
        ),
        (&Value::from(9), &Value::from(7), &Value::from(5))
    );
}

#[tokio::test]
async fn ws_tcp_reset_mid_frame() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--reconnect",
        "--max-retries",
        "0",
        &format!("ws://{a}/scenario/ws/reset?after=2"),
    ])
    .await;
    assert_eq!(out.code, 1);
    let msgs: Vec<_> = out
        .kind("message")
        .iter()
        .map(|m| m["data"].clone())
        .collect();
    assert_eq!(msgs, ["message 0", "message 1"]);
    let err = out.kind("error");
    assert_eq!(err.len(), 1, "{:?}", out.records);
    let text = err[0]["message"].as_str().unwrap_or("");
    assert!(text.starts_with("connection reset by peer"), "{text}");
    assert_eq!(err[0]["close_code"], 1006);
    let end = out.kind("end")[0]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(end.starts_with("connection reset by peer"), "{end}");
}

#[tokio::test]
async fn ws_non_minimal_length_is_linted() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/non-minimal")]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(out.kind("message")[0]["data"], "hi");
    assert_eq!(rules(&out), ["non-minimal-length"]);
    let kinds = out.kinds();
    assert_eq!(
        kinds[1], "lint",
        "the lint comes before the message: {kinds:?}"
    );
}

#[tokio::test]
async fn send_messages_go_again_after_every_ws_reconnect() {
    let raw = RawServer::start(|_, mut sock, log| async move {
        support::ws_accept(&mut sock, &log, None).await;
        let frames = support::read_client_frames(&mut sock, 2).await;
        let texts: Vec<String> = frames
            .iter()
            .map(|(_, p)| String::from_utf8_lossy(p).into_owned())
            .collect();
        log.lock()
            .expect("lock")
            .push(format!("sent: {}", texts.join("|")));
        let close = support::frame(
            true,
            0,
            8,
            &streamscope::protocol::ws::encode_close_payload(1011, "again"),
        );
        let _ = tokio::io::AsyncWriteExt::write_all(&mut sock, &close).await;
        let _ = support::read_client_frames(&mut sock, 1).await;
    })
    .await;
    let out = run(&[
        "--json",
        "--reconnect",
        // A connection that opened resets the retry count, so the run is bounded by time: the
        // first reconnect waits 1 s, the second would start after 2 s.
        "--duration",
        "1600ms",
        "--send",
        "sub-a",
        "--send",
        "sub-b",
        &raw.url("ws", "/"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let sent: Vec<String> = raw
        .requests
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|r| r.strip_prefix("sent: ").map(str::to_owned))
        .collect();
    assert_eq!(sent, ["sub-a|sub-b", "sub-a|sub-b"]);
    let rc = out.kind("reconnect");
    assert_eq!(rc.len(), 2, "{:?}", out.kinds());
    assert_eq!(rc[0]["reason"], "server closed: 1011 internal error");
    assert!(rc[0]["retry_ms"].is_null());
}

#[tokio::test]
async fn unknown_scenario_is_404_and_bad_parameter_is_400() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("http://{a}/scenario/sse/nope")]).await;
    assert_eq!(out.kind("error")[0]["status"], 404);
    let out = run(&["--json", &format!("http://{a}/scenario/sse/drop?after=x")]).await;
    assert_eq!(out.kind("error")[0]["status"], 400);
    // Other paths still go to hyper.
    let out = run(&["--json", "--count", "1", &format!("http://{a}/sse")]).await;
    assert_eq!(out.code, 0);
}

#[tokio::test]
async fn a_silent_connection_does_not_hold_up_shutdown() {
    // The accept path peeks at each connection to route /scenario/ requests; a client that sends
    // nothing must not keep the server's shutdown waiting (it waits up to 5 s for its tasks).
    let srv = embedded_server(SERVER).await;
    let _silent = tokio::net::TcpStream::connect(srv.local_addr())
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    srv.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shutdown took {:?}",
        started.elapsed()
    );
}

/// The `request` event `/inspect` answers with: what the server received.
fn inspected(out: &RunOutput) -> Value {
    let ev = out.kind("event");
    assert_eq!(ev.len(), 1, "{:?}", out.records);
    serde_json::from_str(ev[0]["data"].as_str().unwrap_or("")).expect("inspect JSON")
}

#[tokio::test]
async fn sse_redirects_are_followed_and_reported() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    // 302 to the demo feed: one lint, then the stream as usual.
    let out = run(&[
        "--json",
        "--count",
        "2",
        &format!("http://{a}/status/302?location=/sse%3Finterval_ms%3D10"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kinds()[..2], ["lint", "open"]);
    // The demo feed starts with a `retry:` block of its own, which is a lint of its own.
    assert_eq!(rules(&out), ["redirect", "retry-without-event"]);
    let msg = out.kind("lint")[0]["message"].as_str().unwrap_or("");
    assert_eq!(
        msg,
        format!("HTTP 302 Found to http://{a}/sse?interval_ms=10: followed (1 of at most 10)")
    );
    assert_eq!(out.kind("event").len(), 2);

    // 307 repeats the POST with its body; 303 turns it into a GET without one, as does 302.
    for (code, method, body) in [(307, "POST", "hi"), (303, "GET", ""), (302, "GET", "")] {
        let out = run(&[
            "--json",
            "--no-reconnect",
            "-X",
            "POST",
            "--data",
            "hi",
            &format!("http://{a}/status/{code}?location=/inspect"),
        ])
        .await;
        assert_eq!(out.code, 0, "{code}: {}", out.stderr);
        let req = inspected(&out);
        assert_eq!(req["method"], method, "{code}");
        assert_eq!(req["body"], body, "{code}");
    }

    // A chain longer than --max-redirects stops with an error naming the limit.
    let out = run(&[
        "--json",
        "--max-redirects",
        "1",
        &format!("http://{a}/status/301?location=/status/302"),
    ])
    .await;
    assert_eq!(out.code, 1);
    assert_eq!(rules(&out), ["redirect"]);
    let err = out.kind("error")[0];
    assert_eq!(err["status"], 302);
    let msg = err["message"].as_str().unwrap_or("");
    assert!(msg.contains("not followed: --max-redirects 1"), "{msg}");
}

#[tokio::test]
async fn sse_redirect_to_another_origin_drops_credentials() {
    let first = embedded_server(SERVER).await;
    let second = embedded_server(SERVER).await;
    let (a, b) = (first.local_addr(), second.local_addr());
    let headers = [
        "-H",
        "Authorization: Bearer s3cret",
        "-H",
        "Cookie: session=abc",
        "-H",
        "X-Trace: kept",
    ];
    // Same origin: every header follows the redirect.
    let mut args = vec!["--json", "--no-reconnect", "--show-secrets"];
    args.extend(headers);
    let same = format!("http://{a}/status/302?location=/inspect");
    args.push(&same);
    let req = inspected(&run(&args).await);
    assert_eq!(req["headers"]["authorization"], "Bearer s3cret");
    assert_eq!(req["headers"]["cookie"], "session=abc");
    // Another origin (another port): credentials stay behind, other headers go.
    let mut args = vec!["--json", "--no-reconnect", "--show-secrets"];
    args.extend(headers);
    let other = format!("http://{a}/status/307?location=http://{b}/inspect");
    args.push(&other);
    let req = inspected(&run(&args).await);
    assert!(req["headers"]["authorization"].is_null(), "{req}");
    assert!(req["headers"]["cookie"].is_null(), "{req}");
    assert_eq!(req["headers"]["x-trace"], "kept");
}

#[tokio::test]
async fn max_retries_counts_connections_that_open_and_deliver_nothing() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    // /sse?count=0 opens and ends at once: every attempt is empty, so the retries run out.
    let out = run(&[
        "--json",
        "--max-retries",
        "2",
        "--max-backoff",
        "10ms",
        "--duration",
        "10s",
        &format!("http://{a}/sse?count=0"),
    ])
    .await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    assert_eq!(out.kind("open").len(), 3);
    let attempts: Vec<&Value> = out
        .kind("reconnect")
        .iter()
        .map(|r| &r["attempt"])
        .collect();
    assert_eq!(attempts, [1, 2]);
    let end = out.kind("end")[0];
    assert_eq!(
        end["reason"],
        "server closed the stream; gave up after 2 retries"
    );
    assert_eq!(end["failed"], true);
    // Connections that deliver an event each are working: the count starts again every time,
    // so the same limit never ends the stream (--count does).
    let out = run(&[
        "--json",
        "--max-retries",
        "1",
        "--max-backoff",
        "10ms",
        "--count",
        "4",
        &format!("http://{a}/sse?count=1&interval_ms=1"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(out.kind("event").len(), 4);
    assert!(out.kind("reconnect").iter().all(|r| r["attempt"] == 1));
    assert_eq!(out.kind("end")[0]["reason"], "count reached");
}
