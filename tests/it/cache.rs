//! The fact cache (`.ssot_cache/`): a warm run reports what a cold one does; a changed file
//! is read again; a damaged or foreign cache is ignored and rewritten, never trusted;
//! `--no-cache` neither reads nor writes it.

use std::fs;
use std::path::Path;

use crate::support::{run, write_files};

const CONFIG: &[u8] = br#"[project]
python-roots = ["."]

[[concept]]
name = "websocket-manager"
canonical = "app.websocket_manager.WebSocketManager"
implementations = ["*WebSocket*Manager"]
"#;

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_files(
        dir.path(),
        &[
            ("ssot.toml", CONFIG),
            ("app/__init__.py", b""),
            (
                "app/websocket_manager.py",
                b"class WebSocketManager:\n    def emit(self): ...\n",
            ),
            (
                "app/legacy.py",
                b"class LegacyWebSocketManager:\n    def emit(self): ...\n",
            ),
            (
                "app/routes.py",
                b"from app.websocket_manager import WebSocketManager\n",
            ),
        ],
    );
    dir
}

fn check(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["check", "--format", "concise"];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out.stdout_text()
}

fn cache_file(dir: &Path) -> std::path::PathBuf {
    dir.join(".ssot_cache/facts.bin")
}

#[test]
fn a_warm_run_reports_what_a_cold_one_does() {
    let dir = repo();
    let cold = check(dir.path(), &["--no-cache"]);
    assert!(
        !dir.path().join(".ssot_cache").exists(),
        "--no-cache writes nothing"
    );
    let first = check(dir.path(), &[]);
    assert!(cache_file(dir.path()).is_file());
    let warm = check(dir.path(), &[]);
    assert_eq!(first, cold);
    assert_eq!(warm, cold);
    assert!(cold.contains("app/legacy.py:1:7: SSOT001"), "{cold}");
}

#[test]
fn the_cache_directory_is_tagged_and_ignores_itself() {
    let dir = repo();
    check(dir.path(), &[]);
    let tag = fs::read_to_string(dir.path().join(".ssot_cache/CACHEDIR.TAG")).expect("tag");
    assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    let gitignore =
        fs::read_to_string(dir.path().join(".ssot_cache/.gitignore")).expect("gitignore");
    assert!(gitignore.lines().any(|line| line == "*"));
    // The cache is never walked as part of the repository.
    let graph = run(dir.path(), &["graph", "--format", "json"]).json();
    assert!(!graph.to_string().contains(".ssot_cache"));
}

#[test]
fn a_changed_file_is_read_again() {
    let dir = repo();
    let before = check(dir.path(), &[]);
    assert!(before.contains("SSOT001"));
    fs::write(dir.path().join("app/legacy.py"), "x = 1\n").expect("edit");
    let after = check(dir.path(), &[]);
    assert_eq!(after, check(dir.path(), &["--no-cache"]));
    assert!(!after.contains("SSOT001"), "{after}");
    fs::write(
        dir.path().join("app/legacy.py"),
        "class LegacyWebSocketManager:\n    def emit(self): ...\n",
    )
    .expect("edit back");
    assert_eq!(
        check(dir.path(), &[]),
        before,
        "the old content is found again"
    );
}

#[test]
fn a_damaged_cache_is_ignored_and_rewritten() {
    let dir = repo();
    let expected = check(dir.path(), &["--no-cache"]);
    check(dir.path(), &[]);
    let path = cache_file(dir.path());
    let good = fs::read(&path).expect("cache");
    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("garbage", b"not a cache at all, just text".repeat(100)),
        ("header only", good[..20.min(good.len())].to_vec()),
        ("flipped last byte", {
            let mut bytes = good.clone();
            *bytes.last_mut().expect("a byte") ^= 0xFF;
            bytes
        }),
        ("flipped byte in the middle", {
            let mut bytes = good.clone();
            let middle = bytes.len() * 3 / 4;
            bytes[middle] ^= 0x55;
            bytes
        }),
        ("huge entry count", {
            let mut bytes = good.clone();
            bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
            bytes
        }),
    ];
    for (what, bytes) in damages {
        fs::write(&path, &bytes).expect("damage the cache");
        assert_eq!(check(dir.path(), &[]), expected, "{what}");
        let rewritten = fs::read(&path).expect("cache");
        assert_eq!(rewritten, good, "{what}: rewritten as new");
    }
}

#[test]
fn a_foreign_cache_is_ignored() {
    let dir = repo();
    let expected = check(dir.path(), &["--no-cache"]);
    check(dir.path(), &[]);
    let path = cache_file(dir.path());
    let mut bytes = fs::read(&path).expect("cache");
    // Another tool version or collector: the key in the header differs.
    bytes[8] ^= 0x01;
    fs::write(&path, &bytes).expect("write");
    assert_eq!(check(dir.path(), &[]), expected);
    // A cache is keyed by settings too: other source roots invalidate it.
    let mut config = String::from_utf8(CONFIG.to_vec()).expect("UTF-8");
    config = config.replace(
        "python-roots = [\".\"]",
        "python-roots = [\".\"]\nrust-roots = [\"app\"]",
    );
    fs::write(dir.path().join("ssot.toml"), config).expect("write config");
    let before = fs::read(&path).expect("cache");
    check(dir.path(), &[]);
    let after = fs::read(&path).expect("cache");
    assert_ne!(before[8..16], after[8..16], "a new key for new settings");
}

#[test]
fn an_unwritable_cache_directory_is_not_an_error() {
    let dir = repo();
    let expected = check(dir.path(), &["--no-cache"]);
    // A file where the cache directory should be: nothing can be written.
    fs::write(dir.path().join(".ssot_cache"), "in the way").expect("write");
    assert_eq!(check(dir.path(), &[]), expected);
}

/// One changed file goes into `facts.delta`, the base stays as it was; many changes fold
/// everything back into one base. A damaged delta is ignored like a damaged base.
#[test]
fn a_few_changes_go_to_the_delta_and_many_fold_into_the_base() {
    let dir = repo();
    for index in 0..30 {
        fs::write(
            dir.path().join(format!("app/module_{index}.py")),
            format!("from app.websocket_manager import WebSocketManager\nVALUE = {index}\n"),
        )
        .expect("write");
    }
    check(dir.path(), &[]);
    let base = fs::read(cache_file(dir.path())).expect("base");
    let delta = dir.path().join(".ssot_cache/facts.delta");
    assert!(!delta.exists());

    fs::write(dir.path().join("app/module_3.py"), "VALUE = 'changed'\n").expect("edit");
    assert_eq!(check(dir.path(), &[]), check(dir.path(), &["--no-cache"]));
    assert!(delta.is_file(), "one change goes to the delta");
    assert_eq!(
        fs::read(cache_file(dir.path())).expect("base"),
        base,
        "the base is untouched"
    );

    fs::write(&delta, b"garbage").expect("damage the delta");
    assert_eq!(check(dir.path(), &[]), check(dir.path(), &["--no-cache"]));

    for index in 0..30 {
        fs::write(
            dir.path().join(format!("app/module_{index}.py")),
            format!("VALUE = {}\n", index * 2),
        )
        .expect("edit");
    }
    assert_eq!(check(dir.path(), &[]), check(dir.path(), &["--no-cache"]));
    assert!(!delta.exists(), "many changes fold into a new base");
    assert_ne!(fs::read(cache_file(dir.path())).expect("base"), base);
}

/// A cache is untrusted input: entries whose content hashes were swapped (each checksum still
/// right) give another file's facts. Facts that do not fit the file are collected again, and
/// `fix` checks cached facts against the bytes before it edits: never a panic, never an edit
/// the file's own facts would not make.
#[test]
fn swapped_cache_entries_never_panic_or_misfix() {
    let dir = repo();
    write_files(
        dir.path(),
        &[
            (
                "app/compat.py",
                b"from app.websocket_manager import WebSocketManager\n",
            ),
            // Same length: one imports through the shim, the other imports something else.
            ("app/a.py", b"from app.compat import WebSocketManager\n"),
            ("app/b.py", b"from app.compat import helperfunctions_\n"),
        ],
    );
    let expected = check(dir.path(), &["--no-cache"]);
    assert!(expected.contains("app/a.py"), "{expected}");
    check(dir.path(), &[]);
    let path = cache_file(dir.path());
    let mut bytes = fs::read(&path).expect("cache");
    let count = u32::from_le_bytes(bytes[16..20].try_into().expect("count")) as usize;
    // Swap the content hashes of a.py's and b.py's entries (the index is `(hash, offset,
    // length, checksum)`, 28 bytes each, after a 20-byte header): each checksum still holds.
    let hash_of = |text: &[u8]| {
        ssot_gardener::walk::Language::Python
            .hash(text)
            .to_le_bytes()
    };
    let (hash_a, hash_b) = (
        hash_of(b"from app.compat import WebSocketManager\n"),
        hash_of(b"from app.compat import helperfunctions_\n"),
    );
    let mut swapped = 0;
    for entry in 0..count {
        let at = 20 + entry * 28;
        let hash: [u8; 8] = bytes[at..at + 8].try_into().expect("hash");
        let other = if hash == hash_a {
            hash_b
        } else if hash == hash_b {
            hash_a
        } else {
            continue;
        };
        bytes[at..at + 8].copy_from_slice(&other);
        swapped += 1;
    }
    assert_eq!(swapped, 2);
    let poisoned = bytes;
    fs::write(&path, &poisoned).expect("poison");
    // Whatever the check makes of lying facts, it does not panic.
    let out = run(dir.path(), &["check", "--format", "concise"]);
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        out.stdout_text(),
        expected,
        "the swapped entries fail their keyed checksums"
    );
    fs::write(&path, &poisoned).expect("poison");
    let out = run(dir.path(), &["fix"]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("app/b.py")).expect("b.py"),
        "from app.compat import helperfunctions_\n",
        "b.py imports nothing of the concept: fix must not touch it"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("app/a.py")).expect("a.py"),
        "from app.websocket_manager import WebSocketManager\n",
        "a.py is fixed as its own facts say"
    );
}

/// A repeated `check` of an unchanged repository prints the kept result; anything its output
/// depends on (a file, a new non-source file, the configuration, the baseline, the command
/// line) makes it check again; a damaged result file is ignored.
#[test]
fn the_kept_result_is_used_only_for_the_same_inputs() {
    let dir = repo();
    let kept = dir.path().join(".ssot_cache/output.bin");
    let cold = check(dir.path(), &["--no-cache"]);
    assert!(!kept.exists(), "--no-cache keeps nothing");
    assert_eq!(check(dir.path(), &[]), cold);
    assert!(kept.exists(), "the result is kept");
    assert_eq!(
        check(dir.path(), &[]),
        cold,
        "the kept result, the same bytes"
    );
    let json = run(dir.path(), &["check", "--format", "json"]);
    assert!(
        json.stdout_text().starts_with('{'),
        "another command line: its own result"
    );
    assert_eq!(check(dir.path(), &[]), cold);

    // A backup file is not a source file, but SSOT006 reads the names of the others.
    fs::write(dir.path().join("app/routes.py.bak"), "x = 1\n").expect("backup");
    let with_backup = check(dir.path(), &[]);
    assert!(with_backup.contains("SSOT006"), "{with_backup}");
    assert_eq!(with_backup, check(dir.path(), &["--no-cache"]));
    fs::remove_file(dir.path().join("app/routes.py.bak")).expect("remove");
    assert_eq!(check(dir.path(), &[]), cold);

    // The configuration: the concept ignores SSOT001 now.
    let config = fs::read_to_string(dir.path().join("ssot.toml")).expect("config");
    fs::write(
        dir.path().join("ssot.toml"),
        format!("{config}ignore = [\"SSOT001\"]\n"),
    )
    .expect("config");
    let ignoring = check(dir.path(), &[]);
    assert_eq!(ignoring, check(dir.path(), &["--no-cache"]));
    assert_ne!(ignoring, cold);
    fs::write(dir.path().join("ssot.toml"), &config).expect("config");

    // The baseline: written after a run that kept its result, then used.
    let written = run(dir.path(), &["baseline"]);
    assert_eq!(written.code, Some(0), "{}", written.stderr);
    let with_baseline = run(
        dir.path(),
        &[
            "check",
            "--format",
            "concise",
            "--baseline",
            "ssot-baseline.json",
        ],
    );
    assert_eq!(with_baseline.code, Some(0), "everything is in the baseline");
    fs::write(
        dir.path().join("ssot-baseline.json"),
        "{\"version\": 1, \"findings\": []}\n",
    )
    .expect("empty baseline");
    let emptied = run(
        dir.path(),
        &[
            "check",
            "--format",
            "concise",
            "--baseline",
            "ssot-baseline.json",
        ],
    );
    assert_eq!(emptied.code, Some(1), "the baseline changed: checked again");

    // A damaged result file is a miss, and is written again.
    fs::write(&kept, b"SSOTOUT1 and then nonsense").expect("damage");
    assert_eq!(check(dir.path(), &[]), cold);
    assert!(fs::read(&kept).expect("kept").len() > 30);
}

/// A repository is untrusted input: its `.ssot_cache` may be a symlink to somewhere else, or
/// hold symlinks where the marker files go. `check` writes nothing outside the repository.
#[cfg(unix)]
#[test]
fn nothing_is_written_through_a_symlink_in_the_cache() {
    let outside = tempfile::tempdir().expect("outside");
    let dir = repo();
    let expected = check(dir.path(), &["--no-cache"]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".ssot_cache")).expect("link");
    assert_eq!(check(dir.path(), &[]), expected);
    assert_eq!(check(dir.path(), &[]), expected);
    assert_eq!(
        fs::read_dir(outside.path()).expect("outside").count(),
        0,
        "nothing written through the linked cache directory"
    );
    fs::remove_file(dir.path().join(".ssot_cache")).expect("unlink");

    // Dangling links where `.gitignore` and `CACHEDIR.TAG` go.
    fs::create_dir(dir.path().join(".ssot_cache")).expect("cache directory");
    let targets = [outside.path().join("gitignore"), outside.path().join("tag")];
    std::os::unix::fs::symlink(&targets[0], dir.path().join(".ssot_cache/.gitignore"))
        .expect("link");
    std::os::unix::fs::symlink(&targets[1], dir.path().join(".ssot_cache/CACHEDIR.TAG"))
        .expect("link");
    assert_eq!(check(dir.path(), &[]), expected);
    assert!(
        targets.iter().all(|target| !target.exists()),
        "no link target created"
    );
    assert_eq!(fs::read_dir(outside.path()).expect("outside").count(), 0);
}

/// A forged entry: well-formed, filed under the file's real content hash with a checksum
/// recomputed as an attacker can, but holding facts that lie (two import statements that
/// overlap, as the cache fuzzer built: the editor sliced between them and panicked). Facts
/// that do not fit their file are collected again: `check` and `fix` do what they do without
/// the cache.
#[test]
fn a_forged_entry_with_a_valid_checksum_is_not_trusted() {
    let dir = repo();
    let text: &[u8] = b"from app.compat import WebSocketManager\nfrom app.compat import helper\n";
    write_files(
        dir.path(),
        &[
            (
                "app/compat.py",
                b"from app.websocket_manager import WebSocketManager\n\n\ndef helper():\n    pass\n",
            ),
            ("app/a.py", text),
        ],
    );
    let expected = check(dir.path(), &["--no-cache"]);
    assert!(expected.contains("app/a.py:1:"), "{expected}");
    check(dir.path(), &[]);
    let path = cache_file(dir.path());
    let bytes = fs::read(&path).expect("cache");
    let count = u32::from_le_bytes(bytes[16..20].try_into().expect("count")) as usize;
    let target = ssot_gardener::walk::Language::Python.hash(text);
    // Every entry, the target's facts made to lie, laid out again with fresh checksums.
    let mut entries: Vec<(u64, Vec<u8>)> = Vec::new();
    for entry in 0..count {
        let at = 20 + entry * 28;
        let field = |from: usize, to: usize| &bytes[at + from..at + to];
        let hash = u64::from_le_bytes(field(0, 8).try_into().expect("hash"));
        let offset = u64::from_le_bytes(field(8, 16).try_into().expect("offset")) as usize;
        let length = u32::from_le_bytes(field(16, 20).try_into().expect("length")) as usize;
        let mut blob = bytes[offset..offset + length].to_vec();
        if hash == target {
            let mut facts: ssot_gardener::facts::FileFacts =
                postcard::from_bytes(&blob).expect("the entry decodes");
            assert_eq!(facts.imports.len(), 2);
            facts.imports[0].span = ssot_gardener::facts::Span::new(0, text.len());
            blob = postcard::to_stdvec(&facts).expect("encode");
        }
        entries.push((hash, blob));
    }
    assert!(entries.iter().any(|(hash, _)| *hash == target));
    let mut forged = bytes[..20].to_vec();
    let mut offset = 20 + entries.len() * 28;
    for (hash, blob) in &entries {
        forged.extend_from_slice(&hash.to_le_bytes());
        forged.extend_from_slice(&(offset as u64).to_le_bytes());
        forged.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        let checksum = xxhash_rust::xxh3::xxh3_64_with_seed(blob, *hash);
        forged.extend_from_slice(&checksum.to_le_bytes());
        offset += blob.len();
    }
    for (_, blob) in &entries {
        forged.extend_from_slice(blob);
    }
    fs::write(&path, &forged).expect("forge");
    assert_eq!(
        check(dir.path(), &[]),
        expected,
        "check with the forged entry"
    );
    fs::write(&path, &forged).expect("forge");
    let out = run(dir.path(), &["fix"]);
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("app/a.py")).expect("a.py"),
        "from app.compat import helper\nfrom app.websocket_manager import WebSocketManager\n",
        "a.py is fixed as its own facts say"
    );
}
