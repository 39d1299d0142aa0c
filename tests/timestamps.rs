//! Records are stamped when their bytes are read from the socket, not when they are written out:
//! a blocked stdout must not shift `ts` (nor `gap_ms`, which comes from the same stamps).

mod support;

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::{RawServer, SSE_HEAD, command, json_lines, read_request, read_stdout};
use tokio::io::AsyncWriteExt;

/// Events the server sends, one every `INTERVAL`.
const EVENTS: u64 = 30;
const INTERVAL: Duration = Duration::from_millis(50);
/// Padding per event: four events fill a 64 KiB pipe, so the sink blocks early.
const PAD: usize = 16 * 1024;
/// How long the test leaves stdout unread.
const BLOCKED: Duration = Duration::from_secs(1);
/// Generous bound between the server's send time and the record's `ts` (same machine, same
/// clock): this is not a performance assertion, a shifted stamp would be off by up to a second.
const TOLERANCE_US: i64 = 200_000;

fn now_us() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(d.as_micros()).expect("fits")
}

#[tokio::test]
async fn blocked_stdout_does_not_shift_timestamps() {
    let srv = RawServer::start(|_, mut sock, log| async move {
        read_request(&mut sock, &log).await;
        if sock.write_all(SSE_HEAD.as_bytes()).await.is_err() {
            return;
        }
        let pad = "x".repeat(PAD);
        for i in 0..EVENTS {
            // The send time goes inside the data, taken just before the write.
            let event = format!("data: {i} {} {pad}\n\n", now_us());
            if sock.write_all(event.as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(INTERVAL).await;
        }
    })
    .await;

    let mut child = command(&["--json", "--no-reconnect", &srv.url("http", "/events")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn streamscope");
    // Do not read stdout for a while: the pipe fills and the sink thread blocks in write.
    tokio::time::sleep(BLOCKED).await;
    let reading_from = now_us();
    let bytes = read_stdout(&mut child, Duration::from_secs(30)).await;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("streamscope exited")
        .expect("wait");
    assert!(status.success(), "exit status {status}");

    let text = String::from_utf8(bytes).expect("UTF-8");
    let mut events = 0;
    let mut sent_while_blocked = 0;
    let mut prev_sent: Option<i64> = None;
    for r in json_lines(&text) {
        if r["kind"] != "event" {
            continue;
        }
        let data = r["data"].as_str().expect("data");
        let mut fields = data.split(' ');
        let seq: u64 = fields.next().and_then(|s| s.parse().ok()).expect("seq");
        let sent: i64 = fields
            .next()
            .and_then(|s| s.parse().ok())
            .expect("send time");
        assert_eq!(seq, events, "events in order");
        let ts = humantime::parse_rfc3339(r["ts"].as_str().expect("ts")).expect("RFC 3339 ts");
        let ts = i64::try_from(
            ts.duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_micros(),
        )
        .expect("fits");
        let late = ts - sent;
        assert!(
            (0..=TOLERANCE_US).contains(&late),
            "event {seq}: ts is {late} us after the send time (sent {sent}, read {reading_from})"
        );
        // gap_ms follows the server's pacing, not the moment the output was unblocked.
        if let Some(prev) = prev_sent {
            let gap_us = (r["gap_ms"].as_f64().expect("gap_ms") * 1000.0) as i64;
            let sent_gap = sent - prev;
            assert!(
                (gap_us - sent_gap).abs() <= TOLERANCE_US,
                "event {seq}: gap_ms {gap_us} us, sent {sent_gap} us after the previous one"
            );
        }
        prev_sent = Some(sent);
        if sent < reading_from - TOLERANCE_US {
            sent_while_blocked += 1;
        }
        events += 1;
    }
    assert_eq!(events, EVENTS);
    // The premise: many events were read (and stamped) while their output could not be written.
    assert!(
        sent_while_blocked >= 5,
        "only {sent_while_blocked} events were sent while stdout was blocked"
    );
}
