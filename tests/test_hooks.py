"""The Schemathesis hooks that make generated requests obey the rules a schema cannot say."""

from __future__ import annotations

from contract_tests.hooks import KNOWN_IDS, RUN_PREFIX, prepare_body


def test_create_gets_a_fresh_run_prefixed_id():
    first, second = {"experiment_id": "0"}, {"experiment_id": "0"}
    prepare_body("createExperiment", first, None)
    prepare_body("createExperiment", second, None)
    assert first["experiment_id"].startswith(RUN_PREFIX) and first != second


def test_update_repeats_the_path_id():
    body = {"experiment_id": "other"}
    prepare_body("updateExperiment", body, {"experiment_id": "exp_1"})
    assert body == {"experiment_id": "exp_1"}


def test_invalid_ids_stay_invalid():
    body = {"experiment_id": "not valid!", "dataset_id": 5, "evaluator_ids": [1]}
    prepare_body("createExperiment", body, None)
    assert body == {"experiment_id": "not valid!", "dataset_id": 5, "evaluator_ids": [1]}


def test_references_point_at_known_resources_and_keep_emptiness():
    body = {"dataset_id": "random", "evaluator_ids": ["a", "b"], "evaluator_workflow_ids": [],
            "evaluator_slugs": ["ignored"]}
    prepare_body("replaceExperiment", body, {"experiment_id": "x"})
    assert body == {"dataset_id": KNOWN_IDS["dataset_id"], "evaluator_ids": [KNOWN_IDS["evaluator_ids"]],
                    "evaluator_workflow_ids": [], "evaluator_slugs": ["ignored"]}


def test_slugs_alone_are_pointed_at_a_known_evaluator():
    body = {"evaluator_slugs": ["random"]}
    prepare_body("updateExperiment", body, {"experiment_id": "x"})
    assert body == {"evaluator_slugs": [KNOWN_IDS["evaluator_ids"]]}


def test_other_operations_are_untouched():
    body = {"experiment_id": "0", "dataset_id": "x"}
    prepare_body("filterExperiments", body, None)
    assert body == {"experiment_id": "0", "dataset_id": "x"}
