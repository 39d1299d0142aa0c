//! The metrics endpoint: `GET /metrics` on a small hyper HTTP/1.1 server (the same hyper the
//! clients and the embedded server use), encoding the registry when scraped.
//!
//! A scraper that accepts `OpenMetrics` (Prometheus itself does) gets `OpenMetrics` text; anything
//! else (curl, `promtool check metrics`, older scrapers) gets the Prometheus text format 0.0.4.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

/// The `OpenMetrics` text content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `registry` on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, registry: Arc<Registry>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors and the like: try again shortly rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let registry = Arc::clone(&registry);
                async move { Ok::<_, Infallible>(respond(&req, &registry)) }
            });
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new());
            // A scraper that hangs up mid-response is its own business.
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The response to one request.
pub(crate) fn respond(req: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    match req.uri().path() {
        "/metrics" if get => {
            let accept = req
                .headers()
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let (body, content_type) =
                encode(registry, accept.contains("application/openmetrics-text"));
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        "/" if get => text(StatusCode::OK, "streamscope monitor: metrics at /metrics\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found (metrics are at /metrics)\n",
        ),
    }
}

/// The exposition, `OpenMetrics` or Prometheus text, with its content type.
pub(crate) fn encode(registry: &Registry, openmetrics: bool) -> (String, &'static str) {
    let mut body = String::with_capacity(16 * 1024);
    let encoded = if openmetrics {
        prometheus_client::encoding::text::encode(&mut body, registry).map(|()| OPENMETRICS)
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut body, registry)
            .map(|()| prometheus_client::encoding::prometheus_text::CONTENT_TYPE)
    };
    match encoded {
        Ok(content_type) => (body, content_type),
        // Writing to a String cannot fail; a metric that could not be encoded is a bug to see.
        Err(e) => (
            format!("# encoding failed: {e}\n"),
            "text/plain; charset=utf-8",
        ),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
