//! The whole `check` pipeline on an in-memory repository built from arbitrary bytes: facts,
//! resolution, the concept table, every rule, suppressions, and all three renderers. The
//! input is split on `\n#FILE\n` into up to four files; the first three are the modules of
//! a small package around the canonical class, the fourth a test file. Then the fix loop runs
//! with every fix enabled.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssot_gardener::walk::{Language, SourceFile, Walk};
use ssot_gardener::{concept, config, fix, python, render, rules};

const CONFIG: &str = r#"[project]
python-roots = ["."]

[[concept]]
name = "websocket-manager"
canonical = "app.websocket_manager.WebSocketManager"
implementations = ["*WebSocket*Manager"]
factories = ["create_*websocket_manager*", "get_*websocket_manager*"]
allowed-factories = ["app.websocket_manager.get_websocket_manager"]
"#;

const CANONICAL: &[u8] = b"class WebSocketManager:\n    def connect(self): ...\n    def emit(self): ...\n\ndef get_websocket_manager():\n    return WebSocketManager()\n";

fuzz_target!(|data: &[u8]| {
    // The root must exist (python-roots are checked): the temporary directory will do.
    let settings = config::parse(&std::env::temp_dir().join("ssot.toml"), CONFIG)
        .expect("valid config");
    let paths = ["app/compat.py", "app/legacy.py", "app/__init__.py", "tests/test_x.py"];
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "app/websocket_manager.py".to_string(),
        CANONICAL.to_vec(),
    )];
    for (path, part) in paths.iter().zip(split(data)) {
        files.push((path.to_string(), part.to_vec()));
    }
    files.sort();
    let walk = Walk {
        files: files
            .into_iter()
            .map(|(path, text)| {
                let facts = python::collect(&text);
                SourceFile::new(path, Language::Python, text, facts)
            })
            .collect(),
        other_files: vec!["app/legacy.py.bak".to_string()],
        ..Walk::default()
    };
    let graph = python::resolve::resolve(walk, &settings.python_roots);
    let Ok(tables) = concept::build(&graph, &settings.concepts) else {
        return;
    };
    let cx = rules::Context {
        graph: &graph,
        settings: &settings,
        tables: &tables,
        // The rules offer their unsafe variants too.
        unsafe_fixes: true,
    };
    let findings = rules::check(&cx, &rules::Selection::default());
    let summary = render::summary(&graph, &settings, &tables, &findings);
    let mut out = Vec::new();
    render::human(&mut out, &graph, &findings).expect("render");
    render::human_summary(&mut out, &summary).expect("render");
    render::concise(&mut out, &graph, &findings).expect("render");
    render::json(&mut out, &graph, &settings, &findings, &summary).expect("render");
    render::sarif(&mut out, &graph, &settings, &findings).expect("render");
    render::github(&mut out, &graph, &findings).expect("render");
    render::junit(&mut out, &graph, &findings).expect("render");
    // A baseline of every finding accepts every finding, and survives its own file format.
    let baseline = ssot_gardener::baseline::Baseline::from_findings(&graph, &settings, &findings);
    let reread: ssot_gardener::baseline::Baseline =
        serde_json::from_str(&baseline.to_json()).expect("baseline JSON reads back");
    let (fresh, matched) = reread.filter(&graph, &settings, findings.clone(), &|_| true);
    assert!(fresh.is_empty(), "a baseline of every finding left some new");
    assert_eq!((matched.accepted, matched.stale()), (findings.len(), 0));
    drop(findings);
    drop(tables);
    // The fixer, safe and unsafe fixes: never a panic, and a fixed file never gains syntax
    // errors (the loop refuses such a fix).
    let Ok(outcome) = fix::fix(graph, &settings, &rules::Selection::default(), true, &|_| true) else {
        return;
    };
    for (&file, original) in &outcome.originals {
        let before = python::collect(original).errors.len();
        let after = &outcome.graph.files[file].facts.errors;
        assert!(after.len() <= before, "a fix added a syntax error");
    }
});

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < 3 {
        match memchr_find(rest, b"\n#FILE\n") {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + 7..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}
