"""`huibao` commands for the knowledge base: ingest, search."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.commands.base import PlainProgress, command_app, console, err_console, ingest_phase, live_progress
from assistant.core.errors import InputError
from assistant.core.settings import Settings, get_settings
from assistant.kb.ingest import IngestReport
from assistant.kb.ingest import ingest as run_ingest
from assistant.kb.retrieve import EmptyKnowledgeBase, Kind, KnowledgeBase
from assistant.llm.embeddings import make_embedder

app = command_app()

_KIND_ZH: dict[Kind, str] = {"report": "往年汇报", "policy": "政策文件", "other": "其他"}


@app.command()
def ingest(
    paths: list[Path] | None = typer.Argument(None, help="文件或目录；默认导入设置中的 knowledge/ 目录。"),
) -> None:
    """导入知识库：读取 .txt/.md/.docx/.pdf，按公文结构分块并建立索引（只处理新增或改动的文件）。"""
    settings = get_settings()
    targets = list(paths) if paths else None
    if live_progress(err_console):
        report = _ingest_with_bar(targets, settings)
    else:
        # a log or a pipe gets plain lines: a live bar there is either nothing or control codes
        report = run_ingest(targets, settings, make_embedder=make_embedder, progress=PlainProgress(phase=ingest_phase))

    for source, reason in report.skipped:
        err_console.print(f"[yellow]已跳过[/] {escape(source)}：{escape(reason)}")
    for source, note in report.warnings:
        err_console.print(f"[yellow]注意[/] {escape(source)}：{escape(note)}")
    table = Table(title="知识库导入结果", show_header=True)
    for col in ("新增", "更新", "删除", "未变", "跳过", "写入分块", "分块总数"):
        table.add_column(col, justify="right")
    table.add_row(
        *(
            str(x)
            for x in (
                len(report.added),
                len(report.updated),
                len(report.removed),
                len(report.unchanged),
                len(report.skipped),
                report.chunks,
                report.total_chunks,
            )
        )
    )
    console.print(table)
    if report.ignored:
        console.print(
            f"[dim]未处理不支持的文件类型 {len(report.ignored)} 个：{escape('、'.join(report.ignored[:5]))}"
            f"{' 等' if len(report.ignored) > 5 else ''}[/]"
        )
    console.print(f"用时 {report.seconds:.1f} 秒。")
    if report.skipped:
        raise typer.Exit(1)


def _ingest_with_bar(targets: list[Path] | None, settings: Settings) -> IngestReport:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        files_task = bar.add_task("读取文件", total=None)
        chunks_task = None

        def progress(label: str, done: int, total: int) -> None:
            nonlocal chunks_task
            if label.startswith("file:"):
                name = label[5:]
                bar.update(
                    files_task,
                    completed=done,
                    total=total,
                    description=f"读取文件 {escape(name[-40:])}" if name else "读取文件",
                )
            else:
                if chunks_task is None:
                    chunks_task = bar.add_task("向量化分块", total=total)
                bar.update(chunks_task, completed=done, total=total)

        return run_ingest(targets, settings, make_embedder=make_embedder, progress=progress)


@app.command()
def search(
    query: str = typer.Argument(..., help="检索内容"),
    k: int = typer.Option(5, "--k", "-k", min=1, max=100, help="返回段落数"),
    kind: str | None = typer.Option(None, "--kind", help="report（往年汇报）| policy（政策文件）| other"),
    year: int | None = typer.Option(None, "--year", help="年份"),
    org: str | None = typer.Option(None, "--org", help="单位名称（包含即可）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON 数组"),
) -> None:
    """检索知识库：语义检索与关键词（BM25）检索融合，显示来源、标题层级、得分和原文。"""
    wanted = next((k for k in _KIND_ZH if k == kind), None)
    if kind is not None and wanted is None:
        raise InputError("应为 report、policy 或 other 之一", field="--kind")
    kb = KnowledgeBase.open(get_settings(), make_embedder=make_embedder)
    if kb.is_empty():
        err_console.print(f"[bold red]错误：[/]{EmptyKnowledgeBase()}")
        raise typer.Exit(1)
    passages = kb.search(query, k, kind=wanted, year=year, organisation=org)
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return
    if not passages:
        console.print("没有找到符合条件的段落。可以放宽筛选条件（--kind / --year / --org）再试。")
        return
    for i, p in enumerate(passages, start=1):
        meta = " · ".join(
            x
            for x in (
                _KIND_ZH.get(p.kind, p.kind),
                f"{p.year}年" if p.year else "",
                p.organisation or "",
                f"得分 {p.score:.4f}",
            )
            if x
        )
        body = f"[dim]{escape(meta)}[/]\n" + (f"[cyan]{escape(p.heading_path)}[/]\n" if p.heading_path else "")
        console.print(Panel(body + escape(p.text), title=f"[bold]{i}. {escape(p.source)}[/]", title_align="left"))
