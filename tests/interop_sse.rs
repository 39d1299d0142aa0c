//! streamscope's SSE client against an event stream compressed by software it did not write:
//! Node's express with the `compression` middleware (gzip, deflate or br, flushed after each
//! event), asked for with `--compressed` or sent unasked.

mod support;

use serde_json::Value;
use support::interop::Peer;
use support::{RunOutput, run};

async fn stream(extra: &[&str], peer_args: &[&str]) -> RunOutput {
    let peer = Peer::node("sse_gzip_server.js", peer_args).await;
    let url = peer.url("http", "/sse?count=4&interval_ms=20");
    let mut args = vec!["--json", "--no-reconnect"];
    args.extend_from_slice(extra);
    args.push(&url);
    let out = run(&args).await;
    peer.stop().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    out
}

/// The four tick events, decoded, with their decoded sizes; the sum of `compressed_bytes` over
/// the records is the encoded body up to the last event (the gzip trailer comes after it).
fn check_events(out: &RunOutput, coding: &str) -> u64 {
    let open = out.kind("open")[0];
    assert_eq!(open["headers"]["content-encoding"], coding, "{open}");
    assert_eq!(open["compression"], coding, "{open}");
    let events = out.kind("event");
    assert_eq!(events.len(), 4, "{:?}", out.records);
    let mut decoded_body = ": hello\n\n".len();
    for (i, e) in events.iter().enumerate() {
        let json: Value = serde_json::from_str(e["data"].as_str().unwrap_or("")).expect("JSON");
        assert_eq!(json["seq"], i);
        assert_eq!(e["id"], i.to_string());
        let data = e["data"].as_str().unwrap_or("");
        assert_eq!(e["payload_bytes"], data.len());
        decoded_body += 26 + data.len(); // "id: i\nevent: tick\ndata: …\n\n"
        // Flushed per event: each event's compressed bytes are its own chunk.
        assert!(e["compressed_bytes"].as_u64().is_some_and(|c| c > 0), "{e}");
    }
    assert_eq!(out.kind("comment")[0]["text"], "hello");
    // `wire_bytes` stay the decoded lines: over the stream they add up to the decoded body.
    let wire: u64 = out
        .records
        .iter()
        .filter(|r| r["dir"] == "in")
        .filter_map(|r| r["wire_bytes"].as_u64())
        .sum();
    assert_eq!(wire, decoded_body as u64);
    out.records
        .iter()
        .filter_map(|r| r["compressed_bytes"].as_u64())
        .sum()
}

#[tokio::test]
async fn express_gzip_is_asked_for_and_decoded_as_it_streams() {
    let out = stream(&["--compressed"], &[]).await;
    let open = out.kind("open")[0];
    assert_eq!(open["compression_offered"], "gzip, deflate, br, zstd");
    let compressed = check_events(&out, "gzip");
    // Ten bytes of gzip header at least, then one sync-flushed block per event.
    assert!(compressed > 10, "{compressed}");
    assert!(
        !out.kind("lint")
            .iter()
            .any(|l| l["rule"] == "unrequested-content-encoding")
    );
}

#[tokio::test]
async fn express_brotli_and_deflate_decode_too() {
    let out = stream(&["--compressed"], &["--allow-br"]).await;
    check_events(&out, "br");
    // The user's own Accept-Encoding wins over --compressed's.
    let out = stream(&["--compressed", "-H", "Accept-Encoding: deflate"], &[]).await;
    check_events(&out, "deflate");
}

#[tokio::test]
async fn without_compressed_express_sends_identity_and_unasked_gzip_is_decoded_and_said() {
    let out = stream(&[], &[]).await;
    let open = out.kind("open")[0];
    assert!(open["headers"].get("content-encoding").is_none(), "{open}");
    assert!(open.get("compression").is_none());
    assert_eq!(out.kind("event").len(), 4);
    assert!(
        out.records
            .iter()
            .all(|r| r.get("compressed_bytes").is_none())
    );
    // A user header asks for gzip behind streamscope's back: the server compresses "unasked".
    let out = stream(&["-H", "Accept-Encoding: gzip"], &[]).await;
    check_events(&out, "gzip");
    let lint = out
        .kind("lint")
        .into_iter()
        .find(|l| l["rule"] == "unrequested-content-encoding")
        .cloned();
    assert!(lint.is_some(), "{:?}", out.records);
}
