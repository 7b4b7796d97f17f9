//! `--format sarif`: SARIF 2.1.0 for code-scanning services (GitHub code scanning, GitLab,
//! Azure DevOps), documented in `docs/output-formats.md`.
//!
//! One run with every rule described (its doc's summary, "What it does" and the whole doc as
//! help), one result per finding. Locations are relative to `%SRCROOT%`, the repository root,
//! so a service can map them onto its checkout; the absolute root is given once in
//! `originalUriBaseIds`. Each result carries the baseline fingerprint as a partial fingerprint,
//! so a service can follow a finding across commits that move it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Positions;
use crate::config::Settings;
use crate::graph::Graph;
use crate::rules::{Applicability, Finding, Fix, Rule};

/// Where each rule's documentation is published; a rule's page is this plus `SSOT002.md`.
pub const DOCS_URL: &str = "https://github.com/ssot-gardener/ssot-gardener/blob/main/rules/";

const SCHEMA_URL: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URL: &str = "https://github.com/ssot-gardener/ssot-gardener";
/// The base every artifact location is relative to.
const ROOT_BASE_ID: &str = "%SRCROOT%";
/// The key of the baseline fingerprint in `partialFingerprints`; versioned so that a change
/// of the hash can be told apart from a change of the finding.
const FINGERPRINT_KEY: &str = "ssotFingerprint/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Properties<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// Lines and columns are 1-based; the end column is exclusive, as SARIF wants. A finding
/// about a whole file has only `startLine: 1`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Text,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: ByteRegion,
    inserted_content: InsertedContent<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ByteRegion {
    byte_offset: u32,
    byte_length: u32,
}

#[derive(Serialize)]
struct InsertedContent<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Properties<'a> {
    concept: &'a str,
}

pub fn sarif(
    out: &mut impl Write,
    graph: &Graph,
    settings: &Settings,
    findings: &[Finding],
) -> io::Result<()> {
    let mut positions = Positions::new(graph);
    let results = findings
        .iter()
        .map(|finding| result(&mut positions, settings, finding))
        .collect();
    let root = ArtifactLocation {
        uri: root_uri(&settings.root),
        uri_base_id: None,
    };
    let log = Log {
        schema: SCHEMA_URL,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "ssot-gardener",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URL,
                    rules: Rule::ALL.iter().map(|&rule| descriptor(rule)).collect(),
                },
            },
            original_uri_base_ids: BTreeMap::from([(ROOT_BASE_ID, root)]),
            // Our columns count characters, as `Positions` computes them.
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn descriptor(rule: Rule) -> ReportingDescriptor {
    let doc = rule.doc();
    ReportingDescriptor {
        id: rule.code(),
        name: rule.name(),
        short_description: Text { text: summary(doc) },
        full_description: Text {
            text: section(doc, "What it does"),
        },
        help: Help {
            text: doc,
            markdown: doc,
        },
        help_uri: format!("{DOCS_URL}{}.md", rule.code()),
        default_configuration: Configuration { level: "error" },
    }
}

fn result<'a>(
    positions: &mut Positions,
    settings: &'a Settings,
    finding: &'a Finding,
) -> SarifResult<'a> {
    let position = positions.of(finding);
    let region = if finding.file.is_none() || finding.span == crate::facts::Span::default() {
        Region {
            start_line: 1,
            start_column: None,
            end_line: None,
            end_column: None,
        }
    } else {
        Region {
            start_line: position.line,
            start_column: Some(position.column),
            end_line: Some(position.end_line),
            end_column: Some(position.end_column),
        }
    };
    let message = match &finding.help {
        Some(help) => format!("{}\n{help}", finding.message),
        None => finding.message.clone(),
    };
    let fingerprint = crate::baseline::fingerprint(positions, settings, finding);
    SarifResult {
        rule_id: finding.rule.code(),
        rule_index: Rule::ALL
            .iter()
            .position(|&rule| rule == finding.rule)
            .expect("every rule is in Rule::ALL"),
        level: "error",
        message: Text { text: message },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: artifact(finding),
                region,
            },
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
        fixes: finding
            .fix
            .iter()
            .map(|fix| sarif_fix(finding, fix))
            .collect(),
        properties: finding.concept.map(|index| Properties {
            concept: settings.concepts[index].name.as_str(),
        }),
    }
}

fn artifact(finding: &Finding) -> ArtifactLocation {
    ArtifactLocation {
        uri: percent_encode(&finding.path, false),
        uri_base_id: Some(ROOT_BASE_ID),
    }
}

fn sarif_fix<'a>(finding: &Finding, fix: &'a Fix) -> SarifFix<'a> {
    let applicability = match fix.applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display-only",
    };
    SarifFix {
        description: Text {
            text: format!("{applicability} fix"),
        },
        artifact_changes: [ArtifactChange {
            artifact_location: artifact(finding),
            replacements: fix
                .edits
                .iter()
                .map(|edit| Replacement {
                    deleted_region: ByteRegion {
                        byte_offset: edit.span.start,
                        byte_length: edit.span.end - edit.span.start,
                    },
                    inserted_content: InsertedContent {
                        text: &edit.content,
                    },
                })
                .collect(),
        }],
    }
}

/// The doc's summary: the first paragraph that is not a heading, joined into one line.
/// `# SSOT002 indirect-import\n\nAn import of the canonical class through a shim.\n` gives
/// `An import of the canonical class through a shim.`
fn summary(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty() || line.starts_with('#'))
        .take_while(|line| !line.is_empty() && !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text under `## {heading}` up to the next heading of the same or a higher level,
/// trimmed; empty when the doc has no such section.
fn section(doc: &str, heading: &str) -> String {
    let mut lines = doc.lines();
    if !lines
        .by_ref()
        .any(|line| line.trim_end() == format!("## {heading}"))
    {
        return String::new();
    }
    let mut in_code = false;
    let mut text = Vec::new();
    for line in lines {
        // A `# comment` inside a code block is not a heading.
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && (line.starts_with("## ") || line.starts_with("# ")) {
            break;
        }
        text.push(line);
    }
    text.join("\n").trim().to_string()
}

/// `file:///abs/root/`: the repository root as an absolute URI ending in `/`, so relative
/// URIs resolve inside it. A relative root is made absolute against the working directory
/// (symbolic links resolved when it exists).
fn root_uri(root: &Path) -> String {
    let root: Cow<Path> = if root.is_absolute() {
        Cow::Borrowed(root)
    } else {
        let relative = if root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            root
        };
        Cow::Owned(
            std::fs::canonicalize(relative)
                .or_else(|_| std::path::absolute(relative))
                .unwrap_or_else(|_| PathBuf::from(relative)),
        )
    };
    let text = root.to_string_lossy().replace('\\', "/");
    // Windows: `\\?\C:\repo` is `C:/repo`, `\\?\UNC\server\share` is `//server/share`.
    let text = if let Some(unc) = text.strip_prefix("//?/UNC/") {
        format!("//{unc}")
    } else {
        text.strip_prefix("//?/").unwrap_or(&text).to_string()
    };
    let mut uri = match text.strip_prefix("//") {
        // A UNC path: the server is the URI's authority.
        Some(unc) => format!("file://{}", percent_encode(unc, true)),
        None => format!(
            "file:///{}",
            percent_encode(text.trim_start_matches('/'), true)
        ),
    };
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes the bytes of a `/`-separated path that cannot appear in a URI path as they
/// are: spaces, `%`, `#`, `?`, non-ASCII, ... (`a b/ü.py` gives `a%20b/%C3%BC.py`). A `:` is
/// kept only in an absolute path (`C:/repo`); in a relative one it could read as a scheme.
fn percent_encode(path: &str, keep_colon: bool) -> String {
    let mut encoded = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&byte)
            || (keep_colon && byte == b':');
        if keep {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded_minimally() {
        assert_eq!(
            percent_encode("app/ws manager.py", false),
            "app/ws%20manager.py"
        );
        assert_eq!(
            percent_encode("100%/ü#?.py", false),
            "100%25/%C3%BC%23%3F.py"
        );
        assert_eq!(percent_encode("a:b.py", false), "a%3Ab.py");
        assert_eq!(percent_encode("C:/my repo", true), "C:/my%20repo");
    }

    #[test]
    fn an_absolute_root_becomes_a_file_uri_ending_in_a_slash() {
        if cfg!(unix) {
            assert_eq!(
                root_uri(Path::new("/srv/my repo")),
                "file:///srv/my%20repo/"
            );
            assert_eq!(root_uri(Path::new("/")), "file:///");
        }
    }

    #[test]
    fn summary_and_section_come_from_the_doc() {
        let doc = "# SSOT000 name\n\nOne line\nwrapped.\n\n## What it does\n\nChecks.\n\n```python\n# a comment\n```\n\n## Why is this bad?\n\nBecause.\n";
        assert_eq!(summary(doc), "One line wrapped.");
        assert_eq!(
            section(doc, "What it does"),
            "Checks.\n\n```python\n# a comment\n```"
        );
        assert_eq!(section(doc, "Options"), "");
    }
}
