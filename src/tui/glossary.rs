//! What every column and figure on screen means, in one table, [`FIGURES`]: the `?` overlay shows
//! the rows of the part of the screen it was pressed in (the record list, the stats, the comparison
//! strip, the LLM view, the overview) above the keys, and the figures section of `docs/keys.md` is
//! generated from it (a test fails when the page and the table differ), as the keys are from
//! [`super::keymap::KEY_TABLE`].

/// A part of the screen with figures of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    /// The record list's columns.
    List,
    /// The stats block under a pane's record list.
    Stats,
    /// The LLM view of a pane, and its line in the stats block.
    Llm,
    /// The comparison strip of two streams (and its `--match` line).
    Compare,
    /// The comparison strip of two LLM completions.
    LlmCompare,
    /// The overview of many streams.
    Overview,
}

impl Area {
    /// The heading of its section, in the overlay and the docs.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Area::List => "record list",
            Area::Stats => "stats (under the list)",
            Area::Llm => "LLM view",
            Area::Compare => "compare strip (two streams)",
            Area::LlmCompare => "compare LLM completions",
            Area::Overview => "overview",
        }
    }
}

/// One column or figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Figure {
    /// Where it is shown.
    pub(crate) area: Area,
    /// Its label on screen.
    pub(crate) name: &'static str,
    /// What it means.
    pub(crate) help: &'static str,
}

const fn fig(area: Area, name: &'static str, help: &'static str) -> Figure {
    Figure { area, name, help }
}

/// Every column and figure of the dashboard, by area, in screen order.
pub(crate) const FIGURES: &[Figure] = &[
    fig(
        Area::List,
        "time",
        "when the bytes of the record arrived (UTC, to the millisecond)",
    ),
    fig(
        Area::List,
        "gap",
        "time since the previous record received on this stream; coloured above --heartbeat",
    ),
    fig(
        Area::List,
        "← →",
        "received from the server / sent by streamscope",
    ),
    fig(
        Area::List,
        "kind",
        "event, message, comment, ping, pong, open, close, reconnect, error, lint, end, frame \
         (HTTP/2)…; an SSE `retry:` without data is a lint row (retry-without-event)",
    ),
    fig(
        Area::List,
        "wire",
        "bytes the record took on the wire: SSE field names, `data:` prefixes and line ends; \
         WebSocket frame headers and masks (K = thousands, M = millions)",
    ),
    fig(
        Area::List,
        "pay",
        "payload bytes: the decoded data of the event or message, what an application receives",
    ),
    fig(
        Area::List,
        "data",
        "a preview; `[id]` leads an SSE event with an id, an LLM chunk starts with its text, \
         --decode's reading leads a message (`[protocol type #sub-stream]`), binary and ping \
         payloads are hex; Enter shows everything",
    ),
    fig(
        Area::Stats,
        "records",
        "records of every kind so far; the line ends with the count of each kind",
    ),
    fig(
        Area::Stats,
        "rec/s",
        "events and messages per second over the last minute (60s: one bar a second)",
    ),
    fig(
        Area::Stats,
        "payload, wire",
        "payload and wire bytes of every record so far",
    ),
    fig(
        Area::Stats,
        "overhead",
        "share of the wire bytes that are not payload (framing, field names, ids), in %",
    ),
    fig(
        Area::Stats,
        "compressed",
        "what arrived compressed (permessage-deflate, Content-Encoding), and how many times \
         smaller than decoded (×)",
    ),
    fig(
        Area::Stats,
        "gap p50…max",
        "percentiles and maximum of the time between records",
    ),
    fig(
        Area::Stats,
        "last comment, last ping/pong",
        "age of the last keepalive (SSE comment, WebSocket ping or pong, a --decode heartbeat): \
         none when the server sends none; frozen when the stream ends. Not --heartbeat, which flags \
         any silence",
    ),
    fig(
        Area::Stats,
        "reconnects",
        "reconnects scheduled (after a close, a failure, or r)",
    ),
    fig(
        Area::Stats,
        "rtt",
        "round trip of the last answered ping (p or --ping-interval; a WebSocket ping, an HTTP/2 \
         PING)",
    ),
    fig(
        Area::Stats,
        "handshake",
        "connect, TLS and the response head (WebSocket: the upgrade) of the latest connection",
    ),
    fig(
        Area::Stats,
        "<protocol> hb",
        "with --decode: the protocol read and its own heartbeats so far (Engine.IO 2/3, GraphQL \
         ping and ka, STOMP and Phoenix heartbeats), which --count and rec/s leave out",
    ),
    fig(
        Area::Stats,
        "sub-streams",
        "messages per sub-stream (#ID: GraphQL operation, subscription id, topic; the filter #ID \
         shows one) or, without them, per event name (events), first seen first",
    ),
    fig(
        Area::Stats,
        "timeline",
        "the session from its first record to now: ▲ open, ┄ gap over --heartbeat, ■ close, \
         ↻ reconnect, ✕ error",
    ),
    fig(
        Area::Llm,
        "ttft",
        "time to first token: from the request to the first chunk with output",
    ),
    fig(
        Area::Llm,
        "2nd token",
        "time to the second chunk with output",
    ),
    fig(
        Area::Llm,
        "itl p50…max",
        "inter-token latency: time between chunks with output, percentiles and maximum",
    ),
    fig(
        Area::Llm,
        "tok/s, tokens",
        "output tokens per second after the first, and the tokens (usage: the provider's count; \
         chunks: one per chunk)",
    ),
    fig(
        Area::Llm,
        "total, stalls",
        "the whole completion, and the gaps over --heartbeat (1 s without it), drawn full height \
         in the gap strip",
    ),
    fig(
        Area::Compare,
        "#0, #1, Δ",
        "each stream's figures, and the second's minus the first's; after the protocol, the HTTP \
         version and connection (h1.1, h2#1; * when the connection is shared)",
    ),
    fig(
        Area::Compare,
        "columns",
        "the stats' figures side by side, records to handshake; compression is decoded ÷ \
         compressed bytes; columns with no figure give way first on a narrow screen",
    ),
    fig(
        Area::Compare,
        "match",
        "with --match: records paired by key, which stream delivered first how often, by how \
         much (lead p50/p95/p99), and records never paired",
    ),
    fig(
        Area::LlmCompare,
        "columns",
        "the LLM view's figures of both completions; 2nd tok is the second token, tok/s tokens \
         per second; Δ is the second's minus the first's",
    ),
    fig(
        Area::Overview,
        "state, rec/s",
        "the connection's state, and events and messages per second over the last minute",
    ),
    fig(
        Area::Overview,
        "last",
        "age of the stream's newest record of any kind",
    ),
    fig(
        Area::Overview,
        "gap p99, reconn",
        "99th percentile of the time between records; reconnects",
    ),
    fig(
        Area::Overview,
        "id gaps, lints, wire",
        "sequence breaks (missing or repeated ids), protocol warnings, wire bytes",
    ),
];

/// The figures of `area`.
pub(crate) fn of(area: Area) -> impl Iterator<Item = &'static Figure> {
    FIGURES.iter().filter(move |f| f.area == area)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Area; 6] = [
        Area::List,
        Area::Stats,
        Area::Llm,
        Area::Compare,
        Area::LlmCompare,
        Area::Overview,
    ];

    const DOC_BEGIN: &str = "<!-- figures:begin";
    const DOC_END: &str = "<!-- figures:end -->";

    /// The figures section of `docs/keys.md`, made from [`FIGURES`].
    fn doc_table() -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for area in ALL {
            let _ = write!(
                out,
                "\n{}:\n\n| figure | what it is |\n|---|---|\n",
                area.title()
            );
            for f in of(area) {
                let _ = writeln!(out, "| `{}` | {} |", f.name, f.help);
            }
        }
        out.push('\n');
        out
    }

    /// `STREAMSCOPE_UPDATE_DOCS=1 cargo test --lib glossary` rewrites the section of the page.
    #[test]
    fn docs_keys_md_explains_every_figure() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keys.md");
        let doc = std::fs::read_to_string(path).expect("read docs/keys.md");
        let begin = doc
            .find(DOC_BEGIN)
            .expect("docs/keys.md has the begin marker");
        let begin = begin + doc[begin..].find('\n').expect("a line after the marker") + 1;
        let end = doc.find(DOC_END).expect("docs/keys.md has the end marker");
        let want = format!("{}{}{}", &doc[..begin], doc_table(), &doc[end..]);
        if std::env::var_os("STREAMSCOPE_UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/keys.md");
        } else {
            assert_eq!(
                doc, want,
                "docs/keys.md differs from FIGURES; STREAMSCOPE_UPDATE_DOCS=1 cargo test --lib \
                 glossary rewrites it"
            );
        }
    }

    #[test]
    fn every_area_explains_something() {
        for area in ALL {
            assert!(of(area).count() > 0, "{area:?}");
        }
    }
}
