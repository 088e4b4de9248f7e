"""assistant.llm end to end: langchain-openai -> openai SDK -> httpx -> assistant/testing/openai_server.py."""

from __future__ import annotations

import email.utils
import json
import socket
import subprocess
import sys
import threading
import traceback
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from assistant.core.errors import ModelError
from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.llm import (
    ChatMessage,
    ChatModel,
    ModelCallError,
    OpenAIChatModel,
    ToolCall,
    ToolReply,
    ToolSpec,
    count_message_tokens,
    embed_texts,
    list_models,
    make_model,
    test_connection,
)
from assistant.llm.openai_compat import openai_client
from assistant.testing.fakes import FakeChatModel
from assistant.testing.openai_server import (
    Reply,
    SleepRecorder,
    clean_responder,
    embed_text,
    model_for,
    settings_for,
)

TEXT = "一年来，我们坚持稳中求进工作总基调，统筹推进各项重点工作，各项任务取得新进展。"
KEY = "sk-RECOGNISABLE-secret-0123456789abcdef"
USER = [ChatMessage.system("你是公文写作助手。"), ChatMessage.user("请起草“工作开展情况”一节。")]


def _model(server, sleep=None, **overrides) -> OpenAIChatModel:
    return model_for(server, sleep=sleep or SleepRecorder(), **overrides)


def _free_closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_key(err: BaseException) -> None:
    shown = str(err) + repr(err) + "".join(traceback.format_exception(err)) + repr(getattr(err, "partial", ""))
    assert KEY not in shown
    assert "RECOGNISABLE" not in shown


# ---- clean answers ---------------------------------------------------------------------------


def test_stream_and_complete_return_the_answer(fake_openai):
    model = _model(fake_openai)
    fake_openai.enqueue(TEXT)
    deltas = list(model.stream(USER))
    assert "".join(deltas) == TEXT and len(deltas) > 3  # really streamed, in pieces
    fake_openai.enqueue(TEXT)
    assert model.complete(USER) == TEXT

    streamed, completed = fake_openai.chat_requests
    assert streamed.stream and not completed.stream
    assert streamed.json["model"] == "fake-model"
    assert streamed.messages == [
        {"role": "system", "content": "你是公文写作助手。"},
        {"role": "user", "content": "请起草“工作开展情况”一节。"},
    ]
    assert streamed.has_authorization and streamed.headers.get("authorization") == "<present>"
    assert isinstance(model, ChatModel) and model.name == "fake-model"


def test_make_model_builds_the_configured_model(fake_openai):
    fake_openai.enqueue(TEXT)
    model = make_model(settings_for(fake_openai), model="other-model")
    assert model is not None and model.name == "other-model"
    assert model.complete(USER) == TEXT
    assert fake_openai.chat_requests[0].json["model"] == "other-model"


def test_make_model_is_none_without_an_endpoint():
    assert make_model(Settings()) is None


def test_endpoint_without_key_sends_placeholder_key(fake_openai):
    fake_openai.require_key = "EMPTY"  # vLLM/Ollama ignore the key; the SDK insists on one
    fake_openai.enqueue(TEXT)
    model = make_model(settings_for(fake_openai, api_key=None))
    assert model is not None and model.complete(USER) == TEXT
    assert fake_openai.chat_requests[0].authorization_ok


# ---- retries ---------------------------------------------------------------------------------


def test_429_waits_exactly_retry_after_then_succeeds(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_error(429, headers={"Retry-After": "1"})
    fake_openai.enqueue(TEXT)
    assert _model(fake_openai, sleep).complete(USER) == TEXT
    assert sleep.calls == [1.0]
    assert len(fake_openai.chat_requests) == 2


def test_retry_after_ms_and_stream_retry(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_error(429, headers={"retry-after-ms": "250"})
    fake_openai.enqueue(TEXT)
    assert "".join(_model(fake_openai, sleep).stream(USER)) == TEXT
    assert sleep.calls == [0.25]


def test_very_long_retry_after_is_reported_not_waited(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_error(429, headers={"Retry-After": "3600"})
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai, sleep).complete(USER)
    assert info.value.kind == "rate_limit" and "3600" in str(info.value) and "HUIBAO_MAX_CONCURRENCY" in str(info.value)
    assert sleep.calls == [] and len(fake_openai.chat_requests) == 1


def test_retry_after_as_an_http_date(fake_openai):
    sleep = SleepRecorder()
    when = datetime.now(UTC) + timedelta(seconds=30)
    fake_openai.enqueue_error(503, headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)})
    fake_openai.enqueue(TEXT)
    assert _model(fake_openai, sleep).complete(USER) == TEXT
    assert len(sleep.calls) == 1 and 20.0 <= sleep.calls[0] <= 30.0  # whole seconds, minus the time taken


def test_408_is_retried_other_4xx_are_not(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_error(408)
    fake_openai.enqueue(TEXT)
    assert _model(fake_openai, sleep).complete(USER) == TEXT
    fake_openai.enqueue_error(409)  # the SDK's own policy would retry this; ours reports it
    fake_openai.enqueue(TEXT)
    with pytest.raises(ModelCallError):
        _model(fake_openai, sleep).complete(USER)
    assert len(sleep.calls) == 1 and len(fake_openai.chat_requests) == 3 and fake_openai.pending == 1


def test_500_then_success_backs_off_with_jitter(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_error(500)
    fake_openai.enqueue(TEXT)
    assert _model(fake_openai, sleep).complete(USER) == TEXT
    assert len(sleep.calls) == 1 and 1.0 <= sleep.calls[0] <= 1.5
    assert len(fake_openai.chat_requests) == 2


def test_persistent_500_gives_up_after_max_retries(fake_openai):
    sleep = SleepRecorder()
    for _ in range(3):
        fake_openai.enqueue_error(503, body={"error": {"message": "upstream overloaded"}})
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai, sleep).complete(USER)
    err = info.value
    assert isinstance(err, ModelError) and err.kind == "server" and err.status == 503
    assert "503" in str(err) and "upstream overloaded" in str(err) and "重试 2 次" in str(err)
    assert len(fake_openai.chat_requests) == 3
    assert len(sleep.calls) == 2 and sleep.calls[1] > sleep.calls[0]  # exponential
    assert fake_openai.pending == 0


def test_backoff_is_deterministic_with_a_seed(fake_openai):
    waits = []
    for _ in range(2):
        sleep = SleepRecorder()
        fake_openai.enqueue_error(500)
        fake_openai.enqueue(TEXT)
        _model(fake_openai, sleep).complete(USER)
        waits.append(sleep.calls)
    assert waits[0] == waits[1]


def test_empty_queue_answers_500_with_a_clear_message(fake_openai):
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai, max_retries=0).complete(USER)
    assert "queue empty" in str(info.value)


# ---- failures --------------------------------------------------------------------------------


def test_timeout_names_the_seconds_and_is_not_retried(fake_openai):
    fake_openai.enqueue_timeout(5)
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai, request_timeout_s=0.3).complete(USER)
    assert info.value.kind == "timeout" and "0.3 秒" in str(info.value)
    assert "HUIBAO_REQUEST_TIMEOUT_S" in str(info.value)
    assert len(fake_openai.chat_requests) == 1


def test_stream_timeout_before_any_text(fake_openai):
    fake_openai.enqueue_timeout(5)
    with pytest.raises(ModelCallError) as info:
        list(_model(fake_openai, request_timeout_s=0.3).stream(USER))
    assert info.value.kind == "timeout" and info.value.partial == ""


@pytest.mark.parametrize("clean_eof", [False, True], ids=["dropped", "closed-without-done"])
def test_cut_stream_raises_with_partial_and_no_duplicates(fake_openai, clean_eof):
    fake_openai.enqueue_cut_stream(TEXT, after_chars=10, clean_eof=clean_eof)
    fake_openai.enqueue(TEXT)  # must NOT be fetched: a retry would repeat the first 10 characters
    got: list[str] = []
    with pytest.raises(ModelCallError) as info:
        for delta in _model(fake_openai).stream(USER):
            got.append(delta)
    err = info.value
    assert err.kind == "cut_off" and err.partial == TEXT[:10] == "".join(got)
    assert "中途断开" in str(err) and "10 个字" in str(err)
    assert len(fake_openai.chat_requests) == 1 and fake_openai.pending == 1


def test_stream_cut_before_any_text_is_retried(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_cut_stream(TEXT, after_chars=0)
    fake_openai.enqueue(TEXT)
    assert "".join(_model(fake_openai, sleep).stream(USER)) == TEXT
    assert len(fake_openai.chat_requests) == 2 and len(sleep.calls) == 1


def test_cut_non_streaming_body_is_retried(fake_openai):
    fake_openai.enqueue(Reply(kind="cut", text=TEXT))
    fake_openai.enqueue(TEXT)
    assert _model(fake_openai).complete(USER) == TEXT


@pytest.mark.parametrize("mode", ["complete", "stream", "tools"])
def test_empty_answer_is_an_error(fake_openai, mode):
    fake_openai.enqueue_empty()
    model = _model(fake_openai)
    with pytest.raises(ModelCallError) as info:
        if mode == "complete":
            model.complete(USER)
        elif mode == "stream":
            list(model.stream(USER))
        else:
            model.complete_with_tools(USER, [ToolSpec(name="t")])
    assert info.value.kind == "empty" and "空回答" in str(info.value)


@pytest.mark.parametrize("mode", ["complete", "stream"])
def test_answer_truncated_by_length_is_not_returned_as_complete(fake_openai, mode):
    fake_openai.enqueue(Reply(text=TEXT, finish_reason="length"))
    model = _model(fake_openai)
    with pytest.raises(ModelCallError) as info:
        model.complete(USER) if mode == "complete" else list(model.stream(USER))
    assert info.value.kind == "length" and info.value.partial == TEXT


def test_bad_key_401_says_so_without_the_key(fake_openai):
    fake_openai.require_key = "the-right-key"  # the fake echoes the wrong key in its error body
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai, api_key=KEY).complete(USER)
    err = info.value
    assert err.kind == "auth" and err.status == 401 and "API Key" in str(err) and "401" in str(err)
    _no_key(err)
    assert len(fake_openai.chat_requests) == 1  # a wrong key is not retried


def test_forbidden_403(fake_openai):
    fake_openai.enqueue_error(403)
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai).complete(USER)
    assert info.value.kind == "auth" and "403" in str(info.value)


def test_unknown_model_404_names_the_model(fake_openai):
    fake_openai.known_models = ["fake-model"]
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai, model="qwen-nonexistent").complete(USER)
    err = info.value
    assert err.kind == "not_found" and "qwen-nonexistent" in str(err)
    assert "huibao models" in str(err) and "HUIBAO_MODEL" in str(err)


def test_wrong_path_404_hints_at_v1(fake_openai):
    settings = settings_for(fake_openai, base_url=fake_openai.url.removesuffix("/v1") + "/wrong")
    with pytest.raises(ModelCallError) as info:
        OpenAIChatModel(settings, sleep=SleepRecorder()).complete(USER)
    assert info.value.kind == "not_found" and "/v1" in str(info.value)


def test_unreachable_endpoint_names_the_url():
    port = _free_closed_port()
    sleep = SleepRecorder()
    url = f"http://127.0.0.1:{port}/v1"
    model = OpenAIChatModel(Settings(base_url=url, api_key=KEY, max_retries=2, request_timeout_s=2), sleep=sleep)
    with pytest.raises(ModelCallError) as info:
        model.complete(USER)
    err = info.value
    assert err.kind == "unreachable" and url in str(err) and "连接被拒绝" in str(err)
    assert len(sleep.calls) == 2  # connection errors are retried
    _no_key(err)
    with pytest.raises(ModelCallError) as info:
        list(model.stream(USER))
    assert info.value.kind == "unreachable"


def test_url_credentials_are_not_shown():
    port = _free_closed_port()
    model = OpenAIChatModel(Settings(base_url=f"http://user:{KEY}@127.0.0.1:{port}/v1?key={KEY}", max_retries=0))
    with pytest.raises(ModelCallError) as info:
        model.complete(USER)
    assert f"http://127.0.0.1:{port}/v1" in str(info.value)
    _no_key(info.value)
    assert KEY not in repr(model)


@pytest.mark.parametrize("script", ["server-echo", "timeout", "cut", "not-found", "bad-request"])
def test_key_never_in_error_messages(fake_openai, script):
    if script == "server-echo":
        for _ in range(3):
            fake_openai.enqueue_error(500, body={"error": {"message": f"proxy failed for key {KEY}"}})
    elif script == "timeout":
        fake_openai.enqueue_timeout(5)
    elif script == "cut":
        fake_openai.enqueue_cut_stream(TEXT, 5)
    elif script == "not-found":
        fake_openai.known_models = ["x"]
    else:
        fake_openai.enqueue_error(400, body={"error": {"message": f"invalid header Bearer {KEY}"}})
    model = _model(fake_openai, api_key=KEY, request_timeout_s=0.3)
    with pytest.raises(ModelCallError) as info:
        list(model.stream(USER))
    _no_key(info.value)


def test_context_overflow_is_explained(fake_openai):
    fake_openai.enqueue_error(
        400,
        body={
            "error": {
                "message": "This model's maximum context length is 8192 tokens",
                "code": "context_length_exceeded",
            }
        },
    )
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai).complete(USER)
    assert info.value.kind == "context_overflow" and "上下文" in str(info.value)


# ---- tool calling ----------------------------------------------------------------------------

LOOKUP = ToolSpec(
    name="lookup_figure",
    description="按编号查询数据表中的一项数据",
    parameters={"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
)


def test_tool_call_round_trip(fake_openai):
    model = _model(fake_openai)
    fake_openai.enqueue_tool_call("lookup_figure", {"id": "F01"}, call_id="call_1")
    messages = [ChatMessage.user("新闻发布会开了几场？")]
    reply = model.complete_with_tools(messages, [LOOKUP])
    assert reply.tool_calls == [ToolCall(id="call_1", name="lookup_figure", arguments={"id": "F01"})]

    messages += [reply.as_message(), ChatMessage.tool("call_1", "F01 新闻发布会 44 场")]
    fake_openai.enqueue("全年召开新闻发布会44场。")
    final = model.complete_with_tools(messages, [LOOKUP])
    assert final.content == "全年召开新闻发布会44场。" and final.tool_calls == []

    first, second = fake_openai.chat_requests
    assert first.json["tools"][0]["function"]["name"] == "lookup_figure"
    assert first.json["tools"][0]["function"]["description"] == LOOKUP.description
    sent = second.messages
    assert sent[1]["role"] == "assistant" and sent[1]["tool_calls"][0]["id"] == "call_1"
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {"id": "F01"}
    assert sent[2] == {"role": "tool", "content": "F01 新闻发布会 44 场", "tool_call_id": "call_1"}


def test_tool_call_with_invalid_json_arguments(fake_openai):
    fake_openai.enqueue_tool_call("lookup_figure", "{not json")
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai).complete_with_tools([ChatMessage.user("?")], [LOOKUP])
    assert info.value.kind == "bad_tool_call" and "lookup_figure" in str(info.value)


def test_tool_message_needs_an_id():
    with pytest.raises(ValueError):
        ChatMessage(role="tool", content="x")


# ---- listing and testing the connection -------------------------------------------------------


def test_list_models_and_test_connection(fake_openai):
    settings = settings_for(fake_openai)
    assert list_models(settings) == ["fake-embedding", "fake-model"]
    ok, message = test_connection(settings)
    assert ok and "fake-model" in message and "可用" in message

    ok, message = test_connection(settings, model="qwen-plus")
    assert not ok and "qwen-plus" in message and "fake-model" in message and "HUIBAO_MODEL" in message


def test_test_connection_failures(fake_openai):
    ok, message = test_connection(Settings())
    assert not ok and "离线" in message

    fake_openai.require_key = "right"
    ok, message = test_connection(settings_for(fake_openai, api_key=KEY))
    assert not ok and "API Key" in message and KEY not in message

    url = f"http://127.0.0.1:{_free_closed_port()}/v1"
    ok, message = test_connection(Settings(base_url=url))
    assert not ok and url in message


def test_credentials_in_the_address_are_never_shown(fake_openai, monkeypatch):
    from typer.testing import CliRunner

    from assistant.commands.main import app
    from assistant.core.settings import get_settings
    from assistant.llm.errors import ErrorTranslator

    url = f"http://user:pw-SECRET@127.0.0.1:{_free_closed_port()}/v1?token=tok-SECRET"
    ok, message = test_connection(Settings(base_url=url))
    assert not ok and "SECRET" not in message and "127.0.0.1" in message
    monkeypatch.setenv("HUIBAO_BASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "300"})
    shown = result.output + str(result.exception)  # main() prints the error; here it is raised
    assert result.exit_code != 0 and "127.0.0.1" in shown and "SECRET" not in shown
    quoted = ErrorTranslator(url, "m", 5, None).scrub(f"upstream {url}&access_token=at-SECRET failed")
    assert "SECRET" not in quoted and "127.0.0.1" in quoted


def test_test_connection_without_models_endpoint_pings_the_model(fake_openai):
    fake_openai.serve_models = False
    fake_openai.enqueue("好")
    ok, message = test_connection(settings_for(fake_openai))
    assert ok and "fake-model" in message
    assert fake_openai.chat_requests[0].json["model"] == "fake-model"


def test_answers_are_bounded_by_answer_tokens(fake_openai):
    # vLLM, Ollama and llama.cpp read max_tokens; ChatOpenAI alone would send max_completion_tokens.
    model = _model(fake_openai, answer_tokens=321)
    fake_openai.enqueue(TEXT)
    fake_openai.enqueue(TEXT)
    model.complete(USER)
    list(model.stream(USER))
    fake_openai.enqueue(TEXT)
    model.complete_with_tools(USER, [LOOKUP])  # chat's tool calls are bounded too
    assert len(fake_openai.chat_requests) == 3
    for request in fake_openai.chat_requests:
        assert request.json["max_tokens"] == 321
        assert "max_completion_tokens" not in request.json


# ---- embeddings, tokens ----------------------------------------------------------------------


def test_embed_texts_against_the_fake(fake_openai):
    settings = settings_for(fake_openai)
    texts = ["新闻发布会", "新闻发布会召开情况", "法规备案审查"]
    vectors = embed_texts(settings, texts, batch_size=2)
    assert len(vectors) == 3 and all(len(v) == 64 for v in vectors)
    assert vectors[0] == pytest.approx(embed_text(texts[0]), abs=1e-6)  # base64 float32 round trip
    sim = [sum(a * b for a, b in zip(vectors[0], v)) for v in vectors[1:]]
    assert sim[0] > sim[1]  # shared characters -> closer vectors
    assert [r.json["model"] for r in fake_openai.requests if r.path.endswith("/embeddings")] == ["bge-m3", "bge-m3"]


def test_embed_texts_errors_are_translated(fake_openai):
    fake_openai.enqueue_embedding_error(404, body={"error": {"message": "model bge-m3 not found"}})
    with pytest.raises(ModelCallError) as info:
        embed_texts(settings_for(fake_openai), ["x"])
    assert info.value.kind == "not_found" and "bge-m3" in str(info.value)


def test_embed_texts_retries_like_chat(fake_openai):
    sleep = SleepRecorder()
    fake_openai.enqueue_embedding_error(429, headers={"retry-after-ms": "500"})
    assert len(embed_texts(settings_for(fake_openai), ["x"], sleep=sleep)) == 1
    assert sleep.calls == [0.5]


def test_one_configured_client_without_sdk_retries(fake_openai):
    settings = settings_for(fake_openai, request_timeout_s=7)
    client = openai_client(settings)
    assert str(client.base_url).rstrip("/") == fake_openai.url and client.timeout == 7
    assert client.max_retries == 0  # RetryPolicy retries; the SDK would also retry timeouts
    assert str(openai_client(settings, base_url="http://127.0.0.1:9/v1").base_url).startswith("http://127.0.0.1:9/")
    chat = _model(fake_openai)._llm  # ChatOpenAI sends through a client from the same factory
    assert chat.root_client.max_retries == 0 and str(chat.root_client.base_url) == str(client.base_url)
    assert chat.client is not None and chat.client._client is chat.root_client


def test_embedding_endpoint_is_resolved_once_for_embedder_and_request(fake_openai):
    from assistant.llm import embedding_endpoint
    from assistant.llm.embeddings import make_embedder

    # the embeddings URL wins over the chat URL (here a closed port), for the request itself too
    settings = settings_for(
        fake_openai,
        base_url="http://127.0.0.1:9/v1",
        embedding_base_url=fake_openai.url,
        embedding="openai",
        embedding_model="bge-m3",
        max_retries=0,
    )
    assert embedding_endpoint(settings) == (fake_openai.url, "bge-m3")
    assert len(embed_texts(settings, ["新闻发布会"])[0]) == 64
    assert len(make_embedder(settings).embed_query("新闻发布会")) == 64
    assert embedding_endpoint(settings.model_copy(update={"embedding_base_url": None}))[0] == "http://127.0.0.1:9/v1"
    # neither URL: the same clear error from the embedder and from a direct call (no api.openai.com default)
    bare = Settings(api_key="k", embedding="openai")
    for call in (lambda: make_embedder(bare), lambda: embed_texts(bare, ["x"])):
        with pytest.raises(ModelError, match="embedding_base_url"):
            call()


def test_count_message_tokens():
    ref = "202x年，在市委和市人大常委会党组的坚强领导下，市人大常委会办公室紧扣宣传贯彻党的工作主线。"
    assert count_message_tokens([ChatMessage.user(ref)]) == 31 + 4 + 3
    assert count_message_tokens([ChatMessage.user(ref)], "cl100k_base") == 59 + 4 + 3


# ---- concurrency -----------------------------------------------------------------------------


def test_one_model_serves_concurrent_requests(fake_openai):
    # The responder only answers once four requests are in flight together: proves overlap
    # without timing anything.
    barrier = threading.Barrier(4, timeout=10)

    def responder(body):
        barrier.wait()
        return "第" + body["messages"][-1]["content"] + "节。"

    fake_openai.responder = responder
    model = _model(fake_openai)
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = (
            "".join(model.stream([ChatMessage.user(str(i))])) if i % 2 else model.complete([ChatMessage.user(str(i))])
        )

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert results == {i: f"第{i}节。" for i in range(4)}
    assert fake_openai.max_in_flight == 4


# ---- FakeChatModel ---------------------------------------------------------------------------


def test_fake_chat_model_queue_history_and_errors():
    fake = FakeChatModel(["第一段。", "第二段内容较长一些。"], chunk_chars=3)
    assert isinstance(fake, ChatModel)
    assert fake.complete(USER) == "第一段。"
    deltas = list(fake.stream([ChatMessage.user("再来")]))
    assert "".join(deltas) == "第二段内容较长一些。" and len(deltas) == 4
    assert [m[-1].content for m in fake.history] == ["请起草“工作开展情况”一节。", "再来"]

    cut = ModelCallError("断开", kind="cut_off", partial="部分文字")
    fake.enqueue(cut).enqueue(ToolReply(tool_calls=[ToolCall(id="c1", name="lookup_figure", arguments={"id": "F01"})]))
    got = []
    with pytest.raises(ModelCallError) as info:
        for d in fake.stream(USER):
            got.append(d)
    assert "".join(got) == "部分文字" and info.value is cut
    reply = fake.complete_with_tools(USER, [LOOKUP, {"type": "function", "function": {"name": "t2"}}])
    assert reply.tool_calls[0].name == "lookup_figure"
    assert [t.name for t in fake.tool_history[0]] == ["lookup_figure", "t2"]

    with pytest.raises(RuntimeError, match="no queued reply"):
        fake.complete(USER)
    fake.enqueue("")
    with pytest.raises(ModelCallError):
        fake.complete(USER)


def test_fake_chat_model_responder_and_default():
    fake = FakeChatModel(responder=lambda msgs: "答：" + msgs[-1].content)
    assert fake.complete([ChatMessage.user("一")]) == "答：一"
    assert FakeChatModel(default="默认。").complete(USER) == "默认。"


def test_fake_chat_model_is_thread_safe():
    n_threads, per_thread = 8, 50
    fake = FakeChatModel([f"回答{i}。" for i in range(n_threads * per_thread)], chunk_chars=2)
    answers: list[str] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for j in range(per_thread):
            msg = [ChatMessage.user(f"{t}-{j}")]
            text = fake.complete(msg) if j % 2 else "".join(fake.stream(msg))
            with lock:
                answers.append(text)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == sorted(f"回答{i}。" for i in range(n_threads * per_thread))
    assert len(fake.history) == n_threads * per_thread and fake.pending == 0
    assert {m[0].content for m in fake.history} == {f"{t}-{j}" for t in range(n_threads) for j in range(per_thread)}


# ---- the fake server itself -------------------------------------------------------------------


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_reply_script_format():
    assert Reply.coerce({"error": 429, "headers": {"Retry-After": 1}}).headers == {"Retry-After": "1"}
    assert Reply.coerce({"timeout": 2}).delay == 2.0
    assert Reply.coerce({"cut": "abcdef", "after_chars": 2}).after_chars == 2
    assert Reply.coerce({"empty": True}).kind == "empty"
    assert Reply.coerce({"tool_call": {"name": "t", "arguments": {"a": 1}}}).tool_calls[0]["name"] == "t"
    assert Reply.coerce({"text": "x", "delay": 0.5}).delay == 0.5
    with pytest.raises(ValueError):
        Reply.coerce({"nonsense": 1})


def test_clean_responder_quotes_only_supplied_figures():
    plain = clean_responder({"messages": [{"role": "user", "content": "请起草总结。"}]})
    assert plain and not any(ch.isdigit() for ch in plain)
    table = "编号 | 事项 | 数值 | 单位\nF01 | 新闻发布会 | 44.0 | 场\nF02 | 网站访问量 | 44.1 | 万人次\n"
    with_table = clean_responder({"messages": [{"role": "user", "content": "数据表\n" + table}]})
    assert "新闻发布会44场" in with_table and "网站访问量44.1万人次" in with_table
    titled = clean_responder({"messages": [{"role": "user", "content": "1. 第一行输出拟定的标题（只写标题文字）"}]})
    assert titled.split("\n")[0] and titled.count("\n") == 1
    judge = clean_responder({"messages": [{"role": "user", "content": '请只输出一个 JSON 对象：{"score": 分数}'}]})
    assert json.loads(judge)["score"] == 5


def test_standalone_server_runs(tmp_path):
    script = tmp_path / "replies.jsonl"
    script.write_text(json.dumps({"text": "脚本回答。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant.testing.openai_server",
            "--port",
            "0",
            "--script",
            str(script),
            "--responder",
            "clean",
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on" in line
        url = line.split()[-1]
        body = {"model": "m", "messages": [{"role": "user", "content": "起草"}]}
        status, first = _post(url + "/chat/completions", body)
        assert status == 200 and first["choices"][0]["message"]["content"] == "脚本回答。"
        status, second = _post(url + "/chat/completions", body)
        assert status == 200 and second["choices"][0]["message"]["content"] in clean_responder(body)
    finally:
        proc.terminate()
        proc.wait(10)


# ---- hardening -------------------------------------------------------------------------------


def test_stream_stalling_mid_way_times_out_with_partial(fake_openai):
    fake_openai.enqueue_stall(TEXT, after_chars=6, seconds=5)
    got: list[str] = []
    with pytest.raises(ModelCallError) as info:
        for d in _model(fake_openai, request_timeout_s=0.3).stream(USER):
            got.append(d)
    err = info.value
    assert err.kind == "timeout" and err.partial == TEXT[:6] == "".join(got)
    assert "0.3 秒" in str(err) and "中途" in str(err)
    assert len(fake_openai.chat_requests) == 1


@pytest.mark.parametrize("chunk_chars", [1, 3, 50])
def test_leading_think_block_is_dropped(fake_openai, chunk_chars):
    fake_openai.chunk_chars = chunk_chars
    model = _model(fake_openai)
    answer = "<think>\n用户要求起草一节，先想想结构。\n</think>\n\n" + TEXT
    fake_openai.enqueue(answer)
    assert "".join(model.stream(USER)) == TEXT
    fake_openai.enqueue(answer)
    assert model.complete(USER) == TEXT
    fake_openai.enqueue("<think>只有思考</think>")
    with pytest.raises(ModelCallError) as info:
        list(model.stream(USER))
    assert info.value.kind == "empty"


def test_text_mentioning_think_later_is_kept(fake_openai):
    text = "  <thin>不是思考标记。" + TEXT
    fake_openai.enqueue(text)
    fake_openai.chunk_chars = 1
    assert "".join(_model(fake_openai).stream(USER)) == text


def test_langsmith_tracing_in_the_environment_sends_nothing(fake_openai, monkeypatch):
    # Report text must not leave the machine because a user has LANGSMITH_TRACING set.
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-test")
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def recording_getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1"):
            looked_up.append(host)
            raise socket.gaierror("test: no DNS")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    model = _model(fake_openai)
    fake_openai.enqueue(TEXT)
    fake_openai.enqueue(TEXT)
    fake_openai.enqueue_tool_call("lookup_figure", {"id": "F01"})
    assert model.complete(USER) == TEXT and "".join(model.stream(USER)) == TEXT
    model.complete_with_tools(USER, [LOOKUP])
    from langchain_core.tracers.langchain import wait_for_all_tracers

    wait_for_all_tracers()
    assert looked_up == []


def test_unparsable_200_answer_is_a_clear_error(fake_openai):
    fake_openai.enqueue_error(200, body={"error": "upstream said no", "choices": None})
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai).complete(USER)
    assert info.value.kind in ("bad_response", "server") and "127.0.0.1" in str(info.value)


def test_html_error_page_is_summarised(fake_openai):
    fake_openai.enqueue_error(400, body="<html><body><h1>400 Bad Request</h1><p>nginx</p></body></html>")
    with pytest.raises(ModelCallError) as info:
        _model(fake_openai).complete(USER)
    assert "<" not in str(info.value) and "400 Bad Request" in str(info.value)
