"""What differs between what a rule expected and what the deployment showed, field by field.

A finding names the fields that differ, with both values, instead of two dumps cut at some length:
`batch_size: expected 37, got 100`, `workflow[0].config.model: expected 'gpt-4o-mini', got (absent)`.
Used by the rule tests (`client.expect_equal`), the custom checks and the reports.
"""

from __future__ import annotations

import json
from typing import Any

ABSENT = "(absent)"
MAX_ENTRIES = 40  # a finding lists at most this many differing paths, then says how many more
MAX_VALUE = 300  # characters of one value as shown in a diff line


def show(value: Any) -> str:
    """One value as a diff line shows it: JSON, cut with a note when very long."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    if len(text) > MAX_VALUE:
        return f"{text[:MAX_VALUE]}… ({len(text)} characters)"
    return text


_MISSING = object()


def differences(expected: Any, got: Any, path: str = "") -> list[tuple[str, str, str]]:
    """(path, expected, got) for every leaf that differs; objects by key, lists by index."""
    out: list[tuple[str, str, str]] = []
    _walk(expected, got, path, out)
    return out


def _walk(expected: Any, got: Any, path: str, out: list[tuple[str, str, str]]) -> None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            _walk(expected.get(key, _MISSING), got.get(key, _MISSING), f"{path}.{key}" if path else str(key), out)
        return
    if isinstance(expected, list) and isinstance(got, list):
        for index in range(max(len(expected), len(got))):
            _walk(expected[index] if index < len(expected) else _MISSING,
                  got[index] if index < len(got) else _MISSING, f"{path}[{index}]", out)
        return
    if expected is _MISSING and got is _MISSING:
        return
    if expected is _MISSING or got is _MISSING or expected != got \
            or isinstance(expected, bool) != isinstance(got, bool):
        out.append((path or "(the value)", ABSENT if expected is _MISSING else show(expected),
                    ABSENT if got is _MISSING else show(got)))


def lines(entries: list[tuple[str, str, str]]) -> list[str]:
    """The diff as text lines, at most MAX_ENTRIES of them."""
    shown = [f"{path}: expected {expected}, got {got}" for path, expected, got in entries[:MAX_ENTRIES]]
    if len(entries) > MAX_ENTRIES:
        shown.append(f"… and {len(entries) - MAX_ENTRIES} more differing field(s)")
    return shown
