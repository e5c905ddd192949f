"""The planted faults: each one breaks a single documented rule so the contract suite can prove it notices."""

from django.conf import settings

FAULTS = (
    "slugs_win_over_ids",
    "leaks_other_organization",
    "patch_accepts_unknown_dataset",
    "contains_ignores_case",
    "workflow_duplicate_crashes",
)


def active(name: str) -> bool:
    assert name in FAULTS, name
    return name == settings.DRF_BACKEND_FAULT
