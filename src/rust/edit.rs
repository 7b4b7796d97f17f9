//! `use` rewrites as byte edits: a leaf pointed at another path keeping its local name, cut
//! out of a use tree into a `use` item of its own with the same visibility and attributes,
//! or dropped where the module already binds the name to the same item.
//!
//! Every byte outside the edits is kept. The fix loop re-collects the file and refuses an
//! edit that adds a syntax error (`fix::apply_checked`).

use crate::facts::{FileFacts, Import};
use crate::rules::Edit;

/// Where the rewritten leaf goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// In place (a `use` of its own, cut out of its tree when it shares one).
    New,
    /// Nowhere: the module already binds the local name to the same item, the leaf only goes.
    Drop,
    /// Into `facts.imports[i]`, a `use` of the new path's module with the same visibility
    /// (`use dep::a::{Other, T};`); a new item when its attributes differ.
    Merge(usize),
}

/// The edits that make leaf `leaf` of `facts.imports[import]` bind `local` to `path` (a
/// whole path as this module writes it: `crate::a::T`, `dep::a::T`), placed as `placement`
/// says. A group left with one element loses its braces (`{A}` becomes `A`).
pub fn rewrite_leaf(
    text: &[u8],
    facts: &FileFacts,
    import: usize,
    leaf: usize,
    path: &str,
    local: &str,
    placement: Placement,
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
    let leaf_text = if last == local {
        last.to_string()
    } else {
        format!("{last} as {local}")
    };
    let merge = match placement {
        Placement::Merge(into) => merge_into(text, facts, into, import, &leaf_text),
        _ => None,
    };
    let drop = placement == Placement::Drop;
    let mut edits = if leaves == 1 {
        if drop || merge.is_some() {
            vec![delete_item(text, item)]
        } else {
            let tree_start = use_at + 3 + skip_ws(&text[use_at + 3..semi]);
            vec![Edit {
                span: crate::facts::Span::new(tree_start, semi),
                content: target,
            }]
        }
    } else {
        let element = element_start(text, start, name.span.start as usize);
        let (cut_start, cut_end) = leaf_cut(text, element, name.span.end as usize)
            .ok_or("cannot cut the leaf out of its use tree")?;
        let mut edits = vec![unbrace(text, start, end, cut_start, cut_end)];
        if !drop && merge.is_none() {
            let line_start = line_start(text, start);
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
        edits
    };
    edits.extend(merge);
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    if edits
        .windows(2)
        .any(|pair| pair[0].span.end > pair[1].span.start)
    {
        return Err("the edits of the `use` items overlap");
    }
    Ok(edits)
}

fn line_start(text: &[u8], at: usize) -> usize {
    text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |found| found + 1)
}

/// The edit that removes `cut_start..cut_end` from the `use` item `start..end`, and the
/// braces of the group it leaves with one element (`use a::{B};` becomes `use a::B;`;
/// `{self}` and a group with a comment keep theirs).
fn unbrace(text: &[u8], start: usize, end: usize, cut_start: usize, cut_end: usize) -> Edit {
    let cut = Edit {
        span: crate::facts::Span::new(cut_start, cut_end),
        content: String::new(),
    };
    let mut item = text[start..cut_start].to_vec();
    let at = item.len();
    item.extend_from_slice(&text[cut_end..end]);
    // The unmatched `{` before the cut, and its `}`.
    let mut depth = 0usize;
    let Some(open) = (0..at).rev().find(|&i| match item[i] {
        b'}' => {
            depth += 1;
            false
        }
        b'{' if depth == 0 => true,
        b'{' => {
            depth -= 1;
            false
        }
        _ => false,
    }) else {
        return cut;
    };
    let Some(close) = (open + 1..item.len()).find(|&i| item[i] == b'}') else {
        return cut;
    };
    let inner = String::from_utf8_lossy(&item[open + 1..close]);
    let element = inner.trim().trim_end_matches(',').trim();
    if element.is_empty()
        || element == "self"
        || element.contains(['{', '}', ',', '/'])
        || element.starts_with("self ")
    {
        return cut;
    }
    let mut out = String::from_utf8_lossy(&item[..open]).into_owned();
    out.push_str(element);
    out.push_str(&String::from_utf8_lossy(&item[close + 1..]));
    Edit {
        span: crate::facts::Span::new(start, end),
        content: out,
    }
}

/// The edit that adds `leaf` (`T` or `T as L`) to `facts.imports[into]`, a `use` of the
/// module `leaf` comes from; `None` when that `use` is not one to merge into (another item
/// of the same tree, other attributes or visibility, a glob).
fn merge_into(
    text: &[u8],
    facts: &FileFacts,
    into: usize,
    from: usize,
    leaf: &str,
) -> Option<Edit> {
    let target = facts.imports.get(into)?;
    let source = &facts.imports[from];
    let (start, end) = (target.span.start as usize, target.span.end as usize);
    if target.span == source.span
        || end > text.len()
        || start >= end
        || target.names.is_empty()
        || target.names.iter().any(|name| name.name == "*")
    {
        return None;
    }
    let visibility = |import: &Import| {
        let body = &text[import.span.range()];
        let at = find_use_keyword(body)?;
        Some(String::from_utf8_lossy(&body[..at]).trim().to_string())
    };
    if visibility(target)? != visibility(source)?
        || attributes_before(text, start) != attributes_before(text, source.span.start as usize)
    {
        return None;
    }
    let name = leaf.split(" as ").next().unwrap_or(leaf);
    let first = &target.names[0];
    let before = text[start..first.span.start as usize]
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    if before == Some(b':') {
        // `use m::A;` becomes `use m::{A, T};`.
        if target.names.len() != 1 {
            return None;
        }
        let existing = String::from_utf8_lossy(&text[first.span.range()]).into_owned();
        let (a, b) = if rustfmt_order(&first.name, name) {
            (existing.as_str(), leaf)
        } else {
            (leaf, existing.as_str())
        };
        return Some(Edit {
            span: first.span,
            content: format!("{{{a}, {b}}}"),
        });
    }
    // In a group: before the first element that sorts after it, else after the last.
    let alone = |at: usize| {
        text[line_start(text, at)..at]
            .iter()
            .all(|b| *b == b' ' || *b == b'\t')
    };
    let indent = |at: usize| String::from_utf8_lossy(&text[line_start(text, at)..at]).into_owned();
    if let Some(next) = target
        .names
        .iter()
        .find(|existing| !rustfmt_order(&existing.name, name))
    {
        let at = next.span.start as usize;
        let content = if alone(at) {
            format!("{leaf},\n{}", indent(at))
        } else {
            format!("{leaf}, ")
        };
        return Some(Edit {
            span: crate::facts::Span::new(at, at),
            content,
        });
    }
    let last = target.names.iter().max_by_key(|name| name.span.end)?;
    let after = last.span.end as usize;
    let at_start = last.span.start as usize;
    if alone(at_start) {
        let comma = text[after..end]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .filter(|&i| text[after + i] == b',')
            .map(|i| after + i + 1);
        return Some(match comma {
            Some(at) => Edit {
                span: crate::facts::Span::new(at, at),
                content: format!("\n{}{leaf},", indent(at_start)),
            },
            None => Edit {
                span: crate::facts::Span::new(after, after),
                content: format!(",\n{}{leaf}", indent(at_start)),
            },
        });
    }
    Some(Edit {
        span: crate::facts::Span::new(after, after),
        content: format!(", {leaf}"),
    })
}

/// Whether `a` goes before `b` in a group as rustfmt sorts it: `self` first, then by name.
fn rustfmt_order(a: &str, b: &str) -> bool {
    match (a == "self", b == "self") {
        (true, _) => true,
        (_, true) => false,
        _ => a <= b,
    }
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
        placed(source, import, leaf, path, local, Placement::New)
    }

    fn placed(
        source: &str,
        import: usize,
        leaf: usize,
        path: &str,
        local: &str,
        placement: Placement,
    ) -> String {
        let facts = crate::rust::collect(source.as_bytes());
        let edits = rewrite_leaf(
            source.as_bytes(),
            &facts,
            import,
            leaf,
            path,
            local,
            placement,
        )
        .unwrap();
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
            "use crate::p::A;\nuse crate::e::Event;\n"
        );
        let source = "use crate::p::{A, q::Event};\n";
        assert_eq!(
            fixed(source, 1, 0, "crate::e::Event", "Event"),
            "use crate::p::A;\nuse crate::e::Event;\n"
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
            Placement::Drop,
        )
        .unwrap();
        let out = crate::python::edit::apply(source.as_bytes(), &edits);
        assert_eq!(String::from_utf8(out).unwrap(), "use crate::e::Event;\n");
    }

    #[test]
    fn a_leaf_merges_into_a_use_of_its_new_module() {
        let merge = |source: &str, import: usize, leaf: usize, into: usize| {
            placed(
                source,
                import,
                leaf,
                "crate::e::Event",
                "Event",
                Placement::Merge(into),
            )
        };
        assert_eq!(
            merge("use crate::e::Key;\nuse crate::p::Event;\n", 1, 0, 0),
            "use crate::e::{Event, Key};\n"
        );
        assert_eq!(
            merge(
                "use crate::e::{A, Key};\nuse crate::p::{B, Event};\n",
                1,
                1,
                0
            ),
            "use crate::e::{A, Event, Key};\nuse crate::p::B;\n"
        );
        assert_eq!(
            merge(
                "use crate::e::{\n    A,\n    B,\n};\nuse crate::p::Event;\n",
                1,
                0,
                0
            ),
            "use crate::e::{\n    A,\n    B,\n    Event,\n};\n"
        );
        assert_eq!(
            merge("use crate::e::{self, Z};\nuse crate::p::Event;\n", 1, 0, 0),
            "use crate::e::{self, Event, Z};\n"
        );
        // Other attributes or visibility: a `use` of its own.
        assert_eq!(
            merge(
                "#[cfg(test)]\nuse crate::e::Key;\nuse crate::p::Event;\n",
                1,
                0,
                0
            ),
            "#[cfg(test)]\nuse crate::e::Key;\nuse crate::e::Event;\n"
        );
        assert_eq!(
            merge("pub use crate::e::Key;\nuse crate::p::Event;\n", 1, 0, 0),
            "pub use crate::e::Key;\nuse crate::e::Event;\n"
        );
    }

    #[test]
    fn braces_stay_where_they_must() {
        assert_eq!(
            fixed(
                "use crate::p::{self, Event};\n",
                0,
                1,
                "crate::e::Event",
                "Event"
            ),
            "use crate::p::{self};\nuse crate::e::Event;\n"
        );
        let source = "use crate::p::{a::{X, Y}, Event};\n";
        let facts = crate::rust::collect(source.as_bytes());
        let event = facts
            .imports
            .iter()
            .position(|import| import.module == "crate::p")
            .unwrap();
        assert_eq!(
            fixed(source, event, 0, "crate::e::Event", "Event"),
            "use crate::p::{a::{X, Y}};\nuse crate::e::Event;\n"
        );
    }
}
