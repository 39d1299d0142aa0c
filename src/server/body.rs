//! The response body type shared by all endpoints, and the channel that streaming endpoints
//! write into.
//!
//! A streaming endpoint spawns a producer task that sends `Bytes` chunks into a small bounded
//! channel; the body hands them to hyper as they come. The bound gives backpressure (a slow
//! client slows the producer instead of growing a queue), and a dropped body (client gone,
//! server stopping) makes the producer's next send fail, which is how producers learn to stop.
//!
//! An event stream is gzipped ([`gzip`]) when the request accepts it, each chunk sync-flushed so
//! every event reaches the client as soon as it is written, as a compressing proxy that knows
//! event streams does.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::io::Write as _;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
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

/// True when an `Accept-Encoding` value accepts gzip (by name or `*`, with a q-value above 0).
pub(super) fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && q > 0.0
    })
}

/// `body` gzipped chunk by chunk: each chunk is compressed and sync-flushed into its own frame,
/// and the gzip trailer follows the last one.
pub(super) fn gzip(body: Body) -> Body {
    BoxBody::new(GzipBody {
        inner: body,
        encoder: Some(GzEncoder::new(Vec::new(), Compression::fast())),
    })
}

struct GzipBody {
    inner: Body,
    /// `None` once the trailer went out.
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl hyper::body::Body for GzipBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        let Some(encoder) = this.encoder.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else {
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::new()))));
                };
                // Writing to a Vec cannot fail.
                let _ = encoder.write_all(&data).and_then(|()| encoder.flush());
                let out = std::mem::take(encoder.get_mut());
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))))
            }
            Poll::Ready(Some(Err(e))) => match e {},
            Poll::Ready(None) => {
                let trailer = this
                    .encoder
                    .take()
                    .and_then(|e| e.finish().ok())
                    .unwrap_or_default();
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(trailer)))))
            }
        }
    }
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
