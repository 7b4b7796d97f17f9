//! A Python tokenizer that groups tokens into logical lines.
//!
//! It knows the whole lexical grammar that decides where a logical line ends (strings with
//! every prefix, PEP 701 f-strings with nested quotes, brackets, comments, backslash
//! continuations, `\n`/`\r\n`/`\r` newlines) and nothing of the statement grammar: the
//! collector reads statements out of the token lines. It works on bytes, never fails and
//! never allocates per token; problems become [`SyntaxError`]s and lexing goes on.
//!
//! Invariant: every byte of the input belongs to at most one token; spans only grow.

use crate::facts::{Span, SyntaxError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Name,
    Number,
    String,
    /// A single `(`, `[` or `{`.
    Open,
    /// A single `)`, `]` or `}`.
    Close,
    Colon,
    Comma,
    Semi,
    Dot,
    /// A single `=`.
    Equal,
    Star,
    DoubleStar,
    At,
    /// `...`
    Ellipsis,
    /// `:=`
    Walrus,
    /// `+=`, `-=`, ...
    AugAssign,
    /// Every other operator.
    Op,
}

/// What kind of string literal a [`Kind::String`] token is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrFlags {
    pub prefix_len: u8,
    pub quote_len: u8,
    pub bytes: bool,
    pub raw: bool,
    /// f-string or t-string: the contents hold expressions.
    pub formatted: bool,
    /// No closing quote before the end of the line (or file).
    pub unterminated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    pub str_flags: StrFlags,
}

impl Token {
    pub fn text<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        &src[self.start as usize..self.end as usize]
    }

    /// The contents of a string token, without prefix and quotes.
    pub fn string_contents<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        let flags = self.str_flags;
        let start = self.start as usize + flags.prefix_len as usize + flags.quote_len as usize;
        let end = if flags.unterminated {
            self.end as usize
        } else {
            self.end as usize - flags.quote_len as usize
        };
        &src[start.min(end)..end]
    }
}

/// The indentation column of a logical line (tabs to multiples of 8).
#[derive(Clone, Copy, Debug)]
pub struct LineStart {
    pub indent: u32,
}

/// Deeper nesting of f-strings than this is lexed as plain strings (CPython itself stops far
/// earlier); it bounds the recursion on hostile input.
const MAX_FSTRING_NESTING: u32 = 64;

pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Open brackets of the current logical line: (byte, offset).
    brackets: Vec<(u8, u32)>,
    /// Spans of `#` comments, in order.
    pub comments: Vec<Span>,
    pub errors: Vec<SyntaxError>,
    reported_nul: bool,
}

const IDENT: u8 = 1;
const DIGIT: u8 = 2;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            table[b] = IDENT;
        } else if c.is_ascii_digit() {
            table[b] = DIGIT;
        }
        b += 1;
    }
    table
};

#[inline]
fn is_ident_continue(b: u8) -> bool {
    CLASS[b as usize] != 0
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [u8]) -> Lexer<'a> {
        // A UTF-8 byte order mark is not part of the source text.
        let pos = if src.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Lexer {
            src,
            pos,
            brackets: Vec::new(),
            comments: Vec::new(),
            errors: Vec::new(),
            reported_nul: false,
        }
    }

    fn error(&mut self, start: usize, end: usize, message: impl Into<String>) {
        self.errors.push(SyntaxError {
            span: Span::new(start, end),
            message: message.into(),
        });
    }

    /// Reads the next logical line into `out` (cleared first). Blank and comment-only lines
    /// are skipped. Returns `None` at the end of the input.
    pub fn next_line(&mut self, out: &mut Vec<Token>) -> Option<LineStart> {
        out.clear();
        let src = self.src;
        // Skip blank lines, measuring the indentation of the first non-blank one.
        let indent = loop {
            let mut indent = 0u32;
            let mut i = self.pos;
            while i < src.len() {
                match src[i] {
                    b' ' => indent += 1,
                    b'\t' => indent = (indent / 8 + 1) * 8,
                    b'\x0c' => indent = 0,
                    _ => break,
                }
                i += 1;
            }
            self.pos = i;
            if i >= src.len() {
                return None;
            }
            match src[i] {
                b'\n' => self.pos = i + 1,
                b'\r' => {
                    self.pos = if src.get(i + 1) == Some(&b'\n') {
                        i + 2
                    } else {
                        i + 1
                    }
                }
                b'#' => self.skip_comment(),
                b'\\' if matches!(src.get(i + 1), Some(b'\n' | b'\r')) => {
                    // A continuation on an otherwise empty line: keep joining.
                    self.pos = i + 1;
                    self.skip_newline();
                }
                _ => break indent,
            }
        };
        self.brackets.clear();
        self.lex_tokens(out);
        Some(LineStart { indent })
    }

    fn skip_comment(&mut self) {
        let start = self.pos;
        let end =
            memchr::memchr2(b'\n', b'\r', &self.src[start..]).map_or(self.src.len(), |n| start + n);
        self.comments.push(Span::new(start, end));
        self.pos = end;
    }

    /// Consumes one `\n`, `\r\n` or `\r` at `pos`, if there is one.
    fn skip_newline(&mut self) {
        match self.src.get(self.pos) {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') => {
                self.pos += 1;
                if self.src.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                }
            }
            _ => {}
        }
    }

    /// Lexes tokens until the newline that ends the logical line (consumed) or the end of input.
    fn lex_tokens(&mut self, out: &mut Vec<Token>) {
        let src = self.src;
        let len = src.len();
        loop {
            // The hot path, on a local position: spaces, names, dots and commas.
            let mut pos = self.pos;
            loop {
                while pos < len && src[pos] == b' ' {
                    pos += 1;
                }
                let Some(&b) = src.get(pos) else { break };
                let start = pos;
                let kind = if CLASS[b as usize] == IDENT {
                    pos += 1;
                    while pos < len && is_ident_continue(src[pos]) {
                        pos += 1;
                    }
                    if pos - start <= 2 && matches!(src.get(pos), Some(b'\'' | b'"')) {
                        // Maybe a string prefix: the slow path decides.
                        pos = start;
                        break;
                    }
                    Kind::Name
                } else if b == b',' {
                    pos += 1;
                    Kind::Comma
                } else if b == b'.' && !matches!(src.get(pos + 1), Some(b'.' | b'0'..=b'9')) {
                    pos += 1;
                    Kind::Dot
                } else {
                    break;
                };
                out.push(Token {
                    kind,
                    start: start as u32,
                    end: pos as u32,
                    str_flags: StrFlags::default(),
                });
            }
            self.pos = pos;
            if pos >= len {
                break;
            }
            let start = self.pos;
            let b = src[start];
            let kind = match b {
                b' ' | b'\t' | b'\x0c' => {
                    self.pos += 1;
                    continue;
                }
                b'\n' | b'\r' => {
                    self.skip_newline();
                    if self.brackets.is_empty() {
                        return;
                    }
                    if self.statement_keyword_follows() {
                        // `import`, `from`, `def` or `class` cannot start a line inside
                        // brackets: the bracket was never closed. Recover here.
                        let (open, at) = self.brackets[0];
                        self.error(
                            at as usize,
                            at as usize + 1,
                            format!("`{}` was never closed", open as char),
                        );
                        self.brackets.clear();
                        return;
                    }
                    continue;
                }
                b'#' => {
                    self.skip_comment();
                    continue;
                }
                b'\\' => {
                    self.pos += 1;
                    if matches!(src.get(self.pos), Some(b'\n' | b'\r')) {
                        self.skip_newline();
                    } else if self.pos >= src.len() {
                        self.error(
                            start,
                            start + 1,
                            "unexpected end of file after line continuation",
                        );
                    } else {
                        self.error(
                            start,
                            start + 1,
                            "unexpected character after line continuation",
                        );
                    }
                    continue;
                }
                b'\'' | b'"' => {
                    let flags = self.lex_string(start, StrFlags::default(), 0);
                    out.push(Token {
                        kind: Kind::String,
                        start: start as u32,
                        end: self.pos as u32,
                        str_flags: flags,
                    });
                    continue;
                }
                b'(' | b'[' | b'{' => {
                    self.brackets.push((b, start as u32));
                    self.pos += 1;
                    Kind::Open
                }
                b')' | b']' | b'}' => {
                    self.pos += 1;
                    let expected = match b {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    match self.brackets.pop() {
                        Some((open, _)) if open == expected => {}
                        Some((open, at)) => {
                            self.error(
                                start,
                                start + 1,
                                format!(
                                    "closing `{}` does not match `{}` at byte {at}",
                                    b as char, open as char
                                ),
                            );
                        }
                        None => self.error(start, start + 1, format!("unmatched `{}`", b as char)),
                    }
                    Kind::Close
                }
                b'.' => {
                    if src.get(start + 1).is_some_and(u8::is_ascii_digit) {
                        self.lex_number();
                        Kind::Number
                    } else if src.get(start + 1) == Some(&b'.') && src.get(start + 2) == Some(&b'.')
                    {
                        self.pos += 3;
                        Kind::Ellipsis
                    } else {
                        self.pos += 1;
                        Kind::Dot
                    }
                }
                b'0'..=b'9' => {
                    self.lex_number();
                    Kind::Number
                }
                b'\0' => {
                    if !self.reported_nul {
                        self.reported_nul = true;
                        self.error(start, start + 1, "source code cannot contain null bytes");
                    }
                    self.pos += 1;
                    continue;
                }
                _ if CLASS[b as usize] == IDENT => {
                    let mut end = start + 1;
                    while end < src.len() && is_ident_continue(src[end]) {
                        end += 1;
                    }
                    self.pos = end;
                    if end - start <= 2
                        && matches!(src.get(end), Some(b'\'' | b'"'))
                        && let Some(flags) = string_prefix(&src[start..end])
                    {
                        let flags = self.lex_string(end, flags, 0);
                        out.push(Token {
                            kind: Kind::String,
                            start: start as u32,
                            end: self.pos as u32,
                            str_flags: flags,
                        });
                        continue;
                    }
                    Kind::Name
                }
                _ => self.lex_operator(),
            };
            out.push(Token {
                kind,
                start: start as u32,
                end: self.pos as u32,
                str_flags: StrFlags::default(),
            });
        }
        // End of input inside brackets.
        if let Some(&(open, at)) = self.brackets.first() {
            self.error(
                at as usize,
                at as usize + 1,
                format!("`{}` was never closed", open as char),
            );
        }
    }

    /// After a newline inside brackets: does the next physical line start with a keyword that
    /// can only begin a statement?
    fn statement_keyword_follows(&self) -> bool {
        let src = self.src;
        let mut i = self.pos;
        while i < src.len() && matches!(src[i], b' ' | b'\t' | b'\x0c') {
            i += 1;
        }
        let start = i;
        while i < src.len() && is_ident_continue(src[i]) {
            i += 1;
        }
        let word = &src[start..i];
        let followed_by_space = matches!(src.get(i), Some(b' ' | b'\t'));
        followed_by_space && matches!(word, b"import" | b"from" | b"def" | b"class")
    }

    fn lex_number(&mut self) {
        let src = self.src;
        let start = self.pos;
        let hex_like = src[start] == b'0'
            && matches!(
                src.get(start + 1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            );
        let mut i = start + 1;
        while i < src.len() {
            let c = src[i];
            if c.is_ascii_alphanumeric() || c == b'_' {
                i += 1;
            } else if c == b'.' {
                // `1..real` is rare; `x[1:2].y` never reaches here (`]` ends the number).
                i += 1;
            } else if (c == b'+' || c == b'-') && !hex_like && matches!(src[i - 1], b'e' | b'E') {
                i += 1;
            } else {
                break;
            }
        }
        self.pos = i;
    }

    fn lex_operator(&mut self) -> Kind {
        let src = self.src;
        let start = self.pos;
        let b = src[start];
        let next = src.get(start + 1).copied().unwrap_or(0);
        let third = src.get(start + 2).copied().unwrap_or(0);
        let (len, kind) = match (b, next) {
            (b'*', b'*') if third == b'=' => (3, Kind::AugAssign),
            (b'/', b'/') | (b'>', b'>') | (b'<', b'<') if third == b'=' => (3, Kind::AugAssign),
            (b'*', b'*') => (2, Kind::DoubleStar),
            (b':', b'=') => (2, Kind::Walrus),
            (b'=' | b'!' | b'<' | b'>', b'=') => (2, Kind::Op),
            (b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'@', b'=') => {
                (2, Kind::AugAssign)
            }
            (b'-', b'>') | (b'/', b'/') | (b'>', b'>') | (b'<', b'<') | (b'<', b'>') => {
                (2, Kind::Op)
            }
            (b':', _) => (1, Kind::Colon),
            (b',', _) => (1, Kind::Comma),
            (b';', _) => (1, Kind::Semi),
            (b'=', _) => (1, Kind::Equal),
            (b'*', _) => (1, Kind::Star),
            (b'@', _) => (1, Kind::At),
            (b'+' | b'-' | b'/' | b'%' | b'&' | b'|' | b'^' | b'~' | b'<' | b'>', _) => {
                (1, Kind::Op)
            }
            _ => {
                // `$`, `?`, a backtick, `!` outside an f-string, stray control bytes.
                let len = utf8_len(b).min(src.len() - start);
                self.error(start, start + len, "invalid character in source");
                (len, Kind::Op)
            }
        };
        self.pos = start + len;
        kind
    }

    /// Lexes a string literal whose opening quote is at `quote_at`; sets `pos` past it.
    fn lex_string(&mut self, quote_at: usize, mut flags: StrFlags, nesting: u32) -> StrFlags {
        let src = self.src;
        let quote = src[quote_at];
        let triple = src.get(quote_at + 1) == Some(&quote) && src.get(quote_at + 2) == Some(&quote);
        flags.quote_len = if triple { 3 } else { 1 };
        let body = quote_at + flags.quote_len as usize;
        let start = quote_at - flags.prefix_len as usize;
        let closed = if flags.formatted && nesting < MAX_FSTRING_NESTING {
            self.pos = body;
            self.lex_fstring_body(quote, triple, flags.raw, nesting)
        } else {
            self.pos = body;
            self.lex_plain_body(quote, triple)
        };
        if !closed {
            flags.unterminated = true;
            let message = if triple {
                "unterminated triple-quoted string literal"
            } else {
                "unterminated string literal"
            };
            self.error(start, self.pos, message);
        }
        flags
    }

    /// Returns whether the closing quote was found; `pos` ends after it, or at the newline
    /// (single-quoted) or end of input that stopped the string.
    fn lex_plain_body(&mut self, quote: u8, triple: bool) -> bool {
        let src = self.src;
        let mut i = self.pos;
        loop {
            let found = if triple {
                memchr::memchr2(quote, b'\\', &src[i..])
            } else {
                memchr::memchr3(quote, b'\\', b'\n', &src[i..])
            };
            let Some(n) = found else {
                self.pos = src.len();
                return false;
            };
            i += n;
            match src[i] {
                b'\\' => {
                    // A backslash escapes the next byte in every string kind, raw included.
                    i += 1;
                    if src.get(i) == Some(&b'\r') && src.get(i + 1) == Some(&b'\n') {
                        i += 2;
                    } else if i < src.len() {
                        i += 1;
                    }
                }
                b'\n' => {
                    // A `\r\n` line ending: stop before the `\r`.
                    self.pos = if i > 0 && src[i - 1] == b'\r' {
                        i - 1
                    } else {
                        i
                    };
                    return false;
                }
                _ => {
                    if !triple {
                        self.pos = i + 1;
                        return true;
                    }
                    if src.get(i + 1) == Some(&quote) && src.get(i + 2) == Some(&quote) {
                        self.pos = i + 3;
                        return true;
                    }
                    i += 1;
                }
            }
        }
    }

    /// The literal part of an f-string (PEP 701): literal text and `{expression}` fields,
    /// which may hold any expression, strings with the same quote included.
    fn lex_fstring_body(&mut self, quote: u8, triple: bool, raw: bool, nesting: u32) -> bool {
        let src = self.src;
        while self.pos < src.len() {
            let i = self.pos;
            match src[i] {
                c if c == quote => {
                    if !triple {
                        self.pos = i + 1;
                        return true;
                    }
                    if src.get(i + 1) == Some(&quote) && src.get(i + 2) == Some(&quote) {
                        self.pos = i + 3;
                        return true;
                    }
                    self.pos = i + 1;
                }
                b'\\' => {
                    let next = src.get(i + 1).copied();
                    self.pos = match next {
                        // `\{` still opens a field; only the backslash is literal.
                        Some(b'{' | b'}') => i + 1,
                        // `\N{DASH}` names a character: its braces are not a field.
                        Some(b'N') if !raw && src.get(i + 2) == Some(&b'{') => {
                            memchr::memchr(b'}', &src[i..]).map_or(src.len(), |n| i + n + 1)
                        }
                        Some(b'\r') if src.get(i + 2) == Some(&b'\n') => i + 3,
                        Some(_) => i + 2,
                        None => i + 1,
                    };
                }
                b'\n' | b'\r' if !triple => return false,
                b'{' => {
                    if src.get(i + 1) == Some(&b'{') {
                        self.pos = i + 2;
                    } else {
                        self.pos = i + 1;
                        self.lex_fstring_field(quote, triple, raw, nesting);
                    }
                }
                _ => self.pos = i + 1,
            }
        }
        false
    }

    /// An f-string replacement field after its `{`, up to and including the closing `}`.
    fn lex_fstring_field(&mut self, quote: u8, triple: bool, raw: bool, nesting: u32) {
        let src = self.src;
        let mut depth = 0u32;
        while self.pos < src.len() {
            let i = self.pos;
            match src[i] {
                b'\'' | b'"' => {
                    self.lex_nested_string(i, StrFlags::default(), nesting);
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos = i + 1;
                }
                b')' | b']' => {
                    depth = depth.saturating_sub(1);
                    self.pos = i + 1;
                }
                b'}' => {
                    self.pos = i + 1;
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                b'#' => {
                    let end = memchr::memchr2(b'\n', b'\r', &src[i..]).map_or(src.len(), |n| i + n);
                    self.pos = end;
                }
                b'!' if depth == 0 && src.get(i + 1) != Some(&b'=') => {
                    // Conversion `!r`: the format spec or the closing brace follows.
                    self.pos = i + 1;
                }
                b':' if depth == 0 => {
                    self.pos = i + 1;
                    if self.lex_format_spec(quote, triple, raw, nesting) {
                        return;
                    }
                    // The spec ran into the end of the string: the field is unterminated.
                    return;
                }
                c if CLASS[c as usize] == IDENT => {
                    let mut end = i + 1;
                    while end < src.len() && is_ident_continue(src[end]) {
                        end += 1;
                    }
                    self.pos = end;
                    if end - i <= 2
                        && matches!(src.get(end), Some(b'\'' | b'"'))
                        && let Some(flags) = string_prefix(&src[i..end])
                    {
                        self.lex_nested_string(end, flags, nesting);
                    }
                }
                _ => self.pos = i + 1,
            }
        }
    }

    fn lex_nested_string(&mut self, quote_at: usize, flags: StrFlags, nesting: u32) {
        self.lex_string(quote_at, flags, nesting + 1);
    }

    /// A format spec after `:` in a field: literal text with nested fields, up to the `}` that
    /// closes the field (consumed; returns true) or the end of the string (returns false).
    fn lex_format_spec(&mut self, quote: u8, triple: bool, raw: bool, nesting: u32) -> bool {
        let src = self.src;
        while self.pos < src.len() {
            let i = self.pos;
            match src[i] {
                b'{' => {
                    self.pos = i + 1;
                    self.lex_fstring_field(quote, triple, raw, nesting);
                }
                b'}' => {
                    self.pos = i + 1;
                    return true;
                }
                c if c == quote => {
                    if !triple || (src.get(i + 1) == Some(&quote) && src.get(i + 2) == Some(&quote))
                    {
                        return false;
                    }
                    self.pos = i + 1;
                }
                b'\n' | b'\r' if !triple => return false,
                b'\\' => self.pos = (i + 2).min(src.len()),
                _ => self.pos = i + 1,
            }
        }
        false
    }
}

/// Flags of a valid string prefix (`r`, `b`, `rb`, `f`, `Rf`, `t`, `u`, ...), case-insensitive.
fn string_prefix(word: &[u8]) -> Option<StrFlags> {
    let mut flags = StrFlags {
        prefix_len: word.len() as u8,
        ..StrFlags::default()
    };
    let mut u = false;
    for &c in word {
        match c.to_ascii_lowercase() {
            b'r' if !flags.raw => flags.raw = true,
            b'b' if !flags.bytes => flags.bytes = true,
            b'f' | b't' if !flags.formatted => flags.formatted = true,
            b'u' if !u => u = true,
            _ => return None,
        }
    }
    let valid = match word.len() {
        1 => true,
        // `u` combines with nothing; bytes are never formatted.
        _ => !(u || flags.bytes && flags.formatted),
    };
    valid.then_some(flags)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str) -> Vec<Vec<String>> {
        let mut lexer = Lexer::new(src.as_bytes());
        let mut tokens = Vec::new();
        let mut out = Vec::new();
        while lexer.next_line(&mut tokens).is_some() {
            out.push(
                tokens
                    .iter()
                    .map(|t| String::from_utf8_lossy(t.text(src.as_bytes())).into_owned())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn logical_lines_join_brackets_and_continuations() {
        assert_eq!(
            lines("from a import (b,\n  c)  # x\nimport d \\\n  .e\n"),
            vec![
                vec!["from", "a", "import", "(", "b", ",", "c", ")"],
                vec!["import", "d", ".", "e"]
            ]
        );
    }

    #[test]
    fn pep701_fstrings_nest_quotes() {
        assert_eq!(
            lines("x = f\"{d[\"k\"]:>{w}}\" + rb'\\''\nimport y\n"),
            vec![
                vec!["x", "=", "f\"{d[\"k\"]:>{w}}\"", "+", "rb'\\''"],
                vec!["import", "y"]
            ]
        );
    }

    #[test]
    fn unclosed_bracket_recovers_at_statement_keyword() {
        let src = "x = foo(\nimport os\n";
        let mut lexer = Lexer::new(src.as_bytes());
        let mut tokens = Vec::new();
        lexer.next_line(&mut tokens);
        lexer.next_line(&mut tokens);
        assert_eq!(tokens.len(), 2);
        assert_eq!(lexer.errors.len(), 1);
    }
}
