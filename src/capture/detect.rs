//! Pure detectors over what a stream delivered: lost or repeated sequence numbers (the `id_gap`
//! record) and buffered bursts (the `buffered-burst` lint). No I/O and no clock: callers pass the
//! values and times in, so every rule is unit-tested with explicit numbers.

use crate::protocol::sse::same_str;

/// A burst counts as buffered when at least this many records arrive in one read...
pub(crate) const BURST_MIN_RECORDS: u64 = 10;
/// ...after at least this much silence (ms). A live stream trickles; a proxy or CDN that buffers
/// holds records back and then delivers them in one read.
pub(crate) const BURST_MIN_SILENCE_MS: f64 = 1000.0;

/// True when `records` events or messages arrived in a single read after `silence_ms` of silence:
/// the mark of a buffering intermediary.
pub(crate) fn buffered_burst(silence_ms: f64, records: u64) -> bool {
    records >= BURST_MIN_RECORDS && silence_ms > BURST_MIN_SILENCE_MS
}

/// A break in a sequence: the next number was not `expected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqBreak {
    /// The number that should have come.
    pub expected: u64,
    /// The number that came.
    pub got: u64,
    /// Numbers skipped.
    pub missing: u64,
    /// Numbers that came again.
    pub repeated: u64,
}

/// Follows the sequence numbers of one stream across its connections.
#[derive(Debug, Default, Clone)]
pub(crate) struct SeqTracker {
    last: Option<u64>,
    /// The raw SSE id of the previous event on this connection: an event without `id:` keeps the
    /// previous id, which is no repeat. A buffer reused for every id (no allocation per event);
    /// meaningful only while `has_raw_id`.
    last_raw_id: String,
    /// Whether `last_raw_id` holds an id of this connection.
    has_raw_id: bool,
    breaks: u64,
}

impl SeqTracker {
    /// A tracker that expects `start + 1` next when `start` is given (a `--last-event-id`).
    pub(crate) fn new(start: Option<u64>) -> Self {
        SeqTracker {
            last: start,
            ..SeqTracker::default()
        }
    }

    /// A new connection opened: its first id is compared even if it equals the last one (a
    /// resumed stream that sends the last seen id again did repeat it).
    pub(crate) fn new_connection(&mut self) {
        self.has_raw_id = false;
    }

    /// Breaks seen so far.
    pub(crate) fn breaks(&self) -> u64 {
        self.breaks
    }

    /// An SSE event's id (the last event id after it). Non-numeric ids are not a sequence; an id
    /// unchanged within a connection belongs to an event that carried none.
    pub(crate) fn observe_sse_id(&mut self, id: Option<&str>) -> Option<SeqBreak> {
        let id = id?;
        if self.has_raw_id && same_str(&self.last_raw_id, id) {
            return None;
        }
        self.last_raw_id.clear();
        self.last_raw_id.push_str(id);
        self.has_raw_id = true;
        let n = parse_seq_str(id)?;
        self.observe(n)
    }

    /// The next sequence number; a break when it is not one more than the previous.
    pub(crate) fn observe(&mut self, got: u64) -> Option<SeqBreak> {
        let prev = self.last.replace(got)?;
        let expected = prev.checked_add(1)?;
        if got == expected {
            return None;
        }
        self.breaks += 1;
        Some(SeqBreak {
            expected,
            got,
            missing: got.saturating_sub(expected),
            repeated: expected.saturating_sub(got),
        })
    }
}

/// A decimal sequence number: ASCII digits only (no sign, no spaces), fitting a `u64`.
pub(crate) fn parse_seq_str(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The sequence number at JSON pointer `pointer` (RFC 6901, e.g. `/seq`) in `data`: a non-negative
/// integer, or a string of digits. `None` when `data` is not JSON or the value is neither.
pub(crate) fn seq_from_json(data: &str, pointer: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    match value.pointer(pointer)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => parse_seq_str(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_needs_both_silence_and_many_records() {
        assert!(buffered_burst(1500.0, 10));
        assert!(buffered_burst(1000.1, 200));
        assert!(!buffered_burst(1000.0, 50), "silence must exceed 1 s");
        assert!(
            !buffered_burst(5000.0, 9),
            "a few records after a pause are normal"
        );
        assert!(
            !buffered_burst(2.0, 500),
            "a firehose is not a buffered burst"
        );
    }

    #[test]
    fn consecutive_numbers_are_no_break() {
        let mut t = SeqTracker::new(None);
        for n in 5..10 {
            assert_eq!(t.observe(n), None);
        }
        assert_eq!(t.breaks(), 0);
    }

    #[test]
    fn skipped_and_repeated_numbers_are_breaks() {
        let mut t = SeqTracker::new(Some(3));
        assert_eq!(
            t.observe(7),
            Some(SeqBreak {
                expected: 4,
                got: 7,
                missing: 3,
                repeated: 0
            })
        );
        assert_eq!(
            t.observe(6),
            Some(SeqBreak {
                expected: 8,
                got: 6,
                missing: 0,
                repeated: 2
            })
        );
        // The sequence goes on from the number that came.
        assert_eq!(t.observe(7), None);
        assert_eq!(t.breaks(), 2);
    }

    #[test]
    fn u64_max_does_not_overflow() {
        let mut t = SeqTracker::new(Some(u64::MAX));
        assert_eq!(t.observe(0), None);
    }

    #[test]
    fn sse_ids_equal_different_and_empty() {
        let mut t = SeqTracker::new(None);
        // Equal ids of different lengths' neighbours, and a longer id that shares a prefix.
        assert_eq!(t.observe_sse_id(Some("10")), None);
        assert_eq!(
            t.observe_sse_id(Some("10")),
            None,
            "equal: no event of its own"
        );
        assert_eq!(
            t.observe_sse_id(Some("100")),
            Some(SeqBreak {
                expected: 11,
                got: 100,
                missing: 89,
                repeated: 0
            }),
            "a different id that starts like the previous one"
        );
        assert_eq!(
            t.observe_sse_id(Some("101")),
            None,
            "the reused buffer holds 100"
        );
        // An empty raw id is an id like any other (not a sequence): it replaces the last one.
        assert_eq!(t.observe_sse_id(Some("")), None);
        assert_eq!(t.observe_sse_id(Some("")), None);
        assert_eq!(
            t.observe_sse_id(Some("101")),
            Some(SeqBreak {
                expected: 102,
                got: 101,
                missing: 0,
                repeated: 1
            }),
            "after an empty id, 101 is compared again"
        );
        // A new connection's first empty id is compared (and is no sequence either).
        t.new_connection();
        assert_eq!(t.observe_sse_id(Some("")), None);
        assert_eq!(t.breaks(), 2);
    }

    #[test]
    fn sse_ids_unchanged_within_a_connection_are_ignored() {
        let mut t = SeqTracker::new(None);
        assert_eq!(t.observe_sse_id(Some("1")), None);
        assert_eq!(t.observe_sse_id(Some("1")), None, "an event without id:");
        assert_eq!(t.observe_sse_id(Some("2")), None);
        assert_eq!(t.observe_sse_id(Some("abc")), None, "not a sequence");
        assert_eq!(t.observe_sse_id(None), None);
        // After a reconnect, the same id again is a repeat.
        t.new_connection();
        assert_eq!(
            t.observe_sse_id(Some("2")),
            Some(SeqBreak {
                expected: 3,
                got: 2,
                missing: 0,
                repeated: 1
            })
        );
    }

    #[test]
    fn seq_strings_are_plain_digits() {
        assert_eq!(parse_seq_str("42"), Some(42));
        for bad in ["", "-1", "+1", " 1", "1.0", "18446744073709551616"] {
            assert_eq!(parse_seq_str(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn seq_from_json_pointer() {
        assert_eq!(seq_from_json(r#"{"seq":12}"#, "/seq"), Some(12));
        assert_eq!(seq_from_json(r#"{"m":{"n":"7"}}"#, "/m/n"), Some(7));
        assert_eq!(seq_from_json(r#"{"seq":-1}"#, "/seq"), None);
        assert_eq!(seq_from_json(r#"{"seq":1.5}"#, "/seq"), None);
        assert_eq!(seq_from_json(r#"{"other":1}"#, "/seq"), None);
        assert_eq!(seq_from_json("not json", "/seq"), None);
    }
}
