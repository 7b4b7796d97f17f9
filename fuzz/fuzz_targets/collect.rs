//! The Python collector on arbitrary bytes: never panics, spans stay inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let facts = ssot_gardener::python::collect(data);
    let len = data.len() as u32;
    for import in &facts.imports {
        assert!(import.span.start <= import.span.end && import.span.end <= len);
        for name in &import.names {
            assert!(name.span.end <= len);
        }
    }
    for definition in &facts.definitions {
        assert!(definition.span.end <= len && definition.name_span.end <= len);
    }
    for call in &facts.calls {
        assert!(call.callee.start <= call.callee.end && call.callee.end <= len);
    }
    for reference in &facts.string_refs {
        assert!(reference.span.end <= len);
    }
    for error in &facts.errors {
        assert!(error.span.end <= len);
    }
});
