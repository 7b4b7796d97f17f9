//! `--format junit`: a JUnit XML report for CI systems that show test results, shaped like
//! ruff's `junit` format: a test suite per file with findings, a failed test case per finding,
//! and a single passing case `No errors found` when there are none. No timestamps or
//! durations, so the same findings give the same bytes.
//!
//! The XML is written by hand: it is small, and every value goes through [`escape`].

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::Positions;
use crate::graph::Graph;
use crate::rules::Finding;

const NAME: &str = "ssot-gardener";
/// The prefix of test case names (`org.ssot.SSOT002`) and the suites' `package`.
const PACKAGE: &str = "org.ssot";

pub fn junit(out: &mut impl Write, graph: &Graph, findings: &[Finding]) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    let tests = findings.len().max(1);
    writeln!(
        out,
        r#"<testsuites name="{NAME}" tests="{tests}" failures="{}" errors="0">"#,
        findings.len()
    )?;
    if findings.is_empty() {
        writeln!(
            out,
            r#"    <testsuite name="{NAME}" tests="1" disabled="0" errors="0" failures="0" package="{PACKAGE}">"#
        )?;
        writeln!(
            out,
            r#"        <testcase name="No errors found" classname="{NAME}"/>"#
        )?;
        writeln!(out, "    </testsuite>")?;
    }
    // Findings come sorted by path; the map keeps each file's findings in their order.
    let mut by_path: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_path.entry(&finding.path).or_default().push(finding);
    }
    let mut positions = Positions::new(graph);
    for (path, findings) in by_path {
        writeln!(
            out,
            r#"    <testsuite name="{}" tests="{count}" disabled="0" errors="0" failures="{count}" package="{PACKAGE}">"#,
            escape(path),
            count = findings.len()
        )?;
        let classname = escape(&classname(path));
        for finding in findings {
            let position = positions.of(finding);
            writeln!(
                out,
                r#"        <testcase name="{PACKAGE}.{}" classname="{classname}" line="{}" column="{}">"#,
                finding.rule.code(),
                position.line,
                position.column
            )?;
            writeln!(
                out,
                r#"            <failure message="{}">line {}, col {}, {}</failure>"#,
                escape(&finding.message),
                position.line,
                position.column,
                escape(&finding.message)
            )?;
            writeln!(out, "        </testcase>")?;
        }
        writeln!(out, "    </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// The path without its extension, as ruff names classes: `app/routes.py` gives
/// `app/routes`, `app/manager.py.backup_1` gives `app/manager.py`.
fn classname(path: &str) -> String {
    let (directory, name) = match path.rsplit_once('/') {
        Some((directory, name)) => (Some(directory), name),
        None => (None, path),
    };
    let stem = Path::new(name)
        .file_stem()
        .map_or(name.into(), |stem| stem.to_string_lossy());
    match directory {
        Some(directory) => format!("{directory}/{stem}"),
        None => stem.into_owned(),
    }
}

/// Text that is safe both in an attribute value and in element content: the five markup
/// characters as entities, tab and line breaks as character references (an attribute value
/// would otherwise have them normalised to spaces), and the control characters XML 1.0 cannot
/// represent at all replaced by U+FFFD.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' => escaped.push_str("&#9;"),
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(character),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            escape("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;"
        );
        assert_eq!(
            escape("one\ntwo\tthree\u{1}"),
            "one&#10;two&#9;three\u{fffd}"
        );
    }

    #[test]
    fn classname_is_the_path_without_extension() {
        assert_eq!(classname("app/routes.py"), "app/routes");
        assert_eq!(classname("setup.py"), "setup");
        assert_eq!(classname("app/manager.py.backup_1"), "app/manager.py");
        assert_eq!(classname("app/.hidden"), "app/.hidden");
    }
}
