"""Reasoning text that must not reach a report: a leading <think>…</think> block.

Reasoning models served without a reasoning parser (Qwen3, DeepSeek-R1 distills on
vLLM/Ollama/llama.cpp) put their thinking into the answer text; it must not end up in
a report section.
"""

from __future__ import annotations

import re

_THINK_BLOCK = re.compile(r"^\s*<think>.*?</think>\s*", re.S)


def strip_think(text: str) -> str:
    """A whole answer without its leading think block."""
    return _THINK_BLOCK.sub("", text, count=1)


class ThinkFilter:
    """Drops a leading <think>…</think> block from a stream, piece by piece."""

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
        """At the end of the stream: text held back while it might still have opened a block."""
        out = self._buf if self._state == "start" else ""
        self._buf = ""
        return out
