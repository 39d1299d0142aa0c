//! What the import and the export of HAR files share: the lint rules the import writes,
//! streamscope's own fields in a HAR, and the units (HAR durations are milliseconds, message times
//! Unix seconds, records microseconds).

/// Lint rule of the import: a time the HAR does not carry was estimated (a WebSocket handshake
/// in a Chrome HAR, SSE events saved as a body without their own times, events DevTools stamped
/// before the response arrived). The message says which and how.
pub(super) const LINT_ESTIMATED: &str = "har-estimated";

/// Lint rule of the import: the HAR lacks part of the stream (Firefox saves no WebSocket
/// messages; DevTools' sanitized export removes the event data).
pub(super) const LINT_INCOMPLETE: &str = "har-incomplete";

/// streamscope's entry field for the handshake (ms), which no browser's HAR carries for a
/// WebSocket that sent or received a message. Written by `--har`, read back by the import.
pub(super) const HANDSHAKE_FIELD: &str = "_handshakeMs";

/// streamscope's entry fields for the `open` record's `compression_offered` and `compression`
/// (what was offered to compress, what is in use), written only when set.
pub(super) const COMPRESSION_FIELDS: [&str; 2] = ["_compressionOffered", "_compression"];

/// streamscope's entry field for the lint records of the entry's connection
/// (`[{time, rule, message}]`), so a round trip keeps them (and with them what was estimated).
pub(super) const LINTS_FIELD: &str = "_lints";

/// Milliseconds (a HAR duration) to whole microseconds; negative, missing or not finite is 0.
pub(super) fn ms_to_us(ms: f64) -> i64 {
    if ms.is_finite() && ms > 0.0 {
        (ms * 1000.0).round() as i64
    } else {
        0
    }
}

/// Unix seconds with a fraction (`_webSocketMessages[].time`) from microseconds.
pub(super) fn secs(ts_us: i64) -> f64 {
    ts_us as f64 / 1e6
}

/// Wire size of one unfragmented frame carrying `len` payload bytes (masked frames add 4).
pub(super) fn frame_wire_bytes(len: usize, masked: bool) -> u64 {
    let header = match len {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
    };
    (header + len + if masked { 4 } else { 0 }) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes() {
        assert_eq!(frame_wire_bytes(5, false), 7);
        assert_eq!(frame_wire_bytes(5, true), 11);
        assert_eq!(frame_wire_bytes(126, false), 130);
        assert_eq!(frame_wire_bytes(70_000, false), 70_010);
    }

    #[test]
    fn durations_round_to_microseconds_and_negatives_mean_nothing() {
        assert_eq!(ms_to_us(185.027), 185_027);
        assert_eq!(ms_to_us(-1.0), 0);
        assert_eq!(ms_to_us(f64::NAN), 0);
        assert_eq!(
            (secs(1_796_078_837_573_838) * 1e6).round() as i64,
            1_796_078_837_573_838
        );
    }
}
