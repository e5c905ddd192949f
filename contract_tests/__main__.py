"""`python -m contract_tests`: hold a deployment (or, with no target, the embedded mock) to openapi.yaml.

Exit status: 0 the deployment honours the documented contract (refuted assumptions are listed, and
fail the run only with --strict); 1 it broke it (a contract violation); 2 usage or connection
error, or the request cap was reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from .config import (
    CLI_ENV,
    OPTIONS,
    REQUIRED_WITH_BASE_URL,
    SECRET_OPTIONS,
    SPEC_ENV,
    UsageError,
    resolve,
    warn_secrets_on_command_line,
)

PACKAGE = Path(__file__).resolve().parent


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m contract_tests",
        description="Test a deployment of the Experiments API against openapi.yaml: Schemathesis phases with "
                    "all checks, plus the business rules a schema cannot say. Findings are contract violations "
                    "(exit 1) or refuted assumptions (the deployment differs from a mock choice; listed, exit 0 "
                    "unless --strict). Without --base-url it starts the embedded mock and tests that. Every "
                    "option also reads the environment variable shown.")
    for name, (env, text) in OPTIONS.items():
        notes = [env]
        if name in REQUIRED_WITH_BASE_URL:
            notes.append("required with --base-url")
        if name in SECRET_OPTIONS:
            notes.append("prefer the environment variable: a command line shows in ps")
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar=name.upper(),
                       help=f"{text} [{'; '.join(notes)}]")
    p.add_argument("--read-only", action="store_true", help="run only what changes nothing on the deployment")
    p.add_argument("--strict", action="store_true", help="refuted assumptions fail the run too (exit 1)")
    p.add_argument("--no-progress", action="store_true",
                   help="no live progress display (shown only on a terminal, never when CI is set)")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only tests matching this pytest expression")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    values = {name: getattr(args, name) for name in OPTIONS}
    warn_secrets_on_command_line(values)
    try:
        resolve(values, read_only=args.read_only, strict=args.strict)  # a usage error is one line, before pytest
    except UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    if values.get("spec"):  # before the suite's modules read the spec
        os.environ[SPEC_ENV] = str(Path(str(values["spec"])).resolve())
    pytest_args = [str(PACKAGE), "-p", "no:cacheprovider", "--tb=no", "-q", "--no-header",
                   "-o", "addopts=", "-W", "ignore::DeprecationWarning"]
    os.environ[CLI_ENV] = "1"
    for name, value in values.items():
        if value in (None, ""):
            continue
        if name in SECRET_OPTIONS:  # credentials reach the suite through the environment, as they should
            os.environ[OPTIONS[name][0]] = str(value)
        else:
            pytest_args.append(f"--{name.replace('_', '-')}={value}")
    if args.read_only:
        pytest_args.append("--read-only")
    if args.strict:
        pytest_args.append("--strict-assumptions")
    if args.no_progress:
        pytest_args.append("--no-progress")
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    code = pytest.main(pytest_args)
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return int(code)
    return 2


if __name__ == "__main__":
    sys.exit(main())
