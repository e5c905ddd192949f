"""Serving ASGI apps on loopback for the suite and its tests, and the embedded mock."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import httpx
import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: ASGIApp, *, port: int | None = None, lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 until the block ends; yields its `http://host:port`."""
    port = port or free_port()
    from mock_server.server import SERVER_OPTIONS  # the bounded server `make mock` runs (HTTP only: ws="none")

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan=lifespan, **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, name="embedded-mock", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the embedded mock did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# Where the embedded mock appears to be: the address `make mock` serves on, so the reproduce lines
# of a run against the embedded mock work against `make mock`.
EMBEDDED_BASE_URL = "http://127.0.0.1:4010/api/v2"


def embedded_mock() -> httpx.AsyncBaseTransport:
    """The mock with its default world, called in-process by the gate (no socket, no second thread:
    the run then takes the time it takes against a mock in a process of its own). Its responses are
    checked by the suite itself (Schemathesis' response_schema_conformance), not by the mock."""
    from mock_server.app import build_app

    return httpx.ASGITransport(app=build_app().asgi, raise_app_exceptions=False)
