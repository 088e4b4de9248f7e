"""Issue 14 end to end in headless Chromium: a whole outline written on the page from an empty
workspace (新建报告 with notes for every part, then the 提纲 page: a title, a new sub-section
moved up, a top-level section removed and restored, the numbers of the notes added as figures),
drafted on the 章节 page and exported as Word, whose headings follow the outline as edited.

Run: .venv/bin/python -m pytest tests/test_browser_outline.py -m browser
"""

from __future__ import annotations

import re
import zipfile

from assistant.core.settings import get_settings
from assistant.workspace.service import Workspace
from tests.test_browser import ARTIFACTS, BROWSER_MARKS, browser, servers, settle, shot  # noqa: F401  (servers: fixture)

pytestmark = BROWSER_MARKS


def _form(page, section_id: str):
    return page.locator(f".st-key-outline-{section_id.replace('.', '_')}")


def _save(box, *, title: str | None = None, notes: str | None = None) -> None:
    if title is not None:
        box.get_by_label("标题（可不填，起草时拟定）").fill(title)
    if notes is not None:
        box.get_by_label("要点（每行一条，大白话即可）").fill(notes)
    box.get_by_role("button", name="保存本节").click()


def test_a_whole_outline_written_on_the_page_is_drafted_and_exported(servers):  # noqa: F811
    from playwright.sync_api import expect

    base, tmp = servers
    with browser(tmp) as page:
        page.goto(base)
        page.get_by_text("新建报告").wait_for()
        form = page.locator("[data-testid='stForm']").filter(has_text="新建")
        form.get_by_label("标题").fill("青山县文旅局2026年度工作汇报")
        form.get_by_label("单位").fill("青山县文旅局")
        form.get_by_label("导语要点（可不填）").fill("在县委县政府领导下抓文旅融合")
        form.get_by_label(re.compile("主要工作要点")).fill("景区提质，游客接待312万人次\n文化惠民，送戏下乡86场")
        form.get_by_label("存在的问题要点（可不填）").fill("精品线路少")
        form.get_by_label("下一年工作打算要点（可不填）").fill("抓好全域旅游示范区创建")
        form.get_by_label("结束语要点（可不填）").fill("奋力开创文旅工作新局面")
        form.get_by_role("button", name="新建").click()

        # the 提纲 page: the whole template, every part with its notes
        page.get_by_role("heading", name="提纲").wait_for()
        for sid in ("intro", "1", "1.1", "1.2", "2", "3", "closing"):
            _form(page, sid).wait_for()
        settle(page)
        ws = Workspace.open(get_settings().workspace_path)
        rid = next(r.id for r in ws.reports() if r.title == "青山县文旅局2026年度工作汇报")

        _save(_form(page, "1.1"), title="聚焦景区提质，旅游市场加快复苏")
        page.get_by_text("章节 1.1 已保存。").wait_for()

        # a new sub-section under 一、, written and moved to the front
        _form(page, "1").get_by_role("button", name="添加小节").click()
        _form(page, "1.3").wait_for()
        settle(page)
        _save(_form(page, "1.3"), title="加强文物保护，守牢安全底线", notes="完成文物普查，修缮古建筑7处")
        page.get_by_text("章节 1.3 已保存。").wait_for()
        settle(page)
        # each move renumbers the section on the page: wait for that, as "已上移" is still shown from
        # the first move when the second is clicked (a click during a run can be lost)
        for numbered in ("（二）", "（一）"):
            _form(page, "1.3").get_by_role("button", name="上移").click()
            page.get_by_text("章节 1.3 已上移。").wait_for()
            expect(_form(page, "1.3").get_by_text(f"{numbered}加强文物保护，守牢安全底线")).to_be_visible()
            settle(page)
        assert [c.id for c in ws.spec(rid).get("1").children] == ["1.3", "1.1", "1.2"]
        expect(_form(page, "1.3").get_by_text("（一）加强文物保护，守牢安全底线")).to_be_visible()

        # a top-level section added before the 结束语, removed, and restored
        new = page.locator("[data-testid='stForm']").filter(has_text="添加").last
        new.get_by_label("标题").fill("需要协调解决的事项")
        new.get_by_label("要点").fill("景区道路改造资金")
        new.get_by_role("button", name="添加").click()
        page.get_by_text("已添加一级章节（在结束语之前）。").wait_for()
        _form(page, "4").wait_for()
        settle(page)
        _form(page, "4").get_by_role("button", name="移除").click()
        page.locator(".st-key-outline-removed-4").wait_for()
        settle(page)
        shot(page, "20-outline-removed")
        page.locator(".st-key-outline-removed-4").get_by_role("button", name="恢复").click()
        page.get_by_text("已恢复章节 4。").wait_for()
        settle(page)
        assert [s.id for s in ws.spec(rid).sections] == ["intro", "1", "2", "3", "4", "closing"]

        # the numbers the notes state become figures, each tied to its section
        for sid, count in (("1.1", 1), ("1.2", 1), ("1.3", 1)):
            box = _form(page, sid)
            expect(box.get_by_text(f"要点中有 {count} 个数字还不在“数据”中", exact=False)).to_be_visible()
            box.get_by_role("button", name="加入数据").click()
            # this section's own prompt goes away: the previous section's "已加入数据" message may
            # still be on the page, and a click made while that run goes on can be lost
            expect(box.get_by_text("还不在“数据”中", exact=False)).to_have_count(0)
            settle(page)
            expect(page.get_by_text(re.compile("已加入数据："))).to_be_visible()
        figures = {f.item: (f.value, f.unit, f.section) for f in ws.figures(rid)}
        assert len(figures) == 3 and {s for _, _, s in figures.values()} == {"1.1", "1.2", "1.3"}
        expect(page.get_by_text("个数字还不在“数据”中", exact=False)).to_have_count(0)
        shot(page, "21-outline-written")

        # drafted on the 章节 page, exported as Word
        page.get_by_role("link", name="章节").click()
        page.get_by_role("button", name="起草全文").click()
        page.get_by_text(re.compile("全文已起草")).wait_for()
        settle(page)
        drafted = [s.section_id for s in ws.current(rid).sections]
        assert drafted == ["intro", "1", "1.3", "1.1", "1.2", "2", "3", "4", "closing"]
        page.get_by_role("link", name="导出").click()
        with page.expect_download() as info:
            page.get_by_role("button", name="下载 Word（.docx）").click()
        target = ARTIFACTS / "outline-report.docx"
        ARTIFACTS.mkdir(exist_ok=True)
        info.value.save_as(str(target))
        body = re.sub(r"<[^>]+>", "", zipfile.ZipFile(target).read("word/document.xml").decode("utf-8"))
        first, second = (
            body.index("（一）加强文物保护，守牢安全底线"),
            body.index("（二）聚焦景区提质，旅游市场加快复苏"),
        )
        assert first < second < body.index("四、需要协调解决的事项")
        # each number of the notes, added as a figure, is stated (and grounded) in its section
        texts = {s.section_id: s for s in ws.current(rid).sections}
        for sid, number in (("1.1", "312万人次"), ("1.2", "86场"), ("1.3", "7处")):
            assert number in texts[sid].text and number in body
            assert texts[sid].check.summary.invented == 0


def test_a_chat_reply_streams_into_the_page(tmp_path):
    """The model's words show in the chat while it is still writing (the fake server sends a
    piece every 0.25 s), not after a spinner."""
    from tests.test_browser import start_servers

    with start_servers(tmp_path, "--chunk-delay", "0.25") as (base, tmp), browser(tmp) as page:
        page.goto(base)
        page.get_by_role("link", name="对话").click()
        page.get_by_placeholder(re.compile("输入要求")).fill("这份汇报写得怎么样？")
        page.get_by_placeholder(re.compile("输入要求")).press("Enter")
        # while "正在处理…" still shows, the reply already has words in it, and later more
        partial = page.wait_for_function(
            """() => {
                const msgs = document.querySelectorAll("[data-testid='stChatMessage']");
                const last = msgs[msgs.length - 1];
                if (!last || !last.innerText.includes("正在处理")) return null;
                const said = last.innerText.replace("正在处理…", "").trim();
                return said.length >= 2 ? said : null;
            }"""
        ).json_value()
        settle(page)
        final = page.locator("[data-testid='stChatMessage']").last.inner_text().strip()
        assert "正在处理" not in final
        assert final.startswith(partial) and len(final) > len(partial)
