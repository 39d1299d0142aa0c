//! The Autobahn|Testsuite WebSocket client cases, CI's share of them: `benches/autobahn.sh` runs
//! them with the binary under test against the fuzzing server (kosoku, a Python 3 port of the
//! Autobahn|Testsuite fuzzing server that replays the original case files, installed by
//! `tests/interop/setup.sh`), and this test reads its per-case verdicts (`summary.json`).
//!
//! The selection is every case of sections 1 to 10 (framing, pings, reserved bits and opcodes,
//! fragmentation, UTF-8, close handling, limits up to 16 MiB messages and 65,536-frame messages,
//! partial reads, round trips) and the permessage-deflate cases of sections 12 and 13 with payloads
//! up to 1 KiB (every negotiation variant of 13.x): 349 of the 517 cases, in about half a minute.
//! The full suite is `benches/autobahn.sh` (docs/resilience.md).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{BIN, TempDir, interop};

/// kosoku's `-i` patterns (a `*` makes a regex anchored at the start only, hence the `$`).
const CASES: &str = "1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.* 12.*.[1-4]$ 13.*.[1-4]$";
/// How many cases `CASES` selects.
const SELECTED: u64 = 349;
/// Seconds the whole run may take (the script is killed with TERM, and kills kosoku and the
/// client, after that).
const RUN_LIMIT_SECS: u32 = 300;

/// The permessage-deflate offer for sections 12 and 13.
const OFFER: &str = "permessage-deflate; client_no_context_takeover; client_max_window_bits";

/// Verdicts that pass: Autobahn's NON-STRICT is allowed behaviour, INFORMATIONAL has no right
/// answer (7.1.6, 7.13.x).
fn passes(verdict: &str) -> bool {
    matches!(verdict, "OK" | "NON-STRICT" | "INFORMATIONAL")
}

/// A 12.x/13.x case may be UNIMPLEMENTED (kosoku agreed to no compression) only when the client's
/// offer could not get it: no permessage-deflate offer at all, or, for the subsections that ask
/// for them, no `client_no_context_takeover` (13.2, 13.5, 13.6) or `client_max_window_bits`
/// (13.3 to 13.6) in it. An offer that could have been accepted must pass, so these sections
/// cannot be skipped silently once streamscope offers compression.
fn unimplemented_is_explained(id: &str, offer: Option<&str>) -> bool {
    let Some(offer) = offer.filter(|o| o.contains("permessage-deflate")) else {
        return true;
    };
    let sub = id.split('.').take(2).collect::<Vec<_>>().join(".");
    let needs_nct = matches!(sub.as_str(), "13.2" | "13.5" | "13.6");
    let needs_bits = matches!(sub.as_str(), "13.3" | "13.4" | "13.5" | "13.6");
    (needs_nct && !offer.contains("client_no_context_takeover"))
        || (needs_bits && !offer.contains("client_max_window_bits"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn autobahn_client_cases_pass() {
    interop::ensure();
    let dir = TempDir::new("autobahn");
    let outdir = dir.file("reports");
    let output = Command::new("timeout")
        .arg(RUN_LIMIT_SECS.to_string())
        .arg(root().join("benches/autobahn.sh"))
        .env("CASES", CASES)
        .env("STREAMSCOPE", BIN)
        .env("OUTDIR", &outdir)
        .env("VENV", interop::dir().join("venv"))
        .env("CASE_TIMEOUT", "60")
        // One offer every 13.x subsection can accept (13.2, 13.5 and 13.6 need the client's
        // promise of no context takeover; 13.3 to 13.6 a client_max_window_bits).
        .env("DEFLATE_ARGS", format!("--deflate-offer\n{OFFER}"))
        .env("QUIET", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run benches/autobahn.sh");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_ne!(
        output.status.code(),
        Some(124),
        "the run took over {RUN_LIMIT_SECS} s\n{report}"
    );
    let summary: Value = serde_json::from_slice(
        &std::fs::read(outdir.join("summary.json"))
            .unwrap_or_else(|e| panic!("no summary.json ({e})\n{report}")),
    )
    .expect("summary.json is JSON");
    assert_eq!(summary["selected"], SELECTED, "{report}");
    let cases = summary["cases"].as_object().expect("cases");
    assert_eq!(cases.len() as u64, SELECTED, "{report}");

    let mut bad = Vec::new();
    for (id, case) in cases {
        let verdict = case["verdict"].as_str().unwrap_or("?");
        let compression = id.starts_with("12.") || id.starts_with("13.");
        let ok = passes(verdict)
            || (compression
                && verdict == "UNIMPLEMENTED"
                && unimplemented_is_explained(id, case["offer"].as_str()));
        if !ok {
            bad.push(format!("{id}: {verdict} ({case})"));
        }
    }
    assert!(
        bad.is_empty(),
        "cases that fail:\n{}\n{report}",
        bad.join("\n")
    );
    // The UTF-8 fail-fast cases: invalid bytes must fail the connection when they arrive, not when
    // the message would have ended (NON-STRICT).
    for id in ["6.4.1", "6.4.2", "6.4.3", "6.4.4"] {
        assert_eq!(cases[id]["verdict"], "OK", "{id}\n{report}");
    }
    // The script's own verdict agrees (exit 0: no FAILED or MISSING case).
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[test]
fn unimplemented_rule() {
    assert!(unimplemented_is_explained("12.1.1", None));
    assert!(!unimplemented_is_explained(
        "12.1.1",
        Some("permessage-deflate; client_max_window_bits")
    ));
    assert!(unimplemented_is_explained(
        "13.2.1",
        Some("permessage-deflate; client_max_window_bits")
    ));
    assert!(!unimplemented_is_explained(
        "13.2.1",
        Some("permessage-deflate; client_no_context_takeover; client_max_window_bits")
    ));
    assert!(unimplemented_is_explained(
        "13.3.1",
        Some("permessage-deflate; client_no_context_takeover")
    ));
    assert!(!unimplemented_is_explained(
        "13.7.1",
        Some("permessage-deflate")
    ));
}
