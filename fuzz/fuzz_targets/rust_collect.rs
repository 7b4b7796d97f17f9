//! The Rust collector (its fast path and the syn path it hands files to) on arbitrary bytes:
//! never panics, spans stay inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let facts = ssot_gardener::rust::collect(data);
    let len = data.len() as u32;
    let inside = |span: &ssot_gardener::facts::Span| span.start <= span.end && span.end <= len;
    for import in &facts.imports {
        assert!(inside(&import.span) && inside(&import.module_span));
        assert!(import.names.iter().all(|name| inside(&name.span)));
    }
    for definition in &facts.definitions {
        assert!(inside(&definition.span) && inside(&definition.name_span));
    }
    for module in &facts.modules {
        assert!(inside(&module.span) && inside(&module.name_span));
    }
    assert!(facts.string_refs.iter().all(|r| inside(&r.span)));
    assert!(facts.errors.iter().all(|e| inside(&e.span)));
    assert!(facts.fits(data.len() as u64));
});
