//! How records travel from the connection tasks to the consumer: in batches ([`RecordBatch`]),
//! usually one per socket read, over one shared channel, each batch holding a ticket on the
//! session's [`Backlog`] so a slow consumer bounds memory instead of growing it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::record::Record;
use crate::record::json::EscapedPayloads;

/// How many records may wait between the connection tasks and the final consumer (JSON writer or
/// dashboard) before the tasks stop reading. About 80 MB of 100-byte records.
pub const BACKLOG_LIMIT: usize = 256 * 1024;

/// With `--json` and no `--max-queue`, the queue is bounded by its size instead: the records'
/// [`queued_size`] may add up to this much (about 2,300 records of 100 bytes, a few socket reads'
/// worth) before reading pauses. A JSON writer on a firehose is the slower side, so a deeper queue
/// only holds memory: on 1M events of 100 bytes, 262,144 records reached 100-120 MB of RSS and
/// 4 MiB 25-34 MB, no faster (docs/performance.md, "Round three, phase 2").
pub const JSON_BACKLOG_BYTES: usize = 768 << 10;

/// What a queued record is counted as against a byte bound: the record itself plus the bytes it
/// took on the wire (its data, roughly, which is what it holds on the heap).
pub fn queued_size(r: &Record) -> usize {
    let wire = r
        .wire_bytes
        .map_or(0, |w| usize::try_from(w).unwrap_or(usize::MAX));
    std::mem::size_of::<Record>().saturating_add(wire)
}

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
    /// The [`queued_size`] of the queued records.
    queued_bytes: AtomicUsize,
    room: Notify,
    limit: usize,
    /// `usize::MAX` when only records count.
    byte_limit: usize,
}

impl Backlog {
    /// A backlog that counts as full at `limit` queued records.
    pub fn new(limit: usize) -> Arc<Self> {
        Self::bounded(limit, usize::MAX)
    }

    /// A backlog that counts as full at `limit` queued records or when their [`queued_size`]
    /// reaches `byte_limit`, whichever comes first.
    pub fn bounded(limit: usize, byte_limit: usize) -> Arc<Self> {
        Arc::new(Backlog {
            queued: AtomicUsize::new(0),
            queued_bytes: AtomicUsize::new(0),
            room: Notify::new(),
            limit: limit.max(1),
            byte_limit: byte_limit.max(1),
        })
    }

    /// The session's backlog: `--max-queue` records when given (and nothing else); otherwise
    /// [`JSON_BACKLOG_BYTES`] of records for `--json` (where the writer, not a person, reads them,
    /// and the bound is what keeps its memory small), [`BACKLOG_LIMIT`] records for the dashboard.
    pub fn for_output(max_queue: Option<usize>, json: bool) -> Arc<Self> {
        match (max_queue, json) {
            (Some(n), _) => Self::new(n),
            (None, true) => Self::bounded(BACKLOG_LIMIT, JSON_BACKLOG_BYTES),
            (None, false) => Self::new(BACKLOG_LIMIT),
        }
    }

    /// The [`queued_size`] of the records queued now.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::Acquire)
    }

    /// Records queued now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// True when at least half of the bound is taken: the consumer is behind the producers.
    pub fn half_full(&self) -> bool {
        2 * self.queued() >= self.limit || self.queued_bytes() >= self.byte_limit / 2
    }

    /// True while producers should pause.
    pub fn is_full(&self) -> bool {
        self.queued() >= self.limit || self.queued_bytes() >= self.byte_limit
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

    fn release(&self, n: usize, bytes: usize) {
        let sub = |counter: &AtomicUsize, k: usize| {
            counter
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                    Some(q.saturating_sub(k))
                })
                .unwrap_or(0)
        };
        let before = sub(&self.queued, n);
        let before_bytes = sub(&self.queued_bytes, bytes);
        // Wake the paused producers when this release took the backlog from full to not full.
        let was_full = before >= self.limit || before_bytes >= self.byte_limit;
        if was_full && !self.is_full() {
            self.room.notify_waiters();
        }
    }
}

/// A batch's claim on the backlog, given back when the batch is dropped (by the final consumer).
#[derive(Debug)]
struct Ticket {
    backlog: Arc<Backlog>,
    n: usize,
    bytes: usize,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.backlog.release(self.n, self.bytes);
    }
}

/// Records that arrived together (usually from one socket read), sent over the channel as one unit
/// so a firehose costs one channel operation per read, not per record. Live batches carry a ticket
/// on the session's [`Backlog`], returned when the consumer drops the batch.
#[derive(Debug, Default)]
pub struct RecordBatch {
    records: Vec<Record>,
    /// The records' payload texts as JSON, when the producer escaped them for a JSON sink
    /// ([`escape_payloads`](Self::escape_payloads)); dropped by any change to the records.
    escaped: Option<EscapedPayloads>,
    ticket: Option<Ticket>,
}

impl RecordBatch {
    /// A batch counted on `backlog` until it is dropped.
    pub fn counted(records: Vec<Record>, backlog: &Arc<Backlog>) -> Self {
        let n = records.len();
        // Summed only when it bounds anything: the dashboard's backlog counts records alone.
        let bytes = if backlog.byte_limit == usize::MAX {
            0
        } else {
            records
                .iter()
                .map(queued_size)
                .fold(0, usize::saturating_add)
        };
        backlog.queued.fetch_add(n, Ordering::AcqRel);
        backlog.queued_bytes.fetch_add(bytes, Ordering::AcqRel);
        RecordBatch {
            records,
            escaped: None,
            ticket: Some(Ticket {
                backlog: backlog.clone(),
                n,
                bytes,
            }),
        }
    }

    /// Replaces the records, keeping the batch's claim on the backlog (a stage that rebuilds a
    /// batch must not release it before the consumer has it).
    pub fn replace(&mut self, records: Vec<Record>) -> Vec<Record> {
        self.escaped = None;
        std::mem::replace(&mut self.records, records)
    }

    /// Escapes the records' payload texts for a JSON sink now, on the producer's thread (see
    /// [`EscapedPayloads`]); a byte-bounded backlog counts what they hold.
    pub fn escape_payloads(&mut self) {
        let escaped = EscapedPayloads::of(&self.records);
        if let Some(t) = &mut self.ticket
            && t.backlog.byte_limit != usize::MAX
        {
            let size = escaped.size();
            t.backlog.queued_bytes.fetch_add(size, Ordering::AcqRel);
            t.bytes += size;
        }
        self.escaped = Some(escaped);
    }

    /// The JSON string of record `i`'s payload text, when the producer escaped it.
    pub fn escaped_payload(&self, i: usize) -> Option<&[u8]> {
        self.escaped.as_ref()?.get(i)
    }
}

impl From<Vec<Record>> for RecordBatch {
    fn from(records: Vec<Record>) -> Self {
        RecordBatch {
            records,
            escaped: None,
            ticket: None,
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
        // The records may change: their escaped payloads no longer hold.
        self.escaped = None;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::event;

    fn records(n: usize, wire: u64) -> Vec<Record> {
        std::iter::repeat_with(|| event(1, "x").wire(wire))
            .take(n)
            .collect()
    }

    #[test]
    fn a_byte_bound_fills_before_the_record_bound_and_empties_on_drop() {
        let one = queued_size(&event(0, "x").wire(1000));
        assert_eq!(one, std::mem::size_of::<Record>() + 1000);
        let backlog = Backlog::bounded(1000, 10 * one);
        let first = RecordBatch::counted(records(9, 1000), &backlog);
        assert!(!backlog.is_full(), "9 records' worth of 10");
        assert_eq!(backlog.queued_bytes(), 9 * one);
        let second = RecordBatch::counted(records(1, 1000), &backlog);
        assert!(
            backlog.is_full(),
            "10 records reach the byte bound, not the record bound"
        );
        drop(second);
        assert!(!backlog.is_full());
        drop(first);
        assert_eq!((backlog.queued(), backlog.queued_bytes()), (0, 0));
    }

    #[test]
    fn escaped_payloads_are_counted_and_go_when_the_records_may_change() {
        let one = queued_size(&event(0, "x").wire(100));
        let backlog = Backlog::bounded(1000, 100 * one);
        let mut batch = RecordBatch::counted(records(3, 100), &backlog);
        assert!(!backlog.half_full());
        batch.escape_payloads();
        assert_eq!(batch.escaped_payload(2), Some(&b"\"x\""[..]));
        let escaped = backlog.queued_bytes() - 3 * one;
        assert!(escaped >= 9, "the escaped strings are counted: {escaped}");
        // Anything that may change the records drops what no longer holds.
        let _ = batch.iter_mut();
        assert_eq!(batch.escaped_payload(2), None);
        batch.escape_payloads();
        batch.replace(records(1, 100));
        assert_eq!(batch.escaped_payload(0), None);
        drop(batch);
        assert_eq!((backlog.queued(), backlog.queued_bytes()), (0, 0));
        // Half the byte bound taken: the consumer is behind.
        let half = RecordBatch::counted(records(50, 100), &backlog);
        assert!(backlog.half_full() && !backlog.is_full());
        drop(half);
        assert!(!backlog.half_full());
    }

    #[test]
    fn a_record_bound_ignores_sizes() {
        let backlog = Backlog::new(3);
        let big = RecordBatch::counted(records(2, 1 << 30), &backlog);
        assert!(!backlog.is_full(), "two huge records are two of three");
        assert_eq!(backlog.queued_bytes(), 0, "not even summed");
        let more = RecordBatch::counted(records(1, 0), &backlog);
        assert!(backlog.is_full());
        drop((big, more));
        assert!(!backlog.is_full());
    }

    #[test]
    fn the_default_bound_depends_on_the_output_and_max_queue_overrides_it() {
        let json = Backlog::for_output(None, true);
        assert_eq!(
            (json.limit, json.byte_limit),
            (BACKLOG_LIMIT, JSON_BACKLOG_BYTES)
        );
        let dashboard = Backlog::for_output(None, false);
        assert_eq!(
            (dashboard.limit, dashboard.byte_limit),
            (BACKLOG_LIMIT, usize::MAX)
        );
        let given = Backlog::for_output(Some(8192), true);
        assert_eq!((given.limit, given.byte_limit), (8192, usize::MAX));
    }

    #[tokio::test]
    async fn a_paused_producer_wakes_when_bytes_are_released() {
        let backlog = Backlog::bounded(1000, queued_size(&event(0, "x").wire(10)));
        let batch = RecordBatch::counted(records(1, 10), &backlog);
        assert!(backlog.is_full());
        let waiter = {
            let backlog = backlog.clone();
            tokio::spawn(async move { backlog.wait_for_room().await })
        };
        tokio::task::yield_now().await;
        drop(batch);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
    }
}
