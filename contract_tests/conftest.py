"""pytest wiring of the contract suite: options, the target (embedded mock or a deployment) behind the
run's gate, clients, findings (violations and refuted assumptions), clean-up, reports, exit status."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from . import progress, report_html
from .client import ApiClient
from .config import (
    CLI_ENV,
    OPTIONS,
    SECRET_OPTIONS,
    SPEC_ENV,
    Target,
    UsageError,
    resolve,
    warn_secrets_on_command_line,
)
from .embedded import EMBEDDED_BASE_URL, embedded_mock, serve
from .findings import ASSUMPTION, VIOLATION, Finding, Reproducer, RuleBroken, Skipped, render, write_junit
from .gate import Gate
from .session import Run
from .spec_facts import assumptions as spec_assumptions

EXIT_USAGE = 2


RUN = Run()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Experiments API contract suite")
    for name, (env, text) in OPTIONS.items():
        group.addoption(f"--{name.replace('_', '-')}", dest=f"contract_{name}", default=None,
                        help=f"{text} [env {env}]")
    group.addoption("--read-only", action="store_true", dest="contract_read_only", default=False,
                    help="run only what changes nothing on the deployment")
    group.addoption("--strict-assumptions", action="store_true", dest="contract_strict", default=False,
                    help="refuted assumptions fail the run too")
    group.addoption("--no-progress", action="store_true", dest="contract_no_progress", default=False,
                    help="no live progress display (it shows only on a terminal, and never when CI is set)")


@pytest.hookimpl(tryfirst=True)  # the progress display starts before pytest's terminal reporter is made
def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("contract_spec", None)
    if spec:  # before the test modules (and the Schemathesis runs) read the spec
        os.environ[SPEC_ENV] = str(Path(spec).resolve())
    config.addinivalue_line("markers", "mutating: creates, changes or deletes experiments (not run with --read-only)")
    config.addinivalue_line("markers", "assumption(id): the test checks a mock choice (an x-assumption of the spec)")
    config.addinivalue_line("markers", "records_findings: the test records its own findings (Schemathesis phases)")
    progress.start(config, _headline)
    if not os.environ.get(CLI_ENV):  # `python -m contract_tests` warns itself, before it starts pytest
        warn_secrets_on_command_line({name: config.getoption(f"contract_{name}", None) for name in SECRET_OPTIONS})


def _headline() -> progress.Headline:
    sent = RUN.gate.state.sent if RUN.gate is not None else 0
    return progress.Headline(RUN.prefix, sent, len(RUN.findings.violations()), len(RUN.findings.refuted()))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    progress.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    registry = spec_assumptions()
    unknown = sorted({str(m.args[0]) for item in items for m in item.iter_markers("assumption")
                      if str(m.args[0]) not in registry})
    if unknown:
        raise pytest.UsageError(f"assumption marks not in openapi.yaml's x-assumptions: {', '.join(unknown)}")
    if not config.getoption("contract_read_only", False):
        return
    kept = [item for item in items if "mutating" not in item.keywords]
    left_out = [item for item in items if "mutating" in item.keywords]
    RUN.deselected = len(left_out)
    config.hook.pytest_deselected(items=left_out)
    items[:] = kept


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A suite that cannot even be collected says why, whole (the CLI runs pytest with --tb=no)."""
    if report.failed:
        import sys

        print(f"cannot collect {report.nodeid or 'the suite'}:\n{report.longreprtext}", file=sys.stderr)


def _values(config: pytest.Config) -> dict[str, object | None]:
    return {name: config.getoption(f"contract_{name}") for name in OPTIONS}


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    try:
        resolved = resolve(_values(config), read_only=config.getoption("contract_read_only"),
                           strict=config.getoption("contract_strict"))
    except UsageError as exc:
        pytest.exit(f"usage error: {exc}", returncode=EXIT_USAGE)
    RUN.started = time.monotonic()
    with ExitStack() as stack:
        transport = None
        if resolved.embedded:
            resolved, transport = resolved.with_base_url(EMBEDDED_BASE_URL), embedded_mock()
        else:
            _preflight(resolved)
        assumptions = spec_assumptions()
        gate = Gate(resolved.base_url, assumptions.contract, prefix=RUN.prefix, max_requests=resolved.max_requests,
                    read_only=resolved.read_only, rate_limit=resolved.rate_limit, timeout=resolved.timeout,
                    designated=frozenset(filter(None, [resolved.running_experiment_id])), transport=transport)
        origin = stack.enter_context(serve(gate, lifespan="on"))
        RUN.target, RUN.gate, RUN.assumptions = resolved, gate, assumptions
        RUN.gate_url = origin + gate.base_path
        RUN.reproducer = Reproducer(RUN.gate_url, resolved.base_url, resolved.secrets, gate.created)
        try:
            yield resolved
        finally:
            RUN.leftovers = gate.clean_up()


def _preflight(target: Target) -> None:
    """One request before anything else, so a wrong URL or token is one clear line, exit status 2."""
    try:
        response = httpx.get(f"{target.base_url}/experiments/summary/", timeout=target.timeout,
                             headers={"Authorization": f"Bearer {target.token}"})
    except httpx.HTTPError as exc:
        pytest.exit(f"connection error: cannot reach {target.base_url} ({type(exc).__name__})",
                    returncode=EXIT_USAGE)
    if response.status_code in (401, 403):
        pytest.exit(f"usage error: {target.base_url} refused the token ({response.status_code})",
                    returncode=EXIT_USAGE)
    if response.status_code == 404:
        pytest.exit(f"usage error: no Experiments API at {target.base_url} (GET /experiments/summary/ is 404)",
                    returncode=EXIT_USAGE)


@pytest.fixture(scope="session")
def run(target: Target) -> Run:
    """The run's shared state, set up (for the phase tests, which record their own findings)."""
    return RUN


@pytest.fixture(scope="session")
def gate(target: Target) -> Gate:
    assert RUN.gate is not None
    return RUN.gate


@pytest.fixture(scope="session")
def api(target: Target) -> Iterator[ApiClient]:
    client = ApiClient(target, RUN.gate_url, RUN.prefix, target.token, note=note_refuted)
    yield client
    client.close()


@pytest.fixture(scope="session")
def other_api(target: Target) -> Iterator[ApiClient]:
    if not target.other_token:
        pytest.skip("tenant isolation needs --other-token (CONTRACT_OTHER_TOKEN)")
    client = ApiClient(target, RUN.gate_url, RUN.prefix, target.other_token, note=note_refuted)
    yield client
    client.close()


@pytest.fixture
def experiment(api: ApiClient) -> dict[str, Any]:
    """A fresh experiment of this run, on the evaluator scoring path."""
    return api.create()


# -- findings ------------------------------------------------------------------------------------------

def pytest_runtest_setup(item: pytest.Item) -> None:
    if RUN.gate is not None and RUN.gate.state.cap_reached:
        pytest.exit(f"request cap reached: the run sent {RUN.gate.state.sent} requests "
                    f"(--max-requests {RUN.gate.max_requests}, the rest kept for clean-up)", returncode=EXIT_USAGE)


def note_refuted(exc: RuleBroken) -> None:
    """A refuted assumption a rule test met on its way (a create answering 202 instead of 201 …): recorded
    once per rule, with the evidence, while the test goes on to the documented rule it is about."""
    if RUN.reproducer is None or exc.assumption is None:
        raise exc
    RUN.findings.add(Finding(ASSUMPTION, "rule test", exc.rule, exc.rule, assumption=exc.assumption,
                             expected=exc.expected, got=RUN.reproducer.mask(exc.got), diff=exc.diff,
                             reproduce=RUN.reproducer.curl_of(exc.request) if exc.request else "",
                             spec=RUN.assumptions.where(exc.assumption) if RUN.assumptions else ""))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.skipped and RUN.target is not None:
        RUN.skipped.append(Skipped(item.nodeid.split("::", 1)[-1], _skip_reason(report)))
    if RUN.target is None or call.when != "call" or item.get_closest_marker("records_findings"):
        if report.passed and call.when == "call":
            RUN.passed.append(item.nodeid.split("::", 1)[-1])
        return report
    if report.passed:
        RUN.passed.append(item.nodeid.split("::", 1)[-1])
    elif report.failed and call.excinfo is not None:
        finding = _finding_of(item, call.excinfo.value)
        if finding is not None:
            RUN.findings.add(finding)
            if finding.kind == ASSUMPTION and not RUN.target.strict:  # a finding, not a test left out
                report.outcome = "skipped"
                report.longrepr = (str(item.path), item.location[1] or 0,
                                   f"refuted assumption {finding.assumption} (see the summary)")
    return report


def _finding_of(item: pytest.Item, exc: BaseException) -> Finding | None:
    assert RUN.reproducer is not None
    test = item.nodeid.split("::", 1)[-1]
    marked = item.get_closest_marker("assumption")
    if isinstance(exc, RuleBroken):
        assumption = exc.assumption or (str(marked.args[0]) if marked and not exc.server_fault else None)
        reproduce = RUN.reproducer.curl_of(exc.request) if exc.request else ""
        return Finding(ASSUMPTION if assumption else VIOLATION, "rule test", test, exc.rule, assumption=assumption,
                       expected=exc.expected, got=RUN.reproducer.mask(exc.got), reproduce=reproduce, diff=exc.diff,
                       spec=RUN.assumptions.where(assumption) if assumption and RUN.assumptions else "")
    if isinstance(exc, httpx.HTTPError):
        return Finding(VIOLATION, "rule test", test, f"network failure: {type(exc).__name__}",
                       got=RUN.reproducer.mask(str(exc)))
    message = RUN.reproducer.mask(str(exc))
    return Finding(VIOLATION, "rule test", test, message.splitlines()[0] if message else type(exc).__name__,
                   got="\n".join(message.splitlines()[1:]))


def _gate_findings() -> list[Finding]:
    if RUN.gate is None or RUN.reproducer is None:
        return []
    return [Finding(VIOLATION, "gate", "network failure", failure.error.splitlines()[0][:200],
                    operation=f"{failure.method} {RUN.reproducer.url(failure.url)}")
            for failure in RUN.gate.state.network_failures]


@pytest.hookimpl(trylast=True)  # after the session fixtures' teardown, which cleans up
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    progress.stop()
    if RUN.target is None:
        return
    RUN.findings.extend(_gate_findings())
    if RUN.target.junit:
        write_junit(Path(RUN.target.junit), RUN.findings, RUN.passed, strict=RUN.target.strict,
                    skipped=RUN.skipped, ledger=RUN.ledger())
    if RUN.target.html and RUN.gate is not None and RUN.assumptions is not None:
        path = Path(RUN.target.html)
        report_html.write(path, report_html.from_run(RUN, path))
    if RUN.gate is not None and RUN.gate.state.cap_reached:
        session.exitstatus = EXIT_USAGE
    elif RUN.findings.violations() or (RUN.target.strict and RUN.findings.refuted()):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if RUN.target is None or RUN.gate is None or RUN.assumptions is None:
        return
    write = terminalreporter.write_line
    lines = render(RUN.findings, RUN.assumptions, strict=RUN.target.strict)
    if lines:
        terminalreporter.section("contract findings", red=bool(RUN.findings.violations()))
        for line in lines:
            write(line)
    terminalreporter.section("contract run")
    state = RUN.gate.state
    where = "embedded mock" if RUN.target.embedded else RUN.target.base_url
    write(f"target: {where}; run prefix: {RUN.prefix}; seed: {RUN.target.seed if RUN.target.seed is not None else '-'}")
    write(f"violations: {len(RUN.findings.violations())}; refuted assumptions: {len(RUN.findings.refuted())}")
    books = RUN.ledger()
    write(f"requests: {state.sent} (cap {RUN.gate.max_requests}); created: {books.created}, "
          f"deleted: {books.deleted}, left over: {len(books.left_over)}; time: {time.monotonic() - RUN.started:.1f} s")
    if state.cap_reached:
        write(f"stopped: the request cap ({RUN.gate.max_requests}) was reached")
    for refusal in state.refusals[:10]:
        write(f"gate refused {refusal.method} {refusal.path}: {refusal.reason}")
    for anomaly in state.anomalies[:10]:
        write(f"note: {anomaly}")
    if RUN.target.html:
        write(f"HTML report: {RUN.target.html}")
    if books.left_over:
        write(f"left on the deployment: {len(books.left_over)} experiment(s) created by this run: "
              f"{', '.join(books.left_over[:20])}{' …' if len(books.left_over) > 20 else ''}")
    for line in skipped_lines(RUN.skipped, RUN.deselected):
        write(line)


def skipped_lines(skipped: list[Skipped], deselected: int) -> list[str]:
    """What the run did not test, and why: one line per reason, naming its tests."""
    by_reason: dict[str, list[str]] = {}
    for test in skipped:
        by_reason.setdefault(test.reason, []).append(test.test)
    lines = [f"not tested ({len(skipped)} skipped):"] if skipped else []
    for reason, tests in by_reason.items():
        names = ", ".join(tests[:4]) + (f" and {len(tests) - 4} more" if len(tests) > 4 else "")
        lines.append(f"  skipped {len(tests)}: {reason} [{names}]")
    if deselected:
        lines.append(f"not run: {deselected} test(s) that write (--read-only)")
    return lines


__all__ = ["RUN", "VIOLATION", "note_refuted", "skipped_lines"]
