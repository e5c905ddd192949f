"""The running lock: while an experiment runs, what changes how it executes is 409; the rest stays editable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .client import ApiClient, JsonObject, expect, expect_equal, expect_true
from .config import Target
from .session import Run

pytestmark = [pytest.mark.mutating, pytest.mark.assumption("running-lock")]


@pytest.fixture(scope="module")
def running(api: ApiClient, target: Target, run: Run) -> Iterator[JsonObject]:
    """A running experiment: the one named by --running-experiment-id, or (embedded mock) one of this
    run started through the mock's lifecycle control."""
    if target.running_experiment_id:
        response = api.get(target.running_experiment_id)
        expect(response, 200, "the experiment named by --running-experiment-id exists")
        if response.json().get("status") != "running":
            pytest.skip(f"--running-experiment-id {target.running_experiment_id} is "
                        f"{response.json().get('status')!r}, not running")
        yield response.json()
        return
    if not target.embedded:
        pytest.skip("the running-lock tests need a running experiment: --running-experiment-id "
                    "(CONTRACT_RUNNING_EXPERIMENT_ID)")
    created = api.create()
    control = f"{run.gate_url.rsplit('/api/', 1)[0]}/__mock__/experiments/{created['id']}/lifecycle"
    started = api.request("POST", control, json_body={"action": "start"}, authenticated=False)
    assert started.status_code == 200, f"the mock's lifecycle control did not start it: {started.text}"
    yield started.json()


def test_a_locked_field_is_409_naming_it_and_changes_nothing(api: ApiClient, running: JsonObject) -> None:
    if not isinstance(running.get("batch_size"), int):
        pytest.skip("the running experiment does not show its batch_size, so a change to it cannot be checked")
    response = api.patch(running["id"], {"batch_size": running["batch_size"] % 10_000 + 1})
    read = api.get(running["id"])
    expect_equal(read.json().get("batch_size"), running["batch_size"], "a refused change changes nothing", read)
    expect(response, 409, "changing batch_size of a running experiment is 409")
    expect_true("batch_size" in response.text, "the 409 names the locked field", response)


def test_name_and_description_stay_editable(api: ApiClient, running: JsonObject) -> None:
    renamed = f"{running['name'][:200]} (contract check)"
    response = api.patch(running["id"], {"name": renamed, "description": running.get("description")})
    try:
        expect(response, range(200, 300), "name and description of a running experiment stay editable")
        expect_equal(response.json().get("name"), renamed, "the new name is applied", response)
    finally:
        if 200 <= response.status_code < 300:
            api.patch(running["id"], {"name": running["name"]})  # give a designated experiment its name back
