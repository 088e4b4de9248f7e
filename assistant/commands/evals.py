"""`huibao eval`: draft the eval cases and score them against the gate (logic: assistant.evaluation.runner)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from assistant.commands.base import PlainProgress, command_app, console, err_console, ingest_phase, live_progress
from assistant.core.errors import InputError
from assistant.core.settings import PROJECT_ROOT, get_settings
from assistant.evaluation import (
    Backend,
    CaseResult,
    EvalReport,
    discover_cases,
    load_thresholds,
    run_eval,
    write_outputs,
)
from assistant.kb.ingest import open_knowledge_base
from assistant.llm.embeddings import make_embedder

app = command_app()

DEFAULT_CASES = Path("evals/cases")
DEFAULT_THRESHOLDS = Path("evals/thresholds.yaml")
DEFAULT_REPORT = Path("out/eval-report.md")
DEFAULT_JSON = Path("out/eval-report.json")


def _project_default(path: Path, default: Path) -> Path:
    """A default path is looked up in the project when the current folder lacks it."""
    if path == default and not path.exists():
        return PROJECT_ROOT / default
    return path


def print_report(report: EvalReport) -> None:
    """One row per case; short headers so the table fits an 80-column CI log."""
    table = Table(
        title="评测结果" + ("（离线引擎）" if report.backend == "offline" else f"（模型 {escape(report.model or '')}）")
    )
    table.add_column("案例", no_wrap=True)
    cols = ["编造", "待补充", "覆盖", "错误", "提示", "结构"]
    if report.backend == "model":
        cols += ["初稿编造", "修正"]
    if report.judge:
        cols.append("评分")
    cols.append("结果")
    for col in cols:
        table.add_column(col, justify="right", overflow="fold")
    for c in report.cases:
        ok = not report.case_failures(c.case_id)
        verdict = "[green]通过[/]" if ok else "[red]未通过[/]"
        if c.error:
            table.add_row(escape(c.case_id), *["—"] * (len(cols) - 1), "[red]出错[/]")
            continue
        row = [
            escape(c.case_id),
            str(c.invented_total),
            f"{c.placeholders}{'*' if c.expect_placeholders else ''}",
            f"{c.coverage:.0%}",
            str(c.style_errors),
            str(c.style_warnings),
            "合规" if c.structure.passed else "[red]不合规[/]",
        ]
        if report.backend == "model":
            row += [
                str(c.first_answer_invented if c.first_answer_invented is not None else "—"),
                escape("、".join(c.repaired_sections)) or "—",
            ]
        if report.judge:
            row.append(str(c.judge.average) if c.judge and c.judge.average is not None else "—")
        table.add_row(*row, verdict)
    console.print(table)
    console.print(
        "[dim]编造：无依据的数字（含修正后仍无依据、已标注【待核实】的）；待补充带 * 为预期；"
        "覆盖：用到的数据占比；错误、提示：公文规范错误、提示。[/]"
    )
    for f in report.failures:
        err_console.print(f"[red]未达门槛：[/]{escape(f.message)}")


@app.command("eval")
def eval_command(
    offline: bool = typer.Option(False, "--offline", help="用离线引擎起草（不调用模型）"),
    model: str | None = typer.Option(None, "--model", help="用此模型起草（需配置模型接口）"),
    cases: Path = typer.Option(DEFAULT_CASES, "--cases", help="案例目录"),
    case: list[str] | None = typer.Option(None, "--case", help="只评测这些案例（可重复）"),
    report: Path = typer.Option(DEFAULT_REPORT, "--report", help="Markdown 评测报告的输出路径"),
    json_path: Path = typer.Option(DEFAULT_JSON, "--json", help="JSON 评测结果的输出路径"),
    thresholds: Path = typer.Option(DEFAULT_THRESHOLDS, "--thresholds", help="门槛文件"),
    judge: bool = typer.Option(False, "--judge", help="另请模型按评分细则给文风打分（仅供参考，不替代规则核对）"),
) -> None:
    """起草评测案例并核对（编造数字、待补充项、数据覆盖、公文规范、结构），未达门槛时以非零状态退出。"""
    if offline and model:
        raise InputError("--offline 与 --model 不能同时使用。", field="--model")
    settings = get_settings()
    backend: Backend
    if offline:
        backend = "offline"
        console.print("[bold]按 --offline 要求，使用离线引擎起草评测案例。[/]")
    elif model or settings.model_configured:
        backend = "model"
        console.print(f"使用模型 [bold]{escape(model or settings.model)}[/] 起草评测案例。")
    else:
        backend = "offline"
        console.print("[bold yellow]未配置模型接口，使用离线引擎起草评测案例。[/]")
    cases_dir = _project_default(cases, DEFAULT_CASES)
    limits = load_thresholds(_project_default(thresholds, DEFAULT_THRESHOLDS))

    total = len(discover_cases(cases_dir, case or None))
    live = live_progress(console)
    lines = PlainProgress()
    # the sample knowledge is ingested into an empty index first (as run_eval would), with progress
    kb = open_knowledge_base(
        settings,
        make_embedder=make_embedder,
        ingest_if_empty=True,
        progress=None if live else PlainProgress(phase=ingest_phase),
    )
    finished = 0
    if not live:
        lines("评测案例", 0, total)

    def on_case(result: CaseResult) -> None:
        nonlocal finished
        finished += 1
        state = "出错" if result.error else ("结构合规" if result.structure.passed else "结构不合规")
        console.print(
            f"  已完成 {escape(result.case_id)}：编造 {result.invented_total}，待补充 {result.placeholders}，"
            f"规范错误 {result.style_errors}，{state}"
        )
        if not live:
            lines("评测案例", finished, total)

    # a spinner on a terminal only: in a log it prints nothing (PlainProgress lines instead)
    with console.status("正在起草和核对评测案例……") if live else nullcontext():
        result = run_eval(
            cases_dir,
            settings,
            backend=backend,
            model=model,
            judge=judge,
            only=case or None,
            thresholds=limits,
            on_case=on_case,
            kb=kb,
        )
    write_outputs(result, report, json_path)
    print_report(result)
    console.print(f"已写入 {escape(str(report))} 和 {escape(str(json_path))}")
    if not result.passed:
        err_console.print(f"[bold red]评测未通过：{len(result.failures)} 项未达门槛。[/]")
        raise typer.Exit(1)
    console.print("[bold green]评测通过：全部案例达到门槛。[/]")
