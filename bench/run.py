"""Benchmark the mock against two baselines on the same server (uvicorn), on loopback: a bare ASGI app
and a plain Starlette app doing the same in-memory GET/PATCH without validation or rules.

Prints requests/s, p50 and p99 latency of GET and PATCH at 16 connections for each, the ratios
mock/bare and mock/Starlette, the mock's start-up time to its first answer, and its memory before and
after a long run, and the latency the validating proxy (`python -m mock_server proxy`) adds to a PATCH
sent one at a time in front of the same mock (alternating rounds). `--mock-dir` benchmarks the mock of
another checkout (e.g. a `git worktree` of an older commit) in the same run, against the same baselines.
Bounded: every phase stops after --seconds or its request budget, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import Result, build_request, run_load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_live_acme_dev_4f7d2c9a1b8e"
EXPERIMENT = "exp_9f8b7c6d"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], port: int, cwd: Path = ROOT) -> tuple[subprocess.Popen, float]:
    """Start a server process; return it and the seconds until it answered its first request (a 2xx)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/v2/experiments/{EXPERIMENT}/"
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=1) as client:
        while True:
            try:
                if client.get(url).is_success:
                    return proc, time.perf_counter() - started
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.perf_counter() - started > 30:
                proc.kill()
                raise SystemExit(f"server did not start: {command}") from None
            time.sleep(0.01)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def requests_for(port: int) -> dict[str, list[bytes]]:
    host = f"127.0.0.1:{port}"
    path = f"/api/v2/experiments/{EXPERIMENT}/"
    auth = {"Authorization": f"Bearer {KEY}"}
    patches = [build_request("PATCH", host, path, auth, json.dumps(
        {"name": f"Bench run {i}", "batch_size": 1 + i % 500, "description": "x" * (i % 40)}).encode())
        for i in range(64)]
    return {"GET": [build_request("GET", host, path, auth)], "PATCH": patches}


def measure(port: int, method: str, requests: list[bytes], args: argparse.Namespace) -> Result:
    asyncio.run(run_load("127.0.0.1", port, requests, connections=args.connections, seconds=1.0,
                         max_requests=2000))  # warm-up
    result = asyncio.run(run_load("127.0.0.1", port, requests, connections=args.connections,
                                  seconds=args.seconds, max_requests=args.max_requests))
    bad = {s: n for s, n in result.statuses.items() if s != 200}
    if bad:
        raise SystemExit(f"{method} answered non-200 statuses: {bad}")
    return result


def proxy_latency(mock_port: int, procs: dict[str, subprocess.Popen], args: argparse.Namespace
                  ) -> list[tuple[float, float]]:
    """(direct p50, proxied p50) of PATCHes sent one at a time, in alternating rounds: the validating proxy
    (`python -m mock_server proxy`, both directions judged) in front of the same mock."""
    port = free_port()
    procs["proxy"], _ = start([sys.executable, "-m", "mock_server", "proxy", "--upstream",
                               f"http://127.0.0.1:{mock_port}/api/v2", "--log-level", "warning", "--port", str(port)],
                              port)
    for target in (mock_port, port):  # warm-up: connections, validators, the proxy's first judgements
        asyncio.run(run_load("127.0.0.1", target, requests_for(target)["PATCH"], connections=1, seconds=1.0,
                             max_requests=500))
    rounds = []
    for _ in range(args.proxy_rounds):
        medians = []
        for target in (mock_port, port):
            patches = requests_for(target)["PATCH"]
            result = asyncio.run(run_load("127.0.0.1", target, patches, connections=1, seconds=args.seconds / 4,
                                          max_requests=3000))
            if set(result.statuses) != {200}:
                raise SystemExit(f"PATCH through port {target} answered {result.statuses}")
            medians.append(result.percentile(50))
        rounds.append((medians[0], medians[1]))
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=200_000, help="request budget of each phase")
    parser.add_argument("--soak-requests", type=int, default=100_000,
                        help="requests of the memory run (0 to skip)")
    parser.add_argument("--proxy-rounds", type=int, default=5,
                        help="alternating rounds of direct and proxied PATCHes, one at a time (0 to skip)")
    parser.add_argument("--mock-dir", type=Path, action="append", default=[],
                        help="also benchmark the mock of this checkout (repeatable)")
    args = parser.parse_args()
    python = sys.executable
    uvicorn_flags = ["--log-level", "warning", "--no-access-log", "--lifespan", "off"]

    servers: dict[str, tuple[list[str], Path]] = {
        "mock": ([python, "-m", "mock_server", "--log-level", "warning"], ROOT),
        **{f"mock@{d.name}": ([python, "-m", "mock_server", "--log-level", "warning"], d.resolve())
           for d in args.mock_dir},
        "bare": ([python, "-m", "uvicorn", "--app-dir", "bench", "bare_app:app", *uvicorn_flags], ROOT),
        "starlette": ([python, "-m", "uvicorn", "--app-dir", "bench", "bare_starlette:app", *uvicorn_flags], ROOT),
    }
    procs: dict[str, subprocess.Popen] = {}
    ports: dict[str, int] = {}
    startups: dict[str, float] = {}
    try:
        for name, (command, cwd) in servers.items():
            ports[name] = free_port()
            procs[name], startups[name] = start([*command, "--port", str(ports[name])], ports[name], cwd)
        results: dict[tuple[str, str], Result] = {}
        for method in ("GET", "PATCH"):
            for name in servers:
                results[(method, name)] = measure(ports[name], method, requests_for(ports[name])[method], args)
        proxy_rounds = proxy_latency(ports["mock"], procs, args) if args.proxy_rounds else []
        memory_before = rss_mib(procs["mock"].pid)
        soak = None
        if args.soak_requests:
            mixed = requests_for(ports["mock"])["PATCH"] + requests_for(ports["mock"])["GET"] * 64
            soak = asyncio.run(run_load("127.0.0.1", ports["mock"], mixed, connections=args.connections,
                                        seconds=600, max_requests=args.soak_requests))
        memory_after = rss_mib(procs["mock"].pid)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=10)

    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, {args.connections} connections, "
          f"{args.seconds:g} s per phase")
    print(f"{'':6} {'server':14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}")
    for method in ("GET", "PATCH"):
        for name in servers:
            r = results[(method, name)]
            print(f"{method:6} {name:14} {r.rate():9.0f} {r.percentile(50):8.2f} {r.percentile(99):8.2f} {r.count:9d}")
        for name in (n for n in servers if n.startswith("mock")):
            mock_rate = results[(method, name)].rate()
            print(f"{method:6} ratio {name}/bare: {mock_rate / results[(method, 'bare')].rate():.1%}, "
                  f"{name}/starlette: {mock_rate / results[(method, 'starlette')].rate():.2f}x")
    for name in (n for n in servers if n.startswith("mock")):
        print(f"{name} start-up to first answer: {startups[name]:.2f} s")
    if proxy_rounds:
        print("validating proxy in front of the mock, PATCH one at a time (1 connection), p50 ms per round:")
        for direct, proxied in proxy_rounds:
            print(f"  direct {direct:.3f}  through the proxy {proxied:.3f}  added {proxied - direct:.3f}")
        added = statistics.median(proxied - direct for direct, proxied in proxy_rounds)
        print(f"PATCH latency the proxy adds (median of {len(proxy_rounds)} rounds): {added:.3f} ms")
    if soak is not None:
        print(f"mock memory: {memory_before:.1f} MiB before, {memory_after:.1f} MiB after {soak.count} more "
              f"mixed requests ({soak.rate():.0f} req/s, statuses {soak.statuses})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
