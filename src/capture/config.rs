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
    /// JSON pointer to a sequence number in each event's or message's data (`--seq`).
    pub seq_pointer: Option<String>,
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
