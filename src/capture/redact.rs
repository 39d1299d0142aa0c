//! Keeping secrets off the screen and out of output: URL credentials and token-like query values
//! are masked for display.

use url::Url;

const MASK: &str = "***";

/// Query parameter names whose values are treated as secrets.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "key",
    "api_key",
    "apikey",
    "secret",
    "password",
    "sig",
    "signature",
    "session",
    "jwt",
];

/// The URL with the password, and secret-looking query values, replaced by `***`.
pub(crate) fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = SECRET_PARAMS
                    .iter()
                    .any(|s| lower == *s || lower.ends_with(&format!("_{s}")));
                (
                    k.into_owned(),
                    if secret {
                        MASK.to_owned()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string().replace("%2A%2A%2A", MASK)
}

/// A request target (`/path?query`, an HTTP/2 `:path`) with its secret-looking query values
/// masked, as [`display_url`] masks them.
pub(crate) fn display_target(target: &str) -> String {
    let Ok(url) = Url::parse(&format!("http://x{target}")) else {
        return target.to_owned();
    };
    let shown = display_url(&url);
    shown.strip_prefix("http://x").unwrap_or(&shown).to_owned()
}

/// Header names whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    // Gemini's API key header (Anthropic's is x-api-key, Azure OpenAI's api-key).
    "x-goog-api-key",
];

/// True for headers whose values are masked by default.
pub(crate) fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// A header value as it may be shown: secrets keep their shape (auth scheme, cookie names and
/// attributes) but lose their values.
pub(crate) fn header_value(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return value.to_owned();
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("authorization") {
        return match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {MASK}"),
            None => MASK.to_owned(),
        };
    }
    if lower == "cookie" || lower == "set-cookie" {
        let attrs = [
            "path",
            "domain",
            "expires",
            "max-age",
            "secure",
            "httponly",
            "samesite",
            "partitioned",
        ];
        return value
            .split(';')
            .map(|part| {
                let part = part.trim();
                match part.split_once('=') {
                    Some((k, _)) if !attrs.contains(&k.trim().to_ascii_lowercase().as_str()) => {
                        format!("{k}={MASK}")
                    }
                    _ => part.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    MASK.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers_keep_their_shape() {
        assert_eq!(
            header_value("Authorization", "Bearer abc.def"),
            "Bearer ***"
        );
        assert_eq!(
            header_value("set-cookie", "sid=s3cr3t; Path=/; HttpOnly; Max-Age=60"),
            "sid=***; Path=/; HttpOnly; Max-Age=60"
        );
        assert_eq!(header_value("cookie", "a=1; b=2"), "a=***; b=***");
        assert_eq!(header_value("x-api-key", "k"), "***");
        assert_eq!(header_value("X-Goog-Api-Key", "AIza-k"), "***");
        assert_eq!(header_value("content-type", "text/plain"), "text/plain");
    }

    #[test]
    fn masks_password_and_token_params() {
        let u =
            Url::parse("https://user:hunter2@h.test/feed?token=abc&x=1&api_key=z").expect("url");
        let shown = display_url(&u);
        assert_eq!(
            shown,
            "https://user:***@h.test/feed?token=***&x=1&api_key=***"
        );
    }
}
