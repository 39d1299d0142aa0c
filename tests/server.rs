//! End-to-end tests of the embedded server: real sockets on 127.0.0.1 with an OS-chosen port.
//! SSE and plain HTTP are spoken by hand over `TcpStream` (so the tests see the exact bytes);
//! WebSocket goes through `tokio_tungstenite::client_async`.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use streamscope::server::{ServerConfig, endpoints};
use support::{embedded_server, find};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

/// Every network step is bounded, so a hang fails the test instead of stalling the suite.
const LIMIT: Duration = Duration::from_secs(10);

/// A 20 ms feed; heartbeats rare enough to stay out of the way.
const FAST: ServerConfig = ServerConfig {
    tick: Duration::from_millis(20),
    heartbeat: Duration::from_secs(5),
};

/// A raw HTTP/1.1 response: status code, lower-cased header lines, de-chunked body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
}

/// Sends `head` (request line and headers, without the final blank line) plus `body`, with
/// `Connection: close`, and reads the response to EOF.
async fn request(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    tokio::time::timeout(LIMIT, async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut bytes = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
        if !body.is_empty() {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).await.expect("write request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read response");
        parse_reply(&raw)
    })
    .await
    .expect("response within the time limit")
}

async fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, &format!("GET {target} HTTP/1.1"), b"").await
}

fn parse_reply(raw: &[u8]) -> Reply {
    let end = find(raw, b"\r\n\r\n").expect("end of response head");
    let head = std::str::from_utf8(&raw[..end]).expect("ascii head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line");
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Undoes `Transfer-Encoding: chunked`; panics on a malformed or unterminated body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n").expect("chunk size line");
        let size_text = std::str::from_utf8(&raw[..line_end]).expect("ascii chunk size");
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).expect("hex chunk size");
        raw = &raw[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        assert_eq!(&raw[size..size + 2], b"\r\n", "chunk ends with CRLF");
        raw = &raw[size + 2..];
    }
}

/// An SSE event as (field, value) lines, split on blank lines; comments kept as ("", text).
fn sse_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    text.split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            block
                .lines()
                .map(|line| {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    (
                        field.to_owned(),
                        value.strip_prefix(' ').unwrap_or(value).to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

fn field<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, v)| v.as_str())
}

/// The (id, data JSON) of each `tick` event in an /sse body.
fn ticks(text: &str) -> Vec<(u64, serde_json::Value)> {
    sse_blocks(text)
        .iter()
        .filter(|block| field(block, "event") == Some("tick"))
        .map(|block| {
            let id = field(block, "id")
                .and_then(|id| id.parse().ok())
                .expect("numeric id");
            let data =
                serde_json::from_str(field(block, "data").expect("data line")).expect("json");
            (id, data)
        })
        .collect()
}

type Ws = WebSocketStream<TcpStream>;

async fn ws_connect(
    addr: SocketAddr,
    target: &str,
    protocol: Option<&str>,
) -> (Ws, Option<String>) {
    let mut req = format!("ws://{addr}{target}")
        .into_client_request()
        .expect("ws request");
    if let Some(protocol) = protocol {
        req.headers_mut().insert(
            "sec-websocket-protocol",
            protocol.parse().expect("header value"),
        );
    }
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (ws, response) = tokio::time::timeout(LIMIT, client_async(req, tcp))
        .await
        .expect("handshake in time")
        .expect("handshake");
    assert_eq!(response.status(), 101);
    assert!(response.headers().get("sec-websocket-extensions").is_none());
    let chosen = response
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (ws, chosen)
}

async fn ws_next(ws: &mut Ws) -> Message {
    tokio::time::timeout(LIMIT, ws.next())
        .await
        .expect("message in time")
        .expect("stream not ended")
        .expect("no websocket error")
}

#[tokio::test]
async fn sse_feed_sends_headers_retry_and_consecutive_ticks() {
    let server = embedded_server(FAST).await;
    let reply = get(server.local_addr(), "/sse?count=3&interval_ms=10").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    let text = reply.text();
    assert!(text.starts_with("retry: 2000\n\n"), "{text}");
    let ticks = ticks(&text);
    assert_eq!(ticks.len(), 3, "{text}");
    for (i, (id, data)) in ticks.iter().enumerate() {
        assert_eq!(data["seq"].as_u64(), Some(*id));
        assert_eq!(data["symbol"], "ACME");
        assert!(
            data["price"]
                .as_f64()
                .is_some_and(|p| p > 50.0 && p < 150.0)
        );
        assert!(
            data["ts_ms"]
                .as_u64()
                .is_some_and(|ts| ts > 1_600_000_000_000)
        );
        assert_eq!(*id, ticks[0].0 + i as u64);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn sse_last_event_id_resumes_after_that_seq() {
    // A slow clock, so replaying three missed events at once is clearly faster than three ticks.
    let server = embedded_server(ServerConfig {
        tick: Duration::from_millis(100),
        heartbeat: Duration::from_secs(5),
    })
    .await;
    let addr = server.local_addr();
    // Let the clock run so that there are past seqs to replay.
    tokio::time::sleep(Duration::from_millis(550)).await;
    let first = ticks(&get(addr, "/sse?count=1").await.text());
    let seen = first[0].0;
    assert!(seen >= 5, "clock at {seen}");

    let head = format!("GET /sse?count=1 HTTP/1.1\r\nLast-Event-ID: {seen}");
    let next = ticks(&request(addr, &head, b"").await.text());
    assert_eq!(next[0].0, seen + 1);

    // Missed events come at once: three past seqs in far less time than three ticks.
    let head = format!("GET /sse?count=3 HTTP/1.1\r\nLast-Event-ID: {}", seen - 4);
    let started = std::time::Instant::now();
    let replay = ticks(&request(addr, &head, b"").await.text());
    let ids: Vec<u64> = replay.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, vec![seen - 3, seen - 2, seen - 1]);
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn sse_sends_heartbeat_comments() {
    let server = embedded_server(ServerConfig {
        tick: Duration::from_millis(20),
        heartbeat: Duration::from_millis(30),
    })
    .await;
    let text = get(server.local_addr(), "/sse?count=1&interval_ms=200")
        .await
        .text();
    let heartbeat = text.find(": heartbeat\n").expect("heartbeat comment");
    let tick = text.find("event: tick").expect("tick");
    assert!(heartbeat < tick, "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn sse_rejects_bad_query() {
    let server = embedded_server(FAST).await;
    let reply = get(server.local_addr(), "/sse?interval_ms=0").await;
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("interval_ms"));
    server.shutdown().await;
}

#[tokio::test]
async fn firehose_sse_delivers_exactly_n_events_of_size_bytes() {
    let server = embedded_server(FAST).await;
    // More than one precomputed block (256 KiB / 108 bytes per event), so the remainder path runs.
    let reply = get(server.local_addr(), "/firehose/sse?n=2500&size=100").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let text = reply.text();
    let data: Vec<&str> = text.lines().filter(|l| l.starts_with("data:")).collect();
    assert_eq!(data.len(), 2500);
    let payload = "x".repeat(100);
    assert!(
        data.iter()
            .all(|line| line.strip_prefix("data: ") == Some(payload.as_str()))
    );
    assert_eq!(text.len(), 2500 * 108);

    let small = get(server.local_addr(), "/firehose/sse?n=3&size=5")
        .await
        .text();
    assert_eq!(small, "data: xxxxx\n\n".repeat(3));
    server.shutdown().await;
}

#[tokio::test]
async fn inspect_echoes_method_headers_and_body() {
    let server = embedded_server(FAST).await;
    let head = "POST /inspect?q=1 HTTP/1.1\r\nX-Custom: hello\r\nX-Multi: a\r\nX-Multi: b\r\nLast-Event-ID: 41";
    let reply = request(server.local_addr(), head, b"{\"k\":\"body text\"}").await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    let blocks = sse_blocks(&text);
    assert_eq!(field(&blocks[0], "event"), Some("request"));
    let json: serde_json::Value =
        serde_json::from_str(field(&blocks[0], "data").expect("data")).expect("json");
    assert_eq!(json["method"], "POST");
    assert_eq!(json["path"], "/inspect?q=1");
    assert_eq!(json["headers"]["x-custom"], "hello");
    assert_eq!(json["headers"]["x-multi"], "a, b");
    assert_eq!(json["headers"]["last-event-id"], "41");
    assert_eq!(json["body"], "{\"k\":\"body text\"}");
    assert_eq!(field(&blocks[1], "retry"), Some("60000"));

    let put = request(server.local_addr(), "PUT /inspect HTTP/1.1", b"")
        .await
        .text();
    assert!(put.contains("\"method\":\"PUT\""), "{put}");
    server.shutdown().await;
}

#[tokio::test]
async fn status_replies_with_the_code() {
    let server = embedded_server(FAST).await;
    let addr = server.local_addr();
    let no_content = get(addr, "/status/204").await;
    assert_eq!(no_content.status, 204);
    assert!(no_content.body.is_empty());
    let error = get(addr, "/status/500").await;
    assert_eq!(error.status, 500);
    assert_eq!(error.text().trim(), "status 500");
    let redirect = get(addr, "/status/302").await;
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("location"), Some("/sse"));
    assert_eq!(get(addr, "/status/abc").await.status, 400);
    assert_eq!(get(addr, "/status/101").await.status, 400);
    assert_eq!(get(addr, "/nope").await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn index_lists_the_endpoints() {
    let server = embedded_server(FAST).await;
    let addr = server.local_addr();
    let reply = get(addr, "/").await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    for (url, _) in endpoints(addr) {
        assert!(text.contains(&url), "{url} missing from {text}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn chat_streams_prompt_words_then_done() {
    let server = embedded_server(FAST).await;
    let addr = server.local_addr();
    let reply = request(
        addr,
        "POST /chat?interval_ms=1 HTTP/1.1\r\nContent-Type: application/json",
        br#"{"prompt":"alpha beta gamma"}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let data: Vec<String> = sse_blocks(&reply.text())
        .iter()
        .filter_map(|block| field(block, "data").map(str::to_owned))
        .collect();
    assert_eq!(
        data,
        vec![
            r#"{"token":"alpha "}"#,
            r#"{"token":"beta "}"#,
            r#"{"token":"gamma "}"#,
            "[DONE]"
        ]
    );

    let text = get(addr, "/chat?prompt=one+two&interval_ms=1").await.text();
    assert_eq!(
        text,
        "data: {\"token\":\"one \"}\n\ndata: {\"token\":\"two \"}\n\ndata: [DONE]\n\n"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn echo_round_trips_text_binary_and_close_code() {
    let server = embedded_server(FAST).await;
    let (mut ws, _) = ws_connect(server.local_addr(), "/echo", None).await;
    ws.send(Message::text("hello, échø"))
        .await
        .expect("send text");
    assert_eq!(ws_next(&mut ws).await, Message::text("hello, échø"));
    let binary = Bytes::from_static(&[0, 1, 2, 254, 255]);
    ws.send(Message::Binary(binary.clone()))
        .await
        .expect("send binary");
    assert_eq!(ws_next(&mut ws).await, Message::Binary(binary));

    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Library(4001),
        reason: "bye".into(),
    })))
    .await
    .expect("send close");
    match ws_next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Library(4001)),
        other => panic!("expected a close frame, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn ws_feed_sends_increasing_ticks_then_closes_done() {
    let server = embedded_server(FAST).await;
    let (mut ws, _) = ws_connect(server.local_addr(), "/ws?count=3&interval_ms=10", None).await;
    let mut seqs = Vec::new();
    for _ in 0..3 {
        let Message::Text(text) = ws_next(&mut ws).await else {
            panic!("expected a text tick");
        };
        let json: serde_json::Value = serde_json::from_str(&text).expect("json tick");
        assert_eq!(json["symbol"], "ACME");
        seqs.push(json["seq"].as_u64().expect("seq"));
    }
    assert_eq!(seqs, vec![seqs[0], seqs[0] + 1, seqs[0] + 2]);
    match ws_next(&mut ws).await {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::Normal);
            assert_eq!(frame.reason.as_str(), "done");
        }
        other => panic!("expected close 1000, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn ws_and_sse_share_the_clock() {
    // A tick long enough that scheduling delays on a busy machine stay well inside it.
    let server = embedded_server(ServerConfig {
        tick: Duration::from_millis(100),
        heartbeat: Duration::from_secs(5),
    })
    .await;
    let addr = server.local_addr();
    let (mut ws, _) = ws_connect(addr, "/ws?count=1", None).await;
    let sse = tokio::spawn(async move { ticks(&get(addr, "/sse?count=1").await.text())[0].0 });
    let Message::Text(text) = ws_next(&mut ws).await else {
        panic!("expected a text tick");
    };
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let ws_seq = json["seq"].as_u64().expect("seq");
    let sse_seq = sse.await.expect("sse task");
    // Both started within a tick of each other; scheduling may put them one tick apart.
    assert!(
        ws_seq.abs_diff(sse_seq) <= 1,
        "ws {ws_seq} vs sse {sse_seq}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ws_echoes_the_first_subprotocol_unless_told_not_to() {
    let server = embedded_server(FAST).await;
    let addr = server.local_addr();
    let (_ws, chosen) = ws_connect(addr, "/echo", Some("chat.v2, chat.v1")).await;
    assert_eq!(chosen.as_deref(), Some("chat.v2"));
    let (_ws, chosen) = ws_connect(addr, "/ws?count=1", None).await;
    assert_eq!(chosen, None);

    // With subprotocol=none the server picks nothing, which tungstenite's client rejects.
    let mut req = format!("ws://{addr}/echo?subprotocol=none")
        .into_client_request()
        .expect("ws request");
    req.headers_mut()
        .insert("sec-websocket-protocol", "chat.v2".parse().expect("header"));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let result = tokio::time::timeout(LIMIT, client_async(req, tcp))
        .await
        .expect("in time");
    if let Ok((_, response)) = result {
        assert!(response.headers().get("sec-websocket-protocol").is_none());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn ws_endpoint_without_upgrade_is_426() {
    let server = embedded_server(FAST).await;
    let reply = get(server.local_addr(), "/ws").await;
    assert_eq!(reply.status, 426);
    server.shutdown().await;
}

#[tokio::test]
async fn firehose_ws_delivers_exactly_n_messages_then_close() {
    let server = embedded_server(FAST).await;
    for (n, size) in [(3000_usize, 100_usize), (40, 300), (3, 70_000), (0, 10)] {
        let target = format!("/firehose/ws?n={n}&size={size}");
        let (mut ws, _) = ws_connect(server.local_addr(), &target, None).await;
        let mut count = 0;
        let close = loop {
            match ws_next(&mut ws).await {
                Message::Text(text) => {
                    assert_eq!(text.len(), size);
                    assert!(text.bytes().all(|b| b == b'x'));
                    count += 1;
                }
                Message::Close(frame) => break frame,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(count, n, "{target}");
        assert_eq!(close.map(|f| f.code), Some(CloseCode::Normal), "{target}");
        // The closing handshake completes: the stream ends cleanly.
        let end = tokio::time::timeout(LIMIT, ws.next())
            .await
            .expect("end in time");
        assert!(end.is_none() || matches!(end, Some(Err(_))), "{end:?}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_stops_accepting() {
    let server = embedded_server(FAST).await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(format!("GET /sse HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut buf = [0_u8; 256];
    let n = tokio::time::timeout(LIMIT, stream.read(&mut buf))
        .await
        .expect("headers in time")
        .expect("read");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let (mut ws, _) = ws_connect(addr, "/ws", None).await;

    tokio::time::timeout(LIMIT, server.shutdown())
        .await
        .expect("shutdown in time");

    // The open SSE stream reaches EOF (or a reset) soon after.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(LIMIT, stream.read_to_end(&mut rest))
        .await
        .expect("sse stream ends");
    // The WebSocket ends too.
    let ended =
        tokio::time::timeout(LIMIT, async { while let Some(Ok(_)) = ws.next().await {} }).await;
    assert!(ended.is_ok());
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = embedded_server(FAST).await;
    let addr = server.local_addr();
    drop(server);
    // The accept loop notices on its next poll; give it a moment.
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "server still accepting after its handle was dropped"
    );
}
