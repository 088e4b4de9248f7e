"""The chunk texts of a local knowledge base, beside its Chroma collection (not in it).

Chroma indexes every document it is given for its own full-text search (an FTS5 trigram table and
a string index; 1.5.9's local mode builds them even when a collection's schema turns full-text
search off). Nothing here searches through Chroma's full-text index: the hybrid search has its own
BM25 (kb/index.py). Those indexes cost about half of Chroma's CPU per chunk (0.6–0.7 of ~1.1 ms;
README, 知识库的规模). So a local collection (chroma_mode = "local") keeps its chunk texts here, an
SQLite table in the Chroma folder keyed by the collection's chunk ids, and Chroma keeps the ids,
vectors and metadata. It is the texts' only copy (the search index is rebuilt from Chroma and this
table): each batch is one transaction, in SQLite's default rollback journal with synchronous FULL.

A Chroma server keeps its texts (other workstations read them from it). A collection written
before keeps its documents in Chroma, and whatever Chroma holds is read first.
"""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.kb.cache import KeyedTable

_SCHEMA = "CREATE TABLE IF NOT EXISTS texts (id TEXT PRIMARY KEY, text TEXT NOT NULL)"


class ChunkTexts:
    """chunk id -> text, for one collection. The file is opened (and made) at the first write, or
    at the first read of a file that exists: opening a knowledge base to search creates nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._table: KeyedTable | None = None
        self._lock = threading.Lock()

    def _opened(self, create: bool) -> KeyedTable | None:
        with self._lock:
            if self._table is None and (create or self.path.exists()):
                self._table = KeyedTable(self.path, _SCHEMA)
            return self._table

    def put(self, ids: list[str], texts: list[str]) -> None:
        table = self._opened(create=True)
        assert table is not None
        table.insert("INSERT OR REPLACE INTO texts VALUES (?, ?)", zip(ids, texts))

    def get(self, ids: list[str]) -> dict[str, str]:
        """The texts of those ids this table holds."""
        table = self._opened(create=False) if ids else None
        return dict(table.select("SELECT id, text FROM texts WHERE id IN", [], ids)) if table else {}

    def delete(self, ids: list[str]) -> None:
        table = self._opened(create=False) if ids else None
        if table is not None:
            table.delete("DELETE FROM texts WHERE id IN", ids)
