"""Build the mock: Connexion from openapi.yaml, our validators and security, error mapping, CORS."""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import connexion
from connexion.exceptions import OAuthProblem, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.security import BearerSecurityHandler
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from . import jsonio
from .admin import Admin, AdminPrefix
from .auth import DEFAULT_JWT_SECRET, Authenticator
from .dispatch import Dispatcher
from .docs import BuiltOnceDocuments
from .edge import ContractEdge
from .errors import ApiError, MalformedRequest, NotFound, Unauthorized, UnsupportedMediaType
from .fixtures import DEFAULT_FIXTURES, load_world
from .guard import LOOPBACK_NAMES, RequestGuard
from .handlers import Handlers
from .lifecycle import AutoClock
from .limits import BODY_TIMEOUT_SECONDS
from .overrides import Latency, ResponseOverrides
from .request_log import RequestLog, note_error
from .request_validation import PrebuiltRequestValidationMiddleware, build_validator_map
from .spec import SPEC_PATH, Contract, load_document
from .store import Sessions, Store, World
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

    @property
    def store(self) -> Store:
        """The default session's world (requests without `X-Mock-Session`)."""
        return self.sessions.default


def _error_response(error: ApiError) -> ConnexionResponse:
    return ConnexionResponse(status_code=error.status_code, mimetype="application/json",
                             body=jsonio.dumps(error.body()), headers=error.headers)


def _as_api_error(exc: Exception) -> ApiError:
    """Connexion's and Starlette's own errors, in the API's error shape."""
    if isinstance(exc, ApiError):
        return exc
    status = getattr(exc, "status", None) or getattr(exc, "status_code", 500)
    detail = str(getattr(exc, "detail", "") or "")
    if status == 401:
        # Connexion says "No authorization token provided"; production says DRF's sentence.
        return Unauthorized(detail if "provided" not in detail else Unauthorized().detail)
    if status == 404:
        return NotFound("Not found.")
    if status == 415:
        return UnsupportedMediaType("Unsupported media type in request; send application/json.")
    if status == 400:
        return MalformedRequest(detail or "Bad request.")
    return ApiError(detail or "Error.", status=status)


async def _handle_known(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    error = _as_api_error(exc)
    note_error(request.scope, error)
    return _error_response(error)


async def _handle_unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unexpected error", exc_info=exc)
    return _error_response(ApiError("Internal server error.", status=500))


class _DocsSwaggerUI(SwaggerUIMiddleware):
    """Swagger UI that lets API requests (already routed by `ContractEdge`) skip its router."""

    async def __call__(self, scope, receive, send):  # type: ignore[override]
        if "connexion_routing" in scope.get("extensions", {}):
            await self.app(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _middlewares(validate_responses: bool) -> list[type]:
    """Connexion's middleware stack, minus what the mock does without on its hot path: routing is
    done by `ContractEdge` from the spec's path table (so Swagger UI's router only sees the docs
    paths); request validation is swapped for one that
    reuses its validators; response validation only when asked; no context middleware (handlers
    get what they need from the dispatcher); the lifespan is answered by the dispatcher."""
    stack: list[type] = [ServerErrorMiddleware, ExceptionMiddleware, _DocsSwaggerUI,
                         SecurityMiddleware, PrebuiltRequestValidationMiddleware]
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    return stack


def build_app(*, fixtures: Path | None = None, world: World | None = None,
              jwt_secret: str = DEFAULT_JWT_SECRET, validate_responses: bool = False,
              cors_origins: Sequence[str] = (), spec_path: Path = SPEC_PATH, clock: AutoClock | None = None,
              latency: Latency | None = None, admin: bool = True, admin_token: str | None = None,
              allowed_hosts: Sequence[str] = (), log_json: bool = False, max_sessions: int = 32,
              body_timeout: float = BODY_TIMEOUT_SECONDS) -> MockApp:
    """The mock as an ASGI app. It answers requests whose Host is a loopback name or one of
    `allowed_hosts`; `admin_token`, when given, is required by every /__mock__ call."""
    contract = Contract(load_document(spec_path), base_path=BASE_PATH)
    if world is None:
        world = load_world(contract, fixtures or DEFAULT_FIXTURES)
    sessions = Sessions(world, clock=clock, limit=max_sessions)
    authenticator = Authenticator(sessions.default, jwt_secret)  # keys and organizations: the same in every session
    handlers = Handlers(contract)

    operations = handlers.by_operation_id(list(contract.operations()))

    class SchemeBearer(BearerSecurityHandler):
        """Bearer auth whose token check is picked by the scheme's `bearerFormat`."""

        def _resolve_func(self, security_scheme):  # type: ignore[override]
            return authenticator.for_scheme(security_scheme)

        def _generic_check(self, func, exception_msg):  # type: ignore[override]
            # Connexion's version inspects `func`'s signature on every request; ours take the token only.
            async def check(request, token, required_scopes=None):
                info = func(token)
                if info is None:
                    raise OAuthProblem(detail=exception_msg)
                return info

            return check

    # Connexion as middleware around our own dispatcher: it routes, authenticates and validates
    # from the spec; the dispatcher calls the handler. (Connexion's own app layer added parameter
    # injection by signature inspection on every request, for a third of the time of a request.)
    app = connexion.ConnexionMiddleware(
        Dispatcher(operations, sessions, ResponseOverrides(contract, latency)),
        middlewares=_middlewares(validate_responses),
        security_map={"bearer": SchemeBearer},
        validator_map=build_validator_map(ValidatorCache(contract.response_only_fields)),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
    )
    app.add_api(
        copy.deepcopy(contract.document),
        base_path=BASE_PATH,
        resolver=Resolver(function_resolver=operations.__getitem__),
        strict_validation=True,
        validate_responses=validate_responses,
    )
    for exc_class in (ApiError, ProblemException, HTTPException):
        app.add_error_handler(exc_class, _handle_known)
    app.add_error_handler(Exception, _handle_unexpected)

    controls = Admin(contract, sessions, token=admin_token, body_timeout=body_timeout) if admin else None
    asgi: ASGIApp = ContractEdge(app, contract, docs=BuiltOnceDocuments(app, BASE_PATH), body_timeout=body_timeout)
    asgi = AdminPrefix(asgi, controls)
    asgi = RequestLog(asgi, contract, sessions, json_lines=log_json)
    asgi = RequestGuard(asgi, allowed_hosts=[*LOOPBACK_NAMES, *allowed_hosts])
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
        expose_headers=["WWW-Authenticate", "Allow", "Retry-After"],
        max_age=600,
    )
    return MockApp(asgi=asgi, sessions=sessions, contract=contract, authenticator=authenticator)
