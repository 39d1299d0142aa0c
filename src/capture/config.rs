//! What a connection task is told once, before it starts: its URL and protocol ([`Target`]) and
//! every option that shapes its requests, reads and reconnects ([`StreamConfig`]).

use std::time::Duration;

use url::Url;

use crate::capture::net::tls::TlsSettings;
use crate::record::{Proto, StreamInfo};

/// Characters of the request line shown in a pane's header.
const REQUEST_SUMMARY_WIDTH: usize = 40;

/// A URL the user asked to watch, with its protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The parsed URL.
    pub url: Url,
    /// SSE or WebSocket.
    pub proto: Proto,
}

/// Which HTTP version to use, as curl's flags name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMode {
    /// SSE on `https`: offer `h2` and `http/1.1` by ALPN (as browsers and curl do); `http`:
    /// HTTP/1.1. WebSocket: the HTTP/1.1 upgrade.
    #[default]
    Auto,
    /// `--http1.1`: HTTP/1.1 only.
    Http1,
    /// `--http2`: as `Auto` for SSE; WebSocket over HTTP/2 (RFC 8441) on `wss` when the server
    /// negotiates `h2`.
    Http2,
    /// `--http2-prior-knowledge`: HTTP/2 without asking: h2c on `http`/`ws`, ALPN `h2` only on TLS.
    PriorKnowledge,
}

impl HttpMode {
    /// The ALPN protocols a TLS connection offers for `proto`, best first.
    pub(crate) fn alpn(self, proto: Proto) -> &'static [&'static [u8]] {
        const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];
        match (self, proto) {
            (HttpMode::Http1, _) | (HttpMode::Auto, Proto::Ws) => &[b"http/1.1"],
            (HttpMode::PriorKnowledge, _) => &[b"h2"],
            (HttpMode::Auto | HttpMode::Http2, _) => BOTH,
        }
    }
}

/// Everything a connection task needs to know, decided once from the command line.
#[expect(
    clippy::struct_excessive_bools,
    reason = "command-line switches are booleans, one per flag"
)]
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// Index of the URL on the command line.
    pub index: usize,
    /// The stream's name in the config file, when it was opened by name.
    pub name: Option<String>,
    /// URL and protocol.
    pub target: Target,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// TLS settings.
    pub tls: TlsSettings,
    /// The run's proxy settings: the HTTP CONNECT proxy for the URL, or for where a redirect
    /// leads, is `proxies.for_url(url)`.
    pub proxies: crate::capture::net::proxy::ProxySettings,
    /// SSE redirects followed per connection attempt (`--max-redirects`).
    pub max_redirects: u32,
    /// Show secrets (`--show-secrets`) instead of masking them in output.
    pub show_secrets: bool,
    /// Limit for TCP + TLS + response head.
    pub connect_timeout: Duration,
    /// Reconnect when the connection ends.
    pub reconnect: bool,
    /// Start the request again after an LLM end marker said the response is complete (only when
    /// the user asked for `--reconnect`: a repeated completion is paid for again).
    pub repeat_completed: bool,
    /// How LLM completion chunks are read (`--llm`).
    pub llm: crate::protocol::llm::Mode,
    /// Consecutive failed attempts allowed.
    pub max_retries: Option<u32>,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// Gap threshold.
    pub heartbeat: Option<Duration>,
    /// Stop after this many received events or messages.
    pub count: Option<u64>,
    /// SSE request method.
    pub method: String,
    /// SSE request body.
    pub body: Option<Vec<u8>>,
    /// SSE `Last-Event-ID` for the first connection.
    pub last_event_id: Option<String>,
    /// WebSocket subprotocols offered.
    pub subprotocols: Vec<String>,
    /// WebSocket text messages sent after each open.
    pub send: Vec<String>,
    /// WebSocket client ping interval.
    pub ping_interval: Option<Duration>,
    /// WebSocket maximum message size.
    pub max_message: usize,
    /// Fail a connection that has received nothing for this long.
    pub idle_timeout: Option<Duration>,
    /// WebSocket: answer server pings.
    pub auto_pong: bool,
    /// WebSocket: send every received data message back (`--echo`).
    pub echo: bool,
    /// WebSocket: how messages are decoded (`--decode`).
    pub decode: crate::protocol::decode::Choice,
    /// JSON pointer to a sequence number in each event's or message's data (`--seq`).
    pub seq_pointer: Option<String>,
    /// HTTP version (`--http1.1`, `--http2`, `--http2-prior-knowledge`).
    pub http: HttpMode,
    /// The session's HTTP/2 connections, shared by the streams of one origin (unless
    /// `--no-share`).
    pub pool: std::sync::Arc<crate::capture::pool::Pool>,
    /// WebSocket: the permessage-deflate offer sent (`--deflate-offer`, by default the browsers'
    /// offer; `None` with `--no-deflate`).
    pub deflate_offer: Option<String>,
    /// SSE: ask for a compressed body (`--compressed`).
    pub compressed: bool,
}

impl StreamConfig {
    /// The protocol of the stream.
    pub fn proto(&self) -> Proto {
        self.target.proto
    }

    /// TLS certificate verification is off.
    pub fn tls_insecure(&self) -> bool {
        self.tls.insecure()
    }

    /// What the dashboard shows about the stream before records arrive.
    pub fn info(&self) -> StreamInfo {
        StreamInfo {
            index: self.index,
            name: self.name.clone(),
            proto: self.proto(),
            display_url: crate::capture::redact::display_url(&self.target.url),
            heartbeat_ms: self.heartbeat.map(|d| d.as_millis() as u64),
            insecure: crate::capture::net::address::is_tls(&self.target.url) && self.tls_insecure(),
            request: match self.proto() {
                Proto::Ws => None,
                Proto::Sse | Proto::Jsonl => crate::protocol::llm::request_summary(
                    &self.method,
                    self.body.as_deref(),
                    REQUEST_SUMMARY_WIDTH,
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_offers_follow_curls_flags() {
        let h2_first: &[&[u8]] = &[b"h2", b"http/1.1"];
        assert_eq!(HttpMode::Auto.alpn(Proto::Sse), h2_first);
        // The WebSocket upgrade stays HTTP/1.1 unless asked.
        assert_eq!(HttpMode::Auto.alpn(Proto::Ws), [b"http/1.1".as_slice()]);
        assert_eq!(HttpMode::Http2.alpn(Proto::Ws), h2_first);
        assert_eq!(HttpMode::Http1.alpn(Proto::Sse), [b"http/1.1".as_slice()]);
        assert_eq!(HttpMode::PriorKnowledge.alpn(Proto::Ws), [b"h2".as_slice()]);
    }
}
