"""The consoles every command prints to, and the Typer app each command module registers on.

Each command module has its own `app = command_app()`; `assistant.commands.main` loads a module
only when one of its commands runs, so `huibao ingest` does not import drafting or the eval."""

from __future__ import annotations

import typer
from rich.console import Console

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
