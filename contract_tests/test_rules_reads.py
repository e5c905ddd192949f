"""Read-only rules: lists, counts, unknown experiments."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from .client import ApiClient, expect, expect_equal, expect_true
from .config import Target


def test_unknown_experiment_is_404(api: ApiClient) -> None:
    response = api.get(f"{api.prefix}-never-created")
    expect(response, 404, "an unknown experiment is 404")
    expect_true(isinstance(response.json().get("detail"), str), "a 404 carries a detail", response,
                assumption="error-bodies")


def test_summary_counts_what_the_filter_counts(api: ApiClient) -> None:
    summary = api.request("GET", "/experiments/summary/")
    filtered = api.request("POST", "/experiments/list/?page_size=1", json_body={})
    api.ok(summary, "summary answers")
    api.ok(filtered, "filter answers")
    expect_equal(summary.json().get("total_count"), filtered.json().get("count"),
                 "GET summary's total_count equals the unfiltered filter count", summary)


def test_pages_do_not_overlap(api: ApiClient, target: Target) -> None:
    """Needs more than two experiments: a run that may write creates what is missing; a --read-only run
    on a smaller deployment skips, saying so."""
    total = api.request("GET", "/experiments/summary/").json().get("total_count")
    if isinstance(total, int) and total < 3:
        if target.read_only:
            pytest.skip(f"pages of 2 need more than 2 experiments; the deployment has {total} and a --read-only "
                        "run creates none")
        for _ in range(3 - total):
            api.create()
    first = api.request("GET", "/experiments/?page=1&page_size=2")
    second = api.request("GET", "/experiments/?page=2&page_size=2")
    api.ok(first, "list answers")
    api.ok(second, "the second page answers")
    ids = [e.get("id") for e in first.json()], [e.get("id") for e in second.json()]
    expect_true(bool(ids[1]), "the second page of more than 2 experiments is not empty", second, detail=str(ids))
    expect_true(not set(ids[0]) & set(ids[1]), "pages 1 and 2 do not overlap", second, detail=str(ids))


def test_a_page_past_the_end_is_empty(api: ApiClient) -> None:
    response = api.request("GET", "/experiments/?page=1000000&page_size=100")
    expect(response, 200, "a page past the last one answers 200", assumption="page-past-end-empty")
    expect_equal(response.json(), [], "a page past the last one is empty", response, assumption="page-past-end-empty")


MAX_PAGE = 100  # the documented page_size bound


@pytest.mark.parametrize(("method", "path"), [("GET", "/experiments/"), ("POST", "/experiments/list/")])
def test_a_page_never_holds_more_than_100(api: ApiClient, target: Target, method: str, path: str) -> None:
    """page_size is documented as 1-100: asked for more, a deployment may refuse or clamp, never answer more
    than 100. Needs more than 100 experiments: a run that may write creates what is missing; a --read-only
    run on a smaller deployment skips, saying so."""
    total = api.request("GET", "/experiments/summary/").json().get("total_count")
    if isinstance(total, int) and total <= MAX_PAGE:
        if target.read_only:
            pytest.skip(f"a page of more than {MAX_PAGE} needs more than {MAX_PAGE} experiments; the deployment "
                        f"has {total} and a --read-only run creates none")
        for _ in range(MAX_PAGE + 1 - total):
            api.create()
    response = api.request(method, f"{path}?page_size={MAX_PAGE + 1}", json_body={} if method == "POST" else None)
    if not 200 <= response.status_code < 300:
        return  # refused: how is `paging-rejected-out-of-range`'s business (Schemathesis' coverage phase)
    page = response.json()
    items = page if isinstance(page, list) else page.get("results") if isinstance(page, dict) else None
    expect_true(isinstance(items, list) and len(items) <= MAX_PAGE,
                f"a page holds at most {MAX_PAGE} experiments (page_size is 1-{MAX_PAGE})", response,
                detail=f"{len(items) if isinstance(items, list) else 'no list of'} experiments on the page")


def test_the_filtered_list_is_newest_first_by_default(api: ApiClient, target: Target) -> None:
    """`sort_by` defaults to `-created_at` (documented): without it, a page of the filter endpoint is in
    descending order of creation. Needs two experiments created at different times: a run that may write
    creates them; a --read-only run on a smaller deployment skips, saying so."""
    response = api.request("POST", "/experiments/list/?page_size=100", json_body={})
    api.ok(response, "the filter answers")
    stamps = [item.get("created_at") for item in response.json().get("results") or [] if isinstance(item, dict)]
    if len(set(stamps)) < 2:
        if target.read_only:
            pytest.skip("the default order needs two experiments created at different times; the deployment "
                        "has fewer and a --read-only run creates none")
        api.create()
        time.sleep(1.1)  # created_at may have a resolution of one second
        api.create()
        response = api.request("POST", "/experiments/list/?page_size=100", json_body={})
        stamps = [item.get("created_at") for item in response.json().get("results") or [] if isinstance(item, dict)]
    times = [_instant(stamp) for stamp in stamps]
    expect_true(all(a >= b for a, b in zip(times, times[1:], strict=False)),
                "without sort_by, the filter lists newest first (sort_by defaults to -created_at)", response,
                detail=f"created_at in the order answered: {stamps[:10]}")


def _instant(stamp: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)  # not a date-time: the schema checks say so
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
