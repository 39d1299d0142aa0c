//! The one record type that flows from every source (live SSE, live WebSocket, replay) to every sink
//! (`--json`, the dashboard's store, recordings).
//!
//! A [`Record`] is stamped by the connection task the moment the socket read that completed it
//! returned, so a slow consumer never shifts `ts` or `gap_ms`. The JSON form is written by hand into a
//! reused buffer ([`Record::write_json`]) because it is the hot path of headless mode; the schema is
//! documented in `docs/json-records.md`.

use std::borrow::Cow;
use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

pub mod batch;
pub mod parse;
pub mod time;

/// Appends `,"name":` as one copy (the literal is put together at compile time).
macro_rules! key {
    ($out:expr, $name:literal) => {
        $out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes())
    };
}

/// Which protocol a stream speaks, decided by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// Server-Sent Events over `http://` or `https://`.
    Sse,
    /// WebSocket over `ws://` or `wss://`.
    Ws,
}

impl Proto {
    /// The lower-case name used in JSON and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Sse => "sse",
            Proto::Ws => "ws",
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
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
}

/// An SSE event type for a [`Kind::Event`]: the default `message` borrowed (no allocation, as
/// the parser produces it), any other name owned.
pub fn event_type(name: &str) -> Cow<'static, str> {
    if name == "message" {
        Cow::Borrowed("message")
    } else {
        Cow::Owned(name.to_owned())
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
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Client => "client",
        }
    }
}

/// A payload that may or may not be text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Valid UTF-8.
    Text(String),
    /// Anything else, shown as base64 in JSON and hex on screen.
    Binary(Vec<u8>),
}

impl Payload {
    /// Text when the bytes are UTF-8, binary otherwise (ping and pong payloads).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(s) => Payload::Text(s.to_owned()),
            Err(_) => Payload::Binary(bytes.to_vec()),
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
    pub fn as_str(self) -> &'static str {
        match self {
            DataOpcode::Text => "text",
            DataOpcode::Binary => "binary",
        }
    }
}

/// What happened; one variant per JSON `kind`.
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
    },
    /// A dispatched SSE event.
    Event {
        /// Event type, `message` when the server named none. Borrowed in that case, so the common
        /// unnamed event costs no allocation.
        event: Cow<'static, str>,
        /// The data buffer, lines joined with `\n`.
        data: String,
        /// The last event id after this event, `None` when empty.
        id: Option<String>,
        /// A valid `retry:` value seen in this event's block, in milliseconds.
        retry: Option<u64>,
    },
    /// An SSE comment line (text after the colon, one leading space stripped).
    Comment {
        /// The comment text.
        text: String,
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
    /// The JSON `kind` name.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Open { .. } => "open",
            Kind::Event { .. } => "event",
            Kind::Comment { .. } => "comment",
            Kind::Message { .. } => "message",
            Kind::Ping { .. } => "ping",
            Kind::Pong { .. } => "pong",
            Kind::Close { .. } => "close",
            Kind::Reconnect { .. } => "reconnect",
            Kind::Gap { .. } => "gap",
            Kind::IdGap { .. } => "id_gap",
            Kind::Lint { .. } => "lint",
            Kind::Error { .. } => "error",
            Kind::End { .. } => "end",
            Kind::Match { .. } => "match",
            Kind::MatchSummary(_) => "match_summary",
        }
    }

    /// True for kinds that `--count` counts: received events and messages.
    pub fn is_countable(&self) -> bool {
        matches!(self, Kind::Event { .. } | Kind::Message { .. })
    }
}

/// What the dashboard shows about a stream before any record arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Index of the URL on the command line.
    pub index: usize,
    /// Protocol decided by the scheme.
    pub proto: Proto,
    /// The URL with credentials and secret-looking query values masked, for display.
    pub display_url: String,
    /// `--heartbeat` threshold in milliseconds, if set (gaps above it are highlighted).
    pub heartbeat_ms: Option<u64>,
    /// TLS verification is off (`--insecure`).
    pub insecure: bool,
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

    /// Appends this record as one line of JSON (with the trailing newline) to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.write_json_head(out);
        self.write_json_tail(out);
    }

    /// The part of the line that records of one read share: `{"ts":…,"stream":…,"proto":…,
    /// "kind":…` and `"dir"`. See [`LineEncoder`].
    fn write_json_head(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"ts\":\"");
        write_rfc3339_micros(out, self.ts_us);
        out.extend_from_slice(b"\",\"stream\":");
        push_u64(out, self.stream as u64);
        out.extend_from_slice(b",\"proto\":\"");
        out.extend_from_slice(self.proto.as_str().as_bytes());
        out.extend_from_slice(b"\",\"kind\":\"");
        out.extend_from_slice(self.kind.name().as_bytes());
        out.push(b'"');
        if let Some(dir) = self.dir {
            out.extend_from_slice(b",\"dir\":\"");
            out.extend_from_slice(dir.as_str().as_bytes());
            out.push(b'"');
        }
    }

    /// Everything after [`write_json_head`](Self::write_json_head), newline included.
    fn write_json_tail(&self, out: &mut Vec<u8>) {
        if let Some(n) = self.wire_bytes {
            key!(out, "wire_bytes");
            push_u64(out, n);
        }
        if let Some(n) = self.payload_bytes {
            key!(out, "payload_bytes");
            push_u64(out, n);
        }
        if let Some(ms) = self.gap_ms {
            key!(out, "gap_ms");
            push_ms(out, ms);
        }
        if let Some(n) = self.read {
            key!(out, "read");
            push_u64(out, n);
        }
        match &self.kind {
            Kind::Open {
                status,
                headers,
                handshake_ms,
            } => {
                key!(out, "status");
                push_u64(out, u64::from(*status));
                key!(out, "headers");
                out.push(b'{');
                for (i, (name, value)) in headers.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_str(out, name);
                    out.push(b':');
                    push_str(out, value);
                }
                out.push(b'}');
                key!(out, "handshake_ms");
                push_ms(out, *handshake_ms);
            }
            Kind::Event {
                event,
                data,
                id,
                retry,
            } => {
                key!(out, "event");
                push_str(out, event);
                key!(out, "data");
                push_str(out, data);
                key!(out, "id");
                push_opt_str(out, id.as_deref());
                key!(out, "retry");
                match retry {
                    Some(r) => push_u64(out, *r),
                    None => out.extend_from_slice(b"null"),
                }
            }
            Kind::Comment { text } => {
                key!(out, "text");
                push_str(out, text);
            }
            Kind::Message {
                opcode,
                data,
                frames,
                compressed,
            } => {
                key!(out, "opcode");
                push_str(out, opcode.as_str());
                push_payload(out, data);
                key!(out, "frames");
                push_u64(out, u64::from(*frames));
                key!(out, "compressed");
                push_bool(out, *compressed);
            }
            Kind::Ping { data } => push_payload(out, data),
            Kind::Pong { data, rtt_ms } => {
                push_payload(out, data);
                if let Some(rtt) = rtt_ms {
                    key!(out, "rtt_ms");
                    push_ms(out, *rtt);
                }
            }
            Kind::Close { code, reason, by } => {
                key!(out, "code");
                match code {
                    Some(c) => push_u64(out, u64::from(*c)),
                    None => out.extend_from_slice(b"null"),
                }
                key!(out, "reason");
                push_str(out, reason);
                key!(out, "by");
                push_str(out, by.as_str());
            }
            Kind::Reconnect {
                attempt,
                delay_ms,
                last_event_id,
                reason,
                retry_ms,
            } => {
                key!(out, "attempt");
                push_u64(out, u64::from(*attempt));
                key!(out, "delay_ms");
                push_u64(out, *delay_ms);
                key!(out, "last_event_id");
                push_opt_str(out, last_event_id.as_deref());
                key!(out, "reason");
                push_str(out, reason);
                key!(out, "retry_ms");
                match retry_ms {
                    Some(r) => push_u64(out, *r),
                    None => out.extend_from_slice(b"null"),
                }
            }
            Kind::IdGap {
                expected,
                got,
                missing,
                repeated,
                count,
            } => {
                key!(out, "expected");
                push_u64(out, *expected);
                key!(out, "got");
                push_u64(out, *got);
                key!(out, "missing");
                push_u64(out, *missing);
                key!(out, "repeated");
                push_u64(out, *repeated);
                key!(out, "count");
                push_u64(out, *count);
            }
            Kind::Lint { rule, message } => {
                key!(out, "rule");
                push_str(out, rule);
                key!(out, "message");
                push_str(out, message);
            }
            Kind::Gap {
                gap_ms,
                threshold_ms,
            } => {
                // `gap_ms` is a top-level field on traffic records; on a gap record it is the
                // silence so far, written here because the record itself carries no traffic.
                if self.gap_ms.is_none() {
                    key!(out, "gap_ms");
                    push_ms(out, *gap_ms);
                }
                key!(out, "threshold_ms");
                push_ms(out, *threshold_ms);
            }
            Kind::Error {
                message,
                status,
                close_code,
            } => {
                key!(out, "message");
                push_str(out, message);
                if let Some(s) = status {
                    key!(out, "status");
                    push_u64(out, u64::from(*s));
                }
                if let Some(c) = close_code {
                    key!(out, "close_code");
                    push_u64(out, u64::from(*c));
                }
            }
            Kind::End { reason, failed } => {
                key!(out, "reason");
                push_str(out, reason);
                key!(out, "failed");
                push_bool(out, *failed);
            }
            Kind::Match {
                key: k,
                first,
                lead_ms,
            } => {
                key!(out, "key");
                push_str(out, k);
                key!(out, "first");
                match first {
                    Some(f) => push_u64(out, *f as u64),
                    None => out.extend_from_slice(b"null"),
                }
                key!(out, "lead_ms");
                push_ms(out, *lead_ms);
            }
            Kind::MatchSummary(m) => {
                key!(out, "pairs");
                push_u64(out, m.pairs);
                key!(out, "won");
                push_pair(out, m.won);
                key!(out, "ties");
                push_u64(out, m.ties);
                for (name, v) in [
                    ("lead_p50_ms", m.lead_p50_ms),
                    ("lead_p95_ms", m.lead_p95_ms),
                    ("lead_p99_ms", m.lead_p99_ms),
                    ("lead_max_ms", m.lead_max_ms),
                ] {
                    key(out, name);
                    match v {
                        Some(ms) => push_ms(out, ms),
                        None => out.extend_from_slice(b"null"),
                    }
                }
                key!(out, "unmatched");
                push_pair(out, m.unmatched);
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// This record as a JSON line, for tests and one-off use.
    pub fn to_json_line(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Writes records as JSON lines like [`Record::write_json`], faster on a firehose: the records of
/// one socket read share their timestamp, stream, protocol, kind and direction, so the head of the
/// line (about 80 bytes, with the timestamp formatting) is built once and copied for the rest.
#[derive(Debug, Default)]
pub struct LineEncoder {
    key: Option<(i64, usize, Proto, &'static str, Option<Dir>)>,
    head: Vec<u8>,
}

impl LineEncoder {
    /// A new encoder with nothing cached.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `r` as one line of JSON (with the trailing newline) to `out`; the same bytes as
    /// [`Record::write_json`].
    pub fn write(&mut self, r: &Record, out: &mut Vec<u8>) {
        let key = (r.ts_us, r.stream, r.proto, r.kind.name(), r.dir);
        if self.key != Some(key) {
            self.head.clear();
            r.write_json_head(&mut self.head);
            self.key = Some(key);
        }
        out.extend_from_slice(&self.head);
        r.write_json_tail(out);
    }
}

#[inline]
fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends `n` in decimal, two digits at a time, formatted on the stack and appended in one copy.
#[inline]
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n >= 100 {
        let r = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
    }
    if n >= 10 {
        let r = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_pair(out: &mut Vec<u8>, pair: [u64; 2]) {
    out.push(b'[');
    push_u64(out, pair[0]);
    out.push(b',');
    push_u64(out, pair[1]);
    out.push(b']');
}

fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Milliseconds with microsecond precision (three decimals), trailing zeros kept short.
fn push_ms(out: &mut Vec<u8>, ms: f64) {
    if !ms.is_finite() || ms < 0.0 {
        out.push(b'0');
        return;
    }
    let us = (ms * 1000.0).round() as u64;
    push_u64(out, us / 1000);
    let frac = us % 1000;
    if frac != 0 {
        out.push(b'.');
        let digits = [
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ];
        let len = if digits[2] != b'0' {
            3
        } else if digits[1] != b'0' {
            2
        } else {
            1
        };
        out.extend_from_slice(&digits[..len]);
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most text needs no escaping: skip it a block at a time (the check compiles to a few
        // vector compares). A block that needs escaping is then walked byte by byte.
        if let Some(block) = bytes[i..].first_chunk::<ESCAPE_BLOCK>()
            && !block_needs_escape(block)
        {
            i += ESCAPE_BLOCK;
            continue;
        }
        let end = (i + ESCAPE_BLOCK).min(bytes.len());
        for (j, &b) in bytes.iter().enumerate().take(end).skip(i) {
            if !needs_escape(b) {
                continue;
            }
            out.extend_from_slice(&bytes[start..j]);
            push_escape(out, b);
            start = j + 1;
        }
        i = end;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Bytes checked at once by [`push_str`]'s fast path.
const ESCAPE_BLOCK: usize = 32;

/// A byte that must be escaped in a JSON string: a control character (below 0x20, or DEL, which
/// the writer also escapes), `"` or `\\`.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

/// True when a byte of `block` must be escaped. Written as a branch-free fold over a fixed-size
/// block so that the compiler turns it into vector compares.
#[inline]
#[allow(
    clippy::needless_bitwise_bool,
    reason = "branch-free on purpose: it vectorises"
)]
fn block_needs_escape(block: &[u8; ESCAPE_BLOCK]) -> bool {
    block.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\') | (b == 0x7f)
    })
}

fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_payload(out: &mut Vec<u8>, data: &Payload) {
    match data {
        Payload::Text(s) => {
            key!(out, "data");
            push_str(out, s);
        }
        Payload::Binary(b) => {
            key!(out, "data_base64");
            out.push(b'"');
            let start = out.len();
            let encoded_len = base64::encoded_len(b.len(), true).unwrap_or(0);
            out.resize(start + encoded_len, 0);
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(b, &mut out[start..])
                .unwrap_or(0);
            out.truncate(start + written);
            out.push(b'"');
        }
    }
}

/// `00` to `99`, two ASCII digits each.
const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since the epoch.
///
/// Records arrive many per second, so the `YYYY-MM-DDTHH:MM:SS.` part of the last second written
/// on this thread is kept and reused; only the microseconds are formatted per record.
pub fn write_rfc3339_micros(out: &mut Vec<u8>, ts_us: i64) {
    thread_local! {
        static LAST_SECOND: Cell<(i64, [u8; 20])> = const { Cell::new((i64::MIN, [0; 20])) };
    }
    let secs = ts_us.div_euclid(1_000_000);
    let micros = ts_us.rem_euclid(1_000_000) as usize;
    let prefix = LAST_SECOND.with(|last| {
        let (s, p) = last.get();
        if s == secs {
            p
        } else {
            let p = second_prefix(secs);
            last.set((secs, p));
            p
        }
    });
    let mut buf = [0u8; 27];
    buf[..20].copy_from_slice(&prefix);
    let (hi, mid, lo) = (
        micros / 10_000 * 2,
        micros / 100 % 100 * 2,
        micros % 100 * 2,
    );
    buf[20..22].copy_from_slice(&DIGIT_PAIRS[hi..hi + 2]);
    buf[22..24].copy_from_slice(&DIGIT_PAIRS[mid..mid + 2]);
    buf[24..26].copy_from_slice(&DIGIT_PAIRS[lo..lo + 2]);
    buf[26] = b'Z';
    out.extend_from_slice(&buf);
}

/// `YYYY-MM-DDTHH:MM:SS.` for seconds since the epoch.
fn second_prefix(secs: i64) -> [u8; 20] {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mut buf = [0u8; 20];
    let y = y.clamp(0, 9999) as u32;
    put2(&mut buf[0..2], y / 100);
    put2(&mut buf[2..4], y % 100);
    buf[4] = b'-';
    put2(&mut buf[5..7], m);
    buf[7] = b'-';
    put2(&mut buf[8..10], d);
    buf[10] = b'T';
    put2(&mut buf[11..13], hh);
    buf[13] = b':';
    put2(&mut buf[14..16], mm);
    buf[16] = b':';
    put2(&mut buf[17..19], ss);
    buf[19] = b'.';
    buf
}

fn put2(dst: &mut [u8], v: u32) {
    dst[0] = b'0' + (v / 10 % 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

/// Howard Hinnant's days-to-civil algorithm: proleptic Gregorian date for days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Microseconds since the Unix epoch for a [`SystemTime`].
pub fn unix_micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(r: &Record) -> serde_json::Value {
        let line = r.to_json_line();
        assert!(line.ends_with('\n'));
        serde_json::from_str(&line).expect("valid JSON")
    }

    #[test]
    fn rfc3339_matches_humantime() {
        for &us in &[
            0i64,
            1,
            999_999,
            1_764_067_655_123_456,
            951_782_400_000_000, // 2000-02-29
            4_102_444_799_999_999,
        ] {
            let mut out = Vec::new();
            write_rfc3339_micros(&mut out, us);
            let t = UNIX_EPOCH + Duration::from_micros(us as u64);
            assert_eq!(
                String::from_utf8(out).expect("ascii"),
                humantime::format_rfc3339_micros(t).to_string()
            );
        }
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let nasty = "quote\" back\\ nl\n cr\r tab\t nul\u{0} bell\u{7} del\u{7f} é 😀";
        let r = Record::new(
            0,
            1,
            Proto::Sse,
            Kind::Comment {
                text: nasty.to_owned(),
            },
        );
        assert_eq!(parse(&r)["text"], nasty);
    }

    #[test]
    fn escaping_is_exact_at_every_position_of_a_word() {
        // Each special byte at each offset of the first two blocks of the fast path and of the
        // byte-wise tail, among plain bytes, and bytes
        // next to the special ones (0x1f/0x20, 0x21/0x23, 0x5b/0x5d, 0x7e/0x7f/0x80) that must
        // not be escaped.
        let specials = ['"', '\\', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}'];
        let neighbours = [' ', '!', '#', '[', ']', '~', '\u{80}', 'é'];
        for &c in specials.iter().chain(&neighbours) {
            for pos in 0..2 * ESCAPE_BLOCK + 3 {
                let mut text: String = "abcdefghijklmnopqrs".chars().cycle().take(pos).collect();
                text.push(c);
                text.push_str("tuvwxyz0123456789");
                if pos % 2 == 0 {
                    // A second special byte later in the same or the next block.
                    text.push(c);
                    text.push_str(&"x".repeat(pos));
                }
                let mut out = Vec::new();
                push_str(&mut out, &text);
                let back: String = serde_json::from_slice(&out).expect("valid JSON string");
                assert_eq!(back, text);
                let escaped = out.len() != text.len() + 2;
                assert_eq!(escaped, specials.contains(&c), "{c:?} at {pos}");
            }
        }
    }

    #[test]
    fn line_encoder_writes_the_same_bytes_as_write_json() {
        let mut records = Vec::new();
        for (i, ts) in [5_000_000i64, 5_000_000, 5_000_001, 5_000_001, 6_000_000]
            .into_iter()
            .enumerate()
        {
            let mut r = Record::new(
                ts,
                i % 2,
                if i == 3 { Proto::Ws } else { Proto::Sse },
                Kind::Event {
                    event: "message".into(),
                    data: format!("d{i}\"q"),
                    id: None,
                    retry: None,
                },
            );
            r.dir = (i != 2).then_some(Dir::In);
            r.wire_bytes = Some(10 + i as u64);
            records.push(r);
        }
        records.push(Record::new(
            6_000_000,
            1,
            Proto::Sse,
            Kind::Comment { text: "c".into() },
        ));
        let mut enc = LineEncoder::new();
        let (mut fast, mut plain) = (Vec::new(), Vec::new());
        for r in &records {
            enc.write(r, &mut fast);
            r.write_json(&mut plain);
        }
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&plain)
        );
        assert_eq!(
            String::from_utf8_lossy(&plain).lines().count(),
            records.len()
        );
    }

    #[test]
    fn integers_in_decimal() {
        let mut cases = vec![0u64, 9, 10, 99, 100, 101, 999, 1000, u64::MAX];
        cases.extend((1..20).map(|e| 10u64.pow(e) - 1));
        cases.extend((1..20).map(|e| 10u64.pow(e)));
        for n in cases {
            let mut out = b"x".to_vec();
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn cached_second_is_not_reused_for_another_second() {
        let mut out = Vec::new();
        for &us in &[
            1_764_067_655_999_999i64,
            1_764_067_656_000_000,
            1_764_067_655_000_001,
            0,
        ] {
            out.clear();
            write_rfc3339_micros(&mut out, us);
            let t = UNIX_EPOCH + Duration::from_micros(us as u64);
            assert_eq!(
                String::from_utf8(out.clone()).expect("ascii"),
                humantime::format_rfc3339_micros(t).to_string()
            );
        }
    }

    #[test]
    fn binary_payload_is_base64() {
        let r = Record::new(
            0,
            0,
            Proto::Ws,
            Kind::Message {
                opcode: DataOpcode::Binary,
                data: Payload::Binary(vec![0, 1, 2, 255]),
                frames: 2,
                compressed: false,
            },
        );
        let v = parse(&r);
        assert_eq!(v["data_base64"], "AAEC/w==");
        assert_eq!(v["frames"], 2);
        assert!(v.get("data").is_none());
    }

    #[test]
    fn ms_have_microsecond_precision() {
        for (ms, s) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (12.345_6, "12.346"),
            (3.01, "3.01"),
        ] {
            let mut out = Vec::new();
            push_ms(&mut out, ms);
            assert_eq!(String::from_utf8(out).expect("ascii"), s);
        }
    }

    #[test]
    fn traffic_fields_present_only_when_set() {
        let mut r = Record::new(
            0,
            0,
            Proto::Sse,
            Kind::Event {
                event: "message".into(),
                data: "x".into(),
                id: None,
                retry: None,
            },
        );
        let v = parse(&r);
        assert!(v.get("dir").is_none());
        assert!(v["id"].is_null());
        r.dir = Some(Dir::In);
        r.wire_bytes = Some(8);
        r.payload_bytes = Some(1);
        r.gap_ms = Some(2.25);
        r.read = Some(3);
        let v = parse(&r);
        assert_eq!(v["dir"], "in");
        assert_eq!(v["wire_bytes"], 8);
        assert_eq!(v["gap_ms"], 2.25);
        assert_eq!(v["read"], 3);
    }

    #[test]
    fn forensics_kinds_have_their_fields() {
        let v = parse(&Record::new(
            0,
            0,
            Proto::Sse,
            Kind::Reconnect {
                attempt: 1,
                delay_ms: 80,
                last_event_id: Some("3".into()),
                reason: "stream broke".into(),
                retry_ms: None,
            },
        ));
        assert!(v["retry_ms"].is_null());
        assert_eq!(v["last_event_id"], "3");
        let v = parse(&Record::new(
            0,
            0,
            Proto::Ws,
            Kind::IdGap {
                expected: 4,
                got: 6,
                missing: 2,
                repeated: 0,
                count: 1,
            },
        ));
        assert_eq!(v["kind"], "id_gap");
        assert_eq!((&v["expected"], &v["got"]), (&4.into(), &6.into()));
        assert_eq!(
            (&v["missing"], &v["repeated"], &v["count"]),
            (&2.into(), &0.into(), &1.into())
        );
        let v = parse(&Record::new(
            0,
            0,
            Proto::Sse,
            Kind::Lint {
                rule: "bom".into(),
                message: "a \"BOM\"".into(),
            },
        ));
        assert_eq!(v["kind"], "lint");
        assert_eq!(v["rule"], "bom");
        assert_eq!(v["message"], "a \"BOM\"");
    }
}
