"""The one module that talks to a language model (the only importer of langchain_openai / openai).

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
"""

from __future__ import annotations

import contextvars
import email.utils
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from assistant.core import tokens
from assistant.core.errors import ModelError
from assistant.core.settings import Settings
from assistant.llm.port import ChatMessage, ChatModel, ModelCallError, ToolCall, ToolReply, ToolSpec

if TYPE_CHECKING:  # the SDK is imported lazily: drafting and the CLI load this module for
    import openai  # ChatMessage/FakeChatModel and should not pay ~0.5 s for the SDK

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "EMPTY"  # vLLM / Ollama / llama.cpp accept any key
MAX_RETRY_AFTER_S = 60.0  # a longer Retry-After is reported, not waited out
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 16.0

T = TypeVar("T")


def display_url(url: str | None) -> str:
    """The base URL as shown to users: no user:password, no query string (tokens hide there)."""
    if not url:
        return OPENAI_DEFAULT_BASE_URL
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "（地址格式无效）"


def _retry_after_seconds(headers: Any) -> float | None:
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
    except (AttributeError, ValueError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # HTTP-date form
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _root_cause(err: BaseException) -> BaseException:
    seen = set()
    while err.__cause__ is not None and id(err) not in seen:
        seen.add(id(err))
        err = err.__cause__
    return err


class _Context:
    """What error messages may name: URL, model, timeout. Holds the key only to scrub it."""

    def __init__(self, base_url: str | None, model: str, timeout_s: float, key: str | None) -> None:
        self.url, self.model, self.timeout_s, self._key = display_url(base_url), model, timeout_s, key

    def scrub(self, text: str, limit: int = 200) -> str:
        if self._key and self._key != PLACEHOLDER_KEY:
            text = text.replace(self._key, "***")
        text = re.sub(r"(?i)\b(sk|key|bearer)[-_ ]?[A-Za-z0-9_\-]{12,}", r"\1-***", text)  # other key-like strings
        text = re.sub(r"<[^>]{1,200}>", " ", text)  # an HTML error page from a proxy
        text = " ".join(text.split())
        return text if len(text) <= limit else text[:limit] + "…"

    def server_detail(self, err: openai.APIError) -> str:
        body = getattr(err, "body", None)
        message = None
        if isinstance(body, dict):
            inner = body.get("error", body)
            message = inner.get("message") if isinstance(inner, dict) else inner
        elif isinstance(body, str):
            message = body
        if not message and getattr(err, "response", None) is not None:
            try:  # not JSON (a proxy's HTML page): the SDK keeps only "Error code: N"
                message = err.response.text  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - a body that cannot be read is not worth a crash
                message = None
        return self.scrub(str(message or getattr(err, "message", "") or type(err).__name__))

    def translate(self, err: BaseException, *, partial: str = "", retries: int = 0) -> ModelCallError:
        """SDK exception -> ModelCallError with a Chinese message naming what failed."""
        import openai

        url, model, n = self.url, self.model, len(partial)
        tried = f"（已重试 {retries} 次）" if retries else ""
        if isinstance(err, openai.APITimeoutError):
            if partial:
                return ModelCallError(
                    f"模型服务 {url} 在回答中途超过 {self.timeout_s:g} 秒没有新内容（超时），回答被中断。"
                    f"已收到的 {n} 个字不完整，未作为结果使用。请重试，或调大 HUIBAO_REQUEST_TIMEOUT_S。",
                    kind="timeout",
                    partial=partial,
                )
            return ModelCallError(
                f"模型服务 {url} 在 {self.timeout_s:g} 秒内没有回应（超时）{tried}。"
                "请稍后重试，或调大 HUIBAO_REQUEST_TIMEOUT_S；本地模型首次加载可能较慢。",
                kind="timeout",
            )
        if isinstance(err, openai.APIConnectionError):
            if partial:
                return self.cut_off(partial)
            root = _root_cause(err)
            reason = "连接失败"
            if isinstance(root, ConnectionRefusedError) or "refused" in str(root).lower():
                reason = "连接被拒绝，服务可能未启动或端口不对"
            elif (
                "name or service not known" in str(root).lower()
                or "getaddrinfo" in str(root).lower()
                or "nodename nor servname" in str(root).lower()
            ):
                reason = "无法解析主机名"
            elif "ssl" in type(root).__name__.lower() or "certificate" in str(root).lower():
                reason = "HTTPS 证书校验失败"
            elif "protocol" in type(root).__name__.lower() or "disconnect" in str(root).lower():
                reason = "服务端中途断开了连接"
            return ModelCallError(
                f"无法连接模型服务 {url}（{reason}）{tried}。请确认服务已启动、地址和端口正确、本机能访问该地址；"
                "不使用模型时可不设置 HUIBAO_BASE_URL / OPENAI_BASE_URL，改用离线起草。",
                kind="unreachable",
            )
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            if status in (401, 403):
                what = "API Key 无效或已过期（401 未授权）" if status == 401 else "API Key 无权访问（403 禁止访问）"
                return ModelCallError(
                    f"模型服务 {url} 拒绝了请求：{what}。请检查 HUIBAO_API_KEY / OPENAI_API_KEY 是否正确、"
                    f"是否有模型“{model}”的使用权限。",
                    kind="auth",
                    status=status,
                )
            if status == 404:
                detail = self.server_detail(err)
                if "model" in detail.lower() or "模型" in detail:
                    return ModelCallError(
                        f"模型服务 {url} 上没有模型“{model}”（404）。请运行 `huibao models` 查看可用的模型名，"
                        "或检查 HUIBAO_MODEL 设置。",
                        kind="not_found",
                        status=404,
                    )
                return ModelCallError(
                    f"模型服务 {url} 找不到所请求的接口或模型“{model}”（404）。请检查地址（通常以 /v1 结尾）"
                    "和 HUIBAO_MODEL；可运行 `huibao models` 查看可用模型。",
                    kind="not_found",
                    status=404,
                )
            retry_after = _retry_after_seconds(getattr(err.response, "headers", None))
            if status == 429:
                wait = f"服务要求 {retry_after:g} 秒后再试，" if retry_after else ""
                return ModelCallError(
                    f"模型服务 {url} 限流（429 请求过多）{tried}。{wait}请稍后重试，"
                    "或调小 HUIBAO_MAX_CONCURRENCY 以减少同时发出的请求。",
                    kind="rate_limit",
                    status=429,
                    retry_after=retry_after,
                )
            detail = self.server_detail(err)
            if status >= 500:
                return ModelCallError(
                    f"模型服务 {url} 出错（HTTP {status}）{tried}：{detail}",
                    kind="server",
                    status=status,
                    retry_after=retry_after,
                )
            low = detail.lower()
            if (
                "context" in low
                and ("length" in low or "window" in low)
                or "too long" in low
                or "maximum context" in low
            ):
                return ModelCallError(
                    f"提示词超出了模型“{model}”的上下文长度（HTTP {status}）。请减少参考素材（HUIBAO_RETRIEVE_K）"
                    "或调小 HUIBAO_CONTEXT_TOKENS 后重试。",
                    kind="context_overflow",
                    status=status,
                )
            return ModelCallError(
                f"模型服务 {url} 拒绝了请求（HTTP {status}）：{detail}", kind="bad_request", status=status
            )
        if isinstance(err, openai.APIError):  # e.g. an error event inside a 200 stream
            if partial:
                return self.cut_off(partial, detail=self.server_detail(err))
            return ModelCallError(f"模型服务 {url} 返回错误：{self.server_detail(err)}", kind="server")
        return ModelCallError(
            f"模型服务 {url} 返回了无法解析的结果（{type(err).__name__}）。请确认它兼容 OpenAI 接口。",
            kind="bad_response",
            partial=partial,
        )

    def cut_off(self, partial: str, detail: str = "") -> ModelCallError:
        why = f"：{detail}" if detail else ""
        return ModelCallError(
            f"模型服务 {self.url} 的流式回答在中途断开（已收到 {len(partial)} 个字，未收到结束标记）{why}。"
            "这段不完整的内容没有作为结果使用，请重试。",
            kind="cut_off",
            partial=partial,
        )

    def empty(self) -> ModelCallError:
        return ModelCallError(f"模型“{self.model}”返回了空回答。请重试，或换用其他模型。", kind="empty")

    def length(self, partial: str) -> ModelCallError:
        return ModelCallError(
            f"模型“{self.model}”的回答达到长度上限被截断（已收到 {len(partial)} 个字），未作为完整结果使用。"
            "请精简要点，或调大服务端的最大输出长度后重试。",
            kind="length",
            partial=partial,
        )


def _retryable(err: BaseException) -> bool:
    import openai

    if isinstance(err, openai.APITimeoutError):
        return False  # waiting the whole timeout again rarely helps; say so at once
    if isinstance(err, openai.APIConnectionError):
        return True
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 429) or err.status_code >= 500
    return False


class _Retrier:
    """Runs a call, retrying what `_retryable` allows with backoff or Retry-After."""

    def __init__(self, ctx: _Context, max_retries: int, sleep: Callable[[float], None], seed: int | None) -> None:
        self.ctx, self.max_retries, self.sleep = ctx, max(0, max_retries), sleep
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # one model serves concurrent drafts

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after  # the server's instruction, exactly
        base = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2**attempt))
        with self._lock:
            return base + self._rng.uniform(0, base / 2)

    def wait_for(self, err: BaseException, attempt: int) -> float | None:
        """Seconds to wait before the next try, or None to give up."""
        import openai

        if attempt >= self.max_retries or not _retryable(err):
            return None
        retry_after = None
        if isinstance(err, openai.APIStatusError):
            retry_after = _retry_after_seconds(getattr(err.response, "headers", None))
            if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                return None  # an hour-long Retry-After: report it rather than hang
        return self.backoff(attempt, retry_after)

    def run(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except ModelError:
                raise
            except Exception as err:  # noqa: BLE001 - the SDK boundary: translate everything
                wait = self.wait_for(err, attempt)
                if wait is None:
                    raise self.ctx.translate(err, retries=attempt) from None
                self.sleep(wait)
                attempt += 1


# ---- the real model --------------------------------------------------------------------------

_tiktoken_ready = threading.Event()


def _ensure_tiktoken() -> None:
    # langchain-openai counts tokens with tiktoken, which would download its BPE files.
    if not _tiktoken_ready.is_set():
        tokens.ensure_offline_tiktoken()
        _tiktoken_ready.set()


def _untraced() -> contextvars.Context:
    """A context with LangSmith tracing off, for one model call.

    With LANGSMITH_TRACING=true in a user's environment, LangChain would otherwise send every
    prompt and answer (report text, figures) to a cloud service. Set in a copied context, not
    globally: the caller's own context is untouched and concurrent calls do not interfere.
    """
    ctx = contextvars.copy_context()
    try:
        from langsmith import run_helpers

        ctx.run(run_helpers._TRACING_ENABLED.set, False)
    except (ImportError, AttributeError):  # no langsmith: nothing would trace anyway
        pass
    return ctx


def _api_key(settings: Settings) -> str:
    return settings.api_key.get_secret_value() if settings.api_key is not None else PLACEHOLDER_KEY


def _message_text(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content or [])


_THINK_BLOCK = re.compile(r"^\s*<think>.*?</think>\s*", re.S)


class _ThinkFilter:
    """Drops a leading <think>…</think> block from a stream.

    Reasoning models served without a reasoning parser (Qwen3, DeepSeek-R1 distills on
    vLLM/Ollama/llama.cpp) put their thinking into the answer text; it must not end up in
    a report section.
    """

    OPEN, CLOSE = "<think>", "</think>"

    def __init__(self) -> None:
        self._buf, self._state = "", "start"  # start -> (thinking -> after ->) pass

    def feed(self, text: str) -> str:
        if self._state == "pass":
            return text
        if self._state == "after":  # blank lines between </think> and the answer
            text = text.lstrip()
            if text:
                self._state = "pass"
            return text
        self._buf += text
        if self._state == "start":
            head = self._buf.lstrip()
            if len(head) < len(self.OPEN) and self.OPEN.startswith(head):
                return ""  # cannot tell yet
            if not head.startswith(self.OPEN):
                self._state, out, self._buf = "pass", self._buf, ""
                return out
            self._state = "thinking"
        end = self._buf.find(self.CLOSE)
        if end < 0:
            return ""
        out, self._buf = self._buf[end + len(self.CLOSE) :].lstrip(), ""
        self._state = "pass" if out else "after"
        return out

    def flush(self) -> str:
        out = self._buf if self._state == "start" else ""
        self._buf = ""
        return out


def _strip_think(text: str) -> str:
    return _THINK_BLOCK.sub("", text, count=1)


def _to_langchain(messages: Sequence[ChatMessage]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

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


class OpenAIChatModel:
    """ChatModel over LangChain's ChatOpenAI, with our own retries and Chinese errors.

    Thread-safe: one instance serves the concurrent section drafts (the httpx client pools
    connections; the jitter RNG is behind a lock).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        from langchain_openai import ChatOpenAI

        _ensure_tiktoken()
        self.name = model or settings.model
        self.base_url = settings.base_url or OPENAI_DEFAULT_BASE_URL
        self.max_retries = max(0, settings.max_retries)
        self.timeout_s = settings.request_timeout_s
        key = _api_key(settings)
        self._ctx = _Context(self.base_url, self.name, self.timeout_s, key)
        self._retry = _Retrier(self._ctx, self.max_retries, sleep, seed)
        # max_retries=0: the SDK's own retries would hide Retry-After handling and re-send
        # a half-streamed answer; _Retrier does it instead.
        self._llm = ChatOpenAI(
            model=self.name,
            base_url=self.base_url,
            api_key=key,
            temperature=settings.temperature,
            timeout=self.timeout_s,
            max_retries=0,
            stream_usage=False,
            use_responses_api=False,
        )
        # `streaming` is deliberately left unset: set to False it would turn .stream() into
        # one non-streamed call; unset, .invoke() is non-streaming and .stream() streams.

    def __repr__(self) -> str:  # no key, ever
        return f"OpenAIChatModel(name={self.name!r}, base_url={display_url(self.base_url)!r})"

    # -- ChatModel --
    def complete(self, messages: list[ChatMessage]) -> str:
        lc = _to_langchain(messages)
        reply = self._retry.run(lambda: _untraced().run(self._llm.invoke, lc))
        text = _strip_think(_message_text(reply))
        if reply.response_metadata.get("finish_reason") == "length":
            raise self._ctx.length(text)
        if not text.strip():
            raise self._ctx.empty()
        return text

    def stream(self, messages: list[ChatMessage]) -> Iterator[str]:
        lc = _to_langchain(messages)
        attempt = 0
        while True:
            received: list[str] = []
            finish: str | None = None
            think = _ThinkFilter()
            ctx = _untraced()
            chunks = ctx.run(self._llm.stream, lc)
            try:
                while (chunk := ctx.run(next, chunks, None)) is not None:
                    finish = chunk.response_metadata.get("finish_reason") or finish
                    text = think.feed(_message_text(chunk))
                    if text:
                        received.append(text)
                        yield text
            except ModelError:
                raise
            except Exception as err:  # noqa: BLE001 - the SDK boundary
                partial = "".join(received)
                if not partial:
                    wait = self._retry.wait_for(err, attempt)
                    if wait is not None:  # nothing was yielded: a retry cannot duplicate text
                        self._retry.sleep(wait)
                        attempt += 1
                        continue
                raise self._ctx.translate(err, partial=partial, retries=attempt) from None
            finally:
                ctx.run(chunks.close)
            tail = think.flush()
            if tail:
                received.append(tail)
                yield tail
            partial = "".join(received)
            if finish is None:  # the body ended politely but without a finish_reason / [DONE]
                if not partial and attempt < self.max_retries:
                    self._retry.sleep(self._retry.backoff(attempt, None))
                    attempt += 1
                    continue
                raise self._ctx.cut_off(partial)
            if finish == "length":
                raise self._ctx.length(partial)
            if not partial.strip():
                raise self._ctx.empty()
            return

    def complete_with_tools(self, messages: list[ChatMessage], tools: Sequence[ToolSpec | dict]) -> ToolReply:
        lc = _to_langchain(messages)
        bound = self._llm.bind_tools([_tool_schema(t) for t in tools]) if tools else self._llm
        reply = self._retry.run(lambda: _untraced().run(bound.invoke, lc))
        text = _strip_think(_message_text(reply))
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
            raise self._ctx.length(text)
        if not calls and not text.strip():
            raise self._ctx.empty()
        return ToolReply(content=text, tool_calls=calls)


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


def _client(settings: Settings) -> openai.OpenAI:
    import openai

    return openai.OpenAI(
        base_url=settings.base_url or OPENAI_DEFAULT_BASE_URL,
        api_key=_api_key(settings),
        timeout=settings.request_timeout_s,
        max_retries=0,
    )


def list_models(settings: Settings) -> list[str]:
    """Model names the endpoint offers (GET /models), sorted. ModelCallError on failure."""
    ctx = _Context(settings.base_url, settings.model, settings.request_timeout_s, _api_key(settings))
    try:
        with _client(settings) as client:
            return sorted(m.id for m in client.models.list())
    except ModelError:
        raise
    except Exception as err:  # noqa: BLE001 - the SDK boundary
        raise ctx.translate(err) from None


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
    key = _api_key(settings)
    import openai

    retry = _Retrier(_Context(url, name, settings.request_timeout_s, key), settings.max_retries, sleep, None)
    out: list[list[float]] = []
    with openai.OpenAI(base_url=url, api_key=key, timeout=settings.request_timeout_s, max_retries=0) as client:
        for start in range(0, len(texts), max(1, batch_size)):
            batch = list(texts[start : start + batch_size])
            resp = retry.run(lambda batch=batch: client.embeddings.create(model=name, input=batch))
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
