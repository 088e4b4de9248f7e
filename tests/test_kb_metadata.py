"""Knowledge-base metadata: 类别 / 年度 / 单位 guessed from file names and first lines, given at
upload or on the command line, changed without re-embedding; the 素材库 listing (filter, page)
and bulk removal by folder, year or kind."""

from __future__ import annotations

import io
import json

import pytest

from assistant.core.errors import InputError
from assistant.drafting.context import DraftContext
from assistant.drafting.draft import draft_report
from assistant.drafting.engines import OfflineEngine
from assistant.gongwen import title_genre
from assistant.kb.ingest import ingest
from assistant.kb.metadata import (
    DocumentFilter,
    DocumentMeta,
    document_meta,
    filter_documents,
    folders,
    guess_metadata,
    max_year,
    page_of,
    parse_kind,
    parse_year,
    removal_plan,
    remove_documents,
    retag,
)
from assistant.kb.retrieve import DocumentInfo, KnowledgeBase
from assistant.ui import actions
from tests.drafting_helpers import small_figures, small_spec
from tests.kb_fixtures.helpers import copy_corpus, make_settings, run_cli

OFFICE = "禾川市人大常委会办公室"
# an office's own past report, as a person saves it: the file name says little, the title says all
PAST_REPORT = f"""{OFFICE}2024年度宣传思想文化工作汇报

2024年，在市委和市人大常委会党组的坚强领导下，办公室围绕中心抓宣传，各项工作取得新成效。

一、工作做法及成效

（一）坚持理论武装，筑牢思想根基

一是严格落实“第一议题”制度，青禾读书角每月开放，党组会议带头学习习近平总书记最新重要讲话精神。

（二）创新新闻宣传，讲好人大故事

一是办好“青禾人大”融媒体专栏，全年编发稿件，新闻发布会机制化运行，宣传声势持续壮大。
"""


def docx_bytes(text: str) -> bytes:
    import docx  # python-docx, a dependency of the export

    document = docx.Document()
    for line in text.split("\n"):
        if line.strip():
            document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- guessing


@pytest.mark.parametrize(
    "name, first_line, expected",
    [
        # the issue's own example: the title names office, year and 文种
        ("某市人大办2024年度宣传工作汇报.docx", "", ("report", 2024, "某市人大办")),
        # a bare file name; the first line is the title
        ("总结.docx", f"{OFFICE}2023年度代表工作汇报", ("report", 2023, OFFICE)),
        ("新建 Microsoft Word 文档.docx", "禾川市政协办公室2025年度宣传工作总结", ("report", 2025, "禾川市政协办公室")),
        ("x.txt", "禾川市司法局关于2024年度法治政府建设情况的报告", ("report", 2024, "禾川市司法局")),
        ("2024年禾川市民政局工作总结（定稿）.docx", "", ("report", 2024, "禾川市民政局")),
        ("中共禾川市委宣传部2022年工作总结(2).docx", "", ("report", 2022, "中共禾川市委宣传部")),
        ("2019年度工作总结.pdf", "", ("report", 2019, None)),
        ("关于加强和改进市人大代表工作的实施意见.md", "", ("policy", None, None)),
        ("禾川市人大常委会2026年宣传工作要点.md", "", ("policy", 2026, "禾川市人大常委会")),
        ("禾川市人大常委会新媒体平台管理办法（征求意见稿）.docx", "", ("policy", None, None)),
        ("会议记录.txt", "办公室例会记录", ("other", None, None)),
        # a rule's name before its year is no organisation
        ("规范.docx", "禾川市人大代表联络站工作规范（2025年修订）", ("policy", 2025, None)),
        ("x.docx", "禾川市2024年度国民经济和社会发展统计公报", ("other", 2024, "禾川市")),
        ("y.docx", "2024年度区委宣传部工作总结", ("report", 2024, "区委宣传部")),
        ("z.docx", "2025年工作部署会议讲话", ("other", 2025, None)),
        ("scan0001.pdf", "", ("other", None, None)),
    ],
)
def test_guess_from_file_name_and_first_line(name, first_line, expected):
    meta = guess_metadata(name, first_line + "\n\n正文第一段。\n")
    assert (meta.kind, meta.year, meta.organisation) == expected


def test_year_from_the_opening_sentence_when_name_and_title_have_none():
    text = "工作总结\n\n2021年，在区委的坚强领导下，我办认真履职。\n"
    assert guess_metadata("总结.docx", text).year == 2021
    # a far-off target year (远景目标) is no document year
    assert guess_metadata("规划.docx", "2035年远景目标纲要\n").year is None


@pytest.mark.parametrize(
    "title, genre",
    [
        ("禾川市人大常委会办公室2024年度代表工作汇报", "report"),
        ("述职报告", "report"),
        ("关于印发《宣传工作考核办法》的通知", "policy"),
        ("宣传工作实施方案（2024—2026年）", "policy"),
        ("宣传工作要点 终稿", "policy"),
        ("代表风采栏目稿件选编", None),
        ("", None),
    ],
)
def test_title_genre_reads_the_wenzhong_at_the_end(title, genre):
    assert title_genre(title) == genre


# ---------------------------------------------------------------- what a person types


def test_typed_values_are_read_in_chinese_or_english():
    assert parse_kind("往年汇报") == parse_kind("report") == parse_kind(" REPORT ") == "report"
    assert parse_kind("政策文件") == "policy" and parse_kind("") is None
    assert parse_year("2024年度") == parse_year(" 2024 ") == parse_year(2024) == 2024
    assert parse_year("") is None
    meta = document_meta(kind="其他", year="2020年", organisation=" 某市 人大办 ")
    assert meta == DocumentMeta(kind="other", year=2020, organisation="某市人大办")


@pytest.mark.parametrize(
    "values, field, words",
    [
        ({"kind": "年报"}, "类别", "未知的类别“年报”"),
        ({"year": "1900"}, "年度", "超出范围"),
        ({"year": str(max_year() + 1)}, "年度", "超出范围"),
        ({"year": "二〇二四"}, "年度", "不是年份"),
        ({"organisation": "某" * 61}, "单位", "不能超过 60 字"),
    ],
)
def test_bad_values_name_the_field(values, field, words):
    with pytest.raises(InputError) as err:
        document_meta(**values, file="a.docx")
    assert f"字段“{field}”" in str(err.value) and "文件 a.docx" in str(err.value) and words in str(err.value)


# ---------------------------------------------------------------- listing


def _info(source: str, kind="report", year=2024, organisation=OFFICE) -> DocumentInfo:
    return DocumentInfo(source=source, kind=kind, year=year, organisation=organisation, chunks=3, sha256="x")


LIBRARY = [
    _info("past-reports/2023/a.md", year=2023),
    _info("past-reports/2024/b.md"),
    _info("past-reports/c.md", year=2019, organisation="禾川市司法局"),
    _info("policies/d.md", kind="policy", year=None, organisation=None),
    _info("上传的汇报.docx", year=2019),
]


def test_filter_by_kind_year_organisation_folder_and_text():
    def sources(**kw):
        return [d.source for d in filter_documents(LIBRARY, DocumentFilter(**kw))]

    assert sources(kind="policy") == ["policies/d.md"]
    assert sources(year=2019) == ["past-reports/c.md", "上传的汇报.docx"]
    assert sources(organisation="司法局") == ["past-reports/c.md"]
    # a folder includes its subfolders; "" is the documents ingested one by one (uploads)
    assert sources(folder="past-reports") == ["past-reports/2023/a.md", "past-reports/2024/b.md", "past-reports/c.md"]
    assert sources(folder="past-reports/2023") == ["past-reports/2023/a.md"]
    assert sources(folder="") == ["上传的汇报.docx"]
    assert sources(text="汇报") == ["上传的汇报.docx"]
    assert folders(LIBRARY) == ["past-reports", "past-reports/2023", "past-reports/2024", "policies"]


def test_pages_are_clamped_and_counted():
    docs = [_info(f"f{i:05d}.md") for i in range(45)]
    page = page_of(docs, 3, 20)
    assert (page.number, page.pages, page.total, len(page.items)) == (3, 3, 45, 5)
    assert page_of(docs, 99, 20).number == 3 and page_of(docs, 0, 20).number == 1
    assert page_of([], 1, 20).pages == 1


def test_bulk_removal_must_name_a_folder_year_or_kind():
    with pytest.raises(InputError, match="目录、年度或类别"):
        removal_plan(LIBRARY, DocumentFilter(organisation="司法局"))
    assert [d.source for d in removal_plan(LIBRARY, DocumentFilter(year=2019, folder="past-reports"))] == [
        "past-reports/c.md"
    ]


# ---------------------------------------------------------------- with a real knowledge base


@pytest.fixture()
def kb_env(tmp_path, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    settings = make_settings(tmp_path, knowledge)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    ingest([knowledge], settings, kb=kb)
    return settings, knowledge, kb


def _drafted_sources(kb, settings) -> set[str]:
    report = draft_report(DraftContext.create(small_spec(), small_figures(), kb, settings), OfflineEngine())
    return {p.source for d in report.sections for p in d.provenance.passages}


def test_uploaded_past_report_tagged_at_upload_is_drafted_from_as_past_report(kb_env):
    settings, _, kb = kb_env
    data = docx_bytes(PAST_REPORT)
    guess = actions.upload_guess("2024总结.docx", data)
    assert guess == DocumentMeta(kind="report", year=2024, organisation=OFFICE)  # what the form shows
    meta = actions.upload_meta("2024总结.docx", guess.kind, "2024", guess.organisation)
    paths, per_file = actions.import_uploads([("2024总结.docx", data, meta)], settings, kb)
    report = ingest(paths, settings, kb=kb, meta=per_file)
    assert report.added == ["2024总结.docx"]
    doc = kb.document("2024总结.docx")
    assert doc is not None and (doc.kind, doc.year, doc.organisation) == ("report", 2024, OFFICE)
    assert "2024总结.docx" in _drafted_sources(kb, settings)


def test_a_report_filed_as_other_is_not_drafted_from_until_retagged_without_reembedding(kb_env):
    settings, _, kb = kb_env
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True)
    (folder / "材料.txt").write_text(PAST_REPORT, encoding="utf-8")
    # the person said 其他: their word wins over the guess
    ingest([folder / "材料.txt"], settings, kb=kb, meta=DocumentMeta(kind="other"))
    assert kb.document("材料.txt").kind == "other"
    assert "材料.txt" not in _drafted_sources(kb, settings)
    vectors_before = kb._collection.get(where={"source": "材料.txt"}, include=["embeddings"])["embeddings"]

    assert retag(kb, "材料.txt", DocumentMeta(kind="report", year=2024)) is True
    assert retag(kb, "材料.txt", DocumentMeta(kind="report", year=2024)) is False  # nothing left to change
    doc = kb.document("材料.txt")
    assert (doc.kind, doc.year, doc.organisation) == ("report", 2024, OFFICE)
    after = kb._collection.get(where={"source": "材料.txt"}, include=["embeddings"])["embeddings"]
    assert (after == vectors_before).all()  # vectors untouched
    assert "材料.txt" in _drafted_sources(kb, settings)

    # ingest with metadata for an unchanged file re-tags it, embedding nothing
    again = ingest([folder / "材料.txt"], settings, kb=kb, meta=DocumentMeta(year=2023))
    assert again.retagged == ["材料.txt"] and again.embedded == 0 and again.chunks == 0
    assert kb.document("材料.txt").year == 2023


def test_retag_of_unknown_document_names_it(kb_env):
    _, _, kb = kb_env
    with pytest.raises(InputError, match="没有文档“无此文件.md”"):
        retag(kb, "无此文件.md", DocumentMeta(kind="report"))


def test_remove_a_folder_at_once_takes_uploaded_copies_too(kb_env):
    settings, _, kb = kb_env
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True)
    (folder / "上传.txt").write_text(PAST_REPORT, encoding="utf-8")
    ingest([folder / "上传.txt"], settings, kb=kb)
    before = {d.source for d in kb.documents()}
    doomed = removal_plan(kb.documents(), DocumentFilter(folder="past-reports"))
    assert doomed and all(d.source.startswith("past-reports/") for d in doomed)
    remove_documents(kb, [d.source for d in doomed], settings)
    assert {d.source for d in kb.documents()} == before - {d.source for d in doomed}
    assert kb.search("宣传工作", k=20, kind="report")  # the upload is still a past report
    remove_documents(kb, ["上传.txt"], settings)
    assert not (folder / "上传.txt").exists()  # a later import of the upload folder will not revive it
    assert all(p.source != "上传.txt" for p in kb.search("宣传工作", k=20))


# ---------------------------------------------------------------- the commands


def refused(res, words: str) -> bool:
    """The command refused the input: huibao's main() prints the InputError and exits 2."""
    return isinstance(res.exception, InputError) and res.exception.exit_code == 2 and words in str(res.exception)


def test_cli_ingest_with_metadata_and_bad_values_change_nothing(tmp_path, monkeypatch, embedder):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    data = tmp_path / "data"
    report = tmp_path / "材料.txt"
    report.write_text(PAST_REPORT, encoding="utf-8")

    res = run_cli(["ingest", str(report), "--kind", "年报"], monkeypatch, knowledge, data)
    assert refused(res, "字段“--kind”：未知的类别“年报”")
    res = run_cli(["ingest", str(report), "--year", "3000"], monkeypatch, knowledge, data)
    assert refused(res, "字段“--year”：年份 3000 超出范围")
    res = run_cli(["kb", "list", "--json"], monkeypatch, knowledge, data)
    assert json.loads(res.output)["total"] == 0  # nothing was ingested

    res = run_cli(["ingest", str(report), "--kind", "政策文件", "--org", "某单位"], monkeypatch, knowledge, data)
    assert res.exit_code == 0, res.output
    listed = json.loads(run_cli(["kb", "list", "--json"], monkeypatch, knowledge, data).output)
    assert [(d["source"], d["kind"], d["year"], d["organisation"]) for d in listed["documents"]] == [
        ("材料.txt", "policy", 2024, "某单位")
    ]

    res = run_cli(["kb", "tag", "材料.txt", "--kind", "report", "--org", ""], monkeypatch, knowledge, data)
    assert res.exit_code == 0 and "未重算向量" in res.output
    listed = json.loads(run_cli(["kb", "list", "--kind", "report", "--json"], monkeypatch, knowledge, data).output)
    assert [(d["kind"], d["organisation"]) for d in listed["documents"]] == [("report", None)]


def test_cli_remove_lists_first_and_removes_only_with_yes(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    data = tmp_path / "data"
    assert run_cli(["ingest"], monkeypatch, knowledge, data).exit_code == 0

    def listed(*args):
        return json.loads(run_cli(["kb", "list", "--json", *args], monkeypatch, knowledge, data).output)

    total = listed()["total"]
    policies = listed("--folder", "policies")["total"]
    assert policies >= 1

    res = run_cli(["kb", "remove", "--org", "青石县"], monkeypatch, knowledge, data)
    assert refused(res, "目录、年度或类别")
    res = run_cli(["kb", "remove", "--folder", "policies", "--dry-run"], monkeypatch, knowledge, data)
    assert res.exit_code == 0 and f"将删除 {policies} 个文档" in res.output
    res = run_cli(["kb", "remove", "--folder", "policies"], monkeypatch, knowledge, data)  # not a terminal
    assert res.exit_code == 1 and "未删除" in res.output
    assert listed()["total"] == total
    res = run_cli(["kb", "remove", "--folder", "policies", "--yes"], monkeypatch, knowledge, data)
    assert res.exit_code == 0 and f"已从知识库删除 {policies} 个文档" in res.output
    assert listed()["total"] == total - policies and listed("--folder", "policies")["total"] == 0
    assert (knowledge / "policies").is_dir()  # the office's own files stay


def test_cli_list_pages(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    data = tmp_path / "data"
    run_cli(["ingest"], monkeypatch, knowledge, data)
    first = json.loads(run_cli(["kb", "list", "--per-page", "2", "--json"], monkeypatch, knowledge, data).output)
    second = json.loads(
        run_cli(["kb", "list", "--per-page", "2", "--page", "2", "--json"], monkeypatch, knowledge, data).output
    )
    assert first["pages"] >= 2 and len(first["documents"]) == 2
    assert {d["source"] for d in first["documents"]}.isdisjoint(d["source"] for d in second["documents"])


def test_the_listing_sees_what_another_process_removed(kb_env):
    settings, _, kb = kb_env
    listed = {d.source for d in kb.documents()}
    other = KnowledgeBase.open(settings, embedder=kb.embedder)  # as `huibao kb remove` would
    gone = sorted(listed)[0]
    other.delete_documents([gone])
    assert {d.source for d in kb.documents()} == listed - {gone}


def test_a_retag_by_another_process_shows_when_the_listing_is_read_fresh(kb_env):
    settings, _, kb = kb_env
    source = next(d.source for d in kb.documents() if d.kind == "policy")
    other = KnowledgeBase.open(settings, embedder=kb.embedder)
    retag(other, source, DocumentMeta(kind="other"))
    assert next(d for d in kb.documents(fresh=True) if d.source == source).kind == "other"


def test_front_matter_in_chinese_and_a_kind_folder_beat_the_guess(tmp_path):
    from assistant.kb.ingest import read_document

    note = tmp_path / "关于做好宣传工作的通知.md"  # the name alone says 政策文件
    note.write_text("---\n类别: 往年汇报\n年度: 2022年\n单位: 某县政协办\n---\n正文。\n", encoding="utf-8")
    doc = read_document(note)
    assert (doc.kind, doc.year, doc.organisation) == ("report", 2022, "某县政协办")
    # a value it cannot read is passed over (then guessed), the file is still ingested
    note.write_text("---\nkind: 年报\n---\n正文。\n", encoding="utf-8")
    assert read_document(note).kind == "policy"
    # other/ files stay 其他 whatever their title says; the person's word beats the folder
    assert read_document(note, source="other/关于做好宣传工作的通知.md").kind == "other"
    given = DocumentMeta(kind="report")
    assert read_document(note, source="other/关于做好宣传工作的通知.md", meta=given).kind == "report"


def test_cli_search_takes_the_kind_in_chinese(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    data = tmp_path / "data"
    run_cli(["ingest"], monkeypatch, knowledge, data)
    res = run_cli(["search", "宣传", "--kind", "往年汇报", "--json"], monkeypatch, knowledge, data)
    assert res.exit_code == 0 and {p["kind"] for p in json.loads(res.output)} == {"report"}
    assert refused(run_cli(["search", "宣传", "--kind", "年报"], monkeypatch, knowledge, data), "字段“--kind”")
