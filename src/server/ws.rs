//! WebSocket over the shared HTTP/1.1 listener: the upgrade handshake, and the `/ws` (demo feed)
//! and `/echo` endpoints. `/firehose/ws` shares the handshake and lives in [`super::firehose`].
//!
//! The handshake is answered by hand with hyper (101 plus `Sec-WebSocket-Accept`) so that
//! WebSocket and SSE share one port; the upgraded socket is then given to tokio-tungstenite.
//!
//! Subprotocols: the first protocol offered in `Sec-WebSocket-Protocol` is echoed back, unless the
//! query has `subprotocol=none`, which lets a test see a server that picks none.
//!
//! Compression: a `permessage-deflate` offer is accepted, as Python's `websockets` does by default,
//! unless the query has `deflate=off`. tungstenite supports no extension, so the data frames of a
//! compressed connection are compressed ([`Deflater`]) and framed here and written to the socket
//! under it, and what the client compresses is inflated under it
//! ([`ClientInflate`]); tungstenite still reads, answers pings and closes.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::apps;
use super::body::{self, Body};
use super::client_inflate::ClientInflate;
use super::feed::Feed;
use super::firehose;
use super::query::{BadQuery, Query};
use super::socket::{self, Sender, Socket};
use super::state::State;
use crate::protocol::deflate::{self, DeflateParams, Deflater};

/// Which WebSocket endpoint an upgrade is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `/ws`: the demo feed.
    Feed,
    /// `/echo`: echo.
    Echo,
    /// `/firehose/ws`: precomputed bulk frames.
    Firehose,
    /// `/socket.io/`: Engine.IO v4 + Socket.IO v5.
    SocketIo,
    /// `/graphql`: graphql-transport-ws.
    Graphql,
    /// `/msgpack`: MessagePack quotes.
    MsgPack,
    /// `/cbor`: CBOR quotes.
    Cbor,
}

/// An HTTP/2 extended CONNECT for WebSocket (RFC 8441).
pub(super) fn is_extended_connect(req: &Request<Incoming>) -> bool {
    req.method() == hyper::Method::CONNECT
        && req
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str() == "websocket")
}

/// Answers a WebSocket upgrade on one of the endpoints, or explains why it cannot.
pub(super) fn upgrade(
    req: Request<Incoming>,
    query: &Query,
    state: Arc<State>,
    endpoint: Endpoint,
) -> Response<Body> {
    let over_h2 = is_extended_connect(&req);
    let key = upgrade_key(req.headers());
    if key.is_none() && !over_h2 {
        let mut response = body::text(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket: send a GET with Upgrade: websocket, \
             Connection: Upgrade, Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key\n",
        );
        response
            .headers_mut()
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        return response;
    }
    // Check the query before answering 101: afterwards there is no way to report an error but
    // a close frame.
    let task = match Task::from_query(endpoint, query, &state) {
        Ok(task) => task,
        Err(bad) => return bad.into_response(),
    };
    let protocol = if query.get("subprotocol") == Some("none") {
        None
    } else {
        first_protocol(req.headers())
    };
    let deflate = if query.get("deflate") == Some("off") {
        None
    } else {
        let offers: Vec<&str> = req
            .headers()
            .get_all("sec-websocket-extensions")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        deflate::answer_offer(&offers, DeflateParams::default())
    };

    tokio::spawn(async move {
        // Resolves once hyper has sent the 101 and let go of the socket.
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let socket = ClientInflate::new(TokioIo::new(upgraded), deflate.as_ref());
        let deflater = deflate.as_ref().map(Deflater::new);
        tokio::select! {
            () = task.run(socket, &state, deflater) => {}
            // Dropping the socket ends the connection; no close frame on shutdown.
            () = state.stopped() => {}
        }
    });

    let mut response = Response::new(body::full(""));
    if key.is_some() {
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    }
    let headers = response.headers_mut();
    if let Some(key) = key {
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
            headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
        }
    }
    // RFC 8441: a 200 answers the extended CONNECT; the stream is the WebSocket.
    if let Some(protocol) = protocol {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    if let Some(params) = deflate
        && let Ok(value) = HeaderValue::from_str(&params.to_string())
    {
        headers.insert("sec-websocket-extensions", value);
    }
    response
}

/// The `Sec-WebSocket-Key` of a valid upgrade request, or `None` when it is not one.
fn upgrade_key(headers: &HeaderMap) -> Option<HeaderValue> {
    let has_token = |name, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    let version_13 = headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    let key = headers.get(SEC_WEBSOCKET_KEY)?;
    (has_token(CONNECTION, "upgrade") && has_token(UPGRADE, "websocket") && version_13)
        .then(|| key.clone())
}

/// The first subprotocol the client offered, across repeated headers and comma lists.
fn first_protocol(headers: &HeaderMap) -> Option<HeaderValue> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .find(|protocol| !protocol.is_empty())
        .and_then(|protocol| HeaderValue::from_str(protocol).ok())
}

/// What to do on an upgraded socket, decided (and validated) before the 101 goes out.
enum Task {
    Feed(Feed),
    Echo,
    Firehose(firehose::Plan),
    SocketIo(apps::SocketIo),
    Graphql(apps::Graphql),
    Binary(apps::BinaryFeed),
}

impl Task {
    fn from_query(endpoint: Endpoint, query: &Query, state: &State) -> Result<Self, BadQuery> {
        Ok(match endpoint {
            Endpoint::Feed => {
                let count = query.number("count", 0, u64::MAX)?;
                let interval = query.interval(1)?.unwrap_or(state.config.tick);
                Self::Feed(Feed::new(state.start, interval, None, count))
            }
            Endpoint::Echo => Self::Echo,
            Endpoint::Firehose => Self::Firehose(firehose::Plan::from_query(query)?),
            Endpoint::SocketIo => {
                Self::SocketIo(apps::SocketIo::from_query(query, state.config.tick)?)
            }
            Endpoint::Graphql => {
                Self::Graphql(apps::Graphql::from_query(query, state.config.tick)?)
            }
            Endpoint::MsgPack | Endpoint::Cbor => Self::Binary(apps::BinaryFeed::from_query(
                query,
                state.config.tick,
                endpoint == Endpoint::Cbor,
            )?),
        })
    }

    async fn run(self, socket: Socket, state: &State, deflater: Option<Deflater>) {
        let mut out = Sender { deflater };
        match self {
            Self::Feed(feed) => {
                let ws = WebSocketStream::from_raw_socket(socket, Role::Server, None).await;
                run_feed(ws, feed, state.config.heartbeat, &mut out).await;
            }
            Self::Echo => {
                let ws = WebSocketStream::from_raw_socket(socket, Role::Server, None).await;
                run_echo(ws, &mut out).await;
            }
            Self::Firehose(plan) => firehose::ws(socket, &plan, out.deflater).await,
            Self::SocketIo(app) => app.run(server_socket(socket).await, &mut out).await,
            Self::Graphql(app) => app.run(server_socket(socket).await, &mut out).await,
            Self::Binary(app) => app.run(server_socket(socket).await, &mut out).await,
        }
    }
}

async fn server_socket(socket: Socket) -> WebSocketStream<Socket> {
    WebSocketStream::from_raw_socket(socket, Role::Server, None).await
}

/// `/ws`: ticks as text messages, a ping every heartbeat, close 1000 "done" after `count`.
async fn run_feed(
    mut ws: WebSocketStream<Socket>,
    mut feed: Feed,
    heartbeat: Duration,
    out: &mut Sender,
) {
    let mut pings = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut ping_seq: u64 = 0;
    while let Some(due) = feed.next_due() {
        let message = tokio::select! {
            () = tokio::time::sleep_until(due) => Message::text(feed.take().json()),
            _ = pings.tick() => {
                ping_seq += 1;
                Message::Ping(ping_seq.to_be_bytes().to_vec().into())
            }
            incoming = ws.next() => match incoming {
                // Reading is what lets tungstenite answer pings and close frames; the messages
                // themselves mean nothing to the feed.
                Some(Ok(Message::Close(_))) => return socket::drain(ws).await,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            },
        };
        if out.send(&mut ws, message).await.is_err() {
            return;
        }
    }
    socket::close(ws, CloseCode::Normal, "done").await;
}

/// `/echo`: every text or binary message goes back unchanged. Tungstenite itself answers pings
/// and echoes the peer's close frame (same code and reason) when it reads one.
async fn run_echo(mut ws: WebSocketStream<Socket>, out: &mut Sender) {
    while let Some(incoming) = ws.next().await {
        let reply = match incoming {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => message,
            Ok(Message::Close(_)) => return socket::drain(ws).await,
            Ok(_) => continue,
            Err(_) => return,
        };
        if out.send(&mut ws, reply).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn upgrade_needs_all_four_headers() {
        let good = [
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        assert!(upgrade_key(&headers(&good)).is_some());
        for skip in 0..good.len() {
            let partial: Vec<_> = good
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, pair)| *pair)
                .collect();
            assert!(upgrade_key(&headers(&partial)).is_none(), "without {skip}");
        }
    }

    #[test]
    fn first_offered_protocol_wins() {
        let map = headers(&[
            ("sec-websocket-protocol", " , chat.v2, chat.v1"),
            ("sec-websocket-protocol", "other"),
        ]);
        assert_eq!(
            first_protocol(&map),
            Some(HeaderValue::from_static("chat.v2"))
        );
        assert_eq!(first_protocol(&HeaderMap::new()), None);
    }
}
