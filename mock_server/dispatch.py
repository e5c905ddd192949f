"""The innermost ASGI app: call the handler of the operation routed, authenticated and validated."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import URL
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .context import CALLER, ROUTED, VALIDATED, Caller, Outcome, Routed, Validated, answered_by
from .overrides import ResponseOverrides
from .sessions import Sessions

Handler = Callable[..., Awaitable[Response]]


class Dispatcher:
    """Hands each handler the world of the caller's session (`X-Mock-Session`), the caller's
    organization and what validation read: the parameters (typed, with the spec's defaults), and,
    to the handlers that ask by name, `body` and `url`.

    By then the request has been routed, the credentials checked and parameters and body validated
    against the spec, so it only unpacks. That is also why the answers a developer forces
    (`overrides`: Prefer, faults, latency) are decided here: only a request that would reach its
    handler can have one.
    """

    def __init__(self, handlers: dict[str, Handler], sessions: Sessions,
                 overrides: ResponseOverrides | None = None) -> None:
        self.handlers = handlers
        self.sessions = sessions
        self.overrides = overrides
        self.wants = {op: set(inspect.signature(h).parameters) & {"body", "url"} for op, h in handlers.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed: Routed = scope[ROUTED]
        caller: Caller = scope[CALLER]
        validated: Validated = scope[VALIDATED]
        operation_id = routed.operation_id
        kwargs: dict[str, Any] = dict(validated.params)
        wants = self.wants[operation_id]
        if "body" in wants:
            kwargs["body"] = validated.body
        if "url" in wants:
            kwargs["url"] = URL(scope=scope)
        session = self.sessions.get(routed.session)
        forced = await self.overrides.answer(routed, session.faults) if self.overrides else None
        if forced is not None:
            response, outcome = forced
        else:
            response = await self.handlers[operation_id](session.store, caller.organization_id, **kwargs)
            outcome = Outcome("handler", operation_id)
        await response(scope, receive, answered_by(send, outcome))
