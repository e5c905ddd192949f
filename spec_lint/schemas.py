"""Rule on the schemas themselves: no inline schema repeats a component (`duplicate-schema`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mock_server.spec import Pointer, walk

from .model import Issue, LintedSpec, Rule

_DOC_KEYS = frozenset({"example", "examples"})  # a copy with its own description is not a repeat


def duplicate_schema(spec: LintedSpec) -> Iterator[Issue]:
    components = spec.data.get("components") or {}
    named = {_canonical(schema): name for name, schema in (components.get("schemas") or {}).items()
             if isinstance(schema, dict)}
    for pointer, value in walk(spec.data):
        if pointer[:2] == ("components", "schemas") and len(pointer) == 3:
            continue  # a component is not a repeat of itself
        if _is_schema_position(pointer) and isinstance(value, dict) and "$ref" not in value and _substantial(value):
            name = named.get(_canonical(value))
            if name:
                yield Issue(pointer, f"this inline schema repeats components/schemas/{name}; use its $ref")


def _canonical(schema: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in schema.items() if k not in _DOC_KEYS}, sort_keys=True, default=str)


def _substantial(schema: dict[str, Any]) -> bool:
    core = {k for k in schema if k not in _DOC_KEYS}
    return "properties" in core or len(core) >= 3


def _is_schema_position(pointer: Pointer) -> bool:
    return bool(pointer) and (pointer[-1] in ("schema", "items", "additionalProperties")
                              or (len(pointer) >= 2 and pointer[-2] in ("properties", "allOf", "anyOf", "oneOf")))


DUPLICATE_SCHEMA = Rule(
    "duplicate-schema", "warning",
    "no inline schema repeats a component verbatim (use its `$ref`)",
    duplicate_schema)
