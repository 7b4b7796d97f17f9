//! `ssot_gardener::rust::order` against its oracle, rustfmt itself: groups of generated use
//! trees are sorted by `order::compare` and written out, and `rustfmt --check` must find
//! nothing to move, for both style editions (`--edition 2021` sorts names by case, then
//! bytes; `--edition 2024` by the Style Guide's version sort). The names are picked to
//! disagree between the rules: case classes, digits, leading zeros, underscores, `r#`.

use std::path::Path;
use std::process::Command;

use ssot_gardener::rust::order::{self, Style};

use crate::support::Rng;

const NAMES: &[&str] = &[
    "a", "b", "ab", "a_b", "a_", "_a", "__a", "a1", "a2", "a10", "a01", "a001", "x86_64",
    "x86_128", "X86_64", "A", "B", "Ab", "AB", "A_B", "ABC", "Abc", "aBc", "Z", "z", "Z9",
    "r#async", "r#z", "io", "Io", "IO", "io2", "core",
];

/// Names and aliases drawn from [`NAMES`].
trait Names {
    fn name(&mut self) -> &'static str;
    fn aliased(&mut self) -> String;
}

impl Names for Rng {
    fn name(&mut self) -> &'static str {
        NAMES[self.below(NAMES.len())]
    }

    /// `name as alias` (rustfmt drops an alias equal to the name).
    fn aliased(&mut self) -> String {
        let name = self.name();
        let alias = loop {
            let alias = self.name();
            if alias.trim_start_matches("r#") != name.trim_start_matches("r#") {
                break alias;
            }
        };
        format!("{name} as {alias}")
    }
}

/// One use tree as rustfmt prints it: a path of one to three segments, then maybe an alias,
/// a glob or a list of two or three distinct simple elements (sorted as rustfmt prints them).
fn tree(rng: &mut Rng, style: Style) -> String {
    let mut path: Vec<String> = Vec::new();
    match rng.below(12) {
        0 => path.push("self".into()),
        1 => path.push("super".into()),
        2 => path.push("crate".into()),
        3 => path.push("::std".into()),
        _ => {}
    }
    for _ in 0..1 + rng.below(3) {
        path.push(rng.name().to_string());
    }
    let mut text = path.join("::");
    match rng.below(6) {
        0 => {
            path.pop();
            path.push(rng.aliased());
            text = path.join("::");
        }
        1 => text.push_str("::*"),
        2 => {
            let mut elements: Vec<String> = Vec::new();
            if rng.below(3) == 0 {
                elements.push("self".into());
            }
            while elements.len() < 2 + rng.below(2) {
                let element = match rng.below(4) {
                    0 => format!("{}::{}", rng.name(), rng.name()),
                    1 => rng.aliased(),
                    _ => rng.name().to_string(),
                };
                let parsed = parse(&element);
                if !elements.iter().any(|other| parse(other) == parsed) {
                    elements.push(element);
                }
            }
            elements.sort_by(|a, b| order::compare(&parse(a), &parse(b), style));
            text.push_str(&format!("::{{{}}}", elements.join(", ")));
        }
        _ => {}
    }
    text
}

fn parse(text: &str) -> order::Tree {
    order::Tree::parse(text, true).unwrap_or_else(|| panic!("no use tree: {text}"))
}

fn rustfmt(edition: &str, source: &str, dir: &Path) -> String {
    rustfmt_with(edition, 100, source, dir)
}

fn rustfmt_with(edition: &str, max_width: usize, source: &str, dir: &Path) -> String {
    let path = dir.join(format!("order_{edition}_{max_width}.rs"));
    std::fs::write(&path, source).expect("write");
    let out = Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout", "--quiet"])
        .args(["--config", &format!("max_width={max_width}")])
        .arg(&path)
        .output()
        .expect("rustfmt is part of the toolchain (rustup component add rustfmt)");
    assert!(
        out.status.success(),
        "rustfmt failed on {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn agrees_with_rustfmt(style: Style, edition: &str, seed: u64) {
    if !crate::support::rustfmt_available() {
        return;
    }
    let mut rng = Rng(seed);
    let mut source = String::new();
    let mut items = 0;
    for _ in 0..300 {
        let mut group: Vec<String> = Vec::new();
        while group.len() < 2 + rng.below(6) {
            let candidate = tree(&mut rng, style);
            if !group.iter().any(|other| parse(other) == parse(&candidate)) {
                group.push(candidate);
            }
        }
        // Stable, as rustfmt's sort: equal trees keep their order.
        group.sort_by(|a, b| order::compare(&parse(a), &parse(b), style));
        for tree in &group {
            source.push_str(&format!("use {tree};\n"));
        }
        source.push('\n');
        items += group.len();
    }
    source.push_str("fn main() {}\n");
    let dir = tempfile::tempdir().expect("temporary directory");
    let formatted = rustfmt(edition, &source, dir.path());
    if formatted != source {
        let (ours, theirs): (Vec<&str>, Vec<&str>) =
            (source.lines().collect(), formatted.lines().collect());
        let at = ours
            .iter()
            .zip(&theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        let from = ours[..at]
            .iter()
            .rposition(|line| line.is_empty())
            .map_or(0, |i| i + 1);
        let to = (at + 8).min(ours.len()).min(theirs.len());
        panic!(
            "rustfmt --edition {edition} sorts {items} items otherwise; from line {}:\nours:\n{}\nrustfmt:\n{}",
            from + 1,
            ours[from..to].join("\n"),
            theirs[from..to].join("\n")
        );
    }
}

#[test]
fn the_classic_order_is_rustfmts() {
    agrees_with_rustfmt(Style::Classic, "2021", 0x5eed_0001);
}

#[test]
fn the_2024_order_is_rustfmts() {
    agrees_with_rustfmt(Style::V2024, "2024", 0x5eed_2024);
}

/// `ssot_gardener::rust::edit::use_layout` against rustfmt: random `use` items with a list
/// (heads, indents, element counts and lengths around the line limits) are formatted by
/// rustfmt, and the layout of each item's elements must give rustfmt's text back.
#[test]
fn the_list_layout_is_rustfmts() {
    list_layout_agrees("2021", 100, 0x1a70_0075);
    list_layout_agrees("2024", 100, 0x1a70_2024);
    // regex, memchr, aho-corasick and others set `max_width = 79`.
    list_layout_agrees("2021", 79, 0x1a70_0079);
}

fn list_layout_agrees(edition: &str, width: usize, seed: u64) {
    if !crate::support::rustfmt_available() {
        return;
    }
    let mut rng = Rng(seed);
    let heads = [
        "use crate::",
        "pub use crate::some::module::",
        "pub(crate) use super::x::",
        "use serde_json::",
    ];
    let mut source = String::new();
    for item in 0..400 {
        let depth = rng.below(3);
        let head = heads[rng.below(heads.len())];
        let most = if rng.below(2) == 0 { 6 } else { 30 };
        let count = 2 + rng.below(most);
        let mut elements: Vec<String> = Vec::new();
        while elements.len() < count {
            let longest = if rng.below(4) == 0 { 40 } else { 14 };
            let len = 1 + rng.below(longest);
            // (`e` first: never a keyword.)
            let mut element: String = std::iter::once('e')
                .chain((1..len).map(|_| (b'a' + rng.below(26) as u8) as char))
                .collect();
            // Now and then a path, or a short list inside the list.
            match rng.below(12) {
                0 => element.push_str("::Inner"),
                1 => element.push_str("::{Aa, Bb}"),
                _ => {}
            }
            if !elements.contains(&element) {
                elements.push(element);
            }
        }
        elements.sort();
        for level in 0..depth {
            source.push_str(&format!("{}mod m{item}_{level} {{\n", "    ".repeat(level)));
        }
        source.push_str(&format!(
            "{}{head}{{{}}};\n",
            "    ".repeat(depth),
            elements.join(", ")
        ));
        for level in (0..depth).rev() {
            source.push_str(&format!("{}}}\n", "    ".repeat(level)));
        }
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let formatted = rustfmt_with(edition, width, &source, dir.path());
    let lines: Vec<&str> = formatted.lines().collect();
    let mut checked = 0;
    let mut wrapped = 0;
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        let trimmed = line.trim_start();
        if !(trimmed.starts_with("use ") || trimmed.starts_with("pub")) {
            at += 1;
            continue;
        }
        let indent = &line[..line.len() - trimmed.len()];
        let mut end = at;
        while !lines[end].ends_with("};") {
            end += 1;
        }
        let item = lines[at..=end].join("\n");
        let item = &item[indent.len()..];
        let open = item.find('{').expect("a list");
        let mut elements: Vec<&str> = Vec::new();
        let (mut depth, mut from) = (0, open + 1);
        for (at, b) in item.bytes().enumerate().take(item.len() - 2).skip(open + 1) {
            match b {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => {
                    elements.push(item[from..at].trim());
                    from = at + 1;
                }
                _ => {}
            }
        }
        elements.push(item[from..item.len() - 2].trim());
        elements.retain(|element| !element.is_empty());
        let laid = ssot_gardener::rust::edit::use_layout(indent, &item[..open], &elements, width);
        assert_eq!(
            laid, item,
            "rustfmt --edition {edition} lays this item out otherwise"
        );
        checked += 1;
        wrapped += usize::from(end > at);
        at = end + 1;
    }
    assert_eq!(checked, 400);
    assert!(wrapped > 100 && wrapped < 380, "{wrapped} of 400 wrapped");
}
