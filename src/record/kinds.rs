//! The table of record kinds: for each JSON `kind` its name, its index and its fields.
//!
//! This is the one place a kind is described. The writer takes the name from it ([`Kind::name`]),
//! the reader looks names up in it ([`super::parse`]), the store sizes and indexes its per-kind
//! counters by it ([`Kind::index`]), and the JSON Schema of a record line
//! (`docs/record.schema.json`) is generated from it by [`super::schema`]. A `const` check below
//! keeps the table in `KindTag` order, so a kind's index is its tag and only a name is ever
//! searched for.

use crate::record::{DataOpcode, Dir, Kind, Proto, Side, TokensSource};
use FieldType::{
    Bool, Decoded, Enum, Headers, Int, KebabCase, KindName, Ms, Pair, Rate, Str, Timestamp,
    Unsigned,
};

/// A [`Kind`] without its data. The discriminant is the kind's index in [`KINDS`], which is the
/// order the dashboard lists per-kind counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KindTag {
    Open,
    Event,
    Comment,
    Message,
    Ping,
    Pong,
    Close,
    Reconnect,
    Gap,
    Error,
    End,
    IdGap,
    Lint,
    Match,
    MatchSummary,
    LlmSummary,
    Frame,
}

/// One kind of record: its JSON name and what it carries besides [`COMMON`] and [`TRAFFIC`].
#[derive(Debug)]
pub struct KindInfo {
    pub(crate) tag: KindTag,
    /// The JSON `kind` value.
    pub name: &'static str,
    /// The kind's own fields, in the order the writer puts them.
    pub fields: &'static [Field],
    /// Fields of which every record of this kind has exactly one (a payload is `data` when it is
    /// UTF-8, `data_base64` otherwise); each is also in [`fields`](Self::fields), as optional.
    pub exactly_one_of: &'static [&'static str],
}

/// One field of a record line.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON key.
    pub name: &'static str,
    /// What its value is.
    pub ty: FieldType,
    /// `null` is a value it can have (an absent value written out, as `"id":null`).
    pub nullable: bool,
    /// Every record of the kind has it; an optional field is left out when it does not apply.
    pub required: bool,
}

/// The JSON value of a [`Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Any string.
    Str,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// The name of one of the [`KINDS`] (the `kind` field).
    KindName,
    /// A short kebab-case identifier (`mixed-line-endings`).
    KebabCase,
    /// RFC 3339 UTC with microseconds: `2026-11-25T10:44:24.898574Z`.
    Timestamp,
    /// A non-negative integer.
    Unsigned,
    /// An integer, possibly negative.
    Int,
    /// Milliseconds: a non-negative number (microsecond precision, so up to three decimals).
    Ms,
    /// A rate per second: a non-negative number (up to three decimals).
    Rate,
    /// `true` or `false`.
    Bool,
    /// An object of string values (HTTP headers, in arrival order).
    Headers,
    /// `[n0, n1]`: one non-negative integer for each stream of a `--match` pair.
    Pair,
    /// A message's `decoded` object (`--decode`): `protocol` and `type` strings, optional
    /// `heartbeat`, `substream`, `event`, and the protocol's own fields (docs/decoders.md).
    Decoded,
}

/// Always written, never `null`.
const fn field(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        nullable: false,
        required: true,
    }
}

/// Always written, possibly as `null`.
const fn nullable(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        nullable: true,
        required: true,
    }
}

/// Written only when it applies.
const fn optional(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        nullable: false,
        required: false,
    }
}

/// The fields every record starts with. Enumerated values are the writer's own (`as_str` is `const`
/// so that they can be named here).
pub const COMMON: &[Field] = &[
    field("ts", Timestamp),
    field("stream", Unsigned),
    field(
        "proto",
        Enum(&[
            Proto::Sse.as_str(),
            Proto::Ws.as_str(),
            Proto::Jsonl.as_str(),
        ]),
    ),
    field("kind", KindName),
];

/// The traffic fields, written after [`COMMON`] where they apply, on any kind.
pub const TRAFFIC: &[Field] = &[
    optional("dir", Enum(&[Dir::In.as_str(), Dir::Out.as_str()])),
    optional("wire_bytes", Unsigned),
    optional("payload_bytes", Unsigned),
    optional("compressed_bytes", Unsigned),
    optional("gap_ms", Ms),
    optional("read", Unsigned),
];

/// A WebSocket payload: `data` when it is UTF-8, `data_base64` otherwise.
const PAYLOAD: [Field; 2] = [optional("data", Str), optional("data_base64", Str)];
const EITHER_PAYLOAD: &[&str] = &["data", "data_base64"];

/// Every kind, in the order the dashboard lists per-kind counts in: `KINDS[i]` is the kind whose
/// [`Kind::index`] is `i`.
pub const KINDS: &[KindInfo] = &[
    kind(
        KindTag::Open,
        "open",
        &[
            field("status", Unsigned),
            field("headers", Headers),
            field("handshake_ms", Ms),
            optional("compression_offered", Str),
            optional("compression", Str),
            optional("http", Enum(&["http/1.1", "h2", "h2c"])),
            optional("connection", Unsigned),
            optional("shared", Bool),
            optional("tls_version", Str),
            optional("tls_cipher", Str),
            optional("alpn", Str),
            optional("cert_subject", Str),
            optional("cert_issuer", Str),
            optional("cert_names", Str),
            optional("cert_not_after", Timestamp),
            optional("cert_days_left", Int),
            optional("request_method", Str),
            optional("request_headers", Headers),
        ],
    ),
    kind(
        KindTag::Event,
        "event",
        &[
            field("event", Str),
            field("data", Str),
            nullable("id", Str),
            nullable("retry", Unsigned),
        ],
    ),
    kind(KindTag::Comment, "comment", &[field("text", Str)]),
    KindInfo {
        tag: KindTag::Message,
        name: "message",
        fields: &[
            field(
                "opcode",
                Enum(&[DataOpcode::Text.as_str(), DataOpcode::Binary.as_str()]),
            ),
            PAYLOAD[0],
            PAYLOAD[1],
            field("frames", Unsigned),
            field("compressed", Bool),
            optional("decoded", Decoded),
        ],
        exactly_one_of: EITHER_PAYLOAD,
    },
    KindInfo {
        tag: KindTag::Ping,
        name: "ping",
        fields: &PAYLOAD,
        exactly_one_of: EITHER_PAYLOAD,
    },
    KindInfo {
        tag: KindTag::Pong,
        name: "pong",
        fields: &[PAYLOAD[0], PAYLOAD[1], optional("rtt_ms", Ms)],
        exactly_one_of: EITHER_PAYLOAD,
    },
    kind(
        KindTag::Close,
        "close",
        &[
            nullable("code", Unsigned),
            field("reason", Str),
            field("by", Enum(&[Side::Server.as_str(), Side::Client.as_str()])),
        ],
    ),
    kind(
        KindTag::Reconnect,
        "reconnect",
        &[
            field("attempt", Unsigned),
            field("delay_ms", Unsigned),
            nullable("last_event_id", Str),
            field("reason", Str),
            nullable("retry_ms", Unsigned),
        ],
    ),
    // The silence so far, in the traffic field `gap_ms`, which a gap record always has.
    kind(
        KindTag::Gap,
        "gap",
        &[field("gap_ms", Ms), field("threshold_ms", Ms)],
    ),
    kind(
        KindTag::Error,
        "error",
        &[
            field("message", Str),
            optional("status", Unsigned),
            optional("close_code", Unsigned),
        ],
    ),
    kind(
        KindTag::End,
        "end",
        &[field("reason", Str), field("failed", Bool)],
    ),
    kind(
        KindTag::IdGap,
        "id_gap",
        &[
            field("expected", Unsigned),
            field("got", Unsigned),
            field("missing", Unsigned),
            field("repeated", Unsigned),
            field("count", Unsigned),
        ],
    ),
    kind(
        KindTag::Lint,
        "lint",
        &[field("rule", KebabCase), field("message", Str)],
    ),
    kind(
        KindTag::Match,
        "match",
        &[
            field("key", Str),
            nullable("first", Unsigned),
            field("lead_ms", Ms),
        ],
    ),
    kind(
        KindTag::MatchSummary,
        "match_summary",
        &[
            field("pairs", Unsigned),
            field("won", Pair),
            field("ties", Unsigned),
            nullable("lead_p50_ms", Ms),
            nullable("lead_p95_ms", Ms),
            nullable("lead_p99_ms", Ms),
            nullable("lead_max_ms", Ms),
            field("unmatched", Pair),
        ],
    ),
    kind(
        KindTag::LlmSummary,
        "llm_summary",
        &[
            field("format", Enum(&LLM_FORMATS)),
            nullable("model", Str),
            field("complete", Bool),
            nullable("finish_reason", Str),
            nullable("ttft_ms", Ms),
            nullable("ttst_ms", Ms),
            nullable("itl_p50_ms", Ms),
            nullable("itl_p95_ms", Ms),
            nullable("itl_p99_ms", Ms),
            nullable("itl_max_ms", Ms),
            nullable("tpot_ms", Ms),
            nullable("tokens_per_s", Rate),
            field("output_tokens", Unsigned),
            field(
                "tokens_source",
                Enum(&[TokensSource::Usage.as_str(), TokensSource::Chunks.as_str()]),
            ),
            nullable("input_tokens", Unsigned),
            nullable("server_tokens_per_s", Rate),
            field("chunks", Unsigned),
            field("reasoning_chunks", Unsigned),
            field("tool_chunks", Unsigned),
            field("total_ms", Ms),
            field("stalls", Unsigned),
            field("stall_threshold_ms", Ms),
            field("errors", Unsigned),
            nullable("error", Str),
            field("text", Str),
        ],
    ),
    kind(
        KindTag::Frame,
        "frame",
        &[
            field("frame", Str),
            field("h2_stream", Unsigned),
            field("flags", Unsigned),
            field("connection", Unsigned),
            field("detail", Str),
            optional("error_code", Unsigned),
            optional("rtt_ms", Ms),
        ],
    ),
];

/// The LLM formats an `llm_summary` names (`protocol::llm::Format`'s names; a test there keeps
/// the two lists equal: this layer cannot import that one).
pub const LLM_FORMATS: [&str; 5] = ["openai", "responses", "anthropic", "gemini", "ollama"];

const fn kind(tag: KindTag, name: &'static str, fields: &'static [Field]) -> KindInfo {
    KindInfo {
        tag,
        name,
        fields,
        exactly_one_of: &[],
    }
}

// The table is in tag order, so a kind's index is its tag and needs no search.
const _: () = {
    let mut i = 0;
    while i < KINDS.len() {
        assert!(KINDS[i].tag as usize == i, "KINDS is not in KindTag order");
        i += 1;
    }
};

impl KindTag {
    /// The tag of the kind named `name`, `None` for a name no kind has.
    pub(crate) fn from_name(name: &str) -> Option<KindTag> {
        KINDS.iter().find(|k| k.name == name).map(|k| k.tag)
    }
}

impl Kind {
    /// The kind's entry in [`KINDS`].
    pub(crate) fn tag(&self) -> KindTag {
        match self {
            Kind::Open { .. } => KindTag::Open,
            Kind::Event { .. } => KindTag::Event,
            Kind::Comment { .. } => KindTag::Comment,
            Kind::Message { .. } => KindTag::Message,
            Kind::Ping { .. } => KindTag::Ping,
            Kind::Pong { .. } => KindTag::Pong,
            Kind::Close { .. } => KindTag::Close,
            Kind::Reconnect { .. } => KindTag::Reconnect,
            Kind::Gap { .. } => KindTag::Gap,
            Kind::Error { .. } => KindTag::Error,
            Kind::End { .. } => KindTag::End,
            Kind::IdGap { .. } => KindTag::IdGap,
            Kind::Lint { .. } => KindTag::Lint,
            Kind::Match { .. } => KindTag::Match,
            Kind::MatchSummary(_) => KindTag::MatchSummary,
            Kind::LlmSummary(_) => KindTag::LlmSummary,
            Kind::Frame(_) => KindTag::Frame,
        }
    }

    /// The kind's index in [`KINDS`]: `0..KINDS.len()`, for per-kind counters.
    pub fn index(&self) -> usize {
        self.tag() as usize
    }

    /// The JSON `kind` name.
    pub fn name(&self) -> &'static str {
        KINDS[self.index()].name
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::record::samples::one_of_each_kind;

    #[test]
    fn every_variant_round_trips_through_its_index_and_name() {
        let mut indexes = BTreeSet::new();
        for r in one_of_each_kind() {
            let (tag, index, name) = (r.kind.tag(), r.kind.index(), r.kind.name());
            assert_eq!(KINDS[index].tag, tag, "{name}");
            assert_eq!(KINDS[index].name, name);
            assert_eq!(KindTag::from_name(name), Some(tag));
            indexes.insert(index);
        }
        // The samples cover every entry of the table, so every variant has its own index.
        assert_eq!(
            indexes,
            (0..KINDS.len()).collect(),
            "a kind without a sample"
        );
        assert_eq!(KindTag::from_name("teleport"), None);
        assert_eq!(KindTag::from_name("Open"), None);
    }

    #[test]
    fn names_and_their_order_are_pinned() {
        // The names are the JSON `kind` values: renaming one breaks every consumer of `--json`. The
        // order is the dashboard's order of per-kind counts.
        let names: Vec<_> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(
            names,
            [
                "open",
                "event",
                "comment",
                "message",
                "ping",
                "pong",
                "close",
                "reconnect",
                "gap",
                "error",
                "end",
                "id_gap",
                "lint",
                "match",
                "match_summary",
                "llm_summary",
                "frame",
            ]
        );
    }

    /// The keys of a JSON object in the order they are written (`serde_json`'s map sorts them).
    struct Keys(Vec<String>);

    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }

    #[test]
    fn the_writer_writes_the_fields_of_the_table_in_its_order() {
        for r in one_of_each_kind() {
            let line = r.to_json_line();
            let Keys(written) = serde_json::from_str(&line).expect("a JSON object");
            let own = KINDS[r.kind.index()].fields;
            let in_table_order: Vec<&str> = COMMON
                .iter()
                .chain(
                    TRAFFIC
                        .iter()
                        .filter(|t| !own.iter().any(|f| f.name == t.name)),
                )
                .chain(own)
                .map(|f| f.name)
                .filter(|name| written.iter().any(|w| w == name))
                .collect();
            assert_eq!(written, in_table_order, "{line}");
            for f in COMMON.iter().chain(own).filter(|f| f.required) {
                assert!(
                    written.iter().any(|w| w == f.name),
                    "{} lacks {}: {line}",
                    r.kind.name(),
                    f.name
                );
            }
        }
    }

    #[test]
    fn each_field_is_described_once_per_kind() {
        for k in KINDS {
            let mut own = BTreeSet::new();
            for f in k.fields {
                assert!(own.insert(f.name), "{}: {} twice", k.name, f.name);
                assert!(
                    !COMMON.iter().any(|c| c.name == f.name),
                    "{}: {} is a common field",
                    k.name,
                    f.name
                );
                // A kind may only tighten a traffic field (a gap record always has `gap_ms`).
                if let Some(t) = TRAFFIC.iter().find(|t| t.name == f.name) {
                    assert!(f.required && !t.required && f.ty == t.ty, "{}", f.name);
                }
            }
            for name in k.exactly_one_of {
                let f = k.fields.iter().find(|f| f.name == *name);
                assert!(f.is_some_and(|f| !f.required), "{}: {name}", k.name);
            }
        }
    }
}
