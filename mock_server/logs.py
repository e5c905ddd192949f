"""How the mock's log lines are written: text or one JSON object per line, control characters escaped,
credentials never shown (uvicorn's access log included).

A request's path, query names, field names and values reach the log; a newline or an ANSI escape in
one of them must not be able to forge a line or repaint the terminal, so every message is escaped
when it is formatted (and the request log escapes what it logs as well).
"""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

# C0 and C1 controls, DEL, and the Unicode line separators and direction overrides a terminal or a
# log viewer would act on.
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPED = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _CONTROLS} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_JSON_ESCAPED = {code: f"\\u{code:04x}" for code in _CONTROLS}  # valid inside a JSON string
# Query parameters whose value is a credential (compared lower-case, without `-` and `_`).
_CREDENTIAL_NAMES = ("token", "accesstoken", "apikey", "key", "jwt", "secret", "password", "auth",
                     "authorization", "signature", "session", "sessionid")
_CREDENTIAL_SUFFIXES = ("token", "key", "secret", "password", "jwt")
REDACTED = "[redacted]"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


TOKEN_SHAPES = r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|sk_(?:live|test)_[A-Za-z0-9_]+"


class Masker:
    """Hides credentials in what the log keeps and prints: the mock's own API keys (whatever their
    shape), and anything shaped like a dashboard JWT or a production API key, wherever a request put
    it (a body, the path, a value an error message repeats)."""

    def __init__(self, api_keys: list[str]) -> None:
        self.keys = sorted(api_keys, key=len, reverse=True)
        self.pattern = re.compile("|".join([TOKEN_SHAPES, *map(re.escape, self.keys)]))
        self._last: tuple[str, bool] = ("", True)

    def covers(self, token: str) -> bool:
        """Whether this masker hides `token` wherever it stands (one of the mock's keys, or a token shape);
        the answer for the last token asked is kept, as a request log asks for each request's."""
        if token == self._last[0]:
            return self._last[1]
        covered = not token or self.pattern.fullmatch(token) is not None
        self._last = (token, covered)
        return covered

    def __call__(self, text: str) -> str:
        # The pattern only where it can match: most texts hold no token.
        if "eyJ" in text or "sk_" in text or any(key in text for key in self.keys):
            return self.pattern.sub("***", text)
        return text


def printable(text: str) -> str:
    """`text` with control characters written as escapes (`\\n`, `\\x1b`, `\\u2028` as text)."""
    return text.translate(_ESCAPED)


def json_line(value: Any) -> str:
    """`value` as one line of JSON that no terminal control character survives in."""
    return json.dumps(value, ensure_ascii=False, default=str).translate(_JSON_ESCAPED)


def is_credential_name(name: str) -> bool:
    folded = name.lower().replace("-", "").replace("_", "")
    return folded in _CREDENTIAL_NAMES or folded.endswith(_CREDENTIAL_SUFFIXES)


def redact_query(target: str) -> str:
    """A request target (`/path?query`) with the values of credential-like query parameters replaced."""
    path, question, query = target.partition("?")
    if not question:
        return target
    items = []
    for item in query.split("&"):
        name, equals, _value = item.partition("=")
        items.append(f"{name}={REDACTED}" if equals and is_credential_name(unquote_plus(name)) else item)
    return f"{path}?{'&'.join(items)}"


class AccessLogFilter(logging.Filter):
    """On uvicorn's access log (`--log-level debug`): credential query values redacted, the mock's API keys
    and anything shaped like a token masked wherever they are in the target, controls escaped."""

    def __init__(self, mask: Masker | None = None) -> None:
        super().__init__()
        self.mask = mask or Masker([])

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], printable(self.mask(redact_query(args[2]))), *args[3:])
        return True


class TextLineFormatter(logging.Formatter):
    """`LEVEL logger: message`, the message escaped (a traceback after it is left as it is)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line and nothing else: a request log entry as it is (`extra={"request": …}`),
    any other record as `{"time", "level", "logger", "message"}` (and `exception`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "request", None)
        if isinstance(entry, dict):
            return json_line(entry)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json_line(line)


def log_config(level: str, *, json_lines: bool = False, api_keys: list[str] | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration for the mock and uvicorn (`uvicorn.run(log_config=…)`):
    uvicorn's own, with its access log filtered, and the mock's loggers on a handler of their own."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    mock_formatter = ({"()": JsonLineFormatter} if json_lines
                      else {"()": TextLineFormatter, "format": TEXT_FORMAT})
    config["formatters"]["mock"] = mock_formatter
    if json_lines:
        config["formatters"]["default"] = config["formatters"]["access"] = {"()": JsonLineFormatter}
    config["filters"] = {"redact": {"()": AccessLogFilter, "mask": Masker(api_keys or [])}}
    config["handlers"]["access"]["filters"] = ["redact"]
    config["handlers"]["mock"] = {"formatter": "mock", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    config["loggers"]["mock_server"] = {"handlers": ["mock"], "level": level.upper(), "propagate": False}
    config["root"] = {"handlers": ["mock"], "level": level.upper()}  # Connexion and the libraries
    return config
