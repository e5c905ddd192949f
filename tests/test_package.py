"""The package works installed: a wheel built from the checkout, installed into a fresh venv (with the
pinned versions, and beside the newest FastAPI), and its three commands run from an empty directory
against each other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from contract_tests.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
ACME_KEY = "sk_live_acme_dev_4f7d2c9a1b8e"


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTRACT_", "VIRTUAL_ENV", "PYTHONPATH"))}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


UV = str(Path(sys.executable).with_name("uv"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the checkout."""
    work = tmp_path_factory.mktemp("package")
    # A copy of the checkout, so the build writes nothing (build/, *.egg-info) into the real one.
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "*.egg-info", "__pycache__", ".*cache", "reports"))
    built = run([UV, "build", "--wheel", "--quiet", "--out-dir", str(work), str(source)], cwd=work)
    assert built.returncode == 0, built.stdout + built.stderr
    return next(work.glob("experiments_contract_kit-*.whl"))


def venv_with(work: Path, *requirements: str, constraints: bool = True) -> Path:
    """The bin folder of a fresh venv with `requirements` installed (pinned by constraints.txt, or the newest)."""
    created = run([UV, "venv", "--quiet", "--python", sys.executable, str(work / "venv")], cwd=work)
    assert created.returncode == 0, created.stdout + created.stderr
    bin_dir = work / "venv" / "bin"
    pins = ["-c", str(ROOT / "constraints.txt")] if constraints else []
    install = run([UV, "pip", "install", "--quiet", "--python", str(bin_dir / "python"), *pins, *requirements],
                  cwd=work)
    assert install.returncode == 0, install.stdout + install.stderr
    return bin_dir


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv with the wheel and its contract and lint extras installed."""
    return venv_with(tmp_path_factory.mktemp("pinned"), f"{wheel}[contract,lint]")


def test_the_kit_installs_beside_the_current_fastapi(wheel: Path, tmp_path: Path) -> None:
    # The newest FastAPI the index has (it needs Starlette 1.x), resolved together with the kit.
    bin_dir = venv_with(tmp_path, f"{wheel}[contract,lint]", "fastapi", constraints=False)
    # A UserWarning is what a user sees by default (Starlette's deprecations are UserWarnings).
    versions = run([str(bin_dir / "python"), "-W", "error::UserWarning", "-c",
                    "import mock_server.app, contract_tests.config, spec_lint.registry, fastapi, starlette;"
                    "print(fastapi.__version__, starlette.__version__)"], cwd=tmp_path)
    assert versions.returncode == 0, versions.stderr
    fastapi_version, starlette_version = versions.stdout.split()
    assert int(starlette_version.split(".")[0]) >= 1, versions.stdout  # today's major, not a downgrade
    empty = tmp_path / "empty"
    empty.mkdir()
    lint = run([str(bin_dir / "experiments-lint")], cwd=empty)
    assert lint.returncode == 0 and "0 error(s)" in lint.stderr, lint.stdout + lint.stderr
    assert "Warning" not in lint.stdout + lint.stderr  # no deprecation shown to the user
    port = free_port()
    mock = subprocess.Popen([str(bin_dir / "experiments-mock"), "--port", str(port)], cwd=empty,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(mock, port)
        suite = run([str(bin_dir / "experiments-contract-tests"), "--base-url", f"http://127.0.0.1:{port}/api/v2",
                     "--token", ACME_KEY, "--dataset-id", "ds_7a6b5c4d", "--evaluator-id", "helpfulness",
                     "--evaluator-workflow-id", "ewv_3c2b1a09", "-k", "test_rules_reads and summary"],
                    cwd=empty)
    finally:
        mock.terminate()
        mock.wait(timeout=30)
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-3000:]
    assert "violations: 0" in suite.stdout, suite.stdout[-3000:]


def wait_until_up(mock: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/experiments/summary/",
                         headers={"Authorization": f"Bearer {ACME_KEY}"}).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and mock.poll() is None, "the installed mock did not start"
        time.sleep(0.2)


def test_the_three_commands_work_installed_from_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    lint = run([str(installed / "experiments-lint")], cwd=empty)
    assert lint.returncode == 0 and "0 error(s)" in lint.stderr, lint.stdout + lint.stderr

    port = free_port()
    mock = subprocess.Popen([str(installed / "experiments-mock"), "--port", str(port)], cwd=empty,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(mock, port)
        console = httpx.get(f"http://127.0.0.1:{port}/__mock__/", headers={"Accept": "text/html"})
        assert console.status_code == 200 and "/__mock__/console/console.js" in console.text  # package data
        assert httpx.get(f"http://127.0.0.1:{port}/__mock__/console/console.js").status_code == 200
        suite = run([str(installed / "experiments-contract-tests"), "--base-url", f"http://127.0.0.1:{port}/api/v2",
                     "--token", ACME_KEY, "--dataset-id", "ds_7a6b5c4d", "--evaluator-id", "helpfulness",
                     "--evaluator-workflow-id", "ewv_3c2b1a09", "--spec", str(ROOT / "openapi.yaml"),
                     "-k", "test_rules_reads or schema_conformance and examples", "--max-examples", "3"], cwd=empty)
    finally:
        mock.terminate()
        mock.wait(timeout=30)
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-3000:]
    assert "violations: 0" in suite.stdout and " passed" in suite.stdout
    assert list(empty.iterdir()) == []  # nothing written where it ran


def test_a_spec_that_is_not_there_is_one_line_and_exit_2(installed: Path, tmp_path: Path) -> None:
    result = run([str(installed / "experiments-contract-tests"), "--spec", str(tmp_path / "missing.yaml")],
                 cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().startswith("usage error: no OpenAPI document at")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stdout + result.stderr
