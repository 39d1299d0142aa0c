//! Opening connections: TCP, optional TLS (rustls with the system's roots, `--cacert`,
//! `--insecure`), and the [`tap::Tap`] that counts and stamps every read.
//!
//! Both clients (SSE and WebSocket) connect the same way, so timing and TLS errors read the same on
//! both protocols.

pub mod proxy;
pub mod tap;

use std::fmt;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::Url;

/// A plain or TLS connection.
#[derive(Debug)]
pub enum Conn {
    /// `http://` or `ws://`.
    Plain(TcpStream),
    /// `https://` or `wss://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum ConnectError {
    /// DNS, TCP, refused, unreachable.
    Io(String),
    /// The connect timeout ran out.
    Timeout(Duration),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Io(e) => write!(f, "connect failed: {e}"),
            ConnectError::Timeout(d) => {
                write!(
                    f,
                    "connect timed out after {}",
                    humantime::format_duration(*d)
                )
            }
            ConnectError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// How to do TLS, built once from the command line.
///
/// The system certificate store is read on the first TLS connection, not up front: reading it
/// opens and parses every certificate file on the machine (about 150 here, half of a short plain
/// run's start-up), wasted when every URL is plain (a plain SSE URL can still redirect to https).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    inner: Arc<TlsInner>,
}

#[derive(Debug)]
struct TlsInner {
    parts: TlsParts,
    /// Built without the system store at start (so every option error is reported before any
    /// connection); its verifier is used as is when no system store is wanted.
    checked: Arc<ClientConfig>,
    /// With the system store, built on first use.
    full: OnceLock<Arc<ClientConfig>>,
}

/// What the TLS configuration is built from.
#[derive(Debug)]
struct TlsParts {
    insecure: bool,
    /// `--cacert` certificates, read and checked at start.
    extra_roots: Vec<CertificateDer<'static>>,
    /// `--cert` chain and `--key`, read and checked at start.
    client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

impl TlsSettings {
    /// System roots plus an optional extra CA file; `insecure` turns verification off;
    /// `client_cert` is a (certificate chain, private key) pair of PEM files for mutual TLS.
    /// Every file is read and checked here; errors are one line for exit code 2.
    pub fn new(
        cacert: Option<&Path>,
        insecure: bool,
        client_cert: Option<(&Path, &Path)>,
    ) -> Result<Self, String> {
        let mut extra_roots = Vec::new();
        if let Some(path) = cacert {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("--cacert {}: {e}", path.display()))?
            {
                extra_roots.push(cert.map_err(|e| format!("--cacert {}: {e}", path.display()))?);
            }
            if extra_roots.is_empty() {
                return Err(format!(
                    "--cacert {}: no PEM certificate found",
                    path.display()
                ));
            }
        }
        let client_auth = match client_cert {
            None => None,
            Some((cert, key)) => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                    .map_err(|e| format!("--cert {}: {e}", cert.display()))?;
                if chain.is_empty() {
                    return Err(format!(
                        "--cert {}: no PEM certificate found",
                        cert.display()
                    ));
                }
                let key_der = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| format!("--key {}: {e}", key.display()))?;
                Some((chain, key_der))
            }
        };
        let parts = TlsParts {
            insecure,
            extra_roots,
            client_auth,
        };
        let checked = Arc::new(parts.build(false)?);
        Ok(TlsSettings {
            inner: Arc::new(TlsInner {
                parts,
                checked,
                full: OnceLock::new(),
            }),
        })
    }

    /// Certificate verification is off.
    pub fn insecure(&self) -> bool {
        self.inner.parts.insecure
    }

    /// The client configuration, with the system store loaded (once) unless `--insecure`.
    fn config(&self) -> Arc<ClientConfig> {
        let inner = &self.inner;
        if inner.parts.insecure {
            return inner.checked.clone();
        }
        inner
            .full
            .get_or_init(|| {
                // The same inputs built fine at start; should the second build fail anyway,
                // the checked configuration (without system roots) still verifies certificates.
                inner
                    .parts
                    .build(true)
                    .map_or_else(|_| inner.checked.clone(), Arc::new)
            })
            .clone()
    }
}

impl TlsParts {
    fn build(&self, system_roots: bool) -> Result<ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            if system_roots {
                // A machine without a system store still works with --cacert; errors for single
                // unreadable certificates are not fatal, as in curl.
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
            }
            for cert in &self.extra_roots {
                roots
                    .add(cert.clone())
                    .map_err(|e| format!("--cacert: {e}"))?;
            }
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| format!("--cert/--key: {e}"))?,
        };
        // Only HTTP/1.1: SSE and the WebSocket upgrade are both HTTP/1.1 here.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Accepts any certificate (`--insecure`), still checking handshake signatures so the session
/// itself is sound.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// True for `https` and `wss`.
pub fn is_tls(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "wss")
}

/// Host and port to dial.
pub fn host_port(url: &Url) -> Result<(String, u16), String> {
    let host = url
        .host_str()
        .ok_or_else(|| format!("{url} has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .unwrap_or(if is_tls(url) { 443 } else { 80 });
    Ok((host, port))
}

/// The `Host` header value for a URL (port only when not the default).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// Path and query for the request line.
pub fn request_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Opens TCP (through an HTTP CONNECT proxy when one is given) and TLS for `https`/`wss`, all
/// within `timeout`.
pub async fn connect(
    url: &Url,
    tls: &TlsSettings,
    timeout: Duration,
    proxy: Option<&Url>,
) -> Result<Conn, ConnectError> {
    let work = async {
        let (host, port) = host_port(url).map_err(ConnectError::Io)?;
        let tcp = match proxy {
            None => TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| ConnectError::Io(format!("{host}:{port}: {e}")))?,
            Some(proxy) => proxy::tunnel(proxy, &host, port).await?,
        };
        // Records are small and latency is what we measure: never wait to coalesce writes.
        let _ = tcp.set_nodelay(true);
        if !is_tls(url) {
            return Ok(Conn::Plain(tcp));
        }
        let name = ServerName::try_from(host.clone())
            .map_err(|e| ConnectError::Tls(format!("bad server name {host}: {e}")))?;
        let stream = TlsConnector::from(tls.config())
            .connect(name, tcp)
            .await
            .map_err(|e| ConnectError::Tls(tls_error_text(&e)))?;
        Ok(Conn::Tls(Box::new(stream)))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(ConnectError::Timeout(timeout)),
    }
}

fn tls_error_text(e: &io::Error) -> String {
    match e.get_ref() {
        Some(inner) => inner.to_string(),
        None => e.to_string(),
    }
}
