//! The bare counting client: the floor a stream client cannot beat on this machine.
//!
//! `bare_client URL` connects a plain blocking TCP socket, sends a minimal HTTP/1.1 request (an
//! Upgrade for `ws://`), and counts what arrives as fast as it can, without allocating per message:
//!
//! - `http://`: SSE events, counted as blank lines (`\n\n`) in the de-chunked body;
//! - `ws://`: data frames (text, binary, continuation with FIN) until the server's close frame.
//!
//! It prints `COUNT BYTES` (messages, body bytes after de-chunking / frame bytes) and exits. It does
//! not check anything a real client must (UTF-8, masking rules, close codes), so it is a baseline,
//! not a client. It is a `[[bench]]` target with `harness = false`, not an example, so that
//! `cargo test` never builds it; `benches/e2e.sh` builds it with `cargo bench --no-run`.
//! Loopback only: it refuses hosts other than `127.0.0.1` and `localhost`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

/// Read buffer: large, like curl's, so the count is not limited by syscalls.
const BUF: usize = 256 * 1024;

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; skip flags.
    let Some(url) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: bare_client http://127.0.0.1:PORT/PATH | ws://127.0.0.1:PORT/PATH");
        return ExitCode::from(2);
    };
    match run(&url) {
        Ok((count, bytes)) => {
            println!("{count} {bytes}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bare_client: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(url: &str) -> Result<(u64, u64), String> {
    let (ws, rest) = if let Some(r) = url.strip_prefix("ws://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("only http:// and ws:// URLs".into());
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" {
        return Err("loopback only (127.0.0.1 or localhost)".into());
    }
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut sock = TcpStream::connect(&addr).map_err(|e| format!("connect {addr}: {e}"))?;
    // Bounded: a stalled server ends the run instead of hanging it.
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let request = if ws {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
    } else {
        format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n\r\n")
    };
    sock.write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;

    let mut buf = vec![0u8; BUF];
    // Read the response head.
    let mut have = 0;
    let head_end = loop {
        let n = sock.read(&mut buf[have..]).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the response head".into());
        }
        have += n;
        if let Some(p) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if have == buf.len() {
            return Err("response head too large".into());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let want = if ws { " 101 " } else { " 200 " };
    if !head.lines().next().unwrap_or("").contains(want) {
        return Err(format!(
            "unexpected response: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    let chunked = head.contains("transfer-encoding: chunked");
    buf.copy_within(head_end..have, 0);
    let first = have - head_end;
    if ws {
        count_ws(&mut sock, &mut buf, first)
    } else {
        count_sse(&mut sock, &mut buf, first, chunked)
    }
}

/// Counts `\n\n` in the body, de-chunking on the fly.
fn count_sse(
    sock: &mut TcpStream,
    buf: &mut [u8],
    mut filled: usize,
    chunked: bool,
) -> Result<(u64, u64), String> {
    let mut events = 0u64;
    let mut body = 0u64;
    let mut last = 0u8;
    let mut chunk = Chunked::default();
    loop {
        let data = &mut buf[..filled];
        let n = if chunked { chunk.decode(data)? } else { filled };
        events += count_blank_lines(&data[..n], &mut last);
        body += n as u64;
        if chunked && chunk.done {
            return Ok((events, body));
        }
        filled = sock.read(buf).map_err(|e| e.to_string())?;
        if filled == 0 {
            return Ok((events, body));
        }
    }
}

/// Counts `\n\n` pairs (not overlapping), eight bytes at a time where a word holds no `\n`.
/// `last` carries the previous byte across calls (0 after a counted pair).
fn count_blank_lines(data: &[u8], last: &mut u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = ONES * b'\n' as u64;
    let mut n = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ LF;
        if x.wrapping_sub(ONES) & !x & HIGHS == 0 {
            *last = w[7];
            continue;
        }
        n += count_bytes(w, last);
    }
    n + count_bytes(words.remainder(), last)
}

fn count_bytes(bytes: &[u8], last: &mut u8) -> u64 {
    let mut n = 0;
    for &b in bytes {
        if b == b'\n' && *last == b'\n' {
            n += 1;
            *last = 0;
        } else {
            *last = b;
        }
    }
    n
}

/// A minimal chunked-transfer decoder that compacts body bytes to the front of each read.
#[derive(Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a hand-rolled state machine kept flat on purpose: the baseline must stay minimal"
)]
struct Chunked {
    /// Body bytes left in the current chunk.
    left: u64,
    /// Parsing a chunk-size line (hex digits, then anything up to LF).
    in_size: bool,
    size: u64,
    size_seen_digit_end: bool,
    /// CRLF after a chunk's data still to skip.
    skip_crlf: u8,
    started: bool,
    done: bool,
}

impl Chunked {
    /// Rewrites `data` so that its first `n` bytes are body bytes; returns `n`.
    fn decode(&mut self, data: &mut [u8]) -> Result<usize, String> {
        if !self.started {
            self.started = true;
            self.in_size = true;
        }
        let mut out = 0;
        let mut i = 0;
        while i < data.len() && !self.done {
            if self.left > 0 {
                let take = (data.len() - i).min(usize::try_from(self.left).unwrap_or(usize::MAX));
                data.copy_within(i..i + take, out);
                out += take;
                i += take;
                self.left -= take as u64;
                if self.left == 0 {
                    self.skip_crlf = 2;
                }
            } else if self.skip_crlf > 0 {
                // CRLF after chunk data (tolerates a bare LF).
                if data[i] == b'\n' {
                    self.skip_crlf = 0;
                    self.in_size = true;
                    self.size = 0;
                    self.size_seen_digit_end = false;
                }
                i += 1;
            } else if self.in_size {
                let b = data[i];
                i += 1;
                if b == b'\n' {
                    self.in_size = false;
                    if self.size == 0 {
                        self.done = true;
                    } else {
                        self.left = self.size;
                    }
                } else if !self.size_seen_digit_end {
                    match (b as char).to_digit(16) {
                        Some(d) => self.size = self.size * 16 + u64::from(d),
                        None => self.size_seen_digit_end = true,
                    }
                }
            } else {
                return Err("bad chunked encoding".into());
            }
        }
        Ok(out)
    }
}

/// Counts data messages (frames with FIN) until a close frame.
fn count_ws(sock: &mut TcpStream, buf: &mut [u8], mut filled: usize) -> Result<(u64, u64), String> {
    let mut messages = 0u64;
    let mut bytes = 0u64;
    // Payload bytes of the current frame still to skip (they may span reads).
    let mut skip = 0u64;
    let mut pos = 0;
    loop {
        // Skip payload.
        let avail = (filled - pos) as u64;
        let s = skip.min(avail);
        pos += s as usize;
        skip -= s;
        // Parse whole headers.
        while skip == 0 && filled - pos >= 2 {
            let b0 = buf[pos];
            let b1 = buf[pos + 1];
            let (len, hlen) = match b1 & 0x7f {
                126 if filled - pos >= 4 => (
                    u64::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]])),
                    4,
                ),
                127 if filled - pos >= 10 => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&buf[pos + 2..pos + 10]);
                    (u64::from_be_bytes(b), 10)
                }
                126 | 127 => break,
                n => (u64::from(n), 2),
            };
            let hlen = hlen + if b1 & 0x80 != 0 { 4 } else { 0 };
            if filled - pos < hlen {
                break;
            }
            let opcode = b0 & 0x0f;
            if opcode == 8 {
                bytes += hlen as u64 + len;
                // Answer the close (masked, empty) so the server can end at once.
                let _ = sock.write_all(&[0x88, 0x80, 0, 0, 0, 0]);
                return Ok((messages, bytes));
            }
            if b0 & 0x80 != 0 && opcode < 8 {
                messages += 1;
            }
            bytes += hlen as u64 + len;
            pos += hlen;
            let avail = (filled - pos) as u64;
            let s = len.min(avail);
            pos += s as usize;
            skip = len - s;
        }
        // Keep a partial header, read more.
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        pos = 0;
        let n = sock.read(&mut buf[filled..]).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok((messages, bytes));
        }
        filled += n;
    }
}
