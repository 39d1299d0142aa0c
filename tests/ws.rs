//! WebSocket client behaviour against raw TCP servers on 127.0.0.1 that write exact frames.

mod support;

use std::fmt::Write as _;
use std::time::Duration;

use support::{RawServer, frame, read_client_frames, read_request, run, ws_accept};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

fn close_body(code: u16, reason: &str) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(reason.as_bytes());
    v
}

/// Handshake, then write `frames` one write each, then wait for the client's close and close.
async fn serve_frames(frames: Vec<Vec<u8>>) -> RawServer {
    RawServer::start(move |_, mut sock, log| {
        let frames = frames.clone();
        async move {
            ws_accept(&mut sock, &log, None).await;
            for f in &frames {
                let _ = sock.write_all(f).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = read_client_frames(&mut sock, 8).await;
        }
    })
    .await
}

#[tokio::test]
async fn fragments_with_a_ping_between_are_assembled() {
    let f1 = frame(false, 0, TEXT, b"hel");
    let p = frame(true, 0, PING, b"are you there");
    let f2 = frame(true, 0, CONT, b"lo");
    let total = (f1.len() + f2.len()) as u64;
    let close = frame(true, 0, CLOSE, &close_body(1000, "bye"));
    let srv = serve_frames(vec![f1, p, f2, close]).await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 0, "{:?} {}", out.records, out.stderr);
    assert_eq!(
        out.kinds(),
        ["open", "ping", "pong", "message", "close", "close", "end"]
    );
    let pong = out.kind("pong")[0];
    assert_eq!(pong["dir"], "out", "pings are answered at once");
    assert_eq!(pong["data"], "are you there");
    let m = out.kind("message")[0];
    assert_eq!(m["data"], "hello");
    assert_eq!(m["frames"], 2);
    assert_eq!(m["opcode"], "text");
    assert_eq!(m["wire_bytes"], total);
    assert_eq!(m["payload_bytes"], 5);
    let closes = out.kind("close");
    assert_eq!(closes[0]["dir"], "in");
    assert_eq!(closes[0]["code"], 1000);
    assert_eq!(closes[0]["reason"], "bye");
    assert_eq!(closes[0]["by"], "server");
    assert_eq!(closes[1]["dir"], "out");
    assert_eq!(closes[1]["code"], 1000);
}

#[tokio::test]
async fn length_encodings_7_16_64_bit_and_binary() {
    let small = vec![7u8; 10];
    let mid = vec![8u8; 300];
    let big = vec![9u8; 70_000];
    let frames = vec![
        frame(true, 0, BINARY, &small),
        frame(true, 0, BINARY, &mid),
        frame(true, 0, BINARY, &big),
        frame(true, 0, CLOSE, &close_body(1000, "")),
    ];
    let srv = serve_frames(frames).await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    let m = out.kind("message");
    assert_eq!(m.len(), 3, "{:?}", out.kinds());
    assert_eq!(m[0]["wire_bytes"], 2 + 10);
    assert_eq!(m[1]["wire_bytes"], 4 + 300);
    assert_eq!(m[2]["wire_bytes"], 10 + 70_000);
    assert_eq!(m[2]["payload_bytes"], 70_000);
    assert_eq!(m[0]["opcode"], "binary");
    assert_eq!(m[0]["data_base64"], "BwcHBwcHBwcHBw==");
    assert!(m[0].get("data").is_none());
}

#[tokio::test]
async fn server_close_code_is_reported_and_echoed() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        ws_accept(&mut sock, &log, None).await;
        let _ = sock
            .write_all(&frame(true, 0, CLOSE, &close_body(1001, "going")))
            .await;
        let got = read_client_frames(&mut sock, 1).await;
        // Echoed close carries the same code.
        let ok = got
            .first()
            .is_some_and(|(op, p)| *op == CLOSE && p.get(..2) == Some(&[0x03, 0xE9][..]));
        log.lock().expect("lock").push(format!("echo ok: {ok}"));
    })
    .await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 0);
    let c = out.kind("close")[0];
    assert_eq!(c["code"], 1001);
    assert_eq!(c["reason"], "going");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(srv.request(1), "echo ok: true");
    assert!(
        out.kind("end")[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("1001 going away")
    );
}

#[tokio::test]
async fn server_error_close_code_fails_the_stream() {
    let srv = serve_frames(vec![frame(true, 0, CLOSE, &close_body(1011, "oops"))]).await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.kind("close")[0]["code"], 1011);
}

/// The client must answer a protocol violation with an error record and a Close with `code`.
async fn assert_protocol_error(bad: Vec<u8>, code: u16, needle: &str) {
    let srv = RawServer::start(move |_, mut sock, log| {
        let bad = bad.clone();
        async move {
            ws_accept(&mut sock, &log, None).await;
            let _ = sock.write_all(&bad).await;
            let got = read_client_frames(&mut sock, 1).await;
            let sent = got
                .first()
                .filter(|(op, _)| *op == CLOSE)
                .and_then(|(_, p)| p.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])));
            log.lock().expect("lock").push(format!("{sent:?}"));
        }
    })
    .await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 1, "{:?}", out.records);
    let err = out.kind("error");
    assert_eq!(err.len(), 1, "{:?}", out.records);
    assert_eq!(err[0]["close_code"], code);
    assert!(
        err[0]["message"].as_str().unwrap_or("").contains(needle),
        "{}",
        err[0]
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        srv.request(1),
        format!("{:?}", Some(code)),
        "close frame sent to the server"
    );
}

#[tokio::test]
async fn invalid_utf8_text_is_1007() {
    assert_protocol_error(frame(true, 0, TEXT, b"ok \xFF\xFE"), 1007, "UTF-8").await;
}

#[tokio::test]
async fn unknown_opcode_is_1002() {
    assert_protocol_error(frame(true, 0, 0x3, b"x"), 1002, "opcode").await;
}

#[tokio::test]
async fn rsv1_without_negotiation_is_1002() {
    assert_protocol_error(frame(true, 0b100, TEXT, b"x"), 1002, "RSV1").await;
}

#[tokio::test]
async fn oversized_message_is_1009() {
    let srv_frame = frame(true, 0, BINARY, &[0u8; 2000]);
    let srv = RawServer::start(move |_, mut sock, log| {
        let f = srv_frame.clone();
        async move {
            ws_accept(&mut sock, &log, None).await;
            let _ = sock.write_all(&f).await;
            let _ = read_client_frames(&mut sock, 1).await;
        }
    })
    .await;
    let out = run(&["--json", "--max-message", "1000", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.kind("error")[0]["close_code"], 1009);
}

#[tokio::test]
async fn socket_dying_mid_frame_is_an_error_not_a_panic() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        ws_accept(&mut sock, &log, None).await;
        let f = frame(true, 0, TEXT, &[b'a'; 130]);
        let _ = sock.write_all(&f[..20]).await;
        // Dropping the socket ends the connection mid-frame.
    })
    .await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 1);
    let err = out.kind("error")[0];
    assert_eq!(err["close_code"], 1006);
    assert!(
        err["message"].as_str().unwrap_or("").contains("mid-frame"),
        "{err}"
    );
}

#[tokio::test]
async fn refused_upgrade_shows_status_and_body() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let body = "token expired";
        let resp = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
    })
    .await;
    let out = run(&["--json", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 1);
    let err = out.kind("error")[0];
    assert_eq!(err["status"], 403);
    assert_eq!(
        err["message"],
        "WebSocket upgrade refused: HTTP 403 Forbidden: token expired"
    );
}

#[tokio::test]
async fn subprotocol_send_and_count() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        let req = ws_accept(&mut sock, &log, Some("v2.feed")).await;
        let _ = req;
        let got = read_client_frames(&mut sock, 1).await;
        let sent = got
            .first()
            .map(|(_, p)| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        log.lock().expect("lock").push(sent);
        for i in 0..5 {
            let _ = sock
                .write_all(&frame(true, 0, TEXT, format!("{{\"n\":{i}}}").as_bytes()))
                .await;
        }
        let got = read_client_frames(&mut sock, 1).await;
        if got.first().is_some_and(|(op, _)| *op == CLOSE) {
            let _ = sock
                .write_all(&frame(true, 0, CLOSE, &close_body(1000, "")))
                .await;
        }
    })
    .await;
    let out = run(&[
        "--json",
        "--count",
        "2",
        "--subprotocol",
        "v1.feed",
        "--subprotocol",
        "v2.feed",
        "--send",
        r#"{"subscribe":"ticks"}"#,
        &srv.url("ws", "/feed"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let req = srv.request(0).to_ascii_lowercase();
    assert!(
        req.contains("sec-websocket-protocol: v1.feed, v2.feed\r\n"),
        "{req}"
    );
    // The offer browsers send, once.
    assert_eq!(
        req.matches("sec-websocket-extensions: permessage-deflate; client_max_window_bits\r\n")
            .count(),
        1,
        "{req}"
    );
    assert_eq!(srv.request(1), r#"{"subscribe":"ticks"}"#);
    let open = out.kind("open")[0];
    assert_eq!(open["status"], 101);
    assert_eq!(open["headers"]["sec-websocket-protocol"], "v2.feed");
    let msgs = out.kind_dir("message", "in");
    assert_eq!(msgs.len(), 2);
    let sent = out
        .kind("message")
        .into_iter()
        .find(|m| m["dir"] == "out")
        .cloned();
    assert_eq!(
        sent.map(|m| m["data"].clone()),
        Some(serde_json::json!(r#"{"subscribe":"ticks"}"#))
    );
    let closes = out.kind("close");
    assert_eq!(closes[0]["dir"], "out");
    assert_eq!(closes[0]["by"], "client");
    assert_eq!(closes[1]["dir"], "in");
    assert_eq!(out.kind("end")[0]["reason"], "count reached");
}

#[tokio::test]
async fn client_ping_rtt_is_measured() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        ws_accept(&mut sock, &log, None).await;
        loop {
            let got = read_client_frames(&mut sock, 1).await;
            let Some((op, p)) = got.into_iter().next() else {
                break;
            };
            if op == PING {
                let _ = sock.write_all(&frame(true, 0, PONG, &p)).await;
            } else if op == CLOSE {
                let _ = sock
                    .write_all(&frame(true, 0, CLOSE, &close_body(1000, "")))
                    .await;
                break;
            }
        }
    })
    .await;
    let out = run(&[
        "--json",
        "--ping-interval",
        "100ms",
        "--duration",
        "450ms",
        &srv.url("ws", "/"),
    ])
    .await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    let pongs = out.kind("pong");
    assert!(pongs.len() >= 2, "{:?}", out.kinds());
    for p in pongs {
        assert_eq!(p["dir"], "in");
        assert!(
            p["rtt_ms"]
                .as_f64()
                .is_some_and(|r| (0.0..1000.0).contains(&r)),
            "{p}"
        );
    }
    assert_eq!(out.kind("end")[0]["reason"], "shutdown");
}

/// A server that sends `frames`, then collects the client's frames until its Close (answered), and
/// logs each as `OPCODE:payload-hex`.
async fn serve_and_collect(frames: Vec<Vec<u8>>) -> RawServer {
    RawServer::start(move |_, mut sock, log| {
        let frames = frames.clone();
        async move {
            ws_accept(&mut sock, &log, None).await;
            for f in &frames {
                let _ = sock.write_all(f).await;
            }
            // One buffer across reads: several client frames may arrive in one read.
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            loop {
                while let Ok(Some(h)) = streamscope::protocol::ws::parse_header(&buf) {
                    let total = h.header_len + h.payload_len as usize;
                    if buf.len() < total {
                        break;
                    }
                    let mut p = buf[h.header_len..total].to_vec();
                    if let Some(m) = h.mask {
                        streamscope::protocol::ws::apply_mask(&mut p, m, 0);
                    }
                    buf.drain(..total);
                    let hex = p.iter().fold(String::new(), |mut s, b| {
                        let _ = write!(s, "{b:02x}");
                        s
                    });
                    log.lock()
                        .expect("lock")
                        .push(format!("{}:{hex}", h.opcode));
                    if h.opcode == CLOSE {
                        let _ = sock.write_all(&frame(true, 0, CLOSE, &p)).await;
                        return;
                    }
                }
                match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut tmp)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&tmp[..n]),
                    _ => return,
                }
            }
        }
    })
    .await
}

#[tokio::test]
async fn echo_sends_every_message_back_unchanged() {
    let frames = vec![
        // "héllo" in two fragments, split inside the é, with a ping between them.
        frame(false, 0, TEXT, b"h\xc3"),
        frame(true, 0, PING, b"p"),
        frame(true, 0, CONT, b"\xa9llo"),
        frame(true, 0, BINARY, &[0, 0xff, 1]),
        frame(true, 0, TEXT, b""),
        frame(true, 0, CLOSE, &close_body(1000, "")),
    ];
    let srv = serve_and_collect(frames).await;
    let out = run(&["--json", "--echo", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 0, "{:?} {}", out.records, out.stderr);
    // What reached the server: the pong, each message back with its opcode and bytes (the
    // fragmented one as one frame), then the echoed close.
    let got: Vec<String> = (1..6).map(|i| srv.request(i)).collect();
    assert_eq!(got, ["10:70", "1:68c3a96c6c6f", "2:00ff01", "1:", "8:03e8"]);
    // Each echo is an `out` message record after its `in` record, with its own sizes.
    let msgs = out.kind("message");
    let dirs: Vec<&str> = msgs.iter().filter_map(|m| m["dir"].as_str()).collect();
    assert_eq!(dirs, ["in", "out", "in", "out", "in", "out"]);
    assert_eq!(msgs[0]["frames"], 2);
    assert_eq!(msgs[1]["frames"], 1);
    assert_eq!(msgs[1]["data"], "héllo");
    assert_eq!(msgs[1]["opcode"], "text");
    assert_eq!(msgs[1]["payload_bytes"], 6);
    assert_eq!(msgs[1]["wire_bytes"], 2 + 4 + 6, "a masked client frame");
    assert_eq!(msgs[3]["opcode"], "binary");
    assert_eq!(msgs[3]["data_base64"], "AP8B");
    assert_eq!(msgs[5]["payload_bytes"], 0);
}

#[tokio::test]
async fn echo_keeps_count_to_received_messages() {
    let frames = (0..5)
        .map(|i| frame(true, 0, TEXT, format!("m{i}").as_bytes()))
        .collect();
    let srv = serve_and_collect(frames).await;
    let out = run(&["--json", "--echo", "--count", "2", &srv.url("ws", "/")]).await;
    assert_eq!(out.code, 0, "{:?} {}", out.records, out.stderr);
    // Echoes do not count: two messages in, both echoed, then the close --count asks for.
    assert_eq!(srv.request(1), "1:6d30");
    assert_eq!(srv.request(2), "1:6d31");
    assert!(srv.request(3).starts_with("8:03e8"), "{}", srv.request(3));
    assert_eq!(out.kind_dir("message", "in").len(), 2);
    assert_eq!(out.kind_dir("message", "out").len(), 2);
    assert_eq!(out.kind("end")[0]["reason"], "count reached");
}
