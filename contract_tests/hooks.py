"""Schemathesis hooks: make generated requests obey the rules a schema cannot say, and keep a run safe.

Loaded by `schemathesis.toml` (so a plain `st run` uses them) and by the contract suite.

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
* PATCH, PUT and DELETE only ever reach experiments this run created: a request aimed at any
  other id is aimed instead at a throwaway experiment created for it on the spot (so the request
  still meets an existing experiment, as Schemathesis' stateful checks expect);
* a created experiment's `name` carries the run prefix (`CONTRACT_RUN_PREFIX`);
* requests are counted and capped (`CONTRACT_MAX_REQUESTS`); the count and the created ids are
  written to `CONTRACT_STATE_FILE` at exit, for the suite to report and clean up.
Values that are themselves invalid (wrong type, pattern, length) are left alone, so negative cases
stay negative.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import requests
import schemathesis

from . import checks  # noqa: F401  (registers the suite's custom checks with Schemathesis)

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RUN_PREFIX = os.environ.get("CONTRACT_RUN_PREFIX") or f"ct-{uuid.uuid4().hex[:8]}"
KNOWN_IDS = {
    "dataset_id": os.environ.get("CONTRACT_DATASET_ID") or "ds_7a6b5c4d",
    "evaluator_ids": os.environ.get("CONTRACT_EVALUATOR_ID") or "helpfulness",
    "evaluator_workflow_ids": os.environ.get("CONTRACT_EVALUATOR_WORKFLOW_ID") or "ewv_3c2b1a09",
}
BODY_OPERATIONS = frozenset({"createExperiment", "updateExperiment", "replaceExperiment"})
MUTATING_BY_ID = frozenset({"updateExperiment", "replaceExperiment", "deleteExperiment"})
MAX_REQUESTS = int(os.environ.get("CONTRACT_MAX_REQUESTS") or 0)


class RunState:
    """Requests sent and experiments created by this process (Schemathesis workers are threads)."""

    def __init__(self, owned: list[str]) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.owned = list(owned)
        self.created: list[str] = []
        self.aliases: dict[str, str] = {}  # generated experiment_id -> the fresh id sent instead
        self.original_of: dict[str, str] = {}

    def count(self) -> None:
        with self.lock:
            self.requests += 1
            if MAX_REQUESTS and self.requests > MAX_REQUESTS:
                raise RuntimeError(f"request cap reached: this run may send at most {MAX_REQUESTS} requests")

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
            self.created.append(experiment_id)
            self.owned.append(experiment_id)

    def drop(self, experiment_id: str) -> None:
        with self.lock:
            if experiment_id in self.owned:
                self.owned.remove(experiment_id)

    def dump(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"requests": self.requests, "created": self.created}, fh)


STATE = RunState([])
if os.environ.get("CONTRACT_STATE_FILE"):
    atexit.register(STATE.dump, os.environ["CONTRACT_STATE_FILE"])


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
    """Mark a created experiment's name as this run's (once: a case may be sent again)."""
    name = body.get("name") if isinstance(body, dict) else None
    if isinstance(name, str) and 1 <= len(name) <= 255 and not name.startswith(RUN_PREFIX):
        body["name"] = f"{RUN_PREFIX} {name}"[:255]


def prepare_body(operation_id: str | None, body: Any, path_parameters: dict[str, Any] | None) -> None:
    if operation_id in BODY_OPERATIONS:
        align_experiment_id(operation_id, body, path_parameters)
        align_references(body)
    if operation_id == "createExperiment":
        prefix_name(body)


def create_throwaway(base_url: str, headers: dict[str, str]) -> str:
    """Create an experiment of this run to take a mutation aimed elsewhere; returns its id.

    `headers` are the ones the run sends (`-H`, or the suite's configuration), so it is created
    with the run's own credentials."""
    STATE.count()
    auth = {k: v for k, v in headers.items() if k.lower() == "authorization"}
    if not auth and os.environ.get("CONTRACT_TOKEN"):
        auth = {"Authorization": f"Bearer {os.environ['CONTRACT_TOKEN']}"}
    response = requests.post(
        f"{base_url.rstrip('/')}/experiments/", timeout=30, headers=auth,
        json={"dataset_id": KNOWN_IDS["dataset_id"], "name": f"{RUN_PREFIX} throwaway",
              "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini"}}],
              "evaluator_ids": [KNOWN_IDS["evaluator_ids"]]})
    response.raise_for_status()
    experiment_id = response.json()["id"]
    STATE.add(experiment_id)
    return experiment_id


def confine_target(operation_id: str | None, path_parameters: dict[str, Any] | None,
                   make_throwaway: Callable[[], str]) -> None:
    """Point PATCH/PUT/DELETE at an experiment this run owns."""
    if operation_id not in MUTATING_BY_ID or not path_parameters:
        return
    current = path_parameters.get("experiment_id")
    if isinstance(current, str) and ID_PATTERN.match(current):
        current = path_parameters["experiment_id"] = STATE.resolve(current)
        if current not in STATE.owned:
            path_parameters["experiment_id"] = make_throwaway()


def _operation_id(case: Any) -> str | None:
    return case.operation.definition.raw.get("operationId")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    operation_id = _operation_id(case)
    confine_target(operation_id, case.path_parameters, lambda: create_throwaway(
        case.operation.base_url, case.operation.schema.config.headers_for(operation=case.operation)))
    prepare_body(operation_id, case.body, case.path_parameters)
    STATE.count()


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    if _operation_id(case) == "deleteExperiment" and response.status_code == 204:
        STATE.drop(case.path_parameters["experiment_id"])
    if _operation_id(case) == "createExperiment" and response.status_code == 201:
        try:
            experiment_id = response.json().get("id")
        except ValueError:
            return
        if isinstance(experiment_id, str):
            STATE.add(experiment_id)
