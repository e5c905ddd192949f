"""Reading a request body whole, within its size and time limits (request validation and the controls)."""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from .errors import PayloadTooLarge, RequestTimeout
from .limits import BODY_TIMEOUT_SECONDS, MAX_BODY_BYTES


async def read_body(receive: Receive, *, limit: int = MAX_BODY_BYTES,
                    timeout: float = BODY_TIMEOUT_SECONDS) -> bytes:
    """The whole request body: 413 past `limit` bytes, 408 when it has not all arrived within
    `timeout` seconds (a client that stalls mid-body holds nothing for longer), ClientDisconnect
    when the client goes away."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestTimeout(f"The request body did not arrive within {timeout:g} s.") from None
