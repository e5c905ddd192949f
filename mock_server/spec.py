"""The contract as loaded data: the spec document, its routes, and facts the rules read from it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from .bundle import LineIndex as LineIndex  # re-exported: where the suite and the linter find it
from .bundle import Pointer as Pointer
from .bundle import bundle

# The contract as the package ships it: `mock_server/openapi.yaml` links to the repository's
# `openapi.yaml` (the one source), and a built wheel carries a copy.
SPEC_PATH = Path(str(resources.files("mock_server") / "openapi.yaml"))
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MISSING = object()


def load_document(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The contract at `path` as one document (a contract split across files is bundled, see bundle.py)."""
    return bundle(path).document


@dataclass(frozen=True)
class Route:
    """One path of the spec: its template, a matcher that takes it with or without the slash (path
    parameters as named groups), and the operationId of each of its methods."""

    template: str
    pattern: re.Pattern[str]
    operations: dict[str, str]

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.operations)


class Contract:
    """Read-only view of `openapi.yaml` for the parts of the mock that need facts from it."""

    def __init__(self, document: dict[str, Any], base_path: str = "/api/v2") -> None:
        self.document = document  # never changed after loading, so what is read from it is cached
        self.base_path = base_path
        self._responses: dict[str, dict[str, dict[str, Any]]] = {}

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a real node is reached."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        node: Any = self.document
        for part in ref_parts(ref):
            node = node[part]
        return node

    def at(self, pointer: Pointer, default: Any = None) -> Any:
        """The node at `pointer` (list items by index), or `default` where there is none."""
        node: Any = self.document
        for part in pointer:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return default
        return node

    def locate(self, node: Any, pointer: Pointer) -> tuple[Any, Pointer]:
        """Follow local `$ref`s from `node` (found at `pointer`): the target and where it is. It stops
        at a `$ref` that does not resolve or that loops, and returns that node."""
        seen: set[Pointer] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target = ref_parts(node["$ref"])
            found = self.at(target, _MISSING)
            if target in seen or found is _MISSING:
                break
            seen.add(target)
            node, pointer = found, target
        return node, pointer

    def schema(self, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.document["components"]["schemas"][name]
        return schema

    @cached_property
    def routes(self) -> tuple[Route, ...]:
        routes = []
        for template, item in self.document["paths"].items():
            operations = {m.upper(): item[m]["operationId"] for m in HTTP_METHODS if m in item}
            stem = re.sub(r"\\\{([^/}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template.rstrip("/")))
            pattern = re.compile("^" + re.escape(self.base_path) + stem + "/?$")
            routes.append(Route(template, pattern, operations))
        return tuple(routes)

    def route_for(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route of `path` and its path parameters, or None."""
        for route in self.routes:
            match = route.pattern.match(path)
            if match:
                return route, match.groupdict()
        return None

    def property_defaults(self, schema_name: str) -> dict[str, Any]:
        """The `default` of every property of a component schema (after following `$ref`s)."""
        defaults = {}
        for name, prop in self.schema(schema_name)["properties"].items():
            prop = self.resolve(prop)
            if "default" in prop:
                defaults[name] = prop["default"]
        return defaults

    def property_names(self, schema_name: str) -> frozenset[str]:
        return frozenset(self.schema(schema_name)["properties"])

    @cached_property
    def response_only_fields(self) -> frozenset[str]:
        """Fields an experiment has in responses that no request may send."""
        detail = self.schema("Experiment")
        names: set[str] = set()
        for part in detail["allOf"]:
            names.update(self.resolve(part).get("properties", {}))
        return frozenset(names - self.property_names("ExperimentPatch"))

    def dereferenced(self, node: Any) -> Any:
        """`node` with every local `$ref` replaced by a copy of its target (the spec has no cycles)."""
        if isinstance(node, dict):
            if "$ref" in node:
                return self.dereferenced(self.pointer(node["$ref"]))
            return {key: self.dereferenced(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.dereferenced(item) for item in node]
        return node

    def operations(self) -> dict[str, dict[str, Any]]:
        """Every operation by operationId, with the path-level parameters merged in."""
        found = {}
        for item in self.document["paths"].values():
            for method in HTTP_METHODS:
                if method in item:
                    operation = dict(item[method])
                    operation["parameters"] = [*item.get("parameters", []), *operation.get("parameters", [])]
                    found[operation["operationId"]] = operation
        return found

    def operation_pointer(self, operation_id: str) -> tuple[str, ...]:
        for path, item in self.document["paths"].items():
            for method in HTTP_METHODS:
                if isinstance(item.get(method), dict) and item[method].get("operationId") == operation_id:
                    return ("paths", path, method)
        raise KeyError(operation_id)

    def follow(self, pointer: tuple[str, ...], schema_path: tuple[Any, ...]) -> tuple[str, ...]:
        """Where `schema_path` (a path inside the resolved schema at `pointer`) lands in the file."""
        node: Any = self.pointer(_to_ref(pointer))
        for part in schema_path:
            while isinstance(node, dict) and "$ref" in node:
                pointer = ref_parts(node["$ref"])
                node = self.pointer(node["$ref"])
            key = str(part)
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                break
            pointer = (*pointer, key)
        return pointer

    def responses(self, operation_id: str) -> dict[str, dict[str, Any]]:
        """The documented responses of an operation, `$ref`s followed: `{status: response}`."""
        if operation_id not in self._responses:
            operation = self.pointer(_to_ref(self.operation_pointer(operation_id)))
            self._responses[operation_id] = {str(status): self.resolve(response)
                                             for status, response in operation["responses"].items()}
        return self._responses[operation_id]

    def response_examples(self, operation_id: str, status: str) -> dict[str, Any]:
        """The named examples of a documented response (`{}` when it has no body)."""
        response = self.responses(operation_id)[status]
        media = (response.get("content") or {}).get("application/json") or {}
        examples = {name: self.resolve(example)["value"] for name, example in (media.get("examples") or {}).items()}
        if not examples and "example" in media:
            examples["example"] = media["example"]
        return examples


def json_pointer(pointer: tuple[str, ...]) -> str:
    return _to_ref(pointer)


def _to_ref(pointer: tuple[str, ...]) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in pointer)


def ref_parts(ref: str) -> tuple[str, ...]:
    """`#/components/schemas/A~1B` -> ("components", "schemas", "A/B")."""
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/"))


def walk(node: Any, pointer: Pointer = ()) -> Iterator[tuple[Pointer, Any]]:
    """Every node of a document with its pointer, depth first (`$ref`s are not followed)."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*pointer, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*pointer, str(index)))
