//! SSOT008 direct-instantiation: the canonical class constructed outside the allowed
//! factories, bypassing the one accessor.

use super::{Context, Finding, Rule};
use crate::concept::{ConceptTable, is_allowed, is_test_path};
use crate::facts::ImportKind;
use crate::graph::OriginKind;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    for (module_index, module) in cx.graph.modules.iter().enumerate() {
        let file = &cx.graph.files[module.file];
        // Tests construct what they test; doubles are SSOT001's business. The canonical
        // and the defining module build their own class (an accessor, a bootstrap).
        if file.facts.calls.is_empty()
            || !table
                .names
                .iter()
                .any(|name| file.facts.may_name_dotted(name))
            || is_test_path(&file.path)
            || module_index == table.canonical_module
            || table
                .origin_site
                .is_some_and(|(origin, _)| origin == module_index)
        {
            continue;
        }
        let text = file.read();
        for call in &file.facts.calls {
            // Most calls name something else: compare the last name's bytes before anything
            // is decoded or allocated.
            let bytes = &text[call.callee.range()];
            let last_start = memchr::memrchr(b'.', bytes).map_or(0, |dot| dot + 1);
            let last_name = bytes[last_start..].trim_ascii();
            if !table.names.iter().any(|name| name.as_bytes() == last_name) {
                continue;
            }
            let Ok(callee) = std::str::from_utf8(bytes) else {
                continue;
            };
            let callee: String = callee.split_whitespace().collect();
            let (head, last) = match callee.rsplit_once('.') {
                Some((head, last)) => (Some(head), last),
                None => (None, callee.as_str()),
            };
            if !table.names.contains(last) {
                continue;
            }
            let constructs = match head {
                None => binds_origin(cx, table, module_index, last),
                Some(head) => module_of(cx, module_index, head)
                    .is_some_and(|target| table.bindings.contains(&(target, last.to_string()))),
            };
            if !constructs {
                continue;
            }
            if call.enclosing.is_some_and(|enclosing| {
                is_allowed(cx.graph, table, module_index, enclosing as usize)
            }) {
                continue;
            }
            let mut finding = cx.finding(
                Rule::DirectInstantiation,
                Some(table.concept),
                module_index,
                call.callee,
            );
            finding.symbol = callee.clone();
            finding.message = format!(
                "`{callee}(...)` constructs the canonical `{}` outside `allowed-factories`",
                table.canonical_name
            );
            finding.label = "direct construction".to_string();
            finding.help = Some(match concept.allowed_factories.first() {
                Some(accessor) => format!("get the shared instance from `{accessor}()`"),
                None => format!(
                    "construct `{}` in one accessor and list it in `allowed-factories`",
                    table.canonical_name
                ),
            });
            finding.notes.push(canonical_note.clone());
            out.push(finding);
        }
    }
}

/// Does `name` in this file (at module level, or through an import in any scope) stand for
/// the concept's origin?
fn binds_origin(cx: &Context, table: &ConceptTable, module: usize, name: &str) -> bool {
    if table.bindings.contains(&(module, name.to_string())) {
        return true;
    }
    let facts = cx.graph.facts(module);
    facts
        .imports
        .iter()
        .zip(&cx.graph.modules[module].resolutions)
        .any(|(import, verdicts)| {
            import
                .names
                .iter()
                .zip(verdicts)
                .any(|(imported, verdict)| {
                    imported.bound_name(import.kind) == name
                        && verdict.origins().contains(&table.origin)
                })
        })
}

/// The module that the dotted expression `head` (`mod`, `pkg.mod`) names in this file.
pub(super) fn module_of(cx: &Context, module: usize, head: &str) -> Option<usize> {
    let mut parts = head.split('.');
    let first = parts.next()?;
    let facts = cx.graph.facts(module);
    let mut name = facts
        .imports
        .iter()
        .zip(&cx.graph.modules[module].resolutions)
        .find_map(|(import, verdicts)| {
            import
                .names
                .iter()
                .zip(verdicts)
                .find_map(|(imported, verdict)| {
                    if imported.bound_name(import.kind) != first {
                        return None;
                    }
                    if import.kind == ImportKind::Module && imported.alias.is_none() {
                        return Some(first.to_string());
                    }
                    verdict
                        .origins()
                        .iter()
                        .find(|origin| origin.kind == OriginKind::Module)
                        .map(|origin| origin.module.clone())
                })
        })?;
    for part in parts {
        name.push('.');
        name.push_str(part);
    }
    cx.graph.by_name.get(&name).copied()
}
