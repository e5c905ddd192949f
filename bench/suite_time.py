"""How long the test runs take: the contract suite's default run against the embedded mock, and
(with --make-test) the whole `make test`. Prints wall-clock seconds; a benchmark, not a test.

    .venv/bin/python bench/suite_time.py [--runs 3] [--make-test]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> tuple[float, str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    return time.monotonic() - started, result.stdout, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="contract suite runs to time (default 3)")
    parser.add_argument("--make-test", action="store_true", help="also time the whole test run once")
    args = parser.parse_args()
    seconds = []
    for _ in range(args.runs):
        elapsed, out, code = timed([sys.executable, "-m", "contract_tests"])
        requests = re.search(r"requests: (\d+)", out)
        seconds.append(elapsed)
        print(f"contract suite, embedded mock: {elapsed:6.1f} s, exit {code}, "
              f"{requests.group(1) if requests else '?'} requests", flush=True)
    print(f"contract suite, embedded mock: median {statistics.median(seconds):.1f} s over {len(seconds)} run(s) "
          f"on {os.cpu_count()} cores")
    if args.make_test:
        elapsed, out, code = timed([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"])
        closing = [line for line in out.splitlines() if " passed" in line or " failed" in line]
        print(f"make test (pytest): {elapsed:6.1f} s, exit {code}: {closing[-1] if closing else '?'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
