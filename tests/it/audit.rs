//! `ssot-gardener audit` through the binary: the demo's planted family ranks first and its
//! emitted `[[concept]]` block finds what the demo's own configuration finds; what SSOT001
//! exempts never forms a group; Rust workspaces are audited the same way; `init` writes the
//! top family. Snapshots: `SSOT_BLESS=1 cargo test --release --test it audit`.

use std::fs;

use crate::support::{assert_snapshot, copy_dir, fixture, run, write_files};

/// The demo without its ssot.toml, in a temporary directory.
fn demo_without_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixture("fixtures/demo"), dir.path());
    fs::remove_file(dir.path().join("ssot.toml")).expect("remove ssot.toml");
    for name in ["expected.txt", "expected.json", "CASE.md"] {
        fs::remove_file(dir.path().join(name)).expect("remove a snapshot");
    }
    dir
}

#[test]
fn the_demo_family_ranks_first_and_its_block_finds_the_planted_problems() {
    let dir = demo_without_config();
    let out = run(dir.path(), &["audit"]);
    out.assert_clean_exit(0);
    assert_snapshot("fixtures/audit/demo.txt", &out.stdout_text());
    let json = run(dir.path(), &["audit", "--format", "json"]).json();
    let first = &json["groups"][0];
    assert_eq!(first["key"], "*WebSocket*Manager");
    assert_eq!(first["kind"], "family");
    assert_eq!(
        first["canonical"],
        "chatapp.websocket_core.websocket_manager.WebSocketManager"
    );
    // The emitted block, saved as ssot.toml, finds what the demo's hand-written one finds.
    let block = run(dir.path(), &["audit", "--emit-config", "--top", "1"]);
    block.assert_clean_exit(0);
    assert_snapshot("fixtures/audit/demo-block.toml", &block.stdout_text());
    let config = format!(
        "[project]\npython-roots = [\".\"]\n\n{}",
        block.stdout_text()
    );
    fs::write(dir.path().join("ssot.toml"), config).expect("write ssot.toml");
    let emitted = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    emitted.assert_clean_exit(1);
    let shipped = run(
        &fixture("fixtures/demo"),
        &["check", "--no-cache", "--format", "concise"],
    );
    shipped.assert_clean_exit(1);
    assert_eq!(emitted.stdout_text(), shipped.stdout_text());
    assert_eq!(emitted.stdout_text().lines().count(), 26);
}

#[test]
fn a_chosen_family_and_an_unknown_one() {
    let dir = demo_without_config();
    for key in [
        "websocket-manager",
        "*WebSocket*Manager",
        "WebSocket*Manager",
    ] {
        let json = run(dir.path(), &["audit", "--family", key, "--format", "json"]).json();
        let groups = json["groups"].as_array().expect("groups");
        assert_eq!(groups.len(), 1, "{key}");
        assert_eq!(groups[0]["key"], "*WebSocket*Manager", "{key}");
    }
    let out = run(dir.path(), &["audit", "--family", "NoSuchThing"]);
    out.assert_clean_exit(2);
    assert!(
        out.stderr.contains("no group `NoSuchThing`"),
        "{}",
        out.stderr
    );
}

/// Test cases, exceptions, enums and protocols share names by design; so do classes that
/// exist only as test doubles. None of them is a group.
#[test]
fn what_ssot001_exempts_is_never_a_group() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let exempt = b"import enum, typing, unittest\n\n\nclass Error(Exception):\n    pass\n\n\nclass ParseError(ValueError):\n    pass\n\n\nclass Color(enum.Enum):\n    RED = 1\n\n\nclass Readable(typing.Protocol):\n    def read(self): ...\n\n\nclass TestThing(unittest.TestCase):\n    def test_it(self):\n        pass\n";
    let double = b"class FakeClock:\n    def now(self):\n        return 0\n";
    write_files(
        dir.path(),
        &[
            ("app/__init__.py", b""),
            ("app/a.py", exempt),
            ("app/b.py", exempt),
            ("tests/test_a.py", double),
            ("tests/test_b.py", double),
        ],
    );
    let out = run(dir.path(), &["audit"]);
    out.assert_clean_exit(0);
    assert!(
        out.stdout_text()
            .contains("0 groups of classes defined in more than one module"),
        "{}",
        out.stdout_text()
    );
    assert!(
        out.stdout_text()
            .contains("No class is defined in more than one module.")
    );
}

/// A copy ranks above a hierarchy: subclasses of one base share its methods by design.
#[test]
fn a_copy_outranks_a_class_hierarchy() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let methods = "    def open(self):\n        pass\n\n    def close(self):\n        pass\n\n    def send(self, data):\n        pass\n";
    let base = format!("class BaseTransport:\n{methods}");
    let sub = |name: &str| {
        format!("from app.base import BaseTransport\n\n\nclass {name}(BaseTransport):\n{methods}")
    };
    let pool = "    def acquire(self):\n        pass\n\n    def release(self, channel):\n        pass\n\n    def drain(self):\n        pass\n";
    let copy = format!("class ChannelPool:\n{pool}");
    let copy2 = format!("class LegacyChannelPool:\n{pool}");
    let files: Vec<(String, String)> = vec![
        ("app/__init__.py".into(), String::new()),
        ("app/base.py".into(), base),
        ("app/tcp.py".into(), sub("TcpTransport")),
        ("app/udp.py".into(), sub("UdpTransport")),
        ("app/unix.py".into(), sub("UnixTransport")),
        ("app/pool.py".into(), copy),
        ("app/legacy/__init__.py".into(), String::new()),
        ("app/legacy/pool.py".into(), copy2),
        (
            "app/user.py".into(),
            "from app.pool import ChannelPool\nfrom app.legacy.pool import LegacyChannelPool\n"
                .into(),
        ),
    ];
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_bytes()))
        .collect();
    write_files(dir.path(), &files);
    let json = run(dir.path(), &["audit", "--format", "json"]).json();
    let keys: Vec<&str> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|group| group["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys.first(), Some(&"*ChannelPool"), "{keys:?}");
    let transport = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|group| group["key"] == "*Transport")
        .expect("the hierarchy is still listed");
    assert!(
        transport["cohesion"].as_f64().expect("cohesion") < 0.5,
        "{transport}"
    );
}

/// Rust: the fixture workspace of copies is audited from its Cargo.toml, and the emitted
/// block (a crate path) finds the planted duplicate.
#[test]
fn a_rust_workspace_is_audited_and_its_block_works() {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixture("fixtures/check/rust-copies"), dir.path());
    fs::remove_file(dir.path().join("ssot.toml")).expect("remove ssot.toml");
    let out = run(dir.path(), &["audit"]);
    out.assert_clean_exit(0);
    assert_snapshot("fixtures/audit/rust-copies.txt", &out.stdout_text());
    let block = run(dir.path(), &["audit", "--emit-config", "--top", "1"]);
    block.assert_clean_exit(0);
    assert!(
        block.stdout_text().contains("canonical = \"net::Manager\""),
        "{}",
        block.stdout_text()
    );
    let config = format!(
        "[project]\npython-roots = []\nrust-roots = [\".\"]\n\n{}",
        block.stdout_text()
    );
    fs::write(dir.path().join("ssot.toml"), config).expect("write ssot.toml");
    let check = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    check.assert_clean_exit(1);
    assert!(
        check
            .stdout_text()
            .contains("crates/legacy/src/lib.rs:2:12: SSOT001"),
        "{}",
        check.stdout_text()
    );
}

/// `init` on the demo: the starter's commented block is the family audit ranks first.
#[test]
fn init_writes_the_top_family() {
    let dir = demo_without_config();
    run(dir.path(), &["init"]).assert_clean_exit(0);
    let config = fs::read_to_string(dir.path().join("ssot.toml")).expect("ssot.toml");
    assert!(
        config.contains("# implementations = [\"*WebSocket*Manager\"]"),
        "{config}"
    );
    assert!(
        config.contains(
            "# canonical = \"chatapp.websocket_core.websocket_manager.WebSocketManager\""
        ),
        "{config}"
    );
    // As written (the block commented), the file is valid and declares no concept: only the
    // demo's repository-wide findings (a backup, a broken import, an await) are left.
    let out = run(dir.path(), &["check", "--no-cache", "--format", "concise"]);
    out.assert_clean_exit(1);
    let text = out.stdout_text();
    let codes: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.split(' ').nth(1))
        .collect();
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["SSOT006", "SSOT009", "SSOT010"],
        "{text}"
    );
}

/// One module's twins (`if`/`else`, `#[cfg]` alternatives) are one definition, not a copy.
#[test]
fn twins_under_a_condition_are_one_definition() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let twins = b"import sys\n\nif sys.platform == \"win32\":\n    class Loop:\n        def run(self):\n            pass\nelse:\n    class Loop:\n        def run(self):\n            pass\n";
    write_files(dir.path(), &[("app/__init__.py", b""), ("app/a.py", twins)]);
    let json = run(dir.path(), &["audit", "--format", "json"]).json();
    assert_eq!(
        json["groups"].as_array().expect("groups").len(),
        0,
        "{json}"
    );
    write_files(
        dir.path(),
        &[(
            "app/b.py",
            b"class Loop:\n    def run(self):\n        pass\n",
        )],
    );
    let json = run(dir.path(), &["audit", "--no-cache", "--format", "json"]).json();
    assert_eq!(json["groups"][0]["counts"]["definitions"], 2, "{json}");
}
