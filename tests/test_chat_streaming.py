"""Chat replies and regenerations started from chat stream (issue 14): with a model engine the
model's words, and a section's new text, reach the page while the model is still writing.

The local OpenAI-compatible server holds each answer after its first characters until the test
releases it, so "the first part arrived before the end" is shown by order, not by timing.
"""

from __future__ import annotations

import pytest

from assistant.core.settings import get_settings
from assistant.drafting.spec import template_spec
from assistant.llm import ModelCallError
from assistant.testing.openai_server import model_for
from assistant.ui import actions
from assistant.ui.streaming import StreamedCall
from assistant.workspace import chat
from assistant.workspace.service import Workspace

ANSWER = "这份汇报结构完整，建议在成效部分多写具体做法，问题部分写得更具体一些。"
SECTION = (
    "统筹推进重点工作取得新进展\n围绕年度目标任务，统筹推进各项重点工作，健全完善工作机制，各项工作取得了新的进展。"
)


@pytest.fixture
def report(tmp_path):
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        spec = template_spec("某局2026年度工作汇报", "某局", 2026, {"achievements": ["理论学习", "新闻宣传"]})
        rid = ws.create_report(spec, [])
        actions.draft_all(ws, rid, get_settings(), None)
        yield ws, rid


def _turn(ws, rid, prompt, model) -> StreamedCall:
    doer = actions.ReportActions(ws, rid, get_settings(), model)
    return StreamedCall(lambda emit: actions.chat_turn(ws, rid, prompt, model, doer, on_delta=emit))


def _unfinished(call: StreamedCall) -> bool:
    try:
        _ = call.result
    except RuntimeError:
        return True
    return False


def test_a_model_reply_arrives_in_pieces_before_the_answer_is_finished(report, fake_openai):
    ws, rid = report
    gate = fake_openai.enqueue_held(ANSWER, after_chars=6)
    call = _turn(ws, rid, "这份汇报写得怎么样？", model_for(fake_openai))
    pieces = iter(call)
    first = next(pieces)
    # the server still holds the rest: what arrived is only the beginning of the answer
    assert ANSWER.startswith(first) and len(first) < len(ANSWER)
    assert _unfinished(call)
    gate.set()
    rest = list(pieces)
    assert first + "".join(rest) == ANSWER and len(rest) > 1
    assert call.result.text == ANSWER
    assert fake_openai.requests[-1].stream and fake_openai.requests[-1].json.get("tools")
    assert [e.role for e in ws.chat_history(rid)] == ["user"]  # the page saves the answer


def test_a_regeneration_typed_in_the_chat_streams_the_new_text(report, fake_openai):
    ws, rid = report
    gate = fake_openai.enqueue_held(SECTION, after_chars=9)
    call = _turn(ws, rid, "重写 1.1 更精炼", model_for(fake_openai))
    pieces = iter(call)
    first = next(pieces)
    assert SECTION.startswith(first) and _unfinished(call)
    assert ws.current_version(rid, "1.1") == 1  # nothing saved while the model writes
    gate.set()
    streamed = first + "".join(pieces)
    assert "健全完善工作机制" in streamed
    assert call.result.changed and ws.current_version(rid, "1.1") == 2
    assert "健全完善工作机制" in ws.section(rid, "1.1").text


def test_a_confirmed_proposal_streams_its_regeneration(report, fake_openai):
    ws, rid = report
    model = model_for(fake_openai)
    doer = actions.ReportActions(ws, rid, get_settings(), model)
    proposal = chat.Proposal(chat.Intent("regenerate", section="1.2", instruction="更精炼"), "1.2")
    gate = fake_openai.enqueue_held(SECTION, after_chars=9)
    call = StreamedCall(lambda emit: actions.apply_proposal(proposal, doer, on_delta=emit))
    pieces = iter(call)
    first = next(pieces)
    assert SECTION.startswith(first) and _unfinished(call)
    gate.set()
    list(pieces)
    assert call.result.changed and ws.current_version(rid, "1.2") == 2


def test_a_stream_broken_after_its_first_words_is_reported_not_retried(report, fake_openai):
    ws, rid = report
    fake_openai.enqueue_cut_stream(ANSWER, after_chars=6)
    call = _turn(ws, rid, "这份汇报写得怎么样？", model_for(fake_openai))
    seen: list[str] = []
    with pytest.raises(ModelCallError) as err:
        for piece in call:
            seen.append(piece)
    assert "".join(seen) == ANSWER[:6]
    assert err.value.partial == ANSWER[:6] and err.value.kind == "cut_off"
    assert len([r for r in fake_openai.requests if r.path.endswith("/chat/completions")]) == 1
