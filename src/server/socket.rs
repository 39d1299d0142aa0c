//! The upgraded socket every WebSocket endpoint works on, the [`Sender`] of their data messages
//! (compressed when agreed), and the closing handshake they end with.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::AsyncWriteExt as _;
use tokio_tungstenite::tungstenite::Message;

use crate::protocol::deflate::Deflater;
use crate::protocol::ws::{RSV1, encode_frame};
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

/// Sends data messages: through tungstenite, or, on a compressed connection, compressed and framed
/// here and written to the socket under it (whole frames, so tungstenite's own writes, pongs and
/// the close, still fall between frames).
pub(super) struct Sender {
    /// Compresses the data messages when permessage-deflate was agreed.
    pub(super) deflater: Option<Deflater>,
}

impl Sender {
    pub(super) async fn send(
        &mut self,
        ws: &mut WebSocketStream<Socket>,
        message: Message,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let Some(deflater) = self.deflater.as_mut() else {
            return ws.send(message).await;
        };
        let (opcode, data) = match &message {
            Message::Text(t) => (0x1, t.as_bytes()),
            Message::Binary(b) => (0x2, &b[..]),
            _ => return ws.send(message).await,
        };
        let compressed = deflater.compress(data, false);
        let mut frame = Vec::with_capacity(compressed.len() + 10);
        encode_frame(&mut frame, true, RSV1, opcode, None, &compressed);
        // Anything tungstenite queued (a pong) goes first, then our frame, whole.
        ws.flush().await?;
        let socket = ws.get_mut();
        socket.write_all(&frame).await?;
        socket.flush().await?;
        Ok(())
    }
}
