//! Every record the client produces matches docs/record.schema.json (the common fields, the
//! traffic fields with their types, and for each kind exactly its own fields, no more), and that
//! file is the schema generated from the kinds table in src/record/kinds.rs, so neither drifts from
//! the writer.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use streamscope::record::kinds::KINDS;
use streamscope::record::schema::{SCHEMA_PATH, json_schema, json_schema_text};
use streamscope::server::ServerConfig;
use support::{embedded_server, run};

/// The checked-in schema file, which consumers of `--json` read.
fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH)
}

fn updating() -> bool {
    std::env::var_os("STREAMSCOPE_UPDATE_SCHEMA").is_some_and(|v| v == "1")
}

fn checked_in_schema() -> Value {
    if updating() {
        // The file is being rewritten by the test beside this one: use what it will hold.
        return json_schema();
    }
    let text = std::fs::read_to_string(schema_path()).expect("read docs/record.schema.json");
    serde_json::from_str(&text).expect("docs/record.schema.json is JSON")
}

/// Like insta's accept flow: a mismatch fails with a diff-able message, and
/// `STREAMSCOPE_UPDATE_SCHEMA=1` writes the generated schema instead.
#[test]
fn the_checked_in_schema_is_the_one_generated_from_the_kinds_table() {
    let generated = json_schema_text();
    let path = schema_path();
    if updating() {
        std::fs::write(&path, &generated).expect("write docs/record.schema.json");
        eprintln!("wrote {}", path.display());
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in == generated {
        return;
    }
    let line = checked_in
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
    panic!(
        "{} is not what the kinds table (src/record/kinds.rs) generates; first difference at line \
         {}:\n  checked in: {:?}\n  generated:  {:?}\nIf the table changed on purpose, regenerate \
         the file with `STREAMSCOPE_UPDATE_SCHEMA=1 cargo test --test json_schema` and review the \
         diff.",
        path.display(),
        line + 1,
        checked_in.lines().nth(line).unwrap_or("<end of file>"),
        generated.lines().nth(line).unwrap_or("<end of file>"),
    );
}

/// A line of real output against the checked-in schema, with every reason it fails.
fn check(validator: &jsonschema::Validator, r: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(r)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{r}\ndoes not match {SCHEMA_PATH}: {errors:#?}"
    );
}

#[tokio::test]
async fn every_kind_matches_the_schema() {
    let srv = embedded_server(ServerConfig {
        tick: Duration::from_millis(30),
        heartbeat: Duration::from_millis(100),
    })
    .await;
    let a = srv.local_addr();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&checked_in_schema())
        .expect("docs/record.schema.json is a valid draft 2020-12 schema");
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
        // HTTP/2 frames, and the open record's HTTP version and connection (h2c) beside its
        // compression fields (a gzip body)
        vec![
            "--json".into(),
            "--http2-prior-knowledge".into(),
            "--compressed".into(),
            "--count".into(),
            "2".into(),
            format!("http://{a}/sse?interval_ms=10"),
        ],
        // llm_summary (with reasoning, usage, and an in-stream error), on SSE and JSON lines
        vec![
            "--json".into(),
            "-X".into(),
            "POST".into(),
            "-d".into(),
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.into(),
            format!(
                "http://{a}/llm/anthropic/v1/messages?tokens=3&reasoning=1&ttft_ms=0&delay_ms=1"
            ),
            format!("http://{a}/llm/ollama/api/chat?tokens=3&ttft_ms=0&delay_ms=1&error_at=2"),
        ],
    ];
    for args in &runs {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&refs).await;
        assert!(!out.records.is_empty(), "{args:?}: {}", out.stderr);
        for r in &out.records {
            check(&validator, r);
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
