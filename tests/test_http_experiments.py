"""HTTP tests of create, read, replace, update and delete through the app: what only the mock's own tests
check (exact error bodies, the seeded world, several fields at once). A rule the contract suite's rule
tests already assert with the same request (contract_tests/test_rules_*.py, run against this mock in the
same `make test`) is tested there only."""

from __future__ import annotations

import re

import pytest
from conftest import COMPLETED_ID, RUNNING_ID

WORKFLOW = [{"type": "completion", "config": {"model": "gpt-4o"}}]


# -- create -------------------------------------------------------------------------------------

def test_create_returns_pending_experiment_with_generated_id_and_defaults(acme):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": ["tone"]})
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert body["name"] == f"experiment-{body['id'][:8]}"
    assert (body["status"], body["progress"]) == ("pending", 0)
    assert (body["span_workflow_name"], body["enable_tracing"], body["batch_size"], body["concurrency"]) == \
        ("workflow", True, 100, 15)
    assert body["dataset_name"] == "Support golden set" and body["workflow_count"] == 1
    assert acme.get(f"/{body['id']}/").json() == body


def test_create_uses_client_experiment_id(acme):
    body = acme.create(experiment_id="my-run_01")
    assert body["id"] == "my-run_01"
    assert acme.get("/my-run_01/").status_code == 200


def test_create_with_duplicate_id_is_400_and_changes_nothing(acme):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": ["tone"],
                               "experiment_id": COMPLETED_ID, "name": "imposter"})
    assert response.status_code == 400
    assert list(response.json()) == ["experiment_id"]
    assert acme.get(f"/{COMPLETED_ID}/").json()["name"] != "imposter"


def test_another_organizations_id_is_no_collision(globex):
    assert globex.post("/", {"dataset_id": "ds_c01d7f42", "workflow": WORKFLOW,
                             "evaluator_ids": ["citation-check"], "experiment_id": COMPLETED_ID}).status_code == 201


@pytest.mark.parametrize("missing", ["dataset_id", "workflow"])
def test_create_requires_dataset_and_workflow(acme, missing):
    body = {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": ["tone"]}
    del body[missing]
    response = acme.post("/", body)
    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


def test_create_requires_a_scoring_path(acme):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": []})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_create_with_both_scoring_paths_is_400(acme):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": ["tone"],
                               "evaluator_workflow_ids": ["ewv_3c2b1a09"]})
    assert response.status_code == 400
    assert "mutually exclusive" in response.json()["non_field_errors"][0]


def test_ids_win_over_slugs_and_slugs_are_not_even_looked_up(acme):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW,
                               "evaluator_ids": ["tone"], "evaluator_slugs": ["does-not-exist"]})
    assert response.status_code == 201
    assert response.json()["evaluator_slugs"] == ["tone"]


@pytest.mark.parametrize(("field", "value", "named"), [
    ("dataset_id", "ds_missing", "Dataset 'ds_missing'"),
    ("evaluator_ids", ["helpfulness", "ghost"], "Evaluator 'ghost'"),
])
def test_unknown_references_are_404_naming_the_id(acme, field, value, named):
    body = {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": ["tone"], field: value}
    response = acme.post("/", body)
    assert response.status_code == 404
    assert named in response.json()["detail"]


def test_another_organizations_dataset_is_unknown(acme):
    response = acme.post("/", {"dataset_id": "ds_c01d7f42", "workflow": WORKFLOW, "evaluator_ids": ["tone"]})
    assert response.status_code == 404


def test_legacy_evaluator_step_is_stored_as_eval(acme):
    body = acme.create(workflow=[{"type": "evaluator", "config": {"evaluator": "tone"}}])
    assert body["workflow"] == [{"type": "eval", "config": {"evaluator": "tone"}}]


@pytest.mark.parametrize(("body_patch", "field"), [
    ({"status": "running"}, "status"),
    ({"progress": 50}, "progress"),
    ({"id": "x"}, "id"),
    ({"colour": "red"}, "colour"),
])
def test_read_only_and_unknown_fields_are_400_keyed_by_name(acme, body_patch, field):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "workflow": WORKFLOW, "evaluator_ids": ["tone"],
                               **body_patch})
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_nested_errors_use_the_dotted_path(acme):
    response = acme.post("/", {"dataset_id": "ds_7a6b5c4d", "evaluator_ids": ["tone"], "workflow": [
        {"type": "completion", "config": {"model": "m"}},
        {"type": "completion", "config": {"model": "m", "temperature": 3}},
        {"type": "evaluate", "config": {}},
        {"type": "prompt", "config": {"version": 2}},
    ]})
    assert response.status_code == 400
    errors = response.json()
    assert errors["workflow.1.config.temperature"] == ["Ensure this value is less than or equal to 2."]
    assert errors["workflow.2.type"] == ['"evaluate" is not a valid choice.']
    assert errors["workflow.3.config"] == ["Either prompt_id or prompt_slug is required."]


# -- read, tenancy ----------------------------------------------------------------------------------

def test_get_unknown_is_404(acme):
    response = acme.get("/exp_nope/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No experiment 'exp_nope' in this organization."}


def test_malformed_path_id_is_400_naming_it(acme):
    response = acme.get("/bad%20id/")
    assert response.status_code == 400
    assert list(response.json()) == ["experiment_id"]


# -- PATCH ---------------------------------------------------------------------------------------------

def test_patch_changes_exactly_the_fields_sent(acme):
    before = acme.get(f"/{COMPLETED_ID}/").json()
    response = acme.patch(f"/{COMPLETED_ID}/", {"name": "Renamed", "batch_size": 7})
    assert response.status_code == 200
    assert response.json() == {**before, "name": "Renamed", "batch_size": 7}
    assert acme.get(f"/{COMPLETED_ID}/").json() == response.json()


@pytest.mark.parametrize("field", ["name", "batch_size", "workflow", "dataset_id", "enable_tracing"])
def test_null_on_other_fields_is_400(acme, field):
    response = acme.patch(f"/{COMPLETED_ID}/", {field: None})
    assert response.status_code == 400
    assert response.json() == {field: ["This field may not be null."]}


def test_patch_experiment_id_must_match_path(acme):
    assert acme.patch(f"/{COMPLETED_ID}/", {"experiment_id": COMPLETED_ID, "name": "ok"}).status_code == 200
    response = acme.patch(f"/{COMPLETED_ID}/", {"experiment_id": "other", "name": "no"})
    assert response.status_code == 400 and list(response.json()) == ["experiment_id"]
    assert acme.get(f"/{COMPLETED_ID}/").json()["name"] == "ok"
    assert acme.get("/other/").status_code == 404


def test_patch_explicit_switch_with_empty_old_list_is_accepted(acme):
    response = acme.patch(f"/{COMPLETED_ID}/", {"evaluator_ids": [], "evaluator_workflow_ids": ["ewv_3c2b1a09"]})
    assert response.status_code == 200 and response.json()["evaluator_ids"] == []


@pytest.mark.parametrize("body", [{"evaluator_ids": []}, {"evaluator_slugs": []}, {"evaluator_workflow_ids": []}])
def test_patch_cannot_empty_a_scoring_path(acme, body):
    response = acme.patch(f"/{COMPLETED_ID}/", body)
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_patch_with_both_paths_is_400_and_changes_nothing(acme):
    before = acme.get(f"/{COMPLETED_ID}/").json()
    response = acme.patch(f"/{COMPLETED_ID}/", {"name": "half", "evaluator_ids": ["tone"],
                                                "evaluator_workflow_ids": ["ewv_3c2b1a09"]})
    assert response.status_code == 400
    assert acme.get(f"/{COMPLETED_ID}/").json() == before


def test_patch_with_unknown_evaluator_is_404_and_changes_nothing(acme):
    before = acme.get(f"/{COMPLETED_ID}/").json()
    response = acme.patch(f"/{COMPLETED_ID}/", {"name": "half", "evaluator_ids": ["ghost"]})
    assert response.status_code == 404 and "ghost" in response.json()["detail"]
    assert acme.get(f"/{COMPLETED_ID}/").json() == before


def test_patch_slugs_alone_replace_ids(acme):
    body = acme.patch(f"/{COMPLETED_ID}/", {"evaluator_slugs": ["tone"]}).json()
    assert body["evaluator_ids"] == body["evaluator_slugs"] == ["tone"]


def test_derived_fields_follow_the_data(acme):
    body = acme.patch(f"/{COMPLETED_ID}/", {"dataset_id": "ds_5b3a9e11", "workflow": WORKFLOW * 3}).json()
    assert body["dataset"] == body["dataset_id"] == "ds_5b3a9e11"
    assert body["dataset_name"] == "Refund edge cases"
    assert body["workflow_count"] == 3


def test_running_experiment_locks_execution_fields(acme):
    before = acme.get(f"/{RUNNING_ID}/").json()
    response = acme.patch(f"/{RUNNING_ID}/", {"workflow": WORKFLOW, "batch_size": 5, "name": "ok"})
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "workflow" in detail and "batch_size" in detail and "name" not in detail
    assert acme.get(f"/{RUNNING_ID}/").json() == before


def test_running_experiment_keeps_presentation_fields_editable(acme):
    body = {"name": "Renamed while running", "description": "d", "span_workflow_name": "root",
            "enable_tracing": False}
    response = acme.patch(f"/{RUNNING_ID}/", body)
    assert response.status_code == 200
    assert {k: response.json()[k] for k in body} == body


def test_running_lock_ignores_unchanged_values(acme):
    current = acme.get(f"/{RUNNING_ID}/").json()
    response = acme.patch(f"/{RUNNING_ID}/", {"batch_size": current["batch_size"],
                                              "dataset_id": current["dataset_id"]})
    assert response.status_code == 200


# -- PUT ---------------------------------------------------------------------------------------------

def test_put_restores_defaults_of_omitted_fields(acme):
    acme.patch(f"/{COMPLETED_ID}/", {"span_workflow_name": "root", "enable_tracing": False, "concurrency": 2})
    before = acme.get(f"/{COMPLETED_ID}/").json()
    response = acme.put(f"/{COMPLETED_ID}/", {"name": "Replaced", "batch_size": 9})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["batch_size"]) == ("Replaced", 9)
    assert (body["span_workflow_name"], body["enable_tracing"], body["concurrency"]) == ("workflow", True, 15)
    assert body["workflow"] == before["workflow"] and body["evaluator_ids"] == before["evaluator_ids"]
    assert acme.get(f"/{COMPLETED_ID}/").json() == body


def test_put_on_running_experiment_that_resets_a_locked_field_is_409(acme):
    response = acme.put(f"/{RUNNING_ID}/", {"concurrency": 1})
    assert response.status_code == 409 and "concurrency" in response.json()["detail"]


# -- DELETE ------------------------------------------------------------------------------------------

def test_delete_then_everything_is_404(acme):
    response = acme.delete(f"/{COMPLETED_ID}/")
    assert response.status_code == 204 and response.content == b""
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        json = {"name": "x"} if method in ("PATCH", "PUT") else None
        assert acme.request(method, f"/{COMPLETED_ID}/", json=json).status_code == 404, method
    assert COMPLETED_ID not in [e["id"] for e in acme.get("/").json()]
