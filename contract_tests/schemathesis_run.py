"""Run Schemathesis (its own CLI, all its checks plus ours) through the gate, some phases per run,
and read what it found from its NDJSON report.

Every run happens in a fresh temporary directory with Schemathesis' crash cache off, so nothing
is written into the checkout and no earlier run's failures are replayed (a replay would send
writes, even in a read-only run). Output sanitization is off, because it masks by key name
(`max_tokens` became `[Filtered]`, so reproduce lines did not reproduce); the suite masks the
run's tokens by value instead: the NDJSON report leaves the temporary directory only masked, beside
the HTML report (`--html`), which is masked before anyone reads it. Bodies up to 8 MiB are recorded whole, so
the suite can re-check what a check found wrong.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from mock_server.spec import load_document

from .assumptions import Assumptions
from .config import Target, spec_path
from .findings import Finding, Reproducer, count_cases, from_schemathesis
from .gate import READ_OPERATIONS
from .run_events import Event, Exercised, Follower, exercised

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds contract_tests/
PHASES = ("examples", "coverage", "fuzzing", "stateful")
NDJSON_COPY = "events.ndjson"  # Schemathesis' NDJSON report beside its HTML page, tokens masked
# Checks that send requests of other methods than the one tested (not for a read-only run).
WRITING_CHECKS = ("unsupported_method", "allow_header_conformance")
# The token reaches Schemathesis through the environment, never the command line or the output.
CONFIG = """\
hooks = "contract_tests.hooks"
headers = { Authorization = "Bearer ${CONTRACT_TOKEN}" }

[output.sanitization]
enabled = false

[output.truncation]
max-recorded-payload-size = 8388608

[cache]
enabled = false
"""


@dataclass
class PhaseResult:
    phase: str
    exit_code: int
    findings: list[Finding]
    output: str
    requests: int  # the test cases Schemathesis reported (its check requests come on top)
    exercised: dict[str, Exercised] = field(default_factory=dict)  # operation label -> cases, statuses
    html: Path | None = None  # Schemathesis' own HTML report of this process, tokens masked


def run_phases(target: Target, phases: tuple[str, ...], *, gate_url: str, prefix: str, assumptions: Assumptions,
               reproducer: Reproducer, html_dir: Path | None = None,
               on_event: Callable[[Event], None] | None = None) -> dict[str, PhaseResult]:
    """Run these phases in one Schemathesis process (one start-up); the result of each phase apart.
    `html_dir`: also write Schemathesis' HTML report there; `on_event`: called with each NDJSON event
    as it is written (the progress display)."""
    with tempfile.TemporaryDirectory(prefix="contract-schemathesis-") as tmp:
        work = Path(tmp)
        config = work / "schemathesis.toml"
        config.write_text(CONFIG)
        report = work / "events.ndjson"
        # The contract as one document (a split one bundled, mock_server/bundle.py), as the mock reads it.
        spec = work / "openapi.json"
        spec.write_bytes(orjson.dumps(load_document(spec_path()), option=orjson.OPT_NON_STR_KEYS, default=str))
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run",
                   str(spec), "--url", gate_url, "--phases", ",".join(phases), "--checks", "all",
                   "--continue-on-failure", "--max-examples", str(target.max_examples), "--workers", "1",
                   "--request-timeout", str(target.timeout + 5), "--report", "ndjson,html" if html_dir else "ndjson",
                   "--report-ndjson-path", str(report)]
        if html_dir is not None:
            command += ["--report-html-path", str(html_dir)]
        if target.seed is not None:
            command += ["--seed", str(target.seed)]
        if target.read_only:
            for operation_id in sorted(READ_OPERATIONS):
                command += ["--include-operation-id", operation_id]
            command += ["--exclude-checks", ",".join(WRITING_CHECKS)]
        env = {
            **os.environ,
            "CONTRACT_TOKEN": target.token,
            "CONTRACT_RUN_PREFIX": prefix,
            "CONTRACT_DATASET_ID": target.dataset_id,
            "CONTRACT_EVALUATOR_ID": target.evaluator_id,
            "CONTRACT_EVALUATOR_WORKFLOW_ID": target.evaluator_workflow_id,
            # The hooks module must be importable from the temporary directory, installed or not.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")])),
        }
        with Follower(report, on_event) if on_event else nullcontext():
            proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
        found = list(from_schemathesis(report, assumptions, reproducer))
        cases = count_cases(report)
        operations = exercised(report)
        if html_dir is not None and report.is_file():
            # Schemathesis' page links the NDJSON report where it wrote it, a folder deleted with this
            # block: a copy (tokens masked) goes beside the page, which then links that.
            (html_dir / NDJSON_COPY).write_text(reproducer.mask(report.read_text(encoding="utf-8")), encoding="utf-8")
    output = reproducer.mask(proc.stdout + proc.stderr)
    html = _masked_html(html_dir / "index.html", reproducer, report) if html_dir is not None else None
    # A finding of no phase (Schemathesis could not run at all) belongs to every phase of the run.
    return {phase: PhaseResult(phase, proc.returncode, [f for p, f in found if p in (phase, "")], output,
                               cases.get(phase, 0), operations.get(phase, {}), html)
            for phase in phases}


def _masked_html(path: Path, reproducer: Reproducer, ndjson: Path | None = None) -> Path | None:
    """Schemathesis' HTML report with the run's tokens masked by value (sanitization is off, see above)
    and the gate's address replaced by the deployment's, so its curl lines reproduce; None if absent."""
    if not path.is_file():
        return None
    text = reproducer.mask(path.read_text(encoding="utf-8"))
    for secret in reproducer.secrets:  # as an attribute or text of the page may carry it
        if secret:
            text = text.replace(html.escape(secret), "***")
    text = text.replace(reproducer.gate_base, reproducer.target_base)
    if ndjson is not None:
        copy = NDJSON_COPY if (path.parent / NDJSON_COPY).is_file() else "#"
        # Schemathesis links it relative to the page (../../tmp/…) or absolute: each form, longest first.
        for written in (os.path.relpath(ndjson, path.parent), ndjson.as_uri(), str(ndjson)):
            text = text.replace(html.escape(written), copy).replace(written, copy)
        # The document it ran on was the run's bundled copy, deleted too: name the contract it came from.
        text = text.replace(str(ndjson.parent / "openapi.json"), html.escape(str(spec_path())))
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path
