//! Rust resolution: the workspace's crates, each crate's module tree, and every `use` leaf
//! to the item it names.
//!
//! A module (a crate root, a `mod x;` file or an inline `mod x { .. }`) is a [`RustModule`]
//! named by its path from the crate (`app::net::Event`). Its namespace holds its items
//! (scope `Module` definitions, child modules), its `use` leaves and `extern crate`s, and,
//! where nothing explicit binds a name, what its glob imports bring in: only bindings
//! visible to the importing module (Rust's rule: `pub` everywhere, private items in the
//! module's subtree, `pub(crate)` in the crate, `pub(super)` in the parent's subtree).
//! Paths resolve as in the 2018 edition: `crate::`, `self::`, `super::`, `::name`, a name
//! in the module, then the extern prelude (the crate's dependencies that the repository
//! builds), then, for 2015-style paths, the crate root; anything else is external.
//!
//! The graph keeps one module per file: a file's module is its first claim (a lib's before
//! a bin's, since a `main.rs` may `mod` the lib's files again), and every inline module's
//! path is an alias of its file in `Graph::by_name`. Resolution uses the module tree itself.
//!
//! Invariant: lookups are memoised and cut by an in-progress set, and chains deeper than
//! [`MAX_DEPTH`] resolve to nothing.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::workspace::{self, Workspace};
use crate::facts::{DefKind, FileFacts, Import, ImportKind, Scope, Span, Visibility};
use crate::graph::{Origin, OriginKind, Resolution};
use crate::walk::{Language, SourceFile};

const MAX_DEPTH: u32 = 64;

/// One Rust module of the workspace.
#[derive(Debug)]
pub struct RustModule {
    /// `crate_name::a::b`.
    pub path: String,
    /// Index into `Graph::files` (and `Graph::modules`).
    pub file: usize,
    /// The inline module declaration (index into `FileFacts::modules`); `None` for a file.
    pub decl: Option<u32>,
    /// Index into [`Workspace::crates`].
    pub krate: usize,
    pub parent: Option<usize>,
    pub children: BTreeMap<String, usize>,
    names: HashMap<String, Vec<Binding>>,
    /// Glob imports: `(import, name)`.
    globs: Vec<(u32, u32)>,
    visibility: Visibility,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binding {
    Definition(u32),
    Import(u32, u32),
    Module(usize),
    ExternCrate(u32),
    /// A `#[macro_export]` macro of another module of the crate, bound at the crate root:
    /// `(module, definition)`.
    Exported(usize, u32),
}

/// What the Rust resolver knows, kept in the graph for later queries.
#[derive(Debug, Default)]
pub struct Index {
    pub workspace: Workspace,
    pub modules: Vec<RustModule>,
    pub by_path: HashMap<String, usize>,
    /// Files that more than one module tree compiles (a `main.rs` that `mod`s the lib's
    /// files again, a `#[path]` shared by two crates): a path written there must mean the
    /// same in each.
    pub shared_files: HashSet<usize>,
    /// The module path each `use` prefix leads to, by `(file, item start, prefix end)`,
    /// computed once with the build's memoised resolver (`Query::import_target` asks for it
    /// for every import of every file while building each concept).
    import_targets: HashMap<(usize, u32, u32), Option<String>>,
    /// The module path the prefix of each path in a string leads to, by `(file, start)`.
    string_targets: HashMap<(usize, u32), Option<String>>,
    /// Each crate's root module, by crate.
    crate_roots: Vec<Option<usize>>,
    /// `(file, inline declaration)` to its first module.
    claims: HashMap<(usize, Option<u32>), usize>,
    /// Per file: the inline module declaration each import and definition sits in.
    owners: HashMap<usize, Owners>,
    /// Per file: the crates whose module tree compiles it (indexes into the workspace's
    /// crates, in order; two for a file a lib and a bin both `mod`).
    file_crates: HashMap<usize, Vec<usize>>,
}

#[derive(Debug, Default)]
struct Owners {
    imports: Vec<Option<u32>>,
    definitions: Vec<Option<u32>>,
}

impl Index {
    /// The crates whose module tree compiles `file`, as `(name, target kind)`.
    pub fn crates_of(&self, file: usize) -> Vec<(&str, &'static str)> {
        self.file_crates.get(&file).map_or_else(Vec::new, |crates| {
            crates
                .iter()
                .map(|&krate| {
                    let krate = &self.workspace.crates[krate];
                    (krate.name.as_str(), krate.kind.word())
                })
                .collect()
        })
    }

    /// The module an import of `file` belongs to, in the file's first claim.
    pub fn import_module(&self, file: usize, import: usize) -> Option<usize> {
        let owner = self
            .owners
            .get(&file)?
            .imports
            .get(import)
            .copied()
            .flatten();
        self.claims.get(&(file, owner)).copied()
    }

    /// The module a definition of `file` belongs to.
    pub fn definition_module(&self, file: usize, definition: usize) -> Option<usize> {
        let owner = self
            .owners
            .get(&file)?
            .definitions
            .get(definition)
            .copied()
            .flatten();
        self.claims.get(&(file, owner)).copied()
    }

    /// The module of `file` (its first claim) whose code holds `span`: the innermost inline
    /// module around it, or the file's module.
    pub fn module_at(&self, files: &[SourceFile], file: usize, span: Span) -> Option<usize> {
        let facts = &files[file].facts;
        let owner = facts
            .modules
            .iter()
            .enumerate()
            .filter_map(|(k, decl)| Some((k as u32, decl.body?)))
            .filter(|(_, body)| body.start <= span.start && span.end <= body.end)
            .min_by_key(|(_, body)| body.end - body.start)
            .map(|(k, _)| k);
        self.claims.get(&(file, owner)).copied()
    }

    /// The module path the `use` prefix `import` of `file` leads to, when it is known.
    pub fn import_target(&self, file: usize, import: &Import) -> Option<Option<String>> {
        self.import_targets
            .get(&(file, import.span.start, import.module_span.end))
            .cloned()
    }

    /// The module path the prefix of a path written in a string (`Attribute`, `DocLink`) of
    /// `file` leads to: `Some(None)` when it is not a module of the workspace.
    pub fn string_target(&self, file: usize, span: Span) -> Option<Option<String>> {
        self.string_targets.get(&(file, span.start)).cloned()
    }

    /// The file module of `file`.
    pub fn file_module(&self, file: usize) -> Option<usize> {
        self.claims.get(&(file, None)).copied()
    }

    /// The definition (file, index) an origin names, when it is an item of the repository.
    pub fn definition(&self, files: &[SourceFile], origin: &Origin) -> Option<(usize, usize)> {
        let &module = self.by_path.get(&origin.module)?;
        let symbol = origin.symbol.as_deref()?;
        let module = &self.modules[module];
        let facts = &files[module.file].facts;
        let owners = self.owners.get(&module.file)?;
        facts
            .definitions
            .iter()
            .enumerate()
            .position(|(index, definition)| {
                definition.context.scope == Scope::Module
                    && definition.name == symbol
                    && owners.definitions.get(index).copied().flatten() == module.decl
                    && matches!(
                        definition.kind,
                        DefKind::Class { .. } | DefKind::Function { .. }
                    )
            })
            .map(|definition| (module.file, definition))
    }

    /// The crate of a module.
    pub fn crate_of(&self, module: usize) -> &workspace::Crate {
        &self.workspace.crates[self.modules[module].krate]
    }

    /// Is `module` the module `ancestor` or inside it?
    pub fn is_within(&self, mut module: usize, ancestor: usize) -> bool {
        for _ in 0..MAX_DEPTH {
            if module == ancestor {
                return true;
            }
            match self.modules[module].parent {
                Some(parent) => module = parent,
                None => return false,
            }
        }
        false
    }
}

/// What [`build`] returns: the index, and per file its module name and import verdicts.
pub struct Built {
    pub index: Index,
    /// The file module's path, by file (`None` for files no module tree reaches and for
    /// other languages).
    pub names: Vec<Option<String>>,
    /// `resolutions[file][import][leaf]`.
    pub resolutions: Vec<Vec<Vec<Resolution>>>,
    /// `strings[file][i]`: the verdict of the path in `string_refs[i]`, read as a `use` path
    /// from the module it is written in.
    pub strings: Vec<Vec<Resolution>>,
}

/// Builds the Rust index over the walked files, and the verdict of every import of every
/// Rust file (indexed by file, as `Graph::modules`).
pub fn build(files: &[SourceFile], manifests: &[(String, Vec<u8>)]) -> Built {
    let rust_files: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .filter(|(_, file)| file.language == Language::Rust)
        .map(|(index, file)| (file.path.as_str(), index))
        .collect();
    let paths: BTreeSet<&str> = rust_files.keys().copied().collect();
    let workspace = workspace::read(manifests, &paths);
    let mut index = Index {
        workspace,
        ..Index::default()
    };
    index.owners = {
        use rayon::prelude::*;
        let all: Vec<usize> = rust_files.values().copied().collect();
        all.into_par_iter()
            .map(|file| (file, owners(&files[file].facts)))
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    };
    for krate in 0..index.workspace.crates.len() {
        let root = index.workspace.crates[krate].root.clone();
        let Some(&file) = rust_files.get(root.as_str()) else {
            continue;
        };
        let name = index.workspace.crates[krate].name.clone();
        let dir = parent_dir(&root).to_string();
        let mut seen = HashSet::default();
        let root_module = add_module(
            &mut index,
            files,
            &rust_files,
            ModuleSeed {
                path: name,
                file,
                decl: None,
                krate,
                parent: None,
                dir,
                visibility: Visibility::Public,
            },
            &mut seen,
            0,
        );
        index.crate_roots.resize(krate + 1, None);
        index.crate_roots[krate] = root_module;
    }
    index.crate_roots.resize(index.workspace.crates.len(), None);
    for module in &index.modules {
        if module.decl.is_none() {
            let crates = index.file_crates.entry(module.file).or_default();
            if !crates.contains(&module.krate) {
                crates.push(module.krate);
            }
        }
    }
    for crates in index.file_crates.values_mut() {
        crates.sort_unstable();
    }
    // Each module's names (its definitions and imports, then the child modules the walk
    // bound), on all cores.
    {
        use rayon::prelude::*;
        let owners = &index.owners;
        index.modules.par_iter_mut().for_each(|module| {
            let (mut names, globs) = module_names(
                &files[module.file].facts,
                &owners[&module.file],
                module.decl,
            );
            for (name, bindings) in std::mem::take(&mut module.names) {
                names.entry(name).or_default().extend(bindings);
            }
            module.names = names;
            module.globs = globs;
        });
    }
    // `#[macro_export] macro_rules! m` anywhere in a crate is `krate::m`.
    for module in 0..index.modules.len() {
        let (file, decl, krate) = {
            let m = &index.modules[module];
            (m.file, m.decl, m.krate)
        };
        let Some(root) = index.crate_roots[krate] else {
            continue;
        };
        if root == module {
            continue;
        }
        let facts = &files[file].facts;
        for (d, definition) in facts.definitions.iter().enumerate() {
            let exported = definition.context.scope == Scope::Module
                && matches!(definition.kind, DefKind::Variable)
                && *facts.definition_visibility_of(d) == Visibility::Public
                && index.owners[&file].definitions[d] == decl
                && is_macro_rules(definition);
            if exported {
                index.modules[root]
                    .names
                    .entry(definition.name.clone())
                    .or_default()
                    .push(Binding::Exported(module, d as u32));
            }
        }
    }

    let mut names = vec![None; files.len()];
    let mut resolutions = vec![Vec::new(); files.len()];
    let mut strings = vec![Vec::new(); files.len()];
    let mut targets = HashMap::default();
    let mut string_targets = HashMap::default();
    // Files are resolved in fixed chunks of file order, each by a resolver of its own (a
    // lookup cut short by a cycle is memoised, and the memo is the chunk's), on all cores:
    // the verdicts depend on the chunking, never on the thread count.
    let mut ordered: Vec<usize> = rust_files.values().copied().collect();
    ordered.sort_unstable();
    let chunks: Vec<Vec<FileVerdicts>> = {
        use rayon::prelude::*;
        ordered
            .par_chunks(RESOLVE_CHUNK)
            .map(|chunk| {
                let mut resolver = Resolver::new(files, &index);
                chunk
                    .iter()
                    .map(|&file| resolver.file_verdicts(file))
                    .collect()
            })
            .collect()
    };
    for (&file, verdicts) in ordered.iter().zip(chunks.into_iter().flatten()) {
        names[file] = verdicts.name;
        resolutions[file] = verdicts.resolutions;
        strings[file] = verdicts.strings;
        targets.extend(verdicts.targets);
        string_targets.extend(verdicts.string_targets);
    }
    index.import_targets = targets;
    index.string_targets = string_targets;
    Built {
        index,
        names,
        resolutions,
        strings,
    }
}

/// How many files one resolver takes (see [`build`]): enough that its memo pays, few enough
/// that a workspace of a few hundred files keeps both cores busy.
const RESOLVE_CHUNK: usize = 64;

/// What [`build`] learns of one file.
struct FileVerdicts {
    name: Option<String>,
    resolutions: Vec<Vec<Resolution>>,
    strings: Vec<Resolution>,
    /// `(file, import start, module end)` -> the module the import's prefix names.
    targets: Vec<((usize, u32, u32), Option<String>)>,
    /// `(file, string start)` -> the module the string's prefix names.
    string_targets: Vec<((usize, u32), Option<String>)>,
}

/// Whether a module-level `Variable` is a `macro_rules!`: the collector's span of one ends
/// at its name (`macro_rules! name`), where a `const` or `static` runs to its `;`. Told from
/// the facts, so the file is never read again.
fn is_macro_rules(definition: &crate::facts::Definition) -> bool {
    definition.span.end == definition.name_span.end
}

/// A path written in a string (`super::a::B`, `crate::a::B`, `::dep::B`) as the `use` of its
/// last segment.
fn path_import(path: &str) -> Import {
    let mut rest = path;
    let mut level = 0;
    while let Some(tail) = rest.strip_prefix("super::") {
        rest = tail;
        level += 1;
    }
    let (module, leaf) = rest.rsplit_once("::").unwrap_or(("", rest));
    Import {
        kind: ImportKind::From,
        span: Span::default(),
        module: module.to_string(),
        module_span: Span::default(),
        level,
        names: vec![crate::facts::ImportedName {
            name: leaf.to_string(),
            alias: None,
            span: Span::default(),
        }],
        context: Default::default(),
    }
}

struct ModuleSeed {
    path: String,
    file: usize,
    decl: Option<u32>,
    krate: usize,
    parent: Option<usize>,
    dir: String,
    visibility: Visibility,
}

fn add_module(
    index: &mut Index,
    files: &[SourceFile],
    rust_files: &HashMap<&str, usize>,
    seed: ModuleSeed,
    seen: &mut HashSet<usize>,
    depth: u32,
) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    if seed.decl.is_none() && !seen.insert(seed.file) {
        // A `#[path]` loop, or one file declared twice in a crate.
        return None;
    }
    let id = index.modules.len();
    let facts = &files[seed.file].facts;
    if index.claims.contains_key(&(seed.file, seed.decl)) {
        index.shared_files.insert(seed.file);
    }
    index.claims.entry((seed.file, seed.decl)).or_insert(id);
    index.by_path.entry(seed.path.clone()).or_insert(id);
    index.modules.push(RustModule {
        path: seed.path.clone(),
        file: seed.file,
        decl: seed.decl,
        krate: seed.krate,
        parent: seed.parent,
        children: BTreeMap::new(),
        // Filled by `build` once the tree is walked: here only the child modules.
        names: HashMap::default(),
        globs: Vec::new(),
        visibility: seed.visibility,
    });
    let file_path = files[seed.file].path.clone();
    let decls: Vec<(u32, crate::facts::ModuleDecl)> = facts
        .modules
        .iter()
        .enumerate()
        .filter(|(_, decl)| decl.parent == seed.decl && decl.context.scope == Scope::Module)
        .map(|(k, decl)| (k as u32, decl.clone()))
        .collect();
    for (k, decl) in decls {
        let path = format!("{}::{}", seed.path, decl.name);
        let child = if decl.body.is_some() {
            add_module(
                index,
                files,
                rust_files,
                ModuleSeed {
                    path,
                    file: seed.file,
                    decl: Some(k),
                    krate: seed.krate,
                    parent: Some(id),
                    dir: workspace::join_path(&seed.dir, &decl.name),
                    visibility: decl.visibility.clone(),
                },
                seen,
                depth + 1,
            )
        } else {
            // `#[path]` is relative to the declaring file's directory (or, inside an inline
            // module, to that module's directory).
            let base = if seed.decl.is_some() {
                seed.dir.as_str()
            } else {
                parent_dir(&file_path)
            };
            let candidates: Vec<String> = if decl.paths.is_empty() {
                vec![
                    workspace::join_path(&seed.dir, &format!("{}.rs", decl.name)),
                    workspace::join_path(&seed.dir, &format!("{}/mod.rs", decl.name)),
                ]
            } else {
                decl.paths
                    .iter()
                    .map(|path| workspace::join_path(base, path))
                    .collect()
            };
            let Some((found, &file)) = candidates
                .iter()
                .find_map(|candidate| Some((candidate, rust_files.get(candidate.as_str())?)))
            else {
                continue;
            };
            let is_mod_rs = found.ends_with("/mod.rs") || found == "mod.rs";
            let dir = if is_mod_rs || !decl.paths.is_empty() && !found.ends_with(".rs") {
                parent_dir(found).to_string()
            } else if decl.paths.is_empty() {
                workspace::join_path(&seed.dir, &decl.name)
            } else {
                // A `#[path]` file that is not a `mod.rs`: its children sit beside it.
                found.strip_suffix(".rs").unwrap_or(found).to_string()
            };
            add_module(
                index,
                files,
                rust_files,
                ModuleSeed {
                    path,
                    file,
                    decl: None,
                    krate: seed.krate,
                    parent: Some(id),
                    dir,
                    visibility: decl.visibility.clone(),
                },
                seen,
                depth + 1,
            )
        };
        if let Some(child) = child {
            index.modules[id].children.insert(decl.name.clone(), child);
            index.modules[id]
                .names
                .entry(decl.name.clone())
                .or_default()
                .push(Binding::Module(child));
        }
    }
    Some(id)
}

/// What a module binds, by name (in binding order).
type Names = HashMap<String, Vec<Binding>>;

/// The names module `decl` of a file (`None`: the file's own module) binds by its own items:
/// definitions, then imports; and its glob imports.
fn module_names(facts: &FileFacts, owners: &Owners, decl: Option<u32>) -> (Names, Vec<(u32, u32)>) {
    let mut names: Names = HashMap::default();
    let mut globs = Vec::new();
    for (d, definition) in facts.definitions.iter().enumerate() {
        if definition.context.scope == Scope::Module && owners.definitions[d] == decl {
            names
                .entry(definition.name.clone())
                .or_default()
                .push(Binding::Definition(d as u32));
        }
    }
    for (i, import) in facts.imports.iter().enumerate() {
        if import.context.scope != Scope::Module || owners.imports[i] != decl {
            continue;
        }
        for (j, name) in import.names.iter().enumerate() {
            if import.kind == ImportKind::Module {
                let bound = name.alias.as_deref().unwrap_or(&name.name);
                if bound != "_" {
                    names
                        .entry(bound.to_string())
                        .or_default()
                        .push(Binding::ExternCrate(i as u32));
                }
            } else if name.name == "*" {
                globs.push((i as u32, j as u32));
            } else {
                let bound = match (&name.alias, name.name.as_str()) {
                    (Some(alias), _) => alias.as_str(),
                    // `use a::b::{self}` binds `b`.
                    (None, "self") => import.module.rsplit("::").next().unwrap_or(&import.module),
                    (None, name) => name,
                };
                if bound != "_" && !bound.is_empty() {
                    names
                        .entry(bound.to_string())
                        .or_default()
                        .push(Binding::Import(i as u32, j as u32));
                }
            }
        }
    }
    (names, globs)
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The innermost inline module holding each import and definition.
fn owners(facts: &FileFacts) -> Owners {
    let bodies: Vec<(u32, Span)> = facts
        .modules
        .iter()
        .enumerate()
        .filter_map(|(k, decl)| Some((k as u32, decl.body?)))
        .collect();
    let owner = |span: Span| {
        bodies
            .iter()
            .filter(|(_, body)| body.start <= span.start && span.end <= body.end)
            .min_by_key(|(_, body)| body.end - body.start)
            .map(|(k, _)| *k)
    };
    if bodies.is_empty() {
        return Owners {
            imports: vec![None; facts.imports.len()],
            definitions: vec![None; facts.definitions.len()],
        };
    }
    Owners {
        imports: facts
            .imports
            .iter()
            .map(|import| owner(import.span))
            .collect(),
        definitions: facts
            .definitions
            .iter()
            .map(|definition| owner(definition.span))
            .collect(),
    }
}

/// Where a path's prefix leads.
#[derive(Clone, Debug)]
enum Target {
    Module(usize),
    /// A type (an enum's variants, associated items): its origins.
    Item(Vec<Origin>),
    External(String),
    Missing(String),
    /// No prefix (`use name;`, `use {a, b::C};`): a leaf is a path's first segment, read from
    /// this module.
    Scope(usize),
}

/// Lookups over the index, memoised for the life of the resolver.
pub struct Resolver<'g> {
    files: &'g [SourceFile],
    index: &'g Index,
    memo: HashMap<(usize, String, usize), Vec<Origin>>,
    active: HashSet<(usize, String, usize)>,
}

impl<'g> Resolver<'g> {
    pub fn new(files: &'g [SourceFile], index: &'g Index) -> Resolver<'g> {
        Resolver {
            files,
            index,
            memo: HashMap::default(),
            active: HashSet::default(),
        }
    }

    /// The verdicts of every `use` leaf and every string path of `file`.
    fn file_verdicts(&mut self, file: usize) -> FileVerdicts {
        let index = self.index;
        let files = self.files;
        let facts = &files[file].facts;
        let mut targets = Vec::new();
        let resolutions = facts
            .imports
            .iter()
            .enumerate()
            .map(|(i, import)| match index.import_module(file, i) {
                Some(module) => {
                    if import.kind == ImportKind::From {
                        targets.push((
                            (file, import.span.start, import.module_span.end),
                            self.prefix_module(module, import),
                        ));
                    }
                    self.import_verdicts(module, import)
                }
                // A file no crate's module tree reaches: nothing to resolve it against.
                None => import
                    .names
                    .iter()
                    .map(|_| Resolution::External {
                        module: import.module.clone(),
                    })
                    .collect(),
            })
            .collect();
        let mut string_targets = Vec::new();
        let strings = facts
            .string_refs
            .iter()
            .map(|reference| {
                let Some(module) = index.module_at(files, file, reference.span) else {
                    return Resolution::External {
                        module: reference.value.clone(),
                    };
                };
                let import = path_import(&reference.value);
                string_targets.push((
                    (file, reference.span.start),
                    self.prefix_module(module, &import),
                ));
                self.import_verdicts(module, &import)
                    .pop()
                    .unwrap_or(Resolution::External {
                        module: import.module,
                    })
            })
            .collect();
        FileVerdicts {
            name: index
                .file_module(file)
                .map(|module| index.modules[module].path.clone()),
            resolutions,
            strings,
            targets,
            string_targets,
        }
    }

    fn facts(&self, module: usize) -> &'g FileFacts {
        &self.files[self.index.modules[module].file].facts
    }

    fn module_origin(&self, module: usize) -> Origin {
        Origin {
            module: self.index.modules[module].path.clone(),
            symbol: None,
            kind: OriginKind::Module,
        }
    }

    /// The verdict of each leaf of import `i` of the file of `module`.
    pub fn import_verdicts(&mut self, module: usize, import: &Import) -> Vec<Resolution> {
        if import.kind == ImportKind::Module {
            return import
                .names
                .iter()
                .map(|name| match self.extern_crate(module, &name.name) {
                    Some(root) => Resolution::Resolved {
                        origins: vec![self.module_origin(root)],
                    },
                    None => Resolution::External {
                        module: name.name.clone(),
                    },
                })
                .collect();
        }
        let target = self.prefix(module, import, 0);
        import
            .names
            .iter()
            .map(|name| self.leaf_verdict(&target, &name.name, 0))
            .collect()
    }

    fn leaf_verdict(&mut self, target: &Target, leaf: &str, depth: u32) -> Resolution {
        match target {
            Target::Module(module) => {
                if leaf == "*" || leaf == "self" {
                    return Resolution::Resolved {
                        origins: vec![self.module_origin(*module)],
                    };
                }
                let origins = self.lookup(*module, leaf, *module, depth + 1);
                if origins.is_empty() {
                    Resolution::MissingName {
                        module: self.index.modules[*module].path.clone(),
                    }
                } else if origins
                    .iter()
                    .all(|origin| origin.kind == OriginKind::External)
                {
                    Resolution::External {
                        module: origins[0].module.clone(),
                    }
                } else {
                    Resolution::Resolved { origins }
                }
            }
            Target::Item(origins) => Resolution::Resolved {
                origins: origins.iter().map(|origin| member(origin, leaf)).collect(),
            },
            Target::External(module) => Resolution::External {
                module: module.clone(),
            },
            Target::Missing(module) => Resolution::MissingModule {
                module: module.clone(),
            },
            Target::Scope(module) => match self.first_segment(*module, leaf, leaf, depth) {
                Target::Module(target) => Resolution::Resolved {
                    origins: vec![self.module_origin(target)],
                },
                Target::Item(origins) => Resolution::Resolved { origins },
                Target::External(_) | Target::Scope(_) => Resolution::External {
                    module: leaf.to_string(),
                },
                Target::Missing(module) => Resolution::MissingModule { module },
            },
        }
    }

    /// The module path a `use` prefix leads to from `module`, when it is a module of the
    /// workspace.
    pub fn prefix_module(&mut self, module: usize, import: &Import) -> Option<String> {
        match self.prefix(module, import, 0) {
            Target::Module(target) => Some(self.index.modules[target].path.clone()),
            _ => None,
        }
    }

    /// Where an absolute path (`krate::a::B`) leads.
    pub fn absolute(&mut self, path: &str) -> Resolution {
        let Some((prefix, leaf)) = path.rsplit_once("::") else {
            return match self
                .index
                .workspace
                .lib_named(path)
                .and_then(|k| self.crate_root(k))
            {
                Some(root) => Resolution::Resolved {
                    origins: vec![self.module_origin(root)],
                },
                None => Resolution::External {
                    module: path.to_string(),
                },
            };
        };
        let mut segments = prefix.split("::");
        let first = segments.next().unwrap_or_default();
        let Some(root) = self
            .index
            .workspace
            .lib_named(first)
            .and_then(|k| self.crate_root(k))
        else {
            return Resolution::External {
                module: prefix.to_string(),
            };
        };
        let mut target = Target::Module(root);
        for segment in segments {
            target = self.step(target, segment, prefix, 0);
        }
        self.leaf_verdict(&target, leaf, 0)
    }

    /// The crate root an `extern crate` or a path's first segment names through the extern
    /// prelude.
    fn extern_crate(&self, module: usize, name: &str) -> Option<usize> {
        let krate = self.index.modules[module].krate;
        let target = if name == "self" {
            Some(krate)
        } else {
            self.index.workspace.crates[krate]
                .externs
                .get(name)
                .copied()
                .or_else(|| self.index.workspace.lib_named(name))
        }?;
        self.crate_root(target)
    }

    fn crate_root(&self, krate: usize) -> Option<usize> {
        self.index.crate_roots.get(krate).copied().flatten()
    }

    fn root_of(&self, mut module: usize) -> usize {
        while let Some(parent) = self.index.modules[module].parent {
            module = parent;
        }
        module
    }

    /// Where the written prefix of import `i` leads from `module`.
    fn prefix(&mut self, module: usize, import: &Import, depth: u32) -> Target {
        let mut current = module;
        for _ in 0..import.level {
            match self.index.modules[current].parent {
                Some(parent) => current = parent,
                None => {
                    return Target::Missing(format!(
                        "{}super",
                        "super::".repeat(import.level as usize - 1)
                    ));
                }
            }
        }
        let written = import.module.as_str();
        if import.level > 0 && written.is_empty() {
            return Target::Module(current);
        }
        let (leading, rest) = match written.strip_prefix("::") {
            Some(rest) => (true, rest),
            None => (false, written),
        };
        let segments: Vec<&str> = rest.split("::").filter(|s| !s.is_empty()).collect();
        let Some((&first, tail)) = segments.split_first() else {
            // `use ::name;`: the leaf is a crate; `use name;`: a first segment.
            return if leading {
                Target::External(written.to_string())
            } else {
                Target::Scope(module)
            };
        };
        let start = if import.level > 0 {
            self.step(Target::Module(current), first, written, depth)
        } else if leading {
            match self.extern_crate(module, first) {
                Some(root) => Target::Module(root),
                None => Target::External(written.to_string()),
            }
        } else {
            match first {
                "crate" | "$crate" => Target::Module(self.root_of(module)),
                "self" => Target::Module(module),
                "super" => match self.index.modules[module].parent {
                    Some(parent) => Target::Module(parent),
                    None => Target::Missing(written.to_string()),
                },
                name => self.first_segment(module, name, written, depth),
            }
        };
        let mut target = start;
        for segment in tail {
            target = match (target, *segment) {
                (Target::Module(m), "super") => match self.index.modules[m].parent {
                    Some(parent) => Target::Module(parent),
                    None => Target::Missing(written.to_string()),
                },
                (target, segment) => self.step(target, segment, written, depth),
            };
        }
        target
    }

    /// A path's first segment: a name of the module that can lead a path (a module, crate or
    /// type; an import of it cut by the in-progress set when it is this very import), then
    /// the extern prelude, then the crate root (2015 paths), else external.
    fn first_segment(&mut self, module: usize, name: &str, written: &str, depth: u32) -> Target {
        let origins = self.lookup(module, name, module, depth + 1);
        if let Some(target) = self.as_target(&origins, written) {
            return target;
        }
        if let Some(root) = self.extern_crate(module, name) {
            return Target::Module(root);
        }
        let root = self.root_of(module);
        if root != module {
            let origins = self.lookup(root, name, module, depth + 1);
            if let Some(target) = self.as_target(&origins, written) {
                return target;
            }
        }
        Target::External(written.to_string())
    }

    fn as_target(&self, origins: &[Origin], written: &str) -> Option<Target> {
        if let Some(module) = origins
            .iter()
            .filter(|origin| origin.kind == OriginKind::Module)
            .find_map(|origin| self.index.by_path.get(&origin.module))
        {
            return Some(Target::Module(*module));
        }
        // Only a module, a crate or a type (an enum's variants, a trait's items) can lead a
        // path: a macro, const or function of the same name (`use quote::{quote, ..}` binds
        // the macro `quote` beside the crate) is never a prefix.
        let items: Vec<Origin> = origins
            .iter()
            .filter(|origin| origin.kind == OriginKind::Class)
            .cloned()
            .collect();
        if !items.is_empty() {
            return Some(Target::Item(items));
        }
        origins
            .iter()
            .any(|origin| origin.kind == OriginKind::External)
            .then(|| Target::External(written.to_string()))
    }

    fn step(&mut self, target: Target, segment: &str, written: &str, depth: u32) -> Target {
        match target {
            Target::Module(module) => {
                let origins = self.lookup(module, segment, module, depth + 1);
                self.as_target(&origins, written).unwrap_or_else(|| {
                    Target::Missing(format!("{}::{segment}", self.index.modules[module].path))
                })
            }
            Target::Item(origins) => Target::Item(
                origins
                    .iter()
                    .map(|origin| member(origin, segment))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The origins of `name` in `module`'s namespace, as seen from `viewer` (globs bring only
    /// what `viewer` may see).
    pub fn lookup(&mut self, module: usize, name: &str, viewer: usize, depth: u32) -> Vec<Origin> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let key = (module, name.to_string(), viewer);
        if let Some(found) = self.memo.get(&key) {
            return found.clone();
        }
        if !self.active.insert(key.clone()) {
            return Vec::new();
        }
        let found = self.lookup_uncached(module, name, viewer, depth);
        self.active.remove(&key);
        self.memo.insert(key, found.clone());
        found
    }

    fn lookup_uncached(
        &mut self,
        module: usize,
        name: &str,
        viewer: usize,
        depth: u32,
    ) -> Vec<Origin> {
        let index = self.index;
        let facts = self.facts(module);
        let mut origins: Vec<Origin> = Vec::new();
        let explicit = index.modules[module]
            .names
            .get(name)
            .cloned()
            .unwrap_or_default();
        for binding in &explicit {
            // A glob re-export carries only what the viewer could name.
            if viewer != module
                && !self.visible(self.binding_visibility(module, *binding), module, viewer)
            {
                continue;
            }
            match *binding {
                Binding::Definition(d) => {
                    let definition = &facts.definitions[d as usize];
                    let kind = match &definition.kind {
                        DefKind::Class { .. } => OriginKind::Class,
                        DefKind::Function { .. } => OriginKind::Function,
                        DefKind::Variable => OriginKind::Variable,
                        DefKind::Alias { target } => {
                            // `pub type Legacy = Canonical;` names the same type.
                            let aliased = self.path_origins(module, target, depth);
                            if !aliased.is_empty() {
                                origins.extend(aliased);
                                continue;
                            }
                            OriginKind::Class
                        }
                    };
                    origins.push(Origin {
                        module: index.modules[module].path.clone(),
                        symbol: Some(name.to_string()),
                        kind,
                    });
                }
                Binding::Module(child) => origins.push(self.module_origin(child)),
                Binding::Exported(defining, _) => origins.push(Origin {
                    module: index.modules[defining].path.clone(),
                    symbol: Some(name.to_string()),
                    kind: OriginKind::Variable,
                }),
                Binding::ExternCrate(i) => {
                    let import = &facts.imports[i as usize];
                    let crate_name = &import.names[0].name;
                    match self.extern_crate(module, crate_name) {
                        Some(root) => origins.push(self.module_origin(root)),
                        None => origins.push(Origin {
                            module: crate_name.clone(),
                            symbol: None,
                            kind: OriginKind::External,
                        }),
                    }
                }
                Binding::Import(i, j) => {
                    let import = &facts.imports[i as usize];
                    let leaf = &import.names[j as usize].name;
                    let target = self.prefix(module, import, depth + 1);
                    match self.leaf_verdict(&target, leaf, depth + 1) {
                        Resolution::Resolved { origins: found } => origins.extend(found),
                        Resolution::External { module } => origins.push(Origin {
                            module,
                            symbol: Some(leaf.clone()),
                            kind: OriginKind::External,
                        }),
                        _ => {}
                    }
                }
            }
        }
        if explicit.is_empty() {
            let mut external_glob: Option<String> = None;
            for &(i, _) in &index.modules[module].globs.clone() {
                let import = &facts.imports[i as usize];
                // The glob import itself must be visible to the viewer.
                if viewer != module
                    && !self.visible(facts.import_visibility_of(i as usize), module, viewer)
                {
                    continue;
                }
                let target = match self.prefix(module, import, depth + 1) {
                    Target::Module(target) => target,
                    // A glob of another crate's module may bring any name: what is not found
                    // here may well come from it.
                    Target::External(written) => {
                        external_glob.get_or_insert(written);
                        continue;
                    }
                    _ => continue,
                };
                if target == module {
                    continue;
                }
                origins.extend(self.lookup(target, name, viewer, depth + 1));
            }
            if origins.is_empty()
                && let Some(written) = external_glob
            {
                origins.push(Origin {
                    module: written,
                    symbol: Some(name.to_string()),
                    kind: OriginKind::External,
                });
            }
        }
        origins.sort();
        origins.dedup();
        origins
    }

    /// What a written path (`a::B`, `crate::x::Y`) names from `module`.
    fn path_origins(&mut self, module: usize, path: &str, depth: u32) -> Vec<Origin> {
        let (prefix, leaf) = match path.rsplit_once("::") {
            Some((prefix, leaf)) => (prefix, leaf),
            None => return self.lookup(module, path, module, depth + 1),
        };
        let mut level = 0;
        let mut rest = prefix;
        while let Some(after) = rest
            .strip_prefix("super::")
            .or((rest == "super").then_some(""))
        {
            level += 1;
            rest = after;
        }
        let import = Import {
            kind: ImportKind::From,
            span: Span::default(),
            module: rest.to_string(),
            module_span: Span::default(),
            level,
            names: Vec::new(),
            context: Default::default(),
        };
        let target = self.prefix(module, &import, depth + 1);
        self.leaf_verdict(&target, leaf, depth + 1)
            .origins()
            .to_vec()
    }

    fn binding_visibility(&self, module: usize, binding: Binding) -> &'g Visibility {
        let facts = self.facts(module);
        match binding {
            Binding::Definition(d) => facts.definition_visibility_of(d as usize),
            Binding::Import(i, _) | Binding::ExternCrate(i) => {
                facts.import_visibility_of(i as usize)
            }
            Binding::Module(child) => &self.index.modules[child].visibility,
            Binding::Exported(..) => &Visibility::Public,
        }
    }

    fn visible(&self, visibility: &Visibility, owner: usize, viewer: usize) -> bool {
        self.index.visible(visibility, owner, viewer)
    }
}

impl Index {
    /// May `viewer` name a binding of `owner` with this visibility?
    pub fn visible(&self, visibility: &Visibility, owner: usize, viewer: usize) -> bool {
        match visibility {
            Visibility::Public => true,
            Visibility::Default => self.is_within(viewer, owner),
            Visibility::Restricted(path) => {
                let path = path.strip_prefix("in ").unwrap_or(path).trim();
                match path {
                    "self" => self.is_within(viewer, owner),
                    "super" => self.is_within(viewer, self.modules[owner].parent.unwrap_or(owner)),
                    _ => self.modules[viewer].krate == self.modules[owner].krate,
                }
            }
        }
    }

    /// Whether a path from `viewer` can reach module `target` at all: every module on the way
    /// from its crate root is visible to `viewer`. When not (`mod glob;` private, its type
    /// re-exported by `pub use`), a re-export is the only path there is.
    pub fn reachable(&self, viewer: usize, target: usize) -> bool {
        let mut current = target;
        let mut depth = 0;
        while let Some(parent) = self.modules[current].parent {
            if !self.visible(&self.modules[current].visibility, parent, viewer) {
                return false;
            }
            current = parent;
            depth += 1;
            if depth > MAX_DEPTH {
                return false;
            }
        }
        true
    }

    /// The path module `viewer` writes for `name` in `target` (`crate::a::T` in the same
    /// crate, `dep::a::T` through the dependency's extern name), when every module on the
    /// way is visible to it; else why not.
    pub fn spell(&self, viewer: usize, target: usize, name: &str) -> Result<String, String> {
        let mut chain = vec![target];
        let mut current = target;
        while let Some(parent) = self.modules[current].parent {
            chain.push(parent);
            current = parent;
            if chain.len() > MAX_DEPTH as usize {
                return Err("the module tree is too deep".to_string());
            }
        }
        chain.reverse();
        let root = chain[0];
        for pair in chain.windows(2) {
            let (parent, child) = (pair[0], pair[1]);
            if !self.visible(&self.modules[child].visibility, parent, viewer) {
                return Err(format!(
                    "the module `{}` is private to `{}`",
                    self.modules[child].path, self.modules[parent].path
                ));
            }
        }
        let target_crate = self.modules[root].krate;
        let viewer_crate = self.modules[viewer].krate;
        if self.shared_files.contains(&self.modules[viewer].file) {
            return Err(
                "the file is compiled by more than one crate, where one path may not name the same item"
                    .to_string(),
            );
        }
        let viewer_package = self.workspace.crates[viewer_crate].package;
        if target_crate != viewer_crate && self.workspace.packages[viewer_package].edition == "2015"
        {
            return Err(
                "a 2015-edition crate names other crates in `use` only through `extern crate`"
                    .to_string(),
            );
        }
        let head = if target_crate == viewer_crate {
            "crate".to_string()
        } else {
            let externs = &self.workspace.crates[viewer_crate].externs;
            match externs.iter().find(|(_, k)| **k == target_crate) {
                Some((extern_name, _)) => extern_name.clone(),
                None => {
                    return Err(format!(
                        "the crate `{}` does not depend on `{}`",
                        self.workspace.crates[viewer_crate].name,
                        self.workspace.crates[target_crate].name
                    ));
                }
            }
        };
        let mut path = head;
        for &module in &chain[1..] {
            path.push_str("::");
            path.push_str(
                self.modules[module]
                    .path
                    .rsplit("::")
                    .next()
                    .unwrap_or_default(),
            );
        }
        path.push_str("::");
        path.push_str(name);
        Ok(path)
    }
}

/// `Enum::Variant`: an item reached through a type.
fn member(origin: &Origin, name: &str) -> Origin {
    Origin {
        module: origin.module.clone(),
        symbol: Some(match &origin.symbol {
            Some(symbol) => format!("{symbol}::{name}"),
            None => name.to_string(),
        }),
        kind: if origin.kind == OriginKind::External {
            OriginKind::External
        } else {
            OriginKind::Variable
        },
    }
}
