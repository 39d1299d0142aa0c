//! Compression end to end, through the real binary: permessage-deflate against the embedded
//! server's compressed endpoints and its `/scenario/ws/deflate/` faults (negotiation errors, no
//! context takeover, small windows, a final block, a bomb, a corrupt stream). The interop tests
//! against servers streamscope did not write are in `tests/interop_ws.rs`.

mod support;

use std::time::Duration;

use serde_json::Value;
use streamscope::server::ServerConfig;
use support::{RunOutput, embedded_server, run};

const SERVER: ServerConfig = ServerConfig {
    tick: Duration::from_millis(5),
    heartbeat: Duration::from_secs(60),
};

fn rules(out: &RunOutput) -> Vec<String> {
    out.kind("lint")
        .iter()
        .map(|r| r["rule"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn texts(out: &RunOutput) -> Vec<String> {
    out.kind("message")
        .iter()
        .map(|m| m["data"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn error_of(out: &RunOutput) -> (String, Value) {
    let errors = out.kind("error");
    assert_eq!(errors.len(), 1, "{:?}", out.records);
    (
        errors[0]["message"].as_str().unwrap_or("").to_owned(),
        errors[0]["close_code"].clone(),
    )
}

/// Every message received compressed, its sizes exact: header plus compressed payload on the wire.
fn all_compressed_and_exact(out: &RunOutput) {
    for m in out.kind_dir("message", "in") {
        assert_eq!(m["compressed"], true, "{m}");
        let compressed = m["compressed_bytes"].as_u64().expect("compressed_bytes");
        let header = if compressed < 126 { 2 } else { 4 };
        assert_eq!(m["wire_bytes"], compressed + header, "{m}");
        assert_eq!(
            m["payload_bytes"],
            m["data"].as_str().map_or(0, str::len),
            "{m}"
        );
    }
}

#[tokio::test]
async fn the_feed_and_echo_negotiate_deflate_unless_turned_off() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("ws://{a}/ws?count=6")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kind("open")[0]["compression"], "permessage-deflate");
    assert_eq!(out.kind("message").len(), 6);
    all_compressed_and_exact(&out);
    // The ticks share most of their text: context takeover makes the later ones small.
    let last = out.kind("message")[5]["compressed_bytes"]
        .as_u64()
        .unwrap_or(0);
    let first = out.kind("message")[0]["compressed_bytes"]
        .as_u64()
        .unwrap_or(0);
    assert!(last < first, "{first} then {last}");

    let out = run(&["--json", &format!("ws://{a}/ws?count=3&deflate=off")]).await;
    assert!(out.kind("open")[0].get("compression").is_none());
    assert!(out.kind("message").iter().all(|m| m["compressed"] == false));

    let out = run(&[
        "--json",
        "--count",
        "2",
        "--send",
        "echo echo echo echo",
        "--send",
        "echo echo echo echo",
        &format!("ws://{a}/echo"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let echoed = out.kind_dir("message", "in");
    assert_eq!(echoed.len(), 2, "{:?}", out.records);
    assert!(echoed.iter().all(|m| m["data"] == "echo echo echo echo"));
    all_compressed_and_exact(&out);
    // What streamscope sent went compressed too (the server inflated it to echo it), the second
    // smaller than the first under context takeover.
    let sent = out.kind_dir("message", "out");
    assert!(sent.iter().all(|m| m["compressed"] == true), "{sent:?}");
    let size = |m: &Value| m["compressed_bytes"].as_u64().unwrap_or(0);
    assert!(size(sent[1]) < size(sent[0]), "{sent:?}");
}

#[tokio::test]
async fn the_compressed_firehose_decodes_to_n_json_messages() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("ws://{a}/firehose/ws?n=3000&size=100")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let messages = out.kind("message");
    assert_eq!(messages.len(), 3000);
    all_compressed_and_exact(&out);
    for (i, m) in messages.iter().enumerate().step_by(97) {
        let json: Value = serde_json::from_str(m["data"].as_str().unwrap_or("")).expect("JSON");
        // 2621 messages of 100 bytes fill a block; seq counts within it.
        assert_eq!(json["seq"], i % 2621, "{m}");
        assert_eq!(m["payload_bytes"], 100);
    }
}

#[tokio::test]
async fn an_extension_never_offered_fails_the_connection() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    // permessage-deflate answered although --no-deflate offered nothing (RFC 6455 9.1).
    let out = run(&[
        "--json",
        "--no-deflate",
        &format!("ws://{a}/scenario/ws/compressed"),
    ])
    .await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    let (message, _) = error_of(&out);
    assert!(
        message.contains("Sec-WebSocket-Extensions: permessage-deflate")
            && message.contains("none was offered"),
        "{message}"
    );
    assert!(out.kind("message").is_empty());
    // Another extension than the one offered.
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/deflate/unoffered")]).await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    let (message, code) = error_of(&out);
    assert!(
        message.contains("Sec-WebSocket-Extensions: x-webkit-deflate-frame")
            && message.contains("was not offered"),
        "{message}"
    );
    assert_eq!(code, 1002);
    assert_eq!(out.kind("end")[0]["failed"], true);
    // A parameter out of range.
    let out = run(&[
        "--json",
        &format!("ws://{a}/scenario/ws/deflate/unoffered?ext=permessage-deflate;server_max_window_bits=16"),
    ])
    .await;
    assert_eq!(out.code, 1);
    assert!(
        error_of(&out).0.contains("outside 8..15"),
        "{:?}",
        out.records
    );
}

#[tokio::test]
async fn no_context_takeover_and_small_windows_inflate() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let expected: Vec<String> = (0..4)
        .map(|i| format!("{{\"seq\":{i},\"text\":\"compressed compressed compressed\"}}"))
        .collect();
    for (variant, agreed) in [
        (
            "no-context",
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            "small-window?bits=8",
            "permessage-deflate; server_max_window_bits=8",
        ),
    ] {
        let sep = if variant.contains('?') { '&' } else { '?' };
        let url = format!("ws://{a}/scenario/ws/deflate/{variant}{sep}n=4");
        let out = run(&["--json", &url]).await;
        assert_eq!(out.code, 0, "{variant}: {:?}", out.records);
        assert_eq!(out.kind("open")[0]["compression"], agreed);
        assert_eq!(texts(&out), expected, "{variant}");
        all_compressed_and_exact(&out);
        if variant == "no-context" {
            // Each message is compressed on its own: all the same size.
            let sizes: Vec<&Value> = out
                .kind("message")
                .iter()
                .map(|m| &m["compressed_bytes"])
                .collect();
            assert!(
                sizes
                    .windows(2)
                    .all(|w| w[0].as_u64().unwrap_or(0) + 1 >= w[1].as_u64().unwrap_or(0))
            );
        }
    }
}

#[tokio::test]
async fn a_final_block_is_linted_and_the_window_survives_it() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        &format!("ws://{a}/scenario/ws/deflate/final-block"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(texts(&out), ["Hello", "Hello", "Hello"]);
    assert_eq!(rules(&out), ["deflate-final-block"]);
}

#[tokio::test]
async fn a_bomb_stops_at_max_message_with_1009() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--max-message",
        "1048576",
        &format!("ws://{a}/scenario/ws/deflate/bomb?mib=8"),
    ])
    .await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    let (message, code) = error_of(&out);
    assert_eq!(code, 1009);
    assert!(message.contains("limit of 1048576 bytes"), "{message}");
    let ours = out.kind_dir("close", "out");
    assert_eq!(ours[0]["code"], 1009, "{:?}", out.records);
    assert!(out.kind("message").is_empty());
}

#[tokio::test]
async fn a_corrupt_deflate_stream_is_1007() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&["--json", &format!("ws://{a}/scenario/ws/deflate/corrupt")]).await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    assert_eq!(texts(&out), ["Hello"]);
    let (message, code) = error_of(&out);
    assert_eq!(code, 1007);
    assert!(message.contains("not valid DEFLATE"), "{message}");
    assert_eq!(out.kind_dir("close", "out")[0]["code"], 1007);
}

#[tokio::test]
async fn sse_endpoints_gzip_when_asked_and_the_client_decodes() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "--compressed",
        "--no-reconnect",
        &format!("http://{a}/firehose/sse?n=500&size=100"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open")[0];
    assert_eq!(open["headers"]["content-encoding"], "gzip");
    assert_eq!(open["compression"], "gzip");
    let events = out.kind("event");
    assert_eq!(events.len(), 500);
    assert!(
        events
            .iter()
            .all(|e| e["wire_bytes"] == 108 && e["payload_bytes"] == 100)
    );
    let compressed: u64 = events
        .iter()
        .filter_map(|e| e["compressed_bytes"].as_u64())
        .sum();
    // 54,000 bytes of `data: xxx…` gzip to a few hundred.
    assert!(compressed > 0 && compressed * 20 < 54_000, "{compressed}");
    // Without --compressed the same endpoint sends identity.
    let out = run(&["--json", "--count", "1", &format!("http://{a}/sse")]).await;
    assert!(
        out.kind("open")[0]["headers"]
            .get("content-encoding")
            .is_none()
    );
}
