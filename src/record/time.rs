//! Time stamps for records: wall clock for `ts`, a monotonic clock for gaps.
//!
//! Both are read once per socket read by the connection task, so every record from that read shares
//! one [`Stamp`]. Monotonic time is kept as nanoseconds since a process-wide anchor so it fits in an
//! atomic and can be passed around as a plain number.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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

/// `00` to `99`, two ASCII digits each.
pub(crate) const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};
/// Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since the epoch.
///
/// Records arrive many per second, so the `YYYY-MM-DDTHH:MM:SS.` part of the last second written
/// on this thread is kept and reused; only the microseconds are formatted per record.
pub fn write_rfc3339_micros(out: &mut Vec<u8>, ts_us: i64) {
    thread_local! {
        static LAST_SECOND: Cell<(i64, [u8; 20])> = const { Cell::new((i64::MIN, [0; 20])) };
    }
    let secs = ts_us.div_euclid(1_000_000);
    let micros = ts_us.rem_euclid(1_000_000) as usize;
    let prefix = LAST_SECOND.with(|last| {
        let (s, p) = last.get();
        if s == secs {
            p
        } else {
            let p = second_prefix(secs);
            last.set((secs, p));
            p
        }
    });
    let mut buf = [0u8; 27];
    buf[..20].copy_from_slice(&prefix);
    let (hi, mid, lo) = (
        micros / 10_000 * 2,
        micros / 100 % 100 * 2,
        micros % 100 * 2,
    );
    buf[20..22].copy_from_slice(&DIGIT_PAIRS[hi..hi + 2]);
    buf[22..24].copy_from_slice(&DIGIT_PAIRS[mid..mid + 2]);
    buf[24..26].copy_from_slice(&DIGIT_PAIRS[lo..lo + 2]);
    buf[26] = b'Z';
    out.extend_from_slice(&buf);
}

/// `YYYY-MM-DDTHH:MM:SS.` for seconds since the epoch.
fn second_prefix(secs: i64) -> [u8; 20] {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mut buf = [0u8; 20];
    let y = y.clamp(0, 9999) as u32;
    put2(&mut buf[0..2], y / 100);
    put2(&mut buf[2..4], y % 100);
    buf[4] = b'-';
    put2(&mut buf[5..7], m);
    buf[7] = b'-';
    put2(&mut buf[8..10], d);
    buf[10] = b'T';
    put2(&mut buf[11..13], hh);
    buf[13] = b':';
    put2(&mut buf[14..16], mm);
    buf[16] = b':';
    put2(&mut buf[17..19], ss);
    buf[19] = b'.';
    buf
}

fn put2(dst: &mut [u8], v: u32) {
    dst[0] = b'0' + (v / 10 % 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

/// Howard Hinnant's days-to-civil algorithm: proleptic Gregorian date for days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Microseconds since the Unix epoch for a [`SystemTime`].
pub fn unix_micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_matches_humantime() {
        for &us in &[
            0i64,
            1,
            999_999,
            1_764_067_655_123_456,
            951_782_400_000_000, // 2000-02-29
            4_102_444_799_999_999,
        ] {
            let mut out = Vec::new();
            write_rfc3339_micros(&mut out, us);
            let t = UNIX_EPOCH + Duration::from_micros(us as u64);
            assert_eq!(
                String::from_utf8(out).expect("ascii"),
                humantime::format_rfc3339_micros(t).to_string()
            );
        }
    }

    #[test]
    fn cached_second_is_not_reused_for_another_second() {
        let mut out = Vec::new();
        for &us in &[
            1_764_067_655_999_999i64,
            1_764_067_656_000_000,
            1_764_067_655_000_001,
            0,
        ] {
            out.clear();
            write_rfc3339_micros(&mut out, us);
            let t = UNIX_EPOCH + Duration::from_micros(us as u64);
            assert_eq!(
                String::from_utf8(out.clone()).expect("ascii"),
                humantime::format_rfc3339_micros(t).to_string()
            );
        }
    }
}
