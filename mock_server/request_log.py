"""Why did my request fail? One log line per rejected request, and the last requests on demand.

What a request sent is in its entry cut to a bounded length (MAX_LOGGED_CHARS, MAX_LOGGED_ERRORS),
so the 200 entries kept per session stay small whatever the requests held; on the terminal it is
escaped as well (logs.printable), so no request can forge a log line.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, FieldErrors, clip
from .limits import MAX_LOGGED_CHARS, MAX_LOGGED_ERRORS
from .logs import json_line, printable
from .session_header import session_name
from .spec import Contract, json_pointer, ref_parts
from .store import Sessions

LOG_KEY = "mock.log"  # scope key of the entry being built; shared by the scope copies made downstream
logger = logging.getLogger("mock_server.requests")


def note_error(scope: Scope, error: ApiError) -> None:
    """Called where an error becomes a response, so the log can say which rule failed."""
    entry = scope.get(LOG_KEY)
    if entry is not None:
        entry["error"] = error


def note_operation(scope: Scope, operation_id: str) -> None:
    """Called where the request is routed, so the log need not route it again."""
    entry = scope.get(LOG_KEY)
    if entry is not None:
        entry["operation_id"] = operation_id


def note_forced(scope: Scope, reason: str) -> None:
    """Called where the mock answers what was asked for (Prefer, an injected fault), not what happened."""
    entry = scope.get(LOG_KEY)
    if entry is not None:
        entry["forced"] = reason


class RequestLog:
    def __init__(self, app: ASGIApp, contract: Contract, sessions: Sessions, *, json_lines: bool = False) -> None:
        self.app = app
        self.contract = contract
        self.sessions = sessions
        self.json_lines = json_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__mock__"):
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {"status": 0}
        scope = dict(scope, **{LOG_KEY: entry})
        started = time.perf_counter()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self._record(scope, entry, time.perf_counter() - started)

    def _record(self, scope: Scope, entry: dict[str, Any], seconds: float) -> None:
        operation_id = entry.get("operation_id")  # None for what no operation takes (404, 405, OPTIONS)
        status = entry["status"]
        errors, total = self._errors(entry.get("error"), operation_id, status) if status >= 400 else ([], 0)
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": clip(scope["method"], 32), "path": clip(scope["path"], MAX_LOGGED_CHARS),
            "operation_id": operation_id, "status": status, "ms": round(seconds * 1000, 1),
            "errors": errors,
            **({"errors_not_shown": total - len(errors)} if total > len(errors) else {}),
            **({"forced": entry["forced"]} if "forced" in entry else {}),
        }
        self.sessions.get(session_name(scope)).log_request(record)
        if status >= 400:
            if self.json_lines:
                logger.warning("%s", json_line(record), extra={"request": record})
            else:
                reasons = record.get("forced") or "; ".join(
                    f"{e['field'] + ': ' if e['field'] else ''}{e['rule']} ({e['message']})" for e in errors)
                if total > len(errors):
                    reasons += f"; … {total - len(errors)} more"
                logger.warning("%s %s %s %s", printable(record["method"]), printable(record["path"]), status,
                               printable(reasons))

    def _errors(self, error: ApiError | None, operation_id: str | None,
                status: int) -> tuple[list[dict[str, Any]], int]:
        """The first MAX_LOGGED_ERRORS errors of the answer (texts cut short), and how many it had."""
        spec = self._response_pointer(operation_id, status)
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
            return [{"field": None, "rule": type(error).__name__, "message": _short(error.detail), "spec": spec}], 1
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


def _short(text: str) -> str:
    return clip(text, MAX_LOGGED_CHARS)


def _ref_target(node: Any) -> tuple[str, ...] | None:
    ref = _ref_text(node)
    return ref_parts(ref) if ref else None


def _ref_text(node: Any) -> str | None:
    return node["$ref"] if isinstance(node, dict) and isinstance(node.get("$ref"), str) else None
