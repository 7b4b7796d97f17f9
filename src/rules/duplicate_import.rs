//! SSOT003 duplicate-import: an import of a non-canonical implementation of the concept.

use std::collections::HashSet;

use super::{Applicability, Context, Finding, Fix, Rule};
use crate::concept::{ConceptTable, Reason};
use crate::facts::Scope;
use crate::graph::{Origin, OriginKind};
use crate::python::edit;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    // The module-level implementations, as origins an import can resolve to.
    let duplicates: HashSet<Origin> = table
        .implementations
        .iter()
        .filter(|implementation| !matches!(implementation.reason, Reason::Alias(_)))
        .filter_map(|implementation| {
            let module = cx.graph.modules[implementation.module].name.clone()?;
            let definition =
                &cx.graph.facts(implementation.module).definitions[implementation.definition];
            (definition.context.scope == Scope::Module).then(|| Origin {
                module,
                symbol: Some(definition.name.clone()),
                kind: OriginKind::Class,
            })
        })
        .collect();
    if duplicates.is_empty() {
        return;
    }
    let canonical_module = cx.graph.modules[table.canonical_module]
        .name
        .as_deref()
        .unwrap_or_default();
    // A cheap test first: most imported names are not one of the duplicates' names.
    let symbols: HashSet<&str> = duplicates
        .iter()
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
                        .find(|origin| duplicates.contains(origin))?;
                    // The module that defines the duplicate does not import it.
                    (module.name.as_deref() != Some(duplicate.module.as_str()))
                        .then_some((index, duplicate))
                })
                .collect();
            if hits.is_empty() {
                continue;
            }
            let moving: Vec<usize> = hits.iter().map(|(index, _)| *index).collect();
            let fix = edit::move_names(
                &cx.graph.files[module.file].text,
                facts,
                import_index,
                &moving,
                canonical_module,
                &table.canonical_name,
                false,
            );
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
                finding.fix = fix.as_ref().ok().map(|edits| Fix {
                    applicability: Applicability::Unsafe,
                    edits: edits.clone(),
                });
                finding.notes.push(canonical_note.clone());
                out.push(finding);
            }
        }
    }
}
