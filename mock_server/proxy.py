"""Proxy mode (`experiments-mock proxy --upstream URL`): a real deployment behind the mock's front door,
every exchange judged against the contract by the contract suite's own attribution.

    CORS → RequestGuard → RequestLog → AdminPrefix (/__mock__) → ValidatingProxy → the upstream
                                                                  [→ the mock's API line: --mock-missing]

The line in front of it is the mock's (`app.build_app`, handed this module's `forwarder`): the
same Host and size guard, request log, controls and console, CORS. In place of the mock's own API
line (edge, credentials, validation, dispatcher) the proxy forwards every request under the
contract's base path to the upstream as it was sent (the caller's own `Authorization`, body and
query; hop-by-hop headers dropped), and judges both directions with
`contract_tests.attribution` (`judge_request` before forwarding, `judge_exchange` on the answer):
each difference is a violation (documented behaviour broken) or a refuted assumption (an id of
the spec's `x-assumptions`), with its place in the spec.

* soft (the default): everything is forwarded and answered as the upstream answered; the findings
  go to the request log (`GET /__mock__/requests`, the console) and, counted, to the
  `X-Contract-Findings` header;
* `--errors`: a request that breaks the documented contract is answered by the mock's own layers
  (its 401 or 400) instead of being forwarded, and an upstream answer that violates the documented
  contract becomes a 502 problem body saying why; `--strict` does the same for refuted assumptions;
* `--mock-missing`: a documented operation the upstream does not have (405 or 501, or a 404 whose
  body is not JSON: a router's page, not an API's answer) is answered by the stateful mock.

Bodies are read for validation up to `limits.MAX_VALIDATED_BYTES` (decoded when gzip- or
deflate-compressed, forwarded as they came); a larger one, or a response that is not JSON, is
streamed through unread and the entry says so. Nothing of the upstream's answers is kept beyond
the bounded request log (and the `--record` files the developer asks for).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests.assumptions import Assumptions
from contract_tests.attribution import ContractFinding, Exchange, blocking, judge_exchange, judge_request

from .context import OUTCOME, ROUTED, Outcome, Routed, answered_by, session_name
from .error_responses import ErrorResponses
from .errors import ApiError, NotFound, RequestTimeout, Unauthorized, UnsupportedMediaType, json_error_response
from .limits import BODY_TIMEOUT_SECONDS, MAX_VALIDATED_BYTES, UPSTREAM_TIMEOUT_SECONDS
from .logs import Masker
from .recording import RecordedExchange, Recorder
from .request_validation import RequestValidation
from .sessions import Sessions
from .spec import SPEC_PATH, Contract
from .validation import ValidatorCache

SUMMARY_HEADER = "X-Contract-Findings"
# httpx logs each request's URL at INFO: a query string may hold a credential, and the request log says more.
logging.getLogger("httpx").setLevel(logging.WARNING)
logger = logging.getLogger("mock_server")
# Hop-by-hop headers (RFC 9110 7.6.1) and the Host, which httpx sets from the upstream's URL.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host"})
# Of an answer, also: the server's own Date and Server (uvicorn sends the proxy's), and CORS headers (the
# browser talks to the proxy, whose CORS policy is the mock's: --cors-origin).
_CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
                 "access-control-allow-headers", "access-control-expose-headers", "access-control-max-age")
_NOT_PASSED_ON = HOP_BY_HOP | {"date", "server"} | frozenset(_CORS_HEADERS)
MISSING_STATUSES = frozenset({404, 405, 501})
MAX_SUMMARY_COUNT = 9999  # the summary header counts, capped so its size is fixed whatever an exchange held


@dataclass(frozen=True)
class ProxyOptions:
    upstream: str  # the upstream's API root: the spec's paths hang from it (https://staging.example.com/api/v2)
    errors: bool = False  # hard mode: refuse requests, replace answers that violate the contract
    strict: bool = False  # with errors: refuted assumptions too
    mock_missing: bool = False
    spec: Path = SPEC_PATH
    timeout: float = UPSTREAM_TIMEOUT_SECONDS
    max_validated: int = MAX_VALIDATED_BYTES
    body_timeout: float = BODY_TIMEOUT_SECONDS
    record: Path | None = None
    html: Path | None = None  # with record: the session's report, written at shutdown from the recording
    transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)  # tests: an in-process upstream

    @property
    def mode(self) -> str:
        return ("hard (--errors --strict)" if self.strict else "hard (--errors)") if self.errors else "soft"


def upstream_root(url: str) -> str:
    """The upstream's API root as given, checked: an http(s) URL, without a trailing slash."""
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.netloc or split.query or split.fragment:
        raise ValueError(f"--upstream must be an http:// or https:// URL of the API root, not {url!r}")
    return url.rstrip("/")


def forwarder(options: ProxyOptions) -> Callable[[Contract, ASGIApp, ASGIApp, Sessions], ValidatingProxy]:
    """What `app.build_app(forwarder=…)` puts in place of the mock's API line."""
    def build(contract: Contract, mock_api: ASGIApp, docs: ASGIApp, sessions: Sessions) -> ValidatingProxy:
        return ValidatingProxy(options, contract, mock_api=mock_api, docs=docs,
                               mock_keys=sessions.default.store.api_keys())
    return build


@dataclass
class _Incoming:
    body: bytes | None  # the whole body, when it was read (None: streamed through unread)
    stream: AsyncIterator[bytes] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes | None  # as read for validation (raw: still compressed); None when streamed
    rest: AsyncIterator[bytes] | None = None  # the body as a stream, when it is too large to read whole
    upstream_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    response: httpx.Response | None = None


class ValidatingProxy:
    """Forwards the API's requests to the upstream and judges each exchange (see the module's docstring)."""

    def __init__(self, options: ProxyOptions, contract: Contract, *, mock_api: ASGIApp, docs: ASGIApp,
                 mock_keys: Sequence[str]) -> None:
        self.options = options
        self.upstream = upstream_root(options.upstream)
        self.contract = contract
        self.assumptions = Assumptions(options.spec)
        self.mock_api = mock_api
        self.docs = docs
        self.mock_keys = list(mock_keys)
        self.mask = Masker(self.mock_keys)
        base = contract.base_path
        self.base = base
        self.docs_paths = frozenset({f"{base}/ui", f"{base}/openapi.json", f"{base}/openapi.yaml"})
        self.refusals = ErrorResponses(RequestValidation(_refuse_by_finding, contract,
                                                         ValidatorCache(contract.response_only_fields),
                                                         body_timeout=options.body_timeout))
        self.client = httpx.AsyncClient(transport=options.transport, timeout=options.timeout, follow_redirects=False,
                                        trust_env=False)
        for name in list(self.client.headers):  # only what the caller sent goes upstream (no User-Agent, …)
            del self.client.headers[name]
        self.recorder = Recorder(options.record, self._masker_for("")) if options.record else None
        self.started = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the API has none: refused before the handshake, as by the mock
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path in self.docs_paths or path.startswith(f"{self.base}/ui/"):
            await self.docs(scope, receive, send)  # the contract's own documents, served here
            return
        if path != self.base and not path.startswith(self.base + "/"):
            error = NotFound(f"Not found: the proxy forwards the paths under {self.base} only.")
            await error.to_response()(scope, receive, answered_by(send, Outcome("routing", error=error)))
            return
        await self._exchange(scope, receive, send)

    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        started_at, started = datetime.now(UTC), time.perf_counter()
        method = scope["method"]
        found = self.contract.route_for(scope["path"])
        operation_id = found[0].operations.get(method) if found else None
        path_params = found[1] if found else {}
        headers = Headers(scope=scope)
        credential = _credential(headers)
        try:
            incoming = await self._read_request(headers, receive)
        except ClientDisconnect:
            return
        except ApiError as error:  # the body did not arrive in time
            await error.to_response()(scope, receive, answered_by(send, Outcome(error.layer, operation_id,
                                                                                error=error)))
            return
        request_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = _query(scope.get("query_string", b""))
        exchange = Exchange(operation_id, method, path_params, query, request_headers,
                            _decoded(incoming.body, request_headers.get("content-encoding", ""), incoming.notes,
                                     self.options.max_validated))
        readable = operation_id is not None and incoming.body is not None
        request_findings = judge_request(exchange, self.assumptions) if readable else []
        if operation_id is None:
            incoming.notes.append("no operation of the contract takes this method and path: forwarded unjudged")
        url = self._url(scope)
        if self.options.errors and blocking(request_findings, strict=self.options.strict):
            await self._refuse_request(scope, operation_id, path_params, incoming, request_findings, send,
                                       started, started_at, url, credential)
            return
        try:
            answer = await self._forward(scope, url, incoming)
        except httpx.HTTPError as exc:
            await self._unreachable(scope, operation_id, exc, request_findings, incoming, send, started, started_at,
                                    url, credential)
            return
        if self.options.mock_missing and operation_id is not None and _missing(answer):
            await self._from_mock(scope, operation_id, incoming, answer, request_findings, send, started, started_at,
                                  url, credential)
            return
        response_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in answer.headers}
        findings = list(request_findings)
        response_body = _decoded(answer.body, response_headers.get("content-encoding", ""), answer.notes,
                                 self.options.max_validated)
        if operation_id is not None and answer.body is not None:  # an answer streamed through unread is not judged
            judged = dataclasses.replace(exchange, status=answer.status, response_headers=response_headers,
                                         response_body=response_body)
            findings = judge_exchange(judged, self.assumptions, request_findings=request_findings)
        if self.options.errors:
            refused = [f for f in blocking(findings, strict=self.options.strict) if f.direction == "response"]
            if refused:
                await _close(answer)
                await self._refuse_answer(scope, operation_id, incoming, answer, findings, refused, send, started,
                                          started_at, url, credential)
                return
        outcome = self._outcome("upstream", operation_id, findings, answer.status, answer.upstream_seconds,
                                [*incoming.notes, *answer.notes], credential)
        out_headers = [*answer.headers, (SUMMARY_HEADER.lower().encode(), _summary(findings).encode())]
        if answer.body is not None and answer.rest is None and not _has(answer.headers, b"content-length"):
            out_headers.append((b"content-length", str(len(answer.body)).encode()))
        try:
            await send({"type": "http.response.start", "status": answer.status, "headers": out_headers,
                        OUTCOME: outcome})
            if answer.body is not None:
                await send({"type": "http.response.body", "body": answer.body, "more_body": answer.rest is not None})
            if answer.rest is not None:
                async for chunk in answer.rest:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await _close(answer)
        self._record(started_at, started, method, url, scope, incoming, answer.status, answer.headers,
                     response_body, answer.upstream_seconds, operation_id, "upstream",
                     findings, [*incoming.notes, *answer.notes], credential)

    # -- the request ------------------------------------------------------------------------------

    async def _read_request(self, headers: Headers, receive: Receive) -> _Incoming:
        """The body whole when it is small enough to judge (within the mock's body time limit); else
        a stream of it, noted."""
        limit = self.options.max_validated
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > limit:
            return _Incoming(None, _rest(receive, []), [f"request body of {length} bytes (over {limit}): "
                                                        "forwarded unvalidated"])
        if not length and "transfer-encoding" not in headers:
            return _Incoming(b"")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.options.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ClientDisconnect()
                    chunk = message.get("body", b"")
                    chunks.append(chunk)
                    size += len(chunk)
                    if not message.get("more_body", False):
                        return _Incoming(b"".join(chunks))
                    if size > limit:
                        return _Incoming(None, _rest(receive, chunks),
                                         [f"request body over {limit} bytes: forwarded unvalidated"])
        except TimeoutError:
            raise RequestTimeout(f"The request body did not arrive within {self.options.body_timeout:g} s.") from None

    def _url(self, scope: Scope) -> str:
        raw: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        suffix = raw[len(self.base):].decode("latin-1")
        return self.upstream + suffix + ("?" + query.decode("latin-1") if query else "")

    async def _forward(self, scope: Scope, url: str, incoming: _Incoming) -> _Answer:
        connection_listed = {token.strip().lower().encode() for name, value in scope["headers"]
                             if name.lower() == b"connection" for token in value.decode("latin-1").split(",")}
        headers = [(k, v) for k, v in scope["headers"]
                   if k.lower().decode("latin-1") not in HOP_BY_HOP and k.lower() not in connection_listed]
        content: bytes | AsyncIterator[bytes] | None = incoming.body or None if incoming.stream is None else \
            incoming.stream
        request = self.client.build_request(scope["method"], url, headers=headers, content=content)
        sent = time.perf_counter()
        response = await self.client.send(request, stream=True)
        try:
            return await self._read_answer(response, sent)
        except BaseException:
            await response.aclose()
            raise

    async def _read_answer(self, response: httpx.Response, sent: float) -> _Answer:
        """The upstream's answer, its body read whole when small enough to judge; else streamed, noted."""
        headers = [(k, v) for k, v in response.headers.raw if k.lower().decode("latin-1") not in _NOT_PASSED_ON]
        answer = _Answer(response.status_code, headers, None, response=response)
        raw = response.aiter_raw()
        content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        length = response.headers.get("content-length", "")
        limit = self.options.max_validated
        streamed = None
        if content_type == "text/event-stream":
            streamed = "an event stream: passed through as it comes, unvalidated"
        elif length.isascii() and length.isdigit() and int(length) > limit:
            streamed = f"response body of {length} bytes (over {limit}): streamed through unvalidated"
        if streamed:
            answer.notes.append(streamed)
            answer.rest = raw
            answer.upstream_seconds = time.perf_counter() - sent
            return answer
        chunks: list[bytes] = []
        size = 0
        async for chunk in raw:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                answer.notes.append(f"response body over {limit} bytes: streamed through unvalidated")
                answer.upstream_seconds = time.perf_counter() - sent
                answer.rest = _prefixed(chunks, raw)
                return answer
        answer.body = b"".join(chunks)
        answer.upstream_seconds = time.perf_counter() - sent
        await response.aclose()
        return answer

    # -- answers the proxy gives itself -------------------------------------------------------------

    async def _refuse_request(self, scope: Scope, operation_id: str | None, path_params: Mapping[str, str],
                              incoming: _Incoming, findings: list[ContractFinding], send: Send, started: float,
                              started_at: datetime, url: str, credential: str) -> None:
        """Hard mode: the mock's own answer to a request that breaks the contract (never forwarded)."""
        assert operation_id is not None  # only requests of an operation are judged
        headers = Headers(scope=scope)
        routed = Routed(operation_id, path_params, session_name(headers), {}, ", ".join(headers.getlist("prefer")))
        refused_scope = {**scope, ROUTED: routed, _FINDINGS: findings}
        proxy = self._proxy_info("proxy", None, None, [*incoming.notes, "refused (--errors): not forwarded"],
                                 credential)
        status = 0

        async def merged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                outcome = message.get(OUTCOME) or Outcome("validation", operation_id)
                message = {**message, "headers": [*message.get("headers", []),
                                                  (SUMMARY_HEADER.lower().encode(), _summary(findings).encode())],
                           OUTCOME: dataclasses.replace(outcome, findings=_as_json(findings), proxy=proxy)}
            await send(message)

        body = incoming.body or b""
        await self.refusals(refused_scope, _replay(body), merged)
        self._record(started_at, started, scope["method"], url, scope, incoming, status, [], None, None,
                     operation_id, "proxy", findings, proxy["notes"], credential)

    async def _refuse_answer(self, scope: Scope, operation_id: str | None, incoming: _Incoming, answer: _Answer,
                             findings: list[ContractFinding], refused: list[ContractFinding], send: Send,
                             started: float, started_at: datetime, url: str, credential: str) -> None:
        """Hard mode: a 502 problem body in place of an upstream answer that breaks the contract."""
        mask = self._masker_for(credential)
        problem = {
            "type": "about:blank", "title": "The upstream's answer breaks the contract", "status": 502,
            "detail": mask(f"{self.upstream} answered {answer.status} to {scope['method']} {scope['path']}, which "
                           + "; ".join(f"{f.rule}: {f.message}" for f in refused[:5])
                           + (f" (and {len(refused) - 5} more)" if len(refused) > 5 else "")),
            "upstream_status": answer.status,
            "findings": [{k: mask(v) if isinstance(v, str) else v for k, v in f.as_json().items()} for f in refused],
        }
        outcome = self._outcome("contract", operation_id, findings, answer.status, answer.upstream_seconds,
                                [*incoming.notes, *answer.notes, "answer replaced with 502 (--errors)"], credential)
        response = json_error_response(502, problem, {SUMMARY_HEADER: _summary(findings)})
        response.headers["content-type"] = "application/problem+json"
        await response(scope, _replay(b""), answered_by(send, outcome))
        self._record(started_at, started, scope["method"], url, scope, incoming, 502, [], None,
                     answer.upstream_seconds, operation_id, "proxy", findings, outcome.proxy["notes"] if outcome.proxy
                     else [], credential)

    async def _unreachable(self, scope: Scope, operation_id: str | None, exc: httpx.HTTPError,
                           findings: list[ContractFinding], incoming: _Incoming, send: Send, started: float,
                           started_at: datetime, url: str, credential: str) -> None:
        timeout = isinstance(exc, httpx.TimeoutException)
        status = 504 if timeout else 502
        reason = f"did not answer within {self.options.timeout:g} s" if timeout else \
            f"could not be reached ({type(exc).__name__}: {str(exc)[:200] or 'no detail'})"
        error = ApiError(f"The upstream {self.upstream} {reason}.", status=status, layer="upstream")
        outcome = self._outcome("upstream", operation_id, findings, None, None, [*incoming.notes, reason], credential)
        outcome = dataclasses.replace(outcome, error=error)
        await error.to_response()(scope, _replay(b""), answered_by(send, outcome))
        self._record(started_at, started, scope["method"], url, scope, incoming, status, [], None, None,
                     operation_id, "proxy", findings, [reason], credential)

    async def _from_mock(self, scope: Scope, operation_id: str, incoming: _Incoming, answer: _Answer,
                         findings: list[ContractFinding], send: Send, started: float, started_at: datetime, url: str,
                         credential: str) -> None:
        """--mock-missing: the stateful mock answers an operation the upstream does not have."""
        await _close(answer)
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        if credential not in self.mock_keys and self.mock_keys:  # the upstream's token means nothing to the mock
            headers.append((b"authorization", f"Bearer {self.mock_keys[0]}".encode()))
        elif credential:
            headers.append((b"authorization", f"Bearer {credential}".encode()))
        note = f"the upstream answered {answer.status}: the mock answered instead (--mock-missing)"
        proxy = self._proxy_info("mock", answer.status, answer.upstream_seconds, [*incoming.notes, note], credential)
        status = 0
        chunks: list[bytes] = []
        answered_headers: list[tuple[bytes, bytes]] = []

        async def merged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answered_headers.extend(message.get("headers", []))
                outcome = message.get(OUTCOME) or Outcome("handler", operation_id)
                message = {**message, OUTCOME: dataclasses.replace(outcome, findings=_as_json(findings), proxy=proxy)}
            elif message["type"] == "http.response.body" and sum(map(len, chunks)) < self.options.max_validated:
                chunks.append(message.get("body", b""))
            await send(message)

        body = incoming.body or b""
        await self.mock_api({**scope, "headers": headers}, _replay(body), merged)
        self._record(started_at, started, scope["method"], url, scope, incoming, status, answered_headers,
                     b"".join(chunks), answer.upstream_seconds, operation_id, "mock", findings, proxy["notes"],
                     credential)

    # -- what the log and the recording keep ----------------------------------------------------------

    def _outcome(self, layer: str, operation_id: str | None, findings: list[ContractFinding],
                 upstream_status: int | None, upstream_seconds: float | None, notes: list[str],
                 credential: str) -> Outcome:
        answered = "upstream" if layer == "upstream" and upstream_status is not None else "proxy"
        return Outcome(layer, operation_id, findings=_as_json(findings),
                       proxy=self._proxy_info(answered, upstream_status, upstream_seconds, notes, credential))

    def _proxy_info(self, answered_by_: str, upstream_status: int | None, upstream_seconds: float | None,
                    notes: list[str], credential: str) -> dict[str, Any]:
        mask = self._masker_for(credential)
        return {"answered_by": answered_by_, "upstream": self.upstream, "upstream_status": upstream_status,
                "upstream_ms": round(upstream_seconds * 1000, 1) if upstream_seconds is not None else None,
                "mode": self.options.mode, "notes": [mask(n) for n in notes]}

    def _masker_for(self, credential: str) -> Callable[[str], str]:
        if not credential:
            return self.mask
        mask = self.mask
        return lambda text: mask(text).replace(credential, "***")

    def _record(self, started_at: datetime, started: float, method: str, url: str, scope: Scope,
                incoming: _Incoming, status: int, response_headers: list[tuple[bytes, bytes]],
                response_body: bytes | None, upstream_seconds: float | None, operation_id: str | None,
                answered: str, findings: Sequence[ContractFinding], notes: Sequence[str], credential: str) -> None:
        if self.recorder is None:
            return
        decode = _header_text
        recorder = self.recorder
        recorder.mask = self._masker_for(credential)
        request_body = _decoded(incoming.body, Headers(scope=scope).get("content-encoding", ""), [],
                                self.options.max_validated)
        recorder.add(RecordedExchange(
            started_at, method, url, [decode(k, v) for k, v in scope["headers"]], request_body, status,
            [decode(k, v) for k, v in response_headers], response_body, time.perf_counter() - started,
            upstream_seconds, operation_id, answered, [f.as_json() for f in findings], list(notes)))

    async def aclose(self) -> None:
        """At the server's shutdown: the connections to the upstream closed, the recording too, and the
        session's report written from it (`--html`; here, as uvicorn ends the process on the signal it
        handled once it has shut down)."""
        await self.client.aclose()
        self.close()
        if self.options.html and self.options.record:
            from contract_tests import har, report_html

            page = har.report(self.options.record, self.assumptions, target=f"{self.upstream} (through the "
                              f"validating proxy, {self.options.mode})", strict=self.options.strict,
                              started=self.started)
            report_html.write(self.options.html, page)
            logger.info("proxy session report: %s", self.options.html)

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()


_FINDINGS = "proxy.findings"  # scope key: the findings a hard refusal is for


async def _refuse_by_finding(scope: Scope, receive: Receive, send: Send) -> None:
    """Reached when the mock's request validation found nothing to refuse but the findings did:
    missing credentials (the mock's 401), a media type (415), or a rule beyond the schema (400)."""
    findings: list[ContractFinding] = scope.get(_FINDINGS, [])
    rules = {f.rule for f in findings}
    if "credentials_required" in rules:
        raise Unauthorized()
    if "request_media_type" in rules:
        raise UnsupportedMediaType("Unsupported media type in request; send application/json.")
    raise ApiError("; ".join(f"{f.field + ': ' if f.field else ''}{f.message}" for f in findings[:10])
                   or "The request breaks the contract.")


def _missing(answer: _Answer) -> bool:
    """Whether the upstream lacks the operation: 405 or 501, or a 404 that is not an API's JSON answer."""
    if answer.status not in MISSING_STATUSES:
        return False
    if answer.status != 404:
        return True
    content_type = next((v for k, v in answer.headers if k.lower() == b"content-type"), b"").decode("latin-1")
    return "json" not in content_type.lower()


def _summary(findings: Sequence[ContractFinding]) -> str:
    violations = sum(1 for f in findings if f.kind == "violation")
    refuted = len(findings) - violations
    return f"violations={min(violations, MAX_SUMMARY_COUNT)}; refuted-assumptions={min(refuted, MAX_SUMMARY_COUNT)}"


def _as_json(findings: Sequence[ContractFinding]) -> tuple[dict[str, Any], ...]:
    return tuple(f.as_json() for f in findings)


def _credential(headers: Headers) -> str:
    return headers.get("authorization", "").strip().rpartition(" ")[2]


def _query(query_string: bytes) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in found:
            found[name] = [*(found[name] if isinstance(found[name], list) else [found[name]]), value]
        else:
            found[name] = value
    return found


def _decoded(body: bytes | None, encoding: str, notes: list[str], limit: int) -> bytes | None:
    """`body` decoded from gzip or deflate for validation (at most `limit` bytes out); as it is otherwise."""
    encoding = encoding.strip().lower()
    if body is None or not body or encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        notes.append(f"a {encoding}-encoded body: judged as it came, undecoded")
        return body
    try:
        decoder = zlib.decompressobj(wbits=31 if "gzip" in encoding else 15)
        decoded = decoder.decompress(body, limit)
        if decoder.unconsumed_tail:
            notes.append(f"a {encoding} body decoding to over {limit} bytes: judged on its first {limit}")
        return decoded
    except zlib.error:
        notes.append(f"a {encoding} body that does not decode")
        return body


def _has(headers: list[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(k.lower() == name for k, _ in headers)


def _header_text(name: bytes, value: bytes) -> tuple[str, str]:
    return name.decode("latin-1"), value.decode("latin-1")


def _replay(body: bytes) -> Receive:
    """A `receive` that hands over `body` once, then waits like a client that has sent everything."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _rest(receive: Receive, first: list[bytes]) -> AsyncIterator[bytes]:
    """The request body as a stream: the chunks already read (more follow them), then the rest as it arrives."""
    for chunk in first:
        yield chunk
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _prefixed(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in first:
        yield chunk
    async for chunk in rest:
        yield chunk


async def _close(answer: _Answer) -> None:
    if answer.response is not None:
        await answer.response.aclose()
