"""Connexion validator classes that use compiled schemas and raise field-keyed errors."""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

import orjson
from connexion.datastructures import MediaTypeDict
from connexion.lifecycle import ConnexionRequest
from connexion.validators import VALIDATOR_MAP as CONNEXION_VALIDATORS
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from starlette.types import Scope

from .errors import FieldErrors, MalformedRequest
from .validation import SchemaValidator

_ABSENT = object()
_parsed_body: ContextVar[t.Any] = ContextVar("parsed_body", default=None)


def request_body() -> t.Any:
    """The JSON body of the current request as parsed (once) during validation; None when absent."""
    return _parsed_body.get()


class ValidatorCache:
    """Compiled validators keyed by the identity of the (resolved) schema Connexion hands us."""

    def __init__(self, read_only_fields: t.Iterable[str] = ()) -> None:
        self._read_only = frozenset(read_only_fields)
        self._cache: dict[int, tuple[dict, SchemaValidator]] = {}

    def __call__(self, schema: dict) -> SchemaValidator:
        hit = self._cache.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = (schema, SchemaValidator(schema, read_only_fields=self._read_only))
            self._cache[id(schema)] = hit
        return hit[1]


def build_validator_map(cache: ValidatorCache) -> dict[str, t.Any]:
    class JsonBodyValidator(AbstractRequestBodyValidator):
        async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
            _parsed_body.set(None)
            raw = b"".join([chunk async for chunk in stream])
            if not raw.strip():
                return _ABSENT
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise MalformedRequest(f"JSON parse error - {exc}") from None

        def _validate(self, body: t.Any) -> None:
            if body is _ABSENT:
                if self._required:
                    raise MalformedRequest("A JSON request body is required.")
                return
            cache(self._schema).validate(body)
            # Handlers read this instead of letting Connexion parse the body a second time
            # (with a JSON parser whose integers can exceed what the response encoder takes).
            _parsed_body.set(body)

    class FieldParameterValidator(ParameterValidator):
        def validate_request(self, request: ConnexionRequest) -> None:
            errors: dict[str, list[str]] = {}
            if self.strict_validation:
                for name in sorted(self.validate_query_parameter_list(request, self.security_query_params)):
                    errors[name] = ["Unknown query parameter."]
            sources = {"query": request.query_params, "path": request.path_params}
            for location, values in sources.items():
                for param in self.parameters.get(location, []):
                    name = param["name"]
                    value = values.get(name)
                    if value is None:
                        if param.get("required"):
                            errors[name] = ["This field is required."]
                        continue
                    errors.update(cache(param["schema"]).errors(value, prefix=(name,)))
            if errors:
                raise FieldErrors(errors)

    return {
        "parameter": FieldParameterValidator,
        "body": MediaTypeDict({"*/*json": JsonBodyValidator}),
        "response": CONNEXION_VALIDATORS["response"],
    }
