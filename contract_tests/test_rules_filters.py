"""Filter operators, through the filter list and the filtered summary (Django lookup semantics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .client import ApiClient, JsonObject, expect, expect_equal, expect_true

pytestmark = pytest.mark.mutating


@pytest.fixture(scope="module")
def named(api: ApiClient) -> dict[str, JsonObject]:
    """Two experiments of this run whose names differ only in case: `A` and `B`."""
    return {"A": api.create(name=f"{api.prefix} Alpha-Case {api.prefix}"),
            "B": api.create(name=f"{api.prefix} alpha-case {api.prefix}")}


# (label, the condition on `name` built from the two names and the prefix, which of the two match)
NAME_CASES: list[tuple[str, Callable[[dict[str, str], str], JsonObject], set[str]]] = [
    ("equals", lambda n, p: {"operator": "", "value": n["A"]}, {"A"}),
    ("iexact", lambda n, p: {"operator": "iexact", "value": n["A"].upper()}, {"A", "B"}),
    ("contains is case-sensitive", lambda n, p: {"operator": "contains", "value": f"{p} Alpha"}, {"A"}),
    ("icontains is not", lambda n, p: {"operator": "icontains", "value": f"{p} ALPHA"}, {"A", "B"}),
    ("startswith is case-sensitive", lambda n, p: {"operator": "startswith", "value": f"{p} alpha"}, {"B"}),
    ("endswith is case-sensitive", lambda n, p: {"operator": "endswith", "value": f"Case {p}"}, {"A"}),
    ("in", lambda n, p: {"operator": "in", "value": [n["A"], n["B"], f"{p} neither"]}, {"A", "B"}),
]


@pytest.mark.parametrize(("label", "condition", "matching"), NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_name_filters_through_the_list(api: ApiClient, named: JsonObject, label: str, condition: Callable[..., Any],
                                       matching: set[str]) -> None:
    names = {key: e["name"] for key, e in named.items()}
    response = api.request("POST", "/experiments/list/?page_size=100",
                           json_body={"filters": {"name": condition(names, api.prefix)}})
    expect(response, 200, f"the filter list answers ({label})")
    found = {e["id"] for e in response.json()["results"]}
    expect_equal(sorted(found), sorted(named[k]["id"] for k in matching),
                 f"filter name {label}: exactly the matching experiments", response)


@pytest.mark.parametrize(("label", "condition", "matching"), NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_name_filters_through_the_summary(api: ApiClient, named: JsonObject, label: str, condition: Callable[..., Any],
                                          matching: set[str]) -> None:
    names = {key: e["name"] for key, e in named.items()}
    response = api.request("POST", "/experiments/summary/",
                           json_body={"filters": {"name": condition(names, api.prefix)}})
    expect(response, 200, f"the filtered summary answers ({label})")
    expect_equal(response.json().get("total_count"), len(matching), f"summary of name {label} counts the matches",
                 response)


@pytest.mark.parametrize("endpoint", ["/experiments/list/", "/experiments/summary/"])
def test_isnull_false_matches_everything(api: ApiClient, named: JsonObject, endpoint: str) -> None:
    total = api.request("GET", "/experiments/summary/").json()["total_count"]
    response = api.request("POST", endpoint, json_body={"filters": {"name": {"operator": "isnull", "value": False}}})
    expect(response, 200, "isnull answers")
    counted = response.json().get("count", response.json().get("total_count"))
    expect_equal(counted, total, "name isnull false matches every experiment", response)


@pytest.mark.parametrize(("operator", "included"), [("gte", True), ("lt", False)])
def test_created_at_comparisons(api: ApiClient, named: JsonObject, operator: str, included: bool) -> None:
    newest = named["B"]
    response = api.request("POST", "/experiments/list/?page_size=100&sort_by=-created_at", json_body={
        "filters": {"created_at": {"operator": operator, "value": newest["created_at"]}}})
    expect(response, 200, f"created_at {operator} answers")
    shown = newest["id"] in {e["id"] for e in response.json()["results"]}
    expect_true(shown == included, f"created_at {operator} its own created_at {'includes' if included else 'excludes'} "
                                   "the experiment", response)
