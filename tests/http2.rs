//! HTTP/2 against the embedded server: ALPN over TLS, h2c with prior knowledge, two streams on one
//! shared connection (and `--no-share`), WebSocket over HTTP/2, the `/scenario/h2-*` faults, and
//! TLS facts and certificate errors told as sentences. Interop with Node's HTTP/2 is in
//! `interop_h2.rs`.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::Value;
use streamscope::server::{Server, ServerConfig, ServerHandle, ServerTls};
use support::{TempDir, run};

/// The embedded server with a TLS listener, and the certificate's file for `--cacert`.
struct TlsServer {
    handle: ServerHandle,
    cert: PathBuf,
    _dir: TempDir,
}

impl TlsServer {
    async fn start(tag: &str, tls: ServerTls) -> TlsServer {
        let dir = TempDir::new(&format!("h2-{tag}"));
        let cert = dir.file("cert.pem");
        std::fs::write(&cert, &tls.cert_pem).expect("write the certificate");
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let handle = Server::bind(any, ServerConfig::default())
            .await
            .expect("bind")
            .with_tls(any, tls)
            .await
            .expect("bind TLS")
            .spawn();
        TlsServer {
            handle,
            cert,
            _dir: dir,
        }
    }

    async fn generated(tag: &str) -> TlsServer {
        TlsServer::start(tag, ServerTls::generate().expect("certificate")).await
    }

    fn https(&self, path: &str) -> String {
        let addr = self.handle.tls_addr().expect("TLS listener");
        format!("https://{addr}{path}")
    }

    fn wss(&self, path: &str) -> String {
        let addr = self.handle.tls_addr().expect("TLS listener");
        format!("wss://{addr}{path}")
    }

    fn cacert(&self) -> &str {
        self.cert.to_str().expect("UTF-8 path")
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

#[tokio::test]
async fn https_negotiates_h2_by_alpn_and_the_open_record_says_so() {
    let srv = TlsServer::generated("alpn").await;
    let out = run(&[
        "--json",
        "--cacert",
        srv.cacert(),
        "--count",
        "2",
        &srv.https("/sse?interval_ms=10"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open");
    assert_eq!(open.len(), 1, "{:?}", out.records);
    let o = open[0];
    assert_eq!(s(o, "http"), "h2");
    assert_eq!(s(o, "alpn"), "h2");
    assert_eq!(s(o, "tls_version"), "TLSv1.3");
    assert!(s(o, "tls_cipher").starts_with("TLS13_"), "{o}");
    assert_eq!(s(o, "cert_subject"), "CN=streamscope serve");
    assert_eq!(s(o, "cert_names"), "localhost, 127.0.0.1");
    let days = o["cert_days_left"].as_i64().expect("days left");
    assert!((28..=30).contains(&days), "{o}");
    // The head is the HEADERS frame: far smaller than an HTTP/1.1 head.
    let head = o["wire_bytes"].as_u64().expect("head size");
    assert!(head > 9 && head < 100, "{o}");
    assert_eq!(out.kind("event").len(), 2);
    // The connection's frames are records: the server's SETTINGS, our PING and its ACK (the RTT).
    let frames = out.kind("frame");
    let named = |name: &str| frames.iter().filter(|f| s(f, "frame") == name).count();
    assert!(named("SETTINGS") >= 2, "{frames:?}");
    let ack = frames
        .iter()
        .find(|f| s(f, "frame") == "PING" && s(f, "dir") == "in")
        .expect("a PING ACK");
    assert!(ack["rtt_ms"].as_f64().is_some(), "{ack}");
    // The DATA frames summed up: the overhead is 9 bytes a frame.
    let data = frames
        .iter()
        .find(|f| s(f, "frame") == "DATA")
        .expect("a DATA summary");
    let detail = s(data, "detail");
    let n: u64 = detail
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert_eq!(data["wire_bytes"].as_u64(), Some(9 * n), "{data}");
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn http1_1_flag_keeps_http1() {
    let srv = TlsServer::generated("h1").await;
    let out = run(&[
        "--json",
        "--http1.1",
        "--cacert",
        srv.cacert(),
        "--count",
        "1",
        &srv.https("/sse?interval_ms=10"),
    ])
    .await;
    let open = out.kind("open");
    assert_eq!(s(open[0], "http"), "http/1.1", "{:?}", out.records);
    assert_eq!(s(open[0], "alpn"), "http/1.1");
    assert!(out.kind("frame").is_empty());
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn h2c_with_prior_knowledge_on_the_plain_port() {
    let srv = support::embedded_server(ServerConfig::default()).await;
    let url = format!("http://{}/sse?interval_ms=10", srv.local_addr());
    let out = run(&["--json", "--http2-prior-knowledge", "--count", "2", &url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open");
    assert_eq!(s(open[0], "http"), "h2c", "{:?}", out.records);
    assert!(open[0].get("tls_version").is_none());
    assert_eq!(out.kind("event").len(), 2);
    // Without the flag, the same URL is HTTP/1.1.
    let out = run(&["--json", "--count", "1", &url]).await;
    assert_eq!(s(out.kind("open")[0], "http"), "http/1.1");
    srv.shutdown().await;
}

/// The `connection` and `shared` fields of each stream's `open`.
fn connections(records: &[Value]) -> Vec<(u64, u64, bool)> {
    let mut v: Vec<_> = records
        .iter()
        .filter(|r| s(r, "kind") == "open")
        .map(|r| {
            (
                r["stream"].as_u64().unwrap_or(9),
                r["connection"].as_u64().unwrap_or(0),
                r["shared"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn two_urls_on_one_origin_share_one_connection_unless_no_share() {
    let srv = TlsServer::generated("share").await;
    let url = srv.https("/sse?interval_ms=20");
    let shared = run(&[
        "--json",
        "--cacert",
        srv.cacert(),
        "--count",
        "3",
        &url,
        &url,
    ])
    .await;
    let c = connections(&shared.records);
    assert_eq!(c.len(), 2, "{:?}", shared.records);
    assert_eq!(c[0].1, c[1].1, "one connection for both: {c:?}");
    assert!(c.iter().any(|x| x.2), "said shared: {c:?}");
    // Each stream reads its own events off the shared connection.
    for stream in 0..2 {
        let events = shared
            .kind("event")
            .into_iter()
            .filter(|e| e["stream"].as_u64() == Some(stream))
            .count();
        assert_eq!(events, 3, "stream {stream}");
    }
    let apart = run(&[
        "--json",
        "--no-share",
        "--cacert",
        srv.cacert(),
        "--count",
        "1",
        &url,
        &url,
    ])
    .await;
    let c = connections(&apart.records);
    assert_eq!(c.len(), 2, "{:?}", apart.records);
    assert_ne!(c[0].1, c[1].1, "one connection each: {c:?}");
    assert!(c.iter().all(|x| !x.2), "{c:?}");
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn websocket_over_http2_uses_the_extended_connect() {
    let srv = TlsServer::generated("ws").await;
    let out = run(&[
        "--json",
        "--http2",
        "--cacert",
        srv.cacert(),
        "--send",
        "hello",
        "--count",
        "1",
        &srv.wss("/echo"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open");
    assert_eq!(open[0]["status"].as_u64(), Some(200), "{:?}", out.records);
    assert_eq!(s(open[0], "http"), "h2");
    let echoed = out.kind_dir("message", "in");
    assert_eq!(s(echoed[0], "data"), "hello");
    // Without --http2 the WebSocket is the HTTP/1.1 upgrade, as before.
    let out = run(&[
        "--json",
        "--cacert",
        srv.cacert(),
        "--count",
        "1",
        &srv.wss("/ws?interval_ms=10"),
    ])
    .await;
    let open = out.kind("open");
    assert_eq!(open[0]["status"].as_u64(), Some(101));
    assert_eq!(s(open[0], "http"), "http/1.1");
    srv.handle.shutdown().await;
}

/// The body bytes the `DATA` summaries of a run say their frames carried.
fn data_body_bytes(frames: &[&Value]) -> u64 {
    frames
        .iter()
        .filter(|f| s(f, "frame") == "DATA")
        .map(|f| {
            let detail = s(f, "detail");
            detail
                .split_once(" carried ")
                .and_then(|(_, rest)| rest.split(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no body bytes in {detail:?}"))
        })
        .sum()
}

#[tokio::test]
async fn gzip_sse_over_http2_is_decoded_from_the_data_frames() {
    let srv = TlsServer::generated("gzip").await;
    let out = run(&[
        "--json",
        "--compressed",
        "--no-reconnect",
        "--cacert",
        srv.cacert(),
        &srv.https("/firehose/sse?n=500&size=100"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open")[0];
    // Both sets of facts on one record: how the connection was made, and the compression.
    assert_eq!(s(open, "http"), "h2", "{open}");
    assert_eq!(s(open, "alpn"), "h2", "{open}");
    assert_eq!(open["headers"]["content-encoding"], "gzip", "{open}");
    assert_eq!(s(open, "compression_offered"), "gzip, deflate, br, zstd");
    assert_eq!(s(open, "compression"), "gzip");
    let events = out.kind("event");
    assert_eq!(events.len(), 500, "{}", out.stderr);
    // Decoded: the same sizes as the plain firehose over HTTP/1.1.
    assert!(
        events
            .iter()
            .all(|e| e["wire_bytes"] == 108 && e["payload_bytes"] == 100),
        "{:?}",
        events.first()
    );
    let compressed: u64 = events
        .iter()
        .filter_map(|e| e["compressed_bytes"].as_u64())
        .sum();
    // 54,000 bytes of `data: xxx…` gzip to a few hundred, and they are what the DATA frames
    // carried (all of it but, at most, the gzip trailer after the last event).
    assert!(compressed > 0 && compressed * 20 < 54_000, "{compressed}");
    let body = data_body_bytes(&out.kind("frame"));
    assert!(
        compressed <= body && body - compressed <= 32,
        "records {compressed}, DATA frames {body}"
    );
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn websocket_over_http2_negotiates_permessage_deflate() {
    let srv = TlsServer::generated("ws-deflate").await;
    let args = |url: String| {
        vec![
            "--json".to_owned(),
            "--http2".to_owned(),
            "--cacert".to_owned(),
            srv.cacert().to_owned(),
            "--count".to_owned(),
            "3".to_owned(),
            url,
        ]
    };
    let deflated = args(srv.wss("/ws?interval_ms=10"));
    let out = run(&deflated.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open")[0];
    assert_eq!(s(open, "http"), "h2", "{open}");
    assert_eq!(open["status"].as_u64(), Some(200), "{open}");
    assert_eq!(
        s(open, "compression_offered"),
        "permessage-deflate; client_max_window_bits"
    );
    assert!(
        s(open, "compression").starts_with("permessage-deflate"),
        "{open}"
    );
    let messages = out.kind_dir("message", "in");
    assert_eq!(messages.len(), 3);
    for m in &messages {
        assert_eq!(m["compressed"], true, "{m}");
        assert!(s(m, "data").starts_with("{\"seq\":"), "{m}");
        assert!(m["compressed_bytes"].as_u64().is_some(), "{m}");
    }
    // A server that declines: the same stream, uncompressed.
    let plain = args(srv.wss("/ws?interval_ms=10&deflate=off"));
    let out = run(&plain.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.kind("open")[0].get("compression").is_none());
    assert!(
        out.kind_dir("message", "in")
            .iter()
            .all(|m| m["compressed"] == false)
    );
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn goaway_and_rst_stream_codes_become_the_reasons() {
    let srv = TlsServer::generated("faults").await;
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--cacert",
        srv.cacert(),
        &srv.https("/scenario/h2-rst?after=1&code=11"),
    ])
    .await;
    let end = out.kind("end");
    let reason = s(end[0], "reason");
    assert!(
        reason.contains("the server reset the HTTP/2 stream: RST_STREAM ENHANCE_YOUR_CALM (0xb)"),
        "{reason}"
    );
    let rst = out
        .kind("frame")
        .into_iter()
        .find(|f| s(f, "frame") == "RST_STREAM")
        .cloned()
        .expect("the RST_STREAM frame");
    assert_eq!(rst["error_code"].as_u64(), Some(11));

    let out = run(&[
        "--json",
        "--cacert",
        srv.cacert(),
        "--duration",
        "2s",
        &srv.https("/scenario/h2-goaway?after=2&code=2"),
    ])
    .await;
    let reconnect = out.kind("reconnect");
    assert!(!reconnect.is_empty(), "{:?}", out.records);
    let reason = s(reconnect[0], "reason");
    assert!(reason.contains("GOAWAY INTERNAL_ERROR"), "{reason}");
    let goaway = out
        .kind("frame")
        .into_iter()
        .find(|f| s(f, "frame") == "GOAWAY")
        .cloned()
        .expect("the GOAWAY frame");
    assert_eq!(goaway["error_code"].as_u64(), Some(2));
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn a_zero_window_stalls_the_request_body_and_says_so() {
    let srv = TlsServer::generated("window").await;
    // More than the default window of 65,535 bytes a client may send before the server's
    // SETTINGS arrive: the rest waits for the window the server opens after `hold_ms`.
    let dir = TempDir::new("h2-window");
    let body = dir.file("body.txt");
    std::fs::write(&body, "x".repeat(100_000)).expect("write");
    let data = format!("@{}", body.display());
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--cacert",
        srv.cacert(),
        "-d",
        &data,
        &srv.https("/scenario/h2-zero-window?count=1&hold_ms=500"),
    ])
    .await;
    let lints: Vec<_> = out
        .kind("lint")
        .into_iter()
        .filter(|l| s(l, "rule") == "flow-control-stall")
        .collect();
    assert_eq!(lints.len(), 1, "{:?}", out.records);
    assert!(s(lints[0], "message").contains("SETTINGS_INITIAL_WINDOW_SIZE is 0"));
    // Once the window opens the body gets through.
    let hello = out.kind("comment");
    assert_eq!(s(hello[0], "text"), "received 100000 request body bytes");
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn one_concurrent_stream_queues_the_second_on_a_shared_connection() {
    let srv = TlsServer::generated("one").await;
    let url = srv.https("/scenario/h2-one-stream?count=3&interval_ms=30");
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--cacert",
        srv.cacert(),
        &url,
        &url,
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let lints: Vec<_> = out
        .kind("lint")
        .into_iter()
        .filter(|l| s(l, "rule") == "h2-stream-limit")
        .collect();
    assert_eq!(lints.len(), 1, "{:?}", out.records);
    // The second stream opened only after the first one ended.
    let opens = out.kind("open");
    let ends = out.kind("end");
    let later = opens.iter().map(|o| s(o, "ts")).max().unwrap_or("");
    let first_end = ends.iter().map(|e| s(e, "ts")).min().unwrap_or("");
    assert!(later >= first_end, "{later} {first_end}");
    // With a connection each, nobody waits.
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--no-share",
        "--cacert",
        srv.cacert(),
        &url,
        &url,
    ])
    .await;
    assert!(
        out.kind("lint")
            .iter()
            .all(|l| s(l, "rule") != "h2-stream-limit")
    );
    assert_eq!(out.kind("event").len(), 6);
    srv.handle.shutdown().await;
}

/// A certificate and key as PEM files, signed by themselves.
fn pem_pair(dir: &TempDir, names: &[&str], days: (i64, i64)) -> (PathBuf, PathBuf) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(days.0);
    params.not_after = now + time::Duration::days(days.1);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("certificate");
    let (c, k) = (dir.file("c.pem"), dir.file("k.pem"));
    std::fs::write(&c, cert.pem()).expect("write");
    std::fs::write(&k, key.serialize_pem()).expect("write");
    (c, k)
}

#[tokio::test]
async fn certificate_errors_read_as_sentences_with_their_facts() {
    // A name the certificate does not hold: the names it does.
    let dir = TempDir::new("h2-names");
    let (c, k) = pem_pair(&dir, &["example.test"], (-1, 30));
    let srv = TlsServer::start("names", ServerTls::from_files(&c, &k).expect("tls")).await;
    let out = run(&["--json", "--cacert", srv.cacert(), &srv.https("/sse")]).await;
    let msg = s(out.kind("error")[0], "message").to_owned();
    assert!(
        msg.contains("not valid for 127.0.0.1: it names only example.test"),
        "{msg}"
    );
    srv.handle.shutdown().await;

    // Expired: its dates.
    let dir = TempDir::new("h2-expired");
    let (c, k) = pem_pair(&dir, &["127.0.0.1"], (-30, -2));
    let srv = TlsServer::start("expired", ServerTls::from_files(&c, &k).expect("tls")).await;
    let out = run(&["--json", "--cacert", srv.cacert(), &srv.https("/sse")]).await;
    let msg = s(out.kind("error")[0], "message").to_owned();
    assert!(msg.contains("expired on 20"), "{msg}");
    assert!(msg.contains("(valid from 20"), "{msg}");
    assert_eq!(out.code, 1);
    srv.handle.shutdown().await;

    // Expiring within 14 days: a lint, and the stream works.
    let dir = TempDir::new("h2-expiring");
    let (c, k) = pem_pair(&dir, &["127.0.0.1"], (-30, 5));
    let srv = TlsServer::start("expiring", ServerTls::from_files(&c, &k).expect("tls")).await;
    let out = run(&[
        "--json",
        "--cacert",
        srv.cacert(),
        "--count",
        "1",
        &srv.https("/sse?interval_ms=10"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let lint = out
        .kind("lint")
        .into_iter()
        .find(|l| s(l, "rule") == "cert-expiring")
        .cloned()
        .expect("a cert-expiring lint");
    // Five days from the certificate's making: 4 whole days and some hours, or 5 at the second.
    let message = s(&lint, "message");
    assert!(
        message.contains("expires in 4 days") || message.contains("expires in 5 days"),
        "{lint}"
    );
    srv.handle.shutdown().await;
}

#[tokio::test]
async fn the_openssl_one_liner_certificate_is_trusted_with_cacert() {
    let dir = TempDir::new("h2-openssl");
    let (c, k) = (dir.file("cert.pem"), dir.file("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(made.status.success(), "{made:?}");
    let srv = TlsServer::start("openssl", ServerTls::from_files(&c, &k).expect("tls")).await;
    let url = srv.https("/sse?interval_ms=10");
    let cacert = c.to_str().expect("UTF-8");
    let out = run(&["--json", "--cacert", cacert, "--count", "1", &url]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(s(out.kind("open")[0], "cert_subject"), "CN=127.0.0.1");
    // Still checked for the name: by another name it is refused, and the message says why.
    let other = url.replace("127.0.0.1", "localhost");
    let out = run(&["--json", "--cacert", cacert, &other]).await;
    let msg = s(out.kind("error")[0], "message").to_owned();
    assert!(
        msg.contains("not valid for localhost: it names only 127.0.0.1"),
        "{msg}"
    );
    // Without --cacert: what it is, and the hint.
    let out = run(&["--json", &url]).await;
    let msg = s(out.kind("error")[0], "message").to_owned();
    assert!(msg.contains("--cacert"), "{msg}");
    assert!(!msg.contains("CaUsedAsEndEntity"), "{msg}");
    srv.handle.shutdown().await;
}

/// The `request_headers` of an `open` record as (name, value) pairs.
fn sent_headers(open: &Value) -> Vec<(String, String)> {
    open["request_headers"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_open_record_says_the_http2_request_with_its_pseudo_headers() {
    let srv = TlsServer::generated("request").await;
    let out = support::output(&[
        "--json",
        "--http2",
        "--cacert",
        srv.cacert(),
        "--count",
        "1",
        "-H",
        "Authorization: Bearer s3cret-token",
        &srv.https("/sse?token=s3cret-query"),
        &srv.wss("/ws?interval_ms=10"),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        !stdout.contains("s3cret"),
        "a secret in the output: {stdout}"
    );
    let records = support::json_lines(&stdout);
    let open = |proto: &str| {
        records
            .iter()
            .find(|r| r["kind"] == "open" && r["proto"] == proto)
            .unwrap_or_else(|| panic!("{proto} open: {stdout}"))
    };
    let authority = srv.handle.tls_addr().expect("TLS").to_string();
    let has = |h: &[(String, String)], name: &str, value: &str| {
        h.iter().any(|(n, v)| n == name && v == value)
    };
    let sse = open("sse");
    assert_eq!(s(sse, "http"), "h2");
    assert_eq!(s(sse, "request_method"), "GET");
    let h = sent_headers(sse);
    for (name, value) in [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", authority.as_str()),
        (":path", "/sse?token=***"),
        ("accept", "text/event-stream"),
        ("authorization", "Bearer ***"),
    ] {
        assert!(has(&h, name, value), "{name}: {value} in {h:?}");
    }
    // HTTP/2 has no Host or connection headers: :authority says the host.
    assert!(
        !h.iter().any(|(n, _)| n == "host" || n == "connection"),
        "{h:?}"
    );
    let ws = open("ws");
    assert_eq!(s(ws, "http"), "h2");
    assert_eq!(s(ws, "request_method"), "CONNECT");
    let h = sent_headers(ws);
    for (name, value) in [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":path", "/ws?interval_ms=10"),
        ("sec-websocket-version", "13"),
        (
            "sec-websocket-extensions",
            "permessage-deflate; client_max_window_bits",
        ),
        ("authorization", "Bearer ***"),
    ] {
        assert!(has(&h, name, value), "{name}: {value} in {h:?}");
    }
    // RFC 8441: no key, no Upgrade.
    assert!(
        !h.iter()
            .any(|(n, _)| n == "sec-websocket-key" || n == "upgrade"),
        "{h:?}"
    );
    srv.handle.shutdown().await;
}
