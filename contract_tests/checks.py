"""Custom Schemathesis checks: the rules of writes that a response schema cannot say.

They run on every generated create, PATCH and PUT that succeeded:
* `read_your_writes`: a GET of the experiment right after returns exactly what the write returned;
* `write_applies_fields`: every field sent is what the response shows (after the documented
  normalizations: the `evaluator_slugs` alias, the legacy `evaluator` step type, the scoring-path
  switch), derived fields follow the data, and a PUT puts omitted defaulted fields back to their
  defaults.
"""

from __future__ import annotations

import json
from typing import Any

import requests
import schemathesis

from .spec_facts import DEFAULTS

WRITES = {"createExperiment": 201, "updateExperiment": 200, "replaceExperiment": 200}
# A real backend may start running an experiment at any moment; these follow the run, not the write.
LIFECYCLE_FIELDS = frozenset({"status", "progress", "started_at", "completed_at", "error_message"})


def configuration(experiment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in experiment.items() if k not in LIFECYCLE_FIELDS}


def _operation_id(case: Any) -> str | None:
    return case.operation.definition.raw.get("operationId")


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def expected_fields(body: dict[str, Any], *, replace: bool) -> dict[str, Any]:
    """What a successful write of `body` must show, field by field."""
    expected = {k: v for k, v in body.items() if k not in ("experiment_id", "evaluator_slugs", "workflow")}
    if "evaluator_ids" not in body and "evaluator_slugs" in body:
        expected["evaluator_ids"] = body["evaluator_slugs"]
    if "workflow" in body:
        expected["workflow"] = [{**step, "type": "eval" if step.get("type") == "evaluator" else step.get("type")}
                                for step in body["workflow"]]
        expected["workflow_count"] = len(body["workflow"])
    if expected.get("evaluator_ids"):
        expected["evaluator_workflow_ids"] = []
    elif expected.get("evaluator_workflow_ids"):
        expected["evaluator_ids"] = []
    if "dataset_id" in body:
        expected["dataset"] = body["dataset_id"]
    if replace:
        for name, default in DEFAULTS.items():
            expected.setdefault(name, default)
    return expected


def field_mismatches(expected: dict[str, Any], shown: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    found = {name: (value, shown.get(name)) for name, value in expected.items() if shown.get(name) != value}
    if shown.get("evaluator_slugs") != shown.get("evaluator_ids"):
        found["evaluator_slugs"] = (shown.get("evaluator_ids"), shown.get("evaluator_slugs"))
    return found


@schemathesis.check
def write_applies_fields(ctx: Any, response: Any, case: Any) -> bool | None:
    operation_id = _operation_id(case)
    if WRITES.get(operation_id) != response.status_code or not isinstance(case.body, dict):
        return None
    shown = _json(response)
    if not isinstance(shown, dict):
        return None
    mismatches = field_mismatches(expected_fields(case.body, replace=operation_id == "replaceExperiment"), shown)
    if mismatches:
        lines = [f"  {name}: sent/expected {exp!r}, shown {got!r}" for name, (exp, got) in mismatches.items()]
        raise AssertionError("The write did not apply exactly the fields sent:\n" + "\n".join(lines))
    return True


@schemathesis.check
def read_your_writes(ctx: Any, response: Any, case: Any) -> bool | None:
    operation_id = _operation_id(case)
    if WRITES.get(operation_id) != response.status_code:
        return None
    written = _json(response)
    if not isinstance(written, dict) or not isinstance(written.get("id"), str):
        return None
    url = response.request.url.split("?")[0]
    if operation_id == "createExperiment":
        url = url.rstrip("/") + f"/{written['id']}/"
    headers = {k: v for k, v in response.request.headers.items() if k.lower() == "authorization"}
    from .hooks import STATE

    STATE.count()
    read = requests.get(url, headers=headers, timeout=10)
    if read.status_code != 200 or configuration(read.json()) != configuration(written):
        raise AssertionError(
            f"Read-your-writes: GET {url} right after {case.method} answered {read.status_code}\n"
            f"written: {json.dumps(written, sort_keys=True)[:500]}\n"
            f"read:    {read.text[:500]}")
    return True
