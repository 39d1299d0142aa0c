//! Builders for the records and streams the unit tests feed the store, the view, the matcher, the
//! writers and the replay: the one place that knows how a [`Record`] is put together, so that a
//! test spells out only what it is about.
//!
//! A record starts from its kind, at a time in microseconds, on stream 0, with the protocol the
//! kind implies and no traffic fields; chained setters change the rest:
//!
//! ```text
//! event(ts, "hello").named("tick").id("7").traffic(13, 5, 250.0)
//! text(ts, "{\"seq\":1}").on(1).dir(Dir::Out)
//! rec(ts, Kind::End { reason: "x".into(), failed: false }).on(1).proto(Proto::Ws)
//! ```
//!
//! Compiled for the library's unit tests only. The integration tests, benches and examples build
//! against the library as users do and cannot see it: `tests/support` is their kit.

use crate::record::{DataOpcode, Dir, Kind, Payload, Proto, Record, StreamInfo, event_type};

/// A record of `kind` at `ts_us` on stream 0, without traffic fields, speaking WebSocket for the
/// kinds only WebSocket has (messages, pings, pongs, closes) and SSE for the others; `.proto(..)`
/// says otherwise.
pub(crate) fn rec(ts_us: i64, kind: Kind) -> Record {
    let proto = match kind {
        Kind::Message { .. } | Kind::Ping { .. } | Kind::Pong { .. } | Kind::Close { .. } => {
            Proto::Ws
        }
        _ => Proto::Sse,
    };
    Record::new(ts_us, 0, proto, kind)
}

/// An SSE event of the default type (`message`) carrying `data`, with no id and no retry.
pub(crate) fn event(ts_us: i64, data: &str) -> Record {
    rec(
        ts_us,
        Kind::Event {
            event: event_type("message"),
            data: data.to_owned().into(),
            id: None,
            retry: None,
        },
    )
}

/// An SSE comment line.
pub(crate) fn comment(ts_us: i64, text: &str) -> Record {
    rec(
        ts_us,
        Kind::Comment {
            text: text.to_owned().into(),
        },
    )
}

/// A WebSocket message in one uncompressed frame, text or binary as `data` is.
pub(crate) fn message(ts_us: i64, data: Payload) -> Record {
    let opcode = match data {
        Payload::Text(_) => DataOpcode::Text,
        Payload::Binary(_) => DataOpcode::Binary,
    };
    rec(
        ts_us,
        Kind::Message {
            opcode,
            data,
            frames: 1,
            compressed: false,
            decoded: None,
        },
    )
}

/// A WebSocket text message in one uncompressed frame.
pub(crate) fn text(ts_us: i64, data: &str) -> Record {
    message(ts_us, Payload::Text(data.to_owned().into()))
}

/// Stream `index` as the dashboard knows it before its first record: an example URL of its
/// protocol, a 1.5 s heartbeat threshold, TLS verified.
pub(crate) fn info(index: usize, proto: Proto) -> StreamInfo {
    StreamInfo {
        index,
        name: None,
        proto,
        display_url: match proto {
            Proto::Sse | Proto::Jsonl => "https://example.test/events".into(),
            Proto::Ws => "wss://example.test/socket".into(),
        },
        heartbeat_ms: Some(1500),
        insecure: false,
        request: None,
    }
}

impl StreamInfo {
    /// The URL shown for the stream.
    #[must_use]
    pub(crate) fn url(mut self, url: &str) -> Self {
        self.display_url = url.to_owned();
        self
    }
}

// Setters for tests, in an inherent impl rather than an extension trait so that a test needs no
// import to chain them; they exist only under `cfg(test)`.
impl Record {
    /// On stream `stream` (the protocol stays: see [`Record::proto`]).
    #[must_use]
    pub(crate) fn on(mut self, stream: usize) -> Self {
        self.stream = stream;
        self
    }

    /// Speaking `proto`.
    #[must_use]
    pub(crate) fn proto(mut self, proto: Proto) -> Self {
        self.proto = proto;
        self
    }

    /// In direction `dir` (`None` for no direction).
    #[must_use]
    pub(crate) fn dir(mut self, dir: impl Into<Option<Dir>>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Received traffic: direction in, `wire` bytes on the wire, `payload` decoded, `gap_ms` after
    /// the stream's previous record.
    #[must_use]
    pub(crate) fn traffic(mut self, wire: u64, payload: u64, gap_ms: f64) -> Self {
        self.dir = Some(Dir::In);
        self.wire_bytes = Some(wire);
        self.payload_bytes = Some(payload);
        self.gap_ms = Some(gap_ms);
        self
    }

    /// `wire` bytes on the wire.
    #[must_use]
    pub(crate) fn wire(mut self, wire: u64) -> Self {
        self.wire_bytes = Some(wire);
        self
    }

    /// Delivered by the stream's socket read number `read`.
    #[must_use]
    pub(crate) fn read(mut self, read: u64) -> Self {
        self.read = Some(read);
        self
    }

    /// An SSE event of type `name`.
    #[must_use]
    pub(crate) fn named(mut self, name: &str) -> Self {
        let Kind::Event { event, .. } = &mut self.kind else {
            panic!("named: not an SSE event: {:?}", self.kind);
        };
        *event = event_type(name);
        self
    }

    /// An SSE event with last event id `id`.
    #[must_use]
    pub(crate) fn id(mut self, last_id: &str) -> Self {
        let Kind::Event { id, .. } = &mut self.kind else {
            panic!("id: not an SSE event: {:?}", self.kind);
        };
        *id = Some(last_id.to_owned().into());
        self
    }

    /// An SSE event carrying a `retry:` of `ms`.
    #[must_use]
    pub(crate) fn retry(mut self, ms: u64) -> Self {
        let Kind::Event { retry, .. } = &mut self.kind else {
            panic!("retry: not an SSE event: {:?}", self.kind);
        };
        *retry = Some(ms);
        self
    }
}
