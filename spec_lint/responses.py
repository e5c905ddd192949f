"""Rules on what operations answer: their errors (`error-responses`), the links of a create (`create-links`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mock_server.spec import HTTP_METHODS

from .model import Issue, LintedSpec, Rule


def error_responses(spec: LintedSpec) -> Iterator[Issue]:
    global_security = spec.data.get("security")
    for operation in spec.operations:
        responses = operation.node.get("responses") or {}
        where = (*operation.pointer, "responses")
        if operation.node.get("security", global_security) and "401" not in responses:
            yield Issue(where, f"{operation.name} is secured but does not document 401")
        params = list(spec.parameters(operation))
        if (operation.node.get("requestBody") or params) and "400" not in responses:
            yield Issue(where, f"{operation.name} takes input but does not document 400")
        if any(p.get("in") == "path" for p, _ in params) and "404" not in responses:
            yield Issue(where, f"{operation.name} has a path id but does not document 404")
        for status, response in responses.items():
            if not str(status).startswith("4"):
                continue
            resolved, at = spec.locate(response, (*where, str(status)))
            content = (resolved or {}).get("content") or {}
            if not content:
                yield Issue(at, f"{status} response of {operation.name} has no body")
            for media, media_obj in content.items():
                if not (media_obj or {}).get("schema"):
                    yield Issue((*at, "content", media), f"{status} has no body schema")
                if "example" not in (media_obj or {}) and not (media_obj or {}).get("examples"):
                    yield Issue((*at, "content", media), f"{status} has no example")


def create_links(spec: LintedSpec) -> Iterator[Issue]:
    paths = spec.data.get("paths") or {}
    ids = {(op.path, op.method): op.node.get("operationId") for op in spec.operations}
    for operation in spec.operations:
        created = (operation.node.get("responses") or {}).get("201")
        if operation.method != "post" or created is None:
            continue
        item_paths = [p for p in paths if p.startswith(operation.path)
                      and re.fullmatch(r"\{[^/}]+\}/?", p[len(operation.path):])]
        if not item_paths:
            continue
        response, where = spec.locate(created, (*operation.pointer, "responses", "201"))
        linked = {link.get("operationId") for link in ((response or {}).get("links") or {}).values()
                  if isinstance(link, dict)}
        wanted = {ids[(p, m)] for p in item_paths for m in HTTP_METHODS if (p, m) in ids}
        missing = sorted(str(w) for w in wanted - linked)
        if missing:
            yield Issue(where, f"201 of {operation.name} has no links to {', '.join(missing)}")


ERROR_RESPONSES = Rule(
    "error-responses", "error",
    "secured operations document 401; operations with input 400; with a path id 404; "
    "every 4xx has a body schema and an example",
    error_responses)

CREATE_LINKS = Rule(
    "create-links", "error",
    "a create (POST answering 201) links to every operation on the item it created",
    create_links)
