//! End to end: the real binary's dashboard in a real terminal (tmux): `streamscope demo` against its
//! embedded server, and `streamscope replay` of a recording made by the binary. Checks the screen
//! shows both streams' records, that `q` exits 0, and that the terminal is restored (alternate
//! screen left, cursor visible).

mod support;

use std::time::Duration;

use streamscope::server::ServerConfig;
use support::tmux::Session;
use support::{TempDir, embedded_server, output, path_str};

#[test]
fn demo_dashboard_shows_both_streams_and_quits_cleanly() {
    let s = Session::start("demo", "demo --tick 50ms");
    let screen = s
        .tmux
        .wait_for("records from both streams", Duration::from_secs(15), |s| {
            s.contains("SSE")
                && s.contains("WS")
                && s.contains("← event")
                && s.contains("← message")
        });
    assert!(
        screen.contains("compare"),
        "comparison strip shown:\n{screen}"
    );
    s.quit_cleanly();
}

#[test]
fn replay_dashboard_shows_a_recording_and_quits_cleanly() {
    // Record two live streams from the embedded server with the real binary...
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(embedded_server(ServerConfig {
        tick: Duration::from_millis(20),
        heartbeat: Duration::from_secs(15),
    }));
    let a = server.local_addr();
    let dir = TempDir::new("e2e-rec");
    let file = dir.file("session.jsonl");
    let out = rt.block_on(output(&[
        "--json",
        "--count",
        "6",
        "--record",
        path_str(&file),
        &format!("http://{a}/sse"),
        &format!("ws://{a}/ws"),
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);

    // ...then replay the file in the dashboard, with no server running.
    let s = Session::start("replay", &format!("replay {}", file.display()));
    let screen = s
        .tmux
        .wait_for("the replay to finish", Duration::from_secs(15), |s| {
            s.contains("REPLAY finished")
        });
    assert!(
        screen.contains("← event") && screen.contains("← message"),
        "both streams' records replayed:\n{screen}"
    );
    assert!(
        screen.contains(&format!("http://{a}/sse")) && screen.contains(&format!("ws://{a}/ws")),
        "the recorded URLs are shown:\n{screen}"
    );
    s.quit_cleanly();
}

#[test]
fn llm_dashboard_shows_the_answer_and_its_timing_live_then_ends_without_a_second_request() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(embedded_server(ServerConfig {
        tick: Duration::from_millis(50),
        heartbeat: Duration::from_secs(15),
    }));
    let a = server.local_addr();
    let dir = TempDir::new("e2e-llm");
    let body = dir.file("req.json");
    std::fs::write(
        &body,
        r#"{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"tell me more"}]}"#,
    )
    .expect("write the request body");
    let url =
        format!("http://{a}/llm/openai/v1/chat/completions?tokens=50&ttft_ms=300&delay_ms=60");
    let s = Session::start(
        "llm",
        &format!(
            "--llm -X POST -H 'Authorization: Bearer sk-test' -d @{} '{url}'",
            body.display()
        ),
    );
    let live = s
        .tmux
        .wait_for("the completion streaming", Duration::from_secs(15), |s| {
            s.contains("● streaming") && s.contains("tell me more Streamscope")
        });
    for figure in [
        "ttft",
        "itl p50",
        "itl p99",
        "tokens/s",
        "POST mock-gpt \"tell me more\"",
    ] {
        assert!(live.contains(figure), "{figure} on screen:\n{live}");
    }
    let done = s
        .tmux
        .wait_for("the completion to end", Duration::from_secs(15), |s| {
            s.contains("✓ complete · stop") && s.contains("ENDED")
        });
    assert!(done.contains("50 (usage)"), "usage tokens:\n{done}");
    // Ended at [DONE]: no reconnect countdown, ever (EventSource would retry in 3 s).
    std::thread::sleep(Duration::from_millis(3500));
    let later = s.tmux.screen();
    assert!(
        !later.contains("RECONNECTING") && later.contains("ENDED"),
        "{later}"
    );
    s.quit_cleanly();
    drop(server);
}

#[test]
fn llm_demo_compares_two_completions_side_by_side() {
    let s = Session::start("llm-demo", "demo --llm");
    let screen = s
        .tmux
        .wait_for("both completions streaming", Duration::from_secs(15), |s| {
            s.contains("compare LLM completions")
                && s.contains("openai · mock-gpt")
                && s.contains("anthropic · mock-claude")
        });
    for column in ["ttft", "itl p50", "itl p95", "itl p99", "tok/s"] {
        assert!(screen.contains(column), "{column}:\n{screen}");
    }
    s.quit_cleanly();
}
