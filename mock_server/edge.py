"""The ASGI layer in front of Connexion: trailing slashes, 404/405 with `Allow`, OPTIONS and body size."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import MethodNotAllowed, NotFound, PayloadTooLarge
from .spec import Contract

MAX_BODY_BYTES = 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ContractEdge:
    """Answers what the route table alone decides, so Connexion only sees requests it can route.

    * a path of the spec without its trailing slash is served as if it had it (no redirect);
    * an unknown path under the API's resource prefix is 404, a known path with another method
      405 with an `Allow` header listing every method of that path; OPTIONS answers 204 with it;
    * a body over 1 MiB is 413, whether announced by `Content-Length` or streamed.
    """

    def __init__(self, app: ASGIApp, contract: Contract, *, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.contract = contract
        self.max_body = max_body
        self.resource_prefix = contract.base_path + "/experiments"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.resource_prefix):
            await self.app(scope, receive, send)
            return
        early = self._early_response(scope)
        if early is not None:
            await early(scope, receive, send)
            return
        path = scope["path"]
        if not path.endswith("/"):
            scope = dict(scope, path=path + "/", raw_path=(path + "/").encode())
        if scope["method"] in _BODY_METHODS and not _has_header(scope, b"content-length"):
            try:
                scope, receive = await self._buffer_unsized_body(scope, receive)
            except PayloadTooLarge as error:
                await error.to_response()(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _early_response(self, scope: Scope) -> Response | None:
        route = self.contract.route_for(scope["path"])
        if route is None:
            return NotFound("Not found.").to_response()
        method = scope["method"]
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ", ".join((*route.methods, "OPTIONS"))})
        if method not in route.methods:
            return MethodNotAllowed(method, route.methods).to_response()
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return self._too_large().to_response()
        return None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Request body is larger than {self.max_body} bytes.")

    async def _buffer_unsized_body(self, scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        """Read a chunked body (up to the limit) and hand it on with a `Content-Length`.

        Connexion treats a body without `Content-Length` as absent; buffering here also lets the
        size limit apply to streamed bodies.
        """
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


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key == name for key, _ in scope["headers"])
