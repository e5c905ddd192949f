"""The console's files (`mock_server/console/`): the page `GET /__mock__/` answers a browser, its script and style.

Plain files, no build step, nothing from another origin; the Content-Security-Policy lets the page
run only its own script and talk only to the mock that served it. The files hold no state (what
the page shows it fetches from the `/__mock__/` controls), so they need no admin token.
"""

from __future__ import annotations

from importlib import resources

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

CONSOLE_PATH = "/__mock__/console/"
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                           "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_TYPES = {"index.html": "text/html; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
          "console.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
_FILES = {name: (resources.files("mock_server") / "console" / name).read_bytes() for name in _TYPES}
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


def wants_html(scope: Scope) -> bool:
    """Whether the client asked for a page (a browser's `Accept` names text/html; curl's and httpx's `*/*` does not)."""
    return "text/html" in Headers(scope=scope).get("accept", "").lower()


def page_for(scope: Scope) -> ASGIApp | None:
    """The console file a `GET` asks for, or None (then it is one of the controls)."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    path = scope["path"]
    if path in ("/__mock__", "/__mock__/"):
        name = "index.html" if wants_html(scope) else None
    else:
        name = path[len(CONSOLE_PATH):] if path.startswith(CONSOLE_PATH) else None
    if name not in _FILES:
        return None
    return Response(_FILES[name], media_type=_TYPES[name], headers={**_HEADERS, "Vary": "Accept"})
