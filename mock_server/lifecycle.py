"""The life of an experiment: its statuses, the transitions between them, and the automatic clock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .clock import iso
from .domain_errors import IllegalTransition, InvalidValue

# status -> {action: next status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "pending": {"start": "running", "fail": "failed"},
    "running": {"progress": "running", "complete": "completed", "fail": "failed"},
    "completed": {},
    "failed": {},
}
# While an experiment is in one of these, what changes how it executes is locked (PATCH/PUT 409).
LOCKED_STATUSES = frozenset({"running"})
DEFAULT_ERROR = "The run failed (simulated by the mock)."


def is_locked(status: str) -> bool:
    return status in LOCKED_STATUSES


def apply_action(record: Mapping[str, Any], action: str, *, now: str, progress: float | None = None,
                 error_message: str | None = None) -> dict[str, Any]:
    """The experiment after a lifecycle action, or IllegalTransition naming the allowed ones."""
    status = record["status"]
    if action not in TRANSITIONS[status]:
        raise IllegalTransition(status, action, sorted(TRANSITIONS[status]))
    new = {**record, "status": TRANSITIONS[status][action]}
    if action == "start":
        new.update(started_at=now, progress=progress if progress is not None else 0)
    elif action == "progress":
        if progress is None:
            raise InvalidValue("progress", "This field is required for the 'progress' action.")
        new["progress"] = progress
    elif action == "complete":
        new.update(completed_at=now, progress=100)
    elif action == "fail":
        new.update(completed_at=now, error_message=error_message or DEFAULT_ERROR,
                   started_at=record.get("started_at") or now)
        if progress is not None:
            new["progress"] = progress
    return new


@dataclass(frozen=True)
class AutoLifecycle:
    """`--lifecycle auto`: pending for `pending_seconds`, running for `run_seconds` with progress
    rising to 100, then completed. Evaluated when an experiment is read, from its creation time."""

    run_seconds: float = 20.0
    pending_seconds: float = 2.0

    def state_at(self, created: datetime, now: datetime) -> dict[str, Any]:
        elapsed = (now - created).total_seconds()
        started = created + timedelta(seconds=self.pending_seconds)
        finished = started + timedelta(seconds=self.run_seconds)
        if elapsed < self.pending_seconds:
            return {"status": "pending", "progress": 0, "started_at": None, "completed_at": None}
        if now < finished:
            done = (elapsed - self.pending_seconds) / self.run_seconds if self.run_seconds else 1
            return {"status": "running", "progress": round(min(done, 1) * 100, 1),
                    "started_at": iso(started), "completed_at": None}
        return {"status": "completed", "progress": 100, "started_at": iso(started), "completed_at": iso(finished)}


_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", re.ASCII)


def parse_time(value: str) -> datetime:
    """An RFC 3339 date-time as written: `T` and `Z` in either case, any number of fractional digits
    (microseconds kept), and a leap second (`23:59:60`), taken as the last instant of the second
    before it. ValueError for anything else, including a date-time without an offset."""
    match = _RFC3339.fullmatch(value.upper()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    date, hour_minute, second, fraction, offset = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    if second == "60":
        second, micro = "59", "999999"
    return datetime.fromisoformat(f"{date}T{hour_minute}:{second}.{micro}{'+00:00' if offset == 'Z' else offset}")
