"""Unit tests of schema translation and of DRF-style error reporting."""

from __future__ import annotations

import pytest

from mock_server.errors import FieldErrors
from mock_server.spec import Contract, load_document
from mock_server.validation import SchemaValidator, to_json_schema


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(load_document())


def validator(contract: Contract, name: str) -> SchemaValidator:
    return SchemaValidator(contract.dereferenced(contract.schema(name)),
                           read_only_fields=contract.response_only_fields)


def test_nullable_becomes_a_null_type_and_enum_member():
    assert to_json_schema({"type": "string", "nullable": True, "enum": ["a"]}) == \
        {"type": ["string", "null"], "nullable": True, "enum": ["a", None]}


def test_translation_keeps_nested_positions():
    schema = {"properties": {"a": {"type": "integer", "nullable": True}}}
    assert to_json_schema(schema)["properties"]["a"]["type"] == ["integer", "null"]


def test_valid_body_has_no_errors(contract):
    assert validator(contract, "ExperimentPatch").errors({"name": "ok", "description": None}) == {}


def test_every_error_is_reported_once_per_field(contract):
    errors = validator(contract, "ExperimentPatch").errors(
        {"name": "", "batch_size": 0, "concurrency": 1000, "generation_method": "magic", "status": "x"})
    assert errors == {
        "name": ["This field may not be blank."],
        "batch_size": ["Ensure this value is greater than or equal to 1."],
        "concurrency": ["Ensure this value is less than or equal to 100."],
        "generation_method": ['"magic" is not a valid choice.'],
        "status": ["This field is read-only."],
    }


def test_unknown_field_is_not_called_read_only(contract):
    assert validator(contract, "ExperimentPatch").errors({"colour": 1}) == {"colour": ["Unknown field."]}


def test_type_messages(contract):
    errors = validator(contract, "ExperimentPatch").errors(
        {"name": 5, "batch_size": "5", "enable_tracing": "yes", "workflow": {}})
    assert errors["name"] == ["Not a valid string."]
    assert errors["batch_size"] == ["A valid integer is required."]
    assert errors["enable_tracing"] == ["Must be a valid boolean."]
    assert errors["workflow"] == ['Expected a list of items but got type "dict".']


def test_cross_field_rule_uses_the_spec_message(contract):
    errors = validator(contract, "ExperimentPatch").errors(
        {"evaluator_slugs": ["a"], "evaluator_workflow_ids": ["b"]})
    assert errors == {"non_field_errors": [contract.schema("OneScoringPathAtMost")["x-error-message"]]}


def test_slugs_beside_ids_are_ignored_by_the_exclusivity_rule(contract):
    body = {"evaluator_ids": [], "evaluator_slugs": ["a"], "evaluator_workflow_ids": ["b"]}
    assert validator(contract, "ExperimentPatch").errors(body) == {}


def test_discriminator_reports_errors_of_the_chosen_step_only(contract):
    errors = validator(contract, "Workflow").errors(
        [{"type": "completion", "config": {"top_p": 2}}, {"type": "wait"}, {"type": "nope", "config": {}}, 7])
    assert errors == {
        "0.config.model": ["This field is required."],
        "0.config.top_p": ["Ensure this value is less than or equal to 1."],
        "1.config": ["This field is required."],
        "2.type": ['"nope" is not a valid choice.'],
        "3": ['Expected a dictionary of items but got type "int".'],
    }


def test_root_level_type_error_is_a_non_field_error(contract):
    assert list(validator(contract, "ExperimentPatch").errors([])) == ["non_field_errors"]


def test_validate_raises_field_errors(contract):
    with pytest.raises(FieldErrors) as caught:
        validator(contract, "ExperimentCreate").validate({})
    assert set(caught.value.errors) == {"dataset_id", "workflow", "non_field_errors"}


# -- bounded reporting --------------------------------------------------------------------------------

def test_errors_past_the_first_ones_are_counted_not_listed(contract):
    found = validator(contract, "ExperimentPatch").find({f"field_{i}": i for i in range(30)}, limit=10)
    assert len(found.details) == 10 and found.omitted == 20 and not found.partial


def test_a_list_past_its_max_items_is_checked_one_item_past_it(contract):
    steps = [{"type": "wait", "config": {}}] * 60 + [{"type": "nope", "config": {}}]
    found = validator(contract, "ExperimentPatch").find({"workflow": steps})
    assert [(d.field, d.message) for d in found.details] == [
        ("workflow", "Ensure this field has no more than 50 elements.")]
    assert found.partial  # the bad step past the cut was not looked at


def test_cutting_a_long_list_adds_no_error_of_its_own(contract):
    valid = validator(contract, "ExperimentPatch")
    assert valid.errors({"workflow": [{"type": "wait", "config": {}}] * 50}) == {}
    assert valid.errors({"evaluator_ids": [f"e{i}" for i in range(51)]}) == {
        "evaluator_ids": ["Ensure this field has no more than 50 elements."]}


def test_the_number_of_errors_does_not_make_reporting_slow(contract):
    import time

    started = time.perf_counter()
    with pytest.raises(FieldErrors) as caught:
        validator(contract, "ExperimentPatch").validate({"workflow": [1] * 200_000})
    assert time.perf_counter() - started < 1
    assert caught.value.partial and caught.value.omitted > 0 and len(caught.value.details) == 50
