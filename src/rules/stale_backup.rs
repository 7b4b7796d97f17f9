//! SSOT006 stale-backup: a committed backup copy of a source file.

use std::collections::HashSet;

use super::{Context, Finding, Rule};
use crate::facts::Span;

/// Words that mark a backup in a suffix after a source extension (`x.py.backup_2025`,
/// `x.py.ssot_backup`), compared as whole words so `x.py.golden` is not "old".
const SUFFIX_WORDS: [&str; 9] = [
    "backup", "backups", "bak", "bkp", "orig", "old", "save", "saved", "copy",
];

/// Why `path` (relative, `/`-separated) looks like a backup copy of a source file, with the
/// live file it copies when the name says so.
///
/// ```text
/// x.py.backup_20250917_084026  x.py.ssot_backup  x.py.bak  x.py.orig  x.py~  x_old.py
/// x_backup.py  backup_2025_01_01/x.py
/// not: test_backup_recovery.py  backup_codes.ts  script.py.mako  .env.test.local
/// ```
pub fn backup_of(path: &str) -> Option<Option<String>> {
    let (dir, file) = match path.rsplit_once('/') {
        Some((dir, file)) => (Some(dir), file),
        None => (None, path),
    };
    // Every pattern names a source extension: most files of a repository are ruled out here,
    // before anything is allocated.
    if !file.contains(".py") && !file.contains(".rs") {
        return None;
    }
    let live = |name: &str| match dir {
        Some(dir) => format!("{dir}/{name}"),
        None => name.to_string(),
    };
    for (extension, dotted, tilde) in [
        (".py", ".py.", ".py~"),
        (".pyi", ".pyi.", ".pyi~"),
        (".rs", ".rs.", ".rs~"),
    ] {
        if let Some(at) = file.find(dotted).or_else(|| file.find(tilde)) {
            let suffix = &file[at + extension.len()..];
            let mut words = suffix.split(|c: char| !c.is_ascii_alphabetic());
            if suffix == "~"
                || words.any(|word| {
                    SUFFIX_WORDS
                        .iter()
                        .any(|backup| word.eq_ignore_ascii_case(backup))
                })
            {
                return Some(Some(live(&file[..at + extension.len()])));
            }
        }
        // `x_backup.py`, `x_old.py`: Python only (`stale_backup.rs` is a Rust module name).
        if let Some(stem) = file.strip_suffix(extension).filter(|_| extension != ".rs") {
            for marker in ["_old", "_backup", ".backup", "_bak", ".bak", ".orig"] {
                if let Some(base) = stem.strip_suffix(marker).filter(|base| !base.is_empty()) {
                    return Some(Some(live(&format!("{base}{extension}"))));
                }
            }
            // Whole backup directories: `backup_2025_01_01/`, `old_backup/`, `backups/`.
            if let Some(dir) = dir
                && dir.split('/').any(is_backup_directory)
            {
                return Some(None);
            }
        }
    }
    None
}

fn is_backup_directory(name: &str) -> bool {
    // Compared as bytes: a name may have multi-byte characters where a `str` slice would split one.
    let lower = |text: &str, prefix: &str| {
        let (text, prefix) = (text.as_bytes(), prefix.as_bytes());
        text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let lower_end = |text: &str, suffix: &str| {
        let (text, suffix) = (text.as_bytes(), suffix.as_bytes());
        text.len() >= suffix.len() && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    name.eq_ignore_ascii_case("backup")
        || name.eq_ignore_ascii_case("backups")
        || lower(name, "backup_")
        || lower(name, "backup-")
        || lower_end(name, "_backup")
        || lower_end(name, "-backup")
}

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let sources: HashSet<&str> = cx
        .graph
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();
    let parsed = cx
        .graph
        .files
        .iter()
        .enumerate()
        .map(|(index, file)| (file.path.as_str(), Some(index)));
    let others = cx
        .graph
        .other_files
        .iter()
        .map(|path| (path.as_str(), None));
    for (path, file) in parsed.chain(others) {
        let Some(live) = backup_of(path) else {
            continue;
        };
        let live = live.filter(|live| sources.contains(live.as_str()));
        out.push(Finding {
            rule: Rule::StaleBackup,
            concept: None,
            path: path.to_string(),
            file,
            span: Span::default(),
            symbol: live.clone().unwrap_or_default(),
            message: match &live {
                Some(live) => format!("committed backup copy of `{live}`"),
                None => "committed backup copy of a source file".to_string(),
            },
            label: "backup file".to_string(),
            help: Some(
                "delete it: version control keeps the history, and a copy can still be imported or edited by mistake"
                    .to_string(),
            ),
            notes: Vec::new(),
            fix: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::backup_of;

    #[test]
    fn backup_names() {
        for path in [
            "a/x.py.backup_20250917_084026",
            "x.py.ssot_backup",
            "x.py.backup_pre_factory_migration",
            "x.py.bak",
            "x.py.orig",
            "x.py~",
            "x_old.py",
            "x_backup.py",
            "backup_2025_01_01/x.py",
            "src/lib.rs.orig",
        ] {
            assert!(backup_of(path).is_some(), "{path}");
        }
        for path in [
            "tests/test_backup_recovery.py",
            "backup_codes.ts",
            "script.py.mako",
            ".env.test.local",
            "backup.py",
            "old.py",
            "x.pyc",
            "notes.bak",
            "expected.py.golden",
            "template.py.scaffold",
            "src/rules/stale_backup.rs",
            "ébackup_é/x.txt",
            "backupé/x.py",
        ] {
            assert!(backup_of(path).is_none(), "{path}");
        }
        assert_eq!(
            backup_of("a/b/x.py.backup_1"),
            Some(Some("a/b/x.py".to_string()))
        );
    }
}
