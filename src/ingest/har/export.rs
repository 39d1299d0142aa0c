//! Writing a HAR (`--har FILE`): one entry per connection, with the fields and the meaning of
//! `time` and `timings` that Chrome DevTools writes (`models/har/Log.ts`), so DevTools
//! (`models/har/Importer.ts`) and Firefox (`netmonitor/src/har/har-importer.js`) read it back,
//! plus two streamscope fields ([`HANDSHAKE_FIELD`], [`LINTS_FIELD`]) that make the import of an
//! export give the same records.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Value, json};

use super::fields::{COMPRESSION_FIELDS, HANDSHAKE_FIELD, LINTS_FIELD, ms_to_us, secs};
use crate::ingest::recording::StreamMeta;
use crate::protocol::sse::{encode_comment, encode_event};
use crate::record::time::write_rfc3339_micros;
use crate::record::{DataOpcode, Dir, Kind, Payload, Proto, Record};

/// The `--har` sink: collects one entry per connection (each `open` starts one, its `end` closes
/// it) and writes the HAR when the session ends. Records outside a connection (errors before any
/// open, reconnects, gaps) have no place in a HAR and are left out.
#[derive(Debug)]
pub(crate) struct Export {
    streams: Vec<StreamMeta>,
    current: HashMap<usize, Entry>,
    done: Vec<(i64, Value)>,
}

/// One connection being collected.
#[derive(Debug)]
struct Entry {
    proto: Proto,
    /// The handshake request: the `open` minus the handshake.
    start_us: i64,
    open_us: i64,
    handshake_ms: f64,
    /// The `open` record's `compression_offered` and `compression`.
    compression: [Option<String>; 2],
    status: u16,
    headers: Vec<(String, String)>,
    head_bytes: Option<u64>,
    /// `_webSocketMessages` or `_eventSourceMessages`.
    messages: Vec<Value>,
    /// The last WebSocket frame (message, control frame or error), where DevTools' `wait` ends.
    last_frame_us: Option<i64>,
    /// The event-stream body, re-encoded from the events and comments.
    body: String,
    lints: Vec<Value>,
    /// The latest record of the connection, its end when no `end` record comes.
    last_us: i64,
    end_us: Option<i64>,
}

/// `startedDateTime` as DevTools writes it (JavaScript's `Date.toJSON`: milliseconds, truncated),
/// and the microseconds it leaves out.
fn started_date_time(ts_us: i64) -> (String, i64) {
    let truncated = ts_us - ts_us.rem_euclid(1000);
    let mut s = Vec::new();
    write_rfc3339_micros(&mut s, truncated);
    let s = String::from_utf8_lossy(&s).into_owned();
    let text = match s.get(..23) {
        Some(head) => format!("{head}Z"),
        None => s,
    };
    (text, ts_us - truncated)
}

fn ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

fn payload_text(p: &Payload, base64: bool) -> String {
    match p {
        Payload::Text(t) if !base64 => t.to_string(),
        other => base64::engine::general_purpose::STANDARD.encode(other.as_bytes()),
    }
}

fn name_values(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<Value> {
    pairs
        .into_iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect()
}

impl Entry {
    fn new(r: &Record, status: u16, headers: &[(String, String)], handshake_ms: f64) -> Self {
        Entry {
            proto: r.proto,
            start_us: r.ts_us - ms_to_us(handshake_ms),
            open_us: r.ts_us,
            handshake_ms,
            compression: match &r.kind {
                Kind::Open {
                    compression_offered,
                    compression,
                    ..
                } => [compression_offered.clone(), compression.clone()],
                _ => [None, None],
            },
            status,
            headers: headers.to_vec(),
            head_bytes: r.wire_bytes,
            messages: Vec::new(),
            last_frame_us: None,
            body: String::new(),
            lints: Vec::new(),
            last_us: r.ts_us,
            end_us: None,
        }
    }

    /// Takes a record of this connection.
    fn add(&mut self, r: &Record) {
        self.last_us = self.last_us.max(r.ts_us);
        let message = match &r.kind {
            Kind::Lint { rule, message } => {
                self.lints
                    .push(json!({"time": secs(r.ts_us), "rule": rule, "message": message}));
                None
            }
            Kind::Event { .. } | Kind::Comment { .. } => self.sse_item(r),
            _ if self.proto == Proto::Ws => ws_frame(r),
            _ => None,
        };
        if let Some(m) = message {
            if self.proto == Proto::Ws {
                self.last_frame_us = Some(r.ts_us);
            }
            self.messages.push(m);
        }
    }

    /// An event or comment: its lines appended to the body, and its `_eventSourceMessages` item
    /// with DevTools' names (`eventName`, `eventId`, `""` for no id) and streamscope's sizes.
    fn sse_item(&mut self, r: &Record) -> Option<Value> {
        let sizes = (r.wire_bytes, r.payload_bytes);
        match &r.kind {
            Kind::Event {
                event,
                data,
                id,
                retry,
            } => {
                encode_event(&mut self.body, event, id.as_deref(), *retry, data);
                Some(json!({
                    "time": secs(r.ts_us), "eventName": event, "eventId": id.as_deref().unwrap_or(""),
                    "data": data, "retry": retry, "wireBytes": sizes.0, "payloadBytes": sizes.1,
                }))
            }
            Kind::Comment { text } => {
                encode_comment(&mut self.body, text);
                Some(json!({
                    "time": secs(r.ts_us), "comment": text,
                    "wireBytes": sizes.0, "payloadBytes": sizes.1,
                }))
            }
            _ => None,
        }
    }

    /// The HAR entry. `time` and `timings` mean what they mean in DevTools' HARs: a WebSocket's
    /// `wait` runs from the handshake request to the last frame, `receive` from there to the end;
    /// an event stream's phases before `receive` are the handshake, `receive` the body. The
    /// microseconds `startedDateTime` cannot hold are in `blocked`, so `startedDateTime` plus the
    /// phases lands on the recorded times exactly.
    fn into_har(self, meta: Option<&StreamMeta>) -> Value {
        let ws = self.proto == Proto::Ws;
        let end_us = self.end_us.unwrap_or(self.last_us).max(self.last_us);
        let (started, blocked_us) = started_date_time(self.start_us);
        let wait_end = if ws {
            self.last_frame_us.unwrap_or(self.open_us)
        } else {
            self.open_us
        };
        let wait = ms(wait_end - self.start_us);
        let receive = ms((end_us - wait_end).max(0));
        let blocked = ms(blocked_us);
        let method = meta
            .and_then(|m| m.options["method"].as_str())
            .filter(|_| !ws)
            .unwrap_or("GET");
        let resource_type = match (ws, method) {
            (true, _) => "websocket",
            (false, "GET") => "eventsource",
            (false, _) => "fetch",
        };
        let mut entry = json!({
            "startedDateTime": started,
            "time": blocked + wait + receive,
            "request": request_json(meta, method, ws),
            "response": self.response_json(),
            "cache": {},
            "timings": {
                "blocked": blocked, "dns": -1, "ssl": -1, "connect": -1, "send": 0,
                "wait": wait, "receive": receive,
            },
            "_resourceType": resource_type,
        });
        entry[HANDSHAKE_FIELD] = json!(self.handshake_ms);
        for (field, value) in COMPRESSION_FIELDS.iter().zip(&self.compression) {
            if let Some(v) = value {
                entry[*field] = json!(v);
            }
        }
        let list = if ws {
            "_webSocketMessages"
        } else {
            "_eventSourceMessages"
        };
        entry[list] = Value::Array(self.messages);
        if !self.lints.is_empty() {
            entry[LINTS_FIELD] = Value::Array(self.lints);
        }
        entry
    }

    fn response_json(&self) -> Value {
        let ws = self.proto == Proto::Ws;
        let head = self
            .head_bytes
            .and_then(|n| i64::try_from(n).ok())
            .unwrap_or(-1);
        let mut content = json!({ "size": 0, "mimeType": "x-unknown" });
        let body_size = if ws {
            0
        } else {
            let size = self.body.len();
            content = json!({ "size": size, "mimeType": "text/event-stream", "text": self.body });
            i64::try_from(size).unwrap_or(i64::MAX)
        };
        json!({
            "status": self.status,
            "statusText": if ws { "Switching Protocols" } else { "OK" },
            "httpVersion": "HTTP/1.1",
            "headers": name_values(self.headers.iter().cloned()),
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": head,
            "bodySize": body_size,
        })
    }
}

fn request_json(meta: Option<&StreamMeta>, method: &str, ws: bool) -> Value {
    let url = meta.map_or("", |m| m.url.as_str());
    let headers = meta
        .and_then(|m| m.options["headers"].as_object())
        .into_iter()
        .flatten()
        .map(|(n, v)| {
            (
                n.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        });
    json!({
        "method": method,
        "url": url,
        "httpVersion": "HTTP/1.1",
        "headers": name_values(headers),
        "queryString": [],
        "cookies": [],
        "headersSize": -1,
        "bodySize": if ws { 0 } else { -1 },
    })
}

/// A WebSocket record as a `_webSocketMessages` item: messages (text as is, binary in base64),
/// pings, pongs and closes (`"CODE reason"`) with their direction, and errors as DevTools writes a
/// frame error (`type: "error"`, `opcode: -1`).
fn ws_frame(r: &Record) -> Option<Value> {
    let time = secs(r.ts_us);
    let kind_type = if r.dir == Some(Dir::Out) {
        "send"
    } else {
        "receive"
    };
    let (opcode, data) = match &r.kind {
        Kind::Message { opcode, data, .. } => {
            let binary = *opcode == DataOpcode::Binary;
            (if binary { 2 } else { 1 }, payload_text(data, binary))
        }
        Kind::Ping { data } => (9, payload_text(data, true)),
        Kind::Pong { data, .. } => (10, payload_text(data, true)),
        Kind::Close { code, reason, .. } if r.dir.is_some() => {
            let text = match code {
                Some(c) if reason.is_empty() => c.to_string(),
                Some(c) => format!("{c} {reason}"),
                None => reason.clone(),
            };
            (8, text)
        }
        Kind::Error { message, .. } => {
            return Some(json!({"type": "error", "time": time, "opcode": -1, "data": message}));
        }
        _ => return None,
    };
    Some(json!({"type": kind_type, "time": time, "opcode": opcode, "data": data}))
}

impl Export {
    /// An exporter for these streams (URLs and request options come from the recording header).
    pub(crate) fn new(streams: Vec<StreamMeta>) -> Self {
        Export {
            streams,
            current: HashMap::new(),
            done: Vec::new(),
        }
    }

    fn finish(&mut self, stream: usize) {
        if let Some(entry) = self.current.remove(&stream) {
            let meta = self.streams.iter().find(|s| s.index == stream);
            let start = entry.start_us;
            self.done.push((start, entry.into_har(meta)));
        }
    }

    /// Takes one record.
    pub(crate) fn add(&mut self, r: &Record) {
        match &r.kind {
            Kind::Open {
                status,
                headers,
                handshake_ms,
                ..
            } => {
                self.finish(r.stream);
                let entry = Entry::new(r, *status, headers, *handshake_ms);
                self.current.insert(r.stream, entry);
            }
            Kind::End { .. } => {
                if let Some(entry) = self.current.get_mut(&r.stream) {
                    entry.end_us = Some(r.ts_us);
                    entry.last_us = entry.last_us.max(r.ts_us);
                }
                self.finish(r.stream);
            }
            _ => {
                if let Some(entry) = self.current.get_mut(&r.stream) {
                    entry.add(r);
                }
            }
        }
    }

    /// The HAR document of everything added so far.
    pub(crate) fn finish_all(mut self) -> Value {
        let open: Vec<usize> = self.current.keys().copied().collect();
        for s in open {
            self.finish(s);
        }
        self.done.sort_by_key(|(start, _)| *start);
        let entries: Vec<Value> = self.done.into_iter().map(|(_, e)| e).collect();
        json!({
            "log": {
                "version": "1.2",
                "creator": { "name": "streamscope", "version": env!("CARGO_PKG_VERSION") },
                "pages": [],
                "entries": entries,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Side;

    const T0: i64 = 1_796_078_837_000_000;

    fn meta(index: usize, proto: &str, url: &str) -> StreamMeta {
        StreamMeta {
            index,
            name: None,
            proto: proto.to_owned(),
            url: url.to_owned(),
            heartbeat_ms: None,
            insecure: false,
            request: None,
            options: json!({"method": "GET"}),
        }
    }

    fn rec(ts: i64, stream: usize, kind: Kind, dir: Option<Dir>) -> Record {
        let proto = if stream == 0 { Proto::Ws } else { Proto::Sse };
        let mut r = Record::new(ts, stream, proto, kind);
        r.dir = dir;
        r
    }

    /// What a HAR can hold of a session: both protocols, every frame type, lints, closes.
    #[expect(
        clippy::too_many_lines,
        reason = "a test fixture: one literal session, read best as one list"
    )]
    fn session() -> Vec<Record> {
        let open = |stream, handshake_ms| {
            Kind::open(
                if stream == 0 { 101 } else { 200 },
                vec![("content-type".to_owned(), "text/event-stream".to_owned())],
                handshake_ms,
            )
        };
        let msg = |data: Payload| Kind::Message {
            opcode: if matches!(data, Payload::Text(_)) {
                DataOpcode::Text
            } else {
                DataOpcode::Binary
            },
            data,
            frames: 1,
            compressed: false,
            decoded: None,
        };
        let lint = |rule: &str| Kind::Lint {
            rule: rule.to_owned(),
            message: format!("{rule} seen"),
        };
        let mut out = vec![
            rec(T0 + 446_225, 0, open(0, 1.234), None),
            rec(T0 + 446_225, 0, lint("har-estimated"), None),
            rec(
                T0 + 450_000,
                0,
                msg(Payload::Text("hello".into())),
                Some(Dir::Out),
            ),
            rec(
                T0 + 451_000,
                0,
                msg(Payload::Binary(vec![0, 255].into())),
                Some(Dir::In),
            ),
            rec(
                T0 + 452_000,
                0,
                Kind::Ping {
                    data: Payload::Text("p".into()),
                },
                Some(Dir::In),
            ),
            rec(
                T0 + 452_010,
                0,
                Kind::Pong {
                    data: Payload::Text("p".into()),
                    rtt_ms: None,
                },
                Some(Dir::Out),
            ),
            rec(
                T0 + 460_000,
                0,
                Kind::Error {
                    message: "frame error".into(),
                    status: None,
                    close_code: None,
                },
                None,
            ),
            rec(
                T0 + 470_000,
                0,
                Kind::Close {
                    code: Some(1000),
                    reason: "bye".into(),
                    by: Side::Client,
                },
                Some(Dir::Out),
            ),
            rec(
                T0 + 471_000,
                0,
                Kind::Close {
                    code: Some(1000),
                    reason: "bye".into(),
                    by: Side::Client,
                },
                Some(Dir::In),
            ),
            rec(
                T0 + 480_000,
                0,
                Kind::End {
                    reason: "closed".into(),
                    failed: false,
                },
                None,
            ),
            rec(T0 + 500_777, 1, open(1, 2.5), None),
            rec(
                T0 + 600_000,
                1,
                Kind::Event {
                    event: "tick".into(),
                    data: "a\nb".into(),
                    id: Some("7".into()),
                    retry: Some(2000),
                },
                Some(Dir::In),
            ),
            rec(
                T0 + 650_000,
                1,
                Kind::Comment {
                    text: "keepalive".into(),
                },
                Some(Dir::In),
            ),
            rec(T0 + 650_000, 1, lint("buffered-burst"), None),
            rec(
                T0 + 700_000,
                1,
                Kind::Event {
                    event: "message".into(),
                    data: String::new().into(),
                    id: None,
                    retry: None,
                },
                Some(Dir::In),
            ),
            rec(
                T0 + 800_000,
                1,
                Kind::End {
                    reason: "end of HAR entry".into(),
                    failed: false,
                },
                None,
            ),
        ];
        // What a HAR can say of each record: one frame's size, the payload, the gap.
        let mut last_in: HashMap<usize, i64> = HashMap::new();
        for r in &mut out {
            if let Kind::Open { .. } = r.kind {
                last_in.insert(r.stream, r.ts_us);
            }
            let payload = match &r.kind {
                Kind::Message { data, .. } | Kind::Ping { data } | Kind::Pong { data, .. } => {
                    Some(data.len())
                }
                Kind::Close { reason, .. } => Some(2 + reason.len()),
                Kind::Event { data, .. } => Some(data.len()),
                Kind::Comment { text } => Some(text.len()),
                _ => None,
            };
            if let (Some(p), Some(dir)) = (payload, r.dir) {
                r.payload_bytes = Some(p as u64);
                r.wire_bytes = Some(if r.proto == Proto::Ws {
                    crate::ingest::har::fields::frame_wire_bytes(p, dir == Dir::Out)
                } else {
                    p as u64 + 10
                });
            }
            if r.dir == Some(Dir::In) {
                let prev = last_in.insert(r.stream, r.ts_us).unwrap_or(r.ts_us);
                r.gap_ms = Some((r.ts_us - prev) as f64 / 1000.0);
            }
        }
        out
    }

    fn export(records: &[Record]) -> Value {
        let mut e = Export::new(vec![
            meta(0, "ws", "ws://127.0.0.1:1/echo"),
            meta(1, "sse", "http://127.0.0.1:1/sse"),
        ]);
        for r in records {
            e.add(r);
        }
        e.finish_all()
    }

    #[test]
    fn an_export_imports_back_as_the_same_records() {
        let records = session();
        let doc = export(&records);
        let back = crate::ingest::har::import(&doc).expect("import");
        let mut want = records.clone();
        want.sort_by_key(|r| r.ts_us);
        // The ends say what a HAR says of them.
        for r in &mut want {
            if let (Kind::End { reason, .. }, Proto::Ws) = (&mut r.kind, r.proto) {
                "closed".clone_into(reason);
            }
        }
        assert_eq!(back.records, want);
    }

    #[test]
    fn times_and_timings_mean_what_they_mean_in_devtools() {
        let doc = export(&session());
        let ws = &doc["log"]["entries"][0];
        assert_eq!(ws["_resourceType"], "websocket");
        // Started at the handshake request, in JavaScript's milliseconds; the rest in `blocked`.
        assert_eq!(ws["startedDateTime"], "2026-11-30T22:47:17.444Z");
        assert_eq!(ws["timings"]["blocked"], 0.991);
        // `wait` to the last frame (the close received at +471 ms), `receive` to the end.
        assert_eq!(ws["timings"]["wait"], 26.009);
        assert_eq!(ws["timings"]["receive"], 9.0);
        assert_eq!(ws[HANDSHAKE_FIELD], 1.234);
        let frames = ws["_webSocketMessages"].as_array().expect("frames");
        assert_eq!(
            frames[1],
            json!({"type": "receive", "time": 1_796_078_837.451, "opcode": 2, "data": "AP8="})
        );
        assert_eq!(
            frames[4],
            json!({"type": "error", "time": 1_796_078_837.46, "opcode": -1, "data": "frame error"})
        );
        let sse = &doc["log"]["entries"][1];
        assert_eq!(sse["_resourceType"], "eventsource");
        assert_eq!(sse["timings"]["wait"], 2.5);
        assert_eq!(
            sse["response"]["content"]["text"],
            "event: tick\nid: 7\nretry: 2000\ndata: a\ndata: b\n\n: keepalive\ndata: \n\n"
        );
        let events = sse["_eventSourceMessages"].as_array().expect("events");
        assert_eq!(events[0]["eventName"], "tick");
        assert_eq!(events[0]["eventId"], "7");
        assert_eq!(events[2]["eventId"], "", "DevTools' word for no id");
        assert_eq!(sse[LINTS_FIELD][0]["rule"], "buffered-burst");
    }

    #[test]
    fn started_date_time_is_javascript_milliseconds_and_keeps_the_rest() {
        let (text, rest) = started_date_time(1_796_078_837_446_225);
        assert_eq!(text, "2026-11-30T22:47:17.446Z");
        assert_eq!(rest, 225);
        assert_eq!(started_date_time(1_000_000).1, 0);
    }
}
