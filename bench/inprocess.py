"""CPU time per request of the mock's ASGI app called in-process (no server, no sockets), for this
checkout and any other given (e.g. a `git worktree` of an older commit): a figure that a busy machine
disturbs much less than a load test, for comparing two versions of the code.

    python bench/inprocess.py [--requests N] [OTHER_CHECKOUT ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MEASURE = r'''
import asyncio, json, sys, time
from mock_server.app import build_app
app = build_app().asgi
n = int(sys.argv[1])
PATH = b"/api/v2/experiments/exp_9f8b7c6d/"
def scope(method, body):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": PATH.decode(), "raw_path": PATH, "query_string": b"", "root_path": "",
            "server": ("127.0.0.1", 4010), "client": ("127.0.0.1", 5555),
            "headers": [(b"host", b"127.0.0.1:4010"), (b"authorization", b"Bearer sk_live_acme_dev_4f7d2c9a1b8e"),
                        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
async def one(method, body):
    sent, given = [], []
    async def receive():
        if not given:
            given.append(1)
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}
    async def send(message):
        sent.append(message)
    await app(scope(method, body), receive, send)
    if sent[0]["status"] != 200:
        raise SystemExit(f"{method} answered {sent[0]['status']}")
async def main():
    bodies = [json.dumps({"name": f"Bench run {i}", "batch_size": 1 + i % 500,
                          "description": "x" * (i % 40)}).encode() for i in range(64)]
    for method in ("GET", "PATCH"):
        for i in range(300):
            await one(method, bodies[i % 64] if method == "PATCH" else b"")
        started = time.process_time()
        for i in range(n):
            await one(method, bodies[i % 64] if method == "PATCH" else b"")
        print(method, round((time.process_time() - started) / n * 1e6))
asyncio.run(main())
'''


def measure(checkout: Path, requests: int) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(requests)], cwd=checkout, check=True,
                         capture_output=True, text=True).stdout
    return {method: int(us) for method, us in (line.split() for line in out.splitlines())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="*", type=Path, help="other checkouts to measure beside this one")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is printed")
    args = parser.parse_args()
    checkouts = [ROOT, *args.checkouts]
    figures: dict[Path, list[dict[str, int]]] = {c: [] for c in checkouts}
    for _ in range(args.rounds):
        for checkout in checkouts:
            figures[checkout].append(measure(checkout, args.requests))
    print(f"CPU time per request, in-process, median of {args.rounds} rounds of {args.requests}")
    for checkout, rounds in figures.items():
        medians = {m: sorted(r[m] for r in rounds)[len(rounds) // 2] for m in ("GET", "PATCH")}
        print(f"{str(checkout):40} GET {medians['GET']:5d} us   PATCH {medians['PATCH']:5d} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
