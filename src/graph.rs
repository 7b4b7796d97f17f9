//! The resolved import graph: modules, their files, and a verdict for every imported name.
//!
//! Language-neutral: the Python resolver (`python::resolve`) fills it, and so will the Rust
//! one. The JSON form (`ssot-gardener graph --format json`) is documented in
//! `docs/graph-format.md`; its field order and sorting are stable.

use std::collections::HashMap;

use serde::Serialize;

use crate::facts::{DefKind, FileFacts, ImportKind, LineIndex, Scope, StringRefKind};
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
}

impl Graph {
    pub fn facts(&self, module: usize) -> &FileFacts {
        &self.files[self.modules[module].file].facts
    }

    /// The JSON form of the graph, limited to files under `prefix` (all when empty).
    pub fn to_json(&self, prefix: &str) -> serde_json::Value {
        let modules: Vec<_> = self
            .modules
            .iter()
            .filter(|module| under(&self.files[module.file].path, prefix))
            .map(|module| self.module_json(module))
            .collect();
        let skipped: Vec<_> = self
            .skipped
            .iter()
            .filter(|s| under(&s.path, prefix))
            .collect();
        serde_json::json!({
            "version": 1,
            "modules": modules,
            "skipped": skipped,
            "summary": self.summary(prefix),
        })
    }

    fn module_json(&self, module: &Module) -> serde_json::Value {
        let file = &self.files[module.file];
        let lines = LineIndex::new(&file.text);
        let facts = &file.facts;
        let mut definitions = Vec::new();
        for (index, definition) in facts.definitions.iter().enumerate() {
            let mut entry = serde_json::json!({
                "name": definition.name,
                "line": lines.line(definition.name_span.start),
                "scope": definition.context.scope,
            });
            let map = entry.as_object_mut().expect("an object");
            match &definition.kind {
                DefKind::Class { bases, methods } => {
                    map.insert("kind".into(), "class".into());
                    map.insert("bases".into(), serde_json::json!(bases));
                    map.insert("methods".into(), serde_json::json!(methods));
                }
                DefKind::Function { .. } if definition.context.scope == Scope::Class => continue,
                DefKind::Function { is_async } => {
                    map.insert("kind".into(), "function".into());
                    map.insert("async".into(), (*is_async).into());
                }
                DefKind::Alias { target } => {
                    map.insert("kind".into(), "alias".into());
                    map.insert("target".into(), target.clone().into());
                    let origins = module
                        .alias_origins
                        .get(&index)
                        .cloned()
                        .unwrap_or_default();
                    map.insert("origins".into(), serde_json::json!(origins));
                }
                DefKind::Variable => {
                    map.insert("kind".into(), "variable".into());
                }
            }
            definitions.push(entry);
        }
        let imports: Vec<_> = facts
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
                let written = match import.kind {
                    ImportKind::From => {
                        format!("{}{}", ".".repeat(import.level as usize), import.module)
                    }
                    ImportKind::Module => name.name.clone(),
                };
                let (line, column) = lines.line_column(&file.text, name.span.start);
                serde_json::json!({
                    "line": line,
                    "column": column,
                    "statement": import.kind,
                    "module": written,
                    "name": (import.kind == ImportKind::From).then_some(&name.name),
                    "alias": name.alias,
                    "context": import.context,
                    "resolution": module.resolutions.get(index).and_then(|r| r.get(name_index)),
                })
            })
            .collect();
        // A plain dotted string is a reference only when it names something of the repository.
        let string_refs: Vec<_> = facts
            .string_refs
            .iter()
            .zip(&module.string_resolutions)
            .filter(|(reference, resolution)| {
                reference.kind != StringRefKind::Other
                    || !matches!(resolution, Resolution::External { .. })
            })
            .map(|(reference, resolution)| {
                let (line, column) = lines.line_column(&file.text, reference.span.start);
                serde_json::json!({
                    "line": line,
                    "column": column,
                    "kind": reference.kind,
                    "value": reference.value,
                    "resolution": resolution,
                })
            })
            .collect();
        let errors: Vec<_> = facts
            .errors
            .iter()
            .map(|error| {
                let (line, column) = lines.line_column(&file.text, error.span.start);
                serde_json::json!({"line": line, "column": column, "message": error.message})
            })
            .collect();
        serde_json::json!({
            "module": module.name,
            "path": file.path,
            "package": module.is_package,
            "definitions": definitions,
            "all": facts.exports.as_ref().map(|exports| &exports.names),
            "imports": imports,
            "string_refs": string_refs,
            "errors": errors,
        })
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
            summary.bytes += file.text.len() as u64;
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
