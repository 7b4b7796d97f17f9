//! rustfmt's order of `use` items, so a fix leaves a rustfmt-clean file rustfmt-clean.
//!
//! rustfmt (`reorder_imports`, on by default) sorts each *group* of `use` items: a run of them
//! with no blank or comment line between (attributes belong to their item; an item with
//! `#[macro_use]` or `#[rustfmt::skip]` ends a group). Items compare by their use trees,
//! normalised first (`a::{b}` is `a::b`, a list's elements sorted), segment by segment:
//! `self` < `super` < `crate` < a name < `*` < a `{..}` list; two names by the style
//! edition's rule (before 2024: `snake_case` < `CamelCase` < `UPPER_SNAKE`, then bytes; 2024:
//! the Style Guide's version sort, `r#` ignored); an alias only breaks a tie (none first);
//! a shorter path first. Visibility and attributes do not count, and the sort is stable.
//!
//! The oracle is rustfmt itself: `tests/it/rust_order.rs` sorts generated trees with
//! [`compare`] and asks `rustfmt --check` whether it agrees, for both style editions.

use std::cmp::Ordering;

/// The style edition that picks the rule for names: the crate's Rust edition, as `cargo fmt`
/// passes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// The 2015, 2018 and 2021 style editions.
    Classic,
    /// The 2024 style edition: version sort.
    V2024,
}

impl Style {
    pub fn of_edition(edition: &str) -> Style {
        match edition.parse::<u32>() {
            Ok(year) if year >= 2024 => Style::V2024,
            _ => Style::Classic,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    SelfValue(Option<String>),
    Super(Option<String>),
    Crate(Option<String>),
    Name(String, Option<String>),
    Glob,
    List(Vec<Tree>),
}

impl Segment {
    fn rank(&self) -> u8 {
        match self {
            Segment::SelfValue(_) => 0,
            Segment::Super(_) => 1,
            Segment::Crate(_) => 2,
            Segment::Name(..) => 3,
            Segment::Glob => 4,
            Segment::List(_) => 5,
        }
    }

    fn without_alias(&self) -> Segment {
        match self {
            Segment::SelfValue(_) => Segment::SelfValue(None),
            Segment::Super(_) => Segment::Super(None),
            Segment::Crate(_) => Segment::Crate(None),
            Segment::Name(name, _) => Segment::Name(name.clone(), None),
            other => other.clone(),
        }
    }
}

/// A use tree as rustfmt sorts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree(Vec<Segment>);

impl Tree {
    /// The tree of `text`, what a `use` item holds between `use` and `;` (comments allowed);
    /// `None` when it is not one. `leading_root` is whether a leading `::` is kept (editions
    /// 2018 and later, where it names the extern prelude).
    pub fn parse(text: &str, leading_root: bool) -> Option<Tree> {
        let tokens = tokens(text)?;
        let mut at = 0;
        let tree = parse_tree(&tokens, &mut at, leading_root, 0)?;
        (at == tokens.len()).then(|| tree.normalize())
    }

    /// rustfmt's `UseTree::normalize`: `a::self` is `a`, `a::self as b` is `a as b`, a
    /// list of one element (not `self`) is that element, lists are sorted.
    fn normalize(mut self) -> Tree {
        // (rustfmt sorts the lists here; [`compare`] sorts them, by its style.)
        let Some(last) = self.0.pop() else {
            return self;
        };
        match last {
            Segment::SelfValue(None) if !self.0.is_empty() => self,
            Segment::SelfValue(Some(alias))
                if matches!(self.0.last(), Some(Segment::Name(_, None))) =>
            {
                if let Some(Segment::Name(_, rename)) = self.0.last_mut() {
                    *rename = Some(alias);
                }
                self
            }
            // (`{self as b}` prints as `self`: it stays a list.)
            Segment::List(list)
                if list.len() == 1 && !matches!(list[0].0.as_slice(), [Segment::SelfValue(_)]) =>
            {
                let only = list.into_iter().next().unwrap_or(Tree(Vec::new()));
                self.0.extend(only.0);
                self.normalize()
            }
            Segment::List(list) => {
                self.0.push(Segment::List(
                    list.into_iter().map(Tree::normalize).collect(),
                ));
                self
            }
            other => {
                self.0.push(other);
                self
            }
        }
    }
}

/// How `a` sorts against `b` (both from [`Tree::parse`]), as rustfmt's `Ord for UseTree`.
pub fn compare(a: &Tree, b: &Tree, style: Style) -> Ordering {
    for (x, y) in a.0.iter().zip(&b.0) {
        let order = compare_segments(x, y, style);
        // An alias decides only between otherwise equal paths (`a::b` against `a as c`
        // goes by length).
        if order != Ordering::Equal
            && compare_segments(&x.without_alias(), &y.without_alias(), style) != Ordering::Equal
        {
            return order;
        }
    }
    a.0.len().cmp(&b.0.len())
}

fn compare_segments(a: &Segment, b: &Segment, style: Style) -> Ordering {
    match (a, b) {
        (Segment::SelfValue(x), Segment::SelfValue(y))
        | (Segment::Super(x), Segment::Super(y))
        | (Segment::Crate(x), Segment::Crate(y)) => compare_aliases(x, y, style),
        (Segment::Glob, Segment::Glob) => Ordering::Equal,
        (Segment::Name(x, x_alias), Segment::Name(y, y_alias)) => {
            compare_names(x, y, style).then_with(|| compare_aliases(x_alias, y_alias, style))
        }
        (Segment::List(x), Segment::List(y)) => {
            let sorted = |list: &[Tree]| {
                let mut list = list.to_vec();
                list.sort_by(|p, q| compare(p, q, style));
                list
            };
            let (x, y) = (sorted(x), sorted(y));
            for (p, q) in x.iter().zip(&y) {
                let order = compare(p, q, style);
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => a.rank().cmp(&b.rank()),
    }
}

fn compare_aliases(a: &Option<String>, b: &Option<String>, style: Style) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) if style == Style::V2024 => {
            version_sort(x.trim_start_matches("r#"), y.trim_start_matches("r#"))
        }
        _ => a.cmp(b),
    }
}

fn compare_names(a: &str, b: &str, style: Style) -> Ordering {
    if style == Style::V2024 {
        return version_sort(a.trim_start_matches("r#"), b.trim_start_matches("r#"));
    }
    let upper_first = |s: &str| s.starts_with(char::is_uppercase);
    let upper_snake = |s: &str| {
        s.chars()
            .all(|c| c.is_uppercase() || c == '_' || c.is_numeric())
    };
    upper_first(a)
        .cmp(&upper_first(b))
        .then_with(|| upper_snake(a).cmp(&upper_snake(b)))
        .then_with(|| a.cmp(b))
}

/// The Style Guide's version sort (2024 style edition): names cut into chunks (a `_`, a run
/// of ASCII digits, a run of anything else); `_` before everything, numbers by value, the
/// rest by code point; numbers of equal value with more leading zeros first, decided by the
/// first such pair and only when all else is equal.
pub fn version_sort(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (Chunks(a), Chunks(b));
    let mut zeros = Ordering::Equal;
    loop {
        let (p, q) = match (x.next(), y.next()) {
            (None, None) => return zeros,
            (Some(_), None) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
            (Some(p), Some(q)) => (p, q),
        };
        match (p, q) {
            (Chunk::Underscore, Chunk::Underscore) => {}
            (Chunk::Underscore, _) => return Ordering::Less,
            (_, Chunk::Underscore) => return Ordering::Greater,
            (Chunk::Number(p), Chunk::Number(q)) => {
                let value = |digits: &str| digits.trim_start_matches('0').to_string();
                let (pv, qv) = (value(p), value(q));
                let order = pv.len().cmp(&qv.len()).then_with(|| pv.cmp(&qv));
                if order != Ordering::Equal {
                    return order;
                }
                if zeros == Ordering::Equal && p.len() != q.len() {
                    // More leading zeros sorts first.
                    zeros = q.len().cmp(&p.len());
                }
            }
            (p, q) => match p.text().cmp(q.text()) {
                Ordering::Equal => {}
                order => return order,
            },
        }
    }
}

enum Chunk<'a> {
    Underscore,
    Number(&'a str),
    Text(&'a str),
}

impl<'a> Chunk<'a> {
    fn text(&self) -> &'a str {
        match self {
            Chunk::Underscore => "_",
            Chunk::Number(text) | Chunk::Text(text) => text,
        }
    }
}

struct Chunks<'a>(&'a str);

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        let first = self.0.chars().next()?;
        let (chunk, len) = if first == '_' {
            (Chunk::Underscore, 1)
        } else if first.is_ascii_digit() {
            let len = self
                .0
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(self.0.len());
            (Chunk::Number(&self.0[..len]), len)
        } else {
            let len = self
                .0
                .find(|c: char| c == '_' || c.is_ascii_digit())
                .unwrap_or(self.0.len());
            (Chunk::Text(&self.0[..len]), len)
        };
        self.0 = &self.0[len..];
        Some(chunk)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
}

/// The tokens of a use tree, comments dropped; `None` at anything a use tree cannot hold.
fn tokens(text: &str) -> Option<Vec<Token>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        match b {
            b if b.is_ascii_whitespace() => at += 1,
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = memchr::memmem::find(&bytes[at + 2..], b"*/").map(|n| at + 2 + n + 2)?;
            }
            b':' if bytes.get(at + 1) == Some(&b':') => {
                out.push(Token::PathSep);
                at += 2;
            }
            b'{' | b'}' | b',' | b'*' => {
                out.push(match b {
                    b'{' => Token::Open,
                    b'}' => Token::Close,
                    b',' => Token::Comma,
                    _ => Token::Star,
                });
                at += 1;
            }
            _ => {
                let start = at;
                if bytes[at..].starts_with(b"r#") {
                    at += 2;
                }
                let rest = &text[at..];
                let len = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                if len == 0 {
                    return None;
                }
                at += len;
                out.push(Token::Word(text[start..at].to_string()));
            }
        }
    }
    Some(out)
}

/// One tree from `tokens[*at..]`: a path, then an alias, `*` or a `{..}` list.
fn parse_tree(tokens: &[Token], at: &mut usize, leading_root: bool, depth: u32) -> Option<Tree> {
    if depth > 64 {
        return None;
    }
    let mut path = Vec::new();
    let mut root = false;
    if tokens.get(*at) == Some(&Token::PathSep) {
        *at += 1;
        root = leading_root;
    }
    loop {
        match tokens.get(*at)? {
            Token::Word(word) if word != "as" => {
                *at += 1;
                let segment = match word.as_str() {
                    "self" => Segment::SelfValue(None),
                    "super" => Segment::Super(None),
                    "crate" => Segment::Crate(None),
                    _ if root && path.is_empty() => Segment::Name(format!("::{word}"), None),
                    _ => Segment::Name(word.clone(), None),
                };
                path.push(segment);
                if tokens.get(*at) == Some(&Token::Word("as".to_string())) {
                    *at += 1;
                    let Some(Token::Word(alias)) = tokens.get(*at) else {
                        return None;
                    };
                    *at += 1;
                    let alias = Some(alias.clone());
                    match path.last_mut()? {
                        Segment::SelfValue(a) | Segment::Super(a) | Segment::Crate(a) => *a = alias,
                        Segment::Name(_, a) => *a = alias,
                        _ => return None,
                    }
                    return Some(Tree(path));
                }
            }
            Token::Star => {
                *at += 1;
                path.push(Segment::Glob);
                return Some(Tree(path));
            }
            Token::Open => {
                *at += 1;
                let mut list = Vec::new();
                loop {
                    if tokens.get(*at) == Some(&Token::Close) {
                        *at += 1;
                        break;
                    }
                    list.push(parse_tree(tokens, at, false, depth + 1)?);
                    match tokens.get(*at)? {
                        Token::Comma => *at += 1,
                        Token::Close => {}
                        _ => return None,
                    }
                }
                path.push(Segment::List(list));
                return Some(Tree(path));
            }
            _ => return None,
        }
        match tokens.get(*at) {
            Some(Token::PathSep) => *at += 1,
            _ => return Some(Tree(path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(trees: &[&str], style: Style) -> Vec<String> {
        let mut parsed: Vec<(Tree, &str)> = trees
            .iter()
            .map(|text| (Tree::parse(text, true).unwrap(), *text))
            .collect();
        parsed.sort_by(|a, b| compare(&a.0, &b.0, style));
        parsed
            .into_iter()
            .map(|(_, text)| text.to_string())
            .collect()
    }

    #[test]
    fn classic_order() {
        assert_eq!(
            sorted(
                &[
                    "std::fmt::Write",
                    "crate::a::B",
                    "self::x",
                    "super::y",
                    "a::{b, c}",
                    "a::*",
                    "a::b",
                    "a::B",
                    "a::B_C",
                    "a::b as z",
                    "::core::mem",
                ],
                Style::Classic
            ),
            [
                "self::x",
                "super::y",
                "crate::a::B",
                "::core::mem",
                "a::b",
                "a::b as z",
                "a::B",
                "a::B_C",
                "a::*",
                "a::{b, c}",
                "std::fmt::Write",
            ]
        );
    }

    #[test]
    fn normalised_before_sorting() {
        let parse = |text| Tree::parse(text, true).unwrap();
        assert_eq!(parse("a::{b}"), parse("a::b"));
        assert_ne!(parse("a::{self as c}"), parse("a as c"));
        assert_eq!(parse("a::{c, /* x */ b}"), parse("a::{c, b}"));
        assert_ne!(parse("a::{self}"), parse("a"));
        assert_eq!(Tree::parse("a::", true), None);
        assert_eq!(Tree::parse("a::{b", true), None);
    }

    #[test]
    fn version_sort_examples_of_the_style_guide() {
        fn sort<'a>(names: &[&'a str]) -> Vec<&'a str> {
            let mut names = names.to_vec();
            names.sort_by(|a, b| version_sort(a, b));
            names
        }
        assert_eq!(sort(&["x7x", "xxx"]), ["x7x", "xxx"]);
        assert_eq!(sort(&["applesauce", "apple"]), ["apple", "applesauce"]);
        assert_eq!(sort(&["aaaaa", "aaa_a"]), ["aaa_a", "aaaaa"]);
        assert_eq!(
            sort(&["AAAAA", "AAA1A", "BBBBB", "BB_BB", "C3CCC"]),
            ["AAA1A", "AAAAA", "BB_BB", "BBBBB", "C3CCC"]
        );
        assert_eq!(
            sort(&[
                "5", "50", "500", "5_000", "5_005", "5_050", "5_500", "50_000"
            ]),
            [
                "5", "5_000", "5_005", "5_050", "5_500", "50", "50_000", "500"
            ]
        );
        assert_eq!(
            sort(&["X86_64", "x86_64", "X86_128", "x86_128"]),
            ["X86_64", "X86_128", "x86_64", "x86_128"]
        );
        assert_eq!(sort(&["__", "_"]), ["_", "__"]);
        assert_eq!(sort(&["v010", "v10", "v09"]), ["v09", "v010", "v10"]);
    }
}
