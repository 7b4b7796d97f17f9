//! The Python fact collector: a statement scanner over the lexer's logical lines.
//!
//! It reads imports, class and function headers, module-level bindings, `__all__`, dotted
//! string references, calls, dotted names of imported names (`m.Name` after `import a as m`)
//! and suppression comments, and tracks the block structure from indentation so every fact
//! knows its context (scope, `try` branch, `TYPE_CHECKING`). Expressions are never parsed: a
//! statement is classified by its first tokens, and only the statements that bind or import
//! are read further; calls and dotted names are picked out of the tokens in one pass.
//!
//! Collecting never fails: unreadable statements become syntax errors and the scan goes on
//! with the next logical line.

use unicode_normalization::UnicodeNormalization;

use super::lexer::{Kind, Lexer, LineStart, Token};
use crate::facts::{
    Attribute, Call, CallResult, Context, DefKind, Definition, Exports, FileFacts, Guard, Import,
    ImportKind, ImportedName, Returns, Scope, Span, StringRef, StringRefKind, Suppression,
    SyntaxError,
};

/// Collects the facts of one Python file.
///
/// ```
/// let facts = ssot_gardener::python::collect(b"from .a import (B as C,\n D)\n");
/// assert_eq!(facts.imports[0].level, 1);
/// assert_eq!(facts.imports[0].names[0].alias.as_deref(), Some("C"));
/// ```
pub fn collect(src: &[u8]) -> FileFacts {
    let mut collector = Collector {
        src,
        facts: FileFacts::default(),
        blocks: Vec::new(),
        pending: None,
        headers: Vec::new(),
        latin1: false,
        imported: rustc_hash::FxHashSet::default(),
        imported_filter: [0; 4],
        decorated: false,
    };
    collector.check_encoding();
    let mut lexer = Lexer::new(src);
    let mut tokens = Vec::with_capacity(64);
    while let Some(line) = lexer.next_line(&mut tokens) {
        collector.line(line, &tokens);
    }
    if let Some(pending) = collector.pending.take() {
        collector.error(pending.span, "expected an indented block");
    }
    collector.facts.suppressions = suppressions(src, &lexer.comments);
    let mut errors = std::mem::take(&mut lexer.errors);
    errors.append(&mut collector.facts.errors);
    errors.sort_by_key(|error| error.span);
    collector.facts.errors = errors;
    collector.facts.index_dotted_names(src);
    collector.facts.installs_import_hook = installs_hook(src);
    collector.facts
}

/// The index of the bracket that closes `tokens[open]`; `tokens.len()` when none does.
fn closing(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (at, token) in tokens.iter().enumerate().skip(open) {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// Whether `text` changes the import machinery: `sys.meta_path` or `sys.path_hooks` changed
/// (`.insert(`, `.append(`, `.extend(`, `+=`, `[...] =`, `=`).
fn installs_hook(text: &[u8]) -> bool {
    [&b"meta_path"[..], b"path_hooks"].iter().any(|name| {
        memchr::memmem::find_iter(text, name).any(|at| {
            let rest = text[at + name.len()..].trim_ascii_start();
            [&b".insert("[..], b".append(", b".extend(", b"+=", b"["]
                .iter()
                .any(|change| rest.starts_with(change))
                || (rest.starts_with(b"=") && !rest.starts_with(b"=="))
        })
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    /// A function, with the index of its definition (`u32::MAX` when the header is broken).
    Def(u32),
    /// A class, with the index of its definition.
    Class(usize),
    If {
        type_checking: bool,
    },
    Try,
    Except {
        import_error: bool,
    },
    TryElse,
    Finally,
    /// for, while, with, match, case and `else` of a loop.
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Block {
    header_indent: u32,
    /// The indentation of the block's first statement; `None` for a body on the header line.
    body_indent: Option<u32>,
    kind: BlockKind,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    indent: u32,
    kind: BlockKind,
    span: Span,
}

struct Collector<'a> {
    src: &'a [u8],
    facts: FileFacts,
    blocks: Vec<Block>,
    /// A compound header whose body starts on the next line.
    pending: Option<Pending>,
    /// The last compound header seen at each open indentation, to pair `else`/`except` with
    /// their `if`/`try`/`for`.
    headers: Vec<(u32, BlockKind)>,
    /// The file declares Latin-1 and is not valid UTF-8.
    latin1: bool,
    /// The names bound by the import statements read so far (`m` of `import a.b as m`).
    imported: rustc_hash::FxHashSet<Vec<u8>>,
    /// A 256-bit filter of `imported` (see [`name_bit`]): most dotted names start with a
    /// local name, rejected here without comparing strings.
    imported_filter: [u64; 4],
    /// A decorator line was read since the last other statement: the next `def` or `class`
    /// is decorated.
    decorated: bool,
}

/// A name's bit in [`Collector::imported_filter`], from its length and its first and last byte.
fn name_bit(name: &[u8]) -> usize {
    let (first, last) = match name {
        [] => (0, 0),
        [first, .., last] => (*first as usize, *last as usize),
        [only] => (*only as usize, *only as usize),
    };
    (first ^ last.wrapping_mul(31) ^ name.len().wrapping_mul(131)) & 255
}

fn is_name(src: &[u8], token: &Token, word: &[u8]) -> bool {
    token.kind == Kind::Name && token.text(src) == word
}

/// Python's hard keywords. A `match` (length, then bytes) rather than a search of a list: it
/// runs for every name before a `(`.
fn is_keyword(text: &[u8]) -> bool {
    matches!(
        text,
        b"False"
            | b"None"
            | b"True"
            | b"and"
            | b"as"
            | b"assert"
            | b"async"
            | b"await"
            | b"break"
            | b"class"
            | b"continue"
            | b"def"
            | b"del"
            | b"elif"
            | b"else"
            | b"except"
            | b"finally"
            | b"for"
            | b"from"
            | b"global"
            | b"if"
            | b"import"
            | b"in"
            | b"is"
            | b"lambda"
            | b"nonlocal"
            | b"not"
            | b"or"
            | b"pass"
            | b"raise"
            | b"return"
            | b"try"
            | b"while"
            | b"with"
            | b"yield"
    )
}

/// Splits `tokens` at depth-0 tokens of `kind`.
fn split_top_level(tokens: &[Token], kind: Kind) -> impl Iterator<Item = &[Token]> {
    let mut depth = 0i32;
    tokens.split(move |token| {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth -= 1,
            _ => {}
        }
        token.kind == kind && depth <= 0
    })
}

impl<'a> Collector<'a> {
    fn text(&self, token: &Token) -> &'a [u8] {
        token.text(self.src)
    }

    /// An identifier as Python sees it: decoded, then NFKC-normalised (`ﬁle` is `file`).
    fn string(&self, token: &Token) -> String {
        self.name(self.text(token))
    }

    fn name(&self, bytes: &[u8]) -> String {
        if bytes.is_ascii() {
            return String::from_utf8_lossy(bytes).into_owned();
        }
        self.decode(bytes).nfkc().collect()
    }

    /// Source bytes as text, in the file's declared encoding (UTF-8 unless a Latin-1 coding
    /// cookie says otherwise; other encodings are read as UTF-8, lossily).
    fn decode(&self, bytes: &[u8]) -> String {
        if self.latin1 {
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        }
    }

    fn error(&mut self, span: Span, message: &str) {
        self.facts.errors.push(SyntaxError {
            span,
            message: message.to_string(),
        });
    }

    /// A file without a coding declaration (or declaring UTF-8) must be UTF-8.
    fn check_encoding(&mut self) {
        let src = self.src;
        if let Err(error) = std::str::from_utf8(src) {
            if let Some(encoding) = declared_encoding(src) {
                self.latin1 = matches!(
                    encoding.as_str(),
                    "latin-1"
                        | "latin1"
                        | "latin_1"
                        | "iso-8859-1"
                        | "iso8859-1"
                        | "iso_8859_1"
                        | "l1"
                        | "cp819"
                ) || encoding.starts_with("latin-1-")
                    || encoding.starts_with("iso-8859-1-");
                if !matches!(encoding.as_str(), "utf-8" | "utf8" | "utf_8")
                    && !encoding.starts_with("utf-8-")
                {
                    return;
                }
            }
            let at = error.valid_up_to();
            self.error(
                Span::new(at, at + 1),
                &format!("invalid UTF-8: byte 0x{:02x} at offset {at} (the file declares no other encoding)", src[at]),
            );
        }
    }

    fn line(&mut self, line: LineStart, tokens: &[Token]) {
        let Some(first) = tokens.first() else { return };
        let indent = line.indent;
        self.indentation(indent, first);
        while self.headers.last().is_some_and(|&(at, _)| at > indent) {
            self.headers.pop();
        }
        if is_compound(self.src, tokens) {
            self.compound(indent, tokens);
        } else {
            if self.headers.last().is_some_and(|&(at, _)| at == indent) {
                self.headers.pop();
            }
            for statement in split_top_level(tokens, Kind::Semi) {
                self.simple(statement);
            }
        }
    }

    /// Opens the pending block or closes finished blocks for a line at `indent`.
    fn indentation(&mut self, indent: u32, first: &Token) {
        let here = Span::new(first.start as usize, first.start as usize);
        if let Some(pending) = self.pending.take() {
            if indent > pending.indent {
                self.blocks.push(Block {
                    header_indent: pending.indent,
                    body_indent: Some(indent),
                    kind: pending.kind,
                });
                return;
            }
            self.error(pending.span, "expected an indented block");
        }
        while self
            .blocks
            .last()
            .is_some_and(|block| block.header_indent >= indent)
        {
            self.blocks.pop();
        }
        let expected = self
            .blocks
            .last()
            .and_then(|block| block.body_indent)
            .unwrap_or(0);
        if indent > expected {
            self.error(here, "unexpected indent");
        } else if indent < expected {
            self.error(here, "unindent does not match any outer indentation level");
        }
    }

    fn compound(&mut self, indent: u32, tokens: &[Token]) {
        let colon = header_colon(self.src, tokens);
        let header = &tokens[..colon.unwrap_or(tokens.len())];
        let span = Span::new(
            tokens[0].start as usize,
            header.last().map_or(tokens[0].end, |t| t.end) as usize,
        );
        if colon.is_none() {
            self.error(span, "expected ':'");
        }
        let keyword_at = usize::from(self.text(&tokens[0]) == b"async");
        let keyword = self.text(&tokens[keyword_at]);
        let previous = self
            .headers
            .last()
            .filter(|&&(at, _)| at == indent)
            .map(|&(_, kind)| kind);
        let kind = match keyword {
            b"def" => BlockKind::Def(self.function(header, keyword_at)),
            b"class" => BlockKind::Class(self.class(header)),
            b"if" | b"elif" => BlockKind::If {
                type_checking: self.is_type_checking(&header[1..]),
            },
            b"else" => match previous {
                Some(BlockKind::Try | BlockKind::Except { .. }) => BlockKind::TryElse,
                Some(BlockKind::If { .. }) => BlockKind::If {
                    type_checking: false,
                },
                _ => BlockKind::Other,
            },
            b"try" => BlockKind::Try,
            b"except" => BlockKind::Except {
                import_error: self.catches_import_error(&header[1..]),
            },
            b"finally" => BlockKind::Finally,
            b"for" => {
                if self.module_scope() {
                    self.for_targets(&header[keyword_at + 1..]);
                }
                BlockKind::Other
            }
            b"with" => {
                if self.module_scope() {
                    self.with_targets(&header[keyword_at + 1..]);
                }
                BlockKind::Other
            }
            _ => BlockKind::Other,
        };
        // A decorator belongs to the `def` or `class` right after it.
        self.decorated = false;
        self.string_refs(header);
        self.expressions(header);
        match self.headers.last_mut() {
            Some(last) if last.0 == indent => last.1 = kind,
            _ => self.headers.push((indent, kind)),
        }
        let body = colon.map_or(&[][..], |at| &tokens[at + 1..]);
        if body.is_empty() {
            self.pending = Some(Pending { indent, kind, span });
        } else {
            // `if TYPE_CHECKING: import x`: the body shares the header's line.
            self.blocks.push(Block {
                header_indent: indent,
                body_indent: None,
                kind,
            });
            for statement in split_top_level(body, Kind::Semi) {
                self.simple(statement);
            }
            self.blocks.pop();
        }
    }

    fn context(&self) -> Context {
        let mut context = Context::default();
        let mut scope_found = false;
        for block in self.blocks.iter().rev() {
            match block.kind {
                BlockKind::Def(_) | BlockKind::Class(_) if !scope_found => {
                    scope_found = true;
                    context.scope = if matches!(block.kind, BlockKind::Def(_)) {
                        Scope::Function
                    } else {
                        Scope::Class
                    };
                }
                BlockKind::Def(_) | BlockKind::Class(_) => {}
                kind => {
                    if let BlockKind::If {
                        type_checking: true,
                    } = kind
                    {
                        context.type_checking = true;
                    }
                    if scope_found {
                        continue;
                    }
                    context.conditional = true;
                    if context.guard == Guard::None {
                        context.guard = match kind {
                            BlockKind::Try => Guard::Try,
                            BlockKind::Except { import_error: true } => Guard::ExceptImportError,
                            BlockKind::Except {
                                import_error: false,
                            } => Guard::Except,
                            BlockKind::TryElse => Guard::Else,
                            BlockKind::Finally => Guard::Finally,
                            _ => Guard::None,
                        };
                    }
                }
            }
        }
        context
    }

    fn module_scope(&self) -> bool {
        !self
            .blocks
            .iter()
            .any(|block| matches!(block.kind, BlockKind::Def(_) | BlockKind::Class(_)))
    }

    fn simple(&mut self, tokens: &[Token]) {
        let Some(first) = tokens.first() else { return };
        self.decorated = first.kind == Kind::At;
        if first.kind == Kind::Name {
            match self.text(first) {
                b"import" => return self.import(tokens),
                b"from" => return self.import_from(tokens),
                b"global" => return self.global(tokens),
                b"return" if tokens.len() > 1 => self.returns_value(),
                _ => {}
            }
        }
        if self.module_scope() {
            self.bindings(tokens);
        }
        self.string_refs(tokens);
        self.expressions(tokens);
    }

    /// A `return` with a value in the innermost function: an unannotated one may return
    /// anything.
    fn returns_value(&mut self) {
        let function = self.blocks.iter().rev().find_map(|block| match block.kind {
            BlockKind::Def(index) => Some(index),
            BlockKind::Class(_) => Some(u32::MAX),
            _ => None,
        });
        if let Some(definition) =
            function.and_then(|index| self.facts.definitions.get_mut(index as usize))
            && let DefKind::Function { returns, .. } = &mut definition.kind
            && *returns == Returns::Nothing
        {
            *returns = Returns::Unknown;
        }
    }

    /// Records the names an import statement binds, for [`Collector::attribute`].
    fn imported(&mut self, kind: ImportKind, names: &[ImportedName]) {
        for name in names.iter().filter(|name| name.name != "*") {
            let bound = name.bound_name(kind).as_bytes();
            if !self.imported.contains(bound) {
                let bit = name_bit(bound);
                self.imported_filter[bit / 64] |= 1 << (bit % 64);
                self.imported.insert(bound.to_vec());
            }
        }
    }

    fn is_imported(&self, name: &[u8]) -> bool {
        let bit = name_bit(name);
        self.imported_filter[bit / 64] & (1 << (bit % 64)) != 0 && self.imported.contains(name)
    }

    /// May the dotted name `tokens[first..=last]` be assigned or deleted?
    fn is_target(&self, tokens: &[Token], first: usize, last: usize, shape: Shape) -> bool {
        let keyword = |token: Option<&Token>, words: &[&[u8]]| {
            token.is_some_and(|t| t.kind == Kind::Name && words.contains(&self.text(t)))
        };
        let previous = first.checked_sub(1).map(|at| &tokens[at]);
        if keyword(tokens.first(), &[b"del"]) || keyword(previous, &[b"for", b"as"]) {
            return true;
        }
        // `for a, m.Name in ...`, in a statement or a comprehension: after a `for`, before
        // its `in`.
        if shape.has_for
            && tokens[..first]
                .iter()
                .rev()
                .find(|&t| keyword(Some(t), &[b"for", b"in"]))
                .is_some_and(|t| self.text(t) == b"for")
        {
            return true;
        }
        // `x: m.Name = y`: an annotation, read, never assigned.
        let annotation = shape.colon.is_some_and(|colon| colon < first);
        match tokens.get(last + 1).map(|t| t.kind) {
            Some(Kind::AugAssign) => !annotation,
            // `m.Name = 1`, `a, m.Name = ...`, `(m.Name, b) = ...`; not a parameter's
            // default (`def f(x: m.Name = 1)`), whose `=` is inside brackets.
            Some(Kind::Equal | Kind::Comma | Kind::Close) => {
                !annotation && shape.assign.is_some_and(|assign| last < assign)
            }
            // `m.Name: int = 1`
            Some(Kind::Colon) => first == 0,
            _ => false,
        }
    }

    /// The innermost enclosing `def` or `class` definition.
    fn parent(&self) -> Option<u32> {
        self.blocks.iter().rev().find_map(|block| match block.kind {
            BlockKind::Def(index) if index != u32::MAX => Some(index),
            BlockKind::Class(index) if index != usize::MAX => Some(index as u32),
            _ => None,
        })
    }

    /// Calls and dotted names in one pass over the tokens (most statements have neither,
    /// and the pass is what costs).
    fn expressions(&mut self, tokens: &[Token]) {
        let mut enclosing = None;
        let mut shape = None;
        let attributes = !self.imported.is_empty();
        // The end of the last dotted name recorded: its dots start nothing new.
        let mut after_attribute = 0;
        for i in 1..tokens.len() {
            match tokens[i].kind {
                Kind::Open => self.call(tokens, i, &mut enclosing),
                Kind::Dot if attributes && i >= after_attribute => {
                    if let Some(last) = self.attribute(tokens, i, &mut shape) {
                        after_attribute = last + 1;
                    }
                }
                _ => {}
            }
        }
    }

    /// A call of a dotted name at `tokens[open]`, the `(`: `f(`, `a.b.C(`; not `def f(`,
    /// `class C(`, `x.y().z(`, `if (`. `enclosing` is computed on the first call.
    fn call(&mut self, tokens: &[Token], open: usize, enclosing: &mut Option<Option<u32>>) {
        if self.text(&tokens[open]) != b"(" {
            return;
        }
        let last = &tokens[open - 1];
        if last.kind != Kind::Name {
            return;
        }
        let mut first = open - 1;
        while first >= 2
            && tokens[first - 1].kind == Kind::Dot
            && tokens[first - 2].kind == Kind::Name
        {
            first -= 2;
        }
        if first >= 1 && tokens[first - 1].kind == Kind::Dot {
            return;
        }
        if first == open - 1 && is_keyword(self.text(last)) {
            return;
        }
        if first >= 1 && matches!(self.text(&tokens[first - 1]), b"def" | b"class") {
            return;
        }
        let enclosing = *enclosing.get_or_insert_with(|| self.parent());
        let awaited = first >= 1 && self.text(&tokens[first - 1]) == b"await";
        let result = if awaited || first == 0 {
            // What follows the call's `)`: `f().x`, `f()(..)` and `f()[..]` use the result.
            let close = closing(tokens, open);
            match tokens.get(close + 1) {
                _ if close == tokens.len() => CallResult::Used,
                Some(next) if matches!(next.kind, Kind::Dot | Kind::Open) => CallResult::Used,
                _ if awaited => CallResult::Awaited,
                None => CallResult::Dropped,
                Some(_) => CallResult::Used,
            }
        } else {
            CallResult::Used
        };
        self.facts.calls.push(Call {
            callee: Span::new(tokens[first].start as usize, last.end as usize),
            enclosing,
            result,
        });
    }

    /// The dotted name through the dot at `tokens[dot]`, when it is written without spaces,
    /// its first name is not an attribute itself and is bound by an import statement read
    /// before (an import further down the file, after a function that uses it, is not seen:
    /// rare, and much cheaper, since most dotted names are `self.x` or a local's attribute
    /// and none of them is recorded). Returns the index of its last name.
    fn attribute(
        &mut self,
        tokens: &[Token],
        dot: usize,
        shape: &mut Option<Shape>,
    ) -> Option<usize> {
        let adjacent = |at: usize, kind: Kind| {
            tokens
                .get(at)
                .is_some_and(|t| t.kind == kind && t.start == tokens[at - 1].end)
        };
        let first = dot - 1;
        if tokens[first].kind != Kind::Name
            || (first > 0 && tokens[first - 1].kind == Kind::Dot)
            || !self.is_imported(self.text(&tokens[first]))
            || tokens[first].end != tokens[dot].start
            || !adjacent(dot + 1, Kind::Name)
        {
            return None;
        }
        let mut last = dot + 1;
        while adjacent(last + 1, Kind::Dot) && adjacent(last + 2, Kind::Name) {
            last += 2;
        }
        let shape = *shape.get_or_insert_with(|| Shape::of(self.src, tokens));
        let target = self.is_target(tokens, first, last, shape);
        self.facts.attributes.push(Attribute {
            span: Span::new(tokens[first].start as usize, tokens[last].end as usize),
            target,
            last: 0,
        });
        Some(last)
    }

    fn dotted_name(&self, tokens: &[Token], mut i: usize) -> Option<(String, usize)> {
        let mut name = String::new();
        loop {
            let token = tokens.get(i)?;
            if token.kind != Kind::Name {
                return None;
            }
            name.push_str(&self.string(token));
            i += 1;
            if tokens.get(i).is_some_and(|t| t.kind == Kind::Dot) {
                name.push('.');
                i += 1;
            } else {
                return Some((name, i));
            }
        }
    }

    /// `name [as alias]` starting at `i`, where `name` is dotted when `dotted`.
    fn imported_name(
        &self,
        tokens: &[Token],
        i: usize,
        dotted: bool,
    ) -> Option<(ImportedName, usize)> {
        let start = tokens.get(i)?.start;
        let (name, mut next) = if dotted {
            self.dotted_name(tokens, i)?
        } else {
            let token = tokens.get(i).filter(|t| t.kind == Kind::Name)?;
            (self.string(token), i + 1)
        };
        let mut alias = None;
        if tokens
            .get(next)
            .is_some_and(|t| is_name(self.src, t, b"as"))
        {
            let token = tokens.get(next + 1).filter(|t| t.kind == Kind::Name)?;
            alias = Some(self.string(token));
            next += 2;
        }
        let end = tokens[next - 1].end;
        Some((
            ImportedName {
                name,
                alias,
                span: Span::new(start as usize, end as usize),
            },
            next,
        ))
    }

    /// `import a.b as c, d`
    fn import(&mut self, tokens: &[Token]) {
        let mut names = Vec::new();
        let mut i = 1;
        let complete = loop {
            let Some((name, next)) = self.imported_name(tokens, i, true) else {
                break false;
            };
            names.push(name);
            i = next;
            match tokens.get(i) {
                Some(t) if t.kind == Kind::Comma => i += 1,
                None => break true,
                Some(_) => break false,
            }
        };
        let end = tokens[i.min(tokens.len()) - 1].end;
        let span = Span::new(tokens[0].start as usize, end as usize);
        if !complete {
            self.error(span, "invalid syntax in import statement");
        }
        if !names.is_empty() {
            let context = self.context();
            self.imported(ImportKind::Module, &names);
            self.facts.imports.push(Import {
                kind: ImportKind::Module,
                span,
                module: String::new(),
                module_span: Span::default(),
                level: 0,
                names,
                context,
            });
        }
    }

    /// `from ..a.b import (c as d, e)` and `from a import *`
    fn import_from(&mut self, tokens: &[Token]) {
        let statement = Span::new(
            tokens[0].start as usize,
            tokens[tokens.len() - 1].end as usize,
        );
        let mut i = 1;
        let mut level = 0;
        while let Some(token) = tokens.get(i) {
            match token.kind {
                Kind::Dot => level += 1,
                Kind::Ellipsis => level += 3,
                _ => break,
            }
            i += 1;
        }
        let module_start = tokens.get(1).map_or(0, |t| t.start);
        let mut module = String::new();
        if tokens
            .get(i)
            .is_some_and(|t| t.kind == Kind::Name && self.text(t) != b"import")
        {
            match self.dotted_name(tokens, i) {
                Some((name, next)) => {
                    module = name;
                    i = next;
                }
                None => return self.error(statement, "invalid syntax in import statement"),
            }
        }
        let module_span = Span::new(module_start as usize, tokens[i - 1].end as usize);
        if i == 1
            || !tokens
                .get(i)
                .is_some_and(|t| is_name(self.src, t, b"import"))
        {
            return self.error(statement, "invalid syntax in import statement");
        }
        i += 1;
        let mut names = Vec::new();
        let mut valid = true;
        match tokens.get(i) {
            Some(t) if t.kind == Kind::Star => {
                names.push(ImportedName {
                    name: "*".to_string(),
                    alias: None,
                    span: Span::new(t.start as usize, t.end as usize),
                });
                i += 1;
            }
            Some(t) if t.kind == Kind::Open && self.text(t) == b"(" => {
                i += 1;
                loop {
                    let Some((name, next)) = self.imported_name(tokens, i, false) else {
                        valid = false;
                        break;
                    };
                    names.push(name);
                    i = next;
                    if tokens.get(i).is_some_and(|t| t.kind == Kind::Comma) {
                        i += 1;
                    }
                    if tokens.get(i).is_some_and(|t| t.kind == Kind::Close) {
                        i += 1;
                        break;
                    }
                }
            }
            _ => loop {
                let Some((name, next)) = self.imported_name(tokens, i, false) else {
                    valid = false;
                    break;
                };
                names.push(name);
                i = next;
                if tokens.get(i).is_some_and(|t| t.kind == Kind::Comma) {
                    i += 1;
                } else {
                    break;
                }
            },
        }
        if i != tokens.len() || names.is_empty() {
            valid = false;
        }
        if !valid {
            self.error(statement, "invalid syntax in import statement");
        }
        if names.is_empty() {
            return;
        }
        let end = tokens[(i.min(tokens.len())).max(1) - 1].end;
        let context = self.context();
        self.imported(ImportKind::From, &names);
        self.facts.imports.push(Import {
            kind: ImportKind::From,
            span: Span::new(tokens[0].start as usize, end as usize),
            module,
            module_span,
            level,
            names,
            context,
        });
    }

    /// `def name(...)` or `async def name(...)`: `keyword_at` is the index of `def`. Returns
    /// the index of the new definition.
    fn function(&mut self, header: &[Token], keyword_at: usize) -> u32 {
        let Some(name) = header.get(keyword_at + 1).filter(|t| t.kind == Kind::Name) else {
            self.error(
                self.header_span(header),
                "invalid syntax: expected a function name",
            );
            return u32::MAX;
        };
        let index = self.facts.definitions.len() as u32;
        let parent = self.parent();
        let context = self.context();
        let function_name = self.string(name);
        if context.scope == Scope::Class
            && let Some(BlockKind::Class(index)) = self.blocks.last().map(|block| block.kind)
            && let Some(DefKind::Class { methods, .. }) = self
                .facts
                .definitions
                .get_mut(index)
                .map(|definition| &mut definition.kind)
        {
            methods.push(function_name.clone());
        }
        // `-> T` outside the parameters' brackets, up to the header's end.
        let mut depth = 0i32;
        let arrow = header.iter().position(|token| {
            match token.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth -= 1,
                _ => {}
            }
            depth == 0 && token.kind == Kind::Op && self.text(token) == b"->"
        });
        let returns = match arrow {
            Some(at) if at + 1 < header.len() => Returns::Annotation(Span::new(
                header[at + 1].start as usize,
                header[header.len() - 1].end as usize,
            )),
            Some(_) => Returns::Unknown,
            None => Returns::Nothing,
        };
        self.facts.definitions.push(Definition {
            name: function_name,
            name_span: Span::new(name.start as usize, name.end as usize),
            span: self.header_span(header),
            kind: DefKind::Function {
                is_async: keyword_at == 1,
                decorated: std::mem::take(&mut self.decorated),
                returns,
            },
            context,
            parent,
        });
        index
    }

    fn header_span(&self, header: &[Token]) -> Span {
        Span::new(
            header[0].start as usize,
            header[header.len() - 1].end as usize,
        )
    }

    /// `class Name[T](Base, metaclass=M)`: returns the index of the new definition.
    fn class(&mut self, header: &[Token]) -> usize {
        let index = self.facts.definitions.len();
        let Some(name) = header.get(1).filter(|t| t.kind == Kind::Name) else {
            self.error(
                self.header_span(header),
                "invalid syntax: expected a class name",
            );
            return usize::MAX;
        };
        let mut i = 2;
        // PEP 695 type parameters.
        if header.get(i).is_some_and(|t| self.text(t) == b"[") {
            i = skip_group(header, i);
        }
        let mut bases = Vec::new();
        if header.get(i).is_some_and(|t| self.text(t) == b"(") {
            let end = skip_group(header, i);
            let inner = &header[i + 1..end.saturating_sub(1).max(i + 1)];
            for argument in split_top_level(inner, Kind::Comma) {
                let keyword = argument.len() > 1
                    && argument[0].kind == Kind::Name
                    && argument[1].kind == Kind::Equal;
                if argument.is_empty() || keyword || argument[0].kind == Kind::DoubleStar {
                    continue;
                }
                let mut text = String::new();
                let mut previous_word = false;
                for token in argument {
                    // `a if b else c` keeps its spaces; `pkg . Base` becomes `pkg.Base`.
                    let word = matches!(token.kind, Kind::Name | Kind::Number | Kind::String);
                    if word && previous_word {
                        text.push(' ');
                    }
                    previous_word = word;
                    text.push_str(&self.decode(self.text(token)));
                }
                bases.push(text);
            }
        }
        let context = self.context();
        let parent = self.parent();
        self.facts.definitions.push(Definition {
            name: self.string(name),
            name_span: Span::new(name.start as usize, name.end as usize),
            span: self.header_span(header),
            kind: DefKind::Class {
                bases,
                methods: Vec::new(),
            },
            context,
            parent,
        });
        index
    }

    fn is_type_checking(&self, condition: &[Token]) -> bool {
        condition
            .last()
            .is_some_and(|t| is_name(self.src, t, b"TYPE_CHECKING"))
            && condition
                .iter()
                .all(|t| matches!(t.kind, Kind::Name | Kind::Dot))
    }

    fn catches_import_error(&self, clause: &[Token]) -> bool {
        clause
            .iter()
            .take_while(|t| !is_name(self.src, t, b"as"))
            .any(|t| {
                t.kind == Kind::Name
                    && matches!(self.text(t), b"ImportError" | b"ModuleNotFoundError")
            })
    }

    fn global(&mut self, tokens: &[Token]) {
        // `global X` in a function binds X at module level when the function runs.
        for token in tokens[1..].iter().filter(|t| t.kind == Kind::Name) {
            let context = Context {
                scope: Scope::Module,
                conditional: true,
                ..Context::default()
            };
            self.variable(token, tokens, context);
        }
    }

    fn variable(&mut self, name: &Token, statement: &[Token], context: Context) {
        self.facts.definitions.push(Definition {
            name: self.string(name),
            name_span: Span::new(name.start as usize, name.end as usize),
            span: self.header_span(statement),
            kind: DefKind::Variable,
            context,
            parent: None,
        });
    }

    /// The names bound by an assignment target: `a`, `a, b`, `(a, [b, *c])`, the `c` of
    /// `a.b, c, d[0]`. An attribute or subscript element (`a.b`, `d[0]`, `(a, b)[0]`) binds
    /// nothing; a target that cannot be one (`a b`, `1`, `{a}`) binds nothing at all. One
    /// pass: a group is entered before it is known to be a target list, and the names read
    /// inside it are dropped again when an attribute or subscript follows its `)`.
    fn target_names<'t>(&self, target: &'t [Token]) -> Vec<&'t Token> {
        let mut names = Vec::new();
        // For each open group, how many names were read before it.
        let mut groups: Vec<usize> = Vec::new();
        // At the start of an element: after the start, a `,` or an opening bracket.
        let mut element_start = true;
        let mut i = 0;
        while let Some(token) = target.get(i) {
            let followed_by_trailer = || {
                target
                    .get(i + 1)
                    .is_some_and(|next| matches!(next.kind, Kind::Dot | Kind::Open))
            };
            match token.kind {
                Kind::Star if element_start => {}
                Kind::Name if element_start && !is_keyword(self.text(token)) => {
                    element_start = false;
                    if followed_by_trailer() {
                        i = element_end(target, i + 1);
                        continue;
                    }
                    names.push(token);
                }
                Kind::Open if element_start && self.text(token) != b"{" => {
                    groups.push(names.len());
                }
                Kind::Comma if !element_start => element_start = true,
                // After an element, a trailing `,` (`(a,)`) or the `(` (`()`).
                Kind::Close if self.text(token) != b"}" => {
                    let Some(before) = groups.pop() else {
                        return Vec::new();
                    };
                    element_start = false;
                    if followed_by_trailer() {
                        names.truncate(before);
                        i = element_end(target, i + 1);
                        continue;
                    }
                }
                _ => return Vec::new(),
            }
            i += 1;
        }
        if !groups.is_empty() {
            return Vec::new();
        }
        names
    }

    /// Module-level assignments, annotated assignments, `__all__` updates and `type X = ...`.
    fn bindings(&mut self, tokens: &[Token]) {
        let first = &tokens[0];
        // A target starts with a name, `(`, `[` or `*` (`*rest, last = ...`).
        if !matches!(first.kind, Kind::Name | Kind::Open | Kind::Star) {
            return;
        }
        if first.kind == Kind::Name && self.text(first) == b"__all__" {
            self.dunder_all(tokens);
        }
        // PEP 695 `type X = int`.
        if first.kind == Kind::Name
            && self.text(first) == b"type"
            && tokens.get(1).is_some_and(|t| t.kind == Kind::Name)
            && tokens
                .get(2)
                .is_some_and(|t| matches!(t.kind, Kind::Equal | Kind::Open))
        {
            let context = self.context();
            self.variable(&tokens[1], tokens, context);
            return;
        }
        let mut segments: Vec<&[Token]> = Vec::new();
        let mut depth = 0i32;
        let mut start = 0;
        let mut augmented = false;
        for (i, token) in tokens.iter().enumerate() {
            match token.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth -= 1,
                Kind::Name if depth == 0 && self.text(token) == b"lambda" => break,
                Kind::Equal if depth == 0 => {
                    segments.push(&tokens[start..i]);
                    start = i + 1;
                }
                // `x += 1` rebinds `x`, to a new value: never an alias.
                Kind::AugAssign if depth == 0 => {
                    segments.push(&tokens[start..i]);
                    start = i + 1;
                    augmented = true;
                    break;
                }
                _ => {}
            }
        }
        if segments.is_empty() {
            return;
        }
        let value = &tokens[start..];
        let target = if augmented {
            None
        } else {
            self.dotted_value(value)
        };
        let context = self.context();
        for (index, segment) in segments.iter().enumerate() {
            // `x: Final = y`: the annotation is not part of the target (a `:` inside brackets,
            // `d[1:2] = y`, is a slice).
            let before_colon = split_top_level(segment, Kind::Colon)
                .next()
                .unwrap_or(segment);
            let segment = match Some(before_colon.len()).filter(|&at| at < segment.len()) {
                Some(colon) if index == 0 => &segment[..colon],
                Some(_) => continue,
                None => segment,
            };
            let names = self.target_names(segment);
            let single = names.len() == 1 && segment.len() == 1;
            for name in names {
                let kind = match &target {
                    Some(target) if single => DefKind::Alias {
                        target: target.clone(),
                    },
                    _ => DefKind::Variable,
                };
                self.facts.definitions.push(Definition {
                    name: self.string(name),
                    name_span: Span::new(name.start as usize, name.end as usize),
                    span: self.header_span(tokens),
                    kind,
                    context,
                    parent: None,
                });
            }
        }
    }

    /// `a.b.C` as a whole expression.
    fn dotted_value(&self, value: &[Token]) -> Option<String> {
        let (name, end) = self.dotted_name(value, 0)?;
        (end == value.len() && !is_keyword(name.split('.').next().unwrap_or("").as_bytes()))
            .then_some(name)
    }

    /// `for a, (b, *c) in ...`: the target ends at the first `in` outside brackets (not the
    /// one of `for d[k in s] in ...`).
    fn for_targets(&mut self, header: &[Token]) {
        let mut depth = 0i32;
        let end = header
            .iter()
            .position(|token| {
                match token.kind {
                    Kind::Open => depth += 1,
                    Kind::Close => depth -= 1,
                    _ => {}
                }
                depth <= 0 && is_name(self.src, token, b"in")
            })
            .unwrap_or(header.len());
        let context = self.context();
        for name in self.target_names(&header[..end]) {
            self.variable(name, header, context);
        }
    }

    /// `with a as b, c as (d, e):`, `with (a as b, c as d):`: each target runs from its
    /// `as` to the next `,` or the `)` around the items.
    fn with_targets(&mut self, header: &[Token]) {
        let context = self.context();
        let mut depth = 0;
        let mut i = 0;
        while let Some(token) = header.get(i) {
            match token.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth -= 1,
                Kind::Name if self.text(token) == b"as" && depth <= 1 => {
                    // The target is balanced: the depth after it is the depth before.
                    let end = element_end(header, i + 1);
                    for name in self.target_names(&header[i + 1..end]) {
                        self.variable(name, header, context);
                    }
                    i = end;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// `__all__ = [...]`, `__all__ += [...]`, `__all__.extend([...])`, `__all__.append("x")`.
    fn dunder_all(&mut self, tokens: &[Token]) {
        let rest = match tokens.get(1).map(|t| t.kind) {
            Some(Kind::Equal) => &tokens[2..],
            Some(Kind::AugAssign) if self.text(&tokens[1]) == b"+=" => &tokens[2..],
            Some(Kind::Colon) => match tokens.iter().position(|t| t.kind == Kind::Equal) {
                Some(at) => &tokens[at + 1..],
                None => return,
            },
            Some(Kind::Dot)
                if tokens
                    .get(2)
                    .is_some_and(|t| matches!(self.text(t), b"extend" | b"append")) =>
            {
                &tokens[3..]
            }
            _ => return,
        };
        let replace = tokens[1].kind == Kind::Equal || tokens[1].kind == Kind::Colon;
        let mut names = Vec::new();
        let mut dynamic = false;
        for token in rest {
            match token.kind {
                Kind::String if !token.str_flags.formatted && !token.str_flags.bytes => {
                    names.push(self.decode(token.string_contents(self.src)));
                }
                Kind::Open | Kind::Close | Kind::Comma => {}
                _ => dynamic = true,
            }
        }
        let exports = self.facts.exports.get_or_insert_with(Exports::default);
        if replace {
            exports.names.clear();
            exports.dynamic = false;
        }
        exports.names.extend(names);
        exports.dynamic |= dynamic;
    }

    /// Dotted strings: `import_module("a.b")`, `__import__("a")`, `patch("a.b.C")`,
    /// `patch.object(a.b.C, "x")`, `sys.modules["a"]`, and any other `"a.b"` literal.
    fn string_refs(&mut self, tokens: &[Token]) {
        // Every reference, `patch.object(...)` included, has a string literal in it.
        if !tokens.iter().any(|t| t.kind == Kind::String) {
            return;
        }
        for (i, token) in tokens.iter().enumerate() {
            let kind = match token.kind {
                Kind::String => {
                    let flags = token.str_flags;
                    if flags.formatted || flags.bytes || flags.unterminated {
                        continue;
                    }
                    let call = |back: usize| i.checked_sub(back).map(|at| &tokens[at]);
                    let called = call(1).is_some_and(|t| self.text(t) == b"(");
                    let callee = call(2)
                        .filter(|t| t.kind == Kind::Name)
                        .map(|t| self.text(t));
                    let method_of =
                        call(4).filter(|_| call(3).is_some_and(|t| t.kind == Kind::Dot));
                    let kind = match callee {
                        Some(b"import_module") if called => StringRefKind::ImportModule,
                        Some(b"__import__") if called => StringRefKind::DunderImport,
                        Some(b"patch") if called => StringRefKind::Patch,
                        Some(b"multiple" | b"dict")
                            if called
                                && method_of.is_some_and(|t| is_name(self.src, t, b"patch")) =>
                        {
                            StringRefKind::Patch
                        }
                        Some(b"modules")
                            if call(1).is_some_and(|t| self.text(t) == b"[")
                                && method_of.is_some_and(|t| is_name(self.src, t, b"sys")) =>
                        {
                            StringRefKind::SysModules
                        }
                        _ => StringRefKind::Other,
                    };
                    let contents = token.string_contents(self.src);
                    let needs_dot = kind == StringRefKind::Other;
                    if !is_dotted_path(contents, needs_dot) {
                        continue;
                    }
                    (kind, self.decode(contents), *token)
                }
                // `patch.object(a.b.C, "attr")`
                Kind::Name
                    if self.text(token) == b"object"
                        && i >= 2
                        && tokens[i - 1].kind == Kind::Dot
                        && is_name(self.src, &tokens[i - 2], b"patch")
                        && tokens.get(i + 1).is_some_and(|t| self.text(t) == b"(") =>
                {
                    let Some((value, end)) = self.dotted_name(tokens, i + 2) else {
                        continue;
                    };
                    if !tokens.get(end).is_some_and(|t| t.kind == Kind::Comma) {
                        continue;
                    }
                    let span = Token {
                        start: tokens[i + 2].start,
                        end: tokens[end - 1].end,
                        ..*token
                    };
                    (StringRefKind::PatchObject, value, span)
                }
                _ => continue,
            };
            let (kind, value, token) = kind;
            let context = self.context();
            self.facts.string_refs.push(StringRef {
                kind,
                value,
                span: Span::new(token.start as usize, token.end as usize),
                context,
            });
        }
    }
}

/// What decides whether a dotted name in a statement is an assignment target.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// The first depth-0 `:` (an annotation follows it in a simple statement).
    colon: Option<usize>,
    /// The last depth-0 `=` or augmented assignment.
    assign: Option<usize>,
    /// A `for` anywhere (a `for` statement or a comprehension).
    has_for: bool,
}

impl Shape {
    fn of(src: &[u8], tokens: &[Token]) -> Shape {
        let mut depth = 0i32;
        let mut shape = Shape {
            colon: None,
            assign: None,
            has_for: false,
        };
        for (i, token) in tokens.iter().enumerate() {
            match token.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth -= 1,
                Kind::Colon if depth == 0 && shape.colon.is_none() => shape.colon = Some(i),
                Kind::Equal | Kind::AugAssign if depth == 0 => shape.assign = Some(i),
                Kind::Name if token.text(src) == b"for" => shape.has_for = true,
                _ => {}
            }
        }
        shape
    }
}

/// The index of the first `,` outside brackets, or of the unmatched closing bracket, at or
/// after `from` (`tokens.len()` when there is none): where the element of a list that
/// starts at `from` ends (`b.c[0]` of `(a, b.c[0], d)`).
fn element_end(tokens: &[Token], from: usize) -> usize {
    let mut depth = 0u32;
    for (i, token) in tokens.iter().enumerate().skip(from) {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close if depth == 0 => return i,
            Kind::Close => depth -= 1,
            Kind::Comma if depth == 0 => return i,
            _ => {}
        }
    }
    tokens.len()
}

/// The index after the bracket group opening at `open`.
pub(crate) fn skip_group(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// `a.b.C` (identifiers joined by dots, no spaces); with `needs_dot`, at least two parts.
fn is_dotted_path(text: &[u8], needs_dot: bool) -> bool {
    if text.is_empty() || text.len() > 512 {
        return false;
    }
    let mut parts = 0;
    for part in text.split(|&b| b == b'.') {
        let Some(&first) = part.first() else {
            return false;
        };
        if first.is_ascii_digit()
            || !part
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        {
            return false;
        }
        parts += 1;
    }
    parts > 1 || !needs_dot
}

/// PEP 263: the encoding named by a `coding[:=]` comment on line 1 or 2, lower-cased.
fn declared_encoding(src: &[u8]) -> Option<String> {
    for line in src.split(|&b| b == b'\n').take(2) {
        let trimmed = line.trim_ascii_start();
        if !trimmed.starts_with(b"#") {
            continue;
        }
        let Some(at) = memchr::memmem::find(trimmed, b"coding") else {
            continue;
        };
        let rest = &trimmed[at + 6..];
        if !matches!(rest.first(), Some(b':' | b'=')) {
            continue;
        }
        let name: Vec<u8> = rest[1..]
            .trim_ascii_start()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .map(u8::to_ascii_lowercase)
            .collect();
        return Some(String::from_utf8_lossy(&name).into_owned());
    }
    None
}

/// Whether a logical line starts a compound statement: `if`, `for`, `def`, ... (the soft
/// keywords `match` and `case` only when they start a header: not `match = 1`,
/// `match.group()` or `match(x)`).
pub(crate) fn is_compound(src: &[u8], tokens: &[Token]) -> bool {
    let Some(first) = tokens.first().filter(|t| t.kind == Kind::Name) else {
        return false;
    };
    match first.text(src) {
        b"if" | b"elif" | b"else" | b"while" | b"for" | b"try" | b"except" | b"finally"
        | b"with" | b"def" | b"class" => true,
        b"async" => tokens
            .get(1)
            .is_some_and(|t| matches!(t.text(src), b"def" | b"for" | b"with")),
        b"match" | b"case" => {
            tokens.len() > 2
                && !matches!(
                    tokens[1].kind,
                    Kind::Equal
                        | Kind::Colon
                        | Kind::Dot
                        | Kind::AugAssign
                        | Kind::Walrus
                        | Kind::Comma
                        | Kind::Semi
                )
                && header_colon(src, tokens).is_some()
                && !(tokens[1].kind == Kind::Open
                    && header_colon(src, tokens) == Some(tokens.len()))
        }
        _ => false,
    }
}

/// The index of the `:` ending a compound statement header: the first one at depth 0 that
/// does not belong to a `lambda`.
pub(crate) fn header_colon(src: &[u8], tokens: &[Token]) -> Option<usize> {
    let mut depth = 0i32;
    let mut lambdas = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth -= 1,
            Kind::Name if depth == 0 && token.text(src) == b"lambda" => lambdas += 1,
            Kind::Colon if depth == 0 => {
                if lambdas == 0 {
                    return Some(i);
                }
                lambdas -= 1;
            }
            _ => {}
        }
    }
    None
}

/// `# ssot: ignore[SSOT001, SSOT002] reason` anywhere in a comment.
fn suppressions(src: &[u8], comments: &[Span]) -> Vec<Suppression> {
    let finder = memchr::memmem::Finder::new(b"ssot:");
    let mut out = Vec::new();
    for &span in comments {
        let text = &src[span.range()];
        let Some(at) = finder.find(text) else {
            continue;
        };
        let rest = text[at + 5..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"ignore") else {
            continue;
        };
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
        out.push(Suppression {
            span: Span::new(span.start as usize + at, span.end as usize),
            codes,
            reason: (!reason.is_empty()).then_some(reason),
        });
    }
    out
}
