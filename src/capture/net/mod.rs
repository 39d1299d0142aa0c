//! Opening connections: TCP ([`conn`]), through an HTTP CONNECT proxy when one applies
//! ([`proxy`]), TLS ([`tls`]: rustls with the system's roots, `--cacert`, `--insecure`), what a URL
//! says about where to connect ([`address`]), and the [`tap::Tap`] that counts and stamps every read.
//!
//! Both clients (SSE and WebSocket) connect the same way, so timing and TLS errors read the same on
//! both protocols.

pub(crate) mod address;
pub(crate) mod cert;
pub(crate) mod conn;
pub(crate) mod frames;
pub(crate) mod proxy;
pub mod tap;
pub(crate) mod tls;
