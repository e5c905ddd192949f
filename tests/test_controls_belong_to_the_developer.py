"""No web page can drive the mock: writes to the controls need JSON, the Host must be one the mock serves,
and on the network the controls need a token."""

from __future__ import annotations

import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID
from starlette.testclient import TestClient

from mock_server import __main__ as cli
from mock_server.app import build_app
from mock_server.auth import DEFAULT_JWT_SECRET
from mock_server.guard import bind_names, host_name, is_loopback

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
JSON = {"Content-Type": "application/json"}
LOCAL = "http://127.0.0.1:4010"
FAULT = {"operation_id": "getExperiment", "status": 503}


# -- writes need JSON: a cross-site "simple" request changes nothing ----------------------------------------

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonx"])
def test_a_control_write_without_json_is_415_and_changes_nothing(client, content_type):
    client.patch(f"{BASE}/{COMPLETED_ID}/", json={"name": "My edit"}, headers=AUTH)
    headers = {"Content-Type": content_type} if content_type else {}
    for path, body in (("/__mock__/reset", b""), ("/__mock__/faults", b'{"operation_id": "getExperiment", '
                                                                         b'"status": 503}'),
                       (f"/__mock__/experiments/{COMPLETED_ID}/lifecycle", b'{"action": "start"}')):
        response = client.post(path, content=body, headers={**headers, "Origin": "http://evil.example"})
        assert response.status_code == 415 and "application/json" in response.json()["detail"]
    read = client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH)
    assert read.status_code == 200 and read.json()["name"] == "My edit"


def test_a_control_write_with_json_works(client):
    assert client.post("/__mock__/faults", json=FAULT).status_code == 201
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).status_code == 503
    json_too = {"Content-Type": "Application/JSON; charset=utf-8"}
    assert client.post("/__mock__/reset", headers=json_too).status_code == 204


def test_the_preflight_of_a_control_write_succeeds_for_local_origins_only(client):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    local = client.options("/__mock__/reset", headers={**preflight, "Origin": "http://localhost:5173"})
    foreign = client.options("/__mock__/reset", headers={**preflight, "Origin": "http://evil.example"})
    assert local.status_code == 200 and local.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert foreign.status_code == 400 and "access-control-allow-origin" not in foreign.headers


def test_unknown_controls_and_methods_answer_json(client):
    assert client.get("/__mock__/nope").json() == {"detail": "Not found."}
    wrong = client.delete("/__mock__/reset")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"


# -- the Host must be a name the mock serves ---------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:4010", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "", "[::2]:4010", "0.0.0.0:4010"])
def test_a_request_for_another_host_is_refused(client, host):
    for path in (f"{BASE}/", "/__mock__/state", "/api/v2/openapi.json"):
        response = client.get(path, headers={**AUTH, "Host": host})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("This mock does not serve the host")


@pytest.mark.parametrize("host", ["localhost", "localhost:5173", "LOCALHOST:4010", "127.0.0.1", "127.0.0.1:80",
                                  "[::1]", "[::1]:4010"])
def test_loopback_names_with_any_port_are_served(client, host):
    assert client.get(f"{BASE}/", headers={**AUTH, "Host": host}).status_code == 200


def test_more_names_with_allowed_hosts():
    mock = build_app(allowed_hosts=["mock.team.internal"])
    with TestClient(mock.asgi, base_url="http://mock.team.internal:4010") as c:
        assert c.get(f"{BASE}/", headers=AUTH).status_code == 200
        assert c.get(f"{BASE}/", headers={**AUTH, "Host": "other.internal"}).status_code == 400


def test_host_names():
    assert [host_name(h) for h in ("[::1]:4010", "LocalHost:80", "example.com", "[fe80::1]")] == \
        ["[::1]", "localhost", "example.com", "[fe80::1]"]
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("myhost")
    assert bind_names("192.168.1.5") == ["192.168.1.5"] and bind_names("fe80::1") == ["[fe80::1]"]
    assert bind_names("0.0.0.0") == [] and bind_names("127.0.0.1") == []


# -- an admin token --------------------------------------------------------------------------------------

def test_with_an_admin_token_every_control_needs_it():
    with TestClient(build_app(admin_token="s3cret-admin").asgi, base_url=LOCAL) as client:
        for headers in ({}, {"X-Mock-Admin-Token": "wrong"}, {"Authorization": "Bearer s3cret-admin"}):
            assert client.get("/__mock__/state", headers=headers).status_code == 403
            assert client.post("/__mock__/faults", json=FAULT, headers=headers).status_code == 403
        token = {"X-Mock-Admin-Token": "s3cret-admin"}
        assert client.get("/__mock__/state", headers=token).status_code == 200
        assert client.post("/__mock__/faults", json=FAULT, headers=token).status_code == 201
        assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).status_code == 503  # the API needs no admin token
        preflight = client.options("/__mock__/faults", headers={
            "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-mock-admin-token"})
        assert preflight.status_code == 200


# -- binding to the network ------------------------------------------------------------------------------

@pytest.fixture
def started(monkeypatch):
    """Run the command line without serving: what it printed and what it would have served."""
    import logging.config

    import uvicorn

    served = {}

    def run(app, **options):
        served.update(app=app, **options)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(cli, "_port_problem", lambda host, port: None)  # addresses this machine may not have
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: served.update(log_config=config))
    monkeypatch.delenv("MOCK_JWT_SECRET", raising=False)

    def start(*argv: str):
        assert cli.main(["--port", "4011", *argv]) == 0
        return served

    return start


def test_on_a_network_bind_the_controls_are_off_and_the_banner_warns(started, capsys):
    served = started("--host", "0.0.0.0")
    banner = capsys.readouterr().out
    assert "WARNING: the mock listens on 0.0.0.0" in banner
    assert "sk_live_acme_dev_4f7d2c9a1b8e" in banner.split("WARNING")[1]
    assert "development default published in this repository" in banner
    assert "/__mock__ controls are off" in banner and "mock controls:" not in banner
    assert "http://127.0.0.1:4011/api/v2/experiments/" in banner
    with TestClient(served["app"], base_url="http://127.0.0.1:4011") as client:
        assert client.post("/__mock__/reset", headers=JSON).status_code == 404
        assert client.get(f"{BASE}/", headers=AUTH).status_code == 200
    assert served["timeout_keep_alive"] == 5 and served["host"] == "0.0.0.0"


def test_on_a_network_bind_an_admin_token_keeps_the_controls(started, capsys):
    served = started("--host", "192.168.7.9", "--admin-token", "tok", "--allowed-host", "devbox.local",
                     "--jwt-secret", "a-secret-of-our-own-that-is-long-enough")
    banner = capsys.readouterr().out
    assert "X-Mock-Admin-Token required" in banner and "the one given with --jwt-secret" in banner
    assert DEFAULT_JWT_SECRET not in banner and "192.168.7.9, devbox.local" not in banner
    assert "devbox.local" in banner and "192.168.7.9" in banner
    with TestClient(served["app"], base_url="http://devbox.local:4011") as client:
        assert client.post("/__mock__/reset", headers=JSON).status_code == 403
        assert client.post("/__mock__/reset", headers={**JSON, "X-Mock-Admin-Token": "tok"}).status_code == 204
        assert client.get(f"{BASE}/", headers={**AUTH, "Host": "192.168.7.9:4011"}).status_code == 200
        assert client.get(f"{BASE}/", headers={**AUTH, "Host": "attacker.example"}).status_code == 400


def test_on_loopback_the_banner_does_not_warn(started, capsys):
    started()
    banner = capsys.readouterr().out
    assert "WARNING" not in banner and "mock controls: http://127.0.0.1:4011/__mock__/" in banner
