"""The chunk texts of a local knowledge base, beside its Chroma collection (not in it).

Chroma indexes every document it is given for its own full-text search (an FTS5 trigram table and
a string index; 1.5.9's local mode builds them even when a collection's schema turns full-text
search off). Nothing here searches through Chroma's full-text index: the hybrid search has its own
BM25 (kb/index.py). Those indexes cost about half of Chroma's CPU per chunk, and an ingest of 10,222
chunks ran at 85% of the embedder's own speed with the texts in Chroma against 96% without them
(README, 知识库的规模). So a local collection (chroma_mode = "local") keeps its chunk texts here,
an SQLite table in the Chroma folder keyed by the collection's chunk ids, and Chroma keeps the
ids, vectors and metadata. It is the texts' only copy (the search index is rebuilt from Chroma and
this table), so it is written like the workspace: each batch one transaction, synchronous FULL.

A Chroma server keeps its texts (other workstations read them from it). A collection written
before keeps its documents in Chroma, and whatever Chroma holds is read first.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

_BATCH = 500  # ids per statement: SQLite caps the number of bound parameters


class ChunkTexts:
    """chunk id -> text, for one collection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), check_same_thread=False)
            db.execute("PRAGMA synchronous = FULL")
            db.execute("CREATE TABLE IF NOT EXISTS texts (id TEXT PRIMARY KEY, text TEXT NOT NULL)")
            self._db = db
        return self._db

    def put(self, ids: list[str], texts: list[str]) -> None:
        with self._lock, self._conn() as db:
            db.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?)", zip(ids, texts))

    def get(self, ids: list[str]) -> dict[str, str]:
        """The texts of those ids this table holds."""
        if not ids or (self._db is None and not self.path.exists()):
            return {}
        out: dict[str, str] = {}
        with self._lock:
            db = self._conn()
            for i in range(0, len(ids), _BATCH):
                part = ids[i : i + _BATCH]
                out.update(db.execute(f"SELECT id, text FROM texts WHERE id IN ({','.join('?' * len(part))})", part))
        return out

    def delete(self, ids: list[str]) -> None:
        if not ids or (self._db is None and not self.path.exists()):
            return
        with self._lock, self._conn() as db:
            for i in range(0, len(ids), _BATCH):
                part = ids[i : i + _BATCH]
                db.execute(f"DELETE FROM texts WHERE id IN ({','.join('?' * len(part))})", part)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
