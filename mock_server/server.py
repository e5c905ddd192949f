"""The HTTP server in front of the mock: uvicorn with httptools, its connections held to bounds before any
request reaches the app.

uvicorn alone bounds neither a request head that never ends (httptools builds header values by
concatenation: quadratic CPU, unbounded memory), nor pipelined requests read ahead of the one being
answered, nor connections that send nothing or stall in their headers. h11, Hypercorn and Granian do,
but measured on this machine (docs/operator.md, `bench/servers.py`) they answer PATCH at a fraction of
the speed or change how the mock is run. So the protocol here is uvicorn's httptools protocol with the
bounds added through its public callbacks:

* a request head (request line and headers, or a chunked body's trailer) larger than MAX_HEAD_BYTES is
  answered 431 (414 when the URL alone is too long) in the API's JSON shape, and the connection closed;
* a message's bytes after its head are bounded too (MAX_MESSAGE_BYTES: the body limit with room for
  chunked framing), which bounds a trailer that never ends;
* at most MAX_PIPELINED_REQUESTS are parsed ahead of the one being answered; the rest stays in the
  kernel's buffers (reading pauses) until they are answered;
* a new connection must complete its first head within IDLE_CONNECTION_SECONDS, and any later head
  within HEAD_TIMEOUT_SECONDS of its first byte (408 in JSON, or just closed when nothing was sent);
  between requests uvicorn's keep-alive timeout (KEEP_ALIVE_SECONDS) closes an idle connection;
* a request the parser cannot read is answered 400 in the API's JSON shape (uvicorn's is plain text).

Data is fed to the parser in slices (8 KiB while a head is being read), so each bound is checked
within a slice of where it is crossed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import jsonio
from .limits import (
    HEAD_TIMEOUT_SECONDS,
    IDLE_CONNECTION_SECONDS,
    KEEP_ALIVE_SECONDS,
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_PIPELINED_REQUESTS,
    MAX_URL_BYTES,
)

MAX_MESSAGE_BYTES = 4 * MAX_BODY_BYTES + MAX_HEAD_BYTES  # after a head: the body, chunk framing and a trailer
LINGER_SECONDS = 2.0  # after an answer that closes: what still arrives is read and dropped, so the client gets it
_HEAD_SLICE = 8 * 1024
_BODY_SLICE = 64 * 1024
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 413: b"Content Too Large", 414: b"URI Too Long",
            431: b"Request Header Fields Too Large"}
logger = logging.getLogger("mock_server.requests")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds of the module docstring (one instance per connection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = b""  # read but not parsed: pipelined requests past MAX_PIPELINED_REQUESTS
        self.in_head = False
        self.head_bytes = 0
        self.url_bytes = 0
        self.in_body = False
        self.body_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.discarding = False  # answered and closing: what still arrives is dropped
        self.head_started = 0.0  # the loop's time when the current head began
        self.served_any = False  # a head has completed on this connection (keep-alive then closes it when idle)

    # -- the connection ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's
        super().connection_made(transport)
        self.head_timer = self.loop.call_later(IDLE_CONNECTION_SECONDS, self.head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_head_timer()
        self.held = b""
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.discarding:
            return
        if self.held:
            self.held += data  # reading is paused: at most one more read arrives
            self.flow.pause_reading()
            return
        self.feed(data)

    def feed(self, data: bytes) -> None:
        offset = 0
        while offset < len(data):
            if self.transport.is_closing() or self.parser is None or self.discarding:
                return
            if len(self.pipeline) >= MAX_PIPELINED_REQUESTS:
                self.held = data[offset:]
                self.flow.pause_reading()
                return
            size = _HEAD_SLICE if self.in_head or not self.in_body else _BODY_SLICE
            piece = data[offset:offset + size]
            offset += len(piece)
            super().data_received(piece)
            if self.in_head:
                self.head_bytes += len(piece)
                if self.head_bytes > MAX_HEAD_BYTES:
                    if self.url_bytes > MAX_URL_BYTES:
                        self.refuse(414, f"The URL is longer than {MAX_URL_BYTES} bytes.")
                    else:
                        self.refuse(431, f"The request head is larger than {MAX_HEAD_BYTES} bytes.")
                    return
            elif self.in_body:
                self.body_bytes += len(piece)
                if self.body_bytes > MAX_MESSAGE_BYTES:
                    self.refuse(413, f"The request body (with its chunk framing and trailer) is larger than "
                                     f"{MAX_MESSAGE_BYTES} bytes.")
                    return

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.held and not self.transport.is_closing():
            held, self.held = self.held, b""
            self.feed(held)
            if self.held:
                self.flow.pause_reading()

    # -- the parser's callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head, self.head_bytes, self.url_bytes = True, 0, 0
        self.head_started = self.loop.time()
        if self.head_timer is None:
            # One timer per connection at most, left running when the head completes: scheduling and
            # cancelling one per request would fill the event loop's heap with cancelled timers.
            self.head_timer = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self.head_timed_out)

    def on_url(self, url: bytes) -> None:
        self.url_bytes += len(url)
        super().on_url(url)

    def on_headers_complete(self) -> None:
        self.in_head, self.in_body, self.body_bytes = False, True, 0
        self.served_any = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_body = False
        super().on_message_complete()

    # -- answers the protocol gives itself --------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        self.answer(400, "The request is not valid HTTP/1.1.")

    def head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.in_head:
            left = self.head_started + HEAD_TIMEOUT_SECONDS - self.loop.time()
            if left > 0:  # this head began after the timer was set: wait for its own deadline
                self.head_timer = self.loop.call_later(left, self.head_timed_out)
                return
            self.refuse(408, f"The request head did not arrive within {HEAD_TIMEOUT_SECONDS:g} s.")
        elif not self.served_any and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()  # a new connection that sent nothing

    def cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def refuse(self, status: int, detail: str) -> None:
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        logger.warning("%d %s (%s); connection closed", status, detail, client)
        if self.cycle is None or self.cycle.response_complete:
            self.answer(status, detail)
        else:
            self.transport.close()  # an answer is under way: nothing else can be said on this connection

    def answer(self, status: int, detail: str) -> None:
        """A JSON error in the API's shape, then the connection closed. Closing a socket with unread data
        makes the kernel reset it, and a client still sending would lose the answer: so the write side is
        shut first and what arrives for LINGER_SECONDS more is read and dropped (as nginx's lingering close)."""
        body = jsonio.dumps({"detail": detail})
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                             b"connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body))
        self.cancel_head_timer()
        self.held = b""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.discarding = True
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


# What every server of the mock runs with: `make mock`, the console scripts and the tests' servers.
SERVER_OPTIONS: dict[str, Any] = {"http": BoundedHttpToolsProtocol, "ws": "none",
                                  "timeout_keep_alive": KEEP_ALIVE_SECONDS}
