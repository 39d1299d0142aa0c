//! A plain or TLS connection ([`Conn`]) and how it is opened ([`connect`]): TCP directly or through
//! a CONNECT tunnel, then TLS for `https`/`wss`, all within the connect timeout.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::Url;

use crate::capture::net::address::{host_port, is_tls};
use crate::capture::net::proxy;
use crate::capture::net::tls::TlsSettings;

/// A plain or TLS connection.
#[derive(Debug)]
pub(crate) enum Conn {
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
pub(crate) enum ConnectError {
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

impl Conn {
    /// The ALPN protocol the server chose (`h2`, `http/1.1`), `None` on plain TCP or without ALPN.
    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        match self {
            Conn::Plain(_) => None,
            Conn::Tls(s) => s.get_ref().1.alpn_protocol(),
        }
    }

    /// What the TLS handshake settled, `None` on plain TCP.
    pub(crate) fn tls_facts(&self) -> Option<crate::record::TlsFacts> {
        match self {
            Conn::Plain(_) => None,
            Conn::Tls(s) => Some(crate::capture::net::tls::facts(s.get_ref().1)),
        }
    }
}

/// Opens TCP (through an HTTP CONNECT proxy when one is given) and TLS for `https`/`wss` offering
/// `alpn`, all within `timeout`.
pub(crate) async fn connect(
    url: &Url,
    tls: &TlsSettings,
    timeout: Duration,
    proxy: Option<&Url>,
    alpn: &[&[u8]],
) -> Result<Conn, ConnectError> {
    let work = async {
        let (host, port) = host_port(url).map_err(ConnectError::Io)?;
        let tcp = match proxy {
            None => TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| ConnectError::Io(format!("{host}:{port}: {e}")))?,
            Some(proxy) => proxy::tunnel(proxy, &host, port)
                .await
                .map_err(ConnectError::Io)?,
        };
        // Records are small and latency is what we measure: never wait to coalesce writes.
        let _ = tcp.set_nodelay(true);
        if !is_tls(url) {
            return Ok(Conn::Plain(tcp));
        }
        let name = ServerName::try_from(host.clone())
            .map_err(|e| ConnectError::Tls(format!("bad server name {host}: {e}")))?;
        let stream = TlsConnector::from(tls.config_with_alpn(alpn))
            .connect(name, tcp)
            .await
            .map_err(|e| ConnectError::Tls(tls_error_text(&e, alpn)))?;
        Ok(Conn::Tls(Box::new(stream)))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(ConnectError::Timeout(timeout)),
    }
}

fn tls_error_text(e: &io::Error, alpn: &[&[u8]]) -> String {
    match e.get_ref() {
        Some(inner) => match inner.downcast_ref::<rustls::Error>() {
            Some(tls) => crate::capture::net::tls::handshake_error(tls, alpn),
            None => inner.to_string(),
        },
        None => e.to_string(),
    }
}
