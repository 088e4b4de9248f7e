"""The `huibao` command. Wiring only: each command parses its inputs, calls a stage module
and prints the result. Commands live in the `assistant.commands` modules, one per stage."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from assistant.errors import HuibaoError

app = typer.Typer(
    name="huibao",
    help="汇报起草助手：检索往年汇报与政策文件，按提供的数据起草年度工作汇报，并核对数字与公文规范。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def _register_commands() -> None:
    # Each module adds its commands to `app` on import.
    from assistant.commands import check, draft, evals, kb, models, workspace  # noqa: F401


def main() -> None:
    _register_commands()
    try:
        app()
    except HuibaoError as err:
        err_console.print(f"[bold red]错误：[/]{err}")
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]已中断。已保存的内容不受影响。[/]")
        sys.exit(130)
    except Exception as err:  # never a bare traceback for the user
        if os.environ.get("HUIBAO_DEBUG"):
            raise
        err_console.print(f"[bold red]内部错误：[/]{type(err).__name__}: {err}\n设置 HUIBAO_DEBUG=1 可查看详细信息。")
        sys.exit(3)


if __name__ == "__main__":
    main()
