"""Custom Schemathesis checks: the rules of writes that a response schema cannot say.

They run on every generated create, PATCH and PUT that succeeded, and only on the response to
that request (Schemathesis also hands checks the answers to the extra requests its own checks
send, such as an OPTIONS; those are not writes):
* `write_applies_fields` (documented): every field sent is what the response shows (after the
  `evaluator_slugs` alias and the legacy `evaluator` step type), strings compared without the
  whitespace a server may trim; derived fields follow the data;
* `writes_store_strings_exactly` (assumption `strict-input-validation`): strings come back exactly
  as sent;
* `scoring_switch_clears_other_path` (assumption `scoring-path-switch`): sending one scoring path
  clears the other;
* `put_restores_defaults` (assumption `put-restores-defaults`): a PUT puts omitted defaulted
  fields back to their defaults;
* `read_your_writes` (documented): a GET of the experiment right after returns what the write
  returned.
Which checks are documented and which rest on an assumption is in `attribution.CHECK_ASSUMPTIONS`;
the validating proxy judges the same rules on each exchange (`attribution.exchange_rules`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis

from . import attribution
from .attribution import expected_fields as expected_fields  # the rules of one exchange, shared with the proxy
from .attribution import trimmed as trimmed
from .spec_facts import defaults, operation_ids, request_validator, response_required

WRITE_OPERATIONS = frozenset({"createExperiment", "updateExperiment", "replaceExperiment"})
# A real backend may start running an experiment at any moment; these follow the run, not the write.
LIFECYCLE_FIELDS = frozenset({"status", "progress", "started_at", "completed_at", "error_message"})
SCORING = ("evaluator_ids", "evaluator_workflow_ids")


def operation_id_of(method: str, path: str) -> str | None:
    """The operationId of a request by its method and path template."""
    return operation_ids().get((method.upper(), path))


def configuration(experiment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in experiment.items() if k not in LIFECYCLE_FIELDS}


def field_mismatches(expected: dict[str, Any], shown: dict[str, Any], *, exact: bool) -> dict[str, tuple[Any, Any]]:
    """Fields shown otherwise than expected (a field the response may leave out is compared only when shown)."""
    return attribution.field_mismatches(expected, shown, exact=exact, required=response_required())


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


def _fail(title: str, mismatches: dict[str, tuple[Any, Any]]) -> None:
    lines = [f"  {name}: sent/expected {exp!r}, shown {got!r}" for name, (exp, got) in mismatches.items()]
    raise AssertionError(title + "\n" + "\n".join(lines))


def write_applies_fields(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    mismatches = field_mismatches(expected_fields(body), shown, exact=False)
    if shown.get("evaluator_slugs") != shown.get("evaluator_ids"):
        mismatches["evaluator_slugs"] = (shown.get("evaluator_ids"), shown.get("evaluator_slugs"))
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


def scoring_switch_clears_other_path(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None:
        return None
    _, body, shown = written
    sent = expected_fields(body)
    for path, other in (SCORING, SCORING[::-1]):
        if sent.get(path) and other not in sent and shown.get(other) != []:
            _fail("Sending one scoring path did not clear the other:", {other: ([], shown.get(other))})
    return True


def put_restores_defaults(ctx: Any, response: Any, case: Any) -> bool | None:
    written = _written(case, response)
    if written is None or written[0] != "replaceExperiment":
        return None
    _, body, shown = written
    mismatches = {name: (default, shown.get(name)) for name, default in defaults().items()
                  if name not in body and (name in shown or name in response_required()) and shown.get(name) != default}
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
    if read.status_code != 200 or not isinstance(again, dict) or configuration(again) != configuration(shown):
        raise AssertionError(
            f"Read-your-writes: GET {url} right after {case.method} answered {read.status_code}\n"
            f"written: {json.dumps(shown, sort_keys=True)[:500]}\n"
            f"read:    {read.text[:500]}")
    return True


CHECKS = (write_applies_fields, writes_store_strings_exactly, scoring_switch_clears_other_path,
          put_restores_defaults, read_your_writes)


def register() -> None:
    """Make the checks known to Schemathesis (idempotent: the hooks module calls it on import)."""
    for check in CHECKS:
        schemathesis.check(check)
