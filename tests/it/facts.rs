//! The facts that CPython's `ast` cannot check for us: import contexts, aliases, `__all__`,
//! string references, suppressions and syntax-error recovery, through `python::collect`.

use ssot_gardener::facts::{Context, DefKind, FileFacts, Guard, LineIndex, Scope, StringRefKind};
use ssot_gardener::python::collect;

fn line_of(src: &str, offset: u32) -> u32 {
    LineIndex::new(src.as_bytes()).line(offset)
}

/// `(line, module-or-name, context)` for every import.
fn contexts(src: &str) -> Vec<(u32, String, Context)> {
    let facts = collect(src.as_bytes());
    facts
        .imports
        .iter()
        .map(|import| {
            let written = if import.module.is_empty() {
                import.names[0].name.clone()
            } else {
                import.module.clone()
            };
            (line_of(src, import.span.start), written, import.context)
        })
        .collect()
}

fn context(scope: Scope, guard: Guard, type_checking: bool, conditional: bool) -> Context {
    Context {
        scope,
        guard,
        type_checking,
        conditional,
    }
}

#[test]
fn import_contexts() {
    let src = "\
import a
try:
    from fast import X
except (ImportError, AttributeError):
    from slow import X
except Exception:
    import b
else:
    import c
finally:
    import d
if TYPE_CHECKING:
    from typing_only import T
else:
    import runtime
def f():
    try:
        import inner
    except ModuleNotFoundError: import fallback
class K:
    import in_class
    if typing.TYPE_CHECKING: import tc
try: import one_line
except ImportError: one_line = None
";
    let got = contexts(src);
    let module = |guard, conditional| context(Scope::Module, guard, false, conditional);
    let expected = vec![
        (1, "a".to_string(), module(Guard::None, false)),
        (3, "fast".to_string(), module(Guard::Try, true)),
        (
            5,
            "slow".to_string(),
            module(Guard::ExceptImportError, true),
        ),
        (7, "b".to_string(), module(Guard::Except, true)),
        (9, "c".to_string(), module(Guard::Else, true)),
        (11, "d".to_string(), module(Guard::Finally, true)),
        (
            13,
            "typing_only".to_string(),
            context(Scope::Module, Guard::None, true, true),
        ),
        (15, "runtime".to_string(), module(Guard::None, true)),
        (
            18,
            "inner".to_string(),
            context(Scope::Function, Guard::Try, false, true),
        ),
        (
            19,
            "fallback".to_string(),
            context(Scope::Function, Guard::ExceptImportError, false, true),
        ),
        (
            21,
            "in_class".to_string(),
            context(Scope::Class, Guard::None, false, false),
        ),
        (
            22,
            "tc".to_string(),
            context(Scope::Class, Guard::None, true, true),
        ),
        (23, "one_line".to_string(), module(Guard::Try, true)),
    ];
    assert_eq!(got, expected);
}

#[test]
fn aliases_variables_and_dunder_all() {
    let src = "\
from .impl import _Impl
Canon = _Impl
Alt = Alias2 = pkg.mod.Thing
x, (y, *z) = 1, (2, 3)
obj.attr = 4
n: int = 5
handler = lambda x=1: x
__all__ = ['Canon', \"Alt\"]
__all__ += ('x',)
__all__.extend(other.__all__)
type Vector = list[float]
(P, Q) = pkg.A, pkg.B
[*R] = pkg.C
obj.a, S, d[0] = 1, 2, 3
(T) = pkg.D
U += pkg.E
";
    let facts = collect(src.as_bytes());
    let bindings: Vec<(String, String)> = facts
        .definitions
        .iter()
        .map(|d| {
            let kind = match &d.kind {
                DefKind::Alias { target } => format!("alias {target}"),
                DefKind::Variable => "variable".to_string(),
                other => format!("{other:?}"),
            };
            (d.name.clone(), kind)
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("Canon", "alias _Impl"),
        ("Alt", "alias pkg.mod.Thing"),
        ("Alias2", "alias pkg.mod.Thing"),
        ("x", "variable"),
        ("y", "variable"),
        ("z", "variable"),
        ("n", "variable"),
        ("handler", "variable"),
        ("__all__", "variable"),
        // `__all__ += ...` rebinds the name too.
        ("__all__", "variable"),
        ("Vector", "variable"),
        // Unpacked or parenthesised targets are variables, never aliases; `obj.a` and `d[0]`
        // bind nothing, `S` beside them does.
        ("P", "variable"),
        ("Q", "variable"),
        ("R", "variable"),
        ("S", "variable"),
        ("T", "variable"),
        ("U", "variable"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(bindings, expected);
    let exports = facts.exports.expect("__all__");
    assert_eq!(exports.names, vec!["Canon", "Alt", "x"]);
    assert!(exports.dynamic, "extend(other.__all__) is not a literal");
}

#[test]
fn string_references() {
    let src = "\
importlib.import_module(\"pkg.legacy\")
mod = __import__('pkg')
@mock.patch(\"pkg.legacy.Manager\")
def test(): pass
with patch.object(pkg.legacy.Manager, 'send'): pass
sys.modules[\"pkg.alias\"] = mod
PLUGINS = ['pkg.plugins.one', 'not a path', 'single']
log(f\"pkg.{name}\", b'pkg.bytes')
";
    let facts: FileFacts = collect(src.as_bytes());
    let refs: Vec<(StringRefKind, &str, u32)> = facts
        .string_refs
        .iter()
        .map(|r| (r.kind, r.value.as_str(), line_of(src, r.span.start)))
        .collect();
    assert_eq!(
        refs,
        vec![
            (StringRefKind::ImportModule, "pkg.legacy", 1),
            (StringRefKind::DunderImport, "pkg", 2),
            (StringRefKind::Patch, "pkg.legacy.Manager", 3),
            (StringRefKind::PatchObject, "pkg.legacy.Manager", 5),
            (StringRefKind::SysModules, "pkg.alias", 6),
            (StringRefKind::Other, "pkg.plugins.one", 7),
        ]
    );
}

#[test]
fn suppression_comments() {
    let src = "\
import a  # ssot: ignore[SSOT002] moving next sprint
# ssot: ignore[SSOT001, SSOT004]
class M: pass
import b  # noqa: E402  # ssot: ignore
";
    let facts = collect(src.as_bytes());
    let got: Vec<(u32, Vec<String>, Option<String>)> = facts
        .suppressions
        .iter()
        .map(|s| {
            (
                line_of(src, s.span.start),
                s.codes.clone(),
                s.reason.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                vec!["SSOT002".to_string()],
                Some("moving next sprint".to_string())
            ),
            (2, vec!["SSOT001".to_string(), "SSOT004".to_string()], None),
            (4, vec![], None),
        ]
    );
}

#[test]
fn syntax_errors_do_not_stop_collection() {
    let src = "\
import before
def broken(:
x = call(
from after_unclosed import A
s = 'unterminated
import after_string
  import unexpected_indent
class Fine(Base): pass
";
    let facts = collect(src.as_bytes());
    let modules: Vec<String> = facts
        .imports
        .iter()
        .map(|i| {
            if i.module.is_empty() {
                i.names[0].name.clone()
            } else {
                i.module.clone()
            }
        })
        .collect();
    assert_eq!(
        modules,
        vec![
            "before",
            "after_unclosed",
            "after_string",
            "unexpected_indent"
        ]
    );
    let errors: Vec<(u32, &str)> = facts
        .errors
        .iter()
        .map(|e| (line_of(src, e.span.start), e.message.as_str()))
        .collect();
    // `def broken(:` opens the bracket; `x = call(` continues it; `from` closes it.
    assert!(errors.contains(&(2, "`(` was never closed")), "{errors:?}");
    assert!(
        errors.contains(&(5, "unterminated string literal")),
        "{errors:?}"
    );
    assert!(errors.contains(&(7, "unexpected indent")), "{errors:?}");
    assert!(facts.definitions.iter().any(|d| d.name == "Fine"
        && matches!(&d.kind, DefKind::Class { bases, .. } if bases == &["Base"])));
}

/// Dotted names whose first name an import binds, and whether each may be assigned or
/// deleted (a target errs on the side of yes).
#[test]
fn attributes_of_imported_names() {
    let src = "\
import app.compat as m
import app.legacy
from app import shim
x.m.Name
print(m.Name, self.Name, local.Name, m . Spaced)
m.Assigned = 1
m.Augmented += 1
del m.Deleted, m.Also
m.Annotated: int = 1
value: m.Annotation = m.Value
a, m.InTuple = 1, 2
(m.InParens, b) = 1, 2
d[m.Key] = 1
for m.Loop in range(3): pass
for a, m.LoopTuple in pairs: pass
for item in m.Iterated: pass
with open() as m.WithTarget: pass
squares = [m.Element for m.Element in items]
class C(m.Base, app.legacy.Other): pass
def f(x: m.Param = m.Default) -> m.Return: return m.Name.method(shim.Helper)
f(key=m.Keyword)
m.Name.attribute = 1
late.Name
import late
";
    let facts = collect(src.as_bytes());
    let got: Vec<(&str, bool)> = facts
        .attributes
        .iter()
        .map(|a| (&src[a.span.range()], a.target))
        .collect();
    assert_eq!(
        got,
        vec![
            ("m.Name", false),
            ("m.Assigned", true),
            ("m.Augmented", true),
            ("m.Deleted", true),
            ("m.Also", true),
            ("m.Annotated", true),
            ("m.Annotation", false),
            ("m.Value", false),
            ("m.InTuple", true),
            ("m.InParens", true),
            // A subscript in a target: a load, marked (erring on the side of yes).
            ("m.Key", true),
            ("m.Loop", true),
            ("m.LoopTuple", true),
            ("m.Iterated", false),
            ("m.WithTarget", true),
            ("m.Element", false),
            ("m.Element", true),
            ("m.Base", false),
            ("app.legacy.Other", false),
            ("m.Param", false),
            ("m.Default", false),
            ("m.Return", false),
            ("m.Name.method", false),
            ("shim.Helper", false),
            ("m.Keyword", false),
            ("m.Name.attribute", true),
        ]
    );
}

/// What the collectors write is what a cached entry must be to be used (`FileFacts::fits`):
/// every span inside the file, import statements in order and disjoint, each holding its
/// module and names. Over every Python and Rust file of this repository (fixtures, sources,
/// the reference module) and the Python standard library; a collector that broke the
/// invariant would silently make every warm run collect again.
#[test]
fn collected_facts_fit_their_files() {
    let mut roots = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    let stdlib = crate::support::python3()
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3");
    roots.push(String::from_utf8_lossy(&stdlib.stdout).trim().into());
    let (mut checked, mut wrong) = (0, Vec::new());
    for root in roots {
        for entry in ignore::WalkBuilder::new(&root)
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                !(name == "target" || name == "site-packages")
            })
            .build()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            let language = match path.extension().and_then(|e| e.to_str()) {
                Some("py") => ssot_gardener::walk::Language::Python,
                Some("rs") => ssot_gardener::walk::Language::Rust,
                _ => continue,
            };
            let Ok(text) = std::fs::read(path) else {
                continue;
            };
            checked += 1;
            if !language.collect(&text).fits(text.len() as u64) {
                wrong.push(path.display().to_string());
            }
        }
    }
    assert!(checked > 1000, "only {checked} files");
    wrong.truncate(10);
    assert!(
        wrong.is_empty(),
        "{checked} files, these among them: {wrong:?}"
    );
}
