"""The gate: a loopback proxy that every request of a contract run passes on its way to the deployment.

One choke point, so the run's safety rules hold whoever sends the request (the rule tests,
Schemathesis, Schemathesis' own check requests, the hooks' throwaway creates):
* **the cap** counts every request; once the next one would leave no room to delete what the
  run created, the gate refuses it and the run ends with exit status 2;
* **read-only** runs never send a write (anything but GET/HEAD/OPTIONS and the two search POSTs);
* **ownership**: PATCH, PUT and DELETE reach only experiments whose create this run sent and whose
  id (the `id` of the create's answer) the run had not seen before (plus ids the user designated,
  such as `--running-experiment-id`, and path ids that cannot name an experiment, which negative
  tests send). The name is not what makes an experiment the run's: a lenient deployment may accept
  a generated create whose `name` is `null` or `0` and name it as it likes; that experiment is
  still the run's, and deleted at the end. An answer whose name lacks the run's prefix although
  the create sent a prefixed name is the one exception (the deployment answered with something
  other than what the run asked for): it is noted and left alone;
* **rate limit** and **timeouts**, and network failures recorded as findings.
It also keeps the ledger (what was created, with the request that made it, and what was deleted;
a create answered with success but no readable id counts as created and untracked: the clean-up
looks for such experiments by the run's name prefix through the documented name filter, and what it
cannot find the report counts as left over) and what each operation answered, for the report.

Refusals never reach the deployment: the gate answers them itself with status 599 and an
`X-Contract-Gate` header, so they cannot be mistaken for the deployment's answers.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.types import Message, Receive, Scope, Send

from mock_server.spec import Contract

GATE_HEADER = "x-contract-gate"
REFUSED = 599
# Operations that change nothing even though some are POSTs.
UNTRACKED_PAGES = 50  # pages of 100 the clean-up reads to find creates answered without an id
READ_OPERATIONS = frozenset({"listExperiments", "listExperimentsPage", "filterExperiments", "getExperimentSummary",
                             "summarizeFilteredExperiments", "getExperiment"})
ITEM_WRITES = frozenset({"PATCH", "PUT", "DELETE"})
# A path id outside this pattern cannot name an experiment (the contract's experiment-id-shape: 1-64 of
# A-Z a-z 0-9 _ -), so negative tests that send one are let through.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HOP_BY_HOP = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
                         "upgrade", "proxy-connection", "accept-encoding"})


@dataclass
class Created:
    """An experiment this run created: the create request (to reproduce findings) and its fate."""

    experiment_id: str
    authorization: str
    body: bytes
    deleted: bool = False


@dataclass
class NetworkFailure:
    method: str
    url: str
    error: str


@dataclass
class Refusal:
    method: str
    path: str
    reason: str


@dataclass
class GateState:
    sent: int = 0
    cap_reached: bool = False
    created: dict[str, Created] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    anomalies: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    network_failures: list[NetworkFailure] = field(default_factory=list)
    untracked: list[int] = field(default_factory=list)  # statuses of successful creates answered without an id
    untracked_authorization: set[str] = field(default_factory=set)  # the credentials those creates were sent with
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    # The paths of the requests no operation of the spec takes, by their `METHOD (no operation)` row.
    unrouted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


class Gate:
    """ASGI app forwarding to `upstream` (the deployment's API root) under the same path."""

    def __init__(self, upstream: str, contract: Contract, *, prefix: str, max_requests: int,
                 read_only: bool = False, rate_limit: float | None = None, timeout: float = 10.0,
                 designated: frozenset[str] = frozenset(),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")
        self.contract = Contract(contract.document, base_path=self.base_path)
        self.prefix = prefix
        self.max_requests = max_requests
        self.read_only = read_only
        self.timeout = timeout
        self.designated = designated
        self._interval = 1.0 / rate_limit if rate_limit else 0.0
        self._next_slot = 0.0
        self._slot_lock: asyncio.Lock | None = None
        self._lock = threading.Lock()
        self.state = GateState()
        self._client: httpx.AsyncClient | None = None
        self._transport = transport  # an in-process upstream (the embedded mock), else the network
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- what the run reads -------------------------------------------------------------------------

    def owned_alive(self) -> list[Created]:
        with self._lock:
            return [c for c in self.state.created.values() if not c.deleted]

    def created(self, experiment_id: str) -> Created | None:
        with self._lock:
            return self.state.created.get(experiment_id)

    def designate(self, experiment_id: str) -> None:
        """Allow writes to an experiment the user named for a test (it is never deleted by the run)."""
        self.designated = self.designated | {experiment_id}

    # -- the proxy ------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        method = scope["method"]
        path = scope["path"]
        found = self.contract.route_for(path)
        operation_id = found[0].operations.get(method) if found else None
        path_params = found[1] if found else {}
        refusal = self._check(method, operation_id, path_params.get("experiment_id"))
        if refusal is not None:
            with self._lock:
                self.state.refusals.append(Refusal(method, path, refusal))
            await _answer(send, REFUSED, {"detail": f"refused by the contract suite's gate: {refusal}"},
                          gate="refused")
            return
        await self._pace()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in _HOP_BY_HOP]
        # The raw (still percent-encoded) path: a decoded one may hold characters no URL can carry.
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        url = self.upstream_origin + raw_path + (f"?{scope['query_string'].decode('latin-1')}"
                                                 if scope.get("query_string") else "")
        try:
            response = await self._http().request(method, url, headers=headers, content=body)
        except httpx.InvalidURL as exc:
            with self._lock:
                self.state.refusals.append(Refusal(method, path, f"not a URL httpx can send: {exc}"))
            await _answer(send, REFUSED, {"detail": f"refused by the contract suite's gate: {exc}"}, gate="refused")
            return
        except httpx.HTTPError as exc:
            with self._lock:
                self.state.network_failures.append(NetworkFailure(method, url, f"{type(exc).__name__}: {exc}"))
            await _answer(send, 502, {"detail": f"network failure: {type(exc).__name__}"}, gate="network-failure")
            return
        content = response.content
        self._observe(method, operation_id, path_params.get("experiment_id"), dict(headers), body,
                      response.status_code, content, path)
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
               if k.lower() not in _HOP_BY_HOP and k.lower() != "content-encoding"]
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Close the upstream connections when the server stops (open ones keep the upstream busy)."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop = asyncio.get_running_loop()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                    self._client = None
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, transport=self._transport)
        return self._client

    async def _pace(self) -> None:
        if not self._interval:
            return
        if self._slot_lock is None:
            self._slot_lock = asyncio.Lock()
        async with self._slot_lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)

    def _check(self, method: str, operation_id: str | None, experiment_id: str | None) -> str | None:
        """Why this request may not be sent, or None."""
        is_read = method in ("GET", "HEAD", "OPTIONS") or operation_id in READ_OPERATIONS
        if self.read_only and not is_read:
            return f"a read-only run sends no {method}"
        if method in ITEM_WRITES and experiment_id is not None and ID_PATTERN.match(experiment_id) \
                and not self._may_change(experiment_id):
            return f"experiment {experiment_id!r} was not created by this run"
        with self._lock:
            reserve = sum(1 for c in self.state.created.values() if not c.deleted)
            if self.state.sent + reserve >= self.max_requests:
                self.state.cap_reached = True
                return (f"the request cap ({self.max_requests}) is reached; the rest is kept to delete "
                        f"the {reserve} experiment(s) this run created")
            self.state.sent += 1
        return None

    def _may_change(self, experiment_id: str) -> bool:
        with self._lock:
            created = self.state.created.get(experiment_id)
        return created is not None or experiment_id in self.designated

    def _observe(self, method: str, operation_id: str | None, experiment_id: str | None, headers: dict[str, str],
                 body: bytes, status: int, content: bytes, path: str = "") -> None:
        payload = _json(content)
        with self._lock:
            self.state.statuses[operation_id or f"{method} (no operation)"][status] += 1
            if operation_id is None and len(self.state.unrouted[f"{method} (no operation)"]) < 20:
                self.state.unrouted[f"{method} (no operation)"].add(path[len(self.base_path):] or path)
            if operation_id == "createExperiment" and 200 <= status < 300:
                if isinstance(payload, dict) and isinstance(payload.get("id"), str) and payload["id"]:
                    self._claim(payload, headers, body)
                else:
                    if not self.state.untracked:
                        self.state.anomalies.append(f"a create answered {status} without an experiment id the run "
                                                    "could read; the clean-up looks for such experiments by the "
                                                    "run's name prefix")
                    self.state.untracked.append(status)
                    self.state.untracked_authorization.add(
                        next((v for k, v in headers.items() if k.lower() == "authorization"), ""))
            elif operation_id == "deleteExperiment" and 200 <= status < 300 and experiment_id in self.state.created:
                self.state.created[experiment_id].deleted = True
            for found in _ids(payload):
                self.state.seen_ids.add(found)

    def _claim(self, payload: dict[str, Any], headers: dict[str, str], body: bytes) -> None:
        """Take a create's answer into the ledger: its id is the run's unless the run had seen it before,
        or the run sent a prefixed name and the answer shows the experiment under another name."""
        experiment_id, name = str(payload["id"]), payload.get("name")
        sent = _json(body)
        sent_name = sent.get("name") if isinstance(sent, dict) else None
        if experiment_id in self.state.seen_ids or experiment_id in self.state.created:
            self.state.anomalies.append(f"a create answered id {experiment_id!r}, which the run had seen before; "
                                        "the run will not change or delete it")
        elif isinstance(sent_name, str) and sent_name.startswith(self.prefix) and "name" in payload \
                and not (isinstance(name, str) and name.startswith(self.prefix)):
            self.state.anomalies.append(f"a create sent {sent_name!r} and was answered with {experiment_id!r} named "
                                        f"{name!r}; the run will not change or delete it")
        else:
            authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
            self.state.created[experiment_id] = Created(experiment_id, authorization, body)

    # -- clean-up ------------------------------------------------------------------------------------

    def clean_up(self) -> list[str]:
        """Delete every experiment the run created and did not delete (the requests the cap kept in
        reserve); returns those that would not go. Called from another thread while the gate serves."""
        if self._loop is None:
            return [c.experiment_id for c in self.owned_alive()]
        return asyncio.run_coroutine_threadsafe(self._clean_up(), self._loop).result(timeout=600)

    async def _clean_up(self) -> list[str]:
        if self.state.untracked:
            await self._find_untracked()
        left: list[str] = []
        for created in self.owned_alive():
            with self._lock:
                self.state.sent += 1
            try:
                response = await self._http().delete(
                    f"{self.upstream_origin}{self.base_path}/experiments/{created.experiment_id}/",
                    headers={"Authorization": created.authorization})
            except httpx.HTTPError:
                left.append(created.experiment_id)
                continue
            if 200 <= response.status_code < 300 or response.status_code == 404:
                with self._lock:
                    created.deleted = True
            else:
                left.append(created.experiment_id)
        return left


    async def _find_untracked(self) -> None:
        """Creates answered without an id: find the run's experiments by its name prefix (random per run,
        so only this run names experiments with it) through the documented name filter, and take those
        the ledger does not hold into it, to be deleted like the others. Bounded in pages."""
        for authorization in sorted(self.state.untracked_authorization):
            for page in range(1, UNTRACKED_PAGES + 1):
                with self._lock:
                    self.state.sent += 1
                try:
                    response = await self._http().post(
                        f"{self.upstream_origin}{self.base_path}/experiments/list/?page={page}&page_size=100",
                        json={"filters": {"name": {"operator": "startswith", "value": self.prefix}}},
                        headers={"Authorization": authorization})
                except httpx.HTTPError:
                    return
                payload = _json(response.content) if 200 <= response.status_code < 300 else None
                results = payload.get("results") if isinstance(payload, dict) else None
                if not isinstance(results, list) or not results:
                    break
                with self._lock:
                    for item in results:
                        found, name = (item.get("id"), item.get("name")) if isinstance(item, dict) else (None, None)
                        if isinstance(found, str) and found and isinstance(name, str) \
                                and name.startswith(self.prefix) and found not in self.state.created:
                            self.state.created[found] = Created(found, authorization, b"")
                            if self.state.untracked:
                                self.state.untracked.pop()
                if not (isinstance(payload, dict) and payload.get("next")):
                    break


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, body: dict[str, Any], *, gate: str) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (GATE_HEADER.encode(), gate.encode())]})
    await send({"type": "http.response.body", "body": data})


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def _ids(payload: Any) -> list[str]:
    """Experiment ids a response shows (an experiment, a list of them, or a filtered page)."""
    if isinstance(payload, dict) and isinstance(payload.get("results"), list):
        payload = payload["results"]
    items = payload if isinstance(payload, list) else [payload]
    return [item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]
