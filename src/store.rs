//! The dashboard's one owner of state: every [`Record`] is applied here, nothing else writes it.
//!
//! Per stream the store keeps a bounded ring of recent records, each tagged with a sequence number
//! that never resets (so the UI can hold on to "record #4711" while older records are evicted), and
//! statistics updated in O(1) at ingest. The statistics cover the whole session, not just the ring:
//! counts, bytes and the gap histogram stay exact after eviction.
//!
//! Nothing here reads a clock: windowed figures (rate, sparkline, time since heartbeat) take `now_us`
//! from the caller, which is what keeps the dashboard's snapshots deterministic.
//!
//! LLM completions are followed by the same pure tracker the connection task runs
//! ([`crate::capture::llm::LlmTracker`]), fed the same records, for the live view; once the
//! completion's `llm_summary` record arrives, that record is what is shown (it is what `--json`
//! printed).

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use crate::capture::llm::{DEFAULT_STALL, LlmTracker};
use crate::ingest::matcher::MatchStats;
use crate::protocol::llm::Mode;
use crate::record::StreamInfo;
use crate::record::kinds::{KINDS, KindTag};
use crate::record::{Kind, LlmSummary, MatchSummary, Proto, Record, Side};

/// Seconds covered by the rate window and the sparkline.
pub const RATE_WINDOW_SECS: usize = WINDOW as usize;

/// The window as a signed count of seconds, for data-time arithmetic.
const WINDOW: i64 = 60;

/// A record in a stream's ring with its session-wide sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Position of this record in its stream since the session began (0 for the first record).
    pub seq: u64,
    /// The record as it arrived.
    pub rec: Record,
}

/// Connection state of one stream, derived only from the records seen.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    /// No `open` yet.
    Connecting,
    /// Connected since `since_us` with this HTTP status.
    Open {
        /// Data time of the `open` record.
        since_us: i64,
        /// HTTP status (200 or 101).
        status: u16,
    },
    /// A reconnect is scheduled.
    Reconnecting {
        /// Data time when the attempt is due (record time + delay).
        at_us: i64,
        /// Attempt number, from 1.
        attempt: u32,
        /// Why the previous connection ended.
        reason: String,
    },
    /// A WebSocket Close frame was seen (a reconnect or an end may still follow).
    Closed {
        /// Close code, if the frame had one.
        code: Option<u16>,
        /// Who started the close.
        by: Side,
        /// Close reason text.
        reason: String,
    },
    /// The stream ended with a failure.
    Failed {
        /// Why, including the last error message when there was one.
        reason: String,
    },
    /// The stream ended normally.
    Ended {
        /// Why (`count reached`, `server closed`, ...).
        reason: String,
    },
}

/// Connection events kept for the timeline.
pub const TIMELINE_CAP: usize = 1024;

/// A point on a stream's connection timeline, in increasing order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// The connection opened.
    Open,
    /// A heartbeat gap was raised.
    Gap,
    /// A WebSocket close.
    Close,
    /// A reconnect was scheduled.
    Reconnect,
    /// An error record, or a failed end.
    Error,
}

impl Mark {
    /// The mark for a record, if it belongs on the timeline.
    pub fn of(kind: &Kind) -> Option<Mark> {
        match kind {
            Kind::Open { .. } => Some(Mark::Open),
            Kind::Gap { .. } => Some(Mark::Gap),
            Kind::Close { .. } | Kind::End { failed: false, .. } => Some(Mark::Close),
            Kind::Reconnect { .. } => Some(Mark::Reconnect),
            Kind::Error { .. } | Kind::End { failed: true, .. } => Some(Mark::Error),
            _ => None,
        }
    }
}

/// Whole-session statistics of one stream, updated at ingest.
#[derive(Debug, Clone)]
pub struct StreamStats {
    /// Records of every kind.
    pub records: u64,
    /// Records per kind, indexed by [`Kind::index`] (the order of [`KINDS`]).
    pub by_kind: [u64; KINDS.len()],
    /// Sum of `payload_bytes`.
    pub payload_bytes: u64,
    /// Sum of `wire_bytes`.
    pub wire_bytes: u64,
    /// Inter-arrival gaps in microseconds (from each record's `gap_ms`).
    pub gaps_us: Histogram<u64>,
    /// Data time of the last keepalive: an SSE comment or a WebSocket ping or pong.
    pub last_keepalive_us: Option<i64>,
    /// Reconnects scheduled (`reconnect` records).
    pub reconnects: u64,
    /// Round trip of the last answered ping.
    pub last_rtt_ms: Option<f64>,
    /// Handshake time of the latest `open`.
    pub handshake_ms: Option<f64>,
    /// Status and headers of the latest `open`, kept here because the ring may evict the record.
    pub open_headers: Vec<(String, String)>,
    /// How the latest `open`'s connection was made (HTTP version, sharing, TLS).
    pub conn: Option<Box<crate::record::ConnFacts>>,
    /// The compression agreed on the latest `open` (extension with parameters, or content coding).
    pub compression: Option<String>,
    /// Sum of `compressed_bytes`: what the compressed records took compressed.
    pub compressed_bytes: u64,
    /// What those same records decoded to: the inflated payload of a WebSocket message, the
    /// decoded lines (`wire_bytes`) of an SSE event or comment.
    pub decoded_bytes: u64,
    /// Last `error` message, shown with a failure.
    pub last_error: Option<String>,
    /// Data time of the newest record.
    pub last_ts_us: Option<i64>,
    /// Data time of the first record, so the rate is not diluted before a minute has passed.
    pub first_ts_us: Option<i64>,
    /// Connection events (opens, closes, reconnects, gaps, errors, ends) for the timeline, newest
    /// last, bounded to [`TIMELINE_CAP`] (older ones fall off; the counters stay exact).
    pub timeline: VecDeque<(i64, Mark)>,
    /// What the decoded messages (`--decode`) carried: per sub-stream and per event counts, and
    /// the application protocol's heartbeats.
    pub decoded: DecodedStats,
    /// Countable records (events, messages) per second of data time, ring indexed by `sec % 60`;
    /// each slot remembers its second so stale slots read as zero without a sweep.
    buckets: [(i64, u64); RATE_WINDOW_SECS],
}

impl StreamStats {
    fn new() -> Self {
        StreamStats {
            records: 0,
            by_kind: [0; KINDS.len()],
            payload_bytes: 0,
            wire_bytes: 0,
            // Auto-resizing 3 significant figures: gaps from microseconds to hours.
            gaps_us: Histogram::new(3).unwrap_or_else(|_| unreachable_histogram()),
            last_keepalive_us: None,
            reconnects: 0,
            last_rtt_ms: None,
            handshake_ms: None,
            open_headers: Vec::new(),
            conn: None,
            compression: None,
            compressed_bytes: 0,
            decoded_bytes: 0,
            last_error: None,
            last_ts_us: None,
            first_ts_us: None,
            timeline: VecDeque::new(),
            decoded: DecodedStats::default(),
            buckets: [(i64::MIN, 0); RATE_WINDOW_SECS],
        }
    }

    /// Wire bytes beyond the payload, as a percentage of the wire bytes; `None` when compression
    /// made the wire smaller than the payload (the compression ratio says more then).
    pub fn overhead_pct(&self) -> Option<f64> {
        (self.wire_bytes > 0 && self.wire_bytes >= self.payload_bytes).then(|| {
            self.wire_bytes.saturating_sub(self.payload_bytes) as f64 * 100.0
                / self.wire_bytes as f64
        })
    }

    /// How many times smaller compression made the compressed records (decoded / compressed),
    /// `None` before any compressed record.
    pub fn compression_ratio(&self) -> Option<f64> {
        (self.compressed_bytes > 0)
            .then(|| self.decoded_bytes as f64 / self.compressed_bytes as f64)
    }

    /// Countable records per second in each of the last 60 seconds, oldest first, ending at the
    /// second that contains `now_us`.
    pub fn sparkline(&self, now_us: i64) -> [u64; RATE_WINDOW_SECS] {
        let now_sec = now_us.div_euclid(1_000_000);
        let mut out = [0; RATE_WINDOW_SECS];
        for (i, slot) in out.iter_mut().enumerate() {
            let back = i64::try_from(RATE_WINDOW_SECS - 1 - i).unwrap_or(WINDOW);
            let sec = now_sec - back;
            let (stamp, count) = self.buckets[slot_of(sec)];
            if stamp == sec {
                *slot = count;
            }
        }
        out
    }

    /// Countable records per second over the last minute (or since the first record, if sooner).
    pub fn rate_per_sec(&self, now_us: i64) -> f64 {
        let Some(first) = self.first_ts_us else {
            return 0.0;
        };
        let total: u64 = self.sparkline(now_us).iter().sum();
        let elapsed = ((now_us - first) as f64 / 1e6).clamp(1.0, RATE_WINDOW_SECS as f64);
        total as f64 / elapsed
    }

    /// Gap percentile in milliseconds, `None` before any gap was recorded.
    pub fn gap_ms_at(&self, quantile: f64) -> Option<f64> {
        (!self.gaps_us.is_empty()).then(|| self.gaps_us.value_at_quantile(quantile) as f64 / 1000.0)
    }

    /// Largest gap in milliseconds.
    pub fn gap_max_ms(&self) -> Option<f64> {
        (!self.gaps_us.is_empty()).then(|| self.gaps_us.max() as f64 / 1000.0)
    }

    /// Countable records (events and messages, not the application protocol's heartbeats).
    pub fn countable(&self) -> u64 {
        (self.by_kind[KindTag::Event as usize] + self.by_kind[KindTag::Message as usize])
            .saturating_sub(self.decoded.heartbeats)
    }
}

/// Distinct sub-streams and event names counted per stream; beyond it, they count as `other`, so
/// a protocol that puts a fresh id on every message cannot grow the store without bound.
pub const DECODED_KEYS_CAP: usize = 256;

/// The decoded messages of a stream, counted at ingest.
#[derive(Debug, Clone, Default)]
pub struct DecodedStats {
    /// The protocol of the latest decoded message.
    pub protocol: Option<String>,
    /// Decoded messages, heartbeats included.
    pub messages: u64,
    /// Of those, the protocol's heartbeats (Engine.IO ping/pong, GraphQL ka, ...).
    pub heartbeats: u64,
    /// Messages per sub-stream (GraphQL operation id, subscription id, topic), in first-seen order.
    pub substreams: Vec<(String, u64)>,
    /// Messages per event name, in first-seen order.
    pub events: Vec<(String, u64)>,
    /// Sub-streams or events beyond [`DECODED_KEYS_CAP`].
    pub other: u64,
}

impl DecodedStats {
    fn count(&mut self, d: &crate::record::decoded::Decoded) {
        self.messages += 1;
        if self.protocol.as_deref() != Some(d.protocol.as_str()) {
            self.protocol = Some(d.protocol.clone());
        }
        if d.heartbeat {
            self.heartbeats += 1;
            return;
        }
        let mut other = 0;
        let mut bump = |list: &mut Vec<(String, u64)>, key: &str| {
            if let Some(e) = list.iter_mut().find(|(k, _)| k == key) {
                e.1 += 1;
            } else if list.len() < DECODED_KEYS_CAP {
                list.push((key.to_owned(), 1));
            } else {
                other += 1;
            }
        };
        if let Some(s) = &d.substream {
            bump(&mut self.substreams, s);
        }
        if let Some(e) = &d.event {
            bump(&mut self.events, e);
        }
        self.other += other;
    }

    /// Messages of sub-stream `key`.
    pub fn substream(&self, key: &str) -> u64 {
        self.substreams
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |e| e.1)
    }
}

/// `Histogram::new(3)` only fails for sigfig > 5; this keeps that impossibility out of the hot path
/// without an `unwrap`.
fn unreachable_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, u64::MAX / 2, 2).unwrap_or_else(|_| unreachable!("valid bounds"))
}

/// A tracker for the stream `info` describes: the stall threshold is its `--heartbeat`, the
/// format hint its URL's path.
fn llm_tracker(info: &StreamInfo, mode: Mode) -> LlmTracker {
    let path = url::Url::parse(&info.display_url).map_or_else(
        |_| String::new(),
        |u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
    );
    let stall = info
        .heartbeat_ms
        .map_or(DEFAULT_STALL, std::time::Duration::from_millis);
    LlmTracker::new(mode, &path, stall)
}

fn slot_of(sec: i64) -> usize {
    sec.rem_euclid(WINDOW) as usize
}

/// One stream: its description, recent records and statistics.
#[derive(Debug, Clone)]
pub struct StreamState {
    /// What the command line said about it.
    pub info: StreamInfo,
    /// Connection state derived from records.
    pub state: ConnState,
    /// Whole-session statistics.
    pub stats: StreamStats,
    /// LLM completions on the stream (inactive when it is not one).
    pub llm: LlmTracker,
    /// The last completion's `llm_summary` record.
    pub llm_summary: Option<LlmSummary>,
    ring: VecDeque<Entry>,
    next_seq: u64,
}

impl StreamState {
    fn new(info: StreamInfo, history: usize) -> Self {
        let llm = llm_tracker(&info, Mode::Auto);
        StreamState {
            info,
            state: ConnState::Connecting,
            stats: StreamStats::new(),
            llm,
            llm_summary: None,
            ring: VecDeque::with_capacity(history.min(4096)),
            next_seq: 0,
        }
    }

    /// The LLM completion's figures: its `llm_summary` once it has ended, the live ones before;
    /// `None` when the stream is no LLM stream.
    pub fn llm_figures(&self, now_us: i64) -> Option<LlmSummary> {
        self.llm.format()?;
        match &self.llm_summary {
            Some(s) if self.llm.finished() => Some(s.clone()),
            _ => self.llm.live(now_us),
        }
    }

    /// Records still held, oldest first.
    pub fn ring(&self) -> &VecDeque<Entry> {
        &self.ring
    }

    /// Sequence number the next record will get (= records ever applied).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Sequence number of the oldest record still held.
    pub fn first_seq(&self) -> u64 {
        self.next_seq - self.ring.len() as u64
    }

    /// Sequence number of the newest record, `None` before any.
    pub fn last_seq(&self) -> Option<u64> {
        self.next_seq.checked_sub(1)
    }

    /// The record with this sequence number, if it has not been evicted. O(1).
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let idx = seq.checked_sub(self.first_seq())?;
        self.ring.get(usize::try_from(idx).ok()?)
    }

    /// Ring index of `seq`, clamped into the ring.
    pub fn index_of(&self, seq: u64) -> usize {
        let idx = seq.saturating_sub(self.first_seq());
        usize::try_from(idx)
            .unwrap_or(usize::MAX)
            .min(self.ring.len().saturating_sub(1))
    }

    fn apply(&mut self, mut rec: Record, history: usize) {
        self.stats.count(&rec);
        self.follow(&rec);
        if self.llm.active()
            && matches!(
                rec.kind,
                Kind::Open { .. } | Kind::Event { .. } | Kind::LlmSummary(_)
            )
        {
            self.llm.observe(&rec);
        }
        if let Kind::LlmSummary(s) = &rec.kind {
            self.llm_summary = Some((**s).clone());
        }
        if history == 0 {
            self.next_seq += 1;
            return;
        }
        if self.ring.len() == history {
            self.ring.pop_front();
        }
        // Kept for long: its own copy of the text, not a slice that keeps its read's whole arena
        // block alive.
        rec.kind.detach();
        self.ring.push_back(Entry {
            seq: self.next_seq,
            rec,
        });
        self.next_seq += 1;
    }

    /// The connection state and the figures that only some kinds change (handshake, heartbeat,
    /// RTT, reconnects, last error).
    fn follow(&mut self, rec: &Record) {
        let st = &mut self.stats;
        match &rec.kind {
            Kind::Open {
                status,
                headers,
                handshake_ms,
                conn,
                compression,
                ..
            } => {
                st.handshake_ms = Some(*handshake_ms);
                st.conn.clone_from(conn);
                st.open_headers.clone_from(headers);
                // An http(s) stream is SSE or JSON lines, as its response says.
                if self.info.proto != Proto::Ws {
                    self.info.proto = rec.proto;
                }
                st.compression.clone_from(compression);
                self.state = ConnState::Open {
                    since_us: rec.ts_us,
                    status: *status,
                };
            }
            Kind::Comment { .. } | Kind::Ping { .. } => st.last_keepalive_us = Some(rec.ts_us),
            Kind::Message {
                decoded: Some(d), ..
            } => {
                if d.heartbeat {
                    st.last_keepalive_us = Some(rec.ts_us);
                }
                st.decoded.count(d);
            }
            Kind::Pong { rtt_ms, .. } => {
                st.last_keepalive_us = Some(rec.ts_us);
                if rtt_ms.is_some() {
                    st.last_rtt_ms = *rtt_ms;
                }
            }
            // An HTTP/2 PING answered: the connection's round trip, for SSE too.
            Kind::Frame(f) if f.rtt_ms.is_some() => st.last_rtt_ms = f.rtt_ms,
            Kind::Close { code, reason, by } => {
                self.state = ConnState::Closed {
                    code: *code,
                    by: *by,
                    reason: reason.clone(),
                };
            }
            Kind::Reconnect {
                attempt,
                delay_ms,
                reason,
                ..
            } => {
                st.reconnects += 1;
                let delay_us = i64::try_from(delay_ms.saturating_mul(1000)).unwrap_or(i64::MAX);
                self.state = ConnState::Reconnecting {
                    at_us: rec.ts_us.saturating_add(delay_us),
                    attempt: *attempt,
                    reason: reason.clone(),
                };
            }
            Kind::Error { message, .. } => st.last_error = Some(message.clone()),
            Kind::End { reason, failed } => {
                self.state = if *failed {
                    ConnState::Failed {
                        // "failed" says nothing the state name does not; the error says why.
                        // The end's reason is usually the error itself, or the error with
                        // "; gave up after N retries": said once.
                        reason: match &st.last_error {
                            Some(e) if reason == "failed" => e.clone(),
                            Some(e) if reason.contains(e.as_str()) => reason.clone(),
                            Some(e) => format!("{reason}: {e}"),
                            None => reason.clone(),
                        },
                    }
                } else {
                    ConnState::Ended {
                        reason: reason.clone(),
                    }
                };
            }
            Kind::Event { .. }
            | Kind::Message { .. }
            | Kind::Gap { .. }
            | Kind::IdGap { .. }
            | Kind::Lint { .. }
            | Kind::Match { .. }
            | Kind::Frame(_)
            | Kind::MatchSummary(_)
            | Kind::LlmSummary(_) => {}
        }
    }
}

impl StreamStats {
    /// The figures every record adds to: counts per kind, bytes, the gap histogram, the time
    /// span, the connection timeline and the per-second rate buckets.
    fn count(&mut self, rec: &Record) {
        let st = self;
        st.records += 1;
        st.by_kind[rec.kind.index()] += 1;
        st.payload_bytes += rec.payload_bytes.unwrap_or(0);
        st.wire_bytes += rec.wire_bytes.unwrap_or(0);
        if let Some(c) = rec.compressed_bytes {
            st.compressed_bytes += c;
            st.decoded_bytes += match rec.proto {
                Proto::Ws => rec.payload_bytes,
                Proto::Sse | Proto::Jsonl => rec.wire_bytes,
            }
            .unwrap_or(0);
        }
        if let Some(gap) = rec.gap_ms
            && gap.is_finite()
            && gap >= 0.0
        {
            let us = (gap * 1000.0).round() as u64;
            // `record` grows the auto-resizing histogram; saturate only if growth itself fails.
            if st.gaps_us.record(us).is_err() {
                st.gaps_us.saturating_record(us);
            }
        }
        st.first_ts_us.get_or_insert(rec.ts_us);
        st.last_ts_us = Some(st.last_ts_us.map_or(rec.ts_us, |t| t.max(rec.ts_us)));
        if let Some(mark) = Mark::of(&rec.kind) {
            if st.timeline.len() == TIMELINE_CAP {
                st.timeline.pop_front();
            }
            st.timeline.push_back((rec.ts_us, mark));
        }
        if rec.kind.is_countable() {
            let sec = rec.ts_us.div_euclid(1_000_000);
            let slot = &mut st.buckets[slot_of(sec)];
            if slot.0 == sec {
                slot.1 += 1;
            } else if slot.0 < sec {
                *slot = (sec, 1);
            }
            // A record older than the slot's second belongs to a minute already out of the window.
        }
    }
}

/// `--match` figures, rebuilt from the `match` records (they belong to the pair, not to a stream's
/// list, so they are kept here rather than in a ring).
#[derive(Debug, Clone, Default)]
pub struct Matching {
    /// The key, when the session has one.
    pub key: Option<String>,
    /// Pairs, wins and leads so far.
    pub stats: MatchStats,
    /// The final summary, once the session has ended.
    pub summary: Option<MatchSummary>,
}

impl Matching {
    /// Keys each stream delivered that the other has not (yet): the summary's count at the end;
    /// before it, received events and messages beyond the pairs.
    pub fn unpaired(&self, streams: &[StreamState]) -> [u64; 2] {
        if let Some(s) = &self.summary {
            return s.unmatched;
        }
        let pending = |i: usize| {
            streams
                .get(i)
                .map_or(0, |s| s.stats.countable().saturating_sub(self.stats.pairs))
        };
        [pending(0), pending(1)]
    }
}

/// All streams of the session.
#[derive(Debug, Clone)]
pub struct Store {
    streams: Vec<StreamState>,
    history: usize,
    /// Records whose stream index matched no known stream (a wiring bug, counted not dropped silently).
    pub unknown_stream: u64,
    /// `--match` figures; `None` until a key is set or a `match` record arrives.
    pub matching: Option<Matching>,
}

impl Store {
    /// A store for these streams keeping at most `history` records per stream.
    pub fn new(streams: Vec<StreamInfo>, history: usize) -> Self {
        Store {
            streams: streams
                .into_iter()
                .map(|info| StreamState::new(info, history))
                .collect(),
            history,
            unknown_stream: 0,
            matching: None,
        }
    }

    /// How each stream's LLM chunks are read (`--llm`), in stream order; streams not named keep
    /// `auto`. Call before the first record.
    pub fn set_llm_modes(&mut self, modes: &[Mode]) {
        for (s, mode) in self.streams.iter_mut().zip(modes) {
            s.llm = llm_tracker(&s.info, *mode);
        }
    }

    /// Names the `--match` key, so the strip shows it before the first pair.
    pub fn set_match_key(&mut self, key: Option<String>) {
        if key.is_some() {
            self.matching.get_or_insert_with(Matching::default).key = key;
        }
    }

    /// Data time of the newest record of any stream.
    pub fn latest_ts_us(&self) -> Option<i64> {
        self.streams.iter().filter_map(|s| s.stats.last_ts_us).max()
    }

    /// Applies one record: O(1).
    pub fn apply(&mut self, rec: Record) {
        match &rec.kind {
            Kind::Match { first, lead_ms, .. } => {
                self.matching
                    .get_or_insert_with(Matching::default)
                    .stats
                    .add(*first, *lead_ms);
                return;
            }
            Kind::MatchSummary(summary) => {
                self.matching.get_or_insert_with(Matching::default).summary = Some(summary.clone());
                return;
            }
            _ => {}
        }
        // Streams are usually listed in index order; fall back to a search when they are not.
        let pos = match self.streams.get(rec.stream) {
            Some(s) if s.info.index == rec.stream => Some(rec.stream),
            _ => self.streams.iter().position(|s| s.info.index == rec.stream),
        };
        match pos {
            Some(i) => self.streams[i].apply(rec, self.history),
            None => self.unknown_stream += 1,
        }
    }

    /// The streams, in the order given to [`Store::new`].
    pub fn streams(&self) -> &[StreamState] {
        &self.streams
    }

    /// One stream by position.
    pub fn stream(&self, pos: usize) -> Option<&StreamState> {
        self.streams.get(pos)
    }

    /// Records kept per stream.
    pub fn history(&self) -> usize {
        self.history
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Payload, Proto};
    use crate::testkit::{event, info, rec, text};

    #[test]
    fn stats_stay_exact_after_ring_eviction() {
        let mut store = Store::new(vec![info(0, Proto::Sse)], 100);
        for i in 0..10_000i64 {
            // Gaps 1..=100 ms repeating, so percentiles are known exactly.
            store.apply(event(i * 10_000, "hello").traffic(13, 5, (i % 100 + 1) as f64));
        }
        let s = &store.streams()[0];
        assert_eq!(s.ring().len(), 100);
        assert_eq!(s.first_seq(), 9_900);
        assert_eq!(s.last_seq(), Some(9_999));
        assert_eq!(s.stats.records, 10_000);
        assert_eq!(s.stats.by_kind[event(0, "hello").kind.index()], 10_000);
        assert_eq!(s.stats.payload_bytes, 50_000);
        assert_eq!(s.stats.wire_bytes, 130_000);
        let overhead = s.stats.overhead_pct().expect("wire bytes");
        assert!((overhead - 800.0 / 13.0).abs() < 1e-9);
        assert_eq!(s.stats.gaps_us.len(), 10_000);
        let p50 = s.stats.gap_ms_at(0.5).expect("gaps");
        let p99 = s.stats.gap_ms_at(0.99).expect("gaps");
        assert!((p50 - 50.0).abs() < 0.05, "p50 {p50}");
        assert!((p99 - 99.0).abs() < 0.1, "p99 {p99}");
        assert!((s.stats.gap_max_ms().expect("gaps") - 100.0).abs() < 0.1);
    }

    /// A live record's texts are slices of a read's arena; the store keeps copies, so a kept
    /// record never holds a whole read's block.
    #[test]
    fn kept_records_own_their_text() {
        let block = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
        let within = |t: &[u8]| block.as_ptr_range().contains(&t.as_ptr());
        let slice = |range: std::ops::Range<usize>| {
            crate::record::Text::from_utf8(block.slice(range)).expect("ASCII")
        };
        let mut store = Store::new(vec![info(0, Proto::Sse), info(1, Proto::Ws)], 10);
        let mut sse = event(1, "");
        if let Kind::Event {
            event, data, id, ..
        } = &mut sse.kind
        {
            *event = slice(0..5);
            *data = slice(100..200);
            *id = Some(slice(300..307));
        }
        store.apply(sse);
        let mut ws = crate::testkit::message(2, Payload::Text(slice(400..500)));
        ws.stream = 1;
        store.apply(ws);
        let mut binary = crate::testkit::message(3, Payload::Binary(block.slice(600..700)));
        binary.stream = 1;
        store.apply(binary);

        let Some(Entry { rec, .. }) = store.streams()[0].ring().back() else {
            panic!("the event is kept");
        };
        let Kind::Event {
            event,
            data,
            id: Some(id),
            ..
        } = &rec.kind
        else {
            panic!("an event with an id: {rec:?}");
        };
        assert_eq!(
            (event.as_str(), data.len(), id.as_str()),
            ("xxxxx", 100, "xxxxxxx")
        );
        for t in [event.as_bytes(), data.as_bytes(), id.as_bytes()] {
            assert!(!within(t), "a kept text points into the read's block");
        }
        for entry in store.streams()[1].ring() {
            let Kind::Message { data, .. } = &entry.rec.kind else {
                panic!("a message: {:?}", entry.rec);
            };
            assert_eq!(data.len(), 100);
            assert!(
                !within(data.as_bytes()),
                "a kept payload points into the read's block"
            );
        }
    }

    #[test]
    fn sequence_lookup_survives_eviction() {
        let mut store = Store::new(vec![info(0, Proto::Sse)], 3);
        for i in 0..5 {
            store.apply(event(i, "hello").traffic(13, 5, 1.0));
        }
        let s = &store.streams()[0];
        assert!(s.get(1).is_none());
        assert_eq!(s.get(2).map(|e| e.seq), Some(2));
        assert_eq!(s.get(4).map(|e| e.rec.ts_us), Some(4));
        assert!(s.get(5).is_none());
    }

    #[test]
    fn rate_and_sparkline_use_data_time() {
        let mut store = Store::new(vec![info(0, Proto::Sse)], 10);
        // 3 events in second 100, 1 in second 130, and one 2 minutes earlier (out of window).
        for ts in [100_000_000, 100_500_000, 100_900_000, 130_000_000, 0] {
            store.apply(event(ts, "hello").traffic(13, 5, 1.0));
        }
        let st = &store.streams()[0].stats;
        let spark = st.sparkline(130_200_000);
        assert_eq!(spark[59], 1);
        assert_eq!(spark[29], 3);
        assert_eq!(spark.iter().sum::<u64>(), 4);
        // 4 records over the 60 s window.
        assert!((st.rate_per_sec(159_000_000) - 4.0 / 59.0).abs() < 1e-9);
    }

    #[test]
    fn state_follows_open_reconnect_close_end() {
        let mut store = Store::new(vec![info(0, Proto::Ws)], 10);
        let st = |s: &Store| s.streams()[0].state.clone();
        assert_eq!(st(&store), ConnState::Connecting);
        store.apply(
            rec(
                1_000,
                Kind::open(101, vec![("upgrade".into(), "websocket".into())], 12.5),
            )
            .proto(Proto::Ws),
        );
        assert_eq!(
            st(&store),
            ConnState::Open {
                since_us: 1_000,
                status: 101
            }
        );
        store.apply(rec(
            2_000,
            Kind::Close {
                code: Some(1001),
                reason: "bye".into(),
                by: Side::Server,
            },
        ));
        assert!(matches!(
            st(&store),
            ConnState::Closed {
                code: Some(1001),
                ..
            }
        ));
        store.apply(
            rec(
                3_000,
                Kind::Reconnect {
                    attempt: 2,
                    delay_ms: 500,
                    last_event_id: None,
                    retry_ms: None,
                    reason: "closed".into(),
                },
            )
            .proto(Proto::Ws),
        );
        assert_eq!(
            st(&store),
            ConnState::Reconnecting {
                at_us: 503_000,
                attempt: 2,
                reason: "closed".into()
            }
        );
        store.apply(
            rec(
                4_000,
                Kind::Error {
                    message: "connection refused".into(),
                    status: None,
                    close_code: None,
                },
            )
            .proto(Proto::Ws),
        );
        store.apply(
            rec(
                5_000,
                Kind::End {
                    reason: "failed".into(),
                    failed: true,
                },
            )
            .proto(Proto::Ws),
        );
        assert_eq!(
            st(&store),
            ConnState::Failed {
                reason: "connection refused".into()
            }
        );
        let stats = &store.streams()[0].stats;
        assert_eq!(stats.reconnects, 1);
        assert_eq!(stats.handshake_ms, Some(12.5));
        assert_eq!(stats.open_headers.len(), 1);
    }

    #[test]
    fn heartbeat_and_rtt_from_ping_pong() {
        let mut store = Store::new(vec![info(0, Proto::Ws)], 10);
        store.apply(rec(
            7,
            Kind::Pong {
                data: Payload::Binary(vec![1].into()),
                rtt_ms: Some(3.25),
            },
        ));
        store.apply(text(9, "x"));
        let stats = &store.streams()[0].stats;
        assert_eq!(stats.last_keepalive_us, Some(7));
        assert_eq!(stats.last_rtt_ms, Some(3.25));
        assert_eq!(stats.countable(), 1);
    }

    #[test]
    fn decoded_messages_count_per_sub_stream_and_heartbeats_are_not_data() {
        use crate::record::decoded::Decoded;
        let mut store = Store::new(vec![info(0, Proto::Ws)], 10);
        let msg = |ts, d: Decoded| {
            let mut r = text(ts, "x");
            if let Kind::Message { decoded, .. } = &mut r.kind {
                *decoded = Some(Box::new(d));
            }
            r
        };
        let next = |id: &str| Decoded {
            substream: Some(id.into()),
            ..Decoded::new("graphql-transport-ws", "next")
        };
        store.apply(msg(1, next("1")));
        store.apply(msg(2, next("2")));
        store.apply(msg(3, next("1")));
        store.apply(msg(
            4,
            Decoded::new("graphql-transport-ws", "ping").heartbeat(),
        ));
        let stats = &store.streams()[0].stats;
        assert_eq!(stats.decoded.substreams, [("1".into(), 2), ("2".into(), 1)]);
        assert_eq!(
            (stats.decoded.substream("2"), stats.decoded.substream("9")),
            (1, 0)
        );
        assert_eq!(stats.decoded.heartbeats, 1);
        assert_eq!(stats.countable(), 3);
        assert_eq!(stats.last_keepalive_us, Some(4));
        assert_eq!(stats.sparkline(4)[59], 3, "a heartbeat is not in the rate");
    }

    #[test]
    fn an_http_stream_takes_the_protocol_of_its_response() {
        let mut store = Store::new(vec![info(0, Proto::Sse)], 10);
        let open = |proto| {
            rec(
                1,
                Kind::open(
                    200,
                    vec![("content-type".into(), "application/x-ndjson".into())],
                    1.0,
                ),
            )
            .proto(proto)
        };
        store.apply(open(Proto::Jsonl));
        assert_eq!(store.streams()[0].info.proto, Proto::Jsonl);
        store.apply(open(Proto::Sse));
        assert_eq!(store.streams()[0].info.proto, Proto::Sse);
        // No LLM figures for a stream that is no LLM completion.
        store.apply(event(2, r#"{"status":"start"}"#).proto(Proto::Sse));
        assert_eq!(store.streams()[0].llm_figures(3), None);
    }

    #[test]
    fn unknown_stream_is_counted() {
        let mut store = Store::new(vec![info(0, Proto::Sse)], 10);
        store.apply(event(0, "hello").traffic(13, 5, 1.0).on(5));
        assert_eq!(store.unknown_stream, 1);
        assert_eq!(store.streams()[0].stats.records, 0);
    }
}
