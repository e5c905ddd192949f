"""The linter's command line: `python -m spec_lint [PATH] [--format text|json|github] [--no-mock] [--list-rules]`.

Exit 0 clean (warnings do not fail), 1 an error was found, 2 the file cannot be read, parsed, or is
not a valid OpenAPI 3.0 document.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from mock_server.spec import SPEC_PATH

from .mock_loads import CONNEXION_LOADS
from .registry import RULES, Unreadable, lint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="experiments-lint", description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", default="openapi.yaml" if Path("openapi.yaml").is_file() else str(SPEC_PATH),
                        help="the OpenAPI document (default: ./openapi.yaml, else the packaged one)")
    parser.add_argument("--format", choices=["text", "json", "github"], default="text")
    parser.add_argument("--no-mock", action="store_true",
                        help=f"skip [{CONNEXION_LOADS.id}] (for a spec the mock is not built from)")
    parser.add_argument("--list-rules", action="store_true", help="print each rule's id, severity and check")
    args = parser.parse_args(argv)
    if args.list_rules:
        width = max(len(rule.id) for rule in RULES)
        for rule in RULES:
            print(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.description}")
        return 0
    rules = [rule for rule in RULES if not (args.no_mock and rule is CONNEXION_LOADS)]
    started = time.perf_counter()
    try:
        findings = lint(Path(args.path), display=args.path, rules=rules)
    except Unreadable as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            print(finding.github() if args.format == "github" else finding.text())
    errors = sum(f.severity == "error" for f in findings)
    if args.format == "text":
        print(f"{args.path}: {errors} error(s), {len(findings) - errors} warning(s) "
              f"in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
