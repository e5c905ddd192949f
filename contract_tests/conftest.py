"""pytest wiring of the contract suite: options, the target (embedded mock or a deployment), clients,
clean-up of what the run created, and the closing summary."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from .client import ApiClient, Ledger
from .config import OPTIONS, Target, UsageError, resolve
from .embedded import embedded_mock


class Run:
    """The session's shared state, for the fixtures and the closing summary."""

    target: Target | None = None
    ledger: Ledger | None = None
    started = time.monotonic()
    leftovers: list[str] = []
    schemathesis_requests = 0
    violations: list[tuple[str, str]] = []  # (test id, what broke)


RUN = Run()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Experiments API contract suite")
    for name, (env, text) in OPTIONS.items():
        group.addoption(f"--{name.replace('_', '-')}", dest=f"contract_{name}", default=None,
                        help=f"{text} [env {env}]")
    group.addoption("--read-only", action="store_true", dest="contract_read_only", default=False,
                    help="run only what changes nothing on the deployment")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mutating: creates, changes or deletes experiments (not run with --read-only)")
    config.addinivalue_line("markers", "needs_other_org: needs --other-token")
    junit = config.getoption("contract_junit", None) or os.environ.get(OPTIONS["junit"][0])
    if junit and not config.option.xmlpath:
        config.option.xmlpath = junit


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("contract_read_only", False):
        return
    kept = [item for item in items if "mutating" not in item.keywords]
    config.hook.pytest_deselected(items=[item for item in items if "mutating" in item.keywords])
    items[:] = kept


def _values(config: pytest.Config) -> dict[str, object | None]:
    return {name: config.getoption(f"contract_{name}") for name in OPTIONS}


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    try:
        resolved = resolve(_values(config), read_only=config.getoption("contract_read_only"))
    except UsageError as exc:
        pytest.exit(f"usage error: {exc}", returncode=2)
    with ExitStack() as stack:
        if resolved.embedded:
            resolved = resolved.with_base_url(stack.enter_context(embedded_mock()))
        _preflight(resolved)
        RUN.target = resolved
        RUN.ledger = Ledger(resolved.max_requests)
        yield resolved
        _clean_up(resolved, RUN.ledger)


def _preflight(target: Target) -> None:
    """One request before anything else, so a wrong URL or token is one clear line, exit status 2."""
    try:
        response = httpx.get(f"{target.base_url}/experiments/summary/", timeout=target.timeout,
                             headers={"Authorization": f"Bearer {target.token}"})
    except httpx.HTTPError as exc:
        pytest.exit(f"connection error: cannot reach {target.base_url} ({type(exc).__name__})", returncode=2)
    if response.status_code in (401, 403):
        pytest.exit(f"usage error: {target.base_url} refused the token ({response.status_code})", returncode=2)
    if response.status_code == 404:
        pytest.exit(f"usage error: no Experiments API at {target.base_url} (GET /experiments/summary/ is 404)",
                    returncode=2)


def _clean_up(target: Target, ledger: Ledger) -> None:
    """Delete every experiment the run created (even after failures); remember what would not go."""
    with httpx.Client(base_url=target.base_url, timeout=target.timeout) as http:
        for experiment_id, token in list(ledger.created.items()):
            try:
                response = http.delete(f"/experiments/{experiment_id}/", headers={"Authorization": f"Bearer {token}"})
                ledger.requests += 1
                if response.status_code in (204, 404):
                    ledger.forget(experiment_id)
            except httpx.HTTPError:
                pass
    RUN.leftovers = sorted(ledger.created)


@pytest.fixture(scope="session")
def ledger(target: Target) -> Ledger:
    assert RUN.ledger is not None
    return RUN.ledger


@pytest.fixture(scope="session")
def api(target: Target, ledger: Ledger) -> Iterator[ApiClient]:
    client = ApiClient(target, ledger, target.token)
    yield client
    client.close()


@pytest.fixture(scope="session")
def other_api(target: Target, ledger: Ledger) -> Iterator[ApiClient]:
    if not target.other_token:
        pytest.skip("tenant isolation needs --other-token (CONTRACT_OTHER_TOKEN)")
    client = ApiClient(target, ledger, target.other_token)
    yield client
    client.close()


@pytest.fixture
def experiment(api: ApiClient) -> dict:
    """A fresh experiment of this run, on the evaluator scoring path."""
    return api.create()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and call.excinfo is not None and RUN.target is not None:
        RUN.violations.append((item.nodeid.split("::", 1)[-1], RUN.target.mask(str(call.excinfo.value))))
    return report


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if RUN.target is None or RUN.ledger is None:
        return
    write = terminalreporter.write_line
    if RUN.violations:
        terminalreporter.section("contract violations", red=True)
        for test_id, text in RUN.violations:
            write(f"✗ {test_id}")
            for line in text.splitlines():
                write(f"    {line}")
            write("")
    terminalreporter.section("contract run")
    where = "embedded mock" if RUN.target.embedded else RUN.target.base_url
    total = RUN.ledger.requests + RUN.schemathesis_requests
    write(f"target: {where}; run prefix: {RUN.ledger.prefix}")
    write(f"requests: {total} ({RUN.schemathesis_requests} by Schemathesis, {RUN.ledger.requests} by rule tests "
          f"and clean-up); time: {time.monotonic() - RUN.started:.1f} s")
    if RUN.leftovers:
        write(f"could not delete {len(RUN.leftovers)} experiment(s) created by this run: {', '.join(RUN.leftovers)}")
