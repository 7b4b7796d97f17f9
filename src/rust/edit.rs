//! `use` rewrites as byte edits: a leaf pointed at another path keeping its local name, cut
//! out of a use tree into a `use` item of its own with the same visibility and attributes,
//! or dropped where the module already binds the name to the same item.
//!
//! Every byte outside the edits is kept. The fix loop re-collects the file and refuses an
//! edit that adds a syntax error (`fix::apply_checked`).

use crate::facts::{FileFacts, Import, Span};
use crate::rules::Edit;
use crate::rust::order::{self, Style, Tree};

/// How rustfmt sorts and lays out the `use` items of a file: its style edition, whether a
/// leading `::` is part of a path (editions 2018 and later), whether it sorts them at all
/// (`reorder_imports`), and whether [`use_layout`] is its layout (`max_width`, four spaces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    pub style: Style,
    pub leading_root: bool,
    pub sort: bool,
    /// `Some(max_width)` when wrapped lists are laid out as [`use_layout`] does.
    pub layout: Option<usize>,
}

impl Order {
    /// The order of a crate of Rust edition `edition` (`cargo fmt` passes it to rustfmt),
    /// with rustfmt's defaults.
    pub fn of_edition(edition: &str) -> Order {
        Order {
            style: Style::of_edition(edition),
            leading_root: edition != "2015",
            sort: true,
            layout: Some(100),
        }
    }

    /// The order of a file of a crate of `edition` under rustfmt configuration `config`.
    pub fn of(edition: &str, config: Option<&crate::rust::workspace::Rustfmt>) -> Order {
        let mut order = Order::of_edition(edition);
        if let Some(config) = config {
            if let Some(style) = &config.style_edition {
                order.style = Style::of_edition(style);
            }
            order.sort = config.reorder_imports;
            order.layout = config.spaces.then_some(config.max_width);
        }
        order
    }

    fn tree(&self, text: &str) -> Option<Tree> {
        Tree::parse(text, self.leading_root)
    }

    fn compare(&self, a: &Tree, b: &Tree) -> std::cmp::Ordering {
        order::compare(a, b, self.style)
    }
}

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
///
/// The result sorts as rustfmt sorts (`order`): a new `use` item goes where it sorts in its
/// group of `use` items (see [`crate::rust::order`]), a leaf merged into a list where it
/// sorts in the list, and an item whose rewritten tree no longer sorts where it stands
/// moves, with its attributes and its line's comment, to where it does. Where the group's
/// items do not each stand on lines of their own, nothing moves.
#[allow(clippy::too_many_arguments)]
pub fn rewrite_leaf(
    text: &[u8],
    facts: &FileFacts,
    import: usize,
    leaf: usize,
    path: &str,
    local: &str,
    placement: Placement,
    order: Order,
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
    // Edits in place, and the `use` items put in at a line start (with their trees, to
    // order two that go in at one point).
    let mut edits: Vec<Edit> = Vec::new();
    let mut inserts: Vec<Insert> = Vec::new();
    let mut keep = |moves: Option<Moved>, edit: Edit, edits: &mut Vec<Edit>| match moves {
        Some(moved) => {
            edits.push(moved.delete);
            inserts.push(moved.insert);
        }
        None => edits.push(edit),
    };
    let merge = match placement {
        Placement::Merge(into) => merge_into(text, facts, into, import, &leaf_text, order),
        _ => None,
    };
    if let (Some(edit), Placement::Merge(into)) = (&merge, placement) {
        let into = facts.imports[into].span;
        let edit = relayout(text, into, edit, order).unwrap_or_else(|| edit.clone());
        let moves = moved(text, facts, into, std::slice::from_ref(&edit), order);
        keep(moves, edit, &mut edits);
    }
    let drop = placement == Placement::Drop;
    if leaves == 1 {
        if drop || merge.is_some() {
            edits.push(delete_item(text, item));
        } else {
            let tree_start = use_at + 3 + skip_ws(&text[use_at + 3..semi]);
            let edit = Edit {
                span: crate::facts::Span::new(tree_start, semi),
                content: target,
            };
            let moves = moved(text, facts, item.span, std::slice::from_ref(&edit), order);
            keep(moves, edit, &mut edits);
        }
    } else {
        let element = element_start(text, start, name.span.start as usize);
        let (cut_start, cut_end) = leaf_cut(text, element, name.span.end as usize)
            .ok_or("cannot cut the leaf out of its use tree")?;
        let cut = unbrace(text, start, end, cut_start, cut_end);
        let cut = relayout(text, item.span, &cut, order).unwrap_or(cut);
        let new_item = (!drop && merge.is_none()).then(|| {
            let line_start = line_start(text, start);
            let indent: String = text[line_start..start]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .map(|&b| b as char)
                .collect();
            let visibility = String::from_utf8_lossy(&text[start..use_at]).into_owned();
            let mut lines = String::new();
            for attribute in attributes_before(text, start) {
                lines.push_str(&format!("{indent}{attribute}\n"));
            }
            lines.push_str(&format!("{indent}{visibility}use {target};"));
            lines
        });
        // The item left may sort elsewhere too (`use a::{B, c::D}` less `B` is `a::c::D`);
        // the new one then sorts among the others.
        let tree = order.tree(&target);
        let moves = moved(text, facts, item.span, std::slice::from_ref(&cut), order);
        let at = |skip: bool| {
            tree.as_ref()
                .and_then(|tree| insertion(text, facts, item.span, &cut, tree, order, skip))
        };
        match (new_item, moves) {
            (None, moves) => keep(moves, cut, &mut edits),
            (Some(lines), moves) => match (at(moves.is_some()), tree) {
                (Some(at), Some(tree)) => {
                    keep(moves, cut, &mut edits);
                    inserts.push(Insert {
                        at,
                        tree,
                        lines: format!("{lines}\n"),
                    });
                }
                // Not a group to sort: the new item goes after this one.
                _ => {
                    edits.push(cut);
                    edits.push(Edit {
                        span: crate::facts::Span::new(end, end),
                        content: format!("\n{lines}"),
                    });
                }
            },
        }
    }
    // Items put in at one point go in their order.
    inserts.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| order.compare(&a.tree, &b.tree))
    });
    for insert in inserts {
        match edits.last_mut() {
            Some(last)
                if last.span.start as usize == insert.at && last.span.end == last.span.start =>
            {
                last.content.push_str(&insert.lines);
            }
            _ => edits.push(Edit {
                span: crate::facts::Span::new(insert.at, insert.at),
                content: insert.lines,
            }),
        }
    }
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    if edits
        .windows(2)
        .any(|pair| pair[0].span.end > pair[1].span.start || pair[0].span == pair[1].span)
    {
        return Err("the edits of the `use` items overlap");
    }
    Ok(edits)
}

/// A `use` item put in at line start `at`.
struct Insert {
    at: usize,
    tree: Tree,
    /// Its lines, each ending in a line break.
    lines: String,
}

/// An item moved to where its new tree sorts: its lines deleted, put in again elsewhere.
struct Moved {
    delete: Edit,
    insert: Insert,
}

/// rustfmt's layout of a `use` item `head{elements};` whose tree ends in one list
/// (`head` is `pub use crate::a::`, on one line, after `indent`): on one line when it fits
/// in `max_width - 2` columns; else between braces on lines of their own, the elements one
/// level in, each line ending in a comma: all on one line when it fits in `max_width`
/// columns, else packed into lines of at most `max_width - 1` (its `imports_layout =
/// "Mixed"`, stable rustfmt's only layout). `tests/it/rust_order.rs` checks it
/// against rustfmt.
pub fn use_layout(indent: &str, head: &str, elements: &[&str], max_width: usize) -> String {
    // A list holding a list (`a::{b::{C, D}, e}`) is never on one line, and there an
    // element with a path (`e::F`, `b::{C, D}`) stands on a line of its own.
    let nested = elements.iter().any(|element| element.contains('{'));
    let one = format!("{head}{{{}}};", elements.join(", "));
    if !nested && indent.len() + one.len() + 2 <= max_width {
        return one;
    }
    let inner = format!("{indent}    ");
    let all = elements.join(", ");
    if !nested && inner.len() + all.len() < max_width {
        // All on one line of their own, its comma in the last column at most.
        return format!("{head}{{\n{inner}{all},\n{indent}}};");
    }
    let mut out = format!("{head}{{\n");
    let mut line = String::new();
    for (i, element) in elements.iter().enumerate() {
        let full = inner.len() + line.len() + 1 + element.len() + 1 + 1 > max_width;
        let apart = nested && i > 0 && (elements[i - 1].contains("::") || element.contains("::"));
        if !line.is_empty() && (full || apart) {
            out.push_str(&format!("{inner}{line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(element);
        line.push(',');
    }
    out.push_str(&format!("{inner}{line}\n{indent}}};"));
    out
}

/// A `use` item split for [`use_layout`]: its head up to the list's `{` and the list's
/// elements; `None` unless the tree ends in one list whose elements are plain (no comment;
/// a list inside one on one line) and the text is ASCII.
fn list_item(item: &str) -> Option<(&str, Vec<&str>)> {
    if !item.is_ascii() || item.contains("//") || item.contains("/*") {
        return None;
    }
    let open = item.find('{')?;
    let list = item[open + 1..].strip_suffix("};")?;
    if item[..open].contains('\n') {
        return None;
    }
    // The elements: split at the commas outside the inner lists.
    let mut elements = Vec::new();
    let (mut depth, mut from) = (0usize, 0);
    for (at, b) in list.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                elements.push(list[from..at].trim());
                from = at + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    elements.push(list[from..].trim());
    elements.retain(|element| !element.is_empty());
    let plain = |element: &&str| {
        element
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .len()
            == element.len()
    };
    (elements.len() >= 2 && elements.iter().all(plain)).then_some((&item[..open], elements))
}

/// When `edit` changes the list of the `use` item at `span` and the item was laid out as
/// rustfmt lays it out: the edit that lays the changed item out the same way (a list cut
/// short may fit on fewer lines, or on one; a list grown may need more). `None` otherwise.
fn relayout(text: &[u8], span: Span, edit: &Edit, order: Order) -> Option<Edit> {
    let max_width = order.layout?;
    let (start, end) = (span.start as usize, span.end as usize);
    let indent = std::str::from_utf8(&text[line_start(text, start)..start]).ok()?;
    if !indent.bytes().all(|b| b == b' ') {
        return None;
    }
    let old = std::str::from_utf8(&text[start..end]).ok()?;
    // (A plain path on one line is as rustfmt writes it.)
    let shaped = match list_item(old) {
        Some((head, elements)) => use_layout(indent, head, &elements, max_width) == old,
        None => !old.contains(['{', '\n']) && old.is_ascii(),
    };
    if !shaped {
        return None;
    }
    let new = String::from_utf8(apply_within(
        old.as_bytes(),
        start,
        std::slice::from_ref(edit),
    )?)
    .ok()?;
    let (head, elements) = list_item(&new)?;
    let laid = use_layout(indent, head, &elements, max_width);
    // An inner list too long for its line is one rustfmt would wrap in turn: not this layout.
    let nested = elements.iter().any(|element| element.contains('{'));
    if nested && laid.lines().skip(1).any(|line| line.len() > max_width) {
        return None;
    }
    (laid != new).then_some(Edit {
        span,
        content: laid,
    })
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
    order: Order,
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
    let element = order.tree(leaf)?;
    let sorts_before = |existing: &crate::facts::ImportedName| {
        let text = match &existing.alias {
            Some(alias) => format!("{} as {alias}", existing.name),
            None => existing.name.clone(),
        };
        order
            .tree(&text)
            .is_some_and(|existing| order.compare(&existing, &element).is_le())
    };
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
        let (a, b) = if sorts_before(first) {
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
    if let Some(next) = target.names.iter().find(|existing| !sorts_before(existing)) {
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

/// A `use` item in its group as rustfmt sorts them: the lines it stands on (the attribute
/// lines above it, a comment after it on its line), and its tree.
struct Member {
    span: Span,
    /// From the start of its first line to past its last line's `\n`; `None` when other
    /// code shares its lines.
    lines: Option<(usize, usize)>,
    tree: Option<Tree>,
    /// `#[macro_use]` or `#[rustfmt::skip]`: rustfmt leaves it and the group ends there.
    fixed: bool,
}

/// The `use` item at `span` and the others of its group, in file order, with the item's
/// index; `None` when the group cannot be read (an item that shares its lines with other
/// code, or whose tree does not parse), so nothing is moved.
fn group(text: &[u8], facts: &FileFacts, span: Span, order: Order) -> Option<(Vec<Member>, usize)> {
    if !order.sort {
        // `reorder_imports = false`: rustfmt leaves the order alone, and so does a fix.
        return None;
    }
    let mut spans: Vec<Span> = facts.imports.iter().map(|import| import.span).collect();
    spans.sort_by_key(|span| (span.start, span.end));
    spans.dedup();
    let mut all: Vec<Member> = Vec::new();
    for item in spans {
        let (start, end) = (item.start as usize, item.end as usize);
        if end > text.len() || start >= end || text[end - 1] != b';' {
            continue;
        }
        let Some(use_at) = find_use_keyword(&text[start..end]) else {
            continue; // `extern crate`
        };
        let attributes = attributes_before(text, start);
        all.push(Member {
            span: item,
            lines: member_lines(text, start, end, attributes.len()),
            tree: std::str::from_utf8(&text[start + use_at + 3..end - 1])
                .ok()
                .and_then(|tree| order.tree(tree)),
            fixed: attributes.iter().any(|attribute| {
                attribute.contains("macro_use") || attribute.contains("rustfmt::skip")
            }),
        });
    }
    let at = all.iter().position(|member| member.span == span)?;
    all[at].lines?;
    let joined = |a: &Member, b: &Member| -> Option<bool> {
        if a.fixed || b.fixed {
            return Some(false);
        }
        // (A line between them, blank or a comment, parts the groups.)
        Some(a.lines?.1 == b.lines?.0)
    };
    let (mut first, mut last) = (at, at);
    while first > 0 && joined(&all[first - 1], &all[first])? {
        first -= 1;
    }
    while last + 1 < all.len() && joined(&all[last], &all[last + 1])? {
        last += 1;
    }
    let members: Vec<Member> = all.drain(first..=last).collect();
    if members
        .iter()
        .any(|member| member.lines.is_none() || member.tree.is_none())
    {
        return None;
    }
    Some((members, at - first))
}

/// The lines `use` item `start..end` stands on, with its `attributes` lines above it (one of
/// them may share its line); `None` when other code shares them.
fn member_lines(
    text: &[u8],
    start: usize,
    end: usize,
    attributes: usize,
) -> Option<(usize, usize)> {
    let mut first = line_start(text, start);
    let before = String::from_utf8_lossy(&text[first..start]);
    let same_line_attribute = before.trim_start().starts_with("#[");
    if !before.trim().is_empty() && !same_line_attribute {
        return None;
    }
    for _ in 0..attributes - usize::from(same_line_attribute && attributes > 0) {
        first = line_start(text, first.checked_sub(1)?);
    }
    let mut after = end;
    while after < text.len() && matches!(text[after], b' ' | b'\t' | b'\r') {
        after += 1;
    }
    if text[after..].starts_with(b"//") {
        after = memchr::memchr(b'\n', &text[after..]).map_or(text.len(), |n| after + n);
    }
    match text.get(after) {
        Some(b'\n') => Some((first, after + 1)),
        _ => None,
    }
}

/// Where a new `use` item of tree `tree` goes in the group of the item at `span` (whose text
/// `edits` change): at the line start of the first item that sorts after it, else past the
/// group's last line.
fn insertion(
    text: &[u8],
    facts: &FileFacts,
    span: Span,
    edit: &Edit,
    tree: &Tree,
    order: Order,
    moved_away: bool,
) -> Option<usize> {
    let (mut members, at) = group(text, facts, span, order)?;
    if moved_away {
        return place(&members, Some(at), tree, order);
    }
    members[at].tree =
        Some(order.tree(&edited(text, members[at].span, std::slice::from_ref(edit))?)?);
    place(&members, None, tree, order)
}

/// Where `tree` sorts among `members` (but `skip`): the line start of the first that sorts
/// after it, else the end of the last one's lines.
fn place(members: &[Member], skip: Option<usize>, tree: &Tree, order: Order) -> Option<usize> {
    let others = || {
        members
            .iter()
            .enumerate()
            .filter(move |(i, _)| Some(*i) != skip)
            .map(|(_, member)| member)
    };
    match others().find(|member| {
        member
            .tree
            .as_ref()
            .is_some_and(|other| order.compare(other, tree).is_gt())
    }) {
        Some(member) => Some(member.lines?.0),
        None => Some(others().next_back()?.lines?.1),
    }
}

/// When `edits` (inside the `use` item at `span`) leave its tree sorting elsewhere in its
/// group than where it stands: the edits that move the item there instead, its lines
/// (attributes, its line's comment) kept but for the edits. `None` when it stays.
fn moved(
    text: &[u8],
    facts: &FileFacts,
    span: Span,
    edits: &[Edit],
    order: Order,
) -> Option<Moved> {
    let (members, at) = group(text, facts, span, order)?;
    let tree = order.tree(&edited(text, span, edits)?)?;
    let sorts_after = |i: usize| {
        members[i]
            .tree
            .as_ref()
            .is_some_and(|other| order.compare(other, &tree).is_gt())
    };
    let sorts_before = |i: usize| {
        members[i]
            .tree
            .as_ref()
            .is_some_and(|other| order.compare(other, &tree).is_lt())
    };
    let misplaced = at > 0 && sorts_after(at - 1) || at + 1 < members.len() && sorts_before(at + 1);
    if !misplaced {
        return None;
    }
    let (lines_start, lines_end) = members[at].lines?;
    let to = place(&members, Some(at), &tree, order)?;
    let chunk = apply_within(&text[lines_start..lines_end], lines_start, edits)?;
    Some(Moved {
        delete: Edit {
            span: Span::new(lines_start, lines_end),
            content: String::new(),
        },
        insert: Insert {
            at: to,
            tree,
            lines: String::from_utf8(chunk).ok()?,
        },
    })
}

/// The tree of the `use` item at `span` (between `use` and `;`) after `edits`, those inside
/// the item; `None` when one reaches outside it.
fn edited(text: &[u8], span: Span, edits: &[Edit]) -> Option<String> {
    let (start, end) = (span.start as usize, span.end as usize);
    let item = apply_within(&text[start..end], start, edits)?;
    let use_at = find_use_keyword(&item)?;
    let tree = item.get(use_at + 3..item.len().checked_sub(1)?)?;
    String::from_utf8(tree.to_vec()).ok()
}

/// `bytes`, the text from offset `base` on, with `edits` applied; `None` when one reaches
/// outside them.
fn apply_within(bytes: &[u8], base: usize, edits: &[Edit]) -> Option<Vec<u8>> {
    let mut out = bytes.to_vec();
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|edit| std::cmp::Reverse(edit.span.start));
    for edit in sorted {
        let from = (edit.span.start as usize).checked_sub(base)?;
        let until = (edit.span.end as usize).checked_sub(base)?;
        if until > bytes.len() || from > until {
            return None;
        }
        out.splice(from..until, edit.content.bytes());
    }
    Some(out)
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
        // The last element of a line (`    A, B,⏎`): the blanks before it go too.
        let mut from = start;
        if matches!(text.get(cut_end), Some(b'\n' | b'\r')) {
            while from > line_start && matches!(text[from - 1], b' ' | b'\t') {
                from -= 1;
            }
        }
        return Some((from, cut_end));
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
            Order::of_edition("2021"),
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
            "mod m {\n    #[cfg(unix)]\n    use crate::e::Event;\n    #[cfg(unix)]\n    use crate::p::{A, B};\n}\n"
        );
        let source = "use crate::p::{\n    A,\n    Event,\n};\n";
        assert_eq!(
            fixed(source, 0, 1, "crate::e::Event", "Event"),
            "use crate::e::Event;\nuse crate::p::A;\n"
        );
        let source = "use crate::p::{A, q::Event};\n";
        assert_eq!(
            fixed(source, 1, 0, "crate::e::Event", "Event"),
            "use crate::e::Event;\nuse crate::p::A;\n"
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
            Order::of_edition("2021"),
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
                "use crate::e::{Alpha, Key};\nuse crate::p::{B, Event};\n",
                1,
                1,
                0
            ),
            "use crate::e::{Alpha, Event, Key};\nuse crate::p::B;\n"
        );
        assert_eq!(
            merge(
                "use crate::e::{\n    Alpha,\n    Beta,\n};\nuse crate::p::Event;\n",
                1,
                0,
                0
            ),
            "use crate::e::{\n    Alpha,\n    Beta,\n    Event,\n};\n"
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
            "use crate::e::Event;\n#[cfg(test)]\nuse crate::e::Key;\n"
        );
        assert_eq!(
            merge("pub use crate::e::Key;\nuse crate::p::Event;\n", 1, 0, 0),
            "use crate::e::Event;\npub use crate::e::Key;\n"
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
            "use crate::e::Event;\nuse crate::p::{self};\n"
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
            "use crate::e::Event;\nuse crate::p::{a::{X, Y}};\n"
        );
    }

    #[test]
    fn a_rewritten_item_moves_to_where_rustfmt_sorts_it() {
        // Its attributes and its line's comment go with it.
        assert_eq!(
            fixed(
                "use alpha::A;\n#[cfg(unix)]\nuse my_app::Event; // the event\nuse std::fmt;\n",
                1,
                0,
                "ev::input::Event",
                "Event"
            ),
            "use alpha::A;\n#[cfg(unix)]\nuse ev::input::Event; // the event\nuse std::fmt;\n"
        );
        assert_eq!(
            fixed(
                "use my_app::describe;\nuse ui::prelude::Event;\n\nfn main() {}\n",
                1,
                0,
                "ev::input::Event",
                "Event"
            ),
            "use ev::input::Event;\nuse my_app::describe;\n\nfn main() {}\n"
        );
        // A blank or comment line parts the groups: nothing to move past it.
        assert_eq!(
            fixed(
                "use my_app::describe;\n// ui\nuse ui::prelude::Event;\n",
                1,
                0,
                "ev::input::Event",
                "Event"
            ),
            "use my_app::describe;\n// ui\nuse ev::input::Event;\n"
        );
        // Items sharing a line with other code: left in place.
        assert_eq!(
            fixed(
                "use my_app::describe; use ui::prelude::Event;\n",
                1,
                0,
                "ev::input::Event",
                "Event"
            ),
            "use my_app::describe; use ev::input::Event;\n"
        );
    }

    #[test]
    fn a_new_item_goes_where_rustfmt_sorts_it() {
        let source = "use crate::a::X;\nuse crate::p::{Event, Key}; // keys\nuse std::fmt;\n";
        assert_eq!(
            fixed(source, 1, 0, "crate::e::Event", "Event"),
            "use crate::a::X;\nuse crate::e::Event;\nuse crate::p::Key; // keys\nuse std::fmt;\n"
        );
        assert_eq!(
            fixed(source, 1, 0, "crate::z::Event", "Event"),
            "use crate::a::X;\nuse crate::p::Key; // keys\nuse crate::z::Event;\nuse std::fmt;\n"
        );
    }

    #[test]
    fn a_merge_that_makes_a_list_moves_the_item() {
        // `use m::A;` is a name, `use m::{A, T};` a list: it sorts after `use m::B;`.
        let source = "use crate::m::Alpha;\nuse crate::m::Beta;\nuse crate::p::Event;\n";
        assert_eq!(
            placed(
                source,
                2,
                0,
                "crate::m::Event",
                "Event",
                Placement::Merge(0)
            ),
            "use crate::m::Beta;\nuse crate::m::{Alpha, Event};\n"
        );
    }

    #[test]
    fn the_item_left_by_a_cut_moves_when_it_sorts_elsewhere() {
        // `use crate::builder::{Arg, Command};` less `Arg` is `crate::builder::Command`,
        // which sorts before `crate::builder::Styles`; the new `use crate::Arg;` sorts last
        // (before 2024, a CamelCase name after every snake_case one).
        let source = "use crate::builder::Styles;\nuse crate::builder::{Arg, Command};\nuse crate::output::Usage;\n";
        assert_eq!(
            fixed(source, 1, 0, "crate::Arg", "Arg"),
            "use crate::builder::Command;\nuse crate::builder::Styles;\nuse crate::output::Usage;\nuse crate::Arg;\n"
        );
        // Both go in at one point: in their order.
        let source = "use serde_json::{from_str, Map, Value};\nuse std::fmt;\n";
        let facts = crate::rust::collect(source.as_bytes());
        let map = facts.imports[0]
            .names
            .iter()
            .position(|name| name.name == "Map")
            .unwrap();
        assert_eq!(
            fixed(source, 0, map, "serde_json::map::Map", "Map"),
            "use serde_json::map::Map;\nuse serde_json::{from_str, Value};\nuse std::fmt;\n"
        );
    }

    #[test]
    fn cutting_the_last_element_of_a_line_leaves_no_blank_behind() {
        let source = "use serde_json::{\n    from_reader, from_slice, from_str, from_value, json, to_string, to_string_pretty, to_value,\n    to_vec, Deserializer, Number, Value,\n};\n";
        let facts = crate::rust::collect(source.as_bytes());
        let value = facts.imports[0]
            .names
            .iter()
            .position(|name| name.name == "Value")
            .unwrap();
        assert_eq!(
            fixed(source, 0, value, "serde_json::value::Value", "Value"),
            "use serde_json::value::Value;\nuse serde_json::{\n    from_reader, from_slice, from_str, from_value, json, to_string, to_string_pretty, to_value,\n    to_vec, Deserializer, Number,\n};\n"
        );
    }

    #[test]
    fn a_list_laid_out_by_rustfmt_is_laid_out_again() {
        // Cut short enough to fit on one line: one line.
        let source = "use crate::a::{\n    alpha_alpha_alpha, beta_beta_beta_beta, gamma_gamma_gamma_gamma, EventEventEvent, Zeta,\n};\n";
        let facts = crate::rust::collect(source.as_bytes());
        let event = facts.imports[0]
            .names
            .iter()
            .position(|name| name.name == "EventEventEvent")
            .unwrap();
        assert_eq!(
            fixed(
                source,
                0,
                event,
                "crate::e::EventEventEvent",
                "EventEventEvent"
            ),
            "use crate::a::{alpha_alpha_alpha, beta_beta_beta_beta, gamma_gamma_gamma_gamma, Zeta};\nuse crate::e::EventEventEvent;\n"
        );
        // Grown past the line: wrapped.
        let source = "use crate::e::{alpha_alpha_alpha, beta_beta_beta_beta, gamma_gamma_gamma_gamma, Zeta};\nuse crate::p::EventEventEvent;\n";
        assert_eq!(
            placed(
                source,
                1,
                0,
                "crate::e::EventEventEvent",
                "EventEventEvent",
                Placement::Merge(0)
            ),
            "use crate::e::{\n    alpha_alpha_alpha, beta_beta_beta_beta, gamma_gamma_gamma_gamma, EventEventEvent, Zeta,\n};\n"
        );
        // Not laid out as rustfmt does: only the edit.
        let source = "use crate::a::{\n    alpha,\n    Event,\n    Zeta,\n};\n";
        assert_eq!(
            fixed(source, 0, 1, "crate::e::Event", "Event"),
            "use crate::a::{\n    alpha,\n    Zeta,\n};\nuse crate::e::Event;\n"
        );
    }

    #[test]
    fn a_path_merged_into_past_the_line_is_wrapped() {
        let source = "use crate::e::alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_a;\nuse crate::p::EventEventEvent;\n";
        assert_eq!(
            placed(
                source,
                1,
                0,
                "crate::e::EventEventEvent",
                "EventEventEvent",
                Placement::Merge(0)
            ),
            "use crate::e::{\n    alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_alpha_a, EventEventEvent,\n};\n"
        );
    }

    #[test]
    fn without_reorder_imports_nothing_moves() {
        let source = "use my_app::describe;\nuse ui::prelude::{Event, Key};\n";
        let facts = crate::rust::collect(source.as_bytes());
        let order = Order {
            sort: false,
            ..Order::of_edition("2021")
        };
        let edits = rewrite_leaf(
            source.as_bytes(),
            &facts,
            1,
            0,
            "ev::input::Event",
            "Event",
            Placement::New,
            order,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(crate::python::edit::apply(source.as_bytes(), &edits)).unwrap(),
            "use my_app::describe;\nuse ui::prelude::Key;\nuse ev::input::Event;\n"
        );
    }

    #[test]
    fn a_list_with_a_list_inside_is_laid_out_too() {
        // rustfmt: never on one line, an element with a path on a line of its own.
        let source = "use crate::a::{\n    alpha,\n    b::{C, D},\n    beta, Event,\n};\n";
        let facts = crate::rust::collect(source.as_bytes());
        let (import, leaf) = facts
            .imports
            .iter()
            .enumerate()
            .find_map(|(i, import)| {
                let leaf = import.names.iter().position(|name| name.name == "Event")?;
                Some((i, leaf))
            })
            .unwrap();
        assert_eq!(
            fixed(source, import, leaf, "crate::e::Event", "Event"),
            "use crate::a::{\n    alpha,\n    b::{C, D},\n    beta,\n};\nuse crate::e::Event;\n"
        );
    }
}
