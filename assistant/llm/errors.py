"""SDK failures in Chinese: what failed, where, and what to do about it.

`ErrorTranslator.translate` turns an openai SDK exception into a `ModelCallError` whose
message names the endpoint (never its key or URL credentials), the model and the timeout.
Server text quoted in a message is scrubbed of the key and of HTML.
"""

from __future__ import annotations

import email.utils
import re
import time
from typing import TYPE_CHECKING

from assistant.core.settings import masked_url
from assistant.llm.port import ModelCallError

if TYPE_CHECKING:
    import openai

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "EMPTY"  # vLLM / Ollama / llama.cpp accept any key


def display_url(url: str | None) -> str:
    """The base URL as shown to users: no user:password, no query string (tokens hide there)."""
    return masked_url(url) if url else OPENAI_DEFAULT_BASE_URL


def retry_after_seconds(err: BaseException) -> float | None:
    """The wait a failed response asks for: `retry-after-ms`, else `Retry-After` (seconds or an
    HTTP date). None when the error carries no response or the response names no wait."""
    headers = getattr(getattr(err, "response", None), "headers", None)  # an APIStatusError's httpx response
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
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _root_cause(err: BaseException) -> BaseException:
    seen = set()
    while err.__cause__ is not None and id(err) not in seen:
        seen.add(id(err))
        err = err.__cause__
    return err


class ErrorTranslator:
    """Chinese messages for one endpoint and model. Names only what a user may see (URL without
    credentials, model, timeout); holds the key only to scrub it from quoted server text."""

    def __init__(self, base_url: str | None, model: str, timeout_s: float, key: str | None) -> None:
        self.url, self.model, self.timeout_s, self._key = display_url(base_url), model, timeout_s, key

    def scrub(self, text: str, limit: int = 200) -> str:
        if self._key and self._key != PLACEHOLDER_KEY:
            text = text.replace(self._key, "***")
        text = re.sub(r"(?i)\b(sk|key|bearer)[-_ ]?[A-Za-z0-9_\-]{12,}", r"\1-***", text)  # other key-like strings
        text = re.sub(r"(?i)(://)[^/@\s]+@", r"\1", text)  # user:password in a quoted URL
        text = re.sub(r"(?i)([?&][\w.-]*(?:token|key|secret|password|sig)[\w.-]*=)[^&#\s]+", r"\1***", text)
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
        import openai  # heavy: loaded already by the failed call; the offline path never needs it

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
            retry_after = retry_after_seconds(err)
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
            "请精简要点，或调大 HUIBAO_ANSWER_TOKENS（及服务端的最大输出长度）后重试。",
            kind="length",
            partial=partial,
        )
