"""Deployments that differ from the mock on purpose: the mock behind an ASGI layer that rewrites exchanges.

Two kinds, for `test_assumption_matrix.py`:
* **assumption variants** (`ASSUMPTION_VARIANTS`): each differs from exactly one choice of
  openapi.yaml's `x-assumptions` registry, the way a faithful backend may (the vendor's docs are
  silent there); a contract run must exit 0 and list exactly that id among refuted assumptions;
* **rule breakers** (`RULE_BREAKERS`): each breaks one documented rule; the run must exit 1 and name it.
Plus `vendor_examples`: responses shaped like the vendor's own documented examples, carrying fields
the docs do not name.

A layer is a coroutine over one buffered exchange (`Exchange`) and `send`, which hands an exchange to
the mock (and may be called more than once, or not at all when the layer answers itself).
`python tests/variant_deployments.py NAME PORT` serves one (to try the suite by hand).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broken_deployments import ACME_KEY, FAULTS, GLOBEX_KEY

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
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response: Any = None

    def answer(self, status: int, body: Any, **headers: str) -> None:
        self.status, self.response = status, body
        self.response_headers = {**JSON, **{k.replace("_", "-"): v for k, v in headers.items()}} \
            if body is not None else dict(headers)

    def copy(self, **changes: Any) -> Exchange:
        return replace(self, headers=dict(self.headers), query=dict(self.query), **changes)

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
    raw = ex.raw if ex.raw is not None else (json.dumps(ex.body).encode() if ex.body is not None else b"")
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


def on_experiments(change: Callable[[dict[str, Any], Exchange], None]) -> Callable[[ASGIApp], ASGIApp]:
    """A layer that rewrites every experiment object of every successful response."""
    def each(ex: Exchange) -> None:
        if 200 <= ex.status < 300:
            for experiment in experiments_in(ex.response):
                change(experiment, ex)
    return on_responses(each)


def write_of(ex: Exchange) -> bool:
    return ex.method in ("POST", "PUT", "PATCH") and ex.collection in ("root", "item") and isinstance(ex.body, dict)


# -- lenient request validation: the mock's 400 repaired and sent again ------------------------------

Repair = Callable[[Exchange, str, list[str]], bool]  # (exchange, error key, messages) -> repaired it


def lenient(operations: set[tuple[str, str]], repair: Repair) -> Callable[[ASGIApp], ASGIApp]:
    """A deployment that accepts what the mock refuses with 400 on these (method, collection)s, when
    `repair` can mend every field the 400 names (as a lenient backend coerces, clamps or drops)."""
    def build(app: ASGIApp) -> ASGIApp:
        async def fn(ex: Exchange, send: Send_) -> None:
            original = ex.copy()
            await send(ex)
            if ex.status != 400 or (ex.method, ex.collection) not in operations or not isinstance(ex.response, dict):
                return
            retry = original.copy(body=json.loads(json.dumps(original.body)))
            if all(isinstance(m, list) and repair(retry, key, [str(x) for x in m]) for key, m in ex.response.items()):
                await send(retry)
                if 200 <= retry.status < 300:
                    ex.status, ex.response, ex.response_headers = retry.status, retry.response, retry.response_headers
        return layer(app, fn)
    return build


def _at(body: Any, dotted: str) -> tuple[Any, str | int] | None:
    """(container, key) of a dotted error key (`workflow.0.config.stop`) in a body."""
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    node = body
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return (node, parts[-1]) if isinstance(node, (dict, list)) else None


def _drop(ex: Exchange, key: str) -> bool:
    found = _at(ex.body, key)
    if found is None or not isinstance(found[0], dict) or found[1] not in found[0]:
        return False
    del found[0][found[1]]
    return True


def _set(ex: Exchange, key: str, value: Any) -> bool:
    found = _at(ex.body, key)
    if found is None or not isinstance(found[0], dict) or found[1] not in found[0]:
        return False
    found[0][found[1]] = value
    return True


WRITES = {("POST", "root"), ("PUT", "item"), ("PATCH", "item")}
BOUND_MESSAGE = re.compile(r"Ensure this|no more than|at least|greater than|less than|may not be blank")


def _coerce_booleans(ex: Exchange, key: str, messages: list[str]) -> bool:
    """DRF's BooleanField: `enable_tracing` of another type is taken by its truth."""
    found = _at(ex.body, key)
    if key != "enable_tracing" or found is None or not isinstance(found[0], dict):
        return False
    return _set(ex, key, bool(found[0].get(key)))


def _truncate_description(ex: Exchange, key: str, messages: list[str]) -> bool:
    """A longer description is stored cut to the mock's limit."""
    value = ex.body.get("description") if isinstance(ex.body, dict) else None
    if key != "description" or not isinstance(value, str) or not any(BOUND_MESSAGE.search(m) for m in messages):
        return False
    return _set(ex, key, value[:10000])


def _drop_unknown(ex: Exchange, key: str, messages: list[str]) -> bool:
    """An unknown or read-only body field is ignored, as DRF does by default."""
    return "." not in key and any("nknown" in m or "read-only" in m or "not allowed" in m for m in messages) \
        and _drop(ex, key)


def _generate_id(ex: Exchange, key: str, messages: list[str]) -> bool:
    """A client-chosen id of another shape is not used: the server generates one."""
    return key == "experiment_id" and _drop(ex, key)


def _default_name(ex: Exchange, key: str, messages: list[str]) -> bool:
    """A name of any length is accepted (an empty one gets the default name)."""
    value = ex.body.get("name") if isinstance(ex.body, dict) else None
    if key != "name" or not isinstance(value, str):
        return False
    return _set(ex, key, value[:255]) if value else _drop(ex, key)


def _clamp_execution(ex: Exchange, key: str, messages: list[str]) -> bool:
    """batch_size and concurrency out of range are clamped."""
    value = ex.body.get(key) if isinstance(ex.body, dict) else None
    limits = {"batch_size": 10000, "concurrency": 100}
    if key not in limits or not isinstance(value, int) or isinstance(value, bool):
        return False
    return _set(ex, key, min(max(value, 1), limits[key]))


def _any_generation_method(ex: Exchange, key: str, messages: list[str]) -> bool:
    """Any generation_method string is accepted (stored as the default)."""
    value = ex.body.get(key) if isinstance(ex.body, dict) else None
    return key == "generation_method" and isinstance(value, str) and _set(ex, key, "auto")


STEP_SETTINGS = ("version", "stop", "response_format", "tools", "tool_choice", "reasoning_effort")


def _free_step_settings(ex: Exchange, key: str, messages: list[str]) -> bool:
    """A prompt version or completion setting of another shape is passed through (here: not kept)."""
    parts = key.split(".")
    return len(parts) >= 4 and parts[0] == "workflow" and parts[2] == "config" and parts[3] in STEP_SETTINGS \
        and _drop(ex, ".".join(parts[:4]))


def _drop_bad_filter(ex: Exchange, key: str, messages: list[str]) -> bool:
    """A filter whose value has another type is applied loosely (here: dropped)."""
    parts = key.split(".")
    return len(parts) >= 3 and parts[0] == "filters" and parts[2] in ("value", "operator") \
        and _drop(ex, ".".join(parts[:2]))


def _clamp_paging(app: ASGIApp) -> ASGIApp:
    """page and page_size out of range on the plain list are clamped, not refused."""
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.method == "GET" and ex.collection == "root":
            for name, low, high in (("page", 1, 1_000_000), ("page_size", 1, 100)):
                value = ex.query.get(name)
                if value is not None and value.lstrip("-").isdigit():
                    ex.query[name] = str(min(max(int(value), low), high))
        await send(ex)
    return layer(app, fn)


# -- assumption variants: rule tests ---------------------------------------------------------------

def _create_answers_200(ex: Exchange) -> None:
    if ex.method == "POST" and ex.collection == "root" and ex.status == 201:
        ex.status = 200
        ex.response_headers.pop("location", None)


def _body_id_ignored(app: ASGIApp) -> ASGIApp:
    """experiment_id in a PATCH/PUT body is ignored (ids never change, but no 400 either)."""
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.method in ("PATCH", "PUT") and ex.experiment_path and isinstance(ex.body, dict):
            ex.body.pop("experiment_id", None)
        await send(ex)
    return layer(app, fn)


def _empty_scoring_list_ignored(app: ASGIApp) -> ASGIApp:
    """An empty scoring list in a PATCH/PUT is ignored (the path stays), not a 400."""
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.method in ("PATCH", "PUT") and ex.experiment_path and isinstance(ex.body, dict):
            for key in ("evaluator_ids", "evaluator_slugs", "evaluator_workflow_ids"):
                if ex.body.get(key) == []:
                    del ex.body[key]
        await send(ex)
    return layer(app, fn)


def _put_is_patch(app: ASGIApp) -> ASGIApp:
    """PUT keeps omitted fields, as PATCH does (the docs mark every PUT field optional)."""
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.method == "PUT" and ex.experiment_path:
            ex.method = "PATCH"
            await send(ex)
            ex.method = "PUT"
        else:
            await send(ex)
    return layer(app, fn)


def _other_organization_403(app: ASGIApp) -> ASGIApp:
    """Another organization's experiment answers 403 (it exists, you may not see it), changing nothing."""
    async def fn(ex: Exchange, send: Send_) -> None:
        await send(ex)
        if ex.status == 404 and ex.experiment_path and ex.token in (ACME_KEY, GLOBEX_KEY):
            other = ACME_KEY if ex.token == GLOBEX_KEY else GLOBEX_KEY
            probe = ex.copy(method="GET", body=None, raw=None)
            probe.headers["authorization"] = f"Bearer {other}"
            probe.headers.pop("content-type", None)
            await send(probe)
            if probe.status == 200:
                ex.answer(403, {"detail": "You do not have permission to perform this action."})
    return layer(app, fn)


def _no_www_authenticate(ex: Exchange) -> None:
    ex.response_headers.pop("www-authenticate", None)


def _other_error_bodies(ex: Exchange) -> None:
    """Errors as `{"error": {"code", "message", "fields"}}` instead of Django REST framework's shape."""
    if ex.status >= 400 and isinstance(ex.response, dict):
        detail = ex.response.get("detail")
        fields = {k: v for k, v in ex.response.items() if k != "detail"}
        ex.response = {"error": {"code": ex.status, "message": str(detail or "Invalid request."),
                                 "fields": [{"name": k, "messages": v} for k, v in fields.items()]}}


def _not_json_is_400(app: ASGIApp) -> ASGIApp:
    """A body that is not JSON is a 400 parse error, not 415."""
    async def fn(ex: Exchange, send: Send_) -> None:
        if ex.raw is not None and ex.method in ("POST", "PUT", "PATCH") and "authorization" in ex.headers:
            ex.answer(400, {"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)"})
            return
        await send(ex)
    return layer(app, fn)


def _past_the_end_404(ex: Exchange) -> None:
    if ex.method == "GET" and ex.collection == "root" and ex.status == 200 and ex.response == [] \
            and ex.query.get("page", "1") != "1":
        ex.answer(404, {"detail": "Invalid page."})


# -- assumption variants: response shapes ----------------------------------------------------------

def _other_status_values(experiment: dict[str, Any], ex: Exchange) -> None:
    """The backend's own status vocabulary (`queued`, `in_progress`)."""
    experiment["status"] = {"pending": "queued", "running": "in_progress"}.get(experiment.get("status"),
                                                                           experiment.get("status"))


def _without_mock_extras(experiment: dict[str, Any], ex: Exchange) -> None:
    """A detail without span_workflow_name and generation_method (the docs list the detail without them)."""
    experiment.pop("span_workflow_name", None)
    experiment.pop("generation_method", None)


def _long_dataset_names(experiment: dict[str, Any], ex: Exchange) -> None:
    """Dataset names longer than the mock's bound."""
    if isinstance(experiment.get("dataset_name"), str):
        experiment["dataset_name"] = (experiment["dataset_name"] + " (golden set) ") * 30


# -- the variants ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """A deployment (the mock behind `build`) and the part of the suite that meets the difference."""

    build: Callable[[ASGIApp], ASGIApp]
    keyword: str  # pytest -k: the tests that concern it
    max_examples: int = 2
    read_only: bool = False
    shows: tuple[str, ...] = ()  # lines the report must hold (a rule breaker: the rule it names)

    @property
    def about(self) -> str:
        return (self.build.__doc__ or "").strip().splitlines()[0] if self.build.__doc__ else ""


def _fault(name: str) -> Callable[[ASGIApp], ASGIApp]:
    return FAULTS[name]


SCHEMATHESIS_CHEAP = "schema_conformance and (fuzzing or stateful)"
COVERAGE = "schema_conformance and coverage"

ASSUMPTION_VARIANTS: dict[str, Variant] = {
    "strict-input-validation": Variant(lenient(WRITES, _coerce_booleans), COVERAGE),
    "value-bounds": Variant(lenient(WRITES, _truncate_description), COVERAGE),
    "unknown-fields-rejected": Variant(lenient(WRITES, _drop_unknown), COVERAGE),
    "experiment-id-shape": Variant(lenient({("POST", "root")}, _generate_id), COVERAGE),
    "name-length": Variant(lenient(WRITES, _default_name), COVERAGE),
    "execution-bounds": Variant(lenient(WRITES, _clamp_execution), COVERAGE),
    "generation-method-values": Variant(lenient(WRITES, _any_generation_method), COVERAGE),
    "step-setting-shapes": Variant(lenient(WRITES, _free_step_settings), COVERAGE),
    "response-shows-every-field": Variant(on_experiments(_without_mock_extras), SCHEMATHESIS_CHEAP),
    "status-values": Variant(on_experiments(_other_status_values), SCHEMATHESIS_CHEAP),
    "filter-value-types": Variant(lenient({("POST", "list"), ("POST", "summary")}, _drop_bad_filter), COVERAGE,
                                  read_only=True),
    "create-status-201": Variant(on_responses(_create_answers_200), "client_chosen_id_is_used"),
    "page-past-end-empty": Variant(on_responses(_past_the_end_404), "page_past_the_end"),
    "paging-rejected-out-of-range": Variant(_clamp_paging, COVERAGE, read_only=True),
    "null-clears-only-description": Variant(_fault("null_keeps_description"), "null_clears_description"),
    "patch-body-id-matches-path": Variant(_body_id_ignored, "patch_with_another_experiment_id"),
    "scoring-path-switch": Variant(_empty_scoring_list_ignored, "no_patch_leaves"),
    "put-restores-defaults": Variant(_put_is_patch, "put_restores_defaults"),
    "running-lock": Variant(_fault("no_running_lock"), "locked_field"),
    "tenant-404": Variant(_other_organization_403, "another_organization_gets_404"),
    "www-authenticate": Variant(on_responses(_no_www_authenticate), "bad_credentials_are_401"),
    "error-bodies": Variant(on_responses(_other_error_bodies), "unknown_experiment_is_404"),
    "error-statuses": Variant(on_responses(lambda ex: None), "TODO"),
    "method-not-allowed": Variant(on_responses(lambda ex: None), "TODO"),
    "body-size-limit": Variant(_fault("no_body_limit"), "over_1_mib"),
    "json-only": Variant(_not_json_is_400, "not_json_is_415"),
}

RULE_BREAKERS: dict[str, Variant] = {}

VENDOR_EXAMPLES = Variant(on_responses(lambda ex: None), "TODO")
EXTRA_FIELDS = ("updated_at", "owner")


def variant(name: str) -> Variant:
    return {**ASSUMPTION_VARIANTS, **RULE_BREAKERS, "vendor_examples": VENDOR_EXAMPLES}[name]


def build(name: str) -> ASGIApp:
    from mock_server.app import build_app

    return variant(name).build(build_app().asgi)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
