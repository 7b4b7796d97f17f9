//! The rules: one file per rule, each a function from the graph and the concept table to
//! findings. Selection, per-path ignores and suppression comments are applied here, after
//! every rule has run, so a rule never needs to know about them.
//!
//! Each rule's user documentation is `rules/<CODE>.md`, embedded in the binary
//! (`ssot-gardener explain CODE`); a test checks every doc's Example fires and its "Use
//! instead" does not.

mod await_mismatch;
mod broken_import;
mod compat_shim;
mod direct_instantiation;
mod duplicate_implementation;
mod duplicate_import;
mod factory_proliferation;
mod indirect_import;
pub(crate) mod stale_backup;
mod string_reference;
mod syntax_error;
mod unused_suppression;

use std::path::Path;

use serde::Serialize;

use crate::concept::ConceptTable;
use crate::config::Settings;
use crate::facts::{LineIndex, Span};
use crate::graph::Graph;

/// Every rule, by its stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    DuplicateImplementation,
    IndirectImport,
    DuplicateImport,
    FactoryProliferation,
    CompatShim,
    StaleBackup,
    StringReference,
    DirectInstantiation,
    BrokenImport,
    AwaitMismatch,
    UnusedSuppression,
    BlanketSuppression,
    SyntaxError,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::DuplicateImplementation,
        Rule::IndirectImport,
        Rule::DuplicateImport,
        Rule::FactoryProliferation,
        Rule::CompatShim,
        Rule::StaleBackup,
        Rule::StringReference,
        Rule::DirectInstantiation,
        Rule::BrokenImport,
        Rule::AwaitMismatch,
        Rule::UnusedSuppression,
        Rule::BlanketSuppression,
        Rule::SyntaxError,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::DuplicateImplementation => "SSOT001",
            Rule::IndirectImport => "SSOT002",
            Rule::DuplicateImport => "SSOT003",
            Rule::FactoryProliferation => "SSOT004",
            Rule::CompatShim => "SSOT005",
            Rule::StaleBackup => "SSOT006",
            Rule::StringReference => "SSOT007",
            Rule::DirectInstantiation => "SSOT008",
            Rule::BrokenImport => "SSOT009",
            Rule::AwaitMismatch => "SSOT010",
            Rule::UnusedSuppression => "SSOT901",
            Rule::BlanketSuppression => "SSOT902",
            Rule::SyntaxError => "SSOT903",
        }
    }

    /// Whether the rule checks each `[[concept]]` (SSOT001 to SSOT005, SSOT007, SSOT008)
    /// rather than the repository as a whole.
    pub fn per_concept(self) -> bool {
        matches!(
            self,
            Rule::DuplicateImplementation
                | Rule::IndirectImport
                | Rule::DuplicateImport
                | Rule::FactoryProliferation
                | Rule::CompatShim
                | Rule::StringReference
                | Rule::DirectInstantiation
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::DuplicateImplementation => "duplicate-implementation",
            Rule::IndirectImport => "indirect-import",
            Rule::DuplicateImport => "duplicate-import",
            Rule::FactoryProliferation => "factory-proliferation",
            Rule::CompatShim => "compat-shim",
            Rule::StaleBackup => "stale-backup",
            Rule::StringReference => "string-reference",
            Rule::DirectInstantiation => "direct-instantiation",
            Rule::BrokenImport => "broken-import",
            Rule::AwaitMismatch => "await-mismatch",
            Rule::UnusedSuppression => "unused-suppression",
            Rule::BlanketSuppression => "blanket-suppression",
            Rule::SyntaxError => "syntax-error",
        }
    }

    /// The rule's documentation (Markdown), as `explain` prints it.
    pub fn doc(self) -> &'static str {
        match self {
            Rule::DuplicateImplementation => include_str!("../../rules/SSOT001.md"),
            Rule::IndirectImport => include_str!("../../rules/SSOT002.md"),
            Rule::DuplicateImport => include_str!("../../rules/SSOT003.md"),
            Rule::FactoryProliferation => include_str!("../../rules/SSOT004.md"),
            Rule::CompatShim => include_str!("../../rules/SSOT005.md"),
            Rule::StaleBackup => include_str!("../../rules/SSOT006.md"),
            Rule::StringReference => include_str!("../../rules/SSOT007.md"),
            Rule::DirectInstantiation => include_str!("../../rules/SSOT008.md"),
            Rule::BrokenImport => include_str!("../../rules/SSOT009.md"),
            Rule::AwaitMismatch => include_str!("../../rules/SSOT010.md"),
            Rule::UnusedSuppression => include_str!("../../rules/SSOT901.md"),
            Rule::BlanketSuppression => include_str!("../../rules/SSOT902.md"),
            Rule::SyntaxError => include_str!("../../rules/SSOT903.md"),
        }
    }

    /// A rule by code (`SSOT002`) or name (`indirect-import`), ignoring case.
    pub fn find(code_or_name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| {
            rule.code().eq_ignore_ascii_case(code_or_name) || rule.name() == code_or_name
        })
    }
}

/// A fix: edits to one file with how far they can be trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
    /// What the edits do when they move names of one import statement to another module:
    /// the fix loop moves those of several statements of one block together.
    #[serde(skip)]
    pub moved: Option<Move>,
}

impl Fix {
    pub fn new(applicability: Applicability, edits: Vec<Edit>) -> Fix {
        Fix {
            applicability,
            edits,
            moved: None,
        }
    }
}

/// Names of the import statement `import` of a file (`moving`, indices of its names) bound
/// from `module` as `name` instead: kept as local names with `as`, or under `name` itself
/// with `rename`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub import: usize,
    pub moving: Vec<usize>,
    pub module: String,
    pub name: String,
    pub rename: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps behaviour: applied by `fix`.
    Safe,
    /// May change behaviour: applied with `--unsafe-fixes`.
    Unsafe,
    /// Shown, never applied.
    DisplayOnly,
}

/// Replace the bytes of `span` with `content`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

/// One problem found.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: Rule,
    /// Index into `Settings::concepts`; `None` for rules about the repository as a whole.
    pub concept: Option<usize>,
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    /// Index into `Graph::files`; `None` for a file that is not parsed (a backup copy).
    pub file: Option<usize>,
    /// The primary span; empty at 0 for a finding about a whole file.
    pub span: Span,
    /// What the finding is about, as the baseline fingerprint names it: the imported name,
    /// the class or factory's qualified name, the shim module, the string, the callee.
    pub symbol: String,
    pub message: String,
    /// Shown under the caret.
    pub label: String,
    pub help: Option<String>,
    /// More context, such as where the canonical definition lives.
    pub notes: Vec<String>,
    pub fix: Option<Fix>,
}

/// What the rules see.
pub struct Context<'a> {
    pub graph: &'a Graph,
    pub settings: &'a Settings,
    pub tables: &'a [ConceptTable],
    /// `--unsafe-fixes`: a rule whose fix has a safe and an unsafe form offers the unsafe one.
    pub unsafe_fixes: bool,
}

impl Context<'_> {
    /// `path:line` of a definition, for notes.
    pub fn location(&self, module: usize, definition: usize) -> String {
        let file = &self.graph.files[self.graph.modules[module].file];
        let span = file.facts.definitions[definition].name_span;
        format!(
            "{}:{}",
            file.path,
            LineIndex::new(file.text()).line(span.start)
        )
    }

    /// The canonical path and where its definition is: `pkg.mod.Name (pkg/impl.py:25)`.
    pub fn canonical_note(&self, table: &ConceptTable) -> String {
        let concept = &self.settings.concepts[table.concept];
        match table.origin_site {
            Some((module, definition)) => {
                let facts = self.graph.facts(module);
                let origin_name = &facts.definitions[definition].name;
                let alias = if *origin_name != table.canonical_name {
                    format!(", defined as `{origin_name}`")
                } else {
                    String::new()
                };
                format!(
                    "canonical: `{}` ({}{alias})",
                    concept.canonical,
                    self.location(module, definition)
                )
            }
            None => format!("canonical: `{}`", concept.canonical),
        }
    }

    fn finding(&self, rule: Rule, concept: Option<usize>, module: usize, span: Span) -> Finding {
        let file = self.graph.modules[module].file;
        Finding {
            rule,
            concept,
            path: self.graph.files[file].path.clone(),
            file: Some(file),
            span,
            symbol: String::new(),
            message: String::new(),
            label: String::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }
}

/// Which rules run: `--select` and `--ignore`, by code prefix (`SSOT00` is every 00x rule,
/// `ALL` every rule).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    /// Checks that every entry names at least one rule.
    pub fn validate(&self) -> Result<(), String> {
        for entry in self.select.iter().chain(&self.ignore) {
            if !Rule::ALL.iter().any(|&rule| matches_prefix(entry, rule)) {
                return Err(format!(
                    "`{entry}` is not a rule code or prefix (`ssot-gardener explain` lists them)"
                ));
            }
        }
        Ok(())
    }

    pub fn enabled(&self, rule: Rule) -> bool {
        let selected =
            self.select.is_empty() || self.select.iter().any(|entry| matches_prefix(entry, rule));
        selected && !self.ignore.iter().any(|entry| matches_prefix(entry, rule))
    }
}

fn matches_prefix(entry: &str, rule: Rule) -> bool {
    entry.eq_ignore_ascii_case("ALL")
        || rule.name() == entry
        || (rule.code().len() >= entry.len()
            && rule.code()[..entry.len()].eq_ignore_ascii_case(entry))
}

/// Runs every enabled rule and applies per-path ignores and suppression comments. Findings
/// come back sorted by path, then position, then code.
/// A rule run once per concept.
type ConceptRule = fn(&Context, &ConceptTable, &mut Vec<Finding>);
/// A rule run once per repository.
type GlobalRule = fn(&Context, &mut Vec<Finding>);

pub fn check(cx: &Context, selection: &Selection) -> Vec<Finding> {
    let enabled = |rule| selection.enabled(rule);
    // Each rule of each concept is a task of its own, run on all cores; their findings are
    // joined in this fixed order, so the output never depends on the thread count.
    type Task<'t> = Box<dyn Fn(&mut Vec<Finding>) + Send + Sync + 't>;
    let mut tasks: Vec<Task> = Vec::new();
    for table in cx.tables {
        let concept = &cx.settings.concepts[table.concept];
        // The concept's own `ignore`, and SSOT008 only for a class that is not meant to be
        // constructed anywhere.
        let enabled = |rule: Rule| {
            enabled(rule)
                && concept.applies(rule.code())
                && !(rule == Rule::DirectInstantiation && concept.constructible)
        };
        let per_concept: [(Rule, ConceptRule); 7] = [
            (
                Rule::DuplicateImplementation,
                duplicate_implementation::check,
            ),
            (Rule::IndirectImport, indirect_import::check),
            (Rule::DuplicateImport, duplicate_import::check),
            (Rule::FactoryProliferation, factory_proliferation::check),
            (Rule::CompatShim, compat_shim::check),
            (Rule::StringReference, string_reference::check),
            (Rule::DirectInstantiation, direct_instantiation::check),
        ];
        for (rule, run) in per_concept {
            if enabled(rule) {
                tasks.push(Box::new(move |findings| run(cx, table, findings)));
            }
        }
    }
    let global: [(Rule, GlobalRule); 4] = [
        (Rule::StaleBackup, stale_backup::check),
        (Rule::SyntaxError, syntax_error::check),
        (Rule::BrokenImport, broken_import::check),
        (Rule::AwaitMismatch, await_mismatch::check),
    ];
    for (rule, run) in global {
        if enabled(rule) {
            tasks.push(Box::new(move |findings| run(cx, findings)));
        }
    }
    let findings: Vec<Finding> = {
        use rayon::prelude::*;
        tasks
            .par_iter()
            .map(|task| {
                let mut findings = Vec::new();
                task(&mut findings);
                findings
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect()
    };
    let mut findings = findings;
    findings.retain(|finding| {
        !cx.settings
            .is_ignored(Path::new(&finding.path), finding.rule.code())
    });
    let mut findings = unused_suppression::apply(cx, findings, &enabled);
    sort(&mut findings);
    findings
}

/// By path, then position, then code.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.span.start, a.rule, a.span.end, &a.message).cmp(&(
            &b.path,
            b.span.start,
            b.rule,
            b.span.end,
            &b.message,
        ))
    });
}

/// Backticked, comma-separated names: `` `a`, `b` ``.
pub(crate) fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 import", "3 imports".
pub(crate) fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else if let Some(stem) = word
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        // "entry", "entries" (issue 16 saw "6 entrys"); "key", "keys".
        format!("{count} {stem}ies")
    } else {
        format!("{count} {word}s")
    }
}

#[cfg(test)]
mod plural_tests {
    #[test]
    fn plurals() {
        assert_eq!(super::plural(1, "entry"), "1 entry");
        assert_eq!(super::plural(6, "entry"), "6 entries");
        assert_eq!(super::plural(2, "key"), "2 keys");
        assert_eq!(super::plural(0, "finding"), "0 findings");
    }
}
