//! SSOT010 await-mismatch: `await` of a function the resolver proves is a plain `def`
//! returning no awaitable, or an `async def` called as a statement of its own, its coroutine
//! dropped. Often a same-named sync/async twin in another module: the caller imported the
//! other one. Python only (in Rust both are compile errors).
//!
//! "Proves" is narrow on purpose. The callee is a bare name or `module.name`, bound by an
//! import or a module-level `def` (never a method, whose receiver's class is unknown), and
//! resolves to exactly one module-level `def` of the repository. It is not decorated (a
//! decorator may make a plain function return an awaitable, or an async one a plain
//! function), and no parameter of an enclosing function has its name. For `await`, the
//! `def` returns no awaitable: no `return` gives a value and there is no annotation, or the
//! annotation names only builtins and typing containers that are not awaitable, or
//! repository classes without `__await__`.

use rustc_hash::FxHashMap;

use super::{Context, Finding, Rule};
use crate::facts::{CallResult, DefKind, Definition, FileFacts, ImportKind, Returns, Scope};
use crate::graph::OriginKind;

/// Names an annotation may hold and still rule out an awaitable (`Optional[Dict[str, int]]`).
const NOT_AWAITABLE: &[&str] = &[
    "None",
    "bool",
    "int",
    "float",
    "complex",
    "str",
    "bytes",
    "bytearray",
    "dict",
    "list",
    "tuple",
    "set",
    "frozenset",
    "Dict",
    "List",
    "Tuple",
    "Set",
    "FrozenSet",
    "Optional",
    "Union",
    "Mapping",
    "Sequence",
    "Iterable",
    "Iterator",
    "Generator",
    "NoReturn",
    "Never",
    "typing",
];

pub(super) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut twins: Option<FxHashMap<&str, Vec<(usize, usize)>>> = None;
    for (module_index, module) in cx.graph.modules.iter().enumerate() {
        let file = &cx.graph.files[module.file];
        if !file
            .facts
            .calls
            .iter()
            .any(|c| c.result != CallResult::Used)
        {
            continue;
        }
        let text = file.read();
        // What each callee spelling stands for, resolved once per module (a module calls
        // `print(...)` and its own helpers many times).
        let mut resolved: FxHashMap<String, Option<(usize, usize)>> = FxHashMap::default();
        for call in &file.facts.calls {
            if call.result == CallResult::Used {
                continue;
            }
            let Ok(callee) = std::str::from_utf8(&text[call.callee.range()]) else {
                continue;
            };
            let callee: String = callee.split_whitespace().collect();
            let (head, name) = match callee.rsplit_once('.') {
                Some((head, name)) => (Some(head), name),
                None => (None, callee.as_str()),
            };
            let found = *resolved
                .entry(callee.clone())
                .or_insert_with(|| match head {
                    None => function_bound(cx, module_index, name),
                    Some(head) => super::direct_instantiation::module_of(cx, module_index, head)
                        .and_then(|target| module_function(cx, target, name)),
                });
            let Some((target, index)) = found else {
                continue;
            };
            if shadowed(&file.facts, &text, call.enclosing, head.unwrap_or(name)) {
                continue;
            }
            let definition = &cx.graph.facts(target).definitions[index];
            let DefKind::Function {
                is_async,
                decorated: false,
                returns,
            } = definition.kind
            else {
                continue;
            };
            // The twin and the notes go by the name it is defined under (an import may
            // rename it).
            let name = definition.name.as_str();
            let awaited = call.result == CallResult::Awaited;
            if awaited == is_async || (awaited && !not_awaitable(cx, target, returns)) {
                continue;
            }
            let twins = twins.get_or_insert_with(|| module_functions(cx));
            let twin = twins.get(name).and_then(|defs| {
                defs.iter().copied().find(|&(m, d)| {
                    matches!(cx.graph.facts(m).definitions[d].kind,
                        DefKind::Function { is_async: twin_async, .. } if twin_async != is_async)
                })
            });
            let mut finding = cx.finding(Rule::AwaitMismatch, None, module_index, call.callee);
            finding.symbol = callee.clone();
            let defined = cx.location(target, index);
            if awaited {
                finding.message = format!(
                    "`await {callee}(...)` awaits a plain `def`: what `{name}` returns is not \
                     awaitable (`TypeError` when this runs)"
                );
                finding.label = "awaits a plain function".to_string();
                finding.help = Some(match twin {
                    Some((m, d)) => format!(
                        "an `async def {name}` is at {}: import that one, or drop the `await`",
                        cx.location(m, d)
                    ),
                    None => format!("drop the `await`, or make `{name}` an `async def`"),
                });
            } else {
                finding.message = format!(
                    "`{callee}(...)` calls an `async def` and drops its coroutine: `{name}` never \
                     runs"
                );
                finding.label = "coroutine never awaited".to_string();
                finding.help = Some(match twin {
                    Some((m, d)) => format!(
                        "a plain `def {name}` is at {}: import that one, or `await` the call",
                        cx.location(m, d)
                    ),
                    None => "`await` the call, or hand it to `asyncio.create_task(...)` and keep \
                             the task"
                        .to_string(),
                });
            }
            let what = if is_async { "async def" } else { "def" };
            finding
                .notes
                .push(format!("`{what} {name}` is defined at {defined}"));
            out.push(finding);
        }
    }
}

/// Does a parameter of an enclosing function (or the function itself) have `name`? Read
/// from each header's text: a word match errs on the side of yes.
fn shadowed(facts: &FileFacts, text: &[u8], mut enclosing: Option<u32>, name: &str) -> bool {
    while let Some(index) = enclosing {
        let Some(definition) = facts.definitions.get(index as usize) else {
            return false;
        };
        if matches!(definition.kind, DefKind::Function { .. }) {
            let header = &text[definition.span.range()];
            let params = header
                .iter()
                .position(|&b| b == b'(')
                .map_or(&header[..0], |at| &header[at..]);
            if params
                .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x80))
                .any(|word| word == name.as_bytes())
            {
                return true;
            }
        }
        enclosing = definition.parent;
    }
    false
}

/// The one module-level function that `name` stands for in `module`: through an import
/// binding it, else a `def` of the module. `None` when anything else binds the name too.
fn function_bound(cx: &Context, module: usize, name: &str) -> Option<(usize, usize)> {
    let facts = cx.graph.facts(module);
    let mut found: Option<(usize, usize)> = None;
    let mut imported = false;
    for (import, verdicts) in facts
        .imports
        .iter()
        .zip(&cx.graph.modules[module].resolutions)
    {
        for (imported_name, verdict) in import.names.iter().zip(verdicts) {
            if import.kind == ImportKind::Module || imported_name.bound_name(import.kind) != name {
                continue;
            }
            imported = true;
            let origins = verdict.origins();
            if origins.is_empty() {
                return None;
            }
            for origin in origins {
                let symbol = origin.symbol.as_deref()?;
                if origin.kind != OriginKind::Function {
                    return None;
                }
                let target = *cx.graph.by_name.get(&origin.module)?;
                let site = module_function(cx, target, symbol)?;
                if found.is_some_and(|other| other != site) {
                    return None;
                }
                found = Some(site);
            }
        }
    }
    if imported {
        // A module-level binding beside the import: which one runs depends on the order.
        let rebound = facts
            .definitions
            .iter()
            .any(|d| d.name == name && d.context.scope == Scope::Module);
        return found.filter(|_| !rebound);
    }
    module_function(cx, module, name)
}

/// The one module-level binding `name` of `module`, when it is a `def`.
fn module_function(cx: &Context, module: usize, name: &str) -> Option<(usize, usize)> {
    let facts = cx.graph.facts(module);
    let mut bindings = facts
        .definitions
        .iter()
        .enumerate()
        .filter(|(_, d)| d.name == name && d.context.scope == Scope::Module);
    let (index, definition) = bindings.next()?;
    if bindings.next().is_some() || !matches!(definition.kind, DefKind::Function { .. }) {
        return None;
    }
    let imported = facts.imports.iter().any(|import| {
        import
            .names
            .iter()
            .any(|n| n.name == "*" || n.bound_name(import.kind) == name)
    });
    (!imported).then_some((module, index))
}

/// Is what a function with `returns` (defined in `module`) returns surely not awaitable?
fn not_awaitable(cx: &Context, module: usize, returns: Returns) -> bool {
    let span = match returns {
        Returns::Nothing => return true,
        Returns::Unknown => return false,
        Returns::Annotation(span) => span,
    };
    let file = &cx.graph.files[cx.graph.modules[module].file];
    let text = file.read();
    let Ok(annotation) = std::str::from_utf8(&text[span.range()]) else {
        return false;
    };
    // Quotes (`-> "Manager"`) and brackets are punctuation; dotted names are read whole.
    let mut words = annotation
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|word| !word.is_empty())
        .peekable();
    words.peek().is_some()
        && words.all(|word| {
            let last = word.rsplit('.').next().unwrap_or(word);
            NOT_AWAITABLE.contains(&last) || (!word.contains('.') && plain_class(cx, module, word))
        })
}

/// Does `name` in `module` stand for a repository class without `__await__`, whose bases do
/// not name an awaitable?
fn plain_class(cx: &Context, module: usize, name: &str) -> bool {
    let class_site = |target: usize, symbol: &str| -> Option<&Definition> {
        let facts = cx.graph.facts(target);
        let mut matches = facts
            .definitions
            .iter()
            .filter(|d| d.name == symbol && d.context.scope == Scope::Module);
        let definition = matches.next()?;
        matches.next().is_none().then_some(definition)
    };
    let facts = cx.graph.facts(module);
    let mut site = None;
    for (import, verdicts) in facts
        .imports
        .iter()
        .zip(&cx.graph.modules[module].resolutions)
    {
        for (imported, verdict) in import.names.iter().zip(verdicts) {
            if imported.bound_name(import.kind) != name {
                continue;
            }
            let [origin] = verdict.origins() else {
                return false;
            };
            let (Some(symbol), OriginKind::Class) = (origin.symbol.as_deref(), origin.kind) else {
                return false;
            };
            let Some(&target) = cx.graph.by_name.get(&origin.module) else {
                return false;
            };
            site = class_site(target, symbol);
        }
    }
    let site = site.or_else(|| class_site(module, name));
    matches!(site, Some(Definition { kind: DefKind::Class { bases, methods }, .. })
    if !methods.iter().any(|m| m == "__await__")
        && !bases.iter().any(|base| {
            ["Awaitable", "Coroutine", "Future", "Task", "Deferred"]
                .iter()
                .any(|word| base.contains(word))
        }))
}

/// Every module-level function of the repository by name, for the twin in the help.
fn module_functions<'g>(cx: &Context<'g>) -> FxHashMap<&'g str, Vec<(usize, usize)>> {
    let mut by_name: FxHashMap<&str, Vec<(usize, usize)>> = FxHashMap::default();
    for module in 0..cx.graph.modules.len() {
        for (index, definition) in cx.graph.facts(module).definitions.iter().enumerate() {
            if definition.context.scope == Scope::Module
                && matches!(definition.kind, DefKind::Function { .. })
            {
                by_name
                    .entry(definition.name.as_str())
                    .or_default()
                    .push((module, index));
            }
        }
    }
    by_name
}
