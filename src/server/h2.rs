//! HTTP/2 on the embedded server: over TLS when the client chose `h2` by ALPN, and h2c with prior
//! knowledge on the plain port (a connection that starts with the HTTP/2 preface).
//!
//! The endpoints are the same as over HTTP/1.1 (hyper's HTTP/2 server on the same routes, with
//! RFC 8441 enabled so `/ws`, `/echo` and `/firehose/ws` answer an extended CONNECT). The
//! `/scenario/h2-*` faults need what hyper does not expose (connection SETTINGS chosen per
//! scenario, GOAWAY and `RST_STREAM` with a given code), so they are served with the `h2` crate. Since
//! SETTINGS are the server's first frame, the first request is decoded before the server answers:
//! the client's opening bytes are fed to a throw-away `h2` server ([`probe`]), then replayed to
//! the real one ([`Rewind`]).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use h2::Reason;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::mpsc;

use super::query::Query;
use super::state::State;

/// The client connection preface.
pub(super) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// How long the first request may take to arrive.
const PROBE_LIMIT: Duration = Duration::from_secs(10);
/// A client that went quiet this long after its preface waits for the server's SETTINGS before
/// its first request (Node's client, RFC 8441 clients): it gets the usual endpoints.
const PROBE_QUIET: Duration = Duration::from_millis(50);

/// Serves one HTTP/2 connection (TLS after ALPN `h2`, or h2c); `route` answers the usual
/// endpoints (the server's routing table, passed in so that this file does not reach back into it).
pub(super) async fn serve<S, R, F>(io: S, state: Arc<State>, route: R)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    R: Fn(http::Request<hyper::body::Incoming>, Arc<State>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = http::Response<super::body::Body>> + Send + 'static,
{
    let (seen, path, io) = tokio::select! {
        r = probe(io) => r,
        () = state.stopped() => return,
    };
    let io = Rewind {
        prefix: Bytes::from(seen),
        inner: io,
    };
    match path
        .as_deref()
        .and_then(|p| p.strip_prefix("/scenario/h2-"))
    {
        Some(rest) => scenario(io, rest, state).await,
        None => endpoints(io, state, route).await,
    }
}

/// The usual endpoints, through hyper's HTTP/2 server.
async fn endpoints<S, R, F>(io: S, state: Arc<State>, route: R)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    R: Fn(http::Request<hyper::body::Incoming>, Arc<State>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = http::Response<super::body::Body>> + Send + 'static,
{
    let service_state = Arc::clone(&state);
    let service = service_fn(move |req| {
        let state = Arc::clone(&service_state);
        let route = route.clone();
        async move { Ok::<_, Infallible>(route(req, state).await) }
    });
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder.enable_connect_protocol();
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::select! {
        _ = connection => {}
        () = state.stopped() => {}
    }
}

/// Reads the client's opening bytes until a throw-away `h2` server has decoded the first request:
/// the bytes read, the request's path and query (`None` when none came in time, or the client
/// waits for SETTINGS first), and the socket.
async fn probe<S: AsyncRead + Unpin>(mut io: S) -> (Vec<u8>, Option<String>, S) {
    let (mut feed, server_end) = tokio::io::duplex(1 << 16);
    let decode = async move {
        let mut conn = h2::server::handshake(server_end).await.ok()?;
        let (req, _) = conn.accept().await?.ok()?;
        Some(
            req.uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        )
    };
    tokio::pin!(decode);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        let mut quiet = None;
        loop {
            tokio::select! {
                path = &mut decode => return path,
                () = crate::capture::supervise::sleep_until_opt(quiet) => return None,
                n = io.read(&mut buf) => match n {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => {
                        quiet = Some(tokio::time::Instant::now() + PROBE_QUIET);
                        seen.extend_from_slice(&buf[..n]);
                        if feed.write_all(&buf[..n]).await.is_err() {
                            return None;
                        }
                    }
                },
            }
        }
    };
    let path = tokio::time::timeout(PROBE_LIMIT, read).await.ok().flatten();
    (seen, path, io)
}

/// A socket whose first reads return bytes already read from it.
struct Rewind<S> {
    prefix: Bytes,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        buf.put_slice(&this.prefix.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What a scenario's stream asks of its connection.
enum Command {
    /// Send GOAWAY with this code and close.
    GoAway(u32),
    /// Open the streams' flow-control windows again (`SETTINGS_INITIAL_WINDOW_SIZE` = 65535).
    OpenWindow,
}

/// The `/scenario/h2-*` faults (see docs/server.md): `goaway`, `rst`, `zero-window`, `one-stream`.
async fn scenario<S>(io: S, rest: &str, state: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (name, query) = (name.to_owned(), query.to_owned());
    let mut builder = h2::server::Builder::new();
    match name.as_str() {
        "one-stream" => {
            builder.max_concurrent_streams(1);
        }
        "zero-window" => {
            builder.initial_window_size(0);
        }
        _ => {}
    }
    let Ok(mut conn) = builder.handshake::<_, Bytes>(io).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    if name == "zero-window" {
        let hold = Duration::from_millis(number(&query, "hold_ms", 500));
        let tx = tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            let _ = tx.send(Command::OpenWindow);
        });
    }
    loop {
        tokio::select! {
            accepted = conn.accept() => match accepted {
                Some(Ok((req, respond))) => {
                    let (name, query, tx) = (name.clone(), query.clone(), tx.clone());
                    tokio::spawn(scenario_stream(name, query, req, respond, tx));
                }
                _ => return,
            },
            Some(cmd) = rx.recv() => match cmd {
                Command::GoAway(code) => conn.abrupt_shutdown(Reason::from(code)),
                Command::OpenWindow => {
                    let _ = conn.set_initial_window_size(65_535);
                }
            },
            () = state.stopped() => return,
        }
    }
}

/// One stream of a scenario: an event stream of `{"seq":i}` events, ended as the scenario says.
async fn scenario_stream(
    name: String,
    query: String,
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    connection: mpsc::UnboundedSender<Command>,
) {
    let count = number(&query, "count", 5);
    let after = number(&query, "after", 2);
    let code = u32::try_from(number(&query, "code", 0)).unwrap_or(u32::MAX);
    let interval = Duration::from_millis(number(&query, "interval_ms", 50).min(60_000));
    let known = matches!(
        name.as_str(),
        "goaway" | "rst" | "zero-window" | "one-stream"
    );
    let status = if known { 200 } else { 404 };
    let Ok(head) = http::Response::builder()
        .status(status)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(())
    else {
        return;
    };
    // The request body, read to the end: on `zero-window` it waits for the window to open.
    let body = read_body(req.into_body()).await;
    let Ok(mut send) = respond.send_response(head, !known) else {
        return;
    };
    if name == "zero-window" {
        let hello = format!(": received {body} request body bytes\n\n");
        let _ = send.send_data(Bytes::from(hello), false);
    }
    let last = match name.as_str() {
        "goaway" | "rst" => after,
        _ => count,
    };
    for seq in 0..last {
        tokio::time::sleep(interval).await;
        let event = format!("id: {seq}\ndata: {{\"seq\":{seq}}}\n\n");
        if send.send_data(Bytes::from(event), false).is_err() {
            return;
        }
    }
    tokio::time::sleep(interval).await;
    match name.as_str() {
        "goaway" => {
            let _ = connection.send(Command::GoAway(code));
            // Held open: dropping it would reset the stream (CANCEL) before the GOAWAY goes out.
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(send);
        }
        "rst" => send.send_reset(Reason::from(code)),
        _ => {
            let _ = send.send_data(Bytes::new(), true);
        }
    }
}

/// A whole-number query parameter, `default` when absent or not a number.
fn number(query: &str, name: &str, default: u64) -> u64 {
    Query::parse(Some(query))
        .number(name, 0, u64::MAX)
        .ok()
        .flatten()
        .unwrap_or(default)
}

/// Reads a request body to its end, handing the window back; the number of bytes.
async fn read_body(mut body: h2::RecvStream) -> usize {
    let mut n = 0;
    while let Some(Ok(chunk)) = body.data().await {
        n += chunk.len();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    n
}
