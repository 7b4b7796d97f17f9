//! SSOT002 indirect-import: an import of the canonical object through a shim, a legacy
//! module or a relative path: `from shim import Name`, or `import shim as m` and `m.Name`.

use std::collections::{BTreeMap, HashSet};

use super::{Applicability, Context, Edit, Finding, Fix, Move, Rule};
use crate::concept::{AttributeSite, ConceptTable};
use crate::facts::{Guard, ImportKind, Scope, Span, StringRefKind};
use crate::graph::{Graph, OriginKind};
use crate::python::edit;
use crate::python::resolve::Query;
use crate::walk::Language;

/// A Rust `use` leaf pointed at the canonical path: the path as the importing module
/// spells it, and the edits (or why there are none).
pub(super) struct RustRewrite {
    pub(super) spelled: Result<String, String>,
    pub(super) fix: Result<Vec<Edit>, String>,
}

impl RustRewrite {
    /// `use path;` or `use path as local;`.
    pub(super) fn statement(path: &str, local: &str) -> String {
        if path.rsplit("::").next() == Some(local) {
            format!("use {path};")
        } else {
            format!("use {path} as {local};")
        }
    }
}

/// Rewrites leaf `name` of import `import` of Rust module `module` to the concept's canonical
/// path as the importing crate spells it (`crate::` inside the canonical crate, the
/// dependency's extern name elsewhere), keeping the local name, the visibility and the
/// attributes: dropped when the module binds the name to the concept already, merged into a
/// `use` of the canonical module when there is one.
pub(super) fn rust_rewrite(
    cx: &Context,
    table: &ConceptTable,
    module: usize,
    import: usize,
    name: usize,
) -> RustRewrite {
    let graph = cx.graph;
    let file_index = graph.modules[module].file;
    let file = &graph.files[file_index];
    let facts = &file.facts;
    let statement = &facts.imports[import];
    let local = statement.names[name].bound_name(statement.kind);
    let index = &graph.rust;
    let viewer = index.module_at(&graph.files, file_index, statement.span);
    let spelled = rust_spelling(cx, table, file_index, statement.span);
    let same_module = |other: &crate::facts::Import| {
        other.span != statement.span
            && index.module_at(&graph.files, file_index, other.span) == viewer
    };
    let fix = spelled.clone().and_then(|path| {
        // The module may bind the name to the concept already (`use` of the canonical path
        // beside this one): the leaf goes, nothing is added.
        let bound_elsewhere = facts.imports.iter().enumerate().any(|(i, other)| {
            same_module(other)
                && other.names.iter().enumerate().any(|(j, leaf)| {
                    leaf.bound_name(other.kind) == local
                        && graph.modules[module].resolutions[i][j]
                            .origins()
                            .contains(&table.origin)
                })
        });
        let prefix = path.rsplit_once("::").map_or("", |(prefix, _)| prefix);
        let merge = facts.imports.iter().position(|other| {
            same_module(other)
                && other.level == 0
                && other.module == prefix
                && other.context.scope == Scope::Module
                && statement.context.scope == Scope::Module
        });
        let placement = match (bound_elsewhere, merge) {
            (true, _) => crate::rust::edit::Placement::Drop,
            (false, Some(into)) => crate::rust::edit::Placement::Merge(into),
            (false, None) => crate::rust::edit::Placement::New,
        };
        let edition = viewer.map_or("2015", |module| {
            let krate = &index.workspace.crates[index.modules[module].krate];
            index.workspace.packages[krate.package].edition.as_str()
        });
        crate::rust::edit::rewrite_leaf(
            file.text(),
            facts,
            import,
            name,
            &path,
            local,
            placement,
            crate::rust::edit::Order::of(edition, index.workspace.rustfmt_of(&file.path)),
        )
        .map_err(str::to_string)
    });
    RustRewrite { spelled, fix }
}

/// The canonical path as code at `span` of Rust file `file` writes it (`crate::a::T` in the
/// canonical crate, `dep::a::T` elsewhere), or why it cannot.
pub(super) fn rust_spelling(
    cx: &Context,
    table: &ConceptTable,
    file: usize,
    span: Span,
) -> Result<String, String> {
    let index = &cx.graph.rust;
    let canonical_module = cx.settings.concepts[table.concept]
        .canonical
        .rsplit_once("::")
        .map_or("", |(module, _)| module);
    match (
        index.module_at(&cx.graph.files, file, span),
        index.by_path.get(canonical_module),
    ) {
        (Some(viewer), Some(&canonical)) => index.spell(viewer, canonical, &table.canonical_name),
        _ => Err("the module is in no crate's module tree".to_string()),
    }
}

/// A Rust `use` leaf of the concept through another path: rewritten to the canonical path.
fn rust_site(
    cx: &Context,
    table: &ConceptTable,
    site: &crate::concept::ImportSite,
    query: &mut Query,
    canonical_note: &str,
) -> Finding {
    let graph = cx.graph;
    let facts = &graph.files[graph.modules[site.module].file].facts;
    let import = &facts.imports[site.import];
    let name = &import.names[site.name];
    let local = name.bound_name(import.kind);
    let concept = &cx.settings.concepts[table.concept];
    let canonical_module = concept
        .canonical
        .rsplit_once("::")
        .map_or("", |(module, _)| module);
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
    finding.message = format!(
        "`{}` imported through `{target}` instead of `{canonical_module}`",
        name.name
    );
    finding.label = label(graph, table, &target);
    let RustRewrite { spelled, fix } = rust_rewrite(cx, table, site.module, site.import, site.name);
    let statement = |path: &str| RustRewrite::statement(path, local);
    // A `pub use` leaf is public API of its module: rewriting it is never called safe.
    let public = *facts.import_visibility_of(site.import) == crate::facts::Visibility::Public;
    finding.help = Some(match (&spelled, &fix) {
        (Ok(path), Ok(_)) if public => format!(
            "import it from the canonical path: `{}` (unsafe: a `pub use` is public API of its module)",
            statement(path)
        ),
        (Ok(path), Ok(_)) => format!("import it from the canonical path: `{}`", statement(path)),
        (Ok(path), Err(why)) => format!(
            "import it from the canonical path: `{}` (no automatic fix: {why})",
            statement(path)
        ),
        (Err(why), _) => format!("no automatic fix: {why}"),
    });
    finding.fix = fix.ok().map(|edits| Fix {
        applicability: if public {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        edits,
        moved: None,
    });
    finding.notes.push(canonical_note.to_string());
    finding
}

pub(super) fn check(cx: &Context, table: &ConceptTable, out: &mut Vec<Finding>) {
    // Computed once: it reads the line table of the defining file.
    let canonical_note = cx.canonical_note(table);
    let canonical_module = cx.graph.modules[table.canonical_module]
        .name
        .as_deref()
        .unwrap_or_default();
    let mut query = cx.graph.query();
    let first_party =
        edit::FirstParty::new(cx.graph.modules.iter().filter_map(|m| m.name.as_deref()));
    // The names of each statement to move: one fix per statement, shared by its findings.
    let mut moving: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for site in table.importers.iter().filter(|site| !site.accepted) {
        moving
            .entry((site.module, site.import))
            .or_default()
            .push(site.name);
    }
    for site in table.importers.iter().filter(|site| !site.accepted) {
        if cx.graph.files[cx.graph.modules[site.module].file].language == Language::Rust {
            out.push(rust_site(cx, table, site, &mut query, &canonical_note));
            continue;
        }
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
        } else {
            label(cx.graph, table, &target)
        };
        let statement = from_statement(canonical_module, &table.canonical_name, local);
        let file = &cx.graph.files[cx.graph.modules[site.module].file];
        let moving = &moving[&(site.module, site.import)];
        let target_index = cx.graph.by_name.get(&target).copied();
        let cycle = cycle_through(cx.graph, table, site.module, import, target_index);
        if let Some(cycle) = cycle {
            // No safe spelling through the canonical module: the defining one, if it has no
            // cycle of its own, or no fix.
            let defining = defining_module(cx.graph, table, site.module, target_index);
            let fix = match defining {
                Some((module, symbol)) => edit::move_names(
                    file.text(),
                    facts,
                    site.import,
                    moving,
                    module,
                    symbol,
                    false,
                    &first_party,
                )
                .map_err(str::to_string),
                None => Err(format!(
                    "importing from `{canonical_module}` here would be an import cycle ({cycle})"
                )),
            };
            finding.help = Some(match (&fix, defining) {
                (Ok(_), Some((module, symbol))) => format!(
                    "import it from the defining module: `{}` (`{canonical_module}` imports this module at import time, so importing from it here would be an import cycle: {cycle})",
                    from_statement(module, symbol, local)
                ),
                (Err(why), _) => format!("no automatic fix: {why}"),
                (Ok(_), None) => unreachable!("a fix needs a module"),
            });
            finding.fix = fix.ok().map(|edits| Fix::new(Applicability::Safe, edits));
            finding.notes.push(canonical_note.clone());
            out.push(finding);
            continue;
        }
        // Under `--unsafe-fixes`, the uses of another local name take the canonical one.
        let renamed = (cx.unsafe_fixes && local != table.canonical_name && moving.len() == 1)
            .then(|| {
                rename_allowed(cx, table, site.module, local)?;
                edit::rename_local(
                    file.text(),
                    facts,
                    site.import,
                    site.name,
                    canonical_module,
                    &table.canonical_name,
                    &first_party,
                )
                .map_err(str::to_string)
            })
            .and_then(Result::ok);
        let fix = match renamed {
            Some(edits) => Ok(Fix::new(Applicability::Unsafe, edits)),
            None => edit::move_names(
                file.text(),
                facts,
                site.import,
                moving,
                canonical_module,
                &table.canonical_name,
                false,
                &first_party,
            )
            .map(|edits| Fix {
                moved: Some(Move {
                    import: site.import,
                    moving: moving.clone(),
                    module: canonical_module.to_string(),
                    name: table.canonical_name.clone(),
                    rename: false,
                }),
                ..Fix::new(Applicability::Safe, edits)
            }),
        };
        finding.help = Some(match &fix {
            Ok(fix) if fix.applicability == Applicability::Unsafe => format!(
                "import it from the canonical module under its own name: `{}`, and write `{}` for `{local}`",
                from_statement(
                    canonical_module,
                    &table.canonical_name,
                    &table.canonical_name
                ),
                table.canonical_name
            ),
            Ok(_) => format!("import it from the canonical module: `{statement}`"),
            Err(why) => format!(
                "import it from the canonical module: `{statement}` (no automatic fix: {why})"
            ),
        });
        finding.fix = fix.ok();
        finding.notes.push(canonical_note.clone());
        out.push(finding);
    }
    attribute_uses(cx, table, &mut query, &canonical_note, out);
}

/// When `import` (in `module`, naming `target`) runs at import time and the canonical module
/// runs `module` at import time, an import from the canonical module here would close a
/// cycle: the chain that shows it (`pkg.orm` → `pkg.orm.constructors`). A spelling of the
/// canonical module itself changes nothing and is never a cycle.
fn cycle_through(
    graph: &Graph,
    table: &ConceptTable,
    module: usize,
    import: &crate::facts::Import,
    target: Option<usize>,
) -> Option<String> {
    if import.context.scope == Scope::Function
        || import.context.type_checking
        || target == Some(table.canonical_module)
    {
        return None;
    }
    let chain = table.canonical_closure.chain(module)?;
    Some(chain_text(graph, &chain))
}

/// `a` → `a.b` → `a.b.c`, the middle elided past six modules.
pub(crate) fn chain_text(graph: &Graph, chain: &[usize]) -> String {
    let name = |module: usize| {
        format!(
            "`{}`",
            graph.modules[module].name.as_deref().unwrap_or_default()
        )
    };
    if chain.len() <= 6 {
        return chain
            .iter()
            .map(|&m| name(m))
            .collect::<Vec<_>>()
            .join(" → ");
    }
    let head: Vec<String> = chain[..3].iter().map(|&m| name(m)).collect();
    let tail: Vec<String> = chain[chain.len() - 2..].iter().map(|&m| name(m)).collect();
    format!("{} → … → {}", head.join(" → "), tail.join(" → "))
}

/// The defining module and the origin's name there, when an import of it from `module`
/// closes no cycle and is not what the statement already does.
fn defining_module<'t>(
    graph: &'t Graph,
    table: &'t ConceptTable,
    module: usize,
    target: Option<usize>,
) -> Option<(&'t str, &'t str)> {
    let (defining, _) = table.origin_site?;
    if defining == table.canonical_module
        || Some(defining) == target
        || table.import_cycle(module, defining) != Some(false)
    {
        return None;
    }
    Some((
        graph.modules[defining].name.as_deref()?,
        table.origin.symbol.as_deref()?,
    ))
}

/// `from <module> import <canonical>`, with `as <local>` when the local name differs.
fn from_statement(module: &str, canonical: &str, local: &str) -> String {
    if local == canonical {
        format!("from {module} import {canonical}")
    } else {
        format!("from {module} import {canonical} as {local}")
    }
}

/// What the module an import goes through is.
fn label(graph: &Graph, table: &ConceptTable, module: &str) -> String {
    if graph
        .by_name
        .get(module)
        .is_some_and(|&m| table.shims.iter().any(|shim| shim.module == m))
    {
        "through a compat shim".to_string()
    } else if table
        .origin_site
        .is_some_and(|(origin, _)| graph.modules[origin].name.as_deref() == Some(module))
    {
        "through the defining module instead of the canonical one".to_string()
    } else {
        "not the canonical path".to_string()
    }
}

/// Renaming a module-level `local` changes the module's namespace: refused when other code
/// may read `local` from it (it is a shim: imported from, star-imported or listed in
/// `__all__`; or a string names it) or the canonical name is bound there already.
fn rename_allowed(
    cx: &Context,
    table: &ConceptTable,
    module: usize,
    local: &str,
) -> Result<(), String> {
    if table.shims.iter().any(|shim| shim.module == module) {
        return Err("other modules import the name from this one".to_string());
    }
    let Some(name) = cx.graph.modules[module].name.as_deref() else {
        return Ok(());
    };
    let dotted = format!("{name}.{local}");
    let named_by_string = cx.graph.files.iter().any(|file| {
        file.facts
            .string_refs
            .iter()
            .any(|reference| reference.value == dotted)
    });
    if named_by_string {
        return Err(format!("a string names `{dotted}`"));
    }
    if !cx
        .graph
        .query()
        .name(module, &table.canonical_name)
        .is_empty()
    {
        return Err("the canonical name is already bound in the module".to_string());
    }
    Ok(())
}

/// `import a.b as m` (or `import a.b`, `from pkg import m`), then `m.Name` where `Name` in
/// the module `a.b` is the concept: one finding per module path and name, on the import
/// statement, with a fix that reads `m.Name` as a plain name imported from the canonical
/// module.
fn attribute_uses(
    cx: &Context,
    table: &ConceptTable,
    query: &mut Query,
    canonical_note: &str,
    out: &mut Vec<Finding>,
) {
    let graph = cx.graph;
    let canonical_module = graph.modules[table.canonical_module]
        .name
        .as_deref()
        .unwrap_or_default();
    // What other files do to modules, read on the first finding.
    let mut elsewhere: Option<Elsewhere> = None;
    let mut by_module: BTreeMap<usize, Vec<AttributeSite>> = BTreeMap::new();
    for site in table.attribute_sites.iter().filter(|site| !site.canonical) {
        by_module.entry(site.module).or_default().push(site.clone());
    }
    for (module_index, groups) in by_module {
        let module = &graph.modules[module_index];
        let facts = &graph.files[module.file].facts;
        let text = graph.files[module.file].text();
        for group in groups {
            let (prefix, attribute) = (&group.prefix, &group.attribute);
            let elsewhere = elsewhere.get_or_insert_with(|| Elsewhere::read(graph, query));
            let written = format!("{prefix}.{attribute}");
            let import = &facts.imports[group.import];
            let mut finding = cx.finding(
                Rule::IndirectImport,
                Some(table.concept),
                module_index,
                import.span,
            );
            finding.symbol = written.clone();
            finding.message = format!(
                "`{attribute}` used as `{written}` through `{}` instead of `{canonical_module}`",
                group.through
            );
            finding.label = label(graph, table, &group.through);
            let fixed = |local: &str| {
                attribute_fix(cx, table, module_index, &group, &written, local, elsewhere)
            };
            // Under `--unsafe-fixes`, `m.Legacy` becomes the canonical name itself.
            let fix = match (cx.unsafe_fixes && *attribute != table.canonical_name)
                .then(|| fixed(&table.canonical_name))
            {
                Some(Ok(edits)) => {
                    Ok((Applicability::Unsafe, table.canonical_name.as_str(), edits))
                }
                _ => fixed(attribute).map(|edits| (Applicability::Safe, attribute.as_str(), edits)),
            };
            let local = fix
                .as_ref()
                .map_or(attribute.as_str(), |(_, local, _)| local);
            let statement = from_statement(canonical_module, &table.canonical_name, local);
            finding.help = Some(match &fix {
                Ok(_) => format!(
                    "import it from the canonical module, `{statement}`, and write `{local}` for `{written}`"
                ),
                Err(why) => format!(
                    "import it from the canonical module, `{statement}`, and write `{local}` for `{written}` (no automatic fix: {why})"
                ),
            });
            let lines = crate::facts::LineIndex::new(text);
            let mut at: Vec<String> = group
                .uses
                .iter()
                .map(|(span, _)| lines.line(span.start).to_string())
                .collect();
            at.dedup();
            let count = at.len();
            at.truncate(8);
            finding.notes.push(format!(
                "`{written}` used on {} {}{}",
                if count == 1 { "line" } else { "lines" },
                at.join(", "),
                if count > at.len() { ", ..." } else { "" }
            ));
            finding.notes.push(canonical_note.to_string());
            finding.fix = fix
                .ok()
                .map(|(applicability, _, edits)| Fix::new(applicability, edits));
            out.push(finding);
        }
    }
}

/// What the repository's files do to modules, beyond importing names from them.
struct Elsewhere<'a> {
    /// Modules that some `from ... import *` reads: a new public name there is exported too.
    star_imported: HashSet<usize>,
    /// Dotted strings (`mock.patch("a.b.Name")`, any other `"a.b.Name"`).
    strings: HashSet<String>,
    /// Modules passed to `patch.object(module, "Name")`, by name.
    patched: HashSet<String>,
    /// The repository's top-level packages, for the sorter's sections of a new import.
    first_party: edit::FirstParty<'a>,
}

impl<'a> Elsewhere<'a> {
    fn read(graph: &'a Graph, query: &mut Query) -> Elsewhere<'a> {
        let mut elsewhere = Elsewhere {
            star_imported: HashSet::new(),
            strings: HashSet::new(),
            patched: HashSet::new(),
            first_party: edit::FirstParty::new(
                graph.modules.iter().filter_map(|m| m.name.as_deref()),
            ),
        };
        for (module_index, module) in graph.modules.iter().enumerate() {
            let facts = &graph.files[module.file].facts;
            for import in &facts.imports {
                if import.kind == ImportKind::From && import.names.iter().any(|n| n.name == "*") {
                    elsewhere.star_imported.extend(
                        query
                            .import_target(module_index, import)
                            .and_then(|target| graph.by_name.get(&target).copied()),
                    );
                }
            }
            for reference in &facts.string_refs {
                if reference.kind != StringRefKind::PatchObject {
                    elsewhere.strings.insert(reference.value.clone());
                    continue;
                }
                // `patch.object(ws, "Name")` after `import app.ws_compat as ws`.
                let mut parts = reference.value.split('.');
                let first = parts.next().unwrap_or_default();
                let rest: Vec<&str> = parts.collect();
                let base = match query.name(module_index, first).as_slice() {
                    [origin] if origin.kind == OriginKind::Module => origin.module.clone(),
                    _ => first.to_string(),
                };
                elsewhere
                    .patched
                    .extend(crate::concept::module_path(graph, query, &base, &rest));
                elsewhere.patched.insert(reference.value.clone());
            }
        }
        elsewhere
    }
}

/// The edits reading each use of `group` as `local`, or why not. What needs the graph is
/// checked here; the rest by [`edit::module_uses`].
fn attribute_fix<'a>(
    cx: &Context<'a>,
    table: &ConceptTable,
    module: usize,
    group: &AttributeSite,
    written: &str,
    local: &str,
    elsewhere: &Elsewhere<'a>,
) -> Result<Vec<Edit>, String> {
    let graph = cx.graph;
    let facts = graph.facts(module);
    let statement = &facts.imports[group.import];
    if let Some(cycle) = cycle_through(
        graph,
        table,
        module,
        statement,
        graph.by_name.get(&group.through).copied(),
    ) {
        let canonical = graph.modules[table.canonical_module]
            .name
            .as_deref()
            .unwrap_or_default();
        return Err(format!(
            "importing from `{canonical}` here would be an import cycle ({cycle})"
        ));
    }
    if group.uses.iter().any(|(_, target)| *target) {
        return Err(format!(
            "`{written}` is assigned or deleted in the file, and a plain name would not follow it"
        ));
    }
    let attribute = written.rsplit('.').next().unwrap_or(written);
    let dotted = format!("{}.{attribute}", group.through);
    if elsewhere.strings.contains(&dotted) || elsewhere.patched.contains(&group.through) {
        return Err(format!(
            "`{dotted}` may be patched (a string or `patch.object` names it), and a plain name would not follow a patch"
        ));
    }
    let text = graph.files[graph.modules[module].file].text();
    let base = statement.names[group.name].bound_name(statement.kind);
    let resolutions = &graph.modules[module].resolutions;
    let plain = |import: &crate::facts::Import| {
        import.context.scope == Scope::Module
            && import.context.guard == Guard::None
            && !import.context.conditional
            && !import.context.type_checking
    };
    // A plain module-level import that binds `local` to the concept already: before the
    // statement, or after it with nothing in between that mentions either name (as when a
    // fix for another name of the same module added it in an earlier pass).
    let bound_by = (0..facts.imports.len()).find(|&index| {
        let import = &facts.imports[index];
        import.kind == ImportKind::From
            && plain(import)
            && (import.span.end <= statement.span.start
                || plain(statement)
                    && statement.span.end <= import.span.start
                    && ![base, local].iter().any(|name| {
                        edit::mentions(
                            &text[statement.span.end as usize..import.span.start as usize],
                            name,
                        )
                    }))
            && import
                .names
                .iter()
                .zip(&resolutions[index])
                .any(|(name, verdict)| {
                    name.bound_name(ImportKind::From) == local
                        && matches!(verdict.origins(), [origin] if *origin == table.origin)
                })
    });
    if bound_by.is_none() && statement.context.scope == Scope::Module {
        if !graph.query().name(module, local).is_empty() {
            return Err(format!("`{local}` is already bound in the module"));
        }
        if elsewhere.star_imported.contains(&module)
            && facts.exports.is_none()
            && !local.starts_with('_')
        {
            return Err(format!(
                "the module is star-imported without `__all__`: a new `{local}` would be exported too"
            ));
        }
    }
    let canonical_module = graph.modules[table.canonical_module]
        .name
        .as_deref()
        .unwrap_or_default();
    let spans: Vec<Span> = group.uses.iter().map(|(span, _)| *span).collect();
    edit::module_uses(
        text,
        facts,
        &edit::ModuleUses {
            import: group.import,
            name: group.name,
            spans: &spans,
            written_len: written.len(),
            bound_by,
        },
        local,
        canonical_module,
        &table.canonical_name,
        &elsewhere.first_party,
    )
}
