//! The [`Emitter`]: what every connection task shares, whatever its protocol. It turns decoded
//! items into stamped [`Record`]s, computes `gap_ms`, counts toward `--count`, raises heartbeat
//! `gap` records, watches sequence numbers and bursts, follows LLM completions (their in-stream
//! errors, end markers and `llm_summary`), and sends batches to the consumer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::capture::detect::{SeqBreak, SeqTracker, buffered_burst, seq_from_json};
use crate::capture::llm::{LlmTracker, Observed};
use crate::capture::net::tap::ReadMark;
use crate::record::batch::{Backlog, RecordBatch};
use crate::record::time::{self, Stamp};
use crate::record::{Dir, Kind, Payload, Proto, Record};

/// Builds records for one stream and sends them to the consumer in batches.
#[derive(Debug)]
pub struct Emitter {
    stream: usize,
    proto: Proto,
    tx: UnboundedSender<RecordBatch>,
    batch: Vec<Record>,
    /// The session's queue bound; `None` in tests and benches that drain as they go.
    backlog: Option<Arc<Backlog>>,
    /// A backpressure episode has been reported and not yet ended.
    backpressure_reported: bool,
    /// When reading resumed after the last backpressure pause.
    resumed: Option<Stamp>,
    last_rx: Option<Stamp>,
    counted: u64,
    /// Records received from the server (any kind), for telling a working connection from one
    /// that opens and closes without delivering anything.
    received: u64,
    count_limit: Option<u64>,
    heartbeat: Option<Duration>,
    gap_raised: bool,
    seq: SeqTracker,
    seq_pointer: Option<String>,
    /// The socket read whose records are being collected, for the burst detector.
    burst: BurstWatch,
    /// LLM completions on this stream.
    llm: LlmFollow,
    /// The consumer writes JSON lines: batches go with their payloads escaped
    /// ([`RecordBatch::escape_payloads`]).
    json_payloads: bool,
}

/// LLM completions on one stream, and what the current connection has shown of its own.
#[derive(Debug)]
struct LlmFollow {
    /// The tracker (inactive unless the stream is an LLM stream).
    tracker: LlmTracker,
    /// The current connection delivered its completion's end marker.
    end: bool,
    /// An event after the end marker has been reported on this connection.
    after_end: bool,
    /// Unreadable chunks reported on this connection (a few are worth a lint each, not all).
    unreadable: u32,
}

impl LlmFollow {
    /// A new connection: nothing of it seen yet.
    fn new_connection(&mut self) {
        self.end = false;
        self.after_end = false;
        self.unreadable = 0;
    }
}

/// Unreadable LLM chunks reported per connection.
const UNREADABLE_REPORTED: u32 = 3;

/// Records per socket read, for the `buffered-burst` lint.
#[derive(Debug, Default)]
struct BurstWatch {
    read: u64,
    /// When the read returned.
    stamp: Option<Stamp>,
    /// Silence before the read (its first record's `gap_ms`).
    silence_ms: f64,
    records: u64,
    reported: bool,
}

impl Emitter {
    /// An emitter for stream `stream`.
    pub fn new(
        stream: usize,
        proto: Proto,
        tx: UnboundedSender<RecordBatch>,
        count_limit: Option<u64>,
        heartbeat: Option<Duration>,
    ) -> Self {
        Emitter {
            stream,
            proto,
            tx,
            batch: Vec::new(),
            backlog: None,
            backpressure_reported: false,
            resumed: None,
            last_rx: None,
            counted: 0,
            received: 0,
            count_limit,
            heartbeat,
            gap_raised: false,
            seq: SeqTracker::new(None),
            seq_pointer: None,
            burst: BurstWatch::default(),
            llm: LlmFollow {
                tracker: LlmTracker::new(
                    crate::protocol::llm::Mode::Off,
                    "",
                    crate::capture::llm::DEFAULT_STALL,
                ),
                end: false,
                after_end: false,
                unreadable: 0,
            },
            json_payloads: false,
        }
    }

    /// The consumer writes JSON lines (`--json`): escape each batch's payload texts here, on the
    /// connection's thread, which a firehose leaves less busy than the writer's.
    pub fn escape_payloads_for_json(&mut self) {
        self.json_payloads = true;
    }

    /// Follows LLM completions with `tracker` (`--llm`).
    pub fn set_llm(&mut self, tracker: LlmTracker) {
        self.llm.tracker = tracker;
    }

    /// The protocol of the records from now on: an `http(s)://` stream is SSE or JSON lines,
    /// as each response's Content-Type says.
    pub fn set_proto(&mut self, proto: Proto) {
        self.proto = proto;
    }

    /// True once the current connection has delivered an LLM end marker: the completion is
    /// complete and the stream should end (or repeat, with `--reconnect`).
    pub fn llm_completed(&self) -> bool {
        self.llm.end
    }

    /// Ends the LLM completion of the attempt that just ended: its `llm_summary` record, when the
    /// stream is an LLM stream and a completion was in progress.
    pub fn finish_llm(&mut self) {
        let now = Stamp::now();
        if let Some(summary) = self.llm.tracker.finish(now.wall_us) {
            let r = self.record(now, Kind::LlmSummary(Box::new(summary)));
            self.batch.push(r);
        }
    }

    /// What the tracker made of a record, acted upon: in-stream errors become `error` records,
    /// unreadable chunks lints; the end marker is remembered. Returns the chunk's sequence number.
    fn follow_llm(&mut self, r: &Record, stamp: Stamp) -> Option<u64> {
        let seen: Observed = self.llm.tracker.observe(r);
        if self.llm.end && !self.llm.after_end && matches!(r.kind, Kind::Event { .. }) {
            // Once per connection: what follows is in the records anyway.
            self.llm.after_end = true;
            self.lint(
                stamp,
                "after-end-marker",
                "an event arrived after the completion's end marker (reported once per connection)",
            );
        }
        self.llm.end |= seen.end;
        if let Some(message) = seen.error {
            let e = self.record(
                stamp,
                Kind::Error {
                    message,
                    status: None,
                    close_code: None,
                },
            );
            self.batch.push(e);
        }
        if let Some(why) = seen.unreadable {
            self.llm.unreadable += 1;
            if self.llm.unreadable <= UNREADABLE_REPORTED {
                let more = if self.llm.unreadable == UNREADABLE_REPORTED {
                    " (further ones on this connection are not reported)"
                } else {
                    ""
                };
                self.lint(stamp, "llm-unreadable-chunk", format!("{why}{more}"));
            }
        }
        seen.seq
    }

    /// Where the current silence began: the last received record, or the end of a backpressure
    /// pause if that is later (time spent not reading is not the server's silence).
    fn silence_start(&self) -> Option<Stamp> {
        match (self.last_rx, self.resumed) {
            (Some(l), Some(r)) if r.mono_ns > l.mono_ns => Some(r),
            (l, _) => l,
        }
    }

    /// Bounds the queue to the consumer: see [`Backlog`].
    pub fn set_backlog(&mut self, backlog: Arc<Backlog>) {
        self.backlog = Some(backlog);
    }

    /// True while the consumer is too far behind: the connection loop must not read until
    /// [`Emitter::wait_for_room`] resolves.
    pub fn backlogged(&self) -> bool {
        self.backlog.as_ref().is_some_and(|b| b.is_full())
    }

    /// Waits until the consumer has caught up; reports the episode once with a `lint` record, so
    /// nobody mistakes the pause (and the read times after it) for the server's timing.
    pub async fn wait_for_room(&mut self) {
        let Some(backlog) = self.backlog.clone() else {
            return;
        };
        if !self.backpressure_reported {
            self.backpressure_reported = true;
            self.note(Kind::Lint {
                rule: "output-backpressure".to_owned(),
                message: format!(
                    "the output is slower than the stream: {} records ({} KiB) queued, so reading pauses whenever the queue is full (reported once); records read after a pause are stamped when they could be read",
                    backlog.queued(),
                    backlog.queued_bytes() / 1024
                ),
            });
            self.flush();
        }
        backlog.wait_for_room().await;
        self.resumed = Some(Stamp::now());
    }

    /// Sequence tracking: `pointer` (`--seq`) into the data of events and messages, else numeric
    /// SSE ids; `start` is the number before the first expected one (a numeric `--last-event-id`).
    pub fn set_seq(&mut self, pointer: Option<String>, start: Option<u64>) {
        self.seq = SeqTracker::new(start);
        self.seq_pointer = pointer;
    }

    /// The sequence number of a received record, when it has one, checked against the previous.
    fn check_seq(&mut self, kind: &Kind) -> Option<SeqBreak> {
        match (kind, self.seq_pointer.as_deref()) {
            (Kind::Event { data, .. }, Some(p)) => self.seq.observe(seq_from_json(data, p)?),
            (Kind::Event { id, .. }, None) => self.seq.observe_sse_id(id.as_deref()),
            (
                Kind::Message {
                    data: Payload::Text(text),
                    ..
                },
                Some(p),
            ) => self.seq.observe(seq_from_json(text, p)?),
            _ => None,
        }
    }

    /// Counts the records of read `mark` for the burst detector.
    fn watch_burst(&mut self, mark: ReadMark, gap_ms: Option<f64>) {
        if self.burst.read != mark.read {
            self.burst = BurstWatch {
                read: mark.read,
                stamp: Some(mark.stamp),
                silence_ms: gap_ms.unwrap_or(0.0),
                records: 0,
                reported: false,
            };
        }
        self.burst.records += 1;
    }

    fn record(&self, stamp: Stamp, kind: Kind) -> Record {
        Record::new(stamp.wall_us, self.stream, self.proto, kind)
    }

    /// Something received from the server, delivered by read `mark`.
    pub fn rx(&mut self, mark: ReadMark, kind: Kind, wire_bytes: u64, payload_bytes: u64) {
        self.rx_compressed(mark, kind, wire_bytes, payload_bytes, None);
    }

    /// [`rx`](Self::rx) for what arrived compressed: `compressed_bytes` is its compressed size
    /// (`None` for a record that was not).
    pub fn rx_compressed(
        &mut self,
        mark: ReadMark,
        kind: Kind,
        wire_bytes: u64,
        payload_bytes: u64,
        compressed_bytes: Option<u64>,
    ) {
        self.received += 1;
        let countable = kind.is_countable();
        let mut r = self.record(mark.stamp, kind);
        r.dir = Some(Dir::In);
        r.wire_bytes = Some(wire_bytes);
        r.payload_bytes = Some(payload_bytes);
        r.compressed_bytes = compressed_bytes;
        r.read = Some(mark.read);
        r.gap_ms = self.last_rx.map(|prev| mark.stamp.ms_since(prev));
        self.last_rx = Some(mark.stamp);
        self.gap_raised = false;
        // The LLM's records (an in-stream error) follow the event that carried them.
        let index = self.batch.len();
        let llm_seq = if self.llm.tracker.active() && matches!(r.kind, Kind::Event { .. }) {
            self.follow_llm(&r, mark.stamp)
        } else {
            None
        };
        let seq_break = if countable {
            self.counted += 1;
            self.watch_burst(mark, r.gap_ms);
            match (llm_seq, &self.seq_pointer) {
                // A Responses API `sequence_number` is the sequence when `--seq` names none.
                (Some(n), None) => self.seq.observe(n),
                _ => self.check_seq(&r.kind),
            }
        } else {
            None
        };
        self.batch.insert(index, r);
        if let Some(b) = seq_break {
            let kind = Kind::IdGap {
                expected: b.expected,
                got: b.got,
                missing: b.missing,
                repeated: b.repeated,
                count: self.seq.breaks(),
            };
            let r = self.record(mark.stamp, kind);
            self.batch.push(r);
        }
    }

    /// A `lint` record stamped with the read that showed it.
    pub fn lint(&mut self, stamp: Stamp, rule: &'static str, message: impl Into<String>) {
        let r = self.record(
            stamp,
            Kind::Lint {
                rule: rule.to_owned(),
                message: message.into(),
            },
        );
        self.batch.push(r);
    }

    /// When the connection counts as idle if nothing arrives (`--idle-timeout`).
    pub fn idle_deadline(&self, timeout: Option<Duration>) -> Option<tokio::time::Instant> {
        if self.backlogged() {
            return None;
        }
        let last = self.silence_start()?;
        Some(tokio::time::Instant::from_std(
            time::instant_of(last.mono_ns) + timeout?,
        ))
    }

    /// The response head of a new connection arrived.
    pub fn open(&mut self, mark: ReadMark, kind: Kind, head_bytes: u64) {
        let mut r = self.record(mark.stamp, kind);
        r.wire_bytes = Some(head_bytes);
        r.read = Some(mark.read);
        // Gaps on a fresh connection are measured from its open, not from the old connection.
        self.last_rx = Some(mark.stamp);
        self.gap_raised = false;
        self.seq.new_connection();
        self.llm.new_connection();
        if self.llm.tracker.active() {
            self.llm.tracker.observe(&r);
            if self.llm.tracker.format() == Some(crate::protocol::llm::Format::Responses)
                && self.seq_pointer.is_none()
            {
                // Each request is a new response, numbered from 0 again.
                self.seq = SeqTracker::new(None);
            }
        }
        self.batch.push(r);
    }

    /// An HTTP/2 frame (a `frame` record): traffic fields, but the connection's, not the stream's
    /// content, so it changes neither the stream's gaps nor its counts.
    pub fn frame(
        &mut self,
        mark: ReadMark,
        dir: Dir,
        kind: Kind,
        wire_bytes: u64,
        payload_bytes: u64,
    ) {
        let mut r = self.record(mark.stamp, kind);
        r.dir = Some(dir);
        r.wire_bytes = Some(wire_bytes);
        r.payload_bytes = Some(payload_bytes);
        r.read = (mark.read > 0).then_some(mark.read);
        self.batch.push(r);
    }

    /// Something streamscope sent; `compressed_bytes` as for [`rx_compressed`](Self::rx_compressed).
    pub fn tx(
        &mut self,
        stamp: Stamp,
        kind: Kind,
        wire_bytes: u64,
        payload_bytes: u64,
        compressed_bytes: Option<u64>,
    ) {
        let mut r = self.record(stamp, kind);
        r.dir = Some(Dir::Out);
        r.wire_bytes = Some(wire_bytes);
        r.payload_bytes = Some(payload_bytes);
        r.compressed_bytes = compressed_bytes;
        self.batch.push(r);
    }

    /// A record that is not traffic (error, reconnect, end).
    pub fn note(&mut self, kind: Kind) {
        let r = self.record(Stamp::now(), kind);
        self.batch.push(r);
    }

    /// An error record.
    pub fn error(
        &mut self,
        message: impl Into<String>,
        status: Option<u16>,
        close_code: Option<u16>,
    ) {
        self.note(Kind::Error {
            message: message.into(),
            status,
            close_code,
        });
    }

    /// `--count` has been reached.
    pub fn count_reached(&self) -> bool {
        self.count_limit.is_some_and(|n| self.counted >= n)
    }

    /// Records received from the server so far (any kind): a connection that added none delivered
    /// nothing.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Received events or messages so far.
    pub fn counted(&self) -> u64 {
        self.counted
    }

    /// When a `gap` record is due if nothing arrives, or `None` when none is pending.
    pub fn gap_deadline(&self) -> Option<tokio::time::Instant> {
        let threshold = self.heartbeat?;
        // Paused by backpressure, the stream is not silent: we are not reading it.
        if self.gap_raised || self.backlogged() {
            return None;
        }
        let last = self.silence_start()?;
        Some(tokio::time::Instant::from_std(
            time::instant_of(last.mono_ns) + threshold,
        ))
    }

    /// The gap timer fired: emit a `gap` record once per silence.
    pub fn raise_gap(&mut self) {
        let (Some(threshold), Some(last)) = (self.heartbeat, self.silence_start()) else {
            return;
        };
        let now = Stamp::now();
        self.gap_raised = true;
        let r = self.record(
            now,
            Kind::Gap {
                gap_ms: now.ms_since(last),
                threshold_ms: threshold.as_secs_f64() * 1000.0,
            },
        );
        self.batch.push(r);
        self.flush();
    }

    /// Forgets the last received time (the connection is gone; silence while reconnecting is not a
    /// heartbeat gap).
    pub fn disconnected(&mut self) {
        self.last_rx = None;
    }

    /// Sends what has accumulated. Returns false when the consumer is gone.
    pub fn flush(&mut self) -> bool {
        if !self.burst.reported && buffered_burst(self.burst.silence_ms, self.burst.records) {
            // Reported once per read, when its records are handed on.
            self.burst.reported = true;
            let message = format!(
                "{} records arrived in one read (read {}) after {:.0} ms of silence: \
                 a proxy or CDN is probably buffering the stream",
                self.burst.records, self.burst.read, self.burst.silence_ms
            );
            let stamp = self.burst.stamp.unwrap_or_else(Stamp::now);
            self.lint(stamp, "buffered-burst", message);
        }
        if self.batch.is_empty() {
            return !self.tx.is_closed();
        }
        // The next read likely brings about as many records: start the next batch with room for
        // this one's count rounded up to a power of two, so a firehose whose reads vary a little
        // in size does not grow (and copy) its batches (1.5% of the connection thread's time).
        // Escaped here only while the writer is behind (the queue half full before this batch):
        // then this thread has time to spare, and escaping here balances the two; when this
        // thread is the slower one, the writer escapes. The lines are the same either way.
        let escape = self.json_payloads && self.backlog.as_ref().is_some_and(|b| b.half_full());
        let next = Vec::with_capacity(self.batch.len().next_power_of_two());
        let records = std::mem::replace(&mut self.batch, next);
        let mut batch = match &self.backlog {
            Some(b) => RecordBatch::counted(records, b),
            None => records.into(),
        };
        if escape {
            batch.escape_payloads();
        }
        self.tx.send(batch).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Text;
    use crate::record::batch::queued_size;

    fn mark(read: u64) -> ReadMark {
        ReadMark {
            read,
            stamp: Stamp {
                wall_us: 1_795_603_464_898_574,
                mono_ns: read * 1_000_000,
            },
        }
    }

    fn send_event(em: &mut Emitter, read: u64) {
        let kind = Kind::Event {
            event: Text::from_static("message"),
            data: Text::from("{\"q\":1}"),
            id: None,
            retry: None,
        };
        em.rx(mark(read), kind, 16, 7);
        assert!(em.flush());
    }

    #[test]
    fn payloads_are_escaped_for_json_only_while_the_writer_is_behind() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut em = Emitter::new(0, Proto::Sse, tx, None, None);
        let one = queued_size(&Record::new(
            0,
            0,
            Proto::Sse,
            Kind::Comment { text: Text::new() },
        ));
        let backlog = Backlog::bounded(1000, 2 * one);
        em.set_backlog(backlog.clone());
        em.escape_payloads_for_json();
        // The writer keeps up (nothing queued): it escapes, this thread does not.
        send_event(&mut em, 1);
        let first = rx.try_recv().expect("a batch");
        assert_eq!(first.escaped_payload(0), None);
        // Held, the first batch takes half the queue: the writer is behind, so this thread
        // escapes the next batch's payloads for it.
        assert!(backlog.half_full());
        send_event(&mut em, 2);
        let second = rx.try_recv().expect("a batch");
        assert_eq!(second.escaped_payload(0), Some(&br#""{\"q\":1}""#[..]));
        drop((first, second));
        // Not for a consumer that is not the JSON writer.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut em = Emitter::new(0, Proto::Sse, tx, None, None);
        em.set_backlog(Backlog::bounded(1000, 1));
        send_event(&mut em, 1);
        send_event(&mut em, 2);
        let held = (rx.try_recv(), rx.try_recv().expect("a batch"));
        assert_eq!(held.1.escaped_payload(0), None);
    }
}
