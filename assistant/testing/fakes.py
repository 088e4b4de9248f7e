"""In-process fakes for tests, evals and benchmarks (never imported by the product)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from assistant.llm.port import ChatMessage, ModelCallError, ToolReply, ToolSpec


class FakeChatModel:
    """Queue-based fake for unit tests (after simonw/llm's MockModel), thread-safe.

    `enqueue(item)`: a str (the answer), a ToolReply (for complete_with_tools), or an
    exception to raise; an exception with a non-empty `.partial` (a ModelCallError of kind
    cut_off) makes `stream` yield that partial text first, as a real broken stream would.
    When the queue is empty: `responder(messages)` if given, else `default` if given, else a
    RuntimeError (a test that forgot to script an answer fails loudly, not with a fallback).
    `history` holds every received message list, in arrival order; `tool_history` the tools.
    """

    def __init__(
        self,
        replies: Sequence[str | ToolReply | BaseException] = (),
        *,
        name: str = "fake-chat",
        delay: float = 0.0,
        chunk_chars: int = 4,
        default: str | None = None,
        responder: Callable[[list[ChatMessage]], str | ToolReply] | None = None,
    ) -> None:
        self.name = name
        self.delay = delay
        self.chunk_chars = max(1, chunk_chars)
        self.default = default
        self.responder = responder
        self.history: list[list[ChatMessage]] = []
        self.tool_history: list[list[ToolSpec]] = []
        self._queue: deque[str | ToolReply | BaseException] = deque(replies)
        self._lock = threading.Lock()

    def enqueue(self, item: str | ToolReply | BaseException) -> FakeChatModel:
        with self._lock:
            self._queue.append(item)
        return self

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _take(self, messages: list[ChatMessage]) -> str | ToolReply | BaseException:
        received = [m.model_copy(deep=True) for m in messages]
        with self._lock:
            self.history.append(received)
            item = self._queue.popleft() if self._queue else None
        if item is None:
            if self.responder is not None:
                item = self.responder(received)
            elif self.default is not None:
                item = self.default
            else:
                raise RuntimeError("FakeChatModel: no queued reply left — enqueue() one in the test")
        if self.delay:
            time.sleep(self.delay)  # outside the lock, so concurrent calls overlap like real ones
        return item

    def _chunks(self, text: str) -> Iterator[str]:
        for i in range(0, len(text), self.chunk_chars):
            yield text[i : i + self.chunk_chars]

    def stream(self, messages: list[ChatMessage]) -> Iterator[str]:
        item = self._take(messages)
        if isinstance(item, BaseException):
            yield from self._chunks(getattr(item, "partial", "") or "")
            raise item
        text = item.content if isinstance(item, ToolReply) else item
        if not text.strip():
            raise ModelCallError(f"模型“{self.name}”返回了空回答。请重试，或换用其他模型。", kind="empty")
        yield from self._chunks(text)

    def complete(self, messages: list[ChatMessage]) -> str:
        item = self._take(messages)
        if isinstance(item, BaseException):
            raise item
        text = item.content if isinstance(item, ToolReply) else item
        if not text.strip():
            raise ModelCallError(f"模型“{self.name}”返回了空回答。请重试，或换用其他模型。", kind="empty")
        return text

    def complete_with_tools(
        self,
        messages: list[ChatMessage],
        tools: Sequence[ToolSpec | dict],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> ToolReply:
        specs = [
            t
            if isinstance(t, ToolSpec)
            else ToolSpec.model_validate(t["function"] if isinstance(t, dict) and t.get("type") == "function" else t)
            for t in tools
        ]
        with self._lock:
            self.tool_history.append(specs)
        item = self._take(messages)
        if isinstance(item, BaseException):
            raise item
        reply = item if isinstance(item, ToolReply) else ToolReply(content=item)
        if on_delta is not None:
            for piece in self._chunks(reply.content):
                on_delta(piece)
        return reply
