"""The first check of every request, before any part of the mock reads it: its head is of bounded size
and its `Host` is a name the mock serves.

The Host check is what stops DNS rebinding: a web page on `http://attacker.example` whose name is
made to resolve to 127.0.0.1 reaches the mock with `Host: attacker.example`, and is refused. A
browser always sends the Host it connected to, so a page cannot pretend to be `localhost`.
(Starlette's TrustedHostMiddleware answers plain text and cannot read `[::1]:4010`.)
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from itertools import chain

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError, HeadersTooLarge, MalformedRequest, UriTooLong, clip
from .limits import MAX_HEADER_BYTES, MAX_LOGGED_CHARS, MAX_URL_BYTES
from .logs import Masker, printable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})
logger = logging.getLogger("mock_server.requests")


def host_name(host: str) -> str:
    """A Host header's name without its port, lower-case (`[::1]:4010` -> `[::1]`)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


def is_loopback(bind: str) -> bool:
    """Whether an address the server listens on (`--host`) is reachable from this machine only."""
    if bind.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_names(bind: str) -> list[str]:
    """The Host name of the address the mock listens on, when that is one address other than loopback
    (not 0.0.0.0 or ::): a name it serves on, besides the loopback names."""
    if bind in _WILDCARD_BINDS or is_loopback(bind):
        return []
    return [f"[{bind}]" if ":" in bind else bind]


class RequestGuard:
    """Refuses, before anything else reads it, a request with oversized headers (431) or URL (414),
    or for a Host the mock does not serve (400); one warning line each on the terminal."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] = LOOPBACK_NAMES,
                 mask: Callable[[str], str] | None = None) -> None:
        self.app = app
        self.mask = mask or Masker([])  # the warning line shows the path and the Host as sent: credentials masked
        self.allowed = frozenset(host_name(name) for name in allowed_hosts)
        self._served: dict[str, bool] = {}  # Host header as sent -> served (a few entries; cleared when full)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        logger.warning("%s %s %s %s", printable(clip(scope["method"], 32)),
                       printable(self.mask(clip(scope["path"], MAX_LOGGED_CHARS))), refusal.status_code,
                       printable(self.mask(refusal.detail)))
        await refusal.to_response()(scope, receive, send)

    def _refusal(self, scope: Scope) -> ApiError | None:
        if sum(map(len, chain.from_iterable(scope["headers"]))) > MAX_HEADER_BYTES:
            return HeadersTooLarge(f"Request headers are larger than {MAX_HEADER_BYTES} bytes in total.")
        if len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"]) > MAX_URL_BYTES:
            return UriTooLong(f"The URL (path and query string) is longer than {MAX_URL_BYTES} bytes.")
        host = Headers(scope=scope).get("host")
        if host is None:
            return MalformedRequest("A Host header is required.")
        if not self._serves(host):
            return MalformedRequest(
                f"This mock does not serve the host {clip(host, 100)!r}; it answers to "
                f"{', '.join(sorted(self.allowed))} (add a name with --allowed-host).")
        return None

    def _serves(self, host: str) -> bool:
        served = self._served.get(host)
        if served is None:
            if len(self._served) >= 1024:
                self._served.clear()
            served = self._served[host] = host_name(host) in self.allowed
        return served
