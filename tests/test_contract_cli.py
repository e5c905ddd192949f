"""The contract suite's command line: exit statuses, read-only runs, JUnit, no token in output."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

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


class Counting:
    """An ASGI layer that records the method and path of every request that reaches the deployment."""

    def __init__(self, app) -> None:
        self.app = app
        self.received: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.received.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def writes(self) -> list[tuple[str, str]]:
        reads = ("/api/v2/experiments/list/", "/api/v2/experiments/summary/")
        return [(m, p) for m, p in self.received if m not in ("GET", "HEAD", "OPTIONS") and p not in reads]


ENV_OPTIONS = {"CONTRACT_TOKEN": ACME_KEY, "CONTRACT_DATASET_ID": "ds_7a6b5c4d", "CONTRACT_EVALUATOR_ID": "helpfulness",
               "CONTRACT_EVALUATOR_WORKFLOW_ID": "ewv_3c2b1a09"}


def test_a_failing_run_reports_each_finding_and_a_later_read_only_run_sends_no_write(tmp_path):
    junit = tmp_path / "report.xml"
    with serve(build("crashes_on_large_batch")) as origin:
        failing = suite("-k", "schema_conformance and examples", "--max-examples", "5", env={
            **ENV_OPTIONS, "CONTRACT_BASE_URL": f"{origin}/api/v2", "CONTRACT_JUNIT": str(junit)})
    assert failing.returncode == 1, failing.stdout[-3000:]
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert any("not_a_server_error" in c.get("name", "") for c in failures), [c.get("name") for c in cases]
    assert len({c.get("name") for c in failures}) == len(failures) >= 2  # one test case per distinct finding
    assert ACME_KEY not in junit.read_text() and ACME_KEY not in failing.stdout

    counting = Counting(build(None))
    with serve(counting) as origin:
        read_only = suite("--read-only", "--max-examples", "5", env={**ENV_OPTIONS,
                                                                      "CONTRACT_BASE_URL": f"{origin}/api/v2"})
    assert read_only.returncode == 0, read_only.stdout[-3000:]
    assert "deselected" in read_only.stdout  # the tests that write were left out
    assert len(counting.received) > 100 and counting.writes() == []
    assert not (ROOT / ".schemathesis").exists()  # no crash cache (nor its replays) in the checkout


def test_the_request_cap_counts_every_request_and_stops_the_run_with_exit_2():
    counting = Counting(build(None))
    with serve(counting) as origin:
        result = suite("--max-requests", "150", "--max-examples", "5", env={
            **ENV_OPTIONS, "CONTRACT_BASE_URL": f"{origin}/api/v2"})
    assert result.returncode == 2, result.stdout[-3000:]
    assert "request cap reached" in result.stdout + result.stderr
    assert len(counting.received) <= 150 + 1  # + the preflight request, sent before the run starts
    created = {p for m, p in counting.received if m == "POST" and p == "/api/v2/experiments/"}
    assert not created or "could not delete" not in result.stdout  # what it created fit under the cap to delete


def test_the_documented_schemathesis_command_passes_against_the_mock(tmp_path):
    """README's by-hand `st run` (hooks and the token from schemathesis.toml) finds nothing."""
    with serve(build(None)) as origin:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
        result = subprocess.run(
            [str(Path(sys.executable).with_name("st")), "--config-file", str(ROOT / "schemathesis.toml"), "run",
             str(ROOT / "openapi.yaml"), "--url", f"{origin}/api/v2", "--max-examples", "5", "--seed", "3",
             "--phases", "examples"],
            cwd=tmp_path, env={**clean, "CONTRACT_TOKEN": ACME_KEY, "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "No issues found" in result.stdout


def test_leftovers_and_skipped_tests_are_counted_in_every_report(tmp_path):
    """A deployment that will not delete: the closing line, the JUnit file (read by a parser) and the HTML
    report say what was left on it; the test the run could not do is listed with its reason in all three."""
    from broken_deployments import Exchange, Faulty

    def refuse_deletes(ex: Exchange) -> None:
        if ex.method == "DELETE":
            ex.answered, ex.status = True, 403
            ex.response_headers = {"content-type": "application/json"}
            ex.response = {"detail": "You do not have permission to perform this action."}

    junit, html = tmp_path / "contract.xml", tmp_path / "contract.html"
    with serve(Faulty(build(None), before=refuse_deletes)) as origin:
        result = suite("-k", "client_chosen_id or valid_dashboard_jwt", "--junit", str(junit), "--html", str(html),
                       env={**ENV_OPTIONS, "CONTRACT_BASE_URL": f"{origin}/api/v2"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "created: 1, deleted: 0, left over: 1" in result.stdout
    assert "left on the deployment: 1 experiment(s) created by this run: ct-" in result.stdout
    assert "skipped 1: a valid dashboard JWT needs --jwt-secret" in result.stdout

    suite_element = ET.parse(junit).getroot().find("testsuite")
    assert suite_element is not None
    cases = {c.get("name"): c for c in suite_element.iter("testcase")}
    skipped = cases["test_a_valid_dashboard_jwt_is_accepted"].find("skipped")
    assert skipped is not None and "needs --jwt-secret" in skipped.get("message", "")
    cleanup = cases["clean-up: created 1, deleted 0, left over 1"].find("failure")
    assert cleanup is not None and (cleanup.text or "").startswith("ct-")

    page = html.read_text()
    assert "Could not delete 1" in page and "a valid dashboard JWT needs --jwt-secret" in page
    assert '<b>1</b><span>left over</span>' in page
