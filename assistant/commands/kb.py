"""`huibao` commands for the knowledge base: ingest, search, kb (list, remove, tag)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.prompt import Confirm
from rich.table import Table

from assistant.commands.base import PlainProgress, command_app, console, err_console, ingest_phase, live_progress
from assistant.core.errors import InputError
from assistant.core.settings import Settings, get_settings
from assistant.kb.ingest import IngestReport
from assistant.kb.ingest import ingest as run_ingest
from assistant.kb.metadata import (
    KIND_ZH,
    DocumentFilter,
    DocumentMeta,
    document_meta,
    filter_documents,
    page_of,
    parse_kind,
    parse_organisation,
    removal_plan,
    remove_documents,
    retag,
)
from assistant.kb.retrieve import DocumentInfo, EmptyKnowledgeBase, KnowledgeBase
from assistant.llm.embeddings import make_embedder

app = command_app()


_KIND_HELP = "类别：report（往年汇报）| policy（政策文件）| other（其他），中文名亦可"
_OPTION_FIELDS = ("--kind", "--year", "--org")


@app.command()
def ingest(
    paths: list[Path] | None = typer.Argument(None, help="文件或目录；默认导入设置中的 knowledge/ 目录。"),
    kind: str | None = typer.Option(None, "--kind", help=_KIND_HELP + "；不填时按文件头信息、目录和标题判断"),
    year: str | None = typer.Option(None, "--year", help="年度，如 2024；不填时取文件名、标题或开头几行中的年份"),
    org: str | None = typer.Option(None, "--org", help="单位；不填时取标题中年份或“关于”之前的机关名称"),
) -> None:
    """导入知识库：读取 .txt/.md/.docx/.pdf，按公文结构分块并建立索引（只处理新增或改动的文件）。

    给了 --kind/--year/--org 时，这些文件都按给定的类别、年度、单位入库；未改动的文件只改标注，不重算向量。"""
    settings = get_settings()
    meta = document_meta(kind=kind, year=year, organisation=org, fields=_OPTION_FIELDS)
    targets = list(paths) if paths else None
    if live_progress(err_console):
        report = _ingest_with_bar(targets, settings, meta)
    else:
        # a log or a pipe gets plain lines: a live bar there is either nothing or control codes
        report = run_ingest(
            targets, settings, make_embedder=make_embedder, progress=PlainProgress(phase=ingest_phase), meta=meta
        )

    for source, reason in report.skipped:
        err_console.print(f"[yellow]已跳过[/] {escape(source)}：{escape(reason)}")
    for source, note in report.warnings:
        err_console.print(f"[yellow]注意[/] {escape(source)}：{escape(note)}")
    table = Table(title="知识库导入结果", show_header=True)
    for col in ("新增", "更新", "改标注", "删除", "未变", "跳过", "写入分块", "分块总数"):
        table.add_column(col, justify="right")
    table.add_row(
        *(
            str(x)
            for x in (
                len(report.added),
                len(report.updated),
                len(report.retagged),
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


def _ingest_with_bar(targets: list[Path] | None, settings: Settings, meta: DocumentMeta) -> IngestReport:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        files_task = bar.add_task("读取文件", total=None)
        chunks_task = index_task = None

        def progress(label: str, done: int, total: int) -> None:
            nonlocal chunks_task, index_task
            if label.startswith("file:"):
                name = label[5:]
                bar.update(
                    files_task,
                    completed=done,
                    total=total,
                    description=f"读取文件 {escape(name[-40:])}" if name else "读取文件",
                )
            elif label == "index":
                if index_task is None:
                    index_task = bar.add_task("更新检索索引", total=total)
                bar.update(index_task, completed=done, total=total)
            else:
                if chunks_task is None:
                    chunks_task = bar.add_task("向量化分块", total=total)
                bar.update(chunks_task, completed=done, total=total)

        return run_ingest(targets, settings, make_embedder=make_embedder, progress=progress, meta=meta)


@app.command()
def search(
    query: str = typer.Argument(..., help="检索内容"),
    k: int = typer.Option(5, "--k", "-k", min=1, max=100, help="返回段落数"),
    kind: str | None = typer.Option(None, "--kind", help=_KIND_HELP),
    year: int | None = typer.Option(None, "--year", help="年份"),
    org: str | None = typer.Option(None, "--org", help="单位名称（包含即可）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON 数组"),
) -> None:
    """检索知识库：语义检索与关键词（BM25）检索融合，显示来源、标题层级、得分和原文。"""
    wanted = parse_kind(kind, field="--kind")  # as ingest and kb take it: report … or 往年汇报 …
    if not query.strip():
        raise InputError("检索内容为空，请写要找的内容，如“新闻发布会 次数”。", field="检索内容")
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
                KIND_ZH.get(p.kind, p.kind),
                f"{p.year}年" if p.year else "",
                p.organisation or "",
                f"得分 {p.score:.4f}",
            )
            if x
        )
        body = f"[dim]{escape(meta)}[/]\n" + (f"[cyan]{escape(p.heading_path)}[/]\n" if p.heading_path else "")
        console.print(Panel(body + escape(p.text), title=f"[bold]{i}. {escape(p.source)}[/]", title_align="left"))


KB_ACTIONS = ("list", "remove", "tag")


@app.command()
def kb(
    action: str = typer.Argument(..., help="list：列出文档 | remove：批量删除 | tag：修改一份文档的类别、年度、单位"),
    source: str | None = typer.Argument(None, help="tag 的对象：文档来源（huibao kb list 中的“来源”）"),
    kind: str | None = typer.Option(None, "--kind", help=_KIND_HELP),
    year: str | None = typer.Option(None, "--year", help="年度，如 2024"),
    org: str | None = typer.Option(None, "--org", help="单位（list、remove：包含即可；tag：新的单位，空字符串为清除）"),
    folder: str | None = typer.Option(
        None, "--folder", help="目录（含其子目录），如 past-reports；“.”为单独导入、上传的文件"
    ),
    title: str | None = typer.Option(None, "--title", help="list：标题或文件名包含的文字"),
    page: int = typer.Option(1, "--page", min=1, help="list：第几页"),
    per_page: int = typer.Option(50, "--per-page", min=1, max=1000, help="list：每页条数"),
    dry_run: bool = typer.Option(False, "--dry-run", help="remove：只列出将删除的文档，不删除"),
    yes: bool = typer.Option(False, "--yes", "-y", help="remove：不再询问，直接删除"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """素材库的文档：按类别、年度、单位、目录列出（分页），批量删除一个目录、一个年度或一个类别，修改文档的标注（不重算向量）。

    list、remove 中的 --kind/--year/--org/--folder 是筛选条件；tag 中的 --kind/--year/--org 是新的值。
    remove 须指定 --folder、--year、--kind 中的至少一项；不加 --yes 时在终端里先问，非终端只列出、不删除并以退出码 1 结束。"""
    if action not in KB_ACTIONS:
        raise InputError(f"未知的操作“{action}”（可用：{'、'.join(KB_ACTIONS)}）。")
    meta = document_meta(kind=kind, year=year, organisation=org, fields=_OPTION_FIELDS)
    settings = get_settings()
    store = KnowledgeBase.open(settings, make_embedder=make_embedder)
    if action == "tag":
        _tag(store, source, meta, clear_org=org is not None and parse_organisation(org) is None, as_json=as_json)
        return
    if source is not None:
        raise InputError(f"{action} 不接受文档来源参数；请用 --folder、--year、--kind 等筛选。")
    flt = DocumentFilter(
        kind=meta.kind,
        year=meta.year,
        organisation=meta.organisation,
        folder=None if folder is None else ("" if folder.strip() in (".", "") else folder.strip().strip("/")),
        text=(title or "").strip() or None,
    )
    docs = store.documents()
    if action == "list":
        shown = page_of(filter_documents(docs, flt), page, per_page)
        if as_json:
            print(json.dumps(_listing_json(shown.items, shown.total, shown.number, shown.pages), ensure_ascii=False))
            return
        _print_documents(shown.items, f"{flt.describe()}：共 {shown.total} 个文档，第 {shown.number}/{shown.pages} 页")
        return
    doomed = removal_plan(docs, flt)
    if not doomed:
        console.print(f"没有符合条件（{flt.describe()}）的文档，未删除任何内容。")
        return
    if not as_json:
        _print_documents(doomed, f"将删除 {len(doomed)} 个文档（{flt.describe()}）")
    if dry_run:
        if as_json:
            print(json.dumps({"removed": [], "would_remove": [d.source for d in doomed]}, ensure_ascii=False))
        return
    if yes:
        go = True
    elif as_json or not console.is_terminal:
        go = False
        err_console.print("未删除：确认无误后加 --yes 再运行一次（或用 --dry-run 只列出）。")
    else:
        go = Confirm.ask(f"从知识库删除以上 {len(doomed)} 个文档？", default=False, console=console)
    if go:
        remove_documents(store, [d.source for d in doomed], settings)
    if as_json:
        print(
            json.dumps(
                {"removed": [d.source for d in doomed] if go else [], "would_remove": [d.source for d in doomed]},
                ensure_ascii=False,
            )
        )
    elif go:
        console.print(f"已从知识库删除 {len(doomed)} 个文档。")
    if not go:
        raise typer.Exit(1)


def _tag(store: KnowledgeBase, source: str | None, meta: DocumentMeta, *, clear_org: bool, as_json: bool) -> None:
    if not source:
        raise InputError("请给出要修改的文档来源（huibao kb list 可查看）。")
    if meta.empty and not clear_org:
        raise InputError("请用 --kind、--year、--org 中的至少一项给出新的值。")
    changed = retag(store, source, meta, clear_organisation=clear_org)
    doc = store.document(source)
    if as_json:
        print(json.dumps({"changed": changed, **(doc.model_dump() if doc else {})}, ensure_ascii=False))
    elif changed:
        console.print(f"已修改 {escape(source)}：{escape(_tags(doc))}（未重算向量）。" if doc else "已修改。")
    else:
        console.print(f"{escape(source)} 的标注与给出的相同，未修改。")


def _tags(doc: DocumentInfo) -> str:
    return " · ".join(
        x for x in (KIND_ZH.get(doc.kind, doc.kind), f"{doc.year}年" if doc.year else "", doc.organisation or "") if x
    )


def _listing_json(items: list[DocumentInfo], total: int, number: int, pages: int) -> dict:
    return {"total": total, "page": number, "pages": pages, "documents": [d.model_dump() for d in items]}


def _print_documents(docs: list[DocumentInfo], caption: str) -> None:
    table = Table(title=caption, show_header=True)
    for col in ("来源", "标题", "类别", "年度", "单位", "分块"):
        table.add_column(col, justify="right" if col == "分块" else "left", overflow="fold")
    for d in docs:
        table.add_row(
            escape(d.source),
            escape(d.title or ""),
            KIND_ZH.get(d.kind, d.kind),
            str(d.year or "—"),
            escape(d.organisation or "—"),
            str(d.chunks),
        )
    console.print(table)
