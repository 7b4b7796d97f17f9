//! SSOT004 factory-proliferation: a factory of the concept outside `allowed-factories`.

use super::{Context, Finding, Rule};
use crate::concept::{ConceptTable, qualname};
use crate::facts::DefKind;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    for &(module, definition_index) in &table.factories {
        let facts = cx.graph.facts(module);
        let definition = &facts.definitions[definition_index];
        let mut finding = cx.finding(
            Rule::FactoryProliferation,
            Some(table.concept),
            module,
            definition.name_span,
        );
        finding.symbol = qualname(facts, definition_index);
        let kind = match definition.kind {
            DefKind::Class { .. } => "factory class",
            _ => "factory",
        };
        finding.message = format!(
            "{kind} `{}` for `{}` outside `allowed-factories`",
            qualname(facts, definition_index),
            concept.name
        );
        finding.label = match crate::concept::matching_glob(
            &concept.factories,
            &concept.factories_set,
            &definition.name,
        ) {
            Some(glob) => format!("name matches `{glob}`"),
            None => "factory".to_string(),
        };
        finding.help = Some(match concept.allowed_factories.first() {
            Some(accessor) => {
                format!("get the instance from `{accessor}` instead, and delete this factory")
            }
            None => format!(
                "keep one accessor next to `{}` and list it in `allowed-factories`",
                concept.canonical
            ),
        });
        finding.notes.push(canonical_note.clone());
        out.push(finding);
    }
}
