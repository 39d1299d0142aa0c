//! What the user asks a connection to do, and what the dashboard needs to know about each stream.
//!
//! The dashboard (or the headless runner) owns one [`tokio::sync::mpsc::UnboundedSender<Control>`]
//! per stream; the connection task owns the receiver. Records flow the other way, over one shared
//! channel of batches ([`RecordBatch`]).

use crate::record::{Payload, Proto, Record};

/// A request from the user to one connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Send a WebSocket message (text, or binary).
    Send(Payload),
    /// Send a WebSocket ping now.
    Ping,
    /// Drop the current connection and reconnect at once.
    ReconnectNow,
    /// Close gracefully (WebSocket closing handshake) and end the task.
    Shutdown,
}

/// Records that arrived together (usually from one socket read), sent over the channel as one unit
/// so a firehose costs one channel operation per read, not per record.
pub type RecordBatch = Vec<Record>;

/// What the dashboard shows about a stream before any record arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Index of the URL on the command line.
    pub index: usize,
    /// Protocol decided by the scheme.
    pub proto: Proto,
    /// The URL with credentials and secret-looking query values masked, for display.
    pub display_url: String,
    /// `--heartbeat` threshold in milliseconds, if set (gaps above it are highlighted).
    pub heartbeat_ms: Option<u64>,
    /// TLS verification is off (`--insecure`).
    pub insecure: bool,
}
