//! Test fixtures: one record of every kind, shared by the reader's, the kinds table's and the
//! schema's tests so that each covers the same variants with the same values.

use crate::record::decoded::Decoded;
use crate::record::{
    DataOpcode, Dir, Kind, LlmSummary, MatchSummary, Payload, Proto, Record, Side, TokensSource,
};
use crate::testkit::{comment, event, rec};

/// One record of every kind, with the fields each can carry, values chosen to survive the
/// writer's three-decimal milliseconds.
#[expect(
    clippy::too_many_lines,
    reason = "one literal record per kind, read best as one list"
)]
pub(crate) fn one_of_each_kind() -> Vec<Record> {
    let traffic = |r: Record, dir: Dir| r.traffic(42, 7, 12.345).dir(dir).read(9);
    let ts = 1_795_603_464_898_574;
    let open = Kind::Open {
        status: 200,
        headers: vec![
            ("zeta".into(), "1".into()),
            ("content-type".into(), "text/event-stream".into()),
            ("alpha".into(), "a, b".into()),
        ],
        handshake_ms: 1.952,
        conn: None,
        compression_offered: Some("gzip, deflate, br, zstd".into()),
        compression: Some("gzip".into()),
        request: Some(Box::new(crate::record::SentRequest {
            method: "POST".into(),
            headers: vec![
                ("host".into(), "127.0.0.1:8080".into()),
                ("authorization".into(), "Bearer ***".into()),
                ("content-length".into(), "12".into()),
            ],
        })),
    };
    let open_h2 = Kind::Open {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        handshake_ms: 3.5,
        conn: Some(Box::new(crate::record::ConnFacts {
            http: "h2".into(),
            connection: Some(1),
            shared: true,
            tls: Some(crate::record::TlsFacts {
                version: "TLSv1.3".into(),
                cipher: "TLS13_AES_256_GCM_SHA384".into(),
                alpn: Some("h2".into()),
                cert_subject: "CN=127.0.0.1".into(),
                cert_issuer: "CN=127.0.0.1".into(),
                cert_names: "127.0.0.1".into(),
                cert_not_after_us: Some(1_800_000_000_000_000),
                cert_days_left: Some(-3),
            }),
        })),
        // HTTP/2 and a Content-Encoding together: both sets of facts on one record.
        compression_offered: Some("gzip, deflate, br, zstd".into()),
        compression: Some("gzip".into()),
        request: Some(Box::new(crate::record::SentRequest {
            method: "GET".into(),
            headers: vec![
                (":method".into(), "GET".into()),
                (":path".into(), "/sse?token=***".into()),
                ("accept".into(), "text/event-stream".into()),
            ],
        })),
    };
    let frame = Kind::Frame(Box::new(crate::record::H2Frame {
        frame: "GOAWAY".into(),
        h2_stream: 0,
        flags: 0,
        connection: 1,
        detail: "ENHANCE_YOUR_CALM, last stream 1".into(),
        error_code: Some(11),
        rtt_ms: Some(1.25),
    }));
    let kinds = vec![
        rec(ts, open).wire(142).read(1),
        rec(ts, open_h2).wire(40).read(2),
        traffic(rec(ts + 1, frame), Dir::In),
        traffic(
            event(ts + 1, "{\"seq\":1}\nline \"2\"")
                .named("tick")
                .id("1")
                .retry(2000),
            Dir::In,
        ),
        traffic(event(ts + 2, ""), Dir::In),
        traffic(comment(ts + 3, "heartbeat"), Dir::In),
        Record {
            compressed_bytes: Some(5),
            ..traffic(
                rec(
                    ts + 4,
                    Kind::Message {
                        opcode: DataOpcode::Text,
                        data: Payload::Text("héllo".into()),
                        frames: 3,
                        compressed: true,
                        decoded: Some(Box::new(Decoded {
                            substream: Some("7".into()),
                            event: Some("tick".into()),
                            ..Decoded::new("graphql-transport-ws", "next")
                                .with("payload", serde_json::json!({"data": {"n": [1, 2.5]}}))
                        })),
                    },
                )
                .on(1),
                Dir::In,
            )
        },
        traffic(
            rec(
                ts + 5,
                Kind::Message {
                    opcode: DataOpcode::Binary,
                    data: Payload::Binary(vec![0, 159, 255].into()),
                    frames: 1,
                    compressed: false,
                    decoded: Some(Box::new(Decoded::new("cbor", "value").heartbeat())),
                },
            )
            .on(1),
            Dir::Out,
        ),
        traffic(
            rec(
                ts + 6,
                Kind::Ping {
                    data: Payload::Binary(vec![0, 0, 0, 1].into()),
                },
            )
            .on(1),
            Dir::In,
        ),
        traffic(
            rec(
                ts + 7,
                Kind::Pong {
                    data: Payload::Text("streamscope-1".into()),
                    rtt_ms: Some(0.501),
                },
            )
            .on(1),
            Dir::In,
        ),
        traffic(
            rec(
                ts + 8,
                Kind::Pong {
                    data: Payload::Text(String::new().into()),
                    rtt_ms: None,
                },
            )
            .on(1),
            Dir::Out,
        ),
        traffic(
            rec(
                ts + 9,
                Kind::Close {
                    code: Some(1000),
                    reason: "done".into(),
                    by: Side::Server,
                },
            )
            .on(1),
            Dir::In,
        ),
        rec(
            ts + 10,
            Kind::Close {
                code: None,
                reason: String::new(),
                by: Side::Client,
            },
        )
        .on(1),
        rec(
            ts + 11,
            Kind::Reconnect {
                attempt: 2,
                delay_ms: 3000,
                last_event_id: Some("41".into()),
                reason: "server closed".into(),
                retry_ms: Some(3000),
            },
        ),
        rec(
            ts + 11,
            Kind::IdGap {
                expected: 42,
                got: 45,
                missing: 3,
                repeated: 0,
                count: 1,
            },
        ),
        rec(
            ts + 11,
            Kind::Lint {
                rule: "utf8-split-across-frames".into(),
                message: "a frame boundary cut a UTF-8 sequence".into(),
            },
        )
        .on(1)
        .proto(Proto::Ws),
        rec(
            ts + 12,
            Kind::Reconnect {
                attempt: 1,
                delay_ms: 0,
                last_event_id: None,
                reason: "x".into(),
                retry_ms: None,
            },
        ),
        rec(
            ts + 13,
            Kind::Gap {
                gap_ms: 2000.5,
                threshold_ms: 2000.0,
            },
        ),
        rec(
            ts + 14,
            Kind::Error {
                message: "HTTP 500".into(),
                status: Some(500),
                close_code: None,
            },
        ),
        rec(
            ts + 15,
            Kind::Error {
                message: "bad frame".into(),
                status: None,
                close_code: Some(1002),
            },
        )
        .on(1)
        .proto(Proto::Ws),
        rec(
            ts + 16,
            Kind::End {
                reason: "count reached".into(),
                failed: false,
            },
        ),
        rec(
            ts + 17,
            Kind::Match {
                key: "42".into(),
                first: Some(0),
                lead_ms: 0.25,
            },
        )
        .on(1)
        .proto(Proto::Ws),
        rec(
            ts + 18,
            Kind::Match {
                key: "\"x\"".into(),
                first: None,
                lead_ms: 0.0,
            },
        )
        .on(1)
        .proto(Proto::Ws),
        rec(
            ts + 19,
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
        rec(ts + 20, Kind::MatchSummary(MatchSummary::default())),
        rec(
            ts + 21,
            Kind::LlmSummary(Box::new(LlmSummary {
                format: "openai".into(),
                model: Some("gpt-4o-mini".into()),
                complete: true,
                finish_reason: Some("stop".into()),
                ttft_ms: Some(312.5),
                ttst_ms: Some(21.25),
                itl_p50_ms: Some(20.0),
                itl_p95_ms: Some(48.125),
                itl_p99_ms: Some(90.0),
                itl_max_ms: Some(1210.0),
                tpot_ms: Some(25.5),
                tokens_per_s: Some(39.216),
                output_tokens: 57,
                tokens_source: TokensSource::Usage,
                input_tokens: Some(12),
                server_tokens_per_s: Some(41.5),
                chunks: 55,
                reasoning_chunks: 3,
                tool_chunks: 0,
                total_ms: 1750.25,
                stalls: 1,
                stall_threshold_ms: 1000.0,
                errors: 1,
                error: Some("openai error: \"overloaded\"".into()),
                text: "Hello!\nThis is \"the\" answer.".into(),
            })),
        ),
        rec(
            ts + 22,
            Kind::LlmSummary(Box::new(LlmSummary {
                format: "ollama".into(),
                stall_threshold_ms: 500.0,
                ..LlmSummary::default()
            })),
        )
        .proto(Proto::Jsonl),
    ];
    kinds
}
