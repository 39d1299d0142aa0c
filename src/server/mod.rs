//! The embedded demo and test server behind `streamscope serve`.
//!
//! This module owns the listener, the connection lifecycle (accept, serve, shut down) and the
//! routing table. One port serves everything over HTTP/1.1 with hyper; WebSocket endpoints are
//! upgrades of the same connections. Each endpoint family lives in its own file:
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

mod body;
mod client_inflate;
mod feed;
mod firehose;
mod llm;
mod plain;
mod query;
pub mod replay;
mod scenario;
mod socket;
mod sse;
mod state;
mod ws;

pub use plain::endpoints;
pub use state::ServerConfig;

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
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts serving on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Panics when called outside a tokio runtime.
    pub fn spawn(self) -> ServerHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (alive_tx, alive_rx) = mpsc::channel(1);
        let state = Arc::new(State {
            config: self.config,
            start: self.start,
            local_addr: self.local_addr,
            stop: stop_rx,
            _alive: alive_tx,
        });
        tokio::spawn(accept_loop(self.listener, state));
        ServerHandle {
            local_addr: self.local_addr,
            stop: stop_tx,
            alive: alive_rx,
        }
    }
}

/// Controls a running server. Dropping it stops the server as well (without waiting).
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
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

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    // Fault scenarios write bytes hyper would refuse to, so they bypass it (see `scenario`).
    let is_scenario = tokio::select! {
        is = scenario::is_scenario(&stream) => is,
        // A silent client must not keep a stopping server waiting.
        () = state.stopped() => return,
    };
    if is_scenario {
        scenario::serve(stream, state).await;
        return;
    }
    // Small writes (SSE events) should leave at once, not wait for Nagle.
    let _ = stream.set_nodelay(true);
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
    match path.as_str() {
        "/" if get => plain::index(state.local_addr),
        "/sse" if get => sse::feed(&req, &query, state),
        "/ws" if get => ws::upgrade(req, &query, state, ws::Endpoint::Feed),
        "/echo" if get => ws::upgrade(req, &query, state, ws::Endpoint::Echo),
        "/firehose/ws" if get => ws::upgrade(req, &query, state, ws::Endpoint::Firehose),
        "/firehose/sse" if get => firehose::sse(&query, state),
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
