//! SSOT009 broken-import: an import that cannot succeed. Its module is in the repository but
//! does not bind the name, or its module path points into a repository package and names no
//! module. Every import of every Python file, in any context; never an external module.
//!
//! The resolver's `missing-name` and `missing-module` verdicts say only that its tables hold
//! no binding or no file. This rule reports a verdict only where Python would not find the
//! name either, so it rules out what the tables cannot see:
//!
//! - a name bound in ways the collector does not record: a module that may write its own
//!   namespace (`globals()`, `exec(`, `sys.modules[__name__]`, any `__getattr__`), a star
//!   import that may bind anything (from an external module, a dynamic `__all__`), a walrus,
//!   `pkg.mod.Name = x` from another module, a file with syntax errors;
//! - a module that is not a `.py` file of the walk: a compiled extension or its source beside
//!   the package (`_speedups.c`, `.pyx`, `.so`, `.pyd`), a `.pyi` stub, a directory (a
//!   namespace package), a skipped or `exclude`d file, a generated module (`_version.py`), a
//!   namespace package's other portions, a package that extends `__path__`, `sys.modules`
//!   entries and import hooks;
//! - a top-level name that a sibling module of the importer may shadow (scripts, tests run
//!   with their directory on `sys.path`).
//!
//! Inside a `try` body the import is a dead branch (its own message, and
//! `[project] dead-fallbacks = "allow"` accepts it). A module absent from the checkout inside
//! `try` is the idiom for an optional module, so it is reported only when the module exists
//! elsewhere under the same name (it moved).

use std::collections::{HashMap, HashSet};

use super::{Applicability, Context, Finding, Fix, Rule, plural, quoted_list};
use crate::concept::{self, ConceptTable};
use crate::config::FallbackPolicy;
use crate::facts::{
    Guard, Import, ImportKind, ImportedName, Scope, Span, StringRefKind, line_start,
};
use crate::graph::{Graph, Resolution};
use crate::python::edit;
use crate::python::resolve::Query;
use crate::walk::Language;

/// Attributes every module has without binding them.
const IMPLICIT: [&str; 11] = [
    "__name__",
    "__doc__",
    "__file__",
    "__spec__",
    "__loader__",
    "__package__",
    "__path__",
    "__builtins__",
    "__cached__",
    "__dict__",
    "__annotations__",
];

/// What follows `name.` in a file beside a package that Python may import as `name`, or that
/// builds it: `_speedups.c`, `_speedups.cpython-312-x86_64-linux-gnu.so`, `_ext.pyx`,
/// `_version.py.in`, `mod.pyi`.
const BUILT_FROM: [&str; 27] = [
    "so", "pyd", "dll", "dylib", "sl", "c", "cc", "cpp", "cxx", "h", "hpp", "m", "mm", "cu", "pyx",
    "pxd", "pxi", "pyi", "pyc", "pyo", "pyf", "py", "in", "i", "swg", "f90", "rs",
];

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut repository: Option<Repository> = None;
    for (module_index, module) in cx.graph.modules.iter().enumerate() {
        let file = &cx.graph.files[module.file];
        // A file with a syntax error never imports as it stands, and its import facts may be
        // cut short: SSOT903 reports it.
        if file.language != Language::Python || !file.facts.errors.is_empty() {
            continue;
        }
        for (import_index, (import, verdicts)) in file
            .facts
            .imports
            .iter()
            .zip(&module.resolutions)
            .enumerate()
        {
            if !verdicts.iter().any(|verdict| {
                matches!(
                    verdict,
                    Resolution::MissingName { .. } | Resolution::MissingModule { .. }
                )
            }) {
                continue;
            }
            let dead = import.context.guard == Guard::Try;
            if dead && cx.settings.dead_fallbacks == FallbackPolicy::Allow {
                continue;
            }
            if import.context.conditional && expects_failure(file.text(), import.span.start) {
                continue;
            }
            let repository = repository.get_or_insert_with(|| Repository::new(cx));
            if repository.shadowed(module_index, import) {
                continue;
            }
            let site = Site {
                module: module_index,
                import: import_index,
                dead,
                guarded: dead || (import.context.conditional && !import.context.type_checking),
            };
            let mut judged_module = false;
            for (name_index, verdict) in verdicts.iter().enumerate() {
                match verdict {
                    Resolution::MissingName { module: target } => {
                        if let Some(finding) = repository.missing_name(&site, name_index, target)
                            && applies(cx, &finding)
                        {
                            out.push(finding);
                        }
                    }
                    // Every name of `from gone import a, b` fails for one reason: one finding.
                    Resolution::MissingModule { module: target }
                        if !(judged_module && import.kind == ImportKind::From) =>
                    {
                        judged_module = true;
                        if let Some(finding) = repository.missing_module(&site, name_index, target)
                            && applies(cx, &finding)
                        {
                            out.push(finding);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A finding about a concept's name is subject to the concept's `ignore`.
fn applies(cx: &Context, finding: &Finding) -> bool {
    finding
        .concept
        .is_none_or(|concept| cx.settings.concepts[concept].applies(Rule::BrokenImport.code()))
}

/// The import statement being judged.
struct Site {
    module: usize,
    import: usize,
    /// In a `try` body: if it fails, the `except` branch runs instead.
    dead: bool,
    /// In a `try` body or under a condition other than `TYPE_CHECKING`: where code imports a
    /// module that may be absent (compiled, generated, optional), guarded by the `except` or
    /// by the condition (`if HAS_EXTENSION:`, `if find_spec(...)`).
    guarded: bool,
}

/// Where a dotted module name leads, as the resolver's `find_module` decides.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    File(usize),
    Namespace,
    External,
    Missing,
}

/// What the rule knows of the repository beyond the verdicts; built at the first broken
/// import, so a clean repository pays nothing.
struct Repository<'a> {
    cx: &'a Context<'a>,
    graph: &'a Graph,
    query: Query<'a>,
    top_level: HashSet<&'a str>,
    /// Dotted prefixes of module names that are no module: namespace packages.
    namespaces: HashSet<String>,
    /// Every directory holding a file the walk saw, skipped or collected.
    directories: HashSet<&'a str>,
    /// Non-Python files (sources of other languages too) and skipped files, by directory (`""`
    /// for the root): file names.
    others: HashMap<&'a str, Vec<&'a str>>,
    python_paths: HashSet<&'a str>,
    /// Module-level definitions of importable modules, by name: `(module, definition)`.
    definitions: HashMap<&'a str, Vec<(usize, usize)>>,
    /// Module names by their last component.
    leaves: HashMap<&'a str, Vec<&'a str>>,
    /// The last name of every `m.Name = ...` target: another module may set `Name` there.
    /// [`crate::facts::name_hash`] of the last name of every dotted name assigned to.
    assigned_attributes: HashSet<u32>,
    /// `sys.modules["a.b"]` keys written anywhere.
    registered: Vec<&'a str>,
    /// Packages with a file that installs an import hook (`sys.meta_path.insert(...)`,
    /// `sys.path_hooks.append(...)`): the hook may make any module under them importable. `""`
    /// (everything) for a file in no package.
    hooked: Vec<&'a str>,
    /// Whether a module's namespace may gain names the collector cannot see, by module.
    open: HashMap<usize, bool>,
    first_party: edit::FirstParty<'a>,
}

impl<'a> Repository<'a> {
    fn new(cx: &'a Context<'a>) -> Repository<'a> {
        let graph = cx.graph;
        let mut top_level = HashSet::new();
        let mut namespaces = HashSet::new();
        let mut leaves: HashMap<&str, Vec<&str>> = HashMap::new();
        for name in graph.by_name.keys() {
            top_level.insert(name.split('.').next().unwrap_or(name));
            let mut prefix = name.as_str();
            while let Some(dot) = prefix.rfind('.') {
                prefix = &prefix[..dot];
                if !graph.by_name.contains_key(prefix) {
                    namespaces.insert(prefix.to_string());
                }
            }
            let leaf = name.rsplit('.').next().unwrap_or(name);
            leaves.entry(leaf).or_default().push(name);
        }
        for names in leaves.values_mut() {
            names.sort_unstable();
        }
        let mut directories = HashSet::new();
        let mut others: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut add_directories = |path: &'a str| {
            let mut dir = path;
            while let Some(slash) = dir.rfind('/') {
                dir = &dir[..slash];
                if !directories.insert(dir) {
                    break;
                }
            }
        };
        let python_paths: HashSet<&str> = graph.files.iter().map(|f| f.path.as_str()).collect();
        for path in &python_paths {
            add_directories(path);
        }
        let other_sources = graph
            .files
            .iter()
            .filter(|file| file.language != Language::Python)
            .map(|file| &file.path);
        for path in graph
            .other_files
            .iter()
            .chain(graph.skipped.iter().map(|skipped| &skipped.path))
            .chain(other_sources)
        {
            add_directories(path);
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            others.entry(dir).or_default().push(name);
        }
        let mut definitions: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        let mut assigned_attributes = HashSet::new();
        let mut registered = Vec::new();
        let mut hooked = Vec::new();
        let packages: HashMap<&str, &str> = graph
            .modules
            .iter()
            .filter(|module| module.is_package)
            .filter_map(|module| {
                let path = graph.files[module.file].path.as_str();
                let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                Some((dir, module.name.as_deref()?))
            })
            .collect();
        for (index, module) in graph.modules.iter().enumerate() {
            let file = &graph.files[module.file];
            if module.name.is_some() {
                for (definition_index, definition) in file.facts.definitions.iter().enumerate() {
                    if definition.context.scope == Scope::Module {
                        definitions
                            .entry(definition.name.as_str())
                            .or_default()
                            .push((index, definition_index));
                    }
                }
            }
            if file.facts.installs_import_hook {
                let dir = file.path.rsplit_once('/').map_or("", |(dir, _)| dir);
                hooked.push(packages.get(dir).copied().unwrap_or(""));
            }
            assigned_attributes.extend(
                file.facts
                    .attributes
                    .iter()
                    .filter(|a| a.target)
                    .map(|a| a.last),
            );
            registered.extend(
                file.facts
                    .string_refs
                    .iter()
                    .filter(|reference| reference.kind == StringRefKind::SysModules)
                    .map(|reference| reference.value.as_str()),
            );
        }
        for found in definitions.values_mut() {
            found.dedup_by_key(|(module, _)| *module);
        }
        Repository {
            cx,
            graph,
            query: graph.query(),
            top_level,
            namespaces,
            directories,
            others,
            python_paths,
            definitions,
            leaves,
            assigned_attributes,
            registered,
            hooked,
            open: HashMap::new(),
            first_party: edit::FirstParty::new(
                graph.modules.iter().filter_map(|m| m.name.as_deref()),
            ),
        }
    }

    /// Whether an import hook of the repository may serve the module `name`.
    fn hooked_over(&self, name: &str) -> bool {
        self.hooked.iter().any(|scope| {
            scope.is_empty()
                || name
                    .strip_prefix(scope)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    fn find(&self, name: &str) -> Found {
        let top = name.split('.').next().unwrap_or(name);
        if !self.top_level.contains(top) {
            Found::External
        } else if let Some(&index) = self.graph.by_name.get(name) {
            Found::File(index)
        } else if self.namespaces.contains(name) {
            Found::Namespace
        } else {
            Found::Missing
        }
    }

    fn text(&self, module: usize) -> &'a [u8] {
        self.graph.files[self.graph.modules[module].file].text()
    }

    /// The directory of a package (`src/pkg` for `src/pkg/__init__.py`).
    fn package_directory(&self, package: usize) -> &'a str {
        let path = &self.graph.files[self.graph.modules[package].file].path;
        path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    /// Whether a module-level statement of `module` binds `name` (a definition, an assignment,
    /// `global name` in a function, an import in any branch), even one the resolver could not
    /// follow to an origin: then `name` exists there, and a broken binding is that module's
    /// own finding.
    fn binds(&self, module: usize, name: &str) -> bool {
        let facts = self.graph.facts(module);
        facts
            .definitions
            .iter()
            .any(|definition| definition.context.scope == Scope::Module && definition.name == name)
            || facts.imports.iter().any(|import| {
                import.context.scope == Scope::Module
                    && import.names.iter().any(|imported| {
                        imported.name != "*" && imported.bound_name(import.kind) == name
                    })
            })
    }

    /// Whether `module`'s namespace may hold names no statement the collector reads binds:
    /// it writes `globals()`, runs `exec`, replaces or patches itself in `sys.modules`, lets
    /// `Enum._convert_` write an enum and its members into it (`ssl`'s `OP_*` constants), or
    /// binds `__getattr__` in any way (`__getattr__, __dir__, __all__ = lazy.attach(...)`).
    fn open(&mut self, module: usize) -> bool {
        if let Some(&open) = self.open.get(&module) {
            return open;
        }
        let text = self.text(module);
        let open = !self.graph.facts(module).errors.is_empty()
            || self.binds(module, "__getattr__")
            || [&b"globals()"[..], b"locals()", b"vars()", b"exec("]
                .iter()
                .any(|call| calls(text, call))
            || contains(text, b"._convert_(")
            || contains(text, b"sys.modules[__name__]")
            || contains(text, b"sys.modules.get(__name__");
        self.open.insert(module, open);
        open
    }

    /// Whether a star import of `module` may bind `name`: one from outside the repository, from
    /// a module that is not there, whose `__all__` is not a literal or names it, or whose
    /// namespace is open or holds it.
    fn star_may_bind(&mut self, module: usize, name: &str, visiting: &mut HashSet<usize>) -> bool {
        if !visiting.insert(module) {
            return false;
        }
        let facts = self.graph.facts(module);
        for import in &facts.imports {
            if import.context.scope != Scope::Module || !import.names.iter().any(|n| n.name == "*")
            {
                continue;
            }
            let Some(target) = self.query.import_target(module, import) else {
                return true;
            };
            let Found::File(target) = self.find(&target) else {
                return true;
            };
            if self.open(target) {
                return true;
            }
            match &self.graph.facts(target).exports {
                Some(exports) => {
                    if exports.dynamic || exports.names.iter().any(|n| n == name) {
                        return true;
                    }
                }
                None => {
                    if !name.starts_with('_')
                        && (self.binds(target, name) || self.star_may_bind(target, name, visiting))
                    {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether Python provably finds no `name` in the namespace of `module`.
    fn absent(&mut self, module: usize, name: &str) -> bool {
        let facts = self.graph.facts(module);
        let text = self.text(module);
        let may_exist = IMPLICIT.contains(&name)
            // `__all__` names it: the module binds it some way the collector does not read
            // (`@enum.global_enum` puts `re.IGNORECASE` there).
            || facts.exports.as_ref().is_some_and(|exports| {
                name == "__all__" || exports.names.iter().any(|n| n == name)
            })
            || self.binds(module, name)
            || self.open(module)
            || self.star_may_bind(module, name, &mut HashSet::new())
            || self
                .assigned_attributes
                .contains(&crate::facts::name_hash(name.as_bytes()))
            // `(name := value)` at module level: the collector reads no walrus.
            || contains(text, format!("{name} :=").as_bytes())
            || contains(text, format!("{name}:=").as_bytes());
        !may_exist
    }

    /// Whether a `.pyi` stub sits beside the module: type checkers read the names there, and
    /// the `.py` file may be a fallback for a compiled module.
    fn has_stub(&self, module: usize) -> bool {
        let path = &self.graph.files[self.graph.modules[module].file].path;
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        let stub = format!("{}.pyi", file.strip_suffix(".py").unwrap_or(file));
        self.others
            .get(dir)
            .is_some_and(|names| names.contains(&stub.as_str()))
    }

    /// Whether a module `component` of the package directory `dir` may exist without being a
    /// `.py` file of the walk: a directory (a namespace package, or one the walk left out), a
    /// compiled extension or its source, a stub, a skipped or excluded file, or a module a
    /// build writes (`_version.py`, `*_pb2.py`).
    fn unseen_module(&self, dir: &str, component: &str) -> bool {
        let base = if dir.is_empty() {
            component.to_string()
        } else {
            format!("{dir}/{component}")
        };
        if self.directories.contains(base.as_str()) {
            return true;
        }
        let built = self.others.get(dir).is_some_and(|names| {
            names.iter().any(|name| {
                name.strip_prefix(component)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|rest| {
                        let first = rest.split('.').next().unwrap_or(rest);
                        BUILT_FROM.contains(&first)
                            || ["cpython-", "cp3", "abi3", "pypy", "graalpy"]
                                .iter()
                                .any(|tag| first.starts_with(tag))
                    })
            })
        });
        let exclude = &self.cx.settings.exclude_set;
        built
            || exclude.is_match(format!("{base}.py"))
            || exclude.is_match(format!("{base}/__init__.py"))
            || exclude.is_match(format!("{base}/_"))
            || generated(component)
    }

    /// Whether the top-level module of a plain `import top...` / `from top... import` may be a
    /// sibling of the importer rather than the repository's `top`: a script, or a test run
    /// with its own directory on `sys.path`.
    fn shadowed(&self, importer: usize, import: &Import) -> bool {
        if import.level > 0 {
            return false;
        }
        let path = &self.graph.files[self.graph.modules[importer].file].path;
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let is_root = self
            .cx
            .settings
            .python_roots
            .iter()
            .any(|root| crate::walk::relative_path(std::path::Path::new(""), root) == dir);
        if is_root {
            return false;
        }
        let tops: Vec<&str> = match import.kind {
            ImportKind::From => vec![import.module.as_str()],
            ImportKind::Module => import.names.iter().map(|n| n.name.as_str()).collect(),
        };
        tops.iter().any(|module| {
            let top = module.split('.').next().unwrap_or(module);
            let sibling = if dir.is_empty() {
                top.to_string()
            } else {
                format!("{dir}/{top}")
            };
            self.python_paths.contains(format!("{sibling}.py").as_str())
                || self.directories.contains(sibling.as_str())
        })
    }

    /// Another module with this last component: evidence that a module absent here moved.
    fn moved(&self, component: &str) -> Option<&'a str> {
        self.leaves
            .get(component)
            .and_then(|names| names.first().copied())
    }

    /// `from m import name` where the resolver found `m` without `name`.
    fn missing_name(&mut self, site: &Site, name_index: usize, target: &str) -> Option<Finding> {
        let Found::File(target_index) = self.find(target) else {
            // A namespace package may have portions outside the repository.
            return None;
        };
        let import = &self.graph.facts(site.module).imports[site.import];
        let name = import.names[name_index].name.as_str();
        if !self.absent(target_index, name) || self.has_stub(target_index) {
            return None;
        }
        if self.graph.modules[target_index].is_package {
            // `from pkg import name` also finds a submodule `pkg.name`.
            let dir = self.package_directory(target_index);
            if self.unseen_module(dir, name) || self.hooked_over(&format!("{target}.{name}")) {
                return None;
            }
            // Guarded, a lower-case name may be an optional submodule not in this checkout
            // (`from . import local_settings`): only a module of that name elsewhere says it
            // moved.
            if site.guarded && is_module_like(name) && self.moved(name).is_none() {
                return None;
            }
        }
        let import_span = import.names[name_index].span;
        let message = format!("`{target}` does not define or import `{name}`");
        let mut finding = self.finding(site, import_span, message, format!("{target}.{name}"));
        finding.label = if site.dead {
            "always raises ImportError: the `except` branch always runs".to_string()
        } else {
            "ImportError when this import runs".to_string()
        };
        let elsewhere = self.defined_elsewhere(name, Some(target_index));
        let nearest = if !elsewhere.is_empty() {
            Some(defined_in(&import.names[name_index], &elsewhere))
        } else {
            self.similar(target_index, name)
                .map(|similar| format!("did you mean `{similar}`? `{target}` binds it"))
        };
        let fallback = format!("define `{name}` in `{target}`, or remove the import");
        self.explain(site, &mut finding, nearest, fallback, &[name_index]);
        Some(finding)
    }

    /// An import whose module path points into a repository package and names no module.
    fn missing_module(&mut self, site: &Site, name_index: usize, target: &str) -> Option<Finding> {
        // `from . import x` above the top-level package: the roots decide, not the code.
        if target.starts_with('.') {
            return None;
        }
        let parts: Vec<&str> = target.split('.').collect();
        let mut first_missing = None;
        for cut in 1..parts.len() {
            match self.find(&parts[..=cut].join(".")) {
                Found::File(_) | Found::Namespace => {}
                Found::External => return None,
                Found::Missing => {
                    first_missing = Some(cut);
                    break;
                }
            }
        }
        let cut = first_missing?;
        let parent_name = parts[..cut].join(".");
        let missing = parts[..=cut].join(".");
        let component = parts[cut];
        // A namespace package may have portions outside the repository.
        let Found::File(parent) = self.find(&parent_name) else {
            return None;
        };
        let parent_text = self.text(parent);
        if self.hooked_over(&missing)
            || contains(parent_text, b"sys.modules")
            || self
                .registered
                .iter()
                .any(|key| *key == missing || key.starts_with(&format!("{missing}.")))
        {
            return None;
        }
        let is_package = self.graph.modules[parent].is_package;
        // `import pkg.__init__` imports the package's `__init__.py` as a module of its own.
        if is_package && component == "__init__" {
            return None;
        }
        let why = if is_package {
            // `__path__` extended or replaced: the package's modules may live anywhere.
            if contains(parent_text, b"__path__") {
                return None;
            }
            let dir = self.package_directory(parent);
            if self.unseen_module(dir, component) {
                return None;
            }
            // Guarded, a module not in this checkout is the idiom for an optional one
            // (compiled, generated, local settings, another layout): only a module of that
            // name elsewhere says it moved.
            if site.guarded && self.moved(component).is_none() {
                return None;
            }
            let shown = if dir.is_empty() {
                component.to_string()
            } else {
                format!("{dir}/{component}")
            };
            format!("no `{shown}.py` or `{shown}/`")
        } else {
            // `import os.path`: `os` binds `path` and registers it in `sys.modules`.
            if self.binds(parent, component) {
                return None;
            }
            format!("`{parent_name}` is a module, not a package")
        };
        let import = &self.graph.facts(site.module).imports[site.import];
        let span = match import.kind {
            ImportKind::From => import.module_span,
            ImportKind::Module => import.names[name_index].span,
        };
        let message = format!("no module `{missing}` ({why})");
        let mut finding = self.finding(site, span, message, missing.clone());
        finding.label = if site.dead {
            "always raises ModuleNotFoundError: the `except` branch always runs".to_string()
        } else {
            "ModuleNotFoundError when this import runs".to_string()
        };
        let names: Vec<usize> = match import.kind {
            ImportKind::From => (0..import.names.len()).collect(),
            ImportKind::Module => vec![name_index],
        };
        let nearest = if let Some(moved) = self.moved(component) {
            Some(format!("a module `{component}` is at `{moved}`"))
        } else if import.kind == ImportKind::From
            && let [only] = import.names.as_slice()
            && only.name != "*"
            && let elsewhere = self.defined_elsewhere(&only.name, None)
            && !elsewhere.is_empty()
        {
            Some(defined_in(only, &elsewhere))
        } else {
            self.similar_module(&parent_name, component)
                .map(|similar| format!("did you mean `{similar}`?"))
        };
        let fallback = "point the import at an existing module, or remove it".to_string();
        self.explain(site, &mut finding, nearest, fallback, &names);
        Some(finding)
    }

    fn finding(&self, site: &Site, span: Span, message: String, symbol: String) -> Finding {
        let file = self.graph.modules[site.module].file;
        Finding {
            rule: Rule::BrokenImport,
            concept: None,
            path: self.graph.files[file].path.clone(),
            file: Some(file),
            span,
            symbol,
            message: if site.dead {
                format!("dead `try` branch: {message}")
            } else {
                message
            },
            label: String::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }

    /// The help (`nearest`, the nearest existing definition, else `fallback`), the concept the
    /// names belong to, and the fix.
    fn explain(
        &self,
        site: &Site,
        finding: &mut Finding,
        nearest: Option<String>,
        fallback: String,
        names: &[usize],
    ) {
        let import = &self.graph.facts(site.module).imports[site.import];
        let concept = names.iter().find_map(|&index| {
            let name = import.names[index].name.as_str();
            self.cx
                .tables
                .iter()
                .find(|table| table.canonical_name == name || table.names.contains(name))
                .map(|table| (index, table))
        });
        let mut help = match (site.dead, nearest) {
            (true, Some(nearest)) => {
                format!("drop the dead branch and keep the fallback, or fix it: {nearest}")
            }
            (true, None) => "drop the dead branch and keep the fallback".to_string(),
            (false, Some(nearest)) => nearest,
            (false, None) => fallback,
        };
        if let Some((index, table)) = concept {
            let name = &import.names[index].name;
            finding.concept = Some(table.concept);
            finding.notes.push(format!(
                "`{name}` belongs to the concept `{}`",
                self.cx.settings.concepts[table.concept].name
            ));
            finding.notes.push(self.cx.canonical_note(table));
            if names.len() == 1 {
                match self.canonical_fix(site, index, table) {
                    Some(Ok(edits)) => {
                        help = format!(
                            "import the canonical `{}` (`from {} import {}`)",
                            table.canonical_name,
                            self.module_name(table.canonical_module),
                            table.canonical_name
                        );
                        finding.fix = Some(Fix::new(Applicability::Unsafe, edits));
                    }
                    Some(Err(why)) => help.push_str(&format!("; no automatic fix: {why}")),
                    None => {}
                }
            }
        }
        if site.dead {
            finding.notes.push(
                "code that supports several layouts can accept this with `dead-fallbacks = \"allow\"` under `[project]`"
                    .to_string(),
            );
        }
        finding.help = Some(help);
    }

    /// The unsafe fix that points the import at the concept's canonical path: only when the
    /// name has exactly one definition in the repository and it is the canonical one. `None`
    /// when there is no such definition, an error when one exists but cannot be used.
    fn canonical_fix(
        &self,
        site: &Site,
        name_index: usize,
        table: &ConceptTable,
    ) -> Option<Result<Vec<super::Edit>, String>> {
        let import = &self.graph.facts(site.module).imports[site.import];
        let name = import.names[name_index].name.as_str();
        if name != table.canonical_name || site.module == table.canonical_module {
            return None;
        }
        let [(module, definition)] = self.definitions.get(name)?.as_slice() else {
            return None;
        };
        if *module != table.canonical_module && Some((*module, *definition)) != table.origin_site {
            return None;
        }
        let canonical_module = self.module_name(table.canonical_module);
        let runs_at_import =
            import.context.scope != Scope::Function && !import.context.type_checking;
        if runs_at_import && let Some(chain) = table.canonical_closure.chain(site.module) {
            return Some(Err(format!(
                "importing from `{canonical_module}` here would be an import cycle ({})",
                super::indirect_import::chain_text(self.graph, &chain)
            )));
        }
        let file = &self.graph.files[self.graph.modules[site.module].file];
        Some(
            edit::move_names(
                file.text(),
                &file.facts,
                site.import,
                &[name_index],
                canonical_module,
                &table.canonical_name,
                false,
                &self.first_party,
            )
            .map_err(str::to_string),
        )
    }

    fn module_name(&self, module: usize) -> &'a str {
        self.graph.modules[module]
            .name
            .as_deref()
            .unwrap_or_default()
    }

    /// The importable modules other than `except` that define `name` at module level, test
    /// modules last.
    fn defined_elsewhere(&self, name: &str, except: Option<usize>) -> Vec<&'a str> {
        let mut found: Vec<(bool, &str)> = self
            .definitions
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(module, _)| Some(*module) != except)
            .map(|&(module, _)| {
                let path = &self.graph.files[self.graph.modules[module].file].path;
                (concept::is_test_path(path), self.module_name(module))
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|(_, module)| module).collect()
    }

    /// The name bound in `module` nearest to `name`, if one is close enough to be a typo.
    fn similar(&self, module: usize, name: &str) -> Option<String> {
        let facts = self.graph.facts(module);
        let mut candidates: Vec<&str> = facts
            .definitions
            .iter()
            .filter(|d| d.context.scope == Scope::Module)
            .map(|d| d.name.as_str())
            .chain(
                facts
                    .imports
                    .iter()
                    .filter(|i| i.context.scope == Scope::Module)
                    .flat_map(|i| i.names.iter().map(|n| n.bound_name(i.kind)))
                    .filter(|n| *n != "*"),
            )
            .collect();
        if self.graph.modules[module].is_package {
            let prefix = format!("{}.", self.module_name(module));
            candidates.extend(
                self.graph
                    .by_name
                    .keys()
                    .filter_map(|m| m.strip_prefix(&prefix))
                    .filter(|rest| !rest.contains('.')),
            );
        }
        nearest(name, candidates)
    }

    /// The module of the package `parent` nearest to `parent.component`.
    fn similar_module(&self, parent: &str, component: &str) -> Option<String> {
        let prefix = format!("{parent}.");
        let children = self
            .graph
            .by_name
            .keys()
            .filter_map(|m| m.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('.'));
        nearest(component, children).map(|child| format!("{parent}.{child}"))
    }
}

/// The candidate nearest to `name` by Jaro-Winkler, if it is close enough to be a typo or a
/// rename (`Absent` and `Absents`, not `Absent` and `Present`).
fn nearest<'n>(name: &str, candidates: impl IntoIterator<Item = &'n str>) -> Option<String> {
    const THRESHOLD: f64 = 0.85;
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name && !candidate.starts_with("__"))
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, candidate)| candidate.to_string())
}

/// "`Name` is defined in `a.b`: `from a.b import Name`" (keeping an `as` name), or the first
/// three modules.
fn defined_in(imported: &ImportedName, modules: &[&str]) -> String {
    let name = &imported.name;
    let alias = imported
        .alias
        .as_ref()
        .map(|alias| format!(" as {alias}"))
        .unwrap_or_default();
    match modules {
        [one] => format!("`{name}` is defined in `{one}`: `from {one} import {name}{alias}`"),
        _ if modules.len() <= 3 => format!("`{name}` is defined in {}", quoted_list(modules)),
        _ => format!(
            "`{name}` is defined in {} and {}",
            quoted_list(&modules[..3]),
            plural(modules.len() - 3, "more module")
        ),
    }
}

/// A lower-case name, as PEP 8 spells modules: it may be a submodule.
fn is_module_like(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Modules a build or a tool writes, often left out of version control: `_version.py`
/// (setuptools-scm, versioneer, hatch-vcs), protobuf and gRPC stubs, numpy's `__config__`.
fn generated(component: &str) -> bool {
    let lower = component.to_ascii_lowercase();
    lower.contains("version")
        || lower.ends_with("_pb2")
        || lower.ends_with("_pb2_grpc")
        || lower == "__config__"
        || lower.contains("build_info")
        || lower.contains("generated")
}

/// Whether the statement at `offset` sits directly in a `with` block that expects it to fail,
/// as a test of an import error does: `with pytest.raises(ImportError):`,
/// `with self.assertRaisesRegex(ImportError, "cannot import name"):`.
fn expects_failure(text: &[u8], offset: u32) -> bool {
    let indentation = |line: &[u8]| {
        line.iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count()
    };
    let start = line_start(text, offset as usize);
    let own = indentation(&text[start..]);
    let mut end = start;
    while end > 0 {
        let begin = line_start(text, end - 1);
        let line = &text[begin..end];
        end = begin;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        if indentation(line) >= own {
            continue;
        }
        let header = trimmed.strip_prefix(b"async ").unwrap_or(trimmed);
        return header.starts_with(b"with ")
            && [
                &b"raises"[..],
                b"Raises",
                b"ImportError",
                b"ModuleNotFoundError",
            ]
            .iter()
            .any(|needle| contains(header, needle));
    }
    false
}

/// Whether `text` calls the builtin `call` (`globals()`, not `get_config_vars()` or
/// `cursor.exec(`).
fn calls(text: &[u8], call: &[u8]) -> bool {
    memchr::memmem::find_iter(text, call).any(|at| {
        at == 0 || !matches!(text[at - 1], b'_' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
