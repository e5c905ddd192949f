"""Every error the mock answers with, as exceptions that carry their Django-REST-framework-style
body; `from_domain` and `as_api_error` map the rules' refusals and other libraries' errors to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException
from starlette.responses import Response

from . import domain_errors, jsonio
from .limits import MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_REPORTED_ERRORS

NON_FIELD_ERRORS = "non_field_errors"


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters (the last one "…") when longer."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


class ApiError(Exception):
    """An error answered with `{"detail": ...}` and a status code."""

    status_code = 400
    layer = "validation"  # which layer of the mock refuses with it (the request log shows it)

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None, status: int | None = None,
                 layer: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        if status is not None:
            self.status_code = status
        if layer is not None:
            self.layer = layer
        self.rule = type(self).__name__  # what the request log names as the rule broken, when no field is

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
    def single(cls, field: str, message: str, *, layer: str | None = None) -> FieldErrors:
        error = cls({field: [message]})
        if layer is not None:
            error.layer = layer
        return error

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
    layer = "auth"

    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404
    layer = "routing"


class MethodNotAllowed(ApiError):
    status_code = 405
    layer = "routing"

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


def from_domain(error: domain_errors.DomainError) -> ApiError:
    """The answer to a refusal of the rules (the one place their words become HTTP)."""
    answer = _domain_answer(error)
    answer.rule = type(error).__name__
    return answer


def _domain_answer(error: domain_errors.DomainError) -> ApiError:
    if isinstance(error, domain_errors.InvalidValue):
        return FieldErrors.single(error.field, error.message, layer="rules")
    if isinstance(error, domain_errors.DuplicateExperimentId):
        return FieldErrors.single("experiment_id", str(error), layer="rules")
    if isinstance(error, domain_errors.ExperimentNotFound | domain_errors.UnknownReferences):
        return NotFound(str(error), layer="rules")
    if isinstance(error, domain_errors.RunningLocked | domain_errors.IllegalTransition
                  | domain_errors.WorldLimitReached):
        return Conflict(str(error), layer="rules")
    if isinstance(error, domain_errors.SessionLimitReached):
        return ApiError(str(error), status=429, headers={"Retry-After": str(error.retry_after)}, layer="rules")
    return ApiError(str(error), layer="rules")


def as_api_error(exc: Exception) -> ApiError | None:
    """An exception a layer answers with, as the API's error; None for an unexpected one (a bug)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, domain_errors.DomainError):
        return from_domain(exc)
    if isinstance(exc, ProblemException):  # Connexion's response validation (`--validate-responses`)
        return ApiError(exc.detail or exc.title or "Error.", status=exc.status or 500, layer="handler")
    if isinstance(exc, HTTPException):  # Starlette's static files under Swagger UI
        if exc.status_code == 404:
            return NotFound("Not found.")
        return ApiError(exc.detail, status=exc.status_code, headers=exc.headers, layer="routing")
    return None
