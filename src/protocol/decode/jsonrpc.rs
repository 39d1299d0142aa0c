//! JSON-RPC 2.0 over WebSocket, with subscriptions keyed by subscription id.
//!
//! Requests (`method` and `id`), notifications (`method`, no `id`), responses (`result` or
//! `error`, and `id`) and batches (arrays). Subscription APIs (Ethereum's `eth_subscribe`, Solana's
//! `*Subscribe`) answer a subscribe request with the subscription id, then send notifications
//! whose `params.subscription` names it: that id is the notification's sub-stream. The state
//! remembers which request ids asked to subscribe, so their responses say which id they created.

use std::collections::HashMap;

use serde_json::Value;

use super::common::invalid;
use crate::record::decoded::Decoded;

const NAME: &str = "jsonrpc";

/// Subscribe requests kept while awaiting their answer (a bound, for a client that never gets one).
const PENDING_CAP: usize = 1024;

/// A JSON-RPC 2.0 object, or a batch whose first element is one.
pub(crate) fn looks_like(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.get("jsonrpc").and_then(Value::as_str) == Some("2.0"),
        Value::Array(a) => a.first().is_some_and(|f| f.get("jsonrpc").is_some()),
        _ => false,
    }
}

/// The subscribe requests of a connection awaiting their response.
#[derive(Debug, Default)]
pub(crate) struct State {
    subscribing: HashMap<String, String>,
}

impl State {
    /// Reads one text message.
    pub(crate) fn decode(&mut self, t: &str) -> Decoded {
        match serde_json::from_str::<Value>(t) {
            Ok(Value::Array(items)) => {
                let mut d = Decoded::new(NAME, "batch").with("count", items.len());
                let inner: Vec<Value> = items.into_iter().map(|v| self.one(v).to_value()).collect();
                d.set("items", inner);
                d
            }
            Ok(v @ Value::Object(_)) => self.one(v),
            _ => invalid(NAME, "neither a JSON object nor a batch array", t.len()),
        }
    }

    fn one(&mut self, v: Value) -> Decoded {
        let Value::Object(mut m) = v else {
            return invalid(NAME, "a batch element that is not an object", 0);
        };
        let version_ok = m
            .remove("jsonrpc")
            .and_then(|v| v.as_str().map(str::to_owned))
            == Some("2.0".to_owned());
        let id = m.remove("id");
        let method = m.remove("method");
        let mut d = match (method, &id) {
            (Some(Value::String(method)), Some(id)) if !id.is_null() => {
                if method.ends_with("subscribe") || method.ends_with("Subscribe") {
                    if self.subscribing.len() >= PENDING_CAP {
                        self.subscribing.clear();
                    }
                    self.subscribing.insert(key(id), method.clone());
                }
                let mut d = Decoded::new(NAME, "request");
                d.event = Some(method);
                d
            }
            (Some(Value::String(method)), _) => {
                let mut d = Decoded::new(NAME, "notification");
                d.substream = m.get("params").and_then(|p| p.get("subscription")).map(key);
                if let Some(result) = m.get("params").and_then(|p| p.get("result")) {
                    d.set("result", result.clone());
                }
                d.event = Some(method);
                d
            }
            (Some(_), _) => invalid(NAME, "a `method` that is not a string", 0),
            (None, _) if m.contains_key("error") => Decoded::new(NAME, "error"),
            (None, _) if m.contains_key("result") => {
                let mut d = Decoded::new(NAME, "response");
                if let Some(id) = &id
                    && let Some(method) = self.subscribing.remove(&key(id))
                    && let Some(sub) = m.get("result").filter(|r| r.is_string() || r.is_number())
                {
                    d.substream = Some(key(sub));
                    d.set("subscribed", method);
                }
                d
            }
            (None, _) => invalid(NAME, "neither a request, a notification nor a response", 0),
        };
        if !version_ok {
            d.set("warning", "no \"jsonrpc\":\"2.0\"");
        }
        if let Some(id) = id {
            d.set("id", id);
        }
        for (k, v) in m {
            if !(d.kind == "notification" && k == "params" && d.fields.contains_key("result")) {
                d.set(&k, v);
            }
        }
        d
    }
}

/// An id or subscription as a map key and sub-stream name: strings as they are, others as JSON.
fn key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The JSON-RPC 2.0 specification's examples, and Ethereum's eth_subscribe exchange.
    #[test]
    fn spec_examples() {
        let mut s = State::default();
        let d =
            s.decode(r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#);
        assert_eq!(
            (d.kind.as_str(), d.event.as_deref()),
            ("request", Some("subtract"))
        );
        assert_eq!(d.fields["id"], 1);
        let d = s.decode(r#"{"jsonrpc": "2.0", "result": 19, "id": 1}"#);
        assert_eq!(
            (d.kind.as_str(), &d.fields["result"]),
            ("response", &19.into())
        );
        let d = s.decode(r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#);
        assert_eq!(d.kind, "notification");
        let d = s.decode(r#"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#);
        assert_eq!(d.kind, "error");
        assert_eq!(d.fields["error"]["code"], -32601);
        let d = s.decode(r#"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]"#);
        assert_eq!((d.kind.as_str(), &d.fields["count"]), ("batch", &2.into()));
        assert_eq!(d.fields["items"][1]["type"], "notification");
        assert_eq!(s.decode("[]").fields["count"], 0);
        assert_eq!(s.decode("1").kind, "invalid");
        assert_eq!(s.decode(r#"{"jsonrpc":"2.0","id":3}"#).kind, "invalid");
    }

    #[test]
    fn subscriptions_are_sub_streams() {
        let mut s = State::default();
        s.decode(
            r#"{"id": 1, "jsonrpc": "2.0", "method": "eth_subscribe", "params": ["newHeads"]}"#,
        );
        let d =
            s.decode(r#"{"jsonrpc":"2.0","id":1,"result":"0x9cef478923ff08bf67fde6c64013158d"}"#);
        assert_eq!(
            d.substream.as_deref(),
            Some("0x9cef478923ff08bf67fde6c64013158d")
        );
        assert_eq!(d.fields["subscribed"], "eth_subscribe");
        let d = s.decode(r#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x9cef478923ff08bf67fde6c64013158d","result":{"number":"0x1b4"}}}"#);
        assert_eq!(
            d.substream.as_deref(),
            Some("0x9cef478923ff08bf67fde6c64013158d")
        );
        assert_eq!(d.fields["result"]["number"], "0x1b4");
        assert!(!d.fields.contains_key("params"));
        let d = s.decode(r#"{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":23784,"result":{}}}"#);
        assert_eq!(d.substream.as_deref(), Some("23784"));
    }
}
