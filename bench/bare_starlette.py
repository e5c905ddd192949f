"""The second baseline: the same in-memory GET and PATCH as `bare_app`, written as a plain Starlette app
(router, `Request.json()`, `JSONResponse`), with no validation, credentials or rules."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

EXPERIMENTS: dict[str, dict[str, Any]] = {}


async def experiment(request: Request) -> JSONResponse:
    experiment_id = request.path_params["experiment_id"]
    record = EXPERIMENTS.setdefault(experiment_id, {"id": experiment_id, "name": "bench", "batch_size": 100})
    if request.method == "PATCH":
        record.update(await request.json())
    return JSONResponse(record)


app = Starlette(routes=[Route("/api/v2/experiments/{experiment_id}/", experiment, methods=["GET", "PATCH"])])
