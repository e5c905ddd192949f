"""The vendor's own example requests are accepted: a deployment that refuses documented input breaks the contract.

The bodies are the examples of the vendor's create page and of its SDK's PUT/PATCH example, with this
organization's dataset and evaluator (and the run's name prefix) in place of the example ids.
"""

from __future__ import annotations

import pytest

from .client import ApiClient, JsonObject, expect_true
from .spec_facts import defaults

# The workflow of the vendor's examples: documented keys and values only.
EXAMPLE_WORKFLOW = [{"type": "completion", "config": {"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 256}}]


def _example_body(api: ApiClient) -> JsonObject:
    return {"dataset_id": api.target.dataset_id, "workflow": EXAMPLE_WORKFLOW,
            "evaluator_ids": [api.target.evaluator_id], "name": f"{api.prefix} gpt-4o-mini quality run",
            "concurrency": 15}


@pytest.mark.mutating
def test_the_documented_create_example_is_accepted(api: ApiClient) -> None:
    response = api.request("POST", "/experiments/", json_body=_example_body(api))
    expect_true(200 <= response.status_code < 300, "the vendor's example create body is accepted (any 2xx)",
                response, detail=f"status {response.status_code}")
    created = response.json()
    expect_true(isinstance(created, dict) and isinstance(created.get("id"), str),
                "a create answers the created experiment, with its id", response)
    shown = {key: created[key] for key in ("name", "dataset_id", "concurrency") if key in created}
    expected = {key: _example_body(api)[key] for key in shown}
    expect_true(shown == expected, "the created experiment carries the fields sent", response,
                detail=f"sent {expected}, got {shown}")


@pytest.mark.mutating
def test_the_documented_update_example_is_accepted(api: ApiClient, experiment: JsonObject) -> None:
    body = _example_body(api)
    experiment, response = api.write_while_editable(experiment, body)
    expect_true(200 <= response.status_code < 300, "the vendor's example PATCH body is accepted (any 2xx)",
                response, detail=f"status {response.status_code}")
    updated = response.json()
    shown = {key: updated[key] for key in ("name", "dataset_id", "concurrency", "evaluator_ids") if key in updated}
    expected = {key: body[key] for key in shown}
    expect_true(shown == expected, "the updated experiment carries the fields sent", response,
                detail=f"sent {expected}, got {shown}")


# The vendor's filter examples: its search page's scalar value, its filter reference's list value.
FILTER_EXAMPLES = {
    "scalar value": {"filters": {"name": {"operator": "startswith", "value": "K"}}},
    "list value": {"filters": {"name": {"operator": "startswith", "value": ["K"]}}},
    "no filters": {},
}


@pytest.mark.parametrize("label", list(FILTER_EXAMPLES))
@pytest.mark.parametrize("path", ["/experiments/list/?sort_by=-created_at", "/experiments/summary/"])
def test_the_documented_filter_examples_are_accepted(api: ApiClient, path: str, label: str) -> None:
    body = FILTER_EXAMPLES[label]
    response = api.request("POST", path, json_body=body)
    expect_true(200 <= response.status_code < 300, f"the vendor's filter example ({label}) is accepted", response,
                detail=f"status {response.status_code}")
    answer = response.json()
    wanted = ("count", "results") if "/list/" in path else ("total_count",)
    expect_true(isinstance(answer, dict) and all(key in answer for key in wanted),
                f"the answer carries {', '.join(wanted)}", response)


@pytest.mark.mutating
def test_a_create_takes_the_documented_defaults(api: ApiClient) -> None:
    """span_workflow_name, enable_tracing, batch_size and concurrency have documented defaults: a create
    that leaves them out shows them (where the response shows the field at all)."""
    body = {key: value for key, value in api.experiment_body().items() if key not in defaults()}
    response = api.request("POST", "/experiments/", json_body=body)
    expect_true(200 <= response.status_code < 300, "a create without the defaulted fields is accepted", response,
                detail=f"status {response.status_code}")
    created = response.json()
    shown = {key: created[key] for key in defaults() if isinstance(created, dict) and key in created}
    expected = {key: defaults()[key] for key in shown}
    expect_true(shown == expected, "a create shows the documented defaults of the fields it left out", response,
                detail=f"documented {expected}, shown {shown}")
