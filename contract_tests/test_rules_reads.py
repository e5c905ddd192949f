"""Read-only rules: lists, counts, unknown experiments."""

from __future__ import annotations

from .client import ApiClient, expect, expect_equal


def test_unknown_experiment_is_404(api: ApiClient) -> None:
    response = api.get(f"{api.ledger.prefix}-never-created")
    expect(response, 404, "an unknown experiment is 404", api.target)
    assert isinstance(response.json().get("detail"), str), f"404 carries a detail: {response.text}"


def test_summary_counts_what_the_filter_counts(api: ApiClient) -> None:
    summary = api.request("GET", "/experiments/summary/")
    filtered = api.request("POST", "/experiments/list/?page_size=1", json_body={})
    expect(summary, 200, "summary answers", api.target)
    expect(filtered, 200, "filter answers", api.target)
    expect_equal(summary.json()["total_count"], filtered.json()["count"],
                 "GET summary's total_count equals the unfiltered filter count", summary, api.target)


def test_pages_do_not_overlap(api: ApiClient) -> None:
    first = api.request("GET", "/experiments/?page=1&page_size=2")
    second = api.request("GET", "/experiments/?page=2&page_size=2")
    expect(first, 200, "list answers", api.target)
    expect(second, 200, "list answers", api.target)
    ids = [e["id"] for e in first.json()], [e["id"] for e in second.json()]
    assert not set(ids[0]) & set(ids[1]), f"pages 1 and 2 overlap: {ids}"
