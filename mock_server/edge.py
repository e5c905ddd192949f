"""The ASGI layer in front of Connexion: trailing slashes, 404/405 with `Allow`, OPTIONS and body size."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import MethodNotAllowed, NotFound, PayloadTooLarge
from .spec import Contract

MAX_BODY_BYTES = 1024 * 1024


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
        await self.app(scope, self._limited(receive), send)

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

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise self._too_large()
            return message

        return limited_receive
