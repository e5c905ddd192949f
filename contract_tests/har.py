"""A HAR recording (the validating proxy's `--record`, or any HAR of the API's traffic) judged by the
suite's attribution, as a contract run's findings: `python -m contract_tests.har FILE.har [--html PATH]`.

Each entry is one exchange; it is judged again with `attribution.judge_exchange` (the proxy's own
judgement, the same code as the suite's), so a recording made with an older contract is judged by
the current one. Exit 0 when no violation was found (refuted assumptions listed), 1 otherwise (or
with `--strict` a refuted assumption too), 2 when the file cannot be read. Nothing is sent anywhere.

Why not Schemathesis: `st replay` replays Schemathesis' own stored crashes, and Schemathesis 4.32
writes HAR (`--report har`) but reads none; and re-sending a recording's writes to a deployment
would change it, with the tokens masked in the file anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mock_server.spec import SPEC_PATH

from . import report_html
from .assumptions import Assumptions
from .attribution import ASSUMPTION, ContractFinding, Exchange, judge_exchange, judge_request
from .findings import Finding, FindingLog, Reproducer, render


def exchanges(path: Path, assumptions: Assumptions,
              base_path: str = "/api/v2") -> Iterator[tuple[str, Exchange, bool]]:
    """(reproduce line, exchange, answered by the deployment) of each entry of a HAR file whose URL lies
    under `base_path` (the proxy's recordings say who answered: an answer the proxy gave itself, a
    refusal or a 502, is no answer of the deployment's)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    reproducer = Reproducer("", "", ())
    for entry in document.get("log", {}).get("entries", []):
        request, response = entry.get("request") or {}, entry.get("response") or {}
        split = urlsplit(str(request.get("url", "")))
        at = split.path.find(base_path + "/")
        if at < 0:
            continue
        found = assumptions.contract.route_for(split.path[at:])
        method = str(request.get("method", "GET")).upper()
        operation_id = found[0].operations.get(method) if found else None
        request_headers = {str(h["name"]).lower(): str(h["value"]) for h in request.get("headers", [])}
        response_headers = {str(h["name"]).lower(): str(h["value"]) for h in response.get("headers", [])}
        request_text = (request.get("postData") or {}).get("text")
        response_text = (response.get("content") or {}).get("text")
        query: dict[str, Any] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            query[name] = [*query[name], value] if isinstance(query.get(name), list) else \
                [query[name], value] if name in query else value
        request_body = request_text.encode() if isinstance(request_text, str) else None
        exchange = Exchange(operation_id, method, found[1] if found else {}, query, request_headers, request_body,
                            int(response.get("status") or 0), response_headers,
                            response_text.encode() if isinstance(response_text, str) else None)
        curl = reproducer.curl(method, str(request.get("url", "")), request_headers.items(), request_body)
        yield curl, exchange, entry.get("_answeredBy", "upstream") in ("upstream", "mock")


def judge(path: Path, assumptions: Assumptions) -> tuple[FindingLog, dict[str, Counter[int]], int]:
    """The findings of every exchange of a recording (deduplicated), the statuses per operation, and
    how many exchanges it held."""
    log = FindingLog()
    statuses: dict[str, Counter[int]] = {}
    count = 0
    for curl, exchange, answered in exchanges(path, assumptions):
        count += 1
        name = exchange.operation_id or f"{exchange.method} (no operation)"
        statuses.setdefault(name, Counter())[exchange.status] += 1
        if exchange.operation_id is None:
            continue
        judged = judge_exchange(exchange, assumptions) if answered else judge_request(exchange, assumptions)
        for finding in judged:
            log.add(as_finding(finding, exchange, curl))
    return log, statuses, count


def as_finding(finding: ContractFinding, exchange: Exchange, reproduce: str = "") -> Finding:
    """A proxy finding in the contract run's model (for its terminal lines and HTML report)."""
    return Finding(finding.kind, f"proxy ({finding.direction})", finding.rule, finding.message,
                   operation=exchange.operation_id, assumption=finding.assumption,
                   expected=f"spec: {finding.where}", got=f"[{exchange.status}]", reproduce=reproduce,
                   spec=finding.where if finding.kind == ASSUMPTION else "")


def report(path: Path, assumptions: Assumptions, *, target: str, strict: bool, started: float) -> report_html.Report:
    """The HTML report of a recording, in the contract run's format."""
    findings, statuses, count = judge(path, assumptions)
    return report_html.Report(
        target=target, prefix=f"proxy session {path.name}", seed=None, strict=strict, read_only=False,
        finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), seconds=time.monotonic() - started,
        requests=count, cap=0, cap_reached=False, cases={}, tests_passed=0,
        violations=findings.violations(), refuted=findings.refuted(),
        assumptions={key: (a.text, assumptions.where(key)) for key, a in assumptions.registry.items()},
        operations=report_html.operation_rows(assumptions, statuses, []), created=[], leftovers=[],
        schemathesis_reports=[], notes=[f"{count} exchange(s) recorded through the validating proxy in {path.name}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_tests.har", description=__doc__.splitlines()[0])
    parser.add_argument("har", type=Path, help="the HAR file (e.g. the proxy's --record FILE)")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="the contract (default: the packaged one)")
    parser.add_argument("--html", type=Path, help="also write the contract run's HTML report of it here")
    parser.add_argument("--strict", action="store_true", help="refuted assumptions fail too")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        assumptions = Assumptions(args.spec)
        findings, _, count = judge(args.har, assumptions)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot read {args.har}: {exc}", file=sys.stderr)
        return 2
    for line in render(findings, assumptions, strict=args.strict):
        print(line)
    violations, refuted = len(findings.violations()), len(findings.refuted())
    print(f"{args.har}: {count} exchange(s); violations: {violations}; refuted assumptions: {refuted}")
    if args.html:
        report_html.write(args.html, report(args.har, assumptions, target=str(args.har), strict=args.strict,
                                            started=started))
    return 1 if violations or (args.strict and refuted) else 0


if __name__ == "__main__":
    sys.exit(main())
