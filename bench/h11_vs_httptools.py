"""PATCH throughput of the same mock app on uvicorn with httptools and with h11, interleaved (3 rounds of
3 s at 16 connections each), so that a busy machine disturbs both alike. Prints the req/s of each round."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import run_load  # noqa: E402
from run import free_port, requests_for, start  # noqa: E402


def main() -> int:
    py = sys.executable
    servers = {}
    variants = {"httptools": ["--http", "httptools"],
                "h11": ["--http", "h11", "--h11-max-incomplete-event-size", "65536"]}
    try:
        for name, extra in variants.items():
            port = free_port()
            command = [py, "-m", "uvicorn", "--app-dir", "bench", "mock_asgi:app", *extra, "--log-level", "error",
                       "--port", str(port)]
            servers[name] = (start(command, port)[0], port)
        rates: dict[str, list[int]] = {name: [] for name in servers}
        for _ in range(3):
            for name, (_, port) in servers.items():
                result = asyncio.run(run_load("127.0.0.1", port, requests_for(port)["PATCH"], connections=16,
                                              seconds=3, max_requests=100_000))
                rates[name].append(round(result.rate()))
        print(rates)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
