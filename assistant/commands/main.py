"""The `huibao` command. Wiring only: each command parses its inputs, calls a stage module
and prints the result. Commands live in the `assistant.commands` modules, one per stage; a
module is imported only when one of its commands runs (start-up time: `huibao ingest` need not
load drafting, the checks or the eval)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from assistant.commands.base import HELP, ChineseGroup, console, err_console
from assistant.core.errors import EXIT_INTERNAL, HuibaoError

__all__ = ["COMMANDS", "app", "console", "err_console", "main"]

# Command name -> the module that defines it, in the order `huibao --help` lists them.
COMMANDS: dict[str, str] = {
    "materials": "materials",
    "check": "check",
    "draft": "draft",
    "demo": "draft",
    "eval": "evals",
    "ingest": "kb",
    "search": "kb",
    "kb": "kb",
    "models": "models",
    "config": "models",
    "reports": "workspace",
    "rename": "workspace",
    "delete": "workspace",
    "restore": "workspace",
    "show": "workspace",
    "history": "workspace",
    "regenerate": "workspace",
    "revert": "workspace",
    "diff": "workspace",
    "lock": "workspace",
    "unlock": "workspace",
    "edit": "workspace",
    "figures": "workspace",
    "stale": "workspace",
    "refresh": "workspace",
    "undo": "workspace",
    "export": "workspace",
    "submit": "workspace",
    "approve": "workspace",
    "return": "workspace",
    "review": "workspace",
    "backup": "backup",
    "restore-backup": "backup",
    "outline": "outline",
    "import": "markup",
    "user": "accounts",
    "members": "accounts",
    "audit": "accounts",
    "ui": "ui",
}


class LazyCommands(ChineseGroup):
    """Loads a command's module on first use (click's documented lazy-group pattern)."""

    # ctx and the commands are typer's own (vendored) click types, which it does not export.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        commands = typer.main.get_command(importlib.import_module(f"assistant.commands.{module}").app)
        if isinstance(commands, TyperGroup):  # a module with several commands
            return commands.get_command(ctx, cmd_name)
        return commands if commands.name == cmd_name else None


app = typer.Typer(
    name="huibao",
    help=HELP,
    cls=LazyCommands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    # A callback makes Typer build a group even though no command is registered here.
    pass


_root.__doc__ = HELP


INTERRUPTED = "[yellow]已中断。已保存的内容不受影响。[/]"


def main() -> None:
    try:
        app()
    except HuibaoError as err:
        err_console.print(f"[bold red]错误：[/]{escape(str(err))}")
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print(INTERRUPTED)
        sys.exit(130)
    except SystemExit as done:
        if done.code == 130:  # Typer turns ^C inside a command into this exit status, silently
            err_console.print(INTERRUPTED)
        raise
    except Exception as err:  # never a bare traceback for the user
        if os.environ.get("HUIBAO_DEBUG"):
            raise
        err_console.print(
            f"[bold red]内部错误：[/]{escape(f'{type(err).__name__}: {err}')}\n设置 HUIBAO_DEBUG=1 可查看详细信息。"
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
