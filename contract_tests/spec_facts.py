"""Facts the suite reads from openapi.yaml (never re-typed here)."""

from __future__ import annotations

from functools import cache

from mock_server.spec import HTTP_METHODS, Contract, load_document
from mock_server.validation import SchemaValidator

from .config import spec_path

_CONTRACT = Contract(load_document(spec_path()))
DEFAULTS = _CONTRACT.property_defaults("ExperimentReplace")
# (METHOD, path template) -> operationId, e.g. ("PATCH", "/experiments/{experiment_id}/") -> "updateExperiment"
OPERATION_IDS = {(method.upper(), path): item[method]["operationId"]
                 for path, item in _CONTRACT.document["paths"].items() for method in HTTP_METHODS if method in item}
# Fields the vendor documents every experiment response to carry (the `required` of the Experiment
# schema's parts that rest on no assumption); checks compare any other field only when it is shown.
RESPONSE_REQUIRED = frozenset(name for part in _CONTRACT.schema("Experiment")["allOf"]
                              if "x-assumption" not in _CONTRACT.resolve(part)
                              for name in _CONTRACT.resolve(part).get("required", ()))


@cache
def request_validator(operation_id: str) -> SchemaValidator:
    """The compiled request body schema of an operation (the mock's validator, the spec's rules)."""
    operation = _CONTRACT.operations()[operation_id]
    body = _CONTRACT.resolve(operation["requestBody"])
    return SchemaValidator(_CONTRACT.dereferenced(body["content"]["application/json"]["schema"]))
