//! SSOT007 string-reference: a dotted string (`mock.patch`, `importlib.import_module`,
//! `sys.modules`, a list of module paths) naming a non-canonical path of the concept.

use std::collections::HashMap;

use super::{Applicability, Context, Edit, Finding, Fix, Rule};
use crate::concept::{ConceptTable, Reason};
use crate::facts::{Scope, Span, StringRefKind};
use crate::graph::Origin;
use crate::walk::Language;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    let shims: HashMap<&str, &crate::concept::Shim> = table
        .shims
        .iter()
        .filter_map(|shim| Some((cx.graph.modules[shim.module].name.as_deref()?, shim)))
        .collect();
    let duplicates: HashMap<String, (&str, usize, usize)> = table
        .implementations
        .iter()
        .filter(|implementation| !matches!(implementation.reason, Reason::Alias(_)))
        .filter_map(|implementation| {
            let module = cx.graph.modules[implementation.module].name.as_deref()?;
            let definition =
                &cx.graph.facts(implementation.module).definitions[implementation.definition];
            (definition.context.scope == Scope::Module).then(|| {
                (
                    format!("{module}.{}", definition.name),
                    (module, implementation.module, implementation.definition),
                )
            })
        })
        .collect();
    let mut rust_duplicates = None;
    for (module_index, module) in cx.graph.modules.iter().enumerate() {
        let facts = &cx.graph.files[module.file].facts;
        if cx.graph.files[module.file].language == Language::Rust {
            if !facts.string_refs.is_empty() {
                let duplicates = rust_duplicates
                    .get_or_insert_with(|| super::duplicate_import::duplicate_origins(cx, table));
                rust_strings(cx, table, module_index, duplicates, &canonical_note, out);
            }
            continue;
        }
        for (reference, verdict) in facts.string_refs.iter().zip(&module.string_resolutions) {
            let value = reference.value.as_str();
            if value == concept.canonical || concept.public.iter().any(|path| path == value) {
                continue;
            }
            // Any other dotted string (a logger name, a module list, a mypy full name) is
            // not an import: it counts only when it names a class path, not a bare module.
            let other = reference.kind == StringRefKind::Other;
            if other && shims.contains_key(value) {
                continue;
            }
            let (message, label) = if let Some(shim) = shims.get(value) {
                // Strings inside the shim itself (its own `__all__`-like lists) are its business.
                if shim.module == module_index {
                    continue;
                }
                (
                    format!(
                        "string names the compat shim `{value}` of `{}`",
                        concept.name
                    ),
                    "compat shim module",
                )
            } else if duplicates.contains_key(value) {
                (
                    format!(
                        "string names `{value}`, a duplicate implementation of `{}`",
                        concept.name
                    ),
                    "duplicate implementation",
                )
            } else if verdict.origins().contains(&table.origin)
                && through_reexport(cx, table, value)
            {
                (
                    format!(
                        "string names `{}` through `{value}` instead of its canonical path",
                        concept.name
                    ),
                    "not the canonical path",
                )
            } else {
                continue;
            };
            let mut finding = cx.finding(
                Rule::StringReference,
                Some(table.concept),
                module_index,
                reference.span,
            );
            finding.symbol = value.to_string();
            finding.message = message;
            finding.label = label.to_string();
            let target = if shims.contains_key(value) {
                cx.graph.modules[table.canonical_module]
                    .name
                    .clone()
                    .unwrap_or_default()
            } else {
                concept.canonical.clone()
            };
            finding.help = Some(match reference.kind {
                StringRefKind::Patch | StringRefKind::PatchObject => format!(
                    "patch `{target}` (or where the code under test looks the name up): patching another path leaves the real object in place"
                ),
                _ => format!("use `{target}`"),
            });
            // Unsafe: the code may rely on the old path (a patch of where a name is looked
            // up, a plugin list).
            let lacking = duplicates
                .get(value)
                .map(|&(_, module, definition)| lacking(cx, table, module, definition))
                .unwrap_or_default();
            let edit = if reference.kind == StringRefKind::PatchObject {
                Err("`patch.object` takes an expression, not a string".to_string())
            } else if other {
                Err(
                    "the string is not an import or patch target, so it is never rewritten"
                        .to_string(),
                )
            } else if !lacking.is_empty() {
                Err(format!(
                    "the canonical `{}` lacks {} that the class it names has",
                    table.canonical_name,
                    super::quoted_list(&lacking)
                ))
            } else {
                let file = &cx.graph.files[module.file];
                string_contents(file.text(), reference.span, &target)
                    .ok_or_else(|| "the string has a prefix or an escape".to_string())
            };
            match edit {
                Ok(edit) => {
                    finding.fix = Some(Fix::new(Applicability::Unsafe, vec![edit]));
                }
                Err(why) => {
                    if let Some(help) = &mut finding.help {
                        help.push_str(&format!(" (no automatic fix: {why})"));
                    }
                }
            }
            finding.notes.push(canonical_note.clone());
            out.push(finding);
        }
    }
}

/// Replaces the contents of a plain (or raw) string literal, keeping its prefix and quotes.
fn string_contents(text: &[u8], span: Span, new: &str) -> Option<Edit> {
    let literal = &text[span.range()];
    let quote_at = literal.iter().position(|&b| b == b'"' || b == b'\'')?;
    let prefix = &literal[..quote_at];
    if !prefix
        .iter()
        .all(|b| matches!(b, b'r' | b'R' | b'u' | b'U'))
    {
        return None;
    }
    let quote = literal[quote_at];
    let width = if literal[quote_at..].starts_with(&[quote; 3]) {
        3
    } else {
        1
    };
    let start = quote_at + width;
    let end = literal.len().checked_sub(width)?;
    if end < start || literal[start..end].contains(&b'\\') {
        return None;
    }
    Some(Edit {
        span: Span::new(span.start as usize + start, span.start as usize + end),
        content: new.to_string(),
    })
}

/// `shim.Name` or `defining_module.Name`: a path to the concept through a module that only
/// re-exports it, or that defines it under another name than the canonical one. Not
/// `user.Name`, where `user` imports the class for its own use: patching there is the
/// "patch where it is looked up" idiom, and right.
fn through_reexport(cx: &Context, table: &ConceptTable, value: &str) -> bool {
    let Some((head, _)) = value.rsplit_once('.') else {
        return false;
    };
    let Some(&module) = cx.graph.by_name.get(head) else {
        return false;
    };
    table.shims.iter().any(|shim| shim.module == module)
        || table
            .origin_site
            .is_some_and(|(origin, _)| origin == module && origin != table.canonical_module)
}

/// The public methods of the class at `(module, definition)` that the canonical class lacks.
fn lacking(cx: &Context, table: &ConceptTable, module: usize, definition: usize) -> Vec<String> {
    crate::concept::class_interface(cx.graph, &mut cx.graph.query(), module, definition)
        .into_keys()
        .filter(|method| !table.interface.contains_key(method))
        .collect()
}

/// The paths written in a Rust module's strings (attribute values, intra-doc links) that name
/// a duplicate, or the concept through another path than the canonical one: the same
/// judgement as a `use` of that path (SSOT002, SSOT003). A doc link's rewrite is safe (it
/// changes no code); an attribute's is not: a derive macro reads the string.
fn rust_strings(
    cx: &Context,
    table: &ConceptTable,
    module_index: usize,
    duplicates: &HashMap<Origin, (usize, usize)>,
    canonical_note: &str,
    out: &mut Vec<Finding>,
) {
    let graph = cx.graph;
    let concept = &cx.settings.concepts[table.concept];
    let module = &graph.modules[module_index];
    let file = &graph.files[module.file];
    let index = &graph.rust;
    let (canonical_module, _) = concept
        .canonical
        .rsplit_once("::")
        .unwrap_or(("", concept.canonical.as_str()));
    for (reference, verdict) in file
        .facts
        .string_refs
        .iter()
        .zip(&module.string_resolutions)
    {
        let value = reference.value.as_str();
        let origins = verdict.origins();
        let duplicate = origins
            .iter()
            .find_map(|origin| duplicates.get(origin).map(|&site| (origin, site)));
        let through = index
            .string_target(module.file, reference.span)
            .flatten()
            .unwrap_or_else(|| {
                value
                    .rsplit_once("::")
                    .map_or("", |(prefix, _)| prefix)
                    .to_string()
            });
        // A doc link through a public re-export documents the public API (it is what a
        // reader of the docs writes): only one through a crate-private alias, or naming a
        // duplicate, is reported.
        let private_alias = table.shims.iter().any(|shim| {
            !shim.public && graph.modules[shim.module].name.as_deref() == Some(through.as_str())
        });
        let (message, label) = if let Some((origin, _)) = duplicate {
            if origin.module == through && module.name.as_deref() == Some(origin.module.as_str()) {
                // The defining module naming its own type.
                continue;
            }
            (
                format!(
                    "string names `{value}`, a duplicate implementation of `{}`",
                    concept.name
                ),
                "duplicate implementation",
            )
        } else if origins.contains(&table.origin)
            && value != concept.canonical
            && !concept.public.iter().any(|path| {
                path == value
                    || path.rsplit_once("::")
                        == Some((through.as_str(), table.canonical_name.as_str()))
            })
            && through != canonical_module
            && (reference.kind != StringRefKind::DocLink || private_alias)
            && crate::concept::rust_reaches(graph, canonical_module, module_index, reference.span)
        {
            (
                format!(
                    "string names `{}` through `{through}` instead of `{canonical_module}`",
                    table.canonical_name
                ),
                "not the canonical path",
            )
        } else {
            continue;
        };
        let mut finding = cx.finding(
            Rule::StringReference,
            Some(table.concept),
            module_index,
            reference.span,
        );
        finding.symbol = value.to_string();
        finding.message = message;
        finding.label = label.to_string();
        let spelled = super::indirect_import::rust_spelling(cx, table, module.file, reference.span);
        let lacking = duplicate
            .map(|(_, (module, definition))| lacking(cx, table, module, definition))
            .unwrap_or_default();
        let edit = spelled.clone().and_then(|path| {
            if lacking.is_empty() {
                Ok(path)
            } else {
                Err(format!(
                    "the canonical `{}` lacks {} that the type it names has",
                    table.canonical_name,
                    super::quoted_list(&lacking)
                ))
            }
        });
        let what = if reference.kind == StringRefKind::DocLink {
            "link to"
        } else {
            "name"
        };
        finding.help = Some(match (&spelled, &edit) {
            (Ok(path), Ok(_)) => format!("{what} `{path}`"),
            (Ok(path), Err(why)) => format!("{what} `{path}` (no automatic fix: {why})"),
            (Err(why), _) => format!("{what} the canonical path (no automatic fix: {why})"),
        });
        finding.fix = edit.ok().map(|path| Fix {
            applicability: if reference.kind == StringRefKind::DocLink && duplicate.is_none() {
                Applicability::Safe
            } else {
                Applicability::Unsafe
            },
            edits: vec![Edit {
                span: reference.span,
                content: path,
            }],
            moved: None,
        });
        finding.notes.push(canonical_note.to_string());
        out.push(finding);
    }
}
