//! Time stamps for records: wall clock for `ts`, a monotonic clock for gaps.
//!
//! Both are read once per socket read by the connection task, so every record from that read shares
//! one [`Stamp`]. Monotonic time is kept as nanoseconds since a process-wide anchor so it fits in an
//! atomic and can be passed around as a plain number.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use crate::record::unix_micros;

fn anchor() -> Instant {
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    *ANCHOR.get_or_init(Instant::now)
}

/// Nanoseconds on the monotonic clock since the process anchor.
pub fn mono_ns() -> u64 {
    u64::try_from(anchor().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The [`Instant`] for a monotonic value from [`mono_ns`].
pub fn instant_of(mono_ns: u64) -> Instant {
    anchor() + std::time::Duration::from_nanos(mono_ns)
}

/// When something happened, on both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Wall clock, microseconds since the Unix epoch.
    pub wall_us: i64,
    /// Monotonic nanoseconds since the process anchor.
    pub mono_ns: u64,
}

impl Stamp {
    /// Now.
    pub fn now() -> Self {
        // Read the monotonic clock first so the anchor exists before any wall time is paired with it.
        let mono_ns = mono_ns();
        Stamp {
            wall_us: unix_micros(SystemTime::now()),
            mono_ns,
        }
    }

    /// Milliseconds from `earlier` to `self` on the monotonic clock (0 if `earlier` is later).
    pub fn ms_since(self, earlier: Stamp) -> f64 {
        self.mono_ns.saturating_sub(earlier.mono_ns) as f64 / 1e6
    }
}
