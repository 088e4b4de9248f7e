"""The knowledge base: chunks in Chroma (vectors + metadata + text) and hybrid retrieval.

Chroma is the single source of truth — chunk text, metadata and each file's sha256 all live in
the collection — so an office sharing one Chroma server sees one consistent index, and the
ingest manifest (source -> sha256, origin) is read back from it rather than kept beside it.
Vectors are computed by our own embedder and passed in: Chroma's default embedding function
(which downloads a model) is never instantiated.

Retrieval = dense (Chroma cosine) + BM25 over jieba-rs search-mode tokens, fused by reciprocal rank fusion;
the kind / year / organisation filters apply to both arms.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from assistant.core.errors import HuibaoError, StoreError
from assistant.core.settings import Settings
from assistant.kb.embeddings import Embedder, EmbedderFactory, embedder_name, get_embedder
from assistant.kb.index import ChunkIndex, IndexStore, Row, new_stamp
from assistant.kb.index import Progress as IndexProgress
from assistant.kb.search_text import tokenize
from assistant.kb.texts import ChunkTexts

if TYPE_CHECKING:
    import numpy as np

Kind = Literal["report", "policy", "other"]
# Fusion parameters, tuned on evals/retrieval (bench/bench_retrieval.py): with a small k the top
# ranks dominate, so a chunk both arms rank mediocre no longer beats one that an arm ranks first;
# BM25 weighs more because 公文 queries are mostly exact terms (会议名称, 栏目, 指标) that the
# sentence encoders blur. Standard RRF (k=60, equal weights) scored recall@5 0.88 vs 0.90 here.
RRF_K = 10
BM25_WEIGHT = 1.5
CANDIDATES = 50  # each arm contributes its top-N to the fusion
METADATA_PAGE = 10_000  # chunks per metadata read: one get() of every chunk fails past ~32,000 chunks
# Chroma builds an HNSW graph on every add; nothing searches it (the dense arm is an exact search
# over the index's own copy of the vectors, in both modes), so it is built as cheaply as Chroma
# allows: 0.8 instead of 1.1 ms of CPU a chunk. A collection keeps the configuration it was made with.
COLLECTION_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine", "ef_construction": 10, "max_neighbors": 4}}
STAMP_KEY = "huibao_stamp"  # the collection metadata key holding its version stamp (Chroma server)
STAMP_RECHECK_S = 2.0  # with a Chroma server, the stamp is read again at most this often


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
    """The collection (store of record) and its persisted search index (assistant.kb.index).

    Searching reads the index only; in embedded mode Chroma is not even opened while the index is
    current. Every method that changes the collection calls `_collection_changed()`, which gives
    it a new version stamp: the next search (in this or any process, on any workstation sharing a
    Chroma server) sees the stamp differ from the index's and brings the index up to date first.
    """

    def __init__(
        self,
        settings: Settings,
        collection: Any,
        embedder: Embedder | None = None,
        make_embedder: EmbedderFactory = get_embedder,
        *,
        name: str | None = None,
        client: Any = None,
    ) -> None:
        self.settings = settings
        self._collection_obj = collection
        self._client = client
        self._embedder = embedder
        self._make_embedder = make_embedder
        self._name = name or (collection.name if collection is not None else collection_name(settings, "use"))
        self._lock = threading.RLock()
        self._index: ChunkIndex | None = None
        self._stamp_checked = 0.0
        http = settings.chroma_mode == "http"
        folder = f"{self._name}@{settings.chroma_host}-{settings.chroma_port}" if http else self._name
        self._store = IndexStore(
            settings.data_dir / "index" / re.sub(r"[^\w.@-]", "-", folder),
            embedder=self._embedder_name(),
            # exact search here in both modes: a server's HNSW missed half of the exact top 10 at
            # 200,000 chunks even with ef_search 400 (short queries far from every passage); int8
            # keeps a search process under 500 MB there
            vectors="int8" if http else "float32",
        )
        # the document listing and the chunk count it was read at (see documents())
        self._listing: tuple[int, list[DocumentInfo]] | None = None
        # a local collection's chunk texts, kept beside it rather than in it (kb/texts.py says why)
        self._texts = None if http else ChunkTexts(settings.chroma_dir / f"huibao-{self._name}.texts.sqlite3")

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, *, make_embedder: EmbedderFactory = get_embedder
    ) -> KnowledgeBase:
        """Open the collection for the configured embedder. The model itself is loaded on first use
        (by `embedder`, or else by `make_embedder(settings)`), so listing documents never waits for
        it; in embedded mode Chroma itself is opened only when needed (a write, a listing, or an
        index that is out of date). Pass assistant.llm.embeddings.make_embedder for an
        OpenAI-compatible embedding endpoint; the default builds the bundled models only."""
        name = collection_name(settings, embedder.name if embedder is not None else embedder_name(settings))
        kb = cls(settings, None, embedder, make_embedder, name=name)
        if settings.chroma_mode == "http":
            kb._open_collection()  # an unreachable server is reported now, not at the first search
        return kb

    def _open_collection(self) -> Any:
        with self._lock:
            if self._collection_obj is None:
                self._client = make_client(self.settings)
                try:
                    self._collection_obj = self._client.get_or_create_collection(
                        self._name, embedding_function=None, configuration=COLLECTION_CONFIGURATION
                    )
                except Exception as err:
                    raise StoreError(f"无法打开知识库集合“{self._name}”：{err}") from err
            return self._collection_obj

    @property
    def _collection(self) -> Any:
        return self._open_collection()

    def _embedder_name(self) -> str:
        return self._embedder.name if self._embedder is not None else embedder_name(self.settings)

    # ------------------------------------------------------------ properties

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make_embedder(self.settings)
        return self._embedder

    # ------------------------------------------------------------ version stamp and index

    def _stamp_file(self) -> Path:
        return self.settings.chroma_dir / f"huibao-{self._name}.stamp"

    def _read_stamp(self) -> str | None:
        """The collection's current version stamp; None when it has none yet."""
        if self.settings.chroma_mode == "http":
            try:
                meta = self._client.get_collection(self._name).metadata or {}
            except Exception as err:
                raise StoreError(f"无法读取知识库集合“{self._name}”：{err}") from err
            return meta.get(STAMP_KEY)
        try:
            return self._stamp_file().read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _collection_changed(self) -> str:
        """Give the collection a new version stamp: call after every change to it (chunks added,
        deleted, or their metadata updated), so every index built from it is seen to be stale."""
        stamp = new_stamp()
        with self._lock:
            if self.settings.chroma_mode == "http":
                try:
                    meta = {k: v for k, v in (self._collection.metadata or {}).items() if not k.startswith("hnsw:")}
                    self._collection.modify(metadata={**meta, STAMP_KEY: stamp})
                except Exception as err:
                    raise StoreError(f"无法更新知识库集合“{self._name}”的版本标记：{err}") from err
            else:
                path = self._stamp_file()
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
                tmp.write_text(stamp, encoding="utf-8")
                os.replace(tmp, path)
            self._index = None
            self._listing = None
        return stamp

    def _invalidate(self) -> None:
        """What callers written before the persisted index call after a write: a change."""
        self._collection_changed()

    def index(self, progress: IndexProgress | None = None, known: dict[str, Row] | None = None) -> ChunkIndex:
        """The search index, brought up to date with the collection first if it is stale
        (`known`: rows just written, see IndexStore.sync)."""
        http = self.settings.chroma_mode == "http"
        with self._lock:
            now = time.monotonic()
            if self._index is not None and http and now - self._stamp_checked < STAMP_RECHECK_S:
                return self._index
            stamp = self._read_stamp()
            self._stamp_checked = now
            if self._index is not None and stamp is not None and self._index.stamp == stamp:
                return self._index
            current = self._store.open()
            if current is None and stamp is None and not http and not self.settings.chroma_dir.exists():
                return self._empty_index()  # nothing ever stored here: no need to create Chroma
            if current is not None and stamp is not None and current.stamp == stamp:
                self._index = current
                return current
            if stamp is None:
                stamp = self._collection_changed()  # a collection from before stamps: give it one
            try:
                self._index = self._store.sync(
                    self._collection,
                    stamp,
                    self.settings.data_dir,
                    progress,
                    known,
                    trust_known=not http,
                    texts=self._texts.get if self._texts is not None else None,
                )
            except StoreError:
                raise
            except Exception as err:
                raise StoreError(f"无法更新知识库检索索引（{self._store.root}）：{err}") from err
            return self._index

    def _empty_index(self) -> ChunkIndex:
        return ChunkIndex(self._store.root, {"stamp": "", "segments": [], "orgs": []}, self._store.vectors)

    def refresh_index(self, progress: IndexProgress | None = None, known: dict[str, Row] | None = None) -> None:
        """Bring the search index up to date now (ingest does, so the first search does not wait;
        it passes the rows it wrote as `known`, so they are not read back from Chroma)."""
        self.index(progress, known)

    # ------------------------------------------------------------ listing / manifest

    def is_empty(self) -> bool:
        return self.count() == 0

    def count(self) -> int:
        """Chunks in the knowledge base (read from the index: no need to open Chroma)."""
        return self.index().live

    def _metadatas(self, where: dict | None = None) -> list[dict]:
        """Chunk metadata (no text, no vectors), read in pages (SQLite's limit on query variables)."""
        out: list[dict] = []
        offset = 0
        while True:
            got = self._collection.get(where=where, include=["metadatas"], limit=METADATA_PAGE, offset=offset)
            out += got["metadatas"] or []
            if len(got["ids"]) < METADATA_PAGE:
                return out
            offset += METADATA_PAGE

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
        indexed as, to tell whether a new file repeats a stored one (see ingest.same_document).
        Read record by record from the index, never all chunk texts at once from Chroma."""
        index = self.index()
        parts: dict[str, list[tuple[int, str]]] = {}
        titles: dict[str, str] = {}
        for row in index.live_rows():
            rec = index.record(row)
            meta = rec["meta"]
            parts.setdefault(meta["source"], []).append((int(meta.get("ord", 0)), rec["text"]))
            titles.setdefault(meta["source"], meta.get("title") or "")
        return {src: indexed_key(titles[src], [t for _, t in sorted(chunks)]) for src, chunks in parts.items()}

    def _delete_where(self, where: dict) -> int:
        """Delete the chunks `where` selects, and a local collection's texts of them (after the
        chunks: a text left by a failure between the two is never read); how many went."""
        if self._texts is None:
            before = self._collection.count()
            self._collection.delete(where=where)
            return before - self._collection.count()
        ids = self._collection.get(where=where, include=[])["ids"]
        if ids:
            self._collection.delete(ids=ids)
            self._texts.delete(ids)
        return len(ids)

    def delete_document(self, source: str) -> None:
        try:
            self._delete_where({"source": source})
        except Exception as err:
            raise StoreError(f"无法从知识库删除 {source}：{err}") from err
        self._collection_changed()

    def delete_documents(self, sources: list[str]) -> int:
        """Remove several documents at once (a folder, a year, a kind); how many chunks went."""
        removed = 0
        step = 500  # a where-$in of thousands of sources is one long query: batches keep it bounded
        try:
            for i in range(0, len(sources), step):
                removed += self._delete_where({"source": {"$in": sources[i : i + step]}})
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
        """Write chunks with precomputed vectors (batched: Chroma caps one add). A local
        collection's texts go to its text table first (kb/texts.py): a chunk is never in Chroma
        without its text."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        step = 1000
        try:
            for i in range(0, len(ids), step):
                if self._texts is not None:
                    self._texts.put(ids[i : i + step], texts[i : i + step])
                self._collection.add(
                    ids=ids[i : i + step],
                    documents=None if self._texts is not None else texts[i : i + step],
                    metadatas=metadatas[i : i + step],
                    embeddings=np.asarray(embeddings[i : i + step], dtype=np.float32),
                )
        except Exception as err:
            raise StoreError(f"写入知识库失败：{err}") from err
        self._collection_changed()

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
        index = self.index()
        found = self._dense(index, query, n, kind, year, organisation)
        return [(cid, score) for cid, score, _ in found]

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
        index = self.index()
        return [(cid, score) for cid, score, _ in self._bm25(index, query, n, index.allowed(kind, year, organisation))]

    def _dense(
        self, index: ChunkIndex, query: str, n: int, kind: str | None, year: int | None, organisation: str | None
    ) -> list[Hit]:
        """(chunk id, cosine similarity, index row), best first."""
        mask = index.allowed(kind, year, organisation)
        available = int(mask.sum())
        if available == 0:
            return []
        qvec = self.embedder.embed_query_array(query)
        # exact search over the allowed rows of the memory-mapped vectors: ~15 ms at 200,000 chunks
        # (float32), ~20 ms as int8
        return [(index.id_of(row), score, row) for row, score in index.dense(qvec, mask, n)]

    @staticmethod
    def _bm25(index: ChunkIndex, query: str, n: int, mask: np.ndarray) -> list[Hit]:
        tokens = tokenize(query)
        return [(index.id_of(row), score, row) for row, score in index.bm25(tokens, mask, n)]

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
        index = self.index()
        if not index.live:
            return []
        n = max(CANDIDATES, k * 4)
        arms: list[list[Hit]] = []
        if mode in ("dense", "hybrid"):
            arms.append(self._dense(index, query, k if mode == "dense" else n, kind, year, organisation))
        if mode in ("bm25", "hybrid"):
            arms.append(self._bm25(index, query, k if mode == "bm25" else n, index.allowed(kind, year, organisation)))
        found: dict[str, int] = {}  # chunk id -> its index row
        for arm in arms:
            for cid, _, row in arm:
                found.setdefault(cid, row)
        rankings = [[(cid, score) for cid, score, _ in arm] for arm in arms]
        fused = rrf(rankings, weights=[1.0, BM25_WEIGHT]) if mode == "hybrid" else rankings[0]
        # only the k shown are read from disk
        return [_passage(index.record(found[cid]), score) for cid, score in fused[:k]]


Hit = tuple[str, float, int]  # (chunk id, score, its index row)


def _passage(rec: dict, score: float) -> Passage:
    m = rec["meta"]
    return Passage(
        id=rec["id"],
        text=rec["text"],
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
