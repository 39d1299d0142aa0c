//! Reading records back from their JSON lines: the inverse of [`Record::write_json`].
//!
//! Recordings (`--record`) and `--json` captures are replayed through this parser, so it accepts
//! exactly the schema of `docs/json-records.md` and names the first thing wrong with a line instead
//! of guessing. Unknown fields are ignored, so a newer streamscope's recordings still replay.

use base64::Engine as _;

use crate::record::time::unix_micros;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

use crate::record::decoded::Decoded;
use crate::record::kinds::KindTag;
use crate::record::{
    ConnFacts, DataOpcode, Dir, H2Frame, Kind, LlmSummary, MatchSummary, Payload, Proto, Record,
    SentRequest, Side, TlsFacts, TokensSource,
};

/// Response headers in the order they were written (a JSON object, read without reordering, since
/// `serde_json`'s map would sort them).
#[derive(Debug, Default)]
struct OrderedHeaders(Vec<(String, String)>);

impl<'de> Deserialize<'de> for OrderedHeaders {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedHeaders;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of header names to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(OrderedHeaders(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Every field any kind can have; which ones must be present is checked per kind.
#[derive(Debug, Deserialize)]
struct Raw {
    ts: String,
    stream: usize,
    proto: String,
    kind: String,
    dir: Option<String>,
    wire_bytes: Option<u64>,
    payload_bytes: Option<u64>,
    compressed_bytes: Option<u64>,
    gap_ms: Option<f64>,
    read: Option<u64>,
    status: Option<u16>,
    headers: Option<OrderedHeaders>,
    handshake_ms: Option<f64>,
    compression_offered: Option<String>,
    compression: Option<String>,
    request_method: Option<String>,
    request_headers: Option<OrderedHeaders>,
    event: Option<String>,
    data: Option<String>,
    data_base64: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    text: Option<String>,
    opcode: Option<String>,
    frames: Option<u32>,
    compressed: Option<bool>,
    decoded: Option<serde_json::Value>,
    rtt_ms: Option<f64>,
    code: Option<u16>,
    reason: Option<String>,
    by: Option<String>,
    attempt: Option<u32>,
    delay_ms: Option<u64>,
    last_event_id: Option<String>,
    threshold_ms: Option<f64>,
    message: Option<String>,
    close_code: Option<u16>,
    failed: Option<bool>,
    key: Option<String>,
    first: Option<usize>,
    lead_ms: Option<f64>,
    pairs: Option<u64>,
    won: Option<[u64; 2]>,
    ties: Option<u64>,
    lead_p50_ms: Option<f64>,
    lead_p95_ms: Option<f64>,
    lead_p99_ms: Option<f64>,
    lead_max_ms: Option<f64>,
    unmatched: Option<[u64; 2]>,
    retry_ms: Option<u64>,
    expected: Option<u64>,
    got: Option<u64>,
    missing: Option<u64>,
    repeated: Option<u64>,
    count: Option<u64>,
    rule: Option<String>,
    http: Option<String>,
    connection: Option<u64>,
    shared: Option<bool>,
    tls_version: Option<String>,
    tls_cipher: Option<String>,
    alpn: Option<String>,
    cert_subject: Option<String>,
    cert_issuer: Option<String>,
    cert_names: Option<String>,
    cert_not_after: Option<String>,
    cert_days_left: Option<i64>,
    frame: Option<String>,
    h2_stream: Option<u32>,
    flags: Option<u8>,
    detail: Option<String>,
    error_code: Option<u32>,
    format: Option<String>,
    model: Option<String>,
    complete: Option<bool>,
    finish_reason: Option<String>,
    ttft_ms: Option<f64>,
    ttst_ms: Option<f64>,
    itl_p50_ms: Option<f64>,
    itl_p95_ms: Option<f64>,
    itl_p99_ms: Option<f64>,
    itl_max_ms: Option<f64>,
    tpot_ms: Option<f64>,
    tokens_per_s: Option<f64>,
    output_tokens: Option<u64>,
    tokens_source: Option<String>,
    input_tokens: Option<u64>,
    server_tokens_per_s: Option<f64>,
    chunks: Option<u64>,
    reasoning_chunks: Option<u64>,
    tool_chunks: Option<u64>,
    total_ms: Option<f64>,
    stalls: Option<u64>,
    stall_threshold_ms: Option<f64>,
    errors: Option<u64>,
    error: Option<String>,
}

/// A required field, or an error naming it.
fn need<T>(v: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("{kind} record lacks `{field}`"))
}

/// Parses an RFC 3339 timestamp into microseconds since the Unix epoch.
pub fn parse_ts(ts: &str) -> Result<i64, String> {
    humantime::parse_rfc3339(ts)
        .map(unix_micros)
        .map_err(|e| format!("bad ts '{ts}': {e}"))
}

impl Record {
    /// Parses one JSON line as written by [`Record::write_json`] (the trailing newline is optional).
    pub fn from_json_line(line: &str) -> Result<Record, String> {
        let raw: Raw = serde_json::from_str(line.trim_end()).map_err(|e| e.to_string())?;
        raw_to_record(raw)
    }
}

fn payload(raw_data: Option<String>, raw_b64: Option<String>) -> Result<Payload, String> {
    match (raw_data, raw_b64) {
        (Some(t), _) => Ok(Payload::Text(t.into())),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .map(|b| Payload::Binary(b.into()))
            .map_err(|e| format!("bad data_base64: {e}")),
        (None, None) => Ok(Payload::Text(crate::record::Text::new())),
    }
}

fn open_kind(mut raw: Raw) -> Result<Kind, String> {
    let conn = conn_facts(&mut raw)?;
    let k = raw.kind.as_str();
    Ok(Kind::Open {
        status: need(raw.status, k, "status")?,
        headers: need(raw.headers, k, "headers")?.0,
        handshake_ms: need(raw.handshake_ms, k, "handshake_ms")?,
        conn,
        compression_offered: raw.compression_offered,
        compression: raw.compression,
        request: raw.request_method.map(|method| {
            Box::new(SentRequest {
                method,
                headers: raw.request_headers.map(|h| h.0).unwrap_or_default(),
            })
        }),
    })
}

fn message_kind(raw: Raw) -> Result<Kind, String> {
    let k = raw.kind.as_str();
    let opcode = match need(raw.opcode, k, "opcode")?.as_str() {
        "text" => DataOpcode::Text,
        "binary" => DataOpcode::Binary,
        other => return Err(format!("unknown opcode '{other}'")),
    };
    if raw.data.is_none() && raw.data_base64.is_none() {
        return Err("message record lacks `data` or `data_base64`".to_owned());
    }
    Ok(Kind::Message {
        opcode,
        data: payload(raw.data, raw.data_base64)?,
        frames: need(raw.frames, k, "frames")?,
        compressed: need(raw.compressed, k, "compressed")?,
        decoded: match raw.decoded {
            Some(v) => Some(Box::new(Decoded::from_value(v)?)),
            None => None,
        },
    })
}

fn close_kind(raw: Raw) -> Result<Kind, String> {
    let k = raw.kind.as_str();
    Ok(Kind::Close {
        code: raw.code,
        reason: need(raw.reason, k, "reason")?,
        by: match need(raw.by, k, "by")?.as_str() {
            "server" => Side::Server,
            "client" => Side::Client,
            other => return Err(format!("unknown close side '{other}'")),
        },
    })
}

fn match_summary_kind(raw: &Raw) -> Result<Kind, String> {
    let k = raw.kind.as_str();
    Ok(Kind::MatchSummary(MatchSummary {
        pairs: need(raw.pairs, k, "pairs")?,
        won: need(raw.won, k, "won")?,
        ties: need(raw.ties, k, "ties")?,
        lead_p50_ms: raw.lead_p50_ms,
        lead_p95_ms: raw.lead_p95_ms,
        lead_p99_ms: raw.lead_p99_ms,
        lead_max_ms: raw.lead_max_ms,
        unmatched: need(raw.unmatched, k, "unmatched")?,
    }))
}

fn frame_kind(raw: Raw) -> Result<Kind, String> {
    let k = "frame";
    Ok(Kind::Frame(Box::new(H2Frame {
        frame: need(raw.frame, k, "frame")?,
        h2_stream: need(raw.h2_stream, k, "h2_stream")?,
        flags: need(raw.flags, k, "flags")?,
        connection: need(raw.connection, k, "connection")?,
        detail: need(raw.detail, k, "detail")?,
        error_code: raw.error_code,
        rtt_ms: raw.rtt_ms,
    })))
}

/// The `open` record's connection facts, when it has them (`http` says it does).
fn conn_facts(raw: &mut Raw) -> Result<Option<Box<ConnFacts>>, String> {
    let Some(http) = raw.http.take() else {
        return Ok(None);
    };
    let tls = match raw.tls_version.take() {
        None => None,
        Some(version) => Some(TlsFacts {
            version,
            cipher: raw.tls_cipher.take().unwrap_or_default(),
            alpn: raw.alpn.take(),
            cert_subject: raw.cert_subject.take().unwrap_or_default(),
            cert_issuer: raw.cert_issuer.take().unwrap_or_default(),
            cert_names: raw.cert_names.take().unwrap_or_default(),
            cert_not_after_us: raw
                .cert_not_after
                .as_deref()
                .map(parse_ts)
                .transpose()
                .map_err(|e| format!("bad cert_not_after: {e}"))?,
            cert_days_left: raw.cert_days_left,
        }),
    };
    Ok(Some(Box::new(ConnFacts {
        http,
        connection: raw.connection,
        shared: raw.shared.unwrap_or(false),
        tls,
    })))
}

fn llm_summary_kind(raw: Raw) -> Result<Kind, String> {
    let k = raw.kind.as_str();
    let tokens_source = match need(raw.tokens_source.as_deref(), k, "tokens_source")? {
        "usage" => TokensSource::Usage,
        "chunks" => TokensSource::Chunks,
        other => return Err(format!("unknown tokens_source '{other}'")),
    };
    Ok(Kind::LlmSummary(Box::new(LlmSummary {
        format: need(raw.format, k, "format")?,
        model: raw.model,
        complete: need(raw.complete, k, "complete")?,
        finish_reason: raw.finish_reason,
        ttft_ms: raw.ttft_ms,
        ttst_ms: raw.ttst_ms,
        itl_p50_ms: raw.itl_p50_ms,
        itl_p95_ms: raw.itl_p95_ms,
        itl_p99_ms: raw.itl_p99_ms,
        itl_max_ms: raw.itl_max_ms,
        tpot_ms: raw.tpot_ms,
        tokens_per_s: raw.tokens_per_s,
        output_tokens: need(raw.output_tokens, k, "output_tokens")?,
        tokens_source,
        input_tokens: raw.input_tokens,
        server_tokens_per_s: raw.server_tokens_per_s,
        chunks: need(raw.chunks, k, "chunks")?,
        reasoning_chunks: need(raw.reasoning_chunks, k, "reasoning_chunks")?,
        tool_chunks: need(raw.tool_chunks, k, "tool_chunks")?,
        total_ms: need(raw.total_ms, k, "total_ms")?,
        stalls: need(raw.stalls, k, "stalls")?,
        stall_threshold_ms: need(raw.stall_threshold_ms, k, "stall_threshold_ms")?,
        errors: need(raw.errors, k, "errors")?,
        error: raw.error,
        text: need(raw.text, k, "text")?,
    })))
}

fn raw_to_record(mut raw: Raw) -> Result<Record, String> {
    let ts_us = parse_ts(&raw.ts)?;
    let proto = match raw.proto.as_str() {
        "sse" => Proto::Sse,
        "ws" => Proto::Ws,
        "jsonl" => Proto::Jsonl,
        other => return Err(format!("unknown proto '{other}'")),
    };
    let dir = match raw.dir.as_deref() {
        None => None,
        Some("in") => Some(Dir::In),
        Some("out") => Some(Dir::Out),
        Some(other) => return Err(format!("unknown dir '{other}'")),
    };
    let tag =
        KindTag::from_name(&raw.kind).ok_or_else(|| format!("unknown kind '{}'", raw.kind))?;
    let (stream, wire_bytes, payload_bytes, compressed_bytes, read) = (
        raw.stream,
        raw.wire_bytes,
        raw.payload_bytes,
        raw.compressed_bytes,
        raw.read,
    );
    let mut gap_ms = raw.gap_ms.take();
    let k = raw.kind.clone();
    let k = k.as_str();
    // No catch-all arm: a kind added to the table is a compile error here until it can be read.
    let kind = match tag {
        KindTag::Open => open_kind(raw)?,
        KindTag::Event => Kind::Event {
            event: crate::record::event_type(&need(raw.event, k, "event")?),
            data: need(raw.data, k, "data")?.into(),
            id: raw.id.map(Into::into),
            retry: raw.retry,
        },
        KindTag::Comment => Kind::Comment {
            text: need(raw.text, k, "text")?.into(),
        },
        KindTag::Message => message_kind(raw)?,
        KindTag::Ping => Kind::Ping {
            data: payload(raw.data, raw.data_base64)?,
        },
        KindTag::Pong => Kind::Pong {
            data: payload(raw.data, raw.data_base64)?,
            rtt_ms: raw.rtt_ms,
        },
        KindTag::Close => close_kind(raw)?,
        KindTag::Reconnect => Kind::Reconnect {
            attempt: need(raw.attempt, k, "attempt")?,
            delay_ms: need(raw.delay_ms, k, "delay_ms")?,
            last_event_id: raw.last_event_id,
            reason: need(raw.reason, k, "reason")?,
            retry_ms: raw.retry_ms,
        },
        KindTag::IdGap => Kind::IdGap {
            expected: need(raw.expected, k, "expected")?,
            got: need(raw.got, k, "got")?,
            missing: need(raw.missing, k, "missing")?,
            repeated: need(raw.repeated, k, "repeated")?,
            count: need(raw.count, k, "count")?,
        },
        KindTag::Lint => Kind::Lint {
            rule: need(raw.rule, k, "rule")?,
            message: need(raw.message, k, "message")?,
        },
        KindTag::Gap => Kind::Gap {
            // The writer puts a gap record's silence in the top-level `gap_ms` field.
            gap_ms: need(gap_ms.take(), k, "gap_ms")?,
            threshold_ms: need(raw.threshold_ms, k, "threshold_ms")?,
        },
        KindTag::Error => Kind::Error {
            message: need(raw.message, k, "message")?,
            status: raw.status,
            close_code: raw.close_code,
        },
        KindTag::End => Kind::End {
            reason: need(raw.reason, k, "reason")?,
            failed: need(raw.failed, k, "failed")?,
        },
        KindTag::Match => Kind::Match {
            key: need(raw.key, k, "key")?,
            first: raw.first,
            lead_ms: need(raw.lead_ms, k, "lead_ms")?,
        },
        KindTag::MatchSummary => match_summary_kind(&raw)?,
        KindTag::Frame => frame_kind(raw)?,
        KindTag::LlmSummary => llm_summary_kind(raw)?,
    };
    Ok(Record {
        ts_us,
        stream,
        proto,
        dir,
        wire_bytes,
        payload_bytes,
        compressed_bytes,
        gap_ms,
        read,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn every_kind_round_trips() {
        let records = crate::record::samples::one_of_each_kind();
        let names: std::collections::BTreeSet<_> = records.iter().map(|r| r.kind.name()).collect();
        // Every kind the writer knows is covered (adding a kind without a case here fails).
        assert_eq!(names.len(), crate::record::kinds::KINDS.len(), "{names:?}");
        for r in records {
            let line = r.to_json_line();
            let back = Record::from_json_line(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(back, r, "{line}");
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let cases = [
            ("not json", "expected"),
            (
                r#"{"ts":"2026-11-25T10:44:24.898574Z","stream":0,"proto":"sse","kind":"event","event":"m"}"#,
                "event record lacks `data`",
            ),
            (
                r#"{"ts":"yesterday","stream":0,"proto":"sse","kind":"end","reason":"x","failed":false}"#,
                "bad ts",
            ),
            (
                r#"{"ts":"2026-11-25T10:44:24.898574Z","stream":0,"proto":"ftp","kind":"end"}"#,
                "unknown proto",
            ),
            (
                r#"{"ts":"2026-11-25T10:44:24.898574Z","stream":0,"proto":"ws","kind":"teleport"}"#,
                "unknown kind",
            ),
            (
                r#"{"ts":"2026-11-25T10:44:24.898574Z","stream":0,"proto":"ws","kind":"message","opcode":"binary","data_base64":"!!","frames":1,"compressed":false}"#,
                "bad data_base64",
            ),
        ];
        for (line, want) in cases {
            let err = Record::from_json_line(line).expect_err(line);
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
