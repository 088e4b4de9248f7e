"""The Streamlit workspace, page by page, through streamlit.testing.v1.AppTest.

The model is replaced through the seam in assistant.ui.state (an in-process FakeChatModel)
or pointed at the local fake OpenAI server; conftest keeps data in tmp and the network out.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.check import check_text
from assistant.core.settings import get_settings
from assistant.llm import ToolCall, ToolReply
from assistant.testing.fakes import FakeChatModel
from assistant.ui import actions, state
from assistant.ui.render import findings_html, section_html
from assistant.workspace.service import Workspace
from tests.drafting_helpers import checker_is_item_aware, needs_item_aware_checker

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGES = "assistant/ui/pages"
TIMEOUT = 120  # generous: 2 shared cores; nothing asserts on time


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(f"{PAGES}/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def ui(at: AppTest) -> state.UiSession:
    return at.session_state["huibao.session"]


def workspace() -> Workspace:
    return Workspace.open(get_settings().workspace_path)


def drafted_app() -> AppTest:
    at = open_app("sections")
    at.button(key="draft-all").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_edit(at, sid: str) -> str:
    """Open a section's 修改 · 历史 tools and return its text box's key (edit.<sid>.<version>)."""
    at.session_state[f"tools.{sid}"] = True
    at.run()
    return next(t.key for t in at.text_area if t.key and t.key.startswith(f"edit.{sid}."))


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def no_errors(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)
    assert not at.error, texts(at.error)


@pytest.fixture
def fake_model(monkeypatch):
    """The chat model pages get from now on: a FakeChatModel, whatever the settings say.
    Call it after drafting offline (drafted_app) so the fake only sees the step under test."""
    model = FakeChatModel(name="fake-chat")

    def use() -> FakeChatModel:
        monkeypatch.setattr(state, "model_factory", lambda settings: model)
        return model

    return use


# --- first start, reports ------------------------------------------------------------------


def test_first_start_creates_the_sample_report_and_says_offline():
    at = open_app()
    no_errors(at)
    assert "报告" in texts(at.title)
    assert any("当前未配置模型，使用离线引擎" in t for t in texts(at.sidebar.info))
    reports = workspace().reports()
    assert len(reports) == 1 and reports[0].title == "禾川市人大常委会办公室2026年度宣传思想文化工作汇报"
    assert ui(at).report_id == reports[0].id
    assert any("示例报告" in t for t in texts(at.info))
    # a second start does not add another copy
    open_app()
    assert len(workspace().reports()) == 1


def test_create_report_from_template():
    at = open_app()
    at.text_input[0].set_value("某某局2026年度工作汇报")
    at.text_input[1].set_value("某某局")
    at.text_area(key="new-report.achievements").set_value("政务公开\n新闻宣传")
    at.text_area(key="new-report.problems").set_value("县区不平衡")
    at.button(key="FormSubmitter:new-report-新建").click().run()
    no_errors(at)
    reports = {r.title: r for r in workspace().reports()}
    created = reports["某某局2026年度工作汇报"]
    assert ui(at).report_id == created.id
    ids = [s.section_id for s in workspace().sections(created.id)]
    assert ids == ["intro", "1", "1.1", "1.2", "2", "3", "closing"]
    assert workspace().spec(created.id).get("2").notes == "县区不平衡"
    assert "提纲" in texts(at.title)  # it went on to the new report's outline
    assert any("某某局2026年度工作汇报" in t for t in texts(at.caption))
    # open the sample report again from the list
    at.switch_page(f"{PAGES}/reports.py").run()
    sample = next(r for r in workspace().reports() if r.id != created.id)
    at.button(key=f"open.{sample.id}").click().run()
    no_errors(at)
    assert ui(at).report_id == sample.id and sample.title in texts(at.title)


def test_create_report_refuses_missing_fields():
    at = open_app()
    at.button(key="FormSubmitter:new-report-新建").click().run()
    assert any("请填写报告标题" in t for t in texts(at.error))
    assert len(workspace().reports()) == 1


# --- sections -----------------------------------------------------------------------------


def test_draft_all_marks_every_number():
    at = drafted_app()
    no_errors(at)
    assert any("全文已起草（离线引擎）" in t for t in texts(at.success))
    # the count is of the sections drafted, as the progress bar counted them (not 一、 headings)
    rid = ui(at).report_id
    spec = workspace().spec(rid)
    leaves = sum(1 for s in spec.walk() if not s.children)
    assert any(f"共 {leaves} 节" in t for t in texts(at.success)), texts(at.success)
    html = "\n".join(t for t in texts(at.markdown) if "hb-text" in t)
    assert 'class="hb-num hb-grounded"' in html
    # the tooltip names the figure and its value (hover), and so does the popover (click)
    assert 'title="数据 press_conf：新闻发布会 11次' in html and 'data-tip="数据 press_conf：新闻发布会 11次' in html
    assert 'tabindex="0"' in html
    legend = next(t for t in texts(at.markdown) if 'class="hb-legend"' in t)
    assert "错配" in legend and "待核实" in legend and "待补充" in legend
    rid = ui(at).report_id
    assert all(s.versions == 1 for s in workspace().sections(rid))


def test_regenerate_one_section_with_instruction_streams_and_leaves_the_rest(fake_model):
    at = drafted_app()
    fake_model = fake_model()
    rid = ui(at).report_id
    before = {d.section_id: d.text for d in workspace().current(rid).sections}
    fake_model.enqueue("全年召开新闻发布会11次，发布会机制更加健全，宣传声势进一步壮大。")
    at.session_state["tools.1.2"] = True
    at.run()
    at.text_input(key="instruction.1.2").set_value("更精炼")
    at.button(key="regen.1.2").click().run()
    no_errors(at)
    assert any("章节 1.2 已重新起草（要求：更精炼）" in t for t in texts(at.success))
    after = {d.section_id: d.text for d in workspace().current(rid).sections}
    assert after["1.2"] != before["1.2"] and "发布会机制更加健全" in after["1.2"]
    assert {k: v for k, v in after.items() if k != "1.2"} == {k: v for k, v in before.items() if k != "1.2"}
    # the instruction reached the model and is recorded with the version
    assert "更精炼" in fake_model.history[0][-1].content
    history = workspace().history(rid, "1.2")
    assert [v.version for v in history] == [1, 2] and history[-1].instruction == "更精炼"
    assert history[-1].author == "model"
    # the new text is shown marked: 11次 is grounded
    html = "\n".join(t for t in texts(at.markdown) if "发布会机制更加健全" in t)
    assert "hb-grounded" in html and "11次" in html


def test_model_failure_shows_the_error_and_saves_nothing(fake_model):
    # Issue 11: a regeneration the model failed is not done by an offline stand-in.
    from assistant.core.errors import ModelError

    at = drafted_app()
    fake_model = fake_model()
    fake_model.enqueue(ModelError("无法连接模型服务 http://127.0.0.1:9/v1：连接被拒绝。"))
    at.session_state["tools.1.1"] = True
    at.run()
    at.button(key="regen.1.1").click().run()
    assert not at.exception
    assert any("无法连接模型服务" in t and "未保存" in t for t in texts(at.error))
    assert len(workspace().history(ui(at).report_id, "1.1")) == 1  # nothing lost, nothing added


def test_model_review_of_a_section_lists_verbatim_quotes_as_warnings_and_saves_nothing(fake_model):
    import json

    at = drafted_app()
    rid = ui(at).report_id
    at.session_state["tools.1.2"] = True
    at.run()
    assert any("未配置模型接口" in t and "不能做模型审读" in t for t in texts(at.caption))
    model = fake_model()
    text = workspace().current(rid).section("1.2").text
    quote = text[2:9]
    model.enqueue(
        json.dumps(
            {"问题": [{"段": 1, "原文": quote, "类别": "口语句式", "建议": "书面说法"}, {"原文": "本来就没有的话"}]},
            ensure_ascii=False,
        )
    )
    at.run()
    at.button(key="review.1.2").click().run()
    no_errors(at)
    assert "【第1段】" in model.history[0][-1].content
    listed = next(t for t in texts(at.markdown) if "模型审读" in t and "hb-findings" in t)
    assert f"“{quote}”" in listed and "hb-warning" in listed and "hb-error" not in listed
    assert any("模型提示 1 处" in t and "另有 1 条的摘录在正文中找不到" in t for t in texts(at.caption))
    assert len(workspace().history(rid, "1.2")) == 1  # advisory: no version added
    at.run()  # kept for the version while the session lasts
    assert any("模型提示 1 处" in t for t in texts(at.caption)) and model.pending == 0


def test_model_review_of_the_whole_report_reads_every_drafted_section(fake_model):
    import json
    import re

    at = drafted_app()
    rid = ui(at).report_id

    def responder(messages) -> str:  # quotes the first six characters of the first paragraph shown
        first = re.search(r"【第1段】(.{6})", messages[-1].content)
        return json.dumps(
            {"问题": [{"段": 1, "原文": first.group(1), "类别": "口语词", "建议": ""}]}, ensure_ascii=False
        )

    model = fake_model()
    model.responder = responder
    drafted = [d for d in workspace().current(rid).sections if d.text.strip()]
    at.button(key="review-all").click().run()
    no_errors(at)
    assert len(model.history) == len(drafted)
    assert any(f"模型审读了 {len(drafted)} 节" in t for t in texts(at.info))
    listed = [t for t in texts(at.markdown) if "hb-findings" in t and "模型审读" in t]
    assert len(listed) == len(drafted)  # each section's model finding beside its rules' findings
    assert all(len(workspace().history(rid, d.section_id)) == 1 for d in drafted)


def test_regenerate_action_with_a_failing_model_saves_nothing():
    # The page's action and the CLI both go through Workspace.regenerate, which refuses to save
    # an offline stand-in when the model failed (issue 11).
    from assistant.core.errors import ModelError, StoreError

    at = drafted_app()
    rid = ui(at).report_id
    ws = workspace()
    failing = FakeChatModel(responder=lambda messages: (_ for _ in ()).throw(ModelError("无法连接模型服务。")))
    with pytest.raises(ModelError, match="未保存任何版本"):
        actions.regenerate_section(ws, rid, "1.1", get_settings(), failing, instruction="更精炼")
    assert len(ws.history(rid, "1.1")) == 1
    draft = actions.regenerate_section(ws, rid, "1.1", get_settings(), None, instruction="更精炼")
    assert draft.section_id == "1.1" and draft.provenance.engine == "offline"
    assert ws.current(rid).section("1.1").text == draft.text
    last = ws.history(rid, "1.1")[-1]
    assert (last.version, last.author, last.instruction) == (2, "offline", "更精炼")
    ws.lock(rid, "1.1")
    with pytest.raises(StoreError, match="章节 1.1 已锁定，解锁后才能重新起草"):
        actions.regenerate_section(ws, rid, "1.1", get_settings(), None)
    assert len(ws.history(rid, "1.1")) == 2


def test_lock_blocks_regeneration_and_unlock_restores_it():
    at = drafted_app()
    rid = ui(at).report_id
    at.session_state["tools.1.3"] = True
    at.run()
    at.button(key="lock.1.3").click().run()
    assert workspace().locked(rid) == ["1.3"]
    assert at.button(key="regen.1.3").disabled
    # redrafting the whole report asks first, and keeps the locked section unless ticked
    at.button(key="draft-all").click().run()
    assert at.checkbox(key="confirm.include.1.3").value is False
    at.button(key="confirm-whole.ok").click().run()
    assert len(workspace().history(rid, "1.3")) == 1 and len(workspace().history(rid, "1.1")) == 2
    at.button(key="unlock.1.3").click().run()
    assert workspace().locked(rid) == [] and not at.button(key="regen.1.3").disabled


def test_hand_edit_is_a_version_with_diff_and_revert():
    at = drafted_app()
    rid = ui(at).report_id
    original = workspace().current(rid).section("1.4").text
    edit_key = open_edit(at, "1.4")
    at.text_area(key=edit_key).set_value("全年开展活动99次，效果明显。")
    at.button(key="save.1.4").click().run()
    no_errors(at)
    assert any("已保存为第 2 版" in t for t in texts(at.success))
    current = workspace().current(rid).section("1.4")
    assert current.text == "全年开展活动99次，效果明显。"
    # 99次 is in no figure: marked invented (red) with the reason as tooltip
    html = "\n".join(t for t in texts(at.markdown) if "效果明显" in t)
    assert "hb-invented" in html and "无依据" in html
    # the diff between the two versions is shown, then revert brings the original back
    diff = "\n".join(t for t in texts(at.markdown) if "hb-diff" in t)
    assert "<ins" in diff and "99" in diff
    # the pickers name the newest version as the new one, with a readable time
    assert at.selectbox(key="diff-b.1.4.2").value == 2
    assert "第 2 版 · 手工修改 · " in at.selectbox(key="diff-b.1.4.2").format_func(2)
    assert "T" not in at.selectbox(key="diff-b.1.4.2").format_func(2).split(" · ")[2]
    at.selectbox(key="revert-to.1.4.2").set_value(1)
    at.button(key="revert.1.4").click().run()
    no_errors(at)
    assert workspace().current(rid).section("1.4").text == original
    assert [v.author for v in workspace().history(rid, "1.4")] == ["offline", "hand", "revert"]
    # after the revert (version 3) the new-version picker starts from it, marked current
    assert at.selectbox(key="diff-b.1.4.3").value == 3
    assert at.selectbox(key="diff-b.1.4.3").format_func(3).endswith("（当前）")


@needs_item_aware_checker
def test_hand_edit_with_another_items_figure_shows_why_on_hover():
    # 12次 is 涉人大网络舆情研判's figure; the sentence is about 新闻发布会 (11次).
    at = drafted_app()
    rid = ui(at).report_id
    edit_key = open_edit(at, "1.4")
    at.text_area(key=edit_key).set_value("全年召开新闻发布会12次，效果明显。")
    at.button(key="save.1.4").click().run()
    no_errors(at)
    assert workspace().current(rid).section("1.4").check.summary.misattributed == 1
    html = "\n".join(t for t in texts(at.markdown) if "效果明显" in t)
    assert 'class="hb-num hb-misattributed"' in html  # the invented colour (CSS)
    tip = "错配：“12次”所在句子说的是“新闻发布会”，数据为11次"
    assert f'title="{tip}' in html and f'data-tip="{tip}' in html
    assert any("错配 1 个" in t for t in texts(at.caption))


def test_export_page_counts_unverified_apart_from_placeholders():
    at = drafted_app()
    rid = ui(at).report_id
    ws = workspace()
    ws.edit(rid, "1.4", "全年开展调研【待核实：30次】，培训【待补充：培训人数】。")
    at.switch_page(f"{PAGES}/export.py").run()
    no_errors(at)
    warning = next(t for t in texts(at.warning) if "导出前请核实" in t)
    assert "待核实 1 处" in warning and "待补充 1 处" in warning


def test_a_save_into_a_section_locked_meanwhile_names_the_unlock_button_not_a_command():
    at = drafted_app()
    rid = ui(at).report_id
    edit_key = open_edit(at, "1.4")
    at.text_area(key=edit_key).set_value("全年开展活动99次，效果明显。")
    workspace().lock(rid, "1.4")  # someone else locks it while the text is being typed
    at.button(key="save.1.4").click().run()
    errors = texts(at.error)
    assert errors and "已锁定" in errors[0] and "请先在本节“重新起草”页签点击“解锁”" in errors[0], errors
    assert "huibao" not in errors[0]
    assert len(workspace().history(rid, "1.4")) == 1
    # the control the message names is there, with that label, in that tab
    assert at.button(key="unlock.1.4").label == "解锁"
    assert "重新起草" in [t.label for t in at.tabs]


def test_a_section_locked_by_another_person_says_by_whom_without_a_command():
    from assistant.workspace.accounts import Accounts
    from assistant.workspace.roles import Actor, Forbidden

    rid = ui(open_app()).report_id
    ws = workspace()
    Accounts(ws.store, secret=b"k" * 32).add_user("小王", "drafter", "小王的密码12345")
    ws.add_member(rid, "小王")
    ws.as_actor(Actor("root", "admin")).lock(rid, "1.4")
    with pytest.raises(Forbidden) as refused:
        ws.as_actor(Actor("小王", "drafter")).unlock(rid, "1.4")
    # the page shows refusals through UiSession.notify (the 解锁 button's callback does)
    sess = state.UiSession(settings=get_settings())
    sess.notify("error", str(refused.value))
    shown = sess.notices[0].text
    assert "章节 1.4 由 root 锁定" in shown and "是root锁定的" not in shown, shown
    assert workspace().locked(rid) == ["1.4"]


def test_messages_from_below_name_the_page_control_instead_of_a_command():
    from assistant.core.errors import StoreError
    from assistant.kb.retrieve import EmptyKnowledgeBase
    from assistant.ui.messages import for_page

    rid = ui(open_app()).report_id
    ws = workspace()
    ws.lock(rid, "1.4")
    with pytest.raises(StoreError) as locked:
        ws.edit(rid, "1.4", "改了。")
    ws.delete(rid)
    with pytest.raises(StoreError) as trashed:
        ws.current(rid)
    with pytest.raises(StoreError) as unknown:
        ws.current("no-such-report")
    shown = [for_page(e.value) for e in (locked, trashed, unknown)] + [for_page(EmptyKnowledgeBase())]
    assert "请先在本节“重新起草”页签点击“解锁”" in shown[0]
    assert "“回收站”中点击“恢复”" in shown[1] and "“报告”页" in shown[2] and "“素材库”页" in shown[3]
    assert not any("huibao" in t for t in shown), shown


def test_empty_hand_edit_is_refused_and_nothing_lost():
    at = drafted_app()
    rid = ui(at).report_id
    edit_key = open_edit(at, "2")
    at.text_area(key=edit_key).set_value("   ")
    at.button(key="save.2").click().run()
    assert any("正文不能为空" in t for t in texts(at.error))
    assert len(workspace().history(rid, "2")) == 1


# --- figures -------------------------------------------------------------------------------


def _figure_row(at: AppTest, figure_id: str) -> int:
    table = at.data_editor[0].value
    return int(table.index[table["id"] == figure_id][0])


def test_figure_edit_marks_the_sections_that_used_it_stale_and_redrafts_them():
    at = drafted_app()
    rid = ui(at).report_id
    at.switch_page(f"{PAGES}/figures.py").run()
    no_errors(at)
    row = _figure_row(at, "press_conf")
    at.session_state[f"figures.{rid}.0"] = {"edited_rows": {row: {"value": "12"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="figures.save").click().run()
    no_errors(at)
    assert any("1.2" in t and "待更新" in t for t in texts(at.success))
    assert workspace().stale_sections(rid) == ["1.2"]
    assert any("新闻发布会" in t and "11次 改为 12次" in t for t in texts(at.markdown))
    at.button(key="figures.redraft").click().run()
    no_errors(at)
    # the sections page asks first (AppTest stays on the page it was told, so go there)
    at.switch_page(f"{PAGES}/sections.py").run()
    at.button(key="confirm-whole.ok").click().run()
    no_errors(at)
    # the sections page ran the job (progress bar, notice) and shows the new text
    assert any("已重新起草 1 个待更新章节" in t for t in texts(at.success))
    assert workspace().stale_sections(rid) == []
    assert "12次" in workspace().current(rid).section("1.2").text
    # the sections page no longer lists it
    at.switch_page(f"{PAGES}/sections.py").run()
    assert not [t for t in texts(at.warning) if "待更新" in t]


def test_large_and_precise_figures_survive_an_unrelated_edit():
    # Values shown in the table are written back on save: 1234567 must not come back as 1.23457e+06.
    at = drafted_app()
    rid = ui(at).report_id
    ws = workspace()
    figures = [
        f.model_copy(update={"value": 1234567.0})
        if f.id == "wechat_posts"
        else f.model_copy(update={"value": 12345.678})
        if f.id == "news_articles"
        else f
        for f in ws.figures(rid)
    ]
    actions.update_figures(ws, rid, figures)
    at.switch_page(f"{PAGES}/figures.py").run()
    row = _figure_row(at, "press_conf")
    at.session_state[f"figures.{rid}.0"] = {"edited_rows": {row: {"value": "12"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="figures.save").click().run()
    no_errors(at)
    saved = {f.id: f.value for f in workspace().figures(rid)}
    assert saved["wechat_posts"] == 1234567 and saved["news_articles"] == 12345.678 and saved["press_conf"] == 12


def test_invalid_figure_is_reported_in_chinese_and_nothing_saved():
    at = drafted_app()
    rid = ui(at).report_id
    before = workspace().figures(rid)
    at.switch_page(f"{PAGES}/figures.py").run()
    row = _figure_row(at, "press_conf")
    at.session_state[f"figures.{rid}.0"] = {
        "edited_rows": {row: {"value": "约30"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="figures.save").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert errors and f"第 {row + 1} 行" in errors[0] and "数值" in errors[0] and "约30" in errors[0]
    assert workspace().figures(rid) == before


def test_stale_sections_are_shown_on_the_sections_page():
    at = drafted_app()
    rid = ui(at).report_id
    ws = workspace()
    figures = [f.model_copy(update={"value": 6.0}) if f.id == "live_streams" else f for f in ws.figures(rid)]
    actions.update_figures(ws, rid, figures)
    at.run()
    assert any("以下 1 个章节待更新" in t and "1.2" in t for t in texts(at.warning))
    at.button(key="redraft-stale").click().run()
    at.button(key="confirm-whole.ok").click().run()
    no_errors(at)
    assert workspace().stale_sections(rid) == []


def test_figures_import_and_export():
    at = open_app("figures")
    rid = ui(at).report_id
    csv = "项目,数值,单位,章节\n新闻发布会,20,次,1.2\n编发新闻稿件,500,篇,1.2\n".encode()
    at.file_uploader(key="figures.upload.0").upload("数据.csv", csv, "text/csv")
    at.run()
    at.button(key="figures.import").click().run()
    no_errors(at)
    assert [(f.item, f.value) for f in workspace().figures(rid)] == [("新闻发布会", 20.0), ("编发新闻稿件", 500.0)]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["下载 CSV", "下载 Excel"]


def test_figures_table_edits_aliases_last_year_and_part_of():
    at = drafted_app()
    rid = ui(at).report_id
    at.switch_page(f"{PAGES}/figures.py").run()
    no_errors(at)
    table = at.data_editor[0].value
    assert list(table.columns)[-5:] == ["aliases", "last_year", "part_of", "source", "sentence"]
    assert set(table["last_year"]) == {""} and set(table["part_of"]) == {""}  # empty cells, not None
    assert set(table["source"]) == {""} and set(table["sentence"]) == {""}
    press, prov = _figure_row(at, "press_conf"), _figure_row(at, "provincial_media")
    at.session_state[f"figures.{rid}.0"] = {
        "edited_rows": {
            press: {"aliases": "发布会、新闻发布", "last_year": "8"},
            prov: {"part_of": "news_articles"},
        },
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="figures.save").click().run()
    no_errors(at)
    saved = {f.id: f for f in workspace().figures(rid)}
    assert saved["press_conf"].aliases == ["发布会", "新闻发布"] and saved["press_conf"].last_year == 8
    assert saved["provincial_media"].part_of == "news_articles"
    # the fresh table shows them back: aliases joined with 、
    table = at.data_editor[0].value
    row = table[table["id"] == "press_conf"].iloc[0]
    assert (row["aliases"], row["last_year"]) == ("发布会、新闻发布", "8")
    assert table[table["id"] == "provincial_media"].iloc[0]["part_of"] == "news_articles"


def test_figures_table_refuses_part_of_an_unknown_id():
    at = drafted_app()
    rid = ui(at).report_id
    before = workspace().figures(rid)
    at.switch_page(f"{PAGES}/figures.py").run()
    row = _figure_row(at, "provincial_media")
    at.session_state[f"figures.{rid}.0"] = {
        "edited_rows": {row: {"part_of": "nope"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="figures.save").click().run()
    errors = texts(at.error)
    assert errors and "所属" in errors[0] and "“nope”" in errors[0] and f"第 {row + 1} 行" in errors[0]
    assert workspace().figures(rid) == before


def test_figures_table_refuses_a_section_not_in_the_outline():
    at = drafted_app()
    rid = ui(at).report_id
    before = workspace().figures(rid)
    stale = workspace().stale_sections(rid)
    at.switch_page(f"{PAGES}/figures.py").run()
    row = _figure_row(at, "press_conf")
    at.session_state[f"figures.{rid}.0"] = {
        "edited_rows": {row: {"section": "9.9", "value": "12"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="figures.save").click().run()
    assert not at.exception and not at.success
    errors = texts(at.error)
    assert errors and f"第 {row + 1} 行，字段“章节”：章节“9.9”不存在（现有：" in errors[0], errors
    assert "1.2" in errors[0].split("现有：")[1]
    assert workspace().figures(rid) == before and workspace().stale_sections(rid) == stale
    # an existing section is accepted
    at.session_state[f"figures.{rid}.0"] = {
        "edited_rows": {row: {"section": "1.1"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="figures.save").click().run()
    no_errors(at)
    assert {f.id: f.section for f in workspace().figures(rid)}["press_conf"] == "1.1"


def test_figures_import_refuses_a_section_not_in_the_outline():
    at = open_app("figures")
    rid = ui(at).report_id
    before = workspace().figures(rid)
    csv = "项目,数值,单位,章节\n新闻发布会,20,次,1.2\n编发新闻稿件,500,篇,9.9\n".encode()
    at.file_uploader(key="figures.upload.0").upload("数据.csv", csv, "text/csv")
    at.run()
    at.button(key="figures.import").click().run()
    errors = texts(at.error)
    assert errors and "数据.csv" in errors[0] and "编发新闻稿件" in errors[0] and "章节“9.9”不存在" in errors[0]
    assert workspace().figures(rid) == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_figure_files_keep_aliases_last_year_and_part_of(suffix):
    from assistant.core.figures import Figure

    figures = [
        Figure(id="F01", item="编发新闻稿件", value=418, unit="篇", aliases=["新闻稿件", "稿件"], last_year=380),
        Figure(id="F02", item="省级以上媒体刊发稿件", value=68, unit="篇", part_of="F01"),
    ]
    settings = get_settings()
    data = actions.figures_file_bytes(figures, suffix, settings)
    assert actions.figures_from_upload(f"数据{suffix}", data, settings) == figures
    # and a figure changed from the chat keeps them
    ws = workspace()
    rid = actions.create_from_template(ws, "某局2026年度工作汇报", "某局", 2026)
    actions.update_figures(ws, rid, figures)
    changed, _ = actions.set_one_figure(ws, rid, "F01", 420, None)
    assert (changed.aliases, changed.last_year, changed.base_value) == (["新闻稿件", "稿件"], 380, 420)


def test_figure_downloads_are_built_on_click_not_on_every_rerun(monkeypatch):
    # Every edit in the table reruns the page; the CSV and .xlsx used to be written each time.
    built = []
    monkeypatch.setattr(actions, "figures_file_bytes", lambda *args: built.append(args) or b"")
    at = open_app("figures")
    at.run()
    no_errors(at)
    buttons = at.get("download_button")
    assert [b.label for b in buttons] == ["下载 CSV", "下载 Excel"]
    assert all(b.proto.deferred_file_id for b in buttons) and built == []


def test_figures_import_bad_file_shows_error():
    at = open_app("figures")
    rid = ui(at).report_id
    before = workspace().figures(rid)
    at.file_uploader(key="figures.upload.0").upload("数据.csv", "项目,数值,单位\n发布会,很多,次\n".encode(), "text/csv")
    at.run()
    at.button(key="figures.import").click().run()
    assert not at.exception
    assert any("数据.csv" in t and "第 2 行" in t for t in texts(at.error))
    assert workspace().figures(rid) == before


# --- chat ----------------------------------------------------------------------------------


def test_chat_offline_commands_act_and_are_saved():
    at = drafted_app()
    rid = ui(at).report_id
    at.switch_page(f"{PAGES}/chat.py").run()
    assert any("当前未配置模型" in t for t in texts(at.info))
    at.chat_input(key="chat.input").set_value("数据 新闻发布会 12").run()
    no_errors(at)
    assert workspace().stale_sections(rid) == ["1.2"]
    at.chat_input(key="chat.input").set_value("重写 1.2 更精炼").run()
    no_errors(at)
    assert workspace().stale_sections(rid) == []
    assert workspace().history(rid, "1.2")[-1].instruction == "更精炼"
    at.chat_input(key="chat.input").set_value("解释 1.2").run()
    assert any("核对结果" in t for t in texts(at.markdown))
    roles = [e.role for e in workspace().chat_history(rid)]
    assert roles == ["user", "assistant"] * 3
    # a fresh session shows the saved conversation
    again = open_app("chat")
    assert any("数据 新闻发布会 12" == t for t in texts(again.markdown))


def test_chat_explain_follows_the_current_figures_and_undo_restores_them():
    at = drafted_app()
    rid = ui(at).report_id
    at.switch_page(f"{PAGES}/chat.py").run()
    before = _press_conf(rid)
    at.chat_input(key="chat.input").set_value("数据 新闻发布会 十").run()
    no_errors(at)
    assert _press_conf(rid) == [10]
    said = "\n".join(texts(at.markdown))
    assert "press_conf" not in said and "「新闻发布会」由 11次 改为 10次" in said
    at.chat_input(key="chat.input").set_value("解释 1.2").run()
    said = next(t for t in texts(at.markdown) if "核对结果" in t)
    assert "数据已修改" in said and "重写 1.2" in said  # the stale notice
    assert "“11次”" in said and "数据为10次" in said  # checked against the new value, not the saved check
    assert "press_conf" not in said
    at.chat_input(key="chat.input").set_value("撤销").run()
    no_errors(at)
    assert _press_conf(rid) == before == [11]
    assert workspace().stale_sections(rid) == []
    assert any("已撤销：数据「新闻发布会」恢复为 11次" in t for t in texts(at.markdown))
    at.chat_input(key="chat.input").set_value("撤销").run()
    assert any("没有可撤销的修改" in t for t in texts(at.markdown))


def test_chat_undo_takes_back_a_regeneration_as_a_new_version():
    at = drafted_app()
    rid = ui(at).report_id
    at.switch_page(f"{PAGES}/chat.py").run()
    original = workspace().section(rid, "1.1").text
    at.chat_input(key="chat.input").set_value("重写 1.1 更精炼").run()
    no_errors(at)
    at.chat_input(key="chat.input").set_value("撤销").run()
    no_errors(at)
    history = workspace().history(rid, "1.1")
    assert len(history) == 3 and history[-1].author == "revert"  # nothing lost
    assert workspace().section(rid, "1.1").text == original


def _press_conf(rid):
    return [f.value for f in workspace().figures(rid) if f.id == "press_conf"]


def _inject_set_figure(fake_model):
    # as if a retrieved passage had told the model to change 新闻发布会 from 11 to 300
    fake_model.enqueue(
        ToolReply(tool_calls=[ToolCall(id="c1", name="set_figure", arguments={"figure": "新闻发布会", "value": 300})])
    )
    fake_model.enqueue("素材要求把新闻发布会改为300次。")


def test_chat_model_figure_change_waits_for_confirmation(fake_model):
    at = drafted_app()
    fake_model = fake_model()
    rid = ui(at).report_id
    assert _press_conf(rid) == [11.0]
    _inject_set_figure(fake_model)
    at.switch_page(f"{PAGES}/chat.py").run()
    at.chat_input(key="chat.input").set_value("新媒体那节有什么要改的？").run()
    no_errors(at)
    assert any("尚未执行" in t for t in texts(at.markdown))
    assert _press_conf(rid) == [11.0] and workspace().stale_sections(rid) == []
    # so the injected "300次" is not grounded either (old code: the figure moved, and it was)
    mention = check_text("全年召开新闻发布会300次。", workspace().figures(rid), scope="section").numbers[0]
    assert mention.text == "300次" and mention.status != "grounded"
    assert fake_model.tool_history and {t.name for t in fake_model.tool_history[0]} >= {"set_figure"}
    # the tool result tells the model nothing was done
    assert "尚未执行" in fake_model.history[1][-1].content
    at.button(key="chat.confirm.1").click().run()
    no_errors(at)
    assert _press_conf(rid) == [300.0] and workspace().stale_sections(rid) == ["1.2"]
    # the old value stays in the figures history: a new snapshot, not an overwrite
    basis = workspace().store.figure_basis(rid)
    values = {sid: [f.value for f in figs if f.id == "press_conf"] for sid, figs in basis.snapshots.items()}
    assert values[basis.newest_snapshot_id] == [300.0] and [11.0] in values.values()
    said = [e.text for e in workspace().chat_history(rid)]
    assert any("对话中模型提议，经您确认" in t for t in said)
    assert not at.button  # no pending proposal left


def test_a_pending_proposal_survives_a_reload_and_is_applied_once(fake_model):
    # Old code kept proposals in st.session_state: a reload (a new session) lost them.
    at = drafted_app()
    fake_model = fake_model()
    rid = ui(at).report_id
    _inject_set_figure(fake_model)
    at.switch_page(f"{PAGES}/chat.py").run()
    at.chat_input(key="chat.input").set_value("新媒体那节有什么要改的？").run()
    assert at.button(key="chat.confirm.1")
    reloaded = open_app("chat")  # a fresh browser session
    assert any("模型提议：将数据“新闻发布会”改为 300" in t for t in texts(reloaded.warning))
    reloaded.button(key="chat.confirm.1").click().run()
    no_errors(reloaded)
    assert _press_conf(rid) == [300.0]
    assert "chat.confirm.1" not in [b.key for b in reloaded.button]  # settled: no longer offered
    # the first tab's stale button does nothing a second time
    at.button(key="chat.confirm.1").click().run()
    no_errors(at)
    said = [e.text for e in workspace().chat_history(rid)]
    assert sum("对话中模型提议，经您确认" in t for t in said) == 1
    assert [status for _, _, status in workspace().store.proposal_log(rid)] == ["confirmed"]


def test_chat_model_figure_change_cancelled(fake_model):
    at = drafted_app()
    fake_model = fake_model()
    rid = ui(at).report_id
    _inject_set_figure(fake_model)
    at.switch_page(f"{PAGES}/chat.py").run()
    at.chat_input(key="chat.input").set_value("新媒体那节有什么要改的？").run()
    at.button(key="chat.cancel.1").click().run()
    no_errors(at)
    assert _press_conf(rid) == [11.0] and workspace().stale_sections(rid) == []
    assert any("已取消模型提议" in e.text for e in workspace().chat_history(rid))
    assert not at.button


def test_chat_model_error_is_shown_and_page_keeps_working(fake_model):
    from assistant.core.errors import ModelError

    at = drafted_app()
    fake_model = fake_model()
    fake_model.enqueue(ModelError("模型服务暂时不可用（HTTP 503），请稍后重试。"))
    at.switch_page(f"{PAGES}/chat.py").run()
    at.chat_input(key="chat.input").set_value("你好").run()
    assert not at.exception
    assert any("模型服务暂时不可用" in t for t in texts(at.error))
    fake_model.enqueue("您好。")
    at.chat_input(key="chat.input").set_value("你好").run()
    assert any(t == "您好。" for t in texts(at.markdown))


# --- knowledge base -----------------------------------------------------------------------


def test_knowledge_upload_list_search_delete():
    at = open_app("knowledge")
    doc = "# 某局2025年工作总结\n\n## 一、新媒体建设\n\n全年运营政务新媒体矩阵，留言回复及时，网络直播常态开展。\n".encode()
    at.file_uploader(key="kb.upload.0").upload("../../某局2025年工作总结.md", doc, "text/markdown")
    at.run()
    at.button(key="kb.import").click().run()
    no_errors(at)
    assert any("导入完成" in t for t in texts(at.success))
    uploaded = get_settings().data_dir / "uploads"
    assert [p.name for p in uploaded.iterdir()] == ["某局2025年工作总结.md"]  # name sanitised, kept inside
    assert any("某局2025年工作总结.md" in t for t in texts(at.markdown))
    at.text_input(key="kb.query").set_value("新媒体 留言回复").run()
    assert any("hb-passage" in t and "留言回复" in t for t in texts(at.markdown))
    delete = next(b for b in at.button if b.key and b.key.startswith("kb.delete."))
    delete.click().run()
    assert any("确认从素材库删除" in t for t in texts(at.warning)) and any(uploaded.iterdir())  # asks first
    at.button(key="kb.delete_confirm").click().run()
    no_errors(at)
    assert any("已从素材库删除" in t for t in texts(at.success))
    assert not any(uploaded.iterdir())  # the uploaded file goes too: a later import won't revive it
    assert not any("某局2025年工作总结.md" in t for t in texts(at.markdown))


def test_knowledge_upload_too_big_is_refused():
    at = open_app("knowledge")
    at.file_uploader(key="kb.upload.0").upload("大文件.txt", b"x" * (20 * 1024 * 1024 + 1), "text/plain")
    at.run()
    at.button(key="kb.import").click().run()
    assert not at.exception
    assert any("不能超过 20 MB" in t for t in texts(at.error))
    assert not (get_settings().data_dir / "uploads").exists() or not any(
        (get_settings().data_dir / "uploads").iterdir()
    )


@pytest.mark.parametrize(
    "name, safe",
    [
        ("报告.md", "报告.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\a.docx", "a.docx"),
        ("a..b.pdf", "a_b.pdf"),
        (".hidden.md", "hidden.md"),
        ("x<y>.txt", "x_y_.txt"),
    ],
)
def test_upload_names_are_sanitised(name, safe):
    assert actions.safe_upload_name(name) == safe


@pytest.mark.parametrize(
    "name, size, fragment",
    [
        ("a.exe", 10, "不支持的文件类型"),
        ("a.md", 0, "文件是空的"),
        ("a.pdf", 2049, "网页上传的单个文件不能超过 2 KB"),
        ("..", 10, "文件名无效"),
    ],
)
def test_upload_checks(name, size, fragment):
    from assistant.core.errors import InputError

    settings = get_settings().model_copy(update={"max_upload_bytes": 2048})
    with pytest.raises(InputError, match=fragment):
        actions.check_upload(name, b"x" * size, settings)


# --- export --------------------------------------------------------------------------------


def test_export_offers_docx_and_markdown():
    at = drafted_app()
    at.switch_page(f"{PAGES}/export.py").run()
    no_errors(at)
    buttons = at.get("download_button")
    assert [b.label for b in buttons] == ["下载 Word（.docx）", "下载 Markdown"]
    assert buttons[0].proto.url.endswith(".docx")
    report = workspace().current(ui(at).report_id)
    data = actions.export_bytes(report, ".docx", get_settings())
    assert zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode().count("新闻发布会") >= 1
    assert (
        "禾川市人大常委会办公室2026年度宣传思想文化工作汇报"
        in actions.export_bytes(report, ".md", get_settings()).decode()
    )


def test_markdown_download_is_the_exported_file():
    from assistant.export import export_markdown

    at = drafted_app()
    report = workspace().current(ui(at).report_id)
    path = export_markdown(report, get_settings().data_dir / "r.md")
    assert actions.export_bytes(report, ".md", get_settings()) == path.read_bytes()


def test_export_before_drafting_says_so():
    at = open_app("export")
    assert any("还没有起草" in t for t in texts(at.info))


# --- settings ------------------------------------------------------------------------------


def test_settings_key_is_kept_in_the_session_only(fake_openai):  # noqa: F811
    at = open_app("settings")
    at.text_input(key="settings.base_url").set_value(fake_openai.url)
    at.text_input(key="settings.model").set_value("fake-model")
    at.text_input(key="settings.api_key").set_value("sk-secret-123")
    at.button(key="settings.save").click().run()
    no_errors(at)
    settings = ui(at).settings
    assert settings.api_key.get_secret_value() == "sk-secret-123" and settings.base_url == fake_openai.url
    assert at.session_state["settings.api_key"] == ""  # the typed key is gone from the widget
    assert "sk-secret-123" not in repr(at.session_state.to_dict())
    assert "sk-secret-123" not in str(os.environ) and get_settings().api_key is None
    shown = " ".join(str(x) for x in [*texts(at.markdown), *texts(at.caption)])
    assert "sk-secret-123" not in shown
    assert any("模型：fake-model" in t for t in texts(at.sidebar.success))
    at.button(key="settings.test").click().run()
    assert any("连接成功" in t for t in texts(at.success)), texts(at.error)
    workspace_file = get_settings().workspace_path.read_bytes()
    assert b"sk-secret-123" not in workspace_file


def test_settings_address_and_model_survive_a_refresh_the_key_does_not(fake_openai):  # noqa: F811
    at = open_app("settings")
    at.text_input(key="settings.base_url").set_value(fake_openai.url)
    at.text_input(key="settings.model").set_value("fake-model")
    at.text_input(key="settings.api_key").set_value("sk-secret-456")
    at.button(key="settings.save").click().run()
    no_errors(at)
    saved = (get_settings().data_dir / "huibao.toml").read_text(encoding="utf-8")
    assert fake_openai.url in saved and "fake-model" in saved and "sk-secret-456" not in saved
    again = open_app("settings")  # a refresh: a new session
    settings = ui(again).settings
    assert (settings.base_url, settings.model, settings.api_key) == (fake_openai.url, "fake-model", None)


def test_settings_endpoint_down_is_a_clear_error():
    at = open_app("settings")
    assert any("当前未配置模型，使用离线引擎" in t for t in texts(at.info))
    at.button(key="settings.test").click().run()
    assert any("未配置模型服务" in t for t in texts(at.error))
    at.text_input(key="settings.base_url").set_value("http://127.0.0.1:9/v1")
    at.button(key="settings.save").click().run()
    at.button(key="settings.test").click().run(timeout=TIMEOUT)
    assert not at.exception
    assert at.error and "127.0.0.1:9" in at.error[0].value


ADMIN_KEY = "sk-ADMIN-configured-0123456789"


def test_settings_test_uses_the_typed_address_and_never_sends_the_configured_key_elsewhere(
    fake_openai,  # noqa: F811
    monkeypatch,
):
    from assistant.testing.openai_server import FakeOpenAIServer

    fake_openai.require_key = ADMIN_KEY
    monkeypatch.setenv("HUIBAO_BASE_URL", fake_openai.url)
    monkeypatch.setenv("HUIBAO_API_KEY", ADMIN_KEY)
    monkeypatch.setenv("HUIBAO_MODEL", "fake-model")
    get_settings.cache_clear()
    with FakeOpenAIServer() as other:
        other.require_key = "EMPTY"  # the placeholder: anything else was a leaked key
        at = open_app("settings")
        at.button(key="settings.test").click().run()
        assert any("连接成功" in t for t in texts(at.success)), texts(at.error)
        assert fake_openai.requests and all(r.authorization_ok for r in fake_openai.requests)

        # Typed, not saved: the test goes to the typed address, without the configured key.
        at.text_input(key="settings.base_url").set_value(other.url)
        at.button(key="settings.test").click().run()
        no_errors(at)
        assert other.requests and all(r.authorization_ok for r in other.requests)
        shown = " ".join(texts(at.success))
        assert "连接成功" in shown and "不会发送" in shown and other.url in shown
        assert ui(at).settings.base_url == fake_openai.url  # nothing saved by a test

        # Saving the other address does not carry the configured key there either.
        at.button(key="settings.save").click().run()
        assert ui(at).settings.base_url == other.url and ui(at).settings.api_key is None
        assert any("不会发送" in t for t in texts(at.warning))

        # Back at the configured address, the configured key returns; 清除 Key would have kept it gone.
        at.text_input(key="settings.base_url").set_value(fake_openai.url)
        at.button(key="settings.save").click().run()
        assert ui(at).settings.api_key.get_secret_value() == ADMIN_KEY
        at.text_input(key="settings.base_url").set_value(other.url)
        at.button(key="settings.save").click().run()
        assert ui(at).settings.api_key is None

        # A key the user types is the user's to send.
        at.text_input(key="settings.api_key").set_value("sk-users-own")
        other.require_key = "sk-users-own"
        at.button(key="settings.test").click().run()
        assert any("连接成功" in t for t in texts(at.success)), texts(at.error)
        assert other.requests[-1].authorization_ok
    assert not any(r.authorization_ok is False for r in fake_openai.requests)


def test_the_configured_key_follows_only_the_configured_address():
    from assistant.core.settings import Settings

    sess = state.UiSession(settings=Settings(base_url="http://127.0.0.1:1/v1", api_key=ADMIN_KEY))
    settings, note = sess.endpoint_settings("http://127.0.0.1:1/v1/", "m", "")
    assert settings.api_key.get_secret_value() == ADMIN_KEY and note is None  # same address
    assert sess.set_endpoint("http://127.0.0.1:2/v1", None, None) and sess.settings.api_key is None
    sess.clear_key()  # cleared on purpose: going back does not bring it back
    assert sess.set_endpoint("http://127.0.0.1:1/v1", None, None) is None and sess.settings.api_key is None
    sess.set_endpoint("http://127.0.0.1:2/v1", None, "sk-own")
    assert sess.set_endpoint("http://127.0.0.1:3/v1", None, None) is None  # the user's own key: theirs
    assert sess.settings.api_key.get_secret_value() == "sk-own"


def test_settings_page_masks_credentials_in_the_address(monkeypatch):
    monkeypatch.setenv("HUIBAO_BASE_URL", "http://user:pw-SECRET@127.0.0.1:9/v1?token=tok-SECRET")
    get_settings.cache_clear()
    at = open_app("settings")
    no_errors(at)
    assert at.text_input(key="settings.base_url").value == "http://127.0.0.1:9/v1"
    page = " ".join(
        str(x) for x in [*texts(at.markdown), *texts(at.caption), *texts(at.info), at.table[0].value.to_string()]
    )
    assert "SECRET" not in page and "http://127.0.0.1:9/v1" in page
    # Saving the shown (masked) address keeps the configured one, credentials included.
    at.button(key="settings.save").click().run()
    assert ui(at).settings.base_url == "http://user:pw-SECRET@127.0.0.1:9/v1?token=tok-SECRET"


# --- rendering -----------------------------------------------------------------------------


def test_section_html_escapes_text_and_marks_numbers():
    from assistant.check import check_text
    from assistant.core.figures import Figure

    figures = [Figure(id="F01", item="新闻发布会", value=11, unit="次")]
    text = '<script>alert("x")</script>召开新闻发布会11次，发稿30篇，阅读量XX万人次。'
    html = section_html(text, check_text(text, figures, scope="section"), figures)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert (
        '<span class="hb-num hb-grounded" data-status="grounded" tabindex="0" title="数据 F01：新闻发布会 11次' in html
    )
    assert "hb-invented" in html and "hb-placeholder" in html
    if checker_is_item_aware():  # the clause names the item: no "by value" note
        tip = "数据 F01：新闻发布会 11次"
        assert f'tabindex="0" title="{tip}" data-tip="{tip}">11次</span>' in html
    findings = findings_html("<b>", [])
    assert "未发现问题" in findings


def test_every_number_carries_its_provenance():
    from assistant.check.result import CheckResult, Derivation, NumberMention, Summary
    from assistant.core.figures import Figure

    figures = [
        Figure(id="F01", item="新闻发布会", value=11, unit="次", last_year=8),
        Figure(id="F02", item="涉人大网络舆情研判", value=12, unit="次"),
    ]
    text = "召开新闻发布会12次，比上年增长37.5%，研判11次，约谈<3>次【待核实：30次】。"

    def at(written: str, status: str, **kw) -> NumberMention:
        start = text.index(written)
        return NumberMention(
            text=written, value=None, unit="", start=start, end=start + len(written), status=status, **kw
        )

    swapped = "“12次”所在句子说的是“新闻发布会”，数据为11次；12次是“涉人大网络舆情研判”的数据"
    numbers = [
        at("12次", "misattributed", item="新闻发布会", attribution="item", message=swapped),
        at(
            "37.5%",
            "grounded",
            figure_id="F01",
            attribution="item",
            derivation=Derivation(kind="growth", figure_ids=["F01"], formula="(11−8)/8 = 37.5%"),
        ),
        at("11次", "grounded", figure_id="F01", attribution="value"),
        at("【待核实：30次】", "unverified", message="待核实：这个数字未能在数据中核实"),
    ]
    html = section_html(text, CheckResult(numbers=numbers, summary=Summary(misattributed=1)), figures)
    assert "\n" not in html  # line breaks in a tooltip are character references, not paragraph breaks
    spans = html.split("<span ")[1:]
    wrong, growth, by_value, mark = spans
    # misattributed: the invented colour, and why it is wrong with the right item and value
    assert 'class="hb-num hb-misattributed"' in wrong
    assert f'title="错配：{swapped}"' in wrong.replace("&quot;", '"').replace("&#x27;", "'")
    # derived: the formula, then the figure it comes from with last year's value
    assert 'title="增减幅度：(11−8)/8 = 37.5%&#10;数据 F01：新闻发布会 11次（上年8次）"' in growth
    assert 'data-tip="增减幅度：(11−8)/8 = 37.5%&#10;数据 F01：新闻发布会 11次（上年8次）"' in growth
    assert 'title="数据 F01：新闻发布会 11次&#10;句中未写明项目，按数值对应"' in by_value
    # 【待核实】: its own status and colour, the label not said twice
    assert 'class="hb-num hb-unverified"' in mark and 'title="待核实：这个数字未能在数据中核实"' in mark
    assert "&lt;3&gt;" in html


def test_summary_line_and_legend_name_misattributed_and_unverified():
    from assistant.check.result import CheckResult, Summary
    from assistant.ui.render import LEGEND_HTML, summary_line

    line = summary_line(CheckResult(summary=Summary(grounded=3, invented=1, misattributed=2, unverified=1)))
    assert "无依据 1 个 · 错配 2 个 · 待核实 1 处 · 待补充 0 处" in line
    assert "hb-misattributed" in LEGEND_HTML and "错配" in LEGEND_HTML and "hb-unverified" in LEGEND_HTML


def test_explain_check_names_the_right_item():
    from assistant.check.result import CheckResult, Derivation, NumberMention
    from assistant.core.figures import Figure

    figures = [Figure(id="F01", item="新闻发布会", value=11, unit="次", last_year=8)]
    message = "“12次”所在句子说的是“新闻发布会”，数据为11次"
    numbers = [
        NumberMention(text="12次", value=12, unit="次", start=0, end=3, status="misattributed", message=message),
        NumberMention(
            text="37.5%",
            value=37.5,
            unit="%",
            start=4,
            end=9,
            status="grounded",
            derivation=Derivation(kind="growth", figure_ids=["F01"], formula="(11−8)/8 = 37.5%"),
        ),
        NumberMention(text="【待核实：30次】", value=None, unit="", start=10, end=19, status="unverified"),
    ]
    out = actions.explain_check("", CheckResult(numbers=numbers), figures)
    assert f"- “12次”错配：{message}，请改为句中事项的数据。" in out
    assert "- “37.5%”有据：由数据「新闻发布会」算出，(11−8)/8 = 37.5%。" in out  # item names, not ids
    assert "- “【待核实：30次】”待核实" in out


def test_findings_html_keeps_line_breaks_out_of_the_markup():
    # A blank line inside the HTML would end the block and let st.markdown read the rest as
    # Markdown; diff_html already turned line breaks into <br/>, findings_html did not.
    from assistant.check.result import StyleFinding

    finding = StyleFinding(
        rule="S1",
        severity="warning",
        start=0,
        end=5,
        message="第一句。\n\n**不是粗体**",
        suggestion="改为：\r\n# 不是标题",
    )
    html = findings_html("甲乙\n\n丙", [finding])
    assert "\n" not in html and "\r" not in html
    assert "“甲乙<br/><br/>丙”" in html and "第一句。<br/><br/>**不是粗体**" in html and "改为：<br/># 不是标题" in html


def test_knowledge_base_cache_is_per_embedding_endpoint_and_key(monkeypatch):
    # Regression: the cached index (and the embedder it holds) was keyed on the data folders
    # and the embedding kind only, so every session searched with the first session's key.
    from pydantic import SecretStr

    from assistant.kb import retrieve

    monkeypatch.setattr(retrieve.KnowledgeBase, "open", classmethod(lambda cls, settings, embedder=None, **_: settings))
    first = get_settings().model_copy(
        update={"embedding": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": SecretStr("sk-one")}
    )
    try:
        assert state.knowledge_base(first) is first
        assert state.knowledge_base(first.model_copy()) is first  # same endpoint and key: shared
        for change in (
            {"api_key": SecretStr("sk-two")},
            {"api_key": None},
            {"embedding_base_url": "http://127.0.0.1:8/v1"},
            {"embedding_model": "other"},
        ):
            other = first.model_copy(update=change)
            assert state.knowledge_base(other) is other, change
        assert "sk-one" not in repr(state._embedder_key(first))  # the key enters as a digest only
        local = get_settings().model_copy(update={"embedding": "use"})
        assert state._embedder_key(local) == state._embedder_key(first.model_copy(update={"embedding": "use"}))
    finally:
        state._knowledge_base.clear()


# --- streaming helper ------------------------------------------------------------------------


def test_streamed_call_yields_deltas_in_order_then_the_result():
    from assistant.ui.streaming import StreamedCall

    def produce(emit):
        for piece in ("全年", "召开", "", "发布会"):
            emit(piece)
        return "done"

    call = StreamedCall(produce)
    assert list(call) == ["全年", "召开", "发布会"] and call.result == "done"


def test_streamed_call_reraises_the_producers_error_after_the_partial_text():
    from assistant.core.errors import ModelError
    from assistant.ui.streaming import StreamedCall

    def produce(emit):
        emit("半句")
        raise ModelError("连接中断")

    call, seen = StreamedCall(produce), []
    with pytest.raises(ModelError, match="连接中断"):
        for piece in call:
            seen.append(piece)
    assert seen == ["半句"]


def test_unexpected_page_failure_is_a_message(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(actions, "export_bytes", broken)
    at = drafted_app()
    at.switch_page(f"{PAGES}/export.py").run()
    assert not at.exception
    (message,) = [t for t in texts(at.error) if "内部错误" in t]
    assert "已保存的内容不受影响" in message and "日志" in message
    assert "RuntimeError" not in message and "boom" not in message  # English stays in the log
    at.switch_page(f"{PAGES}/sections.py").run()  # the rest keeps working
    no_errors(at)


def test_regenerating_a_stale_section_in_place_clears_the_banner():
    at = drafted_app()
    rid = ui(at).report_id
    ws = workspace()
    figures = [f.model_copy(update={"value": 12.0}) if f.id == "press_conf" else f for f in ws.figures(rid)]
    actions.update_figures(ws, rid, figures)
    at.run()
    assert any("以下 1 个章节待更新" in t for t in texts(at.warning))
    at.session_state["tools.1.2"] = True
    at.run()
    at.button(key="regen.1.2").click().run()
    no_errors(at)
    assert not [t for t in texts(at.warning) if "待更新" in t]
    assert "12次" in workspace().current(rid).section("1.2").text


def test_draft_all_with_a_failing_model_says_which_sections_fell_back(fake_model):
    from assistant.core.errors import ModelError

    at = open_app("sections")
    fake = fake_model()
    fake.responder = lambda messages: (_ for _ in ()).throw(ModelError("无法连接模型服务。"))
    at.button(key="draft-all").click().run()
    assert not at.exception
    assert any("全文已起草（模型与离线引擎）" in t for t in texts(at.success)), texts(at.success)
    assert any("模型未能完成章节 intro" in t and "改用离线引擎" in t for t in texts(at.warning))
    rid = ui(at).report_id
    assert all(s.versions == 1 for s in workspace().sections(rid))  # everything drafted and saved


def test_figures_page_hides_provenance_columns_by_default_and_keeps_them_on_save():
    # 来源 and 原文 are long; hidden, they must still be saved as they were
    at = drafted_app()
    rid = ui(at).report_id
    figs = list(workspace().figures(rid))
    first = figs[0].model_copy(update={"source": "宣传科总结.docx 第2段", "sentence": "全年召开新闻发布会11次。"})
    workspace().update_figures(rid, [first, *figs[1:]])
    at.switch_page(f"{PAGES}/figures.py").run()
    at.button(key="figures.save").click().run()
    no_errors(at)
    again = {f.id: f for f in workspace().figures(rid)}
    assert (again[first.id].source, again[first.id].sentence) == ("宣传科总结.docx 第2段", "全年召开新闻发布会11次。")
