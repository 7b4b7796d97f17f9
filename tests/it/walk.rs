//! The repository walk through the binary: which files are read, which are skipped and why,
//! and that the output is the same with one thread or many.

use std::path::Path;
use std::process::Command;

use crate::support::{module, module_paths, run, skipped_reason, temp_repo, write_files};

/// Not a git repository (no `.git` directory with a HEAD): `.gitignore` is honoured anyway.
#[test]
fn the_walk_honours_ignore_files_and_exclude_and_skips_what_it_cannot_read() {
    let repo = temp_repo("exclude = [\"**/vendor/**\"]\n");
    let root = repo.path();
    let import = b"import os\n".as_slice();
    write_files(
        root,
        &[
            (".gitignore", b"ignored/\n*.gen.py\n!keep.gen.py\n"),
            (".ignore", b"also_ignored.py\n"),
            ("pkg/.gitignore", b"local.py\n"),
            // Walked:
            ("main.py", import),
            ("pkg/__init__.py", import),
            ("pkg/sub/mod.py", import),
            (".github/scripts/tool.py", import),
            ("keep.gen.py", import),
            // Ignored by .gitignore, .ignore, a nested .gitignore, or `exclude`:
            ("ignored/a.py", import),
            ("pkg/ignored/b.py", import),
            ("x.gen.py", import),
            ("pkg/y.gen.py", import),
            ("also_ignored.py", import),
            ("pkg/also_ignored.py", import),
            ("pkg/local.py", import),
            ("vendor/top.py", import),
            ("pkg/vendor/v.py", import),
            ("pkg/vendor/deep/w.py", import),
            // The repository's own metadata, never walked:
            (".git/hooks/x.py", import),
        ],
    );
    let status = Command::new("mkfifo")
        .arg(root.join("pipe.py"))
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");

    // A FIFO opened for reading blocks until a writer comes: the run's time limit catches it.
    let graph = run(root, &["graph", "--format", "json"]).json();
    assert_eq!(
        module_paths(&graph),
        [
            ".github/scripts/tool.py",
            "keep.gen.py",
            "main.py",
            "pkg/__init__.py",
            "pkg/sub/mod.py",
        ]
    );
    // `keep.gen` is no identifier: the file is read but has no module name.
    assert_eq!(
        module(&graph, "keep.gen.py").expect("listed")["module"],
        serde_json::Value::Null
    );
    assert_eq!(
        module(&graph, ".github/scripts/tool.py").expect("listed")["module"],
        serde_json::Value::Null
    );
    assert_eq!(
        skipped_reason(&graph, "pipe.py"),
        Some("not a regular file"),
        "{}",
        graph["skipped"]
    );
    assert_eq!(graph["skipped"].as_array().map(Vec::len), Some(1));
}

/// An `exclude` pattern that names a directory prunes it, whatever depth it sits at.
#[test]
fn exclude_patterns_prune_files_and_directories() {
    let repo = temp_repo("exclude = [\"build/*.py\", \"**/node_modules/**\", \"gen_*.py\"]\n");
    let import = b"import os\n".as_slice();
    write_files(
        repo.path(),
        &[
            ("build/out.py", import),
            ("build/deeper/kept.py", import),
            ("a/node_modules/x/y.py", import),
            ("gen_one.py", import),
            ("a/gen_two.py", import),
            ("a/kept.py", import),
        ],
    );
    let graph = run(repo.path(), &["graph", "--format", "json"]).json();
    assert_eq!(
        module_paths(&graph),
        ["a/gen_two.py", "a/kept.py", "build/deeper/kept.py"]
    );
}

/// About 300 files in nested packages that import each other, absolutely and relatively.
fn generated_repo(root: &Path) -> usize {
    let mut files: Vec<(String, String)> = Vec::new();
    for top in 0..6 {
        files.push((format!("pkg{top}/__init__.py"), String::new()));
        for sub in 0..7 {
            let package = format!("pkg{top}/sub{sub}");
            files.push((
                format!("{package}/__init__.py"),
                format!("from .m0 import Class0 as Exported{sub}\n"),
            ));
            for index in 0..6 {
                let previous = (index + 5) % 6;
                files.push((
                    format!("{package}/m{index}.py"),
                    format!(
                        "import os\n\
                         from .m{previous} import Class{previous}\n\
                         from pkg{other}.sub{sub} import Exported{sub}\n\
                         from pkg{top}.sub{sub}.m{previous} import missing_{index}\n\
                         \n\
                         class Class{index}(Class{previous}):\n    def run(self): pass\n",
                        other = (top + 1) % 6,
                    ),
                ));
            }
        }
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_bytes()))
        .collect();
    write_files(root, &refs);
    files.len()
}

#[test]
fn one_thread_and_eight_give_identical_json() {
    let repo = temp_repo("");
    let count = generated_repo(repo.path());
    assert!(count >= 290, "{count} files");
    let one = run(
        repo.path(),
        &["graph", "--format", "json", "--threads", "1"],
    );
    let eight = run(
        repo.path(),
        &["graph", "--format", "json", "--threads", "8"],
    );
    let graph = one.json();
    eight.assert_clean_exit(0);
    assert_eq!(graph["summary"]["files"].as_u64(), Some(count as u64));
    assert!(graph["summary"]["resolved"].as_u64() > Some(0));
    assert!(graph["summary"]["missing_name"].as_u64() > Some(0));
    assert!(
        one.stdout == eight.stdout,
        "--threads 1 and --threads 8 differ"
    );
    let text_one = run(repo.path(), &["graph", "--threads", "1"]);
    let text_eight = run(repo.path(), &["graph", "--threads", "8"]);
    assert!(
        text_one.stdout == text_eight.stdout,
        "text output: --threads 1 and --threads 8 differ"
    );
}
