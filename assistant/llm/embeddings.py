"""The embedder for any OpenAI-compatible POST /embeddings (bge-m3 on vLLM or Xinference, Ollama, …),
and `make_embedder`, the one place that turns any embedding setting into an embedder.

The knowledge base sits below the model layer and cannot reach model endpoints itself: whoever
opens it passes `make_embedder` in (KnowledgeBase.open, ingest and open_knowledge_base take it as
`make_embedder=`), and the knowledge base calls it when it first needs a vector.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from assistant.core.settings import Settings
from assistant.kb.embeddings import BaseEmbedder, Embedder, embedder_name, get_embedder
from assistant.llm.openai_compat import embed_texts, embedding_endpoint

if TYPE_CHECKING:
    import numpy as np


class OpenAICompatibleEmbedder(BaseEmbedder):
    """Vectors from the endpoint embedding_endpoint() names, through embed_texts: the adapter's
    retries, Retry-After handling, key scrubbing and Chinese messages apply."""

    batch_size = 64

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.embedding_model
        self.name = embedder_name(settings)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        vectors = embed_texts(self._settings, list(texts), batch_size=self.batch_size)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


_remote: dict[tuple[str, str, str | None], Embedder] = {}
_remote_lock = threading.Lock()


def _remote_embedder(settings: Settings) -> Embedder:
    """One embedder per endpoint, model and key: another key must not embed with this one."""
    url, model = embedding_endpoint(settings)  # raises the clear error when no URL is set
    key = settings.api_key.get_secret_value() if settings.api_key is not None else None
    with _remote_lock:
        if (url, model, key) not in _remote:
            _remote[(url, model, key)] = OpenAICompatibleEmbedder(settings)
        return _remote[(url, model, key)]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings select: the bundled USE or E5 model (loaded once per process) or
    an OpenAI-compatible endpoint. Pass it as `make_embedder=` to whatever opens the knowledge base."""
    return get_embedder(settings, remote=_remote_embedder)
