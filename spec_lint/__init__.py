"""Spec linter: checks in openapi.yaml what only this project checks; Spectral and Redocly check the rest.

`python -m spec_lint [PATH]` (console script `experiments-lint`) prints each finding as
`PATH:LINE:COLUMN: error|warning [rule-id] message`; `--list-rules` lists the rules (`RULES`).
"""

from .model import Finding, Issue, LintedSpec, Rule
from .registry import RULES, RULES_BY_ID, Unreadable, lint

__all__ = ["RULES", "RULES_BY_ID", "Finding", "Issue", "LintedSpec", "Rule", "Unreadable", "lint"]
