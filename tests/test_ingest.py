"""Ingest: reading files, 公文-aware chunking, metadata, incremental updates, skipped files, the CLI."""

from __future__ import annotations

import io
import re
import shutil

import pytest

from assistant.kb import cache
from assistant.kb.chunking import chunk_document, heading_level
from assistant.kb.embeddings import Embedder
from assistant.kb.ingest import SkipFile, chunks_for, decode_text, ingest, read_document
from assistant.kb.retrieve import KnowledgeBase
from tests.kb_fixtures.helpers import FIXTURES, copy_corpus, make_settings, run_cli

REPORT = FIXTURES / "past-reports" / "青石县人大常委会办公室2022年度宣传工作汇报.md"
SENTENCE_END = "。；！？;!?：:”）)"


@pytest.fixture()
def kb_env(tmp_path, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    settings = make_settings(tmp_path, knowledge)
    return settings, knowledge, KnowledgeBase.open(settings, embedder=embedder)


# ---------------------------------------------------------------- chunking


def test_heading_levels_recognise_gongwen_markers():
    assert heading_level("一、工作做法及成效")[:2] == (1, "一、工作做法及成效")
    assert heading_level("（二）抓新闻宣传，讲好人大故事。全年刊发稿件136篇。") == (
        2,
        "（二）抓新闻宣传，讲好人大故事",
        True,
    )
    assert heading_level("(一)着眼“培根铸魂”,筑牢理想信念之基")[0] == 2  # ASCII brackets from scraped text
    assert heading_level("1.加强队伍建设。举办培训班。")[:2] == (3, "1.加强队伍建设")
    assert heading_level("（3）完善制度")[0] == 4
    assert heading_level("第二章 内容管理")[0] == 1
    assert heading_level("1.5万人次参加活动。") is None  # a decimal is not a "1." heading
    assert heading_level("一是落实党组理论学习中心组制度。") is None
    assert heading_level("## 二、下一步打算")[:2] == (1, "二、下一步打算")


def test_report_chunks_carry_heading_paths_and_offsets():
    doc = read_document(REPORT, source="past-reports/x.md")
    chunks = chunks_for(doc)
    paths = [c.heading_path for c in chunks]
    assert "一、工作做法及成效 > （一）抓理论学习，筑牢思想根基" in paths
    # run-in heading: the heading is the first sentence, and that sentence stays in the text
    runin = next(c for c in chunks if c.heading_path == "一、工作做法及成效 > （二）抓新闻宣传，讲好人大故事")
    assert runin.text.startswith("（二）抓新闻宣传")
    # one-line enumerated items (1. 2. 3.) are folded into one chunk under their parent heading
    plans = [c for c in chunks if c.heading_path.startswith("三、2023年工作打算")]
    assert len(plans) == 1 and plans[0].heading_path == "三、2023年工作打算"
    assert "1.加强队伍建设" in plans[0].text and "3.健全考核机制" in plans[0].text
    assert paths[0] == ""  # the 导语 precedes every heading
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert "青石县人大常委会办公室2022年度宣传工作汇报" not in c.text  # the title is metadata
    # a full-line heading is not repeated as chunk text
    assert not any(c.text.startswith("一、工作做法及成效") for c in chunks)


def test_long_section_is_split_only_at_sentence_ends():
    sentences = [
        f"第{i}项措施落实到位，群众满意度明显提升，相关经验在全县推广{'。' if i % 3 else '；'}" for i in range(1, 41)
    ]
    body = "".join(sentences[:20]) + "\n" + "".join(sentences[20:])
    text = "一、主要做法\n\n（一）强化落实\n\n" + body + "\n\n（二）短小节\n\n只有一句话。\n"
    chunks = chunk_document(text)
    long = [c for c in chunks if c.heading_path.endswith("（一）强化落实")]
    assert len(long) >= 3
    assert all(len(c.text) <= 500 for c in long)
    for c in long:
        assert c.text[-1] in "。；"  # ends at a sentence end
        assert text[c.start - 1] in "。；\n"  # starts right after one
    # together the pieces cover every sentence exactly once
    assert "".join(c.text.replace("\n", "") for c in long) == body.replace("\n", "")
    short = [c for c in chunks if c.heading_path == "一、主要做法 > （二）短小节"]
    assert [c.text for c in short] == ["只有一句话。"]


def test_reference_style_ascii_punctuation_is_chunked():
    text = (
        "一、工作做法及成效\n\n(一)着眼“培根铸魂”,筑牢理想信念之基\n\n始终把理论学习作为首要任务,不断增强理论武装。"
        "一是抓住关键少数。二是注重宣传教育;三是精心研究阐释。\n"
    )
    chunks = chunk_document(text)
    assert [c.heading_path for c in chunks] == ["一、工作做法及成效 > (一)着眼“培根铸魂”,筑牢理想信念之基"]


# ---------------------------------------------------------------- metadata


def test_metadata_from_title_front_matter_and_folder():
    doc = read_document(REPORT, source="past-reports/青石县人大常委会办公室2022年度宣传工作汇报.md")
    assert (doc.kind, doc.year, doc.organisation) == ("report", 2022, "青石县人大常委会办公室")
    fm = read_document(FIXTURES / "past-reports" / "2021-zhengxie.md", source="other/2021-zhengxie.md")
    assert (fm.kind, fm.year, fm.organisation) == ("report", 2021, "政协青石县委员会办公室")  # front matter wins
    assert "kind:" not in fm.text and not fm.text.startswith("---")
    chunks = chunks_for(fm)
    assert chunks[0].heading_path == "一、主要工作"  # two short subsections, one chunk
    assert "（一）服务委员履职" in chunks[0].text and "（二）提升提案质量" in chunks[0].text
    other = read_document(FIXTURES / "other" / "办公室例会记录.txt", source="other/办公室例会记录.txt")
    assert (other.kind, other.year, other.organisation) == ("other", None, None)


def test_year_from_file_name(tmp_path):
    f = tmp_path / "2019年总结.txt"
    f.write_text("工作总结\n\n全年完成各项任务。\n", encoding="utf-8")
    assert read_document(f).year == 2019


# ---------------------------------------------------------------- reading formats


def test_gbk_and_gb18030_text_is_decoded(tmp_path):
    text = "青石县人大常委会办公室2022年度宣传工作汇报\n\n一、工作做法及成效\n\n全年组织机关集中学习24次。\n"
    (tmp_path / "gbk.txt").write_bytes(text.encode("gbk"))
    assert read_document(tmp_path / "gbk.txt").text == text
    rare = text + "䶮字辈的代表参加了座谈。\n"  # U+4DAE is outside GBK: GB18030 four-byte
    with pytest.raises(UnicodeEncodeError):
        rare.encode("gbk")
    (tmp_path / "gb18030.txt").write_bytes(rare.encode("gb18030"))
    assert read_document(tmp_path / "gb18030.txt").text == rare
    assert decode_text("\ufeff汇报".encode("utf-8")) == "汇报"


def test_docx_is_read_in_body_order(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("青石县2023年度工作汇报")
    d.add_paragraph("一、工作做法及成效")
    d.add_paragraph("（一）抓学习。全年组织学习24次，参学率百分之百。")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "数量"
    table.cell(1, 0).text, table.cell(1, 1).text = "新闻稿件", "136篇"
    d.add_paragraph("二、存在的问题")
    d.add_paragraph("宣传形式还比较单一。")
    d.save(tmp_path / "r.docx")
    doc = read_document(tmp_path / "r.docx")
    assert doc.title == "青石县2023年度工作汇报" and doc.year == 2023
    assert doc.text.index("新闻稿件\t136篇") < doc.text.index("二、存在的问题")
    paths = [c.heading_path for c in chunks_for(doc)]
    assert paths == ["一、工作做法及成效 > （一）抓学习", "二、存在的问题"]


def test_pdf_is_read():
    doc = read_document(FIXTURES / "files" / "archive-rules.pdf")
    assert doc.title == "青石县档案工作规定"
    chunks = chunks_for(doc)
    assert [c.heading_path for c in chunks] == ["一、归档范围", "二、保管期限"]
    assert "双套保存" in chunks[1].text


def _encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter(clone_from=str(FIXTURES / "files" / "archive-rules.pdf"))
    w.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_unreadable_files_raise_skipfile_with_chinese_reason(tmp_path):
    cases = {
        "empty.txt": (b"", "文件为空"),
        "blank.md": (b"  \n\n", "文件为空"),
        "broken.docx": (b"PK\x03\x04 this is not a real docx", "Word 文档"),
        "locked.pdf": (_encrypted_pdf("secret"), "加密"),
        "garbage.pdf": (b"%PDF-1.4 nonsense", "PDF"),
        "frontmatter.md": (b"---\nkind: [report\n---\n\xe6\x96\x87\xe5\xad\x97\n", "YAML"),
    }
    for name, (data, reason) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SkipFile) as err:
            read_document(tmp_path / name)
        assert reason in err.value.reason, name
    # an owner-password-only PDF opens without a password: it is read, not skipped
    (tmp_path / "owner-only.pdf").write_bytes(_encrypted_pdf(""))
    assert "归档范围" in read_document(tmp_path / "owner-only.pdf").text


# ---------------------------------------------------------------- ingest into the knowledge base


def test_ingest_is_incremental(kb_env):
    settings, knowledge, kb = kb_env
    events = []
    first = ingest(None, settings, kb=kb, progress=lambda label, done, total: events.append((label, done, total)))
    assert ("chunks", first.embedded, first.embedded) in events and first.embedded == first.chunks
    assert {label for label, _, _ in events if label.startswith("file:")} >= {f"file:{s}" for s in first.added}
    assert sorted(first.added) == sorted(
        p.relative_to(knowledge).as_posix() for p in knowledge.rglob("*") if p.is_file()
    )
    assert first.ok and first.chunks == first.total_chunks == kb.count() > 5
    docs = {d.source: d for d in kb.documents()}
    assert docs["policies/青石县政务新媒体管理办法.md"].kind == "policy"
    assert docs["past-reports/青石县人大常委会办公室2022年度宣传工作汇报.md"].year == 2022

    again = ingest(None, settings, kb=kb)
    assert again.added == again.updated == again.removed == [] and again.chunks == 0
    assert len(again.unchanged) == len(first.added)

    # change one paragraph of a report: that file is replaced, and only its changed chunk is embedded
    report = knowledge / "past-reports" / "青石县人大常委会办公室2022年度宣传工作汇报.md"
    report.write_text(
        report.read_text(encoding="utf-8").replace("全年推送信息420条", "全年推送信息480条"), encoding="utf-8"
    )
    (knowledge / "policies" / "青石县政务新媒体管理办法.md").unlink()
    (knowledge / "other" / "新增通知.txt").write_text(
        "关于开展读书月活动的通知\n\n各科室要组织干部读书交流。\n", encoding="utf-8"
    )
    changed = ingest(None, settings, kb=kb)
    assert changed.updated == ["past-reports/青石县人大常委会办公室2022年度宣传工作汇报.md"]
    assert changed.removed == ["policies/青石县政务新媒体管理办法.md"]
    assert changed.added == ["other/新增通知.txt"]
    assert changed.embedded == 2  # the edited chunk + the new file's chunk; the rest came from the cache
    sources = {d.source for d in kb.documents()}
    assert "policies/青石县政务新媒体管理办法.md" not in sources and "other/新增通知.txt" in sources
    hits = kb.search("全年推送信息多少条", 3, kind="report")
    assert any("480条" in p.text for p in hits) and not any("420条" in p.text for p in hits)


def test_ingest_skips_bad_files_and_ingests_the_rest(kb_env):
    settings, knowledge, kb = kb_env
    (knowledge / "other" / "empty.txt").write_bytes(b"")
    (knowledge / "other" / "broken.docx").write_bytes(b"PK\x03\x04broken")
    (knowledge / "policies" / "locked.pdf").write_bytes(_encrypted_pdf("secret"))
    (knowledge / "other" / "picture.png").write_bytes(b"\x89PNG")
    shutil.copy(FIXTURES / "files" / "archive-rules.pdf", knowledge / "policies" / "archive-rules.pdf")
    report = ingest(None, settings, kb=kb)
    skipped = dict(report.skipped)
    assert set(skipped) == {"other/empty.txt", "other/broken.docx", "policies/locked.pdf"}
    assert "加密" in skipped["policies/locked.pdf"]
    assert report.ignored == ["other/picture.png"]
    assert "policies/archive-rules.pdf" in report.added and not report.ok
    assert {d.source for d in kb.documents()} == set(report.added)


def test_ingest_external_folder_does_not_touch_other_documents(kb_env, tmp_path):
    settings, knowledge, kb = kb_env
    ingest(None, settings, kb=kb)
    before = kb.count()
    extra = tmp_path / "incoming"
    extra.mkdir()
    (extra / "a.txt").write_text("外来材料\n\n档案移交工作按期完成。\n", encoding="utf-8")
    rep = ingest([extra], settings, kb=kb)
    assert rep.added == ["incoming/a.txt"] and rep.removed == []
    (extra / "a.txt").unlink()
    rep = ingest([extra], settings, kb=kb)
    assert rep.removed == ["incoming/a.txt"] and kb.count() == before


def test_ingest_missing_path_is_an_input_error(tmp_path):
    from assistant.core.errors import InputError

    with pytest.raises(InputError, match="路径不存在"):
        ingest([tmp_path / "nope"], make_settings(tmp_path))


class _CountingEmbedder:
    """Deterministic vectors; records the size of every embedding call."""

    name = "counting"
    batch_size = 5

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_documents_array(self, texts):
        import numpy as np

        self.calls.append(len(texts))
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(8) for t in texts]
        vecs = np.asarray(rng, dtype=np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    def embed_query_array(self, text):
        return self.embed_documents_array([text])[0]

    def embed_documents(self, texts):
        return self.embed_documents_array(texts).tolist()

    def embed_query(self, text):
        return self.embed_query_array(text).tolist()


def test_ingest_embeds_in_the_embedders_batches_and_warms_the_token_cache(tmp_path, monkeypatch):
    emb = _CountingEmbedder()
    assert isinstance(emb, Embedder)
    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    kb = KnowledgeBase.open(settings, embedder=emb)
    ticks = []
    report = ingest(None, settings, kb=kb, progress=lambda label, done, total: ticks.append((label, done)))
    # one call per batch of the embedder's own size (an OpenAI endpoint takes 64 at a time, not 32)
    assert emb.calls and max(emb.calls) == emb.batch_size and sum(emb.calls) == report.embedded
    assert [d for label, d in ticks if label == "chunks"][:3] == [0, 5, 10]
    # the BM25 tokens were cached at ingest under the same keys that building the index looks up:
    # the search index, removed, is rebuilt from the collection without tokenising a chunk again
    monkeypatch.setattr(cache, "tokenize", lambda text: pytest.fail("chunk tokenised again"))
    shutil.rmtree(settings.data_dir / "index")
    hits = KnowledgeBase.open(settings, embedder=emb).search("新闻发布会", 3, mode="bm25")
    assert hits and "新闻" in hits[0].text


# ---------------------------------------------------------------- CLI


def test_cli_ingest_summary_and_exit_codes(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    res = run_cli(["ingest"], monkeypatch, knowledge, tmp_path / "data")
    assert res.exit_code == 0, res.output
    assert "新增" in res.output and "分块总数" in res.output
    row = re.search(r"│\s*(\d+)\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*0\s*│", res.output)
    assert row and int(row.group(1)) == 4

    (knowledge / "other" / "empty.txt").write_bytes(b"")
    res = run_cli(["ingest"], monkeypatch, knowledge, tmp_path / "data")
    assert res.exit_code == 1
    assert "other/empty.txt" in res.output and "文件为空" in res.output
