"""PATCH and PUT change exactly what they say, and what they return is what is stored."""

from __future__ import annotations

import pytest

from .client import ApiClient, JsonObject, expect, expect_equal, expect_true
from .spec_facts import defaults, response_required

pytestmark = pytest.mark.mutating
LIFECYCLE = {"status", "progress", "started_at", "completed_at", "error_message"}


def config_of(experiment: JsonObject, shown: JsonObject | None = None) -> JsonObject:
    """The configuration of an experiment; with `shown`, only the fields that response carries (a
    deployment may leave out fields the spec does not require)."""
    return {k: v for k, v in experiment.items()
            if k not in LIFECYCLE and (shown is None or k in shown or k in response_required())}


@pytest.mark.parametrize("body", [
    {"name": "renamed by the contract suite"},
    {"description": "a description", "batch_size": 7},
    {"concurrency": 3, "enable_tracing": False, "span_workflow_name": "root"},
    {"generation_method": "code"},
    {"workflow": [{"type": "prompt", "config": {"prompt_slug": "p"}}, {"type": "wait", "config": {}}]},
])
def test_patch_changes_exactly_the_fields_sent(api: ApiClient, experiment: JsonObject, body: JsonObject) -> None:
    if "name" in body:
        body = {**body, "name": f"{api.prefix} {body['name']}"}
    experiment, response = api.write_while_editable(experiment, body)
    expect(response, 200, "a valid PATCH is accepted")
    merged = {**experiment, **body}
    if "workflow" in body:
        merged["workflow_count"] = len(body["workflow"])
    expect_equal(config_of(response.json()), config_of(merged, response.json()),
                 "PATCH changes exactly the fields sent (response = previous merged with body)", response)
    read = api.get(experiment["id"])
    expect_equal(config_of(read.json()), config_of(response.json()),
                 "what PATCH returns is what GET returns (read-your-writes)", read)


def test_repeated_identical_patch_is_idempotent(api: ApiClient, experiment: JsonObject) -> None:
    body = {"batch_size": 11, "description": "same twice"}
    experiment, first = api.write_while_editable(experiment, body)
    second = api.patch(experiment["id"], body)
    expect(second, 200, "a repeated PATCH is accepted")
    expect_equal(config_of(second.json()), config_of(first.json()), "identical PATCHes are idempotent", second)


def test_empty_patch_changes_nothing(api: ApiClient, experiment: JsonObject) -> None:
    response = api.patch(experiment["id"], {})
    expect(response, 200, "PATCH {} is a valid no-op")
    expect_equal(config_of(response.json()), config_of(experiment), "PATCH {} changes nothing", response)


@pytest.mark.assumption("null-clears-only-description")
def test_null_clears_description(api: ApiClient) -> None:
    created = api.create(description="to be cleared")
    response = api.patch(created["id"], {"description": None})
    expect(response, 200, "null is accepted for description")
    expect_equal(response.json()["description"], None, "null clears description", response)
    read = api.get(created["id"])
    expect_equal(read.json()["description"], None, "the cleared description stays cleared", read)


@pytest.mark.assumption("null-clears-only-description")
@pytest.mark.parametrize("field", ["name", "batch_size", "workflow", "enable_tracing"])
def test_null_on_other_fields_is_400_naming_the_field(api: ApiClient, experiment: JsonObject, field: str) -> None:
    response = api.patch(experiment["id"], {field: None})
    read = api.get(experiment["id"])
    expect(response, (400, 200), f"null on {field} is refused or ignored, never a failure")
    if response.status_code == 400:
        expect_equal(config_of(read.json()), config_of(experiment), "a rejected PATCH changes nothing", read)
    expect(response, 400, f"null is not a value of {field}")
    expect_true(field in response.json(), f"the 400 body names {field}", response, assumption="error-bodies")


@pytest.mark.assumption("put-restores-defaults")
def test_put_restores_defaults_and_reads_back(api: ApiClient) -> None:
    fields = {"batch_size": 5, "concurrency": 2, "enable_tracing": False, "span_workflow_name": "custom"}
    created = api.create(**fields)
    created, response = api.write_while_editable(created, {"name": f"{api.prefix} replaced"}, method="PUT",
                                                 **fields)
    expect(response, 200, "a valid PUT is accepted")
    shown = response.json()
    expect_equal(shown["workflow"], created["workflow"], "PUT keeps omitted fields without a default", response)
    read = api.get(created["id"])
    expect_equal(config_of(read.json()), config_of(shown), "what PUT returns is what GET returns", read)
    shown_defaults = {k: v for k, v in defaults().items() if k in shown or k in response_required()}
    expect_equal({k: shown.get(k) for k in shown_defaults}, shown_defaults,
                 "PUT puts omitted defaulted fields back to their defaults", response)


def test_created_experiment_reads_back_and_is_listed(api: ApiClient) -> None:
    created = api.create()
    read = api.get(created["id"])
    expect(read, 200, "a created experiment can be read")
    expect_equal(config_of(read.json()), config_of(created), "what create returns is what GET returns", read)
    found = api.request("POST", "/experiments/list/", json_body={
        "filters": {"name": {"operator": "", "value": created["name"]}}, "is_exporting": True})
    expect(found, 200, "the filter endpoint answers")
    expect_true(created["id"] in [e["id"] for e in found.json()["results"]],
                "a created experiment shows in the filtered list", found)


def test_derived_fields_follow_the_data(api: ApiClient, experiment: JsonObject) -> None:
    workflow = [{"type": "completion", "config": {"model": "m"}}] * 3
    experiment, response = api.write_while_editable(experiment, {"workflow": workflow})
    expect(response, 200, "a valid PATCH is accepted")
    shown = response.json()
    expect_equal(shown["workflow_count"], 3, "workflow_count = number of workflow steps", response)
    expect_equal(shown["dataset"], shown["dataset_id"], "dataset = dataset_id", response)
    expect_equal(shown["evaluator_slugs"], shown["evaluator_ids"], "evaluator_slugs = evaluator_ids", response)
