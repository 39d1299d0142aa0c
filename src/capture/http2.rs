//! HTTP/2 connections through the `h2` crate: the handshake over a tapped connection (h2 by ALPN,
//! or h2c with prior knowledge), requests on it (several streams may share one connection, see
//! [`super::pool`]), WebSocket over HTTP/2 (RFC 8441 extended CONNECT), PINGs for the round trip,
//! and the frames the tap saw turned into records.
//!
//! `h2` directly rather than hyper's HTTP/2 client: it gives PINGs and their answers
//! (`ping_pong`), the error codes of `RST_STREAM` and GOAWAY (`Error::reason`, `is_go_away`,
//! `is_reset`), the flow-control window under our control (`release_capacity`), and the
//! extended CONNECT, all of which an inspector shows; hyper hides them behind its own types.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;

use crate::capture::body::{Body, h2_error_text};
use crate::capture::emitter::Emitter;
use crate::capture::net::conn::Conn;
use crate::capture::net::frames::{FrameHub, FrameTap, SeenFrame};
use crate::capture::net::tap::{Tap, TapState};
use crate::record::{ConnFacts, Dir, H2Frame, Kind, SentRequest, TlsFacts};

/// Receive window per stream: a browser's order of magnitude (Chrome 6 MB, Firefox 12 MB), so a
/// fast stream is not throttled by `WINDOW_UPDATE` round trips.
const STREAM_WINDOW: u32 = 4 << 20;
/// Receive window of the connection (shared by its streams).
const CONNECTION_WINDOW: u32 = 8 << 20;
/// How long a request body may wait for flow-control window before a `lint` says so.
const STALL_AFTER: Duration = Duration::from_millis(200);

/// One HTTP/2 connection, shared by the streams that use it.
#[derive(Debug)]
pub(crate) struct H2Conn {
    /// Its number in the session.
    pub id: u64,
    send: h2::client::SendRequest<Bytes>,
    /// What the frame scanner saw.
    pub hub: Arc<FrameHub>,
    /// Its tap (reads numbered across the session's HTTP/2 connections).
    pub tap: Arc<TapState>,
    /// `h2` or `h2c`.
    pub http: &'static str,
    /// TLS facts of the handshake.
    pub tls: Option<TlsFacts>,
    ping: mpsc::UnboundedSender<()>,
    closed: Arc<AtomicBool>,
    /// The task driving the connection, and the one sending PINGs: both end with it.
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Drop for H2Conn {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A response head on an HTTP/2 stream.
#[derive(Debug)]
pub(crate) struct H2Opened {
    /// The response.
    pub response: http::Response<Body>,
    /// The stream's view of its connection.
    pub attach: H2Attach,
    /// Sends the request body as the window allows (abort when the attempt ends).
    pub body_task: Option<tokio::task::JoinHandle<()>>,
    /// HTTP version, connection and TLS facts for the `open` record.
    pub facts: ConnFacts,
    /// The request as sent: pseudo-headers, then the headers.
    pub sent: SentRequest,
}

/// A stream's view of the HTTP/2 connection its response came on.
#[derive(Debug)]
pub(crate) struct H2Attach {
    /// The connection.
    pub conn: Arc<H2Conn>,
    /// The HTTP/2 stream id of the request.
    pub stream_id: u32,
    /// Frames of the connection and of this stream.
    pub frames: mpsc::UnboundedReceiver<SeenFrame>,
    /// The request stream, for WebSocket over HTTP/2 (what the client sends).
    pub send: Option<h2::SendStream<Bytes>>,
}

impl H2Conn {
    /// The HTTP/2 handshake over `conn` (TLS with ALPN `h2`, or plain TCP with prior knowledge).
    pub(crate) async fn handshake(
        conn: Conn,
        id: u64,
        reads: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Arc<H2Conn>, String> {
        let tls = conn.tls_facts();
        let http = if tls.is_some() { "h2" } else { "h2c" };
        let hub = FrameHub::new();
        let tap = TapState::binary(reads);
        let io = Tap::with_hook(conn, tap.clone(), Box::new(FrameTap::new(hub.clone())));
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .enable_push(false)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| h2_error_text(&e))?;
        let ping_pong = connection.ping_pong();
        let closed = Arc::new(AtomicBool::new(false));
        let driver = {
            let (closed, hub) = (closed.clone(), hub.clone());
            tokio::spawn(async move {
                let _ = connection.await;
                closed.store(true, Ordering::Relaxed);
                hub.closed();
            })
        };
        let (ping, mut ping_rx) = mpsc::unbounded_channel::<()>();
        // One PING as the connection starts: its ACK gives the round trip, for SSE too.
        let _ = ping.send(());
        let pinger = tokio::spawn(async move {
            let Some(mut pp) = ping_pong else { return };
            // One PING at a time (h2 allows one user PING in flight); the tap times it.
            while ping_rx.recv().await.is_some() {
                if pp.ping(h2::Ping::opaque()).await.is_err() {
                    return;
                }
            }
        });
        Ok(Arc::new(H2Conn {
            id,
            send,
            hub,
            tap,
            http,
            tls,
            ping,
            closed,
            tasks: [driver, pinger],
        }))
    }

    /// Still open and not going away: a new stream may use it.
    pub(crate) fn usable(&self) -> bool {
        !self.closed.load(Ordering::Relaxed) && self.hub.goaway().is_none()
    }

    /// Sends a PING (the tap measures the round trip when its ACK comes).
    pub(crate) fn ping(&self) {
        let _ = self.ping.send(());
    }

    /// Sends `request` (its URI a path, a `Host` header as HTTP/1.1 has it) on this connection.
    async fn send(
        self: &Arc<Self>,
        request: http::Request<Full<Bytes>>,
        url: &url::Url,
        connect_protocol: bool,
    ) -> Result<
        (
            h2::client::ResponseFuture,
            H2Attach,
            Option<Bytes>,
            SentRequest,
        ),
        String,
    > {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        let method = if connect_protocol {
            http::Method::CONNECT
        } else {
            parts.method
        };
        let mut req = http::Request::builder()
            .method(method)
            .uri(absolute_uri(url, connect_protocol))
            .body(())
            .map_err(|e| format!("cannot build request: {e}"))?;
        for (name, value) in &parts.headers {
            // HTTP/2 has no connection-specific headers (RFC 9113 8.2.2); Host is :authority.
            let hop_by_hop = matches!(
                name.as_str(),
                "host"
                    | "connection"
                    | "keep-alive"
                    | "proxy-connection"
                    | "transfer-encoding"
                    | "upgrade"
            );
            // RFC 8441: no key (and no accept) on HTTP/2.
            let key = connect_protocol && name == "sec-websocket-key";
            if !hop_by_hop && !key {
                req.headers_mut().append(name, value.clone());
            }
        }
        if connect_protocol {
            req.extensions_mut()
                .insert(h2::ext::Protocol::from_static("websocket"));
        }
        let sent = sent_h2(&req, connect_protocol);
        let send = self
            .send
            .clone()
            .ready()
            .await
            .map_err(|e| h2_error_text(&e))?;
        let mut send = send;
        let end = body.is_empty() && !connect_protocol;
        let (response, tx) = send.send_request(req, end).map_err(|e| h2_error_text(&e))?;
        let stream_id = response.stream_id().as_u32();
        let frames = self.hub.subscribe(stream_id);
        let attach = H2Attach {
            conn: self.clone(),
            stream_id,
            frames,
            send: Some(tx),
        };
        Ok((response, attach, (!body.is_empty()).then_some(body), sent))
    }
}

/// The request as `h2` sends it: the pseudo-headers (`:protocol` for an extended CONNECT), then
/// the headers.
fn sent_h2(req: &http::Request<()>, connect_protocol: bool) -> SentRequest {
    let uri = req.uri();
    let mut headers = vec![
        (":method".to_owned(), req.method().as_str().to_owned()),
        (
            ":scheme".to_owned(),
            uri.scheme_str().unwrap_or("https").to_owned(),
        ),
        (
            ":authority".to_owned(),
            uri.authority().map(ToString::to_string).unwrap_or_default(),
        ),
        (
            ":path".to_owned(),
            uri.path_and_query()
                .map_or_else(|| "/".to_owned(), ToString::to_string),
        ),
    ];
    if connect_protocol {
        headers.push((":protocol".to_owned(), "websocket".to_owned()));
    }
    // As `http1::header_pairs` (which this module may not import: http1 imports it).
    headers.extend(req.headers().keys().map(|k| {
        let values: Vec<String> = req
            .headers()
            .get_all(k)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        (k.as_str().to_owned(), values.join(", "))
    }));
    SentRequest {
        method: req.method().as_str().to_owned(),
        headers,
    }
}

/// `https://host:port/path?query` for the request's pseudo-headers (`:scheme` is `https` for
/// `wss` too: RFC 8441 keeps the scheme of the connection).
fn absolute_uri(url: &url::Url, _connect: bool) -> String {
    let scheme = if crate::capture::net::address::is_tls(url) {
        "https"
    } else {
        "http"
    };
    format!(
        "{scheme}://{}{}",
        crate::capture::net::address::host_header(url),
        crate::capture::net::address::request_target(url)
    )
}

/// Sends `request` on `conn` and waits for the response head until `deadline`. For WebSocket
/// over HTTP/2 (`connect_protocol`), the request is an extended CONNECT and the request stream
/// stays open for what the client sends.
pub(crate) async fn exchange(
    conn: &Arc<H2Conn>,
    url: &url::Url,
    request: http::Request<Full<Bytes>>,
    connect_protocol: bool,
    lints: &mut Vec<(&'static str, String)>,
) -> Result<H2Opened, String> {
    let users_before = conn.hub.users();
    let (response, mut attach, body, sent) = conn.send(request, url, connect_protocol).await?;
    let limit = conn.hub.max_streams();
    if users_before >= limit as usize {
        lints.push((
            "h2-stream-limit",
            format!(
                "the server allows {limit} concurrent stream(s) on this HTTP/2 connection \
                 (SETTINGS_MAX_CONCURRENT_STREAMS) and {users_before} in use: this request waits \
                 for one to end, as a browser's would (--no-share gives each URL its own connection)"
            ),
        ));
    }
    let mut sender = None;
    if let Some(body) = body
        && let Some(tx) = attach.send.take()
    {
        sender = Some(tokio::spawn(send_body(tx, body)));
    }
    tokio::pin!(response);
    let mut stall_at = sender
        .is_some()
        .then(|| tokio::time::Instant::now() + STALL_AFTER);
    let response = loop {
        tokio::select! {
            r = &mut response => break r,
            () = async {
                match stall_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                stall_at = None;
                if conn.hub.initial_window() == 0 {
                    lints.push(("flow-control-stall", format!(
                        "the request body waits for flow-control window: the server's \
                         SETTINGS_INITIAL_WINDOW_SIZE is 0 and no WINDOW_UPDATE came within {} ms",
                        STALL_AFTER.as_millis()
                    )));
                }
            }
        }
    };
    let response = response.map_err(|e| h2_error_text(&e))?;
    let facts = ConnFacts {
        http: conn.http.to_owned(),
        connection: Some(conn.id),
        shared: conn.hub.users() > 1,
        tls: conn.tls.clone(),
    };
    Ok(H2Opened {
        response: response.map(Body::H2),
        attach,
        body_task: sender,
        facts,
        sent,
    })
}

/// Sends a request body as the flow-control window allows.
async fn send_body(mut tx: h2::SendStream<Bytes>, mut data: Bytes) {
    while !data.is_empty() {
        tx.reserve_capacity(data.len());
        let granted = std::future::poll_fn(|cx| tx.poll_capacity(cx)).await;
        let Some(Ok(n)) = granted else { return };
        let chunk = data.split_to(n.min(data.len()));
        if tx.send_data(chunk, data.is_empty()).is_err() {
            return;
        }
    }
}

/// A frame the tap saw, as a `frame` record on the stream (traffic fields, without changing the
/// stream's gaps or counts: frames are the connection's, not the stream's content).
pub(crate) fn emit_frame(em: &mut Emitter, conn: u64, seen: &SeenFrame) {
    let f = &seen.frame;
    let kind = Kind::Frame(Box::new(H2Frame {
        frame: f.type_name(),
        h2_stream: f.stream_id,
        flags: f.flags,
        connection: conn,
        detail: f.detail(),
        error_code: f.error_code(),
        rtt_ms: seen.rtt_ms,
    }));
    em.frame(seen.mark, seen.dir, kind, f.wire_bytes(), u64::from(f.len));
}

/// The DATA frames of the stream since the last summary, as one `frame` record: their count, the
/// body bytes they carried, and their cost (9-byte headers and padding) as `wire_bytes`. Nothing
/// when no DATA frame came.
pub(crate) fn emit_data_summary(em: &mut Emitter, conn: &H2Conn, stream_id: u32) {
    let d = conn.hub.take_data(stream_id);
    if d.frames == 0 {
        return;
    }
    let overhead = 9 * d.frames + d.padding;
    let body = d.bytes - d.padding;
    let kind = Kind::Frame(Box::new(H2Frame {
        frame: "DATA".to_owned(),
        h2_stream: stream_id,
        flags: 0,
        connection: conn.id,
        detail: format!(
            "{} DATA frames carried {body} body bytes with {overhead} bytes of frame headers and \
             padding",
            d.frames
        ),
        error_code: None,
        rtt_ms: None,
    }));
    let mark = conn.tap.last_read();
    em.frame(mark, Dir::In, kind, overhead, 0);
}

/// Why an HTTP/2 stream ended, when the connection says more than the body's error: the GOAWAY
/// the server sent.
pub(crate) fn goaway_reason(attach: &H2Attach) -> Option<String> {
    let g = attach.conn.hub.goaway()?;
    Some(format!("after the server's GOAWAY {}", g.detail()))
}

/// The byte stream of a WebSocket over HTTP/2 (RFC 8441): DATA frames of the CONNECT stream in
/// both directions, read and written as a socket so the WebSocket client decodes and encodes
/// frames exactly as it does after an HTTP/1.1 upgrade.
#[derive(Debug)]
pub(crate) struct H2Io {
    recv: h2::RecvStream,
    send: h2::SendStream<Bytes>,
    pending: Bytes,
    /// The connection, kept open while the WebSocket lives.
    conn: Arc<H2Conn>,
}

impl H2Io {
    /// The stream of `attach`'s CONNECT request, whose response body is `recv`.
    pub(crate) fn new(recv: h2::RecvStream, attach: &mut H2Attach) -> Option<H2Io> {
        Some(H2Io {
            recv,
            send: attach.send.take()?,
            pending: Bytes::new(),
            conn: attach.conn.clone(),
        })
    }

    /// The connection's tap.
    pub(crate) fn state(&self) -> &Arc<TapState> {
        &self.conn.tap
    }
}

fn io_error(e: &h2::Error) -> std::io::Error {
    let kind = if e.is_reset() || e.is_go_away() {
        std::io::ErrorKind::ConnectionReset
    } else {
        std::io::ErrorKind::Other
    };
    std::io::Error::new(kind, h2_error_text(e))
}

impl tokio::io::AsyncRead for H2Io {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        if this.pending.is_empty() {
            match this.recv.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.pending = data;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io_error(&e))),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for H2Io {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // The capacity left from an earlier grant is not announced again by `poll_capacity`.
        while this.send.capacity() == 0 {
            this.send.reserve_capacity(buf.len());
            match this.send.poll_capacity(cx) {
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io_error(&e))),
                Poll::Ready(None) => {
                    return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = this.send.capacity().min(buf.len());
        match this
            .send
            .send_data(Bytes::copy_from_slice(&buf[..n]), false)
        {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(e) => Poll::Ready(Err(io_error(&e))),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let _ = self.get_mut().send.send_data(Bytes::new(), true);
        std::task::Poll::Ready(Ok(()))
    }
}

/// A WebSocket's byte stream: the socket taken back after an HTTP/1.1 upgrade, or an HTTP/2
/// CONNECT stream.
#[derive(Debug)]
pub(crate) enum WsIo {
    /// HTTP/1.1 upgrade.
    H1(Tap<Conn>),
    /// RFC 8441.
    H2(Box<H2Io>),
}

impl WsIo {
    /// The tap of the connection.
    pub(crate) fn state(&self) -> &Arc<TapState> {
        match self {
            WsIo::H1(t) => t.state(),
            WsIo::H2(h) => h.state(),
        }
    }
}

impl tokio::io::AsyncRead for WsIo {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::H1(t) => std::pin::Pin::new(t).poll_read(cx, buf),
            WsIo::H2(h) => std::pin::Pin::new(h.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for WsIo {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WsIo::H1(t) => std::pin::Pin::new(t).poll_write(cx, buf),
            WsIo::H2(h) => std::pin::Pin::new(h.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::H1(t) => std::pin::Pin::new(t).poll_flush(cx),
            WsIo::H2(h) => std::pin::Pin::new(h.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::H1(t) => std::pin::Pin::new(t).poll_shutdown(cx),
            WsIo::H2(h) => std::pin::Pin::new(h.as_mut()).poll_shutdown(cx),
        }
    }
}
