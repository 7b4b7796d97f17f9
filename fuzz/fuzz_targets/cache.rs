//! The fact cache as untrusted input: its decoders on arbitrary bytes, and real facts mutated.
//!
//! The first byte picks a file of the demo repository. Its real facts are encoded as the cache
//! stores them (postcard), then the rest of the input mutates that blob (each 3 bytes flip
//! the bits of one byte at an offset; an input length of 1 mod 3 also truncates it), as a
//! forged cache entry whose checksum an attacker recomputed would. When the mutated blob
//! decodes and the facts pass the check every cached entry must pass (`FileFacts::fits`),
//! the demo is checked with those facts standing for that file, marked as read from the cache:
//! resolution, concepts, every rule, every renderer, and the fix loop. None may panic, and the
//! fix loop must not write from facts that are not the file's own. The rest of the input is
//! also fed to every decoder of the cache's files as they are (`cache::decode_untrusted`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssot_gardener::facts::FileFacts;
use ssot_gardener::walk::{Language, SourceFile, Walk};
use ssot_gardener::{cache, concept, config, fix, python, render, rules};

const CONFIG: &str = include_str!("../../fixtures/demo/ssot.toml");

const DEMO: &[(&str, &[u8])] = &[
    ("chatapp/__init__.py", include_bytes!("../../fixtures/demo/chatapp/__init__.py")),
    ("chatapp/agents/__init__.py", include_bytes!("../../fixtures/demo/chatapp/agents/__init__.py")),
    ("chatapp/agents/bootstrap.py", include_bytes!("../../fixtures/demo/chatapp/agents/bootstrap.py")),
    ("chatapp/agents/events.py", include_bytes!("../../fixtures/demo/chatapp/agents/events.py")),
    ("chatapp/agents/runner.py", include_bytes!("../../fixtures/demo/chatapp/agents/runner.py")),
    ("chatapp/legacy/__init__.py", include_bytes!("../../fixtures/demo/chatapp/legacy/__init__.py")),
    ("chatapp/legacy/connection_manager.py", include_bytes!("../../fixtures/demo/chatapp/legacy/connection_manager.py")),
    ("chatapp/plugins.py", include_bytes!("../../fixtures/demo/chatapp/plugins.py")),
    ("chatapp/routes/__init__.py", include_bytes!("../../fixtures/demo/chatapp/routes/__init__.py")),
    ("chatapp/routes/admin.py", include_bytes!("../../fixtures/demo/chatapp/routes/admin.py")),
    ("chatapp/routes/health.py", include_bytes!("../../fixtures/demo/chatapp/routes/health.py")),
    ("chatapp/routes/ws.py", include_bytes!("../../fixtures/demo/chatapp/routes/ws.py")),
    ("chatapp/services/__init__.py", include_bytes!("../../fixtures/demo/chatapp/services/__init__.py")),
    ("chatapp/services/factory.py", include_bytes!("../../fixtures/demo/chatapp/services/factory.py")),
    ("chatapp/services/notifications.py", include_bytes!("../../fixtures/demo/chatapp/services/notifications.py")),
    ("chatapp/services/presence_hub.py", include_bytes!("../../fixtures/demo/chatapp/services/presence_hub.py")),
    ("chatapp/services/session.py", include_bytes!("../../fixtures/demo/chatapp/services/session.py")),
    ("chatapp/websocket_core/__init__.py", include_bytes!("../../fixtures/demo/chatapp/websocket_core/__init__.py")),
    ("chatapp/websocket_core/heartbeat.py", include_bytes!("../../fixtures/demo/chatapp/websocket_core/heartbeat.py")),
    ("chatapp/websocket_core/manager_compat.py", include_bytes!("../../fixtures/demo/chatapp/websocket_core/manager_compat.py")),
    ("chatapp/websocket_core/modes.py", include_bytes!("../../fixtures/demo/chatapp/websocket_core/modes.py")),
    ("chatapp/websocket_core/unified_manager.py", include_bytes!("../../fixtures/demo/chatapp/websocket_core/unified_manager.py")),
    ("chatapp/websocket_core/websocket_manager.py", include_bytes!("../../fixtures/demo/chatapp/websocket_core/websocket_manager.py")),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    for facts in cache::decode_untrusted(rest) {
        let _ = facts.fits(rest.len() as u64);
    }
    let _ = postcard::from_bytes::<FileFacts>(rest);
    let target = pick as usize % DEMO.len();
    let (_, text) = DEMO[target];
    let mut blob = postcard::to_stdvec(&python::collect(text)).expect("encode");
    for patch in rest.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([patch[0], patch[1]])) % blob.len();
        blob[at] ^= patch[2];
    }
    if rest.len() % 3 == 1 {
        blob.truncate(usize::from(rest[0]) * blob.len() / 256);
    }
    let Ok(forged) = postcard::from_bytes::<FileFacts>(&blob) else {
        return;
    };
    if !forged.fits(text.len() as u64) {
        return;
    }
    let settings = config::parse(&std::env::temp_dir().join("ssot.toml"), CONFIG)
        .expect("the demo's config");
    let files = DEMO
        .iter()
        .enumerate()
        .map(|(index, &(path, text))| {
            let facts = if index == target {
                forged.clone()
            } else {
                python::collect(text)
            };
            let mut file = SourceFile::new(path.to_string(), Language::Python, text.to_vec(), facts);
            file.from_cache = index == target;
            file
        })
        .collect();
    let walk = Walk {
        files,
        ..Walk::default()
    };
    let graph = python::resolve::resolve(walk, &settings.python_roots);
    let Ok(tables) = concept::build(&graph, &settings.concepts) else {
        return;
    };
    let cx = rules::Context {
        graph: &graph,
        settings: &settings,
        tables: &tables,
        unsafe_fixes: true,
    };
    let findings = rules::check(&cx, &rules::Selection::default());
    let summary = render::summary(&graph, &settings, &tables, &findings);
    let mut out = Vec::new();
    render::human(&mut out, &graph, &findings).expect("render");
    render::human_summary(&mut out, &summary).expect("render");
    render::json(&mut out, &graph, &settings, &findings, &summary).expect("render");
    render::sarif(&mut out, &graph, &settings, &findings).expect("render");
    drop(findings);
    drop(tables);
    let Ok(outcome) = fix::fix(graph, &settings, &rules::Selection::default(), true, &|_| true) else {
        return;
    };
    // What the fixer wrote it computed from the file's own facts: the same as fixing the
    // file with fresh facts gives.
    if outcome.originals.contains_key(&target) {
        let fixed = &outcome.graph.files[target];
        assert!(
            python::collect(fixed.text()).errors.len() <= python::collect(text).errors.len(),
            "a fix from forged facts added a syntax error"
        );
    }
});
