//! Turning a command line into running streams: builds each stream's configuration, spawns one
//! connection task per URL, and runs the headless (`--json`) session to its exit code.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::cli::{ConnArgs, Target};
use crate::control::{Backlog, Control, RecordBatch, StreamInfo};
use crate::net::TlsSettings;
use crate::record::Proto;
use crate::sse::client::SseSession;
use crate::stream::{Emitter, StreamConfig, supervise};
use crate::ws::client::WsSession;

/// The streams to run, checked and ready.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One per URL.
    pub streams: Vec<Arc<StreamConfig>>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--max-queue`: records queued for the output before the streams pause reading.
    pub max_queue: usize,
}

impl Plan {
    /// Checks the URLs and options; every error is one line for exit code 2.
    pub fn new(urls: &[String], conn: &ConnArgs) -> Result<Plan, String> {
        if urls.is_empty() {
            return Err("no URL given (try `streamscope demo`, or --help)".to_owned());
        }
        let targets = urls
            .iter()
            .map(|u| crate::cli::parse_target(u))
            .collect::<Result<Vec<Target>, String>>()?;
        let client_cert = conn.cert.as_deref().zip(conn.key.as_deref());
        let tls = TlsSettings::new(conn.cacert.as_deref(), conn.insecure, client_cert)?;
        let explicit_proxy = conn
            .proxy
            .as_deref()
            .map(crate::net::proxy::parse_proxy_url)
            .transpose()
            .map_err(|e| format!("--proxy: {e}"))?;
        let proxies = crate::net::proxy::ProxySettings::from_env(explicit_proxy)?;
        let body = crate::cli::resolve_body(conn.data.as_deref())?;
        if http::Method::from_bytes(conn.method.as_bytes()).is_err() {
            return Err(format!("invalid HTTP method '{}'", conn.method));
        }
        let streams = targets
            .into_iter()
            .enumerate()
            .map(|(index, target)| {
                // SSE reconnects by default (EventSource does); WebSocket only with --reconnect.
                let reconnect = match target.proto {
                    Proto::Sse => !conn.no_reconnect,
                    Proto::Ws => conn.reconnect,
                };
                Arc::new(StreamConfig {
                    index,
                    proxies: proxies.clone(),
                    max_redirects: conn.max_redirects,
                    show_secrets: conn.show_secrets,
                    target,
                    headers: conn.headers.clone(),
                    tls: tls.clone(),
                    connect_timeout: conn.connect_timeout,
                    reconnect,
                    max_retries: conn.max_retries,
                    max_backoff: conn.max_backoff,
                    heartbeat: conn.heartbeat,
                    count: conn.count,
                    method: conn.method.to_ascii_uppercase(),
                    body: body.clone(),
                    last_event_id: conn.last_event_id.clone(),
                    subprotocols: conn.subprotocol.clone(),
                    send: conn.send.clone(),
                    ping_interval: conn.ping_interval,
                    max_message: conn.max_message,
                    idle_timeout: conn.idle_timeout,
                    auto_pong: !conn.no_auto_pong,
                    seq_pointer: conn.seq.clone(),
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
        self.streams
            .iter()
            .map(|s| StreamInfo {
                index: s.index,
                proto: s.proto(),
                display_url: crate::redact::display_url(&s.target.url),
                heartbeat_ms: s.heartbeat.map(|d| d.as_millis() as u64),
                insecure: crate::net::is_tls(&s.target.url) && s.tls_insecure(),
            })
            .collect()
    }
}

/// Running connection tasks.
#[derive(Debug)]
pub struct Running {
    /// Resolves to true when every stream has ended and any failed.
    pub done: JoinHandle<bool>,
    /// One per stream.
    pub controls: Vec<UnboundedSender<Control>>,
}

/// Spawns one task per stream; records go to the returned receiver.
pub fn spawn_streams(plan: &Plan) -> (Running, UnboundedReceiver<RecordBatch>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let backlog = Backlog::new(plan.max_queue);
    let mut tasks = Vec::new();
    let mut controls = Vec::new();
    for cfg in &plan.streams {
        let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
        let mut em = Emitter::new(cfg.index, cfg.proto(), tx.clone(), cfg.count, cfg.heartbeat);
        em.set_backlog(backlog.clone());
        em.set_seq(
            cfg.seq_pointer.clone(),
            cfg.last_event_id
                .as_deref()
                .and_then(crate::detect::parse_seq_str),
        );
        let cfg = cfg.clone();
        let task = tokio::spawn(async move {
            match cfg.proto() {
                Proto::Sse => supervise(SseSession::new(cfg.clone()), &cfg, em, ctl_rx).await,
                Proto::Ws => supervise(WsSession::new(cfg.clone()), &cfg, em, ctl_rx).await,
            }
        });
        tasks.push(task);
        controls.push(ctl_tx);
    }
    let done = tokio::spawn(async move {
        let mut any_failed = false;
        for t in tasks {
            // A panicked task is a failed stream (and a bug), never a silent success.
            any_failed |= t.await.unwrap_or(true);
        }
        any_failed
    });
    (Running { done, controls }, rx)
}

/// Asks every stream to close gracefully.
pub fn shutdown(controls: &[UnboundedSender<Control>]) {
    for c in controls {
        let _ = c.send(Control::Shutdown);
    }
}

/// Runs `--json` mode to completion and returns the exit code.
pub async fn run_json(plan: &Plan) -> i32 {
    let (running, rx) = spawn_streams(plan);
    run_json_on(running, rx, plan.duration).await
}

/// Writes JSON lines for whatever source feeds `rx` (live streams, a replay) until it ends, Ctrl-C,
/// or `duration`; returns the exit code.
pub async fn run_json_on(
    running: Running,
    rx: UnboundedReceiver<RecordBatch>,
    duration: Option<Duration>,
) -> i32 {
    let Running { mut done, controls } = running;
    let sink = crate::output::spawn_json_sink(rx, std::io::stdout());
    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let finished = tokio::select! {
        r = &mut done => Some(r),
        () = deadline => None,
        _ = tokio::signal::ctrl_c() => None,
    };
    let failed = if let Some(r) = finished {
        r.unwrap_or(true)
    } else {
        shutdown(&controls);
        done.await.unwrap_or(true)
    };
    drop(controls);
    let sink_result = tokio::task::spawn_blocking(move || sink.join())
        .await
        .ok()
        .and_then(Result::ok);
    match sink_result {
        Some(Err(e)) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("streamscope: writing output failed: {e}");
            1
        }
        _ => i32::from(failed),
    }
}
