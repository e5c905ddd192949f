"""The spec linter (spec_lint): each rule of the registry fails its broken case with its id, at the
broken node; the small base spec and the real openapi.yaml lint clean; the command line's promises."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.spec import LineIndex, json_pointer
from spec_lint import RULES, RULES_BY_ID, lint
from spec_lint.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_RULES = [rule for rule in RULES if rule.id != "connexion-loads"]  # the base spec is not the mock's

# The smallest spec every rule passes: create, read and change a widget. Its `config` is a free-form
# value (`additionalProperties: true` inside a closed body), which the request-body rule allows.
BASE = yaml.safe_load("""
openapi: 3.0.3
info:
  title: Widgets
  version: 1.0.0
  description: Widgets, made and changed.
  contact: {name: Widget team, url: 'https://example.com/widgets'}
  license: {name: MIT, url: 'https://opensource.org/licenses/MIT'}
servers: [{url: 'http://127.0.0.1:4010/api'}]
tags: [{name: Widgets, description: Widgets.}]
security: [{Key: []}]
x-assumptions:
  widget-size-cap: Sizes above 10 are refused (the vendor documents no maximum).
paths:
  /widgets/:
    post:
      tags: [Widgets]
      operationId: createWidget
      summary: Create a widget
      description: Creates a widget.
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/WidgetCreate'}
            example: {name: Gear, size: 3}
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
              example: {id: w1, name: Gear, size: 3}
          links:
            GetWidget: {operationId: getWidget, parameters: {widget_id: '$response.body#/id'}}
            UpdateWidget: {operationId: updateWidget, parameters: {widget_id: '$response.body#/id'}}
        '400': {$ref: '#/components/responses/Invalid'}
        '401': {$ref: '#/components/responses/Unauthorized'}
  /widgets/{widget_id}/:
    parameters:
      - {name: widget_id, in: path, required: true, schema: {type: string, maxLength: 64}, example: w1}
    get:
      tags: [Widgets]
      operationId: getWidget
      summary: Read a widget
      description: The widget.
      responses:
        '200':
          description: The widget.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
              example: {id: w1, name: Gear, size: 3}
        '400': {$ref: '#/components/responses/Invalid'}
        '401': {$ref: '#/components/responses/Unauthorized'}
        '404': {$ref: '#/components/responses/NotFound'}
    patch:
      tags: [Widgets]
      operationId: updateWidget
      summary: Update a widget
      description: Changes the fields sent.
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/WidgetPatch'}
            example: {size: 4}
      responses:
        '200':
          description: The widget.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Widget'}
              example: {id: w1, name: Gear, size: 4}
        '400': {$ref: '#/components/responses/Invalid'}
        '401': {$ref: '#/components/responses/Unauthorized'}
        '404': {$ref: '#/components/responses/NotFound'}
components:
  securitySchemes:
    Key: {type: http, scheme: bearer}
  schemas:
    WidgetCreate:
      type: object
      additionalProperties: false
      required: [name]
      x-documented: [required]
      properties:
        name: {type: string, maxLength: 50}
        size: {$ref: '#/components/schemas/Size'}
        config: {$ref: '#/components/schemas/FreeConfig'}
    WidgetPatch:
      type: object
      additionalProperties: false
      properties:
        name: {type: string, maxLength: 50}
        size: {$ref: '#/components/schemas/Size'}
        config: {$ref: '#/components/schemas/FreeConfig'}
    Size: {type: integer, minimum: 1, maximum: 10, x-assumption: widget-size-cap}
    FreeConfig: {type: object, additionalProperties: true, description: Free-form settings.}
    Widget:
      type: object
      required: [id, name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        size: {type: integer, nullable: true}
        config: {type: object, additionalProperties: true}
    Error:
      type: object
      required: [detail]
      properties:
        detail: {type: string}
  responses:
    Invalid:
      description: Invalid input.
      content:
        application/json:
          schema: {type: object}
          example: {name: [This field is required.]}
    Unauthorized:
      description: No credentials.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Error'}
          example: {detail: No credentials.}
    NotFound:
      description: No such widget.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Error'}
          example: {detail: Not found.}
""")

ITEM = ("paths", "/widgets/{widget_id}/")
SCHEMAS = ("components", "schemas")
Mutation = Callable[[dict[str, Any]], None]


def at(spec: dict[str, Any], *pointer: str) -> Any:
    node: Any = spec
    for part in pointer:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def write(tmp_path: Path, mutate: Mutation | None = None) -> Path:
    spec = copy.deepcopy(BASE)
    if mutate:
        mutate(spec)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def patch_body(spec: dict[str, Any]) -> dict[str, Any]:
    return at(spec, *ITEM, "patch", "requestBody", "content", "application/json")


def open_inline(spec):  # the PATCH body written inline, opened
    patch_body(spec)["schema"] = dict(at(spec, *SCHEMAS, "WidgetPatch"), additionalProperties=True)
    at(spec, *SCHEMAS).pop("WidgetPatch")


def open_component(spec):  # the `$ref`'d component opened
    at(spec, *SCHEMAS, "WidgetPatch")["additionalProperties"] = True


def open_all_of(spec):  # an `allOf` of components, no `type` at the top, one member opened
    schemas = at(spec, *SCHEMAS)
    schemas["WidgetFields"] = dict(schemas["WidgetPatch"], additionalProperties=True)
    schemas["WidgetPatch"] = {"allOf": [{"$ref": "#/components/schemas/WidgetFields"}]}


def open_all_of_typed(spec):  # `type: object` and `additionalProperties: true` beside an `allOf`
    schemas = at(spec, *SCHEMAS)
    schemas["WidgetFields"] = dict(schemas["WidgetPatch"], additionalProperties=False)
    schemas["WidgetPatch"] = {"type": "object", "additionalProperties": True,
                              "allOf": [{"$ref": "#/components/schemas/WidgetFields"}]}


def open_untyped(spec):  # an object without `type: object`
    patch = at(spec, *SCHEMAS, "WidgetPatch")
    patch.pop("type")
    patch["additionalProperties"] = True


def open_to_a_schema(spec):  # opened to any extra string
    at(spec, *SCHEMAS, "WidgetPatch")["additionalProperties"] = {"type": "string", "maxLength": 9}


def unclosed_all_of(spec):  # an `allOf` of components none of which closes the object
    schemas = at(spec, *SCHEMAS)
    schemas["WidgetFields"] = {k: v for k, v in schemas["WidgetPatch"].items() if k != "additionalProperties"}
    schemas["WidgetPatch"] = {"allOf": [{"$ref": "#/components/schemas/WidgetFields"}]}


P = "/widgets/{widget_id}/"
PATCH_SCHEMA = (*SCHEMAS, "WidgetPatch")
# (rule id, the spec broken once, the pointers where the rule must report it, nothing else found)
CASES: dict[str, tuple[str, Mutation, list[tuple[str, ...]]]] = {
    "error-responses-no-404": ("error-responses", lambda s: at(s, *ITEM, "get", "responses").pop("404"),
                               [(*ITEM, "get", "responses")]),
    "error-responses-no-401": ("error-responses", lambda s: at(s, *ITEM, "get", "responses").pop("401"),
                               [(*ITEM, "get", "responses")]),
    "error-responses-4xx-without-example": (
        "error-responses", lambda s: at(s, "components", "responses", "NotFound", "content", "application/json")
        .pop("example"), [("components", "responses", "NotFound", "content", "application/json")]),
    "request-body-patch-requires": ("request-body", lambda s: at(s, *PATCH_SCHEMA).update(required=["size"]),
                                    [(*PATCH_SCHEMA, "required")]),
    "request-body-nested-object-unsaid": (
        "request-body", lambda s: at(s, *PATCH_SCHEMA, "properties").update(
            owner={"type": "object", "properties": {"name": {"type": "string", "maxLength": 9}}}),
        [(*PATCH_SCHEMA, "properties", "owner")]),
    "request-body-read-only-required": (
        "request-body", lambda s: at(s, *SCHEMAS, "WidgetCreate").update(
            required=["name", "id"], properties={**at(s, *SCHEMAS, "WidgetCreate", "properties"),
                                                 "id": {"type": "string", "maxLength": 9, "readOnly": True}}),
        [(*SCHEMAS, "WidgetCreate", "required")]),
    "request-body-open-inline": ("request-body", open_inline,
                                 [(*ITEM, "patch", "requestBody", "content", "application/json", "schema",
                                   "additionalProperties")]),
    "request-body-open-component": ("request-body", open_component, [(*PATCH_SCHEMA, "additionalProperties")]),
    "request-body-open-all-of": ("request-body", open_all_of, [(*SCHEMAS, "WidgetFields", "additionalProperties")]),
    "request-body-open-all-of-typed": ("request-body", open_all_of_typed, [(*PATCH_SCHEMA, "additionalProperties")]),
    "request-body-open-untyped": ("request-body", open_untyped, [(*PATCH_SCHEMA, "additionalProperties")]),
    "request-body-open-to-a-schema": ("request-body", open_to_a_schema, [(*PATCH_SCHEMA, "additionalProperties")]),
    "request-body-all-of-not-closed": ("request-body", unclosed_all_of, [PATCH_SCHEMA, (*SCHEMAS, "WidgetFields")]),
    "bounded-input-string": ("bounded-input", lambda s: at(s, *PATCH_SCHEMA, "properties", "name").pop("maxLength"),
                             [(*PATCH_SCHEMA, "properties", "name")]),
    "bounded-input-parameter": ("bounded-input", lambda s: at(s, *ITEM, "parameters", "0", "schema").pop("maxLength"),
                                [(*ITEM, "parameters", "0", "schema")]),
    "bounded-input-array": ("bounded-input", lambda s: at(s, *PATCH_SCHEMA, "properties").update(
        tags={"type": "array", "items": {"type": "string", "maxLength": 9}}), [(*PATCH_SCHEMA, "properties", "tags")]),
    "create-links": ("create-links", lambda s: at(s, "paths", "/widgets/", "post", "responses", "201", "links")
                     .pop("UpdateWidget"), [("paths", "/widgets/", "post", "responses", "201")]),
    "duplicate-schema": ("duplicate-schema", lambda s: patch_body(s).update(
        schema=copy.deepcopy(at(s, *PATCH_SCHEMA))), [(*ITEM, "patch", "requestBody", "content", "application/json",
                                                       "schema")]),
    "assumption-marks-unknown-id": ("assumption-marks", lambda s: at(s, *SCHEMAS, "Size").update(
        {"x-assumption": "widget-colour"}), [(*SCHEMAS, "Size", "x-assumption")]),
    "assumption-marks-registry": ("assumption-marks", lambda s: s["x-assumptions"].update(Bad_Id="Not kebab."),
                                  [("x-assumptions", "Bad_Id")]),
    "assumption-marks-documented": ("assumption-marks", lambda s: at(s, *PATCH_SCHEMA).update(
        {"x-documented": ["required"]}), [(*PATCH_SCHEMA, "x-documented")]),
}


def test_the_base_spec_is_clean(tmp_path: Path) -> None:
    assert lint(write(tmp_path), rules=OFFLINE_RULES) == []


@pytest.mark.parametrize("case", CASES)
def test_the_rule_flags_its_broken_case_at_the_broken_node(tmp_path: Path, case: str) -> None:
    rule_id, mutate, pointers = CASES[case]
    path = write(tmp_path, mutate)
    findings = lint(path, rules=OFFLINE_RULES)
    assert [(f.rule, f.pointer) for f in findings] == [(rule_id, json_pointer(p)) for p in pointers], \
        "\n".join(f.text() for f in findings)
    lines = LineIndex.of(path)
    assert [(f.line, f.column) for f in findings] == [lines.where(p) for p in pointers]
    assert {f.severity for f in findings} == {RULES_BY_ID[rule_id].severity}


def test_every_rule_in_the_registry_has_a_broken_case() -> None:
    assert {rule_id for rule_id, _, _ in CASES.values()} | {"connexion-loads"} == set(RULES_BY_ID)
    assert len(RULES_BY_ID) == len(RULES)
    for rule in RULES:
        assert rule.severity in ("error", "warning") and rule.description and callable(rule.check)


def test_connexion_loads_flags_an_operation_the_mock_cannot_serve(tmp_path: Path) -> None:
    spec = (ROOT / "openapi.yaml").read_text()
    broken = tmp_path / "openapi.yaml"
    broken.write_text(spec.replace("operationId: getExperimentSummary", "operationId: getExperimentStats", 1))
    line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "getExperimentStats" in text)
    findings = lint(broken, rules=[RULES_BY_ID["connexion-loads"]])
    assert [(f.rule, f.line) for f in findings] == [("connexion-loads", line)]


def test_the_real_spec_lints_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "spec_lint"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and "0 error(s), 0 warning(s)" in result.stderr


def test_list_rules_prints_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[rule.id, rule.severity] for rule in RULES]


def test_output_formats_name_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CASES["bounded-input-string"][1])
    assert main([str(path), "--no-mock", "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)
    assert finding["rule"] == "bounded-input" and finding["severity"] == "error" and finding["line"] > 1
    assert finding["pointer"] == "#/components/schemas/WidgetPatch/properties/name"
    assert main([str(path), "--no-mock", "--format", "github"]) == 1
    assert capsys.readouterr().out.startswith(f"::error file={path},line={finding['line']},")
    assert main([str(path), "--no-mock"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:{finding['line']}:{finding['column']}: error [bounded-input] ")


def test_warnings_alone_do_not_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(write(tmp_path, CASES["duplicate-schema"][1])), "--no-mock"]) == 0
    assert "warning [duplicate-schema]" in capsys.readouterr().out


@pytest.mark.parametrize(("content", "message"), [("openapi: [\n", "not valid YAML"), ("- a\n", "not an OpenAPI")])
def test_unparsable_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                                   message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(content)
    assert main([str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(("mutate", "pointer", "message"), [
    (lambda s: at(s, *ITEM, "get").update(deprecated="maybe"), (*ITEM, "get", "deprecated"),
     "not a valid OpenAPI 3.0 document"),
    (lambda s: patch_body(s).update(schema={"$ref": "#/components/schemas/Widgit"}),
     (*ITEM, "patch", "requestBody", "content", "application/json", "schema", "$ref"), "does not resolve"),
], ids=["invalid", "unresolved-ref"])
def test_a_document_that_is_not_valid_openapi_is_exit_2_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Mutation, pointer: tuple[str, ...],
        message: str) -> None:
    """The rules run on valid documents only; what makes one invalid is openapi-spec-validator's to say
    (and Spectral's and Redocly's, which `make lint` runs), so the linter stops at the first problem."""
    path = write(tmp_path, mutate)
    assert main([str(path), "--no-mock"]) == 2
    line, column = LineIndex.of(path).where(pointer)
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:{line}:{column}: ") and message in err, err


# What spec_lint no longer checks itself because Spectral (`spectral:oas`) or Redocly (`recommended`)
# does, each broken once on the base spec: `make lint` must fail on every one of them.
SPEC_LINTERS = ROOT / "tools" / "spec-linters"
THEIRS: dict[str, Mutation] = {
    "structure": lambda s: at(s, *ITEM, "get").update(deprecated="maybe"),
    "unresolved-ref": lambda s: patch_body(s).update(schema={"$ref": "#/components/schemas/Widgit"}),
    "media-example": lambda s: patch_body(s).update(example={"size": 40}),
    "read-only-in-request-example": lambda s: (
        at(s, *PATCH_SCHEMA, "properties").update(id={"type": "string", "maxLength": 9, "readOnly": True}),
        patch_body(s).update(example={"id": "w1", "size": 4})),
    "write-only-in-response-example": lambda s: (
        at(s, *SCHEMAS, "Widget", "properties").update(secret={"type": "string", "writeOnly": True}),
        at(s, *ITEM, "get", "responses", "200", "content", "application/json").update(
            example={"id": "w1", "name": "Gear", "secret": "x"})),
    "parameter-example": lambda s: at(s, *ITEM, "parameters", "0").update(example="w" * 65),
    "schema-example": lambda s: at(s, *SCHEMAS, "Widget").update(example={"id": 3, "name": "Gear"}),
    "no-summary": lambda s: at(s, *ITEM, "get").pop("summary"),
    "no-description": lambda s: at(s, *ITEM, "get").pop("description"),
    "no-tags": lambda s: at(s, *ITEM, "get").pop("tags"),
    "duplicate-operation-id": lambda s: at(s, *ITEM, "get").update(operationId="updateWidget"),
    "operation-id-not-url-safe": lambda s: at(s, *ITEM, "get").update(operationId="get widget"),
    "unsecured-operation": lambda s: s.pop("security"),
    "unused-schema": lambda s: at(s, *SCHEMAS).update(Orphan={"type": "string"}),
    "unused-security-scheme": lambda s: at(s, "components", "securitySchemes").update(
        Basic={"type": "http", "scheme": "basic"}),
}


@pytest.fixture(scope="module")
def spec_linters() -> Path:
    npm = shutil.which("npm")
    assert npm, "Node 20 and npm are needed for Spectral and Redocly (.ci/run has them)"
    if not (SPEC_LINTERS / "node_modules" / ".package-lock.json").exists():
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SPEC_LINTERS, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
    return SPEC_LINTERS / "node_modules" / ".bin"


def test_spectral_and_redocly_fail_on_what_spec_lint_leaves_to_them(spec_linters: Path, tmp_path: Path) -> None:
    """Their configurations (`.spectral.yaml`, `redocly.yaml`) as `make lint` runs them: Spectral fails on
    a warning, Redocly on an error. One run of each over every case."""
    files = {name: write(tmp_path / name, mutate) for name, mutate in {"base": None, **THEIRS}.items()
             if (tmp_path / name).mkdir() is None}
    spectral_out = tmp_path / "spectral.json"
    subprocess.run([str(spec_linters / "spectral"), "lint", *map(str, files.values()), "--ruleset",
                    str(ROOT / ".spectral.yaml"), "--format", "json", "--output", str(spectral_out)],
                   cwd=tmp_path, capture_output=True, text=True, timeout=600)
    redocly = subprocess.run([str(spec_linters / "redocly"), "lint", *map(str, files.values()), "--config",
                              str(ROOT / "redocly.yaml"), "--format", "json"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=600,
                             env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"})
    failed: dict[str, list[str]] = {name: [] for name in files}
    by_file = {str(path): name for name, path in files.items()}
    for result in json.loads(spectral_out.read_text()):
        if result["severity"] <= 1:  # 0 error, 1 warning: `--fail-severity warn` fails on both
            failed[by_file[str(Path(result["source"]))]].append(f"spectral {result['code']}")
    decoder, text, offset = json.JSONDecoder(), redocly.stdout.strip(), 0
    while offset < len(text):  # one JSON report per file, one after the other
        report, offset = decoder.raw_decode(text, offset)
        offset = len(text) - len(text[offset:].lstrip())
        for problem in report["problems"]:
            if problem["severity"] == "error":
                source = problem["location"][0]["source"]["ref"]
                failed[by_file[str((tmp_path / source).resolve())]].append(f"redocly {problem['ruleId']}")
    assert failed.pop("base") == []
    assert [name for name, found in failed.items() if not found] == [], failed
