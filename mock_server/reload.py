"""`--watch`: rebuild the mock when the spec or the fixture file changes, keeping the process up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("mock_server.reload")


class Reloading:
    """An ASGI app that serves the latest good build. `check()` rebuilds when a watched file's
    modification time changed; a build that fails is reported and the previous one keeps serving."""

    def __init__(self, build: Callable[[], ASGIApp], watched: list[Path], *, initial: ASGIApp | None = None) -> None:
        self.build = build
        self.watched = watched
        self.current = initial if initial is not None else build()
        self._stamps = self._read_stamps()
        self.reloads = 0
        self.failures = 0

    def _read_stamps(self) -> dict[Path, float]:
        stamps = {}
        for path in self.watched:
            try:
                stamps[path] = path.stat().st_mtime
            except OSError:
                stamps[path] = -1.0
        return stamps

    def check(self) -> bool:
        """Rebuild if something changed; True when a new build now serves."""
        stamps = self._read_stamps()
        if stamps == self._stamps:
            return False
        self._stamps = stamps
        try:
            self.current = self.build()
        except Exception as exc:  # a broken edit: say so, keep serving the last good build
            self.failures += 1
            logger.error("reload failed, still serving the previous version: %s", str(exc).splitlines()[0])
            return False
        self.reloads += 1
        logger.warning("reloaded %s", ", ".join(str(p) for p in self.watched))
        return True

    def watch(self, interval: float = 1.0) -> threading.Thread:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                self.check()

        thread = threading.Thread(target=loop, name="mock-reload", daemon=True)
        thread.start()
        return thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.current(scope, receive, send)
