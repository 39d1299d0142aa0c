//! GraphQL over WebSocket, both subprotocols.
//!
//! `graphql-transport-ws` (the `graphql-ws` library's protocol): `connection_init`,
//! `connection_ack`, `ping`, `pong`, `subscribe`, `next`, `error`, `complete`, with the server's
//! close codes 4400-4499 for protocol violations. The legacy `graphql-ws` subprotocol (Apollo's
//! subscriptions-transport-ws): `connection_init`, `connection_ack`, `connection_error`,
//! `connection_terminate`, `start`, `data`, `error`, `complete`, `stop` and the keep-alive `ka`.
//!
//! Every message is a JSON object `{"type", "id"?, "payload"?}`; the `id` names the operation, the
//! message's sub-stream, so one socket carrying many subscriptions reads one at a time.

use serde_json::{Map, Value};

use super::common::invalid;
use crate::record::decoded::Decoded;

const TRANSPORT: &str = "graphql-transport-ws";
const LEGACY: &str = "graphql-ws";

/// Types only graphql-transport-ws has, and only the legacy protocol has.
const TRANSPORT_ONLY: [&str; 4] = ["ping", "pong", "subscribe", "next"];
const LEGACY_ONLY: [&str; 6] = [
    "start",
    "data",
    "stop",
    "ka",
    "connection_error",
    "connection_terminate",
];
const SHARED: [&str; 4] = ["connection_init", "connection_ack", "error", "complete"];

/// A JSON value shaped like a GraphQL-over-WebSocket message.
pub(crate) fn looks_like(v: &Value) -> bool {
    let Some(t) = v.get("type").and_then(Value::as_str) else {
        return false;
    };
    let known = TRANSPORT_ONLY.contains(&t) || LEGACY_ONLY.contains(&t) || SHARED.contains(&t);
    // `ping`/`pong`/`error`/`data` alone are too common in other JSON feeds; those need an id
    // or to be among the types only GraphQL uses.
    known
        && (t.starts_with("connection_")
            || matches!(t, "ka" | "next" | "subscribe" | "start")
            || v.get("id").is_some_and(Value::is_string))
}

/// Reads one message. `legacy` is the flavour when known (from the subprotocol, or an earlier
/// message that only one flavour has); a flavour-only type settles it.
pub fn decode(text: &str, legacy: &mut Option<bool>) -> Decoded {
    let name = |legacy: Option<bool>| {
        if legacy == Some(true) {
            LEGACY
        } else {
            TRANSPORT
        }
    };
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(text) else {
        return invalid(name(*legacy), "not a JSON object", text.len());
    };
    let Some(Value::String(kind)) = m.remove("type") else {
        return invalid(
            name(*legacy),
            "a message without a string `type`",
            text.len(),
        );
    };
    if TRANSPORT_ONLY.contains(&kind.as_str()) {
        *legacy = Some(false);
    } else if LEGACY_ONLY.contains(&kind.as_str()) {
        *legacy = Some(true);
    }
    let mut d = Decoded::new(name(*legacy), &kind);
    d.heartbeat = matches!(kind.as_str(), "ping" | "pong" | "ka");
    match m.remove("id") {
        Some(Value::String(id)) => d.substream = Some(id),
        Some(Value::Number(n)) => d.substream = Some(n.to_string()),
        _ => {}
    }
    if !TRANSPORT_ONLY.contains(&kind.as_str())
        && !LEGACY_ONLY.contains(&kind.as_str())
        && !SHARED.contains(&kind.as_str())
    {
        d.set("error", "not a message type of either GraphQL subprotocol");
    }
    if let Some(payload) = m.remove("payload") {
        if matches!(kind.as_str(), "subscribe" | "start") {
            describe_operation(&mut d, &payload);
        }
        if matches!(kind.as_str(), "next" | "data")
            && let Some(errors) = payload.get("errors")
        {
            d.set("errors", errors.clone());
        }
        d.set("payload", payload);
    }
    for (k, v) in m {
        d.set(&k, v);
    }
    d
}

/// The operation of a `subscribe`/`start`: its type and name (`subscription Ticks`), as the
/// sub-stream's `event`.
fn describe_operation(d: &mut Decoded, payload: &Value) {
    let named = payload
        .get("operationName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (op, name) = payload
        .get("query")
        .and_then(Value::as_str)
        .map_or((None, None), operation_of);
    if let Some(op) = op {
        d.set("operation", op);
    }
    d.event = named.or(name);
}

/// The first operation's type and name in a GraphQL document: `subscription Ticks($n: Int) {..}`
/// gives (`subscription`, `Ticks`); a bare `{ ... }` is an anonymous query.
pub fn operation_of(query: &str) -> (Option<&'static str>, Option<String>) {
    let mut rest = query.trim_start();
    // Skip comment lines.
    while let Some(r) = rest.strip_prefix('#') {
        rest = r
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    if rest.starts_with('{') {
        return (Some("query"), None);
    }
    let word_end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let op = match &rest[..word_end] {
        "subscription" => "subscription",
        "query" => "query",
        "mutation" => "mutation",
        _ => return (None, None),
    };
    let after = rest[word_end..].trim_start();
    let name_end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    let name = (name_end > 0).then(|| after[..name_end].to_owned());
    (Some(op), name)
}

/// What a graphql-transport-ws close code means (the `graphql-ws` library's `CloseCode`).
pub fn close_code_meaning(code: u16) -> Option<&'static str> {
    let named = match code {
        4400 => "bad request (a message the server could not read)",
        4401 => "unauthorized (subscribe before connection_ack)",
        4403 => "forbidden",
        4406 => "subprotocol not acceptable",
        4408 => "connection initialisation timeout (no connection_init in time)",
        4409 => "subscriber for that id already exists",
        4429 => "too many initialisation requests",
        4499 => "terminated",
        4500 => "internal server error",
        _ => {
            return (4400..=4499)
                .contains(&code)
                .then_some("GraphQL protocol error");
        }
    };
    Some(named)
}

/// The messages that open a graphql-transport-ws session and subscribe to `document` (the
/// `--send` helper): `connection_init`, then one `subscribe` with id `id`.
pub fn subscribe_messages(document: &str, id: &str) -> [String; 2] {
    let mut payload = Map::new();
    payload.insert("query".into(), document.into());
    let (_, name) = operation_of(document);
    if let Some(name) = name {
        payload.insert("operationName".into(), name.into());
    }
    let subscribe = serde_json::json!({"id": id, "type": "subscribe", "payload": payload});
    [
        r#"{"type":"connection_init","payload":{}}"#.to_owned(),
        subscribe.to_string(),
    ]
}

/// The `--send` helper: GraphQL documents among `sends` become a graphql-transport-ws session
/// (`connection_init` once, then a `subscribe` per document, ids `1`, `2`, ...; with the legacy
/// `graphql-ws` subprotocol offered, `start` instead). Other messages are sent as given. Also
/// returns the subprotocol to offer when none was and a document was wrapped.
pub fn expand_send(
    sends: &[String],
    subprotocols: &[String],
) -> (Vec<String>, Option<&'static str>) {
    if !sends.iter().any(|s| is_document(s)) {
        return (sends.to_vec(), None);
    }
    let legacy =
        subprotocols.iter().any(|p| p == LEGACY) && !subprotocols.iter().any(|p| p == TRANSPORT);
    let mut out = Vec::with_capacity(sends.len() + 1);
    let mut id = 0;
    for s in sends {
        if !is_document(s) {
            out.push(s.clone());
            continue;
        }
        id += 1;
        let [init, subscribe] = subscribe_messages(s, &id.to_string());
        if id == 1 {
            out.push(init);
        }
        out.push(if legacy {
            subscribe.replacen(r#""type":"subscribe""#, r#""type":"start""#, 1)
        } else {
            subscribe
        });
    }
    let offer = subprotocols.is_empty().then_some(TRANSPORT);
    (out, offer)
}

/// A `--send` value that is a GraphQL document rather than a message: it starts with
/// `subscription`, `query`, `mutation` (or `{`, followed by a selection, not a JSON key).
pub fn is_document(text: &str) -> bool {
    let t = text.trim_start();
    if let Some(body) = t.strip_prefix('{') {
        let body = body.trim_start();
        return !body.starts_with('"') && !body.starts_with('}');
    }
    operation_of(t).0.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The examples follow the graphql-ws library's PROTOCOL.md and subscriptions-transport-ws's.
    #[test]
    fn transport_ws_messages() {
        let mut legacy = None;
        let d = decode(
            r#"{"type":"connection_init","payload":{"token":"t"}}"#,
            &mut legacy,
        );
        assert_eq!(
            (d.protocol.as_str(), d.kind.as_str()),
            (TRANSPORT, "connection_init")
        );
        let d = decode(
            r#"{"id":"1","type":"subscribe","payload":{"query":"subscription Ticks { tick }"}}"#,
            &mut legacy,
        );
        assert_eq!(legacy, Some(false));
        assert_eq!(d.substream.as_deref(), Some("1"));
        assert_eq!(d.event.as_deref(), Some("Ticks"));
        assert_eq!(d.fields["operation"], "subscription");
        let d = decode(
            r#"{"id":"1","type":"next","payload":{"data":{"tick":3}}}"#,
            &mut legacy,
        );
        assert_eq!(d.fields["payload"], json!({"data": {"tick": 3}}));
        assert!(!d.heartbeat);
        let d = decode(
            r#"{"id":"1","type":"error","payload":[{"message":"boom"}]}"#,
            &mut legacy,
        );
        assert_eq!(d.kind, "error");
        let d = decode(r#"{"type":"ping"}"#, &mut legacy);
        assert!(d.heartbeat);
        assert!(decode(r#"{"type":"pong","payload":{}}"#, &mut legacy).heartbeat);
        assert_eq!(
            decode(r#"{"id":"1","type":"complete"}"#, &mut legacy)
                .substream
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn legacy_messages() {
        let mut legacy = None;
        let d = decode(
            r#"{"id":"7","type":"start","payload":{"query":"subscription { a }","operationName":"A"}}"#,
            &mut legacy,
        );
        assert_eq!((d.protocol.as_str(), legacy), (LEGACY, Some(true)));
        assert_eq!(d.event.as_deref(), Some("A"));
        let d = decode(r#"{"type":"ka"}"#, &mut legacy);
        assert!(d.heartbeat);
        let d = decode(
            r#"{"id":"7","type":"data","payload":{"data":null,"errors":[{"message":"x"}]}}"#,
            &mut legacy,
        );
        assert_eq!(d.fields["errors"][0]["message"], "x");
        // A shared type keeps the flavour already known.
        assert_eq!(
            decode(r#"{"id":"7","type":"complete"}"#, &mut legacy).protocol,
            LEGACY
        );
    }

    #[test]
    fn invalid_messages_say_why() {
        let mut legacy = None;
        assert_eq!(decode("[1]", &mut legacy).kind, "invalid");
        assert_eq!(decode(r#"{"id":"1"}"#, &mut legacy).kind, "invalid");
        assert!(
            decode(r#"{"type":"hello"}"#, &mut legacy)
                .fields
                .contains_key("error")
        );
    }

    #[test]
    fn documents_and_the_send_helper() {
        assert_eq!(
            operation_of("# c\nsubscription OnTick($n: Int) { tick(n: $n) }"),
            (Some("subscription"), Some("OnTick".into()))
        );
        assert_eq!(operation_of("{ a }"), (Some("query"), None));
        assert_eq!(operation_of("mutation { a }"), (Some("mutation"), None));
        assert_eq!(operation_of("hello"), (None, None));
        assert!(is_document("subscription { tick }"));
        assert!(is_document("{ hero { name } }"));
        assert!(!is_document(r#"{"type":"ping"}"#));
        assert!(!is_document("{}"));
        let [init, sub] = subscribe_messages("subscription Ticks { tick }", "1");
        let mut legacy = None;
        assert_eq!(decode(&init, &mut legacy).kind, "connection_init");
        let d = decode(&sub, &mut legacy);
        assert_eq!(
            (d.kind.as_str(), d.substream.as_deref()),
            ("subscribe", Some("1"))
        );
        assert_eq!(d.fields["payload"]["operationName"], "Ticks");
    }

    #[test]
    fn send_helper_wraps_documents_once_initialised() {
        let sends = [
            "subscription A { a }".to_owned(),
            "subscription B { b }".to_owned(),
        ];
        let (out, offer) = expand_send(&sends, &[]);
        assert_eq!(offer, Some(TRANSPORT));
        assert_eq!(out.len(), 3);
        let mut legacy = None;
        let kinds: Vec<_> = out
            .iter()
            .map(|m| decode(m, &mut legacy))
            .map(|d| (d.kind, d.substream))
            .collect();
        assert_eq!(
            kinds,
            [
                ("connection_init".to_owned(), None),
                ("subscribe".to_owned(), Some("1".to_owned())),
                ("subscribe".to_owned(), Some("2".to_owned()))
            ]
        );
        let (out, offer) = expand_send(&sends[..1], &[LEGACY.to_owned()]);
        assert_eq!(offer, None);
        assert!(out[1].contains(r#""type":"start""#), "{}", out[1]);
        let plain = [r#"{"type":"ping"}"#.to_owned()];
        assert_eq!(expand_send(&plain, &[]), (plain.to_vec(), None));
    }

    #[test]
    fn close_codes() {
        assert!(close_code_meaning(4408).is_some_and(|m| m.contains("timeout")));
        assert_eq!(close_code_meaning(4455), Some("GraphQL protocol error"));
        assert_eq!(close_code_meaning(1000), None);
    }
}
