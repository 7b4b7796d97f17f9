//! Suppression comments (`# ssot: ignore[SSOT002] reason` on the line of a finding or the
//! line above), and SSOT901 unused-suppression: a suppression that silences nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{Applicability, Context, Edit, Finding, Fix, Rule};
use crate::facts::{LineIndex, Span, Suppression};

/// Drops the findings that a suppression comment silences, then reports the suppressions
/// that silenced nothing (when SSOT901 is enabled).
pub(super) fn apply(
    cx: &Context,
    findings: Vec<Finding>,
    enabled: &dyn Fn(Rule) -> bool,
) -> Vec<Finding> {
    let mut lines: HashMap<usize, LineIndex> = HashMap::new();
    let mut line_of = |file: usize, offset: u32| {
        lines
            .entry(file)
            .or_insert_with(|| LineIndex::new(&cx.graph.files[file].text))
            .line(offset)
    };
    // (file, suppression index, code or "" for a bare suppression)
    let mut used: HashSet<(usize, usize, &'static str)> = HashSet::new();
    let mut kept = Vec::with_capacity(findings.len());
    for finding in findings {
        let Some(file) = finding.file else {
            kept.push(finding);
            continue;
        };
        let suppressions = &cx.graph.files[file].facts.suppressions;
        if suppressions.is_empty() {
            kept.push(finding);
            continue;
        }
        let line = line_of(file, finding.span.start);
        let code = finding.rule.code();
        let mut silenced = false;
        for (index, suppression) in suppressions.iter().enumerate() {
            let at = line_of(file, suppression.span.start);
            if at != line && at + 1 != line {
                continue;
            }
            if suppression.codes.is_empty() {
                used.insert((file, index, ""));
                silenced = true;
            } else if suppression
                .codes
                .iter()
                .any(|c| Rule::find(c) == Some(finding.rule))
            {
                used.insert((file, index, code));
                silenced = true;
            }
        }
        if !silenced {
            kept.push(finding);
        }
    }
    if !enabled(Rule::UnusedSuppression) {
        return kept;
    }
    for (file_index, file) in cx.graph.files.iter().enumerate() {
        if file.facts.suppressions.is_empty()
            || cx
                .settings
                .is_ignored(Path::new(&file.path), Rule::UnusedSuppression.code())
        {
            continue;
        }
        for (index, suppression) in file.facts.suppressions.iter().enumerate() {
            let mut unused = Vec::new();
            let mut unknown = Vec::new();
            if suppression.codes.is_empty() {
                if !used.contains(&(file_index, index, "")) {
                    unused.push(String::new());
                }
            } else {
                for code in &suppression.codes {
                    match Rule::find(code) {
                        None => unknown.push(code.clone()),
                        // Nothing to silence where the rule does not run.
                        Some(rule)
                            if rule == Rule::UnusedSuppression
                                || !enabled(rule)
                                || cx.settings.is_ignored(Path::new(&file.path), rule.code()) => {}
                        Some(rule) => {
                            if !used.contains(&(file_index, index, rule.code())) {
                                unused.push(code.clone());
                            }
                        }
                    }
                }
            }
            if unused.is_empty() && unknown.is_empty() {
                continue;
            }
            let all_unused = unused.len() + unknown.len() == suppression.codes.len().max(1);
            let message = if !unknown.is_empty() {
                format!(
                    "suppression names unknown rule {}",
                    super::quoted_list(&unknown)
                )
            } else if suppression.codes.is_empty() {
                "suppression silences nothing".to_string()
            } else {
                format!("unused suppression of {}", super::quoted_list(&unused))
            };
            let fix = if all_unused {
                remove_comment(&file.text, suppression)
            } else {
                let keep: Vec<&String> = suppression
                    .codes
                    .iter()
                    .filter(|code| !unused.contains(code) && !unknown.contains(code))
                    .collect();
                replace_codes(&file.text, suppression, &keep)
            };
            kept.push(Finding {
                rule: Rule::UnusedSuppression,
                concept: None,
                path: file.path.clone(),
                file: Some(file_index),
                span: suppression.span,
                message,
                label: if all_unused {
                    "silences nothing".to_string()
                } else {
                    "partly unused".to_string()
                },
                help: Some(match (all_unused, fix.is_some()) {
                    (true, true) => "remove the comment".to_string(),
                    (false, true) => "remove the unused codes from the comment".to_string(),
                    (_, false) => "remove it by hand (no automatic fix: the comment holds more than the suppression)".to_string(),
                }),
                notes: Vec::new(),
                fix: fix.map(|edit| Fix {
                    applicability: Applicability::Safe,
                    edits: vec![edit],
                }),
            });
        }
    }
    kept
}

/// Deletes a suppression comment (and the blanks before it); a comment alone on its line
/// takes the line with it. `None` when the comment holds more than the suppression
/// (`# noqa: E501  ssot: ignore[...]`).
fn remove_comment(text: &[u8], suppression: &Suppression) -> Option<Edit> {
    let start = suppression.span.start as usize;
    let hash = text[..start].iter().rposition(|&b| b == b'#')?;
    if !text[hash + 1..start]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t')
    {
        return None;
    }
    let mut from = hash;
    while from > 0 && matches!(text[from - 1], b' ' | b'\t') {
        from -= 1;
    }
    let mut to = suppression.span.end as usize;
    let alone = from == 0 || matches!(text[from - 1], b'\n' | b'\r');
    if alone {
        // The whole line, with its line ending.
        match text.get(to) {
            Some(b'\r') if text.get(to + 1) == Some(&b'\n') => to += 2,
            Some(b'\r' | b'\n') => to += 1,
            _ => {}
        }
    }
    Some(Edit {
        span: Span::new(from, to),
        content: String::new(),
    })
}

/// Rewrites the code list of a partly used suppression to the codes that still silence.
fn replace_codes(text: &[u8], suppression: &Suppression, keep: &[&String]) -> Option<Edit> {
    let comment = &text[suppression.span.range()];
    let open = comment.iter().position(|&b| b == b'[')?;
    let close = open + comment[open..].iter().position(|&b| b == b']')?;
    let start = suppression.span.start as usize;
    Some(Edit {
        span: Span::new(start + open + 1, start + close),
        content: keep
            .iter()
            .map(|code| code.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}
