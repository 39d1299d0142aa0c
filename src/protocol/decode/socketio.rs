//! Engine.IO v4 and Socket.IO v5 over WebSocket.
//!
//! Each WebSocket message is one Engine.IO packet: a digit for its type (`0` open, `1` close,
//! `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop) and its data. A `4` message carries a
//! Socket.IO packet: a digit for its type (`0` connect, `1` disconnect, `2` event, `3` ack,
//! `4` connect error, `5` binary event, `6` binary ack), then `N-` for a binary packet's number of
//! attachments, `/namespace,` unless it is `/`, the ack id's digits, and the JSON data. The N
//! attachments follow as the next N binary messages. Binary messages outside that are Engine.IO
//! binary data.
//!
//! In Engine.IO v4 the server pings (`2`) every `pingInterval` and closes the session when no pong
//! (`3`) comes within `pingTimeout`; the open packet says both. Pings and pongs are heartbeats.

use serde_json::Value;

use super::common::invalid;
use crate::record::Payload;
use crate::record::decoded::Decoded;

const NAME: &str = "socketio";

/// Attachments announced by a binary packet and not yet received.
#[derive(Debug, Default)]
pub(crate) struct State {
    pending: Option<Pending>,
}

#[derive(Debug)]
struct Pending {
    kind: &'static str,
    namespace: String,
    event: Option<String>,
    total: u64,
    next: u64,
}

impl State {
    /// Reads one message of a Socket.IO connection.
    pub(crate) fn decode(&mut self, data: &Payload) -> Decoded {
        match data {
            Payload::Binary(b) => self.attachment(b.len()),
            Payload::Text(t) => {
                let d = decode_text(t);
                if let Some(n) = d.fields.get("attachments").and_then(Value::as_u64)
                    && n > 0
                {
                    self.pending = Some(Pending {
                        kind: if d.kind == "binary_ack" {
                            "binary_ack"
                        } else {
                            "binary_event"
                        },
                        namespace: d.substream.clone().unwrap_or_else(|| "/".into()),
                        event: d.event.clone(),
                        total: n,
                        next: 0,
                    });
                }
                d
            }
        }
    }

    fn attachment(&mut self, len: usize) -> Decoded {
        let Some(p) = self.pending.as_mut() else {
            return Decoded::new(NAME, "binary").with("bytes", len);
        };
        let mut d = Decoded::new(NAME, "attachment")
            .with("index", p.next)
            .with("of", p.total)
            .with("packet", p.kind)
            .with("bytes", len);
        d.substream = Some(p.namespace.clone());
        d.event.clone_from(&p.event);
        p.next += 1;
        if p.next >= p.total {
            self.pending = None;
        }
        d
    }
}

/// Reads one Engine.IO packet sent as text.
pub fn decode_text(t: &str) -> Decoded {
    let mut chars = t.chars();
    let Some(kind) = chars.next() else {
        return invalid(
            NAME,
            "an empty message (Engine.IO packets start with a type digit)",
            0,
        );
    };
    let rest = chars.as_str();
    let data = |d: Decoded| {
        if rest.is_empty() {
            d
        } else {
            d.with("data", rest)
        }
    };
    match kind {
        '0' => open(rest),
        '1' => Decoded::new(NAME, "close"),
        '2' => data(Decoded::new(NAME, "ping").heartbeat()),
        '3' => data(Decoded::new(NAME, "pong").heartbeat()),
        '4' => packet(rest),
        '5' => Decoded::new(NAME, "upgrade"),
        '6' => Decoded::new(NAME, "noop"),
        _ => invalid(NAME, "not an Engine.IO packet type (0-6)", t.len()),
    }
}

/// The open packet: the session id and the heartbeat timing the server will enforce.
fn open(json: &str) -> Decoded {
    let mut d = Decoded::new(NAME, "open");
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(m)) => {
            if let Some(sid) = m.get("sid").and_then(Value::as_str) {
                d.set("sid", sid);
            }
            if let Some(ms) = m.get("pingInterval").and_then(Value::as_u64) {
                d.set("ping_interval_ms", ms);
            }
            if let Some(ms) = m.get("pingTimeout").and_then(Value::as_u64) {
                d.set("ping_timeout_ms", ms);
            }
            if let Some(n) = m.get("maxPayload").and_then(Value::as_u64) {
                d.set("max_payload", n);
            }
        }
        _ => d.set("error", "the open packet's data is not a JSON object"),
    }
    d
}

/// A Socket.IO packet (the data of an Engine.IO `4` message).
fn packet(p: &str) -> Decoded {
    let bytes = p.as_bytes();
    let Some(&digit) = bytes.first() else {
        return Decoded::new(NAME, "message");
    };
    let kind = match digit {
        b'0' => "connect",
        b'1' => "disconnect",
        b'2' => "event",
        b'3' => "ack",
        b'4' => "connect_error",
        b'5' => "binary_event",
        b'6' => "binary_ack",
        _ => return invalid(NAME, "not a Socket.IO packet type (0-6)", p.len()),
    };
    let mut d = Decoded::new(NAME, kind);
    let mut i = 1;
    if matches!(kind, "binary_event" | "binary_ack") {
        let digits = count_digits(&bytes[i..]);
        let n = p[i..i + digits].parse::<u64>().ok();
        if bytes.get(i + digits) != Some(&b'-') || n.is_none() {
            d.set(
                "error",
                "a binary packet without its attachment count (`N-`)",
            );
            return d;
        }
        d.set("attachments", n.unwrap_or(0));
        i += digits + 1;
    }
    let namespace = if bytes.get(i) == Some(&b'/') {
        let end = p[i..].find(',').map_or(p.len(), |e| i + e);
        let ns = &p[i..end];
        i = (end + 1).min(p.len());
        ns
    } else {
        "/"
    };
    d.substream = Some(namespace.to_owned());
    let digits = count_digits(&bytes[i..]);
    if digits > 0 {
        match p[i..i + digits].parse::<u64>() {
            Ok(id) => d.set("ack_id", id),
            Err(_) => d.set("error", "an ack id too large for 64 bits"),
        }
        i += digits;
    }
    let json = &p[i..];
    if json.is_empty() {
        return d;
    }
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        d.set("error", "the packet's data is not JSON");
        return d;
    };
    match (kind, value) {
        ("event" | "binary_event", Value::Array(mut args)) => {
            match args.first() {
                Some(Value::String(name)) => d.event = Some(name.clone()),
                _ => d.set("error", "an event whose first argument is not its name"),
            }
            if !args.is_empty() && d.event.is_some() {
                args.remove(0);
            }
            d.set("args", Value::Array(args));
        }
        ("ack" | "binary_ack", Value::Array(args)) => d.set("args", Value::Array(args)),
        ("event" | "binary_event" | "ack" | "binary_ack", _) => {
            d.set("error", "event and ack data must be a JSON array");
        }
        (_, v) => d.set("data", v),
    }
    d
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// The `pingInterval` and `pingTimeout` of an open packet, in milliseconds.
pub fn heartbeat_timing(d: &Decoded) -> Option<(u64, u64)> {
    if d.protocol != NAME || d.kind != "open" {
        return None;
    }
    let get = |k: &str| d.fields.get(k).and_then(Value::as_u64);
    Some((get("ping_interval_ms")?, get("ping_timeout_ms")?))
}

/// An Engine.IO ping from the server, which the client must answer with [`PONG`].
pub fn is_ping(d: &Decoded) -> bool {
    d.protocol == NAME && d.kind == "ping"
}

/// An Engine.IO pong.
pub fn is_pong(d: &Decoded) -> bool {
    d.protocol == NAME && d.kind == "pong"
}

/// The answer to a ping: the same data after `3` (`2probe` is answered `3probe`).
pub fn pong_for(d: &Decoded) -> String {
    match d.fields.get("data").and_then(Value::as_str) {
        Some(data) => format!("3{data}"),
        None => PONG.to_owned(),
    }
}

/// The Engine.IO pong packet.
pub const PONG: &str = "3";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> Payload {
        Payload::Text(s.to_owned().into())
    }

    // The examples are those of the Socket.IO protocol v5 and Engine.IO protocol v4 documents.
    #[test]
    fn engine_io_packets() {
        let d = decode_text(
            r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        );
        assert_eq!(d.kind, "open");
        assert_eq!(d.fields["sid"], "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(heartbeat_timing(&d), Some((25000, 20000)));
        let ping = decode_text("2");
        assert!(ping.heartbeat && is_ping(&ping));
        assert_eq!(pong_for(&ping), "3");
        let probe = decode_text("2probe");
        assert_eq!(pong_for(&probe), "3probe");
        assert!(is_pong(&decode_text("3")));
        assert_eq!(decode_text("1").kind, "close");
        assert_eq!(decode_text("6").kind, "noop");
        assert_eq!(decode_text("9").kind, "invalid");
        assert_eq!(decode_text("").kind, "invalid");
    }

    #[test]
    fn socket_io_packets() {
        let d = decode_text("40");
        assert_eq!(
            (d.kind.as_str(), d.substream.as_deref()),
            ("connect", Some("/"))
        );
        let d = decode_text(r#"40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#);
        assert_eq!(d.substream.as_deref(), Some("/admin"));
        assert_eq!(d.fields["data"]["sid"], "oSO0OpakMV_3jnilAAAA");
        let d = decode_text(r#"44{"message":"Not authorized"}"#);
        assert_eq!(d.kind, "connect_error");
        let d = decode_text(r#"42["foo"]"#);
        assert_eq!(
            (d.kind.as_str(), d.event.as_deref()),
            ("event", Some("foo"))
        );
        assert_eq!(d.fields["args"], json!([]));
        let d = decode_text(r#"42/admin,456["project:delete",123]"#);
        assert_eq!(d.event.as_deref(), Some("project:delete"));
        assert_eq!(d.fields["ack_id"], 456);
        assert_eq!(d.fields["args"], json!([123]));
        assert_eq!(d.substream.as_deref(), Some("/admin"));
        let d = decode_text("43/admin,456[]");
        assert_eq!((d.kind.as_str(), &d.fields["ack_id"]), ("ack", &json!(456)));
        let d = decode_text("41/admin,");
        assert_eq!(
            (d.kind.as_str(), d.substream.as_deref()),
            ("disconnect", Some("/admin"))
        );
        assert!(
            decode_text(r#"42{"not":"an array"}"#)
                .fields
                .contains_key("error")
        );
        assert!(decode_text("42[oops").fields.contains_key("error"));
        assert!(decode_text("45[]").fields.contains_key("error"));
    }

    #[test]
    fn binary_event_and_its_attachments() {
        let mut s = State::default();
        let d = s.decode(&text(r#"451-["hello",{"_placeholder":true,"num":0}]"#));
        assert_eq!(d.kind, "binary_event");
        assert_eq!(d.fields["attachments"], 1);
        assert_eq!(d.event.as_deref(), Some("hello"));
        let a = s.decode(&Payload::Binary(vec![1, 2, 3].into()));
        assert_eq!(a.kind, "attachment");
        assert_eq!(
            (&a.fields["index"], &a.fields["of"]),
            (&json!(0), &json!(1))
        );
        assert_eq!(a.event.as_deref(), Some("hello"));
        // The announced attachments are done: the next binary is Engine.IO binary data.
        assert_eq!(s.decode(&Payload::Binary(vec![4].into())).kind, "binary");
        let d = s.decode(&text(
            r#"462-/admin,456[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        ));
        assert_eq!(
            (d.kind.as_str(), &d.fields["ack_id"]),
            ("binary_ack", &json!(456))
        );
        assert_eq!(s.decode(&Payload::Binary(vec![].into())).fields["index"], 0);
        let last = s.decode(&Payload::Binary(vec![].into()));
        assert_eq!(
            (&last.fields["index"], last.substream.as_deref()),
            (&json!(1), Some("/admin"))
        );
    }
}
