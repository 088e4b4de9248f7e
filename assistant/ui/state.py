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
from assistant.core.settings import Settings, get_settings, masked_url
from assistant.drafting.review import Review
from assistant.kb.retrieve import KnowledgeBase
from assistant.llm import ChatModel, make_model
from assistant.llm.embeddings import make_embedder
from assistant.llm.errors import OPENAI_DEFAULT_BASE_URL
from assistant.ui.messages import for_page
from assistant.workspace.roles import Actor, local_actor
from assistant.workspace.service import Workspace

_SESSION_KEY = "huibao.session"

KEY_WITHHELD = (
    "新地址不是管理员配置的服务地址，服务器上配置的 API Key 不会发送到该地址（改用占位 Key）。"
    "如该服务需要 Key，请在“API Key”中填写。"
)


def _same_address(a: str | None, b: str | None) -> bool:
    return (a or OPENAI_DEFAULT_BASE_URL).strip().rstrip("/") == (b or OPENAI_DEFAULT_BASE_URL).strip().rstrip("/")


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
    report_id: str | None = None  # the report it was asked for: never run on another one
    include: tuple[str, ...] | None = None  # whole report: the sections the user confirmed
    kept: tuple[str, ...] = ()  # whole report: the locked or hand-edited ones left unticked


@dataclass(frozen=True)
class ConfirmWhole:
    """A whole-report action waiting for the user's confirmation (the sections page asks)."""

    report_id: str
    only: tuple[str, ...] = ()  # () = every section; else the stale ones


@dataclass
class EditBase:
    """The version a section's edit box was filled from, and its text: the base of a hand edit."""

    version: int
    text: str


@dataclass
class EditConflict:
    """A hand edit refused because another version was saved meanwhile: shown with the diff."""

    base_version: int
    current_version: int
    text: str  # the user's text, kept until they save it anyway or discard it


@dataclass
class UiSession:
    settings: Settings
    report_id: str | None = None
    notices: list[Notice] = field(default_factory=list)  # shown once, on the next run
    connection: tuple[bool, str] | None = None  # last 测试连接 result
    uploader_generation: int = 0  # bumped to clear the file uploader
    figures_generation: int = 0  # bumped to reset the figure table's edits
    pending: PendingDraft | None = None
    confirm: ConfirmWhole | None = None
    # (report id, section id) -> what the edit box was filled from / a refused edit
    edit_bases: dict[tuple[str, str], EditBase] = field(default_factory=dict)
    conflicts: dict[tuple[str, str], EditConflict] = field(default_factory=dict)
    renaming: str | None = None  # the report whose title is being edited on 报告
    # What the administrator configured (the process settings): its key goes only to its address.
    configured: Settings | None = None
    key_withheld: bool = False  # the configured key was dropped for another address: back there, it returns
    # per report: the changes made from the chat this session, newest last (撤销 takes the last back)
    chat_undo: dict[str, list[dict]] = field(default_factory=dict)
    # who this browser session acts for: set on every run by shell.frame (the local user while
    # accounts are off, the signed-in person while they are on)
    actor: Actor = field(default_factory=local_actor)
    accounts: bool = False  # accounts were on at this run
    # the admin's saved endpoint this session's settings were read with (reloaded when it changes)
    server_stamp: tuple[float, float] | None = None
    personal_key: bool = False  # a non-admin typed their own key for the admin's endpoint
    # 模型审读 on 章节: (report id, section id, version) -> the model's reading of that version
    # (advisory, kept for this browser session only: a new version is read anew)
    reviews: dict[tuple[str, str, int], Review] = field(default_factory=dict)
    review_all: str | None = None  # the report whose drafted sections 模型审读全文 reads on this run
    review_section: tuple[str, str] | None = None  # (report id, section id) 审读本节用语 reads on this run

    def __post_init__(self) -> None:
        if self.configured is None:
            self.configured = self.settings.model_copy()

    def notify(self, kind: Literal["success", "info", "warning", "error"], text: str) -> None:
        # A refusal from below may end with a command-line hint; the page names its own control.
        self.notices.append(Notice(kind, for_page(text)))

    def endpoint_settings(
        self, base_url: str | None, model: str | None, api_key: str | None
    ) -> tuple[Settings, str | None]:
        """The settings these typed values give, and a Chinese note when the configured key was
        withheld. An empty key field keeps the key already set, except that the administrator's
        key is never sent to an address the administrator did not configure."""
        typed_url = (base_url or "").strip() or None
        current = self.settings.base_url
        if typed_url is not None and current and typed_url == masked_url(current):
            typed_url = current  # the field shows the address without credentials: unchanged
        update: dict[str, object] = {"base_url": typed_url}
        if model and model.strip():
            update["model"] = model.strip()
        note = None
        if api_key and api_key.strip():
            update["api_key"] = SecretStr(api_key.strip())
        elif self._holds_configured_key() and not _same_address(typed_url, self._configured().base_url):
            update["api_key"] = None
            note = KEY_WITHHELD
        elif self.key_withheld and _same_address(typed_url, self._configured().base_url):
            update["api_key"] = self._configured().api_key
        return self.settings.model_copy(update=update), note

    def set_endpoint(self, base_url: str | None, model: str | None, api_key: str | None) -> str | None:
        """Change the endpoint for this session only; returns endpoint_settings' note."""
        self.settings, note = self.endpoint_settings(base_url, model, api_key)
        self.key_withheld = note is not None or (self.key_withheld and self.settings.api_key is None)
        self.connection = None
        return note

    def _configured(self) -> Settings:
        return self.configured if self.configured is not None else self.settings

    def _holds_configured_key(self) -> bool:
        key, configured = self.settings.api_key, self._configured().api_key
        return key is not None and configured is not None and key.get_secret_value() == configured.get_secret_value()

    def clear_key(self) -> None:
        self.settings = self.settings.model_copy(update={"api_key": None})
        self.key_withheld = False
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
    """The server's workspace, acting for this browser session's person: every guarded method
    checks their role and records their name."""
    return _workspace(str(settings.workspace_target)).as_actor(session().actor)


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
