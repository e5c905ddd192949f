"""The spec documents the mock serves beside the API (`openapi.json`, `openapi.yaml`), built once.

Connexion builds them again on every request (a deep copy of the spec, then JSON or YAML: about
0.3 s of CPU for the YAML, during which nothing else is answered).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BuiltOnceDocuments:
    """Answers `GET` of the spec documents with the first successful answer the app gave for them
    (the rest of the documentation, Swagger UI, is passed to the app)."""

    def __init__(self, app: ASGIApp, base_path: str) -> None:
        self.app = app
        self.paths = frozenset({f"{base_path}/openapi.json", f"{base_path}/openapi.yaml"})
        self._answers: dict[tuple[str, str], list[Message]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        key = (scope.get("root_path", ""), scope["path"])  # what Connexion's answer depends on
        answer = self._answers.get(key)
        if answer is not None:
            for message in answer:
                await send(_copy(message))
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(_copy(message))
            await send(message)

        await self.app(scope, receive, keep)
        if messages and messages[0].get("status") == 200:
            self._answers[key] = messages


def _copy(message: Message) -> Message:
    """A message the layers outside may change (CORS adds headers to the list it is given)."""
    return {**message, "headers": list(message["headers"])} if "headers" in message else dict(message)
