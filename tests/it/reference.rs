//! The bundled reference manager (`reference/websocket_manager.py`) proves its promises with
//! its own Python suite; this runs it. Its test dependency (`reference/requirements-test.txt`)
//! is installed by the suite when missing (`support::python3`); the end-to-end test fails,
//! never skips, without it. `SSOT_PYTHON` picks another interpreter, taken as it is.

use std::process::Command;

#[test]
fn reference_module_tests_pass() {
    // `SSOT_PYTHON` is taken as it is; the default `python3` gets the tests' packages.
    let python = std::env::var("SSOT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut command = match std::env::var_os("SSOT_PYTHON") {
        Some(_) => Command::new(&python),
        None => crate::support::python3(),
    };
    let output = command
        .args(["-m", "unittest", "discover"])
        .args(["-s", "reference/tests", "-t", "."])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // No __pycache__ left in the source tree by the test run.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|error| panic!("cannot run `{python}`: {error}"));
    assert!(
        output.status.success(),
        "the reference manager's Python tests failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
