"""The mock session a request belongs to: its `X-Mock-Session` header (a module of its own, so the layers
that need it import it from below rather than from the dispatcher)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Scope


def session_name(scope: Scope) -> str | None:
    """The `X-Mock-Session` header of a request (None without it: the default session)."""
    return Headers(scope=scope).get("x-mock-session", "").strip() or None
