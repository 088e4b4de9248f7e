"""`huibao` commands for the workspace: saved reports, versions, regeneration, figures, export.

reports · rename · delete · restore · show · history · regenerate · revert · diff · lock · unlock ·
edit · figures · stale · refresh · undo · export · submit · approve · return · review. Every command names a report by its id, never by
its title (two reports may share a title). Wiring only: the work is done by assistant.workspace.service, assistant.drafting.draft and
assistant.export.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from assistant.commands.base import (
    NUMBER_COUNTS_HEADER,
    PlainProgress,
    command_app,
    console,
    err_console,
    number_counts,
    number_line,
)
from assistant.commands.check import read_text_file
from assistant.core.errors import EXIT_MODEL, InputError, ModelError, StoreError, Unchanged
from assistant.core.figures import Figure, format_value, load_figures
from assistant.core.settings import Settings, get_settings
from assistant.core.textio import strip_controls
from assistant.drafting.context import DraftContext, SectionRequest
from assistant.drafting.draft import draft_section
from assistant.drafting.drafts import SectionDraft
from assistant.drafting.engines import Engine, make_engine
from assistant.drafting.offline import parse_instruction
from assistant.drafting.spec import ReportSpec, SectionSpec
from assistant.export import export_docx, export_markdown, export_notes, file_stem
from assistant.kb.ingest import open_knowledge_base
from assistant.kb.retrieve import KnowledgeBase
from assistant.llm import ChatModel, make_model
from assistant.llm.embeddings import make_embedder
from assistant.workspace.service import VersionConflict, Workspace, unified_diff
from assistant.workspace.store import AUTHOR_ZH

app = command_app()

REPORT = typer.Argument(..., help="汇报编号（huibao reports 可查看）")
SECTION = typer.Argument(..., help="章节编号，如 intro、1、1.1、closing")


def _settings() -> Settings:
    return get_settings()


def _workspace() -> Workspace:
    return Workspace.open(_settings().workspace_target)


def _open_kb(settings: Settings) -> KnowledgeBase | None:
    """The knowledge base, or None when it is empty or cannot be opened (drafting goes on)."""
    try:
        return open_knowledge_base(settings, make_embedder=make_embedder)
    except Exception as err:  # noqa: BLE001 - a broken index must not stop a regeneration
        err_console.print(f"[yellow]知识库不可用，将不引用参考材料：{escape(str(err))}[/]")
        return None


def _make_model(settings: Settings, offline: bool, model_name: str | None) -> ChatModel | None:
    if offline:
        err_console.print("[yellow]按 --offline 要求，使用离线引擎（不调用任何模型）。[/]")
        return None
    model = make_model(settings, model=model_name)
    if model is None:
        err_console.print("[yellow]未配置模型接口，使用离线引擎（不调用任何模型）。[/]")
    return model


def _regenerate(
    ws: Workspace,
    report_id: str,
    section_id: str,
    *,
    settings: Settings,
    engine: Engine,
    kb: KnowledgeBase | None,
    instruction: str | None,
    stream: bool,
    batch_id: int | None = None,
) -> int:
    streamed: list[str] = []

    def on_delta(text: str) -> None:
        streamed.append(text)
        # A model's ESC sequences would drive the terminal (colours, cursor moves): never echo them.
        console.print(strip_controls(text, multiline=True), end="", markup=False, highlight=False, soft_wrap=True)

    use_stream = stream and engine.streams

    def drafter(section: SectionSpec, spec: ReportSpec, figures: list[Figure]) -> SectionDraft:
        request = SectionRequest(section, instruction=instruction, on_delta=on_delta if use_stream else None)
        return draft_section(DraftContext.create(spec, figures, kb, settings), request, engine)

    # No author: the store records the engine that wrote the text. A model failure (ModelError,
    # exit 4) or a text identical to the current version (Unchanged) saves nothing.
    try:
        version = ws.regenerate(
            report_id, section_id, drafter, instruction=instruction, settings=settings, batch_id=batch_id
        )
    except Unchanged:
        if use_stream:
            console.print()
        raise
    except Exception:
        if streamed:  # a cut stream: its partial text must not pass for the new version
            _discard_streamed("".join(streamed))
        raise
    if use_stream:
        console.print()
    return version


def _discard_streamed(text: str) -> None:
    """Clear text streamed to the terminal (the cursor still on its last line); elsewhere (a
    pipe, a log) it cannot be taken back, so say that it does not count."""
    if not console.is_terminal:
        console.print()
        console.print("（模型中断，以上部分输出作废，未保存。）")
        return
    width = max(console.width, 1)
    rows = sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n"))
    up = f"\x1b[{rows - 1}F" if rows > 1 else "\r"  # to the start of the first streamed row
    console.file.write(up + "\x1b[J")  # then erase to the end of the screen
    console.file.flush()


def _print_section_result(ws: Workspace, report_id: str, section_id: str, version: int) -> None:
    draft = ws.get_version(report_id, section_id, version)
    s = draft.check.summary
    console.print(
        f"章节 [bold]{escape(section_id)}[/]（{escape(draft.title or '无标题')}）已保存为第 {version} 版；"
        f"数字 {number_line(s)}。"
        f"其他章节未改动。"
    )
    error = draft.provenance.error
    if error:  # a failed number repair: the model's first draft is kept, its numbers marked
        console.print(f"[yellow]{escape(error)}[/]")
    for warning in draft.provenance.warnings:
        console.print(f"[yellow]{escape(warning)}[/]")
    _print_reopened(ws, report_id, {section_id: version})


def _print_reopened(ws: Workspace, report_id: str, versions: dict[str, int]) -> None:
    """Say which sections a new version put back to 草稿 (they were submitted or approved)."""
    for line in ws.reopened(report_id, versions):
        console.print(f"[yellow]{escape(line)}[/]")


def _print_undrafted(ws: Workspace, report_id: str, what: str) -> None:
    """Name the sections with no version yet (added to the outline after the draft): ``what``
    says what that means for the command (they are not exported, not refreshed)."""
    undrafted = [s for s in ws.sections(report_id) if not s.current_version]
    if not undrafted:
        return
    headings = {s.id for s in ws.spec(report_id).walk() if not s.is_leaf}
    console.print(f"[yellow]还没有正文的章节（{len(undrafted)} 个），{what}：[/]")
    for s in undrafted:
        if s.section_id not in headings:
            how = f"起草：huibao regenerate {escape(report_id)} {escape(s.section_id)}"
        else:
            how = "只有标题，正文在其下各节中"
        console.print(f"  {escape(s.section_id)} {escape(s.title or '（无标题）')}（{how}）")


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ")  # 2026-11-27T08:23:51+00:00 -> 2026-11-27 08:23


@app.command()
def reports(
    as_json: bool = typer.Option(
        False, "--json", help="输出 JSON 数组（id、title、organisation、year、sections、stale、updated）"
    ),
    deleted: bool = typer.Option(False, "--deleted", help="列出回收站中的汇报（带 deleted_at）"),
) -> None:
    """列出工作区中保存的汇报（用 --deleted 查看回收站）。"""
    ws = _workspace()
    infos = ws.reports(deleted=deleted)
    if as_json:
        keys = ("id", "title", "organisation", "year", "sections", "stale", "updated")
        rows = [{k: getattr(r, k) for k in keys} | ({"deleted_at": r.deleted_at} if deleted else {}) for r in infos]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not infos:
        console.print("回收站是空的。" if deleted else "工作区中还没有汇报。用 huibao draft 起草一份。")
        return
    where = "回收站中的汇报" if deleted else "已保存的汇报"
    table = Table(title=f"{where}（{escape(ws.location)}）")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("编号", "left"),
        ("标题", "left"),
        ("年度", "right"),
        ("章节", "right"),
        ("最后更新", "left"),
        ("删除时间", "left") if deleted else ("待更新", "right"),
    )
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for r in infos:
        last = _when(r.deleted_at or "") if deleted else (f"[yellow]{r.stale}[/]" if r.stale else "0")
        table.add_row(escape(r.id), escape(r.title), str(r.year), str(r.sections), _when(r.updated), last)
    console.print(table)
    if deleted:
        console.print("恢复：huibao restore 汇报编号")


@app.command()
def rename(report: str = REPORT, title: str = typer.Argument(..., help="新标题")) -> None:
    """给汇报改名（编号不变）。"""
    ws = _workspace()
    old = ws.current(report).title
    new = ws.rename(report, title)
    console.print(f"已将汇报 {escape(report)} 由“{escape(old)}”改名为“{escape(new)}”。")


@app.command()
def delete(report: str = REPORT) -> None:
    """把汇报移入回收站（全部版本保留，可用 huibao restore 恢复）。"""
    ws = _workspace()
    title = ws.current(report).title
    ws.delete(report)
    console.print(
        f"已将汇报 {escape(report)}（{escape(title)}）移入回收站，全部版本保留。恢复：huibao restore {escape(report)}"
    )


@app.command()
def restore(report: str = REPORT) -> None:
    """把回收站中的汇报恢复。"""
    ws = _workspace()
    try:
        ws.restore(report)
    except StoreError as err:
        if Path(report).is_file():  # a backup file given to the 回收站 command
            raise StoreError(f"{err}如果要用备份文件恢复整个工作区，请用 huibao restore-backup {report}。") from None
        raise
    console.print(f"已恢复汇报 {escape(report)}（{escape(ws.current(report).title)}）。")


@app.command()
def undo(report: str = REPORT) -> None:
    """撤销最近一次整篇操作（如 huibao refresh）：各章节恢复到操作前的正文，作为新版本保存。"""
    ws = _workspace()
    result = ws.undo(report)
    for sid, version in result.reverted.items():
        console.print(f"章节 [bold]{escape(sid)}[/] 已恢复到操作前的正文（保存为第 {version} 版）。")
    _print_reopened(ws, report, result.reverted)
    for sid, why in result.skipped.items():
        console.print(f"[yellow]章节 {escape(sid)} 未撤销：{escape(why)}。[/]")
    if not result.reverted:
        console.print("没有章节需要撤销。")


@app.command()
def show(
    report: str = REPORT, section_id: str | None = typer.Argument(None, help="章节编号；省略则列出全部章节")
) -> None:
    """显示汇报的章节列表，或某一章节的当前正文（输出到管道或文件时只有正文、不折行，可直接用 huibao edit --file 保存）。"""
    ws = _workspace()
    if section_id is None:
        stale = set(ws.stale_sections(report))
        table = Table(title=escape(ws.current(report).title))
        for col in ("章节", "标题", "级别", "当前版本", "版本数", "状态"):
            table.add_column(col)
        for s in ws.sections(report):
            state = "、".join(
                x
                for x in (
                    "[cyan]已锁定[/]" if s.locked else "",
                    "[yellow]数据已变，待更新[/]" if s.section_id in stale else "",
                )
                if x
            )
            table.add_row(
                escape(s.section_id),
                escape(s.title or "（无标题）"),
                str(s.level),
                str(s.current_version),
                str(s.versions),
                state,
            )
        console.print(table)
        return
    draft = ws.section(report, section_id)
    if not console.is_terminal:
        # Piped or redirected: the stored text exactly, no title line, never wrapped, so that
        # `huibao show R S > s.txt` then `huibao edit R S --file s.txt` saves the same text.
        typer.echo(draft.text)
        return
    console.print(f"[bold]{escape(draft.title or section_id)}[/]")
    # soft_wrap: the terminal wraps long lines itself; text copied from it has no added breaks.
    console.print(draft.text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def history(report: str = REPORT, section_id: str = SECTION) -> None:
    """列出一个章节的全部版本。"""
    ws = _workspace()
    rows = ws.history(report, section_id)
    table = Table(title=f"汇报 {escape(report)} 章节 {escape(section_id)} 的版本")
    for col in ("版本", "来源", "修改人", "模型", "修改要求", "时间", "字数", NUMBER_COUNTS_HEADER, "规范 错/提示"):
        table.add_column(col)
    for v in rows:
        source = AUTHOR_ZH.get(v.author, v.author) + (f"（自第 {v.reverted_from} 版）" if v.reverted_from else "")
        mark = "[bold green]▶ [/]" if v.is_current else "  "
        c = v.check
        table.add_row(
            mark + str(v.version),
            source,
            escape(v.user or "（未记录）"),
            escape(v.model or ""),
            escape(v.instruction or ""),
            _when(v.created),
            str(v.chars),
            number_counts(c),
            f"{c.style_errors}/{c.style_warnings}",
        )
    console.print(table)
    console.print(
        "▶ 为当前版本。回退：huibao revert 汇报 章节 版本；对比：huibao diff 汇报 章节 [甲 [乙]]（不写版本号即上一版对当前版）"
    )


@app.command()
def regenerate(
    report: str = REPORT,
    section_id: str = SECTION,
    instruction: str | None = typer.Option(None, "--instruction", "-i", help="修改要求，如“更精炼，突出新媒体数据”"),
    offline: bool = typer.Option(False, "--offline", help="不调用模型，使用离线引擎"),
    model: str | None = typer.Option(None, "--model", help="本次使用的模型名称"),
) -> None:
    """重新生成一个章节（新增一个版本），其他章节不变。"""
    settings = _settings()
    ws = _workspace()
    ws.ensure_unlocked(report, section_id)  # unknown ids and locks fail before any model is called
    ws.section_spec(report, section_id)
    engine = make_engine(_make_model(settings, offline, model))
    if not engine.follows_instructions and instruction:
        how = (
            "能做的调整已照办（“精炼”：删去概述句；“突出某项”：相关内容排在前面），其余要求需要模型"
            if parse_instruction(instruction).understood
            else "这条要求需要模型才能照办"
        )
        err_console.print(f"[yellow]离线引擎按提纲要点和数据组稿：{how}。要求已记入版本历史。[/]")
    kb = _open_kb(settings)
    # A section added to the outline (huibao outline add) has no version yet: this drafts its first.
    previous = ws.section(report, section_id).text if ws.current_version(report, section_id) else None
    try:
        version = _regenerate(
            ws, report, section_id, settings=settings, engine=engine, kb=kb, instruction=instruction, stream=True
        )
    except Unchanged as same:
        console.print(escape(str(same)))
        return
    _print_section_result(ws, report, section_id, version)
    if previous is not None and ws.get_version(report, section_id, version).text == previous:
        console.print("新版本正文与上一版相同。")


@app.command()
def revert(
    report: str = REPORT, section_id: str = SECTION, version: int = typer.Argument(..., help="要恢复的版本号")
) -> None:
    """把某个旧版本恢复为当前版本（作为新版本保存，历史保留）。"""
    ws = _workspace()
    new = ws.revert(report, section_id, version)
    console.print(f"已将章节 {escape(section_id)} 的第 {version} 版恢复为当前版本（保存为第 {new} 版）。")
    _print_reopened(ws, report, {section_id: new})


@app.command()
def diff(
    report: str = REPORT,
    section_id: str = SECTION,
    a: int | None = typer.Argument(None, help="旧版本号；不写则取当前版本的上一版"),
    b: int | None = typer.Argument(None, help="新版本号；不写则取当前版本"),
    unified: bool = typer.Option(False, "--unified", help="输出按句分行的 unified diff 文本"),
) -> None:
    """对比一个章节的两个版本（删去的标红、新增的标绿）。不写版本号：上一版对当前版；写一个：该版对当前版。"""
    ws = _workspace()
    a, b = ws.diff_pair(report, section_id, a, b)
    if unified or not console.is_terminal:
        # piped or redirected: a plain unified diff with +/- markers, never wrapped
        text = ws.diff(report, section_id, a, b)
        if not console.is_terminal:
            typer.echo(text or f"第 {a} 版与第 {b} 版的正文相同。", nl=not text.endswith("\n"))
            return
        for line in text.splitlines():
            style = (
                "red"
                if line.startswith("-") and not line.startswith("---")
                else "green"
                if line.startswith("+") and not line.startswith("+++")
                else "cyan"
                if line.startswith("@@")
                else None
            )
            console.print(Text(line, style=style or ""))
        if not text:
            console.print("两个版本的正文相同。")
        return
    segments = ws.diff_segments(report, section_id, a, b)
    out = Text()
    for op, piece in segments:
        out.append(piece, style={"delete": "red strike", "insert": "bold green"}.get(op, ""))
    console.print(f"章节 {escape(section_id)}：第 {a} 版 → 第 {b} 版（[red strike]删去[/]、[bold green]新增[/]）")
    console.print(out)
    if all(op == "equal" for op, _ in segments):
        console.print("两个版本的正文相同。")


@app.command()
def lock(report: str = REPORT, section_id: str = SECTION) -> None:
    """锁定章节：重新生成、整篇起草和更新时都保留它。"""
    _workspace().lock(report, section_id, True)
    console.print(f"已锁定章节 {escape(section_id)}。")


@app.command()
def unlock(report: str = REPORT, section_id: str = SECTION) -> None:
    """解锁章节。"""
    _workspace().lock(report, section_id, False)
    console.print(f"已解锁章节 {escape(section_id)}。")


@app.command()
def edit(
    report: str = REPORT,
    section_id: str = SECTION,
    file: Path = typer.Option(..., "--file", "-f", help="修改后的正文（.txt/.md 或 .docx，编码自动识别）"),
    base: int | None = typer.Option(
        None, "--base", help="修改所依据的版本号；其间有人保存了新版本时拒绝保存，并显示差异"
    ),
) -> None:
    """用手工修改的正文保存一个新版本（重新核对数字）。"""
    text = read_text_file(file)  # GBK and .docx too, as check reads them
    ws = _workspace()
    current_version = ws.current_version(report, section_id)
    if base is not None and not 1 <= base <= (current_version or 0):
        raise InputError(
            f"没有第 {base} 版（章节“{section_id}”现有第 1—{current_version} 版）。"
            if current_version
            else f"章节“{section_id}”还没有任何版本，不用写 --base。",
            field="--base",
        )
    if current_version:
        shown = ws.section(report, section_id)
        text, dropped = _without_title_line(text, shown)
        if dropped:
            console.print(f"文件第一行是章节标题“{escape(dropped)}”，不作为正文保存。")
        if strip_controls(text, multiline=True).strip("\n") == shown.text:
            console.print(f"正文与当前第 {current_version} 版相同，未保存新版本。")
            return
    try:
        version = ws.edit(report, section_id, text, base_version=base)
    except VersionConflict as conflict:
        current = ws.section(report, section_id).text
        err_console.print(f"[bold red]错误：[/]{escape(str(conflict))}")
        err_console.print(f"当前第 {conflict.current_version} 版与您的修改的差异（-当前 +您的修改）：")
        err_console.print(Text(unified_diff(current, text, f"第 {conflict.current_version} 版", "您的修改")))
        err_console.print(
            f"仍要保存：huibao edit {escape(report)} {escape(section_id)} --file … --base {conflict.current_version}"
        )
        raise typer.Exit(conflict.exit_code) from None
    s = ws.get_version(report, section_id, version).check.summary
    console.print(f"已保存手工修改为第 {version} 版；数字 {number_line(s)}。")
    _print_reopened(ws, report, {section_id: version})


def _without_title_line(text: str, section: SectionDraft) -> tuple[str, str | None]:
    """The text without a first line that is only the section's title (what `huibao show` prints
    above the text on a terminal, or an older version printed when piped), and that line."""
    first, sep, rest = text.lstrip("\n").partition("\n")
    title = first.strip()
    shown = {section.title, section.heading} if section.title else {section.section_id}
    if title and sep and rest.strip() and title in shown:
        return rest, title
    return text, None


@app.command()
def figures(
    report: str = REPORT, set_: Path | None = typer.Option(None, "--set", help="新的数据文件（.yaml/.csv/.xlsx）")
) -> None:
    """显示汇报的数据；用 --set 更新数据并列出因此需要更新的章节。"""
    ws = _workspace()
    if set_ is not None:
        ws.update_figures(report, load_figures(set_))
        console.print(f"已更新汇报 {escape(report)} 的数据。")
        _print_stale(ws, report)
        return
    table = Table(title=f"汇报 {escape(report)} 的数据")
    for col in ("编号", "项目", "数值", "单位", "章节", "备注"):
        table.add_column(col)
    figures = ws.figures(report)
    for f in figures:
        table.add_row(
            escape(f.id),
            escape(f.item),
            format_value(f.value),
            escape(f.unit),
            escape(f.section or ""),
            escape(f.note or ""),
        )
    console.print(table)
    invalid = [f.id for f in figures if not math.isfinite(f.value)]
    if invalid:  # stored by a version that did not check values; setting the figures again repairs it
        console.print(
            f"[yellow]数据 {escape('、'.join(invalid))} 的数值无效，"
            f"请改正数据文件后运行 huibao figures {escape(report)} --set <数据文件>。[/]"
        )


def _print_stale(ws: Workspace, report: str) -> None:
    stale = ws.stale_report(report)
    if not stale:
        console.print("没有章节需要更新。")
        return
    console.print(f"[yellow]{len(stale)} 个章节用到的数据已变，需要更新：[/]")
    for s in stale:
        lock_note = "（已锁定，huibao refresh 不会改它）" if s.locked else ""
        console.print(f"  [bold]{escape(s.section_id)}[/] {escape(s.title)}{lock_note}：{escape('；'.join(s.reasons))}")
    console.print(f"重新生成这些章节：huibao refresh {escape(report)}")


@app.command()
def stale(report: str = REPORT) -> None:
    """列出数据变化后需要更新的章节。"""
    _print_stale(_workspace(), report)


@app.command()
def refresh(
    report: str = REPORT,
    offline: bool = typer.Option(False, "--offline", help="不调用模型，使用离线引擎"),
    model: str | None = typer.Option(None, "--model", help="本次使用的模型名称"),
    include_edited: bool = typer.Option(False, "--include-edited", help="手工修改过的章节也重新生成"),
    include_locked: bool = typer.Option(False, "--include-locked", help="锁定的章节也解锁并重新生成"),
) -> None:
    """重新生成因数据变化而过时的章节；锁定的和手工修改过的默认跳过。可用 huibao undo 一步撤销。"""
    settings = _settings()
    ws = _workspace()
    stale_sections = ws.stale_report(report)
    plan = {p.section_id: p for p in ws.plan(report, only={s.section_id for s in stale_sections})}
    todo = []
    for s in stale_sections:
        item = plan[s.section_id]
        if item.locked and not include_locked:
            console.print(f"[cyan]章节 {escape(s.section_id)} 已锁定，跳过（--include-locked 解锁并一并重新生成）。[/]")
        elif item.hand_edited and not include_edited:
            console.print(f"[cyan]章节 {escape(s.section_id)} 手工修改过，跳过（--include-edited 一并重新生成）。[/]")
        else:
            todo.append(s)
    if not todo:
        console.print("没有需要重新生成的章节。")
        _print_undrafted(ws, report, "huibao refresh 只重写已有正文的章节")
        return
    engine = make_engine(_make_model(settings, offline, model))
    kb = _open_kb(settings)
    batch_id = ws.begin_batch(report, "refresh", include={s.section_id for s in todo})
    failed: list[str] = []
    lines = PlainProgress()  # a line per section is printed anyway: the count shows how far it is
    for done, s in enumerate(todo):
        lines("重新生成章节", done, len(todo))
        console.print(f"正在重新生成章节 [bold]{escape(s.section_id)}[/] {escape(s.title)} ……")
        try:
            version = _regenerate(
                ws,
                report,
                s.section_id,
                settings=settings,
                engine=engine,
                kb=kb,
                instruction=None,
                stream=False,
                batch_id=batch_id,
            )
        except Unchanged as same:
            console.print(escape(str(same)))
            continue
        except ModelError as err:  # nothing saved for this section; the others still get their turn
            err_console.print(f"[bold red]错误：[/]{escape(str(err))}")
            failed.append(s.section_id)
            continue
        _print_section_result(ws, report, s.section_id, version)
    lines("重新生成章节", len(todo), len(todo))
    left = ws.stale_sections(report)
    if left:
        console.print(f"[yellow]仍需更新的章节：{escape('、'.join(left))}[/]")
    last = ws.last_batch(report)
    if last is not None and last.id == batch_id:
        console.print(f"撤销本次重新生成：huibao undo {escape(report)}")
    if failed:
        err_console.print(f"[bold red]模型出错：[/]章节 {escape('、'.join(failed))} 未更新，退出码 {EXIT_MODEL}。")
        raise typer.Exit(EXIT_MODEL)


@app.command()
def export(
    report: str = REPORT,
    format_: str = typer.Option("docx", "--format", help="docx（GB/T 9704 版式的 Word 文件）或 md"),
    out: Path | None = typer.Option(None, "--out", "-o", help="输出文件；默认 out/<标题>.<格式>"),
    approved_only: bool = typer.Option(False, "--approved-only", help="只导出审核已通过的章节，并列出未含的章节"),
) -> None:
    """导出汇报的当前稿（Word 或 Markdown）。"""
    fmt = format_.lower().lstrip(".")
    if fmt not in ("docx", "md"):
        raise InputError(f"不支持的导出格式“{format_}”（可用 docx 或 md）。", field="--format")
    ws = _workspace()
    title = ws.current(report).title
    path = out or Path("out") / f"{file_stem(title)}.{fmt}"
    if path.suffix.lower() != f".{fmt}":
        raise InputError(f"输出文件的扩展名应为 .{fmt}。", file=str(path))
    draft, left_out = ws.export_draft(report, approved_only=approved_only, fmt=fmt)
    written = export_docx(draft, path) if fmt == "docx" else export_markdown(draft, path)
    console.print(f"已导出 {escape(str(written))}")
    if left_out:
        titles = {s.section_id: s.title for s in ws.sections(report)}
        console.print(f"[yellow]未通过审核、未导出的章节（{len(left_out)} 个）：[/]")
        for sid in left_out:
            console.print(f"  {escape(sid)} {escape(titles.get(sid) or '')}")
    _print_undrafted(ws, report, "未导出")
    for line in export_notes([s.check.summary for s in draft.sections]):
        console.print(f"[yellow]{escape(line)}[/]")
    stale_ids = ws.stale_sections(report)
    if stale_ids:
        console.print(
            f"[yellow]注意：章节 {escape('、'.join(stale_ids))} 用到的数据已变，尚未更新（huibao refresh）。[/]"
        )


# --- review ---------------------------------------------------------------------------------------


@app.command()
def submit(
    report: str = REPORT,
    section_id: str = SECTION,
    comment: str = typer.Option("", "--comment", "-m", help="给审核人的说明"),
) -> None:
    """提交章节审核：草稿或退回 → 待审。"""
    version = _workspace().submit(report, section_id, comment)
    console.print(f"已提交章节 {escape(section_id)} 第 {version} 版审核（待审）。")


@app.command()
def approve(
    report: str = REPORT,
    section_id: str = SECTION,
    comment: str = typer.Option("", "--comment", "-m", help="审核意见"),
) -> None:
    """审核通过：待审 → 已通过。之后的任何新版本都会使它回到草稿。"""
    version = _workspace().approve(report, section_id, comment)
    console.print(f"章节 {escape(section_id)} 第 {version} 版审核通过。")


@app.command("return")
def return_(
    report: str = REPORT,
    section_id: str = SECTION,
    comment: str = typer.Option(..., "--comment", "-m", help="退回意见（必填）"),
) -> None:
    """退回章节：待审或已通过 → 退回，写明意见；修改后再提交。"""
    version = _workspace().return_section(report, section_id, comment)
    console.print(f"已退回章节 {escape(section_id)} 第 {version} 版：{escape(comment.strip())}")


@app.command()
def review(
    report: str = REPORT,
    as_json: bool = typer.Option(
        False, "--json", help="输出 JSON 数组（section_id、title、state、version、by、comment、at）"
    ),
) -> None:
    """各章节的审核状态（草稿、待审、已通过、退回）和最近一次意见；列出尚未通过的章节数。"""
    ws = _workspace()
    states = ws.review_states(report)
    if as_json:
        keys = ("section_id", "title", "state", "version", "by", "comment", "at")
        print(json.dumps([{k: getattr(r, k) for k in keys} for r in states], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"汇报 {escape(report)} 的审核状态")
    for col in ("章节", "标题", "状态", "版本", "当前版本", "意见", "经办人", "时间"):
        table.add_column(col)
    colour = {"approved": "green", "submitted": "cyan", "returned": "red"}
    for r in states:
        state = f"[{colour[r.state]}]{r.state_zh}[/]" if r.state in colour else r.state_zh
        table.add_row(
            escape(r.section_id),
            escape(r.title or "（无标题）"),
            state,
            str(r.version or ""),
            str(r.current_version or ""),
            escape(r.comment),
            escape(r.by),
            _when(r.at) if r.at else "",
        )
    console.print(table)
    still = [r.section_id for r in states if r.current_version and r.state != "approved"]
    console.print(f"尚未通过：{len(still)} 个章节" + (f"（{escape('、'.join(still))}）" if still else "，可全部导出。"))
