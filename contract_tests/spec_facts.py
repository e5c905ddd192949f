"""Facts the suite reads from the spec it holds the deployment to (never re-typed here).

Read on first use, not on import, so `--spec` (or `CONTRACT_SPEC`) decides which spec they come from.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mock_server.spec import Contract
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


def operation_ids() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> operationId (`Assumptions.operation_ids`)."""
    return assumptions().operation_ids


@cache
def response_required() -> frozenset[str]:
    """Fields the vendor documents every experiment response to carry (the `required` of the Experiment
    schema's parts that rest on no assumption); checks compare any other field only when it is shown."""
    return assumptions().response_required


def request_validator(operation_id: str) -> SchemaValidator:
    """The compiled request body schema of an operation (the mock's validator, the spec's rules)."""
    return assumptions().validator(assumptions().request_schema(operation_id))


def step_keys() -> frozenset[str]:
    """The keys of a workflow step the docs name (`type` and `config`)."""
    return assumptions().step_keys


def documented_fields() -> frozenset[str]:
    """The fields of an experiment the docs name (`Assumptions.documented_fields`): checks and rule tests
    compare experiments on these only, so a field a deployment adds (an `updated_at`) is ignored."""
    return assumptions().documented_fields
