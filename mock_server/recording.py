"""`proxy --record FILE`: the proxied exchanges as HAR 1.2 (tokens masked) and their findings as JSON lines.

Both files are valid after every exchange (the HAR's closing brackets are rewritten after each entry),
so a proxy stopped with Ctrl-C or killed leaves readable files. Nothing is kept in memory: each
exchange is written when it ends. Bodies are written as the proxy read them for validation (at most
`limits.MAX_VALIDATED_BYTES`, decoded when compressed), with every credential masked; a body the
proxy passed through unread is noted in the entry's `comment`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from urllib.parse import parse_qsl, urlsplit

_TAIL = "\n]}}\n"
MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-mock-admin-token"})


@dataclass
class RecordedExchange:
    """One exchange as the proxy saw it (bodies as read for validation; None when passed through unread)."""

    started: datetime
    method: str
    url: str  # the upstream's URL the request went to (or would have gone to)
    request_headers: Sequence[tuple[str, str]]
    request_body: bytes | None
    status: int
    response_headers: Sequence[tuple[str, str]]
    response_body: bytes | None
    seconds: float
    upstream_seconds: float | None
    operation_id: str | None
    answered_by: str  # upstream | mock | proxy
    findings: Sequence[Mapping[str, Any]] = field(default_factory=list)
    notes: Sequence[str] = field(default_factory=list)


class Recorder:
    """Appends each exchange to `path` (HAR) and its findings to `path` with `.findings.jsonl`."""

    def __init__(self, path: Path, mask: Callable[[str], str]) -> None:
        self.path = path
        self.findings_path = findings_path(path)
        self.mask = mask
        self._lock = threading.Lock()
        self._entries = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._har: BinaryIO = path.open("w+b")
        head = json.dumps({"log": {"version": "1.2", "creator": {"name": "experiments-mock proxy", "version": "1"},
                                   "entries": []}})[:-3]  # up to the entries' opening bracket
        self._har.write((head + "\n" + _TAIL).encode())
        self._har.flush()
        self._jsonl: TextIO = self.findings_path.open("w", encoding="utf-8")

    def add(self, exchange: RecordedExchange) -> None:
        entry = json.dumps(self._entry(exchange), ensure_ascii=False)
        lines = [json.dumps({"time": _iso(exchange.started), "method": exchange.method,
                             "path": self.mask(urlsplit(exchange.url).path), "operation_id": exchange.operation_id,
                             "status": exchange.status, **finding}, ensure_ascii=False)
                 for finding in exchange.findings]
        with self._lock:
            self._har.seek(-len(_TAIL), 2)
            self._har.write((("" if not self._entries else ",\n") + entry + _TAIL).encode())
            self._har.truncate()
            self._har.flush()
            self._entries += 1
            for line in lines:
                self._jsonl.write(self.mask(line) + "\n")
            self._jsonl.flush()

    def close(self) -> None:
        with self._lock:
            self._har.close()
            self._jsonl.close()

    def _entry(self, exchange: RecordedExchange) -> dict[str, Any]:
        split = urlsplit(exchange.url)
        request: dict[str, Any] = {
            "method": exchange.method, "url": self.mask(exchange.url), "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": self._headers(exchange.request_headers),
            "queryString": [{"name": self.mask(k), "value": self.mask(v)}
                            for k, v in parse_qsl(split.query, keep_blank_values=True)],
            "headersSize": -1, "bodySize": len(exchange.request_body) if exchange.request_body is not None else -1,
        }
        if exchange.request_body:
            request["postData"] = {"mimeType": _header(exchange.request_headers, "content-type"),
                                   "text": self._text(exchange.request_body)}
        content: dict[str, Any] = {"size": len(exchange.response_body or b""),
                                   "mimeType": _header(exchange.response_headers, "content-type")}
        if exchange.response_body is not None:
            content["text"] = self._text(exchange.response_body)
        upstream_ms = round(exchange.upstream_seconds * 1000, 3) if exchange.upstream_seconds is not None else -1
        return {
            "startedDateTime": _iso(exchange.started), "time": round(exchange.seconds * 1000, 3),
            "request": request,
            "response": {"status": exchange.status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": self._headers(exchange.response_headers), "content": content,
                         "redirectURL": "", "headersSize": -1, "bodySize": content["size"]},
            "cache": {}, "timings": {"send": 0, "wait": upstream_ms, "receive": 0},
            "comment": self.mask("; ".join([f"answered by {exchange.answered_by}", *exchange.notes])),
            "_operationId": exchange.operation_id,
            "_answeredBy": exchange.answered_by,
            "_findings": [{k: self.mask(v) if isinstance(v, str) else v for k, v in f.items()}
                          for f in exchange.findings],
        }

    def _headers(self, headers: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"name": name, "value": _masked_header(name, value) if name.lower() in MASKED_HEADERS
                 else self.mask(value)} for name, value in headers]

    def _text(self, body: bytes) -> str:
        return self.mask(body.decode("utf-8", errors="replace"))


def findings_path(har: Path) -> Path:
    """Where the findings of a recording go: `session.har` -> `session.findings.jsonl`."""
    return har.with_name(har.stem + ".findings.jsonl")


def _masked_header(name: str, value: str) -> str:
    scheme, _, token = value.strip().partition(" ")
    return f"{scheme} ***" if name.lower() in ("authorization", "proxy-authorization") and token else "***"


def _header(headers: Sequence[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
