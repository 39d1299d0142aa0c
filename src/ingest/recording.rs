//! Recordings (`--record FILE`): a header line saying what was recorded, then every record as the
//! JSON line `--json` would print, written as it arrives.
//!
//! The header carries what a replay needs before the first record (the streams, their masked URLs
//! and options, the `--match` key). Reading accepts a recording, or a plain `--json` capture without
//! a header (the streams are then inferred from the records). A bad line in the middle becomes an
//! `error` record in its place, so one damaged line does not lose the rest of an incident.
//! The format is documented in `docs/recording.md`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::record::StreamInfo;
use crate::record::json::LineEncoder;
use crate::record::time::{unix_micros, write_rfc3339_micros};
use crate::record::{Kind, Proto, Record};
use std::sync::Arc;

use crate::capture::config::StreamConfig;

/// The value of the header's `format` field.
pub(crate) const FORMAT: &str = "streamscope-recording";
/// The format version this streamscope writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// One recorded stream, as the header describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Index of the URL on the command line.
    pub index: usize,
    /// The stream's name in the config file, when it was opened by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `sse` or `ws`.
    pub proto: String,
    /// The URL with credentials and secret query values masked.
    pub url: String,
    /// `--heartbeat` in milliseconds.
    #[serde(default)]
    pub heartbeat_ms: Option<u64>,
    /// TLS verification was off.
    #[serde(default)]
    pub insecure: bool,
    /// The request in short (method, model and prompt), when it was not a plain GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The options the stream ran with (method, masked request headers, reconnect, ...), for the
    /// reader's information only.
    #[serde(default)]
    pub options: serde_json::Value,
}

impl StreamMeta {
    /// The protocol, `None` for an unknown name.
    pub fn proto(&self) -> Option<Proto> {
        match self.proto.as_str() {
            "sse" => Some(Proto::Sse),
            "ws" => Some(Proto::Ws),
            "jsonl" => Some(Proto::Jsonl),
            _ => None,
        }
    }

    /// What the dashboard shows about the stream.
    pub fn info(&self) -> StreamInfo {
        StreamInfo {
            index: self.index,
            name: self.name.clone(),
            proto: self.proto().unwrap_or(Proto::Sse),
            display_url: self.url.clone(),
            heartbeat_ms: self.heartbeat_ms,
            insecure: self.insecure,
            request: self.request.clone(),
        }
    }
}

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Version of the streamscope that wrote it.
    pub streamscope: String,
    /// When the session started (RFC 3339).
    pub started: String,
    /// The `--match` key, if one was active.
    #[serde(rename = "match", default)]
    pub match_key: Option<String>,
    /// The streams.
    pub streams: Vec<StreamMeta>,
}

impl Header {
    /// A header for streams described by `streams`, starting now.
    pub fn new(streams: Vec<StreamMeta>, match_key: Option<String>) -> Self {
        let mut started = Vec::new();
        write_rfc3339_micros(&mut started, unix_micros(std::time::SystemTime::now()));
        Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            streamscope: env!("CARGO_PKG_VERSION").to_owned(),
            started: String::from_utf8_lossy(&started).into_owned(),
            match_key,
            streams,
        }
    }

    /// The header of a live session: its streams with masked URLs and request headers.
    pub fn live(streams: &[Arc<StreamConfig>], match_key: Option<String>) -> Self {
        let streams = streams
            .iter()
            .map(|cfg| {
                let info = cfg.info();
                let headers: serde_json::Map<String, serde_json::Value> = cfg
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        let shown = if cfg.show_secrets {
                            v.clone()
                        } else {
                            crate::capture::redact::header_value(n, v)
                        };
                        (n.clone(), serde_json::Value::String(shown))
                    })
                    .collect();
                let options = serde_json::json!({
                    "method": cfg.method,
                    "headers": headers,
                    "reconnect": cfg.reconnect,
                    "count": cfg.count,
                    "last_event_id": cfg.last_event_id,
                    "subprotocols": cfg.subprotocols,
                    "ping_interval_ms": cfg.ping_interval.map(|d| d.as_millis() as u64),
                });
                StreamMeta {
                    index: info.index,
                    name: info.name.clone(),
                    proto: info.proto.as_str().to_owned(),
                    url: if cfg.show_secrets {
                        cfg.target.url.to_string()
                    } else {
                        info.display_url
                    },
                    heartbeat_ms: info.heartbeat_ms,
                    insecure: info.insecure,
                    request: info.request,
                    options,
                }
            })
            .collect();
        Header::new(streams, match_key)
    }

    /// The streams as the dashboard shows them.
    pub fn stream_infos(&self) -> Vec<StreamInfo> {
        self.streams.iter().map(StreamMeta::info).collect()
    }
}

/// The recording sink: writes the header at once, then records as they come, flushed after every
/// burst so a crash loses at most the last moment.
#[derive(Debug)]
pub(crate) struct Writer {
    out: BufWriter<File>,
    buf: Vec<u8>,
    /// The same lines as `--json`, written the same (fast) way.
    enc: LineEncoder,
}

impl Writer {
    /// Creates (truncates) `path` and writes the header.
    pub(crate) fn create(path: &Path, header: &Header) -> Result<Writer, String> {
        let file = File::create(path).map_err(|e| format!("--record {}: {e}", path.display()))?;
        let mut w = Writer {
            out: BufWriter::with_capacity(64 * 1024, file),
            buf: Vec::with_capacity(64 * 1024),
            enc: LineEncoder::new(),
        };
        let line = serde_json::to_string(header).map_err(|e| e.to_string())?;
        w.out
            .write_all(line.as_bytes())
            .and_then(|()| w.out.write_all(b"\n"))
            .and_then(|()| w.out.flush())
            .map_err(|e| format!("--record {}: {e}", path.display()))?;
        Ok(w)
    }

    /// Appends records (buffered until [`Writer::flush`]).
    pub(crate) fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.buf.clear();
        for r in records {
            self.enc.write(r, &mut self.buf);
        }
        self.out.write_all(&self.buf)
    }

    /// Pushes what was written to the file.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A recording read back.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The header, or one inferred from the records of a headerless `--json` capture.
    pub header: Header,
    /// The records in file order; bad lines are `error` records in their place.
    pub records: Vec<Record>,
    /// How many lines (of a recording) or entries (of a HAR) could not be read.
    pub bad_lines: usize,
}

/// Parses the text of a recording (or a `--json` capture).
pub(crate) fn parse(text: &str) -> Result<Loaded, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let Some(&(_, first)) = lines.peek() else {
        return Err("the file is empty".to_owned());
    };
    let header = match serde_json::from_str::<Header>(first) {
        Ok(h) if h.format == FORMAT => {
            if h.format_version > FORMAT_VERSION {
                return Err(format!(
                    "recording format version {} is newer than this streamscope reads ({FORMAT_VERSION})",
                    h.format_version
                ));
            }
            lines.next();
            Some(h)
        }
        _ => {
            // A headerless capture must at least start with a record.
            Record::from_json_line(first).map_err(|e| {
                format!("not a streamscope recording, --json capture or HAR file (line 1: {e})")
            })?;
            None
        }
    };
    let mut records = Vec::new();
    let mut bad_lines = 0;
    for (i, line) in lines {
        match Record::from_json_line(line) {
            Ok(r) => records.push(r),
            Err(e) => {
                bad_lines += 1;
                // In place of the line: an error on the stream of the previous record, at its time.
                let (ts, stream, proto) =
                    records.last().map_or((0, 0, Proto::Sse), |r: &Record| {
                        (r.ts_us, r.stream, r.proto)
                    });
                records.push(Record::new(
                    ts,
                    stream,
                    proto,
                    Kind::Error {
                        message: format!("recording line {}: {e}", i + 1),
                        status: None,
                        close_code: None,
                    },
                ));
            }
        }
    }
    let header = header.unwrap_or_else(|| infer_header(&records));
    Ok(Loaded {
        header,
        records,
        bad_lines,
    })
}

/// Streams of a headerless capture: one per index seen, with the protocol of its first record.
fn infer_header(records: &[Record]) -> Header {
    let mut streams: Vec<StreamMeta> = Vec::new();
    for r in records {
        if streams.iter().any(|s| s.index == r.stream) {
            continue;
        }
        streams.push(StreamMeta {
            index: r.stream,
            name: None,
            proto: r.proto.as_str().to_owned(),
            url: format!("(stream #{} of a --json capture)", r.stream),
            heartbeat_ms: None,
            insecure: false,
            request: None,
            options: serde_json::Value::Null,
        });
    }
    streams.sort_by_key(|s| s.index);
    let mut h = Header::new(streams, None);
    if let Some(first) = records.first() {
        let mut started = Vec::new();
        write_rfc3339_micros(&mut started, first.ts_us);
        h.started = String::from_utf8_lossy(&started).into_owned();
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::rec;

    /// A record on `stream`: SSE on stream 0, WebSocket on the others.
    fn end(ts: i64, stream: usize) -> Record {
        let end = Kind::End {
            reason: "x".into(),
            failed: false,
        };
        let proto = if stream == 0 { Proto::Sse } else { Proto::Ws };
        rec(ts, end).on(stream).proto(proto)
    }

    #[test]
    fn header_then_records_and_bad_lines_in_place() {
        let h = Header::new(
            vec![StreamMeta {
                index: 0,
                name: None,
                proto: "sse".into(),
                url: "http://h/sse?token=***".into(),
                heartbeat_ms: Some(2000),
                insecure: false,
                request: None,
                options: serde_json::json!({"method": "GET"}),
            }],
            Some("/seq".into()),
        );
        let mut text = serde_json::to_string(&h).expect("json");
        text.push('\n');
        text.push_str(&end(10, 0).to_json_line());
        text.push_str("{\"broken\n\n");
        text.push_str(&end(20, 0).to_json_line());
        let l = parse(&text).expect("parse");
        assert_eq!(l.header, h);
        assert_eq!(l.bad_lines, 1);
        assert_eq!(l.records.len(), 3);
        assert_eq!(l.records[2], end(20, 0));
        match &l.records[1].kind {
            Kind::Error { message, .. } => {
                assert!(message.starts_with("recording line 3:"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(l.records[1].ts_us, 10);
    }

    #[test]
    fn headerless_capture_infers_streams() {
        let text = format!("{}{}", end(5, 1).to_json_line(), end(6, 0).to_json_line());
        let l = parse(&text).expect("parse");
        let protos: Vec<_> = l
            .header
            .streams
            .iter()
            .map(|s| (s.index, s.proto.clone()))
            .collect();
        assert_eq!(protos, vec![(0, "sse".into()), (1, "ws".into())]);
        assert!(l.header.started.starts_with("1970-01-01T00:00:00.000005"));
    }

    #[test]
    fn garbage_and_newer_versions_are_refused() {
        assert!(parse("").is_err());
        assert!(
            parse("hello\n")
                .expect_err("garbage")
                .contains("not a streamscope recording")
        );
        let mut h = Header::new(Vec::new(), None);
        h.format_version = FORMAT_VERSION + 1;
        let text = serde_json::to_string(&h).expect("json");
        assert!(parse(&text).expect_err("newer").contains("newer"));
    }
}
