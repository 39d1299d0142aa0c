//! The metrics sink: records in, exposition out, read back line by line.

use super::*;
use crate::record::{Dir, Payload, Proto};
use crate::testkit::{comment, event, info, rec, text};

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

fn named(index: usize, proto: Proto, name: &str) -> StreamInfo {
    let mut i = info(index, proto);
    i.name = Some(name.to_owned());
    i
}

fn exposition(registry: &Registry) -> String {
    http::encode(registry, false).0
}

#[test]
fn records_become_series_labelled_by_name_never_by_url() {
    let streams = [named(0, Proto::Sse, "prices"), info(1, Proto::Ws)];
    let (mut m, registry) = Metrics::new(&streams, &[]);
    m.apply(&rec(1_000, Kind::open(200, vec![], 12.5)));
    for i in 0..3 {
        m.apply(
            &event(2_000 + i, "{\"seq\":1}")
                .dir(Dir::In)
                .traffic(30, 9, 250.0),
        );
    }
    m.apply(&comment(9_000, "keepalive").dir(Dir::In).traffic(12, 0, 5.0));
    m.apply(
        &text(3_000, "hi")
            .on(1)
            .proto(Proto::Ws)
            .traffic(8, 2, 0.0)
            .dir(Dir::Out),
    );
    let text = exposition(&registry);
    let s = |series: &str| sample(&text, series);
    assert_eq!(
        s(r#"streamscope_records_total{stream="prices",proto="sse",kind="event"}"#),
        Some(3.0)
    );
    assert_eq!(
        s(r#"streamscope_records_total{stream="prices",proto="sse",kind="comment"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_wire_bytes_total{stream="prices",proto="sse",dir="in"}"#),
        Some(102.0)
    );
    assert_eq!(
        s(r#"streamscope_payload_bytes_total{stream="prices",proto="sse",dir="in"}"#),
        Some(27.0)
    );
    assert_eq!(
        s(r##"streamscope_wire_bytes_total{stream="#1",proto="ws",dir="out"}"##),
        Some(8.0)
    );
    assert_eq!(
        s(r#"streamscope_stream_up{stream="prices",proto="sse"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_stream_state{stream="prices",proto="sse",state="open"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r##"streamscope_stream_state{stream="#1",proto="ws",state="connecting"}"##),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_handshake_seconds{stream="prices",proto="sse"}"#),
        Some(0.0125)
    );
    // Three gaps of 250 ms and one of 5 ms: bucket counts are cumulative.
    assert_eq!(
        s(r#"streamscope_gap_seconds_bucket{stream="prices",proto="sse",le="0.01"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_gap_seconds_bucket{stream="prices",proto="sse",le="0.25"}"#),
        Some(4.0)
    );
    assert_eq!(
        s(r#"streamscope_gap_seconds_count{stream="prices",proto="sse"}"#),
        Some(4.0)
    );
    assert!(
        !text.contains("example.test"),
        "no URL in any series:\n{text}"
    );
    // SSE has no pings: no RTT series for it.
    assert!(!text.contains(r#"ping_rtt_seconds{stream="prices""#));
}

#[test]
fn state_reconnects_lints_and_id_gaps() {
    let (mut m, registry) = Metrics::new(&[named(0, Proto::Sse, "a")], &[]);
    let open = || rec(0, Kind::open(200, vec![], 1.0));
    m.apply(&open());
    for reason in [
        "stream broke: unexpected EOF",
        "HTTP 503 Service Unavailable: x",
    ] {
        m.apply(&rec(
            1,
            Kind::Reconnect {
                attempt: 1,
                delay_ms: 100,
                last_event_id: None,
                reason: reason.into(),
                retry_ms: None,
            },
        ));
    }
    m.apply(&rec(
        2,
        Kind::IdGap {
            expected: 4,
            got: 7,
            missing: 3,
            repeated: 0,
            count: 1,
        },
    ));
    for _ in 0..2 {
        m.apply(&rec(
            3,
            Kind::Lint {
                rule: "bom".into(),
                message: "x".into(),
            },
        ));
    }
    let text = exposition(&registry);
    let s = |series: &str| sample(&text, series);
    assert_eq!(
        s(r#"streamscope_stream_up{stream="a",proto="sse"}"#),
        Some(0.0)
    );
    assert_eq!(
        s(r#"streamscope_stream_state{stream="a",proto="sse",state="reconnecting"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_stream_state{stream="a",proto="sse",state="open"}"#),
        Some(0.0)
    );
    assert_eq!(
        s(r#"streamscope_reconnects_total{stream="a",proto="sse",reason="broken"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_reconnects_total{stream="a",proto="sse",reason="http-status"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_id_gaps_total{stream="a",proto="sse"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_missing_records_total{stream="a",proto="sse"}"#),
        Some(3.0)
    );
    assert_eq!(
        s(r#"streamscope_lints_total{stream="a",proto="sse",rule="bom"}"#),
        Some(2.0)
    );
    m.apply(&rec(
        4,
        Kind::End {
            reason: "failed".into(),
            failed: true,
        },
    ));
    let text = exposition(&registry);
    assert_eq!(
        sample(
            &text,
            r#"streamscope_stream_state{stream="a",proto="sse",state="failed"}"#
        ),
        Some(1.0)
    );
    // One state at a time.
    let ones = text
        .lines()
        .filter(|l| l.starts_with("streamscope_stream_state") && l.ends_with(" 1"))
        .count();
    assert_eq!(ones, 1);
}

#[test]
fn matched_pair_exports_lead_and_who_was_first() {
    let streams = [
        named(0, Proto::Sse, "sse"),
        named(1, Proto::Ws, "ws"),
        named(2, Proto::Ws, "x"),
    ];
    let spec = KeySpec::parse("/seq").expect("spec");
    let (mut m, registry) = Metrics::new(&streams, &[(0, 1, spec)]);
    for n in 0..4_i64 {
        let data = format!("{{\"seq\":{n}}}");
        // SSE first by 2 ms for seqs 0..3, then the WebSocket first by 20 ms.
        let (sse_ts, ws_ts) = if n < 3 {
            (n * 1_000, n * 1_000 + 2_000)
        } else {
            (50_000, 30_000)
        };
        m.apply(&event(sse_ts, &data).dir(Dir::In));
        m.apply(&text(ws_ts, &data).on(1).proto(Proto::Ws).dir(Dir::In));
        // A third stream with the same data is not part of the pair.
        m.apply(&text(ws_ts, &data).on(2).proto(Proto::Ws).dir(Dir::In));
    }
    let text = exposition(&registry);
    let s = |series: &str| sample(&text, series);
    assert_eq!(
        s(r#"streamscope_match_first_total{stream="sse",other="ws",first="sse"}"#),
        Some(3.0)
    );
    assert_eq!(
        s(r#"streamscope_match_first_total{stream="sse",other="ws",first="ws"}"#),
        Some(1.0)
    );
    assert_eq!(
        s(r#"streamscope_match_lead_seconds_count{stream="sse",other="ws"}"#),
        Some(4.0)
    );
    let sum = s(r#"streamscope_match_lead_seconds_sum{stream="sse",other="ws"}"#).expect("sum");
    assert!((sum - 0.026).abs() < 1e-9, "3 x 2 ms + 20 ms: {sum}");
    assert_eq!(
        s(r#"streamscope_match_lead_seconds_bucket{stream="sse",other="ws",le="0.005"}"#),
        Some(3.0)
    );
}

#[test]
fn ages_are_computed_when_scraped() {
    let (mut m, registry) = Metrics::new(&[named(0, Proto::Ws, "w")], &[]);
    let out = exposition(&registry);
    assert!(
        !out.contains("streamscope_last_record_age_seconds{"),
        "no age before a record"
    );
    let now = crate::record::time::unix_micros(std::time::SystemTime::now());
    m.apply(&text(now - 3_000_000, "x").proto(Proto::Ws).dir(Dir::In));
    m.apply(
        &rec(
            now - 10_000_000,
            Kind::Ping {
                data: Payload::Binary(vec![].into()),
            },
        )
        .proto(Proto::Ws),
    );
    let out = exposition(&registry);
    let age = sample(
        &out,
        r#"streamscope_last_record_age_seconds{stream="w",proto="ws"}"#,
    )
    .expect("age");
    assert!((3.0..4.0).contains(&age), "{age}");
    let hb = sample(
        &out,
        r#"streamscope_heartbeat_age_seconds{stream="w",proto="ws"}"#,
    )
    .expect("heartbeat age");
    assert!((10.0..11.0).contains(&hb), "{hb}");
}

#[test]
fn openmetrics_when_asked() {
    let (_m, registry) = Metrics::new(&[named(0, Proto::Sse, "a")], &[]);
    let (body, content_type) = http::encode(&registry, true);
    assert!(content_type.starts_with("application/openmetrics-text"));
    assert!(body.ends_with("# EOF\n"));
    let (body, content_type) = http::encode(&registry, false);
    assert!(content_type.starts_with("text/plain; version=0.0.4"));
    assert!(!body.contains("# EOF"));
}

#[test]
fn reasons_fall_in_few_classes() {
    for (reason, class) in [
        (
            "stream broke: error reading a body from connection: unexpected EOF during chunk size line",
            "broken",
        ),
        ("HTTP 503 Service Unavailable: status 503", "http-status"),
        (
            "connect failed: 127.0.0.1:1: Connection refused (os error 111)",
            "connect",
        ),
        (
            "connection reset by peer: Connection reset by peer (os error 104)",
            "reset",
        ),
        ("server closed the stream", "server-closed"),
        ("server closed: 1011 internal error", "close-frame"),
        ("idle timeout: nothing received for 1s", "idle-timeout"),
        ("reconnect requested", "manual"),
        ("something new", "other"),
    ] {
        assert_eq!(reason_class(reason), class, "{reason}");
    }
}
