"""HTTP tests of the list, filter and summary operations."""

from __future__ import annotations

import pytest
from conftest import COMPLETED_ID, RUNNING_ID


def test_list_is_a_bare_array_newest_first(acme):
    items = acme.get("/").json()
    assert isinstance(items, list) and len(items) == 4
    created = [item["created_at"] for item in items]
    assert created == sorted(created, reverse=True)
    assert "workflow" not in items[0] and "evaluator_ids" not in items[0]


def test_list_only_shows_the_callers_organization(acme, globex):
    assert {e["id"] for e in globex.get("/").json()} == {"exp_globex_01", "exp_globex_02"}
    assert "exp_globex_01" not in {e["id"] for e in acme.get("/").json()}


def test_list_pagination(acme):
    first = acme.get("/?page=1&page_size=3").json()
    second = acme.get("/?page=2&page_size=3").json()
    assert len(first) == 3 and len(second) == 1
    assert {e["id"] for e in first}.isdisjoint(e["id"] for e in second)
    assert acme.get("/?page=9&page_size=3").json() == []


@pytest.mark.parametrize(("query", "field"), [
    ("page=0", "page"), ("page_size=101", "page_size"), ("page_size=abc", "page_size"), ("sort=name", "sort"),
])
def test_bad_query_parameters_are_400_naming_them(acme, query, field):
    response = acme.get(f"/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_created_experiment_shows_in_list_and_filter(acme):
    created = acme.create(name="Findable one")
    assert created["id"] in [e["id"] for e in acme.get("/").json()]
    found = acme.post("/list/", {"filters": {"name": {"operator": "", "value": "Findable one"}}}).json()
    assert [e["id"] for e in found["results"]] == [created["id"]]


def test_filter_envelope_with_links(acme):
    response = acme.post("/list/?page_size=1&page=2", {"filters": {"name": {"operator": "icontains",
                                                                            "value": "CHECKOUT"}}})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and len(body["results"]) == 1
    assert body["next"] is None
    assert body["previous"].startswith("http://127.0.0.1:4010/api/v2/experiments/list/")
    assert "page=1" in body["previous"] and "page_size=1" in body["previous"]
    assert body["current_filters"] == {"name": {"operator": "icontains", "value": "CHECKOUT"}}


def test_filter_next_link_and_following_it(acme):
    body = acme.post("/list/?page_size=2", {}).json()
    assert body["count"] == 4 and body["previous"] is None
    follow = acme.client.post(body["next"], json={}, headers=acme.headers).json()
    assert len(follow["results"]) == 2
    assert {e["id"] for e in follow["results"]}.isdisjoint(e["id"] for e in body["results"])


def test_filter_without_body_lists_everything(acme):
    response = acme.request("POST", "/list/")
    assert response.status_code == 200 and response.json()["count"] == 4


@pytest.mark.parametrize("path", ["/list/", "/summary/"])
def test_an_optional_body_may_be_absent_but_whitespace_is_not_json(acme, path):
    json_headers = {"Content-Type": "application/json"}
    assert acme.request("POST", path, headers=json_headers, content=b"").status_code == 200
    response = acme.request("POST", path, headers=json_headers, content=b" \n ")
    assert response.status_code == 400 and response.json()["detail"].startswith("JSON parse error")


def test_filter_exporting_returns_all_in_one_page(acme):
    body = acme.post("/list/?page_size=1", {"is_exporting": True}).json()
    assert len(body["results"]) == 4 and body["next"] is None and body["previous"] is None


@pytest.mark.parametrize(("sort_by", "first"), [("name", "Checkout assistant tone check"),
                                                ("-name", "Support answers, GPT-4o vs rubric"),
                                                ("created_at", COMPLETED_ID),
                                                ("-created_at", "0b5e7d2c9a1f4e6b8c3d2a1f0e9d8c7b")])
def test_filter_sorting(acme, sort_by, first):
    result = acme.post(f"/list/?sort_by={sort_by}", {}).json()["results"][0]
    assert first in (result["name"], result["id"])


def test_filter_by_status_and_created_at(acme):
    body = acme.post("/list/", {"filters": {"status": {"operator": "in", "value": ["running", "failed"]},
                                            "created_at": {"operator": "gte",
                                                           "value": "2026-11-19T00:00:00Z"}}}).json()
    assert [e["id"] for e in body["results"]] == [RUNNING_ID]


@pytest.mark.parametrize(("filters", "field"), [
    ({"owner": {"operator": "", "value": "x"}}, "filters.owner"),
    ({"name": {"operator": "like", "value": "x"}}, "filters.name.operator"),
    ({"name": {"operator": "in", "value": "x"}}, "filters.name"),
    ({"created_at": {"operator": "lt", "value": "yesterday"}}, "filters.created_at.value"),
])
def test_bad_filters_are_400_naming_the_field(acme, filters, field):
    response = acme.post("/list/", {"filters": filters})
    assert response.status_code == 400
    assert field in response.json()


def test_summary_counts(acme, globex):
    assert acme.get("/summary/").json() == {"total_count": 4}
    assert globex.get("/summary/").json() == {"total_count": 2}
    failed = acme.post("/summary/", {"filters": {"status": {"operator": "", "value": "failed"}}}).json()
    assert failed == {"total_count": 1}
    assert acme.request("POST", "/summary/").json() == {"total_count": 4}
