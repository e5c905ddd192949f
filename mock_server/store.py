"""The in-memory world: organizations and what they own; the only owner of experiments.

It speaks the domain's language (`domain_errors`), never HTTP; its time comes from the `Clock` it is given.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import jsonio
from .clock import Clock, SystemClock
from .domain_errors import DuplicateExperimentId, ExperimentNotFound, WorldLimitReached
from .lifecycle import AutoLifecycle, parse_time
from .limits import MAX_EXPERIMENTS_PER_ORGANIZATION, MAX_WORLD_BYTES
from .rules import Catalog

Record = dict[str, Any]


@dataclass
class Organization:
    id: str
    name: str
    api_keys: list[str]
    datasets: dict[str, str] = field(default_factory=dict)  # id -> name
    evaluators: dict[str, str] = field(default_factory=dict)  # id -> name
    evaluator_workflow_versions: dict[str, str] = field(default_factory=dict)  # id -> name
    experiments: dict[str, Record] = field(default_factory=dict)  # id -> stored record, oldest first


@dataclass
class World:
    organizations: dict[str, Organization]

    def copy(self) -> World:
        return copy.deepcopy(self)

    def sizes(self) -> dict[tuple[str, str], int]:
        """The size of each experiment as JSON, by (organization, experiment): what MAX_WORLD_BYTES counts."""
        return {(org.id, experiment_id): record_size(record) for org in self.organizations.values()
                for experiment_id, record in org.experiments.items()}


def record_size(record: Record) -> int:
    return len(jsonio.dumps(record))


class Store:
    """One world's experiments per organization. Every write is one read-modify-write under a lock,
    so a request is applied whole or not at all and concurrent writes never lose each other's fields.

    With an `AutoLifecycle`, experiments created here advance pending → running → completed on their
    own, by the `clock`; their lifecycle fields are brought up to date whenever they are read."""

    def __init__(self, world: World, *, clock: Clock | None = None, lifecycle: AutoLifecycle | None = None,
                 initial_sizes: dict[tuple[str, str], int] | None = None) -> None:
        self._initial = world
        self._initial_sizes = world.sizes() if initial_sizes is None else initial_sizes
        self.clock: Clock = clock or SystemClock()
        self.lifecycle = lifecycle
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._world = self._initial.copy()
            self._sizes = dict(self._initial_sizes)
            self._stored_bytes = sum(self._sizes.values())
            self.changed = False  # a write since the last reset (a session holding changes is never dropped)
            self._keys = {key: org.id for org in self._world.organizations.values() for key in org.api_keys}
            self._automatic: set[tuple[str, str]] = set()  # (organization, experiment) on the automatic lifecycle
            # What experiments refer to comes from the fixtures and never changes until the next reset.
            self._catalogs = {org.id: Catalog(datasets=dict(org.datasets), evaluators=frozenset(org.evaluators),
                                              evaluator_workflow_versions=frozenset(org.evaluator_workflow_versions))
                              for org in self._world.organizations.values()}

    # -- reads ----------------------------------------------------------------------------------

    def api_keys(self) -> list[str]:
        return list(self._keys)

    def organization_for_key(self, api_key: str) -> str | None:
        return self._keys.get(api_key)

    def has_organization(self, org_id: str) -> bool:
        return org_id in self._world.organizations

    def catalog(self, org_id: str) -> Catalog:
        return self._catalogs[org_id]

    def get(self, org_id: str, experiment_id: str) -> Record:
        record = self._world.organizations[org_id].experiments.get(experiment_id)
        if record is None:
            raise ExperimentNotFound(experiment_id)
        return self._advance(org_id, record)

    def all(self, org_id: str) -> list[Record]:
        """The organization's experiments, oldest first."""
        return [self._advance(org_id, r) for r in list(self._world.organizations[org_id].experiments.values())]

    def find(self, experiment_id: str, org_id: str | None = None) -> list[str]:
        """The organizations that have an experiment with this id (for the admin endpoints)."""
        return [org.id for org in self._world.organizations.values()
                if experiment_id in org.experiments and org_id in (None, org.id)]

    def _advance(self, org_id: str, record: Record) -> Record:
        if self.lifecycle is None or (org_id, record["id"]) not in self._automatic:
            return record
        state = self.lifecycle.state_at(parse_time(record["created_at"]), self.clock.now())
        if all(record.get(k) == v for k, v in state.items()):
            return record
        with self._lock:
            current = self._world.organizations[org_id].experiments.get(record["id"])
            if current is None or (org_id, record["id"]) not in self._automatic:
                return current or record
            advanced = {**current, **state}
            if state["status"] in ("completed", "failed"):
                self._automatic.discard((org_id, record["id"]))
            self._world.organizations[org_id].experiments[record["id"]] = advanced
            return advanced

    def exists(self, org_id: str, experiment_id: str) -> bool:
        return experiment_id in self._world.organizations[org_id].experiments

    # -- writes ---------------------------------------------------------------------------------

    def insert(self, org_id: str, experiment_id: str, build: Callable[[], Record]) -> Record:
        """Store what `build()` returns under a new id (DuplicateExperimentId if it is taken)."""
        with self._lock:
            experiments = self._world.organizations[org_id].experiments
            if experiment_id in experiments:
                raise DuplicateExperimentId(experiment_id)
            if len(experiments) >= MAX_EXPERIMENTS_PER_ORGANIZATION:
                raise WorldLimitReached(
                    f"This organization holds {len(experiments)} experiments in this session, the most the mock "
                    "keeps; delete some, or start again with POST /__mock__/reset.")
            record = build()
            self._account(org_id, experiment_id, record)
            experiments[experiment_id] = record
            self.changed = True
            if self.lifecycle is not None:
                self._automatic.add((org_id, experiment_id))
            return record

    def update(self, org_id: str, experiment_id: str, plan: Callable[[Record], Record], *,
               manual: bool = False) -> Record:
        """Replace the experiment with `plan(current)`; nothing changes if `plan` raises. `manual`:
        the lifecycle was moved by hand, so the automatic one lets go of the experiment."""
        with self._lock:
            current = self.get(org_id, experiment_id)
            new = plan(current)
            self._account(org_id, experiment_id, new)
            self._world.organizations[org_id].experiments[experiment_id] = new
            self.changed = True
            if manual:
                self._automatic.discard((org_id, experiment_id))
            return new

    def delete(self, org_id: str, experiment_id: str) -> None:
        with self._lock:
            if self._world.organizations[org_id].experiments.pop(experiment_id, None) is None:
                raise ExperimentNotFound(experiment_id)
            self._stored_bytes -= self._sizes.pop((org_id, experiment_id), 0)
            self._automatic.discard((org_id, experiment_id))
            self.changed = True

    def _account(self, org_id: str, experiment_id: str, record: Record) -> None:
        """Count `record` in place of the stored one, or WorldLimitReached if the world would grow past its bound."""
        size = record_size(record)
        total = self._stored_bytes - self._sizes.get((org_id, experiment_id), 0) + size
        if total > MAX_WORLD_BYTES and size > self._sizes.get((org_id, experiment_id), 0):
            raise WorldLimitReached(
                f"The experiments of this session would take {total} bytes as JSON, more than the "
                f"{MAX_WORLD_BYTES} bytes the mock keeps for one session; delete some, or start again "
                "with POST /__mock__/reset.")
        self._sizes[(org_id, experiment_id)] = size
        self._stored_bytes = total

    def export(self) -> Mapping[str, Organization]:
        for org in self._world.organizations.values():
            self.all(org.id)  # bring automatic lifecycles up to date first
        return self._world.organizations
