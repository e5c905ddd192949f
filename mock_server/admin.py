"""`/__mock__/…`: the developer's controls (they honour `X-Mock-Session`). Outside the contract.

They belong to the developer, not to the web pages their browser visits: a write needs
`Content-Type: application/json`, which a page on another origin cannot send without a CORS
preflight (and the preflight succeeds only for the allowed origins), so a cross-site "simple"
request changes nothing; with an admin token every call needs it in `X-Mock-Admin-Token` (never
`Authorization`, which the API's own clients send). The Host check before them (guard.py) stops
DNS rebinding.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from . import jsonio, lifecycle, rules
from .clock import iso
from .context import session_name
from .domain_errors import DomainError
from .edge import read_body
from .errors import (
    ApiError,
    FieldErrors,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    body_error,
    from_domain,
)
from .fixtures import export_world
from .limits import BODY_TIMEOUT_SECONDS
from .sessions import Session, Sessions
from .spec import Contract
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
    """One control: its method only (another is a JSON 405; Starlette's own is plain text), and for a
    write a JSON body only."""

    def __init__(self, method: str, endpoint: Endpoint) -> None:
        self.method = method
        self.methods = (method, "HEAD") if method == "GET" else (method,)
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method not in self.methods:
            raise MethodNotAllowed(request.method, self.methods)
        if self.method == "POST":
            media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
            if media_type != "application/json":
                raise UnsupportedMediaType("The mock controls take `Content-Type: application/json` only "
                                           "(so that no other web page can use them).")
        response = await self.endpoint(request)
        await response(scope, receive, send)


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await NotFound("Not found.").to_response()(scope, receive, send)


class Admin:
    def __init__(self, contract: Contract, sessions: Sessions, *, token: str | None = None,
                 body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        self.sessions = sessions
        self.token = token
        self.body_timeout = body_timeout
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
            ("GET", "/__mock__/", self.index, "this list of the controls"),
            ("POST", "/__mock__/reset", self.reset,
             "restore the session's world from the fixtures, clear its faults and request log (204)"),
            ("POST", "/__mock__/experiments/{experiment_id}/lifecycle", self.lifecycle,
             'move an experiment: {"action": "start" | "progress" (with "progress") | "complete" | "fail" '
             '(with "error_message")}'),
            ("POST", "/__mock__/faults", self.faults,
             'make the next calls of an operation fail: {"operation_id": …, "status": 400-599, "count": 1-1000}'),
            ("GET", "/__mock__/requests", self.requests,
             "the session's last requests, newest first, with why each was refused and which layer answered "
             "(?limit=1-200, default 50; ?after=ID: only newer ones)"),
            ("GET", "/__mock__/state", self.state, "the session's world in the fixture format (--fixtures takes it)"),
        ]
        self.router = Router(routes=[
            Route("/__mock__", _Control("GET", self.index)),
            *(Route(path, _Control(method, endpoint)) for method, path, endpoint, _ in self.controls),
        ], default=_not_found)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self._check_token(scope)
            await self.router(scope, receive, send)
        except ApiError as error:
            await error.to_response()(scope, receive, send)
        except DomainError as error:
            await from_domain(error).to_response()(scope, receive, send)
        except ClientDisconnect:
            return

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
        return _json({
            "description": "The mock's controls (outside the contract). They honour X-Mock-Session; a POST "
                           "needs Content-Type: application/json"
                           + (f" and every call the {ADMIN_TOKEN_HEADER} header." if self.token else "."),
            "controls": [{"method": method, "path": path, "description": description}
                         for method, path, _, description in self.controls],
        })

    async def reset(self, request: Request) -> Response:
        self._session(request).reset()
        return Response(status_code=204)

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

    async def requests(self, request: Request) -> Response:
        text = request.query_params.get("limit", "50")
        limit = int(text) if text.isascii() and text.isdigit() else -1
        if not 1 <= limit <= 200:
            raise FieldErrors.single("limit", "Ensure this value is an integer from 1 to 200.")
        text = request.query_params.get("after", "0")
        after = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1
        if after < 0:
            raise FieldErrors.single("after", "Ensure this value is a request id (an integer from 0).")
        return _json(self._session(request).history.latest(limit, after=after))

    async def state(self, request: Request) -> Response:
        return _json(export_world(self._session(request).store.export()))


class AdminPrefix:
    """Sends `/__mock__/…` to the admin endpoints (404 when they are switched off), the rest on."""

    def __init__(self, app: ASGIApp, admin: Admin | None) -> None:
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
