//! The CI gate: `ssot-gardener baseline`, then `check` reporting only new findings, told
//! through the ratchet story of a team adopting the tool on the demo repository (26
//! findings), and a pre-commit run over a few files.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{Run, copy_dir, fixture, run};

/// A copy of the demo with `[project] baseline` set, and its baseline written.
fn adopted_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let repo = dir.path().join("repo");
    copy_dir(&fixture("fixtures/demo"), &repo);
    let config = repo.join("ssot.toml");
    let text = fs::read_to_string(&config).expect("ssot.toml");
    let text = text.replacen(
        "[project]\n",
        "[project]\nbaseline = \"ssot-baseline.json\"\n",
        1,
    );
    fs::write(&config, text).expect("write ssot.toml");
    let written = run(&repo, &["baseline", "--no-cache"]);
    written.assert_clean_exit(0);
    assert!(
        written
            .stderr
            .contains("ssot-baseline.json: 26 findings in 16 files"),
        "{}",
        written.stderr
    );
    dir
}

fn check_json(repo: &Path, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["check", "--no-cache", "--format", "json"];
    args.extend_from_slice(extra);
    let result = run(repo, &args);
    assert!(!result.stderr.contains("panicked"), "{}", result.stderr);
    let json: Value = serde_json::from_slice(&result.stdout).expect("JSON output");
    (result, json)
}

fn finding_lines(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            format!(
                "{}:{} {}",
                finding["path"].as_str().unwrap(),
                finding["line"],
                finding["code"].as_str().unwrap()
            )
        })
        .collect()
}

/// Inserts `count` comment lines at the top of `path` (after a coding line there is none).
fn insert_lines_above(path: &Path, count: usize) {
    let text = fs::read_to_string(path).expect("read");
    let mut new = "# moved down\n".repeat(count);
    new.push_str(&text);
    fs::write(path, new).expect("write");
}

#[test]
fn ratchet_story() {
    let dir = adopted_demo();
    let repo = dir.path().join("repo");
    let baseline_text = fs::read_to_string(repo.join("ssot-baseline.json")).unwrap();

    // Day one: everything is in the baseline.
    let (result, json) = check_json(&repo, &[]);
    result.assert_clean_exit(0);
    assert_eq!(finding_lines(&json), Vec::<String>::new());
    assert_eq!(json["summary"]["baseline"]["accepted"], 26);
    assert_eq!(json["summary"]["baseline"]["stale"], 0);
    let human = run(&repo, &["check", "--no-cache"]);
    human.assert_clean_exit(0);
    assert!(
        human
            .stdout_text()
            .contains("Baseline ssot-baseline.json: 26 findings accepted, not shown."),
        "{}",
        human.stdout_text()
    );

    // Writing the baseline again gives the same bytes: sorted and stable.
    run(&repo, &["baseline", "--no-cache"]).assert_clean_exit(0);
    assert_eq!(
        fs::read_to_string(repo.join("ssot-baseline.json")).unwrap(),
        baseline_text
    );

    // A new violation: exactly that one is reported.
    fs::write(
        repo.join("chatapp/routes/new_route.py"),
        "from chatapp.websocket_core.manager_compat import WebSocketManager\n\n\ndef manager_type():\n    return WebSocketManager\n",
    )
    .unwrap();
    let (result, json) = check_json(&repo, &[]);
    result.assert_clean_exit(1);
    assert_eq!(
        finding_lines(&json),
        vec!["chatapp/routes/new_route.py:1 SSOT002".to_string()]
    );
    fs::remove_file(repo.join("chatapp/routes/new_route.py")).unwrap();

    // Twenty lines above the old findings of every file: nothing is new.
    for file in [
        "chatapp/agents/runner.py",
        "chatapp/agents/bootstrap.py",
        "chatapp/services/factory.py",
        "chatapp/legacy/connection_manager.py",
        "tests/test_agent_events.py",
    ] {
        insert_lines_above(&repo.join(file), 20);
    }
    let (result, json) = check_json(&repo, &[]);
    result.assert_clean_exit(0);
    assert_eq!(finding_lines(&json), Vec::<String>::new());
    assert_eq!(json["summary"]["baseline"]["accepted"], 26);

    // Two old findings fixed: still exit 0, and the baseline can shrink by 2 ...
    let fixed = run(
        &repo,
        &[
            "fix",
            "--no-cache",
            "--no-baseline",
            "chatapp/websocket_core/heartbeat.py",
            "chatapp/routes/ws.py",
        ],
    );
    assert!(
        fixed.stderr.contains("Fixed 2 findings in 2 files."),
        "{}",
        fixed.stderr
    );
    let human = run(&repo, &["check", "--no-cache"]);
    human.assert_clean_exit(0);
    let text = human.stdout_text();
    assert!(text.contains("baseline can shrink by 2"), "{text}");
    // The fixed entries are listed, so the team sees what burned down.
    assert!(
        text.contains("  fixed: chatapp/routes/ws.py SSOT002 `WebSocketManager`\n"),
        "{text}"
    );
    assert!(
        text.contains("  fixed: chatapp/websocket_core/heartbeat.py SSOT002 `WebSocketManager`\n"),
        "{text}"
    );
    let (result, json) = check_json(&repo, &[]);
    result.assert_clean_exit(0);
    assert_eq!(json["summary"]["baseline"]["stale"], 2);
    let fixed: Vec<&str> = json["summary"]["baseline"]["fixed"]
        .as_array()
        .expect("fixed entries")
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        fixed,
        [
            "chatapp/routes/ws.py",
            "chatapp/websocket_core/heartbeat.py"
        ]
    );
    assert!(
        result.stderr.contains("baseline can shrink by 2"),
        "{}",
        result.stderr
    );
    // ... and `--strict-baseline` fails until the baseline is rewritten.
    let strict = run(&repo, &["check", "--no-cache", "--strict-baseline"]);
    strict.assert_clean_exit(1);
    assert!(
        strict.stderr.contains("--strict-baseline"),
        "{}",
        strict.stderr
    );
    run(&repo, &["baseline", "--no-cache"]).assert_clean_exit(0);
    run(&repo, &["check", "--no-cache", "--strict-baseline"]).assert_clean_exit(0);
    let shrunk = fs::read_to_string(repo.join("ssot-baseline.json")).unwrap();
    assert_eq!(
        shrunk.matches("\"fingerprint\"").count() + 2,
        baseline_text.matches("\"fingerprint\"").count()
    );

    // The repository moved to another directory, checked from elsewhere: nothing changes.
    let moved = dir.path().join("renamed-checkout");
    fs::rename(&repo, &moved).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let result = run(
        elsewhere.path(),
        &[
            "check",
            "--no-cache",
            "--strict-baseline",
            moved.to_str().unwrap(),
        ],
    );
    result.assert_clean_exit(0);
    // Without the baseline, every finding is back (24: two were fixed).
    let (result, json) = check_json(&moved, &["--no-baseline"]);
    result.assert_clean_exit(1);
    assert_eq!(finding_lines(&json).len(), 24);
}

#[test]
fn identical_findings_are_counted_not_collapsed() {
    let dir = adopted_demo();
    let repo = dir.path().join("repo");
    let path = repo.join("chatapp/routes/twice.py");
    let import = "    from chatapp.websocket_core.manager_compat import WebSocketManager\n";
    let one = format!("def first():\n{import}    return WebSocketManager\n");
    fs::write(&path, &one).unwrap();
    run(&repo, &["baseline", "--no-cache"]).assert_clean_exit(0);
    let baseline = fs::read_to_string(repo.join("ssot-baseline.json")).unwrap();
    // The same statement in a second function: the same fingerprint, one more than accepted.
    let two = format!("{one}\n\ndef second():\n{import}    return WebSocketManager\n");
    fs::write(&path, &two).unwrap();
    let (result, json) = check_json(&repo, &[]);
    result.assert_clean_exit(1);
    assert_eq!(
        finding_lines(&json),
        vec!["chatapp/routes/twice.py:7 SSOT002".to_string()]
    );
    // Accepting both writes one entry with a count of 2.
    run(&repo, &["baseline", "--no-cache"]).assert_clean_exit(0);
    let both = fs::read_to_string(repo.join("ssot-baseline.json")).unwrap();
    assert!(!baseline.contains("\"count\""), "{baseline}");
    assert!(both.contains("\"count\": 2"), "{both}");
    check_json(&repo, &[]).0.assert_clean_exit(0);
}

#[test]
fn fingerprints_ignore_lines_and_whitespace_but_not_the_statement() {
    let dir = adopted_demo();
    let repo = dir.path().join("repo");
    let file = repo.join("chatapp/routes/admin.py");
    let text = fs::read_to_string(&file).unwrap();
    // Re-indenting inside the statement's line keeps it.
    let spaced = text.replacen(
        "from chatapp.websocket_core.manager_compat import LegacyManager",
        "from  chatapp.websocket_core.manager_compat  import   LegacyManager",
        1,
    );
    assert_ne!(spaced, text);
    fs::write(&file, &spaced).unwrap();
    check_json(&repo, &[]).0.assert_clean_exit(0);
    // Another name imported the same bad way is a new finding, and the old one is stale.
    let renamed = text.replacen(
        "import LegacyManager",
        "import WebSocketManager as LegacyManager",
        1,
    );
    assert_ne!(renamed, text);
    fs::write(&file, &renamed).unwrap();
    let (result, json) = check_json(&repo, &[]);
    result.assert_clean_exit(1);
    assert_eq!(
        finding_lines(&json),
        vec!["chatapp/routes/admin.py:3 SSOT002".to_string()]
    );
    assert_eq!(json["summary"]["baseline"]["stale"], 1);
}

#[test]
fn a_broken_or_missing_baseline_is_an_error() {
    let dir = adopted_demo();
    let repo = dir.path().join("repo");
    let missing = run(&repo, &["check", "--no-cache", "--baseline", "nope.json"]);
    missing.assert_clean_exit(2);
    assert!(
        missing.stderr.contains(
            "error: baseline `nope.json` does not exist (write it with `ssot-gardener baseline`)"
        ),
        "{}",
        missing.stderr
    );
    fs::write(
        repo.join("ssot-baseline.json"),
        "{\"version\": 1, \"findings\": [{}]}",
    )
    .unwrap();
    let broken = run(&repo, &["check", "--no-cache"]);
    broken.assert_clean_exit(2);
    assert!(
        broken
            .stderr
            .contains("is not a baseline file: missing field"),
        "{}",
        broken.stderr
    );
    fs::write(
        repo.join("ssot-baseline.json"),
        "{\"version\": 7, \"findings\": []}",
    )
    .unwrap();
    let future = run(&repo, &["check", "--no-cache"]);
    future.assert_clean_exit(2);
    assert!(
        future.stderr.contains("format version 7"),
        "{}",
        future.stderr
    );
    // `--no-baseline` does not read it at all.
    run(&repo, &["check", "--no-cache", "--no-baseline"]).assert_clean_exit(1);
    // Strict without any baseline is a usage error.
    let no_config = run(
        &fixture("fixtures/demo"),
        &["check", "--no-cache", "--strict-baseline"],
    );
    no_config.assert_clean_exit(2);
}

/// A pre-commit hook passes the changed files: only they are reported, but imports still
/// resolve through the modules outside them (the shim, the package `__init__`, the origin).
#[test]
fn pre_commit_run_over_some_files_resolves_through_the_rest() {
    let demo = fixture("fixtures/demo");
    let result = run(
        &demo,
        &[
            "check",
            "--no-cache",
            "--format",
            "concise",
            "chatapp/services/notifications.py",
            "chatapp/agents/runner.py",
        ],
    );
    result.assert_clean_exit(1);
    let lines: Vec<String> = result
        .stdout_text()
        .lines()
        .map(|line| line.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        vec![
            "chatapp/agents/runner.py:4:1: SSOT002",
            "chatapp/agents/runner.py:10:9: SSOT002",
            "chatapp/agents/runner.py:12:9: SSOT003",
            "chatapp/agents/runner.py:23:35: SSOT008",
            "chatapp/services/notifications.py:3:1: SSOT002",
        ]
    );
    // A file without findings passes on its own.
    run(
        &demo,
        &[
            "check",
            "--no-cache",
            "chatapp/websocket_core/websocket_manager.py",
        ],
    )
    .assert_clean_exit(0);
    // The hook definition runs `check` on the files it is given.
    let hooks =
        fs::read_to_string(Path::new(crate::support::CRATE_ROOT).join(".pre-commit-hooks.yaml"))
            .expect(".pre-commit-hooks.yaml");
    assert!(hooks.contains("entry: ssot-gardener check"), "{hooks}");
}

/// With a baseline, a pre-commit run over some files does not call the entries of the other
/// files stale.
#[test]
fn a_partial_run_does_not_call_other_entries_stale() {
    let dir = adopted_demo();
    let repo = dir.path().join("repo");
    let result = run(
        &repo,
        &[
            "check",
            "--no-cache",
            "--strict-baseline",
            "chatapp/routes/ws.py",
        ],
    );
    result.assert_clean_exit(0);
    let selected = run(
        &repo,
        &[
            "check",
            "--no-cache",
            "--strict-baseline",
            "--select",
            "SSOT002",
        ],
    );
    selected.assert_clean_exit(0);
}

/// Suppressions: the fixes of SSOT901 and SSOT902 converge to a file whose every suppression
/// names the codes it silences (used ones are kept), and a second `fix` changes nothing.
#[test]
fn suppression_fixes_converge() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("fixtures/check/suppression"), dir.path());
    let safe = run(dir.path(), &["fix", "--no-cache"]);
    safe.assert_clean_exit(1);
    let text = fs::read_to_string(dir.path().join("app/factories.py")).unwrap();
    // The safe fixes remove what silences nothing; naming codes waits for --unsafe-fixes.
    assert_eq!(
        text,
        "# ssot: ignore[SSOT004] removed with the legacy API\ndef create_websocket_manager():\n    return None\n\n\nx = 1\ny = 2\nz = 3\n\n# ssot: ignore\ndef get_other_websocket_manager():\n    return None\n"
    );
    let unsafe_run = run(dir.path(), &["fix", "--no-cache", "--unsafe-fixes"]);
    unsafe_run.assert_clean_exit(0);
    let text = fs::read_to_string(dir.path().join("app/factories.py")).unwrap();
    assert!(
        text.contains("# ssot: ignore[SSOT004]\ndef get_other_websocket_manager():"),
        "{text}"
    );
    let again = run(
        dir.path(),
        &["fix", "--no-cache", "--unsafe-fixes", "--diff"],
    );
    again.assert_clean_exit(0);
    assert!(again.stdout.is_empty());
    assert_eq!(
        fs::read_to_string(dir.path().join("app/legacy.py")).unwrap(),
        fs::read_to_string(fixture("fixtures/check/suppression/app/legacy.py")).unwrap()
    );
}

/// A repository is untrusted input: `baseline = "out/bl.json"` in its `ssot.toml`, with `out` a
/// symlink out of the repository, is refused (exit 2, nothing written there); the same path
/// given with `--baseline` is the user's own choice and is written.
#[cfg(unix)]
#[test]
fn a_configured_baseline_never_leads_out_of_the_repository() {
    let outside = tempfile::tempdir().expect("outside");
    let dir = tempfile::tempdir().expect("repository");
    crate::support::write_files(
        dir.path(),
        &[
            (
                "ssot.toml",
                b"[project]\npython-roots = [\".\"]\nbaseline = \"out/bl.json\"\n",
            ),
            ("app.py", b"import os\n"),
        ],
    );
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).expect("link");
    let refused = run(dir.path(), &["baseline"]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("leads outside the repository"),
        "{}",
        refused.stderr
    );
    assert_eq!(fs::read_dir(outside.path()).expect("outside").count(), 0);
    let chosen = run(dir.path(), &["baseline", "--baseline", "out/bl.json"]);
    assert_eq!(chosen.code, Some(0), "{}", chosen.stderr);
    assert!(outside.path().join("bl.json").is_file());
}
