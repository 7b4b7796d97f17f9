#!/usr/bin/env python3.11
"""Rust ecosystem check: run ssot-gardener on real multi-crate Rust families and prove its fixes
compile and pass the tests.

README
------
    python3.11 ecosystem/rust/run.py                  # every project of projects.toml
    python3.11 ecosystem/rust/run.py --only regex     # one project (repeatable, or a,b)
    python3.11 ecosystem/rust/run.py --skip-tests     # cargo check only
    python3.11 ecosystem/rust/run.py --report-only    # rewrite docs/ecosystem-rust.md from results.json

Standard library only (python3.11, tomllib). The binary is $SSOT_BIN (default
target/release/ssot-gardener; never built here), copied to .work/ssot-gardener at the start.
The first run needs crates.io (the pinned .crate files and the dev-dependencies are fetched with
`cargo fetch`); later runs are offline. The lockfile of each workspace is kept in locks/ so that
every run compiles the same dependency versions.

For each project: the pinned crates are unpacked from ~/.cargo/registry/cache into
.work/<name>/pristine/<crate>/ under a generated root Cargo.toml (`[workspace] members`, and
`[patch.crates-io]` pointing every family crate at its local copy). Then, on one working tree
(.work/<name>/tree, so cargo's incremental state is reused between stages; every file is copied
with a fresh mtime, so no stale build is trusted):

1. `ssot-gardener check --format json --no-cache` (findings by rule, wall time);
2. `cargo check --offline --locked --workspace <check-targets>` and `cargo test` (before);
3. `ssot-gardener fix --no-cache` (safe), then cargo check and test again;
4. a second `fix` on a scratch copy must change nothing;
5. `ssot-gardener fix --unsafe-fixes --no-cache`, cargo check and test, and a second
   `fix --unsafe-fixes` on a scratch copy must change nothing.

Each compile error that a stage introduces is recorded with its file, line, and the diff hunk of
that stage that touches the file (the fix that caused it). Each stage's tree is kept in
.work/<name>/stage-<stage>/ and its diff in .work/<name>/<stage>.diff. Results go to
ecosystem/rust/results.json and docs/ecosystem-rust.md; verdicts (true / debatable / wrong, human
judgements keyed by finding fingerprint) live in verdicts.toml; bugs.md (hand-written minimal
reproductions) is included in the report as it is.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / ".work"
LOCKS = HERE / "locks"
PROJECTS = HERE / "projects.toml"
VERDICTS = HERE / "verdicts.toml"
BUGS = HERE / "bugs.md"
RESULTS = HERE / "results.json"
DOC = REPO / "docs" / "ecosystem-rust.md"
DEFAULT_BIN = REPO / "target" / "release" / "ssot-gardener"
CARGO_HOME = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
SKIP_DIRS = {"target", ".ssot_cache"}
SAMPLE_SIZE = 30
CHECK_TIMEOUT = 1800
TEST_TIMEOUT = 1800
STAGES = ("before", "safe", "unsafe")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd, *, cwd=None, env=None, timeout=None) -> subprocess.CompletedProcess:
    """Run in its own process group (killed whole on timeout); rc None means timed out."""
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
    return subprocess.CompletedProcess(cmd, rc, out, err)


def tail(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


# ---------------------------------------------------------------------------------------------
# Projects


def load_projects() -> list[dict]:
    raw = tomllib.loads(PROJECTS.read_text())
    out = []
    for p in raw["project"]:
        crates = []
        for spec in p["crates"]:
            name, ver = spec.split("@")
            crates.append((name, ver))
        p["crates"] = crates
        p["why"] = " ".join(p.get("why", "").split())
        for c in p.get("concept", []):
            c["why"] = " ".join(c.get("why", "").split())
        out.append(p)
    return out


def ssot_toml(p: dict) -> str:
    lines = ["[project]", 'rust-roots = ["."]', ""]
    for c in p["concept"]:
        lines.append("[[concept]]")
        for k, v in c.items():
            if k != "why":
                lines.append(f"{k} = {json.dumps(v)}")
        lines.append("")
    return "\n".join(lines)


def workspace_toml(p: dict) -> str:
    members = ", ".join(json.dumps(n) for n, _ in p["crates"])
    lines = ["# Generated by ecosystem/rust/run.py: the family as one workspace.", "[workspace]",
             f"members = [{members}]", 'resolver = "2"', "", "[patch.crates-io]"]
    lines += [f'{n} = {{ path = "{n}" }}' for n, _ in p["crates"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Fetch and unpack


def find_crate(name: str, ver: str) -> Path | None:
    for d in sorted((CARGO_HOME / "registry" / "cache").glob("*")):
        f = d / f"{name}-{ver}.crate"
        if f.exists():
            return f
    return None


def cargo_env(p: dict) -> dict:
    env = dict(os.environ)
    env.update(CARGO_TARGET_DIR=str(WORK / p["name"] / "target"), CARGO_TERM_COLOR="never",
               RUST_BACKTRACE="0", CARGO_INCREMENTAL="1")
    env.pop("RUSTFLAGS", None)
    return env


def fetch_crates(p: dict) -> None:
    missing = [(n, v) for n, v in p["crates"] if not find_crate(n, v)]
    if not missing:
        return
    log(f"  cargo fetch {', '.join(f'{n}@{v}' for n, v in missing)}")
    d = WORK / "fetch" / p["name"]
    (d / "src").mkdir(parents=True, exist_ok=True)
    (d / "src" / "lib.rs").write_text("")
    deps = "\n".join(f'{n} = "={v}"' for n, v in missing)
    (d / "Cargo.toml").write_text(f'[package]\nname = "fetch-{p["name"]}"\nversion = "0.0.0"\n'
                                  f'edition = "2021"\n\n[dependencies]\n{deps}\n')
    r = run(["cargo", "fetch"], cwd=d, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"cargo fetch failed:\n{tail(r.stderr)}")


def pristine(p: dict) -> Path:
    pdir = WORK / p["name"]
    root = pdir / "pristine"
    stamp = pdir / "pristine.stamp"
    want = json.dumps(p["crates"])
    if not (root.is_dir() and stamp.exists() and stamp.read_text() == want):
        fetch_crates(p)
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        for name, ver in p["crates"]:
            with tarfile.open(find_crate(name, ver)) as tar:
                members = []
                for m in tar.getmembers():
                    head, _, rest = m.name.partition("/")
                    if rest and head == f"{name}-{ver}":
                        m.name = f"{name}/{rest}"
                        members.append(m)
                tar.extractall(root, members=members, filter="data")
            # A member's own lockfile is ignored in a workspace; drop it to avoid confusion.
            (root / name / "Cargo.lock").unlink(missing_ok=True)
        (root / "Cargo.toml").write_text(workspace_toml(p))
        stamp.write_text(want)
    lock = LOCKS / f"{p['name']}.Cargo.lock"
    if lock.exists():
        shutil.copyfile(lock, root / "Cargo.lock")
    else:
        log("  cargo generate-lockfile")
        r = run(["cargo", "generate-lockfile"], cwd=root, env=cargo_env(p), timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"cargo generate-lockfile failed:\n{tail(r.stderr)}")
        LOCKS.mkdir(exist_ok=True)
        shutil.copyfile(root / "Cargo.lock", lock)
    r = run(["cargo", "fetch", "--locked", "--offline"], cwd=root, env=cargo_env(p), timeout=900)
    if r.returncode != 0:
        log("  cargo fetch --locked (network)")
        r = run(["cargo", "fetch", "--locked"], cwd=root, env=cargo_env(p), timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"cargo fetch failed:\n{tail(r.stderr)}")
    return root


# ---------------------------------------------------------------------------------------------
# Trees


def walk_files(tree: Path):
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for f in sorted(filenames):
            yield Path(dirpath) / f


def hashes(tree: Path) -> dict[str, str]:
    return {f.relative_to(tree).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in walk_files(tree)}


def copy_fresh(src: Path, dst: Path) -> None:
    """Copy a tree with fresh mtimes (shutil.copy, not copy2): cargo then never takes a file
    restored from an older stage for one it has already compiled."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, copy_function=shutil.copy, ignore=shutil.ignore_patterns(*SKIP_DIRS))


def copy_exact(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*SKIP_DIRS))


def tree_diff(a: Path, b: Path) -> tuple[list[str], str]:
    ha, hb = hashes(a), hashes(b)
    changed = sorted(k for k in ha.keys() | hb.keys() if ha.get(k) != hb.get(k))
    out = []
    for rel in changed:
        old = (a / rel).read_text(errors="replace").splitlines(keepends=True) if rel in ha else []
        new = (b / rel).read_text(errors="replace").splitlines(keepends=True) if rel in hb else []
        out.extend(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}", n=2))
    return changed, "".join(out)


def hunks_by_file(diff: str) -> dict[str, list[dict]]:
    """file -> [{new_start, new_len, text}] of a unified diff."""
    out: dict[str, list[dict]] = {}
    cur = None
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            cur = out.setdefault(line[6:], [])
        elif line.startswith("@@") and cur is not None:
            m = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", line)
            cur.append({"new_start": int(m.group(1)), "new_len": int(m.group(2) or 1), "text": line + "\n"})
        elif cur and not line.startswith("---"):
            cur[-1]["text"] += line + "\n"
    return out


# ---------------------------------------------------------------------------------------------
# The tool


def install_binary() -> tuple[Path, str]:
    src = Path(os.environ.get("SSOT_BIN", DEFAULT_BIN))
    if not src.exists():
        sys.exit(f"{src} does not exist (build it, or set SSOT_BIN)")
    WORK.mkdir(parents=True, exist_ok=True)
    dst = WORK / "ssot-gardener"
    tmp = dst.with_suffix(".tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)
    version = run([dst, "--version"]).stdout.strip()
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()[:12]
    return dst, f"{version} (sha256 {digest}, built {time.strftime('%Y-%m-%d %H:%M', time.localtime(src.stat().st_mtime))})"


def tool(binary: Path, args: list[str], tree: Path) -> dict:
    t = time.monotonic()
    r = run([binary, *args, "--no-cache", tree], cwd=tree, timeout=600)
    secs = round(time.monotonic() - t, 2)
    crashed = r.returncode not in (0, 1) or "panicked" in r.stderr
    out = {"args": args, "rc": r.returncode, "seconds": secs, "crashed": crashed,
           "stderr": tail(r.stderr, 20)}
    if "--format" in args:
        try:
            out["json"] = json.loads(r.stdout)
        except json.JSONDecodeError:
            out["crashed"] = True
            out["stdout"] = tail(r.stdout, 20)
    return out


def brief(f: dict) -> dict:
    fix = f.get("fix")
    return {"code": f["code"], "concept": f.get("concept"), "path": f["path"], "line": f["line"],
            "message": f["message"], "fix": fix["applicability"] if fix else None,
            "fingerprint": f["fingerprint"]}


def sample(findings: list[dict], seed: str) -> list[dict]:
    """All findings when there are few; otherwise a seeded shuffle per rule, round-robin."""
    if len(findings) <= SAMPLE_SIZE:
        return findings
    rng = random.Random(seed)
    by_rule: dict[str, list] = {}
    for f in findings:
        by_rule.setdefault(f["code"], []).append(f)
    for v in by_rule.values():
        rng.shuffle(v)
    out = []
    while len(out) < SAMPLE_SIZE:
        for code in sorted(by_rule):
            if by_rule[code] and len(out) < SAMPLE_SIZE:
                out.append(by_rule[code].pop())
    return sorted(out, key=lambda f: (f["path"], f["line"], f["code"]))


# ---------------------------------------------------------------------------------------------
# Cargo

ERROR_RE = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<level>error|warning)(?:\[(?P<code>\w+)\])?: (?P<msg>.*)$")


def parse_diagnostics(stderr: str) -> tuple[list[dict], int]:
    errors, warnings = [], 0
    for line in stderr.splitlines():
        m = ERROR_RE.match(line)
        if not m:
            continue
        if m["level"] == "warning":
            warnings += 1
        else:
            errors.append({"file": m["file"], "line": int(m["line"]), "code": m["code"], "message": m["msg"]})
    # `error: could not compile ...` and manifest errors have no location
    for line in stderr.splitlines():
        if line.startswith("error:") and "could not compile" not in line and "aborting" not in line \
                and not line.startswith("error: warning"):
            errors.append({"file": None, "line": None, "code": None, "message": line[7:]})
    return errors, warnings


def cargo_check(p: dict, tree: Path, targets: list[str]) -> dict:
    t = time.monotonic()
    r = run(["cargo", "check", "--offline", "--locked", "--workspace", *targets, "--message-format", "short"],
            cwd=tree, env=cargo_env(p), timeout=CHECK_TIMEOUT)
    errors, warnings = parse_diagnostics(r.stderr)
    return {"targets": targets, "rc": r.returncode, "ok": r.returncode == 0, "errors": errors,
            "warnings": warnings, "seconds": round(time.monotonic() - t, 1),
            "tail": "" if r.returncode == 0 else tail(r.stderr, 25)}


RESULT_RE = re.compile(r"test result: (\w+)\. (\d+) passed; (\d+) failed; (\d+) ignored")


def cargo_test(p: dict, tree: Path) -> dict:
    t = time.monotonic()
    r = run(["cargo", "test", "--offline", "--locked", "--no-fail-fast", "--message-format", "short",
             *p.get("test-args", [])], cwd=tree, env=cargo_env(p), timeout=TEST_TIMEOUT)
    counts = {"passed": 0, "failed": 0, "ignored": 0, "binaries": 0}
    for m in RESULT_RE.finditer(r.stdout):
        counts["passed"] += int(m[2])
        counts["failed"] += int(m[3])
        counts["ignored"] += int(m[4])
        counts["binaries"] += 1
    failed = sorted(set(re.findall(r"^test (\S+) \.\.\. FAILED", r.stdout, re.M)))
    errors, _ = parse_diagnostics(r.stderr)
    built = not any(e["file"] for e in errors) and "could not compile" not in r.stderr
    return {"args": p.get("test-args", []), "rc": r.returncode, "built": built, "counts": counts,
            "failed": failed, "errors": [e for e in errors if e["file"]],
            "timed_out": r.returncode is None, "seconds": round(time.monotonic() - t, 1),
            "tail": "" if r.returncode == 0 else tail(r.stderr, 15)}


def pick_targets(p: dict, tree: Path) -> tuple[list[str], dict]:
    """The project's check targets, or --lib when the pristine tree does not build them."""
    targets = p.get("check-targets", ["--all-targets"])
    res = cargo_check(p, tree, targets)
    if res["ok"]:
        return targets, res
    first = res
    for fallback in (["--lib", "--bins", "--examples"], ["--lib"]):
        if fallback == targets:
            continue
        log(f"  pristine tree fails `cargo check {' '.join(targets)}`; trying {' '.join(fallback)}")
        targets, res = fallback, cargo_check(p, tree, fallback)
        if res["ok"]:
            break
    res["fallback_from"] = {"targets": p.get("check-targets", ["--all-targets"]), "tail": tail(first["tail"], 4)}
    return targets, res


def rustfmt_files(p: dict, tree: Path) -> list[str] | None:
    """The files `cargo fmt --check` would change (None: rustfmt not available)."""
    r = run(["cargo", "fmt", "--all", "--check", "--", "-l"], cwd=tree, env=cargo_env(p), timeout=600)
    if r.returncode not in (0, 1):
        return None
    return sorted(Path(l.strip()).resolve().relative_to(tree.resolve()).as_posix()
                  for l in r.stdout.splitlines() if l.strip().endswith(".rs") and l.strip().startswith("/"))


# ---------------------------------------------------------------------------------------------
# One project


def attribute(errors: list[dict], diff: str, tree: Path) -> list[dict]:
    """Each compile error with the hunk of the stage's diff that touches its file and line."""
    hunks = hunks_by_file(diff)
    out = []
    for e in errors:
        rel = e["file"]
        if rel and os.path.isabs(rel):
            try:
                rel = Path(rel).relative_to(tree).as_posix()
            except ValueError:
                pass
        e = dict(e, file=rel)
        hs = hunks.get(rel or "", [])
        near = [h for h in hs if h["new_start"] - 3 <= (e["line"] or 0) <= h["new_start"] + h["new_len"] + 3]
        e["edit"] = "".join(h["text"] for h in (near or hs)) or None
        e["edited_file"] = bool(hs)
        out.append(e)
    return out


def run_project(p: dict, binary: Path, skip_tests: bool) -> dict:
    name = p["name"]
    pdir = WORK / name
    res: dict = {"name": name, "binary": str(binary), "crates": [f"{n}@{v}" for n, v in p["crates"]], "why": p["why"],
                 "concepts": p["concept"], "stages": {}, "regressions": [], "tool_failures": []}
    t0 = time.monotonic()
    log(f"[{name}] prepare")
    root = pristine(p)
    tree = pdir / "tree"
    copy_fresh(root, tree)
    (tree / "ssot.toml").write_text(ssot_toml(p))
    res["ssot_toml"] = ssot_toml(p)
    res["rs_files"] = sum(1 for f in walk_files(tree) if f.suffix == ".rs")

    log(f"[{name}] check")
    chk = tool(binary, ["check", "--format", "json"], tree)
    res["check"] = {k: v for k, v in chk.items() if k != "json"}
    if chk["crashed"]:
        res["tool_failures"].append({"stage": "check", "detail": chk.get("stderr") or chk.get("stdout")})
        res["seconds"] = round(time.monotonic() - t0, 1)
        return res
    (pdir / "check.json").write_text(json.dumps(chk["json"], indent=1))
    findings = [brief(f) for f in chk["json"]["findings"]]
    res["findings"] = findings
    res["summary"] = chk["json"]["summary"]
    res["sample"] = [f["fingerprint"] for f in sample(list(findings), name)]
    # a second check, with the cache warm, for the wall time of a rerun
    warm = run([binary, "check", "--format", "json", tree], cwd=tree, timeout=600)
    t = time.monotonic()
    run([binary, "check", "--format", "json", tree], cwd=tree, timeout=600)
    res["check"]["seconds_cached"] = round(time.monotonic() - t, 2)
    shutil.rmtree(tree / ".ssot_cache", ignore_errors=True)
    del warm

    log(f"[{name}] cargo check (pristine)")
    targets, before = pick_targets(p, tree)
    res["targets"] = targets
    do_tests = p.get("test", False) and not skip_tests
    stage = {"check": before, "changed": [], "diff_lines": 0, "rustfmt": rustfmt_files(p, tree)}
    if do_tests:
        log(f"[{name}] cargo test (pristine)")
        stage["test"] = cargo_test(p, tree)
    res["stages"]["before"] = stage
    copy_exact(tree, pdir / "stage-before")

    prev = pdir / "stage-before"
    for st, args in (("safe", ["fix", "--format", "json"]),
                     ("unsafe", ["fix", "--unsafe-fixes", "--format", "json"])):
        log(f"[{name}] {' '.join(args[:-2])}")
        fx = tool(binary, args, tree)
        stage = {"fix": {k: v for k, v in fx.items() if k != "json"}}
        if fx["crashed"]:
            res["tool_failures"].append({"stage": st, "detail": fx.get("stderr") or fx.get("stdout")})
        if fx.get("json"):
            stage["remaining"] = fx["json"]["summary"]["by_rule"]
            stage["remaining_total"] = fx["json"]["summary"]["findings"]
        shutil.rmtree(tree / ".ssot_cache", ignore_errors=True)
        snap = pdir / f"stage-{st}"
        copy_exact(tree, snap)
        changed, diff = tree_diff(prev, snap)
        (pdir / f"{st}.diff").write_text(diff)
        stage["changed"] = changed
        stage["diff_lines"] = sum(1 for l in diff.splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---"))
        if changed:
            log(f"[{name}] cargo check ({st}: {len(changed)} files changed)")
            ck = cargo_check(p, tree, targets)
            ck["errors"] = attribute(ck["errors"], diff, tree)
            stage["check"] = ck
            stage["rustfmt"] = rustfmt_files(p, tree)
            base = res["stages"]["before"]["check"]
            if base["ok"] and not ck["ok"]:
                for e in ck["errors"]:
                    res["regressions"].append(dict(e, stage=st, kind="compile"))
                if not ck["errors"]:
                    res["regressions"].append({"stage": st, "kind": "compile", "message": ck["tail"]})
            if do_tests:
                log(f"[{name}] cargo test ({st})")
                te = cargo_test(p, tree)
                te["errors"] = attribute(te["errors"], diff, tree)
                stage["test"] = te
                bt = res["stages"]["before"].get("test")
                if bt and bt["built"] and not te["built"]:
                    for e in te["errors"]:
                        res["regressions"].append(dict(e, stage=st, kind="test-build"))
                elif bt and (te["counts"]["failed"] > bt["counts"]["failed"] or set(te["failed"]) - set(bt["failed"])):
                    res["regressions"].append({"stage": st, "kind": "tests",
                                               "message": f"newly failing: {sorted(set(te['failed']) - set(bt['failed']))}"})
        else:
            stage["same_as"] = "before" if prev.name == "stage-before" else prev.name[6:]
        # second fix on a scratch copy: must change nothing
        scratch = pdir / "scratch"
        copy_exact(tree, scratch)
        again = [["fix"]] if st == "safe" else [["fix"], ["fix", "--unsafe-fixes"]]
        idem = []
        for a in again:
            r2 = tool(binary, a, scratch)
            shutil.rmtree(scratch / ".ssot_cache", ignore_errors=True)
            ch2, d2 = tree_diff(snap, scratch)
            idem.append({"args": a, "rc": r2["rc"], "changed": ch2, "diff": d2[:4000]})
            if ch2:
                res["regressions"].append({"stage": st, "kind": "idempotence", "file": ch2[0],
                                           "message": f"`{' '.join(a)}` again changed {len(ch2)} files", "edit": d2[:3000]})
            if r2["crashed"]:
                res["tool_failures"].append({"stage": f"{st} (second fix)", "detail": r2["stderr"]})
        stage["second_fix"] = idem
        shutil.rmtree(scratch)
        res["stages"][st] = stage
        if changed:
            prev = snap
    res["seconds"] = round(time.monotonic() - t0, 1)
    return res


# ---------------------------------------------------------------------------------------------
# Report


def load_verdicts() -> dict:
    if not VERDICTS.exists():
        return {}
    return tomllib.loads(VERDICTS.read_text())


def fmt_test(t: dict | None) -> str:
    if not t:
        return "–"
    if t.get("timed_out"):
        return "timed out"
    if not t["built"]:
        return f"build failed ({len(t['errors'])} errors)"
    c = t["counts"]
    return f"{c['passed']} passed, {c['failed']} failed"


def fmt_check(c: dict | None) -> str:
    if not c:
        return "–"
    if c["ok"]:
        return "ok"
    return f"**{len(c['errors'])} errors**"


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def table(results: list[dict]) -> str:
    rows = ["| project | crates | .rs files | check (s) | findings | by rule | safe fix: files / cargo check / tests | unsafe fix: files / cargo check / tests | second fix | compile regressions |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "summary" not in r:
            rows.append(f"| {r['name']} | {len(r['crates'])} | – | – | tool failed | – | – | – | – | – |")
            continue
        by = ", ".join(f"{k} {v}" for k, v in sorted(r["summary"]["by_rule"].items())) or "–"
        cells = []
        for st in ("safe", "unsafe"):
            s = r["stages"].get(st, {})
            if not s.get("changed"):
                cells.append("0 / (unchanged) / –")
            else:
                cells.append(f"{len(s['changed'])} / {fmt_check(s.get('check'))} / {fmt_test(s.get('test'))}")
        idem = all(not i["changed"] for st in ("safe", "unsafe") for i in r["stages"].get(st, {}).get("second_fix", []))
        comp = sum(1 for g in r["regressions"] if g["kind"] in ("compile", "test-build"))
        rows.append(f"| {r['name']} | {len(r['crates'])} | {r['rs_files']} | {r['check']['seconds']} | "
                    f"{r['summary']['findings']} | {by} | {cells[0]} | {cells[1]} | "
                    f"{'no change' if idem else '**changed**'} | {comp} |")
    return "\n".join(rows)


def report(results: list[dict], binary_desc: str) -> str:
    verdicts = load_verdicts()
    out = ["# Ecosystem check: Rust", "",
           "Generated by `ecosystem/rust/run.py` (do not edit by hand: edit `ecosystem/rust/verdicts.toml` "
           "or `ecosystem/rust/bugs.md` and run `python3.11 ecosystem/rust/run.py --report-only`).", "",
           f"Binary: `{binary_desc}`.", "",
           "Each project is a family of published crates, pinned exactly, unpacked from their `.crate` "
           "files into one Cargo workspace whose `[patch.crates-io]` points every family crate at its "
           "local copy (so `regex` compiles against the local `regex-automata`). Lockfiles: "
           "`ecosystem/rust/locks/`. Stages run on one tree: `check`, `cargo check` and `cargo test` "
           "before any fix, then `fix` (safe), then `fix --unsafe-fixes`, each followed by `cargo check` "
           "and the tests when it changed something, and by a second fix on a scratch copy that must "
           "change nothing. Doctests are not run (too many to compile on this machine), nor rustdoc: an edit inside a doc comment (an SSOT007 intra-doc link) is checked by neither.", "",
           "## Results", "", table(results), ""]
    # projects
    out += ["## Projects and concepts", ""]
    for r in results:
        out += [f"### {r['name']}", "", r["why"], "",
                "Pins: " + ", ".join(f"`{c}`" for c in r["crates"]) + ".", ""]
        if r.get("targets"):
            fb = r["stages"]["before"]["check"].get("fallback_from")
            out.append(f"`cargo check` targets: `{' '.join(r['targets'])}`"
                       + (f" (the pristine tree fails `{' '.join(fb['targets'])}`)" if fb else "") + "; "
                       f"tests: `cargo test {' '.join(r['stages']['before'].get('test', {}).get('args', [])) or '(not run)'}`.")
            out.append("")
        for c in r["concepts"]:
            keys = ", ".join(f"`{k} = {json.dumps(v)}`" for k, v in c.items() if k not in ("why", "name", "canonical"))
            out.append(f"- **{c['name']}**: `{c['canonical']}`" + (f" ({keys})" if keys else "") + f". {c['why']}")
        out.append("")
    # stages
    out += ["## Compile and test results per stage", "",
            "| project | stage | files changed | diff lines | fix exit | remaining findings | cargo check | warnings | tests | rustfmt: files flagged (new) | check+test time (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for st in STAGES:
            s = r["stages"].get(st)
            if not s:
                continue
            fx = s.get("fix", {})
            ck = s.get("check")
            tt = s.get("test")
            secs = (ck["seconds"] if ck else 0) + (tt["seconds"] if tt else 0)
            same = f"(same tree as {s['same_as']})" if s.get("same_as") else ""
            fmt0 = set(r["stages"]["before"].get("rustfmt") or [])
            fmt = s.get("rustfmt")
            fmt_cell = "–" if fmt is None else f"{len(fmt)}" + (f" ({len(set(fmt) - fmt0)} new: {', '.join('`' + x + '`' for x in sorted(set(fmt) - fmt0)[:4])})" if set(fmt) - fmt0 else "")
            out.append(f"| {r['name']} | {st} | {len(s.get('changed', []))} | {s.get('diff_lines', 0)} | "
                       f"{fx.get('rc', '–')} | {s.get('remaining_total', '–')} | {fmt_check(ck) if ck else same or '–'} | "
                       f"{ck['warnings'] if ck else '–'} | {fmt_test(tt) if tt else same or '–'} | {fmt_cell} | {round(secs, 1) if ck else '–'} |")
    out.append("")
    # timings
    out += ["## Wall time of `check`", "",
            "| project | .rs files | `check --no-cache` (s) | `check`, cache warm (s) |", "|---|---|---|---|"]
    for r in results:
        if "check" in r:
            out.append(f"| {r['name']} | {r.get('rs_files', '–')} | {r['check']['seconds']} | {r['check'].get('seconds_cached', '–')} |")
    out.append("")
    out.append("Two shared cores, with another engineer compiling at the same time: times are indicative.")
    out.append("")
    # findings and verdicts
    out += ["## Findings and verdicts", "",
            "Every finding is judged when a project has at most 30, else a seeded sample of 30 "
            "(round-robin over the rules). Verdicts are a maintainer's view under the concept's "
            "stated policy; `verdicts.toml` holds them with their reasons.", ""]
    prec: dict[str, dict[str, int]] = {}
    wrong = []
    for r in results:
        if "findings" not in r:
            continue
        fp = {f["fingerprint"]: f for f in r["findings"]}
        v = verdicts.get(r["name"], {})
        out += [f"### {r['name']}", "",
                "| rule | concept | where | message | fix | verdict | why |", "|---|---|---|---|---|---|---|"]
        for key in r["sample"]:
            f = fp[key]
            j = v.get(key, {})
            verdict = j.get("verdict", "unjudged")
            prec.setdefault(f["code"], {}).setdefault(verdict, 0)
            prec[f["code"]][verdict] += 1
            if verdict == "wrong":
                wrong.append((r["name"], f, j.get("why", "")))
            out.append(f"| {f['code']} | {f['concept'] or '–'} | `{f['path']}:{f['line']}` | {md_escape(f['message'])} | "
                       f"{f['fix'] or '–'} | {verdict} | {md_escape(j.get('why', ''))} |")
        if len(r["sample"]) < len(r["findings"]):
            out.append(f"\n({len(r['sample'])} of {len(r['findings'])} findings judged.)")
        out.append("")
    out += ["### Precision per rule", "", "| rule | judged | true | debatable | wrong | unjudged | precision (true / judged) |",
            "|---|---|---|---|---|---|---|"]
    for code in sorted(prec):
        c = prec[code]
        judged = sum(n for k, n in c.items() if k != "unjudged")
        p_ = f"{c.get('true', 0) / judged:.0%}" if judged else "–"
        out.append(f"| {code} | {judged} | {c.get('true', 0)} | {c.get('debatable', 0)} | {c.get('wrong', 0)} | {c.get('unjudged', 0)} | {p_} |")
    out.append("")
    if wrong:
        out += ["### Wrong findings", ""]
        for name, f, why in wrong:
            out.append(f"- {name}, {f['code']} `{f['path']}:{f['line']}`: {f['message']}. {why}")
        out.append("")
    # regressions
    out += ["## Regressions introduced by fixes", ""]
    any_reg = False
    for r in results:
        for g in r["regressions"]:
            any_reg = True
            where = f"`{g.get('file')}:{g.get('line')}`" if g.get("line") else f"`{g.get('file')}`" if g.get("file") else ""
            out.append(f"- {r['name']}, {g['stage']} fix, {g['kind']}: {where} "
                       f"{('error[' + g['code'] + ']') if g.get('code') else ''} {md_escape(g.get('message', ''))}")
            if g.get("edit"):
                out += ["", "  ```diff"] + ["  " + l for l in g["edit"].rstrip().splitlines()[:30]] + ["  ```", ""]
        for tf in r["tool_failures"]:
            any_reg = True
            out.append(f"- {r['name']}, {tf['stage']}: the tool failed: `{md_escape(str(tf['detail'])[:300])}`")
    if not any_reg:
        out.append("None: every fix stage kept `cargo check` and the tests as they were, and every second fix changed nothing.")
    out.append("")
    if BUGS.exists():
        out += [BUGS.read_text().rstrip(), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[], help="project name (repeatable, or a,b)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the doc from results.json")
    ap.add_argument("--skip-tests", action="store_true", help="no cargo test")
    args = ap.parse_args()
    projects = load_projects()
    only = {n for o in args.only for n in o.split(",") if n}
    unknown = only - {p["name"] for p in projects}
    if unknown:
        sys.exit(f"unknown project(s): {', '.join(sorted(unknown))}")
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"binary": "", "projects": []}
    by_name = {r["name"]: r for r in old["projects"]}
    binary_desc = old.get("binary", "")
    if not args.report_only:
        binary, binary_desc = install_binary()
        log(f"binary: {binary_desc}")
        for p in projects:
            if only and p["name"] not in only:
                continue
            try:
                by_name[p["name"]] = run_project(p, binary, args.skip_tests)
            except Exception as e:  # a setup failure of one project must not lose the others
                log(f"[{p['name']}] failed: {e}")
                by_name[p["name"]] = {"name": p["name"], "crates": [f"{n}@{v}" for n, v in p["crates"]],
                                      "why": p["why"], "concepts": p["concept"], "stages": {},
                                      "regressions": [], "tool_failures": [{"stage": "setup", "detail": str(e)}]}
            RESULTS.write_text(json.dumps({"binary": binary_desc, "projects": [by_name[q["name"]] for q in projects if q["name"] in by_name]}, indent=1) + "\n")
    results = [by_name[p["name"]] for p in projects if p["name"] in by_name]
    RESULTS.write_text(json.dumps({"binary": binary_desc, "projects": results}, indent=1) + "\n")
    DOC.write_text(report(results, binary_desc))
    print(table(results))


if __name__ == "__main__":
    main()
