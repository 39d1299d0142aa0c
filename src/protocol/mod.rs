//! The wire protocols as pure functions fed bytes: no I/O, no clock, so any split of the same
//! bytes gives the same items, and each is unit-, property- and fuzz-tested on its own. `sse` and
//! `jsonl` split HTTP bodies, `ws` WebSocket frames, `h2` the frame headers of an HTTP/2
//! connection; `content` and `deflate` undo HTTP and WebSocket compression; `llm` reads the JSON
//! of LLM completion chunks those carry (OpenAI, Anthropic, Gemini, Ollama and compatible servers).

pub mod content;
pub mod decode;
pub mod deflate;
pub mod h2;
pub(crate) mod http1_body;
pub mod jsonl;
pub mod llm;
pub mod sse;
pub mod ws;

/// `bytes` as text, invalid UTF-8 replaced by U+FFFD as [`String::from_utf8_lossy`] does. The
/// check comes first because `from_utf8_lossy` walks its chunk iterator even for valid text, which
/// showed in the profiles of every line and id a parser decodes.
pub(crate) fn utf8_lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
