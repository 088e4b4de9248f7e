"""`huibao materials extract`: figures out of an office's materials, with the sentence each came from."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from assistant.commands.base import command_app, console, err_console
from assistant.core.errors import HuibaoError, InputError
from assistant.core.settings import get_settings
from assistant.llm import make_model
from assistant.materials import Extracted, extract_materials, write_rows
from assistant.materials.rows import to_json, value_text

app = command_app()

ACTIONS = ("extract",)


@app.command()
def materials(
    action: str = typer.Argument(..., help="extract：从素材中摘录数据"),
    files: list[Path] = typer.Argument(..., help="素材文件：.docx .doc .wps .pdf .xlsx .txt .md .png .jpg"),
    out: Path | None = typer.Option(None, "--out", "-o", help="写出数据表（.csv、.xlsx 或 .yaml）"),
    as_json: bool = typer.Option(False, "--json", help="只输出一个 JSON 对象 {rows, conflicts, dropped}"),
    offline: bool = typer.Option(False, "--offline", help="不调用模型，由离线规则摘录"),
    model: str | None = typer.Option(None, "--model", help="模型名称（覆盖设置）"),
    year: int | None = typer.Option(None, "--year", help="汇报年度（默认取素材中出现最多的年份）"),
    force: bool = typer.Option(False, "--force", help="--out 的文件已存在时覆盖它"),
) -> None:
    """从各处室报来的素材中摘录数据，每行注明来源文件、位置和原句。退出码：0 已写出，1 有冲突，2 输入不可用。"""
    try:
        if action not in ACTIONS:
            raise InputError(f"未知的操作“{action}”（可用：{'、'.join(ACTIONS)}）。")
        if out is not None and out.suffix.lower() not in (".csv", ".xlsx", ".yaml", ".yml"):
            raise InputError("输出文件应为 .csv、.xlsx 或 .yaml。", file=str(out), field="--out")
        if out is not None and out.exists() and not force:
            # it may be a table someone already resolved the conflicts in: nothing is lost silently
            raise InputError(
                "文件已存在（其中可能已有核对过的冲突），未摘录、未改动。请换一个文件名，或加 --force 覆盖。",
                file=str(out),
                field="--out",
            )
        chat = None if offline else make_model(get_settings(), model=model)
        result = extract_materials(list(files), model=chat, year=year)
        if not result.rows:
            raise InputError("素材中没有找到带单位的数据。")
        if out is not None:
            write_rows(result.rows, out)
    except HuibaoError as err:
        err_console.print(f"[bold red]错误：[/]{escape(str(err))}", soft_wrap=True)
        raise typer.Exit(err.exit_code) from None
    if as_json:
        typer.echo(to_json(result))
    else:
        _print(result, out)
    raise typer.Exit(1 if result.conflicts else 0)


def _print(result: Extracted, out: Path | None) -> None:
    def say(msg: str = "") -> None:
        console.print(msg, soft_wrap=True)

    for note in result.notes:
        err_console.print(f"[yellow]{escape(note)}[/]")
    engine = "模型摘录，代码逐行核对原句" if result.engine == "model" else "离线规则摘录"
    say(f"[bold]摘录到 {len(result.rows)} 项数据[/]（{engine}）")
    for r in result.rows:
        mark = f" [red]冲突{r.conflict}[/]" if r.conflict else ""
        ocr = " [yellow]文字识别，请核对[/]" if r.confirm else ""
        last = f"（上年 {r.last_year:g}）" if r.last_year is not None else ""
        say(f"  {r.id} {escape(r.item)}：{escape(value_text(r))}{escape(last)}{mark}{ocr}")
        say(f"      [dim]{escape(r.source)}：{escape(r.sentence[:80])}[/]")
    if result.dropped:
        say(f"[yellow]模型给出的 {result.dropped} 行数值在所引原句中找不到，已舍弃。[/]")
    if result.conflicts:
        say(
            f"[red]{result.conflicts} 组冲突：同一事项有不同数值。请核对后每组只保留一行，并清空“conflict”列，"
            "再作为数据文件使用。[/]"
        )
    if out is not None:
        say(f"已写出：{escape(str(out))}")
