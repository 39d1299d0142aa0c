//! Reading a HAR: every WebSocket entry and every `text/event-stream` response becomes a stream.
//!
//! The fields mean different things per writer, and the importer follows the writers, not the
//! HAR 1.2 text (`docs/recording.md` has the table, with the DevTools source it comes from):
//!
//! - a WebSocket entry with `_webSocketMessages` (Chrome DevTools, streamscope) runs from the
//!   handshake request to the close: `timings.wait` ends at the last frame, `timings.receive` from
//!   there to the close. The handshake's end is not in it once a frame was sent or received, so the
//!   `open` is put at the handshake request and a [`LINT_ESTIMATED`] lint says so;
//! - a WebSocket entry without them (Firefox) is the handshake alone, and has no messages
//!   ([`LINT_INCOMPLETE`]);
//! - an event stream's phases before `receive` are the handshake; its events come with their own
//!   times from `_eventSourceMessages` (DevTools' `{time, eventName, eventId, data}` or
//!   streamscope's own), or, from a body alone, share the response's end time ([`LINT_ESTIMATED`]).
//!
//! Records of one stream come out in time order: the `open` first, the `end` last, nothing
//! stamped before the `open` (what a HAR puts there is moved to it, and said).

use base64::Engine as _;
use serde_json::{Value, json};

use super::fields::{
    COMPRESSION_FIELDS, HANDSHAKE_FIELD, LINT_ESTIMATED, LINT_INCOMPLETE, LINTS_FIELD,
    frame_wire_bytes, ms_to_us,
};
use crate::ingest::recording::{Header, Loaded, StreamMeta};
use crate::protocol::sse::{SseItem, SseParser};
use crate::record::time::write_rfc3339_micros;
use crate::record::{DataOpcode, Dir, Kind, Payload, Proto, Record, Side};

/// True when `text` is a HAR document (one JSON object with a `log`), as opposed to JSON lines.
pub(crate) fn parse_har(text: &str) -> Option<Value> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let v: Value = serde_json::from_str(text).ok()?;
    v.get("log")?.get("entries")?.as_array()?;
    Some(v)
}

/// Parses an RFC 3339 time with `Z` or a `±HH:MM` offset (Firefox writes local offsets).
fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("bad startedDateTime '{s}'");
    let (base, offset_min) = if let Some(b) = s.strip_suffix('Z') {
        (b, 0i64)
    } else {
        let cut = s.len().checked_sub(6).ok_or_else(bad)?;
        let (b, off) = s.split_at_checked(cut).ok_or_else(bad)?;
        let sign = match off.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(bad()),
        };
        let (h, m) = off[1..].split_once(':').ok_or_else(bad)?;
        let h: i64 = h.parse().map_err(|_| bad())?;
        let m: i64 = m.parse().map_err(|_| bad())?;
        (b, sign * (h * 60 + m))
    };
    let utc = crate::record::parse::parse_ts(&format!("{base}Z")).map_err(|_| bad())?;
    Ok(utc - offset_min * 60_000_000)
}

fn headers_of(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for h in v.as_array().into_iter().flatten() {
        let (Some(name), Some(value)) = (h["name"].as_str(), h["value"].as_str()) else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        // Chrome lists HTTP/2 pseudo-headers (`:status`) among the headers; they are not headers.
        if name.starts_with(':') {
            continue;
        }
        let value = crate::capture::redact::header_value(&name, value);
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out
}

/// An entry's `timings`, each phase in microseconds (`-1`, missing or negative: 0), and `time`.
#[derive(Debug, Clone, Copy, Default)]
struct Timings {
    blocked: i64,
    dns: i64,
    connect: i64,
    send: i64,
    /// `None` when the entry has no `timings.wait` (it decides a WebSocket's start and end).
    wait: Option<i64>,
    receive: i64,
    /// chrome-har's `_queued`: queueing it leaves out of `blocked` and `startedDateTime`.
    queued: i64,
    /// The entry's `time`, `None` when missing.
    time: Option<i64>,
}

impl Timings {
    fn of(e: &Value) -> Self {
        let t = &e["timings"];
        let phase = |k: &str| t[k].as_f64().map_or(0, ms_to_us);
        Timings {
            blocked: phase("blocked"),
            dns: phase("dns"),
            // `ssl` is inside `connect` (HAR 1.2), so it is not added again.
            connect: phase("connect"),
            send: phase("send"),
            wait: t["wait"].as_f64().map(ms_to_us),
            receive: phase("receive"),
            queued: phase("_queued"),
            time: e["time"].as_f64().map(ms_to_us),
        }
    }

    /// Everything before `wait`: from `startedDateTime` to the request sent.
    fn before_wait(&self) -> i64 {
        self.blocked + self.dns + self.connect + self.send
    }

    /// Everything before `receive`: from `startedDateTime` to the response head.
    fn before_receive(&self) -> i64 {
        self.before_wait() + self.wait.unwrap_or(0)
    }
}

/// One stream of the import, built record by record, then put in order by [`Stream::finish`].
struct Stream {
    index: usize,
    proto: Proto,
    open: Record,
    /// Lints about the entry as a whole, right after the `open`.
    notes: Vec<Record>,
    /// Traffic and errors, in any order.
    records: Vec<Record>,
    /// Lints carried by streamscope's own export (`_lints`), at their own times.
    carried: Vec<Record>,
    /// When the entry says the connection ended (moved after its last record if earlier).
    end_ts: i64,
    end_reason: String,
    /// Why records stamped before the `open` are early, for the lint that says they were moved.
    early_because: &'static str,
}

impl Stream {
    fn new(index: usize, proto: Proto, e: &Value, open_ts: i64, handshake_ms: f64) -> Self {
        let status = e["response"]["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(if proto == Proto::Ws { 101 } else { 200 });
        let mut open = Record::new(
            open_ts,
            index,
            proto,
            Kind::Open {
                status,
                headers: headers_of(&e["response"]["headers"]),
                handshake_ms,
                conn: None,
                compression_offered: e[COMPRESSION_FIELDS[0]].as_str().map(str::to_owned),
                compression: e[COMPRESSION_FIELDS[1]].as_str().map(str::to_owned),
                // The browser's request, not streamscope's: the HAR keeps it in its own place.
                request: None,
            },
        );
        open.wire_bytes = e["response"]["headersSize"].as_u64().filter(|n| *n > 0);
        Stream {
            index,
            proto,
            open,
            notes: Vec::new(),
            records: Vec::new(),
            carried: Vec::new(),
            end_ts: open_ts,
            end_reason: "end of HAR entry".to_owned(),
            early_because: "the HAR's times put them there",
        }
    }

    /// The lints streamscope's export keeps in [`LINTS_FIELD`].
    fn carry_lints(&mut self, e: &Value) {
        for (i, l) in e[LINTS_FIELD].as_array().into_iter().flatten().enumerate() {
            let rule = l["rule"].as_str().ok_or_else(|| "no rule".to_owned());
            match (time_of(l), rule) {
                (Ok(ts), Ok(rule)) => self.carried.push(Record::new(
                    ts,
                    self.index,
                    self.proto,
                    Kind::Lint {
                        rule: rule.to_owned(),
                        message: l["message"].as_str().unwrap_or("").to_owned(),
                    },
                )),
                (Err(err), _) | (_, Err(err)) => self.error(format!("{LINTS_FIELD}[{i}]: {err}")),
            }
        }
    }

    fn lint(&mut self, rule: &str, message: String) {
        self.notes.push(Record::new(
            self.open.ts_us,
            self.index,
            self.proto,
            Kind::Lint {
                rule: rule.to_owned(),
                message,
            },
        ));
    }

    /// Bad input inside an entry: an `error` record at the time of the record before it; the
    /// import goes on.
    fn error(&mut self, message: String) {
        let ts = self.records.last().map_or(self.open.ts_us, |r| r.ts_us);
        self.records.push(Record::new(
            ts,
            self.index,
            self.proto,
            Kind::Error {
                message,
                status: None,
                close_code: None,
            },
        ));
    }

    /// The stream's records in time order: `open`, its notes, the rest (none before the `open`),
    /// `end`; `gap_ms` on every received record.
    fn finish(mut self) -> Vec<Record> {
        let open_ts = self.open.ts_us;
        let early = self.records.iter().filter(|r| r.ts_us < open_ts).count();
        if early > 0 {
            for r in &mut self.records {
                r.ts_us = r.ts_us.max(open_ts);
            }
            let because = self.early_because;
            self.lint(
                LINT_ESTIMATED,
                format!("{early} record(s) stamped before the open ({because}): moved to the open"),
            );
        }
        // Stable: records of equal times keep the entry's order.
        self.records.sort_by_key(|r| r.ts_us);
        // Carried lints about the entry (at the open) follow the import's own; later ones go
        // after the records of their time (a lint follows what it is about), in their order.
        let carried = std::mem::take(&mut self.carried);
        for lint in carried.iter().filter(|l| l.ts_us <= open_ts) {
            if !self.notes.iter().any(|n| n.kind == lint.kind) {
                let mut lint = lint.clone();
                lint.ts_us = open_ts;
                self.notes.push(lint);
            }
        }
        for lint in carried.into_iter().filter(|l| l.ts_us > open_ts) {
            let at = self.records.partition_point(|r| r.ts_us <= lint.ts_us);
            self.records.insert(at, lint);
        }
        let mut last_in = open_ts;
        for r in &mut self.records {
            if r.dir == Some(Dir::In) {
                r.gap_ms = Some((r.ts_us - last_in) as f64 / 1000.0);
                last_in = r.ts_us;
            }
        }
        let last = self.records.last().map_or(open_ts, |r| r.ts_us);
        let end = Record::new(
            self.end_ts.max(last),
            self.index,
            self.proto,
            Kind::End {
                reason: self.end_reason,
                failed: false,
            },
        );
        let mut out = Vec::with_capacity(self.records.len() + self.notes.len() + 2);
        out.push(self.open);
        out.append(&mut self.notes);
        out.append(&mut self.records);
        out.push(end);
        out
    }
}

/// Reads a HAR document: every WebSocket entry and every `text/event-stream` response becomes a
/// stream, in entry order; other entries are skipped. An entry that cannot be read at all (no URL,
/// no start time) is a stream with an `error` record, and counts in `bad_lines`; only a HAR with
/// no WebSocket or event-stream entry at all is an error.
pub(crate) fn import(har: &Value) -> Result<Loaded, String> {
    let entries = har["log"]["entries"]
        .as_array()
        .ok_or("HAR has no log.entries")?;
    let mut metas = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    let mut bad = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let Some(proto) = stream_proto(e) else {
            continue;
        };
        let index = metas.len();
        metas.push(meta_of(e, index, proto));
        match import_entry(e, index, proto) {
            Ok(s) => records.extend(s.finish()),
            Err(m) => bad.push((index, proto, format!("HAR entry {n}: {m}"))),
        }
    }
    if metas.is_empty() {
        return Err("the HAR file has no WebSocket or text/event-stream entries".to_owned());
    }
    // An unreadable entry has no time of its own: its error goes at the start of the import.
    let first_ts = records.iter().map(|r| r.ts_us).min().unwrap_or(0);
    let bad_entries = bad.len();
    for (index, proto, message) in bad {
        records.push(Record::new(
            first_ts,
            index,
            proto,
            Kind::Error {
                message,
                status: None,
                close_code: None,
            },
        ));
        records.push(Record::new(
            first_ts,
            index,
            proto,
            Kind::End {
                reason: "unreadable HAR entry".to_owned(),
                failed: true,
            },
        ));
    }
    // Stable: each stream's records are in order already and keep it.
    records.sort_by_key(|r| r.ts_us);
    let mut header = Header::new(metas, None);
    if let Some(first) = records.first() {
        let mut s = Vec::new();
        write_rfc3339_micros(&mut s, first.ts_us);
        header.started = String::from_utf8_lossy(&s).into_owned();
    }
    Ok(Loaded {
        header,
        records,
        bad_lines: bad_entries,
    })
}

/// `Some` for the entries that are streams: WebSocket entries (by `_webSocketMessages`, DevTools'
/// `_resourceType` or the URL scheme) and event streams (by the response's MIME type).
fn stream_proto(e: &Value) -> Option<Proto> {
    let url = e["request"]["url"].as_str().unwrap_or("");
    if e.get("_webSocketMessages").is_some()
        || e["_resourceType"] == "websocket"
        || url.starts_with("ws://")
        || url.starts_with("wss://")
    {
        return Some(Proto::Ws);
    }
    let mime = e["response"]["content"]["mimeType"].as_str().unwrap_or("");
    (mime.to_ascii_lowercase().starts_with("text/event-stream")
        || e["_resourceType"] == "eventsource")
        .then_some(Proto::Sse)
}

fn meta_of(e: &Value, index: usize, proto: Proto) -> StreamMeta {
    let url = e["request"]["url"].as_str().unwrap_or("");
    let display = url::Url::parse(url).map_or_else(
        |_| url.to_owned(),
        |u| crate::capture::redact::display_url(&u),
    );
    let method = e["request"]["method"].as_str().unwrap_or("GET");
    StreamMeta {
        index,
        name: None,
        proto: proto.as_str().to_owned(),
        url: display,
        heartbeat_ms: None,
        insecure: false,
        request: crate::protocol::llm::request_summary(
            method,
            e["request"]["postData"]["text"].as_str().map(str::as_bytes),
            48,
        ),
        options: json!({ "method": method, "source": "HAR" }),
    }
}

fn import_entry(e: &Value, index: usize, proto: Proto) -> Result<Stream, String> {
    e["request"]["url"].as_str().ok_or("no request.url")?;
    let started = parse_time(e["startedDateTime"].as_str().ok_or("no startedDateTime")?)?;
    let t = Timings::of(e);
    // streamscope's export says the handshake; no browser does for every entry.
    let handshake_us = e[HANDSHAKE_FIELD]
        .as_f64()
        .filter(|h| h.is_finite() && *h >= 0.0)
        .map(ms_to_us);
    let mut stream = match proto {
        Proto::Ws => match e.get("_webSocketMessages") {
            Some(messages) => devtools_ws(e, messages, index, started, &t, handshake_us),
            None => handshake_only_ws(e, index, started, &t),
        },
        // A HAR entry that is not a WebSocket is read as an event stream.
        Proto::Sse | Proto::Jsonl => sse(e, index, started, &t, handshake_us),
    };
    stream.carry_lints(e);
    Ok(stream)
}

fn handshake_ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

/// A WebSocket entry with `_webSocketMessages`, as Chrome DevTools writes it
/// (`models/har/Log.ts` `Entry.buildTimings`): no `timing` object, so `blocked`, `dns`, `connect`
/// are `-1`; `wait` runs from the handshake request to the last frame (or to the handshake
/// response when there was none), `receive` from there to the close (0 while open). streamscope's
/// export writes the same, plus the handshake in [`HANDSHAKE_FIELD`].
fn devtools_ws(
    e: &Value,
    messages: &Value,
    index: usize,
    started: i64,
    t: &Timings,
    handshake_us: Option<i64>,
) -> Stream {
    let parsed: Vec<Result<Record, String>> = match messages.as_array() {
        Some(list) => list.iter().map(|m| ws_message(m, index)).collect(),
        None => vec![Err("_webSocketMessages is not a list".to_owned())],
    };
    let last_frame = parsed.iter().flatten().map(|r| r.ts_us).max();
    // `startedDateTime` has milliseconds; the last frame minus `wait` is the request to the µs.
    let nominal = started + t.before_wait();
    let start = match (last_frame, t.wait) {
        (Some(last), Some(wait)) if (last - wait - nominal).abs() <= 1000 => last - wait,
        _ => nominal,
    };
    let (handshake, estimated) = match (handshake_us, last_frame, t.wait) {
        (Some(h), _, _) => (h, false),
        (None, None, Some(wait)) => (wait, false),
        _ => (0, true),
    };
    let mut s = Stream::new(
        index,
        Proto::Ws,
        e,
        start + handshake,
        handshake_ms(handshake),
    );
    if estimated {
        let first = parsed.iter().flatten().map(|r| r.ts_us).min();
        let bound = first.map_or(String::new(), |f| {
            format!(
                ", which ended by the first message, at most {} ms later",
                handshake_ms(f - start)
            )
        });
        s.lint(
            LINT_ESTIMATED,
            format!(
                "this HAR has no WebSocket handshake time (timings.wait runs to the last frame): \
                 the open is the handshake request, so handshake_ms is 0 and the first gap_ms \
                 includes the handshake{bound}"
            ),
        );
    }
    for (i, r) in parsed.into_iter().enumerate() {
        match r {
            Ok(r) => s.records.push(r),
            Err(m) => s.error(format!("_webSocketMessages[{i}]: {m}")),
        }
    }
    closing_handshake(&mut s.records);
    let wait_end = start
        + t.wait
            .unwrap_or_else(|| last_frame.map_or(handshake, |l| l - start));
    s.end_ts = match (t.wait, t.time) {
        (None, Some(time)) => started + time,
        _ => wait_end + t.receive,
    };
    let close_frame = s
        .records
        .iter()
        .any(|r| matches!(r.kind, Kind::Close { .. }));
    if close_frame {
        "closed".clone_into(&mut s.end_reason);
    } else if t.receive > 0 {
        "closed (the HAR keeps no close frame: code and reason unknown)"
            .clone_into(&mut s.end_reason);
    } else {
        NO_CLOSE.clone_into(&mut s.end_reason);
    }
    s
}

/// A close frame answers the first one in the other direction (RFC 6455 5.5.1): whoever sent the
/// first started the closing handshake, for both.
fn closing_handshake(records: &mut [Record]) {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].ts_us);
    let mut started_by = None;
    for i in order {
        if let Kind::Close { by, .. } = &mut records[i].kind {
            *by = *started_by.get_or_insert(*by);
        }
    }
}

/// A WebSocket entry without `_webSocketMessages` (Firefox, `har-builder.js`): the handshake
/// request and its 101 response, with `time` the handshake; nothing after it.
fn handshake_only_ws(e: &Value, index: usize, started: i64, t: &Timings) -> Stream {
    let handshake = t.time.unwrap_or_else(|| t.before_receive() + t.receive);
    let mut s = Stream::new(
        index,
        Proto::Ws,
        e,
        started + handshake,
        handshake_ms(handshake),
    );
    s.lint(
        LINT_INCOMPLETE,
        "this HAR keeps no WebSocket messages and no close (Firefox saves the handshake only)"
            .to_owned(),
    );
    NO_CLOSE.clone_into(&mut s.end_reason);
    s
}

/// The `end` of a WebSocket entry that says nothing of a close: still open when the HAR was
/// saved, closed at its last frame, or (Firefox) nothing recorded after the handshake.
const NO_CLOSE: &str = "end of HAR entry: the HAR records no close";

fn time_of(m: &Value) -> Result<i64, String> {
    let t = m["time"].as_f64().ok_or("no time")?;
    if !t.is_finite() || t < 0.0 {
        return Err(format!("bad time {t}"));
    }
    Ok((t * 1e6).round() as i64)
}

fn base64_of(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("data is not base64 ({e})"))
}

/// One `_webSocketMessages` item: `send`/`receive` with opcode 1 (text) or 2 (base64 binary), as
/// browsers write them; 8, 9 and 10 (close, ping, pong) as streamscope writes them; `error`
/// (DevTools' `webSocketFrameError`, `opcode: -1`) as an `error` record.
fn ws_message(m: &Value, index: usize) -> Result<Record, String> {
    let ts = time_of(m)?;
    let text = m["data"].as_str().ok_or("no data")?;
    let dir = match m["type"].as_str() {
        Some("receive") => Dir::In,
        Some("send") => Dir::Out,
        Some("error") => {
            return Ok(Record::new(
                ts,
                index,
                Proto::Ws,
                Kind::Error {
                    message: text.to_owned(),
                    status: None,
                    close_code: None,
                },
            ));
        }
        other => return Err(format!("type is {other:?}, not send, receive or error")),
    };
    let by = if dir == Dir::In {
        Side::Server
    } else {
        Side::Client
    };
    let (kind, payload_len) = match m["opcode"].as_i64().ok_or("no opcode")? {
        1 => (
            Kind::Message {
                opcode: DataOpcode::Text,
                data: Payload::Text(text.into()),
                frames: 1,
                compressed: false,
                decoded: None,
            },
            text.len(),
        ),
        2 => {
            let bytes = base64_of(text)?;
            let len = bytes.len();
            let data = Payload::Binary(bytes.into());
            (
                Kind::Message {
                    opcode: DataOpcode::Binary,
                    data,
                    frames: 1,
                    compressed: false,
                    decoded: None,
                },
                len,
            )
        }
        8 => {
            // streamscope writes a close as "CODE reason"; anything else is all reason.
            let (code, reason) = match text.split_once(' ').map(|(c, r)| (c.parse::<u16>(), r)) {
                Some((Ok(c), r)) => (Some(c), r.to_owned()),
                _ => match text.parse::<u16>() {
                    Ok(c) => (Some(c), String::new()),
                    Err(_) => (None, text.to_owned()),
                },
            };
            let len = if code.is_some() { 2 + reason.len() } else { 0 };
            (Kind::Close { code, reason, by }, len)
        }
        9 => {
            let bytes = base64_of(text)?;
            (
                Kind::Ping {
                    data: Payload::from_bytes(&bytes),
                },
                bytes.len(),
            )
        }
        10 => {
            let bytes = base64_of(text)?;
            (
                Kind::Pong {
                    data: Payload::from_bytes(&bytes),
                    rtt_ms: None,
                },
                bytes.len(),
            )
        }
        other => return Err(format!("unsupported opcode {other}")),
    };
    let mut r = Record::new(ts, index, Proto::Ws, kind);
    r.dir = Some(dir);
    r.payload_bytes = Some(payload_len as u64);
    r.wire_bytes = Some(frame_wire_bytes(payload_len, dir == Dir::Out));
    Ok(r)
}

/// An event-stream entry. The phases before `receive` are the handshake (chrome-har adds the
/// queueing it keeps in `_queued`); the `open` is at `startedDateTime` plus them, and the body
/// ended at `startedDateTime + time`.
fn sse(
    e: &Value,
    index: usize,
    started: i64,
    timings: &Timings,
    handshake_us: Option<i64>,
) -> Stream {
    let open_ts = started + timings.before_receive();
    let handshake = handshake_us.unwrap_or(timings.before_receive() + timings.queued);
    let mut stream = Stream::new(index, Proto::Sse, e, open_ts, handshake_ms(handshake));
    stream.end_ts = started
        + timings
            .time
            .unwrap_or(0)
            .max(timings.before_receive() + timings.receive);
    if matches!(e["_resourceType"].as_str(), Some("fetch" | "xhr")) {
        stream.early_because = "DevTools dates the events of a fetch() body that were already \
                                buffered when it began reading it with the request's start";
    }
    let body = match body_items(e) {
        Ok(b) => b,
        Err(message) => {
            stream.error(message);
            None
        }
    };
    let messages = e["_eventSourceMessages"]
        .as_array()
        .filter(|a| !a.is_empty());
    match (messages, body) {
        (Some(list), _) if is_streamscope_format(list) => {
            for (i, item) in list.iter().enumerate() {
                match own_message(item, index) {
                    Ok(record) => stream.records.push(record),
                    Err(err) => stream.error(format!("_eventSourceMessages[{i}]: {err}")),
                }
            }
        }
        (Some(list), body) => devtools_messages(&mut stream, list, body),
        (None, Some(items)) => body_only(&mut stream, items),
        (None, None) => {}
    }
    stream
}

/// The entry's body (`response.content.text`, base64 when `encoding` says so) split into events
/// and comments by streamscope's parser; `None` when the HAR has no body.
fn body_items(e: &Value) -> Result<Option<Vec<SseItem>>, String> {
    let content = &e["response"]["content"];
    let Some(text) = content["text"].as_str().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let body = if content["encoding"] == "base64" {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|err| format!("response.content.text is not base64: {err}"))?
    } else {
        text.as_bytes().to_vec()
    };
    let mut items = Vec::new();
    SseParser::new().feed(&body, &mut items);
    Ok(Some(items))
}

fn item_record(item: SseItem, ts: i64, index: usize) -> Record {
    let wire = item.wire_bytes();
    let (kind, payload) = match item {
        SseItem::Event {
            event,
            data,
            id,
            retry,
            ..
        } => {
            let len = data.len() as u64;
            (
                Kind::Event {
                    event,
                    data,
                    id,
                    retry,
                },
                len,
            )
        }
        SseItem::Comment { text, .. } => {
            let len = text.len() as u64;
            (Kind::Comment { text }, len)
        }
    };
    let mut r = Record::new(ts, index, Proto::Sse, kind);
    r.dir = Some(Dir::In);
    r.wire_bytes = Some(wire);
    r.payload_bytes = Some(payload);
    r
}

/// A body without per-event times (Firefox, chrome-har, DevTools without
/// `_eventSourceMessages`): every event had arrived when the response ended.
fn body_only(s: &mut Stream, items: Vec<SseItem>) {
    let events = items
        .iter()
        .filter(|i| matches!(i, SseItem::Event { .. }))
        .count();
    let comments = items.len() - events;
    for item in items {
        s.records.push(item_record(item, s.end_ts, s.index));
    }
    if events + comments > 0 {
        let comments = if comments > 0 {
            format!(" and {comments} comment(s)")
        } else {
            String::new()
        };
        s.lint(
            LINT_ESTIMATED,
            format!(
                "this HAR keeps the event-stream body without per-event times: its {events} \
                 event(s){comments} share the response's end time"
            ),
        );
    }
}

/// streamscope's own `_eventSourceMessages` carry the sizes (`wireBytes`) and comments, which
/// DevTools' never do.
fn is_streamscope_format(messages: &[Value]) -> bool {
    messages
        .iter()
        .any(|m| m.get("wireBytes").is_some() || m.get("comment").is_some())
}

/// The event name and id of a `_eventSourceMessages` item: DevTools' `eventName`/`eventId`
/// (`""` for no id), or the `type`/`id` of streamscope's exports before 0.2.
fn name_and_id(m: &Value) -> (String, Option<String>) {
    let name = m["eventName"]
        .as_str()
        .or_else(|| m["type"].as_str())
        .unwrap_or("message")
        .to_owned();
    let id = m["eventId"]
        .as_str()
        .or_else(|| m["id"].as_str())
        .filter(|i| !i.is_empty())
        .map(str::to_owned);
    (name, id)
}

fn own_message(m: &Value, index: usize) -> Result<Record, String> {
    let ts = time_of(m)?;
    let kind = if let Some(text) = m["comment"].as_str() {
        Kind::Comment { text: text.into() }
    } else {
        let (name, id) = name_and_id(m);
        Kind::Event {
            event: crate::record::event_type(&name),
            data: m["data"].as_str().ok_or("no data")?.into(),
            id: id.map(Into::into),
            retry: m["retry"].as_u64(),
        }
    };
    let mut r = Record::new(ts, index, Proto::Sse, kind);
    r.dir = Some(Dir::In);
    r.payload_bytes = m["payloadBytes"].as_u64();
    r.wire_bytes = m["wireBytes"].as_u64();
    Ok(r)
}

/// DevTools' `_eventSourceMessages` (`models/har/Log.ts`, `EventSourceMessageDTO`):
/// `{time, eventName, eventId, data}`, without `data` in the sanitized export. The times are the
/// messages'; the content comes from the body when the HAR has one that matches them event for
/// event (it also has the comments, `retry` and the exact sizes), else from the messages.
fn devtools_messages(s: &mut Stream, messages: &[Value], body: Option<Vec<SseItem>>) {
    let mut timed = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        match time_of(m) {
            Ok(t) => timed.push((t, m)),
            Err(err) => s.error(format!("_eventSourceMessages[{i}]: {err}")),
        }
    }
    let mismatch = match body {
        Some(items) => match body_matches(&timed, &items) {
            Ok(()) => {
                timed_body(s, &timed, items);
                return;
            }
            Err(why) => Some(why),
        },
        None => None,
    };
    let mut without_data = 0;
    for (t, m) in &timed {
        let (name, id) = name_and_id(m);
        let data = m["data"].as_str();
        without_data += usize::from(data.is_none());
        let mut r = Record::new(
            *t,
            s.index,
            Proto::Sse,
            Kind::Event {
                event: crate::record::event_type(&name),
                data: data.unwrap_or("").into(),
                id: id.map(Into::into),
                retry: None,
            },
        );
        r.dir = Some(Dir::In);
        r.payload_bytes = data.map(|d| d.len() as u64);
        s.records.push(r);
    }
    if let Some(why) = mismatch {
        s.lint(
            LINT_INCOMPLETE,
            format!(
                "the event-stream body does not match _eventSourceMessages ({why}): the events \
                 come from _eventSourceMessages, without comments, retry or sizes"
            ),
        );
    }
    if without_data > 0 {
        s.lint(
            LINT_INCOMPLETE,
            format!(
                "{without_data} event(s) without their data: DevTools' sanitized export removes \
                 it, and this HAR has no body to take it from (a stream still open when the HAR \
                 was saved has none): imported with their names, ids and times, and empty data"
            ),
        );
    }
}

/// Checks that the body's events are the messages' events, in order.
fn body_matches(timed: &[(i64, &Value)], items: &[SseItem]) -> Result<(), String> {
    let events: Vec<&SseItem> = items
        .iter()
        .filter(|i| matches!(i, SseItem::Event { .. }))
        .collect();
    if events.len() != timed.len() {
        return Err(format!(
            "{} event(s) in the body, {} in _eventSourceMessages",
            events.len(),
            timed.len()
        ));
    }
    for (n, ((_, m), item)) in timed.iter().zip(events).enumerate() {
        let SseItem::Event {
            event, data, id, ..
        } = item
        else {
            continue;
        };
        let (name, mid) = name_and_id(m);
        let data_differs = m["data"].as_str().is_some_and(|d| d != data);
        if name != *event
            || (m.get("eventId").is_some() && mid.as_deref() != id.as_deref())
            || data_differs
        {
            return Err(format!("body event {n} is not _eventSourceMessages[{n}]"));
        }
    }
    Ok(())
}

/// The body's events with the messages' times, in order. A comment has no message: it had
/// arrived by the next event, whose time it gets (the end's after the last event).
fn timed_body(s: &mut Stream, timed: &[(i64, &Value)], items: Vec<SseItem>) {
    let mut events = 0;
    let mut comments = 0;
    for item in items {
        let ts = timed.get(events).map_or(s.end_ts, |(t, _)| *t);
        if matches!(item, SseItem::Event { .. }) {
            events += 1;
        } else {
            comments += 1;
        }
        s.records.push(item_record(item, ts, s.index));
    }
    if comments > 0 {
        s.lint(
            LINT_ESTIMATED,
            format!(
                "{comments} comment(s) have no time of their own in this HAR: each is stamped \
                 with the next event's (the response's end after the last event)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30T22:47:17Z in microseconds.
    const T0: i64 = 1_796_078_837_000_000;

    fn har(entries: &Value) -> Value {
        json!({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [], "entries": entries}})
    }

    fn ws_entry(started: &str, wait: f64, receive: f64, messages: Value) -> Value {
        let mut e = json!({
            "startedDateTime": started, "time": wait + receive, "_resourceType": "websocket",
            "request": {"method": "GET", "url": "ws://127.0.0.1:1/echo"},
            "response": {"status": 101, "headers": [], "headersSize": 166,
                "content": {"size": 0, "mimeType": "x-unknown"}},
            "timings": {"blocked": -1, "dns": -1, "ssl": -1, "connect": -1, "send": 0,
                "wait": wait, "receive": receive},
        });
        e["_webSocketMessages"] = messages;
        e
    }

    fn sse_entry(
        resource_type: &str,
        timings: &Value,
        body: Option<&str>,
        messages: Value,
    ) -> Value {
        let mut e = json!({
            "startedDateTime": "2026-11-30T22:47:17.422Z", "_resourceType": resource_type,
            "request": {"method": "GET", "url": "http://127.0.0.1:1/sse"},
            "response": {"status": 200, "headers": [],
                "content": {"size": 0, "mimeType": "text/event-stream"}},
            "timings": timings,
        });
        if let Some(b) = body {
            e["response"]["content"]["text"] = json!(b);
        }
        if !messages.is_null() {
            e["_eventSourceMessages"] = messages;
        }
        let sum: f64 = ["blocked", "dns", "connect", "send", "wait", "receive"]
            .iter()
            .filter_map(|k| e["timings"][*k].as_f64())
            .filter(|v| *v > 0.0)
            .sum();
        e["time"] = json!(sum);
        e
    }

    fn kinds(records: &[Record]) -> Vec<&'static str> {
        records.iter().map(|r| r.kind.name()).collect()
    }

    fn lints(records: &[Record], rule: &str) -> Vec<String> {
        records
            .iter()
            .filter_map(|r| match &r.kind {
                Kind::Lint { rule: r, message } if r == rule => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    fn assert_in_order(records: &[Record]) {
        for s in records
            .iter()
            .map(|r| r.stream)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let mine: Vec<&Record> = records.iter().filter(|r| r.stream == s).collect();
            assert!(
                mine.windows(2).all(|w| w[0].ts_us <= w[1].ts_us),
                "{mine:#?}"
            );
            assert_eq!(mine.last().map(|r| r.kind.name()), Some("end"));
        }
    }

    #[test]
    fn times_with_offsets() {
        assert_eq!(parse_time("1970-01-01T00:00:01.500Z"), Ok(1_500_000));
        assert_eq!(parse_time("1970-01-01T01:00:01.500+01:00"), Ok(1_500_000));
        assert_eq!(
            parse_time("1970-01-01T00:00:00.500-01:00"),
            Ok(3_600_500_000)
        );
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("").is_err());
    }

    #[test]
    fn a_devtools_websocket_opens_at_its_handshake_request_and_says_the_handshake_is_unknown() {
        // As Chrome wrote /echo: `wait` from the handshake request to the last frame, `receive`
        // to the close; `startedDateTime` truncated to the millisecond.
        let messages = json!([
            {"type": "send", "time": 1_796_078_837.573_838, "opcode": 1, "data": "hello"},
            {"type": "receive", "time": 1_796_078_837.576_969, "opcode": 1, "data": "hello"},
            {"type": "receive", "time": 1_796_078_837.631_252, "opcode": 2, "data": "AAECf4D9/v8="},
        ]);
        let e = ws_entry("2026-11-30T22:47:17.446Z", 185.027, 17.043, messages);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(
            kinds(&l.records),
            ["open", "lint", "message", "message", "message", "end"]
        );
        // The request to the microsecond: the last frame minus `wait`.
        assert_eq!(l.records[0].ts_us, T0 + 446_225);
        assert!(
            matches!(l.records[0].kind, Kind::Open { handshake_ms, .. } if handshake_ms == 0.0)
        );
        assert_eq!(lints(&l.records, LINT_ESTIMATED).len(), 1);
        assert!(lints(&l.records, LINT_ESTIMATED)[0].contains("at most 127.613 ms later"));
        // The first received message's gap counts from the open (the handshake included).
        assert_eq!(l.records[3].gap_ms, Some(130.744));
        // The close: the last frame plus `receive`.
        let end = &l.records[5];
        assert_eq!(end.ts_us, T0 + 648_295);
        assert!(matches!(&end.kind, Kind::End { reason, .. } if reason.starts_with("closed")));
        assert_eq!(l.records[4].payload_bytes, Some(8));
    }

    #[test]
    fn a_websocket_without_frames_has_its_handshake_in_wait_and_an_open_one_no_close() {
        let e = ws_entry("2026-11-30T22:47:17.000Z", 1.5, 0.0, json!([]));
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(kinds(&l.records), ["open", "end"]);
        assert_eq!(l.records[0].ts_us, T0 + 1500);
        assert!(
            matches!(l.records[0].kind, Kind::Open { handshake_ms, .. } if (handshake_ms - 1.5).abs() < 1e-9)
        );
        assert!(matches!(&l.records[1].kind, Kind::End { reason, .. } if reason == NO_CLOSE));
    }

    #[test]
    fn streamscope_s_handshake_field_is_the_handshake() {
        let messages =
            json!([{"type": "receive", "time": 1_796_078_837.1, "opcode": 1, "data": "a"}]);
        let mut e = ws_entry("2026-11-30T22:47:17.000Z", 100.0, 0.0, messages);
        e[HANDSHAKE_FIELD] = json!(2.25);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(kinds(&l.records), ["open", "message", "end"]);
        assert_eq!(l.records[0].ts_us, T0 + 2250);
        assert_eq!(l.records[1].gap_ms, Some(97.75));
    }

    #[test]
    fn streamscope_s_lints_come_back_and_a_bad_one_is_an_error_record() {
        let mut e = ws_entry("2026-11-30T22:47:17.000Z", 1.0, 5.0, json!([]));
        e[LINTS_FIELD] = json!([
            {"time": 1_796_078_837.001, "rule": "har-incomplete", "message": "about the entry"},
            {"time": 1_796_078_837.003, "rule": "buffered-burst", "message": "later"},
            {"time": 1_796_078_837.004, "message": "no rule"},
        ]);
        let l = import(&har(&json!([e]))).expect("import");
        // The bad one where it was found (after the open), the lints at their times.
        assert_eq!(kinds(&l.records), ["open", "lint", "error", "lint", "end"]);
        assert_eq!(l.records[3].ts_us, T0 + 3000);
        assert!(
            matches!(&l.records[2].kind, Kind::Error { message, .. } if message == "_lints[2]: no rule")
        );
    }

    #[test]
    fn firefox_websockets_are_the_handshake_and_say_the_messages_are_missing() {
        let mut e = ws_entry("2026-12-01T04:17:30.090+05:30", 3.0, 0.0, Value::Null);
        e.as_object_mut().map(|o| o.remove("_webSocketMessages"));
        e.as_object_mut().map(|o| o.remove("_resourceType"));
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(kinds(&l.records), ["open", "lint", "end"]);
        assert_eq!(l.records[0].ts_us, T0 + 13_093_000);
        assert_eq!(lints(&l.records, LINT_INCOMPLETE).len(), 1);
    }

    #[test]
    fn frame_errors_are_error_records_and_bad_messages_do_not_reject_the_file() {
        let messages = json!([
            {"type": "receive", "time": 1_796_078_837.727_24, "opcode": 1, "data": "closing"},
            {"type": "error", "time": 1_796_078_837.728_69, "opcode": -1,
                "data": "Received a broken close frame containing a reserved status code."},
            {"type": "pong", "time": 1_796_078_837.728_7, "opcode": 10, "data": ""},
            {"type": "receive", "time": 1_796_078_837.728_8, "opcode": 5, "data": ""},
            {"type": "receive", "time": 1_796_078_837.728_9, "opcode": 2, "data": "not base64!"},
            {"type": "receive", "opcode": 1, "data": "no time"},
        ]);
        let e = ws_entry("2026-11-30T22:47:17.724Z", 4.429, 0.123, messages);
        let l = import(&har(&json!([e]))).expect("one bad message does not reject the file");
        let errors: Vec<String> = l
            .records
            .iter()
            .filter_map(|r| match &r.kind {
                Kind::Error { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].starts_with("Received a broken close frame"));
        assert!(errors[1].contains("_webSocketMessages[2]") && errors[1].contains("\"pong\""));
        assert!(errors[2].contains("unsupported opcode 5"));
        assert!(errors[3].contains("not base64"));
        assert!(errors[4].contains("_webSocketMessages[5]: no time"));
        assert_in_order(&l.records);
    }

    #[test]
    fn devtools_event_source_messages_give_names_ids_and_times() {
        let messages = json!([
            {"time": 1_796_078_837.626_816, "eventName": "tick", "eventId": "38", "data": "{\"seq\":38}"},
            {"time": 1_796_078_837.682_953, "eventName": "message", "eventId": "", "data": "x"},
        ]);
        let timings = json!({"blocked": 1.701, "send": 0.042, "wait": 124.631, "receive": 415.208});
        let e = sse_entry("eventsource", &timings, None, messages);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(kinds(&l.records), ["open", "event", "event", "end"]);
        assert_eq!(l.records[0].ts_us, T0 + 422_000 + 126_374);
        let Kind::Event {
            event, id, data, ..
        } = &l.records[1].kind
        else {
            panic!("{:?}", l.records[1]);
        };
        assert_eq!(
            (event.as_ref(), id.as_deref(), data.as_str()),
            ("tick", Some("38"), "{\"seq\":38}")
        );
        assert_eq!(l.records[1].ts_us, T0 + 626_816);
        assert!(matches!(&l.records[2].kind, Kind::Event { id: None, .. }));
        assert_eq!(l.records[2].payload_bytes, Some(1));
        // The end: the later of the entry's end and the last event.
        assert_eq!(l.records[3].ts_us, T0 + 422_000 + 541_582);
    }

    #[test]
    fn sanitized_events_take_their_data_from_the_body_and_comments_the_next_event_s_time() {
        let messages = json!([
            {"time": 1_796_078_837.6, "eventName": "tick", "eventId": "1"},
            {"time": 1_796_078_837.7, "eventName": "message", "eventId": "1"},
        ]);
        let body = "retry: 2000\n\nevent: tick\nid: 1\ndata: a\n\n: ping\ndata: b\n\n";
        let timings = json!({"blocked": 1.0, "wait": 10.0, "receive": 300.0});
        let e = sse_entry("eventsource", &timings, Some(body), messages);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(
            kinds(&l.records),
            ["open", "lint", "event", "comment", "event", "end"]
        );
        assert_eq!(
            lints(&l.records, LINT_ESTIMATED).len(),
            1,
            "the comment's time"
        );
        let r: Vec<(i64, Option<u64>)> = l.records[2..5]
            .iter()
            .map(|r| (r.ts_us, r.wire_bytes))
            .collect();
        assert_eq!(
            r,
            [
                (T0 + 600_000, Some(40)),
                (T0 + 700_000, Some(7)),
                (T0 + 700_000, Some(9))
            ]
        );
        assert!(matches!(&l.records[4].kind, Kind::Event { data, .. } if data == "b"));
    }

    #[test]
    fn sanitized_events_without_a_body_come_with_empty_data_and_say_so() {
        let messages = json!([{"time": 1_796_078_837.6, "eventName": "tick", "eventId": "56"}]);
        let timings = json!({"blocked": 1.0, "wait": 10.0, "receive": 300.0});
        let e = sse_entry("eventsource", &timings, None, messages);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(kinds(&l.records), ["open", "lint", "event", "end"]);
        assert_eq!(lints(&l.records, LINT_INCOMPLETE).len(), 1);
        assert!(
            matches!(&l.records[2].kind, Kind::Event { data, id: Some(id), .. } if data.is_empty() && id == "56")
        );
        assert_eq!(l.records[2].payload_bytes, None);
    }

    #[test]
    fn fetch_events_dated_before_the_response_move_to_the_open_and_say_so() {
        // DevTools gives events already buffered when it began reading a fetch() body the
        // request's start (17.422634), before the response head (17.433565).
        let messages = json!([
            {"time": 1_796_078_837.422_634, "eventName": "message", "eventId": "", "data": "one"},
            {"time": 1_796_078_837.567_969, "eventName": "message", "eventId": "", "data": "two"},
        ]);
        let timings = json!({"blocked": 2.338, "send": 0.081, "wait": 9.146, "receive": 225.529});
        let e = sse_entry("fetch", &timings, None, messages);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(kinds(&l.records), ["open", "lint", "event", "event", "end"]);
        let open = l.records[0].ts_us;
        assert_eq!(open, T0 + 433_565);
        assert_eq!(l.records[2].ts_us, open);
        assert_eq!(l.records[2].gap_ms, Some(0.0));
        assert!(lints(&l.records, LINT_ESTIMATED)[0].contains("fetch()"));
        assert_eq!(l.records[3].ts_us, T0 + 567_969);
    }

    #[test]
    fn a_body_without_times_shares_the_response_end_and_says_so() {
        let timings =
            json!({"blocked": -1, "dns": 0, "connect": 0, "send": 0, "wait": 5, "receive": 434});
        let e = sse_entry(
            "other",
            &timings,
            Some("data: a\n\n: c\ndata: b\n\n"),
            Value::Null,
        );
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(
            kinds(&l.records),
            ["open", "lint", "event", "comment", "event", "end"]
        );
        assert!(
            l.records[2..]
                .iter()
                .all(|r| r.ts_us == T0 + 422_000 + 439_000)
        );
        assert!(lints(&l.records, LINT_ESTIMATED)[0].contains("2 event(s) and 1 comment(s)"));
    }

    #[test]
    fn chrome_har_queueing_counts_in_the_handshake_not_in_the_open_time() {
        let timings = json!({"blocked": 0.216, "send": 0.081, "wait": 9.146, "receive": 225.529, "_queued": 2.122});
        let e = sse_entry("fetch", &timings, Some("data: a\n\n"), Value::Null);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(l.records[0].ts_us, T0 + 422_000 + 9_443);
        assert!(
            matches!(l.records[0].kind, Kind::Open { handshake_ms, .. } if (handshake_ms - 11.565).abs() < 1e-9)
        );
    }

    #[test]
    fn an_unreadable_entry_is_an_error_record_not_a_rejected_file() {
        let good = ws_entry("2026-11-30T22:47:17.000Z", 1.0, 0.0, json!([]));
        let mut bad = ws_entry("2026-11-30T22:47:17.000Z", 1.0, 0.0, json!([]));
        bad["startedDateTime"] = json!("last tuesday");
        let l = import(&har(&json!([good, bad]))).expect("import");
        assert_eq!(l.bad_lines, 1);
        assert_eq!(l.header.streams.len(), 2);
        let errors: Vec<&Record> = l.records.iter().filter(|r| r.stream == 1).collect();
        assert_eq!(
            kinds(&errors.into_iter().cloned().collect::<Vec<_>>()),
            ["error", "end"]
        );
        assert!(import(&har(&json!([]))).is_err());
    }

    #[test]
    fn records_of_an_inconsistent_har_still_come_in_order_open_first() {
        // Messages out of order, one before the handshake request; `wait` that fits nothing.
        let messages = json!([
            {"type": "receive", "time": 1_796_078_837.3, "opcode": 1, "data": "b"},
            {"type": "receive", "time": 1_796_078_837.1, "opcode": 1, "data": "a"},
            {"type": "receive", "time": 1_796_078_836.9, "opcode": 1, "data": "early"},
        ]);
        let e = ws_entry("2026-11-30T22:47:17.000Z", 40.0, 0.0, messages);
        let l = import(&har(&json!([e]))).expect("import");
        assert_eq!(l.records[0].kind.name(), "open");
        assert_eq!(l.records[0].ts_us, T0);
        assert_in_order(&l.records);
        assert!(
            lints(&l.records, LINT_ESTIMATED)
                .iter()
                .any(|m| m.contains("1 record(s) stamped before the open"))
        );
        let data: Vec<String> = l
            .records
            .iter()
            .filter_map(|r| match &r.kind {
                Kind::Message {
                    data: Payload::Text(t),
                    ..
                } => Some(t.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(data, ["early", "a", "b"]);
    }
}
