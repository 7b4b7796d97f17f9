"""Import each module given on stdin as if in a fresh interpreter; print one JSON line per module.

Run by run.py with the project venv's python as `python -c <this file's text> JOBS TIMEOUT`, so
sys.path is exactly what a fresh `python -c "import mod"` sees. Standard library only.

Why forks are as good as fresh interpreters here: importing `pkg.a.b` first imports `pkg`, then
`pkg.a`, then `pkg.a.b`, each completely before the next starts. So after a fresh process has
imported the top-level package `pkg`, its state is the state every fresh `import pkg.x.y` passes
through. One process per top-level package imports it (its result is the result for `pkg`
itself); then a child forked from it imports each submodule, in parallel, and exits. A failing
top-level import fails every module under it, with that error, exactly as fresh interpreters
would. Nothing of the project is imported before the fork point other than that package.
"""

import json
import os
import sys
import time
import traceback


def result_line(module, ok, info):
    # One write of at most PIPE_BUF bytes is atomic, so lines from parallel children never mix.
    return json.dumps({"module": module, "ok": ok, "info": info[-3000:]}) + "\n"


def import_here(module):
    import importlib

    try:
        m = importlib.import_module(module)
    except BaseException:  # SystemExit, KeyboardInterrupt from a module body count as failures
        return False, "".join(traceback.format_exc().splitlines(keepends=True)[-8:])
    return True, str(getattr(m, "__file__", None))


def fork_one(module, out_fd):
    """A child that imports `module`, writes its line to out_fd, and exits without cleanup."""
    pid = os.fork()
    if pid == 0:
        try:
            ok, info = import_here(module)
            os.write(out_fd, result_line(module, ok, info).encode())
        finally:
            os._exit(0)
    return pid


def run_package(top, modules, jobs, timeout, out_fd):
    """In a fresh child: import `top`, then fork one grandchild per submodule."""
    ok, info = import_here(top)
    if top in modules:
        os.write(out_fd, result_line(top, ok, info).encode())
    rest = [m for m in modules if m != top]
    if not ok:
        for m in rest:
            os.write(out_fd, result_line(m, False, info).encode())
        return
    running = {}   # pid -> (module, start)
    pending = list(reversed(rest))
    while pending or running:
        while pending and len(running) < jobs:
            m = pending.pop()
            running[fork_one(m, out_fd)] = (m, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            time.sleep(0.005)
            for p, (m, started) in list(running.items()):
                if time.monotonic() - started > timeout:
                    os.kill(p, 9)
                    os.waitpid(p, 0)
                    del running[p]
                    os.write(out_fd, result_line(m, False, f"timeout after {timeout}s").encode())
            continue
        if pid in running:
            m, _ = running.pop(pid)
            if os.waitstatus_to_exitcode(status) != 0:
                os.write(out_fd, result_line(m, False, f"died: exit {os.waitstatus_to_exitcode(status)}").encode())


def main():
    jobs, timeout = int(sys.argv[1]), float(sys.argv[2])
    modules = [line.strip() for line in sys.stdin if line.strip()]
    out_fd = os.dup(1)
    # What the modules print while importing is noise; results go to the duplicated stdout only.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    by_top = {}
    for m in modules:
        by_top.setdefault(m.split(".")[0], []).append(m)
    for top, mods in sorted(by_top.items()):
        pid = os.fork()
        if pid == 0:
            try:
                run_package(top, mods, jobs, timeout, out_fd)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)


main()
