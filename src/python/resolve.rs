//! Python resolution: file paths to module names, imports to the definitions they reach.
//!
//! A module's namespace is the set of its module-level bindings (definitions, assignments,
//! imports, star imports). A binding inside a conditional block (`try`, `except ImportError`,
//! `if`) adds a possibility; an unconditional one replaces what came before. So
//! `try: from fast import X` / `except ImportError: from slow import X` resolves `X` to both
//! origins, while `X = 1` then `from a import X` resolves to `a`'s `X` only.
//!
//! Invariant: every lookup terminates: cycles and chains deeper than [`MAX_DEPTH`] resolve to
//! nothing, which the importer sees as a missing name.

use std::collections::BTreeSet;

// FxHash: the keys are short names and indices, hashed hundreds of thousands of times;
// SipHash's flooding resistance buys nothing for a repository's own names.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;
use std::rc::Rc;

use crate::facts::{DefKind, FileFacts, ImportKind, Scope};
use crate::graph::{Graph, Module, Origin, OriginKind, Resolution};
use crate::walk::{Language, SourceFile, Walk};

/// Longer re-export chains than this are treated as unresolvable (real code needs < 10).
const MAX_DEPTH: u32 = 64;

/// Builds the graph of the walked files, with module names from `python_roots` (relative to
/// the repository root).
/// How many modules one resolver takes (see `resolve`).
const RESOLVE_CHUNK: usize = 512;

/// A module's import verdicts, alias origins and string verdicts.
type ModuleVerdicts = (
    Vec<Vec<Resolution>>,
    HashMap<usize, Vec<Origin>>,
    Vec<Resolution>,
);

pub fn resolve(walk: Walk, python_roots: &[impl AsRef<Path>]) -> Graph {
    let roots: Vec<String> = python_roots
        .iter()
        .map(|root| crate::walk::relative_path(Path::new(""), root.as_ref()))
        .map(|root| if root == "." { String::new() } else { root })
        .collect();
    let mut modules = Vec::with_capacity(walk.files.len());
    // name -> (priority, module index); the lowest priority wins.
    let mut claims: HashMap<String, ((usize, bool), usize)> = HashMap::default();
    for (index, file) in walk.files.iter().enumerate() {
        let found = match file.language {
            Language::Python => module_name(&file.path, &roots),
            Language::Rust => None,
        };
        if let Some((name, is_package, root_index)) = &found {
            let priority = (*root_index, !is_package);
            let claim = claims.entry(name.clone()).or_insert((priority, index));
            if priority < claim.0 {
                *claim = (priority, index);
            }
        }
        modules.push(Module {
            name: found.as_ref().map(|(name, _, _)| name.clone()),
            file: index,
            is_package: found.as_ref().is_some_and(|(_, is_package, _)| *is_package),
            resolutions: Vec::new(),
            alias_origins: HashMap::default(),
            string_resolutions: Vec::new(),
        });
    }
    let by_name: HashMap<String, usize> = claims
        .into_iter()
        .map(|(name, (_, index))| (name, index))
        .collect();
    let mut namespaces = HashSet::default();
    let mut top_level = HashSet::default();
    for name in by_name.keys() {
        let mut prefix = name.as_str();
        while let Some(dot) = prefix.rfind('.') {
            prefix = &prefix[..dot];
            if !by_name.contains_key(prefix) {
                namespaces.insert(prefix.to_string());
            }
        }
        top_level.insert(name.split('.').next().unwrap_or(name).to_string());
    }

    let scopes: Vec<Namespace> = {
        use rayon::prelude::*;
        walk.files
            .par_iter()
            .map(|file| match file.language {
                Language::Python => Namespace::of(&file.facts),
                Language::Rust => Namespace::default(),
            })
            .collect()
    };
    // Modules are resolved in fixed chunks, each by a resolver of its own (its memo is
    // private), on all cores: the verdicts depend on the chunking, never on the thread count.
    let chunks: Vec<Vec<ModuleVerdicts>> = {
        use rayon::prelude::*;
        (0..modules.len())
            .into_par_iter()
            .chunks(RESOLVE_CHUNK)
            .map(|chunk| {
                let mut resolver = Resolver {
                    files: &walk.files,
                    modules: &modules,
                    by_name: &by_name,
                    namespaces: &namespaces,
                    top_level: &top_level,
                    scopes: &scopes,
                    memo: HashMap::default(),
                    exports: HashMap::default(),
                    active: HashSet::default(),
                };
                chunk
                    .into_iter()
                    .map(|index| {
                        if walk.files[index].language != Language::Python {
                            return ModuleVerdicts::default();
                        }
                        (
                            resolver.module_imports(index),
                            resolver.module_aliases(index),
                            resolver.module_strings(index),
                        )
                    })
                    .collect()
            })
            .collect()
    };
    let mut resolutions = Vec::with_capacity(modules.len());
    let mut alias_origins = Vec::with_capacity(modules.len());
    let mut strings = Vec::with_capacity(modules.len());
    for (imports, aliases, module_strings) in chunks.into_iter().flatten() {
        resolutions.push(imports);
        alias_origins.push(aliases);
        strings.push(module_strings);
    }
    for (((module, resolutions), aliases), strings) in modules
        .iter_mut()
        .zip(resolutions)
        .zip(alias_origins)
        .zip(strings)
    {
        module.resolutions = resolutions;
        module.alias_origins = aliases;
        module.string_resolutions = strings;
    }
    let mut by_name = by_name;
    let crate::rust::resolve::Built {
        index: rust,
        names: rust_names,
        resolutions: rust_resolutions,
        strings: rust_strings,
    } = crate::rust::resolve::build(&walk.files, &walk.manifests);
    for (module, ((name, verdicts), strings)) in modules.iter_mut().zip(
        rust_names
            .into_iter()
            .zip(rust_resolutions)
            .zip(rust_strings),
    ) {
        if walk.files[module.file].language == Language::Rust {
            module.name = name;
            module.resolutions = verdicts;
            module.string_resolutions = strings;
        }
    }
    // Every Rust module path (inline ones too) names its file; a Python module of the same
    // name keeps it.
    for module in &rust.modules {
        by_name.entry(module.path.clone()).or_insert(module.file);
    }
    Graph {
        files: walk.files,
        modules,
        by_name,
        skipped: walk.skipped,
        other_files: walk.other_files,
        manifests: walk.manifests,
        python: Index {
            scopes,
            namespaces,
            top_level,
        },
        rust,
    }
}

/// What the resolver needs beyond the graph's modules, kept for later queries.
#[derive(Debug, Default)]
pub struct Index {
    scopes: Vec<Namespace>,
    namespaces: HashSet<String>,
    top_level: HashSet<String>,
}

/// Resolution on demand, after the graph is built: `graph.query().dotted("a.b.C")`. Lookups
/// are memoised for the life of the query.
pub struct Query<'g> {
    python: Resolver<'g>,
    rust: crate::rust::resolve::Resolver<'g>,
    graph: &'g Graph,
}

impl Graph {
    pub fn query(&self) -> Query<'_> {
        Query {
            graph: self,
            rust: crate::rust::resolve::Resolver::new(&self.files, &self.rust),
            python: Resolver {
                files: &self.files,
                modules: &self.modules,
                by_name: &self.by_name,
                namespaces: &self.python.namespaces,
                top_level: &self.python.top_level,
                scopes: &self.python.scopes,
                memo: HashMap::default(),
                exports: HashMap::default(),
                active: HashSet::default(),
            },
        }
    }
}

impl Query<'_> {
    fn is_rust(&self, module: usize) -> bool {
        self.graph.files[self.graph.modules[module].file].language == Language::Rust
    }

    /// Where a dotted path (`"pkg.mod.Name"`, `"pkg.mod"`; Rust: `krate::m::Name`) leads, as
    /// for a string reference.
    pub fn dotted(&mut self, value: &str) -> Resolution {
        if value.contains("::") {
            return self.rust.absolute(value);
        }
        self.python.string_verdict(value)
    }

    /// The origins of `name` in the module-level namespace of the module at `module`
    /// (definitions, imports, star imports); empty when it does not bind the name. For a
    /// Rust file, the namespace of its file module.
    pub fn name(&mut self, module: usize, name: &str) -> Vec<Origin> {
        if self.is_rust(module) {
            return match self.graph.rust.file_module(module) {
                Some(rust_module) => self.rust.lookup(rust_module, name, rust_module, 0),
                None => Vec::new(),
            };
        }
        match self.python.lookup(module, name, 0) {
            Lookup::Found(origins) => origins,
            Lookup::Missing | Lookup::Dynamic => Vec::new(),
        }
    }

    /// The origins of `name` in a Rust module (an index into `graph.rust.modules`).
    pub fn rust_name(&mut self, rust_module: usize, name: &str) -> Vec<Origin> {
        self.rust.lookup(rust_module, name, rust_module, 0)
    }

    /// The absolute module an import statement names (`from ..a import b` in `pkg.sub.m`
    /// gives `pkg.a`); `None` when a relative import climbs above the top-level package.
    /// Rust: the module path the `use` prefix leads to (`crate::m` in crate `app` gives
    /// `app::m`); `None` when it leads to no module of the workspace.
    pub fn import_target(&self, module: usize, import: &crate::facts::Import) -> Option<String> {
        if self.is_rust(module) {
            if let Some(known) = self.graph.rust.import_target(module, import) {
                return known;
            }
            let rust_module = self
                .graph
                .rust
                .module_at(&self.graph.files, module, import.span)?;
            return crate::rust::resolve::Resolver::new(&self.graph.files, &self.graph.rust)
                .prefix_module(rust_module, import);
        }
        self.python.absolute(module, import.level, &import.module)
    }
}

/// `pkg/sub/mod.py` under root `""` is `pkg.sub.mod`; `pkg/__init__.py` is the package `pkg`.
/// Returns the name, whether it is a package, and the index of the root used (the longest
/// root containing the file).
fn module_name(path: &str, roots: &[String]) -> Option<(String, bool, usize)> {
    let (root_index, rest) = roots
        .iter()
        .enumerate()
        .filter_map(|(index, root)| {
            if root.is_empty() {
                Some((index, path))
            } else {
                path.strip_prefix(root.as_str())?
                    .strip_prefix('/')
                    .map(|rest| (index, rest))
            }
        })
        .max_by_key(|(index, _)| (roots[*index].len(), std::cmp::Reverse(*index)))?;
    let stem = rest.strip_suffix(".py")?;
    let mut parts: Vec<&str> = stem.split('/').collect();
    let is_package = parts.last() == Some(&"__init__");
    if is_package {
        parts.pop();
    }
    if parts.is_empty() || !parts.iter().all(|part| is_identifier(part)) {
        return None;
    }
    Some((parts.join("."), is_package, root_index))
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && !matches!(
            text,
            "False"
                | "None"
                | "True"
                | "and"
                | "as"
                | "assert"
                | "async"
                | "await"
                | "break"
                | "class"
                | "continue"
                | "def"
                | "del"
                | "elif"
                | "else"
                | "except"
                | "finally"
                | "for"
                | "from"
                | "global"
                | "if"
                | "import"
                | "in"
                | "is"
                | "lambda"
                | "nonlocal"
                | "not"
                | "or"
                | "pass"
                | "raise"
                | "return"
                | "try"
                | "while"
                | "with"
                | "yield"
        )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binding {
    /// Index into `facts.definitions`.
    Definition(u32),
    /// `facts.imports[i].names[j]`.
    Import(u32, u32),
}

impl Binding {
    /// The name this binding binds, read from the facts.
    fn name(self, facts: &FileFacts) -> &str {
        match self {
            Binding::Definition(index) => &facts.definitions[index as usize].name,
            Binding::Import(import, name) => {
                let import = &facts.imports[import as usize];
                import.names[name as usize].bound_name(import.kind)
            }
        }
    }
}

/// The module-level bindings of one module: for each name, the bindings that may be live at
/// the end of the module (the last unconditional one and the conditional ones after it).
/// Flat, to stay small: `entries` sorted by the name's hash, each a range of `bindings`; the
/// names themselves are read from the facts.
#[derive(Debug, Default)]
struct Namespace {
    entries: Vec<(u64, u32, u32)>,
    bindings: Vec<Binding>,
    /// Star imports (indices into `facts.imports`), in source order.
    stars: Vec<u32>,
    has_getattr: bool,
}

fn name_key(name: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name)
}

impl Namespace {
    fn of(facts: &FileFacts) -> Namespace {
        // Bindings in source order: definitions and imports interleaved by position.
        let mut events: Vec<(u32, Binding, bool)> = Vec::new();
        for (index, definition) in facts.definitions.iter().enumerate() {
            if definition.context.scope == Scope::Module {
                events.push((
                    definition.name_span.start,
                    Binding::Definition(index as u32),
                    definition.context.conditional,
                ));
            }
        }
        let mut namespace = Namespace::default();
        for (index, import) in facts.imports.iter().enumerate() {
            if import.context.scope != Scope::Module {
                continue;
            }
            for (name_index, name) in import.names.iter().enumerate() {
                if name.name == "*" {
                    namespace.stars.push(index as u32);
                    continue;
                }
                events.push((
                    name.span.start,
                    Binding::Import(index as u32, name_index as u32),
                    import.context.conditional,
                ));
            }
        }
        events.sort_by_key(|event| event.0);
        // Per name, in source order: an unconditional binding replaces what came before.
        let mut by_name: HashMap<&str, Vec<Binding>> = HashMap::default();
        for (_, binding, conditional) in events {
            let bindings = by_name.entry(binding.name(facts)).or_default();
            if !conditional {
                bindings.clear();
            }
            bindings.push(binding);
        }
        let mut names: Vec<(u64, &str, Vec<Binding>)> = by_name
            .into_iter()
            .map(|(name, bindings)| (name_key(name), name, bindings))
            .collect();
        names.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        namespace.entries.reserve_exact(names.len());
        for (key, _, bindings) in names {
            let start = namespace.bindings.len() as u32;
            namespace.bindings.extend(bindings);
            namespace
                .entries
                .push((key, start, namespace.bindings.len() as u32));
        }
        namespace.bindings.shrink_to_fit();
        namespace.stars.shrink_to_fit();
        namespace.has_getattr = facts.definitions.iter().any(|definition| {
            definition.name == "__getattr__"
                && definition.context.scope == Scope::Module
                && matches!(definition.kind, DefKind::Function { .. })
        });
        namespace
    }

    /// The bindings of `name`.
    fn get<'n>(&'n self, facts: &FileFacts, name: &str) -> Option<&'n [Binding]> {
        let key = name_key(name);
        let first = self.entries.partition_point(|entry| entry.0 < key);
        self.entries[first..]
            .iter()
            .take_while(|entry| entry.0 == key)
            .map(|&(_, start, end)| &self.bindings[start as usize..end as usize])
            .find(|bindings| bindings[0].name(facts) == name)
    }

    /// Every bound name, each once.
    fn names<'f>(&'f self, facts: &'f FileFacts) -> impl Iterator<Item = &'f str> {
        self.entries
            .iter()
            .map(move |&(_, start, _)| self.bindings[start as usize].name(facts))
    }
}

/// Where a dotted module name leads.
#[derive(Clone, Copy, Debug)]
enum ModuleRef {
    File(usize),
    /// A namespace package: a directory without `__init__.py`.
    Namespace,
    External,
    Missing,
}

#[derive(Clone, Debug)]
enum Lookup {
    Found(Vec<Origin>),
    Missing,
    Dynamic,
}

struct Resolver<'a> {
    files: &'a [SourceFile],
    modules: &'a [Module],
    by_name: &'a HashMap<String, usize>,
    namespaces: &'a HashSet<String>,
    top_level: &'a HashSet<String>,
    scopes: &'a [Namespace],
    memo: HashMap<(usize, String), Lookup>,
    exports: HashMap<usize, Rc<BTreeSet<String>>>,
    /// Lookups in progress, to cut cycles.
    active: HashSet<(usize, String)>,
}

impl<'a> Resolver<'a> {
    fn facts(&self, module: usize) -> &'a FileFacts {
        &self.files[self.modules[module].file].facts
    }

    fn find_module(&self, name: &str) -> ModuleRef {
        let top = name.split('.').next().unwrap_or(name);
        if !self.top_level.contains(top) {
            ModuleRef::External
        } else if let Some(&index) = self.by_name.get(name) {
            ModuleRef::File(index)
        } else if self.namespaces.contains(name) {
            ModuleRef::Namespace
        } else {
            ModuleRef::Missing
        }
    }

    /// The absolute module name of `from <dots><module> import ...` written in `importer`.
    fn absolute(&self, importer: usize, level: u32, module: &str) -> Option<String> {
        if level == 0 {
            return Some(module.to_string());
        }
        let this = &self.modules[importer];
        let name = this.name.as_deref()?;
        let mut package: Vec<&str> = name.split('.').collect();
        if !this.is_package {
            package.pop();
        }
        for _ in 1..level {
            package.pop()?;
        }
        if package.is_empty() {
            // `from . import x` in a top-level module: no parent package.
            return None;
        }
        let mut absolute = package.join(".");
        if !module.is_empty() {
            absolute.push('.');
            absolute.push_str(module);
        }
        Some(absolute)
    }

    fn module_imports(&mut self, index: usize) -> Vec<Vec<Resolution>> {
        let facts = self.facts(index);
        facts
            .imports
            .iter()
            .map(|import| {
                let target = match import.kind {
                    ImportKind::From => self.absolute(index, import.level, &import.module),
                    ImportKind::Module => None,
                };
                import
                    .names
                    .iter()
                    .map(|name| match import.kind {
                        ImportKind::Module => self.module_verdict(&name.name),
                        ImportKind::From => {
                            let Some(target) = &target else {
                                let written = format!(
                                    "{}{}",
                                    ".".repeat(import.level as usize),
                                    import.module
                                );
                                return Resolution::MissingModule { module: written };
                            };
                            if name.name == "*" {
                                self.module_verdict(target)
                            } else {
                                self.name_verdict(target, &name.name)
                            }
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn module_aliases(&mut self, index: usize) -> HashMap<usize, Vec<Origin>> {
        let facts = self.facts(index);
        let mut out = HashMap::default();
        for (definition_index, definition) in facts.definitions.iter().enumerate() {
            if definition.context.scope == Scope::Module
                && matches!(definition.kind, DefKind::Alias { .. })
            {
                out.insert(
                    definition_index,
                    self.binding(index, Binding::Definition(definition_index as u32), 0),
                );
            }
        }
        out
    }

    fn module_strings(&mut self, index: usize) -> Vec<Resolution> {
        let facts = self.facts(index);
        facts
            .string_refs
            .iter()
            .map(|reference| self.string_verdict(&reference.value))
            .collect()
    }

    /// `"a.b.C.method"`: the longest prefix that is a module, then attributes of it. Attributes
    /// of a class or a value are not followed: the string resolves to that class or value.
    fn string_verdict(&mut self, value: &str) -> Resolution {
        let parts: Vec<&str> = value.split('.').collect();
        for cut in (1..=parts.len()).rev() {
            let module = parts[..cut].join(".");
            match self.find_module(&module) {
                ModuleRef::External => return Resolution::External { module },
                ModuleRef::Missing if cut == 1 => return Resolution::MissingModule { module },
                ModuleRef::Missing => continue,
                ModuleRef::File(_) | ModuleRef::Namespace => {}
            }
            let Some(first) = parts.get(cut) else {
                return Resolution::Resolved {
                    origins: vec![module_origin(&module)],
                };
            };
            let mut origins = match self.attribute(&module, first, 0) {
                Lookup::Found(origins) => origins,
                Lookup::Missing => return Resolution::MissingName { module },
                Lookup::Dynamic => return Resolution::Dynamic { module },
            };
            for part in &parts[cut + 1..] {
                if !origins
                    .iter()
                    .all(|origin| origin.kind == OriginKind::Module)
                {
                    break;
                }
                let mut next = Vec::new();
                for origin in &origins {
                    match self.attribute(&origin.module, part, 0) {
                        Lookup::Found(found) => next.extend(found),
                        Lookup::Missing => {
                            return Resolution::MissingName {
                                module: origin.module.clone(),
                            };
                        }
                        Lookup::Dynamic => {
                            return Resolution::Dynamic {
                                module: origin.module.clone(),
                            };
                        }
                    }
                }
                origins = next;
            }
            origins.sort();
            origins.dedup();
            return Resolution::Resolved { origins };
        }
        Resolution::External {
            module: value.to_string(),
        }
    }

    fn module_verdict(&self, name: &str) -> Resolution {
        match self.find_module(name) {
            ModuleRef::File(_) | ModuleRef::Namespace => Resolution::Resolved {
                origins: vec![module_origin(name)],
            },
            ModuleRef::External => Resolution::External {
                module: name.to_string(),
            },
            ModuleRef::Missing => Resolution::MissingModule {
                module: name.to_string(),
            },
        }
    }

    fn name_verdict(&mut self, module: &str, name: &str) -> Resolution {
        match self.find_module(module) {
            ModuleRef::External => Resolution::External {
                module: module.to_string(),
            },
            ModuleRef::Missing => Resolution::MissingModule {
                module: module.to_string(),
            },
            ModuleRef::Namespace | ModuleRef::File(_) => match self.attribute(module, name, 0) {
                Lookup::Found(origins) => Resolution::Resolved { origins },
                Lookup::Missing => Resolution::MissingName {
                    module: module.to_string(),
                },
                Lookup::Dynamic => Resolution::Dynamic {
                    module: module.to_string(),
                },
            },
        }
    }

    /// `module.name` where `module` is a module name: a binding of the module, else a submodule.
    fn attribute(&mut self, module: &str, name: &str, depth: u32) -> Lookup {
        let found = match self.find_module(module) {
            ModuleRef::File(index) => self.lookup(index, name, depth),
            ModuleRef::External => {
                return Lookup::Found(vec![Origin {
                    module: module.to_string(),
                    symbol: Some(name.to_string()),
                    kind: OriginKind::External,
                }]);
            }
            ModuleRef::Namespace | ModuleRef::Missing => Lookup::Missing,
        };
        if let Lookup::Found(_) = found {
            return found;
        }
        let submodule = format!("{module}.{name}");
        match self.find_module(&submodule) {
            ModuleRef::File(_) | ModuleRef::Namespace => {
                Lookup::Found(vec![module_origin(&submodule)])
            }
            _ => found,
        }
    }

    /// A name in the namespace of the module at `index`, through star imports.
    fn lookup(&mut self, index: usize, name: &str, depth: u32) -> Lookup {
        let key = (index, name.to_string());
        if let Some(found) = self.memo.get(&key) {
            return found.clone();
        }
        if depth > MAX_DEPTH || !self.active.insert(key.clone()) {
            return Lookup::Missing;
        }
        let found = self.lookup_uncached(index, name, depth);
        self.active.remove(&key);
        self.memo.insert(key, found.clone());
        found
    }

    fn lookup_uncached(&mut self, index: usize, name: &str, depth: u32) -> Lookup {
        let scope = &self.scopes[self.modules[index].file];
        if let Some(bindings) = scope.get(self.facts(index), name) {
            let mut origins = BTreeSet::new();
            for &binding in bindings {
                origins.extend(self.binding(index, binding, depth + 1));
            }
            return if origins.is_empty() {
                Lookup::Missing
            } else {
                Lookup::Found(origins.into_iter().collect())
            };
        }
        // The latest star import that exports the name wins.
        for &star in scope.stars.iter().rev() {
            let import = &self.facts(index).imports[star as usize];
            let Some(target) = self.absolute(index, import.level, &import.module) else {
                continue;
            };
            match self.find_module(&target) {
                ModuleRef::File(target_index)
                    if self
                        .exports(target_index, &mut HashSet::default())
                        .contains(name) =>
                {
                    return self.lookup(target_index, name, depth + 1);
                }
                // `from os.path import *`: the name may come from outside.
                ModuleRef::External => return self.attribute(&target, name, depth + 1),
                _ => {}
            }
        }
        if scope.has_getattr {
            Lookup::Dynamic
        } else {
            Lookup::Missing
        }
    }

    /// What `from module import *` binds: `__all__`, else every public module-level name.
    fn exports(&mut self, index: usize, visiting: &mut HashSet<usize>) -> Rc<BTreeSet<String>> {
        if let Some(names) = self.exports.get(&index) {
            return Rc::clone(names);
        }
        if !visiting.insert(index) {
            return Rc::default();
        }
        let facts = self.facts(index);
        let names: BTreeSet<String> = match &facts.exports {
            Some(exports) => exports.names.iter().cloned().collect(),
            None => {
                let scope = &self.scopes[self.modules[index].file];
                let mut names: BTreeSet<String> = scope
                    .names(facts)
                    .filter(|name| !name.starts_with('_'))
                    .map(str::to_string)
                    .collect();
                for &star in &scope.stars {
                    let import = &facts.imports[star as usize];
                    let target = self.absolute(index, import.level, &import.module);
                    if let Some(ModuleRef::File(target)) =
                        target.map(|target| self.find_module(&target))
                    {
                        names.extend(self.exports(target, visiting).iter().cloned());
                    }
                }
                names
            }
        };
        let names = Rc::new(names);
        self.exports.insert(index, Rc::clone(&names));
        names
    }

    fn binding(&mut self, index: usize, binding: Binding, depth: u32) -> Vec<Origin> {
        let module_name = self.modules[index].name.clone().unwrap_or_default();
        let facts = self.facts(index);
        match binding {
            Binding::Definition(definition) => {
                let definition = &facts.definitions[definition as usize];
                let kind = match &definition.kind {
                    DefKind::Class { .. } => OriginKind::Class,
                    DefKind::Function { .. } => OriginKind::Function,
                    DefKind::Variable => OriginKind::Variable,
                    DefKind::Alias { target } => {
                        let origins = self.dotted(index, target, depth);
                        if !origins.is_empty() {
                            return origins;
                        }
                        // An alias of a builtin or of something unknown is its own origin.
                        OriginKind::Variable
                    }
                };
                vec![Origin {
                    module: module_name,
                    symbol: Some(definition.name.clone()),
                    kind,
                }]
            }
            Binding::Import(import, name) => {
                let import = &facts.imports[import as usize];
                let imported = &import.names[name as usize];
                match import.kind {
                    ImportKind::Module => {
                        // `import a.b` binds `a`; `import a.b as m` binds `a.b`.
                        let bound = match imported.alias {
                            Some(_) => imported.name.clone(),
                            None => imported
                                .name
                                .split('.')
                                .next()
                                .unwrap_or_default()
                                .to_string(),
                        };
                        match self.find_module(&bound) {
                            ModuleRef::File(_) | ModuleRef::Namespace => {
                                vec![module_origin(&bound)]
                            }
                            ModuleRef::External => vec![Origin {
                                module: bound,
                                symbol: None,
                                kind: OriginKind::External,
                            }],
                            ModuleRef::Missing => Vec::new(),
                        }
                    }
                    ImportKind::From => {
                        let Some(target) = self.absolute(index, import.level, &import.module)
                        else {
                            return Vec::new();
                        };
                        match self.attribute(&target, &imported.name, depth + 1) {
                            Lookup::Found(origins) => origins,
                            Lookup::Missing | Lookup::Dynamic => Vec::new(),
                        }
                    }
                }
            }
        }
    }

    /// The origins of a dotted expression `a.b.C` evaluated in the module at `index`.
    fn dotted(&mut self, index: usize, dotted: &str, depth: u32) -> Vec<Origin> {
        let mut parts = dotted.split('.');
        let first = parts.next().unwrap_or_default();
        let mut origins = match self.lookup(index, first, depth + 1) {
            Lookup::Found(origins) => origins,
            _ => return Vec::new(),
        };
        for part in parts {
            let mut next = Vec::new();
            for origin in origins {
                match origin.kind {
                    OriginKind::Module => {
                        if let Lookup::Found(found) =
                            self.attribute(&origin.module, part, depth + 1)
                        {
                            next.extend(found);
                        }
                    }
                    OriginKind::External => next.push(Origin {
                        module: match origin.symbol {
                            Some(symbol) => format!("{}.{symbol}", origin.module),
                            None => origin.module,
                        },
                        symbol: Some(part.to_string()),
                        kind: OriginKind::External,
                    }),
                    // An attribute of a class or a value: not followed.
                    _ => {}
                }
            }
            origins = next;
        }
        origins.sort();
        origins.dedup();
        origins
    }
}

fn module_origin(name: &str) -> Origin {
    Origin {
        module: name.to_string(),
        symbol: None,
        kind: OriginKind::Module,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_from_roots() {
        let roots = vec![String::new(), "src".to_string()];
        assert_eq!(
            module_name("src/pkg/a.py", &roots),
            Some(("pkg.a".into(), false, 1))
        );
        assert_eq!(
            module_name("pkg/__init__.py", &roots),
            Some(("pkg".into(), true, 0))
        );
        assert_eq!(module_name("my-scripts/x.py", &roots), None);
        assert_eq!(module_name("__init__.py", &roots), None);
    }
}
