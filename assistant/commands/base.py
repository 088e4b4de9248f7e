"""The consoles every command prints to, and the Typer app each command module registers on.

Each command module has its own `app = command_app()`; `assistant.commands.main` loads a module
only when one of its commands runs, so `huibao ingest` does not import drafting or the eval."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from assistant.check.result import Summary

HELP = "汇报起草助手：检索往年汇报与政策文件，按提供的数据起草年度工作汇报，并核对数字与公文规范。"

console = Console()
err_console = Console(stderr=True)


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
