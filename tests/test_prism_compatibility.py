"""Prism habits: `__code`, `__example`, `__delay` query parameters act like `Prefer`; `dynamic` is refused."""

from __future__ import annotations

import time

import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID

from mock_server.overrides import take_query_preferences

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
ITEM = f"{BASE}/{COMPLETED_ID}/"
NEW = {"dataset_id": "ds_7a6b5c4d", "workflow": [{"type": "completion", "config": {"model": "gpt-4o"}}],
       "evaluator_ids": ["helpfulness"]}
# a valid request of every operation
VALID = {
    "listExperiments": ("GET", f"{BASE}/", None),
    "createExperiment": ("POST", f"{BASE}/", NEW),
    "listExperimentsPage": ("GET", f"{BASE}/list/", None),
    "filterExperiments": ("POST", f"{BASE}/list/", {}),
    "getExperimentSummary": ("GET", f"{BASE}/summary/", None),
    "summarizeFilteredExperiments": ("POST", f"{BASE}/summary/", {}),
    "getExperiment": ("GET", ITEM, None),
    "replaceExperiment": ("PUT", ITEM, {"name": "Replaced"}),
    "updateExperiment": ("PATCH", ITEM, {"name": "Renamed"}),
    "deleteExperiment": ("DELETE", ITEM, None),
}


def test_every_operation_is_listed(mock):
    assert set(VALID) == set(mock.contract.operations())


@pytest.mark.parametrize("operation_id", sorted(VALID))
def test_query_code_is_never_an_unknown_parameter_and_answers_like_prefer(client, operation_id):
    method, path, body = VALID[operation_id]
    by_query = client.request(method, path + "?__code=401", json=body, headers=AUTH)
    by_header = client.request(method, path, json=body, headers={**AUTH, "Prefer": "code=401"})
    assert by_query.status_code == by_header.status_code == 401
    assert by_query.json() == by_header.json() == {"detail": "Authentication credentials were not provided."}
    assert by_query.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(ITEM, headers=AUTH).json()["name"] not in ("Replaced", "Renamed")  # nothing changed


def test_query_code_and_example_pick_a_named_example(client):
    response = client.post(f"{BASE}/?__code=400&__example=bothScoringPaths", json=NEW, headers=AUTH)
    assert response.status_code == 400 and list(response.json()) == ["non_field_errors"]
    assert client.get(f"{BASE}/summary/", headers=AUTH).json() == {"total_count": 4}


def test_query_example_alone_picks_a_success_example(client):
    response = client.get(f"{ITEM}?__example=running", headers=AUTH)
    assert response.status_code == 200 and response.json()["status"] == "running"


def test_query_delay_delays_the_answer(client):
    started = time.perf_counter()
    assert client.get(f"{ITEM}?__delay=300", headers=AUTH).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_the_query_form_wins_over_the_header(client):
    response = client.get(f"{ITEM}?__code=404", headers={**AUTH, "Prefer": "code=401"})
    assert response.status_code == 404


@pytest.mark.parametrize(("query", "field"), [("__code=999", "__code"), ("__delay=-1", "__delay"),
                                              ("__code=404&__example=nope", "__example")])
def test_a_bad_query_preference_is_400_naming_the_parameter(client, query, field):
    response = client.get(f"{ITEM}?{query}", headers=AUTH)
    assert response.status_code == 400 and list(response.json()) == [field]


def test_forced_answers_by_query_only_after_authentication_and_validation(client):
    started = time.perf_counter()
    assert client.get(f"{ITEM}?__code=200&__delay=30000").status_code == 401
    response = client.patch(f"{ITEM}?__code=200&__delay=30000", json={"batch_size": 0}, headers=AUTH)
    assert response.status_code == 400 and list(response.json()) == ["batch_size"]
    assert time.perf_counter() - started < 1


def test_other_query_parameters_are_still_checked_and_kept(client):
    assert client.get(f"{BASE}/?__nope=1&__code=200", headers=AUTH).json() == {"__nope": ["Unknown query parameter."]}
    assert client.get(f"{BASE}/?page_size=101&__code=200", headers=AUTH).status_code == 400
    page = client.post(f"{BASE}/list/?__delay=0&page_size=1&sort_by=name", json={}, headers=AUTH).json()
    assert len(page["results"]) == 1 and "__delay" not in page["next"] and "page_size=1" in page["next"]


@pytest.mark.parametrize(("headers", "query", "field"), [
    ({"Prefer": "dynamic=true"}, "", "Prefer"),
    ({"Prefer": "code=200, dynamic=false"}, "", "Prefer"),
    ({}, "?__dynamic=true", "__dynamic"),
])
def test_dynamic_is_a_clear_400_saying_the_mock_serves_state(client, headers, query, field):
    response = client.get(ITEM + query, headers={**AUTH, **headers})
    assert response.status_code == 400 and list(response.json()) == [field]
    assert "serves state" in response.json()[field][0] and "not randomly generated data" in response.json()[field][0]
    assert client.get(ITEM + query, headers=headers).status_code == 401


def test_take_query_preferences_keeps_the_other_parameters_byte_for_byte():
    query, taken = take_query_preferences(b"page=2&%5F%5Fcode=404&name=a%20b+c&__example=x%2Cy&__delay=")
    assert query == b"page=2&name=a%20b+c"
    assert taken == {"code": "404", "example": "x,y", "delay": ""}
    assert take_query_preferences(b"%5f%5Fcode=404") == (b"", {"code": "404"})
    untouched = b"page=2&__other=1"
    assert take_query_preferences(untouched) == (untouched, {})
