//! Incremental parser for Server-Sent Events (`text/event-stream`) bodies.
//!
//! This module owns the byte-level interpretation of an event stream exactly
//! as specified by the WHATWG HTML standard, section 9.2.6 "Interpreting an
//! event stream": line splitting (CRLF, LF or CR, including a CRLF split
//! across reads), UTF-8 decoding with replacement, stripping of one leading
//! BOM, field parsing (`event`, `data`, `id`, `retry`), comments and event
//! dispatch. It is pure: no I/O, no clock; callers feed it arbitrary byte
//! chunks and collect [`SseItem`]s.
//!
//! On top of the spec it keeps exact byte accounting for an inspector:
//! every byte fed is attributed either to exactly one emitted item
//! ([`SseItem::wire_bytes`]) or to the count returned by
//! [`SseParser::finish`]. Over any connection,
//! `sum(wire_bytes) + finish().unwrap_or(0) == bytes fed`.
//!
//! Accounting rules:
//! * A comment's `wire_bytes` is its own line, including the terminator
//!   bytes that were visible when the line was processed.
//! * An event's `wire_bytes` is every byte of every non-comment line since
//!   the previous dispatched event (including blocks that dispatched
//!   nothing, the stripped BOM, and the terminating empty line).
//! * A CR ends a line immediately, so a line ending in CR at the very end of
//!   a feed is processed (and its item emitted) at once. If the next feed
//!   starts with LF, that LF completes the same CRLF line end but is counted
//!   towards the *next event's* `wire_bytes` (or towards the discarded count
//!   reported by `finish`). Consequently `wire_bytes` of individual items
//!   may differ by one between chunkings that split a CRLF, while the items'
//!   content and the total are identical.
//!
//! It also reports [`SseLint`]s: things that are legal but suspicious.
//!
//! Texts cost no allocation per event. Fed shared bytes ([`SseParser::feed_shared`]: a socket
//! read), the parser checks them as UTF-8 once and hands out the texts of the lines they hold
//! whole as slices of them. Otherwise an event's data is gathered in an arena (see [`Text`]) and
//! handed out as a slice of it, and comments, ids and event types go to a second, smaller arena;
//! the last id is one [`Text`] shared by the events until an `id` line changes it. Lines are parsed
//! as bytes, and each copied text is checked as UTF-8 once, when it is complete.

use crate::record::text::Arena;
use crate::record::{Kind, Text};

/// The UTF-8 byte order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Maximum number of lints buffered between calls to
/// [`SseParser::take_lints`]; further lints are dropped until the buffer is
/// drained, so a misbehaving server cannot grow memory without bound.
pub const MAX_PENDING_LINTS: usize = 1024;

/// Line-ending style bit: CRLF.
const STYLE_CRLF: u8 = 1;
/// Line-ending style bit: lone LF.
const STYLE_LF: u8 = 2;
/// Line-ending style bit: lone CR.
const STYLE_CR: u8 = 4;

/// Block size of the arena of event data: a large socket read's worth.
const DATA_BLOCK: usize = 64 * 1024;
/// Block size of the arena of short texts (comments, ids, event types).
const TEXT_BLOCK: usize = 4 * 1024;

/// Something produced by the parser, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event {
        /// The event type (`"message"`, static, when no `event` field was given).
        event: Text,
        /// The data buffer with its single trailing newline removed.
        data: Text,
        /// The last event ID string after this dispatch; `None` when empty.
        id: Option<Text>,
        /// The value of a valid `retry` field in this event's block, if any.
        retry: Option<u64>,
        /// Bytes of all non-comment lines since the previous dispatched event.
        wire_bytes: u64,
    },
    /// A comment line: text after the ':', with one leading space removed.
    Comment {
        /// The comment text.
        text: Text,
        /// Bytes of the comment line including its terminator.
        wire_bytes: u64,
    },
}

impl SseItem {
    /// The number of wire bytes attributed to this item.
    pub fn wire_bytes(&self) -> u64 {
        match self {
            SseItem::Event { wire_bytes, .. } | SseItem::Comment { wire_bytes, .. } => *wire_bytes,
        }
    }

    /// The record this item becomes: its kind, its wire bytes and its payload bytes (the data or
    /// comment text). The one mapping the SSE client and the tests share.
    pub fn into_record(self) -> (Kind, u64, u64) {
        match self {
            SseItem::Event {
                event,
                data,
                id,
                retry,
                wire_bytes,
            } => {
                let payload = data.len() as u64;
                let kind = Kind::Event {
                    event,
                    data,
                    id,
                    retry,
                };
                (kind, wire_bytes, payload)
            }
            SseItem::Comment { text, wire_bytes } => {
                let payload = text.len() as u64;
                (Kind::Comment { text }, wire_bytes, payload)
            }
        }
    }
}

/// Legal-but-suspicious things noticed while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseLint {
    /// A UTF-8 byte order mark was stripped from the start of the stream.
    Bom,
    /// More than one line-ending style (CRLF, LF, CR) was used in one
    /// connection. Reported at most once per connection.
    MixedLineEndings,
    /// A `retry` field whose value was not a non-empty string of ASCII
    /// digits (the field was ignored). Carries the value.
    InvalidRetry(String),
    /// A field with a name other than `event`, `data`, `id` or `retry`
    /// (the field was ignored). Carries the field name.
    UnknownField(String),
    /// An `id` field whose value contained U+0000 NUL (the field was
    /// ignored).
    IdWithNul,
    /// A block with a valid `retry` field and no data: the reconnection
    /// time changed without an event to carry it. Carries the value (ms).
    RetryWithoutEvent(u64),
}

/// Incremental Server-Sent Events parser. See the module docs.
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of a line that started in an earlier feed (no terminator).
    partial: Vec<u8>,
    /// The previous feed ended with CR; an LF at the start of the next feed
    /// belongs to that line end.
    pending_cr: bool,
    /// Whether the start-of-stream BOM check has been decided.
    bom_done: bool,
    /// How many BOM bytes have been matched so far while undecided.
    bom_matched: u8,
    /// Data buffer: each `data` line's value and a LF, in the arena of event data (unless the
    /// event's only data line so far is in `data_shared`).
    data: Arena,
    /// The value of the block's first data line, as a slice of the chunk being fed, while it is
    /// the only one (the common case: no copy).
    data_shared: Option<Text>,
    /// Comments, ids and event types that are not slices of the chunk being fed.
    texts: Arena,
    /// The checked UTF-8 text of the chunk being fed by [`feed_shared`](Self::feed_shared) (its
    /// longest valid prefix): lines inside it become slices of it, checked and copied no more.
    chunk: Option<Text>,
    /// Event type buffer (empty: none, so `message`).
    event_type: Text,
    /// The last event ID buffer when an `id` line changed it since the last dispatch (the spec's
    /// buffer is this, else `last_event_id`).
    id_new: Option<Text>,
    /// Last event ID string (set at each dispatch from the buffer): a copy, so that the slice an
    /// `id` line gave goes to its event alone (no second reference to count, and drop, per event).
    last_event_id: String,
    /// `last_event_id` as a text, for the events that follow without an `id` line of their own
    /// (made when the first of them comes).
    last_id_text: Option<Text>,
    /// Latest valid retry value seen on any connection.
    retry: Option<u64>,
    /// Valid retry value seen in the current block.
    block_retry: Option<u64>,
    /// Bytes of non-comment lines since the previous dispatched event.
    event_bytes: u64,
    /// Line-ending styles seen on this connection (`STYLE_*` bits).
    styles_seen: u8,
    /// Whether `MixedLineEndings` has been reported on this connection.
    mixed_reported: bool,
    /// Lints not yet taken.
    lints: Vec<SseLint>,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser {
            partial: Vec::new(),
            pending_cr: false,
            bom_done: false,
            bom_matched: 0,
            data: Arena::new(DATA_BLOCK),
            data_shared: None,
            texts: Arena::new(TEXT_BLOCK),
            chunk: None,
            event_type: Text::new(),
            id_new: None,
            last_event_id: String::new(),
            last_id_text: None,
            retry: None,
            block_retry: None,
            event_bytes: 0,
            styles_seen: 0,
            mixed_reported: false,
            lints: Vec::new(),
        }
    }
}

impl SseParser {
    /// Creates a parser for a fresh stream with no last event ID.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`feed`](Self::feed) for a chunk held in shared [`Bytes`](bytes::Bytes) (a socket read's):
    /// the chunk is checked as UTF-8 once, and the texts of the lines it holds whole are slices
    /// of it (a reference count each), not copies each checked again.
    pub fn feed_shared(&mut self, chunk: &bytes::Bytes, out: &mut Vec<SseItem>) {
        self.chunk = Some(Text::valid_prefix(chunk));
        self.feed(chunk, out);
        self.chunk = None;
    }

    /// Feeds a chunk of the stream, appending produced items to `out` in
    /// stream order. Chunks may be split anywhere.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseItem>) {
        let mut rest = bytes;
        if rest.is_empty() {
            return;
        }
        if self.pending_cr {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                self.event_bytes += 1;
                rest = &rest[1..];
                self.note_style(STYLE_CRLF);
            } else {
                self.note_style(STYLE_CR);
            }
        }
        if !self.bom_done {
            let mut i = 0;
            while i < rest.len()
                && usize::from(self.bom_matched) < BOM.len()
                && rest[i] == BOM[usize::from(self.bom_matched)]
            {
                self.bom_matched += 1;
                i += 1;
            }
            if usize::from(self.bom_matched) == BOM.len() {
                self.bom_done = true;
                self.bom_matched = 0;
                self.event_bytes += BOM.len() as u64;
                self.push_lint(SseLint::Bom);
            } else if i == rest.len() {
                // Everything so far is a BOM prefix; still undecided.
                return;
            } else {
                // Not a BOM: the matched prefix is ordinary line content.
                self.bom_done = true;
                self.partial
                    .extend_from_slice(&BOM[..usize::from(self.bom_matched)]);
                self.bom_matched = 0;
            }
            rest = &rest[i..];
        }

        while let Some(pos) = memchr::memchr2(b'\r', b'\n', rest) {
            let (term_len, style) = if rest[pos] == b'\n' {
                (1, STYLE_LF)
            } else if pos + 1 < rest.len() {
                if rest[pos + 1] == b'\n' {
                    (2, STYLE_CRLF)
                } else {
                    (1, STYLE_CR)
                }
            } else {
                // CR at the end of the feed: the style is decided by the
                // next byte.
                self.pending_cr = true;
                (1, 0)
            };
            let content = &rest[..pos];
            if self.partial.is_empty() {
                self.process_line(content, (pos + term_len) as u64, out);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(content);
                let wire = (line.len() + term_len) as u64;
                self.process_line(&line, wire, out);
                line.clear();
                self.partial = line;
            }
            if style != 0 {
                self.note_style(style);
            }
            rest = &rest[pos + term_len..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// True when an event has started but not been dispatched: a line without its terminator, or
    /// data lines not yet followed by a blank line. At the end of a body, that event is lost.
    pub fn event_pending(&self) -> bool {
        !self.partial.is_empty() || !self.data.is_empty() || self.data_shared.is_some()
    }

    /// Ends the connection: discards any partial line and undispatched
    /// block, and resets per-connection state (see
    /// [`reset_connection`](Self::reset_connection)). Returns the number of
    /// fed bytes not attributed to any emitted item, or `None` if there
    /// were none.
    pub fn finish(&mut self) -> Option<u64> {
        if self.pending_cr {
            self.note_style(STYLE_CR);
        }
        let discarded = self.event_bytes + self.partial.len() as u64 + u64::from(self.bom_matched);
        self.reset_connection();
        (discarded > 0).then_some(discarded)
    }

    /// Prepares for a new connection: clears the partial line, the data and
    /// event type buffers, the BOM state and the line-ending state. Keeps
    /// the last event ID string (the ID buffer is reset to it) and the retry
    /// value. Undispatched bytes are dropped without being reported; call
    /// [`finish`](Self::finish) to learn their count.
    pub fn reset_connection(&mut self) {
        self.partial.clear();
        self.pending_cr = false;
        self.bom_done = false;
        self.bom_matched = 0;
        self.data.clear();
        self.data_shared = None;
        self.event_type = Text::new();
        self.id_new = None;
        self.block_retry = None;
        self.event_bytes = 0;
        self.styles_seen = 0;
        self.mixed_reported = false;
    }

    /// The last event ID string: the value to send as `Last-Event-ID` when
    /// reconnecting. Empty when unset.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The latest valid `retry` value (milliseconds) seen on any connection.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry
    }

    /// Sets the last event ID (string and buffer), e.g. from a
    /// `--last-event-id` option.
    pub fn set_last_event_id(&mut self, id: &str) {
        self.last_event_id.clear();
        self.last_event_id.push_str(id);
        self.last_id_text = None;
        self.id_new = None;
    }

    /// Returns and clears the lints noticed since the last call (at most
    /// [`MAX_PENDING_LINTS`]).
    pub fn take_lints(&mut self) -> Vec<SseLint> {
        std::mem::take(&mut self.lints)
    }

    fn push_lint(&mut self, lint: SseLint) {
        if self.lints.len() < MAX_PENDING_LINTS {
            self.lints.push(lint);
        }
    }

    fn note_style(&mut self, style: u8) {
        self.styles_seen |= style;
        if !self.mixed_reported && self.styles_seen.count_ones() > 1 {
            self.mixed_reported = true;
            self.push_lint(SseLint::MixedLineEndings);
        }
    }

    /// Processes one complete line (without terminator) whose wire size,
    /// terminator included, is `wire`. The line is parsed as bytes: the field names and the
    /// colon are ASCII, so this splits it exactly where the spec's decoded text would split, and
    /// each value is decoded (invalid UTF-8 replaced) when it is used.
    fn process_line(&mut self, line: &[u8], wire: u64, out: &mut Vec<SseItem>) {
        if let Some(comment) = line.strip_prefix(b":") {
            let comment = comment.strip_prefix(b" ").unwrap_or(comment);
            out.push(SseItem::Comment {
                text: self.text(comment),
                wire_bytes: wire,
            });
            return;
        }

        self.event_bytes += wire;
        if line.is_empty() {
            self.dispatch(out);
            return;
        }

        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => self.event_type = self.text(value),
            b"data" => {
                if let Some(first) = self.data_shared.take() {
                    // A second data line: the lines are joined in the arena.
                    self.data.push(first.as_bytes());
                    self.data.push(b"\n");
                }
                match self.shared(value) {
                    Some(text) if self.data.is_empty() => self.data_shared = Some(text),
                    _ => {
                        // Decoded at dispatch: U+FFFD replacement stops at the LF (ASCII), so
                        // decoding the joined lines gives what decoding each line would.
                        self.data.push(value);
                        self.data.push(b"\n");
                    }
                }
            }
            b"id" => {
                if value.contains(&0) {
                    self.push_lint(SseLint::IdWithNul);
                } else {
                    self.id_new = Some(self.text(value));
                }
            }
            b"retry" => match parse_retry(value) {
                Some(ms) => {
                    self.retry = Some(ms);
                    self.block_retry = Some(ms);
                }
                None => self.push_lint(SseLint::InvalidRetry(
                    String::from_utf8_lossy(value).into_owned(),
                )),
            },
            other => self.push_lint(SseLint::UnknownField(
                String::from_utf8_lossy(other).into_owned(),
            )),
        }
    }

    /// `bytes` (a line or part of one) as a slice of the chunk being fed, when they lie in its
    /// checked text.
    fn shared(&self, bytes: &[u8]) -> Option<Text> {
        let chunk = self.chunk.as_ref()?;
        // Addresses compared as numbers: `bytes` is either inside the chunk or in another
        // allocation (the partial line), which cannot overlap it.
        let start = (bytes.as_ptr() as usize).checked_sub(chunk.as_ptr() as usize)?;
        chunk.slice(start..start.checked_add(bytes.len())?)
    }

    /// `bytes` as text: a slice of the chunk being fed, or else a copy in the arena of short
    /// texts (invalid UTF-8 replaced).
    fn text(&mut self, bytes: &[u8]) -> Text {
        match self.shared(bytes) {
            Some(text) => text,
            None => self.texts.text(bytes),
        }
    }

    /// Handles an empty line.
    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let fresh = self.id_new.take().inspect(|id| {
            self.last_event_id.clear();
            self.last_event_id.push_str(id);
            self.last_id_text = None;
        });
        let retry = self.block_retry.take();
        let data = match self.data_shared.take() {
            Some(data) => data,
            None if self.data.is_empty() => {
                self.event_type = Text::new();
                if let Some(ms) = retry {
                    // Nothing is dispatched, but the reconnection time changed: say so now
                    // rather than only at the next reconnect.
                    self.push_lint(SseLint::RetryWithoutEvent(ms));
                }
                return;
            }
            None => {
                // The data ends with the LF appended after its last line: taken without it.
                let data_len = self.data.len() - 1;
                let data = Text::from_utf8_lossy(self.data.take(data_len));
                self.data.clear();
                data
            }
        };
        let event = if self.event_type.is_empty() {
            Text::from_static("message")
        } else {
            std::mem::take(&mut self.event_type)
        };
        let id = match fresh {
            Some(id) => (!id.is_empty()).then_some(id),
            None if self.last_event_id.is_empty() => None,
            // One text for the events that repeat the last id, until an `id` line changes it.
            None => Some(
                self.last_id_text
                    .get_or_insert_with(|| self.texts.text(self.last_event_id.as_bytes()))
                    .clone(),
            ),
        };
        out.push(SseItem::Event {
            event,
            data,
            id,
            retry,
            wire_bytes: self.event_bytes,
        });
        self.event_bytes = 0;
    }
}

/// `a == b`, without calling `memcmp` when both are empty. Two empty `String`s point at the same
/// dangling address, and slice equality calls `memcmp` even for length 0; glibc's AVX-512
/// `memcmp` then does a masked load from that address whose suppressed fault costs a microcode
/// assist (~137 ns on the benchmark machine, against ~2 ns for equal 7-byte strings). Every event
/// without `id:` compared two empty ids that way (10-19% of a firehose's samples).
#[inline]
pub(crate) fn same_str(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.is_empty() || a == b)
}

/// Parses a `retry` value: non-empty ASCII digits, base 10, saturating.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Writes one event as a server sends it, the inverse of the parser for one event: `event:`
/// unless the type is `message`, `id:` and `retry:` when given, a `data:` line per line of `data`,
/// and the blank line that dispatches it. Used wherever streamscope plays a server (replays, HAR
/// bodies), so both write the same bytes.
pub(crate) fn encode_event(
    out: &mut String,
    event: &str,
    id: Option<&str>,
    retry: Option<u64>,
    data: &str,
) {
    use std::fmt::Write as _;
    if event != "message" {
        let _ = writeln!(out, "event: {event}");
    }
    if let Some(id) = id {
        let _ = writeln!(out, "id: {id}");
    }
    if let Some(retry) = retry {
        let _ = writeln!(out, "retry: {retry}");
    }
    for line in data.split('\n') {
        let _ = writeln!(out, "data: {line}");
    }
    out.push('\n');
}

/// Writes a comment line (`: text`).
pub(crate) fn encode_comment(out: &mut String, text: &str) {
    out.push_str(": ");
    out.push_str(text);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An item without its byte accounting, for content comparisons.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Plain {
        Event {
            event: String,
            data: String,
            id: Option<String>,
            retry: Option<u64>,
        },
        Comment(String),
    }

    fn plain(items: &[SseItem]) -> Vec<Plain> {
        items
            .iter()
            .map(|item| match item {
                SseItem::Event {
                    event,
                    data,
                    id,
                    retry,
                    ..
                } => Plain::Event {
                    event: event.to_string(),
                    data: data.to_string(),
                    id: id.as_deref().map(str::to_owned),
                    retry: *retry,
                },
                SseItem::Comment { text, .. } => Plain::Comment(text.to_string()),
            })
            .collect()
    }

    fn ev(event: &str, data: &str, id: Option<&str>, retry: Option<u64>) -> Plain {
        Plain::Event {
            event: event.to_owned(),
            data: data.to_owned(),
            id: id.map(str::to_owned),
            retry,
        }
    }

    fn msg(data: &str) -> Plain {
        ev("message", data, None, None)
    }

    fn feed_chunks(p: &mut SseParser, chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut out = Vec::new();
        for chunk in chunks {
            p.feed(chunk, &mut out);
        }
        out
    }

    fn parse(stream: &[u8]) -> Vec<Plain> {
        let mut p = SseParser::new();
        plain(&feed_chunks(&mut p, &[stream]))
    }

    fn parse_bytewise(stream: &[u8]) -> Vec<Plain> {
        let mut p = SseParser::new();
        let chunks: Vec<&[u8]> = stream.chunks(1).collect();
        plain(&feed_chunks(&mut p, &chunks))
    }

    fn split_at_cuts<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for c in cuts {
            chunks.push(&stream[start..c]);
            start = c;
        }
        chunks.push(&stream[start..]);
        chunks
    }

    fn wire_sum(items: &[SseItem]) -> u64 {
        items.iter().map(SseItem::wire_bytes).sum()
    }

    // ---- line endings -------------------------------------------------

    #[test]
    fn same_str_compares_equal_different_and_empty() {
        let (empty, also_empty) = (String::new(), String::new());
        assert!(same_str(&empty, &also_empty));
        assert!(same_str("", ""));
        assert!(same_str("42", "42"));
        assert!(!same_str("", "0"));
        assert!(!same_str("0", ""));
        assert!(!same_str("41", "42"), "same length, different bytes");
        assert!(!same_str("4", "42"), "a prefix");
    }

    #[test]
    fn last_event_id_across_empty_set_and_reset_ids() {
        // No id, an id, events that keep it, `id:` with no value resetting it, then no id again.
        let items = parse(
            b"data: a\n\nid: 7\ndata: b\n\ndata: c\n\nid\ndata: d\n\ndata: e\n\nid: 7\ndata: f\n\n",
        );
        assert_eq!(
            items,
            vec![
                ev("message", "a", None, None),
                ev("message", "b", Some("7"), None),
                ev("message", "c", Some("7"), None),
                ev("message", "d", None, None),
                ev("message", "e", None, None),
                ev("message", "f", Some("7"), None),
            ]
        );
    }

    #[test]
    fn lf_line_endings() {
        assert_eq!(parse(b"data: a\n\ndata: b\n\n"), vec![msg("a"), msg("b")]);
    }

    #[test]
    fn crlf_line_endings() {
        assert_eq!(
            parse(b"data: a\r\n\r\ndata: b\r\n\r\n"),
            vec![msg("a"), msg("b")]
        );
    }

    #[test]
    fn cr_line_endings() {
        assert_eq!(parse(b"data: a\r\rdata: b\r\r"), vec![msg("a"), msg("b")]);
    }

    #[test]
    fn crlf_split_across_feeds_is_one_line_end() {
        let mut p = SseParser::new();
        // If the split CRLF counted twice, "data: a" would dispatch early.
        let items = feed_chunks(&mut p, &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(plain(&items), vec![msg("a\nb")]);
        assert!(p.take_lints().is_empty(), "no mixed line endings");
    }

    #[test]
    fn cr_then_cr_across_feeds_is_two_line_ends() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"data: a\r", b"\r"]);
        assert_eq!(plain(&items), vec![msg("a")]);
    }

    #[test]
    fn cr_line_is_processed_immediately() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"data: a\n\r", &mut out);
        assert_eq!(plain(&out), vec![msg("a")]);
        out.clear();
        p.feed(b": c\r", &mut out);
        assert_eq!(plain(&out), vec![Plain::Comment("c".into())]);
    }

    #[test]
    fn lf_cr_is_two_line_ends() {
        assert_eq!(parse(b"data: a\n\r"), vec![msg("a")]);
    }

    #[test]
    fn mixed_line_endings_linted_once_per_connection() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\r\n\ndata: b\r\r: c\n"]);
        assert_eq!(p.take_lints(), vec![SseLint::MixedLineEndings]);
        p.finish();
        feed_chunks(&mut p, &[b"data: a\n\n"]);
        assert!(p.take_lints().is_empty());
        feed_chunks(&mut p, &[b"data: a\r\n\r\n"]);
        assert_eq!(p.take_lints(), vec![SseLint::MixedLineEndings]);
    }

    #[test]
    fn mixed_line_endings_with_cr_at_feed_end() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\n\r", b"x"]);
        assert_eq!(p.take_lints(), vec![SseLint::MixedLineEndings]);
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\n\r"]);
        assert!(p.take_lints().is_empty(), "CR style still undecided");
        p.finish();
        assert_eq!(p.take_lints(), vec![SseLint::MixedLineEndings]);
    }

    #[test]
    fn single_style_not_linted() {
        for stream in [&b"data: a\n\n"[..], b"data: a\r\r", b"data: a\r\n\r\n"] {
            let mut p = SseParser::new();
            feed_chunks(&mut p, &[stream]);
            p.finish();
            assert!(p.take_lints().is_empty(), "{stream:?}");
        }
    }

    // ---- decoding ------------------------------------------------------

    #[test]
    fn invalid_utf8_replaced() {
        assert_eq!(
            parse(b"data: a\xffb\xe2\x82c\n\n"),
            vec![msg("a\u{FFFD}b\u{FFFD}c")]
        );
    }

    #[test]
    fn invalid_utf8_in_field_name_makes_unknown_field() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"dat\xe1:x\n\n"]);
        assert!(items.is_empty());
        assert_eq!(
            p.take_lints(),
            vec![SseLint::UnknownField("dat\u{FFFD}".into())]
        );
    }

    #[test]
    fn utf8_split_across_feeds() {
        let stream = "data: h\u{e9}llo \u{20ac} \u{1f600}\n\n".as_bytes();
        for cut in 0..=stream.len() {
            let mut p = SseParser::new();
            let items = feed_chunks(&mut p, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(plain(&items), vec![msg("h\u{e9}llo \u{20ac} \u{1f600}")]);
        }
    }

    #[test]
    fn bom_stripped() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"\xEF\xBB\xBFdata: a\n\n"]);
        assert_eq!(plain(&items), vec![msg("a")]);
        assert_eq!(p.take_lints(), vec![SseLint::Bom]);
        assert_eq!(wire_sum(&items), 12);
    }

    #[test]
    fn bom_stripped_once_even_when_split() {
        let stream = b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n";
        for cut1 in 0..=7 {
            for cut2 in cut1..=7 {
                let mut p = SseParser::new();
                let items = feed_chunks(
                    &mut p,
                    &[&stream[..cut1], &stream[cut1..cut2], &stream[cut2..]],
                );
                // The second BOM is part of the first line's field name.
                assert_eq!(plain(&items), vec![msg("b")], "cuts {cut1} {cut2}");
                assert_eq!(
                    p.take_lints(),
                    vec![SseLint::Bom, SseLint::UnknownField("\u{FEFF}data".into())]
                );
                assert_eq!(wire_sum(&items), stream.len() as u64);
            }
        }
    }

    #[test]
    fn bom_in_comment_position_only_at_start() {
        // BOM followed by a comment: stripped, comment recognised.
        assert_eq!(
            parse_bytewise(b"\xEF\xBB\xBF: hi\n"),
            vec![Plain::Comment("hi".into())]
        );
        // BOM not at the start: data.
        assert_eq!(parse(b"data: \xEF\xBB\xBFx\n\n"), vec![msg("\u{FEFF}x")]);
    }

    #[test]
    fn partial_bom_is_data() {
        let stream = b"\xEF\xBBdata: a\n\ndata: b\n\n";
        for cut in 0..=stream.len() {
            let mut p = SseParser::new();
            let items = feed_chunks(&mut p, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(plain(&items), vec![msg("b")]);
            assert_eq!(
                p.take_lints(),
                vec![SseLint::UnknownField("\u{FFFD}data".into())]
            );
            assert_eq!(wire_sum(&items), stream.len() as u64);
        }
    }

    #[test]
    fn partial_bom_then_finish_counts_bytes() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"\xEF", b"\xBB"]);
        assert_eq!(p.finish(), Some(2));
    }

    #[test]
    fn bom_checked_again_on_new_connection() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"\xEF\xBB\xBFdata: a\n\n"]);
        p.finish();
        let items = feed_chunks(&mut p, &[b"\xEF\xBB\xBFdata: b\n\n"]);
        assert_eq!(plain(&items), vec![msg("b")]);
        assert_eq!(p.take_lints(), vec![SseLint::Bom, SseLint::Bom]);
    }

    // ---- line interpretation ---------------------------------------------

    #[test]
    fn empty_line_dispatches() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"data: a\n", &mut out);
        assert!(out.is_empty());
        p.feed(b"\n", &mut out);
        assert_eq!(plain(&out), vec![msg("a")]);
    }

    #[test]
    fn comment_line() {
        assert_eq!(
            parse(b": hello\n:world\n:\n:  two\n"),
            vec![
                Plain::Comment("hello".into()),
                Plain::Comment("world".into()),
                Plain::Comment(String::new()),
                Plain::Comment(" two".into()),
            ]
        );
    }

    #[test]
    fn comment_does_not_dispatch_or_interrupt_block() {
        assert_eq!(
            parse(b"data: a\n: c\ndata: b\n\n"),
            vec![Plain::Comment("c".into()), msg("a\nb")]
        );
    }

    #[test]
    fn field_without_colon() {
        assert_eq!(parse(b"data\n\n"), vec![msg("")]);
        // `event` without a colon sets an empty type → "message".
        assert_eq!(parse(b"event\ndata: x\n\n"), vec![msg("x")]);
    }

    #[test]
    fn data_only_block_with_empty_data_dispatches() {
        assert_eq!(parse(b"data:\n\n"), vec![msg("")]);
        assert_eq!(parse(b"data: \n\n"), vec![msg("")]);
    }

    #[test]
    fn space_stripped_once() {
        assert_eq!(parse(b"data:  x \n\n"), vec![msg(" x ")]);
        assert_eq!(parse(b"data:x\n\n"), vec![msg("x")]);
        assert_eq!(parse(b"data:\tx\n\n"), vec![msg("\tx")]);
    }

    #[test]
    fn value_split_at_first_colon_only() {
        assert_eq!(parse(b"data: a:b: c\n\n"), vec![msg("a:b: c")]);
    }

    #[test]
    fn space_before_colon_is_part_of_name() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"data : x\n\n"]);
        assert!(items.is_empty());
        assert_eq!(p.take_lints(), vec![SseLint::UnknownField("data ".into())]);
    }

    #[test]
    fn multiple_data_lines_joined_with_newline() {
        assert_eq!(parse(b"data: a\ndata:\ndata: b\n\n"), vec![msg("a\n\nb")]);
    }

    #[test]
    fn only_one_trailing_newline_removed() {
        assert_eq!(parse(b"data\ndata\n\n"), vec![msg("\n")]);
    }

    #[test]
    fn event_type_set() {
        assert_eq!(
            parse(b"event: ping\ndata: x\n\n"),
            vec![ev("ping", "x", None, None)]
        );
    }

    #[test]
    fn event_type_last_one_wins() {
        assert_eq!(
            parse(b"event: a\nevent: b\ndata: x\n\n"),
            vec![ev("b", "x", None, None)]
        );
    }

    #[test]
    fn empty_event_type_is_message() {
        assert_eq!(parse(b"event:\ndata: x\n\n"), vec![msg("x")]);
    }

    #[test]
    fn event_type_resets_after_dispatch() {
        assert_eq!(
            parse(b"event: a\ndata: 1\n\ndata: 2\n\n"),
            vec![ev("a", "1", None, None), msg("2")]
        );
    }

    #[test]
    fn event_type_resets_when_data_empty() {
        assert_eq!(parse(b"event: a\n\ndata: 2\n\n"), vec![msg("2")]);
    }

    #[test]
    fn field_names_are_case_sensitive() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"Data: x\n\n"]);
        assert!(items.is_empty());
        assert_eq!(p.take_lints(), vec![SseLint::UnknownField("Data".into())]);
    }

    #[test]
    fn unknown_field_ignored_and_linted() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"foo: bar\ndata: x\nbaz\n\n"]);
        assert_eq!(plain(&items), vec![msg("x")]);
        assert_eq!(
            p.take_lints(),
            vec![
                SseLint::UnknownField("foo".into()),
                SseLint::UnknownField("baz".into())
            ]
        );
        assert!(p.take_lints().is_empty());
    }

    #[test]
    fn lints_are_capped() {
        let mut p = SseParser::new();
        let stream = b"x\n".repeat(MAX_PENDING_LINTS + 10);
        feed_chunks(&mut p, &[&stream]);
        assert_eq!(p.take_lints().len(), MAX_PENDING_LINTS);
        feed_chunks(&mut p, &[b"y\n"]);
        assert_eq!(p.take_lints(), vec![SseLint::UnknownField("y".into())]);
    }

    // ---- id --------------------------------------------------------------

    #[test]
    fn id_set_on_event() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"id: 7\ndata: x\n\n"]);
        assert_eq!(plain(&items), vec![ev("message", "x", Some("7"), None)]);
        assert_eq!(p.last_event_id(), "7");
    }

    #[test]
    fn id_persists_across_events() {
        assert_eq!(
            parse(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"),
            vec![
                ev("message", "a", Some("1"), None),
                ev("message", "b", Some("1"), None),
                ev("message", "c", Some("2"), None),
            ]
        );
    }

    #[test]
    fn empty_id_clears_last_event_id() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"id: 1\ndata: a\n\nid\ndata: b\n\n"]);
        assert_eq!(
            plain(&items),
            vec![ev("message", "a", Some("1"), None), msg("b")]
        );
        assert_eq!(p.last_event_id(), "");
    }

    #[test]
    fn id_with_nul_is_ignored() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"id: 1\n\nid: a\0b\ndata: x\n\n"]);
        assert_eq!(plain(&items), vec![ev("message", "x", Some("1"), None)]);
        assert_eq!(p.take_lints(), vec![SseLint::IdWithNul]);
        assert_eq!(p.last_event_id(), "1");
    }

    #[test]
    fn id_only_block_updates_last_event_id_without_dispatch() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"id: 5\n\n"]);
        assert!(items.is_empty());
        assert_eq!(p.last_event_id(), "5");
    }

    #[test]
    fn id_is_not_committed_until_empty_line() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"id: 1\ndata: a\n\nid: 2\ndata: b\n"]);
        assert_eq!(p.last_event_id(), "1");
        assert!(p.finish().is_some());
        assert_eq!(p.last_event_id(), "1");
        // The uncommitted id buffer does not leak into the next connection.
        let items = feed_chunks(&mut p, &[b"data: c\n\n"]);
        assert_eq!(plain(&items), vec![ev("message", "c", Some("1"), None)]);
    }

    #[test]
    fn id_value_kept_verbatim() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"id:  x y \ndata\n\n"]);
        assert_eq!(plain(&items), vec![ev("message", "", Some(" x y "), None)]);
    }

    #[test]
    fn set_last_event_id_used_in_events() {
        let mut p = SseParser::new();
        p.set_last_event_id("resume-9");
        assert_eq!(p.last_event_id(), "resume-9");
        let items = feed_chunks(&mut p, &[b"data: x\n\n"]);
        assert_eq!(
            plain(&items),
            vec![ev("message", "x", Some("resume-9"), None)]
        );
    }

    #[test]
    fn last_event_id_persists_across_connections() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"id: 3\ndata: a\n\n"]);
        assert_eq!(p.finish(), None);
        let items = feed_chunks(&mut p, &[b"data: b\n\n"]);
        assert_eq!(plain(&items), vec![ev("message", "b", Some("3"), None)]);
    }

    // ---- retry -----------------------------------------------------------

    #[test]
    fn retry_digits_set_reconnection_time() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"retry: 2500\ndata: x\n\ndata: y\n\n"]);
        assert_eq!(
            plain(&items),
            vec![ev("message", "x", None, Some(2500)), msg("y")]
        );
        assert_eq!(p.retry_ms(), Some(2500));
        assert!(p.take_lints().is_empty());
    }

    #[test]
    fn retry_non_digits_ignored() {
        for value in ["1a", "-1", "+1", "1.5", " 100", "100 ", "x", "\u{0661}"] {
            let mut p = SseParser::new();
            let stream = format!("retry: 10\n\nretry: {value}\ndata: x\n\n");
            let items = feed_chunks(&mut p, &[stream.as_bytes()]);
            assert_eq!(plain(&items), vec![msg("x")], "{value:?}");
            assert_eq!(p.retry_ms(), Some(10), "{value:?}");
            assert_eq!(
                p.take_lints(),
                vec![
                    SseLint::RetryWithoutEvent(10),
                    SseLint::InvalidRetry(value.into())
                ]
            );
        }
    }

    #[test]
    fn retry_without_data_is_reported() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"retry: 5000\n\ndata: x\n\n"]);
        assert_eq!(items.len(), 1);
        assert_eq!(p.retry_ms(), Some(5000));
        assert_eq!(p.take_lints(), vec![SseLint::RetryWithoutEvent(5000)]);
        // With data, the event carries it: no lint.
        feed_chunks(&mut p, &[b"retry: 10\ndata: y\n\n"]);
        assert!(p.take_lints().is_empty());
    }

    #[test]
    fn retry_empty_ignored() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"retry\nretry:\n\n"]);
        assert_eq!(p.retry_ms(), None);
        assert_eq!(
            p.take_lints(),
            vec![
                SseLint::InvalidRetry(String::new()),
                SseLint::InvalidRetry(String::new())
            ]
        );
    }

    #[test]
    fn retry_leading_zeros() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"retry: 0010\n"]);
        assert_eq!(p.retry_ms(), Some(10));
    }

    #[test]
    fn retry_saturates() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"retry: 99999999999999999999999999\n"]);
        assert_eq!(p.retry_ms(), Some(u64::MAX));
    }

    #[test]
    fn retry_takes_effect_without_dispatch() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"retry: 5\n"]);
        assert_eq!(p.retry_ms(), Some(5));
        p.finish();
        assert_eq!(p.retry_ms(), Some(5));
    }

    #[test]
    fn retry_only_block_is_not_reported_on_next_event() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"retry: 5\n\ndata: x\n\n"]);
        assert_eq!(plain(&items), vec![msg("x")]);
        assert_eq!(items[0].wire_bytes(), 19);
    }

    // ---- end of stream / connections -------------------------------------

    #[test]
    fn unterminated_event_not_dispatched() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"data: a\n\ndata: b\n"]);
        assert_eq!(plain(&items), vec![msg("a")]);
        assert_eq!(p.finish(), Some(8));
        let items = feed_chunks(&mut p, &[b"\n"]);
        assert!(items.is_empty(), "block was discarded by finish");
    }

    #[test]
    fn finish_counts_partial_line() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\n", b"data: b"]);
        assert_eq!(p.finish(), Some(15));
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn finish_none_when_clean() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\n\n: c\n"]);
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn finish_counts_trailing_empty_lines() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\n\n\n\n"]);
        assert_eq!(p.finish(), Some(2));
    }

    #[test]
    fn reset_connection_keeps_id_and_retry() {
        let mut p = SseParser::new();
        feed_chunks(
            &mut p,
            &[b"id: 4\nretry: 9\ndata: a\n\nevent: e\ndata: partial\nda"],
        );
        p.reset_connection();
        assert_eq!(p.last_event_id(), "4");
        assert_eq!(p.retry_ms(), Some(9));
        assert_eq!(p.finish(), None, "reset dropped the partial state");
        let items = feed_chunks(&mut p, &[b"ta: b\n\n"]);
        assert!(items.is_empty(), "partial line was cleared");
        let items = feed_chunks(&mut p, &[b"data: c\n\n"]);
        assert_eq!(plain(&items), vec![ev("message", "c", Some("4"), None)]);
    }

    #[test]
    fn reset_connection_clears_pending_cr() {
        let mut p = SseParser::new();
        feed_chunks(&mut p, &[b"data: a\r"]);
        p.reset_connection();
        let items = feed_chunks(&mut p, &[b"\ndata: b\n\n"]);
        // The leading LF now is an empty line of the new connection.
        assert_eq!(plain(&items), vec![msg("b")]);
        assert_eq!(items[0].wire_bytes(), 10);
    }

    // ---- byte accounting ---------------------------------------------------

    #[test]
    fn wire_bytes_for_comment_and_event() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"data: a\r\n: hi\r\nevent: x\n\r\n"]);
        assert_eq!(
            items,
            vec![
                SseItem::Comment {
                    text: "hi".into(),
                    wire_bytes: 6
                },
                SseItem::Event {
                    event: "x".into(),
                    data: "a".into(),
                    id: None,
                    retry: None,
                    wire_bytes: 20
                },
            ]
        );
    }

    #[test]
    fn wire_bytes_include_blocks_that_dispatched_nothing() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"\xEF\xBB\xBFid: 1\n\n\ndata: x\n\n"]);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].wire_bytes(), 3 + 6 + 1 + 1 + 8 + 1);
    }

    #[test]
    fn crlf_split_lf_counted_toward_next_event() {
        let mut p = SseParser::new();
        let items = feed_chunks(
            &mut p,
            &[b": c\r", b"\ndata: a\r\n\r", b"\n: d\n", b"data: b\n\n"],
        );
        let wires: Vec<u64> = items.iter().map(SseItem::wire_bytes).collect();
        // Comment "c" gets 4 (its LF goes to the event), event a gets
        // 1 + 9 + 1, comment d gets 4, event b gets the trailing LF + 9.
        assert_eq!(wires, vec![4, 11, 4, 10]);
        assert_eq!(wire_sum(&items), 29);
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn pending_lf_discarded_at_finish_is_counted() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"data: a\n\r", b"\n"]);
        assert_eq!(wire_sum(&items), 9);
        assert_eq!(p.finish(), Some(1));
    }

    // ---- WHATWG spec examples ---------------------------------------------

    #[test]
    fn whatwg_example_stock_ticker() {
        assert_eq!(
            parse(b"data: YHOO\ndata: +2\ndata: 10\n\n"),
            vec![msg("YHOO\n+2\n10")]
        );
    }

    #[test]
    fn whatwg_example_four_blocks() {
        let stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n";
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[stream]);
        assert_eq!(
            plain(&items),
            vec![
                Plain::Comment("test stream".into()),
                ev("message", "first event", Some("1"), None),
                msg("second event"),
            ]
        );
        // The third block has no blank line after it: not dispatched.
        assert_eq!(p.finish(), Some(19));
        assert_eq!(p.last_event_id(), "");
    }

    #[test]
    fn whatwg_example_empty_data() {
        let mut p = SseParser::new();
        let items = feed_chunks(&mut p, &[b"data\n\ndata\ndata\n\ndata:"]);
        assert_eq!(plain(&items), vec![msg(""), msg("\n")]);
        assert_eq!(p.finish(), Some(5));
    }

    #[test]
    fn whatwg_example_space_after_colon_optional() {
        assert_eq!(
            parse(b"data:test\n\ndata: test\n\n"),
            vec![msg("test"), msg("test")]
        );
    }

    #[test]
    fn whatwg_example_event_types() {
        assert_eq!(
            parse(b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"),
            vec![
                ev("add", "73857293", None, None),
                ev("remove", "2153", None, None),
                ev("add", "113411", None, None),
            ]
        );
    }

    #[test]
    fn whatwg_example_messages() {
        assert_eq!(
            parse(b"data: This is the first message.\n\ndata: This is the second message, it\ndata: has two lines.\n\ndata: This is the third message.\n\n"),
            vec![
                msg("This is the first message."),
                msg("This is the second message, it\nhas two lines."),
                msg("This is the third message."),
            ]
        );
    }

    #[test]
    fn bytewise_feed_matches_whole_feed() {
        let stream = b"\xEF\xBB\xBF: hi\r\nid: 1\revent: e\ndata: \xc3\xa9\xff\r\n\r\ndata\n\n";
        assert_eq!(parse_bytewise(stream), parse(stream));
        assert_eq!(parse(stream).len(), 3);
    }

    // ---- reference model and properties -----------------------------------

    struct Reference {
        items: Vec<Plain>,
        last_event_id: String,
        retry: Option<u64>,
    }

    /// A deliberately naive, whole-stream transcription of the spec.
    fn reference(stream: &[u8]) -> Reference {
        let body = stream.strip_prefix(&BOM[..]).unwrap_or(stream);
        let text = String::from_utf8_lossy(body);
        let chars: Vec<char> = text.chars().collect();
        let mut lines = Vec::new();
        let mut cur = String::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\r' => {
                    lines.push(std::mem::take(&mut cur));
                    if chars.get(i + 1) == Some(&'\n') {
                        i += 1;
                    }
                }
                '\n' => lines.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
            i += 1;
        }
        let mut r = Reference {
            items: Vec::new(),
            last_event_id: String::new(),
            retry: None,
        };
        let (mut data, mut event, mut id_buf) = (String::new(), String::new(), String::new());
        let mut block_retry = None;
        for line in lines {
            if line.is_empty() {
                r.last_event_id.clone_from(&id_buf);
                let retry = block_retry.take();
                if data.is_empty() {
                    event.clear();
                    continue;
                }
                data.pop();
                r.items.push(Plain::Event {
                    event: if event.is_empty() {
                        "message".into()
                    } else {
                        event.clone()
                    },
                    data: std::mem::take(&mut data),
                    id: Some(r.last_event_id.clone()).filter(|s| !s.is_empty()),
                    retry,
                });
                event.clear();
            } else if let Some(c) = line.strip_prefix(':') {
                r.items
                    .push(Plain::Comment(c.strip_prefix(' ').unwrap_or(c).to_owned()));
            } else {
                let (name, value) = match line.find(':') {
                    Some(p) => {
                        let v = &line[p + 1..];
                        (&line[..p], v.strip_prefix(' ').unwrap_or(v))
                    }
                    None => (line.as_str(), ""),
                };
                match name {
                    "event" => event = value.to_owned(),
                    "data" => {
                        data.push_str(value);
                        data.push('\n');
                    }
                    "id" if !value.contains('\0') => id_buf = value.to_owned(),
                    "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                        let v = value.parse::<u64>().unwrap_or(u64::MAX);
                        r.retry = Some(v);
                        block_retry = Some(v);
                    }
                    _ => {}
                }
            }
        }
        r
    }

    fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"".to_vec()),
            Just(b"".to_vec()),
            Just(b"data: hello".to_vec()),
            Just(b"data:x".to_vec()),
            Just(b"data".to_vec()),
            Just(b"data:".to_vec()),
            Just(b"data:  two spaces".to_vec()),
            Just(b"event: ping".to_vec()),
            Just(b"event".to_vec()),
            Just(b"id: 42".to_vec()),
            Just(b"id".to_vec()),
            Just(b"id: a\0b".to_vec()),
            Just(b"retry: 3000".to_vec()),
            Just(b"retry: x1".to_vec()),
            Just(b": keepalive".to_vec()),
            Just(b":".to_vec()),
            Just(b"foo: bar".to_vec()),
            Just("data: h\u{e9}llo \u{20ac} \u{1f600}".as_bytes().to_vec()),
            Just(b"data: \xff\xfe bad \xe2\x82".to_vec()),
            Just(BOM.to_vec()),
            Just(b"\xEF\xBB".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    fn term_strategy() -> impl Strategy<Value = &'static [u8]> {
        prop_oneof![
            4 => Just(&b"\n"[..]),
            2 => Just(&b"\r"[..]),
            2 => Just(&b"\r\n"[..]),
            1 => Just(&b""[..]),
        ]
    }

    fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<bool>(),
            proptest::collection::vec((line_strategy(), term_strategy()), 0..40),
        )
            .prop_map(|(bom, lines)| {
                let mut s = Vec::new();
                if bom {
                    s.extend_from_slice(&BOM);
                }
                for (line, term) in lines {
                    s.extend_from_slice(&line);
                    s.extend_from_slice(term);
                }
                s
            })
    }

    fn cuts_strategy() -> impl Strategy<Value = Vec<prop::sample::Index>> {
        proptest::collection::vec(any::<prop::sample::Index>(), 0..12)
    }

    struct Run {
        items: Vec<SseItem>,
        lints: Vec<SseLint>,
        discarded: Option<u64>,
        last_event_id: String,
        retry: Option<u64>,
    }

    fn run(stream: &[u8], cuts: &[usize]) -> Run {
        run_fed(stream, cuts, false)
    }

    /// [`run`], feeding each chunk as shared bytes ([`SseParser::feed_shared`]) when `shared`.
    fn run_fed(stream: &[u8], cuts: &[usize], shared: bool) -> Run {
        let mut p = SseParser::new();
        let items = if shared {
            let mut out = Vec::new();
            for chunk in split_at_cuts(stream, cuts) {
                p.feed_shared(&bytes::Bytes::copy_from_slice(chunk), &mut out);
            }
            out
        } else {
            feed_chunks(&mut p, &split_at_cuts(stream, cuts))
        };
        let discarded = p.finish();
        Run {
            items,
            lints: p.take_lints(),
            discarded,
            last_event_id: p.last_event_id().to_owned(),
            retry: p.retry_ms(),
        }
    }

    fn resolve(stream: &[u8], idx: &[prop::sample::Index]) -> Vec<usize> {
        idx.iter().map(|i| i.index(stream.len() + 1)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn prop_any_split_gives_same_items(stream in stream_strategy(), idx in cuts_strategy()) {
            let cuts = resolve(&stream, &idx);
            let whole = run(&stream, &[]);
            let split = run(&stream, &cuts);
            prop_assert_eq!(plain(&whole.items), plain(&split.items));
            prop_assert_eq!(&whole.lints, &split.lints);
            prop_assert_eq!(&whole.last_event_id, &split.last_event_id);
            prop_assert_eq!(whole.retry, split.retry);
            // Byte attribution is identical too unless a cut separates a CR
            // from its LF (documented: that LF moves to the next event).
            let splits_crlf = cuts
                .iter()
                .any(|&c| c > 0 && c < stream.len() && stream[c - 1] == b'\r' && stream[c] == b'\n');
            if !splits_crlf {
                prop_assert_eq!(&whole.items, &split.items);
                prop_assert_eq!(whole.discarded, split.discarded);
            }
        }

        #[test]
        fn prop_matches_reference_model(stream in stream_strategy(), idx in cuts_strategy()) {
            let cuts = resolve(&stream, &idx);
            let got = run(&stream, &cuts);
            let want = reference(&stream);
            prop_assert_eq!(plain(&got.items), want.items);
            prop_assert_eq!(got.last_event_id, want.last_event_id);
            prop_assert_eq!(got.retry, want.retry);
        }

        #[test]
        fn prop_shared_chunks_give_what_copied_ones_give(
            stream in stream_strategy(),
            idx in cuts_strategy(),
        ) {
            let cuts = resolve(&stream, &idx);
            let copied = run_fed(&stream, &cuts, false);
            let shared = run_fed(&stream, &cuts, true);
            prop_assert_eq!(&copied.items, &shared.items);
            prop_assert_eq!(&copied.lints, &shared.lints);
            prop_assert_eq!(copied.discarded, shared.discarded);
            prop_assert_eq!(&copied.last_event_id, &shared.last_event_id);
            prop_assert_eq!(copied.retry, shared.retry);
        }

        #[test]
        fn prop_byte_accounting(stream in stream_strategy(), idx in cuts_strategy()) {
            let cuts = resolve(&stream, &idx);
            let mut p = SseParser::new();
            let mut total = 0u64;
            // Two connections in a row on the same parser.
            for _ in 0..2 {
                let items = feed_chunks(&mut p, &split_at_cuts(&stream, &cuts));
                total += wire_sum(&items) + p.finish().unwrap_or(0);
            }
            prop_assert_eq!(total, 2 * stream.len() as u64);
        }

        #[test]
        fn prop_arbitrary_bytes_no_panic_and_accounted(
            stream in proptest::collection::vec(any::<u8>(), 0..512),
            idx in cuts_strategy(),
        ) {
            let cuts = resolve(&stream, &idx);
            let got = run(&stream, &cuts);
            prop_assert_eq!(
                wire_sum(&got.items) + got.discarded.unwrap_or(0),
                stream.len() as u64
            );
            prop_assert_eq!(plain(&got.items), reference(&stream).items);
        }
    }

    #[test]
    fn texts_of_a_shared_chunk_are_slices_of_it() {
        let chunk = bytes::Bytes::from_static(
            "id: 7\nevent: tick\ndata: caf\u{e9}\n\n: note\ndata: a\ndata: b\n\ndata: cut"
                .as_bytes(),
        );
        let inside = |t: &Text| chunk.as_ptr_range().contains(&t.as_ptr());
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed_shared(&chunk, &mut out);
        let [
            SseItem::Event {
                event, data, id, ..
            },
            SseItem::Comment { text, .. },
            SseItem::Event { data: joined, .. },
        ] = out.as_slice()
        else {
            panic!("two events and a comment: {out:?}");
        };
        assert_eq!((event.as_str(), data.as_str()), ("tick", "café"));
        assert!(inside(event) && inside(data) && inside(text));
        assert!(id.as_ref().is_some_and(|id| id == "7" && inside(id)));
        // Two data lines are joined in the arena: not a slice of the chunk.
        assert_eq!(joined, "a\nb");
        assert!(!inside(joined));
        // The cut line continues in the next chunk: copied, and the same text.
        p.feed_shared(&bytes::Bytes::from_static(b"s\n\n"), &mut out);
        assert!(matches!(out.last(), Some(SseItem::Event { data, .. }) if data == "cuts"));
        // A chunk cut inside a character: the lines before the cut are still shared.
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let cut = bytes::Bytes::from_static(b"data: x\n\ndata: \xc3");
        p.feed_shared(&cut, &mut out);
        p.feed_shared(&bytes::Bytes::from_static(b"\xa9\n\n"), &mut out);
        let texts: Vec<&str> = out
            .iter()
            .filter_map(|i| match i {
                SseItem::Event { data, .. } => Some(data.as_str()),
                SseItem::Comment { .. } => None,
            })
            .collect();
        assert_eq!(texts, ["x", "é"]);
        assert!(
            matches!(&out[0], SseItem::Event { data, .. } if cut.as_ptr_range().contains(&data.as_ptr()))
        );
    }

    /// Rough throughput measurement; run with
    /// `cargo test --release -- --ignored --nocapture throughput`.
    #[test]
    #[ignore = "benchmark, not a correctness test"]
    fn throughput() {
        let mut stream = Vec::new();
        let mut n = 0u64;
        while stream.len() < 64 << 20 {
            let line = format!(
                "id: {n}\nevent: tick\ndata: {{\"seq\":{n},\"payload\":\"abcdefghijklmnopqrstuvwxyz0123456789\"}}\n\n"
            );
            stream.extend_from_slice(line.as_bytes());
            n += 1;
        }
        for chunk_size in [1 << 10, 16 << 10, 64 << 10] {
            let mut p = SseParser::new();
            let mut out = Vec::with_capacity(1024);
            let mut events = 0usize;
            let start = std::time::Instant::now();
            for chunk in stream.chunks(chunk_size) {
                p.feed(chunk, &mut out);
                events += out.len();
                out.clear();
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "chunk {chunk_size:>6} B: {:.0} MB/s, {:.2} M events/s ({} B/event)",
                stream.len() as f64 / secs / 1e6,
                events as f64 / secs / 1e6,
                stream.len() as u64 / n
            );
            assert_eq!(events as u64, n);
        }
    }

    #[test]
    fn encoded_events_parse_back_to_themselves() {
        let mut bytes = String::new();
        encode_event(&mut bytes, "tick", Some("7"), Some(1500), "a\nb");
        encode_comment(&mut bytes, "keep-alive");
        encode_event(&mut bytes, "message", None, None, "");
        let mut p = SseParser::new();
        let mut items = Vec::new();
        p.feed(bytes.as_bytes(), &mut items);
        let got: Vec<String> = items
            .iter()
            .map(|i| match i {
                SseItem::Event {
                    event,
                    data,
                    id,
                    retry,
                    ..
                } => format!("{event}|{data}|{id:?}|{retry:?}"),
                SseItem::Comment { text, .. } => format!(":{text}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                "tick|a\nb|Some(\"7\")|Some(1500)",
                ":keep-alive",
                "message||Some(\"7\")|None"
            ]
        );
    }
}
