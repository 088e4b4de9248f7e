"""设置: the model endpoint for this browser session, a connection test, and what is in use.

The key typed here lives only in this session's Settings object: it is not written to
os.environ, to files, to the report or to logs, and it is never shown again."""

from __future__ import annotations

import streamlit as st

from assistant.core.settings import described_rows, masked_url
from assistant.llm import test_connection
from assistant.ui.shell import OFFLINE_BANNER, show_notices
from assistant.ui.state import UiSession, session


def _save(sess: UiSession) -> None:
    state = st.session_state
    note = sess.set_endpoint(state.get("settings.base_url"), state.get("settings.model"), state.get("settings.api_key"))
    # Drop the typed key from the widget state at once: from here on only Settings holds it.
    state["settings.api_key"] = ""
    sess.notify("success", "设置已保存（仅对当前浏览器会话有效）。")
    if note:
        sess.notify("warning", note)


def _clear_key(sess: UiSession) -> None:
    sess.clear_key()
    sess.notify("info", "已清除 API Key。")


def _test(sess: UiSession) -> None:
    # What is typed, not what was saved: the user tests before saving. The typed key is not
    # cleared here; 保存 does that.
    state = st.session_state
    settings, note = sess.endpoint_settings(
        state.get("settings.base_url"), state.get("settings.model"), state.get("settings.api_key")
    )
    ok, message = test_connection(settings)
    sess.connection = (ok, f"{message}\n\n{note}" if note else message)


def render() -> None:
    sess = session()
    st.title("设置")
    show_notices(sess)
    settings = sess.settings
    if not settings.model_configured:
        st.info(
            OFFLINE_BANNER
            + "。离线引擎按要点和数据生成规范的段落，不编造数字；配置模型后文字更自然，对话也能理解更多说法。"
        )

    st.subheader("模型服务")
    st.caption("任何兼容 OpenAI 接口的服务均可：本单位部署的 vLLM、Ollama、Xinference，或云端服务。")
    st.text_input(
        "服务地址（Base URL）",
        value=masked_url(settings.base_url) if settings.base_url else "",
        key="settings.base_url",
        placeholder="如：http://192.168.1.10:8000/v1",
    )
    st.text_input("模型名称", value=settings.model, key="settings.model")
    has_key = settings.api_key is not None
    st.text_input(
        "API Key",
        type="password",
        key="settings.api_key",
        placeholder="已设置（留空则保持不变）" if has_key else "未设置（本地服务可不填）",
        help="只保存在当前浏览器会话中，不写入文件、报告或日志，保存后不再显示。",
    )
    cols = st.columns([1, 1, 1, 3])
    cols[0].button("保存", type="primary", key="settings.save", on_click=_save, args=(sess,))
    cols[1].button("测试连接", key="settings.test", on_click=_test, args=(sess,))
    if has_key:
        cols[2].button("清除 Key", key="settings.clear", on_click=_clear_key, args=(sess,))
    if sess.connection is not None:
        ok, message = sess.connection
        (st.success if ok else st.error)(message)

    st.subheader("当前使用的设置")
    rows = described_rows(settings)
    # A plain table: every row readable (and findable) without scrolling a grid.
    st.table({"项目": [label for label, _, _ in rows], "值": [value for _, _, value in rows]}, hide_index=True)


if __name__ == "__main__":
    render()
