//! `ssot.toml`: finding, reading and validating the configuration.
//!
//! The file is read in three steps, and only the last one knows what the options mean:
//!
//! 1. the text is parsed into a [`toml::de::DeTable`], which keeps the byte span of every key and
//!    value; a syntax error stops here;
//! 2. serde turns the table into the raw option types (`RawConfig` and friends), which mirror the
//!    file one to one, reject unknown keys and keep spans ([`Spanned`]) where a later check needs one;
//! 3. `lower` checks the raw options and turns them into [`Settings`], the only type the rest of
//!    the crate sees. Every check lives there.
//!
//! Invariant: every [`ConfigError`] about the file's content carries a span, so the rendered message
//! shows the offending line with a caret. Serde's errors are re-worded in `translate_serde_error`
//! with the help of a flat index of the document's keys (`KeyIndex`) and the JSON schema, which is
//! generated from the raw types and is therefore the one list of valid keys and their types.
//!
//! The raw types' doc comments are the user documentation of the keys: they become the descriptions
//! in `ssot.schema.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use schemars::{JsonSchema, Schema};
use serde::Deserialize;
use serde_json::Value as JsonValue;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The name of the configuration file, looked for at the repository root.
pub const CONFIG_FILE_NAME: &str = "ssot.toml";

/// Where Python projects keep their tools' settings: ours are its `[tool.ssot-gardener]`
/// table, holding the tables of an `ssot.toml` (`[tool.ssot-gardener.project]`,
/// `[[tool.ssot-gardener.concept]]`).
pub const PYPROJECT: &str = "pyproject.toml";
const TOOL_TABLE: &str = "ssot-gardener";

/// Method-set overlap used when a concept gives no `similarity`.
const DEFAULT_SIMILARITY: f64 = 0.6;

// ---------------------------------------------------------------------------------------------
// Validated settings: what the rest of the crate uses.
// ---------------------------------------------------------------------------------------------

/// Validated configuration of one repository.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Directory of `ssot.toml`, which is the repository root. Absolute if the configuration path
    /// given was absolute; never canonicalized.
    pub root: PathBuf,
    /// The file the settings were read from; `None` for [`Settings::defaults`].
    pub config_path: Option<PathBuf>,
    /// Directories holding top-level Python packages, relative to `root` and normalized
    /// (`"."` is `""`, `"./src/"` is `"src"`).
    pub python_roots: Vec<PathBuf>,
    /// Directories holding Rust crates, relative to `root` and normalized.
    pub rust_roots: Vec<PathBuf>,
    /// Exclude globs as written in the file.
    pub exclude: Vec<String>,
    /// `exclude`, compiled. Matched against paths relative to `root` with `/` separators; `*`
    /// does not cross a `/`, `**` does.
    pub exclude_set: GlobSet,
    /// Baseline file, relative to `root`.
    pub baseline: Option<PathBuf>,
    /// Per-path rule suppressions in file order: the glob as written, the compiled glob (same
    /// matching as `exclude_set`) and the rule codes it silences.
    pub per_path_ignores: Vec<(String, GlobMatcher, Vec<String>)>,
    /// The concepts, in file order; names are unique.
    pub concepts: Vec<Concept>,
    /// Whether SSOT009 reports an import in a `try` body that can never succeed.
    pub dead_fallbacks: FallbackPolicy,
    /// The rules to run (codes, prefixes, names, `ALL`; empty: every rule) and to leave out;
    /// `--select` and `--ignore` on the command line replace them.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

/// One concept that must have a single source of truth.
#[derive(Debug, Clone)]
pub struct Concept {
    /// Unique, non-empty name, e.g. `websocket-manager`.
    pub name: String,
    /// Dotted Python path (`pkg.module.Class`) or Rust path (`crate::module::Type`) of the one
    /// definition everybody should use.
    pub canonical: String,
    /// Class/struct name globs, as written.
    pub implementations: Vec<String>,
    /// `implementations`, compiled to match names (so `*` matches any character).
    pub implementations_set: GlobSet,
    /// Factory function/class name globs, as written.
    pub factories: Vec<String>,
    /// `factories`, compiled to match names.
    pub factories_set: GlobSet,
    /// Dotted paths of the factories that are allowed to exist.
    pub allowed_factories: Vec<String>,
    /// Method-set overlap with the canonical class that marks an implementation, in `0.0..=1.0`.
    pub similarity: f64,
    /// What to do with test doubles in test files.
    pub tests: TestsPolicy,
    /// Accepted public spellings of the canonical class (dotted paths).
    pub public: Vec<String>,
    /// Whether relative imports of the canonical module are findings.
    pub relative: RelativePolicy,
    /// The class is meant to be constructed anywhere: SSOT008 is off.
    pub constructible: bool,
    /// Test functions, test methods and pytest fixtures may be factories.
    pub test_factories: bool,
    /// Rule codes that do not apply to the concept.
    pub ignore: Vec<String>,
}

/// Whether relative imports of the canonical module are findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum RelativePolicy {
    /// `from .module import Name` of the canonical module is SSOT002.
    Report,
    /// The package's own relative spelling of the canonical module is accepted.
    Allow,
}

impl RelativePolicy {
    pub const ALL: [RelativePolicy; 2] = [RelativePolicy::Report, RelativePolicy::Allow];

    pub fn as_str(self) -> &'static str {
        match self {
            RelativePolicy::Report => "report",
            RelativePolicy::Allow => "allow",
        }
    }
}

impl Concept {
    /// Whether the rule `code` applies to this concept.
    pub fn applies(&self, code: &str) -> bool {
        !self.ignore.iter().any(|ignored| ignored == code)
    }
}

/// What to do with a `try` branch whose import can never succeed (a repository module lacks
/// the name, or the module moved), so that the `except ImportError` fallback always runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum FallbackPolicy {
    /// Report the dead branch (SSOT009).
    Report,
    /// Accept it: the code supports several layouts, and the branch runs in another one.
    Allow,
}

impl FallbackPolicy {
    pub const ALL: [FallbackPolicy; 2] = [FallbackPolicy::Report, FallbackPolicy::Allow];

    pub fn as_str(self) -> &'static str {
        match self {
            FallbackPolicy::Report => "report",
            FallbackPolicy::Allow => "allow",
        }
    }
}

/// What to do with implementations of a concept found in test files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename_all = "lowercase")]
pub enum TestsPolicy {
    /// Report test doubles like any other duplicate implementation.
    Report,
    /// Allow duplicate implementations in test files (test doubles, fakes).
    Allow,
}

impl TestsPolicy {
    /// Every policy, in the order the documentation lists them.
    pub const ALL: [TestsPolicy; 2] = [TestsPolicy::Report, TestsPolicy::Allow];

    /// The spelling in `ssot.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestsPolicy::Report => "report",
            TestsPolicy::Allow => "allow",
        }
    }
}

impl Settings {
    /// Settings for a repository without `ssot.toml`: Python packages at the root, no concepts.
    pub fn defaults(root: PathBuf) -> Settings {
        Settings {
            root,
            config_path: None,
            python_roots: vec![PathBuf::new()],
            rust_roots: Vec::new(),
            exclude: Vec::new(),
            exclude_set: GlobSet::empty(),
            baseline: None,
            per_path_ignores: Vec::new(),
            concepts: Vec::new(),
            dead_fallbacks: FallbackPolicy::Report,
            select: Vec::new(),
            ignore: Vec::new(),
        }
    }

    /// Whether `relative` (a path relative to [`Settings::root`]) matches an `exclude` glob.
    pub fn is_excluded(&self, relative: &Path) -> bool {
        self.exclude_set.is_match(slash_path(relative))
    }

    /// Whether `per-path-ignores` silences rule `code` (e.g. `SSOT001`) in `relative`, a path
    /// relative to [`Settings::root`].
    pub fn is_ignored(&self, relative: &Path, code: &str) -> bool {
        let path = slash_path(relative);
        self.per_path_ignores
            .iter()
            .any(|(_, glob, codes)| codes.iter().any(|c| c == code) && glob.is_match(&path))
    }
}

/// `relative` with `/` separators, the form globs are matched against on every platform.
fn slash_path(relative: &Path) -> String {
    let mut out = String::new();
    for component in relative.components() {
        if let Component::Normal(part) = component {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&part.to_string_lossy());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Raw options: the file as written. Doc comments here are the user documentation.
// ---------------------------------------------------------------------------------------------

/// Configuration of ssot-gardener, read from `ssot.toml` at the repository root. Relative paths
/// are relative to the directory of this file.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(rename = "ssot.toml")]
struct RawConfig {
    /// Where the code lives and which files to leave alone.
    #[serde(default)]
    project: RawProject,
    /// A concept that must have a single source of truth, one `[[concept]]` table each: its
    /// canonical definition and the name patterns of competing implementations and factories.
    #[serde(default)]
    concept: Vec<RawConcept>,
}

/// Where the code lives and which files to leave alone.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(rename = "Project")]
struct RawProject {
    /// Directories holding top-level Python packages, e.g. `["src"]` for a src layout. Each must
    /// be a directory under the repository root.
    #[schemars(with = "Option<Vec<String>>", extend("default" = ["."]))]
    python_roots: Option<Vec<Spanned<String>>>,
    /// Directories holding Rust crates. Each must be a directory under the repository root.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    rust_roots: Vec<Spanned<String>>,
    /// Globs of paths to skip, on top of `.gitignore` (which is always honoured). Matched against
    /// paths relative to the repository root with `/` separators: `*` stays within one
    /// directory, `**` crosses directories, e.g. `"**/node_modules/**"`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    exclude: Vec<Spanned<String>>,
    /// File recording accepted findings, e.g. `"ssot-baseline.json"`; findings in it are not
    /// reported.
    #[schemars(with = "Option<String>")]
    baseline: Option<Spanned<String>>,
    /// Rules to silence per path: a table from a glob (matched like `exclude`) to the rule codes
    /// it silences, e.g. `"tests/**" = ["SSOT001"]`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<RuleCode>>")]
    per_path_ignores: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    /// Whether an import in a `try` body that can never succeed is a finding (SSOT009): a
    /// repository module lacks the name, or the module has moved elsewhere in the repository,
    /// so the `except ImportError` fallback always runs. `"report"` it (the default) or
    /// `"allow"` it, for code that supports several layouts of a package and imports each in
    /// turn.
    #[schemars(with = "Option<FallbackPolicy>", extend("default" = "report"))]
    dead_fallbacks: Option<Spanned<String>>,
    /// The rules to run: codes (`SSOT002`), code prefixes (`SSOT00`), names
    /// (`indirect-import`) or `ALL`; the default is every rule. `--select` on the command line
    /// replaces it.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    select: Vec<Spanned<String>>,
    /// The rules to leave out, written as in `select`. `--ignore` on the command line replaces
    /// it.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    ignore: Vec<Spanned<String>>,
}

/// A rule code: `SSOT` and three digits, e.g. `SSOT001`.
#[derive(JsonSchema)]
#[allow(dead_code, reason = "only its schema is used")]
struct RuleCode(#[schemars(regex(pattern = r"^SSOT\d{3}$"))] String);

/// A concept that must have a single source of truth.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(rename = "Concept")]
struct RawConcept {
    /// Unique name of the concept, used in messages, e.g. `"websocket-manager"`.
    #[schemars(with = "String")]
    name: Spanned<String>,
    /// The one definition everybody should use: a dotted Python path
    /// (`"pkg.websocket_core.websocket_manager.WebSocketManager"`) or a Rust path
    /// (`"crate::websocket::Manager"`).
    #[schemars(with = "String")]
    canonical: Spanned<String>,
    /// Globs of class/struct names that implement the concept again, e.g.
    /// `["*WebSocketManager"]`. They match names, not paths.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    implementations: Vec<Spanned<String>>,
    /// Globs of factory function/class names that build the concept, e.g.
    /// `["create_*websocket_manager*"]`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    factories: Vec<Spanned<String>>,
    /// Dotted paths of the factories that may exist, e.g.
    /// `["pkg.websocket_core.websocket_manager.get_websocket_manager"]`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    allowed_factories: Vec<Spanned<String>>,
    /// How alike a class's public methods must be to the canonical class's to count as an
    /// implementation: the Jaccard index of the two sets of public method names (shared
    /// names over all names), from 0.0 to 1.0; at least two names must be shared.
    #[schemars(with = "Option<f64>", range(min = 0.0, max = 1.0), extend("default" = DEFAULT_SIMILARITY))]
    similarity: Option<Spanned<f64>>,
    /// What to do with implementations in test files: `"report"` them (the default) or `"allow"`
    /// them as test doubles.
    #[schemars(with = "Option<TestsPolicy>", extend("default" = "report"))]
    tests: Option<Spanned<String>>,
    /// Public spellings accepted besides the canonical path: dotted paths of re-exports that
    /// are the project's public API, e.g. `["sqlalchemy.orm.Session"]` when `canonical` is the
    /// defining module's `sqlalchemy.orm.session.Session`. Imports through them are not
    /// findings and their modules are not compat shims. Each must name the canonical class.
    /// For a Rust concept they are Rust paths, e.g. `["net::Manager"]` for a crate-root
    /// `pub use` of `net::conn::manager::Manager`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    public: Vec<Spanned<String>>,
    /// Whether relative imports of the canonical module (`from .session import Session` inside
    /// the package) are findings: `"report"` (the default) or `"allow"` them as the package's
    /// own spelling.
    #[schemars(with = "Option<RelativePolicy>", extend("default" = "report"))]
    relative: Option<Spanned<String>>,
    /// Whether the class is meant to be constructed wherever it is used (a value type such as a
    /// database session: `true`), or only by its one accessor (a per-process manager: `false`,
    /// the default). `true` turns SSOT008 direct-instantiation off for the concept.
    #[serde(default)]
    #[schemars(with = "bool", extend("default" = false))]
    constructible: bool,
    /// Whether test functions (`test_*` in test files), methods of `Test*` classes and pytest
    /// fixtures whose names match `factories` are factories (`true`), or not (`false`, the
    /// default: they build the concept for one test).
    #[serde(default)]
    #[schemars(with = "bool", extend("default" = false))]
    test_factories: bool,
    /// Rules that do not apply to this concept, e.g. `["SSOT004"]`.
    #[serde(default)]
    #[schemars(with = "Vec<RuleCode>")]
    ignore: Vec<Spanned<String>>,
}

/// The JSON schema of `ssot.toml` as pretty JSON with a trailing newline, generated from the raw
/// option types; committed as `ssot.schema.json`.
pub fn json_schema() -> String {
    let mut text =
        serde_json::to_string_pretty(&schema_value()).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// The schema as a JSON value, for [`json_schema`] and for wording errors.
fn schema_value() -> JsonValue {
    // Draft 7 is the newest draft that TOML editors' schema support reliably understands.
    let generator = schemars::generate::SchemaSettings::draft07()
        .with_transform(drop_null as fn(&mut Schema))
        .into_generator();
    generator.into_root_schema_for::<RawConfig>().to_value()
}

/// Removes `null` from the schema of every optional key: TOML has no null, a key is left out
/// instead. `{"type": ["string", "null"]}` becomes `{"type": "string"}`, and
/// `{"anyOf": [{"$ref": ..}, {"type": "null"}]}` becomes `{"allOf": [{"$ref": ..}]}`.
fn drop_null(schema: &mut Schema) {
    let null = JsonValue::from("null");
    if let Some(JsonValue::Array(types)) = schema.get_mut("type") {
        types.retain(|kind| kind != &null);
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".to_owned(), only);
        }
    }
    if let Some(JsonValue::Array(alternatives)) = schema.get_mut("anyOf") {
        alternatives.retain(|alternative| alternative.get("type") != Some(&null));
        if alternatives.len() == 1
            && let Some(alternatives) = schema.remove("anyOf")
        {
            schema.insert("allOf".to_owned(), alternatives);
        }
    }
    schemars::transform::transform_subschemas(&mut drop_null, schema);
}

// ---------------------------------------------------------------------------------------------
// Entry points.
// ---------------------------------------------------------------------------------------------

/// Walks up from `start` (a file or a directory) to the first directory with a configuration
/// and returns its path: an `ssot.toml`, else a `pyproject.toml` with a `[tool.ssot-gardener]`
/// table (one without it is passed over, as ruff does). A relative `start` is made absolute
/// first, so the walk can go above the working directory. The first `ssot.toml` found ends the
/// walk: one that is not a regular file (a directory, a FIFO, a device, a dangling link) is an
/// error, never skipped for one further up or for no configuration at all.
pub fn find_config(start: &Path) -> Result<Option<PathBuf>, String> {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let first = if start.is_file() {
        match start.parent() {
            Some(parent) => parent,
            None => return Ok(None),
        }
    } else {
        start.as_path()
    };
    for directory in first.ancestors() {
        let candidate = directory.join(CONFIG_FILE_NAME);
        if std::fs::symlink_metadata(&candidate).is_ok() {
            regular_file(&candidate)?;
            return Ok(Some(candidate));
        }
        let pyproject = directory.join(PYPROJECT);
        if regular_file(&pyproject).is_ok() && has_tool_table(&pyproject) {
            return Ok(Some(pyproject));
        }
    }
    Ok(None)
}

/// Whether the `pyproject.toml` at `path` has a `[tool.ssot-gardener]` table (one that does
/// not parse has none: the walk goes on, as for a project that does not use the tool).
fn has_tool_table(path: &Path) -> bool {
    use std::io::Read;
    let mut text = String::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(CONFIG_LIMIT).read_to_string(&mut text));
    read.is_ok()
        && DeTable::parse(&text).is_ok_and(|document| tool_table(document.get_ref()).is_some())
}

/// The `[tool.ssot-gardener]` table of a parsed `pyproject.toml`, with its span.
fn tool_table<'a, 'd>(document: &'a DeTable<'d>) -> Option<&'a Spanned<DeValue<'d>>> {
    let tool = document.get("tool")?;
    let DeValue::Table(tool) = tool.get_ref() else {
        return None;
    };
    let ours = tool.get(TOOL_TABLE)?;
    matches!(ours.get_ref(), DeValue::Table(_)).then_some(ours)
}

/// Whether `path` is named `pyproject.toml`: its settings are its `[tool.ssot-gardener]`.
fn is_pyproject(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == PYPROJECT)
}

/// The largest `ssot.toml` read: a configuration is a few kilobytes.
const CONFIG_LIMIT: u64 = 16 << 20;

/// `Ok` when `path` (links followed) is a regular file; else what it is instead, as an error.
pub fn regular_file(path: &Path) -> Result<(), String> {
    let kind = match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => return Ok(()),
        Ok(metadata) if metadata.is_dir() => "a directory".to_string(),
        Ok(_) => "not a regular file (a FIFO, a socket or a device)".to_string(),
        Err(error) if std::fs::symlink_metadata(path).is_ok() => {
            format!("a symbolic link that leads nowhere ({error})")
        }
        Err(error) => format!("unreadable ({error})"),
    };
    Err(format!(
        "error: the configuration `{}` is {kind}; make it a TOML file or remove it",
        path.display()
    ))
}

/// Reads, parses and validates `path`. Relative paths in the file are relative to the file's
/// directory, which is the repository root.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    load_in(path, None)
}

/// [`load`], with the repository root given (`--config FILE`: the working directory, as in
/// ruff) instead of the file's directory; `None` is the file's directory.
pub fn load_in(path: &Path, root: Option<&Path>) -> Result<Settings, ConfigError> {
    let unreadable =
        |message: String| ConfigError::new(path, "", vec![Diagnostic::without_span(message)]);
    // A directory, a FIFO or a device: said as such, and a FIFO never opened (it would block).
    if std::fs::metadata(path).is_ok_and(|metadata| !metadata.is_file())
        && let Err(message) = regular_file(path)
    {
        return Err(unreadable(
            message.trim_start_matches("error: ").to_string(),
        ));
    }
    let read = std::fs::File::open(path).and_then(|file| {
        use std::io::Read;
        let mut text = String::new();
        file.take(CONFIG_LIMIT + 1).read_to_string(&mut text)?;
        Ok(text)
    });
    match read {
        Ok(text) if text.len() as u64 > CONFIG_LIMIT => Err(unreadable(format!(
            "{} is larger than {} MiB: not a configuration",
            path.display(),
            CONFIG_LIMIT >> 20
        ))),
        Ok(text) => parse_in(path, &text, root),
        Err(error) => Err(ConfigError::new(
            path,
            "",
            vec![Diagnostic::without_span(format!(
                "cannot read {}: {error}",
                path.display()
            ))],
        )),
    }
}

/// Parses and validates `text`, the content of `path`. `path` is shown in messages and anchors the
/// repository root: `root = path.parent()`.
pub fn parse(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    parse_in(path, text, None)
}

/// [`parse`] with the root given (see [`load_in`]).
fn parse_in(path: &Path, text: &str, root: Option<&Path>) -> Result<Settings, ConfigError> {
    let fail = |diagnostics| ConfigError::new(path, text, diagnostics);
    let mut document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => return Err(fail(vec![syntax_diagnostic(text, &error)])),
    };
    // In a pyproject.toml only `[tool.ssot-gardener]` is ours (its `[project]` is PEP 621's):
    // that table is read as an ssot.toml, its spans still those of the whole file.
    if is_pyproject(path) {
        let Some(table) = tool_table(document.get_ref()) else {
            return Err(fail(vec![Diagnostic::without_span(format!(
                "{} has no `[tool.{TOOL_TABLE}]` table: put the tables of an ssot.toml \
                 under it (`[tool.{TOOL_TABLE}.project]`, `[[tool.{TOOL_TABLE}.concept]]`)",
                path.display()
            ))]));
        };
        let span = table.span();
        let DeValue::Table(table) = table.get_ref().clone() else {
            unreachable!("tool_table gives a table");
        };
        document = Spanned::new(span, table);
    }
    let index = KeyIndex::new(document.get_ref());
    let raw = match RawConfig::deserialize(toml::de::Deserializer::from(document)) {
        Ok(raw) => raw,
        Err(error) => return Err(fail(vec![translate_serde_error(&index, &error)])),
    };
    let root = match root {
        Some(root) => root.to_path_buf(),
        None => path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    lower(raw, root, path).map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// Lowering: every check of the options' meaning, in one place.
// ---------------------------------------------------------------------------------------------

/// Checks `raw` and turns it into [`Settings`], or returns every problem found, in file order.
fn lower(raw: RawConfig, root: PathBuf, config_path: &Path) -> Result<Settings, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let project = raw.project;

    let python_roots = match &project.python_roots {
        Some(roots) => roots
            .iter()
            .filter_map(|value| root_directory(&root, "python root", value, &mut problems))
            .collect(),
        None => vec![PathBuf::new()],
    };
    let rust_roots = project
        .rust_roots
        .iter()
        .filter_map(|value| root_directory(&root, "rust root", value, &mut problems))
        .collect();
    let exclude_set = glob_set(&project.exclude, "exclude", true, &mut problems);
    let baseline = project
        .baseline
        .as_ref()
        .and_then(|value| relative_path(value, "baseline", &mut problems));

    let mut per_path_ignores: Vec<_> = project.per_path_ignores.into_iter().collect();
    per_path_ignores.sort_by_key(|(glob, _)| glob.span().start);
    let per_path_ignores = per_path_ignores
        .into_iter()
        .filter_map(|(glob, codes)| {
            let matcher = compile_glob(&glob, "per-path-ignores", true, &mut problems)?;
            let codes = codes
                .into_iter()
                .filter(|code| {
                    let problem = rule_code_problem(code.get_ref());
                    if let Some((message, label)) = &problem {
                        problems.push(Diagnostic::new(message.clone(), code.span(), *label));
                    }
                    problem.is_none()
                })
                .map(Spanned::into_inner)
                .collect();
            Some((glob.into_inner(), matcher.compile_matcher(), codes))
        })
        .collect();

    let mut selection = |entries: Vec<Spanned<String>>| -> Vec<String> {
        entries
            .into_iter()
            .filter(|entry| {
                let valid = crate::rules::Selection {
                    select: vec![entry.get_ref().clone()],
                    ignore: Vec::new(),
                }
                .validate()
                .is_ok();
                if !valid {
                    problems.push(Diagnostic::new(
                        format!("`{}` names no rule", entry.get_ref()),
                        entry.span(),
                        "a rule code (`SSOT002`), a prefix (`SSOT00`), a name (`indirect-import`) or `ALL`",
                    ));
                }
                valid
            })
            .map(Spanned::into_inner)
            .collect()
    };
    let select = selection(project.select);
    let ignore = selection(project.ignore);
    let dead_fallbacks = policy(
        project.dead_fallbacks.as_ref(),
        "dead-fallbacks",
        &FallbackPolicy::ALL,
        FallbackPolicy::as_str,
        &mut problems,
    );

    let mut first_names: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut concepts = Vec::new();
    for concept in raw.concept {
        if concept.name.get_ref().trim().is_empty() {
            problems.push(Diagnostic::new(
                "`name` is empty",
                concept.name.span(),
                "name the concept, e.g. `websocket-manager`",
            ));
        } else if let Some(first) = first_names.get(concept.name.get_ref()) {
            problems.push(
                Diagnostic::new(
                    format!("duplicate concept name `{}`", concept.name.get_ref()),
                    concept.name.span(),
                    "defined again here",
                )
                .with_context(first.clone(), "first defined here"),
            );
        } else {
            first_names.insert(concept.name.get_ref().clone(), concept.name.span());
        }
        if let Some(concept) = lower_concept(concept, &mut problems) {
            concepts.push(concept);
        }
    }

    if !problems.is_empty() {
        problems.sort_by_key(|problem| problem.span.as_ref().map(|span| span.start));
        return Err(problems);
    }
    Ok(Settings {
        root,
        config_path: Some(config_path.to_path_buf()),
        python_roots,
        rust_roots,
        exclude: project
            .exclude
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        exclude_set,
        baseline,
        per_path_ignores,
        concepts,
        dead_fallbacks,
        select,
        ignore,
    })
}

/// Checks one `[[concept]]`; pushes its problems and returns `None` if there are any.
fn lower_concept(raw: RawConcept, problems: &mut Vec<Diagnostic>) -> Option<Concept> {
    let before = problems.len();
    let canonical = raw.canonical.get_ref();
    if canonical.trim().is_empty() {
        problems.push(Diagnostic::new(
            "`canonical` is empty",
            raw.canonical.span(),
            PATH_SHAPE,
        ));
    } else if !is_code_path(canonical) {
        problems.push(Diagnostic::new(
            format!("`canonical` is not a code path: `{canonical}`"),
            raw.canonical.span(),
            PATH_SHAPE,
        ));
    }
    for factory in &raw.allowed_factories {
        if !is_code_path(factory.get_ref()) {
            problems.push(Diagnostic::new(
                format!(
                    "`allowed-factories` entry is not a code path: `{}`",
                    factory.get_ref()
                ),
                factory.span(),
                PATH_SHAPE,
            ));
        }
    }
    let implementations_set = glob_set(&raw.implementations, "implementations", false, problems);
    let factories_set = glob_set(&raw.factories, "factories", false, problems);
    let similarity = match &raw.similarity {
        Some(value) if !(0.0..=1.0).contains(value.get_ref()) => {
            problems.push(Diagnostic::new(
                "`similarity` must be between 0.0 and 1.0",
                value.span(),
                format!("found {}", value.get_ref()),
            ));
            DEFAULT_SIMILARITY
        }
        Some(value) => *value.get_ref(),
        None => DEFAULT_SIMILARITY,
    };
    let tests = policy(
        raw.tests.as_ref(),
        "tests",
        &TestsPolicy::ALL,
        TestsPolicy::as_str,
        problems,
    );
    let relative = policy(
        raw.relative.as_ref(),
        "relative",
        &RelativePolicy::ALL,
        RelativePolicy::as_str,
        problems,
    );
    // A `public` path is written in the canonical path's language.
    let rust = raw.canonical.get_ref().contains("::");
    for path in &raw.public {
        let value = path.get_ref();
        if !is_code_path(value) || value.contains("::") != rust {
            let message = if rust {
                format!("`public` entry is not a Rust path like the canonical one: `{value}`")
            } else {
                format!("`public` entry is not a dotted path like the canonical one: `{value}`")
            };
            problems.push(Diagnostic::new(message, path.span(), PATH_SHAPE));
        }
    }
    for code in &raw.ignore {
        if let Some((message, label)) = rule_code_problem(code.get_ref()) {
            problems.push(Diagnostic::new(
                format!("`ignore` entry: {message}"),
                code.span(),
                label,
            ));
        }
    }
    if problems.len() > before {
        return None;
    }
    let strings = |values: Vec<Spanned<String>>| -> Vec<String> {
        values.into_iter().map(Spanned::into_inner).collect()
    };
    Some(Concept {
        name: raw.name.into_inner(),
        canonical: raw.canonical.into_inner(),
        implementations: strings(raw.implementations),
        implementations_set,
        factories: strings(raw.factories),
        factories_set,
        allowed_factories: strings(raw.allowed_factories),
        similarity,
        tests,
        public: strings(raw.public),
        relative,
        constructible: raw.constructible,
        test_factories: raw.test_factories,
        ignore: strings(raw.ignore),
    })
}

/// One of a key's spelled values (the first, the default, when the key is absent or wrong).
fn policy<P: Copy>(
    value: Option<&Spanned<String>>,
    key: &str,
    all: &[P],
    as_str: fn(P) -> &'static str,
    problems: &mut Vec<Diagnostic>,
) -> P {
    let Some(value) = value else { return all[0] };
    if let Some(&found) = all.iter().find(|&&p| as_str(p) == value.get_ref()) {
        return found;
    }
    let allowed: Vec<String> = all.iter().map(|&p| as_str(p).to_owned()).collect();
    problems.push(Diagnostic::new(
        format!("unknown `{key}` value `{}`", value.get_ref()),
        value.span(),
        did_you_mean(value.get_ref(), &allowed),
    ));
    all[0]
}

/// Label for a malformed `canonical` or `allowed-factories` entry.
const PATH_SHAPE: &str = "expected a dotted Python path like `pkg.module.Class` or a Rust path like `crate::module::Type`";

/// Whether `text` looks like `pkg.module.Class` or `crate::module::Type`: identifiers joined by
/// one kind of separator. It says nothing about whether the definition exists.
fn is_code_path(text: &str) -> bool {
    let separator = if text.contains("::") { "::" } else { "." };
    text.split(separator).all(|segment| {
        let mut chars = segment.chars();
        chars
            .next()
            .is_some_and(|first| first == '_' || first.is_alphabetic())
            && chars.all(|c| c == '_' || c.is_alphanumeric())
    })
}

/// What is wrong with `code` as the code of a rule (`SSOT001`): not the shape of one, or no
/// rule has it (`SSOT999`). `None` when a rule has it.
fn rule_code_problem(code: &str) -> Option<(String, &'static str)> {
    let shaped = code
        .strip_prefix("SSOT")
        .is_some_and(|digits| digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        Some((
            format!("invalid rule code `{code}`"),
            "expected `SSOT` and three digits, e.g. `SSOT001`",
        ))
    } else if !crate::rules::Rule::ALL
        .iter()
        .any(|rule| rule.code() == code)
    {
        Some((
            format!("unknown rule code `{code}`"),
            "no rule has this code (`ssot-gardener explain` lists them)",
        ))
    } else {
        None
    }
}

/// `value` as a normalized path relative to the root (`"./src/"` is `"src"`, `"."` is `""`), or
/// a problem if it is absolute or climbs out with `..`.
fn relative_path(
    value: &Spanned<String>,
    what: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<PathBuf> {
    let mut normalized = PathBuf::new();
    for component in Path::new(value.get_ref()).components() {
        match component {
            Component::CurDir => {}
            Component::Normal(part) => normalized.push(part),
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                problems.push(Diagnostic::new(
                    format!(
                        "{what} `{}` is outside the repository root",
                        value.get_ref()
                    ),
                    value.span(),
                    "paths are relative to the repository root: the directory of this file, or the working directory with --config",
                ));
                return None;
            }
        }
    }
    Some(normalized)
}

/// `value` as a normalized relative path that names an existing directory under `root`.
fn root_directory(
    root: &Path,
    what: &str,
    value: &Spanned<String>,
    problems: &mut Vec<Diagnostic>,
) -> Option<PathBuf> {
    let relative = relative_path(value, what, problems)?;
    // `Path::new("").is_dir()` is false, so an empty root (a bare `ssot.toml`) means ".".
    let base = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    if base.join(&relative).is_dir() {
        Some(relative)
    } else {
        problems.push(Diagnostic::new(
            format!("{what} `{}` is not a directory", value.get_ref()),
            value.span(),
            "paths are relative to the repository root: the directory of this file, or the working directory with --config",
        ));
        None
    }
}

/// Compiles one glob; `literal_separator` keeps `*` from matching `/` (paths) or not (names).
fn compile_glob(
    value: &Spanned<String>,
    key: &str,
    literal_separator: bool,
    problems: &mut Vec<Diagnostic>,
) -> Option<Glob> {
    match GlobBuilder::new(value.get_ref())
        .literal_separator(literal_separator)
        .build()
    {
        Ok(glob) => Some(glob),
        Err(error) => {
            problems.push(Diagnostic::new(
                format!("invalid glob `{}` in `{key}`", value.get_ref()),
                value.span(),
                error.kind().to_string(),
            ));
            None
        }
    }
}

/// Compiles `values` into one set; bad globs become problems and are left out.
fn glob_set(
    values: &[Spanned<String>],
    key: &str,
    literal_separator: bool,
    problems: &mut Vec<Diagnostic>,
) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for value in values {
        if let Some(glob) = compile_glob(value, key, literal_separator, problems) {
            builder.add(glob);
        }
    }
    // Every glob compiled on its own, and a set of compiled globs always builds.
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

// ---------------------------------------------------------------------------------------------
// Wording parse and serde errors.
// ---------------------------------------------------------------------------------------------

/// A syntax error from the TOML parser, e.g. "invalid TOML: unclosed table, expected `]`".
fn syntax_diagnostic(text: &str, error: &toml::de::Error) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    let message = match error.message() {
        "duplicate key" => match text.get(span.clone()) {
            Some(key) => format!("duplicate key `{key}`"),
            None => "duplicate key".to_owned(),
        },
        other => format!("invalid TOML: {other}"),
    };
    Diagnostic::new(message, span, "")
}

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A key (or array element) of the document with its spans.
#[derive(Debug)]
struct IndexEntry {
    /// Path from the document root, e.g. `concept`, `0`, `similarity`.
    path: Vec<Segment>,
    /// Span of the key; `None` for array elements.
    key_span: Option<Range<usize>>,
    /// Span of the value; for `[table]` and `[[table]]` it is the header.
    value_span: Range<usize>,
    /// TOML type of the value, e.g. `string`.
    kind: &'static str,
}

/// Every key and array element of a document, flat, so that a serde error's span can be mapped
/// back to the key it is about.
struct KeyIndex {
    entries: Vec<IndexEntry>,
}

impl KeyIndex {
    fn new(document: &DeTable<'_>) -> KeyIndex {
        let mut index = KeyIndex {
            entries: Vec::new(),
        };
        index.add_table(document, &mut Vec::new());
        index
    }

    fn add_table(&mut self, table: &DeTable<'_>, path: &mut Vec<Segment>) {
        for (key, value) in table {
            path.push(Segment::Key(key.get_ref().to_string()));
            self.add_value(Some(key.span()), value, path);
            path.pop();
        }
    }

    fn add_value(
        &mut self,
        key_span: Option<Range<usize>>,
        value: &Spanned<DeValue<'_>>,
        path: &mut Vec<Segment>,
    ) {
        self.entries.push(IndexEntry {
            path: path.clone(),
            key_span,
            value_span: value.span(),
            kind: value.get_ref().type_str(),
        });
        match value.get_ref() {
            DeValue::Table(table) => self.add_table(table, path),
            DeValue::Array(array) => {
                for (position, item) in array.iter().enumerate() {
                    path.push(Segment::Index(position));
                    self.add_value(None, item, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    fn by_key_span(&self, span: &Range<usize>) -> Option<&IndexEntry> {
        self.entries
            .iter()
            .find(|entry| entry.key_span.as_ref() == Some(span))
    }

    /// The innermost entry whose value has this span: the first `[[concept]]` header is the
    /// span of both the `concept` array and its first table, and errors are about the table.
    fn by_value_span(&self, span: &Range<usize>) -> Option<&IndexEntry> {
        self.entries
            .iter()
            .filter(|entry| &entry.value_span == span)
            .max_by_key(|entry| entry.path.len())
    }
}

/// Re-words a serde error in the user's terms, pointing at the key or value it is about.
fn translate_serde_error(index: &KeyIndex, error: &toml::de::Error) -> Diagnostic {
    let span = error.span().unwrap_or(0..0);
    let message = error.message();
    if let Some(key) = between_backticks(message, "unknown field `")
        && let Some(entry) = index.by_key_span(&span)
    {
        return unknown_key(entry, key);
    }
    if let Some(key) = between_backticks(message, "missing field `") {
        let table = index
            .by_value_span(&span)
            .map_or_else(String::new, |entry| {
                format!(" in {}", table_name(&entry.path))
            });
        return Diagnostic::new(
            format!("missing key `{key}`{table}"),
            span,
            format!("this table needs `{key}`"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some(entry) = index.by_value_span(&span)
    {
        // serde says e.g. "string \"high\", expected f64"; the schema says it in TOML's terms.
        let serde_expected = rest.rsplit_once(", expected ").map(|(_, e)| e.to_owned());
        let expected = expected_type(&schema_value(), &entry.path).or(serde_expected);
        let found = with_article(entry.kind);
        let label = match expected {
            Some(expected) => format!("expected {expected}, found {found}"),
            None => format!("found {found}"),
        };
        return Diagnostic::new(
            format!("wrong type for {}", value_name(&entry.path)),
            span,
            label,
        );
    }
    Diagnostic::new(message.to_owned(), span, "")
}

/// The text between `prefix` and the next backtick, e.g. the key of "unknown field `x`, ...".
fn between_backticks<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(inside, _)| inside)
}

/// "unknown key `python-root` in [project]" with the nearest valid key, or the valid keys.
fn unknown_key(entry: &IndexEntry, key: &str) -> Diagnostic {
    let parent = &entry.path[..entry.path.len() - 1];
    let valid = schema_keys(&schema_value(), parent);
    let message = if !parent.is_empty() {
        format!("unknown key `{key}` in {}", table_name(parent))
    } else if entry.kind == "table" {
        format!("unknown table `[{key}]`")
    } else {
        format!("unknown key `{key}`")
    };
    let span = entry.key_span.clone().unwrap_or(entry.value_span.clone());
    Diagnostic::new(message, span, did_you_mean(key, &valid))
}

/// "did you mean `python-roots`?" when a valid word is close to `typo`, else the valid words.
fn did_you_mean(typo: &str, valid: &[String]) -> String {
    match nearest(typo, valid) {
        Some(near) => format!("did you mean `{near}`?"),
        None if valid.is_empty() => "nothing is allowed here".to_owned(),
        None => {
            let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
            format!("expected {}", one_of(&valid))
        }
    }
}

/// The valid key closest to `typo`, if any is close enough to be a likely typo.
fn nearest<'k>(typo: &str, valid: &'k [String]) -> Option<&'k str> {
    // Jaro-Winkler favours a shared start, which is how keys get mistyped ("python-root"); 0.8
    // keeps unrelated words ("foo" against "exclude") out.
    const THRESHOLD: f64 = 0.8;
    valid
        .iter()
        .map(|candidate| (strsim::jaro_winkler(typo, candidate), candidate))
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.as_str())
}

/// "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
fn one_of(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [first, second] => format!("{first} or {second}"),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

/// How a table is written in the file: `[project]`, `[[concept]]`, `[project.per-path-ignores]`.
fn table_name(path: &[Segment]) -> String {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    if keys.is_empty() {
        "the top level".to_owned()
    } else if matches!(path.last(), Some(Segment::Index(_))) {
        format!("[[{}]]", keys.join("."))
    } else {
        format!("[{}]", keys.join("."))
    }
}

/// How a value is named in a message: "`similarity`", or "an item of `exclude`".
fn value_name(path: &[Segment]) -> String {
    match path {
        [.., Segment::Key(key)] => format!("`{key}`"),
        [.., Segment::Key(key), Segment::Index(_)] => format!("an item of `{key}`"),
        _ => "a value".to_owned(),
    }
}

/// A TOML type name with its article: "a string", "an array".
fn with_article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// Follows `$ref` and single-element `allOf` wrappers to the schema that says something.
fn resolve<'s>(root: &'s JsonValue, mut schema: &'s JsonValue) -> &'s JsonValue {
    loop {
        if let Some(reference) = schema.get("$ref").and_then(JsonValue::as_str)
            && let Some(target) = reference.strip_prefix('#').and_then(|p| root.pointer(p))
        {
            schema = target;
        } else if let Some([only]) = schema
            .get("allOf")
            .and_then(JsonValue::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
        } else {
            return schema;
        }
    }
}

/// The schema of the value at `path`, or `None` where the schema does not describe it.
fn schema_at<'s>(root: &'s JsonValue, path: &[Segment]) -> Option<&'s JsonValue> {
    let mut schema = resolve(root, root);
    for segment in path {
        let child = match segment {
            Segment::Key(key) => schema
                .get("properties")
                .and_then(|properties| properties.get(key))
                .or_else(|| schema.get("additionalProperties").filter(|s| s.is_object()))?,
            Segment::Index(_) => schema.get("items")?,
        };
        schema = resolve(root, child);
    }
    Some(schema)
}

/// The keys allowed in the table at `path`, in schema order.
fn schema_keys(root: &JsonValue, path: &[Segment]) -> Vec<String> {
    schema_at(root, path)
        .and_then(|schema| schema.get("properties"))
        .and_then(JsonValue::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// The type the schema expects at `path`, in TOML's words: "a number", "an array of strings".
fn expected_type(root: &JsonValue, path: &[Segment]) -> Option<String> {
    let schema = schema_at(root, path)?;
    let kind = schema.get("type").and_then(JsonValue::as_str).or_else(|| {
        // An enum of documented strings is a `oneOf` of `{"type": "string", "const": ...}`.
        schema
            .get("oneOf")?
            .get(0)?
            .get("type")
            .and_then(JsonValue::as_str)
    })?;
    Some(match kind {
        "string" => "a string".to_owned(),
        "number" => "a number".to_owned(),
        "integer" => "an integer".to_owned(),
        "boolean" => "a boolean".to_owned(),
        "object" => "a table".to_owned(),
        "array" => {
            let mut item_path = path.to_vec();
            item_path.push(Segment::Index(0));
            match expected_type(root, &item_path).as_deref() {
                Some("a table") => {
                    let name = match path.last() {
                        Some(Segment::Key(key)) => format!(" (`[[{key}]]`)"),
                        _ => String::new(),
                    };
                    format!("an array of tables{name}")
                }
                Some(item) => format!("an array of {}s", item.split_once(' ')?.1),
                None => "an array".to_owned(),
            }
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------------

/// One problem in the configuration: a message, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigDiagnostic {
    /// Short, lower-case, no trailing period, e.g. ``unknown key `x` in [project]``.
    pub message: String,
    /// Byte range in the file; `None` only when the file could not be read.
    pub span: Option<Range<usize>>,
    /// Text under the caret, e.g. "did you mean `python-roots`?".
    pub label: Option<String>,
    /// Other places worth showing, e.g. the first definition of a duplicate name.
    pub context: Vec<(Range<usize>, String)>,
}

type Diagnostic = ConfigDiagnostic;

impl ConfigDiagnostic {
    fn new(message: impl Into<String>, span: Range<usize>, label: impl Into<String>) -> Self {
        let label = label.into();
        ConfigDiagnostic {
            message: message.into(),
            span: Some(span),
            label: (!label.is_empty()).then_some(label),
            context: Vec::new(),
        }
    }

    fn without_span(message: String) -> Self {
        ConfigDiagnostic {
            message,
            span: None,
            label: None,
            context: Vec::new(),
        }
    }

    fn with_context(mut self, span: Range<usize>, label: &str) -> Self {
        self.context.push((span, label.to_owned()));
        self
    }
}

/// Why `ssot.toml` could not be turned into [`Settings`]. Displays as the full rendered message,
/// one snippet with a caret per problem.
#[derive(Debug, Clone)]
pub struct ConfigError {
    path: PathBuf,
    diagnostics: Vec<ConfigDiagnostic>,
    rendered: String,
}

impl ConfigError {
    /// An error about `source`, the text of the configuration file at `path`, at `span`; for
    /// checks made after loading, such as a `canonical` that names no definition (see
    /// [`concept_value_span`] to find the span).
    pub fn at(
        path: &Path,
        source: &str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> ConfigError {
        let diagnostic = ConfigDiagnostic::new(message, span, label);
        ConfigError::new(path, source, vec![diagnostic])
    }

    fn new(path: &Path, source: &str, diagnostics: Vec<ConfigDiagnostic>) -> ConfigError {
        let shown_path = path.display().to_string();
        let rendered = diagnostics
            .iter()
            .map(|diagnostic| render(&shown_path, source, diagnostic))
            .collect::<Vec<_>>()
            .join("\n\n");
        ConfigError {
            path: path.to_path_buf(),
            diagnostics,
            rendered,
        }
    }

    /// The configuration file the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The problems, in file order; at least one.
    pub fn diagnostics(&self) -> &[ConfigDiagnostic] {
        &self.diagnostics
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for ConfigError {}

/// Renders one problem as plain text, e.g.
///
/// ```text
/// error: unknown key `python-root` in [project]
///  --> ssot.toml:2:1
///   |
/// 2 | python-root = ["src"]
///   | ^^^^^^^^^^^ did you mean `python-roots`?
/// ```
fn render(path: &str, source: &str, diagnostic: &ConfigDiagnostic) -> String {
    let title = Level::ERROR.primary_title(diagnostic.message.as_str());
    let report = match &diagnostic.span {
        None => vec![Group::with_title(title)],
        Some(span) => {
            let mut snippet = Snippet::source(source).path(path).annotation(
                AnnotationKind::Primary
                    .span(span.clone())
                    .label(diagnostic.label.as_deref()),
            );
            for (span, label) in &diagnostic.context {
                snippet =
                    snippet.annotation(AnnotationKind::Context.span(span.clone()).label(label));
            }
            vec![title.element(snippet)]
        }
    };
    Renderer::plain().render(&report)
}

/// The span of `key`'s value in the `concept_index`-th `[[concept]]` of `source` (the text of
/// `ssot.toml`), e.g. to point at a `canonical` that names no definition.
pub fn concept_value_span(source: &str, concept_index: usize, key: &str) -> Option<Range<usize>> {
    let document = DeTable::parse(source).ok()?;
    let concepts = document.get_ref().get("concept")?.get_ref().as_array()?;
    let concept = concepts.get(concept_index)?.get_ref().as_table()?;
    concept.get(key).map(Spanned::span)
}
