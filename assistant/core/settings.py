"""One settings object: environment variables plus an optional `huibao.toml`.

Precedence (highest first): explicit arguments, environment, `huibao.toml`, defaults.
The standard `OPENAI_BASE_URL` / `OPENAI_API_KEY` are honoured; everything else is
`HUIBAO_*`. The API key is a SecretStr so it never shows up in repr, logs or exports.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from assistant.core.resources import PROJECT_ROOT as PROJECT_ROOT  # re-exported: tests and evals use it
from assistant.core.resources import default_data_dir, resource_dir


def masked_url(url: str) -> str:
    """A URL as shown to users: no user:password, no query or fragment (tokens hide there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "（地址格式无效）"


def is_loopback(host: str | None) -> bool:
    """Whether a listen address reaches this machine only (None or "": every interface: no)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _toml_path() -> Path:
    return Path(os.environ.get("HUIBAO_CONFIG", "huibao.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUIBAO_", extra="ignore", populate_by_name=True)

    # Where the index, workspace and caches live: the project's git-ignored data/ in a checkout,
    # ./data of the working folder for an installed copy.
    data_dir: Path = Field(default_factory=default_data_dir)
    # The sample knowledge base that ships with huibao, until an office points to its own.
    knowledge_dir: Path = Field(default_factory=lambda: resource_dir("knowledge"))
    # The office's own terms for the checks (its name, leaders' titles, banned words, fixed numerals).
    terms: Path | None = None

    # Model endpoint (any OpenAI-compatible server). No base URL and no key => offline engine.
    base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "HUIBAO_BASE_URL", "base_url")
    )
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "HUIBAO_API_KEY", "api_key")
    )
    model: str = "gpt-4o-mini"
    temperature: float = 0.3
    request_timeout_s: float = 60.0
    max_retries: int = 3
    max_concurrency: int = 8  # model requests in flight while drafting a report

    # Token budget for one section prompt; tiktoken counts are an estimate for non-OpenAI models.
    tokenizer: Literal["cl100k_base", "o200k_base"] = "o200k_base"
    context_tokens: int = 8000
    answer_tokens: int = 1500

    # Knowledge base.
    embedding: Literal["use", "e5", "openai"] = "use"
    embedding_model: str = "bge-m3"  # name sent to an OpenAI-compatible /embeddings endpoint
    embedding_base_url: str | None = None
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    collection: str = "knowledge"
    retrieve_k: int = 6

    # Input limits: anything beyond them is refused with a Chinese message naming file, row and field.
    max_figure_value: float = 1e16  # |value| and |上年| after folding 万/亿 into the value
    max_figure_rows: int = 2000
    max_input_file_bytes: int = 5 * 1024 * 1024  # figures and outline files
    max_yaml_depth: int = 20
    max_sibling_sections: int = 30
    max_sections: int = 200
    max_outline_depth: int = 4
    # A knowledge-base file (an office's .docx/.xlsx by its unpacked size, against zip bombs):
    max_kb_file_bytes: int = 100 * 1024 * 1024  # through `huibao ingest` and the folder sync
    max_upload_bytes: int = 20 * 1024 * 1024  # through the page's upload (Streamlit's own cap is 20 MB)

    # Accounts for an office on one server: on when set here or as soon as an admin exists.
    accounts: bool = False
    # The workspace on a PostgreSQL server (several app processes or hosts share it), e.g.
    # postgresql://huibao:密码@10.0.0.5:5432/huibao; unset: the SQLite file in the data folder.
    database_url: str | None = None
    session_hours: float = 8.0  # a sign-in lasts this long without use

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            ServerEndpointSource(settings_cls),
            TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()),
        )

    @property
    def model_configured(self) -> bool:
        """A model endpoint is configured when a base URL or a key is given."""
        return bool(self.base_url) or self.api_key is not None

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def workspace_path(self) -> Path:
        return self.data_dir / "workspace.sqlite3"

    @property
    def workspace_target(self) -> str | Path:
        """Where the workspace is: the PostgreSQL URL when ``database_url`` is set, else the SQLite file."""
        return self.database_url or self.workspace_path

    def describe(self) -> dict[str, object]:
        """What may be shown to a user: everything but the key's value and credentials in URLs."""
        shown = self.model_dump(exclude={"api_key"})
        shown["api_key"] = "已设置" if self.api_key is not None else "未设置"
        for name in ("base_url", "embedding_base_url", "database_url"):
            if shown.get(name):
                shown[name] = masked_url(shown[name])
        return {k: str(v) if isinstance(v, Path) else v for k, v in shown.items()}


# What each setting is called on screen (the 设置 page, `huibao config`); the key stays what
# huibao.toml and HUIBAO_* use. tests/test_foundation.py checks every field has one.
LABELS: dict[str, str] = {
    "data_dir": "数据目录",
    "knowledge_dir": "素材目录",
    "terms": "本单位用语文件",
    "base_url": "模型服务地址",
    "api_key": "密钥",
    "model": "模型",
    "temperature": "采样温度",
    "request_timeout_s": "请求超时（秒）",
    "max_retries": "最多重试次数",
    "max_concurrency": "同时请求数上限",
    "tokenizer": "计数用的分词表",
    "context_tokens": "每节提示词长度上限（词元）",
    "answer_tokens": "每次回答长度上限（词元）",
    "embedding": "向量模型",
    "embedding_model": "向量接口的模型名",
    "embedding_base_url": "向量接口地址",
    "chroma_mode": "向量库运行方式",
    "chroma_host": "向量库服务地址",
    "chroma_port": "向量库服务端口",
    "collection": "向量库集合名",
    "retrieve_k": "每节检索的段落数",
    "max_figure_value": "数据数值上限",
    "max_figure_rows": "数据行数上限",
    "max_input_file_bytes": "数据和提纲文件大小上限（字节）",
    "max_yaml_depth": "提纲文件嵌套层数上限",
    "max_sibling_sections": "同级章节数上限",
    "max_sections": "章节总数上限",
    "max_outline_depth": "提纲层级上限",
    "max_kb_file_bytes": "素材文件大小上限（字节，命令行导入）",
    "max_upload_bytes": "上传文件大小上限（字节，页面）",
    "accounts": "账户（多人使用，需登录）",
    "session_hours": "登录保持时长（小时，无操作）",
    "database_url": "工作区数据库地址（不设则存于数据目录）",
}

# Values of the settings with a fixed set of choices, as shown.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "embedding": {"use": "随包模型（多语种通用）", "e5": "随包模型（E5）", "openai": "模型服务的向量接口"},
    "chroma_mode": {"embedded": "本机内置", "http": "独立服务"},
}


def shown_value(name: str, value: object) -> str:
    """A setting's value as a user reads it: 未设置 for none, 是/否, choices in words."""
    if value is None or value == "":
        return "未设置"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return CHOICE_LABELS.get(name, {}).get(str(value), str(value))


def described_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(label, key, value as shown) for every setting a user may see (Settings.describe())."""
    return [(LABELS.get(key, key), key, shown_value(key, value)) for key, value in settings.describe().items()]


def input_limits() -> Settings:
    """Settings read afresh, for the input limits: one load of a file reads them once, and does not
    warm (or depend on) the cached settings of a process whose environment may change later."""
    return Settings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


# --- the endpoint an administrator set on the page ------------------------------------------------
# With accounts on, an admin sets the model endpoint for everyone: the address and model name go
# to huibao.toml in the data folder, the key to a file beside it readable by the server's account
# only (or it comes from the environment). Neither is ever sent to a browser.

SERVER_TOML = "huibao.toml"
SERVER_KEY_FILE = "endpoint.key"
_SERVER_FIELDS = ("base_url", "model")


def _data_dir_for_sources() -> Path:
    """The data folder before Settings exists: HUIBAO_DATA_DIR, else huibao.toml's, else the default."""
    if os.environ.get("HUIBAO_DATA_DIR"):
        return Path(os.environ["HUIBAO_DATA_DIR"])
    try:
        with open(_toml_path(), "rb") as f:
            configured = tomllib.load(f).get("data_dir")
    except (OSError, tomllib.TOMLDecodeError):
        configured = None
    return Path(configured) if isinstance(configured, str) and configured else default_data_dir()


class ServerEndpointSource(PydanticBaseSettingsSource):
    """Settings source for the endpoint saved by an admin: <data>/huibao.toml (base_url, model)
    and <data>/endpoint.key. Below the environment, above the working folder's huibao.toml."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # required by the base class
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        folder = _data_dir_for_sources()
        out: dict[str, Any] = {}
        try:
            with open(folder / SERVER_TOML, "rb") as f:
                saved = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError):
            saved = {}
        out.update({k: v for k, v in saved.items() if k in _SERVER_FIELDS and isinstance(v, str) and v})
        try:
            key = (folder / SERVER_KEY_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            key = ""
        if key:
            out["api_key"] = key
        return out


def server_endpoint_stamp(data_dir: Path) -> tuple[float, float]:
    """Changes whenever an admin saves the endpoint: sessions reload their settings then."""

    def mtime(name: str) -> float:
        try:
            return (Path(data_dir) / name).stat().st_mtime
        except OSError:
            return 0.0

    return mtime(SERVER_TOML), mtime(SERVER_KEY_FILE)


def save_server_endpoint(data_dir: Path, base_url: str | None, model: str | None, api_key: str | None) -> None:
    """Save the endpoint for every user of this server: address and model in <data>/huibao.toml,
    the key (when given; an empty one keeps the key saved before) in <data>/endpoint.key, owner-only."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# 管理员在网页“设置”中保存的模型接口（密钥不在此文件中）"]
    for name, value in (("base_url", base_url), ("model", model)):
        if value and value.strip():
            # a TOML basic string: JSON's escapes are TOML's
            lines.append(f"{name} = {json.dumps(value.strip(), ensure_ascii=False)}")
    _replace(folder / SERVER_TOML, "\n".join(lines) + "\n", 0o644)
    if api_key and api_key.strip():
        _replace(folder / SERVER_KEY_FILE, api_key.strip() + "\n", 0o600)
    get_settings.cache_clear()


def clear_server_key(data_dir: Path) -> None:
    (Path(data_dir) / SERVER_KEY_FILE).unlink(missing_ok=True)
    get_settings.cache_clear()


def _replace(path: Path, text: str, mode: int) -> None:
    """Write a whole file at once (a reader never sees half of it), with this mode from the start."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)
