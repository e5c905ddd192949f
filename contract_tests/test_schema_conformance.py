"""Every operation through Schemathesis' phases with all of its checks, plus the suite's own; every
distinct failure becomes a finding (a violation or a refuted assumption).

The phases run in two Schemathesis processes at once (coverage and examples, beside fuzzing and
stateful: about equal halves of the work), started when the first of these tests runs, after the
rule tests (whose counts they would otherwise disturb).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from . import progress
from .config import Target
from .findings import VIOLATION, findings_of_event
from .report_html import schemathesis_dir
from .schemathesis_run import PhaseResult, run_phases
from .session import Run

PHASES = ["examples", "coverage", "fuzzing", pytest.param("stateful", marks=pytest.mark.mutating)]
LANES = (("coverage", "examples"), ("fuzzing", "stateful"))  # about equal halves of the work


@pytest.fixture(scope="module")
def phases(request: pytest.FixtureRequest, target: Target, run: Run) -> Iterator[dict[str, Future[PhaseResult]]]:
    wanted = {item.callspec.params["phase"] for item in request.session.items
              if isinstance(item, pytest.Function) and item.module is request.module and hasattr(item, "callspec")}
    assert run.assumptions is not None and run.reproducer is not None
    assumptions, reproducer = run.assumptions, run.reproducer

    futures: dict[str, Future[PhaseResult]] = {name: Future() for lane in LANES for name in lane}

    def lane(names: tuple[str, ...]) -> None:
        selected = tuple(name for name in names if name in wanted)
        for name in names:
            if name not in selected:
                futures[name].cancel()
        if not selected:
            return
        listener = progress.lane(" + ".join(selected),
                                 lambda event: findings_of_event(event, assumptions, reproducer))
        try:
            results = run_phases(target, selected, gate_url=run.gate_url, prefix=run.prefix,
                                 assumptions=assumptions, reproducer=reproducer, on_event=listener,
                                 html_dir=schemathesis_dir(target.html, selected) if target.html else None)
        except Exception as error:  # the tests of these phases report it
            for name in selected:
                futures[name].set_exception(error)
            return
        for name in selected:
            futures[name].set_result(results[name])

    with ThreadPoolExecutor(max_workers=len(LANES)) as pool:
        for names in LANES:
            pool.submit(lane, names)
        yield futures


@pytest.mark.records_findings
@pytest.mark.parametrize("phase", PHASES)
def test_schema_conformance(phase: str, target: Target, run: Run, phases: dict[str, Future[PhaseResult]]) -> None:
    assert run.gate is not None
    result = phases[phase].result()
    if run.gate.state.cap_reached:
        pytest.exit(f"request cap reached during Schemathesis' phases ({run.gate.state.sent} requests)", returncode=2)
    run.findings.extend(result.findings)
    run.schemathesis[phase] = result
    assert result.exit_code in (0, 1) and result.requests > 0, \
        f"Schemathesis' {phase} phase did not run (exit {result.exit_code}):\n{result.output[-3000:]}"
    failing = [f for f in result.findings if f.kind == VIOLATION or target.strict]
    assert not failing, (f"Schemathesis' {phase} phase found {len(failing)} distinct problem(s) "
                         f"(listed in the summary): " + "; ".join(f"{f.rule} on {f.operation}" for f in failing[:5]))
