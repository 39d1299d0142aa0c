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
