"""The embedded mock: the real server on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app: object, *, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 until the block ends; yields its `http://host:port`."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
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


@contextmanager
def embedded_mock() -> Iterator[str]:
    """The mock with its default world and response validation on; yields the API root URL."""
    from mock_server.app import build_app

    with serve(build_app(validate_responses=True).asgi) as origin:
        yield origin + "/api/v2"
