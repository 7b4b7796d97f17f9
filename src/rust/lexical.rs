//! Comments, which `proc-macro2` drops: just enough of the lexical grammar to tell a comment
//! from a string (`"//"`, `r#"/*"#`, `'"'`, lifetimes), for suppression comments.

use crate::facts::{Span, Suppression};

/// `// ssot: ignore[SSOT001] reason` and `/* ssot: ignore */`. Doc comments (`///`, `//!`,
/// `/** */`, `/*! */`) are documentation, not comments: a suppression written there (say, in
/// the docs of a tool that explains the syntax) suppresses nothing.
pub fn suppressions(text: &[u8]) -> Vec<Suppression> {
    // Most files have none: skip the scan.
    if memchr::memmem::find(text, b"ssot:").is_none() {
        return Vec::new();
    }
    comments(text)
        .into_iter()
        .filter_map(|span| Suppression::parse(&text[span.range()], span.start as usize))
        .collect()
}

/// The text of every non-doc comment: `// ...` up to the line end, `/* ... */` (nested) up to
/// but not including the closing `*/` (to the end of the text when unclosed).
pub fn comments(text: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    walk(text, |event| {
        if let Event::Comment {
            span, doc: false, ..
        } = event
        {
            out.push(span);
        }
    });
    out
}

/// An upper bound of how deep `syn` recurses on the file, in units of one nesting level:
/// each bracket opened on the way, plus the operators and other punctuation before it in its
/// statement (`Vec<Vec<`, `& & &`, `|| ||`, `a = b = c` each recurse once per operator; `;`
/// and `,` end a statement, `.`, `:`, `#` and `$` never recurse). Comments and literals
/// count nothing. Measured with syn 3 on a 2 MiB stack (release): 336 nested `Vec<` or 388
/// nested inline modules overflow it, and about a tenth of that in a debug build.
pub fn nesting_cost(text: &[u8]) -> u32 {
    let mut outer: Vec<(u32, u32)> = Vec::new();
    let (mut base, mut statement, mut max) = (0u32, 0u32, 0u32);
    walk(text, |event| {
        let Event::Byte(_, byte) = event else {
            return;
        };
        match byte {
            b'(' | b'[' | b'{' => {
                outer.push((base, statement));
                base += statement + 1;
                statement = 0;
            }
            b')' | b']' | b'}' => {
                if let Some((b, s)) = outer.pop() {
                    base = b;
                    // `else if`, `.a().b()`: each group after the first may nest once more.
                    statement = s + 1;
                }
            }
            b';' | b',' => statement = 0,
            b'.' | b':' | b'#' | b'$' => {}
            b if b.is_ascii_punctuation() => statement += 1,
            _ => {}
        }
        max = max.max(base + statement);
    });
    max
}

/// Which delimiter to blame for the closing delimiter at `at` that the lexer refused: the
/// innermost one still open when an outer one matches the closer (`fn half( -> u8 { 0 } }`
/// blames the `(`), else the closer itself (a stray `}`).
pub fn delimiter_culprit(text: &[u8], at: usize) -> usize {
    let mut open: Vec<(usize, u8)> = Vec::new();
    let mut culprit = at;
    walk(text, |event| match event {
        Event::Byte(i, b @ (b'(' | b'[' | b'{')) if i < at => open.push((i, b)),
        Event::Byte(i, b')' | b']' | b'}') if i < at => {
            open.pop();
        }
        Event::Byte(i, closer) if i == at => {
            let opener = match closer {
                b')' => b'(',
                b']' => b'[',
                _ => b'{',
            };
            if open.iter().any(|&(_, b)| b == opener)
                && let Some(&(innermost, b)) = open.last()
                && b != opener
            {
                culprit = innermost;
            }
        }
        _ => {}
    });
    culprit
}

/// What the collector may leave out of the text it parses ([`skim`]).
#[derive(Debug, Default)]
pub struct Skim {
    /// The insides of blocks never read, outermost only (between the braces).
    pub blocks: Vec<std::ops::Range<usize>>,
    /// The doc comments outside macro calls, whole (`///` to the line end, `/**` to `*/`):
    /// their links are read from the text, not from the parsed attributes.
    pub docs: Vec<std::ops::Range<usize>>,
}

/// What can be blanked before parsing without changing a fact. The `{ ... }` blocks whose
/// insides the collector never reads: a block with no attribute (`#`) and no word that
/// starts an item ([`item_keyword`]) anywhere inside, that is not a use group (`a::{b, c}`,
/// `use {a, b}`, a group inside either), a generic argument (`<{ N }>`) or inside a macro
/// call's body. A function body of plain statements is one; so is the array that initializes
/// a `const` or `static` (`= [`, `= &[`: generated tables), and a function's parameters
/// without attributes (`fn name(..)`). The body of a template macro
/// ([`TEMPLATES`]) is blanked whatever it holds, and what it holds marks nothing around it.
/// And the doc comments outside macro calls, whose links the collector reads from the text.
/// Empty when the brackets do not balance: the lexer's repairs then see the file as it is.
pub fn skim(text: &[u8]) -> Skim {
    struct Open {
        at: usize,
        opener: u8,
        /// A group of a use tree (`::{`, `use {`, or a group inside one).
        use_group: bool,
        /// A macro call's body (`name! (`, `[` or `{`; `macro_rules! name {`), or inside one.
        in_macro: bool,
        /// Whether the block may be blanked, as far as what precedes it goes.
        candidate: bool,
        /// What inside is read: the `KEYWORD` and `ATTRIBUTE` bits.
        read: u8,
        /// What keeps the group from being blanked: an attribute anywhere; an item keyword
        /// too, except in a function's parameters (`f: impl Fn()` holds no item).
        blocking: u8,
        /// The body of a template macro (`macro_rules! m { .. }`, `quote! { .. }`): never
        /// read, blanked whole.
        template: bool,
        /// The item keyword around the group, restored when it closes.
        keyword: Option<&'static [u8]>,
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        None,
        Word(usize, usize),
        Byte(u8),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut skim = Skim::default();
    let mut balanced = true;
    // The last three significant tokens.
    let (mut last, mut before, mut before2) = (Token::None, Token::None, Token::None);
    // The first item keyword of the statement the walk is in (`impl<const N: usize>` is an
    // `impl`).
    let mut keyword: Option<&'static [u8]> = None;
    const KEYWORD: u8 = 1;
    const ATTRIBUTE: u8 = 2;
    let mark = |stack: &mut Vec<Open>, what: u8| {
        if let Some(open) = stack.last_mut() {
            open.read |= what;
        }
    };
    walk(text, |event| {
        let token = match event {
            Event::Comment { doc, span, end } => {
                if doc && !stack.last().is_some_and(|open| open.in_macro) {
                    skim.docs.push(span.start as usize..end);
                }
                return;
            }
            Event::Word(start, end) => {
                let word = &text[start..end];
                // `set.union(&other)`: after a `.`, a word is a field or a method.
                if last != Token::Byte(b'.')
                    && let Some(word) = item_keyword(word)
                {
                    mark(&mut stack, KEYWORD);
                    keyword = keyword.or(Some(word));
                }
                Token::Word(start, end)
            }
            Event::Byte(at, b) => {
                match b {
                    b'#' => mark(&mut stack, ATTRIBUTE),
                    b';' => keyword = None,
                    b'(' | b'[' | b'{' => {
                        let use_group = b == b'{'
                            && (stack.last().is_some_and(|open| open.use_group)
                                || match last {
                                    Token::Word(start, end) => &text[start..end] == b"use",
                                    Token::Byte(b) => b == b':',
                                    Token::None => false,
                                });
                        // Inside a macro call's body, a blanked block could turn what does
                        // not parse as items into items that do.
                        let outer_macro = stack.last().is_some_and(|open| open.in_macro);
                        // A `const` or `static` initializer's array (`= [`, `= &[`): tables.
                        let initializer = b == b'['
                            && matches!(keyword, Some(b"const" | b"static"))
                            && (last == Token::Byte(b'=')
                                || (last == Token::Byte(b'&') && before == Token::Byte(b'=')));
                        let word = |token: Token| match token {
                            Token::Word(start, end) => std::str::from_utf8(&text[start..end]).ok(),
                            _ => None,
                        };
                        // `name! {` and `macro_rules! name {`.
                        let name = if last == Token::Byte(b'!') {
                            word(before)
                        } else if before == Token::Byte(b'!') && matches!(last, Token::Word(..)) {
                            word(before2).filter(|&name| name == "macro_rules")
                        } else {
                            None
                        };
                        let macro_body = last == Token::Byte(b'!') || name.is_some();
                        let template =
                            !outer_macro && name.is_some_and(|name| TEMPLATES.contains(&name));
                        // `fn name(`: the parameters (the collector reads a function's name,
                        // `async` and where its header ends).
                        let params = b == b'('
                            && matches!(last, Token::Word(..))
                            && word(before) == Some("fn");
                        let candidate =
                            ((b == b'{' && last != Token::Byte(b'<')) || initializer || params)
                                && !use_group
                                && !outer_macro;
                        stack.push(Open {
                            at,
                            opener: b,
                            use_group,
                            in_macro: outer_macro || macro_body,
                            candidate,
                            template,
                            read: 0,
                            blocking: if params {
                                ATTRIBUTE
                            } else {
                                KEYWORD | ATTRIBUTE
                            },
                            keyword: keyword.take(),
                        });
                    }
                    b')' | b']' | b'}' => match stack.pop() {
                        Some(open)
                            if matches!(
                                (open.opener, b),
                                (b'(', b')') | (b'[', b']') | (b'{', b'}')
                            ) =>
                        {
                            // After a block, a new statement begins.
                            keyword = if b == b'}' { None } else { open.keyword };
                            if open.template || (open.candidate && open.read & open.blocking == 0) {
                                // Blocks close inner first: an outer one swallows those inside.
                                let blocks = &mut skim.blocks;
                                while blocks.last().is_some_and(|inner| inner.start > open.at) {
                                    blocks.pop();
                                }
                                if open.at + 1 < at {
                                    blocks.push(open.at + 1..at);
                                }
                            } else if open.read != 0 {
                                mark(&mut stack, open.read);
                            }
                        }
                        _ => balanced = false,
                    },
                    _ => {}
                }
                Token::Byte(b)
            }
        };
        before2 = before;
        before = last;
        last = token;
    });
    if !balanced || !stack.is_empty() {
        return Skim::default();
    }
    skim
}

/// Macros whose bodies are templates for other code, not items of this module: never read.
pub const TEMPLATES: &[&str] = &[
    "macro_rules",
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
];

/// `word` as a word that can start an item, or make a macro body one the collector reads
/// (`collect::mentions_items` asks the same of a macro's bytes); `None` for any other word.
pub fn item_keyword(word: &[u8]) -> Option<&'static [u8]> {
    let keyword: &'static [u8] = match word {
        b"use" => b"use",
        b"mod" => b"mod",
        b"struct" => b"struct",
        b"enum" => b"enum",
        b"union" => b"union",
        b"trait" => b"trait",
        b"impl" => b"impl",
        b"fn" => b"fn",
        b"type" => b"type",
        b"const" => b"const",
        b"static" => b"static",
        b"extern" => b"extern",
        b"macro_rules" => b"macro_rules",
        _ => return None,
    };
    Some(keyword)
}

/// What [`walk`] sees.
enum Event {
    Comment {
        /// The comment up to its closing `*/`, or to the line end.
        span: Span,
        doc: bool,
        /// After the closing `*/` (or the line end).
        end: usize,
    },
    /// A byte outside comments, literals and words (punctuation, brackets; whitespace is
    /// skipped), and its offset.
    Byte(usize, u8),
    /// An identifier, keyword or number: its first byte and its end.
    Word(usize, usize),
}

/// One pass over the file in lexical units: comments, string and char literals (skipped),
/// words (skipped), lifetimes, and every other byte.
fn walk(text: &[u8], mut on: impl FnMut(Event)) {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                // Indentation comes in runs.
                while i < text.len() && CLASS[text[i] as usize] == BLANK {
                    i += 1;
                }
            }
            b'/' if text.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr2(b'\n', b'\r', &text[i..]).map_or(text.len(), |n| i + n);
                let body = &text[i + 2..end];
                let doc =
                    (body.starts_with(b"/") && !body.starts_with(b"//")) || body.starts_with(b"!");
                on(Event::Comment {
                    span: Span::new(i, end),
                    doc,
                    end,
                });
                i = end;
            }
            b'/' if text.get(i + 1) == Some(&b'*') => {
                let (end, inner_end) = block_comment_end(text, i);
                let body = &text[i + 2..inner_end.max(i + 2)];
                // `/** doc */` but not `/**/` or `/*** rule ***/`.
                let doc = (body.len() >= 2 && body[0] == b'*' && body[1] != b'*')
                    || body.starts_with(b"!");
                on(Event::Comment {
                    span: Span::new(i, inner_end.max(i + 2)),
                    doc,
                    end,
                });
                i = end;
            }
            b'"' => i = string_end(text, i + 1, None).unwrap_or(text.len()),
            b'r' if starts_raw_string(text, i) => {
                let mut hashes = 0;
                let mut j = i + 1;
                while text.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                i = string_end(text, j + 1, Some(hashes)).unwrap_or(text.len());
            }
            b'\'' => i = char_end(text, i).unwrap_or(i + 1),
            b if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 => {
                // A whole word, so the `r` of `bar"` is never taken for a raw string prefix;
                // the `r` of a `br"` or `cr"` prefix ends the word.
                let start = i;
                i += 1;
                while i < text.len()
                    && CLASS[text[i] as usize] == WORD
                    && !(text[i] == b'r' && starts_raw_string(text, i) && raw_prefix(text, i))
                {
                    i += 1;
                }
                on(Event::Word(start, i));
            }
            b => {
                on(Event::Byte(i, b));
                i += 1;
            }
        }
    }
}

const OTHER: u8 = 0;
const BLANK: u8 = 1;
const WORD: u8 = 2;

/// The class of each byte for [`walk`]'s runs: blanks, and the bytes of a word (ASCII letters,
/// digits, `_` and every byte of a non-ASCII character).
static CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        class[b] = if matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            BLANK
        } else if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 {
            WORD
        } else {
            OTHER
        };
        b += 1;
    }
    class
};

/// `r"`, `r#"`, `r##"` at `at`.
fn starts_raw_string(text: &[u8], at: usize) -> bool {
    let mut j = at + 1;
    while text.get(j) == Some(&b'#') {
        j += 1;
    }
    text.get(j) == Some(&b'"')
}

/// The `r` at `at` ends a `br` or `cr` prefix that starts a word.
fn raw_prefix(text: &[u8], at: usize) -> bool {
    at >= 1
        && matches!(text[at - 1], b'b' | b'c')
        && (at < 2 || !(text[at - 2].is_ascii_alphanumeric() || text[at - 2] == b'_'))
}

/// After the closing quote of a string whose contents start at `from`: a raw string
/// (`raw_hashes`: its number of hashes) ends at a quote followed by that many hashes, a plain
/// one has backslash escapes. `None` when the string is not closed.
pub fn string_end(text: &[u8], from: usize, raw_hashes: Option<usize>) -> Option<usize> {
    let mut i = from.min(text.len());
    let Some(hashes) = raw_hashes else {
        loop {
            i += memchr::memchr2(b'"', b'\\', &text[i..])?;
            if text[i] == b'"' {
                return Some(i + 1);
            }
            i += 2;
            if i > text.len() {
                return None;
            }
        }
    };
    loop {
        i += memchr::memchr(b'"', &text[i..])? + 1;
        if text
            .get(i..i + hashes)
            .is_some_and(|h| h.iter().all(|&b| b == b'#'))
        {
            return Some(i + hashes);
        }
    }
}

/// After a char literal (`'a'`, `'\n'`, `'\u{1F600}'`, `'é'`) starting at `at`; `None` after
/// the quote of a lifetime or label (`'a`, `'static`). An escape runs to the next quote or
/// line end, closed or not.
pub fn char_end(text: &[u8], at: usize) -> Option<usize> {
    match text.get(at + 1)? {
        b'\\' => {
            // The escaped character itself, then anything up to the closing quote (`\u{..}`).
            let mut i = at + 3;
            while i < text.len() && text[i] != b'\'' && text[i] != b'\n' {
                i += 1;
            }
            Some((i + 1).min(text.len()))
        }
        &first => {
            let width = match first {
                0x00..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            (text.get(at + 1 + width) == Some(&b'\'')).then_some(at + 2 + width)
        }
    }
}

/// Whether `text` has an item keyword ([`item_keyword`]) as a word outside strings and
/// comments.
pub fn has_item_keyword(text: &[u8]) -> bool {
    let mut found = false;
    walk(text, |event| {
        if let Event::Word(start, end) = event {
            found |= item_keyword(&text[start..end]).is_some();
        }
    });
    found
}

/// (after the closing `*/`, where the closing `*/` starts) of a block comment starting at
/// `at`; block comments nest.
pub fn block_comment_end(text: &[u8], at: usize) -> (usize, usize) {
    let mut depth = 0usize;
    let mut i = at;
    while i + 1 < text.len() {
        match (text[i], text[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return (i, i - 2);
                }
            }
            _ => i += 1,
        }
    }
    (text.len(), text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        comments(src.as_bytes())
            .into_iter()
            .map(|span| &src[span.range()])
            .collect()
    }

    #[test]
    fn strings_and_chars_hide_comment_markers() {
        let src = r####"let a = "// no"; // yes
let b = r##"/* no "# */"##; /* one /* nested */ still */
let c = '"'; let d: &'static str = "\"// no"; // two
/// doc
//! inner doc
//// four slashes
/** doc */ /**/ /***/ /*! doc */
let e = b'/'; let f = br"//"; let g = bar"x"; // three
"####;
        assert_eq!(
            texts(src),
            vec![
                "// yes",
                "/* one /* nested */ still ",
                "// two",
                "//// four slashes",
                "/*",
                "/**",
                "// three",
            ]
        );
    }

    /// The texts `skim` blanks: each block's inside, then each doc comment.
    fn skimmed(src: &str) -> (Vec<&str>, Vec<&str>) {
        let skim = skim(src.as_bytes());
        let blocks = skim.blocks.into_iter().map(|r| src[r].trim()).collect();
        let docs = skim.docs.into_iter().map(|r| &src[r]).collect();
        (blocks, docs)
    }

    #[test]
    fn skim_blanks_plain_bodies_and_keeps_what_is_read() {
        let src = "fn plain() -> u8 { let x = [1, 2]; if x[0] > 1 { 2 } else { 3 } }
                   fn nested() { use a::B; let y = { 1 }; }
                   fn attr() { #[cfg(x)] let z = 1; }
                   fn closure() { let f = |x: u8| -> Box<dyn Fn()> { todo!() }; }
                   struct S { a: u8, b: Vec<u8> }
                   impl S { fn m(&self) -> u8 { self.a } }
                   fn g(f: impl Fn(u8), #[cfg(x)] y: u8) {}
";
        let (blocks, docs) = skimmed(src);
        assert_eq!(
            blocks,
            vec![
                "let x = [1, 2]; if x[0] > 1 { 2 } else { 3 }",
                "1",
                // `Fn` is a trait, not the keyword.
                "let f = |x: u8| -> Box<dyn Fn()> { todo!() };",
                "a: u8, b: Vec<u8>",
                // Parameters name no item; an attribute on one is read.
                "&self",
                "self.a",
            ]
        );
        assert!(docs.is_empty());
    }

    #[test]
    fn skim_leaves_use_groups_generic_blocks_and_macro_bodies() {
        let src = "use a::{b, c::{d}};
use {e, f};
use g::{
    {H, I},
};
                   type T = Foo<{ N + 1 }>;
                   m! { struct A { x: u8 } }
                   cfg_if! { if #[cfg(x)] { fn f() { g() } } }
";
        assert_eq!(skimmed(src).0, Vec::<&str>::new());
    }

    #[test]
    fn skim_blanks_templates_tables_and_docs() {
        let src = "macro_rules! m { ($x:ident) => { fn $x() {} }; }
                   fn derive() -> T { quote! { impl X for Y {} } }
                   static TABLE: &[(u8, u8)] = &[(1, 2), (3, 4)];
                   const N: [u8; 2] = [5, 6];
                   impl<const K: usize> X<K> { const C: [u8; 1] = [7]; }
                   /// Docs of [`a::B`].
/** block doc */ struct D;
                   m! { /// inside a macro: never a link
 x }
";
        let (blocks, docs) = skimmed(src);
        assert_eq!(
            blocks,
            vec![
                "($x:ident) => { fn $x() {} };",
                "quote! { impl X for Y {} }",
                "(1, 2), (3, 4)",
                "5, 6",
                "7",
                // A macro body that names no item is never parsed.
                "/// inside a macro: never a link\n x",
            ]
        );
        assert_eq!(docs, vec!["/// Docs of [`a::B`].", "/** block doc */"]);
    }

    #[test]
    fn skim_gives_up_on_unbalanced_brackets() {
        let (blocks, docs) = skimmed(
            "/// doc
fn a() { let x = (1; }
",
        );
        assert!(blocks.is_empty() && docs.is_empty());
    }

    #[test]
    fn the_unclosed_delimiter_is_blamed() {
        let at = |src: &str, needle: &str| src.find(needle).expect("needle");
        let src = "mod b {\n fn half( -> u8 { 0 }\n}\n";
        assert_eq!(
            delimiter_culprit(src.as_bytes(), src.len() - 2),
            at(src, "(")
        );
        let src = "fn a() {} }";
        assert_eq!(delimiter_culprit(src.as_bytes(), 10), 10);
        // Brackets in strings do not count.
        let src = "fn a() { \"}\" ) }";
        assert_eq!(
            delimiter_culprit(src.as_bytes(), at(src, ")")),
            at(src, ")")
        );
    }

    #[test]
    fn suppressions_in_line_and_block_comments() {
        let src = "use a::B; // ssot: ignore[SSOT001, SSOT002] kept on purpose\n\
                   /* ssot: ignore */ use c::D;\n\
                   /// ssot: ignore[SSOT001] a doc comment suppresses nothing\n\
                   const S: &str = \"// ssot: ignore\";\n";
        let found = suppressions(src.as_bytes());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].codes, vec!["SSOT001", "SSOT002"]);
        assert_eq!(found[0].reason.as_deref(), Some("kept on purpose"));
        assert_eq!(
            &src[found[0].span.range()],
            "ssot: ignore[SSOT001, SSOT002] kept on purpose"
        );
        assert!(found[1].codes.is_empty());
        assert_eq!(found[1].reason, None);
        assert_eq!(&src[found[1].span.range()], "ssot: ignore ");
    }
}
