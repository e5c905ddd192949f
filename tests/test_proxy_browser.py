"""The validating proxy in a real browser: a page on a localhost dev-server origin calls a deployment
through the proxy with fetch (CORS preflight, the findings header readable from JavaScript), and the
console at the proxy's `/__mock__/` shows the same findings the request log holds, live: the violation
in red with its rule and spec location, the refuted assumptions in amber.

The deployment is the mock with `evaluator_slugs` winning over `evaluator_ids` (tests/broken_deployments.py),
served in-process like the proxy, so the test needs no process but Chromium.
"""

from __future__ import annotations

import json

import httpx
from broken_deployments import ACME_KEY, Exchange, Faulty, build
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send
from test_browser import chromium
from test_console_browser import DevTools

from contract_tests.embedded import serve
from mock_server.app import build_app
from mock_server.proxy import ProxyOptions, forwarder

PAGE = """<!doctype html><html><body><pre id="result">running</pre><script>
(async () => {
  const response = await fetch("%(api)s/experiments/exp_9f8b7c6d/", {method: "PATCH",
    headers: {"Authorization": "Bearer %(key)s", "Content-Type": "application/json"},
    body: JSON.stringify({evaluator_ids: ["helpfulness"], evaluator_slugs: ["tone"]})});
  const body = await response.json();
  await fetch("%(api)s/experiments/exp_9f8b7c6d/", {method: "PATCH",  // a field the contract does not have,
                                                                      // which this upstream ignores
    headers: {"Authorization": "Bearer %(key)s", "Content-Type": "application/json"},
    body: JSON.stringify({colour: "blue"})});
  document.getElementById("result").textContent = JSON.stringify(
    {status: response.status, findings: response.headers.get("X-Contract-Findings"), ids: body.evaluator_ids});
})().catch((error) => { document.getElementById("result").textContent = JSON.stringify({error: String(error)}); });
</script></body></html>"""


def test_a_page_calls_through_the_proxy_and_the_console_shows_its_findings(tmp_path):
    browser = chromium()
    def ignores_unknown_fields(ex: Exchange) -> None:  # as Django REST framework does: the field is dropped
        if isinstance(ex.body, dict):
            ex.body.pop("colour", None)

    with serve(Faulty(build("slugs_win_over_ids"), before=ignores_unknown_fields)) as upstream, \
            serve(build_app(forwarder=forwarder(ProxyOptions(upstream=f"{upstream}/api/v2"))).asgi,
                  lifespan="on") as proxy:
        page_html = PAGE % {"api": f"{proxy}/api/v2", "key": ACME_KEY}

        async def site(scope: Scope, receive: Receive, send: Send) -> None:
            await HTMLResponse(page_html)(scope, receive, send)

        with serve(site) as served:
            page_origin = served.replace("http://127.0.0.1:", "http://localhost:")  # a dev server's origin
            page = DevTools(browser, tmp_path / "profile")
            try:
                page.send("Runtime.enable")
                page.send("Page.enable")
                page.send("Page.navigate", url=page_origin + "/")
                result = json.loads(page.wait_for(
                    "(t => t !== 'running' && t)(document.getElementById('result').textContent)", "the call's result"))
                assert result == {"status": 200, "findings": "violations=1; refuted-assumptions=0",
                                  "ids": ["tone"]}, result

                logged = httpx.get(f"{proxy}/__mock__/requests", trust_env=False).json()
                patches = [e for e in logged if e["method"] == "PATCH"]  # newest first
                page.send("Log.enable")
                page.send("Page.navigate", url=proxy + "/__mock__/")
                page.wait_for("!!(document.querySelector('#requests li.finding.violation') && "
                              "document.querySelector('#requests li.finding.assumption'))", "both findings")
                shown = page.evaluate("[...document.querySelectorAll('#requests tr.proxied li.finding')]"
                                      ".map(li => [li.dataset.kind, li.querySelector('.rule').textContent])")
                assert sorted(map(tuple, shown)) == sorted(
                    ("violation" if f["kind"] == "violation" else "assumption", f["assumption"] or f["rule"])
                    for e in patches for f in e["findings"])
                assert ["violation", "evaluator_ids_win_over_slugs"] in shown
                assert ["assumption", "unknown-fields-rejected"] in shown
                colour = page.evaluate("getComputedStyle(document.querySelector('li.finding.violation'))"
                                       ".boxShadow")
                assert "rgb(" in colour
                line = page.evaluate("document.querySelector('#requests tr.proxied').innerText")
                assert "answered by upstream" in line and "openapi.yaml:" in line and ACME_KEY not in line
                page.click("#requests tr.req:nth-last-child(2)")  # the first PATCH (rows: req, proxied, …)
                story = page.wait_for("!document.querySelector('#story-body').hidden && "
                                      "document.querySelector('#story-body').innerText", "the exchange's story")
                assert "contract findings" in story and '"evaluator_slugs"' in story and ACME_KEY not in story
                assert [p for p in page.problems() if "status of 400" not in p] == []  # the page's own 400
            finally:
                page.close()
