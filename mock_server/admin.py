"""`/__mock__/…`: the developer's controls (they honour `X-Mock-Session`). Outside the contract.

They belong to the developer, not to the web pages their browser visits: a write needs
`Content-Type: application/json`, which a page on another origin cannot send without a CORS
preflight (and the preflight succeeds only for the allowed origins), so a cross-site "simple"
request changes nothing; with an admin token every call needs it in `X-Mock-Admin-Token` (never
`Authorization`, which the API's own clients send). The Host check before them (guard.py) stops
DNS rebinding.

`GET /__mock__/` in a browser (`Accept: text/html`) is the console (console.py, console/): its
files hold no state, so they are served without the admin token; every call the page makes is one
of these controls and needs what they need.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from . import console, jsonio, lifecycle, rules
from .body import read_body
from .clock import iso
from .context import session_name
from .errors import (
    FieldErrors,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    body_error,
    clip,
)
from .fixtures import export_world
from .limits import BODY_TIMEOUT_SECONDS
from .sessions import REQUEST_HISTORY_SIZE, Session, Sessions
from .spec import Contract, json_pointer, ref_parts
from .validation import SchemaValidator

ADMIN_TOKEN_HEADER = "X-Mock-Admin-Token"
LIFECYCLE_BODY = SchemaValidator({
    "type": "object", "additionalProperties": False, "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": ["start", "progress", "complete", "fail"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "error_message": {"type": "string", "minLength": 1, "maxLength": 10000},
        "organization_id": {"type": "string", "minLength": 1, "maxLength": 128},
    },
})
Endpoint = Callable[[Request], Awaitable[Response]]


def _json(body: Any, status: int = 200) -> Response:
    return Response(jsonio.dumps(body), status_code=status, media_type="application/json")


class _Control:
    """The controls of one path: their methods only (another is a JSON 405; Starlette's own is plain
    text), and for a write a JSON body only (a DELETE is never a cross-site "simple" request)."""

    def __init__(self, endpoints: dict[str, Endpoint]) -> None:
        self.endpoints = dict(endpoints)
        if "GET" in self.endpoints:
            self.endpoints["HEAD"] = self.endpoints["GET"]
        self.methods = tuple(self.endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        endpoint = self.endpoints.get(request.method)
        if endpoint is None:
            raise MethodNotAllowed(request.method, self.methods)
        if request.method == "POST":
            media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
            if media_type != "application/json":
                raise UnsupportedMediaType("The mock controls take `Content-Type: application/json` only "
                                           "(so that no other web page can use them).")
        response = await endpoint(request)
        await response(scope, receive, send)


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await NotFound("Not found.").to_response()(scope, receive, send)


class Admin:
    def __init__(self, contract: Contract, sessions: Sessions, *, token: str | None = None,
                 body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        self.contract = contract
        self.sessions = sessions
        self.token = token
        self.body_timeout = body_timeout
        self.operations = _operations(contract)
        operation_ids = sorted(contract.operations())
        self.faults_body = SchemaValidator({
            "type": "object", "additionalProperties": False, "required": ["operation_id", "status"],
            "properties": {
                "operation_id": {"type": "string", "enum": operation_ids},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "count": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
        })
        # (method, path, endpoint, what it does): the routes, and the index `GET /__mock__/` answers.
        self.controls: list[tuple[str, str, Endpoint, str]] = [
            ("GET", "/__mock__/", self.index,
             "this list of the controls (in a browser: the console, a page that uses them)"),
            ("POST", "/__mock__/reset", self.reset,
             "restore the session's world from the fixtures, clear its faults and request log (204)"),
            ("GET", "/__mock__/experiments", self.experiments,
             "the session's experiments: organization, id, name, status, progress"),
            ("POST", "/__mock__/experiments/{experiment_id}/lifecycle", self.lifecycle,
             'move an experiment: {"action": "start" | "progress" (with "progress") | "complete" | "fail" '
             '(with "error_message")}'),
            ("GET", "/__mock__/faults", self.pending_faults,
             "the session's pending faults: operation_id, status, count (the calls left)"),
            ("POST", "/__mock__/faults", self.faults,
             'make the next calls of an operation fail: {"operation_id": …, "status": 400-599, "count": 1-1000}'),
            ("DELETE", "/__mock__/faults", self.clear_faults, "clear the session's pending faults (204)"),
            ("DELETE", "/__mock__/faults/{operation_id}", self.clear_fault,
             "clear the pending fault of one operation (204; 404 when none is pending)"),
            ("GET", "/__mock__/requests", self.requests,
             "the session's last requests, newest first, with why each was refused and which layer answered "
             "(?limit=1-200, default 50; ?after=ID: only newer ones; ?docs=1: Swagger UI's own requests too)"),
            ("GET", "/__mock__/sessions", self.session_list,
             "the sessions (X-Mock-Session; null is the default one) with their requests, faults and experiments"),
            ("GET", "/__mock__/operations", self.operation_list,
             "the contract's operations: operation_id, method, path, tag and their Swagger UI link"),
            ("GET", "/__mock__/spec", self.spec_node,
             "the node of openapi.yaml at a JSON pointer (?pointer=#/components/schemas/…), as the errors name it"),
            ("GET", "/__mock__/state", self.state, "the session's world in the fixture format (--fixtures takes it)"),
        ]
        by_path: dict[str, dict[str, Endpoint]] = {}
        for method, path, endpoint, _ in self.controls:
            by_path.setdefault(path, {})[method] = endpoint
        self.router = Router(routes=[
            Route("/__mock__", _Control({"GET": self.index})),
            *(Route(path, _Control(endpoints)) for path, endpoints in by_path.items()),
        ], default=_not_found)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Errors raised here are answered by `ErrorResponses`, which `build_app` wraps around the controls."""
        page = console.page_for(scope)  # the console's own files: no state in them, no token needed
        if page is not None:
            await page(scope, receive, send)
            return
        self._check_token(scope)
        await self.router(scope, receive, send)

    def _check_token(self, scope: Scope) -> None:
        if self.token is None or scope["method"] == "OPTIONS":
            return
        given = Headers(scope=scope).get(ADMIN_TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode("latin-1"), self.token.encode()):
            raise Forbidden(f"The mock controls need the {ADMIN_TOKEN_HEADER} header "
                            "(the --admin-token the mock was started with).")

    def _session(self, request: Request) -> Session:
        return self.sessions.get(session_name(request.headers))

    async def _body(self, request: Request, validator: SchemaValidator) -> dict[str, Any]:
        try:
            body = jsonio.loads(await read_body(request.receive, timeout=self.body_timeout))
        except jsonio.JsonBodyError as exc:
            raise body_error(exc) from None
        validator.validate(body)
        checked: dict[str, Any] = body  # the schemas of the controls' bodies are objects
        return checked

    async def index(self, request: Request) -> Response:
        response = _json({
            "description": "The mock's controls (outside the contract). They honour X-Mock-Session; a POST "
                           "needs Content-Type: application/json"
                           + (f" and every call the {ADMIN_TOKEN_HEADER} header." if self.token else ".")
                           + " Open this address in a browser for the console.",
            "controls": [{"method": method, "path": path, "description": description}
                         for method, path, _, description in self.controls],
        })
        response.headers["Vary"] = "Accept"  # a browser gets the console at this address
        return response

    async def reset(self, request: Request) -> Response:
        session = self._session(request)
        session.reset()
        self.sessions.unattributed.clear(session=session.name)  # what strangers sent it goes too
        return Response(status_code=204)

    async def experiments(self, request: Request) -> Response:
        store = self._session(request).store
        return _json([{"organization_id": org.id, **{key: record.get(key) for key in _EXPERIMENT_SUMMARY},
                       "actions": sorted(lifecycle.TRANSITIONS.get(str(record.get("status")), {}))}
                      for org in store.export().values()
                      for record in org.experiments.values()])

    async def lifecycle(self, request: Request) -> Response:
        body = await self._body(request, LIFECYCLE_BODY)
        store = self._session(request).store
        experiment_id = request.path_params["experiment_id"]
        owners = store.find(experiment_id, body.get("organization_id"))
        if not owners:
            raise NotFound(f"No experiment '{experiment_id}' in this session.")
        if len(owners) > 1:
            raise FieldErrors.single("organization_id", f"'{experiment_id}' exists in {', '.join(owners)}; say which.")

        def act(current: dict[str, Any]) -> dict[str, Any]:
            return lifecycle.apply_action(current, body["action"], now=iso(store.clock.now()),
                                          progress=body.get("progress"), error_message=body.get("error_message"))

        record = store.update(owners[0], experiment_id, act, manual=True)  # the automatic lifecycle lets go
        return _json(rules.present(record, store.catalog(owners[0])))

    async def faults(self, request: Request) -> Response:
        body = await self._body(request, self.faults_body)
        self._session(request).faults.add(body["operation_id"], body["status"], body.get("count", 1))
        return _json({"operation_id": body["operation_id"], "status": body["status"], "count": body.get("count", 1)},
                     201)

    async def pending_faults(self, request: Request) -> Response:
        return _json(self._session(request).faults.pending())

    async def clear_faults(self, request: Request) -> Response:
        self._session(request).faults.clear()
        return Response(status_code=204)

    async def clear_fault(self, request: Request) -> Response:
        operation_id = request.path_params["operation_id"]
        faults = self._session(request).faults
        if operation_id not in {fault["operation_id"] for fault in faults.pending()}:
            raise NotFound(f"No fault is pending for '{clip(operation_id, 100)}' in this session.")
        faults.clear(operation_id)
        return Response(status_code=204)

    async def requests(self, request: Request) -> Response:
        limit = _int_param(request, "limit", 50, 1, 200)
        after = _int_param(request, "after", 0, 0, 2**53)
        docs = request.query_params.get("docs", "") in ("1", "true")
        session = self._session(request)
        own = session.history.latest(limit, after=after, docs=docs)
        aside = self.sessions.unattributed.latest(limit, after=after, session=session.name)
        return _json(sorted([*own, *aside], key=lambda entry: -entry["id"])[:limit])

    async def session_list(self, request: Request) -> Response:
        listed = []
        found = (self.sessions.find(name) for name in self.sessions.names())
        for session in (self.sessions.default, *(s for s in found if s is not None)):
            history = session.history.latest(REQUEST_HISTORY_SIZE)
            listed.append({"session": session.name, "requests": len(history),
                           "last_request_id": history[0]["id"] if history else 0,
                           "faults": len(session.faults.pending()),
                           "experiments": sum(len(org.experiments) for org in session.store.export().values())})
        return _json(listed)

    async def operation_list(self, request: Request) -> Response:
        return _json(self.operations)

    async def spec_node(self, request: Request) -> Response:
        pointer = request.query_params.get("pointer", "")
        node: Any = self.contract.document
        try:
            if not pointer.startswith("#/"):
                raise KeyError(pointer)
            for part in ref_parts(pointer):
                if isinstance(node, list) and not (part.isascii() and part.isdigit()):
                    raise KeyError(part)
                node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise FieldErrors.single("pointer", "Give a JSON pointer into openapi.yaml, such as "
                                                "#/components/schemas/BatchSize.") from None
        return _json({"pointer": pointer, "node": node})

    async def state(self, request: Request) -> Response:
        return _json(export_world(self._session(request).store.export()))


_EXPERIMENT_SUMMARY = ("id", "name", "status", "progress", "error_message", "started_at", "completed_at")


def _operations(contract: Contract) -> list[dict[str, Any]]:
    """Every operation with its first tag and Swagger UI's deep link to it (`/ui/#/<tag>/<operationId>`)."""
    found = []
    for operation_id, operation in contract.operations().items():
        _, path, method = contract.operation_pointer(operation_id)
        tags = operation.get("tags") or ["default"]
        found.append({"operation_id": operation_id, "method": method.upper(), "path": contract.base_path + path,
                      "tag": tags[0], "spec": json_pointer(("paths", path, method)),
                      "ui": f"{contract.base_path}/ui/#/{quote(tags[0], safe='')}/{quote(operation_id, safe='')}"})
    return found


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 16 else -1
    if not low <= value <= high:
        raise FieldErrors.single(name, f"Ensure this value is an integer from {low} to {high}.")
    return value


class AdminPrefix:
    """Sends `/__mock__/…` to the admin endpoints (404 when they are switched off), the rest on."""

    def __init__(self, app: ASGIApp, admin: ASGIApp | None) -> None:
        self.app = app
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/__mock__"):
            if self.admin is None:
                await NotFound("Not found (the /__mock__ endpoints are off: --no-admin, or the mock listens on "
                               "the network and was started without --admin-token).").to_response()(
                    scope, receive, send)
            else:
                await self.admin(scope, receive, send)
            return
        await self.app(scope, receive, send)
