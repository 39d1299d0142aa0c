//! A response body, whichever HTTP version carries it: hyper's HTTP/1.1 body, or an HTTP/2
//! stream's DATA frames from the `h2` crate (one chunk per DATA frame, flow-control window handed
//! back as each chunk is taken, so a paused reader stops the server after one window). Both are a
//! `hyper::body::Body`, so the clients read them the same way.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, Incoming};

/// A response body.
#[derive(Debug)]
pub(crate) enum Body {
    /// HTTP/1.1 through hyper.
    H1(Incoming),
    /// An HTTP/2 stream.
    H2(h2::RecvStream),
    /// Nothing (what is left once a WebSocket over HTTP/2 has taken its stream).
    Taken,
}

/// Why a body broke.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// hyper's error (HTTP/1.1).
    H1(hyper::Error),
    /// The `h2` crate's error: a reset stream, a GOAWAY, the connection lost.
    H2(h2::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::H1(e) => e.fmt(f),
            BodyError::H2(e) => f.write_str(&h2_error_text(e)),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
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
            Body::H1(b) => b.is_end_stream(),
            Body::H2(recv) => recv.is_end_stream(),
            Body::Taken => true,
        }
    }
}
