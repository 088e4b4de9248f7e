"""The model port: messages, tools, the ChatModel protocol and its error type.

Drafting, chat and evals depend on this module only; `openai_compat` is the one adapter
that talks to an endpoint, and `assistant.testing.fakes` holds the in-process fake.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field, model_validator

from assistant.core import tokens
from assistant.core.errors import ModelError

# ---- messages and tools --------------------------------------------------------------------


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] | None = None  # assistant message that asked for tools
    tool_call_id: str | None = None  # tool message answering that call

    @model_validator(mode="after")
    def _tool_fields_fit_role(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only an assistant message carries tool_calls")
        return self

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: list[ToolCall] | None = None) -> ChatMessage:
        return cls(role="assistant", content=content, tool_calls=tool_calls or None)

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> ChatMessage:
        return cls(role="tool", content=content, tool_call_id=tool_call_id)


class ToolSpec(BaseModel):
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolReply(BaseModel):
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)

    def as_message(self) -> ChatMessage:
        """The assistant message to append to the conversation before the tool results."""
        return ChatMessage.assistant(self.content, self.tool_calls)


@runtime_checkable
class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[ChatMessage]) -> Iterator[str]: ...

    def complete(self, messages: list[ChatMessage]) -> str: ...

    def complete_with_tools(
        self,
        messages: list[ChatMessage],
        tools: Sequence[ToolSpec | dict],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> ToolReply:
        """One round that may call tools. With ``on_delta`` the answer is streamed: each piece
        of its text is handed on as it arrives (the tool calls come whole, in the reply)."""
        ...


def count_message_tokens(messages: Sequence[ChatMessage], encoding: str = "o200k_base") -> int:
    """Prompt size estimate for budgets (OpenAI's chat accounting: ~3 tokens per message + 3).

    An estimate for non-OpenAI models, whose tokenizers differ: budget with a margin.
    """
    total = 3
    for m in messages:
        total += 4 + tokens.count_tokens(m.content, encoding)
        for call in m.tool_calls or []:
            total += tokens.count_tokens(call.name + json.dumps(call.arguments, ensure_ascii=False), encoding)
    return total


# ---- errors ----------------------------------------------------------------------------------

ErrorKind = Literal[
    "unreachable",
    "auth",
    "not_found",
    "timeout",
    "cut_off",
    "length",
    "empty",
    "rate_limit",
    "server",
    "bad_request",
    "context_overflow",
    "bad_response",
    "bad_tool_call",
]


class ModelCallError(ModelError):
    """A failed model call. `partial` holds text received before a stream broke off; it is
    never returned as a complete answer."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        partial: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind, self.partial, self.status, self.retry_after = kind, partial, status, retry_after
