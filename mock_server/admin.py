"""`/__mock__/…`: the developer's controls (no token; they honour `X-Mock-Session`). Outside the contract."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from . import jsonio, lifecycle, rules
from .dispatch import session_name
from .errors import ApiError, FieldErrors, MalformedRequest, NotFound
from .fixtures import export_world
from .spec import Contract
from .store import Sessions, Store
from .validation import SchemaValidator

LIFECYCLE_BODY = SchemaValidator({
    "type": "object", "additionalProperties": False, "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": ["start", "progress", "complete", "fail"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "error_message": {"type": "string", "minLength": 1, "maxLength": 10000},
        "organization_id": {"type": "string", "minLength": 1, "maxLength": 128},
    },
})


def _json(body: Any, status: int = 200) -> Response:
    return Response(jsonio.dumps(body), status_code=status, media_type="application/json")


class Admin:
    def __init__(self, contract: Contract, sessions: Sessions) -> None:
        self.sessions = sessions
        operation_ids = sorted(contract.operations())
        self.faults_body = SchemaValidator({
            "type": "object", "additionalProperties": False, "required": ["operation_id", "status"],
            "properties": {
                "operation_id": {"type": "string", "enum": operation_ids},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "count": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
        })
        self.router = Router(routes=[
            Route("/__mock__/reset", self.reset, methods=["POST"]),
            Route("/__mock__/experiments/{experiment_id}/lifecycle", self.lifecycle, methods=["POST"]),
            Route("/__mock__/faults", self.faults, methods=["POST"]),
            Route("/__mock__/requests", self.requests, methods=["GET"]),
            Route("/__mock__/state", self.state, methods=["GET"]),
        ])

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.router(scope, receive, send)
        except ApiError as error:
            await error.to_response()(scope, receive, send)

    def _store(self, request: Request) -> Store:
        return self.sessions.get(session_name(request.scope))

    async def _body(self, request: Request, validator: SchemaValidator) -> dict[str, Any]:
        try:
            body = jsonio.loads(await request.body())
        except jsonio.JsonBodyError as exc:
            raise MalformedRequest(f"JSON parse error - {exc}") from None
        validator.validate(body)
        return body

    async def reset(self, request: Request) -> Response:
        self._store(request).reset()
        return Response(status_code=204)

    async def lifecycle(self, request: Request) -> Response:
        body = await self._body(request, LIFECYCLE_BODY)
        store = self._store(request)
        experiment_id = request.path_params["experiment_id"]
        owners = store.find(experiment_id, body.get("organization_id"))
        if not owners:
            raise NotFound(f"No experiment '{experiment_id}' in this session.")
        if len(owners) > 1:
            raise FieldErrors.single("organization_id", f"'{experiment_id}' exists in {', '.join(owners)}; say which.")

        def act(current: dict[str, Any]) -> dict[str, Any]:
            moved = lifecycle.apply_action(current, body["action"], now=lifecycle.now_iso(),
                                           progress=body.get("progress"), error_message=body.get("error_message"))
            return {**moved, "_auto": False}  # moved by hand: the automatic clock lets go of it

        record = store.update(owners[0], experiment_id, act)
        return _json(rules.present(record, store.catalog(owners[0])))

    async def faults(self, request: Request) -> Response:
        body = await self._body(request, self.faults_body)
        self._store(request).add_fault(body["operation_id"], body["status"], body.get("count", 1))
        return _json({"operation_id": body["operation_id"], "status": body["status"], "count": body.get("count", 1)},
                     201)

    async def requests(self, request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= 200:
            raise FieldErrors.single("limit", "Ensure this value is an integer from 1 to 200.")
        return _json(list(self._store(request).requests)[:limit])

    async def state(self, request: Request) -> Response:
        return _json(export_world(self._store(request).export()))


class AdminPrefix:
    """Sends `/__mock__/…` to the admin endpoints (404 when they are switched off), the rest on."""

    def __init__(self, app, admin: Admin | None) -> None:
        self.app = app
        self.admin = admin

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/__mock__"):
            if self.admin is None:
                await NotFound("Not found (the /__mock__ endpoints are off: --no-admin).").to_response()(
                    scope, receive, send)
            else:
                await self.admin(scope, receive, send)
            return
        await self.app(scope, receive, send)
