//! Record → replay → the same figures; HAR in (a hand-made Chrome-style file) and out (round trip);
//! `--match` pairing on the demo feed; bad recordings.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use streamscope::record::StreamInfo;
use streamscope::record::{Proto, Record};
use streamscope::server::ServerConfig;
use streamscope::store::Store;
use support::{RunOutput, TempDir, command, embedded_server, path_str, run};

/// A 20 ms feed, and heartbeats every 100 ms.
const SERVER: ServerConfig = ServerConfig {
    tick: Duration::from_millis(20),
    heartbeat: Duration::from_millis(100),
};

/// The dashboard's figures for a list of JSON records: what a viewer of the live run and of the
/// replay would compare.
fn figures(records: &[Value], streams: usize) -> Vec<String> {
    let infos = (0..streams)
        .map(|i| StreamInfo {
            index: i,
            name: None,
            proto: if i == 0 { Proto::Sse } else { Proto::Ws },
            display_url: String::new(),
            heartbeat_ms: None,
            insecure: false,
            request: None,
        })
        .collect();
    let mut store = Store::new(infos, 100);
    for v in records {
        store.apply(Record::from_json_line(&v.to_string()).expect("parse record"));
    }
    let now = store.latest_ts_us().expect("records");
    let mut out: Vec<String> = store
        .streams()
        .iter()
        .map(|s| {
            let st = &s.stats;
            format!(
                "records {} by_kind {:?} payload {} wire {} gaps {:?}/{:?}/{:?}/{:?} rate {:.3} reconnects {} rtt {:?} handshake {:?} state {:?}",
                st.records,
                st.by_kind,
                st.payload_bytes,
                st.wire_bytes,
                st.gap_ms_at(0.5),
                st.gap_ms_at(0.95),
                st.gap_ms_at(0.99),
                st.gap_max_ms(),
                st.rate_per_sec(now),
                st.reconnects,
                st.last_rtt_ms,
                st.handshake_ms,
                s.state,
            )
        })
        .collect();
    if let Some(m) = &store.matching {
        out.push(format!(
            "{:?}",
            m.stats.summary(m.unpaired(store.streams()))
        ));
    }
    out
}

#[tokio::test]
async fn record_then_replay_gives_the_same_records_and_figures() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let dir = TempDir::new("replay-round-trip");
    let rec = dir.file("session.jsonl");
    let live = run(&[
        "--json",
        "--count",
        "12",
        "--match",
        "/seq",
        "--ping-interval",
        "50ms",
        "--heartbeat",
        "15ms",
        "-H",
        "Authorization: Bearer hunter2",
        "--record",
        path_str(&rec),
        &format!("http://{a}/sse?token=hunter2"),
        &format!("ws://{a}/ws"),
    ])
    .await;
    assert_eq!(live.code, 0, "{}", live.stderr);
    assert!(
        !live.kind("match").is_empty(),
        "no pairs: {:?}",
        live.kinds()
    );

    // The file: a header, then exactly the lines --json printed.
    let text = std::fs::read_to_string(&rec).expect("recording");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("header")).expect("header JSON");
    assert_eq!(header["format"], "streamscope-recording");
    assert_eq!(header["format_version"], 1);
    assert_eq!(header["match"], "/seq");
    assert_eq!(header["streams"][1]["proto"], "ws");
    assert!(header["started"].as_str().is_some_and(|s| s.ends_with('Z')));
    // Secrets are masked as on screen: the token in the URL, the Authorization header.
    assert!(!text.contains("hunter2"), "a secret reached the recording");
    assert_eq!(
        header["streams"][0]["url"],
        format!("http://{a}/sse?token=***")
    );
    assert_eq!(
        header["streams"][0]["options"]["headers"]["Authorization"],
        "Bearer ***"
    );
    let recorded: Vec<Value> = lines
        .map(|l| serde_json::from_str(l).expect("record line"))
        .collect();
    assert_eq!(recorded, live.records);

    let replay = run(&["replay", "--json", "--speed", "max", path_str(&rec)]).await;
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    // Matching is done afresh on replay (by the recorded key) and gives the same pairs.
    assert_eq!(replay.records, live.records);
    let live_figures = figures(&live.records, 2);
    assert_eq!(figures(&replay.records, 2), live_figures);
    assert_eq!(live_figures.len(), 3, "{live_figures:?}");

    // Re-recording a replay writes the same records again.
    let again = dir.file("again.jsonl");
    let out = run(&[
        "replay",
        "--json",
        "--speed",
        "max",
        "--record",
        path_str(&again),
        path_str(&rec),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text2 = std::fs::read_to_string(&again).expect("re-recording");
    assert_eq!(
        text2.lines().skip(1).collect::<Vec<_>>(),
        text.lines().skip(1).collect::<Vec<_>>()
    );
    srv.shutdown().await;
}

fn event_line(ts: &str, seq: u32) -> String {
    format!(
        "{{\"ts\":\"{ts}\",\"stream\":0,\"proto\":\"sse\",\"kind\":\"event\",\"dir\":\"in\",\"wire_bytes\":20,\"payload_bytes\":9,\"gap_ms\":500,\"event\":\"message\",\"data\":\"{{\\\"seq\\\":{seq}}}\",\"id\":null,\"retry\":null}}\n"
    )
}

#[tokio::test]
async fn replay_keeps_the_original_timing_scaled_by_speed() {
    // A headerless --json capture spanning 1.2 s.
    let dir = TempDir::new("replay-timing");
    let file = dir.file("timed.jsonl");
    let text: String = [
        event_line("2026-11-25T10:00:00.000000Z", 1),
        event_line("2026-11-25T10:00:00.600000Z", 2),
        event_line("2026-11-25T10:00:01.200000Z", 3),
    ]
    .concat();
    std::fs::write(&file, text).expect("write");
    let t = Instant::now();
    let out = run(&["replay", "--json", "--speed", "2", path_str(&file)]).await;
    let at_2x = t.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kind("event").len(), 3);
    assert!(at_2x >= Duration::from_millis(600), "{at_2x:?}");
    let t = Instant::now();
    let out = run(&["replay", "--json", "--speed", "max", path_str(&file)]).await;
    let at_max = t.elapsed();
    assert_eq!(out.kind("event").len(), 3);
    assert!(at_max < Duration::from_millis(600), "{at_max:?}");
}

#[tokio::test]
async fn bad_recordings() {
    // A bad line in the middle: an error record in its place, the rest replays.
    let dir = TempDir::new("replay-bad");
    let file = dir.file("damaged.jsonl");
    let text = format!(
        "{}{{\"ts\":\"2026-11-25T10:00:00.100000Z\",\"stream\":0\n{}",
        event_line("2026-11-25T10:00:00.000000Z", 1),
        event_line("2026-11-25T10:00:00.200000Z", 2),
    );
    std::fs::write(&file, text).expect("write");
    let out = run(&["replay", "--json", "--speed", "max", path_str(&file)]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kinds(), ["event", "error", "event"]);
    let msg = out.kind("error")[0]["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("recording line 2:"), "{msg}");
    assert!(out.stderr.contains("1 line(s)"), "{}", out.stderr);

    // A recording or HAR that cannot be created is a usage error before anything runs.
    for opt in ["--record", "--har"] {
        let out = run(&[
            "replay",
            "--json",
            opt,
            "/nonexistent-dir/x",
            path_str(&file),
        ])
        .await;
        assert_eq!(out.code, 2, "{opt}: {}", out.stderr);
        assert!(out.stderr.contains(opt), "{}", out.stderr);
        assert!(out.records.is_empty());
    }

    // Unreadable, empty, or not a recording at all: exit 2 with one line.
    let garbage = dir.file("garbage.txt");
    std::fs::write(&garbage, "hello world\n").expect("write");
    let empty = dir.file("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    for (path, want) in [
        (dir.file("missing.jsonl"), "No such file"),
        (garbage, "not a streamscope recording"),
        (empty, "empty"),
    ] {
        let out = run(&["replay", "--json", path_str(&path)]).await;
        assert_eq!(out.code, 2, "{path:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{path:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(out.records.is_empty());
    }
}

#[tokio::test]
async fn a_hand_made_chrome_har_replays() {
    let har = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/chrome.har");
    let out = run(&["replay", "--json", "--speed", "max", har]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The document entry is skipped; the WebSocket and the event stream become streams 0 and 1.
    let opens = out.kind("open");
    assert_eq!(opens.len(), 2);
    let ws_open = opens.iter().find(|r| r["stream"] == 0).expect("ws open");
    assert_eq!(ws_open["proto"], "ws");
    assert_eq!(ws_open["status"], 101);
    // As Chrome writes a WebSocket: `wait` from the handshake request to the last frame,
    // `receive` to the close. The handshake's end is not in it: the open is the request, and a
    // lint says so.
    assert_eq!(ws_open["ts"], "2026-11-25T09:00:00.200000Z");
    assert_eq!(ws_open["handshake_ms"], 0);
    let lints = out.kind("lint");
    assert!(
        lints.iter().any(|l| l["stream"] == 0
            && l["rule"] == "har-estimated"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("handshake"))),
        "{lints:?}"
    );
    let ws_end = out
        .kind("end")
        .into_iter()
        .find(|r| r["stream"] == 0)
        .expect("ws end");
    assert_eq!(ws_end["ts"], "2026-11-25T09:00:01.063000Z");
    assert!(
        ws_end["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("closed"))
    );
    assert_eq!(ws_open["headers"]["set-cookie"], "sid=***; Path=/");
    let msgs: Vec<_> = out.kind("message");
    assert_eq!(msgs.len(), 5);
    assert_eq!(msgs[0]["dir"], "out");
    assert_eq!(msgs[0]["data"], "{\"sub\":\"ticks\"}");
    assert_eq!(msgs[1]["ts"], "2026-11-25T09:00:00.300100Z");
    assert_eq!(msgs[1]["dir"], "in");
    assert_eq!(msgs[1]["gap_ms"], 100.1);
    assert_eq!(msgs[2]["gap_ms"], 250.3);
    assert_eq!(msgs[3]["opcode"], "binary");
    assert_eq!(msgs[3]["data_base64"], "AAEC/w==");
    assert_eq!(msgs[3]["payload_bytes"], 4);
    // The event stream's body split into events, with the spec's id and multi-line data rules.
    let events = out.kind("event");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"], "tick");
    assert_eq!(events[0]["id"], "1");
    assert_eq!(events[1]["data"], "line one\nline two");
    assert_eq!(out.kind("comment")[0]["text"], "keepalive");
    let sse_open = opens.iter().find(|r| r["stream"] == 1).expect("sse open");
    // HTTP/2 pseudo-headers are not headers.
    assert!(sse_open["headers"].get(":status").is_none());
    assert_eq!(sse_open["handshake_ms"], 25);
    // The same stats machinery applies: counts and gaps of the WebSocket stream (open, lint, 5
    // messages, end).
    let fig = figures(&out.records, 2);
    assert!(fig[0].starts_with("records 8 "), "{fig:?}");
}

#[tokio::test]
async fn har_export_round_trips() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let dir = TempDir::new("replay-har");
    let har = dir.file("session.har");
    let live = run(&[
        "--json",
        "--duration",
        "400ms",
        "--ping-interval",
        "30ms",
        "--send",
        "hello",
        "--har",
        path_str(&har),
        &format!("http://{a}/sse"),
        // A HAR holds messages as browsers save them, decoded, without their compressed sizes:
        // the `open` keeps what was offered, but a compressed message would lose
        // `compressed_bytes`.
        &format!("ws://{a}/echo?deflate=off"),
    ])
    .await;
    assert_eq!(live.code, 0, "{}", live.stderr);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&har).expect("har")).expect("JSON");
    assert_eq!(doc["log"]["version"], "1.2");
    assert_eq!(doc["log"]["creator"]["name"], "streamscope");
    let entries = doc["log"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    let ws = entries
        .iter()
        .find(|e| e["_resourceType"] == "websocket")
        .expect("ws entry");
    assert_eq!(ws["response"]["status"], 101);
    assert!(
        ws["_webSocketMessages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["type"] == "send" && m["opcode"] == 1))
    );
    for e in entries {
        for k in [
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
        ] {
            assert!(e.get(k).is_some(), "entry lacks {k}");
        }
    }

    let back = run(&["replay", "--json", "--speed", "max", path_str(&har)]).await;
    assert_eq!(back.code, 0, "{}", back.stderr);
    // Every record a HAR can hold comes back as it was: the opens (time, handshake, headers),
    // each message, event, ping, pong and close with its time, direction, payload and sizes, and
    // the ends' times. Not kept: socket read numbers, a pong's RTT, why a stream ended, how the
    // connection was made (the open's `http` and TLS fields), the request streamscope sent (the
    // HAR's request is the command line's); gaps are computed again from `ts`.
    let comparable = |o: &support::RunOutput| -> Vec<Value> {
        let mut rs: Vec<Value> = o
            .records
            .iter()
            .filter(|r| !["reconnect", "gap"].contains(&r["kind"].as_str().unwrap_or("")))
            .cloned()
            .map(|mut r| {
                let m = r.as_object_mut().expect("object");
                for k in [
                    "read",
                    "rtt_ms",
                    "reason",
                    "http",
                    "connection",
                    "shared",
                    "request_method",
                    "request_headers",
                ] {
                    m.remove(k);
                }
                r
            })
            .collect();
        rs.sort_by_key(|r| (r["stream"].as_u64(), r["ts"].as_str().map(str::to_owned)));
        rs
    };
    let (want, got) = (comparable(&live), comparable(&back));
    for kind in ["open", "event", "message", "pong", "close", "end"] {
        assert!(
            want.iter().any(|r| r["kind"] == kind),
            "the live run had no {kind}"
        );
    }
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        let (mut g, mut w) = (g.clone(), w.clone());
        let gaps = (g["gap_ms"].take().as_f64(), w["gap_ms"].take().as_f64());
        assert_eq!(g, w);
        match gaps {
            // A live gap is read on the monotonic clock, `ts` on the wall clock, each read
            // separately (a busy machine can preempt between the two); the HAR keeps `ts`.
            (Some(a), Some(b)) => assert!((a - b).abs() < 1.0, "gap_ms {a} vs {b}: {w}"),
            (a, b) => assert_eq!(a, b, "{w}"),
        }
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn match_tells_which_stream_delivers_first() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--count",
        "15",
        "--match",
        "/seq",
        &format!("http://{a}/sse"),
        &format!("ws://{a}/ws"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pairs = out.kind("match");
    assert!(pairs.len() >= 10, "{}", pairs.len());
    for p in &pairs {
        assert!(
            p["lead_ms"]
                .as_f64()
                .is_some_and(|l| (0.0..1000.0).contains(&l)),
            "{p}"
        );
        assert!(p["first"].is_null() || p["first"] == 0 || p["first"] == 1);
    }
    let summary = out.kind("match_summary");
    assert_eq!(summary.len(), 1);
    let s = summary[0];
    assert_eq!(s["pairs"].as_u64(), Some(pairs.len() as u64));
    let won = s["won"][0].as_u64().unwrap_or(0) + s["won"][1].as_u64().unwrap_or(0);
    assert_eq!(won + s["ties"].as_u64().unwrap_or(0), pairs.len() as u64);
    assert!(s["lead_p50_ms"].as_f64() <= s["lead_p99_ms"].as_f64());
    // The summary is the last line: after both streams ended.
    assert_eq!(
        out.records.last().map(|r| r["kind"].clone()),
        Some("match_summary".into())
    );

    // Usage errors: one stream, or a key that is neither a pointer nor `id`.
    let one = run(&["--json", "--match", "/seq", &format!("http://{a}/sse")]).await;
    assert_eq!(one.code, 2, "{}", one.stderr);
    assert!(one.stderr.contains("two streams"), "{}", one.stderr);
    let bad = run(&[
        "--json",
        "--match",
        "seq",
        &format!("http://{a}/sse"),
        &format!("ws://{a}/ws"),
    ])
    .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("JSON pointer"), "{}", bad.stderr);
    srv.shutdown().await;
}

#[tokio::test]
async fn the_demo_matches_by_seq_on_compressed_feeds() {
    use tokio::io::AsyncBufReadExt;
    let mut child = command(&["demo", "--json", "--tick", "20ms"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut opens = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let v: Value = serde_json::from_str(&line).expect("JSON line");
            if v["kind"] == "open" {
                opens.push(v);
            } else if v["kind"] == "match" {
                return Some(v);
            }
        }
        None
    })
    .await
    .expect("a match record within 20 s")
    .expect("demo output");
    // The key is the feed's seq: a number.
    assert!(
        found["key"]
            .as_str()
            .is_some_and(|k| k.parse::<u64>().is_ok()),
        "{found}"
    );
    // Compressed on both sides: gzip SSE, permessage-deflate WebSocket.
    opens.sort_by_key(|o| o["stream"].as_u64());
    let agreed: Vec<&Value> = opens.iter().map(|o| &o["compression"]).collect();
    assert_eq!(agreed, ["gzip", "permessage-deflate"], "{opens:?}");
    let _ = child.kill().await;
}

#[tokio::test]
async fn serve_replay_plays_connections_back_with_their_timing() {
    // A live session with a server close and a reconnect on SSE (count=3 per connection), and a
    // WebSocket closed by the server with 1000 "done".
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let dir = TempDir::new("replay-serve");
    let rec = dir.file("to-serve.jsonl");
    let live = run(&[
        "--json",
        "--count",
        "5",
        "--record",
        path_str(&rec),
        &format!("http://{a}/sse?count=3"),
        &format!("ws://{a}/ws?count=4"),
    ])
    .await;
    assert_eq!(live.code, 0, "{}", live.stderr);
    srv.shutdown().await;

    let loaded = streamscope::replay::load(&rec).expect("load");
    let replay = streamscope::server::replay::ReplayServer::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &loaded,
        streamscope::replay::Speed::Factor(4.0),
    )
    .await
    .expect("bind");
    let r = replay.local_addr().expect("addr");
    let endpoints = replay.endpoints();
    assert_eq!(endpoints[0].0, format!("http://{r}/0"));
    assert_eq!(endpoints[1].0, format!("ws://{r}/1"));
    let task = tokio::spawn(replay.run());
    let t = Instant::now();
    let served = run(&["--json", &format!("http://{r}/0"), &format!("ws://{r}/1")]).await;
    let took = t.elapsed();
    task.abort();
    assert_eq!(served.code, 0, "{}", served.stderr);
    let data = |o: &RunOutput, stream: u64| -> Vec<Value> {
        o.records
            .iter()
            .filter(|r| r["stream"] == stream && r["dir"] == "in")
            .filter(|r| r["kind"] == "event" || r["kind"] == "message")
            .map(|r| r["data"].clone())
            .collect()
    };
    // The same events and messages, over the same number of connections.
    assert_eq!(data(&served, 0), data(&live, 0));
    assert_eq!(data(&served, 1), data(&live, 1));
    let opens = |o: &RunOutput, s: u64| o.kind("open").iter().filter(|r| r["stream"] == s).count();
    assert_eq!(opens(&served, 0), opens(&live, 0));
    assert_eq!(opens(&served, 0), 2);
    // The WebSocket ends as recorded: the server's close 1000 "done".
    let close = *served
        .kind_dir("close", "in")
        .first()
        .expect("server close");
    assert_eq!(close["code"], 1000);
    assert_eq!(close["reason"], "done");
    // After the last recorded connection the SSE client is told to stop (204).
    let end = served
        .kind("end")
        .into_iter()
        .find(|r| r["stream"] == 0)
        .expect("sse end");
    assert!(
        end["reason"].as_str().is_some_and(|s| s.contains("204")),
        "{end}"
    );
    // Timing: the WebSocket's messages (one connection, 20 ms ticks) span about a quarter of the
    // recorded time at ×4. Load only stretches the replay, so the upper bound is the meaningful
    // one (×1 would give 1.0); the lower bound rules out `max` speed.
    let span = |o: &RunOutput| -> f64 {
        let ts: Vec<i64> = o
            .kind("message")
            .iter()
            .filter(|r| r["stream"] == 1 && r["dir"] == "in")
            .filter_map(|r| r["ts"].as_str())
            .filter_map(|t| streamscope::record::parse::parse_ts(t).ok())
            .collect();
        (ts.last().copied().unwrap_or(0) - ts.first().copied().unwrap_or(0)) as f64
    };
    let ratio = span(&served) / span(&live).max(1.0);
    assert!(
        (0.1..0.7).contains(&ratio),
        "replayed span / live span = {ratio}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    let reconnect = served.kind("reconnect");
    assert_eq!(reconnect[0]["delay_ms"], 500, "{reconnect:?}");
}

#[tokio::test]
async fn the_recording_is_on_disk_while_the_session_runs() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let dir = TempDir::new("replay-crash");
    let rec = dir.file("crash.jsonl");
    let mut child = command(&[
        "--json",
        "--record",
        path_str(&rec),
        &format!("http://{a}/sse"),
    ])
    .spawn()
    .expect("spawn");
    // Wait for a few ticks (20 ms each), then kill it as a crash would: no chance to flush.
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = std::fs::read_to_string(&rec).unwrap_or_default();
        let events = text
            .lines()
            .filter(|l| l.contains("\"kind\":\"event\""))
            .count();
        if events >= 3 || Instant::now() > deadline {
            break events;
        }
    };
    child.kill().await.expect("kill");
    assert!(events >= 3, "only {events} events on disk while running");
    // What is there replays.
    let out = run(&["replay", "--json", "--speed", "max", path_str(&rec)]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.kind("event").len() >= 3);
    srv.shutdown().await;
}
