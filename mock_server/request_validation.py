"""Request validation from the spec: parameters, media type and JSON body of each operation, against
validators compiled once per operation; the request as read goes down as `context.Validated`."""

from __future__ import annotations

import re
import typing as t
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from . import jsonio
from .body import read_body
from .context import ROUTED, VALIDATED, Routed, Validated, with_scope
from .errors import FieldErrors, MalformedRequest, UnsupportedMediaType, body_error, clip
from .limits import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES
from .spec import Contract
from .validation import SchemaValidator, ValidatorCache, group


def _number(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")) or number != number:
        raise ValueError(text)
    return number


_NEEDS_CONTENT_TYPE = "Unsupported media type in request; a body needs `Content-Type: application/json`."
_COERCE: dict[str, t.Callable[[str], t.Any]] = {"integer": int, "number": _number,
                                                 "boolean": lambda v: {"true": True, "false": False}[v]}


_INTEGER = re.compile(r"-?[0-9]+")


def _coerce(value: str, schema: t.Mapping[str, t.Any]) -> t.Any:
    # int() and float() also read other scripts' digits ("١") and underscores ("1_000"): a number
    # in a query string is written with ASCII digits only.
    if not value.isascii() or "_" in value:
        return value
    if schema.get("type") == "integer" and not _INTEGER.fullmatch(value):
        return value  # `+5`, ` 5`, `5.0`: digits only (and a leading minus)
    try:
        return _COERCE[schema.get("type", "string")](value)
    except (KeyError, ValueError):
        return value  # left as text; the schema then reports the type error


class ParameterValidator:
    """Query and path parameters against their schemas; every error keyed by parameter name. With
    `strict`, a query parameter the operation does not declare is an error too."""

    def __init__(self, parameters: list[dict[str, t.Any]], cache: ValidatorCache, *, strict: bool = True) -> None:
        self.query = {p["name"]: p for p in parameters if p["in"] == "query"}
        self.path = {p["name"]: p for p in parameters if p["in"] == "path"}
        self.defaults = {name: p["schema"]["default"] for name, p in self.query.items() if "default" in p["schema"]}
        self.validators = {name: cache(p["schema"]) for name, p in (*self.query.items(), *self.path.items())}
        self.strict = strict

    def parse(self, query_string: bytes, path_params: t.Mapping[str, str]) -> dict[str, t.Any]:
        """The parameters, typed and with defaults; FieldErrors naming each wrong one."""
        errors: dict[str, list[str]] = {}
        details: list[t.Any] = []
        params: dict[str, t.Any] = dict(self.defaults)
        for name, text in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if name in self.query:
                params[name] = _coerce(text, self.query[name]["schema"])
            elif self.strict:
                errors[name] = ["Unknown query parameter."]
        params.update(path_params)
        for name, param in (*self.query.items(), *self.path.items()):
            if name in params:
                found = self.validators[name].details(params[name], prefix=(name,))
                details += found
                errors.update(group(found))
            elif param.get("required"):
                errors[name] = ["This field is required."]
        if errors:
            raise FieldErrors(errors, details=details, location="parameters")
        return params


class BodyValidator:
    """A JSON request body: read within the size and time limits, parsed, checked against its schema."""

    def __init__(self, validator: SchemaValidator, *, required: bool, max_body: int, timeout: float) -> None:
        self.validator = validator
        self.required = required
        self.max_body = max_body
        self.timeout = timeout

    async def read(self, receive: Receive, *, typed: bool = True) -> t.Any:
        """The body; `typed`: the request said its Content-Type (a body without one is 415)."""
        raw = await read_body(receive, limit=self.max_body, timeout=self.timeout)
        if raw and not typed:  # streamed without Content-Length, so only now known to be there
            raise UnsupportedMediaType(_NEEDS_CONTENT_TYPE)
        if not raw.strip():
            if self.required:
                raise MalformedRequest("A JSON request body is required.")
            if raw:  # not JSON, and not "no body" either
                raise MalformedRequest("JSON parse error - the body holds only whitespace; send JSON or no body.")
            return None
        try:
            body = jsonio.loads(raw)
        except jsonio.JsonBodyError as exc:
            raise body_error(exc) from None
        self.validator.validate(body)
        return body


class OperationValidator:
    def __init__(self, operation: dict[str, t.Any], contract: Contract, cache: ValidatorCache, *,
                 max_body: int, timeout: float) -> None:
        self.parameters = ParameterValidator([contract.dereferenced(p) for p in operation["parameters"]], cache)
        request_body = contract.resolve(operation.get("requestBody")) or {}
        content = request_body.get("content") or {}
        self.media_types = frozenset(m.lower() for m in content)  # empty: the operation takes no body
        schema = (content.get("application/json") or {}).get("schema")
        self.body = None if schema is None else BodyValidator(
            cache(contract.dereferenced(schema)), required=bool(request_body.get("required")),
            max_body=max_body, timeout=timeout)

    def check_media_type(self, headers: Headers) -> None:
        content_type = headers.get("content-type")
        if content_type is None:
            if headers.get("content-length", "0") != "0":
                raise UnsupportedMediaType(_NEEDS_CONTENT_TYPE)
            return
        media_type = content_type.partition(";")[0].strip().lower()  # media types compare case-insensitively
        if self.media_types and media_type not in self.media_types:
            raise UnsupportedMediaType(f'Unsupported media type "{clip(media_type, 100)}" in request; '
                                       "send application/json.")


class RequestValidation:
    """Validates each routed request against its operation in the spec (parameters first, then the
    media type, then the body) and passes what it read down as `context.Validated`."""

    def __init__(self, app: ASGIApp, contract: Contract, cache: ValidatorCache, *,
                 max_body: int = MAX_BODY_BYTES, body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        self.app = app
        self.operations = {op_id: OperationValidator(op, contract, cache, max_body=max_body, timeout=body_timeout)
                           for op_id, op in contract.operations().items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed: Routed = scope[ROUTED]  # below the edge, every request is routed
        operation = self.operations[routed.operation_id]
        params = operation.parameters.parse(scope.get("query_string", b""), routed.path_params)
        headers = Headers(scope=scope)
        operation.check_media_type(headers)
        body = None
        if operation.body is not None:
            body = await operation.body.read(receive, typed="content-type" in headers)
        await self.app(with_scope(scope, VALIDATED, Validated(params, body)), receive, send)

