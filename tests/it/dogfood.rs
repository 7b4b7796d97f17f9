//! The tool on its own repository (its `ssot.toml` declares the bundled reference manager as
//! canonical), and the commands that hand the reference to users: `reference` and `init`.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{CRATE_ROOT, fixture, run, write_files};

#[test]
fn this_repository_passes_its_own_check() {
    let out = run(Path::new(CRATE_ROOT), &["check", "--no-cache"]);
    out.assert_clean_exit(0);
    let text = out.stdout_text();
    assert!(text.starts_with("All checks passed"), "{text}");
    // The concept is really there: the reference module and its importers are seen.
    assert!(
        text.contains("websocket-manager: ") && !text.contains(" 0/0 importers"),
        "{text}"
    );
}

#[test]
fn reference_prints_and_writes_the_bundled_module() {
    let module = fs::read(fixture("reference/websocket_manager.py")).expect("the module");
    let printed = run(Path::new(CRATE_ROOT), &["reference"]);
    printed.assert_clean_exit(0);
    assert_eq!(printed.stdout, module);

    let dir = tempfile::tempdir().expect("temporary directory");
    let out = run(
        dir.path(),
        &["reference", "--output", "websocket_manager.py"],
    );
    out.assert_clean_exit(0);
    let written = dir.path().join("websocket_manager.py");
    assert_eq!(fs::read(&written).expect("written"), module);
    let again = run(
        dir.path(),
        &["reference", "--output", "websocket_manager.py"],
    );
    again.assert_clean_exit(2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(fs::read(&written).expect("unchanged"), module);
    let compiled = Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(&written)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .expect("run python3");
    assert!(compiled.success());
}

/// The reference is what a canonical module should look like: checked as one, it has no
/// findings (one class, one accessor, no factory, no direct construction elsewhere).
#[test]
fn the_reference_module_is_clean_as_a_canonical_module() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let module = fs::read(fixture("reference/websocket_manager.py")).expect("the module");
    write_files(
        dir.path(),
        &[
            ("app/__init__.py", b""),
            ("app/websocket_manager.py", &module),
            (
                "app/routes.py",
                b"from app.websocket_manager import get_websocket_manager\n\nmanager = get_websocket_manager()\n",
            ),
            (
                "ssot.toml",
                br#"[project]
python-roots = ["."]

[[concept]]
name = "websocket-manager"
canonical = "app.websocket_manager.WebSocketManager"
implementations = ["*WebSocket*Manager"]
factories = ["create_*websocket_manager*", "get_*websocket_manager*", "*WebSocketManagerFactory"]
allowed-factories = ["app.websocket_manager.get_websocket_manager"]
"#,
            ),
        ],
    );
    let out = run(dir.path(), &["check", "--no-cache"]);
    out.assert_clean_exit(0);
}

/// Files of a throw-away repository: (path, contents).
type Files<'a> = &'a [(&'a str, &'a [u8])];

#[test]
fn init_guesses_the_roots_and_never_replaces_a_file() {
    let cases: [(Files, &str); 6] = [
        (&[("pkg/__init__.py", b"")], r#"python-roots = ["."]"#),
        (
            &[
                (
                    "Cargo.toml",
                    b"[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
                ),
                ("src/lib.rs", b"pub struct A;\n"),
            ],
            "\nrust-roots = [\".\"]",
        ),
        (
            &[
                ("pkg/__init__.py", b""),
                (
                    "native/Cargo.toml",
                    b"[package]\nname = \"n\"\nversion = \"0.1.0\"\n",
                ),
                ("native/src/lib.rs", b"pub struct N;\n"),
            ],
            "\nrust-roots = [\"native\"]",
        ),
        (&[("src/pkg/__init__.py", b"")], r#"python-roots = ["src"]"#),
        (
            &[("tool.py", b""), ("src/pkg/__init__.py", b"")],
            r#"python-roots = [".", "src"]"#,
        ),
        (&[("README.md", b"")], r#"python-roots = ["."]"#),
    ];
    for (files, expected) in cases {
        let dir = tempfile::tempdir().expect("temporary directory");
        write_files(dir.path(), files);
        let out = run(dir.path(), &["init"]);
        out.assert_clean_exit(0);
        let config = fs::read_to_string(dir.path().join("ssot.toml")).expect("ssot.toml");
        assert!(config.contains(expected), "{expected} in:\n{config}");
        // The starter file is valid as it is: `check` runs and finds nothing.
        run(dir.path(), &["check", "--no-cache"]).assert_clean_exit(0);
        let again = run(dir.path(), &["init"]);
        again.assert_clean_exit(2);
        assert!(again.stderr.contains("already exists"), "{}", again.stderr);
        assert_eq!(
            fs::read_to_string(dir.path().join("ssot.toml")).expect("ssot.toml"),
            config
        );
    }
}

/// The commented `[[concept]]` block, uncommented and pointed at a real class, is a working
/// configuration.
#[test]
fn the_starter_concept_block_works_once_uncommented() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_files(
        dir.path(),
        &[
            ("mypackage/__init__.py", b""),
            (
                "mypackage/websocket_manager.py",
                b"class WebSocketManager:\n    pass\n\n\ndef get_websocket_manager():\n    return WebSocketManager()\n",
            ),
            ("mypackage/legacy.py", b"class LegacyWebSocketManager:\n    pass\n"),
        ],
    );
    run(dir.path(), &["init"]).assert_clean_exit(0);
    let path = dir.path().join("ssot.toml");
    let config = fs::read_to_string(&path).expect("ssot.toml");
    let mut in_block = false;
    let uncommented: Vec<String> = config
        .lines()
        .map(|line| {
            in_block |= line == "# [[concept]]";
            match line.strip_prefix("# ") {
                Some(rest) if in_block => rest.to_string(),
                _ => line.to_string(),
            }
        })
        .collect();
    fs::write(&path, uncommented.join("\n")).expect("write");
    let out = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    out.assert_clean_exit(1);
    assert_eq!(
        out.stdout_text(),
        "mypackage/legacy.py:1:7: SSOT001 class `LegacyWebSocketManager` re-implements `websocket-manager`\n"
    );
}

/// README's quick start cannot drift: its two commands are the ones CI and users run, and
/// the sample output it shows is what the first one prints.
#[test]
fn readme_quick_start_is_true() {
    let readme = fs::read_to_string(fixture("README.md")).expect("README.md");
    let start = readme.find("## Quick start").expect("a quick start");
    let block_start = readme[start..].find("```sh\n").expect("a command block") + start + 6;
    let block = &readme[block_start..][..readme[block_start..].find("```").expect("fence")];
    let commands: Vec<&str> = block
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -- check fixtures/demo",
            "cargo test --release --locked"
        ]
    );
    let ci = fs::read_to_string(fixture(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines()
            .any(|line| line.trim() == "cargo test --release --locked"),
        ".ci/run runs README's test command"
    );
    // The sample output: every line of it (but the `...` elision) is in the real output.
    let out = run(
        Path::new(CRATE_ROOT),
        &["check", "fixtures/demo", "--no-cache"],
    );
    out.assert_clean_exit(1);
    let actual = out.stdout_text();
    let sample_start =
        readme[block_start..].find("```\nerror[").expect("a sample") + block_start + 4;
    let sample = &readme[sample_start..][..readme[sample_start..].find("```").expect("fence")];
    for line in sample.lines().filter(|line| *line != "...") {
        assert!(
            actual.contains(line),
            "README shows a line `check` does not print: {line}"
        );
    }
}
