"""The knowledge base: chunks in Chroma (vectors + metadata + text) and hybrid retrieval.

Chroma is the single source of truth — chunk text, metadata and each file's sha256 all live in
the collection — so an office sharing one Chroma server sees one consistent index, and the
ingest manifest (source -> sha256, origin) is read back from it rather than kept beside it.
Vectors are computed by our own embedder and passed in: Chroma's default embedding function
(which downloads a model) is never instantiated.

Retrieval = dense (Chroma cosine) + BM25 over jieba tokens, fused by reciprocal rank fusion;
the kind / year / organisation filters apply to both arms.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import BaseModel

from assistant.core.errors import HuibaoError, StoreError
from assistant.core.settings import Settings
from assistant.kb.embeddings import embedder_name

Kind = Literal["report", "policy", "other"]
# Fusion parameters, tuned on evals/retrieval (bench/bench_retrieval.py): with a small k the top
# ranks dominate, so a chunk both arms rank mediocre no longer beats one that an arm ranks first;
# BM25 weighs more because 公文 queries are mostly exact terms (会议名称, 栏目, 指标) that the
# sentence encoders blur. Standard RRF (k=60, equal weights) scored recall@5 0.88 vs 0.90 here.
RRF_K = 10
BM25_WEIGHT = 1.5
CANDIDATES = 50  # each arm contributes its top-N to the fusion


class Passage(BaseModel):
    id: str
    text: str
    source: str  # path relative to the knowledge root
    heading_path: str  # "一、… > （二）…"
    kind: Kind
    year: int | None = None
    organisation: str | None = None
    start: int
    end: int
    score: float = 0.0


class DocumentInfo(BaseModel):
    source: str
    kind: Kind
    year: int | None = None
    organisation: str | None = None
    title: str | None = None
    chunks: int
    sha256: str


# ---------------------------------------------------------------- BM25 tokenisation

_jieba_lock = threading.Lock()
_jieba = None
# Function words, enumeration markers, question words and the verbs every 公文 sentence uses: they
# match everything and only add noise (measured: BM25 recall@5 0.858 -> 0.867 on evals/retrieval).
_STOP = set(
    "的 了 和 与 及 等 在 是 对 把 为 以 并 将 于 也 而 或 其 之 中 上 下 年 有 由 从 被 向 着 个 这 那 "
    "我们 进一步 一步 不断 一是 二是 三是 四是 五是 一方面 另一方面 工作 方面 进行 开展 持续 加强 推进 "
    "情况 如何 怎么 怎样 多少 哪些 什么 次数 有关 相关 主要 做好 提升 提高 坚持 围绕 全年 组织".split()
)
_KEEP = re.compile(r"[\w]", re.UNICODE)


def _get_jieba():
    """jieba, initialised once and quietly (it logs its dictionary loading to stderr)."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # jieba imports the deprecated pkg_resources
                import jieba
            jieba.setLogLevel(logging.WARNING)
            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lower-cased, without punctuation, whitespace and stop words."""
    jieba = _get_jieba()
    out = []
    for tok in jieba.cut_for_search(text):
        tok = tok.strip().lower()
        if tok and _KEEP.search(tok) and tok not in _STOP:
            out.append(tok)
    return out


# ---------------------------------------------------------------- Chroma client


def collection_name(settings: Settings, embedder: str) -> str:
    """One collection per embedder name: vectors of different models (and sizes) never mix."""
    name = re.sub(r"[^a-zA-Z0-9._-]", "-", f"{settings.collection}-{embedder}").strip("-._")
    return name if len(name) >= 3 else name + "-kb"


def make_client(settings: Settings):
    # chromadb reads this when it is imported: it must be set before, whoever opens the store
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_mode == "http":
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as err:
            raise StoreError(
                f"无法连接 Chroma 服务 {settings.chroma_host}:{settings.chroma_port}（{type(err).__name__}）。"
                f"请确认服务已启动（chroma run --path <目录> --port {settings.chroma_port}），"
                "或把 chroma_mode 设为 embedded 使用本机知识库。"
            ) from err
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as err:
        raise StoreError(f"无法打开知识库目录 {settings.chroma_dir}：{err}") from err


def text_key(text: str) -> str:
    """Cache key of a search text (BM25 tokens here, vectors in ingest's embedding cache)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TokenCache:
    """sha256(search text) -> BM25 tokens, in SQLite under data_dir: jieba is the slow part of opening
    a large knowledge base (~10 s for 10,000 chunks), so each chunk is tokenised once, at ingest."""

    SEP = "\x1f"

    def __init__(self, data_dir) -> None:
        import sqlite3

        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(data_dir / "bm25-tokens.sqlite3"), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, toks TEXT)")

    def tokens_for(self, texts: list[str], keys: list[str] | None = None) -> list[list[str]]:
        """Tokens of each text, from the cache or computed (and then cached). `keys`: the texts'
        text_key() when the caller already has them (ingest hashes them for the embedding cache)."""
        keys = keys if keys is not None else [text_key(t) for t in texts]
        found: dict[str, list[str]] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            q = f"SELECT key, toks FROM tokens WHERE key IN ({','.join('?' * len(part))})"
            for k, toks in self._db.execute(q, part):
                found[k] = toks.split(self.SEP) if toks else []
        new = {}
        for k, t in zip(keys, texts):
            if k not in found and k not in new:
                new[k] = tokenize(t)
        if new:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO tokens VALUES (?, ?)", [(k, self.SEP.join(v)) for k, v in new.items()]
                )
        found.update(new)
        return [found[k] for k in keys]

    def close(self) -> None:
        self._db.close()


class _Records:
    """All chunks of the collection in memory (text + metadata) with the BM25 index over them, and
    (loaded on the first filtered query) their vectors."""

    def __init__(self, ids: list[str], docs: list[str], metas: list[dict], data_dir) -> None:
        self.ids, self.docs, self.metas = ids, docs, metas
        self.index = {cid: i for i, cid in enumerate(ids)}
        self._data_dir = data_dir
        self._bm25 = None
        self._vectors: np.ndarray | None = None
        self.masks: dict[tuple, np.ndarray] = {}
        self._lock = threading.Lock()

    def bm25(self):
        with self._lock:
            if self._bm25 is None and self.ids:
                import bm25s

                texts = [_search_text(d, m) for d, m in zip(self.docs, self.metas)]
                cache = TokenCache(self._data_dir)
                try:
                    corpus = cache.tokens_for(texts)
                finally:
                    cache.close()
                bm = bm25s.BM25()
                bm.index([toks or ["\u0000"] for toks in corpus], show_progress=False)
                self._bm25 = bm
            return self._bm25

    def vectors(self, collection) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                got = collection.get(include=["embeddings"])
                order = [self.index[cid] for cid in got["ids"]]
                vecs = np.zeros((len(self.ids), len(got["embeddings"][0])), dtype=np.float32)
                vecs[order] = np.asarray(got["embeddings"], dtype=np.float32)
                self._vectors = vecs
            return self._vectors


def _search_text(text: str, meta: dict) -> str:
    """What is embedded and BM25-indexed: the title and heading path give a chunk its context."""
    head = " ".join(x for x in (meta.get("title"), meta.get("heading_path")) if x)
    return f"{head}\n{text}" if head else text


class KnowledgeBase:
    def __init__(self, settings: Settings, collection, embedder=None) -> None:
        self.settings = settings
        self._collection = collection
        self._embedder = embedder
        self._records: _Records | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, embedder=None) -> KnowledgeBase:
        """Open (creating if needed) the collection for the configured embedder. The model itself
        is loaded on first use, so listing documents never waits for it."""
        client = make_client(settings)
        name = collection_name(settings, embedder.name if embedder is not None else embedder_name(settings))
        try:
            collection = client.get_or_create_collection(
                name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        except Exception as err:
            raise StoreError(f"无法打开知识库集合“{name}”：{err}") from err
        return cls(settings, collection, embedder)

    # ------------------------------------------------------------ properties

    @property
    def embedder(self):
        if self._embedder is None:
            from assistant.kb.embeddings import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    def _load(self) -> _Records:
        with self._lock:
            if self._records is None:
                got = self._collection.get(include=["documents", "metadatas"])
                self._records = _Records(
                    list(got["ids"]), list(got["documents"] or []), list(got["metadatas"] or []), self.settings.data_dir
                )
            return self._records

    def _invalidate(self) -> None:
        with self._lock:
            self._records = None

    # ------------------------------------------------------------ listing / manifest

    def is_empty(self) -> bool:
        return self._collection.count() == 0

    def count(self) -> int:
        return self._collection.count()

    def manifest(self) -> dict[str, dict]:
        """source -> {"sha256", "origin"} read from the chunk metadata (no text, fast)."""
        got = self._collection.get(include=["metadatas"])
        out: dict[str, dict] = {}
        for meta in got["metadatas"] or []:
            out.setdefault(
                meta["source"], {"sha256": meta.get("sha256", ""), "origin": meta.get("origin", "knowledge")}
            )
        return out

    def documents(self) -> list[DocumentInfo]:
        got = self._collection.get(include=["metadatas"])
        docs: dict[str, DocumentInfo] = {}
        for meta in got["metadatas"] or []:
            src = meta["source"]
            if src not in docs:
                docs[src] = DocumentInfo(
                    source=src,
                    kind=meta.get("kind", "other"),
                    year=meta.get("year"),
                    organisation=meta.get("organisation"),
                    title=meta.get("title"),
                    chunks=0,
                    sha256=meta.get("sha256", ""),
                )
            docs[src].chunks += 1
        return sorted(docs.values(), key=lambda d: d.source)

    def delete_document(self, source: str) -> None:
        try:
            self._collection.delete(where={"source": source})
        except Exception as err:
            raise StoreError(f"无法从知识库删除 {source}：{err}") from err
        self._invalidate()

    def add_chunks(self, ids: list[str], texts: list[str], metadatas: list[dict], embeddings: np.ndarray) -> None:
        """Write chunks with precomputed vectors (batched: Chroma caps one add)."""
        step = 1000
        try:
            for i in range(0, len(ids), step):
                self._collection.add(
                    ids=ids[i : i + step],
                    documents=texts[i : i + step],
                    metadatas=metadatas[i : i + step],
                    embeddings=np.asarray(embeddings[i : i + step], dtype=np.float32),
                )
        except Exception as err:
            raise StoreError(f"写入知识库失败：{err}") from err
        self._invalidate()

    # ------------------------------------------------------------ search

    def _allowed(self, rec: _Records, kind, year, organisation) -> np.ndarray | None:
        if kind is None and year is None and organisation is None:
            return None
        key = (kind, None if year is None else int(year), organisation)
        if key in rec.masks:  # both arms and repeated queries share the mask
            return rec.masks[key]
        mask = np.ones(len(rec.ids), dtype=bool)
        for i, m in enumerate(rec.metas):
            if kind is not None and m.get("kind") != kind:
                mask[i] = False
            elif year is not None and m.get("year") != int(year):
                mask[i] = False
            elif organisation is not None and organisation not in (m.get("organisation") or ""):
                mask[i] = False
        if len(rec.masks) < 64:
            rec.masks[key] = mask
        return mask

    def dense_ranking(
        self, query: str, n: int, *, kind=None, year=None, organisation=None, _rec: _Records | None = None
    ) -> list[tuple[str, float]]:
        rec = _rec or self._load()
        mask = self._allowed(rec, kind, year, organisation)
        available = int(mask.sum()) if mask is not None else len(rec.ids)
        if available == 0:
            return []
        qvec = self._query_vector(query)
        if mask is not None:
            # Filtered: exact search over the allowed chunks in memory. Chroma's filtered query costs
            # 25-35 ms at 10,000 chunks (p95 > 100 ms on a busy machine); a matrix product costs ~2 ms.
            sims = rec.vectors(self._collection) @ np.asarray(qvec, dtype=np.float32)
            sims = np.where(mask, sims, -np.inf)
            n = min(n, available)
            top = np.argpartition(-sims, n - 1)[:n]
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(rec.ids[i], float(sims[i])) for i in top]
        try:
            res = self._collection.query(query_embeddings=[qvec], n_results=min(n, available), include=["distances"])
        except Exception as err:
            raise StoreError(f"知识库检索失败：{err}") from err
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]

    def _query_vector(self, query: str) -> np.ndarray:
        return self.embedder.embed_query_array(query)

    def bm25_ranking(
        self, query: str, n: int, *, kind=None, year=None, organisation=None, _rec: _Records | None = None
    ) -> list[tuple[str, float]]:
        rec = _rec or self._load()
        bm = rec.bm25()
        tokens = tokenize(query)
        if bm is None or not tokens:
            return []
        scores = np.asarray(bm.get_scores(tokens), dtype=np.float64)
        mask = self._allowed(rec, kind, year, organisation)
        if mask is not None:
            scores = np.where(mask, scores, -1.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(rec.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        kind: Kind | None = None,
        year: int | None = None,
        organisation: str | None = None,
        mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
    ) -> list[Passage]:
        """Top-k passages for the query; `score` is the fused RRF score (or the arm's own score)."""
        query = (query or "").strip()
        if not query or k <= 0:
            return []
        rec = self._load()
        if not rec.ids:
            return []
        filt = dict(kind=kind, year=year, organisation=organisation)
        n = max(CANDIDATES, k * 4)
        if mode == "dense":
            fused = self.dense_ranking(query, k, **filt, _rec=rec)
        elif mode == "bm25":
            fused = self.bm25_ranking(query, k, **filt, _rec=rec)
        else:
            fused = rrf(
                [self.dense_ranking(query, n, **filt, _rec=rec), self.bm25_ranking(query, n, **filt, _rec=rec)],
                weights=[1.0, BM25_WEIGHT],
            )
        return [self._passage(rec, cid, score) for cid, score in fused[:k]]

    @staticmethod
    def _passage(rec: _Records, cid: str, score: float) -> Passage:
        i = rec.index[cid]
        m = rec.metas[i]
        return Passage(
            id=cid,
            text=rec.docs[i],
            source=m["source"],
            heading_path=m.get("heading_path", ""),
            kind=m.get("kind", "other"),
            year=m.get("year"),
            organisation=m.get("organisation"),
            start=int(m.get("start", 0)),
            end=int(m.get("end", 0)),
            score=round(score, 6),
        )


def rrf(
    rankings: list[list[tuple[str, float]]], k: int | None = None, weights: list[float] | None = None
) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: sum of w/(k + rank) over the rankings a document appears in."""
    k = RRF_K if k is None else k
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, (cid, _) in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


def open_knowledge_base(
    settings: Settings, *, ingest_if_empty: bool = False, before_ingest: Callable[[], None] | None = None
) -> KnowledgeBase | None:
    """The knowledge base to draft with, or None when it holds nothing.

    With `ingest_if_empty` an empty index is first filled from settings.knowledge_dir, so a
    fresh checkout (CI, a new office) drafts with the same passages as a working one.
    Errors opening the index propagate: each caller decides whether drafting goes on without.
    """
    kb = KnowledgeBase.open(settings)
    if kb.is_empty() and ingest_if_empty and settings.knowledge_dir.is_dir():
        from assistant.kb.ingest import ingest  # ingest imports this module

        if before_ingest is not None:
            before_ingest()
        ingest([settings.knowledge_dir], settings, kb=kb)
    return None if kb.is_empty() else kb


class EmptyKnowledgeBase(HuibaoError):
    """Searching a knowledge base with nothing in it."""

    def __init__(self) -> None:
        super().__init__("知识库为空：还没有导入任何文件。请先运行 huibao ingest（默认导入 knowledge/ 目录）。")
