//! The one record type that flows from every source (live SSE, live WebSocket, replay) to every sink
//! (`--json`, the dashboard's store, recordings).
//!
//! A [`Record`] is stamped by the connection task the moment the socket read that completed it
//! returned, so a slow consumer never shifts `ts` or `gap_ms`. Its JSON line is written by [`json`]
//! and read back by [`parse`]; [`kinds`] is the one table of the kinds (name, index, fields) that
//! both follow; [`time`] owns the clocks and the timestamp format, [`batch`] the way records travel
//! to the consumer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub mod batch;
pub mod decoded;
pub mod json;
pub mod kinds;
pub mod parse;
pub mod schema;
pub mod text;
pub mod time;

pub use text::Text;

#[cfg(test)]
mod samples;

/// Which protocol a stream speaks: decided by the URL scheme, and for `http(s)://` by the
/// response's Content-Type (an event stream, or streamed JSON lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// Server-Sent Events over `http://` or `https://`.
    Sse,
    /// WebSocket over `ws://` or `wss://`.
    Ws,
    /// An HTTP body of JSON texts, one per line (`application/x-ndjson`, `application/jsonl`) or
    /// in an RFC 7464 sequence (`application/json-seq`): each text is an `event` record.
    Jsonl,
}

impl Proto {
    /// The lower-case name used in JSON and on screen.
    pub const fn as_str(self) -> &'static str {
        match self {
            Proto::Sse => "sse",
            Proto::Ws => "ws",
            Proto::Jsonl => "jsonl",
        }
    }
}

/// Direction of traffic: `In` from the server, `Out` for what streamscope sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Received from the server.
    In,
    /// Sent by streamscope.
    Out,
}

impl Dir {
    /// `"in"` or `"out"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
}

/// An SSE event type for a [`Kind::Event`]: the default `message` static (no allocation, as the
/// parser produces it), any other name copied.
pub fn event_type(name: &str) -> Text {
    if name == "message" {
        Text::from_static("message")
    } else {
        Text::from(name)
    }
}

/// Who started a WebSocket close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The server sent the Close frame.
    Server,
    /// streamscope sent the Close frame.
    Client,
}

impl Side {
    /// `"server"` or `"client"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Client => "client",
        }
    }
}

/// A payload that may or may not be text. Both sides share their bytes (see [`Text`]): the
/// WebSocket decoder hands out slices of one arena per read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Valid UTF-8.
    Text(Text),
    /// Anything else, shown as base64 in JSON and hex on screen.
    Binary(bytes::Bytes),
}

impl Payload {
    /// Text when the bytes are UTF-8, binary otherwise (ping and pong payloads); a copy.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(s) => Payload::Text(Text::from(s)),
            Err(_) => Payload::Binary(bytes::Bytes::copy_from_slice(bytes)),
        }
    }

    /// A copy in its own allocation, for a record kept for long (see [`Text::detached`]).
    #[must_use]
    pub fn detached(&self) -> Payload {
        match self {
            Payload::Text(t) => Payload::Text(t.detached()),
            Payload::Binary(b) => Payload::Binary(bytes::Bytes::copy_from_slice(b)),
        }
    }

    /// Length of the decoded payload in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Text(s) => s.len(),
            Payload::Binary(b) => b.len(),
        }
    }

    /// True when the payload has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Payload::Text(s) => s.as_bytes(),
            Payload::Binary(b) => b,
        }
    }
}

/// WebSocket data message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOpcode {
    /// Opcode 0x1.
    Text,
    /// Opcode 0x2.
    Binary,
}

impl DataOpcode {
    /// `"text"` or `"binary"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DataOpcode::Text => "text",
            DataOpcode::Binary => "binary",
        }
    }
}

/// What happened; one variant per JSON `kind`, each described in [`kinds::KINDS`].
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Connection established: HTTP response head received (200 for SSE, 101 for WebSocket).
    Open {
        /// HTTP status code.
        status: u16,
        /// Response headers, names lower-case, in arrival order.
        headers: Vec<(String, String)>,
        /// From the start of the connection attempt (DNS, TCP, TLS, request) to the response head.
        handshake_ms: f64,
        /// How the connection was made (HTTP version, sharing, TLS); `None` when not known (a
        /// HAR import, an older recording).
        conn: Option<Box<ConnFacts>>,
        /// What streamscope offered to compress: the `Sec-WebSocket-Extensions` (WebSocket) or
        /// `Accept-Encoding` (SSE, `--compressed`) value it sent; `None` when it offered nothing.
        compression_offered: Option<String>,
        /// The compression in use: the extension the server agreed to, parameters included
        /// (WebSocket), or the `Content-Encoding` being decoded (SSE); `None` for none.
        compression: Option<String>,
        /// The request streamscope sent; `None` when not known (a HAR import, an older recording).
        request: Option<Box<SentRequest>>,
    },
    /// A dispatched SSE event, or one JSON text of a streamed JSON body ([`Proto::Jsonl`]).
    Event {
        /// Event type, `message` when the server named none. Static in that case, and shared
        /// between the events of a read otherwise, so an event type costs no allocation.
        event: Text,
        /// The data buffer, lines joined with `\n` (a slice of the read's arena, when live).
        data: Text,
        /// The last event id after this event, `None` when empty (shared by the events that
        /// repeat it).
        id: Option<Text>,
        /// A valid `retry:` value seen in this event's block, in milliseconds.
        retry: Option<u64>,
    },
    /// An SSE comment line (text after the colon, one leading space stripped).
    Comment {
        /// The comment text.
        text: Text,
    },
    /// A whole WebSocket data message.
    Message {
        /// Text or binary.
        opcode: DataOpcode,
        /// The assembled payload.
        data: Payload,
        /// How many frames it came in.
        frames: u32,
        /// RSV1 set on its first frame (permessage-deflate).
        compressed: bool,
        /// What its application protocol says it means (`--decode`), `None` when not decoded.
        decoded: Option<Box<decoded::Decoded>>,
    },
    /// A WebSocket ping.
    Ping {
        /// Ping payload.
        data: Payload,
    },
    /// A WebSocket pong.
    Pong {
        /// Pong payload.
        data: Payload,
        /// Round trip time when this pong answers one of our pings.
        rtt_ms: Option<f64>,
    },
    /// A WebSocket Close frame.
    Close {
        /// Status code, `None` when the frame had no body.
        code: Option<u16>,
        /// Close reason.
        reason: String,
        /// Who started the closing handshake.
        by: Side,
    },
    /// A reconnect has been scheduled.
    Reconnect {
        /// 1 for the first retry after a connection ended, counting up until one succeeds.
        attempt: u32,
        /// How long streamscope waits before the attempt.
        delay_ms: u64,
        /// The `Last-Event-ID` that will be sent (SSE).
        last_event_id: Option<String>,
        /// Why the previous connection ended: the close code, HTTP status, reset, idle timeout…
        reason: String,
        /// The SSE `retry:` time (ms) the delay was based on, `None` when the server sent none,
        /// `Retry-After` took precedence, or the stream is WebSocket.
        retry_ms: Option<u64>,
    },
    /// The sequence numbers of received events or messages (numeric SSE ids, or `--seq`) skipped
    /// or went back: records were lost or repeated, typically across a reconnect.
    IdGap {
        /// The sequence number that should have come next.
        expected: u64,
        /// The one that came.
        got: u64,
        /// How many were skipped (`got - expected`), 0 when it went back.
        missing: u64,
        /// How many came again (`expected - got`), 0 when it skipped ahead.
        repeated: u64,
        /// Sequence gaps seen on this stream so far, this one included.
        count: u64,
    },
    /// Input that is legal but suspicious, or breaks the spec without breaking the stream.
    Lint {
        /// Short kebab-case rule id (`mixed-line-endings`, `buffered-burst`, …). Owned, not
        /// `&'static`, so a replayed record can carry a rule this build does not know.
        rule: String,
        /// What was seen, for a human.
        message: String,
    },
    /// The stream has been silent for longer than `--heartbeat`.
    Gap {
        /// Silence so far when the gap was raised.
        gap_ms: f64,
        /// The configured threshold.
        threshold_ms: f64,
    },
    /// Something went wrong: bad input from the server, a refused connection, an HTTP error.
    Error {
        /// Human readable description.
        message: String,
        /// HTTP status when the server answered with one.
        status: Option<u16>,
        /// WebSocket close code the protocol requires for this error.
        close_code: Option<u16>,
    },
    /// The stream is finished: no more records will come from it.
    End {
        /// Why: `count reached`, `duration elapsed`, `server closed`, `failed`, `shutdown`.
        reason: String,
        /// The stream failed (streamscope exits 1 when any stream failed).
        failed: bool,
    },
    /// `--match`: the same key was delivered on both streams; `stream` is the one that delivered
    /// it second (the moment the pair became known).
    Match {
        /// The key taken from the records' data.
        key: String,
        /// The stream that delivered first, `None` for a tie (same microsecond).
        first: Option<usize>,
        /// How much earlier `first` delivered it.
        lead_ms: f64,
    },
    /// `--match`: the session's pairing figures, once, after every stream has ended.
    MatchSummary(MatchSummary),
    /// An HTTP/2 frame other than DATA and HEADERS (SETTINGS, PING, GOAWAY, `RST_STREAM`,
    /// `WINDOW_UPDATE`, ...), or the DATA frames of one HTTP/2 stream summed up when it ends.
    Frame(Box<H2Frame>),
    /// An LLM completion ended (end marker, body closed, connection lost or stopped): its timing,
    /// tokens and answer, emitted by the connection task just before the stream's next `reconnect`
    /// or its `end`.
    LlmSummary(Box<LlmSummary>),
}

/// The request behind an `open` record, as streamscope sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SentRequest {
    /// `GET`, `POST`…; `CONNECT` for WebSocket over HTTP/2 (RFC 8441).
    pub method: String,
    /// The headers sent, names lower-case, in the order sent (a repeated one joined by `, `); on
    /// HTTP/2 the pseudo-headers first (`:method`, `:scheme`, `:authority`, `:path`, and
    /// `:protocol` for WebSocket). Secret values and query values are masked unless
    /// `--show-secrets`.
    pub headers: Vec<(String, String)>,
}

/// How the connection behind an `open` record was made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnFacts {
    /// `http/1.1`, `h2` (HTTP/2 over TLS) or `h2c` (HTTP/2 over plain TCP).
    pub http: String,
    /// The HTTP/2 connection's number in the session (streams that share one have the same).
    pub connection: Option<u64>,
    /// Another stream of the session uses the same connection.
    pub shared: bool,
    /// TLS facts, for `https`/`wss`.
    pub tls: Option<TlsFacts>,
}

/// What the TLS handshake settled and the server's certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFacts {
    /// `TLSv1.3`.
    pub version: String,
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The ALPN protocol the server chose, `None` when it chose none.
    pub alpn: Option<String>,
    /// The certificate's subject (`CN=…, O=…`).
    pub cert_subject: String,
    /// The certificate's issuer.
    pub cert_issuer: String,
    /// Its subjectAltName DNS names and IP addresses, joined with `, `.
    pub cert_names: String,
    /// End of validity, microseconds since the Unix epoch.
    pub cert_not_after_us: Option<i64>,
    /// Whole days from the handshake to the end of validity (negative once expired).
    pub cert_days_left: Option<i64>,
}

/// One HTTP/2 frame, or the summed DATA frames of an HTTP/2 stream.
#[derive(Debug, Clone, PartialEq)]
pub struct H2Frame {
    /// The frame type: `SETTINGS`, `PING`, `GOAWAY`, ... (`DATA` for the summary).
    pub frame: String,
    /// The HTTP/2 stream id (0: the connection).
    pub h2_stream: u32,
    /// The flags byte.
    pub flags: u8,
    /// The connection's number in the session (as in the `open` record).
    pub connection: u64,
    /// What the payload says (`MAX_CONCURRENT_STREAMS=100`, `increment 65535`, `ACK`).
    pub detail: String,
    /// GOAWAY and `RST_STREAM`: the error code.
    pub error_code: Option<u32>,
    /// PING ACK answering our PING: the round trip.
    pub rtt_ms: Option<f64>,
}

/// Where an `llm_summary`'s output token count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokensSource {
    /// The provider's own count (`usage`, `usageMetadata`, `eval_count`).
    Usage,
    /// No usage was sent: the number of chunks that carried output.
    #[default]
    Chunks,
}

impl TokensSource {
    /// `"usage"` or `"chunks"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokensSource::Usage => "usage",
            TokensSource::Chunks => "chunks",
        }
    }
}

/// The figures of an `llm_summary` record: one LLM completion, measured as LLM benchmarks
/// (AIPerf, vLLM bench) define it. Times are from the request's start (the connection attempt);
/// "output" is answer text, reasoning or tool-call text. See `docs/json-records.md`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LlmSummary {
    /// The format the chunks were read as (`openai`, `responses`, `anthropic`, `gemini`, `ollama`).
    pub format: String,
    /// The model, when the chunks name it.
    pub model: Option<String>,
    /// The completion ended with its end marker (Gemini, which has none: with a finish reason).
    pub complete: bool,
    /// Why generation stopped, as the provider says it (`stop`, `length`, `end_turn`, ...).
    pub finish_reason: Option<String>,
    /// Time to first token: request start to the first chunk with output.
    pub ttft_ms: Option<f64>,
    /// Time to second token: first chunk with output to the second.
    pub ttst_ms: Option<f64>,
    /// Inter-token latency (the gaps between consecutive chunks with output): median.
    pub itl_p50_ms: Option<f64>,
    /// 95th percentile of the inter-token gaps.
    pub itl_p95_ms: Option<f64>,
    /// 99th percentile of the inter-token gaps.
    pub itl_p99_ms: Option<f64>,
    /// Largest inter-token gap.
    pub itl_max_ms: Option<f64>,
    /// Time per output token after the first: (last output - first output) / (tokens - 1).
    pub tpot_ms: Option<f64>,
    /// Output tokens per second after the first token: 1000 / `tpot_ms`.
    pub tokens_per_s: Option<f64>,
    /// Output tokens: the provider's usage when it sent one, else the chunks with output.
    pub output_tokens: u64,
    /// Where `output_tokens` comes from.
    pub tokens_source: TokensSource,
    /// Prompt tokens, when the provider says.
    pub input_tokens: Option<u64>,
    /// Tokens per second as the server measured them (Ollama, llama.cpp).
    pub server_tokens_per_s: Option<f64>,
    /// Chunks that carried output.
    pub chunks: u64,
    /// Of those, chunks with reasoning text.
    pub reasoning_chunks: u64,
    /// Of those, chunks with tool-call text.
    pub tool_chunks: u64,
    /// Request start to the end marker (or to the end of the body, connection or session).
    pub total_ms: f64,
    /// Inter-token gaps longer than `stall_threshold_ms`.
    pub stalls: u64,
    /// The stall threshold: `--heartbeat`, or 1 s.
    pub stall_threshold_ms: f64,
    /// In-stream error chunks (each also an `error` record).
    pub errors: u64,
    /// The first in-stream error.
    pub error: Option<String>,
    /// The assembled answer text.
    pub text: String,
}

/// The figures of a `match_summary` record (and of the dashboard's comparison strip).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchSummary {
    /// Keys delivered on both streams.
    pub pairs: u64,
    /// Pairs each stream delivered first (ties count for neither).
    pub won: [u64; 2],
    /// Pairs delivered on both in the same microsecond.
    pub ties: u64,
    /// Lead percentiles (how far apart the two deliveries of a key were), `None` without pairs.
    pub lead_p50_ms: Option<f64>,
    /// 95th percentile of the lead.
    pub lead_p95_ms: Option<f64>,
    /// 99th percentile of the lead.
    pub lead_p99_ms: Option<f64>,
    /// Largest lead.
    pub lead_max_ms: Option<f64>,
    /// Keys seen on one stream and never on the other.
    pub unmatched: [u64; 2],
}

impl Kind {
    /// An `open` with what every connection has (status, response headers, handshake time) and
    /// none of the optional facts (connection and TLS, compression), which the caller sets when they apply.
    pub fn open(status: u16, headers: Vec<(String, String)>, handshake_ms: f64) -> Kind {
        Kind::Open {
            status,
            headers,
            handshake_ms,
            conn: None,
            compression_offered: None,
            compression: None,
            request: None,
        }
    }

    /// True for kinds that `--count` counts: received events and messages.
    /// A message that is its application protocol's keep-alive (an Engine.IO ping, a GraphQL
    /// `ka`) is a heartbeat, not data, and is not counted.
    pub fn is_countable(&self) -> bool {
        match self {
            Kind::Event { .. } => true,
            Kind::Message { decoded, .. } => !decoded.as_ref().is_some_and(|d| d.heartbeat),
            _ => false,
        }
    }

    /// Gives the kind's texts their own allocations, for a record kept for long (the dashboard's
    /// store): a live event's or message's text is a slice of its read's arena, which a kept slice
    /// would keep alive whole. Ping and pong payloads are copies already.
    pub fn detach(&mut self) {
        match self {
            Kind::Event {
                event, data, id, ..
            } => {
                *event = event_type(event);
                *data = data.detached();
                if let Some(id) = id {
                    *id = id.detached();
                }
            }
            Kind::Comment { text } => *text = text.detached(),
            Kind::Message { data, .. } => *data = data.detached(),
            _ => {}
        }
    }

    /// The `decoded` object of a message, when it has one.
    pub fn decoded(&self) -> Option<&decoded::Decoded> {
        match self {
            Kind::Message { decoded, .. } => decoded.as_deref(),
            _ => None,
        }
    }
}

/// What the dashboard shows about a stream before any record arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Index of the URL on the command line.
    pub index: usize,
    /// The stream's name in the config file, when it was opened by name (the dashboard shows it
    /// instead of the URL in the overview, and the metrics label series with it).
    pub name: Option<String>,
    /// Protocol decided by the scheme.
    pub proto: Proto,
    /// The URL with credentials and secret-looking query values masked, for display.
    pub display_url: String,
    /// `--heartbeat` threshold in milliseconds, if set (gaps above it are highlighted).
    pub heartbeat_ms: Option<u64>,
    /// TLS verification is off (`--insecure`).
    pub insecure: bool,
    /// The request in short when it is not a plain GET: method, and the model and prompt of an
    /// LLM request (or the start of the body).
    pub request: Option<String>,
}

/// One timestamped thing that happened on one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Wall clock when the bytes arrived, microseconds since the Unix epoch.
    pub ts_us: i64,
    /// Index of the URL on the command line.
    pub stream: usize,
    /// Protocol of the stream.
    pub proto: Proto,
    /// Direction, for traffic.
    pub dir: Option<Dir>,
    /// Bytes the record occupied on the wire.
    pub wire_bytes: Option<u64>,
    /// Decoded payload bytes.
    pub payload_bytes: Option<u64>,
    /// The record's bytes as they travelled compressed: the deflated payload of a compressed
    /// WebSocket message, or the encoded body bytes that delivered an SSE event or comment under a
    /// `Content-Encoding`.
    pub compressed_bytes: Option<u64>,
    /// Milliseconds since the previous record received on this stream.
    pub gap_ms: Option<f64>,
    /// Number of the socket read (per stream, from 1) that delivered this record.
    pub read: Option<u64>,
    /// What happened.
    pub kind: Kind,
}

impl Record {
    /// A record with no traffic fields set.
    pub fn new(ts_us: i64, stream: usize, proto: Proto, kind: Kind) -> Self {
        Record {
            ts_us,
            stream,
            proto,
            dir: None,
            wire_bytes: None,
            payload_bytes: None,
            compressed_bytes: None,
            gap_ms: None,
            read: None,
            kind,
        }
    }

    /// The timestamp as a [`SystemTime`].
    pub fn system_time(&self) -> SystemTime {
        if self.ts_us >= 0 {
            UNIX_EPOCH + Duration::from_micros(self.ts_us as u64)
        } else {
            UNIX_EPOCH - Duration::from_micros(self.ts_us.unsigned_abs())
        }
    }
}
