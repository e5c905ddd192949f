"""Facts the suite reads from openapi.yaml (never re-typed here)."""

from __future__ import annotations

from mock_server.spec import Contract, load_document

from .config import SPEC_PATH

_CONTRACT = Contract(load_document(SPEC_PATH))
DEFAULTS = _CONTRACT.property_defaults("ExperimentReplace")
