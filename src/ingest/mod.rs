//! Between the sources (live connections, replay) and the consumer (`--json` or the dashboard):
//! the [`pipeline`] stage that owns `--match` pairing ([`matcher`]), the recording
//! ([`recording`]), HAR import and export ([`har`]), and the JSON-lines sink ([`output`]).

pub(crate) mod har;
pub(crate) mod matcher;
pub mod output;
pub(crate) mod pipeline;
pub(crate) mod recording;
