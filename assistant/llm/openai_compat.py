"""The one adapter that talks to a language model (with errors.py and retry.py, which only
inspect SDK exceptions, the only importer of langchain_openai / openai).

Everything else receives a `ChatModel` and never sees the SDK: drafting, the UI chat and the
evals are tested with `FakeChatModel` (in-process) or against `assistant/testing/openai_server.py` (a real
local HTTP server).

Any OpenAI-compatible endpoint works. Set `HUIBAO_BASE_URL` (or `OPENAI_BASE_URL`),
`HUIBAO_API_KEY` (or `OPENAI_API_KEY`) and `HUIBAO_MODEL`:

| 服务 | base URL | API Key | 模型名示例 |
|---|---|---|---|
| OpenAI | （留空）或 `https://api.openai.com/v1` | 必填 | `gpt-4o-mini` |
| DeepSeek | `https://api.deepseek.com/v1` | 必填 | `deepseek-chat` |
| 通义千问（DashScope 兼容模式） | `https://dashscope.aliyuncs.com/compatible-mode/v1` | 必填 | `qwen-plus` |
| 智谱 GLM | `https://open.bigmodel.cn/api/paas/v4` | 必填 | `glm-4-flash` |
| Moonshot（Kimi） | `https://api.moonshot.cn/v1` | 必填 | `moonshot-v1-8k` |
| vLLM（本单位部署） | `http://<主机>:8000/v1` | 不需要（启用 `--api-key` 时填写） | 启动时的 `--served-model-name` |
| Ollama | `http://localhost:11434/v1` | 不需要 | `qwen2.5:7b` |
| Xinference | `http://<主机>:9997/v1` | 不需要 | 启动的模型 UID |
| llama.cpp server | `http://<主机>:8080/v1` | 不需要（启用 `--api-key` 时填写） | 任意（服务只加载一个模型） |
| LM Studio | `http://localhost:1234/v1` | 不需要 | 界面中加载的模型名 |

Without a key, local servers get the placeholder key "EMPTY" (they ignore it). With neither
a base URL nor a key, `make_model()` returns None and the offline engine drafts instead.

Errors become `ModelCallError` (a `ModelError`) with a Chinese message and a `kind`:
unreachable, auth, not_found, timeout, cut_off, length, empty, rate_limit, server,
bad_request, context_overflow, bad_response, bad_tool_call. The API key never appears in a
message: server text quoted in one is scrubbed of it, and translated errors are raised
`from None` so a traceback does not print the SDK's original message either.

Retries: 429, 5xx, 408 and connection failures are retried up to `settings.max_retries`
times with exponential backoff and jitter, or after exactly `Retry-After` seconds when the
server says so. A timeout is not retried (the user would wait the full timeout again), and
a stream is retried only while nothing has been yielded, so no text is ever duplicated.

Around this module: `errors.py` writes the Chinese messages, `retry.py` holds the retry
policy (tenacity), `think.py` drops a reasoning model's <think> block.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from assistant.core import tokens
from assistant.core.errors import ModelError
from assistant.core.settings import Settings
from assistant.llm.errors import OPENAI_DEFAULT_BASE_URL, PLACEHOLDER_KEY, ErrorTranslator, display_url
from assistant.llm.port import ChatMessage, ChatModel, ModelCallError, ToolCall, ToolReply, ToolSpec
from assistant.llm.retry import RetryPolicy
from assistant.llm.think import ThinkFilter, strip_think

if TYPE_CHECKING:  # the SDK is imported lazily: drafting and the CLI load this module for
    import openai  # ChatMessage/FakeChatModel and should not pay ~0.5 s for the SDK

T = TypeVar("T")


# ---- the configured client --------------------------------------------------------------------


def _api_key(settings: Settings) -> str:
    return settings.api_key.get_secret_value() if settings.api_key is not None else PLACEHOLDER_KEY


def _settle_httpx() -> None:
    """Wait until any other thread has finished importing httpx. The SDK checks for it with
    sys.modules.get("httpx") and read a half-imported module while the page's background
    import of chromadb was loading it ("partially initialized module 'httpx' has no attribute
    'URL'"); an import statement blocks on the module's import lock instead."""
    try:
        import httpx  # noqa: F401  # heavy: only with a model or the knowledge base in use
    except ImportError:  # the SDK then has no legacy httpx to look at
        pass


def openai_client(settings: Settings, *, base_url: str | None = None) -> openai.OpenAI:
    """The SDK client for the configured endpoint (or `base_url`, e.g. the embeddings one).

    The one place the client is built: chat (handed to ChatOpenAI), model listing and
    embeddings all use it. max_retries=0: RetryPolicy retries instead (see retry.py for why
    the SDK's own retries do not fit).
    """
    import openai  # heavy: ~0.5 s, paid only when a model is actually used

    _settle_httpx()
    return openai.OpenAI(
        base_url=base_url or settings.base_url or OPENAI_DEFAULT_BASE_URL,
        api_key=_api_key(settings),
        timeout=settings.request_timeout_s,
        max_retries=0,
    )


# ---- the real model --------------------------------------------------------------------------


def _answer_bound(base_url: str, answer_tokens: int) -> dict[str, object]:
    """ChatOpenAI arguments that bound an answer to `answer_tokens`. ChatOpenAI sends its own
    max_tokens as `max_completion_tokens`, which OpenAI wants; vLLM, Ollama and llama.cpp read
    `max_tokens`, so any other endpoint gets that field through the request body."""
    if answer_tokens <= 0:
        return {}
    if urlsplit(base_url).hostname == urlsplit(OPENAI_DEFAULT_BASE_URL).hostname:
        return {"max_tokens": answer_tokens}
    return {"extra_body": {"max_tokens": answer_tokens}}


_tiktoken_ready = threading.Event()


def _ensure_tiktoken() -> None:
    # langchain-openai counts tokens with tiktoken, which would download its BPE files.
    if not _tiktoken_ready.is_set():
        tokens.ensure_offline_tiktoken()
        _tiktoken_ready.set()


def _untraced(call: Callable[..., T], *args: Any) -> T:
    """call(*args) with LangSmith tracing off: every step of a model call runs through here.

    With LANGSMITH_TRACING=true in a user's environment, LangChain would otherwise send every
    prompt and answer (report text, figures) to a cloud service. `tracing_context(enabled=False)`
    is LangSmith's documented switch for a block of code: it wins over the environment and is
    undone on exit, so the caller's context and concurrent calls are untouched. (Setting
    LANGSMITH_TRACING=false would not do: it is process-wide, and langsmith caches what it read.)
    """
    from langsmith import tracing_context  # heavy: comes with langchain, loaded only for a model call

    with tracing_context(enabled=False):
        return call(*args)


def _message_text(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content or [])


def _to_langchain(messages: Sequence[ChatMessage]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage  # heavy: model only

    out: list[Any] = []
    for m in messages:
        if m.role == "system":
            out.append(SystemMessage(content=m.content))
        elif m.role == "user":
            out.append(HumanMessage(content=m.content))
        elif m.role == "assistant":
            calls = [{"name": c.name, "args": c.arguments, "id": c.id, "type": "tool_call"} for c in m.tool_calls or []]
            out.append(AIMessage(content=m.content, tool_calls=calls))
        else:
            out.append(ToolMessage(content=m.content, tool_call_id=m.tool_call_id or ""))
    return out


def _tool_schema(tool: ToolSpec | dict) -> dict:
    if isinstance(tool, dict) and tool.get("type") == "function":
        return tool
    spec = tool if isinstance(tool, ToolSpec) else ToolSpec.model_validate(tool)
    return {
        "type": "function",
        "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
    }


@dataclass
class _OpenedStream:
    """A stream that has produced its first text or ended: from here on it is not retried."""

    chunks: Generator[Any, None, None]
    think: ThinkFilter
    first: str
    finish: str | None


class OpenAIChatModel:
    """ChatModel over LangChain's ChatOpenAI, with our own retries and Chinese errors.

    Thread-safe: one instance serves the concurrent section drafts (the httpx client pools
    connections; RetryPolicy is thread-safe).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        from langchain_openai import ChatOpenAI  # heavy: ~1 s; only when a model is configured

        _ensure_tiktoken()
        self.name = model or settings.model
        self.base_url = settings.base_url or OPENAI_DEFAULT_BASE_URL
        self.max_retries = max(0, settings.max_retries)
        self.timeout_s = settings.request_timeout_s
        key = _api_key(settings)
        self._errors = ErrorTranslator(self.base_url, self.name, self.timeout_s, key)
        self._retry = RetryPolicy(self._errors, self.max_retries, sleep=sleep, seed=seed)
        client = openai_client(settings)  # (httpx settled: ChatOpenAI builds an async client too)
        # ChatOpenAI sends through our client. It still builds an async client of its own (never
        # used here) from base_url/api_key/timeout/max_retries, so those are passed as well.
        self._llm = ChatOpenAI(
            model=self.name,
            root_client=client,
            client=client.chat.completions,
            base_url=self.base_url,
            api_key=key,
            temperature=settings.temperature,
            timeout=self.timeout_s,
            max_retries=0,
            stream_usage=False,
            use_responses_api=False,
            **_answer_bound(self.base_url, settings.answer_tokens),
        )
        # `streaming` is deliberately left unset: set to False it would turn .stream() into
        # one non-streamed call; unset, .invoke() is non-streaming and .stream() streams.

    def __repr__(self) -> str:  # no key, ever
        return f"OpenAIChatModel(name={self.name!r}, base_url={display_url(self.base_url)!r})"

    # -- ChatModel --
    def complete(self, messages: list[ChatMessage]) -> str:
        return self._complete(messages, self._llm)

    def complete_json(self, messages: list[ChatMessage]) -> str:
        """complete() in the endpoint's JSON mode (response_format json_object). An endpoint that
        refuses the option answers 400: ModelCallError kind "bad_request", and the caller (the
        materials stage) extracts offline instead."""
        return self._complete(messages, self._llm.bind(response_format={"type": "json_object"}))

    def _complete(self, messages: list[ChatMessage], llm: Any) -> str:
        lc = _to_langchain(messages)
        reply = self._retry.run(lambda: _untraced(llm.invoke, lc))
        text = strip_think(_message_text(reply))
        if reply.response_metadata.get("finish_reason") == "length":
            raise self._errors.length(text)
        if not text.strip():
            raise self._errors.empty()
        return text

    def stream(self, messages: list[ChatMessage]) -> Iterator[str]:
        lc = _to_langchain(messages)
        # Only the opening is retried: once text has been yielded, a retry would repeat it.
        opened = self._retry.run(lambda: self._open_stream(lc))
        received: list[str] = []
        finish = opened.finish
        try:
            if opened.first:
                received.append(opened.first)
                yield opened.first
            while (chunk := _untraced(next, opened.chunks, None)) is not None:  # none once closed
                finish = chunk.response_metadata.get("finish_reason") or finish
                text = opened.think.feed(_message_text(chunk))
                if text:
                    received.append(text)
                    yield text
        except ModelError:
            raise
        except Exception as err:  # noqa: BLE001 - the SDK boundary
            raise self._errors.translate(err, partial="".join(received)) from None
        finally:
            _untraced(opened.chunks.close)
        tail = opened.think.flush()
        if tail:
            received.append(tail)
            yield tail
        partial = "".join(received)
        if finish is None:  # the body ended politely but without a finish_reason / [DONE]
            raise self._errors.cut_off(partial)
        if finish == "length":
            raise self._errors.length(partial)
        if not partial.strip():
            raise self._errors.empty()

    def _open_stream(self, lc: list[Any]) -> _OpenedStream:
        """Starts a stream and reads up to its first text (past a think block), or to its end."""
        # A generator (typed as an Iterator): it runs, untraced, on each next(), and is closed
        # to end the request.
        chunks = cast(Generator[Any, None, None], self._llm.stream(lc))
        think, finish = ThinkFilter(), None
        try:
            while (chunk := _untraced(next, chunks, None)) is not None:
                finish = chunk.response_metadata.get("finish_reason") or finish
                text = think.feed(_message_text(chunk))
                if text:
                    return _OpenedStream(chunks, think, text, finish)
        except BaseException:
            _untraced(chunks.close)
            raise
        _untraced(chunks.close)
        text = think.flush()
        if finish is None and not text:
            raise self._errors.cut_off("")  # closed before any text: RetryPolicy tries again
        return _OpenedStream(chunks, think, text, finish)

    def complete_with_tools(
        self,
        messages: list[ChatMessage],
        tools: Sequence[ToolSpec | dict],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> ToolReply:
        lc = _to_langchain(messages)
        bound = self._llm.bind_tools([_tool_schema(t) for t in tools]) if tools else self._llm
        if on_delta is None:
            reply = self._retry.run(lambda: _untraced(bound.invoke, lc))
            text = strip_think(_message_text(reply))
        else:
            reply, text = self._retry.run(lambda: self._stream_round(bound, lc, on_delta))
        if getattr(reply, "invalid_tool_calls", None):
            bad = reply.invalid_tool_calls[0]
            raise ModelCallError(
                f"模型“{self.name}”调用工具“{bad.get('name') or '?'}”时给出的参数不是合法的 JSON。请重试。",
                kind="bad_tool_call",
                partial=text,
            )
        calls = [
            ToolCall(id=c.get("id") or f"call_{i}", name=c["name"], arguments=c.get("args") or {})
            for i, c in enumerate(reply.tool_calls or [])
        ]
        if not calls and reply.response_metadata.get("finish_reason") == "length":
            raise self._errors.length(text)
        if not calls and not text.strip():
            raise self._errors.empty()
        return ToolReply(content=text, tool_calls=calls)

    def _stream_round(self, bound: Any, lc: list[Any], on_delta: Callable[[str], None]) -> tuple[Any, str]:
        """A tool round streamed: text handed on as it arrives, the chunks summed into the whole
        message (tool-call pieces joined by LangChain). Once text was handed on, a failure is
        reported with it as ``partial`` and not retried: a retry would repeat it."""
        chunks = cast(Generator[Any, None, None], bound.stream(lc))
        think, whole, received = ThinkFilter(), None, []
        try:
            while (chunk := _untraced(next, chunks, None)) is not None:
                whole = chunk if whole is None else whole + chunk
                text = think.feed(_message_text(chunk))
                if text:
                    received.append(text)
                    on_delta(text)
        except ModelError:
            raise
        except Exception as err:  # noqa: BLE001 - the SDK boundary
            if not received:
                raise  # nothing shown yet: RetryPolicy may try again
            raise self._errors.translate(err, partial="".join(received)) from None
        finally:
            _untraced(chunks.close)
        tail = think.flush()
        if tail:
            received.append(tail)
            on_delta(tail)
        partial = "".join(received)
        if whole is None or not whole.response_metadata.get("finish_reason"):
            raise self._errors.cut_off(partial)  # no text yet: retried; with text: reported
        return whole, partial


# ---- construction and endpoint checks --------------------------------------------------------


def make_model(
    settings: Settings,
    *,
    model: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    seed: int | None = None,
) -> ChatModel | None:
    """The configured model, or None when no endpoint is configured (use the offline engine)."""
    if not settings.model_configured:
        return None
    return OpenAIChatModel(settings, model=model, sleep=sleep, seed=seed)


def list_models(settings: Settings) -> list[str]:
    """Model names the endpoint offers (GET /models), sorted. ModelCallError on failure."""
    errors = ErrorTranslator(settings.base_url, settings.model, settings.request_timeout_s, _api_key(settings))
    try:
        with openai_client(settings) as client:
            return sorted(m.id for m in client.models.list())
    except ModelError:
        raise
    except Exception as err:  # noqa: BLE001 - the SDK boundary
        raise errors.translate(err) from None


def embedding_endpoint(settings: Settings) -> tuple[str, str]:
    """(base URL, model) of the OpenAI-compatible /embeddings endpoint: embedding_base_url, else
    base_url; embedding_model. The one place this is resolved (the embedder caches by it too)."""
    url = settings.embedding_base_url or settings.base_url
    if not url:
        # unlike chat, no api.openai.com default: an embeddings endpoint is always named explicitly
        raise ModelError('已选择 openai 嵌入（embedding = "openai"），但没有设置 embedding_base_url 或 base_url。')
    return url, settings.embedding_model


def embed_texts(
    settings: Settings, texts: Sequence[str], *, batch_size: int = 64, sleep: Callable[[float], None] = time.sleep
) -> list[list[float]]:
    """Vectors from an OpenAI-compatible POST /embeddings (embedding_endpoint()), in input order.

    For embeddings.py's "openai" option (it must not import the SDK itself). Same retries and
    Chinese errors as chat.
    """
    if not texts:
        return []
    url, name = embedding_endpoint(settings)
    errors = ErrorTranslator(url, name, settings.request_timeout_s, _api_key(settings))
    retry = RetryPolicy(errors, settings.max_retries, sleep=sleep)
    out: list[list[float]] = []
    with openai_client(settings, base_url=url) as client:
        for start in range(0, len(texts), max(1, batch_size)):
            batch = list(texts[start : start + batch_size])
            resp = retry.run(functools.partial(client.embeddings.create, model=name, input=batch))
            data = sorted(resp.data, key=lambda d: d.index)
            if len(data) != len(batch):
                raise ModelCallError(
                    f"向量服务 {display_url(url)} 返回了 {len(data)} 个向量，应为 {len(batch)} 个。",
                    kind="bad_response",
                )
            out.extend(list(map(float, d.embedding)) for d in data)
    return out


def test_connection(settings: Settings, *, model: str | None = None) -> tuple[bool, str]:
    """For the UI's "测试连接" button: (ok, a Chinese sentence saying what works or what failed)."""
    if not settings.model_configured:
        return False, ("未配置模型服务（HUIBAO_BASE_URL / OPENAI_BASE_URL 和 API Key 都未设置），将使用离线起草。")
    name = model or settings.model
    url = display_url(settings.base_url)
    try:
        available = list_models(settings)
    except ModelCallError as err:
        if err.kind != "not_found":
            return False, str(err)
        available = []  # some servers do not implement GET /models: ask the model itself
    if available:
        if name in available:
            return True, f"连接成功：{url} 提供 {len(available)} 个模型，当前模型“{name}”可用。"
        shown = "、".join(available[:10]) + ("等" if len(available) > 10 else "")
        return False, (
            f"已连接 {url}，但没有模型“{name}”。可用的模型：{shown}。请修改 HUIBAO_MODEL（或在设置页选择）。"
        )
    ping = OpenAIChatModel(settings.model_copy(update={"max_retries": 0}), model=name)
    try:
        ping.complete([ChatMessage.user("你好，请回复“好”。")])
    except ModelCallError as err:
        if err.kind not in ("empty", "length"):  # those still prove the model answers
            return False, str(err)
    return True, f"连接成功：{url} 上的模型“{name}”能正常回答（该服务未提供模型列表）。"


# Not a test function, whatever pytest's collector thinks of the name.
test_connection.__test__ = False  # type: ignore[attr-defined]
