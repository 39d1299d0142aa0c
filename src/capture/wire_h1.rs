//! SSE over HTTP/1.1 without hyper: the request written as hyper's client writes it, the response
//! head read through the tap and parsed ([`crate::protocol::http1_body`]), and the body left to a
//! [`WireBody`] on the same connection, which decodes its framing on each socket read.
//!
//! Why not hyper here: its client hands the body over one chunk of the chunked encoding at a time,
//! through a channel from its connection task to ours, so a server that sends one event per chunk
//! costs a task hop, a batch and a wake-up per event. WebSocket handshakes stay on hyper (its
//! upgrade gives the socket back), and so does nothing else: this path is the SSE client's.

use std::sync::Arc;

use bytes::{Buf as _, Bytes, BytesMut};
use futures_util::FutureExt as _;
use http::header::{CONTENT_LENGTH, HeaderValue, TRANSFER_ENCODING};
use http_body_util::{BodyExt as _, Full};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::capture::body::{Body, READ_BYTES, WireBody};
use crate::capture::net::conn::Conn;
use crate::capture::net::tap::{Tap, TapState};
use crate::protocol::http1_body::{BodyDecoder, framing, parse_head};

/// A request's headers and body as they go on the wire.
#[derive(Debug)]
pub(crate) struct Framed {
    /// The headers, in the order they are written.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// Whether the body is sent chunked (a `Transfer-Encoding` the user gave).
    pub chunked: bool,
}

/// The headers and body of `request` as hyper's HTTP/1.1 client frames them (its `set_length`),
/// so that nothing the server sees changed when streamscope began writing requests itself: an
/// empty body is sent with no framing header (a `Transfer-Encoding` given is dropped); a body
/// keeps a `Transfer-Encoding` given (made to end in `chunked`, `Content-Length` dropped) or a
/// valid `Content-Length` given, and otherwise gets `content-length`, last.
pub(crate) fn framed(request: &http::Request<Full<Bytes>>) -> Framed {
    let mut headers = request.headers().clone();
    // `Full` is ready at once and cannot fail.
    let body = request
        .body()
        .clone()
        .collect()
        .now_or_never()
        .and_then(Result::ok)
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    if body.is_empty() {
        headers.remove(TRANSFER_ENCODING);
        return Framed {
            headers,
            body,
            chunked: false,
        };
    }
    if let http::header::Entry::Occupied(mut te) = headers.entry(TRANSFER_ENCODING) {
        // hyper makes the last value end in `chunked`, in place.
        if let Some(last) = te.iter_mut().next_back() {
            let ends_chunked = last
                .to_str()
                .ok()
                .and_then(|v| v.rsplit(',').next())
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            if !ends_chunked
                && let Ok(value) =
                    HeaderValue::from_bytes(&[last.as_bytes(), b", chunked"].concat())
            {
                *last = value;
            }
        }
        headers.remove(CONTENT_LENGTH);
        return Framed {
            headers,
            body,
            chunked: true,
        };
    }
    if content_length(&headers).is_none() {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    Framed {
        headers,
        body,
        chunked: false,
    }
}

/// The `Content-Length` the headers agree on, as hyper reads a request's.
fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.to_str().ok()?.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u64 = part.parse().ok()?;
            if length.is_some_and(|m| m != n) {
                return None;
            }
            length = Some(n);
        }
    }
    length
}

/// The bytes of `request` on the wire: request line (the target as given, origin form), the
/// headers as [`framed`] gives them, lower-case, one line each, then the body.
pub(crate) fn encode(request: &http::Request<Full<Bytes>>) -> Vec<u8> {
    let framed = framed(request);
    let mut out = Vec::with_capacity(256 + framed.body.len());
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.uri().to_string().as_bytes());
    out.extend_from_slice(if request.version() == http::Version::HTTP_10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    for (name, value) in &framed.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if framed.chunked {
        out.extend_from_slice(format!("{:X}\r\n", framed.body.len()).as_bytes());
        out.extend_from_slice(&framed.body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
    } else {
        out.extend_from_slice(&framed.body);
    }
    out
}

/// Sends `request` on `conn` (tapped: every read counted and stamped, the head's size found) and
/// reads the response head, skipping interim 1xx heads: the response, whose body reads the rest
/// of the connection, and the size of the head on the wire, interim heads included (the tap's own
/// scan stops at the end of the first head). `Err` says why in a sentence.
pub(crate) async fn send(
    conn: Conn,
    tap: &Arc<TapState>,
    request: http::Request<Full<Bytes>>,
) -> Result<(http::Response<Body>, u64), String> {
    let mut io = Tap::new(conn, tap.clone());
    io.write_all(&encode(&request))
        .await
        .map_err(|e| format!("error writing the request: {e}"))?;
    io.flush()
        .await
        .map_err(|e| format!("error writing the request: {e}"))?;
    let mut buf = BytesMut::with_capacity(READ_BYTES);
    let (len, head) = loop {
        if let Some(found) = parse_head(&buf)? {
            break found;
        }
        buf.reserve(READ_BYTES);
        let n = io
            .read_buf(&mut buf)
            .await
            .map_err(|e| format!("error reading the response head: {e}"))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                "the server closed the connection without a response".to_owned()
            } else {
                format!(
                    "the server closed the connection inside the response head ({} bytes)",
                    buf.len()
                )
            });
        }
    };
    buf.advance(len);
    let decoder = BodyDecoder::new(framing(request.method(), &head)?);
    let response = head.map(|()| Body::Wire(Box::new(WireBody::new(io, buf, decoder))));
    Ok((response, len as u64))
}
