//! streamscope: see, decode and measure live Server-Sent Events and WebSocket streams.
//!
//! Data flows one way, and so do the modules' dependencies (each uses only those listed before it;
//! `tests/layering.rs` checks it):
//!
//! - [`record`]: the one [`record::Record`] type every source sends and every sink takes, its JSON
//!   form (writer and reader), time stamps, and the batches records travel in;
//! - [`protocol`]: the pure parsers, fed bytes: the SSE event stream and WebSocket frames;
//! - [`capture`]: live connections: TCP/TLS, the counting tap, the HTTP exchange, the SSE and
//!   WebSocket clients, each task stamping records with the read that delivered them;
//! - [`ingest`]: between sources and consumer: `--match` pairing, `--record`, `--har`, JSON lines;
//! - [`replay`]: recordings and HAR files as a second source, with their original timing;
//! - [`store`]: the dashboard's one owner of state and the statistics computed at ingest;
//! - [`server`]: the embedded demo, test and replay server;
//! - [`tui`]: the dashboard;
//! - [`app`]: the command line and the modes behind it.
//!
//! See `docs/architecture.md`.

pub mod app;
pub mod capture;
pub mod ingest;
pub mod protocol;
pub mod record;
pub mod replay;
pub mod server;
pub mod store;
// Record and stream builders for the unit tests (tests/support is the integration tests' kit).
#[cfg(test)]
pub(crate) mod testkit;
pub mod tui;
