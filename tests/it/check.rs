//! `ssot-gardener check` through the binary: every fixture repository under `fixtures/check`
//! and the demo, checked against the table of expected findings in its CASE.md and against
//! snapshots of the human and JSON output beside it; selection, exit codes, colours,
//! `explain`, and a canonical path that names nothing.
//!
//! Adding a case needs no code: a directory with an `ssot.toml`, the sources, and a CASE.md
//! whose "Findings that must fire" table lists `| # | file | line | what | rule |` rows (line
//! `-` for a finding about a whole file). Regenerate the snapshots with
//! `SSOT_BLESS=1 cargo test --release --test it check`, then read the diff: the CASE.md
//! comparison still runs when blessing.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::graph::check_snapshot;
use crate::support::{BIN, CRATE_ROOT, fixture, run};

const MIN_CASES: usize = 12;

/// Every fixture repository: `fixtures/check/*` and the demo.
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = fs::read_dir(fixture("fixtures/check"))
        .expect("fixtures/check exists")
        .map(|entry| entry.expect("readable fixture entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| format!("fixtures/check/{}", entry.file_name().to_string_lossy()))
        .collect();
    cases.sort();
    cases.push("fixtures/demo".to_string());
    assert!(
        cases.len() >= MIN_CASES,
        "fixtures/check lost cases: {cases:?}"
    );
    cases
}

/// `(path, line, code)` → count, from the "Findings that must fire" table of a CASE.md.
fn expected_findings(case_md: &str) -> BTreeMap<(String, u32, String), usize> {
    let section = case_md
        .split("## Findings that must fire")
        .nth(1)
        .expect("a `## Findings that must fire` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut expected = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() < 4 || cells[0].parse::<u32>().is_err() {
            continue;
        }
        let line_number = if cells[2] == "-" {
            1
        } else {
            cells[2].parse().expect("a line number or -")
        };
        let code = cells[cells.len() - 1]
            .split_whitespace()
            .next()
            .expect("a rule code")
            .to_string();
        *expected
            .entry((cells[1].to_string(), line_number, code))
            .or_insert(0) += 1;
    }
    expected
}

fn actual_findings(json: &Value) -> BTreeMap<(String, u32, String), usize> {
    let mut actual = BTreeMap::new();
    for finding in json["findings"].as_array().expect("findings is an array") {
        let key = (
            finding["path"].as_str().expect("path").to_string(),
            finding["line"].as_u64().expect("line") as u32,
            finding["code"].as_str().expect("code").to_string(),
        );
        *actual.entry(key).or_insert(0) += 1;
    }
    actual
}

/// The JSON output of `check` on a fixture, after checking the exit code matches it.
fn check_json(dir: &str, extra: &[&str]) -> Value {
    let mut args = vec!["check", dir, "--format", "json", "--no-cache"];
    args.extend_from_slice(extra);
    let out = run(Path::new(CRATE_ROOT), &args);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|error| panic!("{dir}: not JSON ({error}): {}", out.stderr));
    let findings = json["findings"].as_array().expect("findings").len();
    out.assert_clean_exit(if findings == 0 { 0 } else { 1 });
    json
}

#[test]
fn every_case_reports_exactly_its_table() {
    let mut failures = Vec::new();
    for dir in cases() {
        let case_md = fs::read_to_string(fixture(&format!("{dir}/CASE.md"))).expect("CASE.md");
        let expected = expected_findings(&case_md);
        let actual = actual_findings(&check_json(&dir, &[]));
        if expected != actual {
            let missing: Vec<_> = expected
                .keys()
                .filter(|k| !actual.contains_key(*k))
                .collect();
            let extra: Vec<_> = actual
                .keys()
                .filter(|k| !expected.contains_key(*k))
                .collect();
            failures.push(format!(
                "{dir}:\n  missing: {missing:?}\n  unexpected: {extra:?}\n  (counts: expected {expected:?}, actual {actual:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_demo_reports_its_26_planted_problems() {
    let json = check_json("fixtures/demo", &[]);
    let summary = &json["summary"];
    assert_eq!(summary["findings"], 26);
    let by_rule: Vec<(String, u64)> = summary["by_rule"]
        .as_object()
        .expect("by_rule")
        .iter()
        .map(|(code, count)| (code.clone(), count.as_u64().expect("count")))
        .collect();
    let expected = [
        ("SSOT001", 4),
        ("SSOT002", 6),
        ("SSOT003", 2),
        ("SSOT004", 4),
        ("SSOT005", 2),
        ("SSOT006", 1),
        ("SSOT007", 2),
        ("SSOT008", 3),
        ("SSOT009", 1),
        ("SSOT010", 1),
    ];
    let expected: Vec<(String, u64)> = expected
        .iter()
        .map(|(code, count)| (code.to_string(), *count))
        .collect();
    assert_eq!(by_rule, expected);
    // The burn-down of CASE.md: 4 of 10 import statements on the canonical path.
    let concept = &summary["concepts"][0];
    assert_eq!(concept["name"], "websocket-manager");
    assert_eq!(concept["importers"], 10);
    assert_eq!(concept["canonical_importers"], 4);
    assert_eq!(concept["shims"], 2);
    assert_eq!(concept["duplicates"], 4);
    assert_eq!(concept["factories"], 4);
}

#[test]
fn snapshots_of_human_and_json_output() {
    let mut failures = Vec::new();
    for dir in cases() {
        // Run at the fixture's root: the human paths are then the root-relative ones.
        let human = run(&fixture(&dir), &["check", "--no-cache"]);
        assert!(
            !human.stderr.contains("panicked"),
            "{dir}: {}",
            human.stderr
        );
        let text = format!(
            "{}[exit {}]\n",
            human.stdout_text(),
            human.code.expect("an exit code")
        );
        failures.extend(check_snapshot(
            &fixture(&format!("{dir}/expected.txt")),
            &text,
        ));
        let json = run(&fixture(&dir), &["check", "--format", "json", "--no-cache"]);
        failures.extend(check_snapshot(
            &fixture(&format!("{dir}/expected.json")),
            &json.stdout_text(),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn findings_are_sorted_and_positions_are_one_based() {
    let json = check_json("fixtures/demo", &[]);
    let findings = json["findings"].as_array().expect("findings");
    let keys: Vec<(String, u64, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
            )
        })
        .collect();
    assert!(keys.is_sorted(), "{keys:?}");
    for finding in findings {
        assert!(finding["line"].as_u64() >= Some(1));
        assert!(finding["column"].as_u64() >= Some(1));
        assert!(finding["end_line"].as_u64() >= finding["line"].as_u64());
        assert!(!finding["path"].as_str().expect("path").starts_with('/'));
    }
}

#[test]
fn same_output_with_one_thread_or_many() {
    let root = Path::new(CRATE_ROOT);
    let one = run(
        root,
        &[
            "check",
            "fixtures/demo",
            "--format",
            "json",
            "--no-cache",
            "--threads",
            "1",
        ],
    );
    let many = run(
        root,
        &[
            "check",
            "fixtures/demo",
            "--format",
            "json",
            "--no-cache",
            "--threads",
            "8",
        ],
    );
    assert_eq!(one.stdout, many.stdout);
}

#[test]
fn select_and_ignore_by_code_prefix_and_name() {
    let codes = |extra: &[&str]| -> Vec<String> {
        let json = check_json("fixtures/demo", extra);
        let mut codes: Vec<String> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["code"].as_str().expect("code").to_string())
            .collect();
        codes.dedup();
        codes.sort();
        codes.dedup();
        codes
    };
    assert_eq!(codes(&["--select", "SSOT001"]), ["SSOT001"]);
    assert_eq!(
        codes(&["--select", "SSOT001,indirect-import"]),
        ["SSOT001", "SSOT002"]
    );
    assert_eq!(
        codes(&[
            "--select",
            "SSOT00",
            "--ignore",
            "SSOT002,SSOT003,SSOT004,SSOT005,SSOT006,SSOT007,SSOT008,SSOT009"
        ]),
        ["SSOT001"]
    );
    assert!(codes(&["--ignore", "ALL"]).is_empty());
    let bad = run(
        Path::new(CRATE_ROOT),
        &["check", "fixtures/demo", "--select", "SSOT7"],
    );
    bad.assert_clean_exit(2);
    assert!(
        bad.stderr.contains("`SSOT7` is not a rule code"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_path_inside_the_repository_limits_the_report() {
    let json = check_json("fixtures/demo/tests", &[]);
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(
        paths.iter().all(|path| path.starts_with("tests/")),
        "{paths:?}"
    );
}

#[test]
fn a_canonical_path_that_names_nothing_is_exit_2_with_the_nearest_definitions() {
    let dir = tempfile::tempdir().expect("temporary directory");
    crate::support::write_files(
        dir.path(),
        &[
            ("app/__init__.py", b""),
            ("app/websocket_manager.py", b"class WebSocketManager:\n    pass\n"),
            (
                "ssot.toml",
                b"[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"ws\"\ncanonical = \"app.websocket_manager.WebSocketManagr\"\n",
            ),
        ],
    );
    let out = run(dir.path(), &["check"]);
    out.assert_clean_exit(2);
    assert!(
        out.stderr.contains("does not define `WebSocketManagr`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("canonical = \"app.websocket_manager.WebSocketManagr\""),
        "the TOML line is shown: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("^^^"),
        "a caret under the value: {}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`app.websocket_manager.WebSocketManager`"),
        "the nearest definition is named: {}",
        out.stderr
    );
    fs::write(
        dir.path().join("ssot.toml"),
        "[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"ws\"\ncanonical = \"app.websocket.WebSocketManager\"\n",
    )
    .expect("write ssot.toml");
    let out = run(dir.path(), &["check"]);
    out.assert_clean_exit(2);
    assert!(
        out.stderr.contains("no module `app.websocket`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`app.websocket_manager.WebSocketManager`"),
        "{}",
        out.stderr
    );
}

#[test]
fn colours_only_when_forced_and_never_with_no_color() {
    let human = |envs: &[(&str, &str)]| -> String {
        let mut command = Command::new(BIN);
        command
            .args(["check", "fixtures/demo", "--no-cache"])
            .current_dir(CRATE_ROOT)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null());
        for (key, value) in envs {
            command.env(key, value);
        }
        let output = command.output().expect("run ssot-gardener");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    assert!(!human(&[]).contains('\x1b'), "a pipe gets no colours");
    assert!(human(&[("CLICOLOR_FORCE", "1")]).contains('\x1b'));
    assert!(!human(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

#[test]
fn concise_is_one_line_per_finding() {
    let out = run(
        Path::new(CRATE_ROOT),
        &[
            "check",
            "fixtures/demo",
            "--format",
            "concise",
            "--no-cache",
        ],
    );
    out.assert_clean_exit(1);
    let text = out.stdout_text();
    assert_eq!(text.lines().count(), 26);
    assert!(text.contains(
        "chatapp/websocket_core/heartbeat.py:5:1: SSOT002 `WebSocketManager` imported through the relative path `.websocket_manager`\n"
    ));
}

#[test]
fn explain_prints_a_rule_doc_and_lists_every_rule() {
    let root = Path::new(CRATE_ROOT);
    let out = run(root, &["explain", "SSOT002"]);
    out.assert_clean_exit(0);
    assert!(out.stdout_text().starts_with("# SSOT002 indirect-import"));
    let by_name = run(root, &["explain", "indirect-import"]);
    assert_eq!(by_name.stdout, out.stdout);
    let list = run(root, &["explain"]);
    list.assert_clean_exit(0);
    let codes: Vec<String> = list
        .stdout_text()
        .lines()
        .map(|line| line.split_whitespace().next().expect("a code").to_string())
        .collect();
    assert_eq!(codes.len(), 13, "{codes:?}");
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique, codes, "codes are unique and listed in order");
    let unknown = run(root, &["explain", "SSOT999"]);
    unknown.assert_clean_exit(2);
}

/// docs/check-format.md names every field of the JSON output.
#[test]
fn check_format_doc_names_every_field() {
    let doc = fs::read_to_string(fixture("docs/check-format.md")).expect("docs/check-format.md");
    fn keys(value: &Value, out: &mut std::collections::BTreeSet<String>, under_by_rule: bool) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if !under_by_rule {
                        out.insert(key.clone());
                    }
                    keys(value, out, key == "by_rule");
                }
            }
            Value::Array(items) => items.iter().for_each(|item| keys(item, out, false)),
            _ => {}
        }
    }
    let mut fields = std::collections::BTreeSet::new();
    keys(&check_json("fixtures/demo", &[]), &mut fields, false);
    assert!(fields.contains("end_column") && fields.contains("canonical_importers"));
    let undocumented: Vec<_> = fields
        .iter()
        .filter(|field| !doc.contains(&format!("`{field}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "undocumented fields: {undocumented:?}"
    );
}

/// The example finding in docs/check-format.md is a real one, field for field.
#[test]
fn check_format_doc_example_is_real() {
    let doc = fs::read_to_string(fixture("docs/check-format.md")).expect("docs/check-format.md");
    let start = doc.find("```json\n").expect("a JSON block") + 8;
    let example: Value =
        serde_json::from_str(&doc[start..][..doc[start..].find("```").expect("fence")])
            .expect("the example is JSON");
    // An empty baseline: every finding is listed, and the summary has its `baseline` part.
    let actual = check_json(
        "fixtures/demo",
        &["--baseline", "tests/data/empty-baseline.json"],
    );
    let shown = &example["findings"][0];
    assert!(
        actual["findings"]
            .as_array()
            .expect("findings")
            .contains(shown),
        "{shown} is not among the demo's findings"
    );
    assert_eq!(example["version"], actual["version"]);
    let keys = |value: &Value| -> Vec<String> {
        value.as_object().expect("object").keys().cloned().collect()
    };
    assert_eq!(keys(&example["summary"]), keys(&actual["summary"]));
    assert_eq!(
        keys(&example["summary"]["concepts"][0]),
        keys(&actual["summary"]["concepts"][0])
    );
}

/// `check` on a large real tree: a copy of the standard library of the newest CPython on the
/// machine, with a concept declared on `logging.Logger`. It completes without a panic, finds
/// real things, and the cached re-run reports the same as the cold one.
#[test]
fn check_on_the_standard_library() {
    let python = crate::differential::python();
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_, files) = crate::differential::copy_stdlib(&python, dir.path());
    assert!(
        files.len() > 500,
        "a real standard library: {}",
        files.len()
    );
    fs::write(
        dir.path().join("ssot.toml"),
        "[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"logger\"\ncanonical = \"logging.Logger\"\nimplementations = [\"*Logger\"]\nfactories = [\"get*Logger*\"]\nallowed-factories = [\"logging.getLogger\"]\n",
    )
    .expect("write ssot.toml");
    let cold = run(dir.path(), &["check", "--format", "json", "--no-cache"]);
    cold.assert_clean_exit(1);
    let json: Value = serde_json::from_slice(&cold.stdout).expect("JSON");
    let concept = &json["summary"]["concepts"][0];
    assert!(concept["duplicates"].as_u64() > Some(0), "{concept}");
    let codes: BTreeMap<String, usize> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .fold(BTreeMap::new(), |mut codes, finding| {
            *codes
                .entry(finding["code"].as_str().expect("code").to_string())
                .or_default() += 1;
            codes
        });
    // logging's own re-export layers and its `getLoggerClass`-style accessors are there.
    assert!(codes.contains_key("SSOT004"), "{codes:?}");
    let first = run(dir.path(), &["check", "--format", "json"]);
    let warm = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        first.stdout, cold.stdout,
        "writing the cache changes nothing"
    );
    assert_eq!(
        warm.stdout, cold.stdout,
        "reading the cache changes nothing"
    );
    assert!(dir.path().join(".ssot_cache/CACHEDIR.TAG").is_file());
    let human = run(dir.path(), &["check"]);
    human.assert_clean_exit(1);
    assert!(
        human.stdout_text().contains("logger: "),
        "the burn-down line"
    );
}

/// Broken files still take part: a duplicate in a file with a syntax error, in a Latin-1 file
/// and in a CRLF file is found; NUL bytes, invalid UTF-8 and deep nesting cost nothing else.
#[test]
fn check_reads_broken_files_as_far_as_they_go() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let deep = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    crate::support::write_files(
        dir.path(),
        &[
            ("ssot.toml", b"[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"ws\"\ncanonical = \"app.websocket_manager.WebSocketManager\"\nimplementations = [\"*WebSocket*Manager\"]\n"),
            ("app/__init__.py", b""),
            ("app/websocket_manager.py", b"class WebSocketManager:\n    pass\n"),
            ("app/broken.py", b"class BrokenWebSocketManager:\n    def emit(self:\n        pass\n"),
            ("app/latin.py", b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\nclass LatinWebSocketManager:\n    pass\n"),
            ("app/crlf.py", b"import os\r\n\r\nclass CrlfWebSocketManager:\r\n    pass\r\n"),
            ("app/nul.py", b"x = 1\0\nclass NulWebSocketManager:\n    pass\n"),
            ("app/invalid.py", b"s = '\xff\xfe'\nclass InvalidWebSocketManager:\n    pass\n"),
            ("app/deep.py", deep.as_bytes()),
        ],
    );
    for format in ["human", "concise", "json"] {
        let out = run(dir.path(), &["check", "--format", format, "--no-cache"]);
        out.assert_clean_exit(1);
    }
    let out = run(dir.path(), &["check", "--format", "concise", "--no-cache"]);
    let text = out.stdout_text();
    for expected in [
        "app/broken.py:1:7: SSOT001",
        "app/crlf.py:3:7: SSOT001",
        "app/latin.py:3:7: SSOT001",
        "app/nul.py:2:7: SSOT001",
        "app/invalid.py:2:7: SSOT001",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
}

/// SSOT010 against CPython: every scenario of `fixtures/check/await-mismatch/app/scenarios.py`
/// is run (an `async def` with `asyncio.run`), and it fails (a `TypeError` from `await`, or a
/// "coroutine ... was never awaited" `RuntimeWarning`) exactly when the rule reports a call
/// inside it, except the `unproven_*` ones, which fail without a finding (nothing proves them
/// statically). The names say which is planted: `bad_*` must fail, `good_*` must run.
#[test]
fn await_mismatch_findings_are_what_python_raises() {
    const HARNESS: &str = r#"
import asyncio, gc, inspect, json, sys, warnings
sys.path.insert(0, ".")
import app.scenarios as scenarios

out = {}
for name, function in inspect.getmembers(scenarios, inspect.isfunction):
    if function.__module__ != scenarios.__name__:
        continue
    lines, first = inspect.getsourcelines(function)
    failed = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if inspect.iscoroutinefunction(function):
                asyncio.run(function())
            else:
                function()
        except TypeError as error:
            failed = str(error)
        gc.collect()
    for warning in caught:
        if "was never awaited" in str(warning.message):
            failed = failed or str(warning.message)
    out[name] = {"first": first, "last": first + len(lines) - 1, "failed": failed}
print("\nRESULT " + json.dumps(out))
"#;
    let dir = fixture("fixtures/check/await-mismatch");
    let output = crate::support::python3()
        .args(["-c", HARNESS])
        .current_dir(&dir)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "the harness failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .expect("the harness's RESULT line");
    let runs: Value = serde_json::from_str(result).expect("harness JSON");
    let runs = runs.as_object().expect("an object");
    assert!(runs.len() >= 20, "scenarios lost: {runs:?}");
    let json = check_json("fixtures/check/await-mismatch", &["--select", "SSOT010"]);
    let lines: Vec<u64> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["path"] == "app/scenarios.py")
        .map(|f| f["line"].as_u64().expect("line"))
        .collect();
    let mut wrong = Vec::new();
    for (name, run) in runs {
        let (first, last) = (run["first"].as_u64(), run["last"].as_u64());
        let (Some(first), Some(last)) = (first, last) else {
            panic!("{name}: no line range");
        };
        let reported = lines
            .iter()
            .filter(|&&l| (first..=last).contains(&l))
            .count();
        let failed = !run["failed"].is_null();
        let expected = match name.split('_').next() {
            Some("bad") => (1, true),
            Some("good") => (0, false),
            Some("unproven") => (0, true),
            _ => panic!("{name}: a scenario is bad_*, good_* or unproven_*"),
        };
        if (reported, failed) != expected {
            wrong.push(format!(
                "{name}: {reported} finding(s), Python {}",
                run["failed"].as_str().unwrap_or("ran")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The flags ruff users type (issue 16): `--output-format` (with `--format` the same flag),
/// `-o/--output-file` (the report in a file, without colours), `--exit-zero` (findings, exit
/// 0; a configuration error still exits 2) and `--statistics` (a count per rule, most first,
/// `[*]` where every finding of the rule has a fix).
#[test]
fn ruff_style_output_flags() {
    let root = Path::new(CRATE_ROOT);
    let by_format = run(
        root,
        &[
            "check",
            "fixtures/demo",
            "--no-cache",
            "--format",
            "concise",
        ],
    );
    let by_output_format = run(
        root,
        &[
            "check",
            "fixtures/demo",
            "--no-cache",
            "--output-format",
            "concise",
        ],
    );
    by_output_format.assert_clean_exit(1);
    assert_eq!(by_format.stdout, by_output_format.stdout);

    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("report.txt");
    let to_file = run(
        root,
        &[
            "check",
            "fixtures/demo",
            "--no-cache",
            "--exit-zero",
            "-o",
            file.to_str().expect("a UTF-8 path"),
        ],
    );
    to_file.assert_clean_exit(0);
    assert!(to_file.stdout.is_empty(), "{}", to_file.stdout_text());
    let written = fs::read_to_string(&file).expect("the report file");
    assert!(written.contains("Found 26 findings"), "{written}");
    assert!(!written.contains('\u{1b}'), "no colours in a file");
    let broken = run(
        root,
        &["check", "fixtures/demo", "--exit-zero", "--select", "SSOT7"],
    );
    broken.assert_clean_exit(2);

    let statistics = run(
        root,
        &["check", "fixtures/demo", "--no-cache", "--statistics"],
    );
    statistics.assert_clean_exit(1);
    let lines: Vec<String> = statistics
        .stdout_text()
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines.len(), 10, "{lines:?}");
    assert_eq!(lines[0], "6 SSOT002 [*] indirect-import");
    assert_eq!(lines[1], "4 SSOT001 duplicate-implementation");
    assert_eq!(lines[9], "1 SSOT010 await-mismatch");
}

/// `--show-settings`, `--show-files`, `--exit-non-zero-on-fix` and `completions SHELL`
/// (issue 16).
#[test]
fn settings_files_fix_exit_and_completions() {
    let root = Path::new(CRATE_ROOT);
    let settings = run(
        root,
        &[
            "check",
            "fixtures/demo",
            "--show-settings",
            "--select",
            "SSOT00",
            "--ignore",
            "SSOT002",
        ],
    );
    settings.assert_clean_exit(0);
    let text = settings.stdout_text();
    assert!(
        text.contains("configuration = ") && text.contains("fixtures/demo/ssot.toml"),
        "{text}"
    );
    assert!(text.contains("python-roots = [\".\"]"), "{text}");
    assert!(
        text.contains("rules = [\"SSOT001\", \"SSOT003\",")
            && !text.contains("\"SSOT002\"")
            && !text.contains("SSOT901"),
        "{text}"
    );
    assert!(
        text.contains(
            "concept.websocket-manager = chatapp.websocket_core.websocket_manager.WebSocketManager"
        ),
        "{text}"
    );

    let files = run(
        root,
        &["check", "fixtures/demo/tests", "--show-files", "--no-cache"],
    );
    files.assert_clean_exit(0);
    let listed: Vec<String> = files.stdout_text().lines().map(str::to_string).collect();
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|path| path.starts_with("tests/") && path.ends_with(".py"))
    );

    // A fix that leaves no finding exits 0, or 1 with --exit-non-zero-on-fix.
    let setup = || {
        let dir = tempfile::tempdir().expect("temporary directory");
        crate::support::write_files(
            dir.path(),
            &[
                (
                    "ssot.toml",
                    b"[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"thing\"\ncanonical = \"pkg.core.Thing\"\n",
                ),
                ("pkg/__init__.py", b""),
                ("pkg/core.py", b"class Thing:\n    pass\n"),
                ("pkg/user.py", b"from .core import Thing\n"),
            ],
        );
        dir
    };
    let dir = setup();
    run(dir.path(), &["fix", "--no-cache"]).assert_clean_exit(0);
    let dir = setup();
    run(dir.path(), &["fix", "--no-cache", "--exit-non-zero-on-fix"]).assert_clean_exit(1);
    run(dir.path(), &["fix", "--no-cache", "--exit-non-zero-on-fix"]).assert_clean_exit(0);

    for shell in ["bash", "zsh", "fish"] {
        let script = run(root, &["completions", shell]);
        script.assert_clean_exit(0);
        assert!(script.stdout_text().contains("ssot-gardener"), "{shell}");
        assert!(script.stdout_text().contains("statistics"), "{shell}");
    }
}
