"""Bearer tokens to organizations: development API keys from the fixtures, and HS256 dashboard JWTs."""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt
from connexion.exceptions import OAuthProblem
from connexion.security import NO_VALUE

from .store import Store

DEFAULT_JWT_SECRET = "dev-only-experiments-mock-secret-change-me"
JWT_ALGORITHM = "HS256"
logger = logging.getLogger("mock_server.auth")


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

    def api_key(self, token: str) -> Any:
        if looks_like_jwt(token):
            return NO_VALUE
        org_id = self.store.organization_for_key(token)
        if org_id is None:
            logger.info("rejected an unknown API key")
            raise OAuthProblem(detail="Invalid API key.")
        return {"sub": org_id}

    def dashboard_jwt(self, token: str) -> Any:
        if not looks_like_jwt(token):
            return NO_VALUE
        try:
            claims = jwt.decode(token, self.jwt_secret, algorithms=[JWT_ALGORITHM],
                                options={"require": ["exp", "org_id"]})
        except jwt.ExpiredSignatureError:
            raise OAuthProblem(detail="Token has expired.") from None
        except jwt.InvalidTokenError as exc:
            logger.info("rejected a JWT: %s", type(exc).__name__)
            raise OAuthProblem(detail="Invalid token.") from None
        if not isinstance(claims["exp"], int | float) or isinstance(claims["exp"], bool):
            # PyJWT reads `"exp": "1999999999"` as a number; RFC 7519 says NumericDate, a JSON number.
            logger.info("rejected a JWT: exp is not a number")
            raise OAuthProblem(detail="Invalid token.")
        org_id = claims["org_id"]
        if not isinstance(org_id, str) or not self.store.has_organization(org_id):
            raise OAuthProblem(detail="Invalid token: unknown organization.")
        return {"sub": org_id}

    def for_scheme(self, scheme: dict[str, Any]) -> Any:
        return self.dashboard_jwt if scheme.get("bearerFormat") == "JWT" else self.api_key
