//! The SSE connection task: one HTTP request per attempt (HTTP/1.1 read on the socket by
//! [`super::wire_h1`], or an HTTP/2 stream), the body's bytes fed to the spec parser, every item
//! stamped with the socket read that delivered it.
//!
//! Reconnect follows EventSource: when the server ends the stream, wait the `retry:` time and send
//! `Last-Event-ID`; 204 means stop; another non-2xx status or a Content-Type that is neither
//! `text/event-stream` nor streamed JSON (`application/x-ndjson`, `application/jsonl`,
//! `application/json-seq`: fed to [`JsonlParser`], records of protocol `jsonl`) fails the stream.
//! Statuses that ask to come back later (429, 502, 503, 504) are retried, honouring
//! `Retry-After`. An LLM end marker ends the attempt as complete (see [`Outcome::Complete`]).
//!
//! A compressed body (`Content-Encoding`, asked for with `--compressed`, or applied unasked) is
//! decoded between the body's frames and the parser by a [`ContentDecoder`]; the records keep
//! their decoded sizes, and `compressed_bytes` says what the encoded body cost.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http_body_util::{BodyExt, Full};
use url::Url;

use crate::capture::config::StreamConfig;
use crate::capture::control::Control;
use crate::capture::emitter::Emitter;
use crate::capture::http1;
use crate::capture::http1::Opened;
use crate::capture::net::tap::TapState;
use crate::capture::supervise::{
    ControlRx, Failure, Outcome, Session, idle_timeout, recv_control, sleep_until_opt,
    wait_shutdown,
};
use crate::protocol::content::{self, Coding, ContentDecoder};
use crate::protocol::jsonl::{JsonLine, JsonlLint, JsonlParser};
use crate::protocol::sse::{SseItem, SseLint, SseParser};
use crate::record::{Kind, Proto};

/// Body bytes already buffered that are taken in one go before the records are handed on: about
/// one large socket read's worth (HTTP/2 gives 16 KB chunks, one per DATA frame).
const BATCH_BYTES: usize = 64 * 1024;

/// How often an HTTP/2 stream's DATA frames are summed up in a `frame` record (and once at its end).
const DATA_SUMMARY_EVERY: Duration = Duration::from_secs(1);

/// The next frame for an HTTP/2 stream; never for HTTP/1.1.
async fn recv_frame(
    frames: Option<
        &mut tokio::sync::mpsc::UnboundedReceiver<crate::capture::net::frames::SeenFrame>,
    >,
) -> Option<crate::capture::net::frames::SeenFrame> {
    match frames {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// EventSource's usual reconnection time when the server sent no `retry:`.
pub(crate) const DEFAULT_RETRY: Duration = Duration::from_secs(3);

/// How long the body is still read after an LLM end marker, for the server to close it (and to
/// see anything it sends after the marker) before streamscope closes the connection itself.
const END_GRACE: Duration = Duration::from_millis(500);

/// State of one SSE stream across its connections.
#[derive(Debug)]
pub(crate) struct SseSession {
    cfg: Arc<StreamConfig>,
    parser: SseParser,
    tap: Arc<TapState>,
    opened: bool,
    items: Vec<SseItem>,
    /// The current body's JSON-lines parser, when its Content-Type is streamed JSON.
    lines: Option<JsonlParser>,
    line_items: Vec<JsonLine>,
    /// The body's content decoding, for the connection being read.
    body: BodyDecoding,
}

/// How the body of the current connection is decoded.
#[derive(Debug, Default)]
struct BodyDecoding {
    /// `None` for a body sent as is.
    decoder: Option<ContentDecoder>,
    /// Decoded bytes of the frame being handled (reused).
    decoded: Vec<u8>,
    /// Encoded bytes received and not yet attributed to a record.
    pending: u64,
    /// The tap of the connection the body comes on (HTTP/2: the shared connection's).
    tap: Option<Arc<TapState>>,
}

impl SseSession {
    /// A session for `cfg`.
    pub(crate) fn new(cfg: Arc<StreamConfig>) -> Self {
        let mut parser = SseParser::new();
        if let Some(id) = &cfg.last_event_id {
            parser.set_last_event_id(id);
        }
        SseSession {
            cfg,
            parser,
            tap: TapState::new(),
            opened: false,
            items: Vec::new(),
            lines: None,
            line_items: Vec::new(),
            body: BodyDecoding::default(),
        }
    }

    /// The request for `url` (the target, or where a redirect led). `hop` says how the redirects
    /// so far changed it.
    fn request(&self, url: &Url, hop: &Hop) -> Result<http::Request<Full<Bytes>>, String> {
        let mut b = http::Request::builder()
            .method(hop.method.as_str())
            .uri(crate::capture::net::address::request_target(url))
            .header(
                http::header::HOST,
                crate::capture::net::address::host_header(url),
            )
            // What EventSource sends; a JSON-lines response is read all the same.
            .header(http::header::ACCEPT, "text/event-stream")
            .header(http::header::CACHE_CONTROL, "no-cache");
        let user_sets = |name: &str| {
            self.cfg
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let last_id = self.parser.last_event_id();
        if !last_id.is_empty() {
            b = b.header("last-event-id", last_id);
        }
        if self.cfg.compressed && !user_sets("accept-encoding") {
            b = b.header(http::header::ACCEPT_ENCODING, content::ACCEPT);
        }
        let body = if hop.send_body {
            self.cfg.body.clone().unwrap_or_default()
        } else {
            Vec::new()
        };
        if hop.send_body && self.cfg.body.is_some() && !user_sets("content-type") {
            // LLM-style POST streams take JSON; anything else goes as plain text.
            let ct = if serde_json::from_slice::<serde_json::Value>(&body).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            b = b.header(http::header::CONTENT_TYPE, ct);
        }
        // Credentials meant for the target do not follow a redirect to another origin (curl and
        // browsers drop them too).
        let headers: Vec<(String, String)> = self
            .cfg
            .headers
            .iter()
            .filter(|(n, _)| !(hop.cross_origin && crate::capture::redact::is_secret_header(n)))
            .cloned()
            .collect();
        b = http1::add_user_headers(b, &headers, &["host", "last-event-id"]);
        b.body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build request: {e}"))
    }

    fn emit_items(&mut self, em: &mut Emitter, mark: crate::capture::net::tap::ReadMark) -> bool {
        // Only under a Content-Encoding: the plain path stays free of any per-read work.
        let shares = self.body.decoder.is_some().then(|| {
            let sizes: Vec<u64> = self.items.iter().map(SseItem::wire_bytes).collect();
            self.take_shares(&sizes)
        });
        for (i, item) in self.items.drain(..).enumerate() {
            let compressed = shares.as_ref().and_then(|s| s.get(i).copied());
            let (kind, wire_bytes, payload) = item.into_record();
            em.rx_compressed(mark, kind, wire_bytes, payload, compressed);
            // Only events count, so this can only turn true after one.
            if em.count_reached() {
                return true;
            }
        }
        false
    }

    /// One JSON text per `event` record, exactly as an SSE event would be.
    fn emit_lines(&mut self, em: &mut Emitter, mark: crate::capture::net::tap::ReadMark) -> bool {
        let shares = self.body.decoder.is_some().then(|| {
            let sizes: Vec<u64> = self.line_items.iter().map(|l| l.wire_bytes).collect();
            self.take_shares(&sizes)
        });
        for (i, line) in self.line_items.drain(..).enumerate() {
            let payload = line.data.len() as u64;
            em.rx_compressed(
                mark,
                Kind::Event {
                    event: crate::record::event_type("message"),
                    data: line.data.into(),
                    id: None,
                    retry: None,
                },
                line.wire_bytes,
                payload,
                shares.as_ref().and_then(|s| s.get(i).copied()),
            );
            if em.count_reached() {
                return true;
            }
        }
        false
    }

    /// Feeds a piece of the body, decoded first under a `Content-Encoding`, to its parser and
    /// emits what it completes. Returns whether `--count` was reached, or why the encoding broke.
    fn feed(
        &mut self,
        data: &Bytes,
        em: &mut Emitter,
        mark: crate::capture::net::tap::ReadMark,
    ) -> Result<bool, String> {
        let Some(decoder) = self.body.decoder.as_mut() else {
            if self.lines.is_none() {
                // The read's own bytes: the parser's texts are slices of them.
                self.parser.feed_shared(data, &mut self.items);
                return Ok(self.emit_sse(em, mark));
            }
            return Ok(self.feed_decoded(data, em, mark));
        };
        self.body.pending += data.len() as u64;
        let mut decoded = std::mem::take(&mut self.body.decoded);
        decoded.clear();
        let fed = decoder.feed(data, &mut decoded);
        let done = fed.map(|()| self.feed_decoded(&decoded, em, mark));
        // The buffer is kept for the next frame.
        self.body.decoded = decoded;
        done
    }

    /// Feeds decoded body bytes to the SSE or JSON-lines parser and emits what they complete.
    fn feed_decoded(
        &mut self,
        data: &[u8],
        em: &mut Emitter,
        mark: crate::capture::net::tap::ReadMark,
    ) -> bool {
        if let Some(p) = &mut self.lines {
            p.feed(data, &mut self.line_items);
            let lints = p.take_lints();
            let done = self.emit_lines(em, mark);
            emit_jsonl_lints(em, mark.stamp, lints);
            done
        } else {
            self.parser.feed(data, &mut self.items);
            self.emit_sse(em, mark)
        }
    }

    /// Emits what the SSE parser completed, and its lints.
    fn emit_sse(&mut self, em: &mut Emitter, mark: crate::capture::net::tap::ReadMark) -> bool {
        let done = self.emit_items(em, mark);
        emit_lints(em, mark.stamp, self.parser.take_lints());
        done
    }
}

/// `total` encoded bytes shared among records of decoded `sizes` in proportion (the last takes the
/// rounding), so over a stream they add up to the encoded body. A server that flushes after each
/// event sends one event per chunk, and then each share is exactly that event's compressed size.
fn shares(total: u64, sizes: &[u64]) -> Vec<u64> {
    let decoded = sizes.iter().sum::<u64>().max(1);
    let mut given = 0;
    sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let share = if i + 1 == sizes.len() {
                total.saturating_sub(given)
            } else {
                (u128::from(total) * u128::from(size) / u128::from(decoded)) as u64
            };
            given += share;
            share
        })
        .collect()
}

/// The JSON-lines parser's lints as `lint` records.
fn emit_jsonl_lints(em: &mut Emitter, stamp: crate::record::time::Stamp, lints: Vec<JsonlLint>) {
    for lint in lints {
        let (rule, message) = match lint {
            JsonlLint::NotJson(start) => (
                "not-json-line",
                format!("a line of the JSON stream is not JSON: {start:?}"),
            ),
            JsonlLint::Unterminated => (
                "unterminated-line",
                "the body ended with a line that had no newline (it was kept)".to_owned(),
            ),
            JsonlLint::BadSequence => (
                "bad-json-seq",
                "a JSON text sequence broke RFC 7464 (bytes outside a text, or a text not ended by LF)"
                    .to_owned(),
            ),
        };
        em.lint(stamp, rule, message);
    }
}

impl SseSession {
    /// The encoded bytes received since the last records, shared among the records just parsed
    /// (of these decoded `sizes`). With no records yet they wait for the next ones.
    fn take_shares(&mut self, sizes: &[u64]) -> Vec<u64> {
        if sizes.is_empty() {
            return Vec::new();
        }
        shares(std::mem::take(&mut self.body.pending), sizes)
    }

    /// The body's content decoding, from the response's `Content-Encoding`: `Err` (the stream
    /// fails) for a coding streamscope cannot decode.
    fn decoding(em: &mut Emitter, opened: &Opened) -> Result<Option<Coding>, Outcome> {
        let header = opened
            .response
            .headers()
            .get_all(http::header::CONTENT_ENCODING)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        let status = opened.response.status().as_u16();
        Coding::from_header(&header).map_err(|msg| Failure::fatal(msg).status(status).report(em))
    }
}

/// How the redirects followed so far changed the request.
#[derive(Debug)]
struct Hop {
    /// Request method (a 303, or a 301/302 answering a POST, turn it into GET).
    method: String,
    /// Whether the `--data` body is still sent.
    send_body: bool,
    /// A redirect led to another origin: credentials headers are no longer sent.
    cross_origin: bool,
    /// Redirects followed in this attempt.
    redirects: u32,
}

impl Hop {
    /// How a redirect with `status` to `next` changes the request, as fetch does: 303 becomes a
    /// GET, and so does a POST answered with 301 or 302; 307 and 308 repeat the request as it
    /// was. Credentials stay behind once the chain has left the `target`'s origin.
    fn follow(&mut self, status: http::StatusCode, next: &Url, target: &Url) {
        if status == http::StatusCode::SEE_OTHER
            || (matches!(status.as_u16(), 301 | 302) && self.method == "POST")
        {
            if self.method != "HEAD" {
                "GET".clone_into(&mut self.method);
            }
            self.send_body = false;
        }
        self.cross_origin |= next.origin() != target.origin();
    }
}

/// Where a redirect response points: the `Location` of a 301, 302, 303, 307 or 308, resolved
/// against `base`, when it is an http(s) URL. `None` for anything else (which is then an error).
fn redirect_target(status: http::StatusCode, headers: &http::HeaderMap, base: &Url) -> Option<Url> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(http::header::LOCATION)?.to_str().ok()?;
    let next = base.join(location).ok()?;
    matches!(next.scheme(), "http" | "https").then_some(next)
}

impl SseSession {
    /// The body ended (or broke): an event still being assembled is lost; say so. A last JSON
    /// line without its newline is kept.
    fn finish_body(&mut self, em: &mut Emitter) {
        if let Some(p) = &mut self.lines {
            let finished = p.finish();
            let lints = p.take_lints();
            let stamp = crate::record::time::Stamp::now();
            if let Some(line) = finished.line {
                self.line_items.push(line);
                let mark = crate::capture::net::tap::ReadMark {
                    stamp,
                    ..self.body.tap.as_ref().unwrap_or(&self.tap).last_read()
                };
                self.emit_lines(em, mark);
            }
            emit_jsonl_lints(em, stamp, lints);
            return;
        }
        let pending = self.parser.event_pending();
        let discarded = self.parser.finish();
        let now = crate::record::time::Stamp::now();
        if pending {
            em.lint(
                now,
                "unterminated-event",
                format!(
                    "the stream ended inside an event: {} bytes were never dispatched",
                    discarded.unwrap_or(0)
                ),
            );
        }
        emit_lints(em, now, self.parser.take_lints());
    }
}

/// The parser's lints as `lint` records.
fn emit_lints(em: &mut Emitter, stamp: crate::record::time::Stamp, lints: Vec<SseLint>) {
    for lint in lints {
        let (rule, message) = match lint {
            SseLint::Bom => (
                "bom",
                "a UTF-8 byte order mark started the stream".to_owned(),
            ),
            SseLint::MixedLineEndings => (
                "mixed-line-endings",
                "more than one line-ending style (CRLF, LF, CR) in one connection".to_owned(),
            ),
            SseLint::InvalidRetry(v) => (
                "invalid-retry",
                format!("retry value {v:?} is not a number of milliseconds; ignored"),
            ),
            SseLint::UnknownField(f) => ("unknown-field", format!("unknown field {f:?} ignored")),
            SseLint::IdWithNul => ("id-with-nul", "an id containing NUL was ignored".to_owned()),
            SseLint::RetryWithoutEvent(ms) => (
                "retry-without-event",
                format!("retry: {ms} without data: the reconnection time is now {ms} ms"),
            ),
        };
        em.lint(stamp, rule, message);
    }
}

/// True when the body error was a TCP reset somewhere down the chain.
fn is_reset(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionReset
        {
            return true;
        }
        cur = err.source();
    }
    false
}

impl SseSession {
    /// Sends the request, follows redirects, and checks the response: `Ok` with a response whose
    /// body is an event stream, or the outcome that ends the attempt.
    async fn open(&mut self, em: &mut Emitter, ctl: &mut ControlRx) -> Result<Opened, Outcome> {
        let (mut opened, over_limit) = self.follow_redirects(em, ctl).await?;
        let status = opened.response.status();
        if status == http::StatusCode::NO_CONTENT {
            return Err(Outcome::Stop(
                "server answered 204 No Content: stop".to_owned(),
            ));
        }
        if !status.is_success() {
            let mut failure = http1::refusal(&mut opened.response, "").await;
            if over_limit {
                let _ = write!(
                    failure.message,
                    " (not followed: --max-redirects {})",
                    self.cfg.max_redirects
                );
            }
            return Err(failure.report(em));
        }
        let content_type = opened
            .response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let mime = content_type.split(';').next().unwrap_or("").trim();
        self.lines = crate::protocol::jsonl::framing_for(&content_type).map(JsonlParser::new);
        if !mime.eq_ignore_ascii_case("text/event-stream") && self.lines.is_none() {
            let body = http1::body_start(opened.response.body_mut(), 256).await;
            let shown = if content_type.is_empty() {
                "none"
            } else {
                &content_type
            };
            let mut msg = format!(
                "Content-Type is {shown}, not text/event-stream or JSON lines (HTTP {})",
                status.as_u16()
            );
            if !body.is_empty() {
                msg.push_str(": ");
                msg.push_str(&body);
            }
            return Err(Failure::fatal(msg).status(status.as_u16()).report(em));
        }
        Ok(opened)
    }

    /// Sends the request and follows redirects as EventSource does, up to `--max-redirects`:
    /// the final response, and whether a redirect was left unfollowed because of the limit.
    async fn follow_redirects(
        &mut self,
        em: &mut Emitter,
        ctl: &mut ControlRx,
    ) -> Result<(Opened, bool), Outcome> {
        let mut url = self.cfg.target.url.clone();
        let mut hop = Hop {
            method: self.cfg.method.clone(),
            send_body: self.cfg.body.is_some(),
            cross_origin: false,
            redirects: 0,
        };
        loop {
            let request = self
                .request(&url, &hop)
                .map_err(|e| Failure::fatal(e).report(em))?;
            let proxy = self.cfg.proxies.for_url(&url);
            let exchange =
                http1::exchange(&self.cfg, &url, proxy.as_ref(), &self.tap, request, false);
            let opened = tokio::select! {
                r = exchange => r,
                c = wait_shutdown(ctl) => return Err(c),
            };
            let opened = opened.map_err(|e| e.failure().report(em))?;
            let status = opened.response.status();
            let Some(next) = redirect_target(status, opened.response.headers(), &url) else {
                return Ok((opened, false));
            };
            if hop.redirects >= self.cfg.max_redirects {
                return Ok((opened, true));
            }
            hop.redirects += 1;
            // EventSource follows redirects (fetch does); show each one, since a redirect on an
            // event stream is usually a proxy, a CDN or a login wall at work.
            em.lint(
                self.tap.last_read().stamp,
                "redirect",
                format!(
                    "{} to {}: followed ({} of at most {})",
                    http1::status_message(status, ""),
                    crate::capture::redact::display_url(&next),
                    hop.redirects,
                    self.cfg.max_redirects
                ),
            );
            em.flush();
            hop.follow(status, &next, &self.cfg.target.url);
            url = next;
        }
    }

    /// Reads the event stream until it ends, breaks, goes idle, or the user intervenes.
    async fn read_body(
        &mut self,
        em: &mut Emitter,
        ctl: &mut ControlRx,
        mut opened: Opened,
    ) -> Outcome {
        let tap = opened.tap.clone();
        let mut h2 = opened.h2.take();
        let outcome = self
            .read_frames(em, ctl, &mut opened, &tap, h2.as_mut())
            .await;
        if let Some(attach) = &mut h2 {
            // Frames already read (a GOAWAY, an RST_STREAM) before the stream's DATA summary.
            while let Ok(seen) = attach.frames.try_recv() {
                crate::capture::http2::emit_frame(em, attach.conn.id, &seen);
            }
            crate::capture::http2::emit_data_summary(em, &attach.conn, attach.stream_id);
            em.flush();
            if let (Outcome::Closed(reason) | Outcome::Failed { reason, .. }, Some(why)) = (
                &mut outcome.clone(),
                crate::capture::http2::goaway_reason(attach),
            ) {
                let _ = write!(reason, " ({why})");
                return match outcome {
                    Outcome::Closed(_) => Outcome::Closed(reason.clone()),
                    Outcome::Failed {
                        retry, retry_after, ..
                    } => Outcome::Failed {
                        reason: reason.clone(),
                        retry,
                        retry_after,
                    },
                    other => other,
                };
            }
        }
        outcome
    }

    /// One body chunk (or the body's end or error): events to records. `Some` ends the attempt.
    fn take_frame(
        &mut self,
        em: &mut Emitter,
        frame: Option<Result<hyper::body::Frame<Bytes>, crate::capture::body::BodyError>>,
        mark: crate::capture::net::tap::ReadMark,
    ) -> Option<Outcome> {
        match frame {
            Some(Ok(frame)) => {
                let data = frame.into_data().ok()?;
                match self.feed(&data, em, mark) {
                    Ok(false) => None,
                    Ok(true) => {
                        em.flush();
                        Some(Outcome::CountReached)
                    }
                    Err(msg) => {
                        self.finish_body(em);
                        Some(Failure::retryable(format!("stream broke: {msg}")).report(em))
                    }
                }
            }
            Some(Err(e)) => {
                self.finish_body(em);
                let msg = if is_reset(&e) {
                    format!("connection reset by peer: {}", http1::error_chain(&e))
                } else {
                    format!("stream broke: {}", http1::error_chain(&e))
                };
                Some(Failure::retryable(msg).report(em))
            }
            None => {
                self.finish_body(em);
                em.flush();
                if em.llm_completed() {
                    return Some(Outcome::Complete(completed("the server closed the stream")));
                }
                Some(Outcome::Closed("server closed the stream".to_owned()))
            }
        }
    }

    /// The body's loop: data to the parser, HTTP/2 frames to records, controls, timers.
    async fn read_frames(
        &mut self,
        em: &mut Emitter,
        ctl: &mut ControlRx,
        opened: &mut Opened,
        tap: &TapState,
        h2: Option<&mut crate::capture::http2::H2Attach>,
    ) -> Outcome {
        let body = opened.response.body_mut();
        let (conn, stream_id, mut frames) = match h2 {
            Some(a) => (Some(a.conn.clone()), a.stream_id, Some(&mut a.frames)),
            None => (None, 0, None),
        };
        let mut ping_timer = match (&conn, self.cfg.ping_interval) {
            (Some(_), Some(d)) => {
                Some(tokio::time::interval_at(tokio::time::Instant::now() + d, d))
            }
            _ => None,
        };
        let every = DATA_SUMMARY_EVERY.as_nanos() as u64;
        let mut summary_due = crate::record::time::mono_ns() + every;
        // Set once an LLM end marker arrived: the body is read a little longer, then closed.
        let mut end_deadline: Option<tokio::time::Instant> = None;
        loop {
            let paused = em.backlogged();
            let gap_deadline = em.gap_deadline();
            let idle_deadline = em.idle_deadline(self.cfg.idle_timeout);
            tokio::select! {
                biased;
                c = recv_control(ctl) => match c {
                    Control::Shutdown => return Outcome::Shutdown,
                    Control::ReconnectNow => return Outcome::ReconnectNow,
                    Control::Ping if conn.is_some() => {
                        if let Some(c) = &conn { c.ping(); }
                    }
                    Control::Send(_) | Control::Ping => {
                        em.error("sending is only possible on WebSocket streams (and PING on HTTP/2)", None, None);
                        em.flush();
                    }
                },
                Some(seen) = recv_frame(frames.as_deref_mut()) => {
                    if let Some(c) = &conn {
                        crate::capture::http2::emit_frame(em, c.id, &seen);
                        em.flush();
                    }
                }
                () = crate::capture::ws::tick(ping_timer.as_mut()) => {
                    if let Some(c) = &conn { c.ping(); }
                }
                () = em.wait_for_room(), if paused => {}
                frame = body.frame(), if !paused => {
                    let mut frame = frame;
                    let mut taken = 0;
                    loop {
                        taken += frame
                            .as_ref()
                            .and_then(|f| f.as_ref().ok())
                            .and_then(|f| f.data_ref())
                            .map_or(0, bytes::Bytes::len);
                        let mark = tap.last_read();
                        if let Some(c) = &conn
                            && mark.stamp.mono_ns >= summary_due
                        {
                            summary_due = mark.stamp.mono_ns + every;
                            crate::capture::http2::emit_data_summary(em, c, stream_id);
                        }
                        if let Some(outcome) = self.take_frame(em, frame, mark) {
                            return outcome;
                        }
                        // Chunks already buffered (HTTP/2 gives one per DATA frame) go out as one
                        // batch: one hand-off to the consumer instead of one per chunk.
                        match (taken < BATCH_BYTES).then(|| body.frame().now_or_never()).flatten() {
                            Some(next) => frame = next,
                            None => break,
                        }
                    }
                    if !em.flush() {
                        return Outcome::Shutdown;
                    }
                    if end_deadline.is_none() && em.llm_completed() {
                        end_deadline = Some(tokio::time::Instant::now() + END_GRACE);
                    }
                }
                () = sleep_until_opt(end_deadline) => {
                    em.lint(
                        crate::record::time::Stamp::now(),
                        "open-after-end-marker",
                        format!(
                            "the server kept the stream open {} ms after the completion's end marker; streamscope closed it",
                            END_GRACE.as_millis()
                        ),
                    );
                    em.flush();
                    return Outcome::Complete(completed("streamscope closed the stream"));
                }
                () = sleep_until_opt(gap_deadline) => em.raise_gap(),
                () = sleep_until_opt(idle_deadline) => {
                    self.finish_body(em);
                    return idle_timeout(em, self.cfg.idle_timeout, None);
                }
            }
        }
    }
}

/// The reason of an attempt that ended with an LLM end marker.
fn completed(then: &str) -> String {
    format!("completion ended with its end marker; {then}")
}

impl Session for SseSession {
    async fn connect_once(&mut self, em: &mut Emitter, ctl: &mut ControlRx) -> Outcome {
        let opened = match self.open(em, ctl).await {
            Ok(opened) => opened,
            Err(outcome) => return outcome,
        };
        em.set_proto(if self.lines.is_some() {
            Proto::Jsonl
        } else {
            Proto::Sse
        });
        let coding = match Self::decoding(em, &opened) {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        let compression = http1::Compression {
            offered: self.cfg.compressed.then(|| content::ACCEPT.to_owned()),
            agreed: coding.map(|c| c.as_str().to_owned()),
        };
        let mark = http1::emit_open(em, &opened, self.cfg.show_secrets, compression);
        if let Some(c) = coding
            && !self.cfg.compressed
        {
            em.lint(
                mark.stamp,
                "unrequested-content-encoding",
                format!(
                    "the server compressed the body (Content-Encoding: {c}) although streamscope \
                     sent no Accept-Encoding (no --compressed); decoded anyway"
                ),
            );
            em.flush();
        }
        self.body = BodyDecoding {
            decoder: coding.map(ContentDecoder::new),
            tap: Some(opened.tap.clone()),
            ..BodyDecoding::default()
        };
        self.opened = true;
        self.parser.reset_connection();
        self.read_body(em, ctl, opened).await
    }

    fn take_opened(&mut self) -> bool {
        std::mem::take(&mut self.opened)
    }

    fn base_retry(&self) -> Duration {
        self.parser
            .retry_ms()
            .map_or(DEFAULT_RETRY, Duration::from_millis)
    }

    fn last_event_id(&self) -> Option<String> {
        let id = self.parser.last_event_id();
        (!id.is_empty()).then(|| id.to_owned())
    }

    fn retry_ms(&self) -> Option<u64> {
        self.parser.retry_ms()
    }
}
