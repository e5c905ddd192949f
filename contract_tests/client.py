"""The HTTP client of the rule tests: auth, timeout, rate limit, a request cap, and the run's ledger."""

from __future__ import annotations

import json
import shlex
import threading
import time
import uuid
from typing import Any

import httpx

from .config import Target


class RequestCapReached(Exception):
    pass


class Ledger:
    """What this run did: requests sent, experiments created (to delete at the end)."""

    def __init__(self, max_requests: int, prefix: str | None = None) -> None:
        self.prefix = prefix or f"ct-{uuid.uuid4().hex[:8]}"
        self.max_requests = max_requests
        self.requests = 0
        self.created: dict[str, str] = {}  # experiment id -> token that owns it
        self._lock = threading.Lock()

    def count(self, n: int = 1) -> None:
        with self._lock:
            self.requests += n
            if self.requests > self.max_requests:
                raise RequestCapReached(f"the run reached its cap of {self.max_requests} requests")

    def remember(self, experiment_id: str, token: str) -> None:
        with self._lock:
            self.created[experiment_id] = token

    def forget(self, experiment_id: str) -> None:
        with self._lock:
            self.created.pop(experiment_id, None)


class ApiClient:
    """Calls one deployment as one organization; every created experiment lands in the ledger."""

    def __init__(self, target: Target, ledger: Ledger, token: str | None) -> None:
        self.target = target
        self.ledger = ledger
        self.token = token
        self._http = httpx.Client(base_url=target.base_url, timeout=target.timeout)
        self._interval = 1.0 / target.rate_limit if target.rate_limit else 0.0
        self._last = 0.0

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, json_body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, authenticated: bool = True) -> httpx.Response:
        send_headers = dict(headers or {})
        use = token if token is not None else self.token
        if authenticated and use:
            send_headers["Authorization"] = f"Bearer {use}"
        if self._interval:
            wait = self._last + self._interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
        self.ledger.count()
        response = self._http.request(method, path, json=json_body, headers=send_headers)
        if method == "POST" and path.rstrip("/") in ("/experiments", "") and response.status_code == 201:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("id"), str):
                self.ledger.remember(body["id"], use or "")
        return response

    # -- conveniences ---------------------------------------------------------------------------

    def experiment_body(self, **fields: Any) -> dict[str, Any]:
        """A valid create body for this organization, named with the run's prefix."""
        return {"dataset_id": self.target.dataset_id, "name": f"{self.ledger.prefix} contract test",
                "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini"}}],
                "evaluator_ids": [self.target.evaluator_id], **fields}

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", "/experiments/", json_body=self.experiment_body(**fields))
        expect(response, 201, "create with a valid body", self.target)
        return response.json()

    def get(self, experiment_id: str) -> httpx.Response:
        return self.request("GET", f"/experiments/{experiment_id}/")

    def patch(self, experiment_id: str, body: Any) -> httpx.Response:
        return self.request("PATCH", f"/experiments/{experiment_id}/", json_body=body)


def curl_line(request: httpx.Request, target: Target) -> str:
    parts = ["curl", "-X", request.method]
    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        if name.lower() == "authorization":
            value = "Bearer ***"
        parts += ["-H", f"{name}: {value}"]
    if request.content:
        parts += ["-d", request.content.decode("utf-8", "replace")]
    parts.append(str(request.url))
    return target.mask(" ".join(shlex.quote(p) for p in parts))


def describe(response: httpx.Response, target: Target, limit: int = 600) -> str:
    text = response.text
    if len(text) > limit:
        text = text[:limit] + "…"
    return target.mask(f"[{response.status_code}] {text}\nReproduce: {curl_line(response.request, target)}")


def expect(response: httpx.Response, status: int | tuple[int, ...], rule: str, target: Target) -> None:
    """Fail with the rule, what was expected, what came back and a curl line, unless the status fits."""
    wanted = (status,) if isinstance(status, int) else status
    if response.status_code not in wanted:
        raise AssertionError(f"Rule broken: {rule}\nExpected: {' or '.join(map(str, wanted))}\n"
                             f"Got: {describe(response, target)}")


def expect_equal(actual: Any, expected: Any, rule: str, response: httpx.Response, target: Target) -> None:
    if actual != expected:
        raise AssertionError(
            f"Rule broken: {rule}\nExpected: {json.dumps(expected, sort_keys=True, default=str)[:600]}\n"
            f"Got: {json.dumps(actual, sort_keys=True, default=str)[:600]}\nFrom: {describe(response, target)}")
