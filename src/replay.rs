//! `streamscope replay FILE`: a recording, a `--json` capture or a HAR file as a source of records,
//! sent over the same channel as live connections with the original timing (scaled by `--speed`),
//! so the dashboard, `--json`, `--match` and `--record` work on it unchanged.
//!
//! Records are due at `start + (ts - first ts) / speed`; records that fall due together travel as
//! one batch, as records of one socket read do live. Their `ts`, `gap_ms` and byte counts are
//! replayed as recorded, never re-stamped, which is why a replay's statistics equal the live run's.

use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::capture::control::Control;
use crate::ingest::recording::Loaded;
use crate::record::Record;
use crate::record::batch::RecordBatch;

/// How fast a replay runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// This many times the original pace (1 is real time).
    Factor(f64),
    /// As fast as the consumer takes them.
    Max,
}

impl std::fmt::Display for Speed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Speed::Factor(x) => write!(f, "×{x}"),
            Speed::Max => f.write_str("max"),
        }
    }
}

/// Parses `--speed`: a positive factor (`4`, `0.5`) or `max`.
pub fn parse_speed(s: &str) -> Result<Speed, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(Speed::Factor(x)),
        _ => Err(format!(
            "invalid speed '{s}': use a positive number (4, 0.5) or max"
        )),
    }
}

/// Reads a recording, `--json` capture or HAR file. An unreadable or unrecognisable file is an
/// error (exit code 2); bad lines inside a recording are `error` records in place.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("{}: not UTF-8 text ({e})", path.display()))?;
    let loaded = match crate::ingest::har::parse_har(&text) {
        Some(har) => crate::ingest::har::import(&har),
        None => crate::ingest::recording::parse(&text),
    };
    loaded.map_err(|e| format!("{}: {e}", path.display()))
}

/// Records per batch at `--speed max`, so the consumer sees progress and memory stays flat.
const MAX_SPEED_BATCH: usize = 1024;

/// Sends `records` on `tx` with their original timing. Resolves to false (a replay never fails
/// like a connection does) when all are sent, the consumer has gone, or `Control::Shutdown` comes
/// on `controls` (other controls mean nothing to a recording and are ignored).
pub fn spawn(
    records: Vec<Record>,
    speed: Speed,
    tx: UnboundedSender<RecordBatch>,
    mut controls: tokio::sync::mpsc::UnboundedReceiver<Control>,
) -> JoinHandle<bool> {
    tokio::spawn(async move {
        let Some(origin) = records.first().map(|r| r.ts_us) else {
            return false;
        };
        let start = tokio::time::Instant::now();
        let due = |r: &Record| match speed {
            Speed::Max => start,
            Speed::Factor(x) => {
                let offset_us = (r.ts_us - origin).max(0) as f64 / x;
                start + Duration::from_micros(offset_us as u64)
            }
        };
        let mut it = records.into_iter().peekable();
        while let Some(next) = it.peek() {
            let sleep = tokio::time::sleep_until(due(next));
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    c = controls.recv() => match c {
                        Some(Control::Shutdown) => return false,
                        Some(_) => {}
                        // Nobody can ask anything any more; keep replaying.
                        None => sleep.as_mut().await,
                    },
                }
            }
            let now = tokio::time::Instant::now();
            let mut batch = Vec::new();
            while let Some(r) = it.next_if(|r| due(r) <= now) {
                batch.push(r);
                if speed == Speed::Max && batch.len() == MAX_SPEED_BATCH {
                    break;
                }
            }
            if tx.send(batch.into()).is_err() {
                break;
            }
            if speed == Speed::Max {
                tokio::task::yield_now().await;
            }
        }
        false
    })
}

/// The dashboard's notion of "now" during a replay: data time, running at the replay's pace, so
/// rates, sparklines and "heartbeat 2 s ago" read as they did live.
#[derive(Debug, Clone, Copy)]
pub struct ReplayClock {
    /// When the replay started.
    pub start: std::time::Instant,
    /// `ts` of the first record.
    pub origin_us: i64,
    /// The replay's pace.
    pub speed: Speed,
}

impl ReplayClock {
    /// Data time now; `latest_us` (the newest record applied) is used once the replay is over and
    /// at `--speed max`, so the figures stay those of the end of the recording.
    pub fn now_us(&self, latest_us: Option<i64>, finished: bool) -> i64 {
        let running = match self.speed {
            Speed::Factor(x) if !finished => {
                let elapsed = self.start.elapsed().as_secs_f64() * x * 1e6;
                Some(self.origin_us.saturating_add(elapsed as i64))
            }
            _ => None,
        };
        running.or(latest_us).unwrap_or(self.origin_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::comment;

    /// A record that names its own time.
    fn at(ts_us: i64) -> Record {
        comment(ts_us, &ts_us.to_string())
    }

    #[test]
    fn speeds() {
        assert_eq!(parse_speed("4"), Ok(Speed::Factor(4.0)));
        assert_eq!(parse_speed("MAX"), Ok(Speed::Max));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("-1").is_err());
        assert!(parse_speed("fast").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn timing_follows_ts_scaled_by_speed() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (_ctl, ctl_rx) = tokio::sync::mpsc::unbounded_channel();
        let t0 = 1_000_000_000;
        // Two records in one moment, then 1 s and 3 s later; at ×2 they are due at 0, 0.5 s, 1.5 s.
        let task = spawn(
            vec![at(t0), at(t0), at(t0 + 1_000_000), at(t0 + 3_000_000)],
            Speed::Factor(2.0),
            tx,
            ctl_rx,
        );
        let start = tokio::time::Instant::now();
        let mut seen = Vec::new();
        while let Some(batch) = rx.recv().await {
            seen.push((start.elapsed().as_millis(), batch.len()));
        }
        assert!(!task.await.expect("task"));
        assert_eq!(seen, vec![(0, 2), (500, 1), (1500, 1)]);
    }

    #[test]
    fn the_replay_clock_runs_at_the_replay_pace_and_stops_at_the_end() {
        let clock = ReplayClock {
            start: std::time::Instant::now()
                .checked_sub(Duration::from_secs(2))
                .expect("2 s after boot"),
            origin_us: 1_000_000,
            speed: Speed::Factor(4.0),
        };
        let now = clock.now_us(Some(1_500_000), false);
        // 2 s at ×4 is 8 s of data time (give or take the test's own run time).
        assert!((9_000_000..9_500_000).contains(&now), "{now}");
        assert_eq!(clock.now_us(Some(1_500_000), true), 1_500_000);
        let max = ReplayClock {
            speed: Speed::Max,
            ..clock
        };
        assert_eq!(max.now_us(Some(7), false), 7);
        assert_eq!(max.now_us(None, false), 1_000_000);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_a_replay() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (ctl, ctl_rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn(
            vec![at(0), at(3_600_000_000)],
            Speed::Factor(1.0),
            tx,
            ctl_rx,
        );
        assert_eq!(rx.recv().await.map(|b| b.len()), Some(1));
        ctl.send(Control::Ping).expect("send");
        ctl.send(Control::Shutdown).expect("send");
        let start = tokio::time::Instant::now();
        assert!(!task.await.expect("task"));
        assert!(rx.recv().await.is_none());
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn max_speed_sends_everything_at_once_in_chunks() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (_ctl, ctl_rx) = tokio::sync::mpsc::unbounded_channel();
        let records: Vec<Record> = (0..2500).map(|i| at(i * 1_000_000)).collect();
        spawn(records, Speed::Max, tx, ctl_rx);
        let start = tokio::time::Instant::now();
        let mut sizes = Vec::new();
        while let Some(batch) = rx.recv().await {
            sizes.push(batch.len());
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(sizes, vec![1024, 1024, 452]);
    }
}
