//! The response body type shared by all endpoints, and the channel that streaming endpoints
//! write into.
//!
//! A streaming endpoint spawns a producer task that sends `Bytes` chunks into a small bounded
//! channel; the body hands them to hyper as they come. The bound gives backpressure (a slow
//! client slows the producer instead of growing a queue), and a dropped body (client gone,
//! server stopping) makes the producer's next send fail, which is how producers learn to stop.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use http_body_util::combinators::BoxBody;
use hyper::body::Frame;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::mpsc;

/// The body of every response the server sends.
pub(super) type Body = BoxBody<Bytes, Infallible>;

/// A whole body known up front.
pub(super) fn full(bytes: impl Into<Bytes>) -> Body {
    BoxBody::new(Full::new(bytes.into()))
}

/// A `text/plain` response with the given status.
pub(super) fn text(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The sending side of a streaming body.
pub(super) type Sender = mpsc::Sender<Bytes>;

/// A `text/event-stream` response whose body is fed through the returned sender.
pub(super) fn event_stream() -> (Sender, Response<Body>) {
    stream("text/event-stream")
}

/// A streaming response of `content_type` whose body is fed through the returned sender.
pub(super) fn stream(content_type: &'static str) -> (Sender, Response<Body>) {
    // A few chunks in flight are enough to keep the socket busy; more would only hide a slow
    // reader from the producer.
    let (tx, rx) = mpsc::channel(4);
    let mut response = Response::new(BoxBody::new(ChannelBody { rx }));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    (tx, response)
}

/// A body that yields whatever the producer sends, and ends when the producer drops its sender.
struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}
