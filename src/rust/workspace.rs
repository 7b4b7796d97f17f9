//! Cargo workspaces: which packages there are, the crates (targets) each builds, and the
//! names under which a crate reaches the others.
//!
//! Read from the `Cargo.toml` bytes the walker found; pure, no I/O. What Cargo decides from
//! the file system (does `src/lib.rs` exist, which files are under `src/bin/`) is decided
//! from the walked Rust files instead, so a target whose root file was not walked does not
//! exist. A manifest that does not parse is reported by the caller and contributes nothing.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSet, GlobSetBuilder};
use toml::Value;

/// One crate: a target of a package (`lib`, a `bin`, a test, an example, a bench, the build
/// script).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crate {
    /// The name its modules are spelled with: the lib name, else the target name (`-` as
    /// `_`), made unique with the target kind when a lib of that name exists.
    pub name: String,
    pub kind: TargetKind,
    /// The root file, relative to the repository, `/`-separated.
    pub root: String,
    /// Index into [`Workspace::packages`].
    pub package: usize,
    /// Names in the extern prelude that are crates of the repository: extern name to index
    /// into [`Workspace::crates`] (dependencies by their key or `package =` rename, and a
    /// package's own lib for its other targets).
    pub externs: BTreeMap<String, usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetKind {
    Lib,
    Bin,
    Test,
    Example,
    Bench,
    Build,
}

impl TargetKind {
    pub fn word(self) -> &'static str {
        match self {
            TargetKind::Lib => "lib",
            TargetKind::Bin => "bin",
            TargetKind::Test => "test",
            TargetKind::Example => "example",
            TargetKind::Bench => "bench",
            TargetKind::Build => "build",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// As written in `[package] name`.
    pub name: String,
    /// The directory holding its `Cargo.toml` (`""` at the repository root).
    pub dir: String,
    /// Its lib crate, index into [`Workspace::crates`].
    pub lib: Option<usize>,
    /// `[package] edition` (Cargo's default, 2015, when absent; `edition.workspace = true`
    /// reads the workspace's).
    pub edition: String,
}

#[derive(Debug, Default)]
pub struct Workspace {
    pub packages: Vec<Package>,
    pub crates: Vec<Crate>,
    /// Manifests that did not parse: `(path, message)`.
    pub errors: Vec<(String, String)>,
    /// rustfmt's configuration files, by directory (sorted).
    pub rustfmt: Vec<Rustfmt>,
}

/// What a `rustfmt.toml` (or `.rustfmt.toml`) says about `use` items, for the files under
/// `dir`: only stable options count (stable rustfmt ignores the others).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rustfmt {
    pub dir: String,
    /// `max_width` (100).
    pub max_width: usize,
    /// `reorder_imports` (true).
    pub reorder_imports: bool,
    /// `style_edition`, else `edition` (else the crate's edition).
    pub style_edition: Option<String>,
    /// The layout of a wrapped list is four spaces in (`hard_tabs = false`,
    /// `tab_spaces = 4`), and the file parsed.
    pub spaces: bool,
}

/// The names rustfmt looks for in each directory, in its order.
pub const RUSTFMT_CONFIGS: [&str; 2] = [".rustfmt.toml", "rustfmt.toml"];

pub fn is_rustfmt_config(name: &std::ffi::OsStr) -> bool {
    RUSTFMT_CONFIGS.iter().any(|config| name == *config)
}

impl Rustfmt {
    fn parse(dir: String, bytes: &[u8]) -> Rustfmt {
        let Ok(table) = String::from_utf8_lossy(bytes).parse::<toml::Table>() else {
            // rustfmt refuses the file: nothing is laid out or moved by its rules.
            return Rustfmt {
                dir,
                max_width: 100,
                reorder_imports: false,
                style_edition: None,
                spaces: false,
            };
        };
        let int = |key: &str| table.get(key).and_then(toml::Value::as_integer);
        let string = |key: &str| {
            table
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        };
        Rustfmt {
            dir,
            max_width: int("max_width")
                .and_then(|width| usize::try_from(width).ok())
                .filter(|width| (10..=10_000).contains(width))
                .unwrap_or(100),
            reorder_imports: table
                .get("reorder_imports")
                .and_then(toml::Value::as_bool)
                .unwrap_or(true),
            style_edition: string("style_edition").or_else(|| string("edition")),
            spaces: table.get("hard_tabs").and_then(toml::Value::as_bool) != Some(true)
                && int("tab_spaces").is_none_or(|spaces| spaces == 4),
        }
    }
}

impl Workspace {
    /// The rustfmt configuration of the file at `path` (relative to the repository): the
    /// closest directory above it that has one, as rustfmt looks.
    pub fn rustfmt_of(&self, path: &str) -> Option<&Rustfmt> {
        self.rustfmt
            .iter()
            .filter(|config| crate::graph::under(path, &config.dir) || config.dir.is_empty())
            .max_by_key(|config| config.dir.len())
    }
}

impl Workspace {
    /// The crate a lib name (as written in a path, `-` as `_`) names, when the repository
    /// builds it.
    pub fn lib_named(&self, name: &str) -> Option<usize> {
        self.packages
            .iter()
            .filter_map(|package| package.lib)
            .find(|&lib| self.crates[lib].name == name)
    }
}

struct Manifest {
    dir: String,
    table: toml::Table,
}

/// The workspace of the repository: every package under a Rust root that Cargo would build
/// (a workspace's members and its root package, not its `exclude`s; a package outside any
/// workspace stands alone), with its crates. `files` are the walked Rust files.
pub fn read(manifests: &[(String, Vec<u8>)], files: &BTreeSet<&str>) -> Workspace {
    let mut workspace = Workspace::default();
    type Files<'m> = Vec<&'m (String, Vec<u8>)>;
    let (configs, manifests): (Files, Files) = manifests.iter().partition(|(path, _)| {
        let name = path.rsplit('/').next().unwrap_or(path);
        RUSTFMT_CONFIGS.contains(&name)
    });
    for (path, bytes) in configs {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        // `.rustfmt.toml` first, as rustfmt.
        if name == "rustfmt.toml" && workspace.rustfmt.iter().any(|config| config.dir == dir) {
            continue;
        }
        workspace.rustfmt.retain(|config| config.dir != dir);
        workspace
            .rustfmt
            .push(Rustfmt::parse(dir.to_string(), bytes));
    }
    workspace.rustfmt.sort_by(|a, b| a.dir.cmp(&b.dir));
    let mut parsed = Vec::new();
    // On all cores (a workspace's manifests are most of this function's time), in order.
    let tables: Vec<Result<toml::Table, toml::de::Error>> = {
        use rayon::prelude::*;
        manifests
            .par_iter()
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).parse::<toml::Table>())
            .collect()
    };
    for ((path, _), table) in manifests.iter().zip(tables) {
        let dir = path
            .strip_suffix("Cargo.toml")
            .unwrap_or(path)
            .trim_end_matches('/')
            .to_string();
        match table {
            Ok(table) => parsed.push(Manifest { dir, table }),
            Err(error) => workspace
                .errors
                .push((path.clone(), error.message().to_string())),
        }
    }
    // Workspace roots: their members and excludes, as globs relative to the repository.
    let roots: Vec<(usize, GlobSet, GlobSet, bool)> = parsed
        .iter()
        .enumerate()
        .filter_map(|(index, manifest)| {
            let table = manifest.table.get("workspace")?.as_table()?;
            let globs = |key: &str| {
                let mut builder = GlobSetBuilder::new();
                for value in strings(table.get(key)) {
                    let pattern = join(&manifest.dir, value.trim_end_matches('/'));
                    if let Ok(glob) = Glob::new(&pattern) {
                        builder.add(glob);
                    }
                    // An exclude names a directory: everything under it.
                    if let Ok(glob) = Glob::new(&format!("{pattern}/**")) {
                        builder.add(glob);
                    }
                }
                builder.build().unwrap_or_else(|_| GlobSet::empty())
            };
            let has_members = table.contains_key("members");
            Some((index, globs("members"), globs("exclude"), has_members))
        })
        .collect();
    let workspace_of = |manifest: &Manifest| {
        // The nearest workspace root at or above the package.
        roots
            .iter()
            .filter(|(root, ..)| crate::graph::under(&manifest.dir, &parsed[*root].dir))
            .max_by_key(|(root, ..)| parsed[*root].dir.len())
    };
    let mut packages: Vec<(&Manifest, Option<usize>)> = Vec::new();
    for manifest in &parsed {
        let Some(package) = manifest.table.get("package").and_then(Value::as_table) else {
            continue;
        };
        if package.get("name").and_then(Value::as_str).is_none() {
            continue;
        }
        let root = workspace_of(manifest);
        if let Some((root, members, exclude, has_members)) = root {
            let is_root = parsed[*root].dir == manifest.dir;
            let member = members.is_match(&manifest.dir) || !has_members;
            if !is_root && (exclude.is_match(&manifest.dir) || !member) {
                continue;
            }
        }
        packages.push((manifest, root.map(|(root, ..)| *root)));
    }

    // Targets, libs first so that a bin named like a lib is the one renamed.
    let mut targets: Vec<(usize, TargetKind, String, String)> = Vec::new();
    for (index, (manifest, _)) in packages.iter().enumerate() {
        let package = manifest.table["package"].as_table().expect("checked above");
        let name = package["name"].as_str().expect("checked above").to_string();
        let shared_edition = packages[index]
            .1
            .and_then(|root| parsed[root].table.get("workspace"))
            .and_then(|workspace| workspace.get("package"))
            .and_then(|package| package.get("edition"))
            .and_then(Value::as_str);
        let edition = match package.get("edition") {
            Some(Value::String(edition)) => edition.clone(),
            Some(Value::Table(_)) => shared_edition.unwrap_or("2015").to_string(),
            _ => "2015".to_string(),
        };
        workspace.packages.push(Package {
            name: name.clone(),
            dir: manifest.dir.clone(),
            lib: None,
            edition,
        });
        for (kind, target_name, root) in package_targets(manifest, &name, files) {
            targets.push((index, kind, target_name, root));
        }
    }
    targets
        .sort_by_key(|(package, kind, _, root)| (*kind != TargetKind::Lib, *package, root.clone()));
    let mut taken = BTreeSet::new();
    for (package, kind, name, root) in targets {
        let name = if taken.contains(&name) {
            format!("{name}_{}", kind.word())
        } else {
            name
        };
        let mut unique = name.clone();
        let mut counter = 2;
        while !taken.insert(unique.clone()) {
            unique = format!("{name}{counter}");
            counter += 1;
        }
        if kind == TargetKind::Lib {
            workspace.packages[package].lib = Some(workspace.crates.len());
        }
        workspace.crates.push(Crate {
            name: unique,
            kind,
            root,
            package,
            externs: BTreeMap::new(),
        });
    }

    // The extern prelude: dependencies that are packages of the repository.
    let by_package_name: BTreeMap<&str, usize> = workspace
        .packages
        .iter()
        .enumerate()
        .map(|(index, package)| (package.name.as_str(), index))
        .collect();
    let mut externs_of_package: Vec<BTreeMap<String, usize>> = Vec::new();
    for (manifest, root) in &packages {
        let shared = root
            .and_then(|root| parsed[root].table.get("workspace"))
            .and_then(|workspace| workspace.get("dependencies"))
            .and_then(Value::as_table);
        let mut externs = BTreeMap::new();
        for (key, value) in dependencies(&manifest.table) {
            // `foo = { workspace = true }` takes `package =` from `[workspace.dependencies]`.
            let inherited = value
                .get("workspace")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let declared = if inherited {
                shared.and_then(|shared| shared.get(key))
            } else {
                Some(value)
            };
            let package_name = declared
                .and_then(|value| value.get("package"))
                .and_then(Value::as_str)
                .unwrap_or(key);
            let Some(&package) = by_package_name.get(package_name) else {
                continue;
            };
            if let Some(lib) = workspace.packages[package].lib {
                externs.insert(key.replace('-', "_"), lib);
            }
        }
        externs_of_package.push(externs);
    }
    for index in 0..workspace.crates.len() {
        let package = workspace.crates[index].package;
        let mut externs = externs_of_package[package].clone();
        if workspace.crates[index].kind != TargetKind::Lib
            && workspace.crates[index].kind != TargetKind::Build
            && let Some(lib) = workspace.packages[package].lib
        {
            externs
                .entry(workspace.crates[lib].name.clone())
                .or_insert(lib);
        }
        workspace.crates[index].externs = externs;
    }
    workspace
}

/// The targets of one package as Cargo finds them: `[lib]` (or `src/lib.rs`), `[[bin]]`
/// (or `src/main.rs` and `src/bin/`), tests, examples, benches and `build.rs`.
fn package_targets(
    manifest: &Manifest,
    package_name: &str,
    files: &BTreeSet<&str>,
) -> Vec<(TargetKind, String, String)> {
    let dir = &manifest.dir;
    let table = &manifest.table;
    let crate_name = package_name.replace('-', "_");
    let exists = |path: &str| files.contains(path);
    let mut out = Vec::new();
    let lib = table.get("lib").and_then(Value::as_table);
    let lib_path = lib
        .and_then(|lib| lib.get("path"))
        .and_then(Value::as_str)
        .map(|path| join(dir, path))
        .unwrap_or_else(|| join(dir, "src/lib.rs"));
    if exists(&lib_path) {
        let name = lib
            .and_then(|lib| lib.get("name"))
            .and_then(Value::as_str)
            .map(|name| name.replace('-', "_"))
            .unwrap_or_else(|| crate_name.clone());
        out.push((TargetKind::Lib, name, lib_path));
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (key, kind, directory) in [
        ("bin", TargetKind::Bin, "src/bin"),
        ("test", TargetKind::Test, "tests"),
        ("example", TargetKind::Example, "examples"),
        ("bench", TargetKind::Bench, "benches"),
    ] {
        for target in table
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_table)
        {
            let name = target.get("name").and_then(Value::as_str);
            let path = match target.get("path").and_then(Value::as_str) {
                Some(path) => Some(join(dir, path)),
                None => name.and_then(|name| {
                    [
                        join(dir, &format!("{directory}/{name}.rs")),
                        join(dir, &format!("{directory}/{name}/main.rs")),
                    ]
                    .into_iter()
                    .chain((kind == TargetKind::Bin).then(|| join(dir, "src/main.rs")))
                    .find(|path| exists(path))
                }),
            };
            if let Some(path) = path.filter(|path| exists(path))
                && seen.insert(path.clone())
            {
                let name = name
                    .map(|name| name.replace('-', "_"))
                    .unwrap_or_else(|| stem(&path).to_string());
                out.push((kind, name, path));
            }
        }
        // Auto-discovery (Cargo's `autobins` and friends, on by default).
        let auto = table
            .get("package")
            .and_then(|package| package.get(format!("auto{key}s")))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !auto {
            continue;
        }
        if kind == TargetKind::Bin {
            let main = join(dir, "src/main.rs");
            if exists(&main) && seen.insert(main.clone()) {
                out.push((kind, crate_name.clone(), main));
            }
        }
        let prefix = join(dir, directory);
        let prefix = format!("{prefix}/");
        for file in files.range(prefix.as_str()..) {
            let Some(rest) = file.strip_prefix(prefix.as_str()) else {
                break;
            };
            let name = match rest.split_once('/') {
                None => rest.strip_suffix(".rs"),
                Some((name, "main.rs")) => Some(name),
                Some(_) => None,
            };
            if let Some(name) = name
                && seen.insert(file.to_string())
            {
                out.push((kind, name.replace('-', "_"), file.to_string()));
            }
        }
    }
    let build = match table
        .get("package")
        .and_then(|package| package.get("build"))
    {
        Some(Value::String(path)) => Some(join(dir, path)),
        Some(Value::Boolean(false)) => None,
        _ => Some(join(dir, "build.rs")),
    };
    if let Some(build) = build.filter(|path| exists(path)) {
        out.push((
            TargetKind::Build,
            format!("build_script_{crate_name}"),
            build,
        ));
    }
    out
}

/// Every dependency table of a manifest: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and their `[target.'cfg(..)'.*]` forms.
fn dependencies(table: &toml::Table) -> Vec<(&str, &Value)> {
    let mut tables = Vec::new();
    let keys = ["dependencies", "dev-dependencies", "build-dependencies"];
    for key in keys {
        tables.extend(table.get(key).and_then(Value::as_table));
    }
    for target in table
        .get("target")
        .and_then(Value::as_table)
        .into_iter()
        .flat_map(|targets| targets.values())
    {
        for key in keys {
            tables.extend(target.get(key).and_then(Value::as_table));
        }
    }
    tables
        .into_iter()
        .flat_map(|table| table.iter().map(|(key, value)| (key.as_str(), value)))
        .collect()
}

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// `dir/path`, normalised (`./` and `a/../` removed).
fn join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

fn stem(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    if file == "main.rs" {
        // `src/bin/tool/main.rs` is the bin `tool`.
        let dir = &path[..path.len() - file.len()];
        return dir.trim_end_matches('/').rsplit('/').next().unwrap_or(file);
    }
    file.strip_suffix(".rs").unwrap_or(file)
}

pub(crate) fn join_path(dir: &str, path: &str) -> String {
    join(dir, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(manifests: &[(&str, &str)], files: &[&str]) -> Workspace {
        let manifests: Vec<(String, Vec<u8>)> = manifests
            .iter()
            .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
            .collect();
        read(&manifests, &files.iter().copied().collect())
    }

    #[test]
    fn members_excludes_renames_and_targets() {
        let ws = workspace(
            &[
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/skip\"]\n[workspace.dependencies]\ncore-x = { path = \"crates/core\", package = \"my-core\" }\n",
                ),
                ("crates/core/Cargo.toml", "[package]\nname = \"my-core\"\n"),
                (
                    "crates/app/Cargo.toml",
                    "[package]\nname = \"app\"\n[lib]\nname = \"app_lib\"\n[dependencies]\ncore-x = { workspace = true }\nalias = { path = \"../core\", package = \"my-core\" }\n",
                ),
                ("crates/skip/Cargo.toml", "[package]\nname = \"skip\"\n"),
            ],
            &[
                "crates/core/src/lib.rs",
                "crates/app/src/lib.rs",
                "crates/app/src/main.rs",
                "crates/app/src/bin/tool/main.rs",
                "crates/app/tests/it.rs",
                "crates/skip/src/lib.rs",
            ],
        );
        let names: Vec<&str> = ws.crates.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["my_core", "app_lib", "tool", "app", "it"]);
        let app_lib = &ws.crates[1];
        assert_eq!(app_lib.externs.get("core_x"), Some(&0));
        assert_eq!(app_lib.externs.get("alias"), Some(&0));
        // The bin reaches its own lib by name.
        assert_eq!(ws.crates[3].externs.get("app_lib"), Some(&1));
        assert_eq!(ws.lib_named("my_core"), Some(0));
        assert!(ws.packages.iter().all(|p| p.name != "skip"));
    }

    #[test]
    fn a_bad_manifest_is_an_error_not_a_panic() {
        let ws = workspace(&[("Cargo.toml", "[package\n")], &["src/lib.rs"]);
        assert_eq!(ws.errors.len(), 1);
        assert!(ws.crates.is_empty());
    }

    #[test]
    fn the_closest_rustfmt_config_applies() {
        // (Sorted as the walk sorts them: `.rustfmt.toml` before `rustfmt.toml`.)
        let ws = workspace(
            &[
                ("a/.rustfmt.toml", "max_width = 79\n"),
                ("a/Cargo.toml", "[package]\nname = \"a\"\n"),
                (
                    "a/b/rustfmt.toml",
                    "reorder_imports = false\nhard_tabs = true\n",
                ),
                ("a/rustfmt.toml", "max_width = 120\n"),
                ("bad/rustfmt.toml", "max_width = \n"),
                ("rustfmt.toml", "style_edition = \"2024\"\n"),
            ],
            &["a/src/lib.rs"],
        );
        assert_eq!(ws.rustfmt.len(), 4, "{:?}", ws.rustfmt);
        assert_eq!(ws.crates.len(), 1);
        let a = ws.rustfmt_of("a/src/lib.rs").unwrap();
        assert_eq!((a.dir.as_str(), a.max_width), ("a", 79));
        let b = ws.rustfmt_of("a/b/x.rs").unwrap();
        assert!(!b.reorder_imports && !b.spaces);
        let root = ws.rustfmt_of("c/src/lib.rs").unwrap();
        assert_eq!(root.style_edition.as_deref(), Some("2024"));
        // A file rustfmt refuses: nothing sorted or laid out under it.
        let bad = ws.rustfmt_of("bad/x.rs").unwrap();
        assert!(!bad.reorder_imports && !bad.spaces);
        // `ab/` is not under `a/`.
        assert_eq!(ws.rustfmt_of("ab/x.rs").unwrap().dir, "");
    }
}
