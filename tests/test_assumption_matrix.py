"""Proof by variation: the suite's verdict on deployments that differ from the mock in known ways.

* For every id of openapi.yaml's `x-assumptions` registry, a deployment that differs from that
  choice (`variant_deployments.ASSUMPTION_VARIANTS`): no violation, and the findings its difference
  causes carry exactly that id.
* For documented rules the suite claims to test and `test_suite_verdicts.py` does not break, a
  deployment that breaks one (`RULE_BREAKERS`): the run exits 1 and names the rule.
* A deployment whose responses look like the vendor's documented examples and carry fields the docs
  do not name (on experiments, beside a step's `type` and `config`, on pages): exit 0, and the report
  says nothing about those fields.
* The registry and the matrix stay in step.

Runs are grouped (`variant_deployments.GROUPS`): five contract runs in all, two at a time, one
deployment each carrying the differences of all its members. Members of a group meet different
tests (rule tests, told apart by the `-k` keyword each variant declares: a rule test's finding names
it) or different operations (Schemathesis' findings name theirs) or label their answers (the coverage
group), so every finding of a grouped run is traced to the one member that caused it, and each member
is judged on its own findings: exactly its id, nothing else, no violation in the run (exit 0).

What grouping weakens: a member's exit status is not seen alone, only its group's (for an assumption
group exit 0 still means no member caused a violation; the breakers' group exits 1 as a whole, and each
breaker must show a violation traced to its own tests or operation). A refuted assumption noted on the
way (`create answers 201` …) names its rule, not its test: it is traced by its id, so a member whose
difference were misread as another member's noted id would go unseen. And a finding on a test or an
operation is taken as its owner's: one caused there by another member's difference fails the owner's
test when it carries another id, but would pass unseen if it carried the owner's own id.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import pytest
from starlette.types import ASGIApp
from test_suite_verdicts import MOCK_ARGS, SECRETS
from variant_deployments import (
    ASSUMPTION_VARIANTS,
    COVERAGE,
    EXAMPLES,
    EXTRA_FIELDS,
    GROUPS,
    LABEL,
    LENIENT_RUN,
    RULE_BREAKERS,
    VENDOR,
    group_of,
    variant,
)

from contract_tests import checks
from contract_tests.client import CONFIGURED
from contract_tests.embedded import serve
from contract_tests.findings import CHECK_ASSUMPTIONS
from mock_server.spec import load_document

ROOT = Path(__file__).resolve().parent.parent


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


def run_group(name: str, tmp: Path) -> Verdict:
    group = GROUPS[name]
    junit = tmp / f"{name}.xml"
    args, secrets = _arguments()
    with serve(group.build(_mock())) as origin:
        command = [sys.executable, "-m", "contract_tests", "--base-url", f"{origin}/api/v2", *args,
                   "--max-examples", str(group.max_examples), "--seed", "7", "-k", group.keyword,
                   "--junit", str(junit)]
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}, **secrets}
        started = time.monotonic()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        seconds = time.monotonic() - started
    return read_verdict(result.returncode, result.stdout + result.stderr, junit, seconds)


def _mock() -> ASGIApp:
    from mock_server.app import build_app

    return build_app().asgi


# Dearest first, so the two lanes finish together: the coverage phase, then Schemathesis' examples.
COST = {LENIENT_RUN: 0, "responses": 1, VENDOR: 1}


@pytest.fixture(scope="module")
def verdicts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, Future[Verdict]]]:
    """Runs the groups the selected tests need, two at a time, dearest first; each test waits for its own."""
    mine = [item for item in request.session.items if getattr(item, "module", None) is request.module]
    wanted: list[str] = []
    for item in mine:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        wanted += [group_of(params[key]) for key in ("assumption_id", "breaker") if key in params]
        wanted += [params["group"]] if "group" in params else []
        wanted += [VENDOR] if item.name == "test_vendor_examples_pass_quietly" else []
    tmp = tmp_path_factory.mktemp("matrix")
    order = sorted(dict.fromkeys(wanted), key=lambda name: COST.get(name, 2))
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        yield {name: pool.submit(run_group, name, tmp) for name in order}
    finally:
        pool.shutdown(cancel_futures=True)


def _shown(name: str, verdict: Verdict) -> str:
    about = GROUPS[name].about if name in GROUPS else variant(name).about
    return (f"{name} ({about}): exit {verdict.exit}, refuted {sorted(verdict.refuted)}, "
            f"{len(verdict.violations)} violation(s), {verdict.seconds:.1f} s\n{verdict.findings[:6000]}")


def _clean(name: str, verdict: Verdict) -> None:
    assert not any(secret in verdict.report for secret in SECRETS), f"{name}: a token leaked into the output"
    assert "Traceback" not in verdict.report, verdict.report[-5000:]


# -- which member of a group a finding shows -----------------------------------------------------------

LABELLED = re.compile(rf'"{LABEL}": "([a-z0-9-]+)"')
SCHEMATHESIS = re.compile(r"^\S+ ((?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE) \S+|Stateful tests): ")
KEYWORD_WORD = re.compile(r"[^\s()]+")


def selects(keyword: str, test: str) -> bool:
    """Whether `pytest -k keyword` selects a rule test by its name (each word a case-insensitive part of it)."""
    code = KEYWORD_WORD.sub(lambda m: m[0] if m[0] in ("and", "or", "not") else
                            str(m[0].lower() in test.lower()), keyword)
    return bool(eval(code, {"__builtins__": {}}))  # only True/False, and, or, not and parentheses are left


def caused_by(name: str, text: str) -> str | None:
    """The variant whose difference a finding of the coverage group shows: the label of the lenient answer
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


def owner(group: str, name: str, assumption: str, text: str) -> str | None:
    """The one member of `group` whose difference a finding shows, or None: a Schemathesis finding by its
    operation (each member keeps to its own), a rule test's by the test it names (each member's keyword
    selects its own), a refuted assumption noted on the way by its id (it names a rule, not a test)."""
    if group == LENIENT_RUN:
        return caused_by(name, text)
    members = GROUPS[group].members
    operation = SCHEMATHESIS.match(name)
    if operation:
        found = [m for m in members if operation[1] in variant(m).operations]
    elif name.startswith("test_"):
        test = name.split(": ", 1)[0]
        found = [m for m in members if variant(m).keyword not in (COVERAGE, EXAMPLES)
                 and selects(variant(m).keyword, test)]
    else:
        found = [m for m in members if m == assumption]
    return found[0] if len(found) == 1 else None


# -- the registry and the matrix stay in step -------------------------------------------------------

def test_every_registry_id_has_a_variant() -> None:
    missing = sorted(registry_ids() - set(ASSUMPTION_VARIANTS))
    assert not missing, f"x-assumptions ids without a variant in tests/variant_deployments.py: {missing}"


def test_every_variant_names_a_registry_id() -> None:
    unknown = sorted(set(ASSUMPTION_VARIANTS) - registry_ids())
    assert not unknown, f"variants of ids that are not in openapi.yaml's x-assumptions: {unknown}"


def test_every_variant_runs_in_exactly_one_group() -> None:
    runs = [name for group in GROUPS.values() for name in group.members]
    assert sorted(runs) == sorted([*ASSUMPTION_VARIANTS, *RULE_BREAKERS, VENDOR]), \
        f"variants in no group or in two: {sorted(set(runs) ^ {*ASSUMPTION_VARIANTS, *RULE_BREAKERS, VENDOR})}"
    mixed = [name for name, group in GROUPS.items() if {m in RULE_BREAKERS for m in group.members} == {True, False}
             and not all(variant(m).operations for m in group.members)]
    assert not mixed, f"groups mixing rule breakers and assumption variants, not traced by operation: {mixed}"


def test_members_of_a_group_meet_different_operations() -> None:
    """Schemathesis' findings are traced by operation, so no two members of a group may share one."""
    for name, group in GROUPS.items():
        operations = [op for member in group.members for op in variant(member).operations]
        assert len(operations) == len(set(operations)), f"{name}: members share operations: {operations}"


def test_selects_reads_a_keyword_as_pytest_does() -> None:
    assert selects("deleted_experiment and GET", "test_deleted_experiment_is_404_everywhere[GET]")
    assert not selects("deleted_experiment and GET", "test_deleted_experiment_is_404_everywhere[PATCH]")
    assert selects("(slugs_alone or derived_fields)", "test_derived_fields_follow_the_data")
    assert not selects("slugs_alone or derived_fields", "test_slugs_are_ignored_when_ids_are_sent")
    assert selects("name_filters and not startswith", "test_name_filters_through_the_list[contains]")


# -- extra keys beside a step's type and config are ignored; a key filled into a config is not ------

def _echo(body: dict[str, Any], shown: dict[str, Any]) -> Any:
    """What the suite's `workflow_echoed_exactly` check says of a create that sent `body` and got `shown`."""
    response = SimpleNamespace(status_code=201, content=json.dumps(shown).encode(),
                               request=SimpleNamespace(method="POST"))
    return checks.workflow_echoed_exactly(None, response, SimpleNamespace(method="POST", path="/experiments/",
                                                                          body=body))


def test_extra_keys_beside_a_step_and_on_an_experiment_are_no_finding() -> None:
    body = {"name": "n", "dataset_id": "ds_1", "evaluator_ids": ["ev"], "workflow": CONFIGURED["workflow"]}
    steps = [{**step, "step_uid": f"s{i}"} for i, step in enumerate(CONFIGURED["workflow"])]
    shown = {"id": "e1", **body, "workflow": steps, "updated_at": "2026-12-07T10:00:00Z", "owner": {"id": "u"}}
    assert _echo(body, shown) is True
    assert checks.field_mismatches(checks.expected_fields(body), shown, exact=True) == []
    assert checks.configuration(shown)["workflow"] == CONFIGURED["workflow"]
    assert "updated_at" not in checks.configuration(shown)


def test_a_key_filled_into_a_step_config_refutes_the_echo() -> None:
    body = {"name": "n", "dataset_id": "ds_1", "evaluator_ids": ["ev"], "workflow": CONFIGURED["workflow"]}
    filled = [{**step, "config": {**step["config"], "max_tokens": 150}} for step in CONFIGURED["workflow"]]
    with pytest.raises(AssertionError, match=r"workflow\[0\]\.config\.max_tokens"):
        _echo(body, {"id": "e1", **body, "workflow": filled})
    # documented: the keys sent come back; an added one is the server's (no violation)
    assert checks.field_mismatches(checks.expected_fields(body), {**body, "workflow": filled}, exact=True) == []
    assert CHECK_ASSUMPTIONS["workflow_echoed_exactly"] == "workflow-echoed-exactly"  # a refuted assumption


# -- the runs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("assumption_id", list(ASSUMPTION_VARIANTS))
def test_a_deployment_differing_from_one_choice_refutes_exactly_it(
        verdicts: dict[str, Future[Verdict]], assumption_id: str) -> None:
    group = group_of(assumption_id)
    verdict = verdicts[group].result()
    _clean(group, verdict)
    traced = [(kind, name, found, owner(group, name, found, text)) for kind, name, found, text in verdict.junit]
    if not any(member in RULE_BREAKERS for member in GROUPS[group].members):
        assert verdict.exit == 0 and not verdict.violations, _shown(group, verdict)
    else:  # beside rule breakers: every violation is a breaker's, on the breaker's own operations
        stray = [f"{name} (shows {who})" for kind, name, _, who in traced
                 if kind == "violation" and who not in RULE_BREAKERS]
        assert not stray, f"violations no rule breaker explains: {stray}\n" + _shown(group, verdict)
    mine = [(kind, name, found) for kind, name, found, who in traced if who == assumption_id]
    assert mine, f"no finding shows {assumption_id}'s difference\n" + _shown(group, verdict)
    wrong = [f"{name} -> {kind} {found}" for kind, name, found in mine
             if (kind, found) != ("assumption", assumption_id)]
    wrong += [f"{name} (shows {who})" for _, name, found, who in traced
              if found == assumption_id and who != assumption_id]
    assert not wrong, f"{assumption_id}: findings under the wrong id: {wrong}\n" + _shown(group, verdict)


@pytest.mark.parametrize("group", [name for name in GROUPS if name != VENDOR])
def test_every_finding_of_a_grouped_run_is_explained(verdicts: dict[str, Future[Verdict]], group: str) -> None:
    verdict = verdicts[group].result()
    unexplained = [f"{name} [{kind} {found}]" for kind, name, found, text in verdict.junit
                   if owner(group, name, found, text) is None]
    assert not unexplained, f"findings no member explains: {unexplained}\n" + _shown(group, verdict)


@pytest.mark.parametrize("breaker", list(RULE_BREAKERS))
def test_a_deployment_breaking_a_documented_rule_fails_naming_it(
        verdicts: dict[str, Future[Verdict]], breaker: str) -> None:
    group = group_of(breaker)
    verdict = verdicts[group].result()
    _clean(group, verdict)
    assert verdict.exit == 1, _shown(group, verdict)
    named = [line for line in RULE_BREAKERS[breaker].shows if not any(v.startswith(line) for v in verdict.violations)]
    assert not named, f"{breaker}: no violation names {named}\n" + _shown(group, verdict)
    mine = [name for kind, name, found, text in verdict.junit
            if kind == "violation" and owner(group, name, found, text) == breaker]
    assert mine, f"{breaker}: no violation is traced to its tests or operation\n" + _shown(group, verdict)


def test_vendor_examples_pass_quietly(verdicts: dict[str, Future[Verdict]]) -> None:
    verdict = verdicts[VENDOR].result()
    _clean(VENDOR, verdict)
    assert verdict.exit == 0 and not verdict.violations, _shown(VENDOR, verdict)
    said = [name for name in EXTRA_FIELDS if name in verdict.findings]
    assert not said, f"the report speaks of fields the docs do not name: {said}\n" + _shown(VENDOR, verdict)


def test_the_variants_are_what_they_claim() -> None:
    """Every variant and group says in one line how it differs (the report of a failing run shows it)."""
    unexplained = [name for name in [*ASSUMPTION_VARIANTS, *RULE_BREAKERS, VENDOR] if not variant(name).about]
    unexplained += [name for name, group in GROUPS.items() if not group.about]
    assert not unexplained, unexplained
