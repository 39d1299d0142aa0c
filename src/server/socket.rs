//! The upgraded socket every WebSocket endpoint works on, and the closing handshake they end with.

use std::time::Duration;

use futures_util::StreamExt as _;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;

use super::client_inflate::ClientInflate;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The upgraded socket every WebSocket endpoint works on: what the client sends, its compressed
/// messages inflated for tungstenite.
pub(super) type Socket = ClientInflate<TokioIo<Upgraded>>;

/// How long a closing handshake may take before the socket is simply dropped.
pub(super) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the closing handshake and waits (bounded) for the peer's reply.
pub(super) async fn close(mut ws: WebSocketStream<Socket>, code: CloseCode, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if ws.close(Some(frame)).await.is_ok() {
        drain(ws).await;
    }
}

/// Reads until the peer closes the TCP connection (or a timeout), so the closing handshake
/// completes: tungstenite flushes its queued close reply while reading.
pub(super) async fn drain(mut ws: WebSocketStream<Socket>) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}
