//! The headless sink: one JSON line per record on stdout (`--json`).
//!
//! It runs on its own thread with a blocking writer, so a slow or blocked stdout never stalls the
//! connection tasks (they stamp records when bytes are read, not when they are written here). Lines
//! are buffered and written whenever the channel runs dry, so interactive use sees records at once
//! while a firehose is written in large blocks.

use std::io::{self, Write};
use std::thread::JoinHandle;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::record::batch::RecordBatch;
use crate::record::json::LineEncoder;

/// Output is written in blocks of about this size while records keep coming.
const BLOCK: usize = 256 * 1024;

/// Writes every record from `rx` to `out` until the channel closes. Returns the first write error
/// (a closed pipe ends the sink early, which in turn stops the streams).
///
/// Records are formatted straight into one reused block that is handed to `out` whole (no second
/// buffer, so no copy), whenever it is full and whenever the channel runs dry.
pub fn spawn_json_sink<W: Write + Send + 'static>(
    mut rx: UnboundedReceiver<RecordBatch>,
    mut out: W,
) -> JoinHandle<io::Result<()>> {
    std::thread::spawn(move || {
        let mut block = Vec::with_capacity(BLOCK + 64 * 1024);
        let mut enc = LineEncoder::new();
        while let Some(batch) = rx.blocking_recv() {
            write_batch(&mut out, &mut block, &mut enc, &batch)?;
            drop(batch);
            while let Ok(batch) = rx.try_recv() {
                write_batch(&mut out, &mut block, &mut enc, &batch)?;
            }
            out.write_all(&block)?;
            block.clear();
            out.flush()?;
        }
        out.flush()
    })
}

fn write_batch<W: Write>(
    out: &mut W,
    block: &mut Vec<u8>,
    enc: &mut LineEncoder,
    batch: &RecordBatch,
) -> io::Result<()> {
    for r in batch {
        enc.write(r, block);
        if block.len() >= BLOCK {
            out.write_all(block)?;
            block.clear();
        }
    }
    Ok(())
}
