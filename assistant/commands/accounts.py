"""`huibao user`, `members` and `audit`: accounts, report membership and who did what.

Wiring only: assistant.workspace.accounts keeps users and passwords, the Workspace membership
and the audit log. A command runs on the server as its OS user, recorded as such.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from assistant.commands.base import command_app, console
from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.workspace.accounts import Accounts, accounts_on, server_secret
from assistant.workspace.roles import ROLE_ZH, parse_role
from assistant.workspace.service import Workspace, audit_csv
from assistant.workspace.store import ACTION_ZH

app = command_app()

USER_ACTIONS = ("add", "list", "disable", "enable", "passwd")


def _workspace() -> Workspace:
    return Workspace.open(get_settings().workspace_target)


def _accounts(ws: Workspace) -> Accounts:
    settings = get_settings()
    return Accounts(ws.store, secret=server_secret(settings.data_dir), session_hours=settings.session_hours)


def read_password() -> str:
    """The new password: the first line of stdin when it is not a terminal, else asked twice
    without echo. Never an argument (it would stay in the shell history and the process list)."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再输入一次："):
        raise InputError("两次输入的密码不一致，未作改动。", field="密码")
    return first


def _when(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else "从未登录"


@app.command()
def user(
    action: str = typer.Argument(..., help="add、list、disable、enable 或 passwd"),
    name: str | None = typer.Argument(None, help="用户名（list 不用）"),
    role: str | None = typer.Option(
        None, "--role", help="add 时的角色：drafter（起草人）、reviewer（审核人）或 admin（管理员）"
    ),
    as_json: bool = typer.Option(False, "--json", help="list：输出 JSON 数组（name、role、enabled、last_login）"),
) -> None:
    """管理账户：add 添加（密码从标准输入第一行读取，终端上提示输入两次）、list 列出、disable 停用、enable 启用、passwd 改密码。"""
    if action not in USER_ACTIONS:
        raise InputError(f"未知的操作“{action}”：应为 {'、'.join(USER_ACTIONS)}。", field="操作")
    ws = _workspace()
    accounts = _accounts(ws)
    if action == "list":
        users = accounts.users()
        if as_json:
            rows = [{"name": u.name, "role": u.role, "enabled": u.enabled, "last_login": u.last_login} for u in users]
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not users:
            console.print("还没有账户。添加第一个管理员：huibao user add 姓名 --role admin")
            return
        table = Table(title="账户")
        for col in ("用户名", "角色", "状态", "最后登录"):
            table.add_column(col)
        for u in users:
            table.add_row(
                escape(u.name), ROLE_ZH.get(u.role, u.role), "启用" if u.enabled else "已停用", _when(u.last_login)
            )
        console.print(table)
        return
    if not name:
        raise InputError(f"huibao user {action} 需要用户名。", field="用户名")
    if action == "add":
        if role is None:
            raise InputError("请用 --role 指定角色：drafter（起草人）、reviewer（审核人）或 admin（管理员）。")
        parsed = parse_role(role)
        if accounts.store.find_user(name.strip()) is not None:  # before asking for a password
            raise InputError(f"已有名为“{name.strip()}”的用户，未作改动。", field="用户名")
        was_on = accounts_on(ws.store, configured=get_settings().accounts)
        added = accounts.add_user(name, parsed, read_password())
        console.print(f"已添加用户 {escape(added)}（{ROLE_ZH[parsed]}）。")
        if not was_on and parsed == "admin":
            console.print("账户已启用：网页需要登录才能使用。")
    elif action == "passwd":
        accounts.existing(name)  # an unknown name fails before a password is asked
        accounts.set_password(name, read_password())
        console.print(f"已修改用户 {escape(name)} 的密码；其已登录的浏览器需重新登录。")
    elif action == "disable":
        accounts.disable(name)
        console.print(f"已停用用户 {escape(name)}；其已登录的浏览器已退出。")
    else:
        accounts.enable(name)
        console.print(f"已启用用户 {escape(name)}。")


@app.command()
def members(
    report: str = typer.Argument(..., help="汇报编号（huibao reports 可查看）"),
    add: list[str] = typer.Option([], "--add", help="加入成员（用户名，可写多次）"),
    remove: list[str] = typer.Option([], "--remove", help="移出成员（用户名，可写多次）"),
) -> None:
    """列出汇报的成员；--add、--remove 加入或移出（起草人和审核人只能看到、修改自己参与的汇报）。"""
    ws = _workspace()
    for name in add:
        ws.add_member(report, name)
        console.print(f"已将 {escape(name)} 加入汇报 {escape(report)}。")
    for name in remove:
        ws.remove_member(report, name)
        console.print(f"已将 {escape(name)} 移出汇报 {escape(report)}。")
    names = ws.members(report)
    console.print(f"汇报 {escape(report)} 的成员：{escape('、'.join(names)) if names else '（无）'}")


def _action_keys(actions: list[str]) -> set[str] | None:
    if not actions:
        return None
    by_label = {label: key for key, label in ACTION_ZH.items()}
    out = set()
    for a in actions:
        key = a if a in ACTION_ZH else by_label.get(a)
        if key is None:
            raise InputError(f"未知的操作类型“{a}”。可用：{'、'.join(ACTION_ZH)}。", field="--action")
        out.add(key)
    return out


@app.command()
def audit(
    as_csv: bool = typer.Option(
        False, "--csv", help="输出 CSV（time,user,action,report_id,section_id,version,detail）"
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="写入文件（UTF-8，带 BOM，Excel 可直接打开）"),
    since: str | None = typer.Option(None, "--since", help="起始时间（含），如 2026-12-01"),
    until: str | None = typer.Option(None, "--until", help="截止时间（不含），如 2027-01-01"),
    user_name: str | None = typer.Option(None, "--user", help="只看这个用户"),
    report: str | None = typer.Option(None, "--report", help="只看这份汇报"),
    action: list[str] = typer.Option([], "--action", help="只看这类操作（如 edit 或 手工修改，可写多次）"),
) -> None:
    """操作记录：谁在什么时间做了什么（版本、数据、锁定、审核、导入、导出、删除、恢复、账户）。"""
    ws = _workspace()
    entries = ws.audit_log(since=since, until=until, user=user_name, actions=_action_keys(action), report_id=report)
    if as_csv or out is not None:
        text = audit_csv(entries)
        if out is not None:
            out.write_text(text, encoding="utf-8-sig")
            console.print(f"已写出 {len(entries)} 条操作记录：{escape(str(out))}")
        else:
            sys.stdout.write(text)
        return
    if not entries:
        console.print("没有符合条件的操作记录。")
        return
    table = Table(title=f"操作记录（{len(entries)} 条）")
    for col in ("时间", "用户", "操作", "汇报", "章节", "版本", "说明"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e.time[:19].replace("T", " "),
            escape(e.user),
            e.action_zh,
            escape(e.report_id or ""),
            escape(e.section_id or ""),
            str(e.version or ""),
            escape(e.detail),
        )
    console.print(table)
