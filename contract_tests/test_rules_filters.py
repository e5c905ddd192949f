"""Filter operators, through the filter list and the filtered summary.

Documented: the filter format and its operators, and that `name` can be filtered. Our choices, each
under its id: that `contains`/`startswith`/`endswith`/equals are case-sensitive and the `i…` forms are
not (`filter-case-sensitivity`, as in Django), and the value types (`filter-value-types`: `in` takes a
list, `isnull` a boolean, `created_at` a date-time). Three experiments of this run make the difference:
`A` and `B` have names that differ only in case, `C` one that matches none of the conditions. So the
documented part (the experiment whose name matches as written is found, `C` never is) holds whatever the
deployment does with case, and only the case part rests on the assumption."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .client import ApiClient, JsonObject, expect_equal, expect_true

pytestmark = pytest.mark.mutating


@pytest.fixture(scope="module")
def named(api: ApiClient) -> dict[str, JsonObject]:
    """Three experiments of this run: `A` and `B` named alike but for case, `C` otherwise."""
    return {"A": api.create(name=f"{api.prefix} Alpha-Case {api.prefix}"),
            "B": api.create(name=f"{api.prefix} alpha-case {api.prefix}"),
            "C": api.create(name=f"{api.prefix} Beta-Other {api.prefix}")}


# (label, the condition on `name` built from the names and the prefix, the experiments it must find whatever
# the case handling (documented), the ones it finds under our case rules, the assumption those rest on)
NAME_CASES: list[tuple[str, Callable[[dict[str, str], str], JsonObject], set[str], set[str], str]] = [
    ("equals", lambda n, p: {"operator": "", "value": n["A"]}, {"A"}, {"A"}, "filter-case-sensitivity"),
    ("iexact", lambda n, p: {"operator": "iexact", "value": n["B"]}, {"B"}, {"A", "B"}, "filter-case-sensitivity"),
    ("contains is case-sensitive", lambda n, p: {"operator": "contains", "value": f"{p} Alpha"}, {"A"}, {"A"},
     "filter-case-sensitivity"),
    ("icontains is not", lambda n, p: {"operator": "icontains", "value": f"{p} alpha"}, {"B"}, {"A", "B"},
     "filter-case-sensitivity"),
    ("startswith is case-sensitive", lambda n, p: {"operator": "startswith", "value": f"{p} alpha"}, {"B"}, {"B"},
     "filter-case-sensitivity"),
    ("endswith is case-sensitive", lambda n, p: {"operator": "endswith", "value": f"Case {p}"}, {"A"}, {"A"},
     "filter-case-sensitivity"),
    ("in", lambda n, p: {"operator": "in", "value": [n["A"], n["B"], f"{p} neither"]}, {"A", "B"}, {"A", "B"},
     "filter-value-types"),
]
IDS = [c[0] for c in NAME_CASES]


def _marks(assumption: str) -> Any:
    """`in` with a list is our reading of the value types: that whole case rests on it."""
    return pytest.mark.assumption(assumption) if assumption == "filter-value-types" else []


@pytest.mark.parametrize(("label", "condition", "must", "exactly", "assumption"),
                         [pytest.param(*c, marks=_marks(c[4]), id=c[0]) for c in NAME_CASES])
def test_name_filters_through_the_list(api: ApiClient, named: dict[str, JsonObject], label: str,
                                       condition: Callable[..., Any], must: set[str], exactly: set[str],
                                       assumption: str) -> None:
    names = {key: e["name"] for key, e in named.items()}
    response = api.request("POST", "/experiments/list/?page_size=100",
                           json_body={"filters": {"name": condition(names, api.prefix)}})
    api.ok(response, f"the filter list answers ({label})")
    ours = {e["id"]: key for key, e in named.items()}
    found = sorted(ours[e.get("id")] for e in response.json().get("results", []) if e.get("id") in ours)
    expect_true(must <= set(found) and "C" not in found,
                f"filter name {label}: finds {sorted(must)}, which match as written, and never C", response,
                detail=f"found (of A, B, C): {found}")
    expect_equal(found, sorted(exactly), f"filter name {label}: exactly {sorted(exactly)}", response,
                 assumption=assumption)


@pytest.mark.parametrize(("label", "condition", "must", "exactly", "assumption"),
                         [pytest.param(*c, marks=_marks(c[4]), id=c[0]) for c in NAME_CASES])
def test_name_filters_through_the_summary(api: ApiClient, named: dict[str, JsonObject], label: str,
                                          condition: Callable[..., Any], must: set[str], exactly: set[str],
                                          assumption: str) -> None:
    names = {key: e["name"] for key, e in named.items()}
    response = api.request("POST", "/experiments/summary/",
                           json_body={"filters": {"name": condition(names, api.prefix)}})
    api.ok(response, f"the filtered summary answers ({label})")
    counted = response.json().get("total_count")
    expect_true(isinstance(counted, int) and len(must) <= counted <= 2,
                f"summary of name {label} counts what matches as written, and never C", response,
                detail=f"total_count {counted!r}; at least {len(must)}, at most 2")
    expect_equal(counted, len(exactly), f"summary of name {label} counts {len(exactly)}", response,
                 assumption=assumption)


@pytest.mark.assumption("filter-value-types")
@pytest.mark.parametrize("endpoint", ["/experiments/list/", "/experiments/summary/"])
def test_isnull_false_matches_everything(api: ApiClient, named: JsonObject, endpoint: str) -> None:
    total = api.request("GET", "/experiments/summary/").json().get("total_count")
    response = api.request("POST", endpoint, json_body={"filters": {"name": {"operator": "isnull", "value": False}}})
    api.ok(response, "isnull answers")
    counted = response.json().get("count", response.json().get("total_count"))
    expect_equal(counted, total, "name isnull false matches every experiment", response)


@pytest.mark.assumption("filter-value-types")  # created_at is no documented filter field, nor its value type
@pytest.mark.parametrize(("operator", "included"), [("gte", True), ("lt", False)])
def test_created_at_comparisons(api: ApiClient, named: JsonObject, operator: str, included: bool) -> None:
    newest = named["C"]
    response = api.request("POST", "/experiments/list/?page_size=100&sort_by=-created_at", json_body={
        "filters": {"created_at": {"operator": operator, "value": newest["created_at"]}}})
    api.ok(response, f"created_at {operator} answers")
    shown = newest["id"] in {e.get("id") for e in response.json().get("results", [])}
    expect_true(shown == included, f"created_at {operator} its own created_at {'includes' if included else 'excludes'} "
                                   "the experiment", response)
