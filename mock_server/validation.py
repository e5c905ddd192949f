"""Validation of requests against the spec's schemas, with compiled validators and DRF-style field errors."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from .errors import NON_FIELD_ERRORS, FieldErrors, clip
from .limits import MAX_REPORTED_ERRORS

_PY_TYPE_NAMES = {dict: "dict", list: "list", str: "str", int: "int", float: "float", bool: "bool"}


def to_json_schema(schema: Any) -> Any:
    """Turn an OpenAPI 3.0 schema into plain JSON Schema (draft 4) without moving any keyword.

    Only `nullable` needs translating; keywords JSON Schema does not know (`example`,
    `discriminator`, `x-…`) are ignored by the validator. Paths inside the schema stay the same,
    so an error's schema path can be followed in the original.
    """
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: to_json_schema(value) for key, value in schema.items()}
    if schema.get("nullable") is True and "type" in schema:
        out["type"] = [schema["type"], "null"]
        if "enum" in schema and None not in schema["enum"]:
            out["enum"] = [*schema["enum"], None]
    return out


@dataclass(frozen=True)
class ErrorDetail:
    """One failed rule: the field (dotted path), the message, the keyword and where in the schema."""

    field: str
    message: str
    rule: str
    schema_path: tuple[Any, ...]


@dataclass(frozen=True)
class Findings:
    """The errors reported for an instance: the first ones, how many more were found, and whether
    more may exist than were looked for (lists longer than their schema allows are checked only up to
    one item past their `maxItems`)."""

    details: list[ErrorDetail]
    omitted: int = 0
    partial: bool = False


def group(details: Iterable[ErrorDetail]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for detail in details:
        grouped.setdefault(detail.field, []).append(detail.message)
    return grouped


class SchemaValidator:
    """A compiled validator for one OpenAPI schema that reports errors keyed by field path."""

    def __init__(self, schema: Mapping[str, Any], *, read_only_fields: Iterable[str] = ()) -> None:
        self.schema = schema
        # Connexion puts the spec's `components` into each body schema, for `$ref`s it has already
        # resolved: not needed here, and once responses are validated it can hold a cycle.
        own = {key: value for key, value in schema.items() if key != "components"}
        self._compiled = jsonschema_rs.Draft4Validator(to_json_schema(copy.deepcopy(own)), validate_formats=True)
        self._read_only = frozenset(read_only_fields)

    def is_valid(self, instance: Any) -> bool:
        return self._compiled.is_valid(instance)

    def errors(self, instance: Any, *, prefix: tuple[str, ...] = ()) -> dict[str, list[str]]:
        """Every error of `instance`, as `{field path: [messages]}` (empty when valid)."""
        return group(self.details(instance, prefix=prefix))

    def details(self, instance: Any, *, prefix: tuple[str, ...] = ()) -> list[ErrorDetail]:
        """The errors of `instance` (the first MAX_REPORTED_ERRORS): field path, message, the keyword
        that failed and where in the schema."""
        return [] if self._compiled.is_valid(instance) else self.find(instance, prefix=prefix).details

    def find(self, instance: Any, *, prefix: tuple[str, ...] = (), limit: int = MAX_REPORTED_ERRORS) -> Findings:
        """The first `limit` distinct errors of `instance`, and a count of the others.

        The work is bounded by the schema, not by the instance: errors are looked for in a view of
        the instance whose lists are cut one item past their `maxItems` (their later items could only
        repeat the kind of errors already found), and only the first `limit` are described.
        """
        if self._compiled.is_valid(instance):
            return Findings([])
        examined = _examined(instance, [self.schema])
        partial = examined is not instance
        errors = list(self._compiled.iter_errors(examined))
        if not errors:  # what was cut held the only errors (a schema unlike this spec's could do that)
            examined, partial = instance, False
            errors = list(self._compiled.iter_errors(instance))
        found: list[ErrorDetail] = []
        seen: set[tuple[str, str]] = set()
        for index, error in enumerate(errors):
            if len(found) >= limit:
                return Findings(found[:limit], omitted=len(found) - limit + len(errors) - index, partial=partial)
            for field, message, rule, schema_path in self._describe(error, examined):
                key = ".".join((*prefix, *field)) if (prefix or field) else NON_FIELD_ERRORS
                if (key, message) not in seen:
                    seen.add((key, message))
                    found.append(ErrorDetail(key, message, rule, tuple(schema_path)))
        return Findings(found[:limit], omitted=max(len(found) - limit, 0), partial=partial)

    def validate(self, instance: Any) -> None:
        if self._compiled.is_valid(instance):
            return
        found = self.find(instance)
        if found.details:
            raise FieldErrors(group(found.details), details=found.details, omitted=found.omitted,
                              partial=found.partial)

    # -- turning one jsonschema-rs error into (field path, message) pairs --------------------------

    def _describe(self, error: Any, root: Any) -> list[tuple[tuple[str, ...], str, str, list[Any]]]:
        """(field path, message, failed keyword, schema path) for one jsonschema-rs error."""
        path = tuple(str(p) for p in error.instance_path)
        schema_path = list(error.schema_path)
        keyword = str(schema_path[-1]) if schema_path else ""
        node = _walk(self.schema, schema_path[:-1])
        kind = error.kind.name
        value = _walk(root, list(error.instance_path))

        if kind == "required":
            return [((*path, error.kind.property), "This field is required.", keyword, schema_path)]
        if kind == "additionalProperties":
            return [((*path, name), self._unexpected_field_message(name, path), keyword, schema_path)
                    for name in error.kind.unexpected]
        if kind == "oneOf" and isinstance(node.get("discriminator"), dict):
            return self._describe_discriminated(node, error, path, value, schema_path[:-1])
        if kind in ("not", "anyOf", "oneOf", "oneOfMultipleValid"):
            message = _nearest(self.schema, schema_path, "x-error-message")
            return [(path, message or "This value does not match any of the accepted shapes.", keyword, schema_path)]
        limit = node.get(keyword) if isinstance(node, dict) else None
        return [(path, _message(kind, limit, value, node), keyword, schema_path)]

    def _unexpected_field_message(self, name: str, path: tuple[str, ...]) -> str:
        if not path and name in self._read_only:
            return "This field is read-only."
        return "Unknown field."

    def _describe_discriminated(self, node: dict[str, Any], error: Any, path: tuple[str, ...], value: Any,
                                at: list[Any]) -> list[tuple[tuple[str, ...], str, str, list[Any]]]:
        prop = node["discriminator"]["propertyName"]
        # A step that is no object or names no type breaks the discriminator itself.
        if not isinstance(value, dict):
            return [(path, _message("type", "object", value, {"type": "object"}), "discriminator",
                     [*at, "discriminator"])]
        if prop not in value:
            return [((*path, prop), "This field is required.", "discriminator", [*at, "discriminator"])]
        chosen = value[prop]
        for index, branch in enumerate(node["oneOf"]):
            allowed = branch.get("properties", {}).get(prop, {}).get("enum", [])
            if chosen in allowed:
                return [(tuple(d.field.split(".")), d.message, d.rule, [*at, "oneOf", index, *d.schema_path])
                        for d in _branch_validator(branch).details(value, prefix=path)]
        return [((*path, prop), f'"{_shown(chosen)}" is not a valid choice.', "discriminator", [*at, "discriminator"])]


class ValidatorCache:
    """Compiled validators keyed by the identity of the schema object they were built from."""

    def __init__(self, read_only_fields: Iterable[str] = ()) -> None:
        self._read_only = frozenset(read_only_fields)
        self._cache: dict[int, tuple[Mapping[str, Any], SchemaValidator]] = {}

    def __call__(self, schema: Mapping[str, Any]) -> SchemaValidator:
        hit = self._cache.get(id(schema))
        if hit is None or hit[0] is not schema:  # the id of a schema that was freed can come back
            hit = (schema, SchemaValidator(schema, read_only_fields=self._read_only))
            self._cache[id(schema)] = hit
        return hit[1]


_branch_validator = ValidatorCache()  # the oneOf branches picked by a discriminator


def _examined(value: Any, schemas: list[Any]) -> Any:
    """`value` with every list longer than one item past the `maxItems` its schemas allow cut there.

    The rest is returned as it is (the same objects when nothing below was cut). Only what some
    schema judges is walked: properties the schemas name, items of lists whose schemas have `items`.
    """
    if not isinstance(value, (list, dict)):
        return value
    nodes = _alternatives(schemas)
    if isinstance(value, list):
        limits = [node["maxItems"] for node in nodes if isinstance(node.get("maxItems"), int)]
        kept = value[:max(limits) + 1] if limits and len(value) > max(limits) + 1 else value
        items = [node["items"] for node in nodes if isinstance(node.get("items"), dict)]
        if items:
            examined = [_examined(item, items) for item in kept]
            if any(new is not old for new, old in zip(examined, kept, strict=True)):
                return examined
        return kept
    if isinstance(value, dict) and nodes:
        value = _cut_unnamed_keys(value, nodes)
        changed = {}
        for name in _judged_names(nodes, value):
            below = [node["properties"][name] for node in nodes
                     if isinstance(node.get("properties"), dict) and name in node["properties"]]
            below += [node["additionalProperties"] for node in nodes
                      if isinstance(node.get("additionalProperties"), dict)
                      and name not in (node.get("properties") or {})]
            examined = _examined(value[name], below)
            if examined is not value[name]:
                changed[name] = examined
        return {**value, **changed} if changed else value
    return value


def _cut_unnamed_keys(value: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """`value` with the keys no schema names cut one past what any count rule or report could use."""
    counts = [node[k] for node in nodes for k in ("maxProperties", "minProperties") if isinstance(node.get(k), int)]
    keep = max([*counts, MAX_REPORTED_ERRORS]) + 1
    if len(value) <= keep:
        return value
    named = {name for node in nodes for name in (*(node.get("properties") or ()), *(node.get("required") or ()))}
    kept: dict[str, Any] = {}
    others = 0
    for name, item in value.items():
        if name in named:
            kept[name] = item
        elif others < keep:
            kept[name] = item
            others += 1
    return kept


def _alternatives(schemas: list[Any]) -> list[dict[str, Any]]:
    """The schemas and every branch of their `allOf`/`anyOf`/`oneOf`, recursively."""
    found: list[dict[str, Any]] = []
    pending = [s for s in schemas if isinstance(s, dict)]
    while pending:
        node = pending.pop()
        found.append(node)
        for keyword in ("allOf", "anyOf", "oneOf"):
            if isinstance(node.get(keyword), list):
                pending.extend(branch for branch in node[keyword] if isinstance(branch, dict))
    return found


def _judged_names(nodes: list[dict[str, Any]], value: dict[str, Any]) -> list[str]:
    """The keys of `value` some schema has a rule for (every key when one has `additionalProperties`)."""
    if any(isinstance(node.get("additionalProperties"), dict) for node in nodes):
        return list(value)
    names: dict[str, None] = {}
    for node in nodes:
        for name in node.get("properties") or ():
            if name in value:
                names[name] = None
    return list(names)


def _walk(node: Any, path: list[Any]) -> Any:
    for part in path:
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part, node.get(str(part)))
        else:
            return None
    return node


def _nearest(schema: Any, schema_path: list[Any], key: str) -> str | None:
    """The value of `key` on the innermost schema along `schema_path` that has it."""
    found = None
    node = schema
    for part in schema_path:
        if isinstance(node, dict) and key in node:
            found = node[key]
        node = _walk(node, [part])
    return found


def _message(kind: str, limit: Any, value: Any, node: Any) -> str:
    if kind == "type":
        if value is None:
            return "This field may not be null."
        expected = str(node.get("type") if isinstance(node, dict) else None)
        return {
            "string": "Not a valid string.",
            "integer": "A valid integer is required.",
            "number": "A valid number is required.",
            "boolean": "Must be a valid boolean.",
            "array": f'Expected a list of items but got type "{_type_name(value)}".',
            "object": f'Expected a dictionary of items but got type "{_type_name(value)}".',
        }.get(expected, f"Expected a value of type {expected}.")
    if kind == "minimum":
        return f"Ensure this value is greater than or equal to {limit}."
    if kind == "maximum":
        return f"Ensure this value is less than or equal to {limit}."
    if kind == "minLength":
        return "This field may not be blank." if limit == 1 else \
            f"Ensure this field has at least {limit} characters."
    if kind == "maxLength":
        return f"Ensure this field has no more than {limit} characters."
    if kind == "minItems":
        return "This list may not be empty." if limit == 1 else \
            f"Ensure this field has at least {limit} elements."
    if kind == "maxItems":
        return f"Ensure this field has no more than {limit} elements."
    if kind == "uniqueItems":
        return "This list may not contain duplicate items."
    if kind == "minProperties":
        return f"Ensure this object has at least {limit} keys."
    if kind == "maxProperties":
        return f"Ensure this object has no more than {limit} keys."
    if kind == "enum":
        return f'"{_shown(value)}" is not a valid choice.'
    if kind == "pattern":
        return f"This value does not match the required pattern {limit}."
    if kind == "format":
        return f"Enter a valid {limit}." if limit != "date-time" else \
            "Datetime has wrong format. Use ISO 8601, e.g. 2026-11-02T09:14:03Z."
    return "This value is not valid."


def _shown(value: Any) -> str:
    """A value quoted in a message, cut short (it came from the request and may be huge)."""
    return clip(value if isinstance(value, str) else str(value), 100)


def _type_name(value: Any) -> str:
    return _PY_TYPE_NAMES.get(type(value), type(value).__name__)
