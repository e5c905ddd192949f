"""The in-memory world: organizations and what they own; the only owner of state."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


class Store:
    """Experiments per organization. Every write is one read-modify-write under a lock, so a
    request is applied whole or not at all and concurrent writes never lose each other's fields."""

    def __init__(self, world: World) -> None:
        self._initial = world
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
        return record

    def all(self, org_id: str) -> list[Record]:
        return list(self._world.organizations[org_id].experiments.values())

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
            record = {**build(), "_seq": next(self._seq)}
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
        return self._world.organizations
