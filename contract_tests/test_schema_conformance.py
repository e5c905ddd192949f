"""Every operation through Schemathesis' phases with all of its checks, plus the suite's own; every
distinct failure becomes a finding (a violation or a refuted assumption)."""

from __future__ import annotations

import pytest

from .config import Target
from .conftest import RUN
from .findings import VIOLATION
from .schemathesis_run import run_phase

PHASES = ["examples", "coverage", "fuzzing", pytest.param("stateful", marks=pytest.mark.mutating)]


@pytest.mark.records_findings
@pytest.mark.parametrize("phase", PHASES)
def test_schema_conformance(phase: str, target: Target) -> None:
    assert RUN.gate is not None and RUN.assumptions is not None and RUN.reproducer is not None
    before = RUN.gate.state.sent
    result = run_phase(target, phase, gate_url=RUN.gate_url, prefix=RUN.prefix, assumptions=RUN.assumptions,
                       reproducer=RUN.reproducer)
    RUN.findings.extend(result.findings)
    sent = RUN.gate.state.sent - before
    if RUN.gate.state.cap_reached:
        pytest.exit(f"request cap reached during Schemathesis' {phase} phase ({RUN.gate.state.sent} requests)",
                    returncode=2)
    assert sent > 0 and result.exit_code in (0, 1), \
        f"Schemathesis' {phase} phase did not run (exit {result.exit_code}, {sent} requests):\n{result.output[-3000:]}"
    failing = [f for f in result.findings if f.kind == VIOLATION or target.strict]
    assert not failing, (f"Schemathesis' {phase} phase found {len(failing)} distinct problem(s) "
                         f"(listed in the summary): " + "; ".join(f"{f.rule} on {f.operation}" for f in failing[:5]))
