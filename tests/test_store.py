"""Unit tests of the store: ownership of state, atomic writes, reset."""

from __future__ import annotations

import threading

import pytest

from mock_server.domain_errors import DuplicateExperimentId, ExperimentNotFound
from mock_server.fixtures import load_world
from mock_server.spec import Contract, load_document
from mock_server.store import Store


@pytest.fixture
def store() -> Store:
    return Store(load_world(Contract(load_document())))


def test_keys_map_to_organizations(store):
    assert store.organization_for_key("sk_live_acme_dev_4f7d2c9a1b8e") == "org_acme"
    assert store.organization_for_key("sk_live_unknown") is None


def test_get_is_scoped_by_organization(store):
    assert store.get("org_acme", "exp_9f8b7c6d")["name"]
    with pytest.raises(ExperimentNotFound):
        store.get("org_globex", "exp_9f8b7c6d")


def test_failed_plan_changes_nothing(store):
    before = dict(store.get("org_acme", "exp_9f8b7c6d"))

    def plan(current):
        raise ValueError("refused")

    with pytest.raises(ValueError):
        store.update("org_acme", "exp_9f8b7c6d", plan)
    assert store.get("org_acme", "exp_9f8b7c6d") == before


def test_insert_refuses_a_taken_id_without_building(store):
    built = []
    with pytest.raises(DuplicateExperimentId) as caught:
        store.insert("org_acme", "exp_9f8b7c6d", build=lambda: built.append(1) or {})
    assert built == [] and caught.value.experiment_id == "exp_9f8b7c6d"


def test_delete_then_not_found(store):
    store.delete("org_acme", "exp_9f8b7c6d")
    with pytest.raises(ExperimentNotFound):
        store.delete("org_acme", "exp_9f8b7c6d")


def test_reset_restores_the_fixture_world(store):
    store.delete("org_acme", "exp_9f8b7c6d")
    store.update("org_acme", "4f1c2a9be07d4d3f8a61c0d5e2b7f913",
                 lambda r: {**r, "name": "changed"})
    store.reset()
    assert store.exists("org_acme", "exp_9f8b7c6d")
    assert store.get("org_acme", "4f1c2a9be07d4d3f8a61c0d5e2b7f913")["name"] == "Checkout assistant tone check"


def test_concurrent_updates_from_threads_never_lose_a_field(store):
    fields = [f"f{i}" for i in range(8)]
    barrier = threading.Barrier(len(fields))

    def worker(name: str) -> None:
        barrier.wait()
        for n in range(200):
            store.update("org_acme", "exp_9f8b7c6d", lambda r, n=n: {**r, name: n})

    threads = [threading.Thread(target=worker, args=(f,)) for f in fields]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record = store.get("org_acme", "exp_9f8b7c6d")
    assert {f: record[f] for f in fields} == dict.fromkeys(fields, 199)
