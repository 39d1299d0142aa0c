//! Application protocols over WebSocket (`--decode`): what a message means, as a
//! [`Decoded`] object of fields. Pure: a message in, fields out, no I/O and no clock. What the
//! connection does about a message (answering an Engine.IO ping) is the connection task's
//! business (`capture::ws`); what is counted is the store's.
//!
//! One module per protocol, each a function from one message to fields: [`socketio`] (Engine.IO
//! v4 + Socket.IO v5), [`graphql`] (graphql-transport-ws and the legacy graphql-ws), [`stomp`],
//! [`phoenix`] (channels v1 and v2), [`jsonrpc`] (JSON-RPC 2.0 with subscriptions), [`binary`]
//! (MessagePack, CBOR). [`Session`] holds the little a connection has to remember between messages:
//! which protocol auto-detection settled on, the binary attachments a Socket.IO packet announced,
//! the GraphQL flavour and the JSON-RPC subscribe requests awaiting their subscription id.

pub mod binary;
mod common;
pub mod graphql;
pub mod jsonrpc;
pub mod phoenix;
pub mod socketio;
pub mod stomp;

pub use common::Protocol;
use common::invalid;

use crate::record::decoded::Decoded;
use crate::record::{DataOpcode, Payload};

/// What `--decode` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// From the negotiated subprotocol, the URL and the first messages.
    #[default]
    Auto,
    /// Always this protocol.
    Fixed(Protocol),
    /// No decoding.
    Raw,
}

/// The `--decode` values, in `--help` order.
pub const CHOICES: [&str; 9] = [
    "auto",
    "socketio",
    "graphql-ws",
    "stomp",
    "phoenix",
    "jsonrpc",
    "msgpack",
    "cbor",
    "raw",
];

impl Choice {
    /// Parses a `--decode` value.
    pub fn parse(s: &str) -> Result<Choice, String> {
        Ok(match s {
            "auto" => Choice::Auto,
            "raw" | "none" => Choice::Raw,
            "socketio" | "socket.io" => Choice::Fixed(Protocol::SocketIo),
            "graphql-ws" | "graphql" | "graphql-transport-ws" => Choice::Fixed(Protocol::Graphql),
            "stomp" => Choice::Fixed(Protocol::Stomp),
            "phoenix" => Choice::Fixed(Protocol::Phoenix),
            "jsonrpc" | "json-rpc" => Choice::Fixed(Protocol::JsonRpc),
            "msgpack" | "messagepack" => Choice::Fixed(Protocol::MsgPack),
            "cbor" => Choice::Fixed(Protocol::Cbor),
            other => {
                return Err(format!(
                    "unknown decoder '{other}' (expected one of: {})",
                    CHOICES.join(", ")
                ));
            }
        })
    }
}

/// The protocol the handshake names: the negotiated subprotocol first, then the URL's path and
/// query (`/socket.io/?EIO=4`, Phoenix's `/websocket?vsn=2.0.0`). `None` when neither says.
pub fn detect(subprotocol: Option<&str>, path_and_query: &str) -> Option<(Protocol, bool)> {
    if let Some(p) = subprotocol.map(|p| p.trim().to_ascii_lowercase()) {
        match p.as_str() {
            "graphql-transport-ws" => return Some((Protocol::Graphql, false)),
            "graphql-ws" => return Some((Protocol::Graphql, true)),
            "stomp" | "v10.stomp" | "v11.stomp" | "v12.stomp" => {
                return Some((Protocol::Stomp, false));
            }
            "msgpack" | "messagepack" => return Some((Protocol::MsgPack, false)),
            "cbor" => return Some((Protocol::Cbor, false)),
            "jsonrpc" | "json-rpc" | "jsonrpc2" => return Some((Protocol::JsonRpc, false)),
            _ => {}
        }
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let has_param = |name: &str| {
        query
            .split('&')
            .any(|kv| kv.split_once('=').map_or(kv, |(k, _)| k) == name)
    };
    if path.contains("/socket.io/") || path.ends_with("/socket.io") || has_param("EIO") {
        return Some((Protocol::SocketIo, false));
    }
    if path.ends_with("/websocket") && has_param("vsn") {
        return Some((Protocol::Phoenix, false));
    }
    None
}

/// The protocol one message looks like, for auto-detection when the handshake said nothing.
/// Text is matched on each protocol's unmistakable shapes; binary is MessagePack or CBOR only
/// when the whole message is one map or array of that format.
pub fn sniff(opcode: DataOpcode, data: &Payload) -> Option<Protocol> {
    match (opcode, data) {
        (DataOpcode::Text, Payload::Text(t)) => sniff_text(t),
        (_, p) => binary::sniff(p.as_bytes()),
    }
}

fn sniff_text(t: &str) -> Option<Protocol> {
    if t.starts_with("0{") && t.contains("\"sid\"") {
        return Some(Protocol::SocketIo);
    }
    if stomp::looks_like(t) {
        return Some(Protocol::Stomp);
    }
    let first = t.trim_start().as_bytes().first().copied();
    if !matches!(first, Some(b'{' | b'[')) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    if jsonrpc::looks_like(&v) {
        Some(Protocol::JsonRpc)
    } else if graphql::looks_like(&v) {
        Some(Protocol::Graphql)
    } else if phoenix::looks_like(&v) {
        Some(Protocol::Phoenix)
    } else {
        None
    }
}

/// Text messages, and binary messages in a row, that auto-detection looks at without a match
/// before it gives up on a stream that said nothing (so a plain feed or an opaque binary
/// firehose does not pay for a guess on every message).
const SNIFF_MESSAGES: u32 = 16;

/// What one connection remembers between messages. A new one for each connection.
#[derive(Debug, Default)]
pub struct Session {
    choice: Choice,
    protocol: Option<Protocol>,
    /// Text messages seen without a protocol.
    sniffed: u32,
    /// Binary messages in a row that were neither MessagePack nor CBOR.
    binary_misses: u32,
    /// The graphql-ws subprotocol (subscriptions-transport-ws) rather than graphql-transport-ws.
    graphql_legacy: Option<bool>,
    socketio: socketio::State,
    jsonrpc: jsonrpc::State,
}

impl Session {
    /// A session for `choice`, told what the handshake said (subprotocol, path and query).
    pub fn new(choice: Choice, subprotocol: Option<&str>, path_and_query: &str) -> Self {
        let mut s = Session {
            choice,
            ..Session::default()
        };
        match choice {
            Choice::Raw => {}
            Choice::Fixed(p) => {
                s.protocol = Some(p);
                if p == Protocol::Graphql {
                    s.graphql_legacy = detect(subprotocol, "").map(|(_, legacy)| legacy);
                }
            }
            Choice::Auto => {
                if let Some((p, legacy)) = detect(subprotocol, path_and_query) {
                    s.protocol = Some(p);
                    if p == Protocol::Graphql {
                        s.graphql_legacy = Some(legacy);
                    }
                }
            }
        }
        s
    }

    /// The protocol messages are read as, once known.
    pub fn protocol(&self) -> Option<Protocol> {
        self.protocol
    }

    /// Reads one message (either direction); `None` when it is not decoded (raw, or auto
    /// detection has not recognised the stream).
    pub fn decode(&mut self, opcode: DataOpcode, data: &Payload) -> Option<Decoded> {
        if self.choice == Choice::Raw {
            return None;
        }
        let protocol = if let Some(p) = self.protocol {
            p
        } else {
            let text = opcode == DataOpcode::Text;
            // A text stream that matched nothing in its first messages is not guessed at later.
            if text && self.sniffed >= SNIFF_MESSAGES
                || !text && self.binary_misses >= SNIFF_MESSAGES
            {
                return None;
            }
            let p = sniff(opcode, data);
            match p {
                // Binary formats are decided per message: a stream of them has no header.
                Some(Protocol::MsgPack | Protocol::Cbor) => self.binary_misses = 0,
                Some(text_protocol) => self.protocol = Some(text_protocol),
                None if text => self.sniffed += 1,
                None => self.binary_misses += 1,
            }
            p?
        };
        Some(match protocol {
            Protocol::SocketIo => self.socketio.decode(data),
            Protocol::Graphql => match data {
                Payload::Text(t) => graphql::decode(t, &mut self.graphql_legacy),
                Payload::Binary(b) => invalid(
                    "graphql",
                    "a binary message (GraphQL over WebSocket is text)",
                    b.len(),
                ),
            },
            Protocol::Stomp => match data {
                Payload::Text(t) => stomp::decode(t),
                Payload::Binary(b) => match std::str::from_utf8(b) {
                    Ok(t) => stomp::decode(t),
                    Err(_) => stomp::decode(&String::from_utf8_lossy(b)),
                },
            },
            Protocol::Phoenix => match data {
                Payload::Text(t) => phoenix::decode(t),
                Payload::Binary(b) => phoenix::decode_binary(b),
            },
            Protocol::JsonRpc => match data {
                Payload::Text(t) => self.jsonrpc.decode(t),
                Payload::Binary(b) => {
                    invalid("jsonrpc", "a binary message (JSON-RPC is text)", b.len())
                }
            },
            Protocol::MsgPack => binary::decode_msgpack(data.as_bytes()),
            Protocol::Cbor => binary::decode_cbor(data.as_bytes()),
        })
    }
}

/// What a close code means in the application protocol (GraphQL's 44xx), when it has a meaning.
pub fn close_code_meaning(protocol: Option<Protocol>, code: u16) -> Option<&'static str> {
    match protocol {
        Some(Protocol::Graphql) => graphql::close_code_meaning(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> Payload {
        Payload::Text(s.to_owned().into())
    }

    #[test]
    fn choices_parse_and_unknown_is_named() {
        for c in CHOICES {
            assert!(Choice::parse(c).is_ok(), "{c}");
        }
        assert_eq!(
            Choice::parse("socketio"),
            Ok(Choice::Fixed(Protocol::SocketIo))
        );
        let e = Choice::parse("soap").expect_err("unknown");
        assert!(e.contains("'soap'") && e.contains("msgpack"), "{e}");
    }

    #[test]
    fn handshake_detection() {
        assert_eq!(
            detect(None, "/socket.io/?EIO=4&transport=websocket"),
            Some((Protocol::SocketIo, false))
        );
        assert_eq!(detect(None, "/ws?EIO=4"), Some((Protocol::SocketIo, false)));
        assert_eq!(
            detect(Some("graphql-transport-ws"), "/graphql"),
            Some((Protocol::Graphql, false))
        );
        assert_eq!(
            detect(Some("graphql-ws"), "/graphql"),
            Some((Protocol::Graphql, true))
        );
        assert_eq!(
            detect(Some("v12.stomp"), "/"),
            Some((Protocol::Stomp, false))
        );
        assert_eq!(
            detect(None, "/socket/websocket?vsn=2.0.0"),
            Some((Protocol::Phoenix, false))
        );
        assert_eq!(detect(None, "/feed?EIOx=1"), None);
        assert_eq!(detect(Some("chat"), "/feed"), None);
    }

    #[test]
    fn first_messages_detect_and_lock() {
        let mut s = Session::new(Choice::Auto, None, "/");
        assert_eq!(s.decode(DataOpcode::Text, &text("hello")), None);
        let d = s
            .decode(DataOpcode::Text, &text(r#"{"type":"connection_ack"}"#))
            .expect("graphql");
        assert_eq!(d.protocol, "graphql-transport-ws");
        assert_eq!(s.protocol(), Some(Protocol::Graphql));
        let mut s = Session::new(Choice::Auto, None, "/");
        let d = s
            .decode(
                DataOpcode::Text,
                &text(r#"0{"sid":"a","upgrades":[],"pingInterval":300,"pingTimeout":200}"#),
            )
            .expect("socketio");
        assert_eq!((d.protocol.as_str(), d.kind.as_str()), ("socketio", "open"));
        let d = s.decode(DataOpcode::Text, &text("2")).expect("ping");
        assert!(d.heartbeat);
    }

    #[test]
    fn raw_decodes_nothing_and_plain_json_is_left_alone() {
        let mut s = Session::new(Choice::Raw, Some("graphql-transport-ws"), "/socket.io/");
        assert_eq!(s.decode(DataOpcode::Text, &text("2")), None);
        let mut s = Session::new(Choice::Auto, None, "/feed");
        for _ in 0..SNIFF_MESSAGES {
            let plain = text(r#"{"seq":1,"type":"tick"}"#);
            assert_eq!(s.decode(DataOpcode::Text, &plain), None);
        }
        assert_eq!(s.protocol(), None);
        // Too late: after that many plain messages, a look-alike is taken as plain too.
        let late = text(r#"{"type":"connection_ack"}"#);
        assert_eq!(s.decode(DataOpcode::Text, &late), None);
        // Binary likewise: opaque messages in a row end the guessing; a match resets the count.
        let cbor = Payload::Binary(vec![0xa1, 0x61, 0x61, 0x01].into());
        let opaque = Payload::Binary(b"\x00opaque".to_vec().into());
        let mut s = Session::new(Choice::Auto, None, "/");
        for _ in 0..SNIFF_MESSAGES - 1 {
            assert_eq!(s.decode(DataOpcode::Binary, &opaque), None);
        }
        assert!(s.decode(DataOpcode::Binary, &cbor).is_some());
        for _ in 0..SNIFF_MESSAGES {
            assert_eq!(s.decode(DataOpcode::Binary, &opaque), None);
        }
        assert_eq!(s.decode(DataOpcode::Binary, &cbor), None);
    }

    fn any_choice() -> impl Strategy<Value = Choice> {
        prop_oneof![
            Just(Choice::Auto),
            Just(Choice::Fixed(Protocol::SocketIo)),
            Just(Choice::Fixed(Protocol::Graphql)),
            Just(Choice::Fixed(Protocol::Stomp)),
            Just(Choice::Fixed(Protocol::Phoenix)),
            Just(Choice::Fixed(Protocol::JsonRpc)),
            Just(Choice::Fixed(Protocol::MsgPack)),
            Just(Choice::Fixed(Protocol::Cbor)),
        ]
    }

    /// Messages near each protocol's shapes, so the fuzzing reaches past the first check.
    fn near_miss() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-6]{1,2}[0-9]{0,3}-?(/[a-z]{0,3},)?[0-9]{0,3}[\\[\\]{}\",a-z0-9:]{0,12}",
            "\\{\"(type|id|payload|jsonrpc|method|params|result)\":[\\[\\]{}\",a-z0-9:_]{0,24}",
            "\\[(null|\"1\"|1),(null|\"2\"),\"[a-z:]{0,5}\",\"(phx_reply|heartbeat|x)\",[\\[\\]{}\",a-z0-9:]{0,10}",
            "(CONNECTED|MESSAGE|SEND|ERROR)\r?\n([a-z\\\\:-]{0,8}\r?\n){0,3}\r?\n?[a-z]{0,4}\u{0}?.{0,3}",
            ".{0,40}",
        ]
    }

    proptest! {
        #[test]
        fn no_message_panics(
            choice in any_choice(),
            msgs in proptest::collection::vec(
                prop_oneof![
                    near_miss().prop_map(|t| (DataOpcode::Text, Payload::Text(t.into()))),
                    proptest::collection::vec(any::<u8>(), 0..48)
                        .prop_map(|b| (DataOpcode::Binary, Payload::Binary(b.into()))),
                ],
                1..8,
            ),
        ) {
            let mut s = Session::new(choice, None, "/");
            for (op, data) in &msgs {
                if let Some(d) = s.decode(*op, data) {
                    // Whatever came in, what comes out is a JSON object that reads back.
                    let mut out = Vec::new();
                    d.write_json(&mut out);
                    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
                    prop_assert_eq!(Decoded::from_value(v).expect("reads back"), d);
                }
            }
        }
    }
}
