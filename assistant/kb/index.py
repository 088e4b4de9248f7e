"""The persisted search index: derived from the Chroma collection, kept in the data folder and
opened memory-mapped, so a search process neither opens Chroma (embedded mode) nor rebuilds BM25
nor holds every chunk's text.

Chroma stays the store of record. Every change to the collection gets a new version stamp
(`CollectionStamp`); the index records the stamp it was built from and is brought up to date
(`sync`) when they differ: rows gone from the collection or whose metadata changed are marked
dead, new rows are appended as a new segment. Segments are written once and never modified, so
a reader never sees a half-written one; `state.json` (replaced atomically) lists the live ones.

BM25 is stored as raw postings (term, row, tf) per segment and scored at query time with the
collection-wide statistics (Lucene's formula, as bm25s computes it), so appending a segment
never rescores the others and the scores are those of one index over all live chunks. bm25s
cannot append to a saved index; rebuilding its matrix takes ~30 s at 200,000 chunks here.

Layout of data_dir/index/<collection>/:
  state.json          format, stamp, embedder, the segments (name, rows), organisations
  dead.npy            rows removed since their segment was written (bool per row, all segments)
  lock                held while the index is written (fcntl), so two processes never both sync
  seg-NNNNNN/         one segment:
    ids.npy, metahash.npy     chunk ids, a hash of each chunk's metadata (to see changes)
    records.bin, offsets.npy  each chunk's text and metadata as JSON, read on demand
    kind.npy, year.npy, org.npy, doclen.npy     filter columns and BM25 document lengths
    terms.npy, term_ptr.npy, post_row.npy, post_tf.npy   BM25 postings, terms sorted
    vectors.npy               float32 unit vectors (embedded mode), or
    vectors-int8.npy, vector-scale.npy   the same quantised to int8 with one scale per row (with
                              a Chroma server: a quarter of the memory, so a search process stays
                              small, and still an exact search; cosine within ~0.001 of float32)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import mmap
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant.kb.blas import one_blas_thread
from assistant.kb.cache import TokenCache, text_key
from assistant.kb.search_text import search_text

if TYPE_CHECKING:
    import numpy as np

FORMAT = 2  # 2: BM25 terms from jieba-rs (core.segment.search_terms), not jieba
KINDS = ("report", "policy", "other")
K1, B = 1.5, 0.75  # bm25s defaults (method "lucene"), the parameters the retrieval evals were tuned with
SEGMENT_ROWS = 50_000  # rows per segment written by one sync or compaction
MAX_SEGMENTS = 12  # more than this, or
MAX_DEAD = 0.25  # more than this share of dead rows: the live rows are rewritten into fresh segments
FETCH = 2_000  # rows per Chroma get while syncing

Progress = Callable[[str, int, int], None]
VectorFormat = Literal["float32", "int8"]
INT8_BLOCK = 8_192  # int8 rows widened to float32 at a time: the block stays in the CPU cache


def meta_hash(meta: dict) -> int:
    """A stable 63-bit hash of a chunk's metadata: a changed kind/year/organisation changes it."""
    blob = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little") >> 1


def new_stamp() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- a segment


class Segment:
    """One written segment, memory-mapped."""

    def __init__(self, path: Path, vectors: VectorFormat) -> None:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        def load(name: str) -> np.ndarray:
            return np.load(path / name, mmap_mode="r")

        self.path = path
        self.ids = load("ids.npy")
        self.rows = len(self.ids)
        self.kind = np.asarray(load("kind.npy"))
        self.year = np.asarray(load("year.npy"))
        self.org = np.asarray(load("org.npy"))
        self.doclen = np.asarray(load("doclen.npy"))
        self.terms = load("terms.npy")
        self.term_ptr = load("term_ptr.npy")
        self.post_row = load("post_row.npy")
        self.post_tf = load("post_tf.npy")
        self.offsets = load("offsets.npy")
        self.vectors: np.ndarray | None = None
        self.codes: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        if vectors == "float32" and (path / "vectors.npy").exists():
            self.vectors = load("vectors.npy")
        elif vectors == "int8" and (path / "vectors-int8.npy").exists():
            self.codes = load("vectors-int8.npy")
            self.scale = np.asarray(load("vector-scale.npy"))
        self._records: Any = None
        self._lock = threading.Lock()

    @property
    def has_vectors(self) -> bool:
        return self.vectors is not None or self.codes is not None

    def scores(self, query: np.ndarray, local: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of the query to every row (or to the `local` rows), float32."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if self.vectors is not None:
            return np.asarray((self.vectors if local is None else self.vectors[local]) @ query)
        assert self.codes is not None and self.scale is not None
        codes = self.codes if local is None else self.codes[local]
        out = np.empty(len(codes), dtype=np.float32)
        for j in range(0, len(codes), INT8_BLOCK):
            out[j : j + INT8_BLOCK] = codes[j : j + INT8_BLOCK].astype(np.float32) @ query
        out *= self.scale if local is None else self.scale[local]
        return out

    def vector(self, row: int) -> np.ndarray | None:
        """A local row's vector as float32 (dequantised when stored as int8)."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if self.vectors is not None:
            return np.asarray(self.vectors[row], dtype=np.float32)
        if self.codes is not None and self.scale is not None:
            return self.codes[row].astype(np.float32) * self.scale[row]
        return None

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(local rows, term frequencies) of a term; empty arrays when the segment lacks it."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        i = int(np.searchsorted(self.terms, term))
        if i >= len(self.terms) or self.terms[i] != term:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        a, b = int(self.term_ptr[i]), int(self.term_ptr[i + 1])
        return np.asarray(self.post_row[a:b]), np.asarray(self.post_tf[a:b], dtype=np.float32)

    def record(self, row: int) -> dict:
        """{"id", "text", "meta"} of a local row, read from disk now."""
        with self._lock:
            if self._records is None:
                with open(self.path / "records.bin", "rb") as f:
                    self._records = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        return dict(json.loads(self._records[a:b].decode("utf-8")))


@dataclass
class Row:
    id: str
    text: str
    meta: dict
    vector: np.ndarray | None = None


def _write_segment(
    path: Path, rows: list[Row], tokens: list[list[str]], orgs: dict[str, int], vectors: VectorFormat
) -> None:
    """Write rows as a new segment directory (atomically: built beside, then renamed)."""
    import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    n = len(rows)
    ids = np.array([r.id for r in rows], dtype=str)
    np.save(tmp / "ids.npy", ids)
    np.save(tmp / "metahash.npy", np.array([meta_hash(r.meta) for r in rows], dtype=np.int64))
    blobs = [json.dumps({"id": r.id, "text": r.text, "meta": r.meta}, ensure_ascii=False).encode("utf-8") for r in rows]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    (tmp / "records.bin").write_bytes(b"".join(blobs))
    np.save(tmp / "offsets.npy", offsets)
    kinds = {k: i for i, k in enumerate(KINDS)}
    np.save(tmp / "kind.npy", np.array([kinds.get(r.meta.get("kind", "other"), 2) for r in rows], dtype=np.int8))
    np.save(tmp / "year.npy", np.array([_year(r.meta) for r in rows], dtype=np.int32))
    np.save(
        tmp / "org.npy",
        np.array([orgs.setdefault(r.meta.get("organisation") or "", len(orgs)) for r in rows], dtype=np.int32),
    )
    np.save(tmp / "doclen.npy", np.array([len(t) for t in tokens], dtype=np.int32))
    # postings: (term, row) pairs with their counts, sorted by term then row, in one np.unique
    vocab: dict[str, int] = {}
    flat = [vocab.setdefault(t, len(vocab)) for toks in tokens for t in toks]
    if flat:
        words = np.array(list(vocab), dtype=str)
        order = np.argsort(words, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        term_rank = rank[np.asarray(flat, dtype=np.int64)]
        row_of = np.repeat(np.arange(n, dtype=np.int64), [len(t) for t in tokens])
        pairs, counts = np.unique(term_rank * n + row_of, return_counts=True)
        post_term = pairs // n
        np.save(tmp / "terms.npy", words[order])
        np.save(tmp / "term_ptr.npy", np.searchsorted(post_term, np.arange(len(order) + 1)).astype(np.int64))
        np.save(tmp / "post_row.npy", (pairs % n).astype(np.int32))
        np.save(tmp / "post_tf.npy", np.minimum(counts, 65535).astype(np.uint16))
    else:
        np.save(tmp / "terms.npy", np.array([], dtype="<U1"))
        np.save(tmp / "term_ptr.npy", np.zeros(1, dtype=np.int64))
        np.save(tmp / "post_row.npy", np.zeros(0, dtype=np.int32))
        np.save(tmp / "post_tf.npy", np.zeros(0, dtype=np.uint16))
    vecs = [r.vector for r in rows]
    dim = next((len(v) for v in vecs if v is not None), 0)
    mat = np.zeros((n, dim), dtype=np.float32)
    for i, v in enumerate(vecs):
        if v is not None:
            mat[i] = v
    if vectors == "float32":
        np.save(tmp / "vectors.npy", mat)
    else:  # symmetric, one scale per row: the largest component maps to 127
        scale = np.abs(mat).max(axis=1) / 127 if dim else np.zeros(n, dtype=np.float32)
        scale[scale == 0] = 1.0
        np.save(tmp / "vectors-int8.npy", np.rint(mat / scale[:, None]).astype(np.int8))
        np.save(tmp / "vector-scale.npy", scale.astype(np.float32))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def _year(meta: dict) -> int:
    try:
        return int(meta.get("year") or 0)
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------- the index


class ChunkIndex:
    """The index as of one state.json: segments, dead rows, filter columns, BM25 statistics."""

    def __init__(self, root: Path, state: dict, vectors: VectorFormat) -> None:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        self.root = root
        self.state = state
        self.stamp: str = state["stamp"]
        self.segments = [Segment(root / s["name"], vectors) for s in state["segments"]]
        self.starts = np.cumsum([0] + [s.rows for s in self.segments])
        self.rows = int(self.starts[-1])
        self.dead = np.load(root / state["dead"]) if state.get("dead") else np.zeros(self.rows, dtype=bool)
        if len(self.dead) < self.rows:
            self.dead = np.concatenate([self.dead, np.zeros(self.rows - len(self.dead), dtype=bool)])
        self.orgs: list[str] = list(state.get("orgs", []))
        cat = np.concatenate
        self.kind = cat([s.kind for s in self.segments]) if self.segments else np.zeros(0, np.int8)
        self.year = cat([s.year for s in self.segments]) if self.segments else np.zeros(0, np.int32)
        self.org = cat([s.org for s in self.segments]) if self.segments else np.zeros(0, np.int32)
        doclen = cat([s.doclen for s in self.segments]) if self.segments else np.zeros(0, np.int32)
        self.doclen = doclen.astype(np.float32)
        self.live = int((~self.dead).sum())
        self.avgdl = float(doclen[~self.dead].mean()) if self.live else 1.0
        self._masks: dict[tuple, np.ndarray] = {}

    # ------------------------------------------------------------ filters

    def allowed(self, kind: str | None, year: int | None, organisation: str | None) -> np.ndarray:
        """Live rows the filters allow, as a bool mask (cached per filter)."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        key = (kind, None if year is None else int(year), organisation)
        if key in self._masks:
            return self._masks[key]
        mask = ~self.dead
        if kind is not None:
            mask = mask & (self.kind == (KINDS.index(kind) if kind in KINDS else -1))
        if year is not None:
            mask = mask & (self.year == int(year))
        if organisation is not None:
            codes = [i for i, o in enumerate(self.orgs) if o and organisation in o]
            mask = mask & np.isin(self.org, codes)
        if len(self._masks) < 64:
            self._masks[key] = mask
        return mask

    # ------------------------------------------------------------ the arms

    def bm25(self, tokens: list[str], mask: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(row, BM25 score), best first, rows sharing a term with the query and allowed by mask."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if not tokens or not self.live:
            return []
        scores = np.zeros(self.rows, dtype=np.float32)
        weights: dict[str, int] = {}
        for t in tokens:  # a repeated query term counts again, as in bm25s
            weights[t] = weights.get(t, 0) + 1
        for term, w in weights.items():
            parts = [
                (start + rows, tf)
                for seg, start in zip(self.segments, self.starts)
                for rows, tf in [seg.postings(term)]
            ]
            rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
            if not len(rows):
                continue
            tf = np.concatenate([p[1] for p in parts])
            keep = ~self.dead[rows]
            rows, tf = rows[keep], tf[keep]
            df = len(rows)
            if not df:
                continue
            idf = math.log(1 + (self.live - df + 0.5) / (df + 0.5))
            norm = K1 * (1 - B + B * self.doclen[rows] / self.avgdl)
            scores[rows] += w * idf * tf / (tf + norm)
        scores[~mask] = 0
        return _top(scores, n, positive=True)

    def dense(self, query: np.ndarray, mask: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(row, cosine similarity), best first, over the rows the mask allows (exact search)."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        q = np.asarray(query, dtype=np.float32)
        sims = np.full(self.rows, -np.inf, dtype=np.float32)
        # one BLAS thread: the product is bound by memory, and two threads waiting for each other
        # made p95 several times the median on a loaded 2-core machine (kb/blas.py)
        with one_blas_thread():
            for seg, start in zip(self.segments, self.starts):
                if not seg.has_vectors or not seg.rows:
                    continue
                part = mask[start : start + seg.rows]
                allowed = int(part.sum())
                if allowed * 8 < seg.rows:  # few rows: gather them (a copy of just those vectors)
                    local = np.flatnonzero(part)
                    sims[start + local] = seg.scores(q, local)
                elif allowed:  # most rows: one pass over the segment is cheaper than a gathered copy
                    sims[start : start + seg.rows] = np.where(part, seg.scores(q), -np.inf)
        return _top(sims, min(n, int(mask.sum())), positive=False)

    # ------------------------------------------------------------ records

    def locate(self, row: int) -> tuple[Segment, int]:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        s = int(np.searchsorted(self.starts, row, side="right")) - 1
        return self.segments[s], row - int(self.starts[s])

    def record(self, row: int) -> dict:
        seg, local = self.locate(row)
        return seg.record(local)

    def id_of(self, row: int) -> str:
        seg, local = self.locate(row)
        return str(seg.ids[local])

    def live_rows(self) -> Iterator[int]:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        yield from (int(i) for i in np.flatnonzero(~self.dead))


def _top(scores: np.ndarray, n: int, *, positive: bool) -> list[tuple[int, float]]:
    import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

    if n <= 0 or not len(scores):
        return []
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    ok = scores[top] > 0 if positive else np.isfinite(scores[top])
    return [(int(i), float(scores[i])) for i in top[ok]]


# ---------------------------------------------------------------- opening and syncing


class IndexStore:
    """The index folder of one collection: opens the current index, syncs it with the collection."""

    def __init__(self, root: Path, embedder: str, vectors: VectorFormat) -> None:
        self.root = root
        self.embedder = embedder
        self.vectors = vectors

    def read_state(self) -> dict | None:
        try:
            state = json.loads((self.root / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if state.get("format") != FORMAT or state.get("embedder") != self.embedder:
            return None
        stored = state.get("vectors")
        if stored is True:  # written before int8 vectors existed: float32
            stored = "float32"
        return dict(state) if stored == self.vectors else None

    def open(self) -> ChunkIndex | None:
        """The index as last written, or None when there is none (or of another format)."""
        state = self.read_state()
        if state is None:
            return None
        try:
            return ChunkIndex(self.root, state, self.vectors)
        except (OSError, ValueError):  # a segment removed by a concurrent compaction: read again
            state = self.read_state()
            return ChunkIndex(self.root, state, self.vectors) if state else None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def sync(
        self,
        collection: Any,
        stamp: str,
        data_dir: Path,
        progress: Progress | None = None,
        known: dict[str, Row] | None = None,
        trust_known: bool = False,
        texts: Callable[[list[str]], dict[str, str]] | None = None,
    ) -> ChunkIndex:
        """Bring the index in line with the collection, record `stamp`, and open it.

        `known`: rows the caller has just written (ingest), taken as they are instead of being
        read back from the collection when the collection lists the same id with the same
        metadata (the text and vector come with the metadata's sha256). With `trust_known` (a
        local Chroma, which only this process writes while it ingests) the metadata of those ids
        is not even read back: only the collection's ids are listed, and the metadata of the
        others (~85 µs a chunk, 0.9 s of a 10,000-chunk ingest's end). `texts`: where the texts
        of chunks the collection holds without one are (a local collection's, kb/texts.py)."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        tick = progress or (lambda label, done, total: None)
        known = known or {}
        with self.locked():
            current = self.open()
            if current is not None and current.stamp == stamp:
                return current
            # the collection's ids and each one's metadata hash, in pages (SQLite caps a query's
            # variables); ids whose rows are `trusted` are listed without their metadata
            trusted = known if trust_known else {}
            ids: list[str] = []
            wanted: dict[str, int] = {}

            def hashed(got: dict) -> None:
                wanted.update((cid, meta_hash(dict(m or {}))) for cid, m in zip(got["ids"], got["metadatas"] or []))

            total = int(collection.count())
            for offset in range(0, total, 5 * FETCH):
                got = collection.get(include=[] if trusted else ["metadatas"], limit=5 * FETCH, offset=offset)
                ids += list(got["ids"])
                if not trusted:
                    hashed(got)
            others = [cid for cid in ids if cid not in wanted and cid not in trusted]
            for j in range(0, len(others), FETCH):
                hashed(collection.get(ids=others[j : j + FETCH], include=["metadatas"]))
            wanted.update((cid, meta_hash(trusted[cid].meta)) for cid in ids if cid in trusted)
            state = current.state if current is not None else {"segments": [], "orgs": []}
            dead = current.dead.copy() if current is not None else np.zeros(0, dtype=bool)
            have: dict[str, int] = {}
            if current is not None:
                for seg, start in zip(current.segments, current.starts):
                    hashes = np.load(seg.path / "metahash.npy")
                    for local, (cid, h) in enumerate(zip(seg.ids.tolist(), hashes.tolist())):
                        row = int(start) + local
                        if dead[row]:
                            continue
                        if wanted.get(cid) == h:
                            have[cid] = row
                        else:
                            dead[row] = True
            new = [cid for cid in ids if cid not in have]
            segments = list(state["segments"])
            orgs = {o: i for i, o in enumerate(state.get("orgs", []))}
            rows = len(dead)
            compact = current is not None and (
                len(segments) >= MAX_SEGMENTS or (rows and (dead.sum() + 0) / max(rows + len(new), 1) > MAX_DEAD)
            )
            old, old_dead = current, dead
            if compact or current is None:
                # rewrite: the live rows of the old segments, then the new ones, in fresh segments
                segments, orgs, dead = [], {}, np.zeros(0, dtype=bool)
            counter = int(state.get("next", 0))
            written: list[str] = []

            def write(batch: list[Row]) -> None:
                nonlocal counter, dead
                name = f"seg-{counter:06d}"
                counter += 1
                texts = [search_text(r.text, r.meta) for r in batch]
                with TokenCache(data_dir) as cache:
                    tokens = cache.tokens_for(texts, [text_key(t) for t in texts])
                _write_segment(self.root / name, batch, tokens, orgs, self.vectors)
                segments.append({"name": name, "rows": len(batch)})
                written.append(name)
                dead = np.concatenate([dead, np.zeros(len(batch), dtype=bool)])

            pending: list[Row] = []
            if (compact or current is None) and old is not None:
                for row in np.flatnonzero(~old_dead).tolist():
                    rec = old.record(row)
                    seg, local = old.locate(row)
                    vec = seg.vector(local)
                    pending.append(Row(rec["id"], rec["text"], rec["meta"], vec))
                    if len(pending) >= SEGMENT_ROWS:
                        write(pending)
                        pending = []
            for j in range(0, len(new), FETCH):
                tick("index", j, len(new))
                page = new[j : j + FETCH]
                rows_of = {
                    cid: known[cid] for cid in page if cid in known and meta_hash(known[cid].meta) == wanted[cid]
                }
                fetch = [cid for cid in page if cid not in rows_of]
                if fetch:
                    got = collection.get(ids=fetch, include=["documents", "metadatas", "embeddings"])
                    documents = got["documents"] or [None] * len(got["ids"])
                    kept = texts([c for c, d in zip(got["ids"], documents) if not d]) if texts else {}
                    for i, cid in enumerate(got["ids"]):
                        vec = np.asarray(got["embeddings"][i], dtype=np.float32)
                        text = documents[i] or kept.get(cid, "")
                        rows_of[cid] = Row(cid, text, dict(got["metadatas"][i] or {}), vec)
                pending += [rows_of[cid] for cid in page if cid in rows_of]
                if len(pending) >= SEGMENT_ROWS:
                    write(pending)
                    pending = []
            if pending:
                write(pending)
            tick("index", len(new), len(new))
            keep = {s["name"] for s in segments}
            dead_name = f"dead-{counter:06d}.npy"
            counter += 1
            self._commit(
                dead_name,
                {
                    "format": FORMAT,
                    "stamp": stamp,
                    "embedder": self.embedder,
                    "vectors": self.vectors,
                    "segments": segments,
                    "orgs": list(orgs),
                    "next": counter,
                    "dead": dead_name,
                },
                dead,
            )
            for entry in self.root.iterdir():
                if entry.is_dir() and entry.name.startswith("seg-") and entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)
                elif entry.name.startswith("dead-") and entry.name != dead_name:
                    entry.unlink(missing_ok=True)
            opened = self.open()
            assert opened is not None
            return opened

    def _commit(self, dead_name: str, state: dict, dead: np.ndarray) -> None:
        """Write the dead rows under a new name, then point state.json at them: a reader sees the
        old state or the new one, never a mix."""
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        np.save(self.root / dead_name, dead)
        tmp_state = self.root / "state.json.tmp"
        tmp_state.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp_state, self.root / "state.json")
