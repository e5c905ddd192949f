"""Live progress of a contract run on a terminal (rich): the rule tests, and each Schemathesis lane's
phase, last operation, cases and findings so far, read from its NDJSON events as they are written.

Shown only when the run is the contract suite alone, stdout is a terminal that reports a size it
can be drawn in (a pty without a window size reports 0x0: rich would draw every line, the verdict
included, zero columns wide), `CI` is not set and `--no-progress` is not given; otherwise nothing
changes, so CI logs stay as they were. The display is a `rich.live.Live` on its own copy of the
terminal (pytest captures file descriptor 1 while a test runs); pytest's own output passes through
it a whole line at a time and prints above the display, which disappears when the run ends, before
the summary.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from rich.ansi import AnsiDecoder
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .findings import ASSUMPTION, Finding, FindingLog

PACKAGE = Path(__file__).resolve().parent
PHASES = ("examples", "coverage", "fuzzing", "stateful")
Classify = Callable[[dict[str, Any]], Iterable[tuple[str, Finding]]]


# The smallest terminal the display fits in (a title line and a few short columns).
MIN_COLUMNS, MIN_LINES = 40, 4


def wanted(*, isatty: bool, environ: Mapping[str, str], no_progress: bool, contract_only: bool,
           size: tuple[int, int] = (80, 24)) -> bool:
    """Whether to show the display: a terminal of a drawable `size` (columns, lines), not CI, not
    turned off, a run of the contract suite alone."""
    drawable = size[0] >= MIN_COLUMNS and size[1] >= MIN_LINES
    return (isatty and drawable and contract_only and not no_progress and not environ.get("CI")
            and environ.get("TERM") != "dumb")


def terminal_size(fd: int) -> tuple[int, int]:
    """(columns, lines) of the terminal on `fd`; (0, 0) when it reports none."""
    try:
        size = os.get_terminal_size(fd)
    except (OSError, ValueError):
        return (0, 0)
    return (size.columns, size.lines)


def contract_only(args: Iterable[str]) -> bool:
    """Whether every path pytest was given lies in the contract suite (not `make test`'s whole run)."""
    paths = [Path(arg.split("::", 1)[0]).resolve() for arg in args]
    return bool(paths) and all(p == PACKAGE or PACKAGE in p.parents for p in paths)


@dataclass
class Headline:
    prefix: str = ""
    requests: int = 0
    violations: int = 0
    refuted: int = 0


@dataclass
class Lane:
    """One Schemathesis process, as its events tell it."""

    name: str
    phase: str = "starting"
    operation: str = ""
    cases: int = 0
    findings: FindingLog = field(default_factory=FindingLog)
    done: bool = False


@dataclass
class State:
    """What the display shows; updated from pytest's hooks and the lanes' followers."""

    headline: Callable[[], Headline] = Headline
    started: float = field(default_factory=time.monotonic)
    total: int = 0
    done: int = 0
    current: str = ""
    lanes: dict[str, Lane] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def lane(self, name: str, classify: Classify | None = None) -> Callable[[dict[str, Any]], None]:
        """A listener for one lane's NDJSON events."""
        with self.lock:
            lane = self.lanes[name] = Lane(name)

        def listen(event: dict[str, Any]) -> None:
            if "PhaseStarted" in event:
                name = str((event["PhaseStarted"].get("phase") or {}).get("name"))
                if name in PHASES:
                    lane.phase = name
            elif "ScenarioStarted" in event:
                lane.phase = str(event["ScenarioStarted"].get("phase") or lane.phase)
            elif "ScenarioFinished" in event:
                recorder = event["ScenarioFinished"].get("recorder") or {}
                lane.cases += len(recorder.get("interactions") or {})
                lane.operation = str(recorder.get("label") or lane.operation)
            elif "EngineFinished" in event:
                lane.done = True
            if classify is not None and ("ScenarioFinished" in event or "NonFatalError" in event):
                lane.findings.extend(finding for _, finding in classify(event))

        return listen


def _findings_text(violations: int, refuted: int) -> Text:
    text = Text()
    text.append(f"{violations} violation{'s' * (violations != 1)}", style="bold red" if violations else "green")
    text.append(", ")
    text.append(f"{refuted} refuted", style="yellow" if refuted else "green")
    return text


def render(state: State) -> RenderableType:
    """The display: a headline and one row for the rule tests and each Schemathesis lane."""
    head = state.headline()
    with state.lock:
        lanes = list(state.lanes.values())
    live_violations = sum(len(lane.findings.violations()) for lane in lanes if not lane.done)
    live_refuted = sum(len(lane.findings.refuted()) for lane in lanes if not lane.done)
    title = Text.assemble(("contract run ", "bold"), (head.prefix or "…", "bold cyan"),
                          f" · {time.monotonic() - state.started:.0f} s · {head.requests} requests · findings so far: ")
    title.append_text(_findings_text(head.violations + live_violations, head.refuted + live_refuted))
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
    table.add_column("")
    table.add_column("phase")
    table.add_column("operation", overflow="ellipsis", no_wrap=True, max_width=48)
    table.add_column("cases", justify="right")
    table.add_column("findings")
    current = state.current.rsplit("::", 1)[-1]
    table.add_row("tests", f"{state.done}/{state.total}" if state.total else "collecting", current, "", "")
    for lane in lanes:
        findings = lane.findings.all()
        table.add_row(Text(lane.name, style="dim" if lane.done else ""), "done" if lane.done else lane.phase,
                      lane.operation, str(lane.cases),
                      _findings_text(sum(f.kind != ASSUMPTION for f in findings),
                                     sum(f.kind == ASSUMPTION for f in findings)))
    return Group(title, table)


class Lines(io.TextIOBase):
    """pytest's terminal output handed to the display's console a whole line at a time, so it prints
    above the display (a `flush` sends nothing: pytest flushes after every test's letter)."""

    def __init__(self, console: Console, file: IO[str]) -> None:
        self.console, self.file = console, file
        self.pending = ""
        self.decoder = AnsiDecoder()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # typeshed types it a writable attribute; ours is read-only
        return self.console.encoding

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.file.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        if lines:
            self.console.print(Text("\n").join(self.decoder.decode_line(line) for line in lines), soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        return None

    def finish(self) -> None:
        if self.pending:
            self.console.print(self.decoder.decode_line(self.pending), soft_wrap=True, end="")
            self.pending = ""
        self.file.flush()


class Display:
    """The live display on a terminal, and the pytest hooks that feed it."""

    def __init__(self, state: State, file: IO[str]) -> None:
        self.state = state
        self.file = file
        # The copy of the terminal's descriptor is a terminal too; `start` made sure it has a size.
        console = Console(file=file, width=terminal_size(file.fileno())[0] or None)
        self.lines = Lines(console, file)
        self.live = Live(console=console, get_renderable=lambda: render(state), refresh_per_second=4,
                         transient=True, redirect_stdout=False, redirect_stderr=False)
        self.stdout: IO[str] | None = None

    def start(self) -> None:
        """Show the display; what is printed to sys.stdout from now until pytest's terminal reporter is
        made (which keeps the stream it finds) goes through `Lines`."""
        self.stdout, sys.stdout = sys.stdout, self.lines
        self.live.start()

    def stop(self) -> None:
        if self.live.is_started:
            self.live.stop()
        if sys.stdout is self.lines and self.stdout is not None:
            sys.stdout = self.stdout

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.total = len(session.items)

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.state.current = nodeid

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.state.done += 1


DISPLAY: Display | None = None


def start(config: pytest.Config, headline: Callable[[], Headline]) -> None:
    """Start the display if it is wanted. Must run before pytest's terminal reporter is made (a
    `tryfirst` pytest_configure), so that reporter's lines go through the display."""
    global DISPLAY
    stdout = sys.stdout
    off = bool(config.getoption("contract_no_progress", False))
    isatty = stdout.isatty()
    if not wanted(isatty=isatty, environ=os.environ, no_progress=off, contract_only=contract_only(config.args),
                  size=terminal_size(stdout.fileno()) if isatty else (0, 0)):
        return
    # A copy of the terminal's descriptor: pytest points descriptor 1 at a file while a test runs.
    file = os.fdopen(os.dup(stdout.fileno()), "w", encoding=getattr(stdout, "encoding", None) or "utf-8",
                     buffering=1)
    DISPLAY = Display(State(headline=headline), file)
    config.pluginmanager.register(DISPLAY, "contract-progress")
    DISPLAY.start()


def lane(name: str, classify: Classify | None = None) -> Callable[[dict[str, Any]], None] | None:
    """A listener for a Schemathesis lane's events, or None when nothing is shown."""
    return DISPLAY.state.lane(name, classify) if DISPLAY is not None else None


def stop() -> None:
    """Take the display away (before the summary); pytest's lines print as before."""
    if DISPLAY is not None:
        DISPLAY.stop()


def close() -> None:
    global DISPLAY
    if DISPLAY is not None:
        DISPLAY.stop()
        DISPLAY.lines.finish()
        DISPLAY.file.close()
        DISPLAY = None
