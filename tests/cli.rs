//! Command-line handling: usage errors are one line with exit code 2.

mod support;

use support::{closed_port, output, run};

async fn usage_error(args: &[&str], needle: &str) {
    let out = run(args).await;
    assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    assert!(out.records.is_empty());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line for {args:?}: {:?}", out.stderr);
    assert!(lines[0].starts_with("streamscope: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "{args:?}: {}", lines[0]);
}

#[tokio::test]
async fn unsupported_scheme_is_named() {
    usage_error(&["ftp://127.0.0.1/x"], "unsupported scheme 'ftp'").await;
}

#[tokio::test]
async fn not_a_url() {
    usage_error(&["just-words"], "is not a URL").await;
}

#[tokio::test]
async fn one_bad_url_among_two() {
    usage_error(
        &["http://127.0.0.1:1/", "mailto:x@y"],
        "unsupported scheme 'mailto'",
    )
    .await;
}

#[tokio::test]
async fn no_url() {
    usage_error(&["--json"], "no URL given").await;
}

#[tokio::test]
async fn unknown_flag() {
    usage_error(&["--frobnicate", "http://127.0.0.1/"], "--frobnicate").await;
}

#[tokio::test]
async fn bad_header() {
    usage_error(&["-H", "NoColonHere", "http://127.0.0.1/"], "Name: value").await;
}

#[tokio::test]
async fn bad_duration() {
    usage_error(
        &["--heartbeat", "soon", "http://127.0.0.1/"],
        "invalid duration",
    )
    .await;
}

#[tokio::test]
async fn missing_data_file() {
    usage_error(
        &["-d", "@/nonexistent/streamscope", "http://127.0.0.1/"],
        "--data @/nonexistent",
    )
    .await;
}

#[tokio::test]
async fn missing_cacert() {
    usage_error(
        &["--cacert", "/nonexistent.pem", "https://127.0.0.1/"],
        "--cacert",
    )
    .await;
}

#[tokio::test]
async fn help_exits_0() {
    let out = output(&["--help"]).await;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--json",
        "--heartbeat",
        "--count",
        "--subprotocol",
        "--last-event-id",
    ] {
        assert!(text.contains(flag), "--help lists {flag}");
    }
    // The exit codes --help names are the ones the binary returns.
    let Some((_, codes)) = text.split_once("Exit codes") else {
        panic!("--help names the exit codes: {text}");
    };
    for said in [
        "0  the work ended as asked",
        "1  a stream failed",
        "2  a usage error",
    ] {
        assert!(codes.contains(said), "{said}: {codes}");
    }
    let usage = output(&["--count", "many", "http://127.0.0.1:1/"]).await;
    assert_eq!(usage.status.code(), Some(2));
    let failed = output(&[
        "--json",
        "--no-reconnect",
        &format!("http://127.0.0.1:{}/", closed_port()),
    ])
    .await;
    assert_eq!(failed.status.code(), Some(1));
}

#[tokio::test]
async fn json_is_chosen_when_stdout_is_not_a_terminal() {
    let port = closed_port();
    let out = run(&["--no-reconnect", &format!("http://127.0.0.1:{port}/")]).await;
    assert!(out.stderr.contains("writing JSON lines"), "{}", out.stderr);
    assert_eq!(out.kinds(), ["error", "end"]);
}

#[tokio::test]
async fn bad_deflate_offer() {
    usage_error(
        &[
            "--deflate-offer",
            "permessage-deflate; mem_level=9",
            "ws://127.0.0.1:1/",
        ],
        "unknown parameter mem_level",
    )
    .await;
    usage_error(
        &[
            "--no-deflate",
            "--deflate-offer",
            "permessage-deflate",
            "ws://127.0.0.1:1/",
        ],
        "cannot be used with",
    )
    .await;
}
