"""`huibao` commands for the draft stage: draft, demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.commands.base import (
    NUMBER_COUNTS_HEADER,
    PlainProgress,
    command_app,
    console,
    err_console,
    ingest_phase,
    live_progress,
    number_counts,
)
from assistant.core.errors import EXIT_MODEL, InputError
from assistant.core.figures import Figure, load_figures
from assistant.core.resources import resource_dir
from assistant.core.settings import Settings, get_settings
from assistant.drafting.context import DraftContext
from assistant.drafting.draft import draft_report, drafted_sections
from assistant.drafting.drafts import ReportDraft, SectionDraft
from assistant.drafting.engines import Engine, make_engine
from assistant.drafting.spec import ReportSpec, SectionSpec, load_spec
from assistant.export import file_stem
from assistant.gongwen import PART_NAMES
from assistant.kb.ingest import open_knowledge_base
from assistant.kb.retrieve import KnowledgeBase
from assistant.llm import make_model
from assistant.llm.embeddings import make_embedder
from assistant.workspace.service import Workspace

app = command_app()

OFFLINE_NOTICE = "未配置模型接口，已使用离线引擎（不调用任何模型）起草。"
FORCED_OFFLINE_NOTICE = "按 --offline 要求，已使用离线引擎（不调用任何模型）起草。"


def _after_draft(report_draft: ReportDraft, spec: ReportSpec, figures: list[Figure]) -> str:
    """Save the report and version 1 of every section in one transaction; returns the report id."""
    settings = get_settings()
    with Workspace.open(settings.workspace_target) as workspace:
        return workspace.create_report(spec, figures, draft=report_draft, settings=settings)


def _open_kb(settings: Settings, *, ingest_if_empty: bool) -> KnowledgeBase | None:
    """The knowledge base, or None when it is empty or cannot be opened (drafting goes on without passages)."""
    try:
        return open_knowledge_base(
            settings,
            make_embedder=make_embedder,
            ingest_if_empty=ingest_if_empty,
            before_ingest=lambda: err_console.print("知识库为空，正在导入示例知识库……"),
            progress=None if live_progress(err_console) else PlainProgress(phase=ingest_phase),
        )
    except Exception as err:  # noqa: BLE001 - a broken index must not stop drafting
        err_console.print(f"[yellow]知识库不可用，将不引用参考材料：{escape(str(err))}[/]")
        return None


def _run(
    spec_path: Path,
    figures_path: Path,
    *,
    offline: bool,
    model_name: str | None,
    out: Path,
    as_json: bool,
    ingest_if_empty: bool = False,
) -> None:
    settings = get_settings()
    figures = load_figures(figures_path)
    spec = load_spec(spec_path, figures)  # everything is validated before anything is written
    _check_out_dir(out)
    engine = make_engine(None if offline else make_model(settings, model=model_name))
    notice = FORCED_OFFLINE_NOTICE if offline else (OFFLINE_NOTICE if engine.kind == "offline" else None)
    show = err_console if as_json else console
    if notice:
        show.print(f"[bold yellow]{notice}[/]")
    else:
        show.print(
            f"使用模型 [bold]{escape(engine.model_name or '')}[/] 起草，最多 {settings.max_concurrency} 个章节并行。"
        )
    kb = _open_kb(settings, ingest_if_empty=ingest_if_empty)
    ctx = DraftContext.create(spec, figures, kb, settings)
    todo = drafted_sections(spec, figures)
    if live_progress(show):
        report = _draft_with_bar(ctx, engine, todo, show, transient=as_json)
    else:  # a log or a pipe: plain lines, as the sections finish
        lines = PlainProgress()
        finished = 0
        lines("起草章节", 0, len(todo))

        def on_section(draft: SectionDraft) -> None:
            nonlocal finished
            finished += 1
            lines("起草章节", finished, len(todo))

        report = draft_report(ctx, engine, on_section=on_section)

    out.mkdir(parents=True, exist_ok=True)
    md_path = out / f"{file_stem(report.title)}.md"
    md_path.write_text(report.to_markdown(), encoding="utf-8")
    report_id = _after_draft(report, spec, figures)
    data = report.to_json_dict()
    data["offline_notice"] = notice
    data["report_id"] = report_id
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    fell_back = [s.section_id for s in report.sections if s.provenance.fell_back]
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        _exit_if_fell_back(fell_back)
        return
    _print_summary(report)
    console.print(
        f"已保存到工作区，汇报编号 [bold]{report_id}[/]"
        f"（查看：huibao show {report_id}；重写单节：huibao regenerate {report_id} 章节编号）"
    )
    errors: dict[str, list[str]] = {}
    for s in report.sections:
        if s.provenance.error:
            errors.setdefault(s.provenance.error, []).append(s.section_id)
    for message, ids in errors.items():
        fell_back = [i for i in ids if report.section(i).provenance.engine == "offline"]
        what = "已改用离线引擎起草，" if fell_back else ""
        console.print(f"[yellow]章节 {escape('、'.join(ids))}：模型调用失败，{what}请核对。原因：{escape(message)}[/]")
    for s in report.sections:
        for warning in s.provenance.warnings:
            console.print(f"[yellow]章节 {escape(s.section_id)}：{escape(warning)}[/]")
    for item in report.todos:
        console.print(f"[cyan]待办（章节 {escape(item.section_id)}，要点里的备注，未写入正文）：{escape(item.text)}[/]")
    console.print(f"已写入 {escape(str(md_path))} 和 {escape(str(out / 'report.json'))}")
    _exit_if_fell_back(fell_back)


def _check_out_dir(out: Path) -> None:
    """Refuse an output folder that cannot be one (a file, or under a file) before anything is
    drafted or saved."""
    for path in (out, *out.parents):
        if not path.exists():
            continue
        if not path.is_dir():
            where = "是一个文件" if path == out else f"所在的 {path} 是一个文件"
            raise InputError(f"--out 应为输出目录，而 {out} {where}；请换一个目录（不存在的目录会自动创建）。")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"没有写入目录 {path} 的权限，请用 --out 换一个目录。")
        return


def _draft_with_bar(
    ctx: DraftContext, engine: Engine, todo: list[SectionSpec], out: Console, *, transient: bool
) -> ReportDraft:
    """Draft with a live bar per section (a terminal only)."""
    titles = ctx.titles
    names = {part: PART_NAMES[part] for part in ("intro", "closing")}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=out,
        transient=transient,
    ) as bar:
        tasks = {
            s.id: bar.add_task(
                f"章节 {s.id} {escape((s.title or names.get(s.part) or titles.get(s.id, '') + '（待拟）')[:20])}",
                total=1,
                status="等待",
            )
            for s in todo
        }
        overall = bar.add_task("[bold]全文", total=len(todo), status="")
        chars: dict[str, int] = {}

        def on_start(section_id: str) -> None:
            bar.update(tasks[section_id], status="起草中")

        def on_delta(section_id: str, text: str) -> None:
            chars[section_id] = chars.get(section_id, 0) + len(text)
            bar.update(tasks[section_id], status=f"已生成 {chars[section_id]} 字")

        def on_section(draft: SectionDraft) -> None:
            s = draft.check.summary
            state = "完成" if draft.provenance.engine == "model" else "完成（离线）"
            if draft.provenance.error:
                state = "模型出错，已离线起草" if draft.provenance.engine == "offline" else "修正数字时出错"
            bar.update(tasks[draft.section_id], completed=1, status=f"{state}，数字 {number_counts(s)}")
            bar.advance(overall)

        return draft_report(ctx, engine, on_section=on_section, on_start=on_start, on_delta=on_delta)


def _exit_if_fell_back(section_ids: list[str]) -> None:
    """The draft is saved either way; exit code 4 tells a script the model failed for some sections."""
    if section_ids:
        err_console.print(
            f"[bold red]模型出错：[/]章节 {escape('、'.join(section_ids))} 由离线引擎代为起草"
            f"（已保存，已在表中标出），退出码 {EXIT_MODEL}。"
        )
        raise typer.Exit(EXIT_MODEL)


def _print_summary(report: ReportDraft) -> None:
    table = Table(title=f"起草结果：{escape(report.title)}", show_header=True)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("章节", "left"),
        ("标题", "left"),
        ("引擎", "left"),
        (NUMBER_COUNTS_HEADER, "right"),
        ("规范错误", "right"),
        ("规范提示", "right"),
    )
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for s in report.sections:
        if not s.text:
            continue
        c = s.check.summary
        engine = {"model": "模型", "offline": "离线"}[s.provenance.engine]
        if s.provenance.error:
            engine += "（模型出错）"
        elif s.provenance.repaired:
            engine += "（已修正数字）"
        table.add_row(
            escape(s.section_id),
            escape((s.heading or "")[:24]),
            engine,
            number_counts(c),
            str(c.style_errors),
            str(c.style_warnings),
        )
    rc = report.report_check
    if rc is not None:
        c = rc.summary
        engine = {"model": "模型", "offline": "离线", "mixed": "模型＋离线"}.get(report.engine, report.engine)
        table.add_row(
            "全文",
            "",
            engine,
            number_counts(c),
            str(c.style_errors),
            str(c.style_warnings),
            style="bold",
        )
        if rc.coverage.unused:
            console.print(f"[yellow]未用到的数据：{escape('、'.join(rc.coverage.unused))}[/]")
    console.print(table)


@app.command()
def draft(
    spec: Path = typer.Option(..., "--spec", help="提纲文件（.yaml）"),
    figures: Path = typer.Option(..., "--figures", help="数据文件（.yaml/.csv/.xlsx）"),
    offline: bool = typer.Option(False, "--offline", help="不调用模型，使用离线引擎"),
    model: str | None = typer.Option(None, "--model", help="模型名称（覆盖设置）"),
    out: Path = typer.Option(Path("out"), "--out", help="输出目录"),
    as_json: bool = typer.Option(False, "--json", help="把 report.json 的内容输出到标准输出"),
) -> None:
    """按提纲和数据起草年度工作汇报，写出 <标题>.md 和 report.json，并核对数字与公文规范。"""
    _run(spec, figures, offline=offline, model_name=model, out=out, as_json=as_json)


@app.command()
def demo(
    offline: bool = typer.Option(False, "--offline", help="不调用模型，使用离线引擎"),
    model: str | None = typer.Option(None, "--model", help="模型名称（覆盖设置）"),
    out: Path = typer.Option(Path("out"), "--out", help="输出目录"),
) -> None:
    """起草示例汇报：examples/report-spec.yaml + examples/figures.xlsx，使用示例知识库。"""
    examples = resource_dir("examples")
    figures = examples / "figures.xlsx"
    if not figures.is_file():
        figures = examples / "figures.csv"
    _run(
        examples / "report-spec.yaml",
        figures,
        offline=offline,
        model_name=model,
        out=out,
        as_json=False,
        ingest_if_empty=True,
    )
