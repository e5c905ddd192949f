"""Forced answers (Prefer code/example/delay, injected faults, --latency) only for authenticated, valid requests."""

from __future__ import annotations

import time

import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID
from starlette.testclient import TestClient

from mock_server.app import build_app
from mock_server.overrides import Latency, parse_prefer

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
ITEM = f"{BASE}/{COMPLETED_ID}/"


@pytest.mark.parametrize("prefer", ["code=200", "code=200, example=updated", "code=404", "delay=30000"])
def test_without_credentials_prefer_is_not_looked_at(client, prefer):
    started = time.perf_counter()
    response = client.patch(ITEM, json={"name": "x"}, headers={"Prefer": prefer})
    assert response.status_code == 401 and time.perf_counter() - started < 1
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("prefer", ["code=200", "code=409", "delay=30000"])
def test_an_invalid_request_is_400_at_once_whatever_prefer_asks(client, prefer):
    started = time.perf_counter()
    response = client.patch(ITEM, json={"batch_size": 0}, headers={**AUTH, "Prefer": prefer})
    assert response.status_code == 400 and time.perf_counter() - started < 1
    assert response.json() == {"batch_size": ["Ensure this value is greater than or equal to 1."]}


def test_a_fault_is_not_spent_on_a_request_that_fails_auth_or_validation(client):
    client.post("/__mock__/faults", json={"operation_id": "updateExperiment", "status": 503, "count": 1})
    assert client.patch(ITEM, json={"name": "x"}).status_code == 401
    assert client.patch(ITEM, json={"batch_size": 0}, headers=AUTH).status_code == 400
    assert client.patch(ITEM, json={"name": "x"}, headers=AUTH).status_code == 503
    assert client.patch(ITEM, json={"name": "x"}, headers=AUTH).status_code == 200


def test_latency_applies_to_answers_that_reach_the_handler_only():
    with TestClient(build_app(latency=Latency(400, 400)).asgi, base_url="http://127.0.0.1:4010") as client:
        started = time.perf_counter()
        assert client.get(ITEM).status_code == 401
        assert client.get(ITEM, params={"nope": "1"}, headers=AUTH).status_code == 400
        assert time.perf_counter() - started < 0.4
        started = time.perf_counter()
        assert client.get(ITEM, headers=AUTH).status_code == 200
        assert time.perf_counter() - started >= 0.4


def test_a_valid_authenticated_request_gets_the_forced_answer(client):
    response = client.patch(ITEM, json={"name": "x"}, headers={**AUTH, "Prefer": "code=409"})
    assert response.status_code == 409 and "running" in response.json()["detail"]
    assert client.get(ITEM, headers=AUTH).json()["name"] != "x"


def test_a_malformed_prefer_is_400_naming_it_after_authentication(client):
    assert client.get(ITEM, headers={"Prefer": "delay=-5"}).status_code == 401
    response = client.get(ITEM, headers={**AUTH, "Prefer": "delay=-5"})
    assert response.status_code == 400 and list(response.json()) == ["Prefer"]


@pytest.mark.parametrize(("text", "parsed"), [
    ('code=404, example="notFound"; delay=10', {"code": "404", "example": "notFound", "delay": "10"}),
    ('Code=404, x y=1, a="b"c, d=, e', {"d": ""}),
    (' code = "500" ', {"code": "500"}),
    ('a="' + " " * 100_000 + '"x', {}),
])
def test_parse_prefer_reads_items_in_one_pass(text, parsed):
    started = time.perf_counter()
    assert parse_prefer(text) == parsed
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize("forced", [{"headers": {"Prefer": "code=404"}}, {"params": {"__code": "404"}}])
def test_a_forced_404_names_the_requested_id(client, forced):
    response = client.get(f"{BASE}/exp_asked_for/", headers={**AUTH, **forced.get("headers", {})},
                          params=forced.get("params"))
    assert response.status_code == 404
    assert response.json() == {"detail": "No experiment 'exp_asked_for' in this organization."}
