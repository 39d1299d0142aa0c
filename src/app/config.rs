//! The config file: named streams (`[streams.NAME]`), each with its URL and the options the command
//! line would otherwise have to repeat, a dashboard theme, and the `monitor` defaults.
//!
//! The file is TOML, read with serde (`deny_unknown_fields`) and toml's spans, so every mistake is
//! one line naming the file, the line and the key. String values may name environment variables
//! (`${OPENAI_API_KEY}`), so secrets stay out of the file. A name on the command line is looked up
//! here and becomes the same kind of [`StreamConfig`](crate::capture::config::StreamConfig) a URL
//! does ([`resolve`]): one path for both, and a flag given on the command line wins over the file.
//! docs/config.md describes the keys; docs/config.example.toml is a commented example that a test
//! reads back.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::app::cli::ConnArgs;
use crate::app::plan::Plan;
use crate::capture::config::{StreamConfig, Target};

/// The file's name in the config directory.
const FILE_NAME: &str = "config.toml";

/// Where the config file is read from when `--config` does not say: `$XDG_CONFIG_HOME/streamscope/
/// config.toml` (`~/.config/streamscope/config.toml`), on macOS too, as command-line users expect
/// (the `etcetera` crate's base strategy); `%APPDATA%\streamscope\config.toml` on Windows.
pub fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy as _;
    let base = etcetera::choose_base_strategy().ok()?;
    Some(base.config_dir().join("streamscope").join(FILE_NAME))
}

/// A config file, read and checked.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The dashboard theme (a built-in name or a theme file) when neither `--theme` nor an opened
    /// stream names one.
    pub theme: Option<String>,
    /// `[monitor] metrics`: where `streamscope monitor` serves its metrics without `--metrics`.
    pub metrics: Option<SocketAddr>,
    /// `[monitor] streams`: the streams `streamscope monitor` runs when given none (all otherwise).
    pub monitor_streams: Option<Vec<String>>,
    /// The named streams, in the order of the file.
    pub streams: Vec<NamedStream>,
}

/// One `[streams.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedStream {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub settings: StreamSettings,
}

/// What a named stream sets; `None` (or empty) leaves the command line's value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamSettings {
    /// `url`: http(s):// for SSE, ws(s):// for WebSocket.
    pub target: Option<Target>,
    /// `method` (SSE).
    pub method: Option<String>,
    /// `headers`, in the order of the file.
    pub headers: Vec<(String, String)>,
    /// `body` or `body-file` (SSE).
    pub body: Option<Vec<u8>>,
    /// `last-event-id` (SSE).
    pub last_event_id: Option<String>,
    /// `subprotocols` (WebSocket).
    pub subprotocols: Vec<String>,
    /// `send` (WebSocket).
    pub send: Vec<String>,
    /// `ping-interval` (WebSocket).
    pub ping_interval: Option<Duration>,
    /// `max-message` (WebSocket).
    pub max_message: Option<usize>,
    /// `auto-pong` (WebSocket).
    pub auto_pong: Option<bool>,
    /// `reconnect`: reconnect when the stream ends (SSE's default is true, WebSocket's false).
    pub reconnect: Option<bool>,
    /// `max-retries`.
    pub max_retries: Option<u32>,
    /// `max-backoff`.
    pub max_backoff: Option<Duration>,
    /// `max-redirects` (SSE).
    pub max_redirects: Option<u32>,
    /// `connect-timeout`.
    pub connect_timeout: Option<Duration>,
    /// `idle-timeout`.
    pub idle_timeout: Option<Duration>,
    /// `heartbeat`: the gap threshold.
    pub heartbeat: Option<Duration>,
    /// `count`.
    pub count: Option<u64>,
    /// `seq`: JSON pointer to a sequence number (`--seq`).
    pub seq: Option<String>,
    /// `decode` (WebSocket): the application protocol messages are read as.
    pub decode: Option<crate::protocol::decode::Choice>,
    /// `match`: the key pairing this stream's records with another's (`--match`).
    pub match_key: Option<String>,
    /// `match-with`: the stream it is paired with.
    pub match_with: Option<String>,
    /// `insecure`: do not verify TLS certificates.
    pub insecure: Option<bool>,
    /// `cacert`: extra CA certificates (PEM).
    pub cacert: Option<PathBuf>,
    /// `proxy`: HTTP CONNECT proxy.
    pub proxy: Option<String>,
    /// `theme`: the dashboard's theme when this stream is the first one opened.
    pub theme: Option<String>,
}

// The file as serde reads it: every value with its span, so a value that parses but makes no sense
// (a bad URL, a duration without a unit) is still reported at its line.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    theme: Option<Spanned<String>>,
    monitor: Option<RawMonitor>,
    #[serde(default)]
    streams: BTreeMap<Spanned<String>, Spanned<RawStream>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonitor {
    metrics: Option<Spanned<String>>,
    streams: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStream {
    url: Spanned<String>,
    method: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<Spanned<String>, Spanned<String>>,
    body: Option<Spanned<String>>,
    body_file: Option<Spanned<String>>,
    last_event_id: Option<Spanned<String>>,
    #[serde(default)]
    subprotocols: Vec<Spanned<String>>,
    #[serde(default)]
    send: Vec<Spanned<String>>,
    ping_interval: Option<Spanned<String>>,
    max_message: Option<usize>,
    auto_pong: Option<bool>,
    reconnect: Option<bool>,
    max_retries: Option<u32>,
    max_backoff: Option<Spanned<String>>,
    max_redirects: Option<u32>,
    connect_timeout: Option<Spanned<String>>,
    idle_timeout: Option<Spanned<String>>,
    heartbeat: Option<Spanned<String>>,
    count: Option<u64>,
    seq: Option<Spanned<String>>,
    decode: Option<Spanned<String>>,
    #[serde(rename = "match")]
    match_key: Option<Spanned<String>>,
    match_with: Option<Spanned<String>>,
    insecure: Option<bool>,
    cacert: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    theme: Option<Spanned<String>>,
}

/// Reads the environment for `${NAME}` (the process's own in the binary, a map in tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Config {
    /// Reads `path`; a missing file, bad TOML, an unknown key or a bad value is one line naming the
    /// file, the line and the key.
    pub fn load(path: &Path, env: Env<'_>) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        Config::parse(&text, path, env)
    }

    /// The config for a run: `--config FILE` (which must exist), or the default file when there is
    /// one, or none.
    pub fn find(explicit: Option<&Path>, env: Env<'_>) -> Result<Option<Config>, String> {
        if let Some(path) = explicit {
            return Config::load(path, env).map(Some);
        }
        match default_path() {
            Some(path) if path.is_file() => Config::load(&path, env).map(Some),
            _ => Ok(None),
        }
    }

    /// Parses a config file's text; `path` names it in errors and anchors `body-file`.
    pub fn parse(text: &str, path: &Path, env: Env<'_>) -> Result<Config, String> {
        let at = Locator { text, path };
        let raw: RawFile = toml::from_str(text).map_err(|e| at.toml_error(&e))?;
        let mut streams = raw.streams.into_iter().collect::<Vec<_>>();
        // The table keeps keys sorted; the file's order is the one a user expects (`monitor`).
        streams.sort_by_key(|(_, s)| s.span().start);
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut config = Config {
            path: path.to_path_buf(),
            theme: raw.theme.map(|t| at.text(&t, "theme", env)).transpose()?,
            ..Config::default()
        };
        for (name, stream) in streams {
            let key = format!("streams.{}", name.get_ref());
            check_name(name.get_ref()).map_err(|e| at.error(name.span(), &key, &e))?;
            let settings = at.stream(stream.into_inner(), &key, dir, env)?;
            config.streams.push(NamedStream {
                name: name.into_inner(),
                settings,
            });
        }
        if let Some(m) = raw.monitor {
            config.metrics = m
                .metrics
                .map(|a| {
                    let text = at.text(&a, "monitor.metrics", env)?;
                    crate::app::cli::parse_listen(&text)
                        .map_err(|e| at.error(a.span(), "monitor.metrics", &e))
                })
                .transpose()?;
            if let Some(names) = m.streams {
                let mut out = Vec::new();
                for n in names {
                    if config.stream(n.get_ref()).is_none() {
                        let e = format!("no stream '{}' in this file", n.get_ref());
                        return Err(at.error(n.span(), "monitor.streams", &e));
                    }
                    out.push(n.into_inner());
                }
                config.monitor_streams = Some(out);
            }
        }
        config.check_pairs(&at)?;
        Ok(config)
    }

    /// The named stream.
    pub fn stream(&self, name: &str) -> Option<&NamedStream> {
        self.streams.iter().find(|s| s.name == name)
    }

    /// The stream names, in the order of the file.
    pub fn names(&self) -> Vec<&str> {
        self.streams.iter().map(|s| s.name.as_str()).collect()
    }

    /// `match-with` must name another stream of the file.
    fn check_pairs(&self, at: &Locator<'_>) -> Result<(), String> {
        for s in &self.streams {
            if let Some(other) = &s.settings.match_with {
                let key = format!("streams.{}.match-with", s.name);
                let line = at.line_of_key(&key);
                let problem = if other == &s.name {
                    Some("a stream cannot be matched with itself".to_owned())
                } else if self.stream(other).is_none() {
                    Some(format!("no stream '{other}' in this file"))
                } else if s.settings.match_key.is_none() {
                    Some("needs `match` (the key to pair records by)".to_owned())
                } else {
                    None
                };
                if let Some(p) = problem {
                    return Err(format!("{}:{line}: {key}: {p}", at.path.display()));
                }
            }
        }
        Ok(())
    }
}

/// A stream name: letters, digits, `_`, `-` and `.`, not starting with `-` or `.`, and never
/// mistaken for a URL on the command line.
fn check_name(name: &str) -> Result<(), String> {
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a usable stream name (letters, digits, _ - and ., starting with a letter, digit or _)"
        ))
    }
}

/// Turns spans into `FILE:LINE: KEY: message`.
struct Locator<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        memchr::memchr_iter(b'\n', &self.text.as_bytes()[..end]).count() + 1
    }

    fn error(&self, span: Range<usize>, key: &str, message: &str) -> String {
        format!(
            "{}:{}: {key}: {}",
            self.path.display(),
            self.line(span.start),
            message.replace('\n', " ")
        )
    }

    /// A toml or serde error: toml gives the span of the offending key or value; the key is the
    /// last one that starts before the span ends (for "missing field", the table's own name).
    fn toml_error(&self, e: &toml::de::Error) -> String {
        let message = e.message().trim().replace('\n', " ");
        let Some(span) = e.span() else {
            return format!("{}: {message}", self.path.display());
        };
        match self.key_before(span.end) {
            Some(key) => self.error(span, &key, &message),
            None => format!(
                "{}:{}: {message}",
                self.path.display(),
                self.line(span.start)
            ),
        }
    }

    /// The dotted path of the last key of the document that starts before `end`.
    fn key_before(&self, end: usize) -> Option<String> {
        fn walk(
            table: &toml::de::DeTable<'_>,
            prefix: &str,
            end: usize,
            best: &mut Option<(usize, String)>,
        ) {
            for (k, v) in table {
                let path = if prefix.is_empty() {
                    k.get_ref().to_string()
                } else {
                    format!("{prefix}.{}", k.get_ref())
                };
                let start = k.span().start;
                if start < end && best.as_ref().is_none_or(|(s, _)| start >= *s) {
                    *best = Some((start, path.clone()));
                }
                if let toml::de::DeValue::Table(t) = v.get_ref() {
                    walk(t, &path, end, best);
                }
            }
        }
        let doc = toml::de::DeTable::parse(self.text).ok()?;
        let mut best = None;
        walk(doc.get_ref(), "", end, &mut best);
        best.map(|(_, p)| p)
    }

    /// The line of a key given by its dotted path, for checks made after parsing.
    fn line_of_key(&self, key: &str) -> usize {
        fn find(table: &toml::de::DeTable<'_>, parts: &[&str]) -> Option<usize> {
            let (first, rest) = parts.split_first()?;
            let (k, v) = table.iter().find(|(k, _)| k.get_ref() == first)?;
            if rest.is_empty() {
                return Some(k.span().start);
            }
            match v.get_ref() {
                toml::de::DeValue::Table(t) => find(t, rest),
                _ => None,
            }
        }
        let parts: Vec<&str> = key.split('.').collect();
        toml::de::DeTable::parse(self.text)
            .ok()
            .and_then(|doc| find(doc.get_ref(), &parts))
            .map_or(1, |offset| self.line(offset))
    }

    /// A string value with `${NAME}` replaced from the environment.
    fn text(&self, v: &Spanned<String>, key: &str, env: Env<'_>) -> Result<String, String> {
        interpolate(v.get_ref(), env).map_err(|e| self.error(v.span(), key, &e))
    }

    fn duration(&self, v: &Spanned<String>, key: &str, env: Env<'_>) -> Result<Duration, String> {
        let text = self.text(v, key, env)?;
        crate::app::cli::parse_duration(&text).map_err(|e| self.error(v.span(), key, &e))
    }

    fn pointer(&self, v: &Spanned<String>, key: &str) -> Result<String, String> {
        crate::app::cli::parse_pointer(v.get_ref()).map_err(|e| self.error(v.span(), key, &e))
    }

    /// `headers`, in the order of the file, each checked as `-H` would be.
    fn headers(
        &self,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
        prefix: &str,
        env: Env<'_>,
    ) -> Result<Vec<(String, String)>, String> {
        let mut raw: Vec<_> = raw.iter().collect();
        raw.sort_by_key(|(name, _)| name.span().start);
        raw.into_iter()
            .map(|(name, value)| {
                let key = format!("{prefix}.headers.{}", name.get_ref());
                let value = self.text(value, &key, env)?;
                crate::app::cli::parse_header(&format!("{}: {value}", name.get_ref()))
                    .map_err(|e| self.error(name.span(), &key, &e))
            })
            .collect()
    }

    /// `body`, or the contents of `body-file` (relative to the config file).
    fn body(
        &self,
        raw: &RawStream,
        prefix: &str,
        dir: &Path,
        env: Env<'_>,
    ) -> Result<Option<Vec<u8>>, String> {
        let k = |name: &str| format!("{prefix}.{name}");
        match (&raw.body, &raw.body_file) {
            (Some(b), Some(_)) => {
                let e = "give `body` or `body-file`, not both";
                Err(self.error(b.span(), &k("body"), e))
            }
            (Some(b), None) => Ok(Some(self.text(b, &k("body"), env)?.into_bytes())),
            (None, Some(f)) => {
                let file = dir.join(self.text(f, &k("body-file"), env)?);
                std::fs::read(&file).map(Some).map_err(|e| {
                    self.error(
                        f.span(),
                        &k("body-file"),
                        &format!("{}: {e}", file.display()),
                    )
                })
            }
            (None, None) => Ok(None),
        }
    }

    /// One `[streams.NAME]` table checked into its settings.
    fn stream(
        &self,
        raw: RawStream,
        prefix: &str,
        dir: &Path,
        env: Env<'_>,
    ) -> Result<StreamSettings, String> {
        let k = |name: &str| format!("{prefix}.{name}");
        let opt_text = |v: &Option<Spanned<String>>, name: &str| {
            v.as_ref().map(|v| self.text(v, &k(name), env)).transpose()
        };
        let opt_duration = |v: &Option<Spanned<String>>, name: &str| {
            v.as_ref()
                .map(|v| self.duration(v, &k(name), env))
                .transpose()
        };
        let list = |v: &[Spanned<String>], name: &str| {
            v.iter()
                .map(|s| self.text(s, &k(name), env))
                .collect::<Result<Vec<_>, _>>()
        };
        let url = self.text(&raw.url, &k("url"), env)?;
        let target = crate::app::cli::parse_target(&url)
            // The message quotes the URL: not after interpolation, which may have put a token in.
            .map_err(|e| {
                self.error(
                    raw.url.span(),
                    &k("url"),
                    &e.replace(&url, raw.url.get_ref()),
                )
            })?;
        let method = match &raw.method {
            Some(m) => {
                let text = self.text(m, &k("method"), env)?;
                if http::Method::from_bytes(text.as_bytes()).is_err() {
                    let e = format!("invalid HTTP method '{text}'");
                    return Err(self.error(m.span(), &k("method"), &e));
                }
                Some(text.to_ascii_uppercase())
            }
            None => None,
        };
        let headers = self.headers(&raw.headers, prefix, env)?;
        let body = self.body(&raw, prefix, dir, env)?;
        let decode = raw
            .decode
            .as_ref()
            .map(|d| {
                crate::protocol::decode::Choice::parse(d.get_ref())
                    .map_err(|e| self.error(d.span(), &k("decode"), &e))
            })
            .transpose()?;
        let match_key = match &raw.match_key {
            Some(m) => {
                crate::ingest::matcher::KeySpec::parse(m.get_ref())
                    .map_err(|e| self.error(m.span(), &k("match"), &e.replace("--match ", "")))?;
                Some(m.get_ref().clone())
            }
            None => None,
        };
        let settings = StreamSettings {
            target: Some(target),
            method,
            headers,
            body,
            last_event_id: opt_text(&raw.last_event_id, "last-event-id")?,
            subprotocols: list(&raw.subprotocols, "subprotocols")?,
            send: list(&raw.send, "send")?,
            decode,
            ping_interval: opt_duration(&raw.ping_interval, "ping-interval")?,
            max_message: raw.max_message,
            auto_pong: raw.auto_pong,
            reconnect: raw.reconnect,
            max_retries: raw.max_retries,
            max_backoff: opt_duration(&raw.max_backoff, "max-backoff")?,
            max_redirects: raw.max_redirects,
            connect_timeout: opt_duration(&raw.connect_timeout, "connect-timeout")?,
            idle_timeout: opt_duration(&raw.idle_timeout, "idle-timeout")?,
            heartbeat: opt_duration(&raw.heartbeat, "heartbeat")?,
            count: raw.count,
            seq: raw
                .seq
                .as_ref()
                .map(|s| self.pointer(s, &k("seq")))
                .transpose()?,
            match_key,
            match_with: raw.match_with.map(Spanned::into_inner),
            insecure: raw.insecure,
            cacert: opt_text(&raw.cacert, "cacert")?.map(|p| dir.join(p)),
            proxy: opt_text(&raw.proxy, "proxy")?,
            theme: opt_text(&raw.theme, "theme")?,
        };
        if let Some(p) = &settings.proxy {
            crate::capture::net::proxy::parse_proxy_url(p).map_err(|e| {
                let span = raw.proxy.as_ref().map_or(0..0, Spanned::span);
                self.error(span, &k("proxy"), &e)
            })?;
        }
        Ok(settings)
    }
}

/// Replaces `${NAME}` with the environment variable's value; `$$` is a literal `$`, and any other
/// `$` stays as it is. An unset variable is an error (a header sent as `Bearer ` is worse than no
/// request).
pub fn interpolate(s: &str, env: Env<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| "unterminated ${ (write $$ for a literal $)".to_owned())?;
            let name = &inner[..end];
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(format!("'${{{name}}}' is not an environment variable name"));
            }
            let value =
                env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Which options were given on the command line (clap's argument ids, the field names of
/// [`ConnArgs`] and [`OutputArgs`](crate::app::cli::OutputArgs)): those win over the config file;
/// the others, at their defaults, give way to it.
#[derive(Debug, Clone, Default)]
pub struct Given(HashSet<String>);

impl Given {
    /// The arguments of `matches` whose value came from the command line.
    pub fn from_matches(matches: &clap::ArgMatches) -> Given {
        Given(
            matches
                .ids()
                .filter(|id| {
                    matches.value_source(id.as_str())
                        == Some(clap::parser::ValueSource::CommandLine)
                })
                .map(|id| id.as_str().to_owned())
                .collect(),
        )
    }

    /// These argument ids, as if given (tests).
    pub fn of(ids: &[&str]) -> Given {
        Given(ids.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Whether the argument was given.
    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

/// What the command line's stream arguments came to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The streams, ready to run.
    pub plan: Plan,
    /// The theme of the first named stream that has one, else the file's.
    pub theme: Option<String>,
    /// Pairs to match: (position, position, key), from `match` / `match-with` of the named
    /// streams, or the `match` of one of exactly two streams.
    pub pairs: Vec<(usize, usize, String)>,
}

/// Whether a command-line argument is a URL rather than a stream name: names never hold a `:`,
/// so `mailto:x` is a URL (with a scheme to refuse), not a name to look up.
pub fn is_url(arg: &str) -> bool {
    arg.contains(':')
}

/// Turns stream arguments (URLs and names, mixed, in order) into a plan: names are looked up in
/// `config`, URLs taken as they are, and each named stream's settings applied over the command
/// line's options unless the option was given on the command line (`given`).
pub fn resolve(
    args: &[String],
    conn: &ConnArgs,
    given: &Given,
    config: Option<&Config>,
) -> Result<Resolved, String> {
    let mut urls = Vec::with_capacity(args.len());
    let mut named: Vec<Option<&NamedStream>> = Vec::with_capacity(args.len());
    for arg in args {
        if is_url(arg) {
            urls.push(arg.clone());
            named.push(None);
            continue;
        }
        let stream = config
            .and_then(|c| c.stream(arg))
            .ok_or_else(|| unknown_name(arg, config))?;
        // Plan::new checks the URL again; the config already did, so this cannot fail on it.
        urls.push(
            stream
                .settings
                .target
                .as_ref()
                .map_or_else(String::new, |t| t.url.to_string()),
        );
        named.push(Some(stream));
    }
    let mut plan = Plan::new(&urls, conn)?;
    for (cfg, stream) in plan.streams.iter_mut().zip(&named) {
        if let Some(stream) = stream {
            let cfg = Arc::make_mut(cfg);
            cfg.name = Some(stream.name.clone());
            apply(&stream.settings, cfg, conn, given)?;
        }
    }
    let theme = named
        .iter()
        .flatten()
        .find_map(|s| s.settings.theme.clone())
        .or_else(|| config.and_then(|c| c.theme.clone()));
    Ok(Resolved {
        pairs: pairs(&named),
        plan,
        theme,
    })
}

fn unknown_name(arg: &str, config: Option<&Config>) -> String {
    match config {
        Some(c) if c.streams.is_empty() => format!(
            "'{arg}' is not a URL, and {} names no streams",
            c.path.display()
        ),
        Some(c) => format!(
            "'{arg}' is not a URL or a stream of {} (streams: {})",
            c.path.display(),
            c.names().join(", ")
        ),
        None => format!(
            "'{arg}' is not a URL, and there is no config file naming streams ({}; or --config FILE)",
            default_path().map_or_else(
                || "no config directory".to_owned(),
                |p| p.display().to_string()
            )
        ),
    }
}

/// The pairs the named streams ask for: `match-with` names the other stream; a `match` without it
/// pairs the two streams of a two-stream run.
fn pairs(named: &[Option<&NamedStream>]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for (i, s) in named.iter().enumerate() {
        let Some(s) = s else { continue };
        let Some(key) = &s.settings.match_key else {
            continue;
        };
        let other = match &s.settings.match_with {
            Some(w) => named.iter().position(|o| o.is_some_and(|o| &o.name == w)),
            None if named.len() == 2 => Some(1 - i),
            None => None,
        };
        if let Some(j) = other {
            let pair = (i.min(j), i.max(j));
            if !out.iter().any(|(a, b, _)| (*a, *b) == pair) {
                out.push((pair.0, pair.1, key.clone()));
            }
        }
    }
    out
}

/// A named stream's settings over the command line's, where the command line did not give them.
fn apply(
    s: &StreamSettings,
    cfg: &mut StreamConfig,
    conn: &ConnArgs,
    given: &Given,
) -> Result<(), String> {
    fn set<T: Clone>(field: &mut T, value: Option<&T>, given: bool) {
        if let Some(v) = value
            && !given
        {
            field.clone_from(v);
        }
    }
    let g = |id: &str| given.has(id);
    set(&mut cfg.method, s.method.as_ref(), g("method"));
    set(
        &mut cfg.body,
        s.body.as_ref().map(|b| Some(b.clone())).as_ref(),
        g("data"),
    );
    set(
        &mut cfg.last_event_id,
        s.last_event_id.as_ref().map(|v| Some(v.clone())).as_ref(),
        g("last_event_id"),
    );
    if !s.subprotocols.is_empty() && !g("subprotocol") {
        cfg.subprotocols.clone_from(&s.subprotocols);
    }
    if !s.send.is_empty() && !g("send") {
        cfg.send.clone_from(&s.send);
    }
    set(
        &mut cfg.ping_interval,
        s.ping_interval.map(Some).as_ref(),
        g("ping_interval"),
    );
    set(
        &mut cfg.max_message,
        s.max_message.as_ref(),
        g("max_message"),
    );
    set(&mut cfg.auto_pong, s.auto_pong.as_ref(), g("no_auto_pong"));
    set(
        &mut cfg.reconnect,
        s.reconnect.as_ref(),
        g("reconnect") || g("no_reconnect"),
    );
    set(
        &mut cfg.max_retries,
        s.max_retries.map(Some).as_ref(),
        g("max_retries"),
    );
    set(
        &mut cfg.max_backoff,
        s.max_backoff.as_ref(),
        g("max_backoff"),
    );
    set(
        &mut cfg.max_redirects,
        s.max_redirects.as_ref(),
        g("max_redirects"),
    );
    set(
        &mut cfg.connect_timeout,
        s.connect_timeout.as_ref(),
        g("connect_timeout"),
    );
    set(
        &mut cfg.idle_timeout,
        s.idle_timeout.map(Some).as_ref(),
        g("idle_timeout"),
    );
    set(
        &mut cfg.heartbeat,
        s.heartbeat.map(Some).as_ref(),
        g("heartbeat"),
    );
    set(&mut cfg.count, s.count.map(Some).as_ref(), g("count"));
    set(
        &mut cfg.seq_pointer,
        s.seq.as_ref().map(|v| Some(v.clone())).as_ref(),
        g("seq"),
    );
    set(&mut cfg.decode, s.decode.as_ref(), g("decode"));
    apply_network(s, cfg, conn, given)
}

/// The settings that touch the request and the connection: headers, TLS, proxy.
fn apply_network(
    s: &StreamSettings,
    cfg: &mut StreamConfig,
    conn: &ConnArgs,
    given: &Given,
) -> Result<(), String> {
    let g = |id: &str| given.has(id);
    // Headers: the file's, then the command line's; a name given on the command line replaces the
    // file's header of that name.
    if !s.headers.is_empty() {
        let mut headers: Vec<(String, String)> = s
            .headers
            .iter()
            .filter(|(n, _)| !conn.headers.iter().any(|(c, _)| c.eq_ignore_ascii_case(n)))
            .cloned()
            .collect();
        headers.extend(conn.headers.iter().cloned());
        cfg.headers = headers;
    }
    let insecure = s.insecure.filter(|_| !g("insecure"));
    let cacert = s.cacert.as_ref().filter(|_| !g("cacert"));
    if insecure.is_some() || cacert.is_some() {
        let client_cert = conn.cert.as_deref().zip(conn.key.as_deref());
        cfg.tls = crate::capture::net::tls::TlsSettings::new(
            cacert.map(PathBuf::as_path).or(conn.cacert.as_deref()),
            insecure.unwrap_or(conn.insecure),
            client_cert,
        )?;
    }
    if let Some(p) = s.proxy.as_deref().filter(|_| !g("proxy")) {
        let explicit =
            crate::capture::net::proxy::parse_proxy_url(p).map_err(|e| format!("proxy: {e}"))?;
        cfg.proxies = crate::capture::net::proxy::ProxySettings::from_env(Some(explicit))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
