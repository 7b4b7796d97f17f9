//! The Rust `use` editor on arbitrary bytes: every leaf of every `use` item rewritten with
//! each placement (a new item where rustfmt sorts it, a drop, a merge into another item)
//! never panics, gives sorted edits inside the text that do not overlap, and the edited text
//! can be collected again; rustfmt's order of the trees is a total order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssot_gardener::rust::edit::{Order, Placement, rewrite_leaf};
use ssot_gardener::rust::order::{Tree, compare};

fuzz_target!(|data: &[u8]| {
    let facts = ssot_gardener::rust::collect(data);
    let imports = facts.imports.len().min(6);
    for import in 0..imports {
        for leaf in 0..facts.imports[import].names.len().min(3) {
            let local = facts.imports[import].names[leaf]
                .bound_name(facts.imports[import].kind)
                .to_string();
            let mut placements = vec![Placement::New, Placement::Drop];
            placements.extend((0..imports).filter(|&k| k != import).take(2).map(Placement::Merge));
            for placement in placements {
                for edition in ["2021", "2024"] {
                    let Ok(edits) = rewrite_leaf(
                        data,
                        &facts,
                        import,
                        leaf,
                        "crate::e::Event",
                        &local,
                        placement,
                        Order::of_edition(edition),
                    ) else {
                        continue;
                    };
                    for pair in edits.windows(2) {
                        assert!(pair[0].span.end <= pair[1].span.start);
                    }
                    assert!(edits.iter().all(|edit| edit.span.end as usize <= data.len()));
                    let fixed = ssot_gardener::python::edit::apply(data, &edits);
                    let _ = ssot_gardener::rust::collect(&fixed);
                }
            }
        }
    }
    // Trees from the text's lines: a total order (antisymmetric, reflexive).
    let text = String::from_utf8_lossy(data);
    let trees: Vec<Tree> = text
        .lines()
        .take(8)
        .filter_map(|line| Tree::parse(line, true))
        .collect();
    for style in [
        ssot_gardener::rust::order::Style::Classic,
        ssot_gardener::rust::order::Style::V2024,
    ] {
        for a in &trees {
            assert_eq!(compare(a, a, style), std::cmp::Ordering::Equal);
            for b in &trees {
                assert_eq!(compare(a, b, style), compare(b, a, style).reverse());
            }
        }
    }
});
