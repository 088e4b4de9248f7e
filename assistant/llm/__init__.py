"""The model stage: the ChatModel port and the one OpenAI-compatible adapter."""

from assistant.llm.openai_compat import (
    OpenAIChatModel,
    display_url,
    embed_texts,
    embedding_endpoint,
    list_models,
    make_model,
    test_connection,
)
from assistant.llm.port import (
    ChatMessage,
    ChatModel,
    ModelCallError,
    ToolCall,
    ToolReply,
    ToolSpec,
    count_message_tokens,
)

__all__ = [
    "ChatMessage",
    "ChatModel",
    "ModelCallError",
    "OpenAIChatModel",
    "ToolCall",
    "ToolReply",
    "ToolSpec",
    "count_message_tokens",
    "display_url",
    "embed_texts",
    "embedding_endpoint",
    "list_models",
    "make_model",
    "test_connection",
]
