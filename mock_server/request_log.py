"""Why did my request fail? One log line per rejected request, and each session's last requests on demand.

The log watches each request from outside, as Starlette's middlewares do: it wraps `receive` to keep
the start of the body the layers below read, and `send` to see the status, the start of the response
body and the `context.Outcome` the answering layer attached (which it takes off the message). What a
request sent is kept cut to a bounded length (MAX_LOGGED_CHARS, MAX_LOGGED_ERRORS,
MAX_LOGGED_BODY_BYTES) with tokens masked, so the 200 entries kept per session stay small whatever the
requests held; on the terminal it is escaped as well (logs.printable), so no request can forge a log line.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock, SystemClock
from .context import OUTCOME, Outcome, session_name
from .domain_errors import SessionLimitReached
from .errors import ApiError, FieldErrors, clip
from .limits import MAX_LOGGED_BODY_BYTES, MAX_LOGGED_CHARS, MAX_LOGGED_ERRORS, MAX_LOGGED_FINDINGS
from .logs import Masker, json_line, printable
from .sessions import RequestHistory, Sessions
from .spec import Contract, json_pointer, ref_parts

logger = logging.getLogger("mock_server.requests")
# The layers that answer only requests whose credentials were accepted (every operation needs some).
AUTHENTICATED_LAYERS = frozenset({"validation", "rules", "forced", "fault", "handler"})
def shown_body(chunks: list[bytes], size: int, mask: Callable[[str], str]) -> str | None:
    """The start of a body as text, tokens masked, cut to MAX_LOGGED_BODY_BYTES (None when empty)."""
    if not size:
        return None
    text = mask(b"".join(chunks)[:MAX_LOGGED_BODY_BYTES].decode("utf-8", errors="replace"))
    return text + f"… ({size} bytes)" if size > MAX_LOGGED_BODY_BYTES else text


class _Capture:
    """The first MAX_LOGGED_BODY_BYTES of a body as it passes, and its whole size."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.kept = 0
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if chunk and self.kept < MAX_LOGGED_BODY_BYTES:
            self.chunks.append(chunk[:MAX_LOGGED_BODY_BYTES - self.kept])
            self.kept += len(self.chunks[-1])

    def text(self, mask: Callable[[str], str]) -> str | None:
        return shown_body(self.chunks, self.size, mask)


class RequestLog:
    def __init__(self, app: ASGIApp, contract: Contract, sessions: Sessions, *, json_lines: bool = False,
                 clock: Clock | None = None, origin_allowed: Callable[[str], bool] = lambda origin: True,
                 mask: Masker | None = None, credentials_ok: Callable[[str | None], bool] | None = None) -> None:
        self.app = app
        self.origin_allowed = origin_allowed
        self.credentials_ok = credentials_ok or (lambda authorization: authorization is not None)
        self.contract = contract
        self.sessions = sessions
        self.json_lines = json_lines
        self.clock: Clock = clock or SystemClock()
        self.mask = mask or Masker(sessions.default.store.api_keys())  # keys are the same in every session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/__mock__"):  # the controls are not logged; their outcome is dropped
            await self.app(scope, receive, _without_outcome(send))
            return
        status = 0
        outcome: Outcome | None = None
        request_body, response_body = _Capture(), _Capture()
        started = time.perf_counter()

        async def watch_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.add(message.get("body", b""))
            return message

        async def watch_send(message: Message) -> None:
            nonlocal status, outcome
            if message["type"] == "http.response.start":
                status = message["status"]
                if OUTCOME in message:
                    message = dict(message)
                    outcome = message.pop(OUTCOME)
            elif message["type"] == "http.response.body":
                response_body.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, watch_receive, watch_send)
        finally:
            # No outcome: the docs answered (or, with status 0, nobody: the client went away).
            self._record(scope, status, outcome or Outcome("docs" if status else "none"), request_body,
                         response_body, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, outcome: Outcome, request_body: _Capture,
                response_body: _Capture, seconds: float) -> None:
        operation_id = outcome.operation_id  # None for what no operation takes (404, 405, OPTIONS)
        # Whatever token the request carried, even one of no known shape (a proxied staging key), is masked by value.
        credential = _credential(scope)
        mask = self.mask if self.mask.covers(credential) else _masking_also(self.mask, credential)
        errors, total = self._errors(outcome.error, operation_id, status, outcome.layer) if status >= 400 else ([], 0)
        headers = Headers(scope=scope)
        session = session_name(headers)
        errors = [{**e, "field": e["field"] and mask(e["field"]), "message": mask(e["message"])} for e in errors]
        path = mask(clip(scope["path"], MAX_LOGGED_CHARS))
        record = {
            "time": self.clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": clip(scope["method"], 32), "path": path,
            "operation_id": operation_id, "status": status, "ms": round(seconds * 1000, 1),
            "errors": errors,
            **({"errors_not_shown": total - len(errors)} if total > len(errors) else {}),
            **({"forced": mask(outcome.forced)} if outcome.forced else {}),
            "session": mask(clip(session, MAX_LOGGED_CHARS)) if session else None,
            "layer": outcome.layer,
            "request_body": request_body.text(mask),
            "response_body": response_body.text(mask),
            **_proxied(outcome, mask),
        }
        self._history(headers, session, outcome).add(record)
        if status >= 400:
            shown = {k: v for k, v in record.items() if k not in ("request_body", "response_body")}
            if self.json_lines:
                logger.warning("%s", json_line(shown), extra={"request": shown})
            else:
                forced = mask(outcome.forced) if outcome.forced else None
                reasons = forced or "; ".join(
                    f"{e['field'] + ': ' if e['field'] else ''}{e['rule']} ({e['message']})" for e in errors)
                if total > len(errors):
                    reasons += f"; … {total - len(errors)} more"
                logger.warning("%s %s %s %s", printable(clip(scope["method"], 32)), printable(path), status,
                               printable(reasons))

    def _history(self, headers: Headers, session: str | None, outcome: Outcome) -> RequestHistory:
        """Where the entry is kept: in its session's log when the request was authenticated and came from
        no browser origin or an allowed one; else in a small bucket of its own, so that a stranger's
        requests (a web page's `no-cors` POSTs, an unauthenticated flood) never push a developer's
        entries out, nor create a session."""
        origin = headers.get("origin")
        authenticated = outcome.layer in AUTHENTICATED_LAYERS or (
            outcome.layer != "auth" and self.credentials_ok(headers.get("authorization")))  # a 404, 405, the docs
        from_here = origin is None or self.origin_allowed(origin)
        if authenticated and from_here:
            with contextlib.suppress(SessionLimitReached):  # answered by then; kept aside instead
                return self.sessions.get(session).history
        if outcome.layer == "docs" and from_here:
            # Swagger UI's own requests carry no credentials; they go to the docs window of a session
            # that exists (where they push no API call out), never creating one.
            existing = self.sessions.find(session)
            if existing is not None:
                return existing.history
        return self.sessions.unattributed

    def _errors(self, error: ApiError | None, operation_id: str | None,
                status: int, layer: str = "") -> tuple[list[dict[str, Any]], int]:
        """The first MAX_LOGGED_ERRORS errors of the answer (texts cut short), and how many it had."""
        spec = self._response_pointer(operation_id, status)
        if layer == "forced" and operation_id:
            # A refused Prefer or __code (a status or example the operation does not document): the place
            # to look is the operation's documented responses, not the 400 it was answered with.
            spec = json_pointer((*self.contract.operation_pointer(operation_id), "responses"))
        if isinstance(error, FieldErrors) and error.details and operation_id:
            shown = [{"field": _short(d.field), "rule": d.rule, "message": _short(d.message),
                      "spec": json_pointer(self.contract.follow(self._schema_base(operation_id, error, d.field),
                                                                d.schema_path))}
                     for d in error.details[:MAX_LOGGED_ERRORS]]
            return shown, len(error.details) + error.omitted
        if isinstance(error, FieldErrors):
            shown = [{"field": _short(field), "rule": "rule", "message": _short(" ".join(messages)), "spec": spec}
                     for field, messages in list(error.errors.items())[:MAX_LOGGED_ERRORS]]
            return shown, len(error.errors) + error.omitted
        if error is not None:
            return [{"field": None, "rule": error.rule, "message": _short(error.detail), "spec": spec}], 1
        return [], 0

    def _schema_base(self, operation_id: str, error: FieldErrors, field: str) -> tuple[str, ...]:
        op = self.contract.operation_pointer(operation_id)
        if error.location == "parameters":
            name = field.split(".")[0]
            item = self.contract.document["paths"][op[1]]
            for where, params in ((op[:2], item.get("parameters", [])), (op, item[op[2]].get("parameters", []))):
                for index, param in enumerate(params):
                    if self.contract.resolve(param).get("name") == name:
                        target = _ref_target(param) or (*where, "parameters", str(index))
                        return (*target, "schema")
            return op
        return (*op, "requestBody", "content", "application/json", "schema")

    def _response_pointer(self, operation_id: str | None, status: int) -> str | None:
        if not operation_id:
            return None
        op = self.contract.operation_pointer(operation_id)
        responses = self.contract.document["paths"][op[1]][op[2]]["responses"]
        if str(status) not in responses:
            return json_pointer(op)
        return _ref_text(responses[str(status)]) or json_pointer((*op, "responses", str(status)))


def _credential(scope: Scope) -> str:
    """The token of the request's `Authorization` header (empty without one, or when too short to mask)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1").strip().rpartition(" ")[2]
            return token if len(token) >= 8 else ""
    return ""


def _masking_also(mask: Callable[[str], str], credential: str) -> Callable[[str], str]:
    if not credential:
        return mask
    return lambda text: mask(text).replace(credential, "***")


def _proxied(outcome: Outcome, mask: Callable[[str], str]) -> dict[str, Any]:
    """What the proxy adds to an entry: the findings (texts masked and cut) and who answered in how long."""
    if outcome.proxy is None and not outcome.findings:
        return {}
    findings = [{key: _short(mask(value)) if isinstance(value, str) else value for key, value in finding.items()}
                for finding in outcome.findings[:MAX_LOGGED_FINDINGS]]
    shown: dict[str, Any] = {"findings": findings}
    if len(outcome.findings) > MAX_LOGGED_FINDINGS:
        shown["findings_not_shown"] = len(outcome.findings) - MAX_LOGGED_FINDINGS
    if outcome.proxy is not None:
        shown["proxy"] = {key: mask(value) if isinstance(value, str) else value for key, value in outcome.proxy.items()}
    return shown


def _short(text: str) -> str:
    return clip(text, MAX_LOGGED_CHARS)


def _ref_target(node: Any) -> tuple[str, ...] | None:
    ref = _ref_text(node)
    return ref_parts(ref) if ref else None


def _ref_text(node: Any) -> str | None:
    return node["$ref"] if isinstance(node, dict) and isinstance(node.get("$ref"), str) else None


def _without_outcome(send: Send) -> Send:
    async def strip(message: Message) -> None:
        if OUTCOME in message:
            message = {k: v for k, v in message.items() if k != OUTCOME}
        await send(message)

    return strip
