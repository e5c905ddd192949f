"""The contract run's HTML report (`--html`) and its terminal progress display.

The report of a run against a broken deployment is rendered in headless Chromium, its content checked
and a 1280x800 screenshot kept under `reports/`; the page escapes whatever a hostile deployment
answers and never shows a token. The progress display's decision (terminal, CI, --no-progress) and
its rendering are tested on a string console, not its timing.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from broken_deployments import ACME_KEY, GLOBEX_KEY, build
from rich.console import Console
from test_browser import chromium

from contract_tests import progress
from contract_tests.embedded import serve
from contract_tests.findings import ASSUMPTION, VIOLATION, Finding
from contract_tests.report_html import OperationRow, Report, operation_rows, render, schemathesis_dir, write
from contract_tests.run_events import Exercised, Follower, exercised
from contract_tests.spec_facts import assumptions

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports" / "contract-report-test"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def report(**changes: object) -> Report:
    values: dict[str, object] = dict(
        target="https://staging.example.com/api/v2", prefix="ct-0123abcd", seed=7, strict=False, read_only=False,
        finished_at="2026-12-02 07:00:00 UTC", seconds=12.5, requests=321, cap=20000, cap_reached=False,
        cases={"examples": 40, "coverage": 200}, tests_passed=30,
        violations=[Finding(VIOLATION, "schemathesis examples", "not_a_server_error", "Server error",
                            operation="PUT /experiments/{experiment_id}/", expected="no 5xx",
                            got='[500] {"detail": "Internal server error."}',
                            reproduce=f"curl -X PUT -H 'Authorization: Bearer {ACME_KEY}' https://x/experiments/1/")],
        refuted=[Finding(ASSUMPTION, "rule test", "test_null_clears_description", "null keeps it",
                         assumption="null-clears-only-description", expected="null clears description",
                         got="description unchanged", spec="openapi.yaml:900 (#/x)")],
        assumptions={"null-clears-only-description": ("null clears description only", "openapi.yaml:900 (#/x)")},
        operations=[OperationRow("replaceExperiment", "PUT /experiments/{experiment_id}/", "openapi.yaml:319 (#/p)",
                                 {"examples": 4}, 9, Counter({200: 5, 500: 4})),
                    OperationRow("getExperimentSummary", "GET /experiments/summary/")],
        created=[("e1", True), ("e2", False)], leftovers=["e2"],
        schemathesis_reports=[("examples", "contract-schemathesis/examples/index.html")],
        secrets=(ACME_KEY, GLOBEX_KEY))
    values.update(changes)
    return Report(**values)  # type: ignore[arg-type]


# -- the page --------------------------------------------------------------------------------------

def test_the_page_holds_both_lists_the_table_the_ledger_and_the_link():
    page = render(report())
    assert "Contract violations" in page and "Refuted assumptions" in page
    assert "not_a_server_error" in page and "PUT /experiments/{experiment_id}/" in page
    assert "null-clears-only-description" in page and "openapi.yaml:900 (#/x)" in page
    assert "openapi.yaml:319 (#/p)" in page  # a violation's place in the spec is its operation's
    assert re.search(r"replaceExperiment.*?<td class=\"num\">4</td><td class=\"num\">0</td>"
                     r"<td class=\"num\">9</td>.*?200&nbsp;×5.*?500&nbsp;×4", page, re.S)
    assert 'class="untested"' in page  # an operation nothing was sent stands out
    assert "left over 1" in page and "<code>e2</code>" in page
    assert '<a href="contract-schemathesis/examples/index.html">' in page
    # self-contained and readable without JavaScript: no script, no external stylesheet, image or font
    assert "<script" not in page and "<link" not in page and "src=" not in page and "url(" not in page


def test_no_token_reaches_the_page():
    page = render(report(refuted=[Finding(ASSUMPTION, "rule test", "t", f"title {GLOBEX_KEY}", assumption="a",
                                          got=html.escape(f'"{ACME_KEY}"'))]))
    assert ACME_KEY not in page and GLOBEX_KEY not in page
    assert "Bearer ***" in page


def test_a_hostile_deployment_cannot_put_markup_into_the_page():
    hostile = Finding(VIOLATION, "schemathesis fuzzing", HOSTILE, HOSTILE, operation=HOSTILE, expected=HOSTILE,
                      got=f"[500] {HOSTILE}", reproduce=f"curl {HOSTILE}")
    page = render(report(violations=[hostile], target=HOSTILE, prefix=HOSTILE, notes=[HOSTILE],
                         operations=[OperationRow(HOSTILE, HOSTILE, statuses=Counter({500: 1}))],
                         created=[(HOSTILE, False)], leftovers=[HOSTILE],
                         schemathesis_reports=[(HOSTILE, 'x" onmouseover="alert(1)')]))
    assert "<script" not in page and "<img" not in page and 'onmouseover="' not in page
    assert html.escape(HOSTILE) in page


def test_the_file_is_written_whole_in_a_new_folder(tmp_path):
    target = tmp_path / "deep" / "er" / "contract.html"
    write(target, report())
    write(target, report(prefix="ct-second"))
    assert "ct-second" in target.read_text(encoding="utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["contract.html"]  # no partial file left behind
    assert schemathesis_dir(str(target), ("coverage", "examples")) == \
        target.parent / "contract-schemathesis" / "coverage-examples"


def test_operation_rows_put_schemathesis_cases_and_gate_counts_on_each_spec_operation():
    class Result:
        phase = "coverage"
        exercised = {"PUT /experiments/{experiment_id}/": Exercised(3, Counter({400: 3})),
                     "TRACE /experiments/": Exercised(1, Counter({405: 1}))}

    rows = {row.name: row for row in operation_rows(assumptions(), {"replaceExperiment": Counter({400: 3, 200: 2}),
                                                                      "GET (no operation)": Counter({404: 1})},
                                                    [Result()])}
    assert rows["replaceExperiment"].cases == {"coverage": 3} and rows["replaceExperiment"].requests == 5
    assert rows["replaceExperiment"].spec.startswith("openapi.yaml:")
    assert rows["TRACE (no operation)"].cases == {"coverage": 1}  # a method the spec lacks: one row per method
    assert rows["TRACE (no operation)"].label == "/experiments/"
    assert rows["GET (no operation)"].statuses == Counter({404: 1})
    assert rows["getExperimentSummary"].requests == 0  # every operation of the spec has its row


# -- Schemathesis' events --------------------------------------------------------------------------

def _finished(phase: str, label: str, statuses: list[int]) -> dict[str, object]:
    method, path = label.split(" ", 1)
    return {"ScenarioFinished": {"phase": phase, "recorder": {
        "label": label,
        "cases": {str(i): {"value": {"method": method, "path": path}} for i in range(len(statuses))},
        "interactions": {str(i): {"response": {"status_code": s}} for i, s in enumerate(statuses)}}}}


def test_exercised_counts_cases_and_statuses_per_phase_and_operation(tmp_path):
    report_file = tmp_path / "events.ndjson"
    events = [_finished("examples", "GET /experiments/", [200, 200]), _finished("coverage", "GET /experiments/", [400])]
    report_file.write_text("".join(json.dumps(e) + "\n" for e in events) + '{"ScenarioFin')  # a line being written
    found = exercised(report_file)
    assert found["examples"]["GET /experiments/"] == Exercised(2, Counter({200: 2}))
    assert found["coverage"]["GET /experiments/"] == Exercised(1, Counter({400: 1}))


def test_the_follower_hands_on_each_complete_line_once(tmp_path):
    report_file = tmp_path / "events.ndjson"
    seen: list[dict[str, object]] = []
    with Follower(report_file, seen.append), report_file.open("w") as fh:
        fh.write('{"PhaseStarted": {"phase": {"name": "coverage"}}}\n{"Scenario')
        fh.flush()
        threading.Event().wait(0.6)  # let it read the half line (no assertion on timing)
        fh.write('Started": {"phase": "coverage"}}\n')
    assert seen == [{"PhaseStarted": {"phase": {"name": "coverage"}}}, {"ScenarioStarted": {"phase": "coverage"}}]


# -- the progress display --------------------------------------------------------------------------

def test_progress_shows_only_on_a_terminal_outside_ci_unless_turned_off():
    def wanted(isatty=True, environ=None, no_progress=False, contract_only=True):
        return progress.wanted(isatty=isatty, environ=environ or {}, no_progress=no_progress,
                               contract_only=contract_only)

    assert wanted()
    assert not wanted(isatty=False)
    assert not wanted(environ={"CI": "true"})
    assert not wanted(no_progress=True)
    assert not wanted(contract_only=False)
    assert not wanted(environ={"TERM": "dumb"})
    package = str(ROOT / "contract_tests")
    assert progress.contract_only([package]) and progress.contract_only([f"{package}/test_rules_patch.py::test_x"])
    assert not progress.contract_only([str(ROOT / "tests"), package]) and not progress.contract_only([])


def test_progress_renders_the_tests_and_each_lane():
    state = progress.State(headline=lambda: progress.Headline("ct-0123abcd", 456, 1, 0))
    state.total, state.done, state.current = 40, 12, "contract_tests/test_rules_patch.py::test_patch_changes"

    def classify(event):
        return [("coverage", Finding(ASSUMPTION, "schemathesis coverage", "c", "t", assumption="value-bounds"))]

    listen = state.lane("coverage + examples", classify)
    listen({"PhaseStarted": {"phase": {"name": "coverage"}}})
    listen(_finished("coverage", "PATCH /experiments/{experiment_id}/", [200, 400, 400]))
    done = state.lane("fuzzing + stateful")
    done({"EngineFinished": {}})
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=120, color_system=None).print(progress.render(state))
    text = out.getvalue()
    assert "contract run ct-0123abcd" in text and "456 requests" in text
    assert "findings so far: 1 violation, 1 refuted" in text  # the lane's live finding counts until it is done
    assert "tests" in text and "12/40" in text and "test_patch_changes" in text
    line = next(row for row in text.splitlines() if row.strip().startswith("coverage + examples"))
    assert "coverage" in line.split("coverage + examples", 1)[1] and "PATCH /experiments/{experiment_id}/" in line
    assert " 3 " in line and "0 violations, 1 refuted" in line
    assert "done" in next(row for row in text.splitlines() if row.strip().startswith("fuzzing + stateful"))


# -- end to end: a broken deployment, the page in Chromium -----------------------------------------

def test_the_report_of_a_run_against_a_broken_deployment_reads_in_chromium(tmp_path):
    browser = chromium()
    page_file = REPORTS / "contract.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    with serve(build("crashes_on_large_batch")) as origin:
        result = subprocess.run(
            [sys.executable, "-m", "contract_tests", "--base-url", f"{origin}/api/v2", "--token", ACME_KEY,
             "--dataset-id", "ds_7a6b5c4d", "--evaluator-id", "helpfulness", "--evaluator-workflow-id", "ewv_3c2b1a09",
             "--max-examples", "8", "--seed", "7", "--html", str(page_file.relative_to(ROOT)),
             "-k", "schema_conformance and examples"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert f"HTML report: {page_file.relative_to(ROOT)}" in output
    assert "findings so far" not in output  # stdout is not a terminal: no progress display
    written = [page_file, *page_file.parent.glob("contract-schemathesis/*/index.html")]
    assert len(written) == 2, written  # ours and Schemathesis' own (one process: the examples phase)
    for path in written:
        assert ACME_KEY not in path.read_text(encoding="utf-8"), f"the token leaked into {path}"

    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,800"]
    screenshot = REPORTS / "contract-report.png"
    screenshot.unlink(missing_ok=True)
    dom = subprocess.run([*flags, "--dump-dom", f"--screenshot={screenshot}", page_file.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000

    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    assert "Contract violations" in text and "Refuted assumptions" in text
    assert re.search(r"not_a_server_error\s+on\s+(PUT|PATCH|POST) /experiments/", text), text[:3000]
    assert "a server error is never part of the contract" in text
    assert re.search(r"curl -X (PUT|PATCH|POST) -H 'Authorization: Bearer \*\*\*'", text)
    assert re.search(r"openapi\.yaml:\d+ \(#/paths/~1experiments~1", text)
    for operation in ("createExperiment", "replaceExperiment", "updateExperiment", "getExperimentSummary"):
        assert re.search(rf"<td><code>{operation}</code>", dom), operation
    assert re.search(r"500\s+×\d", text)  # the statuses seen, the crash among them
    assert "Nothing left over." in text
    link = re.search(r'<a href="(contract-schemathesis/examples/index\.html)">', dom)
    assert link and (page_file.parent / link.group(1)).is_file()


def test_the_page_shows_the_fields_that_differ_and_what_was_not_tested() -> None:
    differing = Finding(VIOLATION, "rule test", "test_patch_changes_exactly_the_fields_sent", "PATCH changed more",
                        expected="the documented fields shown keep the expected values", got="from: [200] {…}",
                        diff=(("batch_size", "37", "100"), ("workflow[0].config.model", '"m"', HOSTILE)))
    page = render(report(violations=[differing], skipped=[("test_a_valid_dashboard_jwt_is_accepted",
                                                            "a valid dashboard JWT needs --jwt-secret")],
                         deselected=3, untracked=1))
    assert "<td><code>batch_size</code></td><td><code>37</code></td><td><code>100</code></td>" in page
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert "a valid dashboard JWT needs --jwt-secret" in page and "<code>test_a_valid_dashboard_jwt_is_accepted" in page
    assert "Not run in a --read-only run: 3 test(s) that write." in page
    assert "Created 3 experiment(s)" in page  # two in the ledger and one create answered without an id
