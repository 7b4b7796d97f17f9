//! SSOT903 syntax-error: a file the collector could not read whole.
//!
//! The collector never fails: it records each syntax error it sees in `FileFacts::errors` and
//! reads on, so a broken file is still analysed as far as it goes. This rule makes those
//! errors visible: the facts after a broken statement may be missing, and every other rule
//! may then be silent about that file.

use super::{Context, Finding, Rule, plural};

/// Findings per file. A binary file saved as `.py`, or a file in another language, has an
/// error on nearly every line; past this many the last finding says how many are left.
const MAX_PER_FILE: usize = 10;

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (index, file) in cx.graph.files.iter().enumerate() {
        let errors = &file.facts.errors;
        let shown = errors.len().min(MAX_PER_FILE);
        for (at, error) in errors[..shown].iter().enumerate() {
            let mut notes = Vec::new();
            if at + 1 == shown && errors.len() > shown {
                notes.push(format!(
                    "{} in this file not shown",
                    plural(errors.len() - shown, "more syntax error")
                ));
            }
            out.push(Finding {
                rule: Rule::SyntaxError,
                concept: None,
                path: file.path.clone(),
                file: Some(index),
                span: error.span,
                symbol: error.message.clone(),
                message: format!("syntax error: {}", error.message),
                label: error.message.clone(),
                help: Some(
                    "the file is analysed only as far as it could be read; fix the syntax error"
                        .to_string(),
                ),
                notes,
                fix: None,
            });
        }
    }
}
