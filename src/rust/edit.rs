//! `use` rewrites as byte edits: a leaf pointed at another path keeping its local name, cut
//! out of a use tree into a `use` item of its own with the same visibility and attributes,
//! or dropped where the module already binds the name to the same item.
//!
//! Every byte outside the edits is kept. The fix loop re-collects the file and refuses an
//! edit that adds a syntax error (`fix::apply_checked`).

use crate::facts::{FileFacts, Import};
use crate::rules::Edit;

/// The edits that make leaf `leaf` of `facts.imports[import]` bind `local` to `path` (a
/// whole path as this module writes it: `crate::a::T`, `dep::a::T`). With `drop`, the
/// module already binds `local` to the same item elsewhere: the leaf is only removed.
pub fn rewrite_leaf(
    text: &[u8],
    facts: &FileFacts,
    import: usize,
    leaf: usize,
    path: &str,
    local: &str,
    drop: bool,
) -> Result<Vec<Edit>, &'static str> {
    let item = &facts.imports[import];
    let name = item.names.get(leaf).ok_or("no such leaf")?;
    let (start, end) = (item.span.start as usize, item.span.end as usize);
    if end > text.len() || start >= end {
        return Err("the `use` item is not where the facts say");
    }
    let leaves: usize = facts
        .imports
        .iter()
        .filter(|other| other.span == item.span)
        .map(|other| other.names.len())
        .sum();
    let last = path.rsplit("::").next().unwrap_or(path);
    let target = if last == local {
        path.to_string()
    } else {
        format!("{path} as {local}")
    };
    let body = &text[start..end];
    let use_at = find_use_keyword(body).ok_or("no `use` keyword in the item")? + start;
    let semi = end - 1;
    if text.get(semi) != Some(&b';') {
        return Err("the `use` item does not end with `;`");
    }
    if leaves == 1 {
        if drop {
            return Ok(vec![delete_item(text, item)]);
        }
        let tree_start = use_at + 3 + skip_ws(&text[use_at + 3..semi]);
        return Ok(vec![Edit {
            span: crate::facts::Span::new(tree_start, semi),
            content: target,
        }]);
    }
    let element = element_start(text, start, name.span.start as usize);
    let (cut_start, cut_end) = leaf_cut(text, element, name.span.end as usize)
        .ok_or("cannot cut the leaf out of its use tree")?;
    let mut edits = vec![Edit {
        span: crate::facts::Span::new(cut_start, cut_end),
        content: String::new(),
    }];
    if !drop {
        let line_start = text[..start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let indent: String = text[line_start..start]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .map(|&b| b as char)
            .collect();
        let attributes = attributes_before(text, start);
        let visibility = String::from_utf8_lossy(&text[start..use_at]).into_owned();
        let mut item_text = String::from("\n");
        for attribute in attributes {
            item_text.push_str(&indent);
            item_text.push_str(&attribute);
            item_text.push('\n');
        }
        item_text.push_str(&indent);
        item_text.push_str(&visibility);
        item_text.push_str("use ");
        item_text.push_str(&target);
        item_text.push(';');
        edits.push(Edit {
            span: crate::facts::Span::new(end, end),
            content: item_text,
        });
    }
    Ok(edits)
}

fn find_use_keyword(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(found) = memchr::memmem::find(&body[at..], b"use") {
        let position = at + found;
        let before = position.checked_sub(1).map(|i| body[i]);
        let after = body.get(position + 3).copied();
        let boundary = |b: Option<u8>| !b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        if boundary(before) && boundary(after) {
            return Some(position);
        }
        at = position + 3;
    }
    None
}

/// Where the group element holding the leaf at `leaf` starts: `q::Event` in `{A, q::Event}`
/// starts at `q`. Walks back over the path (identifiers, `::`, whitespace) to the `{` or `,`
/// before it, never before the item's `start`.
fn element_start(text: &[u8], start: usize, leaf: usize) -> usize {
    let mut at = leaf;
    while at > start {
        let b = text[at - 1];
        if b.is_ascii_alphanumeric()
            || b == b'_'
            || b == b':'
            || b.is_ascii_whitespace()
            || b >= 0x80
        {
            at -= 1;
        } else {
            break;
        }
    }
    at + skip_ws(&text[at..leaf])
}

fn skip_ws(text: &[u8]) -> usize {
    text.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// The range to delete for the leaf `start..end` of a group, with one of its commas: the
/// following one (and, for a leaf alone on its line, the whole line), else the preceding.
fn leaf_cut(text: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let mut after = end;
    while after < text.len() && matches!(text[after], b' ' | b'\t' | b'\r' | b'\n') {
        after += 1;
    }
    if text.get(after) == Some(&b',') {
        let mut cut_end = after + 1;
        while cut_end < text.len() && matches!(text[cut_end], b' ' | b'\t') {
            cut_end += 1;
        }
        let line_start = text[..start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let alone = text[line_start..start]
            .iter()
            .all(|b| *b == b' ' || *b == b'\t');
        if alone && text.get(cut_end) == Some(&b'\n') {
            return Some((line_start, cut_end + 1));
        }
        if alone && text.get(cut_end..cut_end + 2) == Some(b"\r\n") {
            return Some((line_start, cut_end + 2));
        }
        return Some((start, cut_end));
    }
    let mut before = start;
    while before > 0 && matches!(text[before - 1], b' ' | b'\t' | b'\r' | b'\n') {
        before -= 1;
    }
    (before > 0 && text[before - 1] == b',').then_some((before - 1, end))
}

/// The outer attributes (`#[cfg(..)]`) written on the lines right above `start`, and on its
/// own line before it.
fn attributes_before(text: &[u8], start: usize) -> Vec<String> {
    let mut out = Vec::new();
    let line_start = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let same_line = String::from_utf8_lossy(&text[line_start..start]);
    let same_line = same_line.trim();
    if same_line.starts_with("#[") {
        out.push(same_line.to_string());
    }
    let mut end = line_start;
    while end > 0 {
        let previous_start = text[..end - 1]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let line = String::from_utf8_lossy(&text[previous_start..end - 1]);
        let line = line.trim();
        if line.starts_with("#[") && line.ends_with(']') {
            out.push(line.to_string());
            end = previous_start;
        } else {
            break;
        }
    }
    out.reverse();
    out
}

/// Deletes a whole `use` item with its attributes and line, when nothing else shares them.
fn delete_item(text: &[u8], item: &Import) -> Edit {
    let (start, end) = (item.span.start as usize, item.span.end as usize);
    let mut line_start = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let own_line = text[line_start..start]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t');
    let mut line_end = end;
    while line_end < text.len() && matches!(text[line_end], b' ' | b'\t' | b'\r') {
        line_end += 1;
    }
    if own_line && text.get(line_end) == Some(&b'\n') {
        // Attribute lines above it go too.
        let attributes = attributes_before(text, start).len();
        for _ in 0..attributes {
            line_start = text[..line_start.saturating_sub(1)]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
        }
        Edit {
            span: crate::facts::Span::new(line_start, line_end + 1),
            content: String::new(),
        }
    } else {
        Edit {
            span: crate::facts::Span::new(start, end),
            content: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(source: &str, import: usize, leaf: usize, path: &str, local: &str) -> String {
        let facts = crate::rust::collect(source.as_bytes());
        let edits =
            rewrite_leaf(source.as_bytes(), &facts, import, leaf, path, local, false).unwrap();
        String::from_utf8(crate::python::edit::apply(source.as_bytes(), &edits)).unwrap()
    }

    #[test]
    fn a_single_leaf_keeps_visibility_and_local_name() {
        assert_eq!(
            fixed(
                "pub(crate) use crate::compat::Legacy;\n",
                0,
                0,
                "dep::a::Event",
                "Legacy"
            ),
            "pub(crate) use dep::a::Event as Legacy;\n"
        );
        assert_eq!(
            fixed("use x::Event as E; // note\n", 0, 0, "dep::Event", "E"),
            "use dep::Event as E; // note\n"
        );
    }

    #[test]
    fn a_leaf_is_cut_out_of_its_tree_with_the_attributes() {
        let source = "mod m {\n    #[cfg(unix)]\n    use crate::p::{A, Event, B};\n}\n";
        assert_eq!(
            fixed(source, 0, 1, "crate::e::Event", "Event"),
            "mod m {\n    #[cfg(unix)]\n    use crate::p::{A, B};\n    #[cfg(unix)]\n    use crate::e::Event;\n}\n"
        );
        let source = "use crate::p::{\n    A,\n    Event,\n};\n";
        assert_eq!(
            fixed(source, 0, 1, "crate::e::Event", "Event"),
            "use crate::p::{\n    A,\n};\nuse crate::e::Event;\n"
        );
        let source = "use crate::p::{A, q::Event};\n";
        assert_eq!(
            fixed(source, 1, 0, "crate::e::Event", "Event"),
            "use crate::p::{A};\nuse crate::e::Event;\n"
        );
    }

    #[test]
    fn a_duplicate_binding_is_dropped() {
        let source = "#[cfg(unix)]\nuse crate::p::Event;\nuse crate::e::Event;\n";
        let facts = crate::rust::collect(source.as_bytes());
        let edits = rewrite_leaf(
            source.as_bytes(),
            &facts,
            0,
            0,
            "crate::e::Event",
            "Event",
            true,
        )
        .unwrap();
        let out = crate::python::edit::apply(source.as_bytes(), &edits);
        assert_eq!(String::from_utf8(out).unwrap(), "use crate::e::Event;\n");
    }
}
