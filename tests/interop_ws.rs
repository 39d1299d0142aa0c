//! streamscope's WebSocket client against WebSocket servers it did not write (see
//! `tests/interop/README.md`): permessage-deflate negotiated with Python `websockets` and Node
//! `ws`, the decoded messages, their order, their exact wire and compressed sizes, and the closing
//! handshake.

mod support;

use serde_json::Value;
use support::interop::Peer;
use support::run;

/// The feed both peer scripts send: message `i` is JSON with `seq: i`, every fifth a big one.
fn check_feed(messages: &[&Value], count: usize) {
    assert_eq!(messages.len(), count, "{messages:?}");
    for (i, m) in messages.iter().enumerate() {
        let data = m["data"].as_str().expect("text message");
        let json: Value = serde_json::from_str(data).expect("JSON text");
        assert_eq!(json["seq"], i, "{data}");
        let big = i % 5 == 4;
        assert_eq!(json["type"], if big { "big" } else { "tick" }, "{data}");
        // payload_bytes is the decoded size.
        assert_eq!(m["payload_bytes"], data.len(), "{m}");
        assert_eq!(m["frames"], 1, "{m}");
    }
}

/// A one-frame message's wire size is its header (2 bytes under 126, else 4) plus its payload as
/// sent: the compressed size when compressed, the decoded size otherwise.
fn check_sizes(m: &Value) -> bool {
    let wire = m["wire_bytes"].as_u64().expect("wire_bytes");
    let compressed = m["compressed"].as_bool().expect("compressed");
    let sent = if compressed {
        m["compressed_bytes"]
            .as_u64()
            .expect("a compressed message has compressed_bytes")
    } else {
        assert!(m.get("compressed_bytes").is_none(), "{m}");
        m["payload_bytes"].as_u64().expect("payload_bytes")
    };
    let header = if sent < 126 { 2 } else { 4 };
    assert_eq!(wire, sent + header, "{m}");
    compressed
}

fn closed_done(out: &support::RunOutput) {
    let close = out.kind("close");
    assert!(
        close
            .iter()
            .any(|c| c["dir"] == "in" && c["code"] == 1000 && c["reason"] == "done"),
        "{close:?}"
    );
}

async fn feed_from(peer: Peer, extra: &[&str], count: usize) -> support::RunOutput {
    let url = peer.url("ws", "/feed");
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    args.push(&url);
    let out = run(&args).await;
    peer.stop().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    check_feed(&out.kind("message"), count);
    closed_done(&out);
    out
}

#[tokio::test]
async fn python_websockets_negotiates_deflate_and_every_message_is_inflated() {
    let peer = Peer::python("ws_deflate_server.py", &["--count", "20"]).await;
    let out = feed_from(peer, &[], 20).await;
    let open = &out.kind("open")[0];
    assert_eq!(
        open["compression_offered"],
        "permessage-deflate; client_max_window_bits"
    );
    // websockets 17 answers with both window sizes at 12 bits.
    assert_eq!(
        open["compression"],
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    );
    let messages = out.kind("message");
    assert!(messages.iter().all(|m| check_sizes(m)));
    let decoded: u64 = messages
        .iter()
        .map(|m| m["payload_bytes"].as_u64().unwrap_or(0))
        .sum();
    let compressed: u64 = messages
        .iter()
        .map(|m| m["compressed_bytes"].as_u64().unwrap_or(0))
        .sum();
    // The feed repeats itself, so context takeover shrinks it many times over.
    assert!(compressed * 5 < decoded, "{compressed} vs {decoded}");
}

#[tokio::test]
async fn python_websockets_without_context_takeover_and_with_small_windows() {
    for mode in ["no-context", "small-window"] {
        let peer = Peer::python("ws_deflate_server.py", &["--count", "12", "--mode", mode]).await;
        let out = feed_from(peer, &[], 12).await;
        let agreed = out.kind("open")[0]["compression"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            agreed.contains("server_max_window_bits=9"),
            "{mode}: {agreed}"
        );
        assert_eq!(
            agreed.contains("server_no_context_takeover"),
            mode == "no-context",
            "{agreed}"
        );
        assert!(out.kind("message").iter().all(|m| check_sizes(m)), "{mode}");
    }
}

/// What streamscope sends is compressed as agreed: Python `websockets` inflates it (with the
/// 12-bit client window it asks for) and echoes the text back unchanged.
#[tokio::test]
async fn python_websockets_inflates_what_streamscope_sends() {
    let peer = Peer::python("ws_deflate_server.py", &["--echo"]).await;
    let url = peer.url("ws", "/echo");
    // 8 KB without short-range repeats, sent twice: the second could refer back 8 KB to the
    // first, further than the 4 KiB client window websockets asks for.
    let mut x: u32 = 12345;
    let big: String = (0..8000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            char::from(b'a' + ((x >> 16) % 26) as u8)
        })
        .collect();
    let small = "hello";
    let out = run(&[
        "--json", "--send", &big, "--send", small, "--send", &big, "--count", "3", &url,
    ])
    .await;
    peer.stop().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let messages = out.kind("message");
    let (sent, echoed): (Vec<_>, Vec<_>) = messages.iter().partition(|m| m["dir"] == "out");
    let texts = |v: &[&serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|m| m["data"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(texts(&sent), [big.as_str(), small, big.as_str()]);
    assert_eq!(texts(&echoed), texts(&sent));
    for m in &sent {
        assert_eq!(m["compressed"], true, "{m}");
        let compressed = m["compressed_bytes"].as_u64().unwrap_or(0);
        let header = if compressed < 126 { 2 } else { 4 };
        // Masked: the 4-byte key follows the header.
        assert_eq!(
            m["wire_bytes"].as_u64(),
            Some(compressed + header + 4),
            "{m}"
        );
    }
    // Python's zlib fails a match that reaches past the agreed window ("invalid distance too
    // far back", close 1007), so the echo of the third message proves the window was kept.
}

#[tokio::test]
async fn no_deflate_offers_nothing_and_python_websockets_does_not_compress() {
    let peer = Peer::python("ws_deflate_server.py", &["--count", "10"]).await;
    let out = feed_from(peer, &["--no-deflate"], 10).await;
    let open = &out.kind("open")[0];
    assert!(open.get("compression_offered").is_none(), "{open}");
    assert!(open.get("compression").is_none(), "{open}");
    assert!(
        open["headers"].get("sec-websocket-extensions").is_none(),
        "{open}"
    );
    assert!(!out.kind("message").iter().any(|m| check_sizes(m)));
}

#[tokio::test]
async fn node_ws_negotiates_deflate_and_every_message_is_inflated() {
    let peer = Peer::node("ws_deflate_server.js", &["--count", "15"]).await;
    let out = feed_from(peer, &[], 15).await;
    assert_eq!(out.kind("open")[0]["compression"], "permessage-deflate");
    assert!(out.kind("message").iter().all(|m| check_sizes(m)));
}

#[tokio::test]
async fn node_ws_mixes_compressed_and_plain_messages_without_context_takeover() {
    // Without context takeover, ws compresses only messages of at least `threshold` bytes: the
    // big ones. The others travel with RSV1 clear inside the same deflate session.
    let peer = Peer::node(
        "ws_deflate_server.js",
        &["--count", "10", "--no-context", "--threshold", "1024"],
    )
    .await;
    let out = feed_from(peer, &[], 10).await;
    assert_eq!(
        out.kind("open")[0]["compression"],
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"
    );
    let compressed: Vec<bool> = out.kind("message").iter().map(|m| check_sizes(m)).collect();
    let expected: Vec<bool> = (0..10).map(|i| i % 5 == 4).collect();
    assert_eq!(compressed, expected);
}
