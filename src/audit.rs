//! `ssot-gardener audit`: which concept is most fragmented, before any `[[concept]]` is
//! written. Read off the resolved graph, for Python and Rust alike.
//!
//! Three kinds of group, each of class-like definitions (Python classes; Rust structs,
//! enums, unions, traits) at module level, without what SSOT001 exempts (test cases,
//! exceptions, enums, protocols):
//!
//! - **name**: one name defined in two or more modules (`Config` in `a` and `b`);
//! - **family**: names sharing a stem of CamelCase words before the same last word,
//!   `*WebSocket*Manager` (`_UnifiedWebSocketManager`, `WebSocketConnectionManager`) or
//!   `*Config`; of stems with the same members only the most specific is kept;
//! - **similar**: classes with other names whose public methods overlap (Jaccard index 0.6
//!   or more, three shared methods or more).
//!
//! Each group gets a score (documented in `docs/audit.md`): every member weighs as much as
//! it looks like the likely canonical one (1 when it shares two public methods or more with
//! it, ½ for one, ¼ when the canonical class has none to compare, 0.1 for a subclass of a
//! member, a wrapper of one or a class sharing its base: a hierarchy, a proxy or an interface
//! is design, not a copy), cohesion is the mean weight, copies is the other members' weight
//! (at most 1), and
//!
//! ```text
//! raw   = 4·(weighted definitions − 1) + 2·weighted test doubles + 3·factories + 2·backups
//!         + copies · (3·shims + package re-exports + 2·(import spellings − imported members)
//!                     + log2(1 + importers))
//! score = raw · cohesion (· ½ for a one-word stem)
//! ```
//!
//! The likely canonical definition is the most imported member outside the tests, then the
//! one reached through the shortest public path; its canonical path is the public spelling
//! most importers use.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

use crate::concept::{is_exempt_class, is_test_path};
use crate::facts::{DefKind, LineIndex, Scope};
use crate::graph::{Graph, OriginKind};
use crate::rules::plural;
use crate::walk::Language;

/// Words a factory's name starts with (`create_websocket_manager`, Rust's `new_config`).
const FACTORY_VERBS: [&str; 12] = [
    "create",
    "get",
    "make",
    "build",
    "new",
    "init",
    "setup",
    "provide",
    "acquire",
    "obtain",
    "spawn",
    "construct",
];
/// A method shared by more classes than this says nothing about them (`get`, `run`).
const COMMON_METHOD: usize = 400;
/// `similar` groups: Jaccard index and shared methods at least.
const SIMILARITY: f64 = 0.6;
const SHARED_AT_LEAST: usize = 3;
/// How many groups get the full (factory) count before the final ranking.
const SHORTLIST: usize = 400;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    Name,
    Family,
    Similar,
}

/// One class-like definition.
#[derive(Debug)]
struct Class {
    module: usize,
    definition: usize,
    name: String,
    methods: BTreeSet<String>,
    /// Its bases and theirs, by name, as far as the repository defines them (`Operation` for
    /// a subclass of `FieldOperation(Operation)`), without the ones everything has.
    ancestors: BTreeSet<String>,
    /// Names in its bases' type arguments: `AsyncEngine(ProxyComparable[Engine])` wraps
    /// `Engine`.
    wraps: BTreeSet<String>,
    test: bool,
}

/// What is known of how a class is imported.
#[derive(Debug, Default)]
struct Usage {
    importers: BTreeSet<usize>,
    /// `(module as the import names it, name)` to the importing modules.
    spellings: BTreeMap<(String, String), BTreeSet<usize>>,
    /// Modules other than its own that bind it (imports, aliases).
    binders: BTreeSet<usize>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub name: String,
    pub path: String,
    pub line: u32,
    /// The module's import path (`pkg.mod`, `krate::m`).
    pub module: String,
    pub test_double: bool,
    pub importers: usize,
    pub spellings: usize,
    /// Public methods shared with the likely canonical definition.
    pub shared_methods: usize,
    #[serde(skip)]
    site: (usize, usize),
}

#[derive(Debug, Serialize)]
pub struct Factory {
    pub name: String,
    pub path: String,
    pub line: u32,
    /// In the likely canonical definition's module: the one accessor to keep.
    pub canonical_module: bool,
    #[serde(skip)]
    site: (usize, usize),
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub definitions: usize,
    pub test_doubles: usize,
    pub importers: usize,
    pub spellings: usize,
    pub shims: usize,
    /// Packages re-exporting their own submodule's class (`pkg/__init__.py`, a crate root).
    pub package_re_exports: usize,
    pub factories: usize,
    pub backups: usize,
}

impl Counts {
    /// "2 definitions, 2 test doubles, ..."; the import spellings only when `spellings`.
    fn describe(&self, spellings: bool) -> String {
        let mut parts = vec![
            plural(self.definitions, "definition"),
            plural(self.test_doubles, "test double"),
            plural(self.importers, "importer"),
        ];
        if spellings {
            parts.push(plural(self.spellings, "import spelling"));
        }
        parts.extend([
            plural(self.shims, "shim"),
            plural(self.package_re_exports, "package re-export"),
            plural(self.factories, "factory"),
            plural(self.backups, "backup"),
        ]);
        parts.join(", ")
    }
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub rank: usize,
    pub kind: GroupKind,
    /// `WebSocketManager`, `*WebSocket*Manager`, or for a `similar` group the names joined
    /// with `|`.
    pub key: String,
    /// The `implementations` globs of the emitted concept.
    pub implementations: Vec<String>,
    pub score: f64,
    pub cohesion: f64,
    pub counts: Counts,
    /// The likely canonical path: the public spelling most importers use.
    pub canonical: String,
    /// The likely canonical definition first, then the others by importers.
    pub members: Vec<Member>,
    pub factories: Vec<Factory>,
    /// The key of a higher-ranked group that holds every member of this one.
    pub within: Option<String>,
    /// The concept name the emitted block gets.
    pub concept_name: String,
    /// Words a factory's name holds, lower case, in order.
    #[serde(skip)]
    stem: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Audit {
    pub modules: usize,
    pub classes: usize,
    /// Groups found before `--top` kept the first ones.
    pub groups_found: usize,
    pub groups: Vec<Group>,
}

/// A group before it is ranked: members are indices into the class table.
struct Candidate {
    kind: GroupKind,
    key: String,
    implementations: Vec<String>,
    members: Vec<u32>,
    stem: Vec<String>,
    concept_name: String,
    specificity: usize,
}

/// Audits the graph; `top` groups are kept (0: all), `family` keeps only the group with that
/// key (with or without its `*`s) or concept name.
pub fn audit(graph: &Graph, top: usize, family: Option<&str>) -> Audit {
    let classes = classes(graph);
    let usage = usage(graph, &classes);
    let backups = backups(graph);
    let mut candidates = candidates(&classes);
    // Subsumed by a more specific key with the same members: kept once.
    let mut seen: HashMap<Vec<u32>, usize> = HashMap::default();
    let mut keep = vec![true; candidates.len()];
    for (index, candidate) in candidates.iter().enumerate() {
        match seen.get(&candidate.members) {
            Some(&other) if candidates[other].specificity >= candidate.specificity => {
                keep[index] = false
            }
            Some(&other) => {
                keep[other] = false;
                seen.insert(candidate.members.clone(), index);
            }
            None => {
                seen.insert(candidate.members.clone(), index);
            }
        }
    }
    let mut index = 0;
    candidates.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    if let Some(wanted) = family {
        let bare = wanted.trim_matches('*');
        candidates.retain(|candidate| {
            candidate.key == wanted
                || candidate.key.trim_matches('*') == bare
                || candidate.concept_name == wanted
        });
    }
    // A first ranking without factories (they need a pass over every function), then the
    // shortlist counted in full.
    let functions = Factories::new(factory_functions(graph));
    let mut scored: Vec<(f64, Candidate)> = candidates
        .into_iter()
        .map(|candidate| {
            let score = score(graph, &classes, &usage, &backups, &candidate, &[]).0;
            (score, candidate)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
    let groups_found = scored.len();
    scored.truncate(SHORTLIST.max(top));
    let mut groups: Vec<Group> = scored
        .into_iter()
        .map(|(_, candidate)| {
            let names: BTreeSet<Vec<String>> = candidate
                .members
                .iter()
                .map(|&m| {
                    words(&classes[m as usize].name)
                        .into_iter()
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .collect();
            let names: Vec<Vec<String>> = names.into_iter().collect();
            let factories = matching_factories(&functions, &candidate.stem, &names);
            build_group(graph, &classes, &usage, &backups, candidate, factories)
        })
        .collect();
    groups.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
    // A group whose members all belong to a higher-ranked one is shown as within it.
    let member_sets: Vec<HashSet<(usize, usize)>> = groups
        .iter()
        .map(|group| group.members.iter().map(|member| member.site).collect())
        .collect();
    for later in 1..groups.len() {
        if let Some(earlier) =
            (0..later).find(|&earlier| member_sets[later].is_subset(&member_sets[earlier]))
        {
            groups[later].within = Some(groups[earlier].key.clone());
        }
    }
    if top > 0 {
        groups.truncate(top);
    }
    fill_lines(graph, &mut groups);
    for (rank, group) in groups.iter_mut().enumerate() {
        group.rank = rank + 1;
    }
    Audit {
        modules: graph.modules.len(),
        classes: classes.len(),
        groups_found,
        groups,
    }
}

/// The line of every member and factory shown: each file read once.
fn fill_lines(graph: &Graph, groups: &mut [Group]) {
    let mut lines: HashMap<usize, LineIndex> = HashMap::default();
    let mut line = |(module, definition): (usize, usize)| {
        let file = graph.modules[module].file;
        let index = lines
            .entry(file)
            .or_insert_with(|| LineIndex::new(&graph.files[file].read()));
        index.line(
            graph.files[file].facts.definitions[definition]
                .name_span
                .start,
        )
    };
    for group in groups {
        for member in &mut group.members {
            member.line = line(member.site);
        }
        for factory in &mut group.factories {
            factory.line = line(factory.site);
        }
    }
}

/// Every class-like definition at module level that SSOT001 would consider.
fn classes(graph: &Graph) -> Vec<Class> {
    // Every class's bases by its name (all classes: an exempt base is still a base).
    let mut bases_of: HashMap<&str, Vec<&str>> = HashMap::default();
    for module in 0..graph.modules.len() {
        for def in &graph.facts(module).definitions {
            if let DefKind::Class { bases, .. } = &def.kind {
                bases_of
                    .entry(def.name.as_str())
                    .or_default()
                    .extend(bases.iter().map(|base| base_name(base)));
            }
        }
    }
    let mut memo: HashMap<&str, BTreeSet<String>> = HashMap::default();
    let mut out = Vec::new();
    for (module, info) in graph.modules.iter().enumerate() {
        let file = &graph.files[info.file];
        let test = is_test_path(&file.path);
        // One module's twins under `#[cfg]` or `if`/`else` are one definition.
        let mut seen: HashSet<(Option<String>, &str)> = HashSet::default();
        for (definition, def) in file.facts.definitions.iter().enumerate() {
            let DefKind::Class { bases, methods } = &def.kind else {
                continue;
            };
            if def.context.scope != Scope::Module
                || is_exempt_class(def)
                || !seen.insert((module_path(graph, module, definition), def.name.as_str()))
            {
                continue;
            }
            let ancestors = ancestors(&bases_of, &mut memo, bases);
            // Test cases of a test framework's base (`FooTest(fixtures.TestBase)`) are
            // tests, not doubles.
            let test_case = |name: &str| {
                name.ends_with("TestCase") || name.ends_with("TestBase") || name == "TestSuite"
            };
            if test
                && (def.name.ends_with("Test")
                    || def.name.ends_with("Tests")
                    || ancestors.iter().any(|a| test_case(a)))
            {
                continue;
            }
            out.push(Class {
                module,
                definition,
                name: def.name.clone(),
                methods: methods
                    .iter()
                    .filter(|name| !name.starts_with('_') && !CONSTRUCTORS.contains(&name.as_str()))
                    .cloned()
                    .collect(),
                wraps: bases.iter().flat_map(|base| type_arguments(base)).collect(),
                ancestors,
                test,
            });
        }
    }
    out
}

/// Methods every type has (Rust constructors and conversions): no evidence of one job.
const CONSTRUCTORS: [&str; 6] = ["new", "default", "from", "into", "clone", "fmt"];

/// The names inside a base's type arguments: `Engine` of `ProxyComparable[Engine]`.
fn type_arguments(base: &str) -> Vec<String> {
    let Some(open) = base.find(['[', '<']) else {
        return Vec::new();
    };
    base[open + 1..]
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == ':'))
        .filter(|part| !part.is_empty())
        .map(|part| base_name(part).to_string())
        .collect()
}

/// Bases everything has: no evidence of a hierarchy.
const TRIVIAL_BASES: [&str; 8] = [
    "object",
    "ABC",
    "Generic",
    "Any",
    "Protocol",
    "Sized",
    "Exception",
    "type",
];

/// The bases of `bases` and theirs, by name, up to 8 levels (cycle-safe).
fn ancestors<'g>(
    bases_of: &HashMap<&'g str, Vec<&'g str>>,
    memo: &mut HashMap<&'g str, BTreeSet<String>>,
    bases: &'g [String],
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut frontier: Vec<&str> = bases.iter().map(|base| base_name(base)).collect();
    for _ in 0..8 {
        let mut next = Vec::new();
        for name in frontier {
            if TRIVIAL_BASES.contains(&name) || name.is_empty() || !out.insert(name.to_string()) {
                continue;
            }
            if let Some(known) = memo.get(name) {
                out.extend(known.iter().cloned());
                continue;
            }
            if let Some(more) = bases_of.get(name) {
                next.extend(more.iter().copied());
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    if let [only] = bases {
        memo.entry(base_name(only)).or_insert_with(|| {
            let mut below = out.clone();
            below.remove(base_name(only));
            below
        });
    }
    out
}

/// Who imports each class, by which spelling, and which modules re-bind it.
fn usage(graph: &Graph, classes: &[Class]) -> Vec<Usage> {
    let mut by_origin: HashMap<(String, &str), u32> = HashMap::default();
    for (index, class) in classes.iter().enumerate() {
        if let Some(path) = module_path(graph, class.module, class.definition) {
            by_origin.insert((path, class.name.as_str()), index as u32);
        }
    }
    let mut usage: Vec<Usage> = classes.iter().map(|_| Usage::default()).collect();
    let query = graph.query();
    for (module, info) in graph.modules.iter().enumerate() {
        let facts = graph.facts(module);
        for (i, import) in facts.imports.iter().enumerate() {
            let mut target: Option<Option<String>> = None;
            for (j, name) in import.names.iter().enumerate() {
                let Some(resolution) = info.resolutions.get(i).and_then(|r| r.get(j)) else {
                    continue;
                };
                for origin in resolution.origins() {
                    if origin.kind != OriginKind::Class {
                        continue;
                    }
                    let Some(symbol) = origin.symbol.as_deref() else {
                        continue;
                    };
                    let Some(&class) = by_origin.get(&(origin.module.clone(), symbol)) else {
                        continue;
                    };
                    let class_module = classes[class as usize].module;
                    if class_module == module {
                        continue;
                    }
                    let entry = &mut usage[class as usize];
                    entry.importers.insert(module);
                    let target = target
                        .get_or_insert_with(|| query.import_target(module, import))
                        .clone()
                        .unwrap_or_else(|| import.module.clone());
                    entry
                        .spellings
                        .entry((target, name.name.clone()))
                        .or_default()
                        .insert(module);
                }
            }
        }
        for origins in info.alias_origins.values() {
            for origin in origins {
                let Some(symbol) = origin.symbol.as_deref() else {
                    continue;
                };
                if let Some(&class) = by_origin.get(&(origin.module.clone(), symbol))
                    && classes[class as usize].module != module
                {
                    usage[class as usize].binders.insert(module);
                }
            }
        }
    }
    // The modules importers spell, other than the class's own, re-export it.
    let by_name: HashMap<&str, usize> = graph
        .modules
        .iter()
        .enumerate()
        .filter_map(|(index, module)| Some((module.name.as_deref()?, index)))
        .chain(
            graph
                .rust
                .modules
                .iter()
                .map(|module| (module.path.as_str(), module.file)),
        )
        .collect();
    for (index, entry) in usage.iter_mut().enumerate() {
        let own = classes[index].module;
        let spelled: Vec<usize> = entry
            .spellings
            .keys()
            .filter_map(|(module, _)| by_name.get(module.as_str()).copied())
            .filter(|&module| module != own)
            .collect();
        entry.binders.extend(spelled);
    }
    usage
}

/// The import path of the module that holds a definition: `pkg.mod` or `krate::a::b`.
fn module_path(graph: &Graph, module: usize, definition: usize) -> Option<String> {
    let file = graph.modules[module].file;
    if graph.files[file].language == Language::Rust {
        let rust = graph.rust.definition_module(file, definition)?;
        return Some(graph.rust.modules[rust].path.clone());
    }
    graph.modules[module].name.clone()
}

/// The import path of a module (`pkg.sub`, `krate::m`).
fn module_name(graph: &Graph, module: usize) -> Option<String> {
    let file = graph.modules[module].file;
    if graph.files[file].language == Language::Rust {
        let rust = graph.rust.file_module(file)?;
        return Some(graph.rust.modules[rust].path.clone());
    }
    graph.modules[module].name.clone()
}

/// Stale backup copies, by the module of the live file they copy.
fn backups(graph: &Graph) -> HashMap<usize, usize> {
    let by_path: HashMap<&str, usize> = graph
        .modules
        .iter()
        .enumerate()
        .map(|(index, module)| (graph.files[module.file].path.as_str(), index))
        .collect();
    let mut out = HashMap::default();
    for path in &graph.other_files {
        if let Some(Some(live)) = crate::rules::stale_backup::backup_of(path)
            && let Some(&module) = by_path.get(live.as_str())
        {
            *out.entry(module).or_insert(0) += 1;
        }
    }
    out
}

/// The CamelCase words of a name, leading underscores dropped: `HTTPServerConfig` gives
/// `HTTP`, `Server`, `Config`; `web_socket` gives `web`, `socket`.
pub fn words(name: &str) -> Vec<&str> {
    let name = name.trim_start_matches('_');
    let bytes = name.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        let (prev, here) = (bytes[i - 1], bytes[i]);
        let next = bytes.get(i + 1).copied();
        let boundary = here == b'_'
            || prev == b'_'
            || (here.is_ascii_uppercase() && (prev.is_ascii_lowercase() || prev.is_ascii_digit()))
            || (here.is_ascii_uppercase()
                && prev.is_ascii_uppercase()
                && next.is_some_and(|next| next.is_ascii_lowercase()));
        if boundary {
            if start < i && &name[start..i] != "_" {
                out.push(&name[start..i]);
            }
            start = i;
        }
    }
    if start < name.len() && &name[start..] != "_" {
        out.push(&name[start..]);
    }
    out.into_iter()
        .map(|word| word.trim_matches('_'))
        .filter(|word| !word.is_empty())
        .collect()
}

/// Every group worth ranking: same names, families and similar method sets.
fn candidates(classes: &[Class]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let spans_modules = |members: &[u32]| {
        let modules: HashSet<usize> = members
            .iter()
            .map(|&m| classes[m as usize].module)
            .collect();
        modules.len() >= 2 && members.iter().any(|&m| !classes[m as usize].test)
    };
    // Same name.
    let mut by_name: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (index, class) in classes.iter().enumerate() {
        by_name.entry(&class.name).or_default().push(index as u32);
    }
    for (name, members) in &by_name {
        if spans_modules(members) {
            let words = words(name);
            out.push(Candidate {
                kind: GroupKind::Name,
                key: (*name).to_string(),
                implementations: vec![(*name).to_string()],
                members: members.clone(),
                stem: vec![words.concat().to_ascii_lowercase()],
                concept_name: kebab(&words),
                specificity: 100,
            });
        }
    }
    // Families: (stem before the last word, last word) to members and whether the stem is
    // always right before the last word.
    let mut families: HashMap<(String, String), (Vec<u32>, bool, usize)> = HashMap::default();
    for (index, class) in classes.iter().enumerate() {
        let words = words(&class.name);
        let n = words.len();
        if n == 0 {
            continue;
        }
        // A one-word name (`Manager`) is the head of the family `*Manager`.
        let last = words[n - 1].to_string();
        let mut keys: Vec<(String, bool, usize)> = vec![(String::new(), true, 0)];
        for len in 1..=3usize {
            for start in 0..(n - 1).saturating_sub(len - 1) {
                if start + len > n - 1 {
                    continue;
                }
                keys.push((
                    words[start..start + len].concat(),
                    start + len == n - 1,
                    len,
                ));
            }
        }
        let mut done = HashSet::default();
        for (stem, adjacent, len) in keys {
            if !done.insert(stem.clone()) {
                continue;
            }
            let entry = families
                .entry((stem, last.clone()))
                .or_insert_with(|| (Vec::new(), true, len));
            entry.0.push(index as u32);
            entry.1 &= adjacent;
        }
    }
    // In key order, so that ties rank the same on every run.
    let mut families: Vec<_> = families.into_iter().collect();
    families.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((stem, last), (members, adjacent, len)) in families {
        let names: HashSet<&str> = members
            .iter()
            .map(|&m| classes[m as usize].name.as_str())
            .collect();
        if names.len() < 2 || !spans_modules(&members) {
            continue;
        }
        let key = match (stem.is_empty(), adjacent) {
            (true, _) => format!("*{last}"),
            (false, true) => format!("*{stem}{last}"),
            (false, false) => format!("*{stem}*{last}"),
        };
        let mut stem_words = Vec::new();
        if !stem.is_empty() {
            stem_words.push(stem.to_ascii_lowercase());
        }
        stem_words.push(last.to_ascii_lowercase());
        let concept_name = stem_words.join("-");
        out.push(Candidate {
            kind: GroupKind::Family,
            implementations: vec![key.clone()],
            key,
            members,
            stem: stem_words,
            concept_name,
            specificity: len + 1,
        });
    }
    out.extend(similar(classes, &spans_modules));
    out
}

/// Groups of classes with other names whose public methods overlap strongly (connected
/// components of the pairs above [`SIMILARITY`]).
fn similar(classes: &[Class], spans_modules: &dyn Fn(&[u32]) -> bool) -> Vec<Candidate> {
    let mut postings: HashMap<&str, Vec<u32>> = HashMap::default();
    for (index, class) in classes.iter().enumerate() {
        if class.methods.len() >= SHARED_AT_LEAST {
            for method in &class.methods {
                postings.entry(method).or_default().push(index as u32);
            }
        }
    }
    let mut parent: Vec<u32> = (0..classes.len() as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut paired = vec![false; classes.len()];
    let mut shared: HashMap<u32, usize> = HashMap::default();
    for (index, class) in classes.iter().enumerate() {
        if class.methods.len() < SHARED_AT_LEAST {
            continue;
        }
        shared.clear();
        for method in &class.methods {
            let list = &postings[method.as_str()];
            if list.len() > COMMON_METHOD {
                continue;
            }
            for &other in list {
                if other as usize > index {
                    *shared.entry(other).or_insert(0) += 1;
                }
            }
        }
        for (&other, &count) in &shared {
            let other_class = &classes[other as usize];
            if count < SHARED_AT_LEAST
                || other_class.name == class.name
                || shares_base(class, other_class)
                || class.ancestors.contains(&other_class.name)
                || other_class.ancestors.contains(&class.name)
            {
                continue;
            }
            let union = class.methods.len() + other_class.methods.len() - count;
            if count as f64 / union as f64 >= SIMILARITY {
                let (a, b) = (find(&mut parent, index as u32), find(&mut parent, other));
                parent[a as usize] = b;
                paired[index] = true;
                paired[other as usize] = true;
            }
        }
    }
    let mut components: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for index in 0..classes.len() as u32 {
        if paired[index as usize] {
            let root = find(&mut parent, index);
            components.entry(root).or_default().push(index);
        }
    }
    let mut out = Vec::new();
    for members in components.into_values() {
        if !spans_modules(&members) {
            continue;
        }
        let names: BTreeSet<&str> = members
            .iter()
            .map(|&m| classes[m as usize].name.as_str())
            .collect();
        let first = names.iter().next().copied().unwrap_or_default();
        out.push(Candidate {
            kind: GroupKind::Similar,
            key: names.iter().copied().collect::<Vec<_>>().join("|"),
            implementations: names.iter().map(|name| name.to_string()).collect(),
            members,
            stem: vec![words(first).concat().to_ascii_lowercase()],
            concept_name: kebab(&words(first)),
            // A name or a family with the same members says it with a glob.
            specificity: 0,
        });
    }
    out
}

fn kebab(words: &[&str]) -> String {
    words
        .iter()
        .map(|word| word.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

/// A function or factory class whose name may make a group's class: `(module, definition,
/// the lower-case words of its name after the verb, or before `Factory`)`.
fn factory_functions(graph: &Graph) -> Vec<(usize, usize, Vec<String>)> {
    let mut out = Vec::new();
    for (module, _) in graph.modules.iter().enumerate() {
        for (index, def) in graph.facts(module).definitions.iter().enumerate() {
            // Most names are ruled out before they are split into words.
            let name = def.name.trim_start_matches('_').as_bytes();
            // Module-level functions and factory classes: a method named `get_x` is an
            // accessor or a hook override more often than a factory.
            if def.context.scope != Scope::Module {
                continue;
            }
            let candidate = match &def.kind {
                DefKind::Function { .. } => FACTORY_VERBS.iter().any(|verb| {
                    name.len() > verb.len()
                        && name[..verb.len()].eq_ignore_ascii_case(verb.as_bytes())
                }),
                DefKind::Class { .. } => def.name.ends_with("Factory"),
                _ => false,
            };
            if !candidate {
                continue;
            }
            let lower: Vec<String> = words(&def.name)
                .into_iter()
                .map(str::to_ascii_lowercase)
                .collect();
            match &def.kind {
                DefKind::Function { .. }
                    if lower.len() >= 2 && FACTORY_VERBS.contains(&lower[0].as_str()) =>
                {
                    out.push((module, index, lower[1..].to_vec()));
                }
                DefKind::Class { .. }
                    if lower.len() >= 2 && lower.last().is_some_and(|w| w == "factory") =>
                {
                    out.push((module, index, lower[..lower.len() - 1].to_vec()));
                }
                _ => {}
            }
        }
    }
    out
}

/// The factories by the last word of their name.
struct Factories {
    all: Vec<(usize, usize, Vec<String>)>,
    by_last: HashMap<String, Vec<usize>>,
}

impl Factories {
    fn new(all: Vec<(usize, usize, Vec<String>)>) -> Factories {
        let mut by_last: HashMap<String, Vec<usize>> = HashMap::default();
        for (index, (_, _, words)) in all.iter().enumerate() {
            if let Some(last) = words.last() {
                by_last.entry(last.clone()).or_default().push(index);
            }
        }
        Factories { all, by_last }
    }
}

/// The factories whose name holds the stem's words in order, each as whole words (`websocket`
/// is `websocket` or `web`, `socket`).
///
/// The name must end with the stem's last word (`create_websocket_manager`, not
/// `get_websocket_manager_config`). A one-word stem (`*Config`, the same-name group `Event`)
/// says too little: there the name must end with a whole member name of two words or more
/// (`get_app_config` for `AppConfig`).
fn matching_factories(
    factories: &Factories,
    stem: &[String],
    member_names: &[Vec<String>],
) -> Vec<(usize, usize)> {
    let specific = stem.len() >= 2;
    // The name's last word is the stem's last word, or a member name's.
    let mut lasts: Vec<&str> = if specific {
        stem.last().map(String::as_str).into_iter().collect()
    } else {
        member_names
            .iter()
            .filter(|name| name.len() >= 2)
            .filter_map(|name| name.last().map(String::as_str))
            .collect()
    };
    lasts.sort_unstable();
    lasts.dedup();
    let mut out: Vec<(usize, usize)> = lasts
        .iter()
        .filter_map(|last| factories.by_last.get(*last))
        .flatten()
        .map(|&index| &factories.all[index])
        .filter(|(_, _, words)| {
            if specific {
                holds_in_order(words, stem)
            } else {
                member_names
                    .iter()
                    .filter(|name| name.len() >= 2)
                    .any(|name| words.ends_with(name))
            }
        })
        .map(|&(module, definition, _)| (module, definition))
        .collect();
    out.sort_unstable();
    out
}

fn holds_in_order(words: &[String], stem: &[String]) -> bool {
    let mut from = 0;
    'pieces: for piece in stem {
        let first = from;
        for start in first..words.len() {
            let mut joined = String::new();
            for (end, word) in words.iter().enumerate().skip(start) {
                joined.push_str(word);
                if joined == *piece {
                    from = end + 1;
                    continue 'pieces;
                }
                if !piece.starts_with(joined.as_str()) {
                    break;
                }
            }
        }
        return false;
    }
    // The last word ends the name.
    from == words.len()
}

/// The likely canonical member and the group's cohesion around it.
fn canonical(
    classes: &[Class],
    usage: &[Usage],
    members: &[u32],
) -> (u32, f64, Vec<usize>, Vec<f64>) {
    let best = members
        .iter()
        .copied()
        .filter(|&m| !classes[m as usize].test)
        .max_by(|&a, &b| {
            let (ua, ub) = (&usage[a as usize], &usage[b as usize]);
            ua.importers
                .len()
                .cmp(&ub.importers.len())
                .then_with(|| {
                    let depth = |m: u32| {
                        best_spelling(&usage[m as usize])
                            .map_or(usize::MAX, |(module, _)| segments(&module))
                    };
                    depth(b).cmp(&depth(a))
                })
                .then_with(|| {
                    // The shorter name is the general one (`Manager` over `LegacyManager`).
                    classes[b as usize]
                        .name
                        .len()
                        .cmp(&classes[a as usize].name.len())
                })
                .then_with(|| b.cmp(&a))
        })
        .unwrap_or(members[0]);
    let canon = &classes[best as usize];
    let names: HashSet<&str> = members
        .iter()
        .map(|&m| classes[m as usize].name.as_str())
        .collect();
    let mut related = 1.0;
    let mut shared = Vec::with_capacity(members.len());
    let mut weights = vec![1.0; members.len()];
    for (position, &member) in members.iter().enumerate() {
        let class = &classes[member as usize];
        let common = class.methods.intersection(&canon.methods).count();
        shared.push(common);
        if member == best {
            continue;
        }
        let subclass = class
            .ancestors
            .iter()
            .any(|base| names.contains(base.as_str()))
            || canon.ancestors.contains(&class.name);
        // A proxy or facade of another member (`AsyncEngine(ProxyComparable[Engine])`).
        let wrapper = class.wraps.iter().any(|name| names.contains(name.as_str()))
            || canon.wraps.contains(&class.name);
        let weight = if subclass || wrapper || shares_base(class, canon) {
            // A hierarchy, a wrapper, or implementations of one interface: design, not
            // copies.
            0.1
        } else if canon.methods.is_empty() {
            0.25
        } else if common >= 2 {
            1.0
        } else if common == 1 {
            0.5
        } else {
            0.0
        };
        weights[position] = weight;
        related += weight;
    }
    let cohesion = (related / members.len() as f64).clamp(0.1, 1.0);
    (best, cohesion, shared, weights)
}

/// `pkg.Base[T]` and `crate::Base<T>` are `Base`.
fn base_name(base: &str) -> &str {
    let base = base.split(['[', '<', '(']).next().unwrap_or(base);
    base.rsplit(['.', ':']).next().unwrap_or(base).trim()
}

/// Do two classes descend (Rust traits: extend) from one base, other than the ones
/// everything has?
fn shares_base(a: &Class, b: &Class) -> bool {
    a.ancestors.intersection(&b.ancestors).next().is_some()
}

/// The public spelling the most importers use: `(module, name)`.
fn best_spelling(usage: &Usage) -> Option<(String, String)> {
    usage
        .spellings
        .iter()
        .filter(|((module, name), _)| is_public(module) && !name.starts_with('_'))
        .max_by(|(a, ia), (b, ib)| {
            ia.len()
                .cmp(&ib.len())
                .then_with(|| segments(&b.0).cmp(&segments(&a.0)))
                .then_with(|| b.cmp(a))
        })
        .map(|(spelling, _)| spelling.clone())
}

fn segments(module: &str) -> usize {
    module.split(['.', ':']).filter(|s| !s.is_empty()).count()
}

fn is_public(module: &str) -> bool {
    module
        .split(['.', ':'])
        .all(|segment| !segment.starts_with('_') || segment.starts_with("__"))
}

/// The score of a candidate (and its cohesion); `factories` as counted.
fn score(
    graph: &Graph,
    classes: &[Class],
    usage: &[Usage],
    backups: &HashMap<usize, usize>,
    candidate: &Candidate,
    factories: &[(usize, usize)],
) -> (f64, f64, Counts, u32, Vec<usize>) {
    let members = &candidate.members;
    let (best, cohesion, shared, weights) = canonical(classes, usage, members);
    // Each definition counts as much as it looks like the canonical one.
    let (mut weighted, mut weighted_tests) = (0.0, 0.0);
    for (position, &member) in members.iter().enumerate() {
        if classes[member as usize].test {
            weighted_tests += weights[position];
        } else {
            weighted += weights[position];
        }
    }
    let definitions = members
        .iter()
        .filter(|&&m| !classes[m as usize].test)
        .count();
    let test_doubles = members.len() - definitions;
    let mut importers = BTreeSet::new();
    let mut spellings = 0;
    let mut imported = 0;
    let mut binders = BTreeSet::new();
    for &member in members {
        let entry = &usage[member as usize];
        importers.extend(entry.importers.iter().copied());
        spellings += entry.spellings.len();
        imported += usize::from(!entry.spellings.is_empty());
        binders.extend(entry.binders.iter().copied());
    }
    // The module the canonical spelling names is where importers should go, not a shim.
    let canonical_module = best_spelling(&usage[best as usize]).and_then(|(module, _)| {
        graph.by_name.get(&module).copied().or_else(|| {
            graph
                .rust
                .by_path
                .get(&module)
                .map(|&m| graph.rust.modules[m].file)
        })
    });
    let member_modules: HashSet<usize> = members
        .iter()
        .map(|&m| classes[m as usize].module)
        .collect();
    // A package that re-exports its own submodule's class (`pkg/__init__.py`, a crate root's
    // `pub use`) is usually the public API: it counts, but as one point, not three.
    let homes: Vec<String> = members
        .iter()
        .filter_map(|&m| {
            module_path(
                graph,
                classes[m as usize].module,
                classes[m as usize].definition,
            )
        })
        .collect();
    let (mut shims, mut facades) = (0, 0);
    for &module in &binders {
        if Some(module) == canonical_module || member_modules.contains(&module) {
            continue;
        }
        let facade = module_name(graph, module).is_some_and(|name| {
            homes.iter().any(|home| {
                home.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("::"))
            })
        });
        if facade {
            facades += 1;
        } else {
            shims += 1;
        }
    }
    let backups: usize = member_modules
        .iter()
        .map(|module| backups.get(module).copied().unwrap_or(0))
        .sum();
    let home = classes[best as usize].module;
    let factories = factories
        .iter()
        .filter(|(module, _)| Some(*module) != canonical_module && *module != home)
        .count();
    // How imported and re-exported a group is counts only as far as it holds copies: a
    // popular class and its subclass are not a fragmented concept.
    let copies = (weighted + weighted_tests - 1.0f64).clamp(0.0, 1.0);
    let popularity = 3.0 * shims as f64
        + facades as f64
        + 2.0 * spellings.saturating_sub(imported) as f64
        + (1.0 + importers.len() as f64).log2();
    let raw = 4.0 * (weighted - 1.0f64).max(0.0)
        + 2.0 * weighted_tests
        + 3.0 * factories as f64
        + 2.0 * backups as f64
        + copies * popularity;
    let counts = Counts {
        definitions,
        test_doubles,
        importers: importers.len(),
        spellings,
        shims,
        package_re_exports: facades,
        factories,
        backups,
    };
    // A one-word stem (`*Field`, `*Config`) says little of the job: half the score.
    let specific = if candidate.kind == GroupKind::Family && candidate.stem.len() < 2 {
        0.5
    } else {
        1.0
    };
    (raw * cohesion * specific, cohesion, counts, best, shared)
}

fn build_group(
    graph: &Graph,
    classes: &[Class],
    usage: &[Usage],
    backups: &HashMap<usize, usize>,
    candidate: Candidate,
    factories: Vec<(usize, usize)>,
) -> Group {
    let (score, cohesion, counts, best, shared) =
        score(graph, classes, usage, backups, &candidate, &factories);
    let separator = |module: usize| {
        if graph.files[graph.modules[module].file].language == Language::Rust {
            "::"
        } else {
            "."
        }
    };
    let best_class = &classes[best as usize];
    let canonical = match best_spelling(&usage[best as usize]) {
        Some((module, name)) => format!("{module}{}{name}", separator(best_class.module)),
        None => {
            let module =
                module_path(graph, best_class.module, best_class.definition).unwrap_or_default();
            format!(
                "{module}{}{}",
                separator(best_class.module),
                best_class.name
            )
        }
    };
    let canonical_prefix = canonical
        .rsplit_once(separator(best_class.module))
        .map(|(module, _)| module.to_string())
        .unwrap_or_default();
    let mut order: Vec<usize> = (0..candidate.members.len()).collect();
    order.sort_by_key(|&i| {
        let m = candidate.members[i];
        (
            m != best,
            classes[m as usize].test,
            std::cmp::Reverse(usage[m as usize].importers.len()),
            graph.files[graph.modules[classes[m as usize].module].file]
                .path
                .clone(),
        )
    });
    let members: Vec<Member> = order
        .iter()
        .map(|&i| {
            let class = &classes[candidate.members[i] as usize];
            let entry = &usage[candidate.members[i] as usize];
            Member {
                name: class.name.clone(),
                path: graph.files[graph.modules[class.module].file].path.clone(),
                line: 0,
                site: (class.module, class.definition),
                module: module_path(graph, class.module, class.definition).unwrap_or_default(),
                test_double: class.test,
                importers: entry.importers.len(),
                spellings: entry.spellings.len(),
                shared_methods: shared[i],
            }
        })
        .collect();
    let mut factory_list: Vec<Factory> = factories
        .iter()
        .map(|&(module, definition)| {
            let name = graph.facts(module).definitions[definition].name.clone();
            let module_name = module_path(graph, module, definition).unwrap_or_default();
            Factory {
                name,
                path: graph.files[graph.modules[module].file].path.clone(),
                line: 0,
                site: (module, definition),
                canonical_module: module_name == canonical_prefix,
            }
        })
        .collect();
    factory_list.sort_by_key(|factory| factory.site);
    Group {
        rank: 0,
        kind: candidate.kind,
        key: candidate.key,
        implementations: candidate.implementations,
        score: (score * 10.0).round() / 10.0,
        cohesion: (cohesion * 100.0).round() / 100.0,
        counts,
        canonical,
        members,
        factories: factory_list,
        within: None,
        concept_name: candidate.concept_name,
        stem: candidate.stem,
    }
}

/// The human report.
pub fn write_human(out: &mut impl std::io::Write, audit: &Audit) -> std::io::Result<()> {
    writeln!(
        out,
        "audit: {}, {}; {} of classes defined in more than one module",
        plural(audit.modules, "module"),
        plural(audit.classes, "class definition"),
        plural(audit.groups_found, "group")
    )?;
    if audit.groups.is_empty() {
        writeln!(out, "\nNo class is defined in more than one module.")?;
    }
    for group in &audit.groups {
        let kind = match group.kind {
            GroupKind::Name => "same name",
            GroupKind::Family => "family",
            GroupKind::Similar => "similar methods",
        };
        writeln!(
            out,
            "\n{}. {}  ({kind}, score {:.1}, cohesion {:.2})",
            group.rank, group.key, group.score, group.cohesion
        )?;
        if let Some(within) = &group.within {
            writeln!(out, "   within {within}")?;
        }
        writeln!(out, "   {}", group.counts.describe(true))?;
        let best = &group.members[0];
        writeln!(
            out,
            "   likely canonical: {} ({}:{}{})",
            group.canonical,
            best.path,
            best.line,
            if group.canonical.ends_with(&best.name) {
                String::new()
            } else {
                format!(", defined as {}", best.name)
            }
        )?;
        const SHOWN: usize = 8;
        for member in group.members.iter().take(SHOWN) {
            let mut detail = Vec::new();
            if member.test_double {
                detail.push("test double".to_string());
            }
            detail.push(plural(member.importers, "importer"));
            if member.spellings > 1 {
                detail.push(format!("{} spellings", member.spellings));
            }
            detail.push(format!(
                "{} shared",
                plural(member.shared_methods, "method")
            ));
            writeln!(
                out,
                "     {}:{}  {}  ({})",
                member.path,
                member.line,
                member.name,
                detail.join(", ")
            )?;
        }
        if group.members.len() > SHOWN {
            writeln!(out, "     ... and {} more", group.members.len() - SHOWN)?;
        }
        if !group.factories.is_empty() {
            let names: Vec<String> = group
                .factories
                .iter()
                .take(SHOWN)
                .map(|f| format!("{} ({}:{})", f.name, f.path, f.line))
                .collect();
            let more = group.factories.len().saturating_sub(SHOWN);
            writeln!(
                out,
                "   factories: {}{}",
                names.join(", "),
                if more > 0 {
                    format!(", ... and {more} more")
                } else {
                    String::new()
                }
            )?;
        }
    }
    if !audit.groups.is_empty() {
        writeln!(
            out,
            "\n`ssot-gardener audit --emit-config` prints these as [[concept]] blocks for ssot.toml."
        )?;
    }
    Ok(())
}

/// A ready `[[concept]]` block; `comment` prefixes every line (`# ` for `init`).
pub fn concept_block(group: &Group, comment: &str) -> String {
    let quote = |values: &[String]| {
        values
            .iter()
            .map(|value| format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut globs: Vec<String> = Vec::new();
    let mut allowed: Vec<String> = Vec::new();
    let canonical_module = group
        .canonical
        .rsplit_once("::")
        .or_else(|| group.canonical.rsplit_once('.'))
        .map(|(module, _)| module.to_string())
        .unwrap_or_default();
    let separator = if group.canonical.contains("::") {
        "::"
    } else {
        "."
    };
    for factory in &group.factories {
        if factory.canonical_module {
            allowed.push(format!("{canonical_module}{separator}{}", factory.name));
            continue;
        }
        let glob = factory_glob(&factory.name, &group.stem);
        if !globs.contains(&glob) {
            globs.push(glob);
        }
    }
    let mut lines = vec![
        format!(
            "audit #{}: {} (score {:.1}): {}",
            group.rank,
            group.key,
            group.score,
            group.counts.describe(false)
        ),
        "[[concept]]".to_string(),
        format!("name = \"{}\"", group.concept_name),
        format!("canonical = \"{}\"", group.canonical),
        format!("implementations = [{}]", quote(&group.implementations)),
    ];
    if !globs.is_empty() {
        lines.push(format!("factories = [{}]", quote(&globs)));
    }
    if !allowed.is_empty() {
        lines.push(format!("allowed-factories = [{}]", quote(&allowed)));
    }
    lines.push("similarity = 0.6".to_string());
    lines.push("tests = \"report\"".to_string());
    let mut text = String::new();
    for (index, line) in lines.iter().enumerate() {
        // The first line is a comment already.
        if index == 0 {
            text.push_str(&format!("# {line}\n"));
        } else {
            text.push_str(&format!("{comment}{line}\n"));
        }
    }
    text
}

/// A glob for a factory that keeps its verb and the stem's words: `create_*websocket*manager*`
/// for `create_isolated_websocket_manager`; a factory class is named as it is.
fn factory_glob(name: &str, stem: &[String]) -> String {
    if name.ends_with("Factory") {
        return name.to_string();
    }
    let lower = name.trim_start_matches('_').to_ascii_lowercase();
    let Some(verb) = FACTORY_VERBS
        .iter()
        .find(|verb| lower.starts_with(&format!("{verb}_")))
    else {
        return name.to_string();
    };
    // The glob must match the name as written: stem words as they appear in it.
    let prefix = &name[..name.len() - lower.len() + verb.len() + 1];
    let mut glob = format!("{prefix}*");
    for word in stem {
        if !lower.contains(word.as_str()) {
            return name.to_string();
        }
        glob.push_str(word);
        glob.push('*');
    }
    if glob_matches(&glob, name) {
        glob
    } else {
        name.to_string()
    }
}

fn glob_matches(glob: &str, name: &str) -> bool {
    globset::Glob::new(glob)
        .map(|glob| glob.compile_matcher().is_match(name))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_camel_case_acronyms_and_snake_case() {
        assert_eq!(
            words("_UnifiedWebSocketManager"),
            ["Unified", "Web", "Socket", "Manager"]
        );
        assert_eq!(words("HTTPServerConfig"), ["HTTP", "Server", "Config"]);
        assert_eq!(words("web_socket"), ["web", "socket"]);
        assert_eq!(words("OAuth2Client"), ["O", "Auth2", "Client"]);
        assert_eq!(words("X"), ["X"]);
        assert!(words("_").is_empty());
    }

    #[test]
    fn factory_globs_keep_the_verb_and_the_stem() {
        let stem = ["websocket".to_string(), "manager".to_string()];
        assert_eq!(
            factory_glob("create_isolated_websocket_manager", &stem),
            "create_*websocket*manager*"
        );
        assert_eq!(
            factory_glob("get_user_websocket_manager", &stem),
            "get_*websocket*manager*"
        );
        assert_eq!(
            factory_glob("WebSocketManagerFactory", &stem),
            "WebSocketManagerFactory"
        );
        // Not covered by a glob of the stem: named as it is.
        assert_eq!(
            factory_glob("make_web_socket_manager", &stem),
            "make_web_socket_manager"
        );
    }

    #[test]
    fn factories_hold_the_stem_in_order() {
        let words = |name: &str| -> Vec<String> { name.split('_').map(str::to_string).collect() };
        let functions = Factories::new(vec![
            (0, 0, words("websocket_manager")),
            (0, 1, words("manager_websocket")),
            (0, 2, words("user_web_socket_connection_manager")),
            (0, 3, words("websocketmanager")),
            (0, 4, words("order_io")),
        ]);
        let stem = ["websocket".to_string(), "manager".to_string()];
        assert_eq!(matching_factories(&functions, &stem, &[]), [(0, 0), (0, 2)]);
        // A one-word stem needs a whole member name of two words: `order_io` for `OrderIO`.
        let io = ["io".to_string()];
        assert!(matching_factories(&functions, &io, &[]).is_empty());
        let order_io = vec![words("order_io")];
        assert_eq!(matching_factories(&functions, &io, &order_io), [(0, 4)]);
    }
}
