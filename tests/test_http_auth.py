"""HTTP tests of authentication: API keys, dashboard JWTs, and every way to fail."""

from __future__ import annotations

import time

import jwt
import pytest
from conftest import BASE

from mock_server.auth import mint_jwt


def _get(client, token=None, header=None):
    headers = {"Authorization": header or f"Bearer {token}"} if (token or header) else {}
    return client.get(BASE + "/", headers=headers)


def _assert_401(response, detail):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": detail}


def test_no_credentials(client):
    _assert_401(_get(client), "Authentication credentials were not provided.")


def test_unknown_api_key(client):
    _assert_401(_get(client, "sk_live_not_a_real_key"), "Invalid API key.")


def test_wrong_scheme(client):
    _assert_401(_get(client, header="Basic dXNlcjpwYXNz"), "Authentication credentials were not provided.")


def test_dashboard_jwt_grants_its_organization(client, mock):
    token = mint_jwt("org_globex", mock.authenticator.jwt_secret)
    response = _get(client, token)
    assert response.status_code == 200
    assert {e["id"] for e in response.json()} == {"exp_globex_01", "exp_globex_02"}


def test_expired_jwt(client, mock):
    _assert_401(_get(client, mint_jwt("org_acme", mock.authenticator.jwt_secret, ttl_seconds=-5)),
                "Token has expired.")


def test_jwt_with_bad_signature(client):
    _assert_401(_get(client, mint_jwt("org_acme", "another-secret-that-is-long-enough-for-hs256")), "Invalid token.")


def test_jwt_without_exp(client, mock):
    token = jwt.encode({"org_id": "org_acme"}, mock.authenticator.jwt_secret, algorithm="HS256")
    _assert_401(_get(client, token), "Invalid token.")


def test_jwt_for_unknown_organization(client, mock):
    _assert_401(_get(client, mint_jwt("org_nobody", mock.authenticator.jwt_secret)),
                "Invalid token: unknown organization.")


def test_jwt_with_none_algorithm_is_refused(client):
    token = jwt.encode({"org_id": "org_acme", "exp": int(time.time()) + 60}, None, algorithm="none")
    _assert_401(_get(client, token), "Invalid token.")


@pytest.mark.parametrize(("method", "path"), [("GET", "/exp_9f8b7c6d/"), ("PATCH", "/exp_9f8b7c6d/"),
                                              ("DELETE", "/exp_9f8b7c6d/"), ("POST", "/list/"),
                                              ("GET", "/summary/")])
def test_every_operation_needs_credentials(client, method, path):
    response = client.request(method, BASE + path, json={} if method == "PATCH" else None)
    assert response.status_code == 401


def test_token_never_reaches_the_logs(client, caplog):
    secret_key = "sk_live_this_must_not_be_logged"
    with caplog.at_level("DEBUG"):
        _get(client, secret_key)
    assert secret_key not in caplog.text
