"""A mock shared by a team that no client can knock over, fill up or wipe (issue 17), one test per finding.

What is about the server is tested black-box: raw sockets to a real `python -m mock_server` process
(one for the module, at `--log-level debug` so its access log is on). Timeouts are generous hang guards
(the bounds are 10 s; the tests allow 45), never timing asserts.
"""

from __future__ import annotations

import json
import math
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID
from starlette.testclient import TestClient

from contract_tests.embedded import free_port
from mock_server import __main__ as cli
from mock_server import store as store_module
from mock_server.app import build_app
from mock_server.auth import DEFAULT_JWT_SECRET
from mock_server.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
JSON = {"Content-Type": "application/json"}
LOCAL = "http://127.0.0.1:4010"
ITEM = f"{BASE}/{COMPLETED_ID}/"
NEW = {"dataset_id": "ds_7a6b5c4d", "workflow": [{"type": "completion", "config": {"model": "gpt-4o"}}],
       "evaluator_ids": ["helpfulness"]}
GUARD = 45.0  # seconds: a hang guard, far above every bound under test


def strict_json(text: str | bytes) -> object:
    """JSON as a strict parser reads it: no NaN or Infinity."""
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


# -- the server in front (a real process) ------------------------------------------------------------------

class Server:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.log = tmp / "mock.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mock_server", "--port", str(self.port), "--log-level", "debug"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request(f"GET {ITEM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ACME_KEY}"
                                "\r\n\r\n").startswith(b"HTTP/1.1 200"):
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the mock did not start")
            time.sleep(0.1)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=GUARD)

    def request(self, text: str) -> bytes:
        """One request on a new connection: the whole answer (up to the server closing or 64 KiB)."""
        with self.connect() as connection:
            connection.sendall(text.encode())
            return connection.recv(65536)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return math.nan


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("server"))
    yield running
    running.process.terminate()
    running.process.wait(timeout=15)


def _answer(connection: socket.socket) -> tuple[bytes, bytes]:
    """Status line and body of the answer on `connection`, read until the server closes it."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def _send_until_refused(connection: socket.socket, chunk: bytes, total: int, *, until_answered: bool = True) -> int:
    """Send up to `total` bytes; stop when the server stops reading or closes (or answers). Bytes sent."""
    connection.settimeout(3)
    sent = 0
    try:
        while sent < total and not (until_answered and select.select([connection], [], [], 0)[0]):
            sent += connection.send(chunk)
    except (TimeoutError, ConnectionError):
        pass
    connection.settimeout(GUARD)
    return sent


def test_1_a_request_head_that_never_ends_is_431_json_and_closed(server):
    before = server.rss_mib()
    with server.connect() as connection:
        connection.sendall(b"GET /api/v2/experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        _send_until_refused(connection, b"a" * 65536, 16 * 1024 * 1024)
        status, body = _answer(connection)
    assert status.startswith(b"HTTP/1.1 431") and "larger than" in strict_json(body)["detail"]
    with server.connect() as connection:  # a URL that never ends: the API's JSON 414, not plain text
        connection.sendall(b"GET /")
        _send_until_refused(connection, b"a" * 65536, 16 * 1024 * 1024)
        status, body = _answer(connection)
    assert status.startswith(b"HTTP/1.1 414") and strict_json(body)["detail"].startswith("The URL")
    assert server.rss_mib() - before < 50
    assert server.request(f"GET {ITEM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ACME_KEY}\r\n\r\n"
                          ).startswith(b"HTTP/1.1 200")


def test_1_a_parser_error_is_answered_in_json(server):
    with server.connect() as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, body = _answer(connection)
    assert status.startswith(b"HTTP/1.1 400") and "detail" in strict_json(body)


def test_2_pipelined_requests_never_read_are_not_queued_without_limit(server):
    request = f"GET {ITEM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ACME_KEY}\r\n\r\n".encode()
    before = server.rss_mib()
    with server.connect() as flood:
        _send_until_refused(flood, request * 600, 16 * 1024 * 1024, until_answered=False)
        grown = server.rss_mib() - before
        answer = server.request(request.decode())  # another client meanwhile
    assert grown < 50, f"the server grew by {grown:.0f} MiB"
    assert answer.startswith(b"HTTP/1.1 200")


def _seconds_until_closed(server: Server, prelude: bytes, drip: bool, answered_first: bool) -> float:
    with server.connect() as connection:
        started = time.monotonic()
        if answered_first:
            connection.sendall(f"GET {ITEM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ACME_KEY}\r\n\r\n"
                               .encode())
            connection.recv(65536)
            connection.sendall(b"G")
        if prelude:
            connection.sendall(prelude)
        connection.settimeout(4 if drip else GUARD)
        while time.monotonic() - started < GUARD:
            try:
                if not connection.recv(65536):
                    return time.monotonic() - started
            except TimeoutError:
                connection.sendall(b"a")  # a header byte every 4 s
            except ConnectionError:
                return time.monotonic() - started
        return math.inf


def test_3_idle_and_slow_connections_are_closed(server):
    cases = {"nothing sent": (b"", False, False),
             "stalled in its headers": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", False, False),
             "a header byte every 4 s": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", True, False),
             "a byte after an answer": (b"", False, True)}
    closed: dict[str, float] = {}
    threads = [threading.Thread(target=lambda n=name, a=args: closed.__setitem__(n, _seconds_until_closed(server, *a)))
               for name, args in cases.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD + 10)
    assert all(closed.get(name, math.inf) < GUARD for name in cases), closed


def test_7_no_credential_in_the_access_log_or_the_guards_lines(server):
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJvcmdfaWQiOiJvcmdfYWNtZSJ9.c2lnbmF0dXJl"
    server.request(f"GET /api/v2/experiments/{ACME_KEY}/?q={jwt} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {ACME_KEY}\r\n\r\n")
    server.request(f"GET /{ACME_KEY} HTTP/1.1\r\nHost: {ACME_KEY}.example\r\n\r\n")  # refused by the guard
    server.request(f"GET /{ACME_KEY}/{'x' * 20000} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # 414 from the guard
    time.sleep(0.5)
    text = server.log.read_text(errors="replace")
    assert "GET /api/v2/experiments/***/" in text  # the access log line is there, masked
    assert ACME_KEY not in text and jwt not in text


# -- sessions belong to their developers --------------------------------------------------------------------

def test_5_strangers_create_no_session_and_a_session_with_changes_is_never_evicted():
    clock = ManualClock()
    mock = build_app(max_sessions=2, clock=clock)
    with TestClient(mock.asgi, base_url=LOCAL) as client:
        for n in range(40):  # no credentials, new names: nothing is created or evicted
            client.get("/nothing-here", headers={"X-Mock-Session": f"stranger-{n}"})
            client.get(f"{BASE}/", headers={"X-Mock-Session": f"stranger-{n}"})
        assert mock.sessions.names() == []
        for name in ("alice", "bob"):
            created = client.post(f"{BASE}/", json={**NEW, "name": f"{name}'s"},
                                  headers={**AUTH, "X-Mock-Session": name})
            assert created.status_code == 201
        refused = client.get(f"{BASE}/", headers={**AUTH, "X-Mock-Session": "carol"})
        assert refused.status_code == 429 and "--max-sessions" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) > 0
        assert mock.sessions.names() == ["alice", "bob"]
        client.post("/__mock__/reset", headers={**JSON, "X-Mock-Session": "bob"})  # bob holds no changes now
        assert client.get(f"{BASE}/", headers={**AUTH, "X-Mock-Session": "carol"}).status_code == 200
        assert mock.sessions.names() == ["alice", "carol"]
        clock.advance(3601)  # untouched for the documented idle time: may make room
        assert client.get(f"{BASE}/", headers={**AUTH, "X-Mock-Session": "dave"}).status_code == 200
        assert "alice" not in mock.sessions.names()


@pytest.fixture
def never_serve(monkeypatch):
    """`main` stops where it would start serving (exit 0): a test sees what was checked before."""
    import uvicorn

    def run(*args: object, **kwargs: object) -> None:
        raise SystemExit(0)

    monkeypatch.setattr(uvicorn, "run", run)


def test_10_numeric_options_are_checked_at_start_in_one_line(capsys, never_serve):
    for argv in (["--max-sessions", "-1"], ["--max-sessions", "0"], ["--run-seconds", "nan"],
                 ["--run-seconds", "inf"], ["--run-seconds", "1e12"], ["--port", "70000"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        err = capsys.readouterr().err
        assert exited.value.code == 2 and err.count("\n") == 1 and err.startswith("python -m mock_server: error:")


# -- bounded worlds ----------------------------------------------------------------------------------------

def test_4_a_sessions_world_is_bounded_with_a_clear_409(monkeypatch, client):
    monkeypatch.setattr(store_module, "MAX_EXPERIMENTS_PER_ORGANIZATION", 12)
    session = {**AUTH, "X-Mock-Session": "bounded-count"}
    statuses = [client.post(f"{BASE}/", json=NEW, headers=session).status_code for _ in range(8)]
    refused = client.post(f"{BASE}/", json=NEW, headers=session)
    assert 201 in statuses and refused.status_code == 409 and "experiments" in refused.json()["detail"]

    monkeypatch.setattr(store_module, "MAX_WORLD_BYTES", 200_000)
    session = {**AUTH, "X-Mock-Session": "bounded-size"}
    big = {**NEW, "workflow": [{"type": "wait", "config": {"notes": "x" * 60_000}}]}
    answers = [client.post(f"{BASE}/", json=big, headers=session) for _ in range(4)]
    assert [a.status_code for a in answers][:2] == [201, 201] and answers[-1].status_code == 409
    assert "bytes" in answers[-1].json()["detail"]


# -- only valid JSON leaves the mock ---------------------------------------------------------------------

def test_6_numbers_json_cannot_carry_are_400_naming_the_field_and_every_answer_parses_strictly(client):
    body = '{"workflow": [{"type": "wait", "config": {"t": 1e400}}]}'
    refused = client.patch(ITEM, content=body, headers={**AUTH, **JSON})
    assert refused.status_code == 400 and list(refused.json()) == ["workflow.0.config.t"]
    exact = '{"workflow": [{"type": "wait", "config": {"n": 123456789012345678901234567890}}]}'
    stored = client.patch(ITEM, content=exact, headers={**AUTH, **JSON})
    assert stored.status_code == 200 and b"123456789012345678901234567890" in stored.content
    for response in (refused, stored, client.get(ITEM, headers=AUTH), client.get("/__mock__/state"),
                     client.get(f"{BASE}/", headers=AUTH)):
        strict_json(response.content)


# -- the request log belongs to its developer ---------------------------------------------------------------

def test_8_a_web_page_cannot_flush_the_developers_request_log(client):
    client.patch(ITEM, json={"batch_size": 0}, headers=AUTH)  # the developer's own refused request
    for _ in range(250):  # `no-cors` POSTs from another origin, without credentials
        client.post(f"{BASE}/", content="{}", headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
    log = client.get("/__mock__/requests?limit=200").json()
    assert any(e["method"] == "PATCH" and e["status"] == 400 for e in log)
    assert sum(e["method"] == "POST" for e in log) <= 50  # strangers have a small bucket of their own


# -- fixture files ------------------------------------------------------------------------------------------

def _start_with(fixture: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    try:
        code: int | str | None = cli.main(["--fixtures", str(fixture), "--port", "0"])
    except SystemExit as exited:
        code = exited.code
    return code, capsys.readouterr().err


def test_9_an_alias_bomb_and_a_date_out_of_range_stop_the_start_in_one_line(tmp_path, capsys, never_serve):
    # an experiment's free-form config whose aliases expand to 9**7 (4.8 million) values
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [{', '.join(['*' + chr(ord('a') + n - 1)] * 9)}]"
        for n in range(1, 7)]
    bomb = ["organizations: [{id: org_a, name: A, api_keys: [sk_live_bomb_000001]}]",
            "datasets: [{id: ds_1, organization_id: org_a, name: D}]",
            "evaluators: [{id: ev_1, organization_id: org_a, name: E}]",
            "experiments:",
            "  - {id: exp_bomb, organization_id: org_a, dataset_id: ds_1, evaluator_ids: [ev_1], workflow: [",
            "      {type: wait, config: {" + ", ".join(levels) + "}}]}"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(bomb) + "\n")
    code, err = _start_with(path, capsys)
    assert code == 2 and err.count("\n") == 1 and "aliases" in err

    default = (ROOT / "fixtures" / "default.yaml").read_text()
    path = tmp_path / "year0.yaml"
    path.write_text(default.replace("created_at: '2026-11-02T09:14:03Z'", "created_at: '0000-01-01T00:00:00Z'", 1))
    assert path.read_text() != default
    code, err = _start_with(path, capsys)
    assert code == 2 and err.count("\n") == 1 and "created_at" in err


# -- smaller items -------------------------------------------------------------------------------------------

def test_11_page_with_a_plus_sign_is_400(client):
    response = client.get(f"{BASE}/?page=+5", headers=AUTH)
    assert response.status_code == 400 and "page" in response.json()


def test_11_a_jwt_whose_exp_is_true_is_invalid_not_expired(client):
    import jwt

    token = jwt.encode({"org_id": "org_acme", "exp": True}, DEFAULT_JWT_SECRET, algorithm="HS256")
    response = client.get(f"{BASE}/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_11_an_unknown_key_named_like_a_field_path_keeps_its_own_error(client):
    body = {"workflow": [{"type": "nope", "config": {}}], "workflow.0.type": 1}
    errors = client.patch(ITEM, json=body, headers=AUTH).json()
    assert errors['"workflow.0.type"'] == ["Unknown field."]
    assert "Unknown field." not in errors.get("workflow.0.type", [])


def test_11_the_console_handles_any_session_name(tmp_path):
    from test_browser import chromium
    from test_console_browser import DevTools

    from contract_tests.embedded import serve

    browser = chromium()
    mock = build_app()
    with serve(mock.asgi) as origin:
        page = DevTools(browser, tmp_path / "profile")
        try:
            page.send("Runtime.enable")
            page.send("Log.enable")
            for hash_part in ("%E0%A4%A", "%E6%97%A5%E6%9C%AC"):  # a bad % escape; a name beyond Latin-1
                page.send("Page.navigate", url=f"{origin}/__mock__/#session={hash_part}")
                page.wait_for("document.body && document.body.dataset.ready === '1' && "
                              "document.querySelector('#live').classList.contains('on')", "that it is live")
            # the UTF-8 name goes as its bytes, as curl would send it: the server sees that session
            utf8_name = "\u65e5\u672c".encode().decode("latin-1")
            deadline = time.monotonic() + GUARD
            while utf8_name not in mock.sessions.names() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "%E0%A4%A" in mock.sessions.names() and utf8_name in mock.sessions.names()
            assert page.problems() == []
        finally:
            page.close()
