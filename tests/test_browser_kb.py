"""In real headless Chromium (issue 14): an office uploads its own past report on the 素材库 page,
corrects the prefilled 类别/年度/单位, and the offline engine, which drafts from past reports
only, then drafts from it. Screenshots go to test-artifacts/.

Run: .venv/bin/python -m pytest tests/test_browser_kb.py -m browser
"""

from __future__ import annotations

import os
import re

import pytest

from tests.test_browser import (
    BROWSER_MARKS,
    browser,
    run_app,
    settle,
    shot,
)
from tests.test_kb_metadata import OFFICE, docx_bytes

pytestmark = BROWSER_MARKS

# Saved with a name and a first line that do not say what it is: the guess is 其他, no 单位.
UPLOAD_NAME = "人大办2024.docx"
UPLOAD_TEXT = """2024年度宣传思想文化工作

2024年，在市委和市人大常委会党组的坚强领导下，办公室围绕中心抓宣传，各项工作取得新成效。

一、工作做法及成效

（一）坚持理论武装，筑牢思想根基

一是严格落实“第一议题”制度，青禾读书角每月开放，党组会议带头学习习近平总书记最新重要讲话精神，理论学习中心组集中学习，领导班子讲专题党课。

（二）创新新闻宣传，讲好人大故事

一是办好“青禾人大”融媒体专栏，新闻发布会机制化运行，微信公众号和抖音直播常态开展，宣传声势持续壮大。
"""


@pytest.fixture
def offline_ui(tmp_path):
    """`huibao ui` with no model configured (drafts with the offline engine), data in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HUIBAO_"))}
    app_env = {
        **env,
        "HUIBAO_DATA_DIR": str(tmp_path / "data"),
        "HUIBAO_CONFIG": str(tmp_path / "none.toml"),
        "ANONYMIZED_TELEMETRY": "False",
    }
    with run_app(tmp_path, app_env) as base:
        yield base, tmp_path


def test_uploaded_past_report_with_its_metadata_is_drafted_from_as_past_report(offline_ui):
    from playwright.sync_api import expect

    base, tmp = offline_ui
    upload = tmp / UPLOAD_NAME
    upload.write_bytes(docx_bytes(UPLOAD_TEXT))
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_text("已保存的报告").wait_for()  # the sample report of 禾川市人大常委会办公室

        # 1. upload: the form shows the guesses (其他, 2024, no 单位); the person corrects them
        page.get_by_role("link", name="素材库").click()
        page.get_by_text("素材库是空的。").wait_for()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
        page.get_by_text(re.compile("请核对每个文件的类别、年度和单位")).wait_for()
        settle(page)
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_label("年度")).to_have_value("2024")
        expect(main.get_by_label("单位")).to_have_value("")
        kind = main.get_by_role("combobox", name="类别")
        expect(kind).to_have_value("其他")
        shot(page, "19-kb-upload-guessed")
        kind.click()
        page.get_by_role("option", name="往年汇报").click()
        main.get_by_label("单位").fill(OFFICE)
        main.get_by_label("单位").press("Enter")
        settle(page)
        expect(kind).to_have_value("往年汇报")
        shot(page, "20-kb-upload-corrected")
        page.get_by_role("button", name="导入", exact=True).click()
        page.get_by_text(re.compile("导入完成")).wait_for()
        page.get_by_text("已导入的文件（1 个）").wait_for()
        settle(page)
        listed = main.get_by_text(UPLOAD_NAME).first
        expect(listed).to_be_visible()
        for shown in ("往年汇报", "2024 年", OFFICE):
            expect(main.get_by_text(shown, exact=True).first).to_be_visible()
        shot(page, "21-kb-listed")

        # 2. draft offline: the engine takes past reports only, the office's own first
        page.get_by_role("link", name="章节").click()
        page.get_by_role("button", name="起草全文").click()
        page.get_by_text(re.compile("全文已起草")).wait_for()
        settle(page)
        box = page.locator(".st-key-section-intro")  # the 导语 follows the past report's opening
        box.get_by_text("修改 · 历史 · 参考素材").click()
        box.get_by_role("tab", name="参考素材").click()
        passage = box.locator(".hb-passage").first
        passage.wait_for()
        expect(passage).to_contain_text(f"出处：{UPLOAD_NAME}")
        shot(page, "22-kb-drafted-from-upload")

        # 3. a folder removed at once: the page says how many and which, and asks first
        page.get_by_role("link", name="素材库").click()
        page.get_by_role("button", name=re.compile("同步示例素材目录")).click()
        page.get_by_text(re.compile("导入完成")).wait_for()
        settle(page)
        total = int(re.search(r"已导入的文件（(\d+) 个）", main.inner_text()).group(1))
        main.get_by_role("combobox", name="目录").click()
        page.get_by_role("option", name="policies", exact=True).click()
        # the bulk-delete button appears only once the run with the folder filter has drawn the list
        page.get_by_role("button", name=re.compile(r"删除符合条件的 \d+ 个文件")).wait_for()
        settle(page)
        count = int(re.search(r"符合条件的 (\d+) 个", main.inner_text()).group(1))
        assert 0 < count < total
        page.get_by_role("button", name=f"删除符合条件的 {count} 个文件…").click()
        page.get_by_text(re.compile(f"确认从素材库删除.*的 {count} 个文件")).wait_for()
        settle(page)
        shot(page, "23-kb-remove-folder-confirm")
        page.get_by_role("button", name=f"确认删除 {count} 个文件").click()
        page.get_by_text(f"已从素材库删除 {count} 个文件。").wait_for()
        page.get_by_text(f"已导入的文件（{total - count} 个）").wait_for()
        expect(main.get_by_text(UPLOAD_NAME).first).to_be_visible()  # the upload is in no folder: it stays
