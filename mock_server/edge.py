"""The ASGI layer in front of Connexion: routing from the spec's paths, 404/405/OPTIONS, slashes, body size."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge
from .request_log import note_error, note_operation
from .spec import Contract

MAX_BODY_BYTES = 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ROUTING = "connexion_routing"  # the scope extension Connexion's routing middleware would fill in


class ContractEdge:
    """Routes every request by the spec's path table before Connexion sees it.

    * a path of the spec is served with or without its trailing slash (no redirect), and the
      operationId and path parameters go into the scope where Connexion's security and validation
      middlewares look for them (so Connexion's own router is not needed);
    * an unknown path is 404, a known path with another method 405 with an `Allow` header listing
      every method of that path; OPTIONS answers 204 with it;
    * a body over 1 MiB is 413, whether announced by `Content-Length` or streamed (a streamed body
      is buffered and handed on with a `Content-Length`, which Connexion needs to see a body at all).
    Swagger UI and the served spec (`docs_prefix`) pass through untouched.
    """

    def __init__(self, app: ASGIApp, contract: Contract, *, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.contract = contract
        self.max_body = max_body
        self.docs_paths = tuple(contract.base_path + suffix for suffix in ("/ui", "/openapi.json", "/openapi.yaml"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.docs_paths):
            await self.app(scope, receive, send)
            return
        found = self.contract.route_for(scope["path"])
        if found is None:
            await _refuse(NotFound("Not found."), scope, receive, send)
            return
        route, path_params = found
        method = scope["method"]
        if method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": ", ".join((*route.methods, "OPTIONS"))})(
                scope, receive, send)
            return
        refusal = self._refusal(method, route.methods, scope)
        if refusal is not None:
            await _refuse(refusal, scope, receive, send)
            return
        path = scope["path"] if scope["path"].endswith("/") else scope["path"] + "/"
        operation_id = route.operations[method]
        note_operation(scope, operation_id)
        extensions = {**scope.get("extensions", {}),
                      _ROUTING: {"api_base_path": self.contract.base_path, "operation_id": operation_id}}
        scope = dict(scope, path=path, raw_path=path.encode(), path_params=path_params, extensions=extensions)
        if method in _BODY_METHODS and not _has_header(scope, b"content-length"):
            try:
                scope, receive = await self._buffer_unsized_body(scope, receive)
            except PayloadTooLarge as error:
                await _refuse(error, scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, method: str, methods: tuple[str, ...], scope: Scope) -> ApiError | None:
        if method not in methods:
            return MethodNotAllowed(method, methods)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return self._too_large()
        return None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Request body is larger than {self.max_body} bytes.")

    async def _buffer_unsized_body(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                raise self._too_large()
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = [*scope["headers"], (b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return dict(scope, headers=headers), replay


async def _refuse(error: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    note_error(scope, error)
    await error.to_response()(scope, receive, send)


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key == name for key, _ in scope["headers"])
