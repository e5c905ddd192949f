"""What each layer learns about a request and passes on: typed objects under scope keys the layer owns.

Down, once: `ContractEdge` routes (`Routed`), `Authentication` names the caller (`Caller`),
`RequestValidation` parses (`Validated`); each adds its object to a copy of the scope for the layers
below it, and nobody changes what another layer put there.
Back, once: whoever answers attaches an `Outcome` to the response start message (`answered_by`);
`RequestLog`, which wraps `send` as Starlette's middlewares do, takes it off before the message
leaves the mock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.types import Message, Scope, Send

if TYPE_CHECKING:
    from .errors import ApiError

ROUTED = "mock.routed"
CALLER = "mock.caller"
VALIDATED = "mock.validated"
OUTCOME = "mock.outcome"  # key of the response start message
SESSION_HEADER = "x-mock-session"



def session_name(headers: Headers) -> str | None:
    """The request's `X-Mock-Session` (None without it: the default session)."""
    return headers.get(SESSION_HEADER, "").strip() or None


@dataclass(frozen=True)
class Routed:
    """The operation a request is for, found from the spec's paths by `ContractEdge`."""

    operation_id: str
    path_params: Mapping[str, str]
    session: str | None
    preferences: Mapping[str, str] = field(default_factory=dict)  # Prism's query preferences, taken out of the query
    prefer: str = ""  # the `Prefer` header(s), joined


@dataclass(frozen=True)
class Caller:
    """Who is calling: the organization their credentials belong to."""

    organization_id: str


@dataclass(frozen=True)
class Validated:
    """The request as validation read it: parameters typed, with the spec's defaults, and the body."""

    params: Mapping[str, Any]
    body: Any = None


@dataclass(frozen=True)
class Outcome:
    """Who answered a request and why: the layer (routing, auth, validation, rules, forced, fault, handler;
    the request log adds docs and none), the error it answered with, or the forced answer asked for."""

    layer: str
    operation_id: str | None = None
    error: ApiError | None = None
    forced: str | None = None
    # In proxy mode (proxy.py): what the request and the upstream's answer break, as the contract
    # suite's attribution judged them, and who answered (upstream or mock) in how long.
    findings: tuple[Mapping[str, Any], ...] = ()
    proxy: Mapping[str, Any] | None = None


def with_scope(scope: Scope, key: str, value: object) -> Scope:
    """A copy of `scope` with one more entry, for the layers below."""
    return {**scope, key: value}


def answered_by(send: Send, outcome: Outcome) -> Send:
    """`send` that attaches `outcome` to the response start message."""

    async def attach(message: Message) -> None:
        if message["type"] == "http.response.start" and OUTCOME not in message:  # the innermost answer wins
            message = {**message, OUTCOME: outcome}
        await send(message)

    return attach
