//! `check --format sarif|github|junit` through the binary: snapshots of the demo's output in
//! `fixtures/formats/`; the SARIF validated against the official 2.1.0 schema
//! (`tests/data/sarif-schema-2.1.0.json`, with Python's `jsonschema`, pinned in
//! `tests/requirements.txt`), its fingerprints the baseline's and stable when lines move; the
//! JUnit XML read back by a real XML parser; paths that need escaping; and the examples of
//! `docs/output-formats.md` checked against real output.
//!
//! Regenerate the snapshots with `SSOT_BLESS=1 cargo test --release --test it formats`, then
//! read the diff. The SARIF snapshot has the absolute root replaced by `file:///ROOT/` and
//! ssot-gardener's version by `VERSION`, so it holds on any machine and across releases.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::graph::check_snapshot;
use crate::support::{CRATE_ROOT, fixture, run};

const DEMO: &str = "fixtures/demo";
const CLEAN: &str = "fixtures/check/clean";
const DEMO_FINDINGS: usize = 26;
/// `render::sarif::DOCS_URL`: where the help links of the rules point.
const DOCS_URL: &str = "https://github.com/ssot-gardener/ssot-gardener/blob/main/rules/";

/// The stdout of `check --format {format}` on `dir` (relative to `cwd`), after
/// checking the exit code: 1 with findings, 0 without.
fn check_output(cwd: &Path, dir: &str, format: &str, exit: i32) -> String {
    let out = run(cwd, &["check", dir, "--format", format, "--no-cache"]);
    out.assert_clean_exit(exit);
    out.stdout_text()
}

fn sarif_of(cwd: &Path, dir: &str, exit: i32) -> (String, Value) {
    let text = check_output(cwd, dir, "sarif", exit);
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{dir}: the SARIF output is not JSON ({error}):\n{text}"));
    (text, json)
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"]
        .as_array()
        .expect("runs[0].results is an array")
}

/// Runs `script` with `python3`, `args` after it and `input` on stdin; returns the exit code
/// and stdout. A missing `python3` fails the test: CI installs `tests/requirements.txt`.
fn python(script: &str, args: &[&Path], input: &str) -> (i32, String) {
    let mut child = crate::support::python3()
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("these tests need python3 (pip install -r tests/requirements.txt): {error}")
        });
    // A script that exits early (a missing module) closes its stdin: its exit code says why.
    let written = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes());
    if let Err(error) = written {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write to python3"
        );
    }
    let output = child.wait_with_output().expect("wait for python3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("Traceback"), "python3 failed:\n{stderr}");
    (
        output.status.code().expect("python3 exited"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Exit 0 when stdin validates against the schema in argv[1], 1 with one line per error,
/// 3 when `jsonschema` is not installed.
const VALIDATE: &str = r#"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(3)
with open(sys.argv[1], encoding="utf-8") as file:
    schema = json.load(file)
document = json.load(sys.stdin)
errors = sorted(
    jsonschema.Draft4Validator(schema).iter_errors(document),
    key=lambda error: list(map(str, error.absolute_path)),
)
for error in errors:
    print("/".join(map(str, error.absolute_path)) + ": " + error.message)
sys.exit(1 if errors else 0)
"#;

/// The schema's complaints about `document`, one per line; empty when it is valid.
fn schema_errors(document: &str) -> String {
    let schema = fixture("tests/data/sarif-schema-2.1.0.json");
    let (code, stdout) = python(VALIDATE, &[&schema], document);
    assert_ne!(
        code, 3,
        "python3 has no `jsonschema` module: pip install -r tests/requirements.txt"
    );
    assert!(code == 0 || code == 1, "the validator exited {code}");
    assert_eq!(code == 0, stdout.is_empty(), "{stdout}");
    stdout
}

#[test]
fn sarif_snapshot_of_the_demo() {
    let (text, sarif) = sarif_of(Path::new(CRATE_ROOT), DEMO, 1);
    assert_eq!(results(&sarif).len(), DEMO_FINDINGS);
    let root = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT% has a uri");
    assert!(
        root.starts_with("file:///") && root.ends_with("/fixtures/demo/"),
        "{root}"
    );
    let version = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(text.matches(&version).count(), 1, "the driver's version");
    let redacted = redact_docs(&text, &sarif)
        .replace(&format!("\"{root}\""), "\"file:///ROOT/\"")
        .replace(&version, "\"version\": \"VERSION\"");
    if let Some(failure) = check_snapshot(&fixture("fixtures/formats/demo.sarif.json"), &redacted) {
        panic!("{failure}");
    }
}

/// `text` with each rule's documentation (`help`, the whole `rules/CODE.md`) and its "What it
/// does" section (`fullDescription`) replaced by where they come from, after checking they do:
/// the snapshot is about the format, and an edit of a rule's doc should not change it.
fn redact_docs(text: &str, sarif: &Value) -> String {
    let mut text = text.to_string();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("driver.rules");
    for rule in rules {
        let id = rule["id"].as_str().expect("id");
        let doc = rule["help"]["markdown"].as_str().expect("help.markdown");
        let file = format!("rules/{id}.md");
        assert_eq!(
            doc,
            fs::read_to_string(fixture(&file)).expect("the rule's doc"),
            "{id}: help.markdown is {file}"
        );
        assert_eq!(rule["help"]["text"].as_str(), Some(doc), "{id}: help.text");
        let what = rule["fullDescription"]["text"]
            .as_str()
            .expect("fullDescription.text");
        assert!(
            doc.contains(&format!("## What it does\n\n{what}\n")),
            "{id}: fullDescription is the \"What it does\" section:\n{what}"
        );
        let quoted = |value: &str| serde_json::to_string(value).expect("a JSON string");
        for (key, value, replacement) in [
            ("text", doc, file.clone()),
            ("markdown", doc, file.clone()),
            ("text", what, format!("{file}, \"What it does\"")),
        ] {
            let from = format!("\"{key}\": {}", quoted(value));
            assert!(text.contains(&from), "{id}: {key} {value}");
            text = text.replacen(&from, &format!("\"{key}\": {}", quoted(&replacement)), 1);
        }
    }
    text
}

#[test]
fn github_snapshot_of_the_demo() {
    let text = check_output(Path::new(CRATE_ROOT), DEMO, "github", 1);
    assert_eq!(text.lines().count(), DEMO_FINDINGS, "one line per finding");
    assert!(
        text.lines()
            .all(|line| line.starts_with("::error file=") && line.contains(",title=SSOT")),
        "{text}"
    );
    if let Some(failure) = check_snapshot(&fixture("fixtures/formats/demo.github.txt"), &text) {
        panic!("{failure}");
    }
}

#[test]
fn junit_snapshot_of_the_demo() {
    let text = check_output(Path::new(CRATE_ROOT), DEMO, "junit", 1);
    if let Some(failure) = check_snapshot(&fixture("fixtures/formats/demo.junit.xml"), &text) {
        panic!("{failure}");
    }
}

#[test]
fn sarif_validates_against_the_official_2_1_0_schema() {
    let (demo, sarif) = sarif_of(Path::new(CRATE_ROOT), DEMO, 1);
    assert_eq!(schema_errors(&demo), "", "the demo's SARIF");
    let (clean, clean_sarif) = sarif_of(Path::new(CRATE_ROOT), CLEAN, 0);
    assert!(results(&clean_sarif).is_empty());
    assert_eq!(schema_errors(&clean), "", "the clean repository's SARIF");
    // The validator does reject a broken log, so the checks above can fail.
    let mut broken = sarif.clone();
    broken["version"] = Value::from("2.0.0");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    let errors = schema_errors(&broken.to_string());
    assert_eq!(errors.lines().count(), 2, "{errors}");
    // Every result points at its rule, and every rule has its documentation.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("driver.rules");
    for result in results(&sarif) {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    for rule in rules {
        let id = rule["id"].as_str().expect("id");
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .unwrap_or("")
                .is_empty()
                && !rule["fullDescription"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .is_empty(),
            "{id} lacks a description"
        );
        assert_eq!(
            rule["helpUri"].as_str(),
            Some(format!("{DOCS_URL}{id}.md").as_str())
        );
    }
}

/// `(uri, fingerprint, start line)` of each result, in order.
fn fingerprints(sarif: &Value) -> Vec<(String, String, u64)> {
    results(sarif)
        .iter()
        .map(|result| {
            let location = &result["locations"][0]["physicalLocation"];
            (
                location["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri")
                    .to_string(),
                result["partialFingerprints"]["ssotFingerprint/v1"]
                    .as_str()
                    .expect("ssotFingerprint/v1")
                    .to_string(),
                location["region"]["startLine"].as_u64().expect("startLine"),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_do_not_move_with_lines() {
    let (_, original) = sarif_of(Path::new(CRATE_ROOT), DEMO, 1);
    let before = fingerprints(&original);
    assert_eq!(before.len(), DEMO_FINDINGS);
    let is_hex = |text: &str| text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit());
    assert!(
        before.iter().all(|(_, print, _)| is_hex(print)),
        "{before:?}"
    );
    // Equal fingerprints only for identical findings: same rule, file and message.
    let mut by_print: BTreeMap<&str, Vec<(&Value, &Value, &Value)>> = BTreeMap::new();
    for result in results(&original) {
        let print = result["partialFingerprints"]["ssotFingerprint/v1"]
            .as_str()
            .expect("fingerprint");
        by_print.entry(print).or_default().push((
            &result["ruleId"],
            &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            &result["message"]["text"],
        ));
    }
    for (print, group) in &by_print {
        assert!(
            group.windows(2).all(|pair| pair[0] == pair[1]),
            "{print} is shared by different findings: {group:?}"
        );
    }
    assert_eq!(
        by_print.len(),
        DEMO_FINDINGS,
        "the demo's findings are distinct"
    );

    // A copy elsewhere, with 20 blank lines above everything in one file.
    let copy = tempfile::tempdir().expect("temporary directory");
    crate::support::copy_dir(&fixture(DEMO), copy.path());
    let moved = "chatapp/websocket_core/heartbeat.py";
    let file = copy.path().join(moved);
    let text = fs::read_to_string(&file).expect("read the file");
    fs::write(&file, format!("{}{text}", "\n".repeat(20))).expect("write the file");
    let (_, shifted) = sarif_of(copy.path(), ".", 1);
    let after = fingerprints(&shifted);
    assert_eq!(after.len(), before.len());
    let mut moved_results = 0;
    for (old, new) in before.iter().zip(&after) {
        assert_eq!((&old.0, &old.1), (&new.0, &new.1), "fingerprints kept");
        if old.0 == moved {
            moved_results += 1;
            assert_eq!(new.2, old.2 + 20, "the finding moved down 20 lines");
        } else {
            assert_eq!(new.2, old.2);
        }
    }
    assert!(moved_results > 0, "{moved} has findings");
}

/// Counts in a JUnit report as `tests failures suites cases failure-elements first-case`.
const JUNIT_COUNTS: &str = r#"
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
assert root.tag == "testsuites", root.tag
cases = root.findall("./testsuite/testcase")
print(root.get("tests"), root.get("failures"), len(root.findall("./testsuite")),
      len(cases), len(root.findall("./testsuite/testcase/failure")), cases[0].get("name"))
"#;

#[test]
fn junit_is_well_formed_with_one_failure_per_finding() {
    let demo = check_output(Path::new(CRATE_ROOT), DEMO, "junit", 1);
    let (code, counts) = python(JUNIT_COUNTS, &[], &demo);
    assert_eq!(code, 0, "{counts}");
    let fields: Vec<&str> = counts.split_whitespace().collect();
    let n = DEMO_FINDINGS.to_string();
    assert_eq!(fields[..2], [n.as_str(), n.as_str()], "{counts}");
    assert_eq!(fields[3..5], [n.as_str(), n.as_str()], "{counts}");
    assert!(fields[5].starts_with("org.ssot.SSOT"), "{counts}");

    let clean = check_output(Path::new(CRATE_ROOT), CLEAN, "junit", 0);
    let (code, counts) = python(JUNIT_COUNTS, &[], &clean);
    assert_eq!(code, 0, "{counts}");
    assert_eq!(counts.trim(), "1 0 1 1 0 No errors found");
}

#[test]
fn github_prints_nothing_without_findings() {
    assert_eq!(check_output(Path::new(CRATE_ROOT), CLEAN, "github", 0), "");
}

#[test]
fn paths_with_spaces_percent_signs_and_commas_are_encoded() {
    let parent = tempfile::tempdir().expect("temporary directory");
    let root = parent.path().join("my repo%");
    crate::support::write_files(
        &root,
        &[
            ("ssot.toml", b"[project]\npython-roots = [\".\"]\n"),
            ("app/__init__.py", b""),
            ("app/web manager,1%.py.bak", b"x = 1\n"),
        ],
    );
    let (_, sarif) = sarif_of(&root, ".", 1);
    let base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT% has a uri");
    assert!(base.ends_with("/my%20repo%25/"), "{base}");
    let location = &results(&sarif)[0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "app/web%20manager,1%25.py.bak"
    );
    // A whole-file finding: line 1, nothing more precise.
    assert_eq!(location["region"], serde_json::json!({"startLine": 1}));
    let github = check_output(&root, ".", "github", 1);
    assert!(
        github.starts_with(
            "::error file=app/web manager%2C1%25.py.bak,title=SSOT006 (stale-backup)::"
        ),
        "{github}"
    );
}

#[test]
fn sarif_fingerprints_are_the_baselines() {
    let (_, sarif) = sarif_of(Path::new(CRATE_ROOT), DEMO, 1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("baseline.json");
    let file_arg = file.to_str().expect("a UTF-8 temporary path");
    let out = run(
        Path::new(CRATE_ROOT),
        &["baseline", DEMO, "--baseline", file_arg, "--no-cache"],
    );
    out.assert_clean_exit(0);
    let baseline: Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("the baseline was written"))
            .expect("the baseline is JSON");
    let from_baseline: BTreeMap<String, (String, String)> = baseline["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|entry| {
            (
                entry["fingerprint"]
                    .as_str()
                    .expect("fingerprint")
                    .to_string(),
                (
                    entry["rule"].as_str().expect("rule").to_string(),
                    entry["path"].as_str().expect("path").to_string(),
                ),
            )
        })
        .collect();
    let from_sarif: BTreeMap<String, (String, String)> = results(&sarif)
        .iter()
        .map(|result| {
            (
                result["partialFingerprints"]["ssotFingerprint/v1"]
                    .as_str()
                    .expect("fingerprint")
                    .to_string(),
                (
                    result["ruleId"].as_str().expect("ruleId").to_string(),
                    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .expect("uri")
                        .to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(from_sarif, from_baseline);
}

/// The bodies of the fenced code blocks of `language` in a Markdown document, in order.
fn code_blocks(markdown: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    markdown
        .split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or("").to_string())
        .collect()
}

/// docs/output-formats.md shows real output: its SARIF result, GitHub command and JUnit lines
/// are the demo's, field for field.
#[test]
fn the_doc_examples_are_real_output() {
    let doc = fs::read_to_string(fixture("docs/output-formats.md")).expect("the doc");
    let root = Path::new(CRATE_ROOT);

    let (_, sarif) = sarif_of(root, DEMO, 1);
    let example: Value =
        serde_json::from_str(&code_blocks(&doc, "json")[0]).expect("the SARIF example is JSON");
    assert!(
        results(&sarif).contains(&example),
        "the SARIF example is not a result of the demo:\n{example:#}"
    );

    let github = check_output(root, DEMO, "github", 1);
    let example = &code_blocks(&doc, "text")[0];
    assert!(
        github.lines().any(|line| line == example.trim_end()),
        "the GitHub example is not a line of the demo's output:\n{example}"
    );

    let junit = check_output(root, DEMO, "junit", 1);
    let example = &code_blocks(&doc, "xml")[0];
    for line in example.lines() {
        assert!(
            junit.lines().any(|actual| actual == line),
            "the JUnit example has a line the demo's output lacks:\n{line}"
        );
    }
}
