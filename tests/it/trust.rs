//! Fix safety, proven on the fixed code (issue 11): a safe fix never adds an import-time
//! cycle, an unsafe one never binds a class that lacks the methods of the one it replaces,
//! only import and patch targets among strings are rewritten, and `--unsafe-fixes` without
//! `--fix` writes nothing. Each fixture is fixed on a copy and then imported by CPython.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{copy_dir, fixture, run};

/// A copy of a fixture repository in a fresh temporary directory.
fn copy_of(relative: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixture(relative), dir.path());
    dir
}

/// Every file under `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside").to_string_lossy();
                files.insert(relative.into_owned(), fs::read(&path).expect("read file"));
            }
        }
    }
    files
}

/// Imports `module` in a fresh interpreter with `dir` first on the path: `Err` with the
/// traceback when it fails.
fn import(dir: &Path, module: &str) -> Result<(), String> {
    let output = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .current_dir(dir)
        .env("PYTHONPATH", dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python3");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

const CYCLE_MODULES: [&str; 6] = [
    "orm",
    "orm.session",
    "orm.constructors",
    "orm.query",
    "orm.legacy",
    "orm.helpers",
];

/// The SQLAlchemy case: `orm/__init__.py` imports `orm/constructors.py` and `orm/query.py`
/// at import time. After `fix --unsafe-fixes`, every module still imports, whichever is
/// imported first, and a second run changes nothing.
#[test]
fn fixes_never_add_an_import_cycle() {
    let dir = copy_of("fixtures/check/import-cycle");
    for module in CYCLE_MODULES {
        import(dir.path(), module).unwrap_or_else(|error| panic!("before: {module}: {error}"));
    }
    let out = run(dir.path(), &["fix", "--unsafe-fixes", "--no-cache"]);
    assert!(
        out.stderr.contains("Fixed 3 findings in 3 files."),
        "{}",
        out.stderr
    );
    for module in CYCLE_MODULES {
        import(dir.path(), module).unwrap_or_else(|error| panic!("after: {module}: {error}"));
    }
    let query = fs::read_to_string(dir.path().join("orm/query.py")).expect("query.py");
    assert!(query.contains("from orm.session import Session"), "{query}");
    let helpers = fs::read_to_string(dir.path().join("orm/helpers.py")).expect("helpers.py");
    assert!(helpers.contains("from orm import Session"), "{helpers}");
    let again = run(
        dir.path(),
        &["fix", "--unsafe-fixes", "--diff", "--no-cache"],
    );
    again.assert_clean_exit(0);
}

/// The control that makes the test above able to fail: the rewrite the tool refuses,
/// applied by hand, breaks `import orm`.
#[test]
fn the_refused_rewrite_would_break_the_package() {
    let dir = copy_of("fixtures/check/import-cycle");
    let path = dir.path().join("orm/constructors.py");
    let text = fs::read_to_string(&path).expect("constructors.py");
    let broken = text.replacen(
        "from .session import Session\n",
        "from orm import Session\n",
        1,
    );
    assert_ne!(text, broken);
    fs::write(&path, broken).expect("write");
    let error = import(dir.path(), "orm").expect_err("a cycle");
    assert!(error.contains("partially initialized module"), "{error}");
    // And the tool reports the hand-made cycle's module as fine: it is the canonical path.
    let out = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    assert!(
        !out.stdout_text().contains("orm/constructors.py:3:"),
        "{}",
        out.stdout_text()
    );
}

/// `check --unsafe-fixes` lists the unsafe fixes and writes nothing, as in ruff.
#[test]
fn unsafe_fixes_alone_writes_nothing() {
    let dir = copy_of("fixtures/check/strings-not-imports");
    let before = snapshot(dir.path());
    let out = run(dir.path(), &["check", "--unsafe-fixes", "--no-cache"]);
    out.assert_clean_exit(1);
    assert!(
        out.stdout_text()
            .contains("an unsafe fix is available (`ssot-gardener fix --unsafe-fixes`)"),
        "{}",
        out.stdout_text()
    );
    assert!(
        !out.stderr.contains("Fixed"),
        "a check must not fix: {}",
        out.stderr
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "check --unsafe-fixes wrote files"
    );
}

/// Strings are rewritten only where Python uses them as import or patch targets; a logger
/// name, a prefix scan, a constant and a message keep their bytes.
#[test]
fn only_import_and_patch_strings_are_rewritten() {
    let dir = copy_of("fixtures/check/strings-not-imports");
    run(dir.path(), &["fix", "--unsafe-fixes", "--no-cache"]);
    let plugins = fs::read_to_string(dir.path().join("app/plugins.py")).expect("plugins.py");
    for kept in [
        "logging.getLogger(\"app.compat\")",
        "name.startswith(\"app.compat\")",
        "FULLNAME = \"app.compat.WebSocketManager\"",
        "MESSAGE = \"app.compat is deprecated\"",
        "sys.modules.pop(\"app.compat\", None)",
    ] {
        assert!(plugins.contains(kept), "`{kept}` was rewritten:\n{plugins}");
    }
    for fixed in [
        "importlib.import_module(\"app.websocket_manager\")",
        "sys.modules[\"app.websocket_manager\"]",
    ] {
        assert!(plugins.contains(fixed), "`{fixed}` missing:\n{plugins}");
    }
    let test = fs::read_to_string(dir.path().join("tests/test_patch.py")).expect("test");
    assert!(
        test.contains("mock.patch(\"app.websocket_manager.WebSocketManager\")"),
        "{test}"
    );
    for module in ["app.plugins", "tests.test_patch"] {
        import(dir.path(), module).unwrap_or_else(|error| panic!("{module}: {error}"));
    }
}

/// An import of a duplicate is pointed at the canonical class only when the canonical class
/// has every public method the duplicate has.
#[test]
fn no_fix_binds_a_class_that_lacks_methods() {
    let dir = copy_of("fixtures/check/lookalikes");
    let out = run(dir.path(), &["check", "--no-cache", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["code"] == "SSOT003")
        .collect();
    assert_eq!(findings.len(), 2, "{json}");
    assert!(findings[0]["fix"].is_null(), "{}", findings[0]);
    assert!(
        findings[0]["help"]
            .as_str()
            .expect("help")
            .contains("lacks `flush_legacy_cache`"),
        "{}",
        findings[0]
    );
    assert_eq!(
        findings[1]["fix"]["applicability"], "unsafe",
        "{}",
        findings[1]
    );
    run(dir.path(), &["fix", "--unsafe-fixes", "--no-cache"]);
    let users = fs::read_to_string(dir.path().join("app/users.py")).expect("users.py");
    assert!(
        users.contains("from app.legacy import LegacySession"),
        "{users}"
    );
    assert!(
        users.contains("from app.session import Session as PlainSession"),
        "{users}"
    );
    import(dir.path(), "app.users").expect("app.users imports");
}
