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
