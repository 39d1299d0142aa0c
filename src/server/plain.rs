//! The plain-text endpoints: the `/` index, `/status/{code}` and the 404 for everything else.

use std::fmt::Write as _;
use std::net::SocketAddr;

use hyper::header::{HeaderValue, LOCATION, RETRY_AFTER};
use hyper::{Method, Response, StatusCode};

use super::body::{self, Body};
use super::query::Query;

/// `GET /`: what this server offers, one endpoint per line.
pub(super) fn index(addr: SocketAddr) -> Response<Body> {
    let mut text = String::from("streamscope demo server\n\n");
    for (url, description) in endpoints(addr) {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{url}\n    {description}");
    }
    text.push_str("\nSee docs/server.md for the query parameters.\n");
    body::text(StatusCode::OK, text)
}

/// `GET /status/{code}`: that status, a `status <code>` body, `Location` for 3xx (`/sse` or
/// `?location=`) and `Retry-After` for 429 and 503 (`?retry_after=S` seconds, default 1).
pub(super) fn status(code: &str, query: &Query) -> Response<Body> {
    let status = match code.parse::<u16>().map(StatusCode::from_u16) {
        // 1xx cannot be a final response, so it is refused rather than sent broken.
        Ok(Ok(status)) if status.as_u16() >= 200 => status,
        _ => {
            return body::text(
                StatusCode::BAD_REQUEST,
                format!("{code:?} is not a status code from 200 to 999\n"),
            );
        }
    };
    // These statuses forbid a body; hyper would drop it anyway, this keeps the intent visible.
    let no_body = matches!(status.as_u16(), 204 | 205 | 304);
    let mut response = body::text(
        status,
        if no_body {
            String::new()
        } else {
            format!("status {}\n", status.as_u16())
        },
    );
    if status.is_redirection() {
        let location = query
            .get("location")
            .and_then(|l| HeaderValue::from_str(l).ok())
            .unwrap_or(HeaderValue::from_static("/sse"));
        response.headers_mut().insert(LOCATION, location);
    }
    if matches!(status.as_u16(), 429 | 503) {
        let secs = match query.number("retry_after", 0, 86_400) {
            Ok(secs) => secs.unwrap_or(1),
            Err(bad) => return bad.into_response(),
        };
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Anything not routed.
pub(super) fn not_found(method: &Method, path: &str) -> Response<Body> {
    body::text(
        StatusCode::NOT_FOUND,
        format!("no endpoint for {method} {path}; GET / lists them\n"),
    )
}

/// The endpoints of a server at `addr`, as (URL, description), for `streamscope serve` and `/`.
pub fn endpoints(addr: SocketAddr) -> Vec<(String, &'static str)> {
    let http = format!("http://{addr}");
    let ws = format!("ws://{addr}");
    vec![
        (
            format!("{http}/sse"),
            "SSE demo feed: tick events with seq/price JSON, heartbeats, Last-Event-ID resume (?count=N&interval_ms=M)",
        ),
        (
            format!("{ws}/ws"),
            "WebSocket demo feed: the same ticks as /sse as text messages, server pings (?count=N&interval_ms=M)",
        ),
        (
            format!("{ws}/echo"),
            "WebSocket echo: text and binary messages come back as sent, close is echoed",
        ),
        (
            format!("{http}/firehose/sse?n=1000&size=100"),
            "SSE firehose: n events of size bytes as fast as possible, then the body ends",
        ),
        (
            format!("{ws}/firehose/ws?n=1000&size=100"),
            "WebSocket firehose: n text messages of size bytes as fast as possible, then close 1000",
        ),
        (
            format!("{ws}/socket.io/?EIO=4&transport=websocket"),
            "Socket.IO v5 / Engine.IO v4: pings (?ping_ms=&timeout_ms=), namespace connects, tick events, binary events, acks to `echo`",
        ),
        (
            format!("{ws}/graphql"),
            "GraphQL over WebSocket (graphql-transport-ws): any number of subscriptions, `count` values each then complete",
        ),
        (
            format!("{ws}/msgpack"),
            "MessagePack quotes as binary messages (?count=N&interval_ms=M); /cbor the same in CBOR",
        ),
        (
            format!("{http}/chat?prompt=hello+world"),
            "LLM-like token stream over SSE (POST a JSON {\"prompt\":..} or text body, or GET ?prompt=), ends with [DONE]",
        ),
        (
            format!("{http}/llm/openai/v1/chat/completions"),
            "Mock LLM completion, OpenAI chunks then [DONE] (?tokens=N&ttft_ms=&delay_ms=&jitter_ms=&stall_at=&stall_ms=&error_at=&cut_at=&usage=0&reasoning=N)",
        ),
        (
            format!("{http}/llm/responses/v1/responses"),
            "Mock LLM completion, OpenAI Responses API events (same knobs)",
        ),
        (
            format!("{http}/llm/anthropic/v1/messages"),
            "Mock LLM completion, Anthropic Messages events (same knobs)",
        ),
        (
            format!("{http}/llm/gemini/v1beta/models/mock:streamGenerateContent?alt=sse"),
            "Mock LLM completion, Gemini SSE chunks (same knobs)",
        ),
        (
            format!("{http}/llm/ollama/api/chat"),
            "Mock LLM completion, Ollama NDJSON (application/x-ndjson; /api/generate too; same knobs)",
        ),
        (
            format!("{http}/inspect"),
            "SSE: one `request` event echoing the method, path, headers and body received",
        ),
        (
            format!("{http}/status/500"),
            "Replies with the given HTTP status (3xx redirect to /sse or ?location=, 429/503 with Retry-After)",
        ),
        (
            format!("{http}/scenario/sse/drop?after=3"),
            "Fault scenarios (drops, stalls, retry:, resets, close codes, ...): see docs/server.md",
        ),
    ]
}
