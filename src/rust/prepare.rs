//! From bytes to a token stream, whatever the bytes: invalid UTF-8 and a shebang line are
//! blanked (byte offsets unchanged), and what the lexer cannot read is blanked and lexing
//! tried again. Every repair is a syntax error.

use std::borrow::Cow;
use std::str::FromStr;

use proc_macro2::TokenStream;

use super::lexical;
use crate::facts::{Span, SyntaxError, line_end};

/// How many unreadable lines are blanked before the lexer is given up on.
const LEX_REPAIRS: usize = 8;

/// The text as `str` with the same byte offsets: each byte of an invalid UTF-8 sequence
/// becomes a space (one error, at the first), and so does a shebang line (`#!/usr/bin/env
/// run-cargo-script`, which is not Rust and which `syn::parse_file` would strip).
pub fn sanitize<'t>(text: &'t [u8], errors: &mut Vec<SyntaxError>) -> Cow<'t, str> {
    let mut source: Cow<'t, str> = match std::str::from_utf8(text) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            let mut bytes = text.to_vec();
            let mut at = 0;
            while let Err(error) = std::str::from_utf8(&bytes[at..]) {
                let bad = at + error.valid_up_to();
                let len = error.error_len().unwrap_or(bytes.len() - bad);
                if errors.iter().all(|e| e.message != "invalid UTF-8") {
                    errors.push(SyntaxError {
                        span: Span::new(bad, bad + len),
                        message: "invalid UTF-8".to_string(),
                    });
                }
                bytes[bad..bad + len].fill(b' ');
                at = bad + len;
            }
            Cow::Owned(String::from_utf8(bytes).unwrap_or_default())
        }
    };
    let body = source.strip_prefix('\u{feff}').unwrap_or(&source);
    let offset = source.len() - body.len();
    // `#![inner_attribute]` is Rust; anything else after `#!` on the first line is not.
    if body.starts_with("#!") && !body[2..].trim_start().starts_with('[') {
        let end = offset + line_end(body.as_bytes(), 0);
        blank(&mut source, offset..end);
    }
    source
}

/// The text the parser reads once [`lexical::skim`]'s ranges are cut out of the file, and
/// the way back to the file's offsets. A cut range leaves a line break behind when it holds
/// one (else a space), so tokens never join and what is on one line of the text is on one
/// line of the file; every byte the parser reads keeps its place relative to its neighbours. Lexing, parsing
/// and the collector's work then scale with what is read (about a seventh of a crate's
/// bytes), not with the file.
#[derive(Clone)]
pub struct Cut {
    /// `(offset in the text, offset in the file)` where each piece of the text begins: a
    /// kept run of the file, or what a cut range left behind (mapped to the range's start).
    pieces: Vec<(u32, u32)>,
    /// The file's and the text's lengths.
    file_len: u32,
    text_len: u32,
}

impl Cut {
    /// Cuts `skim`'s ranges (each on char boundaries, and possibly nested or overlapping)
    /// out of `source`. `None` when there is nothing to cut.
    pub fn new(source: &str, skim: &lexical::Skim) -> Option<(String, Cut)> {
        if skim.blocks.is_empty() && skim.docs.is_empty() {
            return None;
        }
        let mut ranges: Vec<std::ops::Range<usize>> =
            skim.blocks.iter().chain(&skim.docs).cloned().collect();
        ranges.sort_unstable_by_key(|range| range.start);
        let bytes = source.as_bytes();
        let mut text = Vec::with_capacity(source.len() / 4);
        let mut pieces = Vec::with_capacity(2 * ranges.len() + 1);
        let mut kept = 0;
        let mut ranges = ranges.into_iter().peekable();
        while let Some(mut range) = ranges.next() {
            // Merge what overlaps or touches.
            while let Some(next) = ranges.next_if(|next| next.start <= range.end) {
                range.end = range.end.max(next.end);
            }
            let range = range.start.max(kept)..range.end.min(bytes.len());
            if range.start >= range.end {
                continue;
            }
            if kept < range.start {
                pieces.push((text.len() as u32, kept as u32));
                text.extend_from_slice(&bytes[kept..range.start]);
            }
            pieces.push((text.len() as u32, range.start as u32));
            let broken = memchr::memchr(b'\n', &bytes[range.clone()]).is_some();
            text.push(if broken { b'\n' } else { b' ' });
            kept = range.end;
        }
        if kept < bytes.len() {
            pieces.push((text.len() as u32, kept as u32));
            text.extend_from_slice(&bytes[kept..]);
        }
        let cut = Cut {
            pieces,
            file_len: bytes.len() as u32,
            text_len: text.len() as u32,
        };
        // Whole characters were cut, and only ASCII written: still UTF-8.
        Some((String::from_utf8(text).unwrap_or_default(), cut))
    }

    /// The file offset of offset `at` of the text.
    fn offset(&self, at: u32) -> u32 {
        if at >= self.text_len {
            return self.file_len;
        }
        let piece = self.pieces.partition_point(|&(text, _)| text <= at) - 1;
        let (text, file) = self.pieces[piece];
        let next = self
            .pieces
            .get(piece + 1)
            .map_or(self.file_len, |&(_, file)| file);
        (file + (at - text)).min(next)
    }

    /// The file's span for a span of the text: the start where it begins, the end just
    /// after its last byte.
    pub fn span(&self, span: Span) -> Span {
        let start = self.offset(span.start);
        if span.end <= span.start {
            return Span { start, end: start };
        }
        Span {
            start,
            end: (self.offset(span.end - 1) + 1).max(start),
        }
    }
}

/// Replaces `range` (on char boundaries) by spaces.
fn blank(source: &mut Cow<'_, str>, range: std::ops::Range<usize>) {
    let mut bytes = std::mem::take(source).into_owned().into_bytes();
    bytes[range].fill(b' ');
    // Whole characters were replaced by ASCII: still UTF-8.
    *source = Cow::Owned(String::from_utf8(bytes).unwrap_or_default());
}

/// Tokenizes `source`, blanking what each lexer error blames (an unclosed `{`, a stray `)`,
/// an unterminated string or comment to the end of its line) and trying again, up to
/// [`LEX_REPAIRS`] times. `None` when the lexer still fails. Spans of earlier attempts are dropped from proc-macro2's
/// per-thread source map between attempts.
pub fn lex(source: &mut Cow<'_, str>, errors: &mut Vec<SyntaxError>) -> Option<TokenStream> {
    for _ in 0..=LEX_REPAIRS {
        proc_macro2::extra::invalidate_current_thread_spans();
        let error = match TokenStream::from_str(source) {
            Ok(tokens) => return Some(tokens),
            Err(error) => error,
        };
        let at = error.span().byte_range().start.min(source.len());
        let bytes = source.as_bytes();
        // A delimiter problem costs one byte: the unclosed opener or the stray closer. Any
        // other (an unterminated string or comment, a bad character) costs the rest of its
        // line, so that the text after it is read as code again.
        let (culprit, message) = match bytes.get(at) {
            Some(b')' | b']' | b'}') => match lexical::delimiter_culprit(bytes, at) {
                culprit if culprit == at => (at, "unexpected closing delimiter".to_string()),
                culprit => (culprit, "unclosed delimiter".to_string()),
            },
            _ => (at, lex_message(&bytes[at..])),
        };
        let end = match bytes.get(culprit) {
            Some(b'(' | b'[' | b'{' | b')' | b']' | b'}') => culprit + 1,
            _ => line_end(bytes, culprit),
        };
        // The whole character at the culprit (`«` is two bytes), not its first byte.
        let width = source
            .get(culprit..)
            .and_then(|rest| rest.chars().next())
            .map_or(1, char::len_utf8);
        errors.push(SyntaxError {
            span: Span::new(culprit, (culprit + width).min(source.len())),
            message,
        });
        if bytes[culprit..end].iter().all(u8::is_ascii_whitespace) {
            // Nothing to blank: the error is not where it was reported.
            return None;
        }
        blank(source, culprit..end);
    }
    None
}

/// What the lexer could not read at the start of `rest`.
fn lex_message(rest: &[u8]) -> String {
    let message = match rest.first() {
        Some(b'(' | b'[' | b'{') => "unclosed delimiter",
        Some(b')' | b']' | b'}') => "unexpected closing delimiter",
        Some(b'"') => "unterminated string",
        Some(b'\'') => "unterminated character literal",
        Some(b'/') if rest.get(1) == Some(&b'*') => "unterminated block comment",
        Some(b'r' | b'b' | b'c') if rest[1..].iter().take(3).any(|&b| b == b'"') => {
            "unterminated string"
        }
        None => "unexpected end of file",
        _ => "invalid token",
    };
    message.to_string()
}
