//! `--match KEY`: pairing the records of two streams that carry the same feed, to measure which
//! stream delivers each item first and by how much.
//!
//! Pure: records go in with their stream index and `ts`, `match` records come out. There is one
//! matcher per session, owned by the ingest stage (`pipeline`), so the JSON output, the recording and
//! the dashboard all see the same pairs. The dashboard rebuilds its figures from the `match`
//! records with [`MatchStats`], the same type the matcher summarises with, so both agree.

use std::collections::{HashMap, HashSet, VecDeque};

use hdrhistogram::Histogram;

use crate::record::{Dir, Kind, MatchSummary, Payload, Record};

/// Where the key of a record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeySpec {
    /// A JSON pointer (RFC 6901) into the data of an event or text message, such as `/seq`.
    Pointer(String),
    /// The SSE event id (`id`), for feeds whose data is not JSON.
    SseId,
}

impl KeySpec {
    /// `id` for the SSE id, or a JSON pointer starting with `/`.
    pub(crate) fn parse(s: &str) -> Result<KeySpec, String> {
        match s {
            "id" => Ok(KeySpec::SseId),
            p if p.starts_with('/') => Ok(KeySpec::Pointer(p.to_owned())),
            other => Err(format!(
                "--match '{other}': use a JSON pointer such as /id or /seq, or `id` for the SSE event id"
            )),
        }
    }

    /// The spec as the user wrote it.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            KeySpec::Pointer(p) => p,
            KeySpec::SseId => "id",
        }
    }

    /// The key of a received event or message, `None` when it has none (not JSON, no such field).
    pub(crate) fn key_of(&self, kind: &Kind) -> Option<String> {
        let data = match (self, kind) {
            (KeySpec::SseId, Kind::Event { id, .. }) => return id.as_deref().map(str::to_owned),
            (KeySpec::Pointer(_), Kind::Event { data, .. }) => data.as_str(),
            (
                KeySpec::Pointer(_),
                Kind::Message {
                    data: Payload::Text(t),
                    ..
                },
            ) => t.as_str(),
            _ => return None,
        };
        let KeySpec::Pointer(p) = self else {
            return None;
        };
        let v: serde_json::Value = serde_json::from_str(data).ok()?;
        match v.pointer(p)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

/// Running pairing figures: pairs, who won, and the distribution of leads.
#[derive(Debug, Clone)]
pub struct MatchStats {
    /// Keys delivered on both streams.
    pub pairs: u64,
    /// Pairs each stream delivered first.
    pub won: [u64; 2],
    /// Pairs delivered in the same microsecond.
    pub ties: u64,
    leads_us: Histogram<u64>,
}

impl Default for MatchStats {
    fn default() -> Self {
        MatchStats {
            pairs: 0,
            won: [0; 2],
            ties: 0,
            // Auto-resizing, 3 significant figures: leads from microseconds to hours.
            leads_us: Histogram::new(3).unwrap_or_else(|_| {
                Histogram::new_with_bounds(1, u64::MAX / 2, 2)
                    .unwrap_or_else(|_| unreachable!("valid bounds"))
            }),
        }
    }
}

impl MatchStats {
    /// Adds one pair.
    pub fn add(&mut self, first: Option<usize>, lead_ms: f64) {
        self.pairs += 1;
        match first {
            Some(s) if s < 2 => self.won[s] += 1,
            _ => self.ties += 1,
        }
        let us = if lead_ms.is_finite() && lead_ms > 0.0 {
            (lead_ms * 1000.0).round() as u64
        } else {
            0
        };
        if self.leads_us.record(us).is_err() {
            self.leads_us.saturating_record(us);
        }
    }

    /// Lead at a quantile, in milliseconds.
    pub fn lead_ms_at(&self, q: f64) -> Option<f64> {
        (self.pairs > 0).then(|| self.leads_us.value_at_quantile(q) as f64 / 1000.0)
    }

    /// Share of pairs stream `s` delivered first, in percent.
    pub fn won_pct(&self, s: usize) -> Option<f64> {
        (self.pairs > 0)
            .then(|| self.won.get(s).copied().unwrap_or(0) as f64 * 100.0 / self.pairs as f64)
    }

    /// The figures as a summary, with the given unmatched counts.
    pub fn summary(&self, unmatched: [u64; 2]) -> MatchSummary {
        MatchSummary {
            pairs: self.pairs,
            won: self.won,
            ties: self.ties,
            lead_p50_ms: self.lead_ms_at(0.5),
            lead_p95_ms: self.lead_ms_at(0.95),
            lead_p99_ms: self.lead_ms_at(0.99),
            lead_max_ms: (self.pairs > 0).then(|| self.leads_us.max() as f64 / 1000.0),
            unmatched,
        }
    }
}

/// Pairs keys across streams 0 and 1.
///
/// The keys it holds (waiting for the other stream, or already paired) are bounded: past the
/// limit the oldest are forgotten, so a pair whose other stream is down, or a session of days,
/// does not grow memory without end. A forgotten waiting key still counts as unmatched.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    spec: KeySpec,
    /// Keys seen on one stream and not yet on the other, with their arrival time.
    pending: [HashMap<String, i64>; 2],
    /// Keys already paired, so a repeat (an SSE replay after a reconnect) is not counted as new.
    paired: HashSet<String>,
    /// Keys in the order they were kept (side 0 or 1 waiting, 2 paired), oldest first, for
    /// forgetting; an entry whose key has left its set since is skipped when it comes up.
    kept: VecDeque<(u8, String)>,
    /// Most keys kept.
    limit: usize,
    /// Waiting keys forgotten, per side.
    forgotten: [u64; 2],
    stats: MatchStats,
}

/// Keys a matcher keeps by default: a million (some 100 MB of short keys) covers hours of a fast
/// feed while bounding a run of days.
const KEEP_KEYS: usize = 1_000_000;

impl Matcher {
    /// A matcher taking keys as `spec` says.
    pub(crate) fn new(spec: KeySpec) -> Self {
        Matcher {
            spec,
            pending: [HashMap::new(), HashMap::new()],
            paired: HashSet::new(),
            kept: VecDeque::new(),
            limit: KEEP_KEYS,
            forgotten: [0; 2],
            stats: MatchStats::default(),
        }
    }

    /// Keeps at most `limit` keys.
    #[must_use]
    pub(crate) fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// Feeds one record; returns the `match` record when it completes a pair. Only received events
    /// and messages on streams 0 and 1 take part.
    pub(crate) fn feed(&mut self, rec: &Record) -> Option<Record> {
        if rec.stream > 1 {
            return None;
        }
        let (key, first, lead_ms, ts_us) = self.complete(rec.stream, rec)?;
        // The match is known when the second delivery arrives; stamp it then, on that stream.
        Some(Record::new(
            ts_us,
            rec.stream,
            rec.proto,
            Kind::Match {
                key,
                first,
                lead_ms,
            },
        ))
    }

    /// Feeds a record as side `side` (0 or 1) of the pair, whatever its stream index; returns the
    /// side that delivered first (`None` for a tie) and the lead when it completes a pair.
    pub(crate) fn pair(&mut self, side: usize, rec: &Record) -> Option<(Option<usize>, f64)> {
        self.complete(side, rec)
            .map(|(_, first, lead_ms, _)| (first, lead_ms))
    }

    /// The pairing itself: key, first side, lead and the time the pair became known.
    fn complete(&mut self, side: usize, rec: &Record) -> Option<(String, Option<usize>, f64, i64)> {
        if side > 1 || rec.dir != Some(Dir::In) || !rec.kind.is_countable() {
            return None;
        }
        let key = self.spec.key_of(&rec.kind)?;
        if self.paired.contains(&key) {
            return None;
        }
        let other = 1 - side;
        let Some(other_ts) = self.pending[other].remove(&key) else {
            // First sighting on this stream wins over a later repeat on the same stream.
            if !self.pending[side].contains_key(&key) {
                self.keep(side as u8, &key);
                self.pending[side].insert(key, rec.ts_us);
            }
            return None;
        };
        let (first, lead_us) = match rec.ts_us.cmp(&other_ts) {
            std::cmp::Ordering::Less => (Some(side), other_ts - rec.ts_us),
            std::cmp::Ordering::Greater => (Some(other), rec.ts_us - other_ts),
            std::cmp::Ordering::Equal => (None, 0),
        };
        let lead_ms = lead_us as f64 / 1000.0;
        self.stats.add(first, lead_ms);
        self.keep(2, &key);
        self.paired.insert(key.clone());
        Some((key, first, lead_ms, rec.ts_us.max(other_ts)))
    }

    /// Notes a key kept in `set`, forgetting the oldest past the limit.
    fn keep(&mut self, set: u8, key: &str) {
        self.kept.push_back((set, key.to_owned()));
        while self.kept.len() > self.limit {
            let Some((set, old)) = self.kept.pop_front() else {
                break;
            };
            match set {
                0 | 1 => {
                    if self.pending[usize::from(set)].remove(&old).is_some() {
                        self.forgotten[usize::from(set)] += 1;
                    }
                }
                _ => {
                    self.paired.remove(&old);
                }
            }
        }
    }

    /// Keys each stream delivered that the other never did (so far).
    pub(crate) fn unmatched(&self) -> [u64; 2] {
        [0, 1].map(|s| self.pending[s].len() as u64 + self.forgotten[s])
    }

    /// The figures so far.
    pub(crate) fn summary(&self) -> MatchSummary {
        self.stats.summary(self.unmatched())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{event, text};

    /// `data` received at `ts_us`: an SSE `tick` event on stream 0, a WebSocket message on 1.
    fn ev(stream: usize, ts_us: i64, data: &str) -> Record {
        let r = if stream == 0 {
            event(ts_us, data).named("tick").id(&format!("id-{data}"))
        } else {
            text(ts_us, data).on(stream)
        };
        r.dir(Dir::In)
    }

    fn seq(n: u32) -> String {
        format!("{{\"seq\":{n},\"p\":1.5}}")
    }

    #[test]
    fn pairs_by_pointer_and_says_who_was_first() {
        let mut m = Matcher::new(KeySpec::parse("/seq").expect("spec"));
        assert!(m.feed(&ev(0, 1_000, &seq(1))).is_none());
        let r = m.feed(&ev(1, 1_300, &seq(1))).expect("pair");
        assert_eq!(r.ts_us, 1_300);
        assert_eq!(r.stream, 1);
        assert_eq!(
            r.kind,
            Kind::Match {
                key: "1".into(),
                first: Some(0),
                lead_ms: 0.3
            }
        );
        // Stream 1 first this time, by 2 ms.
        assert!(m.feed(&ev(1, 10_000, &seq(2))).is_none());
        let r = m.feed(&ev(0, 12_000, &seq(2))).expect("pair");
        assert!(
            matches!(r.kind, Kind::Match { first: Some(1), lead_ms, .. } if (lead_ms - 2.0).abs() < 1e-9)
        );
        // Same microsecond: a tie.
        m.feed(&ev(0, 20_000, &seq(3)));
        let r = m.feed(&ev(1, 20_000, &seq(3))).expect("pair");
        assert!(matches!(r.kind, Kind::Match { first: None, .. }));
        let s = m.summary();
        assert_eq!((s.pairs, s.won, s.ties), (3, [1, 1], 1));
        assert_eq!(s.lead_max_ms, Some(2.0));
        assert_eq!(s.lead_p50_ms, Some(0.3));
        assert_eq!(s.unmatched, [0, 0]);
    }

    #[test]
    fn unmatched_repeats_and_keyless_records() {
        let mut m = Matcher::new(KeySpec::Pointer("/seq".into()));
        m.feed(&ev(0, 1, &seq(1)));
        // A repeat on the same stream keeps the first arrival time.
        m.feed(&ev(0, 5_000, &seq(1)));
        let r = m.feed(&ev(1, 2_001, &seq(1))).expect("pair");
        assert!(
            matches!(r.kind, Kind::Match { first: Some(0), lead_ms, .. } if (lead_ms - 2.0).abs() < 1e-9)
        );
        // A repeat after the pair is neither a new pair nor unmatched.
        assert!(m.feed(&ev(1, 9_000, &seq(1))).is_none());
        // Not JSON, no such field, sent rather than received: no key.
        m.feed(&ev(0, 10, "plain text"));
        m.feed(&ev(0, 11, "{\"other\":1}"));
        m.feed(&ev(1, 12, &seq(7)).dir(Dir::Out));
        m.feed(&ev(0, 13, &seq(5)));
        m.feed(&ev(1, 14, &seq(6)));
        m.feed(&ev(1, 15, &seq(8)));
        assert_eq!(m.unmatched(), [1, 2]);
        assert_eq!(m.summary().pairs, 1);
    }

    #[test]
    fn sse_id_and_string_keys() {
        let mut m = Matcher::new(KeySpec::parse("id").expect("spec"));
        m.feed(&ev(0, 1, "a"));
        // WebSocket messages have no SSE id: never paired by `id`.
        assert!(m.feed(&ev(1, 2, "a")).is_none());
        assert_eq!(m.unmatched(), [1, 0]);
        let spec = KeySpec::parse("/k").expect("spec");
        assert_eq!(
            spec.key_of(&ev(1, 0, "{\"k\":\"x\"}").kind),
            Some("x".into())
        );
        assert_eq!(spec.key_of(&ev(1, 0, "{\"k\":null}").kind), None);
        assert!(KeySpec::parse("seq").is_err());
    }

    #[test]
    fn percentiles_over_many_pairs() {
        let mut m = Matcher::new(KeySpec::Pointer("/seq".into()));
        // Leads of 1..=100 µs·10, stream 0 always first.
        for n in 1..=100u32 {
            let t = i64::from(n) * 1_000_000;
            m.feed(&ev(0, t, &seq(n)));
            m.feed(&ev(1, t + i64::from(n) * 10, &seq(n)));
        }
        let s = m.summary();
        assert_eq!(s.won, [100, 0]);
        assert_eq!(s.lead_p50_ms, Some(0.5));
        assert_eq!(s.lead_p95_ms, Some(0.95));
        assert_eq!(s.lead_p99_ms, Some(0.99));
        assert_eq!(s.lead_max_ms, Some(1.0));
    }

    #[test]
    fn kept_keys_are_bounded_and_forgotten_ones_count_as_unmatched() {
        let mut m = Matcher::new(KeySpec::parse("/seq").expect("spec")).with_limit(10);
        // Stream 1 is down: stream 0's keys wait, at most 10 of them.
        for n in 0..100 {
            assert!(m.feed(&ev(0, i64::from(n), &seq(n))).is_none());
        }
        assert_eq!(m.pending[0].len(), 10);
        assert!(m.kept.len() <= 10);
        assert_eq!(m.unmatched(), [100, 0]);
        // A recent key still pairs; a forgotten one waits as new.
        assert!(m.feed(&ev(1, 1_000, &seq(99))).is_some());
        assert!(m.feed(&ev(1, 1_000, &seq(0))).is_none());
        assert_eq!(m.summary().pairs, 1);
        // Paired keys are bounded too: a long run pairs without growing.
        for n in 1_000..1_100 {
            m.feed(&ev(0, i64::from(n), &seq(n)));
            m.feed(&ev(1, i64::from(n) + 5, &seq(n)));
        }
        assert_eq!(m.summary().pairs, 101);
        assert!(m.paired.len() <= 10 && m.kept.len() <= 10);
    }
}
