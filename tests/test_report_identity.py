"""Reports by id, the 回收站, and no silent overwrites: the store and service rules, the CLI
(rename, delete, restore, reports --json, refresh's skip rules, undo, edit --base) and the page
(AppTest). The same flows in a real browser are in tests/test_browser.py."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime

import pytest
from typer.testing import CliRunner

from assistant.commands.main import app
from assistant.core.errors import InputError, StoreError
from assistant.core.figures import write_figures
from assistant.core.settings import get_settings
from assistant.ui import actions
from assistant.workspace.service import VersionConflict, Workspace
from assistant.workspace.store import SCHEMA_VERSION
from tests.test_app import PAGES, drafted_app, no_errors, open_app, texts, ui, workspace
from tests.test_store import (
    drop_v6,
    make_figures,
    make_report_draft,
    make_section,
    make_spec,
    new_workspace,
    snapshot_state,
)

# --- store and service ----------------------------------------------------------------------


def test_same_title_reports_are_two_reports_told_apart_by_id(tmp_path):
    ws, first = new_workspace(tmp_path)
    second = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    assert first != second
    before = snapshot_state(ws, second)
    ws.edit(first, "1.2", "新媒体发稿860篇。")
    assert snapshot_state(ws, second) == before  # only the report named by id changed
    refs = actions.list_reports(ws)
    assert {r.title for r in refs} == {make_spec().title}
    labels = [r.label for r in refs]
    assert len(set(labels)) == 2 and all(r.id in r.label for r in refs)


def test_rename_keeps_the_id_the_versions_and_the_topic(tmp_path):
    ws, rid = new_workspace(tmp_path)
    topic = ws.spec(rid).resolved_topic
    before = snapshot_state(ws, rid)
    assert ws.rename(rid, "  宣传工作汇报（二稿）\x1b ") == "宣传工作汇报（二稿）"
    assert ws.current(rid).title == "宣传工作汇报（二稿）" and ws.spec(rid).title == "宣传工作汇报（二稿）"
    assert ws.spec(rid).resolved_topic == topic  # a redraft writes about the same work
    assert snapshot_state(ws, rid) == before
    for bad, why in (("   ", "新标题为空"), ("甲" * 201, "新标题过长"), ("a\x00b", "空字符")):
        with pytest.raises(InputError, match=why):
            ws.rename(rid, bad)
    assert ws.current(rid).title == "宣传工作汇报（二稿）"


def test_delete_moves_to_the_bin_and_restore_brings_everything_back(tmp_path):
    ws, rid = new_workspace(tmp_path)
    before = snapshot_state(ws, rid)
    ws.delete(rid)
    assert ws.reports() == []
    binned = ws.reports(deleted=True)
    assert [r.id for r in binned] == [rid] and binned[0].deleted_at
    for call in (lambda: ws.current(rid), lambda: ws.edit(rid, "1.2", "新文本。"), lambda: ws.delete(rid)):
        with pytest.raises(StoreError, match=f"在回收站中.*huibao restore {rid}"):
            call()
    ws.restore(rid)
    assert [r.id for r in ws.reports()] == [rid] and ws.reports(deleted=True) == []
    assert snapshot_state(ws, rid) == before  # nothing lost
    with pytest.raises(StoreError, match="不在回收站中"):
        ws.restore(rid)


def test_plan_marks_locked_and_hand_edited_sections(tmp_path):
    ws, rid = new_workspace(tmp_path)
    ws.lock(rid, "3")
    ws.edit(rid, "1.1", "全年召开新闻发布会12次。")
    ws.edit(rid, "1.2", "新媒体发稿860篇。")
    ws.revert(rid, "1.2", 1)  # back to the drafted text: no longer a hand edit
    plan = {p.section_id: p for p in ws.plan(rid)}
    assert [sid for sid, p in plan.items() if not p.included_by_default] == ["1.1", "3"]
    assert plan["1.1"].why_kept == "手工修改过" and plan["3"].why_kept == "已锁定"
    ws.revert(rid, "1.2", 2)  # a revert to the hand edit is a hand edit again
    assert ws.plan(rid, only={"1.2"})[0].hand_edited
    ws.add_version(rid, make_section("2", text="领导改过的问题。"), author="import")  # a marked-up Word file
    assert ws.plan(rid, only={"2"})[0].hand_edited


def test_whole_report_save_skips_unticked_sections_and_undo_reverts_in_one_step(tmp_path):
    ws, rid = new_workspace(tmp_path)
    ws.lock(rid, "3")
    ws.edit(rid, "1.1", "全年召开新闻发布会12次。")
    before = {s.section_id: s.text for s in ws.current(rid).sections}
    redraft = make_report_draft()
    for sec in redraft.sections:
        sec.text += "（重写）"
    include = [p.section_id for p in ws.plan(rid) if p.included_by_default]
    saved = ws.save_draft(rid, redraft, include=include, batch="draft_all")
    assert set(saved) == set(include) and "1.1" not in saved and "3" not in saved
    now = {s.section_id: s.text for s in ws.current(rid).sections}
    assert now["1.1"] == before["1.1"] and now["3"] == before["3"] and now["1.2"].endswith("（重写）")
    last = ws.last_batch(rid)
    assert last is not None and last.versions == saved
    result = ws.undo(rid)
    assert set(result.reverted) == set(saved) and result.skipped == {}
    assert {s.section_id: s.text for s in ws.current(rid).sections} == before
    assert [v.author for v in ws.history(rid, "1.2")] == ["offline", "offline", "revert"]  # nothing deleted
    assert ws.last_batch(rid) is None
    with pytest.raises(StoreError, match="没有可以撤销"):
        ws.undo(rid)
    with pytest.raises(StoreError, match="已经撤销过"):
        ws.undo(rid, last.id)


def test_a_ticked_locked_section_is_unlocked_and_locked_again_by_undo(tmp_path):
    ws, rid = new_workspace(tmp_path)
    ws.lock(rid, "3")
    redraft = make_report_draft()
    redraft.sections[-2].text += "（重写）"  # section 3
    saved = ws.save_draft(rid, redraft, include=["3"], batch="draft_all")
    assert list(saved) == ["3"] and ws.locked(rid) == []
    ws.undo(rid)
    assert ws.locked(rid) == ["3"] and not ws.section(rid, "3").text.endswith("（重写）")


def test_undo_leaves_a_section_saved_again_since_and_says_why(tmp_path):
    ws, rid = new_workspace(tmp_path)
    redraft = make_report_draft()
    ws.save_draft(rid, redraft, batch="draft_all")
    ws.edit(rid, "1.2", "之后的手工修改。")
    result = ws.undo(rid)
    assert "1.2" not in result.reverted and "之后又保存了第 3 版" in result.skipped["1.2"]
    assert ws.section(rid, "1.2").text == "之后的手工修改。"


def test_an_edit_on_an_old_base_is_refused_with_a_typed_conflict(tmp_path):
    ws, rid = new_workspace(tmp_path)
    assert ws.current_version(rid, "1.2") == 1
    ws.edit(rid, "1.2", "别人保存的正文。", base_version=1)  # someone else, first
    with pytest.raises(VersionConflict) as err:
        ws.edit(rid, "1.2", "我的正文。", base_version=1)
    assert (err.value.base_version, err.value.current_version) == (1, 2)
    assert "第 1 版" in str(err.value) and "第 2 版" in str(err.value)
    assert ws.section(rid, "1.2").text == "别人保存的正文。"
    assert ws.edit(rid, "1.2", "我的正文。", base_version=2) == 3  # after seeing the diff


def test_the_conflict_is_checked_again_under_the_write_lock(tmp_path):
    ws, rid = new_workspace(tmp_path)
    ws.add_version(rid, make_section("1.2", text="另一进程。"), author="hand")
    with pytest.raises(VersionConflict):
        ws.store.add_version(rid, make_section("1.2"), author="hand", instruction=None, expected_current=1)
    assert ws.current_version(rid, "1.2") == 2


def test_the_v4_to_v5_migration_keeps_every_report_live(tmp_path):
    # a v4 file: the layout before the 回收站 and undo batches
    ws, rid = new_workspace(tmp_path)
    ws.close()
    conn = sqlite3.connect(tmp_path / "ws.sqlite3")
    drop_v6(conn)
    conn.execute("DROP INDEX versions_by_batch")
    conn.execute("ALTER TABLE versions DROP COLUMN batch_id")
    conn.execute("DROP TABLE batches")
    conn.execute("ALTER TABLE reports DROP COLUMN deleted_at")
    conn.execute("UPDATE schema_version SET version = 4")
    conn.commit()
    conn.close()
    ws = Workspace.open(tmp_path / "ws.sqlite3")
    assert ws.schema_version == SCHEMA_VERSION and (tmp_path / "ws.sqlite3.v4.bak").exists()
    assert [r.id for r in ws.reports()] == [rid] and len(ws.history(rid, "1.2")) == 1
    ws.save_draft(rid, make_report_draft(), batch="draft_all")
    assert ws.undo(rid).reverted


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture()
def cli_ws(monkeypatch):
    from assistant.commands import main as cli
    from assistant.commands import workspace as commands

    monkeypatch.setattr(cli.console, "_width", 200)
    monkeypatch.setattr(commands, "_open_kb", lambda settings: None)
    ws = Workspace.open(get_settings().workspace_path)
    first = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    second = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    yield ws, first, second
    ws.close()


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_reports_json_lists_each_report_and_the_bin_only_with_deleted(cli_ws):
    ws, first, second = cli_ws
    result = run("reports", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == {first, second}
    assert set(rows[0]) == {"id", "title", "organisation", "year", "sections", "stale", "updated"}
    assert rows[0]["sections"] == 7 and rows[0]["stale"] == 0 and rows[0]["year"] == 2026
    datetime.fromisoformat(rows[0]["updated"])  # ISO 8601
    assert run("delete", first).exit_code == 0
    assert [r["id"] for r in json.loads(run("reports", "--json").stdout)] == [second]
    binned = json.loads(run("reports", "--json", "--deleted").stdout)
    assert [r["id"] for r in binned] == [first] and datetime.fromisoformat(binned[0]["deleted_at"])
    table = run("reports", "--deleted")
    assert first in table.output and "huibao restore" in table.output


def test_rename_delete_restore_by_id(cli_ws):
    ws, first, second = cli_ws
    result = run("rename", first, "宣传工作汇报（二稿）")
    assert result.exit_code == 0 and "改名为“宣传工作汇报（二稿）”" in result.output
    assert ws.current(first).title == "宣传工作汇报（二稿）" and ws.current(second).title == make_spec().title
    result = run("delete", first)
    assert result.exit_code == 0 and "回收站" in result.output and f"huibao restore {first}" in result.output
    result = run("show", first)
    assert result.exit_code == 1 and "在回收站中" in str(result.exception)
    result = run("restore", first)
    assert result.exit_code == 0 and "已恢复" in result.output
    assert run("show", first).exit_code == 0
    # a title is not an id
    result = run("delete", make_spec().title)
    assert result.exit_code == 1 and "没有编号为" in str(result.exception)
    assert len(ws.reports()) == 2


def _make_stale(ws, rid, tmp_path):
    path = tmp_path / "new.yaml"
    write_figures(make_figures(F01=(13, "次"), F03=(900, "篇")), path)  # 1.1 and 1.2 use these
    assert run("figures", rid, "--set", str(path)).exit_code == 0
    assert set(ws.stale_sections(rid)) == {"1.1", "1.2"}


def test_refresh_skips_hand_edited_and_locked_sections_unless_asked_and_undo_reverts(cli_ws, tmp_path):
    ws, rid, other = cli_ws
    ws.edit(rid, "1.1", "全年召开新闻发布会12次，网络直播观看44.1万人次。")
    ws.lock(rid, "1.2")
    _make_stale(ws, rid, tmp_path)
    before = snapshot_state(ws, rid)
    result = run("refresh", rid, "--offline")
    assert result.exit_code == 0, result.output
    assert "1.1 手工修改过，跳过" in result.output and "1.2 已锁定，跳过" in result.output
    assert snapshot_state(ws, rid) == before
    result = run("refresh", rid, "--offline", "--include-edited", "--include-locked")
    assert result.exit_code == 0, result.output
    assert ws.stale_sections(rid) == [] and ws.locked(rid) == []
    assert f"huibao undo {rid}" in result.output
    other_before = snapshot_state(ws, other)
    result = run("undo", rid)
    assert result.exit_code == 0, result.output
    assert ws.section(rid, "1.1").text == "全年召开新闻发布会12次，网络直播观看44.1万人次。"
    assert ws.locked(rid) == ["1.2"] and snapshot_state(ws, other) == other_before
    assert "没有可以撤销" in str(run("undo", rid).exception)  # nothing left to undo


def test_edit_with_a_stale_base_shows_the_diff_and_saves_nothing(cli_ws, tmp_path):
    ws, rid, _ = cli_ws
    ws.edit(rid, "1.2", "别人保存的正文。")
    mine = tmp_path / "mine.txt"
    mine.write_text("我的正文。", encoding="utf-8")
    result = run("edit", rid, "1.2", "--file", str(mine), "--base", "1")
    assert result.exit_code == 1
    assert "本次修改未保存" in result.output and "-别人保存的正文。" in result.output and "+我的正文。" in result.output
    assert ws.section(rid, "1.2").text == "别人保存的正文。"
    result = run("edit", rid, "1.2", "--file", str(mine), "--base", "2")
    assert result.exit_code == 0 and ws.section(rid, "1.2").text == "我的正文。"


# --- the page (AppTest) ------------------------------------------------------------------------


def test_sidebar_keeps_the_opened_one_of_two_same_title_reports():
    at = open_app()
    ws = workspace()
    sample = ws.reports()[0]
    newer = ws.create_report(ws.spec(sample.id), ws.figures(sample.id))
    at.run()
    box = at.sidebar.selectbox[0]
    assert len(set(box.options)) == 2 and all(make_label_has_id(o) for o in box.options)
    # open the older one from the list: it stays open through reruns and the sections page
    at.button(key=f"open.{sample.id}").click().run()
    no_errors(at)
    at.run()
    assert ui(at).report_id == sample.id and at.sidebar.selectbox[0].value == sample.id
    assert any(sample.id in t for t in texts(at.caption))
    # the picker hands back ids
    at.sidebar.selectbox[0].set_value(newer).run()
    assert ui(at).report_id == newer


def make_label_has_id(label: str) -> bool:
    return any(r.id in label for r in workspace().reports())


def test_open_on_the_current_report_goes_to_its_sections():
    at = open_app()
    rid = ui(at).report_id
    assert not at.button(key=f"open.{rid}").disabled
    at.button(key=f"open.{rid}").click().run()
    no_errors(at)
    assert workspace().spec(rid).title in texts(at.title)  # the sections page, not 报告
    assert any(f"报告编号 {rid}" in t for t in texts(at.caption))


def test_reports_page_renames_deletes_and_restores():
    at = open_app()
    rid = ui(at).report_id
    at.button(key=f"rename.{rid}").click().run()
    at.text_input(key=f"rename-title.{rid}").set_value("改过的标题")
    at.button(key=f"rename-save.{rid}").click().run()
    no_errors(at)
    assert workspace().current(rid).title == "改过的标题"
    at.button(key=f"delete.{rid}").click().run()
    no_errors(at)
    assert workspace().reports() == [] and any("回收站" in t for t in texts(at.success))
    at.button(key=f"restore.{rid}").click().run()
    no_errors(at)
    assert [r.id for r in workspace().reports()] == [rid]


def test_redraft_all_asks_keeps_the_hand_edit_and_undoes_in_one_click():
    at = drafted_app()
    rid = ui(at).report_id
    assert not [b for b in at.button if b.key == "undo-batch"]  # a first draft replaced nothing
    ws = workspace()
    ws.edit(rid, "1.4", "全年开展活动，效果明显。")
    before = {s.section_id: s.text for s in ws.current(rid).sections}
    at.run()
    at.button(key="draft-all").click().run()
    no_errors(at)
    assert any("确认重新起草全文" in t for t in texts(at.warning))
    assert snapshot_state(ws, rid)["1.1"][0] == 1  # nothing saved before the confirmation
    assert at.checkbox(key="confirm.include.1.4").value is False
    at.button(key="confirm-whole.ok").click().run()
    no_errors(at)
    assert ws.section(rid, "1.4").text == "全年开展活动，效果明显。"
    assert ws.current_version(rid, "1.1") == 2 and ws.current_version(rid, "1.4") == 2
    at.button(key="undo-batch").click().run()
    no_errors(at)
    assert {s.section_id: s.text for s in ws.current(rid).sections} == before
    assert ws.current_version(rid, "1.1") == 3  # the undo is a new version
    assert not [b for b in at.button if b.key == "undo-batch"]


def test_cancel_leaves_everything_as_it_was():
    at = drafted_app()
    rid = ui(at).report_id
    before = snapshot_state(workspace(), rid)
    at.button(key="draft-all").click().run()
    at.button(key="confirm-whole.cancel").click().run()
    no_errors(at)
    assert snapshot_state(workspace(), rid) == before
    assert not [b for b in at.button if b.key == "confirm-whole.ok"]


def test_saving_over_a_version_saved_meanwhile_shows_the_diff_and_asks():
    at = drafted_app()
    rid = ui(at).report_id
    at.session_state["tools.1.4"] = True
    at.run()
    key = f"edit.1.4.{rid}"
    at.text_area(key=key).set_value("我的修改：全年开展活动，效果明显。")
    workspace().edit(rid, "1.4", "同事的修改：全年开展活动。")  # someone else saves meanwhile
    at.button(key="save.1.4").click().run()
    no_errors(at)
    assert workspace().section(rid, "1.4").text == "同事的修改：全年开展活动。"  # nothing overwritten
    assert any("已有人保存了第 2 版" in t for t in texts(at.warning))
    diff = next(t for t in texts(at.markdown) if "hb-diff" in t and "同事" in t)
    assert re.search(r"<del[^>]*>[^<]*同事", diff) and re.search(r"<ins[^>]*>[^<]*效果明显", diff)
    at.button(key="conflict-save.1.4").click().run()
    no_errors(at)
    assert workspace().section(rid, "1.4").text == "我的修改：全年开展活动，效果明显。"
    assert workspace().current_version(rid, "1.4") == 3


def test_discarding_a_conflicting_edit_keeps_the_other_version():
    at = drafted_app()
    rid = ui(at).report_id
    at.session_state["tools.1.4"] = True
    at.run()
    at.text_area(key=f"edit.1.4.{rid}").set_value("我的修改。")
    workspace().edit(rid, "1.4", "同事的修改。")
    at.button(key="save.1.4").click().run()
    at.button(key="conflict-discard.1.4").click().run()
    no_errors(at)
    assert workspace().section(rid, "1.4").text == "同事的修改。"
    assert at.text_area(key=f"edit.1.4.{rid}").value == "同事的修改。"


def test_a_pending_job_never_runs_on_another_report():
    at = drafted_app()
    ws = workspace()
    rid = ui(at).report_id
    other = ws.create_report(ws.spec(rid), ws.figures(rid))
    from assistant.ui.state import PendingDraft

    ui(at).pending = PendingDraft(section_id=None, report_id=other, include=())
    at.switch_page(f"{PAGES}/sections.py").run()
    assert all(s.versions == 0 for s in ws.sections(other))
    assert any("不是当前打开的报告" in t for t in texts(at.warning))


def test_a_page_edit_on_an_unchanged_box_follows_a_regeneration():
    # the edit box was never touched: a newer version fills it, and saving is no conflict
    at = drafted_app()
    rid = ui(at).report_id
    at.session_state["tools.1.4"] = True
    at.run()
    workspace().edit(rid, "1.4", "新的一版。")
    at.run()
    assert at.text_area(key=f"edit.1.4.{rid}").value == "新的一版。"
