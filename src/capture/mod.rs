//! Live connections, one task per stream: TCP and TLS ([`net`]), the tap that counts and stamps
//! every read ([`net::tap`]), the HTTP exchange both clients start with ([`http1`]; SSE over
//! HTTP/1.1 on its own, [`wire_h1`]), the SSE and
//! WebSocket clients ([`sse`], [`ws`]), the reconnect policy ([`supervise`], [`backoff`]), and the
//! [`emitter::Emitter`] that turns what they decode into stamped records.

pub(crate) mod backoff;
pub(crate) mod body;
pub(crate) mod config;
pub mod control;
pub(crate) mod detect;
pub mod emitter;
pub(crate) mod http1;
pub(crate) mod http2;
pub mod llm;
pub mod net;
pub mod pool;
pub(crate) mod redact;
pub(crate) mod spawn;
pub(crate) mod sse;
pub(crate) mod supervise;
pub(crate) mod wire_h1;
pub(crate) mod ws;
