//! The ingest stage between the sources (live connections, replay) and the consumer (`--json`
//! writer or dashboard): the one owner of `--match` pairing, the recording (`--record`) and the HAR
//! export (`--har`), so every sink sees the same records, `match` records included.
//!
//! It runs on its own thread with blocking file writes, like the JSON sink, so a slow disk never
//! stalls the connection tasks (they have already stamped their records). Without `--match`,
//! `--record`, `--har` or `--filter` it has nothing to do and there is no thread: the consumer reads the
//! sources' channel directly. Batches pass through in
//! order; the recording is flushed after every burst, so a crash loses at most the last moment.

use std::path::PathBuf;
use std::thread::JoinHandle;

use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::ingest::har::Export;
use crate::ingest::jq::JqFilter;
use crate::ingest::matcher::Matcher;
use crate::ingest::recording::{Header, Writer};
use crate::record::batch::RecordBatch;
use crate::record::{Kind, Proto, Record};

/// What the ingest stage does besides passing records on.
#[derive(Debug, Default)]
pub(crate) struct Ingest {
    /// `--match`: pairs streams 0 and 1.
    pub matcher: Option<Matcher>,
    /// `--record`: the open recording.
    pub recording: Option<Writer>,
    /// `--har`: where to write, and the collected entries.
    pub har: Option<(PathBuf, Export)>,
    /// Protocol of stream 0, for the summary record.
    pub proto0: Option<Proto>,
    /// `--filter`: the jq expression records must pass (already checked to compile), compiled
    /// on the stage's own thread.
    pub filter: Option<String>,
}

impl Ingest {
    /// Opens the sinks the output options ask for; errors are one line for exit code 2.
    pub(crate) fn open(
        header: &Header,
        matcher: Option<Matcher>,
        record: Option<&std::path::Path>,
        har: Option<&std::path::Path>,
    ) -> Result<Ingest, String> {
        let recording = record.map(|p| Writer::create(p, header)).transpose()?;
        let har = match har {
            Some(p) => {
                // Fail now rather than after a long session: the file must be writable.
                std::fs::File::create(p).map_err(|e| format!("--har {}: {e}", p.display()))?;
                Some((p.to_path_buf(), Export::new(header.streams.clone())))
            }
            None => None,
        };
        Ok(Ingest {
            matcher,
            recording,
            har,
            filter: None,
            proto0: header
                .streams
                .first()
                .and_then(crate::ingest::recording::StreamMeta::proto),
        })
    }

    /// True when the stage would only pass batches on: no `--match`, `--record`, `--har` or
    /// `--filter`.
    fn is_idle(&self) -> bool {
        self.matcher.is_none()
            && self.recording.is_none()
            && self.har.is_none()
            && self.filter.is_none()
    }

    /// Applies the stage to one batch: match records are inserted after the record that completed
    /// the pair; with `--filter`, the records that do not pass are dropped (after the HAR export,
    /// which needs the whole connection).
    fn process(&mut self, batch: RecordBatch, jq: Option<&JqFilter>) -> RecordBatch {
        let mut batch = self.pair_and_export(batch);
        if let Some(jq) = jq {
            let input = batch.replace(Vec::new());
            let kept: Vec<Record> = input.into_iter().filter(|r| jq.matches(r)).collect();
            batch.replace(kept);
        }
        batch
    }

    fn pair_and_export(&mut self, mut batch: RecordBatch) -> RecordBatch {
        let batch = match &mut self.matcher {
            Some(m) => {
                let mut out = Vec::with_capacity(batch.len());
                let input = batch.replace(Vec::new());
                for r in input {
                    // A recording replayed with --match is matched afresh, not twice.
                    if matches!(r.kind, Kind::Match { .. } | Kind::MatchSummary(_)) {
                        continue;
                    }
                    let pair = m.feed(&r);
                    out.push(r);
                    out.extend(pair);
                }
                batch.replace(out);
                batch
            }
            None => batch,
        };
        if let Some((_, har)) = &mut self.har {
            for r in &batch {
                har.add(r);
            }
        }
        batch
    }
}

/// Runs the stage; returns the receiver the consumer reads, and the thread, which ends when every
/// source has ended and reports the first write error of a file sink.
///
/// A stage with nothing to do (no `--match`, `--record`, `--har` or `--filter`) gets no thread: the sources'
/// receiver goes straight to the consumer, which saves a thread hop and a wake-up per batch.
pub(crate) fn spawn(
    ingest: Ingest,
    rx: UnboundedReceiver<RecordBatch>,
) -> (
    UnboundedReceiver<RecordBatch>,
    Option<JoinHandle<Result<(), String>>>,
) {
    if ingest.is_idle() {
        return (rx, None);
    }
    let (out_rx, handle) = spawn_thread(ingest, rx);
    (out_rx, Some(handle))
}

/// The stage's thread.
fn spawn_thread(
    mut ingest: Ingest,
    mut rx: UnboundedReceiver<RecordBatch>,
) -> (
    UnboundedReceiver<RecordBatch>,
    JoinHandle<Result<(), String>>,
) {
    let (tx, out_rx) = mpsc::unbounded_channel();
    let handle = std::thread::spawn(move || {
        // The expression compiled when the command line was read; compiling cannot fail here.
        let jq = ingest.filter.as_deref().and_then(|e| JqFilter::new(e).ok());
        let mut last_ts = None;
        let mut record_err: Option<String> = None;
        // After the first failure the recording is abandoned (reported at the end), the session
        // goes on.
        let write = |ingest: &mut Ingest, batch: &RecordBatch, err: &mut Option<String>| {
            if let Some(w) = &mut ingest.recording
                && err.is_none()
                && let Err(e) = w.write(batch)
            {
                *err = Some(format!("writing the recording failed: {e}"));
            }
        };
        while let Some(batch) = rx.blocking_recv() {
            let batch = ingest.process(batch, jq.as_ref());
            last_ts = batch.last().map(|r| r.ts_us).or(last_ts);
            write(&mut ingest, &batch, &mut record_err);
            // A consumer that has gone (dashboard quit) must not stop the recording.
            let _ = tx.send(batch);
            while let Ok(more) = rx.try_recv() {
                let more = ingest.process(more, jq.as_ref());
                last_ts = more.last().map(|r| r.ts_us).or(last_ts);
                write(&mut ingest, &more, &mut record_err);
                let _ = tx.send(more);
            }
            if let Some(w) = &mut ingest.recording
                && let Err(e) = w.flush()
            {
                record_err.get_or_insert(format!("writing the recording failed: {e}"));
            }
        }
        if let Some(m) = &ingest.matcher {
            let summary = Record::new(
                last_ts.unwrap_or(0),
                0,
                ingest.proto0.unwrap_or(Proto::Sse),
                Kind::MatchSummary(m.summary()),
            );
            let batch = RecordBatch::from(vec![summary]);
            write(&mut ingest, &batch, &mut record_err);
            let _ = tx.send(batch);
        }
        if let Some(w) = &mut ingest.recording
            && let Err(e) = w.flush()
        {
            record_err.get_or_insert(format!("writing the recording failed: {e}"));
        }
        if let Some(e) = record_err {
            return Err(e);
        }
        if let Some((path, har)) = ingest.har.take() {
            let doc = har.finish_all();
            let text = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
            std::fs::write(&path, text)
                .map_err(|e| format!("writing {} failed: {e}", path.display()))?;
        }
        Ok(())
    });
    (out_rx, handle)
}

/// Waits for the stage's thread, if it has one, without blocking the runtime.
pub(crate) async fn join(handle: Option<JoinHandle<Result<(), String>>>) -> Result<(), String> {
    let Some(handle) = handle else {
        return Ok(());
    };
    tokio::task::spawn_blocking(move || handle.join())
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_else(|_| Err("the ingest stage panicked".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::event;

    fn batch(data: &str) -> RecordBatch {
        RecordBatch::from(vec![event(1, data)])
    }

    #[tokio::test]
    async fn an_idle_stage_hands_the_sources_receiver_on_without_a_thread() {
        let (tx, rx) = mpsc::unbounded_channel();
        let (mut out, handle) = spawn(Ingest::default(), rx);
        assert!(handle.is_none(), "no --match, --record or --har: no thread");
        tx.send(batch("a")).expect("receiver alive");
        drop(tx);
        let got = out.recv().await.expect("the batch passes");
        assert_eq!(got.len(), 1);
        assert!(out.recv().await.is_none(), "ends when the sources end");
        assert_eq!(join(handle).await, Ok(()));
    }

    #[tokio::test]
    async fn a_stage_with_work_runs_its_thread() {
        let dir = std::env::temp_dir().join(format!("ss-stage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let har = dir.join("out.har");
        let header = Header::live(&[], None);
        let ingest = Ingest::open(&header, None, None, Some(&har)).expect("opens");
        let (tx, rx) = mpsc::unbounded_channel();
        let (mut out, handle) = spawn(ingest, rx);
        assert!(handle.is_some(), "--har needs the stage's thread");
        tx.send(batch("a")).expect("receiver alive");
        drop(tx);
        assert_eq!(out.recv().await.map(|b| b.len()), Some(1));
        assert!(out.recv().await.is_none());
        assert_eq!(join(handle).await, Ok(()));
        assert!(
            std::fs::metadata(&har).is_ok_and(|m| m.len() > 0),
            "the HAR was written"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
