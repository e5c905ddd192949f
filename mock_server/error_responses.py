"""The one layer that turns what the layers below raise into answers: the API's errors, the rules'
refusals, and anything unexpected (a 500 without details)."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import ROUTED, Outcome, answered_by
from .errors import ApiError, as_api_error

logger = logging.getLogger("mock_server")


class ErrorResponses:
    """Answers what the layers below raise: the API's errors and the rules' refusals in the API's error
    shape, anything unexpected as a 500 without details (logged with its traceback). The answer carries
    its `Outcome`, so the request log can say which layer refused and why."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            return
        except Exception as exc:
            if started:
                raise
            error = as_api_error(exc)
            if error is None:
                logger.error("unexpected error", exc_info=exc)
                error = ApiError("Internal server error.", status=500, layer="handler")
            routed = scope.get(ROUTED)
            outcome = Outcome(error.layer, routed.operation_id if routed else None, error=error)
            await error.to_response()(scope, receive, answered_by(send, outcome))
