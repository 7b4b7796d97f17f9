//! Findings to text: `human` (snippets with carets), `concise` (one line each), `json`
//! (versioned, documented in `docs/check-format.md`), `sarif`, `github` and `junit`, plus the
//! summary and burn-down.
//!
//! Colours are decided by the caller's stream (`anstream` strips them when the output is not
//! a terminal or `NO_COLOR` is set); this module always writes styled text for `human`.

mod github;
mod junit;
mod sarif;

pub use github::github;
pub use junit::junit;
pub use sarif::sarif;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use serde::Serialize;

use crate::concept::ConceptTable;
use crate::config::Settings;
use crate::facts::{LineIndex, line_end, line_start};
use crate::graph::Graph;
use crate::rules::{Finding, Fix, Rule};

/// Version of the JSON output; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

/// Line and column positions of findings. Findings come sorted by file: the text and line
/// index of one file at a time are kept, read with [`crate::walk::SourceFile::read`] (a file
/// is not held in memory because it has a finding).
pub struct Positions<'g> {
    graph: &'g Graph,
    current: Option<(usize, std::borrow::Cow<'g, [u8]>, LineIndex)>,
}

/// 1-based start and end (line, column); the end column is exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl<'g> Positions<'g> {
    pub fn new(graph: &'g Graph) -> Positions<'g> {
        Positions {
            graph,
            current: None,
        }
    }

    /// The text and line index of `file`.
    fn load(&mut self, file: usize) -> (&[u8], &LineIndex) {
        if self.current.as_ref().is_none_or(|(at, _, _)| *at != file) {
            let text = self.graph.files[file].read();
            let lines = LineIndex::new(&text);
            self.current = Some((file, text, lines));
        }
        let (_, text, lines) = self.current.as_ref().expect("loaded above");
        (text, lines)
    }

    /// The text of `file`.
    pub fn text(&mut self, file: usize) -> &[u8] {
        self.load(file).0
    }

    /// 1-based (line, column) of a byte offset in a file.
    pub fn at(&mut self, file: usize, offset: u32) -> (u32, u32) {
        let (text, lines) = self.load(file);
        lines.line_column(text, offset)
    }

    pub fn of(&mut self, finding: &Finding) -> Position {
        let Some(file) = finding.file else {
            return Position {
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            };
        };
        let (line, column) = self.at(file, finding.span.start);
        let (end_line, end_column) = self.at(file, finding.span.end);
        Position {
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Counts for the end of a run, and the burn-down of each concept.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub findings: usize,
    /// Findings per rule code, only rules with findings.
    pub by_rule: BTreeMap<&'static str, usize>,
    /// Findings with a fix.
    pub fixable: usize,
    pub files: usize,
    pub skipped: usize,
    pub concepts: Vec<BurnDown>,
    /// Set when findings were compared with a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineStatus>,
}

/// What the baseline did in a run.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineStatus {
    /// The baseline file, as given or configured.
    pub path: String,
    /// Findings in the baseline, not reported.
    pub accepted: usize,
    /// Baseline entries that matched nothing (fixed since): the baseline can shrink by this many.
    pub stale: usize,
    /// Those entries, each with how many of its findings are gone.
    pub fixed: Vec<crate::baseline::Entry>,
}

impl BaselineStatus {
    pub fn new(path: String, matched: crate::baseline::Matched) -> BaselineStatus {
        BaselineStatus {
            path,
            accepted: matched.accepted,
            stale: matched.stale(),
            fixed: matched.fixed,
        }
    }
}

/// How many fixed baseline entries the human summary lists.
const FIXED_SHOWN: usize = 10;

/// `Baseline ssot-baseline.json: 23 findings accepted; it can shrink by 2 ...`
pub fn baseline_line(status: &BaselineStatus) -> String {
    let mut line = format!(
        "Baseline {}: {} accepted, not shown.",
        status.path,
        crate::rules::plural(status.accepted, "finding")
    );
    if status.stale > 0 {
        line.push_str(&format!(
            " {} fixed since: baseline can shrink by {} (run `ssot-gardener baseline`).",
            crate::rules::plural(status.stale, "finding"),
            status.stale
        ));
    }
    line
}

/// Where a concept stands: how many import statements use the canonical path, and what is
/// left to remove.
#[derive(Clone, Debug, Serialize)]
pub struct BurnDown {
    pub name: String,
    pub canonical: String,
    /// Import statements that bind the concept's class.
    pub importers: usize,
    /// Of those, the ones that import it from the canonical path.
    pub canonical_importers: usize,
    pub shims: usize,
    pub duplicates: usize,
    pub factories: usize,
    /// Said once: most importers use a public re-export, which may be the path to declare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

pub fn summary(
    graph: &Graph,
    settings: &Settings,
    tables: &[ConceptTable],
    findings: &[Finding],
) -> Summary {
    let mut by_rule = BTreeMap::new();
    for finding in findings {
        *by_rule.entry(finding.rule.code()).or_insert(0) += 1;
    }
    let concepts = tables
        .iter()
        .map(|table| {
            // `from x import Name` statements, and `import x as m` ones read as `m.Name`.
            let sites = table
                .importers
                .iter()
                .map(|site| (site.module, site.import, site.accepted))
                .chain(
                    table
                        .attribute_sites
                        .iter()
                        .map(|site| (site.module, site.import, site.canonical)),
                );
            let statements: BTreeSet<(usize, usize)> = sites
                .clone()
                .map(|(module, import, _)| (module, import))
                .collect();
            let canonical: BTreeSet<(usize, usize)> = sites
                .filter(|&(_, _, canonical)| canonical)
                .map(|(module, import, _)| (module, import))
                .collect();
            let concept = &settings.concepts[table.concept];
            BurnDown {
                name: concept.name.clone(),
                canonical: concept.canonical.clone(),
                importers: statements.len(),
                canonical_importers: canonical.len(),
                shims: table.shims.len(),
                duplicates: table.implementations.len(),
                factories: table.factories.len(),
                hint: table.hint.clone(),
            }
        })
        .collect();
    Summary {
        findings: findings.len(),
        by_rule,
        fixable: findings
            .iter()
            .filter(|finding| finding.fix.is_some())
            .count(),
        files: graph.files.len(),
        skipped: graph.skipped.len(),
        concepts,
        baseline: None,
    }
}

/// `path:line:col: CODE message`
pub fn concise(out: &mut impl Write, graph: &Graph, findings: &[Finding]) -> io::Result<()> {
    let mut positions = Positions::new(graph);
    for finding in findings {
        let position = positions.of(finding);
        writeln!(
            out,
            "{}:{}:{}: {} {}",
            finding.path,
            position.line,
            position.column,
            finding.rule.code(),
            finding.message
        )?;
    }
    Ok(())
}

/// Snippets with the source line, a caret under the span, the label, help and notes.
pub fn human(out: &mut impl Write, graph: &Graph, findings: &[Finding]) -> io::Result<()> {
    let renderer = Renderer::styled();
    let mut positions = Positions::new(graph);
    for finding in findings {
        let position = positions.of(finding);
        let title = Level::ERROR
            .primary_title(finding.message.as_str())
            .id(finding.rule.code());
        let mut group = Group::with_title(title);
        match finding.file {
            Some(file) if finding.span != crate::facts::Span::default() => {
                let text = positions.text(file);
                // Only the lines of the span: rendering never looks at the rest of the file.
                let start = line_start(text, finding.span.start as usize);
                let end = line_end(text, finding.span.end as usize);
                let source = String::from_utf8_lossy(&text[start..end]);
                let relative =
                    |offset: u32| String::from_utf8_lossy(&text[start..offset as usize]).len();
                let span = relative(finding.span.start)..relative(finding.span.end);
                group = group.element(
                    Snippet::source(source)
                        .path(finding.path.as_str())
                        .line_start(position.line as usize)
                        .annotation(
                            AnnotationKind::Primary
                                .span(span)
                                .label(finding.label.as_str()),
                        ),
                );
            }
            _ => {
                group = group.element(Origin::path(finding.path.as_str()));
            }
        }
        if let Some(help) = &finding.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        for note in &finding.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        if let Some(fix) = &finding.fix {
            let kind = match fix.applicability {
                crate::rules::Applicability::Safe => {
                    "a safe fix is available (`ssot-gardener fix`)"
                }
                crate::rules::Applicability::Unsafe => {
                    "an unsafe fix is available (`ssot-gardener fix --unsafe-fixes`)"
                }
                crate::rules::Applicability::DisplayOnly => "a suggested fix is shown",
            };
            group = group.element(Level::NOTE.message(kind));
        }
        writeln!(out, "{}\n", renderer.render(&[group]))?;
    }
    Ok(())
}

/// The text after a human run: findings per rule and each concept's burn-down.
pub fn human_summary(out: &mut impl Write, summary: &Summary) -> io::Result<()> {
    let new = if summary.baseline.is_some() {
        "new "
    } else {
        ""
    };
    if summary.findings == 0 {
        let files = crate::rules::plural(summary.files, "file");
        if summary.baseline.is_some() {
            writeln!(out, "No new findings ({files}).")?;
        } else {
            writeln!(out, "All checks passed ({files}).")?;
        }
    } else {
        let rules: Vec<String> = summary
            .by_rule
            .iter()
            .map(|(code, count)| {
                let name = Rule::find(code).map(Rule::name).unwrap_or_default();
                format!("{code} {name} ×{count}")
            })
            .collect();
        let noun = if summary.findings == 1 {
            "finding"
        } else {
            "findings"
        };
        writeln!(
            out,
            "Found {} {new}{noun} in {}: {}.",
            summary.findings,
            crate::rules::plural(summary.files, "file"),
            rules.join(", ")
        )?;
    }
    for concept in &summary.concepts {
        let percent = (concept.canonical_importers * 100)
            .checked_div(concept.importers)
            .unwrap_or(100);
        writeln!(
            out,
            "{}: {}/{} importers on the canonical path ({percent}%); left: {} shims, {} duplicates, {} factories.",
            concept.name,
            concept.canonical_importers,
            concept.importers,
            concept.shims,
            concept.duplicates,
            concept.factories
        )?;
        if let Some(hint) = &concept.hint {
            writeln!(out, "  hint: {hint}")?;
        }
    }
    if let Some(status) = &summary.baseline {
        writeln!(out, "{}", baseline_line(status))?;
        for entry in status.fixed.iter().take(FIXED_SHOWN) {
            let times = if entry.count > 1 {
                format!(" (×{})", entry.count)
            } else {
                String::new()
            };
            writeln!(
                out,
                "  fixed: {} {} `{}`{times}",
                entry.path, entry.rule, entry.symbol
            )?;
        }
        if status.fixed.len() > FIXED_SHOWN {
            writeln!(out, "  ... and {} more", status.fixed.len() - FIXED_SHOWN)?;
        }
    }
    if summary.skipped > 0 {
        writeln!(
            out,
            "{} files skipped (see the warnings above).",
            summary.skipped
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: &'a Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'static str,
    name: &'static str,
    concept: Option<&'a str>,
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    help: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
    fingerprint: String,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    applicability: crate::rules::Applicability,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    content: &'a str,
}

pub fn json(
    out: &mut impl Write,
    graph: &Graph,
    settings: &Settings,
    findings: &[Finding],
    summary: &Summary,
) -> io::Result<()> {
    let mut positions = Positions::new(graph);
    let findings = findings
        .iter()
        .map(|finding| {
            let position = positions.of(finding);
            JsonFinding {
                code: finding.rule.code(),
                name: finding.rule.name(),
                concept: finding
                    .concept
                    .map(|index| settings.concepts[index].name.as_str()),
                path: &finding.path,
                line: position.line,
                column: position.column,
                end_line: position.end_line,
                end_column: position.end_column,
                message: &finding.message,
                help: finding.help.as_deref(),
                fix: finding
                    .fix
                    .as_ref()
                    .map(|fix| json_fix(&mut positions, finding, fix)),
                fingerprint: crate::baseline::fingerprint(&mut positions, settings, finding),
            }
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &JsonOutput {
            version: JSON_VERSION,
            findings,
            summary,
        },
    )?;
    writeln!(out)
}

fn json_fix<'a>(positions: &mut Positions, finding: &Finding, fix: &'a Fix) -> JsonFix<'a> {
    let edits = fix
        .edits
        .iter()
        .map(|edit| {
            let ((line, column), (end_line, end_column)) = match finding.file {
                Some(file) => (
                    positions.at(file, edit.span.start),
                    positions.at(file, edit.span.end),
                ),
                None => ((1, 1), (1, 1)),
            };
            JsonEdit {
                line,
                column,
                end_line,
                end_column,
                content: &edit.content,
            }
        })
        .collect();
    JsonFix {
        applicability: fix.applicability,
        edits,
    }
}
