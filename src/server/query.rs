//! Query-string parameters (`?count=10&interval_ms=50`) and their validation.
//!
//! A bad value is answered with `400 Bad Request` naming the parameter, rather than silently
//! replaced by a default, so a typo in a test URL shows up as an error instead of a slow test.

use std::time::Duration;

use hyper::{Response, StatusCode};

use super::body::{self, Body};

/// The decoded query parameters of one request. Later duplicates win.
#[derive(Debug, Default)]
pub(super) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(super) fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The last value given for `name`, if any.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// An unsigned number in `min..=max`, or `None` when absent.
    pub(super) fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, BadQuery> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match raw.trim().parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok(Some(value)),
            _ => Err(BadQuery(format!(
                "query parameter {name}={raw:?} must be a whole number from {min} to {max}"
            ))),
        }
    }

    /// `interval_ms` as a duration, or `None` when absent.
    pub(super) fn interval(&self, min_ms: u64) -> Result<Option<Duration>, BadQuery> {
        Ok(self
            .number("interval_ms", min_ms, 3_600_000)?
            .map(Duration::from_millis))
    }
}

/// A query parameter that could not be used; becomes a 400 reply.
#[derive(Debug)]
pub(super) struct BadQuery(String);

impl BadQuery {
    /// A complaint about the request, sent back as a 400.
    pub(super) fn new(message: impl Into<String>) -> Self {
        BadQuery(message.into())
    }

    /// The explanation, for replies written by hand (the raw scenario endpoints).
    pub(super) fn message(&self) -> &str {
        &self.0
    }

    pub(super) fn into_response(self) -> Response<Body> {
        body::text(StatusCode::BAD_REQUEST, format!("{}\n", self.0))
    }
}
