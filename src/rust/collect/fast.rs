//! The fast path: the items of a file read straight from its bytes, without a token stream or
//! a syntax tree, into the same [`Collector`] the syn path fills.
//!
//! It reads what the collector needs and nothing more: attributes, visibilities, `use`
//! trees, the headers of items and the bodies of modules, traits and impls. Every other
//! group is skipped in one tight loop (a function body is most of a file's bytes), which
//! notes whether the group could hold an item or an attribute. Where the syn path would read
//! something this path does not (an item or attribute inside a block, a macro body that
//! names an item, an `extern` block, a construct it does not know, anything the lexer would
//! reject), it gives up on the whole file with [`Bail`], and the file is collected the slow
//! way. The two are held equal by `tests/it/rust_fast.rs` over every file of the local cargo
//! registry.

use super::{
    Collector, DefKind, Import, ImportKind, ImportedName, ModuleDecl, Returns, Scope, Span,
    StringRef, StringRefKind, Visibility, compact, doc_links, is_path, lexical, mentions_items,
    module_context, use_imports,
};
use crate::facts::FileFacts;

/// The file holds something the fast path does not read; `line` is the line of this file
/// that gave up (for finding what the fast path misses most).
#[derive(Debug)]
pub(super) struct Bail {
    pub line: u32,
}

#[track_caller]
fn bail() -> Bail {
    Bail {
        line: std::panic::Location::caller().line(),
    }
}

type Read<T> = Result<T, Bail>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Lifetime,
    /// A plain string literal, `"..."`.
    Str,
    /// Any other literal: raw, byte and C strings, chars, numbers.
    Lit,
    Punct(u8),
    Open(u8),
    Close(u8),
    End,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

/// What one outer or inner attribute says to the collector.
#[derive(Default)]
struct Attrs {
    /// `#[cfg(..)]` or `#[test]`.
    conditional: bool,
    macro_export: bool,
    /// `#[path = ".."]` and `path = ".."` inside `#[cfg_attr(..)]`.
    paths: Vec<String>,
}

struct Reader<'c, 'a> {
    c: &'c mut Collector<'a>,
    text: &'a [u8],
    pos: usize,
    /// The doc comments outside macro bodies, for their links.
    docs: Vec<std::ops::Range<usize>>,
    refs: Vec<StringRef>,
    /// Inside a macro body read as items: syn never visits those for string paths, and takes
    /// a doc comment there for an attribute (which must precede an item), so none may be.
    quiet: u32,
    /// The last token [`Reader::peek`] read: where it was read from, the token, and where
    /// reading it left off; [`Reader::next`] from the same place takes it.
    peeked: Option<(usize, Tok, usize)>,
    /// How deep the reader has recursed (items in blocks in items, use groups, attribute
    /// lists): past [`MAX_DEPTH`], the file is the syn path's, which knows deep files.
    depth: u32,
}

/// How deep syn's `macro_groups` looks for blocks of items in a macro body.
const MACRO_GROUP_DEPTH: usize = super::MACRO_GROUP_DEPTH;

/// The deepest the reader recurses, well inside the smallest stack it runs on.
const MAX_DEPTH: u32 = 64;

/// Reads `text` (valid UTF-8) into a fresh collector's facts, or [`Bail`]s.
pub(super) fn read(text: &str) -> Read<FileFacts> {
    let bytes = text.as_bytes();
    // A shebang line or a byte order mark: the slow path knows them.
    if bytes.starts_with(b"#!") && !bytes[2..].trim_ascii_start().starts_with(b"[")
        || bytes.starts_with("\u{feff}".as_bytes())
    {
        return Err(bail());
    }
    let mut collector = Collector::bare(text);
    let mut reader = Reader {
        c: &mut collector,
        text: bytes,
        pos: 0,
        docs: Vec::new(),
        refs: Vec::new(),
        depth: 0,
        quiet: 0,
        peeked: None,
    };
    let inner = reader.inner_attrs()?;
    reader.c.ctx.conditional = inner.conditional;
    reader.items(None)?;
    let Reader { docs, mut refs, .. } = reader;
    for doc in docs {
        for (from, to) in doc_links(&bytes[doc.clone()]) {
            let span = Span::new(doc.start + from, doc.start + to);
            refs.push(StringRef {
                kind: StringRefKind::DocLink,
                value: text[span.range()].to_string(),
                span,
                context: module_context(),
            });
        }
    }
    let mut facts = collector.finish(Vec::new());
    refs.sort_by_key(|reference| reference.span);
    facts.string_refs = refs;
    Ok(facts)
}

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Reader<'_, 'a> {
    /// Runs `read` one level deeper, or bails past [`MAX_DEPTH`].
    fn deeper<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        if self.depth >= MAX_DEPTH {
            return Err(bail());
        }
        self.depth += 1;
        let result = read(self);
        self.depth -= 1;
        result
    }

    // ---- lexing ----

    fn text(&self, tok: Tok) -> &'a [u8] {
        &self.text[tok.start..tok.end]
    }

    fn is(&self, tok: Tok, word: &str) -> bool {
        tok.kind == Kind::Ident && self.text(tok) == word.as_bytes()
    }

    /// Skips blanks and comments (noting doc comments when `docs`); `Bail` on an unclosed
    /// block comment.
    fn blanks(&mut self, docs: bool) -> Read<()> {
        let text = self.text;
        loop {
            while self.pos < text.len() && matches!(text[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            }
            if text.get(self.pos) != Some(&b'/') {
                return Ok(());
            }
            match text.get(self.pos + 1) {
                Some(b'/') => {
                    let at = self.pos;
                    let end =
                        memchr::memchr2(b'\n', b'\r', &text[at..]).map_or(text.len(), |n| at + n);
                    let body = &text[at + 2..end];
                    let doc = (body.starts_with(b"/") && !body.starts_with(b"//"))
                        || body.starts_with(b"!");
                    if docs && doc {
                        self.doc_comment(at..end, body.starts_with(b"!"))?;
                    }
                    self.pos = end;
                }
                Some(b'*') => {
                    let at = self.pos;
                    let (end, inner_end) = block_comment_end(text, at).ok_or(bail())?;
                    let body = &text[at + 2..inner_end];
                    let doc = (body.len() >= 2 && body[0] == b'*' && body[1] != b'*')
                        || body.starts_with(b"!");
                    if docs && doc {
                        self.doc_comment(at..end, body.starts_with(b"!"))?;
                    }
                    self.pos = end;
                }
                _ => return Ok(()),
            }
        }
    }

    /// A doc comment (`inner`: `//!` or `/*!`) at `range`: its links are read later; in a
    /// macro body, syn reads an outer one as an attribute, which an item must follow.
    fn doc_comment(&mut self, range: std::ops::Range<usize>, inner: bool) -> Read<()> {
        if self.quiet > 0 {
            if inner || dangling(self.text, range.end) {
                return Err(bail());
            }
            return Ok(());
        }
        self.doc(range);
        Ok(())
    }

    /// Notes a doc comment once, however often a peek reads it again.
    fn doc(&mut self, range: std::ops::Range<usize>) {
        if self.docs.last().is_none_or(|last| last.start < range.start) {
            self.docs.push(range);
        }
    }

    /// The next token at the level being read (doc comments noted).
    fn next(&mut self) -> Read<Tok> {
        if let Some((from, tok, to)) = self.peeked
            && from == self.pos
        {
            self.pos = to;
            return Ok(tok);
        }
        self.blanks(true)?;
        self.lex()
    }

    fn peek(&mut self) -> Read<Tok> {
        let pos = self.pos;
        let tok = self.next()?;
        self.peeked = Some((pos, tok, self.pos));
        self.pos = pos;
        Ok(tok)
    }

    /// The token at `pos` (blanks already skipped).
    fn lex(&mut self) -> Read<Tok> {
        let text = self.text;
        let start = self.pos;
        let Some(&b) = text.get(start) else {
            return Ok(Tok {
                kind: Kind::End,
                start,
                end: start,
            });
        };
        let (kind, end) = match b {
            b'"' => (Kind::Str, string_end(text, start + 1).ok_or(bail())?),
            b'\'' => match char_end(text, start) {
                Some(end) => (Kind::Lit, end),
                None => {
                    let mut end = start + 1;
                    if text.get(end) == Some(&b'r') && text.get(end + 1) == Some(&b'#') {
                        end += 2;
                    }
                    let from = end;
                    while end < text.len() && word(text[end]) {
                        end += 1;
                    }
                    if end == from {
                        return Err(bail());
                    }
                    (Kind::Lifetime, end)
                }
            },
            b'0'..=b'9' => {
                let mut end = start + 1;
                while end < text.len()
                    && (word(text[end])
                        || (text[end] == b'.' && text.get(end + 1).is_some_and(u8::is_ascii_digit)))
                {
                    end += 1;
                }
                (Kind::Lit, end)
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                if let Some(end) = prefixed_literal(text, start)? {
                    (Kind::Lit, end)
                } else {
                    let mut end = start + 1;
                    if b == b'r' && text.get(end) == Some(&b'#') {
                        end += 1;
                    }
                    while end < text.len() && word(text[end]) {
                        end += 1;
                    }
                    if text.get(end).is_some_and(|&b| b >= 0x80) {
                        return Err(bail());
                    }
                    (Kind::Ident, end)
                }
            }
            b'(' | b'[' | b'{' => (Kind::Open(b), start + 1),
            b')' | b']' | b'}' => (Kind::Close(b), start + 1),
            // A macro's metavariable: syn rejects it where the reader might not.
            b'$' if self.quiet > 0 => return Err(bail()),
            b'!' | b'#' | b'$' | b'%' | b'&' | b'*' | b'+' | b',' | b'-' | b'.' | b'/' | b':'
            | b';' | b'<' | b'=' | b'>' | b'?' | b'@' | b'^' | b'|' | b'~' => {
                (Kind::Punct(b), start + 1)
            }
            _ => return Err(bail()),
        };
        // A suffix (`"a"x`, `1u8`) is part of the literal.
        let (mut kind, mut end) = (kind, end);
        if matches!(kind, Kind::Str | Kind::Lit) && text.get(end).is_some_and(|&b| word(b)) {
            kind = Kind::Lit;
            while end < text.len() && word(text[end]) {
                end += 1;
            }
        }
        self.pos = end;
        Ok(Tok { kind, start, end })
    }

    fn expect_punct(&mut self, b: u8) -> Read<Tok> {
        let tok = self.next()?;
        if tok.kind == Kind::Punct(b) {
            Ok(tok)
        } else {
            Err(bail())
        }
    }

    fn ident(&mut self) -> Read<Tok> {
        let tok = self.next()?;
        if tok.kind == Kind::Ident {
            Ok(tok)
        } else {
            Err(bail())
        }
    }

    /// `::` right here (no blank between the colons).
    fn colons(&mut self) -> Read<Option<Tok>> {
        let tok = self.peek()?;
        if tok.kind == Kind::Punct(b':') && self.text.get(tok.end) == Some(&b':') {
            self.next()?;
            self.pos += 1;
            return Ok(Some(Tok {
                kind: Kind::Punct(b':'),
                start: tok.start,
                end: tok.end + 1,
            }));
        }
        Ok(None)
    }

    fn name(&self, tok: Tok) -> String {
        let text = self.text(tok);
        let text = text.strip_prefix(b"r#").unwrap_or(text);
        String::from_utf8_lossy(text).into_owned()
    }

    fn span(tok: Tok) -> Span {
        Span::new(tok.start, tok.end)
    }

    /// From `start` to `end` with trailing blanks trimmed.
    fn header(&self, start: usize, end: usize) -> Span {
        let mut end = end.max(start);
        while end > start && self.text[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        Span::new(start, end)
    }

    // ---- groups ----

    /// Skips the rest of the group whose opener `open` was just read. With `block`, the
    /// group is a block (it may hold items); so is every `{ .. }` inside that is not in a
    /// macro body: an item keyword or an attribute in a block bails, and an attribute
    /// elsewhere is read. `macro_body`: the group is a macro call's body (its doc comments
    /// are not read, as the skim does not cut them). Returns the closer.
    fn skip(&mut self, open: u8, block: bool, macro_body: bool) -> Read<Tok> {
        #[derive(Clone, Copy, PartialEq)]
        enum Last {
            None,
            Word(usize, usize),
            Byte(u8),
        }
        let text = self.text;
        // Per open group: its closer, whether it is (inside) a macro body, whether a block.
        let mut stack: Vec<(u8, bool, bool)> = vec![(closer(open), macro_body, block)];
        let mut blocks = usize::from(block);
        let (mut last, mut before, mut before2) = (Last::Byte(open), Last::None, Last::None);
        loop {
            let at = self.pos;
            let Some(&b) = text.get(at) else {
                return Err(bail());
            };
            let in_macro = stack.last().is_some_and(|&(_, m, _)| m);
            let token = match b {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    // Blanks come in runs (indentation): no token.
                    let mut end = at + 1;
                    while end < text.len() && matches!(text[end], b' ' | b'\t' | b'\n' | b'\r') {
                        end += 1;
                    }
                    self.pos = end;
                    continue;
                }
                b'/' if matches!(text.get(at + 1), Some(b'/' | b'*')) => {
                    self.blanks(!in_macro)?;
                    continue;
                }
                b'"' => {
                    self.pos = string_end(text, at + 1).ok_or(bail())?;
                    Last::Byte(b'"')
                }
                b'\'' => {
                    self.pos = char_end(text, at).unwrap_or_else(|| lifetime_end(text, at));
                    Last::Byte(b'\'')
                }
                b'(' | b'[' | b'{' => {
                    let word = |token: Last| match token {
                        Last::Word(start, end) => Some(&text[start..end]),
                        _ => None,
                    };
                    // `name! (` and `macro_rules! name {`.
                    let name = if last == Last::Byte(b'!') {
                        word(before)
                    } else if before == Last::Byte(b'!') && matches!(last, Last::Word(..)) {
                        word(before2).filter(|&name| name == b"macro_rules")
                    } else {
                        None
                    };
                    let is_macro = last == Last::Byte(b'!') || name.is_some();
                    self.pos = at + 1;
                    if !in_macro
                        && name.is_some_and(|name| {
                            lexical::TEMPLATES.iter().any(|t| t.as_bytes() == name)
                        })
                    {
                        // A template (`quote! { .. }`): never read, marking nothing.
                        self.skip_template(b)?;
                        Last::Byte(closer(b))
                    } else {
                        let is_block = b == b'{' && !in_macro && !is_macro;
                        blocks += usize::from(is_block);
                        stack.push((closer(b), in_macro || is_macro, is_block));
                        Last::Byte(b)
                    }
                }
                b')' | b']' | b'}' => {
                    let (expected, _, was_block) = stack.pop().ok_or(bail())?;
                    if b != expected {
                        return Err(bail());
                    }
                    blocks -= usize::from(was_block);
                    self.pos = at + 1;
                    if stack.is_empty() {
                        return Ok(Tok {
                            kind: Kind::Close(b),
                            start: at,
                            end: at + 1,
                        });
                    }
                    Last::Byte(b)
                }
                b'#' => {
                    if blocks > 0 {
                        return Err(bail());
                    }
                    self.pos = at + 1;
                    if !in_macro {
                        // A field's, a parameter's or an expression's attribute.
                        self.attribute_after_hash(false)?;
                        Last::Byte(b']')
                    } else {
                        Last::Byte(b'#')
                    }
                }
                b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                    if let Some(end) = prefixed_literal(text, at)? {
                        self.pos = end;
                        Last::Byte(b'"')
                    } else {
                        let mut end = at + 1;
                        if b == b'r' && text.get(end) == Some(&b'#') {
                            end += 1;
                        }
                        while end < text.len() && (word(text[end]) || text[end] >= 0x80) {
                            end += 1;
                        }
                        if blocks > 0
                            && last != Last::Byte(b'.')
                            && lexical::item_keyword(&text[at..end]).is_some()
                        {
                            return Err(bail());
                        }
                        self.pos = end;
                        Last::Word(at, end)
                    }
                }
                b'0'..=b'9' => {
                    let mut end = at + 1;
                    while end < text.len() && word(text[end]) {
                        end += 1;
                    }
                    self.pos = end;
                    Last::Byte(b'0')
                }
                b'$' if self.quiet > 0 && !in_macro => return Err(bail()),
                b'!' | b'$' | b'%' | b'&' | b'*' | b'+' | b',' | b'-' | b'.' | b'/' | b':'
                | b';' | b'<' | b'=' | b'>' | b'?' | b'@' | b'^' | b'|' | b'~' => {
                    self.pos = at + 1;
                    Last::Byte(b)
                }
                _ => return Err(bail()),
            };
            before2 = before;
            before = last;
            last = token;
        }
    }

    /// Skips a template macro's body (`quote! { .. }`): tokens only.
    fn skip_template(&mut self, open: u8) -> Read<()> {
        let text = self.text;
        let mut stack = vec![closer(open)];
        while let Some(&expected) = stack.last() {
            self.blanks(false)?;
            let at = self.pos;
            let Some(&b) = text.get(at) else {
                return Err(bail());
            };
            match b {
                b'"' => self.pos = string_end(text, at + 1).ok_or(bail())?,
                b'\'' => self.pos = char_end(text, at).unwrap_or_else(|| lifetime_end(text, at)),
                b'(' | b'[' | b'{' => {
                    stack.push(closer(b));
                    self.pos = at + 1;
                }
                b')' | b']' | b'}' => {
                    if b != expected {
                        return Err(bail());
                    }
                    stack.pop();
                    self.pos = at + 1;
                }
                b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                    if b.is_ascii()
                        && let Some(end) = prefixed_literal(text, at)?
                    {
                        self.pos = end;
                        continue;
                    }
                    let mut end = at + 1;
                    if b == b'r' && text.get(end) == Some(&b'#') {
                        end += 1;
                    }
                    while end < text.len() && (word(text[end]) || text[end] >= 0x80) {
                        end += 1;
                    }
                    self.pos = end;
                }
                b'0'..=b'9'
                | b'!'
                | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'*'
                | b'+'
                | b','
                | b'-'
                | b'.'
                | b'/'
                | b':'
                | b';'
                | b'<'
                | b'='
                | b'>'
                | b'?'
                | b'@'
                | b'^'
                | b'|'
                | b'~' => self.pos = at + 1,
                _ => return Err(bail()),
            }
        }
        Ok(())
    }

    /// A block (`{` just read): it must hold nothing the collector reads.
    fn block(&mut self) -> Read<Tok> {
        self.skip(b'{', true, false)
    }

    /// Reads tokens of a region that is not a block (a type, an expression, a where clause)
    /// up to the first token `stop` accepts at angle-bracket depth 0 (with `angles`), and
    /// returns it. Groups inside are skipped: blocks must be empty of items, other groups
    /// have their attributes read; a macro call's body is not read.
    fn region(&mut self, angles: bool, stop: impl Fn(&Self, Tok) -> bool) -> Read<Tok> {
        self.region_each(angles, stop, |_, _, _| Ok(()))
    }

    /// [`Reader::region`], giving every other token to `each` with the angle-bracket depth
    /// after it: a group as one token from its opener to its closer, an attribute not at all.
    fn region_each(
        &mut self,
        angles: bool,
        stop: impl Fn(&Self, Tok) -> bool,
        mut each: impl FnMut(&mut Self, Tok, usize) -> Read<()>,
    ) -> Read<Tok> {
        let mut depth = 0usize;
        let mut last = Kind::End;
        loop {
            let tok = self.next()?;
            if (depth == 0 || !angles) && stop(self, tok) {
                return Ok(tok);
            }
            let tok = match tok.kind {
                Kind::End | Kind::Close(_) => return Err(bail()),
                Kind::Open(b) => {
                    let close = if last == Kind::Punct(b'!') {
                        self.skip(b, false, true)?
                    } else if b == b'{' {
                        self.block()?
                    } else {
                        self.skip(b, false, false)?
                    };
                    Tok {
                        end: close.end,
                        ..tok
                    }
                }
                Kind::Punct(b'#') => {
                    self.attribute_after_hash(false)?;
                    last = Kind::Close(b']');
                    continue;
                }
                Kind::Punct(b'<') if angles => {
                    depth += 1;
                    tok
                }
                Kind::Punct(b'>') if angles && last != Kind::Punct(b'-') => {
                    depth = depth.checked_sub(1).ok_or(bail())?;
                    tok
                }
                _ => tok,
            };
            each(self, tok, depth)?;
            last = match tok.kind {
                Kind::Open(b) => Kind::Close(closer(b)),
                kind => kind,
            };
        }
    }

    /// The rest of a block whose `{` was just read, in the context of the function (or
    /// initializer) it belongs to: items start statements (after `{`, `;`, a `}` or
    /// attributes), and are read as at module level; attributes anywhere have their string
    /// paths read; a macro call's body must hold no item keyword. Returns the `}`.
    fn body(&mut self) -> Read<Tok> {
        self.statements(b'}')
    }

    /// [`Reader::body`] up to `close`.
    fn statements(&mut self, close: u8) -> Read<Tok> {
        let mut start = true;
        let mut last = Kind::Open(b'{');
        loop {
            let tok = self.peek()?;
            match tok.kind {
                Kind::Close(b) if b == close => return self.next(),
                Kind::End | Kind::Close(_) => return Err(bail()),
                Kind::Punct(b'#') => {
                    if self.text.get(tok.end) == Some(&b'!') {
                        // An inner attribute: nothing but its string paths.
                        let attrs = self.inner_attrs()?;
                        if attrs.conditional {
                            return Err(bail());
                        }
                        continue;
                    }
                    let attrs = self.outer_attrs()?;
                    if start && self.item_here()? {
                        self.deeper(|this| this.item_after(attrs))?;
                        last = Kind::Punct(b';');
                        continue;
                    }
                    if start && self.macro_statement()? {
                        last = Kind::Punct(b';');
                        continue;
                    }
                    last = Kind::Close(b']');
                    continue;
                }
                Kind::Ident if start && self.item_here()? => {
                    self.item()?;
                    last = Kind::Punct(b';');
                    continue;
                }
                Kind::Ident | Kind::Punct(b':') if start && self.macro_statement()? => {
                    last = Kind::Punct(b';');
                    continue;
                }
                _ => {}
            }
            self.next()?;
            start = matches!(tok.kind, Kind::Punct(b';'));
            if let Kind::Open(b) = tok.kind {
                self.deeper(|this| this.group(b, last == Kind::Punct(b'!')))?;
                start = b == b'{';
                last = Kind::Close(closer(b));
                continue;
            }
            last = tok.kind;
        }
    }

    /// A macro call starting a statement (`path! { .. }`, `path!(..);`): read as syn reads a
    /// `Stmt::Macro` (a brace-delimited call not followed by `.` or `?`, or a call followed by
    /// `;`); `false`, with nothing read, when no macro call starts here. A call that is only
    /// part of an expression (`f!(x).g()`, `f!(x) + 1`) is never read by the syn path.
    fn macro_statement(&mut self) -> Read<bool> {
        let pos = self.pos;
        let path = self.macro_path()?;
        let Some(name) = path else {
            self.pos = pos;
            return Ok(false);
        };
        let open = self.next()?;
        let Kind::Open(b) = open.kind else {
            return Err(bail());
        };
        let close = self.skip(b, false, true)?;
        let after = self.peek()?;
        let dot = after.kind == Kind::Punct(b'.') && self.text.get(after.end) != Some(&b'.');
        let statement = after.kind == Kind::Punct(b';')
            || (b == b'{' && !dot && after.kind != Kind::Punct(b'?'));
        if statement {
            self.macro_body(name, b, open.end, close)?;
            if after.kind == Kind::Punct(b';') {
                self.next()?;
            }
            return Ok(true);
        }
        // Part of an expression: the statement goes on after the call.
        self.pos = pos;
        Ok(false)
    }

    /// `path !` here, read, with the path's last name; `None` (and something read) when
    /// not.
    fn macro_path(&mut self) -> Read<Option<Tok>> {
        self.colons()?;
        let mut last = self.next()?;
        if last.kind != Kind::Ident {
            return Ok(None);
        }
        while self.colons()?.is_some() {
            last = self.next()?;
            if last.kind != Kind::Ident {
                return Ok(None);
            }
        }
        let bang = self.peek()?;
        if bang.kind != Kind::Punct(b'!') {
            return Ok(None);
        }
        self.next()?;
        let open = self.peek()?;
        if !matches!(open.kind, Kind::Open(_)) {
            return Ok(None);
        }
        Ok(Some(last))
    }

    /// The body (from `from` to its closer `close`, already skipped) of a macro call that
    /// the syn path reads: nothing when it is a template or holds no item keyword; else its
    /// items, read quietly and as conditional (`cfg_if! { if #[cfg(..)] { .. } else { .. } }`:
    /// those of its top-level blocks), or in a function its statements.
    fn macro_body(&mut self, name: Tok, open: u8, from: usize, close: Tok) -> Read<()> {
        let template = lexical::TEMPLATES
            .iter()
            .any(|t| t.as_bytes() == self.text(name));
        if template || !keyword_tokens(&self.text[from..close.start]) {
            return Ok(());
        }
        let end = self.pos;
        self.pos = from;
        let saved = self.c.ctx;
        self.c.ctx.conditional = true;
        self.quiet += 1;
        let read = self.deeper(|this| this.macro_items(closer(open)));
        self.quiet -= 1;
        self.c.ctx = saved;
        read?;
        if self.pos != end {
            return Err(bail());
        }
        Ok(())
    }

    /// A macro body's items (or statements, in a function) up to `close`.
    fn macro_items(&mut self, close: u8) -> Read<()> {
        self.macro_items_at(close, MACRO_GROUP_DEPTH)
    }

    /// [`Reader::macro_items`] with syn's `macro_groups` depth left.
    fn macro_items_at(&mut self, close: u8, depth: usize) -> Read<()> {
        if self.interpolated(close)? {
            // `quote_block! { struct S #generics { .. } }`: neither items nor statements.
            return self.interpolated_groups(close, depth);
        }
        let function = self.c.ctx.scope == Scope::Function;
        let first = self.peek()?;
        // Certainly not items (syn's `parse_items` fails at once): a literal, or a word no
        // item starts with; then syn reads the blocks at the top level.
        let not_items = matches!(first.kind, Kind::Str | Kind::Lit)
            || (first.kind == Kind::Ident
                && matches!(
                    self.text(first),
                    b"if"
                        | b"else"
                        | b"match"
                        | b"let"
                        | b"while"
                        | b"for"
                        | b"loop"
                        | b"return"
                        | b"in"
                        | b"as"
                        | b"where"
                ));
        if function && !self.is(first, "if") && not_items {
            return Err(bail());
        }
        if !not_items {
            if function {
                self.statements(close)?;
            } else {
                self.inner_attrs()?;
                self.items(Some(close))?;
            }
            return Ok(());
        }
        // Not items: syn reads the blocks at its top level.
        loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Close(b) if b == close => return Ok(()),
                Kind::End | Kind::Close(_) => return Err(bail()),
                Kind::Open(b'{') => {
                    if function {
                        self.body()?;
                    } else if depth > 1 {
                        self.deeper(|this| this.macro_items_at(b'}', depth - 1))?;
                    } else {
                        self.inner_attrs()?;
                        self.items(Some(b'}'))?;
                    }
                }
                Kind::Open(b) => {
                    self.skip(b, false, true)?;
                }
                _ => {}
            }
        }
    }

    /// Whether the group from `pos` to its `close` holds a `#` before a word or a `(`: a
    /// `quote!`-style interpolation (`#name`, `#(#items)*`), at its top level or in a group
    /// inside that syn parses too (not a macro call's body, not an attribute's brackets). No
    /// item and no statement holds one (a `#` starts an attribute, `#[` or `#![`), so syn
    /// parses the group neither as items nor as statements. `pos` is left where it was.
    fn interpolated(&mut self, close: u8) -> Read<bool> {
        let start = self.pos;
        let found = self.deeper(|this| this.interpolated_within(close));
        self.pos = start;
        found
    }

    fn interpolated_within(&mut self, close: u8) -> Read<bool> {
        let (mut last, mut before) = (Kind::End, Kind::End);
        loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Close(b) if b == close => return Ok(false),
                Kind::End | Kind::Close(_) => return Err(bail()),
                Kind::Open(b) => {
                    // `name!(..)`, `macro_rules! name {..}`, `#[..]`, `#![..]`: tokens only.
                    let verbatim = last == Kind::Punct(b'!')
                        || last == Kind::Punct(b'#')
                        || (last == Kind::Ident && before == Kind::Punct(b'!'));
                    if verbatim {
                        self.skip(b, false, true)?;
                    } else if self.deeper(|this| this.interpolated_within(closer(b)))? {
                        return Ok(true);
                    }
                }
                Kind::Punct(b'#') => {
                    let after = self.peek()?;
                    if matches!(after.kind, Kind::Ident | Kind::Open(b'(')) {
                        return Ok(true);
                    }
                }
                _ => {}
            }
            before = last;
            last = tok.kind;
        }
    }

    /// syn's `macro_groups` over a group it parses neither as items nor as statements
    /// ([`Reader::interpolated`]): each `{ .. }` at its top level is parsed as items, else as
    /// statements, else (with `depth` left) its own groups are. Only groups that fail both
    /// for certain (interpolated too), or that can yield nothing, are read here; any other
    /// gives up.
    fn interpolated_groups(&mut self, close: u8, depth: usize) -> Read<()> {
        loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Close(b) if b == close => return Ok(()),
                Kind::End | Kind::Close(_) => return Err(bail()),
                Kind::Open(b'{') => {
                    if !self.interpolated(b'}')? {
                        // Whatever syn makes of a group that names no item keyword and holds
                        // no attribute or doc comment, it finds nothing in it.
                        let from = self.pos;
                        let end = self.skip(b'{', false, true)?;
                        let body = &self.text[from..end.start];
                        let doc = [&b"///"[..], b"//!", b"/**", b"/*!"]
                            .iter()
                            .any(|opener| memchr::memmem::find(body, opener).is_some());
                        if keyword_tokens(body) || memchr::memchr(b'#', body).is_some() || doc {
                            return Err(bail());
                        }
                        continue;
                    }
                    if depth > 1 {
                        self.deeper(|this| this.interpolated_groups(b'}', depth - 1))?;
                    } else {
                        self.skip(b'{', false, true)?;
                    }
                }
                Kind::Open(b) => {
                    self.skip(b, false, true)?;
                }
                _ => {}
            }
        }
    }

    /// A group inside a block or an expression, its opener `open` read: a `{ .. }` is a
    /// block; a macro call's body is checked for item keywords; any other group is read
    /// for the blocks and attributes inside.
    fn group(&mut self, open: u8, macro_body: bool) -> Read<Tok> {
        if macro_body {
            // Not a statement (those are `macro_statement`'s): the syn path never reads it.
            return self.skip(open, false, true);
        }
        if open == b'{' {
            // Most blocks hold no item and no attribute: skipped in one tight loop first.
            let pos = self.pos;
            if let Ok(close) = self.skip(b'{', true, false) {
                return Ok(close);
            }
            self.pos = pos;
            return self.body();
        }
        let close = closer(open);
        self.expression(|_, tok| tok.kind == Kind::Close(close))
    }

    /// An expression up to the first token `stop` accepts outside its groups, which are
    /// read as [`Reader::group`] reads them. Returns that token.
    fn expression(&mut self, stop: impl Fn(&Self, Tok) -> bool) -> Read<Tok> {
        let mut last = Kind::End;
        loop {
            let tok = self.next()?;
            if stop(self, tok) {
                return Ok(tok);
            }
            match tok.kind {
                Kind::End | Kind::Close(_) => return Err(bail()),
                Kind::Punct(b'#') => {
                    self.attribute_after_hash(false)?;
                    last = Kind::Close(b']');
                    continue;
                }
                Kind::Open(b) => {
                    self.deeper(|this| this.group(b, last == Kind::Punct(b'!')))?;
                    last = Kind::Close(closer(b));
                    continue;
                }
                _ => {}
            }
            last = tok.kind;
        }
    }

    /// Whether an item starts here, at the start of a statement: an item keyword, told from
    /// the expressions that begin with the same word (`const { .. }`, `unsafe { .. }`,
    /// `async move { .. }`, `static || ..`, `union(a, b)`).
    fn item_here(&mut self) -> Read<bool> {
        let pos = self.pos;
        let first = self.next()?;
        let second = self.next()?;
        let third = self.next()?;
        self.pos = pos;
        if first.kind != Kind::Ident {
            return Ok(false);
        }
        let is = |tok: Tok, word: &str| self.is(tok, word);
        Ok(match self.text(first) {
            b"use" | b"mod" | b"struct" | b"enum" | b"trait" | b"impl" | b"fn" | b"type"
            | b"extern" | b"pub" => true,
            b"macro_rules" => second.kind == Kind::Punct(b'!'),
            b"union" => second.kind == Kind::Ident && !is(second, "as"),
            b"const" => {
                (second.kind == Kind::Ident && third.kind == Kind::Punct(b':'))
                    || ["fn", "unsafe", "async", "extern"]
                        .iter()
                        .any(|word| is(second, word))
            }
            b"static" => {
                (second.kind == Kind::Ident && !is(second, "move"))
                    && (third.kind == Kind::Punct(b':') || is(second, "mut"))
            }
            b"unsafe" => ["fn", "impl", "trait", "extern", "auto", "mod"]
                .iter()
                .any(|word| is(second, word)),
            b"async" => is(second, "fn") || (is(second, "unsafe") && is(third, "fn")),
            b"auto" => is(second, "trait"),
            _ => false,
        })
    }

    // ---- attributes ----

    /// An attribute whose `#` was just read (a `!` may follow): its string paths are noted.
    fn attribute_after_hash(&mut self, in_macro: bool) -> Read<Attrs> {
        let mut tok = self.next()?;
        if tok.kind == Kind::Punct(b'!') {
            tok = self.next()?;
        }
        if tok.kind != Kind::Open(b'[') {
            return Err(bail());
        }
        if in_macro {
            self.skip(b'[', false, true)?;
            return Ok(Attrs::default());
        }
        self.meta()
    }

    /// The inside of `#[ .. ]`, its `[` read, up to and including the `]`.
    fn meta(&mut self) -> Read<Attrs> {
        let mut attrs = Attrs::default();
        // The path: `cfg`, `serde`, `rustfmt::skip`.
        let mut segments = usize::from(self.colons()?.is_some());
        let single = loop {
            let tok = self.ident()?;
            segments += 1;
            if self.colons()?.is_none() {
                break tok;
            }
        };
        let name: &[u8] = match segments {
            1 => self.text(single),
            _ => b"",
        };
        attrs.conditional = name == b"cfg" || name == b"test";
        attrs.macro_export = name == b"macro_export";
        let tok = self.next()?;
        match tok.kind {
            Kind::Close(b']') => {}
            Kind::Open(open) => {
                match name {
                    // syn's StringPaths returns at once for these.
                    b"doc" | b"path" => {
                        self.skip(open, false, false)?;
                    }
                    _ => {
                        let cfg_attr = name == b"cfg_attr";
                        self.pairs(open, cfg_attr.then_some(&mut attrs.paths))?;
                    }
                }
                if self.next()?.kind != Kind::Close(b']') {
                    return Err(bail());
                }
            }
            Kind::Punct(b'=') => {
                let value = self.next()?;
                let end = self.next()?;
                match (value.kind, end.kind) {
                    (Kind::Str | Kind::Lit, Kind::Close(b']')) => {
                        let bytes = self.text(value);
                        if name == b"doc" {
                            if value.kind == Kind::Str || bytes.starts_with(b"r") {
                                for (from, to) in doc_links(bytes) {
                                    let span = Span::new(value.start + from, value.start + to);
                                    self.string_ref(StringRefKind::DocLink, span);
                                }
                            }
                        } else if name == b"path" {
                            if let Some(path) = string_value(bytes)? {
                                attrs.paths.push(path);
                            }
                        } else if value.kind == Kind::Str && is_path(&bytes[1..bytes.len() - 1]) {
                            let span = Span::new(value.start + 1, value.end - 1);
                            self.string_ref(StringRefKind::Attribute, span);
                        }
                    }
                    // `#[doc = include_str!("..")]`: an expression, no path.
                    _ => {
                        if end.kind != Kind::Close(b']') {
                            self.pos = value.start;
                            self.region(false, |_, tok| tok.kind == Kind::Close(b']'))?;
                        }
                    }
                }
            }
            _ => return Err(bail()),
        }
        Ok(attrs)
    }

    fn string_ref(&mut self, kind: StringRefKind, span: Span) {
        if self.quiet > 0 {
            return;
        }
        let value = String::from_utf8_lossy(&self.text[span.range()]).into_owned();
        self.refs.push(StringRef {
            kind,
            value,
            span,
            context: module_context(),
        });
    }

    /// The `key = "a::b"` pairs of an attribute's list (its opener read), nested lists
    /// included; `paths` takes the top-level `path = ".."` values (of a `cfg_attr`).
    fn pairs(&mut self, open: u8, mut paths: Option<&mut Vec<String>>) -> Read<()> {
        let close = closer(open);
        // The two tokens before the current one at this level (a group counts as one).
        let (mut before, mut last): (Option<Tok>, Option<Tok>) = (None, None);
        loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::End => return Err(bail()),
                Kind::Close(b) => {
                    return if b == close { Ok(()) } else { Err(bail()) };
                }
                Kind::Open(b) => {
                    self.deeper(|this| this.pairs(b, None))?;
                    before = last;
                    last = Some(Tok {
                        kind: Kind::Close(closer(b)),
                        ..tok
                    });
                    continue;
                }
                Kind::Str | Kind::Lit
                    if last.is_some_and(|t| t.kind == Kind::Punct(b'='))
                        && before
                            .is_some_and(|t| matches!(t.kind, Kind::Ident | Kind::Lifetime)) =>
                {
                    let bytes = self.text(tok);
                    if tok.kind == Kind::Str && is_path(&bytes[1..bytes.len() - 1]) {
                        let span = Span::new(tok.start + 1, tok.end - 1);
                        self.string_ref(StringRefKind::Attribute, span);
                    }
                    if let Some(paths) = paths.as_deref_mut()
                        && before.is_some_and(|t| self.is(t, "path"))
                        && let Some(path) = string_value(bytes)?
                    {
                        paths.push(path);
                    }
                }
                _ => {}
            }
            before = last;
            last = Some(tok);
        }
    }

    /// Outer attributes before an item, folded together.
    fn outer_attrs(&mut self) -> Read<Attrs> {
        let mut all = Attrs::default();
        loop {
            let tok = self.peek()?;
            if tok.kind != Kind::Punct(b'#') {
                return Ok(all);
            }
            self.next()?;
            let open = self.next()?;
            if open.kind != Kind::Open(b'[') {
                return Err(bail());
            }
            let attrs = self.meta()?;
            all.fold(attrs);
        }
    }

    /// Inner attributes (`#![..]`) at the start of a file or a body.
    fn inner_attrs(&mut self) -> Read<Attrs> {
        let mut all = Attrs::default();
        loop {
            let tok = self.peek()?;
            if tok.kind != Kind::Punct(b'#') || self.text.get(tok.end) != Some(&b'!') {
                return Ok(all);
            }
            self.next()?;
            self.expect_punct(b'!')?;
            if self.next()?.kind != Kind::Open(b'[') {
                return Err(bail());
            }
            // `#![..]`: syn's skim treats the group after `!` as a macro body: doc comments
            // inside are not read, but the attribute is.
            let attrs = self.meta()?;
            all.fold(attrs);
        }
    }

    // ---- items ----

    /// Items up to the closer of the body being read (`Some('}')`) or the end of the file.
    fn items(&mut self, close: Option<u8>) -> Read<Option<Tok>> {
        loop {
            let tok = self.peek()?;
            match (tok.kind, close) {
                (Kind::End, None) => return Ok(None),
                (Kind::Close(b), Some(c)) if b == c => {
                    self.next()?;
                    return Ok(Some(tok));
                }
                (Kind::End | Kind::Close(_), _) => return Err(bail()),
                _ => self.item()?,
            }
        }
    }

    /// `pub`, `pub(crate)`, `pub(super)`, `pub(self)`, `pub(in path)`, or nothing.
    fn visibility(&mut self) -> Read<(Visibility, Option<usize>)> {
        let tok = self.peek()?;
        if !self.is(tok, "pub") {
            if self.is(tok, "crate") {
                return Err(bail());
            }
            return Ok((Visibility::Default, None));
        }
        self.next()?;
        let open = self.peek()?;
        if open.kind != Kind::Open(b'(') {
            return Ok((Visibility::Public, Some(tok.start)));
        }
        self.next()?;
        let first = self.ident()?;
        let vis = match self.text(first) {
            b"crate" | b"super" | b"self" => {
                let name = self.name(first);
                if self.next()?.kind != Kind::Close(b')') {
                    return Err(bail());
                }
                name
            }
            b"in" => {
                let mut path = String::new();
                if self.colons()?.is_some() {
                    path.push_str("::");
                }
                loop {
                    let segment = self.ident()?;
                    path.push_str(&self.name(segment));
                    if self.colons()?.is_none() {
                        break;
                    }
                    path.push_str("::");
                }
                if self.next()?.kind != Kind::Close(b')') {
                    return Err(bail());
                }
                path
            }
            _ => return Err(bail()),
        };
        let vis = if vis == "self" {
            Visibility::Default
        } else {
            Visibility::Restricted(vis)
        };
        Ok((vis, Some(tok.start)))
    }

    fn item(&mut self) -> Read<()> {
        let attrs = self.outer_attrs()?;
        self.deeper(|this| this.item_after(attrs))
    }

    /// An item whose outer attributes were read.
    fn item_after(&mut self, attrs: Attrs) -> Read<()> {
        let (vis, vis_start) = self.visibility()?;
        let tok = self.peek()?;
        let first = vis_start.unwrap_or(tok.start);
        if tok.kind != Kind::Ident {
            return Err(bail());
        }
        let conditional = self.c.ctx.conditional || attrs.conditional;
        // In a macro body (a DSL may look like Rust and not be), only the items whose whole
        // grammar this reader checks.
        if self.quiet > 0
            && !matches!(
                self.text(tok),
                b"use" | b"mod" | b"extern" | b"macro_rules" | b"crate" | b"self" | b"super"
            )
            && self.item_here()?
        {
            return Err(bail());
        }
        match self.text(tok) {
            b"use" => self.use_item(first, conditional, vis),
            b"mod" => self.module(first, attrs, vis),
            b"struct" | b"enum" | b"union" => self.adt(first, conditional, vis),
            b"trait" | b"auto" => self.trait_item(first, conditional, vis),
            b"impl" => self.impl_item(conditional),
            b"type" => self.type_alias(first, conditional, vis),
            b"static" => self.constant(first, conditional, vis),
            b"extern" => {
                let after = {
                    let pos = self.pos;
                    self.next()?;
                    let after = self.peek()?;
                    self.pos = pos;
                    after
                };
                if self.is(after, "crate") {
                    self.extern_crate(first, conditional, vis)
                } else if self.quiet > 0 {
                    Err(bail())
                } else {
                    self.function(first, conditional, vis, false)
                }
            }
            b"unsafe" => {
                let after = self.after_modifiers()?;
                match self.text(after) {
                    b"impl" => self.impl_item(conditional),
                    b"trait" | b"auto" => self.trait_item(first, conditional, vis),
                    b"fn" => self.function(first, conditional, vis, false),
                    _ => Err(bail()),
                }
            }
            b"const" => {
                if self.const_item_here()? {
                    self.constant(first, conditional, vis)
                } else {
                    self.function(first, conditional, vis, false)
                }
            }
            b"fn" | b"async" | b"safe" => self.function(first, conditional, vis, false),
            b"macro_rules" => self.macro_rules(tok, attrs, conditional),
            _ => self.item_macro(vis_start.is_some()),
        }
    }

    /// The first token after the function or impl modifiers here (`unsafe`, `extern "C"`,
    /// `const`, `async`, `safe`), without reading them.
    fn after_modifiers(&mut self) -> Read<Tok> {
        let pos = self.pos;
        let found = loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Ident
                    if matches!(
                        self.text(tok),
                        b"unsafe" | b"extern" | b"const" | b"async" | b"safe"
                    ) => {}
                Kind::Str | Kind::Lit => {}
                _ => break tok,
            }
        };
        self.pos = pos;
        Ok(found)
    }

    fn use_item(&mut self, first: usize, conditional: bool, vis: Visibility) -> Read<()> {
        self.next()?; // `use`
        let leading = self.colons()?;
        let tree_start = match leading {
            Some(colons) => colons.start,
            None => self.peek()?.start,
        };
        let mut leaves: Vec<(Vec<Tok>, ImportedName)> = Vec::new();
        self.use_tree(&mut Vec::new(), &mut leaves)?;
        let semi = self.expect_punct(b';')?;
        let span = Span::new(first, semi.end);
        let context = self.c.context(conditional);
        let leaves = leaves.into_iter().map(|(prefix, name)| {
            let end = prefix.last().map(|last| last.end);
            (
                prefix.iter().map(|&segment| self.name(segment)).collect(),
                end,
                name,
            )
        });
        let leading = leading.map(|colons| colons.end);
        let imports = use_imports(leaves, leading, tree_start, span, context);
        for import in imports {
            self.c.facts.imports.push(import);
            self.c.facts.import_visibility.push(vis.clone());
        }
        Ok(())
    }

    /// One use tree: `a::b`, `a::b as c`, `a::*`, `a::{..}`.
    fn use_tree(
        &mut self,
        prefix: &mut Vec<Tok>,
        out: &mut Vec<(Vec<Tok>, ImportedName)>,
    ) -> Read<()> {
        let depth = prefix.len();
        let result = loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Punct(b'*') => {
                    out.push((
                        prefix.clone(),
                        ImportedName {
                            name: "*".to_string(),
                            alias: None,
                            span: Self::span(tok),
                        },
                    ));
                    break Ok(());
                }
                Kind::Open(b'{') => {
                    loop {
                        let next = self.peek()?;
                        if next.kind == Kind::Close(b'}') {
                            self.next()?;
                            break;
                        }
                        self.deeper(|this| this.use_tree(prefix, out))?;
                        let sep = self.next()?;
                        match sep.kind {
                            Kind::Punct(b',') => {}
                            Kind::Close(b'}') => break,
                            _ => return Err(bail()),
                        }
                    }
                    break Ok(());
                }
                Kind::Ident => {
                    if self.colons()?.is_some() {
                        prefix.push(tok);
                        continue;
                    }
                    let after = self.peek()?;
                    if self.is(after, "as") {
                        self.next()?;
                        let alias = self.ident()?;
                        out.push((
                            prefix.clone(),
                            ImportedName {
                                name: self.name(tok),
                                alias: Some(self.name(alias)),
                                span: Span::new(tok.start, alias.end),
                            },
                        ));
                    } else {
                        out.push((
                            prefix.clone(),
                            ImportedName {
                                name: self.name(tok),
                                alias: None,
                                span: Self::span(tok),
                            },
                        ));
                    }
                    break Ok(());
                }
                _ => break Err(bail()),
            }
        };
        prefix.truncate(depth);
        result
    }

    fn extern_crate(&mut self, first: usize, conditional: bool, vis: Visibility) -> Read<()> {
        self.next()?; // `extern`
        self.next()?; // `crate`
        let name = self.ident()?;
        let mut alias = None;
        let mut name_end = name.end;
        let after = self.peek()?;
        if self.is(after, "as") {
            self.next()?;
            let rename = self.ident()?;
            name_end = rename.end;
            alias = Some(self.name(rename));
        }
        let semi = self.expect_punct(b';')?;
        let context = self.c.context(conditional);
        self.c.facts.imports.push(Import {
            kind: ImportKind::Module,
            span: Span::new(first, semi.end),
            module: String::new(),
            module_span: Span::default(),
            level: 0,
            names: vec![ImportedName {
                name: self.name(name),
                alias,
                span: Span::new(name.start, name_end),
            }],
            context,
        });
        self.c.facts.import_visibility.push(vis);
        Ok(())
    }

    fn module(&mut self, first: usize, mut attrs: Attrs, vis: Visibility) -> Read<()> {
        self.next()?; // `mod`
        let name = self.ident()?;
        let tok = self.next()?;
        let (end, body) = match tok.kind {
            Kind::Punct(b';') => (tok.end, None),
            Kind::Open(b'{') => (0, Some(tok.start)),
            _ => return Err(bail()),
        };
        let Some(open) = body else {
            let conditional = self.c.ctx.conditional || attrs.conditional;
            self.module_decl(name, first, end, None, attrs.paths, vis, conditional);
            return Ok(());
        };
        let inner = self.inner_attrs()?;
        attrs.fold(inner);
        let conditional = self.c.ctx.conditional || attrs.conditional;
        // The declaration comes before the items; its body's end is known after them.
        let index = self.module_decl(name, first, 0, None, attrs.paths, vis, conditional);
        let saved = self.c.ctx;
        self.c.ctx.conditional = conditional;
        self.c.ctx.scope = Scope::Module;
        self.c.ctx.module = Some(index);
        let parent_module = self.c.module_namespace(saved.namespace);
        self.c.ctx.namespace = self.c.new_namespace(None, Some(parent_module));
        let close = self.items(Some(b'}'))?.ok_or(bail())?;
        self.c.ctx = saved;
        let module = &mut self.c.facts.modules[index as usize];
        module.span.end = close.end as u32;
        module.body = Some(Span::new(open, close.end));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn module_decl(
        &mut self,
        name: Tok,
        start: usize,
        end: usize,
        body: Option<Span>,
        paths: Vec<String>,
        visibility: Visibility,
        conditional: bool,
    ) -> u32 {
        let context = self.c.context(conditional);
        self.c.facts.modules.push(ModuleDecl {
            name: self.name(name),
            name_span: Self::span(name),
            span: Span::new(start, end),
            body,
            paths,
            visibility,
            context,
            parent: self.c.ctx.module,
        });
        (self.c.facts.modules.len() - 1) as u32
    }

    /// A struct, enum or union: a type definition; its body's attributes are read.
    fn adt(&mut self, first: usize, conditional: bool, vis: Visibility) -> Read<()> {
        let keyword = self.next()?;
        let name = self.ident()?;
        let is_struct = self.is(keyword, "struct");
        let is_enum = self.is(keyword, "enum");
        // The header as syn checks it: generics, then a body, a where clause, or (a
        // struct) fields in parentheses or a `;`.
        if self.peek()?.kind == Kind::Punct(b'<') {
            self.next()?;
            self.angle_rest()?;
        }
        let after = self.peek()?;
        let expected = after.kind == Kind::Open(b'{')
            || self.is(after, "where")
            || (is_struct && matches!(after.kind, Kind::Open(b'(') | Kind::Punct(b';')));
        if !expected {
            return Err(bail());
        }
        // The where clause (and a struct's fields in parentheses), up to the body or `;`.
        let stop = self.region(true, |_, tok| {
            matches!(tok.kind, Kind::Open(b'{') | Kind::Punct(b';'))
        })?;
        let end = match stop.kind {
            Kind::Open(_) => {
                self.fields(is_enum)?;
                stop.start
            }
            _ if is_struct => stop.end,
            _ => return Err(bail()),
        };
        let span = self.header(first, end);
        let kind = DefKind::Class {
            bases: Vec::new(),
            methods: Vec::new(),
        };
        let name_span = Self::span(name);
        let name = self.name(name);
        self.c
            .record_type(name, name_span, span, kind, conditional, vis);
        Ok(())
    }

    /// The fields or variants of a body whose `{` was just read: attributes are read, a
    /// variant's own fields too; anything else that is braced is a block.
    fn fields(&mut self, is_enum: bool) -> Read<()> {
        let mut last = Kind::Open(b'{');
        loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Close(b'}') => return Ok(()),
                Kind::Close(_) | Kind::End => return Err(bail()),
                Kind::Punct(b'#') => {
                    self.attribute_after_hash(false)?;
                }
                Kind::Open(b'{') if is_enum && last == Kind::Ident => {
                    self.deeper(|this| this.fields(false))?;
                }
                Kind::Open(b) => {
                    if last == Kind::Punct(b'!') {
                        self.skip(b, false, true)?;
                    } else if b == b'{' {
                        self.block()?;
                    } else {
                        self.skip(b, false, false)?;
                    }
                    last = Kind::Close(closer(b));
                    continue;
                }
                _ => {}
            }
            last = tok.kind;
        }
    }

    fn type_alias(&mut self, first: usize, conditional: bool, vis: Visibility) -> Read<()> {
        self.next()?; // `type`
        let name = self.ident()?;
        let after = self.peek()?;
        let generic = after.kind == Kind::Punct(b'<');
        // Up to the `=`: generics, never a where clause before it here.
        let eq = self.region(true, |_, tok| {
            matches!(tok.kind, Kind::Punct(b'=') | Kind::Punct(b';'))
        })?;
        if eq.kind != Kind::Punct(b'=') {
            return Err(bail());
        }
        // A plain path (`a::B`), or any other type.
        let value_start = self.pos;
        let mut segments: Vec<Tok> = Vec::new();
        let leading = self.colons()?;
        let mut plain = true;
        loop {
            let tok = self.next()?;
            if tok.kind != Kind::Ident || self.is(tok, "dyn") || self.is(tok, "impl") {
                plain = false;
                break;
            }
            segments.push(tok);
            if self.colons()?.is_none() {
                break;
            }
        }
        let semi = if plain {
            let tok = self.next()?;
            if tok.kind == Kind::Punct(b';') {
                Some(tok)
            } else {
                plain = false;
                None
            }
        } else {
            None
        };
        let semi = match semi {
            Some(semi) => semi,
            None => {
                self.pos = value_start;
                let tok = self.peek()?;
                if tok.kind == Kind::Punct(b';') {
                    return Err(bail());
                }
                if tok.kind == Kind::Open(b'(') {
                    // `(a::B)` is the path `a::B`; `()` and `(A, B)` are tuples.
                    self.next()?;
                    let close = self.skip(b'(', false, false)?;
                    let inner = self.text[tok.end..close.start].trim_ascii();
                    let semi = self.next()?;
                    if semi.kind != Kind::Punct(b';') {
                        return Err(bail());
                    }
                    let simple = !inner.is_empty()
                        && inner
                            .iter()
                            .all(|&b| word(b) || b == b':' || b.is_ascii_whitespace());
                    if simple && !generic {
                        let target = String::from_utf8_lossy(inner).into_owned();
                        let pieces: Vec<&str> = target.split("::").collect();
                        let valid = pieces.iter().enumerate().all(|(i, piece)| {
                            (i == 0 && piece.is_empty())
                                || (!piece.is_empty()
                                    && piece.bytes().all(word)
                                    && !piece.as_bytes()[0].is_ascii_digit())
                        }) && pieces.len() > usize::from(target.starts_with("::"));
                        if !valid {
                            return Err(bail());
                        }
                        let span = self.header(first, semi.end);
                        let name_span = Self::span(name);
                        let name = self.name(name);
                        let kind = DefKind::Alias { target };
                        self.c.record(name, name_span, span, kind, conditional, vis);
                        return Ok(());
                    }
                    if simple {
                        return Err(bail());
                    }
                    let span = self.header(first, semi.end);
                    let name_span = Self::span(name);
                    let name = self.name(name);
                    let kind = DefKind::Class {
                        bases: Vec::new(),
                        methods: Vec::new(),
                    };
                    self.c
                        .record_type(name, name_span, span, kind, conditional, vis);
                    return Ok(());
                }
                // `Fn(&T) + Send` without `dyn`: a bare trait object, which syn rejects.
                let bare = !self.is(tok, "dyn") && !self.is(tok, "impl");
                let semi = self.region(true, |_, tok| {
                    tok.kind == Kind::Punct(b';') || (bare && tok.kind == Kind::Punct(b'+'))
                })?;
                if semi.kind != Kind::Punct(b';') {
                    return Err(bail());
                }
                semi
            }
        };
        let span = self.header(first, semi.end);
        let name_span = Self::span(name);
        let name = self.name(name);
        if plain && !generic {
            let mut target = String::from(if leading.is_some() { "::" } else { "" });
            for (i, segment) in segments.iter().enumerate() {
                if i > 0 {
                    target.push_str("::");
                }
                target.push_str(&self.name(*segment));
            }
            let kind = DefKind::Alias { target };
            self.c.record(name, name_span, span, kind, conditional, vis);
        } else {
            let kind = DefKind::Class {
                bases: Vec::new(),
                methods: Vec::new(),
            };
            self.c
                .record_type(name, name_span, span, kind, conditional, vis);
        }
        Ok(())
    }

    /// `const NAME: T = expr;` or `static [mut] NAME: T = expr;`.
    fn constant(&mut self, first: usize, conditional: bool, vis: Visibility) -> Read<()> {
        self.next()?; // `const` or `static`
        let mut name = self.next()?;
        if self.is(name, "mut") {
            name = self.next()?;
        }
        if name.kind != Kind::Ident {
            return Err(bail());
        }
        self.expect_punct(b':')?;
        let eq = self.region(true, |_, tok| {
            matches!(tok.kind, Kind::Punct(b'=') | Kind::Punct(b';'))
        })?;
        if eq.kind != Kind::Punct(b'=') {
            return Err(bail());
        }
        // The initializer: items in its blocks are in a namespace of their own.
        let saved = self.c.ctx;
        self.c.ctx.conditional = conditional;
        self.c.ctx.scope = Scope::Function;
        self.c.ctx.namespace = self.c.new_namespace(Some(saved.namespace), None);
        let semi = self.expression(|_, tok| tok.kind == Kind::Punct(b';'));
        self.c.ctx = saved;
        let semi = semi?;
        if self.c.ctx.scope == Scope::Module && self.text(name) != b"_" {
            let span = self.header(first, semi.end);
            let name_span = Self::span(name);
            let name = self.name(name);
            self.c
                .record(name, name_span, span, DefKind::Variable, conditional, vis);
        }
        Ok(())
    }

    /// A function: its modifiers, name and signature up to the body, which must hold no
    /// item. Its header starts at `first` (the visibility or first modifier); `bodiless`
    /// allows a `;` for the body (a trait's function).
    fn function(
        &mut self,
        first: usize,
        conditional: bool,
        vis: Visibility,
        bodiless: bool,
    ) -> Read<()> {
        let mut is_async = false;
        let name = loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Ident if self.text(tok) == b"fn" => break self.ident()?,
                Kind::Ident if self.text(tok) == b"async" => is_async = true,
                Kind::Ident
                    if matches!(
                        self.text(tok),
                        b"const" | b"unsafe" | b"safe" | b"extern" | b"default"
                    ) => {}
                Kind::Str | Kind::Lit => {}
                _ => return Err(bail()),
            }
        };
        // The signature as syn checks it: generics, parameters, a return type that is
        // there when its arrow is, a where clause.
        if self.peek()?.kind == Kind::Punct(b'<') {
            self.next()?;
            self.angle_rest()?;
        }
        if self.next()?.kind != Kind::Open(b'(') {
            return Err(bail());
        }
        self.skip(b'(', false, false)?;
        let arrow = self.peek()?;
        if arrow.kind == Kind::Punct(b'-') {
            self.next()?;
            if self.text.get(arrow.end) != Some(&b'>') {
                return Err(bail());
            }
            self.next()?;
            let ty = self.peek()?;
            if matches!(ty.kind, Kind::Open(b'{') | Kind::Punct(b';') | Kind::End)
                || matches!(ty.kind, Kind::Close(_))
                || self.is(ty, "where")
            {
                return Err(bail());
            }
        }
        let body = self.region(true, |_, tok| {
            matches!(tok.kind, Kind::Open(b'{') | Kind::Punct(b';'))
        })?;
        let end = match body.kind {
            Kind::Open(b'{') => body.start,
            _ if bodiless => body.end,
            _ => return Err(bail()),
        };
        let header = self.header(first, end);
        let kind = DefKind::Function {
            is_async,
            decorated: false,
            returns: Returns::Unknown,
        };
        let name_span = Self::span(name);
        let name = self.name(name);
        let index = self
            .c
            .record(name, name_span, header, kind, conditional, vis);
        if body.kind == Kind::Open(b'{') {
            // `fn f() -> ! {`: the skim takes the body for a macro's; read only when empty.
            if self.text[..body.start].trim_ascii_end().ends_with(b"!") {
                self.c.new_namespace(Some(self.c.ctx.namespace), None);
                self.skip(b'{', true, true)?;
                return Ok(());
            }
            let saved = self.c.ctx;
            self.c.ctx.scope = Scope::Function;
            self.c.ctx.parent = Some(index);
            self.c.ctx.conditional = conditional;
            self.c.ctx.namespace = self.c.new_namespace(Some(saved.namespace), None);
            let read = self.group(b'{', false);
            self.c.ctx = saved;
            read?;
        }
        Ok(())
    }

    /// `const NAME:` here (not `const fn`).
    fn const_item_here(&mut self) -> Read<bool> {
        let pos = self.pos;
        let keyword = self.next()?;
        let name = self.next()?;
        let colon = self.next()?;
        self.pos = pos;
        Ok(
            self.is(keyword, "const")
                && name.kind == Kind::Ident
                && colon.kind == Kind::Punct(b':'),
        )
    }

    fn macro_rules(&mut self, keyword: Tok, attrs: Attrs, conditional: bool) -> Read<()> {
        self.next()?; // `macro_rules`
        self.expect_punct(b'!')?;
        let name = self.ident()?;
        let open = self.next()?;
        let Kind::Open(b) = open.kind else {
            return Err(bail());
        };
        self.skip_template(b)?;
        if b != b'{' {
            self.expect_punct(b';')?;
        }
        if self.c.ctx.scope == Scope::Module && self.text(name) != b"_" {
            let vis = if attrs.macro_export {
                Visibility::Public
            } else {
                Visibility::Default
            };
            let span = self.header(keyword.start, name.end);
            let name_span = Self::span(name);
            let name = self.name(name);
            self.c
                .record(name, name_span, span, DefKind::Variable, conditional, vis);
        }
        Ok(())
    }

    /// `path! { .. }` or `path!( .. );` at item level: its items are read as syn's
    /// `macro_items` reads them.
    fn item_macro(&mut self, has_vis: bool) -> Read<()> {
        if has_vis {
            return Err(bail());
        }
        let Some(name) = self.macro_path()? else {
            return Err(bail());
        };
        let open = self.next()?;
        let Kind::Open(b) = open.kind else {
            return Err(bail());
        };
        let close = self.skip(b, false, true)?;
        if b != b'{' {
            self.expect_punct(b';')?;
        }
        let end = self.pos;
        // The `;` is read after the body.
        self.pos = close.end;
        self.macro_body(name, b, open.end, close)?;
        self.pos = end;
        Ok(())
    }

    /// Supertraits or a trait alias's bounds as written, lifetimes left out, up to a `where`,
    /// `{` or `;` at depth 0 (returned).
    fn bounds(&mut self) -> Read<(Vec<String>, Tok)> {
        let mut bounds = Vec::new();
        // The bound being read: where it starts and ends, and whether it is a lifetime.
        let mut bound: Option<(usize, usize, bool)> = None;
        let text = self.text;
        let push = |bounds: &mut Vec<String>, bound: Option<(usize, usize, bool)>| {
            if let Some((start, end, lifetime)) = bound
                && !lifetime
            {
                bounds.push(compact(&String::from_utf8_lossy(&text[start..end])));
            }
        };
        let stop = self.region_each(
            true,
            |this, tok| {
                matches!(tok.kind, Kind::Open(b'{') | Kind::Punct(b';')) || this.is(tok, "where")
            },
            |_, tok, depth| {
                match (&mut bound, tok.kind) {
                    (_, Kind::Punct(b'+')) if depth == 0 => push(&mut bounds, bound.take()),
                    (Some((_, end, _)), _) => *end = tok.end,
                    (None, kind) => bound = Some((tok.start, tok.end, kind == Kind::Lifetime)),
                }
                Ok(())
            },
        )?;
        push(&mut bounds, bound);
        Ok((bounds, stop))
    }

    fn trait_item(&mut self, first: usize, conditional: bool, vis: Visibility) -> Read<()> {
        loop {
            let tok = self.next()?;
            match self.text(tok) {
                b"unsafe" | b"auto" => {}
                b"trait" => break,
                _ => return Err(bail()),
            }
        }
        let name = self.ident()?;
        // Generics, then `: supertraits`, `= bounds` (an alias), a where clause, the body.
        let after = self.peek()?;
        if after.kind == Kind::Punct(b'<') {
            self.next()?;
            self.angle_rest()?;
        }
        let tok = self.peek()?;
        let (bases, mut stop, alias) = match tok.kind {
            Kind::Punct(b':') => {
                self.next()?;
                let (bases, stop) = self.bounds()?;
                (bases, stop, false)
            }
            Kind::Punct(b'=') => {
                self.next()?;
                let (bases, stop) = self.bounds()?;
                (bases, stop, true)
            }
            _ => (Vec::new(), self.next()?, false),
        };
        if self.is(stop, "where") {
            stop = self.region(true, |_, tok| {
                matches!(tok.kind, Kind::Open(b'{') | Kind::Punct(b';'))
            })?;
        }
        let name_span = Self::span(name);
        let name_text = self.name(name);
        if alias {
            if stop.kind != Kind::Punct(b';') {
                return Err(bail());
            }
            let span = self.header(first, stop.end);
            let kind = DefKind::Class {
                bases,
                methods: Vec::new(),
            };
            self.c
                .record(name_text, name_span, span, kind, conditional, vis);
            return Ok(());
        }
        if stop.kind != Kind::Open(b'{') {
            return Err(bail());
        }
        let span = self.header(first, stop.start);
        let inner = self.inner_attrs()?;
        let conditional = conditional || inner.conditional;
        let kind = DefKind::Class {
            bases,
            methods: Vec::new(),
        };
        let index = self
            .c
            .record_type(name_text, name_span, span, kind, conditional, vis.clone());
        let saved = self.c.ctx;
        self.c.ctx.conditional = conditional;
        self.c.ctx.scope = Scope::Class;
        self.c.ctx.parent = Some(index);
        let mut methods = Vec::new();
        loop {
            let tok = self.peek()?;
            if tok.kind == Kind::Close(b'}') {
                self.next()?;
                break;
            }
            let attrs = self.outer_attrs()?;
            let tok = self.peek()?;
            let fn_conditional = self.c.ctx.conditional || attrs.conditional;
            if tok.kind == Kind::Ident && self.member_macro()? {
                continue;
            }
            if self.is(tok, "type") || self.const_item_here()? {
                self.next()?;
                self.region(true, |_, tok| tok.kind == Kind::Punct(b';'))?;
                continue;
            }
            if self.after_modifiers().map(|tok| self.text(tok))? != b"fn" {
                return Err(bail());
            }
            let count = self.c.facts.definitions.len();
            self.function(tok.start, fn_conditional, vis.clone(), true)?;
            methods.push(self.c.facts.definitions[count].name.clone());
        }
        self.c.ctx = saved;
        if let DefKind::Class { methods: m, .. } =
            &mut self.c.facts.definitions[index as usize].kind
        {
            *m = methods;
        }
        Ok(())
    }

    fn impl_item(&mut self, conditional: bool) -> Read<()> {
        // `unsafe`? `impl` generics? `!`? (Trait `for`)? Type where? `{`
        loop {
            let tok = self.next()?;
            match self.text(tok) {
                b"unsafe" => {}
                b"impl" => break,
                _ => return Err(bail()),
            }
        }
        let after = self.peek()?;
        if after.kind == Kind::Punct(b'<') {
            self.next()?;
            self.angle_rest()?;
        }
        // The type (and the trait before a `for`), up to `where` or `{`.
        let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
        let stop = self.region_each(
            true,
            |this, tok| tok.kind == Kind::Open(b'{') || this.is(tok, "where"),
            |this, tok, depth| {
                // `for` splits the trait from the type, unless `for<'a>` binds lifetimes.
                if depth == 0 && this.is(tok, "for") && this.peek()?.kind != Kind::Punct(b'<') {
                    parts.push(Vec::new());
                } else {
                    parts.last_mut().ok_or(bail())?.push(tok);
                }
                Ok(())
            },
        )?;
        if parts.len() > 2 {
            return Err(bail());
        }
        let inherent = parts.len() == 1;
        let self_ty = parts.pop().ok_or(bail())?;
        let target = self.impl_target(&self_ty);
        if stop.kind != Kind::Open(b'{') {
            self.region(true, |_, tok| tok.kind == Kind::Open(b'{'))?;
        }
        let inner = self.inner_attrs()?;
        let conditional = conditional || inner.conditional;
        let saved = self.c.ctx;
        self.c.ctx.conditional = conditional;
        self.c.ctx.scope = Scope::Class;
        let mut functions = Vec::new();
        loop {
            let tok = self.peek()?;
            if tok.kind == Kind::Close(b'}') {
                self.next()?;
                break;
            }
            let attrs = self.outer_attrs()?;
            let (vis, vis_start) = self.visibility()?;
            let tok = self.peek()?;
            let first = vis_start.unwrap_or(tok.start);
            let fn_conditional = self.c.ctx.conditional || attrs.conditional;
            if vis_start.is_none() && tok.kind == Kind::Ident && self.member_macro()? {
                continue;
            }
            if self.is(tok, "type") {
                self.next()?;
                self.region(true, |_, tok| tok.kind == Kind::Punct(b';'))?;
                continue;
            }
            if self.const_item_here()? {
                // `const X: T = expr;`: the expression's items are a function's.
                self.next()?;
                let eq = self.region(true, |_, tok| {
                    matches!(tok.kind, Kind::Punct(b'=') | Kind::Punct(b';'))
                })?;
                if eq.kind == Kind::Punct(b'=') {
                    let scope = std::mem::replace(&mut self.c.ctx.scope, Scope::Function);
                    let end = self.expression(|_, tok| tok.kind == Kind::Punct(b';'));
                    self.c.ctx.scope = scope;
                    end?;
                }
                continue;
            }
            let head = if self.is(tok, "default") {
                let pos = self.pos;
                self.next()?;
                let head = self.after_modifiers()?;
                self.pos = pos;
                head
            } else {
                self.after_modifiers()?
            };
            if self.text(head) != b"fn" {
                return Err(bail());
            }
            functions.push(self.c.facts.definitions.len() as u32);
            self.function(first, fn_conditional, vis, false)?;
        }
        self.c.ctx = saved;
        if let Some((supers, name)) = target {
            self.c.impls.push(super::PendingImpl {
                namespace: self.c.ctx.namespace,
                supers,
                name,
                inherent,
                functions,
            });
        }
        Ok(())
    }

    /// An impl's or trait's macro call (`forward! { .. }`, `m!(..);`), which the syn path
    /// never reads: skipped. `false`, with nothing read, when none is here.
    fn member_macro(&mut self) -> Read<bool> {
        let pos = self.pos;
        if self.macro_path()?.is_none() {
            self.pos = pos;
            return Ok(false);
        }
        let open = self.next()?;
        let Kind::Open(b) = open.kind else {
            return Err(bail());
        };
        self.skip(b, false, true)?;
        if b != b'{' {
            self.expect_punct(b';')?;
        }
        Ok(true)
    }

    /// The rest of `<..>` after its `<`.
    fn angle_rest(&mut self) -> Read<()> {
        let mut depth = 1usize;
        let mut last = Kind::Punct(b'<');
        loop {
            let tok = self.next()?;
            match tok.kind {
                Kind::Punct(b'<') => depth += 1,
                Kind::Punct(b'>') if last != Kind::Punct(b'-') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Kind::Open(b) => {
                    if b == b'{' {
                        self.block()?;
                    } else {
                        self.skip(b, false, last == Kind::Punct(b'!'))?;
                    }
                    last = Kind::Close(closer(b));
                    continue;
                }
                Kind::Punct(b'#') => {
                    self.attribute_after_hash(false)?;
                }
                Kind::End | Kind::Close(_) => return Err(bail()),
                _ => {}
            }
            last = tok.kind;
        }
    }

    /// The type an `impl` is for, in this file's terms: `Foo`, `Foo<T>`, `self::Foo`,
    /// `super::Foo` (as `collect::impl_target`).
    fn impl_target(&self, tokens: &[Tok]) -> Option<(u32, String)> {
        // Segments: ident (`::` ident)*, the last optionally followed by `<..>`.
        let mut names: Vec<Tok> = Vec::new();
        let mut i = 0;
        loop {
            let tok = tokens.get(i)?;
            if tok.kind != Kind::Ident {
                return None;
            }
            names.push(*tok);
            i += 1;
            let colon = |at: usize| tokens.get(at).is_some_and(|t| t.kind == Kind::Punct(b':'));
            if colon(i) && colon(i + 1) && tokens[i].end == tokens[i + 1].start {
                i += 2;
                continue;
            }
            break;
        }
        // Only generic arguments may follow the last name.
        if let Some(tok) = tokens.get(i)
            && (tok.kind != Kind::Punct(b'<') || tokens.last()?.kind != Kind::Punct(b'>'))
        {
            return None;
        }
        let (last, prefix) = names.split_last()?;
        let mut supers = 0;
        for segment in prefix {
            let text = self.text(*segment);
            if text == b"super" {
                supers += 1;
            } else if text != b"self" || supers > 0 {
                return None;
            }
        }
        Some((supers, self.name(*last)))
    }
}

impl Attrs {
    fn fold(&mut self, other: Attrs) {
        self.conditional |= other.conditional;
        self.macro_export |= other.macro_export;
        self.paths.extend(other.paths);
    }
}

/// Whether `body` (a macro call's) has an item keyword as a token, not in a string or a
/// comment: without one, nothing the syn path reads out of it can be an item.
fn keyword_tokens(body: &[u8]) -> bool {
    // Most bodies do not even mention one.
    mentions_items(body) && lexical::has_item_keyword(body)
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// The value of a string literal without escapes (`".."`, `r".."`, `r#".."#`); `Bail` on
/// one with escapes, `None` on any other literal.
fn string_value(bytes: &[u8]) -> Read<Option<String>> {
    let inner = if let Some(raw) = bytes.strip_prefix(b"r") {
        let hashes = raw.iter().take_while(|&&b| b == b'#').count();
        let raw = &raw[hashes..];
        match raw.strip_prefix(b"\"") {
            Some(rest) if rest.len() > hashes => &rest[..rest.len() - hashes - 1],
            _ => return Ok(None),
        }
    } else if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let inner = &bytes[1..bytes.len() - 1];
        if inner.contains(&b'\\') {
            return Err(bail());
        }
        inner
    } else {
        return Ok(None);
    };
    Ok(Some(String::from_utf8_lossy(inner).into_owned()))
}

/// After a `b".."`, `br".."`, `r".."`, `c".."`, `cr".."` or `b'.'` literal at `at`, if one
/// starts there.
fn prefixed_literal(text: &[u8], at: usize) -> Read<Option<usize>> {
    if !matches!(text[at], b'b' | b'c' | b'r') {
        return Ok(None);
    }
    let rest = &text[at..];
    let (prefix, raw) = if rest.starts_with(b"br") || rest.starts_with(b"cr") {
        (2, true)
    } else if rest.starts_with(b"r") {
        (1, true)
    } else if rest.starts_with(b"b") || rest.starts_with(b"c") {
        (1, false)
    } else {
        return Ok(None);
    };
    let mut j = at + prefix;
    if raw {
        let mut hashes = 0;
        while text.get(j) == Some(&b'#') {
            hashes += 1;
            j += 1;
        }
        if text.get(j) != Some(&b'"') {
            return Ok(None);
        }
        return lexical::string_end(text, j + 1, Some(hashes))
            .map(Some)
            .ok_or(bail());
    }
    match text.get(j) {
        Some(b'"') => string_end(text, j + 1).map(Some).ok_or(bail()),
        Some(b'\'') if rest[0] == b'b' => Ok(Some(char_end(text, j).ok_or(bail())?)),
        _ => Ok(None),
    }
}

/// [`lexical::string_end`] of a plain string (contents from `from`).
fn string_end(text: &[u8], from: usize) -> Option<usize> {
    lexical::string_end(text, from, None)
}

/// [`lexical::char_end`] of a closed char literal; `None` for a lifetime, a label or an
/// escape never closed.
fn char_end(text: &[u8], at: usize) -> Option<usize> {
    lexical::char_end(text, at).filter(|&end| text[end - 1] == b'\'')
}

/// Whether nothing but blanks and comments lie between `at` and a closer or the end: a doc
/// comment there documents nothing.
fn dangling(text: &[u8], mut at: usize) -> bool {
    loop {
        while at < text.len() && text[at].is_ascii_whitespace() {
            at += 1;
        }
        match text.get(at..at + 2) {
            Some(b"//") => {
                at = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |n| at + n);
            }
            Some(b"/*") => match block_comment_end(text, at) {
                Some((end, _)) => at = end,
                None => return true,
            },
            _ => return !matches!(text.get(at), Some(b) if !matches!(b, b')' | b']' | b'}')),
        }
    }
}

/// After a lifetime or label whose quote is at `at`.
fn lifetime_end(text: &[u8], at: usize) -> usize {
    let mut end = at + 1;
    while end < text.len() && (word(text[end]) || text[end] >= 0x80) {
        end += 1;
    }
    end
}

/// After the closing `*/` of a block comment at `at`, and where the `*/` starts; `None`
/// when unclosed.
fn block_comment_end(text: &[u8], at: usize) -> Option<(usize, usize)> {
    let (end, inner_end) = lexical::block_comment_end(text, at);
    // Unclosed, it ends at the end of the text, where no `*/` starts.
    (inner_end < text.len()).then_some((end, inner_end))
}
