//! `ssot-gardener server` end to end: a real LSP client (pygls, `tests/lsp/client.py`) drives
//! the binary over stdio on a copy of the demo. The client checks each step itself (open ->
//! diagnostic, hover, quick fix applied -> diagnostic gone, a duplicate typed -> new
//! diagnostic, fix-all, close -> cleared); this test compares what the server's fixes made
//! with what `ssot-gardener fix` writes, and prints the latencies.

use crate::support::{BIN, copy_dir, fixture, python3, run};

#[test]
fn an_editor_sees_diagnostics_applies_fixes_and_sees_them_go() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let demo = dir.path().join("demo");
    copy_dir(&fixture("fixtures/demo"), &demo);
    let _ = std::fs::remove_dir_all(demo.join(".ssot_cache"));
    let output = python3()
        .arg(fixture("tests/lsp/client.py"))
        .arg(BIN)
        .arg(&demo)
        .output()
        .expect("run the LSP client");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the LSP client failed:\n{stderr}\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the client's report is JSON");
    eprintln!(
        "server latencies: first diagnostics {} ms after start, quick fix cleared in {} ms, \
         duplicate reported in {} ms",
        report["first_diagnostics_ms"], report["fix_cleared_ms"], report["duplicate_ms"]
    );
    let hover = report["hover"].as_str().expect("hover text");
    assert!(
        hover.contains(
            "resolves to `chatapp.websocket_core.unified_manager:_UnifiedWebSocketManager` (class)"
        ) && hover
            .contains("import it as `chatapp.websocket_core.websocket_manager.WebSocketManager`"),
        "{hover}"
    );
    assert!(
        report["messages"].as_array().is_some_and(Vec::is_empty),
        "{report}"
    );
    // The server wrote nothing: the files are as they were.
    let notifications = "chatapp/services/notifications.py";
    let runner = "chatapp/agents/runner.py";
    for path in [notifications, runner] {
        assert_eq!(
            std::fs::read(demo.join(path)).expect("read"),
            std::fs::read(fixture("fixtures/demo").join(path)).expect("read"),
            "{path} changed on disk"
        );
    }
    // The same texts as `fix` writes (each file's fixes are its own).
    let fixed = dir.path().join("fixed");
    copy_dir(&fixture("fixtures/demo"), &fixed);
    let _ = std::fs::remove_dir_all(fixed.join(".ssot_cache"));
    run(&fixed, &["fix", "--no-cache"]);
    let read = |path: &str| std::fs::read_to_string(fixed.join(path)).expect("read");
    assert_eq!(
        report["quickfix_text"].as_str(),
        Some(read(notifications).as_str())
    );
    assert_eq!(report["fix_all_text"].as_str(), Some(read(runner).as_str()));
}
