"""Log lines: control characters escaped, no credential at any level, `--log-format json` one object per line."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import ACME_KEY, BASE

from mock_server.auth import mint_jwt
from mock_server.logs import AccessLogFilter, JsonLineFormatter, TextLineFormatter, log_config, printable, redact_query

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
ROOT = Path(__file__).resolve().parent.parent
CONTROLS = "\n\r\x1b\x00\x7f\x9b\u2028\u202e"


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mock_server.requests"]


def assert_no_controls(text: str) -> None:
    assert not any(char in text for char in CONTROLS), repr(text)


@pytest.mark.parametrize(("method", "path", "params", "body"), [
    ("GET", f"{BASE}/%0AWARNING%20forged%20line%1B[31m/", None, None),
    ("GET", f"{BASE}/", {"page\n\x1b[2J": "1"}, None),
    ("POST", f"{BASE}/list/", {"sort_by": "name\nINFO forged"}, {}),
    ("PATCH", f"{BASE}/exp_9f8b7c6d/", None, {"na\u2028me\x1b[0m": 1, "batch_size": "\n"}),
])
def test_every_logged_value_has_its_control_characters_escaped(client, caplog, method, path, params, body):
    with caplog.at_level(logging.WARNING, logger="mock_server.requests"):
        response = client.request(method, path, params=params, json=body, headers=AUTH)
    assert 400 <= response.status_code < 500
    (record,) = request_lines(caplog)
    assert_no_controls(record.getMessage())
    line = TextLineFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert_no_controls(line) and "\n" not in line
    assert "\\n" in line or "\\x1b" in line or "\\u2028" in line


def test_the_text_formatter_escapes_any_message():
    record = logging.LogRecord("mock_server.x", logging.WARNING, __file__, 1, "got %s", ("a\nb\x1b[31m",), None)
    assert TextLineFormatter("%(message)s").format(record) == "got a\\nb\\x1b[31m"
    assert printable("tab\there\u202e") == "tab\\there\\u202e"


def test_json_lines_are_one_object_each_and_nothing_else(client, caplog, mock):
    mock_json = __import__("mock_server.app", fromlist=["build_app"]).build_app(log_json=True)
    from starlette.testclient import TestClient

    with TestClient(mock_json.asgi, base_url="http://127.0.0.1:4010") as json_client, \
            caplog.at_level(logging.WARNING, logger="mock_server.requests"):
        json_client.get(f"{BASE}/nope%0A%1B[31m/", headers=AUTH)
    (record,) = request_lines(caplog)
    line = JsonLineFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line and line.startswith("{") and line.endswith("}")
    entry = json.loads(line)
    assert entry["path"] == f"{BASE}/nope\n\x1b[31m/" and entry["status"] == 400
    other = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (42,), None)
    assert json.loads(JsonLineFormatter().format(other))["message"] == "Started server process [42]"


@pytest.mark.parametrize("name", ["token", "access_token", "api_key", "key", "jwt", "Access-Token", "apiKey",
                                  "client_secret", "refresh_token", "password"])
def test_credential_query_parameters_are_redacted_from_the_access_log(name):
    target = f"/api/v2/experiments/?page=1&{name}=sk_live_secret_value&page_size=5"
    assert redact_query(target) == f"/api/v2/experiments/?page=1&{name}=[redacted]&page_size=5"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5555", "GET", target + "\n", "1.1", 200), None)
    assert AccessLogFilter().filter(record)
    assert "sk_live_secret_value" not in record.getMessage() and "\n" not in record.getMessage()


def test_the_access_log_is_filtered_in_the_logging_configuration():
    config = log_config("debug")
    assert config["handlers"]["access"]["filters"] == ["redact"]
    assert config["loggers"]["mock_server"]["handlers"] == ["mock"]
    assert config["formatters"]["mock"]["()"] is TextLineFormatter
    assert log_config("info", json_lines=True)["formatters"]["access"]["()"] is JsonLineFormatter


def test_no_token_reaches_the_logs_at_debug_level(client, caplog, mock):
    token = mint_jwt("org_acme", mock.authenticator.jwt_secret)
    with caplog.at_level(logging.DEBUG):
        client.get(f"{BASE}/", headers={"Authorization": f"Bearer {token}"})
        client.get(f"{BASE}/", params={"access_token": ACME_KEY}, headers={"Authorization": "Bearer sk_live_nope"})
        client.get(f"{BASE}/", headers={"Authorization": f"Bearer {token[:-3]}xyz"})
    server = "".join(f"{r.getMessage()}\n" for r in caplog.records if not r.name.startswith("httpx"))
    assert token not in server and token[:-3] not in server
    assert ACME_KEY not in server and "sk_live_nope" not in server


def test_the_real_server_writes_json_lines_and_no_token_at_debug():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "--port", str(port), "--log-level", "debug",
                             "--log-format", "json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        url = f"http://127.0.0.1:{port}/api/v2/experiments/?access_token=sk_live_in_the_query&page=1"
        while True:
            try:
                response = httpx.get(url, headers=AUTH, timeout=2)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            assert response.status_code == 400  # the unknown query parameter, logged without its value
            break
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "sk_live_in_the_query" not in out + err and ACME_KEY not in err
    assert "access_token=[redacted]" in out
    logged = [line for line in (out + err).splitlines() if line and not line.startswith(("Experiments", "  "))]
    assert logged and all(isinstance(json.loads(line), dict) for line in logged)
