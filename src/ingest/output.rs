//! The headless sink: one JSON line per record on stdout (`--json`).
//!
//! It runs on its own thread with a blocking writer, so a slow or blocked stdout never stalls the
//! connection tasks (they stamp records when bytes are read, not when they are written here). Lines
//! are buffered and written whenever the channel runs dry, so interactive use sees records at once
//! while a firehose is written in large blocks.
//!
//! Like curl, it also says on stderr what went wrong ([`Notes`]): one line per failure, reconnect
//! and give-up, so `streamscope --json URL | jq` is not silent about a stream that cannot connect,
//! while stdout stays pure JSON lines.

use std::io::{self, Write};
use std::thread::JoinHandle;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::record::batch::RecordBatch;
use crate::record::json::LineEncoder;
use crate::record::{Kind, Record};

/// Output is written in blocks of about this size while records keep coming.
const BLOCK: usize = 256 * 1024;

/// Writes every record from `rx` to `out` until the channel closes. Returns the first write error
/// (a closed pipe ends the sink early, which in turn stops the streams).
///
/// Records are formatted straight into one reused block that is handed to `out` whole (no second
/// buffer, so no copy), whenever it is full and whenever the channel runs dry.
pub fn spawn_json_sink<W: Write + Send + 'static>(
    rx: UnboundedReceiver<RecordBatch>,
    out: W,
) -> JoinHandle<io::Result<()>> {
    spawn_json_sink_with_notes(rx, out, None)
}

/// [`spawn_json_sink`], also writing [`Notes`] (failures, reconnects, give-ups) to their writer.
pub fn spawn_json_sink_with_notes<W: Write + Send + 'static>(
    mut rx: UnboundedReceiver<RecordBatch>,
    mut out: W,
    mut notes: Option<Notes>,
) -> JoinHandle<io::Result<()>> {
    // Named, so profiles and `top -H` tell it from the connection threads.
    let thread = std::thread::Builder::new().name("json-sink".to_owned());
    let spawned = thread.spawn(move || {
        let mut block = Vec::with_capacity(BLOCK + 64 * 1024);
        let mut enc = LineEncoder::new();
        while let Some(batch) = rx.blocking_recv() {
            write_batch(&mut out, &mut block, &mut enc, &batch)?;
            if let Some(n) = &mut notes {
                n.batch(&batch);
            }
            drop(batch);
            while let Ok(batch) = rx.try_recv() {
                write_batch(&mut out, &mut block, &mut enc, &batch)?;
                if let Some(n) = &mut notes {
                    n.batch(&batch);
                }
            }
            out.write_all(&block)?;
            block.clear();
            out.flush()?;
        }
        out.flush()
    });
    // As `std::thread::spawn` does: the OS refusing a thread at start-up is not recoverable here.
    spawned.expect("failed to spawn the JSON output thread")
}

/// The stderr lines of `--json` mode, as curl writes them: `streamscope: URL: what happened`, one
/// line per `error`, `reconnect` and failed `end` record. A stream that has not opened yet also
/// says, on its first reconnect, how to make it stop retrying.
pub struct Notes {
    /// How each stream is named in a line (its masked URL, `#N` first when there are several).
    labels: Vec<String>,
    /// Whether each stream has opened once.
    opened: Vec<bool>,
    /// Whether each stream's retry hint is still to be given.
    hint: Vec<bool>,
    /// The last error message of each stream (a failed `end` repeating it says only that it ended).
    last_error: Vec<Option<String>>,
    out: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notes")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

impl Notes {
    /// Notes for streams shown as `urls` (masked), written to `out` (stderr); `hint`: say how to
    /// stop retrying (when the streams retry without a `--max-retries`).
    pub fn new(urls: &[String], hint: bool, out: Box<dyn Write + Send>) -> Self {
        let labels = urls
            .iter()
            .enumerate()
            .map(|(i, u)| {
                if urls.len() > 1 {
                    format!("#{i} {u}")
                } else {
                    u.clone()
                }
            })
            .collect();
        Notes {
            labels,
            opened: vec![false; urls.len()],
            hint: vec![hint; urls.len()],
            last_error: vec![None; urls.len()],
            out,
        }
    }

    fn batch(&mut self, batch: &RecordBatch) {
        for r in batch {
            if matches!(
                r.kind,
                Kind::Open { .. } | Kind::Error { .. } | Kind::Reconnect { .. } | Kind::End { .. }
            ) && let Some(line) = self.line(r)
            {
                // stderr is unbuffered: one write per line keeps lines whole.
                let _ = self.out.write_all(line.as_bytes());
            }
        }
    }

    /// The line a record gives, if any (with its newline).
    pub fn line(&mut self, r: &Record) -> Option<String> {
        let i = r.stream;
        let label = self.labels.get(i)?.clone();
        let text = match &r.kind {
            Kind::Open { .. } => {
                self.opened[i] = true;
                return None;
            }
            Kind::Error {
                message, status, ..
            } => {
                self.last_error[i] = Some(message.clone());
                match status {
                    Some(s) if !message.contains(&s.to_string()) => {
                        format!("HTTP {s}: {message}")
                    }
                    _ => message.clone(),
                }
            }
            Kind::Reconnect {
                attempt, delay_ms, ..
            } => {
                let mut t = format!(
                    "reconnecting in {:.1} s (attempt {attempt})",
                    *delay_ms as f64 / 1000.0
                );
                if !self.opened[i] && self.hint[i] {
                    self.hint[i] = false;
                    t.push_str(
                        "; it retries until it connects, as EventSource does: \
                         --max-retries N gives up after N attempts, --no-reconnect at the first failure",
                    );
                }
                t
            }
            Kind::End {
                reason,
                failed: true,
            } => {
                if self.last_error[i].as_deref() == Some(reason.as_str()) {
                    "failed, not retrying".to_owned()
                } else {
                    format!("failed: {reason}")
                }
            }
            _ => return None,
        };
        Some(format!("streamscope: {label}: {text}\n"))
    }
}

fn write_batch<W: Write>(
    out: &mut W,
    block: &mut Vec<u8>,
    enc: &mut LineEncoder,
    batch: &RecordBatch,
) -> io::Result<()> {
    for (i, r) in batch.iter().enumerate() {
        enc.write_escaped(r, batch.escaped_payload(i), block);
        if block.len() >= BLOCK {
            out.write_all(block)?;
            block.clear();
        }
    }
    Ok(())
}
