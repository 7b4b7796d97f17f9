#!/usr/bin/env python3
"""Prove that two builds of ssot-gardener print byte-identical output.

Usage (from anywhere; commands run with the repository root as working directory):

    python3 bench/compare_outputs.py --base /tmp/ssot-base --new target/release/ssot-gardener \
        [--corpus DIR ...] [--out bench/compare-outputs.md]

Targets: every `fixtures/check/*/` holding an `ssot.toml`, plus each `--corpus DIR`.
For every target, both binaries run the same commands and their stdout bytes, stderr bytes
and exit codes are compared:

    check --no-cache --format json|sarif|concise DIR, check --no-cache DIR (human),
    check --format json DIR twice (the second, warm run is compared; `DIR/.ssot_cache` is
    deleted before each binary's first run and at the end),
    and for fixtures only: graph --format json DIR, fix --diff --no-cache DIR.

All runs get NO_COLOR=1 (SSOT_TIMINGS is removed) and the same argv[0], so clap messages
cannot differ by binary name. Each run has a 300 s timeout; at most 2 jobs run at once.
Prints one line per (target, command), writes a markdown report to --out, and exits 1 if
anything differs (a timeout counts as a difference).
"""

import argparse
import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 300
CACHE_DIR = ".ssot_cache"
ENV = {**os.environ, "NO_COLOR": "1"}
ENV.pop("SSOT_TIMINGS", None)

# (name, arguments before DIR, fixtures only)
COMMANDS = [
    ("check json", ["check", "--no-cache", "--format", "json"], False),
    ("check sarif", ["check", "--no-cache", "--format", "sarif"], False),
    ("check concise", ["check", "--no-cache", "--format", "concise"], False),
    ("check human", ["check", "--no-cache"], False),
    ("graph json", ["graph", "--format", "json"], True),  # graph has no --no-cache
    ("check json warm", ["check", "--format", "json"], False),
    ("fix --diff", ["fix", "--diff", "--no-cache"], True),
]


def run(binary, args):
    """Run one command; return (stdout, stderr, exit code or 'timeout')."""
    try:
        done = subprocess.run(
            ["ssot-gardener", *args],
            executable=binary,
            cwd=REPO,
            env=ENV,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as expired:
        return expired.stdout or b"", expired.stderr or b"", "timeout"
    return done.stdout, done.stderr, done.returncode


def remove_cache(target):
    shutil.rmtree(REPO / target / CACHE_DIR, ignore_errors=True)


def run_warm(binary, args, target):
    """Cold run to fill the cache, then the warm run whose output is returned."""
    remove_cache(target)
    first = run(binary, args)
    if first[2] != "timeout" and not (REPO / target / CACHE_DIR).is_dir():
        print(f"warning: {target}: no {CACHE_DIR}/ after the first run", file=sys.stderr)
    return run(binary, args)


def first_difference(base, new):
    """Describe where two results first differ, or return None if they are identical."""
    for stream, a, b in (("stdout", base[0], new[0]), ("stderr", base[1], new[1])):
        if a == b:
            continue
        lines_a, lines_b = a.splitlines(), b.splitlines()
        for number in range(max(len(lines_a), len(lines_b))):
            line_a = lines_a[number] if number < len(lines_a) else b"<end of output>"
            line_b = lines_b[number] if number < len(lines_b) else b"<end of output>"
            if line_a != line_b:
                break
        else:  # same lines: the difference is in line endings
            return f"{stream} line endings: base {shorten(a[-20:])} / new {shorten(b[-20:])}"
        return f"{stream} line {number + 1}: base {shorten(line_a)} / new {shorten(line_b)}"
    if base[2] != new[2]:
        return f"exit code: base {base[2]} / new {new[2]}"
    if base[2] == "timeout":
        return "both timed out"
    return None


def shorten(line, limit=160):
    text = repr(line.decode("utf-8", "replace"))
    return text if len(text) <= limit else text[:limit] + "...'"


def job(base, new, target, name, args):
    """Run one (target, command) for both binaries: (target, name, difference, base exit)."""
    full = [*args, str(target)]
    if name.endswith("warm"):
        results = [run_warm(binary, full, target) for binary in (base, new)]
        remove_cache(target)
    else:
        results = [run(binary, full) for binary in (base, new)]
    return target, name, first_difference(*results), results[0][2]


def describe(binary):
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    digest = hashlib.sha256(Path(binary).read_bytes()).hexdigest()
    return version.strip(), digest


def write_report(out, base, new, targets, results, date):
    names = [name for name, _, _ in COMMANDS]
    differing = [(t, n, d) for (t, n), (d, _) in results.items() if d is not None]
    lines = [
        "# compare_outputs: base vs new",
        "",
        f"Date: `{date}`",
        "",
        "| binary | path | `--version` | sha256 |",
        "|---|---|---|---|",
    ]
    for label, binary in (("base", base), ("new", new)):
        version, digest = describe(binary)
        lines.append(f"| {label} | `{binary}` | `{version}` | `{digest}` |")
    lines += [
        "",
        "Commands: " + "; ".join(f"**{n}** = `{' '.join(a)} DIR`" for n, a, _ in COMMANDS),
        "(warm: the second of two runs, cache deleted before each binary's first run).",
        "NO_COLOR=1; stdout bytes, stderr bytes and exit code compared; (N) is the exit code.",
        "",
        "| target | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for target, _ in targets:
        cells = []
        for name in names:
            if (target, name) not in results:
                cells.append("-")
            else:
                difference, code = results[(target, name)]
                cells.append(f"same ({code})" if difference is None else "**DIFFERENT**")
        lines.append(f"| `{target}` | " + " | ".join(cells) + " |")
    lines += ["", f"Totals: {len(results)} comparisons, {len(results) - len(differing)} same, "
              f"{len(differing)} different.", ""]
    if differing:
        lines += ["## Differences", ""]
        lines += [f"- `{t}` {n}: " + d.replace("|", "\\|") for t, n, d in sorted(differing)]
        lines.append("")
    Path(out).write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the reference binary")
    parser.add_argument("--new", required=True, help="the binary under test")
    parser.add_argument("--corpus", action="append", default=[], help="a corpus directory")
    parser.add_argument("--out", default=str(REPO / "bench" / "compare-outputs.md"))
    options = parser.parse_args()
    base, new = (str(Path(b).resolve()) for b in (options.base, options.new))
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()

    # (path relative to the repository root when inside it, is a fixture)
    targets = [(Path(os.path.relpath(d.parent, REPO)), True)
               for d in sorted((REPO / "fixtures" / "check").glob("*/ssot.toml"))]
    for corpus in options.corpus:
        if not (Path(corpus) / "ssot.toml").is_file():
            parser.error(f"{corpus} has no ssot.toml")
        targets.append((Path(os.path.relpath(Path(corpus).resolve(), REPO)), False))

    jobs = [(target, name, args) for target, fixture in targets
            for name, args, fixture_only in COMMANDS if fixture or not fixture_only]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for target, name, difference, code in pool.map(lambda j: job(base, new, *j), jobs):
            results[(target, name)] = (difference, code)
            verdict = f"same (exit {code})" if difference is None else f"DIFFERENT  {difference}"
            print(f"{str(target):<60} {name:<16} {verdict}", flush=True)

    different = sum(d is not None for d, _ in results.values())
    print(f"\n{len(results)} comparisons: {len(results) - different} same, {different} different")
    write_report(options.out, base, new, targets, results, date)
    print(f"report: {options.out}")

    leftover = subprocess.run(["git", "--no-optional-locks", "status", "--short", "fixtures"],
                              cwd=REPO, capture_output=True, text=True).stdout
    caches = list((REPO / "fixtures").rglob(CACHE_DIR))
    if leftover or caches:
        print(f"warning: fixtures not clean:\n{leftover}{caches}", file=sys.stderr)
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
