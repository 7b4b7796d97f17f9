#!/usr/bin/env python3
"""Benchmark ssot-gardener against ripgrep (the I/O floor), ruff (the fastest Python peer) and
`cargo check` (the Rust no-op), on Python and Rust corpora.

Standard library only (python3.11). See bench/README.md. In short:

    cargo build --release
    python3 bench/bench.py                      # all corpora, 7 rounds
    python3 bench/bench.py --threads 1 --rounds 3 --corpus django
    python3 bench/bench.py --corpus monorepo --scale 10 --scale-rounds 3

Corpora are real public code fetched once into bench/.cache/ (gitignored): source
distributions from PyPI (`pip download --no-binary :all:`), pinned crates from crates.io
(`cargo fetch`) assembled into one workspace, a copy of the local cargo registry, and the
standard library of the newest CPython installed under pyenv. The output is a Markdown report
for BENCHMARKS.md.
"""

import argparse
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_CACHE = BENCH_DIR / ".cache"
DEFAULT_BINARY = REPO / "target" / "release" / "ssot-gardener"

# Large, mostly pure-Python source distributions, pinned so that runs compare like with like.
# ansible bundles the community collections: about 18,000 .py files, the size of the
# monorepo that motivated ssot-gardener.
PACKAGES = [
    ("Django", "5.1.4"),
    ("sympy", "1.13.3"),
    ("ansible", "10.7.0"),
]

# The monorepo-shaped corpus: the ansible sdist (the collections, the consumers) with the
# `lib/ansible` package of the ansible-core it ships with copied in beside
# `ansible_collections` (the shared library they all import). ansible 10.7.0 requires
# `ansible-core ~= 2.17.7` and its CHANGELOG-v10 says "Ansible 10.7.0 contains ansible-core
# version 2.17.7".
MONOREPO = (("ansible", "10.7.0"), ("ansible-core", "2.17.7"))

# A real multi-crate Rust workspace from crates.io, pinned: the regex, serde and clap families
# and ripgrep's walker, each crate a workspace member and patched in [patch.crates-io] so the
# families' cross-crate dependencies stay inside the workspace. It builds (`cargo check`).
RUST_CRATES = [
    ("regex", "1.12.2"), ("regex-automata", "0.4.13"), ("regex-syntax", "0.8.8"),
    ("serde", "1.0.228"), ("serde_core", "1.0.228"), ("serde_derive", "1.0.228"),
    ("serde_json", "1.0.145"),
    ("clap", "4.6.9"), ("clap_builder", "4.6.7"), ("clap_derive", "4.6.9"), ("clap_lex", "1.1.2"),
    ("ignore", "0.4.35"), ("globset", "0.4.22"),
]

# A concept per corpus, declared on one of its real classes (a Rust type for Rust corpora), so
# that `check` has real work: the concept table, every rule, and findings to print. Keys are
# prefixes of the corpus directory name, tried in order (the first match wins). The rg column
# searches the concept's name (the last path segment) literally.
CONCEPTS = [
    ("django", "py", "django.http.response.HttpResponse", ["*HttpResponse"], ["make_*response*"], []),
    ("sympy", "py", "sympy.core.basic.Basic", ["*Basic"], [], []),
    ("monorepo-ansible", "py", "ansible.module_utils.basic.AnsibleModule", ["*AnsibleModule"], [], []),
    ("ansible", "py", "ansible_collections.fortinet.fortimanager.plugins.module_utils.napi.NAPIManager", ["*NAPIManager"], [], []),
    ("cpython", "py", "logging.Logger", ["*Logger"], ["get*Logger*"], ["logging.getLogger"]),
    ("rust-workspace", "rust", "serde_json::value::Value", ["*Value"], [], []),
    ("cargo-registry", "rust", "serde_json::value::Value", ["*Value"], [], []),
]

# What the issues ask of each column: (language, column, at most this multiple, of this tool).
GOALS = [
    ("py", "cold", 2.0, "rg"),
    ("py", "warm", 1.2, "rg"),
    ("py", "fixdiff", 5.0, "rg"),
    ("py", "rss", 3.0, "ruff"),
    ("rust", "cold", 3.0, "rg"),
    ("rust", "warm", 1.5, "rg"),
    # Issue 15: audit within the time of a cold check of the same tree.
    ("py", "audit", 1.0, "cold"),
    ("rust", "audit", 1.0, "cold"),
]

# `-v` makes the binary print `timing: PHASE: DURATION` lines on stderr, in this
# order (`cache save` only when the cache was written).
PHASES = ["cache load", "walk and collect", "cache save", "resolve", "concepts", "rules", "output"]

SKIP_TOP = {"ssot.toml", ".ssot_cache", ".ruff_cache", "target"}


def concept_of(corpus_name):
    for prefix, lang, canonical, implementations, factories, allowed in CONCEPTS:
        if corpus_name.lower().startswith(prefix):
            return {"lang": lang, "canonical": canonical, "implementations": implementations,
                    "factories": factories, "allowed": allowed,
                    "name": re.split(r"\.|::", canonical)[-1]}
    raise SystemExit(f"no concept for corpus {corpus_name} (CONCEPTS in bench.py)")


def concept_toml(corpus):
    """The ssot.toml of a corpus: its own repository root, with one concept."""
    concept = corpus.concept
    if concept["lang"] == "py":
        text = '[project]\npython-roots = ["."]\n'
    else:
        text = '[project]\npython-roots = []\nrust-roots = ["."]\n'
    text += (
        '\n[[concept]]\nname = "bench"\n'
        f'canonical = "{concept["canonical"]}"\n'
        f"implementations = {concept['implementations']!r}\n"
        f"factories = {concept['factories']!r}\n"
        f"allowed-factories = {concept['allowed']!r}\n"
    ).replace("'", '"')
    return text


def log(message):
    print(message, file=sys.stderr, flush=True)


def normalize(name):
    """PEP 503-ish normalization, also folding `.` and `-` into `_` as sdist file names do."""
    return re.sub(r"[-_.]+", "_", name).lower()


class Corpus:
    def __init__(self, path, cargo=False, scale=1, base=None):
        self.path = Path(path)
        self.name = self.path.name
        self.concept = concept_of(base.name if base else self.name)
        self.lang = self.concept["lang"]
        self.cargo = cargo  # a workspace that builds: the `cargo check` column
        self.scale = scale
        self.base = base  # the 1x corpus of a scaled one

    @property
    def ext(self):
        return ".py" if self.lang == "py" else ".rs"


# --- corpora -----------------------------------------------------------------------------


def fetch_archive(cache, name, version):
    """The sdist of `name==version` in cache/downloads, fetched from PyPI once."""
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = find_archive(downloads, name, version)
    if archive is None:
        log(f"downloading {name}=={version} from PyPI ...")
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
            "--disable-pip-version-check", "--quiet", "--dest", str(downloads),
            f"{name}=={version}",
        ]
        subprocess.run(command, check=True)
        archive = find_archive(downloads, name, version)
        if archive is None:
            raise SystemExit(f"pip downloaded no sdist of {name}=={version} into {downloads}")
    return archive


def unpack_sdist(archive, corpus):
    """Unpacks an sdist into `corpus` (its one top directory becomes `corpus`)."""
    log(f"unpacking {archive.name} ...")
    staging = corpus.with_name(corpus.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    unpack(archive, staging)
    # An sdist holds one top directory (`sympy-1.13.3/`); it is the project root, where the
    # packages live. One level up, `sympy-1.13.3` is no package name and nothing resolves.
    entries = list(staging.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
    shutil.rmtree(corpus, ignore_errors=True)
    root.rename(corpus)
    shutil.rmtree(staging, ignore_errors=True)


def fetch_sdist(cache, name, version):
    """Downloads and unpacks `name==version` once; returns the corpus directory."""
    corpus = cache / "corpora" / f"{normalize(name)}-{version}"
    marker = cache / "corpora" / f"{normalize(name)}-{version}.complete"
    if marker.exists() and corpus.is_dir():
        return Corpus(corpus)
    unpack_sdist(fetch_archive(cache, name, version), corpus)
    marker.touch()
    return Corpus(corpus)


def monorepo_corpus(cache):
    """The ansible sdist with ansible-core's `lib/ansible` beside `ansible_collections`."""
    (name, version), (core, core_version) = MONOREPO
    corpus = cache / "corpora" / f"monorepo-ansible-{version}+core-{core_version}"
    marker = corpus.with_name(corpus.name + ".complete")
    if marker.exists() and corpus.is_dir():
        return Corpus(corpus)
    archive = fetch_archive(cache, name, version)
    core_archive = fetch_archive(cache, core, core_version)
    unpack_sdist(archive, corpus)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        unpack(core_archive, Path(scratch))
        (top,) = Path(scratch).iterdir()
        shutil.copytree(top / "lib" / "ansible", corpus / "ansible")
    marker.touch()
    return Corpus(corpus)


def find_archive(downloads, name, version):
    for path in sorted(downloads.iterdir()):
        match = re.fullmatch(r"(.+?)-([0-9][^-]*?)\.(tar\.gz|tar\.bz2|zip)", path.name)
        if match and normalize(match[1]) == normalize(name) and match[2] == version:
            return path
    return None


def unpack(archive, into):
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(into)
        return
    with tarfile.open(archive) as tarred:
        if hasattr(tarfile, "data_filter"):
            tarred.extractall(into, filter="data")
        else:
            tarred.extractall(into)


def cargo_home():
    return Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))


def find_crate(name, version):
    for index in sorted((cargo_home() / "registry" / "cache").glob("*")):
        crate = index / f"{name}-{version}.crate"
        if crate.is_file():
            return crate
    return None


def rust_workspace_corpus(cache):
    """The pinned crates of RUST_CRATES as one Cargo workspace, with a lockfile and every
    dependency fetched, so that `cargo check --offline` works from then on."""
    digest = hashlib.sha256(repr(RUST_CRATES).encode()).hexdigest()[:8]
    corpus = cache / "corpora" / f"rust-workspace-{digest}"
    marker = corpus.with_name(corpus.name + ".complete")
    if marker.exists() and corpus.is_dir():
        return Corpus(corpus, cargo=True)
    cargo = shutil.which("cargo")
    if cargo is None:
        raise SystemExit("cargo is needed for the Rust workspace corpus (or leave it out with --corpus)")
    missing = [(n, v) for n, v in RUST_CRATES if find_crate(n, v) is None]
    if missing:
        # cargo is crates.io's own client: a throwaway package depending on each missing
        # crate, `=version`, fetched into ~/.cargo/registry/cache.
        log(f"fetching {len(missing)} crates from crates.io with cargo fetch ...")
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            scratch = Path(scratch)
            (scratch / "src").mkdir()
            (scratch / "src" / "lib.rs").write_text("")
            deps = "\n".join(f'{n} = "={v}"' for n, v in missing)
            (scratch / "Cargo.toml").write_text(
                '[package]\nname = "bench-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n'
                f"[dependencies]\n{deps}\n")
            subprocess.run([cargo, "fetch", "--quiet"], cwd=scratch, check=True)
    staging = corpus.with_name(corpus.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, version in RUST_CRATES:
        crate = find_crate(name, version)
        if crate is None:
            raise SystemExit(f"cargo fetch did not provide {name}-{version}.crate")
        unpack(crate, staging)  # a .crate is a tar.gz of `name-version/`
    members = ", ".join(f'"{n}-{v}"' for n, v in RUST_CRATES)
    patches = "\n".join(f'{n} = {{ path = "{n}-{v}" }}' for n, v in RUST_CRATES)
    (staging / "Cargo.toml").write_text(
        "# Generated by bench/bench.py: pinned crates.io crates as one workspace.\n"
        f'[workspace]\nmembers = [{members}]\nresolver = "2"\n\n[patch.crates-io]\n{patches}\n')
    # The lockfile (external dependencies: the newest compatible at the first run) stays in
    # the corpus, so later runs build the same versions; `cargo fetch` downloads them once.
    log("locking and fetching the Rust workspace's dependencies ...")
    if subprocess.run([cargo, "generate-lockfile", "--offline", "--quiet"], cwd=staging,
                      capture_output=True).returncode != 0:
        subprocess.run([cargo, "generate-lockfile", "--quiet"], cwd=staging, check=True)
    subprocess.run([cargo, "fetch", "--quiet"], cwd=staging, check=True)
    shutil.rmtree(corpus, ignore_errors=True)
    staging.rename(corpus)
    marker.touch()
    return Corpus(corpus, cargo=True)


def registry_corpus(cache):
    """Every crate unpacked in ~/.cargo/registry/src, copied once as one repository of many
    Cargo.toml (`rust-roots = ["."]`). Not pinned: it is whatever this machine's registry held
    at the first run; the copy is then kept."""
    existing = sorted((cache / "corpora").glob("cargo-registry-*.complete"))
    for marker in existing:
        corpus = marker.with_suffix("")
        if corpus.is_dir():
            return Corpus(corpus)
    crates = sorted(d for index in (cargo_home() / "registry" / "src").glob("*")
                    for d in index.iterdir() if d.is_dir())
    if not crates:
        raise SystemExit(f"no crate in {cargo_home() / 'registry' / 'src'}")
    corpus = cache / "corpora" / f"cargo-registry-{len(crates)}-crates"
    log(f"copying {len(crates)} crates of {cargo_home() / 'registry' / 'src'} ...")
    staging = corpus.with_name(corpus.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for crate in crates:
        if not (staging / crate.name).exists():
            shutil.copytree(crate, staging / crate.name, symlinks=True)
    shutil.rmtree(corpus, ignore_errors=True)
    staging.rename(corpus)
    corpus.with_name(corpus.name + ".complete").touch()
    return Corpus(corpus)


def newest_pyenv_python():
    """The newest plain CPython 3.x.y under `pyenv root`, else None."""
    try:
        root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    best = None
    versions = Path(root) / "versions"
    if not versions.is_dir():
        return None
    for entry in versions.iterdir():
        parts = entry.name.split(".")
        if not all(part.isdigit() for part in parts) or parts[0] != "3":
            continue
        program = entry / "bin" / "python3"
        key = tuple(int(part) for part in parts)
        if program.is_file() and (best is None or key > best[0]):
            best = (key, program)
    return best[1] if best else None


def stdlib_corpus(cache):
    """A copy of the newest CPython's standard library (its *.py files) inside the cache.

    Copied, not used in place: pyenv's own .gitignore ignores `versions/`, which would make
    gitignore-aware tools see nothing there.
    """
    python = newest_pyenv_python() or Path(sys.executable)
    info = subprocess.run(
        [
            str(python), "-c",
            "import sys, sysconfig; print(sysconfig.get_paths()['stdlib']);"
            " print('.'.join(map(str, sys.version_info[:3])))",
        ],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    stdlib, version = Path(info[0]), info[1]
    corpus = cache / "corpora" / f"cpython-{version}-stdlib"
    marker = cache / "corpora" / f"cpython-{version}-stdlib.complete"
    if marker.exists() and corpus.is_dir():
        return Corpus(corpus)
    log(f"copying the standard library of {python} ({stdlib}) ...")
    staging = corpus.with_name(corpus.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        target = staging / Path(root).relative_to(stdlib)
        for name in files:
            if name.endswith(".py"):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(root) / name, target / name)
    shutil.rmtree(corpus, ignore_errors=True)
    staging.rename(corpus)
    marker.touch()
    return Corpus(corpus)


def scaled_corpus(cache, base, scale):
    """`scale` copies of a Python corpus side by side, in one repository.

    The original stays at the top (copy 1). Copies 2..N are `copyK/<entry>` for every top-level
    entry of the corpus except the top-level package that defines the concept: one canonical
    definition, N times its importers. Nothing is rewritten: a copy's absolute imports
    (`from ansible.module_utils.basic import AnsibleModule`,
    `from ansible_collections.x.y import z`) resolve to the original, since `copyK` is only a
    namespace prefix; its relative imports stay inside the copy.
    """
    if base.lang != "py":
        raise SystemExit(f"--scale is for Python corpora; {base.name} is not one")
    corpus = cache / "corpora" / f"{base.name}-x{scale}"
    marker = corpus.with_name(corpus.name + ".complete")
    if marker.exists() and corpus.is_dir():
        return Corpus(corpus, scale=scale, base=base)
    canonical_top = base.concept["canonical"].split(".")[0]
    entries = sorted(e for e in base.path.iterdir()
                     if e.name not in SKIP_TOP and not e.name.startswith("."))
    log(f"laying out {scale} copies of {base.name} (copies 2..{scale}: "
        + ", ".join(e.name for e in entries if e.name != canonical_top) + ") ...")
    staging = corpus.with_name(corpus.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".ssot_cache", ".ruff_cache", "__pycache__")
    for copy in range(1, scale + 1):
        into = staging if copy == 1 else staging / f"copy{copy}"
        into.mkdir(exist_ok=True)
        for entry in entries:
            if copy > 1 and entry.name == canonical_top:
                continue
            if entry.is_dir():
                shutil.copytree(entry, into / entry.name, symlinks=True, ignore=ignore)
            else:
                shutil.copy2(entry, into / entry.name)
    shutil.rmtree(corpus, ignore_errors=True)
    staging.rename(corpus)
    marker.touch()
    return Corpus(corpus, scale=scale, base=base)


def source_files(corpus):
    """(count, bytes) of the corpus's source files (*.py or *.rs) outside hidden directories
    (what rg -t py / -t rust searches; `target/` skipped)."""
    count = size = 0
    for root, dirs, files in os.walk(corpus.path):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "target"]
        for name in files:
            if name.endswith(corpus.ext) and not name.startswith("."):
                count += 1
                size += os.path.getsize(os.path.join(root, name))
    return count, size


# --- tools -------------------------------------------------------------------------------


def real_program(path):
    """A pyenv shim is a bash script that runs `pyenv exec`: tens of milliseconds of startup
    that are not the tool's. Resolve it to the program it runs."""
    if path and Path(path).parent.name == "shims":
        result = subprocess.run(["pyenv", "which", Path(path).name], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    return path


def find_tools(cache):
    """Paths of rg, ruff and cargo (None when unavailable), installing rg and ruff into the
    cache if needed."""
    tools_dir = cache / "tools"
    found = {}
    missing = []
    for name in ("rg", "ruff"):
        path = shutil.which(name) or shutil.which(name, path=str(tools_dir / "bin"))
        if path:
            found[name] = real_program(path)
        else:
            missing.append(name)
    if missing:
        packages = {"rg": "ripgrep", "ruff": "ruff"}
        log(f"installing {', '.join(packages[m] for m in missing)} into {tools_dir} ...")
        command = [
            sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
            "--target", str(tools_dir), *(packages[m] for m in missing),
        ]
        if subprocess.run(command).returncode != 0:
            log("warning: pip install failed; the missing tools are skipped")
        for name in missing:
            found[name] = shutil.which(name, path=str(tools_dir / "bin"))
    found["cargo"] = shutil.which("cargo")
    for name, path in found.items():
        if path is None:
            log(f"warning: {name} is unavailable; its column is skipped")
    return found


def version_of(program):
    try:
        result = subprocess.run([program, "--version"], capture_output=True, text=True)
    except OSError:
        return "?"
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or cpu
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}), {cpu}, {platform.system()} {platform.release()}"


def load():
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


# --- measuring ---------------------------------------------------------------------------


class Result:
    def __init__(self, returncode, stdout, stderr, maxrss_kib):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.maxrss_kib = maxrss_kib


TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time, for the peak RSS


def run_measured(argv, env=None, cwd=None):
    """(wall seconds, Result) of one run, with the peak RSS of the process in KiB.

    The peak RSS is `ru_maxrss` from `wait4`. Linux counts in it the memory of the process
    that called exec, so a child forked from this Python process (tens of MiB) could never
    report less than that: when GNU time is present (`/usr/bin/time`, a small program) it
    forks and waits for the tool and reports the tool's own `ru_maxrss` (`-f %M`); without it
    the figure is `os.wait4`'s, a floor of this script's size. Output goes to pipes drained by
    threads, not to /dev/null: ripgrep stops at the first match when it sees its output
    discarded."""
    rss_file = None
    if TIME:
        handle, rss_file = tempfile.mkstemp(prefix="ssot-bench-rss-")
        os.close(handle)
        argv = [TIME, "-f", "%M", "-o", rss_file, *argv]
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, cwd=cwd)
    chunks = {}

    def drain(name, stream):
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream))
               for name, stream in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    process.stdout.close()
    process.stderr.close()
    maxrss = usage.ru_maxrss
    if rss_file:
        # GNU time writes "Command exited with non-zero status N" first when it is not 0.
        lines = Path(rss_file).read_text().split()
        os.unlink(rss_file)
        maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else None
    return elapsed, Result(process.returncode, chunks.get("out", b""), chunks.get("err", b""),
                           maxrss)


class Tool:
    def __init__(self, name, argv, env=None, prepare=None, ok=(0, 1), phases=False, cwd=None):
        self.name = name
        self.argv = argv  # a function of the corpus
        self.env = env
        self.prepare = prepare  # untimed, before each run: a function of the corpus
        self.ok = ok  # exit codes that are not a failure
        self.phases = phases  # `-v` timing lines are parsed from stderr
        self.cwd = cwd  # a function of the corpus, or None

    def run(self, corpus):
        if self.prepare:
            self.prepare(corpus)
        env = self.env(corpus) if callable(self.env) else self.env
        cwd = self.cwd(corpus) if self.cwd else None
        return run_measured(self.argv(corpus), env, cwd)


def parse_duration(text):
    match = re.fullmatch(r"([0-9.]+)(ns|µs|us|ms|s)", text.strip())
    if not match:
        return None
    return float(match[1]) * {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[match[2]]


def parse_phases(stderr):
    phases = {}
    for line in stderr.decode(errors="replace").splitlines():
        match = re.fullmatch(r"timing: (.+?): (\S+)", line.strip())
        if match and (seconds := parse_duration(match[2])) is not None:
            phases[match[1]] = phases.get(match[1], 0.0) + seconds
    return phases


# Column keys, in report order, with their headers.
COLUMNS = {
    "rg": "rg",
    "graph": "ssot graph",
    "cold": "check (no cache)",
    "warm": "check (cache, unchanged)",
    "warm1": "check (cache, 1 file changed)",
    "fixdiff": "fix --diff (no cache)",
    "audit": "audit",
    "ruff": "ruff",
    "ruffwarm": "ruff (cache)",
    "cargo": "cargo check no-op",
}


def make_tools(args, found, binary, corpus):
    """The columns that apply to a corpus."""
    tools = {}
    threads = [] if args.threads is None else [str(args.threads)]
    rg_type = "py" if corpus.lang == "py" else "rust"
    if found.get("rg"):
        jobs = ["-j", threads[0]] if threads else []
        tools["rg"] = Tool(
            "rg",
            lambda c: [found["rg"], *jobs, "-t", rg_type, "-c", "-F", c.concept["name"], str(c.path)],
        )
    if binary is not None:
        extra = ["-v", *(["--threads", threads[0]] if threads else [])]
        timing_env = None
        if corpus.lang == "py":
            tools["graph"] = Tool(
                COLUMNS["graph"],
                lambda c: [str(binary), "graph", "--format", "summary", *extra, str(c.path)],
                timing_env, ok=(0,), phases=True,
            )
        check = lambda c, *flags: [str(binary), "check", "--format", "concise", *flags, *extra, str(c.path)]
        tools["cold"] = Tool(COLUMNS["cold"], lambda c: check(c, "--no-cache"), timing_env, phases=True)
        tools["warm"] = Tool(COLUMNS["warm"], lambda c: check(c), timing_env, phases=True)
        if not corpus.cargo:  # an edited member would make cargo's no-op a rebuild
            tools["warm1"] = Tool(COLUMNS["warm1"], lambda c: check(c), timing_env,
                                  prepare=change_one_file, phases=True)
        tools["fixdiff"] = Tool(
            COLUMNS["fixdiff"],
            lambda c: [str(binary), "fix", "--diff", "--no-cache", "--format", "concise", *extra, str(c.path)],
            timing_env, phases=True,
        )
        tools["audit"] = Tool(
            COLUMNS["audit"],
            lambda c: [str(binary), "audit", "--no-cache", "--top", "10", *extra, str(c.path)],
            timing_env, ok=(0,), phases=True,
        )
    if corpus.lang == "py" and found.get("ruff"):
        env = dict(os.environ)
        if threads:
            # ruff has no thread flag; its rayon pool reads this variable.
            env["RAYON_NUM_THREADS"] = threads[0]
        tools["ruff"] = Tool(
            "ruff",
            lambda c: [found["ruff"], "check", "--no-cache", "--select", "TID251", "--isolated",
                       "--quiet", str(c.path)],
            env, ok=None,
        )
        tools["ruffwarm"] = Tool(
            "ruff (cache)",
            lambda c: [found["ruff"], "check", "--select", "TID251", "--isolated", "--quiet",
                       "--cache-dir", str(c.path / ".ruff_cache"), str(c.path)],
            env, ok=None,
        )
    if corpus.cargo and found.get("cargo"):
        jobs = ["-j", threads[0]] if threads else []
        tools["cargo"] = Tool(
            COLUMNS["cargo"],
            lambda c: [found["cargo"], "check", "--offline", "--workspace", "--quiet", *jobs],
            lambda c: dict(os.environ, CARGO_TARGET_DIR=str(cargo_target(c))),
            ok=(0,), cwd=lambda c: c.path,
        )
    return tools


def cargo_target(corpus):
    """Outside the corpus, so that no tool walks the build output."""
    return corpus.path.parent.parent / "cargo-target" / corpus.name


_changes = {}


def change_one_file(corpus):
    """Edits one file of the corpus (a new comment line each time) so that a warm run has
    one file to collect again; restored by `restore_changed_files`."""
    path = corpus.path
    if path not in _changes:
        victim = min(p for p in path.rglob("*" + corpus.ext) if ".ssot_cache" not in p.parts)
        _changes[path] = (victim, victim.read_bytes(), 0)
    victim, original, count = _changes[path]
    _changes[path] = (victim, original, count + 1)
    comment = "#" if corpus.lang == "py" else "//"
    victim.write_bytes(original + f"\n{comment} bench edit {count + 1}\n".encode())


def restore_changed_files():
    for victim, original, _ in _changes.values():
        victim.write_bytes(original)
    _changes.clear()


def check_binary(binary, corpus):
    """None when the binary cannot run `graph --format summary` on the corpus."""
    _, result = run_measured([str(binary), "graph", "--format", "summary", str(corpus.path)])
    if result.returncode != 0:
        first = (result.stderr.decode(errors="replace").strip().splitlines() or ["?"])[0]
        log(f"warning: `{binary} graph --format summary {corpus.path}` exited with"
            f" {result.returncode} ({first}); the ssot-gardener columns are skipped")
        return None
    if re.search(rb"^files:\s+0$", result.stdout, re.M):
        log(f"warning: ssot-gardener found no files in {corpus.path}; its columns are skipped")
        return None
    log("ssot-gardener says: " + result.stdout.decode(errors="replace").strip().replace("\n", " | "))
    return binary


def files_seen(found, binary, corpus):
    """How many files each tool visits (ignore rules and default excludes differ)."""
    seen = {}
    kind = "py" if corpus.lang == "py" else "rust"
    if found.get("rg"):
        out = subprocess.run([found["rg"], "--files", "-t", kind, str(corpus.path)],
                             capture_output=True).stdout
        seen["rg"] = len(out.splitlines())
    if binary is not None:
        out = subprocess.run([str(binary), "graph", "--format", "summary", str(corpus.path)],
                             capture_output=True).stdout
        match = re.search(rb"^files:\s+(\d+)$", out, re.M)
        seen["ssot"] = int(match[1]) if match else None
    if corpus.lang == "py" and found.get("ruff"):
        out = subprocess.run([found["ruff"], "check", "--isolated", "--show-files", str(corpus.path)],
                             capture_output=True).stdout
        seen["ruff"] = sum(1 for line in out.splitlines() if line.strip().endswith(b".py"))
    return seen


def bench_corpus(tools, corpus, rounds):
    """Per tool: the times, the peak RSS (KiB) and the phases of every round."""
    order = list(tools)
    for name, tool in tools.items():  # warm the page cache (and the caches, and cargo's build)
        log(f"  warm-up: {tool.name} ...")
        _, result = tool.run(corpus)
        if tool.ok is not None and result.returncode not in tool.ok:
            raise SystemExit(f"`{' '.join(tool.argv(corpus))}` exited with {result.returncode}:\n"
                             + result.stderr.decode(errors="replace")[-4000:])
    times = {name: [] for name in tools}
    rss = {name: [] for name in tools}
    phases = {name: [] for name in tools}
    for round_index in range(rounds):
        # Alternate the order so no tool always runs right after another's cache effects.
        for name in order if round_index % 2 == 0 else reversed(order):
            elapsed, result = tools[name].run(corpus)
            times[name].append(elapsed)
            rss[name].append(result.maxrss_kib)
            if tools[name].phases:
                phases[name].append(parse_phases(result.stderr))
        log(f"  round {round_index + 1}/{rounds}: "
            + ", ".join(f"{n} {times[n][-1]:.3f}s {(rss[n][-1] or 0) / 1024:.0f}MiB" for n in order))
    return {"times": times, "rss": rss, "phases": phases}


def summarize(measured):
    times, rss = measured["times"], measured["rss"]
    out = {
        "median": {n: statistics.median(v) for n, v in times.items()},
        "rss": {n: statistics.median(v) / 1024 for n, v in rss.items() if None not in v},
        "ratio": {},
        "rss_ratio": {},
        "phases": {},
    }
    if "rg" in times:
        for name in times:
            if name != "rg":
                out["ratio"][name] = statistics.median(
                    t / r for t, r in zip(times[name], times["rg"]) if r > 0)
    if "ruff" in out["rss"]:
        for name in out["rss"]:
            out["rss_ratio"][name] = statistics.median(
                m / r for m, r in zip(rss[name], rss["ruff"]) if r > 0)
    for name, runs in measured["phases"].items():
        if runs:
            keys = [p for p in PHASES if any(p in run for run in runs)]
            keys += sorted({k for run in runs for k in run} - set(keys))
            phase = {k: statistics.median(run.get(k, 0.0) for run in runs) for k in keys}
            # Process start, configuration, teardown: the wall time no phase covers.
            phase["other"] = statistics.median(
                t - sum(run.values()) for t, run in zip(times[name], runs))
            out["phases"][name] = phase
    return out


# --- report ------------------------------------------------------------------------------


def fmt_s(value):
    return "n/a" if value is None else f"{value:.3f}"


def fmt_phase(value):
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f}" if value >= 0.0995 else f"{value * 1000:.1f}"


def print_tables(title, rows, names):
    """rows: (corpus, files, size, summary)."""
    print(f"### {title}")
    print()
    print("Seconds (median):")
    print()
    print("| corpus | files | MB | " + " | ".join(COLUMNS[n] for n in names) + " |")
    print("|---|---:|---:|" + "---:|" * len(names))
    for corpus, files, size, summary in rows:
        print(f"| {corpus.name} | {files:,} | {size / 1e6:.1f} | "
              + " | ".join(fmt_s(summary["median"].get(n)) for n in names) + " |")
    print()
    print("Each as a multiple of rg's time on the same files (median of per-round ratios):")
    print()
    ratio_names = [n for n in names if n != "rg"]
    print("| corpus | " + " | ".join(COLUMNS[n] for n in ratio_names) + " |")
    print("|---|" + "---:|" * len(ratio_names))
    for corpus, files, size, summary in rows:
        cells = [f"{summary['ratio'][n]:.2f}x" if n in summary["ratio"] else "n/a"
                 for n in ratio_names]
        print(f"| {corpus.name} | " + " | ".join(cells) + " |")
    print()
    with_ruff = any(summary["rss_ratio"] for *_, summary in rows)
    print("Peak RSS, MiB (median of `ru_maxrss`" + (", and as a multiple of ruff's" if with_ruff else "")
          + "):")
    print()
    print("| corpus | " + " | ".join(COLUMNS[n] for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for corpus, files, size, summary in rows:
        cells = []
        for n in names:
            if n not in summary["rss"]:
                cells.append("n/a")
                continue
            cell = f"{summary['rss'][n]:.0f}"
            if n in summary["rss_ratio"] and n != "ruff":
                cell += f" ({summary['rss_ratio'][n]:.1f}x)"
            cells.append(cell)
        print(f"| {corpus.name} | " + " | ".join(cells) + " |")
    print()
    print("Phases, ms (`-v`, median over the rounds; the binary prints durations of"
          " a second or more with one decimal; `other` is the wall time no phase covers: process"
          " start, configuration, teardown, and for `fix --diff` the whole fix loop after"
          " `resolve`):")
    print()
    print("| corpus | run | " + " | ".join(PHASES) + " | other | wall |")
    print("|---|---|" + "---:|" * (len(PHASES) + 2))
    for corpus, files, size, summary in rows:
        for n in ("graph", "cold", "warm", "warm1", "fixdiff"):
            phase = summary["phases"].get(n)
            if phase is None:
                continue
            cells = [fmt_phase(phase.get(p)) if p in phase else "" for p in PHASES]
            print(f"| {corpus.name} | {COLUMNS[n]} | " + " | ".join(cells)
                  + f" | {fmt_phase(phase['other'])} | {fmt_phase(summary['median'][n])} |")
    print()


def print_goals(results):
    print("### Goals")
    print()
    print("| corpus | measure | goal | measured | met |")
    print("|---|---|---:|---:|---|")
    for corpus, files, size, summary in results:
        if corpus.base is not None:
            continue
        for lang, column, limit, against in GOALS:
            if lang != corpus.lang:
                continue
            if column == "rss":
                value = summary["rss_ratio"].get("cold")
                label = "check (no cache) peak RSS vs ruff"
            elif against == "cold":
                # Both as multiples of rg in the same rounds: their quotient.
                ours, cold = summary["ratio"].get(column), summary["ratio"].get("cold")
                value = ours / cold if ours is not None and cold else None
                label = f"{COLUMNS[column]} vs {COLUMNS['cold']}"
            else:
                value = summary["ratio"].get(column)
                label = f"{COLUMNS[column]} vs rg"
            if value is None:
                continue
            print(f"| {corpus.name} | {label} | {limit:.1f}x | {value:.2f}x | "
                  f"{'yes' if value <= limit else 'no'} |")
    for corpus, files, size, summary in results:
        base = corpus.base
        if base is None:
            continue
        base_row = next((r for r in results if r[0] is base), None)
        if base_row is None:
            continue
        _, base_files, _, base_summary = base_row
        for column in ("cold", "warm", "fixdiff"):
            for kind, key in (("time", "median"), ("peak RSS", "rss")):
                if column in summary[key] and column in base_summary[key]:
                    growth = summary[key][column] / base_summary[key][column]
                    print(f"| {corpus.name} | {COLUMNS[column]} {kind}, {corpus.scale}x over 1x"
                          f" ({files / base_files:.2f}x the files) | {corpus.scale:.1f}x |"
                          f" {growth:.2f}x | {'yes' if growth <= corpus.scale else 'no'} |")
    print()


def print_growth(results):
    pairs = [(r, next((b for b in results if b[0] is r[0].base), None))
             for r in results if r[0].base is not None]
    pairs = [(r, b) for r, b in pairs if b is not None]
    if not pairs:
        return
    print("### Growth with `--scale`")
    print()
    for (corpus, files, size, summary), (base, base_files, base_size, base_summary) in pairs:
        print(f"{corpus.name}: {corpus.scale} copies, {files:,} files ({files / base_files:.2f}x),"
              f" {size / 1e6:.1f} MB ({size / base_size:.2f}x). Each figure at {corpus.scale}x,"
              " then as a multiple of the same figure at 1x; a multiple well above the files"
              " multiple is a phase that grows faster than linearly.")
        print()
        print("| column | seconds | growth | peak RSS MiB | growth |")
        print("|---|---:|---:|---:|---:|")
        for n, header in COLUMNS.items():
            if n in summary["median"] and n in base_summary["median"]:
                print(f"| {header} | {summary['median'][n]:.3f} |"
                      f" {summary['median'][n] / base_summary['median'][n]:.2f}x |"
                      f" {summary['rss'][n]:.0f} | {summary['rss'][n] / base_summary['rss'][n]:.2f}x |")
        print()
        print("| run | phase | ms at 1x | ms at " + f"{corpus.scale}x | growth |")
        print("|---|---|---:|---:|---:|")
        for n in ("cold", "warm", "fixdiff"):
            scaled, one = summary["phases"].get(n), base_summary["phases"].get(n)
            if not scaled or not one:
                continue
            for phase in PHASES + ["other"]:
                if phase in scaled and phase in one:
                    growth = f"{scaled[phase] / one[phase]:.2f}x" if one[phase] > 0 else "n/a"
                    print(f"| {COLUMNS[n]} | {phase} | {fmt_phase(one[phase])} |"
                          f" {fmt_phase(scaled[phase])} | {growth} |")
        print()


# --- main --------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(DEFAULT_BINARY),
                        help="the ssot-gardener binary (default: target/release/ssot-gardener);"
                             " copied to a private temporary file first, so a rebuild meanwhile"
                             " does not change what is measured")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per corpus (default 7)")
    parser.add_argument("--threads", type=int,
                        help="ssot-gardener --threads N, rg -j N, ruff RAYON_NUM_THREADS=N, cargo -j N")
    parser.add_argument("--corpus", action="append", default=[],
                        help="only corpora whose name contains this (repeatable): django, sympy,"
                             " ansible, monorepo, cpython, rust-workspace, cargo-registry, rust")
    parser.add_argument("--scale", type=int, default=1,
                        help="also measure N copies of the --scale-corpus corpora side by side")
    parser.add_argument("--scale-corpus", action="append", default=[],
                        help="which selected corpora --scale applies to (default: monorepo)")
    parser.add_argument("--scale-rounds", type=int,
                        help="timed rounds for the scaled corpora (default: --rounds)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="download and corpus cache")
    args = parser.parse_args()

    cache = Path(args.cache).resolve()
    (cache / "corpora").mkdir(parents=True, exist_ok=True)
    load_start = load()

    wanted = [c.lower() for c in args.corpus]

    def selected(name):
        return not wanted or any(w in name.lower() for w in wanted)

    corpora = []
    for name, version in PACKAGES:
        if selected(f"{name}-{version}"):
            corpora.append(fetch_sdist(cache, name, version))
    if selected("monorepo-ansible"):
        corpora.append(monorepo_corpus(cache))
    if selected("cpython-stdlib"):
        corpora.append(stdlib_corpus(cache))
    if selected("rust-workspace"):
        corpora.append(rust_workspace_corpus(cache))
    if selected("cargo-registry-rust"):
        corpora.append(registry_corpus(cache))
    if not corpora:
        raise SystemExit("no corpus selected")
    if args.scale > 1:
        scale_wanted = [c.lower() for c in args.scale_corpus] or ["monorepo"]
        for corpus in list(corpora):
            if any(w in corpus.name.lower() for w in scale_wanted):
                corpora.append(scaled_corpus(cache, corpus, args.scale))

    found = find_tools(cache)
    binary = None
    source = Path(args.binary)
    scratch = Path(tempfile.mkdtemp(prefix="ssot-bench-"))
    if source.is_file() and os.access(source, os.X_OK):
        binary = scratch / "ssot-gardener"
        shutil.copy2(source, binary)
        with open(binary, "rb") as program:
            digest = hashlib.file_digest(program, "sha256").hexdigest()[:12]
        log(f"measuring a copy of {source} (sha256 {digest}) at {binary}")
    else:
        log(f"warning: {source} not found (build it with `cargo build --release`, or pass"
            " --binary); the ssot-gardener columns are skipped")
    # Each corpus is a repository of its own: without an ssot.toml of its own, discovery would
    # walk up to this repository's ssot.toml, which excludes bench/.cache.
    for corpus in corpora:
        (corpus.path / "ssot.toml").write_text(concept_toml(corpus))
    if binary is not None:
        binary = check_binary(binary, min(corpora, key=lambda c: source_files(c)[0]))

    results = []
    seen_rows = []
    try:
        for corpus in corpora:
            files, size = source_files(corpus)
            rounds = args.scale_rounds if corpus.base is not None and args.scale_rounds else args.rounds
            log(f"{corpus.name}: {files} files, {size / 1e6:.1f} MB, {rounds} rounds, {load()}")
            tools = make_tools(args, found, binary, corpus)
            try:
                measured = bench_corpus(tools, corpus, rounds)
            finally:
                restore_changed_files()
            summary = summarize(measured)
            summary["rounds"] = rounds
            results.append((corpus, files, size, summary))
            seen_rows.append((corpus, files, files_seen(found, binary, corpus)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load_end = load()

    threads = args.threads if args.threads is not None else "default"
    rounds_note = f"{args.rounds}"
    if args.scale > 1 and args.scale_rounds and args.scale_rounds != args.rounds:
        rounds_note += f" ({args.scale_rounds} for the {args.scale}x corpora)"
    print(f"Machine: {machine()}  ")
    print(f"Load: {load_start} at the start, {load_end} at the end  ")
    print(f"Tools: ssot-gardener `{version_of(str(source)) if binary else 'skipped'}`, "
          f"`{version_of(found['rg']) if found.get('rg') else 'rg skipped'}`, "
          f"`{version_of(found['ruff']) if found.get('ruff') else 'ruff skipped'}`, "
          f"`{version_of(found['cargo']) if found.get('cargo') else 'cargo skipped'}`  ")
    print(f"Rounds: {rounds_note} (median; each round runs every tool once, the order alternates"
          f" each round; one untimed warm-up), threads: {threads}  ")
    print("Commands: `rg -t py|rust -c -F NAME DIR` (NAME: the concept's name, a literal);"
          " `ssot-gardener graph --format summary DIR`;"
          " `ssot-gardener check --format concise [--no-cache] DIR` (one concept per corpus, see"
          " CONCEPTS in bench.py; the warm runs find `.ssot_cache/` from the untimed warm-up, and"
          " the 1-file run edits one file before each round);"
          " `ssot-gardener fix --diff --no-cache --format concise DIR` (every safe fix, printed,"
          " nothing written);"
          " `ruff check [--no-cache] --select TID251 --isolated --quiet DIR`;"
          " `cargo check --offline --workspace --quiet` (built by the warm-up: a no-op)."
          " Every ssot-gardener run has `-v`.")
    print()
    concepts = sorted({(c.concept["canonical"], c.concept["name"]) for c in corpora})
    print("Concepts: " + "; ".join(
        f"{', '.join(c.name for c in corpora if c.concept['canonical'] == canonical)}:"
        f" `{canonical}` (rg searches `{name}`)" for canonical, name in concepts))
    print()
    py_rows = [r for r in results if r[0].lang == "py"]
    rust_rows = [r for r in results if r[0].lang == "rust"]
    if py_rows:
        names = [n for n in COLUMNS if any(n in r[3]["median"] for r in py_rows)]
        print_tables("Python", py_rows, names)
    if rust_rows:
        names = [n for n in COLUMNS if any(n in r[3]["median"] for r in rust_rows)]
        print_tables("Rust", rust_rows, names)
    print_growth(results)
    print_goals(results)
    print("### Files each tool visits")
    print()
    print("(ignore rules and default excludes differ; `ruff` excludes `build`, `dist`, `venv`, ..."
          " by default)")
    print()
    print("| corpus | *.py / *.rs outside hidden dirs | rg --files | ssot-gardener graph | ruff --show-files |")
    print("|---|---:|---:|---:|---:|")
    for corpus, files, seen in seen_rows:
        counts = [f"{seen[tool]:,}" if seen.get(tool) is not None else "n/a"
                  for tool in ("rg", "ssot", "ruff")]
        print(f"| {corpus.name} | {files:,} | " + " | ".join(counts) + " |")


if __name__ == "__main__":
    main()
