//! What importing a module runs: the modules its import-time statements load, transitively.
//!
//! A fix that makes module M import from module C is safe only when C's import-time closure
//! does not reach M: otherwise `import C` runs M while C is partially initialised, and
//! `from C import Name` in M fails (SQLAlchemy's `orm/__init__.py` imports
//! `orm/_orm_constructors.py`, so the latter cannot import `Session` from `sqlalchemy.orm`).
//!
//! Import time means module and class bodies, including `try`, `if` and `with` blocks; not
//! function bodies (they run later) and not `if TYPE_CHECKING:` (never at run time).
//! Importing `a.b.c` also runs `a` and `a.b` first, and `from a.b import c` runs the
//! submodule `a.b.c` when `c` is one.

use rustc_hash::FxHashMap;

use crate::facts::{ImportKind, Scope};
use crate::graph::Graph;
use crate::python::resolve::Query;

/// The modules that the body of `start` runs when it is imported, `start` included; its
/// parent packages are not (they are imported before it). Linear in the imports of the
/// modules reached.
#[derive(Debug, Default)]
pub struct Closure {
    /// Each module reached, with the module whose import statement (or package nesting)
    /// reached it first; `None` for `start` and the packages above it.
    reached_from: FxHashMap<usize, Option<usize>>,
}

impl Closure {
    pub fn contains(&self, module: usize) -> bool {
        self.reached_from.contains_key(&module)
    }

    /// The chain of modules from the start to `module` (both included), when reached.
    pub fn chain(&self, module: usize) -> Option<Vec<usize>> {
        let mut chain = vec![module];
        let mut current = *self.reached_from.get(&module)?;
        while let Some(previous) = current {
            // Each module is reached once, so the chain is at most every module.
            if chain.len() > self.reached_from.len() {
                break;
            }
            chain.push(previous);
            current = self.reached_from.get(&previous).copied().flatten();
        }
        chain.reverse();
        Some(chain)
    }
}

pub fn closure(graph: &Graph, query: &Query, start: usize) -> Closure {
    let mut seen = FxHashMap::default();
    // Rust has no import time: a `use` runs nothing.
    if graph.files[graph.modules[start].file].language == crate::walk::Language::Rust {
        seen.insert(start, None);
        return Closure { reached_from: seen };
    }
    // The packages above `start` are in `sys.modules` before its body runs (Python imports
    // them first), so reaching them again runs nothing: they are marked and taken out at
    // the end. A partially initialised parent is no problem for a submodule import.
    let mut parents = Vec::new();
    if let Some(name) = graph.modules[start].name.as_deref() {
        let mut end = name.len();
        while let Some(dot) = name[..end].rfind('.') {
            end = dot;
            if let Some(&parent) = graph.by_name.get(&name[..end]) {
                seen.insert(parent, None);
                parents.push(parent);
            }
        }
    }
    seen.insert(start, None);
    let mut stack = vec![start];
    while let Some(module) = stack.pop() {
        let from = Some(module);
        let facts = graph.facts(module);
        for import in &facts.imports {
            if import.context.scope == Scope::Function || import.context.type_checking {
                continue;
            }
            match import.kind {
                ImportKind::Module => {
                    for name in &import.names {
                        if let Some(&target) = graph.by_name.get(&name.name) {
                            push_with_parents(graph, target, from, &mut seen, &mut stack);
                        } else {
                            // `import a.b.missing` still runs `a` and `a.b`.
                            push_prefixes(graph, &name.name, from, &mut seen, &mut stack);
                        }
                    }
                }
                ImportKind::From => {
                    let Some(target) = query.import_target(module, import) else {
                        continue;
                    };
                    push_prefixes(graph, &target, from, &mut seen, &mut stack);
                    for name in &import.names {
                        if name.name == "*" {
                            continue;
                        }
                        let submodule = format!("{target}.{}", name.name);
                        if let Some(&index) = graph.by_name.get(&submodule) {
                            push_with_parents(graph, index, from, &mut seen, &mut stack);
                        }
                    }
                }
            }
        }
    }
    for parent in parents {
        seen.remove(&parent);
    }
    Closure { reached_from: seen }
}

/// Pushes `module` and every package above it.
fn push_with_parents(
    graph: &Graph,
    module: usize,
    from: Option<usize>,
    seen: &mut FxHashMap<usize, Option<usize>>,
    stack: &mut Vec<usize>,
) {
    match graph.modules[module].name.as_deref() {
        Some(name) => push_prefixes(graph, name, from, seen, stack),
        None => {
            if let std::collections::hash_map::Entry::Vacant(entry) = seen.entry(module) {
                entry.insert(from);
                stack.push(module);
            }
        }
    }
}

/// Pushes each existing module among `a`, `a.b`, `a.b.c` of the dotted `name`.
fn push_prefixes(
    graph: &Graph,
    name: &str,
    from: Option<usize>,
    seen: &mut FxHashMap<usize, Option<usize>>,
    stack: &mut Vec<usize>,
) {
    let mut end = 0;
    loop {
        let next = name[end..].find('.').map(|at| end + at);
        let prefix = &name[..next.unwrap_or(name.len())];
        if let Some(&index) = graph.by_name.get(prefix)
            && let std::collections::hash_map::Entry::Vacant(entry) = seen.entry(index)
        {
            entry.insert(from);
            stack.push(index);
        }
        match next {
            Some(at) => end = at + 1,
            None => break,
        }
    }
}
