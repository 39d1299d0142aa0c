//! `streamscope monitor` end to end: five named streams from a config file against the embedded
//! server, scraped by a real Prometheus (Debian's `prometheus`); the series Prometheus stored are
//! checked against what the server sent, and the exposition passes `promtool check metrics`.

mod support;

use std::process::Stdio;
use std::time::Duration;

use streamscope::server::ServerConfig;
use support::prometheus::{Prometheus, http_get};
use support::{TempDir, command, embedded_server, path_str};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Firehose events and their size: the server sends exactly these.
const FIRE_N: u64 = 500;
const FIRE_SIZE: u64 = 40;
/// WebSocket firehose messages and their size.
const WS_N: u64 = 300;
const WS_SIZE: u64 = 20;

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_monitor_and_stores_what_the_server_sent() {
    let server = embedded_server(ServerConfig {
        tick: Duration::from_millis(100),
        heartbeat: Duration::from_secs(1),
    })
    .await;
    let a = server.local_addr();
    let dir = TempDir::new("monitor-prom");
    let config = dir.file("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[streams.feed-sse]
url = "http://{a}/sse"
match = "/seq"
match-with = "feed-ws"

[streams.feed-ws]
url = "ws://{a}/ws"
ping-interval = "200ms"

[streams.fire]
url = "http://{a}/firehose/sse?n={FIRE_N}&size={FIRE_SIZE}"
reconnect = false

[streams.fire-ws]
url = "ws://{a}/firehose/ws?n={WS_N}&size={WS_SIZE}"
reconnect = false

[streams.drop]
url = "http://{a}/scenario/sse/drop?after=3&skip=2&retry_ms=100"
max-backoff = "300ms"

[streams.lint]
url = "http://{a}/scenario/sse/lint"
max-backoff = "500ms"
"#
        ),
    )
    .expect("write the config");
    let mut monitor = command(&[
        "monitor",
        "--config",
        path_str(&config),
        "--metrics",
        "127.0.0.1:0",
    ])
    .stderr(Stdio::piped())
    .spawn()
    .expect("start streamscope monitor");
    let mut lines = BufReader::new(monitor.stderr.take().expect("stderr")).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the monitor says where its metrics are")
        .expect("read")
        .expect("a line");
    let port: u16 = first
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no metrics address in {first:?}"));
    assert!(first.contains("6 streams"), "{first}");
    let prom = Prometheus::scraping(&format!("127.0.0.1:{port}")).await;
    // Prometheus reached the target.
    prom.wait_for(r#"up{job="streamscope"}"#, LIMIT, |v| v > 0.5)
        .await;
    firehoses_stored_exactly(&prom).await;
    live_feeds_and_their_pair(&prom).await;
    faults_counted_by_class(&prom).await;
    no_series_carries_a_url(&prom).await;
    promtool_passes(port).await;
    let _ = monitor.kill().await;
}

/// How long Prometheus may take to show a value (its first scrape comes 4 to 6 s after start).
const LIMIT: Duration = Duration::from_secs(40);

fn q(series: &str) -> String {
    format!("streamscope_{series}")
}

/// The firehoses ended after exactly what the server sent.
async fn firehoses_stored_exactly(prom: &Prometheus) {
    let count = |n: u64| move |v: f64| v as u64 == n;
    prom.wait_for(
        &q(r#"records_total{stream="fire",kind="event"}"#),
        LIMIT,
        count(FIRE_N),
    )
    .await;
    prom.wait_for(
        &q(r#"payload_bytes_total{stream="fire",dir="in"}"#),
        LIMIT,
        count(FIRE_N * FIRE_SIZE),
    )
    .await;
    // The body is exactly N × (S + 8) bytes (`data: ` and two newlines per event); the wire
    // count adds the response head.
    let wire = prom
        .wait_for(
            &q(r#"wire_bytes_total{stream="fire",dir="in"}"#),
            LIMIT,
            |v| v > 0.0,
        )
        .await as u64;
    let body = FIRE_N * (FIRE_SIZE + 8);
    assert!(
        (body..body + 1024).contains(&wire),
        "fire wire bytes {wire}, body {body}"
    );
    prom.wait_for(
        &q(r#"stream_state{stream="fire",state="ended"}"#),
        LIMIT,
        |v| v > 0.5,
    )
    .await;
    prom.wait_for(
        &q(r#"records_total{stream="fire-ws",kind="message"}"#),
        LIMIT,
        count(WS_N),
    )
    .await;
    // The messages, and the server's close frame: code 1000 (2 bytes) and reason `done`.
    prom.wait_for(
        &q(r#"payload_bytes_total{stream="fire-ws",dir="in"}"#),
        LIMIT,
        count(WS_N * WS_SIZE + 2 + 4),
    )
    .await;
}

/// Live feeds: up, labelled by protocol, with a round trip, ages and gaps; the matched pair has a
/// lead for every pair, and someone delivered each one first.
async fn live_feeds_and_their_pair(prom: &Prometheus) {
    for (stream, proto) in [("feed-sse", "sse"), ("feed-ws", "ws")] {
        let up = prom
            .query(&q(&format!(r#"stream_up{{stream="{stream}"}}"#)))
            .await;
        assert_eq!(up.len(), 1, "{stream}: {up:?}");
        assert_eq!(up[0].0["proto"], proto);
        assert!(up[0].1 > 0.5, "{stream} is up");
    }
    let rtt = prom
        .wait_for(&q(r#"ping_rtt_seconds{stream="feed-ws"}"#), LIMIT, |v| {
            v > 0.0
        })
        .await;
    assert!(rtt < 1.0, "loopback round trip {rtt}");
    prom.wait_for(
        &q(r#"last_record_age_seconds{stream="feed-sse"}"#),
        LIMIT,
        |v| (0.0..5.0).contains(&v),
    )
    .await;
    let gaps = prom
        .query(&q(r#"gap_seconds_bucket{stream="feed-sse",le="+Inf"}"#))
        .await;
    assert!(gaps[0].1 >= 5.0, "{gaps:?}");
    let pairs = prom
        .wait_for(
            &q(r#"match_lead_seconds_count{stream="feed-sse",other="feed-ws"}"#),
            LIMIT,
            |v| v >= 5.0,
        )
        .await;
    let firsts = prom
        .query(&format!(
            "sum({})",
            q(r#"match_first_total{stream="feed-sse"}"#)
        ))
        .await;
    assert!(firsts[0].1 >= pairs, "{firsts:?} vs {pairs}");
}

/// The drop scenario skips 2 ids on every resume: each id gap misses exactly 2 records, and each
/// broken body is a reconnect of the class `broken`. The lint scenario's rules are counted.
async fn faults_counted_by_class(prom: &Prometheus) {
    let gaps = prom
        .wait_for(&q(r#"id_gaps_total{stream="drop"}"#), LIMIT, |v| v >= 2.0)
        .await as u64;
    let missing = prom
        .query(&q(r#"missing_records_total{stream="drop"}"#))
        .await[0]
        .1 as u64;
    assert!(
        missing >= 2 * gaps - 2 && missing.is_multiple_of(2),
        "{missing} missing, {gaps} gaps"
    );
    let reconnects = prom
        .query(&q(r#"reconnects_total{stream="drop",reason="broken"}"#))
        .await;
    assert!(reconnects[0].1 >= 1.0, "{reconnects:?}");
    prom.wait_for(&q(r#"lints_total{stream="lint",rule="bom"}"#), LIMIT, |v| {
        v >= 1.0
    })
    .await;
}

/// No series carries a URL (`instance` is Prometheus' own label for the target).
async fn no_series_carries_a_url(prom: &Prometheus) {
    let all = prom.query(r#"{__name__=~"streamscope_.+"}"#).await;
    assert!(all.len() > 100, "{} series", all.len());
    for (labels, _) in &all {
        let mut ours = labels.clone();
        if let Some(map) = ours.as_object_mut() {
            map.remove("instance");
        }
        let text = ours.to_string();
        assert!(
            !text.contains("127.0.0.1") && !text.contains("http"),
            "{text}"
        );
    }
}

/// The exposition itself passes promtool's checks.
async fn promtool_passes(port: u16) {
    let (status, text) = http_get(port, "/metrics").await;
    assert_eq!(status, 200);
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool (Debian package `prometheus`)");
    std::io::Write::write_all(&mut promtool.stdin.take().expect("stdin"), text.as_bytes())
        .expect("feed promtool");
    let checked = promtool.wait_with_output().expect("promtool");
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn monitor_usage_errors_are_one_line_and_exit_2() {
    let dir = TempDir::new("monitor-usage");
    let bad = dir.file("bad.toml");
    std::fs::write(
        &bad,
        "[streams.a]\nurl = \"http://127.0.0.1:1/\"\nheartbeat = 5\n",
    )
    .expect("write");
    let empty = dir.file("empty.toml");
    std::fs::write(&empty, "").expect("write");
    for (args, want) in [
        (
            vec![
                "monitor",
                "--config",
                path_str(&bad),
                "--metrics",
                "127.0.0.1:0",
            ],
            "bad.toml:3: streams.a.heartbeat: invalid type: integer `5`, expected a string",
        ),
        (
            vec![
                "monitor",
                "--config",
                path_str(&empty),
                "--metrics",
                "127.0.0.1:0",
            ],
            "monitor: no streams",
        ),
        (
            vec!["monitor", "http://127.0.0.1:1/x"],
            "nothing to report to",
        ),
        (
            vec!["monitor", "--metrics", "nowhere", "http://127.0.0.1:1/x"],
            "is not an address",
        ),
    ] {
        let out = support::output(&args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}
