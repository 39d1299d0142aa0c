//! `/llm/<format>/...`: mock LLM completions in each provider's wire format (`openai`,
//! `responses`, `anthropic`, `gemini`, `ollama`), with their timing set by query knobs, so the
//! LLM view, its metrics and the end-of-completion rules can be tried and tested without a
//! provider. Any path under the prefix is served, so the provider's own paths work
//! (`/llm/openai/v1/chat/completions`, `/llm/gemini/v1beta/models/m:streamGenerateContent`).
//!
//! Knobs (all optional): `tokens=N` answer tokens (24), `reasoning=N` reasoning tokens before
//! them (0), `ttft_ms` delay before the first token (200), `delay_ms` between tokens (30),
//! `jitter_ms` added to each delay, pseudo-random but the same for every run (0), `stall_at=K`
//! with `stall_ms` (2000) token K comes that much later, `error_at=K` the provider's in-stream
//! error instead of token K (and the body ends), `cut_at=K` the body ends after K tokens without
//! the end marker, `usage=0` no usage figures. The model is the request body's `model`; the answer
//! starts with the body's prompt.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use hyper::Response;
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::body::{self, Body, Sender};
use super::query::{BadQuery, Query};
use super::state::State;
use crate::protocol::llm::{Format, prompt_of};

/// Bytes of tokens written as one chunk when no delay separates them (a firehose completion).
const COALESCE: usize = 16 * 1024;
/// What the reasoning tokens say.
const THOUGHT: &[&str] = &[
    "Let", "me", "think", "about", "how", "to", "answer", "this.",
];
/// What the answer says after the prompt, round and round.
const FILLER: &str = "Streamscope measures what crosses the wire: every chunk of this mock \
                      answer arrives on its own schedule, so the time to first token, the \
                      inter-token latency and the tokens per second can be checked against \
                      the query that asked for them.";

/// The timing and shape asked for in the query.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Script {
    tokens: u64,
    reasoning: u64,
    ttft: Duration,
    delay: Duration,
    jitter_ms: u64,
    stall_at: Option<u64>,
    stall: Duration,
    error_at: Option<u64>,
    cut_at: Option<u64>,
    usage: bool,
}

impl Script {
    pub(super) fn from_query(q: &Query) -> Result<Script, BadQuery> {
        let ms = |name: &str, default: u64| -> Result<Duration, BadQuery> {
            Ok(Duration::from_millis(
                q.number(name, 0, 3_600_000)?.unwrap_or(default),
            ))
        };
        let usage = match q.get("usage") {
            None | Some("1" | "true") => true,
            Some("0" | "false") => false,
            Some(other) => {
                return Err(BadQuery::new(format!(
                    "query parameter usage={other:?} must be 0 or 1"
                )));
            }
        };
        Ok(Script {
            tokens: q.number("tokens", 0, 10_000_000)?.unwrap_or(24),
            reasoning: q.number("reasoning", 0, 100_000)?.unwrap_or(0),
            ttft: ms("ttft_ms", 200)?,
            delay: ms("delay_ms", 30)?,
            jitter_ms: q.number("jitter_ms", 0, 3_600_000)?.unwrap_or(0),
            stall_at: q.number("stall_at", 0, u64::MAX)?,
            stall: ms("stall_ms", 2000)?,
            error_at: q.number("error_at", 0, u64::MAX)?,
            cut_at: q.number("cut_at", 0, u64::MAX)?,
            usage,
        })
    }

    /// The wait before token `i` (reasoning tokens first).
    fn wait(&self, i: u64) -> Duration {
        let mut wait = if i == 0 {
            self.ttft
        } else {
            self.delay + Duration::from_millis(jitter(i, self.jitter_ms))
        };
        if self.stall_at == Some(i) {
            wait += self.stall;
        }
        wait
    }
}

/// A value in `0..=max` that depends on `i` alone (splitmix64's finaliser).
fn jitter(i: u64, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) % (max + 1)
}

/// The format a path under `/llm/` names.
pub(super) fn format_of(path: &str) -> Option<Format> {
    let name = path.strip_prefix("/llm/")?.split('/').next()?;
    Format::from_name(name)
}

/// Any method on `/llm/<format>/...`: a mock completion.
pub(super) async fn completion(
    req: hyper::Request<Incoming>,
    format: Format,
    query: &Query,
    state: Arc<State>,
) -> Response<Body> {
    let script = match Script::from_query(query) {
        Ok(s) => s,
        Err(bad) => return bad.into_response(),
    };
    let generate = req.uri().path().ends_with("/api/generate");
    let body = match super::sse::read_body(req.into_body()).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let prompt = prompt_of(&request)
        .or_else(|| query.get("prompt").map(str::to_owned))
        .unwrap_or_default();
    let model = request["model"]
        .as_str()
        .map_or_else(|| default_model(format).to_owned(), str::to_owned);
    let words = answer_words(&prompt, script.tokens);
    let wire = Wire {
        format,
        model,
        generate,
        prompt_tokens: prompt.split_whitespace().count().max(1) as u64,
        seq: 0,
        block: None,
        sent_answer: 0,
        sent_reasoning: 0,
        created: now_secs(),
    };
    let (tx, response) = if format == Format::Ollama {
        body::stream("application/x-ndjson")
    } else {
        body::event_stream()
    };
    tokio::spawn(async move {
        let _state = state;
        run(tx, script, wire, words).await;
    });
    response
}

fn default_model(format: Format) -> &'static str {
    match format {
        Format::OpenAi | Format::Responses => "mock-gpt",
        Format::Anthropic => "mock-claude",
        Format::Gemini => "mock-gemini",
        Format::Ollama => "mock-llama",
    }
}

/// The answer's tokens: the prompt's words, then the filler's, `n` in all, each with the space
/// before it.
fn answer_words(prompt: &str, n: u64) -> Vec<String> {
    let filler = FILLER.split_whitespace();
    prompt
        .split_whitespace()
        .chain(filler.cycle())
        .take(usize::try_from(n).unwrap_or(usize::MAX))
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_owned()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

/// Sends the script: waits, tokens, and the end (or the error, or the cut). Tokens that are due at
/// once go out together, so a completion with no delays is a firehose, not a syscall per token.
async fn run(tx: Sender, script: Script, mut wire: Wire, words: Vec<String>) {
    let mut pending = BytesMut::new();
    for chunk in wire.start() {
        pending.extend_from_slice(&chunk);
    }
    let total = script.reasoning + script.tokens;
    for i in 0..total {
        let wait = script.wait(i);
        if (!wait.is_zero() || pending.len() >= COALESCE) && !send(&tx, &mut pending).await {
            return;
        }
        if !wait.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = tx.closed() => return,
            }
        }
        if script.error_at == Some(i) {
            pending.extend_from_slice(&wire.error());
            let _ = send(&tx, &mut pending).await;
            return;
        }
        if script.cut_at == Some(i) {
            let _ = send(&tx, &mut pending).await;
            return;
        }
        let chunk = if i < script.reasoning {
            let word = THOUGHT[(i as usize) % THOUGHT.len()];
            let word = if i == 0 {
                word.to_owned()
            } else {
                format!(" {word}")
            };
            wire.token(&word, true)
        } else {
            let n = usize::try_from(i - script.reasoning).unwrap_or(usize::MAX);
            wire.token(words.get(n).map_or("", String::as_str), false)
        };
        pending.extend_from_slice(&chunk);
    }
    if script.error_at == Some(total) {
        pending.extend_from_slice(&wire.error());
    } else if script.cut_at != Some(total) {
        for chunk in wire.finish(script.usage, &script) {
            pending.extend_from_slice(&chunk);
        }
    }
    let _ = send(&tx, &mut pending).await;
}

/// Sends what is pending; false when the client is gone.
async fn send(tx: &Sender, pending: &mut BytesMut) -> bool {
    if pending.is_empty() {
        return true;
    }
    tx.send(pending.split().freeze()).await.is_ok()
}

/// One completion's wire format, with the state it needs (sequence numbers, content blocks).
struct Wire {
    format: Format,
    model: String,
    /// Ollama `/api/generate` rather than `/api/chat`.
    generate: bool,
    prompt_tokens: u64,
    /// Responses API `sequence_number` of the next event.
    seq: u64,
    /// Anthropic: the kind of the open content block and its index.
    block: Option<(&'static str, u64)>,
    sent_answer: u64,
    sent_reasoning: u64,
    /// OpenAI's `created`: when the completion started, in Unix seconds.
    created: u64,
}

fn sse(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

fn typed(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Wire {
    /// Responses API: a typed event with the next sequence number.
    fn numbered(&mut self, event: &str, mut data: Value) -> Bytes {
        data["type"] = json!(event);
        data["sequence_number"] = json!(self.seq);
        self.seq += 1;
        typed(event, &data)
    }

    fn openai_chunk(&self, delta: &Value, finish: Option<&str>) -> Value {
        json!({
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    }

    fn usage(&self) -> (u64, u64) {
        (self.prompt_tokens, self.sent_answer + self.sent_reasoning)
    }

    /// What comes before the first token.
    fn start(&mut self) -> Vec<Bytes> {
        match self.format {
            Format::OpenAi => vec![sse(
                &self.openai_chunk(&json!({"role": "assistant", "content": ""}), None)
            )],
            Format::Responses => {
                let response = json!({"id": "resp_mock", "object": "response", "status": "in_progress", "model": self.model, "usage": null});
                vec![
                    self.numbered("response.created", json!({"response": response})),
                    self.numbered("response.in_progress", json!({"response": response})),
                    self.numbered(
                        "response.output_item.added",
                        json!({"output_index": 0, "item": {"id": "msg_mock", "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
                    ),
                    self.numbered(
                        "response.content_part.added",
                        json!({"item_id": "msg_mock", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
                    ),
                ]
            }
            Format::Anthropic => vec![
                typed(
                    "message_start",
                    &json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant", "content": [], "model": self.model, "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": self.prompt_tokens, "output_tokens": 1}}}),
                ),
                typed("ping", &json!({"type": "ping"})),
            ],
            Format::Gemini | Format::Ollama => Vec::new(),
        }
    }

    /// Anthropic: opens a content block of `kind` (closing the one open), as the stream needs.
    fn anthropic_block(&mut self, kind: &'static str, out: &mut Vec<u8>) -> u64 {
        match self.block {
            Some((open, index)) if open == kind => return index,
            Some((_, index)) => {
                out.extend_from_slice(&typed(
                    "content_block_stop",
                    &json!({"type": "content_block_stop", "index": index}),
                ));
            }
            None => {}
        }
        let index = self.block.map_or(0, |(_, i)| i + 1);
        let block = if kind == "thinking" {
            json!({"type": "thinking", "thinking": ""})
        } else {
            json!({"type": "text", "text": ""})
        };
        out.extend_from_slice(&typed(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        ));
        self.block = Some((kind, index));
        index
    }

    /// One token of answer or reasoning text.
    fn token(&mut self, text: &str, reasoning: bool) -> Bytes {
        if reasoning {
            self.sent_reasoning += 1;
        } else {
            self.sent_answer += 1;
        }
        let (input, output) = self.usage();
        match self.format {
            Format::OpenAi => {
                let key = if reasoning {
                    "reasoning_content"
                } else {
                    "content"
                };
                // Written by hand in OpenAI's key order (a JSON map would sort the keys), and
                // because a firehose completion (`benches/llm.sh`) must not be slowed by the mock.
                Bytes::from(format!(
                    "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{},\"choices\":[{{\"index\":0,\"delta\":{{\"{key}\":{}}},\"finish_reason\":null}}]}}\n\n",
                    self.created,
                    Value::from(self.model.as_str()),
                    Value::from(text),
                ))
            }
            Format::Responses => {
                let event = if reasoning {
                    "response.reasoning_summary_text.delta"
                } else {
                    "response.output_text.delta"
                };
                let item = if reasoning { "rs_mock" } else { "msg_mock" };
                self.numbered(
                    event,
                    json!({"item_id": item, "output_index": 0, "content_index": 0, "delta": text}),
                )
            }
            Format::Anthropic => {
                let mut out = Vec::new();
                let kind = if reasoning { "thinking" } else { "text" };
                let index = self.anthropic_block(kind, &mut out);
                let delta = if reasoning {
                    json!({"type": "thinking_delta", "thinking": text})
                } else {
                    json!({"type": "text_delta", "text": text})
                };
                out.extend_from_slice(&typed(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": delta}),
                ));
                Bytes::from(out)
            }
            Format::Gemini => {
                let part = if reasoning {
                    json!({"text": text, "thought": true})
                } else {
                    json!({"text": text})
                };
                let chunk = json!({
                    "candidates": [{"content": {"parts": [part], "role": "model"}, "index": 0}],
                    "usageMetadata": {"promptTokenCount": input, "candidatesTokenCount": output, "totalTokenCount": input + output},
                    "modelVersion": self.model,
                });
                // Gemini ends its events with CRLF CRLF.
                Bytes::from(format!("data: {chunk}\r\n\r\n"))
            }
            Format::Ollama => {
                let mut line =
                    json!({"model": self.model, "created_at": created_at(), "done": false});
                let key = if reasoning { "thinking" } else { "content" };
                if self.generate {
                    line[if reasoning { "thinking" } else { "response" }] = json!(text);
                } else {
                    line["message"] = json!({"role": "assistant", "content": "", key: text});
                }
                Bytes::from(format!("{line}\n"))
            }
        }
    }

    /// The end of a completion: finish reason, usage, end marker.
    fn finish(&mut self, usage: bool, script: &Script) -> Vec<Bytes> {
        let (input, output) = self.usage();
        match self.format {
            Format::OpenAi => {
                let mut out = vec![sse(&self.openai_chunk(&json!({}), Some("stop")))];
                if usage {
                    let mut last = self.openai_chunk(&json!({}), None);
                    last["choices"] = json!([]);
                    last["usage"] = json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output});
                    out.push(sse(&last));
                }
                out.push(Bytes::from_static(b"data: [DONE]\n\n"));
                out
            }
            Format::Responses => {
                let text: String = String::new();
                let usage = if usage {
                    json!({"input_tokens": input, "output_tokens": output, "total_tokens": input + output})
                } else {
                    Value::Null
                };
                vec![
                    self.numbered(
                        "response.output_text.done",
                        json!({"item_id": "msg_mock", "output_index": 0, "content_index": 0, "text": text}),
                    ),
                    self.numbered(
                        "response.completed",
                        json!({"response": {"id": "resp_mock", "object": "response", "status": "completed", "model": self.model, "usage": usage}}),
                    ),
                ]
            }
            Format::Anthropic => {
                let mut out = Vec::new();
                if let Some((_, index)) = self.block.take() {
                    out.push(typed(
                        "content_block_stop",
                        &json!({"type": "content_block_stop", "index": index}),
                    ));
                }
                let mut delta = json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}});
                if usage {
                    delta["usage"] = json!({"output_tokens": output});
                }
                out.push(typed("message_delta", &delta));
                out.push(typed("message_stop", &json!({"type": "message_stop"})));
                out
            }
            Format::Gemini => {
                let mut chunk = json!({
                    "candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "STOP", "index": 0}],
                    "modelVersion": self.model,
                });
                if usage {
                    chunk["usageMetadata"] = json!({"promptTokenCount": input, "candidatesTokenCount": output, "totalTokenCount": input + output});
                }
                vec![Bytes::from(format!("data: {chunk}\r\n\r\n"))]
            }
            Format::Ollama => {
                let mut line = json!({"model": self.model, "created_at": created_at(), "done": true, "done_reason": "stop"});
                if self.generate {
                    line["response"] = json!("");
                } else {
                    line["message"] = json!({"role": "assistant", "content": ""});
                }
                if usage {
                    // What the server measured: the time it spent between tokens.
                    let eval_ns = (script.delay * output.saturating_sub(1) as u32).as_nanos();
                    line["prompt_eval_count"] = json!(input);
                    line["eval_count"] = json!(output);
                    line["eval_duration"] = json!(u64::try_from(eval_ns).unwrap_or(u64::MAX));
                    line["total_duration"] =
                        json!(u64::try_from(eval_ns + script.ttft.as_nanos()).unwrap_or(u64::MAX));
                }
                vec![Bytes::from(format!("{line}\n"))]
            }
        }
    }

    /// The provider's in-stream error.
    fn error(&mut self) -> Bytes {
        match self.format {
            Format::OpenAi => sse(
                &json!({"error": {"message": "The server had an error while processing your request (mock).", "type": "server_error", "param": null, "code": null}}),
            ),
            Format::Responses => self.numbered(
                "error",
                json!({"code": "server_error", "message": "The server had an error while processing your request (mock).", "param": null}),
            ),
            Format::Anthropic => typed(
                "error",
                &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded (mock)"}}),
            ),
            Format::Gemini => Bytes::from(format!(
                "data: {}\r\n\r\n",
                json!({"error": {"code": 503, "message": "The model is overloaded (mock).", "status": "UNAVAILABLE"}})
            )),
            Format::Ollama => Bytes::from(format!(
                "{}\n",
                json!({"error": "an error was encountered while running the model (mock)"})
            )),
        }
    }
}

fn created_at() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::llm::{self as formats, sniff};

    fn script(q: &str) -> Script {
        Script::from_query(&Query::parse(Some(q))).expect("a valid query")
    }

    fn wire(format: Format) -> Wire {
        Wire {
            format,
            model: "m".into(),
            generate: false,
            prompt_tokens: 2,
            seq: 0,
            block: None,
            sent_answer: 0,
            sent_reasoning: 0,
            created: 1_796_000_000,
        }
    }

    /// Splits a whole mock body into (event type, data) as a client would.
    fn events(format: Format, body: &str) -> Vec<(String, String)> {
        if format == Format::Ollama {
            return body
                .lines()
                .map(|l| ("message".to_owned(), l.to_owned()))
                .collect();
        }
        body.replace("\r\n", "\n")
            .split("\n\n")
            .filter(|b| !b.is_empty())
            .map(|b| {
                let mut kind = "message".to_owned();
                let mut data = String::new();
                for line in b.lines() {
                    if let Some(e) = line.strip_prefix("event: ") {
                        kind = e.to_owned();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = d.to_owned();
                    }
                }
                (kind, data)
            })
            .collect()
    }

    /// Every format's mock reads back, with the streamscope reader, as what the script said.
    #[test]
    fn each_format_reads_back_as_its_script() {
        for format in Format::ALL {
            let s = script("tokens=3&reasoning=2");
            let mut w = wire(format);
            let mut body = Vec::new();
            for b in w.start() {
                body.extend_from_slice(&b);
            }
            for i in 0..5 {
                body.extend_from_slice(&w.token(&format!("w{i}"), i < 2));
            }
            for b in w.finish(true, &s) {
                body.extend_from_slice(&b);
            }
            let body = String::from_utf8(body).expect("UTF-8");
            let ev = events(format, &body);
            assert_eq!(
                ev.iter().find_map(|(k, d)| sniff(k, d)),
                Some(format),
                "{body}"
            );
            let (mut text, mut reasoning, mut ends, mut output) =
                (String::new(), String::new(), 0, None);
            for (k, d) in &ev {
                let c = formats::parse(format, k, d).unwrap_or_else(|e| panic!("{d}: {e}"));
                text.push_str(&c.text);
                reasoning.push_str(&c.reasoning);
                ends += usize::from(c.end);
                output = c.output_tokens.or(output);
            }
            assert_eq!(text, "w2w3w4", "{format:?}");
            assert_eq!(reasoning, "w0w1", "{format:?}");
            assert_eq!(output, Some(5), "{format:?}");
            let want_ends = usize::from(format != Format::Gemini);
            assert_eq!(ends, want_ends, "{format:?}: {body}");
            let err = w.error();
            let (k, d) = &events(format, &String::from_utf8_lossy(&err))[0];
            assert!(
                formats::parse(format, k, d).is_ok_and(|c| c.error.is_some()),
                "{format:?}: {d}"
            );
        }
    }

    #[test]
    fn knobs_shape_the_waits() {
        let s = script("ttft_ms=100&delay_ms=10&stall_at=3&stall_ms=500&jitter_ms=4");
        assert_eq!(s.wait(0), Duration::from_millis(100));
        for i in 1..50 {
            let w = s.wait(i).as_millis();
            let base = if i == 3 { 510 } else { 10 };
            assert!((base..=base + 4).contains(&w), "{i}: {w}");
        }
        assert_eq!(
            s.wait(7),
            script("ttft_ms=100&delay_ms=10&jitter_ms=4").wait(7)
        );
        assert!(Script::from_query(&Query::parse(Some("usage=maybe"))).is_err());
        assert!(Script::from_query(&Query::parse(Some("tokens=-1"))).is_err());
        assert!(!script("usage=0").usage);
    }

    #[test]
    fn answers_start_with_the_prompt() {
        assert_eq!(
            answer_words("hi there", 3),
            ["hi", " there", " Streamscope"]
        );
        assert_eq!(answer_words("", 2), ["Streamscope", " measures"]);
        assert_eq!(format_of("/llm/gemini/v1beta/x"), Some(Format::Gemini));
        assert_eq!(format_of("/llm/bard/x"), None);
    }
}
