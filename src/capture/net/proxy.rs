//! HTTP proxies: which proxy a URL goes through (`--proxy`, or `HTTPS_PROXY` / `HTTP_PROXY` /
//! `ALL_PROXY` with `NO_PROXY`, as curl reads them), and the CONNECT tunnel through it.
//!
//! Every stream is tunnelled with CONNECT, plain `http://` and `ws://` included: a long-lived
//! stream through a forwarding proxy would be re-framed by it, and what the inspector shows must be
//! the origin's bytes. TLS to the origin runs inside the tunnel.

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use crate::capture::net::address::{host_port, is_tls};

/// The proxy configuration of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// `--proxy`: used for every URL (`NO_PROXY` still applies).
    pub explicit: Option<Url>,
    /// From `HTTPS_PROXY` (for https/wss).
    pub https: Option<Url>,
    /// From `HTTP_PROXY` (for http/ws).
    pub http: Option<Url>,
    /// From `NO_PROXY`: host suffixes, `*` for all.
    pub no_proxy: Vec<String>,
}

impl ProxySettings {
    /// Reads the environment (upper- and lower-case names, lower-case first as curl does) and
    /// `--proxy`.
    pub fn from_env(explicit: Option<Url>) -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name.to_ascii_lowercase())
                .or_else(|_| std::env::var(name))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        let parse = |name: &str| -> Result<Option<Url>, String> {
            var(name)
                .map(|v| parse_proxy_url(&v).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let all = parse("ALL_PROXY")?;
        Ok(ProxySettings {
            explicit,
            https: parse("HTTPS_PROXY")?.or_else(|| all.clone()),
            http: parse("HTTP_PROXY")?.or(all),
            no_proxy: var("NO_PROXY")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The proxy for `url`, if any.
    pub fn for_url(&self, url: &Url) -> Option<Url> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if self
            .no_proxy
            .iter()
            .any(|n| n == "*" || host == n || host.ends_with(&format!(".{n}")))
        {
            return None;
        }
        if let Some(p) = &self.explicit {
            return Some(p.clone());
        }
        if is_tls(url) {
            self.https.clone()
        } else {
            self.http.clone()
        }
    }
}

/// Parses a proxy URL; a bare `host:port` means `http://host:port`.
pub(crate) fn parse_proxy_url(s: &str) -> Result<Url, String> {
    let s = s.trim();
    let with_scheme = if s.contains("://") {
        s.to_owned()
    } else {
        format!("http://{s}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| format!("'{s}' is not a proxy URL ({e})"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "proxy '{s}': only http:// proxies (HTTP CONNECT) are supported"
        ));
    }
    if url.host_str().is_none() {
        return Err(format!("proxy '{s}' has no host"));
    }
    Ok(url)
}

/// Opens a CONNECT tunnel to `host:port` through `proxy`.
pub(crate) async fn tunnel(proxy: &Url, host: &str, port: u16) -> Result<TcpStream, String> {
    let (phost, pport) = host_port(proxy)?;
    let mut tcp = TcpStream::connect((phost.as_str(), pport))
        .await
        .map_err(|e| format!("proxy {phost}:{pport}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if !proxy.username().is_empty() {
        let user = percent_decode(proxy.username());
        let pass = percent_decode(proxy.password().unwrap_or(""));
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        req.push_str("Proxy-Authorization: Basic ");
        req.push_str(&token);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("proxy {phost}:{pport}: {e}"))?;
    // Read the proxy's reply byte by byte up to the blank line: nothing of the tunnel's payload
    // may be consumed here (the origin speaks first on TLS only after our ClientHello, but a
    // plain origin could).
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() > 16 * 1024 {
            return Err("proxy reply head too long".to_owned());
        }
        match tcp.read(&mut byte).await {
            Ok(0) => {
                return Err(format!(
                    "proxy {phost}:{pport} closed the connection during CONNECT"
                ));
            }
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(format!("proxy {phost}:{pport}: {e}")),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or("").trim();
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if !code.starts_with('2') {
        return Err(format!("proxy refused CONNECT {authority}: {status_line}"));
    }
    Ok(tcp)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ProxySettings {
        ProxySettings {
            explicit: None,
            https: Some(Url::parse("http://secure-proxy:3128").expect("url")),
            http: Some(Url::parse("http://plain-proxy:3128").expect("url")),
            no_proxy: vec!["internal.test".into(), "localhost".into()],
        }
    }

    #[test]
    fn scheme_picks_the_proxy_and_no_proxy_matches_suffixes() {
        let s = settings();
        let pick = |u: &str| {
            s.for_url(&Url::parse(u).expect("url"))
                .map(|p| p.host_str().unwrap_or("").to_owned())
        };
        assert_eq!(
            pick("https://api.example.test/x").as_deref(),
            Some("secure-proxy")
        );
        assert_eq!(
            pick("wss://api.example.test/x").as_deref(),
            Some("secure-proxy")
        );
        assert_eq!(
            pick("ws://api.example.test/x").as_deref(),
            Some("plain-proxy")
        );
        assert_eq!(pick("http://a.internal.test/x"), None);
        assert_eq!(pick("http://localhost:8080/x"), None);
    }

    #[test]
    fn bare_host_port_is_http() {
        assert_eq!(
            parse_proxy_url("proxy:8080").map(|u| u.to_string()),
            Ok("http://proxy:8080/".to_owned())
        );
        assert!(parse_proxy_url("socks5://p:1").is_err());
    }
}
