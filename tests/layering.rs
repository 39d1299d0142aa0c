//! The crate's dependencies point one way: every `crate::`, `super::` and `self::` path in `src/` is
//! resolved to the file it names, and the test fails on an import cycle between files, or on a
//! module that reaches up into a layer above its own. docs/architecture.md draws the same layers.
//!
//! Test-only code is left out: a `#[cfg(test)] mod tests { .. }` block at the end of a file, and a
//! file declared `#[cfg(test)] mod name;` (the unit tests' kit `testkit`, `tui/tests.rs`). Unit
//! tests may use whatever they test with, and being compiled for tests only, nothing else can use
//! them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use its own layer's files (without a cycle) and any
/// layer below; never one above. Test-only files are in no layer: they use any, and a module that
/// used one (it could not be built outside `cargo test`) would be reported as reaching up.
const LAYERS: &[(&str, u8)] = &[
    ("record", 0),
    ("protocol", 1),
    ("capture", 2),
    ("ingest", 3),
    ("replay", 4),
    ("store", 4),
    ("server", 5),
    ("tui", 5),
    ("app", 6),
];

/// A source file, named by its module path (`capture::net::tap`).
#[derive(Debug)]
struct SourceFile {
    module: Vec<String>,
    path: PathBuf,
    text: String,
    /// Declared under `#[cfg(test)]`, or inside a module that is.
    test_only: bool,
}

fn collect(dir: &Path, module: &[String], out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name")
            .to_owned();
        if path.is_dir() {
            let mut m = module.to_vec();
            m.push(name);
            collect(&path, &m, out);
            continue;
        }
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        let mut m = module.to_vec();
        match stem {
            // The binary is a crate of its own, using the library through `streamscope::`.
            "main" if module.is_empty() => continue,
            "lib" | "mod" => {}
            _ => m.push(stem.to_owned()),
        }
        let text = std::fs::read_to_string(&path).expect("read source");
        out.push(SourceFile {
            module: m,
            path,
            text,
            test_only: false,
        });
    }
}

/// The modules a file declares as files under `#[cfg(test)]` (`#[cfg(test)]`, then `mod kit;`).
fn test_only_children(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "#[cfg(test)]" {
            continue;
        }
        let Some(next) = lines.next() else { break };
        // `pub mod`, `pub(crate) mod`, `mod`: the visibility is one word.
        let decl = next
            .strip_prefix("pub")
            .map_or(next, |rest| rest.split_once(' ').map_or(rest, |(_, d)| d));
        if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
            out.push(name.to_owned());
        }
    }
    out
}

/// Marks the files compiled for tests only: those declared under `#[cfg(test)]` and their children.
fn mark_test_only(files: &mut [SourceFile]) {
    let roots: Vec<Vec<String>> = files
        .iter()
        .flat_map(|f| {
            test_only_children(&f.text).into_iter().map(|name| {
                let mut m = f.module.clone();
                m.push(name);
                m
            })
        })
        .collect();
    for f in files {
        f.test_only = roots.iter().any(|r| f.module.starts_with(r));
    }
}

/// The code that counts: the unit-test module at the end cut off (comments and literals are
/// skipped by [`tokenize`]).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every path a use-tree or expression names, starting at `crate::`, `super::`, `self::` or the
/// name of one of the file's child modules, made absolute for a file whose module is `module`.
fn paths_in(code: &str, module: &[String], children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let tokens = tokenize(code);
    let tok = |i: usize| tokens.get(i).map(String::as_str);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        // Only the first segment of a path counts (`$crate` in macros is not ours to check).
        if i > 0 && matches!(tok(i - 1), Some("::" | "$")) || tok(i + 1) != Some("::") {
            i += 1;
            continue;
        }
        let base = match tok(i) {
            Some("crate") => {
                i += 2;
                Vec::new()
            }
            Some("self") => {
                i += 2;
                module.to_vec()
            }
            Some("super") => {
                // In `a/b.rs` (module a::b) and in `a/mod.rs` (module a) alike, `super` drops one.
                let mut m = module.to_vec();
                while tok(i) == Some("super") && tok(i + 1) == Some("::") {
                    m.pop();
                    i += 2;
                }
                m
            }
            Some(child) if children.contains(child) => module.to_vec(),
            _ => {
                i += 1;
                continue;
            }
        };
        use_tree(&tokens, &mut i, base, &mut out);
    }
    out
}

/// Parses `ident (:: tree)?`, `{ tree, … }` or `*` at `pos`, appending full paths to `out`.
fn use_tree(tokens: &[String], pos: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    match tokens.get(*pos).map(String::as_str) {
        Some("{") => {
            *pos += 1;
            loop {
                match tokens.get(*pos).map(String::as_str) {
                    None => return,
                    Some("}") => {
                        *pos += 1;
                        return;
                    }
                    Some(",") => *pos += 1,
                    Some(_) => use_tree(tokens, pos, prefix.clone(), out),
                }
            }
        }
        Some("*") => {
            *pos += 1;
            out.push(prefix);
        }
        Some(t) if is_ident(t) => {
            let mut p = prefix;
            if t != "self" {
                p.push(t.to_owned());
            }
            *pos += 1;
            if tokens.get(*pos).map(String::as_str) == Some("::") {
                *pos += 1;
                use_tree(tokens, pos, p, out);
            } else {
                out.push(p);
            }
        }
        _ => {
            *pos += 1;
            out.push(prefix);
        }
    }
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Identifiers, `::`, and single punctuation characters; comments, string and character
/// literals are skipped.
fn tokenize(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            '/' if at(i + 1) == Some('/') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                i += 2;
                while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                    i += 1;
                }
                i += 2;
            }
            'r' if matches!(at(i + 1), Some('"' | '#'))
                && !at(i.wrapping_sub(1)).is_some_and(is_word) =>
            {
                // A raw string: r"…", r#"…"#.
                let mut j = i + 1;
                let mut hashes = 0;
                while at(j) == Some('#') {
                    hashes += 1;
                    j += 1;
                }
                if at(j) != Some('"') {
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    match at(j) {
                        None => break,
                        Some('"') if (1..=hashes).all(|k| at(j + k) == Some('#')) => {
                            j += 1 + hashes;
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
                i = j;
            }
            '"' => {
                i += 1;
                while let Some(c) = at(i) {
                    i += 1;
                    match c {
                        '\\' => i += 1,
                        '"' => break,
                        _ => {}
                    }
                }
            }
            // A char literal ('x', '\n', '\u{..}'); a lifetime ('a) is left as punctuation.
            '\'' if at(i + 1) == Some('\\') => {
                i += 2;
                while at(i).is_some_and(|c| c != '\'') {
                    i += 1;
                }
                i += 1;
            }
            '\'' if at(i + 2) == Some('\'') => i += 3,
            c if is_word(c) => {
                let start = i;
                while at(i).is_some_and(is_word) {
                    i += 1;
                }
                out.push(chars[start..i].iter().collect());
            }
            ':' if at(i + 1) == Some(':') => {
                out.push("::".to_owned());
                i += 2;
            }
            c => {
                if !c.is_whitespace() {
                    out.push(c.to_string());
                }
                i += 1;
            }
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The file a path lives in: the longest prefix of it that is a file's module.
fn resolve<'a>(path: &[String], files: &'a BTreeMap<Vec<String>, usize>) -> Option<&'a usize> {
    (1..=path.len())
        .rev()
        .find_map(|n| files.get(&path[..n].to_vec()))
}

fn layer_of(top: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == top).map(|(_, l)| *l)
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(n: usize, edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct T<'e> {
        edges: &'e [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T<'_>, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on_stack[v] = true;
        for &w in &t.edges[v] {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on_stack[w] => t.low[v] = t.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort_unstable();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Files and the files each one uses.
fn graph(src: &Path) -> (Vec<SourceFile>, Vec<BTreeSet<usize>>) {
    let mut files = Vec::new();
    collect(src, &[], &mut files);
    mark_test_only(&mut files);
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let edges = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if f.test_only {
                return BTreeSet::new();
            }
            let children: BTreeSet<String> = files
                .iter()
                .filter(|c| c.module.len() == f.module.len() + 1 && c.module.starts_with(&f.module))
                .filter_map(|c| c.module.last().cloned())
                .collect();
            paths_in(&code_of(&f.text), &f.module, &children)
                .iter()
                .filter_map(|p| resolve(p, &by_module).copied())
                .filter(|&j| j != i && !files[j].module.is_empty())
                .collect()
        })
        .collect();
    (files, edges)
}

fn name(f: &SourceFile) -> String {
    f.path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(&f.path)
        .display()
        .to_string()
}

#[test]
fn no_import_cycle_between_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (files, edges) = graph(&src);
    assert!(files.len() > 20, "found only {} files", files.len());
    let found: Vec<String> = cycles(files.len(), &edges)
        .into_iter()
        .map(|c| {
            c.iter()
                .map(|&i| name(&files[i]))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "import cycles (each line: files that reach each other):\n{}",
        found.join("\n")
    );
}

#[test]
fn modules_use_only_their_layer_and_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (files, edges) = graph(&src);
    let mut wrong = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let Some(top) = f.module.first() else {
            continue;
        };
        if f.test_only {
            continue;
        }
        let Some(from) = layer_of(top) else {
            wrong.push(format!("{}: module `{top}` is in no layer", name(f)));
            continue;
        };
        for &j in &edges[i] {
            let to_top = &files[j].module[0];
            // A file in no layer is a test-only one: out of reach of every layer.
            let to = layer_of(to_top);
            if to_top != top && to.is_none_or(|to| to >= from) {
                let to = to.map_or("test-only".to_owned(), |to| format!("layer {to}"));
                wrong.push(format!(
                    "{} ({top}, layer {from}) uses {} ({to_top}, {to})",
                    name(f),
                    name(&files[j])
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_resolver_sees_grouped_and_relative_paths() {
    // The checks above are only as good as the path extraction; pin it on the forms the crate uses.
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
    let code = code_of(
        "use crate::{a::B, c::{d, e::F}};\n\
         use super::g::H; // crate::commented::Out\n\
         let x = crate::i::j(\"crate::in_a_string\");\n\
         use self::k::*;\n\
         let r = r#\"crate::raw\"#; let c = '\"'; kid::L::new();\n\
         #[cfg(test)]\nmod tests { use crate::z; }\n",
    );
    let children = BTreeSet::from(["kid".to_owned()]);
    let got = paths_in(&code, &m("p::q"), &children);
    let want = vec![
        m("a::B"),
        m("c::d"),
        m("c::e::F"),
        m("p::g::H"),
        m("i::j"),
        m("p::q::k"),
        m("p::q::kid::L::new"),
    ];
    assert_eq!(got, want);
}
