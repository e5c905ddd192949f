"""The HTTP client of the rule tests (through the run's gate), and how a rule test states an expectation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from .checks import configuration, expected_fields, field_mismatches
from .config import Target
from .diff import differences, show
from .findings import RuleBroken, SentRequest, shown_body
from .gate import GATE_HEADER

JsonObject = dict[str, Any]  # a JSON object as the API sends or shows it (an experiment, a body)


SUCCESS = range(200, 300)  # the vendor documents success, not its number (its SDK accepts any 2xx)


class ApiClient:
    """Calls one deployment (through the gate, which counts, caps and keeps the ledger) as one organization.

    `note` records a refuted assumption a test meets on its way without ending the test (the run's
    findings); without it such an expectation fails the test like any other."""

    def __init__(self, target: Target, gate_url: str, prefix: str, token: str | None, *,
                 note: Callable[[RuleBroken], None] | None = None) -> None:
        self.target = target
        self.prefix = prefix
        self.token = token
        self.note = note
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

    @contextmanager
    def noting(self) -> Iterator[None]:
        """Expectations inside that rest on an assumption are noted as refuted, and the test goes on."""
        try:
            yield
        except RuleBroken as exc:
            if exc.assumption is None or self.note is None:
                raise
            self.note(exc)

    def ok(self, response: httpx.Response, rule: str, status: int = 200) -> None:
        """A success (documented: any 2xx), and then `status` (the number is the `success-statuses`
        assumption, noted without ending the test)."""
        expect(response, SUCCESS, rule)
        with self.noting():
            expect(response, status, f"{rule}: {status}", assumption="success-statuses")

    # -- conveniences ---------------------------------------------------------------------------

    def experiment_body(self, **fields: Any) -> dict[str, Any]:
        """A valid create body for this organization, named with the run's prefix."""
        return {"dataset_id": self.target.dataset_id, "name": f"{self.prefix} contract test",
                "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini"}}],
                "evaluator_ids": [self.target.evaluator_id], **fields}

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", "/experiments/", json_body=self.experiment_body(**fields))
        expect_created(response, "create with a valid body is accepted", self)
        created: dict[str, Any] = response.json()
        return created

    def create_configured(self) -> dict[str, Any]:
        """An experiment whose every editable field holds a value that is not its default (so a write that
        puts omitted fields back to their defaults, or clears them, shows), as read back after checking
        that create stored what it was sent. `generation_method`'s values are our choice
        (`generation-method-values`): a deployment that refuses ours gets the experiment without it."""
        body = self.experiment_body(**CONFIGURED, name=f"{self.prefix} configured")
        response = self.request("POST", "/experiments/", json_body=body)
        if 400 <= response.status_code < 500:
            del body["generation_method"]
            response = self.request("POST", "/experiments/", json_body=body)
        expect_created(response, "create with a valid body is accepted", self)
        read = self.get(str(response.json().get("id")))
        self.ok(read, "a created experiment can be read")
        shown: dict[str, Any] = read.json()
        expect_fields(expected_fields(body), shown, "create stores the fields sent", read)
        return shown

    def get(self, experiment_id: str) -> httpx.Response:
        return self.request("GET", f"/experiments/{experiment_id}/")

    def patch(self, experiment_id: str, body: Any) -> httpx.Response:
        return self.request("PATCH", f"/experiments/{experiment_id}/", json_body=body)

    def write_while_editable(self, experiment: dict[str, Any], body: Any, *, method: str = "PATCH",
                             fresh: Callable[[], dict[str, Any]] | None = None,
                             **create_fields: Any) -> tuple[dict[str, Any], httpx.Response]:
        """Send a write that may touch locked fields; a real backend may have started the experiment
        on its own meanwhile, and its 409 is then legitimate: try once more on a fresh experiment
        (made by `fresh`, else created with `create_fields`), then skip. Returns the experiment written
        to (as it was before) and the response."""
        for attempt in range(2):
            response = self.request(method, f"/experiments/{experiment['id']}/", json_body=body)
            if response.status_code != 409:
                return experiment, response
            status = self.get(experiment["id"]).json().get("status")
            if status == "pending":
                return experiment, response  # a 409 on a pending experiment is the test's business
            if attempt == 0:
                experiment = fresh() if fresh is not None else self.create(**create_fields)
        pytest.skip(f"the deployment starts experiments on its own ({status!r}); their 409 to a locked field "
                    "is legitimate and left no editable experiment for this test")


# Every editable field at a value other than its documented default (batch_size 100, concurrency 15,
# enable_tracing true, span_workflow_name "workflow"; description, generation_method: none).
CONFIGURED: dict[str, Any] = {
    "description": "configured by the contract suite",
    "batch_size": 37, "concurrency": 3, "enable_tracing": False, "span_workflow_name": "ct-span",
    "generation_method": "llm",
    "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini", "temperature": 0.2}},
                 {"type": "completion", "config": {"model": "gpt-4o-mini"}}],
}


def expect_created(response: httpx.Response, rule: str, api: ApiClient | None = None) -> None:
    """A create succeeded (documented: any 2xx), and answered 201 (`create-status-201`, noted)."""
    expect(response, SUCCESS, rule)
    if api is None:
        expect(response, 201, "create answers 201", assumption="create-status-201")
        return
    with api.noting():
        expect(response, 201, "create answers 201", assumption="create-status-201")


def describe(response: httpx.Response) -> str:
    return shown_body(response.status_code, response.text)


def sent(response: httpx.Response) -> SentRequest:
    """The request that got this response, as a finding shows it (the run's reproducer makes the curl lines)."""
    request = response.request
    return SentRequest(request.method, str(request.url), tuple(request.headers.multi_items()), request.content)


def _server_fault(response: httpx.Response) -> bool:
    """A 5xx, or the gate's word that the request never got an answer: a violation, whatever the rule."""
    return response.status_code >= 500 and response.headers.get(GATE_HEADER) != "refused"


def _statuses(wanted: Iterable[int]) -> str:
    wanted = list(wanted)
    if wanted == list(SUCCESS):
        return "any 2xx"
    return " or ".join(map(str, wanted))


def expect(response: httpx.Response, status: int | tuple[int, ...] | range, rule: str, *,
           assumption: str | None = None) -> None:
    """Fail with the rule, what was expected, what came back and a curl line, unless the status fits.

    With `assumption`, a mismatch refutes that assumption instead of breaking the contract (a 5xx
    is a violation all the same)."""
    wanted = (status,) if isinstance(status, int) else status
    if response.status_code not in wanted:
        if response.headers.get(GATE_HEADER) == "refused":
            raise RuntimeError(f"the gate refused a request of this test: {response.text}")
        raise RuleBroken(rule, _statuses(wanted), describe(response), sent(response),
                         assumption=assumption, server_fault=_server_fault(response))


def expect_equal(actual: Any, expected: Any, rule: str, response: httpx.Response, *,
                 assumption: str | None = None) -> None:
    """Fail naming every field that differs (path, expected value, value got), unless equal."""
    if actual != expected or differences(expected, actual):
        entries = tuple(differences(expected, actual))
        raise RuleBroken(rule, show(expected), f"from: {describe(response)}", sent(response),
                         assumption=assumption, diff=entries)


def expect_true(condition: bool, rule: str, response: httpx.Response, *, detail: str = "",
                assumption: str | None = None) -> None:
    if not condition:
        raise RuleBroken(rule, "true", (detail + "\n" if detail else "") + f"from: {describe(response)}",
                         sent(response), assumption=assumption)


def expect_fields(expected: JsonObject, shown: JsonObject, rule: str, response: httpx.Response, *,
                  assumption: str | None = None) -> None:
    """`shown` has the values of `expected` on every documented field it carries, its workflow judged by
    the keys of each step that `expected` holds. A field the docs do not name is ignored, and so is one
    the response leaves out (the vendor makes all but id, name, status and created_at optional): only a
    changed value breaks the rule."""
    mismatches = field_mismatches(configuration(expected), shown, exact=True)
    if mismatches:
        raise RuleBroken(rule, "the documented fields shown keep the expected values",
                         f"from: {describe(response)}", sent(response), assumption=assumption,
                         diff=tuple(mismatches))
