//! What the server's tasks share: its settings ([`ServerConfig`]) and the [`State`] every
//! connection holds (the feed clock's start, the address, the stop signal).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Settings of the embedded server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Interval of the demo feed on `/sse` and `/ws` (a request can override it with `interval_ms`).
    pub tick: Duration,
    /// Interval of `: heartbeat` comments on `/sse` and of server pings on `/ws`.
    pub heartbeat: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(250),
            heartbeat: Duration::from_secs(5),
        }
    }
}

/// What every task of one server shares.
pub(super) struct State {
    pub(super) config: ServerConfig,
    pub(super) start: Instant,
    pub(super) local_addr: SocketAddr,
    pub(super) stop: watch::Receiver<bool>,
    // Held only so that `ServerHandle::shutdown` can tell when the last task has let go.
    pub(super) _alive: mpsc::Sender<()>,
}

impl State {
    /// Resolves once the server is told to stop or its handle is dropped.
    pub(super) async fn stopped(&self) {
        let mut stop = self.stop.clone();
        // An error means the handle is gone, which also means stop.
        let _ = stop.wait_for(|stop| *stop).await;
    }
}
