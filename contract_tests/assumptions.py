"""What openapi.yaml documents and what it assumes: its `x-assumption` marks, read as data.

The spec lists the mock's choices (where the vendor's documentation is silent) in the root
`x-assumptions` registry and marks every constraint that rests on one with `x-assumption: <id>`
(one id or a list). A schema may also name keywords of its own that the vendor documents in
`x-documented` (the `required` of a create body, the exclusivity of the two scoring paths).

`Assumptions.attribute` decides, for one keyword of a schema that a request or a response broke,
whether that keyword is documented (None) or which assumption it rests on:
1. a keyword the failing schema lists in `x-documented` is documented;
2. a mark on the failing schema itself names the assumption (the catch-all
   `strict-input-validation` a request body carries only restates rule 5);
3. bounds (lengths, sizes, ranges) are `value-bounds`, and a closed object is
   `unknown-fields-rejected` (a response shows unknown fields only because a request's were
   accepted), unless a schema marked them itself;
4. the nearest mark on an enclosing schema;
5. otherwise a request constraint is `strict-input-validation` (the vendor does not promise to
   reject everything a schema forbids) and a response constraint is documented.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mock_server.bundle import Bundle, bundle
from mock_server.spec import Contract, json_pointer, load_document, walk
from mock_server.validation import SchemaValidator, ValidatorCache

Pointer = tuple[str, ...]
BOUND_KEYWORDS = frozenset({"maxLength", "minLength", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
                            "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "pattern"})
STRICT_INPUT = "strict-input-validation"
VALUE_BOUNDS = "value-bounds"
UNKNOWN_FIELDS = "unknown-fields-rejected"


def marks(node: Any) -> tuple[str, ...]:
    """The assumption ids a spec node carries (`x-assumption: id` or a list of ids)."""
    if not isinstance(node, dict):
        return ()
    value = node.get("x-assumption")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


@dataclass(frozen=True)
class Assumption:
    id: str
    text: str


class Assumptions:
    """The registry of a spec's assumptions, where each is marked, and attribution of broken keywords."""

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = spec_path
        self.contract = Contract(load_document(spec_path))
        registry = self.contract.document.get("x-assumptions") or {}
        self.registry = {key: Assumption(key, str(text)) for key, text in registry.items()}
        self._dereferenced: dict[int, tuple[Any, Any]] = {}
        self._validators = ValidatorCache()

    def __contains__(self, assumption_id: str) -> bool:
        return assumption_id in self.registry

    def text(self, assumption_id: str) -> str:
        found = self.registry.get(assumption_id)
        return found.text if found else "(not in the spec's x-assumptions registry)"

    @cached_property
    def _lines(self) -> Bundle:
        return bundle(self.spec_path)  # where each node is written, in whichever file of a split spec

    @cached_property
    def locations(self) -> dict[str, list[Pointer]]:
        """Every place in the spec that carries each assumption (the registry entry first)."""
        found: dict[str, list[Pointer]] = {key: [("x-assumptions", key)] for key in self.registry}
        for pointer, node in walk(self.contract.document, ()):
            for assumption_id in marks(node):
                found.setdefault(assumption_id, []).append((*pointer, "x-assumption"))
        return found

    def where(self, assumption_id: str) -> str:
        """`openapi.yaml:LINE` of the first mark of this assumption outside the registry (else the registry)."""
        places = self.locations.get(assumption_id) or [("x-assumptions",)]
        pointer = places[1] if len(places) > 1 else places[0]
        return self.line_of(pointer)

    def line_of(self, pointer: Pointer) -> str:
        file, line, _ = self._lines.where(pointer)
        return f"{file.name}:{line} ({json_pointer(pointer)})"

    # -- attribution ------------------------------------------------------------------------------

    def attribute(self, schema: Any, schema_path: Sequence[Any], *, request: bool) -> str | None:
        """The assumption a broken keyword rests on, or None when the vendor documents it.

        `schema` is a dereferenced schema (marks travel with the nodes copied from components)
        and `schema_path` the path of the failing keyword in it, keyword last."""
        if not schema_path:
            return STRICT_INPUT if request else None
        keyword = str(schema_path[-1])
        chain = _chain(schema, schema_path[:-1])
        failing = chain[-1]
        if isinstance(failing, dict) and keyword in (failing.get("x-documented") or ()):
            return None
        if _specific(failing):
            return _specific(failing)[0]
        if keyword in BOUND_KEYWORDS:
            return VALUE_BOUNDS
        if keyword == "additionalProperties":
            return UNKNOWN_FIELDS  # in a response too: it shows fields only because a request's were accepted
        for node in reversed(chain[:-1]):
            if _specific(node):
                return _specific(node)[0]
        return STRICT_INPUT if request else None

    def dereferenced(self, node: Any) -> Any:
        """`node` with its `$ref`s replaced, built once per node (findings ask again and again), so
        the same schema object comes back and its compiled validator is reused."""
        found = self._dereferenced.get(id(node))
        if found is None or found[0] is not node:
            found = self._dereferenced[id(node)] = (node, self.contract.dereferenced(node))
        return found[1]

    def validator(self, schema: Any) -> SchemaValidator:
        """The compiled validator of a (dereferenced) schema, compiled once."""
        return self._validators(schema)

    def request_schema(self, operation_id: str) -> Any:
        operation = self.contract.operations().get(operation_id) or {}
        body = self.contract.resolve(operation.get("requestBody") or {})
        media = (body.get("content") or {}).get("application/json") or {}
        return self.dereferenced(media.get("schema")) if media.get("schema") else None

    def parameter_schemas(self, operation_id: str) -> dict[str, tuple[str, Any]]:
        """name -> (location, dereferenced parameter object) of an operation's parameters."""
        operation = self.contract.operations().get(operation_id) or {}
        found = {}
        for param in operation.get("parameters", []):
            resolved = self.dereferenced(param)
            found[resolved["name"]] = (resolved["in"], resolved)
        return found

    def response(self, operation_id: str, status: int) -> dict[str, Any] | None:
        responses = self.contract.responses(operation_id) if operation_id in self.contract.operations() else {}
        found = responses.get(str(status))
        return self.dereferenced(found) if found is not None else None

    def response_schema(self, operation_id: str, status: int) -> Any:
        response = self.response(operation_id, status) or {}
        media = (response.get("content") or {}).get("application/json") or {}
        return media.get("schema")

    def operation_marks(self, operation_id: str) -> tuple[str, ...]:
        return marks(self.contract.operations().get(operation_id))


def _specific(node: Any) -> tuple[str, ...]:
    """A node's marks except the catch-all, which only says what rule 5 already does."""
    return tuple(m for m in marks(node) if m != STRICT_INPUT)


def _chain(schema: Any, path: Iterable[Any]) -> list[Any]:
    """The nodes from `schema` down along `path` (stops where the path leaves the tree)."""
    nodes = [schema]
    node = schema
    for part in path:
        if isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        else:
            break
        nodes.append(node)
    return nodes
