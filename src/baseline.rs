//! The baseline: findings accepted on the day a team adopts the tool, so that CI fails on new
//! ones only and the old ones can be seen to burn down.
//!
//! A finding is recognised by its fingerprint: a hash of the rule, the file's path relative to
//! the repository root, the concept, the symbol and the whitespace-normalised text of the
//! lines the finding points at. Line numbers and absolute paths never enter it, so moving code
//! inside a file, adding lines above it, or running from another directory or machine keeps
//! every fingerprint. Identical findings in one file share a fingerprint and are counted: with
//! two identical bad imports in a file and one in the baseline, the second one is new.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::facts::{line_end, line_start};
use crate::graph::Graph;
use crate::render::Positions;
use crate::rules::Finding;

/// The baseline file's format version.
pub const VERSION: u32 = 1;

/// A finding's fingerprint: 32 hex digits.
/// `texts` reads the finding's file (one file at a time: pass findings sorted by file).
pub fn fingerprint(texts: &mut Positions, settings: &Settings, finding: &Finding) -> String {
    let concept = finding
        .concept
        .map_or("", |index| settings.concepts[index].name.as_str());
    let statement = finding
        .file
        .map(|file| statement(texts.text(file), finding))
        .unwrap_or_default();
    // Fields are separated by a byte that cannot occur in any of them.
    let key = [
        finding.rule.code(),
        finding.path.as_str(),
        concept,
        finding.symbol.as_str(),
        statement.as_str(),
    ]
    .join("\0");
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(key.as_bytes()))
}

/// The whitespace-normalised text of the whole lines under the finding's span: the statement
/// of an import, the header line of a class, the line holding a string.
pub fn statement(text: &[u8], finding: &Finding) -> String {
    if finding.span.start == 0 && finding.span.end == 0 {
        // A finding about a whole file.
        return String::new();
    }
    let start = line_start(text, finding.span.start as usize);
    let end = line_end(text, (finding.span.end as usize).max(start));
    String::from_utf8_lossy(&text[start..end])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The baseline file: sorted by path, rule, symbol and fingerprint, one entry per distinct
/// fingerprint, so that it diffs well in review.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Only the fingerprint and the count are used for matching; the rest is for reviewers.
    pub path: String,
    pub rule: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub concept: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub symbol: String,
    pub fingerprint: String,
    /// How many identical findings the file had.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: usize,
    /// The finding's message when the baseline was written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

fn one() -> usize {
    1
}

fn is_one(count: &usize) -> bool {
    *count == 1
}

impl Baseline {
    /// The baseline that accepts exactly `findings`.
    pub fn from_findings(graph: &Graph, settings: &Settings, findings: &[Finding]) -> Baseline {
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        let mut texts = Positions::new(graph);
        for finding in findings {
            let fingerprint = fingerprint(&mut texts, settings, finding);
            entries
                .entry(fingerprint.clone())
                .and_modify(|entry| entry.count += 1)
                .or_insert_with(|| Entry {
                    path: finding.path.clone(),
                    rule: finding.rule.code().to_string(),
                    concept: finding
                        .concept
                        .map(|index| settings.concepts[index].name.clone())
                        .unwrap_or_default(),
                    symbol: finding.symbol.clone(),
                    fingerprint,
                    count: 1,
                    message: finding.message.clone(),
                });
        }
        let mut findings: Vec<Entry> = entries.into_values().collect();
        findings.sort();
        Baseline {
            version: VERSION,
            findings,
        }
    }

    /// Reads a baseline file; the error says what is wrong with it.
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                "does not exist (write it with `ssot-gardener baseline`)".to_string()
            } else {
                format!("cannot read it: {error}")
            }
        })?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|error| {
            format!("is not a baseline file: {error} (rewrite it with `ssot-gardener baseline`)")
        })?;
        if baseline.version != VERSION {
            return Err(format!(
                "has format version {}, this ssot-gardener reads version {VERSION} (rewrite it with `ssot-gardener baseline`)",
                baseline.version
            ));
        }
        Ok(baseline)
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline serialises");
        text.push('\n');
        text
    }

    /// Splits `findings` into the new ones (returned, in their order) and the accepted ones;
    /// of identical findings in a file, the first ones are accepted up to the baseline's count.
    /// Entries that matched nothing count as stale when `in_scope` (the run looked at their
    /// path and rule: a run over some files or rules says nothing about the others).
    pub fn filter(
        &self,
        graph: &Graph,
        settings: &Settings,
        findings: Vec<Finding>,
        in_scope: &dyn Fn(&Entry) -> bool,
    ) -> (Vec<Finding>, Matched) {
        let mut left: HashMap<&str, usize> = self
            .findings
            .iter()
            .map(|entry| (entry.fingerprint.as_str(), entry.count))
            .collect();
        let mut fresh = Vec::new();
        let mut accepted = 0;
        let mut texts = Positions::new(graph);
        for finding in findings {
            let fingerprint = fingerprint(&mut texts, settings, &finding);
            match left.get_mut(fingerprint.as_str()) {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    accepted += 1;
                }
                _ => fresh.push(finding),
            }
        }
        // The entries left over, with how many of each: fixed since the baseline was written.
        let fixed = self
            .findings
            .iter()
            .filter(|entry| in_scope(entry))
            .filter_map(|entry| {
                let count = left.get(entry.fingerprint.as_str()).copied().unwrap_or(0);
                (count > 0).then(|| Entry {
                    count,
                    ..entry.clone()
                })
            })
            .collect();
        (fresh, Matched { accepted, fixed })
    }
}

/// What a baseline accepted in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matched {
    /// Findings the baseline accepted, not reported.
    pub accepted: usize,
    /// Baseline entries that matched no finding (fixed since), in file order, each with how
    /// many of its findings are gone.
    pub fixed: Vec<Entry>,
}

impl Matched {
    /// How much the baseline can shrink: the findings it accepts that are gone.
    pub fn stale(&self) -> usize {
        self.fixed.iter().map(|entry| entry.count).sum()
    }
}
