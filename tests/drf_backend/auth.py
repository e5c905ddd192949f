"""Bearer authentication: an organization's API key or a dashboard JWT (HS256 with `org_id` and `exp`)."""

import jwt
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from drf_backend.models import ApiKey, Organization
from drf_backend.seed import JWT_SECRET


class BearerAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Organization, str] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Bearer header: expected exactly one token.")
        try:
            token = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None

        api_key = ApiKey.objects.select_related("organization").filter(key=token).first()
        if api_key is not None:
            return api_key.organization, token
        return self._organization_from_jwt(token), token

    def _organization_from_jwt(self, token: str) -> Organization:
        try:
            claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], options={"require": ["exp", "org_id"]})
        except jwt.ExpiredSignatureError:
            raise exceptions.AuthenticationFailed("Token has expired.") from None
        except jwt.InvalidTokenError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        organization = Organization.objects.filter(id=str(claims["org_id"])).first()
        if organization is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return organization

    def authenticate_header(self, request: Request) -> str:
        # Having a challenge makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return self.keyword
