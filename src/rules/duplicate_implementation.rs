//! SSOT001 duplicate-implementation: a class that re-implements the concept outside the
//! canonical module.

use super::{Context, Finding, Rule};
use crate::concept::{ConceptTable, Reason, qualname};

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let concept = &cx.settings.concepts[table.concept];
    let canonical_name = &table.canonical_name;
    for implementation in &table.implementations {
        let facts = cx.graph.facts(implementation.module);
        let definition = &facts.definitions[implementation.definition];
        let mut finding = cx.finding(
            Rule::DuplicateImplementation,
            Some(table.concept),
            implementation.module,
            definition.name_span,
        );
        finding.symbol = qualname(facts, implementation.definition);
        let rust = cx.graph.files[cx.graph.modules[implementation.module].file].language
            == crate::walk::Language::Rust;
        let what = match (implementation.in_test, rust) {
            (true, _) => "test double",
            (false, true) => "type",
            (false, false) => "class",
        };
        match &implementation.reason {
            Reason::Name {
                glob,
                evidence,
                subclass,
            } => {
                finding.message = if *subclass {
                    format!(
                        "{what} `{}` is a second kind of `{}`: it subclasses the canonical class",
                        definition.name, concept.name
                    )
                } else {
                    format!(
                        "{what} `{}` re-implements `{}`",
                        definition.name, concept.name
                    )
                };
                let name = if *glob == definition.name {
                    "has the canonical name".to_string()
                } else {
                    format!("name matches `{glob}`")
                };
                finding.label = if evidence.is_empty() {
                    name
                } else {
                    format!("{name} and {evidence}")
                };
            }
            Reason::Similar { score, shared } => {
                finding.message = format!(
                    "{what} `{}` re-implements `{}`",
                    definition.name, concept.name
                );
                finding.label = format!(
                    "shares {} of its public methods with `{canonical_name}` (similarity {score:.2})",
                    super::quoted_list(shared)
                );
            }
            Reason::Alias(origin) => {
                finding.message = format!(
                    "`{}` is bound to `{}.{}`, another class than the canonical `{canonical_name}`",
                    definition.name,
                    origin.module,
                    origin.symbol.as_deref().unwrap_or_default()
                );
                finding.span = definition.span;
                finding.label = "alias of another class".to_string();
            }
        }
        let subclass = matches!(implementation.reason, Reason::Name { subclass: true, .. });
        finding.help = Some(if subclass && !implementation.in_test {
            format!(
                "the concept is one instance of `{canonical_name}`: fold what the subclass changes into it (or a setting of it); if the class is meant to be constructed and extended (a value type), say so with `constructible = true` in ssot.toml"
            )
        } else if implementation.in_test {
            format!(
                "use the canonical `{canonical_name}` (`{}`), or `unittest.mock.Mock(spec={canonical_name})`, instead of a hand-written double; `tests = \"allow\"` in ssot.toml permits doubles",
                concept.canonical
            )
        } else {
            format!(
                "use `{}` and move what this {} adds into it",
                concept.canonical,
                if rust { "type" } else { "class" }
            )
        });
        finding.notes.push(canonical_note.clone());
        out.push(finding);
    }
}
