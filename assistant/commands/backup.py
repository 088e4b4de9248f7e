"""`huibao backup FILE` and `huibao restore-backup FILE`: a copy of the workspace (the SQLite file, or
the PostgreSQL database with pg_dump), and putting one back.

Wiring only: the work is done by assistant.workspace.backup.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.prompt import Confirm

from assistant.commands.base import command_app, console, err_console
from assistant.core.settings import get_settings
from assistant.workspace.backup import backup_workspace, check_backup, restore_workspace
from assistant.workspace.db import is_database_url, masked_database_url

app = command_app()


@app.command()
def backup(
    file: Path = typer.Argument(..., help="备份文件的路径，如 huibao-2026-06-30.sqlite3"),
    force: bool = typer.Option(False, "--force", help="文件已存在时覆盖"),
) -> None:
    """把工作区（全部汇报、每一版、数据、操作记录）备份到一个文件；其他进程可同时写入。文件已存在时不覆盖，除非加 --force。"""
    summary = backup_workspace(get_settings().workspace_target, file, force=force)
    console.print(f"已备份工作区到 {escape(str(summary.path))}：{summary.describe()}。")


@app.command("restore-backup")
def restore_backup(
    file: Path = typer.Argument(..., help="huibao backup 写出的备份文件"),
    yes: bool = typer.Option(False, "--yes", "-y", help="不再询问，直接恢复"),
) -> None:
    """用备份文件替换当前工作区。先检查备份文件（是 huibao 工作区、版本不高于本程序、完整性检查通过），
    再把当前工作区备份到它旁边（文件名带时间），然后替换；较旧版本的备份按现有方式迁移。
    不加 --yes 时在终端里先问，非终端不作改动并以退出码 1 结束。"""
    settings = get_settings()
    workspace = settings.workspace_target
    found = check_backup(file, workspace)
    console.print(f"备份文件 {escape(str(file))}：{found.describe()}。")
    if is_database_url(workspace):
        where = f"工作区数据库 {escape(masked_database_url(str(workspace)))}（替换前先把当前工作区备份到 {escape(str(settings.data_dir / 'backups'))}）"
    else:
        where = f"工作区 {escape(str(workspace))}（替换前先把当前工作区备份到同一目录）"
    console.print(f"将用它替换{where}。")
    if yes:
        go = True
    elif not console.is_terminal:
        go = False
        err_console.print("未恢复，工作区未作改动：确认无误后加 --yes 再运行一次。")
    else:
        go = Confirm.ask("用备份替换当前工作区？", default=False, console=console)
    if not go:
        raise typer.Exit(1)
    result = restore_workspace(workspace, file, safety_dir=settings.data_dir / "backups")
    if result.safety_copy is not None:
        console.print(
            f"恢复前的工作区已备份到 {escape(str(result.safety_copy.path))}（{result.safety_copy.describe()}）。"
        )
    console.print(f"已恢复工作区：{result.restored.describe()}。")
