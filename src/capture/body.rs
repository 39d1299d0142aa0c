//! A response body, whichever HTTP version carries it: an HTTP/1.1 body read straight off the
//! socket ([`WireBody`]: SSE), hyper's HTTP/1.1 body (what a WebSocket handshake's response
//! carries), or an HTTP/2 stream's DATA frames from the `h2` crate (one chunk per DATA frame,
//! flow-control window handed back as each chunk is taken, so a paused reader stops the server
//! after one window). All are a `hyper::body::Body`, so the clients read them the same way.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf as _, Bytes, BytesMut};
use hyper::body::{Frame, Incoming};

use crate::capture::net::conn::Conn;
use crate::capture::net::tap::Tap;
use crate::protocol::http1_body::{BodyDecoder, FramingError};

/// Size of a [`WireBody`]'s reads: one read is one frame, and so one batch of records.
pub(crate) const READ_BYTES: usize = 64 * 1024;

/// An HTTP/1.1 body read by streamscope itself: the (tapped) connection, one reused read buffer,
/// and the framing decoder. Each frame holds all the body bytes one socket read delivered, whatever
/// the chunks they came in, so a server that sends one event per chunk costs one frame per read,
/// not one per event (hyper's client hands a body over a chunk at a time, through a channel from
/// its connection task).
#[derive(Debug)]
pub(crate) struct WireBody {
    io: Tap<Conn>,
    /// Bytes read and not yet decoded (the first: what followed the head in its read).
    buf: BytesMut,
    decoder: BodyDecoder,
    /// The connection ended, or the body broke: nothing more comes.
    ended: bool,
}

impl WireBody {
    /// The body that follows a response head: `buf` holds the bytes read after the head.
    pub(crate) fn new(io: Tap<Conn>, buf: BytesMut, decoder: BodyDecoder) -> Self {
        WireBody {
            io,
            buf,
            decoder,
            ended: false,
        }
    }

    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            if !self.buf.is_empty() && !self.decoder.is_done() {
                let (decoded, len) = match self.decoder.decode_in_place(&mut self.buf) {
                    Ok(d) => d,
                    Err(e) => {
                        self.ended = true;
                        return Poll::Ready(Some(Err(BodyError::Framing(e))));
                    }
                };
                let data = self.buf.split_to(len).freeze();
                self.buf.advance(decoded.consumed - len);
                if !data.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
            }
            if self.decoder.is_done() {
                // Anything after the body is not read: the connection is not reused.
                self.ended = true;
                continue;
            }
            // Empty by now: the decoder keeps what it needs of a split size line. Taking back the
            // whole buffer once the last frame's bytes are dropped, so reads reuse one allocation.
            self.buf.reserve(READ_BYTES);
            match std::task::ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut self.io),
                cx,
                &mut self.buf
            )) {
                Ok(0) => {
                    self.ended = true;
                    if let Err(e) = self.decoder.finish() {
                        return Poll::Ready(Some(Err(BodyError::Framing(e))));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    self.ended = true;
                    return Poll::Ready(Some(Err(BodyError::Io(e))));
                }
            }
        }
    }
}

/// A response body.
#[derive(Debug)]
pub(crate) enum Body {
    /// HTTP/1.1 read by streamscope (SSE).
    Wire(Box<WireBody>),
    /// HTTP/1.1 through hyper (a WebSocket handshake's response).
    H1(Incoming),
    /// An HTTP/2 stream.
    H2(h2::RecvStream),
    /// Nothing (what is left once a WebSocket over HTTP/2 has taken its stream).
    Taken,
}

/// Why a body broke.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The socket failed under an HTTP/1.1 body read by streamscope (a reset, TLS).
    Io(io::Error),
    /// The HTTP/1.1 body's framing broke, or the connection closed before its end.
    Framing(FramingError),
    /// hyper's error (HTTP/1.1).
    H1(hyper::Error),
    /// The `h2` crate's error: a reset stream, a GOAWAY, the connection lost.
    H2(h2::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // hyper's words for the same failure; the cause follows in the error's chain.
            BodyError::Io(_) => f.write_str("error reading a body from connection"),
            BodyError::Framing(e) => e.fmt(f),
            BodyError::H1(e) => e.fmt(f),
            BodyError::H2(e) => f.write_str(&h2_error_text(e)),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BodyError::Io(e) => Some(e),
            BodyError::Framing(_) => None,
            BodyError::H1(e) => Some(e),
            BodyError::H2(e) => e
                .get_io()
                .map(|io| io as &(dyn std::error::Error + 'static)),
        }
    }
}

/// An `h2` error as a sentence with the HTTP/2 error code's name: who ended what, and why.
pub(crate) fn h2_error_text(e: &h2::Error) -> String {
    let code = e.reason().map(|r| {
        format!(
            "{} (0x{:x})",
            crate::protocol::h2::error_name(u32::from(r)),
            u32::from(r)
        )
    });
    let by = if e.is_remote() {
        "the server"
    } else {
        "streamscope"
    };
    match code {
        Some(code) if e.is_go_away() => {
            format!("{by} closed the HTTP/2 connection: GOAWAY {code}")
        }
        Some(code) if e.is_reset() => format!("{by} reset the HTTP/2 stream: RST_STREAM {code}"),
        Some(code) => format!("HTTP/2 error {code}"),
        None => match e.get_io() {
            Some(io) => format!("HTTP/2 connection lost: {io}"),
            None => format!("HTTP/2: {e}"),
        },
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Body::Wire(b) => b.poll_frame(cx),
            Body::H1(b) => Pin::new(b).poll_frame(cx).map_err(BodyError::H1),
            Body::H2(recv) => match recv.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    // Taken: the server may send as much again.
                    let _ = recv.flow_control().release_capacity(data.len());
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(BodyError::H2(e)))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            Body::Taken => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Wire(b) => b.ended,
            Body::H1(b) => b.is_end_stream(),
            Body::H2(recv) => recv.is_end_stream(),
            Body::Taken => true,
        }
    }
}
