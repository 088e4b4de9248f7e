"""`huibao outline …`: a saved report's outline, edited as on the 提纲 page.

show · add · remove · restore · move · title · notes · figures. Wiring only: every rule (ids that
never change, removed sections kept with their versions, checks, one transaction per edit) is in
assistant.workspace.service and assistant.workspace.outline.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from assistant.commands.base import command_app, console
from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.gongwen import PART_NAMES
from assistant.workspace.outline import find
from assistant.workspace.service import Workspace

app = command_app()
outline = command_app(help="查看和修改汇报的提纲：章节的增删、顺序、标题、要点和所用数据（与网页“提纲”页相同）。")
app.add_typer(outline, name="outline")

REPORT = typer.Argument(..., help="汇报编号（huibao reports 可查看）")
SECTION = typer.Argument(..., help="章节编号，如 intro、1、1.1、closing")


def _workspace() -> Workspace:
    return Workspace.open(get_settings().workspace_target)


def _show(ws: Workspace, report: str) -> None:
    spec = ws.spec(report)
    console.print(f"[bold]{escape(spec.title)}[/]（{escape(report)}）")

    def visit(items, depth: int) -> None:
        for sec in items:
            frame = depth == 0 and sec.part in ("intro", "closing")
            heading = PART_NAMES[sec.part] if frame else spec.label(sec.id) + (sec.title or "（标题待拟）")
            figures = f"　数据：{'、'.join(sec.figures)}" if sec.figures else ""
            console.print(f"{'  ' * depth}{escape(sec.id)}　{escape(heading)}{escape(figures)}")
            for line in sec.notes.splitlines():
                console.print(f"{'  ' * depth}    · {escape(line)}", style="dim")
            visit(sec.children, depth + 1)

    visit(spec.sections, 0)
    for entry in spec.removed:
        console.print(
            f"[yellow]已移除：{escape(entry.section.id)} {escape(entry.section.title or '')}"
            f"（全部版本保留；恢复：huibao outline restore {escape(report)} {escape(entry.section.id)}）[/]"
        )


@outline.command("show")
def show(report: str = REPORT) -> None:
    """列出提纲：章节编号、序号和标题、要点、所用数据，以及已移除的章节。"""
    _show(_workspace(), report)


@outline.command("add")
def add(
    report: str = REPORT,
    parent: str | None = typer.Option(None, "--parent", help="上级章节编号；省略则加在最上一级（结束语之前）"),
    title: str | None = typer.Option(None, "--title", help="标题；省略则起草时拟定"),
    notes: str = typer.Option("", "--notes", help="要点"),
    index: int | None = typer.Option(None, "--index", help="在同级中的位置（从 1 起）；省略则排在最后"),
) -> None:
    """添加一个章节（尚未起草）。"""
    ws = _workspace()
    section_id = ws.add_section(
        report, parent_id=parent, title=title, notes=notes, index=None if index is None else index - 1
    )
    console.print(f"已添加章节 {escape(section_id)}。起草：huibao regenerate {escape(report)} {escape(section_id)}")


@outline.command("remove")
def remove(report: str = REPORT, section_id: str = SECTION) -> None:
    """把章节（连同其下各节）移出提纲；全部版本保留，可用 huibao outline restore 恢复。"""
    removed = _workspace().remove_section(report, section_id)
    console.print(
        f"已移除章节 {escape('、'.join(removed))}，全部版本保留。"
        f"恢复：huibao outline restore {escape(report)} {escape(section_id)}"
    )


@outline.command("restore")
def restore(report: str = REPORT, section_id: str = SECTION) -> None:
    """把移除的章节恢复到原来的位置，版本历史不变。"""
    _workspace().restore_section(report, section_id)
    console.print(f"已恢复章节 {escape(section_id)}。")


@outline.command("move")
def move(
    report: str = REPORT,
    section_id: str = SECTION,
    up: bool = typer.Option(False, "--up", help="在同级中上移一位"),
    down: bool = typer.Option(False, "--down", help="在同级中下移一位"),
    parent: str | None = typer.Option(None, "--parent", help="移到这一章节之下"),
    top: bool = typer.Option(False, "--top", help="移到最上一级"),
    index: int = typer.Option(0, "--index", help="与 --parent/--top 同用：在新的同级中的位置（从 1 起；0 为最后）"),
) -> None:
    """调整章节顺序或层级；章节编号和版本历史不变，序号（一、（一））按新位置排。"""
    if sum([up, down, parent is not None, top]) != 1:
        raise InputError("请只给出 --up、--down、--parent 或 --top 中的一个。", field="move")
    ws = _workspace()
    if up or down:
        ws.shift_section(report, section_id, -1 if up else 1)
    else:
        siblings = ws.spec(report).sections if top else find(ws.spec(report), parent or "").children
        at = index - 1 if index > 0 else len(siblings)
        ws.move_section(report, section_id, parent_id=None if top else parent, index=at)
    spec = ws.spec(report)
    console.print(f"已移动章节 {escape(section_id)}，现为“{escape(spec.label(section_id) or section_id)}”。")


@outline.command("title")
def title(
    report: str = REPORT,
    section_id: str = SECTION,
    new_title: str = typer.Argument("", help="新标题；空字符串表示起草时拟定"),
) -> None:
    """修改章节标题（已锁定的章节拒绝修改）。"""
    saved = _workspace().retitle_section(report, section_id, new_title)
    console.print(f"章节 {escape(section_id)} 的标题已改为“{escape(saved or '（起草时拟定）')}”。")


@outline.command("notes")
def notes(
    report: str = REPORT,
    section_id: str = SECTION,
    text: str | None = typer.Option(None, "--text", help="新的要点"),
    file: Path | None = typer.Option(None, "--file", "-f", help="从 UTF-8 文本文件读入要点"),
) -> None:
    """替换章节的要点。"""
    if (text is None) == (file is None):
        raise InputError("请给出 --text 或 --file 中的一个。", field="notes")
    if file is not None:
        if not file.is_file():
            raise InputError("文件不存在。", file=str(file))
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("文件不是 UTF-8 编码的文本，请另存为 UTF-8。", file=str(file)) from None
    saved = _workspace().set_notes(report, section_id, text or "")
    console.print(f"章节 {escape(section_id)} 的要点已保存（{len(saved)} 字）。")


@outline.command("figures")
def figures(
    report: str = REPORT,
    section_id: str = SECTION,
    figure_ids: list[str] = typer.Argument(None, help="数据编号，如 F01 F02；不写则清空"),
) -> None:
    """指定章节所用的数据（数据编号须在本汇报的数据中）。"""
    saved = _workspace().set_section_figures(report, section_id, figure_ids or [])
    console.print(f"章节 {escape(section_id)} 所用数据：{escape('、'.join(saved) or '无')}。")
