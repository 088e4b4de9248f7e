"""`huibao check`: number grounding and 公文 style lint of a draft against the supplied figures."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Literal

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from assistant.check import CheckResult, check_text, office_terms
from assistant.commands.base import PlainProgress, command_app, console, err_console, live_progress
from assistant.core.errors import HuibaoError, InputError, os_reason
from assistant.core.figures import load_figures
from assistant.core.settings import get_settings
from assistant.core.textio import FRONT_MATTER, TextReadError, decode_text, normalise_newlines, read_docx
from assistant.drafting.review import Review, review_check
from assistant.llm import make_model

app = command_app()

_CONTEXT = 12  # characters shown either side of a finding
_SCOPES: dict[str, Literal["report", "section"]] = {"report": "report", "section": "section"}
_LABELS = {
    "invented": "[red]无数据来源[/]",
    "misattributed": "[red]与所说事项不符[/]",
    "unverified": "[yellow]待核实[/]",
    "placeholder": "[yellow]待补充[/]",
}


def _blank_front_matter(text: str) -> str:
    # YAML front matter (title:, year:) is metadata, not report text; blank it rather than cut
    # it so that reported offsets and line numbers still point into the file as it is.
    m = FRONT_MATTER.match(text)
    return re.sub(r"[^\n]", " ", m.group(0)) + text[m.end() :] if m else text


def read_text_file(path: Path) -> str:
    """Text of a .md/.txt or .docx file, read as ingest reads knowledge files (assistant.core.textio):
    encoding detected (GBK too), a .docx's tables included and its tracked changes accepted, newlines
    as Python's text mode reads them."""
    if path.is_dir():
        raise InputError("这是一个文件夹，请给出文件。", file=str(path))
    if not path.is_file():
        raise InputError("文件不存在。", file=str(path))
    suffix = path.suffix.lower()
    if suffix not in (".md", ".txt", ".markdown", ".docx"):
        raise InputError(f"不支持的文件类型“{suffix or '无扩展名'}”（支持 .md、.txt、.docx）。", file=str(path))
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"无法读取文件（{os_reason(err)}）。", file=str(path)) from None
    try:
        return normalise_newlines(read_docx(data) if suffix == ".docx" else decode_text(data))
    except TextReadError as err:
        raise InputError(f"{err.reason}。", file=str(path)) from None


def read_draft(path: Path) -> str:
    """A draft to check (read_text_file), its YAML front matter blanked; an empty file is refused
    rather than passed as clean."""
    text = read_text_file(path)
    if not text.strip():
        raise InputError("文件是空的，没有可核对的内容。", file=str(path))
    return text if path.suffix.lower() == ".docx" else _blank_front_matter(text)


def _context(text: str, start: int, end: int, style: str) -> str:
    before = text[max(0, start - _CONTEXT) : start].replace("\n", "⏎")
    span = text[start:end].replace("\n", "⏎") or "∅"
    after = text[end : end + _CONTEXT].replace("\n", "⏎")
    if len(span) > 40:
        span = span[:18] + "……" + span[-18:]
    return f"[dim]…{escape(before)}[/][{style}]{escape(span)}[/][dim]{escape(after)}…[/]"


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


@app.command()
def check(
    file: Path = typer.Argument(..., help="要核对的稿件（.md、.txt 或 .docx）"),
    figures: Path | None = typer.Option(
        None, "--figures", "-f", help="数据文件（.yaml、.csv 或 .xlsx）；不提供则只检查格式与用语"
    ),
    as_json: bool = typer.Option(False, "--json", help="只输出一个 JSON 对象"),
    scope: str = typer.Option(
        "report", "--scope", help="report：整篇汇报；section：单个章节（不查导语、结构顺序、结尾）"
    ),
    year: int | None = typer.Option(None, "--year", help="汇报年度（用于核对时效性提法）"),
    terms: Path | None = typer.Option(None, "--terms", help="本单位术语表（YAML；默认读环境变量 HUIBAO_TERMS）"),
    review: bool = typer.Option(
        False, "--review", help="再请模型审读口语和起草备注（需配置模型接口；结果只作提示，以原文摘录为准）"
    ),
) -> None:
    """核对稿件中的数字是否都有数据来源，并检查公文格式与用语。"""
    try:
        checked_scope = _SCOPES.get(scope)
        if checked_scope is None:
            raise InputError("--scope 只能是 report 或 section。", field="scope")
        text = read_draft(file)
        figs = None if figures is None else load_figures(figures)
        if terms is not None and not terms.is_file():
            raise InputError("术语表文件不存在。", file=str(terms), field="--terms")
        result = check_text(text, figs, scope=checked_scope, year=year, terms=terms)
        reviewed = _review(text, result, terms) if review else None
    except HuibaoError as err:
        err_console.print(f"[bold red]错误：[/]{escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2 if isinstance(err, InputError) else err.exit_code) from None
    if reviewed is not None:
        result, done = reviewed
        for note in done.notes:
            err_console.print(f"[yellow]{escape(note)}[/]", soft_wrap=True)
    if as_json:
        data = result.to_json_dict()
        if reviewed is not None:
            data["review"] = {"requests": done.requests, "unquoted": done.unquoted, "notes": done.notes}
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        _print_report(text, result, file, numbers_checked=figs is not None)
        if reviewed is not None:
            _print_review(done)
    raise typer.Exit(0 if result.clean else 1)


def _review(text: str, result: CheckResult, terms: Path | None) -> tuple[CheckResult, Review] | None:
    """The check's result with a model's reading added (drafting/review.py), or None, said on
    stderr, when no model endpoint is configured: the rules' result stands alone."""
    model = make_model(get_settings())
    if model is None:
        err_console.print("[yellow]未配置模型接口，不做模型审读；以下是规则核对的结果。[/]", soft_wrap=True)
        return None
    with contextlib.ExitStack() as stack:
        if live_progress(err_console):
            bar = stack.enter_context(
                Progress(TextColumn("模型审读"), BarColumn(), MofNCompleteColumn(), console=err_console, transient=True)
            )
            task = bar.add_task("review", total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

        else:
            lines = PlainProgress()

            def tick(done: int, total: int) -> None:
                lines("模型审读", done, total)

        return review_check(text, result, model, terms=office_terms(terms), progress=tick)


def _print_review(review: Review) -> None:
    dropped = f"；另有 {review.unquoted} 条的摘录在原文中找不到，未采用" if review.unquoted else ""
    console.print(
        f"\n[dim]模型审读：{review.requests} 次请求，提示 {len(review.findings)} 处"
        f"（规则 R-模型，只作提示，不计入是否通过）{dropped}。[/]",
        soft_wrap=True,
    )


def _print_report(text: str, result: CheckResult, file: Path, *, numbers_checked: bool = True) -> None:
    # Long finding lines are not re-wrapped: the highlighted context must stay on one line.
    def out(msg: str = "") -> None:
        console.print(msg, soft_wrap=True)

    s = result.summary
    out(f"[bold]核对结果：{escape(str(file))}[/]")
    numbers = (
        f"数字：有据 {s.grounded} 处，[red]无据 {s.invented} 处[/]，[red]错配 {s.misattributed} 处[/]，"
        f"[yellow]待核实 {s.unverified} 处[/]，待补充 {s.placeholders} 处；"
        if numbers_checked
        else "数字：未核对（没有提供 --figures 数据文件）"
        + (f"，[yellow]待核实 {s.unverified} 处[/]" if s.unverified else "")
        + f"，待补充 {s.placeholders} 处；"
    )
    out(f"{numbers}格式用语：[red]错误 {s.style_errors} 处[/]，[yellow]提示 {s.style_warnings} 处[/]")
    # Flagged numbers first (they must be fixed), then the marks a person still has to settle.
    for title, status in (
        ("数字", ("invented", "misattributed")),
        ("待核实", ("unverified",)),
        ("待补充", ("placeholder",)),
    ):
        listed = [m for m in result.numbers if m.status in status]
        if listed:
            out(f"\n[bold]{title}[/]")
        for m in listed:
            why = f"：{escape(m.message)}" if m.message and m.flagged else ""
            label = "[red]推算不符[/]" if m.status == "invented" and m.derivation else _LABELS[m.status]
            out(
                f"  第 {_line_of(text, m.start)} 行 {label} “{escape(m.text)}”{why}  "
                + _context(text, m.start, m.end, "bold red" if m.flagged else "bold yellow")
            )
    if result.style:
        out("\n[bold]格式与用语[/]")
        for f in result.style:
            tag = "[red]错误[/]" if f.severity == "error" else "[yellow]提示[/]"
            fix = f"  建议：{escape(f.suggestion)}" if f.suggestion else ""
            out(
                f"  第 {_line_of(text, f.start)} 行 {tag} {f.rule} {escape(f.message)}{fix}\n    "
                + _context(text, f.start, f.end, "bold yellow")
            )
    if result.coverage.unused:
        out(f"\n未使用的数据：{escape('、'.join(result.coverage.unused))}")
    passed = (
        "\n[green]通过：没有无据或错配的数字、待核实和待补充内容，也没有格式错误。[/]"
        if numbers_checked
        else "\n[green]通过：没有待补充、待核实的内容，也没有格式错误（数字未核对）。[/]"
    )
    out(passed if result.clean else "\n[red]未通过：请修改上述问题。[/]")
