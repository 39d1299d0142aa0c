//! The config file: every key, environment values, one-line errors with file, line and key, and
//! names mixed with URLs on the way to a plan. The shipped example is read back and must mean what
//! its comments say.

use std::path::Path;
use std::time::Duration;

use clap::Parser as _;

use super::*;
use crate::app::cli::Cli;
use crate::record::Proto;

fn env(name: &str) -> Option<String> {
    match name {
        "OPENAI_API_KEY" => Some("sk-test".into()),
        "FEED_TOKEN" => Some("t0k".into()),
        "FEED_SESSION" => Some("s3ss".into()),
        "HOST" => Some("127.0.0.1:8080".into()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, Path::new("/cfg/streamscope.toml"), &env)
}

/// The command line's connection options, parsed as the binary does, and which were given.
fn cli(args: &[&str]) -> (ConnArgs, Given) {
    let mut argv = vec!["streamscope"];
    argv.extend_from_slice(args);
    let matches = <Cli as clap::CommandFactory>::command()
        .try_get_matches_from(&argv)
        .expect("parse");
    let parsed = Cli::try_parse_from(&argv).expect("parse");
    (parsed.conn, Given::from_matches(&matches))
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

const EXAMPLE: &str = include_str!("../../../docs/config.example.toml");

#[test]
fn the_shipped_example_means_what_it_says() {
    let c = Config::parse(
        EXAMPLE,
        Path::new("/home/u/.config/streamscope/config.toml"),
        &env,
    )
    .expect("docs/config.example.toml parses");
    assert_eq!(
        c.names(),
        ["openai", "prices-sse", "prices-ws", "staging"],
        "file order"
    );
    assert_eq!(c.theme.as_deref(), Some("default"));
    assert_eq!(c.metrics, Some("127.0.0.1:9464".parse().expect("addr")));
    assert_eq!(
        c.monitor_streams.as_deref(),
        Some(&["openai".to_owned(), "prices-sse".into(), "prices-ws".into()][..])
    );
    let s = |n: &str| &c.stream(n).expect("stream").settings;
    let openai = s("openai");
    assert_eq!(openai.target.as_ref().map(|t| t.proto), Some(Proto::Sse));
    assert_eq!(openai.method.as_deref(), Some("POST"));
    assert_eq!(
        openai.headers,
        [
            ("Authorization".to_owned(), "Bearer sk-test".to_owned()),
            ("Content-Type".into(), "application/json".into())
        ]
    );
    assert!(
        String::from_utf8_lossy(openai.body.as_deref().expect("body")).contains("\"stream\":true")
    );
    assert_eq!(openai.heartbeat, Some(Duration::from_secs(10)));
    assert_eq!(openai.connect_timeout, Some(Duration::from_secs(20)));
    assert_eq!(openai.reconnect, Some(false));
    assert_eq!(openai.theme.as_deref(), Some("high-contrast"));
    let sse = s("prices-sse");
    assert_eq!(
        sse.target.as_ref().map(|t| t.url.as_str()),
        Some("https://feed.example.test/prices?token=t0k")
    );
    assert_eq!(sse.seq.as_deref(), Some("/seq"));
    assert_eq!(sse.match_key.as_deref(), Some("/seq"));
    assert_eq!(sse.match_with.as_deref(), Some("prices-ws"));
    assert_eq!(sse.last_event_id.as_deref(), Some("0"));
    assert_eq!(sse.max_backoff, Some(Duration::from_secs(10)));
    assert_eq!(sse.max_retries, Some(100));
    assert_eq!(sse.max_redirects, Some(3));
    assert_eq!(sse.idle_timeout, Some(Duration::from_secs(30)));
    let ws = s("prices-ws");
    assert_eq!(ws.target.as_ref().map(|t| t.proto), Some(Proto::Ws));
    assert_eq!(
        ws.headers,
        [("Cookie".to_owned(), "session=s3ss".to_owned())]
    );
    assert_eq!(ws.subprotocols, ["prices.v1"]);
    assert_eq!(ws.send, ["{\"subscribe\":\"prices\"}"]);
    assert_eq!(ws.ping_interval, Some(Duration::from_secs(1)));
    assert_eq!(ws.auto_pong, Some(true));
    assert_eq!(ws.max_message, Some(1_048_576));
    assert_eq!(ws.reconnect, Some(true));
    assert_eq!(ws.count, Some(1_000_000));
    let staging = s("staging");
    assert_eq!(
        staging.cacert.as_deref(),
        Some(Path::new("/home/u/.config/streamscope/staging-ca.pem")),
        "relative to the file"
    );
    assert_eq!(staging.insecure, Some(false));
    assert_eq!(
        staging.proxy.as_deref(),
        Some("http://proxy.internal.test:3128")
    );

    // Opened together, the two price streams are paired by their key, and the first stream's
    // theme is the dashboard's.
    let (conn, given) = cli(&[]);
    let r = resolve(&args(&["prices-sse", "prices-ws"]), &conn, &given, Some(&c)).expect("resolve");
    assert_eq!(r.pairs, [(0, 1, "/seq".to_owned())]);
    let r = resolve(&args(&["openai"]), &conn, &given, Some(&c)).expect("resolve");
    assert_eq!(r.theme.as_deref(), Some("high-contrast"));
    let cfg = &r.plan.streams[0];
    assert_eq!(cfg.name.as_deref(), Some("openai"));
    assert_eq!(cfg.method, "POST");
    assert!(!cfg.reconnect);
    assert_eq!(cfg.heartbeat, Some(Duration::from_secs(10)));
}

#[test]
fn every_key_reaches_the_stream_config() {
    let c = parse(
        r#"
[streams.all]
url = "http://${HOST}/sse"
method = "put"
headers = { X-One = "1", X-Two = "${FEED_TOKEN}" }
body = "hello $$5"
last-event-id = "41"
subprotocols = ["a", "b"]
send = ["x"]
ping-interval = "250ms"
max-message = 1000
auto-pong = false
reconnect = false
max-retries = 4
max-backoff = "3s"
max-redirects = 2
connect-timeout = "1500ms"
idle-timeout = "9s"
heartbeat = "1s"
count = 7
seq = "/n"
decode = "stomp"
insecure = true
proxy = "http://127.0.0.1:3128"
theme = "light"
"#,
    )
    .expect("parse");
    let (conn, given) = cli(&[]);
    let r = resolve(&args(&["all"]), &conn, &given, Some(&c)).expect("resolve");
    let s = &r.plan.streams[0];
    assert_eq!(s.target.url.as_str(), "http://127.0.0.1:8080/sse");
    assert_eq!(s.method, "PUT");
    assert_eq!(
        s.headers,
        [
            ("X-One".to_owned(), "1".to_owned()),
            ("X-Two".into(), "t0k".into())
        ]
    );
    assert_eq!(s.body.as_deref(), Some(&b"hello $5"[..]));
    assert_eq!(s.last_event_id.as_deref(), Some("41"));
    assert_eq!(s.subprotocols, ["a", "b"]);
    assert_eq!(s.send, ["x"]);
    assert_eq!(s.ping_interval, Some(Duration::from_millis(250)));
    assert_eq!(s.max_message, 1000);
    assert!(!s.auto_pong);
    assert!(!s.reconnect);
    assert_eq!(s.max_retries, Some(4));
    assert_eq!(s.max_backoff, Duration::from_secs(3));
    assert_eq!(s.max_redirects, 2);
    assert_eq!(s.connect_timeout, Duration::from_millis(1500));
    assert_eq!(s.idle_timeout, Some(Duration::from_secs(9)));
    assert_eq!(s.heartbeat, Some(Duration::from_secs(1)));
    assert_eq!(s.count, Some(7));
    assert_eq!(s.seq_pointer.as_deref(), Some("/n"));
    assert_eq!(
        s.decode,
        crate::protocol::decode::Choice::Fixed(crate::protocol::decode::Protocol::Stomp)
    );
    assert!(s.tls_insecure());
    let proxied = s
        .proxies
        .for_url(&url::Url::parse("http://example.test/").expect("url"));
    assert_eq!(
        proxied.map(|u| u.to_string()),
        Some("http://127.0.0.1:3128/".to_owned())
    );
    assert_eq!(r.theme.as_deref(), Some("light"));
    assert_eq!(s.info().name.as_deref(), Some("all"));
}

#[test]
fn body_file_is_read_relative_to_the_config() {
    let dir = std::env::temp_dir().join(format!("streamscope-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("req.json"), b"{\"q\":1}").expect("write");
    let text = "[streams.a]\nurl = \"http://h/x\"\nbody-file = \"req.json\"\n";
    let c = Config::parse(text, &dir.join("config.toml"), &env).expect("parse");
    assert_eq!(
        c.streams[0].settings.body.as_deref(),
        Some(&b"{\"q\":1}"[..])
    );
    let missing = Config::parse(
        "[streams.a]\nurl = \"http://h/x\"\nbody-file = \"nope.json\"\n",
        &dir.join("config.toml"),
        &env,
    )
    .expect_err("missing file");
    assert!(
        missing.contains("config.toml:3: streams.a.body-file:"),
        "{missing}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flags_given_on_the_command_line_win() {
    let c = parse(
        "[streams.a]\nurl = \"ws://h/ws\"\nconnect-timeout = \"2s\"\nheartbeat = \"1s\"\nreconnect = true\nheaders = { A = \"file\", B = \"file\" }\n",
    )
    .expect("parse");
    // Not given: the file's values, over clap's defaults.
    let (conn, given) = cli(&[]);
    let s = &resolve(&args(&["a"]), &conn, &given, Some(&c))
        .expect("resolve")
        .plan
        .streams[0];
    assert_eq!(s.connect_timeout, Duration::from_secs(2));
    assert!(s.reconnect);
    // Given: the command line's, even when it equals clap's default.
    let (conn, given) = cli(&[
        "--connect-timeout",
        "10s",
        "--heartbeat",
        "5s",
        "--no-reconnect",
        "-H",
        "a: cli",
    ]);
    let s = &resolve(&args(&["a"]), &conn, &given, Some(&c))
        .expect("resolve")
        .plan
        .streams[0];
    assert_eq!(s.connect_timeout, Duration::from_secs(10));
    assert_eq!(s.heartbeat, Some(Duration::from_secs(5)));
    assert!(!s.reconnect);
    assert_eq!(
        s.headers,
        [
            ("B".to_owned(), "file".to_owned()),
            ("a".into(), "cli".into())
        ]
    );
}

#[test]
fn names_and_urls_mix_in_order() {
    let c = parse("[streams.one]\nurl = \"http://h/1\"\n\n[streams.two]\nurl = \"ws://h/2\"\n")
        .expect("parse");
    let (conn, given) = cli(&["--heartbeat", "3s"]);
    let r = resolve(
        &args(&["two", "http://x/y", "one"]),
        &conn,
        &given,
        Some(&c),
    )
    .expect("resolve");
    let got: Vec<(Option<&str>, &str, usize)> = r
        .plan
        .streams
        .iter()
        .map(|s| (s.name.as_deref(), s.target.url.as_str(), s.index))
        .collect();
    assert_eq!(
        got,
        [
            (Some("two"), "ws://h/2", 0),
            (None, "http://x/y", 1),
            (Some("one"), "http://h/1", 2)
        ]
    );
    // The command line's options apply to every stream, named or not.
    assert!(
        r.plan
            .streams
            .iter()
            .all(|s| s.heartbeat == Some(Duration::from_secs(3)))
    );
    // `--stream` names come after the positional ones.
    let cfg_args = crate::app::cli::ConfigArgs {
        streams: vec!["one".into()],
        file: None,
    };
    assert_eq!(cfg_args.targets(&args(&["two"])), ["two", "one"]);
}

#[test]
fn unknown_names_say_what_is_known() {
    let c = parse("[streams.one]\nurl = \"http://h/1\"\n").expect("parse");
    let (conn, given) = cli(&[]);
    let e = resolve(&args(&["onee"]), &conn, &given, Some(&c)).expect_err("unknown");
    assert_eq!(
        e,
        "'onee' is not a URL or a stream of /cfg/streamscope.toml (streams: one)"
    );
    let e = resolve(&args(&["x"]), &conn, &given, None).expect_err("no config");
    assert!(
        e.starts_with("'x' is not a URL, and there is no config file"),
        "{e}"
    );
}

#[test]
fn mistakes_are_one_line_with_file_line_and_key() {
    for (text, want) in [
        (
            "[streams.a]\nurl = \"http://h/\"\nbogus = 1\n",
            "/cfg/streamscope.toml:3: streams.a.bogus: unknown field `bogus`",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\n\nmax-retries = \"x\"\n",
            "/cfg/streamscope.toml:4: streams.a.max-retries: invalid type: string \"x\", expected u32",
        ),
        (
            "theme = 'x'\n[streams.a]\nmax-retries = 1\n",
            "/cfg/streamscope.toml:2: streams.a: missing field `url`",
        ),
        (
            "[streams.a]\nurl = \"ftp://h/\"\n",
            "/cfg/streamscope.toml:2: streams.a.url: 'ftp://h/' has unsupported scheme 'ftp'",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nheartbeat = \"2\"\n",
            "/cfg/streamscope.toml:3: streams.a.heartbeat: invalid duration '2'",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nheaders = { \"bad name\" = \"v\" }\n",
            "/cfg/streamscope.toml:3: streams.a.headers.bad name: invalid header name 'bad name'",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nseq = \"seq\"\n",
            "/cfg/streamscope.toml:3: streams.a.seq: 'seq' is not a JSON pointer",
        ),
        (
            "[streams.a]\nurl = \"ws://h/\"\ndecode = \"soap\"\n",
            "/cfg/streamscope.toml:3: streams.a.decode: unknown decoder 'soap' (expected one of: auto, socketio, graphql-ws, stomp, phoenix, jsonrpc, msgpack, cbor, raw)",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nmatch = \"seq\"\n",
            "/cfg/streamscope.toml:3: streams.a.match: 'seq': use a JSON pointer",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nmethod = \"GE T\"\n",
            "/cfg/streamscope.toml:3: streams.a.method: invalid HTTP method 'GE T'",
        ),
        (
            "[streams.a]\nurl = \"http://h/?k=${NOPE}\"\n",
            "/cfg/streamscope.toml:2: streams.a.url: environment variable NOPE is not set",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nmatch = \"/seq\"\nmatch-with = \"b\"\n",
            "/cfg/streamscope.toml:4: streams.a.match-with: no stream 'b' in this file",
        ),
        (
            "[streams.a]\nurl = \"http://h/\"\nmatch-with = \"a\"\n",
            "/cfg/streamscope.toml:3: streams.a.match-with: a stream cannot be matched with itself",
        ),
        (
            "[streams.\"-a\"]\nurl = \"http://h/\"\n",
            "/cfg/streamscope.toml:1: streams.-a: '-a' is not a usable stream name",
        ),
        (
            "[monitor]\nmetrics = \"nowhere\"\n",
            "/cfg/streamscope.toml:2: monitor.metrics: 'nowhere' is not an address",
        ),
        (
            "[monitor]\nstreams = [\"x\"]\n",
            "/cfg/streamscope.toml:2: monitor.streams: no stream 'x' in this file",
        ),
        (
            "[bogus]\n",
            "/cfg/streamscope.toml:1: bogus: unknown field `bogus`",
        ),
        ("[streams.a\nurl = 1\n", "/cfg/streamscope.toml:1: "),
        (
            "[streams.a]\nurl = \"http://h/\"\nbody = \"x\"\nbody-file = \"y\"\n",
            "/cfg/streamscope.toml:3: streams.a.body: give `body` or `body-file`, not both",
        ),
    ] {
        let e = parse(text).expect_err(text);
        assert!(e.starts_with(want), "{text:?}\n got: {e}\nwant: {want}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

#[test]
fn a_secret_from_the_environment_is_not_repeated_in_an_error() {
    let e = parse("[streams.a]\nurl = \"ftp://h/${FEED_TOKEN}\"\n").expect_err("bad scheme");
    assert!(!e.contains("t0k"), "{e}");
    assert!(e.contains("${FEED_TOKEN}"), "{e}");
}

#[test]
fn interpolation() {
    let e = |s: &str| interpolate(s, &env);
    assert_eq!(
        e("Bearer ${OPENAI_API_KEY}").as_deref(),
        Ok("Bearer sk-test")
    );
    assert_eq!(
        e("$$HOME and $5 and ${HOST}").as_deref(),
        Ok("$HOME and $5 and 127.0.0.1:8080")
    );
    assert_eq!(
        e("${NOPE}"),
        Err("environment variable NOPE is not set".to_owned())
    );
    assert!(e("${OPEN").is_err());
    assert!(e("${1X}").is_err());
    assert_eq!(e("no dollars").as_deref(), Ok("no dollars"));
}

#[test]
fn a_missing_file_is_an_error_only_when_named() {
    let e =
        Config::find(Some(Path::new("/nonexistent/streamscope.toml")), &env).expect_err("missing");
    assert!(
        e.starts_with("config file /nonexistent/streamscope.toml: "),
        "{e}"
    );
}

#[test]
fn pairs_from_match_keys() {
    let c = parse(
        "[streams.a]\nurl = \"http://h/a\"\nmatch = \"/seq\"\n\n[streams.b]\nurl = \"ws://h/b\"\n\n[streams.c]\nurl = \"ws://h/c\"\nmatch = \"id\"\nmatch-with = \"a\"\n",
    )
    .expect("parse");
    let (conn, given) = cli(&[]);
    // Two streams: `match` alone pairs them.
    let r = resolve(&args(&["b", "a"]), &conn, &given, Some(&c)).expect("resolve");
    assert_eq!(r.pairs, [(0, 1, "/seq".to_owned())]);
    // Three: only `match-with` says with which.
    let r = resolve(&args(&["a", "b", "c"]), &conn, &given, Some(&c)).expect("resolve");
    assert_eq!(r.pairs, [(0, 2, "id".to_owned())]);
}
