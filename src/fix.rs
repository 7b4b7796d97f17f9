//! The fix loop: apply the fixes of the findings, re-collect the changed files, resolve again,
//! and repeat until nothing changes (at most [`MAX_PASSES`]). Pure: texts in, texts out; the
//! CLI writes the files.
//!
//! In one pass a file gets the fixes whose edits do not overlap an edit already taken
//! (sorted by position); the others wait for the next pass, where they are recomputed from
//! the new text. A file whose fixed text has more syntax errors than before is left as it
//! was and reported: a fix must never break code.

use std::collections::{BTreeMap, BTreeSet};

use crate::concept::{self, CanonicalError, ConceptTable};
use crate::config::Settings;
use crate::facts::FileFacts;
use crate::graph::Graph;
use crate::python;
use crate::rules::{self, Applicability, Edit, Finding, Fix, Move, Selection};

pub const MAX_PASSES: usize = 10;

pub struct Outcome {
    pub graph: Graph,
    pub tables: Vec<ConceptTable>,
    /// What is left after fixing.
    pub findings: Vec<Finding>,
    /// The original text of every file that changed, by file index.
    pub originals: BTreeMap<usize, Vec<u8>>,
    /// Fixes applied, over all passes.
    pub applied: usize,
    /// Fixes applied, over all passes, by file index.
    pub applied_by_file: BTreeMap<usize, usize>,
    /// Files whose fixes were not applied, with the reason (an internal error).
    pub failures: Vec<(String, String)>,
}

/// Runs the fix loop over `graph`; only files whose path is `in_scope` are changed.
pub fn fix(
    mut graph: Graph,
    settings: &Settings,
    selection: &Selection,
    unsafe_fixes: bool,
    in_scope: &dyn Fn(&str) -> bool,
) -> Result<Outcome, Vec<CanonicalError>> {
    let mut originals: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut failed: BTreeSet<usize> = BTreeSet::new();
    let mut failures = Vec::new();
    let mut applied = 0;
    let mut applied_by_file: BTreeMap<usize, usize> = BTreeMap::new();
    for pass in 0.. {
        let tables = concept::build(&graph, &settings.concepts)?;
        let cx = rules::Context {
            graph: &graph,
            settings,
            tables: &tables,
            unsafe_fixes,
        };
        let findings = rules::check(&cx, selection);
        let mut per_file: BTreeMap<usize, Vec<&Fix>> = BTreeMap::new();
        for finding in &findings {
            let (Some(file), Some(fix)) = (finding.file, &finding.fix) else {
                continue;
            };
            let wanted = match fix.applicability {
                Applicability::Safe => true,
                Applicability::Unsafe => unsafe_fixes,
                Applicability::DisplayOnly => false,
            };
            if wanted && !fix.edits.is_empty() && !failed.contains(&file) && in_scope(&finding.path)
            {
                per_file.entry(file).or_default().push(fix);
            }
        }
        if per_file.is_empty() || pass == MAX_PASSES {
            return Ok(Outcome {
                graph,
                tables,
                findings,
                originals,
                applied,
                applied_by_file,
                failures,
            });
        }
        // Non-overlapping fixes of each file, as owned edits (the findings borrow the graph).
        let first_party =
            python::edit::FirstParty::new(graph.modules.iter().filter_map(|m| m.name.as_deref()));
        let mut changes: Vec<(usize, Vec<Edit>, usize)> = Vec::new();
        for (file, mut fixes) in per_file {
            fixes.sort_by_key(|fix| (fix.edits[0].span.start, fix.edits[0].span.end));
            fixes.dedup();
            let source = &graph.files[file];
            let fixes = together(source, fixes, &first_party);
            let mut taken: Vec<Edit> = Vec::new();
            let mut count = 0;
            for (edits, fixes) in fixes {
                let overlaps = edits.iter().any(|edit| {
                    taken.iter().any(|other| {
                        edit.span.start < other.span.end && other.span.start < edit.span.end
                            || edit.span == other.span
                    })
                });
                if !overlaps {
                    taken.extend(edits.iter().cloned());
                    count += fixes;
                }
            }
            taken.sort_by_key(|edit| (edit.span.start, edit.span.end));
            changes.push((file, taken, count));
        }
        drop(first_party);
        drop(findings);
        drop(tables);
        let mut walk = graph.into_walk();
        for (file, edits, count) in changes {
            let source = &mut walk.files[file];
            if source.from_cache {
                // The edits were computed from cached facts: they must be the facts of these
                // bytes (a cache is untrusted input). If not, the file gets its own facts and
                // the next pass computes its fixes again.
                let own = source.language.collect(source.text());
                source.from_cache = false;
                if own != source.facts {
                    source.facts = own;
                    continue;
                }
            }
            // Loaded (and checked against its hash) before anything else looks at it.
            source.text();
            if source.changed_on_disk() {
                failures.push((
                    source.path.clone(),
                    "the file changed on disk during the run; it is left as it is".to_string(),
                ));
                failed.insert(file);
                continue;
            }
            // A big file's facts are about as big as its text: the old ones go before the
            // new ones are collected (and are collected again should the fix be refused).
            let errors_before = source.facts.errors.len();
            drop(std::mem::take(&mut source.facts));
            let checked = apply_checked(source.language, source.text(), errors_before, &edits);
            let Some((text, facts)) = checked else {
                source.facts = source.language.collect(source.text());
                failures.push((
                    source.path.clone(),
                    "internal error: the fix would introduce a syntax error; the file is left as it was"
                        .to_string(),
                ));
                failed.insert(file);
                continue;
            };
            let old = source.replace(text, facts);
            originals.entry(file).or_insert(old);
            applied += count;
            *applied_by_file.entry(file).or_default() += count;
        }
        graph = python::resolve::resolve(walk, &settings.python_roots);
    }
    unreachable!("the loop returns")
}

/// The findings of the files as they are on disk when `fix` could not write some of them:
/// `restore` gives those files their old texts back, and the graph is resolved and checked
/// again (a report from the fixed texts would count their fixes as done).
pub fn on_disk(
    graph: Graph,
    settings: &Settings,
    selection: &Selection,
    unsafe_fixes: bool,
    restore: Vec<(usize, Vec<u8>)>,
) -> Result<(Graph, Vec<ConceptTable>, Vec<Finding>), Vec<CanonicalError>> {
    let mut walk = graph.into_walk();
    for (file, original) in restore {
        let source = &mut walk.files[file];
        let facts = source.language.collect(&original);
        source.replace(original, facts);
    }
    let graph = python::resolve::resolve(walk, &settings.python_roots);
    let tables = concept::build(&graph, &settings.concepts)?;
    let findings = rules::check(
        &rules::Context {
            graph: &graph,
            settings,
            tables: &tables,
            unsafe_fixes,
        },
        selection,
    );
    Ok((graph, tables, findings))
}

/// The fixes of one file as edits, each with how many fixes it counts for: the moves of
/// several import statements of one block (each fix alone re-sorts the block, so they all
/// overlap and one would be applied a pass) become one fix when they can be planned together
/// (`move_together`); every other fix stays as it is, in order.
fn together<'t>(
    source: &'t crate::walk::SourceFile,
    fixes: Vec<&Fix>,
    first_party: &python::edit::FirstParty<'t>,
) -> Vec<(Vec<Edit>, usize)> {
    // (Already in order: one move or none needs no plan, nor the file's blocks.)
    if fixes
        .iter()
        .filter(|fix| fix.moved.is_some())
        .take(2)
        .count()
        < 2
    {
        return fixes
            .into_iter()
            .map(|fix| (fix.edits.clone(), 1))
            .collect();
    }
    let (text, facts) = (source.text(), &source.facts);
    let mut blocks: BTreeMap<(u32, u32), Vec<&Move>> = BTreeMap::new();
    for fix in &fixes {
        if let Some(moved) = &fix.moved
            && moved.import < facts.imports.len()
            && let Some(block) = python::edit::block_of(text, facts, moved.import, first_party)
        {
            blocks
                .entry((block.start, block.end))
                .or_default()
                .push(moved);
        }
    }
    // The statements moved together (a fix moves one statement).
    let mut grouped: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut out: Vec<(Vec<Edit>, usize)> = Vec::new();
    for (_, mut moves) in blocks {
        moves.sort_by_key(|moved| moved.import);
        moves.dedup();
        if moves.len() < 2 {
            continue;
        }
        if let Ok(edits) = python::edit::move_together(text, facts, &moves, first_party)
            && !edits.is_empty()
        {
            out.push((edits, moves.len()));
            grouped.extend(moves.iter().map(|moved| moved.import));
        }
    }
    for fix in fixes {
        if fix
            .moved
            .as_ref()
            .is_none_or(|moved| !grouped.contains(&moved.import))
        {
            out.push((fix.edits.clone(), 1));
        }
    }
    out.sort_by_key(|(edits, _)| (edits[0].span.start, edits[0].span.end));
    out
}

/// `text` with `edits` applied, and its facts; `None` when the result has more syntax errors
/// than `text` had (`errors_before`): the guard that keeps a faulty fix from breaking code.
pub(crate) fn apply_checked(
    language: crate::walk::Language,
    text: &[u8],
    errors_before: usize,
    edits: &[Edit],
) -> Option<(Vec<u8>, FileFacts)> {
    let fixed = python::edit::apply(text, edits);
    let facts = language.collect(&fixed);
    (facts.errors.len() <= errors_before).then_some((fixed, facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;

    fn edit(start: usize, end: usize, content: &str) -> Edit {
        Edit {
            span: Span::new(start, end),
            content: content.to_string(),
        }
    }

    /// No rule is known to write a broken file, so the guard is fed a deliberately broken
    /// edit: a fix that cuts a name out of a parenthesised import and leaves `(` unclosed.
    #[test]
    fn a_fix_that_breaks_the_file_is_refused() {
        let text = b"from app.compat import (\n    helper,\n    Manager,\n)\nprint(helper)\n";
        let before = python::collect(text);
        assert!(before.errors.is_empty());
        let closing = text.iter().position(|&b| b == b')').expect("a `)`");
        let broken = [edit(closing, closing + 1, "")];
        assert!(
            apply_checked(
                crate::walk::Language::Python,
                text,
                before.errors.len(),
                &broken
            )
            .is_none()
        );
        // The same cut done right passes, with the new text's facts.
        let manager = memchr::memmem::find(text, b"    Manager,\n").expect("the name's line");
        let (fixed, facts) = apply_checked(
            crate::walk::Language::Python,
            text,
            before.errors.len(),
            &[edit(manager, manager + 13, "")],
        )
        .expect("accepted");
        assert_eq!(
            fixed,
            b"from app.compat import (\n    helper,\n)\nprint(helper)\n"
        );
        assert_eq!(facts.imports[0].names.len(), 1);
    }

    /// A file that was already broken may stay as broken, no more.
    #[test]
    fn a_broken_file_may_stay_broken() {
        let text = b"def f(:\n    pass\nimport os\n";
        let before = python::collect(text);
        assert!(!before.errors.is_empty());
        let rename = [edit(text.len() - 3, text.len() - 1, "sys")];
        assert!(
            apply_checked(
                crate::walk::Language::Python,
                text,
                before.errors.len(),
                &rename
            )
            .is_some()
        );
        let more = [edit(text.len() - 1, text.len(), "\nclass :\n")];
        assert!(
            apply_checked(
                crate::walk::Language::Python,
                text,
                before.errors.len(),
                &more
            )
            .is_none()
        );
    }
}
