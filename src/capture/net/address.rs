//! What a URL says about where and how to connect: TLS or not, host and port to dial, the `Host`
//! header and the request target.

use url::Url;

/// True for `https` and `wss`.
pub(crate) fn is_tls(url: &Url) -> bool {
    matches!(url.scheme(), "https" | "wss")
}

/// Host and port to dial.
pub(crate) fn host_port(url: &Url) -> Result<(String, u16), String> {
    let host = url
        .host_str()
        .ok_or_else(|| format!("{url} has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .unwrap_or(if is_tls(url) { 443 } else { 80 });
    Ok((host, port))
}

/// The `Host` header value for a URL (port only when not the default).
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// Path and query for the request line.
pub(crate) fn request_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}
