"""What a successful write must show, compared field by field: one implementation for the suite's checks
(`checks.py`, rule tests) and the validating proxy (`attribution.exchange_rules`).

Experiments are compared on the fields the docs name only (`fields`), and a field only where the response
shows it (the vendor makes all but id, name, status and created_at optional); a workflow step is cut to the
keys the docs name (`keys`: `type`, `config`) and compared by the config keys that were sent (a server may
fill in the documented completion defaults). The callers read `fields` and `keys` from the spec
(`Assumptions.documented_fields`, `Assumptions.step_keys`).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from .diff import differences

Mismatches = list[tuple[str, str, str]]  # (field path, expected, got), as `diff.differences` gives them
# A real backend may start running an experiment at any moment; these follow the run, not the write.
LIFECYCLE_FIELDS = frozenset({"status", "progress", "started_at", "completed_at", "error_message"})
WRITE_OPERATIONS = frozenset({"createExperiment", "updateExperiment", "replaceExperiment"})
SCORING = ("evaluator_ids", "evaluator_workflow_ids")  # the two scoring paths (evaluator_slugs aliases the first)


def cleared(value: Any) -> bool:
    """Whether a scoring path shows as cleared: an empty list, or null."""
    return value in ([], None)


def documented_expectation(expected: dict[str, Any]) -> dict[str, Any]:
    """What a write documents of the fields sent: `null` on a field is no documented value (that null clears
    `description` is our choice, `null-clears-only-description`)."""
    return {name: value for name, value in expected.items() if value is not None}


def trimmed(value: Any) -> Any:
    """`value` with every string stripped of surrounding whitespace (what a server may normalize)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [trimmed(v) for v in value]
    if isinstance(value, dict):
        return {k: trimmed(v) for k, v in value.items()}
    return value


def legacy_step_types(workflow: Any) -> Any:
    """The workflow as stored: the legacy step type `evaluator` is `eval`."""
    if not isinstance(workflow, list):
        return workflow
    return [{**step, "type": "eval" if step.get("type") == "evaluator" else step.get("type")}
            if isinstance(step, dict) else step for step in workflow]


def documented_steps(workflow: Any, keys: Set[str]) -> Any:
    """The workflow with each step cut to the keys the docs name: a key a deployment adds beside them (a
    `step_uid`) is a field the docs do not name, ignored like any other. A key added inside a config is
    kept: that is the server filling something in (`workflow-echoed-exactly`)."""
    if not isinstance(workflow, list):
        return workflow
    return [{k: v for k, v in step.items() if k in keys} if isinstance(step, dict) else step for step in workflow]


def configuration(experiment: dict[str, Any], fields: Set[str], keys: Set[str]) -> dict[str, Any]:
    """The documented fields of an experiment that a write sets (not those that follow its run)."""
    return {k: documented_steps(v, keys) if k == "workflow" else v
            for k, v in experiment.items() if k in fields and k not in LIFECYCLE_FIELDS}


def expected_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What a successful write of `body` must show for the fields it sent, field by field."""
    expected = {k: v for k, v in body.items() if k not in ("experiment_id", "evaluator_slugs", "workflow")}
    if "evaluator_ids" not in body and "evaluator_slugs" in body:
        expected["evaluator_ids"] = body["evaluator_slugs"]
    if isinstance(body.get("workflow"), list):
        expected["workflow"] = legacy_step_types(body["workflow"])
        expected["workflow_count"] = len(body["workflow"])
    if "dataset_id" in body:
        expected["dataset"] = body["dataset_id"]
    return expected


def workflow_differences(sent: Any, shown: Any, keys: Set[str], *, exact: bool = False) -> Mismatches:
    """How a shown workflow differs from the one sent, judged step by step on what was sent: the step
    types, and each config key sent (a server may add keys, e.g. the documented completion defaults)."""
    def same(a: Any, b: Any) -> bool:
        return bool(a == b) if exact else bool(trimmed(a) == trimmed(b))

    sent, shown = legacy_step_types(documented_steps(sent, keys)), documented_steps(shown, keys)
    if not (isinstance(sent, list) and isinstance(shown, list) and len(sent) == len(shown)):
        return differences(sent, shown, "workflow")
    found: Mismatches = []
    for index, (step, got) in enumerate(zip(sent, shown, strict=True)):
        where = f"workflow[{index}]"
        if not (isinstance(step, dict) and isinstance(got, dict)):
            found += [] if same(step, got) else differences(step, got, where)
            continue
        if got.get("type") != step.get("type"):
            found += differences(step.get("type"), got.get("type"), f"{where}.type")
        config, shown_config = step.get("config"), got.get("config")
        if not (isinstance(config, dict) and isinstance(shown_config, dict)):
            found += [] if same(config, shown_config) else differences(config, shown_config, f"{where}.config")
            continue
        for key, value in config.items():
            if key not in shown_config or not same(shown_config[key], value):
                found += differences({key: value}, {k: v for k, v in shown_config.items() if k == key},
                                     f"{where}.config")
    return found


def field_mismatches(expected: dict[str, Any], shown: dict[str, Any], fields: Set[str], keys: Set[str], *,
                     exact: bool) -> Mismatches:
    """Fields shown otherwise than expected; a field the response leaves out is not compared (the vendor
    makes every response field but id, name, status and created_at optional), nor one the docs do not name."""
    def same(a: Any, b: Any) -> bool:
        return bool(a == b) if exact else bool(trimmed(a) == trimmed(b))

    found: Mismatches = []
    for name, value in expected.items():
        if name not in shown or name not in fields:
            continue
        if name == "workflow":
            found += workflow_differences(value, shown[name], keys, exact=exact)
        elif not same(shown[name], value):
            found += differences(value, shown[name], name)
    return found
