"""What a contract run hands a CI and a person: findings that name the fields that differ, a JUnit file
that is well-formed whatever the deployment sent (with the tests not run and the clean-up in it),
credentials taken from the environment, and every assumption id the suite uses in the registry."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contract_tests import checks
from contract_tests.__main__ import main
from contract_tests.assumptions import Assumptions
from contract_tests.config import spec_path, warn_secrets_on_command_line
from contract_tests.diff import differences, lines
from contract_tests.findings import (
    ASSUMPTION,
    CHECK_ASSUMPTIONS,
    VIOLATION,
    Finding,
    FindingLog,
    Ledger,
    RuleBroken,
    Skipped,
    render,
    write_junit,
    xml_text,
)

ROOT = Path(__file__).resolve().parent.parent


# -- diffs -------------------------------------------------------------------------------------------

def test_a_diff_names_each_differing_field_with_both_values() -> None:
    expected = {"name": "x", "batch_size": 37, "workflow": [{"type": "completion", "config": {"model": "m"}}],
                "enable_tracing": False}
    got = {"name": "x", "batch_size": 100, "workflow": [{"type": "completion", "config": {}}], "enable_tracing": 0}
    assert lines(differences(expected, got)) == [
        "batch_size: expected 37, got 100",
        'workflow[0].config.model: expected "m", got (absent)',
        "enable_tracing: expected false, got 0",  # a boolean is not a number, however Python compares them
    ]


def test_a_long_value_is_cut_in_the_diff_but_the_field_is_named() -> None:
    entries = differences({"description": "a" * 5000, "name": "n"}, {"description": "b" * 5000, "name": "n"})
    assert len(entries) == 1 and entries[0][0] == "description" and "(5002 characters)" in entries[0][1]


def test_the_workflow_is_judged_by_the_keys_sent() -> None:
    sent = [{"type": "evaluator", "config": {"model": "gpt-4o-mini"}}]
    filled = [{"type": "eval", "config": {"model": "gpt-4o-mini", "temperature": 1.0, "max_tokens": 150}}]
    assert checks.workflow_differences(sent, filled) == []  # the documented completion defaults filled in
    changed = [{"type": "eval", "config": {"model": "other"}}]
    assert [e[0] for e in checks.workflow_differences(sent, changed)] == ["workflow[0].config.model"]


def test_fields_the_docs_do_not_name_or_the_response_leaves_out_are_not_compared() -> None:
    expected = {"batch_size": 37, "updated_at": "then", "description": "d"}
    shown = {"batch_size": 37, "updated_at": "now"}  # no description: the vendor makes it optional
    assert checks.field_mismatches(expected, shown, exact=True) == []
    assert checks.field_mismatches(expected, {"batch_size": 100}, exact=True) == [("batch_size", "37", "100")]


def test_a_finding_shows_its_diff_in_the_terminal_lines() -> None:
    log = FindingLog()
    broken = RuleBroken("PATCH changes exactly the fields sent", "…", "from: [200] {…}",
                        diff=tuple(differences({"batch_size": 37}, {"batch_size": 100})))
    log.add(Finding(VIOLATION, "rule test", "test_patch", broken.rule, expected=broken.expected, got=broken.got,
                    diff=broken.diff))
    text = "\n".join(render(log, Assumptions(spec_path()), strict=False))
    assert "differs: batch_size: expected 37, got 100" in text
    assert "Differs: batch_size: expected 37, got 100" in str(broken)


# -- JUnit ---------------------------------------------------------------------------------------------

def test_junit_is_well_formed_whatever_the_deployment_sent(tmp_path: Path) -> None:
    log = FindingLog()
    hostile = "curl --data-raw '{\"name\": \"\x00\x1b[31m\ud800\ufffe\"}' ]]> <x/> &amp;"
    log.add(Finding(VIOLATION, "schemathesis fuzzing", "not_a_server_error", "Server error \x00",
                    got=hostile, reproduce=hostile, operation="POST /experiments/"))
    log.add(Finding(ASSUMPTION, "rule test", "test_x", "create answers 201", assumption="create-status-201",
                    got="[202] {}"))
    path = tmp_path / "junit.xml"
    write_junit(path, log, ["test_ok"], strict=False,
                skipped=[Skipped("test_a_valid_dashboard_jwt_is_accepted", "a valid dashboard JWT needs --jwt-secret")],
                ledger=Ledger(created=3, deleted=2, left_over=("exp_1",)))
    root = ET.parse(path).getroot()  # a parser, as a CI's JUnit publisher reads it
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "2")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    failure = next(c for name, c in cases.items() if name and name.startswith("not_a_server_error")).find("failure")
    assert failure is not None and "\\x00" in (failure.text or "") and "\\ud800" in (failure.text or "")
    assert "<x/>" in (failure.text or "")  # escaped, not markup
    skip = cases["test_a_valid_dashboard_jwt_is_accepted"].find("skipped")
    assert skip is not None and skip.get("message") == "a valid dashboard JWT needs --jwt-secret"
    cleanup = cases["clean-up: created 3, deleted 2, left over 1"].find("failure")
    assert cleanup is not None and cleanup.text == "exp_1"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"created": "3", "deleted": "2", "left_over": "1"}


def test_xml_text_keeps_what_xml_can_hold() -> None:
    assert xml_text("tab\tnewline\nemoji 🙂 é") == "tab\tnewline\nemoji 🙂 é"
    assert xml_text("\x00\x07\x1f") == "\\x00\\x07\\x1f"


# -- credentials and the command line -------------------------------------------------------------------

def test_a_token_on_the_command_line_is_warned_about() -> None:
    out = io.StringIO()
    assert warn_secrets_on_command_line({"token": "sk_x", "dataset_id": "ds"}, out)
    assert "--token on the command line is visible" in out.getvalue() and "CONTRACT_TOKEN" in out.getvalue()
    assert "sk_x" not in out.getvalue()
    quiet = io.StringIO()
    assert not warn_secrets_on_command_line({"token": None, "dataset_id": "ds"}, quiet) and not quiet.getvalue()


def test_the_command_line_warns_and_a_missing_required_option_is_one_line(capsys: pytest.CaptureFixture[str],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONTRACT_TOKEN", "CONTRACT_DATASET_ID", "CONTRACT_EVALUATOR_ID", "CONTRACT_EVALUATOR_WORKFLOW_ID"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--base-url", "http://127.0.0.1:9/api/v2", "--token", "sk_on_the_command_line"]) == 2
    err = capsys.readouterr().err
    assert "warning: --token on the command line" in err
    assert "usage error: testing a deployment needs --dataset-id (CONTRACT_DATASET_ID)" in err
    assert "sk_on_the_command_line" not in err


def test_the_help_marks_the_required_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from contract_tests.__main__ import parser

    monkeypatch.setenv("COLUMNS", "400")  # one line per option, no word split at a hyphen
    text = parser().format_help()
    for option in ("--token", "--dataset-id", "--evaluator-id", "--evaluator-workflow-id"):
        assert re.search(re.escape(option) + r" \S+\s+[^[]*\[CONTRACT_\w+; required with --base-url", text), option


# -- assumption ids ---------------------------------------------------------------------------------------

def test_every_assumption_id_the_suite_uses_is_in_the_registry() -> None:
    registry = set(Assumptions(spec_path()).registry)
    used: set[str] = set()
    for source in (ROOT / "contract_tests").glob("*.py"):
        text = source.read_text()
        used |= set(re.findall(r"assumption\(\s*\"([a-z0-9-]+)\"", text))
        used |= set(re.findall(r"assumption=\"([a-z0-9-]+)\"", text))
    filters = (ROOT / "contract_tests" / "test_rules_filters.py").read_text()  # the last item of each case
    used |= set(CHECK_ASSUMPTIONS.values()) | set(re.findall(r"\"(filter-[a-z0-9-]+)\"\),?\s*$", filters, re.M))
    assert {"slugs-not-looked-up", "reference-404", "success-statuses", "jwt-claims",
            "filter-case-sensitivity", "workflow-echoed-exactly"} <= used
    assert used <= registry, f"ids the suite uses that openapi.yaml's x-assumptions lacks: {sorted(used - registry)}"
