//! WebSocket: the frame codec (pure, fed bytes) and the client that drives it.

pub mod client;
pub mod codec;
