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
        Session::start_script(tag, &format!("{} {args}", super::BIN), 200, 50)
    }

    /// Runs the shell command line `script` in a `width`×`height` tmux pane (as a user types it),
    /// its exit code kept for [`Session::exit_code`].
    pub(crate) fn start_script(tag: &str, script: &str, width: u16, height: u16) -> Session {
        let dir = TempDir::new(&format!("e2e-{tag}"));
        let tmux = Tmux {
            socket: format!("streamscope-e2e-{tag}-{}", std::process::id()),
        };
        let status_file = dir.file("exit");
        let script = format!("{script}; echo $? > {}; sleep 30", status_file.display());
        let (w, h) = (width.to_string(), height.to_string());
        tmux.cmd(&["new-session", "-d", "-s", "t", "-x", &w, "-y", &h, &script]);
        Session {
            tmux,
            _dir: dir,
            status_file,
        }
    }

    /// The exit code once the command has ended; fails the test after `timeout`.
    pub(crate) fn exit_code(&self, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(&self.status_file)
                && !s.trim().is_empty()
            {
                return s.trim().to_owned();
            }
            assert!(
                start.elapsed() < timeout,
                "did not exit; screen:\n{}",
                self.tmux.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends `q`; returns the exit code once the dashboard has ended, after checking the terminal
    /// was restored (main screen, cursor shown).
    pub(crate) fn quit(&self) -> String {
        assert_eq!(
            self.pane_flag("#{alternate_on}"),
            "1",
            "dashboard on the alternate screen"
        );
        self.tmux.cmd(&["send-keys", "-t", "t", "q"]);
        let code = self.exit_code(Duration::from_secs(10));
        assert_eq!(self.pane_flag("#{alternate_on}"), "0");
        assert_eq!(self.pane_flag("#{cursor_flag}"), "1");
        code
    }

    fn pane_flag(&self, flag: &str) -> String {
        self.tmux
            .cmd(&["display", "-p", "-t", "t", flag])
            .trim()
            .to_owned()
    }

    /// Sends `q`; checks the exit code is 0 and the terminal restored (main screen, cursor shown).
    /// A failure shows the screen before `q` (each stream's state) and after the exit (what
    /// streamscope printed on stderr), so a rare one says which stream failed.
    pub(crate) fn quit_cleanly(&self) {
        let before = self.tmux.screen();
        let code = self.quit();
        assert_eq!(
            code,
            "0",
            "exit code {code}; the screen before q:\n{before}\nafter the exit:\n{}",
            self.tmux.screen()
        );
    }
}
