"""The contract run's shared state: what the conftest's fixtures set up (target, gate, reproducer) and what
its hooks and the phase tests add to (findings, passed tests); tests reach it through the `run` fixture."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .assumptions import Assumptions
from .config import Target
from .findings import FindingLog, Ledger, Reproducer, Skipped
from .gate import Gate


@dataclass
class Run:
    """The session's shared state, for the fixtures, the hooks and the closing summary."""

    target: Target | None = None
    prefix: str = field(default_factory=lambda: f"ct-{uuid.uuid4().hex[:8]}")
    gate: Gate | None = None
    gate_url: str = ""
    reproducer: Reproducer | None = None
    assumptions: Assumptions | None = None
    findings: FindingLog = field(default_factory=FindingLog)
    passed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # tests not run, with the reason
    deselected: int = 0  # tests a --read-only run leaves out (they write)
    leftovers: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    schemathesis: dict[str, Any] = field(default_factory=dict)  # phase -> schemathesis_run.PhaseResult

    def ledger(self) -> Ledger:
        """What the run created and left, counted honestly: an experiment whose create the deployment
        answered without an id the gate could read counts as created and left over (the run cannot find
        it to delete it)."""
        if self.gate is None:
            return Ledger()
        state = self.gate.state
        alive = [c.experiment_id for c in state.created.values() if not c.deleted]
        left = list(dict.fromkeys([*self.leftovers, *alive]))
        untracked = [f"(a create answered {status} without an id)" for status in state.untracked]
        return Ledger(created=len(state.created) + len(untracked),
                      deleted=sum(c.deleted for c in state.created.values()), left_over=tuple(left + untracked))
