"""What openapi.yaml documents and what it assumes, read as data.

The spec lists the mock's choices (where the vendor's documentation is silent) in the root
`x-assumptions` registry. What the vendor documents is said explicitly, keyword by keyword:
`x-documented: [keywords]` on a schema (a response that breaks one breaks the contract) and
`x-documented-rejection: [keywords]` on a request schema (the vendor documents that a request
breaking one is refused). Nothing else is documented.

`Assumptions.attribute` decides, for one keyword of a schema that a request or a response broke,
whether that keyword is documented (None) or which assumption it rests on:
1. a keyword the failing schema documents for that direction is documented, whatever marks
   the node carries (a mark never swallows a documented `type`);
2. in a request, a failed `type` is `strict-input-validation`: a deployment that coerces a
   value is lenient, not wrong;
3. a mark on the failing schema itself names the assumption (the catch-all
   `strict-input-validation` a request body carries only restates rule 6);
4. bounds (lengths, sizes, ranges) are `value-bounds`, and a closed object in a request is
   `unknown-fields-rejected`;
5. the nearest mark on an enclosing schema;
6. otherwise `strict-input-validation` in a request and `response-shapes` in a response.
Fields the docs do not name are never a finding: a closed object in a response is ignored
(`ignored`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mock_server.bundle import Bundle, bundle
from mock_server.spec import HTTP_METHODS, Contract, json_pointer, load_document, walk
from mock_server.validation import SchemaValidator, ValidatorCache

Pointer = tuple[str, ...]
BOUND_KEYWORDS = frozenset({"maxLength", "minLength", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
                            "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "pattern"})
STRICT_INPUT = "strict-input-validation"
RESPONSE_SHAPES = "response-shapes"
VALUE_BOUNDS = "value-bounds"
UNKNOWN_FIELDS = "unknown-fields-rejected"
DOCUMENTED = {True: "x-documented-rejection", False: "x-documented"}  # request? -> the extension that says so


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

    @cached_property
    def step_keys(self) -> frozenset[str]:
        """The keys of a workflow step the docs name (`type` and `config`): the properties of the step shapes
        WorkflowStep's `oneOf` lists. A key a deployment adds beside them is a field the docs do not name."""
        contract = self.contract
        return frozenset(name for part in contract.schema("WorkflowStep").get("oneOf") or ()
                         for name in contract.resolve(part).get("properties") or {})

    @cached_property
    def documented_fields(self) -> frozenset[str]:
        """The fields of an experiment the docs name: the properties of the Experiment response schema and of
        the write bodies (less `experiment_id`, which is the `id`)."""
        contract = self.contract
        names: set[str] = set()

        def collect(node: object) -> None:
            node = contract.resolve(node) if isinstance(node, dict) else node
            if not isinstance(node, dict):
                return
            names.update(node.get("properties") or {})
            for part in node.get("allOf") or ():
                collect(part)

        collect(contract.schema("Experiment"))
        collect(contract.schema("ExperimentReplace"))
        return frozenset(names - {"experiment_id"})

    @cached_property
    def response_required(self) -> frozenset[str]:
        """Fields the vendor documents every experiment response to carry (the `required` of the Experiment
        schema's parts that rest on no assumption)."""
        parts = [self.contract.resolve(part) for part in self.contract.schema("Experiment")["allOf"]]
        return frozenset(name for part in parts if "x-assumption" not in part for name in part.get("required", ()))

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
        default = STRICT_INPUT if request else RESPONSE_SHAPES
        if not schema_path:
            return default
        keyword = str(schema_path[-1])
        chain = _chain(schema, schema_path[:-1])
        failing = chain[-1]
        if keyword in documented(failing, request=request):
            return None
        if request and keyword == "type":
            return STRICT_INPUT
        if _specific(failing):
            return _specific(failing)[0]
        if keyword in BOUND_KEYWORDS:
            return VALUE_BOUNDS
        if keyword == "additionalProperties":
            return UNKNOWN_FIELDS
        for node in reversed(chain[:-1]):
            if _specific(node):
                return _specific(node)[0]
        return default

    @staticmethod
    def ignored(schema_path: Sequence[Any], *, request: bool) -> bool:
        """A failure that is no finding at all: a field the docs do not name, in a response."""
        return not request and bool(schema_path) and str(schema_path[-1]) == "additionalProperties"

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

    @cached_property
    def operations(self) -> dict[str, dict[str, Any]]:
        """Every operation by operationId (`Contract.operations`, built once)."""
        return self.contract.operations()

    @cached_property
    def operation_ids(self) -> dict[tuple[str, str], str]:
        """(METHOD, path template) -> operationId: ("PATCH", "/experiments/{experiment_id}/") -> "updateExperiment"."""
        return {(method.upper(), path): item[method]["operationId"]
                for path, item in self.contract.document["paths"].items() for method in HTTP_METHODS if method in item}

    def operation_id(self, method: str, path_template: str) -> str | None:
        """The operationId of a method and path template (`("PATCH", "/experiments/{experiment_id}/")`)."""
        return self.operation_ids.get((method.upper(), path_template))

    def request_schema(self, operation_id: str) -> Any:
        operation = self.operations.get(operation_id) or {}
        body = self.contract.resolve(operation.get("requestBody") or {})
        media = (body.get("content") or {}).get("application/json") or {}
        return self.dereferenced(media.get("schema")) if media.get("schema") else None

    def parameter_schemas(self, operation_id: str) -> dict[str, tuple[str, Any]]:
        """name -> (location, dereferenced parameter object) of an operation's parameters."""
        operation = self.operations.get(operation_id) or {}
        found = {}
        for param in operation.get("parameters", []):
            resolved = self.dereferenced(param)
            found[resolved["name"]] = (resolved["in"], resolved)
        return found

    def response(self, operation_id: str, status: int) -> dict[str, Any] | None:
        responses = self.contract.responses(operation_id) if operation_id in self.operations else {}
        found = responses.get(str(status))
        return self.dereferenced(found) if found is not None else None

    def response_schema(self, operation_id: str, status: int) -> Any:
        response = self.response(operation_id, status) or {}
        media = (response.get("content") or {}).get("application/json") or {}
        return media.get("schema")

    def operation_marks(self, operation_id: str) -> tuple[str, ...]:
        return marks(self.operations.get(operation_id))


def documented(node: Any, *, request: bool) -> tuple[str, ...]:
    """The keywords a schema node says the vendor documents, for a request or a response."""
    value = node.get(DOCUMENTED[request]) if isinstance(node, dict) else None
    return tuple(str(k) for k in value) if isinstance(value, list) else ()


def _specific(node: Any) -> tuple[str, ...]:
    """A node's marks except the catch-all, which only says what rule 6 already does."""
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
