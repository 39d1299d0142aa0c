//! LLM completions over a stream's records: which format the stream is, and for each completion
//! (one connection attempt: one request) its timing, tokens and answer.
//!
//! [`LlmTracker`] is a pure function of the records fed to it in order (no clock, no I/O): the
//! connection task's [`super::emitter::Emitter`] feeds it every record it makes, acts on what it
//! says (an end marker ends the stream, an in-stream error becomes an `error` record, a Responses
//! `sequence_number` is the sequence for `id_gap`), and emits its [`LlmTracker::finish`] as the
//! `llm_summary` record. The dashboard's store feeds the same records to its own tracker for the
//! live view, so the figures on screen while a completion streams are the ones its summary will
//! carry (docs/architecture.md says why it is computed there).
//!
//! Definitions, after AIPerf and vLLM bench: the request starts when the connection attempt does
//! (the `open` record's time minus its `handshake_ms`); a chunk with output is one whose answer,
//! reasoning or tool-call text is not empty; TTFT is request start to the first such chunk, time
//! to second token the first to the second, the inter-token latencies (ITL) the gaps between
//! consecutive ones, TPOT (last - first) / (output tokens - 1) and tokens/s its inverse; output
//! tokens are the provider's usage when it sent one, else the chunks with output.

use std::time::Duration;

use crate::protocol::llm::{self, Chunk, Format, Mode};
use crate::record::{Kind, LlmSummary, Proto, Record, TokensSource};

/// Events looked at for a format before a stream is taken for something else than an LLM.
const SNIFF_EVENTS: u32 = 16;
/// The stall threshold without `--heartbeat`.
pub const DEFAULT_STALL: Duration = Duration::from_secs(1);
/// Characters of the answer kept per completion (an answer beyond that is cut, not the figures).
const MAX_TEXT: usize = 1 << 20;

/// What one record meant for the completion, for the connection task to act on.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Observed {
    /// The chunk was the format's end marker: the completion is complete.
    pub end: bool,
    /// An in-stream error, to report as an `error` record.
    pub error: Option<String>,
    /// A chunk that is not the format's JSON, to report as a lint.
    pub unreadable: Option<String>,
    /// The chunk's sequence number (Responses API), for gap detection.
    pub seq: Option<u64>,
    /// The format was recognised with this record.
    pub detected: Option<Format>,
}

/// One completion in progress (or the last one).
#[derive(Debug, Clone, Default)]
pub struct Completion {
    /// Request start, µs since the epoch.
    pub request_us: i64,
    /// The first and second chunks with output.
    pub first_us: Option<i64>,
    /// The second chunk with output.
    pub second_us: Option<i64>,
    /// The latest chunk with output.
    pub last_out_us: Option<i64>,
    /// The latest record of the completion.
    pub last_us: i64,
    /// The end marker, when it came.
    pub end_us: Option<i64>,
    /// Gaps between consecutive chunks with output, µs, in arrival order.
    pub gaps_us: Vec<u64>,
    /// Chunks with output, and of those with reasoning and with tool-call text.
    pub chunks: u64,
    /// Chunks with reasoning text.
    pub reasoning_chunks: u64,
    /// Chunks with tool-call text.
    pub tool_chunks: u64,
    /// The answer so far.
    pub text: String,
    /// The reasoning so far.
    pub reasoning: String,
    /// The tool-call text so far.
    pub tool: String,
    /// Model, finish reason and usage, latest seen.
    pub model: Option<String>,
    /// Why generation stopped.
    pub finish: Option<String>,
    /// Prompt tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens by the provider's count.
    pub output_tokens: Option<u64>,
    /// Tokens per second as the server measured them.
    pub server_tokens_per_s: Option<f64>,
    /// Gaps over the stall threshold.
    pub stalls: u64,
    /// In-stream errors and the first one.
    pub errors: u64,
    /// The first in-stream error.
    pub error: Option<String>,
    /// Chunks that could not be read.
    pub unreadable: u64,
}

impl Completion {
    fn new(request_us: i64) -> Self {
        Completion {
            request_us,
            last_us: request_us,
            ..Completion::default()
        }
    }

    /// The completion's figures as they stand; `end_us` is when it ended (the end marker, or the
    /// time given to [`LlmTracker::finish`]).
    pub fn summary(
        &self,
        format: Format,
        end_us: i64,
        stall_threshold_ms: f64,
        complete: bool,
    ) -> LlmSummary {
        let ms = |us: i64| us as f64 / 1000.0;
        let mut sorted = self.gaps_us.clone();
        sorted.sort_unstable();
        let q = |p: f64| percentile(&sorted, p).map(|us| us / 1000.0);
        let (output_tokens, tokens_source) = match self.output_tokens {
            Some(n) => (n, TokensSource::Usage),
            None => (self.chunks, TokensSource::Chunks),
        };
        let tpot_ms = match (self.first_us, self.last_out_us) {
            (Some(first), Some(last)) if output_tokens > 1 && last > first => {
                Some(ms(last - first) / (output_tokens - 1) as f64)
            }
            _ => None,
        };
        LlmSummary {
            format: format.as_str().to_owned(),
            model: self.model.clone(),
            complete,
            finish_reason: self.finish.clone(),
            ttft_ms: self.first_us.map(|t| ms(t - self.request_us)),
            ttst_ms: self.first_us.zip(self.second_us).map(|(a, b)| ms(b - a)),
            itl_p50_ms: q(0.50),
            itl_p95_ms: q(0.95),
            itl_p99_ms: q(0.99),
            itl_max_ms: sorted.last().map(|&us| us as f64 / 1000.0),
            tpot_ms,
            tokens_per_s: tpot_ms.map(|t| 1000.0 / t),
            output_tokens,
            tokens_source,
            input_tokens: self.input_tokens,
            server_tokens_per_s: self.server_tokens_per_s,
            chunks: self.chunks,
            reasoning_chunks: self.reasoning_chunks,
            tool_chunks: self.tool_chunks,
            total_ms: ms(end_us.max(self.request_us) - self.request_us),
            stalls: self.stalls,
            stall_threshold_ms,
            errors: self.errors,
            error: self.error.clone(),
            text: self.text.clone(),
        }
    }

    /// Takes in one chunk that arrived at `ts_us`.
    fn add(&mut self, ts_us: i64, c: Chunk<'_>, stall_us: u64) {
        self.last_us = ts_us;
        if c.has_output() {
            self.chunks += 1;
            self.reasoning_chunks += u64::from(!c.reasoning.is_empty());
            self.tool_chunks += u64::from(!c.tool.is_empty());
            match self.last_out_us {
                None => self.first_us = Some(ts_us),
                Some(prev) => {
                    let gap = ts_us.saturating_sub(prev).max(0).unsigned_abs();
                    self.second_us.get_or_insert(ts_us);
                    self.gaps_us.push(gap);
                    self.stalls += u64::from(gap > stall_us);
                }
            }
            self.last_out_us = Some(ts_us);
            push_capped(&mut self.text, &c.text);
            push_capped(&mut self.reasoning, &c.reasoning);
            push_capped(&mut self.tool, &c.tool);
        }
        if let Some(m) = c.model
            && self.model.as_deref() != Some(m.as_ref())
        {
            self.model = Some(m.into_owned());
        }
        if let Some(f) = c.finish {
            self.finish = Some(f.into_owned());
        }
        self.input_tokens = c.input_tokens.or(self.input_tokens);
        self.output_tokens = c.output_tokens.or(self.output_tokens);
        self.server_tokens_per_s = c.server_tokens_per_s.or(self.server_tokens_per_s);
        if let Some(e) = c.error {
            self.errors += 1;
            self.error.get_or_insert(e);
        }
        if c.end && self.end_us.is_none() {
            self.end_us = Some(ts_us);
        }
    }
}

fn push_capped(to: &mut String, piece: &str) {
    if !piece.is_empty() && to.len() < MAX_TEXT {
        to.push_str(piece);
    }
}

/// The `p` quantile of sorted values by linear interpolation between the closest ranks (numpy's
/// default, which AIPerf and vLLM bench report), in the values' unit; `None` without values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = p.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (sorted[lo] as f64, sorted[hi.min(last)] as f64);
    Some(a + (b - a) * (pos - lo as f64))
}

/// One stream's LLM completions. See the module docs.
#[derive(Debug, Clone)]
pub struct LlmTracker {
    /// What the URL path says.
    hint: Option<Format>,
    format: Option<Format>,
    /// Events still looked at before giving up on finding a format.
    sniff_left: u32,
    stall_us: u64,
    current: Option<Completion>,
    /// The current completion has been summarised (its figures are final).
    finished: bool,
}

impl LlmTracker {
    /// A tracker for a stream whose URL path (and query) is `path`; gaps over `stall` are stalls.
    pub fn new(mode: Mode, path: &str, stall: Duration) -> Self {
        LlmTracker {
            hint: llm::hint_from_path(path),
            format: match mode {
                Mode::Only(f) => Some(f),
                Mode::Auto | Mode::Off => None,
            },
            sniff_left: if mode == Mode::Auto { SNIFF_EVENTS } else { 0 },
            stall_us: stall.as_micros().try_into().unwrap_or(u64::MAX),
            current: None,
            finished: false,
        }
    }

    /// The stream's format, once known.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Whether the tracker still has anything to do: a format known or still being looked for.
    pub fn active(&self) -> bool {
        self.format.is_some() || self.sniff_left > 0
    }

    /// The completion in progress, or the last one.
    pub fn current(&self) -> Option<&Completion> {
        self.current.as_ref()
    }

    /// Whether the current completion has been summarised.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The stall threshold in milliseconds.
    pub fn stall_threshold_ms(&self) -> f64 {
        self.stall_us as f64 / 1000.0
    }

    /// The current completion's figures now (`now_us` ends it for the total time).
    pub fn live(&self, now_us: i64) -> Option<LlmSummary> {
        let (format, c) = (self.format?, self.current.as_ref()?);
        let end = c.end_us.unwrap_or(now_us);
        Some(c.summary(format, end, self.stall_threshold_ms(), c.end_us.is_some()))
    }

    /// Takes in the stream's next record.
    pub fn observe(&mut self, r: &Record) -> Observed {
        if !self.active() || r.proto == Proto::Ws {
            return Observed::default();
        }
        match &r.kind {
            Kind::Open {
                headers,
                handshake_ms,
                ..
            } => {
                self.open(r.ts_us, headers, *handshake_ms);
                Observed::default()
            }
            Kind::Event { event, data, .. } => self.event(r.ts_us, event, data),
            Kind::LlmSummary(_) => {
                self.finished = true;
                Observed::default()
            }
            _ => Observed::default(),
        }
    }

    /// A new connection: a new request, so a new completion.
    fn open(&mut self, ts_us: i64, headers: &[(String, String)], handshake_ms: f64) {
        let request_us = ts_us - (handshake_ms * 1000.0).round() as i64;
        self.current = Some(Completion::new(request_us));
        self.finished = false;
        // A body of JSON lines with no path to say more is most likely Ollama's.
        if self.hint.is_none()
            && headers.iter().any(|(n, v)| {
                n == "content-type" && crate::protocol::jsonl::framing_for(v).is_some()
            })
        {
            self.hint = Some(Format::Ollama);
        }
    }

    fn event(&mut self, ts_us: i64, event: &str, data: &str) -> Observed {
        let mut seen = Observed::default();
        let format = if let Some(f) = self.format {
            f
        } else {
            // An error or a ping first: the path (or the Content-Type) says what it is, if it
            // says anything.
            let found = llm::sniff(event, data)
                .or_else(|| self.hint.filter(|_| llm::is_error_or_ping(event, data)));
            let Some(f) = found else {
                self.sniff_left = self.sniff_left.saturating_sub(1);
                return seen;
            };
            self.format = Some(f);
            seen.detected = Some(f);
            f
        };
        if self.current.is_none() || self.finished {
            // Records without an `open` before them (a capture cut at the start): the first chunk
            // starts the completion.
            self.current = Some(Completion::new(ts_us));
            self.finished = false;
        }
        let stall_us = self.stall_us;
        let Some(c) = self.current.as_mut() else {
            return seen;
        };
        if c.end_us.is_some() {
            // The completion ended with its marker: what a server sends after it is not part of it
            // (the connection task reports it).
            return seen;
        }
        match llm::parse(format, event, data) {
            Ok(chunk) => {
                seen.end = chunk.end;
                seen.seq = chunk.seq;
                seen.error.clone_from(&chunk.error);
                c.add(ts_us, chunk, stall_us);
            }
            Err(e) => {
                c.unreadable += 1;
                c.last_us = ts_us;
                seen.unreadable = Some(e);
            }
        }
        seen
    }

    /// Ends the completion in progress at `ts_us` (the end of the body, the connection or the
    /// session): its summary, `None` when there is none to give (no LLM format, no completion, or
    /// already summarised).
    pub fn finish(&mut self, ts_us: i64) -> Option<LlmSummary> {
        let format = self.format?;
        if self.finished {
            return None;
        }
        let c = self.current.as_ref()?;
        self.finished = true;
        // Gemini has no end marker: a finish reason is its last word.
        let complete =
            c.end_us.is_some() || (format == Format::Gemini && c.finish.is_some() && c.errors == 0);
        let end = c.end_us.unwrap_or(ts_us.max(c.last_us));
        Some(c.summary(format, end, self.stall_threshold_ms(), complete))
    }
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::float_cmp,
        reason = "the figures come from whole microseconds: they are exact, and compared exactly"
    )]

    use super::*;
    use crate::record::Kind;
    use crate::testkit::{event, rec};

    const T0: i64 = 1_796_000_000_000_000;

    fn open(ts: i64, handshake_ms: f64, content_type: &str) -> Record {
        rec(
            ts,
            Kind::open(
                200,
                vec![("content-type".into(), content_type.into())],
                handshake_ms,
            ),
        )
    }

    fn delta(text: &str) -> String {
        serde_json::json!({
            "object": "chat.completion.chunk",
            "model": "m1",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]
        })
        .to_string()
    }

    /// Feeds `records` and returns the summary at `end_us`.
    fn run(t: &mut LlmTracker, records: &[Record], end_us: i64) -> (Vec<Observed>, LlmSummary) {
        let seen = records.iter().map(|r| t.observe(r)).collect();
        (seen, t.finish(end_us).expect("a summary"))
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v: Vec<u64> = (1..=10).collect();
        // numpy.percentile([1..10], [50, 95, 99]) = 5.5, 9.55, 9.91
        assert_eq!(percentile(&v, 0.5), Some(5.5));
        assert!((percentile(&v, 0.95).expect("v") - 9.55).abs() < 1e-9);
        assert!((percentile(&v, 0.99).expect("v") - 9.91).abs() < 1e-9);
        assert_eq!(percentile(&[7], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn openai_completion_has_exact_timings() {
        // Attempt starts at T0 (open 40 ms later with handshake 40 ms), role chunk at +100 ms,
        // tokens at +150, +170, +200, +1400 (a stall), +1420, finish, usage, [DONE] at +1500.
        let ms = |m: i64| T0 + m * 1000;
        let role = r#"{"object":"chat.completion.chunk","model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
        let finish = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let usage = r#"{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":6}}"#;
        let records = vec![
            open(ms(40), 40.0, "text/event-stream"),
            event(ms(100), role),
            event(ms(150), &delta("Hel")),
            event(ms(170), &delta("lo")),
            event(ms(200), &delta(",")),
            event(ms(1400), &delta(" wor")),
            event(ms(1420), &delta("ld")),
            event(ms(1450), finish),
            event(ms(1460), usage),
            event(ms(1500), "[DONE]"),
        ];
        let mut t = LlmTracker::new(Mode::Auto, "/v1/chat/completions", DEFAULT_STALL);
        let (seen, s) = run(&mut t, &records, ms(1600));
        assert_eq!(seen[1].detected, Some(Format::OpenAi));
        assert!(seen[9].end && !seen[8].end);
        assert_eq!(s.format, "openai");
        assert_eq!(s.model.as_deref(), Some("m1"));
        assert!(s.complete);
        assert_eq!(s.finish_reason.as_deref(), Some("stop"));
        assert_eq!(s.ttft_ms, Some(150.0));
        assert_eq!(s.ttst_ms, Some(20.0));
        // Gaps 20, 30, 1200, 20 ms: sorted 20, 20, 30, 1200.
        assert_eq!(s.itl_p50_ms, Some(25.0));
        // Interpolated between the third and fourth gaps (in µs, then in ms: float rounding).
        let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        assert!(near(s.itl_p95_ms, 1024.5), "{:?}", s.itl_p95_ms);
        assert!(near(s.itl_p99_ms, 1164.9), "{:?}", s.itl_p99_ms);
        assert_eq!(s.itl_max_ms, Some(1200.0));
        // Usage says 6 tokens over 5 chunks: (1420 - 150) / 5 per token after the first.
        assert_eq!((s.output_tokens, s.tokens_source), (6, TokensSource::Usage));
        assert_eq!(s.input_tokens, Some(11));
        assert_eq!(s.tpot_ms, Some(254.0));
        assert_eq!(s.tokens_per_s, Some(1000.0 / 254.0));
        assert_eq!(s.chunks, 5);
        assert_eq!(s.stalls, 1);
        assert_eq!(s.stall_threshold_ms, 1000.0);
        assert_eq!(s.total_ms, 1500.0, "request start to [DONE]");
        assert_eq!(s.text, "Hello, world");
        assert_eq!((s.errors, s.error), (0, None));
        assert_eq!(t.finish(ms(1700)), None, "one summary per completion");
    }

    #[test]
    fn without_usage_chunks_are_the_tokens_and_a_cut_stream_is_incomplete() {
        let ms = |m: i64| T0 + m * 1000;
        let records = vec![
            open(ms(10), 10.0, "text/event-stream"),
            event(ms(50), &delta("a")),
            event(ms(60), &delta("b")),
            event(ms(90), &delta("c")),
        ];
        let mut t = LlmTracker::new(Mode::Only(Format::OpenAi), "/x", Duration::from_millis(25));
        let (_, s) = run(&mut t, &records, ms(300));
        assert!(!s.complete);
        assert_eq!(s.finish_reason, None);
        assert_eq!(
            (s.output_tokens, s.tokens_source),
            (3, TokensSource::Chunks)
        );
        assert_eq!(s.ttft_ms, Some(50.0));
        assert_eq!(s.tpot_ms, Some(20.0));
        assert_eq!(s.tokens_per_s, Some(50.0));
        assert_eq!((s.stalls, s.stall_threshold_ms), (1, 25.0), "the 30 ms gap");
        assert_eq!(s.total_ms, 300.0, "to the end of the body");
    }

    #[test]
    fn anthropic_with_ping_error_and_thinking() {
        let ms = |m: i64| T0 + m * 1000;
        let ev = |m: i64, name: &str, data: &str| event(ms(m), data).named(name);
        let records = vec![
            open(ms(20), 20.0, "text/event-stream"),
            ev(
                30,
                "message_start",
                r#"{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":25,"output_tokens":1}}}"#,
            ),
            ev(31, "ping", r#"{"type": "ping"}"#),
            ev(
                80,
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
            ),
            ev(
                100,
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Yes"}}"#,
            ),
            ev(
                110,
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
        ];
        let mut t = LlmTracker::new(Mode::Auto, "/v1/messages", DEFAULT_STALL);
        let (seen, s) = run(&mut t, &records, ms(120));
        assert_eq!(seen[1].detected, Some(Format::Anthropic));
        assert_eq!(
            seen[5].error.as_deref(),
            Some("anthropic error overloaded_error: Overloaded")
        );
        assert!(!s.complete, "no message_stop");
        assert_eq!(s.ttft_ms, Some(80.0), "thinking is output");
        assert_eq!(s.ttst_ms, Some(20.0));
        assert_eq!((s.chunks, s.reasoning_chunks), (2, 1));
        assert_eq!(
            (s.output_tokens, s.tokens_source),
            (2, TokensSource::Chunks)
        );
        assert_eq!(s.input_tokens, Some(25));
        assert_eq!(s.text, "Yes");
        assert_eq!(s.errors, 1);
        assert_eq!(t.current().map(|c| c.reasoning.as_str()), Some("hm"));
    }

    /// A format, its URL path, and five chunks as (event type, data).
    type Script<'a> = (Format, &'a str, [(&'a str, String); 5]);

    /// Every format on the same script, timed exactly: the request starts at T0 (open at +10 ms
    /// with a 10 ms handshake), output at +100, +130 and +190 ms, the end at +200 ms.
    #[test]
    fn every_format_gives_the_same_exact_figures_for_the_same_timing() {
        let ms = |m: i64| T0 + m * 1000;
        let scripts: [Script<'_>; 5] = [
            (
                Format::OpenAi,
                "/v1/chat/completions",
                [
                    ("message", delta("a")),
                    ("message", delta("b")),
                    ("message", delta("c")),
                    ("message", r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":3}}"#.into()),
                    ("message", "[DONE]".into()),
                ],
            ),
            (
                Format::Responses,
                "/v1/responses",
                [
                    ("response.output_text.delta", r#"{"type":"response.output_text.delta","delta":"a","sequence_number":1}"#.into()),
                    ("response.output_text.delta", r#"{"type":"response.output_text.delta","delta":"b","sequence_number":2}"#.into()),
                    ("response.output_text.delta", r#"{"type":"response.output_text.delta","delta":"c","sequence_number":3}"#.into()),
                    ("response.output_text.done", r#"{"type":"response.output_text.done","text":"abc","sequence_number":4}"#.into()),
                    ("response.incomplete", r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"length"},"usage":{"input_tokens":4,"output_tokens":3}},"sequence_number":5}"#.into()),
                ],
            ),
            (
                Format::Anthropic,
                "/v1/messages",
                [
                    ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}"#.into()),
                    ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"b"}}"#.into()),
                    ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"c"}}"#.into()),
                    ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"length"},"usage":{"input_tokens":4,"output_tokens":3}}"#.into()),
                    ("message_stop", r#"{"type":"message_stop"}"#.into()),
                ],
            ),
            (
                Format::Gemini,
                "/v1beta/models/g:streamGenerateContent",
                [
                    ("message", r#"{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0}]}"#.into()),
                    ("message", r#"{"candidates":[{"content":{"parts":[{"text":"b"}]},"index":0}]}"#.into()),
                    ("message", r#"{"candidates":[{"content":{"parts":[{"text":"c"}]},"index":0}]}"#.into()),
                    ("message", r#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"length","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3}}"#.into()),
                    ("message", r#"{"candidates":[],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3}}"#.into()),
                ],
            ),
            (
                Format::Ollama,
                "/api/chat",
                [
                    ("message", r#"{"model":"m1","message":{"content":"a"},"done":false}"#.into()),
                    ("message", r#"{"model":"m1","message":{"content":"b"},"done":false}"#.into()),
                    ("message", r#"{"model":"m1","message":{"content":"c"},"done":false}"#.into()),
                    ("message", r#"{"model":"m1","message":{"content":""},"done":false}"#.into()),
                    ("message", r#"{"model":"m1","message":{"content":""},"done":true,"done_reason":"length","prompt_eval_count":4,"eval_count":3,"eval_duration":90000000}"#.into()),
                ],
            ),
        ];
        for (format, path, chunks) in scripts {
            let mut t = LlmTracker::new(Mode::Auto, path, Duration::from_millis(50));
            t.observe(&open(ms(10), 10.0, "text/event-stream"));
            for ((name, data), at) in chunks.iter().zip([100, 130, 190, 195, 200]) {
                t.observe(&event(ms(at), data).named(name));
            }
            let s = t.finish(ms(250)).expect("a summary");
            let f = format.as_str();
            assert_eq!(s.format, f);
            assert_eq!(s.text, "abc", "{f}");
            assert_eq!((s.ttft_ms, s.ttst_ms), (Some(100.0), Some(30.0)), "{f}");
            // Gaps 30 and 60 ms.
            assert_eq!(
                (s.itl_p50_ms, s.itl_max_ms),
                (Some(45.0), Some(60.0)),
                "{f}"
            );
            assert_eq!(s.itl_p95_ms, Some(58.5), "{f}");
            assert_eq!(s.itl_p99_ms, Some(59.7), "{f}");
            assert_eq!(
                (s.output_tokens, s.tokens_source),
                (3, TokensSource::Usage),
                "{f}"
            );
            assert_eq!(s.input_tokens, Some(4), "{f}");
            assert_eq!(
                (s.tpot_ms, s.tokens_per_s),
                (Some(45.0), Some(1000.0 / 45.0)),
                "{f}"
            );
            assert_eq!(s.finish_reason.as_deref(), Some("length"), "{f}");
            assert_eq!((s.stalls, s.chunks), (1, 3), "{f}: the 60 ms gap");
            assert!(s.complete, "{f}");
            // Gemini has no end marker: its completion ends with the body.
            let end = if format == Format::Gemini {
                250.0
            } else {
                200.0
            };
            assert_eq!(s.total_ms, end, "{f}");
        }
    }

    #[test]
    fn responses_sequence_numbers_are_passed_on() {
        let data = |seq: u64, d: &str| {
            format!(
                r#"{{"type":"response.output_text.delta","delta":"{d}","sequence_number":{seq}}}"#
            )
        };
        let mut t = LlmTracker::new(Mode::Auto, "/v1/responses", DEFAULT_STALL);
        t.observe(&open(T0, 1.0, "text/event-stream"));
        let seen = t.observe(&event(T0 + 10, &data(4, "x")).named("response.output_text.delta"));
        assert_eq!(
            (seen.seq, seen.detected),
            (Some(4), Some(Format::Responses))
        );
    }

    #[test]
    fn gemini_is_complete_with_a_finish_reason() {
        let chunk = |text: &str, finish: Option<&str>| {
            serde_json::json!({
                "candidates": [{"content": {"parts": [{"text": text}]}, "finishReason": finish, "index": 0}],
                "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 4}
            })
            .to_string()
        };
        let mut t = LlmTracker::new(
            Mode::Auto,
            "/v1beta/models/g:streamGenerateContent",
            DEFAULT_STALL,
        );
        t.observe(&open(T0, 5.0, "text/event-stream"));
        t.observe(&event(T0 + 1000, &chunk("a", None)));
        t.observe(&event(T0 + 2000, &chunk("b", Some("STOP"))));
        let s = t.finish(T0 + 3000).expect("summary");
        assert!(s.complete);
        assert_eq!((s.output_tokens, s.tokens_source), (4, TokensSource::Usage));
        assert_eq!(
            s.total_ms,
            3.0 + 5.0,
            "no end marker: to the end of the body"
        );
    }

    #[test]
    fn ollama_ndjson_detected_from_the_content_type() {
        let mut t = LlmTracker::new(Mode::Auto, "/", DEFAULT_STALL);
        t.observe(&open(T0, 2.0, "application/x-ndjson").proto(Proto::Jsonl));
        let line = |s: &str| event(T0 + 1000, s).proto(Proto::Jsonl);
        // An error line first: only the Content-Type says what the stream is.
        let seen = t.observe(&line(r#"{"error":"loading model"}"#));
        assert_eq!(seen.detected, Some(Format::Ollama));
        assert_eq!(seen.error.as_deref(), Some("ollama error: loading model"));
        t.observe(&line(
            r#"{"model":"l","message":{"content":"Hi"},"done":false}"#,
        ));
        let last = t.observe(&line(
            r#"{"model":"l","message":{"content":""},"done":true,"done_reason":"stop","eval_count":10,"eval_duration":500000000}"#,
        ));
        assert!(last.end);
        let s = t.finish(T0 + 9000).expect("summary");
        assert_eq!(s.server_tokens_per_s, Some(20.0));
        assert_eq!(
            (s.output_tokens, s.tokens_source),
            (10, TokensSource::Usage)
        );
        assert_eq!(s.text, "Hi");
    }

    #[test]
    fn other_streams_are_left_alone_after_a_few_events() {
        let mut t = LlmTracker::new(Mode::Auto, "/sse", DEFAULT_STALL);
        t.observe(&open(T0, 1.0, "text/event-stream"));
        for i in 0..SNIFF_EVENTS {
            assert!(t.active());
            t.observe(&event(T0 + i64::from(i), r#"{"seq":1,"price":2}"#).named("tick"));
        }
        assert!(!t.active());
        assert_eq!(t.finish(T0 + 100), None);
        // `--llm=off` never looks.
        let mut off = LlmTracker::new(Mode::Off, "/v1/chat/completions", DEFAULT_STALL);
        assert!(!off.active());
        assert_eq!(off.observe(&event(T0, "[DONE]")), Observed::default());
    }

    #[test]
    fn an_unreadable_chunk_is_reported_and_counted() {
        let mut t = LlmTracker::new(Mode::Only(Format::OpenAi), "/", DEFAULT_STALL);
        t.observe(&open(T0, 1.0, "text/event-stream"));
        let seen = t.observe(&event(T0 + 5, r#"{"choices": [{"delta": "#));
        assert!(seen.unreadable.is_some());
        assert_eq!(t.current().map(|c| c.unreadable), Some(1));
    }

    #[test]
    fn each_open_starts_a_completion_and_the_summary_record_closes_it() {
        let mut t = LlmTracker::new(Mode::Only(Format::OpenAi), "/", DEFAULT_STALL);
        t.observe(&open(T0, 1.0, "text/event-stream"));
        t.observe(&event(T0 + 10, &delta("one")));
        let s = t.finish(T0 + 20).expect("first");
        t.observe(&rec(T0 + 20, Kind::LlmSummary(Box::new(s))));
        assert!(t.finished());
        t.observe(&open(T0 + 5_000_000, 1.0, "text/event-stream"));
        t.observe(&event(T0 + 5_010_000, &delta("two")));
        let s = t.finish(T0 + 5_020_000).expect("second");
        assert_eq!(s.text, "two");
        assert_eq!(s.ttft_ms, Some(11.0), "from the second request's start");
    }
}
