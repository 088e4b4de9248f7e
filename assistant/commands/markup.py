"""`huibao import`: the leader's marked-up Word file back as per-section versions. Wiring only:
assistant.markup reads and plans, the workspace saves."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.prompt import Confirm

from assistant.commands.base import command_app, console, err_console
from assistant.core.errors import InputError, os_reason
from assistant.core.settings import get_settings
from assistant.markup import ImportPlan, prepare_import, save_import
from assistant.workspace.service import Workspace, unified_diff

app = command_app()

_STATUS = {"invented": "无数据来源", "misattributed": "与所说事项不符", "unverified": "待核实", "placeholder": "待补充"}


def _uploader() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return ""


def _print_plan(plan: ImportPlan) -> None:
    out = console.print
    out(
        f"[bold]导入：{escape(plan.file_name)}[/]"
        + (f"（修订者：{escape('、'.join(plan.change_authors))}）" if plan.change_authors else "")
    )
    if not plan.changes:
        out("各章节正文与当前版本相同，不会生成新版本。")
    for c in plan.changes:
        lock = "  [yellow]（已锁定，仍将按文件保存新版本）[/]" if c.locked else ""
        out(f"\n[bold]章节 {escape(c.section_id)}[/] {escape(c.heading or '')} 有修改{lock}")
        for line in unified_diff(c.old_text, c.new_text, "当前版本", "文件").splitlines()[2:]:
            if line.startswith("+"):
                out(f"  [green]{escape(line)}[/]", soft_wrap=True)
            elif line.startswith("-"):
                out(f"  [red]{escape(line)}[/]", soft_wrap=True)
        for m in c.introduced:
            if m.flagged or m.status in ("unverified", "placeholder"):
                out(f"  [red]新数字“{escape(m.text)}”{_STATUS[m.status]}[/]：{escape(m.message or '')}", soft_wrap=True)
            else:
                out(f"  [green]新数字“{escape(m.text)}”有据[/]：{escape(m.message or '')}", soft_wrap=True)
    for mv in plan.moved:
        out(
            f"\n[yellow]标题{mv.how}：[/]章节 {escape(mv.section_id)} 原为“{escape(mv.expected)}”，文件中为“{escape(mv.found)}”"
        )
    if plan.missing:
        out(f"\n[yellow]文件中没有这些章节，保持不变：{escape('、'.join(plan.missing))}[/]")
    if plan.comments:
        out("\n[bold]批注[/]")
        for k in plan.comments:
            where = f"章节 {k.section_id}" if k.section_id else "标题"
            out(
                f"  {escape(where)}（{escape(k.author or '未署名')}）：{escape(k.text)}  [dim]…{escape(k.anchor)}…[/]",
                soft_wrap=True,
            )
    if plan.known_comments:
        n = len(plan.known_comments)
        which = f"另有 {n} 条批注" if plan.comments else ("这条批注" if n == 1 else f"这 {n} 条批注都")
        out(f"\n文件中{which}已保存过（工作区中已有），不再重复保存。")


@app.command("import")
def import_(
    report: str = typer.Argument(..., help="汇报编号（huibao reports 可查看）"),
    file: Path = typer.Argument(..., help="领导修改后的 Word 文件（.docx，可含修订和批注）"),
    yes: bool = typer.Option(False, "--yes", "-y", help="不再询问，直接保存"),
    as_json: bool = typer.Option(False, "--json", help="只输出一个 JSON 对象"),
    by: str | None = typer.Option(None, "--by", help="上传人（默认当前系统用户名）"),
) -> None:
    """导入领导修改后的 Word 文件：修订视为接受，改动的章节各存为新版本，批注保留，新数字逐个核对。"""
    if not file.is_file():
        raise InputError("文件不存在。", file=str(file))
    if file.suffix.lower() != ".docx":
        raise InputError("只能导入 .docx 文件（.doc/.wps 请在 Word 或 WPS 中另存为 .docx 后再试）。", file=str(file))
    try:
        data = file.read_bytes()
    except OSError as err:
        raise InputError(f"无法读取文件（{os_reason(err)}）。", file=str(file)) from None
    ws = Workspace.open(get_settings().workspace_target)
    plan, snapshot_id = prepare_import(ws, report, data, file.name)
    if not as_json:
        _print_plan(plan)
    saved: list[tuple[str, int]] = []
    comments_saved = 0
    if plan.changes or plan.comments:
        if yes:
            go = True
        elif as_json or not console.is_terminal:
            go = False
            err_console.print("未保存：确认无误后加 --yes 再运行一次。")
        else:
            go = Confirm.ask("保存以上修改？", default=False, console=console)
        if go:
            saved = save_import(ws, plan, uploader=by if by is not None else _uploader(), snapshot_id=snapshot_id)
            comments_saved = len(plan.comments)
        not_saved = not go
    else:
        not_saved = False
    if as_json:
        data_out = {
            "versions": [{"section_id": sid, "version": v} for sid, v in saved],
            "comments": [c.model_dump() for c in plan.comments],  # new to the workspace
            "comments_saved": comments_saved,
            "known_comments": [c.model_dump() for c in plan.known_comments],  # already there, not saved again
            "moved": [m.model_dump() for m in plan.moved],
            "missing": plan.missing,
            "numbers": [{**m.to_json_dict(), "section_id": c.section_id} for c in plan.changes for m in c.introduced],
        }
        typer.echo(json.dumps(data_out, ensure_ascii=False))
    elif saved or comments_saved:
        versions = "，".join(
            f"章节 {escape(sid)} 第 {v} 版" for sid, v in saved if any(c.section_id == sid for c in plan.changes)
        )
        parts = [versions] if versions else []
        if comments_saved:
            parts.append(f"批注 {comments_saved} 条")
        console.print("\n已保存：" + "；".join(parts) + "。")
        for line in ws.reopened(plan.report_id, dict(saved)):
            console.print(f"[yellow]{escape(line)}[/]")
    flagged = plan.flagged
    if flagged and not as_json:
        console.print(f"[red]有 {len(flagged)} 个新数字无数据来源或与所说事项不符，请核实。[/]")
    raise typer.Exit(1 if not_saved or flagged else 0)
