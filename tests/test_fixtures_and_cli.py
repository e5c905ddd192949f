"""Fixture files (valid and each kind of invalid) and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import yaml

from mock_server.__main__ import main
from mock_server.auth import DEFAULT_JWT_SECRET
from mock_server.fixtures import DEFAULT_FIXTURES, FixtureError, build_world, load_world
from mock_server.spec import Contract, load_document

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(load_document())


def default_document() -> dict:
    return yaml.safe_load(DEFAULT_FIXTURES.read_text())


def test_default_world_has_every_status_and_two_organizations(contract):
    world = load_world(contract)
    assert len(world.organizations) == 2
    statuses = {r["status"] for org in world.organizations.values() for r in org.experiments.values()}
    assert statuses == {"pending", "running", "completed", "failed"}
    assert all(len(org.api_keys) == 1 for org in world.organizations.values())


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["experiments"][0].update(organization_id="org_nope"),
     "experiments.0 (exp_9f8b7c6d): unknown organization_id 'org_nope'"),
    (lambda d: d["experiments"][0].update(dataset_id="ds_nope"),
     "experiments.0 (exp_9f8b7c6d): Dataset 'ds_nope' not found in organization 'org_acme'"),
    (lambda d: d["experiments"][0].update(evaluator_workflow_ids=["ewv_3c2b1a09"]),
     "experiments.0 (exp_9f8b7c6d): needs exactly one non-empty scoring path"),
    (lambda d: d["experiments"][3].pop("error_message"), "a failed experiment needs an error_message"),
    (lambda d: d["experiments"][1].update(batch_size=0),
     "experiments.1.batch_size: Ensure this value is greater than or equal to 1."),
    (lambda d: d["experiments"][1].update(dataset_name="derived"), "experiments.1.dataset_name: Unknown field."),
    (lambda d: d["datasets"].append(dict(d["datasets"][0])), "duplicate id in organization 'org_acme'"),
    (lambda d: d["organizations"][1]["api_keys"].append(d["organizations"][0]["api_keys"][0]), "listed twice"),
])
def test_invalid_fixtures_name_the_bad_entry(contract, mutate, message):
    document = default_document()
    mutate(document)
    with pytest.raises(FixtureError) as caught:
        build_world(contract, document, source="world.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("world.yaml")


def test_unreadable_fixture_file(contract, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("organizations: [\n")
    with pytest.raises(FixtureError, match="not valid YAML"):
        load_world(contract, bad)
    with pytest.raises(FixtureError, match="cannot read"):
        load_world(contract, tmp_path / "missing.yaml")


def test_json_fixture_files_are_read(contract, tmp_path):
    import json

    path = tmp_path / "world.json"
    path.write_text(json.dumps(default_document()))
    assert len(load_world(contract, path).organizations) == 2


def test_cli_reports_a_bad_fixture_file_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("organizations: []\n")
    assert main(["--fixtures", str(bad)]) == 2
    assert "organizations" in capsys.readouterr().err


def test_mint_jwt_prints_a_token_for_the_organization(capsys):
    assert main(["mint-jwt", "--org", "org_acme", "--ttl", "60"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), DEFAULT_JWT_SECRET, algorithms=["HS256"])
    assert claims["org_id"] == "org_acme" and claims["exp"] - claims["iat"] == 60


def test_server_starts_and_answers(tmp_path):
    """The real command: start on a free port, answer one request, stop."""
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v2/experiments/summary/", timeout=2,
                                     headers={"Authorization": "Bearer sk_live_acme_dev_4f7d2c9a1b8e"})
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            assert response.status_code == 200 and "total_count" in response.text
            break
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert "sk_live_acme_dev_4f7d2c9a1b8e" in output and "/api/v2/ui/" in output


def test_a_busy_port_is_one_line_and_exit_2_before_the_banner(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "mock_server", "--port", str(port)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""  # no banner for a mock that will not run
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot listen on 127.0.0.1:{port}: address already in use")
