//! Test fixtures: one record of every kind, shared by the reader's, the kinds table's and the
//! schema's tests so that each covers the same variants with the same values.

use crate::record::{DataOpcode, Dir, Kind, MatchSummary, Payload, Proto, Record, Side};

/// One record of every kind, with the fields each can carry, values chosen to survive the
/// writer's three-decimal milliseconds.
pub(crate) fn one_of_each_kind() -> Vec<Record> {
    let traffic = |mut r: Record, dir: Dir| {
        r.dir = Some(dir);
        r.wire_bytes = Some(42);
        r.payload_bytes = Some(7);
        r.gap_ms = Some(12.345);
        r.read = Some(9);
        r
    };
    let ts = 1_795_603_464_898_574;
    let mut open = Record::new(
        ts,
        0,
        Proto::Sse,
        Kind::Open {
            status: 200,
            headers: vec![
                ("zeta".into(), "1".into()),
                ("content-type".into(), "text/event-stream".into()),
                ("alpha".into(), "a, b".into()),
            ],
            handshake_ms: 1.952,
        },
    );
    open.wire_bytes = Some(142);
    open.read = Some(1);
    vec![
        open,
        traffic(
            Record::new(
                ts + 1,
                0,
                Proto::Sse,
                Kind::Event {
                    event: "tick".into(),
                    data: "{\"seq\":1}\nline \"2\"".into(),
                    id: Some("1".into()),
                    retry: Some(2000),
                },
            ),
            Dir::In,
        ),
        traffic(
            Record::new(
                ts + 2,
                0,
                Proto::Sse,
                Kind::Event {
                    event: "message".into(),
                    data: String::new(),
                    id: None,
                    retry: None,
                },
            ),
            Dir::In,
        ),
        traffic(
            Record::new(
                ts + 3,
                0,
                Proto::Sse,
                Kind::Comment {
                    text: "heartbeat".into(),
                },
            ),
            Dir::In,
        ),
        traffic(
            Record::new(
                ts + 4,
                1,
                Proto::Ws,
                Kind::Message {
                    opcode: DataOpcode::Text,
                    data: Payload::Text("héllo".into()),
                    frames: 3,
                    compressed: true,
                },
            ),
            Dir::In,
        ),
        traffic(
            Record::new(
                ts + 5,
                1,
                Proto::Ws,
                Kind::Message {
                    opcode: DataOpcode::Binary,
                    data: Payload::Binary(vec![0, 159, 255]),
                    frames: 1,
                    compressed: false,
                },
            ),
            Dir::Out,
        ),
        traffic(
            Record::new(
                ts + 6,
                1,
                Proto::Ws,
                Kind::Ping {
                    data: Payload::Binary(vec![0, 0, 0, 1]),
                },
            ),
            Dir::In,
        ),
        traffic(
            Record::new(
                ts + 7,
                1,
                Proto::Ws,
                Kind::Pong {
                    data: Payload::Text("streamscope-1".into()),
                    rtt_ms: Some(0.501),
                },
            ),
            Dir::In,
        ),
        traffic(
            Record::new(
                ts + 8,
                1,
                Proto::Ws,
                Kind::Pong {
                    data: Payload::Text(String::new()),
                    rtt_ms: None,
                },
            ),
            Dir::Out,
        ),
        traffic(
            Record::new(
                ts + 9,
                1,
                Proto::Ws,
                Kind::Close {
                    code: Some(1000),
                    reason: "done".into(),
                    by: Side::Server,
                },
            ),
            Dir::In,
        ),
        Record::new(
            ts + 10,
            1,
            Proto::Ws,
            Kind::Close {
                code: None,
                reason: String::new(),
                by: Side::Client,
            },
        ),
        Record::new(
            ts + 11,
            0,
            Proto::Sse,
            Kind::Reconnect {
                attempt: 2,
                delay_ms: 3000,
                last_event_id: Some("41".into()),
                reason: "server closed".into(),
                retry_ms: Some(3000),
            },
        ),
        Record::new(
            ts + 11,
            0,
            Proto::Sse,
            Kind::IdGap {
                expected: 42,
                got: 45,
                missing: 3,
                repeated: 0,
                count: 1,
            },
        ),
        Record::new(
            ts + 11,
            1,
            Proto::Ws,
            Kind::Lint {
                rule: "utf8-split-across-frames".into(),
                message: "a frame boundary cut a UTF-8 sequence".into(),
            },
        ),
        Record::new(
            ts + 12,
            0,
            Proto::Sse,
            Kind::Reconnect {
                attempt: 1,
                delay_ms: 0,
                last_event_id: None,
                reason: "x".into(),
                retry_ms: None,
            },
        ),
        Record::new(
            ts + 13,
            0,
            Proto::Sse,
            Kind::Gap {
                gap_ms: 2000.5,
                threshold_ms: 2000.0,
            },
        ),
        Record::new(
            ts + 14,
            0,
            Proto::Sse,
            Kind::Error {
                message: "HTTP 500".into(),
                status: Some(500),
                close_code: None,
            },
        ),
        Record::new(
            ts + 15,
            1,
            Proto::Ws,
            Kind::Error {
                message: "bad frame".into(),
                status: None,
                close_code: Some(1002),
            },
        ),
        Record::new(
            ts + 16,
            0,
            Proto::Sse,
            Kind::End {
                reason: "count reached".into(),
                failed: false,
            },
        ),
        Record::new(
            ts + 17,
            1,
            Proto::Ws,
            Kind::Match {
                key: "42".into(),
                first: Some(0),
                lead_ms: 0.25,
            },
        ),
        Record::new(
            ts + 18,
            1,
            Proto::Ws,
            Kind::Match {
                key: "\"x\"".into(),
                first: None,
                lead_ms: 0.0,
            },
        ),
        Record::new(
            ts + 19,
            0,
            Proto::Sse,
            Kind::MatchSummary(MatchSummary {
                pairs: 10,
                won: [7, 2],
                ties: 1,
                lead_p50_ms: Some(0.5),
                lead_p95_ms: Some(3.25),
                lead_p99_ms: Some(4.0),
                lead_max_ms: Some(9.125),
                unmatched: [1, 0],
            }),
        ),
        Record::new(
            ts + 20,
            0,
            Proto::Sse,
            Kind::MatchSummary(MatchSummary::default()),
        ),
    ]
}
