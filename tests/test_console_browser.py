"""The console in a real browser: headless Chromium opens `/__mock__/`, a rejected PATCH made from the test
appears with its field, a real mouse click on "Reset this session" resets the world.

`--dump-dom` (what test_browser.py uses) cannot press a button, so Chromium is driven through the
DevTools protocol over a WebSocket (`websockets`, pinned in constraints.txt and listed in the dev
extra; no browser driver or Playwright download). A screenshot at 1280x800 is saved to
`reports/console.png` (git-ignored), for CI to keep as an artifact.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID
from test_browser import chromium
from websockets.sync.client import connect

from contract_tests.embedded import serve
from mock_server.app import build_app

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "reports" / "console.png"
AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
PENDING_ID = "0b5e7d2c9a1f4e6b8c3d2a1f0e9d8c7b"  # org_acme, pending in the fixtures
WAIT_SECONDS = 30  # a hang guard, not a timing assert: the page polls every second


class DevTools:
    """One page of a headless Chromium, driven by DevTools protocol commands; it keeps the events it sees."""

    def __init__(self, browser: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
             "--disable-extensions", f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1280,800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        port_file = profile / "DevToolsActivePort"  # Chromium writes the port it chose here
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("headless chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with httpx.Client(trust_env=False, timeout=30) as http:
            targets = http.get(f"http://127.0.0.1:{port}/json/list").json()
        page = next(t for t in targets if t["type"] == "page")
        # Entered as a context manager, as websockets 17 asks (a bare connect() is deprecated there).
        self._socket_stack = contextlib.ExitStack()
        self.socket = self._socket_stack.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None, open_timeout=30))

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self._ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=WAIT_SECONDS))
            if message.get("id") == command_id:
                assert "error" not in message, (method, message["error"])
                return message["result"]
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str) -> Any:
        """The value of `expression` once it is truthy; an exception counts as not yet (the page may be loading)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
            value = None if "exceptionDetails" in result else result["result"].get("value")
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                pytest.fail(f"the console did not show {what} within {WAIT_SECONDS} s; it shows:\n{text[:3000]}")
            time.sleep(0.2)

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) in the middle of the element, scrolled into view first."""
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        x, y = box
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def problems(self) -> list[str]:
        """Uncaught exceptions and console errors (a Content-Security-Policy refusal is one)."""
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(event["params"]["exceptionDetails"])[:500])
            elif event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] == "error":
                found.append(event["params"]["entry"]["text"])
            elif event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] == "error":
                found.append(json.dumps(event["params"]["args"])[:500])
        return found

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self._socket_stack.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def test_the_console_shows_a_rejected_patch_live_and_its_reset_button_resets_the_session(tmp_path):
    browser = chromium()
    mock = build_app()
    fixture_name = mock.store.get("org_acme", COMPLETED_ID)["name"]
    with serve(mock.asgi) as origin, httpx.Client(base_url=origin, headers=AUTH, trust_env=False, timeout=30) as api:
        page = DevTools(browser, tmp_path / "profile")
        try:
            page.send("Runtime.enable")
            page.send("Log.enable")
            page.send("Page.enable")
            page.send("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1, mobile=False)
            page.send("Page.navigate", url=origin + "/__mock__/")
            page.wait_for("document.body && document.body.dataset.ready === '1' && "
                          "document.querySelector('#live').classList.contains('on')", "that it is live")

            # a change the reset must undo, then a PATCH the contract refuses
            assert api.patch(f"{BASE}/{COMPLETED_ID}/", json={"name": "Renamed from the test"}).status_code == 200
            api.get(f"{BASE}/{COMPLETED_ID}/")
            assert api.get("/api/v2/openapi.json").status_code == 200  # what Swagger UI asks for: hidden by default
            refused = api.patch(f"{BASE}/{COMPLETED_ID}/", json={"batch_size": 0, "description": "too small"})
            assert refused.status_code == 400 and "batch_size" in refused.json()
            page.wait_for("[...document.querySelectorAll('#requests tr.req.rejected')].some(r => "
                          "r.innerText.includes('PATCH') && r.innerText.includes('400') && "
                          "r.nextElementSibling.querySelector('.field-name').textContent === 'batch_size')",
                          "the rejected PATCH with its field")
            why = page.evaluate("document.querySelector('#requests tr.why').innerText")
            assert "minimum" in why and "greater than or equal to 1" in why and "Swagger UI" in why
            assert page.evaluate("document.querySelector('#requests tr.why a').getAttribute('href')") == \
                "/api/v2/ui/#/Experiments/updateExperiment"
            assert page.evaluate("document.querySelectorAll('#requests tr.req').length") == 3
            assert page.evaluate("document.querySelector('#loading-requests').hidden")
            # a path wraps only after a slash: a <wbr> there, and no rule that breaks inside a word
            assert page.evaluate("document.querySelectorAll('#requests tr.req td:nth-child(3) wbr').length") > 0
            assert page.evaluate("getComputedStyle(document.querySelector('#requests tr.req td:nth-child(3)'))"
                                 ".wordBreak") == "normal"
            page.click("#show-docs")
            page.wait_for("[...document.querySelectorAll('#requests tr.req')].some(r => "
                          "r.innerText.includes('openapi.json'))", "Swagger UI's request, once asked for")
            page.click("#show-docs")
            page.wait_for("document.querySelectorAll('#requests tr.req').length === 3", "it hidden again")
            assert page.wait_for("document.querySelector('#experiments').innerText.includes('Renamed from the test')",
                                 "the renamed experiment")

            # the request's whole story, opened by a click on its row
            page.click("#requests tr.req.rejected")
            story = page.wait_for("!document.querySelector('#story-body').hidden && "
                                  "document.querySelector('#story-body').innerText", "the request's story")
            assert "PATCH /api/v2/experiments/exp_9f8b7c6d/" in story and "updateExperiment" in story
            assert "validation" in story  # the layer that answered
            assert '"batch_size": 0' in story and '"description": "too small"' in story  # the request body
            assert "greater than or equal to 1" in story.split("response body")[1]  # the response body
            page.click("#requests tr.why button.pointer")  # the rule in the spec, by its JSON pointer
            rule = page.wait_for("document.querySelector('#requests tr.why pre.node')?.textContent", "the rule")
            assert rule == "minimum: 1"
            page.screenshot(SCREENSHOT)

            # a lifecycle move and a fault from the buttons, which the reset must undo too
            pending_row = f"#experiments tr[data-id='{PENDING_ID}']"
            page.click(f"{pending_row} button")  # its first move: start
            page.wait_for(f"document.querySelector(\"{pending_row} .pill\").textContent === 'running'",
                          "the started experiment running")
            page.click("#fault-form button[type=submit]")  # the first operation, 503, once
            page.wait_for("document.querySelector('#faults tbody').innerText.includes('listExperiments')",
                          "the pending fault")

            page.click("#reset")
            page.wait_for("!document.querySelector('#no-requests').hidden && "
                          "document.querySelectorAll('#requests tr.req').length === 0", "an empty request log")
            page.wait_for(f"document.querySelector('#experiments').innerText.includes({json.dumps(fixture_name)}) && "
                          f"document.querySelector(\"{pending_row} .pill\").textContent === 'pending' && "
                          "document.querySelector('#faults tbody').innerText.includes('No fault pending')",
                          "the world from the fixtures, no fault pending")
            assert api.get(f"{BASE}/{COMPLETED_ID}/").json()["name"] == fixture_name
            assert api.get(f"{BASE}/{PENDING_ID}/").json()["status"] == "pending"
            assert api.get(f"{BASE}/").status_code == 200  # the fault is gone

            # the state export, downloaded by its button
            downloads = tmp_path / "downloads"
            page.send("Page.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
            page.click("#download")
            saved = downloads / "mock-state-default.json"
            deadline = time.monotonic() + WAIT_SECONDS
            while not saved.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            exported = {e["id"]: e for e in json.loads(saved.read_text())["experiments"]}
            assert exported[COMPLETED_ID]["name"] == fixture_name and exported[PENDING_ID]["status"] == "pending"
            assert page.problems() == []
        finally:
            page.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_with_an_admin_token_the_console_asks_for_it_and_works_once_it_is_typed(tmp_path):
    browser = chromium()
    with serve(build_app(admin_token="s3cret-admin").asgi) as origin, \
            httpx.Client(base_url=origin, headers=AUTH, trust_env=False, timeout=30) as api:
        page = DevTools(browser, tmp_path / "profile")
        try:
            page.send("Page.enable")
            page.send("Page.navigate", url=origin + "/__mock__/")
            page.wait_for("!document.querySelector('#notice').hidden && "
                          "document.querySelector('#notice').textContent.includes('--admin-token') && "
                          "document.querySelector('#live').classList.contains('off')",
                          "that the controls need the admin token")
            page.click("#token")
            page.send("Input.insertText", text="s3cret-admin")
            page.click("h1")  # leaving the field is what sets the token
            page.wait_for("document.querySelector('#live').classList.contains('on') && "
                          "document.querySelector('#notice').hidden", "that it is live with the token")
            assert page.evaluate("sessionStorage.getItem('mock-console-token')") == "s3cret-admin"
            assert api.get(f"{BASE}/{COMPLETED_ID}/", headers={"X-Mock-Session": "token-test"}).status_code == 200
            page.wait_for("[...document.querySelectorAll('#sessions td')].some(td => td.textContent === 'token-test')",
                          "the new session")
            page.click("#sessions tr:nth-child(2)")
            page.wait_for("location.hash === '#session=token-test' && "
                          "document.querySelector('#requests tr.req')?.innerText.includes('token-test')",
                          "the session's request")
            assert "s3cret-admin" not in page.evaluate("document.documentElement.outerHTML")
        finally:
            page.close()
