"""Reading a fixture file (YAML or JSON) into a validated world, with errors that name the bad entry."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .lifecycle import parse_time
from .limits import MAX_EXPERIMENTS_PER_ORGANIZATION, MAX_WORLD_BYTES
from .rules import DETAIL_FIELDS, Catalog, blank_experiment, missing_references, normalize_step
from .spec import Contract
from .store import Organization, World, record_size
from .validation import SchemaValidator

# The default world as the package ships it (`mock_server/default-world.yaml` links to `fixtures/default.yaml`).
DEFAULT_FIXTURES = Path(str(resources.files("mock_server") / "default-world.yaml"))
DERIVED_FIELDS = frozenset({"dataset", "dataset_name", "workflow_count", "evaluator_slugs"})
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Values in a fixture document once YAML aliases are expanded (each alias counts its whole value again):
# an "alias bomb" of a few lines expands to billions.
MAX_FIXTURE_VALUES = 2_000_000
TIME_FIELDS = ("created_at", "started_at", "completed_at")


class FixtureError(ValueError):
    """A fixture file that cannot become a world; the message names the file and the entry."""


def _entity_schema(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    text = {"type": "string", "minLength": 1, "maxLength": 255}
    return {"type": "object", "additionalProperties": False, "required": ["id", "organization_id", "name"],
            "properties": {"id": text, "organization_id": text, "name": text, **(extra or {})}}


def fixture_schema(contract: Contract) -> dict[str, Any]:
    """The shape of a fixture file; experiment fields take their schemas from the contract."""
    detail: dict[str, Any] = {}
    for part in contract.dereferenced(contract.schema("Experiment"))["allOf"]:
        detail.update(part.get("properties", {}))
    experiment_props = {name: schema for name, schema in detail.items()
                        if name in DETAIL_FIELDS and name not in DERIVED_FIELDS}
    experiment_props["organization_id"] = {"type": "string", "minLength": 1}
    experiment_props["created_at"] = {**experiment_props["created_at"]}
    experiments = {"type": "object", "additionalProperties": False,
                   "required": ["id", "organization_id", "dataset_id", "workflow"],
                   "properties": experiment_props}
    keys = {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 8, "maxLength": 200}}
    return {
        "type": "object", "additionalProperties": False, "required": ["organizations"],
        "properties": {
            "organizations": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": ["id", "name", "api_keys"],
                "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 128},
                               "name": {"type": "string", "minLength": 1, "maxLength": 255},
                               "api_keys": keys}}},
            "datasets": {"type": "array", "items": _entity_schema()},
            "evaluators": {"type": "array", "items": _entity_schema()},
            "evaluator_workflow_versions": {"type": "array", "items": _entity_schema()},
            "experiments": {"type": "array", "items": experiments},
        },
    }


def read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the fixture file ({exc.strerror}).") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, json.JSONDecodeError, RecursionError) as exc:
        reason = " ".join(str(exc).split()) if not isinstance(exc, RecursionError) else "nested too deep"
        raise FixtureError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {reason}") from None
    size = expanded_size(document)
    if size > MAX_FIXTURE_VALUES:
        raise FixtureError(f"{path}: holds more than {MAX_FIXTURE_VALUES} values once its YAML aliases are "
                           "expanded (an alias of an alias of …); write the values out or use fewer aliases.")
    return document


def expanded_size(document: Any) -> int:
    """How many values `document` holds with every shared value (a YAML alias) counted each time it is
    used; in time linear in the distinct values (each shared one is measured once), capped just past
    MAX_FIXTURE_VALUES. Also refuses a cycle (a recursive alias), which JSON cannot carry."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(document, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        if not isinstance(node, dict | list):
            continue
        key = id(node)
        children = list(node.values()) if isinstance(node, dict) else node
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes.get(id(c), 1) if isinstance(c, dict | list) else 1 for c in children)
            sizes[key] = min(total, MAX_FIXTURE_VALUES + 1)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise FixtureError("the fixture file holds a recursive YAML alias (a value that contains itself)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if isinstance(child, dict | list) and id(child) not in sizes)
    return sizes.get(id(document), 1)


def load_world(contract: Contract, path: Path = DEFAULT_FIXTURES) -> World:
    return build_world(contract, read_document(path), source=str(path))


def build_world(contract: Contract, document: Any, *, source: str = "fixtures") -> World:
    errors = SchemaValidator(fixture_schema(contract)).errors(document)
    if errors:
        field, messages = next(iter(errors.items()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise FixtureError(f"{source}: {field}: {' '.join(messages)}{more}")
    infinite = _non_finite_at(document)
    if infinite is not None:
        raise FixtureError(f"{source}: {infinite}: a number JSON cannot carry (infinite or not a number)")

    def fail(where: str, message: str) -> FixtureError:
        return FixtureError(f"{source}: {where}: {message}")

    orgs: dict[str, Organization] = {}
    seen_keys: set[str] = set()
    for index, entry in enumerate(document["organizations"]):
        if entry["id"] in orgs:
            raise fail(f"organizations.{index}", f"duplicate organization id '{entry['id']}'")
        for key in entry["api_keys"]:
            if key in seen_keys:
                raise fail(f"organizations.{index}", f"API key '{key[:8]}…' is listed twice")
            seen_keys.add(key)
        orgs[entry["id"]] = Organization(id=entry["id"], name=entry["name"], api_keys=list(entry["api_keys"]))

    for section in ("datasets", "evaluators", "evaluator_workflow_versions"):
        for index, entry in enumerate(document.get(section) or []):
            org = orgs.get(entry["organization_id"])
            where = f"{section}.{index} ({entry['id']})"
            if org is None:
                raise fail(where, f"unknown organization_id '{entry['organization_id']}'")
            owned = getattr(org, section)
            if entry["id"] in owned:
                raise fail(where, f"duplicate id in organization '{org.id}'")
            owned[entry["id"]] = entry["name"]

    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stored = 0
    for index, entry in enumerate(document.get("experiments") or []):
        where = f"experiments.{index} ({entry['id']})"
        org = orgs.get(entry["organization_id"])
        if org is None:
            raise fail(where, f"unknown organization_id '{entry['organization_id']}'")
        if entry["id"] in org.experiments:
            raise fail(where, f"duplicate experiment id in organization '{org.id}'")
        if len(org.experiments) >= MAX_EXPERIMENTS_PER_ORGANIZATION:
            raise fail(where, f"organization '{org.id}' has more than {MAX_EXPERIMENTS_PER_ORGANIZATION} "
                              "experiments, the most the mock keeps per organization")
        for name in TIME_FIELDS:
            if entry.get(name) is not None:
                try:
                    parse_time(entry[name])
                except (ValueError, OverflowError):
                    raise fail(where, f"{name} {str(entry[name])[:40]!r} is not a date-time the mock can hold "
                                      "(RFC 3339, years 1 to 9999)") from None
        record = experiment_record(entry, contract, now)
        catalog = Catalog(datasets=org.datasets, evaluators=frozenset(org.evaluators),
                          evaluator_workflow_versions=frozenset(org.evaluator_workflow_versions))
        missing = missing_references(record, catalog)
        if missing:
            names = ", ".join(f"{kind} '{ref}'" for kind, ref in missing)
            raise fail(where, f"{names} not found in organization '{org.id}'")
        if bool(record["evaluator_ids"]) == bool(record["evaluator_workflow_ids"]):
            raise fail(where, "needs exactly one non-empty scoring path "
                              "(evaluator_ids or evaluator_workflow_ids)")
        if record["status"] == "failed" and not record["error_message"]:
            raise fail(where, "a failed experiment needs an error_message")
        org.experiments[entry["id"]] = record
        stored += record_size(record)
        if stored > MAX_WORLD_BYTES:
            raise fail(where, f"the experiments take more than {MAX_WORLD_BYTES} bytes as JSON, the most the mock "
                              "keeps for one session")
    return World(organizations=orgs)


def _non_finite_at(document: Any) -> str | None:
    """The dotted path of the first infinite or NaN number (YAML's `.inf`, `.nan`), or None."""
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return path or "(top)"
        if isinstance(node, dict):
            pending.extend((f"{path}.{k}" if path else str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            pending.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(node))
    return None


def experiment_record(entry: dict[str, Any], contract: Contract, now: str) -> dict[str, Any]:
    """A stored record from a fixture entry: defaults filled in, legacy step types renamed."""
    record = blank_experiment(entry["id"], now=now, defaults=contract.property_defaults("ExperimentCreate"))
    record.update({k: v for k, v in entry.items() if k != "organization_id"})
    record["workflow"] = [normalize_step(step) for step in record["workflow"]]
    return record


def export_world(organizations: Mapping[str, Organization]) -> dict[str, Any]:
    """A world in the fixture format, which `--fixtures` loads back."""
    doc: dict[str, Any] = {"organizations": [], "datasets": [], "evaluators": [],
                           "evaluator_workflow_versions": [], "experiments": []}
    for org in organizations.values():
        doc["organizations"].append({"id": org.id, "name": org.name, "api_keys": list(org.api_keys)})
        for section in ("datasets", "evaluators", "evaluator_workflow_versions"):
            doc[section] += [{"id": i, "organization_id": org.id, "name": n} for i, n in getattr(org, section).items()]
        for record in org.experiments.values():
            doc["experiments"].append({"organization_id": org.id,
                                       **{k: v for k, v in record.items() if not k.startswith("_")}})
    return doc
