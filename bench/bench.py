#!/usr/bin/env python3
"""Benchmark ssot-gardener against ripgrep (the I/O floor) and ruff (the fastest peer).

Standard library only. See bench/README.md. In short:

    cargo build --release
    python3 bench/bench.py                      # all corpora, 7 rounds
    python3 bench/bench.py --threads 1 --rounds 3 --corpus django

Corpora are real public code fetched once into bench/.cache/ (gitignored): source
distributions from PyPI (`pip download --no-binary :all:`) and the standard library of the
newest CPython installed under pyenv. The output is a Markdown report for BENCHMARKS.md.
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
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

RG_PATTERN = r"^\s*(from|import)\s"

# A concept per corpus, declared on one of its real classes, so that `check` has real work:
# the concept table, every rule, and findings to print. Keys match the corpus directory name.
CONCEPTS = {
    "django": ("django.http.response.HttpResponse", ["*HttpResponse"], ["make_*response*"], []),
    "sympy": ("sympy.core.basic.Basic", ["*Basic"], [], []),
    "ansible": ("ansible_collections.fortinet.fortimanager.plugins.module_utils.napi.NAPIManager", ["*NAPIManager"], [], []),
    "cpython": ("logging.Logger", ["*Logger"], ["get*Logger*"], ["logging.getLogger"]),
}


def concept_toml(corpus_name):
    """The ssot.toml of a corpus: its own repository root, with one concept."""
    text = '[project]\npython-roots = ["."]\n'
    for prefix, (canonical, implementations, factories, allowed) in CONCEPTS.items():
        if corpus_name.lower().startswith(prefix):
            text += (
                '\n[[concept]]\nname = "bench"\n'
                f'canonical = "{canonical}"\n'
                f"implementations = {implementations!r}\n"
                f"factories = {factories!r}\n"
                f"allowed-factories = {allowed!r}\n"
            ).replace("'", '"')
    return text


def log(message):
    print(message, file=sys.stderr, flush=True)


def normalize(name):
    """PEP 503-ish normalization, also folding `.` and `-` into `_` as sdist file names do."""
    return re.sub(r"[-_.]+", "_", name).lower()


# --- corpora -----------------------------------------------------------------------------


def fetch_sdist(cache, name, version):
    """Downloads and unpacks `name==version` once; returns the corpus directory."""
    corpus = cache / "corpora" / f"{normalize(name)}-{version}"
    marker = cache / "corpora" / f"{normalize(name)}-{version}.complete"
    if marker.exists() and corpus.is_dir():
        return corpus
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
    marker.touch()
    return corpus


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
        return corpus
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
    return corpus


def python_files(directory):
    """(count, bytes) of the *.py files outside hidden directories (what rg -t py searches)."""
    count = size = 0
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".py") and not name.startswith("."):
                count += 1
                size += os.path.getsize(os.path.join(root, name))
    return count, size


# --- tools -------------------------------------------------------------------------------


def find_tools(cache):
    """Paths of rg and ruff (None when unavailable), installing them into the cache if needed."""
    tools_dir = cache / "tools"
    found = {}
    missing = []
    for name in ("rg", "ruff"):
        path = shutil.which(name) or shutil.which(name, path=str(tools_dir / "bin"))
        if path:
            found[name] = path
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


# --- measuring ---------------------------------------------------------------------------


class Tool:
    def __init__(self, name, argv, env=None, prepare=None):
        self.name = name
        self.argv = argv  # a function of the corpus directory
        self.env = env
        self.prepare = prepare  # untimed, before each run: a function of the corpus directory

    def run(self, corpus):
        """Wall-clock seconds of one run. Output goes to a pipe, not /dev/null: ripgrep stops
        at the first match when it sees its output discarded."""
        if self.prepare:
            self.prepare(corpus)
        start = time.perf_counter()
        result = subprocess.run(
            self.argv(corpus), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env
        )
        elapsed = time.perf_counter() - start
        return elapsed, result


def make_tools(args, found):
    tools = {}
    threads = [] if args.threads is None else [str(args.threads)]
    if found.get("rg"):
        jobs = ["-j", threads[0]] if threads else []
        tools["rg"] = Tool(
            "rg",
            lambda d: [found["rg"], *jobs, "--count-matches", "-t", "py", RG_PATTERN, str(d)],
        )
    binary = Path(args.binary)
    if binary.is_file() and os.access(binary, os.X_OK):
        extra = ["--threads", threads[0]] if threads else []
        tools["ssot"] = Tool(
            "ssot-gardener graph",
            lambda d: [str(binary), "graph", "--format", "summary", *extra, str(d)],
        )
        check = lambda d, *flags: [str(binary), "check", "--format", "concise", *flags, *extra, str(d)]
        tools["cold"] = Tool("check (no cache)", lambda d: check(d, "--no-cache"))
        tools["warm"] = Tool("check (cache, unchanged)", lambda d: check(d))
        tools["warm1"] = Tool("check (cache, 1 file changed)", lambda d: check(d), prepare=change_one_file)
    else:
        log(f"warning: {binary} not found (build it with `cargo build --release`, or pass"
            " --binary); the ssot-gardener columns are skipped")
    if found.get("ruff"):
        env = dict(os.environ)
        if threads:
            # ruff has no thread flag; its rayon pool reads this variable.
            env["RAYON_NUM_THREADS"] = threads[0]
        tools["ruff"] = Tool(
            "ruff",
            lambda d: [
                found["ruff"], "check", "--no-cache", "--select", "TID251", "--isolated",
                "--quiet", str(d),
            ],
            env,
        )
        tools["ruffwarm"] = Tool(
            "ruff (cache)",
            lambda d: [
                found["ruff"], "check", "--select", "TID251", "--isolated", "--quiet",
                "--cache-dir", str(Path(d) / ".ruff_cache"), str(d),
            ],
            env,
        )
    return tools


_changes = {}


def change_one_file(corpus):
    """Edits one file of the corpus (a new comment line each time) so that a warm run has
    one file to collect again; restored by `restore_changed_files`."""
    corpus = Path(corpus)
    if corpus not in _changes:
        victim = min(p for p in corpus.rglob("*.py") if ".ssot_cache" not in p.parts)
        _changes[corpus] = (victim, victim.read_bytes(), 0)
    victim, original, count = _changes[corpus]
    _changes[corpus] = (victim, original, count + 1)
    victim.write_bytes(original + f"\n# bench edit {count + 1}\n".encode())


def restore_changed_files():
    for victim, original, _ in _changes.values():
        victim.write_bytes(original)
    _changes.clear()


def check_ssot(tools, corpus):
    """Drops the ssot-gardener column when the binary cannot run `graph --format summary`."""
    tool = tools.get("ssot")
    if tool is None:
        return
    _, result = tool.run(corpus)
    if result.returncode != 0:
        first = (result.stderr.decode(errors="replace").strip().splitlines() or ["?"])[0]
        log(f"warning: `{' '.join(tool.argv(corpus))}` exited with {result.returncode}"
            f" ({first}); the ssot-gardener column is skipped")
        del tools["ssot"]
    elif re.search(rb"^files:\s+0$", result.stdout, re.M):
        log(f"warning: ssot-gardener found no files in {corpus}; the ssot-gardener column is skipped")
        del tools["ssot"]
    else:
        log("ssot-gardener says: " + result.stdout.decode(errors="replace").strip().replace("\n", " | "))


def files_seen(found, corpus):
    """How many files rg and ruff actually visit (ignore rules and default excludes differ)."""
    seen = {}
    if found.get("rg"):
        out = subprocess.run([found["rg"], "--files", "-t", "py", str(corpus)],
                             capture_output=True).stdout
        seen["rg"] = len(out.splitlines())
    if found.get("ruff"):
        out = subprocess.run([found["ruff"], "check", "--isolated", "--show-files", str(corpus)],
                             capture_output=True).stdout
        seen["ruff"] = sum(1 for line in out.splitlines() if line.strip().endswith(b".py"))
    return seen


def bench_corpus(tools, corpus, rounds):
    """Median seconds per tool and median per-round ratios to rg."""
    order = list(tools)
    for name, tool in tools.items():  # warm the page cache (and the caches); not timed
        _, result = tool.run(corpus)
        if name in ("cold", "warm", "warm1") and result.returncode not in (0, 1):
            raise SystemExit(f"`{' '.join(tool.argv(corpus))}` failed:\n"
                             + result.stderr.decode(errors="replace"))
    times = {name: [] for name in tools}
    for round_index in range(rounds):
        # Alternate the order so no tool always runs right after another's cache effects.
        for name in order if round_index % 2 == 0 else reversed(order):
            elapsed, _ = tools[name].run(corpus)
            times[name].append(elapsed)
        log(f"  round {round_index + 1}/{rounds}: "
            + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in order))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratios = {}
    if "rg" in times:
        for name in times:
            if name != "rg":
                ratios[name] = statistics.median(
                    t / r for t, r in zip(times[name], times["rg"]) if r > 0
                )
    return medians, ratios


# --- main --------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=str(DEFAULT_BINARY),
                        help="the ssot-gardener binary (default: target/release/ssot-gardener)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per corpus (default 7)")
    parser.add_argument("--threads", type=int, help="ssot-gardener --threads N, rg -j N, ruff RAYON_NUM_THREADS=N")
    parser.add_argument("--corpus", action="append", default=[],
                        help="only corpora whose name contains this (repeatable)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="download and corpus cache")
    args = parser.parse_args()

    cache = Path(args.cache).resolve()
    (cache / "corpora").mkdir(parents=True, exist_ok=True)

    wanted = [c.lower() for c in args.corpus]

    def selected(name):
        return not wanted or any(w in name.lower() for w in wanted)

    corpora = []
    for name, version in PACKAGES:
        if selected(f"{name}-{version}"):
            corpora.append(fetch_sdist(cache, name, version))
    if selected("cpython-stdlib"):
        corpora.append(stdlib_corpus(cache))
    if not corpora:
        raise SystemExit("no corpus selected")

    found = find_tools(cache)
    tools = make_tools(args, found)
    # Each corpus is a repository of its own: without an ssot.toml of its own, discovery would
    # walk up to this repository's ssot.toml, which excludes bench/.cache.
    for corpus in corpora:
        (Path(corpus) / "ssot.toml").write_text(concept_toml(Path(corpus).name))
    check_ssot(tools, min(corpora, key=lambda c: python_files(c)[0]))
    if not tools:
        raise SystemExit("no tool to run")

    rows = []
    seen_rows = []
    for corpus in corpora:
        files, size = python_files(corpus)
        log(f"{corpus.name}: {files} files, {size / 1e6:.1f} MB")
        try:
            medians, ratios = bench_corpus(tools, corpus, args.rounds)
        finally:
            restore_changed_files()
        rows.append((corpus.name, files, size, medians, ratios))
        seen_rows.append((corpus.name, files, files_seen(found, corpus)))

    def seconds(medians, name):
        return f"{medians[name]:.3f}" if name in medians else "n/a"

    def ratio(ratios, name):
        return f"{ratios[name]:.2f}" if name in ratios else "n/a"

    threads = args.threads if args.threads is not None else "default"
    print(f"Machine: {machine()}  ")
    print(f"Tools: ssot-gardener `{version_of(args.binary) if 'ssot' in tools else 'skipped'}`, "
          f"`{version_of(found['rg']) if found.get('rg') else 'rg skipped'}`, "
          f"`{version_of(found['ruff']) if found.get('ruff') else 'ruff skipped'}`  ")
    print(f"Rounds: {args.rounds} (median; order alternates each round; one untimed warm-up), threads: {threads}  ")
    print("Commands: `rg --count-matches -t py '^\\s*(from|import)\\s' DIR`; "
          "`ssot-gardener graph --format summary DIR`; "
          "`ssot-gardener check --format concise [--no-cache] DIR` (one concept per corpus, see"
          " CONCEPTS in bench.py; the warm runs find `.ssot_cache/` from the untimed warm-up, and"
          " the 1-file run edits one file before each round); "
          "`ruff check [--no-cache] --select TID251 --isolated --quiet DIR`")
    print()
    names = [n for n in ("ssot", "cold", "warm", "warm1", "ruff", "ruffwarm") if n in tools]
    print("Seconds (median):")
    print()
    print("| corpus | files | MB | rg | " + " | ".join(tools[n].name for n in names) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(names))
    for name, files, size, medians, ratios in rows:
        print(f"| {name} | {files:,} | {size / 1e6:.1f} | {seconds(medians, 'rg')} | "
              + " | ".join(seconds(medians, n) for n in names) + " |")
    print()
    print("Each as a multiple of rg's time on the same files (median of per-round ratios):")
    print()
    print("| corpus | " + " | ".join(tools[n].name for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for name, files, size, medians, ratios in rows:
        print(f"| {name} | " + " | ".join(ratio(ratios, n) + "x" for n in names) + " |")
    print()
    print("Files each tool visits (ignore rules and default excludes differ; `ruff` excludes"
          " `build`, `dist`, `venv`, ... by default):")
    print()
    print("| corpus | *.py outside hidden dirs | rg --files -t py | ruff --show-files |")
    print("|---|---:|---:|---:|")
    for name, files, seen in seen_rows:
        counts = [f"{seen[tool]:,}" if tool in seen else "n/a" for tool in ("rg", "ruff")]
        print(f"| {name} | {files:,} | {counts[0]} | {counts[1]} |")


if __name__ == "__main__":
    main()
