//! The Rust collector through the library API (nothing is wired to the CLI yet).
//!
//! - `fixtures/rust/collect/*.rs`: each file's facts as a readable JSON snapshot beside it
//!   (`NAME.json`), spans shown as the text they cover. Regenerate with
//!   `SSOT_BLESS=1 cargo test --release --test it rust_collect` and read the diff.
//! - Broken input: a file syn rejects, one the lexer rejects, invalid UTF-8, nesting deep
//!   enough to overflow a parser's stack.
//! - A sweep over every `.rs` file of the local cargo registry (and the fixtures): no panic,
//!   every span inside the file and on character boundaries, and the number of `use` leaves
//!   equal to an independent count (see [`oracle_use_leaves`]), and the same facts as a
//!   parse of the whole text (`rust::collect_unskimmed`): the skim that blanks function bodies,
//!   doc comments and template macros before parsing may add doc links syn keeps opaque, and
//!   change nothing else. And where the fast path reads a file (no syn, see
//!   `src/rust/collect/fast.rs`), the same facts as the syn path (`rust::collect_slow`).

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use rayon::prelude::*;
use serde_json::{Value, json};
use ssot_gardener::facts::{
    Context, DefKind, FileFacts, ImportKind, LineIndex, Scope, Span, StringRefKind, Visibility,
};
use ssot_gardener::rust;

use crate::graph::check_snapshot;
use crate::support::fixture;

const FIXTURES: &str = "fixtures/rust/collect";

/// `L12 `text``: where a span is and what it covers.
fn at(src: &[u8], index: &LineIndex, span: Span) -> String {
    let text = String::from_utf8_lossy(&src[span.range()]);
    let text: Vec<&str> = text.split_whitespace().collect();
    format!("L{} `{}`", index.line(span.start), text.join(" "))
}

fn context(context: &Context) -> String {
    let scope = match context.scope {
        Scope::Module => "module",
        Scope::Class => "class",
        Scope::Function => "function",
    };
    if context.conditional {
        format!("{scope}, conditional")
    } else {
        scope.to_string()
    }
}

fn visibility(visibility: &Visibility) -> String {
    match visibility {
        Visibility::Default => "default".to_string(),
        Visibility::Public => "pub".to_string(),
        Visibility::Restricted(path) => format!("pub({path})"),
    }
}

/// The facts as a snapshot a reviewer can read against the source.
fn render(src: &[u8], facts: &FileFacts) -> Value {
    let index = LineIndex::new(src);
    let at = |span: Span| at(src, &index, span);
    let imports: Vec<Value> = facts
        .imports
        .iter()
        .enumerate()
        .map(|(i, import)| {
            let names: Vec<String> = import
                .names
                .iter()
                .map(|name| match &name.alias {
                    Some(alias) => format!("{} as {alias}", name.name),
                    None => name.name.clone(),
                })
                .collect();
            json!({
                "statement": at(import.span),
                "kind": match import.kind { ImportKind::From => "from", ImportKind::Module => "module" },
                "module": import.module,
                "module_span": at(import.module_span),
                "level": import.level,
                "names": names,
                "context": context(&import.context),
                "visibility": visibility(facts.import_visibility_of(i)),
            })
        })
        .collect();
    let definitions: Vec<Value> = facts
        .definitions
        .iter()
        .enumerate()
        .map(|(i, definition)| {
            let kind = match &definition.kind {
                DefKind::Class { bases, methods } => {
                    json!({ "class": { "bases": bases, "methods": methods } })
                }
                DefKind::Function { is_async, .. } => {
                    json!(if *is_async {
                        "async function"
                    } else {
                        "function"
                    })
                }
                DefKind::Alias { target } => json!({ "alias": target }),
                DefKind::Variable => json!("variable"),
            };
            json!({
                "name": definition.name,
                "header": at(definition.span),
                "kind": kind,
                "parent": definition.parent.map(|p| facts.definitions[p as usize].name.clone()),
                "context": context(&definition.context),
                "visibility": visibility(facts.definition_visibility_of(i)),
            })
        })
        .collect();
    let modules: Vec<Value> = facts
        .modules
        .iter()
        .map(|module| {
            json!({
                "name": module.name,
                "declaration": at(Span::new(module.span.start as usize, module.name_span.end as usize)),
                "inline": module.body.is_some(),
                "paths": module.paths,
                "parent": module.parent.map(|p| facts.modules[p as usize].name.clone()),
                "context": context(&module.context),
                "visibility": visibility(&module.visibility),
            })
        })
        .collect();
    let suppressions: Vec<Value> = facts
        .suppressions
        .iter()
        .map(|s| json!({ "at": at(s.span), "codes": s.codes, "reason": s.reason }))
        .collect();
    let errors: Vec<Value> = facts
        .errors
        .iter()
        .map(|e| json!({ "line": index.line(e.span.start), "message": e.message }))
        .collect();
    json!({
        "imports": imports,
        "definitions": definitions,
        "modules": modules,
        "suppressions": suppressions,
        "errors": errors,
    })
}

/// Every span of the facts, with what it belongs to.
fn spans(facts: &FileFacts) -> Vec<(&'static str, Span)> {
    let mut out = Vec::new();
    for import in &facts.imports {
        out.push(("import", import.span));
        out.push(("module_span", import.module_span));
        out.extend(import.names.iter().map(|name| ("name", name.span)));
    }
    for definition in &facts.definitions {
        out.push(("definition", definition.span));
        out.push(("name_span", definition.name_span));
    }
    for module in &facts.modules {
        out.push(("module", module.span));
        out.push(("module name", module.name_span));
        out.extend(module.body.map(|body| ("body", body)));
    }
    out.extend(facts.suppressions.iter().map(|s| ("suppression", s.span)));
    out.extend(facts.errors.iter().map(|e| ("error", e.span)));
    out
}

/// Spans inside the file, ordered, on character boundaries (for UTF-8 input); every name
/// span covers the name as written (`r#` and `as` aside); parallel tables as long as theirs.
fn check_invariants(path: &Path, src: &[u8], facts: &FileFacts) -> Vec<String> {
    let mut problems = Vec::new();
    let text = std::str::from_utf8(src).ok();
    for (what, span) in spans(facts) {
        let ok = span.start <= span.end
            && span.end as usize <= src.len()
            && text.is_none_or(|text| {
                text.is_char_boundary(span.start as usize)
                    && text.is_char_boundary(span.end as usize)
            });
        if !ok {
            problems.push(format!(
                "{}: {what} span {span:?} of {} bytes",
                path.display(),
                src.len()
            ));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    for import in &facts.imports {
        for name in &import.names {
            let written: String = String::from_utf8_lossy(&src[name.span.range()])
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("r#", "");
            let expected = match &name.alias {
                Some(alias) => format!("{} as {alias}", name.name),
                None => name.name.clone(),
            };
            if nfc(&written) != nfc(&expected) {
                problems.push(format!(
                    "{}: name span covers `{written}`, not `{expected}`",
                    path.display()
                ));
            }
        }
    }
    if facts.import_visibility.len() != facts.imports.len()
        || facts.definition_visibility.len() != facts.definitions.len()
    {
        problems.push(format!("{}: visibility tables out of step", path.display()));
    }
    for (i, definition) in facts.definitions.iter().enumerate() {
        if definition.parent.is_some_and(|p| p as usize >= i) {
            problems.push(format!(
                "{}: definition {i} before its parent",
                path.display()
            ));
        }
    }
    problems
}

/// Identifiers are NFC in the facts, maybe not in the file.
fn nfc(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfc().collect()
}

#[test]
fn fixture_snapshots() {
    let mut failures = Vec::new();
    let mut count = 0;
    for path in rust_files(&fixture(FIXTURES)) {
        count += 1;
        let src = fs::read(&path).expect("readable fixture");
        let facts = rust::collect(&src);
        failures.extend(check_invariants(&path, &src, &facts));
        let json = serde_json::to_string_pretty(&render(&src, &facts)).expect("JSON") + "\n";
        failures.extend(check_snapshot(&path.with_extension("json"), &json));
    }
    assert!(count >= 4, "fixtures/rust/collect lost files");
    assert!(
        failures.is_empty(),
        "{}\n\nif the new output is right, run `SSOT_BLESS=1 cargo test --release --test it \
         rust_collect` and read the diff",
        failures.join("\n\n")
    );
}

/// The facts that matter most, asserted directly rather than through the snapshot.
#[test]
fn shapes_map_to_facts() {
    let src = fs::read(fixture(&format!("{FIXTURES}/shapes.rs"))).expect("fixture");
    let facts = rust::collect(&src);
    assert!(facts.errors.is_empty(), "{:?}", facts.errors);
    let find = |module: &str| {
        facts
            .imports
            .iter()
            .position(|import| import.module == module)
            .unwrap_or_else(|| panic!("no import of `{module}`"))
    };
    // A group: one import per prefix, sharing the statement span.
    let collections = &facts.imports[find("std::collections")];
    let hash_map = &facts.imports[find("std::collections::hash_map")];
    assert_eq!(collections.span, hash_map.span);
    let names: Vec<&str> = collections.names.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["self", "HashMap"]);
    assert_eq!(hash_map.names[0].alias.as_deref(), Some("MapEntry"));
    // `super::super::` is level 2, the rest is the module.
    let shared = &facts.imports[find("shared")];
    assert_eq!(shared.level, 2);
    assert_eq!(
        facts.import_visibility_of(find("shared")),
        &Visibility::Restricted("super".to_string())
    );
    // `pub use` is a re-export.
    assert_eq!(
        facts.import_visibility_of(find("crate::input")),
        &Visibility::Public
    );
    assert_eq!(facts.imports[find("::core")].names[0].name, "mem");
    assert_eq!(
        facts.imports[find("async")].names[0].alias.as_deref(),
        Some("_")
    );
    // extern crate: a module import binding the alias.
    let heap = facts
        .imports
        .iter()
        .find(|import| import.kind == ImportKind::Module && import.names[0].name == "alloc")
        .expect("extern crate alloc as heap");
    assert_eq!(heap.names[0].bound_name(heap.kind), "heap");
    // Inherent methods, not trait-impl ones; the impl above the type is after it in order.
    let manager = facts
        .definitions
        .iter()
        .position(|d| d.name == "WebSocketManager")
        .expect("the struct");
    let DefKind::Class { methods, .. } = &facts.definitions[manager].kind else {
        panic!("a class");
    };
    assert_eq!(methods, &["new", "send_event", "create_manager"]);
    let children: Vec<&str> = facts.definitions[manager + 1..]
        .iter()
        .take_while(|d| d.parent == Some(manager as u32))
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(children, ["new", "send_event", "create_manager", "fmt"]);
    // Modules with their `#[path]`s; items of `mod tests` are conditional.
    let sys = facts
        .modules
        .iter()
        .find(|m| m.name == "sys")
        .expect("mod sys");
    assert_eq!(sys.paths, ["win.rs", "other.rs"]);
    let tests = facts
        .modules
        .iter()
        .find(|m| m.name == "tests")
        .expect("mod tests");
    let body = tests.body.expect("inline");
    let inside = facts
        .imports
        .iter()
        .find(|import| body.start <= import.span.start && import.span.end <= body.end)
        .expect("use super::* inside mod tests");
    assert!(inside.context.conditional);
    assert_eq!(inside.level, 1);
    // Two suppressions: the doc comment's is documentation.
    assert_eq!(facts.suppressions.len(), 2, "{:?}", facts.suppressions);
    assert_eq!(facts.suppressions[0].codes, ["SSOT001", "SSOT002"]);
}

#[test]
fn test_functions_and_string_paths() {
    let src = br#"//! See [`crate::a::B`], [text](c::D) and [`E`].
#[test]
fn t() {
    use crate::compat::Legacy;
}
/// [x][`f::G()`] and [`struct@h::I`]; not [a link](https://x.y/z).
#[cfg_attr(feature = "serde", serde(remote = "j::K", rename = "no path"))]
#[path = "l/m.rs"]
mod n;
"#;
    let facts = ssot_gardener::rust::collect(src);
    assert!(
        facts.imports[0].context.conditional,
        "a use in a #[test] fn"
    );
    let paths: Vec<(String, &str)> = facts
        .string_refs
        .iter()
        .map(|r| {
            (
                format!("{:?}", r.kind),
                std::str::from_utf8(&src[r.span.range()]).unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, &str)> = [
        ("DocLink", "crate::a::B"),
        ("DocLink", "c::D"),
        ("DocLink", "f::G"),
        ("DocLink", "h::I"),
        ("Attribute", "j::K"),
    ]
    .into_iter()
    .map(|(kind, path)| (kind.to_string(), path))
    .collect();
    assert_eq!(paths, expected);
    assert!(
        facts
            .string_refs
            .iter()
            .all(|r| r.value == std::str::from_utf8(&src[r.span.range()]).unwrap())
    );
}

#[test]
fn macro_bodies_that_parse_as_items() {
    let src = fs::read(fixture(&format!("{FIXTURES}/macros.rs"))).expect("fixture");
    let facts = rust::collect(&src);
    let modules: Vec<&str> = facts.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(modules, ["handle", "unix", "windows", "ptr"]);
    assert!(facts.modules[..3].iter().all(|m| m.context.conditional));
    let reexports: Vec<(&str, &str)> = facts
        .imports
        .iter()
        .enumerate()
        .filter(|(i, _)| facts.import_visibility_of(*i) == &Visibility::Public)
        .map(|(_, import)| (import.module.as_str(), import.names[0].name.as_str()))
        .collect();
    assert_eq!(
        reexports,
        [
            ("handle", "Handle"),
            ("self::unix", "Platform"),
            ("self::windows", "Platform")
        ]
    );
    let names: Vec<&str> = facts.definitions.iter().map(|d| d.name.as_str()).collect();
    assert!(names.contains(&"ServerId"), "{names:?}");
    assert!(names.contains(&"InFunction"), "{names:?}");
    assert!(
        !names.contains(&"Generated"),
        "quote! is a template: {names:?}"
    );
    assert!(
        !names.contains(&"NotSeen"),
        "macro_rules! is a template: {names:?}"
    );
    assert!(
        facts
            .imports
            .iter()
            .all(|import| import.module != "generated"),
        "quote! is a template"
    );
    let module_of = |name: &str| {
        facts
            .imports
            .iter()
            .find(|import| import.names.iter().any(|n| n.name == name))
            .map(|import| (import.module.as_str(), import.context.conditional))
    };
    assert_eq!(
        module_of("without_provenance_mut"),
        Some(("core::ptr", true)),
        "a use in a group nested in a macro body"
    );
    assert_eq!(module_of("AtomicU8"), Some(("core::sync::atomic", true)));
    assert_eq!(module_of("Ordering"), Some(("core::sync::atomic", true)));
}

#[test]
fn a_file_syn_rejects_keeps_its_other_items() {
    let src = fs::read(fixture(&format!("{FIXTURES}/rejected.rs"))).expect("fixture");
    let facts = rust::collect(&src);
    assert!(!facts.errors.is_empty(), "syn rejects this file");
    let leaves: Vec<String> = facts
        .imports
        .iter()
        .flat_map(|import| {
            import.names.iter().map(move |name| {
                format!(
                    "{}::{}{}",
                    import.module,
                    name.name,
                    name.alias
                        .as_ref()
                        .map(|a| format!(" as {a}"))
                        .unwrap_or_default()
                )
            })
        })
        .collect();
    for expected in [
        "std::collections::HashMap",
        "crate::events::Event",
        "crate::events::EventResult",
        "::Registry",
        "crate::events::Event as Reexported",
        "std::fmt::Write",
        "crate::events::Event as Public",
    ] {
        assert!(
            leaves.iter().any(|leaf| leaf == expected),
            "{expected} missing from {leaves:?}"
        );
    }
    let modules: Vec<&str> = facts.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(modules, ["broken", "after"]);
    // The items that parse are still definitions.
    let DefKind::Class { methods, .. } = &facts
        .definitions
        .iter()
        .find(|d| d.name == "Registry")
        .expect("struct Registry")
        .kind
    else {
        panic!("a class");
    };
    assert_eq!(methods, &["new"]);
}

#[test]
fn unreadable_bytes_still_give_their_imports() {
    // An unterminated string: its line is blanked and the rest is read.
    let src = fs::read(fixture(&format!("{FIXTURES}/unlexable.rs"))).expect("fixture");
    let facts = rust::collect(&src);
    let messages: Vec<&str> = facts.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(messages.contains(&"unterminated string"), "{messages:?}");
    let modules: Vec<&str> = facts.imports.iter().map(|i| i.module.as_str()).collect();
    assert_eq!(modules, ["a", "c"]);
    assert_eq!(facts.modules.len(), 2);

    // Invalid UTF-8 (and a shebang line): the bytes become spaces, offsets unchanged.
    let src =
        b"#!/usr/bin/env run-cargo-script\nuse a::B; // \xff\xfe\nfn \xc3(\n) {}\nuse c::D;\n";
    let facts = rust::collect(src);
    assert_eq!(facts.errors[0].message, "invalid UTF-8");
    let names: Vec<&str> = facts
        .imports
        .iter()
        .map(|i| i.names[0].name.as_str())
        .collect();
    assert_eq!(names, ["B", "D"]);
    assert_eq!(&src[facts.imports[1].span.range()], b"use c::D;");

    // Unclosed everywhere: eight repairs, then each line on its own.
    let mut src = String::from("use first::A;\n");
    for _ in 0..20 {
        src.push_str("fn f() { (\n");
    }
    src.push_str("use last::{B,\n C};\nmod m;\n");
    let facts = rust::collect(src.as_bytes());
    let modules: Vec<&str> = facts.imports.iter().map(|i| i.module.as_str()).collect();
    assert_eq!(modules, ["first"], "a multi-line use is lost line by line");
    assert_eq!(facts.modules.len(), 1);
    assert!(facts.errors.len() > 8);

    for src in [
        &b""[..],
        b"\xef\xbb\xbf",
        b"#!",
        b"/*",
        b"'",
        b"r#\"",
        b"\0",
        b"use",
        b"}",
    ] {
        let facts = rust::collect(src);
        assert!(check_invariants(Path::new("inline"), src, &facts).is_empty());
    }
}

/// Nesting that overflows a parser's stack: parsed on a big stack, or read line by line
/// (here on a thread with the 2 MiB default, like a walker thread).
#[test]
fn deep_nesting_never_overflows() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for (open, close, depth) in [
                ("Vec<", ">", 2_000),
                ("(", ")", 5_000),
                ("mod a { ", "}", 1_000),
                ("(", ")", 200_000),
                ("& ", "", 100_000),
            ] {
                let src = format!(
                    "use before::A;\nconst X: () = {}(){};\nuse after::B;\n",
                    open.repeat(depth),
                    close.repeat(depth)
                );
                let facts = rust::collect(src.as_bytes());
                let modules: Vec<&str> = facts.imports.iter().map(|i| i.module.as_str()).collect();
                assert_eq!(modules, ["before", "after"], "{open} x {depth}");
            }
        })
        .expect("spawn")
        .join()
        .expect("no overflow, no panic");
}

/// The `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(path),
                Ok(kind) if kind.is_file() && path.extension().is_some_and(|e| e == "rs") => {
                    files.push(path)
                }
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// The oracle: `use` leaves counted from proc-macro2 tokens, without syn and without the
/// collector's tree walk. After each `use` keyword (at any depth, outside `macro_rules!` and
/// `quote!`-like bodies) up to its `;`, a leaf is an identifier or `*` not followed by `::`,
/// not `as`, and not right after `as`. `None` when the file does not lex.
fn oracle_use_leaves(text: &str) -> Option<usize> {
    let text = match text.strip_prefix("#!") {
        Some(rest) if !rest.trim_start().starts_with('[') => {
            &text[text.find('\n').unwrap_or(text.len())..]
        }
        _ => text,
    };
    let tokens = TokenStream::from_str(text).ok()?;
    let mut count = 0;
    let mut stack: Vec<Vec<TokenTree>> = vec![tokens.into_iter().collect()];
    while let Some(trees) = stack.pop() {
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Ident(ident) if ident == "use" && !punct_at(&trees, i + 1, '<') => {
                    let end = (i + 1..trees.len())
                        .find(|&j| punct_at(&trees, j, ';'))
                        .unwrap_or(trees.len());
                    count += leaves_in(&trees[i + 1..end]);
                    i = end;
                }
                TokenTree::Ident(ident)
                    if [
                        "macro_rules",
                        "quote",
                        "quote_spanned",
                        "parse_quote",
                        "parse_quote_spanned",
                    ]
                    .iter()
                    .any(|name| ident == name)
                        && punct_at(&trees, i + 1, '!') =>
                {
                    // Skip the template: the next group (after the macro's name, if any).
                    i += 2;
                    while i < trees.len() && !matches!(trees[i], TokenTree::Group(_)) {
                        i += 1;
                    }
                }
                TokenTree::Group(group) => stack.push(group.stream().into_iter().collect()),
                _ => {}
            }
            i += 1;
        }
    }
    Some(count)
}

fn punct_at(trees: &[TokenTree], at: usize, ch: char) -> bool {
    matches!(trees.get(at), Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

/// Leaves of one use tree's tokens, groups included.
fn leaves_in(trees: &[TokenTree]) -> usize {
    let mut count = 0;
    for (k, tree) in trees.iter().enumerate() {
        let leaf = match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                count += leaves_in(&group.stream().into_iter().collect::<Vec<_>>());
                false
            }
            TokenTree::Ident(ident) => ident != "as",
            TokenTree::Punct(punct) => punct.as_char() == '*',
            _ => false,
        };
        let before_path = punct_at(trees, k + 1, ':');
        let after_as = k > 0 && matches!(&trees[k - 1], TokenTree::Ident(ident) if ident == "as");
        if leaf && !before_path && !after_as {
            count += 1;
        }
    }
    count
}

/// The first field of two files' facts that differs, for a readable failure.
fn first_difference(a: &FileFacts, b: &FileFacts) -> String {
    macro_rules! field {
        ($($name:ident),*) => {
            $(if a.$name != b.$name {
                return format!(
                    "{} differ: skimmed {:?} / whole {:?}",
                    stringify!($name),
                    a.$name,
                    b.$name
                );
            })*
        };
    }
    field!(
        imports,
        definitions,
        string_refs,
        modules,
        import_visibility,
        definition_visibility,
        errors
    );
    "other facts differ".to_string()
}

fn collector_use_leaves(facts: &FileFacts) -> usize {
    facts
        .imports
        .iter()
        .filter(|import| import.kind == ImportKind::From)
        .map(|import| import.names.len())
        .sum()
}

#[test]
fn oracle_counts_leaves() {
    let src =
        "use a::{b, c::D as E, self}; pub use ::f::*; use g as _; fn x() { use h::{i::{j, k}}; }";
    assert_eq!(oracle_use_leaves(src), Some(7));
    assert_eq!(collector_use_leaves(&rust::collect(src.as_bytes())), 7);
}

/// Every `.rs` file of the local cargo registry (real published crates) and of the fixtures:
/// no panic, spans sound, `use` leaves equal to the oracle's count. Without a registry the
/// fixtures alone are swept (and must still pass). Prints the speed and the files with
/// syntax errors.
#[test]
fn registry_sweep() {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let registry = home.map(|home| home.join("registry/src"));
    let mut files = rust_files(&fixture("fixtures/rust"));
    let fixtures = files.len();
    if let Some(registry) = registry.filter(|dir| dir.is_dir()) {
        // syn is ten times slower unoptimised: a debug build sweeps every eighth file.
        let step = if cfg!(debug_assertions) { 8 } else { 1 };
        files.extend(rust_files(&registry).into_iter().step_by(step));
    }
    assert!(fixtures >= 4);
    let texts: Vec<(PathBuf, Vec<u8>)> = files
        .into_iter()
        .filter_map(|path| fs::read(&path).ok().map(|text| (path, text)))
        .collect();
    let bytes: usize = texts.iter().map(|(_, text)| text.len()).sum();
    let started = Instant::now();
    let results: Vec<(FileFacts, Vec<String>)> = texts
        .par_iter()
        .map(|(path, src)| {
            let facts = rust::collect(src);
            let problems = check_invariants(path, src, &facts);
            (facts, problems)
        })
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    // The skim (blanking the blocks the collector never reads) against the whole parse.
    let started = Instant::now();
    let reference: Vec<FileFacts> = texts
        .par_iter()
        .map(|(_, src)| rust::collect_unskimmed(src))
        .collect();
    let unskimmed = started.elapsed().as_secs_f64();
    let (mut skim_changed, mut skim_more_links) = (Vec::new(), Vec::new());
    let pairs = results.iter().map(|(facts, _)| facts).zip(&reference);
    for ((path, _), (skimmed, whole)) in texts.iter().zip(pairs) {
        let mut same = skimmed.clone();
        same.string_refs.clone_from(&whole.string_refs);
        if same != *whole {
            skim_changed.push(format!(
                "{}: {}",
                path.display(),
                first_difference(skimmed, whole)
            ));
        } else if skimmed.string_refs != whole.string_refs {
            // Doc links read from the text where syn keeps the tokens opaque (the docs of a
            // body-less `fn` in a crate's `Item::Verbatim`) are more, never fewer or other.
            let all_kept = whole
                .string_refs
                .iter()
                .all(|r| skimmed.string_refs.contains(r));
            let extra_docs = skimmed
                .string_refs
                .iter()
                .all(|r| whole.string_refs.contains(r) || r.kind == StringRefKind::DocLink);
            if all_kept && extra_docs {
                skim_more_links.push(path.display().to_string());
            } else {
                skim_changed.push(format!(
                    "{}: {}",
                    path.display(),
                    first_difference(skimmed, whole)
                ));
            }
        }
    }
    eprintln!(
        "skim: {elapsed:.2}s against {unskimmed:.2}s unskimmed; {} files differ, {} with more \
         doc links",
        skim_changed.len(),
        skim_more_links.len()
    );
    for line in &skim_more_links {
        eprintln!("  more doc links {line}");
    }
    assert!(
        skim_changed.is_empty(),
        "the skim changed facts:\n{}",
        skim_changed.join("\n")
    );
    // The fast path against the syn path it stands in for, on every file it reads.
    let started = Instant::now();
    let slow: Vec<Option<FileFacts>> = texts
        .par_iter()
        .map(|(_, src)| rust::reads_fast(src).then(|| rust::collect_slow(src)))
        .collect();
    let slow_elapsed = started.elapsed().as_secs_f64();
    let mut fast_differs = Vec::new();
    let (mut fast_files, mut fast_bytes) = (0, 0);
    for (((path, src), (facts, _)), slow) in texts.iter().zip(&results).zip(&slow) {
        if let Some(slow) = slow {
            fast_files += 1;
            fast_bytes += src.len();
            if facts != slow {
                fast_differs.push(format!(
                    "{}: {}",
                    path.display(),
                    first_difference(facts, slow)
                ));
            }
        }
    }
    eprintln!(
        "fast path: {fast_files} of {} files ({:.0}% of the bytes) read without syn, {} differ \
         from the syn path (which took {slow_elapsed:.2}s over them)",
        texts.len(),
        100.0 * fast_bytes as f64 / bytes.max(1) as f64,
        fast_differs.len()
    );
    assert!(
        fast_differs.is_empty(),
        "the fast path's facts differ from the syn path's:\n{}",
        fast_differs.join("\n")
    );
    // The fast path is the one most real code takes (83% of this machine's registry files,
    // 79% of the bytes): a change that made it give up everywhere would pass the check above.
    if texts.len() > 1_000 {
        assert!(
            fast_bytes * 2 > bytes,
            "the fast path read only {fast_bytes} of {bytes} bytes"
        );
    }
    let mut problems = Vec::new();
    let mut rejected = Vec::new();
    let mut mismatched = Vec::new();
    let (mut leaves, mut oracle_leaves) = (0, 0);
    for ((path, src), (facts, file_problems)) in texts.iter().zip(&results) {
        problems.extend(file_problems.iter().cloned());
        if !facts.errors.is_empty() {
            rejected.push(format!("{}: {}", path.display(), facts.errors[0].message));
        }
        let Some(expected) = std::str::from_utf8(src).ok().and_then(oracle_use_leaves) else {
            continue;
        };
        let found = collector_use_leaves(facts);
        leaves += found;
        oracle_leaves += expected;
        if found != expected {
            mismatched.push(format!(
                "{}: {found} leaves, oracle {expected}",
                path.display()
            ));
        }
    }
    eprintln!(
        "rust_collect sweep: {} files, {:.1} MB in {elapsed:.2}s ({:.0} files/s, {:.1} MB/s on \
         {} threads); {} with syntax errors; {leaves} use leaves, oracle {oracle_leaves}",
        texts.len(),
        bytes as f64 / 1e6,
        texts.len() as f64 / elapsed,
        bytes as f64 / 1e6 / elapsed,
        rayon::current_num_threads(),
        rejected.len(),
    );
    for line in &rejected {
        eprintln!("  rejected {line}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        mismatched.is_empty(),
        "{} files:\n{}",
        mismatched.len(),
        mismatched.join("\n")
    );
}

/// Real files broken on purpose (cut short, or with a delimiter, quote, comment opener,
/// attribute or macro bang put in), through `collect`: the fast path and the syn path it
/// hands a file back to never panic, and every span stays inside the file on character
/// boundaries. Deterministic: the same cuts and insertions every run.
#[test]
fn broken_real_files_never_panic() {
    let mut files = rust_files(&fixture("fixtures/rust"));
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    if let Some(registry) = home
        .map(|home| home.join("registry/src"))
        .filter(|d| d.is_dir())
    {
        files.extend(rust_files(&registry).into_iter().step_by(40));
    }
    let texts: Vec<(PathBuf, Vec<u8>)> = files
        .into_iter()
        .filter_map(|path| fs::read(&path).ok().map(|text| (path, text)))
        .filter(|(_, text)| text.len() < 200_000)
        .collect();
    const INSERTS: &[&[u8]] = &[
        b"{",
        b"}",
        b"(",
        b")",
        b"[",
        b"]",
        b"\"",
        b"'",
        b"/*",
        b"*/",
        b"//",
        b"///",
        b"#[",
        b"#![cfg(x)]",
        b"!",
        b"$",
        b"r#\"",
        b"b'",
        b"::",
        b"<",
        b">",
        b"fn",
        b"use",
        b"mod x;",
        b"m! {",
        b"cfg_if! { if #[cfg(x)] {",
        b"\\",
        b"`",
        "é".as_bytes(),
        b"\0",
    ];
    let problems: Vec<String> = texts
        .par_iter()
        .enumerate()
        .flat_map_iter(|(n, (path, src))| {
            // A small xorshift from the file's index: the same positions every run.
            let mut seed = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let mut broken: Vec<(String, Vec<u8>)> = Vec::new();
            for _ in 0..6 {
                let at = (next() as usize) % (src.len() + 1);
                broken.push((format!("cut at {at}"), src[..at].to_vec()));
                let insert = INSERTS[(next() as usize) % INSERTS.len()];
                let mut text = src.clone();
                text.splice(at..at, insert.iter().copied());
                let what = format!("{:?} put in at {at}", String::from_utf8_lossy(insert));
                broken.push((what, text));
            }
            broken
                .into_iter()
                .flat_map(|(what, text)| {
                    let facts = rust::collect(&text);
                    let problems = check_invariants(path, &text, &facts);
                    problems
                        .into_iter()
                        .map(move |problem| format!("{problem} ({what})"))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(texts.len() >= 4);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
