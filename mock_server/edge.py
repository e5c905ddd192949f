"""The API's front door: routing from the spec's paths, 404/405/OPTIONS, slashes, the announced body size."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .context import ROUTED, Outcome, Routed, answered_by, session_name
from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge
from .limits import MAX_BODY_BYTES
from .overrides import take_query_preferences
from .spec import Contract


class ContractEdge:
    """Routes every request by the spec's path table.

    * a path of the spec is served with or without its trailing slash (no redirect); the request goes
      down with the slash and its `context.Routed`: operationId, path parameters, session, and
      Prism's query preferences (`__code`, `__example`, `__delay`, `__dynamic`), taken out of the
      query string before strict query validation sees it (`overrides.take_query_preferences`);
    * an unknown path is 404, a known path with another method 405 with an `Allow` header listing
      every method of that path and OPTIONS; OPTIONS answers 204 with the same list;
    * a body announced by `Content-Length` as larger than the limit is 413 at once (request
      validation reads the others within the limits, after the credentials were checked).
    Swagger UI (`…/ui`, `…/ui/…`) and the served spec (`…/openapi.json`, `…/openapi.yaml`) go to
    `docs`; any other path under the base path is routed, so a near miss is a 404.
    """

    def __init__(self, app: ASGIApp, contract: Contract, *, docs: ASGIApp,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.docs = docs
        self.contract = contract
        self.max_body = max_body
        base = contract.base_path
        self.docs_paths = frozenset({f"{base}/ui", f"{base}/openapi.json", f"{base}/openapi.yaml"})
        self.docs_prefix = f"{base}/ui/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the API has none: refused before the handshake (HTTP 403)
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths or scope["path"].startswith(self.docs_prefix):
            await self.docs(scope, receive, send)
            return
        found = self.contract.route_for(scope["path"])
        if found is None:
            await _refuse(NotFound("Not found."), None, scope, receive, send)
            return
        route, path_params = found
        method = scope["method"]
        allowed = (*route.methods, "OPTIONS")  # the same list in a 405 and in the answer to OPTIONS
        if method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": ", ".join(allowed)})(
                scope, receive, answered_by(send, Outcome("routing")))
            return
        if method not in route.methods:
            await _refuse(MethodNotAllowed(method, allowed), None, scope, receive, send)
            return
        operation_id = route.operations[method]
        headers = Headers(scope=scope)
        for length in headers.getlist("content-length"):
            if length.isascii() and length.isdigit() and int(length) > self.max_body:
                await _refuse(PayloadTooLarge(f"Request body is larger than {self.max_body} bytes.", layer="routing"),
                              operation_id,
                              scope, receive, send)
                return
        path = scope["path"] if scope["path"].endswith("/") else scope["path"] + "/"
        query, preferences = take_query_preferences(scope.get("query_string", b""))
        routed = Routed(operation_id, path_params, session_name(headers), preferences,
                        ", ".join(headers.getlist("prefer")))
        scope = {**scope, "path": path, "raw_path": path.encode(), "query_string": query, ROUTED: routed}
        await self.app(scope, receive, send)


async def _refuse(error: ApiError, operation_id: str | None, scope: Scope, receive: Receive, send: Send) -> None:
    await error.to_response()(scope, receive, answered_by(send, Outcome(error.layer, operation_id, error=error)))
