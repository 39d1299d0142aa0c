//! HAR files saved by real browsers (`tests/data/har/`, recorded by `tests/browsers/`), imported by
//! the binary (`streamscope replay --json --record`) and compared with what the browser itself saw:
//! each HAR's `*.expect.json`, made from Chromium's CDP events or Firefox's page log, never from a
//! HAR or from streamscope. Where the HAR carries something (`har_carries` says what), the import
//! must equal the truth within the truth's tolerance; where it does not, the import must stay
//! within what the truth allows and say, with a lint, that it estimated or lacks it.
//!
//! Also: every HAR in `tests/data/` imports in time order per stream; a browser HAR exported again
//! with `--har` imports back unchanged; the export has every field, with the type, that the
//! browsers' own HARs have where DevTools (`models/har/HARFormat.ts`, `Importer.ts`) and Firefox
//! (`netmonitor/src/har/har-importer.js`) read them.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use streamscope::record::parse::parse_ts;
use support::run;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamscope-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn us(ts: &Value) -> i64 {
    parse_ts(ts.as_str().unwrap_or_else(|| panic!("not a time: {ts}"))).expect("ts")
}

fn ms(a: i64, b: i64) -> f64 {
    (a - b) as f64 / 1000.0
}

/// One import: the streams of the recording header, and the records of each.
struct Import {
    streams: Vec<Value>,
    records: Vec<Value>,
}

impl Import {
    fn of(&self, index: u64) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["stream"] == index)
            .collect()
    }

    fn find(&self, url: &str, method: &str) -> Option<u64> {
        self.streams
            .iter()
            .find(|s| s["url"] == url && s["options"]["method"] == method)
            .and_then(|s| s["index"].as_u64())
    }
}

/// Numbers each import's recording: tests run in parallel and import the same files.
static IMPORTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `streamscope replay --json --speed max --record TMP FILE [--har OUT]`.
async fn import(file: &Path, har_out: Option<&Path>) -> Import {
    let name = file.file_name().and_then(|n| n.to_str()).expect("name");
    let n = IMPORTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let rec = tmp(&format!("{name}.{n}.jsonl"));
    let mut args = vec!["replay", "--json", "--speed", "max", "--record"];
    args.push(rec.to_str().expect("utf-8"));
    if let Some(out) = har_out {
        args.push("--har");
        args.push(out.to_str().expect("utf-8"));
    }
    args.push(file.to_str().expect("utf-8"));
    let out = run(&args).await;
    assert_eq!(out.code, 0, "{name}: {}", out.stderr);
    let text = std::fs::read_to_string(&rec).expect("recording");
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"));
    let header = lines.next().expect("header");
    let records: Vec<Value> = lines.collect();
    assert_eq!(
        records, out.records,
        "{name}: the recording is what --json printed"
    );
    Import {
        streams: header["streams"].as_array().expect("streams").clone(),
        records,
    }
}

/// Mismatches, collected so one run shows them all.
#[derive(Default)]
struct Check {
    fails: Vec<String>,
}

impl Check {
    fn that(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.fails.push(what());
        }
    }

    fn near(&mut self, what: &str, got_us: i64, want_us: i64, tol_us: i64) {
        self.that((got_us - want_us).abs() <= tol_us, || {
            format!(
                "{what}: off by {} ms (tolerance {} ms)",
                ms(got_us, want_us),
                tol_us / 1000
            )
        });
    }
}

/// The records of one stream are in time order, the `open` (when there is one) first, the `end`
/// last.
fn check_order(name: &str, imp: &Import, c: &mut Check) {
    for s in &imp.streams {
        let index = s["index"].as_u64().expect("index");
        let rs = imp.of(index);
        let kinds: Vec<&str> = rs
            .iter()
            .map(|r| r["kind"].as_str().unwrap_or("?"))
            .collect();
        let label = format!("{name} stream {index} ({})", s["url"]);
        c.that(kinds.last() == Some(&"end"), || {
            format!("{label}: does not end with end: {kinds:?}")
        });
        if let Some(open) = kinds.iter().position(|k| *k == "open") {
            c.that(open == 0, || {
                format!("{label}: the open is record {open}: {kinds:?}")
            });
        }
        let times: Vec<i64> = rs.iter().map(|r| us(&r["ts"])).collect();
        if let Some(w) = times.windows(2).position(|w| w[1] < w[0]) {
            c.fails.push(format!(
                "{label}: record {} ({}) is stamped before record {w} ({})",
                w + 1,
                kinds[w + 1],
                kinds[w]
            ));
        }
    }
}

fn lint_says(rs: &[&Value], rule: &str, words: &str) -> bool {
    rs.iter().any(|r| {
        r["kind"] == "lint"
            && r["rule"] == rule
            && r["message"].as_str().is_some_and(|m| m.contains(words))
    })
}

const TRAFFIC: [&str; 4] = ["message", "event", "comment", "error"];

/// What one stream's import is, against its truth; the line of the summary table.
#[expect(
    clippy::too_many_lines,
    reason = "one check per field of the truth, in the order the table prints them"
)]
fn check_stream(t: &Value, imp: &Import, page_truth: bool, tol: i64, c: &mut Check) -> String {
    let url = t["url"].as_str().expect("url");
    let method = t["method"].as_str().expect("method");
    let label = format!("{method} {url}");
    let carries = &t["har_carries"];
    let Some(index) = imp.find(url, method) else {
        c.that(carries["entry"] == false, || {
            format!("{label}: the HAR has it, the import does not")
        });
        return format!("{label}: not in the HAR (its writer leaves it out)");
    };
    c.that(carries["entry"] == true, || {
        format!("{label}: imported, but the HAR has no entry")
    });
    let rs = imp.of(index);
    let ws = t["proto"] == "ws";
    let open = rs[0];
    let open_ts = us(&open["ts"]);
    let handshake = open["handshake_ms"].as_f64().unwrap_or(f64::NAN);
    c.that(open["kind"] == "open", || {
        format!("{label}: first record is {}", open["kind"])
    });
    c.that(open["status"] == t["status"], || {
        format!("{label}: status {} not {}", open["status"], t["status"])
    });
    let (t_request, t_open) = (us(&t["request_ts"]), us(&t["open_ts"]));
    let ws_messages = carries["ws_messages"].as_u64();
    // The open and the handshake.
    let mut open_note = "";
    let open_exact = if page_truth {
        open_note = " (the HAR's; the truth is JS)";
        // The page's JS sees the network late: the HAR's open is between its request and its open.
        c.that(
            open_ts >= t_request - tol && open_ts <= t_open + tol,
            || {
                format!(
                    "{label}: open {} ms after the JS request, truth open at {} ms",
                    ms(open_ts, t_request),
                    ms(t_open, t_request)
                )
            },
        );
        false
    } else if ws && ws_messages.is_some_and(|n| n > 0) {
        // DevTools: the handshake is not in the HAR. The open is its request, and says so.
        c.near(
            &format!("{label}: open at the handshake request"),
            open_ts,
            t_request,
            tol,
        );
        c.that(handshake == 0.0, || {
            format!("{label}: handshake_ms {handshake} not 0")
        });
        c.that(
            lint_says(&rs, "har-estimated", "no WebSocket handshake time"),
            || format!("{label}: no har-estimated lint for the handshake"),
        );
        open_note = " (not in the HAR: estimated, lint)";
        false
    } else {
        c.near(&format!("{label}: open"), open_ts, t_open, tol);
        let hs = t["handshake_ms"].as_f64().unwrap_or(f64::NAN);
        c.that((handshake - hs).abs() * 1000.0 <= tol as f64, || {
            format!("{label}: handshake_ms {handshake}, truth {hs}")
        });
        true
    };
    // The traffic: what it is, exactly; when, within the tolerance where the HAR has the time.
    let want: Vec<&Value> = t["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| TRAFFIC.contains(&r["kind"].as_str().unwrap_or("")))
        .collect();
    let got: Vec<&Value> = rs
        .iter()
        .copied()
        .filter(|r| TRAFFIC.contains(&r["kind"].as_str().unwrap_or("")))
        .collect();
    let end = rs[rs.len() - 1];
    let end_ts = us(&end["ts"]);
    if ws && ws_messages.is_none() {
        // Firefox saves the handshake only, and the import says so.
        c.that(got.is_empty(), || {
            format!("{label}: {} records from a HAR without messages", got.len())
        });
        c.that(
            lint_says(&rs, "har-incomplete", "no WebSocket messages"),
            || format!("{label}: no har-incomplete lint"),
        );
        c.that(end_ts == open_ts, || {
            format!("{label}: the end is not at the open")
        });
        return format!(
            "{label} | {} | {handshake} | - | - | no messages in the HAR (lint) | none in the HAR",
            t["handshake_ms"]
        );
    }
    c.that(got.len() == want.len(), || {
        format!("{label}: {} records, truth {}", got.len(), want.len())
    });
    let data_removed = carries["sse_message_data"] == false && carries["body_text"] == false && !ws;
    if data_removed {
        c.that(
            lint_says(&rs, "har-incomplete", "without their data"),
            || format!("{label}: no lint for the removed data"),
        );
    }
    let body_only = !ws && carries["sse_messages"].is_null();
    let fetch = carries["resourceType"] == "fetch";
    let mut moved = 0;
    let mut exact = vec![false; got.len()];
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let what = format!("{label} #{i}");
        for k in ["kind", "dir", "opcode", "event", "id", "data_base64"] {
            c.that(g.get(k) == w.get(k), || {
                format!("{what}: {k} {:?}, truth {:?}", g.get(k), w.get(k))
            });
        }
        if data_removed {
            c.that(g["data"] == "", || {
                format!("{what}: data {} from a HAR without it", g["data"])
            });
        } else {
            c.that(g.get("data") == w.get("data"), || {
                format!(
                    "{what}: data {:?}, truth {:?}",
                    g.get("data"),
                    w.get("data")
                )
            });
            c.that(
                w.get("payload_bytes").is_none()
                    || g.get("payload_bytes") == w.get("payload_bytes"),
                || {
                    format!(
                        "{what}: payload_bytes {:?}, truth {:?}",
                        g.get("payload_bytes"),
                        w.get("payload_bytes")
                    )
                },
            );
        }
        if g["kind"] == "error" {
            c.that(g["message"] == w["message"], || {
                format!("{what}: message {}, truth {}", g["message"], w["message"])
            });
        }
        let (gt, wt) = (us(&g["ts"]), us(&w["ts"]));
        c.that(gt >= open_ts, || format!("{what}: before the open"));
        if body_only {
            // No per-event times: they share the response's end (checked against the truth's
            // below). The page or the renderer may see the last bytes later than the network.
            c.that(gt == end_ts, || {
                format!("{what}: not at the response's end")
            });
        } else if page_truth {
            c.near(&what, gt, wt, tol);
        } else if fetch && gt == open_ts && (wt - gt).abs() > tol {
            // DevTools dated it with the request's start; moved to the open, which is before the truth.
            moved += 1;
            c.that(wt >= open_ts - tol, || {
                format!("{what}: moved to the open, but the truth is before it")
            });
        } else {
            c.near(&what, gt, wt, tol);
            exact[i] = true;
        }
    }
    c.that(
        moved == 0 || lint_says(&rs, "har-estimated", "stamped before the open"),
        || format!("{label}: {moved} record(s) moved to the open without a lint"),
    );
    if body_only && !got.is_empty() {
        c.that(
            lint_says(&rs, "har-estimated", "share the response's end time"),
            || format!("{label}: no lint for the shared time"),
        );
    }
    // Gaps: since the previous received record (or the open), and the truth's where both ends of
    // the gap are exact.
    let mut prev = (open_ts, open_exact);
    let mut truth_prev = t_open;
    let mut first_gap = None;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g["dir"] != "in" {
            continue;
        }
        let gap = g["gap_ms"].as_f64().unwrap_or(f64::NAN);
        let gt = us(&g["ts"]);
        c.that((gap - ms(gt, prev.0)).abs() < 0.0015, || {
            format!("{label} #{i}: gap_ms {gap} is not the time since the last")
        });
        let truth_gap = ms(us(&w["ts"]), truth_prev);
        if prev.1 && exact[i] {
            c.that((gap - truth_gap).abs() * 1000.0 <= 2.0 * tol as f64, || {
                format!("{label} #{i}: gap_ms {gap}, truth {truth_gap}")
            });
        }
        first_gap.get_or_insert((gap, truth_gap));
        prev = (gt, exact[i]);
        truth_prev = us(&w["ts"]);
    }
    // The end: the close where the HAR has it, else the last record, never a made-up close frame.
    let reason = end["reason"].as_str().unwrap_or("");
    let truth_close = t["records"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["kind"] == "close"));
    c.that(
        !rs.iter().any(|r| r["kind"] == "close") || carries["ws_close_frame"] == true,
        || format!("{label}: a close record from a HAR without close frames"),
    );
    let close = if !ws {
        if page_truth {
            c.that(
                end_ts >= open_ts && end_ts <= us(&t["end_ts"]) + tol,
                || {
                    format!(
                        "{label}: end {} ms after the truth's",
                        ms(end_ts, us(&t["end_ts"]))
                    )
                },
            );
        } else if t["end_ts"].is_null() {
            c.that(got.last().is_none_or(|r| us(&r["ts"]) <= end_ts), || {
                format!("{label}: records after the end")
            });
        } else {
            let (finished, last) = (us(&t["loading_finished_ts"]), us(&t["end_ts"]));
            c.that(end_ts >= finished - tol && end_ts <= last + tol, || {
                format!(
                    "{label}: end {} ms from loadingFinished, truth's end {} ms later",
                    ms(end_ts, finished),
                    ms(last, finished)
                )
            });
        }
        if t["end_ts"].is_null() {
            "still open when saved: end at the last event".to_owned()
        } else {
            format!(
                "body's end, {} ms from the truth's",
                ms(end_ts, us(&t["end_ts"]))
            )
        }
    } else if let Some(tc) = truth_close.filter(|_| {
        carries["timings"]["receive"]
            .as_f64()
            .is_some_and(|r| r > 0.0)
    }) {
        c.near(&format!("{label}: the close"), end_ts, us(&tc["ts"]), tol);
        c.that(reason.starts_with("closed"), || {
            format!("{label}: end reason {reason:?}")
        });
        format!(
            "closed at {} ms from the truth's (code {} not in the HAR)",
            ms(end_ts, us(&tc["ts"])),
            tc["code"]
        )
    } else {
        c.that(reason.contains("records no close"), || {
            format!("{label}: end reason {reason:?}")
        });
        c.that(t["end_ts"].is_null(), || {
            format!("{label}: the truth closed, the HAR says nothing of it?")
        });
        let last = got.last().map_or(open_ts, |r| us(&r["ts"]));
        c.that(end_ts == last, || {
            format!("{label}: end not at the last record")
        });
        "still open when saved: end at the last message, no close".to_owned()
    };
    let (fg, tg) = first_gap.unwrap_or((f64::NAN, f64::NAN));
    format!(
        "{label} | {} | {handshake}{open_note} | {fg} | {tg} | {} | {close}",
        t["handshake_ms"],
        if got.is_empty() { "-" } else { "in order" },
    )
}

/// Imports one fixture and checks it against its truth.
async fn check_fixture(har: &str) {
    let expect = read_json(&data(&format!(
        "har/{}",
        har.replace(".har", ".expect.json")
    )));
    let imp = import(&data(&format!("har/{har}")), None).await;
    let page_truth = expect["truth_source"]
        .as_str()
        .is_some_and(|s| s.contains("page JS"));
    let tol = (expect["tolerance_ms"].as_f64().expect("tolerance") * 1000.0) as i64;
    let mut c = Check::default();
    check_order(har, &imp, &mut c);
    let truths = expect["streams"].as_array().expect("streams");
    let mut lines = Vec::new();
    for t in truths {
        lines.push(check_stream(t, &imp, page_truth, tol, &mut c));
    }
    let in_har = truths
        .iter()
        .filter(|t| t["har_carries"]["entry"] == true)
        .count();
    c.that(imp.streams.len() == in_har, || {
        format!(
            "{} streams imported, {in_har} in the HAR",
            imp.streams.len()
        )
    });
    eprintln!("{har}: stream | handshake truth | import | first gap | truth | order | close");
    for l in &lines {
        eprintln!("  {l}");
    }
    assert!(
        c.fails.is_empty(),
        "{har} against its truth:\n  {}",
        c.fails.join("\n  ")
    );
}

#[tokio::test]
async fn chromium_devtools_sanitized_export() {
    check_fixture("chromium-devtools.har").await;
}

#[tokio::test]
async fn chromium_devtools_export_with_sensitive_data() {
    check_fixture("chromium-devtools-sensitive.har").await;
}

#[tokio::test]
async fn chromium_devtools_websocket_frame_errors() {
    check_fixture("chromium-devtools-ws-errors.har").await;
}

#[tokio::test]
async fn chromium_devtools_sanitized_export_of_open_streams() {
    check_fixture("chromium-devtools-live.har").await;
}

#[tokio::test]
async fn chromium_devtools_export_of_open_streams_with_sensitive_data() {
    check_fixture("chromium-devtools-live-sensitive.har").await;
}

#[tokio::test]
async fn chrome_har_from_devtools_protocol_events() {
    check_fixture("chromium-chrome-har.har").await;
}

#[tokio::test]
async fn firefox_netmonitor_auto_export() {
    check_fixture("firefox.har").await;
}

/// Every `.har` under `tests/data/`.
fn all_hars() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "har") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data(""), &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn every_har_imports_in_time_order_open_first_end_last() {
    let hars = all_hars();
    assert!(hars.len() >= 8, "{hars:?}");
    let mut c = Check::default();
    for har in &hars {
        let name = har.display().to_string();
        let imp = import(har, None).await;
        check_order(&name, &imp, &mut c);
        // The re-export of each, imported again, too.
        let out = tmp(&format!(
            "order-{}",
            har.file_name().and_then(|n| n.to_str()).expect("name")
        ));
        import(har, Some(&out)).await;
        check_order(
            &format!("{name} exported again"),
            &import(&out, None).await,
            &mut c,
        );
    }
    assert!(
        c.fails.is_empty(),
        "records out of order:\n  {}",
        c.fails.join("\n  ")
    );
}

/// The records with the stream's URL and method in place of its number (an export orders its
/// entries by start time, as DevTools does, so the numbers may change).
fn by_url(imp: &Import) -> Vec<Value> {
    let names: BTreeMap<u64, String> = imp
        .streams
        .iter()
        .map(|s| {
            (
                s["index"].as_u64().expect("index"),
                format!("{} {}", s["options"]["method"], s["url"]),
            )
        })
        .collect();
    imp.records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let stream = r["stream"].as_u64().expect("stream");
            r["stream"] = Value::String(names[&stream].clone());
            r
        })
        .collect()
}

#[tokio::test]
async fn a_browser_har_exported_again_imports_unchanged() {
    for har in all_hars() {
        let name = har
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let out = tmp(&format!("again-{name}"));
        let first = import(&har, Some(&out)).await;
        let again = import(&out, None).await;
        let (mut a, mut b) = (by_url(&first), by_url(&again));
        let key = |r: &Value| (r["stream"].as_str().unwrap_or("").to_owned(), us(&r["ts"]));
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a.len(), b.len(), "{name}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{name}: the import of its export differs");
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// The entry fields DevTools (`HARFormat.ts` `HAREntry` and the classes it builds, which throw on
/// a missing number, `Importer.ts`) and Firefox (`har-importer.js`, which reads `entry.cache` and
/// `log.pages` unguarded) read.
const ENTRY_FIELDS: &[&str] = &[
    "startedDateTime",
    "time",
    "request.method",
    "request.url",
    "request.httpVersion",
    "request.headers",
    "request.cookies",
    "request.headersSize",
    "request.bodySize",
    "response.status",
    "response.statusText",
    "response.httpVersion",
    "response.headers",
    "response.cookies",
    "response.content",
    "response.content.size",
    "response.content.mimeType",
    "response.redirectURL",
    "response.headersSize",
    "response.bodySize",
    "cache",
    "timings",
    "timings.blocked",
    "timings.dns",
    "timings.connect",
    "timings.ssl",
    "timings.send",
    "timings.wait",
    "timings.receive",
];

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one check per field a browser reads, side by side with what browsers write"
)]
async fn the_export_has_what_devtools_and_firefox_read_as_the_browsers_write_it() {
    let devtools = read_json(&data("har/chromium-devtools-sensitive.har"));
    let firefox = read_json(&data("har/firefox.har"));
    let out = tmp("export-shape.har");
    import(&data("har/chromium-devtools-sensitive.har"), Some(&out)).await;
    let ours = read_json(&out);
    let mut c = Check::default();
    for k in [
        "log.version",
        "log.creator",
        "log.creator.name",
        "log.pages",
        "log.entries",
    ] {
        c.that(
            json_type(at(&ours, k)) == json_type(at(&devtools, k)),
            || format!("{k}: {}", at(&ours, k)),
        );
    }
    let entries = |d: &Value| d["log"]["entries"].as_array().cloned().unwrap_or_default();
    let reference = |t: &str| {
        entries(&devtools)
            .into_iter()
            .find(|e| e["_resourceType"] == t)
            .expect("DevTools entry")
    };
    let ff_ws = entries(&firefox)
        .into_iter()
        .find(|e| e["response"]["status"] == 101)
        .expect("Firefox entry");
    let ours_entries = entries(&ours);
    assert_eq!(ours_entries.len(), 4);
    for e in &ours_entries {
        let rt = e["_resourceType"].as_str().unwrap_or("");
        let dt = reference(rt);
        for f in ENTRY_FIELDS {
            let (o, d, ff) = (at(e, f), at(&dt, f), at(&ff_ws, f));
            c.that(
                json_type(o) == json_type(d) && json_type(o) == json_type(ff),
                || {
                    format!(
                        "{rt} {f}: ours {}, DevTools {}, Firefox {}",
                        json_type(o),
                        json_type(d),
                        json_type(ff)
                    )
                },
            );
        }
        // JavaScript's Date.toJSON, as DevTools writes it.
        let started = e["startedDateTime"].as_str().unwrap_or("");
        c.that(
            started.len() == 24 && started.ends_with('Z') && started.as_bytes()[19] == b'.',
            || format!("startedDateTime {started}"),
        );
        // Each item as DevTools' importer takes it (`Importer.ts` skips items without these).
        if rt == "websocket" {
            for m in e["_webSocketMessages"]
                .as_array()
                .expect("_webSocketMessages")
            {
                c.that(
                    ["send", "receive", "error"].contains(&m["type"].as_str().unwrap_or("")),
                    || format!("type {m}"),
                );
                c.that(
                    m["time"].is_number() && m["opcode"].is_number() && m["data"].is_string(),
                    || format!("frame {m}"),
                );
            }
            // `wait` ends at the last frame, as in DevTools' HARs.
            let last = e["_webSocketMessages"]
                .as_array()
                .and_then(|m| m.last())
                .expect("a frame");
            let started = us(&e["startedDateTime"]);
            let wait_end = started
                + ((e["timings"]["blocked"].as_f64().unwrap_or(0.0)
                    + e["timings"]["wait"].as_f64().unwrap_or(0.0))
                    * 1000.0)
                    .round() as i64;
            c.near(
                "wait ends at the last frame",
                wait_end,
                (last["time"].as_f64().unwrap_or(0.0) * 1e6).round() as i64,
                1,
            );
        } else {
            let ms = e["_eventSourceMessages"]
                .as_array()
                .expect("_eventSourceMessages");
            c.that(!ms.is_empty(), || "no event".to_owned());
            for m in ms {
                let event = m.get("comment").is_none();
                c.that(
                    !event
                        || (m["time"].is_number()
                            && m["eventName"].is_string()
                            && m["eventId"].is_string()
                            && m["data"].is_string()),
                    || format!("event {m}"),
                );
                c.that(event || m.get("eventName").is_none(), || {
                    format!("a comment DevTools would read as an event: {m}")
                });
            }
            c.that(
                e["response"]["content"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                || "no body".to_owned(),
            );
        }
    }
    assert!(
        c.fails.is_empty(),
        "the export is not what browsers write:\n  {}",
        c.fails.join("\n  ")
    );
}
