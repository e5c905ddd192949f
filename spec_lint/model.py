"""What the linter is made of: a rule as data, what a check reports, a finding, and the spec under lint."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from mock_server.bundle import Bundle
from mock_server.spec import HTTP_METHODS, Contract, Pointer, json_pointer

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem a check found: where it is in the document and what it is."""

    pointer: Pointer
    message: str


@dataclass(frozen=True)
class Rule:
    """A rule of the linter: its id (printed with every finding), its severity (only errors fail a
    run), one line saying what it checks (`--list-rules`, docs/api-owner.md) and the check itself."""

    id: str
    severity: Severity
    description: str
    check: Callable[[LintedSpec], Iterable[Issue]]


@dataclass(frozen=True)
class Finding:
    """An issue as printed: file, line and column in the YAML, severity, rule id, message, pointer."""

    path: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    pointer: str

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity} [{self.rule}] {self.message}"

    def github(self) -> str:
        message = self.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{self.severity} file={self.path},line={self.line},col={self.column},title={self.rule}::{message}"


@dataclass(frozen=True)
class Operation:
    """One operation of the spec with its path, method and place in the document."""

    path: str
    method: str
    node: dict[str, Any]
    pointer: Pointer

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


class LintedSpec:
    """The spec under lint: its data read through the mock's `Contract` (so `$ref`s resolve the way
    the mock resolves them), the line of every node, and the file it came from."""

    def __init__(self, path: Path, document: dict[str, Any], sources: Bundle) -> None:
        self.path = path
        self.data = document
        self.contract = Contract(document)
        self.sources = sources  # where each node is written (another file than `path` in a split contract)

    def where(self, pointer: Pointer, display: str | None = None) -> tuple[str, int, int]:
        """The file (as `display` names the root), line and column where the node at `pointer` is written."""
        file, line, column = self.sources.where(pointer)
        name = self.sources.name(file)
        if display is not None and file == self.sources.root:
            name = display
        return name, line, column

    def locate(self, node: Any, pointer: Pointer) -> tuple[Any, Pointer]:
        """`node` with local `$ref`s followed, and where the target is in the document."""
        return self.contract.locate(node, pointer)

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        found = []
        for path, item in (self.data.get("paths") or {}).items():
            if isinstance(item, dict):
                found += [Operation(path, method, item[method], ("paths", path, method))
                          for method in HTTP_METHODS if isinstance(item.get(method), dict)]
        return tuple(found)

    def parameters(self, operation: Operation) -> Iterator[tuple[dict[str, Any], Pointer]]:
        """The operation's parameters, path-level ones first, each resolved and where it is."""
        item_pointer = ("paths", operation.path)
        for owner, base in ((self.data["paths"][operation.path], item_pointer), (operation.node, operation.pointer)):
            for index, param in enumerate(owner.get("parameters") or []):
                resolved, where = self.locate(param, (*base, "parameters", str(index)))
                if isinstance(resolved, dict):
                    yield resolved, where

    def finding(self, rule: Rule, issue: Issue, display: str) -> Finding:
        file, line, column = self.where(issue.pointer, display)
        return Finding(file, line, column, rule.severity, rule.id, issue.message, json_pointer(issue.pointer))
