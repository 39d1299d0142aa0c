//! The HTTP exchange both clients start with: connect (or join the origin's shared HTTP/2
//! connection, see [`super::pool`]), offer HTTP/2 and HTTP/1.1 by ALPN per `--http*`, send the
//! request (HTTP/1.1: SSE on its own, [`super::wire_h1`], a WebSocket handshake through hyper,
//! whose upgrade gives the socket back; HTTP/2: `h2`, [`super::http2`]), get the response head,
//! and turn failures into one-line messages. Also reads the start of an error body, so an
//! inspector shows what the server said instead of a bare status.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::capture::backoff::parse_retry_after;
use crate::capture::body::Body;
use crate::capture::config::{HttpMode, StreamConfig};
use crate::capture::http2::{H2Attach, H2Conn};
use crate::capture::net::address::{host_port, is_tls};
use crate::capture::net::conn::{self, Conn, ConnectError};
use crate::capture::net::tap::{Tap, TapState};
use crate::capture::supervise::Failure;
use crate::record::time::Stamp;
use crate::record::{ConnFacts, Kind, SentRequest};

/// A response head plus what the `open` record needs.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The response (body not yet read).
    pub response: http::Response<Body>,
    /// When the attempt started.
    pub started: Stamp,
    /// Aborts the connection's task when dropped: hyper's (a WebSocket handshake over HTTP/1.1,
    /// which takes the socket back), or the HTTP/2 request body's sender. None for SSE over
    /// HTTP/1.1, whose body owns its connection.
    pub _conn_task: Option<AbortOnDrop>,
    /// The tap of the connection the response came on.
    pub tap: Arc<TapState>,
    /// Wire size of the response head, when the connection knows it apart from the tap's
    /// HTTP/1.1 head scan (HTTP/2: the HEADERS frames; SSE over HTTP/1.1: the parsed head, interim
    /// 1xx heads included).
    pub head_bytes: Option<u64>,
    /// HTTP version, connection and TLS facts.
    pub facts: ConnFacts,
    /// The HTTP/2 stream, when the response came on one.
    pub h2: Option<H2Attach>,
    /// Lints the exchange found (a stream limit, a flow-control stall), for the session to emit.
    pub lints: Vec<(&'static str, String)>,
    /// The request as sent, secrets not yet masked.
    pub sent: SentRequest,
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
    /// The HTTP/1.1 exchange failed (server closed, malformed head).
    Http(String),
    /// No response head within the connect timeout.
    Timeout(Duration),
    /// `--http2` on `wss`: the server speaks HTTP/2 but does not enable WebSocket over it.
    NoConnectProtocol,
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
            ExchangeError::NoConnectProtocol => f.write_str(
                "the server speaks HTTP/2 but does not enable WebSocket over it \
                 (no SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441): drop --http2 to use the \
                 HTTP/1.1 upgrade",
            ),
        }
    }
}

/// Which connection a request goes on.
enum Link {
    /// A new connection that speaks HTTP/1.1.
    H1(Conn),
    /// An HTTP/2 connection, new or shared.
    H2(Arc<H2Conn>),
}

/// Connects to `url`, or joins the origin's HTTP/2 connection: HTTP/2 when `--http*` allows it
/// and the server agrees by ALPN (h2c with prior knowledge on plain TCP).
async fn link(
    cfg: &StreamConfig,
    url: &url::Url,
    proxy: Option<&url::Url>,
) -> Result<Link, ExchangeError> {
    let alpn = cfg.http.alpn(cfg.proto());
    let may_h2 = if is_tls(url) {
        alpn.contains(&b"h2".as_slice())
    } else {
        cfg.http == HttpMode::PriorKnowledge
    };
    let connect = || async {
        conn::connect(url, &cfg.tls, cfg.connect_timeout, proxy, alpn)
            .await
            .map_err(ExchangeError::Connect)
    };
    if !may_h2 {
        return Ok(Link::H1(connect().await?));
    }
    let pool = &cfg.pool;
    let upgrade = |conn: Conn| async {
        if is_tls(url) && conn.alpn() != Some(b"h2".as_slice()) {
            return Ok(Link::H1(conn));
        }
        H2Conn::handshake(conn, pool.next_id(), pool.reads())
            .await
            .map(Link::H2)
            .map_err(ExchangeError::Http)
    };
    if !pool.shares() {
        return upgrade(connect().await?).await;
    }
    let (host, port) = host_port(url).map_err(|e| ExchangeError::Connect(ConnectError::Io(e)))?;
    let key = format!(
        "{}|{host}|{port}|{}",
        is_tls(url),
        proxy.map(url::Url::as_str).unwrap_or_default()
    );
    let slot = pool.slot(&key);
    // Held while connecting: a second stream of the origin waits to see whether this connection
    // speaks HTTP/2 and can be shared.
    let mut shared = slot.lock().await;
    if let Some(conn) = shared.upgrade().filter(|c| c.usable()) {
        drop(shared);
        // The server's SETTINGS (its stream limit) before a second stream: a request sent before
        // them may be refused (REFUSED_STREAM) where a browser's would wait its turn.
        conn.hub.settings_seen().await;
        return Ok(Link::H2(conn));
    }
    let link = upgrade(connect().await?).await?;
    if let Link::H2(conn) = &link {
        *shared = Arc::downgrade(conn);
    }
    Ok(link)
}

/// Connects to `url` (through the CONNECT `proxy`, if any), or joins the origin's HTTP/2
/// connection, and sends `request`, returning the response head. `upgrades`: a WebSocket
/// handshake, which on HTTP/2 becomes an extended CONNECT (RFC 8441) when the server allows it.
pub(crate) async fn exchange(
    cfg: &StreamConfig,
    url: &url::Url,
    proxy: Option<&url::Url>,
    tap: &Arc<TapState>,
    request: http::Request<Full<Bytes>>,
    upgrades: bool,
) -> Result<Opened, ExchangeError> {
    let started = Stamp::now();
    let deadline = tokio::time::Instant::now() + cfg.connect_timeout;
    let link = tokio::time::timeout_at(deadline, link(cfg, url, proxy))
        .await
        .map_err(|_| ExchangeError::Connect(ConnectError::Timeout(cfg.connect_timeout)))??;
    let conn = match link {
        Link::H1(conn) => conn,
        Link::H2(conn) => {
            let mut lints = Vec::new();
            let work = async {
                if upgrades {
                    wait_for_connect_protocol(&conn).await?;
                }
                crate::capture::http2::exchange(&conn, url, request, upgrades, &mut lints)
                    .await
                    .map_err(ExchangeError::Http)
            };
            let Ok(opened) = tokio::time::timeout_at(deadline, work).await else {
                let why = lints
                    .first()
                    .map(|(_, m)| format!(": {m}"))
                    .unwrap_or_default();
                return Err(ExchangeError::Http(format!(
                    "no response head within {}{why}",
                    humantime::format_duration(cfg.connect_timeout)
                )));
            };
            let opened = opened?;
            return Ok(Opened {
                response: opened.response,
                started,
                _conn_task: opened.body_task.map(AbortOnDrop),
                tap: conn.tap.clone(),
                head_bytes: Some(conn.hub.take_head_bytes(opened.attach.stream_id)),
                facts: opened.facts,
                h2: Some(opened.attach),
                lints,
                sent: opened.sent,
            });
        }
    };
    let facts = ConnFacts {
        http: "http/1.1".to_owned(),
        connection: None,
        shared: false,
        tls: conn.tls_facts(),
    };
    let sent = sent_h1(&request);
    tap.begin_connection();
    if !upgrades {
        let work = crate::capture::wire_h1::send(conn, tap, request);
        return match tokio::time::timeout_at(deadline, work).await {
            Ok(Ok((response, head_bytes))) => Ok(Opened {
                response,
                started,
                _conn_task: None,
                tap: tap.clone(),
                head_bytes: Some(head_bytes),
                facts,
                h2: None,
                lints: Vec::new(),
                sent,
            }),
            Ok(Err(e)) => Err(ExchangeError::Http(e)),
            Err(_) => Err(ExchangeError::Timeout(cfg.connect_timeout)),
        };
    }
    let io = TokioIo::new(Tap::new(conn, tap.clone()));
    let work = async {
        let (mut sender, connection) = http1::Builder::new()
            .handshake::<_, Full<Bytes>>(io)
            .await
            .map_err(|e| ExchangeError::Http(error_chain(&e)))?;
        let conn_task = AbortOnDrop(tokio::spawn(async move {
            let _ = connection.with_upgrades().await;
        }));
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| ExchangeError::Http(error_chain(&e)))?;
        Ok(Opened {
            response: response.map(Body::H1),
            started,
            _conn_task: Some(conn_task),
            tap: tap.clone(),
            head_bytes: None,
            facts,
            h2: None,
            lints: Vec::new(),
            sent,
        })
    };
    match tokio::time::timeout_at(deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(ExchangeError::Timeout(cfg.connect_timeout)),
    }
}

/// The request as sent on HTTP/1.1 (by streamscope for SSE, by hyper for a WebSocket handshake,
/// which frame it the same way): its headers with the framing of its body, such as the
/// `content-length` added to a body that has none.
fn sent_h1(request: &http::Request<Full<Bytes>>) -> SentRequest {
    SentRequest {
        method: request.method().as_str().to_owned(),
        headers: header_pairs(&crate::capture::wire_h1::framed(request).headers),
    }
}

/// WebSocket over HTTP/2 needs the server's `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441): waits
/// for the server's SETTINGS, then for `h2` to have applied them.
async fn wait_for_connect_protocol(conn: &H2Conn) -> Result<(), ExchangeError> {
    conn.hub.settings_seen().await;
    if !conn.hub.connect_protocol() {
        return Err(ExchangeError::NoConnectProtocol);
    }
    Ok(())
}

impl ExchangeError {
    /// The failure this is: a certificate problem will not fix itself; everything else might.
    pub(crate) fn failure(&self) -> Failure {
        let failure = Failure::retryable(self.to_string());
        if matches!(
            self,
            ExchangeError::Connect(ConnectError::Tls(_)) | ExchangeError::NoConnectProtocol
        ) {
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
pub(crate) async fn refusal(response: &mut http::Response<Body>, prefix: &str) -> Failure {
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
    let conn = Some(Box::new(opened.facts.clone()));
    let mut headers = header_pairs(opened.response.headers());
    let mut sent = opened.sent.clone();
    if !show_secrets {
        for (name, value) in headers.iter_mut().chain(sent.headers.iter_mut()) {
            *value = if name == ":path" {
                crate::capture::redact::display_target(value)
            } else {
                crate::capture::redact::header_value(name, value)
            };
        }
    }
    Kind::Open {
        status: opened.response.status().as_u16(),
        headers,
        handshake_ms: now.ms_since(opened.started),
        conn,
        compression_offered: compression.offered,
        compression: compression.agreed,
        request: Some(Box::new(sent)),
    }
}

/// Emits (and sends) the `open` record for a response whose head the tap has just read; returns
/// the read that delivered it.
pub(crate) fn emit_open(
    em: &mut crate::capture::emitter::Emitter,
    opened: &Opened,
    show_secrets: bool,
    compression: Compression,
) -> crate::capture::net::tap::ReadMark {
    let mark = opened.tap.last_read();
    let head = opened
        .head_bytes
        .or_else(|| opened.tap.head_bytes())
        .unwrap_or(0);
    em.open(
        mark,
        open_kind(opened, mark.stamp, show_secrets, compression),
        head,
    );
    for (rule, message) in &opened.lints {
        em.lint(mark.stamp, rule, message.clone());
    }
    if let Some(t) = opened.facts.tls.as_ref()
        && let Some(days) = t.cert_days_left.filter(|d| *d < CERT_WARN_DAYS)
    {
        em.lint(
            mark.stamp,
            "cert-expiring",
            format!(
                "the server's certificate ({}) expires in {days} days",
                t.cert_subject
            ),
        );
    }
    em.flush();
    mark
}

/// A certificate with fewer days left than this is a `cert-expiring` lint.
const CERT_WARN_DAYS: i64 = 14;

/// Reads up to `limit` bytes of an error response body (briefly), as lossy text on one line.
pub(crate) async fn body_start(body: &mut Body, limit: usize) -> String {
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
