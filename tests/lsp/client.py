"""Drives `ssot-gardener server` over stdio with pygls's language client, as an editor would.

    python client.py BINARY ROOT

ROOT is a copy of the demo repository. The script opens a file with an indirect import, waits
for its diagnostic, hovers the import, applies the quick fix the server offers (applying the
text edits itself, from UTF-16 positions, as an editor does), sends the change and waits for
the diagnostic to go; then types a duplicate class into the buffer and times the new
diagnostic; asks for `source.fixAll` on a second file; closes a document. Every step is
checked here (an assertion names the step); what the Rust test compares, and the latencies,
are printed as one JSON object on stdout.
"""

import asyncio
import json
import pathlib
import sys
import time

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

STEP_TIMEOUT = 30.0


def offset(text: str, position: t.Position) -> int:
    """The index in `text` of an LSP position counted in UTF-16 code units."""
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for index, char in enumerate(line):
        if units >= position.character or char in "\r\n":
            return start + index
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(line)


def apply(text: str, edits: list) -> str:
    """`text` with LSP text edits applied (all relative to the original text)."""
    spans = sorted(
        ((offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


class Client(LanguageClient):
    def __init__(self):
        super().__init__("ssot-gardener-test", "1")
        self.diagnostics: dict[str, list] = {}
        self.arrived = asyncio.Event()
        self.messages: list[str] = []


async def wait_for(client: Client, uri: str, predicate, what: str):
    """Waits until the diagnostics last published for `uri` satisfy `predicate`."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and predicate(found):
            return found
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{what}: timed out; last diagnostics: {found}; messages: {client.messages}"
        client.arrived.clear()
        try:
            await asyncio.wait_for(client.arrived.wait(), remaining)
        except asyncio.TimeoutError:
            pass


def codes(diagnostics) -> list:
    return sorted(d.code for d in diagnostics)


async def main(binary: str, root: pathlib.Path) -> dict:
    client = Client()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: t.PublishDiagnosticsParams):
        client.diagnostics[params.uri] = params.diagnostics
        client.arrived.set()

    @client.feature(t.WINDOW_SHOW_MESSAGE)
    def on_message(params: t.ShowMessageParams):
        client.messages.append(params.message)

    await client.start_io(binary, "server")
    root_uri = root.as_uri()
    started = time.perf_counter()
    result = await client.initialize_async(
        t.InitializeParams(
            capabilities=t.ClientCapabilities(
                general=t.GeneralClientCapabilities(
                    position_encodings=[t.PositionEncodingKind.Utf16]
                )
            ),
            root_uri=root_uri,
            workspace_folders=[t.WorkspaceFolder(uri=root_uri, name="demo")],
        )
    )
    assert result.capabilities.position_encoding == t.PositionEncodingKind.Utf16, result
    client.initialized(t.InitializedParams())
    report: dict = {}

    # 1. An indirect import: its diagnostic arrives on open.
    path = root / "chatapp/services/notifications.py"
    uri = path.as_uri()
    text = path.read_text()
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    found = await wait_for(client, uri, lambda d: "SSOT002" in codes(d), "open")
    report["first_diagnostics_ms"] = round((time.perf_counter() - started) * 1000, 1)
    report["opened_codes"] = codes(found)
    indirect = next(d for d in found if d.code == "SSOT002")
    assert indirect.range.start.line == 2, indirect
    assert indirect.source == "ssot-gardener", indirect

    # 2. Hover on the imported name: where it resolves, and the concept's canonical path.
    name_at = t.Position(line=2, character=text.splitlines()[2].index("WebSocketManager") + 3)
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=uri), position=name_at)
    )
    assert hover is not None, "hover on an import returned nothing"
    report["hover"] = hover.contents.value
    nothing = await client.text_document_hover_async(
        t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=0, character=2)
        )
    )
    assert nothing is None, f"hover on a docstring: {nothing}"

    # 3. The quick fix, applied by the client, then sent as a change: the diagnostic goes.
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=uri),
            range=indirect.range,
            context=t.CodeActionContext(diagnostics=[indirect]),
        )
    )
    quick = [a for a in actions or [] if a.kind == t.CodeActionKind.QuickFix]
    assert len(quick) == 1, f"quick fixes: {actions}"
    assert quick[0].title.startswith("SSOT002"), quick[0].title
    edits = quick[0].edit.changes[uri]
    fixed = apply(text, edits)
    report["quickfix_text"] = fixed
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
            # Incremental changes, last first, so each range is of the text as it then is.
            content_changes=[
                t.TextDocumentContentChangePartial(range=e.range, text=e.new_text)
                for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
            ],
        )
    )
    sent = time.perf_counter()
    await wait_for(client, uri, lambda d: "SSOT002" not in codes(d), "after the quick fix")
    report["fix_cleared_ms"] = round((time.perf_counter() - sent) * 1000, 1)

    # 4. A duplicate class typed into the buffer: a new diagnostic.
    lines = fixed.splitlines(keepends=True)
    end = t.Position(line=len(lines), character=0)
    duplicate = (
        "\n\nclass ShadowWebSocketManager:\n"
        "    async def connect(self, user_id, websocket):\n        pass\n\n"
        "    async def disconnect(self, user_id, websocket):\n        pass\n\n"
        "    async def emit(self, user_id, event, payload):\n        pass\n"
    )
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[t.TextDocumentContentChangePartial(range=t.Range(start=end, end=end), text=duplicate)],
        )
    )
    sent = time.perf_counter()
    found = await wait_for(client, uri, lambda d: "SSOT001" in codes(d), "after typing a duplicate")
    report["duplicate_ms"] = round((time.perf_counter() - sent) * 1000, 1)
    shadow = next(d for d in found if d.code == "SSOT001")
    assert shadow.range.start.line == len(lines) + 2, shadow
    report["duplicate_message"] = shadow.message

    # 5. `source.fixAll` on a second file: the whole text, fixed as `fix` fixes it.
    other = root / "chatapp/agents/runner.py"
    other_uri = other.as_uri()
    other_text = other.read_text()
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=other_uri, language_id="python", version=1, text=other_text)
        )
    )
    await wait_for(client, other_uri, lambda d: "SSOT002" in codes(d), "open runner.py")
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=other_uri),
            range=t.Range(start=t.Position(line=0, character=0), end=t.Position(line=0, character=0)),
            context=t.CodeActionContext(diagnostics=[], only=[t.CodeActionKind.SourceFixAll]),
        )
    )
    fix_all = [a for a in actions or [] if a.kind == "source.fixAll.ssot-gardener"]
    assert len(fix_all) == 1, f"fix-all actions: {actions}"
    report["fix_all_text"] = apply(other_text, fix_all[0].edit.changes[other_uri])
    # Asking for the fix changed nothing: the buffer's diagnostics are still there.
    assert "SSOT002" in codes(client.diagnostics[other_uri])

    # 6. A closed document's diagnostics are cleared.
    client.text_document_did_close(
        t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=other_uri))
    )
    await wait_for(client, other_uri, lambda d: len(d) == 0, "after close")

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    report["messages"] = client.messages
    return report


if __name__ == "__main__":
    report = asyncio.run(main(sys.argv[1], pathlib.Path(sys.argv[2]).resolve()))
    print(json.dumps(report))
