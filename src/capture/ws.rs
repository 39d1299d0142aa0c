//! The WebSocket connection task: the upgrade goes through hyper (so both protocols share one
//! HTTP path, one `open` record shape and one way of reporting refused upgrades), then streamscope
//! takes the raw socket back and reads frames itself with [`super::codec::Decoder`], so every
//! frame's header and size is seen exactly as it arrived.
//!
//! Pings are answered at once; our own pings are matched to pongs by payload for the RTT; on exit
//! the closing handshake is completed; protocol errors are reported with the close code RFC 6455
//! requires, and that close code is sent to the server.
//!
//! permessage-deflate is offered as browsers offer it (unless `--no-deflate`); the server's answer
//! is checked by [`deflate::accept_response`], and compressed messages are inflated by
//! [`deflate::Inflater`] with `--max-message` as the cap on what one message may inflate to.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};

use crate::capture::body::Body;
use crate::capture::config::StreamConfig;
use crate::capture::control::Control;
use crate::capture::emitter::Emitter;
use crate::capture::http1;
use crate::capture::http1::Opened;
use crate::capture::http2::{H2Io, WsIo};
use crate::capture::net::conn::Conn;
use crate::capture::net::tap::{ReadMark, Tap, TapState};
use crate::capture::supervise::{
    ControlRx, Failure, Outcome, Session, idle_timeout, recv_control, sleep_until_opt,
    wait_shutdown,
};
use crate::protocol::decode::{self, socketio};
use crate::protocol::deflate::{self, DeflateLint, DeflateParams, Deflater, Inflater};
use crate::protocol::ws::{self as codec, Decoder, WsItem, WsLint};
use crate::record::decoded::Decoded;
use crate::record::time::Stamp;
use crate::record::{DataOpcode, Kind, Payload, Side};

/// Room offered to each socket read. A read returns whatever has arrived, so this only matters
/// when bytes queue up (a firehose): then fewer, larger reads mean fewer record batches to hand on.
const READ_SIZE: usize = 64 * 1024;

const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// How long to wait for the server's half of a closing handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// State of one WebSocket stream across its connections.
#[derive(Debug)]
pub(crate) struct WsSession {
    cfg: Arc<StreamConfig>,
    tap: Arc<TapState>,
    opened: bool,
    ping_seq: u64,
    /// The subprotocols offered: `--subprotocol`, or `graphql-transport-ws` when `--send` wraps
    /// GraphQL documents and none was given.
    subprotocols: Vec<String>,
    /// The messages sent after each open: `--send`, GraphQL documents wrapped
    /// ([`decode::graphql::expand_send`]).
    send: Vec<String>,
}

/// A live upgraded connection.
struct Live<'a> {
    io: WsIo,
    decoder: Decoder,
    em: &'a mut Emitter,
    out: Vec<u8>,
    /// Our pings not yet answered: payload and when it was sent.
    pings: VecDeque<(Vec<u8>, Stamp)>,
    /// We sent a Close and wait for the server's.
    closing: bool,
    write_timeout: Duration,
    /// Answer server pings (off with `--no-auto-pong`).
    auto_pong: bool,
    /// Send every received data message back (`--echo`).
    echo: bool,
    /// permessage-deflate agreed: inflates the compressed messages.
    inflater: Option<Inflater>,
    /// permessage-deflate agreed: compresses the messages streamscope sends (echoes, `--send`),
    /// as browsers do once it is agreed.
    deflater: Option<Deflater>,
    /// The application protocol's reading of each message (`--decode`).
    app: decode::Session,
    /// Engine.IO's own heartbeat: the server's pings this connection has not answered.
    eio: EioHeartbeat,
    /// `--send` messages held until the server acknowledges a GraphQL `connection_init` (a
    /// graphql-transport-ws server closes 4401 on a `subscribe` before its `connection_ack`).
    held: Option<VecDeque<Payload>>,
}

/// Engine.IO v4 heartbeat: the server pings every `pingInterval` and drops a client whose pong
/// does not come within `pingTimeout`. Followed so that a session ended that way says so.
#[derive(Debug, Default)]
struct EioHeartbeat {
    /// `pingInterval` and `pingTimeout` from the open packet, in milliseconds.
    timing: Option<(u64, u64)>,
    /// Pings received since the last pong sent.
    unanswered: u32,
}

impl EioHeartbeat {
    /// Why the server probably ended the session, when pings went unanswered.
    fn explain(&self) -> Option<String> {
        if self.unanswered == 0 {
            return None;
        }
        let timing = match self.timing {
            Some((interval, timeout)) => format!(
                " within pingTimeout ({timeout} ms; it pings every pingInterval, {interval} ms)"
            ),
            None => String::new(),
        };
        Some(format!(
            "{} Engine.IO ping(s) went unanswered: a Socket.IO server closes a session whose \
             client does not answer its ping `2` with `3`{timing}; streamscope answers them \
             unless --no-auto-pong",
            self.unanswered
        ))
    }
}

/// What reading one batch of items led to.
enum Step {
    Continue,
    /// The connection is over.
    Done(Outcome),
}

impl WsSession {
    /// A session for `cfg`.
    pub(crate) fn new(cfg: Arc<StreamConfig>) -> Self {
        let (send, offer) = decode::graphql::expand_send(&cfg.send, &cfg.subprotocols);
        let mut subprotocols = cfg.subprotocols.clone();
        subprotocols.extend(offer.map(str::to_owned));
        WsSession {
            cfg,
            tap: TapState::new(),
            opened: false,
            ping_seq: 0,
            subprotocols,
            send,
        }
    }

    fn request(&self, key: &str) -> Result<http::Request<Full<Bytes>>, String> {
        let url = &self.cfg.target.url;
        let mut b = http::Request::builder()
            .method("GET")
            .uri(crate::capture::net::address::request_target(url))
            .header(
                http::header::HOST,
                crate::capture::net::address::host_header(url),
            )
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", key);
        if !self.subprotocols.is_empty() {
            b = b.header("sec-websocket-protocol", self.subprotocols.join(", "));
        }
        if let Some(offer) = self.offer() {
            b = b.header("sec-websocket-extensions", offer);
        }
        // Never forward the user's Sec-WebSocket-Extensions: streamscope can only decode what it
        // offered itself, and a server that answers anything else fails the handshake.
        b = http1::add_user_headers(
            b,
            &self.cfg.headers,
            &[
                "host",
                "connection",
                "upgrade",
                "sec-websocket-key",
                "sec-websocket-version",
                "sec-websocket-extensions",
                "sec-websocket-protocol",
            ],
        );
        b.body(Full::new(Bytes::new()))
            .map_err(|e| format!("cannot build request: {e}"))
    }
}

impl WsSession {
    /// The `Sec-WebSocket-Extensions` streamscope sends, `None` with `--no-deflate`.
    fn offer(&self) -> Option<&str> {
        self.cfg.deflate_offer.as_deref()
    }

    /// Sends the upgrade request and checks the answer: the 101 response and the permessage-deflate
    /// parameters agreed (if any), or the outcome that ends the attempt.
    async fn handshake(
        &mut self,
        em: &mut Emitter,
        ctl: &mut ControlRx,
    ) -> Result<(Opened, Option<DeflateParams>), Outcome> {
        let key = generate_key();
        let request = self
            .request(&key)
            .map_err(|e| Failure::fatal(e).report(em))?;
        let url = &self.cfg.target.url;
        let proxy = self.cfg.proxies.for_url(url);
        let exchange = http1::exchange(&self.cfg, url, proxy.as_ref(), &self.tap, request, true);
        let opened = tokio::select! {
            r = exchange => r,
            c = wait_shutdown(ctl) => return Err(c),
        };
        let mut opened = opened.map_err(|e| e.failure().report(em))?;
        if opened.h2.is_some() {
            // RFC 8441: a 2xx answers the extended CONNECT; there is no accept key.
            if !opened.response.status().is_success() {
                let refused =
                    http1::refusal(&mut opened.response, "WebSocket over HTTP/2 refused: ").await;
                return Err(refused.report(em));
            }
            let headers = opened.response.headers();
            return match self
                .check_subprotocol(headers)
                .and_then(|()| self.agreed(headers))
            {
                Ok(params) => Ok((opened, params)),
                Err(msg) => Err(Failure::fatal(msg).close_code(1002).report(em)),
            };
        }
        if opened.response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            let refused = http1::refusal(&mut opened.response, "WebSocket upgrade refused: ").await;
            return Err(refused.report(em));
        }
        let headers = opened.response.headers();
        let fail = |msg: String, em: &mut Emitter| {
            Failure::fatal(msg).status(101).close_code(1002).report(em)
        };
        if let Err(msg) = self.check_handshake(&key, headers) {
            return Err(fail(msg, em));
        }
        match self.agreed(headers) {
            Ok(params) => Ok((opened, params)),
            Err(msg) => Err(fail(msg, em)),
        }
    }

    /// The permessage-deflate parameters the server's answer agreed to (the 101, or on HTTP/2
    /// the 2xx to the extended CONNECT), checked against what was offered.
    fn agreed(&self, headers: &http::HeaderMap) -> Result<Option<DeflateParams>, String> {
        let answers: Vec<String> = headers
            .get_all("sec-websocket-extensions")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        deflate::accept_response(self.offer(), &answers)
    }

    /// What the `open` record says about compression.
    fn compression(&self, params: Option<&DeflateParams>) -> http1::Compression {
        http1::Compression {
            offered: self.offer().map(str::to_owned),
            agreed: params.map(ToString::to_string),
        }
    }

    /// The 101's promises (RFC 6455 section 4.1): the accept key derived from ours, and a
    /// subprotocol only among those offered.
    fn check_handshake(&self, key: &str, headers: &http::HeaderMap) -> Result<(), String> {
        let accept = headers
            .get("sec-websocket-accept")
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        if accept != derive_accept_key(key.as_bytes()).as_bytes() {
            return Err(
                "handshake failed: Sec-WebSocket-Accept does not match the key sent".to_owned(),
            );
        }
        self.check_subprotocol(headers)
    }

    /// A subprotocol chosen only among those offered.
    fn check_subprotocol(&self, headers: &http::HeaderMap) -> Result<(), String> {
        if let Some(p) = headers.get("sec-websocket-protocol") {
            let p = String::from_utf8_lossy(p.as_bytes());
            if !self.subprotocols.iter().any(|o| o == p.trim()) {
                return Err(format!(
                    "handshake failed: server chose subprotocol '{p}', which was not offered"
                ));
            }
        }
        Ok(())
    }

    /// Takes the socket back from hyper after the 101: the live connection, with the bytes hyper
    /// had already read past the response head fed to its decoder.
    async fn take_socket<'a>(
        &self,
        em: &'a mut Emitter,
        opened: &mut Opened,
        params: Option<DeflateParams>,
    ) -> Result<(Live<'a>, bool), Outcome> {
        let app = self.app_session(opened.response.headers());
        if let Some(attach) = opened.h2.as_mut() {
            // The connection's frames up to the open become records; the WebSocket's own frames
            // are decoded from the stream's bytes as after an upgrade, and the connection's later
            // frames are not followed (nobody would read them).
            while let Ok(seen) = attach.frames.try_recv() {
                crate::capture::http2::emit_frame(em, attach.conn.id, &seen);
            }
            attach.frames.close();
            let body = std::mem::replace(opened.response.body_mut(), Body::Taken);
            let Body::H2(recv) = body else {
                return Err(Failure::fatal("WebSocket over HTTP/2: no stream").report(em));
            };
            let Some(io) = H2Io::new(recv, attach) else {
                return Err(Failure::fatal("WebSocket over HTTP/2: no stream").report(em));
            };
            return Ok((self.live(WsIo::H2(Box::new(io)), em, params, app), false));
        }
        let upgraded = match hyper::upgrade::on(&mut opened.response).await {
            Ok(u) => u,
            Err(e) => {
                let msg = format!("upgrade failed: {}", http1::error_chain(&e));
                return Err(Failure::retryable(msg).report(em));
            }
        };
        let Ok(parts) = upgraded.downcast::<TokioIo<Tap<Conn>>>() else {
            return Err(Failure::fatal("upgrade failed: socket not recoverable").report(em));
        };
        let mut live = self.live(WsIo::H1(parts.io.into_inner()), em, params, app);
        live.decoder.feed(&parts.read_buf);
        Ok((live, !parts.read_buf.is_empty()))
    }

    /// The application protocol's reader (`--decode`), from the subprotocol the server chose
    /// (the 101, or the 2xx to an HTTP/2 extended CONNECT) and the URL's path and query.
    fn app_session(&self, headers: &http::HeaderMap) -> decode::Session {
        let subprotocol = headers
            .get("sec-websocket-protocol")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let url = &self.cfg.target.url;
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        decode::Session::new(self.cfg.decode, subprotocol.as_deref(), &path_and_query)
    }

    /// The live connection over `io`, inflating what `params` agreed to and reading messages
    /// with `app`.
    fn live<'a>(
        &self,
        io: WsIo,
        em: &'a mut Emitter,
        params: Option<DeflateParams>,
        app: decode::Session,
    ) -> Live<'a> {
        let mut live = Live {
            io,
            decoder: Decoder::new(self.cfg.max_message),
            em,
            out: Vec::with_capacity(256),
            pings: VecDeque::new(),
            closing: false,
            write_timeout: self.cfg.connect_timeout,
            auto_pong: self.cfg.auto_pong,
            echo: self.cfg.echo,
            inflater: params.as_ref().map(Inflater::new),
            deflater: params.as_ref().map(|p| {
                let promised = self
                    .offer()
                    .is_some_and(|o| o.contains("client_no_context_takeover"));
                Deflater::client(p, promised)
            }),
            app,
            eio: EioHeartbeat::default(),
            held: None,
        };
        // RSV1 marks a compressed message only once permessage-deflate was agreed; otherwise the
        // decoder fails the connection on it (1002).
        live.decoder.set_allow_rsv1(params.is_some());
        live
    }

    /// Reads frames until the connection ends, answering controls, sending pings on the
    /// `--ping-interval`, and watching the heartbeat and idle deadlines.
    async fn run(&mut self, live: &mut Live<'_>, ctl: &mut ControlRx) -> Outcome {
        let mut ping_timer = self.cfg.ping_interval.map(|d| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            let gap_deadline = live.em.gap_deadline();
            let idle_deadline = live.em.idle_deadline(self.cfg.idle_timeout);
            let paused = live.em.backlogged();
            tokio::select! {
                biased;
                c = recv_control(ctl) => {
                    let r = match c {
                        Control::Shutdown => Err(live.close(1000, "", Outcome::Shutdown).await),
                        Control::ReconnectNow => Err(live.close(1000, "reconnecting", Outcome::ReconnectNow).await),
                        Control::Send(p) => live.send_data(p).await,
                        Control::Ping => {
                            self.ping_seq += 1;
                            live.send_ping(self.ping_seq).await
                        }
                    };
                    live.em.flush();
                    if let Err(o) = r {
                        return o;
                    }
                }
                () = live.em.wait_for_room(), if paused => {}
                n = live.io.read(live.decoder.buffer_mut(READ_SIZE)), if !paused => {
                    if let Step::Done(o) = live.after_read(n).await {
                        return o;
                    }
                }
                () = sleep_until_opt(idle_deadline) => {
                    // The server is gone or stuck; a closing handshake would only wait on it too.
                    return idle_timeout(live.em, self.cfg.idle_timeout, Some(1006));
                }
                () = tick(ping_timer.as_mut()) => {
                    self.ping_seq += 1;
                    let r = live.send_ping(self.ping_seq).await;
                    live.em.flush();
                    if let Err(o) = r {
                        return o;
                    }
                }
                () = sleep_until_opt(gap_deadline) => live.em.raise_gap(),
            }
        }
    }
}

impl Session for WsSession {
    async fn connect_once(&mut self, em: &mut Emitter, ctl: &mut ControlRx) -> Outcome {
        let (mut opened, params) = match self.handshake(em, ctl).await {
            Ok(h) => h,
            Err(outcome) => return outcome,
        };
        let compression = self.compression(params.as_ref());
        let mark = http1::emit_open(em, &opened, self.cfg.show_secrets, compression);
        self.opened = true;
        let (mut live, early_bytes) = match self.take_socket(em, &mut opened, params).await {
            Ok(l) => l,
            Err(outcome) => return outcome,
        };
        if early_bytes && let Step::Done(o) = live.drain(mark).await {
            return o;
        }
        if let Err(o) = live.send_opening(&self.send).await {
            return o;
        }
        live.em.flush();
        self.run(&mut live, ctl).await
    }

    fn take_opened(&mut self) -> bool {
        std::mem::take(&mut self.opened)
    }

    fn base_retry(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn last_event_id(&self) -> Option<String> {
        None
    }
}

pub(crate) async fn tick(timer: Option<&mut tokio::time::Interval>) {
    match timer {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Live<'_> {
    /// What a socket read returned: bytes to decode, the end of the connection, or an error.
    async fn after_read(&mut self, n: std::io::Result<usize>) -> Step {
        match n {
            Ok(0) => Step::Done(self.eof()),
            Ok(n) => {
                self.decoder.commit(n);
                let mark = self.io.state().last_read();
                self.drain(mark).await
            }
            Err(e) => {
                let msg = if e.kind() == std::io::ErrorKind::ConnectionReset {
                    format!("connection reset by peer: {e}")
                } else {
                    format!("connection lost: {e}")
                };
                self.emit_lints(self.io.state().last_read().stamp);
                Step::Done(Failure::retryable(msg).close_code(1006).report(self.em))
            }
        }
    }

    /// The decoder's lints as `lint` records.
    fn emit_lints(&mut self, stamp: Stamp) {
        for lint in self.decoder.take_lints() {
            let (rule, message) = match lint {
                WsLint::NonMinimalLength {
                    payload_len,
                    length_bytes,
                } => (
                    "non-minimal-length",
                    format!(
                        "a {payload_len}-byte payload length was sent in a {length_bytes}-byte \
                         header; RFC 6455 requires the minimal encoding"
                    ),
                ),
                WsLint::Utf8SplitAcrossFrames => (
                    "utf8-split-across-frames",
                    "a text message's frame boundary fell inside a UTF-8 sequence (the message \
                     is valid; per-frame decoders would break)"
                        .to_owned(),
                ),
            };
            self.em.lint(stamp, rule, message);
        }
    }

    /// Handles every complete item in the decoder, delivered by read `mark`.
    async fn drain(&mut self, mark: ReadMark) -> Step {
        let step = self.drain_items(mark).await;
        self.emit_lints(mark.stamp);
        match step {
            Step::Continue => {
                if self.em.flush() {
                    Step::Continue
                } else {
                    Step::Done(Outcome::Shutdown)
                }
            }
            Step::Done(o) => {
                self.em.flush();
                Step::Done(o)
            }
        }
    }

    async fn drain_items(&mut self, mark: ReadMark) -> Step {
        while let Some(item) = self.decoder.next_item() {
            // Lints come from the header just parsed: record them before the item they concern.
            self.emit_lints(mark.stamp);
            match item {
                Ok(WsItem::Message {
                    opcode,
                    data,
                    frames,
                    compressed,
                    wire_bytes,
                }) => {
                    let (data, compressed_bytes) = match self.inflate(opcode, data, compressed) {
                        Ok(d) => d,
                        Err(e) => return self.on_protocol_error(e).await,
                    };
                    let payload = data.len() as u64;
                    // The echo is the message as decoded (one frame, uncompressed, which RFC 6455
                    // and RFC 7692 both allow for any message), sent after its `in` record.
                    let echo = (self.echo && !self.closing).then(|| data.clone());
                    let decoded = self.app.decode(opcode, &data);
                    let mut answers = decoded
                        .as_ref()
                        .map(|d| self.app_answer(d))
                        .unwrap_or_default();
                    self.em.rx_compressed(
                        mark,
                        Kind::Message {
                            opcode,
                            data,
                            frames,
                            compressed,
                            decoded: decoded.map(Box::new),
                        },
                        wire_bytes,
                        payload,
                        compressed_bytes,
                    );
                    answers.extend(echo);
                    for data in answers {
                        if let Err(o) = self.send_data(data).await {
                            return Step::Done(o);
                        }
                    }
                    if self.em.count_reached() && !self.closing {
                        self.em.flush();
                        return Step::Done(self.close(1000, "", Outcome::CountReached).await);
                    }
                }
                Ok(WsItem::Ping { data, wire_bytes }) => {
                    let payload = data.len() as u64;
                    self.em.rx(
                        mark,
                        Kind::Ping {
                            data: Payload::from_bytes(&data),
                        },
                        wire_bytes,
                        payload,
                    );
                    if !self.closing
                        && self.auto_pong
                        && let Err(o) = self.send_control(OP_PONG, &data).await
                    {
                        return Step::Done(o);
                    }
                }
                Ok(WsItem::Pong { data, wire_bytes }) => {
                    let rtt_ms = self.match_pong(&data, mark.stamp);
                    let payload = data.len() as u64;
                    self.em.rx(
                        mark,
                        Kind::Pong {
                            data: Payload::from_bytes(&data),
                            rtt_ms,
                        },
                        wire_bytes,
                        payload,
                    );
                }
                Ok(WsItem::Close {
                    code,
                    reason,
                    wire_bytes,
                }) => return self.on_close(code, reason, wire_bytes, mark).await,
                Err(e) => return self.on_protocol_error(e).await,
            }
        }
        Step::Continue
    }

    /// What the application protocol asks of the client on `d`: the pong to an Engine.IO ping
    /// (unless `--no-auto-pong`), the `--send` messages held for a GraphQL `connection_ack`.
    /// Also follows Engine.IO's heartbeat timing.
    fn app_answer(&mut self, d: &Decoded) -> Vec<Payload> {
        if let Some(timing) = socketio::heartbeat_timing(d) {
            self.eio.timing = Some(timing);
        }
        if d.kind == "connection_ack" && d.protocol.starts_with("graphql") {
            return self.held.take().map(Vec::from).unwrap_or_default();
        }
        if !socketio::is_ping(d) {
            return Vec::new();
        }
        self.eio.unanswered += 1;
        if self.auto_pong && !self.closing {
            vec![Payload::Text(socketio::pong_for(d).into())]
        } else {
            Vec::new()
        }
    }

    /// Sends the `--send` messages, holding those after a GraphQL `connection_init` until the
    /// server's `connection_ack` (see [`Live::app_answer`]).
    async fn send_opening(&mut self, sends: &[String]) -> Result<(), Outcome> {
        for (i, text) in sends.iter().enumerate() {
            let data = Payload::Text(text.into());
            let init = self
                .app
                .decode(DataOpcode::Text, &data)
                .is_some_and(|d| d.kind == "connection_init" && d.protocol.starts_with("graphql"));
            self.send_data(data).await?;
            if init && i + 1 < sends.len() {
                self.held = Some(
                    sends[i + 1..]
                        .iter()
                        .map(|t| Payload::Text(t.into()))
                        .collect(),
                );
                break;
            }
        }
        Ok(())
    }

    /// A compressed message's payload inflated (and its compressed size), any other as it came.
    fn inflate(
        &mut self,
        opcode: DataOpcode,
        data: Payload,
        compressed: bool,
    ) -> Result<(Payload, Option<u64>), codec::ProtocolError> {
        // The decoder refuses RSV1 unless an extension was agreed, so a compressed message always
        // finds an inflater; the check keeps that an invariant rather than an assumption.
        let (true, Some(inflater)) = (compressed, self.inflater.as_mut()) else {
            return Ok((data, None));
        };
        let Payload::Binary(raw) = data else {
            return Err(codec::ProtocolError::new(
                1002,
                "compressed message decoded as text",
            ));
        };
        let compressed_bytes = raw.len() as u64;
        // A copy of the arena's slice, with room for the 4-byte tail the inflater appends.
        let mut owned = Vec::with_capacity(raw.len() + crate::protocol::deflate::TAIL.len());
        owned.extend_from_slice(&raw);
        drop(raw);
        let inflated = inflater.inflate(owned, self.decoder.max_message())?;
        let lints = inflater.take_lints();
        let stamp = self.io.state().last_read().stamp;
        for lint in lints {
            let (rule, message) = match lint {
                DeflateLint::FinalBlock => (
                    "deflate-final-block",
                    "a compressed message ended its DEFLATE stream with a final block (BFINAL, \
                     RFC 7692 section 7.2.3.4); the next one starts a new stream"
                        .to_owned(),
                ),
                DeflateLint::TrailingBytes(n) => (
                    "deflate-trailing-bytes",
                    format!("{n} bytes after the final DEFLATE block of a message were ignored"),
                ),
            };
            self.em.lint(stamp, rule, message);
        }
        Ok((
            deflate::decoded_payload(opcode, inflated)?,
            Some(compressed_bytes),
        ))
    }

    /// The server's Close frame (or the answer to ours): record it, complete the closing
    /// handshake, and end the attempt by its code.
    async fn on_close(
        &mut self,
        code: Option<u16>,
        reason: String,
        wire_bytes: u64,
        mark: ReadMark,
    ) -> Step {
        let by = if self.closing {
            Side::Client
        } else {
            Side::Server
        };
        let payload = (reason.len() + if code.is_some() { 2 } else { 0 }) as u64;
        self.em.rx(
            mark,
            Kind::Close {
                code,
                reason: reason.clone(),
                by,
            },
            wire_bytes,
            payload,
        );
        if self.closing {
            self.em.flush();
            return Step::Done(Outcome::Closed("closed".to_owned()));
        }
        // Echo the server's close as RFC 6455 asks, then let it close the TCP side.
        let body = code
            .map(|c| codec::encode_close_payload(c, ""))
            .unwrap_or_default();
        let _ = self
            .send_frame(
                OP_CLOSE,
                &body,
                Kind::Close {
                    code,
                    reason: String::new(),
                    by: Side::Server,
                },
            )
            .await;
        self.em.flush();
        let _ = tokio::time::timeout(CLOSE_WAIT, self.drain_to_eof()).await;
        let mut text = match code {
            Some(c) => format!(
                "server closed: {c} {}",
                decode::close_code_meaning(self.app.protocol(), c)
                    .unwrap_or_else(|| codec::close_code_meaning(c))
            ),
            None => "server closed (no status)".to_owned(),
        };
        if let Some(why) = self.eio.explain() {
            text = format!("{text}; {why}");
            self.em.lint(mark.stamp, "engineio-ping-unanswered", why);
            self.em.flush();
        }
        Step::Done(match code {
            None | Some(1000 | 1001) => Outcome::Closed(text),
            // The Close record already says why.
            Some(_) => Failure::retryable(text).outcome(),
        })
    }

    /// A protocol error: the error record, our Close with the code RFC 6455 requires (unless the
    /// connection is already unusable, 1006), and a failed attempt.
    async fn on_protocol_error(&mut self, e: codec::ProtocolError) -> Step {
        self.em.error(e.message.clone(), None, Some(e.close_code));
        if e.close_code != 1006 {
            let body = codec::encode_close_payload(e.close_code, "");
            let _ = self
                .send_frame(
                    OP_CLOSE,
                    &body,
                    Kind::Close {
                        code: Some(e.close_code),
                        reason: String::new(),
                        by: Side::Client,
                    },
                )
                .await;
        }
        self.em.flush();
        Step::Done(Failure::retryable(e.message).outcome())
    }

    fn match_pong(&mut self, data: &[u8], at: Stamp) -> Option<f64> {
        let pos = self.pings.iter().position(|(p, _)| p == data)?;
        let (_, sent) = self.pings.get(pos)?.clone();
        // Pongs may be coalesced (RFC 6455 5.5.3): older unanswered pings are dropped too.
        self.pings.drain(..=pos);
        Some(at.ms_since(sent))
    }

    /// Writes one frame and records it as sent.
    async fn send_frame(&mut self, opcode: u8, payload: &[u8], kind: Kind) -> Result<(), Outcome> {
        let (stamp, wire_bytes) = self.write_frame(opcode, 0, payload).await?;
        self.em
            .tx(stamp, kind, wire_bytes, payload.len() as u64, None);
        Ok(())
    }

    /// Writes one masked frame (`rsv`: its reserved bits, RSV1 for a compressed message): when
    /// the write began and the frame's size.
    async fn write_frame(
        &mut self,
        opcode: u8,
        rsv: u8,
        payload: &[u8],
    ) -> Result<(Stamp, u64), Outcome> {
        self.out.clear();
        codec::encode_frame(
            &mut self.out,
            true,
            rsv,
            opcode,
            Some(rand::random()),
            payload,
        );
        let stamp = Stamp::now();
        let write = async {
            self.io.write_all(&self.out).await?;
            self.io.flush().await
        };
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(Ok(())) => Ok((stamp, self.out.len() as u64)),
            Ok(Err(e)) => Err(Failure::retryable(format!("send failed: {e}"))
                .close_code(1006)
                .report(self.em)),
            Err(_) => Err(
                Failure::retryable("send timed out: the server is not reading")
                    .close_code(1006)
                    .report(self.em),
            ),
        }
    }

    async fn send_control(&mut self, opcode: u8, payload: &[u8]) -> Result<(), Outcome> {
        let kind = if opcode == OP_PING {
            Kind::Ping {
                data: Payload::from_bytes(payload),
            }
        } else {
            Kind::Pong {
                data: Payload::from_bytes(payload),
                rtt_ms: None,
            }
        };
        self.send_frame(opcode, payload, kind).await
    }

    async fn send_ping(&mut self, seq: u64) -> Result<(), Outcome> {
        let payload = format!("streamscope-{seq}").into_bytes();
        self.pings.push_back((payload.clone(), Stamp::now()));
        if self.pings.len() > 64 {
            self.pings.pop_front();
        }
        self.send_control(OP_PING, &payload).await
    }

    async fn send_data(&mut self, data: Payload) -> Result<(), Outcome> {
        let opcode = match data {
            Payload::Text(_) => DataOpcode::Text,
            Payload::Binary(_) => DataOpcode::Binary,
        };
        let op = if opcode == DataOpcode::Text {
            OP_TEXT
        } else {
            OP_BINARY
        };
        let compressed = self
            .deflater
            .as_mut()
            .map(|d| d.compress(data.as_bytes(), false));
        let (stamp, wire_bytes) = match &compressed {
            Some(bytes) => self.write_frame(op, codec::RSV1, bytes).await?,
            None => self.write_frame(op, 0, data.as_bytes()).await?,
        };
        let payload = data.len() as u64;
        let decoded = self.app.decode(opcode, &data);
        if decoded.as_ref().is_some_and(socketio::is_pong) {
            self.eio.unanswered = 0;
        }
        let compressed_bytes = compressed.as_ref().map(|c| c.len() as u64);
        let kind = Kind::Message {
            opcode,
            data,
            frames: 1,
            compressed: compressed.is_some(),
            decoded: decoded.map(Box::new),
        };
        self.em
            .tx(stamp, kind, wire_bytes, payload, compressed_bytes);
        Ok(())
    }

    /// Starts the closing handshake and waits for the server's Close (or EOF, or the timeout).
    async fn close(&mut self, code: u16, reason: &str, then: Outcome) -> Outcome {
        self.closing = true;
        let body = codec::encode_close_payload(code, reason);
        let sent = self
            .send_frame(
                OP_CLOSE,
                &body,
                Kind::Close {
                    code: Some(code),
                    reason: reason.to_owned(),
                    by: Side::Client,
                },
            )
            .await;
        self.em.flush();
        if sent.is_ok() {
            let _ = tokio::time::timeout(CLOSE_WAIT, self.drain_to_eof()).await;
        }
        self.em.flush();
        then
    }

    /// Reads (and records) until the server closes the TCP connection.
    async fn drain_to_eof(&mut self) {
        loop {
            match self.io.read(self.decoder.buffer_mut(4096)).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    self.decoder.commit(n);
                    let mark = self.io.state().last_read();
                    while let Some(Ok(item)) = self.decoder.next_item() {
                        if let WsItem::Close {
                            code,
                            reason,
                            wire_bytes,
                        } = item
                        {
                            let payload =
                                (reason.len() + if code.is_some() { 2 } else { 0 }) as u64;
                            self.em.rx(
                                mark,
                                Kind::Close {
                                    code,
                                    reason,
                                    by: if self.closing {
                                        Side::Client
                                    } else {
                                        Side::Server
                                    },
                                },
                                wire_bytes,
                                payload,
                            );
                            self.em.flush();
                        }
                    }
                }
            }
        }
    }

    fn eof(&mut self) -> Outcome {
        let (mut msg, code) = match self.decoder.at_eof() {
            Some(e) => (e.message, e.close_code),
            None => ("connection closed without a Close frame".to_owned(), 1006),
        };
        if let Some(why) = self.eio.explain() {
            msg = format!("{msg}; {why}");
        }
        Failure::retryable(msg).close_code(code).report(self.em)
    }
}
