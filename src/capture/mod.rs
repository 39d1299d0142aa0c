//! Live connections, one task per stream: TCP and TLS ([`net`]), the tap that counts and stamps
//! every read ([`net::tap`]), the HTTP exchange both clients start with ([`http1`]), the SSE and
//! WebSocket clients ([`sse`], [`ws`]), the reconnect policy ([`supervise`], [`backoff`]), and the
//! [`emitter::Emitter`] that turns what they decode into stamped records.

pub mod backoff;
pub mod config;
pub mod control;
pub mod detect;
pub mod emitter;
pub mod http1;
pub mod net;
pub mod redact;
pub mod spawn;
pub mod sse;
pub mod supervise;
pub mod ws;
