//! The JSON of LLM completion streams, as the providers document it: which format a stream is
//! ([`sniff`], [`hint_from_path`]) and what one chunk carries ([`parse`] → [`Chunk`]: answer text,
//! reasoning, tool-call deltas, finish reason, usage, in-stream errors, the end marker). Pure
//! functions of a chunk's event type and data; no I/O, no clock, no state.
//!
//! | format | wire | chunks | end |
//! |---|---|---|---|
//! | `openai` | SSE `data:` | `choices[].delta.content` (`reasoning_content`/`reasoning`, `tool_calls`), `choices[].text` (completions), `finish_reason`, `usage` (with `stream_options.include_usage`) | `data: [DONE]` |
//! | `responses` | SSE typed `event:` | `response.output_text.delta`, `response.reasoning_*text.delta`, `response.function_call_arguments.delta`, `sequence_number`, `error` | `response.completed` / `incomplete` / `failed` |
//! | `anthropic` | SSE typed `event:` | `message_start` (input usage), `content_block_delta` (`text_delta`, `thinking_delta`, `input_json_delta`), `message_delta` (`stop_reason`, output usage), `ping`, `error` | `message_stop` |
//! | `gemini` | SSE `data:` (`?alt=sse`) | `candidates[].content.parts[].text` (`thought: true` is reasoning, `functionCall`), `finishReason`, `usageMetadata` | none: the body ends |
//! | `ollama` | NDJSON | `message.content` (`/api/chat`) or `response` (`/api/generate`), `thinking`, `tool_calls` | `"done": true` with `eval_count`, `eval_duration` |
//!
//! OpenAI-compatible servers (vLLM, TGI, llama.cpp, `LiteLLM`, fakellm) speak `openai` on
//! `/v1/chat/completions`; the `openai` reader also takes TGI's native `/generate_stream`
//! (`token.text`, `details`) and llama.cpp's native `/completion` (`content`, `stop`).
//!
//! Chunks are read into structs that name only the fields used (borrowing the text when it has no
//! escapes), not into a `serde_json::Value`: this runs for every chunk of every stream.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// An LLM stream format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OpenAI Chat Completions (and legacy Completions), and servers compatible with it.
    OpenAi,
    /// The OpenAI Responses API.
    Responses,
    /// The Anthropic Messages API.
    Anthropic,
    /// Google Gemini `streamGenerateContent?alt=sse`.
    Gemini,
    /// Ollama's NDJSON `/api/chat` and `/api/generate`.
    Ollama,
}

impl Format {
    /// Every format, in the order of `--llm`'s help.
    pub const ALL: [Format; 5] = [
        Format::OpenAi,
        Format::Responses,
        Format::Anthropic,
        Format::Gemini,
        Format::Ollama,
    ];

    /// The name used by `--llm` and in `llm_summary` records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::OpenAi => "openai",
            Format::Responses => "responses",
            Format::Anthropic => "anthropic",
            Format::Gemini => "gemini",
            Format::Ollama => "ollama",
        }
    }

    /// The format named `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// What `--llm` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Recognise the format from the URL path, the Content-Type and the first chunks.
    #[default]
    Auto,
    /// Read every chunk as this format.
    Only(Format),
    /// No LLM reading at all: chunks are plain events, end markers end nothing.
    Off,
}

impl Mode {
    /// Parses `auto`, `off` or a format name.
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s {
            "auto" => Ok(Mode::Auto),
            "off" => Ok(Mode::Off),
            _ => Format::from_name(s).map(Mode::Only).ok_or_else(|| {
                format!(
                    "invalid --llm value '{s}': one of auto, {}, off",
                    Format::ALL.map(Format::as_str).join(", ")
                )
            }),
        }
    }
}

/// What one chunk of a completion carries. Text is borrowed from the chunk's data when it needs
/// no unescaping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk<'a> {
    /// Answer text.
    pub text: Cow<'a, str>,
    /// Reasoning ("thinking") text, kept apart from the answer.
    pub reasoning: Cow<'a, str>,
    /// Tool-call text: a function's name, pieces of its JSON arguments.
    pub tool: Cow<'a, str>,
    /// Why generation stopped (`stop`, `length`, `end_turn`, `tool_calls`, `STOP`, ...).
    pub finish: Option<Cow<'a, str>>,
    /// Prompt tokens, as the provider counts them.
    pub input_tokens: Option<u64>,
    /// Output tokens so far or in total, as the provider counts them.
    pub output_tokens: Option<u64>,
    /// The model that answers.
    pub model: Option<Cow<'a, str>>,
    /// An in-stream error, as one line.
    pub error: Option<String>,
    /// The format's end marker: the completion is complete.
    pub end: bool,
    /// The chunk's sequence number (Responses API `sequence_number`).
    pub seq: Option<u64>,
    /// Output tokens per second as the server measured them (Ollama `eval_count` /
    /// `eval_duration`, llama.cpp `timings.predicted_per_second`).
    pub server_tokens_per_s: Option<f64>,
}

impl Chunk<'_> {
    /// True when the chunk carries output of any kind (answer, reasoning or tool call): what the
    /// token timings count.
    pub fn has_output(&self) -> bool {
        !self.text.is_empty() || !self.reasoning.is_empty() || !self.tool.is_empty()
    }
}

/// The format a URL path says, from the providers' documented endpoints and the embedded server's
/// `/llm/<format>/...` mocks; `None` when it says nothing.
pub fn hint_from_path(path: &str) -> Option<Format> {
    let path = path.split('?').next().unwrap_or(path);
    if let Some(rest) = path.strip_prefix("/llm/") {
        let name = rest.split('/').next().unwrap_or("");
        if let Some(f) = Format::from_name(name) {
            return Some(f);
        }
    }
    if path.contains(":streamGenerateContent") || path.contains(":generateContent") {
        Some(Format::Gemini)
    } else if path.ends_with("/responses") {
        Some(Format::Responses)
    } else if path.ends_with("/messages") {
        Some(Format::Anthropic)
    } else if path.ends_with("/api/chat") || path.ends_with("/api/generate") {
        Some(Format::Ollama)
    } else if path.ends_with("/completions")
        || path.ends_with("/generate_stream")
        || path.ends_with("/completion")
    {
        Some(Format::OpenAi)
    } else {
        None
    }
}

/// The fields that tell the formats apart; the rest of a chunk is skipped.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    object: Option<Cow<'a, str>>,
    choices: Option<IgnoredAny>,
    candidates: Option<IgnoredAny>,
    #[serde(rename = "usageMetadata")]
    usage_metadata: Option<IgnoredAny>,
    done: Option<IgnoredAny>,
    message: Option<IgnoredAny>,
    response: Option<IgnoredAny>,
    token: Option<IgnoredAny>,
    content: Option<IgnoredAny>,
    stop: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
}

/// Anthropic's event types.
const ANTHROPIC_EVENTS: [&str; 6] = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
];

/// The format one chunk shows, from its SSE event type and data; `None` when it shows none (not
/// JSON, or JSON of no known shape: a ping, an error, another application's events).
pub fn sniff(event_type: &str, data: &str) -> Option<Format> {
    if event_type.starts_with("response.") {
        return Some(Format::Responses);
    }
    if ANTHROPIC_EVENTS.contains(&event_type) {
        return Some(Format::Anthropic);
    }
    let data = data.trim();
    if data == "[DONE]" {
        return Some(Format::OpenAi);
    }
    if !data.starts_with('{') {
        return None;
    }
    let p: Probe<'_> = serde_json::from_str(data).ok()?;
    if let Some(kind) = p.kind.as_deref() {
        if ANTHROPIC_EVENTS.contains(&kind) {
            return Some(Format::Anthropic);
        }
        if kind.starts_with("response.") {
            return Some(Format::Responses);
        }
    }
    let openai_object = p
        .object
        .as_deref()
        .is_some_and(|o| o.starts_with("chat.completion") || o == "text_completion");
    if p.choices.is_some() || openai_object {
        Some(Format::OpenAi)
    } else if p.candidates.is_some() || p.usage_metadata.is_some() {
        Some(Format::Gemini)
    } else if p.done.is_some() && (p.message.is_some() || p.response.is_some()) {
        Some(Format::Ollama)
    } else if p.token.is_some() || (p.content.is_some() && p.stop.is_some()) {
        Some(Format::OpenAi)
    } else {
        None
    }
}

/// True when a chunk is an error or a keep-alive in any format (`{"error": ..}`, `type` `error` or
/// `ping`): it says nothing of the format, but on a stream whose URL or Content-Type says one, it
/// is that format's first chunk.
pub fn is_error_or_ping(event_type: &str, data: &str) -> bool {
    if matches!(event_type, "error" | "ping") {
        return true;
    }
    let data = data.trim();
    data.starts_with('{')
        && serde_json::from_str::<Probe<'_>>(data)
            .is_ok_and(|p| p.error.is_some() || matches!(p.kind.as_deref(), Some("error" | "ping")))
}

/// Reads one chunk as `format`. `event_type` is the SSE event type (`message` when unnamed). An
/// empty data buffer (a keep-alive) is an empty chunk; data that is not the format's JSON is an
/// error naming what is wrong.
pub fn parse<'a>(format: Format, event_type: &str, data: &'a str) -> Result<Chunk<'a>, String> {
    let trimmed = data.trim();
    if trimmed.is_empty() {
        return Ok(Chunk::default());
    }
    if trimmed == "[DONE]" {
        return Ok(Chunk {
            end: true,
            ..Chunk::default()
        });
    }
    let json = |e: serde_json::Error| format!("not a {} chunk: {e}", format.as_str());
    match format {
        Format::OpenAi => serde_json::from_str(trimmed).map(openai).map_err(json),
        Format::Responses => serde_json::from_str(trimmed).map(responses).map_err(json),
        Format::Anthropic => serde_json::from_str(trimmed)
            .map(|e| anthropic(e, event_type))
            .map_err(json),
        Format::Gemini => serde_json::from_str(trimmed).map(gemini).map_err(json),
        Format::Ollama => serde_json::from_str(trimmed).map(ollama).map_err(json),
    }
}

/// Appends `piece` to a chunk's text, borrowing when it is the first piece.
fn append<'a>(to: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if to.is_empty() {
        *to = piece;
    } else {
        to.to_mut().push_str(&piece);
    }
}

/// An error object's message: `{"message": ..}`, `{"error": ..}` text, or the JSON itself.
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(borrow)]
        message: Option<Cow<'a, str>>,
        #[serde(borrow, rename = "type")]
        kind: Option<Cow<'a, str>>,
        #[serde(borrow)]
        status: Option<Cow<'a, str>>,
        code: Option<serde_json::Value>,
    },
}

impl ErrorField<'_> {
    fn line(&self, format: Format) -> String {
        match self {
            ErrorField::Text(t) => format!("{} error: {t}", format.as_str()),
            ErrorField::Object {
                message,
                kind,
                status,
                code,
            } => {
                let mut line = format!("{} error", format.as_str());
                let code = code.as_ref().filter(|c| !c.is_null()).map(|c| match c {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                for label in [kind.as_deref(), status.as_deref(), code.as_deref()]
                    .into_iter()
                    .flatten()
                {
                    line.push(' ');
                    line.push_str(label);
                }
                line.push_str(": ");
                line.push_str(message.as_deref().unwrap_or("(no message)"));
                line
            }
        }
    }
}

// OpenAI Chat Completions, legacy Completions, TGI and llama.cpp native streams.

#[derive(Deserialize)]
struct OaChunk<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    choices: Option<Vec<OaChoice<'a>>>,
    usage: Option<OaUsage>,
    #[serde(borrow)]
    error: Option<ErrorField<'a>>,
    /// TGI `/generate_stream`: `{"token": {"text": ..}}` (a bare string from simpler servers).
    #[serde(borrow)]
    token: Option<TgiToken<'a>>,
    details: Option<TgiDetails<'a>>,
    /// llama.cpp `/completion`: `{"content": .., "stop": false}`.
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    stop: Option<bool>,
    #[serde(borrow)]
    stop_type: Option<Cow<'a, str>>,
    tokens_predicted: Option<u64>,
    timings: Option<LlamaTimings>,
}

#[derive(Deserialize)]
struct OaChoice<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<OaDelta<'a>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct OaDelta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tool_calls: Option<Vec<OaToolCall<'a>>>,
}

#[derive(Deserialize)]
struct OaToolCall<'a> {
    #[serde(borrow)]
    function: Option<OaFunction<'a>>,
}

#[derive(Deserialize)]
struct OaFunction<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct OaUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TgiToken<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(borrow)]
        text: Option<Cow<'a, str>>,
        #[serde(default)]
        special: bool,
    },
}

#[derive(Deserialize)]
struct TgiDetails<'a> {
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
    generated_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct LlamaTimings {
    predicted_per_second: Option<f64>,
}

fn openai(c: OaChunk<'_>) -> Chunk<'_> {
    let mut out = Chunk {
        model: c.model,
        error: c.error.map(|e| e.line(Format::OpenAi)),
        ..Chunk::default()
    };
    // With `n` > 1 the choices are separate answers: the first one is the answer shown.
    for choice in c.choices.unwrap_or_default() {
        if choice.index.unwrap_or(0) != 0 {
            continue;
        }
        if let Some(d) = choice.delta {
            if let Some(t) = d.content {
                append(&mut out.text, t);
            }
            if let Some(t) = d.refusal {
                append(&mut out.text, t);
            }
            if let Some(t) = d.reasoning_content.or(d.reasoning) {
                append(&mut out.reasoning, t);
            }
            for call in d.tool_calls.unwrap_or_default() {
                let Some(f) = call.function else { continue };
                if let Some(name) = f.name {
                    append(&mut out.tool, name);
                    append(&mut out.tool, Cow::Borrowed(" "));
                }
                if let Some(args) = f.arguments {
                    append(&mut out.tool, args);
                }
            }
        }
        if let Some(t) = choice.text {
            append(&mut out.text, t);
        }
        if choice.finish_reason.is_some() {
            out.finish = choice.finish_reason;
        }
    }
    if let Some(u) = c.usage {
        out.input_tokens = u.prompt_tokens;
        out.output_tokens = u.completion_tokens;
    }
    if let Some(
        TgiToken::Text(t)
        | TgiToken::Object {
            text: Some(t),
            special: false,
        },
    ) = c.token
    {
        append(&mut out.text, t);
    }
    if let Some(d) = c.details {
        out.finish = d.finish_reason;
        out.output_tokens = d.generated_tokens;
    }
    if let Some(t) = c.content {
        append(&mut out.text, t);
    }
    if c.stop == Some(true) {
        // llama.cpp's last chunk: its own end marker, with the totals.
        out.end = true;
        out.finish = c.stop_type.or(Some(Cow::Borrowed("stop")));
        out.output_tokens = c.tokens_predicted;
        out.server_tokens_per_s = c.timings.and_then(|t| t.predicted_per_second);
    }
    out
}

// OpenAI Responses API.

#[derive(Deserialize)]
struct RsEvent<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    delta: Option<Cow<'a, str>>,
    sequence_number: Option<u64>,
    #[serde(borrow)]
    response: Option<RsResponse<'a>>,
    #[serde(borrow)]
    item: Option<RsItem<'a>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    code: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RsResponse<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    usage: Option<RsUsage>,
    #[serde(borrow)]
    incomplete_details: Option<RsIncomplete<'a>>,
    #[serde(borrow)]
    error: Option<ErrorField<'a>>,
}

#[derive(Deserialize)]
struct RsUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct RsIncomplete<'a> {
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RsItem<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

fn responses(e: RsEvent<'_>) -> Chunk<'_> {
    let mut out = Chunk {
        seq: e.sequence_number,
        ..Chunk::default()
    };
    let kind = e.kind.as_ref();
    let delta = e.delta.unwrap_or_default();
    match kind {
        "response.output_text.delta" | "response.refusal.delta" => out.text = delta,
        "response.reasoning_text.delta" | "response.reasoning_summary_text.delta" => {
            out.reasoning = delta;
        }
        "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
            out.tool = delta;
        }
        "response.output_item.added" => {
            if let Some(item) = e.item
                && item.kind.as_deref() == Some("function_call")
                && let Some(name) = item.name
            {
                out.tool = Cow::Owned(format!("{name} "));
            }
        }
        "error" => {
            let message = e.message.unwrap_or(Cow::Borrowed("(no message)"));
            let code = match e.code {
                Some(serde_json::Value::String(s)) => format!(" {s}"),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => format!(" {other}"),
            };
            out.error = Some(format!("responses error{code}: {message}"));
        }
        _ => {}
    }
    if let Some(r) = e.response {
        out.model = r.model;
        if let Some(u) = r.usage {
            out.input_tokens = u.input_tokens;
            out.output_tokens = u.output_tokens;
        }
        let end = matches!(
            kind,
            "response.completed" | "response.incomplete" | "response.failed"
        );
        if end {
            out.end = true;
            out.finish = r
                .incomplete_details
                .and_then(|d| d.reason)
                .or(r.status)
                .or_else(|| Some(Cow::Owned(kind["response.".len()..].to_owned())));
            if let Some(err) = r.error {
                out.error = Some(err.line(Format::Responses));
            }
        }
    }
    out
}

// Anthropic Messages.

#[derive(Deserialize)]
struct AnEvent<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<AnMessage<'a>>,
    #[serde(borrow)]
    content_block: Option<AnBlock<'a>>,
    #[serde(borrow)]
    delta: Option<AnDelta<'a>>,
    usage: Option<AnUsage>,
    #[serde(borrow)]
    error: Option<ErrorField<'a>>,
}

#[derive(Deserialize)]
struct AnMessage<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<AnUsage>,
}

#[derive(Deserialize)]
struct AnUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct AnBlock<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AnDelta<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stop_reason: Option<Cow<'a, str>>,
}

fn anthropic<'a>(e: AnEvent<'a>, event_type: &str) -> Chunk<'a> {
    let mut out = Chunk::default();
    // The data's `type` is authoritative; the SSE event name says the same when present.
    let kind = e.kind.as_deref().unwrap_or(event_type);
    match kind {
        "message_start" => {
            if let Some(m) = e.message {
                out.model = m.model;
                // The start's output count is a placeholder (1): only `message_delta`'s is a total.
                out.input_tokens = m.usage.and_then(|u| u.input_tokens);
            }
        }
        "content_block_start" => {
            if let Some(b) = e.content_block {
                match b.kind.as_deref() {
                    Some("tool_use" | "server_tool_use") => {
                        if let Some(name) = b.name {
                            out.tool = Cow::Owned(format!("{name} "));
                        }
                    }
                    Some("thinking") => out.reasoning = b.thinking.unwrap_or_default(),
                    _ => out.text = b.text.unwrap_or_default(),
                }
            }
        }
        "content_block_delta" => {
            if let Some(d) = e.delta {
                match d.kind.as_deref() {
                    Some("thinking_delta") => out.reasoning = d.thinking.unwrap_or_default(),
                    Some("input_json_delta") => out.tool = d.partial_json.unwrap_or_default(),
                    Some("signature_delta") => {}
                    _ => out.text = d.text.unwrap_or_default(),
                }
            }
        }
        "message_delta" => {
            out.finish = e.delta.and_then(|d| d.stop_reason);
            if let Some(u) = e.usage {
                out.output_tokens = u.output_tokens;
                out.input_tokens = u.input_tokens;
            }
        }
        "message_stop" => out.end = true,
        "error" => {
            out.error = Some(e.error.map_or_else(
                || "anthropic error: (no error object)".to_owned(),
                |err| err.line(Format::Anthropic),
            ));
        }
        _ => {}
    }
    out
}

// Google Gemini.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GmChunk<'a> {
    #[serde(borrow)]
    candidates: Option<Vec<GmCandidate<'a>>>,
    usage_metadata: Option<GmUsage>,
    #[serde(borrow)]
    model_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error: Option<ErrorField<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GmCandidate<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    content: Option<GmContent<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct GmContent<'a> {
    #[serde(borrow)]
    parts: Option<Vec<GmPart<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GmPart<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    thought: bool,
    function_call: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(clippy::struct_field_names, reason = "Gemini's field names")]
struct GmUsage {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
}

fn gemini(c: GmChunk<'_>) -> Chunk<'_> {
    let mut out = Chunk {
        model: c.model_version,
        error: c.error.map(|e| e.line(Format::Gemini)),
        ..Chunk::default()
    };
    for cand in c.candidates.unwrap_or_default() {
        if cand.index.unwrap_or(0) != 0 {
            continue;
        }
        for part in cand.content.and_then(|c| c.parts).unwrap_or_default() {
            if let Some(call) = part.function_call {
                let name = call["name"].as_str().unwrap_or("function");
                let _ = write!(out.tool.to_mut(), "{name} {}", call["args"]);
            }
            if let Some(t) = part.text {
                if part.thought {
                    append(&mut out.reasoning, t);
                } else {
                    append(&mut out.text, t);
                }
            }
        }
        if cand.finish_reason.is_some() {
            out.finish = cand.finish_reason;
        }
    }
    if let Some(u) = c.usage_metadata {
        out.input_tokens = u.prompt_token_count;
        // Thinking tokens are output too (they are billed and they take time).
        out.output_tokens = match (u.candidates_token_count, u.thoughts_token_count) {
            (Some(c), Some(t)) => Some(c + t),
            (c, t) => c.or(t),
        };
    }
    out
}

// Ollama.

#[derive(Deserialize)]
struct OlChunk<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<OlMessage<'a>>,
    #[serde(borrow)]
    response: Option<Cow<'a, str>>,
    #[serde(borrow)]
    thinking: Option<Cow<'a, str>>,
    done: Option<bool>,
    #[serde(borrow)]
    done_reason: Option<Cow<'a, str>>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    eval_duration: Option<u64>,
    #[serde(borrow)]
    error: Option<ErrorField<'a>>,
}

#[derive(Deserialize)]
struct OlMessage<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    thinking: Option<Cow<'a, str>>,
    tool_calls: Option<serde_json::Value>,
}

fn ollama(c: OlChunk<'_>) -> Chunk<'_> {
    let mut out = Chunk {
        model: c.model,
        error: c.error.map(|e| e.line(Format::Ollama)),
        ..Chunk::default()
    };
    if let Some(m) = c.message {
        out.text = m.content.unwrap_or_default();
        if let Some(t) = m.thinking {
            out.reasoning = t;
        }
        if let Some(serde_json::Value::Array(calls)) = m.tool_calls {
            for call in calls {
                let f = &call["function"];
                let name = f["name"].as_str().unwrap_or("function");
                let _ = write!(out.tool.to_mut(), "{name} {}", f["arguments"]);
            }
        }
    }
    if let Some(t) = c.response {
        append(&mut out.text, t);
    }
    if let Some(t) = c.thinking {
        append(&mut out.reasoning, t);
    }
    if c.done == Some(true) {
        out.end = true;
        out.finish = c.done_reason.or(Some(Cow::Borrowed("stop")));
        out.input_tokens = c.prompt_eval_count;
        out.output_tokens = c.eval_count;
        if let (Some(n), Some(ns)) = (c.eval_count, c.eval_duration)
            && ns > 0
        {
            out.server_tokens_per_s = Some(n as f64 * 1e9 / ns as f64);
        }
    }
    out
}

/// The request as one short line for a header: the method, the model and the start of the last
/// prompt when the body is an LLM request (`messages`, `input`, `prompt` or Gemini `contents`),
/// else the start of the body. `None` for a GET without a body.
pub fn request_summary(method: &str, body: Option<&[u8]>, width: usize) -> Option<String> {
    let body = body.filter(|b| !b.is_empty());
    if method == "GET" && body.is_none() {
        return None;
    }
    let Some(body) = body else {
        return Some(method.to_owned());
    };
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let shown = match value.as_ref().and_then(|v| prompt_of(v).map(|p| (v, p))) {
        Some((v, prompt)) => {
            let prompt: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
            match v["model"].as_str() {
                Some(model) => format!("{model} \"{prompt}\""),
                None => format!("\"{prompt}\""),
            }
        }
        None => String::from_utf8_lossy(body)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let mut line = format!("{method} {shown}");
    if line.chars().count() > width {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        line = format!("{}…", cut.trim_end());
    }
    Some(line)
}

/// The last user prompt of an LLM request body, in any of the formats' request shapes.
pub fn prompt_of(v: &serde_json::Value) -> Option<String> {
    let text_of = |content: &serde_json::Value| -> Option<String> {
        match content {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(parts) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter_map(|p| p["text"].as_str().or_else(|| p.as_str()))
                    .collect();
                (!texts.is_empty()).then(|| texts.join(" "))
            }
            _ => None,
        }
    };
    if let Some(messages) = v["messages"].as_array() {
        return messages.iter().rev().find_map(|m| text_of(&m["content"]));
    }
    if let Some(contents) = v["contents"].as_array() {
        return contents.iter().rev().find_map(|c| text_of(&c["parts"]));
    }
    match &v["input"] {
        serde_json::Value::String(s) => return Some(s.clone()),
        serde_json::Value::Array(items) => {
            return items
                .iter()
                .rev()
                .find_map(|i| text_of(&i["content"]).or_else(|| i.as_str().map(str::to_owned)));
        }
        _ => {}
    }
    v["prompt"]
        .as_str()
        .or_else(|| v["inputs"].as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SSE events of a stream as (event type, data): blocks split on blank lines, the way the
    /// samples below are written (each is a provider's documented stream or a recorded one).
    fn events(stream: &str) -> Vec<(String, String)> {
        stream
            .split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|block| {
                let mut kind = "message".to_owned();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event: ") {
                        kind = e.to_owned();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push(d);
                    }
                }
                (kind, data.join("\n"))
            })
            .collect()
    }

    /// Every chunk of a stream read as `format`: the answer, reasoning and tool text joined, the
    /// last finish reason, the usage, the errors and the end markers seen.
    #[derive(Debug, Default, PartialEq)]
    struct Read {
        text: String,
        reasoning: String,
        tool: String,
        finish: Option<String>,
        input: Option<u64>,
        output: Option<u64>,
        model: Option<String>,
        errors: Vec<String>,
        ends: usize,
        output_chunks: usize,
    }

    fn read(format: Format, stream: &[(String, String)]) -> Read {
        let mut r = Read::default();
        for (kind, data) in stream {
            let c = parse(format, kind, data).unwrap_or_else(|e| panic!("{data}: {e}"));
            r.output_chunks += usize::from(c.has_output());
            r.text.push_str(&c.text);
            r.reasoning.push_str(&c.reasoning);
            r.tool.push_str(&c.tool);
            r.finish = c.finish.map(Cow::into_owned).or(r.finish);
            r.input = c.input_tokens.or(r.input);
            r.output = c.output_tokens.or(r.output);
            r.model = c.model.map(Cow::into_owned).or(r.model);
            r.errors.extend(c.error);
            r.ends += usize::from(c.end);
        }
        r
    }

    fn sniffed(stream: &[(String, String)]) -> Option<Format> {
        stream.iter().find_map(|(k, d)| sniff(k, d))
    }

    /// fakellm 0.3.5's OpenAI stream, byte for byte (tests/interop/samples).
    const FAKELLM_OPENAI: &str =
        include_str!("../../tests/interop/samples/fakellm_openai_stream.txt");
    /// fakellm 0.3.5's Anthropic stream, byte for byte.
    const FAKELLM_ANTHROPIC: &str =
        include_str!("../../tests/interop/samples/fakellm_anthropic_stream.txt");

    #[test]
    fn openai_chat_stream_from_fakellm() {
        let ev = events(FAKELLM_OPENAI);
        assert_eq!(sniffed(&ev), Some(Format::OpenAi));
        let r = read(Format::OpenAi, &ev);
        assert_eq!(r.text, "one two three four five");
        assert_eq!(r.output_chunks, 5, "the role chunk carries no output");
        assert_eq!(r.finish.as_deref(), Some("stop"));
        assert_eq!(r.model.as_deref(), Some("m"));
        assert_eq!((r.ends, r.input, r.output), (1, None, None));
    }

    #[test]
    fn openai_usage_reasoning_tool_calls_and_errors() {
        let ev = events(concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hmm\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}},{\"index\":1,\"delta\":{\"content\":\"other\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}\n\n",
            "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}\n\n",
            "data: [DONE]\n\n",
        ));
        let r = read(Format::OpenAi, &ev);
        assert_eq!(r.text, "Hi", "choice 1 is another answer");
        assert_eq!(r.reasoning, "hmm");
        assert_eq!(r.tool, "get_weather {\"city\":");
        assert_eq!(r.finish.as_deref(), Some("tool_calls"));
        assert_eq!((r.input, r.output), (Some(9), Some(12)));
        assert_eq!(
            r.errors,
            ["openai error requests rate_limit_exceeded: Rate limit reached"]
        );
        assert_eq!((r.ends, r.output_chunks), (1, 4));
    }

    #[test]
    fn openai_compatible_native_streams() {
        // TGI /generate_stream, llama.cpp /completion, legacy completions, and the demo's /chat.
        let tgi = events(concat!(
            "data:{\"token\":{\"id\":1,\"text\":\"Hello\",\"logprob\":-0.1,\"special\":false},\"generated_text\":null,\"details\":null}\n\n",
            "data:{\"token\":{\"id\":2,\"text\":\"</s>\",\"logprob\":0.0,\"special\":true},\"generated_text\":\"Hello\",\"details\":{\"finish_reason\":\"eos_token\",\"generated_tokens\":2,\"seed\":null}}\n\n",
        ).replace("data:", "data: ").as_str());
        assert_eq!(sniffed(&tgi), Some(Format::OpenAi));
        let r = read(Format::OpenAi, &tgi);
        assert_eq!((r.text.as_str(), r.output), ("Hello", Some(2)));
        assert_eq!(r.finish.as_deref(), Some("eos_token"));
        let llama = events(concat!(
            "data: {\"content\":\" Hi\",\"stop\":false}\n\n",
            "data: {\"content\":\"\",\"stop\":true,\"stop_type\":\"eos\",\"tokens_predicted\":7,\"timings\":{\"predicted_per_second\":42.5}}\n\n",
        ));
        assert_eq!(sniffed(&llama), Some(Format::OpenAi));
        let c = parse(Format::OpenAi, "message", &llama[1].1).expect("chunk");
        assert!(c.end);
        assert_eq!(c.server_tokens_per_s, Some(42.5));
        assert_eq!(read(Format::OpenAi, &llama).output, Some(7));
        let legacy = r#"{"object":"text_completion","choices":[{"text":" yes","index":0,"finish_reason":null}]}"#;
        assert_eq!(sniff("message", legacy), Some(Format::OpenAi));
        assert_eq!(
            parse(Format::OpenAi, "message", legacy).map(|c| c.text),
            Ok(Cow::Borrowed(" yes"))
        );
        let demo = r#"{"token":"hello "}"#;
        assert_eq!(sniff("message", demo), Some(Format::OpenAi));
        assert_eq!(
            parse(Format::OpenAi, "message", demo).map(|c| c.text.into_owned()),
            Ok("hello ".to_owned())
        );
    }

    /// A Responses API stream as OpenAI documents it (one event of each kind that matters).
    const RESPONSES: &str = concat!(
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-4.1-2025-04-14\",\"usage\":null},\"sequence_number\":0}\n\n",
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"},\"sequence_number\":1}\n\n",
        "event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"Thinking\",\"sequence_number\":2}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\",\"sequence_number\":3}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\" there\",\"sequence_number\":4}\n\n",
        "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"text\":\"Hi there\",\"sequence_number\":5}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"model\":\"gpt-4.1-2025-04-14\",\"usage\":{\"input_tokens\":36,\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":123}},\"sequence_number\":6}\n\n",
    );

    #[test]
    fn responses_stream() {
        let ev = events(RESPONSES);
        assert_eq!(sniffed(&ev), Some(Format::Responses));
        // Sniffed from the data too, without the event name.
        assert_eq!(sniff("message", &ev[3].1), Some(Format::Responses));
        let r = read(Format::Responses, &ev);
        assert_eq!(r.text, "Hi there");
        assert_eq!(r.reasoning, "Thinking");
        assert_eq!(r.finish.as_deref(), Some("completed"));
        assert_eq!((r.input, r.output), (Some(36), Some(87)));
        assert_eq!(r.model.as_deref(), Some("gpt-4.1-2025-04-14"));
        assert_eq!((r.ends, r.output_chunks), (1, 3));
        let seqs: Vec<Option<u64>> = ev
            .iter()
            .map(|(k, d)| parse(Format::Responses, k, d).map(|c| c.seq).ok().flatten())
            .collect();
        assert_eq!(seqs, (0..7).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn responses_failed_incomplete_and_error_events() {
        let failed = r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The model failed"}},"sequence_number":9}"#;
        let c = parse(Format::Responses, "response.failed", failed).expect("chunk");
        assert!(c.end);
        assert_eq!(c.finish.as_deref(), Some("failed"));
        assert_eq!(
            c.error.as_deref(),
            Some("responses error server_error: The model failed")
        );
        let incomplete = r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}},"sequence_number":3}"#;
        let c = parse(Format::Responses, "response.incomplete", incomplete).expect("chunk");
        assert_eq!(
            (c.end, c.finish.as_deref()),
            (true, Some("max_output_tokens"))
        );
        let error = r#"{"type":"error","code":"ERR_SOMETHING","message":"Something happened","param":null,"sequence_number":1}"#;
        let c = parse(Format::Responses, "error", error).expect("chunk");
        assert_eq!(
            c.error.as_deref(),
            Some("responses error ERR_SOMETHING: Something happened")
        );
        assert!(!c.end);
    }

    #[test]
    fn anthropic_stream_from_fakellm() {
        let ev = events(FAKELLM_ANTHROPIC);
        assert_eq!(sniffed(&ev), Some(Format::Anthropic));
        let r = read(Format::Anthropic, &ev);
        assert_eq!(r.text, "one two three four five");
        assert_eq!(r.finish.as_deref(), Some("end_turn"));
        // message_start says output_tokens 1: a placeholder, not the total.
        assert_eq!((r.input, r.output), (Some(1), Some(5)));
        assert_eq!((r.ends, r.output_chunks), (1, 5));
    }

    #[test]
    fn anthropic_thinking_tools_ping_and_error() {
        let ev = events(concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":472,\"output_tokens\":2}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}}\n\n",
            "event: ping\ndata: {\"type\": \"ping\"}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"Paris\\\"}\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n\n",
            "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ));
        let r = read(Format::Anthropic, &ev);
        assert_eq!(r.text, "");
        assert_eq!(r.reasoning, "Let me");
        assert_eq!(r.tool, "get_weather {\"location\": \"Paris\"}");
        assert_eq!(r.finish.as_deref(), Some("tool_use"));
        assert_eq!((r.input, r.output), (Some(472), Some(89)));
        assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(r.errors, ["anthropic error overloaded_error: Overloaded"]);
        assert_eq!((r.ends, r.output_chunks), (1, 3));
        // `ping` alone says nothing about the format.
        assert_eq!(sniff("message", r#"{"type": "ping"}"#), None);
    }

    /// A Gemini `streamGenerateContent?alt=sse` stream as Google documents it.
    const GEMINI: &str = concat!(
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Thinking…\", \"thought\": true}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.5-flash\"}\n\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 1,\"totalTokenCount\": 10},\"modelVersion\": \"gemini-2.5-flash\"}\n\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" sky is blue.\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 5,\"totalTokenCount\": 30,\"thoughtsTokenCount\": 16},\"modelVersion\": \"gemini-2.5-flash\"}\n\n",
    );

    #[test]
    fn gemini_stream() {
        let ev = events(GEMINI);
        assert_eq!(sniffed(&ev), Some(Format::Gemini));
        let r = read(Format::Gemini, &ev);
        assert_eq!(r.text, "The sky is blue.");
        assert_eq!(r.reasoning, "Thinking…");
        assert_eq!(r.finish.as_deref(), Some("STOP"));
        assert_eq!((r.input, r.output), (Some(9), Some(21)));
        assert_eq!(
            (r.ends, r.output_chunks),
            (0, 3),
            "Gemini has no end marker"
        );
        let err = r#"{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}"#;
        assert_eq!(
            parse(Format::Gemini, "message", err).map(|c| c.error),
            Ok(Some(
                "gemini error UNAVAILABLE 503: The model is overloaded.".to_owned()
            ))
        );
    }

    /// Ollama's NDJSON `/api/chat` lines as its API documentation shows them.
    const OLLAMA: [&str; 3] = [
        r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky"},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
    ];

    #[test]
    fn ollama_chat_and_generate() {
        let ev: Vec<(String, String)> = OLLAMA
            .iter()
            .map(|l| ("message".to_owned(), (*l).to_owned()))
            .collect();
        assert_eq!(sniffed(&ev), Some(Format::Ollama));
        let r = read(Format::Ollama, &ev);
        assert_eq!(r.text, "The sky");
        assert_eq!(r.finish.as_deref(), Some("stop"));
        assert_eq!((r.input, r.output), (Some(26), Some(282)));
        assert_eq!((r.ends, r.output_chunks), (1, 2));
        let last = parse(Format::Ollama, "message", OLLAMA[2]).expect("chunk");
        let tps = last.server_tokens_per_s.expect("eval figures");
        assert!((tps - 282.0 / 4.535_599).abs() < 1e-9, "{tps}");
        let generate =
            r#"{"model":"llama3.2","created_at":"x","response":"Hi","thinking":"hm","done":false}"#;
        assert_eq!(sniff("message", generate), Some(Format::Ollama));
        let c = parse(Format::Ollama, "message", generate).expect("chunk");
        assert_eq!((c.text.as_ref(), c.reasoning.as_ref()), ("Hi", "hm"));
        assert_eq!(
            parse(
                Format::Ollama,
                "message",
                r#"{"error":"model 'x' not found"}"#
            )
            .map(|c| c.error),
            Ok(Some("ollama error: model 'x' not found".to_owned()))
        );
    }

    #[test]
    fn other_streams_are_no_format_and_bad_chunks_say_why() {
        assert_eq!(sniff("tick", r#"{"seq":1,"price":101.5}"#), None);
        assert_eq!(sniff("message", "hello"), None);
        assert_eq!(sniff("message", "{not json"), None);
        // Errors and pings are nobody's in particular: the URL or Content-Type decides.
        assert!(is_error_or_ping("error", "{}"));
        assert!(is_error_or_ping(
            "message",
            r#"{"error":"model not found"}"#
        ));
        assert!(is_error_or_ping("message", r#"{"type": "ping"}"#));
        assert!(!is_error_or_ping("message", r#"{"status":"start"}"#));
        assert!(!is_error_or_ping("message", "[DONE]"));
        let err = parse(Format::OpenAi, "message", "{\"choices\": [").expect_err("cut JSON");
        assert!(err.starts_with("not a openai chunk: "), "{err}");
        assert_eq!(
            parse(Format::Anthropic, "message", ""),
            Ok(Chunk::default())
        );
    }

    #[test]
    fn paths_hint_the_format() {
        for (path, want) in [
            ("/v1/chat/completions", Some(Format::OpenAi)),
            ("/v1/completions", Some(Format::OpenAi)),
            ("/generate_stream", Some(Format::OpenAi)),
            ("/v1/responses", Some(Format::Responses)),
            ("/v1/messages", Some(Format::Anthropic)),
            (
                "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                Some(Format::Gemini),
            ),
            ("/api/chat", Some(Format::Ollama)),
            ("/llm/anthropic/anything", Some(Format::Anthropic)),
            ("/sse", None),
            ("/llm/other", None),
        ] {
            assert_eq!(hint_from_path(path), want, "{path}");
        }
    }

    #[test]
    fn modes_parse() {
        assert_eq!(Mode::parse("auto"), Ok(Mode::Auto));
        assert_eq!(Mode::parse("off"), Ok(Mode::Off));
        assert_eq!(Mode::parse("gemini"), Ok(Mode::Only(Format::Gemini)));
        let err = Mode::parse("claude").expect_err("unknown");
        assert!(
            err.contains("auto, openai, responses, anthropic, gemini, ollama, off"),
            "{err}"
        );
    }

    #[test]
    fn request_summaries_show_model_and_prompt() {
        let openai = br#"{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello\n there"}],"stream":true}"#;
        assert_eq!(
            request_summary("POST", Some(openai), 60).as_deref(),
            Some("POST gpt-4o \"hello there\"")
        );
        let anthropic = br#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"Why?"}]}],"stream":true}"#;
        assert_eq!(
            request_summary("POST", Some(anthropic), 60).as_deref(),
            Some("POST claude-sonnet-4-5 \"Why?\"")
        );
        let gemini = br#"{"contents":[{"role":"user","parts":[{"text":"Explain"}]}]}"#;
        assert_eq!(
            request_summary("POST", Some(gemini), 60).as_deref(),
            Some("POST \"Explain\"")
        );
        let responses = br#"{"model":"gpt-4.1","input":"Tell me a story","stream":true}"#;
        assert_eq!(
            request_summary("POST", Some(responses), 20).as_deref(),
            Some("POST gpt-4.1 \"Tell…")
        );
        assert_eq!(
            request_summary("PUT", Some(b"raw  text"), 60).as_deref(),
            Some("PUT raw text")
        );
        assert_eq!(request_summary("GET", None, 60), None);
        assert_eq!(
            request_summary("DELETE", None, 60).as_deref(),
            Some("DELETE")
        );
    }
}
