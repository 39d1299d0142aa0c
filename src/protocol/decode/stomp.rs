//! STOMP 1.0-1.2 frames over WebSocket (`v12.stomp` and friends).
//!
//! A frame is `COMMAND EOL (header EOL)* EOL body NUL`, EOL being `\n` or `\r\n`; a message that is
//! only EOLs is a heart-beat. Header values escape `\n`, `\r`, `:` and `\` (STOMP 1.2 section
//! "Value Encoding"); the first of a repeated header wins. A `MESSAGE`'s sub-stream is its
//! `subscription` header, a `SUBSCRIBE`'s or `UNSUBSCRIBE`'s its `id`; the destination is the
//! record's `event`.

use serde_json::{Map, Value};

use super::common::invalid;
use crate::record::decoded::Decoded;

const NAME: &str = "stomp";

const COMMANDS: [&str; 15] = [
    "CONNECT",
    "STOMP",
    "CONNECTED",
    "SEND",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "ACK",
    "NACK",
    "BEGIN",
    "COMMIT",
    "ABORT",
    "DISCONNECT",
    "MESSAGE",
    "RECEIPT",
    "ERROR",
];

/// Text that starts like a STOMP frame a server sends.
pub(crate) fn looks_like(t: &str) -> bool {
    let first = t.split('\n').next().unwrap_or("").trim_end_matches('\r');
    matches!(first, "CONNECTED" | "MESSAGE" | "RECEIPT" | "ERROR") && t.contains("\n\n")
        || (first == "CONNECTED" && t.contains('\n'))
}

/// Reads one message: a frame (the first, when a message holds several) or a heart-beat.
pub fn decode(t: &str) -> Decoded {
    if !t.is_empty() && t.bytes().all(|b| b == b'\n' || b == b'\r') {
        return Decoded::new(NAME, "heart-beat").heartbeat();
    }
    // Heart-beat EOLs may come before a frame.
    let t = t.trim_start_matches(['\r', '\n']);
    let mut lines = t.split('\n');
    let command = lines.next().unwrap_or("").trim_end_matches('\r');
    if !COMMANDS.contains(&command) {
        return invalid(NAME, "not a STOMP command", t.len());
    }
    let mut d = Decoded::new(NAME, command);
    let mut headers = Map::new();
    let mut consumed = command.len() + 1;
    let mut ended = false;
    for line in lines.by_ref() {
        consumed += line.len() + 1;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            ended = true;
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            d.set("error", format!("a header line without a colon: {line:?}"));
            continue;
        };
        let k = unescape(k);
        if !headers.contains_key(&k) {
            headers.insert(k, Value::String(unescape(v)));
        }
    }
    let body_and_rest = if ended {
        t.get(consumed..).unwrap_or("")
    } else {
        ""
    };
    let (body, rest) = match body_and_rest.split_once('\0') {
        Some((b, r)) => (b, Some(r)),
        None => (body_and_rest, None),
    };
    if rest.is_none() {
        d.set("error", "a frame without its NUL terminator");
    }
    let header = |k: &str| headers.get(k).and_then(Value::as_str).map(str::to_owned);
    d.substream = match command {
        "MESSAGE" => header("subscription"),
        "SUBSCRIBE" | "UNSUBSCRIBE" => header("id"),
        _ => None,
    };
    d.event = header("destination");
    if let Some(hb) = header("heart-beat") {
        d.set("heart_beat", hb);
    }
    if !body.is_empty() {
        let json = serde_json::from_str::<Value>(body)
            .ok()
            .filter(|v| v.is_object() || v.is_array());
        match json {
            Some(v) => d.set("body_json", v),
            None => d.set("body", body),
        }
    }
    d.set("headers", Value::Object(headers));
    if let Some(rest) = rest {
        let more = rest
            .split('\0')
            .filter(|f| !f.trim_matches(['\r', '\n']).is_empty())
            .count();
        if more > 0 {
            d.set("more_frames", more);
        }
    }
    d
}

fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(':'),
            // `\\`, and a lone backslash at the end.
            Some('\\') | None => out.push('\\'),
            // An undefined escape: kept as it came, for the user to see.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Frames from the STOMP 1.2 specification.
    #[test]
    fn spec_frames() {
        let d = decode("CONNECTED\nversion:1.2\nheart-beat:10000,10000\n\n\0");
        assert_eq!(d.kind, "CONNECTED");
        assert_eq!(d.fields["headers"]["version"], "1.2");
        assert_eq!(d.fields["heart_beat"], "10000,10000");
        let d = decode(
            "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0",
        );
        assert_eq!(d.substream.as_deref(), Some("0"));
        assert_eq!(d.event.as_deref(), Some("/queue/a"));
        assert_eq!(d.fields["body"], "hello queue a");
        let d = decode("SUBSCRIBE\r\nid:0\r\ndestination:/queue/foo\r\nack:client\r\n\r\n\0");
        assert_eq!(
            (d.kind.as_str(), d.substream.as_deref()),
            ("SUBSCRIBE", Some("0"))
        );
        let d =
            decode("ERROR\nmessage:malformed frame received\n\nThe message:\n-----\nMESSAGE\n\0");
        assert!(
            d.fields["body"]
                .as_str()
                .is_some_and(|b| b.contains("-----"))
        );
        let d = decode("MESSAGE\nsubscription:s\\c1\\\\\\x\nsubscription:ignored\n\n{\"p\":1}\0");
        assert_eq!(d.substream.as_deref(), Some("s:1\\\\x"));
        assert_eq!(d.fields["body_json"]["p"], 1);
    }

    #[test]
    fn heart_beats_and_bad_frames() {
        assert!(decode("\n").heartbeat);
        assert!(decode("\r\n").heartbeat);
        assert_eq!(decode("HELLO\n\n\0").kind, "invalid");
        assert!(
            decode("SEND\ndestination:/a\n\nno nul")
                .fields
                .contains_key("error")
        );
        assert!(
            decode("SEND\nbad header\n\n\0")
                .fields
                .contains_key("error")
        );
        assert_eq!(decode("SEND\n\n\0SEND\n\n\0\n").fields["more_frames"], 1);
        assert!(looks_like("CONNECTED\nversion:1.2\n\n\0"));
        assert!(!looks_like("MESSAGE of the day"));
    }
}
