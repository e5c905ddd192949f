"""Authentication, and the walls between organizations."""

from __future__ import annotations

import time

import jwt
import pytest

from .client import ApiClient, expect

JWT_SECRET_NOT_THE_SERVERS = "contract-suite-secret-the-server-does-not-know"


def _jwt(claims: dict) -> str:
    return jwt.encode(claims, JWT_SECRET_NOT_THE_SERVERS, algorithm="HS256")


BAD_CREDENTIALS = {
    "no token": None,
    "garbage token": "not-a-token",
    "expired JWT": _jwt({"org_id": "org_acme", "exp": int(time.time()) - 3600}),
    "JWT with a bad signature": _jwt({"org_id": "org_acme", "exp": int(time.time()) + 3600}),
}


@pytest.mark.parametrize("label", list(BAD_CREDENTIALS))
@pytest.mark.parametrize(("method", "path"), [("GET", "/experiments/"), ("POST", "/experiments/list/"),
                                              ("GET", "/experiments/summary/")])
def test_bad_credentials_are_401(api: ApiClient, label: str, method: str, path: str) -> None:
    token = BAD_CREDENTIALS[label]
    response = api.request(method, path, token=token, authenticated=token is not None,
                           json_body={} if method == "POST" else None)
    expect(response, 401, f"{label} is refused", api.target)
    assert "Bearer" in response.headers.get("WWW-Authenticate", ""), \
        f"a 401 says how to authenticate (WWW-Authenticate: Bearer); got {dict(response.headers)}"


@pytest.mark.mutating
@pytest.mark.parametrize("label", list(BAD_CREDENTIALS))
def test_bad_credentials_cannot_change_an_experiment(api: ApiClient, experiment: dict, label: str) -> None:
    token = BAD_CREDENTIALS[label]
    response = api.request("PATCH", f"/experiments/{experiment['id']}/", token=token,
                           authenticated=token is not None, json_body={"name": "intruder"})
    expect(response, 401, f"{label} cannot PATCH", api.target)
    assert api.get(experiment["id"]).json()["name"] == experiment["name"], "the experiment is unchanged"


@pytest.mark.mutating
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_another_organization_gets_404(api: ApiClient, other_api: ApiClient, experiment: dict, method: str) -> None:
    body = {"name": f"{api.ledger.prefix} intruder"} if method in ("PATCH", "PUT") else None
    response = other_api.request(method, f"/experiments/{experiment['id']}/", json_body=body)
    expect(response, 404, f"another organization's {method} is 404 (never 403, nothing leaks)", api.target)
    read = api.get(experiment["id"])
    expect(read, 200, "the experiment is still there for its organization", api.target)
    assert read.json()["name"] == experiment["name"], "the other organization changed nothing"


@pytest.mark.mutating
def test_another_organization_does_not_list_it(api: ApiClient, other_api: ApiClient, experiment: dict) -> None:
    listed = other_api.request("GET", "/experiments/?page_size=100")
    expect(listed, 200, "listing works", api.target)
    assert experiment["id"] not in [e["id"] for e in listed.json()], "another organization's list leaks it"
    filtered = other_api.request("POST", "/experiments/list/", json_body={
        "filters": {"name": {"operator": "", "value": experiment["name"]}}, "is_exporting": True})
    expect(filtered, 200, "filtering works", api.target)
    assert filtered.json()["count"] == 0, f"another organization's filter finds it: {filtered.text[:300]}"
