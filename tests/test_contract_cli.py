"""The contract suite's command line: exit statuses, read-only runs, JUnit, no token in output."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
from broken_deployments import ACME_KEY, build

from contract_tests.embedded import free_port, serve

ROOT = Path(__file__).resolve().parent.parent
IDS = ["--dataset-id", "ds_7a6b5c4d", "--evaluator-id", "helpfulness", "--evaluator-workflow-id", "ewv_3c2b1a09"]


def suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    return subprocess.run([sys.executable, "-m", "contract_tests", *args], cwd=ROOT, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=600)


def test_unreachable_deployment_is_exit_2_in_one_line():
    result = suite("--base-url", f"http://127.0.0.1:{free_port()}/api/v2", "--token", "sk_secret_value", *IDS)
    assert result.returncode == 2
    assert "connection error: cannot reach" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr and "sk_secret_value" not in result.stdout


def test_missing_options_for_a_deployment_is_exit_2():
    result = suite("--base-url", "http://127.0.0.1:9/api/v2")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("usage error: testing a deployment needs --token")
    assert len(result.stderr.strip().splitlines()) == 1


def test_refused_token_is_exit_2():
    with serve(build(None)) as origin:
        result = suite("--base-url", f"{origin}/api/v2", "--token", "sk_live_wrong", *IDS)
    assert result.returncode == 2 and "refused the token (401)" in result.stdout


def test_options_come_from_the_environment_and_read_only_changes_nothing(tmp_path):
    junit = tmp_path / "report.xml"
    with serve(build(None)) as origin:
        before = httpx.get(f"{origin}/api/v2/experiments/summary/", headers={"Authorization": f"Bearer {ACME_KEY}"})
        result = suite("--read-only", "--max-examples", "5", env={
            "CONTRACT_BASE_URL": f"{origin}/api/v2", "CONTRACT_TOKEN": ACME_KEY, "CONTRACT_DATASET_ID": "ds_7a6b5c4d",
            "CONTRACT_EVALUATOR_ID": "helpfulness", "CONTRACT_EVALUATOR_WORKFLOW_ID": "ewv_3c2b1a09",
            "CONTRACT_JUNIT": str(junit)})
        after = httpx.get(f"{origin}/api/v2/experiments/summary/", headers={"Authorization": f"Bearer {ACME_KEY}"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "deselected" in result.stdout  # the tests that write were left out
    assert before.json() == after.json()
    suite_xml = ET.parse(junit).getroot()
    cases = suite_xml.iter("testcase")
    names = {case.get("name") for case in cases}
    assert "test_unknown_experiment_is_404" in names and not any("patch" in n for n in names)
    assert ACME_KEY not in junit.read_text() and ACME_KEY not in result.stdout


def test_the_documented_schemathesis_command_passes_against_the_mock():
    """README's by-hand `st run` (hooks from schemathesis.toml, token only in -H) finds nothing."""
    with serve(build(None)) as origin:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
        result = subprocess.run(
            [str(Path(sys.executable).with_name("st")), "run", "openapi.yaml", "--url", f"{origin}/api/v2",
             "-H", f"Authorization: Bearer {ACME_KEY}", "--max-examples", "5", "--seed", "3",
             "--phases", "examples,coverage"],
            cwd=ROOT, env=clean, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "No issues found" in result.stdout
