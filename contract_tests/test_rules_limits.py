"""What the deployment refuses before reading a body: oversized bodies and other media types."""

from __future__ import annotations

import json

import pytest

from .client import ApiClient, expect

pytestmark = pytest.mark.mutating  # a deployment without the limit may create what it is sent


@pytest.mark.assumption("body-size-limit")
def test_a_body_over_1_mib_is_413(api: ApiClient) -> None:
    body = api.experiment_body(description="x" * (1024 * 1024 + 1))
    response = api.request("POST", "/experiments/", content=json.dumps(body).encode(),
                           headers={"Content-Type": "application/json"})
    expect(response, 413, "a body over 1 MiB is refused with 413")


@pytest.mark.assumption("json-only")
def test_a_body_that_is_not_json_is_415(api: ApiClient) -> None:
    response = api.request("POST", "/experiments/", content=b"dataset_id=ds&name=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect(response, 415, "a body that is not application/json is refused with 415")
