"""Schemathesis hooks for the rules a schema cannot say about generated requests.

Loaded by `schemathesis.toml` (so plain `st run` uses them) and by the contract suite.

* A create request's `experiment_id` is client-chosen and must be unique in the organization, so a
  generated one is replaced by a fresh, run-prefixed id (which also marks what the run created).
* A PATCH/PUT body may repeat `experiment_id` but only with the id of the path, so a generated one is
  replaced by the path's.
* Referenced ids (dataset, evaluators, evaluator workflow versions) must exist in the caller's
  organization, otherwise the answer is 404, which Schemathesis cannot tell from "the experiment is
  gone". Generated ones are replaced by ids known to exist (`CONTRACT_DATASET_ID`,
  `CONTRACT_EVALUATOR_ID`, `CONTRACT_EVALUATOR_WORKFLOW_ID`; the default world's otherwise), so
  generated requests reach the business logic. Unknown ids are tested by the rule tests instead.
Values that are themselves invalid (wrong type, pattern, length) are left alone, so negative cases
stay negative.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import schemathesis

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RUN_PREFIX = os.environ.get("CONTRACT_RUN_PREFIX") or f"ct-{uuid.uuid4().hex[:8]}"


KNOWN_IDS = {
    "dataset_id": os.environ.get("CONTRACT_DATASET_ID") or "ds_7a6b5c4d",
    "evaluator_ids": os.environ.get("CONTRACT_EVALUATOR_ID") or "helpfulness",
    "evaluator_workflow_ids": os.environ.get("CONTRACT_EVALUATOR_WORKFLOW_ID") or "ewv_3c2b1a09",
}
BODY_OPERATIONS = frozenset({"createExperiment", "updateExperiment", "replaceExperiment"})


def _valid_reference(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 128


def fresh_experiment_id() -> str:
    return f"{RUN_PREFIX}-{uuid.uuid4().hex[:16]}"


def align_experiment_id(operation_id: str | None, body: Any, path_parameters: dict[str, Any] | None) -> None:
    """Make a generated body's `experiment_id` obey the id rules, in place."""
    if not isinstance(body, dict) or not isinstance(body.get("experiment_id"), str):
        return
    if not ID_PATTERN.match(body["experiment_id"]):
        return
    if operation_id == "createExperiment":
        body["experiment_id"] = fresh_experiment_id()
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
    slugs_count = "evaluator_ids" not in body
    for field, known in (("evaluator_ids", "evaluator_ids"), ("evaluator_workflow_ids", "evaluator_workflow_ids"),
                         ("evaluator_slugs" if slugs_count else "", "evaluator_ids")):
        value = body.get(field)
        if isinstance(value, list) and value and all(_valid_reference(v) for v in value) \
                and len(set(value)) == len(value):
            body[field] = [KNOWN_IDS[known]]


def prepare_body(operation_id: str | None, body: Any, path_parameters: dict[str, Any] | None) -> None:
    if operation_id in BODY_OPERATIONS:
        align_experiment_id(operation_id, body, path_parameters)
        align_references(body)


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    prepare_body(case.operation.definition.raw.get("operationId"), case.body, case.path_parameters)
