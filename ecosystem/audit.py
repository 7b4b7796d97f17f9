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
   each of `audit --no-cache` and `check --no-cache` (both read every file instead of taking
   facts from `.ssot_cache/`; wall seconds; the operating system's file cache is warm);
4. write the Markdown report: per project the version, command lines, timings, the top N
   groups with their counts, where the score comes from, and a judgement of each group read
   off the members' code. The judgements live in JUDGEMENTS below, keyed by (project, group
   key), so a rerun regenerates the same file; a group without one says "not judged yet". The
   report names the binary the judgements were written for (JUDGED_WITH) and warns when the
   run used another one.

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
JUDGED_WITH = "da759a4fdf416ffb7aeb48c7803136bc1dcd93538aab3d709423eae6d4fad514"


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
# consolidation candidate; the others say why the group is fine. Written for binary JUDGED_WITH
# after reading the members' code at the listed lines; a group whose key is not here (another
# binary, another ranking) says "not judged yet".

REAL = "real candidate"
REAL_MINOR = "real candidate (minor)"
HIERARCHY = "designed hierarchy"
INTERFACE = "interface family"
PROXIES = "designed proxies"
COLLISION = "name collision"
CFG = "cfg alternatives"
TESTS = "test classes"


def similar(*names: str) -> str:
    """The key of a `similar` group: its names, sorted, joined with `|`."""
    return "|".join(sorted(names))


JUDGEMENTS: dict[tuple[str, str], tuple[str, str]] = {
    # -- Django ---------------------------------------------------------------------------
    ("django", "Field"): (
        COLLISION,
        "Three classes named `Field` for three jobs. `django.db.models.Field` "
        "(db/models/fields/__init__.py:119) is the base of every model field: a column, its "
        "database type, value conversions and `deconstruct` for migrations. `django.forms.Field` "
        "(forms/fields.py:86) is the base of every form field: it cleans and validates one "
        "submitted value for a widget. `django.contrib.gis.gdal.field.Field` "
        "(contrib/gis/gdal/field.py:14) wraps one OGR field of a GDAL feature (`as_int`, "
        "`as_double`, `value`). The model and form bases share 4 method names (`clean`, "
        "`run_validators`, `to_python`, `validate`), which is Django's validation vocabulary, and "
        "the pairing is designed: `models.Field.formfield()` builds the matching form field. The "
        "GDAL class shares nothing and weighs 0. Those 4 names weigh the form Field 1.0, so "
        "`copies` is 1 and the new scaling leaves the popularity whole: 22.7 of the 26.6 raw "
        "points, as in the previous run. They are 10 import spellings for 3 imported members "
        "(14 points), one shim (`django/contrib/gis/db/models/__init__.py`, `from "
        "django.db.models import *`, the public GeoDjango models API: 3 points), the "
        "`django.forms` package re-export (1) and 25 importers (4.7)."),
    ("django", "*Mixin"): (
        COLLISION,
        "Unchanged from the previous run (10.5). 113 mixins (75, and 38 in test files) with "
        "nothing in common but the suffix: `MiddlewareMixin` (the old-style middleware adapter), "
        "`ContextMixin`/`TemplateResponseMixin` (class-based views), `PermissionsMixin` (auth "
        "model fields), `ListMixin` (GEOS mutable sequences), `FieldCacheMixin`, "
        "`LoginRequiredMixin`, and so on. Not one of the 113 shares a public method with the "
        "likely canonical. The cohesion is 0.23 and not near 0 only because `MiddlewareMixin` has "
        "no public methods at all (`__init__`, `__call__`, `__acall__`), so every member is "
        "weighed 1/4 instead of 0 (0.1 where one mixin subclasses another): 84.9 of the 91.3 raw "
        "points are that definitions term, which the popularity scaling does not touch. Three of "
        "the \"test doubles\" are library code under `django/test/` (`SerializeMixin`, "
        "`LoggingCaptureMixin`, `ClientMixin`)."),
    ("django", "*Field"): (
        COLLISION,
        "A bucket of 168 classes (124, and 44 in test files) that only share the suffix: model "
        "fields (29 in db/models/fields/__init__.py alone, plus the related, JSON, file, "
        "PostgreSQL and GIS ones), form fields (29 in forms/fields.py, a second CharField, "
        "IntegerField, ChoiceField, ..., plus the GIS and PostgreSQL form fields), GIS SQL "
        "conversion fields (AreaField, DistanceField), the migration operations AddField/"
        "RemoveField/AlterField, and the three `Field` bases of group 1. It holds several "
        "designed hierarchies, and model and form fields of one name are parallel on purpose: "
        "`models.CharField.formfield()` returns a `forms.CharField`. Most members weigh 0.1 as "
        "subclasses of a member or of a shared base, but 168 of them still sum far past 1, so "
        "`copies` is 1 and the popularity counts whole: 113.8 of the 180.0 raw points (49 extra "
        "import spellings, 98 points; 8 package re-exports; 218 importers, 7.8). Cohesion 0.10 "
        "and the one-word halving take it to 9.0, third."),
    ("django", similar("FilteredRelation", "ResolvedOuterRef")): (
        INTERFACE,
        "`FilteredRelation` (db/models/query_utils.py:436) is the user-facing "
        "`FilteredRelation(\"book\", condition=Q(...))`, which adds a condition to a join's ON "
        "clause. `ResolvedOuterRef` (db/models/expressions.py:916) is what an `OuterRef(\"pk\")` "
        "becomes once its subquery is resolved: an `F` subclass that refuses to compile outside "
        "a subquery. They share `as_sql`, `resolve_expression` and `relabeled_clone`, 3 of their "
        "5 public names (Jaccard 0.6, exactly the threshold). That is the query-expression "
        "protocol the ORM calls on anything it compiles, duck-typed (FilteredRelation has no "
        "base, so no shared-base test can see it). Different jobs, nothing to merge."),
    ("django", similar("AsyncClient", "Client", "RedirectView", "RequestFactory")): (
        COLLISION,
        "A collision of method names: the HTTP verbs. `RedirectView` (views/generic/base.py:230) "
        "is a class-based view that *answers* a request with a redirect: `get` computes "
        "`get_redirect_url` and returns a 301/302, and `head`, `post`, `options`, `delete`, "
        "`put`, `patch` all call `get`. `RequestFactory` (test/client.py:370) *builds* requests: "
        "its `get`, `post`, `head`, `trace`, `options`, `put`, `patch`, `delete` each make a "
        "WSGIRequest for `generic`. `Client(ClientMixin, RequestFactory)` (:1033) and "
        "`AsyncClient(ClientMixin, AsyncRequestFactory)` (:1402) send those requests through "
        "the handler and follow redirects. The three test-framework classes are a designed "
        "hierarchy of their own (Client and AsyncClient weigh 0.1 as descendants of "
        "RequestFactory), and none of them does RedirectView's job. RedirectView is the likely "
        "canonical only because everything under `django/test/`, Django's shipped test API "
        "(`Client` has 11 importers and `RequestFactory` 52), counts as a test double. "
        "RequestFactory's 7 shared verbs weigh it 1.0, so `copies` is 1, and 13.0 of the 15.5 "
        "raw points are popularity (the `django.views.generic` re-export, 3 extra spellings, 65 "
        "importers, mostly RequestFactory's)."),
    # -- SQLAlchemy -----------------------------------------------------------------------
    ("sqlalchemy", similar("AsyncSession", "Session", "async_scoped_session", "scoped_session")): (
        PROXIES,
        "`Session` (orm/session.py:1455) is the one implementation. `scoped_session` "
        "(orm/scoping.py:146) is a registry that forwards to a thread-local Session. "
        "`AsyncSession` (ext/asyncio/session.py:207) is an asyncio facade around a sync Session "
        "(`sync_session`), run through greenlets. `async_scoped_session` (ext/asyncio/"
        "scoping.py:116) is the scoped registry for AsyncSession. Their shared methods are "
        "declared with `@create_proxy_methods(...)` and generated from Session's by "
        "tools/generate_proxy_methods.py (the `# START PROXY METHODS` blocks). The interface is "
        "duplicated on purpose and kept in sync by a generator, so this is not a candidate. The "
        "new wrapper rule catches only `AsyncSession(ReversibleProxy[Session])`, which now "
        "weighs 0.1. The two scoped registries are `Generic[_S]`/`Generic[_AS]`, and their "
        "proxy relation is written only in the class decorator, so they still weigh 1.0 each: "
        "cohesion 0.78, `copies` 1, and 16.2 of the 24.4 raw points are popularity (136 "
        "importers of Session, 4 extra spellings, the `sqlalchemy.orm` re-export)."),
    ("sqlalchemy", "*sscursor"): (
        REAL,
        "The server-side halves of the copies in group 3, issue #10415. "
        "`AsyncAdapt_dbapi_ss_cursor` (connectors/asyncio.py:126) is the shared asyncio "
        "server-side cursor: no row buffer, `fetchone`/`fetchmany`/`fetchall` awaited one by "
        "one, `__iter__` over the async iterator. aioodbc's (connectors/aioodbc.py:39) and "
        "oracledb's (dialects/oracle/oracledb.py:280) already subclass it and weigh 0.1. "
        "aiomysql's (dialects/mysql/aiomysql.py:144) and asyncmy's (dialects/mysql/asyncmy.py:145) "
        "subclass their own copied cursor instead, with the same `fetchone`/`fetchmany`/"
        "`fetchall`/`close`. They differ from the shared class only in the DBAPI cursor class "
        "they ask for (`SSCursor`), and each carries `# TODO: base on connectors/asyncio.py  see "
        "#10415`. aiosqlite's (sqlite/aiosqlite.py:186) has the same TODO. The asyncpg "
        "(postgresql/asyncpg.py:603) and psycopg (postgresql/psycopg.py:620) ones differ more "
        "(asyncpg drives its own prepared-statement cursor in batches; psycopg wraps an existing "
        "async cursor), but they do the same job. Almost all of the score is the copies: 20.6 "
        "of 22.2 raw points are the definitions term, 1.6 popularity. It is the same "
        "consolidation as group 3, seen through the names; it is not shown `within` group 3 "
        "because it also holds the two adapters that already subclass the shared one."),
    ("sqlalchemy", similar(
        "AsyncAdapt_aiomysql_cursor", "AsyncAdapt_aiomysql_ss_cursor", "AsyncAdapt_aiosqlite_cursor",
        "AsyncAdapt_aiosqlite_ss_cursor", "AsyncAdapt_asyncmy_cursor", "AsyncAdapt_asyncmy_ss_cursor",
        "AsyncAdapt_asyncpg_cursor", "AsyncAdapt_asyncpg_ss_cursor", "AsyncAdapt_dbapi_cursor",
        "AsyncAdapt_dbapi_ss_cursor", "AsyncAdapt_psycopg_cursor", "AsyncAdapt_psycopg_ss_cursor",
        "ServerSideCursor",
    )): (
        REAL,
        "The asyncio cursor adapters of aiomysql (dialects/mysql/aiomysql.py:41), asyncmy "
        "(mysql/asyncmy.py:40) and aiosqlite (sqlite/aiosqlite.py:93), and their `_ss_` "
        "server-side variants, are near line-for-line copies of `AsyncAdapt_dbapi_cursor`/"
        "`AsyncAdapt_dbapi_ss_cursor` (connectors/asyncio.py:21 and :126). A diff of aiomysql's "
        "against the shared class shows only the DBAPI cursor class passed to `cursor()`, "
        "`parameters` vs `parameters or ()`, a no-op `setinputsizes` and a missing `nextset`. "
        "Each copy carries `# TODO: base on connectors/asyncio.py  see #10415`, while the aioodbc "
        "and oracledb adapters already subclass the shared ones. The asyncpg and psycopg adapters "
        "differ more (asyncpg prepares statements itself; psycopg wraps an existing cursor), but "
        "do the same job. The odd one out is pg8000's `ServerSideCursor`, which emulates a "
        "server-side cursor with DECLARE/FETCH on a sync connection: the same DBAPI surface for "
        "a different job. The likely canonical is right, and the score is the copies (26.7 of "
        "28.3 raw points), as in the previous run (16.4)."),
    ("sqlalchemy", similar("IdentitySet", "OrderedSet", "_AssociationSet")): (
        INTERFACE,
        "Three implementations of Python's set API for three jobs. `OrderedSet(Set[_T])` "
        "(util/_py_collections.py:161) is a `set` subclass that also keeps a list, for "
        "insertion order. `IdentitySet` (:304) keys its members by `id()`, so unhashable or "
        "`__eq__`-overriding objects (ORM instances) can be collected. `_AssociationSet` "
        "(ext/associationproxy.py:1799) is a `MutableSet` view that converts through an "
        "association proxy's getter/creator onto the underlying collection. They share `add`, "
        "`discard`, `remove`, `union`, `difference`, `intersection`, `issubset`, ... because "
        "that is what a set is; no body is copied, and none of them could stand in for another. "
        "The two util classes also have Cython twins (cyextension/collections.pyx, not read), "
        "chosen by util/_collections.py: that switch is the one shim (3 points). 15.6 of the 20.0 "
        "raw points are popularity (the shim, 5 extra spellings through `sqlalchemy.util` and "
        "`util._collections`, 5 importers)."),
    ("sqlalchemy", "Result"): (
        COLLISION,
        "`engine.Result` (engine/result.py:904) is the Core/ORM result set: rows from a cursor "
        "with `fetchone`/`fetchmany`/`all`, `scalars`, `mappings`, `partitions`, `unique` and so "
        "on. `ext.baked.Result` (ext/baked.py:314) is the legacy baked-query extension's "
        "invoker: it binds a cached `BakedQuery` to a Session and, on `all()`/`first()`/`one()`/"
        "`scalar()`/`count()`/`get()`, builds or fetches the `Query` and runs it, returning "
        "ORM objects. Two things named Result; the 5 shared names (`all`, `first`, `one`, "
        "`one_or_none`, `scalar`) are the Query fetch vocabulary, which baked.Result copies on "
        "purpose so that it reads like a Query. It weighs 1.0 on those names, so `copies` is 1 "
        "and 9.1 of the 13.1 raw points are popularity (the `sqlalchemy.engine` re-export, 2 "
        "extra spellings, 16 importers, all of engine.Result)."),
    # -- clap_builder ---------------------------------------------------------------------
    ("clap_builder", "Inner"): (
        CFG,
        "Four private `Inner` types, two per file, and each pair is the two sides of one feature "
        "switch. In builder/str.rs, `#[cfg(feature = \"string\")] mod inner` (line 240) holds an "
        "enum `Static(&'static str)`/`Owned(Box<str>)`, and `#[cfg(not(feature = \"string\"))] mod "
        "inner` (line 277) holds a newtype over `&'static str`. builder/os_str.rs:258 and :292 are "
        "the same two for `OsStr`. Only one of each pair is ever compiled, so the twins are not "
        "copies. The audit counts the two inline `mod inner` of a file as two modules (they have "
        "one path, `builder::str::inner`) and weighs the twin at 1.0 (3 shared names). The OsStr "
        "pair weighs 0.5 each (`from_static_ref`). What remains is the str/OsStr parallel: the "
        "same static-or-owned storage written for two string types. A generic over `T: ?Sized` "
        "could replace it, which would be as minor and arguable a change as for AppFlags/"
        "ArgFlags (`*Flags`, 3rd). Not counted as a candidate. Unchanged from the previous run "
        "(6.8), now first because `*Parser` fell."),
    ("clap_builder", "*Map"): (
        COLLISION,
        "`FlatMap<K, V>` (util/flat_map.rs) is a generic insertion-ordered map over two Vecs. "
        "`MKeyMap` (mkeymap.rs) is a Command's argument table: a `Vec<Arg>` plus a cache of "
        "short/long/positional keys into it. They share only the method names `get` and `keys`, "
        "and MKeyMap is neither generic nor a key-value store, so they do different jobs. That "
        "pair of names weighs MKeyMap 1.0, so cohesion and `copies` are 1.0, and the one-word "
        "halving is all that keeps it at 4.5."),
    ("clap_builder", "*Flags"): (
        REAL_MINOR,
        "`ArgFlags(u32)` (builder/arg_settings.rs:5) and `AppFlags(u32)` "
        "(builder/app_settings.rs:7) are the same 30 lines (`set`, `unset`, `is_set`, `insert` "
        "and a `BitOr` impl over a u32 bit set, identical line for line), differing only in the "
        "settings enum they take (`ArgSettings`, `AppSettings`, each with a private `bit()`). One "
        "generic flags type over a tiny `bit()` trait would replace both. Whether that is worth "
        "it for 30 crate-private lines is the maintainers' call, but it is the one true copy the "
        "audit finds in this crate. It rose from 7th to 3rd only because the groups above it "
        "fell; its own score (4.0, halved from 8.0 as a one-word family) did not change."),
    ("clap_builder", "Parser"): (
        COLLISION,
        "`parser::Parser` (parser/parser.rs:23) is the crate-private engine that walks argv for "
        "a `Command` (`get_matches_with`, `parse`, and 22 private helpers). `derive::Parser` "
        "(derive.rs:29) is the public trait that `#[derive(Parser)]` implements "
        "(`Cli::parse()`, `try_parse_from`, `update_from`, ...), built on `CommandFactory` and "
        "`FromArgMatches`. The one shared name is `parse`, so the trait weighs 0.5 and `copies` "
        "is 0.5: the new scaling halves its popularity (2 of 4 points counted). This is the "
        "exact-name core of the old `*Parser` family, which fell from 1st to 11th now that `new` "
        "no longer counts as a shared method."),
    ("clap_builder", "*Arg"): (
        COLLISION,
        "`Arg` (builder/arg.rs:60) is the public argument definition (`Arg::new(\"name\")"
        ".short('n')...`). `MatchedArg` (parser/matches/matched_arg.rs:16) is the crate-private "
        "record of what one argument matched: its values, raw values, indices and source. "
        "`PendingArg` (parser/parser.rs:1673) is the parser's state for an argument still waiting "
        "for its values. These are three stages of an argument's life, not three copies: "
        "MatchedArg shares one name with Arg, and PendingArg none. `copies` is 0.5, so only 8.5 "
        "of its 17.0 popularity points (3 package re-exports, 5 extra spellings, 15 importers) "
        "count, and it fell from 19.2 to 10.4 raw, 4.8 to 2.6."),
}

# Where the ranking misleads, as read off the judged groups above (binary JUDGED_WITH). Ranks
# below the top 5 are from `audit --top 0 --format json` runs of the same binary.
OBSERVATIONS = """\
Counting groups, 3 of 15 are real candidates, but they hold only 2 distinct copies.
SQLAlchemy #2 `*sscursor` and #3 (the cursor-adapter `similar` group) are both issue #10415:
the asyncio cursors of aiomysql, asyncmy and aiosqlite that copy `connectors/asyncio.py`
instead of subclassing it. clap #3 `*Flags` (AppFlags/ArgFlags, 30 identical lines) is minor.

**Compared with the two earlier runs** (binary `3942d7efb034`: 2 of 15, the same cursor
adapters and AppFlags/ArgFlags; binary `2ca30890bf49`: 0 of 15), the changes did what they
aimed at. Scaling popularity by `copies` took the SQL type pairs out (`INTEGER` 3rd to 38th,
`VARCHAR` 5th to 51st). The wrapper weight took out `AsyncEngine`/`Engine` (2nd to 32nd) and
`AsyncConnection`/`Connection` (4th to 100th). The canonical-descends rule took out Django's
`*ConnectionHandler` (3rd to 211th). Leaving out `new` took clap's `*Parser` from 1st to 11th,
and `*ArgMatches` fell to 15th (score 0). Both known copies are back in the top 5
(SQLAlchemy 2nd and 3rd, clap 3rd), though still below designed groups (SQLAlchemy's Session
proxies; clap's `Inner` and `*Map`). Django's top 5 still holds no candidate; I have not read
its groups below 5th.

**Where the ranking still misleads**, most costly first:

1. **`copies` saturates.** It is the other members' weight summed and capped at 1, so one
   member that shares two method names makes the whole popularity count. It bites only on
   pairs whose other member weighs 0.1 or 0.5 (clap `Parser`, `*Arg`). Popularity is still
   more than half the raw score of 9 of the 12 groups that are not candidates, for example
   Django `Field` (22.7 of 26.6), `*Field` (113.8 of 180.0), `AsyncClient|...|RequestFactory`
   (13.0 of 15.5); SQLAlchemy `Session` (16.2 of 24.4), `IdentitySet|OrderedSet|_AssociationSet`
   (15.6 of 20.0), `Result` (9.1 of 13.1); clap `*Arg` (8.5 of 10.4, even after halving).
   Scaling by the other members' mean weight,
   (Σ weight − 1) / (members − 1), would not saturate.
2. **Shared protocol vocabulary reads as a copy.** Method *names* hold together 6 of the
   non-candidates: the HTTP verbs (`RedirectView` answers them,
   `RequestFactory` builds them), the set API (three different sets), the Query fetch names
   (`baked.Result`), the query-expression protocol (`FilteredRelation`, at Jaccard 0.6
   exactly), the validation names (`Field`), `get`/`keys` (`*Map`). Comparing method bodies
   (a token hash per method), not names, would separate those from the cursor copies, where
   the bodies match.
3. **A proxy declared by a class decorator still weighs 1.0.** Only `AsyncSession
   (ReversibleProxy[Session])` is caught by the wrapper rule. `scoped_session` and
   `async_scoped_session` are `Generic[...]` and name their target only in
   `@create_proxy_methods(Session, ...)`, so SQLAlchemy's top group is still a designed proxy
   set (cohesion 0.78).
4. **One-word buckets.** Django `*Mixin` (10.5) still gets every member weighed 1/4 because its
   canonical `MiddlewareMixin` has no public methods. `*Field` (168 members) ranks on
   spellings. A family with an empty stem should be weighed by overlap alone.
5. **`cfg` alternatives.** clap's top group, `Inner`, is two `#[cfg(feature)]`/`#[cfg(not)]`
   pairs of one module path, counted as four definitions in two modules each.
6. **`django/test/` is taken for test doubles.** Django's shipped test API (`RequestFactory`,
   52 importers; `Client`) becomes "test doubles", which makes `RedirectView` the canonical of
   Django #5.
7. **The same copies twice, the connection copies not at all.** SQLAlchemy #2 and #3 are one
   consolidation. The `AsyncAdapt_*_connection` classes with the same `# see #10415` TODO are
   still buried under their transitive shared base `AdaptedConnection` (`*AsyncAdapt*connection`
   93rd, cohesion 0.16).
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


def stem_factor(group: dict) -> float:
    """½ for a family of a one-word stem (`*Field`: its concept name has one word), else 1."""
    one_word = group["kind"] == "family" and "-" not in group["concept_name"]
    return 0.5 if one_word else 1.0


def breakdown(group: dict) -> dict[str, float]:
    """The terms of the raw score (score / (cohesion · stem factor), so rounded): what lifted
    the group. `popularity` is shims, package re-exports, spellings and importers together,
    before the `copies` factor; `copies` is not in the JSON, so it is read back from the
    cohesion as cohesion · members − 1, clamped to [0, 1] (approximate: the cohesion is rounded
    to two decimals, and floored at 0.1)."""
    counts = group["counts"]
    imported = sum(1 for member in group["members"] if member["spellings"] > 0)
    terms = {
        "shims": 3.0 * counts["shims"],
        "re-exports": 1.0 * counts["package_re_exports"],
        "factories": 3.0 * counts["factories"],
        "backups": 2.0 * counts["backups"],
        "spellings": 2.0 * max(0, counts["spellings"] - imported),
        "importers": math.log2(1 + counts["importers"]),
    }
    factor = group["cohesion"] * stem_factor(group)
    raw = group["score"] / factor if factor else 0.0
    popularity = terms["shims"] + terms["re-exports"] + terms["spellings"] + terms["importers"]
    copies = min(1.0, max(0.0, group["cohesion"] * len(group["members"]) - 1.0))
    fixed = terms["factories"] + terms["backups"]
    return {
        "raw": raw,
        "definitions + tests": max(0.0, raw - fixed - copies * popularity),
        "copies": copies,
        "popularity": popularity,
        "counted popularity": copies * popularity,
        **terms,
    }


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
        "package re-exports | factories | likely canonical | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for group in audit["groups"]:
        counts = group["counts"]
        member = group["members"][0]
        canonical = f"`{group['canonical']}` ({member['path']}:{member['line']})"
        verdict, _ = judgement(project, group)
        lines.append(
            f"| {group['rank']} | {display_key(group)} | {group['kind']} | {group['score']:.1f} | "
            f"{counts['definitions']} | {counts['test_doubles']} | {counts['importers']} | "
            f"{counts['shims']} | {counts['package_re_exports']} | {counts['factories']} | "
            f"{canonical} | {verdict} |"
        )
    lines += [
        "",
        "Where the score comes from: `raw = score / (cohesion · stem factor)` (the factor is ½ "
        "for a family of a one-word stem), split into its terms. Popularity is shims + package "
        "re-exports + spellings + importers, before scaling; it counts `copies · popularity`, "
        "where `copies` (the other members' weight, at most 1) is read back from the cohesion "
        "as cohesion · members − 1, so it is approximate. The definitions and test-double terms "
        "are what is left over, since the JSON does not give the weights.",
        "",
        "| rank | cohesion | stem factor | raw | definitions + tests | copies | popularity | "
        "copies · popularity | shims | package re-exports | spellings | importers | factories | "
        "backups |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for group in audit["groups"]:
        terms = breakdown(group)
        lines.append(
            f"| {group['rank']} | {group['cohesion']:.2f} | {stem_factor(group):g} | "
            f"{terms['raw']:.1f} | {terms['definitions + tests']:.1f} | {terms['copies']:.2f} | "
            f"{terms['popularity']:.1f} | {terms['counted popularity']:.1f} | "
            f"{terms['shims']:.0f} | {terms['re-exports']:.0f} | "
            f"{terms['spellings']:.0f} | {terms['importers']:.1f} | {terms['factories']:.0f} | "
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
        "implementations of one job (a real consolidation candidate), or a designed hierarchy or "
        "interface family, proxies, `cfg` alternatives, test classes, or a name collision?",
        "",
        f"- Binary of this run: sha256 `{binary_hash}`",
        f"- Judgements and summary written for binary: sha256 `{JUDGED_WITH}` "
        + ("(this one)." if binary_hash == JUDGED_WITH else "(**not this one**)."),
        f"- Machine: {os.cpu_count()} cores, load average {load:.2f} before the timings; wall "
        f"seconds, median of {TIMING_RUNS} runs. "
        "Both `audit --no-cache` and `check --no-cache` read every file instead of taking facts "
        "from `.ssot_cache/`, so both are cold; the operating system's file cache is warm.",
    ]
    if binary_hash != JUDGED_WITH:
        lines.append(
            f"- **The judgements and the summary were written against binary `{JUDGED_WITH[:12]}`; "
            "this run used another one. Groups whose key changed say \"not judged yet\", and the "
            "numbers quoted in the summary may be stale.**"
        )
    lines += [
        "",
        "| project | version | modules | classes | groups | audit --no-cache (s) | "
        "check --no-cache (s) |",
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
    # Timed cold: without --no-cache, audit takes unchanged files' facts from .ssot_cache/.
    timed_audit_args = ["audit", "--no-cache", "--top", str(top)]
    check_args = ["check", "--no-cache", "--config", "ssot-check.toml", "--statistics"]
    audit = json.loads(run(binary, json_args, tree))
    human = run(binary, audit_args, tree)
    outputs = cache / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / f"{project.name}.json").write_text(json.dumps(audit, indent=2))
    (outputs / f"{project.name}.txt").write_text(human)
    timing = {
        " ".join(timed_audit_args): timed(binary, timed_audit_args, tree, (0,)),
        # Exit 1: findings; 2 would be an error (a concept naming no definition).
        " ".join(check_args): timed(binary, check_args, tree, (0, 1)),
    }
    return {
        "project": project,
        "tree": str(tree),
        "source": source,
        "config": config,
        "check_config": check_config,
        "commands": [json_args, audit_args, timed_audit_args, check_args],
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
