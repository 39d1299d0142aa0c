//! `--filter EXPR`: a jq expression over each record's JSON line (the same object `--json`
//! writes, `decoded` included), run with the jaq crates. A record is kept when the expression's
//! first output is truthy (neither `false` nor `null`), as jq's `select(EXPR)` keeps it; an
//! expression that fails on a record (a type error, `error`, `halt`) does not keep it.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;

use crate::record::Record;

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// A compiled `--filter` expression (shared: the dashboard's view state is cloned).
#[derive(Clone)]
pub struct JqFilter {
    filter: std::sync::Arc<Filter>,
}

impl std::fmt::Debug for JqFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JqFilter")
    }
}

impl JqFilter {
    /// Compiles `expr` with jq's standard library; the error is one line naming what is wrong.
    pub fn new(expr: &str) -> Result<JqFilter, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: expr,
                    path: (),
                },
            )
            .map_err(|errs| {
                let what: Vec<String> = errs.iter().map(|(_, e)| describe(e)).collect();
                format!("--filter '{expr}': {}", what.join("; "))
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let names: Vec<String> = errs
                    .iter()
                    .flat_map(|(_, e)| e.iter().map(|(name, _)| (*name).to_owned()))
                    .collect();
                format!("--filter '{expr}': undefined: {}", names.join(", "))
            })?;
        Ok(JqFilter {
            filter: std::sync::Arc::new(filter),
        })
    }

    /// Whether `rec` passes: the expression's first output on its JSON line is truthy.
    pub fn matches(&self, rec: &Record) -> bool {
        let mut line = Vec::with_capacity(256);
        rec.write_json(&mut line);
        let Ok(input) = jaq_json::read::parse_single(line.trim_ascii_end()) else {
            return false;
        };
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut out = self.filter.id.run((ctx, input));
        matches!(out.next(), Some(Ok(v)) if jaq_core::ValT::as_bool(&v))
    }
}

/// A load error in a line: the first offending piece of the expression.
fn describe(e: &jaq_core::load::Error<&str>) -> String {
    use jaq_core::load::Error;
    match e {
        Error::Io(v) => v
            .iter()
            .map(|(p, m)| format!("{p}: {m}"))
            .collect::<Vec<_>>()
            .join(", "),
        Error::Lex(v) => v.first().map_or_else(
            || "cannot be read".to_owned(),
            |(exp, at)| format!("expected {} at '{}'", exp.as_str(), cut(at)),
        ),
        Error::Parse(v) => v.first().map_or_else(
            || "cannot be parsed".to_owned(),
            |(exp, at)| format!("expected {} at '{}'", exp.as_str(), cut(at)),
        ),
    }
}

fn cut(s: &str) -> &str {
    match s.char_indices().nth(12) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::decoded::Decoded;
    use crate::record::{Kind, Payload};
    use crate::testkit::{event, text};

    fn decoded_tick() -> Record {
        let mut r = text(0, r#"42/chat,["tick",{"n":1}]"#);
        if let Kind::Message { decoded, .. } = &mut r.kind {
            *decoded = Some(Box::new(Decoded {
                event: Some("tick".into()),
                ..Decoded::new("socketio", "event")
            }));
        }
        r
    }

    #[test]
    fn the_issue_examples() {
        let f = JqFilter::new(r#".decoded.event == "tick""#).expect("compiles");
        assert!(f.matches(&decoded_tick()));
        assert!(!f.matches(&text(0, "x")));
        let f = JqFilter::new(r#".data | fromjson | .symbol == "ACME""#).expect("compiles");
        assert!(f.matches(&event(0, r#"{"symbol":"ACME"}"#)));
        assert!(!f.matches(&event(0, r#"{"symbol":"ZZZ"}"#)));
        // Not JSON: fromjson fails, the record is not kept.
        assert!(!f.matches(&event(0, "plain")));
    }

    #[test]
    fn truthiness_errors_and_halt_do_not_keep_and_do_not_exit() {
        let f = JqFilter::new(".kind").expect("compiles");
        assert!(f.matches(&event(0, "x")), "a string is truthy");
        let f = JqFilter::new(".nope").expect("compiles");
        assert!(!f.matches(&event(0, "x")), "null is not");
        let f = JqFilter::new(".data | test(\"^A.M\")").expect("regex");
        assert!(f.matches(&event(0, "ACME")));
        assert!(!f.matches(&event(0, "BACME")));
        let f = JqFilter::new("halt").expect("compiles");
        assert!(!f.matches(&event(0, "x")));
        let f = JqFilter::new("error(\"x\")").expect("compiles");
        assert!(!f.matches(&event(0, "x")));
        let binary = crate::testkit::message(0, Payload::Binary(vec![1, 2].into()));
        let f = JqFilter::new(".data_base64 == \"AQI=\"").expect("compiles");
        assert!(f.matches(&binary));
    }

    #[test]
    fn bad_expressions_are_one_line() {
        for bad in [".a ==", "nosuchfn(1)", "(", ".a | ]"] {
            let e = JqFilter::new(bad).expect_err(bad);
            assert!(e.starts_with(&format!("--filter '{bad}': ")), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = JqFilter::new("nosuchfn(1)").expect_err("undefined");
        assert!(e.contains("nosuchfn"), "{e}");
    }
}
