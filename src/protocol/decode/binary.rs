//! MessagePack (with `rmpv`) and CBOR (with `ciborium`) messages, read without a schema and shown
//! as JSON: the record's `decoded.value`. What JSON cannot say is spelled out: byte strings as
//! `{"$bytes": base64}`, MessagePack extensions as `{"$ext": type, "$bytes": base64}`, CBOR tags as
//! `{"$tag": n, "value": ...}`, map keys that are not strings as their JSON text, NaN and infinities
//! as strings.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::common::{Protocol, invalid};
use crate::record::decoded::Decoded;

/// Nesting deeper than this is not followed (a hostile message could nest until the stack ends).
const MAX_DEPTH: usize = 64;

/// MessagePack or CBOR, when the whole message is one map or array of it.
pub(crate) fn sniff(b: &[u8]) -> Option<Protocol> {
    let container = |v: &Value| v.is_object() || v.is_array();
    if msgpack_value(b).is_ok_and(|v| container(&v)) {
        Some(Protocol::MsgPack)
    } else if cbor_value(b).is_ok_and(|v| container(&v)) {
        Some(Protocol::Cbor)
    } else {
        None
    }
}

/// Reads a MessagePack message.
pub fn decode_msgpack(b: &[u8]) -> Decoded {
    match msgpack_value(b) {
        Ok(v) => Decoded::new("msgpack", "value").with("value", v),
        Err(e) => invalid("msgpack", &e, b.len()),
    }
}

/// Reads a CBOR message.
pub fn decode_cbor(b: &[u8]) -> Decoded {
    match cbor_value(b) {
        Ok(v) => Decoded::new("cbor", "value").with("value", v),
        Err(e) => invalid("cbor", &e, b.len()),
    }
}

fn msgpack_value(b: &[u8]) -> Result<Value, String> {
    let mut rest = b;
    let v = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_DEPTH)
        .map_err(|e| format!("not MessagePack: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the MessagePack value", rest.len()));
    }
    Ok(from_msgpack(v))
}

fn cbor_value(b: &[u8]) -> Result<Value, String> {
    let mut rest = b;
    let v: ciborium::Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| format!("not CBOR: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the CBOR value", rest.len()));
    }
    Ok(from_cbor(v))
}

fn bytes(b: &[u8]) -> Value {
    let mut m = Map::new();
    m.insert(
        "$bytes".into(),
        base64::engine::general_purpose::STANDARD.encode(b).into(),
    );
    Value::Object(m)
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or_else(|| Value::String(f.to_string()), Value::Number)
}

/// A map key: strings as they are, anything else as its JSON text.
fn key(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn from_msgpack(v: rmpv::Value) -> Value {
    use rmpv::Value as M;
    match v {
        M::Nil => Value::Null,
        M::Boolean(b) => Value::Bool(b),
        M::Integer(i) => i
            .as_u64()
            .map(Value::from)
            .or_else(|| i.as_i64().map(Value::from))
            .unwrap_or(Value::Null),
        M::F32(f) => float(f64::from(f)),
        M::F64(f) => float(f),
        M::String(s) => match s.into_str() {
            Some(s) => Value::String(s),
            None => Value::String("(invalid UTF-8 string)".into()),
        },
        M::Binary(b) => bytes(&b),
        M::Array(a) => Value::Array(a.into_iter().map(from_msgpack).collect()),
        M::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (key(from_msgpack(k)), from_msgpack(v)))
                .collect(),
        ),
        M::Ext(t, data) => {
            let mut m = Map::new();
            m.insert("$ext".into(), t.into());
            m.insert(
                "$bytes".into(),
                base64::engine::general_purpose::STANDARD
                    .encode(data)
                    .into(),
            );
            Value::Object(m)
        }
    }
}

fn from_cbor(v: ciborium::Value) -> Value {
    use ciborium::Value as C;
    match v {
        C::Null => Value::Null,
        C::Bool(b) => Value::Bool(b),
        C::Integer(i) => {
            let n = i128::from(i);
            u64::try_from(n)
                .map(Value::from)
                .or_else(|_| i64::try_from(n).map(Value::from))
                .unwrap_or_else(|_| Value::String(n.to_string()))
        }
        C::Float(f) => float(f),
        C::Text(s) => Value::String(s),
        C::Bytes(b) => bytes(&b),
        C::Array(a) => Value::Array(a.into_iter().map(from_cbor).collect()),
        C::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (key(from_cbor(k)), from_cbor(v)))
                .collect(),
        ),
        C::Tag(tag, inner) => {
            let mut m = Map::new();
            m.insert("$tag".into(), tag.into());
            m.insert("value".into(), from_cbor(*inner));
            Value::Object(m)
        }
        // `ciborium::Value` is non-exhaustive: a future variant shows as its debug text.
        other => Value::String(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn msgpack_spec_examples() {
        // {"compact": true, "schema": 0}, the example on msgpack.org.
        let b = b"\x82\xa7compact\xc3\xa6schema\x00";
        let d = decode_msgpack(b);
        assert_eq!(d.fields["value"], json!({"compact": true, "schema": 0}));
        assert_eq!(sniff(b), Some(Protocol::MsgPack));
        // -1, a float, a binary and an extension, a non-string key.
        let b = [
            0x94, 0xff, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc4, 2, 1, 2, 0x81, 0x01, 0xd4, 5, 9,
        ];
        let d = decode_msgpack(&b);
        assert_eq!(
            d.fields["value"],
            json!([-1, 1.5, {"$bytes": "AQI="}, {"1": {"$ext": 5, "$bytes": "CQ=="}}])
        );
        assert_eq!(decode_msgpack(b"\x82\xa7compact").kind, "invalid");
        assert!(
            decode_msgpack(b"\x01\x02").fields["error"]
                .as_str()
                .is_some_and(|e| e.contains("after"))
        );
    }

    #[test]
    fn cbor_rfc8949_examples() {
        // {"a": 1, "b": [2, 3]} (RFC 8949 appendix A).
        let b = [0xa2, 0x61, 0x61, 0x01, 0x61, 0x62, 0x82, 0x02, 0x03];
        assert_eq!(
            decode_cbor(&b).fields["value"],
            json!({"a": 1, "b": [2, 3]})
        );
        assert_eq!(sniff(&b), Some(Protocol::Cbor));
        // 1(1363896240), h'01020304', -1000, NaN, 18446744073709551615.
        let b = [
            0x85, 0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0, 0x44, 1, 2, 3, 4, 0x39, 0x03, 0xe7, 0xf9,
            0x7e, 0x00, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(
            decode_cbor(&b).fields["value"],
            json!([{"$tag": 1, "value": 1_363_896_240}, {"$bytes": "AQIDBA=="}, -1000, "NaN", 18_446_744_073_709_551_615_u64])
        );
        assert_eq!(decode_cbor(&[0xa2, 0x61]).kind, "invalid");
        assert_eq!(sniff(b"plain bytes"), None);
        assert_eq!(sniff(&[0x05]), None);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = vec![0x91; 100_000];
        assert_eq!(decode_msgpack(&deep).kind, "invalid");
        let deep = vec![0x81; 100_000];
        assert_eq!(decode_cbor(&deep).kind, "invalid");
    }
}
