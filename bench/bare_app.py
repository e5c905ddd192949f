"""The baseline: a bare ASGI app doing the mock's in-memory GET and PATCH with no validation or rules."""

from __future__ import annotations

import json

EXPERIMENTS: dict[str, dict] = {}
PREFIX = "/api/v2/experiments/"


async def app(scope, receive, send):  # served with `--lifespan off`
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    experiment_id = scope["path"][len(PREFIX):].strip("/")
    record = EXPERIMENTS.setdefault(experiment_id, {"id": experiment_id, "name": "bench", "batch_size": 100})
    if scope["method"] == "PATCH":
        record.update(json.loads(body))
    payload = json.dumps(record).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
