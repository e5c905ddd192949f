"""End to end in a real browser: a page on another localhost origin calls the mock with fetch.

The page is served from `http://localhost:<port>`, as a Vite (5173) or CRA dev server is, and sends
the tracing headers real apps add (`traceparent`, `baggage`, `sentry-trace`, `x-request-id`)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import ACME_KEY, COMPLETED_ID
from starlette.responses import HTMLResponse

from contract_tests.embedded import serve
from mock_server.app import build_app

PAGE = """<!doctype html><html><body><pre id="result">running</pre><script>
const api = "%(api)s", controls = "%(controls)s";
const auth = {"Authorization": "Bearer %(key)s"}, json = {"Content-Type": "application/json"};
async function call(method, path, body, extra) {
  const response = await fetch(api + path, {method, headers: {...auth, ...json, ...(extra || {})},
                                            body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null,
          authenticate: response.headers.get("WWW-Authenticate")};
}
(async () => {
  const out = {};
  try {
    out.create = await call("POST", "/experiments/", {dataset_id: "ds_7a6b5c4d", name: "From the browser",
      workflow: [{type: "completion", config: {model: "gpt-4o"}}], evaluator_ids: ["helpfulness"]});
    const id = out.create.body.id;
    out.patch = await call("PATCH", "/experiments/" + id + "/", {description: "edited in Chromium", batch_size: 5});
    out.read = await call("GET", "/experiments/" + id + "/");
    out.forced = await call("GET", "/experiments/%(existing)s/", undefined, {"Prefer": "code=404"});
    out.traced = await call("GET", "/experiments/" + id + "/", undefined, {
      "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "baggage": "userId=alice", "sentry-trace": "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      "x-request-id": "req-42"});
    out.forcedByQuery = await call("GET", "/experiments/%(existing)s/?__code=404");
    out.invalid = await call("PATCH", "/experiments/" + id + "/", {batch_size: 0});
    // the developer's controls, from an allowed origin, with JSON (preflighted)
    const fault = await fetch(controls + "/faults", {method: "POST", headers: json,
      body: JSON.stringify({operation_id: "getExperiment", status: 503, count: 1})});
    out.fault = {status: fault.status};
    out.faulted = await call("GET", "/experiments/" + id + "/");
    // a "simple" request, as any web page could send one without asking: refused, nothing changes
    await fetch(controls + "/reset", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
                                      body: "{}"});
    out.afterSimple = await call("GET", "/experiments/" + id + "/");
    const bare = await fetch(api + "/experiments/");
    out.unauthenticated = {status: bare.status, authenticate: bare.headers.get("WWW-Authenticate")};
  } catch (error) { out.error = String(error); }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script></body></html>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is missing; .ci/run installs Debian's chromium package")
    pytest.skip("chromium is not installed here (.ci/run installs it: apt-get install chromium)")


def test_a_page_on_a_localhost_dev_server_uses_the_mock_with_fetch_and_tracing_headers(tmp_path):
    browser = chromium()
    with serve(build_app().asgi) as mock_origin:
        page = PAGE % {"api": mock_origin + "/api/v2", "controls": mock_origin + "/__mock__", "key": ACME_KEY,
                       "existing": COMPLETED_ID}

        async def site(scope, receive, send):
            await HTMLResponse(page)(scope, receive, send)

        with serve(site) as served:
            page_origin = served.replace("http://127.0.0.1:", "http://localhost:")  # a dev server's origin
            assert page_origin.startswith("http://localhost:") and page_origin != mock_origin
            dom = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
                 "--dump-dom", page_origin + "/"],
                capture_output=True, text=True, timeout=120).stdout
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    out = json.loads(html.unescape(match.group(1)))
    assert "error" not in out, out
    assert out["create"]["status"] == 201
    assert out["patch"]["status"] == 200
    assert out["read"]["body"]["description"] == "edited in Chromium" and out["read"]["body"]["batch_size"] == 5
    assert out["forced"]["status"] == 404 and out["forced"]["body"]["detail"].startswith("No experiment")
    assert out["traced"]["status"] == 200 and out["traced"]["body"]["description"] == "edited in Chromium"
    assert out["forcedByQuery"] == out["forced"]
    assert out["invalid"]["status"] == 400
    assert out["invalid"]["body"] == {"batch_size": ["Ensure this value is greater than or equal to 1."]}
    assert out["unauthenticated"] == {"status": 401, "authenticate": "Bearer"}
    assert out["fault"] == {"status": 201} and out["faulted"]["status"] == 503
    assert out["afterSimple"]["status"] == 200 and out["afterSimple"]["body"]["description"] == "edited in Chromium"
