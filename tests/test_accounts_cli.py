"""`huibao user`, `members`, `audit`, the review commands and `export --approved-only`.

`user add` runs as a real process: the password comes from stdin, and the exit codes are the
ones a script sees."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from assistant.commands.main import app
from assistant.core.settings import get_settings
from assistant.workspace.accounts import check_password
from assistant.workspace.roles import os_user
from assistant.workspace.service import Workspace
from tests.test_store import make_figures, make_report_draft, make_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from assistant.commands import main as cli

    monkeypatch.setattr(cli.console, "_width", 200)


def huibao(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "assistant.commands.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_user_add_reads_the_password_from_stdin_and_refuses_empty_or_taken_names():
    added = huibao("user", "add", "张三", "--role", "管理员", stdin="第一行密码\n第二行不算\n")
    assert added.returncode == 0, added.stderr
    assert "已添加用户 张三（管理员）" in added.stdout and "账户已启用" in added.stdout
    ws = Workspace.open(get_settings().workspace_path)
    user = ws.store.find_user("张三")
    assert user.role == "admin" and check_password("第一行密码", user.password_hash)
    assert not check_password("第一行密码\n", user.password_hash)
    taken = huibao("user", "add", "张三", "--role", "drafter", stdin="别的\n")
    empty = huibao("user", "add", "李四", "--role", "drafter", stdin="\n")
    bad_role = huibao("user", "add", "李四", "--role", "科长", stdin="x\n")
    assert (taken.returncode, empty.returncode, bad_role.returncode) == (2, 2, 2)
    assert "已有名为“张三”的用户" in taken.stderr and "密码为空" in empty.stderr and "角色“科长”无效" in bad_role.stderr
    assert [u.name for u in ws.store.users()] == ["张三"] and ws.store.find_user("张三").role == "admin"
    # no password argument exists
    assert huibao("user", "add", "王五", "--role", "drafter", "--password", "x").returncode == 2
    # list: never a password or a hash
    listed = huibao("user", "list", "--json")
    rows = json.loads(listed.stdout)
    assert rows == [{"name": "张三", "role": "admin", "enabled": True, "last_login": None}]
    assert "$2b$" not in listed.stdout and "第一行密码" not in listed.stdout
    assert huibao("user", "passwd", "张三", stdin="新密码\n").returncode == 0
    assert huibao("user", "disable", "张三").returncode == 0
    assert "已停用" in huibao("user", "list").stdout
    # every change is in the audit log, recorded as the OS user who ran the command
    log = Workspace.open(get_settings().workspace_path).audit_log()
    assert [(e.user, e.action, e.detail) for e in log] == [
        (os_user(), "user_add", "张三（admin）"),
        (os_user(), "user_passwd", "张三"),
        (os_user(), "user_disable", "张三"),
    ]


def test_review_commands_export_approved_only_and_audit_csv(tmp_path):
    ws = Workspace.open(get_settings().workspace_path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    assert run("submit", rid, "1.2").exit_code == 0
    refused = run("submit", rid, "1.2")
    assert refused.exit_code != 0 and "当前为“待审”，不能提交审核" in str(refused.exception)
    returned = run("return", rid, "1.2", "--comment", "阅读量要补上")
    assert returned.exit_code == 0 and "已退回章节 1.2 第 1 版：阅读量要补上" in returned.output
    text = tmp_path / "1.2.txt"
    text.write_text("新媒体发稿860篇，阅读量稳步提升。", encoding="utf-8")
    assert run("edit", rid, "1.2", "--file", str(text)).exit_code == 0
    assert run("submit", rid, "1.2").exit_code == 0
    assert run("approve", rid, "1.2", "--comment", "同意").exit_code == 0
    overview = run("review", rid)
    assert "已通过" in overview.output and "尚未通过：6 个章节" in overview.output
    out = tmp_path / "approved.docx"
    exported = run("export", rid, "--format", "docx", "--out", str(out), "--approved-only")
    assert exported.exit_code == 0, exported.output
    assert "未通过审核、未导出的章节（6 个）" in exported.output and "closing" in exported.output
    body = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "阅读量稳步提升" in body and "宣传形式还不够丰富" not in body
    # a new version of the approved section puts it back to 草稿, and the command says so
    text.write_text("新媒体发稿860篇，阅读量明显提升。", encoding="utf-8")
    edited = run("edit", rid, "1.2", "--file", str(text))
    assert "由“已通过”回到草稿" in edited.output
    history = run("history", rid, "1.2")
    assert "修改人" in history.output and os_user() in history.output
    audit = run("audit", "--csv", "--report", rid)
    rows = list(csv.reader(io.StringIO(audit.output)))
    assert rows[0] == ["time", "user", "action", "report_id", "section_id", "version", "detail"]
    assert [r[4] for r in rows[1:] if r[2] == "起草"] == ["intro", "1", "1.1", "1.2", "2", "3", "closing"]
    assert [r[2] for r in rows[1:] if r[2] != "起草"] == [
        "新建汇报",
        "提交审核",
        "退回",
        "手工修改",
        "提交审核",
        "审核通过",
        "导出",
        "手工修改",
        "回到草稿",
    ]
    assert {r[1] for r in rows[1:]} == {os_user()}
    filtered = run("audit", "--csv", "--action", "审核通过")
    assert len(list(csv.reader(io.StringIO(filtered.output)))) == 2
    assert "未知的操作类型" in str(run("audit", "--action", "飞行").exception)
