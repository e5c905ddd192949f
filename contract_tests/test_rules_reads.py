"""Read-only rules: lists, counts, unknown experiments."""

from __future__ import annotations

from .client import ApiClient, expect, expect_equal, expect_true


def test_unknown_experiment_is_404(api: ApiClient) -> None:
    response = api.get(f"{api.prefix}-never-created")
    expect(response, 404, "an unknown experiment is 404")
    expect_true(isinstance(response.json().get("detail"), str), "a 404 carries a detail", response,
                assumption="error-bodies")


def test_summary_counts_what_the_filter_counts(api: ApiClient) -> None:
    summary = api.request("GET", "/experiments/summary/")
    filtered = api.request("POST", "/experiments/list/?page_size=1", json_body={})
    expect(summary, 200, "summary answers")
    expect(filtered, 200, "filter answers")
    expect_equal(summary.json()["total_count"], filtered.json()["count"],
                 "GET summary's total_count equals the unfiltered filter count", summary)


def test_pages_do_not_overlap(api: ApiClient) -> None:
    first = api.request("GET", "/experiments/?page=1&page_size=2")
    second = api.request("GET", "/experiments/?page=2&page_size=2")
    expect(first, 200, "list answers")
    if second.status_code == 404 and len(first.json()) < 2:
        return  # one page only: a past-the-end page is the page-past-end-empty assumption's business
    expect(second, 200, "the second page answers")
    ids = [e["id"] for e in first.json()], [e["id"] for e in second.json()]
    expect_true(not set(ids[0]) & set(ids[1]), "pages 1 and 2 do not overlap", second, detail=str(ids))


def test_a_page_past_the_end_is_empty(api: ApiClient) -> None:
    response = api.request("GET", "/experiments/?page=1000000&page_size=100")
    expect(response, 200, "a page past the last one answers 200", assumption="page-past-end-empty")
    expect_equal(response.json(), [], "a page past the last one is empty", response, assumption="page-past-end-empty")
