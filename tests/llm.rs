//! LLM completion streams end to end: the end marker ends the stream and a POST is not sent again,
//! each provider format of the embedded server's mocks gives its `llm_summary`, in-stream errors,
//! stalls and cut streams are reported, and streamed JSON bodies (NDJSON, JSON text sequences) are
//! a stream kind of their own. Exact metric values are the unit tests' (`capture::llm`, on
//! controlled time); here the figures are checked against the timing the server was asked for.

mod support;

use std::time::Duration;

use serde_json::Value;
use streamscope::server::ServerConfig;
use support::{RawServer, SSE_HEAD, embedded_server, read_request, run, write_parts};
use tokio::io::AsyncWriteExt;

const SERVER: ServerConfig = ServerConfig {
    tick: Duration::from_millis(50),
    heartbeat: Duration::from_secs(5),
};

const PAUSE: Duration = Duration::from_millis(20);

/// An OpenAI chat completion chunk carrying `text`.
fn chunk(text: &str) -> String {
    let json = serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-test",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
    });
    format!("data: {json}\n\n")
}

/// A server that answers every request with `head` and then `parts`, a pause between them; the
/// connection closes after the last part unless `hold` keeps it open that long.
async fn scripted(head: &'static str, parts: Vec<String>, hold: Duration) -> RawServer {
    RawServer::start(move |_, mut sock, log| {
        let parts = parts.clone();
        async move {
            read_request(&mut sock, &log).await;
            let _ = sock.write_all(head.as_bytes()).await;
            let refs: Vec<&[u8]> = parts.iter().map(String::as_bytes).collect();
            write_parts(&mut sock, &refs, PAUSE).await;
            tokio::time::sleep(hold).await;
        }
    })
    .await
}

fn completion_parts() -> Vec<String> {
    vec![
        chunk("Hel"),
        chunk("lo"),
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            .to_owned(),
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
            .to_owned(),
        "data: [DONE]\n\n".to_owned(),
    ]
}

fn summary(out: &support::RunOutput) -> &Value {
    let s = out.kind("llm_summary");
    assert_eq!(s.len(), 1, "one summary: {:?}", out.kinds());
    s[0]
}

#[tokio::test]
async fn a_post_completion_ends_at_its_end_marker_and_is_not_sent_again() {
    let srv = scripted(SSE_HEAD, completion_parts(), Duration::ZERO).await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-H",
        "Authorization: Bearer sk-test",
        "-d",
        r#"{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        &srv.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(srv.requests.lock().expect("lock").len(), 1, "one request");
    let kinds = out.kinds();
    assert_eq!(
        &kinds[kinds.len() - 2..],
        ["llm_summary", "end"],
        "{kinds:?}"
    );
    assert!(out.kind("reconnect").is_empty());
    let s = summary(&out);
    assert_eq!(s["format"], "openai");
    assert_eq!(s["complete"], true);
    assert_eq!(s["finish_reason"], "stop");
    assert_eq!(s["text"], "Hello");
    assert_eq!(
        (&s["output_tokens"], &s["tokens_source"]),
        (&2.into(), &"usage".into())
    );
    assert_eq!(s["chunks"], 2);
    assert!(s["ttst_ms"].as_f64().is_some_and(|t| t > 0.0), "{s}");
    let end = out.kind("end")[0];
    assert!(
        end["reason"]
            .as_str()
            .is_some_and(|r| r.contains("end marker")),
        "{end}"
    );
}

#[tokio::test]
async fn a_post_whose_body_just_ends_is_not_sent_again_and_is_incomplete() {
    // No end marker: the body ends after two chunks. EventSource would come back in 3 s; a POST
    // must not (it would be a second completion).
    let srv = scripted(SSE_HEAD, vec![chunk("one"), chunk(" two")], Duration::ZERO).await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-d",
        "{}",
        &srv.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(srv.requests.lock().expect("lock").len(), 1);
    let s = summary(&out);
    assert_eq!(s["complete"], false);
    assert!(s["finish_reason"].is_null());
    assert_eq!(
        (&s["output_tokens"], &s["tokens_source"]),
        (&2.into(), &"chunks".into())
    );
    assert_eq!(out.kind("end")[0]["reason"], "server closed the stream");
}

#[tokio::test]
async fn reconnect_sends_a_completed_request_again_when_asked() {
    let mut parts = vec!["retry: 50\n\n".to_owned()];
    parts.extend(completion_parts());
    let srv = scripted(SSE_HEAD, parts, Duration::ZERO).await;
    let out = run(&[
        "--json",
        "--reconnect",
        "--duration",
        "1500ms",
        "-X",
        "POST",
        "-d",
        "{}",
        &srv.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let requests = srv.requests.lock().expect("lock").len();
    assert!(requests >= 2, "{requests} requests");
    // One summary per completion; --duration may stop the last one midway (incomplete).
    let summaries = out.kind("llm_summary");
    let complete: Vec<_> = summaries.iter().filter(|s| s["complete"] == true).collect();
    assert!(complete.len() >= 2, "{:?}", out.kinds());
    assert!(
        complete.iter().all(|s| s["text"] == "Hello"),
        "{summaries:?}"
    );
    assert!(summaries.len() - complete.len() <= 1, "{summaries:?}");
}

#[tokio::test]
async fn the_end_marker_ends_a_get_stream_too() {
    let srv = scripted(SSE_HEAD, completion_parts(), Duration::ZERO).await;
    let out = run(&["--json", &srv.url("http", "/v1/chat/completions")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(srv.requests.lock().expect("lock").len(), 1);
    assert!(out.kind("reconnect").is_empty(), "{:?}", out.kinds());
}

#[tokio::test]
async fn a_server_that_holds_the_stream_after_the_end_marker_is_closed() {
    let srv = scripted(SSE_HEAD, completion_parts(), Duration::from_secs(20)).await;
    let started = std::time::Instant::now();
    let out = run(&[
        "--json",
        "-X",
        "POST",
        &srv.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    let lints = out.kind("lint");
    assert!(
        lints.iter().any(|l| l["rule"] == "open-after-end-marker"),
        "{lints:?}"
    );
    assert_eq!(summary(&out)["complete"], true);
}

#[tokio::test]
async fn llm_off_reads_chunks_as_plain_events() {
    let srv = scripted(SSE_HEAD, completion_parts(), Duration::ZERO).await;
    let out = run(&[
        "--json",
        "--llm=off",
        "--no-reconnect",
        &srv.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.kind("llm_summary").is_empty());
    assert_eq!(out.kind("event").len(), 5);
    assert_eq!(out.kind("end")[0]["reason"], "server closed the stream");
}

#[tokio::test]
async fn the_readme_example_against_serve_ends() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-d",
        r#"{"prompt":"hello there"}"#,
        &format!("http://{a}/chat"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = summary(&out);
    assert_eq!(s["text"], "hello there ");
    assert_eq!(s["complete"], true);
    assert_eq!(out.kinds().last().map(String::as_str), Some("end"));
}

/// Each mock format of the embedded server: (path under /llm/, protocol of the records).
const FORMATS: [(&str, &str, &str); 5] = [
    ("openai", "/llm/openai/v1/chat/completions", "sse"),
    ("responses", "/llm/responses/v1/responses", "sse"),
    ("anthropic", "/llm/anthropic/v1/messages", "sse"),
    (
        "gemini",
        "/llm/gemini/v1beta/models/mock:streamGenerateContent?alt=sse",
        "sse",
    ),
    ("ollama", "/llm/ollama/api/chat", "jsonl"),
];

fn with(path: &str, knobs: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{knobs}")
}

#[tokio::test]
async fn every_mock_format_gives_its_summary() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    for (format, path, proto) in FORMATS {
        let url = format!(
            "http://{a}{}",
            with(path, "tokens=6&ttft_ms=60&delay_ms=10&reasoning=2")
        );
        let body = r#"{"model":"m-1","messages":[{"role":"user","content":"say hi"}]}"#;
        let out = run(&["--json", "-X", "POST", "-d", body, &url]).await;
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let s = summary(&out);
        assert_eq!(s["format"], format, "{s}");
        assert_eq!(s["model"], "m-1", "{s}");
        assert_eq!(s["complete"], true, "{format}: {s}");
        assert_eq!(
            (&s["chunks"], &s["reasoning_chunks"]),
            (&8.into(), &2.into()),
            "{s}"
        );
        assert_eq!(
            (&s["output_tokens"], &s["tokens_source"]),
            (&8.into(), &"usage".into())
        );
        assert_eq!(s["input_tokens"], 2, "{s}");
        assert!(
            s["text"].as_str().is_some_and(|t| t.starts_with("say hi")),
            "{s}"
        );
        // The server waited 60 ms before the first token and 10 ms between tokens.
        let ttft = s["ttft_ms"].as_f64().expect("ttft");
        assert!((60.0..2000.0).contains(&ttft), "{format}: ttft {ttft}");
        // Tokens 10 ms apart: on a busy machine some share a read (a gap of 0), none is late by
        // half a second.
        let p50 = s["itl_p50_ms"].as_f64().expect("itl");
        assert!((0.0..500.0).contains(&p50), "{format}: itl p50 {p50}");
        assert!(s["itl_max_ms"].as_f64().is_some_and(|m| m > 0.0), "{s}");
        assert!(s["tokens_per_s"].as_f64().is_some_and(|t| t > 1.0), "{s}");
        let events = out.kind("event");
        assert!(events.iter().all(|e| e["proto"] == proto), "{format}");
        assert_eq!(srv_requests_once(&out), 1, "{format}");
    }
}

/// Opens in the output: one per request sent.
fn srv_requests_once(out: &support::RunOutput) -> usize {
    out.kind("open").len()
}

#[tokio::test]
async fn in_stream_errors_stalls_and_missing_usage_are_reported() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    for (format, path, _) in FORMATS {
        // An error instead of the third token: an error record, and an incomplete completion.
        let url = format!(
            "http://{a}{}",
            with(path, "tokens=5&ttft_ms=0&delay_ms=5&error_at=2")
        );
        let out = run(&["--json", "-X", "POST", &url]).await;
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let errors = out.kind("error");
        assert_eq!(errors.len(), 1, "{format}: {:?}", out.kinds());
        let message = errors[0]["message"].as_str().unwrap_or("");
        assert!(message.starts_with(&format!("{format} error")), "{message}");
        let s = summary(&out);
        assert_eq!(
            (&s["complete"], &s["errors"]),
            (&false.into(), &1.into()),
            "{s}"
        );
        assert_eq!(s["error"], message);
        assert_eq!(s["chunks"], 2);
    }
    // A 1.5 s stall with a 500 ms threshold; no usage: the chunks are the tokens. The client sees
    // the gap between the two reads, which a late token before the stall can shorten on a busy
    // machine: hence the margins.
    let url = format!(
        "http://{a}/llm/openai/v1/chat/completions?tokens=5&ttft_ms=0&delay_ms=5&stall_at=3&stall_ms=1500&usage=0"
    );
    let out = run(&["--json", "--heartbeat", "500ms", "-X", "POST", &url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = summary(&out);
    assert!(s["stalls"].as_u64().is_some_and(|n| n >= 1), "{s}");
    assert_eq!(s["stall_threshold_ms"], 500, "{s}");
    assert!(s["itl_max_ms"].as_f64().is_some_and(|m| m >= 1000.0), "{s}");
    assert_eq!(
        (&s["output_tokens"], &s["tokens_source"]),
        (&5.into(), &"chunks".into())
    );
    // The stall is also a heartbeat gap.
    assert!(!out.kind("gap").is_empty(), "{:?}", out.kinds());
}

#[tokio::test]
async fn a_stream_cut_before_its_end_marker_is_incomplete() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let url =
        format!("http://{a}/llm/anthropic/v1/messages?tokens=6&ttft_ms=0&delay_ms=5&cut_at=3");
    let out = run(&["--json", "-X", "POST", &url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = summary(&out);
    assert_eq!(s["complete"], false);
    assert_eq!(s["chunks"], 3);
    assert_eq!(
        s["tokens_source"], "chunks",
        "message_start's count is no total"
    );
    assert!(s["finish_reason"].is_null());
    assert_eq!(out.kind("end")[0]["reason"], "server closed the stream");
}

const NDJSON_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn an_ndjson_body_is_a_jsonl_stream_with_gaps_and_exact_bytes() {
    // Docker-events-like lines (no LLM), one split across writes, one not JSON, a blank line.
    let parts: Vec<String> = vec![
        "{\"status\":\"start\",\"id\":\"a\"}\n{\"status\":".into(),
        "\"die\",\"id\":\"a\"}\n\n".into(),
        "not json\r\n".into(),
        "{\"status\":\"stop\"}".into(),
    ];
    let body_len: usize = parts.iter().map(String::len).sum();
    let srv = scripted(NDJSON_HEAD, parts, Duration::ZERO).await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/events")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events = out.kind("event");
    let data: Vec<&str> = events
        .iter()
        .map(|e| e["data"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        data,
        [
            r#"{"status":"start","id":"a"}"#,
            r#"{"status":"die","id":"a"}"#,
            "not json",
            r#"{"status":"stop"}"#
        ]
    );
    assert!(
        out.records
            .iter()
            .filter(|r| r["kind"] != "lint")
            .all(|r| r["proto"] == "jsonl")
    );
    let wire: u64 = events
        .iter()
        .map(|e| e["wire_bytes"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(wire, body_len as u64, "every body byte is some line's");
    // The second line was completed by a later read than the first.
    assert!(
        events[1]["gap_ms"].as_f64().is_some_and(|g| g > 0.0),
        "{:?}",
        events[1]
    );
    assert_ne!(events[0]["read"], events[1]["read"]);
    let rules: Vec<&str> = out
        .kind("lint")
        .iter()
        .filter_map(|l| l["rule"].as_str())
        .collect();
    assert_eq!(rules, ["not-json-line", "unterminated-line"]);
    assert!(out.kind("llm_summary").is_empty(), "not an LLM stream");
}

#[tokio::test]
async fn a_json_text_sequence_is_read_too() {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json-seq\r\nConnection: close\r\n\r\n";
    let srv = scripted(
        head,
        vec!["\u{1e}{\"a\":1}\n".into(), "\u{1e}{\n \"b\": 2\n}\n".into()],
        Duration::ZERO,
    )
    .await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/seq")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data: Vec<&str> = out
        .kind("event")
        .iter()
        .map(|e| e["data"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(data, ["{\"a\":1}", "{\n \"b\": 2\n}"]);
    assert!(out.kind("lint").is_empty(), "{:?}", out.kind("lint"));
}

#[tokio::test]
async fn an_ollama_ndjson_completion_is_followed() {
    let lines: Vec<String> = [
        r#"{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"The"},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":" sky"},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":2,"eval_duration":40000000}"#,
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect();
    let srv = scripted(NDJSON_HEAD, lines, Duration::ZERO).await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-d",
        r#"{"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}]}"#,
        &srv.url("http", "/api/chat"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = summary(&out);
    assert_eq!(
        (&s["format"], &s["text"]),
        (&"ollama".into(), &"The sky".into())
    );
    assert_eq!(
        (&s["complete"], &s["finish_reason"]),
        (&true.into(), &"stop".into())
    );
    assert_eq!(s["server_tokens_per_s"], 50);
    assert_eq!(s["proto"], "jsonl");
}

#[tokio::test]
async fn a_responses_stream_with_a_lost_event_shows_an_id_gap() {
    let ev = |n: u64, text: &str| {
        format!(
            "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"delta\":\"{text}\",\"sequence_number\":{n}}}\n\n"
        )
    };
    let done = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":1,\"output_tokens\":3}},\"sequence_number\":4}\n\n";
    let srv = scripted(
        SSE_HEAD,
        vec![ev(0, "a"), ev(1, "b"), ev(3, "d"), done.to_owned()],
        Duration::ZERO,
    )
    .await;
    let out = run(&["--json", "-X", "POST", &srv.url("http", "/v1/responses")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let gaps = out.kind("id_gap");
    assert_eq!(gaps.len(), 1, "{:?}", out.kinds());
    assert_eq!(
        (&gaps[0]["expected"], &gaps[0]["got"]),
        (&2.into(), &3.into())
    );
    assert_eq!(summary(&out)["finish_reason"], "completed");
}

#[tokio::test]
async fn two_urls_get_their_own_body_and_summary() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let openai = format!("http://{a}/llm/openai/v1/chat/completions?tokens=3&ttft_ms=0&delay_ms=1");
    let anthropic = format!("http://{a}/llm/anthropic/v1/messages?tokens=3&ttft_ms=0&delay_ms=1");
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-d",
        r#"{"model":"gpt-x","messages":[{"role":"user","content":"same prompt"}]}"#,
        "-d",
        r#"{"model":"claude-x","max_tokens":9,"messages":[{"role":"user","content":"same prompt"}]}"#,
        &openai,
        &anthropic,
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut models: Vec<(u64, String)> = out
        .kind("llm_summary")
        .iter()
        .map(|s| {
            (
                s["stream"].as_u64().unwrap_or(9),
                format!(
                    "{} {}",
                    s["format"].as_str().unwrap_or(""),
                    s["model"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    models.sort();
    assert_eq!(
        models,
        [
            (0, "openai gpt-x".to_owned()),
            (1, "anthropic claude-x".to_owned())
        ]
    );
    // -d three times for two URLs is a usage error.
    let bad = run(&[
        "--json", "-d", "a", "-d", "b", "-d", "c", &openai, &anthropic,
    ])
    .await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("--data given 3 times for 2 URLs"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn events_after_the_end_marker_are_reported_once() {
    let mut parts = completion_parts();
    parts.push(chunk("late"));
    parts.push(chunk("later"));
    let srv = scripted(SSE_HEAD, parts, Duration::ZERO).await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        &srv.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lints: Vec<&Value> = out
        .kind("lint")
        .into_iter()
        .filter(|l| l["rule"] == "after-end-marker")
        .collect();
    assert_eq!(lints.len(), 1, "{:?}", out.kinds());
    // The completion was over at [DONE]: what came after is not in its answer.
    assert_eq!(summary(&out)["text"], "Hello");
}
