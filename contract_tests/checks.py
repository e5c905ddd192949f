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
Which checks are documented and which rest on an assumption is in `attribution.CHECK_ASSUMPTIONS`;
the validating proxy judges the same rules on each exchange (`attribution.exchange_rules`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis

from . import write_rules
from .diff import differences, lines
from .spec_facts import defaults, documented_fields, operation_ids, request_validator, step_keys
from .write_rules import LIFECYCLE_FIELDS as LIFECYCLE_FIELDS
from .write_rules import SCORING, WRITE_OPERATIONS, Mismatches, cleared, documented_expectation
from .write_rules import expected_fields as expected_fields
from .write_rules import legacy_step_types as legacy_step_types
from .write_rules import trimmed as trimmed


def operation_id_of(method: str, path: str) -> str | None:
    """The operationId of a request by its method and path template."""
    return operation_ids().get((method.upper(), path))


def configuration(experiment: dict[str, Any]) -> dict[str, Any]:
    """The documented fields of an experiment that a write sets, its steps cut to the keys the docs name."""
    return write_rules.configuration(experiment, documented_fields(), step_keys())


def documented_steps(workflow: Any) -> Any:
    """The workflow with each step cut to the keys the docs name (`write_rules.documented_steps`)."""
    return write_rules.documented_steps(workflow, step_keys())


def workflow_differences(sent: Any, shown: Any, *, exact: bool = False) -> Mismatches:
    """How a shown workflow differs from the one sent (`write_rules.workflow_differences`)."""
    return write_rules.workflow_differences(sent, shown, step_keys(), exact=exact)


def field_mismatches(expected: dict[str, Any], shown: dict[str, Any], *, exact: bool) -> Mismatches:
    """Fields shown otherwise than expected, on the documented fields shown (`write_rules.field_mismatches`)."""
    return write_rules.field_mismatches(expected, shown, documented_fields(), step_keys(), exact=exact)


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
    mismatches = field_mismatches(documented_expectation(expected_fields(body)), shown, exact=False)
    if mismatches:
        _fail("The write did not apply the fields sent:", mismatches)
    return True


def writes_store_strings_exactly(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    mismatches = field_mismatches(documented_expectation(expected_fields(body)), shown, exact=True)
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


def scoring_switch_clears_other_path(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    sent = expected_fields(body)
    for path, other in (SCORING, SCORING[::-1]):
        if sent.get(path) and other not in sent and other in shown and not cleared(shown[other]):
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
