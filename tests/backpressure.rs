//! A consumer slower than the stream: the queue to the output is bounded (`--max-queue`, or with
//! `--json` by default a few MiB of records), reading pauses instead of memory growing, the pause
//! is reported, and no record is lost.

mod support;

use std::process::Stdio;
use std::time::Duration;

use streamscope::server::ServerConfig;
use support::{command, embedded_server, read_stdout};

/// Runs the SSE firehose of `n` events with `extra` flags and stdout left unread for 1.5 s (the
/// pipe fills, the writer blocks, the queue reaches its bound), then reads it all; checks that
/// every event arrived and the pause was reported once, and returns that lint's line.
async fn stalled_run(extra: &[&str], n: usize) -> String {
    let srv = embedded_server(ServerConfig::default()).await;
    let url = format!("http://{}/firehose/sse?n={n}&size=100", srv.local_addr());
    let mut args = vec!["--json", "--no-reconnect"];
    args.extend_from_slice(extra);
    args.push(&url);
    let mut child = command(&args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let text =
        String::from_utf8(read_stdout(&mut child, Duration::from_secs(60)).await).expect("UTF-8");
    let status = child.wait().await.expect("wait");
    assert_eq!(status.code(), Some(0));
    let events = text
        .lines()
        .filter(|l| l.contains(r#""kind":"event""#))
        .count();
    assert_eq!(events, n, "every event arrives once the output catches up");
    let lint: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#""rule":"output-backpressure""#))
        .collect();
    assert_eq!(lint.len(), 1, "the pause is reported once: {text:.300}");
    lint[0].to_owned()
}

#[tokio::test]
async fn a_stalled_output_pauses_reading_and_loses_nothing() {
    stalled_run(&["--max-queue", "2000"], 200_000).await;
}

#[tokio::test]
async fn json_output_is_bounded_by_bytes_without_max_queue() {
    // Without --max-queue, the queue fills to its default --json bound.
    let lint = stalled_run(&[], 200_000).await;
    // Each 100-byte event counts at least its wire bytes against the 768 KiB bound, so reading
    // paused with at most 768 KiB / 100 B records queued, far below the 262,144-record bound (which
    // 200,000 events would never reach).
    let queued: usize = lint
        .split("stream: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the lint says how many records were queued");
    assert!(
        queued > 0 && queued <= (768 << 10) / 100,
        "paused at {queued} records: {lint}"
    );
}
