#!/usr/bin/env python3
"""Differential test of ssot-gardener's Rust `use` resolution against rustc's own.

    python3 scripts/rust_oracle.py [--work /tmp/rust-oracle] [--no-build] [--doc]

1. Assembles a real Cargo workspace from pinned crates of the local cargo registry
   (~/.cargo/registry/src/*/): the crates are copied, their in-set dependencies rewritten
   to `path = "../<name>"` (features kept), dev-dependencies and tests/benches/examples
   dropped. `cargo +nightly check --offline` must pass.
2. Oracle: `cargo +nightly rustc --offline -p <crate> --lib -- -Zunpretty=hir-tree`. Every
   `use` leaf is an HIR `Use` item whose path carries, per namespace, the `Res` rustc
   resolved it to; a `Def` res prints its `DefId` with the defining item's def path
   (`DefId(3:120 ~ syn[6a1f]::data::Field)`), i.e. re-exports already followed.
3. Tool: `ssot-gardener graph --format json` on the workspace.
4. Compares leaf by leaf (file + line + column of the leaf name), judges each
   disagreement by the causes seen so far, prints a table and writes results.json; with
   --doc, rewrites the results block of docs/rust-oracle.md.

Standard-library Python 3.11 only. See docs/rust-oracle.md.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "target" / "release" / "ssot-gardener"

# The corpus: exact versions, in dependency order. Each depends only on earlier ones.
CRATES = [
    ("unicode-ident", "1.0.24"),
    ("proc-macro2", "1.0.106"),
    ("quote", "1.0.45"),
    ("syn", "2.0.117"),
    ("thiserror-impl", "2.0.18"),
    ("serde_derive", "1.0.228"),
]

# Manifest sections kept from the registry's normalised Cargo.toml.
KEEP_PACKAGE = {"name", "version", "edition", "rust-version", "build", "links"}
DROP_DIRS = ("tests", "benches", "examples")

# Extra oracle runs with more features, so that code behind `#[cfg(feature = ..)]` is
# compared too (the tool reads every cfg branch). The default-feature run comes first.
EXTRA_FEATURES = [
    ("syn", "full,visit,visit-mut,fold,extra-traits"),
    ("proc-macro2", "span-locations"),
]


def run(cmd, cwd=None, env=None, check=True, capture=True):
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )
    if check and proc.returncode != 0:
        sys.exit(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"{(proc.stderr or '')[-4000:]}"
        )
    return proc


# ---------------------------------------------------------------- workspace assembly


def registry_dir(name: str, version: str) -> Path:
    found = sorted(
        glob.glob(os.path.expanduser(f"~/.cargo/registry/src/*/{name}-{version}"))
    )
    if not found:
        sys.exit(
            f"{name} {version} is not in the local cargo registry "
            "(~/.cargo/registry/src/*/); the corpus is pinned to these exact versions"
        )
    return Path(found[0])


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def toml_table(header: str, table: dict) -> str:
    lines = [f"[{header}]"]
    lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def rewrite_manifest(manifest: dict, names: set[str]) -> str:
    """The crate's manifest with in-set dependencies as path dependencies."""
    out = []
    package = {k: v for k, v in manifest["package"].items() if k in KEEP_PACKAGE}
    for key in ("autobins", "autoexamples", "autotests", "autobenches"):
        package[key] = False
    out.append(toml_table("package", package))
    if "lib" in manifest:
        out.append(toml_table("lib", manifest["lib"]))
    kept = set(manifest.get("dependencies", {})) | set(manifest.get("build-dependencies", {}))

    def feature_kept(entry: str) -> bool:
        # `dep:x`, `x/f` and `x?/f` name a dependency; drop those naming a dropped one.
        dep = entry.removeprefix("dep:").split("/")[0].rstrip("?")
        return not (entry.startswith("dep:") or "/" in entry) or dep in kept

    if "features" in manifest:
        features = {
            key: [entry for entry in entries if feature_kept(entry)]
            for key, entries in manifest["features"].items()
        }
        out.append(toml_table("features", features))
    for section in ("dependencies", "build-dependencies"):
        deps = {}
        for key, dep in manifest.get(section, {}).items():
            dep = {"version": dep} if isinstance(dep, str) else dict(dep)
            package_name = dep.get("package", key)
            if package_name not in names:
                sys.exit(f"{manifest['package']['name']}: {section} {key} is outside the set")
            dep.pop("version", None)
            dep["path"] = f"../{package_name}"
            deps[key] = dep
        if deps:
            out.append(toml_table(section, deps))
    # Target-specific dependency tables are only dev-dependencies in this corpus.
    for target, tables in manifest.get("target", {}).items():
        if set(tables) - {"dev-dependencies"}:
            sys.exit(f"{manifest['package']['name']}: target {target} has non-dev deps")
    return "\n".join(out)


def assemble(ws: Path) -> list[dict]:
    """Builds the workspace; returns one record per crate."""
    if ws.exists():
        shutil.rmtree(ws)
    (ws / "crates").mkdir(parents=True)
    names = {name for name, _ in CRATES}
    crates = []
    for name, version in CRATES:
        src = registry_dir(name, version)
        dst = ws / "crates" / name
        shutil.copytree(
            src,
            dst,
            ignore=shutil.ignore_patterns(
                "Cargo.toml.orig", "Cargo.lock", "rust-toolchain.toml", *DROP_DIRS
            ),
        )
        manifest = tomllib.loads((src / "Cargo.toml").read_text())
        (dst / "Cargo.toml").write_text(rewrite_manifest(manifest, names))
        lib = manifest.get("lib", {})
        crates.append(
            {
                "name": name,
                "version": version,
                "lib": lib.get("name", name.replace("-", "_")),
                "dir": f"crates/{name}",
                "proc_macro": bool(lib.get("proc-macro")),
                "source": str(src),
            }
        )
    members = ", ".join(json.dumps(c["dir"]) for c in crates)
    (ws / "Cargo.toml").write_text(f'[workspace]\nresolver = "2"\nmembers = [{members}]\n')
    (ws / "ssot.toml").write_text('[project]\nrust-roots = ["."]\n')
    return crates


def cargo_env(work: Path) -> dict:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(work / "target")
    env.pop("RUSTFLAGS", None)
    env.pop("RUSTDOCFLAGS", None)
    return env


# ---------------------------------------------------------------- oracle: HIR tree

SPAN = re.compile(r"span: (.+?):(\d+):(\d+): (\d+):(\d+) \(#(\d+)\)")
DEF = re.compile(r"Def\((.*?)DefId\(\d+:\d+ ~ ([^)]*)\)", re.S)
EXTERN = re.compile(r'ExternCrate\(\s*(None|Some\(\s*"?(\w+)"?(?:#\d+)?,?\s*\)),\s*(\S+?)#\d+')
NS = re.compile(r"^\s*(value_ns|type_ns|macro_ns): (.*)$")


def hir_tree(ws: Path, env: dict, cmd: list[str], out: Path) -> Path:
    with out.open("w") as handle:
        proc = subprocess.run(cmd, cwd=ws, env=env, stdout=handle, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    return out


def parse_hir_tree(path: Path, crate_names: dict[str, str]) -> tuple[list[dict], set[str]]:
    """The `Use` items of an HIR tree dump, and the files its spans mention.

    `crate_names` maps the crate names rustc prints (`build_script_build`) to the tool's.
    """
    uses, files = [], set()
    with path.open() as handle:
        lines = iter(handle)
        for line in lines:
            if "span: " in line:
                m = SPAN.search(line)
                if m:
                    files.add(m.group(1))
            if line.rstrip().endswith("kind: ExternCrate("):
                block = [line]
                for inner in lines:
                    block.append(inner)
                    if inner.lstrip().startswith("span:"):
                        break
                uses.append(parse_extern_crate(block, crate_names))
                continue
            if not line.rstrip().endswith("kind: Use("):
                continue
            indent = len(line) - len(line.lstrip())
            block = []
            for inner in lines:
                if inner.rstrip() == " " * indent + "),":
                    break
                block.append(inner)
            item_span = next(lines)
            uses.append(parse_use(block, item_span, crate_names))
    return uses, files


def norm_path(path: str, crate_names: dict[str, str]) -> str:
    head, _, rest = path.partition("::")
    crate = re.sub(r"\[[0-9a-f]+\]$", "", head)
    crate = crate_names.get(crate, crate)
    parts = [crate] + ([p for p in rest.split("::")] if rest else [])
    if parts[-1] == "{constructor#0}":
        parts.pop()
    return "::".join(parts)


def parse_extern_crate(block: list[str], crate_names: dict[str, str]) -> dict:
    """`extern crate a as b;`: HIR keeps the crate's name, not a `Res`; the target is
    that crate's root (`self` is the crate being compiled, filled in by the caller)."""
    text = "".join(block)
    m = EXTERN.search(text)
    original, name = (m.group(2) or m.group(3)), m.group(3)
    record = {"kind": "extern", "name": name, "segments": [original], "res": {}}
    s = SPAN.search(block[-1])
    if s:
        record["file"] = s.group(1)
        record["span"] = tuple(int(s.group(i)) for i in (2, 3, 4, 5))
        record["ctxt"] = int(s.group(6))
    else:
        record["file"] = None
    record["res"]["type_ns"] = ("ExternCrate", crate_names.get(original, original))
    return record


def parse_use(block: list[str], item_span: str, crate_names: dict[str, str]) -> dict:
    text = "".join(block)
    record = {"res": {}, "segments": [], "kind": None, "name": None}
    m = SPAN.search(block[1]) if len(block) > 1 else None
    m = m or SPAN.search(item_span)
    if m:
        record["file"] = m.group(1)
        record["span"] = tuple(int(m.group(i)) for i in (2, 3, 4, 5))
        record["ctxt"] = int(m.group(6))
    else:
        record["file"] = None
    # res: PerNS { value_ns: ..., type_ns: ..., macro_ns: ... } up to `segments:`
    res_text = text.split("segments:", 1)[0]
    keys = sorted(
        (m.start(), m.end(), m.group(1))
        for m in re.finditer(r"\b(value_ns|type_ns|macro_ns): ", res_text)
    )
    for i, (_, end, ns) in enumerate(keys):
        body = res_text[end : keys[i + 1][0] if i + 1 < len(keys) else len(res_text)]
        if body.strip().startswith("None"):
            continue
        d = DEF.search(body)
        if d:
            # `Struct`, `Macro(MacroKinds(1))` -> `Macro`, `Const { .. }` -> `Const`.
            kind = re.match(r"\s*(\w+)", d.group(1)).group(1)
            record["res"][ns] = (kind, norm_path(d.group(2), crate_names))
        else:
            inner = re.sub(r"\s+", "", body).removesuffix("},").removesuffix(",")
            inner = inner.removeprefix("Some(").removesuffix(")")
            record["res"][ns] = (inner, None)
    record["segments"] = re.findall(r"ident: (\S+?)#\d+,", text.split("segments:", 1)[-1])
    tail = text.rsplit("},", 1)[-1]
    if re.match(r"\s*Glob,", tail):
        record["kind"] = "glob"
    elif re.match(r"\s*ListStem,", tail):
        record["kind"] = "list"
    else:
        record["kind"] = "single"
        m = re.search(r"Single\(\s*(\S+?)#\d+", tail)
        record["name"] = m.group(1) if m else None
    return record


class Sources:
    """Source text by workspace-relative path, to place a leaf inside a use-tree span."""

    def __init__(self, ws: Path):
        self.ws, self.cache = ws, {}

    def lines(self, rel: str) -> list[str] | None:
        if rel not in self.cache:
            path = self.ws / rel
            self.cache[rel] = path.read_text().split("\n") if path.is_file() else None
        return self.cache[rel]

    def leaf(self, record: dict) -> tuple[int, int, str] | None:
        """(line, column, text) of the leaf name: the last segment of the tree span
        (before any `as rename`), `self` or `*`."""
        lines = self.lines(record["file"]) if record.get("file") else None
        if lines is None:
            return None
        l1, c1, l2, c2 = record["span"]
        if l2 > len(lines):
            return None
        # Columns are 1-based characters; the end is exclusive.
        chunk = [(l1, c1 - 1, lines[l1 - 1][c1 - 1 : c2 - 1 if l1 == l2 else None])]
        for number in range(l1 + 1, l2 + 1):
            text = lines[number - 1]
            chunk.append((number, 0, text[: c2 - 1] if number == l2 else text))
        if record["kind"] == "glob":
            # The span is the prefix path; the `*` follows it (`a::b::*`, `a::{b::*}`).
            rest = lines[l2 - 1][c2 - 1 :]
            m = re.match(r"\s*::\s*\*", rest)
            if not m:
                return None
            return l2, c2 + m.end() - 1, "*"
        flat = "".join(f"{t}\n" for _, _, t in chunk)[:-1]
        if record["kind"] == "extern":
            m = re.search(r"\bcrate\s+((?:r#)?\w+)", flat)
            index = m.start(1) if m else -1
        else:
            flat = re.sub(r"\s+as\s+(r#)?\w+\s*$", "", flat)
            m = re.search(r"(?:r#)?[A-Za-z_][A-Za-z0-9_]*\s*$", flat)
            index = m.start() if m else -1
        if index < 0:
            return None
        m = re.match(r"\*|(?:r#)?\w+", flat[index:])
        word = m.group(0) if m else flat[index:]
        # Back to line and column.
        for number, start, text in chunk:
            if index <= len(text):
                return number, start + index + 1, word
            index -= len(text) + 1
        return None


    def cfg_above(self, rel: str, line: int, reach: int = 15) -> bool:
        """A `#[cfg(..)]` or `#[test]` on one of the `reach` lines above (a block or a
        function the tool did not flag as conditional)."""
        lines = self.lines(rel) or []
        above = lines[max(0, line - 1 - reach) : line]
        return any(re.search(r"#\[(cfg\(|test\])", text) for text in above)


def oracle_target(record: dict) -> tuple[set[str], list[str]]:
    """The defining items a leaf reaches (workspace-relative def paths, one per namespace
    that resolved), and the def kinds."""
    targets, kinds = set(), []
    for ns, (kind, path) in sorted(record["res"].items()):
        if path is None:
            if kind not in ("Err",):
                targets.add(f"<{kind}>")
                kinds.append(kind)
            continue
        targets.add(path)
        kinds.append(kind)
    return targets, kinds


# ---------------------------------------------------------------- the tool


DEFINITIONS: dict[str, set[str]] = {}  # tool module -> names its collector found
MODULE_FILES: dict[str, str] = {}  # tool module -> its file


def tool_leaves(work: Path, ws: Path) -> list[dict]:
    out = work / "tool.json"
    with out.open("w") as handle:
        proc = subprocess.run(
            [str(TOOL), "graph", "--format", "json", str(ws)],
            stdout=handle, stderr=subprocess.PIPE, text=True,
        )
    if proc.returncode not in (0, 1):
        sys.exit(f"ssot-gardener graph failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    document = json.loads(out.read_text())
    leaves = []
    for module in document["modules"]:
        if not module["path"].endswith(".rs"):
            continue
        DEFINITIONS[module["module"]] = {d["name"] for d in module["definitions"]}
        MODULE_FILES[module["module"]] = module["path"]
        for entry in module["imports"]:
            leaves.append({**entry, "path": module["path"], "importer": module["module"]})
    # Modules reached only as `mod` (no file) have no definitions entry; fine.
    return leaves


def tool_target(entry: dict) -> tuple[str, set[str]]:
    """(verdict, targets): targets are `module::symbol` (or the module), and
    `<external:crate>` for anything outside the repository."""
    resolution = entry["resolution"]
    verdict = resolution["verdict"]
    if verdict == "resolved":
        targets = set()
        for origin in resolution["origins"]:
            if origin["kind"] == "external":
                targets.add(f"<external:{origin['module'].split('::')[0]}>")
            elif origin["symbol"] is None:
                targets.add(origin["module"])
            else:
                targets.add(f"{origin['module']}::{origin['symbol']}")
        return verdict, targets
    if verdict == "external":
        return verdict, {f"<external:{resolution['module'].split('::')[0]}>"}
    return verdict, set()


# ---------------------------------------------------------------- comparison



def oracle_records(work: Path, ws: Path, crates: list[dict], tool_names: dict[str, str]):
    """Every `use` record rustc lowered, over every crate the oracle compiles: each lib
    (through cargo, so features and build-script cfgs are Cargo's) and each build script
    (rustc directly: they have no dependencies here)."""
    env = cargo_env(work)
    records, files = [], set()
    runs = [(crate, None) for crate in crates]
    runs += [(crate, features) for name, features in EXTRA_FEATURES for crate in crates if crate["name"] == name]
    for crate, features in runs:
        cmd = ["cargo", "+nightly", "rustc", "--offline", "-q", "-p", crate["name"], "--lib"]
        cmd += ["--features", features] if features else []
        out = hir_tree(ws, env, cmd + ["--", "-Zunpretty=hir-tree"], work / f"{crate['lib']}.hir-tree")
        uses, seen = parse_hir_tree(out, {"self": crate["lib"]})
        for use in uses:
            use["crate"] = crate["lib"]
            use["config"] = f"{crate['lib']}[{features or 'default'}]"
        records += uses
        files |= seen
        out.unlink()
        if features:
            continue
        build = ws / crate["dir"] / "build.rs"
        if build.is_file():
            rel = f"{crate['dir']}/build.rs"
            manifest = tomllib.loads((ws / crate["dir"] / "Cargo.toml").read_text())
            edition = manifest["package"].get("edition", "2015")
            out = hir_tree(
                ws, env,
                ["rustc", "+nightly", "--edition", edition, "--crate-name", "build_script_build",
                 "--crate-type", "bin", "-Zunpretty=hir-tree", rel],
                work / f"build-{crate['lib']}.hir-tree",
            )
            name = tool_names.get(rel, "build_script_build")
            uses, seen = parse_hir_tree(out, {"build_script_build": name, "self": name})
            for use in uses:
                use["crate"] = name
                use["config"] = f"{name}[build script]"
            records += uses
            files |= seen
            out.unlink()
    return records, files


def compare(leaves, records, compiled, sources, ws_crates):
    """One row per tool leaf: the oracle's view, the tool's, and a category."""
    index = collections.defaultdict(list)
    for record in records:
        if record["kind"] == "list" or not record.get("file"):
            continue
        leaf = sources.leaf(record)
        record["leaf"] = leaf
        if leaf:
            index[(record["file"], leaf[0], leaf[1])].append(record)
    rows, used = [], set()
    for entry in leaves:
        key = (entry["path"], entry["line"], entry["column"])
        found = index.get(key, [])
        used.add(key)
        verdict, tool = tool_target(entry)
        row = {
            "file": entry["path"], "line": entry["line"], "column": entry["column"],
            "name": entry["name"], "alias": entry["alias"], "module": entry["module"],
            "importer": entry["importer"], "verdict": verdict, "tool": sorted(tool),
            "conditional": entry["context"]["conditional"], "oracle": [], "kinds": [],
        }
        oracle, kinds, ctxts = set(), [], set()
        for record in found:
            targets, record_kinds = oracle_target(record)
            oracle |= targets
            kinds += record_kinds
            ctxts.add(record["ctxt"])
        row["oracle"], row["kinds"], row["expansions"] = sorted(oracle), sorted(set(kinds)), len(found)
        row["category"] = categorise(row, found, compiled, ws_crates)
        if row["category"] == "no record: unexplained" and sources.cfg_above(row["file"], row["line"]):
            row["category"] = "no record: inactive cfg (tool did not flag it conditional)"
        row["origins"] = entry["resolution"].get("origins", [])
        row["judgement"], row["cause"] = judge(row) if "disagree" in row["category"] else ("", "")
        rows.append(row)
    extra = []
    for key, found in sorted(index.items()):
        if key in used:
            continue
        record = found[0]
        targets, kinds = oracle_target(record)
        extra.append({
            "file": key[0], "line": key[1], "column": key[2], "name": record["leaf"][2],
            "oracle": sorted(targets), "kinds": kinds, "ctxt": record["ctxt"],
            "expansions": len(found), "crate": record["crate"],
        })
    return rows, extra


def in_workspace(target: str, ws_crates: set[str]) -> bool:
    return not target.startswith("<") and target.split("::")[0] in ws_crates


def categorise(row, found, compiled, ws_crates) -> str:
    """`agree...`, `disagree: ...` or `no record: ...`, prefixed with `glob` / `self` /
    `extern crate` for those leaves, which are counted apart."""
    name = row["name"]
    prefix = {"*": "glob ", "self": "self ", None: "extern crate "}.get(name, "")
    if not found:
        if row["file"] not in compiled:
            return "no record: file not compiled (inactive cfg on its mod)"
        return "no record: inactive cfg" if row["conditional"] else "no record: unexplained"
    # A glob's target is what it globs: the tool spells it `module::Enum::*`.
    tool = {t.removesuffix("::*") for t in row["tool"]}
    oracle = set(row["oracle"])
    if not oracle:
        return prefix + "no record: rustc left it unresolved"
    local = {t for t in oracle if in_workspace(t, ws_crates)}
    if not local:
        # Outside the workspace: the tool need only say so (std re-exports core/alloc).
        if tool and all(t.startswith("<external:") for t in tool):
            return prefix + "agree: external"
        return prefix + "disagree: tool resolved inside, rustc outside"
    tool_local = {t for t in tool if not t.startswith("<")}
    if tool_local == local:
        return prefix + "agree"
    if row["verdict"] == "external":
        return prefix + "disagree: tool says external"
    if row["verdict"] in ("missing-name", "missing-module"):
        return prefix + f"disagree: tool says {row['verdict']}"
    if tool_local and tool_local < local:
        return prefix + "disagree: tool found part (namespaces)"
    if tool_local and tool_local > local:
        return prefix + "disagree: tool adds targets"
    return prefix + "disagree: other target"


SOURCES: Sources  # set by main


def judge(row) -> tuple[str, str]:
    """Which side is wrong, by the cause seen on this corpus (docs/rust-oracle.md)."""
    tool, oracle = set(row["tool"]), set(row["oracle"])
    kinds = set(row["kinds"])
    if any("::" in (origin["symbol"] or "") for origin in row["origins"]):
        return ("tool wrong", "first segment resolved to the module's own non-module import "
                "of the same name (the macro `quote`) instead of the extern crate")
    if tool > oracle or (tool and {t.removesuffix("::*") for t in tool} > oracle):
        return ("inactive cfg", "tool keeps the binding of every #[cfg] branch; rustc only "
                "the active one, which the tool also lists")
    if "Macro" in kinds:
        if row["verdict"] == "missing-name":
            return ("tool wrong", "#[macro_export] macro defined in a submodule is not "
                    "found at the crate root")
        if any(o["kind"] == "module" for o in row["origins"]):
            return ("tool wrong", "macro name resolved to a same-named (private) module; a "
                    "#[macro_export] macro lives at the crate root, in the macro namespace")
    local = [t for t in oracle if not t.startswith("<")]
    if row["verdict"] == "missing-name" and local:
        module, _, name = local[0].rpartition("::")
        if module in DEFINITIONS and name not in DEFINITIONS[module]:
            text = SOURCES.lines(MODULE_FILES.get(module, "")) or []
            if any(re.search(rf"\b(struct|enum)\s+{name}\s+#\w+", line) for line in text):
                return ("tool wrong (macro-generated item)", "item declared in a macro body "
                        "with a marker after its name (`ast_struct! { pub struct Name #full "
                        "{..} }`): the collector skips it")
            return ("tool wrong (macro-generated item)", "item built by a macro transcriber "
                    "from a table row (`define_delimiters! { Brace pub struct Brace /// .. }`)")
    return ("unjudged", "")


# ---------------------------------------------------------------- report

GROUPS = [
    ("compared", lambda c: not c.startswith(("glob", "self", "extern crate", "no record"))),
    ("glob / self / extern crate", lambda c: c.startswith(("glob", "self", "extern crate"))),
    ("no rustc record", lambda c: c.startswith("no record")),
]


def summary(rows, extra) -> list[str]:
    counts = collections.Counter(row["category"] for row in rows)
    out = ["| group | category | leaves |", "|---|---|---:|"]
    for group, test in GROUPS:
        for category in sorted(c for c in counts if test(c)):
            out.append(f"| {group} | {category} | {counts[category]} |")
    out.append(f"| | **tool leaves** | **{len(rows)}** |")
    macro = sum(1 for e in extra if e["ctxt"] != 0)
    out.append(f"| oracle only | `use` leaves from macro expansions (the tool reads no macro_rules body uses) | {macro} |")
    out.append(f"| oracle only | source `use` leaves with no tool leaf | {len(extra) - macro} |")
    return out


def per_crate(rows) -> list[str]:
    table = collections.defaultdict(collections.Counter)
    for row in rows:
        crate = row["file"].split("/")[1]
        c = row["category"]
        key = ("agree" if "agree" in c and "disagree" not in c else
               "disagree" if "disagree" in c else "no record")
        table[crate][key] += 1
    out = ["| crate | agree | disagree | no record |", "|---|---:|---:|---:|"]
    for crate, _ in CRATES:
        t = table.get(crate, collections.Counter())
        out.append(f"| {crate} | {t['agree']} | {t['disagree']} | {t['no record']} |")
    return out


def causes(rows) -> list[tuple[str, str, list[dict]]]:
    grouped = collections.defaultdict(list)
    for row in rows:
        if "disagree" in row["category"]:
            grouped[(row["judgement"], row["cause"])].append(row)
    return sorted(((j, c, r) for (j, c), r in grouped.items()), key=lambda x: -len(x[2]))


def fmt_targets(targets) -> str:
    return ", ".join(f"`{t}`" for t in targets) or "—"


def disagreement_lines(rows) -> list[str]:
    out = ["| # | judgement | cause | leaves |", "|---:|---|---|---:|"]
    for i, (judgement, cause, group) in enumerate(causes(rows), 1):
        out.append(f"| {i} | {judgement} | {cause} | {len(group)} |")
    out.append("")
    for i, (judgement, cause, group) in enumerate(causes(rows), 1):
        out.append(f"#### {i}. {judgement}: {len(group)} leaves")
        out.append("")
        out.append(cause + ".")
        out.append("")
        out.append("| leaf (file:line:col) | use | tool | rustc |")
        out.append("|---|---|---|---|")
        for row in group:
            tool = row["verdict"] if row["verdict"] != "resolved" else fmt_targets(row["tool"])
            out.append(
                f"| {row['file']}:{row['line']}:{row['column']} | `{row['module']}::{row['name']}` "
                f"| {tool} | {fmt_targets(row['oracle'])} ({', '.join(row['kinds'])}) |"
            )
        out.append("")
    return out


def no_record_lines(rows) -> list[str]:
    out = ["| leaf (file:line:col) | use | category |", "|---|---|---|"]
    for row in rows:
        if row["category"].startswith("no record"):
            out.append(f"| {row['file']}:{row['line']}:{row['column']} | `{row['module']}::{row['name']}` | {row['category']} |")
    return out


def write_doc(path: Path, rows, extra, toolchain: str, revision: str) -> None:
    lines = ["<!-- results:begin (written by scripts/rust_oracle.py --doc) -->", ""]
    lines += [f"Tool: ssot-gardener at `{revision}`. Oracle: `{toolchain}`. Corpus: "
              + ", ".join(f"`{n} {v}`" for n, v in CRATES) + ".", ""]
    lines += ["### Figures", ""] + summary(rows, extra) + [""]
    lines += ["By crate (of the importing file):", ""] + per_crate(rows) + [""]
    lines += ["### Disagreements by cause", ""] + disagreement_lines(rows)
    lines += ["### Leaves rustc has no record of", ""] + no_record_lines(rows) + [""]
    if extra:
        lines += ["### rustc records with no tool leaf", "",
                  "| position | leaf | rustc | expansions |", "|---|---|---|---:|"]
        for e in extra:
            lines.append(f"| {e['file']}:{e['line']}:{e['column']} | `{e['name']}` | {fmt_targets(e['oracle'])} | {e['expansions']} |")
        lines.append("")
    lines.append("<!-- results:end -->")
    block = "\n".join(lines)
    text = path.read_text() if path.exists() else ""
    if "<!-- results:begin" in text:
        head = text[: text.index("<!-- results:begin")]
        tail = text[text.index("<!-- results:end -->") + len("<!-- results:end -->") :]
        text = head + block + tail
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text)


def main() -> None:
    global SOURCES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/rust-oracle", help="work directory")
    parser.add_argument("--no-build", action="store_true", help="use the built tool as is")
    parser.add_argument("--doc", action="store_true",
                        help="rewrite the results block of docs/rust-oracle.md")
    args = parser.parse_args()
    work = Path(args.work)
    ws = work / "ws"
    work.mkdir(parents=True, exist_ok=True)

    if not args.no_build:
        print("building ssot-gardener (cargo build --release) ...", file=sys.stderr)
        run(["cargo", "build", "--release", "--offline"], cwd=REPO)
    if not TOOL.is_file():
        sys.exit(f"{TOOL} is missing: cd {REPO} && cargo build --release")
    toolchain = run(["rustc", "+nightly", "-V"]).stdout.strip()
    # Which tool was measured (read-only git queries).
    head = run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=False).stdout.strip()
    dirty = run(["git", "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"],
                cwd=REPO, check=False).stdout.strip()
    revision = f"{head or 'unknown'}{' + uncommitted changes under src/' if dirty else ''}"

    crates = assemble(ws)
    print(f"workspace: {ws} ({', '.join(f'{n} {v}' for n, v in CRATES)})", file=sys.stderr)
    run(["cargo", "+nightly", "check", "--offline", "-q", "--workspace"], cwd=ws, env=cargo_env(work))
    for name, features in EXTRA_FEATURES:
        run(["cargo", "+nightly", "check", "--offline", "-q", "-p", name, "--features", features],
            cwd=ws, env=cargo_env(work))

    leaves = tool_leaves(work, ws)
    tool_names = {leaf["path"]: leaf["importer"].split("::")[0] for leaf in leaves if leaf["importer"]}
    records, compiled = oracle_records(work, ws, crates, tool_names)
    ws_crates = {c["lib"] for c in crates} | set(tool_names.values())
    SOURCES = Sources(ws)
    rows, extra = compare(leaves, records, compiled, SOURCES, ws_crates)
    (work / "results.json").write_text(json.dumps({"rows": rows, "oracle_only": extra}, indent=1))

    print("\n".join(summary(rows, extra)))
    print()
    print("\n".join(per_crate(rows)))
    print()
    for i, (judgement, cause, group) in enumerate(causes(rows), 1):
        first = group[0]
        print(f"{i}. [{len(group)}] {judgement}: {cause}\n"
              f"   e.g. {first['file']}:{first['line']}:{first['column']} "
              f"{first['module']}::{first['name']}: tool {first['verdict']} {first['tool']}, "
              f"rustc {first['oracle']}")
    print(f"\ntool at {revision}; rows: {work / 'results.json'}")
    if args.doc:
        write_doc(REPO / "docs" / "rust-oracle.md", rows, extra, toolchain, revision)
        print(f"wrote {REPO / 'docs' / 'rust-oracle.md'}")


if __name__ == "__main__":
    main()
