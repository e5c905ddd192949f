"""Unit tests of the pure business rules."""

from __future__ import annotations

import pytest

from mock_server import rules
from mock_server.domain_errors import InvalidValue
from mock_server.errors import from_domain

CATALOG = rules.Catalog(datasets={"ds_1": "One"}, evaluators=frozenset({"ev_a", "ev_b"}),
                        evaluator_workflow_versions=frozenset({"ewv_1"}))
DEFAULTS = {"span_workflow_name": "workflow", "enable_tracing": True, "batch_size": 100, "concurrency": 15}


def experiment(**fields):
    base = rules.new_experiment({"dataset_id": "ds_1", "workflow": [{"type": "wait", "config": {}}],
                                 "evaluator_ids": ["ev_a"]},
                                experiment_id="exp_1", now="2026-11-01T00:00:00Z", defaults=DEFAULTS)
    return {**base, **fields}


def test_evaluator_ids_win_over_slugs_and_slugs_are_dropped():
    assert rules.normalize_request({"evaluator_ids": ["ev_a"], "evaluator_slugs": ["nope"]}) == \
        {"evaluator_ids": ["ev_a"]}


def test_slugs_alone_are_taken_as_ids():
    assert rules.normalize_request({"evaluator_slugs": ["ev_b"]}) == {"evaluator_ids": ["ev_b"]}


def test_legacy_evaluator_step_is_stored_as_eval():
    changes = rules.normalize_request({"workflow": [{"type": "evaluator", "config": {"x": 1}}]})
    assert changes["workflow"] == [{"type": "eval", "config": {"x": 1}}]


def test_body_experiment_id_is_not_a_change():
    assert rules.normalize_request({"experiment_id": "exp_1", "name": "n"}) == {"name": "n"}


def test_body_id_must_equal_path_id():
    rules.check_body_id("exp_1", {"experiment_id": "exp_1"})
    with pytest.raises(InvalidValue) as caught:
        rules.check_body_id("exp_1", {"experiment_id": "exp_2"})
    assert caught.value.field == "experiment_id"


def test_new_experiment_is_pending_with_defaults_and_generated_name():
    record = experiment()
    assert record["status"] == "pending" and record["progress"] == 0
    assert record["name"] == "experiment-exp_1"
    assert {k: record[k] for k in DEFAULTS} == DEFAULTS


def test_default_name_uses_first_eight_characters():
    assert rules.default_name("0123456789abcdef") == "experiment-01234567"


def test_new_experiment_ids_are_32_lowercase_hex():
    ident = rules.new_experiment_id()
    assert len(ident) == 32 and ident == ident.lower() and int(ident, 16) >= 0


def test_apply_changes_keeps_unsent_fields():
    before = experiment(description="keep me")
    after = rules.apply_changes(before, {"name": "renamed"})
    assert after == {**before, "name": "renamed"}


def test_sending_workflow_path_switches_and_clears_evaluators():
    after = rules.apply_changes(experiment(), {"evaluator_workflow_ids": ["ewv_1"]})
    assert after["evaluator_workflow_ids"] == ["ewv_1"] and after["evaluator_ids"] == []


def test_sending_evaluators_switches_back():
    on_workflow = rules.apply_changes(experiment(), {"evaluator_workflow_ids": ["ewv_1"]})
    after = rules.apply_changes(on_workflow, {"evaluator_ids": ["ev_b"]})
    assert after["evaluator_ids"] == ["ev_b"] and after["evaluator_workflow_ids"] == []


def test_emptying_the_only_scoring_path_is_refused():
    with pytest.raises(InvalidValue):
        rules.apply_changes(experiment(), {"evaluator_ids": []})


def test_missing_references_name_every_unknown_id():
    missing = rules.missing_references(
        {"dataset_id": "ds_x", "evaluator_ids": ["ev_a", "ev_x"], "evaluator_workflow_ids": ["ewv_x"]}, CATALOG)
    assert missing == [("Dataset", "ds_x"), ("Evaluator", "ev_x"), ("Evaluator workflow version", "ewv_x")]


def test_locked_fields_only_when_running_and_only_real_changes():
    running = experiment(status="running")
    changes = {"batch_size": 100, "concurrency": 3, "name": "free", "workflow": running["workflow"]}
    assert rules.locked_fields(running, changes) == ["concurrency"]
    assert rules.locked_fields(experiment(status="completed"), changes) == []


def test_plan_update_raises_conflict_naming_fields():
    with pytest.raises(rules.RunningLocked) as caught:
        rules.plan_update(experiment(status="running"), {"dataset_id": "ds_2", "batch_size": 1})
    assert caught.value.fields == ["dataset_id", "batch_size"]
    assert from_domain(caught.value).status_code == 409  # the one place the rules' refusals become HTTP


def test_replacement_restores_defaults_for_omitted_fields():
    assert rules.replacement_changes({"batch_size": 7}, DEFAULTS) == {**DEFAULTS, "batch_size": 7}


def test_present_derives_dataset_count_and_slugs():
    shown = rules.present(experiment(), CATALOG)
    assert shown["dataset"] == shown["dataset_id"] == "ds_1"
    assert shown["dataset_name"] == "One"
    assert shown["workflow_count"] == 1
    assert shown["evaluator_slugs"] == shown["evaluator_ids"] == ["ev_a"]
    assert set(shown) == set(rules.DETAIL_FIELDS)


def test_list_item_has_no_configuration():
    shown = rules.present(experiment(), CATALOG, detail=False)
    assert set(shown) == set(rules.LIST_ITEM_FIELDS)


RECORDS = [
    {"name": "Alpha test", "status": "running", "created_at": "2026-11-01T00:00:00Z",
     "dataset_id": "ds_1"},
    {"name": "beta", "status": "failed", "created_at": "2026-11-02T00:00:00Z", "dataset_id": None},
    {"name": "Gamma TEST", "status": "completed", "created_at": "2026-11-03T00:00:00+00:00",
     "dataset_id": "ds_2"},
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), [
    ("name", "", "beta", ["beta"]),
    ("name", "iexact", "BETA", ["beta"]),
    ("name", "contains", "test", ["Alpha test"]),
    ("name", "icontains", "test", ["Alpha test", "Gamma TEST"]),
    ("name", "startswith", "Al", ["Alpha test"]),
    ("name", "startswith", "al", []),
    ("name", "endswith", "TEST", ["Gamma TEST"]),
    ("status", "in", ["running", "failed"], ["Alpha test", "beta"]),
    ("status", "not", "running", ["beta", "Gamma TEST"]),
    ("dataset_id", "isnull", True, ["beta"]),
    ("dataset_id", "isnull", False, ["Alpha test", "Gamma TEST"]),
    ("name", "lt", "Gamma", ["Alpha test"]),
    ("created_at", "gte", "2026-11-02T00:00:00Z", ["beta", "Gamma TEST"]),
    ("created_at", "lt", "2026-11-02T00:00:00+00:00", ["Alpha test"]),
    ("created_at", "", "2026-11-03T00:00:00Z", ["Gamma TEST"]),
])
def test_filter_operators(field, operator, value, expected):
    found = rules.filter_experiments(RECORDS, {field: {"operator": operator, "value": value}})
    assert [r["name"] for r in found] == expected


def test_filters_combine_with_and():
    found = rules.filter_experiments(RECORDS, {"name": {"operator": "icontains", "value": "test"},
                                               "status": {"operator": "", "value": "completed"}})
    assert [r["name"] for r in found] == ["Gamma TEST"]


@pytest.mark.parametrize(("sort_by", "expected"), [
    ("-created_at", ["Gamma TEST", "beta", "Alpha test"]),
    ("created_at", ["Alpha test", "beta", "Gamma TEST"]),
    ("name", ["Alpha test", "beta", "Gamma TEST"]),
    ("-name", ["Gamma TEST", "beta", "Alpha test"]),
])
def test_sorting(sort_by, expected):
    assert [r["name"] for r in rules.sort_experiments(RECORDS, sort_by)] == expected


def test_paginate_reports_neighbours():
    page = rules.paginate(list(range(5)), page=2, page_size=2)
    assert page.items == [2, 3] and page.count == 5 and page.has_next and page.has_previous
    last = rules.paginate(list(range(5)), page=3, page_size=2)
    assert last.items == [4] and not last.has_next
    beyond = rules.paginate(list(range(5)), page=9, page_size=2)
    assert beyond.items == [] and not beyond.has_next
