//! Import rewrites as edits: point a `from ... import` at the canonical module, keeping every
//! byte outside the edited spans (comments inside parentheses, indentation, line endings).
//!
//! Two shapes:
//! - every name of the statement is the concept: the module path is replaced, and each name
//!   becomes `Canonical as local` where the local name differs
//!   (`from .compat import Legacy` → `from pkg.canonical import Canonical as Legacy`);
//! - some names are other objects: the concept's name is cut out of the statement, and a
//!   new statement binds it.
//!
//! When the file already has a plain `from <canonical module> import ...` (in the statement's
//! own block, or at module level when the statement is; before the statement, or after it with
//! no mention of the name in between), a plain name joins that statement instead of a new one
//! (nothing is added when it already binds the same local name), and a statement left empty is
//! deleted with its line. `Canonical as Local` always gets a statement of its own, as the
//! sorter writes it.
//!
//! New and rewritten statements go where an isort-style sorter would put them ([`isort`]):
//! into their section of the statement's import block, in order, with the blank lines the
//! sorter wants; a rewritten statement stays where it is when that is its place. Names join
//! in order, and a line that gets longer than the sorter's is wrapped one name a line.
//!
//! Two more rewrites read the file's identifiers with the lexer ([`occurrences`]):
//! - [`module_uses`]: `m.Name` after `import a.b as m` becomes `Name`, bound by a new
//!   `from <canonical module> import <Canonical> as Name` (which replaces the `import`
//!   statement when nothing else uses `m`);
//! - [`rename_local`]: `from legacy import Alias` becomes `from <canonical module> import
//!   <Canonical>` and every use of `Alias` becomes `Canonical`.

use super::collect::{header_colon, is_compound, skip_group};
pub use super::isort::FirstParty;
use super::isort::{self, Block, Key, MemberKey, Plan, Removed, Statement};
use super::lexer::{Kind, Lexer, Token};
use crate::facts::{FileFacts, Guard, Import, ImportKind, Scope, Span, line_end, line_start};
use crate::rules::{Edit, Move};

/// A name to import: `Name`, or `Name as alias`.
#[derive(Clone, Debug, PartialEq)]
struct Named {
    name: String,
    alias: Option<String>,
}

impl Named {
    fn new(name: &str, local: &str) -> Named {
        Named {
            name: name.to_string(),
            alias: (local != name).then(|| local.to_string()),
        }
    }

    fn written(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{} as {alias}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Plainly at module level: not in a function or class, a `try`, an `if` or another block.
fn plain(import: &Import) -> bool {
    import.context.scope == Scope::Module
        && import.context.guard == Guard::None
        && !import.context.conditional
        && !import.context.type_checking
}

/// Where the name goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Goes {
    /// An import of the canonical module binds it already.
    Bound,
    /// Into that existing statement.
    Joins(usize),
    /// Into a new statement.
    New,
}

/// The edits that move the names `moving` (all in the statement `facts.imports[import]`)
/// to the canonical path, or why there is no fix. Each keeps its local name with `as`, or,
/// with `rename`, is bound under the canonical name (the caller renames the uses).
/// `first_party` names the repository's own packages, for the sorter's sections.
#[expect(clippy::too_many_arguments)]
pub fn move_names<'t>(
    text: &'t [u8],
    facts: &'t FileFacts,
    import: usize,
    moving: &[usize],
    canonical_module: &str,
    canonical_name: &str,
    rename: bool,
    first_party: &FirstParty<'t>,
) -> Result<Vec<Edit>, &'static str> {
    let block = Block::around(text, facts, import, first_party);
    let mut plan = Plan::default();
    let edits = plan_move(
        text,
        facts,
        block.as_deref(),
        &mut plan,
        import,
        moving,
        canonical_module,
        canonical_name,
        rename,
        first_party,
    )?;
    finish(text, block.as_deref(), &plan, edits)
}

/// The import block of `facts.imports[import]`, by its extent: two statements with the same
/// one are in one block ([`move_together`]).
pub fn block_of<'t>(
    text: &'t [u8],
    facts: &'t FileFacts,
    import: usize,
    first_party: &FirstParty<'t>,
) -> Option<Span> {
    Block::around(text, facts, import, first_party).map(|block| block.extent())
}

/// The edits of several [`move_names`] of statements of one import block, as one plan: each
/// fix alone re-sorts the block, so their edits overlap and the fix loop could apply only
/// one a pass. An error when they are not in one block, move one statement twice or bind
/// one local name twice (the caller then applies them one by one).
pub fn move_together<'t>(
    text: &'t [u8],
    facts: &'t FileFacts,
    moves: &[&Move],
    first_party: &FirstParty<'t>,
) -> Result<Vec<Edit>, &'static str> {
    let first = moves.first().ok_or("nothing to move")?;
    let block = Block::around(text, facts, first.import, first_party)
        .ok_or("the statement shares its line with other code")?;
    let mut imports = std::collections::HashSet::new();
    let mut locals = std::collections::HashSet::new();
    for one in moves {
        let statement = facts.imports.get(one.import).ok_or("no such statement")?;
        if block.entry(one.import).is_none() {
            return Err("the statements are in different blocks");
        }
        if !imports.insert(one.import) {
            return Err("two moves of one statement");
        }
        for &index in &one.moving {
            let name = statement.names.get(index).ok_or("no such name")?;
            let local = if one.rename {
                one.name.as_str()
            } else {
                name.bound_name(ImportKind::From)
            };
            if !locals.insert(local) {
                return Err("two moves bind one name");
            }
        }
    }
    let mut plan = Plan::default();
    let mut edits = Vec::new();
    for one in moves {
        edits.extend(plan_move(
            text,
            facts,
            Some(&block),
            &mut plan,
            one.import,
            &one.moving,
            &one.module,
            &one.name,
            one.rename,
            first_party,
        )?);
    }
    block.settle(&mut plan);
    finish(text, Some(&block), &plan, edits)
}

/// The block's edits of `plan` with `edits`, coalesced and in order.
fn finish(
    text: &[u8],
    block: Option<&Block>,
    plan: &Plan,
    mut edits: Vec<Edit>,
) -> Result<Vec<Edit>, &'static str> {
    if let Some(block) = block {
        edits.extend(block.edits(text, plan));
    }
    ordered(coalesce(text, block, edits))
}

/// [`move_names`] into `plan` (the block's changes) and the edits outside it.
#[expect(clippy::too_many_arguments)]
fn plan_move<'t>(
    text: &'t [u8],
    facts: &'t FileFacts,
    block: Option<&Block>,
    plan: &mut Plan,
    import: usize,
    moving: &[usize],
    canonical_module: &str,
    canonical_name: &str,
    rename: bool,
    first_party: &FirstParty<'t>,
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
    let named = |index: usize| {
        let local = statement.names[index].bound_name(ImportKind::From);
        Named::new(canonical_name, if rename { canonical_name } else { local })
    };
    let in_block = |index: usize| block.is_some_and(|b| b.entry(index).is_some());
    // Plain imports from the canonical module: in the statement's block (first: the sorter
    // would merge two there), or at module level when the statement is; one that comes later
    // only for the names it `reaches`.
    let mut candidates: Vec<usize> = first_party
        .imports_from(text, facts, canonical_module)
        .into_iter()
        .filter(|&index| {
            let other = &facts.imports[index];
            index != import
                && other.kind == ImportKind::From
                && other.level == 0
                && other.module == canonical_module
                && !other.names.iter().any(|name| name.name == "*")
                && (in_block(index) || plain(statement) && plain(other))
                && !text[other.span.range()].contains(&b'\\')
        })
        .collect();
    candidates.sort_by_key(|&index| !in_block(index));
    // Whether `local` may be bound by the candidate `other` instead of the statement: it
    // comes first, or nothing between the two rebinds `local` (in the block, where only
    // imports lie between) or mentions it (elsewhere: a use there must still find it bound).
    // Only for the candidates a name would go to: the scan between two statements costs as
    // much as the file (per finding: quadratic in a file of many imports otherwise).
    let reaches = |index: usize, local: &str| {
        let other = &facts.imports[index];
        other.span.end <= statement.span.start
            || if in_block(index) {
                !rebound_between(facts, statement, other, &[local])
            } else {
                // (Facts whose statements overlap name no text between them: taken as a
                // mention, so nothing joins.)
                text.get(statement.span.end as usize..other.span.start as usize)
                    .is_some_and(|between| !mentions(between, local))
            }
    };
    let goes: Vec<Goes> = moving
        .iter()
        .map(|&index| {
            let wanted = named(index);
            let local = wanted.alias.as_deref().unwrap_or(canonical_name);
            let bound = candidates.iter().any(|&other| {
                facts.imports[other].names.iter().any(|name| {
                    name.name == canonical_name && name.bound_name(ImportKind::From) == local
                }) && reaches(other, local)
            });
            // `Canonical as Local` is a statement of its own for the sorter.
            let joins = candidates.iter().copied().find(|&other| {
                facts.imports[other]
                    .names
                    .iter()
                    .all(|name| name.alias.is_none())
                    && reaches(other, local)
            });
            match (bound, joins) {
                (true, _) => Goes::Bound,
                (false, Some(other)) if wanted.alias.is_none() => Goes::Joins(other),
                (false, _) => Goes::New,
            }
        })
        .collect();
    let whole = moving.len() == statement.names.len();
    let entry = block.and_then(|block| block.entry(import));
    let shares_line = "the statement shares its line with other code";

    let mut edits = Vec::new();
    // A statement of several names becomes one statement per distinct import when it has no
    // comment to lose (`A as B` is a statement of its own for the sorter).
    let split = statement.names.len() > 1
        && entry.is_some()
        && !text[statement.span.range()].contains(&b'#');
    if whole && !split && goes.iter().all(|goes| *goes == Goes::New) {
        // The statement itself is rewritten: where it is, or moved to its place.
        let mut inner = vec![Edit {
            span: statement.module_span,
            content: canonical_module.to_string(),
        }];
        for &index in moving {
            let name = &statement.names[index];
            let new = named(index).written();
            if text[name.span.range()] != *new.as_bytes() {
                inner.push(Edit {
                    span: name.span,
                    content: new,
                });
            }
        }
        let names: Vec<Named> = (0..statement.names.len()).map(named).collect();
        let inner = wrapped(text, statement, inner, canonical_module, &names);
        let key = Key::from(
            canonical_module,
            0,
            names
                .iter()
                .map(|named| (named.name.as_str(), named.alias.as_deref())),
            first_party,
        );
        match (block, entry) {
            (Some(block), Some(entry)) => {
                edits.extend(place(text, block, plan, entry, key, inner));
            }
            _ => edits.extend(inner),
        }
    } else {
        if whole {
            match (block, entry) {
                (Some(block), Some(entry)) => plan.remove(
                    block,
                    Removed {
                        entry,
                        keep_comments: true,
                    },
                ),
                _ => edits.push(delete_statement(text, statement).ok_or(shares_line)?),
            }
        } else {
            edits.extend(cut_names(text, statement, moving)?);
        }
        if let Some(other) = goes.iter().find_map(|goes| match goes {
            Goes::Joins(other) => Some(*other),
            _ => None,
        }) {
            edits.extend(join_into(
                text,
                facts,
                block,
                plan,
                other,
                canonical_name,
                first_party,
            )?);
        }
        let mut new: Vec<Named> = Vec::new();
        for (&index, goes) in moving.iter().zip(&goes) {
            if *goes == Goes::New && !new.contains(&named(index)) {
                new.push(named(index));
            }
        }
        for named in &new {
            let block = block.ok_or(shares_line)?;
            insert_new(text, block, plan, canonical_module, named, first_party);
        }
    }
    Ok(edits)
}

/// The edits of one fix inside `block`, each group of them as one edit over the whole lines
/// of the statements around it. Each fix writes the blank lines its neighbours want as they
/// are; two fixes that touch the same statements or the lines between them then overlap, and
/// the fix loop applies one per pass and recomputes the other from its result. Edits whose
/// neighbourhoods do not overlap (a statement cut out at the top of a long block, its new line
/// at the bottom) stay apart: a fix's edits are as long as the lines around its changes, never
/// the block between them.
fn coalesce(text: &[u8], block: Option<&Block>, edits: Vec<Edit>) -> Vec<Edit> {
    let Some(block) = block else {
        return edits;
    };
    let extent = block.extent();
    let (mut inside, mut outside): (Vec<Edit>, Vec<Edit>) = edits
        .into_iter()
        .partition(|edit| extent.start <= edit.span.start && edit.span.end <= extent.end);
    inside.sort_by_key(|edit| (edit.span.start, edit.span.end));
    // Groups of consecutive edits whose neighbourhoods overlap, each with its neighbourhood.
    // (first edit's start, last end, neighbourhood, edits)
    let mut groups: Vec<(usize, usize, Span, Vec<Edit>)> = Vec::new();
    for edit in inside {
        let (start, end) = (edit.span.start as usize, edit.span.end as usize);
        let around = block.neighbourhood(start, end);
        match groups.last_mut() {
            Some((first, last, span, group)) if around.start < span.end => {
                *last = (*last).max(end);
                *span = block.neighbourhood(*first, *last);
                group.push(edit);
            }
            _ => groups.push((start, end, around, vec![edit])),
        }
    }
    for (_, _, span, group) in groups {
        let shifted = shift(&group, span.start);
        let overlapping = shifted
            .windows(2)
            .any(|pair| pair[0].span.end > pair[1].span.start);
        // Lines that are not UTF-8 cannot be carried in an edit: the edits stay as they are.
        match String::from_utf8(apply(&text[span.range()], &shifted)) {
            Ok(content) if !overlapping => outside.push(Edit { span, content }),
            _ => outside.extend(group),
        }
    }
    outside
}

/// Some import statement between `first` and `later` binds one of `locals`.
fn rebound_between(facts: &FileFacts, first: &Import, later: &Import, locals: &[&str]) -> bool {
    facts.imports.iter().any(|between| {
        first.span.end <= between.span.start
            && between.span.end <= later.span.start
            && between
                .names
                .iter()
                .any(|name| locals.contains(&name.bound_name(between.kind)))
    })
}

/// Sorted by position, or an error when two would overlap (a fix is never half applied).
fn ordered<E: From<&'static str>>(mut edits: Vec<Edit>) -> Result<Vec<Edit>, E> {
    edits.sort_by_key(|edit| (edit.span.start, edit.span.end));
    if edits
        .windows(2)
        .any(|pair| pair[0].span.end > pair[1].span.start)
    {
        return Err("internal error: the rewrite's edits overlap".into());
    }
    Ok(edits)
}

/// `from <module> import <named>` as a new statement of `block`, in its slot among the
/// statements as `plan` leaves them.
fn insert_new(
    text: &[u8],
    block: &Block,
    plan: &mut Plan,
    module: &str,
    named: &Named,
    first_party: &FirstParty,
) {
    let newline = newline_of(text);
    let key = Key::from(
        module,
        0,
        [(named.name.as_str(), named.alias.as_deref())],
        first_party,
    );
    let written = isort::format_from(
        module,
        &[named.written()],
        None,
        &block.indent,
        &isort::indent_unit(text),
        newline,
    );
    let slot = block.slot(&key, plan, None);
    let text = format!("{}{written}{newline}", block.indent);
    plan.inserted.push((
        slot,
        Statement {
            key,
            text,
            comments: false,
        },
    ));
}

/// `inner` (edits inside the lines of the block's `entry`) rewrites it into a statement with
/// `key`: where it is when that is its place among the statements as `plan` leaves them (the
/// edits are returned), else moved there with the comment lines above it (the edits are
/// carried in the moved text; none is returned).
fn place(
    text: &[u8],
    block: &Block,
    plan: &mut Plan,
    entry: usize,
    key: Key,
    inner: Vec<Edit>,
) -> Vec<Edit> {
    let slot = block.slot(&key, plan, Some(entry));
    if !block.same_place(plan, slot, entry) {
        let region = block.region(entry);
        let shifted = shift(&inner, region.start);
        // The moved lines are carried as a string: only when they are UTF-8 (in a file in
        // another encoding they stay where they are).
        if let Ok(mut moved) = String::from_utf8(apply(&text[region.range()], &shifted)) {
            if !moved.ends_with(['\n', '\r']) {
                moved.push_str(newline_of(text));
            }
            plan.remove(
                block,
                Removed {
                    entry,
                    keep_comments: false,
                },
            );
            plan.inserted.push((
                slot,
                Statement {
                    key,
                    text: moved,
                    comments: block.comments(entry),
                },
            ));
            return Vec::new();
        }
    }
    plan.rekey(block, entry, key);
    inner
}

/// The edits that add the plain `name` to the plain `from` statement `facts.imports[other]`
/// (see [`join`]). In `block`, the statement takes its new key in `plan`: its first name may
/// change, and with it its place (`from m import get` joined by `Class` sorts before
/// `from m import Class as Alias`).
fn join_into(
    text: &[u8],
    facts: &FileFacts,
    block: Option<&Block>,
    plan: &mut Plan,
    other: usize,
    name: &str,
    first_party: &FirstParty,
) -> Result<Vec<Edit>, &'static str> {
    let statement = &facts.imports[other];
    let edits = join(text, statement, name)?;
    let Some((block, entry)) = block.and_then(|block| Some((block, block.entry(other)?))) else {
        return Ok(edits);
    };
    let key = Key::from(
        &statement.module,
        statement.level,
        statement
            .names
            .iter()
            .map(|named| (named.name.as_str(), named.alias.as_deref()))
            .chain([(name, None)]),
        first_party,
    );
    Ok(place(text, block, plan, entry, key, edits))
}

/// `inner` (edits inside the one-line `statement`) as one rewrite wrapped one name a line,
/// when the line they give is longer than the sorter's; `names` are the statement's names
/// after the edits.
fn wrapped(
    text: &[u8],
    statement: &Import,
    inner: Vec<Edit>,
    module: &str,
    names: &[Named],
) -> Vec<Edit> {
    let (start, end) = (statement.span.start as usize, statement.span.end as usize);
    if text[start..end].iter().any(|b| matches!(b, b'\n' | b'\r')) {
        return inner;
    }
    let begin = isort::line_begin(text, start);
    let stop = line_end(text, end);
    let shifted: Vec<Edit> = inner
        .iter()
        .map(|edit| Edit {
            span: Span::new(
                edit.span.start as usize - begin,
                edit.span.end as usize - begin,
            ),
            content: edit.content.clone(),
        })
        .collect();
    let line = apply(&text[begin..stop], &shifted);
    if isort::width(&String::from_utf8_lossy(&line)) <= isort::LINE_LENGTH {
        return inner;
    }
    let rest = text[end..stop].trim_ascii();
    let Ok(comment) = std::str::from_utf8(rest) else {
        return inner;
    };
    let mut names = names.to_vec();
    names.sort_by_key(|named| MemberKey::new(&named.name, named.alias.as_deref()));
    let written: Vec<String> = names.iter().map(Named::written).collect();
    let indent = String::from_utf8_lossy(&text[begin..start]);
    vec![Edit {
        span: Span::new(start, stop),
        content: isort::format_from(
            module,
            &written,
            (!comment.is_empty()).then_some(comment),
            &indent,
            &isort::indent_unit(text),
            newline_of(text),
        ),
    }]
}

/// The edits that add the plain `name` to the plain `from` statement `statement`, in order
/// among its names; a line that gets longer than the sorter's is wrapped one name a line.
fn join(text: &[u8], statement: &Import, name: &str) -> Result<Vec<Edit>, &'static str> {
    let names = &statement.names;
    if names.is_empty() {
        return Err("the canonical import names nothing");
    }
    let keys: Vec<MemberKey> = names
        .iter()
        .map(|other| MemberKey::new(&other.name, other.alias.as_deref()))
        .collect();
    let at = isort::name_slot(&keys, &MemberKey::new(name, None));
    let newline = newline_of(text);
    let (start, end) = (statement.span.start as usize, statement.span.end as usize);
    let insert = if at == 0 {
        Edit {
            span: Span::new(names[0].span.start as usize, names[0].span.start as usize),
            content: format!("{name}, "),
        }
    } else {
        let after = names[at - 1].span.end as usize;
        Edit {
            span: Span::new(after, after),
            content: format!(", {name}"),
        }
    };
    let first_on_line = |offset: usize| {
        text[isort::line_begin(text, offset)..offset]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t'))
    };
    if !text[start..end].iter().any(|b| matches!(b, b'\n' | b'\r')) {
        let begin = isort::line_begin(text, start);
        let stop = line_end(text, end);
        let shifted = Edit {
            span: Span::new(
                insert.span.start as usize - begin,
                insert.span.end as usize - begin,
            ),
            content: insert.content.clone(),
        };
        let line = apply(&text[begin..stop], &[shifted]);
        let rest = text[end..stop].trim_ascii();
        let comment = std::str::from_utf8(rest);
        if isort::width(&String::from_utf8_lossy(&line)) <= isort::LINE_LENGTH || comment.is_err() {
            return Ok(vec![insert]);
        }
        let mut written: Vec<String> = names
            .iter()
            .map(|other| String::from_utf8_lossy(&text[other.span.range()]).into_owned())
            .collect();
        written.insert(at, name.to_string());
        let indent = String::from_utf8_lossy(&text[begin..start]);
        return Ok(vec![Edit {
            span: Span::new(start, stop),
            content: isort::format_from(
                &statement.module,
                &written,
                comment.ok().filter(|comment| !comment.is_empty()),
                &indent,
                &isort::indent_unit(text),
                newline,
            ),
        }]);
    }
    // One name a line and `)` on a line of its own: a line for the name, before the next
    // name and the comment lines above it, or before `)` (the last name gets its comma).
    let close = end - 1;
    if text[close] != b')'
        || !first_on_line(close)
        || !names
            .iter()
            .all(|other| first_on_line(other.span.start as usize))
    {
        return Ok(vec![insert]);
    }
    let opening = isort::line_begin(text, start);
    if let Some(next) = names.get(at) {
        let line = isort::line_begin(text, next.span.start as usize);
        let indent = String::from_utf8_lossy(&text[line..next.span.start as usize]);
        let mut top = line;
        while top > opening {
            let above = isort::previous_line_start(text, top);
            if above <= opening
                || !text[above..line_end(text, above)]
                    .trim_ascii()
                    .starts_with(b"#")
            {
                break;
            }
            top = above;
        }
        return Ok(vec![Edit {
            span: Span::new(top, top),
            content: format!("{indent}{name},{newline}"),
        }]);
    }
    let last = &names[names.len() - 1];
    let last_start = last.span.start as usize;
    let indent = String::from_utf8_lossy(&text[isort::line_begin(text, last_start)..last_start]);
    let mut edits = Vec::new();
    if text.get(skip_blanks(text, last.span.end as usize, end)) != Some(&b',') {
        edits.push(Edit {
            span: Span::new(last.span.end as usize, last.span.end as usize),
            content: ",".to_string(),
        });
    }
    let line = isort::line_begin(text, close);
    edits.push(Edit {
        span: Span::new(line, line),
        content: format!("{indent}{name},{newline}"),
    });
    Ok(edits)
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
pub(super) fn next_line_start(text: &[u8], end: usize) -> usize {
    match text.get(end) {
        Some(b'\r') if text.get(end + 1) == Some(&b'\n') => end + 2,
        Some(b'\r' | b'\n') => end + 1,
        _ => end,
    }
}

/// The file's line ending: the first one it uses, `\n` when it has none.
pub(super) fn newline_of(text: &[u8]) -> &'static str {
    match text.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(at) if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') => "\r\n",
        Some(at) if text[at] == b'\r' => "\r",
        _ => "\n",
    }
}

/// `edits` with their spans made relative to `origin` (each starts at or after it).
fn shift(edits: &[Edit], origin: u32) -> Vec<Edit> {
    edits
        .iter()
        .map(|edit| Edit {
            span: Span {
                start: edit.span.start - origin,
                end: edit.span.end - origin,
            },
            content: edit.content.clone(),
        })
        .collect()
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

/// The edits that make `m.Name` read `local`, bound by `from <canonical module> import
/// <Canonical> [as local]` (joining a plain import of the canonical module when the block has
/// one; in the `import`'s place when nothing else uses `m`, where the sorter wants it); or why
/// there is no fix. The caller has checked what needs the graph (the module's namespace, who
/// star-imports it) and that no use is assigned.
pub fn module_uses<'t>(
    text: &'t [u8],
    facts: &'t FileFacts,
    uses: &ModuleUses,
    local: &str,
    canonical_module: &str,
    canonical_name: &str,
    first_party: &FirstParty<'t>,
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
    let plain_module_level = plain(statement);
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
    let named = Named::new(canonical_name, local);
    let block = Block::around(text, facts, uses.import, first_party);
    let in_block = |index: usize| block.as_ref().is_some_and(|b| b.entry(index).is_some());
    // A plain `from <canonical module> import ...` that the plain name joins: in the
    // statement's block (one after it when nothing between mentions the name), or before it
    // at module level when the statement is there.
    let joins = (named.alias.is_none() && uses.bound_by.is_none())
        .then(|| {
            (0..facts.imports.len()).find(|&index| {
                let other = &facts.imports[index];
                let before = other.span.end <= statement.span.start;
                // The cheap tests first (see `move_names`).
                index != uses.import
                    && other.kind == ImportKind::From
                    && other.level == 0
                    && other.module == canonical_module
                    && other
                        .names
                        .iter()
                        .all(|name| name.alias.is_none() && name.name != "*")
                    && !text[other.span.range()].contains(&b'\\')
                    && (in_block(index)
                        && (before || !rebound_between(facts, statement, other, &[local]))
                        || plain_module_level && plain(other) && before)
            })
        })
        .flatten();
    let shares_line = || "the statement shares its line with other code".to_string();
    let entry = block.as_ref().and_then(|block| block.entry(uses.import));
    let mut plan = Plan::default();
    // The statement goes: its comment lines above stay.
    let remove = |plan: &mut Plan, edits: &mut Vec<Edit>| match (block.as_deref(), entry) {
        (Some(block), Some(entry)) => {
            plan.remove(
                block,
                Removed {
                    entry,
                    keep_comments: true,
                },
            );
            Some(())
        }
        _ => delete_statement(text, statement).map(|edit| edits.push(edit)),
    };
    // The new name, joined or in a statement of its own, in the statement's block.
    let add = |plan: &mut Plan, edits: &mut Vec<Edit>| -> Result<(), String> {
        if let Some(other) = joins {
            let block = block.as_deref();
            let joined = join_into(text, facts, block, plan, other, canonical_name, first_party);
            edits.extend(joined.map_err(str::to_string)?);
            return Ok(());
        }
        let block = block.as_ref().ok_or_else(shares_line)?;
        insert_new(text, block, plan, canonical_module, &named, first_party);
        Ok(())
    };
    match (uses.bound_by, removable) {
        (Some(_), true) if alone => {
            // A statement that cannot go stays: `m` is then merely unused.
            let _ = remove(&mut plan, &mut edits);
        }
        (Some(_), true) => {
            edits.extend(cut_names(text, statement, &[uses.name]).unwrap_or_default())
        }
        (Some(_), false) => {}
        (None, true) if alone && joins.is_some() => {
            remove(&mut plan, &mut edits).ok_or_else(shares_line)?;
            add(&mut plan, &mut edits)?;
        }
        (None, true) if alone => {
            // The statement becomes the new one: where it is, or moved to its place.
            let inner = vec![Edit {
                span: statement.span,
                content: format!("from {canonical_module} import {}", named.written()),
            }];
            let inner = wrapped(
                text,
                statement,
                inner,
                canonical_module,
                std::slice::from_ref(&named),
            );
            let key = Key::from(
                canonical_module,
                0,
                [(named.name.as_str(), named.alias.as_deref())],
                first_party,
            );
            match (&block, entry) {
                (Some(block), Some(entry)) => {
                    edits.extend(place(text, block, &mut plan, entry, key, inner));
                }
                _ => edits.extend(inner),
            }
        }
        (None, true) => {
            add(&mut plan, &mut edits)?;
            edits.extend(cut_names(text, statement, &[uses.name])?);
        }
        (None, false) => add(&mut plan, &mut edits)?,
    }
    if let Some(block) = &block {
        edits.extend(block.edits(text, &plan));
    }
    ordered(coalesce(text, block.as_deref(), edits))
}

/// The edits that point `from legacy import Alias` (the one name `moving` of
/// `facts.imports[import]`) at the canonical module under the canonical name, and rename every
/// use of `Alias` in the file to it; or why there is none.
pub fn rename_local<'t>(
    text: &'t [u8],
    facts: &'t FileFacts,
    import: usize,
    moving: usize,
    canonical_module: &str,
    canonical_name: &str,
    first_party: &FirstParty<'t>,
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
        first_party,
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
    ordered(edits)
}
