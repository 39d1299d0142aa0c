//! The demo feed shared by `/sse` and `/ws`: which seq is due when, and what a tick says.
//!
//! Seq `n` is due at `start + n * interval`, where `start` is the server's start instant. Deriving
//! seq from the clock (instead of counting per connection) is what lets two clients, one on `/sse`
//! and one on `/ws`, see the same seq at about the same moment. The price is a pure function of
//! seq, so a resumed stream repeats exactly what a missed one would have said.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// The most missed events a `Last-Event-ID` resume replays at once; older ones are skipped so a
/// stale id cannot make the server dump hours of backlog.
pub(super) const MAX_BACKLOG: u64 = 1000;

/// One client's position in the feed.
#[derive(Debug)]
pub(super) struct Feed {
    start: Instant,
    interval: Duration,
    next: u64,
    remaining: Option<u64>,
}

impl Feed {
    /// A feed that starts with the next seq to fall due, or, when `resume_after` names a seq that
    /// is already past, with the one after it (missed seqs are then due at once).
    ///
    /// A `resume_after` ahead of the clock (an id from an earlier server run or another
    /// interval) is ignored: the feed restarts on the clock rather than stall until it catches up.
    pub(super) fn new(
        start: Instant,
        interval: Duration,
        resume_after: Option<u64>,
        count: Option<u64>,
    ) -> Self {
        Self::new_at(start, interval, resume_after, count, Instant::now())
    }

    /// [`Feed::new`] as of `now` (a pure function of the clock reading, for tests).
    fn new_at(
        start: Instant,
        interval: Duration,
        resume_after: Option<u64>,
        count: Option<u64>,
        now: Instant,
    ) -> Self {
        let current = seq_at(start, interval, now);
        let next = match resume_after {
            Some(last) if last < current => (last + 1).max(current.saturating_sub(MAX_BACKLOG) + 1),
            _ => current + 1,
        };
        Self {
            start,
            interval,
            next,
            remaining: count,
        }
    }

    /// When the next tick is due, or `None` when `count` ticks have been taken.
    pub(super) fn next_due(&self) -> Option<Instant> {
        if self.remaining == Some(0) {
            return None;
        }
        let offset = self
            .interval
            .as_nanos()
            .saturating_mul(u128::from(self.next));
        let offset = Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX));
        Some(self.start.checked_add(offset).unwrap_or_else(far_future))
    }

    /// The next tick, stamped with the current wall clock; advances the feed.
    pub(super) fn take(&mut self) -> Tick {
        let tick = Tick::new(self.next);
        self.next += 1;
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.saturating_sub(1);
        }
        tick
    }
}

/// The seq most recently due at `now`.
fn seq_at(start: Instant, interval: Duration, now: Instant) -> u64 {
    let elapsed = now.saturating_duration_since(start).as_nanos();
    // `interval` is at least 1 ms (checked by the config and the query parser).
    let seq = elapsed / interval.as_nanos().max(1);
    u64::try_from(seq).unwrap_or(u64::MAX)
}

/// An instant no stream will live to see, for overflowing due times.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// One event of the demo feed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tick {
    pub(super) seq: u64,
    pub(super) price: f64,
    pub(super) ts_ms: u64,
}

impl Tick {
    fn new(seq: u64) -> Self {
        let ts_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            seq,
            price: price(seq),
            ts_ms,
        }
    }

    /// The JSON payload, one line: `{"seq":42,"symbol":"ACME","price":101.37,"ts_ms":...}`.
    ///
    /// Written by hand to keep this field order (`serde_json`'s map would sort the keys) and a
    /// fixed two-decimal price.
    pub(super) fn json(&self) -> String {
        format!(
            r#"{{"seq":{},"symbol":"ACME","price":{:.2},"ts_ms":{}}}"#,
            self.seq, self.price, self.ts_ms
        )
    }
}

/// A plausible-looking price that depends on seq alone: a slow swing plus hashed jitter, in
/// cents. A true random walk would need every earlier step; this stays O(1) for any seq.
pub(super) fn price(seq: u64) -> f64 {
    let swing = (seq as f64 / 40.0).sin() * 3.0 + (seq as f64 / 7.0).sin() * 0.6;
    // splitmix64 finaliser: a cheap, well-mixed hash of seq.
    let mut z = seq.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let jitter = (z % 101) as f64 / 100.0 - 0.5;
    ((100.0 + swing + jitter) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_is_deterministic_and_near_100() {
        for seq in [0, 1, 42, 1_000_000, u64::MAX] {
            let p = price(seq);
            assert!((p - price(seq)).abs() < f64::EPSILON);
            assert!((95.0..=105.0).contains(&p), "price({seq}) = {p}");
            assert!((p * 100.0 - (p * 100.0).round()).abs() < 1e-6, "cents: {p}");
        }
        assert!(
            (price(1) - price(2)).abs() > f64::EPSILON
                || (price(2) - price(3)).abs() > f64::EPSILON
        );
    }

    #[test]
    fn tick_json_keeps_field_order() {
        let tick = Tick {
            seq: 42,
            price: 101.3,
            ts_ms: 7,
        };
        assert_eq!(
            tick.json(),
            r#"{"seq":42,"symbol":"ACME","price":101.30,"ts_ms":7}"#
        );
    }

    #[test]
    fn seq_follows_the_clock_and_resume() {
        let tick = Duration::from_millis(100);
        // A server that started 1.05 s ago: seq 10 is past, 11 is due in 50 ms. The clock reading
        // is given, so a busy machine cannot move it.
        let start = Instant::now();
        let now = start + Duration::from_millis(1050);
        let mut fresh = Feed::new_at(start, tick, None, Some(2), now);
        assert_eq!(fresh.next_due(), Some(start + Duration::from_millis(1100)));
        assert_eq!(fresh.take().seq, 11);
        assert_eq!(fresh.take().seq, 12);
        assert_eq!(fresh.next_due(), None);
        // Resuming after 7 replays 8, 9, 10 (already due) and goes on from there.
        let mut resumed = Feed::new_at(start, tick, Some(7), None, now);
        assert!(resumed.next_due().is_some_and(|due| due <= now));
        assert_eq!(resumed.take().seq, 8);
        // An id from the future restarts on the clock.
        let mut ahead = Feed::new_at(start, tick, Some(500), None, now);
        assert_eq!(ahead.take().seq, 11);
        // A client whose id is 2000 ticks old gets only the last MAX_BACKLOG of them.
        let tick = Duration::from_millis(10);
        let now = start + Duration::from_millis(20_055);
        let mut stale = Feed::new_at(start, tick, Some(3), None, now);
        assert_eq!(stale.take().seq, 2005 - MAX_BACKLOG + 1);
    }
}
