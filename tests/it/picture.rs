//! `ssot-gardener graph --concept NAME`: the demo's picture in each format (snapshots:
//! `SSOT_BLESS=1 cargo test --release --test it picture`), the html page in headless
//! Chromium (tests/html/page.py: no console errors, one node per module, the filters, a
//! click; a screenshot in target/test-artifacts/), a picture the size of the motivating
//! monorepo that opens collapsed, and the errors.

use std::fs;

use crate::support::{artifact, assert_snapshot, fixture, python3, run, temp_repo, write_files};

const DEMO_CONCEPT: &[&str] = &["graph", "--concept", "websocket-manager", "--format"];

fn demo(format: &str) -> String {
    let mut args = DEMO_CONCEPT.to_vec();
    args.push(format);
    let out = run(&fixture("fixtures/demo"), &args);
    out.assert_clean_exit(0);
    out.stdout_text()
}

#[test]
fn the_demo_picture_in_every_format() {
    let json: serde_json::Value = serde_json::from_str(&demo("json")).expect("json");
    assert_snapshot(
        "fixtures/picture/demo.json",
        &(serde_json::to_string_pretty(&json).expect("json") + "\n"),
    );
    assert_snapshot("fixtures/picture/demo.dot", &demo("dot"));
    assert_snapshot("fixtures/picture/demo.mmd", &demo("mermaid"));
    // The picture is the report's: the burn-down is `check`'s, every finding of the concept
    // sits on its module.
    let check = run(
        &fixture("fixtures/demo"),
        &["check", "--no-cache", "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json");
    let burn = &report["summary"]["concepts"][0];
    for key in [
        "importers",
        "canonical_importers",
        "shims",
        "duplicates",
        "factories",
    ] {
        assert_eq!(json["burn_down"][key], burn[key], "{key}");
    }
    let in_picture: usize = json["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["findings"].as_array().expect("findings").len())
        .sum();
    let of_concept = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["concept"] == "websocket-manager")
        .count();
    assert_eq!(in_picture, of_concept);
    // Every edge joins two drawn modules; every edge kind of the demo is there.
    let ids: Vec<&str> = json["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["id"].as_str().expect("id"))
        .collect();
    let mut kinds = std::collections::BTreeSet::new();
    for edge in json["edges"].as_array().expect("edges") {
        assert!(
            ids.contains(&edge["from"].as_str().expect("from")),
            "{edge}"
        );
        assert!(ids.contains(&edge["to"].as_str().expect("to")), "{edge}");
        kinds.insert(edge["kind"].as_str().expect("kind").to_string());
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["canonical", "duplicate", "indirect", "re-export", "string"]
    );
}

/// Opens `page` in headless Chromium through tests/html/page.py.
fn open_in_browser(page: &std::path::Path, screenshot: &str, big: bool) -> serde_json::Value {
    let mut command = python3();
    command
        .arg(fixture("tests/html/page.py"))
        .arg(page)
        .arg(artifact(screenshot));
    if big {
        command.arg("--big");
    }
    let out = command.output().expect("run tests/html/page.py");
    assert!(
        out.status.success(),
        "the page failed in Chromium:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("page.py prints JSON")
}

#[test]
fn the_demo_page_works_in_chromium() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let page = dir.path().join("demo.html");
    let html = demo("html");
    // Self-contained: nothing is fetched.
    for needle in ["http://", "https://", "src=\"", "@import"] {
        assert!(
            !html
                .replace("http://www.w3.org/2000/svg", "")
                .contains(needle),
            "{needle} in the page"
        );
    }
    fs::write(&page, html).expect("write the page");
    let measured = open_in_browser(&page, "demo-concept.png", false);
    assert_eq!(measured["modules"], 18, "{measured}");
}

/// The motivating monorepo's shape: 1,120 importing modules in 40 packages, half of them
/// through a compat shim. The page opens with its packages collapsed and each opens on a
/// click.
#[test]
fn a_monorepo_sized_page_opens_collapsed() {
    let dir = temp_repo(
        "\n[[concept]]\nname = \"manager\"\ncanonical = \"core.manager.Manager\"\nimplementations = [\"*Manager\"]\n",
    );
    let mut files: Vec<(String, String)> = vec![
        ("core/__init__.py".into(), String::new()),
        (
            "core/manager.py".into(),
            "class Manager:\n    def send(self, event):\n        pass\n".into(),
        ),
        (
            "core/compat.py".into(),
            "from core.manager import Manager\n\n__all__ = [\"Manager\"]\n".into(),
        ),
    ];
    for package in 0..40 {
        files.push((format!("app{package}/__init__.py"), String::new()));
        for module in 0..28 {
            let source = if (package + module) % 2 == 0 {
                "core.manager"
            } else {
                "core.compat"
            };
            files.push((
                format!("app{package}/m{module}.py"),
                format!("from {source} import Manager\n\n\ndef run():\n    return Manager\n"),
            ));
        }
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_bytes()))
        .collect();
    write_files(dir.path(), &files);
    let out = run(
        dir.path(),
        &["graph", "--concept", "manager", "--format", "html"],
    );
    out.assert_clean_exit(0);
    let page = dir.path().join("big.html");
    fs::write(&page, &out.stdout).expect("write the page");
    let measured = open_in_browser(&page, "monorepo-concept.png", true);
    assert_eq!(measured["modules"], 1122, "{measured}");
    assert!(
        measured["drawn_at_first"].as_u64().expect("drawn") < 50,
        "{measured}"
    );
}

#[test]
fn unknown_concepts_and_formats_that_need_one() {
    let demo = fixture("fixtures/demo");
    let out = run(&demo, &["graph", "--concept", "nope"]);
    out.assert_clean_exit(2);
    assert!(
        out.stderr
            .contains("no concept `nope`; the configuration declares `websocket-manager`"),
        "{}",
        out.stderr
    );
    let out = run(&demo, &["graph", "--format", "dot"]);
    out.assert_clean_exit(2);
    assert!(
        out.stderr.contains("add `--concept NAME`"),
        "{}",
        out.stderr
    );
    let out = run(
        &demo,
        &[
            "graph",
            "--concept",
            "websocket-manager",
            "--format",
            "summary",
        ],
    );
    out.assert_clean_exit(2);
}

/// Rust: a path in a string is read from its module (`crate::compat::OldManager` leads to
/// `net::compat`), shims are the `pub use` modules.
#[test]
fn a_rust_concept_picture() {
    let out = run(
        &fixture("fixtures/check/rust-copies"),
        &["graph", "--concept", "manager", "--format", "mermaid"],
    );
    out.assert_clean_exit(0);
    assert_snapshot("fixtures/picture/rust-copies.mmd", &out.stdout_text());
    assert!(
        out.stdout_text().contains("n4 -.->|string| n3"),
        "{}",
        out.stdout_text()
    );
}
