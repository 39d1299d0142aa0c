//! What the user asks a connection to do. The dashboard (or the headless runner) owns one
//! [`tokio::sync::mpsc::UnboundedSender<Control>`] per stream; the connection task owns the
//! receiver. Records flow the other way, over the channel of [`crate::record::batch::RecordBatch`].

use crate::record::Payload;

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
