"""Which HTTP server should carry the mock? Each candidate serves the same mock (bench/mock_asgi.py, or
`python -m mock_server` for the one we ship) and gets the same probes from issue 17, one server at a time:

* a 64 MiB request head that never ends, and a 30 MiB pipelined flood on one connection that never
  reads: the server's memory growth (whole process tree) and the worst wait of a normal GET sent on
  another connection meanwhile;
* four slow connections at once (nothing sent; stalled in its headers; a header byte every 4 s; one byte
  after an answer): seconds until the server closed each (capped at --slow-cap);
* PATCH throughput at 16 connections, and the plain Starlette app on uvicorn in the same run (the
  baseline of `make bench`), as a ratio.

Hypercorn and Granian are not dependencies of the kit: to compare them, install them into the venv first
(`.venv/bin/pip install hypercorn==0.18.0 granian==2.8.7`); a candidate whose server is missing is skipped.
Bounded: every probe has a byte budget, a deadline, and every read a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import read_response, run_load  # noqa: E402
from run import EXPERIMENT, KEY, ROOT, free_port, requests_for, start  # noqa: E402

MIB = 1024 * 1024
GET = f"GET /api/v2/experiments/{EXPERIMENT}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\r\n"


def candidates(port: int) -> dict[str, list[str]]:
    py = sys.executable
    app_dir = ["--app-dir", "bench"]
    return {
        "uvicorn httptools (before)": [py, "-m", "uvicorn", *app_dir, "mock_asgi:app", "--http", "httptools",
                                       "--log-level", "error", "--port", str(port)],
        "uvicorn h11, 64 KiB head": [py, "-m", "uvicorn", *app_dir, "mock_asgi:app", "--http", "h11",
                                     "--h11-max-incomplete-event-size", "65536", "--log-level", "error",
                                     "--port", str(port)],
        "hypercorn 0.18 (h11)": [py, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "--log-level", "error",
                                 "--keep-alive", "5", "--read-timeout", "10", "bench.mock_asgi:app"],
        "granian 2.8 (1 worker)": [py, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                                   "--port", str(port), "--http", "1", "--no-ws", "--log-level", "error",
                                   "--http1-header-read-timeout", "10000", "--working-dir", "bench", "mock_asgi:app"],
        "mock (as shipped)": [py, "-m", "mock_server", "--log-level", "error", "--port", str(port)],
    }


def tree_rss_mib(pid: int) -> float:
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total / 1024


async def normal_gets(port: int, stop: asyncio.Event, waits: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while not stop.is_set():
            began = time.perf_counter()
            writer.write(GET.encode())
            try:
                await asyncio.wait_for(read_response(reader), 30)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                waits.append(30.0)
                return
            waits.append(time.perf_counter() - began)
            await asyncio.sleep(0.01)
    finally:
        writer.close()


async def _push(writer: asyncio.StreamWriter, chunks: int, chunk: bytes, deadline: float) -> str:
    for _ in range(chunks):
        if time.monotonic() > deadline:
            return "still reading at the deadline"
        try:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), max(0.1, deadline - time.monotonic()))
        except (TimeoutError, ConnectionError):
            return "stopped reading (backpressure or closed)"
    return "took it all"


async def flood(pid: int, port: int, head: bytes, chunk: bytes, chunks: int) -> tuple[float, float, str, str]:
    """Send `head` then `chunks` x `chunk` on one connection that never reads; the peak memory growth,
    the worst normal GET meanwhile, what the sender saw, and what the server answered (first line)."""
    stop, waits = asyncio.Event(), []
    base = tree_rss_mib(pid)
    peak = base
    load = asyncio.create_task(normal_gets(port, stop, waits))
    await asyncio.sleep(0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    sending = asyncio.create_task(_push(writer, chunks, chunk, time.monotonic() + 20))
    while not sending.done():
        peak = max(peak, tree_rss_mib(pid))
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    peak = max(peak, tree_rss_mib(pid))
    answer = "nothing"
    with contextlib.suppress(TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        line = await asyncio.wait_for(reader.readline(), 2)
        answer = line.decode("latin-1").strip() or "closed"
    writer.close()
    stop.set()
    await load
    return peak - base, max(waits or [float("nan")]) * 1000, sending.result(), answer


async def closed_after(port: int, prelude: bytes, drip: bytes | None, cap: float) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    try:
        if prelude:
            writer.write(prelude)
            if prelude == GET.encode():
                await asyncio.wait_for(read_response(reader), 10)
                writer.write(b"G")
        while time.monotonic() - began < cap:
            try:
                data = await asyncio.wait_for(reader.read(65536), 4 if drip else cap)
                if not data:
                    return time.monotonic() - began
            except TimeoutError:
                if drip:
                    writer.write(drip)
            except ConnectionError:
                return time.monotonic() - began
        return float("inf")
    finally:
        writer.close()


async def probe(pid: int, port: int, cap: float) -> dict[str, str]:
    big_head = b"GET /api/v2/experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    head = await flood(pid, port, big_head, b"a" * MIB, 64)
    pipelined = GET.encode() * (MIB // len(GET))
    piped = await flood(pid, port, b"", pipelined, 30)
    slow = await asyncio.gather(
        closed_after(port, b"", None, cap),
        closed_after(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", None, cap),
        closed_after(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", b"a", cap),
        closed_after(port, GET.encode(), None, cap))
    return {
        "64 MiB head: +MiB / GET max ms / answer": f"+{head[0]:.0f} / {head[1]:.0f} / {head[3][:40]}",
        "30 MiB pipelined: +MiB / GET max ms": f"+{piped[0]:.0f} / {piped[1]:.0f} ({piped[2]})",
        "closed after s (idle/stalled/drip/after answer)": " / ".join(
            "never" if s == float("inf") else f"{s:.0f}" for s in slow),
    }


def patch_rate(port: int, seconds: float) -> float:
    requests = requests_for(port)["PATCH"]
    asyncio.run(run_load("127.0.0.1", port, requests, connections=16, seconds=1.0, max_requests=2000))
    result = asyncio.run(run_load("127.0.0.1", port, requests, connections=16, seconds=seconds,
                                  max_requests=200_000))
    return result.rate()


@dataclass
class Measured:
    name: str
    probes: dict[str, str]
    patch: float
    starlette: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], help="measure only servers whose name has this")
    parser.add_argument("--seconds", type=float, default=6.0, help="each PATCH load phase")
    parser.add_argument("--slow-cap", type=float, default=70.0, help="stop waiting for a slow connection to close")
    args = parser.parse_args()
    sport = free_port()
    starlette, _ = start([sys.executable, "-m", "uvicorn", "--app-dir", "bench", "bare_starlette:app",
                          "--log-level", "warning", "--no-access-log", "--port", str(sport)], sport)
    rows = []
    try:
        for name, command in candidates(0).items():
            if args.only and not any(o in name for o in args.only):
                continue
            module = command[2]
            if module in ("hypercorn", "granian") and importlib.util.find_spec(module) is None:
                print(f"{name}: skipped ({module} is not installed)", flush=True)
                continue
            port = free_port()
            command = [port_arg.replace(":0", f":{port}") if isinstance(port_arg, str) else port_arg
                       for port_arg in candidates(port)[name]]
            proc, _ = start(command, port, ROOT)
            try:
                rate = patch_rate(port, args.seconds)
                base = patch_rate(sport, args.seconds)
                probes = asyncio.run(probe(proc.pid, port, args.slow_cap))
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            rows.append(Measured(name, probes, rate, base))
            print(f"{name}: PATCH {rate:.0f} req/s, starlette {base:.0f} -> {rate / base:.2f}x; {probes}",
                  flush=True)
    finally:
        starlette.terminate()
        starlette.wait(timeout=10)
    print()
    keys = list(rows[0].probes) if rows else []
    print("| server | PATCH / plain Starlette | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for row in rows:
        print(f"| {row.name} | {row.patch / row.starlette:.2f}x ({row.patch:.0f} req/s) | "
              + " | ".join(row.probes[k] for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
