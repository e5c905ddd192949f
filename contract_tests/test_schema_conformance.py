"""Every operation through Schemathesis' phases with all of its checks, plus the suite's own."""

from __future__ import annotations

import pytest

from .client import Ledger
from .config import Target
from .conftest import RUN
from .schemathesis_run import run_phase

PHASES = ["examples", "coverage", "fuzzing", pytest.param("stateful", marks=pytest.mark.mutating)]


@pytest.mark.parametrize("phase", PHASES)
def test_schema_conformance(phase: str, target: Target, ledger: Ledger) -> None:
    budget = target.max_requests - ledger.requests - RUN.schemathesis_requests
    result = run_phase(target, phase, prefix=ledger.prefix, budget=budget)
    RUN.schemathesis_requests += result.requests
    for experiment_id in result.created:
        ledger.remember(experiment_id, target.token)
    assert result.exit_code == 0, (
        f"Schemathesis' {phase} phase found responses that break the contract "
        f"(exit {result.exit_code}, {result.requests} requests):\n{result.failures}")
    assert result.requests > 0, f"Schemathesis' {phase} phase sent no request:\n{result.output[-2000:]}"
