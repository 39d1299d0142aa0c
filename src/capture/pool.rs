//! The session's HTTP/2 connections, keyed by origin: the streams of one origin share one
//! connection, as a browser's do, unless `--no-share` gives each stream its own.
//!
//! The pool holds connections weakly: a connection lives as long as a stream uses it. Streams
//! that start together on one origin wait for the first one's connection to learn whether it
//! speaks HTTP/2 (and can be shared) before they open another, as browsers do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::capture::http2::H2Conn;

/// Connections by origin, and the numbers the session gives its connections and reads.
#[derive(Debug)]
pub struct Pool {
    share: bool,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Weak<H2Conn>>>>>,
    next_id: AtomicU64,
    /// Read numbers of every HTTP/2 connection (see `TapState::binary`).
    reads: Arc<AtomicU64>,
}

impl Pool {
    /// A pool; `share: false` (`--no-share`) opens one connection per stream.
    pub fn new(share: bool) -> Arc<Self> {
        Arc::new(Pool {
            share,
            slots: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            reads: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Streams of one origin share connections.
    pub(crate) fn shares(&self) -> bool {
        self.share
    }

    /// The number of the next connection.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The read counter HTTP/2 connections share.
    pub(crate) fn reads(&self) -> Arc<AtomicU64> {
        self.reads.clone()
    }

    /// The slot of `key` (an origin and the proxy that reaches it): lock it while connecting, so
    /// a second stream of the origin waits for the first one's connection.
    pub(crate) fn slot(&self, key: &str) -> Arc<tokio::sync::Mutex<Weak<H2Conn>>> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.entry(key.to_owned()).or_default().clone()
    }
}
