"""The innermost ASGI app: call the handler of the operation routed, authenticated and validated."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.datastructures import URL
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .request_validation import parsed_request
from .session_header import session_name
from .store import Sessions

if TYPE_CHECKING:
    from .overrides import ResponseOverrides

Handler = Callable[..., Awaitable[Response]]


class Dispatcher:
    """Hands each handler the world of the caller's session (`X-Mock-Session`), the caller's
    organization and what validation parsed: its parameters (typed, with the spec's defaults),
    and, to the handlers that ask by name, `body` and `url`.

    It stands where Connexion's own app would: by then the request has been routed, the
    credentials checked and parameters and body validated against the spec, so it only unpacks.
    That is also why the answers a developer forces (`overrides`: Prefer, faults, latency) are
    decided here: only a request that would reach its handler can have one.
    """

    def __init__(self, handlers: dict[str, Handler], sessions: Sessions,
                 overrides: ResponseOverrides | None = None) -> None:
        self.handlers = handlers
        self.sessions = sessions
        self.overrides = overrides
        self.wants = {op: set(inspect.signature(h).parameters) & {"body", "url"} for op, h in handlers.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        extensions = scope["extensions"]
        operation_id = extensions["connexion_routing"]["operation_id"]
        parsed = parsed_request(scope)
        kwargs = dict(parsed.get("params", {}))
        wants = self.wants[operation_id]
        if "body" in wants:
            kwargs["body"] = parsed.get("body")
        if "url" in wants:
            kwargs["url"] = URL(scope=scope)
        store = self.sessions.get(session_name(scope))
        response = await self.overrides.answer(scope, operation_id, store) if self.overrides else None
        if response is None:
            response = await self.handlers[operation_id](store, extensions["connexion_context"]["user"], **kwargs)
        await response(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
