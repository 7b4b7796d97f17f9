//! The global flags and path conventions people bring from ruff (issue 16, items 3 and 4):
//! `-q`, `-v`, `--color`/`FORCE_COLOR`/`NO_COLOR`, `--fix-only`, `--stdin-filename`,
//! `--exit-zero` with `--diff`, runs from a subdirectory and `--config FILE` from elsewhere.

use std::fs;
use std::process::{Command, Stdio};

use crate::support::{BIN, run, run_stdin, write_files};

const CONFIG: &[u8] = b"[project]\npython-roots = [\".\"]\n\n[[concept]]\nname = \"thing\"\ncanonical = \"pkg.core.Thing\"\n";

/// A repository with one indirect import in `pkg/user.py` and one in `app/main.py`, through
/// the re-export in `pkg/__init__.py` (a compat shim: SSOT005).
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    write_files(
        dir.path(),
        &[
            ("ssot.toml", CONFIG),
            ("pkg/__init__.py", b"from .core import Thing\n"),
            ("pkg/core.py", b"class Thing:\n    pass\n"),
            ("pkg/user.py", b"from pkg import Thing\n"),
            ("app/__init__.py", b""),
            ("app/main.py", b"from pkg import Thing\n\nprint(Thing)\n"),
        ],
    );
    dir
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn quiet_prints_only_the_findings_and_verbose_adds_settings_counts_and_timings() {
    let dir = repository();
    let normal = run(dir.path(), &["check", "--no-cache"]);
    normal.assert_clean_exit(1);
    assert!(
        normal.stdout_text().contains("Found 3 findings"),
        "{}",
        normal.stdout_text()
    );

    let quiet = run(dir.path(), &["check", "--no-cache", "-q"]);
    quiet.assert_clean_exit(1);
    let text = quiet.stdout_text();
    assert!(text.contains("SSOT002"), "{text}");
    assert!(!text.contains("Found 3"), "no summary under -q: {text}");
    assert_eq!(quiet.stderr, "");
    // A fix under -q says nothing either.
    let fixed = run(dir.path(), &["fix", "--no-cache", "--quiet"]);
    // (With nothing importing through it, the re-export is no longer reported.)
    fixed.assert_clean_exit(0);
    assert_eq!(fixed.stderr, "");
    assert!(fixed.stdout.is_empty(), "{}", fixed.stdout_text());

    let dir = repository();
    let verbose = run(dir.path(), &["-v", "check", "--no-cache"]);
    verbose.assert_clean_exit(1);
    assert_eq!(verbose.stdout, normal.stdout, "-v changes stderr only");
    let err = &verbose.stderr;
    assert!(
        err.contains("configuration: ") && err.contains("ssot.toml"),
        "{err}"
    );
    assert!(
        err.contains("python-roots: .; rust-roots: none; 1 concept"),
        "{err}"
    );
    assert!(
        err.contains("walked 5 source files (5 Python, 0 Rust)"),
        "{err}"
    );
    for phase in ["walk and collect", "resolve", "rules", "output"] {
        assert!(
            err.contains(&format!("timing: {phase}: ")),
            "{phase}: {err}"
        );
    }
    let both = run(dir.path(), &["check", "-q", "-v"]);
    both.assert_clean_exit(2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

#[test]
fn colour_follows_the_flag_then_force_color_then_no_color() {
    let dir = repository();
    let human = |args: &[&str], envs: &[(&str, &str)]| -> String {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .args(["check", "--no-cache"])
            .current_dir(dir.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("FORCE_COLOR")
            .stdin(Stdio::null());
        for (key, value) in envs {
            command.env(key, value);
        }
        let output = command.output().expect("run ssot-gardener");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    assert!(!human(&[], &[]).contains('\x1b'), "a pipe gets no colours");
    assert!(human(&["--color", "always"], &[]).contains('\x1b'));
    assert!(human(&["--color=always"], &[("NO_COLOR", "1")]).contains('\x1b'));
    assert!(human(&[], &[("FORCE_COLOR", "1")]).contains('\x1b'));
    assert!(
        !human(&[], &[("FORCE_COLOR", "")]).contains('\x1b'),
        "empty is unset"
    );
    assert!(!human(&["--color", "never"], &[("FORCE_COLOR", "1")]).contains('\x1b'));
    assert!(!human(&["--color", "auto"], &[("FORCE_COLOR", "1")]).contains('\x1b'));

    // A report file keeps its colours only when asked for them.
    let file = dir.path().join("report.txt");
    let path = file.to_str().expect("UTF-8 path");
    run(dir.path(), &["check", "--no-cache", "-o", path]).assert_clean_exit(1);
    assert!(!fs::read_to_string(&file).expect("report").contains('\x1b'));
    run(
        dir.path(),
        &["--color", "always", "check", "--no-cache", "-o", path],
    )
    .assert_clean_exit(1);
    assert!(fs::read_to_string(&file).expect("report").contains('\x1b'));
}

#[test]
fn fix_only_fixes_and_reports_nothing() {
    let dir = repository();
    let run_ = run(dir.path(), &["check", "--fix-only", "--no-cache"]);
    run_.assert_clean_exit(0);
    assert!(run_.stdout.is_empty(), "{}", run_.stdout_text());
    assert!(
        run_.stderr.contains("Fixed 2 findings in 2 files."),
        "{}",
        run_.stderr
    );
    let user = fs::read_to_string(dir.path().join("pkg/user.py")).expect("user.py");
    assert_eq!(user, "from pkg.core import Thing\n");

    let dir = repository();
    let strict = run(
        dir.path(),
        &["fix", "--fix-only", "--exit-non-zero-on-fix", "--no-cache"],
    );
    strict.assert_clean_exit(1);
    let again = run(
        dir.path(),
        &["fix", "--fix-only", "--exit-non-zero-on-fix", "--no-cache"],
    );
    again.assert_clean_exit(0);
    assert!(
        again.stderr.contains("Fixed 0 findings in 0 files."),
        "{}",
        again.stderr
    );

    // `--diff --exit-zero`: the diff, exit 0, nothing written.
    let dir = repository();
    let diff = run(
        dir.path(),
        &["check", "--diff", "--exit-zero", "--no-cache"],
    );
    diff.assert_clean_exit(0);
    assert!(diff.stdout_text().contains("+from pkg.core import Thing"));
    let user = fs::read_to_string(dir.path().join("pkg/user.py")).expect("user.py");
    assert_eq!(user, "from pkg import Thing\n");
    run(dir.path(), &["check", "--diff", "--no-cache"]).assert_clean_exit(1);
}

#[test]
fn stdin_is_checked_and_fixed_as_the_named_file_and_nothing_on_disk_changes() {
    let dir = repository();
    let buffer = b"from pkg import Thing\n\nTHING = Thing\n";
    // Checked as `app/main.py`: the buffer's text, not the file's, and only that file.
    let checked = run_stdin(
        dir.path(),
        &[
            "check",
            "--stdin-filename",
            "app/main.py",
            "--output-format",
            "concise",
        ],
        buffer,
    );
    checked.assert_clean_exit(1);
    assert_eq!(
        lines(&checked.stdout_text()),
        ["app/main.py:1:1: SSOT002 `Thing` imported through `pkg` instead of `pkg.core`"]
    );
    // Fixed: the fixed buffer on stdout, what is left (nothing) on stderr, exit 0.
    let fixed = run_stdin(
        dir.path(),
        &[
            "check",
            "--fix",
            "--stdin-filename",
            "app/main.py",
            "--no-cache",
        ],
        buffer,
    );
    fixed.assert_clean_exit(0);
    assert_eq!(
        fixed.stdout_text(),
        "from pkg.core import Thing\n\nTHING = Thing\n"
    );
    assert!(
        fixed.stderr.contains("All checks passed"),
        "{}",
        fixed.stderr
    );
    // The same text as `fix` writes for that content on disk, and the disk is untouched.
    assert_eq!(
        fs::read_to_string(dir.path().join("app/main.py")).expect("main.py"),
        "from pkg import Thing\n\nprint(Thing)\n"
    );
    // A buffer with no file behind it yet (a new file in the editor), from a subdirectory.
    let new = run_stdin(
        &dir.path().join("app"),
        &["fix", "--stdin-filename", "new.py", "-q"],
        b"import os\nfrom pkg import Thing\n",
    );
    new.assert_clean_exit(0);
    // The rewritten import goes to its isort section, as `fix` places it.
    assert_eq!(
        new.stdout_text(),
        "import os\n\nfrom pkg.core import Thing\n"
    );
    assert!(!dir.path().join("app/new.py").exists());
    // `--diff` shows the change as a diff of that path.
    let diff = run_stdin(
        dir.path(),
        &["check", "--diff", "--stdin-filename", "app/main.py"],
        buffer,
    );
    diff.assert_clean_exit(1);
    assert!(
        diff.stdout_text().contains("--- a/app/main.py"),
        "{}",
        diff.stdout_text()
    );
    // A file the walk does not read comes back as it was, with a warning.
    let other = run_stdin(
        dir.path(),
        &["fix", "--stdin-filename", "README.md"],
        b"# hi\n",
    );
    other.assert_clean_exit(0);
    assert_eq!(other.stdout_text(), "# hi\n");
    assert!(
        other.stderr.contains("not a checked source file"),
        "{}",
        other.stderr
    );
    // Paths and stdin do not mix.
    let both = run_stdin(
        dir.path(),
        &["check", "pkg", "--stdin-filename", "x.py"],
        b"",
    );
    both.assert_clean_exit(2);
}

#[test]
fn from_a_subdirectory_check_reports_it_with_paths_that_open_from_there() {
    let dir = repository();
    let app = dir.path().join("app");
    let concise = run(&app, &["check", "--no-cache", "--output-format", "concise"]);
    concise.assert_clean_exit(1);
    assert_eq!(
        lines(&concise.stdout_text()),
        ["main.py:1:1: SSOT002 `Thing` imported through `pkg` instead of `pkg.core`"]
    );
    let human = run(&app, &["check", "--no-cache"]).stdout_text();
    assert!(human.contains("--> main.py:1:1"), "{human}");
    // An explicit `..` is the whole repository, shown from here.
    let all = run(
        &app,
        &["check", "..", "--no-cache", "--output-format", "concise"],
    );
    let all = all.stdout_text();
    let shown: Vec<&str> = lines(&all)
        .into_iter()
        .map(|line| line.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(shown, ["main.py", "../pkg/__init__.py", "../pkg/user.py"]);
    // From above the root: paths relative to the working directory.
    let parent = dir.path().parent().expect("a parent");
    let name = dir
        .path()
        .file_name()
        .and_then(|name| name.to_str())
        .expect("UTF-8 name");
    let above = run(
        parent,
        &["check", name, "--no-cache", "--output-format", "concise"],
    );
    assert!(
        above
            .stdout_text()
            .starts_with(&format!("{name}/app/main.py:1:1: SSOT002")),
        "{}",
        above.stdout_text()
    );
    // The machine formats keep root-relative paths.
    let json = run(
        &app,
        &[
            "check",
            "--no-cache",
            "--output-format",
            "json",
            "--exit-zero",
        ],
    )
    .json();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|finding| finding["path"].as_str())
        .collect();
    assert_eq!(paths, ["app/main.py"]);
    // The fix from a subdirectory fixes that subdirectory only.
    run(&app, &["fix", "--no-cache", "-q"]).assert_clean_exit(0);
    let user = fs::read_to_string(dir.path().join("pkg/user.py")).expect("user.py");
    assert_eq!(
        user, "from pkg import Thing\n",
        "outside the working directory"
    );
}

#[test]
fn a_config_given_elsewhere_takes_its_root_from_the_working_directory() {
    let dir = repository();
    // The configuration kept apart from the code: its `python-roots = ["."]` is the working
    // directory's, as ruff reads `--config`.
    let elsewhere = tempfile::tempdir().expect("temporary directory");
    let config = elsewhere.path().join("gardener.toml");
    fs::write(&config, CONFIG).expect("write the config");
    fs::remove_file(dir.path().join("ssot.toml")).expect("remove ssot.toml");
    let config = config.to_str().expect("UTF-8 path");
    let run_ = run(
        dir.path(),
        &[
            "--config",
            config,
            "check",
            "--no-cache",
            "--output-format",
            "concise",
        ],
    );
    run_.assert_clean_exit(1);
    assert_eq!(
        lines(&run_.stdout_text()).len(),
        3,
        "{}",
        run_.stdout_text()
    );
    let settings = run(
        dir.path(),
        &["--config", config, "check", "--show-settings"],
    );
    settings.assert_clean_exit(0);
    let root = fs::canonicalize(dir.path()).expect("canonical root");
    let text = settings.stdout_text();
    assert!(
        text.contains(&format!("root = {}\n", root.display())),
        "{text}"
    );
}
