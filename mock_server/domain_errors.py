"""What the rules and the store refuse, in the domain's words: no status codes, no bodies.

`errors.from_domain` is the one place that turns them into HTTP answers.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """A request the rules refuse."""


class ExperimentNotFound(DomainError):
    def __init__(self, experiment_id: str) -> None:
        self.experiment_id = experiment_id
        super().__init__(f"No experiment '{experiment_id}' in this organization.")


class DuplicateExperimentId(DomainError):
    def __init__(self, experiment_id: str) -> None:
        self.experiment_id = experiment_id
        super().__init__(f"An experiment with id '{experiment_id}' already exists.")


class UnknownReferences(DomainError):
    """Ids a request refers to that the organization does not own: (kind, id) pairs."""

    def __init__(self, missing: Sequence[tuple[str, str]]) -> None:
        self.missing = list(missing)
        super().__init__(", ".join(f"{kind} '{ref}'" for kind, ref in missing) + " not found in this organization.")


class RunningLocked(DomainError):
    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        super().__init__(f"Experiment is running: {', '.join(fields)} cannot change until it completes or fails.")


class IllegalTransition(DomainError):
    def __init__(self, status: str, action: str, allowed: Sequence[str]) -> None:
        self.status, self.action, self.allowed = status, action, list(allowed)
        super().__init__(f"Cannot {action!r} an experiment that is {status}; allowed: "
                         f"{', '.join(allowed) if allowed else 'none (it has finished)'}.")


class InvalidValue(DomainError):
    """A value the schema let through that the rules refuse: `field` is its dotted path."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class SessionLimitReached(DomainError):
    """Every session the mock may keep holds a developer's recent changes: none can make room for a new one."""

    def __init__(self, limit: int, idle_seconds: float, retry_after: int) -> None:
        self.limit, self.retry_after = limit, retry_after
        super().__init__(
            f"This mock keeps at most {limit} named sessions (--max-sessions) and each of them holds changes "
            f"made within the last {idle_seconds:g} s, so none is dropped to make room for a new one. Use an "
            "existing X-Mock-Session, reset one with POST /__mock__/reset, or ask for a larger --max-sessions.")


class WorldLimitReached(DomainError):
    """A write that would take the session's world past what the mock keeps (limits.py)."""
