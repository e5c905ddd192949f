"""The spec documents the mock serves beside the API (`openapi.json`, `openapi.yaml`): the contract as written.

Connexion would serve its own copy, with every `$ref` expanded (338 KB, no named component left), and
build it again on every request. A generator pointed at that URL makes a type of every inline copy
(`ExperimentWorkflowItemType0…5`) instead of the named ones. These are the document the mock was
built from instead (bundled into one file when the contract is split, references kept), with one
change: `servers` starts with the mock's own base path, so Swagger UI's "Try it out" calls the mock
and not whatever the contract names first. Each is built once per root path.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class SpecDocuments:
    """Answers `GET` (and `HEAD`) of the spec documents; the rest of the documentation, Swagger UI,
    is passed to `app`."""

    def __init__(self, app: ASGIApp, base_path: str, document: dict[str, Any]) -> None:
        self.app = app
        self.base_path = base_path
        self.document = document
        self.json_path, self.yaml_path = f"{base_path}/openapi.json", f"{base_path}/openapi.yaml"
        self._bodies: dict[tuple[str, str], bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or path not in (
                self.json_path, self.yaml_path):
            await self.app(scope, receive, send)
            return
        root_path = str(scope.get("root_path", "")).rstrip("/")
        key = (root_path, path)
        if key not in self._bodies:
            self._bodies[key] = self._render(root_path, as_json=path == self.json_path)
        media_type = "application/json" if path == self.json_path else "application/yaml"
        await Response(self._bodies[key], media_type=media_type)(scope, receive, send)

    def served(self, root_path: str = "") -> dict[str, Any]:
        """The document as served: the contract, the mock's base path first among its servers."""
        here = {"url": f"{root_path}{self.base_path}", "description": "This mock"}
        others = [s for s in self.document.get("servers") or [] if isinstance(s, dict) and s.get("url") != here["url"]]
        return {**self.document, "servers": [here, *others]}

    def _render(self, root_path: str, *, as_json: bool) -> bytes:
        document = self.served(root_path)
        if as_json:
            # YAML keys may be numbers (`200:`) and values dates; JSON wants strings for both.
            return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2, default=str)
        text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
        return text.encode("utf-8")
