"""Judging one exchange against the contract: each difference a violation or a refuted assumption.

The one implementation of attribution, used by the contract suite (`findings.py` turns each failed
Schemathesis check into an `Exchange` and asks `classify_check`) and by the validating proxy
(`mock_server/proxy.py` asks `judge_request` before forwarding and `judge_exchange` when the
upstream has answered). It needs no Schemathesis, pytest or network: only the spec, read through
`assumptions.Assumptions`, and the exchange as bytes.

* `classify_check`: (kind, assumption id, why) of a check that failed on an exchange (the suite's view:
  one verdict per failed check);
* `judge_request`, `judge_response`, `judge_exchange`: every difference as a `ContractFinding` (the
  proxy's view: one finding per broken keyword or rule, each with its spec location), including the
  rules of one exchange that a schema cannot say (`exchange_rules`).

Why it lives in `contract_tests` and the proxy imports it: the rules of judgement are the suite's,
and the mock never decides what is documented. The import goes one way (`mock_server.proxy` ->
`contract_tests.attribution` -> `contract_tests.assumptions` -> `mock_server.spec`), no module of
the mock's request line imports it, and it needs only the mock's own dependencies, so the base
install (which ships both packages) runs the proxy without the `[contract]` extra.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.spec import json_pointer

from . import write_rules
from .assumptions import RESPONSE_SHAPES, STRICT_INPUT, UNKNOWN_FIELDS, VALUE_BOUNDS, Assumptions, marks

VIOLATION = "violation"
ASSUMPTION = "assumption"
IGNORED = "ignored"  # what a check reported that the contract allows
KIND_NAMES = {VIOLATION: "violation", ASSUMPTION: "refuted assumption"}
# Checks whose failure refutes an assumption rather than breaking the documented contract;
# the ones that need the request or response to decide are classified by `classify_check`.
CHECK_ASSUMPTIONS = {
    "writes_store_strings_exactly": STRICT_INPUT,
    "workflow_echoed_exactly": "workflow-echoed-exactly",
    "slugs_mirror_ids": "slugs-mirror-ids",
    "positive_data_acceptance": STRICT_INPUT,
    "scoring_switch_clears_other_path": "scoring-path-switch",
    "put_restores_defaults": "put-restores-defaults",
    "unsupported_method": "method-not-allowed",
    "allow_header_conformance": "method-not-allowed",
}
DEFAULT_IDS = frozenset({STRICT_INPUT, RESPONSE_SHAPES, VALUE_BOUNDS, UNKNOWN_FIELDS})
ATTRIBUTION_LIMIT = 5000  # errors attributed per body at most (the validator's work is bounded by the schema)
PAGED_OPERATIONS = frozenset({"listExperiments", "listExperimentsPage", "filterExperiments"})
NO_JSON = object()  # a body that is there but is not JSON


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as bytes and plain values (no HTTP library's objects).

    `query` maps each query parameter to its value (a list when it was repeated); header names are
    lower-case. `status` 0 means no answer (yet): only the request can be judged."""

    operation_id: str | None
    method: str = "GET"
    path_params: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: bytes | None = None
    status: int = 0
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes | None = None


@dataclass(frozen=True)
class ContractFinding:
    """One difference between an exchange and the contract."""

    kind: str  # VIOLATION | ASSUMPTION
    direction: str  # "request" (what the client sent) | "response" (what the upstream answered)
    rule: str  # the check or rule broken (`response_schema_conformance`, `write_applies_fields`, …)
    message: str
    assumption: str | None = None  # the assumption id a refuted assumption rests on
    field: str | None = None  # the field path, when one field is concerned
    pointer: str = ""  # JSON pointer into the spec: the failing keyword, or the operation
    where: str = ""  # `openapi.yaml:LINE (#/pointer)`: for an assumption its mark (the line to change)

    def as_json(self) -> dict[str, Any]:
        return {"kind": KIND_NAMES[self.kind], "direction": self.direction, "rule": self.rule,
                "assumption": self.assumption, "field": self.field, "message": self.message,
                "spec": self.pointer, "where": self.where}


@dataclass(frozen=True)
class _Attributed:
    """One error of a validated instance and the assumption it rests on (None: documented)."""

    field: str
    message: str
    assumption: str | None
    pointer: tuple[str, ...]


# -- one failed check (the suite's view) ---------------------------------------------------------

def classify_check(check: str, exchange: Exchange, assumptions: Assumptions) -> tuple[str, str | None, str]:
    """(kind, assumption id, why) of one failed check."""
    status = exchange.status
    if status >= 500:
        return VIOLATION, None, "a server error is never part of the contract"
    operation_id = exchange.operation_id
    if check in CHECK_ASSUMPTIONS:
        return ASSUMPTION, CHECK_ASSUMPTIONS[check], ""
    if check == "negative_data_rejection":
        if 400 <= status < 500:
            # Refused after all, with a status Schemathesis does not count as a refusal (413 …).
            documented_status = operation_id is not None and assumptions.response(operation_id, status) is not None
            return (IGNORED, None, "") if documented_status else (ASSUMPTION, "error-statuses", "")
        found, documented = request_attribution(exchange, assumptions)
        if documented:
            return VIOLATION, None, "documented rules the accepted request breaks: " + "; ".join(documented)
        return ASSUMPTION, found, ""
    if check == "status_code_conformance":
        kind, status_assumption = status_attribution(operation_id, status, exchange.query)
        return kind, status_assumption, ""
    if check == "response_schema_conformance":
        shape_assumption, documented = response_attribution(operation_id, status, exchange.response_body,
                                                             assumptions)
        if documented:
            return VIOLATION, None, "documented shape broken: " + "; ".join(documented)
        if shape_assumption is None:
            return IGNORED, None, ""  # only fields the docs do not name
        return ASSUMPTION, shape_assumption, ""
    if check == "content_type_conformance" and 400 <= status < 500:
        # The vendor types its error bodies as anything; that they are JSON is our choice.
        return ASSUMPTION, "error-bodies", ""
    if check == "response_headers_conformance":
        documented_headers = (assumptions.response(operation_id, status) or {}).get("headers") or {} \
            if operation_id else {}
        marked = [m for header in documented_headers.values() for m in marks(header)]
        return (ASSUMPTION, marked[0], "") if marked else (VIOLATION, None, "")
    return VIOLATION, None, ""


def request_attribution(exchange: Exchange, assumptions: Assumptions) -> tuple[str, list[str]]:
    """The assumption an accepted invalid request rests on, and the documented rules it breaks."""
    if exchange.operation_id is None:
        return STRICT_INPUT, []
    errors = _request_errors(exchange, assumptions)
    found = [e.assumption for e in errors if e.assumption is not None]
    documented = [f"{e.field}: {e.message}" for e in errors if e.assumption is None]
    return (found[0] if found else STRICT_INPUT), documented


def status_attribution(operation_id: str | None, status: int, query: Mapping[str, Any]) -> tuple[str, str | None]:
    """(kind, assumption id) of a status the operation does not document."""
    if 200 <= status < 300:
        # The vendor documents success, not its number (its SDK takes any 2xx).
        return ASSUMPTION, "create-status-201" if operation_id == "createExperiment" else "success-statuses"
    if 400 <= status < 500:
        if operation_id in PAGED_OPERATIONS and status == 404 and "page" in query:
            return ASSUMPTION, "page-past-end-empty"
        return ASSUMPTION, "error-statuses"
    return VIOLATION, None


def response_attribution(operation_id: str | None, status: int, body: bytes | None,
                         assumptions: Assumptions) -> tuple[str | None, list[str]]:
    """The assumption a response that breaks its schema rests on, and the documented rules it breaks."""
    schema = assumptions.response_schema(operation_id, status) if operation_id else None
    if schema is None:
        if 200 <= status < 300:
            return ("create-status-201" if operation_id == "createExperiment" else "success-statuses"), []
        return ("error-statuses", []) if 400 <= status < 500 else (None, ["the status has no documented response"])
    value = json_body(body)
    if value is NO_JSON:
        return None, ["the body is not JSON"]
    errors = _response_errors(operation_id or "", status, schema, value, assumptions)
    if errors is None:
        # Schemathesis and our validator disagree (e.g. on a format): nothing documented is shown broken.
        return RESPONSE_SHAPES, []
    found = [e.assumption for e in errors if e.assumption is not None]
    documented = [f"{e.field}: {e.message}" for e in errors if e.assumption is None]
    return (found[0] if found else None), documented


# -- every difference of one exchange (the proxy's view) -----------------------------------------

def judge_request(exchange: Exchange, assumptions: Assumptions) -> list[ContractFinding]:
    """What the request breaks: credentials absent, media type, body and parameters against the spec."""
    operation_id = exchange.operation_id
    if operation_id is None:
        return []
    found: list[ContractFinding] = []
    operation = assumptions.operations[operation_id]
    op_pointer = assumptions.contract.operation_pointer(operation_id)
    secured = operation.get("security", assumptions.contract.document.get("security")) or []
    if secured and not exchange.request_headers.get("authorization", "").strip():
        found.append(_violation("request", "credentials_required", "The operation needs a bearer token and the "
                                "request carries no Authorization header.", (*op_pointer, "security"),
                                assumptions))
    body = exchange.request_body
    media_types = _request_media_types(assumptions, operation_id)
    if body:
        content_type = exchange.request_headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_types and content_type not in media_types:
            found.append(_violation("request", "request_media_type",
                                    f"The body is sent as {content_type or 'no Content-Type'!r}; the operation "
                                    f"takes {', '.join(sorted(media_types))}.", (*op_pointer, "requestBody"),
                                    assumptions))
        elif json_body(body) is NO_JSON:
            found.append(_violation("request", "request_body_json", "The body is not JSON.",
                                    (*op_pointer, "requestBody"), assumptions))
    for error in _request_errors(exchange, assumptions):
        found.append(_finding(error, "request", "request_schema", assumptions))
    return found


def judge_response(exchange: Exchange, assumptions: Assumptions,
                   request_findings: Iterable[ContractFinding] = ()) -> list[ContractFinding]:
    """What the answer breaks: status, content type, body, documented headers; an accepted request
    that breaks a documented rejection."""
    operation_id, status = exchange.operation_id, exchange.status
    if operation_id is None or not status:
        return []
    op_pointer = assumptions.contract.operation_pointer(operation_id)
    if status >= 500:
        return [_violation("response", "not_a_server_error", f"The upstream answered {status}: a server error is "
                           "never part of the contract.", op_pointer, assumptions)]
    found: list[ContractFinding] = []
    documented_response = assumptions.response(operation_id, status)
    responses_pointer = (*op_pointer, "responses")
    if documented_response is None:
        kind, assumption = status_attribution(operation_id, status, exchange.query)
        listed = ", ".join(_statuses(assumptions, operation_id))
        message = f"{status} is not a status the operation documents ({listed})."
        found.append(_make(kind, "response", "status_code_conformance", message, assumption, None, responses_pointer,
                           assumptions))
    else:
        found += _judge_documented_response(exchange, documented_response, (*responses_pointer, str(status)),
                                            assumptions)
    if 200 <= status < 300:
        documented = [f for f in request_findings if f.kind == VIOLATION and f.rule == "request_schema"]
        if documented:
            found.append(_violation("response", "negative_data_rejection",
                                    f"The upstream accepted ({status}) a request that breaks documented rules: "
                                    + "; ".join(f"{f.field}: {f.message}" for f in documented[:5]),
                                    op_pointer, assumptions))
        if any(f.rule == "credentials_required" for f in request_findings):
            found.append(_violation("response", "ignored_auth", f"The upstream answered {status} to a request "
                                    "without credentials; the operation needs a bearer token.",
                                    (*op_pointer, "security"), assumptions))
    return found


def judge_exchange(exchange: Exchange, assumptions: Assumptions,
                   request_findings: list[ContractFinding] | None = None) -> list[ContractFinding]:
    """Every difference of one exchange: the request's, the answer's, and the rules of one exchange."""
    requested = judge_request(exchange, assumptions) if request_findings is None else request_findings
    # A request that breaks only our choices refutes them when the upstream accepts it; refused, the
    # choice held and there is nothing to report. What breaks documented rules is reported either way.
    accepted = 200 <= exchange.status < 300
    shown = [f for f in requested if f.kind == VIOLATION or accepted]
    return [*shown, *judge_response(exchange, assumptions, requested), *exchange_rules(exchange, assumptions)]


def blocking(findings: Iterable[ContractFinding], *, strict: bool) -> list[ContractFinding]:
    """The findings that make a hard proxy refuse: violations, and with `strict` refuted assumptions too."""
    return [f for f in findings if f.kind == VIOLATION or strict]


def _judge_documented_response(exchange: Exchange, response: Mapping[str, Any], pointer: tuple[str, ...],
                               assumptions: Assumptions) -> list[ContractFinding]:
    operation_id, status = exchange.operation_id or "", exchange.status
    found: list[ContractFinding] = []
    for name, header in (response.get("headers") or {}).items():
        if name.lower() not in exchange.response_headers:
            own = marks(header)
            if own or header.get("required"):
                found.append(_make(ASSUMPTION if own else VIOLATION, "response", "response_headers_conformance",
                                   f"The {status} answer lacks the {name} header.", own[0] if own else None, name,
                                   (*pointer, "headers", name), assumptions))
    schema = assumptions.response_schema(operation_id, status)
    if schema is None:
        return found
    content_type = exchange.response_headers.get("content-type", "").partition(";")[0].strip().lower()
    value = json_body(exchange.response_body)
    if not _is_json_media(content_type) or value is NO_JSON or value is None:
        what = f"a body of type {content_type!r}" if content_type else "no Content-Type"
        message = f"The {status} answer has {what}{' that is not JSON' if value is NO_JSON else ''}; " \
                  "the contract describes a JSON body."
        if value is None:
            message = f"The {status} answer has no body; the contract describes a JSON body."
        error = 400 <= status < 500
        found.append(_make(ASSUMPTION if error else VIOLATION, "response", "content_type_conformance", message,
                           "error-bodies" if error else None, None, (*pointer, "content"), assumptions))
        return found
    for error_found in _response_errors(operation_id, status, schema, value, assumptions) or []:
        found.append(_finding(error_found, "response", "response_schema_conformance", assumptions))
    return found


# -- the rules of one exchange a schema cannot say -----------------------------------------------

def exchange_rules(exchange: Exchange, assumptions: Assumptions) -> list[ContractFinding]:
    """The business rules that one request and its answer can show broken: a write shows the fields
    sent (documented), `evaluator_ids` wins over `evaluator_slugs` (documented), a filter's results
    match it, a page holds at most `page_size` results (documented); a 404 to a write names the
    missing id (`reference-404`), strings come back exactly (`strict-input-validation`), sending one
    scoring path clears the other (`scoring-path-switch`), PUT restores defaults
    (`put-restores-defaults`), responses mirror slugs (`slugs-mirror-ids`)."""
    operation_id, status = exchange.operation_id, exchange.status
    if operation_id is None or not status:
        return []
    sent = json_body(exchange.request_body)
    shown = json_body(exchange.response_body)
    if operation_id in write_rules.WRITE_OPERATIONS and isinstance(sent, dict):
        if 200 <= status < 300 and isinstance(shown, dict):
            return list(_write_rules(operation_id, sent, shown, assumptions))
        if status == 404:
            return list(_reference_404(exchange, sent, assumptions))
    if operation_id in PAGED_OPERATIONS and 200 <= status < 300 and shown is not NO_JSON:
        return list(_page_rules(exchange, sent, shown, assumptions))
    return []


def documented_fields(assumptions: Assumptions, operation_id: str) -> frozenset[str]:
    """The body fields of a write the docs name (the request schema's properties)."""
    schema = assumptions.request_schema(operation_id) or {}
    names: set[str] = set()
    for part in [schema, *schema.get("allOf", [])]:
        names.update((part.get("properties") or {}) if isinstance(part, dict) else ())
    return frozenset(names)


def _write_rules(operation_id: str, sent: dict[str, Any], shown: dict[str, Any],
                 assumptions: Assumptions) -> Iterator[ContractFinding]:
    named = documented_fields(assumptions, operation_id)
    body = {k: v for k, v in sent.items() if k in named}  # only the fields the docs name are compared
    if not assumptions.validator(assumptions.request_schema(operation_id)).is_valid(body):
        return  # what a server makes of an invalid body is no documented matter
    op_pointer = assumptions.contract.operation_pointer(operation_id)
    fields, keys = assumptions.documented_fields, assumptions.step_keys
    expected = write_rules.expected_fields(body)
    both = "evaluator_ids" in body and "evaluator_slugs" in body
    loose = write_rules.field_mismatches(expected, shown, fields, keys, exact=False)
    for path, want, got in loose:
        name = _top_field(path)
        if name in expected and expected[name] is None:
            yield _assumed("response", "write_applies_fields", f"{name}: null was sent and {got} is shown.",
                           "null-clears-only-description", name, op_pointer, assumptions)
        elif both and name == "evaluator_ids":
            yield _violation("response", "evaluator_ids_win_over_slugs",
                             f"evaluator_ids and evaluator_slugs were both sent; evaluator_ids must win: sent "
                             f"{want}, shown {got}.", op_pointer, assumptions, name)
        else:
            yield _violation("response", "write_applies_fields", f"{path}: sent {want}, shown {got}.",
                             op_pointer, assumptions, name)
    loose_paths = {path for path, _, _ in loose}
    for path, want, got in write_rules.field_mismatches(expected, shown, fields, keys, exact=True):
        if path not in loose_paths:
            yield _assumed("response", "writes_store_strings_exactly", f"{path}: sent {want}, shown {got} "
                           "(whitespace changed).", STRICT_INPUT, _top_field(path), op_pointer, assumptions)
    if "evaluator_slugs" in shown and "evaluator_ids" in shown and shown["evaluator_slugs"] != shown["evaluator_ids"]:
        yield _assumed("response", "slugs_mirror_ids", f"evaluator_slugs {_short(shown['evaluator_slugs'])} differs "
                       f"from evaluator_ids {_short(shown['evaluator_ids'])}.", "slugs-mirror-ids", "evaluator_slugs",
                       op_pointer, assumptions)
    for path, other in (write_rules.SCORING, write_rules.SCORING[::-1]):
        if expected.get(path) and other not in expected and other in shown and not write_rules.cleared(shown[other]):
            yield _assumed("response", "scoring_switch_clears_other_path", f"{path} was sent and {other} still "
                           f"shows {_short(shown.get(other))}.", "scoring-path-switch", other, op_pointer,
                           assumptions)
    if operation_id == "replaceExperiment":
        defaults = assumptions.contract.property_defaults("ExperimentReplace")
        for name, default in defaults.items():
            if name not in body and name in shown and shown.get(name) != default:
                yield _assumed("response", "put_restores_defaults", f"{name} was left out of the PUT and shows "
                               f"{_short(shown.get(name))}, not its default {_short(default)}.",
                               "put-restores-defaults", name, op_pointer, assumptions)


def _top_field(path: str) -> str:
    """The experiment field a mismatch path is under (`workflow[0].config.model` -> `workflow`)."""
    return path.split(".", 1)[0].split("[", 1)[0]


def _reference_404(exchange: Exchange, sent: dict[str, Any], assumptions: Assumptions) -> Iterator[ContractFinding]:
    ids = [str(v) for v in exchange.path_params.values()]
    for key in ("dataset_id", "evaluator_ids", "evaluator_slugs", "evaluator_workflow_ids"):
        value = sent.get(key)
        ids += [str(v) for v in value] if isinstance(value, list) else [str(value)] if value is not None else []
    text = (exchange.response_body or b"").decode("utf-8", "replace")
    if ids and not any(i and i in text for i in ids):
        op_pointer = assumptions.contract.operation_pointer(exchange.operation_id or "")
        yield _assumed("response", "reference_404_names_the_id", "The 404 does not name the missing id (none of "
                       f"{', '.join(_short(i, 40) for i in ids[:5])}).", "reference-404", None,
                       (*op_pointer, "responses", "404"), assumptions)


def _equals(name: str, value: str) -> bool:
    return name == value


def _contains(name: str, value: str) -> bool:
    return value in name


def _startswith(name: str, value: str) -> bool:
    return name.startswith(value)


def _endswith(name: str, value: str) -> bool:
    return name.endswith(value)


def _ignoring_case(test: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
    return lambda name, value: test(name.lower(), value.lower())


# operator -> (the test as the mock applies it, the same test ignoring case); `in` is `equals` on each value
_NAME_MATCHES: dict[str, tuple[Callable[[str, str], bool], Callable[[str, str], bool]]] = {
    "": (_equals, _ignoring_case(_equals)),
    "in": (_equals, _ignoring_case(_equals)),
    "iexact": (_ignoring_case(_equals), _ignoring_case(_equals)),
    "contains": (_contains, _ignoring_case(_contains)),
    "icontains": (_ignoring_case(_contains), _ignoring_case(_contains)),
    "startswith": (_startswith, _ignoring_case(_startswith)),
    "endswith": (_endswith, _ignoring_case(_endswith)),
}


def _page_rules(exchange: Exchange, sent: Any, shown: Any, assumptions: Assumptions) -> Iterator[ContractFinding]:
    operation_id = exchange.operation_id or ""
    op_pointer = assumptions.contract.operation_pointer(operation_id)
    results = shown.get("results") if isinstance(shown, dict) else shown
    if not isinstance(results, list):
        return
    size = _integer(exchange.query.get("page_size"))
    if size is not None and 1 <= size <= 100 and len(results) > size:
        yield _violation("response", "page_size_respected", f"The page holds {len(results)} results; page_size "
                         f"was {size}.", op_pointer, assumptions, "page_size")
    condition = ((sent.get("filters") or {}) if isinstance(sent, dict) else {}).get("name")
    if operation_id != "filterExperiments" or not isinstance(condition, dict):
        return
    operator, value = condition.get("operator", ""), condition.get("value")
    values = [str(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    if operator not in _NAME_MATCHES or not values or (operator != "in" and len(values) != 1):
        return
    exact, loose = _NAME_MATCHES[operator]
    for result in results:
        name = result.get("name") if isinstance(result, dict) else None
        if not isinstance(name, str) or any(exact(name, v) for v in values):
            continue
        if any(loose(name, v) for v in values):
            yield _assumed("response", "filter_results_match", f"{_short(name)} is listed for name "
                           f"{operator or 'equals'} {_short(value)} only when case is ignored.",
                           "filter-case-sensitivity", "filters.name", op_pointer, assumptions)
        else:
            yield _violation("response", "filter_results_match", f"{_short(name)} is listed for name "
                             f"{operator or 'equals'} {_short(value)}, which it does not match.", op_pointer,
                             assumptions, "filters.name")
        return  # one finding per page


# -- errors of a request or a response, each attributed ------------------------------------------

def _request_errors(exchange: Exchange, assumptions: Assumptions) -> list[_Attributed]:
    operation_id = exchange.operation_id or ""
    found: list[_Attributed] = []
    body = json_body(exchange.request_body)
    schema = assumptions.request_schema(operation_id)
    if schema is not None and body is not NO_JSON and body is not None:
        op = assumptions.contract.operation_pointer(operation_id)
        for detail in _all_details(assumptions, schema, body):
            found.append(_Attributed(detail.field, detail.message,
                                     assumptions.attribute(schema, detail.schema_path, request=True),
                                     _spec_pointer(assumptions, op, ("requestBody", "content", "application/json",
                                                                     "schema", *detail.schema_path))))
    for name, (location, param) in assumptions.parameter_schemas(operation_id).items():
        source = exchange.query if location == "query" else exchange.path_params
        if name in source:
            schema = param.get("schema") or {}
            for detail in assumptions.validator(schema).details(_typed(source[name], schema), prefix=(name,)):
                attributed = assumptions.attribute(schema, detail.schema_path, request=True)
                own = marks(param)
                assumption = own[0] if own and attributed in (STRICT_INPUT, VALUE_BOUNDS) else attributed
                found.append(_Attributed(detail.field, detail.message, assumption,
                                         _parameter_pointer(assumptions, operation_id, name, detail.schema_path)))
    return found


def _response_errors(operation_id: str, status: int, schema: Any, body: Any,
                     assumptions: Assumptions) -> list[_Attributed] | None:
    """The attributed errors of a response body (fields the docs do not name left out), or None when
    the validator finds none at all."""
    details = _all_details(assumptions, schema, body)
    if not details:
        return None
    op = assumptions.contract.operation_pointer(operation_id)
    return [_Attributed(d.field, d.message, assumptions.attribute(schema, d.schema_path, request=False),
                        _spec_pointer(assumptions, op, ("responses", str(status), "content", "application/json",
                                                        "schema", *d.schema_path)))
            for d in details if not assumptions.ignored(d.schema_path, request=False)]


def _spec_pointer(assumptions: Assumptions, start: tuple[str, ...], path: tuple[Any, ...]) -> tuple[str, ...]:
    """Where `path`, taken from the node at `start` with every `$ref` on the way followed, lands in the file
    (the nearest node that exists: a pointer never fails a judgement)."""
    try:
        return assumptions.contract.follow(start, path)
    except (KeyError, IndexError, ValueError, TypeError):
        return start


def _all_details(assumptions: Assumptions, schema: Any, body: Any) -> list[Any]:
    """Every error of `body` (not only the first few a mock's 400 shows), so that a documented
    failure behind many assumed ones is still seen."""
    return assumptions.validator(schema).find(body, limit=ATTRIBUTION_LIMIT).details


def _parameter_pointer(assumptions: Assumptions, operation_id: str, name: str,
                       schema_path: tuple[Any, ...]) -> tuple[str, ...]:
    contract = assumptions.contract
    op = contract.operation_pointer(operation_id)
    item = contract.document["paths"][op[1]]
    for where, params in ((op[:2], item.get("parameters", [])), (op, item[op[2]].get("parameters", []))):
        for index, param in enumerate(params):
            if contract.resolve(param).get("name") == name:
                return _spec_pointer(assumptions, (*where, "parameters"), (str(index), "schema", *schema_path))
    return op


def _request_media_types(assumptions: Assumptions, operation_id: str) -> frozenset[str]:
    operation = assumptions.operations.get(operation_id) or {}
    body = assumptions.contract.resolve(operation.get("requestBody") or {}) or {}
    return frozenset(m.lower() for m in body.get("content") or {})


def _statuses(assumptions: Assumptions, operation_id: str) -> list[str]:
    return list(assumptions.contract.responses(operation_id))


def _is_json_media(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _typed(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, str) and schema.get("type") == "integer" and value.lstrip("-").isdigit():
        return int(value)
    return value


def _integer(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def json_body(content: bytes | None) -> Any:
    """The JSON value of a body: None when there is none, NO_JSON when it is not JSON."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return NO_JSON


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return repr(text[:limit] + "…") if len(text) > limit else repr(text) if isinstance(value, str) else text


# -- building findings ----------------------------------------------------------------------------

def _finding(error: _Attributed, direction: str, rule: str, assumptions: Assumptions) -> ContractFinding:
    kind = VIOLATION if error.assumption is None else ASSUMPTION
    return _make(kind, direction, rule, error.message, error.assumption, error.field, error.pointer, assumptions)


def _violation(direction: str, rule: str, message: str, pointer: tuple[str, ...], assumptions: Assumptions,
               field_name: str | None = None) -> ContractFinding:
    return _make(VIOLATION, direction, rule, message, None, field_name, pointer, assumptions)


def _assumed(direction: str, rule: str, message: str, assumption: str, field_name: str | None,
             pointer: tuple[str, ...], assumptions: Assumptions) -> ContractFinding:
    return _make(ASSUMPTION, direction, rule, message, assumption, field_name, pointer, assumptions)


def _make(kind: str, direction: str, rule: str, message: str, assumption: str | None, field_name: str | None,
          pointer: tuple[str, ...], assumptions: Assumptions) -> ContractFinding:
    # A default id (no mark of its own in the spec) is changed where the failing keyword is written.
    where = assumptions.where(assumption) if assumption and assumption not in DEFAULT_IDS \
        else assumptions.line_of(pointer)
    return ContractFinding(kind, direction, rule, message, assumption, field_name, json_pointer(pointer), where)
