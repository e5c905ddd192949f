"""Facts the suite reads from the spec it holds the deployment to (never re-typed here).

Read on first use, not on import, so `--spec` (or `CONTRACT_SPEC`) decides which spec they come from.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mock_server.spec import HTTP_METHODS, Contract
from mock_server.validation import SchemaValidator

from .assumptions import Assumptions
from .config import spec_path


@cache
def assumptions() -> Assumptions:
    """The spec the suite holds the deployment to, with its marks: one load per process."""
    return Assumptions(spec_path())


def _contract() -> Contract:
    return assumptions().contract


@cache
def defaults() -> dict[str, Any]:
    """The documented default of every body field that has one (what PUT restores)."""
    return _contract().property_defaults("ExperimentReplace")


@cache
def operation_ids() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> operationId, e.g. ("PATCH", "/experiments/{experiment_id}/") -> "updateExperiment"."""
    return {(method.upper(), path): item[method]["operationId"]
            for path, item in _contract().document["paths"].items() for method in HTTP_METHODS if method in item}


@cache
def response_required() -> frozenset[str]:
    """Fields the vendor documents every experiment response to carry (the `required` of the Experiment
    schema's parts that rest on no assumption); checks compare any other field only when it is shown."""
    parts = [_contract().resolve(part) for part in _contract().schema("Experiment")["allOf"]]
    return frozenset(name for part in parts if "x-assumption" not in part for name in part.get("required", ()))


def request_validator(operation_id: str) -> SchemaValidator:
    """The compiled request body schema of an operation (the mock's validator, the spec's rules)."""
    return assumptions().validator(assumptions().request_schema(operation_id))


@cache
def step_keys() -> frozenset[str]:
    """The keys of a workflow step the docs name (`type` and `config`): the properties of the step shapes
    WorkflowStep's `oneOf` lists. A key a deployment adds beside them is a field the docs do not name."""
    contract = _contract()
    return frozenset(name for part in contract.schema("WorkflowStep").get("oneOf") or ()
                     for name in contract.resolve(part).get("properties") or {})


@cache
def documented_fields() -> frozenset[str]:
    """The fields of an experiment the docs name: the properties of the Experiment response schema and of
    the write bodies (less `experiment_id`, which is the `id`). Checks and rule tests compare experiments
    on these only, so a field a deployment adds (an `updated_at` that changes on every write) is ignored."""
    contract = _contract()
    names: set[str] = set()

    def collect(node: object) -> None:
        node = contract.resolve(node) if isinstance(node, dict) else node
        if not isinstance(node, dict):
            return
        names.update(node.get("properties") or {})
        for part in node.get("allOf") or ():
            collect(part)

    collect(contract.schema("Experiment"))
    collect(contract.schema("ExperimentReplace"))
    return frozenset(names - {"experiment_id"})
