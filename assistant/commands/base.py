"""The consoles every command prints to, and the Typer app each command module registers on.

Each command module has its own `app = command_app()`; `assistant.commands.main` loads a module
only when one of its commands runs, so `huibao ingest` does not import drafting or the eval."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from assistant.check.result import Summary

HELP = "汇报起草助手：检索往年汇报与政策文件，按提供的数据起草年度工作汇报，并核对数字与公文规范。"

console = Console()
err_console = Console(stderr=True)


def live_progress(out: Console) -> bool:
    """Whether a live progress bar can be drawn on `out`: only on a terminal. Elsewhere (a log, a
    pipe, CI) a bar prints nothing until it ends, or control codes: use PlainProgress there."""
    return out.is_terminal


def ingest_phase(label: str) -> str:
    """The phase of an ingest progress label ("file:<source>" while reading, "chunks" while embedding)."""
    return "读取文件" if label.startswith("file:") else "向量化分块"


class PlainProgress:
    """Progress as plain lines ("读取文件 3/12"), for every long command whose output is not a
    terminal: a line when a phase starts and when it ends, and at most one every `every_s` seconds
    between. Call it as progress(phase, done, total)."""

    def __init__(
        self,
        out: Console | None = None,
        every_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        phase: Callable[[str], str] = str,
    ) -> None:
        self._out = out or err_console
        self._phase = phase  # a caller's label -> the phase named in the line
        self._every_s = every_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._printed: set[tuple[str, int, int]] = set()

    def __call__(self, label: str, done: int, total: int) -> None:
        phase = self._phase(label)
        if (phase, done, total) in self._printed:
            return
        now = self._clock()
        if done in (0, total) or now - self._last.get(phase, float("-inf")) >= self._every_s:
            self._last[phase] = now
            self._printed.add((phase, done, total))
            self._out.print(f"{phase} {done}/{total}", markup=False, highlight=False)


def command_app(**options: object) -> typer.Typer:
    """A Typer app with the settings every `huibao` command shares."""
    return typer.Typer(
        name="huibao",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        **options,  # type: ignore[arg-type]
    )


# How the tables count a check's numbers. 编造 includes the misattributed (another item's figure:
# as wrong as an invented one); 待核实 (marked after a failed repair) is apart from 待补充.
NUMBER_COUNTS_HEADER = "数字 有据/编造/待核实/待补"


def number_counts(summary: Summary) -> str:
    """The NUMBER_COUNTS_HEADER cell of a check summary: "12/1/0/2"."""
    flagged = summary.invented + summary.misattributed
    return f"{summary.grounded}/{flagged}/{summary.unverified}/{summary.placeholders}"


def number_line(summary: Summary) -> str:
    """The same counts in a sentence: "有据 12 / 编造 1 / 待核实 0 / 待补 2"."""
    flagged = summary.invented + summary.misattributed
    return f"有据 {summary.grounded} / 编造 {flagged} / 待核实 {summary.unverified} / 待补 {summary.placeholders}"
