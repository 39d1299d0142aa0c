//! The JSON line of a [`Record`]: written by hand into a reused buffer ([`Record::write_json`],
//! [`LineEncoder`]) because it is the hot path of headless mode. The schema is documented in
//! `docs/json-records.md`; [`super::parse`] reads it back.

use base64::Engine as _;

use crate::record::time::{DIGIT_PAIRS, write_rfc3339_micros};
use crate::record::{
    ConnFacts, DataOpcode, Dir, H2Frame, Kind, LlmSummary, MatchSummary, Payload, Proto, Record,
    Side,
};

/// Appends `,"name":` as one copy (the literal is put together at compile time).
macro_rules! key {
    ($out:expr, $name:literal) => {
        $out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes())
    };
}

impl Record {
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

    /// Everything after [`write_json_head`](Self::write_json_head), newline included: the traffic
    /// fields, then the kind's own fields, each kind written by a function of its group below.
    fn write_json_tail(&self, out: &mut Vec<u8>) {
        self.write_json_tail_with(out, None);
    }

    /// [`write_json_tail`](Self::write_json_tail), with the payload text already escaped when
    /// `payload` is given (see [`EscapedPayloads`]).
    fn write_json_tail_with(&self, out: &mut Vec<u8>, payload: Option<&[u8]>) {
        self.write_traffic(out);
        match &self.kind {
            Kind::Open {
                status,
                headers,
                handshake_ms,
                conn,
                compression_offered,
                compression,
                request,
            } => {
                write_open(out, *status, headers, *handshake_ms);
                write_compression(out, compression_offered.as_deref(), compression.as_deref());
                if let Some(c) = conn {
                    write_conn_facts(out, c);
                }
                if let Some(r) = request {
                    write_request(out, r);
                }
            }
            Kind::Event {
                event,
                data,
                id,
                retry,
            } => write_event(out, event, (data, payload), id.as_deref(), *retry),
            Kind::Comment { text } => {
                key!(out, "text");
                push_text(out, text, payload);
            }
            Kind::Message {
                opcode,
                data,
                frames,
                compressed,
                decoded,
            } => write_message(
                out,
                *opcode,
                (data, payload),
                (*frames, *compressed),
                decoded.as_deref(),
            ),
            Kind::Ping { data } => push_payload(out, data, None),
            Kind::Pong { data, rtt_ms } => write_pong(out, data, *rtt_ms),
            Kind::Close { code, reason, by } => write_close(out, *code, reason, *by),
            Kind::Reconnect {
                attempt,
                delay_ms,
                last_event_id,
                reason,
                retry_ms,
            } => write_reconnect(
                out,
                *attempt,
                *delay_ms,
                last_event_id.as_deref(),
                reason,
                *retry_ms,
            ),
            Kind::Error {
                message,
                status,
                close_code,
            } => write_error(out, message, *status, *close_code),
            Kind::End { reason, failed } => {
                key!(out, "reason");
                push_str(out, reason);
                key!(out, "failed");
                push_bool(out, *failed);
            }
            Kind::Gap {
                gap_ms,
                threshold_ms,
            } => write_gap(out, self.gap_ms.is_none().then_some(*gap_ms), *threshold_ms),
            Kind::IdGap {
                expected,
                got,
                missing,
                repeated,
                count,
            } => write_id_gap(out, [*expected, *got, *missing, *repeated, *count]),
            Kind::Lint { rule, message } => {
                key!(out, "rule");
                push_str(out, rule);
                key!(out, "message");
                push_str(out, message);
            }
            Kind::Match {
                key,
                first,
                lead_ms,
            } => write_match(out, key, first.map(|f| f as u64), *lead_ms),
            Kind::MatchSummary(m) => write_match_summary(out, m),
            Kind::LlmSummary(s) => write_llm_summary(out, s),
            Kind::Frame(f) => write_frame(out, f),
        }
        out.extend_from_slice(b"}\n");
    }

    /// `wire_bytes`, `payload_bytes`, `compressed_bytes`, `gap_ms`, `read`: each only when set.
    fn write_traffic(&self, out: &mut Vec<u8>) {
        if let Some(n) = self.wire_bytes {
            key!(out, "wire_bytes");
            push_u64(out, n);
        }
        if let Some(n) = self.payload_bytes {
            key!(out, "payload_bytes");
            push_u64(out, n);
        }
        if let Some(n) = self.compressed_bytes {
            key!(out, "compressed_bytes");
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
    }

    /// This record as a JSON line, for tests and one-off use.
    pub fn to_json_line(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

// The fields of each kind, in the order its entry in `record::kinds::KINDS` lists them (a test there
// checks it). Plain functions of the variant's fields, called from the one `match` in
// `write_json_tail`: the hot path stays a single static dispatch, with no allocation.

// Connection lifecycle: open, close, reconnect, error (end is written inline).

fn write_open(out: &mut Vec<u8>, status: u16, headers: &[(String, String)], handshake_ms: f64) {
    key!(out, "status");
    push_u64(out, u64::from(status));
    key!(out, "headers");
    push_headers(out, headers);
    key!(out, "handshake_ms");
    push_ms(out, handshake_ms);
}

/// Headers as a JSON object, in their order.
fn push_headers(out: &mut Vec<u8>, headers: &[(String, String)]) {
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
}

/// The `open` record's compression fields: each only when set.
fn write_compression(out: &mut Vec<u8>, offered: Option<&str>, agreed: Option<&str>) {
    if let Some(offered) = offered {
        key!(out, "compression_offered");
        push_str(out, offered);
    }
    if let Some(agreed) = agreed {
        key!(out, "compression");
        push_str(out, agreed);
    }
}

/// The `open` record's connection facts: each only when known.
fn write_conn_facts(out: &mut Vec<u8>, c: &ConnFacts) {
    key!(out, "http");
    push_str(out, &c.http);
    if let Some(id) = c.connection {
        key!(out, "connection");
        push_u64(out, id);
        key!(out, "shared");
        push_bool(out, c.shared);
    }
    let Some(t) = &c.tls else { return };
    key!(out, "tls_version");
    push_str(out, &t.version);
    key!(out, "tls_cipher");
    push_str(out, &t.cipher);
    if let Some(alpn) = &t.alpn {
        key!(out, "alpn");
        push_str(out, alpn);
    }
    key!(out, "cert_subject");
    push_str(out, &t.cert_subject);
    key!(out, "cert_issuer");
    push_str(out, &t.cert_issuer);
    key!(out, "cert_names");
    push_str(out, &t.cert_names);
    if let Some(us) = t.cert_not_after_us {
        key!(out, "cert_not_after");
        out.push(b'"');
        write_rfc3339_micros(out, us);
        out.push(b'"');
    }
    if let Some(days) = t.cert_days_left {
        key!(out, "cert_days_left");
        if days < 0 {
            out.push(b'-');
        }
        push_u64(out, days.unsigned_abs());
    }
}

fn write_frame(out: &mut Vec<u8>, f: &H2Frame) {
    key!(out, "frame");
    push_str(out, &f.frame);
    key!(out, "h2_stream");
    push_u64(out, u64::from(f.h2_stream));
    key!(out, "flags");
    push_u64(out, u64::from(f.flags));
    key!(out, "connection");
    push_u64(out, f.connection);
    key!(out, "detail");
    push_str(out, &f.detail);
    if let Some(code) = f.error_code {
        key!(out, "error_code");
        push_u64(out, u64::from(code));
    }
    if let Some(ms) = f.rtt_ms {
        key!(out, "rtt_ms");
        push_ms(out, ms);
    }
}

fn write_close(out: &mut Vec<u8>, code: Option<u16>, reason: &str, by: Side) {
    key!(out, "code");
    push_opt_u64(out, code.map(u64::from));
    key!(out, "reason");
    push_str(out, reason);
    key!(out, "by");
    push_str(out, by.as_str());
}

fn write_reconnect(
    out: &mut Vec<u8>,
    attempt: u32,
    delay_ms: u64,
    last_event_id: Option<&str>,
    reason: &str,
    retry_ms: Option<u64>,
) {
    key!(out, "attempt");
    push_u64(out, u64::from(attempt));
    key!(out, "delay_ms");
    push_u64(out, delay_ms);
    key!(out, "last_event_id");
    push_opt_str(out, last_event_id);
    key!(out, "reason");
    push_str(out, reason);
    key!(out, "retry_ms");
    push_opt_u64(out, retry_ms);
}

/// `status` and `close_code` only when set: most errors have one or neither.
fn write_error(out: &mut Vec<u8>, message: &str, status: Option<u16>, close_code: Option<u16>) {
    key!(out, "message");
    push_str(out, message);
    if let Some(s) = status {
        key!(out, "status");
        push_u64(out, u64::from(s));
    }
    if let Some(c) = close_code {
        key!(out, "close_code");
        push_u64(out, u64::from(c));
    }
}

// Traffic: SSE events (comments are written inline) and WebSocket messages, pings and pongs.

fn write_event(
    out: &mut Vec<u8>,
    event: &str,
    (data, escaped): (&str, Option<&[u8]>),
    id: Option<&str>,
    retry: Option<u64>,
) {
    key!(out, "event");
    push_str(out, event);
    key!(out, "data");
    push_text(out, data, escaped);
    key!(out, "id");
    push_opt_str(out, id);
    key!(out, "retry");
    push_opt_u64(out, retry);
}

fn write_message(
    out: &mut Vec<u8>,
    opcode: DataOpcode,
    (data, escaped): (&Payload, Option<&[u8]>),
    (frames, compressed): (u32, bool),
    decoded: Option<&crate::record::decoded::Decoded>,
) {
    key!(out, "opcode");
    push_str(out, opcode.as_str());
    push_payload(out, data, escaped);
    key!(out, "frames");
    push_u64(out, u64::from(frames));
    key!(out, "compressed");
    push_bool(out, compressed);
    if let Some(d) = decoded {
        key!(out, "decoded");
        d.write_json(out);
    }
}

/// The request streamscope sent, on an `open`: `request_method`, `request_headers`.
fn write_request(out: &mut Vec<u8>, r: &crate::record::SentRequest) {
    key!(out, "request_method");
    push_str(out, &r.method);
    key!(out, "request_headers");
    push_headers(out, &r.headers);
}

/// `rtt_ms` only on a pong that answers one of our pings.
fn write_pong(out: &mut Vec<u8>, data: &Payload, rtt_ms: Option<f64>) {
    push_payload(out, data, None);
    if let Some(rtt) = rtt_ms {
        key!(out, "rtt_ms");
        push_ms(out, rtt);
    }
}

// Forensics: gap, id_gap (lint is written inline).

/// `gap_ms` is a top-level traffic field; on a gap record it is the silence so far, written here
/// only when the record does not carry it as traffic already (`None`).
fn write_gap(out: &mut Vec<u8>, gap_ms: Option<f64>, threshold_ms: f64) {
    if let Some(ms) = gap_ms {
        key!(out, "gap_ms");
        push_ms(out, ms);
    }
    key!(out, "threshold_ms");
    push_ms(out, threshold_ms);
}

fn write_id_gap(out: &mut Vec<u8>, [expected, got, missing, repeated, count]: [u64; 5]) {
    key!(out, "expected");
    push_u64(out, expected);
    key!(out, "got");
    push_u64(out, got);
    key!(out, "missing");
    push_u64(out, missing);
    key!(out, "repeated");
    push_u64(out, repeated);
    key!(out, "count");
    push_u64(out, count);
}

// `--match`: match, match_summary.

fn write_match(out: &mut Vec<u8>, key: &str, first: Option<u64>, lead_ms: f64) {
    key!(out, "key");
    push_str(out, key);
    key!(out, "first");
    push_opt_u64(out, first);
    key!(out, "lead_ms");
    push_ms(out, lead_ms);
}

fn write_match_summary(out: &mut Vec<u8>, m: &MatchSummary) {
    key!(out, "pairs");
    push_u64(out, m.pairs);
    key!(out, "won");
    push_pair(out, m.won);
    key!(out, "ties");
    push_u64(out, m.ties);
    key!(out, "lead_p50_ms");
    push_opt_ms(out, m.lead_p50_ms);
    key!(out, "lead_p95_ms");
    push_opt_ms(out, m.lead_p95_ms);
    key!(out, "lead_p99_ms");
    push_opt_ms(out, m.lead_p99_ms);
    key!(out, "lead_max_ms");
    push_opt_ms(out, m.lead_max_ms);
    key!(out, "unmatched");
    push_pair(out, m.unmatched);
}

// LLM completions: llm_summary.

fn write_llm_summary(out: &mut Vec<u8>, s: &LlmSummary) {
    key!(out, "format");
    push_str(out, &s.format);
    key!(out, "model");
    push_opt_str(out, s.model.as_deref());
    key!(out, "complete");
    push_bool(out, s.complete);
    key!(out, "finish_reason");
    push_opt_str(out, s.finish_reason.as_deref());
    key!(out, "ttft_ms");
    push_opt_ms(out, s.ttft_ms);
    key!(out, "ttst_ms");
    push_opt_ms(out, s.ttst_ms);
    key!(out, "itl_p50_ms");
    push_opt_ms(out, s.itl_p50_ms);
    key!(out, "itl_p95_ms");
    push_opt_ms(out, s.itl_p95_ms);
    key!(out, "itl_p99_ms");
    push_opt_ms(out, s.itl_p99_ms);
    key!(out, "itl_max_ms");
    push_opt_ms(out, s.itl_max_ms);
    key!(out, "tpot_ms");
    push_opt_ms(out, s.tpot_ms);
    // Rates are written like milliseconds: three decimals at most.
    key!(out, "tokens_per_s");
    push_opt_ms(out, s.tokens_per_s);
    key!(out, "output_tokens");
    push_u64(out, s.output_tokens);
    key!(out, "tokens_source");
    push_str(out, s.tokens_source.as_str());
    key!(out, "input_tokens");
    push_opt_u64(out, s.input_tokens);
    key!(out, "server_tokens_per_s");
    push_opt_ms(out, s.server_tokens_per_s);
    key!(out, "chunks");
    push_u64(out, s.chunks);
    key!(out, "reasoning_chunks");
    push_u64(out, s.reasoning_chunks);
    key!(out, "tool_chunks");
    push_u64(out, s.tool_chunks);
    key!(out, "total_ms");
    push_ms(out, s.total_ms);
    key!(out, "stalls");
    push_u64(out, s.stalls);
    key!(out, "stall_threshold_ms");
    push_ms(out, s.stall_threshold_ms);
    key!(out, "errors");
    push_u64(out, s.errors);
    key!(out, "error");
    push_opt_str(out, s.error.as_deref());
    key!(out, "text");
    push_str(out, &s.text);
}

/// Writes records as JSON lines like [`Record::write_json`], faster on a firehose: the records of
/// one socket read share their timestamp, stream, protocol, kind and direction, so the head of the
/// line (about 80 bytes, with the timestamp formatting) is built once and copied for the rest.
#[derive(Debug, Default)]
pub struct LineEncoder {
    /// What the cached head depends on; the kind by its index, so checking the cache compares no
    /// strings.
    key: Option<(i64, usize, Proto, usize, Option<Dir>)>,
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
        self.write_escaped(r, None, out);
    }

    /// [`write`](Self::write), copying the record's payload text from `payload` when given: its
    /// JSON string as [`EscapedPayloads`] wrote it.
    pub fn write_escaped(&mut self, r: &Record, payload: Option<&[u8]>, out: &mut Vec<u8>) {
        let key = (r.ts_us, r.stream, r.proto, r.kind.index(), r.dir);
        if self.key != Some(key) {
            self.head.clear();
            r.write_json_head(&mut self.head);
            self.key = Some(key);
        }
        out.extend_from_slice(&self.head);
        r.write_json_tail_with(out, payload);
    }
}

/// The payload texts of a batch's records (an event's data, a comment, a text message) as the
/// JSON strings their lines hold, written where the records are made.
///
/// Why: on a firehose the `--json` sink's thread sets the pace, and escaping the payloads was a
/// quarter of its time, while the connection task's thread had room; so the connection task
/// escapes them as it hands each batch on, and the sink copies them
/// ([`LineEncoder::write_escaped`]). The lines are byte for byte the same either way.
#[derive(Debug, Default)]
pub struct EscapedPayloads {
    /// The strings, quotes included, one after another.
    bytes: Vec<u8>,
    /// Where each record's string ends in `bytes` (it starts where the previous one ended); a
    /// record without a payload text has none (an empty span: a JSON string never is).
    ends: Vec<usize>,
}

impl EscapedPayloads {
    /// The payload texts of `records`, escaped.
    pub fn of(records: &[Record]) -> Self {
        // Room for the worst two-byte case and the escaping window, so the strings are written
        // without growing (and copying) the buffer; six-byte escapes may still grow it.
        let room = records
            .iter()
            .filter_map(|r| payload_text(&r.kind))
            .map(|t| 2 * t.len() + 2)
            .fold(4 * ESCAPE_BLOCK, usize::saturating_add);
        let mut bytes = Vec::with_capacity(room);
        let ends = records
            .iter()
            .map(|r| {
                if let Some(text) = payload_text(&r.kind) {
                    push_str(&mut bytes, text);
                }
                bytes.len()
            })
            .collect();
        EscapedPayloads { bytes, ends }
    }

    /// The JSON string of record `i`'s payload text, if it has one.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        (end > start).then(|| &self.bytes[start..end])
    }

    /// Bytes written (the room left for the worst case is allocated, not touched).
    pub fn size(&self) -> usize {
        self.bytes.len() + self.ends.len() * std::mem::size_of::<usize>()
    }
}

/// The text of a record that [`EscapedPayloads`] escapes ahead of the line.
fn payload_text(kind: &Kind) -> Option<&str> {
    match kind {
        Kind::Event { data, .. } => Some(data),
        Kind::Comment { text } => Some(text),
        Kind::Message {
            data: Payload::Text(t),
            ..
        } => Some(t),
        _ => None,
    }
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
    // Zero first: a firehose's records share their read, so nearly every `gap_ms` is 0.
    if ms == 0.0 || !ms.is_finite() || ms < 0.0 {
        out.push(b'0');
        return;
    }
    let us = round_half_up(ms * 1000.0);
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

/// `x.round() as u64` for finite `x >= 0`, without the call into libm that `round` is on
/// baseline x86-64 (no SSE4.1): the fraction `x - trunc(x)` is exact, so this rounds as `round`
/// does (half away from zero), and saturates as the cast does.
#[inline]
fn round_half_up(x: f64) -> u64 {
    let t = x as u64;
    if x - t as f64 >= 0.5 {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Appends `s` as a JSON string.
///
/// Two paths: [`push_escaped_table`] writes a long string through a table, one load and one
/// store per byte with no branch on the bytes, into output sized once; [`push_escaped_rest`]
/// writes short strings whole (and goes on from a byte whose escape is six bytes long), finding
/// the bytes to escape in a word with a branch-free mask ([`escape_mask`]) and copying the runs
/// between them. Both skip 32-byte blocks that need no escaping with one vectorised test (JSON
/// payloads hold a quote every few bytes: walking them byte by byte with branches was 20% of a
/// firehose's CPU).
fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes.len() < TABLE_MIN && !needs_escape_in(bytes) {
        // An event type, an id, a reason: copied whole. The word-mask path below pays a copy
        // of the string into a word (a `memcpy` call, then a load that waits for it) even when
        // nothing needs escaping, and lines carry two or three such strings.
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    if bytes.len() < TABLE_MIN || !push_escaped_table(out, bytes) {
        push_escaped_rest(out, bytes);
    }
    out.push(b'"');
}

/// Strings shorter than this skip [`push_escaped_table`]: sizing its output costs more than it
/// saves on a field name or an event type.
const TABLE_MIN: usize = 24;

/// Escapes `bytes` into `out` with a branch-free byte loop and returns true, unless a byte's
/// escape is a six-byte `\u00XX` (rare: a control character), which one vectorised test over the
/// whole string finds first; then it writes nothing, returns false, and [`push_escaped_rest`] does
/// the string. (Testing once up front keeps the per-byte loop free of anything but the escape.)
///
/// Why: on JSON payloads (a quote every few bytes) copying the runs between escapes paid a
/// variable-length `memcpy` call per escape, and walking escapes by mask a chain of dependent
/// loads per escape. Here the output is sized once for the worst two-byte case; a block that needs
/// no escaping is copied whole, and in one that does every byte is one table load, one 2-byte
/// store and one add, with nothing to branch on but the end of the block.
fn push_escaped_table(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    if needs_six_byte_escape(bytes) {
        return false;
    }
    let base = out.len();
    // Every block's output is written into a 128-byte window (64 bytes at most, two per input
    // byte, and room for a 2-byte store at any masked position), so the last block needs that
    // much room whatever its length.
    out.resize(base + 2 * bytes.len() + 4 * ESCAPE_BLOCK, 0);
    let buf = &mut out[base..];
    let mut o = 0;
    for block in bytes.chunks(ESCAPE_BLOCK) {
        if let Some(whole) = block.first_chunk::<ESCAPE_BLOCK>()
            && !needs_escape_in(whole)
        {
            buf[o..o + ESCAPE_BLOCK].copy_from_slice(whole);
            o += ESCAPE_BLOCK;
            continue;
        }
        let Some(window) = buf
            .get_mut(o..)
            .and_then(<[u8]>::first_chunk_mut::<{ 4 * ESCAPE_BLOCK }>)
        else {
            // Not reached (the output is sized for every block's window); were it reached, the
            // word loop would write the whole string instead.
            out.truncate(base);
            return false;
        };
        o += escape_block(window, block);
    }
    out.truncate(base + o);
    true
}

/// Writes `block` (at most [`ESCAPE_BLOCK`] bytes, none needing a six-byte escape) escaped into
/// `window` by [`ESCAPES`]; returns how many bytes of the window count.
#[inline]
fn escape_block(window: &mut [u8; 4 * ESCAPE_BLOCK], block: &[u8]) -> usize {
    // `p` stays under 63 before each store (at most 31 bytes of two before it), so the mask
    // changes nothing; it lets the compiler drop the bounds checks.
    let mut p = 0;
    for &b in block {
        let [first, second, len, _] = ESCAPES[usize::from(b)].to_le_bytes();
        let at = p & 63;
        window[at..at + 2].copy_from_slice(&[first, second]);
        p += usize::from(len);
    }
    p
}

/// True when a byte of `bytes` is escaped as a six-byte `\u00XX`: a control character other
/// than `\n`, `\r` and `\t`, or DEL.
#[inline]
fn needs_six_byte_escape(bytes: &[u8]) -> bool {
    any_byte(bytes, six_byte_escaped)
}

/// A byte escaped as `\u00XX`, as [`any_byte`] wants it: without branches.
#[inline]
#[expect(
    clippy::needless_bitwise_bool,
    reason = "branch-free on purpose: it vectorises"
)]
fn six_byte_escaped(b: u8) -> bool {
    ((b < 0x20) & (b != b'\n') & (b != b'\r') & (b != b'\t')) | (b == 0x7f)
}

/// What each byte becomes inside a JSON string, for [`push_escaped_table`]: the low two bytes are
/// its output (the byte itself and a filler, or a two-byte escape), bits 16-23 how many of them
/// count (none for the bytes escaped as `\u00XX`, which [`needs_six_byte_escape`] keeps from
/// that path). The writer's choices, as [`push_escape`] makes them.
const ESCAPES: [u32; 256] = {
    const fn two(c: u8) -> u32 {
        (2 << 16) | ((c as u32) << 8) | b'\\' as u32
    }

    let mut t = [0; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = if b < 0x20 || b == 0x7f {
            0
        } else {
            (1 << 16) | b as u32
        };
        b += 1;
    }
    t[b'"' as usize] = two(b'"');
    t[b'\\' as usize] = two(b'\\');
    t[b'\n' as usize] = two(b'n');
    t[b'\r' as usize] = two(b'r');
    t[b'\t' as usize] = two(b't');
    t
};

/// Escapes `bytes` into `out`. A block of [`ESCAPE_BLOCK`] bytes that needs no escaping
/// is found with one branch-free test and copied later as part of a run. A block that does need
/// escaping is read as four 64-bit words, each turned without branches into a mask with the high
/// bit of every byte that must be escaped ([`escape_mask`]); each set bit gives the next position
/// to escape directly, so the run before it is copied whole.
fn push_escaped_rest(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 1);
    let mut start = 0;
    let mut i = 0;
    while let Some(block) = bytes.get(i..).and_then(<[u8]>::first_chunk::<ESCAPE_BLOCK>) {
        if needs_escape_in(block) {
            let (words, _) = block.as_chunks::<8>();
            for (k, word) in words.iter().enumerate() {
                let mask = escape_mask(u64::from_le_bytes(*word));
                push_escaped_run(out, bytes, &mut start, i + 8 * k, mask);
            }
        }
        i += ESCAPE_BLOCK;
    }
    // The tail, under a block: a word at a time, padded with a byte that needs no escape.
    while i < bytes.len() {
        let n = (bytes.len() - i).min(8);
        let mut word = [b' '; 8];
        word[..n].copy_from_slice(&bytes[i..i + n]);
        push_escaped_run(
            out,
            bytes,
            &mut start,
            i,
            escape_mask(u64::from_le_bytes(word)),
        );
        i += 8;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// For the word of `bytes` at `base` whose escape mask is `mask`: copies the run from `start` up
/// to each byte to escape, writes its escape, and moves `start` past it.
#[inline]
fn push_escaped_run(
    out: &mut Vec<u8>,
    bytes: &[u8],
    start: &mut usize,
    base: usize,
    mut mask: u64,
) {
    while mask != 0 {
        let j = base + (mask.trailing_zeros() / 8) as usize;
        out.extend_from_slice(&bytes[*start..j]);
        push_escape(out, bytes[j]);
        *start = j + 1;
        mask &= mask - 1;
    }
}

/// Bytes checked at once by [`push_str`]'s fast path.
const ESCAPE_BLOCK: usize = 32;

/// `0x01` in every byte of a word.
const LOW_BITS: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte of a word.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` (little-endian: byte `k` is bits `8k..8k+8`) that must be escaped, as a
/// mask with the high bit of each such byte set: [`needs_escape`] for eight bytes at once, exact
/// for every byte (no carry crosses from one byte to the next: each sum stays under 0x100).
#[inline]
fn escape_mask(word: u64) -> u64 {
    // High bit set where a byte is zero: (b & 0x7f) + 0x7f reaches 0x80 unless b & 0x7f is 0,
    // and `| y` catches b >= 0x80.
    let zero = |y: u64| !(((y & !HIGH_BITS) + !HIGH_BITS) | y) & HIGH_BITS;
    // Below 0x20: (b & 0x7f) + 0x60 reaches 0x80 exactly when b & 0x7f >= 0x20.
    let control = !(((word & !HIGH_BITS) + LOW_BITS * (0x80 - 0x20)) | word) & HIGH_BITS;
    control
        | zero(word ^ (LOW_BITS * u64::from(b'"')))
        | zero(word ^ (LOW_BITS * u64::from(b'\\')))
        | zero(word ^ (LOW_BITS * 0x7f))
}

/// A byte that must be escaped in a JSON string: a control character (below 0x20, or DEL, which
/// the writer also escapes), `"` or `\\`.
#[cfg(test)]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

/// True when a byte of `bytes` must be escaped: a short string, or an [`ESCAPE_BLOCK`], whose
/// fixed length lets the compiler turn the test into a few vector compares.
#[inline]
fn needs_escape_in(bytes: &[u8]) -> bool {
    any_byte(bytes, escaped_byte)
}

/// True when `is(b)` holds for a byte of `bytes`: a fold with no branch per byte (`is` combines
/// its tests with `|` and `&`), so that it vectorises.
#[inline]
fn any_byte(bytes: &[u8], is: impl Fn(u8) -> bool) -> bool {
    bytes.iter().fold(false, |acc, &b| acc | is(b))
}

/// A byte that must be escaped in a JSON string, as [`any_byte`] wants it: without branches.
#[inline]
#[expect(
    clippy::needless_bitwise_bool,
    reason = "branch-free on purpose: it vectorises"
)]
fn escaped_byte(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\') | (b == 0x7f)
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

fn push_opt_u64(out: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => push_u64(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_opt_ms(out: &mut Vec<u8>, ms: Option<f64>) {
    match ms {
        Some(ms) => push_ms(out, ms),
        None => out.extend_from_slice(b"null"),
    }
}

/// `s` as a JSON string: copied from `escaped` when given (what [`push_str`] wrote for it).
#[inline]
fn push_text(out: &mut Vec<u8>, s: &str, escaped: Option<&[u8]>) {
    match escaped {
        Some(e) => out.extend_from_slice(e),
        None => push_str(out, s),
    }
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A text payload is written from `escaped` when given (see [`EscapedPayloads`]).
fn push_payload(out: &mut Vec<u8>, data: &Payload, escaped: Option<&[u8]>) {
    match data {
        Payload::Text(s) => {
            key!(out, "data");
            push_text(out, s, escaped);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::*;
    use crate::testkit::{comment, event, rec};

    fn parse(r: &Record) -> serde_json::Value {
        let line = r.to_json_line();
        assert!(line.ends_with('\n'));
        serde_json::from_str(&line).expect("valid JSON")
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let nasty = "quote\" back\\ nl\n cr\r tab\t nul\u{0} bell\u{7} del\u{7f} é 😀";
        let r = comment(0, nasty).on(1);
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
    fn escape_mask_marks_exactly_the_bytes_to_escape() {
        // Every byte value at every position of a word, among bytes that need no escape.
        for b in 0..=u8::MAX {
            for k in 0..8 {
                let mut word = [b'a'; 8];
                word[k] = b;
                let mask = escape_mask(u64::from_le_bytes(word));
                let want = if needs_escape(b) {
                    0x80u64 << (8 * k)
                } else {
                    0
                };
                assert_eq!(mask, want, "byte {b:#04x} at {k}");
            }
        }
        // All eight at once, and neighbours that must not leak into each other.
        assert_eq!(
            escape_mask(u64::from_le_bytes(*b"\"\\\0\x1f\x7f\n\"\"")),
            HIGH_BITS
        );
        assert_eq!(escape_mask(u64::from_le_bytes(*b" !#[]~\x80\xff")), 0);
        assert_eq!(
            escape_mask(u64::from_le_bytes([
                0x1f, 0x20, 0x7f, 0x80, 0, 0xff, 0x22, 0x5c
            ])),
            0x8080_0080_0080_0080
        );
    }

    /// What `serde_json` writes for `s`, with this writer's three differences applied token by
    /// token: `\b` and `\f` are written as `\u0008` and `\u000c`, and DEL as `\u007f`.
    fn serde_json_escaping(s: &str) -> Vec<u8> {
        let theirs = serde_json::to_vec(s).expect("a string serialises");
        let mut want = Vec::with_capacity(theirs.len());
        let mut it = theirs.into_iter();
        while let Some(b) = it.next() {
            match b {
                b'\\' => match it.next() {
                    Some(b'b') => want.extend_from_slice(b"\\u0008"),
                    Some(b'f') => want.extend_from_slice(b"\\u000c"),
                    Some(c) => want.extend_from_slice(&[b'\\', c]),
                    None => panic!("serde_json ended on a backslash"),
                },
                0x7f => want.extend_from_slice(b"\\u007f"),
                _ => want.push(b),
            }
        }
        want
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Differential: random text, weighted towards the bytes that need escaping and their
        /// neighbours, at any length (blocks, words and tails), written as serde_json writes it.
        #[test]
        fn prop_escaping_matches_serde_json(
            chars in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        '"', '\\', '\n', '\r', '\t', '\u{0}', '\u{8}', '\u{c}', '\u{1f}', ' ',
                        '!', '#', '[', ']', '~', '\u{7f}', '\u{80}', 'é', '😀', 'x',
                    ]),
                    proptest::prelude::any::<char>(),
                    proptest::char::range('\u{0}', '\u{7f}'),
                ],
                0..200,
            )
        ) {
            let s: String = chars.into_iter().collect();
            // Written after other output, as in a line: only what it appends may change.
            let mut line = b"{\"k\":".to_vec();
            push_str(&mut line, &s);
            proptest::prop_assert_eq!(&line[..5], b"{\"k\":");
            let ours = line.split_off(5);
            proptest::prop_assert_eq!(&ours, &serde_json_escaping(&s));
            let back: String = serde_json::from_slice(&ours).expect("valid JSON");
            proptest::prop_assert_eq!(back, s);
        }

        /// The same on arbitrary bytes made valid UTF-8 (lossily), as a server's data arrives.
        #[test]
        fn prop_escaping_random_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let s = String::from_utf8_lossy(&bytes);
            let mut ours = Vec::new();
            push_str(&mut ours, &s);
            proptest::prop_assert_eq!(&ours, &serde_json_escaping(&s));
        }
    }

    #[test]
    fn line_encoder_writes_the_same_bytes_as_write_json() {
        let mut records = Vec::new();
        for (i, ts) in [5_000_000i64, 5_000_000, 5_000_001, 5_000_001, 6_000_000]
            .into_iter()
            .enumerate()
        {
            let r = event(ts, &format!("d{i}\"q"))
                .on(i % 2)
                .proto(if i == 3 { Proto::Ws } else { Proto::Sse })
                .dir((i != 2).then_some(Dir::In))
                .wire(10 + i as u64);
            records.push(r);
        }
        records.push(comment(6_000_000, "c").on(1));
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

    /// Lines written with the payloads escaped ahead ([`EscapedPayloads`]) and without.
    fn lines_both_ways(records: &[Record]) -> (Vec<u8>, Vec<u8>) {
        let escaped = EscapedPayloads::of(records);
        let (mut ahead, mut inline) = (Vec::new(), Vec::new());
        let (mut a, mut b) = (LineEncoder::new(), LineEncoder::new());
        for (i, r) in records.iter().enumerate() {
            a.write_escaped(r, escaped.get(i), &mut ahead);
            b.write(r, &mut inline);
        }
        (ahead, inline)
    }

    #[test]
    fn payloads_escaped_ahead_give_the_same_lines() {
        let mut records = crate::record::samples::one_of_each_kind();
        records.push(event(1, ""));
        records.push(comment(1, "\u{0}\u{7f}\"é"));
        let escaped = EscapedPayloads::of(&records);
        // Only payload texts are escaped ahead, an empty one included.
        let texts = records
            .iter()
            .filter(|r| payload_text(&r.kind).is_some())
            .count();
        let ahead = (0..records.len())
            .filter(|&i| escaped.get(i).is_some())
            .count();
        assert!(texts >= 4, "{texts}");
        assert_eq!(ahead, texts);
        assert_eq!(escaped.get(records.len() - 2), Some(&b"\"\""[..]));
        assert_eq!(escaped.get(records.len()), None);
        let (ahead, inline) = lines_both_ways(&records);
        assert_eq!(
            String::from_utf8_lossy(&ahead),
            String::from_utf8_lossy(&inline)
        );
    }

    #[test]
    fn milliseconds_round_as_f64_round_does() {
        for x in [
            0.0,
            0.4,
            0.5,
            0.499_999_999_999_999_94,
            1.5,
            2.5,
            1e15 + 0.5,
            4_503_599_627_370_495.5,
            9e18,
            1.9e19,
            f64::MAX,
        ] {
            assert_eq!(round_half_up(x), x.round() as u64, "{x}");
        }
        let line = |ms: f64| {
            let mut out = Vec::new();
            push_ms(&mut out, ms);
            String::from_utf8(out).expect("ASCII")
        };
        let got = [
            0.0,
            -0.0,
            -1.0,
            f64::NAN,
            0.0004,
            0.0005,
            1.5,
            12.345_6,
            3.1,
        ]
        .map(line);
        assert_eq!(
            got,
            ["0", "0", "0", "0", "0", "0.001", "1.5", "12.346", "3.1"]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn prop_milliseconds_round_as_f64_round_does(x in 0.0f64..1e17) {
            proptest::prop_assert_eq!(round_half_up(x), x.round() as u64);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Random payloads, event or comment or text message, any bytes (control characters,
        /// six-byte escapes, multi-byte characters): the same lines either way.
        #[test]
        fn prop_payloads_escaped_ahead_give_the_same_lines(
            payloads in proptest::collection::vec(
                (0..3u8, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)),
                0..12,
            )
        ) {
            let records: Vec<Record> = payloads
                .iter()
                .map(|(k, bytes)| {
                    let text = String::from_utf8_lossy(bytes);
                    match k {
                        0 => event(1, &text),
                        1 => comment(2, &text),
                        _ => rec(3, Kind::Message {
                            opcode: DataOpcode::Text,
                            data: Payload::Text(text.as_ref().into()),
                            frames: 1,
                            compressed: false,
                            decoded: None,
                        }),
                    }
                })
                .collect();
            let (ahead, inline) = lines_both_ways(&records);
            proptest::prop_assert_eq!(ahead, inline);
        }
    }

    #[test]
    fn every_kind_is_written_byte_for_byte() {
        // Consumers parse these exact bytes: a change to the writer must leave them alone (or
        // change this snapshot on purpose). Both paths, and a gap record that also carries the
        // traffic `gap_ms` (written once, not twice).
        let mut records = crate::record::samples::one_of_each_kind();
        let mut gap = Record::new(
            1_795_603_464_999_999,
            1,
            Proto::Ws,
            Kind::Gap {
                gap_ms: 1500.0,
                threshold_ms: 1000.0,
            },
        );
        gap.gap_ms = Some(1500.25);
        records.push(gap);
        let mut enc = LineEncoder::new();
        let (mut fast, mut plain) = (Vec::new(), Vec::new());
        for r in &records {
            enc.write(r, &mut fast);
            r.write_json(&mut plain);
        }
        assert_eq!(fast, plain);
        insta::assert_snapshot!(String::from_utf8(plain).expect("the writer writes UTF-8"));
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
    fn binary_payload_is_base64() {
        let r = rec(
            0,
            Kind::Message {
                opcode: DataOpcode::Binary,
                data: Payload::Binary(vec![0, 1, 2, 255].into()),
                frames: 2,
                compressed: false,
                decoded: None,
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
        let mut r = event(0, "x");
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
        let v = parse(&rec(
            0,
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
        let v = parse(
            &rec(
                0,
                Kind::IdGap {
                    expected: 4,
                    got: 6,
                    missing: 2,
                    repeated: 0,
                    count: 1,
                },
            )
            .proto(Proto::Ws),
        );
        assert_eq!(v["kind"], "id_gap");
        assert_eq!((&v["expected"], &v["got"]), (&4.into(), &6.into()));
        assert_eq!(
            (&v["missing"], &v["repeated"], &v["count"]),
            (&2.into(), &0.into(), &1.into())
        );
        let v = parse(&rec(
            0,
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
