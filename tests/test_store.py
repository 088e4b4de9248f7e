"""The workspace (store and service): versions, locks, reverts, hand edits, diffs, stale
figures, schema, atomicity.

The builders at the top (make_spec, make_figures, make_report_draft, make_section) are also
used by test_export.py and test_workspace_cli.py and by the writer subprocesses below.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.check.result import CheckResult, Coverage, NumberMention, Summary
from assistant.core.errors import StoreError
from assistant.core.figures import Figure
from assistant.drafting.draft import FigureUse, PassageUse, Provenance, ReportDraft, SectionDraft
from assistant.drafting.spec import ReportSpec, SectionSpec
from assistant.workspace import store
from assistant.workspace.service import Workspace, diff_segments, split_sentences
from assistant.workspace.store import SCHEMA_VERSION

REPO = Path(__file__).resolve().parent.parent
ORG = "禾川市人大常委会办公室"


def make_figures(**changes: tuple[float, str]) -> list[Figure]:
    base = {
        "F01": ("新闻发布会", 12, "次", "1.1"),
        "F02": ("网络直播观看", 44.1, "万人次", "1.1"),
        "F03": ("新媒体发稿", 860, "篇", "1.2"),
        "F04": ("代表培训", 300, "人次", "3"),
    }
    out = []
    for fid, (item, value, unit, section) in base.items():
        if fid in changes:
            value, unit = changes[fid]
        out.append(Figure(id=fid, item=item, value=value, unit=unit, section=section))
    return out


def make_spec() -> ReportSpec:
    return ReportSpec(
        title=f"{ORG}2026年度宣传工作汇报",
        organisation=ORG,
        year=2026,
        sections=[
            SectionSpec(id="intro", part="intro", notes="市委领导"),
            SectionSpec(
                id="1",
                title="工作做法及成效",
                part="achievements",
                children=[
                    SectionSpec(
                        id="1.1", title="着眼“培根铸魂”，筑牢理想信念之基", part="achievements", figures=["F01", "F02"]
                    ),
                    SectionSpec(id="1.2", title="突出新媒体传播，扩大宣传覆盖面", part="achievements", figures=["F03"]),
                ],
            ),
            SectionSpec(id="2", title="存在的问题", part="problems"),
            SectionSpec(id="3", title="2027年工作打算", part="plans", figures=["F04"]),
            SectionSpec(id="closing", part="closing"),
        ],
    )


_TEXTS = {
    "intro": ("", 0, "2026年，在市委的坚强领导下，我办紧扣中心工作，扎实开展宣传工作，现将有关情况汇报如下。"),
    "1": ("工作做法及成效", 1, "一年来，我办坚持守正创新，宣传工作取得新成效。"),
    "1.1": (
        "着眼“培根铸魂”，筑牢理想信念之基",
        2,
        "全年召开新闻发布会12次，网络直播观看44.1万人次。我们坚持每周一学；深化理论武装。",
    ),
    "1.2": ("突出新媒体传播，扩大宣传覆盖面", 2, "新媒体发稿860篇，阅读量【待补充：阅读量】。"),
    "2": ("存在的问题", 1, "一是宣传形式还不够丰富；二是基层宣传力量相对薄弱。"),
    "3": ("2027年工作打算", 1, "计划培训代表300人次，进一步提升宣传工作水平。"),
    "closing": ("", 0, "我办将以更加饱满的热情，推动宣传工作再上新台阶。"),
}


def make_section(
    section_id: str,
    *,
    text: str | None = None,
    engine: str = "offline",
    model: str | None = None,
    figures: list[Figure] | None = None,
    instruction: str | None = None,
) -> SectionDraft:
    title, level, default = _TEXTS[section_id]
    text = default if text is None else text
    figures = make_figures() if figures is None else figures
    uses, mentions = [], []
    for f in figures:
        written = f"{f.value:g}{f.unit}"
        at = text.find(written)
        if at >= 0:
            uses.append(FigureUse(figure_id=f.id, start=at, end=at + len(written), text=written))
            mentions.append(
                NumberMention(
                    text=written,
                    value=f.base_value,
                    unit=f.base_unit,
                    start=at,
                    end=at + len(written),
                    status="grounded",
                    figure_id=f.id,
                )
            )
    placeholders = text.count("【待补充")
    check = CheckResult(
        numbers=mentions,
        coverage=Coverage(used=[u.figure_id for u in uses]),
        summary=Summary(grounded=len(mentions), placeholders=placeholders),
    )
    prov = Provenance(
        engine=engine,
        model=model,
        prompt_version="p-abc123",
        figures=uses,
        passages=[
            PassageUse(passage_id="k1", source="2025年汇报.docx", heading_path="一、工作成效", text="往年的素材")
        ],
        instruction=instruction,
    )
    return SectionDraft(
        section_id=section_id,
        title=title,
        text=text,
        level=level,
        provenance=prov,
        check=check,
        label=make_spec().label(section_id),
    )


def make_report_draft(engine: str = "offline", figures: list[Figure] | None = None) -> ReportDraft:
    return ReportDraft(
        title=f"{ORG}2026年度宣传工作汇报",
        organisation=ORG,
        year=2026,
        engine=engine,
        sections=[make_section(sid, engine=engine, figures=figures) for sid in _TEXTS],
    )


def new_workspace(where: Path | str, name: str = "ws.sqlite3") -> tuple[Workspace, str]:
    """A workspace holding the sample report: ``where`` is a folder (a SQLite file ``name`` in it),
    or the target itself (a SQLite file's path or a PostgreSQL URL, see ``workspace_target``)."""
    ws = Workspace.open(where / name if isinstance(where, Path) and where.is_dir() else where)
    rid = ws.create_report(make_spec(), make_figures())
    ws.save_draft(rid, make_report_draft())
    return ws, rid


def snapshot_state(ws: Workspace, rid: str) -> dict[str, tuple]:
    """Every section's current version number, lock and its stored row, bytes as written."""
    with ws.store._read() as conn:
        rows = conn.execute(
            "SELECT s.section_id, s.current_version, s.locked, s.title, v.text, v.draft_json,"
            " v.check_json, v.created, (SELECT COUNT(*) FROM versions w WHERE w.report_id = s.report_id"
            " AND w.section_id = s.section_id) FROM sections s JOIN versions v"
            " ON v.report_id = s.report_id AND v.section_id = s.section_id"
            " AND v.version = s.current_version WHERE s.report_id = ?",
            (rid,),
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


# --- basics ---------------------------------------------------------------------------------


def test_create_save_and_read_back(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    assert rid.startswith("2026-") and len(rid) == 9
    report = ws.current(rid)
    assert [s.section_id for s in report.sections] == list(_TEXTS)
    assert report.sections[2].text == _TEXTS["1.1"][2]
    assert report.sections[2].provenance.figures[0].figure_id == "F01"
    assert report.title.endswith("宣传工作汇报") and report.organisation == ORG and report.engine == "offline"
    infos = ws.reports()
    assert len(infos) == 1 and infos[0].id == rid and infos[0].sections == 7 and infos[0].stale == 0
    assert [s.level for s in ws.sections(rid)] == [0, 1, 2, 2, 1, 1, 0]
    assert ws.spec(rid) == make_spec() and ws.figures(rid) == make_figures()
    assert ws.schema_version == SCHEMA_VERSION
    # A chosen id is kept; a duplicate is refused.
    assert ws.create_report(make_spec(), make_figures(), report_id="xuanchuan") == "xuanchuan"
    with pytest.raises(StoreError, match="已有编号为“xuanchuan”"):
        ws.create_report(make_spec(), make_figures(), report_id="xuanchuan")


def test_versions_history_and_settings_without_key(workspace_target, tmp_path):
    from assistant.core.settings import Settings

    ws, rid = new_workspace(workspace_target)
    settings = Settings(api_key="sk-top-secret-123", base_url="http://127.0.0.1:9/v1", model="qwen-plus")
    v2 = ws.add_version(
        rid,
        make_section("1.1", text="召开新闻发布会12次。", engine="model", model="qwen-plus"),
        author="model",
        instruction="更精炼",
        settings=settings,
    )
    assert v2 == 2
    hist = ws.history(rid, "1.1")
    assert [h.version for h in hist] == [1, 2] and [h.is_current for h in hist] == [False, True]
    assert hist[1].author == "model" and hist[1].model == "qwen-plus" and hist[1].instruction == "更精炼"
    assert hist[1].check.grounded == 1 and "数字核对 1" in hist[1].check_summary
    assert ws.section(rid, "1.1").text == "召开新闻发布会12次。"
    assert ws.get_version(rid, "1.1", 1).text == _TEXTS["1.1"][2]
    with ws.store._read() as conn:
        stored = conn.execute("SELECT model_settings_json FROM versions WHERE version = 2").fetchone()[0]
    assert json.loads(stored)["model"] == "qwen-plus" and json.loads(stored)["temperature"] == 0.3
    if ws.path is None:  # on a database server: every row of every table
        with ws.store._read() as conn:
            stored_rows = [repr(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in conn.table_names()]
        assert not any("sk-top-secret-123" in r or "127.0.0.1:9" in r for r in stored_rows)
    ws.close()
    for f in tmp_path.iterdir():  # and no file beside it (a SQLite workspace: the file itself)
        if f.is_file():
            assert b"sk-top-secret-123" not in f.read_bytes()
            assert b"127.0.0.1:9" not in f.read_bytes()


def test_regenerate_touches_only_one_section(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    before = snapshot_state(ws, rid)
    seen = {}

    def drafter(section, spec, figures):
        seen.update(section=section.id, figures=[f.id for f in figures], title=spec.title)
        return make_section(section.id, text="新媒体发稿860篇，更突出新媒体数据。", instruction="突出新媒体")

    assert ws.regenerate(rid, "1.2", drafter, author="offline", instruction="突出新媒体") == 2
    assert seen == {"section": "1.2", "figures": ["F01", "F02", "F03", "F04"], "title": make_spec().title}
    after = snapshot_state(ws, rid)
    assert after["1.2"][0] == 2 and after["1.2"] != before["1.2"]
    assert {k: v for k, v in after.items() if k != "1.2"} == {k: v for k, v in before.items() if k != "1.2"}
    assert ws.history(rid, "1.2")[-1].instruction == "突出新媒体"


def test_regenerate_records_the_engine_that_wrote_the_text(workspace_target, tmp_path):
    # Regression: a model that failed hands the section to the offline engine; the history
    # said 模型 because the caller passed author="model" whenever a model was configured.
    ws, rid = new_workspace(workspace_target)
    # Distinct texts: a version identical to the current one is never saved (Unchanged).
    ws.regenerate(
        rid, "1.2", lambda section, spec, figures: make_section(section.id, engine="offline", text="新媒体发稿860篇。")
    )
    assert ws.history(rid, "1.2")[-1].author == "offline"
    ws.regenerate(
        rid,
        "1.2",
        lambda section, spec, figures: make_section(
            section.id, engine="model", model="fake-model", text="全年新媒体发稿860篇。"
        ),
    )
    assert ws.history(rid, "1.2")[-1].author == "model"


def test_lock_refuses_changes_and_whole_redraft_keeps_locked_text(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    ws.lock(rid, "2")
    assert ws.locked(rid) == ["2"]
    for attempt in (
        lambda: ws.add_version(rid, make_section("2", text="新"), author="offline"),
        lambda: ws.edit(rid, "2", "手改"),
        lambda: ws.revert(rid, "2", 1),
        lambda: ws.regenerate(rid, "2", lambda *a: pytest.fail("drafted a locked section"), author="offline"),
    ):
        with pytest.raises(StoreError, match=r"章节“2”（存在的问题）已锁定.*huibao unlock " + rid + " 2"):
            attempt()
    saved = ws.save_draft(rid, make_report_draft())
    assert "2" not in saved and saved["1.1"] == 2
    assert [h.version for h in ws.history(rid, "2")] == [1]
    with pytest.raises(StoreError, match="已锁定"):
        ws.save_draft(rid, make_report_draft(), skip_locked=False)
    assert ws.history(rid, "1.1")[-1].version == 2  # the refused save wrote nothing
    ws.unlock(rid, "2")
    assert ws.add_version(rid, make_section("2", text="新"), author="offline") == 2


def test_revert_edit_and_diff(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    ws.add_version(
        rid,
        make_section("1.1", text="全年召开新闻发布会12次，网络直播观看44.1万人次。我们坚持每周一学；强化理论武装。"),
        author="offline",
    )
    assert ws.revert(rid, "1.1", 1) == 3
    hist = ws.history(rid, "1.1")
    assert [h.author for h in hist] == ["offline", "offline", "revert"] and hist[2].reverted_from == 1
    assert ws.section(rid, "1.1").text == ws.get_version(rid, "1.1", 1).text

    unified = ws.diff(rid, "1.1", 1, 2)
    assert "--- 第 1 版" in unified and "+++ 第 2 版" in unified
    assert "-深化理论武装。" in unified and "+强化理论武装。" in unified
    assert " 全年召开新闻发布会12次，网络直播观看44.1万人次。" in unified
    segments = ws.diff_segments(rid, "1.1", 1, 2)
    assert ("delete", "深") in segments and ("insert", "强") in segments
    assert "".join(t for op, t in segments if op != "insert").replace("\n", "") == _TEXTS["1.1"][2]

    def checker(text, figures):
        assert [f.id for f in figures] == ["F01", "F02", "F03", "F04"]
        at = text.find("12次")
        return CheckResult(
            numbers=[
                NumberMention(
                    text="12次", value=12, unit="次", start=at, end=at + 3, status="grounded", figure_id="F01"
                )
            ],
            summary=Summary(grounded=1),
        )

    v = ws.edit(rid, "1.1", "今年共召开新闻发布会12次。\n", checker=checker)
    assert v == 4
    hand = ws.section(rid, "1.1")
    assert hand.text == "今年共召开新闻发布会12次。" and hand.check.summary.grounded == 1
    assert [(u.figure_id, u.start) for u in hand.provenance.figures] == [("F01", 10)]
    assert ws.history(rid, "1.1")[-1].author == "hand"
    with pytest.raises(StoreError, match="正文为空"):
        ws.edit(rid, "1.1", "  \n")


def test_hand_edit_is_always_saved_with_its_check(workspace_target, tmp_path, monkeypatch):
    # Regression: the store imported the checker behind an ImportError guard, so a broken
    # check package would have saved a hand edit with an empty check. The service checks
    # every edit with the real checker, and the saved version carries the result.
    ws, rid = new_workspace(workspace_target)
    v = ws.edit(rid, "1.1", "全年召开新闻发布会99次，网络直播观看44.1万人次。")
    saved = ws.get_version(rid, "1.1", v)
    assert saved.check.summary.invented == 1 and saved.check.summary.grounded == 1
    assert [m.text for m in saved.check.numbers if m.status == "invented"] == ["99次"]
    assert [u.figure_id for u in saved.provenance.figures] == ["F02"]  # re-derived from the new check
    last = ws.history(rid, "1.1")[-1]
    assert last.author == "hand" and last.check.invented == 1 and "无来源 1" in last.check_summary
    with ws.store._read() as conn:
        stored = conn.execute("SELECT check_json FROM versions WHERE version = ?", (v,)).fetchone()
    assert CheckResult.model_validate_json(stored[0]) == saved.check

    # The check is on the save path, not beside it: when it fails, nothing is saved.
    from assistant.workspace import service

    def broken(*args, **kwargs):
        raise RuntimeError("checker broke")

    monkeypatch.setattr(service, "check_text", broken)
    before = snapshot_state(ws, rid)
    with pytest.raises(RuntimeError, match="checker broke"):
        ws.edit(rid, "1.1", "召开新闻发布会12次。")
    assert snapshot_state(ws, rid) == before


def test_revert_records_no_instruction_and_keeps_the_old_snapshot(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    first = ws.figures_snapshot(rid)[0]
    ws.update_figures(rid, make_figures(F03=(900, "篇")))
    ws.add_version(rid, make_section("1.2", text="新媒体发稿900篇。", instruction="更新数据"), author="offline")
    assert ws.history(rid, "1.2")[-1].instruction == "更新数据"  # the draft's own instruction by default
    assert ws.revert(rid, "1.2", 1) == 3
    last = ws.history(rid, "1.2")[-1]
    assert last.author == "revert" and last.instruction is None and last.reverted_from == 1
    assert last.snapshot_id == ws.history(rid, "1.2")[0].snapshot_id == first
    assert ws.stale_sections(rid) == ["1.2"]  # the old text rests on the old figures again


def test_sentence_split_and_diff_segments_on_chinese():
    assert split_sentences("第一句。第二句；第三句！\n第四") == ["第一句。", "第二句；", "第三句！", "第四"]
    segs = diff_segments("召开发布会12次。其他不变。", "召开发布会15次。其他不变。")
    assert segs == [("equal", "召开发布会1"), ("delete", "2"), ("insert", "5"), ("equal", "次。\n其他不变。\n")]


def test_stale_sections_after_figure_changes(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    assert ws.stale_sections(rid) == []
    first = ws.figures_snapshot(rid)[0]
    assert ws.update_figures(rid, make_figures()) == first  # nothing changed: no new snapshot
    ws.update_figures(rid, make_figures(F02=(45.2, "万人次")))
    stale = ws.stale_report(rid)
    assert [s.section_id for s in stale] == ["1.1"]
    assert stale[0].reasons == ["数据「网络直播观看」由 44.1万人次 改为 45.2万人次"]  # item names, never ids
    assert ws.reports()[0].stale == 1

    # A figure removed, and a figure added for a section, also make it stale.
    figs = [f for f in make_figures(F02=(45.2, "万人次")) if f.id != "F03"]
    figs.append(Figure(id="F05", item="理论文章", value=6, unit="篇", section="2"))
    ws.update_figures(rid, figs)
    assert ws.stale_sections(rid) == ["1.1", "1.2", "2"]
    assert "数据「新媒体发稿」已删除" in ws.stale_report(rid)[1].reasons
    assert "新增数据「理论文章」6篇" in ws.stale_report(rid)[2].reasons

    # Regenerating against the newest figures clears it; the others stay stale.
    ws.regenerate(
        rid,
        "1.1",
        lambda sec, spec, f: make_section(sec.id, text="网络直播观看45.2万人次。", figures=f),
        author="offline",
    )
    assert ws.stale_sections(rid) == ["1.2", "2"]
    # A unit change is a change, and an unrelated figure's change does not concern 1.1.
    ws.update_figures(rid, figs[:-1] + [Figure(id="F05", item="理论文章", value=6, unit="件", section="2")])
    assert ws.stale_sections(rid) == ["1.2", "2"]


def test_unknown_ids_and_versions_give_clear_messages(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    before = snapshot_state(ws, rid)
    with pytest.raises(StoreError, match=f"没有编号为“nope”的汇报。已有汇报：{rid}"):
        ws.current("nope")
    with pytest.raises(StoreError, match="没有编号为“9.9”的章节。可用的章节编号：intro、1、1.1、1.2、2、3、closing"):
        ws.history(rid, "9.9")
    with pytest.raises(StoreError, match=r"章节“1.1”（着眼“培根铸魂”，筑牢理想信念之基）没有第 5 版；有效版本为 1–1"):
        ws.revert(rid, "1.1", 5)
    with pytest.raises(StoreError, match="没有第 0 版"):
        ws.diff(rid, "1.1", 0, 1)
    with pytest.raises(StoreError, match="没有编号为“9.9”的章节"):
        ws.add_version(rid, make_section("1.1").model_copy(update={"section_id": "9.9"}), author="offline")
    with pytest.raises(StoreError, match="没有编号为“x”的汇报"):
        ws.update_figures("x", make_figures())
    assert snapshot_state(ws, rid) == before and len(ws.reports()) == 1


def test_chat_history(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    ws.add_chat(rid, "user", "第二部分再精炼些")
    ws.add_chat(rid, "assistant", "已重新生成第二部分。")
    assert [(c.role, c.text) for c in ws.chat_history(rid)] == [
        ("user", "第二部分再精炼些"),
        ("assistant", "已重新生成第二部分。"),
    ]
    with pytest.raises(StoreError, match="未知的对话角色"):
        ws.add_chat(rid, "robot", "x")


# --- schema ---------------------------------------------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_schema_is_refused_and_file_untouched(tmp_path):
    ws, rid = new_workspace(tmp_path)
    ws.close()
    path = tmp_path / "ws.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    digest, listing = _sha(path), sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError) as err:
        Workspace.open(path)
    assert str(err.value).startswith(f"工作区文件版本（99）高于本程序支持的版本（{SCHEMA_VERSION}），请升级 huibao")
    assert _sha(path) == digest and sorted(p.name for p in tmp_path.iterdir()) == listing


def test_not_a_workspace_is_refused(tmp_path):
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="不是 huibao 工作区"):
        Workspace.open(other)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="不是有效的工作区文件"):
        Workspace.open(junk)


# The first released layout exactly as huibao 0.1 wrote it (before Alembic): the migration test
# starts from a real old file, not from one the migration scripts made.
_SCHEMA_V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    organisation TEXT NOT NULL,
    year INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE figure_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES reports(id),
    figures_json TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE sections (
    report_id TEXT NOT NULL REFERENCES reports(id),
    section_id TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL,
    locked INTEGER NOT NULL DEFAULT 0,
    current_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (report_id, section_id)
);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL,
    section_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    title TEXT NOT NULL,
    level INTEGER NOT NULL,
    author TEXT NOT NULL,
    model TEXT,
    model_settings_json TEXT,
    instruction TEXT,
    prompt_version TEXT,
    passages_json TEXT NOT NULL DEFAULT '[]',
    figures_json TEXT NOT NULL DEFAULT '[]',
    check_json TEXT NOT NULL,
    snapshot_id INTEGER REFERENCES figure_snapshots(id),
    reverted_from INTEGER,
    created TEXT NOT NULL,
    UNIQUE (report_id, section_id, version),
    FOREIGN KEY (report_id, section_id) REFERENCES sections(report_id, section_id)
);
CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT NOT NULL REFERENCES reports(id),
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX versions_by_section ON versions(report_id, section_id, version);
CREATE INDEX snapshots_by_report ON figure_snapshots(report_id, id);
INSERT INTO schema_version(version) VALUES (1);
"""


def test_migration_from_v1_keeps_every_version(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA_V1)
    spec = make_spec()
    conn.execute(
        "INSERT INTO reports VALUES ('old-1', ?, ?, 2026, ?, '2026-01-01', '2026-01-02')",
        (spec.title, ORG, spec.model_dump_json()),
    )
    conn.execute(
        "INSERT INTO figure_snapshots(report_id, figures_json, created) VALUES ('old-1', ?, '2026-01-01')",
        (store._figures_json(make_figures()),),
    )
    conn.execute("INSERT INTO sections VALUES ('old-1', '1.1', '标题', 2, 0, 1, 2)")
    for n, text in ((1, "旧稿一。"), (2, "召开新闻发布会12次。")):
        sec = make_section("1.1", text=text)
        conn.execute(
            "INSERT INTO versions(report_id, section_id, version, text, title, level, author, model,"
            " instruction, prompt_version, passages_json, figures_json, check_json, snapshot_id, created)"
            " VALUES ('old-1', '1.1', ?, ?, '标题', 2, 'model', 'qwen', '更精炼', 'p1', ?, ?, ?, 1, '2026-01-02')",
            (
                n,
                text,
                json.dumps([p.model_dump() for p in sec.provenance.passages], ensure_ascii=False),
                json.dumps([f.model_dump() for f in sec.provenance.figures]),
                sec.check.model_dump_json(),
            ),
        )
    conn.commit()
    conn.close()

    ws = Workspace.open(path)
    assert ws.schema_version == SCHEMA_VERSION  # migrated step by step to the newest layout
    assert (tmp_path / "old.sqlite3.v1.bak").exists()  # the pre-migration copy
    assert [h.version for h in ws.history("old-1", "1.1")] == [1, 2]
    old = ws.get_version("old-1", "1.1", 1)
    assert old.text == "旧稿一。" and old.provenance.engine == "model" and old.provenance.model == "qwen"
    cur = ws.section("old-1", "1.1")
    assert cur.text == "召开新闻发布会12次。" and cur.provenance.figures[0].figure_id == "F01"
    assert ws.locked("old-1") == ["1.1"]
    ws.unlock("old-1", "1.1")
    assert ws.add_version("old-1", make_section("1.1"), author="offline") == 3
    # the v5 additions work on the migrated file: listed live, renamed, binned and restored
    assert [r.id for r in ws.reports()] == ["old-1"] and ws.reports()[0].deleted_at is None
    ws.rename("old-1", "新标题")
    ws.delete("old-1")
    assert ws.reports() == [] and [r.id for r in ws.reports(deleted=True)] == ["old-1"]
    ws.restore("old-1")
    assert ws.current("old-1").title == "新标题" and ws.last_batch("old-1") is None
    ws.close()
    # Opening again does not migrate twice.
    assert Workspace.open(path).schema_version == SCHEMA_VERSION


def drop_v6(conn: sqlite3.Connection) -> None:
    """Turn a v6 file back into the v5 layout (accounts, audit and review states removed): the
    migration tests start older files from a current one."""
    for table in ("users", "memberships", "sessions", "audit", "reviews"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE versions DROP COLUMN user")
    conn.execute("ALTER TABLE reports DROP COLUMN created_by")
    for column in ("review_state", "review_version", "locked_by"):
        conn.execute(f"ALTER TABLE sections DROP COLUMN {column}")
    conn.execute("UPDATE schema_version SET version = 5")
    conn.execute("DROP TABLE alembic_version")  # a v5 file was written before Alembic managed the schema


def test_migration_from_v5_adds_accounts_audit_and_review_states(tmp_path):
    path = tmp_path / "ws.sqlite3"
    ws = Workspace.open(path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    ws.add_version(rid, make_section("1.2", text="第二版正文。"), author="hand")
    ws.lock(rid, "1.1")
    ws.close()
    conn = sqlite3.connect(path)
    drop_v6(conn)
    conn.commit()
    conn.close()
    before = path.read_bytes()

    ws = Workspace.open(path)
    assert ws.schema_version == SCHEMA_VERSION
    backup = tmp_path / "ws.sqlite3.v5.bak"
    assert backup.exists()  # the copy taken before migrating is the v5 file as it was
    old = sqlite3.connect(backup)
    assert old.execute("SELECT version FROM schema_version").fetchone()[0] == 5
    assert old.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 8
    old.close()
    assert len(before) > 0
    # every version kept, recorded before accounts existed: no user
    history = ws.history(rid, "1.2")
    assert [h.version for h in history] == [1, 2] and [h.user for h in history] == [None, None]
    assert ws.section(rid, "1.2").text == "第二版正文。" and ws.locked(rid) == ["1.1"]
    # every section starts as 草稿; the new tables work on the migrated file
    assert {r.state for r in ws.review_states(rid)} == {"draft"}
    assert ws.submit(rid, "1.2") == 2
    assert ws.add_version(rid, make_section("1.2", text="第三版正文。"), author="hand") == 3
    assert ws.history(rid, "1.2")[-1].user == ws.actor.name
    assert [e.action for e in ws.audit_log(report_id=rid)] == ["submit", "edit", "reopen"]
    ws.close()
    assert Workspace.open(path).schema_version == SCHEMA_VERSION  # not migrated twice


# --- atomicity with real processes ------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from tests.test_store import make_section
    from assistant.workspace.service import Workspace
    target, rid, section, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    ws = Workspace.open(target)  # a SQLite file's path or a PostgreSQL URL
    print("ready", flush=True)
    go = Path(sys.argv[6]) if len(sys.argv) > 6 else None
    while go is not None and not go.exists():  # a start line, so that writers really overlap
        time.sleep(0.005)
    filler = "扎实推进宣传工作，" * 2000   # a large row: the kill may land inside the write
    i = 0
    while count == 0 or i < count:
        i += 1
        v = ws.add_version(rid, make_section(section, text=f"[{{tag}}-{{i}}]" + filler), author="offline")
        print(f"saved {{v}} {{tag}}-{{i}}", flush=True)
        if len(sys.argv) > 6:
            time.sleep(0.005)  # "drafting" between saves, as in real use; lets the other writer in
""")


def _start_writer(
    tmp_path: Path, target: Path | str, rid: str, section: str, tag: str, count: int, wait_for_go: bool = False
) -> tuple:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER.format(repo=str(REPO)), encoding="utf-8")
    out = tmp_path / f"writer-{tag}.out"
    handle = out.open("w")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target), rid, section, tag, str(count)]
        + ([str(tmp_path / "go")] if wait_for_go else []),
        stdout=handle,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    return proc, out, handle


def _saved_lines(out: Path) -> list[tuple[int, str]]:
    text = out.read_text(encoding="utf-8")
    complete = text[: text.rfind("\n") + 1] if "\n" in text else ""
    return [(int(line.split()[1]), line.split()[2]) for line in complete.splitlines() if line.startswith("saved")]


def _wait_ready(proc, out: Path) -> None:
    while "ready" not in out.read_text(encoding="utf-8"):
        if proc.poll() is not None:
            pytest.fail(f"writer died: {proc.stderr.read().decode()}")
        time.sleep(0.02)


@pytest.mark.slow
def test_sigkill_during_writes_loses_nothing_saved(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    path = workspace_target
    ws.close()
    rng = random.Random(20260101)
    confirmed: dict[int, str] = {1: "initial"}
    for round_ in range(3):
        proc, out, handle = _start_writer(tmp_path, path, rid, "1.1", f"r{round_}", 0)
        _wait_ready(proc, out)
        while not _saved_lines(out) and proc.poll() is None:  # under load a start can be slow
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        handle.close()
        confirmed.update(dict(_saved_lines(out)))

        if isinstance(path, Path):
            check = sqlite3.connect(path)
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            check.close()
        ws = Workspace.open(path)
        hist = ws.history(rid, "1.1")
        numbers = [h.version for h in hist]
        assert numbers == list(range(1, len(numbers) + 1))  # no gap, no duplicate
        for version, tag in confirmed.items():  # everything reported saved is there, intact
            if tag != "initial":
                assert ws.get_version(rid, "1.1", version).text.startswith(f"[{tag}]")
        # At most the one version committed just before its "saved" line could be printed.
        assert len(numbers) - max(confirmed) in (0, 1)
        for h in hist:  # no half-written version: every row parses completely
            draft = ws.get_version(rid, "1.1", h.version)
            assert h.version == 1 or draft.text.endswith("扎实推进宣传工作，")
        assert ws.section(rid, "1.1").text == ws.get_version(rid, "1.1", numbers[-1]).text
        ws.close()
    assert max(confirmed) > 1  # the writers did get some versions in


@pytest.mark.slow
def test_two_writers_serialise_without_duplicates(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    path = workspace_target
    ws.close()
    n = 12
    writers = [_start_writer(tmp_path, path, rid, "1.2", tag, n, wait_for_go=True) for tag in ("a", "b")]
    for proc, out, _ in writers:
        _wait_ready(proc, out)
    (tmp_path / "go").touch()
    for proc, _out, handle in writers:
        assert proc.wait(timeout=180) == 0, proc.stderr.read().decode()
        handle.close()
    ws = Workspace.open(path)
    hist = ws.history(rid, "1.2")
    assert [h.version for h in hist] == list(range(1, 2 * n + 2))
    for _proc, out, _handle in writers:
        lines = _saved_lines(out)
        assert len(lines) == n
        for version, tag in lines:
            assert ws.get_version(rid, "1.2", version).text.startswith(f"[{tag}]")
        assert [v for v, _ in lines] == sorted(v for v, _ in lines)
    assert snapshot_state(ws, rid)["1.1"][0] == 1


def test_failed_write_rolls_back_completely(workspace_target, tmp_path, monkeypatch):
    ws, rid = new_workspace(workspace_target)
    before = snapshot_state(ws, rid)
    real = store.Store._insert_version
    calls = []

    def failing(self, conn, report_id, draft, **kw):
        calls.append(draft.section_id)
        if len(calls) == 3:  # the third section of a whole-report save fails
            conn.execute("INSERT INTO versions(report_id) VALUES (NULL)")  # NOT NULL constraint
        return real(self, conn, report_id, draft, **kw)

    monkeypatch.setattr(store.Store, "_insert_version", failing)
    with pytest.raises(StoreError, match="写入工作区失败，本次操作未保存任何改动"):
        ws.save_draft(rid, make_report_draft())
    monkeypatch.setattr(store.Store, "_insert_version", real)
    assert snapshot_state(ws, rid) == before  # the two sections written before the failure are gone too
    assert ws.add_version(rid, make_section("1.1"), author="offline") == 2  # and the connection still works


_SLOW_DRAFTER = textwrap.dedent("""
    import sys
    import time
    sys.path.insert(0, {repo!r})
    from tests.test_store import make_section
    from assistant.workspace.service import Workspace
    ws = Workspace.open(sys.argv[1])

    def drafter(section, spec, figures):
        print("drafting", flush=True)
        time.sleep(60)  # a slow model call; the test kills us here
        return make_section(section.id, text="不应保存")

    ws.regenerate(sys.argv[2], "1.1", drafter, author="model")
""")


@pytest.mark.slow
def test_kill_during_generation_holds_no_lock_and_saves_nothing(workspace_target, tmp_path):
    ws, rid = new_workspace(workspace_target)
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_DRAFTER.format(repo=str(REPO)), encoding="utf-8")
    out = tmp_path / "slow.out"
    with out.open("w") as handle:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(workspace_target), rid], stdout=handle, stderr=subprocess.PIPE, cwd=REPO
        )
        try:
            while "drafting" not in out.read_text(encoding="utf-8"):
                if proc.poll() is not None:
                    pytest.fail(f"drafter died: {proc.stderr.read().decode()}")
                time.sleep(0.02)
            # While the other process drafts, the workspace is not locked: this write goes through.
            assert ws.add_version(rid, make_section("1.2", text="另一进程写入。"), author="hand") == 2
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert [h.version for h in ws.history(rid, "1.1")] == [1]
    assert ws.section(rid, "1.1").text == _TEXTS["1.1"][2]
    assert ws.add_version(rid, make_section("1.1", text="之后照常写入。"), author="offline") == 2


def test_chat_proposals_wait_in_the_workspace_and_settle_once(workspace_target, tmp_path):
    from assistant.workspace.chat import Intent, Proposal

    ws, rid = new_workspace(workspace_target)
    proposals = [
        Proposal(Intent("set_figure", figure="新闻发布会", value=300.0)),
        Proposal(Intent("regenerate", section="新媒体", instruction="更精炼"), "1.2"),
    ]
    ids = ws.propose(rid, proposals)
    ws.close()
    ws = Workspace.open(workspace_target)  # another process, a reloaded page
    assert ws.pending_proposals(rid) == list(zip(ids, proposals))
    assert ws.settle_proposal(rid, ids[0], confirmed=True)
    assert not ws.settle_proposal(rid, ids[0], confirmed=True)  # a second click applies nothing
    assert ws.settle_proposal(rid, ids[1], confirmed=False)
    assert ws.pending_proposals(rid) == []
    assert [s for _, _, s in ws.store.proposal_log(rid)] == ["confirmed", "cancelled"]


def test_the_first_report_is_created_once_when_two_processes_start_together(workspace_target):
    """Two app processes on one database each create the sample report on first start: the
    emptiness check is made under the write lock, so only one of them does."""
    from assistant.workspace.store import WorkspaceNotEmpty

    first, second = Workspace.open(workspace_target), Workspace.open(workspace_target)
    first.create_report(make_spec(), make_figures(), only_into_empty=True)
    with pytest.raises(WorkspaceNotEmpty):
        second.create_report(make_spec(), make_figures(), only_into_empty=True)
    assert len(second.reports()) == 1
    first.delete(first.reports()[0].id)  # a report in the 回收站 still counts
    with pytest.raises(WorkspaceNotEmpty):
        second.create_report(make_spec(), make_figures(), only_into_empty=True)
