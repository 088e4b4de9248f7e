"""The consoles every command prints to, and the Typer app each command module registers on.

Each command module has its own `app = command_app()`; `assistant.commands.main` loads a module
only when one of its commands runs, so `huibao ingest` does not import drafting or the eval.

Typer writes its usage errors and help frame in English; the command classes here say them in
Chinese (usage_error_message() turns each kind of usage error into a Chinese sentence)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer import rich_utils
from typer._click import exceptions as click_errors  # typer's vendored click: its error classes
from typer.core import TyperCommand, TyperGroup

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
    """The phase of an ingest progress label ("file:<source>" while reading, "chunks" while
    embedding, "index" while the search index is brought up to date)."""
    if label.startswith("file:"):
        return "读取文件"
    return "更新检索索引" if label == "index" else "向量化分块"


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


# The help frame typer draws around a command's help (module constants it reads when printing).
rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.ABORTED_TEXT = "已取消。"
rich_utils.DEFAULT_STRING = "[默认：{}]"
rich_utils.REQUIRED_LONG_STRING = "[必填]"
rich_utils.ENVVAR_STRING = "[环境变量：{}]"
rich_utils.DEPRECATED_STRING = "（已停用）"
rich_utils.RICH_HELP = "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。"

USAGE_PREFIX = "用法："
HELP_OPTION_TEXT = "显示本帮助并退出。"

# pydantic's error type (typer validates option values with it) -> why the value is refused.
_VALUE_REASONS: dict[str, str] = {
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "string_too_long": "太长",
    "path_not_file": "不是文件",
    "path_not_directory": "不是文件夹",
}


def _hint(err: Any) -> str:
    """The parameter an error is about, as written on the command line: --k / -k, report."""
    hint = getattr(err, "param_hint", None)
    param = getattr(err, "param", None)
    if hint is None and param is not None:
        hint = param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(hint)
    return (hint or "").replace("'", "")


def _param_help(err: Any) -> str:
    param = getattr(err, "param", None)
    text = getattr(param, "help", None) or ""
    return f"（{text}）" if text else ""


def _value_reason(err: BaseException) -> str:
    """Why typer refused a value, from the validation error behind it; "无效" when unknown."""
    cause = err.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return "无效"
    first = (errors() or [{}])[0]
    template = _VALUE_REASONS.get(str(first.get("type")))
    if template is None:
        return "无效"
    context = {k: str(v).replace("'", "") for k, v in (first.get("ctx") or {}).items()}
    try:
        return "无效：" + template.format(**context)
    except (KeyError, IndexError):
        return "无效"


def _bad_value(err: Any) -> str:
    cause = err.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors) and errors():
        value = errors()[0].get("input")
        if value is not None:
            return f"“{value}”"
    return ""


def usage_error_message(err: BaseException) -> str:
    """A Chinese sentence for a command-line usage error (typer's own text is English)."""
    if isinstance(err, click_errors.MissingParameter):
        kind = "参数" if getattr(err.param, "param_type_name", "") == "argument" else "选项"
        return f"缺少{kind} {_hint(err)}{_param_help(err)}。"
    if isinstance(err, click_errors.NoSuchOption):
        message = f"没有 {err.option_name} 这个选项。"
        if err.possibilities:
            message += f"是不是要用 {'、'.join(sorted(err.possibilities))}？"
        return message
    if isinstance(err, click_errors.BadOptionUsage):
        if "requires" in err.message:
            return f"选项 {err.option_name} 后面要跟一个值。"
        if "does not take a value" in err.message:
            return f"选项 {err.option_name} 不带值。"
        return f"选项 {err.option_name} 用法不对。"
    if isinstance(err, click_errors.BadParameter):
        return f"{_hint(err)} 的值{_bad_value(err)}{_value_reason(err)}。"
    message = getattr(err, "message", "")
    if m := re.fullmatch(r"Got unexpected extra argument\(s\) \((.*)\)", message):
        return f"多余的参数：{m.group(1)}。"
    if m := re.fullmatch(r"No such command '(.*)'\.", message):
        return f"没有 {m.group(1)} 这个命令。"
    if message == "Missing command.":
        return "缺少命令。"
    if m := re.fullmatch(r"Argument '(.*)' takes (\d+) values\.", message):
        return f"参数 {m.group(1)} 需要 {m.group(2)} 个值。"
    return "命令行用法不对。"


class _ChineseFrame:
    """The parts of a typer command's help and usage line that are English by default."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option


class ChineseCommand(_ChineseFrame, TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = "[选项]"
        super().__init__(*args, **kwargs)


class ChineseGroup(_ChineseFrame, TyperGroup):
    """A command group whose usage errors are printed in Chinese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = "[选项]"
        if kwargs.get("subcommand_metavar") is None:
            kwargs["subcommand_metavar"] = "命令 [参数]..."
        super().__init__(*args, **kwargs)

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def run() -> Any:
            return super(ChineseGroup, self).main(
                args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )

        if not standalone_mode:
            return run()
        try:
            # Not standalone: the errors come back here instead of being printed in English.
            code = run()
        except click_errors.NoArgsIsHelpError as err:
            sys.exit(err.exit_code)  # the help is already printed
        except click_errors.ClickException as err:
            show_usage_error(err)
            sys.exit(err.exit_code)
        except typer.Abort:
            err_console.print("[red]已取消。[/]")
            sys.exit(1)
        # A typer.Exit's code comes back as the return value; commands return nothing.
        sys.exit(code if isinstance(code, int) else 0)


def show_usage_error(err: BaseException) -> None:
    ctx = getattr(err, "ctx", None)
    if ctx is not None:
        pieces = " ".join(ctx.command.collect_usage_pieces(ctx))
        err_console.print(escape(f"{USAGE_PREFIX}{ctx.command_path} {pieces}"), highlight=False)
        err_console.print(escape(f"运行 {ctx.command_path} --help 查看帮助。"), style="dim", highlight=False)
    err_console.print(f"[bold red]错误：[/]{escape(usage_error_message(err))}", highlight=False)


class _ChineseTyper(typer.Typer):
    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", ChineseCommand)
        return super().command(*args, **kwargs)


def command_app(**options: object) -> typer.Typer:
    """A Typer app with the settings every `huibao` command shares."""
    return _ChineseTyper(
        name="huibao",
        cls=ChineseGroup,
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
