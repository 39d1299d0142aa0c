//! The client against the embedded server (the same one `streamscope demo` runs), in process on
//! 127.0.0.1 with a free port.

mod support;

use std::time::Duration;

use streamscope::server::ServerConfig;
use support::{embedded_server, run};

/// A 20 ms feed, and heartbeats every 200 ms: a few within a short run.
const SERVER: ServerConfig = ServerConfig {
    tick: Duration::from_millis(20),
    heartbeat: Duration::from_millis(200),
};

#[tokio::test]
async fn two_streams_at_once_sse_and_ws() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "5",
        &format!("http://{a}/sse"),
        &format!("ws://{a}/ws"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sse: Vec<_> = out
        .kind("event")
        .into_iter()
        .filter(|r| r["stream"] == 0)
        .collect();
    let ws: Vec<_> = out
        .kind_dir("message", "in")
        .into_iter()
        .filter(|r| r["stream"] == 1)
        .collect();
    assert_eq!(sse.len(), 5);
    assert_eq!(ws.len(), 5);
    assert!(sse.iter().all(|r| r["proto"] == "sse"));
    assert!(ws.iter().all(|r| r["proto"] == "ws"));
    // Both carry the same feed: JSON ticks with consecutive seq numbers.
    for list in [&sse, &ws] {
        let seqs: Vec<u64> = list
            .iter()
            .filter_map(|r| serde_json::from_str::<serde_json::Value>(r["data"].as_str()?).ok())
            .filter_map(|v| v["seq"].as_u64())
            .collect();
        assert_eq!(seqs.len(), 5);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    }
    assert_eq!(out.kind("end").len(), 2);
}

#[tokio::test]
async fn firehose_counts_and_bytes_are_exact() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let n = 20_000;
    let out = run(&[
        "--json",
        "--no-reconnect",
        &format!("http://{a}/firehose/sse?n={n}&size=100"),
        &format!("ws://{a}/firehose/ws?n={n}&size=100&deflate=off"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sse = out.kind("event");
    let ws = out.kind_dir("message", "in");
    assert_eq!(sse.len(), n);
    assert_eq!(ws.len(), n);
    // "data: " + 100 bytes + "\n\n" per event; a 2-byte header + 100 bytes per frame.
    assert!(
        sse.iter()
            .all(|r| r["payload_bytes"] == 100 && r["wire_bytes"] == 108)
    );
    assert!(
        ws.iter()
            .all(|r| r["payload_bytes"] == 100 && r["wire_bytes"] == 102)
    );
    // Many records share a read on a firehose: reads are numbered, not one per record.
    let last_read = ws.last().and_then(|r| r["read"].as_u64()).unwrap_or(0);
    assert!(last_read < n as u64, "reads {last_read}");
}

#[tokio::test]
async fn echo_round_trip_text_and_binary() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "2",
        "--send",
        "hello echo",
        "--send",
        "second",
        &format!("ws://{a}/echo"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let back = out.kind_dir("message", "in");
    assert_eq!(back.len(), 2);
    assert_eq!(back[0]["data"], "hello echo");
    assert_eq!(back[1]["data"], "second");
}

#[tokio::test]
async fn last_event_id_resumes_the_feed() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    // Let the clock run past seq 10 first.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let out = run(&[
        "--json",
        "--count",
        "1",
        "--last-event-id",
        "3",
        &format!("http://{a}/sse"),
    ])
    .await;
    let ev = out.kind("event");
    assert_eq!(ev[0]["id"], "4");
}

#[tokio::test]
async fn post_sse_token_stream() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--no-reconnect",
        "-X",
        "POST",
        "-d",
        r#"{"prompt":"one two three"}"#,
        &format!("http://{a}/chat?interval_ms=1"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data: Vec<String> = out
        .kind("event")
        .iter()
        .map(|r| r["data"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(data.len(), 4, "{data:?}");
}

#[tokio::test]
async fn heartbeat_comments_and_pings_are_records() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--duration",
        "700ms",
        &format!("http://{a}/sse?interval_ms=100000"),
        &format!("ws://{a}/ws?interval_ms=100000"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.kind("comment").is_empty(), "{:?}", out.kinds());
    let pings = out.kind_dir("ping", "in");
    assert!(!pings.is_empty());
    let pongs = out.kind_dir("pong", "out");
    assert_eq!(pings.len(), pongs.len(), "every ping answered");
    // Shutdown completes the closing handshake on the WebSocket.
    let closes = out.kind("close");
    assert!(
        closes
            .iter()
            .any(|c| c["dir"] == "out" && c["code"] == 1000)
    );
    assert!(closes.iter().any(|c| c["dir"] == "in"));
}

/// The `request_headers` of an `open` record, in order.
fn sent_headers(open: &serde_json::Value) -> Vec<(String, String)> {
    open["request_headers"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_open_record_says_the_request_it_sent_with_secrets_masked() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let urls = [format!("http://{a}/sse"), format!("ws://{a}/ws")];
    let args = |show: bool| {
        let mut args = vec![
            "--json",
            "--count",
            "2",
            "-H",
            "Authorization: Bearer s3cret-token",
            "-H",
            "Cookie: sid=s3cret-cookie",
            "-H",
            "X-Trace: t1",
            "--subprotocol",
            "v1",
            "--subprotocol",
            "v2",
        ];
        if show {
            args.push("--show-secrets");
        }
        args.extend(urls.iter().map(String::as_str));
        args
    };
    let out = support::output(&args(false)).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        !stdout.contains("s3cret"),
        "a secret in the output: {stdout}"
    );
    let records = support::json_lines(&stdout);
    let opens: Vec<_> = records.iter().filter(|r| r["kind"] == "open").collect();
    assert_eq!(opens.len(), 2, "{stdout}");
    let host = a.to_string();
    for open in &opens {
        assert_eq!(open["request_method"], "GET", "{open}");
        let h = sent_headers(open);
        assert_eq!(header(&h, "host"), Some(host.as_str()), "{h:?}");
        assert_eq!(header(&h, "authorization"), Some("Bearer ***"), "{h:?}");
        assert_eq!(header(&h, "cookie"), Some("sid=***"), "{h:?}");
        assert_eq!(header(&h, "x-trace"), Some("t1"), "{h:?}");
    }
    let sse = sent_headers(
        opens
            .iter()
            .find(|r| r["proto"] == "sse")
            .expect("sse open"),
    );
    assert_eq!(header(&sse, "accept"), Some("text/event-stream"));
    assert_eq!(header(&sse, "cache-control"), Some("no-cache"));
    assert_eq!(header(&sse, "sec-websocket-protocol"), None);
    let ws_open = opens.iter().find(|r| r["proto"] == "ws").expect("ws open");
    let ws = sent_headers(ws_open);
    assert_eq!(header(&ws, "upgrade"), Some("websocket"), "{ws:?}");
    assert_eq!(header(&ws, "sec-websocket-version"), Some("13"));
    assert_eq!(header(&ws, "sec-websocket-key").map(str::len), Some(24));
    assert_eq!(header(&ws, "sec-websocket-protocol"), Some("v1, v2"));
    // The extensions offered, as the compression_offered field says.
    assert_eq!(
        header(&ws, "sec-websocket-extensions"),
        Some("permessage-deflate; client_max_window_bits")
    );
    assert_eq!(
        header(&ws, "sec-websocket-extensions"),
        ws_open["compression_offered"].as_str()
    );
    // --show-secrets shows them as sent.
    let shown = support::run(&args(true)).await;
    for open in shown.kind("open") {
        let h = sent_headers(open);
        assert_eq!(header(&h, "authorization"), Some("Bearer s3cret-token"));
        assert_eq!(header(&h, "cookie"), Some("sid=s3cret-cookie"));
    }
}
