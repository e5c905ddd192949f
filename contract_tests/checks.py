"""Custom Schemathesis checks: the rules of writes that a response schema cannot say.

They run on every generated create, PATCH and PUT that succeeded, and only on the response to
that request (Schemathesis also hands checks the answers to the extra requests its own checks
send, such as an OPTIONS; those are not writes). They compare experiments on the fields the docs
name only (`spec_facts.documented_fields`), and a field only where the response shows it (the
vendor makes all but id, name, status and created_at optional):
* `write_applies_fields` (documented): every field sent is what the response shows (after the
  `evaluator_slugs` alias and the legacy `evaluator` step type), strings compared without the
  whitespace a server may trim, a workflow step by the keys of its config that were sent (a
  server may fill in the documented completion defaults); derived fields follow the data;
* `writes_store_strings_exactly` (assumption `strict-input-validation`): strings come back exactly
  as sent;
* `workflow_echoed_exactly` (assumption `workflow-echoed-exactly`): the workflow comes back as sent,
  nothing filled in (inside the steps' configs; a key beside `type` and `config` is ignored);
* `slugs_mirror_ids` (assumption `slugs-mirror-ids`): `evaluator_slugs` comes back equal to
  `evaluator_ids`;
* `scoring_switch_clears_other_path` (assumption `scoring-path-switch`): sending one scoring path
  clears the other;
* `put_restores_defaults` (assumption `put-restores-defaults`): a PUT puts omitted defaulted
  fields back to their defaults;
* `read_your_writes` (documented): a GET of the experiment right after returns what the write
  returned (the documented fields both show).
Which checks are documented and which rest on an assumption is in `findings.CHECK_ASSUMPTIONS`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis

from .diff import differences, lines
from .spec_facts import defaults, documented_fields, operation_ids, request_validator, step_keys

WRITE_OPERATIONS = frozenset({"createExperiment", "updateExperiment", "replaceExperiment"})
# A real backend may start running an experiment at any moment; these follow the run, not the write.
LIFECYCLE_FIELDS = frozenset({"status", "progress", "started_at", "completed_at", "error_message"})
SCORING = ("evaluator_ids", "evaluator_workflow_ids")
Mismatches = list[tuple[str, str, str]]  # (field path, expected, got), as `diff.differences` gives them


def operation_id_of(method: str, path: str) -> str | None:
    """The operationId of a request by its method and path template."""
    return operation_ids().get((method.upper(), path))


def configuration(experiment: dict[str, Any]) -> dict[str, Any]:
    """The documented fields of an experiment that a write sets (not those that follow its run), its
    workflow's steps cut to the keys the docs name."""
    fields = documented_fields()
    return {k: documented_steps(v) if k == "workflow" else v
            for k, v in experiment.items() if k in fields and k not in LIFECYCLE_FIELDS}


def documented_steps(workflow: Any) -> Any:
    """The workflow with each step cut to the keys the docs name (`type`, `config`): a key a deployment
    adds beside them (a `step_uid`) is a field the docs do not name, ignored like any other. A key added
    inside a config is kept: that is the server filling something in (`workflow-echoed-exactly`)."""
    if not isinstance(workflow, list):
        return workflow
    keys = step_keys()
    return [{k: v for k, v in step.items() if k in keys} if isinstance(step, dict) else step for step in workflow]


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


def workflow_differences(sent: Any, shown: Any, *, exact: bool = False) -> Mismatches:
    """How a shown workflow differs from the one sent, judged step by step on what was sent: the step
    types, and each config key sent (a server may add keys, e.g. the documented completion defaults)."""
    def same(a: Any, b: Any) -> bool:
        return bool(a == b) if exact else bool(trimmed(a) == trimmed(b))

    sent, shown = legacy_step_types(documented_steps(sent)), documented_steps(shown)
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


def field_mismatches(expected: dict[str, Any], shown: dict[str, Any], *, exact: bool) -> Mismatches:
    """Fields shown otherwise than expected; a field the response leaves out is not compared (the vendor
    makes every response field but id, name, status and created_at optional), nor one the docs do not name."""
    def same(a: Any, b: Any) -> bool:
        return bool(a == b) if exact else bool(trimmed(a) == trimmed(b))

    fields = documented_fields()
    found: Mismatches = []
    for name, value in expected.items():
        if name not in shown or name not in fields:
            continue
        if name == "workflow":
            found += workflow_differences(value, shown[name], exact=exact)
        elif not same(shown[name], value):
            found += differences(value, shown[name], name)
    return found


def _written(case: Any, response: Any) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """(operationId, body sent, experiment shown) when this response answers a successful write of a
    valid body (what a server makes of an invalid body it accepted is no documented matter: that it
    accepted it at all is negative_data_rejection's finding)."""
    operation_id = operation_id_of(case.method, case.path)
    if operation_id not in WRITE_OPERATIONS or response.request.method.upper() != case.method.upper():
        return None
    if not 200 <= response.status_code < 300 or not isinstance(case.body, dict):
        return None
    if not request_validator(operation_id).is_valid(case.body):
        return None
    try:
        shown = json.loads(response.content)
    except ValueError:
        return None
    return (operation_id, case.body, shown) if isinstance(shown, dict) else None


def _fail(title: str, mismatches: Mismatches) -> None:
    raise AssertionError(title + "\n" + "\n".join(f"  {line}" for line in lines(mismatches)))


def write_applies_fields(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    mismatches = field_mismatches(expected_fields(body), shown, exact=False)
    if mismatches:
        _fail("The write did not apply the fields sent:", mismatches)
    return True


def writes_store_strings_exactly(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    mismatches = field_mismatches(expected_fields(body), shown, exact=True)
    if mismatches:
        _fail("Strings did not come back exactly as sent:", mismatches)
    return True


def workflow_echoed_exactly(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None or "workflow" not in written[1] or "workflow" not in written[2]:
        return None
    _, body, shown = written
    sent = legacy_step_types(documented_steps(trimmed(body["workflow"])))
    got = documented_steps(trimmed(shown["workflow"]))
    if got != sent:
        _fail("The workflow did not come back as sent:", differences(sent, got, "workflow"))
    return True


def slugs_mirror_ids(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None or "evaluator_slugs" not in written[2] or "evaluator_ids" not in written[2]:
        return None
    shown = written[2]
    if shown["evaluator_slugs"] != shown["evaluator_ids"]:
        _fail("evaluator_slugs did not mirror evaluator_ids:",
              differences(shown["evaluator_ids"], shown["evaluator_slugs"], "evaluator_slugs"))
    return True


def _cleared(value: Any) -> bool:
    return value in ([], None)


def scoring_switch_clears_other_path(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    sent = expected_fields(body)
    for path, other in (SCORING, SCORING[::-1]):
        if sent.get(path) and other not in sent and other in shown and not _cleared(shown[other]):
            _fail("Sending one scoring path did not clear the other:", differences([], shown[other], other))
    return True


def put_restores_defaults(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None or written[0] != "replaceExperiment":
        return None
    _, body, shown = written
    mismatches = [entry for name, default in defaults().items() if name not in body and name in shown
                  and shown[name] != default for entry in differences(default, shown[name], name)]
    if mismatches:
        _fail("PUT did not put omitted fields back to their defaults:", mismatches)
    return True


def read_your_writes(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None or not isinstance(written[2].get("id"), str):
        return None
    operation_id, _, shown = written
    url = response.request.url.split("?")[0]
    if operation_id == "createExperiment":
        url = url.rstrip("/") + f"/{shown['id']}/"
    headers = {k: v for k, v in response.request.headers.items() if k.lower() == "authorization"}
    read = httpx.get(url, headers=headers, timeout=30)
    try:
        again = read.json()
    except ValueError:
        again = None
    if not 200 <= read.status_code < 300 or not isinstance(again, dict):
        raise AssertionError(f"Read-your-writes: GET {url} right after {case.method} answered {read.status_code}\n"
                             f"read: {read.text[:2000]}")
    written_fields, read_fields = configuration(shown), configuration(again)
    both = written_fields.keys() & read_fields.keys()
    mismatches = differences({k: written_fields[k] for k in sorted(both)}, {k: read_fields[k] for k in sorted(both)})
    if mismatches:
        _fail(f"Read-your-writes: GET {url} right after {case.method} shows otherwise than the write answered "
              "(expected = the write's answer, got = the GET's):", mismatches)
    return True


CHECKS = (write_applies_fields, writes_store_strings_exactly, workflow_echoed_exactly, slugs_mirror_ids,
          scoring_switch_clears_other_path, put_restores_defaults, read_your_writes)


def register() -> None:
    """Make the checks known to Schemathesis (idempotent: the hooks module calls it on import)."""
    for check in CHECKS:
        schemathesis.check(check)
