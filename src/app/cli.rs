//! The command line: what the user can ask for, parsed and checked before anything connects.
//!
//! Parsing is clap's; this module adds the checks clap cannot express (URL schemes, header syntax,
//! `--data @file`) and turns them into one-line errors, so `main` can exit with code 2.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::capture::config::Target;
use crate::protocol::deflate;
use crate::record::Proto;

/// See, decode and measure what crosses the wire on a live SSE or WebSocket stream.
#[derive(Debug, Parser)]
#[command(
    name = "streamscope",
    version,
    long_version = long_version(),
    args_conflicts_with_subcommands = true,
    after_help = "http(s):// URLs are Server-Sent Events, ws(s):// URLs are WebSocket; any other word (no colon) is \
                  the name of a stream in the config file.\n\
                  Examples:\n  streamscope demo\n  streamscope --json --count 5 http://127.0.0.1:8080/sse\n  \
                  streamscope wss://example.test/feed https://example.test/events\n  \
                  streamscope openai anthropic            (names from ~/.config/streamscope/config.toml)\n\
                  Exit codes (the dashboard's and --json's):\n  \
                  0  the work ended as asked: the streams ended, --count or --duration reached, q, Ctrl-C\n  \
                  1  a stream failed and will not retry: --no-reconnect, --max-retries used up, a fatal error\n  \
                  2  a usage error (one line on stderr)"
)]
pub struct Cli {
    /// Subcommand (`serve`, `demo`); without one, watch the URLs given.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Stream URLs (http(s):// for SSE, ws(s):// for WebSocket) or names of streams in the config
    /// file, mixed; more than two open the dashboard on an overview of all of them.
    #[arg(value_name = "URL|NAME")]
    pub urls: Vec<String>,

    /// Config file and named streams.
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Connection options.
    #[command(flatten)]
    pub conn: ConnArgs,

    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded SSE + WebSocket server on 127.0.0.1.
    Serve(ServeArgs),
    /// Start the embedded server and open the dashboard on its SSE and WebSocket feeds.
    Demo(DemoArgs),
    /// Replay a recording (--record), a --json capture or a browser HAR file with its original timing.
    Replay(ReplayArgs),
    /// Watch streams headless until stopped, reconnecting, with Prometheus metrics (--metrics).
    Monitor(Box<MonitorArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
    /// The config file: where it is read from, its stream names, whether it is valid.
    Config(ConfigCommandArgs),
}

/// `--config` and `--stream`.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// Open this stream of the config file (repeatable; after the URLs and names given).
    #[arg(long = "stream", value_name = "NAME")]
    pub streams: Vec<String>,
    /// Read named streams from this file instead of ~/.config/streamscope/config.toml.
    #[arg(long = "config", id = "config_file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

impl ConfigArgs {
    /// The stream arguments: positional URLs and names, then `--stream` names.
    pub fn targets(&self, positional: &[String]) -> Vec<String> {
        positional.iter().chain(&self.streams).cloned().collect()
    }
}

/// `streamscope monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Stream URLs or config names; none: the config file's `[monitor] streams`, else all of its
    /// streams.
    #[arg(value_name = "URL|NAME")]
    pub targets: Vec<String>,
    /// Config file and named streams.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Serve Prometheus metrics on this address (`/metrics`; port 0 picks a free one, printed on
    /// stderr).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub metrics: Option<std::net::SocketAddr>,
    /// Also write one JSON record per line to stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write every record to FILE (replayable with `streamscope replay`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Pair the records of the first two streams by this key (JSON pointer or `id`) and export
    /// which delivers first and by how much.
    #[arg(long = "match", value_name = "KEY")]
    pub match_key: Option<String>,
    /// Connection options.
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `streamscope completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `streamscope config ACTION`.
#[derive(Debug, Args)]
pub struct ConfigCommandArgs {
    /// What to show.
    #[command(subcommand)]
    pub action: ConfigAction,
    /// The config file (default ~/.config/streamscope/config.toml).
    #[arg(
        long = "config",
        id = "config_file",
        value_name = "FILE",
        global = true
    )]
    pub file: Option<PathBuf>,
}

/// What `streamscope config` shows.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ConfigAction {
    /// Print the path of the config file.
    Path,
    /// Print the names of its streams, one a line (what shell completion offers).
    Names,
    /// Read the file and report the first mistake (exit 2) or `ok`.
    Check,
}

/// `streamscope replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A recording made with --record, a --json capture, or a HAR file saved from a browser.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Pace of the replay: a factor of the original (4 is four times as fast, 0.5 half) or `max`.
    #[arg(long, value_name = "FACTOR|max", value_parser = crate::replay::parse_speed, default_value = "1")]
    pub speed: crate::replay::Speed,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `streamscope serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Interval of the demo feed.
    #[arg(long, value_parser = parse_duration, default_value = "250ms")]
    pub tick: Duration,
    /// Serve this recording instead of the demo endpoints: stream N at /N, with its original
    /// timing, closes, refusals and reconnects.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// With --replay: pace of the replay, a factor of the original or `max`.
    #[arg(long, value_name = "FACTOR|max", value_parser = crate::replay::parse_speed, default_value = "1", requires = "replay")]
    pub speed: crate::replay::Speed,
    /// Also serve the endpoints over TLS (HTTP/2 or HTTP/1.1 by ALPN) on --tls-port, with a
    /// certificate generated at start (written to --cert-out) unless --cert/--key are given.
    #[arg(long, conflicts_with = "replay")]
    pub tls: bool,
    /// Port of the TLS listener (0 picks a free one).
    #[arg(long, value_name = "PORT", default_value_t = 8443, requires = "tls")]
    pub tls_port: u16,
    /// Server certificate chain (PEM) for --tls; needs --key.
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where the generated certificate is written, for a client's --cacert (default: a file in
    /// the temporary directory, printed at start).
    #[arg(long, value_name = "FILE", requires = "tls", conflicts_with = "cert")]
    pub cert_out: Option<PathBuf>,
}

/// `streamscope demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Interval of the demo feed.
    #[arg(long, value_parser = parse_duration, default_value = "250ms")]
    pub tick: Duration,
    /// Two mock LLM completions side by side instead (the embedded server's OpenAI and Anthropic
    /// formats, the same prompt, different timing and a stall): the LLM view and its comparison.
    #[arg(long)]
    pub llm: bool,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options shared by SSE and WebSocket connections.
#[derive(Debug, Args, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "command-line switches are booleans, one per flag"
)]
pub struct ConnArgs {
    /// Extra request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Do not verify TLS certificates.
    #[arg(long)]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file (besides the system's); a self-signed
    /// certificate in it that the server presents as its own is trusted too (its name and dates
    /// are still checked).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate chain (PEM) for mutual TLS; needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// HTTP/1.1 only (no `h2` in the TLS ALPN offer).
    #[arg(long = "http1.1", conflicts_with_all = ["http2", "http2_prior_knowledge"])]
    pub http1_1: bool,
    /// HTTP/2: on https:// as by default (ALPN h2, else HTTP/1.1); on wss://, WebSocket over
    /// HTTP/2 (RFC 8441) when the server allows it.
    #[arg(long, conflicts_with = "http2_prior_knowledge")]
    pub http2: bool,
    /// HTTP/2 without negotiation: h2c on http:// and ws://, ALPN h2 only on TLS.
    #[arg(long)]
    pub http2_prior_knowledge: bool,
    /// One HTTP/2 connection per URL, instead of one shared by the URLs of an origin.
    #[arg(long)]
    pub no_share: bool,
    /// HTTP proxy (CONNECT) for every URL; otherwise `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` apply.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Show Authorization, Cookie, Set-Cookie and token-like values instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Give up on a connection attempt after this long (TCP + TLS + response head).
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "10s")]
    pub connect_timeout: Duration,
    /// Never reconnect (an SSE GET reconnects by default, as EventSource does).
    #[arg(long, conflicts_with = "reconnect")]
    pub no_reconnect: bool,
    /// Reconnect when a stream ends: WebSocket streams, SSE requests other than GET (a POST is
    /// never sent again otherwise: it would be a second LLM completion), and streams that ended
    /// with an LLM end marker.
    #[arg(long)]
    pub reconnect: bool,
    /// Give up after this many consecutive failed reconnect attempts (a connection that opens but
    /// delivers nothing counts as failed); giving up exits 1.
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// SSE: follow at most N redirects per connection (each one is reported with a `redirect`
    /// lint); 0 reports a redirect as an error. WebSocket handshakes never follow redirects.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirects: u32,
    /// Upper bound of the reconnect backoff.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, default_value = "30s")]
    pub max_backoff: Duration,
    /// Raise a `gap` record when a stream is silent longer than this (e.g. 500ms, 2s).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub heartbeat: Option<Duration>,
    /// Stop each stream after N received events or messages.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop all streams after this long.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// SSE: HTTP method.
    #[arg(short = 'X', long, value_name = "METHOD", default_value = "GET")]
    pub method: String,
    /// SSE: request body, or `@FILE` to read it from a file. Once for every URL, or once per URL
    /// in order (the same prompt to two models or providers).
    #[arg(short = 'd', long, value_name = "BODY")]
    pub data: Vec<String>,
    /// LLM completions: read each chunk as this format (time to first token, inter-token
    /// latency, tokens/s, the assembled answer; an `llm_summary` record at the end; the end
    /// marker ends the stream). `auto` recognises it from the URL path, the Content-Type and the
    /// first chunks. A bare `--llm` is `--llm=auto`.
    #[arg(
        long,
        value_name = "auto|openai|responses|anthropic|gemini|ollama|off",
        value_parser = crate::protocol::llm::Mode::parse,
        default_value = "auto",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "auto"
    )]
    pub llm: crate::protocol::llm::Mode,
    /// SSE: send this `Last-Event-ID` on the first connection.
    #[arg(long, value_name = "ID")]
    pub last_event_id: Option<String>,

    /// WebSocket: offer this subprotocol (repeatable).
    #[arg(long, value_name = "P")]
    pub subprotocol: Vec<String>,
    /// WebSocket: send this text message after the connection opens (repeatable). A GraphQL
    /// document (`subscription { ... }`) is sent as graphql-transport-ws: `connection_init`,
    /// then, after the server's `connection_ack`, one `subscribe` per document (ids 1, 2, ...);
    /// that subprotocol is offered when no --subprotocol is given.
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// WebSocket: read messages as this application protocol, shown as a `decoded` object of
    /// fields (docs/decoders.md). `auto` decides from the negotiated subprotocol, the URL
    /// (`/socket.io/`, `EIO=4`) and the first messages; `raw` decodes nothing.
    #[arg(
        long,
        value_name = "auto|socketio|graphql-ws|stomp|phoenix|jsonrpc|msgpack|cbor|raw",
        value_parser = crate::protocol::decode::Choice::parse,
        default_value = "auto"
    )]
    pub decode: crate::protocol::decode::Choice,
    /// WebSocket (and SSE over HTTP/2): send a ping this often and measure the round trip.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub ping_interval: Option<Duration>,
    /// Records queued for the output before reading pauses (bounds memory when the output is
    /// slower than the stream; a `lint` record says when it happens). Default: 262,144 records for
    /// the dashboard; with --json, 768 KiB of queued records (about 2,300 of 100 bytes).
    #[arg(long, value_name = "N")]
    pub max_queue: Option<usize>,
    /// WebSocket: largest message accepted (bigger is a 1009 error).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_message: usize,
    /// Fail the connection (and reconnect per policy) when nothing arrives for this long.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// WebSocket: do not answer server pings automatically (neither WebSocket pings nor
    /// Engine.IO's ping `2`).
    #[arg(long)]
    pub no_auto_pong: bool,
    /// WebSocket: send every received text or binary message back unchanged, as an echo client
    /// does (conformance suites such as Autobahn, echo round-trip measurements).
    #[arg(long)]
    pub echo: bool,
    /// WebSocket: offer no extension (by default streamscope offers permessage-deflate as
    /// browsers do, and inflates what the server compresses).
    #[arg(long)]
    pub no_deflate: bool,
    /// WebSocket: the permessage-deflate offer to send instead of the browsers'
    /// (`permessage-deflate; client_max_window_bits`), e.g. with `client_no_context_takeover`
    /// or `server_max_window_bits=10`. Messages streamscope sends are compressed as agreed.
    #[arg(long, value_name = "OFFER", value_parser = parse_deflate_offer, conflicts_with = "no_deflate")]
    pub deflate_offer: Option<String>,
    /// SSE: ask for a compressed body (Accept-Encoding: gzip, deflate, br, zstd) and decode it
    /// as it streams. A body the server compresses unasked is decoded too.
    #[arg(long)]
    pub compressed: bool,
    /// Sequence number of each event/message at this JSON pointer in its data (e.g. /seq), to
    /// detect lost or repeated records (`id_gap`); without it, numeric SSE ids are used.
    #[arg(long, value_name = "POINTER", value_parser = parse_pointer)]
    pub seq: Option<String>,
}

/// Where records go.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Write one JSON record per line to stdout instead of the dashboard. Failures, reconnects
    /// and give-ups are also said on stderr, one line each (see --quiet).
    #[arg(long)]
    pub json: bool,
    /// With --json: say nothing on stderr about failures, reconnects and give-ups (the records
    /// on stdout still have them).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Dashboard theme: a built-in name (default, light, high-contrast, ansi16) or a TOML file.
    #[arg(long, value_name = "NAME|PATH", default_value = "default")]
    pub theme: String,
    /// Dashboard frame rate cap.
    #[arg(long, value_name = "FPS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub fps: u32,
    /// Records kept per stream for display (counters and stats always cover everything).
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    pub history: usize,
    /// Also write every record to FILE as JSON lines after a header line (replay it with
    /// `streamscope replay FILE`). Secrets are masked as on screen.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also write the session as a HAR 1.2 file (WebSocket messages in `_webSocketMessages`) at exit.
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// Pair the records of the two streams by a key from their data (a JSON pointer such as /seq,
    /// or `id` for the SSE event id) and measure which stream delivers each first; `none` turns off
    /// the demo's default (/seq).
    #[arg(long = "match", value_name = "KEY")]
    pub match_key: Option<String>,
    /// Keep only the records for which this jq expression is true, run on each record's JSON line
    /// (e.g. '.decoded.event == "tick"', '.data | fromjson | .symbol == "ACME"'): with --json, in
    /// the output and its --record file; in the dashboard, as the opening `/` filter.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
}

/// `streamscope --version`: the version, then what this build contains.
pub fn long_version() -> &'static str {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "{version}\n\
             protocols: sse (HTTP/1.1 and HTTP/2, WHATWG parser; gzip, deflate, br, zstd), ws (RFC 6455, own frame decoder; \
             RFC 8441 over HTTP/2; permessage-deflate), http2 (h2 crate, ALPN, h2c)\n\
             tls: rustls (ring), system roots, --cacert (a self-signed server certificate too), \
             client certificates\n\
             outputs: dashboard, json, record, har, replay, match, monitor (Prometheus text and OpenMetrics)\n\
             build: {profile}, {os}-{arch}, allocator mimalloc (binary)",
            version = env!("CARGO_PKG_VERSION"),
            profile = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            os = std::env::consts::OS,
            arch = std::env::consts::ARCH,
        )
    });
    TEXT.as_str()
}

/// `127.0.0.1:9464`, `[::1]:9464` or `localhost:9464`.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Some(port) = s.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(format!(
        "'{s}' is not an address to listen on (e.g. 127.0.0.1:9464)"
    ))
}

/// A `--deflate-offer`: one `permessage-deflate` offer with parameters RFC 7692 defines.
fn parse_deflate_offer(s: &str) -> Result<String, String> {
    deflate::check_offer(s).map(|()| s.trim().to_owned())
}

/// Parses `500ms`, `2s`, `1m30s` (humantime syntax).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| format!("invalid duration '{s}': {e}"))
}

/// Parses `Name: value`.
pub fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("header '{s}' must look like 'Name: value'"))?;
    let name = name.trim();
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("invalid header name '{name}'"));
    }
    let value = value.trim();
    if http::HeaderValue::from_str(value).is_err() {
        return Err(format!("invalid value for header '{name}'"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Checks a JSON pointer argument (RFC 6901: empty, or starting with `/`).
pub fn parse_pointer(s: &str) -> Result<String, String> {
    if s.is_empty() || s.starts_with('/') {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "'{s}' is not a JSON pointer (it must start with /, e.g. /seq)"
        ))
    }
}

/// Checks a URL argument: parseable, a supported scheme, a host.
pub fn parse_target(s: &str) -> Result<Target, String> {
    if crate::protocol::llm::Mode::parse(s).is_ok() {
        // `--llm openai`: the value of a flag with an optional value needs `=`.
        return Err(format!("'{s}' is not a URL (for --llm, write --llm={s})"));
    }
    let url = Url::parse(s).map_err(|e| format!("'{s}' is not a URL ({e})"))?;
    let proto = match url.scheme() {
        "http" | "https" => Proto::Sse,
        "ws" | "wss" => Proto::Ws,
        other => {
            return Err(format!(
                "'{s}' has unsupported scheme '{other}': use http(s):// for SSE or ws(s):// for WebSocket"
            ));
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{s}' has no host"));
    }
    Ok(Target { url, proto })
}

/// Reads `--data`: the text itself, or a file's contents for `@FILE`.
pub fn resolve_body(data: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    match data {
        None => Ok(None),
        Some(d) => match d.strip_prefix('@') {
            Some(path) => std::fs::read(path)
                .map(Some)
                .map_err(|e| format!("--data @{path}: {e}")),
            None => Ok(Some(d.as_bytes().to_vec())),
        },
    }
}

/// The body of each of `urls` URLs: `--data` given once is every URL's, given once per URL is
/// each one's in order.
pub fn resolve_bodies(data: &[String], urls: usize) -> Result<Vec<Option<Vec<u8>>>, String> {
    match data {
        [] => Ok(vec![None; urls]),
        [one] => Ok(vec![resolve_body(Some(one))?; urls]),
        many if many.len() == urls => many.iter().map(|d| resolve_body(Some(d))).collect(),
        many => Err(format!(
            "--data given {} times for {urls} URLs: give it once, or once per URL",
            many.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_pick_the_protocol() {
        assert_eq!(parse_target("http://h/x").map(|t| t.proto), Ok(Proto::Sse));
        assert_eq!(parse_target("wss://h/x").map(|t| t.proto), Ok(Proto::Ws));
        let err = parse_target("ftp://h/x").expect_err("ftp");
        assert!(err.contains("unsupported scheme 'ftp'"), "{err}");
        let err = parse_target("nonsense").expect_err("nonsense");
        assert!(err.contains("is not a URL"), "{err}");
        let err = parse_target("anthropic").expect_err("a --llm value");
        assert!(err.contains("write --llm=anthropic"), "{err}");
    }

    #[test]
    fn headers_need_a_colon_and_valid_name() {
        assert_eq!(
            parse_header("X-Key:  v 1 "),
            Ok(("X-Key".into(), "v 1".into()))
        );
        assert!(parse_header("novalue").is_err());
        assert!(parse_header("bad name: v").is_err());
    }

    #[test]
    fn durations_use_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("2").is_err());
    }
}
