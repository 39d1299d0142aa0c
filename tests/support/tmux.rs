//! The binary in a real terminal: a tmux server of its own per session, a pane of a fixed size, the
//! screen read back as text, and the exit code and the terminal's state checked after `q`.

use std::process::Command;
use std::time::{Duration, Instant};

use super::TempDir;

/// A tmux server on a socket of its own, killed when dropped.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    pub(crate) fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (Debian package tmux) to run this test");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "t"])
    }

    /// The screen once `ok` holds for it; fails the test after `timeout`.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
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
pub(crate) struct Session {
    pub(crate) tmux: Tmux,
    /// Holds the status file; removed with the session.
    _dir: TempDir,
    status_file: std::path::PathBuf,
}

impl Session {
    /// Starts `streamscope ARGS` in a 200×50 tmux pane; `tag` keeps sessions of one test run apart.
    pub(crate) fn start(tag: &str, args: &str) -> Session {
        let dir = TempDir::new(&format!("e2e-{tag}"));
        let tmux = Tmux {
            socket: format!("streamscope-e2e-{tag}-{}", std::process::id()),
        };
        let status_file = dir.file("exit");
        let script = format!(
            "{} {args}; echo $? > {}; sleep 30",
            super::BIN,
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
            _dir: dir,
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
    pub(crate) fn quit_cleanly(&self) {
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
