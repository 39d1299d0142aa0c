//! TLS, mutual TLS and proxies against local servers, with certificates generated at test time.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use streamscope::server::ServerConfig;
use support::{RawServer, SSE_HEAD, TempDir, embedded_server, read_request, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

struct Pki {
    /// Holds the PEM files; removed with the `Pki`.
    _dir: TempDir,
    ca_pem: PathBuf,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
    client_cert: PathBuf,
    client_key: PathBuf,
    ca_der: CertificateDer<'static>,
}

fn pki(tag: &str) -> Pki {
    let dir = TempDir::new(&format!("tls-{tag}"));
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("key");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
    let srv_key = KeyPair::generate().expect("key");
    let srv = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&srv_key, &ca)
        .expect("server cert");
    let cli_key = KeyPair::generate().expect("key");
    let cli = CertificateParams::new(vec!["client.test".to_owned()])
        .expect("params")
        .signed_by(&cli_key, &ca)
        .expect("client cert");
    let ca_pem = dir.file("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).expect("write");
    let client_cert = dir.file("client.pem");
    std::fs::write(&client_cert, cli.pem()).expect("write");
    let client_key = dir.file("client.key");
    std::fs::write(&client_key, cli_key.serialize_pem()).expect("write");
    Pki {
        _dir: dir,
        ca_pem,
        server_chain: vec![srv.der().clone()],
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(srv_key.serialize_der())),
        client_cert,
        client_key,
        ca_der: ca.der().clone(),
    }
}

/// An HTTPS SSE server sending one event then closing. With `require_client_cert`, the client must
/// present a certificate signed by the test CA.
async fn tls_sse_server(pki: &Pki, require_client_cert: bool) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der.clone()).expect("root");
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let srv = RawServer::start(move |_, sock, _| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(sock).await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = tls.read(&mut buf).await;
            let _ = tls.write_all(SSE_HEAD.as_bytes()).await;
            let _ = tls.write_all(b"data: secure\n\n").await;
            let _ = tls.shutdown().await;
        }
    })
    .await;
    srv.port
}

#[tokio::test]
async fn cacert_verifies_a_local_ca() {
    let pki = pki("ca");
    let port = tls_sse_server(&pki, false).await;
    let ca = pki.ca_pem.display().to_string();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{port}/");
        let out = run(&["--json", "--no-reconnect", "--cacert", &ca, &url]).await;
        assert_eq!(out.code, 0, "{:?} {}", out.records, out.stderr);
        assert_eq!(out.kind("event")[0]["data"], "secure");
    }
}

#[tokio::test]
async fn plain_url_redirected_to_https_still_verifies() {
    // No URL on the command line uses TLS, so the TLS set-up is first needed at the redirect.
    let pki = pki("redirect");
    let port = tls_sse_server(&pki, false).await;
    let plain = embedded_server(ServerConfig {
        tick: Duration::from_secs(1),
        heartbeat: Duration::from_secs(15),
    })
    .await;
    let url = format!(
        "http://{}/status/302?location=https://localhost:{port}/",
        plain.local_addr()
    );
    let ca = pki.ca_pem.display().to_string();
    let out = run(&["--json", "--no-reconnect", "--cacert", &ca, &url]).await;
    assert_eq!(out.code, 0, "{:?} {}", out.records, out.stderr);
    assert_eq!(out.kind("event")[0]["data"], "secure");
    // Without the CA the certificate is refused, as it would be on a direct https URL.
    let out = run(&["--json", "--no-reconnect", &url]).await;
    assert_eq!(out.code, 1);
    let msg = out.kind("error")[0]["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("TLS handshake failed:"), "{msg}");
}

#[tokio::test]
async fn unknown_issuer_is_a_clear_error_and_is_not_retried() {
    let pki = pki("noca");
    let port = tls_sse_server(&pki, false).await;
    let out = run(&["--json", &format!("https://localhost:{port}/")]).await;
    assert_eq!(out.code, 1);
    let err = out.kind("error");
    assert_eq!(
        err.len(),
        1,
        "a certificate problem is not retried: {:?}",
        out.records
    );
    let msg = err[0]["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("TLS handshake failed:"), "{msg}");
    // A sentence with the issuer's name and a hint, not rustls' enum name.
    assert!(
        msg.contains("is issued by CN=rcgen self signed cert, which is not a trusted authority"),
        "{msg}"
    );
    assert!(msg.contains("--cacert FILE"), "{msg}");
    assert!(!msg.contains("UnknownIssuer"), "{msg}");
}

#[tokio::test]
async fn insecure_connects_without_verification() {
    let pki = pki("insecure");
    let port = tls_sse_server(&pki, false).await;
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--insecure",
        &format!("https://localhost:{port}/"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(out.kind("event").len(), 1);
}

#[tokio::test]
async fn client_certificate_for_mutual_tls() {
    let pki = pki("mtls");
    let port = tls_sse_server(&pki, true).await;
    let url = format!("https://localhost:{port}/");
    let ca = pki.ca_pem.display().to_string();
    let without = run(&["--json", "--no-reconnect", "--cacert", &ca, &url]).await;
    assert_eq!(
        without.code, 1,
        "the server demands a certificate: {:?}",
        without.records
    );
    let cert = pki.client_cert.display().to_string();
    let key = pki.client_key.display().to_string();
    let with = run(&[
        "--json",
        "--no-reconnect",
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        &url,
    ])
    .await;
    assert_eq!(with.code, 0, "{:?} {}", with.records, with.stderr);
    assert_eq!(with.kind("event")[0]["data"], "secure");
}

/// A CONNECT proxy that logs each request line and tunnels to the target.
async fn connect_proxy() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let srv = RawServer::start(|_, mut client, log| async move {
        // Byte by byte: what follows the head belongs to the tunnel.
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if client.read(&mut b).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(b[0]);
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        log.lock().expect("lock").push(text.clone());
        let target = text.split_whitespace().nth(1).unwrap_or("").to_owned();
        let Ok(mut upstream) = TcpStream::connect(target).await else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
            return;
        };
        let _ = client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    })
    .await;
    (srv.port, srv.requests)
}

#[tokio::test]
async fn https_through_a_connect_proxy_with_credentials() {
    let pki = pki("proxy");
    let port = tls_sse_server(&pki, false).await;
    let (proxy_port, log) = connect_proxy().await;
    let ca = pki.ca_pem.display().to_string();
    let proxy = format!("http://user:p%40ss@127.0.0.1:{proxy_port}");
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--cacert",
        &ca,
        "--proxy",
        &proxy,
        &format!("https://localhost:{port}/"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?} {}", out.records, out.stderr);
    assert_eq!(out.kind("event")[0]["data"], "secure");
    let seen = log.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
        "{}",
        seen[0]
    );
    // user:p@ss in base64
    assert!(
        seen[0].contains("Proxy-Authorization: Basic dXNlcjpwQHNz\r\n"),
        "{}",
        seen[0]
    );
}

#[tokio::test]
async fn proxy_refusal_is_reported() {
    let proxy = RawServer::start(|_, mut c, _| async move {
        let mut buf = [0u8; 1024];
        let _ = c.read(&mut buf).await;
        let _ = c
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            .await;
    })
    .await;
    let port = proxy.port;
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--proxy",
        &format!("127.0.0.1:{port}"),
        "ws://example.test/feed",
    ])
    .await;
    assert_eq!(out.code, 1);
    let msg = out.kind("error")[0]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(msg.contains("407"), "{msg}");
}

#[tokio::test]
async fn secret_response_headers_are_masked_unless_asked() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nSet-Cookie: sid=s3cr3t; Path=/\r\nConnection: close\r\n\r\ndata: x\n\n";
        let _ = sock.write_all(head.as_bytes()).await;
    })
    .await;
    let url = srv.url("http", "/?token=abc");
    let masked = run(&["--json", "--no-reconnect", &url]).await;
    let text = masked
        .records
        .iter()
        .map(ToString::to_string)
        .collect::<String>();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(
        masked.kind("open")[0]["headers"]["set-cookie"],
        "sid=***; Path=/"
    );
    let shown = run(&["--json", "--no-reconnect", "--show-secrets", &url]).await;
    assert_eq!(
        shown.kind("open")[0]["headers"]["set-cookie"],
        "sid=s3cr3t; Path=/"
    );
}
