//! The Rust fact collector: `syn` over `proc-macro2` tokens with span locations (byte
//! offsets), into the same [`FileFacts`] as Python. Most files never reach syn: the fast
//! path (`fast.rs`) reads them straight from their bytes into the same [`Collector`], and
//! gives a file back to syn wherever it is unsure; what follows is what both produce.
//!
//! How Rust maps to the fact model:
//!
//! - A `use` item gives one [`Import`] (kind `From`) per distinct prefix of its leaves, in
//!   the order of their first leaf; all share the item's `span` (visibility to `;`, attributes
//!   excluded), which is how a fix tells the imports of one item apart from the next.
//!   `use crate::m::{a, b::{C as D, self}, *}` gives `crate::m` with `a` and `*`, then
//!   `crate::m::b` with `C as D` and `self`. `module` is the prefix as written, joined with
//!   `::` (`crate::`, `self::`, `$crate::` kept; a leading `::` kept, so `use ::std;` has
//!   `module == "::"`); leading `super::` segments are counted in `level`, as Python's dots,
//!   and left out of `module`. `module_span` runs from the start of the path to the end of
//!   the prefix's last segment (so it crosses braces for a leaf inside a group). Each leaf
//!   has its own span (name to alias), so a fix can cut one leaf out of a group. A leaf is an
//!   identifier (`self` included), or `*` for a glob; `as _` gives alias `_`.
//! - `extern crate x as y;` is an import of kind `Module`: name `x`, alias `y`.
//! - `pub use` and every other visibility go to `FileFacts::import_visibility`.
//! - `mod x;` and `mod x { ... }` go to `FileFacts::modules` with their `#[path]`s; the items
//!   of an inline module are collected with scope `Module`, and belong to the innermost
//!   module whose `body` holds them.
//! - struct, enum, union, trait, trait alias and a type alias with generics or generic
//!   arguments (`type R<T> = Result<T, E>`) are `Class` definitions: bases are a trait's
//!   supertraits as written (whitespace collapsed); `methods` are a trait's functions, or
//!   the functions of the inherent `impl` blocks of the file for that type (same namespace,
//!   `Foo`, `self::Foo` or `super::Foo`). A plain `type Alias = a::B;` is an `Alias`.
//! - Free, associated, trait and extern functions are `Function`s. A function of an `impl`
//!   block (inherent or not) has scope `Class` and, when the type is defined in the file,
//!   the type as `parent`; only inherent ones are in its `methods`. Definitions are in
//!   preorder (each type followed by its functions, then source order), so an `impl` above
//!   its type still lists its functions after the type.
//! - `const`, `static` and `macro_rules!` at module level are `Variable`s
//!   (`#[macro_export]` makes a macro public). A macro's span is `macro_rules! name`, ending
//!   at its name; a `const`'s or `static`'s runs to its `;` (the resolver tells them apart
//!   by that).
//! - Paths written in strings are `StringRef`s: `key = "a::b::C"` anywhere in an attribute
//!   (`#[serde(remote = "crate::a::B")]`, inside `cfg_attr` too; `#[path]` is a file, not a
//!   path) is `Attribute`; an intra-doc link target with `::` in a doc comment (`` [`a::B`] ``,
//!   `[text](a::B)`, `[text][a::B]`, `[b]: a::B`, a disambiguator or `()`/`!` stripped) is
//!   `DocLink`, its span the path's bytes in the comment.
//! - `#[cfg(...)]` or `#[test]` on an item (or `#![cfg]` on the file or a module) makes it and everything
//!   inside conditional; so do items read out of a macro call's body.
//! - Items inside macro calls (`cfg_feature! { mod handle; pub use handle::Handle; }`): a
//!   body that names an item keyword is parsed as a sequence of items; in a function, as
//!   statements (`log! { use core::mem::size_of; ... }`); failing both, each top-level
//!   `{ ... }` of it is tried (the branches of `cfg_if! { if #[cfg(..)] { .. } else { .. } }`).
//!   `macro_rules!`, `quote!` and `parse_quote!` bodies are templates, never read.
//!
//! Collecting never fails. A file syn rejects is scanned item by item at the token level
//! (an item is read up to a `;` or a `{ ... }`, extended while it does not parse): it loses
//! only the items that do not parse, and the `use` and `mod` items inside those are still
//! found. Where the lexer fails, the unclosed delimiter, the stray closer or the rest of the
//! line of an unterminated literal is blanked and the file lexed again; when even that fails,
//! or the file is nested too deeply for any stack, each line is tried on its own for `use`,
//! `mod` and `extern crate`. A file nested deeper than the caller's stack allows (6% of the
//! registry's files, the big ones) is parsed on a thread with a big stack.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::sync::mpsc;

use proc_macro2::{Delimiter, Ident, Punct, Spacing, TokenStream, TokenTree};
use rustc_hash::FxHashMap;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Attribute, Block, Expr, ExprLit, FnModifiers, ForeignItem, ImplItem, Item, ItemConst, ItemEnum,
    ItemExternCrate, ItemFn, ItemForeignMod, ItemImpl, ItemMacro, ItemMod, ItemStatic, ItemStruct,
    ItemTrait, ItemTraitAlias, ItemType, ItemUnion, ItemUse, Lit, LitStr, Macro, MacroDelimiter,
    Meta, PathArguments, Safety, Signature, StmtMacro, TraitItem, Type, TypeParamBound, UseTree,
};
use unicode_normalization::UnicodeNormalization;

mod fast;

use super::{lexical, prepare};
use crate::facts::{
    Context, DefKind, Definition, FileFacts, Guard, Import, ImportKind, ImportedName, ModuleDecl,
    Returns, Scope, Span, StringRef, StringRefKind, SyntaxError, Visibility, line_end,
};

/// The largest [`lexical::nesting_cost`] parsed on the caller's thread, which may have the
/// 2 MiB default stack: a third of what overflows it.
const SMALL_STACK_COST: u32 = if cfg!(debug_assertions) { 12 } else { 128 };
/// The largest cost parsed at all, on a thread with [`BIG_STACK`]; beyond it a file is read
/// line by line.
const BIG_STACK_COST: u32 = if cfg!(debug_assertions) {
    1_500
} else {
    16_000
};
/// Address space only: pages are touched as the parser recurses.
const BIG_STACK: usize = 256 << 20;
/// How many times the token-level scan extends a candidate item that does not parse.
const SCAN_EXTENSIONS: usize = 8;
/// How deep `macro_groups` looks for item groups inside a macro body that is not items.
const MACRO_GROUP_DEPTH: usize = 4;

/// Collects the facts of one Rust file.
///
/// ```
/// let facts = ssot_gardener::rust::collect(b"pub use crate::a::{B as C, d::E};\n");
/// assert_eq!(facts.imports.len(), 2);
/// assert_eq!(facts.imports[0].module, "crate::a");
/// assert_eq!(facts.imports[0].names[0].alias.as_deref(), Some("C"));
/// assert_eq!(facts.imports[1].module, "crate::a::d");
/// ```
pub fn collect(text: &[u8]) -> FileFacts {
    if let Ok(text) = std::str::from_utf8(text)
        && let Ok(mut facts) = fast::read(text)
    {
        facts.suppressions = lexical::suppressions(text.as_bytes());
        return facts;
    }
    collect_with(text, true)
}

/// [`collect`] by the syn path alone, never the fast one: the reference the fast path is
/// tested against.
#[doc(hidden)]
pub fn collect_slow(text: &[u8]) -> FileFacts {
    collect_with(text, true)
}

/// Whether [`collect`] reads `text` by the fast path.
#[doc(hidden)]
pub fn reads_fast(text: &[u8]) -> bool {
    fast_bail(text).is_none()
}

/// Where in the fast path's source it gave up on `text` (`Some(0)`: not UTF-8).
#[doc(hidden)]
pub fn fast_bail(text: &[u8]) -> Option<u32> {
    match std::str::from_utf8(text) {
        Ok(text) => fast::read(text).err().map(|bail| bail.line),
        Err(_) => Some(0),
    }
}

/// [`collect`] without blanking the blocks it never reads first: the reference the skim is
/// tested against.
#[doc(hidden)]
pub fn collect_unskimmed(text: &[u8]) -> FileFacts {
    collect_with(text, false)
}

fn collect_with(text: &[u8], skim: bool) -> FileFacts {
    let mut errors = Vec::new();
    let source = prepare::sanitize(text, &mut errors);
    // The doc links of the doc comments the skim cuts, read before it does.
    let mut links: Vec<(Span, String)> = Vec::new();
    let mut cut = None;
    if skim {
        let skim = lexical::skim(source.as_bytes());
        for doc in &skim.docs {
            for (from, to) in doc_links(&source.as_bytes()[doc.clone()]) {
                let span = Span::new(doc.start + from, doc.start + to);
                links.push((span, source[span.range()].to_string()));
            }
        }
        cut = prepare::Cut::new(&source, &skim);
    }
    let (read, cut) = match &cut {
        Some((text, cut)) => (text.as_str(), Some(cut)),
        None => (&*source, None),
    };
    let cost = lexical::nesting_cost(read.as_bytes());
    let mut facts = if cost <= SMALL_STACK_COST {
        guarded(|| analyze(read, true, cut, &links))
    } else if cost <= BIG_STACK_COST {
        // Deeply nested code (big generated tables, long operator chains) is parsed on a
        // thread with a big stack rather than risk the caller's.
        let job = {
            let (read, cut, links) = (read.to_string(), cut.cloned(), links.clone());
            Box::new(move || analyze(&read, true, cut.as_ref(), &links))
        };
        on_big_stack(job).unwrap_or_else(|| guarded(|| analyze(read, false, cut, &links)))
    } else {
        guarded(|| analyze(read, false, cut, &links))
    };
    facts.suppressions = lexical::suppressions(text);
    errors.append(&mut facts.errors);
    errors.sort_by_key(|error| error.span);
    facts.errors = errors;
    facts
}

/// Work for the thread of [`on_big_stack`].
type Job = Box<dyn FnOnce() -> FileFacts + Send>;

/// A job and where its facts go.
type Request = (Job, mpsc::SyncSender<FileFacts>);

thread_local! {
    /// This thread's helper with a [`BIG_STACK`]: kept while the thread lives, so the stack
    /// pages a deep file touched are there for the next one (a fresh thread per file faulted
    /// them in again, a tenth of a workspace's collection).
    static BIG_STACK_THREAD: std::cell::RefCell<Option<mpsc::Sender<Request>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `job` (guarded) on this thread's helper with a big stack, started on first use and
/// stopped when this thread ends. `None` when no thread could be started or it died.
fn on_big_stack(job: Job) -> Option<FileFacts> {
    BIG_STACK_THREAD.with(|helper| {
        let mut helper = helper.borrow_mut();
        if helper.is_none() {
            let (jobs, queue) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name("rust-collect".to_string())
                .stack_size(BIG_STACK)
                .spawn(move || {
                    for (job, reply) in queue {
                        let _ = reply.send(guarded(job));
                    }
                })
                .ok()?;
            *helper = Some(jobs);
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let facts = helper
            .as_ref()
            .and_then(|jobs| jobs.send((job, reply)).ok())
            .and_then(|()| answer.recv().ok());
        if facts.is_none() {
            *helper = None;
        }
        facts
    })
}

/// Runs the parser; should syn or proc-macro2 ever panic, the file gets an error instead.
fn guarded(run: impl FnOnce() -> FileFacts) -> FileFacts {
    std::panic::catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        proc_macro2::extra::invalidate_current_thread_spans();
        FileFacts {
            errors: vec![SyntaxError {
                span: Span::default(),
                message: "internal error: the Rust parser panicked on this file".to_string(),
            }],
            ..FileFacts::default()
        }
    })
}

/// Lexes and parses `source` (`whole`), or reads it line by line when it is nested too deeply
/// to parse whole. `source` is the file, or the text `cut` maps back to it; `links` (in the
/// file's offsets) join the string references of a file that parsed.
fn analyze(
    source: &str,
    whole: bool,
    cut: Option<&prepare::Cut>,
    links: &[(Span, String)],
) -> FileFacts {
    let mut errors = Vec::new();
    let mut source = Cow::Borrowed(source);
    let tokens = if whole {
        prepare::lex(&mut source, &mut errors)
    } else {
        errors.push(SyntaxError {
            span: Span::new(0, 0),
            message: "nested too deeply to parse: only `use`, `mod` and `extern crate` lines \
                      are read"
                .to_string(),
        });
        None
    };
    let mut collector = Collector::new(&source);
    let mut parsed = false;
    // Parsing a shared token stream would copy every token first: the stream is given
    // away, and lexed again in the rare case syn rejects the file.
    match tokens.map(syn::parse2::<syn::File>) {
        Some(Ok(file)) => {
            collector.visit_file(&file);
            let mut strings = StringPaths {
                collector: &collector,
                out: Vec::new(),
            };
            strings.visit_file(&file);
            collector.facts.string_refs = strings.out;
            parsed = true;
        }
        Some(Err(error)) => match TokenStream::from_str(&source) {
            Ok(tokens) => collector.rejected(tokens, &error),
            Err(_) => collector.lines(),
        },
        None => collector.lines(),
    }
    let mut facts = collector.finish(errors);
    proc_macro2::extra::invalidate_current_thread_spans();
    if let Some(cut) = cut {
        facts.map_spans(|span| cut.span(span));
    }
    if parsed {
        facts
            .string_refs
            .extend(links.iter().map(|(span, value)| StringRef {
                kind: StringRefKind::DocLink,
                value: value.clone(),
                span: *span,
                context: module_context(),
            }));
        facts.string_refs.sort_by_key(|string| string.span);
    }
    facts
}

/// Where the visitor is.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    scope: Scope,
    conditional: bool,
    /// The innermost enclosing function or type (index into `definitions`).
    parent: Option<u32>,
    /// The innermost inline module (index into `modules`).
    module: Option<u32>,
    /// Where a type name is looked up (index into `namespaces`).
    namespace: u32,
}

/// The items one module or one function body declares, for matching `impl Foo` to `Foo`.
#[derive(Clone, Copy, Debug)]
struct Namespace {
    /// A function body sees the items around it.
    outer: Option<u32>,
    /// A module's parent module, for `impl super::Foo`.
    parent_module: Option<u32>,
}

/// An `impl` block whose type is matched to a definition when the whole file is read.
#[derive(Debug)]
struct PendingImpl {
    namespace: u32,
    /// `super::` segments before the name.
    supers: u32,
    name: String,
    inherent: bool,
    functions: Vec<u32>,
}

struct Collector<'a> {
    text: &'a str,
    /// Where the lines of `text` start, for span offsets; `None` while lines are read one
    /// by one (each lexed on its own, its spans relative to `base`).
    lines: Option<Lines>,
    /// Added to every span: the start of the line being read on its own.
    base: usize,
    facts: FileFacts,
    ctx: Ctx,
    namespaces: Vec<Namespace>,
    types: FxHashMap<(u32, String), Vec<u32>>,
    impls: Vec<PendingImpl>,
}

impl<'a> Collector<'a> {
    fn new(text: &'a str) -> Collector<'a> {
        Collector {
            lines: Some(Lines::new(text)),
            ..Collector::bare(text)
        }
    }

    /// A collector that is given byte offsets, never proc-macro2 spans (the fast path).
    fn bare(text: &'a str) -> Collector<'a> {
        Collector {
            text,
            lines: None,
            base: 0,
            facts: FileFacts::default(),
            ctx: Ctx {
                scope: Scope::Module,
                conditional: false,
                parent: None,
                module: None,
                namespace: 0,
            },
            namespaces: vec![Namespace {
                outer: None,
                parent_module: None,
            }],
            types: FxHashMap::default(),
            impls: Vec::new(),
        }
    }

    // ---- spans ----

    /// Byte offsets of a token's span in the file.
    fn offsets(&self, span: proc_macro2::Span) -> (usize, usize) {
        let len = self.text.len();
        match &self.lines {
            Some(lines) => (
                lines.offset(self.text, span.start()),
                lines.offset(self.text, span.end()),
            ),
            None => {
                let range = span.byte_range();
                (
                    (self.base + range.start).min(len),
                    (self.base + range.end).min(len),
                )
            }
        }
    }

    fn span(&self, span: proc_macro2::Span) -> Span {
        let (start, end) = self.offsets(span);
        Span::new(start, end)
    }

    fn start(&self, span: proc_macro2::Span) -> usize {
        self.offsets(span).0
    }

    fn end(&self, span: proc_macro2::Span) -> usize {
        self.offsets(span).1
    }

    /// From `start` to `end` with trailing whitespace trimmed: a header before its `{`.
    fn header(&self, start: proc_macro2::Span, end: usize) -> Span {
        let start = self.start(start);
        let bytes = self.text.as_bytes();
        let mut end = end.max(start);
        while end > start && bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        Span::new(start, end)
    }

    /// The visibility's `pub`, or `first`: where an item starts once its attributes are left
    /// out.
    fn item_start(vis: &syn::Visibility, first: proc_macro2::Span) -> proc_macro2::Span {
        match vis {
            syn::Visibility::Public(token) => token.span,
            syn::Visibility::Restricted(restricted) => restricted.pub_token.span,
            syn::Visibility::Inherited => first,
        }
    }

    // ---- context ----

    fn conditional(&self, attrs: &[Attribute]) -> bool {
        // `#[test]` compiles the function only under `cfg(test)`.
        self.ctx.conditional
            || attrs
                .iter()
                .any(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("test"))
    }

    fn context(&self, conditional: bool) -> Context {
        Context {
            scope: self.ctx.scope,
            guard: Guard::None,
            type_checking: false,
            conditional,
        }
    }

    fn new_namespace(&mut self, outer: Option<u32>, parent_module: Option<u32>) -> u32 {
        self.namespaces.push(Namespace {
            outer,
            parent_module,
        });
        (self.namespaces.len() - 1) as u32
    }

    /// The namespace of the module that holds namespace `namespace`.
    fn module_namespace(&self, mut namespace: u32) -> u32 {
        while let Some(outer) = self.namespaces[namespace as usize].outer {
            namespace = outer;
        }
        namespace
    }

    /// Visits a function body: scope `Function`, the function as parent, a namespace of its
    /// own.
    fn in_function(&mut self, index: u32, conditional: bool, visit: impl FnOnce(&mut Self)) {
        let saved = self.ctx;
        self.ctx.scope = Scope::Function;
        self.ctx.parent = Some(index);
        self.ctx.conditional = conditional;
        self.ctx.namespace = self.new_namespace(Some(saved.namespace), None);
        visit(self);
        self.ctx = saved;
    }

    // ---- facts ----

    fn define(
        &mut self,
        name: &Ident,
        span: Span,
        kind: DefKind,
        conditional: bool,
        visibility: Visibility,
    ) -> u32 {
        let name_span = self.span(name.span());
        self.record(
            ident_text(name),
            name_span,
            span,
            kind,
            conditional,
            visibility,
        )
    }

    /// A definition named `name` at `name_span`, in the current context.
    fn record(
        &mut self,
        name: String,
        name_span: Span,
        span: Span,
        kind: DefKind,
        conditional: bool,
        visibility: Visibility,
    ) -> u32 {
        let index = self.facts.definitions.len() as u32;
        self.facts.definitions.push(Definition {
            name,
            name_span,
            span,
            kind,
            context: self.context(conditional),
            parent: self.ctx.parent,
        });
        self.facts.definition_visibility.push(visibility);
        index
    }

    /// A struct, enum, union, trait or generic type alias, registered for `impl` matching.
    fn type_definition(
        &mut self,
        name: &Ident,
        span: Span,
        bases: Vec<String>,
        methods: Vec<String>,
        attrs: &[Attribute],
        vis: &syn::Visibility,
    ) -> u32 {
        let conditional = self.conditional(attrs);
        let name_span = self.span(name.span());
        let kind = DefKind::Class { bases, methods };
        self.record_type(
            ident_text(name),
            name_span,
            span,
            kind,
            conditional,
            visibility(vis),
        )
    }

    /// [`Collector::record`] for a type, registered for `impl` matching.
    fn record_type(
        &mut self,
        name: String,
        name_span: Span,
        span: Span,
        kind: DefKind,
        conditional: bool,
        visibility: Visibility,
    ) -> u32 {
        let key = (self.ctx.namespace, name.clone());
        let index = self.record(name, name_span, span, kind, conditional, visibility);
        self.types.entry(key).or_default().push(index);
        index
    }

    fn variable(&mut self, name: &Ident, span: Span, attrs: &[Attribute], vis: Visibility) {
        if self.ctx.scope == Scope::Module && name != "_" {
            let conditional = self.conditional(attrs);
            self.define(name, span, DefKind::Variable, conditional, vis);
        }
    }

    fn syntax_error(&mut self, error: &syn::Error) {
        let span = self.span(error.span());
        self.facts.errors.push(SyntaxError {
            span,
            message: error.to_string(),
        });
    }

    fn use_item(&mut self, item: &ItemUse) {
        let conditional = self.conditional(&item.attrs);
        let first = Self::item_start(&item.vis, item.use_token.span);
        let span = Span::new(self.start(first), self.end(item.semi_token.span));
        let leading = item
            .leading_colon
            .as_ref()
            .map(|colons| Span::new(self.start(colons.spans[0]), self.end(colons.spans[1])));
        let tree_start = match leading {
            Some(colons) => colons.start as usize,
            None => self.tree_start(&item.tree),
        };
        let mut leaves = Vec::new();
        self.leaves(&item.tree, &mut Vec::new(), &mut leaves);
        let leaves = leaves.into_iter().map(|(prefix, name)| {
            let end = prefix.last().map(|last| self.end(last.span()));
            (
                prefix.iter().map(|&segment| ident_text(segment)).collect(),
                end,
                name,
            )
        });
        let leading = leading.map(|colons| colons.end as usize);
        let context = self.context(conditional);
        let imports = use_imports(leaves, leading, tree_start, span, context);
        let visibility = visibility(&item.vis);
        for import in imports {
            self.facts.imports.push(import);
            self.facts.import_visibility.push(visibility.clone());
        }
    }

    fn tree_start(&self, tree: &UseTree) -> usize {
        match tree {
            UseTree::Path(path) => self.start(path.ident.span()),
            UseTree::Name(name) => self.start(name.ident.span()),
            UseTree::Rename(rename) => self.start(rename.ident.span()),
            UseTree::Glob(glob) => self.start(glob.star_token.span),
            UseTree::Group(group) => self.start(group.brace_token.span.open()),
        }
    }

    /// Every leaf of a use tree with the path segments before it.
    fn leaves<'t>(
        &self,
        tree: &'t UseTree,
        prefix: &mut Vec<&'t Ident>,
        out: &mut Vec<(Vec<&'t Ident>, ImportedName)>,
    ) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(&path.ident);
                self.leaves(&path.tree, prefix, out);
                prefix.pop();
            }
            UseTree::Name(name) => out.push((
                prefix.clone(),
                ImportedName {
                    name: ident_text(&name.ident),
                    alias: None,
                    span: self.span(name.ident.span()),
                },
            )),
            UseTree::Rename(rename) => out.push((
                prefix.clone(),
                ImportedName {
                    name: ident_text(&rename.ident),
                    alias: Some(ident_text(&rename.rename)),
                    span: Span::new(
                        self.start(rename.ident.span()),
                        self.end(rename.rename.span()),
                    ),
                },
            )),
            UseTree::Glob(glob) => out.push((
                prefix.clone(),
                ImportedName {
                    name: "*".to_string(),
                    alias: None,
                    span: self.span(glob.star_token.span),
                },
            )),
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.leaves(tree, prefix, out);
                }
            }
        }
    }

    fn extern_crate(&mut self, item: &ItemExternCrate) {
        let conditional = self.conditional(&item.attrs);
        let first = Self::item_start(&item.vis, item.extern_token.span);
        let name_end = match &item.rename {
            Some((_, rename)) => self.end(rename.span()),
            None => self.end(item.ident.span()),
        };
        self.facts.imports.push(Import {
            kind: ImportKind::Module,
            span: Span::new(self.start(first), self.end(item.semi_token.span)),
            module: String::new(),
            module_span: Span::default(),
            level: 0,
            names: vec![ImportedName {
                name: ident_text(&item.ident),
                alias: item.rename.as_ref().map(|(_, rename)| ident_text(rename)),
                span: Span::new(self.start(item.ident.span()), name_end),
            }],
            context: self.context(conditional),
        });
        self.facts.import_visibility.push(visibility(&item.vis));
    }

    /// Records `mod name;` or the header of `mod name { ... }` (`body`: its braces).
    fn module_decl(&mut self, item: &ItemMod, body: Option<Span>) -> u32 {
        let conditional = self.conditional(&item.attrs);
        let keyword = item
            .unsafety
            .as_ref()
            .map_or(item.mod_token.span, |token| token.span);
        let start = self.start(Self::item_start(&item.vis, keyword));
        let end = match (body, &item.semi) {
            (Some(body), _) => body.end as usize,
            (None, Some(semi)) => self.end(semi.span),
            (None, None) => self.end(item.ident.span()),
        };
        self.facts.modules.push(ModuleDecl {
            name: ident_text(&item.ident),
            name_span: self.span(item.ident.span()),
            span: Span::new(start, end),
            body,
            paths: path_attributes(&item.attrs),
            visibility: visibility(&item.vis),
            context: self.context(conditional),
            parent: self.ctx.module,
        });
        (self.facts.modules.len() - 1) as u32
    }

    /// Enters the body of inline module `index`.
    fn in_module(&mut self, index: u32, attrs: &[Attribute], visit: impl FnOnce(&mut Self)) {
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(attrs);
        self.ctx.scope = Scope::Module;
        self.ctx.module = Some(index);
        let parent_module = self.module_namespace(saved.namespace);
        self.ctx.namespace = self.new_namespace(None, Some(parent_module));
        visit(self);
        self.ctx = saved;
    }

    fn function_header(
        &self,
        vis: &syn::Visibility,
        modifiers: &FnModifiers,
        sig: &Signature,
        end: usize,
    ) -> Span {
        let first = modifiers
            .defaultness
            .as_ref()
            .map(|token| token.span)
            .or(sig.constness.as_ref().map(|token| token.span))
            .or(sig.asyncness.as_ref().map(|token| token.span))
            .or(match &sig.safety {
                Safety::Unsafe(token) => Some(token.span),
                Safety::Safe(token) => Some(token.span),
                _ => None,
            })
            .or(sig.abi.as_ref().map(|abi| abi.extern_token.span))
            .unwrap_or(sig.fn_token.span);
        self.header(Self::item_start(vis, first), end)
    }

    /// `Trait + Send + 'static` as written, lifetimes left out.
    fn bounds<'t>(&self, bounds: impl IntoIterator<Item = &'t TypeParamBound>) -> Vec<String> {
        bounds
            .into_iter()
            .filter_map(|bound| match bound {
                TypeParamBound::Trait(bound) => {
                    let (start, end) = self.offsets(bound.span());
                    Some(compact(&self.text[start..end.max(start)]))
                }
                _ => None,
            })
            .collect()
    }

    /// The items of a macro call's body, when it is a sequence of items (or its top-level
    /// `{ ... }` groups are).
    fn macro_items(&mut self, mac: &Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        if mac.tokens.is_empty() || lexical::TEMPLATES.iter().any(|name| last.ident == name) {
            return;
        }
        // `println!`, `assert_eq!`, `write!`: most bodies name no item keyword and are not
        // parsed at all (a parse attempt copies every token of the body first).
        let delimiters = match &mac.delimiter {
            MacroDelimiter::Paren(paren) => paren.span,
            MacroDelimiter::Brace(brace) => brace.span,
            MacroDelimiter::Bracket(bracket) => bracket.span,
        };
        let (start, end) = self.offsets(delimiters.join());
        if !mentions_items(&self.text.as_bytes()[start..end.max(start)]) {
            return;
        }
        let saved = self.ctx;
        self.ctx.conditional = true;
        match parse_items(mac.tokens.clone()) {
            Ok(items) => items.iter().for_each(|item| self.visit_item(item)),
            // In a function, a body of statements (`log! { use core::mem::size_of; ... }`)
            // holds items too.
            Err(_)
                if self.ctx.scope == Scope::Function
                    && let Ok(statements) = Block::parse_within.parse2(mac.tokens.clone()) =>
            {
                statements
                    .iter()
                    .for_each(|statement| self.visit_stmt(statement));
            }
            Err(_) => self.macro_groups(mac.tokens.clone(), MACRO_GROUP_DEPTH),
        }
        self.ctx = saved;
    }

    /// A macro body that is not a sequence of items: its `{ ... }` groups that are (or, in a
    /// function, are statements), at any depth up to `depth`
    /// (`cfg_sel!({ #[cfg(x)] { use a::B; } #[cfg(else)] { ... } })`, `cfg_if! { if #[cfg(x)]
    /// { use a::B; ... } }`).
    fn macro_groups(&mut self, tokens: TokenStream, depth: usize) {
        for tree in tokens {
            if let TokenTree::Group(group) = tree
                && group.delimiter() == Delimiter::Brace
            {
                if let Ok(items) = parse_items(group.stream()) {
                    items.iter().for_each(|item| self.visit_item(item));
                } else if self.ctx.scope == Scope::Function
                    && let Ok(statements) = Block::parse_within.parse2(group.stream())
                {
                    statements
                        .iter()
                        .for_each(|statement| self.visit_stmt(statement));
                } else if depth > 1 {
                    self.macro_groups(group.stream(), depth - 1);
                }
            }
        }
    }

    // ---- recovery ----

    /// A file syn rejects: each item is parsed on its own.
    fn rejected(&mut self, tokens: TokenStream, error: &syn::Error) {
        let before = self.facts.errors.len();
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        self.scan(&trees);
        if self.facts.errors.len() == before {
            // Every item parses alone: the error is between them.
            self.syntax_error(error);
        }
    }

    /// Items at one level of a token tree: a candidate runs to the first `;` or `{ ... }` and
    /// is extended to the next while it does not parse (`const X: S = S { a: 1 };`,
    /// `use a::{b, c};`). One that never parses is an error; the `{ ... }` groups inside it
    /// are scanned in turn.
    fn scan(&mut self, trees: &[TokenTree]) {
        let mut i = 0;
        while i < trees.len() {
            if is_punct(trees.get(i), '#')
                && is_punct(trees.get(i + 1), '!')
                && is_group(trees.get(i + 2), Delimiter::Bracket)
            {
                i += 3;
                continue;
            }
            let first_end = item_boundary(trees, i);
            let mut end = first_end;
            let mut first_error = None;
            let mut parsed = None;
            for _ in 0..SCAN_EXTENSIONS {
                match parse_items(trees[i..end].iter().cloned().collect()) {
                    Ok(items) => {
                        parsed = Some(items);
                        break;
                    }
                    Err(error) => {
                        first_error.get_or_insert(error);
                        if end == trees.len() {
                            break;
                        }
                        end = item_boundary(trees, end);
                    }
                }
            }
            match parsed {
                Some(items) => {
                    items.iter().for_each(|item| self.visit_item(item));
                    i = end;
                }
                None => {
                    // In a function body statements are not items: only the enclosing
                    // function's own error (already recorded) says what is wrong.
                    if let Some(error) = first_error
                        && self.ctx.scope != Scope::Function
                    {
                        self.syntax_error(&error);
                    }
                    self.salvage(&trees[i..first_end]);
                    i = first_end;
                }
            }
        }
    }

    /// An item that does not parse: a `mod name { ... }` header is still a module, and the
    /// `{ ... }` groups are scanned with the scope their keyword gives.
    fn salvage(&mut self, trees: &[TokenTree]) {
        let mut k = 0;
        while is_punct(trees.get(k), '#') && is_group(trees.get(k + 1), Delimiter::Bracket) {
            k += 2;
        }
        if is_ident(trees.get(k), "pub") {
            k += 1;
            if is_group(trees.get(k), Delimiter::Parenthesis) {
                k += 1;
            }
        }
        while [
            "unsafe", "async", "const", "default", "auto", "safe", "extern",
        ]
        .iter()
        .any(|word| is_ident(trees.get(k), word))
            || matches!(trees.get(k), Some(TokenTree::Literal(_)))
        {
            k += 1;
        }
        let saved = self.ctx;
        if is_ident(trees.get(k), "mod")
            && let Some(TokenTree::Ident(_)) = trees.get(k + 1)
            && let Some(TokenTree::Group(body)) = trees.get(k + 2)
            && body.delimiter() == Delimiter::Brace
        {
            let mut header: TokenStream = trees[..k + 2].iter().cloned().collect();
            header.extend([TokenTree::Punct(Punct::new(';', Spacing::Alone))]);
            if let Ok(item) = syn::parse2::<ItemMod>(header) {
                let index = self.module_decl(&item, Some(self.span(body.span())));
                let inner: Vec<TokenTree> = body.stream().into_iter().collect();
                self.in_module(index, &item.attrs, |this| this.scan(&inner));
                return;
            }
        }
        if is_ident(trees.get(k), "fn") {
            self.ctx.scope = Scope::Function;
            self.ctx.namespace = self.new_namespace(Some(saved.namespace), None);
        } else if is_ident(trees.get(k), "impl") || is_ident(trees.get(k), "trait") {
            self.ctx.scope = Scope::Class;
        } else if trees.iter().any(|tree| is_punct(Some(tree), '!')) {
            self.ctx.conditional = true;
        } else {
            self.ctx.scope = Scope::Function;
        }
        for tree in trees {
            if let TokenTree::Group(group) = tree
                && group.delimiter() == Delimiter::Brace
            {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                self.scan(&inner);
            }
        }
        self.ctx = saved;
    }

    /// The last resort, for a file the lexer cannot read or that is nested too deeply: each
    /// line is lexed on its own, and the `use`, `extern crate` and `mod` items found are
    /// kept (at module scope: the block structure is unknown).
    fn lines(&mut self) {
        self.lines = None;
        let text = self.text;
        let bytes = text.as_bytes();
        let mut start = 0;
        while start < text.len() {
            let end = line_end(bytes, start);
            let line = &text[start..end];
            if !line.trim().is_empty() && lexical::nesting_cost(line.as_bytes()) <= SMALL_STACK_COST
            {
                proc_macro2::extra::invalidate_current_thread_spans();
                if let Ok(tokens) = TokenStream::from_str(line)
                    && let Ok(items) = parse_items(tokens)
                {
                    self.base = start;
                    for item in &items {
                        if matches!(item, Item::Use(_) | Item::ExternCrate(_) | Item::Mod(_)) {
                            self.visit_item(item);
                        }
                    }
                    self.base = 0;
                }
            }
            start = end + 1;
            if bytes.get(end) == Some(&b'\r') && bytes.get(end + 1) == Some(&b'\n') {
                start += 1;
            }
        }
    }

    // ---- the end ----

    fn finish(mut self, mut errors: Vec<SyntaxError>) -> FileFacts {
        for pending in std::mem::take(&mut self.impls) {
            let Some(types) = self.lookup(&pending) else {
                continue;
            };
            let types = types.clone();
            let definitions = &mut self.facts.definitions;
            for &function in &pending.functions {
                definitions[function as usize].parent = Some(types[0]);
            }
            if pending.inherent {
                let names: Vec<String> = pending
                    .functions
                    .iter()
                    .map(|&function| definitions[function as usize].name.clone())
                    .collect();
                for &ty in &types {
                    if let DefKind::Class { methods, .. } = &mut definitions[ty as usize].kind {
                        methods.extend(names.iter().cloned());
                    }
                }
            }
        }
        self.preorder();
        errors.append(&mut self.facts.errors);
        errors.sort_by(|a, b| (a.span, &a.message).cmp(&(b.span, &b.message)));
        // An item that does not parse is tried again as part of its parent's scan.
        errors.dedup();
        self.facts.errors = errors;
        self.facts
    }

    /// The type definitions an `impl` names: in its namespace or an enclosing function's
    /// surroundings, or `super::` modules up.
    fn lookup(&self, pending: &PendingImpl) -> Option<&Vec<u32>> {
        if pending.supers > 0 {
            let mut namespace = self.module_namespace(pending.namespace);
            for _ in 0..pending.supers {
                namespace = self.namespaces[namespace as usize].parent_module?;
            }
            return self.types.get(&(namespace, pending.name.clone()));
        }
        let mut namespace = Some(pending.namespace);
        while let Some(current) = namespace {
            if let Some(found) = self.types.get(&(current, pending.name.clone())) {
                return Some(found);
            }
            namespace = self.namespaces[current as usize].outer;
        }
        None
    }

    /// Puts definitions in preorder of their `parent` tree, keeping source order among
    /// siblings: an `impl` block above its type otherwise leaves the type's functions before
    /// it.
    fn preorder(&mut self) {
        if self.is_preorder() {
            return;
        }
        let definitions = &self.facts.definitions;
        let count = definitions.len();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut roots = Vec::new();
        for (i, definition) in definitions.iter().enumerate() {
            match definition.parent {
                Some(parent) if (parent as usize) < count && parent as usize != i => {
                    children[parent as usize].push(i)
                }
                _ => roots.push(i),
            }
        }
        let mut order = Vec::with_capacity(count);
        let mut seen = vec![false; count];
        let mut stack: Vec<usize> = roots.into_iter().rev().collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            order.push(i);
            stack.extend(children[i].iter().rev());
        }
        // A cycle (never built, but cheap to survive): the rest in source order.
        order.extend((0..count).filter(|&i| !seen[i]));
        if order.iter().enumerate().all(|(new, &old)| new == old) {
            return;
        }
        let mut new_index = vec![0u32; count];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        let mut definitions: Vec<Option<Definition>> = std::mem::take(&mut self.facts.definitions)
            .into_iter()
            .map(Some)
            .collect();
        let mut visibility: Vec<Option<Visibility>> =
            std::mem::take(&mut self.facts.definition_visibility)
                .into_iter()
                .map(Some)
                .collect();
        for &old in &order {
            if let Some(mut definition) = definitions[old].take() {
                definition.parent = definition.parent.map(|p| new_index[p as usize]);
                self.facts.definitions.push(definition);
            }
            if let Some(vis) = visibility.get_mut(old).and_then(Option::take) {
                self.facts.definition_visibility.push(vis);
            }
        }
    }

    /// Each definition's parent is the previous definition or one of its ancestors (or it has
    /// none): the common case, checked in one pass.
    fn is_preorder(&self) -> bool {
        let definitions = &self.facts.definitions;
        let mut ancestors: Vec<u32> = Vec::new();
        for (i, definition) in definitions.iter().enumerate() {
            match definition.parent {
                None => ancestors.clear(),
                Some(parent) => {
                    while ancestors.last().is_some_and(|&a| a != parent) {
                        ancestors.pop();
                    }
                    if ancestors.is_empty() {
                        return false;
                    }
                }
            }
            ancestors.push(i as u32);
        }
        true
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_file(&mut self, file: &'ast syn::File) {
        self.ctx.conditional = self.conditional(&file.attrs);
        file.items.iter().for_each(|item| self.visit_item(item));
    }

    fn visit_item_use(&mut self, item: &'ast ItemUse) {
        self.use_item(item);
    }

    fn visit_item_extern_crate(&mut self, item: &'ast ItemExternCrate) {
        self.extern_crate(item);
    }

    fn visit_item_mod(&mut self, item: &'ast ItemMod) {
        let body = item
            .content
            .as_ref()
            .map(|(brace, _)| self.span(brace.span.join()));
        let index = self.module_decl(item, body);
        if let Some((_, items)) = &item.content {
            self.in_module(index, &item.attrs, |this| {
                items.iter().for_each(|item| this.visit_item(item))
            });
        }
    }

    fn visit_item_struct(&mut self, item: &'ast ItemStruct) {
        let end = match &item.fields {
            syn::Fields::Named(fields) => self.start(fields.brace_token.span.open()),
            _ => item
                .semi_token
                .as_ref()
                .map_or(self.end(item.ident.span()), |semi| self.end(semi.span)),
        };
        let span = self.header(Self::item_start(&item.vis, item.struct_token.span), end);
        self.type_definition(
            &item.ident,
            span,
            Vec::new(),
            Vec::new(),
            &item.attrs,
            &item.vis,
        );
    }

    fn visit_item_enum(&mut self, item: &'ast ItemEnum) {
        let end = self.start(item.brace_token.span.open());
        let span = self.header(Self::item_start(&item.vis, item.enum_token.span), end);
        self.type_definition(
            &item.ident,
            span,
            Vec::new(),
            Vec::new(),
            &item.attrs,
            &item.vis,
        );
    }

    fn visit_item_union(&mut self, item: &'ast ItemUnion) {
        let end = self.start(item.fields.brace_token.span.open());
        let span = self.header(Self::item_start(&item.vis, item.union_token.span), end);
        self.type_definition(
            &item.ident,
            span,
            Vec::new(),
            Vec::new(),
            &item.attrs,
            &item.vis,
        );
    }

    fn visit_item_type(&mut self, item: &'ast ItemType) {
        let end = self.end(item.semi_token.span);
        let span = self.header(Self::item_start(&item.vis, item.type_token.span), end);
        match plain_path(&item.ty) {
            Some(target) if item.generics.params.is_empty() => {
                let conditional = self.conditional(&item.attrs);
                let kind = DefKind::Alias { target };
                self.define(&item.ident, span, kind, conditional, visibility(&item.vis));
            }
            _ => {
                self.type_definition(
                    &item.ident,
                    span,
                    Vec::new(),
                    Vec::new(),
                    &item.attrs,
                    &item.vis,
                );
            }
        }
    }

    fn visit_item_trait_alias(&mut self, item: &'ast ItemTraitAlias) {
        let end = self.end(item.semi_token.span);
        let span = self.header(Self::item_start(&item.vis, item.trait_token.span), end);
        let bases = self.bounds(&item.bounds);
        let conditional = self.conditional(&item.attrs);
        let kind = DefKind::Class {
            bases,
            methods: Vec::new(),
        };
        self.define(&item.ident, span, kind, conditional, visibility(&item.vis));
    }

    fn visit_item_trait(&mut self, item: &'ast ItemTrait) {
        let keyword = item
            .unsafety
            .as_ref()
            .map(|token| token.span)
            .or(item.modifiers.auto_token.as_ref().map(|token| token.span))
            .unwrap_or(item.trait_token.span);
        let end = self.start(item.brace_token.span.open());
        let span = self.header(Self::item_start(&item.vis, keyword), end);
        let bases = self.bounds(&item.supertraits);
        let methods = item
            .items
            .iter()
            .filter_map(|item| match item {
                TraitItem::Fn(function) => Some(ident_text(&function.sig.ident)),
                _ => None,
            })
            .collect();
        let index = self.type_definition(&item.ident, span, bases, methods, &item.attrs, &item.vis);
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(&item.attrs);
        self.ctx.scope = Scope::Class;
        self.ctx.parent = Some(index);
        for trait_item in &item.items {
            let TraitItem::Fn(function) = trait_item else {
                continue;
            };
            let end = match (&function.default, &function.semi_token) {
                (Some(block), _) => self.start(block.brace_token.span.open()),
                (None, Some(semi)) => self.end(semi.span),
                (None, None) => self.end(function.sig.paren_token.span.close()),
            };
            let span = self.function_header(
                &syn::Visibility::Inherited,
                &function.modifiers,
                &function.sig,
                end,
            );
            let conditional = self.conditional(&function.attrs);
            let kind = DefKind::Function {
                is_async: function.sig.asyncness.is_some(),
                decorated: false,
                returns: Returns::Unknown,
            };
            let ident = &function.sig.ident;
            let index = self.define(ident, span, kind, conditional, visibility(&item.vis));
            if let Some(block) = &function.default {
                self.in_function(index, conditional, |this| this.visit_block(block));
            }
        }
        self.ctx = saved;
    }

    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        let end = self.start(item.block.brace_token.span.open());
        let span = self.function_header(&item.vis, &item.modifiers, &item.sig, end);
        let conditional = self.conditional(&item.attrs);
        let kind = DefKind::Function {
            is_async: item.sig.asyncness.is_some(),
            decorated: false,
            returns: Returns::Unknown,
        };
        let index = self.define(
            &item.sig.ident,
            span,
            kind,
            conditional,
            visibility(&item.vis),
        );
        self.in_function(index, conditional, |this| this.visit_block(&item.block));
    }

    fn visit_item_impl(&mut self, item: &'ast ItemImpl) {
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(&item.attrs);
        self.ctx.scope = Scope::Class;
        let mut functions = Vec::new();
        for impl_item in &item.items {
            match impl_item {
                ImplItem::Fn(function) => {
                    let end = self.start(function.block.brace_token.span.open());
                    let span = self.function_header(
                        &function.vis,
                        &function.modifiers,
                        &function.sig,
                        end,
                    );
                    let conditional = self.conditional(&function.attrs);
                    let kind = DefKind::Function {
                        is_async: function.sig.asyncness.is_some(),
                        decorated: false,
                        returns: Returns::Unknown,
                    };
                    let vis = visibility(&function.vis);
                    let index = self.define(&function.sig.ident, span, kind, conditional, vis);
                    functions.push(index);
                    self.in_function(index, conditional, |this| this.visit_block(&function.block));
                }
                ImplItem::Const(constant) => {
                    let saved = self.ctx;
                    self.ctx.scope = Scope::Function;
                    self.visit_expr(&constant.expr);
                    self.ctx = saved;
                }
                _ => {}
            }
        }
        self.ctx = saved;
        if let Some((supers, name)) = impl_target(&item.self_ty) {
            self.impls.push(PendingImpl {
                namespace: self.ctx.namespace,
                supers,
                name,
                inherent: item.trait_.is_none(),
                functions,
            });
        }
    }

    fn visit_item_const(&mut self, item: &'ast ItemConst) {
        let span = self.header(
            Self::item_start(&item.vis, item.const_token.span),
            self.end(item.semi_token.span),
        );
        self.variable(&item.ident, span, &item.attrs, visibility(&item.vis));
        self.initializer(&item.attrs, &item.expr);
    }

    fn visit_item_static(&mut self, item: &'ast ItemStatic) {
        let span = self.header(
            Self::item_start(&item.vis, item.static_token.span),
            self.end(item.semi_token.span),
        );
        self.variable(&item.ident, span, &item.attrs, visibility(&item.vis));
        self.initializer(&item.attrs, &item.expr);
    }

    fn visit_item_foreign_mod(&mut self, item: &'ast ItemForeignMod) {
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(&item.attrs);
        for foreign in &item.items {
            match foreign {
                ForeignItem::Fn(function) => {
                    let end = self.end(function.semi_token.span);
                    let span = self.function_header(
                        &function.vis,
                        &function.modifiers,
                        &function.sig,
                        end,
                    );
                    let conditional = self.conditional(&function.attrs);
                    let kind = DefKind::Function {
                        is_async: false,
                        decorated: false,
                        returns: Returns::Unknown,
                    };
                    let vis = visibility(&function.vis);
                    self.define(&function.sig.ident, span, kind, conditional, vis);
                }
                ForeignItem::Static(stat) => {
                    let span = self.header(
                        Self::item_start(&stat.vis, stat.static_token.span),
                        self.end(stat.semi_token.span),
                    );
                    self.variable(&stat.ident, span, &stat.attrs, visibility(&stat.vis));
                }
                ForeignItem::Type(ty) => {
                    let span = self.header(
                        Self::item_start(&ty.vis, ty.type_token.span),
                        self.end(ty.semi_token.span),
                    );
                    self.type_definition(
                        &ty.ident,
                        span,
                        Vec::new(),
                        Vec::new(),
                        &ty.attrs,
                        &ty.vis,
                    );
                }
                _ => {}
            }
        }
        self.ctx = saved;
    }

    fn visit_item_macro(&mut self, item: &'ast ItemMacro) {
        if item.mac.path.is_ident("macro_rules") {
            if let Some(name) = &item.ident {
                let exported = item.attrs.iter().any(|a| a.path().is_ident("macro_export"));
                let vis = if exported {
                    Visibility::Public
                } else {
                    Visibility::Default
                };
                let span = self.header(item.mac.path.span(), self.end(name.span()));
                self.variable(name, span, &item.attrs, vis);
            }
            return;
        }
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(&item.attrs);
        self.macro_items(&item.mac);
        self.ctx = saved;
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast StmtMacro) {
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(&stmt.attrs);
        self.macro_items(&stmt.mac);
        self.ctx = saved;
    }
}

impl Collector<'_> {
    /// Items inside a `const` or `static` initializer (`const _: () = { impl T for X {} };`).
    fn initializer(&mut self, attrs: &[Attribute], expr: &Expr) {
        let saved = self.ctx;
        self.ctx.conditional = self.conditional(attrs);
        self.ctx.scope = Scope::Function;
        self.ctx.namespace = self.new_namespace(Some(saved.namespace), None);
        self.visit_expr(expr);
        self.ctx = saved;
    }
}

/// Byte offsets from proc-macro2's line and column (in characters). Its own `byte_range`
/// keeps a map from character to byte offsets that costs a tenth of the collection; here a
/// line of ASCII needs no counting.
struct Lines {
    starts: Vec<usize>,
    ascii: Vec<bool>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        for at in memchr::memchr_iter(b'\n', bytes) {
            ascii.push(bytes[*starts.last().unwrap_or(&0)..at].is_ascii());
            starts.push(at + 1);
        }
        ascii.push(bytes[*starts.last().unwrap_or(&0)..].is_ascii());
        Lines { starts, ascii }
    }

    /// proc-macro2 counts lines from 1 (only `\n` ends one) and columns in characters from 0.
    fn offset(&self, text: &str, at: proc_macro2::LineColumn) -> usize {
        let line = at.line.saturating_sub(1).min(self.starts.len() - 1);
        let start = self.starts[line];
        let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        if self.ascii[line] {
            (start + at.column).min(end)
        } else {
            text[start..end]
                .char_indices()
                .nth(at.column)
                .map_or(end, |(i, _)| start + i)
        }
    }
}

/// The imports of one `use` item (`span`) from its leaves in order, each with the names of
/// the path before it and where that path ends: one import per distinct prefix, in the order
/// of its first leaf, leading `super`s counted as the level. `leading`: where a leading `::`
/// ends; `tree_start`: where the tree begins (each module span starts there).
fn use_imports(
    leaves: impl Iterator<Item = (Vec<String>, Option<usize>, ImportedName)>,
    leading: Option<usize>,
    tree_start: usize,
    span: Span,
    context: Context,
) -> Vec<Import> {
    let mut imports: Vec<Import> = Vec::new();
    for (prefix, prefix_end, name) in leaves {
        let mut level = 0;
        let mut rest = &prefix[..];
        if leading.is_none() {
            while let Some((first, tail)) = rest.split_first()
                && first == "super"
            {
                level += 1;
                rest = tail;
            }
        }
        let mut module = String::from(if leading.is_some() { "::" } else { "" });
        module.push_str(&rest.join("::"));
        match imports
            .iter_mut()
            .find(|import| import.level == level && import.module == module)
        {
            Some(import) => import.names.push(name),
            None => {
                let module_end = prefix_end.or(leading).unwrap_or(tree_start);
                imports.push(Import {
                    kind: ImportKind::From,
                    span,
                    module,
                    module_span: Span::new(tree_start, module_end),
                    level,
                    names: vec![name],
                    context,
                });
            }
        }
    }
    imports
}

/// A sequence of items up to the end of `tokens`, after inner attributes (which say nothing
/// the context does not already: a macro body is conditional anyway).
fn parse_items(tokens: TokenStream) -> syn::Result<Vec<Item>> {
    let parser = |input: ParseStream| {
        input.call(Attribute::parse_inner)?;
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse()?);
        }
        Ok(items)
    };
    parser.parse2(tokens)
}

/// Whether `text` has a word that starts an item (`use`, `mod`, `struct`, ...), at any depth.
fn mentions_items(text: &[u8]) -> bool {
    text.split(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .any(|word| lexical::item_keyword(word).is_some())
}

/// After the first `;` or `{ ... }` from `from` (the end when there is none).
fn item_boundary(trees: &[TokenTree], from: usize) -> usize {
    trees[from..]
        .iter()
        .position(|tree| match tree {
            TokenTree::Punct(punct) => punct.as_char() == ';',
            TokenTree::Group(group) => group.delimiter() == Delimiter::Brace,
            _ => false,
        })
        .map_or(trees.len(), |at| from + at + 1)
}

fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(punct)) if punct.as_char() == ch)
}

fn is_ident(tree: Option<&TokenTree>, word: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(ident)) if ident == word)
}

fn is_group(tree: Option<&TokenTree>, delimiter: Delimiter) -> bool {
    matches!(tree, Some(TokenTree::Group(group)) if group.delimiter() == delimiter)
}

/// An identifier as Rust compares it: `r#` dropped, NFC-normalised.
fn ident_text(ident: &Ident) -> String {
    let text = ident.to_string();
    let text = match text.strip_prefix("r#") {
        Some(raw) => raw.to_string(),
        None => text,
    };
    if text.is_ascii() {
        text
    } else {
        text.nfc().collect()
    }
}

fn path_text(path: &syn::Path) -> String {
    let mut text = String::from(if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    });
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            text.push_str("::");
        }
        text.push_str(&ident_text(&segment.ident));
    }
    text
}

fn visibility(vis: &syn::Visibility) -> Visibility {
    match vis {
        syn::Visibility::Public(_) => Visibility::Public,
        syn::Visibility::Restricted(restricted) => match path_text(&restricted.path) {
            path if path == "self" => Visibility::Default,
            path => Visibility::Restricted(path),
        },
        syn::Visibility::Inherited => Visibility::Default,
    }
}

/// `a::b::C` without generic arguments or a qualified self.
fn plain_path(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path)
            if path.qself.is_none()
                && path
                    .path
                    .segments
                    .iter()
                    .all(|segment| matches!(segment.arguments, PathArguments::None)) =>
        {
            Some(path_text(&path.path))
        }
        Type::Paren(inner) => plain_path(&inner.elem),
        Type::Group(inner) => plain_path(&inner.elem),
        _ => None,
    }
}

/// The type an `impl` block is for, when it is named in this file's terms: `Foo`, `Foo<T>`,
/// `self::Foo`, `super::super::Foo`.
fn impl_target(ty: &Type) -> Option<(u32, String)> {
    match ty {
        Type::Path(path) if path.qself.is_none() && path.path.leading_colon.is_none() => {
            let (last, prefix) = path
                .path
                .segments
                .iter()
                .collect::<Vec<_>>()
                .split_last()
                .map(|(last, prefix)| (*last, prefix.to_vec()))?;
            let mut supers = 0;
            for segment in prefix {
                if segment.ident == "super" {
                    supers += 1;
                } else if segment.ident != "self" || supers > 0 {
                    return None;
                }
            }
            Some((supers, ident_text(&last.ident)))
        }
        Type::Paren(inner) => impl_target(&inner.elem),
        Type::Group(inner) => impl_target(&inner.elem),
        _ => None,
    }
}

/// `#[path = "..."]` and the `path = "..."` of `#[cfg_attr(predicate, path = "...")]`.
fn path_attributes(attrs: &[Attribute]) -> Vec<String> {
    let mut paths = Vec::new();
    for attr in attrs {
        match &attr.meta {
            Meta::NameValue(meta) if meta.path.is_ident("path") => {
                if let Expr::Lit(ExprLit {
                    lit: Lit::Str(value),
                    ..
                }) = &meta.value
                {
                    paths.push(value.value());
                }
            }
            Meta::List(list) if list.path.is_ident("cfg_attr") => {
                let trees: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
                for window in trees.windows(3) {
                    if let [
                        TokenTree::Ident(name),
                        TokenTree::Punct(eq),
                        TokenTree::Literal(value),
                    ] = window
                        && name == "path"
                        && eq.as_char() == '='
                        && let Ok(value) =
                            syn::parse2::<LitStr>(TokenTree::Literal(value.clone()).into())
                    {
                        paths.push(value.value());
                    }
                }
            }
            _ => {}
        }
    }
    paths
}

/// Whitespace dropped, except one space between two words: `for<'a> Fn(&'a T)`.
fn compact(text: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '\'';
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && out.chars().next_back().is_some_and(word) && word(c) {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// The paths written in strings: attribute values and intra-doc links, over the whole file
/// (fields, variants, impl items and function bodies included).
struct StringPaths<'c, 'a> {
    collector: &'c Collector<'a>,
    out: Vec<StringRef>,
}

impl<'ast> Visit<'ast> for StringPaths<'_, '_> {
    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        let path = attr.path();
        if path.is_ident("doc") {
            if let syn::Meta::NameValue(value) = &attr.meta
                && let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(literal),
                    ..
                }) = &value.value
            {
                let (start, end) = self.collector.offsets(literal.span());
                let text = self.collector.text.as_bytes();
                if start < end && end <= text.len() {
                    for (from, to) in doc_links(&text[start..end]) {
                        self.push(StringRefKind::DocLink, start + from, start + to);
                    }
                }
            }
            return;
        }
        if path.is_ident("path") {
            return;
        }
        match &attr.meta {
            syn::Meta::List(list) => self.tokens(list.tokens.clone()),
            syn::Meta::NameValue(value) => {
                if let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(literal),
                    ..
                }) = &value.value
                {
                    self.literal(&literal.token());
                }
            }
            syn::Meta::Path(_) => {}
        }
    }
}

/// A string path's context: paths in strings are not bound anywhere.
fn module_context() -> Context {
    Context {
        scope: Scope::Module,
        guard: Guard::None,
        type_checking: false,
        conditional: false,
    }
}

impl StringPaths<'_, '_> {
    fn push(&mut self, kind: StringRefKind, start: usize, end: usize) {
        let value = self.collector.text[start..end].to_string();
        self.out.push(StringRef {
            kind,
            value,
            span: Span::new(start, end),
            context: module_context(),
        });
    }

    /// `key = "a::b"` pairs in an attribute's tokens, nested lists included.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Literal(literal)
                    if i >= 2
                        && is_punct(trees.get(i - 1), '=')
                        && matches!(trees.get(i - 2), Some(TokenTree::Ident(_))) =>
                {
                    self.literal(literal);
                }
                _ => {}
            }
        }
    }

    /// A plain string literal whose contents are a path of two segments or more.
    fn literal(&mut self, literal: &proc_macro2::Literal) {
        let (start, end) = self.collector.offsets(literal.span());
        let text = self.collector.text.as_bytes();
        if end > text.len() || end < start + 2 || text[start] != b'"' || text[end - 1] != b'"' {
            return;
        }
        let (from, to) = (start + 1, end - 1);
        if is_path(&text[from..to]) {
            self.push(StringRefKind::Attribute, from, to);
        }
    }
}

/// `a::b::C` (a leading `::` allowed): identifiers joined by `::`, two segments or more.
fn is_path(text: &[u8]) -> bool {
    let text = text.strip_prefix(b"::").unwrap_or(text);
    let mut segments = 0;
    for segment in text.split(|&b| b == b':') {
        segments += 1;
        // `a::b` splits as `a`, ``, `b`: every other piece is the empty one between colons.
        if segments % 2 == 0 {
            if !segment.is_empty() {
                return false;
            }
            continue;
        }
        let Some((first, rest)) = segment.split_first() else {
            return false;
        };
        if !(first.is_ascii_alphabetic() || *first == b'_')
            || !rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return false;
        }
    }
    segments >= 3 && segments % 2 == 1
}

/// The byte ranges of the intra-doc link targets with `::` in a doc comment's text.
fn doc_links(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'[', &text[at..]) {
        let open = at + found;
        at = open + 1;
        let Some(close) = text[open + 1..]
            .iter()
            .position(|&b| b == b']' || b == b'[' || b == b'\n')
            .map(|i| open + 1 + i)
            .filter(|&i| text[i] == b']')
        else {
            continue;
        };
        let (from, to) = match text.get(close + 1) {
            Some(b'(') => match text[close + 2..]
                .iter()
                .position(|&b| b == b')' || b == b'\n')
            {
                Some(i) if text[close + 2 + i] == b')' => (close + 2, close + 2 + i),
                _ => continue,
            },
            Some(b'[') => match text[close + 2..]
                .iter()
                .position(|&b| b == b']' || b == b'\n')
            {
                Some(i) if text[close + 2 + i] == b']' => (close + 2, close + 2 + i),
                _ => continue,
            },
            Some(b':') if text.get(close + 2) == Some(&b' ') => {
                let from = close + 3;
                let to = text[from..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace())
                    .map_or(text.len(), |i| from + i);
                (from, to)
            }
            _ => (open + 1, close),
        };
        at = at.max(to);
        if let Some((start, end)) = link_path(text, from, to) {
            out.push((start, end));
        }
    }
    out
}

/// The path inside a link target `from..to`: backticks, a disambiguator (`struct@`) and a
/// `()` or `!` suffix stripped.
fn link_path(text: &[u8], mut from: usize, mut to: usize) -> Option<(usize, usize)> {
    while from < to && text[from].is_ascii_whitespace() {
        from += 1;
    }
    while to > from && text[to - 1].is_ascii_whitespace() {
        to -= 1;
    }
    if to > from + 1 && text[from] == b'`' && text[to - 1] == b'`' {
        from += 1;
        to -= 1;
    }
    if let Some(at) = text[from..to].iter().position(|&b| b == b'@') {
        from += at + 1;
    }
    if text[from..to].ends_with(b"()") {
        to -= 2;
    } else if text[from..to].ends_with(b"!") {
        to -= 1;
    }
    is_path(&text[from..to]).then_some((from, to))
}
