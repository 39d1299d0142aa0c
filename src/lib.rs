//! streamscope: see, decode and measure live Server-Sent Events and WebSocket streams.
//!
//! Data flows one way: a connection task per stream (`sse::client`, `ws::client`) reads the socket,
//! feeds the bytes to a pure protocol parser (`sse::parser`, `ws::codec`), stamps the resulting
//! [`record::Record`]s with the time of the read, and sends them over one channel to a single
//! consumer: the JSON writer (`output`) or the dashboard's store. See `docs/architecture.md`.

pub mod app;
pub mod backoff;
pub mod cli;
pub mod clock;
pub mod control;
pub mod detect;
pub mod har;
pub mod http1;
pub mod matcher;
pub mod net;
pub mod output;
pub mod pipeline;
pub mod record;
pub mod record_parse;
pub mod recording;
pub mod redact;
pub mod replay;
pub mod replay_server;
pub mod run;
pub mod server;
pub mod sse;
pub mod store;
pub mod stream;
pub mod tui;
pub mod ws;
