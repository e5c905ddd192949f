"""Schemathesis hooks: make generated requests obey the rules a schema cannot say, and keep a run safe.

Loaded by `schemathesis.toml` (so a plain `st run` uses them) and by the contract suite, which
also registers its custom checks through this module (`contract_tests.checks`).

Rules a generated request cannot know:
* a create request's `experiment_id` is client-chosen and unique in the organization, so a
  generated one is replaced by a fresh run-prefixed id, and later requests that use the generated
  id (Schemathesis links path ids to the create body's `experiment_id`) get the fresh one;
* a PATCH/PUT body may repeat `experiment_id` only with the id of its path;
* referenced ids (dataset, evaluators, evaluator workflow versions) must exist in the caller's
  organization or the answer is 404, which Schemathesis cannot tell from "the experiment is
  gone"; generated ones are pointed at ids known to exist (`CONTRACT_DATASET_ID`,
  `CONTRACT_EVALUATOR_ID`, `CONTRACT_EVALUATOR_WORKFLOW_ID`, the default world's otherwise).
Safety on a shared deployment:
* PATCH, PUT and DELETE only ever reach experiments this process created: a request aimed at any
  other id is aimed instead at a throwaway experiment created for it on the spot (so the request
  still meets an existing experiment, as Schemathesis' stateful checks expect); an experiment seen
  leaving `pending` on its own (a live backend) or answering 409 is not used again;
* every created experiment is named with the run prefix (`CONTRACT_RUN_PREFIX`).
The contract suite sends all of this through its gate (`contract_tests.gate`), which enforces the
same rules, counts every request and caps them.
Values that are themselves invalid (wrong type, pattern, length) are left alone, so negative cases
stay negative.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import schemathesis

from . import checks
from .checks import operation_id_of

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RUN_PREFIX = os.environ.get("CONTRACT_RUN_PREFIX") or f"ct-{uuid.uuid4().hex[:8]}"
KNOWN_IDS = {
    "dataset_id": os.environ.get("CONTRACT_DATASET_ID") or "ds_7a6b5c4d",
    "evaluator_ids": os.environ.get("CONTRACT_EVALUATOR_ID") or "helpfulness",
    "evaluator_workflow_ids": os.environ.get("CONTRACT_EVALUATOR_WORKFLOW_ID") or "ewv_3c2b1a09",
}
BODY_OPERATIONS = frozenset({"createExperiment", "updateExperiment", "replaceExperiment"})
MUTATING_BY_ID = frozenset({"updateExperiment", "replaceExperiment", "deleteExperiment"})
BY_ID = MUTATING_BY_ID | {"getExperiment"}
checks.register()


class RunState:
    """Experiments created by this process (Schemathesis workers are threads) and id aliases."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owned: set[str] = set()
        self.aliases: dict[str, str] = {}  # generated experiment_id -> the fresh id sent instead
        self.original_of: dict[str, str] = {}

    def alias(self, generated: str) -> str:
        """A fresh id standing for `generated` from now on (and for any id it replaced before)."""
        fresh = f"{RUN_PREFIX}-{uuid.uuid4().hex[:16]}"
        with self.lock:
            original = self.original_of.get(generated, generated)
            self.aliases[original] = fresh
            self.aliases[generated] = fresh
            self.original_of[fresh] = original
        return fresh

    def resolve(self, experiment_id: str) -> str:
        return self.aliases.get(experiment_id, experiment_id)

    def add(self, experiment_id: str) -> None:
        with self.lock:
            self.owned.add(experiment_id)

    def drop(self, experiment_id: str) -> None:
        with self.lock:
            self.owned.discard(experiment_id)

    def owns(self, experiment_id: str) -> bool:
        with self.lock:
            return experiment_id in self.owned


STATE = RunState()


def _valid_reference(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 128


def align_experiment_id(operation_id: str | None, body: Any, path_parameters: dict[str, Any] | None) -> None:
    """Make a generated body's `experiment_id` obey the id rules, in place."""
    if not isinstance(body, dict) or not isinstance(body.get("experiment_id"), str):
        return
    if not ID_PATTERN.match(body["experiment_id"]):
        return
    if operation_id == "createExperiment":
        body["experiment_id"] = STATE.alias(body["experiment_id"])
    elif operation_id in ("updateExperiment", "replaceExperiment") and path_parameters:
        path_id = path_parameters.get("experiment_id")
        if isinstance(path_id, str):
            body["experiment_id"] = path_id


def align_references(body: Any) -> None:
    """Point a generated body's references at resources that exist, in place."""
    if not isinstance(body, dict):
        return
    if _valid_reference(body.get("dataset_id")):
        body["dataset_id"] = KNOWN_IDS["dataset_id"]
    fields = [("evaluator_ids", "evaluator_ids"), ("evaluator_workflow_ids", "evaluator_workflow_ids")]
    if "evaluator_ids" not in body:  # slugs count only without ids
        fields.append(("evaluator_slugs", "evaluator_ids"))
    for field, known in fields:
        value = body.get(field)
        if isinstance(value, list) and value and all(_valid_reference(v) for v in value) \
                and len(set(value)) == len(value):
            body[field] = [KNOWN_IDS[known]]


def prefix_name(body: Any) -> None:
    """Mark a created experiment's name as this run's (once: a case may be sent again). A create
    without a name gets one, so nothing the run creates goes unmarked."""
    if not isinstance(body, dict):
        return
    name = body.get("name", "")
    if isinstance(name, str) and len(name) <= 255 and not name.startswith(RUN_PREFIX):
        body["name"] = f"{RUN_PREFIX} {name}"[:255].rstrip()


def prepare_body(operation_id: str | None, body: Any, path_parameters: dict[str, Any] | None) -> None:
    if operation_id in BODY_OPERATIONS:
        align_experiment_id(operation_id, body, path_parameters)
        align_references(body)
    if operation_id == "createExperiment":
        prefix_name(body)


def throwaway_body() -> dict[str, Any]:
    return {"dataset_id": KNOWN_IDS["dataset_id"], "name": f"{RUN_PREFIX} throwaway",
            "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini"}}],
            "evaluator_ids": [KNOWN_IDS["evaluator_ids"]]}


def create_throwaway(base_url: str) -> str:
    """Create an experiment of this run to take a mutation aimed elsewhere; returns its id.

    It is created with the run's token (`CONTRACT_TOKEN`, which the suite and README's `st run`
    line set; the suite's configuration sends the same token with every generated request)."""
    token = os.environ.get("CONTRACT_TOKEN", "")
    response = httpx.post(f"{base_url.rstrip('/')}/experiments/", json=throwaway_body(), timeout=30,
                          headers={"Authorization": f"Bearer {token}"} if token else {})
    response.raise_for_status()
    experiment_id: str = response.json()["id"]
    STATE.add(experiment_id)
    return experiment_id


def confine_target(operation_id: str | None, path_parameters: dict[str, Any] | None,
                   make_throwaway: Callable[[], str]) -> None:
    """Point PATCH/PUT/DELETE at an experiment this process created."""
    if operation_id not in MUTATING_BY_ID or not path_parameters:
        return
    current = path_parameters.get("experiment_id")
    if isinstance(current, str) and ID_PATTERN.match(current):
        current = path_parameters["experiment_id"] = STATE.resolve(current)
        if not STATE.owns(current):
            path_parameters["experiment_id"] = make_throwaway()


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    operation_id = operation_id_of(case.method, case.path)
    confine_target(operation_id, case.path_parameters, lambda: create_throwaway(case.operation.base_url))
    prepare_body(operation_id, case.body, case.path_parameters)


def _left_pending(response: Any) -> bool:
    try:
        shown = response.json()
    except ValueError:
        return False
    return isinstance(shown, dict) and shown.get("status") not in (None, "pending")


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    operation_id = operation_id_of(case.method, case.path)
    if operation_id == "deleteExperiment" and 200 <= response.status_code < 300:
        STATE.drop(case.path_parameters["experiment_id"])
    if operation_id in BY_ID and isinstance(case.path_parameters, dict):
        experiment_id = case.path_parameters.get("experiment_id")
        if response.status_code == 409 or _left_pending(response):
            # A live backend may start an experiment on its own, and then lock what changes how it
            # runs (a legitimate 409): the next mutation gets a fresh, pending experiment instead.
            STATE.drop(str(experiment_id))
    if operation_id == "createExperiment" and 200 <= response.status_code < 300:
        try:
            created = response.json()
        except ValueError:
            return
        if isinstance(created, dict) and isinstance(created.get("id"), str) \
                and str(created.get("name", "")).startswith(RUN_PREFIX):
            STATE.add(created["id"])
