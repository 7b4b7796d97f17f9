"""The one WebSocket manager of an application: a reference implementation.

Every part of the application that pushes events to browsers does it through
``get_websocket_manager()``. There is exactly one class, ``WebSocketManager``, one
accessor, and no factories, aliases or compat re-exports, because a second manager
is not a harmless copy: it has its own registry of connections. An event emitted
through manager B never reaches a socket registered with manager A, and nothing
fails; the user just never sees "agent_completed". Factories
(``create_websocket_manager()``) and per-module instances are how that second
registry appears, so this module offers none. Tests may build a private
``WebSocketManager()``; application code calls the accessor.

Contract:

* A connection is any object with ``async def send_json(self, data)``: a
  FastAPI/Starlette ``WebSocket`` as it is. For the ``websockets`` package, adapt::

      class JsonSocket:
          def __init__(self, ws): self.ws = ws
          async def send_json(self, data): await self.ws.send(json.dumps(data))

  If the object also has ``async def close()``, it is called (best effort) when
  the manager drops the connection.
* Connections are registered per user; a user may hold several (tabs, devices).
  ``emit(user_id, run_id, event, payload)`` sends
  ``{"type": event, "run_id": run_id, "payload": payload}`` to that user's live
  connections and to nobody else.
* ``EVENTS`` are the only event names. An unknown name raises ``ValueError``: a
  typo must fail at the emit, not leave a browser waiting for an event that never
  comes. To add an event, add it to ``EVENTS`` (the single place).
* Events reach each connection in the order their ``emit`` calls are awaited, so
  a run that awaits its five emits is seen in order, even when hundreds of runs
  interleave: each connection has one lock and sends one message at a time.
* A send that raises, or takes longer than ``send_timeout`` seconds, marks the
  connection dead: it is removed (and closed). Sends to different connections
  run concurrently, so a slow or dead socket delays nobody else, and an ``emit``
  returns within about ``2 * send_timeout`` (the send, then the close).
* Nothing is left behind: the user key goes with the user's last connection, and
  there is no per-run state at all (a run is a label on messages), so an abandoned
  run leaks nothing. ``snapshot()`` shows what is held.
* One event loop, no threads. Registry changes never await, so they are atomic on
  the loop; ``emit`` iterates over a copy, so connects and disconnects may happen
  while it is sending.

FastAPI usage::

    @app.websocket("/ws/{user_id}")
    async def ws_endpoint(websocket: WebSocket, user_id: str) -> None:
        manager = get_websocket_manager()
        await websocket.accept()
        await manager.connect(user_id, websocket)
        try:
            async for _ in websocket.iter_text():
                pass
        finally:
            await manager.disconnect(user_id, websocket)
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DEFAULT_SEND_TIMEOUT",
    "EVENTS",
    "Connection",
    "WebSocketManager",
    "get_websocket_manager",
]

# The five critical events, in the order a run emits them (the tool pair may repeat).
EVENTS: tuple[str, ...] = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)

DEFAULT_SEND_TIMEOUT = 5.0

log = logging.getLogger(__name__)


class Connection(Protocol):
    """What the manager needs from a socket."""

    async def send_json(self, data: Any) -> None: ...


@dataclass(eq=False)
class _Slot:
    """One registered connection and what serialises its sends."""

    connection: Connection
    # One send at a time per socket: frames never interleave, order is kept.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dead: bool = False


class WebSocketManager:
    """Per-user registry of live connections, and the only way to send them events."""

    def __init__(self, send_timeout: float = DEFAULT_SEND_TIMEOUT) -> None:
        if not send_timeout > 0:
            raise ValueError(f"send_timeout must be positive, got {send_timeout!r}")
        self._send_timeout = send_timeout
        # user id -> {id(connection): slot}. Keyed by id() because a Starlette
        # WebSocket is a Mapping and so is not hashable.
        self._users: dict[str, dict[int, _Slot]] = {}

    async def connect(self, user_id: str, connection: Connection) -> None:
        """Register an accepted connection for ``user_id`` (again: no effect)."""
        slots = self._users.setdefault(user_id, {})
        slots.setdefault(id(connection), _Slot(connection))

    async def disconnect(self, user_id: str, connection: Connection) -> None:
        """Forget a connection; unknown connections are ignored (idempotent)."""
        slots = self._users.get(user_id)
        slot = slots.get(id(connection)) if slots else None
        if slot is not None:
            self._remove(user_id, slot)

    async def emit(
        self,
        user_id: str,
        run_id: str,
        event: str,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Send one event of ``run_id`` to every live connection of ``user_id``.

        Returns how many connections received it (0 when the user is offline).
        Raises ``ValueError`` for an event name that is not in ``EVENTS``.
        """
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; expected one of {EVENTS}")
        body = {} if payload is None else payload
        message = {"type": event, "run_id": run_id, "payload": body}
        # A copy: connect/disconnect may change the registry while we await.
        slots = list(self._users.get(user_id, {}).values())
        if not slots:
            return 0
        # Concurrently: one slow or dead socket does not hold up the others.
        sent = await asyncio.gather(*(self._send(user_id, s, message) for s in slots))
        return sum(sent)

    def snapshot(self) -> dict[str, int]:
        """Live connections per user: ``{}`` when the manager holds nothing."""
        return {user_id: len(slots) for user_id, slots in self._users.items()}

    async def _send(self, user_id: str, slot: _Slot, message: dict[str, Any]) -> bool:
        async with slot.lock:
            # Dropped or disconnected while this send waited for the lock.
            if slot.dead:
                return False
            try:
                async with asyncio.timeout(self._send_timeout):
                    await slot.connection.send_json(message)
                return True
            except Exception as error:  # noqa: BLE001 - any failure: unusable
                timed_out = isinstance(error, TimeoutError)
                why = "send timed out" if timed_out else repr(error)
                log.warning("dropping a connection of user %r: %s", user_id, why)
                if not self._remove(user_id, slot):
                    return False  # a disconnect won the race; the caller owns it
        # Close outside the lock, so queued sends see `dead` and return at once.
        await self._close(slot.connection)
        return False

    def _remove(self, user_id: str, slot: _Slot) -> bool:
        """Unregister ``slot``; False if it already was. Never awaits: atomic."""
        slot.dead = True
        slots = self._users.get(user_id)
        # Identity check: the same socket may have been registered again meanwhile.
        if slots is None or slots.get(id(slot.connection)) is not slot:
            return False
        del slots[id(slot.connection)]
        if not slots:
            del self._users[user_id]  # no empty entry for a user who is gone
        return True

    async def _close(self, connection: Connection) -> None:
        close = getattr(connection, "close", None)
        if close is None:
            return
        # Best effort: a socket that failed a send may fail or hang on close too.
        with suppress(Exception):
            async with asyncio.timeout(self._send_timeout):
                await close()


_manager: WebSocketManager | None = None


def get_websocket_manager() -> WebSocketManager:
    """The process-wide manager, created on first use."""
    global _manager
    if _manager is None:
        _manager = WebSocketManager()
    return _manager
