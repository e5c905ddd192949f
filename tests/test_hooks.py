"""The Schemathesis hooks that make generated requests obey the rules a schema cannot say."""

from __future__ import annotations

import pytest

from contract_tests.checks import operation_id_of
from contract_tests.hooks import KNOWN_IDS, RUN_PREFIX, STATE, after_call, confine_target, prepare_body


def test_create_gets_a_fresh_id_that_later_requests_resolve_to():
    body = {"experiment_id": "0", "name": "n"}
    prepare_body("createExperiment", body, None)
    first = body["experiment_id"]
    assert first.startswith(RUN_PREFIX) and body["name"] == f"{RUN_PREFIX} n"
    prepare_body("createExperiment", body, None)  # the same case sent again must not collide
    second = body["experiment_id"]
    assert second != first and body["name"] == f"{RUN_PREFIX} n"
    STATE.add(second)
    path = {"experiment_id": "0"}
    confine_target("deleteExperiment", path, make_throwaway=_no_throwaway)
    assert path == {"experiment_id": second}


def _no_throwaway() -> str:
    raise AssertionError("an owned experiment needs no throwaway")


@pytest.mark.parametrize("operation_id", ["deleteExperiment", "updateExperiment", "replaceExperiment"])
def test_mutations_aimed_elsewhere_go_to_a_throwaway(operation_id):
    path = {"experiment_id": "exp_9f8b7c6d"}
    confine_target(operation_id, path, make_throwaway=lambda: "throwaway-1")
    assert path == {"experiment_id": "throwaway-1"}


def test_reads_and_invalid_ids_are_not_confined():
    for operation_id, value in (("getExperiment", "exp_9f8b7c6d"), ("deleteExperiment", "not valid!")):
        path = {"experiment_id": value}
        confine_target(operation_id, path, make_throwaway=_no_throwaway)
        assert path == {"experiment_id": value}


def test_update_repeats_the_path_id():
    body = {"experiment_id": "other"}
    prepare_body("updateExperiment", body, {"experiment_id": "exp_1"})
    assert body == {"experiment_id": "exp_1"}


def test_invalid_ids_stay_invalid():
    body = {"experiment_id": "not valid!", "dataset_id": 5, "evaluator_ids": [1], "name": "x" * 256}
    prepare_body("createExperiment", body, None)
    assert body == {"experiment_id": "not valid!", "dataset_id": 5, "evaluator_ids": [1], "name": "x" * 256}


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


def test_a_create_without_a_name_gets_the_run_prefix():
    body = {"dataset_id": "ds"}
    prepare_body("createExperiment", body, None)
    assert body["name"] == RUN_PREFIX


def test_a_409_hands_the_next_mutation_a_fresh_experiment():
    """A live backend that started the experiment on its own answers 409: move on to a fresh one."""
    STATE.add("started-on-its-own")

    class Answer:
        status_code = 409

        @staticmethod
        def json():
            return {"detail": "Experiment is running."}

    class Case:
        method, path = "PATCH", "/experiments/{experiment_id}/"
        path_parameters = {"experiment_id": "started-on-its-own"}

    after_call(None, Case(), Answer())
    path = {"experiment_id": "started-on-its-own"}
    confine_target("updateExperiment", path, make_throwaway=lambda: "fresh-1")
    assert path == {"experiment_id": "fresh-1"}


def test_operations_are_named_from_the_spec():
    assert operation_id_of("patch", "/experiments/{experiment_id}/") == "updateExperiment"
    assert operation_id_of("OPTIONS", "/experiments/{experiment_id}/") is None


def test_an_experiment_seen_leaving_pending_is_not_written_again():
    STATE.add("started-on-its-own-2")

    class Answer:
        status_code = 200

        @staticmethod
        def json():
            return {"id": "started-on-its-own-2", "status": "running"}

    class Case:
        method, path = "GET", "/experiments/{experiment_id}/"
        path_parameters = {"experiment_id": "started-on-its-own-2"}

    after_call(None, Case(), Answer())
    assert not STATE.owns("started-on-its-own-2")
