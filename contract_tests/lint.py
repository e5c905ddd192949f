"""Spec linter: `python -m contract_tests.lint [PATH]` checks openapi.yaml before anyone runs it.

Findings print as `PATH:LINE:COLUMN: error|warning [rule-id] message`, LINE pointing at the node in
the YAML file (not the resolved document). Exit 0 clean, 1 an error was found, 2 the file cannot be
read or parsed. `--format json` and `--format github` (Actions annotations) for machines.

Rules (ids in brackets): [oas-valid] the document is valid OpenAPI 3.0 (openapi-spec-validator);
[ref-resolves] every $ref resolves (prance); [connexion-loads] the mock can be built from it;
[example-valid] every example is valid against the schema it illustrates, with OpenAPI semantics
(openapi-schema-validator); [operation-metadata] unique URL-safe operationId, summary, description,
tag; [operation-security] secured or `security: []` on purpose; [error-responses] 401/400/404
documented where they can happen, every 4xx with a body schema and an example; [request-body]
request objects close additionalProperties, PATCH bodies require nothing, no readOnly property is
required in a request; [bounded-input] strings, numbers and arrays in requests are bounded;
[create-links] a create operation links to the operations that read and change what it created;
[unused-component] every component is used; [duplicate-schema] no inline schema repeats a component;
[assumption-marks] the root `x-assumptions` registry maps kebab-case ids to one sentence each, every
`x-assumption` names registry ids, and every keyword an `x-documented` lists is on its schema.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from mock_server.spec import SPEC_PATH, ref_parts

Pointer = tuple[str, ...]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
COMPONENT_SECTIONS = ("schemas", "responses", "parameters", "examples", "requestBodies", "headers",
                      "securitySchemes", "links", "callbacks")
OPERATION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    severity: str  # "error" | "warning"
    rule: str
    message: str

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity} [{self.rule}] {self.message}"

    def github(self) -> str:
        kind = "error" if self.severity == "error" else "warning"
        message = self.message.replace("%", "%25").replace("\n", "%0A")
        return f"::{kind} file={self.path},line={self.line},col={self.column},title={self.rule}::{message}"


class Unreadable(Exception):
    pass


class Document:
    """The raw YAML as data, with the line and column of every node, and `$ref` following."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Unreadable(f"{path}: cannot read: {exc}") from None
        try:
            self.root_node = yaml.compose(text, Loader=_Loader)
            self.data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise Unreadable(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(self.data, dict):
            raise Unreadable(f"{path}:1:1: not an OpenAPI document (the top level is not a mapping)")
        self.positions: dict[Pointer, tuple[int, int]] = {}
        self._index(self.root_node, ())

    def _index(self, node: yaml.Node, pointer: Pointer) -> None:
        self.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*pointer, str(key.value))
                self._index(value, child)
                # point a key's findings at the key itself
                self.positions[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                self._index(value, (*pointer, str(index)))

    def where(self, pointer: Pointer) -> tuple[int, int]:
        for cut in range(len(pointer), -1, -1):
            if pointer[:cut] in self.positions:
                return self.positions[pointer[:cut]]
        return (1, 1)

    def get(self, pointer: Pointer) -> Any:
        node: Any = self.data
        for part in pointer:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def deref(self, node: Any, pointer: Pointer) -> tuple[Any, Pointer]:
        """Follow local `$ref`s; returns the target and where it is (unchanged if unresolvable)."""
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target = ref_parts(node["$ref"])
            if target in seen:
                break
            seen.add(target)
            resolved = self.get(target)
            if resolved is None:
                break
            node, pointer = resolved, target
        return node, pointer

    def operations(self) -> Iterator[tuple[str, str, dict, Pointer]]:
        for path, item in (self.data.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                if isinstance(item.get(method), dict):
                    yield path, method, item[method], ("paths", path, method)

    def parameters(self, path: str, operation: dict, pointer: Pointer) -> Iterator[tuple[dict, Pointer]]:
        item_params = (self.data["paths"][path] or {}).get("parameters") or []
        for base, params in ((("paths", path, "parameters"), item_params), ((*pointer, "parameters"),
                                                                              operation.get("parameters") or [])):
            for index, param in enumerate(params):
                resolved, where = self.deref(param, (*base, str(index)))
                if isinstance(resolved, dict):
                    yield resolved, where


class Linter:
    def __init__(self, doc: Document, display_path: str) -> None:
        self.doc = doc
        self.display = display_path
        self.findings: list[Finding] = []

    def report(self, rule: str, pointer: Pointer, message: str, severity: str = "error") -> None:
        line, column = self.doc.where(pointer)
        finding = Finding(self.display, line, column, severity, rule, message)
        if finding not in self.findings:  # a component reached along two paths is one finding
            self.findings.append(finding)

    # -- 1. structure and references ---------------------------------------------------------------

    def structure(self) -> bool:
        from openapi_spec_validator import OpenAPIV30SpecValidator

        valid = True
        for error in OpenAPIV30SpecValidator(self.doc.data).iter_errors():
            valid = False
            pointer = tuple(str(p) for p in error.absolute_path)
            self.report("oas-valid", pointer, error.message.splitlines()[0][:300])
        return valid

    def references(self) -> Any:
        """Report every unresolvable `$ref`; return the document resolved by prance (None if it cannot be)."""
        from prance.util.resolver import RefResolver

        for pointer, value in walk(self.doc.data, ()):
            if isinstance(value, dict) and isinstance(value.get("$ref"), str):
                ref = value["$ref"]
                target = ref_parts(ref)
                if not ref.startswith("#/") or self.doc.get(target) is None:
                    self.report("ref-resolves", (*pointer, "$ref"), f"$ref {ref!r} does not resolve")
        try:
            resolver = RefResolver(self.doc.data, url=self.doc.path.resolve().as_uri())
            resolver.resolve_references()
            return resolver.specs
        except Exception as exc:  # prance reports unresolvable and circular references this way
            if not any(f.rule == "ref-resolves" for f in self.findings):
                self.report("ref-resolves", (), f"prance cannot resolve the references: {exc}")
            return None

    # -- 2. Connexion --------------------------------------------------------------------------------

    def connexion(self) -> None:
        from starlette.testclient import TestClient

        from mock_server.app import build_app

        try:
            with TestClient(build_app(spec_path=self.doc.path).asgi):
                pass
        except Exception as exc:  # whatever Connexion or the mock's builder raises is the finding
            message = f"the mock cannot be built from this spec: {type(exc).__name__}: {exc}".splitlines()[0]
            self.report("connexion-loads", self._pointer_named_in(str(exc)), message[:300])

    def _pointer_named_in(self, text: str) -> Pointer:
        for _path, _method, operation, pointer in self.doc.operations():
            if str(operation.get("operationId")) in text:
                return (*pointer, "operationId")
        return ()

    # -- 3. examples ----------------------------------------------------------------------------------

    def examples(self, resolved: dict[str, Any]) -> None:
        from openapi_schema_validator import OAS30ReadValidator, OAS30Validator, OAS30WriteValidator

        def check(schema: Any, value: Any, where: Pointer, validator_class: Any, what: str) -> None:
            if not isinstance(schema, dict):
                return
            # `discriminator` only names the oneOf branch (by $ref, gone after resolution); the oneOf
            # itself still decides validity.
            error = next(iter(validator_class(_without_discriminator(schema)).iter_errors(value)), None)
            if error is not None:
                at = "/".join(str(p) for p in error.absolute_path) or "(root)"
                self.report("example-valid", where, f"{what} is not valid at {at}: {error.message[:200]}")

        for path, method, _operation, pointer in self.doc.operations():
            resolved_op = resolved["paths"][path][method]
            body = resolved_op.get("requestBody") or {}
            _, body_ptr = self.doc.deref(self.doc.get((*pointer, "requestBody")), (*pointer, "requestBody"))
            for media, content in (body.get("content") or {}).items():
                media_ptr = (*body_ptr, "content", media)
                for value, where in self._media_examples(media_ptr):
                    check(content.get("schema"), value, where, OAS30WriteValidator, "request example")
            for status, response in (resolved_op.get("responses") or {}).items():
                raw, response_ptr = self.doc.deref(self.doc.get((*pointer, "responses", status)),
                                                   (*pointer, "responses", status))
                for media, content in (response.get("content") or {}).items():
                    for value, where in self._media_examples((*response_ptr, "content", media)):
                        check(content.get("schema"), value, where, OAS30ReadValidator, f"{status} example")
            for index, param in enumerate(resolved_op.get("parameters") or []):
                self._parameter_examples(param, (*pointer, "parameters", str(index)), check, OAS30Validator)
            for index, param in enumerate(resolved["paths"][path].get("parameters") or []):
                self._parameter_examples(param, ("paths", path, "parameters", str(index)), check, OAS30Validator)
        for name in (resolved.get("components") or {}).get("schemas") or {}:
            for sub_ptr, raw in walk(self.doc.get(("components", "schemas", name)), ("components", "schemas", name)):
                if isinstance(raw, dict) and "example" in raw and "$ref" not in raw:
                    resolved_schema = _follow(resolved, sub_ptr)
                    check(resolved_schema, raw["example"], (*sub_ptr, "example"), OAS30Validator, "schema example")

    def _media_examples(self, media_ptr: Pointer) -> Iterator[tuple[Any, Pointer]]:
        media = self.doc.get(media_ptr)
        if not isinstance(media, dict):
            return
        if "example" in media:
            yield media["example"], (*media_ptr, "example")
        for name, example in (media.get("examples") or {}).items():
            target, where = self.doc.deref(example, (*media_ptr, "examples", name))
            if isinstance(target, dict) and "value" in target:
                yield target["value"], (*where, "value")

    def _parameter_examples(self, param: dict, raw_ptr: Pointer, check: Any, validator: Any) -> None:
        _, where = self.doc.deref(self.doc.get(raw_ptr), raw_ptr)
        if "example" in param:
            check(param.get("schema"), param["example"], (*where, "example"), validator, "parameter example")
        for name, example in (param.get("examples") or {}).items():
            if isinstance(example, dict) and "value" in example:
                check(param.get("schema"), example["value"], (*where, "examples", name), validator,
                      "parameter example")

    # -- 4-5. operations --------------------------------------------------------------------------------

    def operation_rules(self) -> None:
        seen: dict[str, Pointer] = {}
        global_security = self.doc.data.get("security")
        for path, method, operation, pointer in self.doc.operations():
            op_id = operation.get("operationId")
            if not isinstance(op_id, str) or not OPERATION_ID.match(op_id):
                self.report("operation-metadata", pointer, f"{method.upper()} {path} needs a URL-safe operationId")
            elif op_id in seen:
                self.report("operation-metadata", (*pointer, "operationId"), f"operationId {op_id!r} is used twice")
            else:
                seen[op_id] = pointer
            for field in ("summary", "description"):
                if not str(operation.get(field) or "").strip():
                    where = (*pointer, field) if field in operation else pointer
                    self.report("operation-metadata", where, f"{method.upper()} {path} has no {field}")
            if not operation.get("tags"):
                self.report("operation-metadata", pointer, f"{method.upper()} {path} has no tag")

            security = operation.get("security", global_security)
            responses = operation.get("responses") or {}
            if security is None:
                self.report("operation-security", pointer,
                            f"{method.upper()} {path} is not secured; say `security: []` if that is on purpose")
            elif security and "401" not in responses:
                self.report("error-responses", (*pointer, "responses"), f"{method.upper()} {path} is secured but "
                            "does not document 401")
            params = list(self.doc.parameters(path, operation, pointer))
            if (operation.get("requestBody") or params) and "400" not in responses:
                self.report("error-responses", (*pointer, "responses"),
                            f"{method.upper()} {path} takes input but does not document 400")
            if any(p.get("in") == "path" for p, _ in params) and "404" not in responses:
                self.report("error-responses", (*pointer, "responses"),
                            f"{method.upper()} {path} has a path id but does not document 404")
            for status, response in responses.items():
                if not str(status).startswith("4"):
                    continue
                resolved, where = self.doc.deref(response, (*pointer, "responses", str(status)))
                content = (resolved or {}).get("content") or {}
                if not content:
                    self.report("error-responses", where, f"{status} response of {method.upper()} {path} has no body")
                for media, media_obj in content.items():
                    if not media_obj.get("schema"):
                        self.report("error-responses", (*where, "content", media), f"{status} has no body schema")
                    if "example" not in media_obj and not media_obj.get("examples"):
                        self.report("error-responses", (*where, "content", media), f"{status} has no example")

    # -- 6-7. request inputs ------------------------------------------------------------------------------

    def request_rules(self) -> None:
        for path, method, operation, pointer in self.doc.operations():
            body, body_ptr = self.doc.deref(operation.get("requestBody"), (*pointer, "requestBody"))
            for media, media_obj in ((body or {}).get("content") or {}).items():
                schema_ptr = (*body_ptr, "content", media, "schema")
                schema, where = self.doc.deref(media_obj.get("schema"), schema_ptr)
                if method == "patch" and isinstance(schema, dict) and schema.get("required"):
                    self.report("request-body", (*where, "required"),
                                f"PATCH {path} body requires {schema['required']}; a PATCH body requires nothing")
                if isinstance(schema, dict) and schema.get("type") == "object" \
                        and schema.get("additionalProperties") is not False:
                    self.report("request-body", where, f"the {method.upper()} {path} body is not closed "
                                "(`additionalProperties: false`); only free-form values inside it may be open")
                self._request_schema(schema, where, set())
            for param, where in self.doc.parameters(path, operation, pointer):
                schema, schema_ptr = self.doc.deref(param.get("schema"), (*where, "schema"))
                self._bounded(schema, schema_ptr, set())

    def _request_schema(self, schema: Any, pointer: Pointer, seen: set[Pointer], *, fragment: bool = False) -> None:
        if not isinstance(schema, dict) or pointer in seen:
            return
        seen.add(pointer)
        self._bounded_here(schema, pointer)
        properties = schema.get("properties") or {}
        if schema.get("type") == "object" and not fragment:
            if "additionalProperties" not in schema:
                self.report("request-body", pointer, "request object does not say additionalProperties "
                            "(close it with `false`, or say `true` for free-form data)")
            for name in schema.get("required") or []:
                prop, _ = self.doc.deref(properties.get(name), ())
                if isinstance(prop, dict) and prop.get("readOnly"):
                    self.report("request-body", (*pointer, "required"),
                                f"read-only property {name!r} is required in a request")
        for child, child_ptr in _subschemas(schema, pointer):
            target, where = self.doc.deref(child, child_ptr)
            self._request_schema(target, where, seen, fragment=_is_fragment(child, target, child_ptr, schema))

    def _bounded(self, schema: Any, pointer: Pointer, seen: set[Pointer]) -> None:
        if not isinstance(schema, dict) or pointer in seen:
            return
        seen.add(pointer)
        self._bounded_here(schema, pointer)
        for child, child_ptr in _subschemas(schema, pointer):
            target, where = self.doc.deref(child, child_ptr)
            self._bounded(target, where, seen)

    def _bounded_here(self, schema: dict, pointer: Pointer) -> None:
        kind = schema.get("type")
        if kind == "string" and not any(k in schema for k in ("maxLength", "enum", "format", "pattern")):
            self.report("bounded-input", pointer, "string input has no maxLength, enum, format or pattern")
        elif kind in ("integer", "number") and "enum" not in schema:
            missing = [k for k in ("minimum", "maximum") if k not in schema]
            if missing:
                self.report("bounded-input", pointer, f"{kind} input has no {' or '.join(missing)}")
        elif kind == "array" and "maxItems" not in schema:
            self.report("bounded-input", pointer, "array input has no maxItems")

    # -- 8. links -------------------------------------------------------------------------------------------

    def link_rules(self) -> None:
        paths = self.doc.data.get("paths") or {}
        ids = {(path, method): op.get("operationId") for path, method, op, _ in self.doc.operations()}
        for path, method, operation, pointer in self.doc.operations():
            created = (operation.get("responses") or {}).get("201")
            if method != "post" or created is None:
                continue
            response, where = self.doc.deref(created, (*pointer, "responses", "201"))
            linked = {link.get("operationId") for link in ((response or {}).get("links") or {}).values()
                      if isinstance(link, dict)}
            item_paths = [p for p in paths if p.startswith(path) and re.fullmatch(r"\{[^/}]+\}/?", p[len(path):])]
            wanted = {ids[(p, m)] for p in item_paths for m in HTTP_METHODS if (p, m) in ids}
            missing = sorted(str(w) for w in wanted - linked)
            if not item_paths:
                continue
            if missing:
                self.report("create-links", where, f"201 of POST {path} has no links to {', '.join(missing)}")

    # -- 9. components ----------------------------------------------------------------------------------------

    def component_rules(self) -> None:
        components = self.doc.data.get("components") or {}
        refs = {value["$ref"] for _, value in walk(self.doc.data, ())
                if isinstance(value, dict) and isinstance(value.get("$ref"), str)}
        used_schemes = {name for requirement in self._security_requirements() for name in requirement}
        for section in COMPONENT_SECTIONS:
            for name in components.get(section) or {}:
                used = name in used_schemes if section == "securitySchemes" else \
                    f"#/components/{section}/{name}" in refs
                if not used:
                    self.report("unused-component", ("components", section, name),
                                f"components/{section}/{name} is never used")
        named = {_canonical(schema): name for name, schema in (components.get("schemas") or {}).items()
                 if isinstance(schema, dict)}
        for pointer, value in walk(self.doc.data, ()):
            if len(pointer) >= 3 and pointer[:2] == ("components", "schemas") and len(pointer) == 3:
                continue
            if _is_schema_position(pointer) and isinstance(value, dict) and "$ref" not in value and _substantial(value):
                name = named.get(_canonical(value))
                if name:
                    self.report("duplicate-schema", pointer,
                                f"this inline schema repeats components/schemas/{name}; use its $ref", "warning")

    # -- 10. documented vs assumed --------------------------------------------------------------------------

    def assumption_rules(self) -> None:
        registry = self.doc.data.get("x-assumptions")
        if registry is not None and not isinstance(registry, dict):
            self.report("assumption-marks", ("x-assumptions",), "x-assumptions maps assumption ids to sentences")
            registry = {}
        registry = registry or {}
        for key, text in registry.items():
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(key)):
                self.report("assumption-marks", ("x-assumptions", str(key)), f"assumption id {key!r} is not kebab-case")
            if not isinstance(text, str) or not 10 <= len(text) <= 400 or not text.rstrip().endswith((".", ")")):
                self.report("assumption-marks", ("x-assumptions", str(key)),
                            f"assumption {key!r} needs one sentence (10-400 characters) saying what is assumed")
        for pointer, node in walk(self.doc.data, ()):
            if not isinstance(node, dict):
                continue
            if "x-assumption" in node:
                value = node["x-assumption"]
                ids = [value] if isinstance(value, str) else value if isinstance(value, list) else [None]
                for assumption_id in ids:
                    if assumption_id not in registry:
                        self.report("assumption-marks", (*pointer, "x-assumption"),
                                    f"x-assumption {assumption_id!r} is not in the x-assumptions registry")
            if "x-documented" in node:
                keywords = node["x-documented"]
                absent = [k for k in keywords if k not in node] if isinstance(keywords, list) else [keywords]
                if absent:
                    self.report("assumption-marks", (*pointer, "x-documented"),
                                f"x-documented lists keywords this schema does not have: {absent}")

    def _security_requirements(self) -> Iterator[dict]:
        yield from self.doc.data.get("security") or []
        for _, _, operation, _ in self.doc.operations():
            yield from operation.get("security") or []

    # -- all ----------------------------------------------------------------------------------------------------

    def run(self, *, connexion: bool = True) -> list[Finding]:
        resolved = self.references()
        valid = resolved is not None and self.structure()
        if valid and resolved is not None:
            if connexion:
                self.connexion()
            self.examples(resolved)
            self.operation_rules()
            self.request_rules()
            self.link_rules()
            self.component_rules()
            self.assumption_rules()
        return sorted(self.findings, key=lambda f: (f.line, f.column, f.rule))


def walk(node: Any, pointer: Pointer) -> Iterator[tuple[Pointer, Any]]:
    """Every node of a document with its pointer, depth first."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*pointer, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*pointer, str(index)))


def _follow(node: Any, pointer: Pointer) -> Any:
    for part in pointer:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit():
            node = node[int(part)]
        else:
            return None
    return node


def _subschemas(schema: dict, pointer: Pointer, declared: frozenset[str] = frozenset()
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
    for key in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(schema.get(key) or []):
            if isinstance(sub, dict) and "$ref" not in sub:
                yield from _subschemas(sub, (*pointer, key, str(index)), own)
                if "type" in sub:
                    yield {k: v for k, v in sub.items() if k not in ("properties", "items", "allOf", "anyOf",
                                                                      "oneOf")}, (*pointer, key, str(index))
            else:
                yield sub, (*pointer, key, str(index))


def _is_fragment(child: Any, target: Any, child_ptr: Pointer, parent: dict) -> bool:
    """A constraint combined into its parent (an allOf member whose properties, if any, the parent
    declares too, or an inline anyOf/oneOf branch, which narrows what its parent declares): not an
    object of its own, so it need not say additionalProperties."""
    if len(child_ptr) < 2 or child_ptr[-2] not in ("allOf", "anyOf", "oneOf") or not isinstance(target, dict):
        return False
    own = set(target.get("properties") or {})
    if child_ptr[-2] == "allOf" and own <= set(parent.get("properties") or {}):
        return True  # it only constrains (and may restate) what its parent declares
    return isinstance(child, dict) and "$ref" not in child


def _without_discriminator(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_discriminator(v) for k, v in schema.items() if k != "discriminator"}
    if isinstance(schema, list):
        return [_without_discriminator(v) for v in schema]
    return schema


_DOC_KEYS = frozenset({"example", "examples"})  # a copy with its own description is not a repeat


def _canonical(schema: dict) -> str:
    return json.dumps({k: v for k, v in schema.items() if k not in _DOC_KEYS}, sort_keys=True, default=str)


def _substantial(schema: dict) -> bool:
    core = {k for k in schema if k not in _DOC_KEYS}
    return "properties" in core or len(core) >= 3


def _is_schema_position(pointer: Pointer) -> bool:
    return bool(pointer) and (pointer[-1] in ("schema", "items", "additionalProperties")
                              or (len(pointer) >= 2 and pointer[-2] in ("properties", "allOf", "anyOf", "oneOf")))


def lint(path: Path, *, display: str | None = None, connexion: bool = True) -> list[Finding]:
    return Linter(Document(path), display or str(path)).run(connexion=connexion)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="experiments-lint", description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", default="openapi.yaml" if Path("openapi.yaml").is_file() else str(SPEC_PATH),
                        help="the OpenAPI document (default: ./openapi.yaml, else the packaged one)")
    parser.add_argument("--format", choices=["text", "json", "github"], default="text")
    parser.add_argument("--no-mock", action="store_true",
                        help="skip [connexion-loads] (for a spec the mock is not built from)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        findings = lint(Path(args.path), display=args.path, connexion=not args.no_mock)
    except Unreadable as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            print(finding.github() if args.format == "github" else finding.text())
    errors = sum(f.severity == "error" for f in findings)
    if args.format == "text":
        print(f"{args.path}: {errors} error(s), {len(findings) - errors} warning(s) "
              f"in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
