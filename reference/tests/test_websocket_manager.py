"""Unit tests of the reference manager, with in-memory connections."""

from __future__ import annotations

import asyncio
import random
import time
import unittest
from collections import defaultdict
from typing import Any

from reference import websocket_manager as wm
from reference.websocket_manager import EVENTS, WebSocketManager, get_websocket_manager

LOGGER = wm.log.name


def new_manager(send_timeout: float = 1.0) -> WebSocketManager:
    """A private manager per test: the process-wide one carries state across tests."""
    return WebSocketManager(send_timeout=send_timeout)


class FakeSocket:
    """An in-memory connection that records what it receives; may be slow or broken."""

    def __init__(
        self, *, delay: float = 0.0, jitter: float = 0.0, broken: bool = False
    ):
        self.delay = delay
        self.jitter = jitter
        self.broken = broken
        self.messages: list[dict[str, Any]] = []
        self.received_at: list[float] = []
        self.attempts = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.closed = False

    async def send_json(self, data: dict[str, Any]) -> None:
        self.attempts += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.broken:
                raise ConnectionError("peer went away")
            if self.jitter:
                await asyncio.sleep(random.uniform(0, self.jitter))
            self.messages.append(data)
            self.received_at.append(time.monotonic())
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        self.closed = True


async def run_agent(
    manager: WebSocketManager, user_id: str, run_id: str, pause: float = 0.0
) -> None:
    """What an agent run does: the five events, each awaited, with work in between."""
    for event in EVENTS:
        await manager.emit(user_id, run_id, event, {"user": user_id})
        await asyncio.sleep(random.uniform(0, pause))


def assert_holds_nothing(case: unittest.TestCase, manager: WebSocketManager) -> None:
    case.assertEqual(manager.snapshot(), {})
    # White box: whatever containers the manager keeps (users, runs, locks): empty.
    for name, value in vars(manager).items():
        if isinstance(value, (dict, list, set, tuple)):
            case.assertEqual(len(value), 0, f"manager.{name} still holds {value!r}")


class WebSocketManagerTests(unittest.IsolatedAsyncioTestCase):
    async def test_five_events_delivered_in_order_for_a_run(self) -> None:
        manager = new_manager()
        socket = FakeSocket()
        await manager.connect("alice", socket)
        for event in EVENTS:
            self.assertEqual(
                await manager.emit("alice", "run-1", event, {"step": event}), 1
            )
        self.assertEqual(
            socket.messages,
            [{"type": e, "run_id": "run-1", "payload": {"step": e}} for e in EVENTS],
        )
        self.assertEqual(len(EVENTS), 5)
        self.assertEqual(EVENTS[0], "agent_started")
        self.assertEqual(EVENTS[-1], "agent_completed")

    async def test_unknown_event_is_an_error_and_sends_nothing(self) -> None:
        manager = new_manager()
        socket = FakeSocket()
        await manager.connect("alice", socket)
        with self.assertRaises(ValueError):
            await manager.emit("alice", "run-1", "agent_thinkin")
        self.assertEqual(socket.messages, [])
        self.assertEqual(await manager.emit("alice", "run-1", "agent_started"), 1)
        self.assertEqual(socket.messages[0]["payload"], {})

    async def test_emit_to_an_offline_user_reaches_nobody_and_stores_nothing(
        self,
    ) -> None:
        manager = new_manager()
        bystander = FakeSocket()
        await manager.connect("bob", bystander)
        self.assertEqual(await manager.emit("alice", "run-1", "agent_started"), 0)
        self.assertEqual(bystander.messages, [])
        self.assertEqual(manager.snapshot(), {"bob": 1})

    async def test_concurrent_runs_of_many_users_never_cross(self) -> None:
        asyncio.get_running_loop().set_debug(
            False
        )  # debug mode: 10x slower task creation
        manager = new_manager()
        users = [f"user-{n}" for n in range(5)]
        # Two tabs per user; sends take random time, so runs interleave on a socket.
        sockets = {
            user: [FakeSocket(jitter=0.002), FakeSocket(jitter=0.002)] for user in users
        }
        for user, tabs in sockets.items():
            for tab in tabs:
                await manager.connect(user, tab)
        runs_of: dict[str, list[str]] = defaultdict(list)
        for n in range(200):
            user = random.choice(users)
            runs_of[user].append(f"{user}/run-{n}")
        await asyncio.gather(
            *(
                run_agent(manager, user, run_id, pause=0.003)
                for user, run_ids in runs_of.items()
                for run_id in run_ids
            )
        )
        for user, tabs in sockets.items():
            for tab in tabs:
                self.assertEqual(tab.max_in_flight, 1, "sends to one socket overlapped")
                self.assertEqual(len(tab.messages), 5 * len(runs_of[user]))
                by_run: dict[str, list[str]] = defaultdict(list)
                for message in tab.messages:
                    self.assertEqual(message["payload"], {"user": user})
                    by_run[message["run_id"]].append(message["type"])
                self.assertEqual(sorted(by_run), sorted(runs_of[user]))
                for run_id, types in by_run.items():
                    self.assertEqual(
                        types, list(EVENTS), f"{run_id} out of order on {user}"
                    )
        self.assertGreater(len(runs_of), 1)

    async def test_broken_connection_is_removed_and_does_not_stop_the_others(
        self,
    ) -> None:
        manager = new_manager()
        good_1, broken, good_2 = FakeSocket(), FakeSocket(broken=True), FakeSocket()
        for socket in (good_1, broken, good_2):
            await manager.connect("alice", socket)
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.assertEqual(await manager.emit("alice", "run-1", "agent_started"), 2)
        self.assertIn("alice", logs.output[0])
        self.assertEqual(manager.snapshot(), {"alice": 2})
        self.assertTrue(broken.closed)
        for event in EVENTS[1:]:
            self.assertEqual(await manager.emit("alice", "run-1", event), 2)
        self.assertEqual(broken.attempts, 1, "a removed connection was sent to again")
        for socket in (good_1, good_2):
            self.assertEqual([m["type"] for m in socket.messages], list(EVENTS))

    async def test_sends_queued_behind_a_dying_connection_skip_it(self) -> None:
        manager = new_manager()
        dying, good = FakeSocket(delay=0.05, broken=True), FakeSocket()
        await manager.connect("alice", dying)
        await manager.connect("alice", good)
        # Ten runs start at once: nine sends queue on the dying socket's lock.
        with self.assertLogs(LOGGER, "WARNING") as logs:
            sent = await asyncio.gather(
                *(manager.emit("alice", f"run-{n}", "agent_started") for n in range(10))
            )
        self.assertEqual(sent, [1] * 10)
        self.assertEqual(dying.attempts, 1, "a send was tried on a dropped connection")
        self.assertEqual(len(logs.output), 1)
        self.assertEqual(len(good.messages), 10)
        self.assertEqual(manager.snapshot(), {"alice": 1})

    async def test_after_every_user_disconnects_the_manager_holds_nothing(self) -> None:
        manager = new_manager()
        sockets = {
            user: [FakeSocket(), FakeSocket()] for user in ("alice", "bob", "carol")
        }
        for user, tabs in sockets.items():
            for tab in tabs:
                await manager.connect(user, tab)
                await manager.connect(user, tab)  # again: still one registration
        self.assertEqual(manager.snapshot(), {"alice": 2, "bob": 2, "carol": 2})
        # One run completes, one is abandoned half way: neither may leave state behind.
        await run_agent(manager, "alice", "done")
        await manager.emit("bob", "abandoned", "agent_started")
        await manager.emit("bob", "abandoned", "agent_thinking")
        await manager.disconnect("alice", sockets["alice"][0])
        self.assertEqual(manager.snapshot(), {"alice": 1, "bob": 2, "carol": 2})
        for user, tabs in sockets.items():
            for tab in tabs:
                await manager.disconnect(user, tab)
                await manager.disconnect(user, tab)  # again: no error
        await manager.disconnect("nobody", FakeSocket())
        assert_holds_nothing(self, manager)
        self.assertEqual(await manager.emit("alice", "late", "agent_completed"), 0)
        assert_holds_nothing(self, manager)

    async def test_slow_connection_does_not_delay_other_users(self) -> None:
        # Timeout 2 s, slow socket 5 s: anything that waits on the slow socket (a global
        # lock, sequential sends) takes 2 s; delivery that does not is far under 1 s.
        manager = new_manager(send_timeout=2.0)
        slow, fast, alice_fast_tab = FakeSocket(delay=5.0), FakeSocket(), FakeSocket()
        await manager.connect("alice", slow)
        await manager.connect("alice", alice_fast_tab)
        await manager.connect("bob", fast)
        start = time.monotonic()
        with self.assertLogs(LOGGER, "WARNING"):
            await asyncio.gather(
                run_agent(manager, "alice", "a"), run_agent(manager, "bob", "b")
            )
        elapsed = time.monotonic() - start
        self.assertEqual([m["type"] for m in fast.messages], list(EVENTS))
        self.assertLess(
            fast.received_at[-1] - start, 1.0, "bob waited for alice's slow socket"
        )
        # Alice's other tab is served concurrently with the slow one, not after it.
        self.assertLess(alice_fast_tab.received_at[0] - start, 1.0)
        self.assertEqual([m["type"] for m in alice_fast_tab.messages], list(EVENTS))
        # The slow socket was dropped after one timeout; later events did not wait.
        self.assertLess(elapsed, 4.0)
        self.assertEqual(slow.messages, [])
        self.assertTrue(slow.closed)
        self.assertEqual(manager.snapshot(), {"alice": 1, "bob": 1})

    async def test_interleaved_connects_emits_and_disconnects_do_not_raise(
        self,
    ) -> None:
        manager = new_manager()
        users = ["alice", "bob", "carol"]
        rng = random.Random(7)

        async def churn(user: str) -> None:
            # Tabs come and go while runs emit to the same user; some tabs die mid-run.
            for _ in range(40):
                tab = FakeSocket(jitter=0.002, broken=rng.random() < 0.2)
                await manager.connect(user, tab)
                await asyncio.sleep(rng.uniform(0, 0.004))
                await manager.disconnect(user, tab)

        async def runs(user: str) -> None:
            for n in range(15):
                await run_agent(manager, user, f"{user}-{n}", pause=0.001)

        stayer = FakeSocket(broken=True)  # at least one drop is certain
        await manager.connect("alice", stayer)
        with self.assertLogs(LOGGER, "WARNING"):
            await asyncio.gather(*(churn(u) for u in users), *(runs(u) for u in users))
        assert_holds_nothing(self, manager)

    async def test_send_timeout_must_be_positive(self) -> None:
        for bad in (0, -1.0, float("nan")):
            with self.assertRaises(ValueError):
                new_manager(send_timeout=bad)


class ModuleShapeTests(unittest.TestCase):
    def test_accessor_returns_one_process_wide_instance(self) -> None:
        first = get_websocket_manager()
        self.assertIsInstance(first, WebSocketManager)
        self.assertIs(get_websocket_manager(), first)

    def test_one_manager_class_and_one_accessor(self) -> None:
        classes = [
            name
            for name, value in vars(wm).items()
            if isinstance(value, type)
            and value.__module__ == wm.__name__
            and "manager" in name.lower()
        ]
        self.assertEqual(classes, ["WebSocketManager"])
        functions = [
            name
            for name, value in vars(wm).items()
            if callable(value)
            and not isinstance(value, type)
            and getattr(value, "__module__", None) == wm.__name__
        ]
        self.assertEqual(functions, ["get_websocket_manager"])


if __name__ == "__main__":
    unittest.main()
