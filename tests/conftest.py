"""Shared fixtures: the mock app built once per session, its world reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.app import MockApp, build_app

ACME_KEY = "sk_live_acme_dev_4f7d2c9a1b8e"
GLOBEX_KEY = "sk_live_globex_dev_93e1a6b0c5d2"
BASE = "/api/v2/experiments"
COMPLETED_ID = "exp_9f8b7c6d"  # org_acme, evaluator path
RUNNING_ID = "4f1c2a9be07d4d3f8a61c0d5e2b7f913"  # org_acme, evaluator workflow path
GLOBEX_ID = "exp_globex_01"


@pytest.fixture(scope="session")
def mock() -> MockApp:
    return build_app(validate_responses=True)


@pytest.fixture(scope="session")
def _client(mock: MockApp) -> Iterator[TestClient]:
    with TestClient(mock.asgi, base_url="http://127.0.0.1:4010") as client:
        yield client


@pytest.fixture
def client(mock: MockApp, _client: TestClient) -> TestClient:
    """A client with no credentials, on a freshly reset world."""
    mock.session.reset()
    return _client


class Api:
    """Calls the mock as one organization."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def request(self, method: str, path: str, **kwargs: Any):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, BASE + path, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any):
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any, **kw: Any):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path: str, json: Any, **kw: Any):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any):
        return self.request("DELETE", path, **kw)

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"dataset_id": "ds_7a6b5c4d", "workflow": [{"type": "completion", "config": {"model": "gpt-4o"}}],
                "evaluator_ids": ["helpfulness"], **fields}
        response = self.post("/", body)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def acme(client: TestClient) -> Api:
    return Api(client, ACME_KEY)


@pytest.fixture
def globex(client: TestClient) -> Api:
    return Api(client, GLOBEX_KEY)
