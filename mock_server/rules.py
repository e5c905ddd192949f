"""The business rules a schema cannot say, as pure functions over plain dicts."""

from __future__ import annotations

import operator as operator_module
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import lifecycle
from .domain_errors import InvalidValue, RunningLocked, UnknownReferences

SCORING_FIELDS = ("evaluator_ids", "evaluator_workflow_ids")
# Fields that change how a running experiment executes; a PATCH/PUT may not change them while running.
EXECUTION_FIELDS = ("dataset_id", "workflow", "evaluator_ids", "evaluator_workflow_ids",
                    "batch_size", "concurrency", "generation_method")
LIST_ITEM_FIELDS = ("id", "name", "status", "created_at", "description", "dataset", "dataset_id",
                    "dataset_name", "workflow_count", "progress", "started_at", "completed_at", "tags")
DETAIL_FIELDS = (*LIST_ITEM_FIELDS, "workflow", "evaluator_ids", "evaluator_slugs",
                 "evaluator_workflow_ids", "span_workflow_name", "batch_size", "concurrency",
                 "enable_tracing", "generation_method", "error_message")
LEGACY_STEP_TYPES = {"evaluator": "eval"}


@dataclass(frozen=True)
class Catalog:
    """What an organization owns that experiments refer to."""

    datasets: Mapping[str, str]  # id -> name
    evaluators: frozenset[str]
    evaluator_workflow_versions: frozenset[str]


# -- requests -> changes ----------------------------------------------------------------------------

def normalize_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body as changes to stored fields: alias resolved, legacy step types renamed.

    `evaluator_ids` wins over `evaluator_slugs`; slugs alone are taken as ids. The slugs are never
    stored: responses derive them from the ids.
    """
    changes = dict(body)
    slugs = changes.pop("evaluator_slugs", None)
    if "evaluator_ids" not in changes and slugs is not None:
        changes["evaluator_ids"] = slugs
    if "workflow" in changes:
        changes["workflow"] = [normalize_step(step) for step in changes["workflow"]]
    changes.pop("experiment_id", None)
    return changes


def normalize_step(step: Mapping[str, Any]) -> dict[str, Any]:
    kind = step["type"]
    return {**step, "type": LEGACY_STEP_TYPES.get(kind, kind)}


def check_body_id(path_id: str, body: Mapping[str, Any]) -> None:
    """A body may repeat the experiment's id but never change it."""
    if "experiment_id" in body and body["experiment_id"] != path_id:
        raise InvalidValue("experiment_id", f"Must equal the experiment's id '{path_id}'; ids never change.")


def missing_references(changes: Mapping[str, Any], catalog: Catalog) -> list[tuple[str, str]]:
    missing: list[tuple[str, str]] = []
    if "dataset_id" in changes and changes["dataset_id"] not in catalog.datasets:
        missing.append(("Dataset", changes["dataset_id"]))
    missing += [("Evaluator", ref) for ref in changes.get("evaluator_ids", ())
                if ref not in catalog.evaluators]
    missing += [("Evaluator workflow version", ref) for ref in changes.get("evaluator_workflow_ids", ())
                if ref not in catalog.evaluator_workflow_versions]
    return missing


def check_references(changes: Mapping[str, Any], catalog: Catalog) -> None:
    missing = missing_references(changes, catalog)
    if missing:
        raise UnknownReferences(missing)


# -- experiments -----------------------------------------------------------------------------------

def new_experiment_id() -> str:
    return uuid.uuid4().hex


def default_name(experiment_id: str) -> str:
    return f"experiment-{experiment_id[:8]}"


def blank_experiment(experiment_id: str, *, now: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A `pending` experiment with every stored field at its default (no scoring path yet)."""
    return {
        "id": experiment_id,
        "name": default_name(experiment_id),
        "description": None,
        "status": "pending",
        "progress": 0,
        "created_at": now,
        "started_at": None,
        "completed_at": None,
        "error_message": None,
        "tags": [],
        "evaluator_ids": [],
        "evaluator_workflow_ids": [],
        "generation_method": None,
        **defaults,
    }


def new_experiment(changes: Mapping[str, Any], *, experiment_id: str, now: str,
                   defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A `pending` experiment built from a create request's normalized changes."""
    return apply_changes(blank_experiment(experiment_id, now=now, defaults=defaults), changes)


def apply_changes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with `changes` merged in; sending one scoring path clears the other.

    Raises when the result would not have exactly one scoring path (the schema already refuses
    every request that could cause this; the check keeps the stored world sound regardless).
    """
    merged = {**current, **changes}
    if changes.get("evaluator_ids"):
        merged["evaluator_workflow_ids"] = []
    elif changes.get("evaluator_workflow_ids"):
        merged["evaluator_ids"] = []
    if bool(merged["evaluator_ids"]) == bool(merged["evaluator_workflow_ids"]):
        raise InvalidValue("non_field_errors",
                           "An experiment needs exactly one non-empty scoring path: evaluator_ids "
                           "(or evaluator_slugs) or evaluator_workflow_ids.")
    return merged


def replacement_changes(changes: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """PUT: a field with a documented default that the request omits goes back to the default."""
    return {**defaults, **changes}


def locked_fields(current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """Execution fields that `changes` would change while the experiment runs."""
    if not lifecycle.is_locked(current["status"]):
        return []
    return [name for name in EXECUTION_FIELDS
            if name in changes and changes[name] != current.get(name)]


def check_not_locked(current: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
    fields = locked_fields(current, changes)
    if fields:
        raise RunningLocked(fields)


def plan_update(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The experiment after a PATCH or PUT with these normalized changes (the lock checked first)."""
    check_not_locked(current, changes)
    return apply_changes(current, changes)


def present(record: Mapping[str, Any], catalog: Catalog, *, detail: bool = True) -> dict[str, Any]:
    """The experiment as the API shows it: stored fields plus the derived ones."""
    dataset_id = record.get("dataset_id")
    shown = {
        **record,
        "dataset": dataset_id,
        "dataset_name": catalog.datasets.get(dataset_id) if dataset_id else None,
        "workflow_count": len(record.get("workflow") or ()),
        "evaluator_slugs": list(record.get("evaluator_ids") or ()),
    }
    return {name: shown.get(name) for name in (DETAIL_FIELDS if detail else LIST_ITEM_FIELDS)}


# -- lists -----------------------------------------------------------------------------------------

_parse_time = lifecycle.parse_time


def _matches(actual: Any, operator: str, expected: Any, *, is_time: bool) -> bool:
    if isinstance(expected, list) and operator not in ("in", "isnull"):
        # The vendor's filter format writes every value as a list: it matches when any value does,
        # and `not` when none is equal.
        if operator == "not":
            return all(_matches(actual, operator, one, is_time=is_time) for one in expected)
        return any(_matches(actual, operator, one, is_time=is_time) for one in expected)
    if operator == "isnull":
        return (actual is None) == bool(expected)
    if actual is None:
        return operator == "not"
    if is_time:
        actual = _parse_time(actual)
    if operator == "":
        return bool(actual == expected)
    if operator == "not":
        return bool(actual != expected)
    if operator == "in":
        return actual in expected
    if operator == "iexact":
        return str(actual).casefold() == str(expected).casefold()
    if operator == "contains":
        return str(expected) in str(actual)
    if operator == "icontains":
        return str(expected).casefold() in str(actual).casefold()
    if operator == "startswith":
        return str(actual).startswith(str(expected))
    if operator == "endswith":
        return str(actual).endswith(str(expected))
    comparisons = {"lt": operator_module.lt, "lte": operator_module.le, "gt": operator_module.gt,
                   "gte": operator_module.ge}
    return bool(comparisons[operator](actual, expected))


TIME_FIELDS = frozenset({"created_at"})
# Filter fields that name a stored field under another name (the vendor's `dataset` is the dataset id).
FILTER_FIELDS = {"dataset": "dataset_id"}


def filter_experiments(records: Iterable[Mapping[str, Any]],
                       filters: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The records that match every `{field: {operator, value}}` condition (Django lookup semantics).

    A date-time value the schema let through but that cannot be read as one is a 400 naming it.
    """
    conditions = [(field, cond["operator"], _expected(field, cond)) for field, cond in filters.items()]
    return [record for record in records
            if all(_matches(record.get(FILTER_FIELDS.get(field, field)), operator, expected,
                            is_time=field in TIME_FIELDS)
                   for field, operator, expected in conditions)]


def _expected(field: str, condition: Mapping[str, Any]) -> Any:
    value = condition["value"]
    if field not in TIME_FIELDS or condition["operator"] == "isnull":
        return value
    where = f"filters.{field}.value"
    if isinstance(value, list):
        return [_time_value(item, f"{where}.{index}") for index, item in enumerate(value)]
    return _time_value(value, where)


def _time_value(value: Any, where: str) -> Any:
    try:
        return _parse_time(value)
    except ValueError:
        raise InvalidValue(where, "Datetime has wrong format. Use RFC 3339, e.g. 2026-11-02T09:14:03Z.") from None


def sort_experiments(records: Iterable[Mapping[str, Any]], sort_by: str) -> list[Mapping[str, Any]]:
    """`records` (given oldest first, as the store keeps them) ordered by `sort_by` (`name`,
    `-created_at`, …); ties keep the order of creation, newest first when descending."""
    key = sort_by.lstrip("-")
    descending = sort_by.startswith("-")
    numbered = list(enumerate(records))
    if key == "created_at":
        ordered = sorted(numbered, key=lambda p: (_parse_time(p[1]["created_at"]), p[0]), reverse=descending)
    else:
        ordered = sorted(numbered, key=lambda p: (p[1][key].casefold(), p[1][key], p[0]), reverse=descending)
    return [record for _, record in ordered]


@dataclass(frozen=True)
class Page:
    items: list[Mapping[str, Any]]
    count: int
    has_next: bool
    has_previous: bool


def paginate(records: Sequence[Mapping[str, Any]], page: int, page_size: int) -> Page:
    start = (page - 1) * page_size
    return Page(items=list(records[start:start + page_size]), count=len(records),
                has_next=start + page_size < len(records), has_previous=page > 1 and len(records) > 0)
