"""PATCH and PUT change exactly what they say, and what they return is what is stored.

Experiments are compared on the fields the docs name (an undocumented `updated_at` that changes on
every write is ignored) and only where the response shows them (the vendor makes all but id, name,
status and created_at optional): a field left out is no finding, a changed value is."""

from __future__ import annotations

import pytest

from .checks import documented_steps, expected_fields, legacy_step_types
from .client import ApiClient, JsonObject, expect, expect_equal, expect_fields, expect_true
from .spec_facts import defaults

pytestmark = pytest.mark.mutating


@pytest.fixture
def configured(api: ApiClient) -> JsonObject:
    """A fresh experiment whose every editable field is away from its default (batch_size 37, concurrency 3,
    tracing off, its own span workflow name, a description, two workflow steps, a generation method when
    the deployment takes ours), as read back. A PATCH that puts omitted fields back to their defaults, or
    clears them, shows against it."""
    return api.create_configured()


PATCHES = [
    pytest.param({"name": "renamed by the contract suite"}, id="name"),
    pytest.param({"description": "another description", "batch_size": 7}, id="description-batch_size"),
    pytest.param({"concurrency": 5, "enable_tracing": True, "span_workflow_name": "root"},
                 id="concurrency-tracing-span"),
    pytest.param({"workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini", "max_tokens": 64}}]},
                 id="workflow"),
    pytest.param({"generation_method": "code"}, id="generation_method",
                 marks=pytest.mark.assumption("generation-method-values")),
]


@pytest.mark.parametrize("body", PATCHES)
def test_patch_changes_exactly_the_fields_sent(api: ApiClient, configured: JsonObject, body: JsonObject) -> None:
    if "name" in body:
        body = {**body, "name": f"{api.prefix} {body['name']}"}
    experiment, response = api.write_while_editable(configured, body, fresh=api.create_configured)
    api.ok(response, "a valid PATCH is accepted")
    expected = {**experiment, **expected_fields(body)}
    expect_fields(expected, response.json(), "PATCH changes exactly the fields sent (the experiment before, "
                  "with the fields sent; every other field keeps its value)", response)
    read = api.get(experiment["id"])
    api.ok(read, "the experiment can be read")
    expect_fields(expected, read.json(), "what PATCH changed is stored, and nothing else (read back)", read)
    expect_fields(response.json(), read.json(), "what PATCH returns is what GET returns (read-your-writes)", read)
    if "workflow" in body and "workflow" in response.json():
        with api.noting():
            expect_equal(documented_steps(response.json()["workflow"]), legacy_step_types(body["workflow"]),
                         "the workflow comes back exactly as sent", response, assumption="workflow-echoed-exactly")


def test_repeated_identical_patch_is_idempotent(api: ApiClient, configured: JsonObject) -> None:
    body = {"batch_size": 11, "description": "same twice"}
    experiment, first = api.write_while_editable(configured, body)
    api.ok(first, "a valid PATCH is accepted")
    second = api.patch(experiment["id"], body)
    api.ok(second, "a repeated PATCH is accepted")
    expect_fields(first.json(), second.json(), "identical PATCHes are idempotent", second)


@pytest.mark.assumption("empty-patch-noop")
def test_empty_patch_changes_nothing(api: ApiClient, configured: JsonObject) -> None:
    response = api.patch(configured["id"], {})
    expect(response, range(200, 300), "PATCH {} is a valid no-op")
    expect_fields(configured, response.json(), "PATCH {} changes nothing", response)


@pytest.mark.assumption("null-clears-only-description")
def test_null_clears_description(api: ApiClient) -> None:
    created = api.create(description="to be cleared")
    response = api.patch(created["id"], {"description": None})
    api.ok(response, "null is accepted for description")
    expect_equal(response.json().get("description"), None, "null clears description", response)
    read = api.get(created["id"])
    expect_equal(read.json().get("description"), None, "the cleared description stays cleared", read)


@pytest.mark.assumption("null-clears-only-description")
@pytest.mark.parametrize("field", ["name", "batch_size", "workflow", "enable_tracing"])
def test_null_on_other_fields_is_400_naming_the_field(api: ApiClient, configured: JsonObject, field: str) -> None:
    response = api.patch(configured["id"], {field: None})
    read = api.get(configured["id"])
    expect(response, (400, 200), f"null on {field} is refused or ignored, never a failure")
    if response.status_code == 400:
        expect_fields(configured, read.json(), "a rejected PATCH changes nothing", read)
    expect(response, 400, f"null is not a value of {field}")
    expect_true(field in response.json(), f"the 400 body names {field}", response, assumption="error-bodies")


def test_put_takes_any_subset_of_the_fields(api: ApiClient, configured: JsonObject) -> None:
    """Every field of a PUT is optional (documented): a PUT of the name alone is accepted and applied."""
    body = {"name": f"{api.prefix} renamed by PUT"}
    _, response = api.write_while_editable(configured, body, method="PUT", fresh=api.create_configured)
    api.ok(response, "a PUT with only some fields is accepted (every field of a PUT is optional)")
    expect_fields(body, response.json(), "PUT applies the fields sent", response)


@pytest.mark.assumption("put-restores-defaults")
def test_put_restores_defaults_and_reads_back(api: ApiClient, configured: JsonObject) -> None:
    body = {"name": f"{api.prefix} replaced"}
    created, response = api.write_while_editable(configured, body, method="PUT", fresh=api.create_configured)
    api.ok(response, "a valid PUT is accepted")
    shown = response.json()
    if "workflow" in created and "workflow" in shown:
        expect_fields({"workflow": created["workflow"]}, shown, "PUT keeps omitted fields without a default",
                      response)
    read = api.get(created["id"])
    expect_fields(shown, read.json(), "what PUT returns is what GET returns", read)
    shown_defaults = {k: v for k, v in defaults().items() if k in shown}
    expect_equal({k: shown[k] for k in shown_defaults}, shown_defaults,
                 "PUT puts omitted defaulted fields back to their defaults", response)


def test_created_experiment_reads_back_and_is_listed(api: ApiClient) -> None:
    created = api.create()
    read = api.get(created["id"])
    api.ok(read, "a created experiment can be read")
    expect_fields(created, read.json(), "what create returns is what GET returns", read)
    found = api.request("POST", "/experiments/list/", json_body={
        "filters": {"name": {"operator": "", "value": created["name"]}}, "is_exporting": True})
    api.ok(found, "the filter endpoint answers")
    expect_true(created["id"] in [e.get("id") for e in found.json().get("results", [])],
                "a created experiment shows in the filtered list", found)


def test_derived_fields_follow_the_data(api: ApiClient, experiment: JsonObject) -> None:
    workflow = [{"type": "completion", "config": {"model": "gpt-4o-mini"}}] * 3
    experiment, response = api.write_while_editable(experiment, {"workflow": workflow})
    api.ok(response, "a valid PATCH is accepted")
    shown = response.json()
    if "workflow_count" in shown:
        expect_equal(shown["workflow_count"], 3, "workflow_count = number of workflow steps", response)
    if "dataset" in shown and "dataset_id" in shown:
        expect_equal(shown["dataset"], shown["dataset_id"], "dataset = dataset_id", response)
    if "evaluator_slugs" in shown and "evaluator_ids" in shown:
        with api.noting():
            expect_equal(shown["evaluator_slugs"], shown["evaluator_ids"], "evaluator_slugs = evaluator_ids",
                         response, assumption="slugs-mirror-ids")
