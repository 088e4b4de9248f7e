"""The 素材 page (issue 16): candidate rows with their sentences, a conflict resolved by
choosing one value, ticked rows accepted into the open report's figures with provenance.

AppTest cannot drive a file uploader, so the extraction the 摘录数据 button would store is put
into the page's session state directly (the same object extract_materials returns)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from assistant.core.settings import get_settings
from assistant.materials import extract_text
from assistant.workspace.service import Workspace

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGE = "assistant/ui/pages/materials.py"


def test_resolve_a_conflict_and_accept_rows_into_the_report_figures():
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    report_id = at.session_state["huibao.session"].report_id
    result = extract_text("全年召开宣讲会12场，发放宣传册3000份。\n全年召开宣讲会14场。", source="宣传科.docx")
    at.session_state["materials.result"] = (report_id, result)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value if at.dataframe else None
    editor = table if table is not None else at.get("arrow_data_frame")[0].value
    assert list(editor["sentence"])[0] == "全年召开宣讲会12场，发放宣传册3000份。"
    radio = at.radio(key="materials.conflict.1")
    radio.set_value(result.rows[2].id).run()  # keep 14场
    at.button(key="materials.accept").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    figures = {f.item: f for f in Workspace.open(get_settings().workspace_path).figures(report_id)}
    assert figures["宣讲会"].value == 14 and figures["宣讲会"].sentence == "全年召开宣讲会14场。"
    assert figures["发放宣传册"].source == "宣传科.docx 第1行"


def test_a_number_in_the_draft_shows_the_material_sentence_its_figure_came_from():
    from assistant.check import check_text
    from assistant.core.figures import Figure
    from assistant.ui.render import section_html

    fig = Figure(
        id="F01", item="宣讲会", value=14, unit="场", source="宣传科.docx 第2段", sentence="全年召开宣讲会14场。"
    )
    text = "全年举办宣讲会14场。"
    html = section_html(text, check_text(text, [fig], scope="section"), {"F01": fig})
    assert "来源：宣传科.docx 第2段" in html and "原文：全年召开宣讲会14场。" in html


def test_accepting_rows_for_existing_figures_keeps_their_last_year_and_says_what_changed():
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page(PAGE).run()
    report_id = at.session_state["huibao.session"].report_id
    ws = Workspace.open(get_settings().workspace_path)
    typed = [f.model_copy(update={"last_year": 8.0}) if f.id == "press_conf" else f for f in ws.figures(report_id)]
    ws.update_figures(report_id, typed)
    count = len(typed)
    result = extract_text("全年召开新闻发布会12次，编发新闻稿件420篇。", source="宣传科.docx")
    at.session_state["materials.result"] = (report_id, result)
    at.run()
    at.button(key="materials.accept").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    figures = {f.id: f for f in Workspace.open(get_settings().workspace_path).figures(report_id)}
    assert len(figures) == count  # nothing added: both rows are figures the report already has
    assert (figures["press_conf"].value, figures["press_conf"].last_year) == (12, 8)  # 上年 kept
    assert figures["news_articles"].value == 420
    shown = [s.value for s in at.success]
    assert any("新增 0 项；更新 2 项：新闻发布会 11→12 次，编发新闻稿件 418→420 篇。" in s for s in shown), shown
    assert not any("已加入" in s for s in shown)
