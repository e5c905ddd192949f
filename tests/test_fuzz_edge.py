"""Fuzzing the HTTP edge with Hypothesis: deep, huge and odd bodies, headers, paths and query strings.

Whatever arrives, the answer is never a 5xx, an error body is JSON, and it comes within a generous bound.
Examples are bounded (`max_examples`) and nothing is written to disk (`database=None`).
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from conftest import ACME_KEY, COMPLETED_ID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_server.app import build_app

BOUND = 5.0  # seconds: generous, the point is that nothing hangs
FUZZ = settings(max_examples=120, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

PATHS = ["/api/v2/experiments/", "/api/v2/experiments", f"/api/v2/experiments/{COMPLETED_ID}/",
         "/api/v2/experiments/list/", "/api/v2/experiments/summary/", "/api/v2/ui/", "/api/v2/openapi.json",
         "/__mock__/faults", "/__mock__/reset", "/__mock__/requests", "/__mock__/state",
         f"/__mock__/experiments/{COMPLETED_ID}/lifecycle", "/", "/api/v2/"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]
CONTENT_TYPES = [None, "application/json", "Application/JSON", "application/json; charset=latin-1", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data", "application/json;;;", "", "*/*"]
AUTHS = [None, f"Bearer {ACME_KEY}", "Bearer ", "Bearer a.b.c", "Basic eDp5", f"bearer {ACME_KEY}",
         "Bearer " + "x" * 5000]

odd_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["\x00", "\n", "\x1b[31m", "\u2028", "١", "1_000", "9" * 400, "-1", "NaN", "../..", "%00", "\ufeff"])
scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | odd_text
json_value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4), max_leaves=25)
known_fields = st.fixed_dictionaries({}, optional={
    "name": json_value, "workflow": json_value, "batch_size": json_value, "evaluator_ids": json_value,
    "filters": st.dictionaries(st.sampled_from(["name", "created_at", "status", "nope"]), st.fixed_dictionaries(
        {"operator": st.sampled_from(["", "lt", "in", "isnull", "icontains", "bogus"]), "value": json_value})),
    "description": json_value, "action": st.sampled_from(["start", "progress", "complete", "fail", "x"]),
    "operation_id": st.sampled_from(["getExperiment", "updateExperiment", "nope"]), "status": json_value})


@st.composite
def bodies(draw) -> bytes | None:
    kind = draw(st.sampled_from(["none", "json", "fields", "deep", "huge", "many", "raw", "surrogate"]))
    if kind == "none":
        return None
    if kind == "json":
        return json.dumps(draw(json_value)).encode()
    if kind == "fields":
        return json.dumps(draw(known_fields)).encode()
    if kind == "deep":
        depth = draw(st.integers(0, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ("[{\"x\":", "}]")]))
        return f'{{"workflow": [{{"type": "wait", "config": {{"x": {opener * depth}1{closer * depth}}}}}]}}'.encode()
    if kind == "huge":
        size = draw(st.sampled_from([1024, 500_000, 1024 * 1024 - 20, 1024 * 1024 + 1, 2 * 1024 * 1024]))
        field = draw(st.sampled_from(["description", "name", "workflow", "unknown"]))
        return b'{"' + field.encode() + b'": "' + b"x" * size + b'"}'
    if kind == "many":
        count = draw(st.integers(0, 90_000))
        item = draw(st.sampled_from([b"1", b"{}", b'"x"', b"[]",
                                     b'{"type": "completion", "config": {"stop": [1,2,3,4,5]}}']))
        return b'{"workflow": [' + b",".join([item] * count) + b"]}"
    if kind == "surrogate":
        return draw(st.sampled_from([b'{"name": "\\ud800"}', b'{"\\udfff": 1}', b'["\\ud800\\udc00"]', b'"\\ud83d"']))
    return draw(st.binary(max_size=200))


@st.composite
def requests(draw) -> dict:
    path = draw(st.sampled_from(PATHS))
    if draw(st.booleans()):
        path += quote(draw(odd_text), safe="/") + draw(st.sampled_from(["", "/", "//", "/x/"]))
    names = odd_text | st.sampled_from(["page", "page_size", "sort_by", "limit", "access_token"])
    query = draw(st.lists(st.tuples(names, odd_text), max_size=5))
    headers = {}
    for name, choices in (("Content-Type", st.sampled_from(CONTENT_TYPES)), ("Authorization", st.sampled_from(AUTHS)),
                          ("Prefer", st.none() | st.sampled_from(["code=404", "code=200, example=x", "delay=5",
                                                                  "delay=-1", "code=999", 'a="' + " " * 9000 + '"x',
                                                                  "code=400;example=bothScoringPaths"])),
                          ("X-Mock-Session", st.none() | st.sampled_from(["a", "b" * 2000, "é"])),
                          ("Host", st.sampled_from([None, None, None, "localhost:1", "[::1]", "evil.example", ""])),
                          ("X-Padding", st.none() | st.sampled_from(["x" * 40_000, "y" * 1000]))):
        value = draw(choices)
        if value is not None:
            headers[name] = value
    path = "/" + path.lstrip("/")  # a leading "//" would make the test client read a host from it
    return {"method": draw(st.sampled_from(METHODS)), "path": path, "query": query, "headers": headers,
            "body": draw(bodies())}


@pytest.fixture(scope="module")
def fuzzed():
    with TestClient(build_app(validate_responses=False).asgi, base_url="http://127.0.0.1:4010",
                    raise_server_exceptions=False) as client:
        yield client


@FUZZ
@given(request=requests())
def test_the_edge_never_answers_5xx(fuzzed, request):
    headers = {name: value.encode("utf-8") for name, value in request["headers"].items()}  # raw bytes, as sent
    started = time.perf_counter()
    response = fuzzed.request(request["method"], request["path"], params=request["query"], headers=headers,
                              content=request["body"], follow_redirects=False)
    seconds = time.perf_counter() - started
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert seconds < BOUND
    if response.status_code >= 400 and request["method"] != "HEAD" and response.content:
        assert isinstance(response.json(), dict)
        assert len(response.content) < 64 * 1024


@FUZZ
@given(depth=st.integers(0, 2000), width=st.integers(0, 3), key=odd_text)
def test_any_nesting_in_any_body_field_is_a_4xx_or_accepted(fuzzed, depth, width, key):
    value = "[" * depth + ",".join(["1"] * width) + "]" * depth
    for path, method in ((f"/api/v2/experiments/{COMPLETED_ID}/", "PATCH"), ("/api/v2/experiments/list/", "POST"),
                         ("/__mock__/faults", "POST")):
        body = json.dumps({key: 0})[:-2] + value + "}"
        response = fuzzed.request(method, path, content=body.encode(),
                                  headers={"Authorization": f"Bearer {ACME_KEY}", "Content-Type": "application/json"})
        assert response.status_code < 500, (response.status_code, response.text[:300])
