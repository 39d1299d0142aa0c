//! The first ten minutes of a new user, end to end. The README's examples are parsed out of
//! README.md and run as written, with the binary under test as the `streamscope` on `PATH` and
//! the README's `127.0.0.1:8080` pointing at a `streamscope serve --port 0` started here (its
//! `127.0.0.1:9`, where nothing listens, at a closed port): each must end as the README says
//! (`--json` ones by themselves with exit code 0, the failing one with 1 and a word on stderr,
//! dashboard ones in tmux after `q`). A README example that drifts from what the binary does fails
//! here. Also: the stderr lines of `--json` mode, and the dashboard's exit code on a failed stream.

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::tmux::Session;
use support::{BIN, TempDir, closed_port, json_lines};

/// `streamscope serve --port 0`, the real binary as a user runs it, killed when dropped.
struct Serve {
    child: std::process::Child,
    port: u16,
    /// The TLS port, the README's 8443.
    tls_port: u16,
}

impl Serve {
    /// `streamscope serve --tls` as the README starts it, on free ports, its certificate written to
    /// `cert` (where the README's examples read it).
    fn start(cert: &Path) -> Serve {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--port",
                "0",
                "--tick",
                "50ms",
                "--tls",
                "--tls-port",
                "0",
            ])
            .arg("--cert-out")
            .arg(cert)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn streamscope serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        // "TLS certificate (...): PATH", "streamscope server on http://127.0.0.1:PORT/ (...)",
        // "  and on https://127.0.0.1:PORT/ (...)", then the endpoints.
        let port_in = |line: &str, scheme: &str| -> Option<u16> {
            line.split(&format!("{scheme}://127.0.0.1:"))
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .and_then(|p| p.parse().ok())
        };
        let (mut port, mut tls_port) = (None, None);
        let mut seen = Vec::new();
        while port.is_none() || tls_port.is_none() {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("the server's stdout");
            assert!(n > 0, "the server ended before saying its ports: {seen:?}");
            if line.starts_with("streamscope server on") {
                port = port_in(&line, "http");
            } else if line.trim_start().starts_with("and on https") {
                tls_port = port_in(&line, "https");
            }
            seen.push(line);
        }
        // Keep reading: the server prints its endpoints next, and a closed pipe would stop it.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Serve {
            child,
            port: port.unwrap_or_default(),
            tls_port: tls_port.unwrap_or_default(),
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The commands of the README's `sh` blocks, one per logical line (continuations joined),
/// comments dropped.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block || line.trim_start().starts_with('#') {
            continue;
        }
        // A comment after the command is set off by at least two spaces.
        let code = line.split("  #").next().unwrap_or(line).trim_end();
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(code);
        let cmd = std::mem::take(&mut pending).trim().to_owned();
        if !cmd.is_empty() {
            out.push(cmd);
        }
    }
    out
}

/// Whether a command is a synopsis (`streamscope URL [URL]`) rather than one to run.
fn is_synopsis(cmd: &str) -> bool {
    cmd.contains('[')
        || cmd
            .split_whitespace()
            .any(|w| ["URL", "NAME", "FILE", "NAME|URL"].contains(&w))
}

/// The README's runnable examples, in order: the ones on the embedded server's port or the
/// closed one, the replays of what they recorded, and the demos.
fn examples() -> Vec<String> {
    readme_commands()
        .into_iter()
        .filter(|c| c.starts_with("streamscope ") && !is_synopsis(c))
        .filter(|c| {
            c.contains("127.0.0.1:8080")
                || c.contains("127.0.0.1:8443")
                || c.contains("127.0.0.1:9/")
                || c.starts_with("streamscope replay ")
                || c.starts_with("streamscope demo")
        })
        .filter(|c| !c.starts_with("streamscope serve"))
        .collect()
}

/// `cmd` as the test runs it: in `dir`, with the binary under test first on `PATH`, the README's
/// ports replaced by the test's.
fn shell_line(cmd: &str, dir: &Path, serve: &Serve, closed: u16) -> String {
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let cmd = cmd
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", serve.port))
        .replace("127.0.0.1:8443", &format!("127.0.0.1:{}", serve.tls_port))
        .replace("127.0.0.1:9/", &format!("127.0.0.1:{closed}/"));
    format!(
        "cd '{}' && PATH='{}':\"$PATH\" {cmd}",
        dir.display(),
        bin_dir.display()
    )
}

/// Runs a `--json` example to its end; returns (exit code, stdout, stderr).
fn run_headless(line: &str) -> (i32, String, String) {
    let child = Command::new("sh")
        .args(["-c", line])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh");
    let pid = child.id();
    // Read the pipes while waiting (a full pipe would stop the command), within a time limit.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(Duration::from_secs(40)) else {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("did not end by itself within 40 s: {line}");
    };
    let out = out.expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_readme_examples_work_as_written_and_end_as_documented() {
    let all = readme_commands();
    // The set-up commands stay first.
    assert_eq!(
        all.first().map(String::as_str),
        Some("cargo run --release -- demo")
    );
    assert_eq!(all.get(1).map(String::as_str), Some("cargo test"));
    assert!(
        all.iter()
            .any(|c| c == "streamscope serve --tls --cert-out cert.pem"),
        "the examples start the embedded server"
    );
    let examples = examples();
    assert!(examples.len() >= 10, "README examples found: {examples:#?}");
    let dir = TempDir::new("newcomer");
    let dir_path = dir.file("");
    let serve = Serve::start(&dir.file("cert.pem"));
    let closed = closed_port();
    for (i, cmd) in examples.iter().enumerate() {
        let line = shell_line(cmd, &dir_path, &serve, closed);
        if cmd.contains("--json") {
            let (code, stdout, stderr) = run_headless(&line);
            let records = json_lines(&stdout);
            assert!(
                !records.is_empty() || cmd.contains("127.0.0.1:9/"),
                "{cmd}: no records"
            );
            if cmd.contains("127.0.0.1:9/") {
                assert_eq!(code, 1, "{cmd}: a stream that gives up exits 1; {stderr}");
                assert!(stderr.contains("connect failed"), "{cmd}: {stderr}");
                assert!(stderr.contains("gave up"), "{cmd}: {stderr}");
            } else {
                assert_eq!(code, 0, "{cmd}: {stderr}");
                assert!(stderr.is_empty(), "{cmd}: nothing went wrong: {stderr}");
                let last = records.last().expect("records");
                assert!(
                    last["kind"] == "end" || cmd.starts_with("streamscope replay"),
                    "{cmd}: ends with an end record: {last}"
                );
            }
        } else {
            let s = Session::start_script(&format!("readme{i}"), &line, 120, 40);
            let want = if cmd.starts_with("streamscope replay") {
                "REPLAY finished"
            } else if cmd.contains("--llm") {
                "ttft"
            } else {
                "← event"
            };
            s.tmux.wait_for(
                &format!("{cmd}: {want}"),
                Duration::from_secs(20),
                |screen| screen.contains(want),
            );
            assert_eq!(s.quit(), "0", "{cmd}: q exits 0");
        }
    }
    // The files the examples wrote and read back.
    assert!(dir.file("incident.jsonl").exists());
    assert!(dir.file("capture.har").exists());
}

#[test]
fn the_readme_install_puts_completions_and_the_man_page_where_it_says() {
    let home = TempDir::new("newcomer-home");
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let lines: Vec<String> = readme_commands()
        .into_iter()
        .filter(|c| c.starts_with("mkdir -p ~/") && c.contains("streamscope "))
        .collect();
    assert_eq!(
        lines.len(),
        4,
        "bash, zsh, fish and the man page: {lines:#?}"
    );
    for line in &lines {
        let status = Command::new("sh")
            .args(["-c", line])
            .env("HOME", home.file(""))
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .status()
            .expect("sh");
        assert!(status.success(), "{line}");
    }
    for file in [
        ".local/share/bash-completion/completions/streamscope",
        ".zfunc/_streamscope",
        ".config/fish/completions/streamscope.fish",
        ".local/share/man/man1/streamscope.1",
    ] {
        let text = std::fs::read_to_string(home.file(file)).unwrap_or_default();
        assert!(text.contains("streamscope"), "{file} written");
    }
}

/// `streamscope ARGS` with stdout and stderr apart: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run streamscope");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_mode_says_each_failure_reconnect_and_give_up_on_stderr() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/sse");
    let (code, stdout, stderr) = run(&[
        "--json",
        "--max-retries",
        "1",
        "--max-backoff",
        "100ms",
        &url,
    ]);
    assert_eq!(code, 1);
    // stdout stays JSON lines only.
    for line in stdout.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "stdout line is JSON: {line}"
        );
    }
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "failure, reconnect, failure, give-up:\n{stderr}"
    );
    let prefix = format!("streamscope: {url}: ");
    assert!(lines.iter().all(|l| l.starts_with(&prefix)), "{stderr}");
    assert!(lines[0].contains("connect failed"), "{stderr}");
    assert!(lines[1].contains("reconnecting in"), "{stderr}");
    // With --max-retries given, no hint about it.
    assert!(!lines[1].contains("--max-retries"), "{stderr}");
    assert!(lines[3].contains("gave up after 1 retry"), "{stderr}");

    // -q: nothing on stderr, the same exit code and records.
    let (code, quiet_out, quiet_err) = run(&[
        "--json",
        "-q",
        "--max-retries",
        "1",
        "--max-backoff",
        "100ms",
        &url,
    ]);
    assert_eq!(code, 1);
    assert_eq!(quiet_err, "");
    assert_eq!(json_lines(&quiet_out).len(), json_lines(&stdout).len());
}

#[test]
fn a_stream_that_cannot_connect_says_how_to_stop_retrying() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/sse");
    let mut child = Command::new(BIN)
        .args(["--json", "--max-backoff", "100ms", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let second = lines.next().and_then(Result::ok).unwrap_or_default();
    let third = lines.next().and_then(Result::ok).unwrap_or_default();
    let fourth = lines.next().and_then(Result::ok).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("connect failed"), "{first}");
    assert!(second.contains("reconnecting in"), "{second}");
    assert!(
        second.contains("--max-retries") && second.contains("--no-reconnect"),
        "the first retry points the way out: {second}"
    );
    assert!(third.contains("connect failed"), "{third}");
    // Said once, not on every retry.
    assert!(
        fourth.contains("reconnecting in") && !fourth.contains("--max-retries"),
        "{fourth}"
    );
}

#[test]
fn two_streams_are_told_apart_on_stderr_and_a_healthy_run_says_nothing() {
    let dir = TempDir::new("newcomer-two");
    let serve = Serve::start(&dir.file("cert.pem"));
    let ok = format!("http://127.0.0.1:{}/sse", serve.port);
    let bad = format!("ws://127.0.0.1:{}/ws", closed_port());
    let (code, _, stderr) = run(&["--json", "--count", "3", "--no-reconnect", &ok, &bad]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with(&format!("streamscope: #1 {bad}: "))),
        "{stderr}"
    );
    assert!(stderr.contains("failed, not retrying"), "{stderr}");
    let (code, stdout, stderr) = run(&["--json", "--count", "3", &ok]);
    assert_eq!(code, 0);
    assert_eq!(stderr, "");
    assert!(json_lines(&stdout).len() >= 4);
}

#[test]
fn the_dashboard_exits_1_after_a_failed_stream_and_shows_the_error_once() {
    let port = closed_port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let s = Session::start_script(
        "dash-failed",
        &format!("{BIN} --no-reconnect {url}"),
        100,
        30,
    );
    let screen = s
        .tmux
        .wait_for("the failed state", Duration::from_secs(15), |s| {
            s.contains("FAILED")
        });
    let title = screen
        .lines()
        .find(|l| l.contains("FAILED"))
        .unwrap_or_default();
    assert!(title.contains(&url), "the port is not cut: {title}");
    assert_eq!(
        title.matches("connect failed").count(),
        1,
        "the error once: {title}"
    );
    assert_eq!(s.quit(), "1", "as --json would");
}
