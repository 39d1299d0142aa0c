//! `streamscope serve --replay FILE`: a recording served back as live endpoints, so a production
//! incident can be reproduced locally against the client under test.
//!
//! Recorded stream `i` is served at `/i` (SSE over `http://`, WebSocket over `ws://`, as it was
//! recorded). Each recorded connection attempt is played to one incoming connection, in order: the
//! first client connection gets the first recorded connection, the client's reconnect the second,
//! and so on. Within a connection, what the server sent (events, comments, messages, pings, its
//! close) goes out at the recorded offset from the `open`, divided by `--speed`; the connection ends
//! when the recorded one did. A recorded refusal (an `error` with an HTTP status before any `open`)
//! is answered with that status. After the last recorded connection, SSE gets `204 No Content`
//! (EventSource's "stop reconnecting") and WebSocket a close `1000` "end of recording".
//!
//! Separate from the embedded demo server (`server`) on purpose: it serves one file, shares no
//! endpoints, and its timing comes from the recording rather than a clock.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::combinators::BoxBody;
use http_body_util::{Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, SEC_WEBSOCKET_KEY};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::ingest::recording::Loaded;
use crate::record::{Dir, Kind, Payload, Proto, Record};
use crate::replay::Speed;

type Body = BoxBody<Bytes, Infallible>;

/// Something the server sends, at an offset from the connection's start.
#[derive(Debug, Clone, PartialEq)]
enum Send {
    /// SSE bytes (an event block or a comment line).
    Sse(String),
    /// A WebSocket frame.
    Ws(WsOut),
}

/// A WebSocket frame the server sends.
#[derive(Debug, Clone, PartialEq)]
enum WsOut {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Close(Option<u16>, String),
}

/// One recorded connection attempt.
#[derive(Debug, Clone, PartialEq)]
enum Attempt {
    /// The server answered: send these, then end at `end_us` after the open.
    Served {
        /// Response headers worth repeating (the chosen subprotocol).
        subprotocol: Option<String>,
        /// Offsets in microseconds from the open.
        sends: Vec<(i64, Send)>,
        /// When the recorded connection ended, from the open.
        end_us: i64,
        /// The client's recorded wait before its next attempt (SSE: sent as `retry:` first).
        retry_ms: Option<u64>,
    },
    /// The server refused with this HTTP status.
    Refused(u16),
}

/// A connection being collected: open time, chosen subprotocol, sends, last SSE id.
type Collecting = (i64, Option<String>, Vec<(i64, Send)>, String);

/// Splits one stream's records into its connection attempts.
fn attempts(records: &[&Record]) -> Vec<Attempt> {
    let mut out = Vec::new();
    let mut current: Option<Collecting> = None;
    let mut last_ts = 0;
    let finish =
        |cur: &mut Option<Collecting>, out: &mut Vec<Attempt>, at: i64, retry_ms: Option<u64>| {
            if let Some((open, subprotocol, sends, _)) = cur.take() {
                out.push(Attempt::Served {
                    subprotocol,
                    sends,
                    end_us: (at - open).max(0),
                    retry_ms,
                });
            }
        };
    for r in records {
        last_ts = r.ts_us;
        match &r.kind {
            Kind::Open { headers, .. } => {
                finish(&mut current, &mut out, r.ts_us, None);
                let subprotocol = headers
                    .iter()
                    .find(|(n, _)| n == "sec-websocket-protocol")
                    .map(|(_, v)| v.clone());
                current = Some((r.ts_us, subprotocol, Vec::new(), String::new()));
            }
            Kind::Error {
                status: Some(status),
                ..
            } if current.is_none() => out.push(Attempt::Refused(*status)),
            Kind::Reconnect { delay_ms, .. } => {
                finish(&mut current, &mut out, r.ts_us, Some(*delay_ms));
            }
            Kind::End { .. } => finish(&mut current, &mut out, r.ts_us, None),
            _ => {
                let Some((open, _, sends, last_id)) = &mut current else {
                    continue;
                };
                if let Some(s) = to_send(r, last_id) {
                    sends.push((r.ts_us - *open, s));
                }
            }
        }
    }
    finish(&mut current, &mut out, last_ts, None);
    out
}

/// What the server sent for a received record; `last_id` tracks the SSE id so `id:` is repeated
/// only when it changed.
fn to_send(r: &Record, last_id: &mut String) -> Option<Send> {
    if r.dir != Some(Dir::In) {
        return None;
    }
    match &r.kind {
        Kind::Event {
            event,
            data,
            id,
            retry,
        } => {
            let mut block = String::new();
            // `id:` is repeated only when it changed, as the server did not send it otherwise.
            let id = id.as_deref().unwrap_or_default();
            let changed = (id != last_id.as_str()).then_some(id);
            crate::protocol::sse::encode_event(&mut block, event, changed, *retry, data);
            if changed.is_some() {
                id.clone_into(last_id);
            }
            Some(Send::Sse(block))
        }
        Kind::Comment { text } => {
            let mut line = String::new();
            crate::protocol::sse::encode_comment(&mut line, text);
            Some(Send::Sse(line))
        }
        Kind::Message {
            data: Payload::Text(t),
            ..
        } => Some(Send::Ws(WsOut::Text(t.to_string()))),
        Kind::Message {
            data: Payload::Binary(b),
            ..
        } => Some(Send::Ws(WsOut::Binary(b.to_vec()))),
        Kind::Ping { data } => Some(Send::Ws(WsOut::Ping(data.as_bytes().to_vec()))),
        Kind::Close { code, reason, .. } => Some(Send::Ws(WsOut::Close(*code, reason.clone()))),
        _ => None,
    }
}

/// One served stream.
#[derive(Debug)]
struct Served {
    proto: Proto,
    attempts: Vec<Attempt>,
    next: AtomicUsize,
}

/// A bound replay server.
#[derive(Debug)]
pub struct ReplayServer {
    listener: TcpListener,
    streams: Arc<Vec<Served>>,
    speed: Speed,
    urls: Vec<String>,
}

impl ReplayServer {
    /// Binds and prepares the recording's streams.
    pub async fn bind(addr: SocketAddr, loaded: &Loaded, speed: Speed) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let streams: Vec<Served> = loaded
            .header
            .streams
            .iter()
            .map(|meta| {
                let records: Vec<&Record> = loaded
                    .records
                    .iter()
                    .filter(|r| r.stream == meta.index)
                    .collect();
                Served {
                    proto: meta.proto().unwrap_or(Proto::Sse),
                    attempts: attempts(&records),
                    next: AtomicUsize::new(0),
                }
            })
            .collect();
        let urls = loaded
            .header
            .streams
            .iter()
            .map(|s| s.url.clone())
            .collect();
        Ok(ReplayServer {
            listener,
            streams: Arc::new(streams),
            speed,
            urls,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Each served endpoint with a description (the recorded URL and its connections).
    pub fn endpoints(&self) -> Vec<(String, String)> {
        let Ok(addr) = self.local_addr() else {
            return Vec::new();
        };
        self.streams
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let scheme = if s.proto == Proto::Ws { "ws" } else { "http" };
                let url = self.urls.get(i).map_or("", String::as_str);
                (
                    format!("{scheme}://{addr}/{i}"),
                    format!("{} recorded connection(s) of {url}", s.attempts.len()),
                )
            })
            .collect()
    }

    /// Serves until the task is dropped or aborted.
    pub async fn run(self) {
        loop {
            let Ok((stream, _)) = self.listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let streams = Arc::clone(&self.streams);
            let speed = self.speed;
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let streams = Arc::clone(&streams);
                    async move { Ok::<_, Infallible>(route(req, &streams, speed)) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    }
}

fn full(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(BoxBody::new(Full::new(Bytes::from(text.to_owned()))));
    *r.status_mut() = status;
    r
}

fn scaled(offset_us: i64, speed: Speed) -> Duration {
    match speed {
        Speed::Max => Duration::ZERO,
        Speed::Factor(x) => Duration::from_micros((offset_us.max(0) as f64 / x) as u64),
    }
}

fn route(req: Request<Incoming>, streams: &Arc<Vec<Served>>, speed: Speed) -> Response<Body> {
    let path = req.uri().path().trim_start_matches('/');
    let Some((index, served)) = path
        .parse::<usize>()
        .ok()
        .and_then(|i| streams.get(i).map(|s| (i, s)))
    else {
        return full(
            StatusCode::NOT_FOUND,
            "not a recorded stream: use /0, /1, ... (see `streamscope serve --replay`)\n",
        );
    };
    let n = served.next.fetch_add(1, Ordering::SeqCst);
    let attempt = served.attempts.get(n).cloned();
    let is_ws = req.headers().contains_key(SEC_WEBSOCKET_KEY);
    match (served.proto, attempt) {
        (_, Some(Attempt::Refused(status))) => full(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &format!("recorded refusal of stream {index}\n"),
        ),
        // JSON lines are served back as the events they were recorded as.
        (Proto::Sse | Proto::Jsonl, None) => full(StatusCode::NO_CONTENT, ""),
        (
            Proto::Sse | Proto::Jsonl,
            Some(Attempt::Served {
                sends,
                end_us,
                retry_ms,
                ..
            }),
        ) => sse(sends, end_us, retry_ms, speed),
        (Proto::Ws, _) if !is_ws => full(StatusCode::UPGRADE_REQUIRED, "WebSocket endpoint\n"),
        (Proto::Ws, attempt) => ws(req, attempt, speed),
    }
}

fn sse(
    sends: Vec<(i64, Send)>,
    end_us: i64,
    retry_ms: Option<u64>,
    speed: Speed,
) -> Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        // The client waited this long before reconnecting; a retry-only block makes an
        // EventSource client wait the same (scaled) time, and dispatches nothing.
        if let Some(ms) = retry_ms {
            let scaled_ms = scaled(
                i64::try_from(ms).unwrap_or(i64::MAX).saturating_mul(1000),
                speed,
            )
            .as_millis();
            if tx
                .send(Bytes::from(format!("retry: {scaled_ms}\n\n")))
                .await
                .is_err()
            {
                return;
            }
        }
        for (offset, s) in sends {
            tokio::time::sleep_until(start + scaled(offset, speed)).await;
            if let Send::Sse(text) = s
                && tx.send(Bytes::from(text)).await.is_err()
            {
                return;
            }
        }
        tokio::time::sleep_until(start + scaled(end_us, speed)).await;
        // Dropping the sender ends the body: the recorded connection ended here.
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    let mut r = Response::new(BoxBody::new(StreamBody::new(body)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    r
}

fn ws(req: Request<Incoming>, attempt: Option<Attempt>, speed: Speed) -> Response<Body> {
    let key = req
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()));
    let subprotocol = match &attempt {
        Some(Attempt::Served { subprotocol, .. }) => subprotocol.clone(),
        _ => None,
    };
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let mut socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let (sends, end_us) = match attempt {
            Some(Attempt::Served { sends, end_us, .. }) => (sends, end_us),
            _ => (
                vec![(
                    0,
                    Send::Ws(WsOut::Close(Some(1000), "end of recording".into())),
                )],
                0,
            ),
        };
        let start = tokio::time::Instant::now();
        for (offset, s) in sends {
            let Send::Ws(frame) = s else { continue };
            let due = start + scaled(offset, speed);
            // Reading meanwhile is what answers the client's pings and notices its close.
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(due) => break,
                    incoming = socket.next() => match incoming {
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                        // A client's ping is answered with a pong that tungstenite only queues;
                        // flush it now, or the round trip would include the wait for our next frame.
                        Some(Ok(_)) => {
                            if socket.flush().await.is_err() {
                                return;
                            }
                        }
                    },
                }
            }
            let msg = match frame {
                WsOut::Text(t) => Message::text(t),
                WsOut::Binary(b) => Message::binary(b),
                WsOut::Ping(p) => Message::Ping(p.into()),
                WsOut::Close(code, reason) => {
                    let frame = code.map(|c| CloseFrame {
                        code: CloseCode::from(c),
                        reason: reason.into(),
                    });
                    let _ = socket.close(frame).await;
                    // Wait (briefly) for the client's reply to the close.
                    let _ = tokio::time::timeout(Duration::from_secs(5), async {
                        while let Some(Ok(_)) = socket.next().await {}
                    })
                    .await;
                    return;
                }
            };
            if socket.send(msg).await.is_err() {
                return;
            }
        }
        // No close frame was recorded from the server: the connection ended without one.
        let _ = tokio::time::timeout(
            scaled(end_us, speed).saturating_sub(start.elapsed()),
            async { while let Some(Ok(_)) = socket.next().await {} },
        )
        .await;
    });
    let mut r = full(StatusCode::SWITCHING_PROTOCOLS, "");
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    h.insert(
        hyper::header::UPGRADE,
        HeaderValue::from_static("websocket"),
    );
    if let Some(accept) = key.and_then(|k| HeaderValue::from_str(&k).ok()) {
        h.insert(hyper::header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(p) = subprotocol.and_then(|p| HeaderValue::from_str(&p).ok()) {
        h.insert(hyper::header::SEC_WEBSOCKET_PROTOCOL, p);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{comment, event, rec};

    fn open(ts: i64) -> Record {
        let open = Kind::open(200, vec![], 1.0);
        rec(ts, open)
    }

    #[test]
    fn connections_refusals_and_offsets() {
        let records = [
            rec(
                0,
                Kind::Error {
                    message: "HTTP 503".into(),
                    status: Some(503),
                    close_code: None,
                },
            ),
            rec(
                1,
                Kind::Reconnect {
                    attempt: 1,
                    delay_ms: 0,
                    last_event_id: None,
                    reason: "503".into(),
                    retry_ms: None,
                },
            ),
            open(1_000),
            event(1_500, "a\nb").named("tick").id("1").dir(Dir::In),
            event(2_000, "c").named("tick").id("1").dir(Dir::In),
            comment(2_100, "hb").dir(Dir::In),
            rec(
                3_000,
                Kind::Reconnect {
                    attempt: 1,
                    delay_ms: 0,
                    last_event_id: Some("1".into()),
                    reason: "server closed".into(),
                    retry_ms: None,
                },
            ),
            open(10_000),
            event(10_250, "d").named("tick").id("2").dir(Dir::In),
            rec(
                11_000,
                Kind::End {
                    reason: "count reached".into(),
                    failed: false,
                },
            ),
        ];
        let refs: Vec<&Record> = records.iter().collect();
        let a = attempts(&refs);
        assert_eq!(a.len(), 3);
        assert_eq!(a[0], Attempt::Refused(503));
        assert_eq!(
            a[1],
            Attempt::Served {
                subprotocol: None,
                sends: vec![
                    (
                        500,
                        Send::Sse("event: tick\nid: 1\ndata: a\ndata: b\n\n".into())
                    ),
                    // The id did not change: not repeated.
                    (1_000, Send::Sse("event: tick\ndata: c\n\n".into())),
                    (1_100, Send::Sse(": hb\n".into())),
                ],
                end_us: 2_000,
                retry_ms: Some(0),
            }
        );
        assert_eq!(
            a[2],
            Attempt::Served {
                subprotocol: None,
                sends: vec![(250, Send::Sse("event: tick\nid: 2\ndata: d\n\n".into()))],
                end_us: 1_000,
                retry_ms: None,
            }
        );
    }
}
