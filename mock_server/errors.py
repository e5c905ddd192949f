"""Every error the mock emits, as exceptions that carry their Django-REST-framework-style body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from . import jsonio

NON_FIELD_ERRORS = "non_field_errors"


class ApiError(Exception):
    """An error answered with `{"detail": ...}` and a status code."""

    status_code = 400

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        if status is not None:
            self.status_code = status

    def body(self) -> object:
        return {"detail": self.detail}

    def to_response(self) -> Response:
        return json_error_response(self.status_code, self.body(), self.headers)


class FieldErrors(ApiError):
    """400 with messages keyed by field path: `{"batch_size": ["Ensure ..."]}`."""

    status_code = 400

    def __init__(self, errors: Mapping[str, Sequence[str]], *, details: Sequence[Any] = (),
                 location: str = "body") -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        self.details = list(details)  # validation.ErrorDetail of each, when a schema found them
        self.location = location  # "body" or "parameters"
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> FieldErrors:
        return cls({field: [message]})

    def body(self) -> object:
        return self.errors


class MalformedRequest(ApiError):
    """400 for a body that cannot be read at all (not JSON, missing)."""

    status_code = 400


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class NotFound(ApiError):
    status_code = 404


class MethodNotAllowed(ApiError):
    status_code = 405

    def __init__(self, method: str, allowed: Sequence[str]) -> None:
        super().__init__(f'Method "{method}" not allowed.', headers={"Allow": ", ".join(allowed)})


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class UnsupportedMediaType(ApiError):
    status_code = 415


def json_error_response(status: int, body: object, headers: Mapping[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(body), status_code=status, headers=dict(headers or {}),
                    media_type="application/json")
