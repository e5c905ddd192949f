"""JSON in and out of the mock: exact for every valid document, fast for the usual one, bounded for any.

orjson is used to write, with the standard library as fallback for what orjson refuses (integers
beyond 64 bits). Bodies are read with the standard library, which keeps large integers exact
(orjson would turn them into floats) and is refused NaN/Infinity, which JSON lacks. Before a body
is parsed its nesting is measured without recursion (the parser, and jsonschema-rs after it, recurse
once per level); after, text that UTF-8 cannot carry (a lone surrogate escape such as `"\\ud800"`) is
refused naming where it is, as neither the store nor any response could hold it.
"""

from __future__ import annotations

import gc
import json
import math
import re
from itertools import accumulate, chain, zip_longest
from operator import neg
from typing import Any

import orjson

from .limits import MAX_JSON_DEPTH


class JsonBodyError(ValueError):
    """A body that is not a JSON document the mock accepts."""


class UnencodableText(JsonBodyError):
    """A value no JSON answer could carry: a string (or key) holding a lone UTF-16 surrogate, or a number
    too large for a double (`1e400`); `field` is its dotted path (None at the top)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_RUNS = re.compile(rb"\[+|\]+")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_LEAF_PASSES = 4
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonBodyError(f"the body is not UTF-8 (byte {exc.start})") from None
    deep_at = too_deep_at(raw, max_depth)
    if deep_at is not None:
        line = raw.count(b"\n", 0, deep_at) + 1
        column = deep_at - raw.rfind(b"\n", 0, deep_at)
        raise JsonBodyError(f"arrays and objects nested deeper than {max_depth} levels: "
                            f"line {line} column {column} (byte {deep_at})")
    collecting = gc.isenabled()
    gc.disable()  # parsing makes no cycles; collections over every new list would make it superlinear
    overflowed: list[str] = []

    def parse_float(literal: str) -> float:  # only literals with a fraction or exponent; integers stay exact
        number = float(literal)
        if number in (math.inf, -math.inf):
            overflowed.append(literal)
        return number

    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=parse_float)
    except ValueError as exc:
        raise JsonBodyError(str(exc)) from None
    finally:
        if collecting:
            gc.enable()
    if _SURROGATE_ESCAPE.search(raw):
        _refuse_lone_surrogates(value)
    if overflowed:
        _refuse_non_finite(value)
    return value


def too_deep_at(raw: bytes, max_depth: int) -> int | None:
    """The offset of the first `[` or `{` nested deeper than `max_depth`, or None.

    Linear, and at C speed for any body the parser would accept: strings are dropped, the brackets
    kept; a few passes remove the innermost pairs (most of a wide document); the depth of what is
    left is summed over runs of opening and closing brackets. Only a body found too deep is walked
    token by token, to say where.
    """
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return None
    brackets = _STRING.sub(b"", raw).translate(_AS_SQUARE, _NOT_BRACKETS)
    removed = 0
    while removed < _LEAF_PASSES and brackets:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            break
        brackets, removed = inner, removed + 1
    if not brackets or brackets[0] != ord("["):
        return None  # nothing deep left, or unbalanced: the parser reports it
    runs = [len(run) for run in _RUNS.findall(brackets)]
    steps = chain.from_iterable(zip_longest(runs[0::2], map(neg, runs[1::2]), fillvalue=0))
    if max(accumulate(steps)) + removed <= max_depth:
        return None
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(raw):
        first = token.group()[0]
        if first in b"[{":
            depth += 1
            if depth > max_depth:
                return token.start()
        elif first in b"]}":
            depth -= 1
    return None


def _refuse_lone_surrogates(value: Any) -> None:
    """Raise UnencodableText for the first string or key (in document order) UTF-8 cannot carry."""
    pending: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, str):
            if not _encodable(node):
                raise UnencodableText(".".join(path) or None, _surrogate_message(node, "This text"))
        elif isinstance(node, dict):
            for key in node:
                if not _encodable(key):
                    raise UnencodableText(".".join(path) or None, _surrogate_message(key, "A key of this object"))
            pending.extend(((*path, key), item) for key, item in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend(((*path, str(index)), node[index]) for index in reversed(range(len(node))))


def _refuse_non_finite(value: Any) -> None:
    """Raise UnencodableText for the first number (in document order) that parsed as infinite: JSON has no
    Infinity, so it could be neither stored nor answered (I-JSON, RFC 7493). Integers of any size are exact."""
    pending: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise UnencodableText(".".join(path) or None,
                                  "This number is too large for JSON to carry (more than about 1.8e308); send a "
                                  "finite number, or the value as a string.")
        if isinstance(node, dict):
            pending.extend(((*path, key), item) for key, item in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend(((*path, str(index)), node[index]) for index in reversed(range(len(node))))


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate_message(text: str, what: str) -> str:
    position = next(i for i, char in enumerate(text) if 0xD800 <= ord(char) <= 0xDFFF)
    return (f"{what} holds a lone UTF-16 surrogate (\\u{ord(text[position]):04x} at character {position}), "
            "which UTF-8 cannot carry.")


def dumps(value: Any) -> bytes:
    """`value` as JSON; ValueError for a non-finite number (JSON has none; the mock never writes `Infinity`)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")
