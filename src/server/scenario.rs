//! Fault-injection scenarios under `/scenario/`: streams that misbehave on purpose (drops, stalls,
//! odd `retry:`, resets, close codes, fragmented or compressed frames, handshakes that never
//! finish), so a client's handling of each can be seen and tested.
//!
//! These requests never reach hyper. Many of the faults are bytes hyper would refuse to write (a
//! chunked body cut without its last chunk, a frame header followed by a TCP reset, a request never
//! answered, a non-minimal frame length), so the accept loop peeks at each new connection
//! ([`is_scenario`]) and hands `/scenario/` requests to [`serve`], which reads the request head
//! itself and writes every byte of the reply by hand. One request per connection
//! (`Connection: close`); see `docs/server.md` for what each scenario sends.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::query::{BadQuery, Query};
use super::state::State;
use crate::protocol::deflate::{DeflateParams, Deflater, TAIL};
use crate::protocol::ws::{FrameHeader, encode_close_payload, encode_frame, encode_header};

/// The prefix that routes a request here.
const PREFIX: &[u8] = b"GET /scenario/";
/// Request heads bigger than this are refused: no scenario needs more.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a scenario that never answers holds the connection (the client usually gives up first).
const HANG: Duration = Duration::from_secs(60);

const OP_TEXT: u8 = 0x1;
const OP_CONTINUATION: u8 = 0x0;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;

/// True when the connection's first bytes are a `GET /scenario/` request. Peeks (does not consume),
/// so a `false` leaves the socket untouched for hyper.
pub(super) async fn is_scenario(stream: &TcpStream) -> bool {
    // A client that connects and says nothing is hyper's business (its header timeout): give up
    // on the check after a while rather than hold the connection here.
    tokio::time::timeout(HEAD_TIMEOUT, peek_prefix(stream, PREFIX))
        .await
        .unwrap_or(false)
}

/// True when the connection's first bytes are `prefix` (peeked, not consumed).
pub(super) async fn starts_with(stream: &TcpStream, prefix: &[u8]) -> bool {
    tokio::time::timeout(HEAD_TIMEOUT, peek_prefix(stream, prefix))
        .await
        .unwrap_or(false)
}

async fn peek_prefix(stream: &TcpStream, prefix: &[u8]) -> bool {
    let mut buf = [0u8; 32];
    let buf = &mut buf[..prefix.len().min(32)];
    // A request line normally arrives in one segment; polling briefly covers a client that sends
    // it in pieces, and the bound keeps a trickling client from holding the check forever.
    for _ in 0..200 {
        match stream.peek(buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) if n >= buf.len() || !prefix.starts_with(&buf[..n]) => {
                return buf[..n] == *prefix;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    false
}

/// A parsed request head.
struct Head {
    path: String,
    query: Query,
    headers: HashMap<String, String>,
}

/// Reads the request head (everything up to the blank line) byte-exact, without buffering past it.
async fn read_head(stream: &mut TcpStream) -> Option<Head> {
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 1024];
    let read = async {
        loop {
            // Peek then consume only up to the end of the head, so nothing after it is lost.
            let n = stream.peek(&mut tmp).await.ok()?;
            if n == 0 {
                return None;
            }
            let before = buf.len();
            buf.extend_from_slice(&tmp[..n]);
            let take = match find(&buf, b"\r\n\r\n") {
                Some(end) => end + 4 - before,
                None => n,
            };
            buf.truncate(before + take);
            stream.read_exact(&mut tmp[..take]).await.ok()?;
            if buf.ends_with(b"\r\n\r\n") {
                return Some(());
            }
            if buf.len() > MAX_HEAD {
                return None;
            }
        }
    };
    tokio::time::timeout(HEAD_TIMEOUT, read).await.ok()??;
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split(' ').nth(1)?.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q)),
        None => (target.clone(), None),
    };
    let headers = lines
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Some(Head {
        path,
        query: Query::parse(query),
        headers,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Serves one `/scenario/` request on a raw socket.
pub(super) async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let _ = stream.set_nodelay(true);
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    tokio::select! {
        () = dispatch(&mut stream, &head) => {}
        () = state.stopped() => {}
    }
}

/// Writes bytes, ignoring errors: a client that went away simply ends the scenario early, and the
/// next write (or the end of the scenario) notices nothing further to do.
async fn put(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok()
}

async fn dispatch(stream: &mut TcpStream, head: &Head) {
    let name = head.path.trim_start_matches("/scenario/");
    let result = match name {
        "sse/drop" => sse_drop(stream, head).await,
        "sse/retry" => sse_retry(stream, &head.query).await,
        "sse/silence" => sse_silence(stream, &head.query).await,
        "sse/stall" => sse_stall(stream, &head.query).await,
        "sse/drip" => sse_drip(stream, &head.query).await,
        "sse/content-type" => sse_content_type(stream, &head.query).await,
        "sse/huge-line" => sse_huge_line(stream, &head.query).await,
        "sse/lint" => sse_lint(stream).await,
        "sse/burst" => sse_burst(stream, &head.query).await,
        "sse/no-response" | "ws/no-handshake" => {
            hang(stream).await;
            Ok(())
        }
        "ws/no-pong" => ws_no_pong(stream, head).await,
        "ws/fragmented" => ws_fragmented(stream, head).await,
        "ws/compressed" => ws_compressed(stream, head).await,
        "ws/reset" => ws_reset(stream, head).await,
        "ws/non-minimal" => ws_non_minimal(stream, head).await,
        other => {
            if let Some(code) = other.strip_prefix("ws/close/") {
                ws_close(stream, head, code).await
            } else if let Some(variant) = other.strip_prefix("ws/deflate/") {
                ws_deflate(stream, head, variant).await
            } else {
                let body = format!("no scenario {name:?}; see docs/server.md\n");
                put(stream, plain_reply(404, "Not Found", &body).as_bytes()).await;
                Ok(())
            }
        }
    };
    if let Err(bad) = result {
        let body = format!("{}\n", bad.message());
        put(stream, plain_reply(400, "Bad Request", &body).as_bytes()).await;
    }
}

fn plain_reply(code: u16, reason: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// An SSE head whose body runs until the socket closes.
const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";

/// Holds the connection without a byte of reply until the client gives up (or [`HANG`]).
async fn hang(stream: &mut TcpStream) {
    let mut tmp = [0u8; 1024];
    let _ = tokio::time::timeout(HANG, async {
        while let Ok(n) = stream.read(&mut tmp).await {
            if n == 0 {
                return;
            }
        }
    })
    .await;
}

fn millis(query: &Query, name: &str, default: u64) -> Result<Duration, BadQuery> {
    Ok(Duration::from_millis(
        query.number(name, 0, 600_000)?.unwrap_or(default),
    ))
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut v = format!("{:x}\r\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\r\n");
    v
}

/// `sse/drop`: numbered events, and after `after` of them on this connection, the connection is
/// cut mid-body (chunked, no last chunk), so the client sees a broken stream, not an end.
/// `Last-Event-ID: K` resumes at `K + 1`, shifted by `skip` (ids lost) or `repeat` (ids sent again).
/// With `reset=1` the cut is a TCP reset instead of a plain close.
async fn sse_drop(stream: &mut TcpStream, head: &Head) -> Result<(), BadQuery> {
    let q = &head.query;
    let after = q.number("after", 0, 1_000_000)?.unwrap_or(3);
    let retry = q.number("retry_ms", 0, 600_000)?.unwrap_or(100);
    let skip = q.number("skip", 0, 1_000_000)?.unwrap_or(0);
    let repeat = q.number("repeat", 0, 1_000_000)?.unwrap_or(0);
    let interval = millis(q, "interval_ms", 10)?;
    let reset = q.number("reset", 0, 1)? == Some(1);
    let last = head
        .headers
        .get("last-event-id")
        .and_then(|v| v.parse::<u64>().ok());
    let first = match last {
        Some(k) => (k + 1 + skip).saturating_sub(repeat),
        None => 1,
    };
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
    if !put(stream, head.as_bytes()).await {
        return Ok(());
    }
    if !put(stream, &chunk(format!("retry: {retry}\n\n").as_bytes())).await {
        return Ok(());
    }
    for id in first..first + after {
        let event = format!("id: {id}\ndata: {{\"seq\":{id}}}\n\n");
        if !put(stream, &chunk(event.as_bytes())).await {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
    // Dropping the socket without `0\r\n\r\n` is the fault.
    if reset {
        reset_on_drop(stream);
    }
    Ok(())
}

/// Makes the coming drop of `stream` a TCP reset (RST) rather than an orderly close (FIN).
fn reset_on_drop(stream: &TcpStream) {
    // tokio deprecates `set_linger` because a non-zero linger blocks the thread on drop; a zero
    // linger never blocks (the kernel discards the buffer and sends RST at once), which is the
    // point here.
    #[expect(
        deprecated,
        reason = "a zero linger is the one use that never blocks: it makes the close an RST"
    )]
    let _ = stream.set_linger(Some(Duration::ZERO));
}

/// `sse/retry?ms=A,B,...`: for each value a `retry:` line and an event naming it, then the body
/// ends, so the client reconnects after the last value.
async fn sse_retry(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let raw = q.get("ms").unwrap_or("100");
    let mut body = String::from(SSE_HEAD);
    for value in raw.split(',') {
        let ms: u64 = value.trim().parse().map_err(|_| {
            BadQuery::new(format!("ms={raw:?} must be whole numbers, comma-separated"))
        })?;
        // Writing to a String cannot fail.
        let _ = write!(body, "retry: {ms}\ndata: retry {ms}\n\n");
    }
    put(stream, body.as_bytes()).await;
    Ok(())
}

/// `sse/silence?ms=M&n=N`: an event, then `n` heartbeat comments `ms` apart, then the end.
async fn sse_silence(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let pause = millis(q, "ms", 1500)?;
    let n = q.number("n", 0, 1000)?.unwrap_or(2);
    if !put(stream, format!("{SSE_HEAD}data: start\n\n").as_bytes()).await {
        return Ok(());
    }
    for _ in 0..n {
        tokio::time::sleep(pause).await;
        if !put(stream, b": heartbeat\n\n").await {
            return Ok(());
        }
    }
    Ok(())
}

/// `sse/stall?ms=M`: half an event, a stall of `ms`, then the rest of it.
async fn sse_stall(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let pause = millis(q, "ms", 500)?;
    if !put(
        stream,
        format!("{SSE_HEAD}id: 1\ndata: first half").as_bytes(),
    )
    .await
    {
        return Ok(());
    }
    tokio::time::sleep(pause).await;
    put(stream, b"\ndata: second half\n\n").await;
    Ok(())
}

/// `sse/drip?ms=M`: one event written one byte at a time, `ms` apart.
async fn sse_drip(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let pause = millis(q, "ms", 10)?;
    if !put(stream, SSE_HEAD.as_bytes()).await {
        return Ok(());
    }
    for b in b"id: 1\ndata: drip\n\n" {
        if !put(stream, &[*b]).await {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// `sse/content-type?type=T`: a 200 whose Content-Type is `T` (default `text/html`).
async fn sse_content_type(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let ty = q.get("type").unwrap_or("text/html; charset=utf-8");
    if ty.contains(['\r', '\n']) {
        return Err(BadQuery::new("type must be one line"));
    }
    let body = "<html><body>not an event stream</body></html>\n";
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    put(stream, reply.as_bytes()).await;
    Ok(())
}

/// `sse/huge-line?bytes=N`: one event whose single `data:` line holds `N` bytes of `x`.
async fn sse_huge_line(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let n = q.number("bytes", 0, 64 << 20)?.unwrap_or(1 << 20);
    let n = usize::try_from(n).map_err(|_| BadQuery::new("bytes too large"))?;
    let mut body = Vec::with_capacity(SSE_HEAD.len() + n + 8);
    body.extend_from_slice(SSE_HEAD.as_bytes());
    body.extend_from_slice(b"data: ");
    body.resize(body.len() + n, b'x');
    body.extend_from_slice(b"\n\n");
    put(stream, &body).await;
    Ok(())
}

/// `sse/lint`: legal but suspicious input, one of each: a BOM, mixed line endings, an unknown
/// field, a non-numeric `retry`, an id with NUL, and an event left unterminated at EOF.
async fn sse_lint(stream: &mut TcpStream) -> Result<(), BadQuery> {
    let body: &[u8] = b"\xEF\xBB\xBFdata: one\r\n\r\nfoo: bar\ndata: two\n\nretry: soon\nid: a\0b\ndata: three\n\ndata: never terminated";
    let mut out = SSE_HEAD.as_bytes().to_vec();
    out.extend_from_slice(body);
    put(stream, &out).await;
    Ok(())
}

/// `sse/burst?n=N&after_ms=M`: one event, `after_ms` of silence, then `n` events in one write,
/// as a buffering proxy would deliver them.
async fn sse_burst(stream: &mut TcpStream, q: &Query) -> Result<(), BadQuery> {
    let n = q.number("n", 0, 100_000)?.unwrap_or(20);
    let pause = millis(q, "after_ms", 1200)?;
    if !put(
        stream,
        format!("{SSE_HEAD}id: 0\ndata: first\n\n").as_bytes(),
    )
    .await
    {
        return Ok(());
    }
    tokio::time::sleep(pause).await;
    let mut burst = String::new();
    for i in 1..=n {
        let _ = write!(burst, "id: {i}\ndata: burst {i}\n\n");
    }
    put(stream, burst.as_bytes()).await;
    Ok(())
}

/// Answers the upgrade with 101 by hand; `extra` is added to the head verbatim.
async fn ws_handshake(stream: &mut TcpStream, head: &Head, extra: &str) -> bool {
    let key = head
        .headers
        .get("sec-websocket-key")
        .map_or("", String::as_str);
    let accept = derive_accept_key(key.as_bytes());
    let reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    );
    put(stream, reply.as_bytes()).await
}

fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    encode_frame(&mut out, fin, rsv, opcode, None, payload);
    out
}

/// After our close frame: wait (briefly) for the client's, then let the socket go.
async fn await_close_reply(stream: &mut TcpStream) {
    let mut tmp = [0u8; 1024];
    // Whatever comes first (the client's Close, EOF, an error) ends the scenario: after our Close
    // the client may send nothing else.
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut tmp)).await;
}

/// `ws/close/{code}?reason=R`: one text message, then a Close with that code (`none`: an empty
/// close body). Any number 0..=65535 is sent as asked, including codes RFC 6455 forbids on the
/// wire, so the client's validation can be seen.
async fn ws_close(stream: &mut TcpStream, head: &Head, code: &str) -> Result<(), BadQuery> {
    let code = if code == "none" {
        None
    } else {
        Some(code.parse::<u16>().map_err(|_| {
            BadQuery::new(format!(
                "close code {code:?} must be a number from 0 to 65535 or none"
            ))
        })?)
    };
    let reason = head.query.get("reason").unwrap_or("").to_owned();
    if reason.len() > 123 {
        return Err(BadQuery::new("reason must be at most 123 bytes"));
    }
    if !ws_handshake(stream, head, "").await {
        return Ok(());
    }
    let label = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
    let mut out = frame(true, 0, OP_TEXT, format!("closing with {label}").as_bytes());
    let body = code.map_or_else(Vec::new, |c| encode_close_payload(c, &reason));
    out.extend_from_slice(&frame(true, 0, OP_CLOSE, &body));
    if put(stream, &out).await {
        await_close_reply(stream).await;
    }
    Ok(())
}

/// `ws/no-pong?ms=M`: one message, then silence: client pings are read and never answered, nothing
/// is sent, for `ms` (default 10 s); then the socket is dropped.
async fn ws_no_pong(stream: &mut TcpStream, head: &Head) -> Result<(), BadQuery> {
    let hold = millis(&head.query, "ms", 10_000)?;
    if !ws_handshake(stream, head, "").await
        || !put(stream, &frame(true, 0, OP_TEXT, b"hello")).await
    {
        return Ok(());
    }
    let mut tmp = [0u8; 1024];
    let _ = tokio::time::timeout(hold, async {
        while let Ok(n) = stream.read(&mut tmp).await {
            if n == 0 {
                return;
            }
        }
    })
    .await;
    Ok(())
}

/// The text of `ws/fragmented`; the first frame boundary falls inside `é` (C3 A9).
const FRAGMENTED_TEXT: &str = "héllo wörld";

/// `ws/fragmented`: one text message in three frames, the first boundary splitting a UTF-8
/// sequence, with a Ping between the fragments; then Close 1000.
async fn ws_fragmented(stream: &mut TcpStream, head: &Head) -> Result<(), BadQuery> {
    if !ws_handshake(stream, head, "").await {
        return Ok(());
    }
    let bytes = FRAGMENTED_TEXT.as_bytes();
    // "h" + first byte of "é" | rest of "é" + "llo " | "wörld"
    let (a, rest) = bytes.split_at(2);
    let (b, c) = rest.split_at(5);
    let mut out = frame(false, 0, OP_TEXT, a);
    out.extend_from_slice(&frame(true, 0, OP_PING, b"between"));
    out.extend_from_slice(&frame(false, 0, OP_CONTINUATION, b));
    out.extend_from_slice(&frame(true, 0, OP_CONTINUATION, c));
    out.extend_from_slice(&frame(
        true,
        0,
        OP_CLOSE,
        &encode_close_payload(1000, "done"),
    ));
    if put(stream, &out).await {
        await_close_reply(stream).await;
    }
    Ok(())
}

/// "Hello" compressed with permessage-deflate (RFC 7692 section 7.2.3.1).
const DEFLATED_HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

/// `ws/compressed`: accepts with `permessage-deflate` (whether offered or not) and sends one RSV1
/// text frame, then Close 1000.
async fn ws_compressed(stream: &mut TcpStream, head: &Head) -> Result<(), BadQuery> {
    if !ws_handshake(
        stream,
        head,
        "Sec-WebSocket-Extensions: permessage-deflate\r\n",
    )
    .await
    {
        return Ok(());
    }
    let mut out = frame(true, 0b100, OP_TEXT, DEFLATED_HELLO);
    out.extend_from_slice(&frame(
        true,
        0,
        OP_CLOSE,
        &encode_close_payload(1000, "done"),
    ));
    if put(stream, &out).await {
        await_close_reply(stream).await;
    }
    Ok(())
}

/// `ws/reset?after=N`: `after` messages, then the header and first bytes of a 100-byte frame, then
/// a TCP reset (`SO_LINGER` 0 and close: the kernel sends RST instead of FIN).
async fn ws_reset(stream: &mut TcpStream, head: &Head) -> Result<(), BadQuery> {
    let after = head.query.number("after", 0, 10_000)?.unwrap_or(1);
    if !ws_handshake(stream, head, "").await {
        return Ok(());
    }
    let mut out = Vec::new();
    for i in 0..after {
        out.extend_from_slice(&frame(true, 0, OP_TEXT, format!("message {i}").as_bytes()));
    }
    let partial = frame(true, 0, OP_TEXT, &[b'x'; 100]);
    out.extend_from_slice(&partial[..12]);
    put(stream, &out).await;
    // Give the bytes time to leave before the reset; an RST can overtake unread data otherwise.
    tokio::time::sleep(Duration::from_millis(50)).await;
    reset_on_drop(stream);
    Ok(())
}

/// `ws/non-minimal`: the text message `hi` with a 16-bit length (legal to decode, but RFC 6455
/// says the minimal encoding must be used), then Close 1000.
async fn ws_non_minimal(stream: &mut TcpStream, head: &Head) -> Result<(), BadQuery> {
    if !ws_handshake(stream, head, "").await {
        return Ok(());
    }
    let mut out = Vec::new();
    encode_header(
        &mut out,
        &FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode: OP_TEXT,
            mask: None,
            payload_len: 2,
            header_len: 4,
        },
    );
    out.extend_from_slice(b"hi");
    out.extend_from_slice(&frame(
        true,
        0,
        OP_CLOSE,
        &encode_close_payload(1000, "done"),
    ));
    if put(stream, &out).await {
        await_close_reply(stream).await;
    }
    Ok(())
}

/// The frames of `ws/deflate/{variant}` after a 101 that answers `Sec-WebSocket-Extensions` with
/// the returned value: each message compressed (RSV1), then Close 1000.
fn deflate_variant(variant: &str, q: &Query) -> Result<(String, Vec<Vec<u8>>), BadQuery> {
    let n = usize::try_from(q.number("n", 1, 10_000)?.unwrap_or(5)).unwrap_or(5);
    let text = |i: usize| format!("{{\"seq\":{i},\"text\":\"compressed compressed compressed\"}}");
    let compressed = |params: &DeflateParams| {
        let mut d = Deflater::new(params);
        (0..n)
            .map(|i| d.compress(text(i).as_bytes(), false))
            .collect::<Vec<_>>()
    };
    Ok(match variant {
        "no-context" => {
            let params = DeflateParams {
                server_no_context_takeover: true,
                ..DeflateParams::default()
            };
            (params.to_string(), compressed(&params))
        }
        "small-window" => {
            let bits = q.number("bits", 8, 15)?.unwrap_or(9) as u8;
            let params = DeflateParams {
                server_max_window_bits: Some(bits),
                ..DeflateParams::default()
            };
            (params.to_string(), compressed(&params))
        }
        // RFC 7692 section 7.2.3: "Hello"; "Hello" in a block with BFINAL set, which ends the
        // DEFLATE stream; then "Hello" as a back reference into the window of the ended stream.
        "final-block" => (
            "permessage-deflate".to_owned(),
            vec![
                DEFLATED_HELLO.to_vec(),
                vec![0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                vec![0xf2, 0x00, 0x11, 0x00, 0x00],
            ],
        ),
        "unoffered" => (
            q.get("ext").unwrap_or("x-webkit-deflate-frame").to_owned(),
            vec![DEFLATED_HELLO.to_vec()],
        ),
        "bomb" => {
            let mib = usize::try_from(q.number("mib", 1, 4096)?.unwrap_or(100)).unwrap_or(100);
            // One MiB of zeros compresses to about a kilobyte; a sync-flushed piece refers only
            // to itself, so the pieces chain into one stream of `mib` MiB.
            let mut piece =
                Deflater::new(&DeflateParams::default()).compress(&vec![0; 1 << 20], false);
            piece.extend_from_slice(&TAIL);
            let mut bomb = piece.repeat(mib);
            bomb.truncate(bomb.len() - TAIL.len());
            ("permessage-deflate".to_owned(), vec![bomb])
        }
        // A good message, then one whose first block has the reserved type 11.
        "corrupt" => (
            "permessage-deflate".to_owned(),
            vec![DEFLATED_HELLO.to_vec(), vec![0xff, 0xff, 0xff]],
        ),
        other => {
            return Err(BadQuery::new(format!(
                "no deflate scenario {other:?}: no-context, small-window, final-block, \
                 unoffered, bomb or corrupt"
            )));
        }
    })
}

/// `ws/deflate/{variant}`: permessage-deflate accepted (whether offered or not) with the
/// variant's parameters, its compressed messages, then Close 1000.
async fn ws_deflate(stream: &mut TcpStream, head: &Head, variant: &str) -> Result<(), BadQuery> {
    let (answer, messages) = deflate_variant(variant, &head.query)?;
    let extra = format!("Sec-WebSocket-Extensions: {answer}\r\n");
    if !ws_handshake(stream, head, &extra).await {
        return Ok(());
    }
    let mut out = Vec::new();
    for m in &messages {
        encode_frame(&mut out, true, 0b100, OP_TEXT, None, m);
    }
    out.extend_from_slice(&frame(
        true,
        0,
        OP_CLOSE,
        &encode_close_payload(1000, "done"),
    ));
    if put(stream, &out).await {
        await_close_reply(stream).await;
    }
    Ok(())
}
