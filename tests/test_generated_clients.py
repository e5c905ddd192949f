"""Clients generated from openapi.yaml are complete and tight: openapi-python-client generates every
operation and its client drives the mock; openapi-typescript's types compile a strict TypeScript
program (tests/typescript/client.ts) whose misuses fail to compile; orval and @hey-api/openapi-ts
name every operation and the named types, and their clients compile under `tsc --strict` with a small
program each (tests/typescript/usage/). Each generator gives the same client from the running mock's
`openapi.json` as from the file.

The generators write into temporary or ignored folders only. The TypeScript tools are the pinned
ones of tests/typescript/package-lock.json, installed by `npm ci` on first use.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

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
    installed = TS / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (TS / "package-lock.json").stat().st_mtime:
        # First use, or the pinned tools changed since they were installed (as the Makefile does for the linters).
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


# -- generators pointed at the running mock ------------------------------------------------------------------

def _python_client_files(source: list[str], out: Path) -> set[str]:
    out.parent.mkdir(parents=True)
    config = out.parent / "config.yaml"
    config.write_text("post_hooks: []\n")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate", *source,
         "--output-path", str(out), "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    return {str(p.relative_to(out)) for p in out.rglob("*.py")}


def test_the_python_client_from_the_running_mock_equals_the_one_from_the_file(tmp_path) -> None:
    from_file = _python_client_files(["--path", str(ROOT / "openapi.yaml")], tmp_path / "file" / "client")
    with serve(build_app().asgi) as origin:
        from_url = _python_client_files(["--url", f"{origin}/api/v2/openapi.json"], tmp_path / "url" / "client")
    assert from_url == from_file  # the same models (named types) and the same operations
    assert len([f for f in from_file if f.startswith("models/")]) < 100  # named types, not one per inline copy
    for name in from_file:
        assert (tmp_path / "url" / "client" / name).read_text() == (tmp_path / "file" / "client" / name).read_text()


def test_typescript_types_from_the_running_mock_equal_those_from_the_file(node_tools: Path, tmp_path) -> None:
    def generate(source: str, out: Path) -> str:
        result = subprocess.run([str(node_tools / "openapi-typescript"), source, "-o", str(out)], cwd=TS,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and "⚠" not in result.stdout + result.stderr, result.stdout + result.stderr
        return out.read_text()

    from_file = generate(str(ROOT / "openapi.yaml"), tmp_path / "file.d.ts")
    with serve(build_app().asgi) as origin:
        from_json = generate(f"{origin}/api/v2/openapi.json", tmp_path / "json.d.ts")
        from_yaml = generate(f"{origin}/api/v2/openapi.yaml", tmp_path / "yaml.d.ts")
    assert from_json == from_file and from_yaml == from_file
    assert "ExperimentCreate: {" in from_file and "createExperiment: {" in from_file


# -- orval and @hey-api/openapi-ts: the file and the running mock, compiled under strict tsc ----------------

OPERATION_IDS = {"".join(w if i == 0 else w.capitalize() for i, w in enumerate(op.split("_"))) for op in OPERATIONS}
NAMED_TYPES = ("Experiment", "ExperimentCreate", "ExperimentPatch", "ExperimentReplace", "ExperimentStatus",
               "FilterRequest", "FilteredExperimentPage", "WorkflowStep")
# How each writes a client into a folder (`fetch`: orval's client that needs no other package), and the
# usage file (tests/typescript/usage/) compiled beside it.
TS_GENERATORS = {
    "orval": (lambda source, out: ["orval", "--input", source, "--output", str(out / "api.ts"), "--client", "fetch"]),
    "hey-api": (lambda source, out: ["openapi-ts", "--input", source, "--output", str(out)]),
}
# The mock lists its own base path first among the served `servers` (mock_server/docs.py, so that Swagger
# UI's "Try it out" calls it); @hey-api/openapi-ts makes the first server the client's default `baseUrl`
# and types a relative one as any origin. The only difference from the file's client, undone here.
MOCK_SERVER_FIRST = {"hey-api": [("baseUrl: '/api/v2'", "baseUrl: 'http://127.0.0.1:4010/api/v2'"),
                                 ("`${string}://${string}/api/v2` | ", "")]}


class Generated(NamedTuple):
    name: str
    from_file: Path  # <tmp>/file/generated, beside it <tmp>/file/usage.ts once compiled
    from_mock: Path  # <tmp>/mock/generated, from the mock's /api/v2/openapi.json


@pytest.fixture(scope="module", params=sorted(TS_GENERATORS))
def ts_client(request: pytest.FixtureRequest, node_tools: Path, tmp_path_factory: pytest.TempPathFactory):
    """One generator's client from openapi.yaml and from the running mock, generated side by side (the
    generator's cwd is the temporary folder: a log it might write stays there)."""
    name, base = request.param, tmp_path_factory.mktemp(request.param)

    def start(source: str, where: str) -> subprocess.Popen[str]:
        tool, *args = TS_GENERATORS[name](source, base / where / "generated")
        return subprocess.Popen([str(node_tools / tool), *args], cwd=base, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    with serve(build_app().asgi) as origin:
        runs = [start(str(ROOT / "openapi.yaml"), "file"), start(f"{origin}/api/v2/openapi.json", "mock")]
        outputs = [run.communicate(timeout=300)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0 and "warn" not in output.lower() and "⚠" not in output, output
    return Generated(name, base / "file" / "generated", base / "mock" / "generated")


def _sources(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_typescript_client_from_the_running_mock_equals_the_one_from_the_file(ts_client: Generated) -> None:
    from_file, from_mock = _sources(ts_client.from_file), _sources(ts_client.from_mock)
    assert from_file and from_mock.keys() == from_file.keys()
    for path, text in from_mock.items():
        for served, written in MOCK_SERVER_FIRST.get(ts_client.name, []):
            text = text.replace(served, written)
        assert text == from_file[path], f"{ts_client.name}: {path} differs"


def test_a_typescript_client_names_every_operation_and_the_named_types(ts_client: Generated) -> None:
    code = "\n".join(_sources(ts_client.from_file).values())
    assert len(OPERATION_IDS) == 10 and "listExperimentsPage" in OPERATION_IDS
    missing = {op for op in OPERATION_IDS if not re.search(rf"^export const {op} = ", code, re.M)}
    assert not missing, f"{ts_client.name} generated no function for {sorted(missing)}"
    missing = {t for t in NAMED_TYPES if not re.search(rf"^export (?:type|interface) {t}\b", code, re.M)}
    assert not missing, f"{ts_client.name} generated no type {sorted(missing)}"


def test_a_typescript_client_compiles_under_strict_tsc(ts_client: Generated, node_tools: Path) -> None:
    """The generated code and a small program using it (tests/typescript/usage/); its `@ts-expect-error` lines
    must fail to compile. `--skipLibCheck` skips TypeScript's own lib declarations only: every generated
    file is checked."""
    folder = ts_client.from_file.parent
    shutil.copyfile(TS / "usage" / f"{ts_client.name}.ts", folder / "usage.ts")
    compiled = subprocess.run([str(node_tools / "tsc"), "--strict", "--noEmit", "--skipLibCheck", "--target", "ES2022",
                               "--module", "ESNext", "--moduleResolution", "Bundler", "usage.ts"], cwd=folder,
                              capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
