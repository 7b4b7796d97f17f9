//! The concept table: for each `[[concept]]` of `ssot.toml`, where its one definition lives
//! and every copy, factory, shim and importer of it, read off the resolved graph.
//!
//! Identity is the origin (the class object), never the name: `WebSocketManager = _Impl`
//! imported from a sibling module makes `_Impl`'s definition the origin, and every name in
//! every module that resolves to it is a binding of the concept.
//!
//! Invariant: the canonical module and the module that defines the origin are never shims
//! and hold no duplicates.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::config::{Concept, RelativePolicy, TestsPolicy};
use crate::facts::{DefKind, Definition, FileFacts, Guard, ImportKind, Scope, Span};
use crate::graph::{Graph, Origin, OriginKind, Resolution};
use crate::python::resolve::Query;

/// A concept's place in the graph.
#[derive(Debug)]
pub struct ConceptTable {
    /// Index into `Settings::concepts`.
    pub concept: usize,
    /// The module named by the canonical path (`pkg.mod` of `pkg.mod.Name`).
    pub canonical_module: usize,
    /// The last component of the canonical path.
    pub canonical_name: String,
    /// What the canonical path finally names.
    pub origin: Origin,
    /// The origin's definition (module, definition index), when it is in the repository.
    pub origin_site: Option<(usize, usize)>,
    /// Public methods of the origin class, sorted.
    pub public_methods: Vec<String>,
    /// Module-level names bound to the origin: `(module, name)`.
    pub bindings: HashSet<(usize, String)>,
    /// Every name under which some module binds the origin.
    pub names: BTreeSet<String>,
    pub implementations: Vec<Implementation>,
    pub factories: Vec<(usize, usize)>,
    pub shims: Vec<Shim>,
    /// Import statements (outside the canonical module, the origin's module and shims' own
    /// re-exports) binding the origin: `(module, import, name)`.
    pub importers: Vec<ImportSite>,
    /// Every `m.Name` read of the origin through a module bound by an import, canonical or
    /// not (SSOT002 reports the others; the burn-down counts their statements).
    pub attribute_sites: Vec<AttributeSite>,
    /// Fully qualified names (`module.Class.method`) of the allowed factories, as written and
    /// as resolved.
    pub allowed_factories: HashSet<String>,
    /// The modules of the concept's accepted `public` spellings.
    pub public_modules: HashSet<usize>,
    /// The modules `import <canonical module>` runs ([`crate::import_time::closure`]): a
    /// module among them cannot import from the canonical module at import time.
    pub canonical_closure: crate::import_time::Closure,
    /// The same for the origin's defining module, when it is another module.
    pub origin_closure: Option<crate::import_time::Closure>,
    /// Public methods of the origin class and of its bases in the repository, with whether
    /// each is `async`.
    pub interface: BTreeMap<String, bool>,
    /// Said once per run: most importers use a public re-export rather than the canonical
    /// path, which may be the path to declare.
    pub hint: Option<String>,
}

impl ConceptTable {
    /// Would an import-time import of `target` in `module` close a cycle: does importing
    /// `target` run `module`? Only the canonical and the defining module are known.
    pub fn import_cycle(&self, module: usize, target: usize) -> Option<bool> {
        self.closure_of(target)
            .map(|closure| closure.contains(module))
    }

    /// The import-time closure of the canonical or the defining module.
    pub fn closure_of(&self, target: usize) -> Option<&crate::import_time::Closure> {
        if target == self.canonical_module {
            Some(&self.canonical_closure)
        } else if Some(target) == self.origin_site.map(|(origin, _)| origin) {
            self.origin_closure.as_ref()
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportSite {
    pub module: usize,
    pub import: usize,
    pub name: usize,
    /// `from <canonical module> import <canonical name>`, written absolutely.
    pub canonical: bool,
    /// A spelling the concept accepts: canonical, a `public` path, a relative spelling of
    /// the canonical module under `relative = "allow"`, or the defining module from a module
    /// the canonical one imports at import time (the only spelling without a cycle).
    pub accepted: bool,
}

/// A class that re-implements the concept, or a concept-like name bound to another class.
#[derive(Debug)]
pub struct Implementation {
    pub module: usize,
    pub definition: usize,
    pub reason: Reason,
    pub in_test: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The class name matches this `implementations` glob (or is the canonical name), and
    /// the class does the concept's job: `evidence` says how (shared methods, a subclass).
    Name {
        glob: String,
        evidence: String,
        /// The evidence is that it subclasses the canonical class.
        subclass: bool,
    },
    /// Its public methods overlap the canonical class's: Jaccard index and shared names.
    Similar { score: f64, shared: Vec<String> },
    /// A module-level alias with a concept-like name bound to another class.
    Alias(Origin),
}

/// A non-canonical module that re-exports the concept.
#[derive(Debug)]
pub struct Shim {
    pub module: usize,
    /// The names it binds the origin under, sorted.
    pub names: Vec<String>,
    /// Where it binds the first of them: an import statement index, else a definition index.
    pub site: ShimSite,
    /// Imports elsewhere that go through it: `(module, import)`.
    pub importers: Vec<(usize, usize)>,
    /// The re-export is public API: listed in a package `__init__`'s `__all__`, or written
    /// `from m import X as X`. Deleting it would break downstream users.
    pub public: bool,
    /// String references naming it or its concept names: `(module, string ref)`.
    pub strings: Vec<(usize, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShimSite {
    Import(usize),
    Definition(usize),
}

/// The canonical path names nothing: a configuration error for the concept.
#[derive(Debug)]
pub struct CanonicalError {
    pub concept: usize,
    /// The key of the concept the error is about: `canonical` or `public`.
    pub key: &'static str,
    pub message: String,
    /// The nearest existing definitions (dotted paths), best first.
    pub nearest: Vec<String>,
    /// The path names something, but not a class or a type (a function, a variable, a
    /// module).
    pub not_a_class: bool,
}

/// Is `path` (relative, `/`-separated) a test file: under a `tests/` or `test/` directory,
/// `test_*.py`, `*_test.py` or `conftest.py`?
pub fn is_test_path(path: &str) -> bool {
    let mut parts = path.split('/');
    let file = parts.next_back().unwrap_or_default();
    if parts.any(|dir| dir == "tests" || dir == "test") {
        return true;
    }
    let stem = file
        .strip_suffix(".py")
        .or_else(|| file.strip_suffix(".pyi"))
        .unwrap_or(file);
    stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest"
}

/// Classes that share a name pattern with a concept but are never an implementation of it:
/// test cases, exceptions, enums and typing protocols.
pub fn is_exempt_class(definition: &Definition) -> bool {
    let DefKind::Class { bases, .. } = &definition.kind else {
        return true;
    };
    if definition.name.starts_with("Test") {
        return true;
    }
    bases.iter().any(|base| {
        let last = base
            .split('[')
            .next()
            .unwrap_or(base)
            .rsplit('.')
            .next()
            .unwrap_or(base);
        last.ends_with("TestCase")
            || last.ends_with("Exception")
            || last.ends_with("Error")
            || last.ends_with("Warning")
            || matches!(
                last,
                "Enum" | "IntEnum" | "StrEnum" | "Flag" | "IntFlag" | "Protocol"
            )
    })
}

/// The dotted qualified name of a definition inside its module: `Class.method`.
pub fn qualname(facts: &FileFacts, definition: usize) -> String {
    let mut parts = vec![facts.definitions[definition].name.as_str()];
    let mut parent = facts.definitions[definition].parent;
    while let Some(index) = parent {
        let Some(outer) = facts.definitions.get(index as usize) else {
            break;
        };
        parts.push(&outer.name);
        parent = outer.parent;
    }
    parts.reverse();
    parts.join(".")
}

/// Builds the table of every concept, or the errors of those whose canonical path names
/// nothing.
pub fn build(
    graph: &Graph,
    concepts: &[Concept],
) -> Result<Vec<ConceptTable>, Vec<CanonicalError>> {
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    for (index, concept) in concepts.iter().enumerate() {
        match build_one(graph, index, concept) {
            Ok(table) => tables.push(table),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(tables)
    } else {
        Err(errors)
    }
}

fn build_one(
    graph: &Graph,
    index: usize,
    concept: &Concept,
) -> Result<ConceptTable, CanonicalError> {
    let error = |message: String, nearest: Vec<String>| CanonicalError {
        concept: index,
        key: "canonical",
        message,
        nearest,
        not_a_class: false,
    };
    // Rust paths are `krate::a::B`; everything below compares paths in their own spelling.
    let rust = concept.canonical.contains("::");
    let sep = if rust { "::" } else { "." };
    let parts: Vec<&str> = concept.canonical.split(sep).collect();
    let module_cut = (1..parts.len())
        .rev()
        .find(|&cut| graph.by_name.contains_key(&parts[..cut].join(sep)));
    let Some(cut) = module_cut else {
        let module = parts[..parts.len().saturating_sub(1).max(1)].join(sep);
        if rust && graph.rust.modules.is_empty() {
            return Err(error(
                format!(
                    "no module `{module}`: the repository has no Rust crate (a Rust path needs `rust-roots` in `[project]`, where a Cargo.toml is)"
                ),
                Vec::new(),
            ));
        }
        return Err(error(
            format!("no module `{module}` in the repository"),
            nearest_definitions(graph, &concept.canonical),
        ));
    };
    let module_name = parts[..cut].join(sep);
    let canonical_module = graph.by_name[&module_name];
    if parts.len() != cut + 1 {
        return Err(error(
            format!(
                "no module `{}` in the repository",
                parts[..parts.len() - 1].join(sep)
            ),
            nearest_definitions(graph, &concept.canonical),
        ));
    }
    let canonical_name = parts[cut].to_string();
    let mut query = graph.query();
    let origins = match graph.rust.by_path.get(&module_name) {
        Some(&rust_module) if rust => query.rust_name(rust_module, &canonical_name),
        _ => query.name(canonical_module, &canonical_name),
    };
    let Some(origin) = origins
        .iter()
        .find(|origin| origin.kind == OriginKind::Class)
        .or_else(|| origins.first())
        .cloned()
    else {
        return Err(error(
            format!("module `{module_name}` does not define `{canonical_name}`"),
            nearest_definitions(graph, &concept.canonical),
        ));
    };

    // The rules look for the class's copies, imports and constructions: a function, a
    // variable or a module as the canonical is a configuration mistake, not a concept.
    // `Attribute = _add_repr(Attribute)` after `class Attribute:` (attrs) is still the class.
    let rebinds_class = || {
        graph.by_name.get(&origin.module).is_some_and(|&module| {
            graph.facts(module).definitions.iter().any(|definition| {
                Some(&definition.name) == origin.symbol.as_ref()
                    && matches!(definition.kind, DefKind::Class { .. })
            })
        })
    };
    let what = match origin.kind {
        OriginKind::Class | OriginKind::External => None,
        OriginKind::Variable if rebinds_class() => None,
        OriginKind::Function => Some("a function"),
        OriginKind::Variable => Some("a variable"),
        OriginKind::Module => Some("a module"),
    };
    if let Some(what) = what {
        let kind = if rust { "type" } else { "class" };
        let place = match &origin.symbol {
            Some(symbol)
                if (origin.module.as_str(), symbol.as_str())
                    != (module_name.as_str(), canonical_name.as_str()) =>
            {
                format!(" (`{}{sep}{symbol}`)", origin.module)
            }
            _ => String::new(),
        };
        return Err(CanonicalError {
            not_a_class: true,
            ..error(
                format!(
                    "`{}` is {what}{place}, not a {kind}: name the {kind} itself (a factory \
                     goes in `allowed-factories`)",
                    concept.canonical
                ),
                Vec::new(),
            )
        });
    }

    let origin_module = graph.by_name.get(&origin.module).copied();
    let origin_site = definition_of(graph, &origin);
    let public_methods: Vec<String> = match origin_site
        .map(|(module, definition)| &graph.facts(module).definitions[definition].kind)
    {
        Some(DefKind::Class { methods, .. }) => {
            let set: BTreeSet<&String> = methods.iter().filter(|m| !m.starts_with('_')).collect();
            set.into_iter().cloned().collect()
        }
        _ => Vec::new(),
    };

    // Every name some module binds the origin under, then every module-level binding of them.
    let mut names = BTreeSet::from([canonical_name.clone()]);
    names.extend(origin.symbol.clone());
    for module in &graph.modules {
        let facts = &graph.files[module.file].facts;
        for (import, verdicts) in facts.imports.iter().zip(&module.resolutions) {
            for (name, verdict) in import.names.iter().zip(verdicts) {
                if verdict.origins().contains(&origin) {
                    names.insert(name.bound_name(import.kind).to_string());
                }
            }
        }
        for (&definition, origins) in &module.alias_origins {
            if origins.contains(&origin) {
                names.insert(facts.definitions[definition].name.clone());
            }
        }
    }
    let mut bindings = HashSet::new();
    for (module_index, module) in graph.modules.iter().enumerate() {
        if module.name.is_none() {
            continue;
        }
        for name in &names {
            if query.name(module_index, name).contains(&origin) {
                bindings.insert((module_index, name.clone()));
            }
        }
    }

    let mut public_modules = HashSet::new();
    for path in &concept.public {
        let (module, name) = path.rsplit_once(sep).unwrap_or(("", path));
        match graph.by_name.get(module) {
            Some(&index) if query.name(index, name).contains(&origin) => {
                public_modules.insert(index);
            }
            _ => {
                return Err(CanonicalError {
                    concept: index,
                    key: "public",
                    message: format!(
                        "`{path}` is not a name of `{}` (every `public` path must be the canonical class)",
                        concept.canonical
                    ),
                    nearest: Vec::new(),
                    not_a_class: false,
                });
            }
        }
    }
    let interface = origin_site
        .map(|(module, definition)| class_interface(graph, &mut query, module, definition))
        .unwrap_or_default();
    let canonical_closure = crate::import_time::closure(graph, &query, canonical_module);
    let origin_closure = origin_module
        .filter(|&module| module != canonical_module)
        .map(|module| crate::import_time::closure(graph, &query, module));

    let allowed_factories = allowed_factories(graph, concept);
    let excluded = |module: usize| {
        module == canonical_module
            || Some(module) == origin_module
            || public_modules.contains(&module)
    };
    let concept_like = |name: &str| {
        name == canonical_name
            || origin.symbol.as_deref() == Some(name)
            || concept.implementations_set.is_match(name)
            || name.contains(canonical_name.as_str())
    };
    // `m.Name` through the canonical module or a declared public path is accepted.
    let attribute_accepted = |through: &str, attribute: &str| {
        through == module_name
            || concept
                .public
                .iter()
                .any(|path| path.rsplit_once(sep) == Some((through, attribute)))
    };
    let attribute_sites = attribute_sites(
        graph,
        &mut query,
        &names,
        &origin,
        &attribute_accepted,
        &excluded,
    );
    // `quiet`: public re-exports nobody in the repository goes through (no finding).
    let (shims, quiet) = shims(
        graph,
        &mut query,
        &bindings,
        &origin,
        &attribute_sites,
        &excluded,
        &concept_like,
    );
    // Rust: an importer that cannot name the canonical module (a private module on the way)
    // has no other path; a public re-export only such importers go through is quiet.
    let (shims, quiet): (Vec<Shim>, Vec<Shim>) = if rust {
        let mut quiet = quiet;
        let mut kept = Vec::new();
        for mut shim in shims {
            shim.importers.retain(|&(module, import)| {
                rust_reaches(
                    graph,
                    &module_name,
                    module,
                    graph.facts(module).imports[import].span,
                )
            });
            if shim.public && shim.importers.is_empty() && shim.strings.is_empty() {
                quiet.push(shim);
            } else {
                kept.push(shim);
            }
        }
        (kept, quiet)
    } else {
        (shims, quiet)
    };
    // A shim's own re-export (`Name = m.Name`) is its SSOT005 finding, not a use.
    let mut attribute_sites = attribute_sites;
    for site in &mut attribute_sites {
        let Some(shim) = shims
            .iter()
            .chain(&quiet)
            .find(|shim| shim.module == site.module)
        else {
            continue;
        };
        let facts = graph.facts(site.module);
        site.uses.retain(|(span, _)| {
            !facts.definitions.iter().any(|definition| {
                definition.context.scope == Scope::Module
                    && shim.names.contains(&definition.name)
                    && definition.span.start <= span.start
                    && span.end <= definition.span.end
            })
        });
    }
    attribute_sites.retain(|site| !site.uses.is_empty());
    let shim_imports: HashSet<(usize, usize)> = shims
        .iter()
        .chain(&quiet)
        .flat_map(|shim| {
            let facts = graph.facts(shim.module);
            facts
                .imports
                .iter()
                .enumerate()
                .filter(|(_, import)| import.context.scope == Scope::Module)
                .filter(|(_, import)| {
                    import.names.iter().any(|name| {
                        shim.names.iter().any(|n| n == name.bound_name(import.kind))
                            || name.name == "*"
                    })
                })
                .map(move |(import, _)| (shim.module, import))
        })
        .collect();

    let mut importers = Vec::new();
    for (module_index, module) in graph.modules.iter().enumerate() {
        if excluded(module_index) {
            continue;
        }
        let facts = &graph.files[module.file].facts;
        for (import_index, (import, verdicts)) in
            facts.imports.iter().zip(&module.resolutions).enumerate()
        {
            if shim_imports.contains(&(module_index, import_index)) {
                continue;
            }
            for (name_index, (name, verdict)) in import.names.iter().zip(verdicts).enumerate() {
                if name.name == "*" || !verdict.origins().contains(&origin) {
                    continue;
                }
                let target_name = query.import_target(module_index, import);
                // Rust: any spelling of the canonical module's path (`crate::`, `super::`,
                // the crate's name or a dependency's rename) is the canonical import.
                let canonical = name.name == canonical_name
                    && if rust {
                        target_name.as_deref() == Some(module_name.as_str())
                    } else {
                        import.kind == ImportKind::From
                            && import.level == 0
                            && import.module == module_name
                    };
                let target = target_name.and_then(|target| graph.by_name.get(&target).copied());
                let at_import_time =
                    import.context.scope != Scope::Function && !import.context.type_checking;
                let accepted = canonical
                    || target.is_some_and(|target| {
                        // `from pkg import Session` where `pkg.Session` is public.
                        (public_modules.contains(&target)
                            && concept.public.iter().any(|path| {
                                path.rsplit_once(sep).is_some_and(|(m, n)| {
                                    n == name.name && graph.modules[target].name.as_deref() == Some(m)
                                })
                            }))
                            || (concept.relative == RelativePolicy::Allow
                                && import.level > 0
                                && target == canonical_module
                                && name.name == canonical_name)
                            // The canonical module runs this one at import time: the
                            // defining module is the only spelling without a cycle.
                            || (at_import_time
                                && Some(target) == origin_module
                                && canonical_closure.contains(module_index)
                                && origin_closure
                                    .as_ref()
                                    .is_none_or(|closure| !closure.contains(module_index)))
                    })
                    // Rust: a private module on the way to the canonical one leaves the
                    // re-export as the only path there is.
                    || (rust && !rust_reaches(graph, &module_name, module_index, import.span));
                importers.push(ImportSite {
                    module: module_index,
                    import: import_index,
                    name: name_index,
                    canonical,
                    accepted,
                });
            }
        }
    }

    let mut table = ConceptTable {
        concept: index,
        canonical_module,
        canonical_name,
        origin,
        origin_site,
        public_methods,
        bindings,
        names,
        implementations: Vec::new(),
        factories: Vec::new(),
        shims,
        importers,
        attribute_sites,
        allowed_factories,
        public_modules: public_modules.clone(),
        canonical_closure,
        origin_closure,
        interface,
        hint: None,
    };
    table.hint = public_hint(graph, concept, &table);
    table.implementations = implementations(graph, concept, &table, &excluded);
    table.factories = factories(graph, concept, &table);
    Ok(table)
}

fn allowed_factories(graph: &Graph, concept: &Concept) -> HashSet<String> {
    let mut allowed = HashSet::new();
    let mut query = graph.query();
    for entry in &concept.allowed_factories {
        allowed.insert(entry.clone());
        // A re-exported accessor: allow it where it is defined.
        if let Resolution::Resolved { origins } = query.dotted(entry) {
            for origin in origins {
                if let (Some(symbol), OriginKind::Function | OriginKind::Class) =
                    (&origin.symbol, origin.kind)
                {
                    allowed.insert(format!("{}.{symbol}", origin.module));
                }
            }
        }
    }
    allowed
}

fn shims(
    graph: &Graph,
    query: &mut crate::python::resolve::Query<'_>,
    bindings: &HashSet<(usize, String)>,
    origin: &Origin,
    attribute_sites: &[AttributeSite],
    excluded: &dyn Fn(usize) -> bool,
    concept_like: &dyn Fn(&str) -> bool,
) -> (Vec<Shim>, Vec<Shim>) {
    let rust = graph.rust.by_path.contains_key(&origin.module);
    let mut by_module: HashMap<usize, BTreeSet<String>> = HashMap::new();
    for (module, name) in bindings {
        if !excluded(*module) {
            by_module.entry(*module).or_default().insert(name.clone());
        }
    }
    // Imports and strings that go through each candidate module.
    let mut importers: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    let mut strings: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for (module_index, module) in graph.modules.iter().enumerate() {
        let facts = &graph.files[module.file].facts;
        for (import_index, import) in facts.imports.iter().enumerate() {
            if import.kind != ImportKind::From {
                // `import a.compat as m`: counted from `attribute_sites` below.
                continue;
            }
            let Some(target) = query.import_target(module_index, import) else {
                continue;
            };
            let Some(&target_index) = graph.by_name.get(&target) else {
                continue;
            };
            let Some(shim_names) = by_module.get(&target_index) else {
                continue;
            };
            if target_index == module_index {
                continue;
            }
            let uses = import
                .names
                .iter()
                .zip(&module.resolutions[import_index])
                .any(|(name, verdict)| {
                    if name.name == "*"
                        && graph.files[module.file].language == crate::walk::Language::Rust
                    {
                        // A Rust glob brings only what the importing module may see: not a
                        // private `use` of the module it reads.
                        let text = graph.files[module.file].text();
                        shim_names.iter().any(|shim_name| {
                            crate::python::edit::mentions(text, shim_name)
                                && query.name(module_index, shim_name).contains(origin)
                        })
                    } else if name.name == "*" {
                        // A star import of a module whose `__all__` leaves the names out
                        // carries nothing; one that carries them uses them only where the
                        // file says the name, or passes them on (a module of re-exports).
                        let text = graph.files[module.file].text();
                        shim_names.iter().any(|shim_name| {
                            star_exports(graph.facts(target_index), shim_name)
                                && (crate::python::edit::mentions(text, shim_name)
                                    || lists(graph.facts(target_index), shim_name))
                        })
                    } else {
                        shim_names.contains(&name.name) && verdict.origins().contains(origin)
                    }
                });
            if uses {
                importers
                    .entry(target_index)
                    .or_default()
                    .push((module_index, import_index));
            }
        }
        for (string_index, reference) in facts.string_refs.iter().enumerate() {
            let (head, last) = match reference.value.rsplit_once('.') {
                Some((head, last)) => (head, Some(last)),
                None => (reference.value.as_str(), None),
            };
            let target = match (graph.by_name.get(&reference.value), last) {
                // A plain string naming a module (a logger name, a prefix scan) is no use of it.
                (Some(_), _) if reference.kind == crate::facts::StringRefKind::Other => None,
                (Some(&module), _) => Some(module),
                (None, Some(last)) => graph
                    .by_name
                    .get(head)
                    .copied()
                    .filter(|module| by_module.get(module).is_some_and(|n| n.contains(last))),
                (None, None) => None,
            };
            if let Some(target) = target.filter(|target| by_module.contains_key(target)) {
                strings
                    .entry(target)
                    .or_default()
                    .push((module_index, string_index));
            }
        }
    }

    // `import a.compat as m` then `m.WebSocketManager`: an importer through the shim too,
    // though the statement names no class.
    for site in attribute_sites {
        if let Some(&through) = graph.by_name.get(&site.through)
            && through != site.module
            && by_module.contains_key(&through)
            && !importers
                .get(&through)
                .is_some_and(|users| users.contains(&(site.module, site.import)))
        {
            importers
                .entry(through)
                .or_default()
                .push((site.module, site.import));
        }
    }
    let mut shims = Vec::new();
    let mut quiet = Vec::new();
    let mut modules: Vec<usize> = by_module.keys().copied().collect();
    modules.sort_unstable();
    for module_index in modules {
        let names = &by_module[&module_index];
        let module = &graph.modules[module_index];
        let facts = graph.facts(module_index);
        let imported_through = importers.remove(&module_index).unwrap_or_default();
        let referenced = strings.remove(&module_index).unwrap_or_default();
        let exported = facts
            .exports
            .as_ref()
            .is_some_and(|exports| exports.names.iter().any(|name| names.contains(name)));
        // `LegacyManager = WebSocketManager` is a compat name; `manager_cls = WebSocketManager`
        // is a local convenience.
        let public_alias = facts
            .definitions
            .iter()
            .enumerate()
            .any(|(index, definition)| {
                definition.context.scope == Scope::Module
                    && !definition.name.starts_with('_')
                    && names.contains(&definition.name)
                    && concept_like(&definition.name)
                    && module
                        .alias_origins
                        .get(&index)
                        .is_some_and(|origins| origins.contains(origin))
            });
        // Only a star import whose module exports one of the names binds them here.
        let mut carries = |import: usize| {
            let import = &facts.imports[import];
            query
                .import_target(module_index, import)
                .and_then(|target| graph.by_name.get(&target).copied())
                .is_some_and(|target| {
                    names.iter().any(|name| {
                        star_exports(graph.facts(target), name)
                            && query.name(target, name).contains(origin)
                    })
                })
        };
        let site = shim_site(facts, names, &mut carries);
        // A star import re-exports the concept on purpose only when the module it reads lists
        // the name in `__all__` (`from attr.filters import *` carries an `Attribute` that
        // `attr.filters` imported for its own use: incidental).
        let through_star = match site {
            Some(ShimSite::Import(import))
                if facts.imports[import].names.iter().any(|n| n.name == "*") =>
            {
                query
                    .import_target(module_index, &facts.imports[import])
                    .and_then(|target| graph.by_name.get(&target).copied())
                    .map(|target| names.iter().any(|name| lists(graph.facts(target), name)))
            }
            _ => None,
        };
        // `from .session import Session as Session`: the explicit re-export form.
        let explicit_reexport = facts.imports.iter().any(|import| {
            import.context.scope == Scope::Module
                && import.names.iter().any(|name| {
                    name.alias.as_deref() == Some(name.name.as_str()) && names.contains(&name.name)
                })
        });
        // A package `__init__` is the package's namespace: what it binds by name under a
        // public name (listed in `__all__`, or any public name when there is no `__all__`,
        // as `requests/__init__.py` does) is public API.
        let package_api = module.is_package
            && (exported
                || (facts.exports.is_none()
                    && through_star.is_none()
                    && names.iter().any(|name| !name.starts_with('_'))));
        // Rust: `pub use` is public API; `pub(crate) use` and the other restricted forms are
        // re-exports inside the crate.
        let visibilities = facts
            .imports
            .iter()
            .enumerate()
            .filter(|(_, import)| {
                import.context.scope == Scope::Module
                    && import
                        .names
                        .iter()
                        .any(|name| names.contains(name.bound_name(import.kind)))
            })
            .map(|(index, _)| facts.import_visibility_of(index));
        // A name that only a glob brings (`pub use dep::*;`, clap's whole API) has the
        // glob's visibility.
        let mut visibilities: Vec<&crate::facts::Visibility> = visibilities.collect();
        if visibilities.is_empty() && rust {
            visibilities = facts
                .imports
                .iter()
                .enumerate()
                .filter(|(_, import)| {
                    import.context.scope == Scope::Module
                        && import.names.iter().any(|name| name.name == "*")
                })
                .map(|(index, _)| facts.import_visibility_of(index))
                .collect();
        }
        let (rust_public, rust_restricted) =
            visibilities.into_iter().fold((false, false), |(p, r), v| {
                (
                    p || *v == crate::facts::Visibility::Public,
                    r || matches!(v, crate::facts::Visibility::Restricted(_)),
                )
            });
        let public = if rust {
            rust_public
        } else {
            explicit_reexport || package_api
        };
        // Strings never make a shim: `patch("app.routes.WebSocketManager")` patches where
        // the name is looked up (the right idiom), and a plugin list names modules for
        // other reasons. They count as users of a module that is a shim anyway. A module
        // that only star-imports a helper module re-exports nothing anyone uses.
        let is_shim = if rust {
            // A private `use` binds the name for the module's own code; only a re-export,
            // a compat alias or a module someone imports through is a shim.
            (!public && (rust_restricted || public_alias)) || !imported_through.is_empty()
        } else if public {
            // Public API stays; it is worth a finding only while code inside the
            // repository goes through it instead of the canonical path.
            !imported_through.is_empty() || !referenced.is_empty()
        } else {
            // A star import alone re-exports only in a module that is nothing but
            // re-exports; one with code of its own is a user of the helper it reads.
            let own_code = has_own_code(facts);
            exported
                || public_alias
                || (through_star == Some(true) && !own_code)
                || (module.is_package && through_star.is_none())
                || !imported_through.is_empty()
        };
        let Some(site) = site else { continue };
        let shim = Shim {
            module: module_index,
            names: names.iter().cloned().collect(),
            site,
            importers: imported_through,
            public,
            strings: referenced,
        };
        if is_shim {
            shims.push(shim);
        } else if public {
            quiet.push(shim);
        }
    }
    (shims, quiet)
}

/// The first module-level statement binding one of `names`: an import, an alias, or a star
/// import (which binds without naming).
fn shim_site(
    facts: &FileFacts,
    names: &BTreeSet<String>,
    carries: &mut dyn FnMut(usize) -> bool,
) -> Option<ShimSite> {
    let import = facts.imports.iter().enumerate().find(|(_, import)| {
        import.context.scope == Scope::Module
            && import
                .names
                .iter()
                .any(|name| names.contains(name.bound_name(import.kind)))
    });
    let definition = facts
        .definitions
        .iter()
        .enumerate()
        .find(|(_, definition)| {
            definition.context.scope == Scope::Module && names.contains(&definition.name)
        });
    match (import, definition) {
        (Some((i, import)), Some((d, definition))) => {
            Some(if import.span.start < definition.span.start {
                ShimSite::Import(i)
            } else {
                ShimSite::Definition(d)
            })
        }
        (Some((i, _)), None) => Some(ShimSite::Import(i)),
        (None, Some((d, _))) => Some(ShimSite::Definition(d)),
        (None, None) => facts
            .imports
            .iter()
            .enumerate()
            .filter(|(_, import)| {
                import.context.scope == Scope::Module && import.names.iter().any(|n| n.name == "*")
            })
            .map(|(index, _)| index)
            .find(|&index| carries(index))
            .map(ShimSite::Import),
    }
}

/// Does the module's `__all__` name `name`: an export on purpose, not a name that a star
/// import happens to carry along?
fn lists(facts: &FileFacts, name: &str) -> bool {
    facts
        .exports
        .as_ref()
        .is_some_and(|exports| exports.names.iter().any(|n| n == name))
}

/// Does the module define a class or function of its own (at module level)?
fn has_own_code(facts: &FileFacts) -> bool {
    facts.definitions.iter().any(|definition| {
        definition.context.scope == Scope::Module
            && matches!(
                definition.kind,
                DefKind::Class { .. } | DefKind::Function { .. }
            )
    })
}

/// Does `from <module> import *` bind `name`: listed in `__all__` (a dynamic `__all__` may
/// hold anything), or public when there is no `__all__`?
fn star_exports(facts: &FileFacts, name: &str) -> bool {
    match &facts.exports {
        Some(exports) => exports.dynamic || exports.names.iter().any(|n| n == name),
        None => !name.starts_with('_'),
    }
}

fn implementations(
    graph: &Graph,
    concept: &Concept,
    table: &ConceptTable,
    excluded: &dyn Fn(usize) -> bool,
) -> Vec<Implementation> {
    let canonical: HashSet<&str> = table.public_methods.iter().map(String::as_str).collect();
    let concept_names: HashSet<&str> = [
        Some(table.canonical_name.as_str()),
        table.origin.symbol.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let globs = NameGlobs::new(&concept.implementations, &concept.implementations_set);
    let mut query = graph.query();
    let mut found = Vec::new();
    for (module_index, module) in graph.modules.iter().enumerate() {
        if excluded(module_index) {
            continue;
        }
        let file = &graph.files[module.file];
        let in_test = is_test_path(&file.path);
        if in_test && concept.tests == TestsPolicy::Allow {
            continue;
        }
        for (index, definition) in file.facts.definitions.iter().enumerate() {
            let reason = match &definition.kind {
                DefKind::Class { methods, .. } => {
                    if is_exempt_class(definition) {
                        continue;
                    }
                    let glob = if concept_names.contains(definition.name.as_str()) {
                        Some(definition.name.clone())
                    } else if globs.is_match(&definition.name) {
                        matching_glob(
                            &concept.implementations,
                            &concept.implementations_set,
                            &definition.name,
                        )
                    } else {
                        None
                    };
                    if let Some(glob) = glob {
                        // A name alone is no evidence: `scoped_session`, an async proxy or an
                        // error-recovery "manager" share it and do another job.
                        let Some(evidence) = does_the_job(
                            graph,
                            &mut query,
                            table,
                            module_index,
                            index,
                            in_test,
                            concept.constructible,
                        ) else {
                            continue;
                        };
                        Reason::Name {
                            glob,
                            subclass: evidence.starts_with(SUBCLASS),
                            evidence,
                        }
                    } else {
                        // Counted before anything is allocated: most classes share nothing.
                        let shared_count = methods
                            .iter()
                            .filter(|m| canonical.contains(m.as_str()))
                            .count();
                        if shared_count < 2 {
                            continue;
                        }
                        let mine: BTreeSet<&str> = methods
                            .iter()
                            .map(String::as_str)
                            .filter(|m| !m.starts_with('_'))
                            .collect();
                        let shared: Vec<String> = mine
                            .iter()
                            .filter(|m| canonical.contains(*m))
                            .map(|m| m.to_string())
                            .collect();
                        let union = mine.len() + canonical.len() - shared.len();
                        let score = if union == 0 {
                            0.0
                        } else {
                            shared.len() as f64 / union as f64
                        };
                        if shared.len() < 2
                            || score < concept.similarity
                            || uses_the_concept(graph, table, module_index, index)
                        {
                            continue;
                        }
                        Reason::Similar { score, shared }
                    }
                }
                DefKind::Alias { .. } if definition.context.scope == Scope::Module => {
                    let concept_like = concept_names.contains(definition.name.as_str())
                        || globs.is_match(&definition.name);
                    let other = module.alias_origins.get(&index).and_then(|origins| {
                        origins
                            .iter()
                            .find(|o| o.kind == OriginKind::Class && **o != table.origin)
                    });
                    // The aliased class must do the concept's job too (`ScopedSession =
                    // scoped_session` names a registry of sessions, not a copy of one).
                    let mut does = |other: &Origin| match definition_of(graph, other) {
                        Some((m, d)) => does_the_job(
                            graph,
                            &mut query,
                            table,
                            m,
                            d,
                            is_test_path(&graph.files[graph.modules[m].file].path),
                            concept.constructible,
                        )
                        .is_some(),
                        None => true,
                    };
                    match other {
                        Some(other)
                            if concept_like
                                && !origins_contain(
                                    module.alias_origins.get(&index),
                                    &table.origin,
                                )
                                && does(other) =>
                        {
                            Reason::Alias(other.clone())
                        }
                        _ => continue,
                    }
                }
                _ => continue,
            };
            found.push(Implementation {
                module: module_index,
                definition: index,
                reason,
                in_test,
            });
        }
    }
    // An alias of a class that is itself reported adds nothing.
    let reported: HashSet<(String, String)> = found
        .iter()
        .filter(|implementation| !matches!(implementation.reason, Reason::Alias(_)))
        .filter_map(|implementation| {
            let module = graph.modules[implementation.module].name.clone()?;
            let facts = graph.facts(implementation.module);
            let definition = &facts.definitions[implementation.definition];
            (definition.context.scope == Scope::Module).then(|| (module, definition.name.clone()))
        })
        .collect();
    found.retain(|implementation| match &implementation.reason {
        Reason::Alias(origin) => origin
            .symbol
            .as_ref()
            .is_none_or(|symbol| !reported.contains(&(origin.module.clone(), symbol.clone()))),
        _ => true,
    });
    found
}

fn origins_contain(origins: Option<&Vec<Origin>>, origin: &Origin) -> bool {
    origins.is_some_and(|origins| origins.contains(origin))
}

/// The first glob (as written) of `globs` that matches `name`.
pub fn matching_glob(globs: &[String], set: &globset::GlobSet, name: &str) -> Option<String> {
    set.matches(name).first().map(|&index| globs[index].clone())
}

/// Name globs with a cheap test in front: a name can only match `create_*websocket_manager*`
/// if it contains `websocket_manager`. Tens of thousands of definitions are tested, and
/// almost none match.
pub struct NameGlobs<'c> {
    set: &'c globset::GlobSet,
    /// The longest literal run of each glob; `None` when some glob has none (`*`).
    literals: Option<Vec<memchr::memmem::Finder<'static>>>,
}

impl<'c> NameGlobs<'c> {
    pub fn new(globs: &[String], set: &'c globset::GlobSet) -> NameGlobs<'c> {
        let literals = globs
            .iter()
            .map(|glob| {
                required_literal(glob)
                    .map(|literal| memchr::memmem::Finder::new(literal.as_bytes()).into_owned())
            })
            .collect();
        NameGlobs { set, literals }
    }

    pub fn is_match(&self, name: &str) -> bool {
        if let Some(literals) = &self.literals
            && !literals
                .iter()
                .any(|literal| literal.find(name.as_bytes()).is_some())
        {
            return false;
        }
        self.set.is_match(name)
    }
}

fn factories(graph: &Graph, concept: &Concept, table: &ConceptTable) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if concept.factories.is_empty() {
        return found;
    }
    let globs = NameGlobs::new(&concept.factories, &concept.factories_set);
    for (module_index, module) in graph.modules.iter().enumerate() {
        let file = &graph.files[module.file];
        if concept.tests == TestsPolicy::Allow && is_test_path(&file.path) {
            continue;
        }
        for (index, definition) in file.facts.definitions.iter().enumerate() {
            if !matches!(
                definition.kind,
                DefKind::Function { .. } | DefKind::Class { .. }
            ) || !globs.is_match(&definition.name)
            {
                continue;
            }
            if is_allowed(graph, table, module_index, index) {
                continue;
            }
            if !concept.test_factories
                && is_test_helper(&file.path, file.text(), &file.facts, index)
            {
                continue;
            }
            found.push((module_index, index));
        }
    }
    found
}

/// Is the definition (or one that encloses it) an allowed factory?
pub fn is_allowed(graph: &Graph, table: &ConceptTable, module: usize, definition: usize) -> bool {
    let Some(module_name) = &graph.modules[module].name else {
        return false;
    };
    let facts = graph.facts(module);
    let mut current = Some(definition as u32);
    while let Some(index) = current {
        let qualified = format!("{module_name}.{}", qualname(facts, index as usize));
        if table.allowed_factories.contains(&qualified) {
            return true;
        }
        current = facts.definitions.get(index as usize).and_then(|d| d.parent);
    }
    false
}

/// The longest run of literal characters every match of `glob` contains: `websocket_manager`
/// for `create_*websocket_manager*`; nothing inside `[...]` or `{...}` counts.
fn required_literal(glob: &str) -> Option<String> {
    let mut best = String::new();
    let mut run = String::new();
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        let close = match c {
            '[' => Some(']'),
            '{' => Some('}'),
            _ => None,
        };
        if let Some(close) = close {
            chars.by_ref().find(|&inner| inner == close);
        }
        match c {
            '*' | '?' | '[' | '{' => {
                if run.len() > best.len() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
            '\\' => run.extend(chars.next()),
            c => run.push(c),
        }
    }
    if run.len() > best.len() {
        best = run;
    }
    (!best.is_empty()).then_some(best)
}

/// The definitions whose dotted path is nearest to `wanted`, best first (at most 3).
fn nearest_definitions(graph: &Graph, wanted: &str) -> Vec<String> {
    let mut candidates: Vec<(f64, String)> = Vec::new();
    for module in &graph.modules {
        let Some(name) = &module.name else { continue };
        let facts = &graph.files[module.file].facts;
        for definition in &facts.definitions {
            if definition.context.scope != Scope::Module
                || matches!(definition.kind, DefKind::Variable)
            {
                continue;
            }
            let sep = if graph.files[module.file].language == crate::walk::Language::Rust {
                "::"
            } else {
                "."
            };
            let path = format!("{name}{sep}{}", definition.name);
            let score = strsim::jaro_winkler(wanted, &path);
            candidates.push((score, path));
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    candidates.dedup_by(|a, b| a.1 == b.1);
    candidates
        .into_iter()
        .take(3)
        .map(|(_, path)| path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::required_literal;

    #[test]
    fn literals_that_every_match_contains() {
        assert_eq!(
            required_literal("create_*websocket_manager*").as_deref(),
            Some("websocket_manager")
        );
        assert_eq!(
            required_literal("*WebSocket*Manager").as_deref(),
            Some("WebSocket")
        );
        assert_eq!(required_literal("x[abcdef]y").as_deref(), Some("x"));
        assert_eq!(
            required_literal("{alpha,beta}Manager").as_deref(),
            Some("Manager")
        );
        assert_eq!(required_literal("*"), None);
        assert_eq!(required_literal("a\\*b").as_deref(), Some("a*b"));
    }
}

/// `m.Name` after `import a.b as m` (or `import a.b`, `from pkg import m`): the uses of the
/// origin through one module path in one file, read as module attributes.
#[derive(Clone, Debug)]
pub struct AttributeSite {
    /// The module whose file holds the uses.
    pub module: usize,
    /// The import statement and name binding the first part of `prefix`.
    pub import: usize,
    pub name: usize,
    /// `m`, or `a.b` for `import a.b`.
    pub prefix: String,
    /// The name read from the module: `Name`.
    pub attribute: String,
    /// The module `prefix` names.
    pub through: String,
    /// Whether `through` is the canonical module (`wm.WebSocketManager` after
    /// `import app.websocket_manager as wm` is canonical), or `through.attribute` is one of
    /// the concept's `public` paths (`flask.Flask` after `import flask`).
    pub canonical: bool,
    /// `(span, target)` of each dotted name starting with `prefix.attribute`: `target` when
    /// the whole dotted name may be assigned or deleted there.
    pub uses: Vec<(Span, bool)>,
}

/// Every [`AttributeSite`] of the origin, outside the `excluded` modules.
fn attribute_sites(
    graph: &Graph,
    query: &mut Query,
    names: &BTreeSet<String>,
    origin: &Origin,
    accepted: &dyn Fn(&str, &str) -> bool,
    excluded: &dyn Fn(usize) -> bool,
) -> Vec<AttributeSite> {
    let names: rustc_hash::FxHashSet<&[u8]> = names.iter().map(|name| name.as_bytes()).collect();
    let hashes: Vec<u32> = names
        .iter()
        .map(|name| crate::facts::name_hash(name))
        .collect();
    let mut sites = Vec::new();
    for (module_index, module) in graph.modules.iter().enumerate() {
        let facts = &graph.files[module.file].facts;
        if facts.attributes.is_empty()
            || !hashes
                .iter()
                .any(|hash| facts.dotted_names.binary_search(hash).is_ok())
            || excluded(module_index)
        {
            continue;
        }
        let text = graph.files[module.file].read();
        // Only a name some module binds the concept under can be it: each dotted name with
        // its parts and the index of that name.
        let candidates: Vec<(&crate::facts::Attribute, Vec<&str>, usize)> = facts
            .attributes
            .iter()
            .filter_map(|attribute| {
                let written = &text[attribute.span.range()];
                // Most dotted names are not the concept: found on the bytes, without
                // allocating or decoding.
                let at = 1 + written
                    .split(|&b| b == b'.')
                    .skip(1)
                    .position(|part| names.contains(part))?;
                let written = std::str::from_utf8(written).ok()?;
                Some((attribute, written.split('.').collect(), at))
            })
            .collect();
        if candidates.is_empty() {
            continue;
        }
        // The module each imported name binds, preferring a plain module-level import.
        let mut bases: BTreeMap<&str, (usize, usize, String, u8)> = BTreeMap::new();
        for (import_index, import) in facts.imports.iter().enumerate() {
            let rank = match import.context {
                context if context.scope != Scope::Module => 4,
                context if context.conditional || context.guard != Guard::None => 2,
                _ => 0,
            };
            for (name_index, name) in import.names.iter().enumerate() {
                let bound_module = match import.kind {
                    ImportKind::Module if name.alias.is_some() => Some(name.name.clone()),
                    ImportKind::Module => name.name.split('.').next().map(str::to_string),
                    ImportKind::From => {
                        match module.resolutions[import_index][name_index].origins() {
                            [origin] if origin.kind == OriginKind::Module => {
                                Some(origin.module.clone())
                            }
                            _ => None,
                        }
                    }
                };
                let Some(bound_module) = bound_module else {
                    continue;
                };
                let bound = name.bound_name(import.kind);
                // `import click` before `import click.types` for `click.Command`: both bind
                // `click`, the first names it.
                let rank = rank + u8::from(import.kind == ImportKind::Module && name.name != bound);
                if bases.get(bound).is_none_or(|known| rank < known.3) {
                    bases.insert(bound, (import_index, name_index, bound_module, rank));
                }
            }
        }
        let mut groups: BTreeMap<(String, String), AttributeSite> = BTreeMap::new();
        for (attribute, parts, at) in candidates {
            let Some((import, name, bound_module, _)) = bases.get(parts[0]) else {
                continue;
            };
            let Some(through) = module_path(graph, query, bound_module, &parts[1..at]) else {
                continue;
            };
            let Some(&through_index) = graph.by_name.get(&through) else {
                continue;
            };
            if !query.name(through_index, parts[at]).contains(origin) {
                continue;
            }
            let prefix = parts[..at].join(".");
            groups
                .entry((prefix.clone(), parts[at].to_string()))
                .or_insert_with(|| AttributeSite {
                    module: module_index,
                    import: *import,
                    name: *name,
                    prefix,
                    attribute: parts[at].to_string(),
                    canonical: accepted(&through, parts[at]),
                    through,
                    uses: Vec::new(),
                })
                .uses
                .push((attribute.span, attribute.target && at + 1 == parts.len()));
        }
        sites.extend(groups.into_values());
    }
    sites
}

/// The module that `base.parts[0].parts[1]...` names, where `base` is a module name: each part
/// a submodule, or a module-level name bound to a module.
pub(crate) fn module_path(
    graph: &Graph,
    query: &mut Query,
    base: &str,
    parts: &[&str],
) -> Option<String> {
    let mut module = base.to_string();
    for part in parts {
        let submodule = format!("{module}.{part}");
        if graph.by_name.contains_key(&submodule) {
            module = submodule;
            continue;
        }
        let index = *graph.by_name.get(&module)?;
        match query.name(index, part).as_slice() {
            [origin] if origin.kind == OriginKind::Module => module = origin.module.clone(),
            _ => return None,
        }
    }
    Some(module)
}

/// The module and definition index of a module-level class or function origin in the
/// repository.
pub fn definition_of(graph: &Graph, origin: &Origin) -> Option<(usize, usize)> {
    if origin.module.contains("::") || graph.rust.by_path.contains_key(&origin.module) {
        return graph.rust.definition(&graph.files, origin);
    }
    let module = *graph.by_name.get(&origin.module)?;
    let facts = graph.facts(module);
    let symbol = origin.symbol.as_deref()?;
    let definition = facts.definitions.iter().position(|definition| {
        definition.context.scope == Scope::Module
            && definition.name == symbol
            && matches!(
                definition.kind,
                DefKind::Class { .. } | DefKind::Function { .. }
            )
    })?;
    Some((module, definition))
}

/// The functions defined directly in the body of the class `definition`, with whether each
/// is `async`. Definitions are in source order and a class's own come right after it: the
/// scan stops at the first one outside the class.
pub fn own_methods(facts: &FileFacts, definition: usize) -> impl Iterator<Item = (&str, bool)> {
    facts.definitions[definition + 1..]
        .iter()
        .take_while(move |inner| inner.parent.is_some_and(|p| p as usize >= definition))
        .filter(move |inner| inner.parent == Some(definition as u32))
        .filter_map(|inner| match inner.kind {
            DefKind::Function { is_async, .. } => Some((inner.name.as_str(), is_async)),
            _ => None,
        })
}

/// Public methods of a class and of its bases defined in the repository, with whether each
/// is `async` (the class's own definition wins over a base's).
pub fn class_interface(
    graph: &Graph,
    query: &mut Query,
    module: usize,
    definition: usize,
) -> BTreeMap<String, bool> {
    let mut interface = BTreeMap::new();
    let mut seen = HashSet::new();
    // Breadth first, so a class's own methods come before its bases'.
    let mut queue = std::collections::VecDeque::from([(module, definition)]);
    while let Some((module, definition)) = queue.pop_front() {
        // Deep or cyclic hierarchies end here.
        if !seen.insert((module, definition)) || seen.len() > 64 {
            continue;
        }
        let facts = graph.facts(module);
        let DefKind::Class { bases, .. } = &facts.definitions[definition].kind else {
            continue;
        };
        for (name, is_async) in own_methods(facts, definition) {
            if !name.starts_with('_') {
                interface.entry(name.to_string()).or_insert(is_async);
            }
        }
        for base in bases {
            for origin in base_origins(graph, query, module, base) {
                queue.extend(definition_of(graph, &origin));
            }
        }
    }
    interface
}

/// What a base class as written (`Base`, `pkg.mod.Base`, `Generic[T]`) in `module` resolves to.
pub fn base_origins(graph: &Graph, query: &mut Query, module: usize, base: &str) -> Vec<Origin> {
    let base = base.split('[').next().unwrap_or(base);
    let mut parts: Vec<&str> = base.split('.').collect();
    let Some(last) = parts.pop() else {
        return Vec::new();
    };
    if parts.is_empty() {
        return query.name(module, last);
    }
    let head = match query.name(module, parts[0]).as_slice() {
        [origin] if origin.kind == OriginKind::Module => origin.module.clone(),
        _ => return Vec::new(),
    };
    let Some(through) = module_path(graph, query, &head, &parts[1..]) else {
        return Vec::new();
    };
    match graph.by_name.get(&through) {
        Some(&index) => query.name(index, last),
        None => Vec::new(),
    }
}

/// "Most importers use a public re-export": when more than half of the statements that
/// import the concept go through one module that re-exports it as public API, and that path
/// is neither canonical nor declared `public`, the path a maintainer may mean to declare.
fn public_hint(graph: &Graph, concept: &Concept, table: &ConceptTable) -> Option<String> {
    let total = table.importers.len();
    let shim = table
        .shims
        .iter()
        .filter(|shim| shim.public)
        .max_by_key(|shim| {
            (
                shim.importers.len(),
                std::cmp::Reverse(graph.modules[shim.module].name.clone()),
            )
        })?;
    let through = shim.importers.len();
    if total < 2 || through * 2 <= total {
        return None;
    }
    let module = graph.modules[shim.module].name.as_deref()?;
    let name = if shim.names.contains(&table.canonical_name) {
        table.canonical_name.as_str()
    } else {
        shim.names.first()?
    };
    let sep = if table.origin.module.contains("::") || concept.canonical.contains("::") {
        "::"
    } else {
        "."
    };
    let path = format!("{module}{sep}{name}");
    Some(format!(
        "{through} of {total} imports of `{}` go through the public re-export `{path}`: if that is the path users should write, declare `canonical = \"{path}\"`, or list it in `public = [\"{path}\"]` to accept it beside `{}`",
        concept.name, concept.canonical
    ))
}

/// Evidence that a class matched by name does the concept's job, said as a label: it
/// subclasses the canonical class, or at least half of its public methods (in a test file, at
/// least one: a double stands in where the concept's methods are called) are the canonical
/// class's. A class whose body names the concept uses it (a proxy such as an async wrapper
/// holding a session, a registry, a harness) and is no copy. `None`: no evidence. When the
/// canonical class has no public methods there is nothing to compare, and the name is taken
/// as it is.
fn does_the_job(
    graph: &Graph,
    query: &mut Query,
    table: &ConceptTable,
    module: usize,
    definition: usize,
    in_test: bool,
    constructible: bool,
) -> Option<String> {
    let facts = graph.facts(module);
    let DefKind::Class { bases, .. } = &facts.definitions[definition].kind else {
        return None;
    };
    if let Some(base) = bases
        .iter()
        .find(|base| base_origins(graph, query, module, base).contains(&table.origin))
    {
        // A subclass of a class meant to be constructed anywhere extends it, as libraries
        // are meant to be extended; of a one-instance manager, it is a second manager.
        return (!constructible).then(|| format!("{SUBCLASS}`{base}`"));
    }
    if uses_the_concept(graph, table, module, definition) {
        return None;
    }
    if table.interface.is_empty() {
        return Some(String::new());
    }
    let own: BTreeSet<&str> = own_methods(facts, definition)
        .map(|(name, _)| name)
        .filter(|name| !name.starts_with('_'))
        .collect();
    let shared: Vec<&str> = own
        .iter()
        .copied()
        .filter(|name| table.interface.contains_key(*name))
        .collect();
    let enough = !shared.is_empty() && (in_test || shared.len() * 2 >= own.len());
    enough.then(|| {
        format!(
            "shares {} of its {} with `{}`",
            crate::rules::quoted_list(&shared),
            if own.len() == 1 {
                "1 public method".to_string()
            } else {
                format!("{} public methods", own.len())
            },
            table.canonical_name
        )
    })
}

/// How [`does_the_job`] says that the evidence is a subclass.
const SUBCLASS: &str = "subclass of ";

/// Does the code of the class body (not its strings or comments) name the concept: a proxy
/// holding one, a registry of them, a harness driving one?
fn uses_the_concept(graph: &Graph, table: &ConceptTable, module: usize, definition: usize) -> bool {
    let file = &graph.files[graph.modules[module].file];
    let body = &file.text()[class_body(file.text(), file.facts.definitions[definition].span)];
    let names: Vec<&str> = table.names.iter().map(String::as_str).collect();
    !crate::python::edit::occurrences(body, &names)
        .found
        .is_empty()
}

/// The bytes of a class body: from the end of its header (`class X(Base):`, whose span is
/// `header`) to the first later line of code indented no deeper than the header.
fn class_body(text: &[u8], header: Span) -> std::ops::Range<usize> {
    let start = (header.end as usize).min(text.len());
    let header_start = crate::facts::line_start(text, header.start as usize);
    let indent = |line: &[u8]| {
        line.iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count()
    };
    let depth = indent(&text[header_start..]);
    let mut at = crate::facts::line_end(text, start);
    while at < text.len() {
        // Past the line ending (`\r\n` is one).
        let next = if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
            at + 2
        } else {
            at + 1
        };
        let end = crate::facts::line_end(text, next);
        let line = &text[next..end];
        let code = line.trim_ascii_start();
        if !code.is_empty() && !code.starts_with(b"#") && indent(line) <= depth {
            return start..next;
        }
        at = end;
    }
    start..text.len()
}

/// A function or class that serves one test, not the code base: in a test file, a `test*`
/// function, a `Test*` class or anything inside one; anywhere, a pytest fixture
/// (`@pytest.fixture`, `@fixture(...)` on the lines above the `def`).
pub fn is_test_helper(path: &str, text: &[u8], facts: &FileFacts, definition: usize) -> bool {
    let def = &facts.definitions[definition];
    if is_test_path(path) {
        let mut current = Some(definition as u32);
        while let Some(index) = current {
            let Some(d) = facts.definitions.get(index as usize) else {
                break;
            };
            let test_named = match d.kind {
                DefKind::Class { .. } => d.name.starts_with("Test"),
                _ => d.name.starts_with("test"),
            };
            if test_named {
                return true;
            }
            current = d.parent;
        }
    }
    decorated_as_fixture(text, def.span.start as usize)
}

/// Do the decorator lines right above `offset` (the `def` or `async def`) include one that
/// names `fixture`? A multi-line decorator's continuation lines are read through; at most
/// eight lines are looked at.
fn decorated_as_fixture(text: &[u8], offset: usize) -> bool {
    let mut end = crate::facts::line_start(text, offset);
    for _ in 0..8 {
        if end == 0 {
            return false;
        }
        // The line before the one starting at `end` (`\r\n` counts as one ending).
        let before = if end >= 2 && &text[end - 2..end] == b"\r\n" {
            end - 2
        } else {
            end - 1
        };
        let start = crate::facts::line_start(text, before);
        let line = text[start..before].trim_ascii();
        if line.starts_with(b"@") {
            if memchr::memmem::find(line, b"fixture").is_some() {
                return true;
            }
        } else if !(line.is_empty()
            || line.starts_with(b"#")
            || line.ends_with(b"(")
            || line.ends_with(b",")
            || line.ends_with(b")"))
        {
            return false;
        }
        end = start;
    }
    false
}

/// Whether code at `span` of Rust module `module` can name `canonical_module` (every module
/// on the way visible to it). When it cannot (`mod glob;` private, its type re-exported by
/// `pub use`), a re-export is the only path there is: no finding points it elsewhere.
pub fn rust_reaches(graph: &Graph, canonical_module: &str, module: usize, span: Span) -> bool {
    let index = &graph.rust;
    match (
        index.module_at(&graph.files, graph.modules[module].file, span),
        index.by_path.get(canonical_module),
    ) {
        (Some(viewer), Some(&canonical)) => index.reachable(viewer, canonical),
        _ => true,
    }
}
