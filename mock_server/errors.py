"""Every error the mock emits, as exceptions that carry their Django-REST-framework-style body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from . import jsonio
from .limits import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_REPORTED_ERRORS

NON_FIELD_ERRORS = "non_field_errors"


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters (the last one "…") when longer."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
    """400 with messages keyed by field path: `{"batch_size": ["Ensure ..."]}`.

    Bounded whatever the request held: at most MAX_REPORTED_ERRORS messages, field names and
    messages cut to a maximum length; the messages left out are counted under `non_field_errors`.
    `omitted` counts errors the caller found but did not pass; `partial` says that more may exist
    than were looked for (long lists are checked up to a point).
    """

    status_code = 400

    def __init__(self, errors: Mapping[str, Sequence[str]], *, details: Sequence[Any] = (),
                 location: str = "body", omitted: int = 0, partial: bool = False) -> None:
        kept: dict[str, list[str]] = {}
        count = 0
        for field, messages in errors.items():
            for message in messages:
                if count == MAX_REPORTED_ERRORS:
                    omitted += 1
                    continue
                kept.setdefault(clip(field, MAX_FIELD_CHARS), []).append(clip(message, MAX_MESSAGE_CHARS))
                count += 1
        self.errors = kept
        self.details = list(details)[:MAX_REPORTED_ERRORS]  # validation.ErrorDetail of each, when a schema found them
        self.location = location  # "body" or "parameters"
        self.omitted = omitted
        self.partial = partial
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> FieldErrors:
        return cls({field: [message]})

    def body(self) -> object:
        if not self.omitted:
            return self.errors
        more = (f"… and {'at least ' if self.partial else ''}{self.omitted} more errors not shown "
                f"(only the first {MAX_REPORTED_ERRORS} are reported).")
        return {**self.errors, NON_FIELD_ERRORS: [*self.errors.get(NON_FIELD_ERRORS, []), more]}


class MalformedRequest(ApiError):
    """400 for a body that cannot be read at all (not JSON, nested too deep, missing)."""

    status_code = 400


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class MethodNotAllowed(ApiError):
    status_code = 405

    def __init__(self, method: str, allowed: Sequence[str]) -> None:
        super().__init__(f'Method "{clip(method, 32)}" not allowed.', headers={"Allow": ", ".join(allowed)})


class RequestTimeout(ApiError):
    """408: the body did not arrive in time; the connection is closed."""

    status_code = 408

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class UriTooLong(ApiError):
    status_code = 414


class UnsupportedMediaType(ApiError):
    status_code = 415


class HeadersTooLarge(ApiError):
    status_code = 431


def body_error(error: jsonio.JsonBodyError) -> ApiError:
    """The answer to a body that could not be read as JSON."""
    if isinstance(error, jsonio.UnencodableText):
        return FieldErrors.single(error.field or NON_FIELD_ERRORS, str(error))
    return MalformedRequest(f"JSON parse error - {error}")


def json_error_response(status: int, body: object, headers: Mapping[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(body), status_code=status, headers=dict(headers or {}),
                    media_type="application/json")
