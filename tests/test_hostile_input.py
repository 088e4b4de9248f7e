"""Issue 11, hostile text: control characters from a model answer or a hand edit never reach the
store, the Word file or the terminal; file names with Rich markup never break a command; an XLSX
formula without a cached value is refused, not read as an empty cell."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest
from docx import Document

from assistant.commands import main as cli
from assistant.commands.main import main
from assistant.core.errors import InputError
from assistant.core.figures import load_figures
from assistant.core.settings import get_settings
from assistant.export import export_docx
from assistant.testing.fakes import FakeChatModel
from assistant.workspace.service import Workspace
from tests.test_draft import CLEAN_12, draft_one, settings
from tests.test_store import make_figures, make_report_draft, make_spec, new_workspace

ESC = "\x1b[31m"


def test_hand_edit_with_vertical_tab_is_saved_clean_and_exports_to_word(tmp_path):
    ws, rid = new_workspace(tmp_path)
    ws.edit(rid, "1.1", "全年召开新闻发布会12次，\x0b网络直播\x1b[2J观看44.1万人次。")
    text = ws.section(rid, "1.1").text
    assert text == "全年召开新闻发布会12次，网络直播观看44.1万人次。"
    doc = Document(str(export_docx(ws.current(rid), tmp_path / "r.docx")))
    assert any("网络直播观看" in p.text for p in doc.paragraphs)
    ws.close()


def test_hand_edit_with_nul_is_refused_in_chinese_and_nothing_saved(tmp_path):
    ws, rid = new_workspace(tmp_path)
    before = [v.version for v in ws.history(rid, "1.1")]
    with pytest.raises(InputError, match="空字符"):
        ws.edit(rid, "1.1", "全年召开新闻发布会12次。\x00")
    assert [v.version for v in ws.history(rid, "1.1")] == before
    ws.close()


def test_model_answer_with_escape_sequences_is_saved_clean(tmp_path):
    answer = f"{ESC}{CLEAN_12[:20]}\x0b{CLEAN_12[20:]}\x1b[0m\x07"
    d = draft_one("1.2", FakeChatModel([answer]), settings(tmp_path))
    assert d.text == CLEAN_12
    assert not any(c in d.text for c in "\x1b\x0b\x07")


def test_export_guards_a_stored_version_that_holds_control_characters(tmp_path):
    # A version saved by an older release, before text was cleaned on the way in.
    report = make_report_draft()
    report.sections[0].text = "全年召开新闻发布会\x0b12次。\x00" + ESC
    report.title = report.title + "\x0b"
    doc = Document(str(export_docx(report, tmp_path / "r.docx")))
    assert any("全年召开新闻发布会12次。" == p.text for p in doc.paragraphs)


# ---------------------------------------------------------------- file names with Rich markup


def shell(monkeypatch, *args: str) -> int:
    """The exit status through the entry point, which prints every HuibaoError with Rich."""
    monkeypatch.setattr(sys, "argv", ["huibao", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    return int(stop.value.code or 0)


def test_figures_file_named_with_markup_is_refused_with_its_name(monkeypatch, capsys, tmp_path):
    ws = Workspace.open(get_settings().workspace_path)
    rid = ws.create_report(make_spec(), make_figures(), draft=make_report_draft())
    ws.close()
    bad = tmp_path / "a[/b].csv"  # "a[" is a folder: the path holds "[/b]", a Rich closing tag
    bad.parent.mkdir()
    bad.write_text("id,item,value,unit\nx,总投入,abc,元\n", encoding="utf-8")
    assert shell(monkeypatch, "figures", rid, "--set", str(bad)) == 2
    err = capsys.readouterr().err
    assert "a[/b].csv" in err and "内部错误" not in err and "MarkupError" not in err


def test_check_a_draft_named_with_markup(monkeypatch, capsys, tmp_path):
    draft = tmp_path / "a[/b].md"
    draft.parent.mkdir()
    draft.write_text("全年召开新闻发布会12次。\n", encoding="utf-8")
    figures = tmp_path / "f.csv"
    figures.write_text("id,item,value,unit\npress,新闻发布会,12,次\n", encoding="utf-8")
    assert shell(monkeypatch, "check", str(draft), "-f", str(figures)) in (0, 1)
    out = capsys.readouterr()
    assert "a[/b].md" in out.out and "内部错误" not in out.err
    assert shell(monkeypatch, "check", str(tmp_path / "missing[/x].md"), "-f", str(figures)) == 2
    assert "missing[/x].md" in capsys.readouterr().err


def test_internal_error_text_with_markup_is_printed_plainly(monkeypatch, capsys):
    def boom() -> None:
        raise RuntimeError("[/b] closing tag")

    monkeypatch.setattr(cli, "app", boom)
    assert shell(monkeypatch) == 3
    assert "RuntimeError: [/b] closing tag" in capsys.readouterr().err


def test_ctrl_c_in_a_command_says_so_in_chinese(monkeypatch, capsys):
    """^C while a command runs: Typer turns it into exit status 130 without a word; the entry point
    says what happened."""
    from assistant.commands import kb as kb_commands

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kb_commands, "run_ingest", interrupted)
    assert shell(monkeypatch, "ingest") == 130
    assert "已中断" in capsys.readouterr().err


# ---------------------------------------------------------------- XLSX formulas


def test_xlsx_formula_without_cached_value_is_refused_naming_row_and_field(tmp_path):
    import openpyxl  # heavy: only this test writes a workbook

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "item", "value", "unit", "note"])
    sheet.append(["press", "新闻发布会", 11, "次", None])  # a blank note is still fine
    sheet.append(["total", "总投入", "=B2*2", "万元", None])  # openpyxl saves formulas without a result
    book.save(tmp_path / "f.xlsx")
    with pytest.raises(InputError) as info:
        load_figures(tmp_path / "f.xlsx")
    err = info.value
    assert "公式未计算" in str(err) and err.line == 3 and err.field == "value" and "f.xlsx" in str(err)


def test_xlsx_with_blank_optional_cells_still_loads(tmp_path):
    import openpyxl  # heavy: only this test writes a workbook

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "item", "value", "unit", "note"])
    sheet.append(["press", "新闻发布会", 11, "次", None])
    book.save(tmp_path / "f.xlsx")
    assert [f.value for f in load_figures(tmp_path / "f.xlsx")] == [11]


def test_csv_with_lone_carriage_returns_loads_as_lines(tmp_path):
    # Found by the fuzz suite: csv raised "new-line character seen in unquoted field".
    path = tmp_path / "f.csv"
    path.write_bytes("id,item,value,unit\rpress,新闻发布会,11,次\r".encode())
    assert [(f.id, f.value) for f in load_figures(path)] == [("press", 11)]


def test_every_page_opens_on_a_workspace_holding_a_bad_figure_value():
    # Old code: a value stored as null (the 400-digit CSV) made every page show Streamlit's
    # English error box. Now each page opens, and the figures page says what is wrong.
    from tests.test_app import PAGES, drafted_app, open_app, texts, ui

    at = drafted_app()
    rid = ui(at).report_id
    db = sqlite3.connect(get_settings().workspace_path)
    with db:
        snap_id, data = db.execute(
            "SELECT id, figures_json FROM figure_snapshots WHERE report_id = ? ORDER BY id DESC LIMIT 1", (rid,)
        ).fetchone()
        figures = json.loads(data)
        figures[0]["value"] = figures[0]["base_value"] = None
        db.execute("UPDATE figure_snapshots SET figures_json = ? WHERE id = ?", (json.dumps(figures), snap_id))
    db.close()
    shown = []
    for page in ("reports", "sections", "figures", "chat", "knowledge", "export", "settings"):
        fresh = open_app()
        fresh.switch_page(f"{PAGES}/{page}.py").run()
        assert not fresh.exception, (page, texts(fresh.exception))
        shown += texts(fresh.warning) + texts(fresh.error) + texts(fresh.markdown)
    assert any("无效数值" in t for t in shown)
