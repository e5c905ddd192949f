"""Rule on what the spec says it assumes: the `x-assumptions` registry and the marks naming it (`assumption-marks`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mock_server.spec import walk

from .model import Issue, LintedSpec, Rule

KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def assumption_marks(spec: LintedSpec) -> Iterator[Issue]:
    registry = spec.data.get("x-assumptions")
    if registry is not None and not isinstance(registry, dict):
        yield Issue(("x-assumptions",), "x-assumptions maps assumption ids to sentences")
        registry = {}
    registry = registry or {}
    for key, text in registry.items():
        if not KEBAB.fullmatch(str(key)):
            yield Issue(("x-assumptions", str(key)), f"assumption id {key!r} is not kebab-case")
        if not isinstance(text, str) or not 10 <= len(text) <= 400 or not text.rstrip().endswith((".", ")")):
            yield Issue(("x-assumptions", str(key)),
                        f"assumption {key!r} needs one sentence (10-400 characters) saying what is assumed")
    for pointer, node in walk(spec.data):
        if not isinstance(node, dict):
            continue
        if "x-assumption" in node:
            value = node["x-assumption"]
            ids = [value] if isinstance(value, str) else value if isinstance(value, list) else [None]
            for assumption_id in ids:
                if assumption_id not in registry:
                    yield Issue((*pointer, "x-assumption"),
                                f"x-assumption {assumption_id!r} is not in the x-assumptions registry")
        for extension in ("x-documented", "x-documented-rejection"):
            if extension in node:
                keywords = node[extension]
                absent = [k for k in keywords if k not in node] if isinstance(keywords, list) else [keywords]
                if absent:
                    yield Issue((*pointer, extension),
                                f"{extension} lists keywords this schema does not have: {absent}")


ASSUMPTION_MARKS = Rule(
    "assumption-marks", "error",
    "the root `x-assumptions` registry maps kebab-case ids to one sentence each; every `x-assumption` names "
    "registry ids; every keyword an `x-documented` or `x-documented-rejection` lists is on its schema",
    assumption_marks)
