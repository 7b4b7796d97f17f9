//! `ssot-gardener graph`: resolution snapshots over `fixtures/graph/*`, checked against the
//! verdict tables of each case's CASE.md; determinism across thread counts and working
//! directories.
//!
//! Each directory under `fixtures/graph` is a small repository with an `ssot.toml`, a CASE.md
//! whose table lists the expected verdict of every import, and two snapshots of the output:
//! `graph.json` (`--format json`) and `graph.txt` (`--format text`). Adding a case needs no
//! code. Regenerate the snapshots with `SSOT_BLESS=1 cargo test --release --test it graph`,
//! then read the diff: the CASE.md check below still runs when blessing.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{self, CRATE_ROOT, bless, fixture, module_paths, run, verdict};

const MIN_CASES: usize = 10;

fn cases() -> Vec<String> {
    let mut cases: Vec<String> = fs::read_dir(fixture("fixtures/graph"))
        .expect("fixtures/graph exists")
        .map(|entry| entry.expect("readable fixture entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= MIN_CASES,
        "fixtures/graph lost cases: {cases:?}"
    );
    cases
}

/// Compares `actual` with the snapshot at `path` (or rewrites it when blessing); returns a
/// failure message.
pub fn check_snapshot(path: &Path, actual: &str) -> Option<String> {
    if bless() {
        fs::write(path, actual).expect("write snapshot");
        return None;
    }
    let expected = fs::read_to_string(path).unwrap_or_default();
    (actual != expected).then(|| {
        format!(
            "{} differs:\n{}",
            path.display(),
            first_difference(&expected, actual)
        )
    })
}

/// The first differing line with a little context, rather than two whole documents.
fn first_difference(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let at = expected
        .iter()
        .zip(&actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let from = at.saturating_sub(3);
    let window =
        |lines: &[&str]| lines[from.min(lines.len())..(at + 4).min(lines.len())].join("\n");
    format!(
        "at line {}\n--- expected\n{}\n--- actual\n{}",
        at + 1,
        window(&expected),
        window(&actual)
    )
}

#[test]
fn graph_snapshots_match() {
    let root = Path::new(CRATE_ROOT);
    let mut failures = Vec::new();
    for case in cases() {
        let dir = format!("fixtures/graph/{case}");
        let json = run(root, &["graph", "--format", "json", &dir]);
        json.assert_clean_exit(0);
        let text = run(root, &["graph", "--format", "text", &dir]);
        text.assert_clean_exit(0);
        failures.extend(check_snapshot(
            &fixture(&format!("{dir}/graph.json")),
            &json.stdout_text(),
        ));
        failures.extend(check_snapshot(
            &fixture(&format!("{dir}/graph.txt")),
            &text.stdout_text(),
        ));
    }
    assert!(
        failures.is_empty(),
        "{}\n\nif the new output is right, run `SSOT_BLESS=1 cargo test --release --test it graph` \
         and check it against each CASE.md",
        failures.join("\n\n")
    );
}

/// One row of a CASE.md verdict table.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    /// The line of the imported name (the row's line, or its "(name on N)").
    line: u64,
    verdict: String,
}

/// The verdict table of a CASE.md, by file: rows whose first cell is `path.py:LINE`, in the
/// order written (which is source order within each file). The verdict is the last cell.
fn case_rows(case_md: &str) -> BTreeMap<String, Vec<Row>> {
    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for line in case_md.lines() {
        let Some(cells) = line
            .trim()
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
        else {
            continue;
        };
        let cells: Vec<&str> = cells.split('|').map(str::trim).collect();
        let first = cells[0];
        let location = first.split_whitespace().next().unwrap_or_default();
        let Some((path, line)) = location.rsplit_once(':') else {
            continue;
        };
        let (Some(line), true) = (line.parse::<u64>().ok(), path.ends_with(".py")) else {
            continue;
        };
        // `pkg/user.py:3 (name on 4)`: the name is on a later line than the statement.
        let line = first
            .split_once("(name on ")
            .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok())
            .unwrap_or(line);
        let verdict = cells.last().copied().unwrap_or_default().replace('`', "");
        rows.entry(path.to_string())
            .or_default()
            .push(Row { line, verdict });
    }
    rows
}

/// CASE.md writes `external` for a name that is outside the repository, whether the import's
/// module is (`import os`: verdict `external`) or the name reaches an outside module through a
/// repository module (`from pkg.shim import os`: verdict `resolved` to an origin of kind
/// `external`).
fn matches_case(import: &Value, expected: &str) -> bool {
    let actual = verdict(import);
    actual == expected
        || (expected == "external"
            && import["resolution"]["origins"]
                .as_array()
                .is_some_and(|origins| origins.iter().all(|o| o["kind"] == "external")))
}

/// Every import of every case has exactly the verdict its CASE.md table gives, in order.
#[test]
fn graph_verdicts_match_case_tables() {
    let root = Path::new(CRATE_ROOT);
    let mut failures = Vec::new();
    for case in cases() {
        let dir = format!("fixtures/graph/{case}");
        let case_md = fs::read_to_string(fixture(&format!("{dir}/CASE.md")))
            .unwrap_or_else(|_| panic!("{dir} has a CASE.md"));
        let expected = case_rows(&case_md);
        assert!(!expected.is_empty(), "{dir}/CASE.md has no verdict table");
        let graph = run(root, &["graph", "--format", "json", &dir]).json();
        for path in module_paths(&graph) {
            let imports = support::module(&graph, &path).expect("listed module")["imports"]
                .as_array()
                .expect("imports is an array")
                .clone();
            let rows = expected.get(&path).map(Vec::as_slice).unwrap_or_default();
            if imports.len() != rows.len() {
                failures.push(format!(
                    "{case}: {path} has {} imported names, CASE.md lists {}",
                    imports.len(),
                    rows.len()
                ));
                continue;
            }
            for (import, row) in imports.iter().zip(rows) {
                let line = import["line"].as_u64().unwrap_or_default();
                if line != row.line || !matches_case(import, &row.verdict) {
                    failures.push(format!(
                        "{case}: {path}:{line} `{}` is `{}`, CASE.md says line {} `{}`",
                        import["name"]
                            .as_str()
                            .or(import["module"].as_str())
                            .unwrap_or("?"),
                        verdict(import),
                        row.line,
                        row.verdict
                    ));
                }
            }
        }
        for path in expected.keys() {
            if support::module(&graph, path).is_none() {
                failures.push(format!("{case}: CASE.md lists {path}, the graph does not"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn case_table_parsing() {
    let rows = case_rows(
        "| file:line | import | verdict |\n\
         |---|---|---|\n\
         | a/b.py:3 | `from x import Y` | resolved -> x:Y |\n\
         | a/b.py:3 (name on 5) | `Z` | `missing-name` |\n\
         | c.py:1 | `import os` | 1 (level) | external |\n\
         | not a row | x | y |\n",
    );
    let b = &rows["a/b.py"];
    assert_eq!(b[0].line, 3);
    assert_eq!(b[0].verdict, "resolved -> x:Y");
    assert_eq!(b[1].line, 5);
    assert_eq!(b[1].verdict, "missing-name");
    assert_eq!(rows["c.py"][0].verdict, "external");
    assert_eq!(rows.len(), 2);
}

#[test]
fn json_is_identical_with_one_thread_or_four() {
    let root = Path::new(CRATE_ROOT);
    let one = run(
        root,
        &[
            "graph",
            "--format",
            "json",
            "--threads",
            "1",
            "fixtures/demo",
        ],
    );
    let four = run(
        root,
        &[
            "graph",
            "--format",
            "json",
            "--threads",
            "4",
            "fixtures/demo",
        ],
    );
    one.assert_clean_exit(0);
    four.assert_clean_exit(0);
    assert!(
        !module_paths(&one.json()).is_empty(),
        "the demo has modules"
    );
    assert!(
        one.stdout == four.stdout,
        "--threads 1 and --threads 4 differ"
    );
}

#[test]
fn json_does_not_depend_on_the_working_directory() {
    let from_root = run(
        Path::new(CRATE_ROOT),
        &["graph", "--format", "json", "fixtures/demo"],
    );
    let from_fixture = run(&fixture("fixtures/demo"), &["graph", "--format", "json"]);
    let (a, b) = (from_root.json(), from_fixture.json());
    let paths = module_paths(&a);
    assert!(
        paths.iter().any(|path| path == "chatapp/__init__.py"),
        "paths are relative to the repository root: {paths:?}"
    );
    assert_eq!(paths, module_paths(&b));
    assert!(
        from_root.stdout == from_fixture.stdout,
        "the JSON differs between the crate root and the fixture directory"
    );
}

/// A directory argument limits the output to the files under it; paths stay relative to the
/// repository root, and names stay the repository's module names.
#[test]
fn a_directory_argument_limits_the_output() {
    let graph = run(
        &fixture("fixtures/demo"),
        &["graph", "--format", "json", "chatapp/agents"],
    )
    .json();
    let paths = module_paths(&graph);
    assert!(!paths.is_empty());
    assert!(
        paths.iter().all(|path| path.starts_with("chatapp/agents/")),
        "{paths:?}"
    );
    assert_eq!(
        support::module(&graph, "chatapp/agents/__init__.py").expect("listed")["module"],
        "chatapp.agents"
    );
    assert_eq!(graph["summary"]["files"].as_u64(), Some(paths.len() as u64));
}

/// The top-level fields and their order are the contract of docs/graph-format.md.
#[test]
fn json_top_level_shape() {
    let run = run(
        Path::new(CRATE_ROOT),
        &["graph", "--format", "json", "fixtures/graph/try-fallback"],
    );
    let text = run.stdout_text();
    let keys: Vec<usize> = ["\"version\"", "\"modules\"", "\"skipped\"", "\"summary\""]
        .iter()
        .map(|key| text.find(key).unwrap_or_else(|| panic!("{key} in output")))
        .collect();
    assert!(keys.is_sorted(), "top-level field order: {text}");
    let graph = run.json();
    assert_eq!(graph["version"], 1);
    let paths = module_paths(&graph);
    assert!(paths.is_sorted(), "modules are sorted by path: {paths:?}");
}

/// docs/graph-format.md cannot drift from the output: its example is the fixture's entry (with
/// the second import left out), its text lines are the fixture's, and every field name any
/// snapshot uses is documented.
#[test]
fn graph_format_doc_matches_the_output() {
    let doc = fs::read_to_string(fixture("docs/graph-format.md")).expect("docs/graph-format.md");
    let block = |fence: &str| -> String {
        let start = doc.find(fence).unwrap_or_else(|| panic!("a {fence} block")) + fence.len();
        doc[start..][..doc[start..].find("```").expect("closing fence")].to_string()
    };
    let example: Value = serde_json::from_str(&block("```json\n")).expect("the example is JSON");
    let snapshot: Value = serde_json::from_str(
        &fs::read_to_string(fixture("fixtures/graph/try-fallback/graph.json")).expect("snapshot"),
    )
    .expect("snapshot is JSON");
    let actual = support::module(&snapshot, "user.py").expect("user.py in the snapshot");
    let (Value::Object(example), Value::Object(actual)) = (&example, actual) else {
        panic!("module entries are objects");
    };
    assert_eq!(
        example.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "field order"
    );
    for (key, value) in example {
        if key == "imports" {
            let shown = value.as_array().expect("imports");
            assert_eq!(
                shown.as_slice(),
                &actual["imports"].as_array().expect("imports")[..shown.len()]
            );
        } else {
            assert_eq!(value, &actual[key], "{key}");
        }
    }
    let text = fs::read_to_string(fixture("fixtures/graph/try-fallback/graph.txt")).expect("txt");
    // The text block: the fence line is followed directly by `user.py:...` lines.
    let text_block = block("```\nuser.py");
    let lines: Vec<String> = format!("user.py{text_block}")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in lines {
        assert!(text.contains(&line), "{line} is not in graph.txt");
    }

    fn keys(value: &Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    out.insert(key.clone());
                    keys(value, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
            _ => {}
        }
    }
    let mut fields = std::collections::BTreeSet::new();
    for case in cases() {
        let path = fixture(&format!("fixtures/graph/{case}/graph.json"));
        let text = fs::read_to_string(&path).expect("snapshot");
        keys(&serde_json::from_str(&text).expect("JSON"), &mut fields);
    }
    // The demo has string references, which no graph case has.
    let demo = run(
        Path::new(CRATE_ROOT),
        &["graph", "--format", "json", "fixtures/demo"],
    );
    keys(&demo.json(), &mut fields);
    assert!(fields.contains("string_refs") && fields.contains("value"));
    let undocumented: Vec<_> = fields
        .iter()
        .filter(|field| !doc.contains(&format!("`{field}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "undocumented fields: {undocumented:?}"
    );
}
