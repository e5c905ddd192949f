"""Schemathesis' NDJSON events while and after they are written: a follower that hands each event to a
listener as soon as its line is complete (the progress display), and what each phase exercised per
operation, cases and statuses seen (the HTML report)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Event = dict[str, Any]
POLL_SECONDS = 0.25


@dataclass
class Exercised:
    """What one phase sent one operation: test cases and the statuses they got (0 = no response)."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


def read_events(path: Path) -> Iterator[Event]:
    """Every complete event of a report (a last line still being written is left out)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.endswith("\n"):
                yield json.loads(line)


def label_of(case: dict[str, Any]) -> str:
    """`METHOD /path/template` of a recorded case, as Schemathesis labels operations."""
    return f"{str(case.get('method', '?')).upper()} {case.get('path', '?')}"


def exercised_in(event: Event) -> Iterator[tuple[str, str, int]]:
    """(phase, operation label, status) of each test case a ScenarioFinished event recorded."""
    finished = event.get("ScenarioFinished")
    if not isinstance(finished, dict):
        return
    phase = str(finished.get("phase"))
    recorder = finished.get("recorder") or {}
    cases = recorder.get("cases") or {}
    for case_id, interaction in (recorder.get("interactions") or {}).items():
        case = (cases.get(case_id) or {}).get("value") or {}
        response = (interaction or {}).get("response") or {}
        yield phase, label_of(case), int(response.get("status_code") or 0)


def exercised(path: Path) -> dict[str, dict[str, Exercised]]:
    """phase -> operation label -> what that phase sent it, for one Schemathesis NDJSON report."""
    found: dict[str, dict[str, Exercised]] = {}
    for event in read_events(path):
        for phase, label, status in exercised_in(event):
            entry = found.setdefault(phase, {}).setdefault(label, Exercised())
            entry.cases += 1
            entry.statuses[status] += 1
    return found


class Follower:
    """Reads a report as Schemathesis writes it, in a thread, and calls `listener` with each event
    once its line is complete; `stop()` reads what is left and waits for the thread."""

    def __init__(self, path: Path, listener: Callable[[Event], None]) -> None:
        self.path = path
        self.listener = listener
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ndjson-follower", daemon=True)
        self._offset = 0
        self._partial = b""

    def __enter__(self) -> Follower:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self._read()
        self._read()

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()  # empty after a complete line, else a line still being written
        for line in lines:
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            try:
                self.listener(event)
            except Exception:  # a display must never stop the run
                continue
