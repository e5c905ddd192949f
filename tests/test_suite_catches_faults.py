"""The contract suite is only as good as the faults it catches: run it against broken deployments."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from broken_deployments import ACME_KEY, FAULTS, GLOBEX_KEY, build

from contract_tests.embedded import serve

ROOT = Path(__file__).resolve().parent.parent
# Which named rule each fault must trip (besides the run failing as a whole).
EXPECTED = {
    "drops_dataset_name": "test_schema_conformance",
    "slugs_win_over_ids": "test_evaluator_ids_win_over_slugs",
    "loses_patches": "test_patch_changes_exactly_the_fields_sent",
    "leaks_across_organizations": "test_another_organization_gets_404",
    "crashes_on_large_batch": "test_schema_conformance",
    "skips_auth": "test_bad_credentials_are_401",
    "delete_does_nothing": "test_deleted_experiment_is_404_everywhere",
    "null_keeps_description": "test_null_clears_description",
}


def run_suite(fault: str | None) -> subprocess.CompletedProcess[str]:
    with serve(build(fault)) as origin:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
        return subprocess.run(
            [sys.executable, "-m", "contract_tests", "--base-url", f"{origin}/api/v2", "--token", ACME_KEY,
             "--other-token", GLOBEX_KEY, "--dataset-id", "ds_7a6b5c4d", "--evaluator-id", "helpfulness",
             "--evaluator-workflow-id", "ewv_3c2b1a09", "--max-examples", "8", "--seed", "7"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runs() -> dict[str | None, subprocess.CompletedProcess[str]]:
    """The suite against the unbroken mock and each broken one, two at a time (the machine has 2 cores)."""
    deployments: list[str | None] = [None, *sorted(FAULTS)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(deployments, pool.map(run_suite, deployments), strict=True))


def test_the_unbroken_mock_passes(runs):
    unbroken = runs[None]
    assert unbroken.returncode == 0, unbroken.stdout[-3000:]
    assert "passed" in unbroken.stdout and ACME_KEY not in unbroken.stdout + unbroken.stderr


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_suite_catches(runs, fault):
    result = runs[fault]
    report = result.stdout
    assert result.returncode == 1, f"the suite passed {fault} (exit {result.returncode}):\n{report[-3000:]}"
    assert "contract violations" in report and f"✗ {EXPECTED[fault]}" in report, report[-3000:]
    assert ACME_KEY not in report + result.stderr and GLOBEX_KEY not in report + result.stderr, "a token leaked"
