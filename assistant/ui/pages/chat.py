"""对话: staff say what they want in plain Chinese; the chat acts on the open report."""

from __future__ import annotations

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.ui import actions
from assistant.ui.messages import for_page
from assistant.ui.shell import require_report, show_notices
from assistant.ui.state import current_model, drafting_knowledge_base, open_workspace, session
from assistant.ui.streaming import StreamedCall
from assistant.workspace import chat

PLACEHOLDER = "输入要求，如：重写 1.2 更精炼 ／ 数据 新闻发布会 10 ／ 查找 新媒体 ／ 解释 1.2 ／ 撤销"


def render() -> None:
    sess = session()
    st.title("对话")
    report_id = require_report(sess)
    if report_id is None:
        return
    ws = open_workspace(sess.settings)
    history = ws.chat_history(report_id)
    show_notices(sess)
    if sess.settings.model_configured:
        st.caption(
            f"模型“{sess.settings.model}”会按您的要求修改章节、修改数据、查找素材或解释核对结果，并说明做了什么。"
        )
    else:
        st.info(
            "当前未配置模型，使用离线引擎：可用固定指令（输入“帮助”查看），其他问题按素材库检索作答。"
            "配置模型后能理解更多说法。"
        )

    for entry in history:
        with st.chat_message("user" if entry.role == "user" else "assistant"):
            st.markdown(entry.text)

    model = current_model(sess)
    # kept in the workspace, not the session: a reload or another tab still shows them
    for pid, proposal in ws.pending_proposals(report_id):
        _show_proposal(pid, proposal, ws, report_id, sess, model)

    prompt = st.chat_input(PLACEHOLDER, key="chat.input")
    if not prompt:
        return
    with st.chat_message("user"):
        st.markdown(prompt)

    with st.chat_message("assistant"):
        doer = _report_actions(ws, report_id, sess, model)
        # The turn runs in a worker thread; the model's words and a regeneration's text come
        # back through `emit` and are written here as they arrive.
        call = StreamedCall(lambda emit: actions.chat_turn(ws, report_id, prompt, model, doer, on_delta=emit))
        slot = st.empty()
        try:
            with slot.container():
                st.caption("正在处理…")
                st.write_stream(call)
        except HuibaoError as err:
            slot.empty()
            text = f"出错了：{for_page(err)}"
            st.error(text)
            try:
                ws.add_chat(report_id, "assistant", text)
            except HuibaoError:
                pass
            return
        slot.empty()
        reply = call.result
        st.markdown(reply.text)
        ws.add_chat(report_id, "assistant", reply.text)
        if reply.changed:
            st.caption("报告已更新，可在“章节”页查看。")
    if reply.proposals:
        ws.propose(report_id, reply.proposals)
        st.rerun()  # the 确认 / 取消 buttons are drawn above the input


def _report_actions(ws, report_id: str, sess, model) -> actions.ReportActions:
    """What a chat turn or a confirmed proposal may do to the open report (one undo stack per report)."""
    return actions.ReportActions(
        ws,
        report_id,
        sess.settings,
        model,
        lambda: drafting_knowledge_base(sess.settings),
        undo_stack=sess.chat_undo.setdefault(report_id, []),
    )


def _show_proposal(pid: int, proposal: chat.Proposal, ws, report_id: str, sess, model) -> None:
    """A change the model proposed: nothing happens until 确认; 取消 drops it. Settling it first
    makes a double click or a second tab apply it at most once."""
    with st.chat_message("assistant"):
        st.warning(f"模型提议：{proposal.describe()}。确认后才会执行。")
        left, right = st.columns(2)
        if left.button("确认", key=f"chat.confirm.{pid}"):
            if ws.settle_proposal(report_id, pid, confirmed=True):
                doer = _report_actions(ws, report_id, sess, model)
                call = StreamedCall(lambda emit: actions.apply_proposal(proposal, doer, on_delta=emit))
                slot = st.empty()
                try:
                    with slot.container():  # a regeneration's text as it is written
                        st.caption("正在处理…")
                        st.write_stream(call)
                    result = call.result
                except HuibaoError as err:
                    result = chat.ActionResult(f"未能完成：{for_page(err)}")
                slot.empty()
                ws.add_chat(report_id, "assistant", result.message)
            st.rerun()
        if right.button("取消", key=f"chat.cancel.{pid}"):
            if ws.settle_proposal(report_id, pid, confirmed=False):
                ws.add_chat(report_id, "assistant", f"已取消模型提议：{proposal.describe()}。")
            st.rerun()


if __name__ == "__main__":
    render()
