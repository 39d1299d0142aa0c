//! Between the sources (live connections, replay) and the consumer (`--json` or the dashboard):
//! the [`pipeline`] stage that owns `--match` pairing ([`matcher`]), the recording
//! ([`recording`]), HAR import and export ([`har`]), the JSON-lines sink ([`output`]) and the
//! Prometheus metrics sink of `streamscope monitor` ([`metrics`]).

pub(crate) mod har;
pub mod jq;
pub(crate) mod matcher;
pub(crate) mod metrics;
pub mod output;
pub(crate) mod pipeline;
pub(crate) mod recording;
