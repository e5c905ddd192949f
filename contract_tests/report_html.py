"""The contract run's HTML report (`--html PATH`): one self-contained page, readable without JavaScript.

It holds what the terminal summary says and more: the target, run prefix, seed, counts and time;
the violations and the refuted assumptions as two lists (rule or check, expected and got, the
reproduce command with tokens masked, the place in openapi.yaml); a table of what each operation
was sent (Schemathesis' cases per phase, every request through the gate, the statuses seen); the
clean-up ledger; and links to Schemathesis' own HTML reports written beside it.

Everything that came from the deployment is escaped (`html.escape`), so a hostile server cannot
put markup into the page, and every token of the run is masked by value once more over the whole
page. The file is written atomically (a temporary file in the same folder, then renamed).
"""

from __future__ import annotations

import html
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .findings import Finding

PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass
class OperationRow:
    """What one operation of the spec (or a request outside it) was sent during the run."""

    name: str  # the operationId, or the request's label when the spec has no such operation
    label: str  # METHOD /path/template
    spec: str = ""  # openapi.yaml:LINE (#/paths/...)
    cases: dict[str, int] = field(default_factory=dict)  # Schemathesis phase -> test cases
    requests: int = 0  # every request the gate passed on (rule tests, Schemathesis, its checks, hooks)
    statuses: Counter[int] = field(default_factory=Counter)


@dataclass
class Report:
    target: str
    prefix: str
    seed: int | None
    strict: bool
    read_only: bool
    finished_at: str  # UTC
    seconds: float
    requests: int
    cap: int
    cap_reached: bool
    cases: dict[str, int]  # Schemathesis phase -> test cases
    tests_passed: int
    violations: list[Finding]
    refuted: list[Finding]
    assumptions: dict[str, tuple[str, str]]  # id -> (sentence, openapi.yaml:LINE (pointer))
    operations: list[OperationRow]
    created: list[tuple[str, bool]]  # (experiment id, deleted)
    leftovers: list[str]
    schemathesis_reports: list[tuple[str, str]]  # (phases, relative link)
    notes: list[str] = field(default_factory=list)  # gate refusals, anomalies
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (test, why it was not run)
    deselected: int = 0  # tests a --read-only run leaves out (they write)
    untracked: int = 0  # creates answered with success but no id the run could read (left over, uncounted ids)
    secrets: tuple[str, ...] = field(default=(), repr=False)


def schemathesis_dir(html: str, phases: Iterable[str]) -> Path:
    """Where the Schemathesis process of these phases writes its own report, beside ours:
    `reports/contract.html` -> `reports/contract-schemathesis/coverage-examples/index.html`."""
    path = Path(html).resolve()  # Schemathesis runs in a temporary directory
    return path.parent / f"{path.stem}-schemathesis" / "-".join(phases)


# -- from the run ----------------------------------------------------------------------------------

def from_run(run: Any, path: Path) -> Report:
    """The report of a finished run (a `session.Run`), its links relative to `path`."""
    target, gate, spec = run.target, run.gate, run.assumptions
    results = list(run.schemathesis.values())
    cases: dict[str, int] = {r.phase: r.requests for r in results}
    state = gate.state
    lanes: dict[Path, list[str]] = {}  # one Schemathesis report per process, each of some phases
    for result in results:
        if result.html is not None and result.html.is_file():
            lanes.setdefault(result.html, []).append(result.phase)
    links = [(" + ".join(phases), Path(os.path.relpath(html_path, path.parent)).as_posix())
             for html_path, phases in lanes.items()]
    notes = [f"gate refused {r.method} {r.path}: {r.reason}" for r in state.refusals[:20]]
    notes += [f"note: {a}" for a in state.anomalies[:20]]
    if state.cap_reached:
        notes.insert(0, f"stopped: the request cap ({gate.max_requests}) was reached")
    return Report(
        target=f"embedded mock (appears as {target.base_url})" if target.embedded else target.base_url,
        prefix=run.prefix, seed=target.seed, strict=target.strict, read_only=target.read_only,
        finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        seconds=time.monotonic() - run.started,
        requests=state.sent, cap=gate.max_requests, cap_reached=state.cap_reached,
        cases=cases, tests_passed=len(run.passed),
        violations=run.findings.violations(), refuted=run.findings.refuted(),
        assumptions={key: (a.text, spec.where(key)) for key, a in spec.registry.items()},
        operations=operation_rows(spec, state.statuses, results),
        created=[(c.experiment_id, c.deleted) for c in state.created.values()],
        leftovers=list(run.ledger().left_over), schemathesis_reports=links, notes=notes, secrets=target.secrets,
        skipped=[(s.test, s.reason) for s in run.skipped], deselected=run.deselected, untracked=len(state.untracked))


def operation_rows(spec: Any, statuses: dict[str, Counter[int]], results: Iterable[Any]) -> list[OperationRow]:
    """One row per operation of the spec, in its order, then one per method of the requests the spec has
    no operation for (the gate counts those as `METHOD (no operation)`; the row names the paths tried)."""
    rows: dict[str, OperationRow] = {}
    by_label: dict[str, OperationRow] = {}
    for route in spec.contract.routes:
        for method, operation_id in route.operations.items():
            label = f"{method} {route.template}"
            row = OperationRow(operation_id, label, spec.line_of(("paths", route.template, method.lower())))
            rows[operation_id] = by_label[label] = row
    for result in results:
        for label, seen in result.exercised.items():
            exercised = by_label.get(label)
            if exercised is None:
                method, _, path = label.partition(" ")
                name = f"{method} (no operation)"
                exercised = rows.setdefault(name, OperationRow(name, ""))
                if path and path not in exercised.label.split(", "):
                    exercised.label = ", ".join(filter(None, [exercised.label, path]))
            exercised.cases[result.phase] = exercised.cases.get(result.phase, 0) + seen.cases
    for name, counted in statuses.items():
        requested = rows.get(name)
        if requested is None:  # "METHOD (no operation)": a method or path the spec does not have
            requested = rows[name] = OperationRow(name, "")
        requested.requests += sum(counted.values())
        requested.statuses.update(counted)
    return list(rows.values())


# -- rendering -------------------------------------------------------------------------------------

def write(path: Path, report: Report) -> None:
    """Write the page atomically; the folder is created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(report)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def render(report: Report) -> str:
    """The whole page."""
    page = Page(report.secrets)
    verdict = "fail" if report.violations or (report.strict and report.refuted) else "pass"
    page.add(f'<header class="{verdict}"><h1>Contract run {page.e(report.prefix)}</h1>'
             f'<p class="verdict">{page.e(_verdict(report))}</p><p class="target">{page.e(report.target)}</p>'
             f"{_tiles(page, report)}</header>")
    page.add('<nav><a href="#violations">Violations</a><a href="#refuted">Refuted assumptions</a>'
             '<a href="#not-tested">Not tested</a><a href="#operations">Operations</a><a href="#ledger">Clean-up</a>'
             '<a href="#schemathesis">Schemathesis\' reports</a><a href="#run">The run</a></nav>')
    page.add(_violations(page, report))
    page.add(_refuted(page, report))
    page.add(_not_tested(page, report))
    page.add(_operations(page, report))
    page.add(_ledger(page, report))
    page.add(_schemathesis(page, report))
    page.add(_facts(page, report))
    body = "\n".join(page.parts)
    document = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>Contract run {page.e(report.prefix)}: {page.e(_verdict(report))}</title>"
                f"<style>{CSS}</style></head><body><main>\n{body}\n</main></body></html>\n")
    return page.mask(document)


class Page:
    """Escaping and masking for one page: every text goes through `e`."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = tuple(s for s in secrets if s)
        self.parts: list[str] = []

    def add(self, part: str) -> None:
        if part:
            self.parts.append(part)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***").replace(html.escape(secret), "***")
        return text

    def e(self, value: object) -> str:
        return html.escape(self.mask(str(value)), quote=True)


def _verdict(report: Report) -> str:
    violations, refuted = len(report.violations), len(report.refuted)
    if report.cap_reached:
        return "stopped: the request cap was reached"
    if violations:
        return f"{violations} contract violation{'s' * (violations != 1)}: the deployment broke the contract"
    if refuted and report.strict:
        return f"{refuted} refuted assumption{'s' * (refuted != 1)} (--strict): the run fails"
    if refuted:
        return (f"no violation; {refuted} refuted assumption{'s' * (refuted != 1)}: the deployment differs "
                f"from a mock choice")
    return "no violation, no refuted assumption"


def _tiles(page: Page, report: Report) -> str:
    left = len(report.leftovers) or sum(1 for _, gone in report.created if not gone)
    tiles = [("violations", len(report.violations), "bad" if report.violations else "good"),
             ("refuted assumptions", len(report.refuted), "warn" if report.refuted else "good"),
             ("requests", report.requests, ""),
             ("Schemathesis cases", sum(report.cases.values()), ""),
             ("tests passed", report.tests_passed, ""),
             ("left over", left, "bad" if left else "good"),
             ("seconds", f"{report.seconds:.1f}", "")]
    return '<div class="tiles">' + "".join(
        f'<div class="tile {kind}"><b>{page.e(value)}</b><span>{page.e(name)}</span></div>'
        for name, value, kind in tiles) + "</div>"


def _facts(page: Page, report: Report) -> str:
    phases = ", ".join(f"{phase} {report.cases[phase]}" for phase in PHASES if phase in report.cases) or "none run"
    mode = ", ".join(m for m, on in (("read-only", report.read_only), ("strict", report.strict)) if on) or "default"
    rows = [
        ("Target", report.target),
        ("Run prefix", report.prefix),
        ("Seed", "-" if report.seed is None else report.seed),
        ("Mode", mode),
        ("Finished", f"{report.finished_at}, after {report.seconds:.1f} s"),
        ("Requests", f"{report.requests} (cap {report.cap})"),
        ("Schemathesis cases", f"{sum(report.cases.values())} ({phases})"),
        ("Tests passed", report.tests_passed),
        ("Findings", f"{len(report.violations)} violation(s), {len(report.refuted)} refuted assumption(s)"),
    ]
    pairs = [rows[i:i + 2] for i in range(0, len(rows), 2)]
    cells = "".join("<tr>" + "".join(f"<th>{page.e(k)}</th><td>{page.e(v)}</td>" for k, v in pair) + "</tr>"
                    for pair in pairs)
    notes = "".join(f"<li>{page.e(n)}</li>" for n in report.notes)
    return (f'<section id="run"><h2>The run</h2><table class="facts">{cells}</table>'
            + (f'<ul class="notes">{notes}</ul>' if notes else "") + "</section>")


def _finding(page: Page, finding: Finding, mark: str, spec: str) -> str:
    where = f" on <code>{page.e(finding.operation)}</code>" if finding.operation else ""
    times = f' <span class="count">×{finding.count}</span>' if finding.count > 1 else ""
    head = (f'<h4><span class="mark">{mark}</span> <code class="rule">{page.e(finding.rule)}</code>{where} '
            f'<span class="source">{page.e(finding.source)}</span>{times}</h4>'
            f'<p class="title">{page.e(finding.title.splitlines()[0] if finding.title else "")}</p>')
    fields = []
    for label, text in (("Expected", finding.expected), ("Got", finding.got), ("Reproduce", finding.reproduce)):
        if text:
            fields.append(f'<dt>{label}</dt><dd><pre class="{label.lower()}">{page.e(text)}</pre></dd>')
        if label == "Expected" and finding.diff:
            rows = "".join(f"<tr><td><code>{page.e(path)}</code></td><td><code>{page.e(want)}</code></td>"
                           f"<td><code>{page.e(got)}</code></td></tr>" for path, want, got in finding.diff)
            fields.append('<dt>Differs</dt><dd><table class="diff"><thead><tr><th>field</th><th>expected</th>'
                          f"<th>got</th></tr></thead><tbody>{rows}</tbody></table></dd>")
    if spec:
        fields.append(f'<dt>Spec</dt><dd><code class="spec">{page.e(spec)}</code></dd>')
    return f'<article class="finding">{head}<dl>{"".join(fields)}</dl></article>'


def _not_tested(page: Page, report: Report) -> str:
    by_reason: dict[str, list[str]] = {}
    for test, reason in report.skipped:
        by_reason.setdefault(reason, []).append(test)
    items = "".join(f'<li><p class="reason">{page.e(reason)}</p><ul class="tests">'
                    + "".join(f"<li><code>{page.e(t)}</code></li>" for t in tests) + "</ul></li>"
                    for reason, tests in by_reason.items())
    if report.deselected:
        items += (f'<li><p class="reason">Not run in a --read-only run: {report.deselected} test(s) that write.</p>'
                  "</li>")
    body = f'<ul class="skipped">{items}</ul>' if items else \
        '<p class="none">Nothing: every test of the run was run.</p>'
    return (f'<section id="not-tested"><h2>Not tested <span class="badge">{len(report.skipped)}</span></h2>'
            f'<p class="lede">Tests the run skipped, and why (an option not given, data a read-only run cannot '
            f"make …): what this verdict does not cover.</p>{body}</section>")


def _operation_spec(report: Report, finding: Finding) -> str:
    if finding.spec:
        return finding.spec
    for row in report.operations:
        if finding.operation in (row.label, row.name) and row.spec:
            return row.spec
    return ""


def _violations(page: Page, report: Report) -> str:
    items = "".join(_finding(page, f, "✗", _operation_spec(report, f)) for f in report.violations)
    body = items or '<p class="none">None: the deployment honoured every documented rule the run tried.</p>'
    return (f'<section id="violations"><h2>Contract violations <span class="badge bad">{len(report.violations)}'
            f'</span></h2><p class="lede">Documented behaviour broken, any 5xx, any network failure: '
            f"the deployment is wrong (exit status 1).</p>{body}</section>")


def _refuted(page: Page, report: Report) -> str:
    groups: dict[str, list[Finding]] = {}
    for finding in report.refuted:
        groups.setdefault(finding.assumption or "?", []).append(finding)
    parts = []
    for assumption_id, group in groups.items():
        text, where = report.assumptions.get(assumption_id, ("(not in the spec's x-assumptions registry)", ""))
        evidence = "".join(_finding(page, f, "~", f.spec or where) for f in group)
        parts.append(f'<div class="assumption"><h3><code>{page.e(assumption_id)}</code></h3>'
                     f'<p>{page.e(text)}</p><p class="change">Change: <code class="spec">{page.e(where)}</code></p>'
                     f"{evidence}</div>")
    verdict = "they fail the run (--strict)" if report.strict else \
        "they do not fail the run; update openapi.yaml where production is right"
    body = "".join(parts) or '<p class="none">None: the deployment matched every mock choice the run tried.</p>'
    return (f'<section id="refuted"><h2>Refuted assumptions <span class="badge warn">{len(report.refuted)}</span>'
            f'</h2><p class="lede">The deployment differs from a choice the mock makes where the vendor is '
            f"silent; {page.e(verdict)}.</p>{body}</section>")


def _statuses(page: Page, statuses: Counter[int]) -> str:
    spans = []
    for status, count in sorted(statuses.items()):
        kind = "s5" if status >= 500 or status == 0 else "s4" if status >= 400 else "s2"
        spans.append(f'<span class="status {kind}">{page.e(status or "none")}&nbsp;×{count}</span>')
    return " ".join(spans) or '<span class="muted">none</span>'


def _operations(page: Page, report: Report) -> str:
    phases = [p for p in PHASES if any(p in row.cases for row in report.operations) or p in report.cases]
    head = "".join(f'<th class="num">{p}<div class="muted small">cases</div></th>' for p in phases)
    rows = []
    for row in report.operations:
        untested = not row.requests and not any(row.cases.values())
        cells = "".join(f'<td class="num">{row.cases.get(p, 0)}</td>' for p in phases)
        spec = f'<div class="muted small">{page.e(row.spec)}</div>' if row.spec else ""
        label = f'<div class="small">{page.e(row.label)}</div>' if row.label else ""
        rows.append(f'<tr class="{"untested" if untested else ""}"><td><code>{page.e(row.name)}</code>'
                    f"{label}{spec}</td>{cells}"
                    f'<td class="num">{row.requests}</td><td>{_statuses(page, row.statuses)}</td></tr>')
    return (f'<section id="operations"><h2>What each operation was sent</h2><p class="lede">Schemathesis\' '
            f"test cases per phase, and every request the gate passed on (rule tests, Schemathesis and its "
            f"checks, clean-up) with the statuses the deployment answered.</p>"
            f'<table class="operations"><thead><tr><th>Operation</th>{head}<th class="num">requests</th>'
            f"<th>statuses seen</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def _ledger(page: Page, report: Report) -> str:
    deleted = sum(1 for _, gone in report.created if gone)
    left = report.leftovers or [i for i, gone in report.created if not gone]
    created = len(report.created) + report.untracked
    items = "".join(f'<li><code>{page.e(i)}</code> {"deleted" if gone else "<strong>left over</strong>"}</li>'
                    for i, gone in report.created[:200])
    more = f"<li>… and {len(report.created) - 200} more</li>" if len(report.created) > 200 else ""
    leftover = (f'<p class="bad-text">Could not delete {len(left)}: '
                + ", ".join(f"<code>{page.e(i)}</code>" for i in left) + "</p>") if left else \
        '<p class="good-text">Nothing left over.</p>'
    return (f'<section id="ledger"><h2>Clean-up ledger</h2><p>Created {created} experiment(s) '
            f"named <code>{page.e(report.prefix)}…</code>; deleted {deleted}; left over {len(left)}.</p>{leftover}"
            + (f'<details><summary>Every experiment the run created</summary><ul class="ids">{items}{more}</ul>'
               f"</details>" if items else "") + "</section>")


def _schemathesis(page: Page, report: Report) -> str:
    if report.schemathesis_reports:
        links = "".join(f'<li><a href="{page.e(href)}">{page.e(lane)}</a> <span class="muted small">'
                        f"{page.e(href)}</span></li>" for lane, href in report.schemathesis_reports)
        body = (f"<p>Schemathesis' own reports of its phases (its timeline, every failing case, its replay "
                f"commands pointed at the deployment, tokens masked), kept beside this file:</p><ul>{links}</ul>")
    else:
        body = "<p class=\"muted\">Schemathesis' phases did not run in this run, so it wrote no report of its own.</p>"
    return f'<section id="schemathesis"><h2>Schemathesis\' reports</h2>{body}</section>'


CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--bad:#cf222e;--warn:#9a6700;--good:#1a7f37}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);
background:#fff}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px}
header{border-left:6px solid var(--good);padding:4px 16px 12px;margin-bottom:8px;background:var(--bg)}
.target{margin:0 0 10px;color:var(--muted);font-size:14px}
.tiles{display:flex;flex-wrap:wrap;gap:8px}
.tile{background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px 14px;min-width:110px}
.tile b{display:block;font-size:22px;line-height:1.2;font-variant-numeric:tabular-nums}
.tile span{font-size:12px;color:var(--muted)}
.tile.bad b{color:var(--bad)}.tile.warn b{color:var(--warn)}.tile.good b{color:var(--good)}
nav{display:flex;flex-wrap:wrap;gap:4px 18px;padding:6px 2px 0;font-size:14px}
header.fail{border-color:var(--bad)}
h1{font-size:24px;margin:8px 0 2px}h2{font-size:19px;margin:28px 0 8px;padding-bottom:4px;
border-bottom:1px solid var(--line)}h3{font-size:16px;margin:16px 0 4px}
h4{font-size:15px;margin:0 0 4px;font-weight:400}h4 code{font-size:14px}h4 code.rule{font-weight:700}
.verdict{margin:0 0 8px;font-size:16px}header.fail .verdict{color:var(--bad);font-weight:600}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
pre{margin:0;padding:8px 10px;background:var(--bg);border:1px solid var(--line);border-radius:6px;
white-space:pre-wrap;word-break:break-word;max-height:18em;overflow:auto}
table{border-collapse:collapse}
.facts th{text-align:left;font-weight:600;padding:2px 18px 2px 0;color:var(--muted);vertical-align:top}
.facts td{padding:2px 36px 2px 0;vertical-align:top}
.operations{width:100%}
.operations th,.operations td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
.operations thead th{background:var(--bg);font-size:13px}
.operations tr.untested td{color:var(--muted);background:#fff8c5}
.num{text-align:right!important;font-variant-numeric:tabular-nums}
.small{font-size:12px}.muted{color:var(--muted)}
.status{display:inline-block;padding:0 6px;margin:1px 0;border-radius:10px;font-size:12px;
font-variant-numeric:tabular-nums;white-space:nowrap}
.s2{background:#dafbe1;color:#116329}.s4{background:#fff1c2;color:#7d4e00}.s5{background:#ffebe9;color:#a40e26}
.badge{display:inline-block;min-width:1.6em;padding:0 7px;border-radius:10px;font-size:13px;text-align:center;
vertical-align:middle;background:var(--bg);border:1px solid var(--line)}
.badge.bad{background:#ffebe9;border-color:#ffcecb;color:var(--bad)}
.badge.warn{background:#fff8c5;border-color:#f5e0a0;color:var(--warn)}
.lede{color:var(--muted);margin:0 0 10px}
.finding{border:1px solid var(--line);border-radius:8px;padding:10px 14px;margin:10px 0}
#violations .finding{border-left:4px solid var(--bad)}#refuted .finding{border-left:4px solid var(--warn)}
.finding .mark{color:var(--bad)}#refuted .finding .mark{color:var(--warn)}
.finding .title{margin:0 0 6px}
.source,.count{font-weight:400;color:var(--muted);font-size:13px;margin-left:6px}
dl{display:grid;grid-template-columns:7em 1fr;gap:6px 10px;margin:0}dt{color:var(--muted);font-size:13px;
padding-top:8px}dd{margin:0;min-width:0}
.assumption{border-top:1px dashed var(--line);padding-top:4px}.change{margin:0 0 6px}
.none{color:var(--good)}.good-text{color:var(--good)}.bad-text{color:var(--bad)}
ul.notes{color:var(--warn);margin:8px 0 0;padding-left:18px}
ul.ids{columns:2;font-size:13px}
ul.skipped{padding-left:18px}ul.skipped .reason{margin:6px 0 2px}ul.tests{font-size:13px;columns:2}
table.diff{width:100%;font-size:13px}table.diff th,table.diff td{border-bottom:1px solid var(--line);padding:3px 8px;
text-align:left;vertical-align:top;word-break:break-word}table.diff thead th{background:var(--bg)}
a{color:#0969da}
"""
