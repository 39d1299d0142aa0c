//! Server-Sent Events: the spec parser (pure, fed bytes) and the client that drives it.

pub mod client;
pub mod parser;
