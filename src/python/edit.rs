//! Import rewrites as edits: point a `from ... import` at the canonical module, keeping every
//! byte outside the edited spans (comments inside parentheses, indentation, line endings).
//!
//! Two shapes:
//! - every name of the statement is the concept: the module path is replaced, and each name
//!   becomes `Canonical as local` where the local name differs
//!   (`from .compat import Legacy` → `from pkg.canonical import Canonical as Legacy`);
//! - some names are other objects: the concept's name is cut out of the statement, and a
//!   new statement for it goes on the next line, at the same indentation.
//!
//! At module level, when the file already has a plain `from <canonical module> import ...`
//! (before the statement, or after it with no mention of the name in between), the name
//! joins that statement instead of a new one (or nothing is added when it already
//! binds the same local name), and a statement left empty is deleted with its line.
//!
//! Two more rewrites read the file's identifiers with the lexer ([`occurrences`]):
//! - [`module_uses`]: `m.Name` after `import a.b as m` becomes `Name`, bound by a new
//!   `from <canonical module> import <Canonical> as Name` after the `import` statement (which
//!   goes when nothing else uses `m`);
//! - [`rename_local`]: `from legacy import Alias` becomes `from <canonical module> import
//!   <Canonical>` and every use of `Alias` becomes `Canonical`.

use super::collect::{header_colon, is_compound, skip_group};
use super::lexer::{Kind, Lexer, Token};
use crate::facts::{FileFacts, Guard, Import, ImportKind, Scope, Span, line_end, line_start};
use crate::rules::Edit;

/// The edits that move the names `moving` (all in the statement `facts.imports[import]`)
/// to the canonical path, or why there is no fix. Each keeps its local name with `as`, or,
/// with `rename`, is bound under the canonical name (the caller renames the uses).
pub fn move_names(
    text: &[u8],
    facts: &FileFacts,
    import: usize,
    moving: &[usize],
    canonical_module: &str,
    canonical_name: &str,
    rename: bool,
) -> Result<Vec<Edit>, &'static str> {
    let statement = &facts.imports[import];
    if statement.kind != ImportKind::From {
        return Err("`import a.b` statements are not rewritten yet");
    }
    if statement.names.iter().any(|name| name.name == "*") {
        return Err("a star import cannot be split");
    }
    if text[statement.span.range()].contains(&b'\\') {
        return Err("the statement has a backslash continuation");
    }
    if !facts.errors.is_empty() {
        return Err("the file has syntax errors");
    }
    let written = |index: usize| {
        let name = &statement.names[index];
        let local = name.bound_name(ImportKind::From);
        if local == canonical_name || rename {
            canonical_name.to_string()
        } else {
            format!("{canonical_name} as {local}")
        }
    };
    let locals: Vec<&str> = moving
        .iter()
        .map(|&index| statement.names[index].bound_name(ImportKind::From))
        .collect();
    let plain_module_level = statement.context.scope == Scope::Module
        && statement.context.guard == Guard::None
        && !statement.context.conditional
        && !statement.context.type_checking;
    // An existing plain import from the canonical module, at module level, to join.
    let existing = plain_module_level
        .then(|| {
            // One that comes later only when nothing between the two statements mentions a
            // moving name: a use there must still find it bound.
            facts.imports.iter().enumerate().find(|(index, other)| {
                *index != import
                    && (other.span.end <= statement.span.start
                        || !locals.iter().any(|local| {
                            mentions(
                                &text[statement.span.end as usize..other.span.start as usize],
                                local,
                            )
                        }))
                    && other.kind == ImportKind::From
                    && other.level == 0
                    && other.module == canonical_module
                    && other.context.scope == Scope::Module
                    && other.context.guard == Guard::None
                    && !other.context.conditional
                    && !other.names.iter().any(|name| name.name == "*")
                    && !text[other.span.range()].contains(&b'\\')
            })
        })
        .flatten();
    let whole = moving.len() == statement.names.len();

    let mut edits = Vec::new();
    match existing {
        Some((_, other)) => {
            // Names the existing statement does not bind yet.
            let missing: Vec<String> = moving
                .iter()
                .zip(&locals)
                .filter(|(_, local)| {
                    let bound = if rename { canonical_name } else { **local };
                    !other.names.iter().any(|name| {
                        name.bound_name(ImportKind::From) == bound && name.name == canonical_name
                    })
                })
                .map(|(&index, _)| written(index))
                .collect();
            if !missing.is_empty() {
                let last = other
                    .names
                    .last()
                    .ok_or("the canonical import names nothing")?;
                edits.push(Edit {
                    span: Span::new(last.span.end as usize, last.span.end as usize),
                    content: format!(", {}", missing.join(", ")),
                });
            }
            if whole {
                edits.push(
                    delete_statement(text, statement)
                        .ok_or("the statement shares its line with other code")?,
                );
            } else {
                for &index in moving {
                    edits.push(cut_name(text, statement, index)?);
                }
            }
        }
        None if whole => {
            edits.push(Edit {
                span: statement.module_span,
                content: canonical_module.to_string(),
            });
            for &index in moving {
                let name = &statement.names[index];
                let new = written(index);
                if text[name.span.range()] != *new.as_bytes() {
                    edits.push(Edit {
                        span: name.span,
                        content: new,
                    });
                }
            }
        }
        None => {
            edits.extend(cut_names(text, statement, moving)?);
            let names: Vec<String> = moving.iter().map(|&index| written(index)).collect();
            edits.push(insert_after(
                text,
                statement,
                &format!("from {canonical_module} import {}", names.join(", ")),
            )?);
        }
    }
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    Ok(edits)
}

/// A new statement on the line after `statement`, at its indentation; blanks and a comment
/// may follow `statement` on its line, code may not.
fn insert_after(text: &[u8], statement: &Import, new: &str) -> Result<Edit, &'static str> {
    let line_start = line_start(text, statement.span.start as usize);
    let indent = String::from_utf8_lossy(&text[line_start..statement.span.start as usize]);
    if !indent.trim().is_empty() {
        return Err("the statement shares its line with other code");
    }
    let end = line_end(text, statement.span.end as usize);
    let rest = text[statement.span.end as usize..end].trim_ascii_start();
    if !rest.is_empty() && !rest.starts_with(b"#") {
        return Err("the statement shares its line with other code");
    }
    let newline = newline_of(text);
    let at = next_line_start(text, end);
    let mut content = String::new();
    if at == text.len() && !text.ends_with(b"\n") && !text.ends_with(b"\r") {
        content.push_str(newline);
    }
    content.push_str(&format!("{indent}{new}{newline}"));
    Ok(Edit {
        span: Span::new(at, at),
        content,
    })
}

/// Does `text` contain `name` as a whole identifier (in code, a string or a comment alike:
/// erring on the side of "yes")?
pub fn mentions(text: &[u8], name: &str) -> bool {
    let is_identifier = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    memchr::memmem::find_iter(text, name.as_bytes()).any(|at| {
        let before = at.checked_sub(1).map(|i| text[i]);
        let after = text.get(at + name.len()).copied();
        !before.is_some_and(is_identifier) && !after.is_some_and(is_identifier)
    })
}

/// Deletes a statement with its whole line(s), when nothing else shares them.
fn delete_statement(text: &[u8], statement: &Import) -> Option<Edit> {
    let start = line_start(text, statement.span.start as usize);
    if !text[start..statement.span.start as usize]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t')
    {
        return None;
    }
    let end = line_end(text, statement.span.end as usize);
    if !text[statement.span.end as usize..end]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t')
    {
        return None;
    }
    Some(Edit {
        span: Span::new(start, next_line_start(text, end)),
        content: String::new(),
    })
}

/// Cuts the names `moving` out of a statement that keeps other names. On one line the
/// kept names are written back in their order (`A, B, C` without `B` is `A, C`); in a
/// multi-line statement each moving name must have its own line, which goes (a comment after
/// it stays).
fn cut_names(text: &[u8], statement: &Import, moving: &[usize]) -> Result<Vec<Edit>, &'static str> {
    let span = &text[statement.span.range()];
    if !span.contains(&b'\n') && !span.contains(&b'\r') {
        let first = statement
            .names
            .first()
            .ok_or("the statement names nothing")?;
        let last = statement
            .names
            .last()
            .ok_or("the statement names nothing")?;
        let kept: Vec<String> = statement
            .names
            .iter()
            .enumerate()
            .filter(|(index, _)| !moving.contains(index))
            .map(|(_, name)| String::from_utf8_lossy(&text[name.span.range()]).into_owned())
            .collect();
        return Ok(vec![Edit {
            span: Span::new(first.span.start as usize, last.span.end as usize),
            content: kept.join(", "),
        }]);
    }
    let mut edits = Vec::new();
    for &index in moving {
        let edit = cut_name(text, statement, index)?;
        let name = &statement.names[index];
        let own_line = line_start(text, name.span.start as usize) == edit.span.start as usize
            || edit.span.start == name.span.start;
        if !own_line || edit.span.end as usize > line_end(text, name.span.end as usize) + 2 {
            return Err("names share lines in a multi-line statement");
        }
        edits.push(edit);
    }
    edits.sort_by_key(|edit| edit.span.start);
    if edits
        .windows(2)
        .any(|pair| pair[0].span.end > pair[1].span.start)
    {
        return Err("names share lines in a multi-line statement");
    }
    Ok(edits)
}

/// Cuts one name (with its comma) out of a multi-line statement.
fn cut_name(text: &[u8], statement: &Import, index: usize) -> Result<Edit, &'static str> {
    let name = &statement.names[index];
    let first_on_line = text[line_start(text, name.span.start as usize)..name.span.start as usize]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t');
    if !first_on_line {
        return Err("names share lines in a multi-line statement");
    }
    let end_of_statement = statement.span.end as usize;
    let after = skip_blanks(text, name.span.end as usize, end_of_statement);
    if text.get(after) == Some(&b',') {
        // `A, Name, B` or `Name,` before `)`: the name, its comma and the blanks after it.
        let mut end = skip_blanks(text, after + 1, end_of_statement);
        let start = name.span.start as usize;
        let line_start = line_start(text, start);
        let only_blanks_before = text[line_start..start]
            .iter()
            .all(|b| *b == b' ' || *b == b'\t');
        let at_line_end = matches!(text.get(end), Some(b'\n' | b'\r'));
        if only_blanks_before && at_line_end {
            // The name had its own line: the line goes.
            end = next_line_start(text, end);
            return Ok(Edit {
                span: Span::new(line_start, end),
                content: String::new(),
            });
        }
        // Otherwise up to the next name, or to a comment that followed the name (kept).
        Ok(Edit {
            span: Span::new(start, end),
            content: String::new(),
        })
    } else {
        // The last name without a trailing comma, alone at the start of its line: the line
        // goes when nothing follows the name, else the name (and its indentation) goes and
        // what follows (`)`, a comment) stays. The previous name keeps its comma, which
        // becomes a trailing comma.
        let start = line_start(text, name.span.start as usize);
        let end = line_end(text, name.span.end as usize);
        let rest_blank = text[name.span.end as usize..end]
            .iter()
            .all(|b| *b == b' ' || *b == b'\t');
        if index == 0 {
            return Err("the statement has a single name");
        }
        Ok(Edit {
            span: if rest_blank {
                Span::new(start, next_line_start(text, end))
            } else {
                Span::new(start, name.span.end as usize)
            },
            content: String::new(),
        })
    }
}

fn skip_blanks(text: &[u8], mut at: usize, end: usize) -> usize {
    while at < end && matches!(text[at], b' ' | b'\t') {
        at += 1;
    }
    at
}

/// The start of the line after the line end at `end` (`\n`, `\r\n` or `\r`).
fn next_line_start(text: &[u8], end: usize) -> usize {
    match text.get(end) {
        Some(b'\r') if text.get(end + 1) == Some(&b'\n') => end + 2,
        Some(b'\r' | b'\n') => end + 1,
        _ => end,
    }
}

/// The file's line ending: the first one it uses, `\n` when it has none.
fn newline_of(text: &[u8]) -> &'static str {
    match text.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(at) if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') => "\r\n",
        Some(at) if text[at] == b'\r' => "\r",
        _ => "\n",
    }
}

/// Applies sorted, non-overlapping edits; an edit out of order, overlapping the one before it
/// or outside the text is skipped (never a panic).
pub fn apply(text: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for edit in edits {
        let (start, end) = (edit.span.start as usize, edit.span.end as usize);
        if start < at || end < start || end > text.len() {
            continue;
        }
        out.extend_from_slice(&text[at..edit.span.start as usize]);
        out.extend_from_slice(edit.content.as_bytes());
        at = edit.span.end as usize;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// How an identifier is used where it is written, as far as the tokens tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Read: `f(Name)`, `Name.attr`, `x: Name`, `class C(Name)`.
    Load,
    /// Bound by an import statement: `import a.b` binds `a`, `from m import X as Y` binds `Y`
    /// (`m` and `X` there are neither).
    Import,
    /// Bound, or maybe: an assignment, augmented assignment or `for` target (`x[Name] = 1`
    /// too), a parameter, `def`, `class`, `as`, `global`, `nonlocal`, `del`, a `case` capture.
    /// Errs on the side of a binding.
    Binding,
    /// A keyword argument's name, `f(Name=1)`: not the variable.
    Keyword,
}

/// One identifier token spelled as one of the names asked for, not after a `.`.
#[derive(Clone, Copy, Debug)]
pub struct Occurrence {
    pub span: Span,
    /// Index into the names asked for.
    pub name: usize,
    pub usage: Use,
    /// The innermost `def` or `class` whose body holds it (the offset of its header's first
    /// token), `u32::MAX` at module level. A decorator, default or annotation of a `def` is
    /// in the scope around it, as Python evaluates it.
    pub scope: u32,
}

/// Where some names are written in a file.
#[derive(Debug, Default)]
pub struct Occurrences {
    pub found: Vec<Occurrence>,
    /// Per name: a string literal mentions it (an annotation, `__all__`, an f-string).
    pub in_strings: Vec<bool>,
    /// Per name: an f-string (or t-string) mentions it: code that the tokens do not show.
    pub in_formatted: Vec<bool>,
}

/// Every identifier token of `text` spelled as one of `names`, with its use, and which names
/// string literals mention.
pub fn occurrences(text: &[u8], names: &[&str]) -> Occurrences {
    let mut out = Occurrences {
        found: Vec::new(),
        in_strings: vec![false; names.len()],
        in_formatted: vec![false; names.len()],
    };
    let mut lexer = Lexer::new(text);
    let mut tokens = Vec::new();
    // Open `def`/`class` bodies: (indentation of the header, scope id).
    let mut scopes: Vec<(u32, u32)> = Vec::new();
    while let Some(line) = lexer.next_line(&mut tokens) {
        while scopes
            .last()
            .is_some_and(|&(indent, _)| indent >= line.indent)
        {
            scopes.pop();
        }
        let outer = scopes.last().map_or(u32::MAX, |&(_, scope)| scope);
        for token in tokens.iter().filter(|t| t.kind == Kind::String) {
            let literal = token.text(text);
            for (index, name) in names.iter().enumerate() {
                if mentions(literal, name) {
                    out.in_strings[index] = true;
                    out.in_formatted[index] |= token.str_flags.formatted;
                }
            }
        }
        let keyword_at = usize::from(tokens.first().is_some_and(|t| t.text(text) == b"async"));
        let defines = tokens
            .get(keyword_at)
            .is_some_and(|t| matches!(t.text(text), b"def" | b"class"));
        let compound = is_compound(text, &tokens);
        let (header, body) = match compound.then(|| header_colon(text, &tokens)).flatten() {
            Some(colon) => (&tokens[..colon], &tokens[colon + 1..]),
            None if compound => (&tokens[..], &[][..]),
            None => (&[][..], &tokens[..]),
        };
        let inner = if defines { tokens[0].start } else { outer };
        if !header.is_empty() {
            classify(text, header, names, compound, outer, &mut out.found);
        }
        for statement in body.split(|t| t.kind == Kind::Semi) {
            classify(text, statement, names, false, inner, &mut out.found);
        }
        if defines {
            scopes.push((line.indent, tokens[0].start));
        }
    }
    out
}

/// The uses of `names` in one simple statement or compound header.
fn classify(
    text: &[u8],
    statement: &[Token],
    names: &[&str],
    header: bool,
    scope: u32,
    out: &mut Vec<Occurrence>,
) {
    let wanted = |token: &Token| {
        if token.kind != Kind::Name {
            return None;
        }
        names
            .iter()
            .position(|name| token.text(text) == name.as_bytes())
    };
    if !statement.iter().any(|token| wanted(token).is_some()) {
        return;
    }
    let word = |token: Option<&Token>| {
        token
            .filter(|t| t.kind == Kind::Name)
            .map_or(&b""[..], |t| t.text(text))
    };
    let keyword_at = usize::from(word(statement.first()) == b"async");
    let first_word = word(statement.get(keyword_at));
    if matches!(first_word, b"import" | b"from") && keyword_at == 0 {
        return import_bindings(text, statement, names, scope, out);
    }
    let defines = matches!(first_word, b"def" | b"class");
    let case = header && first_word == b"case";
    let binds_all = matches!(first_word, b"global" | b"nonlocal" | b"del");
    // The statement's first depth-0 `:` (an annotation follows it) and last depth-0 `=`.
    let mut colon = None;
    let mut assign = None;
    let mut depth = 0i32;
    for (i, token) in statement.iter().enumerate() {
        match token.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth -= 1,
            Kind::Colon if depth == 0 && colon.is_none() => colon = Some(i),
            Kind::Equal | Kind::AugAssign if depth == 0 => assign = Some(i),
            _ => {}
        }
    }
    // Regions of targets and parameters, by the depth where they started.
    let mut lambdas: Vec<i32> = Vec::new();
    let mut fors: Vec<i32> = Vec::new();
    let mut as_target: Option<i32> = None;
    // The `(` of a `def`'s parameters, and the `[` of type parameters after the name.
    let parameters_open = defines
        .then(|| {
            let mut at = keyword_at + 2;
            if statement.get(at).is_some_and(|t| t.text(text) == b"[") {
                at = skip_group(statement, at);
            }
            statement
                .get(at)
                .filter(|t| t.text(text) == b"(" && first_word == b"def")
                .map(|_| at)
        })
        .flatten();
    let type_parameters_open = (defines
        && statement
            .get(keyword_at + 2)
            .is_some_and(|t| t.text(text) == b"["))
    .then_some(keyword_at + 2);
    let mut inside: Option<usize> = None;
    depth = 0;
    for (i, token) in statement.iter().enumerate() {
        if token.kind == Kind::Close {
            depth -= 1;
            if depth == 0 {
                inside = None;
            }
        }
        if as_target.is_some_and(|at| {
            depth < at || (depth == at && matches!(token.kind, Kind::Comma | Kind::Colon))
        }) {
            as_target = None;
        }
        let previous = i.checked_sub(1).map(|at| &statement[at]);
        let next = statement.get(i + 1);
        if token.kind == Kind::Name && previous.is_none_or(|t| t.kind != Kind::Dot) {
            if let Some(name) = wanted(token) {
                // A parameter's name: `def f(a, *b, c=1)`, `lambda a, b=1:`, `class C[T]`.
                let parameter_name = previous.is_some_and(|t| {
                    matches!(
                        t.kind,
                        Kind::Open | Kind::Comma | Kind::Star | Kind::DoubleStar
                    ) || t.text(text) == b"lambda"
                });
                let parameter = parameter_name
                    && (inside.is_some() && depth == 1 || lambdas.last() == Some(&depth));
                // The name itself is the target, not `Name.attr`, `Name[i]` or `Name()`.
                let whole = !next
                    .is_some_and(|t| t.kind == Kind::Dot || matches!(t.text(text), b"(" | b"["));
                let bound = parameter
                    || matches!(word(previous), b"def" | b"class")
                    || whole
                        && (binds_all
                            || matches!(word(previous), b"as" | b"for")
                            || fors.last().is_some_and(|&at| depth >= at)
                            || as_target.is_some()
                            || next
                                .is_some_and(|t| matches!(t.kind, Kind::Walrus | Kind::AugAssign)));
                let keyword = next.is_some_and(|t| t.kind == Kind::Equal) && depth > 0;
                // An assignment's target (not its annotation), `Name: int`, a `case` capture.
                let target = whole
                    && (assign.is_some_and(|assign| i < assign)
                        && colon.is_none_or(|colon| i < colon)
                        || (i == 0 && next.is_some_and(|t| t.kind == Kind::Colon))
                        || case);
                let usage = if bound || (target && !keyword) {
                    Use::Binding
                } else if keyword {
                    Use::Keyword
                } else {
                    Use::Load
                };
                out.push(Occurrence {
                    span: Span::new(token.start as usize, token.end as usize),
                    name,
                    usage,
                    scope,
                });
            }
            match token.text(text) {
                b"lambda" => lambdas.push(depth),
                b"for" => fors.push(depth),
                b"in" if fors.last() == Some(&depth) => {
                    fors.pop();
                }
                b"as" => as_target = Some(depth),
                _ => {}
            }
        }
        if token.kind == Kind::Colon && lambdas.last() == Some(&depth) {
            lambdas.pop();
        }
        if token.kind == Kind::Open {
            if depth == 0 && (Some(i) == parameters_open || Some(i) == type_parameters_open) {
                inside = Some(i);
            }
            depth += 1;
        }
    }
}

/// The names an `import` or `from ... import` statement binds.
fn import_bindings(
    text: &[u8],
    statement: &[Token],
    names: &[&str],
    scope: u32,
    out: &mut Vec<Occurrence>,
) {
    let is_word = |token: &Token, word: &[u8]| token.kind == Kind::Name && token.text(text) == word;
    // `from a.b import (X as Y, Z)`: what follows `import`; `import a.b as c, d`: all of it.
    let items = match statement.iter().position(|t| is_word(t, b"import")) {
        Some(at) => &statement[at + 1..],
        None => return,
    };
    let from = is_word(&statement[0], b"from");
    for item in items.split(|t| t.kind == Kind::Comma) {
        let item: Vec<&Token> = item
            .iter()
            .filter(|t| !matches!(t.kind, Kind::Open | Kind::Close))
            .collect();
        // The alias when there is one, else the first name (`a` of `import a.b`; `X` of
        // `from m import X`).
        let bound = match item.iter().position(|t| is_word(t, b"as")) {
            Some(at) => item.get(at + 1),
            None if from || item.len() == 1 || item.get(1).is_some_and(|t| t.kind == Kind::Dot) => {
                item.first()
            }
            None => None,
        };
        if let Some(token) = bound
            && let Some(name) = names
                .iter()
                .position(|name| token.text(text) == name.as_bytes())
        {
            out.push(Occurrence {
                span: Span::new(token.start as usize, token.end as usize),
                name,
                usage: Use::Import,
                scope,
            });
        }
    }
}

/// Uses `prefix.Name` of an object reached through a module, all to be read as the plain
/// name `local`.
#[derive(Clone, Copy, Debug)]
pub struct ModuleUses<'a> {
    /// The import statement (and which of its names) binding the prefix's first name:
    /// `import a.b as m`, `import a.b`, `from pkg import m`.
    pub import: usize,
    pub name: usize,
    /// The dotted names to rewrite, each starting with `prefix.Name` (`m.Name.method` too).
    pub spans: &'a [Span],
    /// The bytes of `prefix.Name` at the start of each span.
    pub written_len: usize,
    /// An import statement of the file (plain, at module level, before `import`) that
    /// already binds `local` to the object: nothing to add then.
    pub bound_by: Option<usize>,
}

/// The edits that make `m.Name` read `local`, bound by `new_statement` (`from <canonical
/// module> import <Canonical> [as local]`) on the line after the `import`, or in its place
/// when nothing else uses `m`; or why there is no fix. The caller has checked what needs the
/// graph (the module's namespace, who star-imports it) and that no use is assigned.
pub fn module_uses(
    text: &[u8],
    facts: &FileFacts,
    uses: &ModuleUses,
    local: &str,
    new_statement: &str,
) -> Result<Vec<Edit>, String> {
    if !facts.errors.is_empty() {
        return Err("the file has syntax errors".to_string());
    }
    let statement = &facts.imports[uses.import];
    let imported = &statement.names[uses.name];
    let base = imported.bound_name(statement.kind);
    if base == local {
        return Err(format!("`{local}` is the module's own local name"));
    }
    let bound_module = |import: &Import, name: &crate::facts::ImportedName| match import.kind {
        ImportKind::Module if name.alias.is_some() => Some(name.name.clone()),
        ImportKind::Module => name.name.split('.').next().map(str::to_string),
        ImportKind::From => None,
    };
    let ours = bound_module(statement, imported);
    let found = occurrences(text, &[base, local]);
    let starts: Vec<u32> = uses.spans.iter().map(|span| span.start).collect();
    let within = |span: Span, outer: Span| outer.start <= span.start && span.end <= outer.end;
    let mut scope = None;
    let mut duplicates = 0;
    let mut other_uses = found.in_strings[0];
    let mut use_scopes = Vec::new();
    for occurrence in &found.found {
        match (occurrence.name, occurrence.usage) {
            (0, Use::Import) if within(occurrence.span, imported.span) => {
                scope = Some(occurrence.scope);
            }
            (0, Use::Import) => {
                // Another `import a.c` binds `a` to the same package: harmless.
                let same = facts.imports.iter().any(|other| {
                    other.names.iter().any(|name| {
                        within(occurrence.span, name.span)
                            && ours.is_some()
                            && bound_module(other, name) == ours
                    })
                });
                if !same {
                    return Err(format!("`{base}` is bound by another import too"));
                }
                duplicates += 1;
            }
            (0, Use::Binding) => {
                return Err(format!(
                    "`{base}` is also bound otherwise in the file (assigned, a parameter, ...)"
                ));
            }
            (0, Use::Load) if starts.contains(&occurrence.span.start) => {
                use_scopes.push(occurrence.scope);
            }
            (0, Use::Load) => other_uses = true,
            (1, Use::Import)
                if uses
                    .bound_by
                    .is_some_and(|at| within(occurrence.span, facts.imports[at].span)) => {}
            (1, Use::Load) if uses.bound_by.is_some() => {}
            (1, Use::Keyword) | (0, Use::Keyword) => {}
            (_, _) => return Err(format!("`{local}` is already used in the file")),
        }
    }
    if found.in_formatted[1] && uses.bound_by.is_none() {
        return Err(format!("`{local}` is written in an f-string"));
    }
    let plain_module_level = statement.context.scope == Scope::Module
        && statement.context.guard == Guard::None
        && !statement.context.conditional
        && !statement.context.type_checking;
    if duplicates > 0 && !plain_module_level {
        return Err(format!(
            "`{base}` is imported more than once, and not plainly at module level"
        ));
    }
    // A name bound in a function or class body is seen in that body only.
    if statement.context.scope != Scope::Module
        && use_scopes.iter().any(|&use_scope| Some(use_scope) != scope)
    {
        return Err(format!(
            "`{base}` is imported in a function or class and used outside it"
        ));
    }

    let mut edits: Vec<Edit> = uses
        .spans
        .iter()
        .map(|span| Edit {
            span: Span::new(span.start as usize, span.start as usize + uses.written_len),
            content: local.to_string(),
        })
        .collect();
    let removable = !other_uses && !text[statement.span.range()].contains(&b'\\');
    let alone = statement.names.len() == 1;
    match (uses.bound_by, removable) {
        (Some(_), true) if alone => edits.extend(delete_statement(text, statement)),
        (Some(_), true) => {
            edits.extend(cut_names(text, statement, &[uses.name]).unwrap_or_default())
        }
        (Some(_), false) => {}
        (None, true) if alone => edits.push(Edit {
            span: statement.span,
            content: new_statement.to_string(),
        }),
        (None, true) => {
            edits.push(insert_after(text, statement, new_statement)?);
            edits.extend(cut_names(text, statement, &[uses.name])?);
        }
        (None, false) => edits.push(insert_after(text, statement, new_statement)?),
    }
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    Ok(edits)
}

/// The edits that point `from legacy import Alias` (the one name `moving` of
/// `facts.imports[import]`) at the canonical module under the canonical name, and rename every
/// use of `Alias` in the file to it; or why there is none.
pub fn rename_local(
    text: &[u8],
    facts: &FileFacts,
    import: usize,
    moving: usize,
    canonical_module: &str,
    canonical_name: &str,
) -> Result<Vec<Edit>, &'static str> {
    let statement = &facts.imports[import];
    let imported = &statement.names[moving];
    let local = imported.bound_name(statement.kind);
    let mut edits = move_names(
        text,
        facts,
        import,
        &[moving],
        canonical_module,
        canonical_name,
        true,
    )?;
    let found = occurrences(text, &[local, canonical_name]);
    if found.in_strings[0] {
        return Err("the name is also written in a string (an annotation, `__all__`)");
    }
    if found.in_formatted[1] {
        return Err("the canonical name is written in an f-string");
    }
    for occurrence in &found.found {
        match (occurrence.name, occurrence.usage) {
            (_, Use::Keyword) => {}
            (0, Use::Import)
                if imported.span.start <= occurrence.span.start
                    && occurrence.span.end <= imported.span.end => {}
            (0, Use::Load) => edits.push(Edit {
                span: occurrence.span,
                content: canonical_name.to_string(),
            }),
            (0, _) => return Err("the name is rebound in the file"),
            (_, _) => return Err("the canonical name is already used in the file"),
        }
    }
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    Ok(edits)
}
