//! Differential test: the Python fact collector against CPython's own `ast` module.
//!
//! `tests/oracle/ast_facts.py` prints, for each file, the imports, classes, functions and
//! module-level variable bindings (assignment, `for` and `with` targets, tuples and lists
//! unpacked, `type X`, `global`) that `ast.parse` finds. This module turns what `python::collect` finds into the same normalized
//! form and compares the two file by file, over the whole standard library of the newest
//! CPython available (thousands of real files, 3.12+ syntax included) and over hand-written
//! tricky snippets. `ast` is the reference: any difference is a collector bug (or a documented
//! divergence, which then belongs in the oracle's normalization, not in an allow-list here).

use std::collections::HashMap;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use ssot_gardener::facts::{DefKind, ImportKind, LineIndex, Scope};
use ssot_gardener::python;

const ORACLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/ast_facts.py");

/// Fewer compared files than this means the test compared (nearly) nothing: fail.
const MIN_STDLIB_FILES: usize = 1000;

/// Mismatch lines printed before the rest is summarised.
const MAX_MISMATCH_LINES: usize = 200;

/// `[kind, module, level, [[name, alias], ...], line]`; kind is `"import"` or `"from"`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
struct ImportFact(String, String, u32, Vec<(String, Option<String>)>, u32);

/// `[name, line, bases, methods]`; a base that is not a dotted name is `"*"`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
struct ClassFact(String, u32, Vec<String>, Vec<String>);

/// `[name, line]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
struct FunctionFact(String, u32);

/// `[name, line]` of a module-level variable binding: the line of the bound name (of the
/// statement for `global`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
struct BindingFact(String, u32);

#[derive(Debug, Default)]
struct Normalized {
    /// The collector's syntax errors, `line: message` (none for a file `ast` accepts: SSOT903
    /// reports each one).
    errors: Vec<String>,
    imports: Vec<ImportFact>,
    classes: Vec<ClassFact>,
    functions: Vec<FunctionFact>,
    bindings: Vec<BindingFact>,
}

impl Normalized {
    fn sort(&mut self) {
        self.imports.sort();
        self.classes.sort();
        self.functions.sort();
        self.bindings.sort();
    }

    fn len(&self) -> [usize; 4] {
        [
            self.imports.len(),
            self.classes.len(),
            self.functions.len(),
            self.bindings.len(),
        ]
    }
}

/// One line of the oracle's output.
#[derive(Debug, Deserialize)]
struct OracleRecord {
    path: String,
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    imports: Vec<ImportFact>,
    #[serde(default)]
    classes: Vec<ClassFact>,
    #[serde(default)]
    functions: Vec<FunctionFact>,
    #[serde(default)]
    bindings: Vec<BindingFact>,
}

pub struct Python {
    pub program: PathBuf,
    version: String,
}

/// The newest CPython 3 under pyenv (so 3.12+ syntax is covered), else `python3`.
pub fn python() -> Python {
    let program = newest_pyenv_python().unwrap_or_else(|| PathBuf::from("python3"));
    let output = Command::new(&program)
        .args(["-c", "import sys; print(sys.version.replace('\\n', ' '))"])
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "the differential test needs a CPython interpreter: cannot run {}: {error}",
                program.display()
            )
        });
    assert!(
        output.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Python { program, version }
}

fn newest_pyenv_python() -> Option<PathBuf> {
    let output = Command::new("pyenv").arg("root").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let root = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    for entry in std::fs::read_dir(root.join("versions")).ok()?.flatten() {
        let name = entry.file_name();
        // Plain CPython versions only ("3.13.0"); "pypy3.10-7.3.12", "3.13.0t", "3.14-dev"
        // and "system" are skipped.
        let Some(version) = name.to_str().and_then(|name| {
            name.split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()
        }) else {
            continue;
        };
        let program = entry.path().join("bin").join("python3");
        if version.first() == Some(&3)
            && program.is_file()
            && best.as_ref().is_none_or(|(newest, _)| version > *newest)
        {
            best = Some((version, program));
        }
    }
    best.map(|(_, program)| program)
}

pub fn stdlib_dir(python: &Python) -> PathBuf {
    let output = Command::new(&python.program)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("run python for its stdlib directory");
    assert!(output.status.success(), "sysconfig failed");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Copies the `*.py` files of `python`'s standard library under `into` (a repository of its
/// own for `check` and `fix`); returns the standard library's directory and its files.
pub fn copy_stdlib(python: &Python, into: &Path) -> (PathBuf, Vec<PathBuf>) {
    let stdlib = stdlib_dir(python);
    let files = python_files(&stdlib);
    for file in &files {
        let target = into.join(file.strip_prefix(&stdlib).expect("under the stdlib"));
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("create directories");
        std::fs::copy(file, &target).expect("copy a stdlib file");
    }
    (stdlib, files)
}

/// Every `*.py` under `dir`, sorted, without `site-packages` and without following symlinks.
pub fn python_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() {
                if entry.file_name() != "site-packages" {
                    pending.push(path);
                }
            } else if file_type.is_file() && path.extension().is_some_and(|ext| ext == "py") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs the oracle once over all `paths` (one interpreter process) and returns its records
/// by path.
fn run_oracle(python: &Python, paths: &[PathBuf]) -> HashMap<String, OracleRecord> {
    let mut child = Command::new(&python.program)
        .arg(ORACLE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the ast oracle");
    let mut input = String::new();
    for path in paths {
        input.push_str(path.to_str().expect("UTF-8 path"));
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("oracle stdin");
    // Written from another thread: the oracle answers while it reads, and a full stdout pipe
    // would otherwise block both processes.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for the ast oracle");
    writer
        .join()
        .expect("oracle writer thread")
        .expect("write paths to the oracle");
    assert!(
        output.status.success(),
        "the ast oracle failed: {}",
        output.status
    );
    let stdout = String::from_utf8(output.stdout).expect("the oracle prints UTF-8");
    let mut records = HashMap::new();
    for line in stdout.lines() {
        let record: OracleRecord = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("bad oracle line {line:?}: {error}"));
        records.insert(record.path.clone(), record);
    }
    records
}

/// Python's hard keywords: `None`, `True` or `lambda` are never (part of) a dotted name.
/// Soft keywords (`match`, `case`, `type`, `_`) are ordinary names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// `a.b.C` (unicode letters allowed, no keyword), the shape the oracle keeps; anything else
/// (`Generic[T]`, `f()`, `None`) is `"*"` on both sides.
fn is_dotted_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|first| first == '_' || first.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
                && !KEYWORDS.contains(&part)
        })
}

/// What the collector finds in `source`, in the oracle's form; `Err` when it panics.
fn ours(source: &[u8]) -> Result<Normalized, String> {
    let facts = catch_unwind(AssertUnwindSafe(|| python::collect(source))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
            .unwrap_or_default()
    })?;
    let index = LineIndex::new(source);
    let mut normalized = Normalized::default();
    for error in &facts.errors {
        let line = index.line(error.span.start);
        normalized.errors.push(format!("{line}: {}", error.message));
    }
    for import in &facts.imports {
        let names = import
            .names
            .iter()
            .map(|name| (name.name.clone(), name.alias.clone()))
            .collect();
        let line = index.line(import.span.start);
        normalized.imports.push(match import.kind {
            ImportKind::Module => ImportFact("import".into(), String::new(), 0, names, line),
            ImportKind::From => ImportFact(
                "from".into(),
                import.module.clone(),
                import.level,
                names,
                line,
            ),
        });
    }
    for definition in &facts.definitions {
        // The span starts at `class`/`def` (or `async`, on the same line as its `def`).
        let line = index.line(definition.span.start);
        match &definition.kind {
            DefKind::Class { bases, methods } => {
                let bases = bases
                    .iter()
                    .map(|base| {
                        if is_dotted_name(base) {
                            base.clone()
                        } else {
                            "*".to_string()
                        }
                    })
                    .collect();
                normalized.classes.push(ClassFact(
                    definition.name.clone(),
                    line,
                    bases,
                    methods.clone(),
                ));
            }
            DefKind::Function { .. } => normalized
                .functions
                .push(FunctionFact(definition.name.clone(), line)),
            // `global X` in a function binds `X` at module level too.
            DefKind::Alias { .. } | DefKind::Variable => {
                if definition.context.scope == Scope::Module {
                    normalized.bindings.push(BindingFact(
                        definition.name.clone(),
                        index.line(definition.name_span.start),
                    ));
                }
            }
        }
    }
    normalized.sort();
    Ok(normalized)
}

/// `expected - actual` as multisets; both sorted.
fn missing_from<T: Ord + Clone>(expected: &[T], actual: &[T]) -> Vec<T> {
    let mut missing = Vec::new();
    let mut other = actual.iter().peekable();
    for item in expected {
        while other.next_if(|candidate| *candidate < item).is_some() {}
        if other.next_if(|candidate| *candidate == item).is_none() {
            missing.push(item.clone());
        }
    }
    missing
}

/// Lines describing how `theirs` (the oracle) and `ours` differ in one category.
fn diff<T: Ord + Clone + Serialize>(
    category: &str,
    theirs: &[T],
    ours: &[T],
    lines: &mut Vec<String>,
) -> usize {
    let only_theirs = missing_from(theirs, ours);
    let only_ours = missing_from(ours, theirs);
    // Interleaved in sort order so that a fact that differs in one field shows as a pair.
    let mut all: Vec<(&T, &str)> = only_theirs
        .iter()
        .map(|fact| (fact, "ast says"))
        .chain(only_ours.iter().map(|fact| (fact, "we say ")))
        .collect();
    all.sort();
    for (fact, who) in &all {
        lines.push(format!(
            "    {category:<9} {who} {}",
            serde_json::to_string(fact).expect("serialize a fact")
        ));
    }
    all.len()
}

#[derive(Default)]
struct Report {
    files: usize,
    rejected: Vec<(String, String)>,
    facts: [usize; 4],
    /// Compared files in which the oracle found no fact at all.
    empty: Vec<String>,
    mismatched_files: usize,
    mismatched_facts: [usize; 4],
    lines: Vec<String>,
}

impl Report {
    fn print(&self, python: &Python, title: &str) {
        println!("differential test against CPython ast: {title}");
        println!("  interpreter: {}", python.program.display());
        println!("  version:     {}", python.version);
        println!("  files compared: {}", self.files);
        println!(
            "  facts compared (ast side): {} imports, {} classes, {} functions, {} module-level bindings",
            self.facts[0], self.facts[1], self.facts[2], self.facts[3]
        );
        println!(
            "  files ast rejected (not compared): {}",
            self.rejected.len()
        );
        for (path, error) in &self.rejected {
            println!("    {path}: {error}");
        }
        println!(
            "  mismatches: {} files; {} import, {} class, {} function, {} binding facts differ",
            self.mismatched_files,
            self.mismatched_facts[0],
            self.mismatched_facts[1],
            self.mismatched_facts[2],
            self.mismatched_facts[3]
        );
        for line in self.lines.iter().take(MAX_MISMATCH_LINES) {
            println!("{line}");
        }
        if self.lines.len() > MAX_MISMATCH_LINES {
            println!(
                "  ... {} more mismatch lines not shown",
                self.lines.len() - MAX_MISMATCH_LINES
            );
        }
    }
}

/// Runs the oracle and the collector over `paths` and compares them file by file.
fn compare(python: &Python, paths: &[PathBuf]) -> Report {
    let records = run_oracle(python, paths);
    let mut report = Report::default();
    for path in paths {
        let key = path.to_str().expect("UTF-8 path");
        let record = records
            .get(key)
            .unwrap_or_else(|| panic!("the oracle printed nothing for {key}"));
        if !record.ok {
            report
                .rejected
                .push((key.to_string(), record.error.clone().unwrap_or_default()));
            continue;
        }
        report.files += 1;
        let mut theirs = Normalized {
            imports: record.imports.clone(),
            classes: record.classes.clone(),
            functions: record.functions.clone(),
            bindings: record.bindings.clone(),
            errors: Vec::new(),
        };
        theirs.sort();
        if theirs.len() == [0; 4] {
            report.empty.push(key.to_string());
        }
        for (total, count) in report.facts.iter_mut().zip(theirs.len()) {
            *total += count;
        }
        let source = std::fs::read(path).unwrap_or_else(|error| panic!("read {key}: {error}"));
        let mut lines = Vec::new();
        match ours(&source) {
            Ok(ours) => {
                for error in &ours.errors {
                    lines.push(format!("    syntax error where ast sees none: {error}"));
                }
                report.mismatched_facts[0] +=
                    diff("imports", &theirs.imports, &ours.imports, &mut lines);
                report.mismatched_facts[1] +=
                    diff("classes", &theirs.classes, &ours.classes, &mut lines);
                report.mismatched_facts[2] +=
                    diff("functions", &theirs.functions, &ours.functions, &mut lines);
                report.mismatched_facts[3] +=
                    diff("bindings", &theirs.bindings, &ours.bindings, &mut lines);
            }
            Err(message) => lines.push(format!("    the collector panicked: {message}")),
        }
        if !lines.is_empty() {
            report.mismatched_files += 1;
            report.lines.push(format!("  {key}"));
            report.lines.append(&mut lines);
        }
    }
    report
}

#[test]
fn collector_agrees_with_cpython_ast_on_the_standard_library() {
    let python = python();
    let stdlib = stdlib_dir(&python);
    let paths = python_files(&stdlib);
    let report = compare(&python, &paths);
    report.print(
        &python,
        &format!("standard library at {}", stdlib.display()),
    );
    assert!(
        report.files >= MIN_STDLIB_FILES,
        "only {} files compared under {} (expected at least {MIN_STDLIB_FILES})",
        report.files,
        stdlib.display()
    );
    assert!(
        report.lines.is_empty(),
        "the collector disagrees with CPython's ast on {} of {} files (see the list above)",
        report.mismatched_files,
        report.files
    );
}

/// Snippets that trip up hand-written Python lexers. Each holds at least one import, class,
/// function or module-level binding so that an empty collector cannot pass.
const SNIPPETS: &[(&str, &[u8])] = &[
    (
        "pep701_quotes",
        br#"d = {"k": "v"}
x = f"{d["k"]}"
y = f"{'import not_an_import'}"
z = f"{'''
import not_an_import_either
'''}"
w = f"{"\n".join(["a", "b"])}"
import after_fstrings
"#,
    ),
    (
        "nested_fstrings",
        br#"x = f"{f"{f"{1}"}"}" + f'{f'{2:>{3}}'}' + f"{x!r:>{width}}" + f"{{import literal_braces}}"
def after_nested(): pass
v = f"""{
    f'''{"class NotAClass: pass"}'''
}"""
class AfterNested: pass
"#,
    ),
    (
        "backslash_continuations",
        b"from a.b \\\n    import c \\\n    as d\nimport e, \\\n    f\nclass \\\n  Continued(\\\n  Base): pass\nfrom \\\n . \\\n import g\n",
    ),
    (
        "parenthesised_relative",
        b"from . import (a as b,\n c,)\nfrom ..pkg.mod import (\n    x,  # comment with import y\n    y as z,\n)\nfrom ... import w\nfrom .... import deep\nfrom .mod import *\nfrom __future__ import annotations\n",
    ),
    (
        "dotted_and_aliased",
        b"import a.b as c\nimport a . b\nimport x.y.z, q as r, s\nimport os.path\n",
    ),
    (
        "one_line_compound",
        b"if x: import y\nelif w: import ww\nelse: import yy\ntry: import z\nexcept ImportError: z = None\ntry: import z2\nexcept (ImportError, OSError): from zz import z2\nelse: import els\nfinally: import fin\nwhile False: import loop\nfor _ in []: import in_for\nwith ctx: import in_with\ndef f(): import in_def\nclass C: import in_class\n",
    ),
    (
        "semicolons",
        b"import a; import b; from c import d as e;\nx = 1; import f\ndef g(): import h; import i\n",
    ),
    (
        "decorators",
        b"@decorator\n@other.deco(arg=1)\nclass Decorated(Base):\n    @property\n    def p(self): ...\n    @staticmethod\n    async def s(): ...\n\n@functools.wraps(f)\n\ndef decorated_fn(): pass\n@(lambda c: c)\nclass Expr: pass\n",
    ),
    (
        "async_def",
        b"async def coro():\n    async with x as y:\n        import inside_async\n    async for i in y:\n        pass\n    async def inner(): pass\n    await inner()\nclass A:\n    async def m(self): pass\n    def n(self): pass\n",
    ),
    (
        "class_keywords",
        b"class Meta(type): pass\nclass K(Base, metaclass=Meta, **kwargs): pass\nclass E(*bases): pass\nclass G(Generic[T], mod.Base, f()): pass\nclass S(a . b, # comment\n        c.d): pass\nclass Empty(): pass\nclass NoParens: pass\nclass OnlyKw(metaclass=Meta): pass\nclass N(object, None): pass\nclass IfElse(gzip.GzipFile if gzip else object): pass\nclass NotIn(a not in b, lambda: c): pass\n",
    ),
    (
        "lambda_defaults",
        b"def f(x=lambda: 1, *, y=lambda a, b=2: (a, b)): return x\nclass L:\n    def m(self, cb=lambda self: self, d={'def': 1}): pass\n    g = lambda self: None\n    def n(self, s=\"class X: pass\"): pass\n",
    ),
    (
        "match_statement",
        b"match command:\n    case Point(x=0):\n        class InCase: pass\n    case [a, *rest] if a:\n        import in_case\n    case {\"k\": v, **kw}:\n        def in_case_fn(): pass\n    case _:\n        pass\nmatch = 1\ncase = 2\nprint(match, case)\ndef match(): pass\nclass case: pass\nmatch(x)\n",
    ),
    (
        "crlf",
        b"import a\r\nclass C(B):\r\n    def m(self):\r\n        import b\r\n\r\ns = '''x\r\nimport no\r\n'''\r\ndef f(): pass\r\n",
    ),
    (
        "lone_cr",
        b"import a\rclass C:\r    def m(self): pass\rs = \"\"\"x\rimport no\r\"\"\"\rimport b\rdef f(): pass\r",
    ),
    (
        "bom",
        b"\xef\xbb\xbfimport bom_first\nclass AfterBom: pass\ndef f(): pass\n",
    ),
    (
        "latin1_cookie",
        b"# -*- coding: latin-1 -*-\n# caf\xe9 import nothing\ns = \"caf\xe9 import not_this\"\nimport latin\nclass Cafe: pass\ndef f(x=\"\xe9\"): pass\n",
    ),
    (
        "latin1_identifier",
        b"# vim: set fileencoding=iso-8859-1 :\nclass Caf\xe9: pass\ndef d\xe9f(): pass\nimport caf\xe9 as \xe9\n",
    ),
    (
        "tabs",
        b"if x:\n\timport tabbed\n\tclass T:\n\t\tdef m(self): pass\n\t\tdef n(self): pass\nclass U:\n        def m(self): pass\n",
    ),
    (
        "form_feeds",
        b"\x0c\nimport ff\n\x0cdef g(): pass\nclass F:\n    \x0c\n    def m(self): pass\n  \x0c    def n(self): pass\n",
    ),
    (
        "unicode_identifiers",
        "class Gr\u{f6}\u{df}e: pass\ndef \u{51fd}\u{6570}(): pass\nimport m\u{f3}dulo as \u{6a21}\u{5757}\nfrom paquete import \u{f1}\nclass \u{3b1}(\u{3b2}.\u{3b3}): pass\n# \u{2603} import snowman\n"
            .as_bytes(),
    ),
    (
        // CPython NFKC-normalizes identifiers: `ﬁle` (U+FB01) is `file`, `ｍｏｄ` is `mod`.
        "nfkc_identifiers",
        "class \u{fb01}le: pass\nimport \u{ff4d}\u{ff4f}\u{ff44}\nfrom pkg import \u{2160} as x\ndef \u{210c}(): pass\n"
            .as_bytes(),
    ),
    (
        "pep695_type_params",
        b"type X = int\ntype Y[T] = list[T]\nclass P[T: int, *Ts, **Q](Base[T], mod.Other):\n    def m[U](self) -> U: ...\ndef generic[T](x: T) -> T: return x\ntype = 1\nprint(type)\n",
    ),
    (
        "string_prefixes",
        br#"a = rb"import x"
b = Rb'\'import y'
c = BR"""
import z
"""
d = f"{1}import w"
e = rf"\{x}import v"
g = FR'{y}\'import u'
h = u"import t"
i = b'import s' bR'import r'
j = R'import q' U"import p"
import real_after_prefixes
def after(): pass
"#,
    ),
    (
        "triple_quoted",
        br#""""
import not_an_import
class NotAClass: pass
"""
def real(): '''
    def fake(): pass
    '''
'''
from x import y \'''
class StillString: pass
'''
x = "\"\"\" import no"
import real_import
"#,
    ),
    (
        "comments",
        b"# import commented\nx = 1  # from a import b\n#class C: pass\nimport real  # import also_not\ndef f(): # def g(): pass\n    pass\n",
    ),
    (
        "nested_scopes",
        b"class Outer(Base):\n    class Inner:\n        def deep(self):\n            class Local(Outer.Inner):\n                def m(self): pass\n            import in_method\n            return Local\n    x = 1\n    if x:\n        def conditional(self): pass\n    def after(self): pass\n",
    ),
    (
        "parenthesised_expressions",
        b"x = (\n    1,\n    import_ := 2,\n)\ny = [\n  'class',\n  'def'\n]\nwith (open(a) as f,\n      open(b) as g):\n    import in_with\nprint(*args, **kwargs)\nclass After: pass\n",
    ),
    (
        // Issue 11: every name of a tuple or list target binds; attribute and subscript
        // elements bind nothing; targets inside def and class bodies are not module-level.
        "unpacking_targets",
        br#"A, B = make_pair()
(X, Y) = 1, 2
[P, Q] = 1, 2
C, (D, [E, *F]) = 1, (2, [3, 4])
G, *rest = 1, 2
*init, last = 1, 2
H = I, J = 1, 2
o.a, K, L[0], (M).n = 1, 2, 3, 4
(a, b)[0] = [c][0] = 1
x[1:2], N = 1, 2
(O,) = [R,] = (1,)
() = []
(S,
 T) = 1, 2
(U): int = 1
o.attr: int = 1
annotated_only: int
V += 1
o.count += 1
for W, (Z, *zs) in pairs: pass
for d[k in s], item in pairs: pass
with ctx() as (w1, w2), other() as o.attr, third() as w3: pass
with (open(a) as [w4, w5], open(b) as w6[0]): pass
if flag: i1, i2 = 1, 2
try:
    t1, t2 = 1, 2
except ImportError as error:
    t1 = t2 = None
handler = lambda x=1, *, y=2: (x, y)
call(keyword=1, other=[q for q in r])
f = f"{A=}"
if (walrus := 1): pass
match command:
    case [m1, *m2]: m3, m4 = m1, m2
def function():
    global g1, g2
    local1, local2 = 1, 2
class Class:
    c1, c2 = 1, 2
    for c3, c4 in []: pass
type Alias = int
"#,
    ),
];

#[test]
fn collector_agrees_with_cpython_ast_on_tricky_snippets() {
    let python = python();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut paths = Vec::new();
    for (index, (name, source)) in SNIPPETS.iter().enumerate() {
        let path = dir.path().join(format!("{index:02}_{name}.py"));
        std::fs::write(&path, source).expect("write snippet");
        paths.push(path);
    }
    let report = compare(&python, &paths);
    report.print(&python, "tricky snippets");
    assert!(
        report.rejected.is_empty(),
        "ast rejected snippets (the interpreter must be CPython 3.12 or newer): {:?}",
        report.rejected
    );
    assert!(
        report.empty.is_empty(),
        "snippets without any fact could pass against an empty collector: {:?}",
        report.empty
    );
    assert_eq!(report.files, SNIPPETS.len());
    assert!(
        report.lines.is_empty(),
        "the collector disagrees with CPython's ast on {} of {} snippets (see the list above)",
        report.mismatched_files,
        report.files
    );
}

/// The dotted names `collect` records as `attributes`, against `ast`: for each file, every
/// maximal `a.b.c` whose first name an import earlier in the file binds, written without
/// spaces and outside f-strings, with whether `ast` says it is assigned or deleted.
const ATTRIBUTE_ORACLE: &str = r#"
import ast, json, re, sys
for path in sys.stdin.read().splitlines():
    src = open(path, "rb").read()
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        print(json.dumps({"path": path, "ok": False}))
        continue
    starts = [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", src)]
    first_import = {}
    inner = set()
    nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or (alias.name.split(".")[0] if isinstance(node, ast.Import) else alias.name)
                where = (node.lineno, node.col_offset)
                first_import[bound] = min(where, first_import.get(bound, where))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner.add(id(node.value))
        elif type(node).__name__ in ("JoinedStr", "TemplateStr"):
            inner.update(id(child) for child in ast.walk(node))
    chains = []
    for node in nodes:
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        parts, root = [], node
        while isinstance(root, ast.Attribute):
            parts.append(root.attr)
            root = root.value
        if not isinstance(root, ast.Name):
            continue
        if not first_import.get(root.id, (1 << 30, 0)) < (node.lineno, node.col_offset):
            continue
        start = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        if src[start:end] != ".".join([root.id] + parts[::-1]).encode():
            continue
        chains.append([start, isinstance(node.ctx, (ast.Store, ast.Del))])
    print(json.dumps({"path": path, "ok": True, "chains": chains}))
"#;

/// `attributes` on the standard library, against `ast`: the same dotted names, and every one
/// that `ast` says is assigned or deleted marked as a target (the fix of SSOT002 relies on
/// it); a load marked as a target is allowed (erring on the side of yes), and counted. One
/// file in four: `ast` over the whole library costs seconds, which the main differential test
/// pays already (its oracle, `tests/oracle/ast_facts.py`, could print these too).
#[test]
fn attributes_agree_with_cpython_ast_on_the_standard_library() {
    #[derive(Deserialize)]
    struct Record {
        path: String,
        ok: bool,
        #[serde(default)]
        chains: Vec<(u32, bool)>,
    }
    let python = python();
    let paths: Vec<PathBuf> = python_files(&stdlib_dir(&python))
        .into_iter()
        .step_by(4)
        .collect();
    let mut child = Command::new(&python.program)
        .args(["-c", ATTRIBUTE_ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the attribute oracle");
    let input: String = paths
        .iter()
        .map(|path| format!("{}\n", path.to_str().expect("UTF-8 path")))
        .collect();
    let mut stdin = child.stdin.take().expect("oracle stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for the oracle");
    writer.join().expect("writer").expect("write paths");
    assert!(output.status.success(), "the attribute oracle failed");
    let (mut files, mut chains, mut targets, mut loads_marked) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    for line in String::from_utf8(output.stdout).expect("UTF-8").lines() {
        let record: Record = serde_json::from_str(line).expect("an oracle line");
        let source = std::fs::read(&record.path).expect("read");
        if !record.ok || source.starts_with(b"\xef\xbb\xbf") {
            continue;
        }
        files += 1;
        let facts = python::collect(&source);
        let ours: HashMap<u32, bool> = facts
            .attributes
            .iter()
            .map(|attribute| (attribute.span.start, attribute.target))
            .collect();
        let theirs: HashMap<u32, bool> = record.chains.iter().copied().collect();
        let index = LineIndex::new(&source);
        for (&start, &store) in &theirs {
            chains += 1;
            targets += usize::from(store);
            match ours.get(&start) {
                None => mismatches.push(format!("{}:{}: missing", record.path, index.line(start))),
                Some(false) if store => mismatches.push(format!(
                    "{}:{}: assigned, not marked as a target",
                    record.path,
                    index.line(start)
                )),
                Some(true) if !store => loads_marked += 1,
                Some(_) => {}
            }
        }
        for start in ours.keys().filter(|start| !theirs.contains_key(start)) {
            mismatches.push(format!(
                "{}:{}: not a dotted name of an imported name for ast",
                record.path,
                index.line(*start)
            ));
        }
    }
    eprintln!(
        "attributes: {files} files, {chains} dotted names, {targets} assigned or deleted, {loads_marked} loads marked as targets"
    );
    assert!(files >= MIN_STDLIB_FILES / 4, "only {files} files compared");
    assert!(chains > 10_000, "only {chains} dotted names compared");
    assert!(
        targets > 100,
        "only {targets} assigned dotted names compared"
    );
    mismatches.truncate(MAX_MISMATCH_LINES);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
