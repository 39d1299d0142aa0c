//! How records travel from the connection tasks to the consumer: in batches ([`RecordBatch`]),
//! usually one per socket read, over one shared channel, each batch holding a ticket on the
//! session's [`Backlog`] so a slow consumer bounds memory instead of growing it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::record::Record;

/// How many records may wait between the connection tasks and the final consumer (JSON writer or
/// dashboard) before the tasks stop reading. About 80 MB of 100-byte records.
pub const BACKLOG_LIMIT: usize = 256 * 1024;

/// Records queued but not yet consumed, shared by every producer and the consumer of a session.
///
/// Records are stamped when their bytes are read, so the channel between reader and writer is
/// never allowed to slow the reads down on a short stall (a blocked stdout for a few seconds
/// shifts no timestamp). But a consumer that stays slower than the stream would otherwise queue
/// without bound; past [`BACKLOG_LIMIT`] the connection tasks pause reading (the kernel's socket
/// buffers and then TCP flow control hold the rest) and say so with a `lint` record.
#[derive(Debug)]
pub struct Backlog {
    queued: AtomicUsize,
    room: Notify,
    limit: usize,
}

impl Backlog {
    /// A backlog that counts as full at `limit` queued records.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Backlog {
            queued: AtomicUsize::new(0),
            room: Notify::new(),
            limit: limit.max(1),
        })
    }

    /// Records queued now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// True while producers should pause.
    pub fn is_full(&self) -> bool {
        self.queued() >= self.limit
    }

    /// Resolves once the backlog is below its limit.
    pub async fn wait_for_room(&self) {
        loop {
            let notified = self.room.notified();
            if !self.is_full() {
                return;
            }
            notified.await;
        }
    }

    fn release(&self, n: usize) {
        let before = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                Some(q.saturating_sub(n))
            })
            .unwrap_or(0);
        if before >= self.limit && before.saturating_sub(n) < self.limit {
            self.room.notify_waiters();
        }
    }
}

/// A batch's claim on the backlog, given back when the batch is dropped (by the final consumer).
#[derive(Debug)]
struct Ticket {
    backlog: Arc<Backlog>,
    n: usize,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.backlog.release(self.n);
    }
}

/// Records that arrived together (usually from one socket read), sent over the channel as one unit
/// so a firehose costs one channel operation per read, not per record. Live batches carry a ticket
/// on the session's [`Backlog`], returned when the consumer drops the batch.
#[derive(Debug, Default)]
pub struct RecordBatch {
    records: Vec<Record>,
    _ticket: Option<Ticket>,
}

impl RecordBatch {
    /// A batch counted on `backlog` until it is dropped.
    pub fn counted(records: Vec<Record>, backlog: &Arc<Backlog>) -> Self {
        let n = records.len();
        backlog.queued.fetch_add(n, Ordering::AcqRel);
        RecordBatch {
            records,
            _ticket: Some(Ticket {
                backlog: backlog.clone(),
                n,
            }),
        }
    }

    /// Replaces the records, keeping the batch's claim on the backlog (a stage that rebuilds a
    /// batch must not release it before the consumer has it).
    pub fn replace(&mut self, records: Vec<Record>) -> Vec<Record> {
        std::mem::replace(&mut self.records, records)
    }
}

impl From<Vec<Record>> for RecordBatch {
    fn from(records: Vec<Record>) -> Self {
        RecordBatch {
            records,
            _ticket: None,
        }
    }
}

impl std::ops::Deref for RecordBatch {
    type Target = Vec<Record>;
    fn deref(&self) -> &Vec<Record> {
        &self.records
    }
}

impl std::ops::DerefMut for RecordBatch {
    fn deref_mut(&mut self) -> &mut Vec<Record> {
        &mut self.records
    }
}

impl IntoIterator for RecordBatch {
    type Item = Record;
    type IntoIter = std::vec::IntoIter<Record>;
    fn into_iter(mut self) -> Self::IntoIter {
        std::mem::take(&mut self.records).into_iter()
    }
}

impl<'a> IntoIterator for &'a RecordBatch {
    type Item = &'a Record;
    type IntoIter = std::slice::Iter<'a, Record>;
    fn into_iter(self) -> Self::IntoIter {
        self.records.iter()
    }
}
