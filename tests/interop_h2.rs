//! HTTP/2 against an implementation streamscope did not write: Node's built-in `http2` module
//! (`tests/interop/h2_server.js`, a certificate made by `openssl` at its start; no npm package),
//! for h2 and HTTP/1.1 side by side on the same feed, a shared connection, h2c with prior
//! knowledge, WebSocket over HTTP/2 (RFC 8441) and the errors of servers that do less; and Node's
//! HTTP/2 client (`h2_ws_client.js`) against the embedded server's RFC 8441 endpoint.

mod support;

use std::net::SocketAddr;

use serde_json::Value;
use streamscope::server::{Server, ServerConfig, ServerTls};
use support::interop::Peer;
use support::{TempDir, run};

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// Node's HTTP/2 server over TLS, with `extra` flags; its certificate's path for `--cacert`.
async fn node_tls(dir: &TempDir, extra: &[&str]) -> (Peer, String) {
    let cert = dir.file("node-cert.pem");
    let cert = cert.to_str().expect("UTF-8 path").to_owned();
    let mut args = vec!["--tls", cert.as_str()];
    args.extend_from_slice(extra);
    let peer = Peer::node("h2_server.js", &args).await;
    (peer, cert)
}

#[tokio::test]
async fn node_h2_and_http1_side_by_side_on_the_same_feed() {
    let dir = TempDir::new("node-h2-side");
    let (peer, cert) = node_tls(&dir, &[]).await;
    let url = peer.url("https", "/sse?count=3&interval_ms=30");
    let h2_args = ["--json", "--no-reconnect", "--cacert", &cert, &url];
    let h1_args = [
        "--json",
        "--no-reconnect",
        "--http1.1",
        "--cacert",
        &cert,
        &url,
    ];
    let (h2, h1) = tokio::join!(run(&h2_args), run(&h1_args));
    for (out, http, said) in [(&h2, "h2", "2.0"), (&h1, "http/1.1", "1.1")] {
        assert_eq!(out.code, 0, "{}: {:?}", http, out.records);
        let open = out.kind("open");
        assert_eq!(s(open[0], "http"), http, "{:?}", open[0]);
        assert_eq!(s(open[0], "alpn"), http);
        // The server says which version it served.
        let hello = out.kind("comment");
        assert_eq!(s(hello[0], "text"), format!("hello over HTTP/{said}"));
        let events = out.kind("event");
        let ids: Vec<_> = events.iter().map(|e| s(e, "id")).collect();
        assert_eq!(ids, ["0", "1", "2"], "{http}");
        for e in &events {
            let data: Value = serde_json::from_str(s(e, "data")).expect("JSON");
            assert_eq!(data["http"], said);
        }
        // Node's certificate is made for two days: a lint says it expires soon.
        assert!(
            out.kind("lint")
                .iter()
                .any(|l| s(l, "rule") == "cert-expiring"),
            "{http}"
        );
    }
    // Same events, same SSE bytes; only HTTP/2 has frames to show.
    let wire = |out: &support::RunOutput| -> Vec<u64> {
        out.kind("event")
            .iter()
            .map(|e| e["wire_bytes"].as_u64().unwrap_or(0))
            .collect()
    };
    assert_eq!(wire(&h2), wire(&h1));
    assert!(!h2.kind("frame").is_empty());
    assert!(h1.kind("frame").is_empty());
    peer.stop().await;
}

#[tokio::test]
async fn node_serves_two_urls_on_one_shared_connection() {
    let dir = TempDir::new("node-h2-share");
    let (peer, cert) = node_tls(&dir, &[]).await;
    let a = peer.url("https", "/sse?count=2&interval_ms=30");
    let b = peer.url("https", "/sse?count=3&interval_ms=20");
    let out = run(&["--json", "--no-reconnect", "--cacert", &cert, &a, &b]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let open = out.kind("open");
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["connection"], open[1]["connection"], "{open:?}");
    assert!(open.iter().any(|o| o["shared"] == true), "{open:?}");
    assert_eq!(out.kind("event").len(), 5);
    peer.stop().await;
}

#[tokio::test]
async fn node_h2c_with_prior_knowledge() {
    let peer = Peer::node("h2_server.js", &["--h2c"]).await;
    let url = peer.url("http", "/sse?count=2&interval_ms=20");
    let out = run(&["--json", "--no-reconnect", "--http2-prior-knowledge", &url]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(s(out.kind("open")[0], "http"), "h2c");
    assert_eq!(out.kind("event").len(), 2);
    peer.stop().await;
}

#[tokio::test]
async fn node_websocket_over_http2() {
    let dir = TempDir::new("node-h2-ws");
    let (peer, cert) = node_tls(&dir, &[]).await;
    let url = peer.url("wss", "/ws?count=3&interval_ms=20");
    let out = run(&[
        "--json",
        "--http2",
        "--cacert",
        &cert,
        "--subprotocol",
        "chat",
        "--send",
        "hi",
        &url,
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let open = out.kind("open");
    assert_eq!(open[0]["status"], 200);
    assert_eq!(s(open[0], "http"), "h2");
    assert_eq!(open[0]["headers"]["sec-websocket-protocol"], "chat");
    let messages = out.kind_dir("message", "in");
    let seqs: Vec<_> = messages
        .iter()
        .map(|m| serde_json::from_str::<Value>(s(m, "data")).expect("JSON")["seq"].clone())
        .collect();
    assert_eq!(seqs, [0, 1, 2]);
    assert!(
        out.kind("close")
            .iter()
            .any(|c| c["dir"] == "in" && c["code"] == 1000 && c["reason"] == "done")
    );
    peer.stop().await;
}

#[tokio::test]
async fn servers_that_do_less_are_told_in_sentences() {
    let dir = TempDir::new("node-h2-less");
    // No RFC 8441: WebSocket over HTTP/2 cannot be done, and the error says what to do.
    let (peer, cert) = node_tls(&dir, &["--no-connect-protocol"]).await;
    let out = run(&[
        "--json",
        "--http2",
        "--cacert",
        &cert,
        &peer.url("wss", "/ws"),
    ])
    .await;
    assert_eq!(out.code, 1);
    let msg = s(out.kind("error")[0], "message").to_owned();
    assert!(
        msg.contains("does not enable WebSocket over it") && msg.contains("drop --http2"),
        "{msg}"
    );
    peer.stop().await;
    // HTTP/2 only: HTTP/1.1 is refused by ALPN, and that is what the message says.
    let (peer, cert) = node_tls(&dir, &["--h2-only"]).await;
    let url = peer.url("https", "/sse?count=1");
    let out = run(&["--json", "--http1.1", "--cacert", &cert, &url]).await;
    let msg = s(out.kind("error")[0], "message").to_owned();
    assert!(msg.contains("this server requires HTTP/2"), "{msg}");
    assert!(!msg.contains("NoApplicationProtocol"), "{msg}");
    // Without the flag it negotiates h2 and works.
    let out = run(&["--json", "--no-reconnect", "--cacert", &cert, &url]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(s(out.kind("open")[0], "http"), "h2");
    peer.stop().await;
}

#[tokio::test]
async fn node_http2_client_speaks_websocket_to_the_embedded_server() {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let handle = Server::bind(any, ServerConfig::default())
        .await
        .expect("bind")
        .with_tls(any, ServerTls::generate().expect("certificate"))
        .await
        .expect("bind TLS")
        .spawn();
    let tls = handle.tls_addr().expect("TLS listener");
    support::interop::ensure();
    let out = tokio::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
        .arg("h2_ws_client.js")
        .arg(format!("https://{tls}/ws?count=2&interval_ms=20"))
        .output()
        .await
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("remote enableConnectProtocol = true"),
        "{text}"
    );
    assert!(
        text.contains(r#""sec-websocket-protocol":"chat""#),
        "{text}"
    );
    assert_eq!(text.matches("frame op=1 ").count(), 2, "{text}");
    assert!(text.contains("close code=1000"), "{text}");
    handle.shutdown().await;
}
