#!/usr/bin/env python3
"""SSOT009 against CPython's import system, on the ecosystem's projects (issue 14).

For every project of projects.toml: every `import`/`from ... import` statement of every `.py`
file of the sdist, at any depth (functions, `try`, `if TYPE_CHECKING:`), whose module belongs
to the project (its top-level name is a package or module under one of the project's roots, or
a relative import), is tried by CPython in the project's venv, with the unpacked tree first on
`sys.path`, each module imported in a child forked from a process that imported nothing of the
project (as a fresh `python -c "from M import n"` would):

- `from M import n` is broken when `M` imports and neither `M.n` is an attribute nor `M.n`
  imports as a submodule (`ModuleNotFoundError` naming `M.n`);
- an import of `M` is broken when `ModuleNotFoundError` names `M` or one of its project parents;
- any other outcome (the module raises something else, needs a missing optional dependency,
  times out) is "unknown" and left out of the comparison, counted.

The tool's SSOT009 findings (`check --select SSOT009 --format json`) are compared with the
oracle's broken imports by (file, line, kind, module, name); every difference is listed for a
human to explain in docs/ecosystem-imports.md (the notes are in imports_notes.md beside this
file). Reuses run.py's downloads and venvs; standard library only.

    python3 ecosystem/imports_oracle.py [--only NAME]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as eco  # noqa: E402  (run.py beside this file)

RESULTS = HERE / "imports-results.json"
NOTES = HERE / "imports_notes.md"
DOC = eco.REPO / "docs" / "ecosystem-imports.md"
TIMEOUT = 60

# Run by the venv's python: reads {"module": [names]} on stdin, prints one JSON line per module.
CHILD = r'''
import importlib, json, multiprocessing, sys

def missing_module(error, module):
    name = getattr(error, "name", None) or ""
    return name == module or module.startswith(name + ".") and name != ""

def probe(item):
    module, names = item
    import io, contextlib
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            m = importlib.import_module(module)
    except ModuleNotFoundError as error:
        if missing_module(error, module):
            return module, {"status": "missing", "missing": error.name}
        return module, {"status": "unknown", "why": f"ModuleNotFoundError: {error}"}
    except BaseException as error:
        return module, {"status": "unknown", "why": f"{type(error).__name__}: {error}"[:300]}
    out = {}
    for name in names:
        if hasattr(m, name):
            out[name] = "ok"
            continue
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                importlib.import_module(f"{module}.{name}")
            out[name] = "ok"
        except ModuleNotFoundError as error:
            out[name] = "missing" if error.name == f"{module}.{name}" else f"unknown: {error}"
        except BaseException as error:
            out[name] = f"unknown: {type(error).__name__}: {error}"[:300]
    return module, {"status": "ok", "names": out}

if __name__ == "__main__":
    todo = json.load(sys.stdin)
    timeout = float(sys.argv[1])
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes=2, maxtasksperchild=1) as pool:
        pending = [(module, pool.apply_async(probe, ((module, names),))) for module, names in todo.items()]
        for module, result in pending:
            try:
                _, answer = result.get(timeout=timeout)
            except Exception as error:
                answer = {"status": "unknown", "why": f"{type(error).__name__} (timeout {timeout}s?)"}
            print(json.dumps({"module": module, **answer}), flush=True)
'''


def module_name(rel: Path) -> list[str]:
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return parts


def first_party(p: eco.Project, tree: Path) -> set[str]:
    tops = set()
    for root in p.roots:
        base = tree / root
        for entry in base.iterdir() if base.is_dir() else []:
            if entry.is_dir() and entry.name.isidentifier() and any(entry.rglob("*.py")):
                tops.add(entry.name)
            elif entry.suffix == ".py" and entry.stem.isidentifier():
                tops.add(entry.stem)
    return tops


def type_checking_lines(module: ast.Module) -> set[int]:
    """Lines of the bodies of `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`) blocks."""
    lines = set()
    for node in ast.walk(module):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def statements(p: eco.Project, tree: Path, tops: set[str]):
    """(path, line, kind, module, name, typing_only) of every project import; kind `from` or
    `import`, typing_only when it is inside an `if TYPE_CHECKING:` block."""
    roots = [tree / r for r in p.roots]
    for path in sorted(tree.rglob("*.py")):
        rel = path.relative_to(tree)
        if any(part in eco.ARTIFACT_DIRS or part.startswith(".") for part in rel.parts):
            continue
        try:
            source = path.read_bytes()
            module = ast.parse(source, filename=str(rel))
        except (SyntaxError, ValueError):
            continue
        typing_only = type_checking_lines(module)
        base = next((r for r in roots if path.is_relative_to(r)), None)
        here = module_name(path.relative_to(base)) if base else None
        package = (here if path.name == "__init__.py" else here[:-1]) if here is not None else None
        for node in ast.walk(module):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in tops:
                        yield (rel.as_posix(), alias.lineno, "import", alias.name, None,
                               node.lineno in typing_only)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    if package is None or node.level - 1 > len(package):
                        continue
                    anchor = package[: len(package) - (node.level - 1)]
                    target = ".".join(anchor + ([node.module] if node.module else []))
                    if not target:
                        continue
                else:
                    target = node.module or ""
                    if target.split(".")[0] not in tops:
                        continue
                for alias in node.names:
                    if alias.name != "*":
                        yield (rel.as_posix(), alias.lineno, "from", target, alias.name,
                               node.lineno in typing_only)


def extension_source(p: eco.Project, tree: Path, dotted: str) -> bool:
    """Whether the sdist ships the source of a compiled extension at `dotted` (built when the
    project is installed; the oracle runs the unbuilt tree)."""
    parts = dotted.split(".")
    for root in p.roots:
        base = tree / root / Path(*parts)
        if any(base.with_suffix(ext).exists() for ext in (".pyx", ".c", ".cpp", ".rs")):
            return True
    return False


def oracle(p: eco.Project, tree: Path, py: Path, stmts: list) -> dict:
    todo: dict[str, set[str]] = {}
    for _, _, kind, module, name, _ in stmts:
        todo.setdefault(module, set())
        if kind == "from":
            todo[module].add(name)
    env = eco.clean_env(p, tree, "oracle")
    payload = json.dumps({m: sorted(n) for m, n in sorted(todo.items())})
    r = eco.run([py, "-c", CHILD, str(TIMEOUT)], cwd=tree, env=env, input=payload,
                timeout=TIMEOUT * (len(todo) + 10))
    answers = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            answers[item.pop("module")] = item
    return answers


def verdicts(p: eco.Project, tree: Path, stmts: list, answers: dict) -> tuple[set, list]:
    broken, unknown = set(), []
    for path, line, kind, module, name, typing_only in stmts:
        a = answers.get(module, {"status": "unknown", "why": "no answer"})
        if a["status"] == "missing":
            if extension_source(p, tree, a.get("missing") or module):
                unknown.append((path, line, module, name, "compiled extension, not built"))
            else:
                broken.add((path, line, "module", module, None))
        elif a["status"] == "unknown":
            unknown.append((path, line, module, name, a.get("why", "")))
        elif kind == "from":
            verdict = a["names"].get(name, "unknown: no answer")
            if verdict == "missing":
                if extension_source(p, tree, f"{module}.{name}"):
                    unknown.append((path, line, module, name, "compiled extension, not built"))
                elif typing_only:
                    unknown.append((path, line, module, name, "TYPE_CHECKING only"))
                else:
                    broken.add((path, line, "name", module, name))
            elif verdict != "ok":
                unknown.append((path, line, module, name, verdict))
    return broken, unknown


FINDING = [
    (re.compile(r"`([\w.]+)` does not define or import `(\w+)`"), "name"),
    (re.compile(r"no module `([\w.]+)`"), "module"),
]


def tool_findings(bin_: Path, tree: Path) -> set:
    r = eco.run([bin_, "check", "--select", "SSOT009", "--format", "json", "--no-cache"], cwd=tree,
                timeout=600)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"check exited {r.returncode}: {eco.tail(r.stderr)}")
    out = set()
    for f in json.loads(r.stdout)["findings"]:
        for pattern, kind in FINDING:
            m = pattern.search(f["message"])
            if m:
                name = m.group(2) if kind == "name" else None
                out.add((f["path"], f["line"], kind, m.group(1), name))
                break
        else:
            out.add((f["path"], f["line"], "?", f["message"], None))
    return out


def count_why(unknown: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for *_, why in unknown:
        key = why if why in ("compiled extension, not built", "TYPE_CHECKING only") else "the module raised or timed out"
        out[key] = out.get(key, 0) + 1
    return out


def run_project(p: eco.Project, bin_: Path) -> dict:
    eco.log(f"== {p.name} {p.version}")
    pristine = eco.unpack(p, eco.fetch_sdist(p))
    tree = p.dir / "oracle-tree"
    eco.copy_tree(pristine, tree)
    (tree / "ssot.toml").write_text(eco.render_config(p, set()))
    py = eco.ensure_venv(p, with_tests=False)
    tops = first_party(p, tree)
    stmts = list(statements(p, tree, tops))
    started = time.monotonic()
    answers = oracle(p, tree, py, stmts)
    broken, unknown = verdicts(p, tree, stmts, answers)
    tool = tool_findings(bin_, tree)
    known = {(s[0], s[1], s[3], s[4]) for s in stmts} - {(u[0], u[1], u[2], u[3]) for u in unknown}
    row = {
        "name": p.name, "version": p.version, "statements": len(stmts),
        "modules": len(answers), "unknown": len(unknown),
        "oracle_broken": len(broken), "tool": len(tool), "agree": len(broken & tool),
        "oracle_only": sorted(map(list, broken - tool)),
        # A tool finding on an import the oracle could not decide is not a disagreement.
        "tool_only": sorted(list(t) for t in tool - broken
                            if (t[0], t[1], t[3], t[4]) in known or t[2] == "?"),
        "tool_on_unknown": sorted(list(t) for t in tool - broken
                                  if (t[0], t[1], t[3], t[4]) not in known and t[2] != "?"),
        "unknown_why": count_why(unknown),
        "unknown_sample": sorted((list(u) for u in unknown),
                                 key=lambda u: (u[4] == "compiled extension, not built", u))[:10],
        "seconds": round(time.monotonic() - started, 1),
    }
    eco.log(f"  {len(stmts)} project imports, {len(unknown)} undecided; oracle broken "
            f"{len(broken)}, tool {len(tool)}, both {row['agree']}")
    shutil.rmtree(tree)
    return row


def write_doc(results: dict, binary: str) -> None:
    lines = [
        "# SSOT009 against CPython's import system",
        "",
        "`ecosystem/imports_oracle.py` tries every import of each ecosystem project that names the "
        "project's own modules (any depth: functions, `try`, `TYPE_CHECKING`) with CPython, in the "
        "project's venv with the unpacked sdist first on `sys.path`, one forked child per module, "
        "and compares the imports that cannot succeed with `check --select SSOT009`. Imports the "
        "oracle cannot decide (the module raises something else when imported, or needs an "
        "optional dependency that is not installed) are counted and left out.",
        "",
        f"- binary: {binary}",
        f"- run: {time.strftime('%Y-%m-%d %H:%M')}, python {sys.version.split()[0]}",
        "",
        "| project | version | project imports | undecided | broken (CPython) | SSOT009 | both | CPython only | SSOT009 only | SSOT009 on undecided |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results.values():
        lines.append(f"| {r['name']} | {r['version']} | {r['statements']} | {r['unknown']} | "
                     f"{r['oracle_broken']} | {r['tool']} | {r['agree']} | {len(r['oracle_only'])} | "
                     f"{len(r['tool_only'])} | {len(r['tool_on_unknown'])} |")
    lines += ["", "Undecided, by cause:", ""]
    for r in results.values():
        if r["unknown"]:
            causes = ", ".join(f"{why} {n}" for why, n in sorted(r.get("unknown_why", {}).items()))
            lines.append(f"- {r['name']}: {causes}")
    lines += ["", "## Differences", ""]
    any_diff = False
    for r in results.values():
        for label, key in (("CPython only", "oracle_only"), ("SSOT009 only", "tool_only"),
                           ("SSOT009 on an undecided import", "tool_on_unknown")):
            for path, line, kind, module, name in r[key]:
                any_diff = True
                what = f"`{module}.{name}`" if name else f"module `{module}`"
                lines.append(f"- **{r['name']}** {label}: `{path}:{line}` {what}")
    if not any_diff:
        lines.append("None.")
    if NOTES.exists():
        lines += ["", "## Notes", "", NOTES.read_text().strip()]
    DOC.write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], help="this project only (repeatable)")
    args = ap.parse_args()
    wanted = {n for o in args.only for n in o.split(",")}
    bin_, binary = eco.install_binary()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for p in eco.load_projects():
        if wanted and p.name not in wanted:
            continue
        results[p.name] = run_project(p, bin_)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    write_doc(results, binary)
    eco.log(f"wrote {DOC.relative_to(eco.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
