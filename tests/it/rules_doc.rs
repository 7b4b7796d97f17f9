//! The rule docs under `rules/` cannot drift from the rules: every rule has one, with the
//! fixed headings; the codes are unique; each doc's Example fires its rule and its "Use
//! instead" does not, run through the real binary in the base world of `rules/README.md`.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{CRATE_ROOT, fixture, run, write_files};

const HEADINGS: [&str; 6] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
    "## Options",
];

const BASE_CONFIG: &str = r#"[project]
python-roots = ["."]

[[concept]]
name = "websocket-manager"
canonical = "app.websocket_manager.WebSocketManager"
implementations = ["*WebSocket*Manager"]
factories = ["create_*websocket_manager*", "get_*websocket_manager*", "*WebSocketManagerFactory"]
allowed-factories = ["app.websocket_manager.get_websocket_manager"]
similarity = 0.6
tests = "report"
"#;

const BASE_MANAGER: &str = "class WebSocketManager:
    def __init__(self):
        self.connections = {}

    async def connect(self, user_id, websocket): ...
    async def disconnect(self, user_id, websocket): ...
    async def emit(self, user_id, run_id, event, payload): ...
    async def send_to_user(self, user_id, message): ...
    async def broadcast(self, message): ...


_instance = None


def get_websocket_manager():
    global _instance
    if _instance is None:
        _instance = WebSocketManager()
    return _instance
";

/// The Rust base world: a workspace whose crate `events` defines the one `Event`, and an
/// empty crate `app` that depends on it, where the Rust examples add their files.
const RUST_BASE: &[(&str, &str)] = &[
    (
        "ssot.toml",
        r#"[project]
rust-roots = ["."]

[[concept]]
name = "event"
canonical = "events::input::Event"
implementations = ["*Event"]
factories = ["new_*event*", "make_*event*"]
"#,
    ),
    ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
    (
        "crates/events/Cargo.toml",
        "[package]\nname = \"events\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    ),
    ("crates/events/src/lib.rs", "pub mod input;\n"),
    (
        "crates/events/src/input.rs",
        "pub struct Event {\n    key: char,\n}\n\nimpl Event {\n    pub fn new(key: char) -> Self {\n        Event { key }\n    }\n\n    pub fn key(&self) -> char {\n        self.key\n    }\n\n    pub fn is_pressed(&self) -> bool {\n        true\n    }\n}\n",
    ),
    (
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nevents = { path = \"../events\" }\n",
    ),
    ("crates/app/src/lib.rs", "//! The app.\n"),
];

/// `(code, name)` of every rule, from `explain`'s list.
fn rules() -> Vec<(String, String)> {
    let list = run(Path::new(CRATE_ROOT), &["explain"]);
    list.assert_clean_exit(0);
    list.stdout_text()
        .lines()
        .map(|line| {
            let mut words = line.split_whitespace();
            (
                words.next().expect("code").to_string(),
                words.next().expect("name").to_string(),
            )
        })
        .collect()
}

/// The files of a section: every fenced block, named by its first line `# path`.
fn files(section: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').expect("a fence line") + 1;
        let body_end = after[body_start..].find("```").expect("a closing fence");
        let body = &after[body_start..body_start + body_end];
        let first = body.lines().next().unwrap_or_default();
        let path = first
            .strip_prefix("# ")
            .or_else(|| first.strip_prefix("// "))
            .unwrap_or_else(|| {
                panic!("a code block starts with `# path` or `// path`, not {first:?}")
            });
        out.push((path.trim().to_string(), body.to_string()));
        rest = &after[body_start + body_end + 3..];
    }
    out
}

/// Is this an example file of the Rust world?
fn is_rust(path: &str) -> bool {
    path.ends_with(".rs") || path.ends_with("Cargo.toml")
}

/// The codes `check` reports in the base world plus `extra` files: the Python world, or the
/// Rust one ([`RUST_BASE`]) when the files are Rust.
fn codes_in_world(extra: &[(String, String)]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let rust = extra.iter().any(|(path, _)| is_rust(path));
    let mut all: Vec<(String, String)> = if rust {
        RUST_BASE
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect()
    } else {
        vec![
            ("ssot.toml".into(), BASE_CONFIG.into()),
            ("app/__init__.py".into(), String::new()),
            ("app/websocket_manager.py".into(), BASE_MANAGER.into()),
        ]
    };
    for (path, text) in extra {
        all.retain(|(existing, _)| existing != path);
        all.push((path.clone(), text.clone()));
    }
    let borrowed: Vec<(&str, &[u8])> = all
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_bytes()))
        .collect();
    write_files(dir.path(), &borrowed);
    let out = run(dir.path(), &["check", "--format", "json", "--no-cache"]);
    assert!(
        matches!(out.code, Some(0 | 1)) && !out.stderr.contains("panicked"),
        "check failed: {}",
        out.stderr
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["code"].as_str().expect("code").to_string())
        .collect()
}

#[test]
fn the_base_world_is_clean() {
    assert_eq!(codes_in_world(&[]), Vec::<String>::new());
    let rust_base = [(
        "crates/app/src/lib.rs".to_string(),
        "//! The app.\n".to_string(),
    )];
    assert_eq!(codes_in_world(&rust_base), Vec::<String>::new());
}

#[test]
fn every_rule_has_its_doc_with_the_fixed_headings() {
    let rules = rules();
    let codes: BTreeSet<&str> = rules.iter().map(|(code, _)| code.as_str()).collect();
    assert_eq!(codes.len(), rules.len(), "codes are unique");
    let names: BTreeSet<&str> = rules.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names.len(), rules.len(), "names are unique");
    for (code, name) in &rules {
        let doc = fs::read_to_string(fixture(&format!("rules/{code}.md")))
            .unwrap_or_else(|_| panic!("rules/{code}.md"));
        assert!(
            doc.starts_with(&format!("# {code} {name}\n")),
            "rules/{code}.md starts with `# {code} {name}`"
        );
        let found: Vec<&str> = doc.lines().filter(|line| line.starts_with("## ")).collect();
        assert_eq!(found, HEADINGS, "headings of rules/{code}.md");
        let explained = run(Path::new(CRATE_ROOT), &["explain", code]);
        assert_eq!(
            explained.stdout_text(),
            doc,
            "explain {code} prints the doc"
        );
    }
    // No doc without a rule.
    for entry in fs::read_dir(fixture("rules")).expect("rules/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let stem = name.trim_end_matches(".md");
        assert!(
            name == "README.md" || codes.contains(stem),
            "rules/{name} documents no rule"
        );
    }
}

#[test]
fn each_example_fires_and_each_use_instead_does_not() {
    let mut failures = Vec::new();
    let mut rust_docs = 0;
    for (code, _) in rules() {
        let doc = fs::read_to_string(fixture(&format!("rules/{code}.md"))).expect("doc");
        let section = |heading: &str| -> String {
            let start = doc.find(heading).expect("heading") + heading.len();
            let end = doc[start..]
                .find("\n## ")
                .map_or(doc.len(), |at| start + at);
            doc[start..end].to_string()
        };
        let example = files(&section("## Example"));
        let instead = files(&section("## Use instead"));
        assert!(!example.is_empty(), "{code}: the Example has code");
        assert!(!instead.is_empty(), "{code}: Use instead has code");
        // Each language's blocks run in that language's world, and each must hold alone.
        for rust in [false, true] {
            let language = if rust { "Rust" } else { "Python" };
            let pick = |blocks: &[(String, String)]| -> Vec<(String, String)> {
                blocks
                    .iter()
                    .filter(|(path, _)| is_rust(path) == rust)
                    .cloned()
                    .collect()
            };
            let (example, instead) = (pick(&example), pick(&instead));
            if example.is_empty() && instead.is_empty() {
                continue;
            }
            if example.is_empty() || instead.is_empty() {
                failures.push(format!(
                    "{code}: a {language} Example needs a {language} Use instead, and back"
                ));
                continue;
            }
            rust_docs += usize::from(rust);
            let fired = codes_in_world(&example);
            if !fired.contains(&code) {
                failures.push(format!(
                    "{code}: the {language} Example does not fire (got {fired:?})"
                ));
            }
            let fired = codes_in_world(&instead);
            if fired.contains(&code) {
                failures.push(format!(
                    "{code}: {language} Use instead fires (got {fired:?})"
                ));
            }
        }
    }
    // SSOT001, SSOT002, SSOT003, SSOT004, SSOT005, SSOT007 and SSOT903 show Rust too.
    assert!(
        rust_docs >= 7,
        "only {rust_docs} rule docs have a Rust example"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
