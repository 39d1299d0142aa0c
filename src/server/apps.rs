//! WebSocket endpoints that speak application protocols, for trying `--decode` and for the e2e
//! tests: `/socket.io/` (Engine.IO v4 + Socket.IO v5), `/graphql` (graphql-transport-ws),
//! `/msgpack` and `/cbor` (binary feeds). Each is a small server of its protocol, not a full
//! implementation: enough that a session looks like one from the real thing (heartbeats,
//! acknowledgements, binary attachments, several subscriptions on one socket, close codes).

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::query::{BadQuery, Query};
use super::socket::{self, Sender, Socket};

/// `/socket.io/?EIO=4&transport=websocket`: the Engine.IO heartbeat and a `/chat` namespace.
#[derive(Debug, Clone, Copy)]
pub(super) struct SocketIo {
    ping: Duration,
    timeout: Duration,
    tick: Duration,
    count: Option<u64>,
}

impl SocketIo {
    /// `ping_ms` and `timeout_ms` (pingInterval, pingTimeout; 25 s and 20 s as Socket.IO's
    /// defaults), `interval_ms` between ticks, `count` ticks then a disconnect.
    pub(super) fn from_query(query: &Query, tick: Duration) -> Result<Self, BadQuery> {
        if query.get("EIO").is_some_and(|v| v != "4") {
            return Err(BadQuery::new("only Engine.IO v4 (EIO=4) is served"));
        }
        if query.get("transport").is_some_and(|t| t != "websocket") {
            return Err(BadQuery::new(
                "only transport=websocket is served (no long-polling)",
            ));
        }
        let ms = |name, default| -> Result<Duration, BadQuery> {
            Ok(Duration::from_millis(
                query.number(name, 10, 3_600_000)?.unwrap_or(default),
            ))
        };
        Ok(SocketIo {
            ping: ms("ping_ms", 25_000)?,
            timeout: ms("timeout_ms", 20_000)?,
            tick: query.interval(1)?.unwrap_or(tick),
            count: query.number("count", 0, u64::MAX)?,
        })
    }

    /// The session: the open packet, then pings every pingInterval (and a close when the pong
    /// is late), ticks to every connected namespace, a binary event every third tick, acks to
    /// `echo` events.
    pub(super) async fn run(self, mut ws: WebSocketStream<Socket>, out: &mut Sender) {
        let sid = format!("s{:016x}", rand::random::<u64>());
        let open = json!({"sid": sid, "upgrades": [], "pingInterval": self.ping.as_millis() as u64,
            "pingTimeout": self.timeout.as_millis() as u64, "maxPayload": 1_000_000});
        if out
            .send(&mut ws, Message::text(format!("0{open}")))
            .await
            .is_err()
        {
            return;
        }
        let mut pings = tokio::time::interval_at(Instant::now() + self.ping, self.ping);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut ticks = tokio::time::interval_at(Instant::now() + self.tick, self.tick);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The pong deadline of the ping in flight.
        let mut pong_due: Option<Instant> = None;
        let mut namespaces: Vec<String> = Vec::new();
        let mut n: u64 = 0;
        loop {
            let deadline = pong_due.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
            let messages: Vec<Message> = tokio::select! {
                _ = pings.tick() => {
                    pong_due.get_or_insert(Instant::now() + self.timeout);
                    vec![Message::text("2")]
                }
                () = tokio::time::sleep_until(deadline), if pong_due.is_some() => {
                    // As python-engineio does: the transport closes, no Engine.IO close packet.
                    return socket::close(ws, CloseCode::Normal, "").await;
                }
                _ = ticks.tick(), if !namespaces.is_empty() => {
                    if self.count.is_some_and(|c| n >= c) {
                        let mut bye: Vec<Message> = namespaces.iter().map(|ns| Message::text(format!("41{}", prefix(ns)))).collect();
                        bye.push(Message::text("1"));
                        for m in bye {
                            if out.send(&mut ws, m).await.is_err() {
                                return;
                            }
                        }
                        return socket::close(ws, CloseCode::Normal, "done").await;
                    }
                    let t = tick_messages(&namespaces, n);
                    n += 1;
                    t
                }
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(t))) => {
                        if t.as_str().starts_with('3') {
                            pong_due = None;
                        }
                        answer(t.as_str(), &sid, &mut namespaces)
                    }
                    Some(Ok(Message::Close(_))) => return socket::drain(ws).await,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return,
                },
            };
            for m in messages {
                if out.send(&mut ws, m).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `/chat,` for a namespace other than `/`, nothing for `/`.
fn prefix(ns: &str) -> String {
    if ns == "/" {
        String::new()
    } else {
        format!("{ns},")
    }
}

/// Tick `n` to every namespace; every third also the binary event `blob` with one attachment.
fn tick_messages(namespaces: &[String], n: u64) -> Vec<Message> {
    let mut out = Vec::new();
    for ns in namespaces {
        let p = prefix(ns);
        out.push(Message::text(format!("42{p}[\"tick\",{{\"n\":{n}}}]")));
        if n % 3 == 2 {
            out.push(Message::text(format!(
                "451-{p}[\"blob\",{{\"_placeholder\":true,\"num\":0}}]"
            )));
            out.push(Message::binary(n.to_be_bytes().to_vec()));
        }
    }
    out
}

/// The server's answer to a client packet: a namespace CONNECT, an `echo` event with an ack id.
fn answer(packet: &str, sid: &str, namespaces: &mut Vec<String>) -> Vec<Message> {
    let d = crate::protocol::decode::socketio::decode_text(packet);
    let ns = d.substream.clone().unwrap_or_else(|| "/".into());
    match d.kind.as_str() {
        "connect" => {
            if !namespaces.contains(&ns) {
                namespaces.push(ns.clone());
            }
            vec![Message::text(format!(
                "40{}{}",
                prefix(&ns),
                json!({"sid": format!("{sid}{}", namespaces.len())})
            ))]
        }
        "disconnect" => {
            namespaces.retain(|n| *n != ns);
            Vec::new()
        }
        "event" => match (d.fields.get("ack_id"), d.fields.get("args")) {
            (Some(id), Some(args)) => vec![Message::text(format!("43{}{id}{args}", prefix(&ns)))],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// `/graphql`: graphql-transport-ws with a `ticks` subscription, as many at a time as asked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Graphql {
    tick: Duration,
    count: u64,
}

impl Graphql {
    /// `interval_ms` between a subscription's values, `count` values before its `complete`
    /// (default 5).
    pub(super) fn from_query(query: &Query, tick: Duration) -> Result<Self, BadQuery> {
        Ok(Graphql {
            tick: query.interval(1)?.unwrap_or(tick),
            count: query.number("count", 0, u64::MAX)?.unwrap_or(5),
        })
    }

    /// The session, with the graphql-ws library's rules: `connection_init` first (4408 if it
    /// does not come within 3 s, 4429 if twice), no `subscribe` before the ack (4401), no id twice
    /// (4409), an unreadable message 4400.
    pub(super) async fn run(self, mut ws: WebSocketStream<Socket>, out: &mut Sender) {
        let init_due = Instant::now() + Duration::from_secs(3);
        let mut acked = false;
        // Active subscriptions: id and values sent so far.
        let mut subs: HashMap<String, u64> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut ticks = tokio::time::interval(self.tick);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let messages: Result<Vec<Value>, (CloseCode, &'static str)> = tokio::select! {
                () = tokio::time::sleep_until(init_due), if !acked => {
                    Err((CloseCode::Library(4408), "Connection initialisation timeout"))
                }
                _ = ticks.tick(), if !subs.is_empty() => Ok(self.values(&mut subs, &mut order)),
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(t))) => {
                        graphql_answer(t.as_str(), &mut acked, &mut subs, &mut order)
                    }
                    Some(Ok(Message::Close(_))) => return socket::drain(ws).await,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return,
                },
            };
            match messages {
                Ok(messages) => {
                    for m in messages {
                        if out
                            .send(&mut ws, Message::text(m.to_string()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                Err((code, reason)) => return socket::close(ws, code, reason).await,
            }
        }
    }

    /// One value of each active subscription, and `complete` for those that reached `count`.
    fn values(&self, subs: &mut HashMap<String, u64>, order: &mut Vec<String>) -> Vec<Value> {
        let mut out = Vec::new();
        for id in order.iter() {
            let Some(n) = subs.get_mut(id) else { continue };
            if *n >= self.count {
                out.push(json!({"id": id, "type": "complete"}));
                subs.remove(id);
            } else {
                out.push(json!({"id": id, "type": "next", "payload": {"data": {"ticks": *n}}}));
                *n += 1;
            }
        }
        order.retain(|id| subs.contains_key(id));
        out
    }
}

/// The server's answer to a client message, or the close it calls for.
fn graphql_answer(
    text: &str,
    acked: &mut bool,
    subs: &mut HashMap<String, u64>,
    order: &mut Vec<String>,
) -> Result<Vec<Value>, (CloseCode, &'static str)> {
    let bad = || (CloseCode::Library(4400), "Invalid message received");
    let v: Value = serde_json::from_str(text).map_err(|_| bad())?;
    let id = v.get("id").and_then(Value::as_str).map(str::to_owned);
    match v.get("type").and_then(Value::as_str) {
        Some("connection_init") if *acked => {
            Err((CloseCode::Library(4429), "Too many initialisation requests"))
        }
        Some("connection_init") => {
            *acked = true;
            Ok(vec![json!({"type": "connection_ack"})])
        }
        Some("ping") => Ok(vec![json!({"type": "pong"})]),
        Some("pong") => Ok(Vec::new()),
        Some("subscribe") if !*acked => Err((CloseCode::Library(4401), "Unauthorized")),
        Some("subscribe") => {
            let id = id.ok_or_else(bad)?;
            if subs.contains_key(&id) {
                return Err((CloseCode::Library(4409), "Subscriber for id already exists"));
            }
            subs.insert(id.clone(), 0);
            order.push(id);
            Ok(Vec::new())
        }
        Some("complete") => {
            if let Some(id) = id {
                subs.remove(&id);
                order.retain(|o| *o != id);
            }
            Ok(Vec::new())
        }
        _ => Err(bad()),
    }
}

/// `/msgpack` and `/cbor`: quotes as binary messages, one per tick, then close 1000 "done".
#[derive(Debug, Clone, Copy)]
pub(super) struct BinaryFeed {
    cbor: bool,
    tick: Duration,
    count: Option<u64>,
}

impl BinaryFeed {
    /// `interval_ms` between messages, `count` messages (default: until closed).
    pub(super) fn from_query(query: &Query, tick: Duration, cbor: bool) -> Result<Self, BadQuery> {
        Ok(BinaryFeed {
            cbor,
            tick: query.interval(1)?.unwrap_or(tick),
            count: query.number("count", 0, u64::MAX)?,
        })
    }

    /// The feed.
    pub(super) async fn run(self, mut ws: WebSocketStream<Socket>, out: &mut Sender) {
        let mut ticks = tokio::time::interval(self.tick);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut seq: u64 = 0;
        while self.count.is_none_or(|c| seq < c) {
            tokio::select! {
                _ = ticks.tick() => {}
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Close(_))) => return socket::drain(ws).await,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return,
                },
            }
            let bytes = if self.cbor {
                cbor_quote(seq)
            } else {
                msgpack_quote(seq)
            };
            if out.send(&mut ws, Message::binary(bytes)).await.is_err() {
                return;
            }
            seq += 1;
        }
        socket::close(ws, CloseCode::Normal, "done").await;
    }
}

/// The price of quote `seq`, in cents: a walk that never goes negative.
fn price_cents(seq: u64) -> u64 {
    10_000 + (seq * 37) % 500
}

/// `{"seq": n, "symbol": "ACME", "price": 100.37, "raw": <4 bytes>}` in MessagePack.
pub(super) fn msgpack_quote(seq: u64) -> Vec<u8> {
    use rmpv::Value as M;
    let v = M::Map(vec![
        (M::from("seq"), M::from(seq)),
        (M::from("symbol"), M::from("ACME")),
        (M::from("price"), M::F64(price_cents(seq) as f64 / 100.0)),
        (
            M::from("raw"),
            M::Binary((seq as u32).to_be_bytes().to_vec()),
        ),
    ]);
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, &v);
    out
}

/// The same quote in CBOR.
pub(super) fn cbor_quote(seq: u64) -> Vec<u8> {
    use ciborium::Value as C;
    let v = C::Map(vec![
        (C::from("seq"), C::from(seq)),
        (C::from("symbol"), C::from("ACME")),
        (C::from("price"), C::Float(price_cents(seq) as f64 / 100.0)),
        (
            C::from("raw"),
            C::Bytes((seq as u32).to_be_bytes().to_vec()),
        ),
    ]);
    let mut out = Vec::new();
    let _ = ciborium::ser::into_writer(&v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::decode::binary;

    #[test]
    fn quotes_read_back_the_same_in_both_formats() {
        let want =
            json!({"seq": 3, "symbol": "ACME", "price": 101.11, "raw": {"$bytes": "AAAAAw=="}});
        assert_eq!(
            binary::decode_msgpack(&msgpack_quote(3)).fields["value"],
            want
        );
        assert_eq!(binary::decode_cbor(&cbor_quote(3)).fields["value"], want);
    }

    #[test]
    fn socket_io_answers_connects_and_acks() {
        let mut ns = Vec::new();
        let text = |m: &Message| m.to_text().unwrap_or("").to_owned();
        let a = answer("40/chat,", "s", &mut ns);
        assert_eq!(ns, ["/chat"]);
        assert_eq!(text(&a[0]), r#"40/chat,{"sid":"s1"}"#);
        let a = answer(r#"42/chat,7["echo","hi"]"#, "s", &mut ns);
        assert_eq!(text(&a[0]), r#"43/chat,7["hi"]"#);
        assert!(answer(r#"42/chat,["no ack"]"#, "s", &mut ns).is_empty());
        let t = tick_messages(&ns, 2);
        assert_eq!(t.len(), 3, "a tick, a binary event and its attachment");
        answer("41/chat,", "s", &mut ns);
        assert!(ns.is_empty());
    }

    #[test]
    fn graphql_rules() {
        let (mut acked, mut subs, mut order) = (false, HashMap::new(), Vec::new());
        let sub = r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { ticks }"}}"#;
        assert_eq!(
            graphql_answer(sub, &mut acked, &mut subs, &mut order)
                .err()
                .map(|e| e.0),
            Some(CloseCode::Library(4401))
        );
        let ack = graphql_answer(
            r#"{"type":"connection_init"}"#,
            &mut acked,
            &mut subs,
            &mut order,
        );
        assert_eq!(ack.ok(), Some(vec![json!({"type": "connection_ack"})]));
        assert!(graphql_answer(sub, &mut acked, &mut subs, &mut order).is_ok());
        assert_eq!(
            graphql_answer(sub, &mut acked, &mut subs, &mut order)
                .err()
                .map(|e| e.0),
            Some(CloseCode::Library(4409))
        );
        let g = Graphql {
            tick: Duration::from_millis(1),
            count: 1,
        };
        assert_eq!(g.values(&mut subs, &mut order)[0]["type"], "next");
        assert_eq!(g.values(&mut subs, &mut order)[0]["type"], "complete");
        assert!(order.is_empty());
        assert_eq!(
            graphql_answer("nope", &mut acked, &mut subs, &mut order)
                .err()
                .map(|e| e.0),
            Some(CloseCode::Library(4400))
        );
    }
}
