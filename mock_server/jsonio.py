"""JSON in and out of the mock: exact for every valid document, fast for the usual one.

orjson is used to write, with the standard library as fallback for what orjson refuses (integers
beyond 64 bits, lone surrogates). Bodies are read with the standard library, which keeps large
integers exact (orjson would turn them into floats) and is refused NaN/Infinity, which JSON lacks.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


class JsonBodyError(ValueError):
    """A body that is not a JSON document."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonBodyError(f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:
        raise JsonBodyError(str(exc)) from None


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")
