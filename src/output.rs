//! The headless sink: one JSON line per record on stdout (`--json`).
//!
//! It runs on its own thread with a blocking writer, so a slow or blocked stdout never stalls the
//! connection tasks (they stamp records when bytes are read, not when they are written here). Lines
//! are buffered and flushed whenever the channel runs dry, so interactive use sees records at once
//! while a firehose is written in large blocks.

use std::io::{self, Write};
use std::thread::JoinHandle;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::control::RecordBatch;

/// Writes every record from `rx` to `out` until the channel closes. Returns the first write error
/// (a closed pipe ends the sink early, which in turn stops the streams).
pub fn spawn_json_sink<W: Write + Send + 'static>(
    mut rx: UnboundedReceiver<RecordBatch>,
    out: W,
) -> JoinHandle<io::Result<()>> {
    std::thread::spawn(move || {
        let mut out = io::BufWriter::with_capacity(256 * 1024, out);
        let mut line = Vec::with_capacity(64 * 1024);
        while let Some(batch) = rx.blocking_recv() {
            write_batch(&mut out, &mut line, &batch)?;
            while let Ok(batch) = rx.try_recv() {
                write_batch(&mut out, &mut line, &batch)?;
            }
            out.flush()?;
        }
        out.flush()
    })
}

fn write_batch<W: Write>(out: &mut W, buf: &mut Vec<u8>, batch: &RecordBatch) -> io::Result<()> {
    buf.clear();
    for r in batch {
        r.write_json(buf);
    }
    out.write_all(buf)
}
