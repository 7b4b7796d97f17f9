"""Opens a page written by `ssot-gardener graph --concept NAME --format html` in headless
Chromium and checks it through the DevTools protocol (the `websockets` package is the only
dependency): no console errors or exceptions, one drawn node per module of the picture, the
edge filters, the finding filter, a click on a module, and, for a big picture, groups that
start collapsed and open on a click. Saves a screenshot of the whole page.

    python3 page.py PAGE.html SCREENSHOT.png [--big]

Prints one JSON line of what it measured; exits 1 with the reason when a check fails.
"""

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from websockets.sync.client import connect

BROWSERS = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def chromium():
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    fail("no Chromium found: install Debian's `chromium` package (.ci/run does)")


def main():
    page_path, screenshot = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    big = "--big" in sys.argv[3:]
    profile = tempfile.mkdtemp(prefix="ssot-chromium-")
    process = subprocess.Popen(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1600,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                fail(f"chromium exited with {process.returncode}")
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                url = found.group(1)
        if url is None:
            fail("chromium did not open its DevTools port")
        # Drain stderr so the browser never blocks on a full pipe.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        with connect(url, max_size=None, open_timeout=30) as ws:
            run(Session(ws), page_path, screenshot, big)
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def run(browser, page_path, screenshot, big):
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    page = browser.attach(session)
    for domain in ("Page", "Runtime", "Log"):
        page.call(f"{domain}.enable")
    page.call("Page.navigate", url=page_path.as_uri())
    page.wait_for("Page.loadEventFired")
    picture = json.loads(page.eval("document.getElementById('picture').textContent"))
    modules = sorted(node["id"] for node in picture["nodes"])
    measured = {"modules": len(modules), "edges": len(picture["edges"])}
    drawn = page.eval("[...document.querySelectorAll('.node')].map(g => g.dataset.id).sort()")
    if big:
        # The first screen is what a person sees.
        capture(page, screenshot)
        # Collapsed packages: a readable first screen, every module one click away.
        folded = page.eval("document.querySelectorAll('.group.collapsed').length")
        if folded == 0 or len(drawn) >= len(modules):
            fail(f"a picture of {len(modules)} modules drew {len(drawn)} nodes and folded "
                 f"{folded} groups")
        before = len(drawn)
        page.eval("document.querySelector('.group.collapsed .group-title')"
                  ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        after = page.eval("document.querySelectorAll('.node').length")
        if after <= before:
            fail(f"opening a collapsed group drew {after} nodes, was {before}")
        measured.update(drawn_at_first=before, folded_groups=folded, drawn_after_click=after)
        # Each click redraws: open every group, then count again.
        for _ in range(folded):
            left = page.eval("document.querySelectorAll('.group.collapsed').length")
            if not left:
                break
            page.eval("document.querySelector('.group.collapsed .group-title')"
                      ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        drawn = page.eval("[...document.querySelectorAll('.node')].map(g => g.dataset.id).sort()")
    if drawn != modules:
        fail(f"drawn nodes {drawn} are not the picture's modules {modules}")
    # Edge filter: unchecking a kind hides exactly its edges.
    kinds = page.eval("[...new Set([...document.querySelectorAll('.edge')].map(p => "
                      "[...p.classList].find(c => c.startsWith('kind-')).slice(5)))]")
    for kind in kinds:
        page.eval(f"document.querySelector('input[data-kind=\"{kind}\"]').click()")
        hidden = page.eval(f"[...document.querySelectorAll('.edge')].filter(p => "
                           f"p.classList.contains('hidden')).every(p => p.classList.contains('kind-{kind}'))")
        count = page.eval(f"document.querySelectorAll('.edge.kind-{kind}.hidden').length")
        total = page.eval(f"document.querySelectorAll('.edge.kind-{kind}').length")
        if not hidden or count != total or total == 0:
            fail(f"unchecking `{kind}` hid {count} of its {total} edges (others hidden: {not hidden})")
        page.eval(f"document.querySelector('input[data-kind=\"{kind}\"]').click()")
        if page.eval("document.querySelectorAll('.edge.hidden').length") != 0:
            fail(f"checking `{kind}` again left edges hidden")
    measured["edge_kinds"] = sorted(kinds)
    # Finding filter: the modules without the code are dimmed, the others not.
    codes = sorted({f["code"] for node in picture["nodes"] for f in node["findings"]})
    for code in codes:
        expected = sorted(n["id"] for n in picture["nodes"] if not any(f["code"] == code for f in n["findings"]))
        page.eval(f"(() => {{ const s = document.getElementById('code'); s.value = '{code}'; "
                  "s.dispatchEvent(new Event('change')); })()")
        dimmed = page.eval("[...document.querySelectorAll('.node.dim')].map(g => g.dataset.id).sort()")
        if dimmed != expected:
            fail(f"filtering by {code} dimmed {dimmed}, expected {expected}")
    page.eval("(() => { const s = document.getElementById('code'); s.value = ''; "
              "s.dispatchEvent(new Event('change')); })()")
    measured["finding_codes"] = codes
    # A click on the module with the most findings shows its file, line and findings.
    node = max(picture["nodes"], key=lambda n: (len(n["findings"]), n["id"]))
    page.eval(f"document.querySelector('.node[data-id=\"{node['id']}\"] rect')"
              ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    panel = page.eval("document.getElementById('panel').innerText")
    where = f"{node['path']}:{node['line']}"
    if where not in panel or any(f["message"] not in panel for f in node["findings"]):
        fail(f"the panel after a click on {node['id']} does not show {where} and its findings: {panel!r}")
    measured["clicked"] = node["id"]
    if not big:
        capture(page, screenshot)
    errors = page.errors()
    if errors:
        fail(f"console errors: {errors}")
    measured["screenshot"] = str(screenshot)
    print(json.dumps(measured))


def capture(page, screenshot):
    """A screenshot of the whole page, for a person to look at."""
    size = page.eval("[document.getElementById('main').scrollWidth + 360, "
                     "document.getElementById('main').scrollHeight]")
    width, height = min(size[0], 4000), min(size[1], 4000)
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
              deviceScaleFactor=1, mobile=False)
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))


class Session:
    """A DevTools session on the browser's connection: the browser's own (`session` None),
    or a page's (flattened sessions), keeping the events sent to it."""

    def __init__(self, ws, ids=None, session=None):
        self.ws, self.session = ws, session
        self.ids = ids or itertools.count(1)
        self.events = []

    def attach(self, session):
        return Session(self.ws, self.ids, session)

    def call(self, method, **params):
        wanted = next(self.ids)
        message = {"id": wanted, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == wanted:
                if "error" in message:
                    fail(f"{method}: {message['error']}")
                return message.get("result", {})
            if message.get("sessionId") == self.session:
                self.events.append(message)

    def wait_for(self, event, timeout=30):
        deadline = time.monotonic() + timeout
        for index, message in enumerate(self.events):
            if message.get("method") == event:
                return self.events.pop(index)
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("sessionId") != self.session:
                continue
            if message.get("method") == event:
                return message
            self.events.append(message)
        fail(f"no {event} within {timeout} s")

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            fail(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self):
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for message in self.events:
            method, params = message.get("method"), message.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text"))
        return out


if __name__ == "__main__":
    os.environ.setdefault("NO_AT_BRIDGE", "1")
    main()
