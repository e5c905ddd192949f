"""The scoring rules and references: the slugs alias, the exclusivity of the two paths, switching
between them, and referenced ids that must exist."""

from __future__ import annotations

import pytest

from .client import ApiClient, JsonObject, expect, expect_equal, expect_true

pytestmark = pytest.mark.mutating


def test_evaluator_ids_win_over_slugs(api: ApiClient) -> None:
    response = api.request("POST", "/experiments/", json_body=api.experiment_body(
        evaluator_ids=[api.target.evaluator_id], evaluator_slugs=[f"{api.prefix}-no-such-evaluator"]))
    expect(response, (201, 200), "when both are sent evaluator_ids wins and evaluator_slugs is ignored (not looked up)")
    expect_equal(response.json()["evaluator_ids"], [api.target.evaluator_id], "evaluator_ids wins", response)


def test_slugs_alone_are_taken_as_ids_and_both_lists_come_back_equal(api: ApiClient) -> None:
    body = api.experiment_body(evaluator_slugs=[api.target.evaluator_id])
    del body["evaluator_ids"]
    response = api.request("POST", "/experiments/", json_body=body)
    expect(response, (201, 200), "evaluator_slugs alone is accepted")
    shown = response.json()
    expect_equal([shown["evaluator_ids"], shown["evaluator_slugs"]], [[api.target.evaluator_id]] * 2,
                 "slugs alone become the ids; both lists come back equal", response)


def test_both_scoring_paths_is_400(api: ApiClient) -> None:
    response = api.request("POST", "/experiments/", json_body=api.experiment_body(
        evaluator_workflow_ids=[api.target.evaluator_workflow_id]))
    expect(response, 400, "evaluator ids and evaluator workflow ids are mutually exclusive")


def test_both_scoring_paths_in_a_patch_is_400_and_changes_nothing(api: ApiClient, experiment: JsonObject) -> None:
    response = api.patch(experiment["id"], {"evaluator_ids": [api.target.evaluator_id],
                                            "evaluator_workflow_ids": [api.target.evaluator_workflow_id]})
    expect(response, 400, "a PATCH with both scoring paths is rejected")
    read = api.get(experiment["id"])
    expect_equal(read.json()["evaluator_ids"], experiment["evaluator_ids"], "a rejected PATCH changes nothing", read)


@pytest.mark.assumption("scoring-path-switch")
def test_switching_paths_replaces_the_old_one(api: ApiClient, experiment: JsonObject) -> None:
    experiment, response = api.write_while_editable(
        experiment, {"evaluator_workflow_ids": [api.target.evaluator_workflow_id]})
    expect(response, 200, "sending the other scoring path is accepted")
    shown = response.json()
    expect_equal([shown["evaluator_workflow_ids"], shown["evaluator_ids"], shown["evaluator_slugs"]],
                 [[api.target.evaluator_workflow_id], [], []], "switching paths clears the old one", response)
    back = api.patch(experiment["id"], {"evaluator_ids": [api.target.evaluator_id]})
    expect(back, 200, "switching back is accepted")
    expect_equal([back.json()["evaluator_ids"], back.json()["evaluator_workflow_ids"]],
                 [[api.target.evaluator_id], []], "switching back clears the workflow path", back)


@pytest.mark.assumption("scoring-path-switch")
@pytest.mark.parametrize("body", [{"evaluator_ids": []}, {"evaluator_slugs": []}])
def test_no_patch_leaves_an_experiment_without_a_scoring_path(api: ApiClient, experiment: JsonObject,
                                                              body: JsonObject) -> None:
    experiment, response = api.write_while_editable(experiment, body)
    read = api.get(experiment["id"])
    expect_true(bool(read.json()["evaluator_ids"]) != bool(read.json()["evaluator_workflow_ids"]),
                "the experiment still has exactly one scoring path", read)
    expect(response, 400, "emptying the only scoring path is refused")


REFERENCES = [
    ("dataset_id", "{prefix}-no-such-dataset"),
    ("evaluator_ids", ["{prefix}-no-such-evaluator"]),
    ("evaluator_workflow_ids", ["{prefix}-no-such-version"]),
]


def _unknown(api: ApiClient, value: str | list[str]) -> tuple[str | list[str], str]:
    value = value.format(prefix=api.prefix) if isinstance(value, str) else [v.format(prefix=api.prefix) for v in value]
    return value, value if isinstance(value, str) else value[0]


@pytest.mark.parametrize(("field", "value"), REFERENCES)
def test_unknown_references_are_404_naming_the_id(api: ApiClient, field: str, value: str | list[str]) -> None:
    value, missing = _unknown(api, value)
    body = api.experiment_body(**{field: value})
    if field == "evaluator_workflow_ids":
        del body["evaluator_ids"]
    response = api.request("POST", "/experiments/", json_body=body)
    expect(response, 404, f"an unknown {field} is 404")
    expect_true(missing in response.text, f"the 404 names the missing id {missing}", response)


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize(("field", "value"), REFERENCES)
def test_unknown_references_in_a_write_are_404_and_change_nothing(api: ApiClient, experiment: JsonObject, method: str,
                                                                  field: str, value: str | list[str]) -> None:
    value, missing = _unknown(api, value)
    experiment, response = api.write_while_editable(experiment, {field: value}, method=method)
    read = api.get(experiment["id"])
    expect_equal({k: read.json().get(k) for k in ("dataset_id", "evaluator_ids", "evaluator_workflow_ids")},
                 {k: experiment.get(k) for k in ("dataset_id", "evaluator_ids", "evaluator_workflow_ids")},
                 f"a {method} naming an unknown {field} changes nothing", read)
    expect(response, 404, f"a {method} with an unknown {field} is 404")
    expect_true(missing in response.text, f"the 404 names the missing id {missing}", response)
