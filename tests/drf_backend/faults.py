"""The planted faults: each one breaks a single documented rule so the contract suite can prove it notices.

One fault for the whole process (`--fault NAME`), or, when started with `--fault-header`, the fault a
request names in its `X-Drf-Fault` header (one backend serves every fault to the proxy's tests)."""

from contextvars import ContextVar

from django.conf import settings

FAULTS = (
    "slugs_win_over_ids",
    "leaks_other_organization",
    "patch_accepts_unknown_dataset",
    "contains_ignores_case",
    "workflow_duplicate_crashes",
)
_requested: ContextVar[str] = ContextVar("drf_backend_fault", default="")


def active(name: str) -> bool:
    assert name in FAULTS, name
    return name == (_requested.get() or settings.DRF_BACKEND_FAULT)


class FaultHeaderMiddleware:
    """With `--fault-header`: the request's `X-Drf-Fault` is the fault planted for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        wanted = request.headers.get("X-Drf-Fault", "") if settings.DRF_BACKEND_FAULT_HEADER else ""
        token = _requested.set(wanted if wanted in FAULTS else "")
        try:
            return self.get_response(request)
        finally:
            _requested.reset(token)
