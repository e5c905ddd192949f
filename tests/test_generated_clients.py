"""Clients generated from openapi.yaml are complete and tight: openapi-python-client generates every
operation and its client drives the mock; openapi-typescript's types compile a strict TypeScript
program (tests/typescript/client.ts) whose misuses fail to compile.

Both generators write into temporary or ignored folders only. The TypeScript tools are the pinned
ones of tests/typescript/package-lock.json, installed by `npm ci` on first use.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.embedded import serve
from mock_server.app import build_app

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "tests" / "typescript"
ACME_KEY = "sk_live_acme_dev_4f7d2c9a1b8e"
OPERATIONS = {"create_experiment", "get_experiment", "update_experiment", "replace_experiment", "delete_experiment",
              "list_experiments", "list_experiments_page", "filter_experiments", "get_experiment_summary",
              "summarize_filtered_experiments"}


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("python-client")
    config = out / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: nothing outside this folder
    result = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate", "--path", str(ROOT / "openapi.yaml"),
         "--output-path", str(out / "experiments_client"), "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("experiments_client")
    finally:
        sys.path.remove(str(out))


def test_the_python_client_has_every_operation(python_client) -> None:
    generated = {p.stem for p in Path(python_client.__file__).parent.glob("api/*/*.py") if p.stem != "__init__"}
    assert generated == OPERATIONS


def test_the_python_client_drives_the_mock(python_client) -> None:
    from experiments_client import AuthenticatedClient
    from experiments_client.api.experiments import create_experiment, get_experiment, update_experiment
    from experiments_client.models import ExperimentCreate, ExperimentPatch

    body = ExperimentCreate.from_dict({"dataset_id": "ds_7a6b5c4d", "evaluator_ids": ["helpfulness"],
                                       "workflow": [{"type": "completion", "config": {"model": "gpt-4o"}}]})
    with serve(build_app().asgi) as origin, AuthenticatedClient(base_url=f"{origin}/api/v2", token=ACME_KEY) as client:
        created = create_experiment.sync_detailed(client=client, body=body)
        assert created.status_code == 201, created.content
        experiment_id = created.parsed.id
        patched = update_experiment.sync_detailed(experiment_id, client=client,
                                                  body=ExperimentPatch.from_dict({"name": "Renamed", "batch_size": 7}))
        assert patched.status_code == 200 and patched.parsed.name == "Renamed" and patched.parsed.batch_size == 7
        read = get_experiment.sync_detailed(experiment_id, client=client)
        assert read.parsed.to_dict() == patched.parsed.to_dict()
        missing = get_experiment.sync_detailed("never-created", client=client)
        assert missing.status_code == 404 and missing.parsed.detail.startswith("No experiment")


@pytest.fixture(scope="module")
def node_tools() -> Path:
    npm = shutil.which("npm")
    assert npm, "Node 20 and npm are needed for the TypeScript check (.ci/run has them)"
    if not (TS / "node_modules" / ".package-lock.json").exists():
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TS, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
    return TS / "node_modules" / ".bin"


def test_strict_typescript_compiles_against_the_generated_types(node_tools: Path) -> None:
    generate = subprocess.run([str(node_tools / "openapi-typescript"), str(ROOT / "openapi.yaml"), "-o",
                               str(TS / "generated" / "schema.d.ts")], cwd=TS, capture_output=True, text=True,
                              timeout=300)
    assert generate.returncode == 0 and "⚠" not in generate.stdout + generate.stderr, generate.stdout + generate.stderr
    compiled = subprocess.run([str(node_tools / "tsc"), "-p", "tsconfig.json"], cwd=TS, capture_output=True, text=True,
                              timeout=300)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
