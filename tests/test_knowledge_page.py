"""The 素材库 page (streamlit.testing.v1.AppTest): uploads with their 类别/年度/单位 prefilled and
corrected, bad values refused with nothing stored, the listing filtered and paged, a folder
removed at once after confirmation, a document re-tagged."""

from __future__ import annotations

import hashlib

from assistant.core.settings import get_settings
from assistant.kb.ingest import ingest
from assistant.kb.retrieve import KnowledgeBase
from tests.kb_fixtures.helpers import embedder  # noqa: F401  (session fixture)
from tests.test_app import no_errors, open_app, texts
from tests.test_kb_metadata import OFFICE, PAST_REPORT


def _library(tmp_path, embedder) -> KnowledgeBase:  # noqa: F811
    """25 small documents: 15 past reports in reports/ (2021–2023), 10 policies in rules/."""
    root = tmp_path / "library"
    for i in range(15):
        (root / "reports").mkdir(parents=True, exist_ok=True)
        year = 2021 + i % 3
        (root / "reports" / f"r{i:02d}.md").write_text(
            f"---\nkind: report\nyear: {year}\norganisation: 单位{i % 2}\n---\n汇报{i:02d}\n\n第{i}项工作稳步推进。\n",
            encoding="utf-8",
        )
    for i in range(10):
        (root / "rules").mkdir(parents=True, exist_ok=True)
        (root / "rules" / f"p{i:02d}.md").write_text(f"规定{i:02d}\n\n第{i}条 按规定办理。\n", encoding="utf-8")
    kb = KnowledgeBase.open(get_settings(), embedder=embedder)
    ingest([root], get_settings(), kb=kb)
    return kb


def test_upload_shows_guesses_refuses_a_bad_year_and_stores_what_was_corrected(embedder):  # noqa: F811
    at = open_app("knowledge")
    at.file_uploader(key="kb.upload.0").upload("2024总结.txt", PAST_REPORT.encode(), "text/plain")
    at.run()
    no_errors(at)
    row = "kb.meta.0.0"
    assert at.selectbox(key=f"{row}.kind").value == "report"  # 往年汇报, from the title's 文种
    assert at.text_input(key=f"{row}.year").value == "2024"
    assert at.text_input(key=f"{row}.org").value == OFFICE

    at.text_input(key=f"{row}.year").set_value("3000").run()
    at.button(key="kb.import").click().run()
    assert any("字段“年度”" in t and "2024总结.txt" in t and "超出范围" in t for t in texts(at.error))
    uploads = get_settings().data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing stored, nothing ingested
    kb = KnowledgeBase.open(get_settings(), embedder=embedder)
    assert kb.is_empty()

    at.text_input(key=f"{row}.year").set_value("2023").run()
    at.button(key="kb.import").click().run()
    no_errors(at)
    assert any("导入完成" in t for t in texts(at.success))
    doc = kb.document("2024总结.txt")
    assert doc is not None and (doc.kind, doc.year, doc.organisation) == ("report", 2023, OFFICE)


def test_listing_filters_pages_and_removes_a_folder_after_confirmation(tmp_path, embedder):  # noqa: F811
    kb = _library(tmp_path, embedder)
    at = open_app("knowledge")
    no_errors(at)
    assert any("已导入的文件（25 个）" in t for t in texts(at.subheader))
    assert any("符合条件的 25 个，第 1/2 页" in t for t in texts(at.caption))
    at.number_input(key="kb.page").set_value(2).run()
    assert any("第 2/2 页" in t for t in texts(at.caption))
    shown = [t for t in texts(at.markdown) if t.startswith("**")]
    assert len(shown) == 5

    at.selectbox(key="kb.filter.year").set_value(2022).run()
    assert any("符合条件的 5 个，第 1/1 页" in t for t in texts(at.caption))  # a new filter starts on page 1
    at.selectbox(key="kb.filter.year").set_value("全部").run()
    at.selectbox(key="kb.filter.folder").set_value("library/rules").run()
    assert any("符合条件的 10 个" in t for t in texts(at.caption))

    at.button(key="kb.remove").click().run()
    assert any("确认从素材库删除" in t and "10 个文件" in t for t in texts(at.warning))
    assert kb.count() == 25  # asking removes nothing
    at.button(key="kb.remove.cancel").click().run()
    assert not at.warning and kb.count() == 25

    at.button(key="kb.remove").click().run()
    at.button(key="kb.remove.confirm").click().run()
    no_errors(at)
    assert any("已从素材库删除 10 个文件" in t for t in texts(at.success))
    assert {d.source.split("/")[1] for d in kb.documents()} == {"reports"}
    assert (tmp_path / "library" / "rules" / "p00.md").exists()  # the office's own files stay


def test_a_document_is_retagged_from_its_row(tmp_path, embedder):  # noqa: F811
    kb = _library(tmp_path, embedder)
    at = open_app("knowledge")
    at.selectbox(key="kb.filter.folder").set_value("library/rules").run()
    source = "library/rules/p00.md"
    key = f"kb.tag.{hashlib.sha1(source.encode()).hexdigest()[:12]}"
    at.selectbox(key=f"{key}.kind").set_value("report")
    at.text_input(key=f"{key}.year").set_value("2019年")
    at.text_input(key=f"{key}.org").set_value("某市人大办")
    at.button(key=f"{key}.save").click().run()
    no_errors(at)
    doc = kb.document(source)
    assert (doc.kind, doc.year, doc.organisation) == ("report", 2019, "某市人大办")

    at.text_input(key=f"{key}.year").set_value("20190").run()
    at.button(key=f"{key}.save").click().run()
    assert any("字段“年度”" in t for t in texts(at.error))
    assert kb.document(source).year == 2019  # unchanged


def test_deleting_one_document_asks_first_naming_it_and_its_uploaded_copy(embedder):  # noqa: F811
    at = open_app("knowledge")
    at.file_uploader(key="kb.upload.0").upload("2024总结.txt", PAST_REPORT.encode(), "text/plain")
    at.run()
    at.button(key="kb.import").click().run()
    no_errors(at)
    saved = get_settings().data_dir / "uploads" / "2024总结.txt"
    kb = KnowledgeBase.open(get_settings(), embedder=embedder)
    assert saved.exists() and kb.document("2024总结.txt") is not None

    at.button(key="kb.delete.2024总结.txt").click().run()
    no_errors(at)
    asked = [t for t in texts(at.warning) if "确认从素材库删除" in t]
    assert asked and "2024总结.txt" in asked[0] and "uploads/2024总结.txt" in asked[0] and "一并删除" in asked[0]
    assert saved.exists() and kb.document("2024总结.txt") is not None  # asking deletes nothing
    at.button(key="kb.delete_cancel").click().run()
    assert not any("确认从素材库删除" in t for t in texts(at.warning))
    assert saved.exists() and kb.document("2024总结.txt") is not None

    at.button(key="kb.delete.2024总结.txt").click().run()
    at.button(key="kb.delete_confirm").click().run()
    no_errors(at)
    assert any("已从素材库删除 2024总结.txt" in t for t in texts(at.success))
    assert not saved.exists() and kb.document("2024总结.txt") is None


def test_deleting_a_document_of_a_folder_says_the_file_itself_stays(tmp_path, embedder):  # noqa: F811
    kb = _library(tmp_path, embedder)
    at = open_app("knowledge")
    at.selectbox(key="kb.filter.folder").set_value("library/rules").run()
    source = "library/rules/p00.md"
    at.button(key=f"kb.delete.{source}").click().run()
    asked = [t for t in texts(at.warning) if "确认从素材库删除" in t]
    assert asked and source in asked[0] and "保留不动" in asked[0] and kb.document(source) is not None
    at.button(key="kb.delete_confirm").click().run()
    no_errors(at)
    assert kb.document(source) is None and (tmp_path / "library" / "rules" / "p00.md").exists()
