"""First steps work as printed: the banner's commands, `/__mock__/`, `--spec`, the first install, the docs."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import yaml
from conftest import ACME_KEY, BASE
from starlette.testclient import TestClient

from mock_server import __main__ as cli
from mock_server.auth import DEFAULT_JWT_SECRET
from mock_server.fixtures import DEFAULT_FIXTURES
from mock_server.spec import SPEC_PATH

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": f"Bearer {ACME_KEY}"}


@pytest.fixture
def started(monkeypatch):
    """Run the command line without serving: what it would have served."""
    import logging.config

    import uvicorn

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    monkeypatch.setattr(cli, "_port_problem", lambda host, port: None)  # nothing is served: the port may be taken
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    monkeypatch.delenv("MOCK_JWT_SECRET", raising=False)

    def start(*argv: str) -> dict:
        assert cli.main(["--port", "4011", *argv]) == 0
        return served

    return start


def test_the_banners_mint_jwt_command_works_as_printed(started, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    started()
    line = next(line for line in capsys.readouterr().out.splitlines() if "dashboard JWT:" in line)
    command = shlex.split(line.split("dashboard JWT:", 1)[1].replace("ORG", "org_acme"))
    token = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert jwt.decode(token, DEFAULT_JWT_SECRET, algorithms=["HS256"])["org_id"] == "org_acme"


def test_the_command_is_the_console_script_on_path_else_its_path(monkeypatch, tmp_path):
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").touch()
    monkeypatch.setattr(cli.sys, "executable", str(bin_dir / "python"))
    monkeypatch.chdir(tmp_path)
    assert cli.command() == ".venv/bin/python -m mock_server"
    (bin_dir / "experiments-mock").touch()
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.command() == ".venv/bin/experiments-mock"
    monkeypatch.setattr(cli.shutil, "which", lambda name: str(bin_dir / name))
    assert cli.command() == "experiments-mock"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.command() == str(bin_dir / "experiments-mock")


def test_the_controls_index_lists_every_control(client):
    for path in ("/__mock__/", "/__mock__"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        controls = {(c["method"], c["path"]): c["description"] for c in response.json()["controls"]}
        assert set(controls) == {("GET", "/__mock__/"), ("POST", "/__mock__/reset"), ("POST", "/__mock__/faults"),
                                 ("POST", "/__mock__/experiments/{experiment_id}/lifecycle"),
                                 ("GET", "/__mock__/requests"), ("GET", "/__mock__/state"),
                                 # what the console at /__mock__/ uses besides (tests/test_console.py)
                                 ("GET", "/__mock__/experiments"), ("GET", "/__mock__/faults"),
                                 ("DELETE", "/__mock__/faults"), ("DELETE", "/__mock__/faults/{operation_id}"),
                                 ("GET", "/__mock__/sessions"), ("GET", "/__mock__/operations"),
                                 ("GET", "/__mock__/spec")}
        assert all(controls.values())
    assert client.post("/__mock__/", json={}).status_code == 405


def _spec_with_page_size_maximum(path: Path, maximum: int) -> None:
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    document["components"]["parameters"]["PageSize"]["schema"]["maximum"] = maximum
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def test_spec_option_serves_a_teams_own_copy_and_watches_it(started, tmp_path):
    spec = tmp_path / "my-copy.yaml"
    _spec_with_page_size_maximum(spec, 50)
    served = started("--spec", str(spec), "--watch")
    assert served["app"].watched == [spec, DEFAULT_FIXTURES]
    with TestClient(served["app"], base_url="http://127.0.0.1:4011") as client:
        assert client.get(f"{BASE}/?page_size=60", headers=AUTH).json() == {
            "page_size": ["Ensure this value is less than or equal to 50."]}
        _spec_with_page_size_maximum(spec, 70)
        assert served["app"].check()
        assert client.get(f"{BASE}/?page_size=60", headers=AUTH).status_code == 200


def test_spec_option_without_the_file_exits_2_naming_it(tmp_path, capsys):
    assert cli.main(["--spec", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err


def test_the_first_install_says_what_it_is_doing():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    echo = next(line for line in rule.splitlines() if line.strip().startswith("@echo"))
    assert "$(VENV)" in echo and "pinned" in echo and "minute" in echo


def test_the_docs_lifecycle_example_starts_a_pending_experiment():
    readme = (ROOT / "docs" / "frontend.md").read_text(encoding="utf-8")
    started_ids = re.findall(r"__mock__/experiments/(\w+)/lifecycle[^\n]*\n[^\n]*\"start\"", readme)
    experiments = {e["id"]: e for e in yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))["experiments"]}
    assert started_ids and all(experiments[i].get("status", "pending") == "pending" for i in started_ids)


def test_make_test_names_each_missing_prerequisite_on_one_line(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)  # Python there; no node, npm or chromium
    result = subprocess.run(["/bin/bash", str(ROOT / "tools" / "check-prerequisites")], cwd=ROOT,
                            env={"PATH": str(bin_dir)}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("missing: ") for line in lines)
    assert "Node 20 or newer and npm" in lines[0] and "chromium" in lines[1]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: prerequisites ", makefile, re.M)  # checked before pytest runs
