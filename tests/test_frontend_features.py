"""The mock's tools for frontend work: lifecycle, Prefer, faults, latency, request log, sessions, state, reload."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from conftest import ACME_KEY, BASE, COMPLETED_ID, RUNNING_ID
from starlette.testclient import TestClient

from mock_server import lifecycle
from mock_server.app import build_app
from mock_server.clock import ManualClock, iso
from mock_server.domain_errors import IllegalTransition
from mock_server.fixtures import DEFAULT_FIXTURES, build_world, export_world
from mock_server.lifecycle import AutoLifecycle
from mock_server.overrides import Latency, parse_prefer
from mock_server.reload import Reloading

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
JSON = {"Content-Type": "application/json"}  # every write to the controls sends it
LOCAL = "http://127.0.0.1:4010"  # a Host the mock serves
PENDING_ID = "0b5e7d2c9a1f4e6b8c3d2a1f0e9d8c7b"
NEW = {"dataset_id": "ds_7a6b5c4d", "workflow": [{"type": "wait", "config": {}}], "evaluator_ids": ["tone"]}


# -- lifecycle (pure) ---------------------------------------------------------------------------------

def test_transitions_move_status_and_timestamps():
    record = {"status": "pending", "progress": 0, "started_at": None, "completed_at": None, "error_message": None}
    running = lifecycle.apply_action(record, "start", now="2026-01-01T00:00:00Z")
    assert (running["status"], running["started_at"]) == ("running", "2026-01-01T00:00:00Z")
    halfway = lifecycle.apply_action(running, "progress", now="x", progress=50)
    assert (halfway["status"], halfway["progress"]) == ("running", 50)
    done = lifecycle.apply_action(halfway, "complete", now="2026-01-01T01:00:00Z")
    assert (done["status"], done["progress"], done["completed_at"]) == ("completed", 100, "2026-01-01T01:00:00Z")
    failed = lifecycle.apply_action(running, "fail", now="t", error_message="boom")
    assert (failed["status"], failed["error_message"]) == ("failed", "boom")


@pytest.mark.parametrize(("status", "action", "allowed"), [
    ("pending", "complete", "fail, start"), ("completed", "start", "none"), ("failed", "progress", "none")])
def test_illegal_transition_is_a_conflict_naming_the_allowed_ones(status, action, allowed):
    with pytest.raises(IllegalTransition) as caught:
        lifecycle.apply_action({"status": status}, action, now="t")
    assert allowed in str(caught.value)


def test_the_running_lock_uses_the_state_machine():
    assert lifecycle.is_locked("running") and not lifecycle.is_locked("pending")


def test_auto_lifecycle_states():
    clock = AutoLifecycle(run_seconds=10, pending_seconds=2)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.state_at(t0, t0 + timedelta(seconds=1))["status"] == "pending"
    running = clock.state_at(t0, t0 + timedelta(seconds=7))
    assert (running["status"], running["progress"], running["started_at"]) == ("running", 50.0,
                                                                                "2026-01-01T00:00:02.000000Z")
    done = clock.state_at(t0, t0 + timedelta(seconds=13))
    assert (done["status"], done["progress"], done["completed_at"]) == ("completed", 100, "2026-01-01T00:00:12.000000Z")


# -- lifecycle over HTTP --------------------------------------------------------------------------------

def test_lifecycle_endpoint_moves_an_experiment_and_the_lock_follows(client):
    started = client.post(f"/__mock__/experiments/{PENDING_ID}/lifecycle", json={"action": "start"})
    assert started.status_code == 200 and started.json()["status"] == "running"
    locked = client.patch(f"{BASE}/{PENDING_ID}/", json={"batch_size": 3}, headers=AUTH)
    assert locked.status_code == 409
    client.post(f"/__mock__/experiments/{PENDING_ID}/lifecycle", json={"action": "progress", "progress": 60})
    assert client.get(f"{BASE}/{PENDING_ID}/", headers=AUTH).json()["progress"] == 60
    failed = client.post(f"/__mock__/experiments/{PENDING_ID}/lifecycle",
                         json={"action": "fail", "error_message": "Model quota exhausted."})
    assert failed.json()["status"] == "failed" and failed.json()["error_message"] == "Model quota exhausted."
    again = client.post(f"/__mock__/experiments/{PENDING_ID}/lifecycle", json={"action": "start"})
    assert again.status_code == 409 and "allowed: none" in again.json()["detail"]


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    (f"/__mock__/experiments/{PENDING_ID}/lifecycle", {"action": "explode"}, 400, "action"),
    (f"/__mock__/experiments/{PENDING_ID}/lifecycle", {"action": "progress", "progress": 101}, 400, "progress"),
    ("/__mock__/experiments/nope/lifecycle", {"action": "start"}, 404, "detail"),
])
def test_lifecycle_endpoint_rejects_bad_requests(client, path, body, status, field):
    response = client.post(path, json=body)
    assert response.status_code == status and field in response.json()


def test_auto_lifecycle_runs_new_experiments_on_the_clock():
    clock = ManualClock()
    mock = build_app(lifecycle=AutoLifecycle(run_seconds=10, pending_seconds=2), clock=clock)
    with TestClient(mock.asgi, base_url=LOCAL) as client:
        created = client.post(f"{BASE}/", json=NEW, headers=AUTH).json()
        assert (created["status"], created["created_at"]) == ("pending", iso(clock.now()))
        clock.advance(1.999)
        assert client.get(f"{BASE}/{created['id']}/", headers=AUTH).json()["status"] == "pending"
        clock.advance(0.001 + 5)
        running = client.get(f"{BASE}/{created['id']}/", headers=AUTH).json()
        assert (running["status"], running["progress"]) == ("running", 50.0)
        assert running["started_at"] == iso(clock.now() - timedelta(seconds=5))
        clock.advance(5)
        done = client.get(f"{BASE}/{created['id']}/", headers=AUTH).json()
        assert (done["status"], done["progress"], done["completed_at"]) == ("completed", 100, iso(clock.now()))
        fixture = client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).json()
        assert fixture["completed_at"] == "2026-11-02T09:41:27Z"  # fixtures keep their own story


def test_moving_an_experiment_by_hand_takes_it_off_the_automatic_lifecycle():
    clock = ManualClock()
    with TestClient(build_app(lifecycle=AutoLifecycle(run_seconds=10, pending_seconds=2), clock=clock).asgi,
                    base_url=LOCAL) as client:
        created = client.post(f"{BASE}/", json=NEW, headers=AUTH).json()
        failed = client.post(f"/__mock__/experiments/{created['id']}/lifecycle", json={"action": "fail"})
        assert failed.json()["status"] == "failed"
        clock.advance(60)
        assert client.get(f"{BASE}/{created['id']}/", headers=AUTH).json()["status"] == "failed"


# -- Prefer, faults, latency ------------------------------------------------------------------------------

def test_parse_prefer():
    assert parse_prefer('code=404, example="notFound"; delay=10') == {"code": "404", "example": "notFound",
                                                                       "delay": "10"}


def test_prefer_code_answers_the_documented_example_without_changing_state(client):
    response = client.delete(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, "Prefer": "code=409"})
    assert response.status_code == 400  # DELETE documents no 409
    assert "documented: 204, 400, 401, 404, 405" in response.json()["Prefer"][0]
    forced = client.patch(f"{BASE}/{COMPLETED_ID}/", json={"name": "x"}, headers={**AUTH, "Prefer": "code=409"})
    assert forced.status_code == 409 and "running" in forced.json()["detail"]
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).json()["name"] != "x"


def test_prefer_example_picks_a_named_example(client):
    response = client.post(f"{BASE}/", json=NEW, headers={**AUTH, "Prefer": "code=400, example=readOnlyField"})
    assert response.status_code == 400 and response.json() == {"status": ["This field is read-only."]}
    unknown = client.post(f"{BASE}/", json=NEW, headers={**AUTH, "Prefer": "code=400, example=nope"})
    assert unknown.status_code == 400 and "examples: fieldErrors" in unknown.json()["Prefer"][0]


def test_prefer_delay(client):
    started = time.perf_counter()
    assert client.get(f"{BASE}/summary/", headers={**AUTH, "Prefer": "delay=250"}).status_code == 200
    assert time.perf_counter() - started >= 0.25
    too_long = client.get(f"{BASE}/summary/", headers={**AUTH, "Prefer": "delay=30001"})
    assert too_long.status_code == 400 and "0 to 30000" in too_long.json()["Prefer"][0]


def test_latency_option():
    assert Latency.parse("100-200") == Latency(100, 200) and Latency.parse("50") == Latency(50, 50)
    with pytest.raises(ValueError):
        Latency.parse("200-100")
    with TestClient(build_app(latency=Latency(150, 150)).asgi, base_url=LOCAL) as client:
        started = time.perf_counter()
        client.get(f"{BASE}/summary/", headers=AUTH)
        assert time.perf_counter() - started >= 0.15


def test_faults_answer_n_calls_then_clear(client):
    set_up = client.post("/__mock__/faults", json={"operation_id": "updateExperiment", "status": 503, "count": 2})
    assert set_up.status_code == 201
    for _ in range(2):
        failed = client.patch(f"{BASE}/{COMPLETED_ID}/", json={"name": "retry"}, headers=AUTH)
        assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
        assert failed.json() == {"detail": "Service unavailable."}
    assert client.patch(f"{BASE}/{COMPLETED_ID}/", json={"name": "retry"}, headers=AUTH).status_code == 200


def test_documented_fault_uses_the_documented_body_and_reset_clears_faults(client):
    client.post("/__mock__/faults", json={"operation_id": "getExperiment", "status": 404, "count": 5})
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).json()["detail"].startswith("No experiment")
    assert client.post("/__mock__/reset", headers=JSON).status_code == 204
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).status_code == 200


def test_fault_for_an_unknown_operation_is_400(client):
    response = client.post("/__mock__/faults", json={"operation_id": "launchRocket", "status": 503})
    assert response.status_code == 400 and "operation_id" in response.json()


# -- why did my request fail -------------------------------------------------------------------------------

def test_request_log_names_field_rule_and_spec_pointer(client):
    client.patch(f"{BASE}/{COMPLETED_ID}/", json={"batch_size": 0}, headers=AUTH)
    client.get(f"{BASE}/?page_size=500", headers=AUTH)
    client.patch(f"{BASE}/{RUNNING_ID}/", json={"concurrency": 2}, headers=AUTH)
    newest, query, patch = client.get("/__mock__/requests?limit=3").json()
    assert (newest["status"], newest["operation_id"]) == (409, "updateExperiment")
    assert newest["errors"][0]["rule"] == "RunningLocked"
    assert newest["errors"][0]["spec"] == "#/components/responses/ExperimentRunning"
    assert query["errors"] == [{"field": "page_size", "rule": "maximum",
                                "message": "Ensure this value is less than or equal to 100.",
                                "spec": "#/components/parameters/PageSize/schema/maximum"}]
    assert patch["errors"][0]["spec"] == "#/components/schemas/BatchSize/minimum"
    assert set(patch) >= {"time", "method", "path", "operation_id", "status", "errors"}


@pytest.mark.parametrize(("send", "layer", "status"), [
    (lambda c: c.get(f"{BASE}/nope/deeper/", headers=AUTH), "routing", 404),
    (lambda c: c.get(f"{BASE}/{COMPLETED_ID}/"), "auth", 401),
    (lambda c: c.patch(f"{BASE}/{COMPLETED_ID}/", json={"batch_size": 0}, headers=AUTH), "validation", 400),
    (lambda c: c.patch(f"{BASE}/{RUNNING_ID}/", json={"concurrency": 2}, headers=AUTH), "rules", 409),
    (lambda c: c.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, "Prefer": "code=404"}), "forced", 404),
    (lambda c: c.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH), "handler", 200),
])
def test_request_log_names_the_layer_that_answered(client, send, layer, status):
    send(client)
    (entry,) = client.get("/__mock__/requests?limit=1").json()
    assert (entry["layer"], entry["status"]) == (layer, status)


def test_an_injected_fault_is_logged_as_one(client):
    client.post("/__mock__/faults", json={"operation_id": "getExperimentSummary", "status": 503})
    client.get(f"{BASE}/summary/", headers=AUTH)
    (entry,) = client.get("/__mock__/requests?limit=1").json()
    assert (entry["layer"], entry["status"], entry["forced"]) == ("fault", 503, "injected fault: 503")


def test_request_log_keeps_both_bodies_with_tokens_masked(client):
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJvcmdfaWQiOiJ4In0.c2lnbmF0dXJl"
    client.patch(f"{BASE}/{COMPLETED_ID}/", json={"description": f"key {ACME_KEY} and {jwt_like}", "batch_size": 0},
                 headers=AUTH)
    (entry,) = client.get("/__mock__/requests?limit=1").json()
    assert ACME_KEY not in entry["request_body"] and jwt_like not in entry["request_body"]
    assert entry["request_body"].count("***") == 2 and re.search(r'"batch_size":\s*0', entry["request_body"])
    assert json.loads(entry["response_body"]) == {"batch_size": ["Ensure this value is greater than or equal to 1."]}
    assert entry["session"] is None


def test_request_log_ids_grow_per_session_and_after_returns_only_newer(client):
    for _ in range(3):
        client.get(f"{BASE}/summary/", headers={**AUTH, "X-Mock-Session": "ids"})
    client.get(f"{BASE}/summary/", headers=AUTH)
    entries = client.get("/__mock__/requests", headers={"X-Mock-Session": "ids"}).json()
    ids = [e["id"] for e in entries]  # one sequence for the whole mock (a session's own and its strangers' merge)
    assert len(ids) == 3 and ids == sorted(ids, reverse=True) and {e["session"] for e in entries} == {"ids"}
    newer = client.get(f"/__mock__/requests?after={ids[1]}", headers={"X-Mock-Session": "ids"}).json()
    assert [e["id"] for e in newer] == [ids[0]]


def test_request_log_is_bounded_and_newest_first(client):
    for n in range(210):
        client.get(f"{BASE}/summary/?n={n}" if n % 2 else f"{BASE}/summary/", headers=AUTH)
    log = client.get("/__mock__/requests?limit=200").json()
    assert len(log) == 200 and log[0]["time"] >= log[-1]["time"]
    assert client.get("/__mock__/requests?limit=0").status_code == 400


def test_rejected_requests_are_logged_in_one_line_without_the_token(client, caplog):
    with caplog.at_level(logging.WARNING, logger="mock_server.requests"):
        client.patch(f"{BASE}/{COMPLETED_ID}/", json={"batch_size": 0}, headers=AUTH)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "mock_server.requests"]
    assert line.startswith(f"PATCH {BASE}/{COMPLETED_ID}/ 400 batch_size: minimum")
    assert ACME_KEY not in caplog.text


def test_json_log_format(caplog):
    with TestClient(build_app(log_json=True).asgi, base_url=LOCAL) as client, caplog.at_level(logging.WARNING):
        client.get(f"{BASE}/nope/", headers=AUTH)
    entry = json.loads([r.getMessage() for r in caplog.records if r.name == "mock_server.requests"][0])
    assert entry["status"] == 404 and entry["operation_id"] == "getExperiment"


# -- sessions and snapshots ----------------------------------------------------------------------------------

def test_sessions_do_not_see_each_others_changes(client):
    alice = {**AUTH, "X-Mock-Session": "alice"}
    client.patch(f"{BASE}/{COMPLETED_ID}/", json={"name": "Alice's"}, headers=alice)
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=alice).json()["name"] == "Alice's"
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, "X-Mock-Session": "bob"}).json()["name"] != "Alice's"
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).json()["name"] != "Alice's"
    client.post("/__mock__/reset", headers={**JSON, "X-Mock-Session": "alice"})
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=alice).json()["name"] != "Alice's"


def test_sessions_are_bounded_oldest_evicted():
    mock = build_app(max_sessions=2)
    with TestClient(mock.asgi, base_url=LOCAL) as client:
        for name in ("a", "b", "c"):
            client.get(f"{BASE}/summary/", headers={**AUTH, "X-Mock-Session": name})
    assert mock.sessions.names() == ["b", "c"]


def test_state_export_loads_back_as_fixtures(client, mock, tmp_path):
    client.post(f"{BASE}/", json={**NEW, "experiment_id": "saved_by_hand", "name": "Saved"}, headers=AUTH)
    exported = client.get("/__mock__/state").json()
    path = tmp_path / "saved.yaml"
    path.write_text(yaml.safe_dump(exported))
    with TestClient(build_app(fixtures=path).asgi, base_url=LOCAL) as fresh:
        assert fresh.get(f"{BASE}/saved_by_hand/", headers=AUTH).json()["name"] == "Saved"
    assert export_world(build_world(mock.contract, exported).organizations) == exported


def test_admin_can_be_switched_off():
    with TestClient(build_app(admin=False).asgi, base_url=LOCAL) as client:
        assert client.post("/__mock__/reset", headers=JSON).status_code == 404


def test_reload_serves_the_new_fixtures_and_survives_a_broken_edit(tmp_path):
    fixtures = tmp_path / "world.yaml"
    fixtures.write_text(DEFAULT_FIXTURES.read_text())
    reloading = Reloading(lambda: build_app(fixtures=fixtures).asgi, [fixtures])
    with TestClient(reloading, base_url=LOCAL) as client:
        assert client.get(f"{BASE}/summary/", headers=AUTH).json() == {"total_count": 4}
        world = yaml.safe_load(fixtures.read_text())
        world["experiments"] = [e for e in world["experiments"] if e["id"] != COMPLETED_ID]
        fixtures.write_text(yaml.safe_dump(world))
        _touch_later(fixtures)
        assert reloading.check() and client.get(f"{BASE}/summary/", headers=AUTH).json() == {"total_count": 3}
        fixtures.write_text("organizations: [\n")
        _touch_later(fixtures)
        assert not reloading.check() and reloading.failures == 1
        assert client.get(f"{BASE}/summary/", headers=AUTH).json() == {"total_count": 3}


def _touch_later(path):
    import os

    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
