"""Answers a developer asks for instead of the real ones: the `Prefer` header (Prism's way) and
injected faults; plus added latency. Nothing here changes state."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from . import jsonio
from .dispatch import header_value, session_name
from .errors import FieldErrors
from .request_log import note_error, note_forced
from .spec import Contract
from .store import Sessions

MAX_DELAY_MS = 30_000
_PREFER_ITEM = re.compile(r"\s*([a-z]+)\s*=\s*\"?([^\",;]*)\"?\s*")
_REASONS = {429: "Too many requests.", 500: "Internal server error.", 502: "Bad gateway.",
            503: "Service unavailable.", 504: "Gateway timeout."}


@dataclass(frozen=True)
class Latency:
    """`--latency MS` or `--latency MIN-MAX`, in milliseconds."""

    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> Latency:
        low, _, high = text.partition("-")
        latency = cls(float(low), float(high or low))
        if not 0 <= latency.low <= latency.high <= MAX_DELAY_MS:
            raise ValueError(f"latency must be 0-{MAX_DELAY_MS} ms, MIN <= MAX")
        return latency

    def sample(self) -> float:
        return random.uniform(self.low, self.high)


def parse_prefer(value: str) -> dict[str, str]:
    """`code=404, example=notFound, delay=300` -> {"code": "404", ...} (RFC 7240 preferences)."""
    found = {}
    for item in value.split(","):
        for part in item.split(";"):
            match = _PREFER_ITEM.fullmatch(part)
            if match:
                found[match.group(1)] = match.group(2)
    return found


class ResponseOverrides:
    def __init__(self, app: ASGIApp, contract: Contract, sessions: Sessions, latency: Latency | None = None) -> None:
        self.app = app
        self.contract = contract
        self.sessions = sessions
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get("connexion_routing") if scope["type"] == "http" else None
        if routing is None:
            await self.app(scope, receive, send)
            return
        operation_id = routing["operation_id"]
        prefer = parse_prefer(header_value(scope, b"prefer") or "")
        try:
            delay = self._delay(prefer)
            override = self._override(operation_id, prefer, scope)
        except FieldErrors as error:
            note_error(scope, error)
            await error.to_response()(scope, receive, send)
            return
        if delay:
            await asyncio.sleep(delay / 1000)
        await (override or self.app)(scope, receive, send)

    def _delay(self, prefer: dict[str, str]) -> float:
        delay = self.latency.sample() if self.latency else 0.0
        if "delay" in prefer:
            try:
                asked = float(prefer["delay"])
            except ValueError:
                asked = -1
            if not 0 <= asked <= MAX_DELAY_MS:
                raise FieldErrors.single("Prefer", f"delay must be a number of milliseconds from 0 to {MAX_DELAY_MS}.")
            delay += asked
        return delay

    def _override(self, operation_id: str, prefer: dict[str, str], scope: Scope) -> Response | None:
        fault = self.sessions.get(session_name(scope)).take_fault(operation_id)
        if fault is None and "code" not in prefer and "example" not in prefer:
            return None
        responses = self.contract.responses(operation_id)
        if fault is not None:
            note_forced(scope, f"injected fault: {fault}")
            return self._answer(operation_id, str(fault), None, responses)
        code = prefer.get("code") or next(s for s in responses if s.startswith("2"))
        if code not in responses:
            raise FieldErrors.single("Prefer", f"code={code} is not documented for {operation_id}; "
                                               f"documented: {', '.join(responses)}.")
        answer = self._answer(operation_id, code, prefer.get("example"), responses)
        note_forced(scope, "Prefer: " + ", ".join(f"{k}={v}" for k, v in prefer.items() if k != "delay"))
        return answer

    def _answer(self, operation_id: str, code: str, example: str | None,
                responses: dict[str, dict]) -> Response:
        status = int(code)
        headers = {"Retry-After": "1"} if status in (429, 503) else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if code not in responses:  # an injected status the spec does not list: a DRF-style body
            body = {"detail": _REASONS.get(status, "Injected fault.")}
            return Response(jsonio.dumps(body), status_code=status, headers=headers, media_type="application/json")
        examples = self.contract.response_examples(operation_id, code)
        if example is not None and example not in examples:
            raise FieldErrors.single("Prefer", f"example={example} is not an example of the {code} response of "
                                               f"{operation_id}; examples: {', '.join(examples) or 'none'}.")
        if not examples:
            return Response(status_code=status, headers=headers)
        body = examples[example] if example is not None else next(iter(examples.values()))
        return Response(jsonio.dumps(body), status_code=status, headers=headers, media_type="application/json")

