"""The HTTP client of the rule tests (through the run's gate), and how a rule test states an expectation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .config import Target
from .findings import RuleBroken, SentRequest
from .gate import GATE_HEADER

JsonObject = dict[str, Any]  # a JSON object as the API sends or shows it (an experiment, a body)


class ApiClient:
    """Calls one deployment (through the gate, which counts, caps and keeps the ledger) as one organization."""

    def __init__(self, target: Target, gate_url: str, prefix: str, token: str | None) -> None:
        self.target = target
        self.prefix = prefix
        self.token = token
        self._http = httpx.Client(base_url=gate_url, timeout=target.timeout + 5)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, json_body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, authenticated: bool = True,
                content: bytes | None = None) -> httpx.Response:
        send_headers = dict(headers or {})
        use = token if token is not None else self.token
        if authenticated and use:
            send_headers["Authorization"] = f"Bearer {use}"
        if content is not None:
            return self._http.request(method, path, content=content, headers=send_headers)
        return self._http.request(method, path, json=json_body, headers=send_headers)

    # -- conveniences ---------------------------------------------------------------------------

    def experiment_body(self, **fields: Any) -> dict[str, Any]:
        """A valid create body for this organization, named with the run's prefix."""
        return {"dataset_id": self.target.dataset_id, "name": f"{self.prefix} contract test",
                "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini"}}],
                "evaluator_ids": [self.target.evaluator_id], **fields}

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", "/experiments/", json_body=self.experiment_body(**fields))
        expect(response, (201, 200), "create with a valid body is accepted")
        expect(response, 201, "create answers 201", assumption="create-status-201")
        created: dict[str, Any] = response.json()
        return created

    def get(self, experiment_id: str) -> httpx.Response:
        return self.request("GET", f"/experiments/{experiment_id}/")

    def patch(self, experiment_id: str, body: Any) -> httpx.Response:
        return self.request("PATCH", f"/experiments/{experiment_id}/", json_body=body)

    def write_while_editable(self, experiment: dict[str, Any], body: Any, *, method: str = "PATCH",
                             **create_fields: Any) -> tuple[dict[str, Any], httpx.Response]:
        """Send a write that may touch locked fields; a real backend may have started the experiment
        on its own meanwhile, and its 409 is then legitimate: try once more on a fresh experiment,
        then skip. Returns the experiment written to (as it was before) and the response."""
        for attempt in range(2):
            response = self.request(method, f"/experiments/{experiment['id']}/", json_body=body)
            if response.status_code != 409:
                return experiment, response
            status = self.get(experiment["id"]).json().get("status")
            if status == "pending":
                return experiment, response  # a 409 on a pending experiment is the test's business
            if attempt == 0:
                experiment = self.create(**create_fields)
        pytest.skip(f"the deployment starts experiments on its own ({status!r}); their 409 to a locked field "
                    "is legitimate and left no editable experiment for this test")


def describe(response: httpx.Response, limit: int = 600) -> str:
    text = response.text
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"[{response.status_code}] {text}"


def sent(response: httpx.Response) -> SentRequest:
    """The request that got this response, as a finding shows it (the run's reproducer makes the curl lines)."""
    request = response.request
    return SentRequest(request.method, str(request.url), tuple(request.headers.multi_items()), request.content)


def _server_fault(response: httpx.Response) -> bool:
    """A 5xx, or the gate's word that the request never got an answer: a violation, whatever the rule."""
    return response.status_code >= 500 and response.headers.get(GATE_HEADER) != "refused"


def expect(response: httpx.Response, status: int | tuple[int, ...], rule: str, *,
           assumption: str | None = None) -> None:
    """Fail with the rule, what was expected, what came back and a curl line, unless the status fits.

    With `assumption`, a mismatch refutes that assumption instead of breaking the contract (a 5xx
    is a violation all the same)."""
    wanted = (status,) if isinstance(status, int) else status
    if response.status_code not in wanted:
        if response.headers.get(GATE_HEADER) == "refused":
            raise RuntimeError(f"the gate refused a request of this test: {response.text}")
        raise RuleBroken(rule, " or ".join(map(str, wanted)), describe(response), sent(response),
                         assumption=assumption, server_fault=_server_fault(response))


def expect_equal(actual: Any, expected: Any, rule: str, response: httpx.Response, *,
                 assumption: str | None = None) -> None:
    if actual != expected:
        raise RuleBroken(rule, json.dumps(expected, sort_keys=True, default=str)[:600],
                         json.dumps(actual, sort_keys=True, default=str)[:600] + f"\nfrom: {describe(response)}",
                         sent(response), assumption=assumption)


def expect_true(condition: bool, rule: str, response: httpx.Response, *, detail: str = "",
                assumption: str | None = None) -> None:
    if not condition:
        raise RuleBroken(rule, "true", (detail + "\n" if detail else "") + f"from: {describe(response)}",
                         sent(response), assumption=assumption)
