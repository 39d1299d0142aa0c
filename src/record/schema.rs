//! The JSON Schema (draft 2020-12) of a record line, generated from the kinds table.
//!
//! `docs/record.schema.json` is [`json_schema_text`]'s output, checked in so that a consumer of
//! `--json` can validate lines without reading Rust. `tests/json_schema.rs` fails when the file
//! and the table differ (`STREAMSCOPE_UPDATE_SCHEMA=1` rewrites the file) and validates the
//! binary's real output against the file, so neither can drift from the writer unnoticed.

use serde_json::Value;

use crate::record::kinds::{COMMON, Field, FieldType, KINDS, KindInfo, TRAFFIC};

/// Where the generated schema is checked in, relative to the crate root.
pub const SCHEMA_PATH: &str = "docs/record.schema.json";

/// The schema of one record line, as a JSON value.
pub fn json_schema() -> Value {
    serde_json::from_str(&json_schema_text()).unwrap_or(Value::Null)
}

/// The schema as checked in: keys in the order a reader wants them (not sorted), short arrays and
/// objects on one line, a final newline.
pub fn json_schema_text() -> String {
    let mut out = String::new();
    schema().write(&mut out, 0);
    out.push('\n');
    out
}

/// The common and traffic fields with their types at the top, then one `if`/`then` branch per kind
/// (keyed on `kind`) naming every field the kind may have, with `additionalProperties: false`.
///
/// Branches are `if`/`then` rather than a `oneOf` so that a validator reports what is wrong with a
/// line against its own kind, instead of that it matches none of fifteen alternatives.
fn schema() -> Node {
    let shared = COMMON.iter().chain(TRAFFIC);
    obj([
        (
            "$schema",
            text("https://json-schema.org/draft/2020-12/schema"),
        ),
        ("title", text("streamscope record")),
        (
            "description",
            text(
                "One line of `streamscope --json` (and of a recording after its header): see \
                 docs/json-records.md. Generated from the kinds table in src/record/kinds.rs; do \
                 not edit, regenerate with `STREAMSCOPE_UPDATE_SCHEMA=1 cargo test --test \
                 json_schema`.",
            ),
        ),
        ("type", text("object")),
        ("required", texts(COMMON.iter().map(|f| f.name))),
        (
            "properties",
            Node::Obj(shared.map(|f| (f.name, field_schema(f))).collect()),
        ),
        ("allOf", Node::Arr(KINDS.iter().map(kind_branch).collect())),
        ("$defs", defs()),
    ])
}

/// `if kind == k.name then <the fields of k, and no others>`.
fn kind_branch(k: &KindInfo) -> Node {
    let shared = COMMON.iter().chain(TRAFFIC);
    // `additionalProperties` sees only the properties named in its own object, so the shared
    // fields are named again here (`true`: their types are checked at the top).
    let mut properties: Vec<(&str, Node)> = shared
        .filter(|f| !k.fields.iter().any(|own| own.name == f.name))
        .map(|f| (f.name, Node::Leaf(Value::Bool(true))))
        .collect();
    // A kind's own entry replaces a shared one: `gap_ms` is optional traffic, required on a gap.
    properties.extend(k.fields.iter().map(|f| (f.name, field_schema(f))));
    let mut required: Vec<&str> = COMMON.iter().map(|f| f.name).collect();
    required.extend(k.fields.iter().filter(|f| f.required).map(|f| f.name));
    let mut then = vec![
        ("properties", Node::Obj(properties)),
        ("required", texts(required)),
        ("additionalProperties", Node::Leaf(Value::Bool(false))),
    ];
    if !k.exactly_one_of.is_empty() {
        let one = |name: &'static str| obj([("required", texts([name]))]);
        then.push((
            "oneOf",
            Node::Arr(k.exactly_one_of.iter().copied().map(one).collect()),
        ));
    }
    obj([
        // `required` too: without it a line lacking `kind` would match every branch.
        (
            "if",
            obj([
                (
                    "properties",
                    obj([("kind", obj([("const", text(k.name))]))]),
                ),
                ("required", texts(["kind"])),
            ]),
        ),
        ("then", Node::Obj(then)),
    ])
}

fn field_schema(f: &Field) -> Node {
    let def = |name: &str| obj([("$ref", Node::Leaf(Value::String(format!("#/$defs/{name}"))))]);
    let schema = match f.ty {
        FieldType::Str => obj([("type", text("string"))]),
        FieldType::Enum(values) => obj([("enum", texts(values.iter().copied()))]),
        FieldType::KindName => obj([("enum", texts(KINDS.iter().map(|k| k.name)))]),
        FieldType::KebabCase => def("kebab_case"),
        FieldType::Timestamp => def("timestamp"),
        FieldType::Unsigned => def("unsigned"),
        FieldType::Int => obj([("type", text("integer"))]),
        FieldType::Ms => def("ms"),
        FieldType::Rate => def("per_second"),
        FieldType::Bool => obj([("type", text("boolean"))]),
        FieldType::Headers => def("headers"),
        FieldType::Pair => def("pair"),
        FieldType::Decoded => def("decoded"),
    };
    if f.nullable {
        obj([(
            "anyOf",
            Node::Arr(vec![schema, obj([("type", text("null"))])]),
        )])
    } else {
        schema
    }
}

/// The value shapes more than one field has, named once.
fn defs() -> Node {
    let zero = || Node::Leaf(Value::from(0));
    obj([
        (
            "timestamp",
            obj([
                ("description", text("RFC 3339 UTC with microseconds")),
                ("type", text("string")),
                ("format", text("date-time")),
                (
                    "pattern",
                    text("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"),
                ),
            ]),
        ),
        (
            "unsigned",
            obj([("type", text("integer")), ("minimum", zero())]),
        ),
        (
            "ms",
            obj([
                ("description", text("milliseconds, microsecond precision")),
                ("type", text("number")),
                ("minimum", zero()),
            ]),
        ),
        (
            "per_second",
            obj([
                ("description", text("a rate per second")),
                ("type", text("number")),
                ("minimum", zero()),
            ]),
        ),
        (
            "kebab_case",
            obj([
                ("type", text("string")),
                ("pattern", text("^[a-z0-9]+(-[a-z0-9]+)*$")),
            ]),
        ),
        (
            "headers",
            obj([
                (
                    "description",
                    text("lower-case names in arrival order; repeated ones joined by `, `"),
                ),
                ("type", text("object")),
                ("additionalProperties", obj([("type", text("string"))])),
            ]),
        ),
        (
            "pair",
            obj([
                (
                    "description",
                    text("one count per stream of a `--match` pair"),
                ),
                ("type", text("array")),
                ("items", obj([("$ref", text("#/$defs/unsigned"))])),
                ("minItems", Node::Leaf(Value::from(2))),
                ("maxItems", Node::Leaf(Value::from(2))),
            ]),
        ),
        ("decoded", decoded_def()),
    ])
}

/// The `decoded` object of a message: typed keys, then each protocol's own (docs/decoders.md).
fn decoded_def() -> Node {
    let string = || obj([("type", text("string"))]);
    obj([
        (
            "description",
            text("what the message's application protocol says it means (--decode)"),
        ),
        ("type", text("object")),
        ("required", texts(["protocol", "type"])),
        (
            "properties",
            obj([
                ("protocol", string()),
                ("type", string()),
                ("heartbeat", obj([("const", Node::Leaf(Value::Bool(true)))])),
                ("substream", string()),
                ("event", string()),
            ]),
        ),
    ])
}

/// A JSON document whose objects keep their keys in the order given: `serde_json`'s map sorts them
/// (its `preserve_order` feature would change the order of the app's own output too).
enum Node {
    Leaf(Value),
    Obj(Vec<(&'static str, Node)>),
    Arr(Vec<Node>),
}

fn obj<const N: usize>(pairs: [(&'static str, Node); N]) -> Node {
    Node::Obj(pairs.into())
}

fn text(s: &str) -> Node {
    Node::Leaf(Value::from(s))
}

fn texts<'a>(items: impl IntoIterator<Item = &'a str>) -> Node {
    Node::Arr(items.into_iter().map(text).collect())
}

/// Lines are kept within this many columns where a value fits on one.
const WIDTH: usize = 100;

impl Node {
    /// Pretty-printed, two spaces per level; a value that fits in the rest of the line stays on it.
    fn write(&self, out: &mut String, indent: usize) {
        let line_start = out.rfind('\n').map_or(0, |i| i + 1);
        let flat = self.flat();
        if matches!(self, Node::Leaf(_)) || out.len() - line_start + flat.len() <= WIDTH {
            out.push_str(&flat);
            return;
        }
        let (open, close) = if matches!(self, Node::Obj(_)) {
            ('{', '}')
        } else {
            ('[', ']')
        };
        out.push(open);
        let pad = "  ".repeat(indent + 1);
        let mut first = true;
        let mut item = |out: &mut String, key: Option<&str>, node: &Node| {
            out.push_str(if first { "\n" } else { ",\n" });
            first = false;
            out.push_str(&pad);
            if let Some(key) = key {
                out.push_str(&Value::from(key).to_string());
                out.push_str(": ");
            }
            node.write(out, indent + 1);
        };
        match self {
            Node::Obj(pairs) => pairs.iter().for_each(|(k, v)| item(out, Some(k), v)),
            Node::Arr(items) => items.iter().for_each(|v| item(out, None, v)),
            Node::Leaf(_) => {}
        }
        out.push('\n');
        out.push_str(&"  ".repeat(indent));
        out.push(close);
    }

    /// On one line: `{ "a": 1, "b": [2, 3] }`.
    fn flat(&self) -> String {
        match self {
            Node::Leaf(v) => v.to_string(),
            Node::Arr(items) => {
                let items: Vec<String> = items.iter().map(Node::flat).collect();
                format!("[{}]", items.join(", "))
            }
            Node::Obj(pairs) => {
                let pairs: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", Value::from(*k), v.flat()))
                    .collect();
                format!("{{ {} }}", pairs.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::record::samples::one_of_each_kind;

    fn validator() -> jsonschema::Validator {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&json_schema())
            .expect("the generated schema is a valid draft 2020-12 schema")
    }

    /// Every sample record as the JSON object the writer makes of it.
    fn sample_lines() -> Vec<Map<String, Value>> {
        one_of_each_kind()
            .iter()
            .map(|r| match serde_json::from_str(&r.to_json_line()) {
                Ok(Value::Object(m)) => m,
                other => panic!("{r:?} is not written as an object: {other:?}"),
            })
            .collect()
    }

    fn errors(v: &jsonschema::Validator, line: &Map<String, Value>) -> Vec<String> {
        let line = Value::Object(line.clone());
        v.iter_errors(&line).map(|e| e.to_string()).collect()
    }

    #[test]
    fn every_kind_the_writer_writes_is_valid() {
        let v = validator();
        for line in sample_lines() {
            let errors = errors(&v, &line);
            assert!(errors.is_empty(), "{line:?}: {errors:?}");
        }
    }

    #[test]
    fn an_extra_field_is_rejected_on_every_kind() {
        let v = validator();
        for mut line in sample_lines() {
            line.insert("bogus".into(), json!(1));
            assert!(!errors(&v, &line).is_empty(), "{line:?}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_rejected_in_every_field() {
        // An object with a non-string value fits no field: not a string, number, bool, null or
        // array, and not a header map either.
        let wrong = json!({ "x": [true] });
        let v = validator();
        for line in sample_lines() {
            for key in line.keys() {
                let mut bad = line.clone();
                bad.insert(key.clone(), wrong.clone());
                assert!(!errors(&v, &bad).is_empty(), "{key} in {line:?}");
            }
        }
    }

    #[test]
    fn a_missing_required_field_is_rejected() {
        let v = validator();
        for line in sample_lines() {
            let kind = KINDS
                .iter()
                .find(|k| line.get("kind") == Some(&json!(k.name)))
                .expect("a known kind");
            let fields = COMMON.iter().chain(kind.fields);
            for f in fields.filter(|f| f.required) {
                let mut bad = line.clone();
                bad.remove(f.name);
                assert!(
                    !errors(&v, &bad).is_empty(),
                    "{} without {}",
                    kind.name,
                    f.name
                );
            }
        }
    }

    #[test]
    fn a_payload_is_text_or_base64_never_both_nor_neither() {
        let v = validator();
        let mut checked = 0;
        for line in sample_lines() {
            let Some(payload) = line.get("data").or(line.get("data_base64")).cloned() else {
                continue;
            };
            if line.get("kind") == Some(&json!("event")) {
                continue; // an SSE event's `data` is its own field, always text
            }
            let mut both = line.clone();
            both.insert("data".into(), payload.clone());
            both.insert("data_base64".into(), payload);
            assert!(!errors(&v, &both).is_empty(), "{both:?}");
            let mut neither = line.clone();
            neither.remove("data");
            neither.remove("data_base64");
            assert!(!errors(&v, &neither).is_empty(), "{neither:?}");
            checked += 1;
        }
        assert!(checked >= 4, "messages, pings and pongs, text and binary");
    }

    #[test]
    fn bad_values_are_rejected() {
        let v = validator();
        let line = sample_lines()
            .into_iter()
            .find(|l| l.get("kind") == Some(&json!("lint")))
            .expect("a lint sample");
        for (key, value) in [
            ("kind", json!("teleport")),
            ("proto", json!("ftp")),
            ("dir", json!("sideways")),
            ("ts", json!("2026-11-25 10:44:24")),
            ("ts", json!("2026-11-25T10:44:24.898Z")),
            ("stream", json!(-1)),
            ("stream", json!(1.5)),
            ("gap_ms", json!(-0.5)),
            ("rule", json!("Not Kebab")),
        ] {
            let mut bad = line.clone();
            bad.insert(key.into(), value.clone());
            assert!(!errors(&v, &bad).is_empty(), "{key}: {value}");
        }
    }
}
