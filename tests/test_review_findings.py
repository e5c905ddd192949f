"""Edges a review of the rebuilt mock found: each answered as documented, logged without a token."""

from __future__ import annotations

import logging

import pytest
import yaml
from conftest import ACME_KEY, BASE, COMPLETED_ID
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mock_server import admin
from mock_server.app import build_app
from mock_server.spec import SPEC_PATH

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
NEW = {"dataset_id": "ds_7a6b5c4d", "workflow": [{"type": "completion", "config": {"model": "gpt-4o"}}],
       "evaluator_ids": ["helpfulness"]}


def _last(client):
    return client.get("/__mock__/requests?limit=1&docs=1").json()[0]  # the docs answers too


def test_a_streamed_body_without_content_type_is_415_and_creates_nothing(client):
    before = client.get(f"{BASE}/summary/", headers=AUTH).json()["total_count"]
    response = client.post(f"{BASE}/", headers=AUTH, content=iter([b'{"dataset_id": "ds_7a6b5c4d", ', b'"x": 1}']))
    assert response.status_code == 415 and "Content-Type" in response.json()["detail"]
    assert client.get(f"{BASE}/summary/", headers=AUTH).json()["total_count"] == before


def test_a_token_a_request_put_anywhere_is_masked_in_the_history_and_the_log(client, caplog):
    with caplog.at_level(logging.WARNING, logger="mock_server.requests"):
        client.post(f"{BASE}/list/?sort_by={ACME_KEY}", headers=AUTH, json={"note": f"my_{ACME_KEY}"})
    entry = _last(client)
    assert entry["status"] == 400 and entry["errors"][0]["field"] == "sort_by"
    assert ACME_KEY not in str(entry) and "***" in entry["errors"][0]["message"]
    assert ACME_KEY not in caplog.text and "***" in caplog.text


def test_a_malformed_preference_is_the_forced_layer_and_the_docs_are_the_docs(client):
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, "Prefer": "delay=abc"}).status_code == 400
    assert _last(client)["layer"] == "forced"
    assert client.get("/api/v2/openapi.json").status_code == 200
    assert _last(client)["layer"] == "docs"


def test_an_announced_oversized_body_is_refused_by_routing_before_credentials(client):
    response = client.patch(f"{BASE}/{COMPLETED_ID}/", headers={"Content-Length": str(2 * 1024 * 1024),
                                                                 "Content-Type": "application/json"}, content=b"{}")
    assert response.status_code == 413
    assert _last(client)["layer"] == "routing"


def test_an_unexpected_error_in_a_control_is_a_json_500(client, monkeypatch):
    def broken(_organizations):
        raise RuntimeError("boom")

    monkeypatch.setattr(admin, "export_world", broken)
    with TestClient(build_app().asgi, base_url="http://127.0.0.1:4010", raise_server_exceptions=False) as fresh:
        response = fresh.get("/__mock__/state")
    assert response.status_code == 500 and response.json() == {"detail": "Internal server error."}


def test_a_websocket_is_refused_before_the_handshake(client):
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(f"{BASE}/"):
        pass
    assert refused.value.code == 1008


def test_a_spec_with_an_operation_anyone_may_call_is_refused_at_start(tmp_path):
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    document["paths"]["/experiments/summary/"]["get"]["security"] = []
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ValueError, match="getExperimentSummary does not require credentials"):
        build_app(spec_path=spec)
