//! Turning a command line into the streams to run: each URL and the connection options checked
//! and made into one [`StreamConfig`] per stream (the [`Plan`]), before anything connects.

use std::sync::Arc;
use std::time::Duration;

use crate::app::cli::ConnArgs;
use crate::capture::config::{HttpMode, StreamConfig, Target};
use crate::capture::net::tls::TlsSettings;
use crate::protocol::deflate;
use crate::record::{Proto, StreamInfo};

/// The streams to run, checked and ready.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One per URL.
    pub streams: Vec<Arc<StreamConfig>>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--max-queue`: records queued for the output before the streams pause reading; `None` for
    /// the default bound ([`Backlog::for_output`](crate::record::batch::Backlog::for_output)).
    pub max_queue: Option<usize>,
}

impl Plan {
    /// Checks the URLs and options; every error is one line for exit code 2.
    pub fn new(urls: &[String], conn: &ConnArgs) -> Result<Plan, String> {
        if urls.is_empty() {
            return Err("no URL given (try `streamscope demo`, or --help)".to_owned());
        }
        let targets = urls
            .iter()
            .map(|u| crate::app::cli::parse_target(u))
            .collect::<Result<Vec<Target>, String>>()?;
        let client_cert = conn.cert.as_deref().zip(conn.key.as_deref());
        let tls = TlsSettings::new(conn.cacert.as_deref(), conn.insecure, client_cert)?;
        let explicit_proxy = conn
            .proxy
            .as_deref()
            .map(crate::capture::net::proxy::parse_proxy_url)
            .transpose()
            .map_err(|e| format!("--proxy: {e}"))?;
        let proxies = crate::capture::net::proxy::ProxySettings::from_env(explicit_proxy)?;
        let bodies = crate::app::cli::resolve_bodies(&conn.data, targets.len())?;
        if http::Method::from_bytes(conn.method.as_bytes()).is_err() {
            return Err(format!("invalid HTTP method '{}'", conn.method));
        }
        let pool = crate::capture::pool::Pool::new(!conn.no_share);
        let http = if conn.http1_1 {
            HttpMode::Http1
        } else if conn.http2_prior_knowledge {
            HttpMode::PriorKnowledge
        } else if conn.http2 {
            HttpMode::Http2
        } else {
            HttpMode::Auto
        };
        let method = conn.method.to_ascii_uppercase();
        let streams = targets
            .into_iter()
            .zip(bodies)
            .enumerate()
            .map(|(index, (target, body))| {
                // An SSE GET reconnects by default (EventSource does). Any other request is not
                // sent again unless asked: a repeated POST is a second (paid) LLM completion.
                // WebSocket reconnects only with --reconnect.
                let reconnect = match target.proto {
                    Proto::Sse | Proto::Jsonl if method == "GET" => !conn.no_reconnect,
                    Proto::Sse | Proto::Jsonl | Proto::Ws => conn.reconnect,
                };
                Arc::new(StreamConfig {
                    index,
                    name: None,
                    proxies: proxies.clone(),
                    max_redirects: conn.max_redirects,
                    show_secrets: conn.show_secrets,
                    target,
                    headers: conn.headers.clone(),
                    tls: tls.clone(),
                    connect_timeout: conn.connect_timeout,
                    reconnect,
                    repeat_completed: conn.reconnect,
                    llm: conn.llm,
                    max_retries: conn.max_retries,
                    max_backoff: conn.max_backoff,
                    heartbeat: conn.heartbeat,
                    count: conn.count,
                    method: method.clone(),
                    body,
                    last_event_id: conn.last_event_id.clone(),
                    subprotocols: conn.subprotocol.clone(),
                    send: conn.send.clone(),
                    ping_interval: conn.ping_interval,
                    max_message: conn.max_message,
                    idle_timeout: conn.idle_timeout,
                    auto_pong: !conn.no_auto_pong,
                    echo: conn.echo,
                    decode: conn.decode,
                    seq_pointer: conn.seq.clone(),
                    http,
                    pool: pool.clone(),
                    deflate_offer: (!conn.no_deflate).then(|| {
                        conn.deflate_offer
                            .clone()
                            .unwrap_or_else(|| deflate::OFFER.to_owned())
                    }),
                    compressed: conn.compressed,
                })
            })
            .collect();
        Ok(Plan {
            streams,
            duration: conn.duration,
            max_queue: conn.max_queue,
        })
    }

    /// What the dashboard shows about each stream before records arrive.
    pub fn stream_infos(&self) -> Vec<StreamInfo> {
        self.streams.iter().map(|s| s.info()).collect()
    }
}
