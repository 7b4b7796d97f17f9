//! Suppression comments (`# ssot: ignore[SSOT002] reason` on the line of a finding or the
//! line above); SSOT901 unused-suppression, a suppression that silences nothing; SSOT902
//! blanket-suppression, a bare `# ssot: ignore` naming no code (it silences nothing).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use super::{Applicability, Context, Edit, Finding, Fix, Rule};
use crate::facts::{LineIndex, Span, Suppression};

/// Drops the findings that a suppression comment silences, then reports the suppressions
/// that silenced nothing (when SSOT901 is enabled) and the bare ones (SSOT902).
pub(super) fn apply(
    cx: &Context,
    findings: Vec<Finding>,
    enabled: &dyn Fn(Rule) -> bool,
) -> Vec<Finding> {
    let mut lines: HashMap<usize, LineIndex> = HashMap::new();
    let mut line_of = |file: usize, offset: u32| {
        lines
            .entry(file)
            .or_insert_with(|| LineIndex::new(cx.graph.files[file].text()))
            .line(offset)
    };
    // (file, suppression index, code)
    let mut used: HashSet<(usize, usize, &'static str)> = HashSet::new();
    // What each bare suppression would silence if it named the codes: (file, index) -> codes.
    let mut blanket: HashMap<(usize, usize), BTreeSet<&'static str>> = HashMap::new();
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
                // A bare suppression silences nothing: SSOT902 asks for the codes.
                blanket.entry((file, index)).or_default().insert(code);
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
    let unused_on = enabled(Rule::UnusedSuppression);
    let blanket_on = enabled(Rule::BlanketSuppression);
    for (file_index, file) in cx.graph.files.iter().enumerate() {
        if file.facts.suppressions.is_empty() {
            continue;
        }
        let reported = |rule: Rule| {
            let on = if rule == Rule::UnusedSuppression {
                unused_on
            } else {
                blanket_on
            };
            on && !cx.settings.is_ignored(Path::new(&file.path), rule.code())
        };
        for (index, suppression) in file.facts.suppressions.iter().enumerate() {
            if suppression.codes.is_empty() {
                if reported(Rule::BlanketSuppression) {
                    let codes = blanket.get(&(file_index, index));
                    kept.push(blanket_finding(cx, file_index, suppression, codes));
                }
                continue;
            }
            if !reported(Rule::UnusedSuppression) {
                continue;
            }
            let mut unused = Vec::new();
            let mut unknown = Vec::new();
            {
                for code in &suppression.codes {
                    match Rule::find(code) {
                        None => unknown.push(code.clone()),
                        // Nothing to silence where the rule does not run.
                        Some(rule)
                            if matches!(
                                rule,
                                Rule::UnusedSuppression | Rule::BlanketSuppression
                            ) || !enabled(rule)
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
            } else {
                format!("unused suppression of {}", super::quoted_list(&unused))
            };
            let fix = if all_unused {
                remove_comment(file.text(), suppression)
            } else {
                let keep: Vec<&String> = suppression
                    .codes
                    .iter()
                    .filter(|code| !unused.contains(code) && !unknown.contains(code))
                    .collect();
                replace_codes(file.text(), suppression, &keep)
            };
            kept.push(Finding {
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
                fix: fix.map(|edit| Fix::new(Applicability::Safe, vec![edit])),
                ..suppression_finding(cx, Rule::UnusedSuppression, file_index, suppression)
            });
        }
    }
    kept
}

/// SSOT902: a bare `# ssot: ignore`. When findings sit on the lines it covers, the fix (unsafe:
/// it silences them) names their codes; otherwise the fix (safe) removes the comment.
fn blanket_finding(
    cx: &Context,
    file_index: usize,
    suppression: &Suppression,
    codes: Option<&BTreeSet<&'static str>>,
) -> Finding {
    let file = &cx.graph.files[file_index];
    let (message, label, help, fix) = match codes {
        Some(codes) => {
            let list: Vec<&str> = codes.iter().copied().collect();
            let written = format!("ssot: ignore[{}]", list.join(", "));
            let fix = name_codes(file.text(), suppression, &list)
                .map(|edit| Fix::new(Applicability::Unsafe, vec![edit]));
            (
                "bare `ssot: ignore` names no rule, so it silences nothing".to_string(),
                "names no rule".to_string(),
                format!(
                    "name the rules it is meant to silence: `{written}` (the findings on these lines)"
                ),
                fix,
            )
        }
        None => (
            "bare `ssot: ignore` names no rule and has nothing to silence".to_string(),
            "names no rule".to_string(),
            "remove the comment, or name the rules it is meant to silence: `ssot: ignore[SSOT002]`"
                .to_string(),
            remove_comment(file.text(), suppression)
                .map(|edit| Fix::new(Applicability::Safe, vec![edit])),
        ),
    };
    Finding {
        message,
        label,
        help: Some(help),
        fix,
        ..suppression_finding(cx, Rule::BlanketSuppression, file_index, suppression)
    }
}

/// A finding of `rule` on a suppression comment, its text as the symbol.
fn suppression_finding(
    cx: &Context,
    rule: Rule,
    file_index: usize,
    suppression: &Suppression,
) -> Finding {
    let file = &cx.graph.files[file_index];
    Finding {
        rule,
        concept: None,
        path: file.path.clone(),
        file: Some(file_index),
        span: suppression.span,
        symbol: String::from_utf8_lossy(&file.text()[suppression.span.range()]).into_owned(),
        message: String::new(),
        label: String::new(),
        help: None,
        notes: Vec::new(),
        fix: None,
    }
}

/// `ssot: ignore` (or `ssot: ignore[]`) → `ssot: ignore[SSOT002, SSOT003]`.
fn name_codes(text: &[u8], suppression: &Suppression, codes: &[&str]) -> Option<Edit> {
    let comment = &text[suppression.span.range()];
    let at = memchr::memmem::find(comment, b"ignore")? + b"ignore".len();
    let mut end = at;
    if comment.get(at) == Some(&b'[') {
        // Empty or unclosed brackets: replaced when closed on this comment.
        end = at + comment[at..].iter().position(|&b| b == b']')? + 1;
    }
    let start = suppression.span.start as usize;
    Some(Edit {
        span: Span::new(start + at, start + end),
        content: format!("[{}]", codes.join(", ")),
    })
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
