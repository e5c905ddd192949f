"""What each `X-Mock-Session` has: its world of experiments, its pending faults, its request history."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, SystemClock
from .lifecycle import AutoLifecycle
from .store import Store, World

REQUEST_HISTORY_SIZE = 200


class Faults:
    """Statuses to answer instead of serving the next calls of an operation (`POST /__mock__/faults`)."""

    def __init__(self) -> None:
        self._pending: dict[str, list[int]] = {}  # operationId -> [status, remaining]
        self._lock = threading.Lock()

    def add(self, operation_id: str, status: int, count: int) -> None:
        with self._lock:
            self._pending[operation_id] = [status, count]

    def take(self, operation_id: str) -> int | None:
        """The status to answer instead of serving this call, if a fault is pending for it."""
        if operation_id not in self._pending:  # the common case, without the lock
            return None
        with self._lock:
            fault = self._pending.get(operation_id)
            if not fault:
                return None
            fault[1] -= 1
            if fault[1] <= 0:
                del self._pending[operation_id]
            return fault[0]

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"operation_id": op, "status": status, "count": count}
                    for op, (status, count) in sorted(self._pending.items())]

    def clear(self, operation_id: str | None = None) -> None:
        with self._lock:
            if operation_id is None:
                self._pending.clear()
            else:
                self._pending.pop(operation_id, None)


class RequestHistory:
    """The session's last requests, newest first, each with an `id` that grows within the session.

    What the documentation answered (Swagger UI's page, its assets, the spec documents: about six
    requests per page load) is kept apart, in a window of its own: it is shown only when asked for and
    never pushes the API calls out of theirs."""

    def __init__(self, size: int = REQUEST_HISTORY_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._docs: deque[dict[str, Any]] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry = {"id": next(self._ids), **entry}
            (self._docs if entry.get("layer") == "docs" else self._entries).appendleft(entry)
            return entry

    def latest(self, limit: int, *, after: int = 0, docs: bool = False) -> list[dict[str, Any]]:
        """Up to `limit` entries, newest first, only those with an id greater than `after`; the
        documentation's own requests too when `docs`."""
        with self._lock:
            entries = list(itertools.islice(self._entries, limit))
            if docs:
                entries = sorted([*entries, *itertools.islice(self._docs, limit)], key=lambda e: -int(e["id"]))
            return [e for e in entries[:limit] if e["id"] > after]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._docs.clear()


@dataclass
class Session:
    name: str | None
    store: Store
    faults: Faults = field(default_factory=Faults)
    history: RequestHistory = field(default_factory=RequestHistory)

    def reset(self) -> None:
        """Back to the fixtures: the world, no faults, no history."""
        self.store.reset()
        self.faults.clear()
        self.history.clear()


class Sessions:
    """A session per `X-Mock-Session` name, each created from the fixtures on first use; the default
    session (no header) always exists, the others are evicted oldest-used first past `limit`."""

    def __init__(self, world: World, *, clock: Clock | None = None, lifecycle: AutoLifecycle | None = None,
                 limit: int = 32) -> None:
        self.world = world
        self.clock: Clock = clock or SystemClock()
        self.lifecycle = lifecycle
        self.limit = limit
        self.default = self._new(None)
        self._named: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def _new(self, name: str | None) -> Session:
        return Session(name, Store(self.world, clock=self.clock, lifecycle=self.lifecycle))

    def get(self, name: str | None) -> Session:
        if not name:
            return self.default
        with self._lock:
            session = self._named.get(name)
            if session is None:
                session = self._named[name] = self._new(name)
                while len(self._named) > self.limit:
                    self._named.popitem(last=False)
            else:
                self._named.move_to_end(name)
            return session

    def names(self) -> list[str]:
        return list(self._named)
