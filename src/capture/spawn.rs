//! Starting a session's connections: one task per stream, each a [`supervise`] loop over its
//! protocol's session, all sending records to one channel; and asking them all to stop.

use std::sync::Arc;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::capture::config::StreamConfig;
use crate::capture::control::Control;
use crate::capture::emitter::Emitter;
use crate::capture::sse::SseSession;
use crate::capture::supervise::supervise;
use crate::capture::ws::WsSession;
use crate::record::Proto;
use crate::record::batch::{Backlog, RecordBatch};

/// Running connection tasks.
#[derive(Debug)]
pub(crate) struct Running {
    /// Resolves to true when every stream has ended and any failed.
    pub done: JoinHandle<bool>,
    /// One per stream.
    pub controls: Vec<UnboundedSender<Control>>,
}

/// Spawns one task per stream; records go to the returned receiver, counted on `backlog`.
/// `json`: the consumer writes JSON lines (the tasks escape payload texts for it).
pub(crate) fn spawn_streams(
    streams: &[Arc<StreamConfig>],
    backlog: &Arc<Backlog>,
    json: bool,
) -> (Running, UnboundedReceiver<RecordBatch>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    let mut controls = Vec::new();
    for cfg in streams {
        let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
        let mut em = Emitter::new(cfg.index, cfg.proto(), tx.clone(), cfg.count, cfg.heartbeat);
        em.set_backlog(backlog.clone());
        if json {
            em.escape_payloads_for_json();
        }
        em.set_seq(
            cfg.seq_pointer.clone(),
            cfg.last_event_id
                .as_deref()
                .and_then(crate::capture::detect::parse_seq_str),
        );
        if cfg.proto() != Proto::Ws {
            let url = &cfg.target.url;
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            let stall = cfg.heartbeat.unwrap_or(crate::capture::llm::DEFAULT_STALL);
            em.set_llm(crate::capture::llm::LlmTracker::new(cfg.llm, &path, stall));
        }
        let cfg = cfg.clone();
        let task = tokio::spawn(async move {
            match cfg.proto() {
                // An http(s) URL starts as SSE; the response says whether it is JSON lines.
                Proto::Sse | Proto::Jsonl => {
                    supervise(SseSession::new(cfg.clone()), &cfg, em, ctl_rx).await
                }
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
pub(crate) fn shutdown(controls: &[UnboundedSender<Control>]) {
    for c in controls {
        let _ = c.send(Control::Shutdown);
    }
}
