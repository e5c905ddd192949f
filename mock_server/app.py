"""Build the mock: the layers from the request's front door to the handlers, and what Connexion serves.

    CORS → RequestGuard → RequestLog → AdminPrefix (/__mock__) → ContractEdge (routing; docs → Connexion)
      → ErrorResponses → Authentication → RequestValidation [→ Connexion's response validation]
      → Dispatcher → handlers → rules → store

Connexion serves Swagger UI (the spec documents beside it are the mock's own, docs.py), and with
`--validate-responses` checks every response against the spec; both through its documented parts
(`ConnexionMiddleware` with a chosen middleware list, `add_api`, a function resolver,
`SwaggerUIOptions`). Routing, credentials and request validation are the mock's own plain-Starlette
layers above, built once from the spec (see docs/contributor.md, "How the mock is built", for why).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import connexion
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .admin import Admin, AdminPrefix
from .auth import DEFAULT_JWT_SECRET, Authentication, Authenticator
from .clock import Clock
from .dispatch import Dispatcher, Handler
from .docs import SpecDocuments
from .edge import ContractEdge
from .error_responses import ErrorResponses
from .errors import NotFound
from .fixtures import DEFAULT_FIXTURES, load_world
from .guard import LOOPBACK_NAMES, RequestGuard
from .handlers import Handlers
from .lifecycle import AutoLifecycle
from .limits import BODY_TIMEOUT_SECONDS
from .logs import Masker
from .overrides import Latency, ResponseOverrides
from .request_log import RequestLog
from .request_validation import RequestValidation
from .sessions import Session, Sessions
from .spec import SPEC_PATH, Contract, load_document
from .store import Store, World
from .validation import ValidatorCache

BASE_PATH = "/api/v2"
LOCAL_ORIGINS = r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$"
logger = logging.getLogger("mock_server")


@dataclass
class MockApp:
    """The running mock: the ASGI app to serve plus the parts tests and tools reach into."""

    asgi: ASGIApp
    sessions: Sessions
    contract: Contract
    authenticator: Authenticator
    forwarder: ASGIApp | None = None  # proxy mode: what answers the API's requests in place of the mock

    @property
    def session(self) -> Session:
        """The default session (requests without `X-Mock-Session`)."""
        return self.sessions.default

    @property
    def store(self) -> Store:
        """The default session's world."""
        return self.sessions.default.store


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    await NotFound("Not found.").to_response()(scope, receive, send)


def _connexion(app: ASGIApp, contract: Contract, middlewares: list[Any], operations: Mapping[str, Handler],
               **options: Any) -> ASGIApp:
    """Connexion around `app` with only `middlewares`, for the spec as the mock serves it."""
    middleware = connexion.ConnexionMiddleware(app, middlewares=middlewares,
                                               swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"))
    middleware.add_api(copy.deepcopy(contract.document), base_path=contract.base_path,
                       resolver=Resolver(function_resolver=operations.__getitem__), **options)
    app_with_connexion: ASGIApp = middleware
    return app_with_connexion


class _Lifespan:
    """Answers the server's lifespan messages (the mock has nothing to start; a proxy closes its
    connections to the upstream at shutdown: `on_shutdown`)."""

    def __init__(self, app: ASGIApp, on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _origin_check(cors_origins: Sequence[str]) -> Callable[[str], bool]:
    """Whether a browser `Origin` is one the mock allows (what CORSMiddleware below is given)."""
    if "*" in cors_origins:
        return lambda origin: True
    if cors_origins:
        allowed = frozenset(cors_origins)
        return allowed.__contains__
    local = re.compile(LOCAL_ORIGINS)
    return lambda origin: local.fullmatch(origin) is not None


def build_app(*, fixtures: Path | None = None, world: World | None = None,
              jwt_secret: str = DEFAULT_JWT_SECRET, validate_responses: bool = False,
              cors_origins: Sequence[str] = (), spec_path: Path = SPEC_PATH, lifecycle: AutoLifecycle | None = None,
              clock: Clock | None = None, latency: Latency | None = None, admin: bool = True,
              admin_token: str | None = None, allowed_hosts: Sequence[str] = (), log_json: bool = False,
              max_sessions: int = 32, body_timeout: float = BODY_TIMEOUT_SECONDS,
              forwarder: Callable[[Contract, ASGIApp, ASGIApp, Sessions], ASGIApp] | None = None) -> MockApp:
    """The mock as an ASGI app. It answers requests whose Host is a loopback name or one of
    `allowed_hosts`; `admin_token`, when given, is required by every /__mock__ call. `clock` is where
    its time comes from (the system's by default). `forwarder` (proxy mode, proxy.py) is handed the
    contract, the mock's API line, the documents and the sessions, and what it builds answers the
    API's requests in place of the mock, behind the same guard, log, controls and CORS."""
    contract = Contract(load_document(spec_path), base_path=BASE_PATH)
    if world is None:
        world = load_world(contract, fixtures or DEFAULT_FIXTURES)
    sessions = Sessions(world, clock=clock, lifecycle=lifecycle, limit=max_sessions)
    # API keys and organizations are the same in every session.
    authenticator = Authenticator(sessions.default.store, jwt_secret)
    operations = Handlers(contract).by_operation_id(list(contract.operations()))

    api: ASGIApp = Dispatcher(operations, sessions, ResponseOverrides(contract, latency))
    if validate_responses:
        api = _connexion(api, contract, [RoutingMiddleware, ResponseValidationMiddleware], operations,
                         validate_responses=True)
    api = RequestValidation(api, contract, ValidatorCache(contract.response_only_fields), body_timeout=body_timeout)
    api = Authentication(api, contract, authenticator)
    api = ErrorResponses(api)
    # Swagger UI from Connexion; the documents it reads are the contract as written (docs.py).
    docs = ErrorResponses(SpecDocuments(_connexion(_not_found, contract, [SwaggerUIMiddleware], operations),
                                        BASE_PATH, contract.document))
    api = ContractEdge(api, contract, docs=docs)
    forwarding = forwarder(contract, api, docs, sessions) if forwarder is not None else None
    if forwarding is not None:
        api = forwarding

    controls = None
    if admin:
        controls = ErrorResponses(Admin(contract, sessions, token=admin_token, body_timeout=body_timeout))
    asgi: ASGIApp = AdminPrefix(api, controls)
    mask = Masker([*sessions.default.store.api_keys(), *([admin_token] if admin_token else [])])
    asgi = RequestLog(asgi, contract, sessions, json_lines=log_json, clock=sessions.clock,
                      origin_allowed=_origin_check(cors_origins), mask=mask, credentials_ok=authenticator.accepts)
    asgi = RequestGuard(asgi, allowed_hosts=[*LOOPBACK_NAMES, *allowed_hosts], mask=mask)
    # For an allowed origin a preflight may ask for any header (as in Prism): what real apps add
    # (traceparent, baggage, sentry-trace, x-request-id, …) is not ours to list. "*" among the
    # origins allows every origin, never with credentials (Starlette then answers `*`).
    asgi = CORSMiddleware(
        asgi,
        allow_origins=list(cors_origins),
        allow_origin_regex=None if cors_origins else LOCAL_ORIGINS,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=False,
        expose_headers=["WWW-Authenticate", "Allow", "Retry-After", "X-Contract-Findings"],
        max_age=600,
    )
    return MockApp(asgi=_Lifespan(asgi, getattr(forwarding, "aclose", None)), sessions=sessions, contract=contract,
                   authenticator=authenticator, forwarder=forwarding)
