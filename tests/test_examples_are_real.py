"""No drift between the spec's error examples and the mock: for every documented error example of
every operation, the request that produces it gets exactly that body from the mock.

`Prefer: code=…` serves these examples to frontends; a body the mock never really sends would have
them build against errors production does not have. A new error example needs a request here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import ACME_KEY, COMPLETED_ID, GLOBEX_KEY, RUNNING_ID

from mock_server.spec import Contract, load_document, ref_parts

CONTRACT = Contract(load_document())
STEP = {"type": "completion", "config": {"model": "gpt-4o"}}
NEW = {"dataset_id": "ds_7a6b5c4d", "workflow": [STEP], "evaluator_ids": ["helpfulness"]}
EXPERIMENT_BODIES = {"createExperiment", "updateExperiment", "replaceExperiment"}


class Call:
    """One request, as the test client sends it."""

    def __init__(self, *, key: str | None = ACME_KEY, experiment_id: str = COMPLETED_ID, method: str | None = None,
                 json: Any = None, content: bytes | None = None, content_type: str = "application/json",
                 query: str = "") -> None:
        self.key, self.experiment_id, self.method = key, experiment_id, method
        self.json, self.content, self.content_type, self.query = json, content, content_type, query


def _body(operation_id: str, create: dict[str, Any], change: dict[str, Any]) -> Call:
    return Call(json=create if operation_id == "createExperiment" else change)


# example component -> the request of an operation that produces it
REQUESTS: dict[str, Callable[[str], Call]] = {
    "FieldErrorsExample": lambda op: _body(
        op, {**NEW, "batch_size": 0, "workflow": [{"type": "evaluate", "config": {}}]},
        {"batch_size": 0, "workflow": [{"type": "evaluate", "config": {}}]}),
    "ReadOnlyFieldExample": lambda op: _body(op, {**NEW, "status": "done"}, {"status": "done"}),
    "BothScoringPathsExample": lambda op: _body(
        op, {**NEW, "evaluator_workflow_ids": ["ewv_3c2b1a09"]},
        {"evaluator_ids": ["helpfulness"], "evaluator_workflow_ids": ["ewv_3c2b1a09"]}),
    "FilterErrorsExample": lambda op: Call(json={"filters": {"status": {"operator": "in", "value": "running"},
                                                             "owner": {"operator": "", "value": "x"}}}),
    "MalformedJsonExample": lambda op: Call(content=b"{'name': 'single quotes'}"),
    "PageSizeErrorExample": lambda op: Call(query="page_size=101"),
    "PathIdErrorExample": lambda op: Call(experiment_id="exp!1"),
    "UnauthorizedExample": lambda op: Call(key=None, json={} if op in EXPERIMENT_BODIES else None),
    # another organization's experiment: 404 naming it, as an unknown one would be
    "NotFoundExample": lambda op: Call(key=GLOBEX_KEY, json={} if op in EXPERIMENT_BODIES - {"createExperiment"}
                                       else None),
    "ReferenceNotFoundExample": lambda op: Call(json={**NEW, "dataset_id": "ds_0000"}),
    # `tone` is org_acme's evaluator: unknown to org_globex
    "EvaluatorNotFoundExample": lambda op: Call(key=GLOBEX_KEY, experiment_id="exp_globex_01",
                                                json={"evaluator_ids": ["tone"]}),
    "RunningLockExample": lambda op: Call(experiment_id=RUNNING_ID, json={
        "workflow": [STEP], "batch_size": 5,
        # PUT restores omitted defaults: keep the running experiment's other execution settings
        **({"concurrency": 15, "enable_tracing": True, "generation_method": "auto"}
           if op == "replaceExperiment" else {})}),
    "MethodNotAllowedExample": lambda op: Call(method="TRACE"),
    "PayloadTooLargeExample": lambda op: Call(content=b" " * (2 << 20)),
    "UnsupportedMediaTypeExample": lambda op: Call(content=b"{}", content_type="text/plain"),
}

def documented_error_examples() -> list[Any]:
    found = []
    for operation_id, operation in CONTRACT.operations().items():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            media = CONTRACT.resolve(response).get("content", {}).get("application/json", {})
            for name, example in media.get("examples", {}).items():
                component = ref_parts(example["$ref"])[-1] if "$ref" in example else name
                found.append(pytest.param(operation_id, str(status), component,
                                          id=f"{operation_id}-{status}-{component}"))
    return found


def _send(client, operation_id: str, call: Call):
    path_template, method = CONTRACT.operation_pointer(operation_id)[1:]
    path = "/api/v2" + path_template.replace("{experiment_id}", call.experiment_id)
    headers = {"Authorization": f"Bearer {call.key}"} if call.key else {}
    kwargs: dict[str, Any] = {}
    if call.content is not None:
        kwargs["content"] = call.content
        headers["Content-Type"] = call.content_type
    elif call.json is not None:
        kwargs["json"] = call.json
    return client.request(call.method or method.upper(), path + (f"?{call.query}" if call.query else ""),
                          headers=headers, **kwargs)


@pytest.mark.parametrize(("operation_id", "status", "example"), documented_error_examples())
def test_the_mock_really_answers_each_documented_error_example(client, operation_id, status, example):
    if example not in REQUESTS:
        pytest.fail(f"{operation_id} documents {example} for {status}: add the request that produces it to REQUESTS")
    expected = CONTRACT.resolve({"$ref": f"#/components/examples/{example}"})["value"]
    response = _send(client, operation_id, REQUESTS[example](operation_id))
    assert (response.status_code, response.json()) == (int(status), expected), (
        f"{operation_id} {example}: the spec documents {status} {expected}, the mock answered "
        f"{response.status_code} {response.text[:500]}")


def test_every_operation_documents_error_examples():
    operations = {param.values[0] for param in documented_error_examples()}
    assert operations == set(CONTRACT.operations())
