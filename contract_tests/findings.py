"""What a contract run found: contract violations and refuted assumptions, one model for every report.

A **violation** is documented behaviour broken, any 5xx, any network failure: the deployment is
wrong (exit status 1). A **refuted assumption** is the deployment differing from a choice the
mock makes where the vendor is silent (an `x-assumption` of openapi.yaml): it tells the team what
production does, and where in the spec to change the mock to match (exit status 0 unless
`--strict`).

Findings come from the rule tests (`RuleBroken` raised by `client.expect`), from Schemathesis'
NDJSON report (`from_schemathesis`: every failure of every check, and every error) and from the
gate (network failures). Equal findings are counted once, with the first example kept.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from .assumptions import STRICT_INPUT, Assumptions

# The kinds and the checks' assumptions are attribution's; they are named here too, as before the move.
from .attribution import ASSUMPTION as ASSUMPTION
from .attribution import CHECK_ASSUMPTIONS as CHECK_ASSUMPTIONS
from .attribution import IGNORED as IGNORED
from .attribution import VIOLATION as VIOLATION
from .attribution import Exchange, classify_check, judge_request, judge_response
from .diff import lines as diff_lines
from .gate import GATE_HEADER, Created


@dataclass
class Finding:
    kind: str  # VIOLATION | ASSUMPTION
    source: str  # "rule test", "schemathesis <phase>", "gate"
    rule: str  # the rule test or Schemathesis check
    title: str
    operation: str | None = None
    assumption: str | None = None
    expected: str = ""
    got: str = ""
    reproduce: str = ""
    spec: str = ""
    count: int = 1
    diff: tuple[tuple[str, str, str], ...] = ()  # (field path, expected, got) of every field that differs

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.kind, self.rule, self.operation, self.assumption, self.title.splitlines()[0] if self.title else "")


@dataclass(frozen=True)
class SentRequest:
    """A request as the suite sent it (to the gate), for a reproduce line (`Reproducer.curl_of`)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)


class RuleBroken(AssertionError):
    """A rule test's expectation that failed, with what the report needs to show it (the request that
    showed it travels with it; the run's reproducer turns it into curl lines)."""

    def __init__(self, rule: str, expected: str, got: str, request: SentRequest | None = None, *,
                 assumption: str | None = None, server_fault: bool = False,
                 diff: tuple[tuple[str, str, str], ...] = ()) -> None:
        self.rule, self.expected, self.got, self.request = rule, expected, got, request
        self.assumption = None if server_fault else assumption
        self.server_fault = server_fault
        self.diff = diff
        lines = [f"Rule broken: {rule}", f"Expected: {expected}", f"Got: {got}"]
        lines += [f"Differs: {line}" for line in diff_lines(list(diff))]
        if request is not None:
            lines.append(f"Request: {request.method} {request.url}")
        if self.assumption:
            lines.insert(0, f"Refuted assumption: {self.assumption}")
        super().__init__("\n".join(lines))


class FindingLog:
    """Every finding of the run, deduplicated, in the order found."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[Any, ...], Finding] = {}

    def add(self, finding: Finding) -> None:
        with self._lock:
            known = self._by_key.get(finding.key)
            if known is None:
                self._by_key[finding.key] = finding
            else:
                known.count += finding.count

    def extend(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.add(finding)

    def all(self) -> list[Finding]:
        with self._lock:
            return list(self._by_key.values())

    def violations(self) -> list[Finding]:
        return [f for f in self.all() if f.kind == VIOLATION]

    def refuted(self) -> list[Finding]:
        return [f for f in self.all() if f.kind == ASSUMPTION]


# -- reproduce lines -------------------------------------------------------------------------------

MAX_SHOWN_BODY = 4000  # characters of a request body a reproduce line shows
_SKIP_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent", "accept",
                           "x-schemathesis-testcaseid"})


@dataclass
class Reproducer:
    """Turns a request sent through the gate into curl lines against the deployment itself, with
    every token masked by value, preceded by the create that makes an experiment of the run again."""

    gate_base: str
    target_base: str
    secrets: tuple[str, ...] = field(repr=False)
    created: Callable[[str], Created | None] = field(repr=False, default=lambda _id: None)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def url(self, url: str) -> str:
        return self.target_base + url[len(self.gate_base):] if url.startswith(self.gate_base) else url

    def curl(self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes | None) -> str:
        lines = [self._create_line(experiment_id) for experiment_id in self._run_ids(url)]
        parts = ["curl", "-X", method.upper()]
        for name, value in headers:
            if name.lower() not in _SKIP_HEADERS:
                parts += ["-H", f"{name}: {value}"]
        if body:
            text = body.decode("utf-8", "replace")
            if len(text) > MAX_SHOWN_BODY:
                text = f"{text[:MAX_SHOWN_BODY]}… ({len(body)} bytes; cut here)"
            parts += ["--data-raw", text]
        parts.append(self.url(url))
        lines.append(" ".join(shlex.quote(p) for p in parts))
        return self.mask("\n".join(line for line in lines if line))

    def curl_of(self, request: SentRequest) -> str:
        return self.curl(request.method, request.url, request.headers, request.body)

    def _run_ids(self, url: str) -> list[str]:
        return [part for part in urlsplit(url).path.split("/") if part and self.created(part) is not None]

    def _create_line(self, experiment_id: str) -> str:
        created = self.created(experiment_id)
        if created is None:
            return ""
        try:
            body = json.loads(created.body)
        except ValueError:
            return ""
        if isinstance(body, dict):
            body.setdefault("experiment_id", experiment_id)  # the same id again
        parts = ["curl", "-X", "POST", "-H", f"Authorization: {created.authorization}",
                 "-H", "Content-Type: application/json", "--data-raw", json.dumps(body),
                 f"{self.target_base}/experiments/"]
        return "# first create the experiment again:\n" + " ".join(shlex.quote(p) for p in parts)


# -- Schemathesis' NDJSON report -----------------------------------------------------------------

def from_schemathesis(path: Path, assumptions: Assumptions, reproducer: Reproducer) -> Iterator[tuple[str, Finding]]:
    """(phase, finding) for every failure of every check, and every error, in one Schemathesis NDJSON report."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield from findings_of_event(json.loads(line), assumptions, reproducer)


def findings_of_event(event: dict[str, Any], assumptions: Assumptions,
                      reproducer: Reproducer) -> Iterator[tuple[str, Finding]]:
    """(phase, finding) of one event of Schemathesis' NDJSON report (also read while the run goes on)."""
    if "ScenarioFinished" in event:
        phase = str(event["ScenarioFinished"].get("phase"))
        for finding in _scenario_findings(event["ScenarioFinished"]["recorder"], phase, assumptions, reproducer):
            yield phase, finding
    elif "NonFatalError" in event:
        error = event["NonFatalError"]
        phase = str(error.get("phase"))
        yield phase, Finding(VIOLATION, f"schemathesis {phase}", "error", _error_title(error),
                             operation=error.get("label"),
                             got=reproducer.mask(json.dumps(error.get("value"))[:800]))
    elif "FatalError" in event:
        yield "", Finding(VIOLATION, "schemathesis", "fatal error", "Schemathesis could not run",
                          got=reproducer.mask(json.dumps(event["FatalError"])[:800]))


def count_cases(path: Path) -> dict[str, int]:
    """How many test cases a Schemathesis NDJSON report recorded per phase (each sent at least one request)."""
    counts: dict[str, int] = {}
    if not path.exists():
        return counts
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith('{"ScenarioFinished"'):
                finished = json.loads(line)["ScenarioFinished"]
                phase = str(finished.get("phase"))
                counts[phase] = counts.get(phase, 0) + len(finished["recorder"].get("interactions", {}))
    return counts


def _error_title(error: dict[str, Any]) -> str:
    value = error.get("value")
    if isinstance(value, dict):
        return str(value.get("message") or value.get("type") or value)[:200]
    return str(value)[:200]


def _scenario_findings(recorder: dict[str, Any], phase: str, assumptions: Assumptions,
                       reproducer: Reproducer) -> Iterator[Finding]:
    cases = recorder.get("cases", {})
    interactions = recorder.get("interactions", {})
    for case_id, checks in recorder.get("checks", {}).items():
        for check in checks:
            if check.get("status") != "failure":
                continue
            failure = (check.get("failure_info") or {}).get("failure") or {}
            case = (cases.get(case_id) or {}).get("value") or {}
            interaction = interactions.get(case_id) or {}
            response = interaction.get("response") or {}
            if _header(response, GATE_HEADER):
                continue  # answered by the gate, not the deployment: reported as a gate finding
            exchange = exchange_of(case, interaction, assumptions)
            kind, assumption, why = classify_check(check["name"], exchange, assumptions)
            if kind == IGNORED:
                continue
            request = interaction.get("request") or {}
            message = str(failure.get("message") or "")
            yield Finding(
                kind, f"schemathesis {phase}", check["name"], str(failure.get("title") or check["name"]),
                operation=recorder.get("label"), assumption=assumption,
                expected=reproducer.mask(f"{why}\n{message}" if why else message),
                got=reproducer.mask(_describe_response(response)),
                reproduce=reproducer.curl(request.get("method", case.get("method", "GET")), request.get("uri", ""),
                                          _headers(request), _content(request)),
                spec=_place(check["name"], exchange, assumption, assumptions))


def _place(check: str, exchange: Exchange, assumption: str | None, assumptions: Assumptions) -> str:
    """The line of the spec to change for a refuted assumption: for a schema failure, where the failing
    keyword (or its mark) is written, as the proxy reports it; otherwise the assumption's first mark."""
    if not assumption:
        return ""
    if check in ("response_schema_conformance", "negative_data_rejection"):
        judged = judge_response(exchange, assumptions) if check == "response_schema_conformance" \
            else judge_request(exchange, assumptions)
        for finding in judged:
            if finding.assumption == assumption and finding.where:
                return finding.where
    return assumptions.where(assumption)


def _classify(check: str, case: dict[str, Any], interaction: dict[str, Any],
              assumptions: Assumptions) -> tuple[str, str | None, str]:
    """(kind, assumption id, why) of one failed check (`attribution.classify_check` on the exchange)."""
    return classify_check(check, exchange_of(case, interaction, assumptions), assumptions)


def exchange_of(case: dict[str, Any], interaction: dict[str, Any], assumptions: Assumptions) -> Exchange:
    """The exchange a Schemathesis case and its recorded interaction hold, for `attribution`."""
    request = interaction.get("request") or {}
    response = interaction.get("response") or {}
    return Exchange(
        operation_id=assumptions.operation_id(str(case.get("method", "")), str(case.get("path", ""))),
        method=str(case.get("method", "")),
        path_params=case.get("path_parameters") or {},
        query=case.get("query") or {},
        request_headers={name.lower(): value for name, value in _headers(request)},
        request_body=_content(request),
        status=int(response.get("status_code") or 0),
        response_headers={name.lower(): value for name, value in _headers(response)},
        response_body=_content(response),
    )


def _content(message: dict[str, Any]) -> bytes | None:
    body = message.get("body") if "body" in message else message.get("content")
    if isinstance(body, dict) and "$base64" in body:
        return base64.b64decode(body["$base64"])
    if isinstance(body, str):
        return body.encode()
    return None


def _headers(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in (message.get("headers") or {}).items() for value in values]


def _header(message: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in _headers(message) if k.lower() == name), None)


MAX_SHOWN_RESPONSE = 4000  # characters of a response body a finding shows (the differing fields come first)


def shown_body(status: int | str | None, text: str, limit: int = MAX_SHOWN_RESPONSE) -> str:
    """`[status] body` as a finding shows it, saying where and how much it cut."""
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text)} characters; cut here)"
    return f"[{status}] {text}"


def _describe_response(response: dict[str, Any]) -> str:
    if not response:
        return "(no response)"
    return shown_body(response.get("status_code"), (_content(response) or b"").decode("utf-8", "replace"))


# -- reports ---------------------------------------------------------------------------------------

def render(findings: FindingLog, assumptions: Assumptions, *, strict: bool) -> list[str]:
    """The two lists as terminal lines (empty when the run found nothing)."""
    lines: list[str] = []
    violations, refuted = findings.violations(), findings.refuted()
    if violations:
        lines.append(f"== contract violations ({len(violations)}): documented behaviour broken, 5xx, network failures")
        for finding in violations:
            lines += _finding_lines("✗", finding)
    if refuted:
        verdict = "fail the run (--strict)" if strict else \
            "do not fail the run; update openapi.yaml if production is right"
        lines.append(f"== refuted assumptions ({len(refuted)}): the deployment differs from a mock choice; "
                     f"these {verdict}")
        by_id: dict[str, list[Finding]] = {}
        for finding in refuted:
            by_id.setdefault(finding.assumption or STRICT_INPUT, []).append(finding)
        for assumption_id, group in by_id.items():
            lines.append(f"~ {assumption_id}: {assumptions.text(assumption_id)}")
            lines.append(f"    change: {assumptions.where(assumption_id)}")
            for finding in group[:3]:
                lines += _finding_lines("  evidence:", finding, indent="      ")
            if len(group) > 3:
                lines.append(f"      … and {len(group) - 3} more finding(s) of this assumption")
    return lines


def _finding_lines(mark: str, finding: Finding, indent: str = "    ") -> list[str]:
    where = f" on {finding.operation}" if finding.operation else ""
    times = f" (×{finding.count})" if finding.count > 1 else ""
    lines = [f"{mark} {finding.rule}{where} [{finding.source}]{times}: {finding.title.splitlines()[0]}"]
    differs = "\n".join(diff_lines(list(finding.diff)))
    for label, text in (("expected", finding.expected), ("differs", differs), ("got", finding.got),
                        ("reproduce", finding.reproduce)):
        if text:
            first, *rest = text.splitlines() or [""]
            lines.append(f"{indent}{label}: {first}")
            lines += [f"{indent}  {line}" for line in rest]
    return lines


# Characters XML 1.0 cannot hold (C0 controls but tab, newline and carriage return; lone surrogates;
# U+FFFE/U+FFFF): a generated body may carry them into a curl line, and a JUnit file must stay well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 cannot hold written as a visible escape (`\\x00`)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else
                        f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class Skipped:
    """A test the run did not run, and why (an option not given, data a read-only run cannot make …)."""

    test: str
    reason: str


@dataclass(frozen=True)
class Ledger:
    """What the run created on the deployment and what it left there."""

    created: int = 0
    deleted: int = 0
    left_over: tuple[str, ...] = ()  # ids the run could not delete; untracked creates are named as such


def write_junit(path: Path, findings: FindingLog, passed: Iterable[str], *, strict: bool,
                skipped: Iterable[Skipped] = (), ledger: Ledger | None = None) -> None:
    """One test case per finding (a failure for a violation, skipped for a refuted assumption unless
    strict), one per rule test that passed, one per test not run (skipped, with its reason) and, with a
    ledger, one for the clean-up (a failure when the run left experiments on the deployment). Every
    text is made XML-safe, so the file is well-formed whatever the deployment answered."""
    all_findings = findings.all()
    passed = list(passed)
    skipped = list(skipped)
    left = len(ledger.left_over) if ledger else 0
    failures = sum(1 for f in all_findings if f.kind == VIOLATION or strict) + (1 if left else 0)
    refuted_skips = 0 if strict else sum(f.kind == ASSUMPTION for f in all_findings)
    tests = len(all_findings) + len(passed) + len(skipped) + (1 if ledger else 0)
    suite = ElementTree.Element("testsuite", name="contract", tests=str(tests), failures=str(failures),
                                errors="0", skipped=str(refuted_skips + len(skipped)))
    if ledger is not None:
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (("created", ledger.created), ("deleted", ledger.deleted), ("left_over", left)):
            ElementTree.SubElement(properties, "property", name=name, value=str(value))
    for name in passed:
        ElementTree.SubElement(suite, "testcase", classname="contract.rules", name=xml_text(name))
    for test in skipped:
        case = ElementTree.SubElement(suite, "testcase", classname="contract.rules", name=xml_text(test.test))
        ElementTree.SubElement(case, "skipped", message=xml_text(test.reason[:500]))
    for finding in all_findings:
        name = f"{finding.rule}{' ' + finding.operation if finding.operation else ''}: {finding.title.splitlines()[0]}"
        case = ElementTree.SubElement(suite, "testcase", classname=f"contract.{finding.kind}", name=xml_text(name))
        text = "\n".join(_finding_lines("", finding))
        if finding.kind == VIOLATION or strict:
            element = ElementTree.SubElement(case, "failure", message=xml_text(finding.title.splitlines()[0][:200]),
                                             type=finding.assumption or finding.kind)
        else:
            element = ElementTree.SubElement(case, "skipped", message=f"refuted assumption {finding.assumption}")
        element.text = xml_text(text + (f"\nchange: {finding.spec}" if finding.spec else ""))
    if ledger is not None:
        summary = f"clean-up: created {ledger.created}, deleted {ledger.deleted}, left over {left}"
        case = ElementTree.SubElement(suite, "testcase", classname="contract.cleanup", name=summary)
        if left:
            failure = ElementTree.SubElement(case, "failure", message=f"{left} experiment(s) left on the deployment",
                                             type="leftovers")
            failure.text = xml_text("\n".join(ledger.left_over))
    root = ElementTree.Element("testsuites")
    root.append(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
