//! streamscope's LLM reading against an OpenAI- and Anthropic-compatible server it did not write:
//! fakellm 0.3.5 (a `FastAPI` app, pinned in `tests/interop/requirements.txt`), served by uvicorn on port
//! 0 through `tests/interop/asgi_port0.py`, with the rules of `tests/interop/fakellm.yaml`. Its own
//! request counter (`/_fakellm/stats`) says how many completions streamscope asked for.

mod support;

use serde_json::Value;
use support::interop::{self, Peer};
use support::run;
use tokio::process::Command;

/// fakellm on a free port, with the interop rules (`count to five`, a weather tool call).
async fn fakellm() -> Peer {
    interop::ensure();
    let mut command = Command::new(interop::dir().join("venv/bin/python"));
    command
        .env("FAKELLM_CONFIG", "fakellm.yaml")
        .arg("asgi_port0.py")
        .arg("fakellm.server:app");
    Peer::start(&mut command).await
}

/// The completions fakellm has served so far (its own count, from `GET /_fakellm/stats`).
async fn served(peer: &Peer) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", peer.port))
        .await
        .expect("connect to fakellm");
    sock.write_all(b"GET /_fakellm/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("send");
    let mut reply = Vec::new();
    sock.read_to_end(&mut reply).await.expect("read");
    let text = String::from_utf8_lossy(&reply);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let stats: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    stats["total_requests"].as_u64().expect("total_requests")
}

fn the_summary(out: &support::RunOutput) -> &Value {
    let s = out.kind("llm_summary");
    assert_eq!(s.len(), 1, "{:?}\n{}", out.kinds(), out.stderr);
    s[0]
}

#[tokio::test]
async fn fakellm_openai_stream_is_read_and_not_requested_twice() {
    let peer = fakellm().await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-H",
        "Authorization: Bearer sk-fake",
        "-d",
        r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"count to five"}]}"#,
        &peer.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = the_summary(&out);
    assert_eq!(s["format"], "openai");
    assert_eq!(s["model"], "gpt-4o-mini");
    assert_eq!(s["text"], "one two three four five");
    assert_eq!(
        (&s["chunks"], &s["tokens_source"]),
        (&5.into(), &"chunks".into())
    );
    assert_eq!(
        (&s["complete"], &s["finish_reason"]),
        (&true.into(), &"stop".into())
    );
    // fakellm waits about 10 ms between chunks (on a busy machine some share a read).
    let p50 = s["itl_p50_ms"].as_f64().expect("itl");
    assert!((0.0..500.0).contains(&p50), "{s}");
    assert!(s["itl_max_ms"].as_f64().is_some_and(|m| m > 0.0), "{s}");
    assert!(s["ttft_ms"].as_f64().is_some_and(|t| t > 0.0), "{s}");
    // The role chunk, five words, the finish chunk and [DONE].
    assert_eq!(out.kind("event").len(), 8, "{:?}", out.kinds());
    assert_eq!(out.kinds().last().map(String::as_str), Some("end"));
    // EventSource would have sent the POST again 3 s after the body closed; wait past that.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    assert_eq!(served(&peer).await, 1, "one completion requested");
    peer.stop().await;
}

#[tokio::test]
async fn fakellm_tool_calls_are_kept_apart_from_the_answer() {
    let peer = fakellm().await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-d",
        r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"weather in Paris?"}]}"#,
        &peer.url("http", "/v1/chat/completions"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = the_summary(&out);
    assert_eq!(s["text"], "");
    assert_eq!(s["finish_reason"], "tool_calls");
    // The name chunk, then the arguments in 4-character pieces.
    assert_eq!(
        (&s["chunks"], &s["tool_chunks"]),
        (&5.into(), &5.into()),
        "{s}"
    );
    peer.stop().await;
}

#[tokio::test]
async fn fakellm_anthropic_stream_is_read() {
    let peer = fakellm().await;
    let out = run(&[
        "--json",
        "-X",
        "POST",
        "-H",
        "x-api-key: sk-ant-fake",
        "-H",
        "anthropic-version: 2023-06-01",
        "-d",
        r#"{"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"count to five"}]}"#,
        &peer.url("http", "/v1/messages"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = the_summary(&out);
    assert_eq!(s["format"], "anthropic");
    assert_eq!(s["text"], "one two three four five");
    assert_eq!(
        (&s["complete"], &s["finish_reason"]),
        (&true.into(), &"end_turn".into())
    );
    // message_delta's usage is the total.
    assert_eq!(
        (&s["output_tokens"], &s["tokens_source"]),
        (&5.into(), &"usage".into())
    );
    assert_eq!(s["input_tokens"], 1);
    assert_eq!(served(&peer).await, 1);
    peer.stop().await;
}
