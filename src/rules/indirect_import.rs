//! SSOT002 indirect-import: an import of the canonical object through a shim, a legacy
//! module or a relative path.

use std::collections::BTreeMap;

use super::{Applicability, Context, Finding, Fix, Rule};
use crate::concept::ConceptTable;
use crate::python::edit;

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let canonical_module = cx.graph.modules[table.canonical_module]
        .name
        .as_deref()
        .unwrap_or_default();
    let query = cx.graph.query();
    // The names of each statement to move: one fix per statement, shared by its findings.
    let mut moving: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for site in table.importers.iter().filter(|site| !site.canonical) {
        moving
            .entry((site.module, site.import))
            .or_default()
            .push(site.name);
    }
    for site in table.importers.iter().filter(|site| !site.canonical) {
        let facts = cx.graph.facts(site.module);
        let import = &facts.imports[site.import];
        let name = &import.names[site.name];
        let local = name.bound_name(import.kind);
        let target = query
            .import_target(site.module, import)
            .unwrap_or_else(|| import.module.clone());
        let mut finding = cx.finding(
            Rule::IndirectImport,
            Some(table.concept),
            site.module,
            import.span,
        );
        finding.symbol = name.name.clone();
        let written = format!("{}{}", ".".repeat(import.level as usize), import.module);
        finding.message = if target == canonical_module {
            format!(
                "`{}` imported through the relative path `{written}`",
                name.name
            )
        } else {
            format!(
                "`{}` imported through `{target}` instead of `{canonical_module}`",
                name.name
            )
        };
        finding.label = if target == canonical_module {
            "relative spelling of the canonical module".to_string()
        } else if cx
            .graph
            .by_name
            .get(&target)
            .is_some_and(|&m| table.shims.iter().any(|shim| shim.module == m))
        {
            "through a compat shim".to_string()
        } else if table
            .origin_site
            .is_some_and(|(module, _)| cx.graph.modules[module].name.as_deref() == Some(&target))
        {
            "through the defining module instead of the canonical one".to_string()
        } else {
            "not the canonical path".to_string()
        };
        let statement = if local == table.canonical_name {
            format!("from {canonical_module} import {}", table.canonical_name)
        } else {
            format!(
                "from {canonical_module} import {} as {local}",
                table.canonical_name
            )
        };
        let file = &cx.graph.files[cx.graph.modules[site.module].file];
        let fix = edit::move_names(
            &file.text,
            facts,
            site.import,
            &moving[&(site.module, site.import)],
            canonical_module,
            &table.canonical_name,
        );
        finding.help = Some(match &fix {
            Ok(_) => format!("import it from the canonical module: `{statement}`"),
            Err(why) => format!(
                "import it from the canonical module: `{statement}` (no automatic fix: {why})"
            ),
        });
        finding.fix = fix.ok().map(|edits| Fix {
            applicability: Applicability::Safe,
            edits,
        });
        finding.notes.push(canonical_note.clone());
        out.push(finding);
    }
}
