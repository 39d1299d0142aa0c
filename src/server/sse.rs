//! The Server-Sent Events endpoints: `/sse` (the demo feed), `/chat` (an LLM-like token stream,
//! for POST SSE) and `/inspect` (echoes the request back as one event).
//!
//! Each streaming endpoint answers at once with the headers and spawns a producer task that
//! writes whole events into the body channel (see [`super::body`]).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName};
use hyper::{Request, Response, StatusCode};
use tokio::time::{Instant, MissedTickBehavior};

use super::body::{self, Body, Sender};
use super::feed::{Feed, Tick};
use super::query::Query;
use super::state::State;

/// The `retry:` a `/sse` client is told on connect.
const FEED_RETRY_MS: u64 = 2000;
/// Bodies of `/chat` and `/inspect` are read whole; this keeps a stray upload from using memory.
const MAX_REQUEST_BODY: usize = 1024 * 1024;
/// What `/chat` answers when given no prompt.
const DEFAULT_PROMPT: &str = "Hello! This is streamscope's demo token stream.";
/// The `event:` name of the single `/inspect` event.
const INSPECT_EVENT: &str = "request";

/// `GET /sse`: the demo feed.
pub(super) fn feed(req: &Request<Incoming>, query: &Query, state: Arc<State>) -> Response<Body> {
    let count = match query.number("count", 0, u64::MAX) {
        Ok(count) => count,
        Err(bad) => return bad.into_response(),
    };
    let interval = match query.interval(1) {
        Ok(interval) => interval.unwrap_or(state.config.tick),
        Err(bad) => return bad.into_response(),
    };
    // An unparseable id (not one of ours) is treated as no id: the client starts on the clock.
    let last_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let feed = Feed::new(state.start, interval, last_id, count);
    let (tx, response) = body::event_stream();
    tokio::spawn(run_feed(tx, feed, state));
    response
}

async fn run_feed(tx: Sender, mut feed: Feed, state: Arc<State>) {
    if tx
        .send(Bytes::from(format!("retry: {FEED_RETRY_MS}\n\n")))
        .await
        .is_err()
    {
        return;
    }
    let period = state.config.heartbeat;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while let Some(due) = feed.next_due() {
        let chunk = tokio::select! {
            // Missed (resumed) seqs are already due, so they go out back to back.
            () = tokio::time::sleep_until(due) => tick_event(&feed.take()),
            _ = heartbeat.tick() => Bytes::from_static(b": heartbeat\n\n"),
            // Notices a gone client even between ticks, so long intervals do not pin the task.
            () = tx.closed() => return,
        };
        if tx.send(chunk).await.is_err() {
            return;
        }
    }
    // Dropping `tx` ends the body after `count` events.
}

fn tick_event(tick: &Tick) -> Bytes {
    Bytes::from(format!(
        "event: tick\nid: {}\ndata: {}\n\n",
        tick.seq,
        tick.json()
    ))
}

/// `POST /chat` (prompt in the body) or `GET /chat?prompt=...`: one word per event.
pub(super) async fn chat(
    req: Request<Incoming>,
    query: &Query,
    state: Arc<State>,
) -> Response<Body> {
    let interval = match query.interval(0) {
        Ok(interval) => interval.unwrap_or(Duration::from_millis(20)),
        Err(bad) => return bad.into_response(),
    };
    let mut prompt = query.get("prompt").unwrap_or_default().to_owned();
    let body = match read_body(req.into_body()).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    if !body.is_empty() {
        prompt = prompt_from_body(&body);
    }
    if prompt.trim().is_empty() {
        DEFAULT_PROMPT.clone_into(&mut prompt);
    }
    let tokens: Vec<String> = prompt.split_whitespace().map(|w| format!("{w} ")).collect();
    let (tx, response) = body::event_stream();
    tokio::spawn(async move {
        // Keeps the server's shutdown waiting for this task, like every other one.
        let _state = state;
        for (i, token) in tokens.iter().enumerate() {
            if i > 0 && !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
            let data = serde_json::json!({ "token": token });
            if tx
                .send(Bytes::from(format!("data: {data}\n\n")))
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
    });
    response
}

/// The prompt of a `/chat` body: `{"prompt": "..."}` when it is such JSON, else the text itself.
fn prompt_from_body(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body)
        && let Some(serde_json::Value::String(prompt)) = map.get("prompt")
    {
        return prompt.clone();
    }
    String::from_utf8_lossy(body).into_owned()
}

/// Any method on `/inspect`: the request as received, as one event, then `retry: 60000`.
pub(super) async fn inspect(req: Request<Incoming>, state: Arc<State>) -> Response<Body> {
    let (parts, incoming) = req.into_parts();
    let body = match read_body(incoming).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    // Built by hand so the keys keep this order (serde_json's map would sort them).
    let string = |s: &str| serde_json::Value::from(s).to_string();
    let request = format!(
        r#"{{"method":{},"path":{},"version":{},"headers":{},"body":{}}}"#,
        string(parts.method.as_str()),
        string(&path),
        string(&format!("{:?}", parts.version)),
        headers_json(&parts.headers),
        string(&String::from_utf8_lossy(&body)),
    );
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        text,
        "event: {INSPECT_EVENT}\ndata: {request}\n\nretry: 60000\n\n"
    );
    let (tx, response) = body::event_stream();
    tokio::spawn(async move {
        let _state = state;
        let _ = tx.send(Bytes::from(text)).await;
    });
    response
}

/// All headers as a JSON object with lower-case names; repeated headers are joined with ", ".
fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for name in headers.keys() {
        object.insert(name.as_str().to_owned(), joined(headers, name).into());
    }
    serde_json::Value::Object(object)
}

fn joined(headers: &HeaderMap, name: &HeaderName) -> String {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a request body up to [`MAX_REQUEST_BODY`]; too big or broken becomes the reply.
pub(super) async fn read_body(incoming: Incoming) -> Result<Bytes, Response<Body>> {
    match Limited::new(incoming, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(body::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body over {MAX_REQUEST_BODY} bytes\n"),
        )),
        Err(err) => Err(body::text(
            StatusCode::BAD_REQUEST,
            format!("could not read the request body: {err}\n"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_comes_from_json_or_text() {
        assert_eq!(prompt_from_body(br#"{"prompt":"a b"}"#), "a b");
        assert_eq!(prompt_from_body(b"plain words"), "plain words");
        // JSON without a string prompt is taken as text, so nothing is silently dropped.
        assert_eq!(prompt_from_body(br#"{"x":1}"#), r#"{"x":1}"#);
    }

    #[test]
    fn repeated_headers_are_joined() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", "1".parse().expect("valid header"));
        headers.append("x-a", "2".parse().expect("valid header"));
        headers.append("X-B", "3".parse().expect("valid header"));
        let json = headers_json(&headers);
        assert_eq!(json["x-a"], "1, 2");
        assert_eq!(json["x-b"], "3");
    }
}
