"""How the contract suite tells a violation from a refuted assumption, reproduces findings, and keeps
a run safe (the gate): focused tests on hand-made inputs."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contract_tests.assumptions import Assumptions, marks
from contract_tests.config import spec_path
from contract_tests.embedded import serve
from contract_tests.findings import ASSUMPTION, CHECK_ASSUMPTIONS, VIOLATION, Reproducer, _classify
from contract_tests.gate import GATE_HEADER, REFUSED, Created, Gate

SPEC_PATH = spec_path()


@pytest.fixture(scope="module")
def spec() -> Assumptions:
    return Assumptions(SPEC_PATH)


def _details(spec: Assumptions, schema: Any, instance: Any, *, request: bool) -> dict[str, str | None]:
    from mock_server.validation import SchemaValidator

    return {d.field: spec.attribute(schema, d.schema_path, request=request)
            for d in SchemaValidator(schema).details(instance)}


def _documented(spec: Assumptions, schema: Any, instance: Any, *, request: bool) -> set[str]:
    """The fields of `instance` that break a documented constraint."""
    from mock_server.validation import SchemaValidator

    return {d.field for d in SchemaValidator(schema).find(instance, limit=1000).details
            if spec.attribute(schema, d.schema_path, request=request) is None}


# -- the marks --------------------------------------------------------------------------------------

def test_every_mark_names_an_assumption_of_the_registry(spec: Assumptions) -> None:
    used = set(spec.locations)
    assert used <= set(spec.registry), f"marks without a registry entry: {used - set(spec.registry)}"
    for assumption in spec.registry.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", assumption.id) and assumption.text.endswith((".", ")"))


def test_the_suite_refers_only_to_assumptions_the_spec_has(spec: Assumptions) -> None:
    referenced = set(CHECK_ASSUMPTIONS.values()) | {"value-bounds", "unknown-fields-rejected", "create-status-201",
                                                     "page-past-end-empty", "error-statuses"}
    assert referenced <= set(spec.registry)


def test_where_points_at_the_line_of_the_mark(spec: Assumptions) -> None:
    where = spec.where("running-lock")
    line = int(where.split(":")[1].split()[0])
    assert SPEC_PATH.read_text().splitlines()[line - 1].strip() == "x-assumption: running-lock", where


def test_request_constraints_are_assumptions_except_the_documented_ones(spec: Assumptions) -> None:
    schema = spec.request_schema("createExperiment")
    found = _details(spec, schema, {"workflow": [{"type": "wait", "config": {}}], "evaluator_ids": ["a"],
                                    "evaluator_workflow_ids": ["b"], "name": "x" * 300, "typo": 1,
                                    "batch_size": 0, "description": "y" * 20000}, request=True)
    assert found == {"dataset_id": None, "non_field_errors": None,  # required, and both scoring paths: documented
                     "name": "name-length", "typo": "unknown-fields-rejected", "batch_size": "execution-bounds",
                     "description": "value-bounds"}


def test_response_types_are_documented_but_bounds_status_values_and_presence_are_not(spec: Assumptions) -> None:
    schema = spec.response_schema("getExperiment", 200)
    found = _details(spec, schema, {"id": "x", "name": "n" * 300, "status": "queued",
                                    "created_at": "2026-01-01T00:00:00Z", "progress": "half"}, request=False)
    assert found["name"] == "name-length" and found["status"] == "status-values"
    assert found["progress"] is None  # a wrong type of a documented field: documented
    assert found["workflow"] == "response-fields-always-present"  # only four fields are always there


def test_a_mark_never_swallows_a_documented_type_on_the_same_node(spec: Assumptions) -> None:
    schema = spec.response_schema("getExperiment", 200)
    found = _documented(spec, schema, {"id": 123, "name": None, "status": None, "created_at": "2026-01-01T00:00:00Z",
                                       "batch_size": "100"}, request=False)
    assert found == {"id", "name", "status", "batch_size"}


def test_documented_bounds_are_documented(spec: Assumptions) -> None:
    item = {"id": "x", "name": "n", "status": "running", "created_at": "2026-01-01T00:00:00Z", "progress": 4500}
    assert _documented(spec, spec.response_schema("getExperiment", 200), item, request=False) == {"progress"}
    page = spec.response_schema("listExperiments", 200)
    assert _documented(spec, page, [dict(item, progress=1)] * 101, request=False) == {"non_field_errors"}


VENDOR_DETAIL = {  # the vendor's own example of GET /experiments/{id}/ (D-get), with an undocumented extra field
    "id": "exp_9f8b7c6d", "name": "GPT-4o vs Claude comparison", "status": "completed",
    "created_at": "2026-03-01T10:00:00Z", "description": "Compare models", "dataset": "ds_7a6b5c4d",
    "dataset_id": "ds_7a6b5c4d", "dataset_name": "Support QA", "workflow_count": 1, "progress": 100,
    "started_at": "2026-03-01T10:00:05Z", "completed_at": "2026-03-01T10:30:00Z",
    "tags": [{"priority": "high", "team": "nlp-eval"}], "updated_at": "2026-03-01T10:30:00Z",
    "workflow": [{"type": "completion", "config": {"model": "gpt-4o", "seed": None}, "id": "step_1"}],
}


def test_the_vendors_own_examples_break_nothing_documented(spec: Assumptions) -> None:
    detail = spec.response_schema("getExperiment", 200)
    assert _documented(spec, detail, VENDOR_DETAIL, request=False) == set()
    listed = {key: VENDOR_DETAIL[key] for key in ("id", "name", "status", "created_at")} | {"tags": [{}]}
    assert _documented(spec, spec.response_schema("listExperiments", 200), [listed], request=False) == set()
    page = {"count": 1, "results": [listed], "next": "/api/v2/experiments/list/?page=2", "current_filters": None}
    found = _details(spec, spec.response_schema("filterExperiments", 200), page, request=False)
    assert set(found.values()) == {"response-fields-always-present"}, found  # `previous` is ours to always send


def test_fields_the_docs_do_not_name_are_no_finding(spec: Assumptions) -> None:
    schema = spec.response_schema("getExperiment", 200)
    from mock_server.validation import SchemaValidator

    details = SchemaValidator(schema).details(VENDOR_DETAIL)
    closed = [d for d in details if d.rule == "additionalProperties"]
    assert closed and all(spec.ignored(d.schema_path, request=False) for d in closed)
    assert not any(spec.ignored(d.schema_path, request=True) for d in closed)


def test_a_request_may_send_null_beside_a_scoring_path(spec: Assumptions) -> None:
    schema = spec.request_schema("createExperiment")
    body = {"dataset_id": "d", "workflow": [{"type": "wait", "config": {}}], "evaluator_ids": ["a"],
            "evaluator_workflow_ids": None}
    # refused by the mock (a list is expected) but no documented rule: exclusivity is about two non-empty paths
    assert set(_details(spec, schema, body, request=True).values()) == {"strict-input-validation"}


def test_empty_ids_hiding_slugs_is_our_reading(spec: Assumptions) -> None:
    schema = spec.request_schema("createExperiment")
    body = {"dataset_id": "d", "workflow": [{"type": "wait", "config": {}}], "evaluator_ids": [],
            "evaluator_slugs": ["a"]}
    assert set(_details(spec, schema, body, request=True).values()) == {"slugs-hidden-by-ids"}


# -- classification of Schemathesis failures -------------------------------------------------------

def _interaction(method: str, body: Any, status: int, answer: Any = None, query: str = "") -> dict[str, Any]:
    encode = lambda value: {"$base64": base64.b64encode(json.dumps(value).encode()).decode()}  # noqa: E731
    request = {"method": method, "uri": f"http://gate/api/v2/experiments/{query}", "headers": {}}
    if body is not None:
        request["body"] = encode(body)
    return {"request": request, "response": {"status_code": status, "headers": {},
                                             "content": encode(answer) if answer is not None else None}}


CREATE = {"method": "POST", "path": "/experiments/"}


def test_a_server_error_is_a_violation_whatever_the_check(spec: Assumptions) -> None:
    assert _classify("negative_data_rejection", CREATE, _interaction("POST", {}, 500), spec)[0] == VIOLATION
    assert _classify("put_restores_defaults", CREATE, _interaction("POST", {}, 502), spec)[0] == VIOLATION


def test_accepting_both_scoring_paths_breaks_a_documented_rule(spec: Assumptions) -> None:
    body = {"dataset_id": "d", "workflow": [{"type": "wait", "config": {}}], "evaluator_ids": ["a"],
            "evaluator_workflow_ids": ["b"]}
    kind, assumption, why = _classify("negative_data_rejection", CREATE, _interaction("POST", body, 201), spec)
    assert (kind, assumption) == (VIOLATION, None) and "mutually exclusive" in why


def test_accepting_a_long_name_refutes_an_assumption(spec: Assumptions) -> None:
    body = {"dataset_id": "d", "workflow": [{"type": "wait", "config": {}}], "evaluator_ids": ["a"], "name": "x" * 300}
    assert _classify("negative_data_rejection", CREATE, _interaction("POST", body, 201), spec)[:2] == \
        (ASSUMPTION, "name-length")


def test_a_404_for_a_page_past_the_end_refutes_page_past_end_empty(spec: Assumptions) -> None:
    case = {"method": "GET", "path": "/experiments/", "query": {"page": 9}}
    assert _classify("status_code_conformance", case, _interaction("GET", None, 404, {"detail": "Invalid page."}),
                     spec)[:2] == (ASSUMPTION, "page-past-end-empty")


def test_create_answering_200_refutes_create_status_201(spec: Assumptions) -> None:
    assert _classify("status_code_conformance", CREATE, _interaction("POST", {}, 200), spec)[:2] == \
        (ASSUMPTION, "create-status-201")


def test_another_success_status_refutes_an_assumption(spec: Assumptions) -> None:
    case = {"method": "DELETE", "path": "/experiments/{experiment_id}/"}
    assert _classify("status_code_conformance", case, _interaction("DELETE", None, 200), spec)[:2] == \
        (ASSUMPTION, "success-statuses")
    assert _classify("status_code_conformance", CREATE, _interaction("POST", {}, 202), spec)[:2] == \
        (ASSUMPTION, "create-status-201")


def test_a_non_json_error_body_refutes_an_assumption(spec: Assumptions) -> None:
    assert _classify("content_type_conformance", CREATE, _interaction("POST", {}, 413), spec)[:2] == \
        (ASSUMPTION, "error-bodies")
    assert _classify("content_type_conformance", CREATE, _interaction("POST", {}, 201), spec)[0] == VIOLATION


def test_checks_of_writes_and_auth_are_documented(spec: Assumptions) -> None:
    for check in ("write_applies_fields", "read_your_writes", "ignored_auth", "use_after_free"):
        assert _classify(check, CREATE, _interaction("POST", {}, 201), spec)[0] == VIOLATION


# -- reproduce lines ---------------------------------------------------------------------------------

def test_reproduce_lines_mask_tokens_by_value_and_recreate_what_the_run_deleted() -> None:
    created = Created("ct-1-abc", "Bearer sk_live_secret", b'{"name": "ct-1 x", "dataset_id": "d"}', deleted=True)
    reproducer = Reproducer("http://127.0.0.1:5555/api/v2", "https://staging.example.com/api/v2", ("sk_live_secret",),
                            {"ct-1-abc": created}.get)
    line = reproducer.curl("PATCH", "http://127.0.0.1:5555/api/v2/experiments/ct-1-abc/",
                           [("Authorization", "Bearer sk_live_secret"), ("Content-Type", "application/json")],
                           b'{"workflow": [{"type": "completion", "config": {"model": "m", "max_tokens": 7}}]}')
    assert "sk_live_secret" not in line and "Bearer ***" in line
    assert '"max_tokens": 7' in line  # masked by value, never by key name
    first, second = line.splitlines()[1:3]
    assert first.startswith("curl -X POST") and '"experiment_id": "ct-1-abc"' in first
    assert second.startswith("curl -X PATCH") and "https://staging.example.com/api/v2/experiments/ct-1-abc/" in second


# -- the gate ------------------------------------------------------------------------------------------

def _upstream() -> tuple[Starlette, list[tuple[str, str]]]:
    """A deployment that records what reaches it and answers creates with the id asked for (else a fixed
    one) and the name sent; a name that is not a string gets a name of its own (a lenient backend), and
    the id `theirs` answers with someone else's experiment."""
    received: list[tuple[str, str]] = []

    async def experiments(request: Request) -> Response:
        received.append((request.method, request.url.path))
        if request.method == "POST":
            body = await request.json()
            experiment_id = body.get("experiment_id", "fixed-id")
            name = body.get("name") if isinstance(body.get("name"), str) else f"experiment-{experiment_id}"
            if experiment_id == "theirs":
                name = "someone else's"
            return JSONResponse({"id": experiment_id, "name": name}, status_code=201)
        return JSONResponse([{"id": "seen-before", "name": "someone else's"}])

    async def item(request: Request) -> Response:
        received.append((request.method, request.url.path))
        return Response(status_code=204) if request.method == "DELETE" else JSONResponse({"id": "x"})

    app = Starlette(routes=[Route("/api/v2/experiments/", experiments, methods=["GET", "POST"]),
                            Route("/api/v2/experiments/{experiment_id}/", item,
                                  methods=["GET", "PATCH", "PUT", "DELETE"])])
    return app, received


@pytest.fixture
def gate_and_upstream() -> Iterator[tuple[Gate, str, list[tuple[str, str]]]]:
    app, received = _upstream()
    gate = Gate("http://127.0.0.1:4010/api/v2", Assumptions(SPEC_PATH).contract, prefix="ct-t", max_requests=12,
                transport=httpx.ASGITransport(app=app))
    with serve(gate, lifespan="on") as origin:
        yield gate, origin + "/api/v2", received


def test_the_gate_changes_only_what_the_run_created(gate_and_upstream: Any) -> None:
    gate, url, received = gate_and_upstream
    httpx.get(f"{url}/experiments/")  # shows "seen-before"
    mine = httpx.post(f"{url}/experiments/", json={"name": "ct-t mine", "experiment_id": "mine"}).json()["id"]
    httpx.post(f"{url}/experiments/", json={"name": "ct-t yours", "experiment_id": "theirs"})
    httpx.post(f"{url}/experiments/", json={"name": "ct-t again", "experiment_id": "seen-before"})
    answers = {target: httpx.patch(f"{url}/experiments/{target}/", json={}) for target in
               ("mine", "theirs", "seen-before", "exp_9f8b7c6d")}
    assert mine == "mine" and answers["mine"].status_code == 200
    for target in ("theirs", "seen-before", "exp_9f8b7c6d"):
        assert answers[target].status_code == REFUSED and answers[target].headers[GATE_HEADER] == "refused"
        assert ("PATCH", f"/api/v2/experiments/{target}/") not in received
    assert [c.experiment_id for c in gate.owned_alive()] == ["mine"]
    assert any("'theirs' named \"someone else's\"" in note for note in gate.state.anomalies), gate.state.anomalies
    assert any("'seen-before', which the run had seen before" in note for note in gate.state.anomalies)


def test_the_gate_deletes_what_a_lenient_deployment_named_otherwise(gate_and_upstream: Any) -> None:
    """A generated create whose name is not a string, accepted under a name without the run's prefix, is
    still the run's: the gate knows the create it forwarded and the id that came back, and deletes it."""
    gate, url, received = gate_and_upstream
    for index, name in enumerate([None, 0, ["x"]]):
        answer = httpx.post(f"{url}/experiments/", json={"name": name, "experiment_id": f"lenient{index}"})
        assert answer.json()["name"] == f"experiment-lenient{index}"
    assert httpx.delete(f"{url}/experiments/lenient0/").status_code == 204  # the run may change its own
    assert gate.clean_up() == []
    deleted = [path for method, path in received if method == "DELETE"]
    assert sorted(deleted) == [f"/api/v2/experiments/lenient{i}/" for i in range(3)]
    assert all(c.deleted for c in gate.state.created.values()) and len(gate.state.created) == 3


def test_a_create_answered_without_an_id_counts_as_left_over() -> None:
    async def experiments(request: Request) -> Response:
        return Response(status_code=202)

    app = Starlette(routes=[Route("/api/v2/experiments/", experiments, methods=["POST"])])
    gate = Gate("http://127.0.0.1:4010/api/v2", Assumptions(SPEC_PATH).contract, prefix="ct-t", max_requests=100,
                transport=httpx.ASGITransport(app=app))
    with serve(gate, lifespan="on") as origin:
        assert httpx.post(f"{origin}/api/v2/experiments/", json={"name": "ct-t x"}).status_code == 202
    assert gate.state.untracked == [202] and not gate.state.created
    assert any("without an experiment id" in note for note in gate.state.anomalies)


def test_creates_answered_without_an_id_are_found_by_the_run_prefix_and_deleted() -> None:
    """The clean-up finds them through the documented name filter and deletes exactly those: an experiment
    without the run's prefix is left alone."""
    stored = {"someone-elses": "their experiment"}
    deleted: list[str] = []

    async def create(request: Request) -> Response:
        body = await request.json()
        stored[f"id{len(stored)}"] = body["name"]
        return Response(status_code=202)

    async def search(request: Request) -> Response:
        prefix = (await request.json())["filters"]["name"]["value"]
        results = [{"id": key, "name": name} for key, name in stored.items() if name.startswith(prefix)]
        return JSONResponse({"count": len(results), "results": results, "next": None})

    async def delete(request: Request) -> Response:
        deleted.append(request.path_params["experiment_id"])
        stored.pop(request.path_params["experiment_id"], None)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/api/v2/experiments/", create, methods=["POST"]),
                            Route("/api/v2/experiments/list/", search, methods=["POST"]),
                            Route("/api/v2/experiments/{experiment_id}/", delete, methods=["DELETE"])])
    gate = Gate("http://127.0.0.1:4010/api/v2", Assumptions(SPEC_PATH).contract, prefix="ct-t", max_requests=100,
                transport=httpx.ASGITransport(app=app))
    with serve(gate, lifespan="on") as origin:
        for index in range(3):
            assert httpx.post(f"{origin}/api/v2/experiments/", json={"name": f"ct-t {index}"}).status_code == 202
        assert gate.state.untracked == [202] * 3
        assert gate.clean_up() == []
    assert sorted(deleted) == ["id1", "id2", "id3"] and stored == {"someone-elses": "their experiment"}
    assert gate.state.untracked == [] and all(c.deleted for c in gate.state.created.values())


def test_the_gate_counts_every_request_and_keeps_room_to_clean_up(gate_and_upstream: Any) -> None:
    gate, url, received = gate_and_upstream
    for index in range(5):
        httpx.post(f"{url}/experiments/", json={"name": f"ct-t {index}", "experiment_id": f"e{index}"})
    statuses = [httpx.get(f"{url}/experiments/").status_code for _ in range(10)]
    assert gate.state.cap_reached and statuses.count(REFUSED) == 10 - (12 - 5 - 5)
    assert gate.clean_up() == [] and len(received) == 12  # the 5 deletes fit under the cap of 12
    assert {path for method, path in received if method == "DELETE"} == {f"/api/v2/experiments/e{i}/" for i in range(5)}


def test_a_read_only_gate_sends_no_write() -> None:
    app, received = _upstream()
    gate = Gate("http://127.0.0.1:4010/api/v2", Assumptions(SPEC_PATH).contract, prefix="ct-t", max_requests=100,
                read_only=True, transport=httpx.ASGITransport(app=app))
    with serve(gate, lifespan="on") as origin:
        codes = [httpx.request(method, f"{origin}/api/v2/experiments/{path}", json={}).status_code
                 for method, path in (("POST", ""), ("PUT", "x/"), ("PATCH", "x/"), ("DELETE", "x/"), ("GET", ""))]
    assert codes == [REFUSED] * 4 + [200] and received == [("GET", "/api/v2/experiments/")]


def test_a_network_failure_is_recorded_and_answered_502() -> None:
    class Failing(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

    gate = Gate("http://127.0.0.1:4010/api/v2", Assumptions(SPEC_PATH).contract, prefix="ct-t", max_requests=100,
                transport=Failing())
    with serve(gate, lifespan="on") as origin:
        answer = httpx.get(f"{origin}/api/v2/experiments/")
    assert answer.status_code == 502 and answer.headers[GATE_HEADER] == "network-failure"
    assert gate.state.network_failures and "ConnectError" in gate.state.network_failures[0].error


def test_marks_are_one_id_or_a_list() -> None:
    assert marks({"x-assumption": "a"}) == ("a",) and marks({"x-assumption": ["a", "b"]}) == ("a", "b")
    assert marks({"type": "string"}) == () and marks("not a node") == ()


def test_a_refusal_with_a_documented_status_is_no_finding(spec: Assumptions) -> None:
    """Schemathesis does not count 413 as a refusal of invalid data; the spec documents it."""
    from contract_tests.findings import IGNORED

    too_large = _interaction("POST", {"description": "x"}, 413, {"detail": "Request body is too large."})
    assert _classify("negative_data_rejection", CREATE, too_large, spec)[0] == IGNORED
    teapot = _interaction("POST", {"description": "x"}, 418, {"detail": "I am a teapot."})
    assert _classify("negative_data_rejection", CREATE, teapot, spec)[:2] == (ASSUMPTION, "error-statuses")


def test_a_default_assumption_points_at_the_keyword_to_change(spec: Assumptions) -> None:
    from contract_tests.attribution import Exchange
    from contract_tests.findings import _place

    detail = {"id": "x", "name": "n", "status": "running", "created_at": "2026-01-01T00:00:00Z", "workflow_count": 500}
    exchange = Exchange(operation_id="getExperiment", method="GET", path_params={"experiment_id": "x"}, query={},
                        request_headers={}, request_body=None, status=200,
                        response_headers={"content-type": "application/json"},
                        response_body=json.dumps(detail).encode())
    where = _place("response_schema_conformance", exchange, "value-bounds", spec)
    line = int(where.split(":")[1].split()[0])
    assert "workflow_count" in where and SPEC_PATH.read_text().splitlines()[line - 1].strip() == "maximum: 50", where
    assert _place("status_code_conformance", exchange, "value-bounds", spec) == spec.where("value-bounds")
