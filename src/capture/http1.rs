//! The HTTP/1.1 exchange both clients start with: connect, send a request through hyper, get the
//! response head, and turn failures into one-line messages. Also reads the start of an error body,
//! so an inspector shows what the server said instead of a bare status.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::capture::backoff::parse_retry_after;
use crate::capture::config::StreamConfig;
use crate::capture::net::conn::{self, ConnectError};
use crate::capture::net::tap::{Tap, TapState};
use crate::capture::supervise::Failure;
use crate::record::Kind;
use crate::record::time::Stamp;

/// A response head plus what the `open` record needs.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The response (body not yet read).
    pub response: http::Response<Incoming>,
    /// When the attempt started.
    pub started: Stamp,
    /// Aborts hyper's connection task when dropped (SSE only; WebSocket takes the socket back).
    pub _conn_task: AbortOnDrop,
}

/// Aborts a spawned task when dropped, so a connection never outlives its attempt.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why the exchange failed before a response head arrived.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// TCP or TLS.
    Connect(ConnectError),
    /// hyper failed (server closed, malformed head).
    Http(String),
    /// No response head within the connect timeout.
    Timeout(Duration),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeError::Connect(e) => e.fmt(f),
            ExchangeError::Http(e) => write!(f, "HTTP exchange failed: {e}"),
            ExchangeError::Timeout(d) => write!(
                f,
                "no response head within {}",
                humantime::format_duration(*d)
            ),
        }
    }
}

/// Connects to `url` (through the CONNECT `proxy`, if any) and sends `request`, returning the
/// response head.
pub(crate) async fn exchange(
    cfg: &StreamConfig,
    url: &url::Url,
    proxy: Option<&url::Url>,
    tap: &Arc<TapState>,
    request: http::Request<Full<Bytes>>,
    upgrades: bool,
) -> Result<Opened, ExchangeError> {
    let started = Stamp::now();
    tap.begin_connection();
    let deadline = tokio::time::Instant::now() + cfg.connect_timeout;
    let conn = conn::connect(url, &cfg.tls, cfg.connect_timeout, proxy)
        .await
        .map_err(ExchangeError::Connect)?;
    let io = TokioIo::new(Tap::new(conn, tap.clone()));
    let work = async {
        let (mut sender, connection) = http1::Builder::new()
            .handshake::<_, Full<Bytes>>(io)
            .await
            .map_err(|e| ExchangeError::Http(error_chain(&e)))?;
        let conn_task = if upgrades {
            AbortOnDrop(tokio::spawn(async move {
                let _ = connection.with_upgrades().await;
            }))
        } else {
            AbortOnDrop(tokio::spawn(async move {
                let _ = connection.await;
            }))
        };
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| ExchangeError::Http(error_chain(&e)))?;
        Ok(Opened {
            response,
            started,
            _conn_task: conn_task,
        })
    };
    match tokio::time::timeout_at(deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(ExchangeError::Timeout(cfg.connect_timeout)),
    }
}

impl ExchangeError {
    /// The failure this is: a certificate problem will not fix itself; everything else might.
    pub(crate) fn failure(&self) -> Failure {
        let failure = Failure::retryable(self.to_string());
        if matches!(self, ExchangeError::Connect(ConnectError::Tls(_))) {
            Failure {
                retry: false,
                ..failure
            }
        } else {
            failure
        }
    }
}

/// Statuses that ask the client to come back later (429, 502, 503, 504): the one rule both
/// clients retry by. Any other refusal fails the stream.
pub(crate) fn retry_status(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// A response that refuses the stream, as a failure: `{prefix}HTTP 503 Service Unavailable:
/// <start of the body>`, retried per [`retry_status`] after the server's `Retry-After`.
pub(crate) async fn refusal(response: &mut http::Response<Incoming>, prefix: &str) -> Failure {
    let status = response.status();
    let body = body_start(response.body_mut(), 256).await;
    let mut failure = Failure::fatal(format!("{prefix}{}", status_message(status, &body)))
        .status(status.as_u16());
    failure.retry = retry_status(status);
    failure.retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    failure
}

/// `error: cause: cause` in one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    s
}

/// Response headers as (lower-case name, value) pairs in arrival order; a repeated header is
/// one pair with its values joined by `, ` (so JSON objects never have duplicate keys).
pub(crate) fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .keys()
        .map(|k| {
            let values: Vec<String> = headers
                .get_all(k)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            (k.as_str().to_owned(), values.join(", "))
        })
        .collect()
}

/// What an `open` record says about compression: what was offered, and what is in use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Compression {
    /// The `Sec-WebSocket-Extensions` or `Accept-Encoding` value sent, if any.
    pub offered: Option<String>,
    /// The agreed extension or the content coding being decoded, if any.
    pub agreed: Option<String>,
}

/// The `open` record for a response; secret header values are masked unless `show_secrets`.
pub(crate) fn open_kind(
    opened: &Opened,
    now: Stamp,
    show_secrets: bool,
    compression: Compression,
) -> Kind {
    let mut headers = header_pairs(opened.response.headers());
    if !show_secrets {
        for (name, value) in &mut headers {
            *value = crate::capture::redact::header_value(name, value);
        }
    }
    Kind::Open {
        status: opened.response.status().as_u16(),
        headers,
        handshake_ms: now.ms_since(opened.started),
        compression_offered: compression.offered,
        compression: compression.agreed,
    }
}

/// Emits (and sends) the `open` record for a response whose head the tap has just read; returns
/// the read that delivered it.
pub(crate) fn emit_open(
    em: &mut crate::capture::emitter::Emitter,
    tap: &TapState,
    opened: &Opened,
    show_secrets: bool,
    compression: Compression,
) -> crate::capture::net::tap::ReadMark {
    let mark = tap.last_read();
    let head = tap.head_bytes().unwrap_or(0);
    em.open(
        mark,
        open_kind(opened, mark.stamp, show_secrets, compression),
        head,
    );
    em.flush();
    mark
}

/// Reads up to `limit` bytes of an error response body (briefly), as lossy text on one line.
pub(crate) async fn body_start(body: &mut Incoming, limit: usize) -> String {
    let mut buf = Vec::new();
    let read = async {
        while buf.len() < limit {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(d) = frame.data_ref() {
                        buf.extend_from_slice(d);
                    }
                }
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), read).await;
    buf.truncate(limit);
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `HTTP 503 Service Unavailable: <body start>`.
pub(crate) fn status_message(status: http::StatusCode, body: &str) -> String {
    let mut m = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_owned();
    if !body.is_empty() {
        m.push_str(": ");
        m.push_str(body);
    }
    m
}

/// Adds the user's headers, keeping the ones the protocol must control.
pub(crate) fn add_user_headers(
    mut builder: http::request::Builder,
    headers: &[(String, String)],
    reserved: &[&str],
) -> http::request::Builder {
    for (name, value) in headers {
        if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            continue;
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
}
