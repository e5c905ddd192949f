"""Answers a developer asks for instead of the real ones: the `Prefer` header (Prism's way) and
injected faults; plus added latency. Nothing here changes state.

They are decided where the dispatcher is about to call the handler: after the credentials were
checked and the request validated, so a 401 or a 400 is never delayed or replaced (as in Prism).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

from . import jsonio
from .errors import FieldErrors, clip
from .request_log import note_forced
from .spec import Contract
from .store import Store

MAX_DELAY_MS = 30_000
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
    """`code=404, example=notFound, delay=300` -> {"code": "404", ...} (RFC 7240 preferences).

    Each `name=value` item (separated by `,` or `;`) with a lower-case name and a value that is
    bare or in double quotes counts; anything else is ignored. One pass over the text, no pattern
    that could backtrack.
    """
    found: dict[str, str] = {}
    if not value:
        return found
    for item in value.replace(";", ",").split(","):
        name, equals, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if text[:1] == '"':
            text = text[1:]
        if text[-1:] == '"':
            text = text[:-1]
        if equals and name.isascii() and name.isalpha() and name.islower() and '"' not in text:
            found[name] = text
    return found


class ResponseOverrides:
    def __init__(self, contract: Contract, latency: Latency | None = None) -> None:
        self.contract = contract
        self.latency = latency

    async def answer(self, scope: Scope, operation_id: str, store: Store) -> Response | None:
        """Wait the delay asked for, then the answer forced by `Prefer` or an injected fault, or None
        (the handler answers). A malformed `Prefer` is a 400 naming it."""
        prefer = parse_prefer(", ".join(Headers(scope=scope).getlist("prefer")))
        delay = self._delay(prefer)
        override = self._override(operation_id, prefer, scope, store)
        if delay:
            await asyncio.sleep(delay / 1000)
        return override

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

    def _override(self, operation_id: str, prefer: dict[str, str], scope: Scope, store: Store) -> Response | None:
        fault = store.take_fault(operation_id)
        if fault is None and "code" not in prefer and "example" not in prefer:
            return None
        responses = self.contract.responses(operation_id)
        if fault is not None:
            note_forced(scope, f"injected fault: {fault}")
            return self._answer(operation_id, str(fault), None, responses)
        code = prefer.get("code") or next(s for s in responses if s.startswith("2"))
        if code not in responses:
            raise FieldErrors.single("Prefer", f"code={clip(code, 40)} is not documented for {operation_id}; "
                                               f"documented: {', '.join(responses)}.")
        answer = self._answer(operation_id, code, prefer.get("example"), responses)
        note_forced(scope, clip("Prefer: " + ", ".join(f"{k}={v}" for k, v in prefer.items() if k != "delay"), 200))
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
            raise FieldErrors.single("Prefer", f"example={clip(example, 80)} is not an example of the {code} response "
                                               f"of {operation_id}; examples: {', '.join(examples) or 'none'}.")
        if not examples:
            return Response(status_code=status, headers=headers)
        body = examples[example] if example is not None else next(iter(examples.values()))
        return Response(jsonio.dumps(body), status_code=status, headers=headers, media_type="application/json")
