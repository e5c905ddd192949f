"""openapi.yaml split across files the way large teams keep theirs, for the multi-file tests.

    openapi.yaml              info, servers, security, tags; each path and component a `$ref` to a file
    schemas.yaml              every schema, by name; references between schemas local to the file (`#/Name`)
    common.yaml               responses, parameters, examples, …; schemas referenced in schemas.yaml
    paths/experiments.yaml    every path item; schemas referenced in ../schemas.yaml, the rest through
                              the root's components (`../openapi.yaml#/components/responses/…`)

Made from the repository's openapi.yaml at test time (`python tests/split_contract.py OUT` writes one
to look at), so it never drifts from the contract it copies.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FILES = ("openapi.yaml", "schemas.yaml", "common.yaml", "paths/experiments.yaml")


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # every node written out in full, as a person writes it


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _rewrite(node: Any, target: Any) -> Any:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/components/"):
            kind, name = node["$ref"][len("#/components/"):].split("/", 1)
            return {**node, "$ref": target(kind, name)}
        return {key: _rewrite(value, target) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite(item, target) for item in node]
    return node


def split(source: Path, out: Path) -> Path:
    """Write the split copy of `source` into `out`; its root file."""
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    components = document["components"]
    schemas = components.pop("schemas")
    common = {kind: components.pop(kind) for kind in list(components) if kind != "securitySchemes"}

    def from_schemas(kind: str, name: str) -> str:
        return f"#/{name}" if kind == "schemas" else f"common.yaml#/{kind}/{name}"

    def from_common(kind: str, name: str) -> str:
        return f"schemas.yaml#/{name}" if kind == "schemas" else f"#/{kind}/{name}"

    def from_paths(kind: str, name: str) -> str:
        return f"../schemas.yaml#/{name}" if kind == "schemas" else f"../openapi.yaml#/components/{kind}/{name}"

    (out / "paths").mkdir(parents=True, exist_ok=True)
    files = {
        "schemas.yaml": _rewrite(schemas, from_schemas),
        "common.yaml": _rewrite(common, from_common),
        "paths/experiments.yaml": _rewrite(document["paths"], from_paths),
    }
    document["paths"] = {path: {"$ref": f"paths/experiments.yaml#/{_escape(path)}"} for path in document["paths"]}
    document["components"] = {
        "schemas": {name: {"$ref": f"schemas.yaml#/{name}"} for name in schemas},
        **{kind: {name: {"$ref": f"common.yaml#/{kind}/{name}"} for name in entries}
           for kind, entries in common.items()},
        **components,
    }
    files["openapi.yaml"] = document
    for name, content in files.items():
        (out / name).write_text(yaml.dump(content, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100),
                                encoding="utf-8")
    return out / "openapi.yaml"


if __name__ == "__main__":
    print(split(ROOT / "openapi.yaml", Path(sys.argv[1])))
