"""Smoke test of the Django REST framework backend in tests/drf_backend, served as a subprocess."""

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from drf_backend.seed import DATASET_A, EVALUATOR_A, EVALUATOR_A2, KEY_A, KEY_B

TESTS_DIR = Path(__file__).parent
READY_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(stderr_path: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("DRF_BACKEND_FAULT", "DRF_BACKEND_START_RUNNING_AFTER"):
        env.pop(name, None)
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "drf_backend", "--port", str(port), *options],
            cwd=TESTS_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        readable, _, _ = select.select([process.stdout], [], [], 0.1)
        if readable:
            line = process.stdout.readline()
            if line.startswith("ready "):
                return process, line.split()[1]
    _stop(process)
    pytest.fail(f"backend did not report ready; stderr:\n{stderr_path.read_text()}")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Gives the base URL of a backend started with the given options (one per set of options, stopped at the end)."""
    running: dict[tuple[str, ...], tuple[subprocess.Popen[str], str]] = {}

    def start(*options: str) -> str:
        if options not in running:
            running[options] = _start(tmp_path_factory.mktemp("drf_backend") / "stderr.txt", *options)
        return running[options][1]

    yield start
    for process, _ in running.values():
        _stop(process)


def _client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _new_experiment(**fields: object) -> dict[str, object]:
    return {
        "dataset_id": DATASET_A,
        "workflow": [{"type": "completion", "config": {"model": "gpt-4o-mini"}}],
        "evaluator_ids": [EVALUATOR_A],
        **fields,
    }


def test_experiment_lifecycle(serve: Callable[..., str]) -> None:
    base_url = serve()
    with _client(base_url, KEY_A) as client, _client(base_url, KEY_B) as other:
        created = client.post("/experiments/", json=_new_experiment(description="first", batch_size=10))
        assert created.status_code == 201, created.text
        experiment = created.json()
        assert len(experiment["id"]) == 32
        assert experiment["status"] == "pending"
        assert experiment["evaluator_ids"] == experiment["evaluator_slugs"] == [EVALUATOR_A]
        assert experiment["concurrency"] == 15
        url = f"/experiments/{experiment['id']}/"

        patched = client.patch(url, json={"name": "renamed"})
        assert patched.status_code == 200, patched.text
        assert patched.json() == {**experiment, "name": "renamed"}

        fetched = client.get(url)
        assert fetched.status_code == 200
        assert fetched.json() == patched.json()

        assert other.get(url).status_code == 404
        assert other.patch(url, json={"name": "taken"}).status_code == 404
        assert client.get(url).json()["name"] == "renamed"

        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404
        assert client.delete(url).status_code == 404


def test_page_past_the_end_is_404(serve: Callable[..., str]) -> None:
    with _client(serve(), KEY_A) as client:
        assert len(client.get("/experiments/", params={"page_size": 100}).json()) < 100
        assert client.get("/experiments/", params={"page": 2, "page_size": 100}).status_code == 404
        assert client.post("/experiments/list/", params={"page": 2}, json={}).status_code == 404


def test_ids_win_over_slugs_unless_the_fault_is_planted(serve: Callable[..., str]) -> None:
    body = _new_experiment(evaluator_ids=[EVALUATOR_A], evaluator_slugs=[EVALUATOR_A2])
    with _client(serve(), KEY_A) as client:
        assert client.post("/experiments/", json=body).json()["evaluator_ids"] == [EVALUATOR_A]
    with _client(serve("--fault", "slugs_win_over_ids"), KEY_A) as client:
        assert client.post("/experiments/", json=body).json()["evaluator_ids"] == [EVALUATOR_A2]
