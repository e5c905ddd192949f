"""Hostile-input figures: what each hostile or clumsy request costs the mock, and what it costs the others.

Starts the mock (uvicorn, loopback), then for each case of issue 9 sends the request a few times while a
second connection keeps sending a normal GET. Prints, per case: the status answered, the server CPU per
request (from /proc/PID/task/*/schedstat, so every thread counts), and the normal GET's latency meanwhile
(p50 and worst) next to its latency on an idle server. The target: at most 100 ms of CPU for any body up
to 1 MiB, and normal requests that barely notice. Bounded: every case has a fixed number of requests and
every read a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from load import read_response  # noqa: E402
from run import EXPERIMENT, KEY, free_port, start  # noqa: E402
from servers import probe  # noqa: E402

from mock_server.limits import MAX_EXPERIMENTS_PER_ORGANIZATION, MAX_WORLD_BYTES  # noqa: E402

AUTH = f"Bearer {KEY}"
ITEM = f"/api/v2/experiments/{EXPERIMENT}/"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunked: bool = False  # sent without Content-Length


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def cases() -> list[Case]:
    auth_json = {"Authorization": AUTH, "Content-Type": "application/json"}
    deep_config = '{"workflow": [{"type": "wait", "config": {"x": %s}}]}'
    bad_steps = [{"type": "completion", "config": {"model": "m", "stop": [1] * 100, "tools": [1] * 100}}] * 100
    return [
        Case("PATCH workflow of 6,000 ints (12 KB)", "PATCH", ITEM, auth_json, _json({"workflow": [1] * 6000})),
        Case("PATCH workflow of 100,000 {} (0.3 MB)", "PATCH", ITEM, auth_json, _json({"workflow": [{}] * 100_000})),
        Case("PATCH workflow of 340,000 {} (1 MB)", "PATCH", ITEM, auth_json,
             b'{"workflow": [' + b",".join([b"{}"] * 340_000) + b"]}"),
        Case("PATCH 100 steps x 200 bad list items", "PATCH", ITEM, auth_json, _json({"workflow": bad_steps})),
        Case("PATCH 40,000 unknown fields (0.9 MB)", "PATCH", ITEM, auth_json,
             _json({f"field_{i}": i for i in range(40_000)})),
        Case("PATCH 1 MB string in an enum field", "PATCH", ITEM, auth_json,
             _json({"generation_method": "x" * (1024 * 1024 - 40)})),
        Case("GET unauthenticated, Prefer 30,000 spaces", "GET", "/api/v2/experiments/",
             {"Prefer": 'a="' + " " * 30_000 + '"x'}),
        Case("GET with 1 MB of headers (431)", "GET", "/api/v2/experiments/",
             {"Authorization": AUTH, **{f"X-Pad-{i}": "x" * 1000 for i in range(1024)}}),
        Case("GET with a 64 KB URL (414)", "GET", "/api/v2/experiments/?" + "a=1&" * 16_000, {"Authorization": AUTH}),
        Case("PATCH JSON nested 300 deep", "PATCH", ITEM, auth_json, (deep_config % ("[" * 300 + "]" * 300)).encode()),
        Case("PATCH JSON nested 500,000 deep (1 MB)", "PATCH", ITEM, auth_json,
             (deep_config % ("[" * 500_000 + "]" * 500_000)).encode()),
        Case("PATCH 1 MB of [] in a free config (valid)", "PATCH", ITEM, auth_json,
             (deep_config % ("[" + ",".join(["[]"] * 340_000) + "]")).encode()),
        Case("PATCH Content-Type: Application/JSON", "PATCH", ITEM,
             {"Authorization": AUTH, "Content-Type": "Application/JSON"}, _json({"name": "Case"})),
        Case("PATCH body without Content-Type (415)", "PATCH", ITEM, {"Authorization": AUTH}, _json({"name": "x"})),
        Case("PATCH lone surrogate", "PATCH", ITEM, auth_json, b'{"description": "\\ud800"}'),
        Case("POST filter created_at ...z and 23:59:60", "POST", "/api/v2/experiments/list/", auth_json,
             _json({"filters": {"created_at": {"operator": "in", "value": ["2026-11-01T00:00:00z",
                                                                          "2026-12-31T23:59:60Z"]}}})),
        Case("GET /api/v2/openapi.jsonx (404)", "GET", "/api/v2/openapi.jsonx"),
        Case("GET /api/v2/openapi.yaml (after the first)", "GET", "/api/v2/openapi.yaml"),
        Case("POST /__mock__/faults nested 300 deep", "POST", "/__mock__/faults", {"Content-Type": "application/json"},
             b"[" * 300 + b"]" * 300),
        Case("POST /__mock__/reset as text/plain (415)", "POST", "/__mock__/reset", {"Content-Type": "text/plain"},
             b"{}"),
        Case("POST /__mock__/faults 2 MB streamed (413)", "POST", "/__mock__/faults",
             {"Content-Type": "application/json"}, b'{"x": "' + b"x" * (2 * 1024 * 1024) + b'"}', chunked=True),
        Case("GET with Host: evil.example (400)", "GET", "/__mock__/state", {"Host": "evil.example"}),
    ]


def encode(case: Case, host: str) -> bytes:
    headers = {"Host": host, **case.headers}
    lines = [f"{case.method} {case.path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    if case.chunked:
        lines.append("Transfer-Encoding: chunked")
        size = 64 * 1024
        chunks = [case.body[i:i + size] for i in range(0, len(case.body), size)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    else:
        if case.body or case.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(case.body)}")
        body = case.body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def send_once(port: int, request: bytes) -> int:
    """One request on its own connection; the status (0 when the server closed it without answering)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4 * 1024 * 1024)
    try:
        writer.write(request)
        with contextlib.suppress(ConnectionError):  # answered (413, 431) before it read everything
            await asyncio.wait_for(writer.drain(), TIMEOUT)
        return await asyncio.wait_for(read_response(reader), TIMEOUT)
    except (asyncio.IncompleteReadError, ConnectionError):
        return 0
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


async def normal_load(port: int, stop: asyncio.Event, latencies: list[tuple[float, float]]) -> None:
    """A keep-alive client sending a normal authenticated GET again and again: (start, seconds) of each."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {ITEM} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\n\r\n".encode()
    try:
        while not stop.is_set():
            started = time.perf_counter()
            writer.write(request)
            await asyncio.wait_for(read_response(reader), TIMEOUT)
            latencies.append((started, time.perf_counter() - started))
            await asyncio.sleep(0.002)
    finally:
        writer.close()


@dataclass
class Row:
    name: str
    statuses: set[int]
    cpu_ms: float
    normal_p50_ms: float
    normal_max_ms: float


FULL = "bench-full"  # the session filled to its documented limit


def full_world_cases() -> list[Case]:
    """What reads a whole organization's experiments, on a session at MAX_EXPERIMENTS_PER_ORGANIZATION."""
    session = {"Authorization": AUTH, "Content-Type": "application/json", "X-Mock-Session": FULL}
    filters = _json({"filters": {"name": {"operator": "icontains", "value": "bench"},
                                 "status": {"operator": "in", "value": ["pending", "running"]}}})
    return [
        Case("full world: GET list page_size=100", "GET", "/api/v2/experiments/?page_size=100", session),
        Case("full world: POST filtered list, sorted by name", "POST", "/api/v2/experiments/list/?sort_by=name",
             session, filters),
        Case("full world: POST export-flagged list (all)", "POST", "/api/v2/experiments/list/", session,
             _json({"filters": {}, "is_exporting": True})),
        Case("full world: GET summary", "GET", "/api/v2/experiments/summary/", session),
        Case("full world: POST filtered summary", "POST", "/api/v2/experiments/summary/", session, filters),
        Case("full world: GET /__mock__/state", "GET", "/__mock__/state", {"X-Mock-Session": FULL}),
        Case("full world: POST create past the limit (409)", "POST", "/api/v2/experiments/", session,
             _json({"dataset_id": "ds_7a6b5c4d", "workflow": [{"type": "wait", "config": {}}],
                    "evaluator_ids": ["helpfulness"]})),
    ]


async def fill(port: int) -> tuple[int, int]:
    """Fill session FULL's org_acme up to MAX_EXPERIMENTS_PER_ORGANIZATION experiments, as large as
    MAX_WORLD_BYTES allows; (experiments, statuses other than 201)."""
    host = f"127.0.0.1:{port}"
    pad = max(0, MAX_WORLD_BYTES // MAX_EXPERIMENTS_PER_ORGANIZATION - 900)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    created = refused = 0
    try:
        for n in range(MAX_EXPERIMENTS_PER_ORGANIZATION):
            body = _json({"dataset_id": "ds_7a6b5c4d", "name": f"bench {n}", "evaluator_ids": ["helpfulness"],
                          "workflow": [{"type": "wait", "config": {"pad": "x" * pad}}]})
            case = Case("fill", "POST", "/api/v2/experiments/", {"Authorization": AUTH, "X-Mock-Session": FULL,
                                                                  "Content-Type": "application/json"}, body)
            writer.write(encode(case, host))
            status = await asyncio.wait_for(read_response(reader), TIMEOUT)
            created += status == 201
            refused += status not in (201, 409)
    finally:
        writer.close()
    return created, refused


async def measure(pid: int, port: int, repeats: int) -> tuple[float, list[Row]]:
    host = f"127.0.0.1:{port}"
    await send_once(port, encode(Case("warm", "GET", "/api/v2/openapi.yaml"), host))  # built once, before timing
    stop = asyncio.Event()
    latencies: list[tuple[float, float]] = []
    load = asyncio.create_task(normal_load(port, stop, latencies))
    await asyncio.sleep(1.0)
    idle = statistics.median(seconds for _, seconds in latencies) * 1000
    rows = []
    await fill(port)
    for case in [*cases(), *full_world_cases()]:
        request = encode(case, host)
        statuses = set()
        started_cpu, started = cpu_seconds(pid), time.perf_counter()
        for _ in range(repeats):
            statuses.add(await send_once(port, request))
        cpu = (cpu_seconds(pid) - started_cpu) / repeats
        during = [seconds * 1000 for begun, seconds in latencies if begun >= started] or [float("nan")]
        rows.append(Row(case.name, statuses, cpu * 1000, statistics.median(during), max(during)))
        await asyncio.sleep(0.2)
    stop.set()
    await load
    return idle, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="requests per case (default: %(default)s)")
    parser.add_argument("--no-connections", action="store_true",
                        help="skip the connection probes (head, pipelining, idle connections: about 90 s)")
    args = parser.parse_args()
    port = free_port()
    mock, _ = start([sys.executable, "-m", "mock_server", "--port", str(port), "--log-level", "error"], port)
    try:
        idle, rows = asyncio.run(measure(mock.pid, port, args.repeats))
        connections = asyncio.run(probe(mock.pid, port, 65.0)) if not args.no_connections else {}
    finally:
        mock.terminate()
        try:
            mock.wait(timeout=10)
        except subprocess.TimeoutExpired:
            mock.kill()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, {args.repeats} requests per case; "
          f"a normal GET on another connection throughout (idle p50 {idle:.2f} ms)")
    print(f"{'case':46} {'status':>8} {'CPU ms/req':>11} {'GET p50 ms':>11} {'GET max ms':>11}")
    for row in rows:
        status = ",".join(str(s) for s in sorted(row.statuses))
        print(f"{row.name:46} {status:>8} {row.cpu_ms:11.1f} {row.normal_p50_ms:11.2f} {row.normal_max_ms:11.2f}")
    for what, figures in connections.items():
        print(f"server bound, {what}: {figures}")
    worst = max(rows, key=lambda r: r.cpu_ms)
    waits = [r.normal_max_ms for r in rows if not math.isnan(r.normal_max_ms)]
    print(f"worst CPU per request: {worst.cpu_ms:.1f} ms ({worst.name}); worst wait of a normal GET: "
          f"{max(waits or [math.nan]):.1f} ms")
    full = max((r for r in rows if r.name.startswith("full world")), key=lambda r: r.cpu_ms)
    print(f"worst CPU per request on a session at its limit ({MAX_EXPERIMENTS_PER_ORGANIZATION} experiments, "
          f"{MAX_WORLD_BYTES // 1024 // 1024} MiB): {full.cpu_ms:.1f} ms ({full.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
