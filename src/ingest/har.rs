//! HAR (HTTP Archive 1.2) in both directions: reading what the developer tools of Chrome and Firefox save, so a
//! browser capture replays in the dashboard, and writing a session (`--har FILE`) that opens in
//! the developer tools and HAR viewers.
//!
//! A HAR has no per-read timing and no wire sizes, so both are reconstructed and documented as such
//! (`docs/recording.md`): WebSocket messages keep their own times (`_webSocketMessages[].time`), and
//! their wire size is the size of one unmasked (received) or masked (sent) frame. SSE responses are
//! split into events with the crate's own parser; browsers store only the body, so every event gets
//! the time the response ended, unless the entry has streamscope's `_eventSourceMessages` (written by
//! `--har`), which carries each event's time.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{Value, json};

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
        let (b, off) = s.split_at(cut);
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

fn ms_to_us(ms: f64) -> i64 {
    if ms.is_finite() && ms > 0.0 {
        (ms * 1000.0).round() as i64
    } else {
        0
    }
}

/// Wire size of one unfragmented frame carrying `len` payload bytes (masked frames add 4).
pub(crate) fn frame_wire_bytes(len: usize, masked: bool) -> u64 {
    let header = match len {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
    };
    (header + len + if masked { 4 } else { 0 }) as u64
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

/// One stream of the import, before the streams' records are merged by time.
struct Imported {
    meta: StreamMeta,
    records: Vec<Record>,
}

/// Reads a HAR document: every WebSocket entry and every `text/event-stream` response becomes a
/// stream, in entry order. Entries that are neither are skipped.
pub(crate) fn import(har: &Value) -> Result<Loaded, String> {
    let entries = har["log"]["entries"]
        .as_array()
        .ok_or("HAR has no log.entries")?;
    let mut streams: Vec<Imported> = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let is_ws = e.get("_webSocketMessages").is_some()
            || e["_resourceType"] == "websocket"
            || e["request"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("ws://") || u.starts_with("wss://"));
        let mime = e["response"]["content"]["mimeType"].as_str().unwrap_or("");
        let is_sse = !is_ws && mime.to_ascii_lowercase().starts_with("text/event-stream");
        if !is_ws && !is_sse {
            continue;
        }
        let index = streams.len();
        let entry = import_entry(e, index, is_ws).map_err(|m| format!("HAR entry {n}: {m}"))?;
        streams.push(entry);
    }
    if streams.is_empty() {
        return Err("the HAR file has no WebSocket or text/event-stream entries".to_owned());
    }
    let metas = streams.iter().map(|s| s.meta.clone()).collect();
    let mut records: Vec<Record> = streams.into_iter().flat_map(|s| s.records).collect();
    // Stable: records of one stream keep their order when times are equal.
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
        bad_lines: 0,
    })
}

fn import_entry(e: &Value, index: usize, is_ws: bool) -> Result<Imported, String> {
    let proto = if is_ws { Proto::Ws } else { Proto::Sse };
    let url = e["request"]["url"].as_str().ok_or("no request.url")?;
    let display = url::Url::parse(url).map_or_else(
        |_| url.to_owned(),
        |u| crate::capture::redact::display_url(&u),
    );
    let started = parse_time(e["startedDateTime"].as_str().ok_or("no startedDateTime")?)?;
    let timings = &e["timings"];
    let phase = |k: &str| timings[k].as_f64().filter(|v| *v > 0.0).unwrap_or(0.0);
    let total_ms = e["time"].as_f64().filter(|v| *v > 0.0).unwrap_or(0.0);
    // WebSocket: the entry's time is the handshake. SSE: it runs to the end of the body, so the
    // head arrived after the phases before `receive`.
    let handshake_ms = if is_ws {
        total_ms
    } else {
        ["blocked", "dns", "connect", "send", "wait"]
            .iter()
            .map(|k| phase(k))
            .sum()
    };
    let open_ts = started + ms_to_us(handshake_ms);
    let status = e["response"]["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(if is_ws { 101 } else { 200 });
    let mut open = Record::new(
        open_ts,
        index,
        proto,
        Kind::Open {
            status,
            headers: headers_of(&e["response"]["headers"]),
            handshake_ms,
        },
    );
    open.wire_bytes = e["response"]["headersSize"].as_u64().filter(|n| *n > 0);
    let mut records = vec![open];
    let mut last_in = open_ts;
    let mut push_in = |records: &mut Vec<Record>, mut r: Record| {
        if r.dir == Some(Dir::In) {
            r.gap_ms = Some((r.ts_us - last_in).max(0) as f64 / 1000.0);
            last_in = r.ts_us;
        }
        records.push(r);
    };
    if is_ws {
        for (i, m) in e["_webSocketMessages"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let r =
                ws_message(m, index).map_err(|err| format!("_webSocketMessages[{i}]: {err}"))?;
            push_in(&mut records, r);
        }
    } else if let Some(events) = e["_eventSourceMessages"].as_array() {
        for (i, m) in events.iter().enumerate() {
            let r =
                sse_message(m, index).map_err(|err| format!("_eventSourceMessages[{i}]: {err}"))?;
            push_in(&mut records, r);
        }
    } else {
        let content = &e["response"]["content"];
        let text = content["text"].as_str().unwrap_or("");
        let body = if content["encoding"] == "base64" {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|err| format!("response.content.text is not base64: {err}"))?
        } else {
            text.as_bytes().to_vec()
        };
        // DevTools keeps no per-event times: every event arrived by the time the response ended.
        let end_ts = started + ms_to_us(total_ms).max(ms_to_us(handshake_ms));
        let mut parser = SseParser::new();
        let mut items = Vec::new();
        parser.feed(&body, &mut items);
        for item in items {
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
            let mut r = Record::new(end_ts, index, proto, kind);
            r.dir = Some(Dir::In);
            r.wire_bytes = Some(wire);
            r.payload_bytes = Some(payload);
            push_in(&mut records, r);
        }
    }
    let last_ts = records.last().map_or(open_ts, |r| r.ts_us);
    records.push(Record::new(
        last_ts,
        index,
        proto,
        Kind::End {
            reason: "end of HAR entry".to_owned(),
            failed: false,
        },
    ));
    let method = e["request"]["method"].as_str().unwrap_or("GET");
    Ok(Imported {
        meta: StreamMeta {
            index,
            proto: proto.as_str().to_owned(),
            url: display,
            heartbeat_ms: None,
            insecure: false,
            options: json!({ "method": method, "source": "HAR" }),
        },
        records,
    })
}

fn time_of(m: &Value) -> Result<i64, String> {
    let t = m["time"].as_f64().ok_or("no time")?;
    if !t.is_finite() || t < 0.0 {
        return Err(format!("bad time {t}"));
    }
    Ok((t * 1e6).round() as i64)
}

fn ws_message(m: &Value, index: usize) -> Result<Record, String> {
    let ts = time_of(m)?;
    let dir = match m["type"].as_str() {
        Some("receive") => Dir::In,
        Some("send") => Dir::Out,
        other => return Err(format!("type is {other:?}, not send or receive")),
    };
    let opcode = m["opcode"].as_u64().ok_or("no opcode")?;
    let text = m["data"].as_str().unwrap_or("");
    // Chrome stores binary payloads base64-encoded.
    let binary = || {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec())
    };
    let by = if dir == Dir::In {
        Side::Server
    } else {
        Side::Client
    };
    let (kind, payload_len) = match opcode {
        1 => (
            Kind::Message {
                opcode: DataOpcode::Text,
                data: Payload::Text(text.to_owned()),
                frames: 1,
                compressed: false,
            },
            text.len(),
        ),
        2 => {
            let bytes = binary();
            let len = bytes.len();
            (
                Kind::Message {
                    opcode: DataOpcode::Binary,
                    data: Payload::Binary(bytes),
                    frames: 1,
                    compressed: false,
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
        9 => (
            Kind::Ping {
                data: Payload::from_bytes(&binary()),
            },
            binary().len(),
        ),
        10 => (
            Kind::Pong {
                data: Payload::from_bytes(&binary()),
                rtt_ms: None,
            },
            binary().len(),
        ),
        other => return Err(format!("unsupported opcode {other}")),
    };
    let mut r = Record::new(ts, index, Proto::Ws, kind);
    r.dir = Some(dir);
    r.payload_bytes = Some(payload_len as u64);
    r.wire_bytes = Some(frame_wire_bytes(payload_len, dir == Dir::Out));
    Ok(r)
}

fn sse_message(m: &Value, index: usize) -> Result<Record, String> {
    let ts = time_of(m)?;
    let kind = if let Some(text) = m["comment"].as_str() {
        Kind::Comment {
            text: text.to_owned(),
        }
    } else {
        Kind::Event {
            event: crate::record::event_type(m["type"].as_str().unwrap_or("message")),
            data: m["data"].as_str().ok_or("no data")?.to_owned(),
            id: m["id"].as_str().map(str::to_owned),
            retry: m["retry"].as_u64(),
        }
    };
    let mut r = Record::new(ts, index, Proto::Sse, kind);
    r.dir = Some(Dir::In);
    r.payload_bytes = m["payloadBytes"].as_u64();
    r.wire_bytes = m["wireBytes"].as_u64();
    Ok(r)
}

/// The `--har` sink: collects one entry per connection (each `open` starts one) and writes the HAR
/// when the session ends. Records outside a connection (errors before any open, reconnects) have
/// no place in a HAR and are left out.
#[derive(Debug)]
pub(crate) struct Export {
    streams: Vec<StreamMeta>,
    current: HashMap<usize, Value>,
    done: Vec<(i64, Value)>,
}

fn rfc3339_ms(ts_us: i64) -> String {
    // DevTools writes milliseconds; JavaScript's Date parses no finer.
    let mut s = Vec::new();
    write_rfc3339_micros(&mut s, ts_us);
    let s = String::from_utf8_lossy(&s).into_owned();
    match s.get(..23) {
        Some(head) => format!("{head}Z"),
        None => s,
    }
}

fn secs(ts_us: i64) -> f64 {
    ts_us as f64 / 1e6
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
        if let Some(mut e) = self.current.remove(&stream) {
            let start = e["_startUs"].as_i64().unwrap_or(0);
            let last = e["_lastUs"].as_i64().unwrap_or(start);
            if e["_resourceType"] == "eventsource" {
                // An SSE entry lasts until its last event, like a response that ended then.
                e["time"] = json!((last - start).max(0) as f64 / 1000.0);
                let wait = e["timings"]["wait"].as_f64().unwrap_or(0.0);
                e["timings"]["receive"] = json!(((last - start) as f64 / 1000.0 - wait).max(0.0));
                let body = e["response"]["content"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .len();
                e["response"]["content"]["size"] = json!(body);
                e["response"]["bodySize"] = json!(body);
            }
            if let Some(o) = e.as_object_mut() {
                o.remove("_startUs");
                o.remove("_lastUs");
            }
            self.done.push((start, e));
        }
    }

    /// Takes one record.
    pub(crate) fn add(&mut self, r: &Record) {
        if let Kind::Open {
            status,
            headers,
            handshake_ms,
        } = &r.kind
        {
            self.finish(r.stream);
            let meta = self.streams.iter().find(|s| s.index == r.stream);
            let url = meta.map_or("", |m| m.url.as_str());
            let method = meta
                .and_then(|m| m.options["method"].as_str())
                .filter(|_| r.proto == Proto::Sse)
                .unwrap_or("GET");
            let req_headers: Vec<Value> = meta
                .and_then(|m| m.options["headers"].as_object())
                .into_iter()
                .flatten()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            let start = r.ts_us - ms_to_us(*handshake_ms);
            let resp_headers: Vec<Value> = headers
                .iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            let ws = r.proto == Proto::Ws;
            let mime = if ws { "" } else { "text/event-stream" };
            let mut entry = json!({
                "startedDateTime": rfc3339_ms(start),
                "time": handshake_ms,
                "request": {
                    "method": method,
                    "url": url,
                    "httpVersion": "HTTP/1.1",
                    "headers": req_headers,
                    "queryString": [],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": if ws { 0 } else { -1 },
                },
                "response": {
                    "status": status,
                    "statusText": if ws { "Switching Protocols" } else { "OK" },
                    "httpVersion": "HTTP/1.1",
                    "headers": resp_headers,
                    "cookies": [],
                    "content": { "size": 0, "mimeType": mime, "text": "" },
                    "redirectURL": "",
                    "headersSize": r.wire_bytes.map_or(-1, |n| i64::try_from(n).unwrap_or(-1)),
                    "bodySize": 0,
                },
                "cache": {},
                "timings": { "blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": handshake_ms, "receive": 0 },
                "_resourceType": if ws { "websocket" } else { "eventsource" },
                "_startUs": start,
                "_lastUs": r.ts_us,
            });
            if ws {
                entry["_webSocketMessages"] = json!([]);
            } else {
                entry["_eventSourceMessages"] = json!([]);
            }
            self.current.insert(r.stream, entry);
            return;
        }
        let Some(entry) = self.current.get_mut(&r.stream) else {
            return;
        };
        let kind_type = if r.dir == Some(Dir::Out) {
            "send"
        } else {
            "receive"
        };
        let msg = match &r.kind {
            Kind::Message { opcode, data, .. } => Some(json!({
                "type": kind_type,
                "time": secs(r.ts_us),
                "opcode": if *opcode == DataOpcode::Text { 1 } else { 2 },
                "data": payload_text(data, *opcode == DataOpcode::Binary),
            })),
            Kind::Ping { data } => Some(
                json!({"type": kind_type, "time": secs(r.ts_us), "opcode": 9, "data": payload_text(data, true)}),
            ),
            Kind::Pong { data, .. } => Some(
                json!({"type": kind_type, "time": secs(r.ts_us), "opcode": 10, "data": payload_text(data, true)}),
            ),
            Kind::Close { code, reason, .. } if r.dir.is_some() => {
                let text = match code {
                    Some(c) if reason.is_empty() => c.to_string(),
                    Some(c) => format!("{c} {reason}"),
                    None => reason.clone(),
                };
                Some(json!({"type": kind_type, "time": secs(r.ts_us), "opcode": 8, "data": text}))
            }
            Kind::Event {
                event,
                data,
                id,
                retry,
            } => {
                let body = &mut entry["response"]["content"]["text"];
                let mut text = body.as_str().unwrap_or("").to_owned();
                if event != "message" {
                    let _ = writeln!(text, "event: {event}");
                }
                if let Some(id) = id {
                    let _ = writeln!(text, "id: {id}");
                }
                if let Some(retry) = retry {
                    let _ = writeln!(text, "retry: {retry}");
                }
                for line in data.split('\n') {
                    let _ = writeln!(text, "data: {line}");
                }
                text.push('\n');
                *body = Value::String(text);
                Some(json!({
                    "time": secs(r.ts_us), "type": event, "data": data, "id": id, "retry": retry,
                    "wireBytes": r.wire_bytes, "payloadBytes": r.payload_bytes,
                }))
            }
            Kind::Comment { text } => {
                let body = &mut entry["response"]["content"]["text"];
                let mut all = body.as_str().unwrap_or("").to_owned();
                let _ = writeln!(all, ": {text}");
                *body = Value::String(all);
                Some(json!({
                    "time": secs(r.ts_us), "comment": text,
                    "wireBytes": r.wire_bytes, "payloadBytes": r.payload_bytes,
                }))
            }
            _ => None,
        };
        if let Some(msg) = msg {
            entry["_lastUs"] = json!(r.ts_us);
            let list = if r.proto == Proto::Ws {
                "_webSocketMessages"
            } else {
                "_eventSourceMessages"
            };
            if let Some(a) = entry[list].as_array_mut() {
                a.push(msg);
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

fn payload_text(p: &Payload, base64: bool) -> String {
    match p {
        Payload::Text(t) if !base64 => t.clone(),
        other => base64::engine::general_purpose::STANDARD.encode(other.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_offsets() {
        assert_eq!(parse_time("1970-01-01T00:00:01.500Z"), Ok(1_500_000));
        assert_eq!(parse_time("1970-01-01T01:00:01.500+01:00"), Ok(1_500_000));
        assert_eq!(
            parse_time("1970-01-01T00:00:00.500-01:00"),
            Ok(3_600_500_000)
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn frame_sizes() {
        assert_eq!(frame_wire_bytes(5, false), 7);
        assert_eq!(frame_wire_bytes(5, true), 11);
        assert_eq!(frame_wire_bytes(126, false), 130);
        assert_eq!(frame_wire_bytes(70_000, false), 70_010);
    }
}
