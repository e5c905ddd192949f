"""The ASGI layer in front of Connexion: routing from the spec's paths, 404/405/OPTIONS, slashes, the body."""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge, RequestTimeout
from .limits import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES
from .overrides import take_query_preferences
from .request_log import note_error, note_operation
from .spec import Contract

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ROUTING = "connexion_routing"  # the scope extension Connexion's routing middleware would fill in


async def read_body(receive: Receive, *, limit: int = MAX_BODY_BYTES,
                    timeout: float = BODY_TIMEOUT_SECONDS) -> bytes:
    """The whole request body: 413 past `limit` bytes, 408 when it has not all arrived within
    `timeout` seconds (a client that stalls mid-body holds nothing for longer), ClientDisconnect
    when the client goes away."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestTimeout(f"The request body did not arrive within {timeout:g} s.") from None


class ContractEdge:
    """Routes every request by the spec's path table before Connexion sees it.

    * a path of the spec is served with or without its trailing slash (no redirect), and the
      operationId and path parameters go into the scope where Connexion's security and validation
      middlewares look for them (so Connexion's own router is not needed);
    * Prism's query preferences (`__code`, `__example`, `__delay`, `__dynamic`) are taken out of the
      query string before strict query validation sees it, for the dispatcher to apply like `Prefer`
      (`overrides.take_query_preferences`);
    * an unknown path is 404, a known path with another method 405 with an `Allow` header listing
      every method of that path; OPTIONS answers 204 with it;
    * a body is held to the size and time limits: one announced by `Content-Length` as it is read
      (by request validation, after the credentials were checked: a 401 does not wait for a body),
      one streamed without it read whole here (`read_body`) and handed on with its length, which
      Connexion needs to see a body at all.
    Swagger UI (`…/ui`, `…/ui/…`) and the served spec (`…/openapi.json`, `…/openapi.yaml`) go to
    `docs` untouched; any other path under the base path is routed, so a near miss is a 404.
    """

    def __init__(self, app: ASGIApp, contract: Contract, *, docs: ASGIApp | None = None,
                 max_body: int = MAX_BODY_BYTES, body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        self.app = app
        self.docs = docs or app
        self.contract = contract
        self.max_body = max_body
        self.body_timeout = body_timeout
        base = contract.base_path
        self.docs_paths = frozenset({f"{base}/ui", f"{base}/openapi.json", f"{base}/openapi.yaml"})
        self.docs_prefix = f"{base}/ui/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths or scope["path"].startswith(self.docs_prefix):
            await self.docs(scope, receive, send)
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
        headers = Headers(scope=scope)
        refusal = self._refusal(method, route.methods, headers)
        if refusal is not None:
            await _refuse(refusal, scope, receive, send)
            return
        path = scope["path"] if scope["path"].endswith("/") else scope["path"] + "/"
        operation_id = route.operations[method]
        note_operation(scope, operation_id)
        extensions = {**scope.get("extensions", {}),
                      _ROUTING: {"api_base_path": self.contract.base_path, "operation_id": operation_id}}
        scope = take_query_preferences(
            dict(scope, path=path, raw_path=path.encode(), path_params=path_params, extensions=extensions))
        if method in _BODY_METHODS and "content-length" in headers:
            receive = _bounded(receive, limit=self.max_body, timeout=self.body_timeout)
        elif method in _BODY_METHODS:
            try:
                body = await read_body(receive, limit=self.max_body, timeout=self.body_timeout)
            except ClientDisconnect:
                return
            except ApiError as error:
                await _refuse(error, scope, receive, send)
                return
            scope, receive = _with_body(scope, receive, body)
        await self.app(scope, receive, send)

    def _refusal(self, method: str, methods: tuple[str, ...], headers: Headers) -> ApiError | None:
        if method not in methods:
            return MethodNotAllowed(method, methods)
        for length in headers.getlist("content-length"):
            if length.isascii() and length.isdigit() and int(length) > self.max_body:
                return PayloadTooLarge(f"Request body is larger than {self.max_body} bytes.")
        return None


def _bounded(receive: Receive, *, limit: int, timeout: float) -> Receive:
    """`receive` held to `read_body`'s limits while the body arrives: 413 past `limit` bytes, 408 when
    it is not all there `timeout` seconds after the request came (raised to whoever reads it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    size = 0
    complete = False

    async def bounded() -> Message:
        nonlocal size, complete
        if complete:
            return await receive()  # after the body: waiting for a disconnect has no deadline
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise RequestTimeout(f"The request body did not arrive within {timeout:g} s.") from None
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
            complete = not message.get("more_body", False)
        return message

    return bounded


def _with_body(scope: Scope, receive: Receive, body: bytes) -> tuple[Scope, Receive]:
    """The request with `body` already read: replayed to the next app, its length in the headers."""
    length = str(len(body)).encode()
    headers = [*scope["headers"], (b"content-length", length)]
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
