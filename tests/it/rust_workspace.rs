//! Rust end to end on `fixtures/check/rust-workspace` and `fixtures/check/rust-copies` (three
//! crates each): `fix --diff` as a snapshot, then `fix` on a copy proven by the compiler:
//! `cargo check --offline --all-targets` and the workspace's own tests pass before and
//! after, and a second `fix` changes nothing. `rust-copies` is fixed with `--unsafe-fixes`
//! (the duplicate's import, the attribute's path) and its merges into existing `use` items. The findings themselves are compared with the fixture's CASE.md by
//! `check.rs`, like every other case.

use std::path::Path;
use std::process::Command;

use crate::graph::check_snapshot;
use crate::support::{CRATE_ROOT, copy_dir, fixture, run};

const CASE: &str = "fixtures/check/rust-workspace";
const COPIES: &str = "fixtures/check/rust-copies";

/// `cargo <args>` in `dir`, offline, with a target directory shared by the runs of this
/// test (under the crate's own `target/`, so a rerun only rebuilds what changed).
fn cargo(dir: &Path, args: &[&str]) -> std::process::Output {
    let target = Path::new(CRATE_ROOT).join("target/fixture-rust-workspace");
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
        .args(args)
        .arg("--offline")
        .arg("--quiet")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo")
}

fn assert_compiles_and_passes(dir: &Path, when: &str) {
    let check = cargo(dir, &["check", "--all-targets"]);
    assert!(
        check.status.success(),
        "cargo check {when} fix:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let test = cargo(dir, &["test"]);
    assert!(
        test.status.success(),
        "cargo test {when} fix:\n{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

#[test]
fn the_rust_rewrites_as_a_diff() {
    let out = run(
        Path::new(CRATE_ROOT),
        &["fix", CASE, "--diff", "--no-cache"],
    );
    out.assert_clean_exit(1);
    assert!(
        out.stderr.contains("Would fix 5 findings in 5 files."),
        "{}",
        out.stderr
    );
    let failures: Vec<String> = check_snapshot(
        &fixture(&format!("{CASE}/expected-fix.diff")),
        &out.stdout_text(),
    )
    .into_iter()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixing_the_workspace_keeps_it_compiling_and_converges() {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixture(CASE), dir.path());
    let root = dir.path();
    assert_compiles_and_passes(root, "before");
    let unclean = rustfmt_unclean(root);

    let first = run(root, &["fix", "--no-cache"]);
    assert!(
        !first.stderr.contains("panicked") && first.code.is_some(),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("Fixed 5 findings"),
        "{}",
        first.stderr
    );
    assert_compiles_and_passes(root, "after");
    assert_rustfmt_clean_stays_clean(&unclean, root, "after the");

    // Every SSOT002 is gone; what is left has no fix.
    let json = run(root, &["check", "--format", "json", "--no-cache"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let codes: Vec<&str> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["code"].as_str().expect("code"))
        .collect();
    assert!(!codes.contains(&"SSOT002"), "{codes:?}");
    let concept = &value["summary"]["concepts"][0];
    assert_eq!(concept["importers"], concept["canonical_importers"]);

    let before: Vec<(std::path::PathBuf, Vec<u8>)> = walk(root);
    let second = run(root, &["fix", "--no-cache"]);
    assert!(!second.stderr.contains("panicked"), "{}", second.stderr);
    assert!(
        second.stderr.contains("Fixed 0 findings in 0 files."),
        "{}",
        second.stderr
    );
    assert_eq!(before, walk(root), "a second fix changed files");
}

#[test]
fn the_unsafe_rust_rewrites_as_a_diff() {
    let out = run(
        Path::new(CRATE_ROOT),
        &["fix", COPIES, "--diff", "--unsafe-fixes", "--no-cache"],
    );
    out.assert_clean_exit(1);
    assert!(
        out.stderr.contains("Would fix 6 findings in 5 files."),
        "{}",
        out.stderr
    );
    let failures: Vec<String> = check_snapshot(
        &fixture(&format!("{COPIES}/expected-fix.diff")),
        &out.stdout_text(),
    )
    .into_iter()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unsafe_fixes_keep_the_copies_workspace_compiling_and_converge() {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixture(COPIES), dir.path());
    let root = dir.path();
    assert_compiles_and_passes(root, "before");
    let unclean = rustfmt_unclean(root);
    if let Some(unclean) = &unclean {
        assert_eq!(unclean.len(), 1, "{unclean:?}"); // `net/src/lib.rs`: its `mod` items.
    }
    // The safe fixes alone: the doc link and both `use` rewrites.
    let safe = run(root, &["fix", "--no-cache"]);
    assert!(safe.stderr.contains("Fixed 3 findings"), "{}", safe.stderr);
    assert_compiles_and_passes(root, "after the safe");
    assert_rustfmt_clean_stays_clean(&unclean, root, "after the safe");
    let unsafe_ = run(root, &["fix", "--unsafe-fixes", "--no-cache"]);
    assert!(
        unsafe_.stderr.contains("Fixed 3 findings"),
        "{}",
        unsafe_.stderr
    );
    assert_compiles_and_passes(root, "after the unsafe");
    assert_rustfmt_clean_stays_clean(&unclean, root, "after the unsafe");
    let json = run(root, &["check", "--format", "json", "--no-cache"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let mut codes: Vec<&str> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["code"].as_str().expect("code"))
        .collect();
    codes.sort_unstable();
    // What is left is the copy itself and the crate-private alias nobody goes through now
    // ("safe to delete"); the root's `pub use` is public API and quiet once no importer in
    // the repository goes through it.
    assert_eq!(codes, ["SSOT001", "SSOT005"], "{value}");
    let before = walk(root);
    let second = run(root, &["fix", "--unsafe-fixes", "--no-cache"]);
    assert!(
        second.stderr.contains("Fixed 0 findings in 0 files."),
        "{}",
        second.stderr
    );
    assert_eq!(before, walk(root), "a second fix changed files");
}

/// The `.rs` files under `root` that `rustfmt --check` (edition 2021, the fixtures') would
/// change: a fix must leave a rustfmt-clean file clean (its `use` items sorted as rustfmt
/// sorts them).
fn rustfmt_unclean(root: &Path) -> Option<std::collections::BTreeSet<std::path::PathBuf>> {
    if !crate::support::rustfmt_available() {
        return None;
    }
    let files: Vec<std::path::PathBuf> = walk(root).into_iter().map(|(path, _)| path).collect();
    let out = Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .args(&files)
        .output()
        .expect("rustfmt is part of the toolchain (rustup component add rustfmt)");
    assert!(
        out.status.code().is_some_and(|code| code <= 1),
        "rustfmt failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("Diff in "))
            .map(|rest| {
                let path = rest.rsplitn(3, ':').nth(2).unwrap_or(rest);
                std::path::PathBuf::from(path)
            })
            .collect(),
    )
}

fn assert_rustfmt_clean_stays_clean(
    before: &Option<std::collections::BTreeSet<std::path::PathBuf>>,
    root: &Path,
    when: &str,
) {
    let (Some(before), Some(after)) = (before, rustfmt_unclean(root)) else {
        return;
    };
    let broken: Vec<_> = after.difference(before).collect();
    assert!(
        broken.is_empty(),
        "rustfmt --check fails {when} fix on files it passed before: {broken:?}"
    );
}

/// Every `.rs` file under `root` with its bytes, sorted.
fn walk(root: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let bytes = std::fs::read(&path).expect("read");
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// A file that a lib and a bin both compile (`mod shared;` in `lib.rs` and `main.rs`): a
/// path written there must mean the same in both crates, so the finding has no fix.
#[test]
fn a_file_compiled_by_two_crates_gets_no_fix() {
    let dir = tempfile::tempdir().expect("temporary directory");
    crate::support::write_files(
        dir.path(),
        &[
            (
                "ssot.toml",
                b"[project]\nrust-roots = [\".\"]\n\n[[concept]]\nname = \"event\"\ncanonical = \"solo::input::Event\"\n",
            ),
            (
                "Cargo.toml",
                b"[package]\nname = \"solo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("src/lib.rs", b"pub mod compat;\npub mod input;\nmod shared;\n"),
            (
                "src/main.rs",
                b"mod compat;\nmod input;\nmod shared;\n\nfn main() {}\n",
            ),
            ("src/input.rs", b"pub struct Event;\n"),
            (
                "src/compat.rs",
                b"pub(crate) use crate::input::Event as Legacy;\n",
            ),
            (
                "src/shared.rs",
                b"use crate::compat::Legacy;\n\npub fn f(_: &Legacy) {}\n",
            ),
        ],
    );
    let out = run(dir.path(), &["check", "--format", "json", "--no-cache"]);
    out.assert_clean_exit(1);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let finding = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "SSOT002" && f["path"] == "src/shared.rs")
        .expect("the indirect import is reported");
    assert!(finding["fix"].is_null(), "{finding}");
    assert!(
        finding["help"]
            .as_str()
            .is_some_and(|help| help.contains("more than one crate")),
        "{finding}"
    );
}

/// `public` takes Rust paths for a Rust concept: the crate-root re-export it names is
/// accepted (its importers, its strings and the re-export itself are quiet), and a dotted
/// path there is a config error.
#[test]
fn a_public_rust_path_is_accepted() {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixture(COPIES), dir.path());
    let config = dir.path().join("ssot.toml");
    let base = std::fs::read_to_string(&config).expect("ssot.toml");
    std::fs::write(&config, format!("{base}public = [\"net::Manager\"]\n")).expect("write");
    let out = run(dir.path(), &["check", "--format", "concise", "--no-cache"]);
    out.assert_clean_exit(1);
    let text = out.stdout_text();
    assert!(!text.contains("SSOT002"), "{text}");
    assert!(!text.contains("wire.rs"), "{text}");
    assert!(!text.contains("crates/net/src/lib.rs"), "{text}");
    assert!(text.contains("crates/net/src/compat.rs"), "{text}");

    std::fs::write(&config, format!("{base}public = [\"net.Manager\"]\n")).expect("write");
    let out = run(dir.path(), &["check", "--no-cache"]);
    out.assert_clean_exit(2);
    assert!(
        out.stderr
            .contains("not a Rust path like the canonical one"),
        "{}",
        out.stderr
    );
}

/// The canonical module is private (`mod glob;`, its type re-exported by `pub use`, as in
/// globset): from another crate the re-export is the only path there is, so neither the
/// `use` nor the doc link through it is a finding; the re-export is public API.
#[test]
fn a_private_canonical_module_leaves_the_reexport_as_the_only_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    crate::support::write_files(
        dir.path(),
        &[
            (
                "ssot.toml",
                b"[project]\nrust-roots = [\".\"]\n\n[[concept]]\nname = \"glob\"\ncanonical = \"a::glob::Glob\"\n",
            ),
            ("Cargo.toml", b"[workspace]\nmembers = [\"a\", \"b\"]\n"),
            (
                "a/Cargo.toml",
                b"[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("a/src/lib.rs", b"mod glob;\npub use crate::glob::Glob;\n"),
            ("a/src/glob.rs", b"pub struct Glob;\n"),
            (
                "b/Cargo.toml",
                b"[package]\nname = \"b\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\na = { path = \"../a\" }\n",
            ),
            (
                "b/src/lib.rs",
                b"//! Matches with [`Glob`](a::Glob).\nuse a::Glob;\n\npub fn g() -> Glob {\n    Glob\n}\n",
            ),
        ],
    );
    let out = run(dir.path(), &["check", "--format", "concise", "--no-cache"]);
    let text = out.stdout_text();
    assert!(!text.contains("b/src/lib.rs"), "{text}{}", out.stderr);
    out.assert_clean_exit(0);
}

/// Globs (ecosystem/rust/bugs.md 2 and 3): `pub use crate::inner::*` does not bring a private
/// `use` of `inner` (rustc agrees: `crate::Id` does not resolve), so `inner` is no shim; and
/// a name only a `pub use dep::*` brings (clap's whole API) is public API, kept.
#[test]
fn globs_follow_rusts_visibility_and_a_pub_glob_is_public_api() {
    let dir = tempfile::tempdir().expect("temporary directory");
    crate::support::write_files(
        dir.path(),
        &[
            (
                "ssot.toml",
                b"[project]\nrust-roots = [\".\"]\n\n[[concept]]\nname = \"id\"\ncanonical = \"a::ids::Id\"\n",
            ),
            (
                "Cargo.toml",
                b"[package]\nname = \"a\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            (
                "src/lib.rs",
                b"pub mod ids {\n    pub struct Id;\n}\nmod inner;\npub use crate::inner::*;\n",
            ),
            (
                "src/inner.rs",
                b"use crate::ids::Id;\npub fn first() -> Option<Id> {\n    None\n}\n",
            ),
        ],
    );
    let out = run(dir.path(), &["check", "--format", "concise", "--no-cache"]);
    assert!(out.stdout_text().is_empty(), "{}", out.stdout_text());
    out.assert_clean_exit(0);

    let dir = tempfile::tempdir().expect("temporary directory");
    crate::support::write_files(
        dir.path(),
        &[
            (
                "ssot.toml",
                b"[project]\nrust-roots = [\".\"]\n\n[[concept]]\nname = \"arg\"\ncanonical = \"core_impl::arg::Arg\"\n",
            ),
            ("Cargo.toml", b"[workspace]\nmembers = [\"core_impl\", \"facade\"]\n"),
            (
                "core_impl/Cargo.toml",
                b"[package]\nname = \"core_impl\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("core_impl/src/lib.rs", b"pub mod arg;\npub use crate::arg::Arg;\n"),
            ("core_impl/src/arg.rs", b"pub struct Arg;\n"),
            (
                "facade/Cargo.toml",
                b"[package]\nname = \"facade\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncore_impl = { path = \"../core_impl\" }\n",
            ),
            ("facade/src/lib.rs", b"pub use core_impl::*;\npub mod demo;\n"),
            ("facade/src/demo.rs", b"use crate::Arg;\npub fn f(_: Arg) {}\n"),
        ],
    );
    let out = run(dir.path(), &["check", "--no-cache"]);
    let text = out.stdout_text();
    assert!(
        text.contains("re-exports `arg` as `Arg` (public API)"),
        "{text}"
    );
    assert!(text.contains("so keep it"), "{text}");
    assert!(!text.contains("delete"), "{text}");
}

/// The version of package `name` in this crate's own `Cargo.lock`: its sources are in the
/// local registry whenever this crate was built.
fn locked_version(name: &str) -> String {
    let lock =
        std::fs::read_to_string(Path::new(CRATE_ROOT).join("Cargo.lock")).expect("Cargo.lock");
    let at = lock
        .find(&format!("name = \"{name}\"\n"))
        .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"));
    let rest = &lock[at..];
    let version = rest.split("version = \"").nth(1).expect("a version");
    version[..version.find('"').expect("closing quote")].to_string()
}

/// Real crates (this crate's own dependencies regex-automata and regex-syntax, from the
/// local registry, as one workspace): the graph and the findings are the same whatever the
/// thread count (the walk, the collector and resolution in chunks on all cores).
#[test]
fn real_crates_resolve_the_same_on_one_thread_or_many() {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let mut members = Vec::new();
    for name in ["regex-automata", "regex-syntax"] {
        let crate_dir = format!("{name}-{}", locked_version(name));
        let source = std::fs::read_dir(home.join("registry/src"))
            .expect("the local registry (this crate's dependencies are built from it)")
            .filter_map(|index| Some(index.ok()?.path().join(&crate_dir)))
            .find(|path| path.join("Cargo.toml").is_file())
            .unwrap_or_else(|| panic!("{crate_dir} is not in the local registry"));
        copy_dir(&source, &root.join(&crate_dir));
        members.push(format!("\"{crate_dir}\""));
    }
    crate::support::write_files(
        root,
        &[
            (
                "Cargo.toml",
                format!("[workspace]\nmembers = [{}]\n", members.join(", ")).as_bytes(),
            ),
            (
                "ssot.toml",
                b"[project]\npython-roots = []\nrust-roots = [\".\"]\n\n[[concept]]\nname = \"pattern-id\"\ncanonical = \"regex_automata::util::primitives::PatternID\"\n",
            ),
        ],
    );
    let graph = |threads: &str| run(root, &["graph", "--format", "json", "--threads", threads]);
    let check = |threads: &str| {
        run(
            root,
            &[
                "check",
                "--format",
                "json",
                "--no-cache",
                "--threads",
                threads,
            ],
        )
    };
    let (one, two) = (graph("1"), graph("2"));
    one.assert_clean_exit(0);
    let modules = crate::support::module_paths(&one.json()).len();
    assert!(
        modules > 2 * 64,
        "{modules} modules (more than two resolve chunks)"
    );
    assert!(one.stdout == two.stdout, "graph: --threads 1 and 2 differ");
    let (one, two) = (check("1"), check("2"));
    one.assert_clean_exit(1);
    let report: serde_json::Value = serde_json::from_slice(&one.stdout).expect("JSON");
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    assert!(findings > 0, "{}", one.stdout_text());
    assert!(one.stdout == two.stdout, "check: --threads 1 and 2 differ");
}

/// A `rustfmt.toml` (or `.rustfmt.toml`) is read: with `max_width = 79` (regex's, memchr's) the list a merge
/// grows past the line is wrapped as rustfmt wraps it, and `rustfmt --check` (which finds
/// the same file) passes after the fix as before; without it the list stays on one line.
#[test]
fn a_merge_follows_the_rustfmt_toml() {
    let configs = [
        Some(("rustfmt.toml", "max_width = 79\n")),
        Some((".rustfmt.toml", "max_width = 79\n")),
        None,
    ];
    for config in configs {
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path();
        let mut files: Vec<(&str, &[u8])> = vec![
            ("Cargo.toml", b"[workspace]\nmembers = [\"app\"]\n"),
            (
                "app/Cargo.toml",
                b"[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("app/src/lib.rs", b"mod compat;\npub mod input;\npub mod user;\n"),
            (
                "app/src/input.rs",
                b"pub struct AlphaAlphaAlpha;\npub struct BetaBetaBetaBeta;\npub struct Event;\npub struct GammaGammaGamma;\n",
            ),
            ("app/src/compat.rs", b"pub(crate) use crate::input::Event;\n"),
            (
                "app/src/user.rs",
                b"use crate::compat::Event;\nuse crate::input::{AlphaAlphaAlpha, BetaBetaBetaBeta, GammaGammaGamma};\n\npub fn all() -> (AlphaAlphaAlpha, BetaBetaBetaBeta, Event, GammaGammaGamma) {\n    (AlphaAlphaAlpha, BetaBetaBetaBeta, Event, GammaGammaGamma)\n}\n",
            ),
            (
                "ssot.toml",
                b"[project]\npython-roots = []\nrust-roots = [\".\"]\n\n[[concept]]\nname = \"event\"\ncanonical = \"app::input::Event\"\n",
            ),
        ];
        if let Some((name, text)) = config {
            files.push((name, text.as_bytes()));
        }
        crate::support::write_files(root, &files);
        let user = root.join("app/src/user.rs");
        let rustfmt_check = || {
            !crate::support::rustfmt_available()
                || Command::new("rustfmt")
                    .args(["--check", "--edition", "2021"])
                    .arg(&user)
                    .output()
                    .expect("rustfmt")
                    .status
                    .success()
        };
        assert!(rustfmt_check(), "the fixture is rustfmt-clean");
        let fix = run(root, &["fix", "--no-cache"]);
        assert!(fix.stderr.contains("Fixed 1 finding"), "{}", fix.stderr);
        let fixed = std::fs::read_to_string(&user).expect("read");
        let expected = if config.is_some() {
            "use crate::input::{\n    AlphaAlphaAlpha, BetaBetaBetaBeta, Event, GammaGammaGamma,\n};\n"
        } else {
            "use crate::input::{AlphaAlphaAlpha, BetaBetaBetaBeta, Event, GammaGammaGamma};\n"
        };
        assert!(fixed.starts_with(expected), "{config:?}:\n{fixed}");
        assert!(
            rustfmt_check(),
            "{config:?}: rustfmt --check after the fix:\n{fixed}"
        );
    }
}
