#!/usr/bin/env python3
"""Ecosystem audit: run `ssot-gardener audit` on real projects and judge its top groups.

    python3 ecosystem/audit.py [--binary PATH] [--cache DIR] [--top N] [--out FILE]

For each project (Django and SQLAlchemy from PyPI sdists, and the `clap_builder` crate from
the local cargo registry):

1. fetch the pinned sdist with `pip download --no-deps --no-binary :all: NAME==VERSION` and
   unpack it once (the crate is copied once from ~/.cargo/registry/src/*/clap_builder-*, the
   highest version there);
2. write a minimal `ssot.toml` at the root of the tree (`python-roots`, or `rust-roots = ["."]`
   for the crate), so that config discovery never walks up to another repository's file, and a
   copy of it with one `[[concept]]`, `ssot-check.toml`, for the `check` timing only (`audit`
   ignores concepts anyway);
3. run `audit --top N --format json` and `audit --top N` (human), then time three cold runs
   each of `audit` (it never uses the fact cache) and `check --no-cache` (wall seconds; the
   operating system's file cache is warm);
4. write the Markdown report: per project the version, command lines, timings, the top N
   groups with their counts, where the score comes from, and a judgement of each group read
   off the members' code. The judgements live in JUDGEMENTS below, keyed by (project, group
   key), so a rerun regenerates the same file; a group without one says "not judged yet".

Options:
    --binary PATH   ssot-gardener to run (default: target/release/ssot-gardener); it is copied
                    into the cache first, so a concurrent rebuild cannot change it mid-run.
    --cache DIR     downloads, unpacked trees and raw outputs (default:
                    /tmp/ssot-gardener-audit-cache; not ecosystem/.cache-audit, because the
                    repository's .gitignore does not cover that directory).
    --top N         groups per project (default 5).
    --out FILE      the report (default: docs/ecosystem-audit.md).

Standard library only. Network access is needed only for the first download (PyPI).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BIN = REPO / "target" / "release" / "ssot-gardener"
DEFAULT_CACHE = Path("/tmp/ssot-gardener-audit-cache")
DEFAULT_OUT = REPO / "docs" / "ecosystem-audit.md"
CARGO_REGISTRY = Path.home() / ".cargo" / "registry" / "src"
TIMING_RUNS = 3
# The binary the judgements and the summary below were written against (sha256).
JUDGED_WITH = "3942d7efb03422bdc1a0bbc3ada19afc55f1269850cbf70b9c73f1f22cba75cf"


@dataclass
class Project:
    name: str  # the key of JUDGEMENTS
    title: str
    source: str  # "pypi" or "crate"
    version: str  # for a crate: found in the registry
    roots: list[str]  # python-roots (a crate: rust-roots = ["."])
    concept: str  # a real class of the tree, the canonical path of the `check` concept


PROJECTS = [
    Project("django", "Django", "pypi", "5.1.4", ["."], "django.http.response.HttpResponse"),
    Project("sqlalchemy", "SQLAlchemy", "pypi", "2.0.36", ["lib"], "sqlalchemy.engine.base.Engine"),
    Project("clap_builder", "clap_builder", "crate", "", [], "clap_builder::builder::Command"),
]


# ---------------------------------------------------------------------------------------------
# Judgements: (project, group key) -> (verdict, paragraph). A verdict starting with "real" is a
# consolidation candidate; the others say why the group is fine.

REAL = "real candidate"
REAL_MINOR = "real candidate (minor)"
HIERARCHY = "designed hierarchy"
PROXIES = "designed proxies"
COLLISION = "name collision"
TESTS = "test classes"


def similar(*names: str) -> str:
    """The key of a `similar` group: its names, sorted, joined with `|`."""
    return "|".join(sorted(names))


JUDGEMENTS: dict[tuple[str, str], tuple[str, str]] = {
    ("django", similar(
        "AddConstraint", "AddConstraintNotValid", "AddField", "AddIndex", "AddIndexConcurrently",
        "AlterField", "AlterModelManagers", "AlterModelOptions", "AlterModelTable",
        "AlterModelTableComment", "AlterOrderWithRespectTo", "AlterTogetherOptionOperation",
        "CreateCollation", "CreateExtension", "CreateModel", "DeleteModel", "Operation",
        "RemoveCollation", "RemoveConstraint", "RemoveField", "RemoveIndex",
        "RemoveIndexConcurrently", "RenameField", "RenameIndex", "RenameModel", "RunPython",
        "RunSQL", "SeparateDatabaseAndState", "ValidateConstraint",
    )): (HIERARCHY,
        "Every member is a migration operation. `Operation` (migrations/operations/base.py:15) is "
        "the abstract base that declares `state_forwards`, `database_forwards`, "
        "`database_backwards`, `describe`, `deconstruct` and `reduce`; the other 28 are its "
        "concrete subclasses, each for a different schema change: AddField/RemoveField/"
        "AlterField/RenameField through `FieldOperation`, CreateModel/DeleteModel/RenameModel and "
        "the Alter* options through `ModelOperation`/`ModelOptionOperation`, AddIndex/RemoveIndex/"
        "RenameIndex/AddConstraint/RemoveConstraint through `IndexOperation`, RunSQL/RunPython/"
        "SeparateDatabaseAndState directly, and the PostgreSQL ones (CreateExtension, "
        "CreateCollation, AddIndexConcurrently, ...) in contrib/postgres/operations.py. The shared "
        "methods are the interface, so there is nothing to merge. The 2 shims and the extra "
        "spellings come from the package re-exports (`django/db/migrations/operations/"
        "__init__.py`, star-imported again by `django/db/migrations/__init__.py`), which are the "
        "public API (`migrations.AddField`)."),
    ("django", similar("Cast", "Chr", "HasKeyLookup", "KeyTransform", "Length", "Now", "Random")): (
        COLLISION,
        "Seven unrelated SQL expressions: `Cast` (CAST(x AS type)), `Now` (CURRENT_TIMESTAMP), "
        "`Random` (RANDOM()), `Chr` (CHR()), the GIS `Length` (ST_Length), and the JSONField "
        "internals `KeyTransform` (the `->` key access) and `HasKeyLookup` (the has_key lookups). "
        "All they share is `as_mysql`/`as_oracle`/`as_postgresql`/`as_sqlite`: per-backend "
        "overrides that `SQLCompiler.compile` looks up with `getattr(node, \"as_\" + vendor)`. "
        "That is a dispatch convention, not evidence of copies. `Cast` is the likely canonical "
        "only because it has the most importers (25). The two `KeyTransformFactory` classes are "
        "real factories, but one builds hstore's own `KeyTransform` and the other builds JSON's "
        "(they are the same 5 lines, which is a tiny copy of its own)."),
    ("django", similar(
        "Field", "FileField", "GeometryField", "HStoreField", "JSONField",
        "ModelMultipleChoiceField", "SimpleArrayField", "SplitArrayField",
    )): (HIERARCHY,
        "All eight are form fields. `forms.Field` (forms/fields.py:86) is the base, and FileField, "
        "JSONField, ModelMultipleChoiceField, the PostgreSQL SimpleArrayField/SplitArrayField/"
        "HStoreField and the GIS GeometryField subclass it (some through `CharField` or "
        "`ModelChoiceField`). Each overrides `to_python`/`clean`/`has_changed`/`prepare_value`, "
        "which is the Field contract. The audit even takes `FileField` (7 importers) over the base "
        "`Field` (5 importers) as the likely canonical."),
    ("django", "*Field"): (
        COLLISION,
        "A bucket of 121 classes (and 44 in tests) that only share the suffix: model fields "
        "(db/models/fields: CharField, IntegerField, ..., ForeignKey, ArrayField, GeometryField), "
        "form fields (forms/fields.py: a second CharField, IntegerField, ChoiceField, ...), GIS SQL "
        "conversion fields (AreaField, DistanceField), and even the migration operations "
        "AddField/RemoveField/AlterField. It holds several designed hierarchies. Model and form "
        "fields with the same name are parallel on purpose: `models.CharField.formfield()` returns "
        "a `forms.CharField`. Cohesion 0.11 is right, but the raw score (about 199) still lifts it "
        "to this rank. The 8 \"factories\" are getters: `Field.get_bound_field`, "
        "`get_related_field`, `DateMixin.get_date_field` (which returns a field *name*), and the "
        "private `_get_dependencies_for_generated_field`."),
    ("django", "*Mixin"): (
        COLLISION,
        "75 mixins (and 36 in tests) with nothing in common but the suffix: `MiddlewareMixin` (the "
        "old-style middleware adapter), `ContextMixin`/`TemplateResponseMixin` (class-based views), "
        "`PermissionsMixin` (auth model fields), `ListMixin` (GEOS mutable sequences), "
        "`FieldCacheMixin`, `LoginRequiredMixin`, and so on. None of them shares a public method "
        "with the likely canonical. The cohesion is 0.23 and not near 0 only because "
        "`MiddlewareMixin` has no public methods, so every member is counted at 1/4 instead of 0."),
    ("sqlalchemy", "*Test"): (
        TESTS,
        "Not a concept. It is 1470 test-case classes named `XTest` by SQLAlchemy's convention "
        "(test/orm/inheritance, test/dialect/postgresql, lib/sqlalchemy/testing/suite, ...), plus "
        "the six fixture bases in lib/sqlalchemy/testing/fixtures (`TablesTest`, `ORMTest` -> "
        "`MappedTest` -> `DeclarativeMappedTest`, `MypyTest`, `ComputedReflectionFixtureTest`), "
        "which form the designed fixture hierarchy over `TestBase`. SSOT001's exemption only "
        "covers names that start with `Test` and bases that end in `TestCase`, so "
        "`XTest(fixtures.TestBase)` gets through, and every test case is counted as a \"test "
        "double\"."),
    ("sqlalchemy", similar(
        "AsyncAdapt_aiomysql_cursor", "AsyncAdapt_aiomysql_ss_cursor", "AsyncAdapt_aiosqlite_cursor",
        "AsyncAdapt_aiosqlite_ss_cursor", "AsyncAdapt_asyncmy_cursor", "AsyncAdapt_asyncmy_ss_cursor",
        "AsyncAdapt_asyncpg_cursor", "AsyncAdapt_asyncpg_ss_cursor", "AsyncAdapt_dbapi_cursor",
        "AsyncAdapt_dbapi_ss_cursor", "AsyncAdapt_psycopg_cursor", "AsyncAdapt_psycopg_ss_cursor",
        "ServerSideCursor",
    )): (REAL,
        "The asyncio cursor adapters of aiomysql, asyncmy and aiosqlite, and "
        "their `_ss_` server-side variants, are near line-for-line copies of "
        "`AsyncAdapt_dbapi_cursor`/`AsyncAdapt_dbapi_ss_cursor` in connectors/asyncio.py. aiomysql "
        "and asyncmy differ only in the cursor class they pass and the mutex helper they call. Each "
        "copy carries `# TODO: base on connectors/asyncio.py  see #10415`, while the aioodbc and "
        "oracledb adapters already subclass the shared ones. The asyncpg and psycopg adapters "
        "differ more (asyncpg prepares statements itself; psycopg wraps an existing cursor and "
        "forwards through `__getattr__`), but they do the same job. The odd one out is pg8000's "
        "`ServerSideCursor`, which emulates a server-side cursor with DECLARE/FETCH on a sync "
        "connection: the same DBAPI surface for a different job. The likely canonical is right. "
        "However, the 9 \"factories\" (27 of the 55 raw points) are the `create_server_side_cursor` "
        "hook that every dialect's execution context overrides, matched only because "
        "`ServerSideCursor`'s name ends their names."),
    ("sqlalchemy", "*Cursor"): (
        COLLISION,
        "Two unrelated cursors: `DBAPIProxyCursor` (testing/engines.py, a test helper that wraps a "
        "real DBAPI cursor so tests can intercept `execute`) and pg8000's `ServerSideCursor` "
        "(DECLARE/FETCH emulation). Two members that share the DBAPI names `execute`/`executemany` "
        "give cohesion 1.0. The 9 `create_server_side_cursor` hook overrides, at 3 points each, "
        "make 27 of the 32 points. The family also misses the actual cursor copies (group 2), "
        "because their names end in a lower-case `_cursor`."),
    ("sqlalchemy", similar("AsyncSession", "Session", "async_scoped_session", "scoped_session")): (
        PROXIES,
        "`Session` (orm/session.py) is the one implementation. `scoped_session` is a registry that "
        "forwards to a thread-local Session. `AsyncSession` is an asyncio facade around a sync "
        "Session (`sync_session`), run through greenlets. `async_scoped_session` is the scoped "
        "registry for AsyncSession. Their shared methods are declared with `@create_proxy_methods` "
        "and generated from Session's by tools/generate_proxy_methods.py (the `# START PROXY "
        "METHODS` blocks). The interface is duplicated on purpose and kept in sync by a generator, "
        "so this is not a candidate."),
    ("sqlalchemy", similar("AsyncEngine", "Engine")): (
        PROXIES,
        "`AsyncEngine` (ext/asyncio/engine.py) is the asyncio proxy of `Engine` "
        "(engine/base.py). It holds a `sync_engine`, its shared methods (`begin`, `connect`, "
        "`dispose`, `execution_options`, ...) are generated proxies, and `create_async_engine`, "
        "counted here as a factory, is the documented way to build one. The 3 shims are the public "
        "re-exports in the `sqlalchemy`, `sqlalchemy.engine` and `sqlalchemy.ext.asyncio` packages. "
        "Designed, not a candidate."),
    ("clap_builder", "*Value"): (
        COLLISION,
        "Three unrelated types. `AnyValue` (util/any_value.rs) is an `Arc<dyn Any>` plus its "
        "TypeId: the type-erased storage of parsed values. `PossibleValue` "
        "(builder/possible_value.rs) is one allowed value of an argument, with help text and "
        "aliases. `ContextValue` (error/context.rs) is the enum of payloads an error context can "
        "carry. The \"factory\" `get_context_value` is `Styles::get_context_value`, a getter that "
        "returns a `Style`. 19 of the 21 raw points come from re-exports, importers and that "
        "getter."),
    ("clap_builder", "*Map"): (
        COLLISION,
        "`FlatMap<K, V>` (util/flat_map.rs) is a generic insertion-ordered map over two Vecs. "
        "`MKeyMap` (mkeymap.rs) is a Command's argument table: a `Vec<Arg>` plus a cache of "
        "short/long/positional keys into it. They share only the method names `get` and `keys`, "
        "and MKeyMap is neither generic nor a key-value store, so they do different jobs."),
    ("clap_builder", similar("AppFlags", "ArgFlags")): (
        REAL_MINOR,
        "`ArgFlags(u32)` (builder/arg_settings.rs) and `AppFlags(u32)` "
        "(builder/app_settings.rs) are the same 30 lines (`set`, `unset`, `is_set`, `insert` and a "
        "`BitOr` impl over a u32 bit set), differing only in the settings enum they take. One "
        "generic flags type over a tiny `bit()` trait would replace both. Whether that is worth it "
        "for 30 lines is the maintainers' call, but it is the one true copy the audit found in "
        "this crate."),
    ("clap_builder", "*ArgMatches"): (
        COLLISION,
        "`ArgMatches` (parser/matches/arg_matches.rs) is the parse-result struct. `FromArgMatches` "
        "(derive.rs) is the trait that derived types implement to build themselves *from* an "
        "ArgMatches: a trait named after the type it consumes, which is the usual Rust `From*` "
        "naming. They share no methods, so the definitions term is 0. The whole score comes from "
        "the crate-root and `parser` re-exports of the public API (shims and spellings) and from "
        "importers."),
    ("clap_builder", "*Settings"): (
        HIERARCHY,
        "`ArgSettings` and `AppSettings` are two `#[repr(u8)]` enums that list different flags: "
        "per argument (Required, Hidden, ...) and per command (SubcommandRequired, Multicall, ...). "
        "Each has a private `bit()`, and they are the enums that the AppFlags/ArgFlags pair stores. "
        "The value sets are different, so they are parallel types, not copies; the duplicated part "
        "(the flags wrapper) is already the AppFlags/ArgFlags group. Rust enums are audited, while "
        "Python `Enum` subclasses are exempt."),
}

# Where the ranking misleads, as read off the judged groups above (binary JUDGED_WITH).
OBSERVATIONS = """\
**Where the ranking misleads**, from the judged groups and the breakdowns above (ranks from
the `--top 0` lists of the same runs where a group below the top 5 is named):

1. **Hierarchies through an intermediate base count as copies.** The subclass and shared-base
   tests (`canonical()`'s weight 0.1, and `similar()`'s pair exclusion) only look at a class's
   *direct* bases, compared against the group's own member names. Django's 28 migration
   operations subclass `Operation` through `FieldOperation`/`ModelOperation`/`IndexOperation`/
   `ModelOptionOperation`/`CollationOperation`, none of which is a member. So 20 of them weigh
   1.0 each: 83 of the 107 raw points, and the group scores 80.6, three times the next Django
   group. The same happens to the form fields (Django #3) through `CharField`. Resolving bases
   transitively (any ancestor defined in the tree, not only a member) would turn both into
   hierarchies.
2. **Shared method names that a framework protocol dictates.** `similar` pairs classes on
   names like `as_sqlite`/`as_postgresql` (Django's per-vendor compile hooks, #2),
   `to_python`/`clean`/`has_changed` (the form-field contract, #3), `execute`/`fetchone` (the
   DBAPI: SQLAlchemy #2, and the cohesion 1.0 of #3) and generated proxy methods (SQLAlchemy #4 and #5). The only
   damping is `COMMON_METHOD = 400`, which no hook name reaches in a tree of 3,500 to 5,000
   classes. Weighting each shared method by its rarity, or not counting a method that overrides
   one defined on a base in the tree, would separate "same interface" from "same code".
3. **The shared-base exclusion also hides a real copy.** SQLAlchemy's aiomysql and asyncmy
   `AsyncAdapt_*_connection` classes carry the same `TODO: base on connectors/asyncio.py, see
   #10415` as the cursors in #2, and asyncpg's does the same job. But they all subclass
   `AdaptedConnection`, and so does their true canonical `AsyncAdapt_dbapi_connection`, so
   `similar()` never pairs them with it. Their group (with aioodbc's, which subclasses the
   shared one) ranks 16th (score 17.6), with `engine.util.TransactionalContext` as the likely
   canonical. Siblings of one abstract base are where copy-paste happens, so a shared base
   should lower the weight only when the method bodies differ (a token hash per method would
   tell), not rule the pair out.
4. **Test cases counted as test doubles.** SQLAlchemy #1 (`*Test`, score 82.2) is 1470 test
   cases: 479 of its 483 raw points come from the `2·test doubles` term, which has no cap.
   The test exemption (`is_exempt_class`) misses SQLAlchemy's `XTest(fixtures.TestBase)`
   convention; any class in a test path whose name ends in `Test`/`Tests`, or whose base ends
   in `TestBase`/`Test`, should be exempt. The term should also be capped (or logged), like
   importers already are. The fallback rule also props this group up, along with `*Mixin`: a
   canonical class with no public methods makes every member count 1/4 (the module doc says
   1/2, and it gives 1/4 for a subclass where the code uses 0.1), so a suffix bucket of
   classes that share nothing keeps a cohesion of 0.17 to 0.23 instead of about 0.
5. **"Factories" that are getters or hook overrides.** Every function or *method* whose name
   starts with `get`/`create`/... and ends with a member's name counts 3 points, even private
   ones and repeated overrides of one interface method. SQLAlchemy's
   `create_server_side_cursor` is overridden by 9 execution contexts: 27 points in both #2
   and #3, and without them `*Cursor` (two unrelated classes) would score 5 instead of 32.
   Other examples: `Field.get_bound_field`, `DateMixin.get_date_field` (it returns a string),
   and clap's `Styles::get_context_value` (it returns a `Style`). Counting each factory *name*
   once, skipping methods that override a base method, and skipping `_private` names would
   remove all of these.
6. **One-word suffix families.** `*Field`, `*Mixin`, `*Test`, `*Cursor`, `*Value`, `*Map`,
   `*Settings`: 7 of the 15 top groups are `*X` families with an empty stem, and none is a real
   candidate. Their size feeds the definitions and spelling terms (`*Field`: 84 raw points
   from spellings alone) faster than the low cohesion divides it. A family with an empty stem
   should need method overlap (or a name group inside it) to rank, or get a fixed discount.
7. **The popularity terms reward public API and not duplication.** Shims and extra spellings
   are mostly a package re-exporting its own submodule: `django/db/migrations/operations/
   __init__.py`, the `sqlalchemy`/`sqlalchemy.engine` packages, Rust `pub use` in `lib.rs` and
   `mod.rs`. In clap, `*ArgMatches` (#4) gets all of its 14.8 raw points from re-exports and
   importers, with a definitions term of 0. The real copies are the opposite: dialect-private
   classes with 0 importers (the SQLAlchemy cursor and connection adapters). A re-export from an
   *ancestor* package of the defining module should count neither as a shim nor as an extra
   spelling.
8. **Smaller issues.** Family keys are case-sensitive on the last word: `*Cursor` misses
   `AsyncAdapt_aiomysql_cursor` and the rest, which form separate, lower groups
   (`*AsyncAdapt*cursor` is 38th, `*sscursor` 17th). The likely canonical is the most-imported
   member, even when another member is the base class that the others subclass (`FileField`
   over `Field`), and even when it is a test helper outside a `test` directory
   (`DBAPIProxyCursor` in `lib/sqlalchemy/testing/`).
"""


# ---------------------------------------------------------------------------------------------
# Fetching and preparing the trees


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(project: Project, cache: Path) -> tuple[Path, str]:
    """The unpacked sdist's root, and the sdist's file name; downloaded and unpacked once."""
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)

    def find() -> list[Path]:
        return [
            path
            for path in downloads.iterdir()
            if path.name.lower() == f"{project.name}-{project.version}.tar.gz"
        ]

    if not find():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"{project.name}=={project.version}", "-d", str(downloads)],
            check=True,
        )
    (sdist,) = find()
    trees = cache / "trees"
    tree = trees / sdist.name.removesuffix(".tar.gz")
    if not tree.is_dir():
        trees.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as archive:
            archive.extractall(trees, filter="data")
    return tree, sdist.name


def fetch_crate(project: Project, cache: Path) -> Path:
    """A copy of the newest clap_builder crate in the cargo registry; sets its version."""
    found = glob.glob(str(CARGO_REGISTRY / "*" / f"{project.name}-*"))

    def version(path: str) -> tuple[int, ...]:
        text = Path(path).name.removeprefix(f"{project.name}-")
        return tuple(int(part) if part.isdigit() else -1 for part in text.split("."))

    if not found:
        sys.exit(f"error: no {project.name} crate under {CARGO_REGISTRY}")
    source = Path(max(found, key=version))
    project.version = source.name.removeprefix(f"{project.name}-")
    if not (source / "Cargo.toml").is_file():
        sys.exit(f"error: {source} has no Cargo.toml")
    tree = cache / "trees" / source.name
    if not tree.is_dir():
        shutil.copytree(source, tree, symlinks=True)
    return tree


def write_configs(project: Project, tree: Path) -> tuple[str, str]:
    """`ssot.toml` (for audit) and `ssot-check.toml` (the same plus one concept, for check)."""
    if project.source == "crate":
        base = '[project]\npython-roots = []\nrust-roots = ["."]\n'
    else:
        roots = ", ".join(json.dumps(root) for root in project.roots)
        base = f"[project]\npython-roots = [{roots}]\n"
    check = base + f'\n[[concept]]\nname = "x"\ncanonical = "{project.concept}"\n'
    (tree / "ssot.toml").write_text(base)
    (tree / "ssot-check.toml").write_text(check)
    return base, check


# ---------------------------------------------------------------------------------------------
# Running the binary


def run(binary: Path, args: list[str], tree: Path, ok: tuple[int, ...] = (0,)) -> str:
    """Runs the binary in the tree (`--config FILE` takes the working directory as the root),
    without colours (the output is not a terminal, and FORCE_COLOR is dropped)."""
    env = {key: value for key, value in os.environ.items() if key != "FORCE_COLOR"}
    result = subprocess.run(
        [str(binary), *args], cwd=tree, capture_output=True, text=True, env=env
    )
    if result.returncode not in ok:
        sys.exit(
            f"error: `ssot-gardener {' '.join(args)}` in {tree} exited {result.returncode}:\n"
            f"{result.stderr}"
        )
    return result.stdout


def timed(binary: Path, args: list[str], tree: Path, ok: tuple[int, ...]) -> list[float]:
    times = []
    for _ in range(TIMING_RUNS):
        start = time.perf_counter()
        run(binary, args, tree, ok)
        times.append(time.perf_counter() - start)
    return times


# ---------------------------------------------------------------------------------------------
# The report


def display_key(group: dict) -> str:
    if group["kind"] != "similar":
        return f"`{group['key']}`"
    names = group["key"].split("|")
    shown = ", ".join(f"`{name}`" for name in names[:4])
    return shown + (f", ... (+{len(names) - 4})" if len(names) > 4 else "")


def breakdown(group: dict) -> dict[str, float]:
    """The terms of the raw score (score / cohesion, so rounded): what lifted the group."""
    counts = group["counts"]
    imported = sum(1 for member in group["members"] if member["spellings"] > 0)
    terms = {
        "shims": 3.0 * counts["shims"],
        "factories": 3.0 * counts["factories"],
        "backups": 2.0 * counts["backups"],
        "spellings": 2.0 * max(0, counts["spellings"] - imported),
        "importers": math.log2(1 + counts["importers"]),
    }
    raw = group["score"] / group["cohesion"] if group["cohesion"] else 0.0
    return {"raw": raw, "definitions + tests": max(0.0, raw - sum(terms.values())), **terms}


def judgement(project: Project, group: dict) -> tuple[str, str]:
    return JUDGEMENTS.get((project.name, group["key"]), ("not judged yet", "not judged yet"))


def project_section(result: dict, top: int) -> list[str]:
    project: Project = result["project"]
    audit = result["audit"]
    timing = result["timing"]
    lines = [f"## {project.title} {project.version}", ""]
    lines += [f"- Source: {result['source']}", f"- Tree: `{result['tree']}`"]
    lines += [
        f"- Graph: {audit['modules']} modules, {audit['classes']} classes, "
        f"{audit['groups_found']} groups found",
        "",
        "`ssot.toml` (audit):",
        "",
        "```toml",
        result["config"].rstrip(),
        "```",
        "",
        "`ssot-check.toml` (the `check` timing only):",
        "",
        "```toml",
        result["check_config"].rstrip(),
        "```",
        "",
        "Commands (run in the tree; `BIN` is the binary):",
        "",
        "```sh",
        *(f"BIN {' '.join(args)}" for args in result["commands"]),
        "```",
        "",
        "| command | runs (s) | median (s) |",
        "|---|---|---|",
    ]
    for label, times in timing.items():
        runs = ", ".join(f"{t:.3f}" for t in times)
        lines.append(f"| `{label}` | {runs} | {statistics.median(times):.3f} |")
    lines += [
        "",
        f"### Top {top} groups",
        "",
        "| rank | key | kind | score | definitions | test doubles | importers | shims | "
        "factories | likely canonical | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for group in audit["groups"]:
        counts = group["counts"]
        member = group["members"][group["canonical_member"]]
        canonical = f"`{group['canonical']}` ({member['path']}:{member['line']})"
        verdict, _ = judgement(project, group)
        lines.append(
            f"| {group['rank']} | {display_key(group)} | {group['kind']} | {group['score']:.1f} | "
            f"{counts['definitions']} | {counts['test_doubles']} | {counts['importers']} | "
            f"{counts['shims']} | {counts['factories']} | {canonical} | {verdict} |"
        )
    lines += [
        "",
        "Where the score comes from: `raw = score / cohesion`, split into its terms (the "
        "definitions and test-double terms are what is left over, since the JSON does not give "
        "the weights).",
        "",
        "| rank | cohesion | raw | definitions + tests | shims | factories | spellings | "
        "importers | backups |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group in audit["groups"]:
        terms = breakdown(group)
        lines.append(
            f"| {group['rank']} | {group['cohesion']:.2f} | {terms['raw']:.1f} | "
            f"{terms['definitions + tests']:.1f} | {terms['shims']:.0f} | "
            f"{terms['factories']:.0f} | {terms['spellings']:.0f} | {terms['importers']:.1f} | "
            f"{terms['backups']:.0f} |"
        )
    lines += ["", "### Judgement", ""]
    for group in audit["groups"]:
        verdict, text = judgement(project, group)
        members = ", ".join(
            f"{m['path']}:{m['line']}" for m in group["members"][:3]
        ) + (f", ... ({len(group['members'])} in all)" if len(group["members"]) > 3 else "")
        lines += [
            f"**{group['rank']}. {display_key(group)}**: {verdict}. ({members})",
            "",
            text,
            "",
        ]
    lines += [
        "<details><summary>Human output</summary>",
        "",
        "```text",
        result["human"].rstrip(),
        "```",
        "",
        "</details>",
        "",
    ]
    return lines


def report(results: list[dict], binary_hash: str, top: int, load: float) -> str:
    lines = [
        "# Ecosystem audit",
        "",
        "Generated by `python3 ecosystem/audit.py` (do not edit by hand: the judgements live in "
        "the script's `JUDGEMENTS`). `ssot-gardener audit` on real projects, timed against "
        "`check`, with its top groups read off the code and judged: is each one several "
        "implementations of one job (a real consolidation candidate), or a designed hierarchy, "
        "proxies, test classes, or a name collision?",
        "",
        f"- Binary: sha256 `{binary_hash}`",
        f"- Machine: {os.cpu_count()} cores, load average {load:.2f} before the timings; wall "
        f"seconds, median of {TIMING_RUNS} runs. "
        "`audit` never reads the fact cache and `check` runs with `--no-cache`, so both are "
        "cold; the operating system's file cache is warm.",
    ]
    if binary_hash != JUDGED_WITH:
        lines.append(
            f"- **The judgements and the summary were written against binary `{JUDGED_WITH[:12]}`; "
            "this run used another one. Groups whose key changed say \"not judged yet\", and the "
            "numbers quoted in the summary may be stale.**"
        )
    lines += [
        "",
        "| project | version | modules | classes | groups | audit (s) | check --no-cache (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        audit, timing = result["audit"], list(result["timing"].values())
        lines.append(
            f"| {result['project'].title} | {result['project'].version} | {audit['modules']} | "
            f"{audit['classes']} | {audit['groups_found']} | {statistics.median(timing[0]):.3f} | "
            f"{statistics.median(timing[1]):.3f} |"
        )
    lines.append("")
    for result in results:
        lines += project_section(result, top)
    verdicts = [
        judgement(result["project"], group)[0]
        for result in results
        for group in result["audit"]["groups"]
    ]
    real = sum(verdict.startswith("real") for verdict in verdicts)
    tally = ", ".join(
        f"{verdicts.count(verdict)} {verdict}" for verdict in sorted(set(verdicts))
    )
    lines += [
        "## Summary",
        "",
        f"**{real} of the {len(verdicts)} top groups are real consolidation candidates** "
        f"({tally}).",
        "",
        OBSERVATIONS.rstrip(),
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def audit_project(project: Project, binary: Path, cache: Path, top: int) -> dict:
    if project.source == "pypi":
        tree, sdist = fetch_sdist(project, cache)
        source = f"PyPI sdist `{sdist}` (sha256 `{sha256(cache / 'downloads' / sdist)}`)"
    else:
        tree = fetch_crate(project, cache)
        source = f"crate `{tree.name}` copied from the local cargo registry"
    config, check_config = write_configs(project, tree)
    json_args = ["audit", "--top", str(top), "--format", "json"]
    audit_args = ["audit", "--top", str(top)]
    check_args = ["check", "--no-cache", "--config", "ssot-check.toml", "--statistics"]
    audit = json.loads(run(binary, json_args, tree))
    human = run(binary, audit_args, tree)
    outputs = cache / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / f"{project.name}.json").write_text(json.dumps(audit, indent=2))
    (outputs / f"{project.name}.txt").write_text(human)
    timing = {
        " ".join(audit_args): timed(binary, audit_args, tree, (0,)),
        # Exit 1: findings; 2 would be an error (a concept naming no definition).
        " ".join(check_args): timed(binary, check_args, tree, (0, 1)),
    }
    return {
        "project": project,
        "tree": str(tree),
        "source": source,
        "config": config,
        "check_config": check_config,
        "commands": [json_args, audit_args, check_args],
        "audit": audit,
        "human": human,
        "timing": timing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=DEFAULT_BIN)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not args.binary.is_file():
        sys.exit(f"error: no binary at {args.binary} (cargo build --release, or --binary)")
    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    binary = cache / "ssot-gardener"
    shutil.copy2(args.binary, binary)
    load = os.getloadavg()[0]
    results = []
    for project in PROJECTS:
        print(f"audit: {project.title}", file=sys.stderr)
        results.append(audit_project(project, binary, cache, args.top))
    args.out.write_text(report(results, sha256(binary), args.top, load))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
