//! Third-party peers: servers and clients the project did not write (Python and Node packages,
//! pinned in `tests/interop/`), so a mistake shared by streamscope's own client and its own server
//! cannot hide. [`ensure`] installs them once under `target/interop/` (`tests/interop/setup.sh`,
//! which `.ci/run` also calls); [`Peer`] runs one of the scripts in `tests/interop/` and reads the
//! port it listens on from its first line of output.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a peer may take to print its port (a Python interpreter importing uvicorn is slow on a
/// busy machine).
const START_LIMIT: Duration = Duration::from_secs(60);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the peers are installed.
pub(crate) fn dir() -> PathBuf {
    std::env::var_os("STREAMSCOPE_INTEROP")
        .map_or_else(|| root().join("target/interop"), PathBuf::from)
}

/// Installs the peers unless they are installed already (once per test process; the script holds
/// a lock, so test crates running side by side do not race).
pub(crate) fn ensure() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let status = std::process::Command::new(root().join("tests/interop/setup.sh"))
            .status()
            .expect("run tests/interop/setup.sh");
        assert!(
            status.success(),
            "tests/interop/setup.sh failed ({status}): the interop peers need python3 with venv, \
             node and npm, and the PyPI and npm registries"
        );
    });
}

/// A peer process from `tests/interop/`, killed when dropped.
pub(crate) struct Peer {
    /// The port it printed.
    pub(crate) port: u16,
    child: Child,
}

impl Peer {
    /// `python SCRIPT ARGS` in the peers' venv.
    pub(crate) async fn python(script: &str, args: &[&str]) -> Peer {
        ensure();
        let python = dir().join("venv/bin/python");
        Peer::start(Command::new(python).arg(script).args(args)).await
    }

    /// `node SCRIPT ARGS` with the peers' `node_modules`.
    pub(crate) async fn node(script: &str, args: &[&str]) -> Peer {
        ensure();
        let mut command = Command::new("node");
        command
            .env("NODE_PATH", dir().join("node/node_modules"))
            .arg(script)
            .args(args);
        Peer::start(&mut command).await
    }

    /// Starts `command` in `tests/interop/` and waits for the port on its first stdout line.
    pub(crate) async fn start(command: &mut Command) -> Peer {
        let mut child = command
            .current_dir(root().join("tests/interop"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the interop peer");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_LIMIT, lines.next_line())
            .await
            .expect("the peer printed no port in time")
            .expect("read the peer's output")
            .expect("the peer ended before printing its port");
        let port = first
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the peer's first line is not a port: {first:?}"));
        // Keep reading (and dropping) its output, so a chatty peer never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Peer { port, child }
    }

    /// `scheme://127.0.0.1:PORT/path`.
    pub(crate) fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the peer now (it is also killed when dropped).
    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
