"""Deployments that differ from the mock on purpose: the mock behind an ASGI layer that rewrites exchanges.

Two kinds, for `test_assumption_matrix.py`:
* **assumption variants** (`ASSUMPTION_VARIANTS`): each differs from exactly one choice of
  openapi.yaml's `x-assumptions` registry, the way a faithful backend may (the vendor's docs are
  silent there); a contract run must exit 0 and list exactly that id among refuted assumptions;
* **rule breakers** (`RULE_BREAKERS`): each breaks one documented rule; the run must exit 1 and name it.
Plus `vendor_examples`: responses shaped like the vendor's own documented examples, carrying fields
the docs do not name. `GROUPS` says which variants share one deployment and one contract run (they
meet different tests or operations, or label their answers).

A layer is a coroutine over one buffered exchange (`Exchange`) and `send`, which hands an exchange to
the mock (and may be called more than once, or not at all when the layer answers itself).
`python tests/variant_deployments.py NAME PORT` serves one (to try the suite by hand).
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from broken_deployments import ACME_KEY, FAULTS, GLOBEX_KEY
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = {"content-type": "application/json"}


@dataclass
class Exchange:
    """One request and (once sent) its response; `body`/`response` are parsed JSON, or `raw` when the
    request body is not JSON."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    raw: bytes | None = None
    null_body: bool = False  # the body was JSON `null` (not absent)
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response: Any = None

    def answer(self, status: int, body: Any, **headers: str) -> None:
        self.status, self.response = status, body
        self.response_headers = {**JSON, **{k.replace("_", "-"): v for k, v in headers.items()}} \
            if body is not None else dict(headers)

    def copy(self, **changes: Any) -> Exchange:
        return replace(self, **{"headers": dict(self.headers), "query": dict(self.query), **changes})

    @property
    def experiment_path(self) -> bool:
        """The path names one experiment (`/api/v2/experiments/{id}/`)."""
        parts = [p for p in self.path.split("/") if p]
        return len(parts) == 4 and parts[2] == "experiments" and parts[3] not in ("list", "summary")

    @property
    def collection(self) -> str:
        """`list`, `summary`, `item` or `root` (`/api/v2/experiments/`)."""
        parts = [p for p in self.path.split("/") if p]
        if len(parts) == 3:
            return "root"
        return parts[3] if parts[3] in ("list", "summary") else "item"

    @property
    def operation(self) -> str:
        """`METHOD /path template`, as the spec and a finding name it (`GET /experiments/{experiment_id}/`)."""
        parts = [p for p in self.path.split("/") if p]
        if len(parts) < 3 or parts[2] != "experiments":
            return f"{self.method} {self.path}"
        where = {"root": "", "item": "{experiment_id}/"}.get(self.collection, f"{self.collection}/")
        return f"{self.method} /experiments/{where}"

    @property
    def token(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


Send_ = Callable[[Exchange], Awaitable[None]]
Layer = Callable[[Exchange, Send_], Awaitable[None]]


class Rewriting:
    """Buffers each request, lets `layer` rewrite it and the response (with the mock one `send` away)."""

    def __init__(self, app: ASGIApp, layer: Layer) -> None:
        self.app, self.layer = app, layer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = b""
        more = True
        while more:
            message = await receive()
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        ex = Exchange(scope["method"], scope["path"], query, headers)
        try:
            ex.body = json.loads(raw) if raw else None
            ex.null_body = bool(raw) and ex.body is None
        except ValueError:
            ex.raw = raw

        async def to_mock(sent: Exchange) -> None:
            await _call(self.app, scope, sent)

        await self.layer(ex, to_mock)
        payload = json.dumps(ex.response).encode() if ex.response is not None else b""
        out = {k: v for k, v in ex.response_headers.items() if k != "content-length"}
        out["content-length"] = str(len(payload))
        await send({"type": "http.response.start", "status": ex.status,
                    "headers": [(k.encode(), v.encode()) for k, v in out.items()]})
        await send({"type": "http.response.body", "body": payload})


async def _call(app: ASGIApp, scope: Scope, ex: Exchange) -> None:
    raw = ex.raw if ex.raw is not None else \
        (json.dumps(ex.body).encode() if ex.body is not None or ex.null_body else b"")
    headers = [(k.encode(), v.encode()) for k, v in ex.headers.items() if k != "content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    inner = dict(scope, method=ex.method, path=ex.path, raw_path=ex.path.encode(), headers=headers,
                 query_string=urlencode(ex.query).encode())
    chunks: list[bytes] = []
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            ex.status = message["status"]
            ex.response_headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(inner, receive, send)
    data = b"".join(chunks)
    ex.response = json.loads(data) if data else None


def layer(app: ASGIApp, fn: Layer) -> ASGIApp:
    return Rewriting(app, fn)


def experiments_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every experiment object in a response body (a detail, list items, filter results)."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and "created_at" in value:
            yield value
        for key in ("results",):
            yield from experiments_in(value.get(key))
    elif isinstance(value, list):
        for item in value:
            yield from experiments_in(item)


def on_responses(change: Callable[[Exchange], None]) -> Callable[[ASGIApp], ASGIApp]:
    """A layer that only rewrites responses."""
    def build(app: ASGIApp) -> ASGIApp:
        async def fn(ex: Exchange, send: Send_) -> None:
            await send(ex)
            change(ex)
        return layer(app, fn)
    return build


def write_of(ex: Exchange) -> bool:
    return ex.method in ("POST", "PUT", "PATCH") and ex.collection in ("root", "item") and isinstance(ex.body, dict)


# -- lenient request validation: the mock's 400 mended and sent again --------------------------------
#
# A lenient backend accepts some requests the mock refuses: it coerces, clamps, ignores or defaults.
# Each repair below mends the fields one 400 names (key: the field's dotted path, with its messages)
# the way one such backend would, or returns False. Only the coverage phase sends such requests
# systematically, and it is the dearest phase, so these variants share one run (`LENIENT`): the
# deployment labels each answer it gave leniently with the variant's id (`_variant`, a field the docs
# do not name, first in the body, so a finding's "got" shows it), and the matrix checks that every
# finding on a labelled answer names that id.

Repair = Callable[[dict[str, Any], str, list[str]], bool]  # (body, error key, messages) -> mended it
LABEL = "_variant"
BOUND = re.compile(r"Ensure this|may not be blank|may not be empty|duplicate items|at least")
TYPE = re.compile(r"valid (string|integer|number|boolean|list|object)|Expected a|may not be null|Not a valid")


def _at(body: Any, dotted: str) -> tuple[dict[str, Any], str] | None:
    """(object, key) that a dotted error key (`workflow.0.config.stop`) names in a body."""
    parts = dotted.split(".")
    node = body
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return (node, parts[-1]) if isinstance(node, dict) else None


def _drop(body: dict[str, Any], key: str) -> bool:
    found = _at(body, key)
    if found is None or found[1] not in found[0]:
        return False
    del found[0][found[1]]
    return True


def _set(body: dict[str, Any], key: str, value: Any) -> bool:
    found = _at(body, key)
    if found is None:
        return False
    found[0][found[1]] = value
    return True


def _value(body: dict[str, Any], key: str) -> Any:
    found = _at(body, key)
    return found[0].get(found[1]) if found else None


def coerce_booleans(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """enable_tracing of another type is taken by its truth (as Django REST framework coerces 0, "true" …)."""
    return key == "enable_tracing" and any(TYPE.search(m) for m in messages) and \
        _set(body, key, bool(_value(body, key)))


def truncate_description(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A description longer than the mock allows is stored cut."""
    value = _value(body, key)
    return key == "description" and isinstance(value, str) and any(BOUND.search(m) for m in messages) and \
        _set(body, key, value[:10000])


def drop_unknown(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """An unknown or read-only top-level body field is ignored (Django REST framework's default)."""
    return "." not in key and any(m in ("Unknown field.", "This field is read-only.") for m in messages) and \
        _drop(body, key)


def generate_id(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A client-chosen experiment_id of another shape is not used: the server generates one."""
    return key == "experiment_id" and any(BOUND.search(m) or "pattern" in m for m in messages) and _drop(body, key)


def any_name_length(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A name of any length is taken (stored cut; an empty one gets the default name)."""
    value = _value(body, key)
    if key != "name" or not isinstance(value, str) or not any(BOUND.search(m) for m in messages):
        return False
    return _set(body, key, value[:255]) if value else _drop(body, key)


def clamp_execution(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """batch_size and concurrency out of range are clamped."""
    value = _value(body, key)
    limits = {"batch_size": 10000, "concurrency": 100}
    return key in limits and isinstance(value, int) and not isinstance(value, bool) and \
        any(BOUND.search(m) for m in messages) and _set(body, key, min(max(value, 1), limits[key]))


def any_generation_method(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """Any generation_method string is taken (stored as auto)."""
    return key == "generation_method" and isinstance(_value(body, key), str) and \
        any("valid choice" in m for m in messages) and _set(body, key, "auto")


SETTINGS = {"version", "temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "stop",
            "response_format", "tools", "tool_choice", "reasoning_effort"}


def _config_key(key: str) -> str | None:
    """`workflow.N.config.<setting>` … -> the setting's dotted key, else None."""
    parts = key.split(".")
    if len(parts) >= 4 and parts[0] == "workflow" and parts[1].isdigit() and parts[2] == "config":
        return ".".join(parts[:4])
    return None


def free_step_settings(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A step setting out of the mock's bounds or values is passed on to the provider (not kept here)."""
    setting = _config_key(key)
    return setting is not None and setting.rsplit(".", 1)[1] in SETTINGS and \
        any(BOUND.search(m) or "valid choice" in m for m in messages) and _drop(body, setting)


def free_config_keys(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A step config with keys of its own is taken (they are ignored); a completion without model gets one."""
    setting = _config_key(key)
    if setting is None:
        return False
    if messages == ["Unknown field."]:
        return _drop(body, setting)
    if messages == ["This field is required."] and setting.endswith(".model"):
        return _set(body, setting, "gpt-4o-mini")
    return False


def any_condition(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A condition with an operator or value of another shape is taken (evaluated as equality)."""
    parts = key.split(".")
    if len(parts) >= 5 and parts[:1] == ["workflow"] and parts[2:4] == ["config", "condition_policy"]:
        return _set(body, ".".join(parts[:5]), {"operator": "", "value": "x"})
    return False


def loose_filters(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A filter whose value or operator has another type is dropped, not refused."""
    parts = key.split(".")
    return len(parts) >= 3 and parts[0] == "filters" and parts[2] in ("value", "operator") and \
        _drop(body, ".".join(parts[:2]))


def any_filter_field(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """A filter on a field the mock does not filter by is ignored, not refused."""
    parts = key.split(".")
    return len(parts) == 2 and parts[0] == "filters" and messages == ["Unknown field."] and _drop(body, key)


def ids_empty_then_slugs(body: dict[str, Any], key: str, messages: list[str]) -> bool:
    """An empty evaluator_ids does not hide evaluator_slugs: the slugs are the scoring path."""
    slugs = body.get("evaluator_slugs")
    if body.get("evaluator_ids") == [] and isinstance(slugs, list) and slugs and key == "non_field_errors":
        body["evaluator_ids"] = slugs
        return True
    return False


@dataclass(frozen=True)
class Leniency:
    """Where a lenient variant applies: (method, collection)s of the body it mends, or of the query."""

    repair: Repair
    operations: frozenset[tuple[str, str]]


BODY_WRITES = frozenset({("POST", "root"), ("PUT", "item"), ("PATCH", "item")})
FILTERS = frozenset({("POST", "list"), ("POST", "summary")})
LENIENT: dict[str, Leniency] = {
    "strict-input-validation": Leniency(coerce_booleans, BODY_WRITES),
    "value-bounds": Leniency(truncate_description, BODY_WRITES),
    "unknown-fields-rejected": Leniency(drop_unknown, BODY_WRITES),
    "experiment-id-shape": Leniency(generate_id, frozenset({("POST", "root")})),
    "name-length": Leniency(any_name_length, BODY_WRITES),
    "execution-bounds": Leniency(clamp_execution, BODY_WRITES),
    "generation-method-values": Leniency(any_generation_method, BODY_WRITES),
    "step-setting-shapes": Leniency(free_step_settings, BODY_WRITES),
    "step-config-keys": Leniency(free_config_keys, BODY_WRITES),
    "condition-policy-shape": Leniency(any_condition, BODY_WRITES),
    "slugs-hidden-by-ids": Leniency(ids_empty_then_slugs, frozenset({("POST", "root")})),
    "filter-value-types": Leniency(loose_filters, FILTERS),
    "filterable-fields": Leniency(any_filter_field, FILTERS),
}
QUERY_LENIENT = ("paging-rejected-out-of-range", "sort-keys")


def _mend(ex: Exchange, ids: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
    """(id, mended body) of the one variant that mends every field the mock's 400 names, if any."""
    if not isinstance(ex.response, dict) or not isinstance(ex.body, dict):
        return None
    for name in (i for i in ids if i in LENIENT):
        leniency = LENIENT[name]
        if (ex.method, ex.collection) not in leniency.operations:
            continue
        body = json.loads(json.dumps(ex.body))
        if all(isinstance(m, list) and leniency.repair(body, key, [str(x) for x in m])
               for key, m in ex.response.items()):
            return name, body
    return None


def _mend_query(ex: Exchange, ids: tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
    """Paging clamped and unknown query parameters ignored (`paging-rejected-out-of-range`) on the plain
    list; an unknown sort key falls back to the default (`sort-keys`) on the filter endpoint."""
    if not isinstance(ex.response, dict) or ex.method not in ("GET", "POST"):
        return None
    query = dict(ex.query)
    if "sort-keys" in ids and ex.collection == "list" and set(ex.response) == {"sort_by"}:
        query["sort_by"] = "-created_at"
        return "sort-keys", query
    if "paging-rejected-out-of-range" in ids and ex.method == "GET" and ex.collection == "root":
        for key, messages in ex.response.items():
            value = query.get(key, "")
            if key in ("page", "page_size") and value.lstrip("-").isdigit() and \
                    all(BOUND.search(str(m)) for m in messages):
                query[key] = str(min(max(int(value), 1), 100 if key == "page_size" else 1_000_000))
            elif messages == ["Unknown query parameter."]:
                query.pop(key, None)
            else:
                return None
        return "paging-rejected-out-of-range", query
    return None


def lenient(*ids: str) -> Callable[[ASGIApp], ASGIApp]:
    """A deployment that accepts what the mock refuses with 400 wherever one of these variants mends it,
    labelling each answer it gives so with that variant's id."""
    def build(app: ASGIApp) -> ASGIApp:
        async def fn(ex: Exchange, send: Send_) -> None:
            original = ex.copy()
            await send(ex)
            if ex.status != 400:
                return
            mended = _mend(ex, ids)
            query = _mend_query(ex, ids) if mended is None else None
            if mended is not None:
                retry = original.copy(body=mended[1])
            elif query is not None:
                retry = original.copy(query=query[1])
            else:
                return
            await send(retry)
            label = (mended or query or ("",))[0]
            if 200 <= retry.status < 300:
                ex.status, ex.response_headers = retry.status, retry.response_headers
                ex.response = {LABEL: label, **retry.response} if isinstance(retry.response, dict) else retry.response
        return layer(app, fn)
    return build


# -- assumption variants met by rule tests -----------------------------------------------------------

def _answers(change: Callable[[Exchange], None]) -> Callable[[ASGIApp], ASGIApp]:
    return on_responses(change)


def _requests(change: Callable[[Exchange], bool]) -> Callable[[ASGIApp], ASGIApp]:
    """A layer that may answer a request itself (`change` returns True) instead of the mock."""
    def build(app: ASGIApp) -> ASGIApp:
        async def fn(ex: Exchange, send: Send_) -> None:
            if not change(ex):
                await send(ex)
        return layer(app, fn)
    return build


def create_answers_200(ex: Exchange) -> None:
    if ex.method == "POST" and ex.collection == "root" and ex.status == 201:
        ex.status = 200
        ex.response_headers.pop("location", None)


def delete_answers_200(ex: Exchange) -> None:
    if ex.method == "DELETE" and ex.status == 204:
        ex.answer(200, {"detail": "Experiment deleted."})


def past_the_end_404(ex: Exchange) -> None:
    if ex.method == "GET" and ex.collection == "root" and ex.status == 200 and ex.response == [] \
            and ex.query.get("page", "1") != "1":
        ex.answer(404, {"detail": "Invalid page."})


def body_id_ignored(ex: Exchange) -> bool:
    if ex.method in ("PATCH", "PUT") and ex.experiment_path and isinstance(ex.body, dict):
        ex.body.pop("experiment_id", None)
    return False


def empty_patch_refused(ex: Exchange) -> bool:
    if ex.method == "PATCH" and ex.experiment_path and ex.body == {} and ex.token:
        ex.answer(400, {"non_field_errors": ["Nothing to update."]})
        return True
    return False


def empty_scoring_list_ignored(ex: Exchange) -> bool:
    if ex.method in ("PATCH", "PUT") and ex.experiment_path and isinstance(ex.body, dict):
        for key in ("evaluator_ids", "evaluator_slugs", "evaluator_workflow_ids"):
            if ex.body.get(key) == []:
                del ex.body[key]
    return False


KNOWN_EVALUATORS = ("helpfulness",)  # the evaluator of the mock's organization in the matrix's runs


def slugs_looked_up(ex: Exchange) -> bool:
    body = ex.body if write_of(ex) else None
    slugs = body.get("evaluator_slugs") if isinstance(body, dict) and "evaluator_ids" in body else None
    unknown = [s for s in slugs if s not in KNOWN_EVALUATORS] if isinstance(slugs, list) else []
    if unknown:
        ex.answer(404, {"detail": f"Evaluator '{unknown[0]}' not found in this organization."})
        return True
    return False


def slugs_are_names(experiment: dict[str, Any], ex: Exchange) -> None:
    if isinstance(experiment.get("evaluator_slugs"), list):
        experiment["evaluator_slugs"] = [f"{s}-evaluator" for s in experiment["evaluator_slugs"]]


def references_400_on_writes(ex: Exchange) -> None:
    detail = ex.response.get("detail", "") if isinstance(ex.response, dict) else ""
    if ex.method in ("PATCH", "PUT") and ex.status == 404 and "experiment" not in detail.lower():
        ex.answer(400, {"non_field_errors": [f"Invalid reference: {detail}"]})


def jwt_claim_organization_id(ex: Exchange) -> bool:
    token = ex.token
    if token.count(".") == 2:
        try:
            import base64
            payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        except ValueError:
            payload = {}
        if "organization_id" not in payload:
            ex.answer(401, {"detail": "Token has no organization_id claim."}, www_authenticate="Bearer")
            return True
    return False


COMPLETION_DEFAULTS = {"temperature": 1.0, "max_tokens": 150, "top_p": 1.0, "frequency_penalty": 0,
                       "presence_penalty": 0}


def completion_defaults_filled(experiment: dict[str, Any], ex: Exchange) -> None:
    for step in experiment.get("workflow") or ():
        if isinstance(step, dict) and step.get("type") == "completion" and isinstance(step.get("config"), dict):
            for key, value in COMPLETION_DEFAULTS.items():
                step["config"].setdefault(key, value)


def put_is_patch(app: ASGIApp) -> ASGIApp:
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.method == "PUT" and ex.experiment_path:
            ex.method = "PATCH"
            await send(ex)
            ex.method = "PUT"
        else:
            await send(ex)
    return layer(app, fn)


def other_organization_403(app: ASGIApp) -> ASGIApp:
    async def fn(ex: Exchange, send: Send_) -> None:
        await send(ex)
        if ex.status == 404 and ex.experiment_path and ex.token in (ACME_KEY, GLOBEX_KEY):
            probe = ex.copy(method="GET", body=None, raw=None)
            probe.headers["authorization"] = f"Bearer {ACME_KEY if ex.token == GLOBEX_KEY else GLOBEX_KEY}"
            probe.headers.pop("content-type", None)
            await send(probe)
            if probe.status == 200:
                ex.answer(403, {"detail": "You do not have permission to perform this action."})
    return layer(app, fn)


def no_www_authenticate(ex: Exchange) -> None:
    ex.response_headers.pop("www-authenticate", None)


def other_error_bodies(ex: Exchange) -> None:
    if ex.status >= 400 and isinstance(ex.response, dict):
        fields = {k: v for k, v in ex.response.items() if k != "detail"}
        ex.response = {"error": {"code": ex.status, "message": str(ex.response.get("detail") or "Invalid request."),
                                 "fields": [{"name": k, "messages": v} for k, v in fields.items()]}}


def not_json_is_400(ex: Exchange) -> bool:
    if ex.raw is not None and ex.method in ("POST", "PUT", "PATCH") and ex.token:
        ex.answer(400, {"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"})
        return True
    return False


# -- assumption variants met by Schemathesis' response checks ----------------------------------------

OPTIONAL_FIELDS = ("description", "dataset", "dataset_name", "workflow_count", "progress", "started_at",
                   "completed_at", "tags", "error_message", "batch_size", "concurrency", "enable_tracing")


def only_what_is_set(experiment: dict[str, Any], ex: Exchange) -> None:
    """Responses leave out optional fields that are null, empty or never set, as the vendor's SDK allows."""
    for name in OPTIONAL_FIELDS:
        if experiment.get(name) in (None, [], "", 0) or name in ("dataset", "progress", "error_message"):
            experiment.pop(name, None)


def page_without_links(ex: Exchange) -> None:
    if isinstance(ex.response, dict) and "results" in ex.response:
        for name in ("next", "previous", "current_filters"):
            if not ex.response.get(name):
                ex.response.pop(name, None)


def other_status_values(experiment: dict[str, Any], ex: Exchange) -> None:
    status = str(experiment.get("status"))
    experiment["status"] = {"pending": "queued", "running": "in_progress"}.get(status, status)


def without_mock_extras(experiment: dict[str, Any], ex: Exchange) -> None:
    experiment.pop("span_workflow_name", None)
    experiment.pop("generation_method", None)


def filters_as_a_list(ex: Exchange) -> None:
    if isinstance(ex.response, dict) and isinstance(ex.response.get("current_filters"), dict):
        ex.response["current_filters"] = [{"field": name, **condition} if isinstance(condition, dict) else
                                          {"field": name, "value": condition}
                                          for name, condition in ex.response["current_filters"].items()]


def both(*changes: Callable[[Exchange], None]) -> Callable[[Exchange], None]:
    def change(ex: Exchange) -> None:
        for one in changes:
            one(ex)
    return change


def on(*operations: str) -> Callable[[Callable[[Exchange], None]], Callable[[Exchange], None]]:
    """A response change kept to these operations (`METHOD /path template`)."""
    def keep(change: Callable[[Exchange], None]) -> Callable[[Exchange], None]:
        def changed(ex: Exchange) -> None:
            if ex.operation in operations:
                change(ex)
        return changed
    return keep


def each_experiment(change: Callable[[dict[str, Any], Exchange], None]) -> Callable[[Exchange], None]:
    def on(ex: Exchange) -> None:
        if 200 <= ex.status < 300:
            for experiment in experiments_in(ex.response):
                change(experiment, ex)
    return on


def unsupported_method_404(ex: Exchange) -> None:
    if ex.status == 405:
        ex.answer(404, {"detail": "Not found."})


def summary_errors_422(ex: Exchange) -> None:
    if ex.collection == "summary" and ex.status == 400:
        ex.status = 422


# -- the variants ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """A deployment (the mock behind `build`), how it differs, and the part of the suite that meets it."""

    about: str
    build: Callable[[ASGIApp], ASGIApp]
    keyword: str  # pytest -k: the tests that concern it
    shows: tuple[str, ...] = ()  # a rule breaker: the start of a violation line the report must hold
    operations: tuple[str, ...] = ()  # met by Schemathesis' phases: the operations its difference is kept to


def fault(name: str) -> Callable[[ASGIApp], ASGIApp]:
    return FAULTS[name]


COVERAGE = "schema_conformance and coverage"
EXAMPLES = "schema_conformance and examples"  # the vendor's examples, a few requests per operation
LENIENT_RUN = "lenient"  # the one run of every lenient variant (and the coverage-only ones)
# The operations Schemathesis' examples phase answers with an experiment; each response variant keeps to
# its own, so a finding's operation tells which variant it shows.
CREATE, PLAIN_LIST, FILTER, PAGE = ("POST /experiments/", "GET /experiments/", "POST /experiments/list/",
                                    "GET /experiments/list/")
SUMMARIES = ("GET /experiments/summary/", "POST /experiments/summary/")
DETAIL, UPDATE, REPLACE = ("GET /experiments/{experiment_id}/", "PATCH /experiments/{experiment_id}/",
                           "PUT /experiments/{experiment_id}/")

ASSUMPTION_VARIANTS: dict[str, Variant] = {
    **{name: Variant((leniency.repair.__doc__ or "").strip(), lenient(name), COVERAGE)
       for name, leniency in LENIENT.items() if name != "slugs-hidden-by-ids"},
    "paging-rejected-out-of-range": Variant(
        "page and page_size out of range on the plain list are clamped, unknown query parameters ignored",
        lenient("paging-rejected-out-of-range"), COVERAGE),
    "sort-keys": Variant("an unknown sort_by falls back to -created_at instead of 400",
                         lenient("sort-keys"), COVERAGE),
    "error-statuses": Variant("the summary refuses a bad request with 422, not 400", _answers(summary_errors_422),
                              COVERAGE),
    "method-not-allowed": Variant("a method a path does not have answers 404, not 405",
                                  _answers(unsupported_method_404), COVERAGE),
    "response-shapes": Variant("a filtered page shows current_filters as a list of {field, operator, value}",
                               _answers(on(PAGE)(filters_as_a_list)), EXAMPLES, operations=(PAGE,)),
    "response-fields-always-present": Variant(
        "responses leave out optional fields (as in the vendor's SDK) and a filtered page its empty links",
        _answers(on(PLAIN_LIST, FILTER)(both(each_experiment(only_what_is_set), page_without_links))), EXAMPLES,
        operations=(PLAIN_LIST, FILTER)),
    "response-shows-every-field": Variant("a detail without span_workflow_name and generation_method",
                                          _answers(on(CREATE, UPDATE)(each_experiment(without_mock_extras))),
                                          EXAMPLES, operations=(CREATE, UPDATE)),
    "status-values": Variant("its own status values: queued, in_progress",
                             _answers(on(DETAIL)(each_experiment(other_status_values))), EXAMPLES,
                             operations=(DETAIL,)),
    "create-status-201": Variant("create answers 200", _answers(create_answers_200), "client_chosen_id_is_used"),
    "success-statuses": Variant("DELETE answers 200 with a detail", _answers(delete_answers_200),
                                "deleted_experiment and GET"),
    "page-past-end-empty": Variant("a page past the end is 404", _answers(past_the_end_404), "page_past_the_end"),
    "null-clears-only-description": Variant("null on description in a PATCH is ignored",
                                            fault("null_keeps_description"), "null_clears_description"),
    "patch-body-id-matches-path": Variant("experiment_id in a PATCH/PUT body is ignored, not a 400",
                                          _requests(body_id_ignored), "patch_with_another_experiment_id"),
    "empty-patch-noop": Variant("PATCH {} is a 400 (nothing to update)", _requests(empty_patch_refused),
                                "empty_patch"),
    "scoring-path-switch": Variant("an empty scoring list in a PATCH is ignored, not a 400",
                                   _requests(empty_scoring_list_ignored), "no_patch_leaves"),
    "slugs-not-looked-up": Variant("evaluator_slugs beside evaluator_ids is looked up: an unknown slug is 404",
                                   _requests(slugs_looked_up), "slugs_are_ignored_when_ids"),
    "slugs-mirror-ids": Variant("evaluator_slugs shown as the evaluators' slugs, not a copy of the ids",
                                _answers(each_experiment(slugs_are_names)), "slugs_alone or derived_fields"),
    "reference-404": Variant("an unknown reference in a PATCH/PUT is 400, not 404",
                             _answers(references_400_on_writes), "unknown_references_in_a_write and dataset"),
    "workflow-echoed-exactly": Variant("completion configs come back with the documented defaults filled in",
                                       _answers(each_experiment(completion_defaults_filled)),
                                       "patch_changes_exactly and workflow"),
    "filter-case-sensitivity": Variant("contains matches case-insensitively", fault("contains_ignores_case"),
                                       "name_filters_through_the_list"),
    "put-restores-defaults": Variant("PUT keeps omitted fields, as PATCH does", put_is_patch,
                                     "put_restores_defaults"),
    "running-lock": Variant("a running experiment's execution fields can be changed",
                            fault("no_running_lock"), "locked_field"),
    "tenant-404": Variant("another organization's experiment is 403", other_organization_403,
                          "another_organization_gets_404"),
    "jwt-claims": Variant("a dashboard JWT carries the organization in organization_id, not org_id",
                          _requests(jwt_claim_organization_id), "valid_dashboard_jwt"),
    "www-authenticate": Variant("a 401 without WWW-Authenticate", _answers(no_www_authenticate),
                                "bad_credentials_are_401"),
    "error-bodies": Variant('errors as {"error": {code, message, fields}}', _answers(other_error_bodies),
                            "unknown_experiment_is_404"),
    "body-size-limit": Variant("a body over 1 MiB is read and judged, not 413", fault("no_body_limit"),
                               "over_1_mib"),
    "json-only": Variant("a body that is not JSON is a 400 parse error, not 415", _requests(not_json_is_400),
                         "not_json_is_415"),
    # Last, so that it sees the mock's own 400 (not one another member rewrote).
    "slugs-hidden-by-ids": Variant((ids_empty_then_slugs.__doc__ or "").strip(), lenient("slugs-hidden-by-ids"),
                                   "empty_evaluator_ids_hides"),
}
# -- rule breakers: documented rules broken (those test_suite_verdicts.py does not break) -----------

def accepts_both_paths(ex: Exchange) -> bool:
    if write_of(ex) and ex.body.get("evaluator_ids") and ex.body.get("evaluator_workflow_ids"):
        del ex.body["evaluator_workflow_ids"]
    return False


def ignores_client_id(ex: Exchange) -> bool:
    if ex.method == "POST" and ex.collection == "root" and isinstance(ex.body, dict):
        ex.body.pop("experiment_id", None)
    return False


def ignores_slugs(ex: Exchange) -> bool:
    if write_of(ex) and "evaluator_ids" not in ex.body:
        ex.body.pop("evaluator_slugs", None)
    return False


def summary_off_by_one(ex: Exchange) -> None:
    if ex.collection == "summary" and isinstance(ex.response, dict) and isinstance(ex.response.get("total_count"), int):
        ex.response["total_count"] += 1


def stale_workflow_count(experiment: dict[str, Any], ex: Exchange) -> None:
    if "workflow_count" in experiment:
        experiment["workflow_count"] = 1


def patch_adds_numbers(app: ASGIApp) -> ASGIApp:
    """batch_size in a PATCH is added to the stored one (a PATCH applied twice is not the same as once)."""
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.method == "PATCH" and ex.experiment_path and isinstance(ex.body, dict) and \
                isinstance(ex.body.get("batch_size"), int):
            current = ex.copy(method="GET", body=None, raw=None)
            current.headers.pop("content-type", None)
            await send(current)
            if current.status == 200 and isinstance(current.response, dict):
                ex.body["batch_size"] += int(current.response.get("batch_size") or 0)
        await send(ex)
    return layer(app, fn)


def ignores_page(ex: Exchange) -> bool:
    if ex.method == "GET" and ex.collection == "root":
        ex.query.pop("page", None)
    return False


def unknown_is_400(ex: Exchange) -> None:
    if ex.method == "GET" and ex.experiment_path and ex.status == 404:
        ex.answer(400, {"detail": "Invalid experiment id."})


def lists_other_organizations(app: ASGIApp) -> ASGIApp:
    async def fn(ex: Exchange, send: Send_) -> None:
        await send(ex)
        if ex.method == "GET" and ex.collection == "root" and ex.status == 200 and ex.token == GLOBEX_KEY:
            other = ex.copy()
            other.headers["authorization"] = f"Bearer {ACME_KEY}"
            await send(other)
            if isinstance(other.response, list) and isinstance(ex.response, list):
                ex.response += other.response
    return layer(app, fn)


def null_status(experiment: dict[str, Any], ex: Exchange) -> None:
    experiment["status"] = None


def plain_text_success(ex: Exchange) -> None:
    if 200 <= ex.status < 300 and ex.response is not None:
        ex.response_headers["content-type"] = "text/plain"


def pages_beyond_100(app: ASGIApp) -> ASGIApp:
    """page_size over the documented 100 is taken, and the page holds one experiment more than 100."""
    async def fn(ex: Exchange, send: Send_) -> None:
        size = ex.query.get("page_size", "")
        big = size.isdigit() and int(size) > 100
        if big:
            ex.query["page_size"] = "100"
        await send(ex)
        if big and 200 <= ex.status < 300:
            items = ex.response if isinstance(ex.response, list) else \
                ex.response.get("results") if isinstance(ex.response, dict) else None
            if isinstance(items, list) and items:
                items.append(dict(items[0], id=f"{items[0].get('id')}-more"))
    return layer(app, fn)


def wrong_defaults(experiment: dict[str, Any], ex: Exchange) -> None:
    if isinstance(ex.body, dict) and "batch_size" not in ex.body:
        experiment["batch_size"] = 50  # the documented default is 100


def refuses_list_values(ex: Exchange) -> bool:
    filters = ex.body.get("filters") if isinstance(ex.body, dict) else None
    if ex.method == "POST" and isinstance(filters, dict) and any(
            isinstance(c, dict) and isinstance(c.get("value"), list) and c.get("operator") not in ("in",)
            for c in filters.values()):
        ex.answer(400, {"filters": ["A filter value must be a string."]})
        return True
    return False


def accepts_expired_jwts(ex: Exchange) -> bool:
    """A JWT is taken on its signature alone: an expired one is answered as the API key's organization."""
    token = ex.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token.count(".") == 2:
        try:
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        except ValueError:
            return False
        if isinstance(claims, dict) and isinstance(claims.get("exp"), int) and claims["exp"] < time.time():
            ex.headers["authorization"] = f"Bearer {ACME_KEY}"
    return False


def ascending_by_default(ex: Exchange) -> bool:
    """The filter sorts oldest first when no sort_by is given (the documented default is -created_at)."""
    if ex.method == "POST" and ex.collection == "list" and "sort_by" not in ex.query:
        ex.query["sort_by"] = "created_at"
    return False


def put_requires_all(ex: Exchange) -> bool:
    """A PUT must carry dataset_id and workflow (the documented PUT makes every field optional)."""
    if ex.method == "PUT" and ex.experiment_path and isinstance(ex.body, dict) and \
            not {"dataset_id", "workflow"} <= ex.body.keys():
        ex.answer(400, {"dataset_id": ["This field is required."]})
        return True
    return False


RULE_BREAKERS: dict[str, Variant] = {
    "accepts_both_paths": Variant("a write with both scoring paths keeps the evaluator ids, no 400",
                                  _requests(accepts_both_paths), "both_scoring_paths",
                                  shows=("test_both_scoring_paths_is_400", "test_both_scoring_paths_in_a_patch")),
    "ignores_client_id": Variant("a client-chosen experiment_id is not used", _requests(ignores_client_id),
                                 "client_chosen_id", shows=("test_client_chosen_id_is_used",)),
    "ignores_slugs_alone": Variant("evaluator_slugs alone is ignored (no alias)", _requests(ignores_slugs),
                                   "slugs_alone", shows=("test_slugs_alone_are_taken_as_ids",)),
    "summary_off_by_one": Variant("the summary counts one more than the filter", _answers(summary_off_by_one),
                                  "summary_counts", shows=("test_summary_counts_what_the_filter_counts",)),
    "stale_workflow_count": Variant("a PATCH answers workflow_count 1 whatever the workflow",
                                    _answers(on(UPDATE)(each_experiment(stale_workflow_count))), "derived_fields",
                                    shows=("test_derived_fields_follow_the_data",)),
    "patch_not_idempotent": Variant("batch_size in a PATCH is added to the stored one", patch_adds_numbers,
                                    "idempotent", shows=("test_repeated_identical_patch_is_idempotent",)),
    "ignores_page": Variant("the plain list ignores page (every page is the first)", _requests(ignores_page),
                            "pages_do_not_overlap", shows=("test_pages_do_not_overlap",)),
    "unknown_is_400": Variant("an unknown experiment is 400, not 404", _answers(unknown_is_400),
                              "unknown_experiment_is_404", shows=("test_unknown_experiment_is_404",)),
    "lists_other_organizations": Variant("the plain list also shows another organization's experiments",
                                         lists_other_organizations, "does_not_list_it",
                                         shows=("test_another_organization_does_not_list_it",)),
    "null_status": Variant("experiments show status null", _answers(on(REPLACE)(each_experiment(null_status))),
                           EXAMPLES, shows=("response_schema_conformance on PUT /experiments/{experiment_id}/",),
                           operations=(REPLACE,)),
    "pages_beyond_100": Variant("page_size over 100 is taken and a page holds 101", pages_beyond_100,
                                "never_holds_more_than_100",
                                shows=("test_a_page_never_holds_more_than_100",)),
    "wrong_defaults": Variant("a create that leaves batch_size out shows 50, not the documented 100",
                              _answers(on(CREATE)(each_experiment(wrong_defaults))), "documented_defaults",
                              shows=("test_a_create_takes_the_documented_defaults",)),
    "refuses_list_values": Variant("a filter value written as a list (the vendor's reference) is 400",
                                   _requests(refuses_list_values), "documented_filter_examples",
                                   shows=("test_the_documented_filter_examples_are_accepted",)),
    "accepts_expired_jwts": Variant("an expired JWT signed with the deployment's secret is accepted",
                                    _requests(accepts_expired_jwts), "expired_dashboard_jwt",
                                    shows=("test_an_expired_dashboard_jwt_is_401",)),
    "ascending_by_default": Variant("the filter sorts oldest first without sort_by",
                                    _requests(ascending_by_default), "newest_first_by_default",
                                    shows=("test_the_filtered_list_is_newest_first_by_default",)),
    "put_requires_all": Variant("a PUT without dataset_id and workflow is 400", _requests(put_requires_all),
                                "subset_of_the_fields", shows=("test_put_takes_any_subset_of_the_fields",)),
    "plain_text_success": Variant("successful JSON answers labelled text/plain",
                                  _answers(on(*SUMMARIES)(plain_text_success)), EXAMPLES,
                                  shows=("content_type_conformance on ",), operations=SUMMARIES),
}


# -- the vendor's own example bodies, with fields the docs do not name -------------------------------

# Fields the docs do not name, beside documented ones: on an experiment, on a workflow step (beside
# `type` and `config`), on a filtered page, on a summary. None goes inside a step's config: a key added
# there is the server filling something in, which refutes `workflow-echoed-exactly` (its own variant).
EXTRA_FIELDS = ("updated_at", "owner", "step_uid", "facets", "generated_at")


def vendor_examples(app: ASGIApp) -> ASGIApp:
    """Tags as the vendor's examples show them (D-get's [{priority, team}] on a detail, D-list's [{}] on a
    list item), and fields the docs do not name on every response: updated_at (changed by every write)
    and owner on experiments, step_uid on steps, facets on a filtered page, generated_at on a summary."""
    written: dict[str, str] = {}

    async def fn(ex: Exchange, send: Send_) -> None:
        await send(ex)
        if not 200 <= ex.status < 300:
            return
        detail = ex.collection == "item" or (ex.method == "POST" and ex.collection == "root")
        for experiment in experiments_in(ex.response):
            if write_of(ex) or experiment["id"] not in written:
                written[experiment["id"]] = f"2026-12-07T10:{len(written) % 60:02d}:00Z"
            experiment["tags"] = [{"priority": "high", "team": "nlp-eval"}] if detail else [{}]
            experiment["updated_at"] = written[experiment["id"]]
            experiment["owner"] = {"id": "usr_42", "email": "owner@example.com"}
            for index, step in enumerate(experiment.get("workflow") or ()):
                if isinstance(step, dict):
                    step["step_uid"] = f"step_{index}_{len(written)}"  # changes from answer to answer
        if isinstance(ex.response, dict) and "results" in ex.response:
            ex.response["facets"] = {"status": {}}
        if isinstance(ex.response, dict) and "total_count" in ex.response:
            ex.response["generated_at"] = "2026-12-07T10:00:00Z"
    return layer(app, fn)


VENDOR = "vendor_examples"
VENDOR_EXAMPLES = Variant("the vendor's example tags and fields the docs do not name", vendor_examples,
                          "patch_changes_exactly or idempotent or reads_back or derived_fields or "
                          f"put_restores_defaults or ({EXAMPLES})")


def variant(name: str) -> Variant:
    return {**ASSUMPTION_VARIANTS, **RULE_BREAKERS, VENDOR: VENDOR_EXAMPLES}[name]


# -- the runs: variants that meet different tests (or operations) share one deployment and one run ------

# The ids only the coverage phase meets share one run against a deployment with all their differences;
# each labels the answers it gives (or keeps to its own operation), so a finding tells whose it is.
SHARED_RUN = tuple(name for name, v in ASSUMPTION_VARIANTS.items() if v.keyword == COVERAGE)


def shared_build(app: ASGIApp) -> ASGIApp:
    """Every coverage-phase difference at once (each labels its answers, or keeps to its own operation)."""
    lenient_ids = tuple(name for name in SHARED_RUN if name in LENIENT or name in QUERY_LENIENT)
    app = lenient(*lenient_ids)(app)
    return _answers(both(summary_errors_422, unsupported_method_404))(app)


@dataclass(frozen=True)
class Group:
    """One deployment with the differences of all its members, and one run of the tests they concern."""

    about: str
    members: tuple[str, ...]
    max_examples: int = 1
    build_all: Callable[[ASGIApp], ASGIApp] | None = None  # default: every member's layer, one over the other

    @property
    def keyword(self) -> str:
        keywords = dict.fromkeys(variant(name).keyword for name in self.members)
        return " or ".join(f"({k})" for k in keywords) if len(keywords) > 1 else next(iter(keywords))

    def build(self, app: ASGIApp) -> ASGIApp:
        if self.build_all is not None:
            return self.build_all(app)
        for name in reversed(self.members):  # the first member sees a request first (and its answer last)
            app = variant(name).build(app)
        return app


def _met_by(keyword: str, names: dict[str, Variant]) -> tuple[str, ...]:
    return tuple(name for name, v in names.items() if (v.keyword == keyword) == (keyword == EXAMPLES))


GROUPS: dict[str, Group] = {
    LENIENT_RUN: Group("every coverage-phase difference at once", SHARED_RUN, build_all=shared_build),
    "rule_assumptions": Group("every choice a rule test meets, each on its own tests", tuple(
        n for n, v in ASSUMPTION_VARIANTS.items() if v.keyword not in (COVERAGE, EXAMPLES))),
    # Schemathesis' examples phase: the response choices and the two documented response rules broken,
    # each on operations of its own (so the run exits 1, and each violation must be a breaker's).
    "responses": Group("every response-shape choice and two documented response rules broken, each on its "
                       "own operations", _met_by(EXAMPLES, ASSUMPTION_VARIANTS) + _met_by(EXAMPLES, RULE_BREAKERS)),
    "rule_breakers": Group("every documented rule a rule test holds broken, each on its own tests",
                           tuple(n for n, v in RULE_BREAKERS.items() if v.keyword != EXAMPLES)),
    VENDOR: Group(VENDOR_EXAMPLES.about, (VENDOR,)),
}


def group_of(name: str) -> str:
    """The run a variant's evidence comes from."""
    return next(group for group, members in GROUPS.items() if name in members.members)


def build(name: str) -> ASGIApp:
    """The deployment of a variant, or of a group (`python tests/variant_deployments.py NAME PORT`)."""
    from mock_server.app import build_app

    app = build_app().asgi
    return GROUPS[name].build(app) if name in GROUPS else variant(name).build(app)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
