//! SSOT005 compat-shim: a non-canonical module that re-exports the concept.

use super::{Context, Finding, Rule, plural, quoted_list};
use crate::concept::{ConceptTable, ShimSite};
use crate::facts::LineIndex;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    for shim in &table.shims {
        let facts = cx.graph.facts(shim.module);
        let span = match shim.site {
            ShimSite::Import(import) => facts.imports[import].span,
            ShimSite::Definition(definition) => facts.definitions[definition].span,
        };
        let module = &cx.graph.modules[shim.module];
        let mut finding = cx.finding(Rule::CompatShim, Some(table.concept), shim.module, span);
        finding.symbol = module.name.clone().unwrap_or_default();
        let kind = if module.is_package {
            "package `__init__`"
        } else {
            "module"
        };
        finding.message = format!(
            "{kind} `{}` re-exports `{}` as {}{}",
            module.name.as_deref().unwrap_or_default(),
            concept.name,
            quoted_list(&public_names(&shim.names)),
            if shim.public { " (public API)" } else { "" }
        );
        finding.label = if shim.public {
            "public re-export of the canonical object".to_string()
        } else {
            "re-export of the canonical object".to_string()
        };
        let users = shim.importers.len() + shim.strings.len();
        finding.help = Some(if shim.public {
            // Public API: downstream code imports it; only the repository's own users move.
            format!(
                "it is public API ({}), so keep it; {} inside the repository still {} through it ({}): point {} at `{}`",
                match (&facts.exports, module.is_package) {
                    _ if cx.graph.files[module.file].language == crate::walk::Language::Rust => {
                        "a `pub use`"
                    }
                    (Some(exports), true)
                        if exports.names.iter().any(|name| shim.names.contains(name)) =>
                    {
                        "listed in `__all__` of a package `__init__`"
                    }
                    (None, true) => "a public name of a package `__init__` without `__all__`",
                    _ => "the `X as X` re-export form",
                },
                parts(shim),
                if users == 1 { "goes" } else { "go" },
                users_list(cx, shim),
                if users == 1 { "it" } else { "them" },
                concept.canonical
            )
        } else if users == 0 {
            "no importers left, safe to delete".to_string()
        } else {
            let (verb, them) = if users == 1 {
                ("goes", "it")
            } else {
                ("go", "them")
            };
            format!(
                "{} still {verb} through it ({}): point {them} at `{}`, then delete the re-export",
                parts(shim),
                users_list(cx, shim),
                concept.canonical
            )
        });
        finding.notes.push(canonical_note.clone());
        out.push(finding);
    }
}

/// "2 imports and 1 string reference".
fn parts(shim: &crate::concept::Shim) -> String {
    let mut parts = Vec::new();
    if !shim.importers.is_empty() {
        parts.push(plural(shim.importers.len(), "import"));
    }
    if !shim.strings.is_empty() {
        parts.push(plural(shim.strings.len(), "string reference"));
    }
    parts.join(" and ")
}

/// The names others can use: private ones only when there is nothing else.
fn public_names(names: &[String]) -> Vec<&String> {
    let public: Vec<&String> = names.iter().filter(|n| !n.starts_with('_')).collect();
    if public.is_empty() {
        names.iter().collect()
    } else {
        public
    }
}

/// `a.py:3, b.py:10`, at most five, then "and N more".
fn users_list(cx: &Context, shim: &crate::concept::Shim) -> String {
    let mut places: Vec<(String, u32)> = Vec::new();
    // One line index per file: a shim may have thousands of importers in one file.
    let mut lines: std::collections::HashMap<usize, LineIndex> = std::collections::HashMap::new();
    let mut place = |module: usize, span: crate::facts::Span| {
        let index = cx.graph.modules[module].file;
        let file = &cx.graph.files[index];
        let line = lines
            .entry(index)
            .or_insert_with(|| LineIndex::new(file.text()))
            .line(span.start);
        places.push((file.path.clone(), line));
    };
    for &(module, import) in &shim.importers {
        place(module, cx.graph.facts(module).imports[import].span);
    }
    for &(module, string) in &shim.strings {
        place(module, cx.graph.facts(module).string_refs[string].span);
    }
    places.sort();
    let shown: Vec<String> = places
        .iter()
        .take(5)
        .map(|(path, line)| format!("{path}:{line}"))
        .collect();
    let mut text = shown.join(", ");
    if places.len() > 5 {
        text.push_str(&format!(" and {} more", places.len() - 5));
    }
    text
}
