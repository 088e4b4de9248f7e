"""The page's per-browser-session state as one typed object, and the seams tests replace.

Streamlit keeps `UiSession` in st.session_state under a single key; pages read and change
its fields, never ad-hoc string keys. The API key lives only in `UiSession.settings` (a
copy of the process settings): never in os.environ, files, the report or logs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import streamlit as st
from pydantic import SecretStr

from assistant.core.errors import HuibaoError
from assistant.core.settings import Settings, get_settings
from assistant.kb.retrieve import KnowledgeBase
from assistant.llm import ChatModel, make_model
from assistant.llm.embeddings import make_embedder
from assistant.workspace.service import Workspace

_SESSION_KEY = "huibao.session"


@dataclass
class Notice:
    kind: Literal["success", "info", "warning", "error"]
    text: str


@dataclass(frozen=True)
class PendingDraft:
    """A drafting job asked for by a button; the page runs it (streaming) on this run."""

    section_id: str | None  # None: the whole report
    instruction: str | None = None
    only: tuple[str, ...] = ()  # whole report: limit to these sections (the stale ones)


@dataclass
class UiSession:
    settings: Settings
    report_id: str | None = None
    notices: list[Notice] = field(default_factory=list)  # shown once, on the next run
    connection: tuple[bool, str] | None = None  # last 测试连接 result
    uploader_generation: int = 0  # bumped to clear the file uploader
    figures_generation: int = 0  # bumped to reset the figure table's edits
    pending: PendingDraft | None = None

    def notify(self, kind: Literal["success", "info", "warning", "error"], text: str) -> None:
        self.notices.append(Notice(kind, text))

    def set_endpoint(self, base_url: str | None, model: str | None, api_key: str | None) -> None:
        """Change the endpoint for this session only. An empty key field keeps the key already set."""
        update: dict[str, object] = {"base_url": (base_url or "").strip() or None}
        if model and model.strip():
            update["model"] = model.strip()
        if api_key:
            update["api_key"] = SecretStr(api_key.strip())
        self.settings = self.settings.model_copy(update=update)
        self.connection = None

    def clear_key(self) -> None:
        self.settings = self.settings.model_copy(update={"api_key": None})
        self.connection = None


def session() -> UiSession:
    state = st.session_state
    if _SESSION_KEY not in state:
        state[_SESSION_KEY] = UiSession(settings=get_settings().model_copy())
    return state[_SESSION_KEY]


# --- seams: tests monkeypatch these module attributes ---------------------------------


def model_factory(settings: Settings) -> ChatModel | None:
    """Build the chat model for these settings; None means the offline engine."""
    return make_model(settings)


def current_model(sess: UiSession) -> ChatModel | None:
    # A copy, so nothing the model adapter does can reach back into the session's settings.
    return model_factory(sess.settings.model_copy())


@st.cache_resource(show_spinner=False, max_entries=4)
def _workspace(path: str) -> Workspace:
    # One connection per workspace file for the whole server: Workspace is thread-safe and
    # opening it runs the schema check, which need not happen on every rerun.
    return Workspace.open(path)


def open_workspace(settings: Settings) -> Workspace:
    return _workspace(str(settings.workspace_path))


@st.cache_resource(show_spinner=False, max_entries=4)
def _knowledge_base(data_dir: str, knowledge_dir: str, embedder: tuple[str, ...], _settings: Settings) -> KnowledgeBase:
    # Cached per data location and embedder: opening the index loads the embedder, and the
    # instance keeps its BM25 index and vectors, which take a while to build.
    return KnowledgeBase.open(_settings, make_embedder=make_embedder)


def _embedder_key(settings: Settings) -> tuple[str, ...]:
    """What decides the embedder the cached index searches with. For an OpenAI-compatible
    endpoint that is the endpoint, the model and the key: otherwise the first session's key
    would embed every other session's queries. The key enters only as a digest."""
    if settings.embedding != "openai":
        return (settings.embedding,)
    key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
    return (
        "openai",
        settings.embedding_base_url or settings.base_url or "",
        settings.embedding_model,
        hashlib.sha256(key.encode("utf-8")).hexdigest(),
    )


def knowledge_base(settings: Settings) -> KnowledgeBase:
    return _knowledge_base(str(settings.data_dir), str(settings.knowledge_dir), _embedder_key(settings), settings)


def drafting_knowledge_base(settings: Settings) -> KnowledgeBase | None:
    """The knowledge base to draft, chat or search with, or None when it is empty or cannot be
    opened: drafting without passages beats not drafting at all (the 素材库 page shows why)."""
    try:
        kb = knowledge_base(settings)
        return None if kb.is_empty() else kb
    except HuibaoError:
        return None
