//! What an application protocol says a WebSocket message means: the `decoded` object of a
//! `message` record (`--decode`, docs/decoders.md). The decoders in `protocol::decode` make it; this
//! layer only holds it, writes it and reads it back, so that every sink carries the same fields.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// A message read by its application protocol (Socket.IO, GraphQL over WebSocket, STOMP, Phoenix,
/// JSON-RPC, MessagePack, CBOR).
///
/// The fields every protocol has are typed (the store counts by them); the rest, which differ per
/// protocol (namespace, ack id, headers, payload, ...), are in [`fields`](Self::fields) and are
/// written beside them in the same JSON object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    /// The protocol the message was read as (`socketio`, `graphql-transport-ws`, ...).
    pub protocol: String,
    /// The message's type in that protocol's own words (`event`, `next`, `MESSAGE`, ...).
    pub kind: String,
    /// The protocol's own keep-alive (Engine.IO ping/pong, GraphQL ping/pong/ka, STOMP heart-beat,
    /// Phoenix heartbeat): a heartbeat, not data.
    pub heartbeat: bool,
    /// The sub-stream the message belongs to: a GraphQL operation id, a JSON-RPC subscription
    /// id, a STOMP subscription, a Phoenix topic.
    pub substream: Option<String>,
    /// The event's name (Socket.IO event, Phoenix event, JSON-RPC method).
    pub event: Option<String>,
    /// The protocol's other fields, by name.
    pub fields: Map<String, Value>,
}

/// The typed keys, which [`Decoded::fields`] never holds.
pub const TYPED_KEYS: [&str; 5] = ["protocol", "type", "heartbeat", "substream", "event"];

impl Decoded {
    /// A decoded message of `protocol` and type `kind`, with nothing else known yet.
    pub fn new(protocol: &str, kind: &str) -> Self {
        Decoded {
            protocol: protocol.to_owned(),
            kind: kind.to_owned(),
            ..Decoded::default()
        }
    }

    /// Marks it as the protocol's keep-alive.
    #[must_use]
    pub fn heartbeat(mut self) -> Self {
        self.heartbeat = true;
        self
    }

    /// Sets a protocol-specific field (a typed key's name is ignored: it has its own field).
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets a protocol-specific field in place.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        if !TYPED_KEYS.contains(&key) {
            self.fields.insert(key.to_owned(), value.into());
        }
    }

    /// The object as written in JSON: typed keys first, `heartbeat` only when true.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("protocol".into(), self.protocol.clone().into());
        m.insert("type".into(), self.kind.clone().into());
        if self.heartbeat {
            m.insert("heartbeat".into(), true.into());
        }
        if let Some(s) = &self.substream {
            m.insert("substream".into(), s.clone().into());
        }
        if let Some(e) = &self.event {
            m.insert("event".into(), e.clone().into());
        }
        for (k, v) in &self.fields {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// Appends the JSON object (typed keys first, in [`TYPED_KEYS`] order, then the others).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut first = true;
        let mut put = |out: &mut Vec<u8>, k: &str, v: &Value| {
            out.push(if first { b'{' } else { b',' });
            first = false;
            // Strings and values of serde_json never fail to serialise into a Vec.
            let _ = serde_json::to_writer(&mut *out, k);
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, v);
        };
        put(out, "protocol", &Value::from(self.protocol.as_str()));
        put(out, "type", &Value::from(self.kind.as_str()));
        if self.heartbeat {
            put(out, "heartbeat", &Value::Bool(true));
        }
        if let Some(s) = &self.substream {
            put(out, "substream", &Value::from(s.as_str()));
        }
        if let Some(e) = &self.event {
            put(out, "event", &Value::from(e.as_str()));
        }
        for (k, v) in &self.fields {
            put(out, k, v);
        }
        out.push(b'}');
    }

    /// Reads the object back (the inverse of [`write_json`](Self::write_json)).
    pub fn from_value(v: Value) -> Result<Self, String> {
        let Value::Object(mut m) = v else {
            return Err("`decoded` is not an object".to_owned());
        };
        let text = |m: &mut Map<String, Value>, k: &str| -> Result<Option<String>, String> {
            match m.remove(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(format!("`decoded.{k}` is not a string")),
            }
        };
        let protocol = text(&mut m, "protocol")?.ok_or("`decoded` lacks `protocol`")?;
        let kind = text(&mut m, "type")?.ok_or("`decoded` lacks `type`")?;
        let heartbeat = match m.remove("heartbeat") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err("`decoded.heartbeat` is not a boolean".to_owned()),
        };
        let substream = text(&mut m, "substream")?;
        let event = text(&mut m, "event")?;
        Ok(Decoded {
            protocol,
            kind,
            heartbeat,
            substream,
            event,
            fields: m,
        })
    }

    /// One line for the record list: type, sub-stream, event and a few short fields.
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.protocol, self.kind);
        if let Some(sub) = &self.substream {
            s.push_str(" #");
            s.push_str(sub);
        }
        if let Some(e) = &self.event {
            s.push_str(" «");
            s.push_str(e);
            s.push('»');
        }
        for (k, v) in &self.fields {
            match v {
                Value::String(t) if t.len() <= 24 => {
                    let _ = write!(s, " {k}={t}");
                }
                Value::Number(n) => {
                    let _ = write!(s, " {k}={n}");
                }
                Value::Bool(b) => {
                    let _ = write!(s, " {k}={b}");
                }
                _ => {}
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_typed_keys_first_and_reads_back() {
        let mut d = Decoded::new("socketio", "event")
            .with("namespace", "/chat")
            .with("ack_id", 12)
            .with("type", "ignored");
        d.event = Some("tick".into());
        d.substream = Some("/chat".into());
        let mut out = Vec::new();
        d.write_json(&mut out);
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            r#"{"protocol":"socketio","type":"event","substream":"/chat","event":"tick","ack_id":12,"namespace":"/chat"}"#
        );
        let back = Decoded::from_value(serde_json::from_str(&text).expect("json")).expect("reads");
        assert_eq!(back, d);
        let parsed: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(d.to_value(), parsed);
    }

    #[test]
    fn heartbeat_only_when_true_and_bad_objects_are_named() {
        let d = Decoded::new("graphql-ws", "ka").heartbeat();
        let mut out = Vec::new();
        d.write_json(&mut out);
        assert_eq!(
            out,
            br#"{"protocol":"graphql-ws","type":"ka","heartbeat":true}"#
        );
        for (bad, says) in [
            (r"[]", "not an object"),
            (r#"{"type":"x"}"#, "lacks `protocol`"),
            (r#"{"protocol":"x"}"#, "lacks `type`"),
            (r#"{"protocol":"x","type":1}"#, "not a string"),
            (
                r#"{"protocol":"x","type":"y","heartbeat":1}"#,
                "not a boolean",
            ),
        ] {
            let e = Decoded::from_value(serde_json::from_str(bad).expect("json")).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
