//! Shared by the modules that drive the real binary: running it with a time limit, building
//! throw-away repositories, and reading the `graph --format json` output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_ssot-gardener");

/// The crate root, where `fixtures/` lives (cargo's working directory for tests).
pub const CRATE_ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A run longer than this is a hang (a FIFO opened, a loop followed round): the test fails
/// instead of blocking the suite. The slowest case (a 50 MB file) takes a few seconds.
const TIME_LIMIT: Duration = Duration::from_secs(180);

/// Whether tests should rewrite their snapshots instead of comparing against them.
pub fn bless() -> bool {
    std::env::var_os("SSOT_BLESS").is_some_and(|value| value == "1")
}

pub struct Run {
    /// `None` when the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// The stdout as JSON, after checking the run succeeded without a panic.
    pub fn json(&self) -> Value {
        self.assert_clean_exit(0);
        serde_json::from_slice(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}",
                String::from_utf8_lossy(&self.stdout)
            )
        })
    }

    pub fn assert_clean_exit(&self, code: i32) {
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            self.stderr
        );
        assert_eq!(
            self.code,
            Some(code),
            "exit code (stderr:\n{})",
            self.stderr
        );
    }
}

/// Runs the binary in `cwd` with `args`, failing the test if it runs longer than the limit.
pub fn run(cwd: &Path, args: &[&str]) -> Run {
    let (mut run, stdout) = run_with(cwd, args, |stdout| {
        let mut bytes = Vec::new();
        stdout
            .read_to_end(&mut bytes)
            .expect("read the binary's stdout");
        bytes
    });
    run.stdout = stdout;
    run
}

/// Like [`run`], but hands stdout to `read` as a stream (for outputs too big to hold in
/// memory); the returned [`Run`] has an empty `stdout`.
pub fn run_with<T: Send + 'static>(
    cwd: &Path,
    args: &[&str],
    read: impl FnOnce(&mut std::process::ChildStdout) -> T + Send + 'static,
) -> (Run, T) {
    run_inner(cwd, args, None, read)
}

/// [`run_with`], with `input` written to the binary's stdin (else stdin is empty).
fn run_inner<T: Send + 'static>(
    cwd: &Path,
    args: &[&str],
    input: Option<Vec<u8>>,
    read: impl FnOnce(&mut std::process::ChildStdout) -> T + Send + 'static,
) -> (Run, T) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ssot-gardener");
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // On its own thread: the child may write a full pipe before it reads all its input.
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&input);
        });
    }
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Both pipes are drained on their own threads so a full pipe never stalls the child.
    let stdout_thread = std::thread::spawn(move || read(&mut stdout));
    let stderr_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ssot-gardener") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ssot-gardener {args:?} in {} ran longer than {TIME_LIMIT:?}",
                cwd.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let value = stdout_thread.join().expect("stdout reader");
    let stderr = stderr_thread.join().expect("stderr reader");
    (
        Run {
            code: status.code(),
            stdout: Vec::new(),
            stderr,
        },
        value,
    )
}

/// Runs the binary in `cwd` with `args` and `input` on its standard input.
pub fn run_stdin(cwd: &Path, args: &[&str], input: &[u8]) -> Run {
    let (mut run, stdout) = run_inner(cwd, args, Some(input.to_vec()), |stdout| {
        let mut bytes = Vec::new();
        stdout
            .read_to_end(&mut bytes)
            .expect("read the binary's stdout");
        bytes
    });
    run.stdout = stdout;
    run
}

/// Writes `files` (path relative to `root`, contents) creating parent directories.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (path, contents) in files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(&path, contents).expect("write file");
    }
}

/// A fresh temporary directory holding an `ssot.toml` with `python-roots = ["."]` plus `extra`
/// lines in `[project]`.
pub fn temp_repo(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let config = format!("[project]\npython-roots = [\".\"]\n{extra}");
    std::fs::write(dir.path().join("ssot.toml"), config).expect("write ssot.toml");
    dir
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new(CRATE_ROOT).join(path)
}

/// The module entry with this `path` in a `graph --format json` document.
pub fn module<'a>(graph: &'a Value, path: &str) -> Option<&'a Value> {
    graph["modules"]
        .as_array()
        .expect("modules is an array")
        .iter()
        .find(|module| module["path"] == path)
}

/// The `path`s of every module, in output order.
pub fn module_paths(graph: &Value) -> Vec<String> {
    graph["modules"]
        .as_array()
        .expect("modules is an array")
        .iter()
        .map(|module| {
            module["path"]
                .as_str()
                .expect("path is a string")
                .to_string()
        })
        .collect()
}

/// The skipped entry's reason for `path`.
pub fn skipped_reason<'a>(graph: &'a Value, path: &str) -> Option<&'a str> {
    graph["skipped"]
        .as_array()
        .expect("skipped is an array")
        .iter()
        .find(|skipped| skipped["path"] == path)
        .and_then(|skipped| skipped["reason"].as_str())
}

/// An import entry's verdict in the notation of the fixtures' CASE.md: `resolved -> a.b:C`,
/// `resolved -> {x:A, y:A}` for several origins, `missing-name`, `external`, ...
pub fn verdict(import: &Value) -> String {
    let resolution = &import["resolution"];
    let verdict = resolution["verdict"].as_str().unwrap_or("unresolved");
    if verdict != "resolved" {
        return verdict.to_string();
    }
    let origins: Vec<String> = resolution["origins"]
        .as_array()
        .expect("origins is an array")
        .iter()
        .map(|origin| match origin["symbol"].as_str() {
            Some(symbol) => format!("{}:{symbol}", origin["module"].as_str().unwrap_or("?")),
            None => origin["module"].as_str().unwrap_or("?").to_string(),
        })
        .collect();
    match origins.as_slice() {
        [one] => format!("resolved -> {one}"),
        many => format!("resolved -> {{{}}}", many.join(", ")),
    }
}

/// `(name as written, verdict)` for every import entry of the module at `path`.
pub fn verdicts(graph: &Value, path: &str) -> Vec<(String, String)> {
    let module = module(graph, path).unwrap_or_else(|| panic!("no module {path} in the graph"));
    module["imports"]
        .as_array()
        .expect("imports is an array")
        .iter()
        .map(|import| {
            let written = match import["name"].as_str() {
                Some(name) => format!("{}:{name}", import["module"].as_str().unwrap_or("")),
                None => import["module"].as_str().unwrap_or("").to_string(),
            };
            (written, verdict(import))
        })
        .collect()
}

/// Copies the directory `from` (files and subdirectories) to `to`, which is created.
pub fn copy_dir(from: &Path, to: &Path) {
    let mut pending = vec![from.to_path_buf()];
    std::fs::create_dir_all(to).expect("mkdir");
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read directory") {
            let path = entry.expect("entry").path();
            let target = to.join(path.strip_prefix(from).expect("inside"));
            if path.is_dir() {
                std::fs::create_dir_all(&target).expect("mkdir");
                pending.push(path);
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }
}

/// The Python packages the tests use (`tests/requirements.txt`,
/// `reference/requirements-test.txt`), by import name.
const TEST_PYTHON_MODULES: &str = "import jsonschema, ruff, websockets, pygls";

/// `python3` with the tests' Python packages importable: the test suite sets itself up. On
/// first use in a test process, when `python3` cannot import them, the pinned requirements
/// are installed with pip into `target/test-python/` (`--target`: nothing outside the build
/// directory is touched), which is then on `PYTHONPATH`. Where they are already installed
/// (CI's `.ci/run` installs them), nothing is downloaded.
pub fn python3() -> Command {
    static READY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let ready = READY.get_or_init(|| {
        let dir = Path::new(CRATE_ROOT).join("target/test-python");
        let importable = |dir: &Path| {
            Command::new("python3")
                .args(["-c", TEST_PYTHON_MODULES])
                .env("PYTHONPATH", python_path(dir))
                .output()
                .is_ok_and(|output| output.status.success())
        };
        if importable(&dir) {
            return Ok(dir);
        }
        let installed = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("--target")
            .arg(&dir)
            .args(["-r", "tests/requirements.txt"])
            .args(["-r", "reference/requirements-test.txt"])
            .current_dir(CRATE_ROOT)
            .output()
            .map_err(|error| format!("cannot run python3: {error}"))?;
        if !installed.status.success() || !importable(&dir) {
            return Err(format!(
                "the tests' Python packages are missing and `python3 -m pip install --target \
                 target/test-python -r tests/requirements.txt -r \
                 reference/requirements-test.txt` failed:\n{}",
                String::from_utf8_lossy(&installed.stderr)
            ));
        }
        Ok(dir)
    });
    match ready {
        Ok(dir) => {
            let mut command = Command::new("python3");
            command.env("PYTHONPATH", python_path(dir));
            command
        }
        Err(message) => panic!("{message}"),
    }
}

/// `dir` before whatever `PYTHONPATH` already holds.
fn python_path(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// Compares `actual` with the snapshot file at `path` (relative to the crate root), or
/// rewrites it under `SSOT_BLESS=1`.
pub fn assert_snapshot(path: &str, actual: &str) {
    let file = fixture(path);
    if bless() {
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("create the snapshot's directory");
        }
        std::fs::write(&file, actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("cannot read snapshot {path} ({error}): bless it"));
    assert!(
        expected == actual,
        "{path} differs; if the new output is right, rerun with SSOT_BLESS=1\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// Where tests leave files for a person to look at (screenshots).
pub fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(CRATE_ROOT).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir.join(name)
}

/// A small deterministic generator (xorshift), so failures reproduce (no dependency: a test
/// must not vary between runs).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Whether `rustfmt` (the toolchain's, in rustup's default profile) runs here. The checks
/// that take it as their oracle are skipped, with a warning on stderr, where it does not.
pub fn rustfmt_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let ok = Command::new("rustfmt")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
        if !ok {
            eprintln!("warning: rustfmt is not installed: its oracle checks are skipped");
        }
        ok
    })
}
