"""The `huibao` command. Wiring only: each command parses its inputs, calls a stage module
and prints the result. Commands live in the `assistant.commands` modules, one per stage."""

from __future__ import annotations

import os
import sys

from assistant.commands import check, draft, evals, kb, models, workspace  # noqa: F401  (registers the commands)
from assistant.commands.base import app, console, err_console
from assistant.core.errors import HuibaoError

__all__ = ["app", "console", "err_console", "main"]


def main() -> None:
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
