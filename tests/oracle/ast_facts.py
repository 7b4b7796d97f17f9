#!/usr/bin/env python3
"""The reference for ssot-gardener's Python fact collector: CPython's own `ast` module.

Usage:
    ast_facts.py [--jobs N] < paths.txt      one file path per line on stdin
    ast_facts.py [--jobs N] DIR [DIR ...]    every *.py under each DIR (sorted)

For each file, prints one JSON line, in input order:
    {"path": ..., "ok": true, "imports": [...], "classes": [...], "functions": [...],
     "bindings": [...]}
    {"path": ..., "ok": false, "error": "..."}          when `ast.parse` rejects the file

Normalized facts, taken from `ast.walk` over the whole tree (every scope), each list sorted:
    imports:   [kind, module, level, [[name, alias_or_null], ...], line]
               kind "import" (module "" and level 0) or "from" (module "" when None)
    classes:   [name, line, bases, methods]
               line of the `class` keyword (not the decorator); each base is its dotted name
               when it is a Name/Attribute chain (`a.b.C`), else "*"; methods are the
               (async) functions directly in the class body, in order
    functions: [name, line] for every (async) function, methods included; line of `def`
               (of `async` for `async def`, the same line)
    bindings:  [name, line] for every name a module-level statement binds as a variable:
               the Name nodes of the targets of Assign, AnnAssign with a value, AugAssign,
               (async) For and the `as` of (async) With, inside Tuple, List and Starred
               targets too (never inside Attribute or Subscript ones: those bind nothing),
               and the name of `type X = ...`; line of the Name. "Module-level" is outside
               every def and class, inside any other compound statement (if, try, while,
               match, ...). Plus the names of `global` statements anywhere (they bind at
               module level), with the statement's line. Walrus targets, `except ... as`,
               match captures and imports are not bindings here.

The file is read as bytes and given to `ast.parse` as bytes so that a coding cookie or a BOM
is honoured exactly as the interpreter does.
"""

import ast
import json
import os
import sys
import warnings


def dotted(node):
    """`a.b.C` for a Name/Attribute chain of Names, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPES = FUNCTIONS + (ast.ClassDef,)
TYPE_ALIAS = getattr(ast, "TypeAlias", ())


def target_names(target, out):
    """The Names a target binds: `a`, `a, (b, *c)`; nothing for `a.b` or `a[0]`."""
    if isinstance(target, ast.Name):
        out.append([target.id, target.lineno])
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            target_names(element, out)
    elif isinstance(target, ast.Starred):
        target_names(target.value, out)


def bindings(tree):
    """Module-level variable bindings (see the module docstring)."""
    out = []
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, SCOPES):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                target_names(target, out)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target_names(node.target, out)
        elif isinstance(node, ast.AugAssign):
            target_names(node.target, out)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            target_names(node.target, out)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    target_names(item.optional_vars, out)
        elif TYPE_ALIAS and isinstance(node, TYPE_ALIAS):
            target_names(node.name, out)
        # The bodies of compound statements: if/else, try/except/finally, match cases, ...
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                pending.append(child)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            out.extend([name, node.lineno] for name in node.names)
    return out


def facts(tree):
    imports, classes, functions = [], [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [[alias.name, alias.asname] for alias in node.names]
            imports.append(["import", "", 0, names, node.lineno])
        elif isinstance(node, ast.ImportFrom):
            names = [[alias.name, alias.asname] for alias in node.names]
            imports.append(["from", node.module or "", node.level or 0, names, node.lineno])
        elif isinstance(node, ast.ClassDef):
            bases = [dotted(base) or "*" for base in node.bases]
            methods = [item.name for item in node.body if isinstance(item, FUNCTIONS)]
            classes.append([node.name, node.lineno, bases, methods])
        elif isinstance(node, FUNCTIONS):
            functions.append([node.name, node.lineno])
    names = bindings(tree)
    # `None` aliases do not compare with strings: sort by the JSON text instead.
    for items in (imports, classes, functions, names):
        items.sort(key=json.dumps)
    return imports, classes, functions, names


def record(path):
    """One JSON line for one file; never raises."""
    try:
        with open(path, "rb") as file:
            source = file.read()
        with warnings.catch_warnings():
            # Invalid escape sequences and the like warn at parse time; they are not errors.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=path)
        imports, classes, functions, names = facts(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OSError) as error:
        # SyntaxError includes IndentationError and TabError; ValueError: a NUL byte
        # (before 3.12) or an undecodable source; RecursionError/MemoryError: deep nesting.
        message = f"{type(error).__name__}: {error}"
        return json.dumps({"path": path, "ok": False, "error": message})
    return json.dumps(
        {
            "path": path,
            "ok": True,
            "imports": imports,
            "classes": classes,
            "functions": functions,
            "bindings": names,
        }
    )


def walk(directory):
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found.extend(os.path.join(root, name) for name in sorted(files) if name.endswith(".py"))
    return found


def main(argv):
    jobs = os.cpu_count() or 1
    args = list(argv)
    if len(args) >= 2 and args[0] == "--jobs":
        jobs = max(1, int(args[1]))
        args = args[2:]
    if args:
        paths = [path for directory in args for path in walk(directory)]
    else:
        paths = [line.rstrip("\r\n") for line in sys.stdin if line.rstrip("\r\n")]

    out = sys.stdout
    if jobs == 1 or len(paths) < 64:
        for path in paths:
            out.write(record(path) + "\n")
    else:
        import multiprocessing

        with multiprocessing.Pool(jobs) as pool:
            # `imap` keeps the input order.
            for line in pool.imap(record, paths, chunksize=8):
                out.write(line + "\n")
    out.flush()


if __name__ == "__main__":
    # Deeply nested sources need a deeper stack than the default for `ast.walk` users; the
    # parser itself has its own limit and raises RecursionError/SyntaxError past it.
    sys.setrecursionlimit(10_000)
    main(sys.argv[1:])
