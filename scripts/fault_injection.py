#!/usr/bin/env python3
"""Fault injection for `fix` (issue 17): interrupt the write phase, then check nothing is lost.

A generated tree of many modules, each with an indirect import of a concept that the safe fix
rewrites (and enough other code that writing takes a while), is fixed again and again from a
pristine copy. Each trial sends SIGINT, SIGTERM or SIGKILL to `fix` at a random moment around
its write phase (between the end of a `fix --diff`, which computes everything and writes
nothing, and the end of a full `fix`), then checks:

- every file is byte for byte its old text or its fixed text (no torn file);
- the temporaries left behind (`.NAME.ssot-fix.PID.tmp`): none after SIGINT/SIGTERM, which stop
  between two files; SIGKILL may leave one;
- the next `fix` run removes the stale temporaries and leaves the tree exactly as an
  uninterrupted `fix` does.

    python3 scripts/fault_injection.py [--files 3000] [--trials 30] [--seed 1]

Writes the results to docs/fault-injection.md. Standard library only; the binary is
$SSOT_BIN or target/release/ssot-gardener.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("SSOT_BIN", REPO / "target" / "release" / "ssot-gardener"))
DOC = REPO / "docs" / "fault-injection.md"

CONFIG = """[project]
python-roots = ["."]

[[concept]]
name = "thing"
canonical = "pkg.core.Thing"
"""

FILLER = "".join(
    f"\n\ndef helper_{i}(value):\n    \"\"\"Filler, so that writing the tree takes a while.\"\"\"\n"
    f"    return [value * {i} for _ in range({i % 7 + 1})]\n"
    for i in range(120)
)


def generate(root: Path, files: int) -> None:
    (root / "pkg" / "mods").mkdir(parents=True)
    (root / "ssot.toml").write_text(CONFIG)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mods" / "__init__.py").write_text("")
    (root / "pkg" / "core.py").write_text("class Thing:\n    def run(self):\n        return 1\n")
    (root / "pkg" / "compat.py").write_text("from pkg.core import Thing\n\n__all__ = [\"Thing\"]\n")
    for i in range(files):
        (root / "pkg" / "mods" / f"m{i:05}.py").write_text(
            f"import os\n\nfrom pkg.compat import Thing\n\n\ndef use_{i}():\n"
            f"    return Thing().run(), os.sep\n{FILLER}"
        )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".ssot_cache" not in p.parts
    }


def temporaries(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".*.ssot-fix.*.tmp"))


def fix(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, "fix", "--no-cache", *extra], cwd=root, capture_output=True)


def timed(root: Path, *extra: str) -> float:
    started = time.monotonic()
    fix(root, *extra)
    return time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="ssot-faults-"))
    try:
        pristine = work / "pristine"
        generate(pristine, args.files)
        old = snapshot(pristine)
        reference = work / "reference"
        shutil.copytree(pristine, reference)
        fix(reference)
        new = snapshot(reference)
        changed = sum(1 for path in old if old[path] != new.get(path))
        size = sum(len(text) for text in old.values())
        # The write phase lies between a `fix --diff` (everything but the writes) and a `fix`.
        diffs, fulls = [], []
        for _ in range(3):
            scratch = work / "scratch"
            shutil.copytree(pristine, scratch)
            diffs.append(timed(scratch, "--diff"))
            fulls.append(timed(scratch))
            shutil.rmtree(scratch)
        begin, end = statistics.median(diffs), statistics.median(fulls)
        print(f"{args.files} files ({size / 1e6:.1f} MB), {changed} fixed by `fix`; "
              f"`fix --diff` {begin:.2f} s, `fix` {end:.2f} s", flush=True)
        signals = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
        rows = []
        for trial in range(args.trials):
            sig = signals[trial % len(signals)]
            delay = rng.uniform(begin * 0.9, end * 1.5)
            tree = work / f"trial{trial}"
            shutil.copytree(pristine, tree)
            proc = subprocess.Popen([BIN, "fix", "--no-cache"], cwd=tree,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(delay)
            proc.send_signal(sig)
            _, err = proc.communicate()
            after = snapshot(tree)
            torn = [p for p, text in after.items()
                    if ".ssot-fix." not in p and text != old.get(p) and text != new.get(p)]
            lost = [p for p in old if p not in after]
            written = sum(1 for p in old if old[p] != new.get(p) and after.get(p) == new.get(p))
            left = temporaries(tree)
            again = fix(tree)
            final = snapshot(tree)
            converged = final == new
            left_after = temporaries(tree)
            rows.append({
                "trial": trial, "signal": sig.name, "delay": delay, "exit": proc.returncode,
                "written": written, "torn": len(torn) + len(lost), "left": len(left),
                "again": again.returncode, "converged": converged, "left_after": len(left_after),
                "said": err.decode(errors="replace").strip().splitlines()[-1:] or [""],
            })
            r = rows[-1]
            print(f"  {trial:2} {sig.name:7} at {delay:.2f} s: exit {r['exit']}, wrote "
                  f"{written}/{changed}, torn {r['torn']}, temporaries {r['left']}; next run: "
                  f"exit {r['again']}, {'same as' if converged else 'DIFFERS from'} an "
                  f"uninterrupted fix, temporaries {r['left_after']}", flush=True)
            shutil.rmtree(tree)
        write_doc(args, rows, changed, size, begin, end)
        bad = [r for r in rows if r["torn"] or not r["converged"] or r["left_after"]
               or (r["signal"] != "SIGKILL" and r["left"])]
        print(f"{len(rows)} trials, {len(bad)} bad; wrote {DOC.relative_to(REPO)}")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_doc(args, rows, changed, size, begin, end) -> None:
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.strip()
    by_signal: dict[str, list[dict]] = {}
    for r in rows:
        by_signal.setdefault(r["signal"], []).append(r)
    lines = [
        "# Fault injection: `fix` interrupted while it writes",
        "",
        "`python3 scripts/fault_injection.py` (see its docstring) fixes a generated tree from a "
        "pristine copy and sends SIGINT, SIGTERM or SIGKILL at a random moment between the end "
        "of a `fix --diff` and one and a half times a full `fix` (the write phase, and a little after), then checks every file "
        "is its old or its fixed text, counts the temporaries left, and runs `fix` again, which "
        "must clean up and end exactly where an uninterrupted `fix` does.",
        "",
        f"- binary: {version}; run {time.strftime('%Y-%m-%d %H:%M')}; "
        f"`--files {args.files} --trials {args.trials} --seed {args.seed}`",
        f"- tree: {args.files} modules, {size / 1e6:.1f} MB; `fix` rewrites {changed}; "
        f"`fix --diff` {begin:.2f} s, `fix` {end:.2f} s (medians of 3)",
        "",
        "| signal | trials | stopped mid-write | files written (min-max) | torn files | temporaries left | next run converged | temporaries after the next run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for sig, rs in by_signal.items():
        mid = sum(1 for r in rs if 0 < r["written"] < changed)
        lines.append(
            f"| {sig} | {len(rs)} | {mid} | {min(r['written'] for r in rs)}-"
            f"{max(r['written'] for r in rs)} | {sum(r['torn'] for r in rs)} | "
            f"{sum(r['left'] for r in rs)} | {sum(r['converged'] for r in rs)}/{len(rs)} | "
            f"{sum(r['left_after'] for r in rs)} |")
    lines += ["", "Every trial:", "",
              "| # | signal | at (s) | exit | written | torn | temporaries | next run exit | converged | last line of stderr |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        said = r["said"][0].replace("|", "\\|")[:90]
        lines.append(f"| {r['trial']} | {r['signal']} | {r['delay']:.2f} | {r['exit']} | "
                     f"{r['written']} | {r['torn']} | {r['left']} | {r['again']} | "
                     f"{'yes' if r['converged'] else 'NO'} | {said} |")
    DOC.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
