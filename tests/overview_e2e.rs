//! End to end: a config file with five named streams opens the real binary's dashboard on the
//! overview (in a real terminal, tmux), `Enter` drills down into two panes of the selected stream
//! against the next, `Esc` comes back, `q` exits 0 with the terminal restored.

mod support;

use std::time::Duration;

use streamscope::server::ServerConfig;
use support::tmux::Session;
use support::{TempDir, embedded_server, path_str};

#[test]
fn five_named_streams_open_on_the_overview_and_drill_down() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(embedded_server(ServerConfig {
        tick: Duration::from_millis(100),
        heartbeat: Duration::from_secs(1),
    }));
    let a = server.local_addr();
    let dir = TempDir::new("overview-e2e");
    let config = dir.file("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[streams.alpha-sse]
url = "http://{a}/sse"
heartbeat = "2s"

[streams.beta-ws]
url = "ws://{a}/ws"

[streams.gamma-fire]
url = "http://{a}/firehose/sse?n=300&size=20"
reconnect = false

[streams.delta-drop]
url = "http://{a}/scenario/sse/drop?after=3&skip=2&retry_ms=200"
max-backoff = "300ms"

[streams.epsilon-chat]
url = "http://{a}/chat?prompt=one+two+three"
"#
        ),
    )
    .expect("write the config");
    let s = Session::start(
        "overview",
        &format!(
            "--config {} alpha-sse beta-ws gamma-fire delta-drop epsilon-chat",
            path_str(&config)
        ),
    );
    let names = [
        "alpha-sse",
        "beta-ws",
        "gamma-fire",
        "delta-drop",
        "epsilon-chat",
    ];
    let screen = s.tmux.wait_for(
        "the overview of five streams",
        Duration::from_secs(15),
        |sc| {
            sc.contains("5 streams") && names.iter().all(|n| sc.contains(n)) && sc.contains("OPEN")
        },
    );
    assert!(
        screen.contains("gap p99") && screen.contains("reconn"),
        "{screen}"
    );
    // The drop scenario loses ids across its reconnects: the overview counts them.
    s.tmux
        .wait_for("reconnects on delta-drop", Duration::from_secs(15), |sc| {
            sc.lines()
                .find(|l| l.contains("delta-drop"))
                .is_some_and(|l| l.contains("OPEN") || l.contains("RECONNECT"))
        });
    // Select beta-ws, open it against the next row (gamma-fire).
    s.tmux.cmd(&["send-keys", "-t", "t", "Down", "Enter"]);
    let panes = s.tmux.wait_for("two panes", Duration::from_secs(10), |sc| {
        sc.contains("#1 beta-ws") && sc.contains("#2 gamma-fire") && sc.contains("compare")
    });
    assert!(
        !panes.contains("5 streams"),
        "the overview is gone:\n{panes}"
    );
    assert!(panes.contains("← message"), "beta-ws's records:\n{panes}");
    s.tmux.cmd(&["send-keys", "-t", "t", "Escape"]);
    s.tmux
        .wait_for("the overview again", Duration::from_secs(10), |sc| {
            sc.contains("5 streams") && sc.contains("›   1 beta-ws")
        });
    s.quit_cleanly();
    drop(server);
}
