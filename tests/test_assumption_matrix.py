"""Proof by variation: the suite's verdict on deployments that differ from the mock in one way each.

* For every id of openapi.yaml's `x-assumptions` registry, a deployment that differs from that
  choice (`variant_deployments.ASSUMPTION_VARIANTS`): the run exits 0 and lists exactly that id
  among refuted assumptions, and no violation.
* For documented rules the suite claims to test and `test_suite_verdicts.py` does not break, a
  deployment that breaks one (`RULE_BREAKERS`): the run exits 1 and names the rule.
* A deployment whose responses look like the vendor's documented examples and carry fields the docs
  do not name: exit 0, and the report says nothing about those fields.
* The registry and the matrix stay in step.

Each run selects only the tests its difference concerns (`-k`) with few examples; runs go two at a
time (the machine has 2 cores), only those of the tests selected.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from starlette.types import ASGIApp
from test_suite_verdicts import MOCK_ARGS, SECRETS
from variant_deployments import (
    ASSUMPTION_VARIANTS,
    EXTRA_FIELDS,
    LABEL,
    LENIENT_RUN,
    RULE_BREAKERS,
    SHARED_RUN,
    variant,
)

from contract_tests.embedded import serve
from mock_server.spec import load_document

ROOT = Path(__file__).resolve().parent.parent
VENDOR = "vendor_examples"


def registry_ids() -> set[str]:
    """The ids of openapi.yaml's x-assumptions registry, read with the project's spec loader."""
    return set(load_document(ROOT / "openapi.yaml").get("x-assumptions") or {})


@dataclass(frozen=True)
class Verdict:
    exit: int
    report: str
    refuted: frozenset[str]  # the ids listed under "refuted assumptions"
    violations: tuple[str, ...]  # the first line of each violation
    junit: tuple[tuple[str, str, str, str], ...]  # (kind, name, assumption, text) of every finding
    seconds: float

    @property
    def findings(self) -> str:
        """The report's findings section (what a person reads), or the tail when there is none."""
        start = self.report.find("contract findings")
        return self.report[start:] if start >= 0 else self.report[-4000:]


VIOLATION_LINE = re.compile(r"^✗ (.+)$", re.M)
REFUTED_LINE = re.compile(r"^~ ([a-z0-9-]+): ", re.M)
SUMMARY = re.compile(r"^violations: (\d+); refuted assumptions: (\d+)", re.M)


def read_verdict(exit_code: int, report: str, junit: Path, seconds: float) -> Verdict:
    summary = SUMMARY.search(report)
    assert summary, f"the run printed no summary line (exit {exit_code}):\n{report[-4000:]}"
    violations = tuple(VIOLATION_LINE.findall(report))
    refuted = frozenset(REFUTED_LINE.findall(report))
    assert len(violations) == int(summary[1]), f"{len(violations)} violation lines, summary says {summary[0]}"
    findings: list[tuple[str, str, str, str]] = []
    if junit.exists():
        for case in ElementTree.parse(junit).getroot().iter("testcase"):
            kind = case.get("classname", "").removeprefix("contract.")
            skipped = case.find("skipped")
            failure = case.find("failure")
            detail = skipped if skipped is not None else failure
            text = "".join(detail.itertext()) if detail is not None else ""
            message = skipped.get("message", "") if skipped is not None else ""
            assumption = message.removeprefix("refuted assumption ") if message else \
                (failure.get("type", "") if failure is not None else "")
            if kind in ("violation", "assumption"):
                findings.append((kind, case.get("name", ""), assumption, text))
    return Verdict(exit_code, report, refuted, violations, tuple(findings), seconds)


SECRET_OPTIONS = {"--token": "CONTRACT_TOKEN", "--other-token": "CONTRACT_OTHER_TOKEN",
                  "--jwt-secret": "CONTRACT_JWT_SECRET"}


def _arguments() -> tuple[list[str], dict[str, str]]:
    """MOCK_ARGS with the secrets moved to the environment (where README says they belong)."""
    args: list[str] = []
    env: dict[str, str] = {}
    pairs = iter(MOCK_ARGS)
    for option in pairs:
        value = next(pairs)
        if option in SECRET_OPTIONS:
            env[SECRET_OPTIONS[option]] = value
        else:
            args += [option, value]
    return args, env


def run_variant(name: str, tmp: Path) -> Verdict:
    chosen = variant(name)
    junit = tmp / f"{name}.xml"
    args, secrets = _arguments()
    with serve(chosen.build(_mock())) as origin:
        command = [sys.executable, "-m", "contract_tests", "--base-url", f"{origin}/api/v2", *args,
                   "--max-examples", str(chosen.max_examples), "--seed", "7", "-k", chosen.keyword,
                   "--junit", str(junit)]
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}, **secrets}
        started = time.monotonic()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        seconds = time.monotonic() - started
    return read_verdict(result.returncode, result.stdout + result.stderr, junit, seconds)


def _mock() -> ASGIApp:
    from mock_server.app import build_app

    return build_app().asgi


ALL = [*ASSUMPTION_VARIANTS, *RULE_BREAKERS, VENDOR]


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, Future[Verdict]]]:
    """Runs the variants of the tests selected, two at a time, longest first; each test waits for its own."""
    mine = [item for item in request.session.items if getattr(item, "module", None) is request.module]
    wanted = [item.callspec.params[key] for item in mine
              if hasattr(item, "callspec") for key in ("assumption_id", "breaker") if key in item.callspec.params]
    if any(item.name == "test_every_finding_of_the_shared_run_is_explained" for item in mine):
        wanted.append(LENIENT_RUN)
    if any(item.name == "test_vendor_examples_pass_quietly" for item in mine):
        wanted.append(VENDOR)
    wanted = [LENIENT_RUN if name in SHARED_RUN else name for name in wanted]
    tmp = tmp_path_factory.mktemp("matrix")
    order = sorted(dict.fromkeys(wanted), key=lambda name: name != LENIENT_RUN)
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        yield {name: pool.submit(run_variant, name, tmp) for name in order}
    finally:
        pool.shutdown(cancel_futures=True)


def _shown(name: str, verdict: Verdict) -> str:
    return (f"{name} ({variant(name).about}): exit {verdict.exit}, refuted {sorted(verdict.refuted)}, "
            f"{len(verdict.violations)} violation(s), {verdict.seconds:.1f} s\n{verdict.findings[:6000]}")


def _clean(name: str, verdict: Verdict) -> None:
    assert not any(secret in verdict.report for secret in SECRETS), f"{name}: a token leaked into the output"
    assert "Traceback" not in verdict.report, verdict.report[-5000:]


# -- the registry and the matrix stay in step -------------------------------------------------------

def test_every_registry_id_has_a_variant() -> None:
    missing = sorted(registry_ids() - set(ASSUMPTION_VARIANTS))
    assert not missing, f"x-assumptions ids without a variant in tests/variant_deployments.py: {missing}"


def test_every_variant_names_a_registry_id() -> None:
    unknown = sorted(set(ASSUMPTION_VARIANTS) - registry_ids())
    assert not unknown, f"variants of ids that are not in openapi.yaml's x-assumptions: {unknown}"


# -- the runs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("assumption_id", list(ASSUMPTION_VARIANTS))
def test_a_deployment_differing_from_one_choice_refutes_exactly_it(
        verdicts: dict[str, Future[Verdict]], assumption_id: str) -> None:
    if assumption_id in SHARED_RUN:
        _shared(verdicts[LENIENT_RUN].result(), assumption_id)
        return
    verdict = verdicts[assumption_id].result()
    _clean(assumption_id, verdict)
    assert verdict.exit == 0 and not verdict.violations, _shown(assumption_id, verdict)
    assert verdict.refuted == {assumption_id}, _shown(assumption_id, verdict)
    assert all(kind == "assumption" and found == assumption_id for kind, _, found, _ in verdict.junit), \
        _shown(assumption_id, verdict)


LABELLED = re.compile(rf'"{LABEL}": "([a-z0-9-]+)"')


def caused_by(name: str, text: str) -> str | None:
    """The variant whose difference a finding of the shared run shows: the label of the lenient answer
    it quotes, or what only one variant does (a 405 turned 404, a summary's 422, the plain list's paging)."""
    labels = set(LABELLED.findall(text))
    if len(labels) == 1:
        return str(labels.pop())
    if name.startswith(("unsupported_method", "allow_header_conformance")):
        return "method-not-allowed"
    if "/experiments/summary/" in name and "[422]" in text:
        return "error-statuses"
    if " GET /experiments/:" in name:
        return "paging-rejected-out-of-range"
    return None


def _shared(verdict: Verdict, assumption_id: str) -> None:
    """One id of the shared run: its findings are exactly those on what its variant did differently."""
    _clean(LENIENT_RUN, verdict)
    assert verdict.exit == 0 and not verdict.violations, _shown(LENIENT_RUN, verdict)
    mine = [(name, found) for _, name, found, text in verdict.junit if caused_by(name, text) == assumption_id]
    named = [(name, caused_by(name, text)) for _, name, found, text in verdict.junit if found == assumption_id]
    assert mine, f"no finding shows {assumption_id}'s difference\n" + _shown(LENIENT_RUN, verdict)
    wrong = [f"{name} -> {found}" for name, found in mine if found != assumption_id] + \
        [f"{name} (shows {cause})" for name, cause in named if cause != assumption_id]
    assert not wrong, f"{assumption_id}: findings under the wrong id: {wrong}\n" + _shown(LENIENT_RUN, verdict)


def test_every_finding_of_the_shared_run_is_explained(verdicts: dict[str, Future[Verdict]]) -> None:
    verdict = verdicts[LENIENT_RUN].result()
    unexplained = [f"{name} [{found}]" for _, name, found, text in verdict.junit if caused_by(name, text) is None]
    assert not unexplained, f"findings no variant explains: {unexplained}\n" + _shown(LENIENT_RUN, verdict)


@pytest.mark.parametrize("breaker", list(RULE_BREAKERS))
def test_a_deployment_breaking_a_documented_rule_fails_naming_it(
        verdicts: dict[str, Future[Verdict]], breaker: str) -> None:
    verdict = verdicts[breaker].result()
    _clean(breaker, verdict)
    assert verdict.exit == 1, _shown(breaker, verdict)
    named = [line for line in RULE_BREAKERS[breaker].shows if not any(v.startswith(line) for v in verdict.violations)]
    assert not named, f"no violation names {named}\n" + _shown(breaker, verdict)


def test_vendor_examples_pass_quietly(verdicts: dict[str, Future[Verdict]]) -> None:
    verdict = verdicts[VENDOR].result()
    _clean(VENDOR, verdict)
    assert verdict.exit == 0 and not verdict.violations, _shown(VENDOR, verdict)
    said = [name for name in EXTRA_FIELDS if name in verdict.findings]
    assert not said, f"the report speaks of fields the docs do not name: {said}\n" + _shown(VENDOR, verdict)


def test_the_variants_are_what_they_claim() -> None:
    """Every variant says in one line how it differs (the report of a failing run shows it)."""
    unexplained = [name for name in [*ALL, LENIENT_RUN] if not variant(name).about]
    assert not unexplained, unexplained

