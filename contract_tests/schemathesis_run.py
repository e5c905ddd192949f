"""Run Schemathesis (its own CLI, all its default checks plus ours) against a target, one phase at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import SPEC_PATH, Target

ROOT = SPEC_PATH.parent
PHASES = ("examples", "coverage", "fuzzing", "stateful")
READ_ONLY_OPERATIONS = ("listExperiments", "filterExperiments", "getExperimentSummary",
                        "summarizeFilteredExperiments", "getExperiment")
# The token reaches Schemathesis through the environment, never the command line or the output.
CONFIG = """\
hooks = "contract_tests.hooks"
headers = { Authorization = "Bearer ${CONTRACT_TOKEN}" }

[output.sanitization]
enabled = true
"""


@dataclass
class PhaseResult:
    phase: str
    exit_code: int
    output: str
    requests: int
    created: list[str]

    @property
    def failures(self) -> str:
        """The failure section of Schemathesis' report (what broke, how to reproduce it)."""
        text = self.output
        start = text.find("FAILURES")
        end = text.find("SUMMARY")
        return text[start:end].strip() if start != -1 else text[-4000:]


def run_phase(target: Target, phase: str, *, prefix: str, budget: int,
              report_dir: Path | None = None) -> PhaseResult:
    with tempfile.TemporaryDirectory(prefix="contract-") as tmp:
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(CONFIG)
        state_file = Path(tmp) / "state.json"
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run",
                   str(SPEC_PATH), "--url", target.base_url, "--phases", phase, "--checks", "all",
                   "--max-examples", str(target.max_examples), "--workers", "1",
                   "--request-timeout", str(target.timeout), "--max-failures", "20"]
        if target.seed is not None:
            command += ["--seed", str(target.seed)]
        if target.rate_limit:
            command += ["--rate-limit", f"{int(target.rate_limit)}/s"]
        if target.read_only:
            for operation_id in READ_ONLY_OPERATIONS:
                command += ["--include-operation-id", operation_id]
        if report_dir is not None:
            command += ["--report", "junit", "--report-junit-path", str(report_dir / f"schemathesis-{phase}.xml")]
        env = {
            **os.environ,
            "CONTRACT_TOKEN": target.token,
            "CONTRACT_RUN_PREFIX": prefix,
            "CONTRACT_STATE_FILE": str(state_file),
            "CONTRACT_MAX_REQUESTS": str(max(budget, 1)),
            "CONTRACT_DATASET_ID": target.dataset_id,
            "CONTRACT_EVALUATOR_ID": target.evaluator_id,
            "CONTRACT_EVALUATOR_WORKFLOW_ID": target.evaluator_workflow_id,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        state = json.loads(state_file.read_text()) if state_file.exists() else {"requests": 0, "created": []}
    output = target.mask(proc.stdout + proc.stderr)
    return PhaseResult(phase, proc.returncode, output, state["requests"], state["created"])
