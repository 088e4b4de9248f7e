"""Caches keyed by content: what was computed for a search text (its BM25 tokens, its vector per
embedder) is kept in SQLite under data_dir and reused whenever the same text comes back.

Ingest fills both caches, so re-ingesting an edited file embeds only the chunks that changed and
the first search after an ingest does not wait for the segmenter; retrieval reads the tokens back.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from assistant.kb.search_text import tokenize

if TYPE_CHECKING:
    import numpy as np

_BATCH = 500  # keys per SELECT: SQLite caps the number of bound parameters


def text_key(text: str) -> str:
    """Cache key of a search text: the sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class KeyedTable:
    """One SQLite table read and written by batches of keys (text_key() for the caches, chunk ids
    for kb/texts.py), safe across threads."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(schema)
        self._lock = threading.Lock()

    def select(self, query: str, params: list[Any], keys: list[str]) -> list[tuple[Any, ...]]:
        """Rows of `query` (which ends in `key IN`) for the keys, with `params` bound before them."""
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for i in range(0, len(keys), _BATCH):
                part = keys[i : i + _BATCH]
                rows += self._db.execute(f"{query} ({','.join('?' * len(part))})", [*params, *part])
        return rows

    def insert(self, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        with self._lock, self._db:
            self._db.executemany(statement, rows)

    def delete(self, statement: str, keys: list[str]) -> None:
        """Run `statement` (which ends in `key IN`) for the keys, in one transaction."""
        with self._lock, self._db:
            for i in range(0, len(keys), _BATCH):
                part = keys[i : i + _BATCH]
                self._db.execute(f"{statement} ({','.join('?' * len(part))})", part)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class TokenCache(KeyedTable):
    """text_key(search text) -> BM25 tokens: segmenting is the slow part of opening a large knowledge
    base, so each chunk is tokenised once, at ingest."""

    SEP = "\x1f"
    # named after the segmenter: tokens of another segmenter are never mixed in (bm25-tokens.sqlite3
    # held jieba's, before BM25 terms came from jieba-rs; it is removed, being only a cache)
    FILE = "bm25-tokens-rjieba.sqlite3"
    RETIRED = ("bm25-tokens.sqlite3",)

    def __init__(self, data_dir: Path) -> None:
        for name in self.RETIRED:
            (data_dir / name).unlink(missing_ok=True)
        super().__init__(data_dir / self.FILE, "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, toks TEXT)")

    def tokens_for(self, texts: list[str], keys: list[str] | None = None) -> list[list[str]]:
        """Tokens of each text, from the cache or computed (and then cached). `keys`: the texts'
        text_key() when the caller already has them (ingest hashes them for the embedding cache)."""
        keys = keys if keys is not None else [text_key(t) for t in texts]
        found = {
            key: toks.split(self.SEP) if toks else []
            for key, toks in self.select("SELECT key, toks FROM tokens WHERE key IN", [], keys)
        }
        new: dict[str, list[str]] = {}
        for key, text in zip(keys, texts):
            if key not in found and key not in new:
                new[key] = tokenize(text)
        if new:
            self.insert("INSERT OR REPLACE INTO tokens VALUES (?, ?)", [(k, self.SEP.join(v)) for k, v in new.items()])
        found.update(new)
        return [found[k] for k in keys]


class EmbeddingCache(KeyedTable):
    """text_key(search text) -> unit vector, per embedder name."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(
            data_dir / "embeddings.sqlite3",
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, dim INTEGER, vec BLOB, PRIMARY KEY (model, key))",
        )

    def get_many(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        rows = self.select("SELECT key, vec FROM vectors WHERE model = ? AND key IN", [model], keys)
        return {key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows}

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        self.insert(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
            [(model, k, len(v), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
        )
