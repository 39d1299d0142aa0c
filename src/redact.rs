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
pub fn display_url(url: &Url) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
