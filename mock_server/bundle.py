"""A contract split across files read as one document, and where each of its nodes is written.

Teams keep large contracts in several files (`$ref: schemas/experiment.yaml#/Experiment`). The mock,
the contract suite and the linter all read the contract through `bundle()`: prance resolves each
reference to another file (relative to the file it is written in, as JSON Reference says), and the
node it names is copied into the one document, so Connexion, Schemathesis and the generators read a
single file. References stay references wherever a name exists for their target:

* a reference inside the root file (`#/components/schemas/Experiment`) is kept as written;
* a component of the root file that is only a reference to another file
  (`components: {schemas: {Experiment: {$ref: schemas.yaml#/Experiment}}}`) gets that file's node as
  its content, and every other reference to the same node, from any file, becomes `#/components/...`;
* a reference from another file into the root file becomes the local reference it names;
* any other node of another file is copied where it is referenced (a node that refers to itself
  that way cannot be copied: give it a name under the root's `components`).

`Bundle.where` answers, for any node of the bundled document, the file, line and column where it is
written, so findings and lint messages point into the file a person edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import ParseResult, unquote

import prance.util.url as prance_url
import yaml

Pointer = tuple[str, ...]  # a node's place in a document: ("paths", "/experiments/", "post")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Key = tuple[str, Pointer]  # (the file's URL without fragment, the node's place in it)


class BundleError(ValueError):
    """A reference to another file that cannot be followed (a missing file or node, or a loop)."""


class LineIndex:
    """The line and column of every node of a YAML text, by pointer (a key's own position for a
    mapping value), for messages that point into the file rather than the loaded data."""

    def __init__(self, text: str) -> None:
        self.positions: dict[Pointer, tuple[int, int]] = {}
        root = yaml.compose(text, Loader=_Loader)
        if root is not None:
            self._index(root, ())

    @classmethod
    def of(cls, path: Path) -> LineIndex:
        return cls(path.read_text(encoding="utf-8"))

    def _index(self, node: yaml.Node, pointer: Pointer) -> None:
        self.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*pointer, str(key.value))
                self._index(value, child)
                self.positions[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                self._index(value, (*pointer, str(index)))

    def where(self, pointer: Pointer) -> tuple[int, int]:
        """(line, column), 1-based, of the node at `pointer` or of its nearest ancestor in the file."""
        for cut in range(len(pointer), -1, -1):
            if pointer[:cut] in self.positions:
                return self.positions[pointer[:cut]]
        return (1, 1)


@dataclass
class Bundle:
    """The contract as one document, the files it was read from (the root first), and for each node
    copied from another file, the file and the place it came from."""

    document: dict[str, Any]
    root: Path
    files: dict[str, Path] = field(default_factory=dict)  # URL -> file, the root first
    origins: dict[Pointer, tuple[str, Pointer]] = field(default_factory=dict)  # bundled place -> (URL, place)
    texts: dict[str, str] = field(default_factory=dict)
    _lines: dict[str, LineIndex] = field(default_factory=dict)

    @property
    def split(self) -> bool:
        """Whether the contract is written in more than one file."""
        return len(self.files) > 1

    def source(self, pointer: Pointer) -> tuple[Path, Pointer]:
        """The file a node of the bundled document is written in, and its place in that file."""
        for cut in range(len(pointer), -1, -1):
            origin = self.origins.get(pointer[:cut])
            if origin is not None:
                url, place = origin
                return self.files[url], (*place, *pointer[cut:])
        return self.root, pointer

    def name(self, path: Path) -> str:
        """How to name a file of the contract in a message: as the root was given, the others relative to it."""
        if path == self.root:
            return str(self.root)
        try:
            return str(self.root.parent / path.relative_to(self.root.resolve().parent))
        except ValueError:
            return str(path)

    def where(self, pointer: Pointer) -> tuple[Path, int, int]:
        """The file, line and column (1-based) where the node at `pointer` is written."""
        path, place = self.source(pointer)
        url = next(url for url, file in self.files.items() if file == path)
        if url not in self._lines:
            self._lines[url] = LineIndex(self.texts[url])
        line, column = self._lines[url].where(place)
        return path, line, column


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def bundle(path: Path) -> Bundle:
    """The contract at `path` as one document (see the module's docstring). Raises OSError when the
    root file cannot be read, yaml.YAMLError when a file is not YAML, BundleError for a reference to
    another file that cannot be followed."""
    root = path.resolve()
    text = root.read_text(encoding="utf-8")
    document = load_yaml(text)
    root_url = prance_url.absurl(str(root))
    root_key = prance_url.urlresource(root_url)
    if not isinstance(document, dict):
        raise BundleError(f"{path}:1:1: not an OpenAPI document (the top level is not a mapping)")
    result = Bundle(document, path, {root_key: path}, texts={root_key: text})
    if not _has_external_refs(document):
        return result  # the common case: one file, taken as it is
    _Bundler(result, root_url, document).run()
    return result


def _has_external_refs(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_external_refs(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_external_refs(item) for item in node)
    return False


class _Bundler:
    def __init__(self, result: Bundle, root_url: ParseResult, document: dict[str, Any]) -> None:
        self.result = result
        self.root_url = root_url
        self.root_key = prance_url.urlresource(root_url)
        self.documents: dict[str, Any] = {self.root_key: document}
        # Nodes of other files that a root component names: their reference becomes that component's.
        self.homes: dict[_Key, Pointer] = {}
        for kind, entries in (document.get("components") or {}).items():
            for name, entry in (entries or {}).items() if isinstance(entries, dict) else ():
                if isinstance(entry, dict) and isinstance(entry.get("$ref"), str) and not entry["$ref"].startswith("#"):
                    url, place = self._split(root_url, entry["$ref"])
                    self.homes.setdefault((prance_url.urlresource(url), place), ("components", kind, name))

    def run(self) -> None:
        self.result.document = self._resolve(self.documents[self.root_key], self.root_url, (), ())

    def _split(self, base: ParseResult, ref: str) -> tuple[ParseResult, Pointer]:
        url, place = prance_url.split_url_reference(base, ref)
        return url, tuple(place)

    def _load(self, url: ParseResult, ref: str, base: ParseResult) -> Any:
        key = prance_url.urlresource(url)
        if key not in self.documents:
            try:
                text = prance_url.fetch_url_text(url, {}, "utf-8")[0]  # {}: a fresh cache (--watch)
            except Exception as exc:  # prance raises ResolutionError, OSError or requests' errors by scheme
                raise BundleError(f"{self._name(base)}: $ref {ref!r}: cannot read {self._name(url)}: {exc}") from None
            try:
                self.documents[key] = load_yaml(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"{self._name(url)}:{mark.line + 1}:{mark.column + 1}" if mark else self._name(url)
                raise BundleError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
            self.result.texts[key] = text
            self.result.files[key] = _local_path(url)
        return self.documents[key]

    def _name(self, url: ParseResult) -> str:
        return str(_local_path(url))

    def _resolve(self, node: Any, base: ParseResult, here: Pointer, stack: tuple[_Key, ...]) -> Any:
        if isinstance(node, list):
            return [self._resolve(item, base, (*here, str(i)), stack) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return {key: self._resolve(value, base, (*here, str(key)), stack) for key, value in node.items()}
        in_root = prance_url.urlresource(base) == self.root_key
        if in_root and ref.startswith("#"):
            return dict(node)
        url, place = self._split(base, ref)
        key = (prance_url.urlresource(url), place)
        if key[0] == self.root_key:  # a reference back into the root file
            return {**node, "$ref": _to_ref(place)}
        home = self.homes.get(key)
        if home is not None and home != here:
            return {**node, "$ref": _to_ref(home)}
        if key in stack:
            raise BundleError(f"{self._name(base)}: $ref {ref!r} refers to a node that contains it; name that node "
                              f"under the root file's components and refer to it from there")
        target: Any = self._load(url, ref, base)
        for part in place:
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise BundleError(f"{self._name(base)}: $ref {ref!r}: {self._name(url)} has no node at "
                                  f"{_to_ref(place)}")
        self.result.origins[here] = (key[0], place)
        return self._resolve(target, url, here, (*stack, key))


def _local_path(url: ParseResult) -> Path:
    return Path(unquote(url.path)) if url.scheme in ("", "file") else Path(url.geturl())


def _to_ref(pointer: Pointer) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in pointer)
