#!/usr/bin/env python3
"""The rewrite `ssot-gardener fix` does on the standard library, done as a LibCST codemod, for
the timing comparison in BENCHMARKS.md (see fix_bench.py).

    python3 libcst_codemod.py DIR OLD_MODULE NAME NEW_MODULE [--jobs N]

Every `from OLD_MODULE import ..., NAME, ...` in DIR/**/*.py is pointed at NEW_MODULE: the
module is replaced when NAME is the only name, else NAME is split out into a statement of
its own right after. Prints a unified diff of every changed file and writes nothing, like
`ssot-gardener fix --diff`. Files LibCST cannot parse are counted on stderr.
"""

import difflib
import sys
from multiprocessing import Pool
from pathlib import Path

import libcst as cst


class PointAtCanonical(cst.CSTTransformer):
    def __init__(self, old, name, new):
        self.old, self.name, self.new = old, name, new

    def _moves(self, node):
        if not isinstance(node, cst.ImportFrom) or node.relative or isinstance(node.names, cst.ImportStar):
            return None
        if node.module is None or cst.helpers.get_full_name_for_node(node.module) != self.old:
            return None
        moving = [alias for alias in node.names if cst.helpers.get_full_name_for_node(alias.name) == self.name]
        return moving or None

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1:
            return updated
        statement = updated.body[0]
        moving = self._moves(statement)
        if moving is None:
            return updated
        new_module = cst.parse_expression(self.new)
        if len(moving) == len(statement.names):
            return updated.with_changes(body=[statement.with_changes(module=new_module)])
        kept = [alias for alias in statement.names if alias not in moving]
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        moved = [alias.with_changes(comma=cst.MaybeSentinel.DEFAULT) for alias in moving]
        first = updated.with_changes(body=[statement.with_changes(names=kept)])
        second = cst.SimpleStatementLine(
            body=[cst.ImportFrom(module=new_module, names=moved)]
        )
        return cst.FlattenSentinel([first, second])


def rewrite(job):
    path, old, name, new = job
    source = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    if name not in source:
        return path, None, None
    try:
        tree = cst.parse_module(source)
        fixed = tree.visit(PointAtCanonical(old, name, new)).code
    except (Exception, RecursionError) as error:  # noqa: BLE001 - counted, not fatal
        return path, None, f"{type(error).__name__}"
    return path, (source, fixed) if fixed != source else None, None


def main():
    args = sys.argv[1:]
    jobs = 1
    if "--jobs" in args:
        at = args.index("--jobs")
        jobs = int(args[at + 1])
        del args[at : at + 2]
    directory, old, name, new = args
    root = Path(directory)
    work = [(str(p), old, name, new) for p in sorted(root.rglob("*.py"))]
    failed = 0
    changed = 0
    out = []
    with Pool(jobs) as pool:
        for path, change, error in pool.imap(rewrite, work, chunksize=16):
            failed += error is not None
            if change:
                changed += 1
                relative = Path(path).relative_to(root)
                out.extend(
                    difflib.unified_diff(
                        change[0].splitlines(keepends=True),
                        change[1].splitlines(keepends=True),
                        f"a/{relative}",
                        f"b/{relative}",
                    )
                )
    sys.stdout.write("".join(out))
    print(f"{changed} files changed, {failed} files LibCST could not parse", file=sys.stderr)


if __name__ == "__main__":
    main()
