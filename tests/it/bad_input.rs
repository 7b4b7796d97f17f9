//! DESIGN §12, bad input: one test per kind of bad file, each through the real binary.
//!
//! Every test builds a throw-away repository with a healthy module (`good.py`) and an importer
//! (`user.py`), adds the bad file, and runs `graph --format json`. It asserts: exit code 0, no
//! panic, the bad file reported (as a module with a sensible `errors` entry, or in `skipped`
//! with a reason), and `user.py`'s import still resolving to `good:Good` (the rest of the run
//! is unaffected). Then the bad configurations: a missing `--config` path and a broken
//! `ssot.toml`, both exit code 2 with a clear message.

use std::io::{BufReader, Write};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::support::{
    module, module_paths, run, run_with, skipped_reason, temp_repo, verdicts, write_files,
};

/// The healthy part of every repository: a definition and its importer.
fn healthy_repo() -> tempfile::TempDir {
    let repo = temp_repo("");
    write_files(
        repo.path(),
        &[
            ("good.py", b"class Good: pass\n"),
            ("user.py", b"from good import Good\n"),
        ],
    );
    repo
}

fn repo_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let repo = healthy_repo();
    write_files(repo.path(), files);
    repo
}

fn graph(repo: &Path) -> Value {
    let graph = run(repo, &["graph", "--format", "json"]).json();
    assert_healthy_part_unaffected(&graph);
    graph
}

fn assert_healthy_part_unaffected(graph: &Value) {
    assert_eq!(
        verdicts(graph, "user.py"),
        [("good:Good".to_string(), "resolved -> good:Good".to_string())],
        "the healthy importer must still resolve"
    );
}

/// The messages of the module's syntax errors (the module must be in the graph).
fn errors(graph: &Value, path: &str) -> Vec<String> {
    let module = module(graph, path).unwrap_or_else(|| {
        panic!(
            "{path} is not a module of the graph; skipped: {}",
            graph["skipped"]
        )
    });
    module["errors"]
        .as_array()
        .expect("errors is an array")
        .iter()
        .map(|error| error["message"].as_str().expect("a message").to_string())
        .collect()
}

/// `(written, verdict)` pairs, as `verdicts` gives them, for a plain `import os`.
fn import_os() -> (String, String) {
    ("os".to_string(), "external".to_string())
}

fn assert_skipped(graph: &Value, path: &str, reason_contains: &[&str]) {
    let reason = skipped_reason(graph, path).unwrap_or_else(|| {
        panic!(
            "{path} is not in `skipped`: {}; modules: {:?}",
            graph["skipped"],
            module_paths(graph)
        )
    });
    let lower = reason.to_lowercase();
    assert!(
        reason_contains.iter().any(|word| lower.contains(word)),
        "the reason for skipping {path} should mention one of {reason_contains:?}: {reason:?}"
    );
    assert!(
        module(graph, path).is_none(),
        "{path} is both skipped and a module"
    );
}

#[test]
fn non_utf8_bytes_are_an_error_and_the_rest_of_the_file_is_read() {
    let repo = repo_with(&[("latin.py", b"x = '\xff\xfe'\nimport os\n")]);
    let graph = graph(repo.path());
    let errors = errors(&graph, "latin.py");
    assert!(
        errors.iter().any(|message| message.contains("UTF-8")),
        "{errors:?}"
    );
    assert_eq!(verdicts(&graph, "latin.py"), [import_os()]);
}

#[test]
fn nul_bytes_are_an_error_and_the_rest_of_the_file_is_read() {
    let repo = repo_with(&[("nul.py", b"x = 1\x00\nimport os\n")]);
    let graph = graph(repo.path());
    let errors = errors(&graph, "nul.py");
    assert!(
        errors.iter().any(|message| message.contains("null")),
        "{errors:?}"
    );
    assert_eq!(verdicts(&graph, "nul.py"), [import_os()]);
}

/// An empty file is a valid (empty) module, like every empty `__init__.py`: listed, no error.
#[test]
fn an_empty_file_is_an_empty_module() {
    let repo = repo_with(&[("empty.py", b"")]);
    let graph = graph(repo.path());
    assert_eq!(errors(&graph, "empty.py"), Vec::<String>::new());
    assert_eq!(
        module(&graph, "empty.py").expect("listed")["module"],
        "empty"
    );
    assert!(verdicts(&graph, "empty.py").is_empty());
}

/// What the huge-file test reads of the output: everything except the 8 million definitions,
/// read as a stream (the whole pretty-printed output is over a gigabyte).
#[derive(Deserialize)]
struct LightGraph {
    modules: Vec<LightModule>,
    skipped: Value,
}

#[derive(Deserialize)]
struct LightModule {
    path: String,
    module: Option<String>,
    imports: Value,
    errors: Value,
}

#[test]
fn a_50_megabyte_file_is_read_to_its_last_line() {
    const SIZE: usize = 50 * 1024 * 1024;
    let repo = healthy_repo();
    {
        let file = std::fs::File::create(repo.path().join("huge.py")).expect("create huge.py");
        let mut out = std::io::BufWriter::new(file);
        for _ in 0..SIZE / "x = 1\n".len() {
            out.write_all(b"x = 1\n").expect("write huge.py");
        }
        out.write_all(b"import json\n").expect("write huge.py");
        out.flush().expect("write huge.py");
    }
    let (run, light) = run_with(repo.path(), &["graph", "--format", "json"], |stdout| {
        serde_json::from_reader::<_, LightGraph>(BufReader::with_capacity(1 << 20, stdout))
    });
    run.assert_clean_exit(0);
    let light = light.expect("the output is a graph document");
    let modules: Vec<Value> = light
        .modules
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "path": m.path, "module": m.module, "imports": m.imports, "errors": m.errors,
            })
        })
        .collect();
    let graph = serde_json::json!({"modules": modules, "skipped": light.skipped});
    assert_healthy_part_unaffected(&graph);
    assert_eq!(errors(&graph, "huge.py"), Vec::<String>::new());
    let huge = module(&graph, "huge.py").expect("listed");
    let imports = huge["imports"].as_array().expect("imports");
    assert_eq!(imports.len(), 1, "{imports:?}");
    assert_eq!(imports[0]["module"], "json");
    assert_eq!(
        imports[0]["line"].as_u64(),
        Some((SIZE / "x = 1\n".len() + 1) as u64)
    );
}

#[test]
fn ten_thousand_nested_brackets_are_read() {
    let deep = format!(
        "x = {}{}\nimport os\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let repo = repo_with(&[("deep.py", deep.as_bytes())]);
    let graph = graph(repo.path());
    assert_eq!(verdicts(&graph, "deep.py"), [import_os()]);
}

#[test]
fn ten_thousand_unclosed_brackets_are_an_error() {
    let unclosed = format!("x = {}\nimport os\n", "(".repeat(10_000));
    let repo = repo_with(&[("unclosed.py", unclosed.as_bytes())]);
    let graph = graph(repo.path());
    let errors = errors(&graph, "unclosed.py");
    assert!(
        errors
            .iter()
            .any(|message| message.contains("never closed")),
        "{errors:?}"
    );
    // The scanner closes a runaway bracket at the next line that starts with `import`.
    assert_eq!(verdicts(&graph, "unclosed.py"), [import_os()]);
}

#[test]
fn a_syntax_error_mid_file_costs_only_that_statement() {
    let repo = repo_with(&[(
        "broken.py",
        b"import sys\n\ndef f(:\n    pass\n\nimport os\nfrom good import Good\n",
    )]);
    let graph = graph(repo.path());
    assert!(!errors(&graph, "broken.py").is_empty());
    assert_eq!(
        verdicts(&graph, "broken.py"),
        [
            ("sys".to_string(), "external".to_string()),
            import_os(),
            ("good:Good".to_string(), "resolved -> good:Good".to_string()),
        ]
    );
}

#[test]
fn a_dangling_symlink_is_skipped_with_a_reason() {
    let repo = healthy_repo();
    symlink("nowhere.py", repo.path().join("broken.py")).expect("symlink");
    let graph = graph(repo.path());
    assert_skipped(&graph, "broken.py", &["symlink"]);
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// `chmod 000` cannot stop root from reading; as root only the symlink case above applies.
#[test]
fn an_unreadable_file_or_directory_is_skipped_with_a_reason() {
    use std::fs::{Permissions, set_permissions};
    use std::os::unix::fs::PermissionsExt;
    if running_as_root() {
        return;
    }
    let repo = repo_with(&[
        ("secret.py", b"import os\n"),
        ("closed/inner.py", b"import os\n"),
    ]);
    let file = repo.path().join("secret.py");
    let directory = repo.path().join("closed");
    set_permissions(&file, Permissions::from_mode(0o000)).expect("chmod");
    set_permissions(&directory, Permissions::from_mode(0o000)).expect("chmod");
    let run = run(repo.path(), &["graph", "--format", "json"]);
    // Restored before any assertion so the temporary directory can always be removed.
    set_permissions(&file, Permissions::from_mode(0o644)).expect("chmod");
    set_permissions(&directory, Permissions::from_mode(0o755)).expect("chmod");
    let graph = run.json();
    assert_healthy_part_unaffected(&graph);
    assert_skipped(&graph, "secret.py", &["permission denied"]);
    assert_skipped(&graph, "closed", &["permission denied"]);
}

#[test]
fn a_directory_symlink_loop_is_reported_not_followed() {
    let repo = healthy_repo();
    symlink(".", repo.path().join("loop")).expect("symlink");
    std::fs::create_dir(repo.path().join("pkg")).expect("mkdir");
    symlink("..", repo.path().join("pkg/up")).expect("symlink");
    let graph = graph(repo.path());
    assert_skipped(&graph, "loop", &["loop"]);
    assert_skipped(&graph, "pkg/up", &["loop"]);
    assert_eq!(module_paths(&graph), ["good.py", "user.py"]);
}

#[test]
fn a_file_symlink_cycle_is_skipped_with_a_reason() {
    let repo = healthy_repo();
    symlink("b.py", repo.path().join("a.py")).expect("symlink");
    symlink("a.py", repo.path().join("b.py")).expect("symlink");
    let graph = graph(repo.path());
    assert_skipped(&graph, "a.py", &["symlink"]);
    assert_skipped(&graph, "b.py", &["symlink"]);
}

#[test]
fn a_symlink_out_of_the_repository_is_skipped_with_a_reason() {
    let outside = tempfile::tempdir().expect("tempdir");
    write_files(
        outside.path(),
        &[
            ("elsewhere.py", b"class Elsewhere: pass\n"),
            ("lib/m.py", b""),
        ],
    );
    let repo = healthy_repo();
    symlink(
        outside.path().join("elsewhere.py"),
        repo.path().join("linked.py"),
    )
    .expect("symlink");
    symlink(outside.path().join("lib"), repo.path().join("lib")).expect("symlink");
    let graph = graph(repo.path());
    assert_skipped(&graph, "linked.py", &["outside"]);
    assert_skipped(&graph, "lib", &["outside"]);
}

/// A symlink that stays inside the repository is followed: the file is read under the
/// link's path.
#[test]
fn a_symlink_inside_the_repository_is_followed() {
    let repo = healthy_repo();
    symlink("good.py", repo.path().join("again.py")).expect("symlink");
    let graph = graph(repo.path());
    assert_eq!(module_paths(&graph), ["again.py", "good.py", "user.py"]);
}

#[test]
fn five_hundred_nested_f_strings_do_not_overflow() {
    let mut expression = "1".to_string();
    for _ in 0..500 {
        expression = format!("f\"{{{expression}}}\"");
    }
    let text = format!("x = {expression}\nimport os\n");
    let repo = repo_with(&[("fstrings.py", text.as_bytes())]);
    let graph = graph(repo.path());
    assert_eq!(verdicts(&graph, "fstrings.py"), [import_os()]);
}

/// Nesting by indentation costs one more byte per level on every line, so 10,000 nested `if`
/// blocks are a 50 MB file (100,000 would be 5 GB). CPython stops at 100 levels.
#[test]
fn ten_thousand_nested_if_blocks_do_not_overflow() {
    const DEPTH: usize = 10_000;
    let mut text = String::with_capacity(DEPTH * DEPTH / 2 + DEPTH * 8);
    for level in 0..DEPTH {
        text.extend(std::iter::repeat_n(' ', level));
        text.push_str("if x:\n");
    }
    text.extend(std::iter::repeat_n(' ', DEPTH));
    text.push_str("import sys\nimport os\n");
    let repo = repo_with(&[("nested.py", text.as_bytes())]);
    let graph = graph(repo.path());
    assert_eq!(errors(&graph, "nested.py"), Vec::<String>::new());
    assert_eq!(
        verdicts(&graph, "nested.py"),
        [("sys".to_string(), "external".to_string()), import_os()]
    );
    let imports = module(&graph, "nested.py").expect("listed")["imports"].clone();
    assert_eq!(imports[0]["context"]["conditional"], true);
    assert_eq!(imports[1]["context"]["conditional"], false);
}

/// 100,000 `if` statements on one line: invalid Python, but a deep chain of block openers.
#[test]
fn a_hundred_thousand_block_openers_on_one_line_do_not_overflow() {
    let text = format!("{}pass\nimport os\n", "if x: ".repeat(100_000));
    let repo = repo_with(&[("chain.py", text.as_bytes())]);
    let graph = graph(repo.path());
    assert_eq!(verdicts(&graph, "chain.py"), [import_os()]);
}

#[test]
fn a_missing_config_path_is_a_usage_error_naming_it() {
    let repo = healthy_repo();
    let run = run(
        repo.path(),
        &["graph", "--config", "no/such/ssot.toml", "--format", "json"],
    );
    run.assert_clean_exit(2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("no/such/ssot.toml") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_config_points_at_the_key_with_a_caret() {
    let repo = healthy_repo();
    std::fs::write(
        repo.path().join("ssot.toml"),
        "[project]\npython-roots = [\".\"]\nexclud = [\"x\"]\n",
    )
    .expect("write ssot.toml");
    let run = run(repo.path(), &["graph", "--format", "json"]);
    run.assert_clean_exit(2);
    assert!(run.stdout.is_empty());
    let stderr = &run.stderr;
    assert!(stderr.contains("ssot.toml:3:1"), "{stderr}");
    assert!(stderr.contains("exclud = [\"x\"]"), "{stderr}");
    assert!(stderr.contains("^^^^^^"), "{stderr}");
    assert!(stderr.contains("`exclude`"), "{stderr}");
}

#[test]
fn invalid_toml_through_the_binary_is_a_configuration_error() {
    let repo = healthy_repo();
    std::fs::write(
        repo.path().join("ssot.toml"),
        "[project\npython-roots = 1\n",
    )
    .expect("write ssot.toml");
    let run = run(repo.path(), &["graph"]);
    run.assert_clean_exit(2);
    assert!(run.stderr.contains("ssot.toml"), "{}", run.stderr);
    assert!(run.stderr.contains('^'), "{}", run.stderr);
}

/// A file of very many imports costs time linear in its size (issue 17): 300,000 import lines
/// (11 MB) took minutes when each new import name was compared with every earlier one (a
/// million lines are checked now), and
/// 3,000 aliases of a concept through a shim took 40 s when each finding's fix scanned every
/// pair of imports, and 20,000 took 38 s and 7 GB while each fix rebuilt and sorted the whole
/// import block, carried the block between its edits and listed the shim's importers with a
/// line index per importer (0.3 s now). The bound is generous: it only catches quadratic
/// behaviour, never speed.
#[test]
fn files_of_many_imports_cost_linear_time() {
    let bound = std::time::Duration::from_secs(60);
    let dir = temp_repo("");
    // 1,000,000 lines (38 MB), each an SSOT009 finding: about 5 s and 1.2 GB in release.
    let lines: String = (0..1_000_000)
        .map(|i| format!("from pkg.mod{i} import Thing{i}\n"))
        .collect();
    write_files(
        dir.path(),
        &[("pkg/__init__.py", b""), ("pkg/big.py", lines.as_bytes())],
    );
    let started = std::time::Instant::now();
    let out = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    assert!(
        started.elapsed() < bound,
        "1,000,000 imports: {:?}",
        started.elapsed()
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let aliases: String = (0..20_000)
        .map(|i| format!("from pkg.compat import Thing as T{i}\n"))
        .collect();
    write_files(
        dir.path(),
        &[
            (
                "ssot.toml",
                b"[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"thing\"\ncanonical = \"pkg.Thing\"\n",
            ),
            ("pkg/__init__.py", b"class Thing:\n    pass\n"),
            ("pkg/compat.py", b"from pkg import Thing\n"),
            ("pkg/aliases.py", aliases.as_bytes()),
        ],
    );
    let started = std::time::Instant::now();
    let out = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout_text().lines().count() >= 20_000);
    assert!(
        started.elapsed() < bound,
        "20,000 aliases: {:?}",
        started.elapsed()
    );
    // `fix` moves the whole block in one plan: every finding fixed in one run (each fix alone
    // re-sorts the block, so one a pass was applied, ten in all), linear in the block, and a
    // second run has nothing left.
    let started = std::time::Instant::now();
    let out = run(dir.path(), &["fix", "--no-cache"]);
    assert!(
        out.stderr.contains("Fixed 20000 findings in 1 file."),
        "{}",
        out.stderr
    );
    assert!(
        started.elapsed() < bound,
        "fix of 20,000 aliases: {:?}",
        started.elapsed()
    );
    let fixed = std::fs::read_to_string(dir.path().join("pkg/aliases.py")).expect("read");
    assert_eq!(fixed.matches("from pkg import Thing as T").count(), 20_000);
    assert!(!fixed.contains("pkg.compat"));
    run(dir.path(), &["fix", "--diff", "--no-cache"]).assert_clean_exit(0);
}
