//! The language-neutral fact model: what a collector reads out of one source file.
//!
//! Invariant: nothing here knows about Python or Rust syntax, and nothing here knows about
//! other files. A collector (`python::collect`, `rust::collect`) fills a [`FileFacts`];
//! the resolver joins the facts of all files into a graph.
//!
//! Module paths are stored as written in the source language (`a.b.c` for Python, `a::b::c`
//! for Rust); spans are byte ranges into the file's bytes, and lines are computed only when
//! printing ([`LineIndex`]).

use serde::{Deserialize, Serialize};

/// A byte range `start..end` in one file.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Everything a collector read from one file. Collecting never fails: a broken file yields
/// the facts read so far plus its `errors`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileFacts {
    pub imports: Vec<Import>,
    pub definitions: Vec<Definition>,
    /// `__all__` (Python) when the module declares one.
    pub exports: Option<Exports>,
    pub string_refs: Vec<StringRef>,
    pub suppressions: Vec<Suppression>,
    /// Calls of a plain or dotted name (`f(...)`, `a.b.C(...)`), for the rules about factories
    /// and instantiation.
    pub calls: Vec<Call>,
    /// Dotted names whose first name an import statement of the file binds (`m.Name` after
    /// `import a.b as m`), for the rules about objects reached through a module.
    pub attributes: Vec<Attribute>,
    pub errors: Vec<SyntaxError>,
    /// Modules declared inside the file (Rust `mod x;` and `mod x { ... }`; Python declares
    /// none). A fact belongs to the innermost inline module whose `body` holds its span.
    #[serde(default)]
    pub modules: Vec<ModuleDecl>,
    /// The visibility of each import, parallel to `imports`; empty for a language without
    /// visibility (Python), where every import has the default. Read it with
    /// [`FileFacts::import_visibility_of`].
    #[serde(default)]
    pub import_visibility: Vec<Visibility>,
    /// The visibility of each definition, parallel to `definitions` (empty for Python).
    #[serde(default)]
    pub definition_visibility: Vec<Visibility>,
    /// [`name_hash`] of every name a call's callee ends in and of every part but the first of
    /// each [`Attribute`], sorted and without repeats: a rule looking for calls or dotted
    /// names of some names reads a file's text only when this holds one of them.
    #[serde(default)]
    pub dotted_names: Vec<u32>,
    /// The file changes Python's import machinery (`sys.meta_path`, `sys.path_hooks`): a
    /// module it does not have may still import.
    #[serde(default)]
    pub installs_import_hook: bool,
}

impl FileFacts {
    /// Rewrites every span of the facts with `map` (which must keep their order): for a
    /// collector that read another text than the file, with the same tokens at other
    /// offsets.
    pub fn map_spans(&mut self, map: impl Fn(Span) -> Span) {
        for import in &mut self.imports {
            import.span = map(import.span);
            import.module_span = map(import.module_span);
            for name in &mut import.names {
                name.span = map(name.span);
            }
        }
        for definition in &mut self.definitions {
            definition.span = map(definition.span);
            definition.name_span = map(definition.name_span);
        }
        for string in &mut self.string_refs {
            string.span = map(string.span);
        }
        for suppression in &mut self.suppressions {
            suppression.span = map(suppression.span);
        }
        for call in &mut self.calls {
            call.callee = map(call.callee);
        }
        for attribute in &mut self.attributes {
            attribute.span = map(attribute.span);
        }
        for error in &mut self.errors {
            error.span = map(error.span);
        }
        for module in &mut self.modules {
            module.span = map(module.span);
            module.name_span = map(module.name_span);
            module.body = module.body.map(&map);
        }
    }

    /// Fills [`FileFacts::dotted_names`] and each attribute's `last` from `text`, the file the
    /// calls and attributes were read from.
    pub fn index_dotted_names(&mut self, text: &[u8]) {
        let mut names = Vec::new();
        for call in &self.calls {
            if let Some(bytes) = text.get(call.callee.range()) {
                let last = memchr::memrchr(b'.', bytes).map_or(0, |dot| dot + 1);
                names.push(name_hash(bytes[last..].trim_ascii()));
            }
        }
        for attribute in &mut self.attributes {
            if let Some(bytes) = text.get(attribute.span.range()) {
                let mut parts = bytes.split(|&b| b == b'.').skip(1).peekable();
                while let Some(part) = parts.next() {
                    let hash = name_hash(part);
                    names.push(hash);
                    if parts.peek().is_none() {
                        attribute.last = hash;
                    }
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        self.dotted_names = names;
    }

    /// Whether these facts can describe a file of `len` bytes: every span inside it and every
    /// index between facts pointing at a fact. Facts from the cache, an untrusted input, are
    /// used only when they fit; otherwise the file is collected again.
    pub fn fits(&self, len: u64) -> bool {
        let span = |span: &Span| span.start <= span.end && u64::from(span.end) <= len;
        let index = |at: &Option<u32>, count: usize| at.is_none_or(|at| (at as usize) < count);
        let inside =
            |inner: &Span, outer: &Span| outer.start <= inner.start && inner.end <= outer.end;
        // Statements in order, none overlapping the next (a Rust `use` tree is one fact per
        // group, all with the statement's span), each holding its module (when it
        // has one: `import a` has none) and names (as the collectors write them; the
        // editors rely on it).
        self.imports.iter().all(|import| {
            span(&import.span)
                && span(&import.module_span)
                && (import.module_span.start == import.module_span.end
                    || inside(&import.module_span, &import.span))
                && import
                    .names
                    .iter()
                    .all(|name| span(&name.span) && inside(&name.span, &import.span))
        }) && self
            .imports
            .windows(2)
            .all(|pair| pair[0].span == pair[1].span || pair[0].span.end <= pair[1].span.start)
            // A parent comes before its children (as the collectors write them), so walking
            // up a chain of parents ends.
            && self.definitions.iter().enumerate().all(|(at, definition)| {
                span(&definition.span)
                    && span(&definition.name_span)
                    && index(&definition.parent, at)
                    && match &definition.kind {
                        DefKind::Function {
                            returns: Returns::Annotation(annotation),
                            ..
                        } => span(annotation),
                        _ => true,
                    }
            })
            && self
                .string_refs
                .iter()
                .all(|reference| span(&reference.span))
            && self
                .suppressions
                .iter()
                .all(|suppression| span(&suppression.span))
            && self
                .calls
                .iter()
                .all(|call| span(&call.callee) && index(&call.enclosing, self.definitions.len()))
            && self
                .attributes
                .iter()
                .all(|attribute| span(&attribute.span))
            && self.errors.iter().all(|error| span(&error.span))
            && self.modules.iter().enumerate().all(|(at, module)| {
                span(&module.span)
                    && span(&module.name_span)
                    && module.body.as_ref().is_none_or(span)
                    && index(&module.parent, at)
            })
            && (self.import_visibility.is_empty()
                || self.import_visibility.len() == self.imports.len())
            && (self.definition_visibility.is_empty()
                || self.definition_visibility.len() == self.definitions.len())
    }

    /// Gives back the spare capacity of every list: a repository's facts stay in memory for
    /// the whole run, and a vector grown by doubling is up to half empty.
    pub fn shrink_to_fit(&mut self) {
        self.imports.shrink_to_fit();
        for import in &mut self.imports {
            import.names.shrink_to_fit();
        }
        self.definitions.shrink_to_fit();
        for definition in &mut self.definitions {
            if let DefKind::Class { bases, methods } = &mut definition.kind {
                bases.shrink_to_fit();
                methods.shrink_to_fit();
            }
        }
        self.string_refs.shrink_to_fit();
        self.suppressions.shrink_to_fit();
        self.calls.shrink_to_fit();
        self.attributes.shrink_to_fit();
        self.errors.shrink_to_fit();
        self.modules.shrink_to_fit();
        self.import_visibility.shrink_to_fit();
        self.definition_visibility.shrink_to_fit();
        self.dotted_names.shrink_to_fit();
    }

    /// Whether some call or dotted name of the file may end in or pass through `name` (no
    /// false negatives; a false positive only costs a look at the text).
    pub fn may_name_dotted(&self, name: &str) -> bool {
        self.dotted_names
            .binary_search(&name_hash(name.as_bytes()))
            .is_ok()
    }

    /// The visibility of import `index` (`pub use` is [`Visibility::Public`]: a re-export).
    pub fn import_visibility_of(&self, index: usize) -> &Visibility {
        self.import_visibility
            .get(index)
            .unwrap_or(&Visibility::Default)
    }

    /// The visibility of definition `index`.
    pub fn definition_visibility_of(&self, index: usize) -> &Visibility {
        self.definition_visibility
            .get(index)
            .unwrap_or(&Visibility::Default)
    }
}

/// Who may name a binding from another module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// The language's default: Python, any importer; Rust, the module and its descendants
    /// (no `pub`, or `pub(self)`).
    #[default]
    Default,
    /// Everyone (`pub`): a `pub use` is a re-export.
    Public,
    /// The subtree of one module, as written: `crate`, `super`, `in crate::a` gives
    /// `crate::a`.
    Restricted(String),
}

/// `mod x;` (the body is another file) or `mod x { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleDecl {
    pub name: String,
    pub name_span: Span,
    /// From the visibility or `mod` to the `;` or the closing brace (attributes excluded).
    pub span: Span,
    /// The braces of an inline module; `None` when the module is another file.
    pub body: Option<Span>,
    /// `#[path = "..."]` values, as written, including those inside `#[cfg_attr(..)]`
    /// (more than one: alternatives chosen by configuration).
    pub paths: Vec<String>,
    pub visibility: Visibility,
    pub context: Context,
    /// The enclosing inline module (index into `modules`).
    pub parent: Option<u32>,
}

/// `m.Name`, `a.b.Name.method`: a dotted name written without spaces, whose first name is not
/// itself an attribute (`x.m.Name` gives nothing) and is bound by some import statement of the
/// file (`import a.b as m`, `import a.b`, `from pkg import m`), in any scope. Kept small: the
/// parts are read from the file's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// From the first name to the last.
    pub span: Span,
    /// The whole dotted name may be assigned or deleted here (`m.Name = x`, `m.Name += 1`,
    /// `del m.Name`, `for m.Name in ...`, `with ... as m.Name`, `a, m.Name = ...`). Errs on
    /// the side of yes: a load may be marked (`d[m.Name] = 1`), a target never goes unmarked.
    pub target: bool,
    /// [`name_hash`] of the last name.
    #[serde(default)]
    pub last: u32,
}

/// A 32-bit hash of a name, for the indexes of [`FileFacts`]: stable across runs (the cache
/// stores it).
pub fn name_hash(name: &[u8]) -> u32 {
    xxhash_rust::xxh3::xxh3_64(name) as u32
}

/// `a.b.C(...)`: a call whose callee is a dotted name. Kept small (no strings): a file has
/// many calls and the rules look at few of them; the callee's text is read from the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The callee, from its first name to its last (`a.b.C`), without the parenthesis.
    pub callee: Span,
    /// The innermost enclosing `def` or `class` (index into `definitions`).
    pub enclosing: Option<u32>,
    /// What is done with the result: awaited (`await f()`), dropped (the call is a
    /// statement of its own), or anything else.
    #[serde(default)]
    pub result: CallResult,
}

/// What the code does with a call's result (Python), for the rule about `await` (SSOT010).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallResult {
    /// Used: assigned, returned, passed on, an operand.
    #[default]
    Used,
    /// `await f()`.
    Awaited,
    /// `f()` as a statement of its own: the result is thrown away.
    Dropped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// `import a.b` / `import a.b as c` (Rust: `use a::b;` of a module).
    Module,
    /// `from a import b` (Rust: `use a::b;` of an item).
    From,
}

/// One import statement. A Rust `use` tree gives one `Import` per distinct prefix, all with
/// the `use` item's span (see `rust::collect`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub kind: ImportKind,
    /// The whole statement (Python: from `import`/`from` to the end of the last name or `)`).
    pub span: Span,
    /// `from` imports: the written module without leading dots (`""` for `from . import x`).
    /// `import` statements: empty (the modules are in `names`).
    pub module: String,
    /// Span of the written module path including leading dots (`from` imports only).
    pub module_span: Span,
    /// Number of leading dots of a relative import (Rust: leading `super::` segments).
    pub level: u32,
    /// `import a.b as c, d` gives two names (`a.b` as `c`, `d`); `from m import *` gives `*`.
    pub names: Vec<ImportedName>,
    pub context: Context,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportedName {
    /// The imported name as written (dotted for `import a.b`).
    pub name: String,
    /// The local name given with `as`.
    pub alias: Option<String>,
    /// From the name to the end of its alias.
    pub span: Span,
}

impl ImportedName {
    /// The name this import binds in the importing namespace.
    pub fn bound_name(&self, kind: ImportKind) -> &str {
        match (&self.alias, kind) {
            (Some(alias), _) => alias,
            (None, ImportKind::From) => &self.name,
            // `import a.b` binds `a`.
            (None, ImportKind::Module) => self.name.split('.').next().unwrap_or(&self.name),
        }
    }
}

/// Where a statement sits: which scope, which `try` branch, whether under `TYPE_CHECKING`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub scope: Scope,
    /// The innermost `try` statement branch enclosing the statement.
    pub guard: Guard,
    /// Inside the body of `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`).
    pub type_checking: bool,
    /// Inside any compound statement other than `def`/`class` (if, for, while, with, try,
    /// match) of the innermost scope: the binding may or may not happen.
    pub conditional: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    #[default]
    Module,
    Class,
    Function,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guard {
    #[default]
    None,
    /// The body of a `try` statement.
    Try,
    /// An `except` handler that catches `ImportError` or `ModuleNotFoundError` (alone or in a tuple).
    ExceptImportError,
    /// Any other `except` handler (including a bare `except:`).
    Except,
    /// The `else` branch of a `try`.
    Else,
    Finally,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub name: String,
    /// The defined name's span.
    pub name_span: Span,
    /// The header (`class X(Base):`) or the assignment statement.
    pub span: Span,
    pub kind: DefKind,
    pub context: Context,
    /// The innermost enclosing `def` or `class` (index into `definitions`).
    pub parent: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DefKind {
    Class {
        /// Positional bases as written, whitespace and comments removed (`pkg.Base`,
        /// `Generic[T]`); keyword arguments such as `metaclass=` are not bases.
        bases: Vec<String>,
        /// Names of the functions defined directly in the class body.
        methods: Vec<String>,
    },
    Function {
        is_async: bool,
        /// Written under a decorator (Python), which may change what a call returns.
        #[serde(default)]
        decorated: bool,
        /// What a call returns, as far as the header and the body tell (Python).
        #[serde(default)]
        returns: Returns,
    },
    /// A module-level `Name = other.name` whose right-hand side is a bare dotted name.
    Alias { target: String },
    /// Any other module-level binding: assignment, `for` target, `with ... as`, `global`.
    Variable,
}

/// What calling a function returns, as far as its header and body tell (Python), for the
/// rule about `await` (SSOT010).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Returns {
    /// Anything: a `return` gives a value and there is no annotation.
    #[default]
    Unknown,
    /// No annotation, and no `return` gives a value: `None` (a generator when it `yield`s).
    Nothing,
    /// The return annotation (`-> Manager` gives the span of `Manager`), whose names the
    /// rule reads.
    Annotation(Span),
}

/// `__all__` of a module.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exports {
    pub names: Vec<String>,
    /// Some part of `__all__` is not a literal list of strings: the list may be incomplete.
    pub dynamic: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringRefKind {
    /// `importlib.import_module("a.b")`
    ImportModule,
    /// `__import__("a")`
    DunderImport,
    /// `mock.patch("a.b.C")`, `patch.multiple("a.b", ...)`
    Patch,
    /// `patch.object(a.b.C, "attr")`: the first argument, a dotted expression, not a string.
    PatchObject,
    /// `sys.modules["a.b"]`
    SysModules,
    /// Any other string literal that is a dotted path (`"a.b"`); the resolver keeps those that
    /// name a module of the graph.
    Other,
    /// Rust: a path in an attribute's string (`#[serde(remote = "crate::a::B")]`).
    Attribute,
    /// Rust: an intra-doc link's target (`` /// [`crate::a::B`] ``).
    DocLink,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StringRef {
    pub kind: StringRefKind,
    /// The dotted path (string contents, or the expression text for `PatchObject`).
    pub value: String,
    /// The string literal including its quotes (or the expression for `PatchObject`).
    pub span: Span,
    pub context: Context,
}

/// `# ssot: ignore[SSOT001, SSOT002] reason` (codes empty for a bare `# ssot: ignore`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    pub span: Span,
    pub codes: Vec<String>,
    pub reason: Option<String>,
}

impl Suppression {
    /// Reads `ssot: ignore[SSOT001, SSOT002] reason` out of a comment's text (its markers
    /// `#` or `//` included or not), which starts at byte `offset` of the file. The span runs
    /// from `ssot:` to the end of `comment`. The syntax is the same in every language.
    pub fn parse(comment: &[u8], offset: usize) -> Option<Suppression> {
        let at = memchr::memmem::find(comment, b"ssot:")?;
        let rest = comment[at + 5..]
            .trim_ascii_start()
            .strip_prefix(b"ignore")?;
        let (codes, reason) = match rest.strip_prefix(b"[") {
            Some(inner) => match memchr::memchr(b']', inner) {
                Some(close) => {
                    let codes = inner[..close]
                        .split(|&b| b == b',' || b.is_ascii_whitespace())
                        .filter(|code| !code.is_empty())
                        .map(|code| String::from_utf8_lossy(code).into_owned())
                        .collect();
                    (codes, &inner[close + 1..])
                }
                None => (Vec::new(), inner),
            },
            None => (Vec::new(), rest),
        };
        let reason = String::from_utf8_lossy(reason.trim_ascii()).into_owned();
        Some(Suppression {
            span: Span::new(offset + at, offset + comment.len()),
            codes,
            reason: (!reason.is_empty()).then_some(reason),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// The offset where the line holding `offset` starts (after `\n`, `\r\n` or a lone `\r`).
pub fn line_start(text: &[u8], offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[..offset]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |at| at + 1)
}

/// The offset of the line ending after `offset` (the text's end when there is none).
pub fn line_end(text: &[u8], offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[offset..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(text.len(), |at| offset + at)
}

/// Byte offset to (line, column) conversion; lines and columns are 1-based, columns count
/// characters. `\n`, `\r\n` and a lone `\r` each end a line, as in CPython.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &[u8]) -> LineIndex {
        let mut line_starts = vec![0u32];
        let mut i = 0;
        while let Some(offset) = memchr::memchr2(b'\n', b'\r', &text[i..]) {
            let at = i + offset;
            let next = if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            line_starts.push(next as u32);
            i = next;
        }
        LineIndex { line_starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: u32) -> u32 {
        self.line_starts.partition_point(|&start| start <= offset) as u32
    }

    /// 1-based (line, column); the column counts UTF-8 characters from the line start.
    pub fn line_column(&self, text: &[u8], offset: u32) -> (u32, u32) {
        let line = self.line(offset);
        let start = self.line_starts[line as usize - 1] as usize;
        let end = (offset as usize).min(text.len());
        let column = text[start..end]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        (line, column as u32 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Facts from an untrusted cache are used only when every span lies inside the file and
    /// every index points at a fact.
    #[test]
    fn facts_fit_only_a_file_that_holds_their_spans() {
        let text = b"import os\nclass A:\n    def f(self): os.path(1)\n";
        let facts = crate::python::collect(text);
        assert!(facts.fits(text.len() as u64));
        assert!(
            !facts.fits(20),
            "the class and its method lie beyond byte 20"
        );
        let mut broken = facts.clone();
        broken.definitions[1].parent = Some(99);
        assert!(!broken.fits(text.len() as u64));
        let mut reversed = facts;
        reversed.imports[0].span = Span { start: 5, end: 2 };
        assert!(!reversed.fits(text.len() as u64));
        // Import statements overlapping, out of order, or a name outside its statement: the
        // editors slice between statements (a fuzzed cache entry panicked one).
        let text = b"from a import b\nfrom c import d\n";
        let facts = crate::python::collect(text);
        assert!(facts.fits(text.len() as u64));
        let mut overlapping = facts.clone();
        overlapping.imports[0].span = Span::new(0, 20);
        assert!(!overlapping.fits(text.len() as u64));
        let mut swapped = facts.clone();
        swapped.imports.swap(0, 1);
        assert!(!swapped.fits(text.len() as u64));
        let mut astray = facts;
        astray.imports[1].names[0].span = Span::new(0, 1);
        assert!(!astray.fits(text.len() as u64));
        // A parent after its child could close a cycle (the cache fuzzer hung SSOT010 on
        // one walking up the enclosing functions).
        let text = b"def f():\n    def g():\n        pass\n";
        let facts = crate::python::collect(text);
        assert!(facts.fits(text.len() as u64));
        let mut cycle = facts;
        cycle.definitions[0].parent = Some(1);
        assert!(!cycle.fits(text.len() as u64));
        // A return annotation is a span too (SSOT010 reads it).
        let text = b"def f() -> int:\n    return 1\n";
        let mut facts = crate::python::collect(text);
        assert!(facts.fits(text.len() as u64));
        let DefKind::Function { returns, .. } = &mut facts.definitions[0].kind else {
            panic!("a function");
        };
        assert!(matches!(returns, Returns::Annotation(_)));
        *returns = Returns::Annotation(Span::new(11, 400));
        assert!(!facts.fits(text.len() as u64));
    }

    #[test]
    fn lines_end_at_lf_crlf_and_cr() {
        let text = b"a\nb\r\nc\rd";
        let index = LineIndex::new(text);
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(2), 2);
        assert_eq!(index.line(5), 3);
        assert_eq!(index.line_column(text, 7), (4, 1));
        let text = "é = 1".as_bytes();
        assert_eq!(LineIndex::new(text).line_column(text, 3), (1, 3));
    }
}
