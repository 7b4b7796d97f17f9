//! SSOT003 duplicate-import: an import of a non-canonical implementation of the concept.

use std::collections::{HashMap, HashSet};

use super::indirect_import::RustRewrite;
use super::{Applicability, Context, Finding, Fix, Rule};
use crate::concept::{self, ConceptTable, Reason};
use crate::facts::{DefKind, Scope};
use crate::graph::{Origin, OriginKind};
use crate::python::edit;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    let duplicates = duplicate_origins(cx, table);
    let mut query = cx.graph.query();
    let first_party =
        edit::FirstParty::new(cx.graph.modules.iter().filter_map(|m| m.name.as_deref()));
    // What each duplicate has that the canonical class lacks: binding the canonical class in
    // its place would break the calls of those methods, so no fix is offered.
    let mut lacking: HashMap<Origin, Vec<String>> = HashMap::new();
    if duplicates.is_empty() {
        return;
    }
    let canonical_module = cx.graph.modules[table.canonical_module]
        .name
        .as_deref()
        .unwrap_or_default();
    // A cheap test first: most imported names are not one of the duplicates' names.
    let symbols: HashSet<&str> = duplicates
        .keys()
        .filter_map(|origin| origin.symbol.as_deref())
        .collect();
    for (module_index, module) in cx.graph.modules.iter().enumerate() {
        let facts = &cx.graph.files[module.file].facts;
        for (import_index, (import, verdicts)) in
            facts.imports.iter().zip(&module.resolutions).enumerate()
        {
            let hits: Vec<(usize, &Origin)> = import
                .names
                .iter()
                .zip(verdicts)
                .enumerate()
                .filter_map(|(index, (_, verdict))| {
                    let duplicate = verdict
                        .origins()
                        .iter()
                        .filter(|origin| {
                            origin
                                .symbol
                                .as_deref()
                                .is_some_and(|symbol| symbols.contains(symbol))
                        })
                        .find(|origin| duplicates.contains_key(origin))?;
                    // The module that defines the duplicate does not import it.
                    (module.name.as_deref() != Some(duplicate.module.as_str()))
                        .then_some((index, duplicate))
                })
                .collect();
            if hits.is_empty() {
                continue;
            }
            let moving: Vec<usize> = hits.iter().map(|(index, _)| *index).collect();
            let missing: Vec<String> = hits
                .iter()
                .flat_map(|(_, duplicate)| {
                    lacking
                        .entry((*duplicate).clone())
                        .or_insert_with(|| {
                            let (module, definition) = duplicates[*duplicate];
                            // A subclass exists to change the class (its methods, its class
                            // attributes): the base in its place is never the same.
                            let facts = cx.graph.facts(module);
                            if let DefKind::Class { bases, .. } =
                                &facts.definitions[definition].kind
                                && let Some(base) = bases.iter().find(|base| {
                                    concept::base_origins(cx.graph, &mut query, module, base)
                                        .contains(&table.origin)
                                })
                            {
                                return vec![format!("what the subclass of `{base}` overrides")];
                            }
                            concept::class_interface(cx.graph, &mut query, module, definition)
                                .into_keys()
                                .filter(|method| !table.interface.contains_key(method))
                                .map(|method| format!("`{method}`"))
                                .collect()
                        })
                        .clone()
                })
                .collect();
            let cycle = (import.context.scope != Scope::Function && !import.context.type_checking)
                .then(|| table.canonical_closure.chain(module_index))
                .flatten();
            let rust = cx.graph.files[module.file].language == crate::walk::Language::Rust;
            if rust {
                for &(name_index, duplicate) in &hits {
                    out.push(rust_site(
                        cx,
                        table,
                        (module_index, import_index, name_index),
                        duplicate,
                        &missing,
                        &canonical_note,
                    ));
                }
                continue;
            }
            let fix = if !missing.is_empty() {
                Err(format!(
                    "the canonical `{}` lacks {} that this class has",
                    table.canonical_name,
                    missing.join(", ")
                ))
            } else if let Some(chain) = cycle {
                Err(format!(
                    "importing from `{canonical_module}` here would be an import cycle ({})",
                    super::indirect_import::chain_text(cx.graph, &chain)
                ))
            } else {
                edit::move_names(
                    cx.graph.files[module.file].text(),
                    facts,
                    import_index,
                    &moving,
                    canonical_module,
                    &table.canonical_name,
                    false,
                    &first_party,
                )
                .map_err(str::to_string)
            };
            for &(name_index, duplicate) in &hits {
                let name = &import.names[name_index];
                let mut finding = cx.finding(
                    Rule::DuplicateImport,
                    Some(table.concept),
                    module_index,
                    import.span,
                );
                finding.symbol = name.name.clone();
                finding.message = format!(
                    "`{}` imported from `{}`, a duplicate implementation of `{}`",
                    name.name, duplicate.module, concept.name
                );
                finding.label = "not the canonical class".to_string();
                let local = name.bound_name(import.kind);
                let statement = if local == table.canonical_name {
                    format!("from {canonical_module} import {}", table.canonical_name)
                } else {
                    format!(
                        "from {canonical_module} import {} as {local}",
                        table.canonical_name
                    )
                };
                finding.help = Some(match &fix {
                    Ok(_) => format!(
                        "use the canonical class: `{statement}` (check the behaviour: it is another class)"
                    ),
                    Err(why) => format!(
                        "use the canonical class: `{statement}` (check the behaviour: it is another class; no automatic fix: {why})"
                    ),
                });
                // Unsafe: the canonical class is another class, with its own behaviour.
                finding.fix = fix
                    .as_ref()
                    .ok()
                    .map(|edits| Fix::new(Applicability::Unsafe, edits.clone()));
                finding.notes.push(canonical_note.clone());
                out.push(finding);
            }
        }
    }
}

/// A Rust `use` leaf of a duplicate: an unsafe rewrite to the canonical path as the importing
/// crate spells it, keeping the local name.
fn rust_site(
    cx: &Context,
    table: &ConceptTable,
    (module, import, name): (usize, usize, usize),
    duplicate: &Origin,
    missing: &[String],
    canonical_note: &str,
) -> Finding {
    let concept = &cx.settings.concepts[table.concept];
    let statement = &cx.graph.facts(module).imports[import];
    let leaf = &statement.names[name];
    let local = leaf.bound_name(statement.kind);
    let mut finding = cx.finding(
        Rule::DuplicateImport,
        Some(table.concept),
        module,
        statement.span,
    );
    finding.symbol = leaf.name.clone();
    finding.message = format!(
        "`{}` imported from `{}`, a duplicate implementation of `{}`",
        leaf.name, duplicate.module, concept.name
    );
    finding.label = "not the canonical type".to_string();
    let RustRewrite { spelled, fix } =
        super::indirect_import::rust_rewrite(cx, table, module, import, name);
    let fix = if missing.is_empty() {
        fix
    } else {
        Err(format!(
            "the canonical `{}` lacks {} that this type has",
            table.canonical_name,
            missing.join(", ")
        ))
    };
    finding.help = Some(match (&spelled, &fix) {
        (Ok(path), Ok(_)) => format!(
            "use the canonical type: `{}` (check the behaviour: it is another type)",
            RustRewrite::statement(path, local)
        ),
        (Ok(path), Err(why)) => format!(
            "use the canonical type: `{}` (check the behaviour: it is another type; no automatic fix: {why})",
            RustRewrite::statement(path, local)
        ),
        (Err(why), _) => format!("use the canonical type (no automatic fix: {why})"),
    });
    finding.fix = fix.ok().map(|edits| Fix::new(Applicability::Unsafe, edits));
    finding.notes.push(canonical_note.to_string());
    finding
}

/// The module-level implementations, as the origins an import (or a Rust string path) can
/// resolve to, with their `(module, definition)`.
pub(super) fn duplicate_origins(
    cx: &Context,
    table: &ConceptTable,
) -> HashMap<Origin, (usize, usize)> {
    table
        .implementations
        .iter()
        .filter(|implementation| !matches!(implementation.reason, Reason::Alias(_)))
        .filter_map(|implementation| {
            let module = cx.graph.modules[implementation.module].name.clone()?;
            let definition =
                &cx.graph.facts(implementation.module).definitions[implementation.definition];
            (definition.context.scope == Scope::Module).then(|| {
                (
                    Origin {
                        module,
                        symbol: Some(definition.name.clone()),
                        kind: OriginKind::Class,
                    },
                    (implementation.module, implementation.definition),
                )
            })
        })
        .collect()
}
