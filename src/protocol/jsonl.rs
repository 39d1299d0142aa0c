//! Incremental parser for streamed JSON bodies: newline-delimited JSON (`application/x-ndjson`,
//! `application/jsonl`: Ollama, Kubernetes watches, Docker events) and JSON text sequences
//! (`application/json-seq`, RFC 7464: each text starts with RS, U+001E).
//!
//! Like [`super::sse`] it is pure (no I/O, no clock), is fed arbitrary chunks, and keeps exact byte
//! accounting: every byte fed is attributed to exactly one emitted [`JsonLine`]
//! ([`JsonLine::wire_bytes`]) or to the count returned by [`JsonlParser::finish`], so over a
//! connection `sum(wire_bytes) + finish().discarded == bytes fed`.
//!
//! Accounting rules: a line's `wire_bytes` is every byte since the end of the previous line,
//! including blank lines skipped in between and its own terminator (LF, CR LF, or for JSON text
//! sequences the RS before it and the LF after it).
//!
//! A line that is not valid JSON is still a line (an inspector shows what came), with a
//! [`JsonlLint::NotJson`]; invalid UTF-8 is replaced with U+FFFD, as the SSE parser does.

use serde::de::IgnoredAny;

/// How the texts of a body are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON text per line (`application/x-ndjson`, `application/jsonl`).
    Lines,
    /// RFC 7464 JSON text sequences (`application/json-seq`): RS, a JSON text, LF.
    Seq,
}

/// The record separator of RFC 7464.
const RS: u8 = 0x1e;

/// The framing for a response `Content-Type`, `None` when it is not a streamed JSON type.
pub fn framing_for(content_type: &str) -> Option<Framing> {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/x-ndjson")
        || mime.eq_ignore_ascii_case("application/ndjson")
        || mime.eq_ignore_ascii_case("application/jsonl")
        || mime.eq_ignore_ascii_case("application/x-jsonlines")
        || mime.eq_ignore_ascii_case("application/jsonlines")
    {
        Some(Framing::Lines)
    } else if mime.eq_ignore_ascii_case("application/json-seq") {
        Some(Framing::Seq)
    } else {
        None
    }
}

/// One JSON text of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonLine {
    /// The text, without its terminator (and, for sequences, without the RS).
    pub data: String,
    /// Bytes attributed to it on the wire (see the module docs).
    pub wire_bytes: u64,
}

/// Legal-but-suspicious things seen while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonlLint {
    /// A line that is not one JSON text; carries its start.
    NotJson(String),
    /// The body ended with a line that had no terminator (it was still emitted).
    Unterminated,
    /// A JSON text sequence with bytes before the first RS, or a text not ended by LF.
    BadSequence,
}

/// Lints kept between calls to [`JsonlParser::take_lints`]; more are dropped.
const MAX_PENDING_LINTS: usize = 1024;
/// Characters of a bad line quoted in its lint.
const QUOTED: usize = 60;

/// Incremental parser for a streamed JSON body. See the module docs.
#[derive(Debug)]
pub struct JsonlParser {
    framing: Framing,
    /// Bytes of the current text so far (no terminator).
    partial: Vec<u8>,
    /// Bytes attributed to the next line that are not in `partial` (terminators of blank lines,
    /// RS bytes, CRs).
    pending: u64,
    /// A sequence text has started (an RS was seen).
    in_text: bool,
    lints: Vec<JsonlLint>,
}

/// What [`JsonlParser::finish`] found at the end of the body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Finished {
    /// A last text without its terminator, emitted all the same.
    pub line: Option<JsonLine>,
    /// Bytes attributed to no line (trailing blank lines).
    pub discarded: u64,
}

impl JsonlParser {
    /// A parser for a new body.
    pub fn new(framing: Framing) -> Self {
        JsonlParser {
            framing,
            partial: Vec::new(),
            pending: 0,
            in_text: false,
            lints: Vec::new(),
        }
    }

    /// The framing this parser splits by.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Feeds a chunk; complete texts are appended to `out` in order. Chunks may split anywhere.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<JsonLine>) {
        match self.framing {
            Framing::Lines => self.feed_lines(bytes, out),
            Framing::Seq => self.feed_seq(bytes, out),
        }
    }

    fn feed_lines(&mut self, bytes: &[u8], out: &mut Vec<JsonLine>) {
        let mut rest = bytes;
        while let Some(pos) = memchr::memchr(b'\n', rest) {
            let wire = (pos + 1) as u64;
            if self.partial.is_empty() {
                self.line(&rest[..pos], wire, out);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..pos]);
                let wire = wire + (line.len() - pos) as u64;
                self.line(&line, wire, out);
                line.clear();
                self.partial = line;
            }
            rest = &rest[pos + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// A complete line of `wire` bytes (its content plus terminator): a text, or blank.
    fn line(&mut self, content: &[u8], wire: u64, out: &mut Vec<JsonLine>) {
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.iter().all(u8::is_ascii_whitespace) {
            self.pending += wire;
            return;
        }
        let data = super::utf8_lossy(content).into_owned();
        self.emit(data, wire, out);
    }

    fn emit(&mut self, data: String, wire: u64, out: &mut Vec<JsonLine>) {
        if serde_json::from_str::<IgnoredAny>(&data).is_err() {
            self.push_lint(JsonlLint::NotJson(data.chars().take(QUOTED).collect()));
        }
        out.push(JsonLine {
            data,
            wire_bytes: wire + std::mem::take(&mut self.pending),
        });
    }

    fn feed_seq(&mut self, bytes: &[u8], out: &mut Vec<JsonLine>) {
        let mut rest = bytes;
        while let Some(pos) = memchr::memchr2(RS, b'\n', rest) {
            let (content, sep) = (&rest[..pos], rest[pos]);
            rest = &rest[pos + 1..];
            if !self.in_text {
                // Between texts only RS may start one; anything else is outside every text.
                if !content.iter().all(u8::is_ascii_whitespace) {
                    self.push_lint(JsonlLint::BadSequence);
                }
                self.pending += content.len() as u64 + 1;
                self.in_text = sep == RS;
                continue;
            }
            self.partial.extend_from_slice(content);
            if sep == RS {
                // A new text starts: the current one ends here, without its LF.
                self.push_lint(JsonlLint::BadSequence);
                self.seq_text(0, out);
                self.pending += 1;
                self.in_text = true;
                continue;
            }
            // An LF ends the text when what came so far is one JSON text (pretty-printed texts
            // hold LFs of their own); otherwise it is part of it.
            if serde_json::from_slice::<IgnoredAny>(&self.partial).is_ok() {
                self.seq_text(1, out);
                self.in_text = false;
            } else {
                self.partial.push(b'\n');
            }
        }
        if self.in_text {
            self.partial.extend_from_slice(rest);
        } else {
            if !rest.iter().all(u8::is_ascii_whitespace) {
                self.push_lint(JsonlLint::BadSequence);
            }
            self.pending += rest.len() as u64;
        }
    }

    /// Emits the sequence text in `partial`, ended by `terminator` bytes.
    fn seq_text(&mut self, terminator: u64, out: &mut Vec<JsonLine>) {
        let text = std::mem::take(&mut self.partial);
        let wire = text.len() as u64 + terminator;
        let trimmed = text.trim_ascii();
        if trimmed.is_empty() {
            self.pending += wire;
        } else {
            let data = super::utf8_lossy(trimmed).into_owned();
            self.emit(data, wire, out);
        }
        self.partial = text;
        self.partial.clear();
    }

    /// True when a text has started and not ended.
    pub fn line_pending(&self) -> bool {
        !self.partial.trim_ascii().is_empty()
    }

    /// Ends the body: a last text without its terminator is returned (with a lint), and the bytes
    /// attributed to nothing are counted. The parser is then ready for a new body.
    pub fn finish(&mut self) -> Finished {
        let mut out = Vec::new();
        let partial = std::mem::take(&mut self.partial);
        if partial.trim_ascii().is_empty() {
            self.pending += partial.len() as u64;
        } else {
            self.push_lint(JsonlLint::Unterminated);
            let data = super::utf8_lossy(partial.trim_ascii()).into_owned();
            self.emit(data, partial.len() as u64, &mut out);
        }
        self.in_text = false;
        Finished {
            line: out.pop(),
            discarded: std::mem::take(&mut self.pending),
        }
    }

    /// Returns and clears the lints noticed since the last call.
    pub fn take_lints(&mut self) -> Vec<JsonlLint> {
        std::mem::take(&mut self.lints)
    }

    fn push_lint(&mut self, lint: JsonlLint) {
        if self.lints.len() < MAX_PENDING_LINTS {
            self.lints.push(lint);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(framing: Framing, chunks: &[&[u8]]) -> (Vec<JsonLine>, Finished, Vec<JsonlLint>) {
        let mut p = JsonlParser::new(framing);
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        let fin = p.finish();
        (out, fin, p.take_lints())
    }

    fn datas(lines: &[JsonLine]) -> Vec<&str> {
        lines.iter().map(|l| l.data.as_str()).collect()
    }

    #[test]
    fn content_types_pick_the_framing() {
        assert_eq!(framing_for("application/x-ndjson"), Some(Framing::Lines));
        assert_eq!(
            framing_for("Application/JSONL; charset=utf-8"),
            Some(Framing::Lines)
        );
        assert_eq!(framing_for("application/json-seq"), Some(Framing::Seq));
        assert_eq!(framing_for("application/json"), None);
        assert_eq!(framing_for("text/event-stream"), None);
    }

    #[test]
    fn lines_split_on_lf_with_crlf_and_blank_lines_counted() {
        let body = b"{\"a\":1}\n\r\n{\"b\":2}\r\n\n{\"c\":3}\n";
        let (lines, fin, lints) = parse(Framing::Lines, &[body]);
        assert_eq!(datas(&lines), [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#]);
        // The blank line after the first text belongs to the second, the one after it to the third.
        let wire: Vec<u64> = lines.iter().map(|l| l.wire_bytes).collect();
        assert_eq!(wire, [8, 2 + 9, 1 + 8]);
        assert_eq!(fin, Finished::default());
        assert!(lints.is_empty(), "{lints:?}");
    }

    #[test]
    fn a_last_line_without_newline_is_still_a_line() {
        let (lines, fin, lints) = parse(Framing::Lines, &[b"{\"a\":1}\n{\"done\":tr", b"ue}"]);
        assert_eq!(datas(&lines), [r#"{"a":1}"#]);
        let last = fin.line.expect("the unterminated line");
        assert_eq!(last.data, r#"{"done":true}"#);
        assert_eq!(last.wire_bytes, 13);
        assert_eq!(fin.discarded, 0);
        assert_eq!(lints, [JsonlLint::Unterminated]);
    }

    #[test]
    fn a_line_that_is_not_json_is_kept_with_a_lint() {
        let (lines, _, lints) = parse(Framing::Lines, &[b"hello \xff\n[1]\n"]);
        assert_eq!(datas(&lines), ["hello \u{fffd}", "[1]"]);
        assert_eq!(lints, [JsonlLint::NotJson("hello \u{fffd}".into())]);
    }

    #[test]
    fn sequences_split_on_rs_and_end_texts_at_lf() {
        let body = b"\x1e{\"a\":1}\n\x1e{\n  \"b\": 2\n}\n\x1e3\n";
        let (lines, fin, lints) = parse(Framing::Seq, &[body]);
        assert_eq!(datas(&lines), [r#"{"a":1}"#, "{\n  \"b\": 2\n}", "3"]);
        assert_eq!(
            lines.iter().map(|l| l.wire_bytes).sum::<u64>() + fin.discarded,
            body.len() as u64
        );
        assert!(lints.is_empty(), "{lints:?}");
    }

    #[test]
    fn a_sequence_text_cut_by_the_next_rs_is_emitted_with_a_lint() {
        let (lines, _, lints) = parse(Framing::Seq, &[b"\x1e{\"a\":\x1e{\"b\":1}\n"]);
        assert_eq!(datas(&lines), [r#"{"a":"#, r#"{"b":1}"#]);
        assert!(lints.contains(&JsonlLint::BadSequence), "{lints:?}");
        assert!(
            lints.iter().any(|l| matches!(l, JsonlLint::NotJson(_))),
            "{lints:?}"
        );
    }

    fn split_at(body: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(body[last..p].to_vec());
            last = p;
        }
        chunks.push(body[last..].to_vec());
        chunks
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any split of the same bytes gives the same texts, and every byte is accounted for.
        #[test]
        fn splits_do_not_matter_and_bytes_add_up(
            texts in proptest::collection::vec(
                prop_oneof![
                    Just("{\"k\":1}".to_owned()),
                    Just("[\n1,\n2\n]".to_owned()),
                    Just(String::new()),
                    Just("not json".to_owned()),
                    "[a-z{}\":, ]{0,12}",
                ],
                0..12,
            ),
            crlf in any::<bool>(),
            seq in any::<bool>(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let framing = if seq { Framing::Seq } else { Framing::Lines };
            let mut body = Vec::new();
            for t in &texts {
                if seq {
                    body.push(RS);
                }
                body.extend_from_slice(t.as_bytes());
                body.extend_from_slice(if crlf && !seq { b"\r\n" } else { b"\n" });
            }
            let whole = parse(framing, &[&body]);
            let chunks = split_at(&body, &cuts);
            let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            let split = parse(framing, &refs);
            prop_assert_eq!(&whole.0, &split.0);
            prop_assert_eq!(&whole.1, &split.1);
            let total: u64 = split.0.iter().map(|l| l.wire_bytes).sum::<u64>()
                + split.1.line.as_ref().map_or(0, |l| l.wire_bytes)
                + split.1.discarded;
            prop_assert_eq!(total, body.len() as u64);
        }
    }
}
