"""Where the suite points and with what: options from the command line, pytest or the environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO, TypedDict

from mock_server.spec import SPEC_PATH as PACKAGED_SPEC

SPEC_ENV = "CONTRACT_SPEC"


def spec_path() -> Path:
    """The contract the suite holds the deployment to: `--spec` / `CONTRACT_SPEC`, else the packaged one."""
    return Path(os.environ.get(SPEC_ENV) or PACKAGED_SPEC)


# option name -> (environment variable, help)
OPTIONS: dict[str, tuple[str, str]] = {
    "spec": (SPEC_ENV, "the OpenAPI document to hold the deployment to (default: the packaged openapi.yaml)"),
    "base_url": ("CONTRACT_BASE_URL", "API root the spec's paths hang from (default: start the embedded mock)"),
    "token": ("CONTRACT_TOKEN", "bearer token of the organization under test"),
    "other_token": ("CONTRACT_OTHER_TOKEN", "token of a second organization (enables tenant-isolation tests)"),
    "dataset_id": ("CONTRACT_DATASET_ID", "a dataset of TOKEN's organization"),
    "evaluator_id": ("CONTRACT_EVALUATOR_ID", "an evaluator of TOKEN's organization"),
    "evaluator_workflow_id": ("CONTRACT_EVALUATOR_WORKFLOW_ID",
                              "an evaluator workflow version of TOKEN's organization"),
    "max_examples": ("CONTRACT_MAX_EXAMPLES", "generated cases per operation and phase (default 25)"),
    "seed": ("CONTRACT_SEED", "random seed, for a reproducible run"),
    "junit": ("CONTRACT_JUNIT", "write a JUnit XML report to this path"),
    "html": ("CONTRACT_HTML", "write the run's HTML report to this path (one self-contained file)"),
    "rate_limit": ("CONTRACT_RATE_LIMIT", "requests per second at most (default: no limit)"),
    "timeout": ("CONTRACT_TIMEOUT", "seconds before a request times out (default 10)"),
    "max_requests": ("CONTRACT_MAX_REQUESTS", "hard cap on requests for the whole run, clean-up included "
                                              "(default 20000)"),
    "running_experiment_id": ("CONTRACT_RUNNING_EXPERIMENT_ID",
                              "a running experiment of TOKEN's organization (enables the running-lock tests; "
                              "the run renames it and renames it back)"),
    "jwt_secret": ("CONTRACT_JWT_SECRET", "HS256 secret of dashboard JWTs (enables the valid-JWT test)"),
    "jwt_org_id": ("CONTRACT_JWT_ORG_ID", "organization id (org_id claim) of TOKEN's organization, for the JWT"),
}
# Flags (no value): --read-only, --strict, --no-progress.
# Options a deployment run cannot do without (the embedded mock brings its own).
REQUIRED_WITH_BASE_URL = ("token", "dataset_id", "evaluator_id", "evaluator_workflow_id")
# Options that are credentials: best taken from the environment, since a command line is visible to
# every user of the machine (`ps`).
SECRET_OPTIONS = ("token", "other_token", "jwt_secret")
# Set by `python -m contract_tests` for the pytest it starts (it has warned about the command line itself).
CLI_ENV = "CONTRACT_CLI"


def warn_secrets_on_command_line(values: dict[str, object | None], stream: TextIO | None = None) -> bool:
    """Warn on stderr about each credential given as an option rather than through its environment
    variable; returns whether it warned."""
    given = [name for name in SECRET_OPTIONS if values.get(name) not in (None, "")]
    for name in given:
        print(f"warning: --{name.replace('_', '-')} on the command line is visible to every user of this machine "
              f"(ps, shell history); set {OPTIONS[name][0]} in the environment instead", file=stream or sys.stderr)
    return bool(given)

# The default world of the embedded mock.
EMBEDDED = {
    "token": "sk_live_acme_dev_4f7d2c9a1b8e",
    "other_token": "sk_live_globex_dev_93e1a6b0c5d2",
    "dataset_id": "ds_7a6b5c4d",
    "evaluator_id": "helpfulness",
    "evaluator_workflow_id": "ewv_3c2b1a09",
    "jwt_secret": "dev-only-experiments-mock-secret-change-me",
    "jwt_org_id": "org_acme",
}


class UsageError(Exception):
    """Options that cannot describe a run; reported in one line, exit status 2."""


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str
    dataset_id: str
    evaluator_id: str
    evaluator_workflow_id: str
    other_token: str | None = None
    max_examples: int = 25
    seed: int | None = None
    read_only: bool = False
    rate_limit: float | None = None
    timeout: float = 10.0
    max_requests: int = 20_000
    junit: str | None = None
    html: str | None = None
    running_experiment_id: str | None = None
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_org_id: str | None = None
    strict: bool = False
    embedded: bool = False
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def with_base_url(self, base_url: str) -> Target:
        return replace(self, base_url=base_url.rstrip("/"))

    def mask(self, text: str) -> str:
        """`text` with every token replaced by `***`."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


def resolve(values: dict[str, object | None], *, read_only: bool = False, strict: bool = False,
            environ: dict[str, str] | None = None) -> Target:
    """A Target from explicit values (None = not given), falling back to the environment."""
    env = os.environ if environ is None else environ
    given = {name: values.get(name) if values.get(name) not in (None, "") else env.get(var) or None
             for name, (var, _) in OPTIONS.items()}
    embedded = not given["base_url"]
    if embedded:
        for name, value in EMBEDDED.items():
            given[name] = given[name] or value
    spec = Path(str(given["spec"])) if given["spec"] else spec_path()
    if not spec.is_file():
        raise UsageError(f"no OpenAPI document at {spec} (--spec, {SPEC_ENV})")
    missing = [f"--{n.replace('_', '-')} ({OPTIONS[n][0]})" for n in REQUIRED_WITH_BASE_URL if not given[n]]
    if missing:
        raise UsageError("testing a deployment needs " + ", ".join(missing))
    try:
        numbers: _Numbers = {
            "max_examples": int(str(given["max_examples"] or 25)),
            "seed": int(str(given["seed"])) if given["seed"] is not None else None,
            "rate_limit": float(str(given["rate_limit"])) if given["rate_limit"] else None,
            "timeout": float(str(given["timeout"] or 10)),
            "max_requests": int(str(given["max_requests"] or 20_000)),
        }
    except ValueError as exc:
        raise UsageError(f"a numeric option is not a number: {exc}") from None
    if numbers["max_examples"] < 1 or numbers["max_requests"] < 100:
        raise UsageError("--max-examples must be at least 1 and --max-requests at least 100")
    return Target(
        base_url=str(given["base_url"] or "").rstrip("/"),
        token=str(given["token"]),
        other_token=str(given["other_token"]) if given["other_token"] else None,
        dataset_id=str(given["dataset_id"]),
        evaluator_id=str(given["evaluator_id"]),
        evaluator_workflow_id=str(given["evaluator_workflow_id"]),
        read_only=read_only,
        junit=str(given["junit"]) if given["junit"] else None,
        html=_text(given["html"]),
        running_experiment_id=_text(given["running_experiment_id"]),
        jwt_secret=_text(given["jwt_secret"]),
        jwt_org_id=_text(given["jwt_org_id"]),
        # The embedded mock enforces every assumption, so a refuted one there is a bug of the mock.
        strict=strict or embedded,
        embedded=embedded,
        secrets=tuple(str(t) for t in (given["token"], given["other_token"], given["jwt_secret"]) if t),
        **numbers,
    )


class _Numbers(TypedDict):
    max_examples: int
    seed: int | None
    rate_limit: float | None
    timeout: float
    max_requests: int


def _text(value: object | None) -> str | None:
    return str(value) if value not in (None, "") else None
