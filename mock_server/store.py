"""The in-memory world: organizations and what they own; the only owner of state."""

from __future__ import annotations

import copy
import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .lifecycle import AutoClock, parse_time
from .rules import Catalog, ExperimentNotFound

Record = dict[str, Any]


@dataclass
class Organization:
    id: str
    name: str
    api_keys: list[str]
    datasets: dict[str, str] = field(default_factory=dict)  # id -> name
    evaluators: dict[str, str] = field(default_factory=dict)  # id -> name
    evaluator_workflow_versions: dict[str, str] = field(default_factory=dict)  # id -> name
    experiments: dict[str, Record] = field(default_factory=dict)  # id -> stored record


@dataclass
class World:
    organizations: dict[str, Organization]

    def copy(self) -> World:
        return copy.deepcopy(self)


REQUEST_LOG_SIZE = 200


class Store:
    """One world: experiments per organization, plus the mock's own state for it (faults to
    inject, the log of recent requests). Every write is one read-modify-write under a lock, so a
    request is applied whole or not at all and concurrent writes never lose each other's fields.

    With an `AutoClock`, experiments created here advance pending → running → completed on their
    own; their lifecycle fields are brought up to date whenever they are read."""

    def __init__(self, world: World, *, clock: AutoClock | None = None) -> None:
        self._initial = world
        self.clock = clock
        self._lock = threading.RLock()
        self._seq = itertools.count()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._world = self._initial.copy()
            self._keys = {key: org.id for org in self._world.organizations.values() for key in org.api_keys}
            for org in self._world.organizations.values():
                for record in org.experiments.values():
                    record["_seq"] = next(self._seq)
            self.faults: dict[str, list[int]] = {}  # operationId -> [status, remaining]
            self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)

    # -- reads ----------------------------------------------------------------------------------

    def organization_for_key(self, api_key: str) -> str | None:
        return self._keys.get(api_key)

    def has_organization(self, org_id: str) -> bool:
        return org_id in self._world.organizations

    def catalog(self, org_id: str) -> Catalog:
        org = self._world.organizations[org_id]
        return Catalog(datasets=dict(org.datasets), evaluators=frozenset(org.evaluators),
                       evaluator_workflow_versions=frozenset(org.evaluator_workflow_versions))

    def get(self, org_id: str, experiment_id: str) -> Record:
        record = self._world.organizations[org_id].experiments.get(experiment_id)
        if record is None:
            raise ExperimentNotFound(experiment_id)
        return self._advance(org_id, record)

    def all(self, org_id: str) -> list[Record]:
        return [self._advance(org_id, r) for r in list(self._world.organizations[org_id].experiments.values())]

    def find(self, experiment_id: str, org_id: str | None = None) -> list[str]:
        """The organizations that have an experiment with this id (for the admin endpoints)."""
        return [org.id for org in self._world.organizations.values()
                if experiment_id in org.experiments and org_id in (None, org.id)]

    def _advance(self, org_id: str, record: Record) -> Record:
        if not record.get("_auto") or self.clock is None:
            return record
        state = self.clock.state_at(parse_time(record["created_at"]), datetime.now(UTC))
        if all(record.get(k) == v for k, v in state.items()):
            return record
        with self._lock:
            current = self._world.organizations[org_id].experiments.get(record["id"])
            if current is None or not current.get("_auto"):
                return current or record
            advanced = {**current, **state, "_auto": state["status"] not in ("completed", "failed")}
            self._world.organizations[org_id].experiments[record["id"]] = advanced
            return advanced

    def exists(self, org_id: str, experiment_id: str) -> bool:
        return experiment_id in self._world.organizations[org_id].experiments

    # -- writes ---------------------------------------------------------------------------------

    def insert(self, org_id: str, experiment_id: str, build: Callable[[], Record],
               on_duplicate: Callable[[], Exception]) -> Record:
        """Store what `build()` returns under a new id; `on_duplicate()` is raised if the id is taken."""
        with self._lock:
            experiments = self._world.organizations[org_id].experiments
            if experiment_id in experiments:
                raise on_duplicate()
            record = {**build(), "_seq": next(self._seq), "_auto": self.clock is not None}
            experiments[experiment_id] = record
            return record

    def update(self, org_id: str, experiment_id: str, plan: Callable[[Record], Record]) -> Record:
        """Replace the experiment with `plan(current)`; nothing changes if `plan` raises."""
        with self._lock:
            current = self.get(org_id, experiment_id)
            new = plan(current)
            self._world.organizations[org_id].experiments[experiment_id] = new
            return new

    def delete(self, org_id: str, experiment_id: str) -> None:
        with self._lock:
            if self._world.organizations[org_id].experiments.pop(experiment_id, None) is None:
                raise ExperimentNotFound(experiment_id)

    def export(self) -> Mapping[str, Organization]:
        for org in self._world.organizations.values():
            self.all(org.id)  # bring automatic lifecycles up to date first
        return self._world.organizations

    # -- the mock's own state ---------------------------------------------------------------------

    def add_fault(self, operation_id: str, status: int, count: int) -> None:
        with self._lock:
            self.faults[operation_id] = [status, count]

    def take_fault(self, operation_id: str) -> int | None:
        """The status to answer instead of serving this call, if a fault is pending for it."""
        with self._lock:
            fault = self.faults.get(operation_id)
            if not fault:
                return None
            fault[1] -= 1
            if fault[1] <= 0:
                del self.faults[operation_id]
            return fault[0]

    def log_request(self, entry: dict[str, Any]) -> None:
        self.requests.appendleft(entry)


class Sessions:
    """A world per `X-Mock-Session` name, each created from the fixtures on first use; the default
    session (no header) always exists, the others are evicted oldest-used first past `limit`."""

    def __init__(self, world: World, *, clock: AutoClock | None = None, limit: int = 32) -> None:
        self.world = world
        self.clock = clock
        self.limit = limit
        self.default = Store(world, clock=clock)
        self._named: OrderedDict[str, Store] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str | None) -> Store:
        if not name:
            return self.default
        with self._lock:
            store = self._named.get(name)
            if store is None:
                store = self._named[name] = Store(self.world, clock=self.clock)
                while len(self._named) > self.limit:
                    self._named.popitem(last=False)
            else:
                self._named.move_to_end(name)
            return store

    def names(self) -> list[str]:
        return list(self._named)
