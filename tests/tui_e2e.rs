//! End to end: the real binary's dashboard in a real terminal (tmux), against the embedded server
//! started by `streamscope demo`. Checks the screen shows both streams' records, that `q` exits 0,
//! and that the terminal is restored (alternate screen left, cursor visible).

use std::process::Command;
use std::time::{Duration, Instant};

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

#[test]
fn demo_dashboard_shows_both_streams_and_quits_cleanly() {
    let tmux = Tmux {
        socket: format!("streamscope-e2e-{}", std::process::id()),
    };
    let dir = std::env::temp_dir().join(format!("streamscope-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let status_file = dir.join("exit");
    let _ = std::fs::remove_file(&status_file);
    let script = format!(
        "{} demo --tick 50ms; echo $? > {}; sleep 30",
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

    let screen = tmux.wait_for("records from both streams", Duration::from_secs(15), |s| {
        s.contains("SSE") && s.contains("WS") && s.contains("← event") && s.contains("← message")
    });
    assert!(
        screen.contains("compare"),
        "comparison strip shown:\n{screen}"
    );
    assert_eq!(
        tmux.cmd(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "1"
    );

    tmux.cmd(&["send-keys", "-t", "t", "q"]);
    let start = Instant::now();
    let code = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
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
    // Restored: back on the main screen with the cursor shown.
    assert_eq!(
        tmux.cmd(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert_eq!(
        tmux.cmd(&["display", "-p", "-t", "t", "#{cursor_flag}"])
            .trim(),
        "1"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
