"""Ids never change; a deleted experiment is gone everywhere."""

from __future__ import annotations

import pytest

from .client import SUCCESS, ApiClient, JsonObject, expect, expect_equal, expect_true

pytestmark = pytest.mark.mutating


@pytest.mark.assumption("patch-body-id-matches-path")
def test_patch_with_another_experiment_id_is_400_and_ids_never_change(api: ApiClient, experiment: JsonObject) -> None:
    other = f"{api.prefix}-other-id"
    response = api.patch(experiment["id"], {"experiment_id": other, "name": f"{api.prefix} moved"})
    expect(api.get(other), 404, "no experiment appeared under the other id")
    expect(api.get(experiment["id"]), 200, "the experiment keeps its id")
    expect(response, 400, "experiment_id in a PATCH body must equal the path id")
    expect_true("experiment_id" in response.json(), "the 400 body names experiment_id", response,
                assumption="error-bodies")


@pytest.mark.assumption("patch-body-id-matches-path")
def test_patch_repeating_its_own_id_is_accepted(api: ApiClient, experiment: JsonObject) -> None:
    response = api.patch(experiment["id"], {"experiment_id": experiment["id"]})
    expect(response, SUCCESS, "repeating the experiment's own id is allowed")
    expect_equal(response.json().get("id"), experiment["id"], "ids never change", response)


def test_client_chosen_id_is_used(api: ApiClient) -> None:
    chosen = f"{api.prefix}-chosen"
    created = api.create(experiment_id=chosen)
    expect_equal(created.get("id"), chosen, "a client-chosen experiment_id is the id", api.get(chosen))


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_deleted_experiment_is_404_everywhere(api: ApiClient, method: str) -> None:
    created = api.create()
    deleted = api.request("DELETE", f"/experiments/{created['id']}/")
    expect(deleted, SUCCESS, "DELETE succeeds")
    with api.noting():
        expect(deleted, 204, "DELETE answers 204 (no body)", assumption="success-statuses")
    body = {"name": f"{api.prefix} ghost"} if method in ("PATCH", "PUT") else None
    response = api.request(method, f"/experiments/{created['id']}/", json_body=body)
    expect(response, 404, f"a deleted experiment is 404 for {method}")
