"""A contract split across files: bundled into the document it was split from, served, linted and held
to by the contract suite, with line numbers that point into the file where a node is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from split_contract import split
from starlette.testclient import TestClient

from mock_server.app import build_app
from mock_server.bundle import BundleError, bundle
from mock_server.spec import load_document

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": "Bearer sk_live_acme_dev_4f7d2c9a1b8e"}


@pytest.fixture(scope="module")
def split_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return split(ROOT / "openapi.yaml", tmp_path_factory.mktemp("split"))


def line_at(path: Path, line: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[line - 1]


def test_a_split_contract_bundles_into_the_document_it_was_split_from(split_root):
    bundled = bundle(split_root)
    assert len(bundled.files) == 4 and bundled.split
    # Every reference stays a reference: the same components, the same $refs, nothing copied inline.
    assert bundled.document == load_document(ROOT / "openapi.yaml")


def test_a_single_file_is_taken_as_written():
    single = bundle(ROOT / "openapi.yaml")
    assert not single.split and single.origins == {}
    assert single.document == yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))


def test_each_node_is_placed_in_the_file_where_it_is_written(split_root):
    bundled = bundle(split_root)
    file, line, _ = bundled.where(("components", "schemas", "Experiment"))
    assert file.name == "schemas.yaml" and line_at(file, line) == "Experiment:"
    file, line, _ = bundled.where(("paths", "/experiments/", "post", "operationId"))
    assert file == split_root.parent / "paths" / "experiments.yaml"
    assert line_at(file, line).strip() == "operationId: createExperiment"
    file, line, _ = bundled.where(("info", "title"))
    assert file == split_root and line_at(file, line).strip() == "title: Experiments API"
    assert bundled.name(file) == str(split_root)


def test_the_mock_serves_a_split_contract_as_one_document(split_root):
    with TestClient(build_app(spec_path=split_root).asgi, base_url="http://127.0.0.1:4010") as client:
        served = client.get("/api/v2/openapi.json").json()
        created = client.post("/api/v2/experiments/", headers=AUTH, json={
            "dataset_id": "ds_7a6b5c4d", "evaluator_ids": ["helpfulness"],
            "workflow": [{"type": "completion", "config": {"model": "gpt-4o"}}]})
    assert created.status_code == 201, created.text
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in yaml.safe_load((ROOT / "openapi.yaml").read_text()).items() if k != "servers"}


def test_the_linter_reads_a_split_contract_and_points_into_the_file_of_the_finding(split_root, tmp_path):
    pytest.importorskip("openapi_spec_validator", reason="the [lint] extra (test-floor/test-newest run without)")
    from spec_lint.registry import lint

    assert [f for f in lint(split_root) if f.severity == "error"] == []
    broken = split(ROOT / "openapi.yaml", tmp_path / "broken")
    schemas = broken.parent / "schemas.yaml"
    with schemas.open("a", encoding="utf-8") as fh:
        fh.write("NeverRegistered:\n  type: string\n  x-assumption: never-registered\n")
    text = broken.read_text(encoding="utf-8")
    assert "\ncomponents:\n  schemas:\n" in text
    broken.write_text(text.replace("\ncomponents:\n  schemas:\n", "\ncomponents:\n  schemas:\n    NeverRegistered:\n"
                                   "      $ref: schemas.yaml#/NeverRegistered\n"), encoding="utf-8")
    findings = [f for f in lint(broken, rules=_rules("assumption-marks")) if "never-registered" in f.message]
    assert len(findings) == 1 and findings[0].path == str(schemas)
    assert line_at(schemas, findings[0].line).strip() == "x-assumption: never-registered"


def _rules(rule_id: str):
    from spec_lint.registry import RULES_BY_ID

    return [RULES_BY_ID[rule_id]]


def test_the_contract_suite_holds_the_mock_to_a_split_contract(split_root):
    pytest.importorskip("schemathesis", reason="the [contract] extra (make test-floor/test-newest run without it)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    result = subprocess.run([sys.executable, "-m", "contract_tests", "--spec", str(split_root), "--max-examples", "2",
                             "-k", "test_rules_reads and summary or schema_conformance and examples"],
                            cwd=ROOT, env=clean, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "violations: 0" in result.stdout and " passed" in result.stdout


@pytest.mark.parametrize(("change", "message"), [
    (lambda root: (root.parent / "common.yaml").unlink(), "cannot read"),
    (lambda root: (root.parent / "schemas.yaml").write_text("Other: {type: string}\n"), "has no node at #/"),
    (lambda root: (root.parent / "schemas.yaml").write_text("a: [1, 2\n"), "schemas.yaml:2:1: not valid YAML"),
])
def test_a_reference_that_cannot_be_followed_is_one_clear_line(tmp_path, change, message):
    root = split(ROOT / "openapi.yaml", tmp_path)
    change(root)
    with pytest.raises(BundleError, match=message):
        bundle(root)
    result = subprocess.run([sys.executable, "-m", "mock_server", "--spec", str(root)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message.split(":")[-1].strip() in result.stderr


def test_a_node_of_another_file_that_contains_a_reference_to_itself_needs_a_name(tmp_path):
    (tmp_path / "tree.yaml").write_text("Node:\n  type: object\n  properties:\n    child: {$ref: '#/Node'}\n")
    (tmp_path / "openapi.yaml").write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
                                           "x-tree: {$ref: 'tree.yaml#/Node'}\n")
    with pytest.raises(BundleError, match="name that node under the root file's components"):
        bundle(tmp_path / "openapi.yaml")
    (tmp_path / "openapi.yaml").write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
                                           "components: {schemas: {Node: {$ref: 'tree.yaml#/Node'}}}\n")
    node = bundle(tmp_path / "openapi.yaml").document["components"]["schemas"]["Node"]
    assert node["properties"]["child"] == {"$ref": "#/components/schemas/Node"}
