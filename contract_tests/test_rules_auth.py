"""Authentication, and the walls between organizations."""

from __future__ import annotations

import time
import warnings

import jwt
import pytest

from .client import ApiClient, JsonObject, expect, expect_equal, expect_true
from .config import Target

JWT_SECRET_NOT_THE_SERVERS = "contract-suite-secret-the-server-does-not-know"


def _jwt(claims: JsonObject, secret: str = JWT_SECRET_NOT_THE_SERVERS) -> str:
    with warnings.catch_warnings():
        # The secret is the deployment's: PyJWT's warning about a short HMAC key is not the run's to raise.
        warnings.simplefilter("ignore")
        return jwt.encode(claims, secret, algorithm="HS256")


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
    expect(response, 401, f"{label} is refused with 401")
    expect_true("Bearer" in response.headers.get("WWW-Authenticate", ""),
                "a 401 says how to authenticate (WWW-Authenticate: Bearer)", response,
                detail=f"WWW-Authenticate: {response.headers.get('WWW-Authenticate')!r}", assumption="www-authenticate")


@pytest.mark.assumption("jwt-claims")
def test_a_valid_dashboard_jwt_is_accepted(api: ApiClient, target: Target) -> None:
    """Dashboard JWTs authenticate (documented); what the suite mints (HS256, `org_id`, `exp`) is our
    reading of them, so a refusal refutes `jwt-claims` rather than breaking the contract."""
    if not (target.jwt_secret and target.jwt_org_id):
        pytest.skip("a valid dashboard JWT needs --jwt-secret and --jwt-org-id (CONTRACT_JWT_SECRET, "
                    "CONTRACT_JWT_ORG_ID)")
    token = _jwt({"org_id": target.jwt_org_id, "exp": int(time.time()) + 600}, target.jwt_secret)
    with_jwt = api.request("GET", "/experiments/summary/", token=token)
    expect(with_jwt, range(200, 300), "a dashboard JWT (HS256, org_id, exp) authenticates")
    with_key = api.request("GET", "/experiments/summary/")
    expect_equal(with_jwt.json().get("total_count"), with_key.json().get("total_count"),
                 "the JWT's organization is the API key's (same count)", with_jwt)


def test_an_expired_dashboard_jwt_is_401(api: ApiClient, target: Target) -> None:
    """Expired credentials are refused (documented), also when the token is signed with the deployment's
    own secret: a deployment that checks the signature but not `exp` fails."""
    if not (target.jwt_secret and target.jwt_org_id):
        pytest.skip("a correctly signed, expired dashboard JWT needs --jwt-secret and --jwt-org-id "
                    "(CONTRACT_JWT_SECRET, CONTRACT_JWT_ORG_ID)")
    token = _jwt({"org_id": target.jwt_org_id, "exp": int(time.time()) - 3600}, target.jwt_secret)
    response = api.request("GET", "/experiments/summary/", token=token)
    expect(response, 401, "a dashboard JWT signed with the deployment's secret but expired is refused with 401")


@pytest.mark.mutating
@pytest.mark.parametrize("label", list(BAD_CREDENTIALS))
def test_bad_credentials_cannot_change_an_experiment(api: ApiClient, experiment: JsonObject, label: str) -> None:
    token = BAD_CREDENTIALS[label]
    response = api.request("PATCH", f"/experiments/{experiment['id']}/", token=token,
                           authenticated=token is not None, json_body={"name": "intruder"})
    expect(response, 401, f"{label} cannot PATCH")
    read = api.get(experiment["id"])
    expect_equal(read.json().get("name"), experiment["name"], "the experiment is unchanged", read)


@pytest.mark.mutating
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_another_organization_gets_404(api: ApiClient, other_api: ApiClient, experiment: JsonObject,
                                       method: str) -> None:
    body = {"name": f"{api.prefix} intruder"} if method in ("PATCH", "PUT") else None
    response = other_api.request(method, f"/experiments/{experiment['id']}/", json_body=body)
    expect(response, (403, 404), f"another organization's {method} is refused")
    read = api.get(experiment["id"])
    api.ok(read, "the experiment is still there for its organization")
    expect_equal(read.json().get("name"), experiment["name"], "the other organization changed nothing", read)
    expect(response, 404, f"another organization's {method} is 404 (never 403, nothing leaks)",
           assumption="tenant-404")


@pytest.mark.mutating
def test_another_organization_does_not_list_it(api: ApiClient, other_api: ApiClient, experiment: JsonObject) -> None:
    listed = other_api.request("GET", "/experiments/?page_size=100")
    api.ok(listed, "listing works")
    expect_true(experiment["id"] not in [e.get("id") for e in listed.json()], "another organization's list omits it",
                listed)
    filtered = other_api.request("POST", "/experiments/list/", json_body={
        "filters": {"name": {"operator": "", "value": experiment["name"]}}, "is_exporting": True})
    api.ok(filtered, "filtering works")
    expect_equal(filtered.json().get("count"), 0, "another organization's filter does not find it", filtered)
