//! `ssot-gardener init`: a starter `ssot.toml` whose `python-roots` and `rust-roots` fit the
//! repository's layout, with one commented `[[concept]]` block to fill in.

use std::path::Path;

/// Directories never taken for source roots.
const NOT_SOURCE: [&str; 12] = [
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "build",
    "dist",
    "target",
    "docs",
    "tests",
    "test",
    ".ssot_cache",
];

/// The `python-roots` and `rust-roots` a starter `ssot.toml` gets (as written: `.` for the
/// root).
pub fn guess_roots(root: &Path) -> (Vec<String>, Vec<String>) {
    (python_roots(root), rust_roots(root))
}

/// The text of a starter `ssot.toml` for the repository at `root`, with `top` (the family
/// `audit` ranks first) as its commented `[[concept]]` block.
pub fn starter_config(root: &Path, top: Option<&crate::audit::Group>) -> String {
    let roots = python_roots(root);
    let roots = roots
        .iter()
        .map(|root| format!("\"{root}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let rust = rust_roots(root);
    let rust = if rust.is_empty() {
        "# Directories that hold Cargo workspaces or packages (no Cargo.toml found).\n# rust-roots = [\".\"]".to_string()
    } else {
        format!(
            "# Directories that hold Cargo workspaces or packages (where a Cargo.toml is).\nrust-roots = [{}]",
            rust.iter()
                .map(|root| format!("\"{root}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let concept = match top {
        Some(group) => format!(
            "# One block per concept that must exist once. `ssot-gardener audit` ranked this one\n\
             # first; check it and uncomment it (`ssot-gardener audit --emit-config --top 5` prints\n\
             # more). The bundled reference manager (`ssot-gardener reference`) shows the shape\n\
             # to aim for.\n#\n{}",
            crate::audit::concept_block(group, "# ")
        ),
        None => TEMPLATE.to_string(),
    };
    format!(
        r#"# ssot-gardener configuration (see its README, "Configuration").
# Every key is described in ssot.schema.json (`ssot-gardener schema`).

[project]
# Directories that hold top-level Python packages (guessed from the layout).
python-roots = [{roots}]
{rust}
# Paths to leave out, on top of .gitignore (which is always honoured).
exclude = []
# Rule codes to silence per path glob, e.g. test doubles:
# per-path-ignores = {{ "tests/**" = ["SSOT001"] }}
# Accepted findings (`ssot-gardener baseline` writes it): `check` then reports new ones only.
# baseline = "ssot-baseline.json"

{concept}"#
    )
}

/// `.` when the repository root has a `Cargo.toml` (a workspace or a package), else each
/// top-level directory that has one.
fn rust_roots(root: &Path) -> Vec<String> {
    if root.join("Cargo.toml").is_file() {
        return vec![".".to_string()];
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut roots: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !NOT_SOURCE.contains(&name.as_str()) && !name.starts_with('.'))
        .collect();
    roots.sort();
    roots
}

/// `src` when packages live under it (a "src layout"), `.` when they live at the top, both
/// when both hold packages; `.` when nothing is found.
fn python_roots(root: &Path) -> Vec<String> {
    let mut roots = Vec::new();
    if holds_packages(root) {
        roots.push(".".to_string());
    }
    for layout in ["src", "lib", "python"] {
        let dir = root.join(layout);
        if dir.is_dir() && holds_packages(&dir) {
            roots.push(layout.to_string());
        }
    }
    if roots.is_empty() {
        roots.push(".".to_string());
    }
    roots
}

/// Does `dir` directly hold a Python package (a directory with `__init__.py`) or module
/// (other than setup scripts)?
fn holds_packages(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            !NOT_SOURCE.contains(&name.as_str())
                && !name.starts_with('.')
                && path.join("__init__.py").is_file()
        } else {
            name.ends_with(".py")
                && !matches!(name.as_str(), "setup.py" | "conftest.py" | "noxfile.py")
        }
    })
}

/// The commented block of a repository where `audit` finds nothing.
const TEMPLATE: &str = r#"# One block per concept that must exist once. Fill it in and uncomment it; the
# bundled reference manager (`ssot-gardener reference`) shows the shape to aim for. A Rust
# concept names its type by crate path: canonical = "events::input::Event".
#
# [[concept]]
# name = "websocket-manager"
# canonical = "mypackage.websocket_manager.WebSocketManager"   # the one definition
# implementations = ["*WebSocketManager", "*WebSocket*Manager"] # class names of copies
# factories = ["create_*websocket_manager*", "get_*websocket_manager*"]
# allowed-factories = ["mypackage.websocket_manager.get_websocket_manager"]
# similarity = 0.6   # shared public methods that mark an unnamed copy
# tests = "report"   # or "allow": test doubles in test files are fine
"#;
