//! `ssot.toml` loading: the bad-config fixtures and their rendered errors, a full valid
//! configuration, defaults, `find_config`, and the committed JSON schema.
//!
//! Regenerate the snapshots (`fixtures/config/*/expected.txt`) and `ssot.schema.json` with
//! `SSOT_BLESS=1 cargo test --test it config`.

use std::fs;
use std::path::{Path, PathBuf};

use ssot_gardener::config::{
    self, CONFIG_FILE_NAME, ConfigError, FallbackPolicy, Settings, TestsPolicy, find_config,
    json_schema, load, parse,
};

/// Whether tests should rewrite their snapshots instead of comparing against them.
fn bless() -> bool {
    std::env::var_os("SSOT_BLESS").is_some_and(|value| value == "1")
}

fn parse_ok(path: &Path, text: &str) -> Settings {
    parse(path, text).unwrap_or_else(|error| panic!("expected valid config, got:\n{error}"))
}

/// Each directory under `fixtures/config` holds a bad `ssot.toml` and, in `expected.txt`, the
/// error it must produce. Paths are relative to the package root (cargo's working directory for
/// tests), so the snapshots name `fixtures/config/<case>/ssot.toml` on every machine.
#[test]
fn bad_configs_render_expected_errors() {
    let mut cases: Vec<String> = fs::read_dir("fixtures/config")
        .expect("fixtures/config exists")
        .map(|entry| entry.expect("readable fixture entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "fixtures/config lost cases: {cases:?}");

    let mut failures = Vec::new();
    for case in &cases {
        // Built with '/' so the snapshot reads the same on every platform.
        let config_path = PathBuf::from(format!("fixtures/config/{case}/{CONFIG_FILE_NAME}"));
        let expected_path = PathBuf::from(format!("fixtures/config/{case}/expected.txt"));
        let text = fs::read_to_string(&config_path).expect("fixture has ssot.toml");
        let error = match parse(&config_path, &text) {
            Ok(settings) => {
                failures.push(format!("{case}: parsed without error into {settings:?}"));
                continue;
            }
            Err(error) => error,
        };
        assert!(
            error.diagnostics().iter().all(|d| d.span.is_some()),
            "{case}: every error about the file's content points into it"
        );
        let actual = format!("{error}\n");
        if bless() {
            fs::write(&expected_path, &actual).expect("write snapshot");
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "{case}: error differs from {}\n--- expected\n{expected}--- actual\n{actual}",
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nif the new output is right, run `SSOT_BLESS=1 cargo test --test it config`",
        failures.join("\n\n")
    );
}

const FULL_CONFIG: &str = r#"
[project]
python-roots = ["./src/", "."]
rust-roots = ["crates"]
exclude = ["**/node_modules/**", "build/*.py"]
baseline = "ssot-baseline.json"
dead-fallbacks = "allow"

[project.per-path-ignores]
"tests/**" = ["SSOT001", "SSOT002"]
"scripts/*.py" = ["SSOT003"]

[[concept]]
name = "websocket-manager"
canonical = "pkg.websocket_core.websocket_manager.WebSocketManager"
implementations = ["*WebSocketManager", "*WebSocket*Manager"]
factories = ["create_*websocket_manager*", "*WebSocketManagerFactory"]
allowed-factories = ["pkg.websocket_core.websocket_manager.get_websocket_manager"]
similarity = 0.75
tests = "allow"

[[concept]]
name = "config-loader"
canonical = "crate::config::Loader"
"#;

#[test]
fn full_config_parses_into_settings() {
    let repository = tempfile::tempdir().expect("tempdir");
    fs::create_dir(repository.path().join("src")).expect("mkdir src");
    fs::create_dir(repository.path().join("crates")).expect("mkdir crates");
    let config_path = repository.path().join(CONFIG_FILE_NAME);
    fs::write(&config_path, FULL_CONFIG).expect("write ssot.toml");

    let settings = load(&config_path).unwrap_or_else(|error| panic!("{error}"));

    assert_eq!(settings.root, repository.path());
    assert_eq!(settings.config_path.as_deref(), Some(config_path.as_path()));
    assert_eq!(
        settings.python_roots,
        [PathBuf::from("src"), PathBuf::new()]
    );
    assert_eq!(settings.rust_roots, [PathBuf::from("crates")]);
    assert_eq!(settings.exclude, ["**/node_modules/**", "build/*.py"]);
    assert!(settings.is_excluded(Path::new("web/node_modules/x/index.py")));
    assert!(settings.is_excluded(Path::new("build/gen.py")));
    assert!(
        !settings.is_excluded(Path::new("build/deep/gen.py")),
        "`*` stays within one directory"
    );
    assert!(!settings.is_excluded(Path::new("src/pkg/mod.py")));
    assert_eq!(settings.baseline, Some(PathBuf::from("ssot-baseline.json")));
    assert_eq!(settings.dead_fallbacks, FallbackPolicy::Allow);

    let ignores: Vec<(&str, Vec<&str>)> = settings
        .per_path_ignores
        .iter()
        .map(|(glob, _, codes)| (glob.as_str(), codes.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        ignores,
        [
            ("tests/**", vec!["SSOT001", "SSOT002"]),
            ("scripts/*.py", vec!["SSOT003"])
        ],
        "file order, not alphabetical"
    );
    assert!(settings.is_ignored(Path::new("tests/unit/test_ws.py"), "SSOT002"));
    assert!(!settings.is_ignored(Path::new("tests/unit/test_ws.py"), "SSOT003"));
    assert!(!settings.is_ignored(Path::new("src/pkg/ws.py"), "SSOT001"));

    let [websocket, loader] = settings.concepts.as_slice() else {
        panic!("expected two concepts, got {:?}", settings.concepts);
    };
    assert_eq!(websocket.name, "websocket-manager");
    assert_eq!(
        websocket.canonical,
        "pkg.websocket_core.websocket_manager.WebSocketManager"
    );
    assert_eq!(
        websocket.implementations,
        ["*WebSocketManager", "*WebSocket*Manager"]
    );
    assert!(
        websocket
            .implementations_set
            .is_match("LegacyWebSocketManager")
    );
    assert!(
        websocket
            .implementations_set
            .is_match("WebSocketConnectionManager")
    );
    assert!(!websocket.implementations_set.is_match("SessionManager"));
    assert_eq!(
        websocket.factories,
        ["create_*websocket_manager*", "*WebSocketManagerFactory"]
    );
    assert!(websocket.factories_set.is_match("create_websocket_manager"));
    assert_eq!(
        websocket.allowed_factories,
        ["pkg.websocket_core.websocket_manager.get_websocket_manager"]
    );
    assert_eq!(websocket.similarity, 0.75);
    assert_eq!(websocket.tests, TestsPolicy::Allow);

    assert_eq!(loader.name, "config-loader");
    assert_eq!(loader.canonical, "crate::config::Loader");
    assert!(loader.implementations.is_empty());
    assert!(!loader.implementations_set.is_match("Loader"));
    assert!(loader.factories.is_empty() && loader.allowed_factories.is_empty());
    assert_eq!(loader.similarity, 0.6, "default similarity");
    assert_eq!(loader.tests, TestsPolicy::Report, "default tests policy");
}

#[test]
fn implementation_globs_match_names_not_paths() {
    let settings = parse_ok(
        Path::new(CONFIG_FILE_NAME),
        "[[concept]]\nname = \"x\"\ncanonical = \"a.B\"\nimplementations = [\"*B\"]\n",
    );
    // `*` crosses anything in a name glob, even characters that separate paths elsewhere.
    assert!(settings.concepts[0].implementations_set.is_match("a/B"));
}

#[test]
fn empty_file_gives_defaults() {
    let settings = parse_ok(Path::new("repo/ssot.toml"), "");
    assert_eq!(settings.root, Path::new("repo"));
    assert_eq!(
        settings.config_path.as_deref(),
        Some(Path::new("repo/ssot.toml"))
    );
    assert_eq!(settings.python_roots, [PathBuf::new()]);
    assert!(settings.rust_roots.is_empty());
    assert!(settings.exclude.is_empty());
    assert!(!settings.is_excluded(Path::new("anything.py")));
    assert_eq!(settings.baseline, None);
    assert_eq!(settings.dead_fallbacks, FallbackPolicy::Report);
    assert!(settings.per_path_ignores.is_empty());
    assert!(settings.concepts.is_empty());
}

#[test]
fn defaults_without_a_file() {
    let settings = Settings::defaults(PathBuf::from("/repo"));
    assert_eq!(settings.root, Path::new("/repo"));
    assert_eq!(settings.config_path, None);
    assert_eq!(settings.python_roots, [PathBuf::new()]);
    assert!(settings.rust_roots.is_empty() && settings.concepts.is_empty());
    assert!(!settings.is_excluded(Path::new("a.py")));
}

#[test]
fn python_root_dot_is_the_root() {
    // A bare `ssot.toml` has an empty parent, which stands for the working directory.
    let settings = parse_ok(
        Path::new(CONFIG_FILE_NAME),
        "[project]\npython-roots = [\".\", \"./\"]\n",
    );
    assert_eq!(settings.python_roots, [PathBuf::new(), PathBuf::new()]);
}

#[test]
fn find_config_walks_up_from_a_nested_directory() {
    let repository = tempfile::tempdir().expect("tempdir");
    let nested = repository.path().join("src/pkg/sub");
    fs::create_dir_all(&nested).expect("mkdir");
    let file_in_nested = nested.join("module.py");
    fs::write(&file_in_nested, "").expect("write module");
    let config_path = repository.path().join(CONFIG_FILE_NAME);
    fs::write(&config_path, "").expect("write ssot.toml");

    assert_eq!(find_config(&nested), Ok(Some(config_path.clone())));
    assert_eq!(find_config(&file_in_nested), Ok(Some(config_path.clone())));
    assert_eq!(find_config(repository.path()), Ok(Some(config_path)));

    // The nearest file wins.
    let inner_config = repository.path().join("src").join(CONFIG_FILE_NAME);
    fs::write(&inner_config, "").expect("write inner ssot.toml");
    assert_eq!(find_config(&nested), Ok(Some(inner_config.clone())));

    // The nearest `ssot.toml` ends the walk even when it is no file: an error, not the outer one.
    fs::remove_file(&inner_config).expect("rm");
    fs::create_dir(&inner_config).expect("mkdir ssot.toml");
    let error = find_config(&nested).expect_err("a directory named ssot.toml");
    assert!(error.contains("is a directory"), "{error}");
}

#[test]
fn load_reports_an_unreadable_file() {
    let repository = tempfile::tempdir().expect("tempdir");
    let missing = repository.path().join(CONFIG_FILE_NAME);
    let error: ConfigError = load(&missing).expect_err("no such file");
    assert_eq!(error.path(), missing);
    let rendered = error.to_string();
    assert!(
        rendered.starts_with(&format!("error: cannot read {}", missing.display())),
        "{rendered}"
    );
}

#[test]
fn later_checks_can_point_at_a_concept_value() {
    let text = "[[concept]]\nname = \"a\"\ncanonical = \"pkg.Missing\"\n";
    let span = config::concept_value_span(text, 0, "canonical").expect("span of canonical");
    assert_eq!(&text[span.clone()], "\"pkg.Missing\"");
    let error = ConfigError::at(
        Path::new(CONFIG_FILE_NAME),
        text,
        span,
        "canonical `pkg.Missing` names no definition",
        "nearest definitions: `pkg.Manager`",
    );
    let rendered = error.to_string();
    assert!(rendered.contains("--> ssot.toml:3:13"), "{rendered}");
    assert!(
        rendered.contains("^^^^^^^^^^^^^ nearest definitions"),
        "{rendered}"
    );
    assert_eq!(config::concept_value_span(text, 1, "canonical"), None);
}

#[test]
fn schema_is_current() {
    let path = Path::new("ssot.schema.json");
    let schema = json_schema();
    if bless() {
        fs::write(path, &schema).expect("write ssot.schema.json");
        return;
    }
    let committed = fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == schema,
        "ssot.schema.json is out of date with the option types in src/config.rs; regenerate it \
         with `SSOT_BLESS=1 cargo test --test it config`"
    );
}

/// Every key and every table of `ssot.toml` is documented: the doc comments on the option types
/// are the user documentation, and they reach users as schema descriptions.
#[test]
fn schema_documents_every_key() {
    let schema: serde_json::Value =
        serde_json::from_str(&json_schema()).expect("schema is valid JSON");
    let mut undocumented = Vec::new();
    let mut keys = 0;
    check_descriptions(&schema, "", &mut undocumented, &mut keys);
    assert!(keys >= 13, "expected every key of ssot.toml, found {keys}");
    assert!(
        undocumented.is_empty(),
        "undocumented keys: {undocumented:?}"
    );

    // The keys of the contract, so that renaming one is a deliberate change to this test too.
    let mut names = Vec::new();
    collect_property_names(&schema, &mut names);
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        [
            "allowed-factories",
            "baseline",
            "canonical",
            "concept",
            "constructible",
            "dead-fallbacks",
            "exclude",
            "factories",
            "ignore",
            "implementations",
            "name",
            "per-path-ignores",
            "project",
            "public",
            "python-roots",
            "relative",
            "rust-roots",
            "select",
            "similarity",
            "test-factories",
            "tests",
        ]
    );
}

fn check_descriptions(
    value: &serde_json::Value,
    at: &str,
    undocumented: &mut Vec<String>,
    keys: &mut usize,
) {
    match value {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::Object(properties)) = object.get("properties") {
                for (name, property) in properties {
                    *keys += 1;
                    let described = property
                        .get("description")
                        .and_then(serde_json::Value::as_str)
                        .is_some_and(|text| !text.trim().is_empty());
                    if !described {
                        undocumented.push(format!("{at}/{name}"));
                    }
                }
            }
            for (name, child) in object {
                check_descriptions(child, &format!("{at}/{name}"), undocumented, keys);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                check_descriptions(item, at, undocumented, keys);
            }
        }
        _ => {}
    }
}

fn collect_property_names(value: &serde_json::Value, names: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::Object(properties)) = object.get("properties") {
                names.extend(properties.keys().cloned());
            }
            object
                .values()
                .for_each(|child| collect_property_names(child, names));
        }
        serde_json::Value::Array(items) => {
            items
                .iter()
                .for_each(|item| collect_property_names(item, names));
        }
        _ => {}
    }
}

// ---- through the binary: what used to be accepted in silence (issue 17) ----

/// A repository with one class and one import of it, and `config` as its `ssot.toml`.
fn repository_with(config: Option<&str>) -> tempfile::TempDir {
    let repository = tempfile::tempdir().expect("tempdir");
    crate::support::write_files(
        repository.path(),
        &[
            ("pkg/__init__.py", b""),
            (
                "pkg/a.py",
                b"class A:\n    pass\n\n\ndef make():\n    return A()\n\n\nX = A()\n",
            ),
            ("pkg/b.py", b"from pkg.a import make\n\nmake()\n"),
        ],
    );
    if let Some(config) = config {
        fs::write(repository.path().join(CONFIG_FILE_NAME), config).expect("write ssot.toml");
    }
    repository
}

#[test]
fn a_check_without_concepts_says_so() {
    for config in [Some(""), Some("[project]\npython-roots = [\".\"]\n"), None] {
        let repository = repository_with(config);
        let run = crate::support::run(repository.path(), &["check"]);
        run.assert_clean_exit(0);
        let expected = if config.is_some() {
            "declares no `[[concept]]`"
        } else {
            "no `ssot.toml` in"
        };
        assert!(
            run.stderr.contains(expected)
                && run
                    .stderr
                    .contains("only the repository-wide rules (SSOT006, SSOT009"),
            "{config:?}: {}",
            run.stderr
        );
    }
    let repository = repository_with(Some("[[concept]]\nname = \"a\"\ncanonical = \"pkg.a.A\"\n"));
    let run = crate::support::run(repository.path(), &["check"]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

#[test]
fn a_canonical_that_is_no_class_is_an_error() {
    for (path, what) in [("pkg.a.make", "a function"), ("pkg.a.X", "a variable")] {
        let config = format!("[[concept]]\nname = \"a\"\ncanonical = \"{path}\"\n");
        let repository = repository_with(Some(&config));
        let run = crate::support::run(repository.path(), &["check"]);
        run.assert_clean_exit(2);
        assert!(
            run.stderr.contains(&format!(
                "canonical path of concept `a` names no class: `{path}` is {what}, not a class"
            )) && run.stderr.contains("ssot.toml:3:13"),
            "{}",
            run.stderr
        );
    }
    // A class bound again by a call (`Attribute = _add_repr(Attribute)` in attrs) is a class.
    let config = "[[concept]]\nname = \"a\"\ncanonical = \"pkg.c.C\"\n";
    let repository = repository_with(Some(config));
    crate::support::write_files(
        repository.path(),
        &[(
            "pkg/c.py",
            b"def decorate(cls):\n    return cls\n\n\nclass C:\n    pass\n\n\nC = decorate(C)\n",
        )],
    );
    crate::support::run(repository.path(), &["check"]).assert_clean_exit(0);
}

#[cfg(unix)]
#[test]
fn an_ssot_toml_that_is_no_file_is_an_error_not_skipped() {
    let repository = repository_with(None);
    let config = repository.path().join(CONFIG_FILE_NAME);
    // An outer ssot.toml that must not be taken instead.
    let nested = repository.path().join("inner");
    fs::create_dir(&nested).expect("mkdir");
    fs::write(
        &config,
        "[[concept]]\nname = \"a\"\ncanonical = \"pkg.a.A\"\n",
    )
    .expect("write");
    let inner = nested.join(CONFIG_FILE_NAME);
    let cases: [(&str, &dyn Fn()); 4] = [
        ("is a directory", &|| fs::create_dir(&inner).expect("mkdir")),
        ("is not a regular file", &|| {
            let made = std::process::Command::new("mkfifo").arg(&inner).status();
            assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        }),
        ("is not a regular file", &|| {
            std::os::unix::fs::symlink("/dev/zero", &inner).expect("symlink");
        }),
        ("is a symbolic link that leads nowhere", &|| {
            std::os::unix::fs::symlink(nested.join("missing"), &inner).expect("symlink");
        }),
    ];
    for (expected, make) in cases {
        make();
        let run = crate::support::run(&nested, &["check"]);
        run.assert_clean_exit(2);
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
        let by_flag = crate::support::run(&nested, &["check", "--config", "ssot.toml"]);
        by_flag.assert_clean_exit(2);
        assert!(
            by_flag.stderr.contains(expected),
            "{expected}: {}",
            by_flag.stderr
        );
        if inner.is_dir() && !inner.is_symlink() {
            fs::remove_dir(&inner).expect("rmdir");
        } else {
            fs::remove_file(&inner).expect("rm");
        }
    }
}

// ---- pyproject.toml (issue 16) ----

const TOOL: &str = "[project]\nname = \"pkg\"\nversion = \"1.0\"\ndependencies = [\"requests\"]\n\n\
[tool.ssot-gardener.project]\npython-roots = [\".\"]\n\n\
[[tool.ssot-gardener.concept]]\nname = \"a\"\ncanonical = \"pkg.a.A\"\nfactories = [\"make\"]\n";

/// `[tool.ssot-gardener]` in a `pyproject.toml` is the configuration (its PEP 621 `[project]`
/// is not ours), found as ruff finds its own: the closest wins; an `ssot.toml` beats a
/// `pyproject.toml` in one directory; a `pyproject.toml` without the table is passed over.
#[test]
fn pyproject_tool_table_is_a_configuration() {
    let repository = repository_with(None);
    let root = repository.path();
    fs::write(root.join("pyproject.toml"), TOOL).expect("write");
    // From the root and from a subdirectory, by discovery and by --config.
    assert_eq!(
        find_config(&root.join("pkg")).expect("found"),
        Some(root.join("pyproject.toml"))
    );
    let run = crate::support::run(root, &["check", "--format", "concise"]);
    run.assert_clean_exit(1);
    assert!(
        run.stdout_text().contains("pkg/a.py:5:5: SSOT004"),
        "{}",
        run.stdout_text()
    );
    let explicit = crate::support::run(
        root,
        &["check", "--format", "concise", "--config", "pyproject.toml"],
    );
    assert_eq!(explicit.stdout_text(), run.stdout_text());

    // An error points into the pyproject.toml.
    fs::write(
        root.join("pyproject.toml"),
        TOOL.replace("factories", "factory"),
    )
    .expect("write");
    let bad = crate::support::run(root, &["check"]);
    bad.assert_clean_exit(2);
    assert!(
        bad.stderr.contains("unknown key `factory`") && bad.stderr.contains("pyproject.toml:12:1"),
        "{}",
        bad.stderr
    );

    // An ssot.toml in the same directory wins.
    fs::write(root.join("pyproject.toml"), TOOL).expect("write");
    fs::write(
        root.join(CONFIG_FILE_NAME),
        "[project]\npython-roots = [\".\"]\n",
    )
    .expect("write");
    assert_eq!(
        find_config(root).expect("found"),
        Some(root.join(CONFIG_FILE_NAME))
    );
    fs::remove_file(root.join(CONFIG_FILE_NAME)).expect("remove");

    // A nested pyproject.toml without the table is passed over for the one above it; given
    // with --config, it is an error that says what is missing.
    fs::write(
        root.join("pkg/pyproject.toml"),
        "[project]\nname = \"inner\"\n",
    )
    .expect("write");
    assert_eq!(
        find_config(&root.join("pkg")).expect("found"),
        Some(root.join("pyproject.toml"))
    );
    let missing = crate::support::run(root, &["check", "--config", "pkg/pyproject.toml"]);
    missing.assert_clean_exit(2);
    assert!(
        missing
            .stderr
            .contains("has no `[tool.ssot-gardener]` table"),
        "{}",
        missing.stderr
    );
}

/// `select` and `ignore` in the configuration choose the rules as the flags do, and a flag
/// given on the command line replaces the configured list (issue 16).
#[test]
fn select_and_ignore_in_the_configuration() {
    let codes = |root: &Path, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["check", "--format", "concise", "--no-cache"];
        args.extend_from_slice(extra);
        let out = crate::support::run(root, &args);
        let mut codes: Vec<String> = out
            .stdout_text()
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1).map(str::to_string))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    };
    let config = |project: &str| {
        format!(
            "[project]\npython-roots = [\".\"]\n{project}\n[[concept]]\nname = \"a\"\n\
             canonical = \"pkg.a.A\"\nfactories = [\"make\"]\n"
        )
    };
    let repository = repository_with(Some(&config("")));
    let root = repository.path();
    fs::write(root.join("pkg/c.py"), "from pkg.a import gone\n").expect("write");
    let all = codes(root, &[]);
    assert_eq!(all, ["SSOT004", "SSOT009"], "the repository's findings");
    fs::write(
        root.join(CONFIG_FILE_NAME),
        config("select = [\"SSOT004\"]\n"),
    )
    .expect("write");
    assert_eq!(codes(root, &[]), ["SSOT004"]);
    assert_eq!(codes(root, &["--select", "SSOT009"]), ["SSOT009"]);
    fs::write(
        root.join(CONFIG_FILE_NAME),
        config("ignore = [\"factory-proliferation\"]\n"),
    )
    .expect("write");
    assert_eq!(codes(root, &[]), ["SSOT009"]);
    assert_eq!(codes(root, &["--ignore", "SSOT009"]), ["SSOT004"]);
    // An entry that names no rule is an error at its place in the file.
    fs::write(
        root.join(CONFIG_FILE_NAME),
        config("select = [\"SSOT7\"]\n"),
    )
    .expect("write");
    let bad = crate::support::run(root, &["check"]);
    bad.assert_clean_exit(2);
    assert!(
        bad.stderr.contains("`SSOT7` names no rule") && bad.stderr.contains("ssot.toml:3:"),
        "{}",
        bad.stderr
    );
}
