//! Prometheus metrics of running streams (`streamscope monitor --metrics ADDR`): a sink beside the
//! JSON one, fed by the same record channel, that turns each record into counter, gauge and
//! histogram updates as it arrives, and an HTTP endpoint ([`http`]) that encodes them when scraped.
//!
//! Every series is labelled by the stream's name (its config name, or `#N` for a URL given on the
//! command line) and protocol, never by URL: URLs carry tokens. The per-stream series are created
//! once, when the sink starts, and kept as handles, so a record costs a few atomic additions and a
//! histogram bucket, with no allocation and no label lookup; only the rare records with a label of
//! their own (a lint's rule, a reconnect's reason) look their series up. Histograms have fixed
//! buckets and the label values are bounded (rules and reason classes are finite), so memory stays
//! flat however long the monitor runs. The ages (last record, last heartbeat) are computed when
//! scraped, from the wall clock, by a collector.
//!
//! The figures are made with `prometheus-client`, the Prometheus project's Rust crate; its metrics
//! are atomics (histograms a short mutex) shared with the endpoint, which only reads them.

pub(crate) mod http;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread::JoinHandle;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::ingest::matcher::{KeySpec, Matcher};
use crate::record::batch::RecordBatch;
use crate::record::kinds::KINDS;
use crate::record::{Dir, Kind, Record, StreamInfo};

/// Keys a matcher keeps while waiting for the other stream (and keys already paired, which only
/// serve to ignore a resumed stream's repeats): bounds the memory of a pair, about 1.5 MB, even
/// when its other stream is down. At 20 pairs a second it is full after about four minutes.
const MATCH_KEYS: usize = 10_000;

/// Upper bounds of the gap histogram, in seconds: a firehose's microseconds to a minute's silence.
const GAP_BUCKETS: [f64; 16] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// Upper bounds of the match lead histogram, in seconds.
const LEAD_BUCKETS: [f64; 12] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A stream's connection states; one of them is 1 at a time.
const STATES: [&str; 6] = [
    "connecting",
    "open",
    "reconnecting",
    "closed",
    "failed",
    "ended",
];

/// The labels of every series of a stream.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StreamLabels {
    /// The config name, or `#N`.
    stream: String,
    /// `sse` or `ws`.
    proto: &'static str,
}

impl StreamLabels {
    /// The labels of a stream: its name, never its URL.
    pub(crate) fn of(info: &StreamInfo) -> StreamLabels {
        StreamLabels {
            stream: info
                .name
                .clone()
                .unwrap_or_else(|| format!("#{}", info.index)),
            proto: info.proto.as_str(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    stream: String,
    proto: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirLabels {
    stream: String,
    proto: &'static str,
    dir: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    stream: String,
    proto: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    stream: String,
    proto: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    stream: String,
    proto: &'static str,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PairLabels {
    stream: String,
    other: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FirstLabels {
    stream: String,
    other: String,
    first: String,
}

/// A float gauge.
type GaugeF = Gauge<f64, std::sync::atomic::AtomicU64>;

/// The families, registered once; the sink keeps handles into them.
#[derive(Debug)]
struct Families {
    up: Family<StreamLabels, Gauge>,
    state: Family<StateLabels, Gauge>,
    reconnects: Family<ReasonLabels, Counter>,
    records: Family<KindLabels, Counter>,
    wire: Family<DirLabels, Counter>,
    payload: Family<DirLabels, Counter>,
    gaps: Family<StreamLabels, Histogram, fn() -> Histogram>,
    id_gaps: Family<StreamLabels, Counter>,
    missing: Family<StreamLabels, Counter>,
    lints: Family<RuleLabels, Counter>,
    rtt: Family<StreamLabels, GaugeF>,
    handshake: Family<StreamLabels, GaugeF>,
    lead: Family<PairLabels, Histogram, fn() -> Histogram>,
    first: Family<FirstLabels, Counter>,
}

fn gap_histogram() -> Histogram {
    Histogram::new(GAP_BUCKETS)
}

fn lead_histogram() -> Histogram {
    Histogram::new(LEAD_BUCKETS)
}

/// One stream's series, as handles (cloned out of the families: they share the values).
#[derive(Debug)]
struct Series {
    labels: StreamLabels,
    up: Gauge,
    state: Vec<Gauge>,
    current: usize,
    records: Vec<Counter>,
    wire: [Counter; 2],
    payload: [Counter; 2],
    gaps: Histogram,
    id_gaps: Counter,
    missing: Counter,
    /// WebSocket streams only (SSE has no pings).
    rtt: Option<GaugeF>,
    handshake: GaugeF,
    /// Data time of the last record and of the last heartbeat (comment, ping, pong), µs; `i64::MIN`
    /// before any. Shared with the collector that turns them into ages when scraped.
    last_us: Arc<AtomicI64>,
    heartbeat_us: Arc<AtomicI64>,
}

/// A pair of streams matched by a key.
#[derive(Debug)]
struct Pair {
    streams: [usize; 2],
    matcher: Matcher,
    lead: Histogram,
    first: [Counter; 3],
}

/// The figures of a monitor's streams, computed as records arrive.
#[derive(Debug)]
pub(crate) struct Metrics {
    families: Arc<Families>,
    series: Vec<Series>,
    pairs: Vec<Pair>,
}

impl Metrics {
    /// Series for `streams` (positions are the records' stream indexes) and the matched `pairs`
    /// (positions and key); returns the sink's state and the registry the endpoint encodes.
    pub(crate) fn new(
        streams: &[StreamInfo],
        pairs: &[(usize, usize, KeySpec)],
    ) -> (Metrics, Arc<Registry>) {
        let families = Arc::new(Families {
            up: Family::default(),
            state: Family::default(),
            reconnects: Family::default(),
            records: Family::default(),
            wire: Family::default(),
            payload: Family::default(),
            gaps: Family::new_with_constructor(gap_histogram as fn() -> Histogram),
            id_gaps: Family::default(),
            missing: Family::default(),
            lints: Family::default(),
            rtt: Family::default(),
            handshake: Family::default(),
            lead: Family::new_with_constructor(lead_histogram as fn() -> Histogram),
            first: Family::default(),
        });
        let series: Vec<Series> = streams.iter().map(|s| series(&families, s)).collect();
        let pairs = pairs
            .iter()
            .filter(|(a, b, _)| *a < series.len() && *b < series.len() && a != b)
            .map(|(a, b, spec)| {
                let name = |i: usize| series[i].labels.stream.clone();
                let labels = PairLabels {
                    stream: name(*a),
                    other: name(*b),
                };
                let first = |f: String| {
                    families.first.get_or_create_owned(&FirstLabels {
                        stream: name(*a),
                        other: name(*b),
                        first: f,
                    })
                };
                Pair {
                    streams: [*a, *b],
                    matcher: Matcher::new(spec.clone()).with_limit(MATCH_KEYS),
                    lead: families.lead.get_or_create_owned(&labels),
                    first: [first(name(*a)), first(name(*b)), first("tie".to_owned())],
                }
            })
            .collect();
        let registry = register(&families, &series);
        (
            Metrics {
                families,
                series,
                pairs,
            },
            Arc::new(registry),
        )
    }

    /// Applies one record: O(1), no allocation except for a lint's or reconnect's first
    /// occurrence of a label.
    pub(crate) fn apply(&mut self, r: &Record) {
        if matches!(r.kind, Kind::Match { .. } | Kind::MatchSummary(_)) {
            return;
        }
        for pair in &mut self.pairs {
            let Some(side) = pair.streams.iter().position(|&s| s == r.stream) else {
                continue;
            };
            if let Some((first, lead_ms)) = pair.matcher.pair(side, r) {
                pair.lead.observe(lead_ms / 1000.0);
                pair.first[first.unwrap_or(2)].inc();
            }
        }
        let Some(s) = self.series.get_mut(r.stream) else {
            return;
        };
        s.records[r.kind.index()].inc();
        let dir = usize::from(r.dir == Some(Dir::Out));
        if let Some(n) = r.wire_bytes {
            s.wire[dir].inc_by(n);
        }
        if let Some(n) = r.payload_bytes {
            s.payload[dir].inc_by(n);
        }
        if let Some(gap) = r.gap_ms
            && gap.is_finite()
            && gap >= 0.0
        {
            s.gaps.observe(gap / 1000.0);
        }
        s.last_us.fetch_max(r.ts_us, Ordering::Relaxed);
        follow(s, &self.families, r);
    }
}

/// The figures only some kinds change: state, heartbeat, RTT, handshake, reconnects, id gaps,
/// lints.
fn follow(s: &mut Series, families: &Families, r: &Record) {
    let state = match &r.kind {
        Kind::Open { handshake_ms, .. } => {
            s.handshake.set(handshake_ms / 1000.0);
            Some(1)
        }
        Kind::Comment { .. } | Kind::Ping { .. } => {
            s.heartbeat_us.fetch_max(r.ts_us, Ordering::Relaxed);
            None
        }
        Kind::Pong { rtt_ms, .. } => {
            s.heartbeat_us.fetch_max(r.ts_us, Ordering::Relaxed);
            if let (Some(rtt), Some(gauge)) = (rtt_ms, &s.rtt) {
                gauge.set(rtt / 1000.0);
            }
            None
        }
        Kind::Reconnect { reason, .. } => {
            families
                .reconnects
                .get_or_create(&ReasonLabels {
                    stream: s.labels.stream.clone(),
                    proto: s.labels.proto,
                    reason: reason_class(reason),
                })
                .inc();
            Some(2)
        }
        Kind::Close { .. } => Some(3),
        Kind::End { failed, .. } => Some(if *failed { 4 } else { 5 }),
        Kind::IdGap { missing, .. } => {
            s.id_gaps.inc();
            s.missing.inc_by(*missing);
            None
        }
        Kind::Lint { rule, .. } => {
            families
                .lints
                .get_or_create(&RuleLabels {
                    stream: s.labels.stream.clone(),
                    proto: s.labels.proto,
                    rule: rule.clone(),
                })
                .inc();
            None
        }
        _ => None,
    };
    if let Some(state) = state
        && state != s.current
    {
        s.state[s.current].set(0);
        s.state[state].set(1);
        s.current = state;
        s.up.set(i64::from(state == 1));
    }
}

/// A reconnect's reason as one of a few classes: the reason itself is free text (HTTP statuses,
/// close codes, OS error messages), which would make a label of unbounded cardinality.
pub(crate) fn reason_class(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
    if has(&["idle timeout"]) {
        "idle-timeout"
    } else if has(&["reconnect requested"]) {
        "manual"
    } else if has(&["timed out", "timeout"]) {
        "timeout"
    } else if has(&["tls", "certificate"]) {
        "tls"
    } else if has(&["dns", "resolve", "lookup", "name or service"]) {
        "dns"
    } else if has(&["refused", "connect failed", "unreachable"]) {
        "connect"
    } else if r.starts_with("http ") {
        "http-status"
    } else if has(&["reset"]) {
        "reset"
    } else if r.starts_with("server closed:") {
        // A WebSocket close frame with its code.
        "close-frame"
    } else if has(&["server closed", "stream ended"]) {
        "server-closed"
    } else if has(&["stream broke", "unexpected eof", "broken pipe"]) {
        "broken"
    } else if has(&["protocol", "invalid", "frame", "utf-8"]) {
        "protocol-error"
    } else {
        "other"
    }
}

fn series(families: &Families, info: &StreamInfo) -> Series {
    let labels = StreamLabels::of(info);
    let with = |f: &Family<StreamLabels, Counter>| f.get_or_create_owned(&labels);
    let dir = |f: &Family<DirLabels, Counter>, d: &'static str| {
        f.get_or_create_owned(&DirLabels {
            stream: labels.stream.clone(),
            proto: labels.proto,
            dir: d,
        })
    };
    let state: Vec<Gauge> = STATES
        .iter()
        .map(|state| {
            families.state.get_or_create_owned(&StateLabels {
                stream: labels.stream.clone(),
                proto: labels.proto,
                state,
            })
        })
        .collect();
    state[0].set(1);
    Series {
        up: families.up.get_or_create_owned(&labels),
        state,
        current: 0,
        // Every kind, so a kind's index is its counter's (the pair kinds stay 0 here).
        records: KINDS
            .iter()
            .map(|k| {
                families.records.get_or_create_owned(&KindLabels {
                    stream: labels.stream.clone(),
                    proto: labels.proto,
                    kind: k.name,
                })
            })
            .collect(),
        wire: [dir(&families.wire, "in"), dir(&families.wire, "out")],
        payload: [dir(&families.payload, "in"), dir(&families.payload, "out")],
        gaps: families.gaps.get_or_create_owned(&labels),
        id_gaps: with(&families.id_gaps),
        missing: with(&families.missing),
        rtt: (info.proto == crate::record::Proto::Ws)
            .then(|| families.rtt.get_or_create_owned(&labels)),
        handshake: families.handshake.get_or_create_owned(&labels),
        last_us: Arc::new(AtomicI64::new(i64::MIN)),
        heartbeat_us: Arc::new(AtomicI64::new(i64::MIN)),
        labels,
    }
}

/// The registry: every family under `streamscope_`, and the ages collector.
fn register(families: &Families, series: &[Series]) -> Registry {
    let mut r = Registry::with_prefix("streamscope");
    let f = families;
    r.register(
        "stream_up",
        "1 while the stream's connection is open",
        f.up.clone(),
    );
    r.register(
        "stream_state",
        "The stream's connection state (1 for the current one)",
        f.state.clone(),
    );
    r.register(
        "reconnects",
        "Reconnects scheduled, by class of reason",
        f.reconnects.clone(),
    );
    r.register("records", "Records by kind", f.records.clone());
    r.register_with_unit(
        "wire",
        "Bytes on the wire (framing included), by direction",
        Unit::Bytes,
        f.wire.clone(),
    );
    r.register_with_unit(
        "payload",
        "Decoded payload bytes, by direction",
        Unit::Bytes,
        f.payload.clone(),
    );
    r.register_with_unit(
        "gap",
        "Time between consecutive received records",
        Unit::Seconds,
        f.gaps.clone(),
    );
    r.register(
        "id_gaps",
        "Sequence gaps (lost or repeated records, numeric SSE ids or --seq)",
        f.id_gaps.clone(),
    );
    r.register(
        "missing_records",
        "Records skipped by sequence gaps",
        f.missing.clone(),
    );
    r.register("lints", "Lints by rule", f.lints.clone());
    r.register_with_unit(
        "ping_rtt",
        "Round trip of the last answered WebSocket ping",
        Unit::Seconds,
        f.rtt.clone(),
    );
    r.register_with_unit(
        "handshake",
        "Connect, TLS and response head time of the latest connection",
        Unit::Seconds,
        f.handshake.clone(),
    );
    r.register_with_unit(
        "match_lead",
        "How much earlier the first of two matched streams delivered a key",
        Unit::Seconds,
        f.lead.clone(),
    );
    r.register(
        "match_first",
        "Keys of a matched pair by the stream that delivered first (or tie)",
        f.first.clone(),
    );
    r.register_collector(Box::new(Ages {
        streams: series
            .iter()
            .map(|s| {
                (
                    s.labels.clone(),
                    Arc::clone(&s.last_us),
                    Arc::clone(&s.heartbeat_us),
                )
            })
            .collect(),
    }));
    r
}

/// Ages computed at scrape time: seconds since each stream's last record and last heartbeat.
#[derive(Debug)]
struct Ages {
    streams: Vec<(StreamLabels, Arc<AtomicI64>, Arc<AtomicI64>)>,
}

impl Collector for Ages {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = crate::record::time::unix_micros(std::time::SystemTime::now());
        for (name, help, pick) in [
            ("last_record_age", "Time since the stream's last record", 0),
            (
                "heartbeat_age",
                "Time since the stream's last heartbeat (SSE comment, WebSocket ping or pong)",
                1,
            ),
        ] {
            let gauge = ConstGauge::new(0.0_f64);
            let mut family =
                encoder.encode_descriptor(name, help, Some(&Unit::Seconds), gauge.metric_type())?;
            for (labels, last, heartbeat) in &self.streams {
                let at = if pick == 0 { last } else { heartbeat };
                let at = at.load(Ordering::Relaxed);
                if at == i64::MIN {
                    continue;
                }
                let age = (now - at).max(0) as f64 / 1e6;
                ConstGauge::new(age).encode(family.encode_family(labels)?)?;
            }
        }
        Ok(())
    }
}

/// Runs the sink on its own thread: applies every batch, then passes it on when `forward` (to the
/// JSON lines sink) or drops it (returning its backlog ticket).
pub(crate) fn spawn(
    mut metrics: Metrics,
    mut rx: UnboundedReceiver<RecordBatch>,
    forward: bool,
) -> (Option<UnboundedReceiver<RecordBatch>>, JoinHandle<()>) {
    let (tx, out) = if forward {
        let (tx, rx) = mpsc::unbounded_channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let handle = std::thread::spawn(move || {
        while let Some(batch) = rx.blocking_recv() {
            for r in &batch {
                metrics.apply(r);
            }
            if let Some(tx) = &tx {
                let _ = tx.send(batch);
            }
        }
    });
    (out, handle)
}

#[cfg(test)]
mod tests;
