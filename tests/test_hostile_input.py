"""Hostile and clumsy input: every request is answered in bounded time, with a bounded body, and never a 5xx."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import jwt
import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID
from starlette.testclient import TestClient

from mock_server import jsonio
from mock_server.app import build_app
from mock_server.docs import SpecDocuments
from mock_server.limits import MAX_HEADER_BYTES, MAX_JSON_DEPTH, MAX_REPORTED_ERRORS, MAX_URL_BYTES

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
JSON = {"Content-Type": "application/json"}
ITEM = f"{BASE}/{COMPLETED_ID}/"
FAST = 1.0  # seconds: what "answered at once" means here (the cases below took 10 s to 9 minutes before)


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


# -- bounded work ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("items", [
    pytest.param([1] * 6000, id="6000 ints (quadratic before)"),
    pytest.param([{}] * 100_000, id="100000 empty objects (froze the server before)"),
    pytest.param([{"type": "completion", "config": {"model": "m", "stop": [1] * 100, "tools": [1] * 100}}] * 100,
                 id="nested lists of bad items"),
])
def test_a_body_with_countless_errors_is_answered_at_once_with_a_bounded_400(client, items):
    body = json.dumps({"workflow": items}).encode()
    assert len(body) < 1024 * 1024
    response, seconds = timed(lambda: client.patch(ITEM, content=body, headers={**AUTH, **JSON}))
    assert response.status_code == 400 and seconds < FAST
    assert len(response.content) < 64 * 1024
    errors = response.json()
    assert sum(len(messages) for messages in errors.values()) <= MAX_REPORTED_ERRORS + 1
    assert "more errors not shown" in errors["non_field_errors"][-1]
    assert errors["workflow"] == ["Ensure this field has no more than 50 elements."]


def test_thousands_of_unknown_fields_are_reported_in_a_bounded_body(client):
    body = json.dumps({f"field_{i}": i for i in range(40_000)}).encode()
    response, seconds = timed(lambda: client.patch(ITEM, content=body, headers={**AUTH, **JSON}))
    assert response.status_code == 400 and seconds < FAST and len(response.content) < 64 * 1024
    assert response.json()["field_0"] == ["Unknown field."]


def test_long_values_and_field_names_are_cut_in_error_bodies(client):
    body = {"generation_method": "x" * 500_000, "y" * 100_000: 1}
    response = client.patch(ITEM, json=body, headers=AUTH)
    assert response.status_code == 400 and len(response.content) < 64 * 1024
    assert response.json()["generation_method"][0].startswith('"xxx') and "…" in response.text


def test_prefer_is_read_after_authentication_and_without_backtracking(client):
    hostile = 'a="' + " " * 30_000 + '"x'
    response, seconds = timed(lambda: client.get(f"{BASE}/", headers={"Prefer": hostile}))
    assert response.status_code == 401 and seconds < FAST
    response, seconds = timed(lambda: client.get(f"{BASE}/", headers={**AUTH, "Prefer": hostile}))
    assert response.status_code == 200 and seconds < FAST


def test_oversized_headers_are_431_with_a_json_body(client):
    response = client.get(f"{BASE}/", headers={**AUTH, "X-Padding": "x" * MAX_HEADER_BYTES})
    assert response.status_code == 431
    assert response.json() == {"detail": f"Request headers are larger than {MAX_HEADER_BYTES} bytes in total."}


def test_an_oversized_url_is_414_with_a_json_body(client):
    response = client.get(f"{BASE}/?{'a=1&' * (MAX_URL_BYTES // 4)}", headers=AUTH)
    assert response.status_code == 414 and "longer than" in response.json()["detail"]


def test_request_log_entries_stay_small_whatever_the_requests_held(client):
    unknown = json.dumps({f"f{i}" + "\n" * 400: i for i in range(300)}).encode()
    for n in range(100):
        client.patch(ITEM, content=unknown, headers={**AUTH, **JSON})
        client.get(f"{BASE}/{COMPLETED_ID}/{'p' * 10_000}{n}/", headers=AUTH)
    log = client.get("/__mock__/requests?limit=200").json()
    assert len(log) == 200
    assert len(json.dumps(log)) < 2 * 1024 * 1024
    patch, unknown_path = log[1], log[0]
    assert len(patch["errors"]) == 10 and patch["errors_not_shown"] > 40
    assert all(len(e["field"]) <= 300 for e in patch["errors"]) and len(unknown_path["path"]) <= 300


# -- no 5xx for any input ---------------------------------------------------------------------------------

DEEP_PREFIX = '{"workflow": [{"type": "wait", "config": {"x": '  # four levels before the value


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_is_accepted(client):
    body = DEEP_PREFIX + nested(MAX_JSON_DEPTH - 4) + "}}]}"
    response = client.patch(ITEM, content=body.encode(), headers={**AUTH, **JSON})
    assert response.status_code == 200


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH - 3, 256, 300, 961, 100_000])
def test_nesting_past_the_limit_is_400_saying_where(client, depth):
    body = DEEP_PREFIX + nested(depth) + "}}]}"
    response, seconds = timed(lambda: client.patch(ITEM, content=body.encode(), headers={**AUTH, **JSON}))
    assert response.status_code == 400 and seconds < FAST
    where = len(DEEP_PREFIX) + MAX_JSON_DEPTH - 4  # the first bracket one level too deep
    assert response.json() == {"detail": f"JSON parse error - arrays and objects nested deeper than "
                                         f"{MAX_JSON_DEPTH} levels: line 1 column {where + 1} (byte {where})"}


def test_the_depth_check_ignores_brackets_inside_strings():
    text = json.dumps({"a": "[" * 500, "b": [["{"] * 3] * 3}).encode()
    assert jsonio.too_deep_at(text, MAX_JSON_DEPTH) is None
    assert jsonio.too_deep_at(b'{"a": ' + nested(70).encode() + b"}", MAX_JSON_DEPTH) == 6 + MAX_JSON_DEPTH - 1


@pytest.mark.parametrize("media_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8"])
def test_media_types_compare_case_insensitively(client, media_type):
    response = client.patch(ITEM, content=b'{"name": "Case"}', headers={**AUTH, "Content-Type": media_type})
    assert response.status_code == 200 and response.json()["name"] == "Case"


def test_a_body_without_content_type_is_415(client):
    response = client.patch(ITEM, content=b'{"name": "x"}', headers=AUTH)
    assert response.status_code == 415 and "Content-Type: application/json" in response.json()["detail"]
    assert client.get(ITEM, headers=AUTH).json()["name"] != "x"


def test_no_body_needs_no_content_type(client):
    assert client.post(f"{BASE}/list/", headers=AUTH).status_code == 200


@pytest.fixture(scope="module")
def unchecked():
    """The mock as `make mock` serves it: without response validation (Connexion's response validator
    rejects the leap second that RFC 3339 and the request validator accept, in the echoed filters)."""
    with TestClient(build_app().asgi, base_url="http://127.0.0.1:4010") as client:
        yield client


@pytest.mark.parametrize("value", ["2026-11-01T00:00:00z", "2026-11-01t00:00:00Z", "2026-12-31T23:59:60Z",
                                   "2026-11-02T09:14:03.123456789+01:00"])
def test_date_time_filters_take_rfc_3339_as_written(unchecked, value):
    for path in ("/list/", "/summary/"):
        response = unchecked.post(BASE + path, json={"filters": {"created_at": {"operator": "lte", "value": value}}},
                                  headers=AUTH)
        assert response.status_code == 200
    listed = unchecked.post(f"{BASE}/list/", json={"filters": {"created_at": {"operator": "lte", "value": value}}},
                            headers=AUTH)
    assert listed.json()["count"] == 4 if value.startswith("2026-12") else listed.json()["count"] < 4


def test_a_date_time_filter_python_cannot_hold_is_400_naming_it(acme):
    response = acme.post("/list/", {"filters": {"created_at": {"operator": "lt", "value": "0000-01-01T00:00:00Z"}}})
    assert response.status_code == 400 and list(response.json()) == ["filters.created_at.value"]
    response = acme.post("/summary/", {"filters": {"created_at": {"operator": "in", "value": [
        "2026-11-01T00:00:00Z", "0000-01-01T00:00:00Z"]}}})
    assert response.status_code == 400 and list(response.json()) == ["filters.created_at.value.1"]


@pytest.mark.parametrize("path", ["/api/v2/uiX", "/api/v2/openapi.jsonx", "/api/v2/openapi.json/experiments/",
                                  "/api/v2/ui/no-such-file.js", "/api/v2/openapi.yaml/"])
def test_unknown_docs_paths_are_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_docs_are_still_served(client):
    assert client.get("/api/v2/ui/").status_code == 200
    assert client.get("/api/v2/ui", follow_redirects=False).status_code == 307
    assert client.get("/api/v2/openapi.yaml").text.startswith(("openapi", "components", "info", "paths"))


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"name": "ok\\ud800"}', "name"),
    (b'{"workflow": [{"type": "wait", "config": {"note": "\\udc00"}}]}', "workflow.0.config.note"),
    (b'{"workflow": [{"type": "wait", "config": {"\\ud800": 1}}]}', "workflow.0.config"),
    (b'"\\ud800"', "non_field_errors"),
])
def test_text_utf8_cannot_carry_is_400_naming_the_field(client, raw, field):
    response = client.patch(ITEM, content=raw, headers={**AUTH, **JSON})
    assert response.status_code == 400 and list(response.json()) == [field]
    assert "lone UTF-16 surrogate" in response.json()[field][0]


def test_surrogate_pairs_and_escaped_backslashes_are_fine(client):
    response = client.patch(ITEM, content=b'{"description": "\\ud83d\\ude00 \\\\ud800"}', headers={**AUTH, **JSON})
    assert response.status_code == 200 and response.json()["description"] == "\U0001f600 \\ud800"


@pytest.mark.parametrize("page", ["١", "1_000", "²", "1e3"])
def test_query_numbers_take_ascii_digits_only(client, page):
    response = client.get(f"{BASE}/", params={"page": page}, headers=AUTH)
    assert response.status_code == 400 and response.json() == {"page": ["A valid integer is required."]}


def test_a_jwt_whose_exp_is_a_string_is_401(client, mock):
    token = jwt.encode({"org_id": "org_acme", "exp": str(int(time.time()) + 3600)}, mock.authenticator.jwt_secret,
                       algorithm="HS256")
    response = client.get(f"{BASE}/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}


# -- the controls' bodies -------------------------------------------------------------------------------

def test_admin_bodies_nested_deep_or_huge_are_refused(client):
    deep = client.post("/__mock__/faults", content=nested(300).encode(), headers=JSON)
    assert deep.status_code == 400 and "nested deeper" in deep.json()["detail"]
    huge = client.post("/__mock__/faults", content=b'{"x": "' + b"x" * (1024 * 1024) + b'"}', headers=JSON)
    assert huge.status_code == 413
    lone = client.post(f"/__mock__/experiments/{COMPLETED_ID}/lifecycle",
                       content=b'{"action": "fail", "error_message": "\\ud800"}', headers=JSON)
    assert lone.status_code == 400 and list(lone.json()) == ["error_message"]


# -- slow clients -------------------------------------------------------------------------------------------

async def _stalled_request(app, path: str, timeout: float) -> tuple[int, dict, float]:
    """Send a body's first bytes, then nothing: what does the app answer, and when?"""
    scope = {"type": "http", "http_version": "1.1", "method": "PATCH" if "api" in path else "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1:4010"), (b"content-type", b"application/json"),
                         (b"content-length", b"100"), (b"authorization", f"Bearer {ACME_KEY}".encode())],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 4010)}
    stalled = asyncio.Event()
    first = True

    async def receive():
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"name": ', "more_body": True}
        await stalled.wait()  # the client never sends the rest
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    started = time.perf_counter()
    await asyncio.wait_for(app(scope, receive, send), timeout)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {**json.loads(body), "headers": dict(start["headers"])}, time.perf_counter() - started


@pytest.mark.parametrize("path", [ITEM, "/__mock__/faults"])
def test_a_client_that_stalls_mid_body_is_answered_408_after_the_bound(path):
    app = build_app(body_timeout=0.3).asgi
    status, body, seconds = asyncio.run(_stalled_request(app, path, timeout=5))
    assert status == 408 and 0.3 <= seconds < 2
    assert body["detail"] == "The request body did not arrive within 0.3 s."
    assert body["headers"][b"connection"] == b"close"


def _stall_over_http(origin: str, headers: str) -> tuple[bytes, float, float]:
    """Over a real connection: headers and the start of a body, then nothing. What comes back, after how
    long, and after how long the server closed the connection."""
    host, port = origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"PATCH {ITEM} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: 100\r\n{headers}\r\n{{\"name\": ".encode())
        started = time.perf_counter()
        answer = connection.recv(65536)
        answered = time.perf_counter() - started
        while connection.recv(65536):
            pass
        return answer, answered, time.perf_counter() - started


def test_over_http_a_stalled_body_is_408_and_closed_and_a_401_does_not_wait_for_it():
    from contract_tests.embedded import serve

    with serve(build_app(body_timeout=0.5).asgi) as origin:
        answer, answered, closed = _stall_over_http(origin, f"Authorization: Bearer {ACME_KEY}\r\n")
        assert answer.startswith(b"HTTP/1.1 408 ") and 0.5 <= answered < 3 and closed < 3
        answer, answered, closed = _stall_over_http(origin, "")
        assert answer.startswith(b"HTTP/1.1 401 ") and answered < 0.5 and closed < 8  # uvicorn's keep-alive: 5 s


def test_the_body_bound_defaults_to_ten_seconds():
    from mock_server.limits import BODY_TIMEOUT_SECONDS

    assert BODY_TIMEOUT_SECONDS <= 10


# -- served documents ------------------------------------------------------------------------------------------

def test_spec_documents_are_built_once():
    passed = []

    async def swagger_ui(scope, receive, send):
        passed.append(scope["path"])
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    documents = SpecDocuments(swagger_ui, "/api/v2", {"openapi": "3.0.3", "paths": {}})

    async def fetch_three_times():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=documents), base_url="http://127.0.0.1") as http:
            return [await http.get("/api/v2/openapi.yaml") for _ in range(3)]

    responses = asyncio.run(fetch_three_times())
    assert passed == [] and list(documents._bodies) == [("", "/api/v2/openapi.yaml")]
    assert all(r.status_code == 200 and r.text.startswith("openapi: 3.0.3\n") for r in responses)


def test_the_served_yaml_is_answered_fast_after_the_first_time(client):
    first = client.get("/api/v2/openapi.yaml")
    again, seconds = timed(lambda: client.get("/api/v2/openapi.yaml"))
    assert again.status_code == 200 and again.content == first.content and seconds < 0.1


def test_a_fresh_mock_answers_a_forced_example_and_then_validates_bodies():
    """Response validation of a forced 4xx example used to leave a cycle in Connexion's components."""
    with TestClient(build_app(validate_responses=True).asgi, base_url="http://127.0.0.1:4010") as client:
        forced = client.get(ITEM, headers={**AUTH, "Prefer": "code=404"})
        assert forced.status_code == 404
        assert client.put(ITEM, json={"name": "after"}, headers=AUTH).status_code == 200
