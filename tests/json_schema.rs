//! Every record the client produces matches the schema in docs/json-records.md: the common fields,
//! the traffic fields with their types, and for each kind exactly its own fields (no more).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use streamscope::record::kinds::KINDS;
use support::run;

const COMMON: &[&str] = &["ts", "stream", "proto", "kind"];
const TRAFFIC: &[&str] = &["dir", "wire_bytes", "payload_bytes", "gap_ms", "read"];

fn kind_fields(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    // (required, optional)
    match kind {
        "open" => (&["status", "headers", "handshake_ms"], &[]),
        "event" => (&["event", "data", "id", "retry"], &[]),
        "comment" => (&["text"], &[]),
        "message" => (
            &["opcode", "frames", "compressed"],
            &["data", "data_base64"],
        ),
        "ping" => (&[], &["data", "data_base64"]),
        "pong" => (&[], &["data", "data_base64", "rtt_ms"]),
        "close" => (&["code", "reason", "by"], &[]),
        "reconnect" => (
            &["attempt", "delay_ms", "last_event_id", "reason", "retry_ms"],
            &[],
        ),
        "id_gap" => (&["expected", "got", "missing", "repeated", "count"], &[]),
        "lint" => (&["rule", "message"], &[]),
        "gap" => (&["gap_ms", "threshold_ms"], &[]),
        "error" => (&["message"], &["status", "close_code"]),
        "end" => (&["reason", "failed"], &[]),
        "match" => (&["key", "first", "lead_ms"], &[]),
        "match_summary" => (
            &[
                "pairs",
                "won",
                "ties",
                "lead_p50_ms",
                "lead_p95_ms",
                "lead_p99_ms",
                "lead_max_ms",
                "unmatched",
            ],
            &[],
        ),
        other => panic!("unknown kind {other}"),
    }
}

fn check(r: &Value) {
    let obj = r.as_object().expect("record is an object");
    for k in COMMON {
        assert!(obj.contains_key(*k), "missing {k} in {r}");
    }
    let ts = r["ts"].as_str().expect("ts string");
    assert_eq!(ts.len(), 27, "{ts}");
    assert!(humantime::parse_rfc3339(ts).is_ok(), "{ts}");
    assert!(ts.ends_with('Z'));
    assert!(r["stream"].is_u64());
    assert!(matches!(r["proto"].as_str(), Some("sse" | "ws")));
    let kind = r["kind"].as_str().expect("kind");
    let (required, optional) = kind_fields(kind);
    for k in required {
        assert!(obj.contains_key(*k), "{kind} lacks {k}: {r}");
    }
    for k in obj.keys() {
        let k = k.as_str();
        assert!(
            COMMON.contains(&k)
                || TRAFFIC.contains(&k)
                || required.contains(&k)
                || optional.contains(&k),
            "{kind} has unexpected field {k}: {r}"
        );
    }
    if let Some(d) = r.get("dir") {
        assert!(matches!(d.as_str(), Some("in" | "out")));
    }
    for k in ["wire_bytes", "payload_bytes", "read"] {
        if let Some(v) = r.get(k) {
            assert!(v.is_u64(), "{k} is an integer: {r}");
        }
    }
    if let Some(v) = r.get("gap_ms") {
        assert!(v.as_f64().is_some_and(|g| g >= 0.0), "{r}");
    }
    match kind {
        "open" => assert!(r["headers"].is_object() && r["status"].is_u64()),
        "event" => {
            assert!(r["data"].is_string() && r["event"].is_string());
            assert!(r["id"].is_string() || r["id"].is_null());
            assert!(r["retry"].is_u64() || r["retry"].is_null());
        }
        "message" => {
            assert!(matches!(r["opcode"].as_str(), Some("text" | "binary")));
            assert!(r.get("data").is_some() != r.get("data_base64").is_some());
        }
        "close" => assert!(matches!(r["by"].as_str(), Some("server" | "client"))),
        "reconnect" => assert!(r["retry_ms"].is_u64() || r["retry_ms"].is_null()),
        "id_gap" => {
            for k in ["expected", "got", "missing", "repeated", "count"] {
                assert!(r[k].is_u64(), "{k}: {r}");
            }
        }
        "lint" => {
            let rule = r["rule"].as_str().expect("rule");
            assert!(
                !rule.is_empty() && rule.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "rule is kebab-case: {r}"
            );
            assert!(r["message"].is_string());
        }
        "end" => assert!(r["failed"].is_boolean()),
        "match" => {
            assert!(r["key"].is_string());
            assert!(r["first"].is_null() || r["first"].is_u64());
            assert!(r["lead_ms"].as_f64().is_some_and(|l| l >= 0.0));
        }
        "match_summary" => {
            for k in ["won", "unmatched"] {
                let pair = r[k].as_array().expect("array");
                assert!(pair.len() == 2 && pair.iter().all(Value::is_u64), "{r}");
            }
            assert!(
                r["lead_p50_ms"].is_f64()
                    || r["lead_p50_ms"].is_u64()
                    || r["lead_p50_ms"].is_null()
            );
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_kind_matches_the_schema() {
    let srv = support::embedded_server(Duration::from_millis(30), Duration::from_millis(100)).await;
    let a = srv.local_addr();
    let mut seen = BTreeSet::new();
    let runs = [
        // events, comments, reconnect (count=3 per connection), open, end, match, match_summary
        vec![
            "--json".to_owned(),
            "--match".into(),
            "/seq".into(),
            "--count".into(),
            "5".into(),
            "--heartbeat".into(),
            "40ms".into(),
            format!("http://{a}/sse?count=3"),
            format!("ws://{a}/ws"),
            "--ping-interval".into(),
            "50ms".into(),
        ],
        // heartbeat comments and gaps on a slow feed
        vec![
            "--json".into(),
            "--duration".into(),
            "500ms".into(),
            "--heartbeat".into(),
            "50ms".into(),
            format!("http://{a}/sse?interval_ms=100000"),
        ],
        // error with status
        vec!["--json".into(), format!("http://{a}/status/500")],
        // binary message and refused upgrade
        vec![
            "--json".into(),
            "--count".into(),
            "1".into(),
            "--send".into(),
            "x".into(),
            format!("ws://{a}/echo"),
        ],
        vec!["--json".into(), format!("ws://{a}/status/403")],
        // id_gap (resume skips two ids) and lint
        vec![
            "--json".into(),
            "--count".into(),
            "4".into(),
            format!("http://{a}/scenario/sse/drop?after=2&skip=2"),
        ],
        vec![
            "--json".into(),
            "--no-reconnect".into(),
            format!("http://{a}/scenario/sse/lint"),
        ],
    ];
    for args in &runs {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&refs).await;
        assert!(!out.records.is_empty(), "{args:?}: {}", out.stderr);
        for r in &out.records {
            check(r);
            seen.insert(r["kind"].as_str().unwrap_or("").to_owned());
        }
    }
    for kind in KINDS.iter().map(|k| k.name) {
        assert!(
            seen.contains(kind),
            "no {kind} record was produced: {seen:?}"
        );
    }
}
