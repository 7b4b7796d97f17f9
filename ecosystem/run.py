#!/usr/bin/env python3.11
"""Ecosystem check: run ssot-gardener on real projects from PyPI and prove its fixes break nothing.

For each project of projects.toml: fetch the pinned sdist, unpack it, make a venv with the
project's pinned dependencies (never the project itself, so the tree is what gets imported),
write an ssot.toml declaring one concept, then on a fresh copy of the tree run `check`, `fix`,
`fix --unsafe-fixes` and `fix` again, and compare before and after each stage: modules that
import (each in a fresh interpreter), files that compile, ruff's I001 count, and the project's
own test suite. Results go to ecosystem/results.json and docs/ecosystem.md.

Standard library only; python3.11. See ecosystem/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
DOWNLOADS = WORK / "downloads"
PROJECTS = HERE / "projects.toml"
VERDICTS = HERE / "verdicts.toml"
RESULTS = HERE / "results.json"
RESULTS_FALLBACK = HERE / "results-fallback.json"   # the run with --new-keys off
NOTES = HERE / "notes.md"
DOC = REPO / "docs" / "ecosystem.md"
DEFAULT_BIN = REPO / "target" / "release" / "ssot-gardener"

# Per-concept policy keys of DESIGN.md §3 that a binary may not know yet, in the order they are
# dropped when it rejects them. Their fallbacks: see `render_config`.
NEW_KEYS = ("public", "constructible", "ignore", "relative")
# Directories that tests and interpreters leave behind; never part of a tree's identity.
ARTIFACT_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ssot_cache", ".mypy_cache", ".ruff_cache"}
SAMPLE_SIZE = 10
IMPORT_TIMEOUT = 60
TEST_TIMEOUT = 420
# `python -c` with the module name as argv[1]: import it, print where it came from.
IMPORT_SNIPPET = (
    "import importlib, sys\n"
    "m = importlib.import_module(sys.argv[1])\n"
    "print('\\n__file__=' + str(getattr(m, '__file__', None)))\n"
)
TEST_COUNT_WORDS = ("passed", "failed", "errors", "error", "skipped", "xfailed", "xpassed", "deselected")


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Project:
    name: str
    version: str
    roots: list[str]
    packages: list[str]
    deps: list[str]
    test_deps: list[str]
    test_args: list[str]
    why: str
    concept: dict
    ssot: dict

    @property
    def has_tests(self) -> bool:
        return bool(self.test_deps)

    @property
    def dir(self) -> Path:
        return WORK / self.name


@dataclass
class TestResult:
    rc: int | None
    counts: dict[str, int]
    failed: list[str]
    summary: str
    seconds: float

    def key(self) -> tuple:
        """What must be equal before and after: the counts and which tests failed."""
        return (tuple(sorted(self.counts.items())), tuple(sorted(self.failed)), self.rc)

    def short(self) -> str:
        if self.rc is None:
            return self.summary
        c = self.counts
        parts = [f"{c.get('passed', 0)} passed", f"{c.get('failed', 0)} failed"]
        if c.get("errors", 0):
            parts.append(f"{c['errors']} errors")
        if c.get("skipped", 0):
            parts.append(f"{c['skipped']} skipped")
        return ", ".join(parts)


@dataclass
class Measurement:
    """The state of a tree at one stage."""

    stage: str
    imports_ok: list[str] = field(default_factory=list)
    imports_failed: dict[str, str] = field(default_factory=dict)
    shadowed: dict[str, str] = field(default_factory=dict)   # module -> __file__ outside the tree
    sample_file: str = ""                                    # one module's __file__, printed once
    compiled: int = 0
    not_compiling: dict[str, str] = field(default_factory=dict)
    i001_isolated: int | None = None
    i001_own: int | None = None                              # None: no ruff config of its own
    i001_files: dict[str, int] = field(default_factory=dict)  # isolated count per file
    i001_own_files: dict[str, int] = field(default_factory=dict)
    tests: TestResult | None = None
    reused_from: str | None = None                           # tree identical to that stage
    seconds: float = 0.0


@dataclass
class FixRun:
    stage: str
    command: list[str]
    rc: int
    changed: list[str]
    report: str          # the tail of what fix printed
    seconds: float


@dataclass
class Failure:
    kind: str            # import | compile | i001 | tests | idempotence | tool | shadowing
    stage: str
    where: str
    detail: str
    caused_by: list[str] = field(default_factory=list)   # files the stage changed that are implicated
    diff: str = ""


@dataclass
class ProjectResult:
    name: str
    version: str
    concept: str
    canonical: str
    why: str
    binary: str
    config: str = ""
    dropped_keys: list[str] = field(default_factory=list)
    modules: int = 0
    findings_total: int = 0
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    fixable: int = 0
    samples: list[dict] = field(default_factory=list)
    fixes: list[FixRun] = field(default_factory=list)
    second_fix: list[FixRun] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Small helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd: list, *, cwd: Path | None = None, env: dict | None = None, timeout: float | None = None,
        check: bool = False, input: str | None = None) -> subprocess.CompletedProcess:
    """Run a command in its own process group (killed whole on timeout), capturing its output."""
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(cmd, timeout, out, err) from None
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{err[-3000:]}")
    return result


def tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def walk_files(tree: Path):
    """Every file of a tree, artifacts left out, sorted."""
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in ARTIFACT_DIRS)
        for f in sorted(filenames):
            if not f.endswith(".pyc"):
                yield Path(dirpath) / f


def tree_hashes(tree: Path) -> dict[str, str]:
    return {p.relative_to(tree).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in walk_files(tree)}


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(*ARTIFACT_DIRS))


def python_path(p: Project, tree: Path) -> str:
    return os.pathsep.join(str(tree / r) for r in p.roots)


def clean_env(p: Project, tree: Path, stage: str) -> dict:
    """The environment of every import check and test run: the tree first on sys.path, and
    bytecode cached outside the tree in a directory of the stage's own (so no .pyc of one stage
    can be taken for a source of another, whatever the timestamps)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONPATH=python_path(p, tree), PYTHONPYCACHEPREFIX=str(p.dir / "pycache" / stage),
               PYTHONNOUSERSITE="1", PYTHONHASHSEED="0", NO_COLOR="1", TERM="dumb")
    return env


def load_projects() -> list[Project]:
    raw = tomllib.loads(PROJECTS.read_text())
    out = []
    for p in raw["project"]:
        out.append(Project(name=p["name"], version=p["version"], roots=p.get("roots", ["."]),
                           packages=p["packages"], deps=p.get("deps", []),
                           test_deps=p.get("test-deps", []), test_args=p.get("test-args", []),
                           why=" ".join(p.get("why", "").split()), concept=p["concept"],
                           ssot=p.get("ssot", {})))
    return out


# ---------------------------------------------------------------------------------------------
# Step 0: the binary


def install_binary() -> tuple[Path, str]:
    """Copy $SSOT_BIN (built if it is the default and missing) so a rebuild cannot disturb a run."""
    src = Path(os.environ.get("SSOT_BIN", DEFAULT_BIN))
    if not src.exists():
        if src != DEFAULT_BIN:
            sys.exit(f"SSOT_BIN={src} does not exist")
        log("building ssot-gardener (cargo build --release) ...")
        run(["cargo", "build", "--release"], cwd=REPO, check=True)
    WORK.mkdir(parents=True, exist_ok=True)
    dst = WORK / "ssot-gardener"
    tmp = dst.with_suffix(".tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)
    version = run([dst, "--version"]).stdout.strip()
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()[:12]
    return dst, f"{version} (sha256 {digest}, from {src})"


# ---------------------------------------------------------------------------------------------
# Step 1: fetch and unpack


def find_sdist(p: Project) -> Path | None:
    for f in sorted(DOWNLOADS.glob("*")):
        m = re.fullmatch(r"(.+)-([^-]+)\.(tar\.gz|zip)", f.name)
        if m and normalise(m.group(1)) == normalise(p.name) and m.group(2) == p.version:
            return f
    return None


def fetch_sdist(p: Project) -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    found = find_sdist(p)
    if found:
        return found
    log(f"  pip download {p.name}=={p.version}")
    run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
         f"{p.name}=={p.version}", "-d", DOWNLOADS], check=True, timeout=900)
    found = find_sdist(p)
    if not found:
        raise RuntimeError(f"pip download left no sdist of {p.name}=={p.version} in {DOWNLOADS}")
    return found


def unpack(p: Project, sdist: Path) -> Path:
    """The sdist's top directory, unpacked once into .work/<name>/pristine (never modified)."""
    pristine = p.dir / "pristine"
    stamp = p.dir / "pristine.stamp"
    if pristine.is_dir() and stamp.exists() and stamp.read_text() == sdist.name:
        return pristine
    if pristine.exists():
        shutil.rmtree(pristine)
    staging = p.dir / "unpack.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if sdist.name.endswith(".zip"):
        shutil.unpack_archive(sdist, staging)
    else:
        with tarfile.open(sdist) as tar:
            tar.extractall(staging, filter="data")
    (top,) = list(staging.iterdir())
    top.rename(pristine)
    shutil.rmtree(staging)
    stamp.write_text(sdist.name)
    return pristine


# ---------------------------------------------------------------------------------------------
# Step 3: the venv


def ensure_venv(p: Project, with_tests: bool) -> Path:
    """.work/<name>/.venv with the pinned deps (and test deps); reused while the pins match."""
    venv = p.dir / ".venv"
    py = venv / "bin" / "python"
    stamp = venv / "ecosystem.json"
    state = json.loads(stamp.read_text()) if stamp.exists() and py.exists() else None
    if state is None or state.get("deps") != p.deps or state.get("python") != sys.version:
        if venv.exists():
            shutil.rmtree(venv)
        log(f"  venv {venv.relative_to(HERE)}")
        run([sys.executable, "-m", "venv", venv], check=True)
        if p.deps:
            run([py, "-m", "pip", "install", "-q", *p.deps], check=True, timeout=900)
        state = {"deps": p.deps, "test_deps": [], "python": sys.version}
        stamp.write_text(json.dumps(state))
    if with_tests and p.test_deps and state.get("test_deps") != p.test_deps:
        log(f"  test deps: {' '.join(p.test_deps)}")
        run([py, "-m", "pip", "install", "-q", *p.test_deps], check=True, timeout=900)
        state["test_deps"] = p.test_deps
        stamp.write_text(json.dumps(state))
    # The project must not be installed: the tree is what gets imported.
    shown = run([py, "-m", "pip", "show", "-q", p.name])
    if shown.returncode == 0:
        run([py, "-m", "pip", "uninstall", "-y", "-q", p.name], check=True)
    return py


# ---------------------------------------------------------------------------------------------
# Step 2: the configuration


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def render_config(p: Project, dropped: set[str], why_dropped: str = "this binary rejects the key") -> str:
    """The ssot.toml of the project. A dropped key stays as a comment and gets its fallback:

    - `constructible = true`  -> SSOT008 in per-path-ignores "**" (the concept is the only one);
                                 binaries that know the key also stop calling subclasses of a
                                 constructible class duplicates, which the fallback cannot say
    - `ignore = [codes]`      -> those codes in per-path-ignores "**"
    - `public = [paths]`      -> nothing equivalent: imports through the public path are findings
    - `relative = "allow"`    -> nothing equivalent: relative imports of the canonical module are findings
    """
    concept = dict(p.concept)
    project = {"python-roots": p.roots, **p.ssot}
    ignores = dict(project.get("per-path-ignores", {}))
    fallback = []
    if "constructible" in dropped and concept.get("constructible"):
        fallback.append("SSOT008")
    if "ignore" in dropped:
        fallback.extend(concept.get("ignore", []))
    if fallback:
        ignores["**"] = sorted(set(ignores.get("**", [])) | set(fallback))
    if ignores:
        project["per-path-ignores"] = ignores
    lines = [f"# Generated by ecosystem/run.py for {p.name} {p.version}.", "[project]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in project.items()]
    if fallback:
        lines.append("# per-path-ignores \"**\" stands in for: "
                     + ", ".join(k for k in ("constructible", "ignore") if k in dropped and k in concept))
    lines += ["", "[[concept]]"]
    for k, v in concept.items():
        if k in dropped:
            lines.append(f"# {k} = {toml_value(v)}  # intended; {why_dropped}")
        else:
            lines.append(f"{k} = {toml_value(v)}")
    return "\n".join(lines) + "\n"


def check_json(bin_: Path, tree: Path) -> subprocess.CompletedProcess:
    return run([bin_, "check", "--format", "json", "--no-cache"], cwd=tree, timeout=600)


def configure_and_check(p: Project, tree: Path, bin_: Path, mode: str) -> tuple[set[str], str, dict]:
    """Write ssot.toml, dropping the new keys the binary rejects (mode auto), and run check."""
    dropped = {k for k in NEW_KEYS if k in p.concept} if mode == "off" else set()
    why = "left out (--new-keys off)" if mode == "off" else "this binary rejects the key"
    while True:
        text = render_config(p, dropped, why)
        (tree / "ssot.toml").write_text(text)
        r = check_json(bin_, tree)
        if r.returncode in (0, 1):
            return dropped, text, json.loads(r.stdout)
        m = re.search(r"unknown key `([\w-]+)`", r.stderr)
        key = m.group(1) if m else None
        if mode == "auto" and key in NEW_KEYS and key in p.concept and key not in dropped:
            log(f"  binary rejects `{key}`: falling back")
            dropped.add(key)
            continue
        raise RuntimeError(f"check exited {r.returncode}:\n{tail(r.stderr, 30)}")


# ---------------------------------------------------------------------------------------------
# Step 5: the measurements


def list_modules(p: Project, tree: Path) -> list[str]:
    """Every module of the project's packages (`__main__` left out: importing it runs the CLI)."""
    mods = []
    for root in p.roots:
        base = tree / root
        for pkg in p.packages:
            if (base / pkg).is_dir():
                files = sorted((base / pkg).rglob("*.py"))
            elif (base / f"{pkg}.py").is_file():
                files = [base / f"{pkg}.py"]
            else:
                continue
            for f in files:
                parts = list(f.relative_to(base).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                if parts[-1] == "__main__" or not all(x.isidentifier() for x in parts):
                    continue
                if any(x in ARTIFACT_DIRS for x in parts):
                    continue
                mods.append(".".join(parts))
    return sorted(set(mods))


def import_one(py: Path, env: dict, cwd: Path, module: str) -> tuple[str, bool, str]:
    """Import one module in a fresh interpreter. (module, ok, __file__ or the error)."""
    try:
        r = run([py, "-c", IMPORT_SNIPPET, module], cwd=cwd, env=env, timeout=IMPORT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return module, False, f"timeout after {IMPORT_TIMEOUT}s"
    if r.returncode == 0:
        found = [ln for ln in r.stdout.splitlines() if ln.startswith("__file__=")]
        return module, True, found[-1][len("__file__="):] if found else ""
    return module, False, tail(r.stderr, 8) or f"exit {r.returncode}"


def check_imports(p: Project, tree: Path, py: Path, modules: list[str], m: Measurement, args) -> None:
    """Import every module as a fresh interpreter would: forked after the top-level package
    (importer.py explains why that is the same), or with --spawn-imports one `python -c` each."""
    env = clean_env(p, tree, m.stage)
    cwd = p.dir / "empty"   # so that '' on sys.path finds nothing
    cwd.mkdir(exist_ok=True)
    if args.spawn_imports:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda mod: import_one(py, env, cwd, mod), modules))
    else:
        try:
            r = run([py, "-c", (HERE / "importer.py").read_text(), args.jobs, IMPORT_TIMEOUT], cwd=cwd, env=env,
                    input="\n".join(modules), timeout=IMPORT_TIMEOUT * 10)
            lines, why = r.stdout.splitlines(), f"importer exit {r.returncode}: {tail(r.stderr, 3)}"
        except subprocess.TimeoutExpired as e:
            lines, why = (e.stdout or "").splitlines(), f"importer timed out after {IMPORT_TIMEOUT * 10}s"
        got = {}
        for line in lines:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            got[d["module"]] = (d["module"], d["ok"], d["info"])
        results = [got.get(mod, (mod, False, f"no result ({why})")) for mod in modules]
    real_tree = tree.resolve()
    for module, ok, info in results:
        if not ok:
            m.imports_failed[module] = info.rstrip()
            continue
        m.imports_ok.append(module)
        if info and info != "None":
            if not m.sample_file:
                shown = Path(info).relative_to(REPO) if Path(info).is_relative_to(REPO) else info
                m.sample_file = f"{module}.__file__ = {shown}"
            if not Path(info).resolve().is_relative_to(real_tree):
                m.shadowed[module] = info


def check_compile(tree: Path, m: Measurement) -> None:
    for path in walk_files(tree):
        if path.suffix != ".py":
            continue
        rel = path.relative_to(tree).as_posix()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                compile(path.read_bytes(), rel, "exec", dont_inherit=True)
                m.compiled += 1
            except Exception as e:  # SyntaxError, ValueError (NUL bytes), RecursionError ...
                m.not_compiling[rel] = f"{type(e).__name__}: {e}"


def ruff_command() -> list[str]:
    """ruff on PATH, else the one the test set-up installs (target/test-python), else a module."""
    exe = shutil.which("ruff") or shutil.which("ruff", path=str(REPO / "target/test-python/bin"))
    return [exe] if exe else [sys.executable, "-m", "ruff"]


def has_ruff_config(tree: Path) -> bool:
    if (tree / "ruff.toml").exists() or (tree / ".ruff.toml").exists():
        return True
    pyproject = tree / "pyproject.toml"
    return pyproject.exists() and "[tool.ruff" in pyproject.read_text(errors="replace")


def ruff_i001(tree: Path, isolated: bool) -> tuple[int | None, dict[str, int]]:
    """ruff's I001 findings (unsorted import blocks): the count and the count per file."""
    cmd = ruff_command() + ["check", "--select", "I001", "--output-format", "json", "--no-fix",
                            "--no-cache", "--exit-zero"]
    if isolated:
        cmd.append("--isolated")
    r = run(cmd + ["."], cwd=tree, timeout=300)
    if r.returncode != 0:
        log(f"  ruff failed ({'isolated' if isolated else 'own config'}): {tail(r.stderr, 3)}")
        return None, {}
    per_file: dict[str, int] = {}
    for d in json.loads(r.stdout or "[]"):
        rel = Path(d["filename"]).resolve().relative_to(tree.resolve()).as_posix()
        per_file[rel] = per_file.get(rel, 0) + 1
    return sum(per_file.values()), per_file


def run_tests(p: Project, tree: Path, py: Path, stage: str) -> TestResult:
    cmd = [py, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", "--color=no", *p.test_args]
    start = time.monotonic()
    try:
        r = run(cmd, cwd=tree, env=clean_env(p, tree, stage), timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return TestResult(None, {}, [], f"timeout after {TEST_TIMEOUT}s", time.monotonic() - start)
    out = r.stdout.strip().splitlines()
    counts: dict[str, int] = {}
    summary = ""
    for line in reversed(out):
        found = re.findall(r"(\d+) (" + "|".join(TEST_COUNT_WORDS) + r")\b", line)
        if found and (" in " in line or line.startswith("=")):
            summary = line.strip("= ")
            for n, word in found:
                counts["errors" if word == "error" else word] = int(n)
            break
    failed = sorted({ln.split(" - ")[0].split(" ", 1)[1] for ln in out
                     if ln.startswith(("FAILED ", "ERROR "))})
    if not summary:
        summary = tail(r.stdout + r.stderr, 3)
    return TestResult(r.returncode, counts, failed, summary, time.monotonic() - start)


def measure(p: Project, tree: Path, py: Path, modules: list[str], stage: str, hashes: dict,
            previous: list[tuple[dict, Measurement]], tests: bool, args) -> Measurement:
    """Imports, compilation, I001 and (optionally) the suite; reused if an earlier stage's tree
    is byte-identical."""
    for old_hashes, old in previous:
        if old_hashes == hashes:
            return dataclasses.replace(old, stage=stage, reused_from=old.reused_from or old.stage)
    start = time.monotonic()
    m = Measurement(stage=stage)
    shutil.rmtree(p.dir / "pycache" / stage, ignore_errors=True)
    check_imports(p, tree, py, modules, m, args)
    check_compile(tree, m)
    m.i001_isolated, m.i001_files = ruff_i001(tree, isolated=True)
    if has_ruff_config(tree):
        m.i001_own, m.i001_own_files = ruff_i001(tree, isolated=False)
    if tests and p.has_tests:
        m.tests = run_tests(p, tree, py, stage)
    m.seconds = time.monotonic() - start
    log(f"  [{stage}] imports {len(m.imports_ok)}/{len(modules)}, compile {m.compiled}, "
        f"I001 {m.i001_isolated}/{m.i001_own}"
        + (f", tests {m.tests.short()}" if m.tests else "") + f" ({m.seconds:.1f}s)")
    return m


# ---------------------------------------------------------------------------------------------
# Step 4: the fixes


def run_fix(bin_: Path, tree: Path, stage: str, unsafe: bool) -> FixRun:
    cmd = ["fix", "--no-cache"] + (["--unsafe-fixes"] if unsafe else [])
    before = tree_hashes(tree)
    start = time.monotonic()
    r = run([bin_, *cmd], cwd=tree, timeout=600)
    after = tree_hashes(tree)
    return FixRun(stage, ["ssot-gardener", *cmd], r.returncode, changed_files(before, after),
                  tail(r.stdout + "\n" + r.stderr, 4), time.monotonic() - start)


def rerun_fix(bin_: Path, p: Project, tree: Path, stage: str, unsafe: bool) -> FixRun:
    """Run fix again on a scratch copy: it must change nothing."""
    scratch = p.dir / "scratch"
    copy_tree(tree, scratch)
    try:
        return run_fix(bin_, scratch, stage, unsafe)
    finally:
        shutil.rmtree(scratch)


def unified_diff(old_tree: Path, new_tree: Path, files: list[str]) -> str:
    chunks = []
    for rel in files:
        a = (old_tree / rel).read_text(errors="replace").splitlines(keepends=True) if (old_tree / rel).exists() else []
        b = (new_tree / rel).read_text(errors="replace").splitlines(keepends=True) if (new_tree / rel).exists() else []
        chunks.append("".join(difflib.unified_diff(a, b, f"a/{rel}", f"b/{rel}", n=2)))
    return "".join(chunks)


def file_diff(diff: str, rel: str, max_lines: int = 40) -> str:
    """The part of a unified diff that is about one file."""
    out, keep = [], False
    for line in diff.splitlines():
        if line.startswith("--- a/"):
            keep = line[len("--- a/"):] == rel
        if keep:
            out.append(line)
    return "\n".join(out[:max_lines])


# ---------------------------------------------------------------------------------------------
# Step 5 (cont.): comparing the stages


def implicated(text: str, tree: Path, changed: list[str]) -> list[str]:
    """The changed files a traceback (or message) mentions."""
    return [c for c in changed if c in text or str(tree / c) in text]


def compare(tree_after: Path, before: Measurement, after: Measurement, changed: list[str],
            diff: str) -> list[Failure]:
    """Everything that got worse from `before` to `after`, each with the edits behind it."""
    fails: list[Failure] = []
    if after.reused_from and after.reused_from == (before.reused_from or before.stage):
        return fails

    def failure(kind, where, detail, text_for_blame=""):
        blame = implicated(text_for_blame or where, tree_after, changed)
        fails.append(Failure(kind, after.stage, where, detail, blame,
                             "\n".join(file_diff(diff, b) for b in blame[:3])))

    for mod in before.imports_ok:
        if mod in after.imports_failed:
            err = after.imports_failed[mod]
            failure("import", mod, err.splitlines()[-1] if err else "", err)
    for mod, where in after.shadowed.items():
        if mod not in before.shadowed:
            failure("shadowing", mod, f"imported from {where}")
    for rel, err in after.not_compiling.items():
        if rel not in before.not_compiling:
            failure("compile", rel, err, rel)
    for label, b, a, bf, af in (("isolated", before.i001_isolated, after.i001_isolated, before.i001_files, after.i001_files),
                                ("own config", before.i001_own, after.i001_own, before.i001_own_files, after.i001_own_files)):
        if a is not None and b is not None and a > b:
            for rel in sorted(af):
                if af[rel] > bf.get(rel, 0):
                    failure("i001", rel, f"I001 ({label}) {bf.get(rel, 0)} -> {af[rel]}", rel)
    if before.tests and after.tests and before.tests.key() != after.tests.key():
        newly = sorted(set(after.tests.failed) - set(before.tests.failed))
        fixed = sorted(set(before.tests.failed) - set(after.tests.failed))
        detail = f"{before.tests.short()} -> {after.tests.short()}"
        if newly:
            detail += "; newly failing: " + ", ".join(newly[:8])
        if fixed:
            detail += "; no longer failing: " + ", ".join(fixed[:8])
        failure("tests", "test suite", detail, " ".join(newly))
    return fails


# ---------------------------------------------------------------------------------------------
# Sampling


def sample_findings(name: str, findings: list[dict], k: int = SAMPLE_SIZE) -> list[dict]:
    """k findings, spread over the rules round-robin, each rule's order shuffled with a seed."""
    rng = random.Random(f"ssot-ecosystem:{name}")
    by_rule: dict[str, list[dict]] = {}
    for f in findings:
        by_rule.setdefault(f["code"], []).append(f)
    for code in sorted(by_rule):
        rng.shuffle(by_rule[code])
    picked: list[dict] = []
    while len(picked) < k and any(by_rule.values()):
        for code in sorted(by_rule):
            if by_rule[code] and len(picked) < k:
                picked.append(by_rule[code].pop())
    keep = ("code", "path", "line", "message", "help", "fingerprint")
    return [{key: f.get(key) for key in keep} | {"fix": (f.get("fix") or {}).get("applicability")}
            for f in sorted(picked, key=lambda f: (f["path"], f["line"], f["code"]))]


# ---------------------------------------------------------------------------------------------
# One project, end to end


def run_project(p: Project, bin_: Path, binary: str, args) -> ProjectResult:
    start = time.monotonic()
    res = ProjectResult(p.name, p.version, p.concept["name"], p.concept["canonical"], p.why, binary)
    log(f"== {p.name} {p.version}")
    try:
        sdist = fetch_sdist(p)
        pristine = unpack(p, sdist)
        with_tests = p.has_tests and not args.skip_tests
        py = ensure_venv(p, with_tests)

        tree = p.dir / "tree"
        copy_tree(pristine, tree)
        dropped, res.config, report = configure_and_check(p, tree, bin_, args.new_keys)
        res.dropped_keys = sorted(dropped, key=NEW_KEYS.index)
        (p.dir / "check.json").write_text(json.dumps(report, indent=1))
        res.findings_total = report["summary"]["findings"]
        res.findings_by_rule = dict(sorted(report["summary"]["by_rule"].items()))
        res.fixable = report["summary"].get("fixable", 0)
        res.samples = sample_findings(p.name, report["findings"])

        modules = list_modules(p, tree)
        res.modules = len(modules)
        snapshots: list[tuple[dict, Measurement]] = []
        base_hashes = tree_hashes(tree)
        before = measure(p, tree, py, modules, "before", base_hashes, snapshots, with_tests, args)
        if before.sample_file:
            log(f"  {before.sample_file}")
        for mod, where in before.shadowed.items():
            res.failures.append(Failure("shadowing", "before", mod, f"imported from {where}"))
        snapshots.append((base_hashes, before))
        res.measurements.append(before)

        previous_tree = p.dir / "stage-before"
        copy_tree(tree, previous_tree)
        for stage, unsafe in (("safe", False), ("unsafe", True)):
            fx = run_fix(bin_, tree, stage, unsafe)
            res.fixes.append(fx)
            log(f"  fix {'--unsafe-fixes ' if unsafe else ''}-> exit {fx.rc}, {len(fx.changed)} files changed")
            if fx.rc not in (0, 1):
                res.failures.append(Failure("tool", stage, "ssot-gardener fix", f"exit {fx.rc}: {fx.report}"))
            diff = unified_diff(previous_tree, tree, fx.changed)
            (p.dir / f"{stage}.diff").write_text(diff)
            hashes = tree_hashes(tree)
            m = measure(p, tree, py, modules, stage, hashes, snapshots, with_tests, args)
            res.failures += compare(tree, snapshots[-1][1], m, fx.changed, diff)
            snapshots.append((hashes, m))
            res.measurements.append(m)
            again = [rerun_fix(bin_, p, tree, f"after {stage}", False)]
            if unsafe:
                again.append(rerun_fix(bin_, p, tree, f"after {stage}", True))
            for fx2 in again:
                res.second_fix.append(fx2)
                if fx2.changed:
                    res.failures.append(Failure("idempotence", fx2.stage, ", ".join(fx2.changed[:5]),
                                                f"`{' '.join(fx2.command)}` changed {len(fx2.changed)} files"))
            copy_tree(tree, p.dir / f"stage-{stage}")
            previous_tree = p.dir / f"stage-{stage}"
        # Failures against the original too: a stage that repaired what the one before broke
        # must not hide that the end state is still worse than the start.
        final = res.measurements[-1]
        seen = {(f.kind, f.where) for f in res.failures}
        for f in compare(tree, before, dataclasses.replace(final, stage="end", reused_from=None),
                         changed_files(base_hashes, snapshots[-1][0]), ""):
            if (f.kind, f.where) not in seen:
                res.failures.append(f)
    except Exception as e:  # one project's trouble must not stop the others
        res.error = f"{type(e).__name__}: {e}"
        log(f"  ERROR {res.error}")
    res.seconds = time.monotonic() - start
    return res


# ---------------------------------------------------------------------------------------------
# Step 6: the report


def stage(res: dict, name: str) -> dict | None:
    for m in res["measurements"]:
        if m["stage"] == name:
            return m
    return None


def arrow(values: list) -> str:
    vals = ["-" if v is None else str(v) for v in values]
    return vals[0] if len(set(vals)) == 1 else " → ".join(vals)


def table_rows(results: list[dict]) -> list[list[str]]:
    rows = []
    for r in results:
        ms = [stage(r, s) for s in ("before", "safe", "unsafe")]
        ms = [m for m in ms if m]
        fixes = {f["stage"]: f for f in r["fixes"]}
        tests = [m["tests"] for m in ms if m.get("tests")]
        concept = f"`{r['canonical']}`" + (" (fallback: " + ", ".join(r["dropped_keys"]) + ")" if r["dropped_keys"] else "")
        if r.get("error"):
            rows.append([r["name"], r["version"], concept, "ERROR: " + r["error"].splitlines()[0]] + [""] * 7)
            continue
        rows.append([
            r["name"], r["version"], concept,
            " ".join(f"{k}×{v}" for k, v in r["findings_by_rule"].items()) or "none",
            str(len(fixes["safe"]["changed"])) if "safe" in fixes else "-",
            str(len(fixes["unsafe"]["changed"])) if "unsafe" in fixes else "-",
            arrow([m["imports_ok"] for m in ms]) + f" /{r['modules']}",
            arrow([m["compiled"] for m in ms]),
            str(sum(len(f["changed"]) for f in r["second_fix"])),
            arrow([m["i001_isolated"] for m in ms]) + (f" (own {arrow([m['i001_own'] for m in ms])})" if ms and ms[0]["i001_own"] is not None else ""),
            arrow([short_tests(t) for t in tests]) if tests else "not run",
        ])
    return rows


HEADERS = ["project", "version", "concept", "findings by rule", "safe fix files", "unsafe fix files",
           "modules importing", "files compiling", "2nd fix changes", "I001 isolated (own)", "tests"]


def short_tests(t: dict) -> str:
    if t["rc"] is None:
        return t["summary"]
    c = t["counts"]
    s = f"{c.get('passed', 0)}p/{c.get('failed', 0)}f"
    if c.get("errors"):
        s += f"/{c['errors']}e"
    return s


def print_table(results: list[dict]) -> None:
    rows = [HEADERS] + table_rows(results)
    rows = [[c.replace("`", "") for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def load_verdicts() -> dict[tuple[str, str, str], dict]:
    """verdicts.toml: (project, fingerprint, run) -> {verdict, reason}. A verdict's `run` is
    "main", "fallback" or "both" (the default): one finding can be wrong under the maintainers'
    configuration (which declares its spelling public) and debatable without it."""
    if not VERDICTS.exists():
        return {}
    out = {}
    for v in tomllib.loads(VERDICTS.read_text()).get("verdict", []):
        runs = ("main", "fallback") if v.get("run", "both") == "both" else (v["run"],)
        for run_ in runs:
            out[(v["project"], v["fingerprint"], run_)] = v
    return out


def md_escape(s: str) -> str:
    return (s or "").replace("|", "\\|").replace("\n", " ")


def md_table(results: list[dict]) -> list[str]:
    return (["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
            + ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in table_rows(results)])


def md_failures(results: list[dict]) -> list[str]:
    out = []
    for r in results:
        for f in r["failures"]:
            out.append(f"- **{r['name']}** [{f['stage']}] {f['kind']}: `{f['where']}`: {md_escape(f['detail'])}"
                       + (f" (edit in {', '.join(f'`{c}`' for c in f['caused_by'])})" if f["caused_by"] else ""))
            if f["diff"]:
                out += ["", "  ```diff"] + ["  " + ln for ln in f["diff"].splitlines()] + ["  ```", ""]
        if r.get("error"):
            out.append(f"- **{r['name']}**: the run stopped: {md_escape(r['error'])}")
    return out or ["None."]


def md_meta(meta: dict) -> list[str]:
    return [f"- binary: {meta['binary']}",
            f"- run: {meta['date']}, {meta['seconds']:.0f} s, python {meta['python']}, {meta['ruff']}"
            + (", test suites skipped" if meta.get("skip_tests") else "")
            + (f", only {', '.join(meta['only'])}" if meta.get("only") else "")]


def md_samples(r: dict, verdicts: dict, run_: str, title: str) -> list[str]:
    out = [title, ""]
    if not r["samples"]:
        return out + ["No findings."]
    out += [f"{len(r['samples'])} of the {r['findings_total']} findings of the first `check`, picked by a "
            "seeded shuffle per rule, round-robin over the rules.",
            "", "| where | code | message | fix | verdict | reason |", "|---|---|---|---|---|---|"]
    for s in r["samples"]:
        v = verdicts.get((r["name"], s["fingerprint"], run_), {})
        out.append(f"| `{s['path']}:{s['line']}` | {s['code']} | {md_escape(s['message'])} | {s['fix'] or '-'} | "
                   f"{v.get('verdict', 'unjudged')} | {md_escape(v.get('reason', ''))} |")
    return out


def write_doc(results: list[dict], meta: dict, fallback: dict | None) -> None:
    verdicts = load_verdicts()
    out = ["# Ecosystem check", "",
           "`ecosystem/run.py` runs ssot-gardener on pinned sdists of real projects from PyPI and checks "
           "that its fixes break nothing: every module that imported before still imports (each as in a fresh "
           "interpreter, from the fixed tree), every file that compiled still compiles, a second `fix` "
           "changes nothing, ruff's I001 count does not rise, and the project's own test suite gives the "
           "same result. How to run it: [ecosystem/README.md](../ecosystem/README.md). This page is "
           "generated by the script; the verdicts come from `ecosystem/verdicts.toml`, the notes from "
           "`ecosystem/notes.md`.", ""]
    out += md_meta(meta)
    binaries = sorted({r.get("binary") for r in results if r.get("binary")})
    if len(binaries) > 1:
        out.append("- these results come from more than one binary (a run with `--only`): " + "; ".join(binaries))
    fallbacks = sorted({k for r in results for k in r["dropped_keys"]}, key=NEW_KEYS.index)
    if fallbacks:
        out += ["", f"The binary rejected {', '.join(f'`{k}`' for k in fallbacks)}, so these runs use the fallbacks "
                "of `render_config` in run.py: `constructible = true` and `ignore` become "
                "`per-path-ignores = {\"**\" = [...]}`; `public` and `relative` have no equivalent, so those "
                "imports are reported and rewritten."]
    out += ["", "## Results", "",
            "Each project's `ssot.toml` as its maintainers would write it (the configurations are below). "
            "Arrows read before → after the safe fix → after the unsafe fix (one value: unchanged). "
            "Tests: passed/failed(/errors).", ""]
    out += md_table(results)
    out += ["", "## Failures", ""] + md_failures(results)

    fallback_by_name = {r["name"]: r for r in (fallback or {}).get("projects", [])}
    runs = [("", "main", results)] + ([(" (`--new-keys off`)", "fallback", fallback["projects"])] if fallback else [])
    for label, run_, rs in runs:
        sampled = [(r, s) for r in rs for s in r["samples"]]
        judged = [(r, s, verdicts[(r["name"], s["fingerprint"], run_)]) for r, s in sampled
                  if (r["name"], s["fingerprint"], run_) in verdicts]
        counts = {v: sum(1 for _, _, x in judged if x["verdict"] == v) for v in ("true", "debatable", "wrong")}
        out += ["", f"## Findings judged wrong{label}", "",
                f"Of {len(sampled)} sampled findings, {len(judged)} are judged: "
                + ", ".join(f"{n} {v}" for v, n in counts.items()) + ". The wrong ones:", ""]
        groups: dict[tuple, list] = {}   # findings with one verdict text are listed together
        for r, s, v in judged:
            if v["verdict"] == "wrong":
                groups.setdefault((r["name"], s["code"], v["reason"]), []).append(s)
        out += [f"- **{name}** {code}" + (f" ×{len(ss)}" if len(ss) > 1 else "") + ": "
                + ", ".join(f"`{s['path']}:{s['line']}`" for s in ss)
                + f" ({md_escape(ss[0]['message'])}). {md_escape(reason)}"
                for (name, code, reason), ss in groups.items()] or ["None."]

    if fallback:
        out += ["", "## Without the new keys (`--new-keys off`)", "",
                "The same projects with `public`, `relative`, `constructible` and `ignore` left out (their "
                "fallbacks: see above): what a user who writes only `canonical` gets, and a much larger "
                "workout for the fixer.", ""]
        out += md_meta(fallback["meta"]) + [""] + md_table(fallback["projects"])
        out += ["", "Failures of that run:", ""] + md_failures(fallback["projects"])

    if NOTES.exists():
        out += ["", "## Notes", "", NOTES.read_text().strip()]

    for r in results:
        out += ["", f"## {r['name']} {r['version']}", "", f"Concept `{r['concept']}`, canonical `{r['canonical']}`. "
                + r["why"], "", "```toml", r["config"].rstrip(), "```", ""]
        if r.get("error"):
            continue
        out.append(f"{r['findings_total']} findings ({r['fixable']} with a fix) in the first `check`; "
                   f"{r['modules']} modules checked for import; {r['seconds']:.0f} s.")
        out.append("")
        for fx in r["fixes"] + r["second_fix"]:
            out.append(f"- `{' '.join(fx['command'])}` ({fx['stage']}): exit {fx['rc']}, {len(fx['changed'])} files changed"
                       + (": " + ", ".join(f"`{c}`" for c in fx["changed"][:12]) + (" ..." if len(fx["changed"]) > 12 else "")
                          if fx["changed"] else ""))
        before = stage(r, "before")
        if before:
            if before.get("sample_file"):
                out.append(f"- imported from the tree: `{before['sample_file']}`")
            if before["imports_failed"]:
                out.append(f"- modules that do not import even before any fix ({len(before['imports_failed'])}, left out of the "
                           "comparison): " + ", ".join(f"`{m}`" for m in sorted(before["imports_failed"])[:10])
                           + (" ..." if len(before["imports_failed"]) > 10 else ""))
            if before["not_compiling"]:
                out.append("- files that do not compile before any fix: "
                           + ", ".join(f"`{m}`" for m in sorted(before["not_compiling"])[:10]))
            if before.get("tests"):
                out.append(f"- test suite before: {before['tests']['summary']}")
        out += [""] + md_samples(r, verdicts, "main", "### Sampled findings")
        fb = fallback_by_name.get(r["name"])
        if fb and fb["samples"]:
            out += [""] + md_samples(fb, verdicts, "fallback", "### Sampled findings without the new keys (`--new-keys off`)")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(out) + "\n")


def to_json(res: ProjectResult) -> dict:
    """The result as results.json keeps it: the per-file I001 counts and the list of modules
    that imported are only needed while comparing, so only their size is kept."""
    data = json.loads(json.dumps(dataclasses.asdict(res)))
    for m in data["measurements"]:
        m["imports_ok"] = len(m["imports_ok"])
        del m["i001_files"], m["i001_own_files"]
    return data


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", metavar="NAME", help="run this project only (repeatable)")
    ap.add_argument("--skip-tests", action="store_true", help="do not run the projects' test suites")
    ap.add_argument("--new-keys", choices=("auto", "on", "off"), default="auto",
                    help="per-concept keys public/constructible/ignore/relative: auto (fall back per key the "
                         "binary rejects), on (never fall back), off (always the fallbacks; results go to "
                         "results-fallback.json and a section of their own)")
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2), help="parallel import checks")
    ap.add_argument("--spawn-imports", action="store_true",
                    help="one `python -c 'import MOD'` per module instead of forking after the top-level package")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite docs/ecosystem.md from results.json and verdicts.toml, run nothing")
    args = ap.parse_args()
    if sys.version_info < (3, 11):
        sys.exit("python 3.11 or newer is needed (tomllib)")

    projects = load_projects()
    if args.only:
        names = {n for arg in args.only for n in arg.split(",")}
        unknown = names - {p.name for p in projects}
        if unknown:
            sys.exit(f"unknown project(s): {', '.join(sorted(unknown))}; known: {', '.join(p.name for p in projects)}")
        projects = [p for p in projects if p.name in names]

    results_file = RESULTS_FALLBACK if args.new_keys == "off" else RESULTS
    old = read_results(results_file)
    if args.report_only:
        write_doc(read_results(RESULTS)["projects"], read_results(RESULTS)["meta"], fallback_results())
        print_table(old["projects"])
        return 0

    start = time.monotonic()
    bin_, binary = install_binary()
    log(f"binary: {binary}")
    results = [to_json(run_project(p, bin_, binary, args)) for p in projects]

    # With --only, the other projects keep their last results.
    order = [p.name for p in load_projects()]
    merged = {r["name"]: r for r in old["projects"]}
    merged.update({r["name"]: r for r in results})
    all_results = [merged[n] for n in order if n in merged]
    meta = {"binary": binary, "date": time.strftime("%Y-%m-%d %H:%M"), "seconds": time.monotonic() - start,
            "python": sys.version.split()[0], "ruff": run(ruff_command() + ["--version"]).stdout.strip(),
            "new_keys": args.new_keys, "skip_tests": args.skip_tests,
            "only": sorted({p.name for p in projects}) if args.only else None}
    results_file.write_text(json.dumps({"meta": meta, "projects": all_results}, indent=1) + "\n")
    main_run = read_results(RESULTS)
    if main_run["projects"]:
        write_doc(main_run["projects"], main_run["meta"], fallback_results())
    print_table(all_results)
    bad = [r["name"] for r in results if r["failures"] or r.get("error")]
    if bad:
        print(f"\nfailures in: {', '.join(bad)} (details: {DOC.relative_to(REPO)})")
    return 1 if bad else 0


def read_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"meta": {}, "projects": []}


def fallback_results() -> dict | None:
    data = read_results(RESULTS_FALLBACK)
    return data if data["projects"] else None


if __name__ == "__main__":
    sys.exit(main())
