"""What each `X-Mock-Session` has: its world of experiments, its pending faults, its request history."""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, SystemClock
from .domain_errors import SessionLimitReached
from .lifecycle import AutoLifecycle
from .limits import SESSION_IDLE_SECONDS
from .store import Store, World

REQUEST_HISTORY_SIZE = 200
UNATTRIBUTED_HISTORY_SIZE = 50  # requests not authenticated, or from an origin not allowed: a bucket of their own


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

    def __init__(self, size: int = REQUEST_HISTORY_SIZE, *, ids: Iterator[int] | None = None) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._docs: deque[dict[str, Any]] = deque(maxlen=size)
        self._ids = ids or itertools.count(1)  # shared by all the histories of one mock: ids merge in order
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry = {"id": next(self._ids), **entry}
            (self._docs if entry.get("layer") == "docs" else self._entries).appendleft(entry)
            return entry

    def latest(self, limit: int, *, after: int = 0, docs: bool = False,
               session: str | None | bool = True) -> list[dict[str, Any]]:
        """Up to `limit` entries, newest first, only those with an id greater than `after`; the
        documentation's own requests too when `docs`; and, when `session` is a name or None, only
        those of that session."""
        with self._lock:
            pool = [*self._entries, *self._docs] if docs else list(self._entries)
            if docs:
                pool.sort(key=lambda e: -int(e["id"]))
            entries = (e for e in pool if session is True or e.get("session") == session)
            return [e for e in itertools.islice(entries, limit) if e["id"] > after]

    def clear(self, *, session: str | None | bool = True) -> None:
        """Forget every entry, or (`session` a name or None) only that session's."""
        with self._lock:
            for window in (self._entries, self._docs):
                kept = [] if session is True else [e for e in window if e.get("session") != session]
                window.clear()
                window.extend(kept)


@dataclass
class Session:
    name: str | None
    store: Store
    faults: Faults = field(default_factory=Faults)
    history: RequestHistory = field(default_factory=RequestHistory)
    last_used: float = 0.0  # the clock's timestamp of the last request that used it

    def reset(self) -> None:
        """Back to the fixtures: the world, no faults, no history."""
        self.store.reset()
        self.faults.clear()
        self.history.clear()

    def holds_changes(self) -> bool:
        """Whether dropping it would lose something a developer did: a write, or a fault waiting."""
        return self.store.changed or bool(self.faults.pending())


class Sessions:
    """A session per `X-Mock-Session` name; the default session (no header) always exists.

    A named session is created only for a request that was authenticated (the dispatcher, the request
    log of an authenticated request) or by the controls, never for a stranger's request. At most `limit`
    are kept: a new one takes the place of the least recently used session that holds no changes or has
    been untouched for SESSION_IDLE_SECONDS; when there is none, SessionLimitReached (429 with
    Retry-After), so no developer's work is ever dropped silently.
    """

    def __init__(self, world: World, *, clock: Clock | None = None, lifecycle: AutoLifecycle | None = None,
                 limit: int = 32, idle_seconds: float = SESSION_IDLE_SECONDS) -> None:
        if limit < 1:
            raise ValueError(f"the session limit must be at least 1 (got {limit})")
        self.world = world
        self.clock: Clock = clock or SystemClock()
        self.lifecycle = lifecycle
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._sizes = world.sizes()  # measured once, shared by every session's store
        self._ids = itertools.count(1)
        self.unattributed = RequestHistory(UNATTRIBUTED_HISTORY_SIZE, ids=self._ids)
        self.default = self._new(None)
        self._named: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def _new(self, name: str | None) -> Session:
        return Session(name, Store(self.world, clock=self.clock, lifecycle=self.lifecycle,
                                         initial_sizes=self._sizes),
                       history=RequestHistory(ids=self._ids), last_used=self.clock.now().timestamp())

    def find(self, name: str | None) -> Session | None:
        """The session of this name if it exists (the default one for None); creates nothing."""
        if not name:
            return self.default
        return self._named.get(name)

    def get(self, name: str | None) -> Session:
        """The session of this name, created from the fixtures if new (SessionLimitReached when full)."""
        if not name:
            return self.default
        now = self.clock.now().timestamp()
        with self._lock:
            session = self._named.get(name)
            if session is None:
                if len(self._named) >= self.limit:
                    self._make_room(now)
                session = self._named[name] = self._new(name)
            else:
                self._named.move_to_end(name)
            session.last_used = now
            return session

    def _make_room(self, now: float) -> None:
        for name, session in self._named.items():  # least recently used first
            if not session.holds_changes() or now - session.last_used >= self.idle_seconds:
                del self._named[name]
                return
        oldest = min(session.last_used for session in self._named.values())
        raise SessionLimitReached(self.limit, self.idle_seconds,
                                  max(1, math.ceil(oldest + self.idle_seconds - now)))

    def names(self) -> list[str]:
        return list(self._named)
