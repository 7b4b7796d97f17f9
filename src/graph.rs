//! The resolved import graph: modules, their files, and a verdict for every imported name.
//!
//! Language-neutral: the Python resolver (`python::resolve`) fills it, and so will the Rust
//! one. The JSON form (`ssot-gardener graph --format json`) is documented in
//! `docs/graph-format.md`; its field order and sorting are stable.

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::facts::{Context, DefKind, FileFacts, ImportKind, LineIndex, Scope, StringRefKind};
use crate::walk::{Skipped, SourceFile};

/// What a name resolves to: the definition an import finally reaches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Origin {
    /// The module that defines it (for `External`, the module as written).
    pub module: String,
    /// The defined name; `None` when the origin is the module itself.
    pub symbol: Option<String>,
    pub kind: OriginKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OriginKind {
    Module,
    Class,
    Function,
    /// Any other binding (an assignment that is not a plain alias).
    Variable,
    /// Outside the repository: standard library or third party.
    External,
}

/// The verdict for one imported name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Resolution {
    /// One origin, or several when the name is bound in several branches (a `try/except
    /// ImportError` fallback, an `if/else`).
    Resolved { origins: Vec<Origin> },
    /// The module exists but does not bind the name.
    MissingName { module: String },
    /// The module would be inside the repository but does not exist.
    MissingModule { module: String },
    /// The module is outside the repository.
    External { module: String },
    /// The module defines `__getattr__`: any name may exist.
    Dynamic { module: String },
}

impl Resolution {
    pub fn origins(&self) -> &[Origin] {
        match self {
            Resolution::Resolved { origins } => origins,
            _ => &[],
        }
    }
}

#[derive(Debug)]
pub struct Module {
    /// Dotted name; `None` for a file that is not importable (outside every root, or a path
    /// component that is not an identifier).
    pub name: Option<String>,
    /// Index into [`Graph::files`].
    pub file: usize,
    pub is_package: bool,
    /// `resolutions[i][j]` is the verdict for `facts.imports[i].names[j]`.
    pub resolutions: Vec<Vec<Resolution>>,
    /// The origins of module-level `X = Y` aliases, by definition index.
    pub alias_origins: HashMap<usize, Vec<Origin>>,
    /// `string_resolutions[i]` is the verdict for `facts.string_refs[i]`.
    pub string_resolutions: Vec<Resolution>,
}

/// The whole repository: files, modules, and verdicts.
#[derive(Debug, Default)]
pub struct Graph {
    pub files: Vec<SourceFile>,
    /// One per source file, in the same order.
    pub modules: Vec<Module>,
    pub by_name: HashMap<String, usize>,
    pub skipped: Vec<Skipped>,
    pub other_files: Vec<String>,
    /// Every `Cargo.toml` under a Rust root, as the walk read it.
    pub manifests: Vec<(String, Vec<u8>)>,
    /// The resolvers' own tables, for [`Graph::query`].
    pub(crate) python: crate::python::resolve::Index,
    pub rust: crate::rust::resolve::Index,
}

impl Graph {
    /// Back to the walk it was built from, to resolve again after files change (`fix`).
    pub fn into_walk(self) -> crate::walk::Walk {
        crate::walk::Walk {
            files: self.files,
            other_files: self.other_files,
            skipped: self.skipped,
            manifests: self.manifests,
            // Only a walk's own files carry stamps; this one is not saved.
            started: 0,
            read: 0,
        }
    }

    pub fn facts(&self, module: usize) -> &FileFacts {
        &self.files[self.modules[module].file].facts
    }

    /// The JSON form of the graph, limited to files under `prefix` (all when empty); field
    /// order as documented in `docs/graph-format.md`.
    ///
    /// Serialised as it is written, never built as a `serde_json::Value` first: a 50 MB file
    /// of `x = 1` lines has 8 million definitions, and a value tree of them took 16 GB.
    pub fn to_json<'a>(&'a self, prefix: &'a str) -> GraphJson<'a> {
        GraphJson {
            graph: self,
            prefix,
        }
    }

    /// Counts for `--format summary` and the JSON `summary` field.
    pub fn summary(&self, prefix: &str) -> Summary {
        let mut summary = Summary::default();
        for module in &self.modules {
            let file = &self.files[module.file];
            if !under(&file.path, prefix) {
                continue;
            }
            summary.files += 1;
            summary.bytes += file.len;
            summary.modules += usize::from(module.name.is_some());
            summary.files_with_errors += usize::from(!file.facts.errors.is_empty());
            summary.definitions += file.facts.definitions.len();
            for resolution in module.resolutions.iter().flatten() {
                summary.imported_names += 1;
                match resolution {
                    Resolution::Resolved { .. } => summary.resolved += 1,
                    Resolution::MissingName { .. } => summary.missing_name += 1,
                    Resolution::MissingModule { .. } => summary.missing_module += 1,
                    Resolution::External { .. } => summary.external += 1,
                    Resolution::Dynamic { .. } => summary.dynamic += 1,
                }
            }
        }
        summary.skipped = self
            .skipped
            .iter()
            .filter(|s| under(&s.path, prefix))
            .count();
        summary
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub modules: usize,
    pub definitions: usize,
    pub imported_names: usize,
    pub resolved: usize,
    pub missing_name: usize,
    pub missing_module: usize,
    pub external: usize,
    pub dynamic: usize,
    pub files_with_errors: usize,
    pub skipped: usize,
}

/// Is the `/`-separated `path` inside the directory `prefix` (or equal to it)?
pub fn under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// `graph --format json`: see [`Graph::to_json`].
pub struct GraphJson<'a> {
    graph: &'a Graph,
    prefix: &'a str,
}

impl Serialize for GraphJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (graph, prefix) = (self.graph, self.prefix);
        let mut out = serializer.serialize_struct("Graph", 4)?;
        out.serialize_field("version", &1)?;
        out.serialize_field(
            "modules",
            &Seq(|| {
                graph
                    .modules
                    .iter()
                    .filter(|module| under(&graph.files[module.file].path, prefix))
                    .map(|module| ModuleJson { graph, module })
            }),
        )?;
        out.serialize_field(
            "skipped",
            &Seq(|| graph.skipped.iter().filter(|s| under(&s.path, prefix))),
        )?;
        out.serialize_field("summary", &graph.summary(prefix))?;
        out.end()
    }
}

/// A JSON array written straight from an iterator (the closure makes a fresh one each time).
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

struct ModuleJson<'a> {
    graph: &'a Graph,
    module: &'a Module,
}

#[derive(Serialize)]
struct DefinitionJson<'a> {
    name: &'a str,
    kind: &'static str,
    line: u32,
    scope: Scope,
    #[serde(skip_serializing_if = "Option::is_none")]
    bases: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    methods: Option<&'a [String]>,
    #[serde(rename = "async", skip_serializing_if = "Option::is_none")]
    is_async: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origins: Option<&'a [Origin]>,
}

#[derive(Serialize)]
struct ImportJson<'a> {
    line: u32,
    column: u32,
    statement: ImportKind,
    module: String,
    name: Option<&'a str>,
    alias: Option<&'a str>,
    context: Context,
    resolution: Option<&'a Resolution>,
}

#[derive(Serialize)]
struct StringRefJson<'a> {
    line: u32,
    column: u32,
    kind: StringRefKind,
    value: &'a str,
    resolution: &'a Resolution,
}

#[derive(Serialize)]
struct CrateJson<'a> {
    name: &'a str,
    target: &'static str,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    line: u32,
    column: u32,
    message: &'a str,
}

impl Serialize for ModuleJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let module = self.module;
        let file = &self.graph.files[module.file];
        let text = file.text();
        let facts = &file.facts;
        let lines = LineIndex::new(text);
        let lines = &lines;
        let mut out = serializer.serialize_struct("Module", 8)?;
        out.serialize_field("module", &module.name)?;
        out.serialize_field("path", &file.path)?;
        out.serialize_field("package", &module.is_package)?;
        if file.language == crate::walk::Language::Rust {
            let crates: Vec<CrateJson> = self
                .graph
                .rust
                .crates_of(module.file)
                .into_iter()
                .map(|(name, target)| CrateJson { name, target })
                .collect();
            out.serialize_field("crates", &crates)?;
        } else {
            out.skip_field("crates")?;
        }
        out.serialize_field(
            "definitions",
            &Seq(|| {
                facts
                    .definitions
                    .iter()
                    .enumerate()
                    .filter_map(|(index, definition)| {
                        let mut entry = DefinitionJson {
                            name: &definition.name,
                            kind: "",
                            line: lines.line(definition.name_span.start),
                            scope: definition.context.scope,
                            bases: None,
                            methods: None,
                            is_async: None,
                            target: None,
                            origins: None,
                        };
                        match &definition.kind {
                            DefKind::Class { bases, methods } => {
                                entry.kind = "class";
                                entry.bases = Some(bases);
                                entry.methods = Some(methods);
                            }
                            // Methods are listed with their class.
                            DefKind::Function { .. }
                                if definition.context.scope == Scope::Class =>
                            {
                                return None;
                            }
                            DefKind::Function { is_async, .. } => {
                                entry.kind = "function";
                                entry.is_async = Some(*is_async);
                            }
                            DefKind::Alias { target } => {
                                entry.kind = "alias";
                                entry.target = Some(target);
                                entry.origins = Some(
                                    module.alias_origins.get(&index).map_or(&[], Vec::as_slice),
                                );
                            }
                            DefKind::Variable => entry.kind = "variable",
                        }
                        Some(entry)
                    })
            }),
        )?;
        out.serialize_field("all", &facts.exports.as_ref().map(|exports| &exports.names))?;
        out.serialize_field(
            "imports",
            &Seq(|| {
                facts
                    .imports
                    .iter()
                    .enumerate()
                    .flat_map(|(index, import)| {
                        import
                            .names
                            .iter()
                            .enumerate()
                            .map(move |(name_index, name)| (index, import, name_index, name))
                    })
                    .map(|(index, import, name_index, name)| {
                        let (line, column) = lines.line_column(text, name.span.start);
                        ImportJson {
                            line,
                            column,
                            statement: import.kind,
                            module: match import.kind {
                                ImportKind::From => format!(
                                    "{}{}",
                                    ".".repeat(import.level as usize),
                                    import.module
                                ),
                                ImportKind::Module => name.name.clone(),
                            },
                            name: (import.kind == ImportKind::From).then_some(name.name.as_str()),
                            alias: name.alias.as_deref(),
                            context: import.context,
                            resolution: module
                                .resolutions
                                .get(index)
                                .and_then(|r| r.get(name_index)),
                        }
                    })
            }),
        )?;
        // A plain dotted string is a reference only when it names something of the repository.
        out.serialize_field(
            "string_refs",
            &Seq(|| {
                facts
                    .string_refs
                    .iter()
                    .zip(&module.string_resolutions)
                    .filter(|(reference, resolution)| {
                        reference.kind != StringRefKind::Other
                            || !matches!(resolution, Resolution::External { .. })
                    })
                    .map(|(reference, resolution)| {
                        let (line, column) = lines.line_column(text, reference.span.start);
                        StringRefJson {
                            line,
                            column,
                            kind: reference.kind,
                            value: &reference.value,
                            resolution,
                        }
                    })
            }),
        )?;
        out.serialize_field(
            "errors",
            &Seq(|| {
                facts.errors.iter().map(|error| {
                    let (line, column) = lines.line_column(text, error.span.start);
                    ErrorJson {
                        line,
                        column,
                        message: &error.message,
                    }
                })
            }),
        )?;
        out.end()
    }
}
