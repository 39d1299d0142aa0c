//! What the decoders share: the [`Protocol`] names and the `invalid` reading of a message that
//! does not fit. A leaf of its own, so that the decoders and `decode`'s session import it
//! without importing each other.

use crate::record::decoded::Decoded;

/// A protocol a message can be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Engine.IO v4 / Socket.IO v5.
    SocketIo,
    /// GraphQL over WebSocket, either subprotocol (the messages say which).
    Graphql,
    /// STOMP 1.0-1.2 frames.
    Stomp,
    /// Phoenix channels (v2 arrays, v1 objects).
    Phoenix,
    /// JSON-RPC 2.0.
    JsonRpc,
    /// MessagePack binary messages.
    MsgPack,
    /// CBOR binary messages.
    Cbor,
}

/// A message the protocol cannot read: type `invalid` with the reason, so the user sees why.
pub(crate) fn invalid(protocol: &str, why: &str, len: usize) -> Decoded {
    Decoded::new(protocol, "invalid")
        .with("error", why)
        .with("bytes", len)
}
