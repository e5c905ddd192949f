"""The validating proxy in front of real deployments: the DRF backend (faithful, and with its planted
faults, named per request in `X-Drf-Fault` so one backend process serves them all) and the mock itself
(unbroken, compressed, and with one rule broken).

The faithful backend's traffic has no violation, its differences listed as refuted assumptions; each
documented fault that one exchange can show is a violation naming its rule, in soft mode (answered as
the upstream answered, findings in the log and the header) and hard mode (a 502 problem body).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from broken_deployments import build as broken_mock
from starlette.middleware.gzip import GZipMiddleware

from contract_tests import har
from contract_tests.assumptions import Assumptions
from contract_tests.embedded import free_port, serve
from mock_server.app import build_app
from mock_server.proxy import SUMMARY_HEADER, ProxyOptions, forwarder

ROOT = Path(__file__).resolve().parent.parent
DRF_KEY = "sk_live_acme_5f2d8c1e9b7a4360"  # tests/drf_backend/seed.py
MOCK_KEY = "sk_live_acme_dev_4f7d2c9a1b8e"
DRF_RUNNING = "exp_9f8b7c6d"
DRF_PENDING = "3f1c2b7d9e8a4c6b8d0e1f2a3b4c5d6e"
CREATE = {"dataset_id": "ds_7a6b5c4d", "name": "proxy test", "workflow": [{"type": "completion",
          "config": {"model": "gpt-4o"}}], "evaluator_ids": ["answer-relevance"]}


@pytest.fixture(scope="module")
def drf() -> Iterator[str]:
    """The DRF backend, faults chosen per request (`--fault-header`)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRF_BACKEND_", "CONTRACT_"))}
    server = subprocess.Popen([sys.executable, "-m", "drf_backend", "--port", str(port), "--fault-header"],
                              cwd=ROOT / "tests", env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("ready "), f"the DRF backend did not start: {line!r}"
        yield line.split()[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


class Proxy:
    """A proxy served on loopback, and a client of it with the upstream's token."""

    def __init__(self, origin: str, token: str) -> None:
        self.origin = origin
        self.http = httpx.Client(base_url=f"{origin}/api/v2", headers={"Authorization": f"Bearer {token}"},
                                 timeout=30, trust_env=False)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def log(self, limit: int = 200) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = httpx.get(f"{self.origin}/__mock__/requests?limit={limit}", trust_env=False,
                                                  timeout=30).json()
        return entries

    def findings(self, response: httpx.Response) -> list[dict[str, Any]]:
        """The findings the request log holds for this exchange (the newest entry with its method and path)."""
        path = response.request.url.path
        entry = next(e for e in self.log(20) if e["path"] == path and e["method"] == response.request.method)
        return list(entry.get("findings", []))


def proxy_app(upstream: str, **options: Any) -> Any:
    return build_app(forwarder=forwarder(ProxyOptions(upstream=upstream, **options))).asgi


@pytest.fixture(scope="module")
def soft(drf: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    record = tmp_path_factory.mktemp("record") / "session.har"
    with serve(proxy_app(drf, record=record, mock_missing=True), lifespan="on") as origin, \
            Proxy(origin, DRF_KEY) as proxy:
        proxy.record = record  # type: ignore[attr-defined]
        yield proxy


@pytest.fixture(scope="module")
def hard(drf: str) -> Iterator[Proxy]:
    with serve(proxy_app(drf, errors=True), lifespan="on") as origin, Proxy(origin, DRF_KEY) as proxy:
        yield proxy


def kinds(findings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["kind"], f["assumption"] or f["rule"]) for f in findings}


def a_frontend_session(proxy: Proxy) -> None:
    """What a frontend does all day, through the proxy."""
    api = proxy.http
    created = api.post("/experiments/", json={**CREATE, "description": "made through the proxy"})
    assert created.status_code == 201, created.text
    experiment_id = created.json()["id"]
    assert api.get(f"/experiments/{experiment_id}/").status_code == 200
    assert api.patch(f"/experiments/{experiment_id}/", json={"name": "renamed", "batch_size": 7}).status_code == 200
    assert api.patch(f"/experiments/{experiment_id}/", json={"description": None}).status_code == 200
    assert api.get("/experiments/?page=1&page_size=5").status_code == 200
    assert api.post("/experiments/list/?page_size=10", json={"filters": {"name": {
        "operator": "icontains", "value": "RENAMED"}}}).status_code == 200
    assert api.get("/experiments/summary/").status_code == 200
    assert api.get("/experiments/?page=999").status_code == 404  # DRF: a page past the end
    assert api.post("/experiments/", json={**CREATE, "colour": "blue"}).status_code == 201  # DRF ignores it
    assert api.delete(f"/experiments/{experiment_id}/").status_code == 204


def test_the_faithful_backend_has_no_violation_and_its_differences_are_refuted_assumptions(soft: Proxy) -> None:
    a_frontend_session(soft)
    entries = [e for e in soft.log() if e.get("proxy", {}).get("answered_by") == "upstream"]
    assert len(entries) >= 10
    findings = [f for e in entries for f in e["findings"]]
    assert [f for f in findings if f["kind"] == "violation"] == []
    refuted = {f["assumption"] for f in findings}
    assert {"response-shows-every-field", "page-past-end-empty", "unknown-fields-rejected"} <= refuted, refuted
    for finding in findings:  # each with its place in the spec
        assert finding["where"].startswith("openapi.yaml:") and finding["spec"].startswith("#/"), finding
    assert all(e["proxy"]["upstream_ms"] is not None for e in entries)


def test_the_summary_header_counts_and_holds_no_finding(soft: Proxy) -> None:
    response = soft.http.get(f"/experiments/{DRF_PENDING}/")
    assert response.status_code == 200
    assert response.headers[SUMMARY_HEADER] == "violations=0; refuted-assumptions=2"


@pytest.mark.parametrize(("fault", "rule"), [
    ("slugs_win_over_ids", "evaluator_ids_win_over_slugs"),
    ("workflow_duplicate_crashes", "not_a_server_error"),
])
def test_a_documented_fault_is_a_violation_naming_the_rule_soft_and_hard(soft: Proxy, hard: Proxy, fault: str,
                                                                          rule: str) -> None:
    for proxy in (soft, hard):
        created = proxy.http.post("/experiments/", json=CREATE)
        assert created.status_code == 201
        experiment_id = created.json()["id"]
        headers = {"X-Drf-Fault": fault}
        if fault == "slugs_win_over_ids":
            response = proxy.http.patch(f"/experiments/{experiment_id}/", headers=headers, json={
                "evaluator_ids": ["answer-relevance"], "evaluator_slugs": ["faithfulness"]})
        else:
            response = proxy.http.patch(f"/experiments/{experiment_id}/", headers=headers,
                                        json={"workflow": [{"type": "duplicate", "config": {}}]})
        if proxy is soft:
            assert response.status_code in (200, 500)
            assert ("violation", rule) in kinds(proxy.findings(response))
            assert response.headers[SUMMARY_HEADER].startswith("violations=1;")
        else:
            assert response.status_code == 502, response.text
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert problem["title"] == "The upstream's answer breaks the contract"
            assert rule in problem["detail"] and [f["rule"] for f in problem["findings"]] == [rule]
            assert ("violation", rule) in kinds(proxy.findings(response))


def test_a_fault_in_one_of_our_choices_is_a_refuted_assumption_and_hard_mode_passes_it(soft: Proxy,
                                                                                       hard: Proxy) -> None:
    # contains is case-sensitive is our choice (filter-case-sensitivity), not the vendor's.
    for proxy in (soft, hard):
        proxy.http.post("/experiments/", json={**CREATE, "name": "Alpha case"})
        response = proxy.http.post("/experiments/list/?page_size=100", headers={"X-Drf-Fault": "contains_ignores_case"},
                                   json={"filters": {"name": {"operator": "contains", "value": "alpha"}}})
        assert response.status_code == 200
        assert kinds(proxy.findings(response)) >= {("refuted assumption", "filter-case-sensitivity")}


def test_hard_mode_answers_a_request_that_breaks_the_contract_itself(hard: Proxy) -> None:
    both = hard.http.post("/experiments/", json={**CREATE, "evaluator_workflow_ids": ["wfv_3c9e1d7f2a6b4805"]})
    assert both.status_code == 400 and "non_field_errors" in both.json()  # the mock's own 400
    entry = hard.log(5)[0]
    assert entry["proxy"]["answered_by"] == "proxy" and "not forwarded" in " ".join(entry["proxy"]["notes"])
    assert ("violation", "request_schema") in kinds(entry["findings"])
    anonymous = httpx.get(f"{hard.origin}/api/v2/experiments/", trust_env=False)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    # A request that only breaks one of our choices is forwarded (hard mode refuses violations only).
    assert hard.http.post("/experiments/", json={**CREATE, "colour": "blue"}).status_code == 201


def test_mock_missing_answers_what_the_upstream_lacks_and_says_so(soft: Proxy) -> None:
    # DRF has no GET /experiments/list/ (405): the mock answers it, as its first organization.
    response = soft.http.get("/experiments/list/?page_size=2")
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    entry = soft.log(5)[0]
    assert entry["proxy"]["answered_by"] == "mock" and entry["proxy"]["upstream_status"] == 405
    assert "--mock-missing" in " ".join(entry["proxy"]["notes"])


def test_tokens_never_reach_the_log_the_recording_or_the_terminal(soft: Proxy) -> None:
    soft.http.post("/experiments/", json={**CREATE, "description": f"pasted {DRF_KEY} by mistake"})
    record: Path = soft.record  # type: ignore[attr-defined]
    texts = [json.dumps(soft.log()), record.read_text(), record.with_name("session.findings.jsonl").read_text()]
    assert all(DRF_KEY not in text for text in texts)
    entries = json.loads(record.read_text())["log"]["entries"]
    assert {"name": "authorization", "value": "Bearer ***"} in entries[-1]["request"]["headers"]


def test_the_recording_replays_through_the_suites_checks_with_the_same_findings(soft: Proxy, tmp_path: Path) -> None:
    a_frontend_session(soft)
    record: Path = soft.record  # type: ignore[attr-defined]
    recorded = [json.loads(line) for line in record.with_name("session.findings.jsonl").read_text().splitlines()]
    assumptions = Assumptions(ROOT / "openapi.yaml")
    findings, _, count = har.judge(record, assumptions)
    assert count >= 10
    assert {(f.kind, f.rule, f.assumption) for f in findings.all()} == \
        {("violation" if f["kind"] == "violation" else "assumption", f["rule"], f["assumption"]) for f in recorded}
    result = subprocess.run([sys.executable, "-m", "contract_tests.har", str(record), "--html",
                             str(tmp_path / "session.html")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    # The module's session holds the planted faults' exchanges too: each violation is the fault's rule.
    violations = {f.rule for f in findings.violations()}
    assert violations <= {"evaluator_ids_win_over_slugs", "not_a_server_error", "request_schema"}, violations
    assert result.returncode == (1 if violations else 0), result.stdout + result.stderr
    assert "~ response-shows-every-field" in result.stdout
    page = (tmp_path / "session.html").read_text()
    assert "Contract run proxy session" in page and "response-shows-every-field" in page and DRF_KEY not in page


def test_the_unbroken_mock_behind_the_proxy_gzip_compressed_has_no_finding_at_all() -> None:
    upstream = GZipMiddleware(build_app().asgi, minimum_size=10)
    with serve(upstream) as mock_origin, serve(proxy_app(f"{mock_origin}/api/v2", errors=True, strict=True),
                                                    lifespan="on") as origin, Proxy(origin, MOCK_KEY) as proxy:
        listed = proxy.http.get("/experiments/?page_size=100", headers={"Accept-Encoding": "gzip"})
        assert listed.status_code == 200 and listed.headers["content-encoding"] == "gzip"  # passed through unchanged
        assert proxy.http.patch("/experiments/exp_9f8b7c6d/", json={"name": "  spaced  "}).status_code == 200
        assert proxy.http.get("/experiments/summary/").status_code == 200
        assert [e["findings"] for e in proxy.log()] == [[], [], []]


@pytest.mark.parametrize(("fault", "rule", "field"), [
    ("drops_created_at", "response_schema_conformance", "created_at"),
    ("skips_auth", "ignored_auth", None),
    ("slugs_win_over_ids", "evaluator_ids_win_over_slugs", "evaluator_ids"),
])
def test_the_broken_mock_is_a_violation_naming_the_rule(fault: str, rule: str, field: str | None) -> None:
    with serve(broken_mock(fault)) as mock_origin, serve(proxy_app(f"{mock_origin}/api/v2"), lifespan="on") as origin, \
            Proxy(origin, MOCK_KEY) as proxy:
        if fault == "skips_auth":
            del proxy.http.headers["authorization"]
        body = {"evaluator_ids": ["helpfulness"], "evaluator_slugs": ["tone"]} if fault == "slugs_win_over_ids" \
            else {"name": "renamed"}
        response = proxy.http.patch("/experiments/exp_9f8b7c6d/", json=body)
        assert response.status_code == 200
        found = [f for f in proxy.findings(response) if f["kind"] == "violation" and f["direction"] == "response"]
        assert [(f["rule"], f["field"]) for f in found] == [(rule, field)], found


def test_the_command_line_proxy_answers_an_unreachable_upstream_with_a_502_naming_it() -> None:
    port, dead = free_port(), free_port()
    upstream = f"http://127.0.0.1:{dead}/api/v2"
    process = subprocess.Popen([sys.executable, "-m", "mock_server", "proxy", "--upstream", upstream, "--port",
                                str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"Validating proxy on http://127.0.0.1:{port}/api/v2/ -> {upstream}/ (soft)"), first
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v2/experiments/", trust_env=False, timeout=10,
                                     headers={"Authorization": f"Bearer {DRF_KEY}"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.status_code == 502 and upstream in response.json()["detail"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            output = process.stdout.read()
            process.stdout.close()
            assert DRF_KEY not in output


def test_the_proxy_needs_neither_schemathesis_nor_pytest() -> None:
    # The base install (without the [contract] extra) runs the proxy: the shared attribution imports none of them.
    probe = ("import sys, mock_server.proxy, mock_server.proxy_cli, contract_tests.har; "
             "print(sorted(m for m in ('schemathesis', 'pytest') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_every_documented_answer_and_body_is_judged_with_a_place_in_the_spec() -> None:
    # Bodies of the wrong shape for every documented response and request body, `$ref`s on the way included.
    from contract_tests.attribution import Exchange, judge_exchange

    assumptions = Assumptions(ROOT / "openapi.yaml")
    for operation_id in assumptions.operations:
        for status in assumptions.contract.responses(operation_id):
            for body in (b'{"unexpected": 1}', b"[1]", b'"text"'):
                exchange = Exchange(operation_id, "POST", {"experiment_id": "x" * 100}, {"page": "0"},
                                    {"content-type": "application/json"}, b'{"name": 5, "nope": []}', int(status),
                                    {"content-type": "application/json"}, body)
                for finding in judge_exchange(exchange, assumptions):
                    assert finding.where.startswith("openapi.yaml:") and finding.pointer.startswith("#/"), finding
