"""Request validation for Connexion: compiled schemas, field-keyed errors, validators built once.

What the validators parse they leave in the scope (`scope["extensions"]["mock_request"]`: `params`,
typed and with the spec's defaults, and `body`), so the dispatcher reads the request once parsed
instead of parsing it again.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import UnsupportedMediaTypeProblem
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.utils import is_nullable
from connexion.validators import VALIDATOR_MAP as CONNEXION_VALIDATORS
from connexion.validators import AbstractRequestBodyValidator
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from . import jsonio
from .errors import FieldErrors, MalformedRequest, UnsupportedMediaType, body_error, clip
from .validation import ValidatorCache, group

PARSED = "mock_request"
_ABSENT = object()


def _number(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")) or number != number:
        raise ValueError(text)
    return number


_COERCE: dict[str, t.Callable[[str], t.Any]] = {"integer": int, "number": _number,
                                                 "boolean": lambda v: {"true": True, "false": False}[v]}


def parsed_request(scope: Scope) -> dict[str, t.Any]:
    """What validation parsed from this request (`params`, `body`)."""
    return scope["extensions"].setdefault(PARSED, {})


def _coerce(value: str, schema: dict) -> t.Any:
    # int() and float() also read other scripts' digits ("١") and underscores ("1_000"): a number
    # in a query string is written with ASCII digits only.
    if not value.isascii() or "_" in value:
        return value
    try:
        return _COERCE[schema.get("type", "string")](value)
    except (KeyError, ValueError):
        return value  # left as text; the schema then reports the type error


def build_validator_map(cache: ValidatorCache) -> dict[str, t.Any]:
    class JsonBodyValidator(AbstractRequestBodyValidator):
        async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
            raw = b"".join([chunk async for chunk in stream])
            if not raw.strip():
                return _ABSENT
            try:
                body = jsonio.loads(raw)
            except jsonio.JsonBodyError as exc:
                raise body_error(exc) from None
            parsed_request(scope)["body"] = body
            return body

        def _validate(self, body: t.Any) -> None:
            if body is _ABSENT:
                if self._required:
                    raise MalformedRequest("A JSON request body is required.")
                return
            cache(self._schema).validate(body)

    class FieldParameterValidator:
        """Query and path parameters against their schemas; every error keyed by parameter name."""

        def __init__(self, parameters: list[dict], *, strict_validation: bool = False, **_: t.Any) -> None:
            self.query = {p["name"]: p for p in parameters if p["in"] == "query"}
            self.path = {p["name"]: p for p in parameters if p["in"] == "path"}
            self.strict = strict_validation

        def validate(self, scope: Scope) -> None:
            errors: dict[str, list[str]] = {}
            details: list[t.Any] = []
            params: dict[str, t.Any] = {name: p["schema"]["default"] for name, p in self.query.items()
                                        if "default" in p["schema"]}
            for name, text in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
                if name in self.query:
                    params[name] = _coerce(text, self.query[name]["schema"])
                elif self.strict:
                    errors[name] = ["Unknown query parameter."]
            params.update(scope.get("path_params", {}))
            for name, param in (*self.query.items(), *self.path.items()):
                if name in params:
                    found = cache(param["schema"]).details(params[name], prefix=(name,))
                    details += found
                    errors.update(group(found))
                elif param.get("required"):
                    errors[name] = ["This field is required."]
            if errors:
                raise FieldErrors(errors, details=details, location="parameters")
            parsed_request(scope)["params"] = params

    return {
        "parameter": FieldParameterValidator,
        "body": MediaTypeDict({"*/*json": JsonBodyValidator}),
        "response": CONNEXION_VALIDATORS["response"],
    }


class _PrebuiltValidationOperation(RequestValidationOperation):
    """Connexion's request validation with its validators built once per operation, not per request.

    Connexion builds a URI parser, a parameter validator and a body validator (and resolves the
    body schema several times) on every request; none of them depends on the request beyond its
    media type, so they are kept after their first use.
    """

    _parameter_validator: t.Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._parameter_validator is None:
            self._body_validators: dict[tuple[str, str], t.Any] = {}
            self._parameter_validator = self._validator_map["parameter"](
                self._operation.parameters, strict_validation=self.strict_validation)
        self._parameter_validator.validate(scope)
        headers = Headers(scope=scope)
        if "content-type" not in headers and headers.get("content-length", "0") != "0":
            # Connexion would take the body for the operation's first media type.
            raise UnsupportedMediaType("Unsupported media type in request; a body needs "
                                       "`Content-Type: application/json`.")
        mime_type, encoding = self.extract_content_type(scope["headers"])
        mime_type = mime_type.lower()  # media types compare case-insensitively (RFC 9110)
        try:
            self.validate_mime_type(mime_type)
        except UnsupportedMediaTypeProblem:
            # Connexion's sentence names its own data ("expected ['application/json']"); production's is plainer.
            raise UnsupportedMediaType(f'Unsupported media type "{clip(mime_type, 100)}" in request; '
                                       "send application/json.") from None
        key = (mime_type, encoding)
        if key not in self._body_validators:
            self._body_validators[key] = self._body_validator(mime_type, encoding)
        validator = self._body_validators[key]
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)

    def _body_validator(self, mime_type: str, encoding: str) -> t.Any:
        operation = self._operation
        schema = operation.body_schema(mime_type)
        if not schema:
            return None
        try:
            validator_class = self._validator_map["body"][mime_type]
        except KeyError:
            return None
        return validator_class(
            schema=schema,
            required=operation.request_body.get("required", False),
            nullable=is_nullable(operation.body_definition(mime_type)),
            encoding=encoding,
            strict_validation=self.strict_validation,
        )


class _PrebuiltValidationAPI(RequestValidationAPI):
    def make_operation(self, operation: t.Any) -> RequestValidationOperation:
        return _PrebuiltValidationOperation(self.next_app, operation=operation,
                                            strict_validation=self.strict_validation,
                                            validator_map=self.validator_map)


class PrebuiltRequestValidationMiddleware(RequestValidationMiddleware):
    """Drop-in for Connexion's RequestValidationMiddleware (same checks, validators reused)."""

    api_cls = _PrebuiltValidationAPI
