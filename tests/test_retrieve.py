"""Retrieval: hybrid search, filters on both arms, document listing/deletion, embedders, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.core.errors import HuibaoError, ModelError, StoreError
from assistant.core.settings import Settings
from assistant.kb.embeddings import E5Embedder, embedder_name, get_embedder
from assistant.kb.ingest import ingest, open_knowledge_base
from assistant.kb.retrieve import KnowledgeBase, collection_name, rrf
from assistant.kb.search_text import tokenize
from assistant.llm.embeddings import make_embedder
from assistant.testing.openai_server import embed_text, settings_for
from evals.retrieval import scoring
from tests.kb_fixtures.helpers import copy_corpus, make_settings, run_cli

REPORT = "past-reports/青石县人大常委会办公室2022年度宣传工作汇报.md"
ZHENGXIE = "past-reports/2021-zhengxie.md"
POLICY = "policies/青石县政务新媒体管理办法.md"


@pytest.fixture(scope="module")
def kb(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("kb")
    knowledge = copy_corpus(root / "knowledge")
    settings = make_settings(root, knowledge)
    base = KnowledgeBase.open(settings, embedder=embedder)
    assert ingest(None, settings, kb=base).ok
    return base


def test_search_finds_the_passage_with_its_metadata(kb):
    hits = kb.search("微信公众号推送信息和阅读量", k=3)
    top = hits[0]
    assert top.source == REPORT
    assert top.heading_path == "一、工作做法及成效 > （三）抓阵地建设，拓展传播渠道"
    assert "65万人次" in top.text
    assert (top.kind, top.year, top.organisation) == ("report", 2022, "青石县人大常委会办公室")
    assert top.score > 0 and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_apply_to_every_arm(kb, mode):
    query = "政务新媒体信息发布审核"
    assert all(p.kind == "report" for p in kb.search(query, 10, kind="report", mode=mode))
    pol = kb.search(query, 10, kind="policy", mode=mode)
    assert pol and {p.source for p in pol} == {POLICY}
    y = kb.search("委员视察调研", 10, year=2021, mode=mode)
    assert y and {p.source for p in y} == {ZHENGXIE}
    org = kb.search("提案办理", 10, organisation="政协青石县", mode=mode)  # a part of the name is enough
    assert {p.source for p in org} == {ZHENGXIE}
    assert kb.search(query, 5, year=1999, mode=mode) == []


def test_hybrid_combines_keyword_and_semantic_hits(kb):
    # an exact rare term (BM25 arm) and a paraphrase (dense arm) are both found
    assert kb.search("一稿一审", 3)[0].source == POLICY
    assert kb.search("年度文书归档", 3)[0].source == "other/办公室例会记录.txt"


def test_rrf_rewards_agreement():
    fused = rrf([[("a", 0.9), ("b", 0.8), ("c", 0.1)], [("d", 5.0), ("b", 4.0)]], k=60)
    assert [cid for cid, _ in fused] == ["b", "a", "d", "c"]  # b is second in both: it wins
    assert fused[0][1] == pytest.approx(2 / 62)
    # a weighted arm's first place beats a chunk both arms rank low
    dense = [(f"d{i}", 1.0) for i in range(9)] + [("z", 1.0)]
    bm25 = [("a", 1.0)] + [(f"b{i}", 1.0) for i in range(8)] + [("z", 1.0)]
    weighted = rrf([dense, bm25], k=10, weights=[1, 2])
    assert weighted[0][0] == "a" and weighted[0][1] == pytest.approx(2 / 11)
    assert [c for c, _ in rrf([dense, bm25], k=60)][0] == "z"  # plain RRF prefers the mediocre one


def test_tokenize_drops_punctuation_and_stop_words():
    toks = tokenize("全年组织新闻发布会12次，进一步加强宣传工作。")
    assert {"新闻", "发布会", "12"} <= set(toks)
    assert not {"，", "。", "进一步", "一步", "工作"} & set(toks)


def test_search_terms_are_jiebas_search_mode_words():
    # BM25 terms come from jieba-rs; on the knowledge base's own text it must give jieba's words
    # (else recall, tuned on jieba's, moves): the same multiset on at least 99.5 % of the tokens
    from collections import Counter

    from assistant.core.segment import get_jieba, search_terms

    jieba = get_jieba()
    ours = theirs = common = 0
    for path in sorted(Path("knowledge").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            a, b = Counter(search_terms(line)), Counter(jieba.cut_for_search(line))
            ours, theirs, common = ours + a.total(), theirs + b.total(), common + (a & b).total()
    assert theirs > 10_000
    assert common >= 0.995 * theirs and common >= 0.995 * ours


def test_an_index_of_the_old_segmenter_is_rebuilt(tmp_path, embedder):
    # a data folder written when BM25 terms came from jieba: its token cache is dropped and the
    # index rebuilt with the current terms, without a new ingest
    knowledge = copy_corpus(tmp_path / "knowledge")
    settings = make_settings(tmp_path, knowledge)
    assert ingest(None, settings, kb=KnowledgeBase.open(settings, embedder=embedder)).ok
    data = settings.data_dir
    states = list(data.rglob("state.json"))
    assert states
    for state in states:
        old = json.loads(state.read_text(encoding="utf-8"))
        state.write_text(json.dumps({**old, "format": 1}), encoding="utf-8")
    (data / "bm25-tokens.sqlite3").write_bytes(b"old tokens")
    kb = KnowledgeBase.open(settings, embedder=embedder)
    assert kb.search("一稿一审", 3, mode="bm25")[0].source == POLICY
    assert not (data / "bm25-tokens.sqlite3").exists()
    assert all(json.loads(s.read_text(encoding="utf-8"))["format"] == 2 for s in data.rglob("state.json"))


def test_a_search_process_does_not_load_jieba_or_onnxruntime(tmp_path, monkeypatch, embedder):
    # jieba's dictionary takes ~0.9 s to load; a search segments with jieba-rs (~0.1 s) instead
    knowledge = copy_corpus(tmp_path / "knowledge")
    assert run_cli(["ingest"], monkeypatch, knowledge, tmp_path / "data").exit_code == 0
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom assistant.commands.main import app\n"
        "res = CliRunner().invoke(app, ['search', '一稿一审', '--k', '1'])\n"
        "print(res.exit_code, 'jieba' in sys.modules, 'rjieba' in sys.modules, 'onnxruntime' in sys.modules, res.output)"
    )
    env = {**os.environ, "HUIBAO_KNOWLEDGE_DIR": str(knowledge), "HUIBAO_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    # nor onnxruntime: only a batch of documents is embedded with its products (kb/use_products.py)
    assert out.stdout.startswith("0 False True False"), out.stdout + out.stderr
    assert POLICY in out.stdout


def test_documents_and_delete(tmp_path, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    settings = make_settings(tmp_path, knowledge)
    kb = KnowledgeBase.open(settings, embedder=embedder)
    ingest(None, settings, kb=kb)
    docs = {d.source: d for d in kb.documents()}
    assert set(docs) == {REPORT, ZHENGXIE, POLICY, "other/办公室例会记录.txt"}
    assert docs[ZHENGXIE].organisation == "政协青石县委员会办公室" and docs[ZHENGXIE].chunks >= 2
    assert len(docs[POLICY].sha256) == 64
    kb.delete_document(POLICY)
    assert POLICY not in {d.source for d in kb.documents()}
    assert all(p.source != POLICY for p in kb.search("政务新媒体一稿一审", 10))
    # reopening sees the same persisted state
    again = KnowledgeBase.open(settings, embedder=embedder)
    assert again.count() == kb.count() and not again.is_empty()


def test_rankings_are_the_arms_of_search(kb):
    query = "政务新媒体信息发布审核"
    dense = kb.dense_ranking(query, 5, kind="report")
    assert [cid for cid, _ in dense] == [p.id for p in kb.search(query, 5, kind="report", mode="dense")]
    bm25 = kb.bm25_ranking(query, 5, year=2022)
    assert [cid for cid, _ in bm25] == [p.id for p in kb.search(query, 5, year=2022, mode="bm25")]
    assert bm25 and all(score > 0 for _, score in bm25)


def test_opening_the_knowledge_base_does_not_load_the_embedder(tmp_path, embedder):
    built = []

    def make(settings):
        built.append(settings.embedding)
        return embedder

    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    kb = KnowledgeBase.open(settings, make_embedder=make)
    assert kb.is_empty() and kb.documents() == [] and kb.manifest() == {}
    assert not built  # listing waits for no model
    assert ingest(None, settings, kb=kb).ok and built == ["use"]
    assert KnowledgeBase.open(settings, make_embedder=make).search("委员视察调研", 3, mode="bm25")
    assert built == ["use"]  # keyword search needs no vectors either


def test_open_knowledge_base_fills_an_empty_index_when_asked(tmp_path, embedder):
    settings = make_settings(tmp_path, copy_corpus(tmp_path / "knowledge"))
    assert open_knowledge_base(settings, make_embedder=lambda s: embedder) is None
    notices = []
    kb = open_knowledge_base(
        settings, make_embedder=lambda s: embedder, ingest_if_empty=True, before_ingest=lambda: notices.append(1)
    )
    assert kb is not None and notices == [1] and kb.count() > 0
    assert open_knowledge_base(settings, ingest_if_empty=True, before_ingest=lambda: notices.append(2)) is not None
    assert notices == [1]  # not empty any more: nothing ingested again


def test_different_embedders_use_separate_collections(tmp_path):
    s = Settings(data_dir=tmp_path)
    assert collection_name(s, "use") != collection_name(s, "e5")
    assert collection_name(s, "openai-bge-m3") == "knowledge-openai-bge-m3"


# ---------------------------------------------------------------- OpenAI-compatible /embeddings


def test_openai_compatible_embedder_over_http(fake_openai):  # noqa: F811
    """bge-m3 on vLLM / Xinference: the real SDK path through assistant.llm, against a real server."""
    fake_openai.require_key = "test-key"
    settings = settings_for(fake_openai, embedding="openai", embedding_model="bge-m3", max_retries=1)
    emb = make_embedder(settings)
    assert make_embedder(settings) is emb  # one per endpoint, model and key
    vecs = emb.embed_documents(["新闻发布会", "代表联络站"])
    for text, vec in zip(["新闻发布会", "代表联络站"], vecs):  # order kept, unit length
        expected = np.asarray(embed_text(text, fake_openai.embedding_dim), dtype=np.float32)
        assert np.allclose(vec, expected / np.linalg.norm(expected), atol=1e-5)
    request = fake_openai.requests[-1]
    assert request.path == "/v1/embeddings" and request.json["model"] == "bge-m3" and request.authorization_ok
    fake_openai.enqueue_embedding_error(503)  # retried, then answered
    assert np.allclose(emb.embed_query("新闻发布会"), vecs[0], atol=1e-5)
    with pytest.raises(ModelError, match="API Key") as err:
        make_embedder(settings_for(fake_openai, api_key="wrong-key-123", embedding="openai")).embed_query("甲")
    assert "wrong-key-123" not in str(err.value)
    closed = settings_for(fake_openai, api_key="other-key", embedding="openai", max_retries=0)
    fake_openai.stop()
    with pytest.raises(ModelError, match="无法连接"):
        make_embedder(closed).embed_query("甲")


def test_embedder_name_is_known_before_the_model_loads(embedder, fake_openai):  # noqa: F811
    assert embedder.name == embedder_name(Settings(embedding="use")) == "use"
    openai = settings_for(fake_openai, embedding="openai", embedding_model="bge-m3")
    assert make_embedder(openai).name == embedder_name(openai) == "openai-bge-m3"


def test_the_model_layer_wires_the_openai_embedder(embedder, fake_openai):  # noqa: F811
    # the bundled models need no model layer; an endpoint does, and the knowledge base says so
    assert make_embedder(Settings(embedding="use")) is get_embedder(Settings(embedding="use")) is embedder
    openai = settings_for(fake_openai, embedding="openai", embedding_model="bge-m3")
    with pytest.raises(HuibaoError, match="make_embedder"):
        get_embedder(openai)
    assert get_embedder(openai, remote=make_embedder) is make_embedder(openai)


def test_e5_embedder_uses_prefixes():
    e5 = E5Embedder()
    q = np.array(e5.embed_query("新闻发布会"))
    p = np.array(e5.embed_documents(["新闻发布会"])[0])
    assert q.shape == (384,) and abs(np.linalg.norm(q) - 1) < 1e-4
    assert not np.allclose(q, p)  # "query: " and "passage: " prefixes differ


# ---------------------------------------------------------------- Chroma over HTTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_http_chroma_server(tmp_path, embedder):
    chroma = Path(os.sys.executable).parent / "chroma"
    if not chroma.exists() and not shutil.which("chroma"):
        pytest.skip("chroma CLI not installed")
    port = _free_port()
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    proc = subprocess.Popen(
        [
            str(chroma if chroma.exists() else "chroma"),
            "run",
            "--path",
            str(tmp_path / "srv"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.skip("chroma run did not start within 20 s")
        knowledge = copy_corpus(tmp_path / "knowledge")
        settings = make_settings(tmp_path, knowledge, chroma_mode="http", chroma_port=port)
        kb = KnowledgeBase.open(settings, embedder=embedder)
        assert ingest(None, settings, kb=kb).ok
        assert kb.search("委员视察调研", 3, year=2021)[0].source == ZHENGXIE
        assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally
        # the server keeps the chunk texts (other workstations build their index from them)
        some = kb._collection.get(limit=5, include=["documents"])
        assert len(some["ids"]) == 5 and all(some["documents"])
        # the dense arm is an exact search over this workstation's int8 copy of the server's
        # vectors: the same ranking as an embedded knowledge base's float32 search
        assert list((tmp_path / "data" / "index").rglob("vectors-int8.npy"))
        local = KnowledgeBase.open(make_settings(tmp_path / "embedded", knowledge), embedder=embedder)
        assert ingest(None, local.settings, kb=local).ok
        for query, filters in [("委员视察调研", {}), ("新闻发布会 次数", {"kind": "report"})]:
            served, exact = kb.dense_ranking(query, 10, **filters), local.dense_ranking(query, 10, **filters)
            assert [cid for cid, _ in served] == [cid for cid, _ in exact]
            assert np.allclose([s for _, s in served], [s for _, s in exact], atol=2e-3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_http_chroma_unreachable_is_a_store_error(tmp_path):
    settings = make_settings(tmp_path, chroma_mode="http", chroma_port=_free_port())
    with pytest.raises(StoreError, match="无法连接 Chroma 服务"):
        KnowledgeBase.open(settings)


# ---------------------------------------------------------------- CLI


def test_cli_search_on_empty_knowledge_base(tmp_path, monkeypatch):
    res = run_cli(["search", "新闻发布会"], monkeypatch, tmp_path / "knowledge", tmp_path / "data")
    assert res.exit_code == 1
    assert "知识库为空" in res.output and "huibao ingest" in res.output


def test_cli_search_prints_passages_and_json(tmp_path, monkeypatch, embedder):
    knowledge = copy_corpus(tmp_path / "knowledge")
    assert run_cli(["ingest"], monkeypatch, knowledge, tmp_path / "data").exit_code == 0
    res = run_cli(["search", "委员视察调研", "--k", "2"], monkeypatch, knowledge, tmp_path / "data")
    assert res.exit_code == 0, res.output
    assert ZHENGXIE in res.output and "一、主要工作" in res.output and "得分" in res.output
    res = run_cli(["search", "委员视察调研", "--json", "--kind", "policy"], monkeypatch, knowledge, tmp_path / "data")
    rows = json.loads(res.output)
    assert rows and all(r["kind"] == "policy" for r in rows)
    assert set(rows[0]) >= {"id", "text", "source", "heading_path", "score", "start", "end", "year"}
    res = run_cli(["search", "委员", "--kind", "novel"], monkeypatch, knowledge, tmp_path / "data")
    assert res.exit_code != 0


# ---------------------------------------------------------------- the labelled-query scorer


def test_scorer_matches_by_source_and_phrase(tmp_path):
    from types import SimpleNamespace as P

    f = tmp_path / "queries-x.yaml"
    f.write_text(
        "- query: 新闻发布会\n  kind: report\n  relevant:\n"
        "    - {source: a.md, contains: 召开新闻发布会9次}\n    - {source: b.md, contains: 发布会 10 次}\n",
        encoding="utf-8",
    )
    queries = scoring.load_queries([f])
    assert queries[0].filters == {"kind": "report"}
    seen = {}

    def search(q, k, **filters):
        seen.update(filters)
        return [
            P(source="c.md", text="召开新闻发布会9次"),  # right phrase, wrong file
            P(source="a.md", text="全年召开新闻发布会9次。"),
            P(source="b.md", text="发布会10次"),
        ] + [P(source="z.md", text="")] * 7  # whitespace ignored

    s = scoring.score(queries, search)
    assert seen == {"kind": "report"}
    assert (s.recall_at_5, s.mrr) == (1.0, 0.5)
    s = scoring.score(queries, lambda q, k, **f: search(q, k)[::-1])  # relevant ones now ranked 8 and 9
    assert s.recall_at_5 == 0.0 and s.mrr == pytest.approx(1 / 8) and s.misses == ["新闻发布会"]
    bad = tmp_path / "queries-bad.yaml"
    bad.write_text("- query: 无标注\n", encoding="utf-8")
    with pytest.raises(scoring.QueryFileError):
        scoring.load_queries([bad])
