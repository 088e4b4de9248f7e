"""Accounts in real headless Chromium (issue 18): a drafter and a reviewer walk draft, edit,
submit, return, revise, approve and export; each is refused what their role does not allow;
the history says who made each version and the admin's audit CSV lists the whole scenario.

`huibao ui` runs as an office server does once an admin exists: every page behind the sign-in
form, the session in a signed HttpOnly cookie. Offline engine, data in tmp.

Run: .venv/bin/python -m pytest tests/test_browser_accounts.py -m browser
"""

from __future__ import annotations

import csv
import io
import os
import re
import urllib.request
import zipfile

import pytest

from assistant.core.settings import get_settings
from assistant.workspace.accounts import Accounts, server_secret
from assistant.workspace.roles import Actor, Forbidden, os_user
from assistant.workspace.service import Workspace
from tests.test_browser import (
    ARTIFACTS,
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    UI_TIMEOUT_MS,
    open_report_id,
    open_tools,
    run_app,
    settle,
    shot,
)

pytestmark = BROWSER_MARKS

PASSWORDS = {"王主任": "admin-pass-1", "小王": "drafter-pass-1", "李科长": "reviewer-pass-1"}


@pytest.fixture
def office_server(tmp_path):
    """Three accounts made on the server (as `huibao user add` does), then `huibao ui`."""
    settings = get_settings()
    ws = Workspace.open(settings.workspace_path)
    accounts = Accounts(ws.store, secret=server_secret(settings.data_dir))
    for (name, password), role in zip(PASSWORDS.items(), ("admin", "drafter", "reviewer")):
        accounts.add_user(name, role, password)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env |= {
        "HUIBAO_DATA_DIR": str(settings.data_dir),
        "HUIBAO_CONFIG": str(tmp_path / "none.toml"),
        "ANONYMIZED_TELEMETRY": "False",
    }
    try:
        with run_app(tmp_path, env) as base:
            yield base, ws
    finally:
        ws.close()


def sign_in(browser, base: str, name: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.goto(base)
    page.get_by_role("heading", name="汇报起草助手 · 登录").wait_for()  # every page sits behind the form
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORDS[name])
    page.get_by_role("button", name="登录").click()
    page.get_by_text(re.compile(f"当前用户：{name}")).wait_for()
    settle(page)
    return page


def review_box(page, section_id: str):
    return page.locator(f".st-key-review-{section_id.replace('.', '_')}")


def edit_section(page, section_id: str, text: str) -> None:
    box = open_tools(page, section_id)
    box.get_by_role("tab", name="手工修改").click()
    area = box.get_by_label("正文")
    area.fill(text)
    area.press("Control+Enter")
    settle(page)
    box.get_by_role("button", name="保存修改").click()


def test_drafter_and_reviewer_walk_the_review_and_each_is_refused_the_rest(office_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, ws = office_server
    # nothing but the sign-in form without a session: a page load goes there, the page's
    # websocket and health stay as they are
    with urllib.request.urlopen(base + "/") as r:  # follows the redirect
        assert r.url.endswith("/huibao/signin") and "登录" in r.read().decode("utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        anonymous = browser.new_page(locale="zh-CN")
        anonymous.goto(base)
        anonymous.get_by_label("用户名").fill("小王")
        anonymous.get_by_label("密码").fill("错的密码")
        anonymous.get_by_role("button", name="登录").click()
        anonymous.get_by_text("用户名或密码不正确，或账户已停用。").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        anonymous.screenshot(path=str(ARTIFACTS / "30-signin-refused.png"))  # a plain page, not Streamlit's

        # 1. the drafter signs in: the cookie is HttpOnly and survives a refresh
        drafter = sign_in(browser, base, "小王")
        (cookie,) = [c for c in drafter.context.cookies() if c["name"] == "huibao_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert "huibao_session" not in drafter.evaluate("document.cookie")
        drafter.reload()
        drafter.get_by_text("当前用户：小王（起草人）").wait_for()
        expect(drafter.get_by_role("link", name="操作记录")).to_have_count(0)  # admins only

        # 2. draft: a new report from the template, drafted whole (offline engine)
        drafter.get_by_label("标题", exact=True).fill("禾川市人大常委会办公室2026年度宣传工作汇报")
        drafter.get_by_label("单位", exact=True).fill("禾川市人大常委会办公室")
        drafter.get_by_label(re.compile("主要工作要点")).fill("新闻宣传\n理论学习")
        drafter.get_by_role("button", name="新建").click()
        drafter.get_by_text(re.compile("已新建报告")).wait_for()  # on the 提纲 page
        settle(drafter)
        drafter.get_by_role("link", name="章节").click()
        drafter.get_by_role("button", name="起草全文").click()
        drafter.get_by_text(re.compile("全文已起草")).wait_for()
        rid = open_report_id(drafter)
        expect(review_box(drafter, "1.1").get_by_text("审核：草稿")).to_be_visible()
        ws.add_member(rid, "李科长")  # the admin's step, here as `huibao members --add` does it

        # 3. edit and submit
        edit_section(drafter, "1.1", "一是抓实新闻宣传。全年组织新闻宣传活动，扩大了人大工作的社会影响。")
        drafter.get_by_text("章节 1.1 的修改已保存为第 2 版。").wait_for()
        review_box(drafter, "1.1").get_by_role("button", name="提交审核").click()
        drafter.get_by_text("章节 1.1 第 2 版已提交审核。").wait_for()
        settle(drafter)
        expect(review_box(drafter, "1.1").get_by_role("button", name="通过")).to_have_count(0)
        shot(drafter, "31-drafter-submitted")
        # refused: a drafter may not move a report to the 回收站 (the workspace says no, not the page)
        drafter.get_by_role("link", name="报告").click()
        drafter.locator(f".st-key-report-{rid}").get_by_role("button", name="删除").click()
        drafter.get_by_text(re.compile("小王（起草人）无权删除或恢复汇报")).wait_for()
        assert [r.id for r in ws.reports()] == [rid]
        # refused: the model endpoint is the admin's (no address field, only a personal key)
        drafter.get_by_role("link", name="设置").click()
        drafter.get_by_text("模型服务由管理员设置。", exact=False).wait_for()
        expect(drafter.get_by_label("服务地址（Base URL）")).to_have_count(0)

        # 4. the reviewer returns it with a comment
        reviewer = sign_in(browser, base, "李科长")
        reviewer.get_by_role("link", name="章节").click()
        box = review_box(reviewer, "1.1")
        box.get_by_placeholder("退回须写明意见").fill("请写明宣传活动的场次")
        box.get_by_placeholder("退回须写明意见").press("Enter")
        settle(reviewer)
        box.get_by_role("button", name="退回").click()
        reviewer.get_by_text("章节 1.1 第 2 版已退回：请写明宣传活动的场次").wait_for()
        expect(reviewer.get_by_role("link", name="操作记录")).to_have_count(0)
        reviewer.get_by_role("link", name="报告").click()
        settle(reviewer)
        expect(reviewer.get_by_text("加入成员")).to_have_count(0)  # membership is the admin's
        shot(reviewer, "32-reviewer-reports")

        # 5. the drafter revises and submits again
        drafter.get_by_role("link", name="章节").click()
        review_box(drafter, "1.1").get_by_text(re.compile("意见：请写明宣传活动的场次")).wait_for()
        edit_section(drafter, "1.1", "一是抓实新闻宣传。全年组织新闻宣传活动多场，扩大了人大工作的社会影响。")
        drafter.get_by_text("章节 1.1 的修改已保存为第 3 版。").wait_for()
        review_box(drafter, "1.1").get_by_role("button", name="提交审核").click()
        drafter.get_by_text("章节 1.1 第 3 版已提交审核。").wait_for()

        # 6. the reviewer approves
        reviewer.get_by_role("link", name="章节").click()
        review_box(reviewer, "1.1").get_by_role("button", name="通过").click()
        reviewer.get_by_text("章节 1.1 第 3 版审核通过。").wait_for()
        settle(reviewer)
        shot(reviewer, "33-reviewer-approved")

        # 7. export only what is approved
        drafter.get_by_role("link", name="导出").click()
        drafter.get_by_text("只导出审核已通过的章节").click()
        drafter.get_by_text(re.compile("未通过审核、不导出的章节")).wait_for()
        settle(drafter)
        with drafter.expect_download() as info:
            drafter.get_by_role("button", name="下载 Word（.docx）").click()
        document = zipfile.ZipFile(info.value.path()).read("word/document.xml").decode("utf-8")
        assert "多场" in document and "理论学习" not in document
        shot(drafter, "34-export-approved-only")

        # 8. the admin reads the whole scenario in the audit log and takes it as CSV
        admin = sign_in(browser, base, "王主任")
        admin.get_by_role("link", name="操作记录").click()
        settle(admin)
        with admin.expect_download() as info:
            admin.get_by_role("button", name=re.compile("导出 CSV")).click()
        rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
        shot(admin, "35-admin-audit")
        # the admin sets the endpoint for everyone (the key stays on the server) and adds an account
        admin.get_by_role("link", name="设置").click()
        for label, value in (
            ("服务地址（Base URL）", "http://10.0.0.8:8000/v1"),
            ("模型名称", "qwen2.5-32b-instruct"),
            ("API Key", "sk-office-secret"),
        ):
            field = admin.get_by_role("textbox", name=label, exact=True)
            field.fill(value)
            field.press("Enter")
            settle(admin)
        admin.get_by_role("button", name="保存（对所有用户生效）").click()
        admin.get_by_text(re.compile("模型接口已保存，对所有用户生效")).wait_for()
        settle(admin)
        assert "sk-office-secret" not in admin.content()
        form = admin.locator("[data-testid='stForm']")
        for label, value in (("新用户名", "小赵"), ("密码", "zhao-pass-1"), ("再输入一次", "zhao-pass-1")):
            form.get_by_role("textbox", name=label, exact=True).fill(value)
        admin.get_by_role("button", name="添加用户").click()
        admin.get_by_text("已添加用户 小赵（起草人）。").wait_for()
        shot(admin, "36-admin-settings")
        # others see the admin's endpoint, never its key, and may only add a personal one
        drafter.goto(base + "/settings")  # a new page load: a session of its own
        drafter.get_by_text("模型服务由管理员设置。", exact=False).wait_for()
        settle(drafter)
        shot(drafter, "37-drafter-settings")
        drafter.get_by_text("http://10.0.0.8:8000/v1").first.wait_for()
        assert "sk-office-secret" not in drafter.content()
        drafter.get_by_role("link", name="退出登录").click()
        drafter.get_by_role("heading", name="汇报起草助手 · 登录").wait_for()
        browser.close()

    assert rows[0] == ["time", "user", "action", "report_id", "section_id", "version", "detail"]
    scenario = [(r[1], r[2], r[4], r[5]) for r in rows[1:] if r[3] == rid and r[2] != "起草"]
    assert scenario == [
        ("小王", "新建汇报", "", ""),
        (os_user(), "加入汇报", "", ""),  # added on the server, recorded as its OS user
        ("小王", "手工修改", "1.1", "2"),
        ("小王", "提交审核", "1.1", "2"),
        ("李科长", "退回", "1.1", "2"),
        ("小王", "手工修改", "1.1", "3"),
        ("小王", "提交审核", "1.1", "3"),
        ("李科长", "审核通过", "1.1", "3"),
        ("小王", "导出", "", ""),
    ]
    drafted = [r for r in rows[1:] if r[3] == rid and r[2] == "起草"]
    assert drafted and {r[1] for r in drafted} == {"小王"}
    signins = [(r[1], r[2]) for r in rows[1:] if r[2] in ("登录", "登录失败")]
    assert signins[0] == ("小王", "登录失败") and ("李科长", "登录") in signins
    data = get_settings().data_dir
    assert "sk-office-secret" in (data / "endpoint.key").read_text(encoding="utf-8")
    assert (data / "endpoint.key").stat().st_mode & 0o077 == 0  # the server's account only
    assert "sk-office-secret" not in (data / "huibao.toml").read_text(encoding="utf-8")
    assert ws.store.find_user("小赵").role == "drafter"
    endpoint = [r for r in rows if r[2] == "设置模型接口"]
    assert not endpoint  # the CSV was taken before; the log has it now:
    assert [e.user for e in ws.audit_log(actions={"endpoint", "user_add"})][-2:] == ["王主任", "王主任"]
    # the history says who made each version
    assert [(h.version, h.user) for h in ws.history(rid, "1.1")] == [(1, "小王"), (2, "小王"), (3, "小王")]
    # and the workspace refuses the same actions when called directly
    with pytest.raises(Forbidden):
        ws.as_actor(Actor("小王", "drafter")).approve(rid, "1.1")
    with pytest.raises(Forbidden):
        ws.as_actor(Actor("李科长", "reviewer")).add_member(rid, "王主任")
