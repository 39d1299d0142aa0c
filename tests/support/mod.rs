//! The integration tests' kit, shared by the `tests/*.rs` crates: runs of the real binary (with no
//! terminal here, in a tmux in [`tmux`]), the embedded server, raw TCP servers that write scripted
//! bytes, temporary directories, and helpers over the JSON records the binary prints.
//!
//! The library's unit tests have their own kit (`src/testkit.rs`, compiled under `cfg(test)` only,
//! so it cannot be shared with these crates).

// Each `tests/*.rs` is a crate of its own that compiles this module and uses a part of it, a
// different part in each: an item unused in one crate is dead there and alive in another. The
// lint cannot be expected (`#[expect]` is unfulfilled, an error under -D warnings, in the crates
// that use the item), so it is allowed, here only. What the allow hides, an item that no crate
// uses, is checked by hand: build the tests without it and look for an item that every crate
// declaring `mod support` reports as dead (done when the kit was last changed: none).
#![allow(
    dead_code,
    reason = "each test crate uses a different part of the shared kit"
)]

pub(crate) mod interop;
pub(crate) mod prometheus;
pub(crate) mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use streamscope::server::{Server, ServerConfig, ServerHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_streamscope");

/// How long one run of the binary may take before the test fails instead of hanging.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// `streamscope ARGS` with no terminal: stdin closed, stdout and stderr discarded unless the caller
/// pipes them, the process killed when the test drops it.
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `streamscope ARGS` (no terminal) to its end, within a time limit: exit status, stdout,
/// stderr.
pub(crate) async fn output(args: &[&str]) -> Output {
    let child = command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn streamscope");
    tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .expect("streamscope did not finish within 30 s")
        .expect("wait")
}

/// Reads a child's stdout (piped by the caller) to its end, within `limit`.
pub(crate) async fn read_stdout(child: &mut Child, limit: Duration) -> Vec<u8> {
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut bytes = Vec::new();
    tokio::time::timeout(limit, stdout.read_to_end(&mut bytes))
        .await
        .expect("streamscope's output ended in time")
        .expect("read stdout");
    bytes
}

/// Output of one run of the binary.
#[derive(Debug)]
pub(crate) struct RunOutput {
    pub records: Vec<Value>,
    pub code: i32,
    pub stderr: String,
}

impl RunOutput {
    /// Records of one kind.
    pub(crate) fn kind(&self, kind: &str) -> Vec<&Value> {
        self.records.iter().filter(|r| r["kind"] == kind).collect()
    }
    /// Records of one kind in one direction (`in` or `out`).
    pub(crate) fn kind_dir(&self, kind: &str, dir: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["kind"] == kind && r["dir"] == dir)
            .collect()
    }
    /// All kinds in order.
    pub(crate) fn kinds(&self) -> Vec<String> {
        self.records
            .iter()
            .map(|r| r["kind"].as_str().unwrap_or("?").to_owned())
            .collect()
    }
}

/// Runs `streamscope ARGS` (no terminal) with a time limit, parsing stdout as JSON lines.
pub(crate) async fn run(args: &[&str]) -> RunOutput {
    let out = output(args).await;
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    RunOutput {
        records: json_lines(&stdout),
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The records in `--json` output, one a line.
pub(crate) fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The embedded server (the one `streamscope demo` runs) in process on 127.0.0.1 with a free port.
/// Each test file names the tick and heartbeat its tests are timed for.
pub(crate) async fn embedded_server(config: ServerConfig) -> ServerHandle {
    let server = Server::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("bind 127.0.0.1:0");
    assert_ne!(server.local_addr().port(), 0);
    server.spawn()
}

/// A directory of its own under the system's temporary directory, removed with everything in it
/// when dropped. `tag` keeps apart the tests of one run, which share the process id.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("streamscope-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        TempDir(dir)
    }

    /// The path of `name` in the directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path as a command-line argument.
pub(crate) fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A port on 127.0.0.1 that nothing listens on: the OS chose it free, and it is free again.
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A TCP server on 127.0.0.1:0 that hands each accepted connection (with its 0-based number) to
/// `script`, and keeps every request head it read for assertions.
pub(crate) struct RawServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    pub(crate) async fn start<F, Fut>(script: F) -> RawServer
    where
        F: Fn(usize, TcpStream, Arc<Mutex<Vec<String>>>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reqs = requests.clone();
        let script = Arc::new(script);
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((sock, _)) = listener.accept().await {
                let script = script.clone();
                let reqs = reqs.clone();
                tokio::spawn(async move { script(n, sock, reqs).await });
                n += 1;
            }
        });
        RawServer { port, requests }
    }

    pub(crate) fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn request(&self, i: usize) -> String {
        self.requests.lock().expect("lock")[i].clone()
    }
}

/// Reads an HTTP request (head and a Content-Length body) and records it.
pub(crate) async fn read_request(sock: &mut TcpStream, log: &Arc<Mutex<Vec<String>>>) -> String {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let n = sock.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut tmp).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    log.lock().expect("lock").push(text.clone());
    text
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The head of an SSE response with no framing (body ends when the socket closes).
pub(crate) const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";

/// Writes `parts` with a pause between them, so each arrives in its own read.
pub(crate) async fn write_parts(sock: &mut TcpStream, parts: &[&[u8]], pause: Duration) {
    for p in parts {
        if sock.write_all(p).await.is_err() {
            return;
        }
        let _ = sock.flush().await;
        tokio::time::sleep(pause).await;
    }
}

/// A chunked-encoding chunk.
pub(crate) fn chunk(data: &[u8]) -> Vec<u8> {
    let mut v = format!("{:x}\r\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\r\n");
    v
}

/// Completes a WebSocket handshake on a raw socket (optionally choosing a subprotocol) and returns
/// the request head.
pub(crate) async fn ws_accept(
    sock: &mut TcpStream,
    log: &Arc<Mutex<Vec<String>>>,
    protocol: Option<&str>,
) -> String {
    let req = read_request(sock, log).await;
    let key = req
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let proto = protocol
        .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
        .unwrap_or_default();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{proto}\r\n"
    );
    let _ = sock.write_all(resp.as_bytes()).await;
    req
}

/// An unmasked server frame.
pub(crate) fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    streamscope::protocol::ws::encode_frame(&mut out, fin, rsv, opcode, None, payload);
    out
}

/// Reads client frames (masked) until `want` frames arrived or the socket closes: (opcode, payload).
pub(crate) async fn read_client_frames(sock: &mut TcpStream, want: usize) -> Vec<(u8, Vec<u8>)> {
    use streamscope::protocol::ws::{apply_mask, parse_header};
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    let mut tmp = [0u8; 4096];
    while frames.len() < want {
        while let Ok(Some(h)) = parse_header(&buf) {
            let total = h.header_len + h.payload_len as usize;
            if buf.len() < total {
                break;
            }
            let mut payload = buf[h.header_len..total].to_vec();
            if let Some(m) = h.mask {
                apply_mask(&mut payload, m, 0);
            }
            frames.push((h.opcode, payload));
            buf.drain(..total);
        }
        if frames.len() >= want {
            break;
        }
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut tmp)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&tmp[..n]),
            _ => break,
        }
    }
    frames
}
