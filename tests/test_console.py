"""The console at `/__mock__/` and the controls it uses: a browser gets the page, curl the JSON index;
the new controls (sessions, experiments, faults list and clear, requests after an id, operations,
spec nodes) answer per session and keep the controls' protections."""

from __future__ import annotations

import pytest
from conftest import ACME_KEY, BASE, COMPLETED_ID, RUNNING_ID
from starlette.testclient import TestClient

from mock_server.app import build_app
from mock_server.console import CONTENT_SECURITY_POLICY

AUTH = {"Authorization": f"Bearer {ACME_KEY}"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LOCAL = "http://127.0.0.1:4010"


def session(name: str) -> dict[str, str]:
    return {"X-Mock-Session": name}


# -- the page --------------------------------------------------------------------------------------------

def test_a_browser_gets_the_console_and_curl_the_json_index(client):
    page = client.get("/__mock__/", headers=BROWSER)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/__mock__/console/console.js"' in page.text and "<script>" not in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "connect-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/__mock__", headers=BROWSER).text == page.text
    index = client.get("/__mock__/")  # httpx's Accept is */*, as curl's
    # Starlette 1.x's CORS layer adds Origin to every Vary; 0.x only to answers for an Origin.
    vary = {part.strip() for part in index.headers["vary"].split(",")}
    assert index.headers["content-type"] == "application/json" and "Accept" in vary
    paths = {(c["method"], c["path"]) for c in index.json()["controls"]}
    assert {("GET", "/__mock__/sessions"), ("GET", "/__mock__/faults"), ("DELETE", "/__mock__/faults/{operation_id}"),
            ("GET", "/__mock__/experiments"), ("GET", "/__mock__/operations")} <= paths


def test_the_console_files_are_served_and_nothing_else_is(client):
    script = client.get("/__mock__/console/console.js")
    style = client.get("/__mock__/console/console.css")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert "X-Mock-Admin-Token" in script.text and "sessionStorage" in script.text
    assert "http://" not in script.text + style.text and "https://" not in script.text + style.text  # offline
    for path in ("/__mock__/console/../admin.py", "/__mock__/console/admin.py", "/__mock__/console/",
                 "/__mock__/console/index.htm"):
        assert client.get(path).status_code == 404


# -- the new controls ------------------------------------------------------------------------------------

def test_requests_after_an_id_are_only_the_newer_ones(client):
    headers = {**AUTH, **session("after")}
    client.post("/__mock__/reset", headers={"Content-Type": "application/json", **session("after")})
    client.get(f"{BASE}/{COMPLETED_ID}/", headers=headers)
    first = client.get("/__mock__/requests", headers=session("after")).json()
    assert len(first) == 1 and isinstance(first[0]["id"], int)
    client.patch(f"{BASE}/{COMPLETED_ID}/", json={"batch_size": 0}, headers=headers)
    newer = client.get(f"/__mock__/requests?after={first[0]['id']}", headers=session("after")).json()
    assert [(e["method"], e["status"]) for e in newer] == [("PATCH", 400)]
    assert newer[0]["id"] > first[0]["id"] and newer[0]["errors"][0]["field"] == "batch_size"
    assert client.get(f"/__mock__/requests?after={newer[0]['id']}", headers=session("after")).json() == []
    assert client.get("/__mock__/requests", headers=session("someone-else")).json() == []
    for bad in ("-1", "x", "1.5", "99999999999999999999"):
        refused = client.get(f"/__mock__/requests?after={bad}")
        assert refused.status_code == 400 and "after" in refused.json()


def test_sessions_lists_each_session_with_its_counts(client):
    client.post("/__mock__/reset", headers={"Content-Type": "application/json", **session("lister")})
    client.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, **session("lister")})
    client.post("/__mock__/faults", json={"operation_id": "getExperiment", "status": 503, "count": 3},
                headers=session("lister"))
    listed = {s["session"]: s for s in client.get("/__mock__/sessions").json()}
    assert None in listed  # the default session, always there
    assert listed["lister"]["requests"] == 1 and listed["lister"]["faults"] == 1
    assert listed["lister"]["experiments"] == listed[None]["experiments"] > 0
    assert listed["lister"]["last_request_id"] >= 1


def test_faults_are_listed_and_cleared_per_session(client):
    mine, theirs = session("faults-mine"), session("faults-theirs")
    for headers in (mine, theirs):
        client.delete("/__mock__/faults", headers=headers)
        assert client.post("/__mock__/faults", json={"operation_id": "getExperiment", "status": 503, "count": 2},
                           headers=headers).status_code == 201
    client.post("/__mock__/faults", json={"operation_id": "updateExperiment", "status": 429}, headers=mine)
    assert client.get("/__mock__/faults", headers=mine).json() == [
        {"operation_id": "getExperiment", "status": 503, "count": 2},
        {"operation_id": "updateExperiment", "status": 429, "count": 1}]
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, **mine}).status_code == 503
    assert client.get("/__mock__/faults", headers=mine).json()[0]["count"] == 1  # one call used it
    assert client.delete("/__mock__/faults/getExperiment", headers=mine).status_code == 204
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, **mine}).status_code == 200
    again = client.delete("/__mock__/faults/getExperiment", headers=mine)
    assert again.status_code == 404 and "getExperiment" in again.json()["detail"]
    assert [f["operation_id"] for f in client.get("/__mock__/faults", headers=theirs).json()] == ["getExperiment"]
    assert client.delete("/__mock__/faults", headers=mine).status_code == 204
    assert client.get("/__mock__/faults", headers=mine).json() == []
    assert client.get("/__mock__/faults", headers=theirs).json() != []  # another session's are untouched
    client.delete("/__mock__/faults", headers=theirs)


def test_experiments_of_the_session_with_the_moves_they_allow(client):
    headers = session("experiments")
    client.post("/__mock__/reset", headers={"Content-Type": "application/json", **headers})
    listed = {e["id"]: e for e in client.get("/__mock__/experiments", headers=headers).json()}
    assert listed[COMPLETED_ID]["status"] == "completed" and listed[COMPLETED_ID]["actions"] == []
    assert listed[RUNNING_ID]["organization_id"] == "org_acme"
    assert listed[RUNNING_ID]["actions"] == ["complete", "fail", "progress"]
    moved = client.post(f"/__mock__/experiments/{RUNNING_ID}/lifecycle", json={"action": "complete"}, headers=headers)
    assert moved.status_code == 200
    after = {e["id"]: e for e in client.get("/__mock__/experiments", headers=headers).json()}
    assert after[RUNNING_ID]["status"] == "completed" and after[RUNNING_ID]["progress"] == 100
    default = {e["id"]: e for e in client.get("/__mock__/experiments").json()}
    assert default[RUNNING_ID]["status"] == "running"  # the default session did not move


def test_operations_link_to_swagger_ui_by_tag(client, mock):
    operations = {o["operation_id"]: o for o in client.get("/__mock__/operations").json()}
    assert set(operations) == set(mock.contract.operations())
    assert operations["updateExperiment"] == {
        "operation_id": "updateExperiment", "method": "PATCH", "path": "/api/v2/experiments/{experiment_id}/",
        "tag": "Experiments", "spec": "#/paths/~1experiments~1{experiment_id}~1/patch",
        "ui": "/api/v2/ui/#/Experiments/updateExperiment"}
    assert operations["listExperiments"]["ui"] == "/api/v2/ui/#/Experiment%20search/listExperiments"
    assert client.get("/api/v2/ui/").status_code == 200


def test_spec_nodes_by_the_pointers_errors_name(client):
    client.patch(f"{BASE}/{COMPLETED_ID}/", json={"batch_size": 0}, headers=AUTH)
    pointer = client.get("/__mock__/requests").json()[0]["errors"][0]["spec"]
    node = client.get("/__mock__/spec", params={"pointer": pointer})
    assert node.status_code == 200 and node.json()["pointer"] == pointer
    assert node.json()["node"] == 1  # the `minimum` the PATCH broke
    whole = client.get("/__mock__/spec", params={"pointer": pointer.rpartition("/")[0]}).json()["node"]
    assert whole["minimum"] == 1
    for top in ("#/paths", "#/components", "#/info"):  # any part of the spec serializes
        assert client.get("/__mock__/spec", params={"pointer": top}).status_code == 200
    for bad in ("", "#/", "components", "#/nope", "#/paths/~1experiments~1/get/parameters/99",
                "#/paths/~1experiments~1/get/parameters/-1", "#/openapi/x", "#/tags/x"):
        refused = client.get("/__mock__/spec", params={"pointer": bad})
        assert refused.status_code == 400 and "pointer" in refused.json()


# -- protections -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_cross_site_simple_post_to_the_new_controls_changes_nothing(client, content_type):
    headers = {"Origin": "http://evil.example", **({"Content-Type": content_type} if content_type else {})}
    refused = client.post("/__mock__/faults", content=b'{"operation_id": "getExperiment", "status": 503}',
                          headers=headers)
    assert refused.status_code == 415
    assert client.get("/__mock__/faults").json() == []
    assert client.post("/__mock__/sessions", headers=headers).status_code == 405


def test_the_preflight_of_a_fault_clear_succeeds_for_local_origins_only(client):
    preflight = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-mock-session"}
    local = client.options("/__mock__/faults/getExperiment", headers={**preflight, "Origin": "http://localhost:5173"})
    foreign = client.options("/__mock__/faults/getExperiment", headers={**preflight, "Origin": "http://evil.example"})
    assert local.status_code == 200 and foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers


def test_with_an_admin_token_the_page_loads_and_every_control_it_calls_needs_the_token():
    with TestClient(build_app(admin_token="s3cret-admin").asgi, base_url=LOCAL) as client:
        page = client.get("/__mock__/", headers=BROWSER)
        assert page.status_code == 200 and "s3cret-admin" not in page.text  # the page holds no state
        assert client.get("/__mock__/console/console.js").status_code == 200
        calls = [("GET", "/__mock__/"), ("GET", "/__mock__/sessions"), ("GET", "/__mock__/requests?after=0"),
                 ("GET", "/__mock__/faults"), ("DELETE", "/__mock__/faults"),
                 ("DELETE", "/__mock__/faults/getExperiment"), ("GET", "/__mock__/experiments"),
                 ("GET", "/__mock__/operations"), ("GET", "/__mock__/spec?pointer=%23%2Fpaths"),
                 ("GET", "/__mock__/state")]
        for method, path in calls:
            for headers in ({}, {"X-Mock-Admin-Token": "wrong"}, {"Authorization": "Bearer s3cret-admin"}):
                assert client.request(method, path, headers=headers).status_code == 403, (method, path, headers)
        token = {"X-Mock-Admin-Token": "s3cret-admin"}
        assert client.get("/__mock__/sessions", headers=token).status_code == 200
        assert client.delete("/__mock__/faults", headers=token).status_code == 204
        assert client.get("/__mock__/", headers={**BROWSER, **token}).headers["content-type"].startswith("text/html")


def test_swagger_uis_own_requests_are_kept_apart_and_never_push_api_calls_out(client):
    client.post("/__mock__/reset", headers={"Content-Type": "application/json"})
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers=AUTH).status_code == 200
    for _ in range(250):  # more page loads than the window holds
        client.get("/api/v2/openapi.json")
    api_only = client.get("/__mock__/requests", params={"limit": 200}).json()
    assert [e["path"] for e in api_only] == [f"{BASE}/{COMPLETED_ID}/"]
    with_docs = client.get("/__mock__/requests", params={"limit": 200, "docs": "1"}).json()
    assert len(with_docs) == 200 and all(e["layer"] == "docs" for e in with_docs)
    assert [e["id"] for e in with_docs] == sorted((e["id"] for e in with_docs), reverse=True)
    listed = {s["session"]: s for s in client.get("/__mock__/sessions").json()}
    assert listed[None]["requests"] == 1  # the sessions panel counts what the log shows by default


@pytest.mark.parametrize("forced", [{"Prefer": "code=418"}, {"Prefer": "code=404, example=nope"}])
def test_a_refused_forced_answer_points_at_the_operations_responses(client, forced):
    client.post("/__mock__/reset", headers={"Content-Type": "application/json"})
    assert client.get(f"{BASE}/{COMPLETED_ID}/", headers={**AUTH, **forced}).status_code == 400
    entry = client.get("/__mock__/requests", params={"limit": 1}).json()[0]
    assert entry["layer"] == "forced"
    assert [e["spec"] for e in entry["errors"]] == ["#/paths/~1experiments~1{experiment_id}~1/get/responses"]
