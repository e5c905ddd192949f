"""Answers a developer asks for instead of the real ones: the `Prefer` header (Prism's way), or its
query form (`__code`, `__example`, `__delay`, as in Prism), and injected faults; plus added latency.
Nothing here changes state.

They are decided where the dispatcher is about to call the handler: after the credentials were
checked and the request validated, so a 401 or a 400 is never delayed or replaced (as in Prism).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from starlette.responses import Response

from . import jsonio
from .context import Outcome, Routed
from .errors import FieldErrors, clip
from .sessions import Faults
from .spec import Contract

MAX_DELAY_MS = 30_000
_QUERY_NAMES = {"__code": "code", "__example": "example", "__delay": "delay", "__dynamic": "dynamic"}
_DYNAMIC = ("dynamic={value}: this mock serves state (what you create, PATCH and delete is what you read back), "
            "not randomly generated data; leave dynamic out.")
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


def take_query_preferences(query: bytes) -> tuple[bytes, dict[str, str]]:
    """The query string without Prism's query preferences (`?__code=404&__example=…&__delay=…&__dynamic=…`),
    and those preferences ({"code": "404", ...}): the query string that request validation, the
    handlers and their links see is what it would be with `Prefer`. The other parameters are kept
    byte for byte."""
    if b"__" not in query and b"%5f" not in query.lower():  # no name that could decode to `__…`
        return query, {}
    kept: list[bytes] = []
    taken: dict[str, str] = {}
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        preference = _QUERY_NAMES.get(unquote_plus(name.decode("latin-1")))
        if preference is None:
            kept.append(part)
        else:
            taken[preference] = unquote_plus(value.decode("latin-1"))
    if not taken:
        return query, {}
    return b"&".join(kept), taken


def _source(name: str, from_query: dict[str, str]) -> str:
    """The field an error about preference `name` is keyed by: the query parameter or `Prefer`."""
    return f"__{name}" if name in from_query else "Prefer"


class ResponseOverrides:
    def __init__(self, contract: Contract, latency: Latency | None = None) -> None:
        self.contract = contract
        self.latency = latency

    async def answer(self, routed: Routed, faults: Faults) -> tuple[Response, Outcome] | None:
        """Wait the delay asked for, then the answer forced by `Prefer` (or its query form, which wins)
        or an injected fault, with its outcome; or None (the handler answers). A malformed preference
        is a 400 naming it."""
        from_query = dict(routed.preferences)
        prefer = {**parse_prefer(routed.prefer), **from_query}
        if "dynamic" in prefer:
            raise FieldErrors.single(_source("dynamic", from_query), _DYNAMIC.format(value=clip(prefer["dynamic"], 40)),
                                     layer="forced")
        delay = self._delay(prefer, from_query)
        override = self._override(routed.operation_id, prefer, from_query, faults, routed.path_params)
        if delay:
            await asyncio.sleep(delay / 1000)
        return override

    def _delay(self, prefer: dict[str, str], from_query: dict[str, str]) -> float:
        delay = self.latency.sample() if self.latency else 0.0
        if "delay" in prefer:
            try:
                asked = float(prefer["delay"])
            except ValueError:
                asked = -1
            if not 0 <= asked <= MAX_DELAY_MS:
                raise FieldErrors.single(_source("delay", from_query),
                                         f"delay must be a number of milliseconds from 0 to {MAX_DELAY_MS}.",
                                         layer="forced")
            delay += asked
        return delay

    def _override(self, operation_id: str, prefer: dict[str, str], from_query: dict[str, str],
                  faults: Faults, path_params: Mapping[str, str] | None = None) -> tuple[Response, Outcome] | None:
        fault = faults.take(operation_id)
        if fault is None and "code" not in prefer and "example" not in prefer:
            return None
        responses = self.contract.responses(operation_id)
        if fault is not None:
            return (self._answer(operation_id, str(fault), None, responses),
                    Outcome("fault", operation_id, forced=f"injected fault: {fault}"))
        code = prefer.get("code") or next(s for s in responses if s.startswith("2"))
        if code not in responses:
            raise FieldErrors.single(_source("code", from_query),
                                     f"code={clip(code, 40)} is not documented for {operation_id}; "
                                     f"documented: {', '.join(responses)}.", layer="forced")
        answer = self._answer(operation_id, code, prefer.get("example"), responses, _source("example", from_query),
                              path_params or {})
        asked = ", ".join(f"{k}={v}" for k, v in prefer.items() if k != "delay")
        return answer, Outcome("forced", operation_id,
                               forced=clip(("query: " if from_query else "Prefer: ") + asked, 200))

    def _answer(self, operation_id: str, code: str, example: str | None,
                responses: dict[str, dict[str, Any]], example_field: str = "Prefer",
                path_params: Mapping[str, str] | None = None) -> Response:
        status = int(code)
        headers = {"Retry-After": "1"} if status in (429, 503) else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if code not in responses:  # an injected status the spec does not list: a DRF-style body
            body = {"detail": _REASONS.get(status, "Injected fault.")}
            return Response(jsonio.dumps(body), status_code=status, headers=headers, media_type="application/json")
        examples = self.contract.response_examples(operation_id, code)
        if example is not None and example not in examples:
            raise FieldErrors.single(example_field,
                                     f"example={clip(example, 80)} is not an example of the {code} response "
                                     f"of {operation_id}; examples: {', '.join(examples) or 'none'}.", layer="forced")
        if not examples:
            return Response(status_code=status, headers=headers)
        body = examples[example] if example is not None else next(iter(examples.values()))
        body = _with_requested_ids(body, self._path_examples(operation_id), path_params or {})
        return Response(jsonio.dumps(body), status_code=status, headers=headers, media_type="application/json")

    def _path_examples(self, operation_id: str) -> dict[str, str]:
        """The spec's example value of each path parameter of the operation (`experiment_id: exp_9f8b7c6d`)."""
        found = {}
        for parameter in self.contract.operations()[operation_id]["parameters"]:
            parameter = self.contract.resolve(parameter)
            if parameter.get("in") == "path" and isinstance(parameter.get("example"), str):
                found[parameter["name"]] = parameter["example"]
        return found


def _with_requested_ids(body: Any, examples: dict[str, str], requested: Mapping[str, str]) -> Any:
    """A forced example that names the path parameter's example id (`No experiment 'exp_9f8b7c6d'`)
    names the id the request asked for instead, as the real answer would."""
    if isinstance(body, str):
        for name, example in examples.items():
            if name in requested:
                body = body.replace(example, requested[name])
        return body
    if isinstance(body, dict):
        return {key: _with_requested_ids(value, examples, requested) for key, value in body.items()}
    if isinstance(body, list):
        return [_with_requested_ids(item, examples, requested) for item in body]
    return body
