"""Deliberately broken deployments: the mock behind an ASGI layer that breaks one rule.

Each fault is a pair of functions over a buffered exchange, so a fault reads as the rule it breaks.
`python tests/broken_deployments.py FAULT PORT` serves one (for trying the suite by hand).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACME_KEY = "sk_live_acme_dev_4f7d2c9a1b8e"
GLOBEX_KEY = "sk_live_globex_dev_93e1a6b0c5d2"


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None  # parsed JSON or None
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response: Any = None
    answered: bool = False  # set by a request hook to skip the real app
    retry: bool = False  # set by a response hook to send the (changed) request again


async def _call(app: ASGIApp, scope: Scope, ex: Exchange) -> None:
    raw = json.dumps(ex.body).encode() if ex.body is not None else b""
    headers = [(k.encode(), v.encode()) for k, v in ex.headers.items() if k != "content-length"]
    headers.append((b"content-length", str(len(raw)).encode()))
    inner = dict(scope, method=ex.method, headers=headers)
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            ex.status = message["status"]
            ex.response_headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(inner, _replay(raw), send)
    data = b"".join(chunks)
    ex.response = json.loads(data) if data else None


class Faulty:
    """Buffers each request and response as JSON and lets a fault rewrite them."""

    def __init__(self, app: ASGIApp, before: Callable[[Exchange], None] | None = None,
                 after: Callable[[Exchange], None] | None = None) -> None:
        self.app, self.before, self.after = app, before, after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = b""
        more = True
        while more:
            message = await receive()
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:  # not JSON: hand it on untouched
            await self.app(scope, _replay(raw), send)
            return
        ex = Exchange(scope["method"], scope["path"], headers, body)
        if self.before:
            self.before(ex)
        if not ex.answered:
            await _call(self.app, scope, ex)
            if self.after:
                self.after(ex)
            if ex.retry:
                await _call(self.app, scope, ex)
        payload = json.dumps(ex.response).encode() if ex.response is not None else b""
        out_headers = {k: v for k, v in ex.response_headers.items() if k != "content-length"}
        out_headers["content-length"] = str(len(payload))
        await send({"type": "http.response.start", "status": ex.status,
                    "headers": [(k.encode(), v.encode()) for k, v in out_headers.items()]})
        await send({"type": "http.response.body", "body": payload})


def _replay(raw: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _is_experiment(path: str) -> bool:
    parts = [p for p in path.split("/") if p]
    return len(parts) == 4 and parts[2] == "experiments" and parts[3] not in ("list", "summary")


# -- the faults -------------------------------------------------------------------------------------

def drops_created_at(app: ASGIApp) -> ASGIApp:
    """Responses lose `created_at`, one of the four fields the vendor documents as always present."""
    def strip(value: Any) -> None:
        if isinstance(value, dict):
            value.pop("created_at", None)
            for v in value.values():
                strip(v)
        elif isinstance(value, list):
            for v in value:
                strip(v)
    return Faulty(app, after=lambda ex: strip(ex.response))


def slugs_win_over_ids(app: ASGIApp) -> ASGIApp:
    """The alias precedence is inverted: evaluator_slugs wins when both are sent."""
    def before(ex: Exchange) -> None:
        if isinstance(ex.body, dict) and "evaluator_ids" in ex.body and "evaluator_slugs" in ex.body:
            ex.body["evaluator_ids"] = ex.body["evaluator_slugs"]
    return Faulty(app, before=before)


def loses_patches(app: ASGIApp) -> ASGIApp:
    """PATCH answers as if applied but stores nothing."""
    def before(ex: Exchange) -> None:
        if ex.method == "PATCH" and _is_experiment(ex.path) and isinstance(ex.body, dict):
            ex.headers["x-sent-body"] = json.dumps(ex.body)
            ex.method, ex.body = "GET", None
            ex.headers.pop("content-type", None)

    def after(ex: Exchange) -> None:
        sent = json.loads(ex.headers.pop("x-sent-body", "null"))
        if ex.status == 200 and isinstance(sent, dict):
            sent.pop("experiment_id", None)
            ex.response.update(sent)
    return Faulty(app, before=before, after=after)


def leaks_across_organizations(app: ASGIApp) -> ASGIApp:
    """A GET of another organization's experiment serves it instead of a 404."""
    def after(ex: Exchange) -> None:
        own = ex.headers.get("authorization", "")
        if ex.status == 404 and ex.method == "GET" and _is_experiment(ex.path) and own:
            ex.headers["authorization"] = f"Bearer {GLOBEX_KEY if ACME_KEY in own else ACME_KEY}"
            ex.retry = True
    return Faulty(app, after=after)


def crashes_on_large_batch(app: ASGIApp) -> ASGIApp:
    """A valid batch_size of 50 or more makes the server fail."""
    def before(ex: Exchange) -> None:
        size = ex.body.get("batch_size") if isinstance(ex.body, dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and size >= 50:
            ex.answered, ex.status = True, 500
            ex.response_headers = {"content-type": "application/json"}
            ex.response = {"detail": "Internal server error."}
    return Faulty(app, before=before)


def skips_auth(app: ASGIApp) -> ASGIApp:
    """A request without credentials is served as the first organization."""
    def before(ex: Exchange) -> None:
        ex.headers.setdefault("authorization", f"Bearer {ACME_KEY}")
    return Faulty(app, before=before)


def delete_does_nothing(app: ASGIApp) -> ASGIApp:
    """DELETE says 204 but the experiment stays."""
    def before(ex: Exchange) -> None:
        if ex.method == "DELETE" and _is_experiment(ex.path) and "authorization" in ex.headers:
            ex.answered, ex.status, ex.response = True, 204, None
    return Faulty(app, before=before)


def null_keeps_description(app: ASGIApp) -> ASGIApp:
    """`description: null` in a PATCH is ignored instead of clearing it."""
    def before(ex: Exchange) -> None:
        if ex.method == "PATCH" and isinstance(ex.body, dict) and ex.body.get("description", 0) is None:
            del ex.body["description"]
    return Faulty(app, before=before)


def ignores_unknown_references_on_writes(app: ASGIApp) -> ASGIApp:
    """A PATCH or PUT naming a dataset or evaluator that does not exist answers 200 (changing nothing)."""
    def after(ex: Exchange) -> None:
        detail = ex.response.get("detail", "") if isinstance(ex.response, dict) else ""
        if ex.method in ("PATCH", "PUT") and ex.status == 404 and "not found in this organization" in detail \
                and "experiment" not in detail.lower():
            ex.method, ex.body, ex.retry = "GET", None, True
            ex.headers.pop("content-type", None)
    return Faulty(app, after=after)


def contains_ignores_case(app: ASGIApp) -> ASGIApp:
    """The filter operator `contains` matches case-insensitively (it is documented as case-sensitive)."""
    def before(ex: Exchange) -> None:
        filters = ex.body.get("filters") if isinstance(ex.body, dict) else None
        for condition in (filters or {}).values() if isinstance(filters, dict) else ():
            if isinstance(condition, dict) and condition.get("operator") == "contains":
                condition["operator"] = "icontains"
    return Faulty(app, before=before)


def rejects_dashboard_jwts(app: ASGIApp) -> ASGIApp:
    """A valid dashboard JWT is refused: only API keys authenticate."""
    def before(ex: Exchange) -> None:
        if ex.headers.get("authorization", "").count(".") == 2:
            ex.answered, ex.status = True, 401
            ex.response_headers = {"content-type": "application/json", "www-authenticate": "Bearer"}
            ex.response = {"detail": "Invalid token."}
    return Faulty(app, before=before)


def no_running_lock(app: ASGIApp) -> ASGIApp:
    """A PATCH of a running experiment's execution fields answers 200 instead of 409 (an assumption)."""
    def after(ex: Exchange) -> None:
        if ex.method in ("PATCH", "PUT") and ex.status == 409:
            ex.method, ex.body, ex.retry = "GET", None, True
            ex.headers.pop("content-type", None)
    return Faulty(app, after=after)


def no_body_limit(app: ASGIApp) -> ASGIApp:
    """A body over 1 MiB is read and judged like any other (400 on its fields), not refused with 413."""
    def before(ex: Exchange) -> None:
        if ex.method in ("POST", "PUT", "PATCH") and len(json.dumps(ex.body)) > 1024 * 1024:
            ex.answered, ex.status = True, 400
            ex.response_headers = {"content-type": "application/json"}
            ex.response = {"description": ["Ensure this field has no more than 10000 characters."]}
    return Faulty(app, before=before)


# The documented defaults a PATCH puts back in `patch_resets_omitted` (description: no default, cleared).
PATCH_RESETS = {"batch_size": 100, "concurrency": 15, "enable_tracing": True, "span_workflow_name": "workflow",
                "description": None}


def patch_resets_omitted(app: ASGIApp) -> ASGIApp:
    """PATCH treats the body as the whole experiment: every field it omits goes back to its default (or is
    cleared), which breaks the documented partial update."""
    def before(ex: Exchange) -> None:
        if ex.method == "PATCH" and _is_experiment(ex.path) and isinstance(ex.body, dict) and ex.body:
            ex.body = {**PATCH_RESETS, **ex.body}
    return Faulty(app, before=before)


def names_anything(app: ASGIApp) -> ASGIApp:
    """A lenient create: a `name` that is not a string (null, 0, a list) is accepted and the experiment
    gets the default name (`experiment-` and the id's start), so it is not named with the run's prefix."""
    def before(ex: Exchange) -> None:
        if ex.method == "POST" and ex.path.rstrip("/").endswith("/experiments") and isinstance(ex.body, dict) \
                and "name" in ex.body and not isinstance(ex.body["name"], str):
            del ex.body["name"]
    return Faulty(app, before=before)


FAULTS: dict[str, Callable[[ASGIApp], ASGIApp]] = {
    "drops_created_at": drops_created_at,
    "slugs_win_over_ids": slugs_win_over_ids,
    "loses_patches": loses_patches,
    "leaks_across_organizations": leaks_across_organizations,
    "crashes_on_large_batch": crashes_on_large_batch,
    "skips_auth": skips_auth,
    "delete_does_nothing": delete_does_nothing,
    "null_keeps_description": null_keeps_description,
    "ignores_unknown_references_on_writes": ignores_unknown_references_on_writes,
    "contains_ignores_case": contains_ignores_case,
    "rejects_dashboard_jwts": rejects_dashboard_jwts,
    "no_running_lock": no_running_lock,
    "no_body_limit": no_body_limit,
    "patch_resets_omitted": patch_resets_omitted,
    "names_anything": names_anything,
}


def build(fault: str | None) -> ASGIApp:
    from mock_server.app import build_app

    app = build_app().asgi
    return FAULTS[fault](app) if fault else app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(build(sys.argv[1] if sys.argv[1] != "none" else None), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning")
