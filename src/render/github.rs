//! `--format github`: GitHub Actions workflow commands that annotate a pull request, one
//! `::error` line per finding and nothing else (nothing at all without findings), as ruff's
//! `github` format does.
//!
//! `::error file=app/routes.py,line=2,col=1,endLine=2,endColumn=43,title=SSOT002 (indirect-import)::message%0Ahelp`

use std::io::{self, Write};

use super::Positions;
use crate::graph::Graph;
use crate::rules::Finding;

pub fn github(out: &mut impl Write, graph: &Graph, findings: &[Finding]) -> io::Result<()> {
    let mut positions = Positions::new(graph);
    for finding in findings {
        let mut properties = format!("file={}", escape_property(&finding.path));
        // A finding about a whole file is annotated on the file, not on line 1.
        if finding.file.is_some() && finding.span != crate::facts::Span::default() {
            let position = positions.of(finding);
            properties.push_str(&format!(
                ",line={},col={},endLine={},endColumn={}",
                position.line, position.column, position.end_line, position.end_column
            ));
        }
        let title = format!("{} ({})", finding.rule.code(), finding.rule.name());
        properties.push_str(&format!(",title={}", escape_property(&title)));
        let message = match &finding.help {
            Some(help) => format!("{}\n{help}", finding.message),
            None => finding.message.clone(),
        };
        writeln!(out, "::error {properties}::{}", escape_data(&message))?;
    }
    Ok(())
}

/// The message of a command: GitHub decodes `%25`, `%0D` and `%0A` (`@actions/core`'s
/// `escapeData`); `%` goes first so the others are not escaped twice.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: `,` would end the value and `:` would start the message.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_line_breaks_only() {
        assert_eq!(
            escape_data("100% done, a: b\r\nnext"),
            "100%25 done, a: b%0D%0Anext"
        );
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(escape_property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
        assert_eq!(
            escape_property("SSOT002 (indirect-import)"),
            "SSOT002 (indirect-import)"
        );
    }
}
