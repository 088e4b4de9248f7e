"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, benchmarks and the browser e2e.

Why a real server rather than mocks: `assistant.llm` goes through langchain-openai, the
openai SDK and httpx; only a socket exercises all three (SSE framing, status mapping,
Retry-After headers, a connection dropped mid-stream).

In a test::

    from assistant.testing.openai_server import fake_openai, settings_for  # noqa: F401  (fixture)

    def test_something(fake_openai):
        fake_openai.enqueue("一、工作开展情况……")
        model = make_model(settings_for(fake_openai))
        ...
        assert fake_openai.chat_requests[0].prompt.startswith(...)

Scripting: a FIFO queue of replies (`enqueue*`), then an optional `responder` callable
(request JSON -> str | Reply | dict | None), then a 500 "queue empty" answer so a test never
hangs waiting for a reply nobody scripted.

Standalone (browser e2e, benchmarks)::

    python -m assistant.testing.openai_server --port 8765 [--delay 0.5] [--script replies.jsonl] [--responder clean]

Script lines (JSONL), also accepted as dicts from a responder:
    {"text": "…"}                                   a normal answer
    {"error": 429, "headers": {"Retry-After": "1"}, "body": {...}}
    {"timeout": 3}                                  sleep 3 s, then answer
    {"cut": "…", "after_chars": 10}                 stream 10 chars, then drop the connection
    {"stall": "…", "after_chars": 10, "seconds": 5} stream 10 chars, pause 5 s, then the rest
    {"empty": true}                                 an empty answer
    {"tool_call": {"name": "…", "arguments": {…}}}  one tool call
    any of them may add "delay": seconds
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from assistant.core.settings import Settings
from assistant.core.tokens import get_encoding
from assistant.llm import OpenAIChatModel

DEFAULT_MODELS = ["fake-model", "fake-embedding"]
EMBEDDING_DIM = 64
HELD_MAX_S = 30.0  # enqueue_held: a test that never releases its gate still ends

ReplyKind = Literal["text", "error", "timeout", "cut", "stall", "empty", "tool_call"]


@dataclass
class Reply:
    """One scripted answer to one chat request."""

    kind: ReplyKind = "text"
    text: str = ""
    status: int = 200
    body: Any = None  # error body (dict -> JSON, str -> sent as is)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float | None = None  # seconds before answering; None -> server.delay
    after_chars: int = 0  # "cut"/"stall": characters streamed before the drop/pause
    stall_s: float = 0.0  # "stall": pause mid-stream (provokes a read timeout)
    clean_eof: bool = False  # "cut": end the HTTP body properly, just no finish/[DONE]
    tool_calls: list[dict] = field(default_factory=list)  # [{"id", "name", "arguments": dict}]
    finish_reason: str | None = None  # override ("length" to simulate a truncated answer)
    gate: threading.Event | None = None  # "stall": pause until the test sets it (enqueue_held)

    @classmethod
    def coerce(cls, obj: Any) -> Reply:
        """str -> text answer; Reply -> itself; dict -> the script format in the module doc."""
        if isinstance(obj, Reply):
            return obj
        if isinstance(obj, str):
            return cls(text=obj)
        if not isinstance(obj, dict):
            raise TypeError(f"fake_openai: cannot turn {type(obj).__name__} into a reply")
        delay = float(obj["delay"]) if obj.get("delay") is not None else None
        finish_reason = obj.get("finish_reason")
        if "error" in obj:
            return cls(
                kind="error",
                status=int(obj["error"]),
                body=obj.get("body"),
                headers={str(k): str(v) for k, v in (obj.get("headers") or {}).items()},
                delay=delay,
                finish_reason=finish_reason,
            )
        if "timeout" in obj:
            return cls(
                kind="timeout",
                text=obj.get("text", "迟到的回答。"),
                delay=float(obj["timeout"]),
                finish_reason=finish_reason,
            )
        if "cut" in obj:
            return cls(
                kind="cut",
                text=obj["cut"],
                after_chars=int(obj.get("after_chars", len(obj["cut"]) // 2)),
                clean_eof=bool(obj.get("clean_eof", False)),
                delay=delay,
                finish_reason=finish_reason,
            )
        if "stall" in obj:
            return cls(
                kind="stall",
                text=obj["stall"],
                after_chars=int(obj.get("after_chars", len(obj["stall"]) // 2)),
                stall_s=float(obj.get("seconds", 5)),
                delay=delay,
                finish_reason=finish_reason,
            )
        if obj.get("empty"):
            return cls(kind="empty", delay=delay, finish_reason=finish_reason)
        if "tool_call" in obj or "tool_calls" in obj:
            calls = obj.get("tool_calls") or [obj["tool_call"]]
            return cls(
                kind="tool_call",
                text=obj.get("text", ""),
                tool_calls=[_tool_call(**c) for c in calls],
                delay=delay,
                finish_reason=finish_reason,
            )
        if "text" in obj:
            return cls(text=obj["text"], delay=delay, finish_reason=finish_reason)
        raise ValueError(f"fake_openai: unknown reply spec {obj!r}")


def _tool_call(name: str, arguments: dict | str, id: str | None = None) -> dict:
    return {"id": id or f"call_{hashlib.sha1(name.encode()).hexdigest()[:8]}", "name": name, "arguments": arguments}


@dataclass
class RecordedRequest:
    method: str
    path: str  # as sent, e.g. "/v1/chat/completions"
    headers: dict[str, str]  # Authorization's value replaced by "<present>"
    json: Any  # parsed body (None for GET or unparsable)
    has_authorization: bool
    authorization_ok: bool | None = None  # only decided when require_key is set

    @property
    def messages(self) -> list[dict]:
        return list((self.json or {}).get("messages") or []) if isinstance(self.json, dict) else []

    @property
    def prompt(self) -> str:
        """All message contents joined: what a content-dependent assertion usually wants."""
        return "\n".join(_content_text(m.get("content")) for m in self.messages)

    @property
    def last_user(self) -> str:
        users = [m for m in self.messages if m.get("role") == "user"]
        return _content_text(users[-1].get("content")) if users else ""

    @property
    def stream(self) -> bool:
        return bool(isinstance(self.json, dict) and self.json.get("stream"))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def embed_text(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Deterministic, unit-length vector from hashed character unigrams and bigrams.

    Not random per text: texts sharing characters get similar vectors, so a knowledge-base
    test can assert that the passage sharing the query's words ranks first.
    """
    vec = [0.0] * dim
    grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
    for gram in grams:
        if gram.isspace():
            continue
        h = hashlib.sha256(gram.encode("utf-8")).digest()
        idx = int.from_bytes(h[:4], "little") % dim
        vec[idx] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [v / norm for v in vec]


class FakeOpenAIServer:
    """Threaded OpenAI-compatible server. `start()` binds a free port; `stop()` tears down."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        delay: float = 0.0,
        chunk_chars: int = 3,
        chunk_delay: float = 0.0,
    ) -> None:
        self.host, self._port = host, port
        self.delay = delay  # seconds before every answer (benchmarks: concurrency)
        self.chunk_chars = chunk_chars  # characters per SSE delta
        self.chunk_delay = chunk_delay  # seconds between SSE deltas (UI streaming demos)
        self.responder: Callable[[dict], Any] | None = None
        self.require_key: str | None = None
        self.known_models: list[str] | None = None
        self.models: list[str] = list(DEFAULT_MODELS)  # what GET /models lists
        self.serve_models = True  # False: GET /models answers 404 (servers without it)
        self.embedding_dim = EMBEDDING_DIM
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._embedding_errors: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self.max_in_flight = 0  # peak concurrent chat requests (benchmarks)

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server((self.host, self._port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay/timeout
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL as a client wants it (ends in /v1)."""
        return f"http://{self.host}:{self.port}/v1"

    # ---- scripting -------------------------------------------------------------------
    def enqueue(self, reply: str | Reply | dict, *, delay: float | None = None) -> None:
        r = Reply.coerce(reply)
        if delay is not None:
            r.delay = delay
        with self._lock:
            self._queue.append(r)

    def enqueue_error(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.enqueue(Reply(kind="error", status=status, body=body, headers=dict(headers or {})))

    def enqueue_timeout(self, seconds: float, text: str = "迟到的回答。") -> None:
        """Sleep `seconds` before answering: longer than the client's timeout provokes one."""
        self.enqueue(Reply(kind="timeout", text=text, delay=seconds))

    def enqueue_cut_stream(self, text: str, after_chars: int, *, clean_eof: bool = False) -> None:
        """Send the first `after_chars` characters, then drop the connection (no [DONE]).

        clean_eof=True ends the HTTP body properly instead (a proxy that closes politely):
        the client then sees a stream with neither finish_reason nor [DONE].
        """
        self.enqueue(Reply(kind="cut", text=text, after_chars=after_chars, clean_eof=clean_eof))

    def enqueue_stall(self, text: str, after_chars: int, seconds: float) -> None:
        """Stream `after_chars` characters, pause `seconds`, then the rest: a mid-stream timeout."""
        self.enqueue(Reply(kind="stall", text=text, after_chars=after_chars, stall_s=seconds))

    def enqueue_held(self, text: str, after_chars: int) -> threading.Event:
        """Stream `after_chars` characters, then hold the rest until the returned event is set:
        a test sees the first part arrive while the answer is provably unfinished."""
        gate = threading.Event()
        self.enqueue(Reply(kind="stall", text=text, after_chars=after_chars, stall_s=HELD_MAX_S, gate=gate))
        return gate

    def enqueue_empty(self) -> None:
        self.enqueue(Reply(kind="empty"))

    def enqueue_tool_call(
        self, name: str, arguments: dict | str, *, content: str = "", call_id: str | None = None
    ) -> None:
        self.enqueue(Reply(kind="tool_call", text=content, tool_calls=[_tool_call(name, arguments, call_id)]))

    def enqueue_embedding_error(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._embedding_errors.append(Reply(kind="error", status=status, body=body, headers=dict(headers or {})))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.path.endswith("/chat/completions")]

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._embedding_errors.clear()
            self.requests.clear()
            self.max_in_flight = 0
        self.responder = None

    # ---- used by the handler ---------------------------------------------------------
    def _next_reply(self, body: dict) -> Reply | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            out = self.responder(body)
            return None if out is None else Reply.coerce(out)
        return None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (its timeout, a cut stream) is normal here, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _error_body(status: int, message: str | None = None, code: str | None = None) -> dict:
    defaults = {
        400: ("Bad request", "invalid_request_error"),
        401: ("Incorrect API key provided", "invalid_api_key"),
        403: ("Permission denied", "permission_denied"),
        404: ("Not found", "not_found"),
        429: ("Rate limit reached, please retry later", "rate_limit_exceeded"),
        500: ("The server had an error while processing your request", "server_error"),
        502: ("Bad gateway", "server_error"),
        503: ("Service unavailable", "server_error"),
    }
    msg, default_code = defaults.get(status, (f"HTTP {status}", "error"))
    return {
        "error": {
            "message": message or msg,
            "type": "invalid_request_error" if status < 500 else "server_error",
            "param": None,
            "code": code or default_code,
        }
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer  # set on the subclass made in start()
    protocol_version = "HTTP/1.1"  # keep-alive and chunked SSE, like real servers
    server_version = "fake-openai/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # ---- plumbing --------------------------------------------------------------------
    def _record(self, body: Any) -> RecordedRequest:
        headers = {k: v for k, v in self.headers.items()}
        has_auth = any(k.lower() == "authorization" for k in headers)
        headers = {k: ("<present>" if k.lower() == "authorization" else v) for k, v in headers.items()}
        rec = RecordedRequest(self.command, self.path, headers, body, has_auth)
        with self.fake._lock:
            self.fake.requests.append(rec)
        return rec

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = obj.encode("utf-8") if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/json" if not isinstance(obj, str) else "text/plain; charset=utf-8"
        )
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path[3:] if path.startswith("/v1") else path

    def _auth_failed(self, rec: RecordedRequest) -> bool:
        key = self.fake.require_key
        if key is None:
            return False
        got = self.headers.get("Authorization", "")
        rec.authorization_ok = got == f"Bearer {key}"
        if rec.authorization_ok:
            return False
        # Worst case on purpose: echo the key that was sent, so the client's scrubbing is tested.
        sent = got.removeprefix("Bearer ").strip()
        self._send_json(401, _error_body(401, f"Incorrect API key provided: {sent}", "invalid_api_key"))
        return True

    def _unknown_model(self, body: Any) -> bool:
        known = self.fake.known_models
        name = body.get("model") if isinstance(body, dict) else None
        if known is None or name in known:
            return False
        self._send_json(
            404,
            _error_body(404, f"The model `{name}` does not exist or you do not have access to it.", "model_not_found"),
        )
        return True

    # ---- endpoints -------------------------------------------------------------------
    def do_GET(self) -> None:
        rec = self._record(None)
        if self._route() == "/models" and self.fake.serve_models:
            if self._auth_failed(rec):
                return
            models = self.fake.known_models if self.fake.known_models is not None else self.fake.models
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake-openai"} for m in models
                    ],
                },
            )
        else:
            self._send_json(404, _error_body(404, f"no route {self.path}"))

    def do_POST(self) -> None:
        body = self._read_json()
        rec = self._record(body)
        route = self._route()
        if route not in ("/chat/completions", "/embeddings"):
            self._send_json(404, _error_body(404, f"no route {self.path}"))
            return
        if not isinstance(body, dict):
            self._send_json(400, _error_body(400, "request body is not a JSON object"))
            return
        if self._auth_failed(rec) or self._unknown_model(body):
            return
        try:
            if route == "/embeddings":
                self._embeddings(body)
            else:
                self._chat(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing left to answer

    def _embeddings(self, body: dict) -> None:
        with self.fake._lock:
            err = self.fake._embedding_errors.popleft() if self.fake._embedding_errors else None
        if err is not None:
            self._send_json(err.status, err.body if err.body is not None else _error_body(err.status), err.headers)
            return
        inputs = body.get("input")
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        texts = [_token_ids_to_text(x) if isinstance(x, list) else str(x) for x in (inputs or [])]
        data = []
        for i, text in enumerate(texts):
            vec = embed_text(text, self.fake.embedding_dim)
            if body.get("encoding_format") == "base64":  # the openai SDK's default
                emb: Any = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")
            else:
                emb = vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(len(t) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _chat(self, body: dict) -> None:
        fake = self.fake
        with fake._lock:
            fake._in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
        try:
            reply = fake._next_reply(body)
            if reply is None:
                self._send_json(
                    500,
                    _error_body(
                        500,
                        "fake_openai: no scripted reply (queue empty and no responder) — enqueue() one in the test",
                        "fake_queue_empty",
                    ),
                )
                return
            fake._wait(reply.delay if reply.delay is not None else fake.delay)
            if fake._stopping.is_set():
                return
            if reply.kind == "error":
                payload = reply.body if reply.body is not None else _error_body(reply.status)
                self._send_json(reply.status, payload, reply.headers)
            elif body.get("stream"):
                self._stream(body, reply)
            else:
                self._complete(body, reply)
        finally:
            with fake._lock:
                fake._in_flight -= 1

    def _base(self, body: dict, obj: str) -> dict:
        return {
            "id": "chatcmpl-fake",
            "object": obj,
            "created": int(time.time()),
            "model": body.get("model"),
            "system_fingerprint": None,
        }

    @staticmethod
    def _wire_tool_calls(reply: Reply) -> list[dict]:
        return [
            {
                "id": c["id"],
                "type": "function",
                "function": {
                    "name": c["name"],
                    "arguments": c["arguments"]
                    if isinstance(c["arguments"], str)
                    else json.dumps(c["arguments"], ensure_ascii=False),
                },
            }
            for c in reply.tool_calls
        ]

    def _complete(self, body: dict, reply: Reply) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": "" if reply.kind == "empty" else reply.text}
        finish = reply.finish_reason or "stop"
        if reply.kind == "tool_call":
            message["tool_calls"] = self._wire_tool_calls(reply)
            message["content"] = reply.text or None
            finish = reply.finish_reason or "tool_calls"
        prompt_tokens = sum(len(_content_text(m.get("content"))) for m in body.get("messages") or [])
        out = {
            **self._base(body, "chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(reply.text),
                "total_tokens": prompt_tokens + len(reply.text),
            },
        }
        if reply.kind == "stall":
            self.fake._wait(reply.stall_s)
        if reply.kind == "cut":  # non-streaming cut: promise the whole body, send half, hang up
            data = json.dumps(out, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self._hang_up()
            return
        self._send_json(200, out)

    # -- SSE --
    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, obj: Any) -> None:
        text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
        self._write_chunk(f"data: {text}\n\n".encode())

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream(self, body: dict, reply: Reply) -> None:
        fake = self.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = self._base(body, "chat.completion.chunk")

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

        self._event(chunk({"role": "assistant", "content": ""}))
        text = "" if reply.kind == "empty" else reply.text
        if reply.kind == "cut":
            text = text[: reply.after_chars]
        step = max(1, fake.chunk_chars)
        pieces: list[str | None] = [text[i : i + step] for i in range(0, len(text), step)]
        if reply.kind == "stall":  # split exactly at after_chars, pause there
            head, tail = text[: reply.after_chars], text[reply.after_chars :]
            pieces = (
                [head[i : i + step] for i in range(0, len(head), step)]
                + [None]
                + [tail[i : i + step] for i in range(0, len(tail), step)]
            )
        for piece in pieces:
            if piece is None:
                if reply.gate is not None:  # held for the test; never longer than stall_s
                    reply.gate.wait(reply.stall_s)
                else:
                    fake._wait(reply.stall_s)
                if fake._stopping.is_set():
                    return
                continue
            if fake.chunk_delay:
                fake._wait(fake.chunk_delay)
            self._event(chunk({"content": piece}))
        if reply.kind == "cut":
            if reply.clean_eof:
                self._write_chunk(b"")  # terminating chunk: a polite close, still no [DONE]
                self.close_connection = True
            else:
                self._hang_up()
            return
        finish = reply.finish_reason or "stop"
        if reply.kind == "tool_call":
            finish = reply.finish_reason or "tool_calls"
            for idx, call in enumerate(self._wire_tool_calls(reply)):
                self._event(chunk({"tool_calls": [{"index": idx, **call}]}))
        self._event(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event(
                {
                    **base,
                    "choices": [],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(text), "total_tokens": 1 + len(text)},
                }
            )
        self._event("[DONE]")
        self._write_chunk(b"")


def _token_ids_to_text(ids: list[int]) -> str:
    # langchain's OpenAIEmbeddings may send cl100k token ids instead of text.
    try:
        return get_encoding("cl100k_base").decode(ids)
    except Exception:
        return " ".join(map(str, ids))


# ---- settings / fixtures -----------------------------------------------------------------


def settings_for(server: FakeOpenAIServer, **overrides: Any):
    """Settings pointing at the fake: key "test-key", model "fake-model", 5 s timeout, 2 retries."""
    values: dict[str, Any] = {
        "base_url": server.url,
        "api_key": "test-key",
        "model": "fake-model",
        "request_timeout_s": 5.0,
        "max_retries": 2,
    }
    values.update(overrides)
    return Settings(**values)


class SleepRecorder:
    """Injected in place of time.sleep: records the waits and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.calls.append(seconds)


def model_for(server: FakeOpenAIServer, *, sleep: Callable[[float], None] | None = None, **overrides: Any):
    """An OpenAIChatModel on the fake whose retry waits are recorded, not slept (fast tests)."""
    return OpenAIChatModel(settings_for(server, **overrides), sleep=sleep or SleepRecorder(), seed=0)


# ---- standalone --------------------------------------------------------------------------

CLEAN_PARAGRAPHS = [
    "围绕年度目标任务，我们坚持把责任扛在肩上、把工作抓在手上，统筹推进各项重点工作，"
    "健全完善工作机制，加强协调配合，狠抓任务落实，各项工作取得了新的进展。",
    "我们坚持问题导向和目标导向相统一，聚焦群众关切，细化工作措施，压实工作责任，"
    "推动各项任务落地见效，服务保障能力进一步提升。",
    "我们注重建章立制，规范工作流程，加强队伍建设，提升履职能力，"
    "推动工作制度化、规范化水平持续提高，为完成全年任务提供了有力保障。",
]

_FIGURE_ROW = re.compile(r"^\s*([^|\s]+)\s*\|\s*([^|]+?)\s*\|\s*(-?\d+(?:\.\d+)?)\s*\|\s*([^|]*?)\s*$", re.M)
CLEAN_TITLE = "统筹推进重点工作取得新进展"
JUDGE_ANSWER = '{"score": 5, "reason": "语体庄重规范，结构清晰，标点正确。"}'


def _figure_value(text: str) -> str:
    # The prompt renders floats ("44.0"); a drafter writes 44.
    return text[:-2] if text.endswith(".0") else text


def clean_responder(body: dict) -> str:
    """Deterministic, style-clean answer to any prompt, using only the prompt's own figures.

    Follows prompts/section.j2 and repair.j2: every row of the figures table
    (`F01 | 新闻发布会 | 44.0 | 场`) is quoted once with its value and unit as given, no other
    number appears, and when the prompt asks for a title on the first line one is written.
    A judge prompt (prompts/judge.j2) gets a JSON score. Picks one of a few fixed paragraphs
    by a hash of the last user message, so sections differ but a rerun is identical.
    """
    messages = body.get("messages") or []
    users = [m for m in messages if m.get("role") == "user"]
    last = _content_text(users[-1].get("content")) if users else ""
    if "JSON" in last and "score" in last:
        return JUDGE_ANSWER
    idx = int(hashlib.sha256(last.encode("utf-8")).hexdigest(), 16) % len(CLEAN_PARAGRAPHS)
    text = CLEAN_PARAGRAPHS[idx]
    figures = [
        (m.group(2), _figure_value(m.group(3)), m.group(4)) for m in _FIGURE_ROW.finditer(last) if m.group(1) != "编号"
    ]
    if figures:
        text += "全年" + "，".join(f"{item}{value}{unit}" for item, value, unit in figures) + "。"
    if "第一行输出拟定的标题" in last:
        text = CLEAN_TITLE + "\n" + text
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m assistant.testing.openai_server",
        description="Local OpenAI-compatible server for e2e tests and benchmarks.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: pick a free port (printed)")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed deltas")
    p.add_argument("--script", help="JSONL of replies, replayed in order")
    p.add_argument(
        "--responder",
        choices=["clean", "none"],
        default=None,
        help="answer after the script runs out (default: clean without --script, none with it)",
    )
    p.add_argument("--require-key", default=None, help="answer 401 unless this key is sent")
    p.add_argument("--models", default=None, help="comma-separated known model names (others get 404)")
    args = p.parse_args(argv)

    server = FakeOpenAIServer(args.host, args.port, delay=args.delay, chunk_delay=args.chunk_delay)
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    try:
                        server.enqueue(json.loads(line))
                    except (ValueError, TypeError) as err:
                        print(f"{args.script}:{n}: {err}", file=sys.stderr)
                        return 2
    responder = args.responder or ("none" if args.script else "clean")
    if responder == "clean":
        server.responder = clean_responder
    server.require_key = args.require_key
    if args.models:
        server.known_models = [m.strip() for m in args.models.split(",") if m.strip()]
    server.start()
    print(f"fake OpenAI server listening on {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
