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

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from assistant.core.errors import HuibaoError, StoreError
from assistant.core.settings import Settings
from assistant.kb.cache import TokenCache
from assistant.kb.embeddings import Embedder, EmbedderFactory, embedder_name, get_embedder
from assistant.kb.search_text import search_text, tokenize

if TYPE_CHECKING:
    import numpy as np

    Mask = np.ndarray | None  # chunks a filtered query may return; None: no filter, all of them

Kind = Literal["report", "policy", "other"]
# Fusion parameters, tuned on evals/retrieval (bench/bench_retrieval.py): with a small k the top
# ranks dominate, so a chunk both arms rank mediocre no longer beats one that an arm ranks first;
# BM25 weighs more because 公文 queries are mostly exact terms (会议名称, 栏目, 指标) that the
# sentence encoders blur. Standard RRF (k=60, equal weights) scored recall@5 0.88 vs 0.90 here.
RRF_K = 10
BM25_WEIGHT = 1.5
CANDIDATES = 50  # each arm contributes its top-N to the fusion
METADATA_PAGE = 10_000  # chunks per metadata read


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


# ---------------------------------------------------------------- Chroma client


def collection_name(settings: Settings, embedder: str) -> str:
    """One collection per embedder name: vectors of different models (and sizes) never mix."""
    name = re.sub(r"[^a-zA-Z0-9._-]", "-", f"{settings.collection}-{embedder}").strip("-._")
    return name if len(name) >= 3 else name + "-kb"


def make_client(settings: Settings) -> Any:
    # chromadb reads this when it is imported: it must be set before, whoever opens the store
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb  # heavy: ~1 s to import, only when the store is opened
    from chromadb.config import Settings as ChromaSettings  # heavy: part of chromadb, as above

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


class _Records:
    """All chunks of the collection in memory (text + metadata) with the BM25 index over them, and
    (loaded on the first filtered query) their vectors."""

    def __init__(self, ids: list[str], docs: list[str], metas: list[dict], data_dir: Path) -> None:
        self.ids, self.docs, self.metas = ids, docs, metas
        self.index = {cid: i for i, cid in enumerate(ids)}
        self._data_dir = data_dir
        self._bm25: Any = None
        self._vectors: np.ndarray | None = None
        self._masks: dict[tuple[str | None, int | None, str | None], np.ndarray] = {}
        self._lock = threading.Lock()

    def bm25(self) -> Any:
        """The BM25 index over the chunks' search texts (None when there are no chunks)."""
        with self._lock:
            if self._bm25 is None and self.ids:
                import bm25s  # heavy: imports scipy, only when BM25 is first used

                texts = [search_text(d, m) for d, m in zip(self.docs, self.metas)]
                with TokenCache(self._data_dir) as cache:
                    corpus = cache.tokens_for(texts)
                bm = bm25s.BM25()
                bm.index([toks or ["\u0000"] for toks in corpus], show_progress=False)
                self._bm25 = bm
            return self._bm25

    def vectors(self, collection: Any) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        with self._lock:
            if self._vectors is None:
                got = collection.get(include=["embeddings"])
                order = [self.index[cid] for cid in got["ids"]]
                vecs = np.zeros((len(self.ids), len(got["embeddings"][0])), dtype=np.float32)
                vecs[order] = np.asarray(got["embeddings"], dtype=np.float32)
                self._vectors = vecs
            return self._vectors

    def mask(self, kind: str | None, year: int | None, organisation: str | None) -> Mask:
        """Which chunks the kind / year / organisation filters allow."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if kind is None and year is None and organisation is None:
            return None
        key = (kind, None if year is None else int(year), organisation)
        if key in self._masks:  # both arms and repeated queries share the mask
            return self._masks[key]
        mask = np.ones(len(self.ids), dtype=bool)
        for i, m in enumerate(self.metas):
            if kind is not None and m.get("kind") != kind:
                mask[i] = False
            elif year is not None and m.get("year") != int(year):
                mask[i] = False
            elif organisation is not None and organisation not in (m.get("organisation") or ""):
                mask[i] = False
        if len(self._masks) < 64:
            self._masks[key] = mask
        return mask


def _document_infos(metadatas: list[dict]) -> list[DocumentInfo]:
    """One DocumentInfo per source from chunk metadata, sorted by source."""
    docs: dict[str, DocumentInfo] = {}
    for meta in metadatas:
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


def indexed_key(title: str | None, chunks: list[str]) -> str:
    """A document's title and chunk texts with all whitespace removed (line ends, indents and
    encodings aside, the same text gives the same key)."""
    return re.sub(r"\s+", "", (title or "") + "\n" + "\n".join(chunks))


class KnowledgeBase:
    def __init__(
        self,
        settings: Settings,
        collection: Any,
        embedder: Embedder | None = None,
        make_embedder: EmbedderFactory = get_embedder,
    ) -> None:
        self.settings = settings
        self._collection = collection
        self._embedder = embedder
        self._make_embedder = make_embedder
        self._records: _Records | None = None
        self._lock = threading.Lock()
        # the document listing and the chunk count it was read at (see documents())
        self._listing: tuple[int, list[DocumentInfo]] | None = None

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, *, make_embedder: EmbedderFactory = get_embedder
    ) -> KnowledgeBase:
        """Open (creating if needed) the collection for the configured embedder. The model itself
        is loaded on first use (by `embedder`, or else by `make_embedder(settings)`), so listing
        documents never waits for it. Pass assistant.llm.embeddings.make_embedder for an
        OpenAI-compatible embedding endpoint; the default builds the bundled models only."""
        client = make_client(settings)
        name = collection_name(settings, embedder.name if embedder is not None else embedder_name(settings))
        try:
            collection = client.get_or_create_collection(
                name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        except Exception as err:
            raise StoreError(f"无法打开知识库集合“{name}”：{err}") from err
        return cls(settings, collection, embedder, make_embedder)

    # ------------------------------------------------------------ properties

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make_embedder(self.settings)
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
            self._listing = None

    def _metadatas(self, where: dict | None = None) -> list[dict]:
        """Chunk metadata (no text, no vectors), read in pages: one get() of every chunk fails
        past ~32,000 chunks (SQLite's limit on query variables)."""
        out: list[dict] = []
        offset = 0
        while True:
            got = self._collection.get(where=where, include=["metadatas"], limit=METADATA_PAGE, offset=offset)
            out += got["metadatas"] or []
            if len(got["ids"]) < METADATA_PAGE:
                return out
            offset += METADATA_PAGE

    # ------------------------------------------------------------ listing / manifest

    def is_empty(self) -> bool:
        return self._collection.count() == 0

    def count(self) -> int:
        return int(self._collection.count())

    def manifest(self) -> dict[str, dict]:
        """source -> {"sha256", "origin"} read from the chunk metadata (no text, fast)."""
        out: dict[str, dict] = {}
        for meta in self._metadatas():
            out.setdefault(
                meta["source"], {"sha256": meta.get("sha256", ""), "origin": meta.get("origin", "knowledge")}
            )
        return out

    def documents(self, *, fresh: bool = False) -> list[DocumentInfo]:
        """Every stored document (from chunk metadata, never texts), sorted by source.

        Kept between calls: at 50,000 chunks even the metadata takes seconds to read, and the
        素材库 page asks on every rerun. Read again after a write through this object, when the
        chunk count changes (another process ingested or removed), or with `fresh` (a re-tag by
        another process changes no count)."""
        count = self.count()
        listing = self._listing
        if listing is not None and listing[0] == count and not fresh:
            return list(listing[1])
        docs = self._read_listing()
        with self._lock:
            self._listing = (count, docs)
        return list(docs)

    def _read_listing(self) -> list[DocumentInfo]:
        # A document's metadata is on every chunk: read it from the first chunk only, and count
        # chunks by their ids ("<source>#<ord>", as ingest writes them): 5x less to read.
        firsts = {m["source"]: m for m in self._metadatas(where={"ord": 0})}
        counts: dict[str, int] = {}
        for cid in self._ids():
            source = cid.rpartition("#")[0]
            counts[source] = counts.get(source, 0) + 1
        if firsts.keys() != counts.keys():  # ids written otherwise, or a document without chunk 0
            return _document_infos(self._metadatas())
        docs = _document_infos(list(firsts.values()))
        for d in docs:
            d.chunks = counts[d.source]
        return docs

    def _ids(self) -> list[str]:
        out: list[str] = []
        offset = 0
        while True:
            got = self._collection.get(include=[], limit=METADATA_PAGE, offset=offset)
            out += got["ids"]
            if len(got["ids"]) < METADATA_PAGE:
                return out
            offset += METADATA_PAGE

    def document(self, source: str) -> DocumentInfo | None:
        """One stored document's metadata (its chunks' metadata only, no text); None when absent."""
        infos = _document_infos(self._metadatas(where={"source": source}))
        return infos[0] if infos else None

    def indexed_texts(self) -> dict[str, str]:
        """source -> its title and chunks in order, whitespace removed: what a document was
        indexed as, to tell whether a new file repeats a stored one (see ingest.same_document)."""
        rec = self._load()
        parts: dict[str, list[tuple[int, str]]] = {}
        titles: dict[str, str] = {}
        for text, meta in zip(rec.docs, rec.metas):
            parts.setdefault(meta["source"], []).append((int(meta.get("ord", 0)), text))
            titles.setdefault(meta["source"], meta.get("title") or "")
        return {src: indexed_key(titles[src], [t for _, t in sorted(chunks)]) for src, chunks in parts.items()}

    def delete_document(self, source: str) -> None:
        try:
            self._collection.delete(where={"source": source})
        except Exception as err:
            raise StoreError(f"无法从知识库删除 {source}：{err}") from err
        self._invalidate()

    def delete_documents(self, sources: list[str]) -> int:
        """Remove several documents at once (a folder, a year, a kind); how many chunks went."""
        removed = 0
        step = 500  # a where-$in of thousands of sources is one long query: batches keep it bounded
        try:
            for i in range(0, len(sources), step):
                batch = sources[i : i + step]
                before = self._collection.count()
                self._collection.delete(where={"source": {"$in": batch}})
                removed += before - self._collection.count()
        except Exception as err:
            raise StoreError(f"无法从知识库删除文档：{err}") from err
        finally:
            self._invalidate()
        return removed

    def retag_document(self, source: str, changes: dict[str, Any]) -> int:
        """Set metadata keys (kind, year, organisation) on every chunk of a document, vectors and
        texts untouched; a value None removes the key. How many chunks were changed (0: no such
        document)."""
        try:
            got = self._collection.get(where={"source": source}, include=[])
            if got["ids"]:
                self._collection.update(ids=got["ids"], metadatas=[dict(changes) for _ in got["ids"]])
        except Exception as err:
            raise StoreError(f"无法修改知识库中 {source} 的类别、年度或单位：{err}") from err
        self._invalidate()
        return len(got["ids"])

    def add_chunks(self, ids: list[str], texts: list[str], metadatas: list[dict], embeddings: np.ndarray) -> None:
        """Write chunks with precomputed vectors (batched: Chroma caps one add)."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

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

    def dense_ranking(
        self,
        query: str,
        n: int,
        *,
        kind: Kind | None = None,
        year: int | None = None,
        organisation: str | None = None,
    ) -> list[tuple[str, float]]:
        """The dense arm alone: (chunk id, cosine similarity), best first."""
        rec = self._load()
        return self._dense(rec, query, n, rec.mask(kind, year, organisation))

    def bm25_ranking(
        self,
        query: str,
        n: int,
        *,
        kind: Kind | None = None,
        year: int | None = None,
        organisation: str | None = None,
    ) -> list[tuple[str, float]]:
        """The BM25 arm alone: (chunk id, BM25 score), best first, only chunks sharing a term."""
        rec = self._load()
        return self._bm25(rec, query, n, rec.mask(kind, year, organisation))

    def _dense(self, rec: _Records, query: str, n: int, mask: Mask) -> list[tuple[str, float]]:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        available = int(mask.sum()) if mask is not None else len(rec.ids)
        if available == 0:
            return []
        qvec = self.embedder.embed_query_array(query)
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

    @staticmethod
    def _bm25(rec: _Records, query: str, n: int, mask: Mask) -> list[tuple[str, float]]:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        bm = rec.bm25()
        tokens = tokenize(query)
        if bm is None or not tokens:
            return []
        scores = np.asarray(bm.get_scores(tokens), dtype=np.float64)
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
        mask = rec.mask(kind, year, organisation)
        n = max(CANDIDATES, k * 4)
        if mode == "dense":
            fused = self._dense(rec, query, k, mask)
        elif mode == "bm25":
            fused = self._bm25(rec, query, k, mask)
        else:
            fused = rrf([self._dense(rec, query, n, mask), self._bm25(rec, query, n, mask)], weights=[1.0, BM25_WEIGHT])
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


class EmptyKnowledgeBase(HuibaoError):
    """Searching a knowledge base with nothing in it."""

    def __init__(self) -> None:
        super().__init__("知识库为空：还没有导入任何文件。请先运行 huibao ingest（默认导入 knowledge/ 目录）。")
