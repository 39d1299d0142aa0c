//! When to try again: the reconnect delay as a pure function of the attempt number, the base delay
//! (`retry:` or `Retry-After`), the cap (`--max-backoff`) and a jitter value passed in.
//!
//! EventSource waits exactly the reconnection time after a stream ends; streamscope does the same for
//! the first attempt, so what the user sees matches what a browser does. Consecutive failures then
//! double the delay up to the cap, with jitter so that many clients do not return in lockstep.

use std::time::Duration;

/// Delay before reconnect attempt `attempt` (1-based), never above `cap`. `jitter` is a value in `[0, 1)`; the delay of
/// attempts after the first is scaled into `[0.8, 1.0]` of its exponential value.
pub(crate) fn delay(base: Duration, attempt: u32, cap: Duration, jitter: f64) -> Duration {
    if attempt <= 1 {
        return base.min(cap);
    }
    let doublings = (attempt - 1).min(30);
    let base_ms = base.as_millis().max(1) as f64;
    let exp = (base_ms * f64::from(1u32 << doublings.min(20))).min(cap.as_millis() as f64);
    let scaled = exp * (1.0 - 0.2 * jitter.clamp(0.0, 1.0));
    Duration::from_millis(scaled.round() as u64)
}

/// Parses a `Retry-After` header given in seconds (HTTP dates are rare on streams; ignored).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn first_attempt_waits_exactly_the_base() {
        assert_eq!(
            delay(Duration::from_millis(1500), 1, 30 * S, 0.9),
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn the_cap_bounds_the_first_attempt_too() {
        assert_eq!(delay(3 * S, 1, S, 0.0), S);
    }

    #[test]
    fn later_attempts_double_then_cap() {
        assert_eq!(delay(S, 2, 30 * S, 0.0), 2 * S);
        assert_eq!(delay(S, 3, 30 * S, 0.0), 4 * S);
        assert_eq!(delay(S, 10, 30 * S, 0.0), 30 * S);
        assert_eq!(delay(S, u32::MAX, 30 * S, 0.0), 30 * S);
    }

    #[test]
    fn jitter_only_shortens_up_to_a_fifth() {
        let d = delay(S, 3, 30 * S, 0.999_999);
        assert!(d >= Duration::from_millis(3200) && d < 4 * S, "{d:?}");
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 7 "), Some(7 * S));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
