"""Bearer tokens to organizations: development API keys from the fixtures, and HS256 dashboard JWTs.

`Authentication` checks the credentials of each routed request against the security requirements
its operation has in the spec and passes the caller's organization down (`context.Caller`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jwt
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .context import CALLER, ROUTED, Caller, Routed, with_scope
from .errors import Unauthorized
from .spec import Contract
from .store import Store

DEFAULT_JWT_SECRET = "dev-only-experiments-mock-secret-change-me"
JWT_ALGORITHM = "HS256"
logger = logging.getLogger("mock_server.auth")

TokenCheck = Callable[[str], str | None]  # the organization, None for a token not of its shape; raises Unauthorized


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def mint_jwt(org_id: str, secret: str, *, ttl_seconds: int = 3600, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return jwt.encode({"org_id": org_id, "iat": issued, "exp": issued + ttl_seconds}, secret,
                      algorithm=JWT_ALGORITHM)


class Authenticator:
    """The two security schemes of the spec. Each answers only for tokens of its own shape, so a
    failure names the real reason (an expired JWT is not reported as an unknown API key)."""

    def __init__(self, store: Store, jwt_secret: str) -> None:
        self.store = store
        self.jwt_secret = jwt_secret

    def api_key(self, token: str) -> str | None:
        if looks_like_jwt(token):
            return None
        org_id = self.store.organization_for_key(token)
        if org_id is None:
            logger.info("rejected an unknown API key")
            raise Unauthorized("Invalid API key.")
        return org_id

    def dashboard_jwt(self, token: str) -> str | None:
        if not looks_like_jwt(token):
            return None
        try:
            # exp is checked below: PyJWT reads `"exp": true` as 1 (long expired) and `"exp": "1999999999"`
            # as a number, where RFC 7519 says NumericDate, a JSON number: both are invalid, not expired.
            claims = jwt.decode(token, self.jwt_secret, algorithms=[JWT_ALGORITHM],
                                options={"require": ["exp", "org_id"], "verify_exp": False})
        except jwt.InvalidTokenError as exc:
            logger.info("rejected a JWT: %s", type(exc).__name__)
            raise Unauthorized("Invalid token.") from None
        exp = claims["exp"]
        if not isinstance(exp, int | float) or isinstance(exp, bool) or exp != exp:
            logger.info("rejected a JWT: exp is not a number")
            raise Unauthorized("Invalid token.")
        if exp <= time.time():
            raise Unauthorized("Token has expired.")
        org_id = claims["org_id"]
        if not isinstance(org_id, str) or not self.store.has_organization(org_id):
            raise Unauthorized("Invalid token: unknown organization.")
        return org_id

    def accepts(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header holds credentials of an organization (API key or dashboard JWT)."""
        try:
            self.organization(authorization, [self.api_key, self.dashboard_jwt])
        except Unauthorized:
            return False
        return True

    def for_scheme(self, scheme: Mapping[str, Any]) -> TokenCheck:
        """The check of an HTTP bearer security scheme, picked by its `bearerFormat`."""
        if scheme.get("type") != "http" or str(scheme.get("scheme", "")).lower() != "bearer":
            raise ValueError(f"the mock serves HTTP bearer schemes only, not {dict(scheme)}")
        return self.dashboard_jwt if scheme.get("bearerFormat") == "JWT" else self.api_key

    @staticmethod
    def organization(authorization: str | None, checks: Sequence[TokenCheck]) -> str:
        """The organization of an `Authorization` header under any of `checks`, or Unauthorized."""
        if not authorization:
            raise Unauthorized()
        parts = authorization.split(maxsplit=1)
        if len(parts) != 2:
            raise Unauthorized("Invalid authorization header")
        kind, token = parts
        if kind.lower() != "bearer":
            raise Unauthorized()
        for check in checks:
            org_id = check(token)
            if org_id is not None:
                return org_id
        raise Unauthorized()


class Authentication:
    """Requires the credentials each operation's `security` asks for (operations without any pass)."""

    def __init__(self, app: ASGIApp, contract: Contract, authenticator: Authenticator) -> None:
        self.app = app
        schemes = contract.document.get("components", {}).get("securitySchemes", {})
        self.checks: dict[str, list[TokenCheck]] = {}
        for operation_id, operation in contract.operations().items():
            requirements = operation.get("security", contract.document.get("security", []))
            if not requirements or any(not requirement for requirement in requirements):
                # Every experiment belongs to an organization: the mock cannot serve a caller it cannot name.
                raise ValueError(f"operation {operation_id} does not require credentials (`security` empty or "
                                 "with `{}`); the mock serves operations whose caller is an organization only")
            names = [name for requirement in requirements for name in requirement]
            self.checks[operation_id] = [authenticator.for_scheme(schemes[name]) for name in names]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed: Routed = scope[ROUTED]  # below the edge, every request is routed
        org_id = Authenticator.organization(Headers(scope=scope).get("authorization"),
                                            self.checks[routed.operation_id])
        await self.app(with_scope(scope, CALLER, Caller(org_id)), receive, send)
