"""Rules on what clients send: request bodies closed and honest (`request-body`), inputs bounded (`bounded-input`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mock_server.spec import Pointer

from .model import Issue, LintedSpec, Rule

COMBINATORS = ("allOf", "anyOf", "oneOf")


def request_body(spec: LintedSpec) -> Iterator[Issue]:
    for operation in spec.operations:
        for schema, where in _body_schemas(spec, operation.node, operation.pointer):
            if operation.method == "patch" and isinstance(schema, dict) and schema.get("required"):
                yield Issue((*where, "required"),
                            f"{operation.name} body requires {schema['required']}; a PATCH body requires nothing")
            yield from _top_level_closed(spec, schema, where, operation.name)
            yield from _request_objects(spec, schema, where, set())


def _body_schemas(spec: LintedSpec, operation: dict[str, Any], pointer: Pointer) -> Iterator[tuple[Any, Pointer]]:
    body, body_ptr = spec.locate(operation.get("requestBody"), (*pointer, "requestBody"))
    for media, media_obj in ((body or {}).get("content") or {}).items():
        if isinstance(media_obj, dict):
            yield spec.locate(media_obj.get("schema"), (*body_ptr, "content", media, "schema"))


def _top_level_closed(spec: LintedSpec, schema: Any, pointer: Pointer, name: str) -> Iterator[Issue]:
    """A body's top-level object says `additionalProperties: false`, in whichever form it is written
    (inline, a `$ref`, an `allOf` of components, with or without `type: object`); nothing at the top
    level opens it. Free-form values (`true`) belong inside it."""
    if not _is_object(spec, schema, set()):
        return
    openings = list(_openings(spec, schema, pointer, set()))
    for opened in openings:
        yield Issue((*opened, "additionalProperties"), f"the {name} body's top-level object is opened with "
                    "`additionalProperties`; only free-form values inside it may be open")
    if not openings and not _closed(spec, schema, set()):
        yield Issue(pointer, f"the {name} body is not closed (`additionalProperties: false` on its top-level object)")


def _is_object(spec: LintedSpec, schema: Any, seen: set[int]) -> bool:
    if not isinstance(schema, dict) or id(schema) in seen:
        return False
    seen.add(id(schema))
    if schema.get("type") == "object" or "properties" in schema or "additionalProperties" in schema:
        return True
    return "type" not in schema and any(_is_object(spec, spec.locate(sub, ())[0], seen)
                                        for key in COMBINATORS for sub in schema.get(key) or [])


def _openings(spec: LintedSpec, schema: Any, pointer: Pointer, seen: set[Pointer]) -> Iterator[Pointer]:
    """Where the top-level object (the schema and the `allOf` members it is made of) says
    `additionalProperties` is anything but `false`."""
    if not isinstance(schema, dict) or pointer in seen:
        return
    seen.add(pointer)
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        yield pointer
    for index, member in enumerate(schema.get("allOf") or []):
        target, where = spec.locate(member, (*pointer, "allOf", str(index)))
        yield from _openings(spec, target, where, seen)


def _closed(spec: LintedSpec, schema: Any, seen: set[int]) -> bool:
    """Closed: it says `additionalProperties: false`, or an `allOf` member does, or every
    `anyOf`/`oneOf` branch is closed."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return False
    seen.add(id(schema))
    if schema.get("additionalProperties") is False:
        return True
    if any(_closed(spec, spec.locate(m, ())[0], seen) for m in schema.get("allOf") or []):
        return True
    return any(branches and all(_closed(spec, spec.locate(b, ())[0], set(seen)) for b in branches)
               for branches in (schema.get("anyOf"), schema.get("oneOf")))


def _request_objects(spec: LintedSpec, schema: Any, pointer: Pointer, seen: set[Pointer], *,
                     fragment: bool = False) -> Iterator[Issue]:
    """Objects inside a request say `additionalProperties` (`true` for free-form data), and none
    requires a `readOnly` property."""
    if not isinstance(schema, dict) or pointer in seen:
        return
    seen.add(pointer)
    properties = schema.get("properties") or {}
    if schema.get("type") == "object" and not fragment:
        if "additionalProperties" not in schema:
            yield Issue(pointer, "request object does not say additionalProperties "
                        "(close it with `false`, or say `true` for free-form data)")
        for name in schema.get("required") or []:
            prop, _ = spec.locate(properties.get(name), ())
            if isinstance(prop, dict) and prop.get("readOnly"):
                yield Issue((*pointer, "required"), f"read-only property {name!r} is required in a request")
    for child, child_ptr in subschemas(schema, pointer):
        target, where = spec.locate(child, child_ptr)
        yield from _request_objects(spec, target, where, seen, fragment=_is_fragment(child, target, child_ptr, schema))


def bounded_input(spec: LintedSpec) -> Iterator[Issue]:
    seen: set[Pointer] = set()
    for operation in spec.operations:
        for schema, where in _body_schemas(spec, operation.node, operation.pointer):
            yield from _bounded(spec, schema, where, seen)
        for param, where in spec.parameters(operation):
            schema, schema_ptr = spec.locate(param.get("schema"), (*where, "schema"))
            yield from _bounded(spec, schema, schema_ptr, seen)


def _bounded(spec: LintedSpec, schema: Any, pointer: Pointer, seen: set[Pointer]) -> Iterator[Issue]:
    if not isinstance(schema, dict) or pointer in seen:
        return
    seen.add(pointer)
    kind = schema.get("type")
    if kind == "string" and not any(k in schema for k in ("maxLength", "enum", "format", "pattern")):
        yield Issue(pointer, "string input has no maxLength, enum, format or pattern")
    elif kind in ("integer", "number") and "enum" not in schema:
        missing = [k for k in ("minimum", "maximum") if k not in schema]
        if missing:
            yield Issue(pointer, f"{kind} input has no {' or '.join(missing)}")
    elif kind == "array" and "maxItems" not in schema:
        yield Issue(pointer, "array input has no maxItems")
    for child, child_ptr in subschemas(schema, pointer):
        target, where = spec.locate(child, child_ptr)
        yield from _bounded(spec, target, where, seen)


def subschemas(schema: dict[str, Any], pointer: Pointer, declared: frozenset[str] = frozenset()
               ) -> Iterator[tuple[Any, Pointer]]:
    """The schemas nested in `schema`. Inside an allOf/anyOf/oneOf branch, a property the enclosing
    schema already declares (`declared`) is only a constraint on it (`value: {type: array}`), so it
    is not an input of its own and is left out."""
    for name, prop in (schema.get("properties") or {}).items():
        if name not in declared:
            yield prop, (*pointer, "properties", name)
    if isinstance(schema.get("items"), dict):
        yield schema["items"], (*pointer, "items")
    if isinstance(schema.get("additionalProperties"), dict):
        yield schema["additionalProperties"], (*pointer, "additionalProperties")
    own = frozenset(schema.get("properties") or {}) | declared
    for key in COMBINATORS:
        for index, sub in enumerate(schema.get(key) or []):
            if isinstance(sub, dict) and "$ref" not in sub:
                yield from subschemas(sub, (*pointer, key, str(index)), own)
                if "type" in sub:
                    yield {k: v for k, v in sub.items() if k not in ("properties", "items", *COMBINATORS)}, \
                        (*pointer, key, str(index))
            else:
                yield sub, (*pointer, key, str(index))


def _is_fragment(child: Any, target: Any, child_ptr: Pointer, parent: dict[str, Any]) -> bool:
    """A constraint combined into its parent (an allOf member whose properties, if any, the parent
    declares too, or an inline anyOf/oneOf branch, which narrows what its parent declares): not an
    object of its own, so it need not say additionalProperties."""
    if len(child_ptr) < 2 or child_ptr[-2] not in COMBINATORS or not isinstance(target, dict):
        return False
    own = set(target.get("properties") or {})
    if child_ptr[-2] == "allOf" and own <= set(parent.get("properties") or {}):
        return True  # it only constrains (and may restate) what its parent declares
    return isinstance(child, dict) and "$ref" not in child


REQUEST_BODY = Rule(
    "request-body", "error",
    "a request body's top-level object is closed (`additionalProperties: false`) and nothing at its top level "
    "(inline, `$ref`, `allOf` members) opens it; objects inside it say `additionalProperties` (`true` only for "
    "free-form values such as an `eval` step's config; constraints combined with `allOf`/`anyOf` are exempt); "
    "PATCH bodies require nothing; no `readOnly` property is required in a request",
    request_body)

BOUNDED_INPUT = Rule(
    "bounded-input", "error",
    "request strings have `maxLength`/`enum`/`format`/`pattern`, numbers `minimum` and `maximum`, arrays `maxItems`",
    bounded_input)
