//! The plain-text endpoints: the `/` index, `/status/{code}` and the 404 for everything else.

use std::fmt::Write as _;
use std::net::SocketAddr;

use hyper::header::{HeaderValue, LOCATION};
use hyper::{Method, Response, StatusCode};

use super::body::{self, Body};

/// `GET /`: what this server offers, one endpoint per line.
pub(super) fn index(addr: SocketAddr) -> Response<Body> {
    let mut text = String::from("streamscope demo server\n\n");
    for (url, description) in super::endpoints(addr) {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{url}\n    {description}");
    }
    text.push_str("\nSee docs/server.md for the query parameters.\n");
    body::text(StatusCode::OK, text)
}

/// `GET /status/{code}`: that status, a `status <code>` body, and `Location: /sse` for 3xx.
pub(super) fn status(code: &str) -> Response<Body> {
    let status = match code.parse::<u16>().map(StatusCode::from_u16) {
        // 1xx cannot be a final response, so it is refused rather than sent broken.
        Ok(Ok(status)) if status.as_u16() >= 200 => status,
        _ => {
            return body::text(
                StatusCode::BAD_REQUEST,
                format!("{code:?} is not a status code from 200 to 999\n"),
            );
        }
    };
    // These statuses forbid a body; hyper would drop it anyway, this keeps the intent visible.
    let no_body = matches!(status.as_u16(), 204 | 205 | 304);
    let mut response = body::text(
        status,
        if no_body {
            String::new()
        } else {
            format!("status {}\n", status.as_u16())
        },
    );
    if status.is_redirection() {
        response
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_static("/sse"));
    }
    response
}

/// Anything not routed.
pub(super) fn not_found(method: &Method, path: &str) -> Response<Body> {
    body::text(
        StatusCode::NOT_FOUND,
        format!("no endpoint for {method} {path}; GET / lists them\n"),
    )
}
