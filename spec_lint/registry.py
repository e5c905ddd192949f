"""The registry of rules, and `lint()`: read a spec, check that it is OpenAPI 3.0, run the rules on it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from mock_server.bundle import BundleError, bundle
from mock_server.spec import walk

from .assumption_marks import ASSUMPTION_MARKS
from .inputs import BOUNDED_INPUT, REQUEST_BODY
from .mock_loads import CONNEXION_LOADS
from .model import Finding, LintedSpec, Rule
from .responses import CREATE_LINKS, ERROR_RESPONSES
from .schemas import DUPLICATE_SCHEMA

# Only what no general linter checks. Structure, references, examples, operation metadata, security
# on every operation and unused components are Spectral's and Redocly's (docs/api-owner.md, "Spec lint").
RULES: tuple[Rule, ...] = (CONNEXION_LOADS, ERROR_RESPONSES, REQUEST_BODY, BOUNDED_INPUT, CREATE_LINKS,
                           DUPLICATE_SCHEMA, ASSUMPTION_MARKS)
RULES_BY_ID = {rule.id: rule for rule in RULES}


class Unreadable(Exception):
    """The file cannot be read, is not YAML, or is not an OpenAPI 3.0 document the rules can run on."""


def read(path: Path) -> LintedSpec:
    """The spec at `path`, bundled into one document when it is split across files (mock_server/bundle.py)."""
    try:
        sources = bundle(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise Unreadable(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except BundleError as exc:
        raise Unreadable(str(exc)) from None
    spec = LintedSpec(path, sources.document, sources)
    _require_valid(spec)
    return spec


def _require_valid(spec: LintedSpec) -> None:
    """The rules read a valid document whose `$ref`s resolve; openapi-spec-validator says whether it
    is valid. Its first problem is enough here: Spectral and Redocly (`make lint`) list them all."""
    from openapi_spec_validator import OpenAPIV30SpecValidator
    from referencing.exceptions import Unresolvable

    hint = "(Spectral and Redocly, run by `make lint`, list every problem)"
    for pointer, node in walk(spec.data):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if ref is not None and (not isinstance(ref, str) or spec.locate(node, pointer)[0] is node):
            file, line, column = spec.where((*pointer, "$ref"))
            raise Unreadable(f"{file}:{line}:{column}: $ref {ref!r} does not resolve to a node of this "
                             f"document {hint}")
    try:
        error = next(iter(OpenAPIV30SpecValidator(spec.data).iter_errors()), None)
    except Unresolvable as exc:  # a reference the walk above cannot see (not expected)
        raise Unreadable(f"{spec.path}:1:1: a reference does not resolve: {exc} {hint}") from None
    if error is not None:
        file, line, column = spec.where(tuple(str(p) for p in error.absolute_path))
        message = error.message.splitlines()[0][:300]
        raise Unreadable(f"{file}:{line}:{column}: not a valid OpenAPI 3.0 document: {message} {hint}")


def lint(path: Path, *, display: str | None = None, rules: Iterable[Rule] = RULES) -> list[Finding]:
    """Every finding of `rules` on the spec at `path`, in file order (the root file first). Raises Unreadable."""
    spec = read(path)
    findings: dict[Finding, None] = {}  # a component reached along two paths is one finding
    for rule in rules:
        for issue in rule.check(spec):
            findings.setdefault(spec.finding(rule, issue, display or str(path)), None)
    return sorted(findings, key=lambda f: (f.path != (display or str(path)), f.path, f.line, f.column, f.rule))
