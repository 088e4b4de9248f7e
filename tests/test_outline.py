"""The outline editor (issue 14): sections added, removed (kept, restorable), moved and renamed,
notes and figure links edited; every change checked and saved in one transaction, and no version
is ever lost: a moved or renamed section keeps its history."""

from __future__ import annotations

import sqlite3

import pytest

from assistant.core.errors import InputError, StoreError
from assistant.core.figures import Figure
from assistant.core.settings import get_settings
from assistant.drafting.spec import template_spec
from assistant.export import markdown_text
from assistant.ui import actions
from assistant.workspace.service import MAX_NOTES_CHARS, Workspace


@pytest.fixture
def ws(tmp_path):
    with Workspace.open(tmp_path / "ws.sqlite") as workspace:
        yield workspace


def _report(ws: Workspace, *, drafted: bool = True) -> str:
    spec = template_spec(
        "某局2026年度工作汇报",
        "某局",
        2026,
        {"intro": "市委领导下开展工作", "achievements": ["理论学习28次", "新闻发稿418篇"], "problems": "精品少"},
    )
    figures = [
        Figure(id="F01", item="理论学习", value=28, unit="次"),
        Figure(id="F02", item="发稿", value=418, unit="篇"),
    ]
    rid = ws.create_report(spec, figures)
    if drafted:
        actions.draft_all(ws, rid, get_settings(), None)
    return rid


def _order(ws: Workspace, rid: str) -> list[str]:
    return [s.section_id for s in ws.sections(rid)]


def _file_rows(ws: Workspace) -> int:
    conn = sqlite3.connect(ws.path)
    try:
        return conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    finally:
        conn.close()


def test_a_new_report_starts_from_the_whole_template(ws):
    rid = actions.create_from_template(
        ws, "某局2026年度工作汇报", "某局", 2026, "理论学习\n新闻宣传", intro="导语要点", problems="问题", plans="打算"
    )
    spec = ws.spec(rid)
    assert [(s.id, s.part) for s in spec.sections] == [
        ("intro", "intro"),
        ("1", "achievements"),
        ("2", "problems"),
        ("3", "plans"),
        ("closing", "closing"),
    ]
    assert [c.notes for c in spec.get("1").children] == ["理论学习", "新闻宣传"]
    assert (spec.get("intro").notes, spec.get("2").notes, spec.get("3").notes) == ("导语要点", "问题", "打算")


def test_add_a_section_under_a_part_and_at_the_top_before_the_closing(ws):
    rid = _report(ws, drafted=False)
    new = ws.add_section(rid, parent_id="1", title="抓实意识形态工作", notes="专题研判4次")
    assert new == "1.3"
    spec = ws.spec(rid)
    assert [c.id for c in spec.get("1").children] == ["1.1", "1.2", "1.3"]
    assert spec.get("1.3").part == "achievements" and spec.label("1.3") == "（三）"
    top = ws.add_section(rid, title="需要协调解决的问题")
    assert top == "4"
    assert _order(ws, rid)[-2:] == ["4", "closing"]  # before the 结束语
    assert ws.spec(rid).get("4").part == "problems"  # its title names the part


def test_remove_keeps_every_version_and_restore_brings_it_back_where_it_stood(ws):
    rid = _report(ws)
    ws.edit(rid, "1.2", "新闻宣传扎实推进，全年编发稿件418篇。")
    before = ws.history(rid, "1.2")
    rows = _file_rows(ws)
    assert ws.remove_section(rid, "1.2") == ["1.2"]
    assert "1.2" not in _order(ws, rid)
    assert "1.2" not in [s.section_id for s in ws.current(rid).sections]
    assert [r.section.id for r in ws.removed_sections(rid)] == ["1.2"]
    assert _file_rows(ws) == rows  # not one version deleted
    assert ws.history(rid, "1.2") == before  # still readable
    with pytest.raises(StoreError, match="已从提纲中移除"):
        ws.edit(rid, "1.2", "改动")
    # a new section never takes a removed one's id
    assert ws.add_section(rid, parent_id="1", title="新一节") == "1.3"
    ws.restore_section(rid, "1.2")
    assert [c.id for c in ws.spec(rid).get("1").children] == ["1.1", "1.2", "1.3"]
    assert ws.history(rid, "1.2") == before
    assert ws.section(rid, "1.2").text == "新闻宣传扎实推进，全年编发稿件418篇。"


def test_moving_renumbers_by_place_and_keeps_each_sections_history(ws):
    rid = _report(ws)
    history = {sid: ws.history(rid, sid) for sid in ("1.1", "1.2")}
    ws.shift_section(rid, "1.2", -1)
    assert _order(ws, rid)[:4] == ["intro", "1", "1.2", "1.1"]
    current = {s.section_id: s for s in ws.current(rid).sections}
    assert (current["1.2"].label, current["1.1"].label) == ("（一）", "（二）")
    assert {sid: ws.history(rid, sid) for sid in ("1.1", "1.2")} == history
    md = markdown_text(ws.current(rid))
    assert md.index("（一）") < md.index("（二）")
    # a sub-section moved to the top level becomes a 一、-level heading, numbered by its place
    ws.move_section(rid, "1.1", parent_id=None, index=2)
    assert ws.spec(rid).level("1.1") == 1 and ws.spec(rid).label("1.1") == "二、"
    assert ws.current(rid).sections[[s.section_id for s in ws.current(rid).sections].index("1.1")].level == 1


def test_retitle_shows_in_the_current_report_and_export_while_the_versions_keep_theirs(ws):
    rid = _report(ws)
    old_title = ws.get_version(rid, "1.1", 1).title
    assert ws.retitle_section(rid, "1.1", "  着眼培根铸魂，筑牢理想信念之基 ") == "着眼培根铸魂，筑牢理想信念之基"
    assert ws.section(rid, "1.1").title == "着眼培根铸魂，筑牢理想信念之基"
    assert "（一）着眼培根铸魂，筑牢理想信念之基" in markdown_text(ws.current(rid))
    assert ws.get_version(rid, "1.1", 1).title == old_title
    assert [s.title for s in ws.sections(rid) if s.section_id == "1.1"] == ["着眼培根铸魂，筑牢理想信念之基"]


def test_notes_and_figure_links_are_edited_and_bad_input_changes_nothing(ws):
    rid = _report(ws, drafted=False)
    assert ws.set_notes(rid, "2", "  精品力作不多\r\n县区不平衡 ") == "精品力作不多\n县区不平衡"
    assert ws.set_section_figures(rid, "1.1", ["F01", "F01", " F02"]) == ["F01", "F02"]
    before = ws.spec(rid)
    with pytest.raises(InputError, match="F09"):
        ws.set_section_figures(rid, "1.1", ["F09"])
    with pytest.raises(InputError, match=f"最多 {MAX_NOTES_CHARS} 个"):
        ws.set_notes(rid, "2", "长" * (MAX_NOTES_CHARS + 1))
    with pytest.raises(InputError, match="空字符"):
        ws.retitle_section(rid, "1.1", "标\x00题")
    with pytest.raises(InputError, match="导语不分小节"):
        ws.add_section(rid, parent_id="intro", title="x")
    with pytest.raises(InputError, match="自己的下级"):
        ws.move_section(rid, "1", parent_id="1.1", index=0)
    with pytest.raises(InputError, match="已在同级最前"):
        ws.shift_section(rid, "intro", -1)
    assert ws.spec(rid) == before


def test_outline_limits_are_checked_before_anything_is_written(ws, monkeypatch):
    rid = _report(ws, drafted=False)
    monkeypatch.setenv("HUIBAO_MAX_SIBLING_SECTIONS", "5")  # the top level has 5
    for title in ("第三节", "第四节", "第五节"):
        ws.add_section(rid, parent_id="1", title=title)
    before = ws.spec(rid)
    with pytest.raises(InputError, match="同一层的章节过多"):
        ws.add_section(rid, parent_id="1", title="第六节")
    assert ws.spec(rid) == before
    assert "1.6" not in _order(ws, rid)


def test_a_locked_section_is_not_removed_moved_or_renamed(ws):
    rid = _report(ws)
    ws.lock(rid, "1.1")
    before = ws.spec(rid)
    for change in (
        lambda: ws.remove_section(rid, "1"),  # its parent: the locked one would go with it
        lambda: ws.shift_section(rid, "1.1", 1),
        lambda: ws.retitle_section(rid, "1.1", "新标题"),
    ):
        with pytest.raises(StoreError, match="已锁定"):
            change()
    assert ws.spec(rid) == before
    ws.set_notes(rid, "1.1", "要点可以改")  # notes are the writer's, not the locked text


def test_an_outline_changed_in_another_window_is_not_overwritten(ws):
    rid = _report(ws, drafted=False)
    stale = ws.spec(rid)
    ws.set_notes(rid, "2", "另一个窗口写的")
    changed = stale.model_copy(deep=True)
    changed.get("3").notes = "这个窗口写的"
    with pytest.raises(StoreError, match="刚被修改过"):
        ws.store.save_outline(rid, changed, base=stale)
    assert ws.spec(rid).get("2").notes == "另一个窗口写的"
    assert ws.spec(rid).get("3").notes != "这个窗口写的"


def test_draft_all_drafts_new_sections_and_skips_removed_ones(ws):
    rid = _report(ws)
    new = ws.add_section(rid, parent_id="1", title="加强阵地管理", notes="阵地管理规范")
    ws.remove_section(rid, "1.2")
    actions.draft_all(ws, rid, get_settings(), None, include=[s.section_id for s in ws.plan(rid)])
    drafted = [s.section_id for s in ws.current(rid).sections]
    assert new in drafted and "1.2" not in drafted
    assert len(ws.history(rid, "1.2")) == 1  # not redrafted while removed


# --- the 提纲 page (Streamlit's AppTest: the page script run in-process) -----------------------


def _page(report_notes: str = "理论学习抓得紧，第一议题学习28次"):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(app), default_timeout=120).run()
    ws = Workspace.open(get_settings().workspace_path)
    rid = actions.create_from_template(ws, "某局2026年度工作汇报", "某局", 2026, report_notes)
    at.session_state["huibao.session"].report_id = rid
    at.switch_page("assistant/ui/pages/outline.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at, ws, rid


def test_the_page_offers_the_numbers_the_notes_state_and_adds_the_ticked_ones():
    at, ws, rid = _page("理论学习抓得紧，第一议题学习28次，中心组学习14次")
    assert any("要点中有 2 个数字还不在“数据”中" in w.value for w in at.warning)
    at.checkbox[1].uncheck()  # 中心组学习 14次 is left out
    at.button(key="outline-add-numbers.1.1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    figures = ws.figures(rid)
    assert [(f.item, f.value, f.unit, f.section) for f in figures] == [("第一议题学习", 28, "次", "1.1")]
    assert ws.spec(rid).get("1.1").figures == [figures[0].id]  # shown among the section's figures
    assert any("要点中有 1 个数字还不在“数据”中" in w.value for w in at.warning)
    at.switch_page("assistant/ui/pages/figures.py").run()  # the 数据 page says so too
    assert not at.exception, [e.value for e in at.exception]
    assert any(
        "章节 1.1 的要点中有 1 个数字还不在数据中" in w.value and "中心组学习 14次" in w.value for w in at.warning
    )


def test_the_page_edits_a_section_and_adds_moves_and_removes_sections():
    at, ws, rid = _page()

    def field(kind, prefix):
        return next(w for w in getattr(at, kind) if (w.key or "").startswith(prefix))

    field("text_area", "outline-notes.2.").set_value("精品力作不多，县区发展不平衡")
    field("text_input", "outline-title.2.").set_value("存在的不足")
    field("button", "FormSubmitter:outline-form-2-").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert (ws.spec(rid).get("2").notes, ws.spec(rid).get("2").title) == ("精品力作不多，县区发展不平衡", "存在的不足")
    assert field("text_input", "outline-title.2.").value == "存在的不足"  # shows what was saved
    at.button(key="outline-child.1").click().run()
    assert [c.id for c in ws.spec(rid).get("1").children] == ["1.1", "1.2"]
    at.button(key="outline-up.1.2").click().run()
    assert [c.id for c in ws.spec(rid).get("1").children] == ["1.2", "1.1"]
    at.button(key="outline-remove.1.2").click().run()
    assert [r.section.id for r in ws.removed_sections(rid)] == ["1.2"]
    at.button(key="outline-restore.1.2").click().run()
    assert [c.id for c in ws.spec(rid).get("1").children] == ["1.2", "1.1"]
    assert not at.exception, [e.value for e in at.exception]


# --- huibao outline ---------------------------------------------------------------------------


def _cli(*args: str):
    from typer.testing import CliRunner

    from assistant.commands.main import app

    return CliRunner().invoke(app, list(args))


def test_the_cli_edits_the_outline_as_the_page_does():
    ws = Workspace.open(get_settings().workspace_path)
    rid = _report(ws)
    history = ws.history(rid, "1.2")
    result = _cli("outline", "add", rid, "--parent", "1", "--title", "加强阵地管理", "--notes", "阵地管理规范")
    assert result.exit_code == 0, result.output
    assert "已添加章节 1.3" in result.output
    assert _cli("outline", "move", rid, "1.2", "--up").exit_code == 0
    assert _cli("outline", "title", rid, "1.2", "新闻宣传有声有色").exit_code == 0
    assert _cli("outline", "notes", rid, "2", "--text", "精品少\n县区不平衡").exit_code == 0
    assert _cli("outline", "figures", rid, "1.2", "F02").exit_code == 0
    assert _cli("outline", "remove", rid, "1.3").exit_code == 0
    shown = _cli("outline", "show", rid)
    assert shown.exit_code == 0, shown.output
    assert "1.2　（一）新闻宣传有声有色　数据：F02" in shown.output
    assert "已移除：1.3 加强阵地管理" in shown.output
    assert ws.history(rid, "1.2") == history
    bad = _cli("outline", "figures", rid, "1.2", "F99")
    assert isinstance(bad.exception, InputError) and "F99" in str(bad.exception)
    both = _cli("outline", "move", rid, "1.2", "--up", "--down")
    assert isinstance(both.exception, InputError)
    assert _cli("outline", "restore", rid, "1.3").exit_code == 0
    assert [c.id for c in ws.spec(rid).get("1").children] == ["1.2", "1.1", "1.3"]
