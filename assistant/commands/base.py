"""The `huibao` Typer app and its consoles; command modules register on `app`."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="huibao",
    help="汇报起草助手：检索往年汇报与政策文件，按提供的数据起草年度工作汇报，并核对数字与公文规范。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)
