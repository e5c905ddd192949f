"""HTTP tests of transport rules: slashes, 404/405, content types, body size, malformed JSON, CORS."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}


def test_paths_answer_without_trailing_slash_directly(client):
    response = client.get(f"{BASE}/{COMPLETED_ID}", headers=AUTH, follow_redirects=False)
    assert response.status_code == 200 and response.json()["id"] == COMPLETED_ID
    assert client.get(f"{BASE}/summary", headers=AUTH).json()["total_count"] == 4


def test_unknown_path_is_404_json(client):
    response = client.get(f"{BASE}/{COMPLETED_ID}/runs/", headers=AUTH)
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("DELETE", "/", "GET, POST"),
    ("PUT", "/list/", "GET, POST"),
    ("DELETE", "/summary/", "GET, POST"),
    ("POST", f"/{COMPLETED_ID}/", "GET, PUT, DELETE, PATCH"),
])
def test_wrong_method_is_405_with_every_method_of_the_path(client, method, path, allow):
    response = client.request(method, BASE + path, headers=AUTH)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}


def test_options_lists_methods(client):
    response = client.options(f"{BASE}/")
    assert response.status_code == 204 and response.headers["Allow"] == "GET, POST, OPTIONS"


def test_malformed_json_is_400_detail(client):
    response = client.post(f"{BASE}/", content=b'{"name": ', headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_body_that_is_not_utf8_is_400_not_500(client):
    response = client.patch(f"{BASE}/{COMPLETED_ID}/", content=b'{"name": "\xff\xfe"}',
                            headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_body_that_is_not_an_object_is_400(client):
    response = client.patch(f"{BASE}/{COMPLETED_ID}/", json=[1, 2], headers=AUTH)
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_wrong_content_type_is_415(client):
    response = client.post(f"{BASE}/", content=b"name=x", headers={**AUTH, "Content-Type": "text/plain"})
    assert response.status_code == 415 and "application/json" in response.json()["detail"]


def test_oversized_body_is_413(client):
    big = b'{"description": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.patch(f"{BASE}/{COMPLETED_ID}/", content=big,
                            headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413 and "1048576" in response.json()["detail"]


def test_streamed_oversized_body_is_413(client):
    def chunks():
        yield b'{"description": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = client.patch(f"{BASE}/{COMPLETED_ID}/", content=chunks(),
                            headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_missing_body_on_patch_is_400(client):
    response = client.patch(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400 and "detail" in response.json()


def test_cors_preflight_from_a_local_dev_server(client):
    response = client.options(f"{BASE}/{COMPLETED_ID}/", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080"])
def test_cors_preflight_allows_any_header_an_allowed_origin_asks_for(client, origin):
    asked = "authorization,content-type,traceparent,tracestate,baggage,sentry-trace,x-request-id,x-requested-with"
    response = client.options(f"{BASE}/{COMPLETED_ID}/", headers={
        "Origin": origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": asked})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == origin
    assert set(response.headers["access-control-allow-headers"].split(",")) == set(asked.split(","))
    assert "access-control-allow-credentials" not in response.headers


def test_cors_any_header_is_still_refused_to_a_foreign_origin(client):
    response = client.options(f"{BASE}/", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "traceparent"})
    assert response.status_code == 400 and "access-control-allow-origin" not in response.headers


def test_cors_origin_star_allows_every_origin_without_credentials():
    from starlette.testclient import TestClient

    from mock_server.app import build_app

    with TestClient(build_app(cors_origins=["*"]).asgi, base_url="http://localhost:4010") as client:
        preflight = client.options(f"{BASE}/", headers={"Origin": "http://192.168.1.20:5173",
                                                        "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "authorization,traceparent"})
        simple = client.get(f"{BASE}/", headers={"Origin": "https://app.example"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "authorization,traceparent"
    assert simple.status_code == 401 and simple.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in {**preflight.headers, **simple.headers}


def test_cors_headers_on_errors_too(client):
    response = client.get(f"{BASE}/", headers={"Origin": "http://127.0.0.1:3000"})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    assert "WWW-Authenticate" in response.headers["access-control-expose-headers"]


def test_cors_refuses_foreign_origins_by_default(client):
    response = client.options(f"{BASE}/", headers={"Origin": "https://evil.example",
                                                   "Access-Control-Request-Method": "GET"})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_configured_cors_origins_replace_the_default():
    from starlette.testclient import TestClient

    from mock_server.app import build_app

    with TestClient(build_app(cors_origins=["https://app.example"]).asgi, base_url="http://localhost:4010") as client:
        allowed = client.options(f"{BASE}/", headers={"Origin": "https://app.example",
                                                      "Access-Control-Request-Method": "GET"})
        local = client.options(f"{BASE}/", headers={"Origin": "http://localhost:5173",
                                                    "Access-Control-Request-Method": "GET"})
    assert allowed.status_code == 200 and local.status_code == 400


def test_concurrent_patches_never_lose_fields(mock, client):
    fields = {"name": "n", "description": "d", "batch_size": 3, "concurrency": 4,
              "span_workflow_name": "s", "enable_tracing": False, "generation_method": "code"}

    async def run() -> None:
        transport = httpx.ASGITransport(app=mock.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4010") as http:
            rounds = [http.patch(f"{BASE}/{COMPLETED_ID}/", json={k: v}, headers=AUTH)
                      for k, v in fields.items()] * 5
            responses = await asyncio.gather(*rounds)
            assert all(r.status_code == 200 for r in responses)

    asyncio.run(run())
    stored = client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).json()
    assert {k: stored[k] for k in fields} == fields


def test_swagger_ui_is_served(client):
    assert client.get("/api/v2/ui/").status_code == 200
    assert client.get("/api/v2/openapi.json").json()["info"]["title"] == "Experiments API"


@pytest.mark.parametrize("path", ["/list/", "/summary/"])
def test_json_null_body_is_not_taken_for_an_absent_one(client, path):
    response = client.post(BASE + path, content=b"null", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_free_config_is_passed_through_exactly(client):
    """Integers beyond 64 bits are valid JSON: stored and echoed as sent, no 500."""
    body = (b'{"dataset_id": "ds_7a6b5c4d", "evaluator_ids": ["tone"], "workflow": '
            b'[{"type": "wait", "config": {"seconds": 609559449694768332800, "note": "\\ud83d\\ude00"}}]}')
    response = client.post(f"{BASE}/", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.json()["workflow"][0]["config"] == {"seconds": 609559449694768332800, "note": "\U0001f600"}


def test_nan_is_not_json(client):
    response = client.patch(f"{BASE}/{COMPLETED_ID}/", content=b'{"batch_size": NaN}',
                            headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["detail"].startswith("JSON parse error")
