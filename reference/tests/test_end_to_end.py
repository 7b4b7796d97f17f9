"""End to end: real WebSocket connections on loopback, through the process-wide manager.

A small server (below) registers each socket with ``get_websocket_manager()`` under the
user named in the path, and answers ``{"start_run": run_id}`` by running an agent that
emits the five events through the manager. Needs the ``websockets`` package.
"""

from __future__ import annotations

import asyncio
import json
import random
import unittest
from typing import Any

from reference.websocket_manager import EVENTS, WebSocketManager, get_websocket_manager

MISSING: str | None = None
try:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.asyncio.server import ServerConnection, serve
except ImportError as error:  # reported as a failure by the test, never a skip
    MISSING = f"{error}; run: python3 -m pip install -r reference/requirements-test.txt"

QUIET = 0.3  # how long a client listens for stray messages after its own


class JsonSocket:
    """The adapter from a ``websockets`` connection to the manager's contract."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws

    async def send_json(self, data: Any) -> None:
        await self.ws.send(json.dumps(data))

    async def close(self) -> None:
        await self.ws.close()


async def agent(manager: WebSocketManager, user_id: str, run_id: str) -> None:
    for event in EVENTS:
        await asyncio.sleep(
            random.uniform(0, 0.01)
        )  # work between events: runs interleave
        await manager.emit(user_id, run_id, event, {"user": user_id})


async def handler(ws: ServerConnection) -> None:
    assert ws.request is not None  # set once the handshake is done
    user_id = ws.request.path.rsplit("/", 1)[-1]
    manager = get_websocket_manager()
    socket = JsonSocket(ws)
    runs: set[asyncio.Task[None]] = set()
    await manager.connect(user_id, socket)
    try:
        await ws.send(json.dumps({"type": "connected"}))  # registered: runs may start
        async for raw in ws:
            run_id = json.loads(raw)["start_run"]
            runs.add(asyncio.create_task(agent(manager, user_id, run_id)))
    finally:
        await manager.disconnect(user_id, socket)
        await asyncio.gather(*runs, return_exceptions=True)


async def open_tab(port: int, user_id: str) -> ClientConnection:
    ws = await connect(f"ws://127.0.0.1:{port}/ws/{user_id}")
    assert json.loads(await ws.recv()) == {"type": "connected"}
    return ws


async def receive(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """``count`` messages, then proof that nothing else arrives."""
    messages = [json.loads(await ws.recv()) for _ in range(count)]
    try:
        extra = await asyncio.wait_for(ws.recv(), QUIET)
    except TimeoutError:
        return messages
    raise AssertionError(f"unexpected extra message {extra!r}")


class EndToEndTests(unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        if MISSING is not None:
            self.fail(f"the end-to-end test needs `websockets`: {MISSING}")

    async def test_each_user_receives_exactly_its_own_runs_in_order(self) -> None:
        manager = get_websocket_manager()
        self.assertEqual(manager.snapshot(), {})
        async with asyncio.timeout(10), serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            # Alice has two tabs and starts runs from the first; Bob has one tab.
            alice_1, alice_2, bob = [
                await open_tab(port, user) for user in ("alice", "alice", "bob")
            ]
            self.assertEqual(manager.snapshot(), {"alice": 2, "bob": 1})
            alice_runs, bob_runs = ["a-1", "a-2", "a-3"], ["b-1", "b-2", "b-3"]
            for run_id in alice_runs:
                await alice_1.send(json.dumps({"start_run": run_id}))
            for run_id in bob_runs:
                await bob.send(json.dumps({"start_run": run_id}))
            received = await asyncio.gather(
                receive(alice_1, 15), receive(alice_2, 15), receive(bob, 15)
            )
            for messages, user, run_ids in zip(
                received,
                ("alice", "alice", "bob"),
                (alice_runs, alice_runs, bob_runs),
                strict=True,
            ):
                for run_id in run_ids:
                    own = [m for m in messages if m["run_id"] == run_id]
                    self.assertEqual(
                        own,
                        [
                            {"type": e, "run_id": run_id, "payload": {"user": user}}
                            for e in EVENTS
                        ],
                    )
                self.assertEqual({m["run_id"] for m in messages}, set(run_ids))
            for ws in (alice_1, alice_2, bob):
                await ws.close()
            # The handlers disconnect as the sockets close: nothing stays behind.
            for _ in range(200):
                if not manager.snapshot():
                    break
                await asyncio.sleep(0.01)
            self.assertEqual(manager.snapshot(), {}, "closed sockets left behind")


if __name__ == "__main__":
    unittest.main()
