//! End to end: the real binary's dashboard in a real terminal (tmux): `streamscope demo` against its
//! embedded server, and `streamscope replay` of a recording made by the binary. Checks the screen
//! shows both streams' records, that `q` exits 0, and that the terminal is restored (alternate
//! screen left, cursor visible).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use streamscope::server::ServerConfig;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (Debian package tmux) to run this test");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "t"])
    }

    fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// A dashboard command running in a fresh tmux session, with its exit code written to a file.
struct Session {
    tmux: Tmux,
    dir: std::path::PathBuf,
    status_file: std::path::PathBuf,
}

impl Session {
    /// Starts `streamscope ARGS` in a 200×50 tmux pane; `tag` keeps sessions of one test run apart.
    fn start(tag: &str, args: &str) -> Session {
        let id = format!("streamscope-e2e-{tag}-{}", std::process::id());
        let tmux = Tmux { socket: id.clone() };
        let dir = std::env::temp_dir().join(id);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let status_file = dir.join("exit");
        let script = format!(
            "{} {args}; echo $? > {}; sleep 30",
            env!("CARGO_BIN_EXE_streamscope"),
            status_file.display()
        );
        tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "200",
            "-y",
            "50",
            &script,
        ]);
        Session {
            tmux,
            dir,
            status_file,
        }
    }

    fn pane_flag(&self, flag: &str) -> String {
        self.tmux
            .cmd(&["display", "-p", "-t", "t", flag])
            .trim()
            .to_owned()
    }

    /// Sends `q`; checks the exit code is 0 and the terminal restored (main screen, cursor shown).
    fn quit_cleanly(&self) {
        assert_eq!(
            self.pane_flag("#{alternate_on}"),
            "1",
            "dashboard on the alternate screen"
        );
        self.tmux.cmd(&["send-keys", "-t", "t", "q"]);
        let start = Instant::now();
        let code = loop {
            if let Ok(s) = std::fs::read_to_string(&self.status_file)
                && !s.trim().is_empty()
            {
                break s.trim().to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "did not exit after q"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(code, "0");
        assert_eq!(self.pane_flag("#{alternate_on}"), "0");
        assert_eq!(self.pane_flag("#{cursor_flag}"), "1");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
    let server = rt.block_on(support::embedded_server(ServerConfig {
        tick: Duration::from_millis(20),
        heartbeat: Duration::from_secs(15),
    }));
    let a = server.local_addr();
    let dir = std::env::temp_dir().join(format!("streamscope-e2e-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("session.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["--json", "--count", "6", "--record"])
        .arg(&file)
        .arg(format!("http://{a}/sse"))
        .arg(format!("ws://{a}/ws"))
        .output()
        .expect("run streamscope");
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
    let _ = std::fs::remove_dir_all(&dir);
}
