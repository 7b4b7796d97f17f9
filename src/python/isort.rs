//! Where an isort-style sorter (ruff's `I001` with its default settings) wants an import: the
//! section of a module, the order of statements and of the names in them, the way a `from`
//! statement is written, and the block of consecutive imports a statement belongs to. The
//! rewrites of [`super::edit`] use it to put a new, split or rewritten import where the sorter
//! would, so that a fix never adds an `I001` finding.
//!
//! The defaults followed: sections future, standard library, third party, first party, local
//! folder (relative imports), one blank line between two; `import x` before `from x import y`
//! within a section (`from` first in the future section); modules compared case-insensitively
//! in natural order (`m2` before `m10`), then case-sensitively; relative imports furthest
//! first (`..` before `.`); names ordered by type (`CONSTANT`, then `Class`, then `variable`);
//! `from m import A as B` is a statement of its own (`combine-as-imports = false`); a statement
//! with a comment above it has a blank line before it unless it opens its section; a `from`
//! statement longer than 88 columns is written one name a line, with a trailing comma.
//!
//! Sections: `__future__`; the standard library of CPython 3.8 to 3.14 (a module there for some
//! of those versions only, such as `tomllib`, takes the section under which its block is
//! already sorted: the project's sorter targets one version; else that of 3.11, ruff's
//! default); first-party, the repository's top-level packages ([`FirstParty`]); relative
//! imports; everything else is third-party.
//!
//! A block is a run of import statements at one indentation with nothing but blank lines and
//! comments between them, as the sorter sees it: at module level, and in a function, `try` or
//! `if` body alike (a fix never moves an import out of its own body). Comment lines directly
//! above a statement belong to it (except above the block's first statement, which are not
//! part of the block); a `# isort: ...` directive ends a block.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::edit::{newline_of, next_line_start};
use super::lexer::Lexer;
use crate::facts::{FileFacts, Import, ImportKind, Span, line_end, line_start};
use crate::rules::Edit;

/// The sorter's line length (ruff's default).
pub const LINE_LENGTH: usize = 88;

/// The repository's own top-level packages and modules: an import of one is first-party
/// (ruff's default `src` is the project root and `src/`, where the top-level packages are).
///
/// It also keeps each file's import blocks once built ([`Block::around`]), for as long as it
/// lives: one rule's pass over one graph, where a file of 5,000 imports asks for its block
/// once per finding. `'t` is how long the texts and facts it is asked about live: they
/// outlive it, so where they are identifies them ([`blocks_key`]).
#[derive(Debug, Default)]
pub struct FirstParty<'t> {
    tops: HashSet<String>,
    /// By the file's text and facts ([`blocks_key`]): the block of each import, by index.
    files: Mutex<HashMap<(usize, usize, usize), Arc<FileIndex>>>,
    /// Invariant: a `FirstParty<'static>` cannot be lent out for shorter-lived texts.
    lives: std::marker::PhantomData<Invariant<'t>>,
}

impl FirstParty<'_> {
    /// From the dotted names of the repository's modules (`app.websocket_manager` makes `app`
    /// first-party).
    pub fn new<'a, 't>(modules: impl IntoIterator<Item = &'a str>) -> FirstParty<'t> {
        let mut tops = HashSet::new();
        for module in modules {
            let top = top_level(module);
            if !tops.contains(top) {
                tops.insert(top.to_string());
            }
        }
        FirstParty {
            tops,
            files: Mutex::default(),
            lives: std::marker::PhantomData,
        }
    }

    fn contains(&self, module: &str) -> bool {
        self.tops.contains(top_level(module))
    }
}

/// A type invariant in `'t`.
type Invariant<'t> = fn(&'t [u8]) -> &'t [u8];

/// What [`FirstParty`] keeps of one file.
#[derive(Debug)]
struct FileIndex {
    /// The block of each import, by index.
    blocks: Vec<Option<Arc<Block>>>,
    /// The absolute `from` imports (`from m import ..`), by module.
    from: HashMap<String, Vec<usize>>,
}

impl<'t> FirstParty<'t> {
    fn file(&self, text: &'t [u8], facts: &'t FileFacts) -> Arc<FileIndex> {
        let key = blocks_key(text, facts);
        let kept = self
            .files
            .lock()
            .ok()
            .and_then(|files| files.get(&key).cloned());
        kept.unwrap_or_else(|| {
            let mut from: HashMap<String, Vec<usize>> = HashMap::new();
            for (index, import) in facts.imports.iter().enumerate() {
                if import.kind == ImportKind::From && import.level == 0 {
                    from.entry(import.module.clone()).or_default().push(index);
                }
            }
            let file = Arc::new(FileIndex {
                blocks: Block::all(text, facts, self),
                from,
            });
            if let Ok(mut files) = self.files.lock() {
                files.insert(key, Arc::clone(&file));
            }
            file
        })
    }

    /// The absolute `from module import ..` statements of the file, by index, in order.
    pub fn imports_from(&self, text: &'t [u8], facts: &'t FileFacts, module: &str) -> Vec<usize> {
        self.file(text, facts)
            .from
            .get(module)
            .cloned()
            .unwrap_or_default()
    }
}

/// What identifies one file's blocks: where its text and its facts are, and how long the
/// text is. Both outlive the [`FirstParty`] that keeps the blocks (its `'t`), so no other file
/// can be at the same place while it does.
fn blocks_key(text: &[u8], facts: &FileFacts) -> (usize, usize, usize) {
    (
        text.as_ptr() as usize,
        text.len(),
        std::ptr::from_ref(facts) as usize,
    )
}

fn top_level(module: &str) -> &str {
    module.split('.').next().unwrap_or(module)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Future,
    StandardLibrary,
    ThirdParty,
    FirstParty,
    LocalFolder,
}

/// The version the sorter targets when a project names none: ruff's default, the oldest
/// CPython still supported (3.11 for ruff 0.17).
const DEFAULT_MINOR: u32 = 11;

/// The versions of 3.8 to 3.14 whose standard library has the top-level module `top` (bit 0:
/// 3.8); 0 for none.
fn standard_library_versions(top: &str) -> u8 {
    STANDARD_LIBRARY
        .binary_search_by(|(name, _)| name.cmp(&top))
        .map_or(0, |at| STANDARD_LIBRARY[at].1)
}

/// The section of `from <dots><module> import ...` (`level` dots) or `import <module>` for the
/// default target version, and the other one it has for some of 3.8 to 3.14 (`tomllib`,
/// `distutils`): which one a project's sorter uses depends on its target version.
fn sections(module: &str, level: u32, first_party: &FirstParty) -> (Section, Option<Section>) {
    let top = top_level(module);
    let outside = || {
        if first_party.contains(top) || module == "__main__" {
            Section::FirstParty
        } else {
            Section::ThirdParty
        }
    };
    if level > 0 {
        return (Section::LocalFolder, None);
    }
    if top == "__future__" {
        return (Section::Future, None);
    }
    let versions = standard_library_versions(top);
    let (oldest, newest) = STANDARD_LIBRARY_MINORS;
    let all = (1u8 << (newest - oldest + 1)) - 1;
    match versions {
        0 => (outside(), None),
        _ if versions == all => (Section::StandardLibrary, None),
        _ if versions & 1 << (DEFAULT_MINOR - oldest) != 0 => {
            (Section::StandardLibrary, Some(outside()))
        }
        _ => (outside(), Some(Section::StandardLibrary)),
    }
}

/// The section of `from <dots><module> import ...` (`level` dots) or `import <module>`, for
/// the default target version.
pub fn section(module: &str, level: u32, first_party: &FirstParty) -> Section {
    sections(module, level, first_party).0
}

/// Natural order, as the `natord` crate that ruff uses has it: runs of digits compare as
/// numbers (`m2` < `m10`; with a leading zero digit by digit, `015` < `12`), whitespace
/// between characters is skipped, everything else compares by character.
pub fn natural(left: &str, right: &str) -> Ordering {
    let (mut lefts, mut rights) = (left.chars(), right.chars());
    let (mut l, mut r) = (lefts.next(), rights.next());
    loop {
        while l.is_some_and(char::is_whitespace) {
            l = lefts.next();
        }
        while r.is_some_and(char::is_whitespace) {
            r = rights.next();
        }
        let (x, y) = match (l, r) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (x, y),
        };
        let (Some(dx), Some(dy)) = (x.to_digit(10), y.to_digit(10)) else {
            match x.cmp(&y) {
                Ordering::Equal => {
                    l = lefts.next();
                    r = rights.next();
                    continue;
                }
                other => return other,
            }
        };
        // A leading zero: digit by digit (`1.001` < `1.02`); else the longer number is
        // greater, and equal lengths compare by their first differing digit.
        let by_digit = dx == 0 || dy == 0;
        let mut first_difference = dx.cmp(&dy);
        if by_digit && first_difference != Ordering::Equal {
            return first_difference;
        }
        loop {
            l = lefts.next();
            r = rights.next();
            match (
                l.and_then(|c| c.to_digit(10)),
                r.and_then(|c| c.to_digit(10)),
            ) {
                (Some(dx), Some(dy)) if by_digit && dx != dy => return dx.cmp(&dy),
                (Some(dx), Some(dy)) => {
                    if first_difference == Ordering::Equal {
                        first_difference = dx.cmp(&dy);
                    }
                }
                (Some(_), None) => return Ordering::Greater,
                (None, Some(_)) => return Ordering::Less,
                (None, None) => break,
            }
        }
        if first_difference != Ordering::Equal {
            return first_difference;
        }
        // `l` and `r` hold the characters after the numbers.
    }
}

/// A string compared in [`natural`] order.
#[derive(Clone, Debug)]
struct Natural(String);

impl Ord for Natural {
    fn cmp(&self, other: &Self) -> Ordering {
        natural(&self.0, &other.0)
    }
}

impl PartialOrd for Natural {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Natural {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Natural {}

/// `order-by-type`: `CONSTANT`, then `Class`, then `variable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MemberType {
    Constant,
    Class,
    Variable,
}

fn member_type(name: &str) -> MemberType {
    let mut cased = false;
    let mut lower = false;
    for c in name.chars() {
        lower |= c.is_lowercase();
        cased |= c.is_uppercase();
    }
    if name.chars().count() > 1 && cased && !lower {
        MemberType::Constant
    } else if name.chars().next().is_some_and(char::is_uppercase) {
        MemberType::Class
    } else {
        MemberType::Variable
    }
}

/// The sort key of a name in `from m import a, B as C`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberKey {
    /// `*` first.
    not_star: bool,
    member_type: MemberType,
    lowercase: Natural,
    name: Natural,
    alias: Option<Natural>,
}

impl MemberKey {
    pub fn new(name: &str, alias: Option<&str>) -> MemberKey {
        MemberKey {
            not_star: name != "*",
            member_type: member_type(name),
            lowercase: Natural(name.to_lowercase()),
            name: Natural(name.to_string()),
            alias: alias.map(|alias| Natural(alias.to_string())),
        }
    }
}

/// The sort key of a statement in its block: its section first.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub section: Section,
    /// `import x` (0) before `from x import y` (1), the other way round for `__future__`.
    style: u8,
    /// Relative imports furthest first.
    distance: Reverse<u32>,
    lowercase: Option<Natural>,
    module: Option<Natural>,
    /// The least of the names (`from` statements).
    first_name: Option<MemberKey>,
    /// `import a as b`.
    alias: Option<Natural>,
}

impl Key {
    /// `import <name> [as <alias>]`.
    pub fn straight(name: &str, alias: Option<&str>, first_party: &FirstParty) -> Key {
        let section = section(name, 0, first_party);
        Key {
            section,
            style: u8::from(section == Section::Future),
            distance: Reverse(0),
            lowercase: Some(Natural(name.to_lowercase())),
            module: Some(Natural(name.to_string())),
            first_name: None,
            alias: alias.map(|alias| Natural(alias.to_string())),
        }
    }

    /// `from <level dots><module> import <names>`.
    pub fn from<'a>(
        module: &str,
        level: u32,
        names: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        first_party: &FirstParty,
    ) -> Key {
        let section = section(module, level, first_party);
        let named = !module.is_empty();
        Key {
            section,
            style: u8::from(section != Section::Future),
            distance: Reverse(level),
            lowercase: named.then(|| Natural(module.to_lowercase())),
            module: named.then(|| Natural(module.to_string())),
            first_name: names
                .into_iter()
                .map(|(name, alias)| MemberKey::new(name, alias))
                .min(),
            alias: None,
        }
    }

    /// The key of a statement as the facts hold it (an `import a, b` by its first name, as
    /// the sorter would split it), and its key in the other section it has for some target
    /// versions.
    fn of(import: &Import, first_party: &FirstParty) -> (Key, Option<Key>) {
        let module = match import.kind {
            ImportKind::Module => import.names.first().map_or("", |name| name.name.as_str()),
            ImportKind::From => import.module.as_str(),
        };
        let key = Key::written(import, first_party);
        let other = sections(module, import.level, first_party)
            .1
            .map(|section| Key {
                section,
                ..key.clone()
            });
        (key, other)
    }

    fn written(import: &Import, first_party: &FirstParty) -> Key {
        match import.kind {
            ImportKind::Module => {
                let first = import.names.first();
                Key::straight(
                    first.map_or("", |name| name.name.as_str()),
                    first.and_then(|name| name.alias.as_deref()),
                    first_party,
                )
            }
            ImportKind::From => Key::from(
                &import.module,
                import.level,
                import
                    .names
                    .iter()
                    .map(|name| (name.name.as_str(), name.alias.as_deref())),
                first_party,
            ),
        }
    }
}

/// Where a new item goes among `keys` (sorted or not): after the greatest key that is not
/// greater (the last of equal ones), else before the least greater one. In a sorted list that
/// is the sorted position; in an unsorted one, next to its closest sorted neighbour.
fn slot_among<'a, K: Ord + 'a>(
    keys: impl Iterator<Item = (usize, &'a K)> + Clone,
    key: &K,
) -> usize {
    let below = keys
        .clone()
        .filter(|(_, other)| *other <= key)
        .max_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    match below {
        Some((index, _)) => index + 1,
        None => keys
            .filter(|(_, other)| *other > key)
            .min_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)))
            .map_or(0, |(index, _)| index),
    }
}

/// Where a name goes among the names of a `from` statement (see [`slot_among`]).
pub fn name_slot(names: &[MemberKey], key: &MemberKey) -> usize {
    slot_among(names.iter().enumerate(), key)
}

/// Display columns, as the sorter counts them (a tab to the next multiple of 4).
pub fn width(text: &str) -> usize {
    text.chars().fold(0, |column, c| {
        if c == '\t' {
            column + 4 - column % 4
        } else {
            column + 1
        }
    })
}

/// `from <module> import <names>` as the sorter writes it at `indent` (the first line's
/// indentation is not included, nor the last line's ending): on one line when it fits in
/// [`LINE_LENGTH`] columns, else one name a line, indented by `unit` more, each with a comma.
/// A trailing `comment` (`# ...`) ends the line; wrapped, it follows the only name, or `(`.
pub fn format_from(
    module: &str,
    names: &[String],
    comment: Option<&str>,
    indent: &str,
    unit: &str,
    newline: &str,
) -> String {
    let one_line = format!("from {module} import {}", names.join(", "));
    let columns = width(indent) + width(&one_line) + comment.map_or(0, |c| 2 + width(c));
    if columns <= LINE_LENGTH {
        return match comment {
            Some(comment) => format!("{one_line}  {comment}"),
            None => one_line,
        };
    }
    let mut out = format!("from {module} import (");
    if let (Some(comment), true) = (comment, names.len() > 1) {
        out.push_str("  ");
        out.push_str(comment);
    }
    out.push_str(newline);
    for name in names {
        out.push_str(&format!("{indent}{unit}{name},"));
        if let (Some(comment), true) = (comment, names.len() == 1) {
            out.push_str("  ");
            out.push_str(comment);
        }
        out.push_str(newline);
    }
    out.push_str(indent);
    out.push(')');
    out
}

/// The file's indentation unit, as the sorter reads it: the whitespace of the first indented
/// line (`"    "` when there is none).
pub fn indent_unit(text: &[u8]) -> String {
    let mut lexer = Lexer::new(text);
    let mut tokens = Vec::new();
    while let Some(line) = lexer.next_line(&mut tokens) {
        let Some(first) = tokens.first().filter(|_| line.indent > 0) else {
            continue;
        };
        let start = first.start as usize;
        let whitespace = &text[line_start(text, start)..start];
        if !whitespace.is_empty() && whitespace.iter().all(|b| matches!(b, b' ' | b'\t')) {
            return String::from_utf8_lossy(whitespace).into_owned();
        }
    }
    "    ".to_string()
}

/// The start of the line holding `offset`, after a UTF-8 byte order mark on the first line.
pub fn line_begin(text: &[u8], offset: usize) -> usize {
    let start = line_start(text, offset);
    if start == 0 && text.starts_with(b"\xEF\xBB\xBF") && offset >= 3 {
        3
    } else {
        start
    }
}

/// The start of the line before the one starting at `line` (which is not the first).
pub fn previous_line_start(text: &[u8], line: usize) -> usize {
    let mut end = line - 1;
    if text[end] == b'\n' && end > 0 && text[end - 1] == b'\r' {
        end -= 1;
    }
    line_begin(text, end)
}

/// The indentation of a statement that has its lines to itself: only blanks before it on its
/// first line, only blanks and a comment after it on its last (not a `# isort:` directive,
/// which keeps the sorter off it).
pub fn own_lines<'t>(text: &'t [u8], statement: &Import) -> Option<&'t [u8]> {
    let start = statement.span.start as usize;
    let indent = &text[line_begin(text, start)..start];
    if !indent.iter().all(|b| matches!(b, b' ' | b'\t')) {
        return None;
    }
    let end = statement.span.end as usize;
    let rest = text[end..line_end(text, end)].trim_ascii_start();
    if !rest.is_empty() && !rest.starts_with(b"#") || directive(rest) {
        return None;
    }
    Some(indent)
}

/// `# isort: skip`, `# isort: split`, `# ruff: isort: skip_file`, ...
fn directive(comment: &[u8]) -> bool {
    memchr::memmem::find(comment, b"isort:").is_some()
}

/// Every line of `text[start..end]` is blank or a comment (not a directive).
fn comments_only(text: &[u8], start: usize, end: usize) -> bool {
    let mut at = start;
    while at < end {
        let stop = line_end(text, at).min(end);
        let line = text[at..stop].trim_ascii();
        if !line.is_empty() && (!line.starts_with(b"#") || directive(line)) {
            return false;
        }
        at = next_line_start(text, stop).max(stop + 1);
    }
    true
}

/// `text[start..end]` is nothing but blank lines.
fn blank(text: &[u8], start: usize, end: usize) -> bool {
    text[start..end].iter().all(u8::is_ascii_whitespace)
}

/// How many blank lines `text[start..end]` is (from a line start to a line start); `None`
/// when something else is there.
fn blank_lines(text: &[u8], start: usize, end: usize) -> Option<usize> {
    let gap = &text[start..end];
    blank(text, start, end).then(|| {
        (0..gap.len())
            .filter(|&at| gap[at] == b'\n' || gap[at] == b'\r' && gap.get(at + 1) != Some(&b'\n'))
            .count()
    })
}

/// The blank lines the sorter wants between two statements.
fn gap_lines(before: Section, after: Section, comments: bool) -> usize {
    usize::from(before != after || comments)
}

/// One statement of a block, with its lines.
#[derive(Debug)]
struct Entry {
    /// Index into the file's imports.
    import: usize,
    key: Key,
    /// The first of the comment lines directly above the statement (its own first line when
    /// there are none, and always for the block's first statement).
    top: usize,
    /// The start of the statement's first line.
    line: usize,
    /// After the line ending of the statement's last line.
    end: usize,
}

impl Entry {
    fn comments(&self) -> bool {
        self.top < self.line
    }
}

/// The import block a statement belongs to.
#[derive(Debug)]
pub struct Block {
    /// The indentation of the block's statements.
    pub indent: String,
    entries: Vec<Entry>,
    /// The entries by key, then position: where a new key goes is a binary search.
    sorted: Vec<usize>,
    /// Each entry's place in `sorted`.
    rank: Vec<usize>,
    /// The entry of each import of the block.
    by_import: HashMap<usize, usize>,
}

/// A statement to add to a block: its key, and its lines (indented, each with its ending).
#[derive(Debug)]
pub struct Statement {
    pub key: Key,
    pub text: String,
    /// Comment lines come first: the sorter wants a blank line before them.
    pub comments: bool,
}

/// What a fix does to a block. Slots number the places between entries: slot `j` is before
/// entry `j`, slot `len` after the last one.
#[derive(Debug, Default)]
pub struct Plan {
    /// Entries that go (deleted, or moved: their new text is among `inserted`), by entry.
    removed: BTreeMap<usize, Removed>,
    /// Entries rewritten where they are, with their new keys (their own edits are the
    /// caller's), by entry.
    rekeyed: BTreeMap<usize, Key>,
    /// The same, by their new keys: a slot among them is two lookups, not a scan.
    by_new_key: std::collections::BTreeSet<(Key, usize)>,
    /// The places in the block's sorted order of the entries removed or rekeyed, and the
    /// removed entries: the nearest entry a plan leaves alone is a jump over a run, however
    /// much of the block the plan changes.
    changed_ranks: Runs,
    removed_entries: Runs,
    pub inserted: Vec<(usize, Statement)>,
}

impl Plan {
    /// The entry of `block` goes (the first word on an entry stands).
    pub fn remove(&mut self, block: &Block, removed: Removed) {
        if let std::collections::btree_map::Entry::Vacant(vacant) =
            self.removed.entry(removed.entry)
        {
            self.changed_ranks.insert(block.rank[removed.entry]);
            self.removed_entries.insert(removed.entry);
            vacant.insert(removed);
        }
    }

    /// The entry of `block` is rewritten where it is, with `key` (the first word on an entry
    /// stands).
    pub fn rekey(&mut self, block: &Block, entry: usize, key: Key) {
        if let std::collections::btree_map::Entry::Vacant(vacant) = self.rekeyed.entry(entry) {
            self.by_new_key.insert((key.clone(), entry));
            self.changed_ranks.insert(block.rank[entry]);
            vacant.insert(key);
        }
    }

    fn removed(&self, entry: usize) -> Option<&Removed> {
        self.removed.get(&entry)
    }

    fn rekeyed(&self, entry: usize) -> Option<&Key> {
        self.rekeyed.get(&entry)
    }
}

/// A set of indices as maximal runs (start to end, exclusive; no two touch).
#[derive(Debug, Default)]
struct Runs(BTreeMap<usize, usize>);

impl Runs {
    fn insert(&mut self, at: usize) {
        let (mut start, mut end) = (at, at + 1);
        if let Some((&first, &last)) = self.0.range(..=at).next_back() {
            if at < last {
                return;
            }
            if last == at {
                start = first;
                self.0.remove(&first);
            }
        }
        if let Some(last) = self.0.remove(&(at + 1)) {
            end = last;
        }
        self.0.insert(start, end);
    }

    /// The greatest index below `at` in no run.
    fn free_below(&self, at: usize) -> Option<usize> {
        let below = at.checked_sub(1)?;
        match self.0.range(..=below).next_back() {
            Some((&first, &last)) if below < last => first.checked_sub(1),
            _ => Some(below),
        }
    }

    /// The least index from `at` in no run.
    fn free_from(&self, at: usize) -> usize {
        match self.0.range(..=at).next_back() {
            Some((_, &last)) if at < last => last,
            _ => at,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Removed {
    pub entry: usize,
    /// The comment lines above the statement stay (a deleted statement's comments are kept;
    /// a moved one's go with it).
    pub keep_comments: bool,
}

impl Block {
    /// The block of `facts.imports[import]`; `None` when the statement shares a line with
    /// other code. The file's blocks are built once, on the first call, and kept in
    /// `first_party`.
    pub fn around<'t>(
        text: &'t [u8],
        facts: &'t FileFacts,
        import: usize,
        first_party: &FirstParty<'t>,
    ) -> Option<Arc<Block>> {
        first_party
            .file(text, facts)
            .blocks
            .get(import)
            .cloned()
            .flatten()
    }

    /// Every import's block, by import index: runs of statements on their own lines, with the
    /// same indentation, with only comments between neighbours.
    fn all(text: &[u8], facts: &FileFacts, first_party: &FirstParty) -> Vec<Option<Arc<Block>>> {
        let imports = &facts.imports;
        let mut order: Vec<usize> = (0..imports.len()).collect();
        order.sort_by_key(|&index| imports[index].span.start);
        let lines: Vec<Option<&[u8]>> = order
            .iter()
            .map(|&index| own_lines(text, &imports[index]))
            .collect();
        // `order[at]` and `order[at + 1]` are neighbours in one block.
        let joined = |at: usize| {
            let (earlier, later) = (&imports[order[at]], &imports[order[at + 1]]);
            lines[at].is_some()
                && lines[at] == lines[at + 1]
                && comments_only(
                    text,
                    line_end(text, earlier.span.end as usize),
                    line_begin(text, later.span.start as usize),
                )
        };
        let mut out: Vec<Option<Arc<Block>>> = vec![None; imports.len()];
        let mut first = 0;
        while first < order.len() {
            let mut last = first;
            while last + 1 < order.len() && joined(last) {
                last += 1;
            }
            if let Some(indent) = lines[first] {
                let block = Arc::new(Block::of(
                    text,
                    facts,
                    &order[first..=last],
                    indent,
                    first_party,
                ));
                for &index in &order[first..=last] {
                    out[index] = Some(Arc::clone(&block));
                }
            }
            first = last + 1;
        }
        out
    }

    /// The block of the statements `members` (in source order), indented by `indent`.
    fn of(
        text: &[u8],
        facts: &FileFacts,
        members: &[usize],
        indent: &[u8],
        first_party: &FirstParty,
    ) -> Block {
        let imports = &facts.imports;
        let (first, last) = (0, members.len() - 1);
        let order = members;
        let mut entries: Vec<Entry> = Vec::with_capacity(last + 1 - first);
        let mut others: Vec<Option<Key>> = Vec::with_capacity(last + 1 - first);
        for &index in &order[first..=last] {
            let statement = &imports[index];
            let line = line_begin(text, statement.span.start as usize);
            let end = next_line_start(text, line_end(text, statement.span.end as usize));
            let mut top = line;
            if let Some(previous) = entries.last() {
                while top > previous.end {
                    let above = previous_line_start(text, top);
                    let content = text[above..line_end(text, above)].trim_ascii();
                    if !content.starts_with(b"#") {
                        break;
                    }
                    top = above;
                }
            }
            let (key, other) = Key::of(statement, first_party);
            others.push(other);
            entries.push(Entry {
                import: index,
                key,
                top,
                line,
                end,
            });
        }
        resolve_sections(text, &mut entries, others);
        let mut sorted: Vec<usize> = (0..entries.len()).collect();
        sorted.sort_by(|&a, &b| entries[a].key.cmp(&entries[b].key).then(a.cmp(&b)));
        let mut rank = vec![0; sorted.len()];
        for (at, &entry) in sorted.iter().enumerate() {
            rank[entry] = at;
        }
        let by_import = entries
            .iter()
            .enumerate()
            .map(|(at, entry)| (entry.import, at))
            .collect();
        Block {
            indent: String::from_utf8_lossy(indent).into_owned(),
            entries,
            sorted,
            rank,
            by_import,
        }
    }

    /// The entry of `facts.imports[import]`, when it is in the block.
    pub fn entry(&self, import: usize) -> Option<usize> {
        self.by_import.get(&import).copied()
    }

    /// Comment lines above the entry belong to it.
    pub fn comments(&self, entry: usize) -> bool {
        self.entries[entry].comments()
    }

    /// The lines of an entry, with the comment lines above it.
    pub fn region(&self, entry: usize) -> Span {
        Span::new(self.entries[entry].top, self.entries[entry].end)
    }

    /// From the block's first statement to the end of its last.
    pub fn extent(&self) -> Span {
        let (first, last) = (&self.entries[0], &self.entries[self.entries.len() - 1]);
        Span::new(first.top, last.end)
    }

    /// The lines of the statements around the change `start..end` of the block: from the
    /// statement before the first one it touches to the statement after the last one. Two
    /// changes whose neighbourhoods do not overlap leave each other's neighbours alone.
    pub fn neighbourhood(&self, start: usize, end: usize) -> Span {
        let last = self.entries.len() - 1;
        // Entries are in source order: both searches are binary.
        let first_touched = self
            .entries
            .partition_point(|entry| entry.top <= start)
            .saturating_sub(1);
        let last_touched = self
            .entries
            .partition_point(|entry| entry.end < end)
            .min(last);
        let low = self.entries[first_touched.saturating_sub(1)].top;
        let high = self.entries[(last_touched + 1).min(last)].end;
        Span::new(low.min(start), high.max(end))
    }

    /// The slot for a statement with `key` among the entries as `plan` leaves them, without
    /// the entry `without` (which moves).
    ///
    /// [`slot_among`] over the entries, in time logarithmic in the block: the entries `plan`
    /// leaves alone are found by binary search in their sorted order, the few it rekeys are
    /// looked at one by one.
    pub fn slot(&self, key: &Key, plan: &Plan, without: Option<usize>) -> usize {
        let gone = |entry: usize| Some(entry) == without || plan.removed(entry).is_some();
        let skip = |entry: usize| gone(entry) || plan.rekeyed(entry).is_some();
        let split = self
            .sorted
            .partition_point(|&entry| self.entries[entry].key <= *key);
        let unchanged = |entry: usize| (entry, &self.entries[entry].key);
        // The nearest entries the plan leaves alone, below and from `split` in the sorted
        // order: over the runs it changes in one jump (only `without` may be left to skip).
        let mut at = split;
        let below = loop {
            match plan.changed_ranks.free_below(at) {
                Some(rank) if skip(self.sorted[rank]) => at = rank,
                found => break found.map(|rank| unchanged(self.sorted[rank])),
            }
        };
        let mut at = split;
        let above = loop {
            let rank = plan.changed_ranks.free_from(at);
            match self.sorted.get(rank) {
                Some(&entry) if skip(entry) => at = rank + 1,
                found => break found.map(|&entry| unchanged(entry)),
            }
        };
        // Of the rekeyed entries, only the nearest below and above `key` can be the slot's
        // neighbour (see `slot_among`).
        use std::ops::Bound::{Excluded, Unbounded};
        let split = (key.clone(), usize::MAX);
        let before = plan
            .by_new_key
            .range((Unbounded, Excluded(&split)))
            .rev()
            .find(|(_, entry)| !gone(*entry));
        let after = plan
            .by_new_key
            .range((Excluded(&split), Unbounded))
            .find(|(_, entry)| !gone(*entry));
        let rekeyed = before
            .into_iter()
            .chain(after)
            .map(|(key, entry)| (*entry, key));
        slot_among(below.into_iter().chain(above).chain(rekeyed), key)
    }

    /// Puts every statement `plan` inserts into its slot among the entries as the whole plan
    /// leaves them: a slot found before a later change rekeyed a neighbour may be out of order
    /// with it.
    pub fn settle(&self, plan: &mut Plan) {
        let slots: Vec<usize> = plan
            .inserted
            .iter()
            .map(|(_, statement)| self.slot(&statement.key, plan, None))
            .collect();
        for ((slot, _), settled) in plan.inserted.iter_mut().zip(slots) {
            *slot = settled;
        }
    }

    /// Slot `slot` is where `entry` is: only entries that `plan` removes lie between them.
    pub fn same_place(&self, plan: &Plan, slot: usize, entry: usize) -> bool {
        let between = if slot <= entry {
            slot..entry
        } else {
            entry + 1..slot
        };
        between
            .into_iter()
            .all(|index| plan.removed(index).is_some())
    }

    /// The edits that carry out `plan`: removed lines go, inserted statements are written
    /// into their slots, and the blank lines between changed neighbours become what the
    /// sorter wants (one between sections and before a commented statement, none otherwise).
    /// Where the lines between two neighbours hold a comment of no statement, nothing there
    /// is rewritten: the statements go in next to the one before, the removed lines go alone.
    pub fn edits(&self, text: &[u8], plan: &Plan) -> Vec<Edit> {
        let count = self.entries.len();
        let removed = |entry: usize| plan.removed(entry).is_some();
        let mut slots: BTreeMap<usize, Vec<&Statement>> = BTreeMap::new();
        for (slot, statement) in &plan.inserted {
            slots.entry((*slot).min(count)).or_default().push(statement);
        }
        for statements in slots.values_mut() {
            statements.sort_by(|a, b| a.key.cmp(&b.key));
        }
        // The kept entries around a place: walking past the removed ones only (a plan removes
        // a few), so that a fix costs the size of its change, not of the block.
        let kept_before = |at: usize| plan.removed_entries.free_below(at);
        let kept_from = |at: usize| Some(plan.removed_entries.free_from(at)).filter(|&e| e < count);
        let rekeyed = |entry: Option<usize>| entry.is_some_and(|at| plan.rekeyed(at).is_some());
        // The gaps between kept neighbours that a change touches, by their first slot.
        let mut gaps: BTreeMap<usize, (Option<usize>, Option<usize>)> = BTreeMap::new();
        let mut gap = |before: Option<usize>, after: Option<usize>| {
            gaps.insert(before.map_or(0, |entry| entry + 1), (before, after));
        };
        for removed in plan.removed.values() {
            gap(kept_before(removed.entry), kept_from(removed.entry));
        }
        for &slot in slots.keys() {
            gap(kept_before(slot), kept_from(slot));
        }
        for &entry in plan.rekeyed.keys() {
            if !removed(entry) {
                gap(kept_before(entry), Some(entry));
                gap(Some(entry), kept_from(entry + 1));
            }
        }
        let mut edits = Vec::new();
        for (before, after) in gaps.into_values() {
            let low = before.map_or(0, |entry| entry + 1);
            let high = after.unwrap_or(count);
            let between: Vec<&Statement> = slots
                .range(low..=high)
                .flat_map(|(_, statements)| statements.iter().copied())
                .collect();
            let changed = !between.is_empty()
                || low < high
                || (before.is_some() && after.is_some() && (rekeyed(before) || rekeyed(after)));
            if changed {
                self.rewrite_between(text, plan, before, after, &between, &mut edits);
            }
        }
        edits
    }

    fn section(&self, plan: &Plan, entry: usize) -> Section {
        plan.rekeyed(entry)
            .map_or(self.entries[entry].key.section, |key| key.section)
    }

    /// The edits for what lies between the kept entries `before` and `after` (`None`: the
    /// block's start or end): the removed entries there, and the statements `between`.
    fn rewrite_between(
        &self,
        text: &[u8],
        plan: &Plan,
        before: Option<usize>,
        after: Option<usize>,
        between: &[&Statement],
        edits: &mut Vec<Edit>,
    ) {
        let newline = newline_of(text);
        let entries = &self.entries;
        let start = before.map_or(entries[0].top, |entry| entries[entry].end);
        let end = after.map_or(entries[entries.len() - 1].end.max(start), |entry| {
            entries[entry].top
        });
        let gone: Vec<(usize, usize)> = (before.map_or(0, |entry| entry + 1)
            ..after.unwrap_or(entries.len()))
            .map(|index| {
                let entry = &entries[index];
                let keep = plan
                    .removed(index)
                    .is_some_and(|removed| removed.keep_comments);
                (if keep { entry.line } else { entry.top }, entry.end)
            })
            .collect();
        let mut regular = true;
        let mut at = start;
        for &(from, to) in &gone {
            regular &= blank(text, at, from);
            at = to;
        }
        regular &= blank(text, at, end);
        let blank_lines = |count: usize| newline.repeat(count);
        let gap = |previous: Section, next: Section, comments: bool| {
            blank_lines(gap_lines(previous, next, comments))
        };
        // A last line without its line ending gets one before anything follows it.
        let unterminated =
            |at: usize| at == text.len() && !text.ends_with(b"\n") && !text.ends_with(b"\r");
        let mut content = String::new();
        let mut last = before.map(|entry| self.section(plan, entry));
        for statement in between {
            if let Some(previous) = last {
                content.push_str(&gap(previous, statement.key.section, statement.comments));
            }
            content.push_str(&statement.text);
            last = Some(statement.key.section);
        }
        if before.is_some_and(|entry| unterminated(entries[entry].end)) && !between.is_empty() {
            content.insert_str(0, newline);
        }
        if regular {
            if let (Some(next), Some(previous)) = (after, last) {
                content.push_str(&gap(
                    previous,
                    self.section(plan, next),
                    entries[next].comments(),
                ));
            }
            edits.extend(minimal(text, start, end, content));
            return;
        }
        // A comment of no statement lies between: remove and insert without touching it.
        for &(from, to) in &gone {
            edits.push(Edit {
                span: Span::new(from, to),
                content: String::new(),
            });
        }
        if between.is_empty() {
            return;
        }
        let at = match before {
            Some(entry) => entries[entry].end,
            None => {
                if let (Some(next), Some(previous)) = (after, last) {
                    content.push_str(&gap(
                        previous,
                        self.section(plan, next),
                        entries[next].comments(),
                    ));
                }
                entries[0].line
            }
        };
        edits.push(Edit {
            span: Span::new(at, at),
            content,
        });
        edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    }
}

/// Modules that are in the standard library of some target versions only (`tomllib`) take the
/// section under which the block is already the way the sorter wants it (the project's sorter
/// targets such a version), else the default one. At most 6 such statements are weighed.
fn resolve_sections(text: &[u8], entries: &mut [Entry], others: Vec<Option<Key>>) {
    let open: Vec<(usize, Key)> = others
        .into_iter()
        .enumerate()
        .filter_map(|(index, other)| Some((index, other?)))
        .take(6)
        .collect();
    let defaults: Vec<Key> = open
        .iter()
        .map(|(index, _)| entries[*index].key.clone())
        .collect();
    for choice in 0..1u32 << open.len() {
        for (bit, (index, other)) in open.iter().enumerate() {
            entries[*index].key = if choice & 1 << bit != 0 {
                other.clone()
            } else {
                defaults[bit].clone()
            };
        }
        if formatted(text, entries) {
            return;
        }
    }
    for (bit, (index, _)) in open.iter().enumerate() {
        entries[*index].key = defaults[bit].clone();
    }
}

/// The entries are in order, with the blank lines the sorter wants between them.
fn formatted(text: &[u8], entries: &[Entry]) -> bool {
    entries.windows(2).all(|pair| {
        pair[0].key <= pair[1].key
            && blank_lines(text, pair[0].end, pair[1].top)
                == Some(gap_lines(
                    pair[0].key.section,
                    pair[1].key.section,
                    pair[1].comments(),
                ))
    })
}

/// The edit replacing `text[start..end]` with `content`, without the bytes both begin and
/// end with; `None` when they are the same.
fn minimal(text: &[u8], start: usize, end: usize, content: String) -> Option<Edit> {
    let old = &text[start..end];
    let new = content.as_bytes();
    let mut prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    while !content.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let mut suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    while !content.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    if old.len() == new.len() && prefix + suffix == old.len() {
        return None;
    }
    Some(Edit {
        span: Span::new(start + prefix, end - suffix),
        content: content[prefix..new.len() - suffix].to_string(),
    })
}

// BEGIN generated by scripts/stdlib_modules.py
/// The CPython 3 minor versions of the list: bit 0 of a module's versions is the first.
const STANDARD_LIBRARY_MINORS: (u32, u32) = (8, 14);

#[rustfmt::skip]
static STANDARD_LIBRARY: [(&str, u8); 360] = [
    ("__hello__", 0x7f), ("__hello_alias__", 0x78), ("__hello_only__", 0x78), ("__phello__", 0x7f),
    ("__phello_alias__", 0x78), ("_abc", 0x7f), ("_aix_support", 0x7e), ("_android_support", 0x60),
    ("_apple_support", 0x60), ("_ast", 0x7f), ("_ast_unparse", 0x40), ("_asyncio", 0x7f),
    ("_bisect", 0x7f), ("_blake2", 0x7f), ("_bootlocale", 0x03), ("_bootsubprocess", 0x0e),
    ("_bz2", 0x7f), ("_codecs", 0x7f), ("_codecs_cn", 0x7f), ("_codecs_hk", 0x7f),
    ("_codecs_iso2022", 0x7f), ("_codecs_jp", 0x7f), ("_codecs_kr", 0x7f), ("_codecs_tw", 0x7f),
    ("_collections", 0x7f), ("_collections_abc", 0x7f), ("_colorize", 0x60),
    ("_compat_pickle", 0x7f), ("_compression", 0x3f), ("_contextvars", 0x7f), ("_crypt", 0x1f),
    ("_csv", 0x7f), ("_ctypes", 0x7f), ("_ctypes_test", 0x7f), ("_curses", 0x7f),
    ("_curses_panel", 0x7f), ("_datetime", 0x7f), ("_dbm", 0x7f), ("_decimal", 0x7f),
    ("_dummy_thread", 0x01), ("_elementtree", 0x7f), ("_frozen_importlib", 0x7f),
    ("_frozen_importlib_external", 0x7f), ("_functools", 0x7f), ("_gdbm", 0x7f),
    ("_hashlib", 0x7f), ("_heapq", 0x7f), ("_hmac", 0x40), ("_imp", 0x7f),
    ("_interpchannels", 0x60), ("_interpqueues", 0x60), ("_interpreters", 0x60), ("_io", 0x7f),
    ("_ios_support", 0x60), ("_json", 0x7f), ("_locale", 0x7f), ("_lsprof", 0x7f), ("_lzma", 0x7f),
    ("_markupbase", 0x7f), ("_md5", 0x7f), ("_msi", 0x1f), ("_multibytecodec", 0x7f),
    ("_multiprocessing", 0x7f), ("_opcode", 0x7f), ("_opcode_metadata", 0x60), ("_operator", 0x7f),
    ("_osx_support", 0x7f), ("_overlapped", 0x7f), ("_peg_parser", 0x02), ("_pickle", 0x7f),
    ("_posixshmem", 0x7f), ("_posixsubprocess", 0x7f), ("_py_abc", 0x7f), ("_py_warnings", 0x40),
    ("_pydatetime", 0x70), ("_pydecimal", 0x7f), ("_pyio", 0x7f), ("_pylong", 0x70),
    ("_pyrepl", 0x60), ("_queue", 0x7f), ("_random", 0x7f), ("_remote_debugging", 0x40),
    ("_scproxy", 0x7f), ("_sha1", 0x7f), ("_sha2", 0x70), ("_sha256", 0x0f), ("_sha3", 0x7f),
    ("_sha512", 0x0f), ("_signal", 0x7f), ("_sitebuiltins", 0x7f), ("_socket", 0x7f),
    ("_sqlite3", 0x7f), ("_sre", 0x7f), ("_ssl", 0x7f), ("_stat", 0x7f), ("_statistics", 0x7f),
    ("_string", 0x7f), ("_strptime", 0x7f), ("_struct", 0x7f), ("_suggestions", 0x60),
    ("_symtable", 0x7f), ("_sysconfig", 0x60), ("_testbuffer", 0x7f), ("_testcapi", 0x7f),
    ("_testcapi_datetime", 0x60), ("_testclinic", 0x7c), ("_testclinic_limited", 0x60),
    ("_testconsole", 0x7f), ("_testexternalinspection", 0x20), ("_testimportmultiple", 0x7f),
    ("_testinternalcapi", 0x7f), ("_testlimitedcapi", 0x60), ("_testmultiphase", 0x7f),
    ("_testsinglephase", 0x70), ("_thread", 0x7f), ("_threading_local", 0x7f), ("_tkinter", 0x7f),
    ("_tokenize", 0x78), ("_tracemalloc", 0x7f), ("_types", 0x40), ("_typing", 0x78),
    ("_uuid", 0x7f), ("_warnings", 0x7f), ("_weakref", 0x7f), ("_weakrefset", 0x7f),
    ("_winapi", 0x7f), ("_wmi", 0x70), ("_xxinterpchannels", 0x10), ("_xxsubinterpreters", 0x1f),
    ("_xxtestfuzz", 0x7f), ("_zoneinfo", 0x7e), ("_zstd", 0x40), ("abc", 0x7f), ("aifc", 0x1f),
    ("annotationlib", 0x40), ("antigravity", 0x7f), ("argparse", 0x7f), ("array", 0x7f),
    ("ast", 0x7f), ("asynchat", 0x0f), ("asyncio", 0x7f), ("asyncore", 0x0f), ("atexit", 0x7f),
    ("audioop", 0x1f), ("base64", 0x7f), ("bdb", 0x7f), ("binascii", 0x7f), ("binhex", 0x07),
    ("bisect", 0x7f), ("builtins", 0x7f), ("bz2", 0x7f), ("cProfile", 0x7f), ("calendar", 0x7f),
    ("cgi", 0x1f), ("cgitb", 0x1f), ("chunk", 0x1f), ("cmath", 0x7f), ("cmd", 0x7f),
    ("code", 0x7f), ("codecs", 0x7f), ("codeop", 0x7f), ("collections", 0x7f), ("colorsys", 0x7f),
    ("compileall", 0x7f), ("compression", 0x40), ("concurrent", 0x7f), ("configparser", 0x7f),
    ("contextlib", 0x7f), ("contextvars", 0x7f), ("copy", 0x7f), ("copyreg", 0x7f),
    ("crypt", 0x1f), ("csv", 0x7f), ("ctypes", 0x7f), ("curses", 0x7f), ("dataclasses", 0x7f),
    ("datetime", 0x7f), ("dbm", 0x7f), ("decimal", 0x7f), ("difflib", 0x7f), ("dis", 0x7f),
    ("distutils", 0x0f), ("doctest", 0x7f), ("dummy_threading", 0x01), ("email", 0x7f),
    ("encodings", 0x7f), ("ensurepip", 0x7f), ("enum", 0x7f), ("errno", 0x7f),
    ("faulthandler", 0x7f), ("fcntl", 0x7f), ("filecmp", 0x7f), ("fileinput", 0x7f),
    ("fnmatch", 0x7f), ("formatter", 0x03), ("fractions", 0x7f), ("ftplib", 0x7f),
    ("functools", 0x7f), ("gc", 0x7f), ("genericpath", 0x7f), ("getopt", 0x7f), ("getpass", 0x7f),
    ("gettext", 0x7f), ("glob", 0x7f), ("graphlib", 0x7e), ("grp", 0x7f), ("gzip", 0x7f),
    ("hashlib", 0x7f), ("heapq", 0x7f), ("hmac", 0x7f), ("html", 0x7f), ("http", 0x7f),
    ("idlelib", 0x7f), ("imaplib", 0x7f), ("imghdr", 0x1f), ("imp", 0x0f), ("importlib", 0x7f),
    ("inspect", 0x7f), ("io", 0x7f), ("ipaddress", 0x7f), ("itertools", 0x7f), ("json", 0x7f),
    ("keyword", 0x7f), ("lib2to3", 0x1f), ("linecache", 0x7f), ("locale", 0x7f), ("logging", 0x7f),
    ("lzma", 0x7f), ("mailbox", 0x7f), ("mailcap", 0x1f), ("marshal", 0x7f), ("math", 0x7f),
    ("mimetypes", 0x7f), ("mmap", 0x7f), ("modulefinder", 0x7f), ("msilib", 0x1f),
    ("msvcrt", 0x7f), ("multiprocessing", 0x7f), ("netrc", 0x7f), ("nis", 0x1f), ("nntplib", 0x1f),
    ("nt", 0x7f), ("ntpath", 0x7f), ("nturl2path", 0x7f), ("numbers", 0x7f), ("opcode", 0x7f),
    ("operator", 0x7f), ("optparse", 0x7f), ("os", 0x7f), ("ossaudiodev", 0x1f), ("parser", 0x03),
    ("pathlib", 0x7f), ("pdb", 0x7f), ("pickle", 0x7f), ("pickletools", 0x7f), ("pipes", 0x1f),
    ("pkgutil", 0x7f), ("platform", 0x7f), ("plistlib", 0x7f), ("poplib", 0x7f), ("posix", 0x7f),
    ("posixpath", 0x7f), ("pprint", 0x7f), ("profile", 0x7f), ("pstats", 0x7f), ("pty", 0x7f),
    ("pwd", 0x7f), ("py_compile", 0x7f), ("pyclbr", 0x7f), ("pydoc", 0x7f), ("pydoc_data", 0x7f),
    ("pyexpat", 0x7f), ("queue", 0x7f), ("quopri", 0x7f), ("random", 0x7f), ("re", 0x7f),
    ("readline", 0x7f), ("reprlib", 0x7f), ("resource", 0x7f), ("rlcompleter", 0x7f),
    ("runpy", 0x7f), ("sched", 0x7f), ("secrets", 0x7f), ("select", 0x7f), ("selectors", 0x7f),
    ("shelve", 0x7f), ("shlex", 0x7f), ("shutil", 0x7f), ("signal", 0x7f), ("site", 0x7f),
    ("smtpd", 0x0f), ("smtplib", 0x7f), ("sndhdr", 0x1f), ("socket", 0x7f), ("socketserver", 0x7f),
    ("spwd", 0x1f), ("sqlite3", 0x7f), ("sre_compile", 0x7f), ("sre_constants", 0x7f),
    ("sre_parse", 0x7f), ("ssl", 0x7f), ("stat", 0x7f), ("statistics", 0x7f), ("string", 0x7f),
    ("stringprep", 0x7f), ("struct", 0x7f), ("subprocess", 0x7f), ("sunau", 0x1f),
    ("symbol", 0x03), ("symtable", 0x7f), ("sys", 0x7f), ("sysconfig", 0x7f), ("syslog", 0x7f),
    ("tabnanny", 0x7f), ("tarfile", 0x7f), ("telnetlib", 0x1f), ("tempfile", 0x7f),
    ("termios", 0x7f), ("textwrap", 0x7f), ("this", 0x7f), ("threading", 0x7f), ("time", 0x7f),
    ("timeit", 0x7f), ("tkinter", 0x7f), ("token", 0x7f), ("tokenize", 0x7f), ("tomllib", 0x78),
    ("trace", 0x7f), ("traceback", 0x7f), ("tracemalloc", 0x7f), ("tty", 0x7f), ("turtle", 0x7f),
    ("turtledemo", 0x7f), ("types", 0x7f), ("typing", 0x7f), ("unicodedata", 0x7f),
    ("unittest", 0x7f), ("urllib", 0x7f), ("uu", 0x1f), ("uuid", 0x7f), ("venv", 0x7f),
    ("warnings", 0x7f), ("wave", 0x7f), ("weakref", 0x7f), ("webbrowser", 0x7f), ("winreg", 0x7f),
    ("winsound", 0x7f), ("wsgiref", 0x7f), ("xdrlib", 0x1f), ("xml", 0x7f), ("xmlrpc", 0x7f),
    ("xx", 0x7f), ("xxlimited", 0x7f), ("xxlimited_35", 0x7c), ("xxsubtype", 0x7f),
    ("zipapp", 0x7f), ("zipfile", 0x7f), ("zipimport", 0x7f), ("zlib", 0x7f), ("zoneinfo", 0x7e),
];
// END generated by scripts/stdlib_modules.py

#[cfg(test)]
mod tests {
    use super::*;

    /// `Runs` against a plain set: every insertion order of a pseudo-random set, every query.
    #[test]
    fn runs_answer_as_a_set_does() {
        let mut state = 0x9e37_79b9_u64;
        for _ in 0..200 {
            let (mut runs, mut set) = (Runs::default(), HashSet::new());
            for _ in 0..20 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let at = (state >> 33) as usize % 30;
                runs.insert(at);
                set.insert(at);
                for query in 0..32 {
                    let below = (0..query).rev().find(|i| !set.contains(i));
                    let from = (query..).find(|i| !set.contains(i)).expect("free");
                    assert_eq!(runs.free_below(query), below, "below {query} of {set:?}");
                    assert_eq!(runs.free_from(query), from, "from {query} of {set:?}");
                }
                // Maximal runs: no two touch.
                let spans: Vec<(usize, usize)> = runs.0.iter().map(|(&a, &b)| (a, b)).collect();
                assert!(
                    spans.windows(2).all(|pair| pair[0].1 < pair[1].0),
                    "{spans:?}"
                );
            }
        }
    }

    #[test]
    fn natural_order() {
        let sorted = [
            "a", "a0", "a1", "a1a", "a1b", "a2", "a10", "a20", "m.m2", "m.m10", "x2-g8", "x2-y7",
        ];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(natural(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(natural("1.001", "1.02"), Ordering::Less);
        assert_eq!(natural("015", "12"), Ordering::Less);
    }

    /// `from app import CONST, A, Class, _priv, func`, as ruff sorts it.
    #[test]
    fn names_by_type() {
        let mut names = ["func", "Class", "_priv", "CONST", "A"];
        names.sort_by_key(|name| MemberKey::new(name, None));
        assert_eq!(names, ["CONST", "A", "Class", "_priv", "func"]);
        assert!(MemberKey::new("X", None) < MemberKey::new("X", Some("Y")));
    }

    #[test]
    fn sections_and_statements() {
        let first_party = FirstParty::new(["app.websocket_manager", "tests"]);
        let key = |text: &str| {
            let facts = crate::python::collect(text.as_bytes());
            Key::of(&facts.imports[0], &first_party).0
        };
        let sorted = [
            "from __future__ import annotations",
            "import os",
            "import os.path",
            "from os import path",
            "import requests",
            "import app",
            "from app import x",
            "from app.websocket_manager import WebSocketManager as Legacy",
            "from app.websocket_manager import get_websocket_manager",
            "from .. import up",
            "from . import here",
            "from .compat import x",
        ];
        for pair in sorted.windows(2) {
            assert!(key(pair[0]) < key(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(key("import asyncio").section, Section::StandardLibrary);
        assert_eq!(key("import tomllib").section, Section::StandardLibrary);
        assert_eq!(key("import tests.helpers").section, Section::FirstParty);
    }

    #[test]
    fn wrapping() {
        let short = format_from("a", &["B".into()], None, "", "    ", "\n");
        assert_eq!(short, "from a import B");
        let long = "x".repeat(70);
        assert_eq!(
            format_from(
                &long,
                &["Name as Other".into()],
                Some("# c"),
                "",
                "    ",
                "\n"
            ),
            format!("from {long} import (\n    Name as Other,  # c\n)")
        );
        assert_eq!(
            format_from(
                &long,
                &["A".into(), "b".into()],
                Some("# c"),
                "    ",
                "\t",
                "\n"
            ),
            format!("from {long} import (  # c\n    \tA,\n    \tb,\n    )")
        );
    }

    /// A module in the standard library of some versions only takes the section under which
    /// its block is sorted: `tomllib` is third-party for a project that targets 3.10.
    #[test]
    fn version_dependent_sections() {
        let sections = |text: &str| {
            let facts = crate::python::collect(text.as_bytes());
            // A `FirstParty` keeps blocks by where the text is: one per text.
            let first_party = FirstParty::new(["app"]);
            let block = Block::around(text.as_bytes(), &facts, 0, &first_party).expect("a block");
            block
                .entries
                .iter()
                .map(|entry| entry.key.section)
                .collect::<Vec<_>>()
        };
        use Section::{FirstParty as First, StandardLibrary as Standard, ThirdParty as Third};
        assert_eq!(
            sections("import os\nimport tomllib\n"),
            [Standard, Standard]
        );
        assert_eq!(sections("import os\n\nimport tomllib\n"), [Standard, Third]);
        assert_eq!(
            sections("import distutils\nimport os\n"),
            [Standard, Standard]
        );
        assert_eq!(
            sections("import unittest\n\nfrom _pyrepl import x\n\nimport app\n"),
            [Standard, Third, First]
        );
        // Unsorted either way: the default (3.11).
        assert_eq!(
            sections("import tomllib\nimport app\nimport os\n"),
            [Standard, First, Standard]
        );
    }

    /// The list is sorted (it is searched by bisection) and holds the running interpreter's
    /// `sys.stdlib_module_names` for its version when that is one the list covers.
    #[test]
    fn standard_library_list() {
        assert!(
            STANDARD_LIBRARY
                .windows(2)
                .all(|pair| pair[0].0 < pair[1].0)
        );
        let output = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys\nif (3, 10) <= sys.version_info[:2] <= (3, 14):\n    print(sys.version_info[1])\n    print('\\n'.join(sorted(sys.stdlib_module_names - {'__future__'})))",
            ])
            .output();
        let Ok(output) = output else { return };
        let listed = String::from_utf8_lossy(&output.stdout);
        let mut lines = listed.lines();
        let Some(minor) = lines.next().and_then(|minor| minor.parse::<u32>().ok()) else {
            return;
        };
        let bit = 1u8 << (minor - STANDARD_LIBRARY_MINORS.0);
        for module in lines {
            assert!(
                standard_library_versions(module) & bit != 0,
                "`{module}` of 3.{minor} is missing: run scripts/stdlib_modules.py"
            );
        }
    }
}
