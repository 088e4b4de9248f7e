"""The leader's marked-up Word file back (issue 17): export, edit the .docx the way Word records
edits (python-docx for text and comments, tracked-change XML for w:ins/w:del), `huibao import`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import parse_xml
from typer.testing import CliRunner

from assistant.commands.main import app
from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.export import export_docx
from assistant.markup import prepare_import, read_marked_up, save_import
from assistant.workspace.service import Workspace
from tests.test_store import make_figures, make_report_draft, make_spec, snapshot_state

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@pytest.fixture()
def ws_report():
    ws = Workspace.open(get_settings().workspace_path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    yield ws, rid
    ws.close()


def exported(ws, rid, tmp_path) -> Path:
    return export_docx(ws.current(rid), tmp_path / "汇报.docx")


def paragraph(doc, start: str):
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def run(*args: str):
    return CliRunner().invoke(app, ["import", *map(str, args)])


def _replace_text(p, old: str, new: str) -> None:
    text = p.text
    for r in p.runs[1:]:
        r._r.getparent().remove(r._r)
    p.runs[0].text = text.replace(old, new)


def _tracked_insert(p, text: str, author: str = "李局长") -> None:
    p._p.append(
        parse_xml(
            f'<w:ins {W} w:id="901" w:author="{author}" w:date="2026-12-01T10:00:00Z">'
            f"<w:r><w:t>{text}</w:t></w:r></w:ins>"
        )
    )


def _tracked_delete(p, text: str, author: str = "李局长") -> None:
    p._p.append(
        parse_xml(
            f'<w:del {W} w:id="902" w:author="{author}" w:date="2026-12-01T10:00:00Z">'
            f"<w:r><w:delText>{text}</w:delText></w:r></w:del>"
        )
    )


def test_an_unedited_file_creates_no_version(ws_report, tmp_path):
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    before = snapshot_state(ws, rid)
    result = run(rid, path, "--yes")
    assert result.exit_code == 0, result.output
    assert "不会生成新版本" in result.output
    assert snapshot_state(ws, rid) == before


def test_one_changed_sentence_a_tracked_insertion_and_a_comment(ws_report, tmp_path):
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    p12 = paragraph(doc, ws.section(rid, "1.2").text.split("\n")[0][:8])
    _replace_text(p12, "新媒体发稿", "新媒体平台发稿")
    p2 = paragraph(doc, ws.section(rid, "2").text.split("\n")[0][:8])
    _tracked_insert(p2, "基层调研的深度还需加强。")
    _tracked_delete(p2, "这段删去的话不应出现。")
    p11 = paragraph(doc, ws.section(rid, "1.1").text.split("\n")[0][:8])
    doc.add_comment(p11.runs[0], text="数字请再核对", author="李局长")
    doc.save(str(path))

    before = {s: len(ws.history(rid, s)) for s in ("intro", "1.1", "1.2", "2", "3", "closing")}
    result = run(rid, path, "--yes", "--by", "张三", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert sorted(v["section_id"] for v in out["versions"]) == ["1.2", "2"]
    assert [(c["section_id"], c["author"], c["text"]) for c in out["comments"]] == [("1.1", "李局长", "数字请再核对")]
    after = {s: len(ws.history(rid, s)) for s in before}
    assert after == {**before, "1.2": before["1.2"] + 1, "2": before["2"] + 1}
    assert "新媒体平台发稿" in ws.section(rid, "1.2").text
    text2 = ws.section(rid, "2").text
    assert "基层调研的深度还需加强。" in text2 and "这段删去的话" not in text2
    last = ws.history(rid, "2")[-1]
    assert last.author == "import" and "汇报.docx" in last.instruction and "张三" in last.instruction
    assert "李局长" in last.instruction  # the tracked-change author
    assert [c.text for c in ws.comments(rid, "1.1")] == ["数字请再核对"]


def test_importing_the_same_file_twice_keeps_each_comment_once_and_says_so(ws_report, tmp_path):
    # QA: a second import of the same file stored its comments again and said nothing about them.
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    p11 = paragraph(doc, ws.section(rid, "1.1").text.split("\n")[0][:8])
    doc.add_comment(p11.runs[0], text="数字请再核对", author="李局长")
    p2 = paragraph(doc, ws.section(rid, "2").text.split("\n")[0][:8])
    doc.add_comment(p2.runs[0], text="问题再找深一些", author="李局长")
    doc.save(str(path))

    result = run(rid, path, "--yes")
    assert result.exit_code == 0, result.output
    assert "已保存：批注 2 条。" in result.output
    before = snapshot_state(ws, rid)
    result = run(rid, path, "--yes")
    assert result.exit_code == 0, result.output
    assert "2 条批注都已保存过" in result.output and "已保存：" not in result.output
    assert [(c.section_id, c.text) for c in ws.comments(rid)] == [("1.1", "数字请再核对"), ("2", "问题再找深一些")]
    assert snapshot_state(ws, rid) == before

    # The file again with one more comment: only that one is saved.
    doc = Document(str(path))
    p12 = paragraph(doc, ws.section(rid, "1.2").text.split("\n")[0][:8])
    doc.add_comment(p12.runs[0], text="阅读量要补上", author="王主任")
    doc.save(str(path))
    result = run(rid, path, "--yes", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["comments_saved"] == 1 and [c["text"] for c in out["comments"]] == ["阅读量要补上"]
    assert len(out["known_comments"]) == 2
    assert len(ws.comments(rid)) == 3


def test_two_previews_of_one_file_saved_one_after_the_other_keep_each_comment_once(ws_report, tmp_path):
    # Two windows previewed the file before either saved: the store still keeps each comment once.
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    doc.add_comment(paragraph(doc, ws.section(rid, "1.1").text[:8]).runs[0], text="数字请再核对", author="李局长")
    doc.save(str(path))
    first, snap1 = prepare_import(ws, rid, path.read_bytes(), path.name)
    second, snap2 = prepare_import(ws, rid, path.read_bytes(), path.name)
    save_import(ws, first, uploader="甲", snapshot_id=snap1)
    save_import(ws, second, uploader="乙", snapshot_id=snap2)
    assert [c.text for c in ws.comments(rid)] == ["数字请再核对"]


def test_a_new_number_is_flagged_in_the_preview_and_in_the_saved_check(ws_report, tmp_path):
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    p = paragraph(doc, ws.section(rid, "1.2").text.split("\n")[0][:8])
    _tracked_insert(p, "全年举办培训班37期。")
    doc.save(str(path))
    result = run(rid, path)  # not a terminal, no --yes: nothing saved
    assert result.exit_code == 1
    assert "新数字“37期”无数据来源" in result.output and "未保存" in result.output
    assert len(ws.history(rid, "1.2")) == 1
    result = run(rid, path, "--yes")
    assert result.exit_code == 1  # saved, but a number has no source
    saved = ws.section(rid, "1.2")
    assert any(m.text == "37期" and m.status == "invented" for m in saved.check.numbers)


def test_a_locked_section_changed_in_the_file_gets_a_version_and_is_named(ws_report, tmp_path):
    ws, rid = ws_report
    ws.lock(rid, "3")
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    p = paragraph(doc, ws.section(rid, "3").text.split("\n")[0][:8])
    _tracked_insert(p, "持续深化调查研究。")
    doc.save(str(path))
    result = run(rid, path, "--yes")
    assert result.exit_code == 0, result.output
    assert "已锁定，仍将按文件保存新版本" in result.output
    assert "持续深化调查研究。" in ws.section(rid, "3").text


def test_a_renamed_heading_is_matched_by_content_and_reported(ws_report, tmp_path):
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    heading = paragraph(doc, "（二）")
    _replace_text(heading, heading.text[3:], "聚焦新媒体，拓展传播渠道")
    doc.save(str(path))
    plan, _ = prepare_import(ws, rid, path.read_bytes(), path.name)
    assert [m.section_id for m in plan.moved] == ["1.2"] and plan.moved[0].how == "改名"
    assert plan.changes == [] and plan.missing == []


def test_a_missing_section_is_reported_and_left_unchanged(ws_report, tmp_path):
    ws, rid = ws_report
    path = exported(ws, rid, tmp_path)
    doc = Document(str(path))
    heading = paragraph(doc, "（二）")
    body = heading._p.getnext()
    for el in (heading._p, body):
        el.getparent().remove(el)
    doc.save(str(path))
    before = snapshot_state(ws, rid)
    plan, _ = prepare_import(ws, rid, path.read_bytes(), path.name)
    assert plan.missing == ["1.2"] and plan.changes == []
    assert snapshot_state(ws, rid) == before


def test_a_foreign_word_file_is_refused_and_the_workspace_is_untouched(ws_report, tmp_path):
    ws, rid = ws_report
    foreign = tmp_path / "别的文件.docx"
    doc = Document()
    doc.add_paragraph("关于开展安全生产大检查的通知")
    doc.add_paragraph("一、检查范围")
    doc.add_paragraph("全市各类生产经营单位。")
    doc.add_paragraph("二、检查内容")
    doc.add_paragraph("重点检查消防设施。")
    doc.save(str(foreign))
    workspace_file = Path(ws.path)
    before = workspace_file.read_bytes()
    result = run(rid, foreign, "--yes")
    assert isinstance(result.exception, InputError)
    assert "结构与汇报" in str(result.exception) and "“一、检查范围”" in str(result.exception)
    assert workspace_file.read_bytes() == before


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_word_document_is_refused(content, tmp_path):
    with pytest.raises(InputError, match="不是 Word 文档"):
        read_marked_up(content, "x.docx")


def test_check_and_the_readers_see_a_number_a_leader_typed_in_with_tracked_changes(tmp_path):
    # `huibao check`, ingest and materials read a .docx with the leader's tracked changes accepted,
    # as `import` does: the inserted 12次 is checked, the deleted 11次 is not read
    from assistant.core.textio import read_docx
    from assistant.materials.read import read_material

    doc = Document()
    p = doc.add_paragraph("全年召开新闻发布会")
    _tracked_delete(p, "11次")
    _tracked_insert(p, "12次")
    p.add_run("，编发稿件418篇。")
    table = doc.add_table(rows=2, cols=2)
    for cell, head in zip(table.rows[0].cells, ("事项", "数量"), strict=True):
        cell.text = head
    table.cell(1, 0).text = "新增联络站"
    _tracked_insert(table.cell(1, 1).paragraphs[0], "3个")
    path = tmp_path / "修改稿.docx"
    doc.save(path)
    text = read_docx(path.read_bytes())
    assert "全年召开新闻发布会12次，编发稿件418篇。" in text and "11次" not in text
    assert "新增联络站\t3个" in text
    blocks = [b.text for b in read_material(path)]
    assert any("发布会12次" in b for b in blocks) and any("3个" in b for b in blocks), blocks
    figures = tmp_path / "数据.csv"
    figures.write_text(
        "id,item,value,unit\npress,新闻发布会,12,次\nnews,编发稿件,418,篇\nsites,新增联络站,3,个\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["check", str(path), "--figures", str(figures), "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 0, result.output  # every number read, every one traced, no figure unused
    assert {m["text"] for m in report["numbers"]} >= {"12次", "418篇"}, report["numbers"]
