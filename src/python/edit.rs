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

use crate::facts::{FileFacts, Guard, Import, ImportKind, Scope, Span, line_end, line_start};
use crate::rules::Edit;

/// The edits that move the names `moving` (all in the statement `facts.imports[import]`)
/// to the canonical path, or why there is no fix.
pub fn move_names(
    text: &[u8],
    facts: &FileFacts,
    import: usize,
    moving: &[usize],
    canonical_module: &str,
    canonical_name: &str,
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
        if local == canonical_name {
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
                    !other.names.iter().any(|name| {
                        name.bound_name(ImportKind::From) == **local && name.name == canonical_name
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
            let line_start = line_start(text, statement.span.start as usize);
            let indent = String::from_utf8_lossy(&text[line_start..statement.span.start as usize])
                .to_string();
            if !indent.trim().is_empty() {
                return Err("the statement shares its line with other code");
            }
            // Blanks and a comment may follow the statement on its line; code may not.
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
            content.push_str(&format!(
                "{indent}from {canonical_module} import {}{newline}",
                names.join(", ")
            ));
            edits.push(Edit {
                span: Span::new(at, at),
                content,
            });
        }
    }
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    Ok(edits)
}

/// Does `text` contain `name` as a whole identifier (in code, a string or a comment alike:
/// erring on the side of "yes")?
fn mentions(text: &[u8], name: &str) -> bool {
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
