//! SSE client behaviour against raw TCP servers on 127.0.0.1 that write exact bytes.

mod support;

use std::time::Duration;

use support::{RawServer, SSE_HEAD, TempDir, chunk, closed_port, read_request, run, write_parts};
use tokio::io::AsyncWriteExt;

const PAUSE: Duration = Duration::from_millis(30);

/// A server that answers every connection with the head and then `body` split into `parts`.
async fn serve_parts(parts: Vec<Vec<u8>>) -> RawServer {
    RawServer::start(move |_, mut sock, log| {
        let parts = parts.clone();
        async move {
            read_request(&mut sock, &log).await;
            let _ = sock.write_all(SSE_HEAD.as_bytes()).await;
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            write_parts(&mut sock, &refs, PAUSE).await;
        }
    })
    .await
}

#[tokio::test]
async fn events_comments_and_fields_are_decoded() {
    let srv = serve_parts(vec![
        b": hello\n\nevent: tick\nid: 7\nretry: 1500\ndata: a\ndata:  b\n\n".to_vec(),
        b"data: plain\n\n".to_vec(),
    ])
    .await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/s")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kinds(), ["open", "comment", "event", "event", "end"]);
    let c = out.kind("comment")[0];
    assert_eq!(c["text"], "hello");
    assert_eq!(c["wire_bytes"], 8);
    let ev = out.kind("event");
    assert_eq!(ev[0]["event"], "tick");
    assert_eq!(ev[0]["data"], "a\n b");
    assert_eq!(ev[0]["id"], "7");
    assert_eq!(ev[0]["retry"], 1500);
    assert_eq!(ev[0]["payload_bytes"], 4);
    // The blank line that ended the comment block and the event's lines, terminators included.
    assert_eq!(ev[0]["wire_bytes"], 1 + 12 + 6 + 12 + 8 + 9 + 1);
    // The id persists; the type resets to `message`.
    assert_eq!(ev[1]["event"], "message");
    assert_eq!(ev[1]["id"], "7");
    assert!(ev[1]["retry"].is_null());
    let open = out.kind("open")[0];
    assert_eq!(open["status"], 200);
    assert_eq!(open["headers"]["content-type"], "text/event-stream");
    assert_eq!(open["wire_bytes"], SSE_HEAD.len());
    let end = out.kind("end")[0];
    assert_eq!(end["failed"], false);
}

#[tokio::test]
async fn line_endings_split_across_reads_and_utf8_split_across_reads() {
    // CRLF split between reads, a lone CR, and "é" (C3 A9) split between reads.
    let srv = serve_parts(vec![
        b"data: one\r".to_vec(),
        b"\n\r\ndata: caf\xC3".to_vec(),
        b"\xA9\rdata: x\r\r".to_vec(),
    ])
    .await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 2, "{:?}", out.records);
    assert_eq!(ev[0]["data"], "one");
    assert_eq!(ev[1]["data"], "café\nx");
    // Records carry the number of the read that completed them.
    assert!(ev[1]["read"].as_u64() > ev[0]["read"].as_u64());
}

#[tokio::test]
async fn bom_invalid_utf8_nul_id_and_bad_retry() {
    let srv = serve_parts(vec![
        b"\xEF\xBB\xBFid: a\0b\nretry: 12x\ndata: bad \xFF byte\n\n".to_vec(),
    ])
    .await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 1, "{:?}", out.records);
    assert_eq!(ev[0]["data"], "bad \u{FFFD} byte");
    assert!(ev[0]["id"].is_null(), "an id with NUL is ignored");
    assert!(ev[0]["retry"].is_null(), "non-digit retry is ignored");
}

#[tokio::test]
async fn unterminated_event_at_eof_is_not_dispatched() {
    let srv = serve_parts(vec![b"data: done\n\ndata: never".to_vec()]).await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["data"], "done");
}

#[tokio::test]
async fn chunked_body_with_events_split_across_chunks() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";
        let _ = sock.write_all(head.as_bytes()).await;
        let parts = [
            chunk(b"data: hel"),
            chunk(b"lo\n"),
            chunk(b"\ndata: wor"),
            chunk(b"ld\n\n"),
            b"0\r\n\r\n".to_vec(),
        ];
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        write_parts(&mut sock, &refs, PAUSE).await;
    })
    .await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
    let ev = out.kind("event");
    assert_eq!(ev.len(), 2, "{:?}", out.records);
    assert_eq!(ev[0]["data"], "hello");
    assert_eq!(ev[1]["data"], "world");
    // Wire bytes count the event's lines, not the chunk framing.
    assert_eq!(ev[0]["wire_bytes"], 13);
    assert_eq!(ev[1]["wire_bytes"], 13);
    assert_eq!(out.code, 0);
}

#[tokio::test]
async fn reconnect_sends_last_event_id_after_retry() {
    let srv = RawServer::start(|n, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let _ = sock.write_all(SSE_HEAD.as_bytes()).await;
        let body = if n == 0 {
            "retry: 100\nid: 41\ndata: first\n\n".to_owned()
        } else {
            "id: 42\ndata: second\n\n".to_owned()
        };
        let _ = sock.write_all(body.as_bytes()).await;
    })
    .await;
    let out = run(&["--json", "--count", "2", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.kinds(),
        ["open", "event", "reconnect", "open", "event", "end"]
    );
    let rc = out.kind("reconnect")[0];
    assert_eq!(rc["attempt"], 1);
    assert_eq!(rc["delay_ms"], 100);
    assert_eq!(rc["last_event_id"], "41");
    let second = srv.request(1).to_ascii_lowercase();
    assert!(second.contains("last-event-id: 41\r\n"), "{second}");
    assert!(
        !srv.request(0)
            .to_ascii_lowercase()
            .contains("last-event-id")
    );
    assert_eq!(out.kind("end")[0]["reason"], "count reached");
}

async fn status_server(status_line: &'static str, extra: &'static str) -> RawServer {
    RawServer::start(move |_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let body = "nope";
        let resp = format!(
            "HTTP/1.1 {status_line}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
    })
    .await
}

#[tokio::test]
async fn status_204_means_stop() {
    let srv = status_server("204 No Content", "").await;
    let out = run(&["--json", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 0, "{:?}", out.records);
    assert_eq!(out.kinds(), ["end"]);
    assert_eq!(
        srv.requests.lock().expect("lock").len(),
        1,
        "no reconnect after 204"
    );
}

#[tokio::test]
async fn non_2xx_is_an_error_record_and_exit_1() {
    let srv = status_server("401 Unauthorized", "Content-Type: text/plain\r\n").await;
    let out = run(&["--json", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 1);
    let err = out.kind("error");
    assert_eq!(err.len(), 1, "{:?}", out.records);
    assert_eq!(err[0]["status"], 401);
    assert_eq!(err[0]["message"], "HTTP 401 Unauthorized: nope");
    assert!(out.kind("event").is_empty());
    assert_eq!(out.kind("end")[0]["failed"], true);
}

#[tokio::test]
async fn wrong_content_type_is_an_error_not_events() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let body = "data: looks like sse\n\n";
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
    })
    .await;
    let out = run(&["--json", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 1);
    assert!(out.kind("event").is_empty());
    let err = out.kind("error")[0];
    assert_eq!(err["status"], 200);
    assert!(
        err["message"].as_str().unwrap_or("").contains("text/html"),
        "{err}"
    );
}

#[tokio::test]
async fn post_body_and_headers_are_sent() {
    let srv = serve_parts(vec![b"data: ok\n\n".to_vec()]).await;
    let out = run(&[
        "--json",
        "--no-reconnect",
        "-X",
        "POST",
        "-d",
        r#"{"prompt":"hi"}"#,
        "-H",
        "Authorization: Bearer t0k",
        "-H",
        "X-Trace: 1",
        &srv.url("http", "/chat"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let req = srv.request(0);
    assert!(req.starts_with("POST /chat HTTP/1.1\r\n"), "{req}");
    let lower = req.to_ascii_lowercase();
    assert!(lower.contains("accept: text/event-stream\r\n"));
    assert!(lower.contains("content-type: application/json\r\n"));
    assert!(
        req.contains("authorization: Bearer t0k\r\n")
            || req.contains("Authorization: Bearer t0k\r\n")
    );
    assert!(lower.contains("x-trace: 1\r\n"));
    assert!(req.ends_with(r#"{"prompt":"hi"}"#), "{req}");
}

#[tokio::test]
async fn data_from_file() {
    let dir = TempDir::new("sse-data");
    let file = dir.file("body.txt");
    std::fs::write(&file, "from a file").expect("write");
    let srv = serve_parts(vec![b"data: ok\n\n".to_vec()]).await;
    let arg = format!("@{}", file.display());
    let out = run(&[
        "--json",
        "--no-reconnect",
        "-X",
        "POST",
        "-d",
        &arg,
        &srv.url("http", "/"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(srv.request(0).ends_with("from a file"));
}

#[tokio::test]
async fn gap_is_raised_during_the_silence() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let _ = sock.write_all(SSE_HEAD.as_bytes()).await;
        let _ = sock.write_all(b"data: a\n\n").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let _ = sock.write_all(b"data: b\n\n").await;
    })
    .await;
    let out = run(&[
        "--json",
        "--no-reconnect",
        "--heartbeat",
        "200ms",
        &srv.url("http", "/"),
    ])
    .await;
    assert_eq!(
        out.kinds(),
        ["open", "event", "gap", "event", "end"],
        "{:?}",
        out.records
    );
    let gap = out.kind("gap")[0];
    assert_eq!(gap["threshold_ms"], 200);
    let g = gap["gap_ms"].as_f64().unwrap_or(0.0);
    assert!(
        (200.0..500.0).contains(&g),
        "gap raised when the threshold passed, not at the next event: {g}"
    );
    let ev = out.kind("event");
    assert!(ev[1]["gap_ms"].as_f64().unwrap_or(0.0) >= 550.0);
}

#[tokio::test]
async fn refused_connection_with_no_reconnect_exits_1() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/");
    let out = run(&["--json", "--no-reconnect", &url]).await;
    assert_eq!(out.code, 1);
    let err = out.kind("error")[0];
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("connect failed"),
        "{err}"
    );
}

#[tokio::test]
async fn max_retries_gives_up() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let _ = sock
            .write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n",
            )
            .await;
    })
    .await;
    let out = run(&["--json", "--max-retries", "2", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.kind("error").len(), 3);
    assert_eq!(out.kind("reconnect").len(), 2);
    let end = out.kind("end")[0];
    assert!(
        end["reason"]
            .as_str()
            .unwrap_or("")
            .contains("gave up after 2 retries"),
        "{end}"
    );
}

/// A POST's `open` record lists the request's headers as the server read them, in order, the
/// `content-length` hyper adds included.
#[tokio::test]
async fn the_open_record_lists_the_headers_the_server_received() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 8\r\n\r\n";
        let _ = sock.write_all(head.as_bytes()).await;
        let _ = sock.write_all(b"data: x\n").await;
    })
    .await;
    let body = r#"{"prompt":"hello there"}"#;
    let out = support::output(&[
        "--json",
        "--show-secrets",
        "--no-reconnect",
        "-X",
        "POST",
        "-d",
        body,
        "-H",
        "Authorization: Bearer abc",
        &srv.url("http", "/chat"),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let records = support::json_lines(&stdout);
    let open: Vec<_> = records.iter().filter(|r| r["kind"] == "open").collect();
    assert_eq!(open.len(), 1, "{stdout}");
    assert_eq!(open[0]["request_method"], "POST");
    let request = srv.request(0);
    let head = request.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("POST /chat HTTP/1.1"), "{head}");
    let received: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    assert!(
        received.contains(&("content-length".to_owned(), body.len().to_string())),
        "{head}"
    );
    // The record's object, in the order the server read the headers.
    let object: Vec<String> = received
        .iter()
        .map(|(n, v)| format!("{}:{}", serde_json::json!(n), serde_json::json!(v)))
        .collect();
    let want = format!("\"request_headers\":{{{}}}", object.join(","));
    assert!(stdout.contains(&want), "{want}\n{stdout}");
}

/// Reads one request exactly as it arrived (case and order kept): the head and a
/// `Content-Length` body.
async fn read_raw_request(sock: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let n = sock.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            return buf;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = support::find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return buf;
            }
        }
    }
}

/// The bytes of a GET and of a POST with a body, exactly as the server reads them: pinned from
/// what hyper's HTTP/1.1 client sent before streamscope wrote its requests itself (lower-case
/// names in the order given, `content-length` added last for a body, nothing else added).
#[tokio::test]
async fn the_request_bytes_are_exactly_what_hyper_sent() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    let srv = RawServer::start(move |_, mut sock, _| {
        let keep = keep.clone();
        async move {
            let raw = read_raw_request(&mut sock).await;
            keep.lock().expect("lock").push(raw);
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 10\r\n\r\n";
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(b"data: x\n\n\n").await;
        }
    })
    .await;
    let port = srv.port;
    let get = run(&[
        "--json",
        "--no-reconnect",
        "-H",
        "X-Trace: 1",
        "-H",
        "X-Multi: a",
        "-H",
        "X-Multi: b",
        &srv.url("http", "/sse?x=1&y=%20"),
    ])
    .await;
    assert_eq!(get.code, 0, "{}", get.stderr);
    let post = run(&[
        "--json",
        "--no-reconnect",
        "--compressed",
        "-X",
        "POST",
        "-d",
        r#"{"prompt":"hi"}"#,
        "-H",
        "Authorization: Bearer t0k",
        &srv.url("http", "/v1/chat"),
    ])
    .await;
    assert_eq!(post.code, 0, "{}", post.stderr);
    let seen = seen.lock().expect("lock").clone();
    let text: Vec<String> = seen
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    assert_eq!(
        text,
        [
            format!(
                "GET /sse?x=1&y=%20 HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept: text/event-stream\r\n\
                 cache-control: no-cache\r\nx-trace: 1\r\nx-multi: a\r\nx-multi: b\r\n\r\n"
            ),
            format!(
                "POST /v1/chat HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept: text/event-stream\r\n\
                 cache-control: no-cache\r\naccept-encoding: gzip, deflate, br, zstd\r\n\
                 content-type: application/json\r\nauthorization: Bearer t0k\r\n\
                 content-length: 15\r\n\r\n{{\"prompt\":\"hi\"}}"
            ),
        ]
    );
}

/// A server that writes `head`, then `body` in `parts` of the given sizes (each its own write,
/// paused), then closes.
async fn serve_body(head: &'static str, body: Vec<u8>, sizes: Vec<usize>) -> RawServer {
    RawServer::start(move |_, mut sock, log| {
        let body = body.clone();
        let sizes = sizes.clone();
        async move {
            read_request(&mut sock, &log).await;
            let _ = sock.write_all(head.as_bytes()).await;
            let mut rest = body.as_slice();
            let mut parts = Vec::new();
            for n in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (a, b) = rest.split_at((*n).min(rest.len()));
                parts.push(a);
                rest = b;
            }
            write_parts(&mut sock, &parts, PAUSE).await;
        }
    })
    .await
}

const CHUNKED_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

/// One event per chunk, many chunks in one read, chunk extensions, upper-case hex, split size
/// lines, bare LF line ends (as browsers accept them) and trailers: every event, each with its own
/// bytes, and the chunk framing counted in no event.
#[tokio::test]
async fn chunk_framing_of_every_kind_in_any_reads() {
    let mut body = Vec::new();
    for i in 0..30 {
        let event = format!("id: {i}\ndata: event number {i}\n\n");
        if i % 3 == 0 {
            body.extend_from_slice(format!("{:X};ext=1\r\n", event.len()).as_bytes());
        } else if i % 3 == 1 {
            body.extend_from_slice(format!("{:x}\n", event.len()).as_bytes());
        } else {
            body.extend_from_slice(format!("{:04x} \r\n", event.len()).as_bytes());
        }
        body.extend_from_slice(event.as_bytes());
        body.extend_from_slice(if i % 3 == 1 { b"\n" } else { b"\r\n" });
    }
    body.extend_from_slice(b"0\r\nX-Checksum: abc\r\n\r\n");
    let srv = serve_body(CHUNKED_HEAD, body, vec![7, 500, 1, 3000]).await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ev = out.kind("event");
    assert_eq!(ev.len(), 30, "{:?}", out.records);
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e["data"], format!("event number {i}"));
        let want = format!("id: {i}\ndata: event number {i}\n\n").len();
        assert_eq!(e["wire_bytes"], want);
    }
    assert!(out.kind("error").is_empty(), "{:?}", out.records);
}

/// Interim 100 and 103 heads before the final one are skipped; the `open` record is the final
/// head's.
#[tokio::test]
async fn interim_heads_are_skipped() {
    let head = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
                HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Final: yes\r\n\r\n";
    let srv = serve_body(head, b"data: after hints\n\n".to_vec(), vec![100]).await;
    let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open");
    assert_eq!(open[0]["status"], 200);
    assert_eq!(open[0]["headers"]["x-final"], "yes", "{:?}", open[0]);
    assert!(open[0]["headers"].get("link").is_none(), "{:?}", open[0]);
    // The head's wire size counts the interim heads too.
    assert_eq!(open[0]["wire_bytes"], head.len(), "{:?}", open[0]);
    assert_eq!(out.kind("event")[0]["data"], "after hints");
}

/// A body cut short, or framed wrongly, ends the attempt with an error that says how; the events
/// before it are kept.
#[tokio::test]
async fn broken_framing_is_an_error_that_says_how() {
    for (head, body, want) in [
        (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100\r\n\r\n",
            b"data: one\n\n".to_vec(),
            "stream broke: the connection closed after 11 of the 100 bytes its Content-Length announced",
        ),
        (
            CHUNKED_HEAD,
            [chunk(b"data: one\n\n"), b"9\r\ndata:".to_vec()].concat(),
            "stream broke: the connection closed inside a chunk of the chunked body (4 bytes of it missing), before its last chunk",
        ),
        (
            CHUNKED_HEAD,
            [chunk(b"data: one\n\n"), b"zz\r\n".to_vec()].concat(),
            "stream broke: invalid chunked encoding: 'z' where a chunk size (hex digits) was expected",
        ),
        (
            CHUNKED_HEAD,
            [chunk(b"data: one\n\n"), b"3\r\ndata: two\n\n\r\n".to_vec()].concat(),
            "stream broke: invalid chunked encoding: 'a' after a chunk's data, where CRLF was expected",
        ),
    ] {
        let srv = serve_body(head, body, vec![1000]).await;
        let out = run(&["--json", "--no-reconnect", &srv.url("http", "/")]).await;
        assert_eq!(out.code, 1, "{want}: {:?}", out.records);
        let ev = out.kind("event");
        assert_eq!(ev.len(), 1, "{:?}", out.records);
        assert_eq!(ev[0]["data"], "one");
        let err = out.kind("error");
        assert_eq!(err.len(), 1, "{:?}", out.records);
        let msg = err[0]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with(want), "{msg}\nwanted: {want}");
    }
}

/// A response head streamscope cannot read is an error before any `open` record.
#[tokio::test]
async fn bad_response_heads_are_errors() {
    for (head, want) in [
        (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP exchange failed: conflicting Content-Length values (1 and 2)",
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: ten\r\n\r\n",
            "HTTP exchange failed: invalid Content-Length \"ten\"",
        ),
        (
            "SSE/1.0 200 OK\r\n\r\n",
            "HTTP exchange failed: invalid response head (invalid HTTP version): it starts \"SSE/1.0 200 OK",
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Type: text/",
            "HTTP exchange failed: the server closed the connection inside the response head (36 bytes)",
        ),
        (
            "",
            "HTTP exchange failed: the server closed the connection without a response",
        ),
    ] {
        let srv = serve_body(head, Vec::new(), vec![1]).await;
        let out = run(&["--json", "--max-retries", "0", &srv.url("http", "/")]).await;
        assert_eq!(out.code, 1, "{want}: {:?}", out.records);
        assert_eq!(out.kinds(), ["error", "end"], "{:?}", out.records);
        let msg = out.kind("error")[0]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with(want), "{msg}\nwanted: {want}");
    }
}
