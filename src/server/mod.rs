//! The embedded demo and test server behind `streamscope serve`.
//!
//! This module owns the listeners, the connection lifecycle (accept, serve, shut down) and the
//! routing table. One port serves everything over HTTP/1.1 with hyper, and HTTP/2 with prior
//! knowledge (h2c) on the same port; `serve --tls` adds a TLS port that offers HTTP/2 and
//! HTTP/1.1 by ALPN ([`tls`], [`h2`]). WebSocket endpoints are upgrades of the same connections
//! (RFC 8441 extended CONNECT on HTTP/2). Each endpoint family lives in its own file:
//!
//! - [`feed`]: the clock-driven demo feed shared by `/sse` and `/ws` (seq, price, timestamps);
//! - [`sse`]: `/sse`, `/chat` and `/inspect`, the Server-Sent Events endpoints;
//! - [`ws`]: the WebSocket handshake plus `/ws` and `/echo`; [`client_inflate`] reads what a client
//!   compresses for tungstenite;
//! - [`firehose`]: `/firehose/sse` and `/firehose/ws`, precomputed bulk streams;
//! - [`llm`]: `/llm/<format>/...`, mock LLM completions in each provider's wire format;
//! - [`plain`]: `/`, `/status/{code}` and the 404 reply;
//! - [`scenario`]: `/scenario/...`, fault injection with hand-written bytes (outside hyper);
//! - [`body`] and [`query`]: the response body type and query-string parsing they all use.
//!
//! See `docs/server.md` for what each endpoint sends.

mod apps;
mod body;
mod client_inflate;
mod feed;
mod firehose;
mod h2;
mod llm;
mod plain;
mod query;
pub mod replay;
mod scenario;
mod socket;
mod sse;
mod state;
mod tls;
mod ws;

pub use plain::endpoints;
pub use state::ServerConfig;
pub use tls::ServerTls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use body::Body;
use query::Query;
use state::State;

/// A bound but not yet running server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: ServerConfig,
    start: Instant,
    tls: Option<(TcpListener, SocketAddr, ServerTls)>,
}

impl Server {
    /// Binds the listener. Port 0 picks a free port; read it back with [`Server::local_addr`].
    pub async fn bind(addr: SocketAddr, config: ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            config: sanitize(config),
            // The feed clock starts here, so seq numbers are the same for every client.
            start: Instant::now(),
            tls: None,
        })
    }

    /// Adds a TLS listener on `addr` (port 0 picks a free one) serving the same endpoints over
    /// HTTP/2 or HTTP/1.1, as the client chooses by ALPN.
    pub async fn with_tls(mut self, addr: SocketAddr, tls: ServerTls) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        self.tls = Some((listener, local, tls));
        Ok(self)
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the TLS listener, with `--tls`.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(_, addr, _)| *addr)
    }

    /// Starts serving on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn spawn(self) -> ServerHandle {
        let tls_addr = self.tls_addr();
        let (stop_tx, stop_rx) = watch::channel(false);
        let (alive_tx, alive_rx) = mpsc::channel(1);
        let state = Arc::new(State {
            config: self.config,
            start: self.start,
            local_addr: self.local_addr,
            stop: stop_rx,
            _alive: alive_tx,
        });
        if let Some((listener, _, tls)) = self.tls {
            tokio::spawn(accept_tls(listener, tls, Arc::clone(&state)));
        }
        tokio::spawn(accept_loop(self.listener, state));
        ServerHandle {
            local_addr: self.local_addr,
            tls_addr,
            stop: stop_tx,
            alive: alive_rx,
        }
    }
}

/// Controls a running server. Dropping it stops the server as well (without waiting).
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    // Dropping this sender is itself the stop signal: every task waits on it.
    stop: watch::Sender<bool>,
    // Never receives a value; `recv` returns `None` once every task has dropped its `State`.
    alive: mpsc::Receiver<()>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the TLS listener, with `--tls`.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// Stops accepting, ends every open connection (streams are cut, not drained) and waits,
    /// at most a few seconds, until all of the server's tasks are gone.
    pub async fn shutdown(mut self) {
        // Ignoring the error: it only means no task is left to hear the signal.
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.alive.recv()).await;
    }
}

/// Zero intervals would make the feed clock divide by zero and the heartbeat spin.
fn sanitize(mut config: ServerConfig) -> ServerConfig {
    let min = Duration::from_millis(1);
    config.tick = config.tick.max(min);
    config.heartbeat = config.heartbeat.max(min);
    config
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = state.stopped() => return,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tokio::spawn(serve_connection(stream, Arc::clone(&state)));
            }
            // Per-connection failures (reset before accept, fd exhaustion): back off briefly
            // rather than spin, and keep serving.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Accepts TLS connections: HTTP/2 or HTTP/1.1 as ALPN decides.
async fn accept_tls(listener: TcpListener, tls: ServerTls, state: Arc<State>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = state.stopped() => return,
        };
        let Ok((stream, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (acceptor, state) = (acceptor.clone(), Arc::clone(&state));
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
            let Ok(Ok(tls)) = handshake.await else { return };
            if tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice()) {
                h2::serve(tls, state, route).await;
            } else {
                serve_http1(tls, state).await;
            }
        });
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    // Fault scenarios write bytes hyper would refuse to, so they bypass it (see `scenario`).
    let (is_scenario, is_h2c) = tokio::select! {
        is = scenario::is_scenario(&stream) => (is, !is && scenario::starts_with(&stream, h2::PREFACE).await),
        // A silent client must not keep a stopping server waiting.
        () = state.stopped() => return,
    };
    if is_scenario {
        scenario::serve(stream, state).await;
        return;
    }
    // Small writes (SSE events) should leave at once, not wait for Nagle.
    let _ = stream.set_nodelay(true);
    if is_h2c {
        h2::serve(stream, state, route).await;
        return;
    }
    serve_http1(stream, state).await;
}

/// HTTP/1.1 with hyper, upgrades (WebSocket) allowed.
async fn serve_http1<S>(stream: S, state: Arc<State>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service_state = Arc::clone(&state);
    let service = service_fn(move |req| {
        let state = Arc::clone(&service_state);
        async move { Ok::<_, Infallible>(route(req, state).await) }
    });
    let mut builder = http1::Builder::new();
    // The timer arms hyper's default header read timeout, so idle half-open sockets go away.
    builder.timer(TokioTimer::new());
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        // Connection errors (client hung up mid-stream) are normal for a streaming server.
        _ = connection => {}
        () = state.stopped() => {}
    }
}

/// Routes a request, and gzips an event stream for a client that accepts gzip.
async fn route(req: Request<Incoming>, state: Arc<State>) -> Response<Body> {
    let gzip = req
        .headers()
        .get_all(hyper::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(body::accepts_gzip);
    let response = endpoint(req, state).await;
    let is_event_stream = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if !(gzip && is_event_stream && response.status().is_success()) {
        return response;
    }
    let (mut parts, inner) = response.into_parts();
    parts.headers.insert(
        hyper::header::CONTENT_ENCODING,
        hyper::header::HeaderValue::from_static("gzip"),
    );
    parts.headers.insert(
        hyper::header::VARY,
        hyper::header::HeaderValue::from_static("accept-encoding"),
    );
    Response::from_parts(parts, body::gzip(inner))
}

async fn endpoint(req: Request<Incoming>, state: Arc<State>) -> Response<Body> {
    let query = Query::parse(req.uri().query());
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let get = method == Method::GET || method == Method::HEAD;
    // WebSocket: a GET upgrade, or on HTTP/2 an extended CONNECT (RFC 8441).
    let ws = get || ws::is_extended_connect(&req);
    match path.as_str() {
        "/" if get => plain::index(state.local_addr),
        "/sse" if get => sse::feed(&req, &query, state),
        "/ws" if ws => ws::upgrade(req, &query, state, ws::Endpoint::Feed),
        "/echo" if ws => ws::upgrade(req, &query, state, ws::Endpoint::Echo),
        "/firehose/ws" if ws => ws::upgrade(req, &query, state, ws::Endpoint::Firehose),
        "/firehose/sse" if get => firehose::sse(&query, state),
        "/socket.io/" | "/socket.io" if ws => {
            ws::upgrade(req, &query, state, ws::Endpoint::SocketIo)
        }
        "/graphql" if ws => ws::upgrade(req, &query, state, ws::Endpoint::Graphql),
        "/msgpack" if ws => ws::upgrade(req, &query, state, ws::Endpoint::MsgPack),
        "/cbor" if ws => ws::upgrade(req, &query, state, ws::Endpoint::Cbor),
        "/chat" if get || method == Method::POST => sse::chat(req, &query, state).await,
        "/inspect" => sse::inspect(req, state).await,
        _ if path.starts_with("/llm/") => match llm::format_of(&path) {
            Some(format) => llm::completion(req, format, &query, state).await,
            None => plain::not_found(&method, &path),
        },
        // Any method: a POST stream's redirects (307 keeps the POST, 303 turns it into a GET)
        // are tested against it.
        _ => match path.strip_prefix("/status/") {
            Some(code) => plain::status(code, &query),
            _ => plain::not_found(&method, &path),
        },
    }
}
