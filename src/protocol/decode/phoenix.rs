//! Phoenix channels: the v2 serializer's arrays `[join_ref, ref, topic, event, payload]` and the
//! v1 objects `{"topic", "event", "payload", "ref"}`. The topic is the message's sub-stream; the
//! client's `heartbeat` on topic `phoenix` and its `phx_reply` are heartbeats.

use serde_json::Value;

use super::common::invalid;
use crate::record::decoded::Decoded;

const NAME: &str = "phoenix";

/// A v2 array of five with a string topic and event.
pub(crate) fn looks_like(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        a.len() == 5
            && a[2].is_string()
            && a[3].is_string()
            && (a[0].is_null() || a[0].is_string())
            && (a[1].is_null() || a[1].is_string())
    })
}

/// Reads one text message.
pub fn decode(t: &str) -> Decoded {
    let Ok(v) = serde_json::from_str::<Value>(t) else {
        return invalid(NAME, "not JSON", t.len());
    };
    let (join_ref, reference, topic, event, payload) = match v {
        Value::Array(a) if a.len() == 5 => {
            let mut it = a.into_iter();
            let mut next = || it.next().unwrap_or(Value::Null);
            (next(), next(), next(), next(), next())
        }
        Value::Object(mut m) => (
            m.remove("join_ref").unwrap_or(Value::Null),
            m.remove("ref").unwrap_or(Value::Null),
            m.remove("topic").unwrap_or(Value::Null),
            m.remove("event").unwrap_or(Value::Null),
            m.remove("payload").unwrap_or(Value::Null),
        ),
        _ => return invalid(NAME, "neither a v2 array of five nor a v1 object", t.len()),
    };
    let (Value::String(topic), Value::String(event)) = (topic, event) else {
        return invalid(NAME, "a message without a string topic and event", t.len());
    };
    let kind = match event.as_str() {
        "phx_join" => "join",
        "phx_reply" => "reply",
        "phx_leave" => "leave",
        "phx_close" => "close",
        "phx_error" => "error",
        "heartbeat" => "heartbeat",
        _ => "event",
    };
    let mut d = Decoded::new(NAME, kind);
    d.heartbeat = topic == "phoenix" && matches!(kind, "heartbeat" | "reply");
    if kind == "reply"
        && let Some(status) = payload.get("status").and_then(Value::as_str)
    {
        d.set("status", status);
    }
    if !join_ref.is_null() {
        d.set("join_ref", join_ref);
    }
    if !reference.is_null() {
        d.set("ref", reference);
    }
    d.set("payload", payload);
    d.substream = Some(topic);
    d.event = Some(event);
    d
}

/// A binary message: Phoenix's binary push/reply/broadcast frames carry a raw payload that this
/// decoder does not unpack; it reports the size.
pub fn decode_binary(b: &[u8]) -> Decoded {
    Decoded::new(NAME, "binary").with("bytes", b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Messages as phoenix.js (serializer 2.0.0) sends and receives them.
    #[test]
    fn v2_messages() {
        let d = decode(r#"["1","1","room:lobby","phx_join",{}]"#);
        assert_eq!(
            (d.kind.as_str(), d.substream.as_deref()),
            ("join", Some("room:lobby"))
        );
        assert_eq!(d.fields["join_ref"], "1");
        let d = decode(r#"["1","1","room:lobby","phx_reply",{"status":"ok","response":{}}]"#);
        assert_eq!(
            (d.kind.as_str(), &d.fields["status"]),
            ("reply", &"ok".into())
        );
        assert!(!d.heartbeat);
        let d = decode(r#"[null,"2","phoenix","heartbeat",{}]"#);
        assert!(d.heartbeat);
        let d = decode(r#"[null,"2","phoenix","phx_reply",{"status":"ok","response":{}}]"#);
        assert!(d.heartbeat);
        let d = decode(r#"[null,null,"room:lobby","new_msg",{"body":"hi"}]"#);
        assert_eq!(
            (d.kind.as_str(), d.event.as_deref()),
            ("event", Some("new_msg"))
        );
        assert_eq!(d.fields["payload"]["body"], "hi");
    }

    #[test]
    fn v1_objects_and_bad_messages() {
        let d = decode(r#"{"topic":"rooms:1","event":"phx_join","payload":{},"ref":"1"}"#);
        assert_eq!((d.kind.as_str(), &d.fields["ref"]), ("join", &"1".into()));
        assert_eq!(decode("[1,2,3]").kind, "invalid");
        assert_eq!(decode(r#"[null,null,1,"x",{}]"#).kind, "invalid");
        assert_eq!(decode("nope").kind, "invalid");
        assert!(looks_like(&serde_json::json!([null, "1", "t", "e", {}])));
        assert!(!looks_like(&serde_json::json!([1, 2, 3, 4, 5])));
    }
}
