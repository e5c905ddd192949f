"""The contract suite's verdicts, on deployments it did not write.

* It catches each broken rule and names it: the mock behind a layer that breaks one rule
  (`broken_deployments.py`), and an independent Django REST framework backend with a planted
  fault (`drf_backend/`), also when that backend starts experiments one second after creating them.
* It passes what is right: the unbroken mock (no finding at all), and the DRF backend, which differs
  from the mock's choices in many ways (exit 0, each difference listed as a refuted assumption).
* A broken assumption is a refuted assumption, not a violation (exit 0), unless `--strict`.

Each case runs only the tests its fault concerns (`-k`); the full suite runs against the unbroken
mock and the DRF backend. Cases run two at a time (the machine has 2 cores), only those selected.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from broken_deployments import ACME_KEY, GLOBEX_KEY, build

from contract_tests.embedded import free_port, serve
from mock_server.auth import DEFAULT_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
MOCK_RUNNING_ID = "4f1c2a9be07d4d3f8a61c0d5e2b7f913"
MOCK_ARGS = ["--token", ACME_KEY, "--other-token", GLOBEX_KEY, "--dataset-id", "ds_7a6b5c4d",
             "--evaluator-id", "helpfulness", "--evaluator-workflow-id", "ewv_3c2b1a09",
             "--running-experiment-id", MOCK_RUNNING_ID, "--jwt-secret", DEFAULT_JWT_SECRET, "--jwt-org-id", "org_acme"]
# The DRF backend's seed (tests/drf_backend/seed.py), repeated so this module needs no Django import.
DRF_KEY, DRF_OTHER_KEY = "sk_live_acme_5f2d8c1e9b7a4360", "sk_live_globex_0c4b7e2a91d35f86"
DRF_ARGS = ["--token", DRF_KEY, "--other-token", DRF_OTHER_KEY, "--dataset-id", "ds_7a6b5c4d",
            "--evaluator-id", "answer-relevance", "--evaluator-workflow-id", "wfv_3c9e1d7f2a6b4805",
            "--running-experiment-id", "exp_9f8b7c6d", "--jwt-secret", "drf-backend-jwt-secret-for-tests-0123456789",
            "--jwt-org-id", "org_acme"]
SECRETS = (ACME_KEY, GLOBEX_KEY, DRF_KEY, DRF_OTHER_KEY)


@dataclass(frozen=True)
class Case:
    deployment: str  # "mock" or "drf"
    fault: str | None = None
    keyword: str | None = None  # the tests the fault concerns; None = the whole suite
    exit: int = 1
    shows: tuple[str, ...] = ()  # lines of the report that must be there
    strict: bool = False
    running_after: float | None = None  # DRF: experiments start running this long after creation
    max_examples: int = 8
    extra: tuple[str, ...] = field(default=())


CASES: dict[str, Case] = {
    # The mock with one rule broken: each is a violation named in the report.
    "drops_created_at": Case("mock", "drops_created_at", "schema_conformance and examples",
                               shows=("✗ response_schema_conformance",)),
    "slugs_win_over_ids": Case("mock", "slugs_win_over_ids", "evaluator_ids_win",
                               shows=("✗ test_evaluator_ids_win_over_slugs",)),
    "loses_patches": Case("mock", "loses_patches", "patch_changes_exactly",
                          shows=("✗ test_patch_changes_exactly_the_fields_sent",
                                 # a rule test's finding carries a curl line, its token masked
                                 "curl -X PATCH -H 'authorization: Bearer ***'")),
    "leaks_across_organizations": Case("mock", "leaks_across_organizations", "another_organization_gets_404",
                                       shows=("✗ test_another_organization_gets_404",)),
    "crashes_on_large_batch": Case("mock", "crashes_on_large_batch", "schema_conformance and examples",
                                   shows=("✗ not_a_server_error",)),
    "skips_auth": Case("mock", "skips_auth", "bad_credentials_are_401",
                       shows=("✗ test_bad_credentials_are_401", "reproduce: curl -X GET http")),
    "delete_does_nothing": Case("mock", "delete_does_nothing", "deleted_experiment",
                                shows=("✗ test_deleted_experiment_is_404_everywhere",)),
    "ignores_unknown_references_on_writes": Case(
        "mock", "ignores_unknown_references_on_writes", "unknown_references_in_a_write",
        shows=("✗ test_unknown_references_in_a_write_are_refused_and_change_nothing",)),
    # PATCH is a partial update (documented): the PATCH tests start from non-default values, so a PATCH
    # that puts omitted fields back to their defaults shows, naming the field.
    "patch_resets_omitted": Case("mock", "patch_resets_omitted", "patch_changes_exactly",
                                 shows=("✗ test_patch_changes_exactly_the_fields_sent",
                                        "batch_size: expected 37, got 100")),
    # The case rules of contains/startswith/endswith and the JWT's claims are our choices.
    "contains_ignores_case": Case("mock", "contains_ignores_case", "name_filters", exit=0,
                                  shows=("~ filter-case-sensitivity",
                                         "test_name_filters_through_the_list[contains is case-sensitive]")),
    "rejects_dashboard_jwts": Case("mock", "rejects_dashboard_jwts", "valid_dashboard_jwt", exit=0,
                                   shows=("~ jwt-claims",)),
    # The mock with one of its own choices broken: a refuted assumption, exit 0; exit 1 with --strict.
    "null_keeps_description": Case("mock", "null_keeps_description", "null_clears_description", exit=0,
                                   shows=("~ null-clears-only-description",)),
    "null_keeps_description_strict": Case("mock", "null_keeps_description", "null_clears_description", strict=True,
                                          shows=("~ null-clears-only-description",)),
    "no_running_lock": Case("mock", "no_running_lock", "locked_field", exit=0, shows=("~ running-lock",)),
    "no_body_limit": Case("mock", "no_body_limit", "over_1_mib", exit=0, shows=("~ body-size-limit",)),
    # (The whole suite against the unbroken mock, finding nothing, is `make test`'s own contract run.)
    # An independent DRF backend: legitimately different (exit 0, differences listed) ...
    "drf": Case("drf", exit=0, max_examples=5, shows=(
        "violations: 0;", "~ page-past-end-empty", "~ unknown-fields-rejected", "~ body-size-limit",
        "~ strict-input-validation")),
    # (Schemathesis' phases meet the lock too, in the workflow_duplicate_crashes_running case below.)
    "drf_starts_running": Case("drf", keyword="not schema_conformance", exit=0, running_after=1.0,
                               shows=("violations: 0;",)),
    # ... and with a documented rule broken, caught and named, also when experiments start on their own.
    # (A rule-test fault and a Schemathesis-phase fault also run against a backend that starts experiments
    # on its own, where both meet the running lock.)
    **{f"drf_{fault}{'_running' if after else ''}": Case("drf", fault, keyword, shows=shows, running_after=after)
       for fault, keyword, shows, running in [
           ("slugs_win_over_ids", "evaluator_ids_win", ("✗ test_evaluator_ids_win_over_slugs",), True),
           ("leaks_other_organization", "another_organization_gets_404", ("✗ test_another_organization_gets_404",),
            False),
           ("patch_accepts_unknown_dataset", "unknown_references_in_a_write",
            ("✗ test_unknown_references_in_a_write_are_refused_and_change_nothing",), False),
           ("workflow_duplicate_crashes", "schema_conformance and examples", ("✗ not_a_server_error",), True),
       ] for after in ((None, 1.0) if running else (None,))},
}


@contextmanager
def mock_deployment(fault: str | None) -> Iterator[str]:
    with serve(build(fault)) as origin:
        yield f"{origin}/api/v2"


@contextmanager
def drf_deployment(fault: str | None, running_after: float | None) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "drf_backend", "--port", str(port)]
    if fault:
        command += ["--fault", fault]
    if running_after is not None:
        command += ["--start-running-after", str(running_after)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRF_BACKEND_", "CONTRACT_"))}
    server = subprocess.Popen(command, cwd=ROOT / "tests", env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "ready URL" once it accepts connections
        assert line.startswith("ready "), f"the DRF backend did not start: {line!r}"
        yield line.split()[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def run_case(case: Case) -> subprocess.CompletedProcess[str]:
    deployment = mock_deployment(case.fault) if case.deployment == "mock" else \
        drf_deployment(case.fault, case.running_after)
    args = MOCK_ARGS if case.deployment == "mock" else DRF_ARGS
    with deployment as base_url:
        command = [sys.executable, "-m", "contract_tests", "--base-url", base_url, *args,
                   "--max-examples", str(case.max_examples), "--seed", "7", *case.extra]
        if case.keyword:
            command += ["-k", case.keyword]
        if case.strict:
            command.append("--strict")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
        started = time.monotonic()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        result.stdout += f"\n[case took {time.monotonic() - started:.1f} s]"
        return result


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest) -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    """Runs the cases of the tests selected (`-k`, node ids: the session's items after deselection), two
    at a time; each test waits for its own."""
    wanted = [item.callspec.params["case"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec") and "case" in item.callspec.params]
    # Longest first (whole-suite runs, then Schemathesis phases), so the two lanes finish together.
    order = sorted(dict.fromkeys(wanted), key=lambda name: (CASES[name].keyword is not None,
                                                           "schema_conformance" not in (CASES[name].keyword or "")))
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        yield {name: pool.submit(run_case, CASES[name]) for name in order}
    finally:  # a session cut short (-x, --maxfail, Ctrl-C) starts no run whose test will not run
        pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("case", list(CASES))
def test_verdict(verdicts: dict[str, Future[subprocess.CompletedProcess[str]]], case: str) -> None:
    result = verdicts[case].result()
    report = result.stdout + result.stderr
    expected = CASES[case]
    findings = report[report.find("contract findings"):][:6000]
    assert result.returncode == expected.exit, \
        f"{case}: exit {result.returncode}, expected {expected.exit}\n{findings}\n{report[-3000:]}"
    missing = [line for line in expected.shows if line not in report]
    assert not missing, f"{case}: the report lacks {missing}\n{report[-5000:]}"
    assert not any(secret in report for secret in SECRETS), f"{case}: a token leaked into the output"
    assert "Traceback" not in report, report[-5000:]
