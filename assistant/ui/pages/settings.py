"""设置: the model endpoint, a connection test, and what is in use.

Accounts off (one local user): the address and model name typed here are saved to huibao.toml in
the data folder (they survive a refresh); the key lives only in this session's Settings object (not
in os.environ, files, the report or logs).

Accounts on: only an admin sets the endpoint, for everyone: address and model go to huibao.toml
in the data folder, the key to a server-side file readable by the server's account only (or it
comes from the environment); it is never sent back to a browser. Anyone else may type a personal
key for that endpoint: it lives in their browser session only and is never stored."""

from __future__ import annotations

import streamlit as st
from pydantic import SecretStr

from assistant.core.errors import HuibaoError, InputError
from assistant.core.settings import (
    Settings,
    clear_server_key,
    described_rows,
    get_settings,
    masked_url,
    save_server_endpoint,
)
from assistant.llm import test_connection
from assistant.ui import signin
from assistant.ui.messages import for_page
from assistant.ui.shell import OFFLINE_BANNER, show_notices
from assistant.ui.state import UiSession, open_workspace, session
from assistant.workspace.roles import ROLE_ZH, parse_role


def _save(sess: UiSession) -> None:
    state = st.session_state
    note = sess.set_endpoint(state.get("settings.base_url"), state.get("settings.model"), state.get("settings.api_key"))
    # Drop the typed key from the widget state at once: from here on only Settings holds it.
    state["settings.api_key"] = ""
    # One local user: the address and the model name go to huibao.toml in the data folder, so a
    # refresh or the next start keeps them; the key is never written (this session only).
    save_server_endpoint(sess.settings.data_dir, sess.settings.base_url, sess.settings.model, None)
    sess.notify(
        "success",
        "设置已保存：接口地址和模型名写入数据目录的 huibao.toml，刷新后仍有效；API Key 只在当前浏览器会话中有效。",
    )
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
    message = for_page(message)
    sess.connection = (ok, f"{message}\n\n{note}" if note else message)


def _save_server(sess: UiSession) -> None:
    """An admin's endpoint, for every user of this server (the service refuses anyone else)."""
    state = st.session_state
    ws = open_workspace(sess.settings)
    try:
        ws.authorize("endpoint")
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    typed_url = (state.get("settings.base_url") or "").strip() or None
    current = sess.settings.base_url
    if typed_url is not None and current and typed_url == masked_url(current):
        typed_url = current  # the field shows the address without credentials: unchanged
    key = (state.get("settings.api_key") or "").strip() or None
    save_server_endpoint(sess.settings.data_dir, typed_url, state.get("settings.model"), key)
    state["settings.api_key"] = ""  # never kept in the widget: from here on only the server file holds it
    ws.record(
        "endpoint",
        detail=f"{masked_url(typed_url) if typed_url else '（未设置地址）'}，模型 {state.get('settings.model') or ''}"
        + ("，已更新 Key" if key else ""),
    )
    fresh = get_settings().model_copy()
    sess.settings, sess.configured, sess.personal_key, sess.connection = fresh, fresh.model_copy(), False, None
    sess.notify("success", "模型接口已保存，对所有用户生效。Key 只保存在服务器上，不会再显示。")


def _clear_server_key(sess: UiSession) -> None:
    ws = open_workspace(sess.settings)
    try:
        ws.authorize("endpoint")
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    clear_server_key(sess.settings.data_dir)
    ws.record("endpoint", detail="清除服务器上的 Key")
    fresh = get_settings().model_copy()
    sess.settings, sess.configured, sess.personal_key = fresh, fresh.model_copy(), False
    sess.notify("info", "已清除服务器上保存的 Key（环境变量中的 Key 不受影响）。")


def _save_personal(sess: UiSession) -> None:
    key = (st.session_state.get("settings.personal_key") or "").strip()
    st.session_state["settings.personal_key"] = ""
    if not key:
        sess.notify("warning", "未填写 Key。")
        return
    sess.settings = sess.settings.model_copy(update={"api_key": SecretStr(key)})
    sess.personal_key, sess.connection = True, None
    sess.notify("success", "个人 Key 已用于当前浏览器会话，不会保存，关闭页面即失效。")


def _clear_personal(sess: UiSession) -> None:
    sess.settings = (sess.configured or get_settings()).model_copy()
    sess.personal_key, sess.connection = False, None
    sess.notify("info", "已不再使用个人 Key。")


def _endpoint_fields(settings: Settings, has_key: bool, *, key_help: str) -> None:
    """The address, model and key inputs (the key never shown: only whether one is set)."""
    st.text_input(
        "服务地址（Base URL）",
        value=masked_url(settings.base_url) if settings.base_url else "",
        key="settings.base_url",
        placeholder="如：http://192.168.1.10:8000/v1",
    )
    st.text_input("模型名称", value=settings.model, key="settings.model")
    st.text_input(
        "API Key",
        type="password",
        key="settings.api_key",
        placeholder="已设置（留空则保持不变）" if has_key else "未设置（本地服务可不填）",
        help=key_help,
    )


def _render_shared(sess: UiSession) -> None:
    """Accounts on: the admin sets the endpoint for everyone; others may add a personal key."""
    settings = sess.settings
    admin = sess.actor.at_least("admin")
    st.subheader("模型服务（全体用户共用）")
    if admin:
        st.caption(
            "由管理员设置，对所有用户生效：地址和模型名保存在数据目录的 huibao.toml，Key 只保存在服务器上的文件中（仅服务器账户可读），不会发送到浏览器。"
        )
        has_key = (sess.configured or settings).api_key is not None
        _endpoint_fields(settings, has_key, key_help="保存在服务器上，保存后不再显示。")
        with st.container(horizontal=True):
            st.button(
                "保存（对所有用户生效）",
                type="primary",
                key="settings.save-server",
                on_click=_save_server,
                args=(sess,),
            )
            st.button("测试连接", key="settings.test", on_click=_test, args=(sess,))
            if has_key:
                st.button("清除服务器上的 Key", key="settings.clear-server", on_click=_clear_server_key, args=(sess,))
    else:
        st.caption("模型服务由管理员设置。如该服务要求每人使用自己的 Key，可在下面填写。")
        st.table(
            {
                "项目": ["服务地址", "模型名称"],
                "值": [masked_url(settings.base_url) if settings.base_url else "未设置（离线引擎）", settings.model],
            },
            hide_index=True,
        )
        st.text_input(
            "个人 API Key",
            type="password",
            key="settings.personal_key",
            placeholder="使用中（仅当前会话）" if sess.personal_key else "不填则使用管理员配置的 Key",
            help="只用于管理员配置的服务地址，只保存在当前浏览器会话中，不写入文件、报告或日志。",
        )
        with st.container(horizontal=True):
            st.button(
                "使用个人 Key", type="primary", key="settings.personal-save", on_click=_save_personal, args=(sess,)
            )
            if sess.personal_key:
                st.button("不再使用个人 Key", key="settings.personal-clear", on_click=_clear_personal, args=(sess,))
            st.button("测试连接", key="settings.test", on_click=_test_current, args=(sess,))
    if sess.connection is not None:
        ok, message = sess.connection
        (st.success if ok else st.error)(message)
    if admin:
        _render_users(sess)
    st.subheader("当前使用的设置")
    rows = described_rows(settings)
    st.table({"项目": [label for label, _, _ in rows], "值": [value for _, _, value in rows]}, hide_index=True)


def _user_action(sess: UiSession, action: str) -> None:
    """账户 on the page: the admin adds, disables, enables or resets an account (Accounts checks
    the role again: anyone else is refused there)."""
    state = st.session_state
    accounts = signin.accounts_for(sess.settings)
    try:
        if action == "add":
            password = state.get("users.new-password") or ""
            if password != (state.get("users.new-password2") or ""):
                raise InputError("两次输入的密码不一致，未作改动。", field="密码")
            role = parse_role(state.get("users.new-role") or "drafter")
            name = accounts.add_user(state.get("users.new-name") or "", role, password, by=sess.actor)
            done = f"已添加用户 {name}（{ROLE_ZH[role]}）。"
        else:
            name = state.get("users.pick") or ""
            if action == "disable":
                accounts.disable(name, by=sess.actor)
                done = f"已停用用户 {name}，其已登录的浏览器已退出。"
            elif action == "enable":
                accounts.enable(name, by=sess.actor)
                done = f"已启用用户 {name}。"
            else:
                accounts.set_password(name, state.get("users.reset-password") or "", by=sess.actor)
                done = f"已重设用户 {name} 的密码。"
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    state["users.reset-password"] = ""  # no password stays in the page's state (the form clears its own)
    sess.notify("success", done)


def _render_users(sess: UiSession) -> None:
    st.subheader("账户（管理员）")
    users = signin.accounts_for(sess.settings).users()
    st.table(
        {
            "用户名": [u.name for u in users],
            "角色": [ROLE_ZH.get(u.role, u.role) for u in users],
            "状态": ["启用" if u.enabled else "已停用" for u in users],
            "最后登录": [(u.last_login or "从未登录")[:16].replace("T", " ") for u in users],
        },
        hide_index=True,
    )
    # a form: nothing is sent while typing, and the passwords are cleared once it is submitted
    with st.form("users.add-form", clear_on_submit=True, border=False):
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input("新用户名", key="users.new-name", width=160)
            st.selectbox("角色", list(ROLE_ZH), format_func=ROLE_ZH.__getitem__, key="users.new-role", width=140)
            st.text_input("密码", type="password", key="users.new-password", width=160)
            st.text_input("再输入一次", type="password", key="users.new-password2", width=160)
            st.form_submit_button("添加用户", on_click=_user_action, args=(sess, "add"))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox("用户", [u.name for u in users], key="users.pick", width=160)
        st.button("停用", key="users.disable", on_click=_user_action, args=(sess, "disable"))
        st.button("启用", key="users.enable", on_click=_user_action, args=(sess, "enable"))
        st.text_input("新密码", type="password", key="users.reset-password", width=160)
        st.button("重设密码", key="users.reset", on_click=_user_action, args=(sess, "reset"))


def _test_current(sess: UiSession) -> None:
    ok, message = test_connection(sess.settings)
    sess.connection = (ok, for_page(message))


def render() -> None:
    sess = session()
    st.title("设置")
    show_notices(sess)
    if sess.accounts:
        _render_shared(sess)
        return
    settings = sess.settings
    if not settings.model_configured:
        st.info(
            OFFLINE_BANNER
            + "。离线引擎按要点和数据生成规范的段落，不编造数字；配置模型后文字更自然，对话也能理解更多说法。"
        )

    st.subheader("模型服务")
    st.caption("任何兼容 OpenAI 接口的服务均可：本单位部署的 vLLM、Ollama、Xinference，或云端服务。")
    has_key = settings.api_key is not None
    _endpoint_fields(settings, has_key, key_help="只保存在当前浏览器会话中，不写入文件、报告或日志，保存后不再显示。")
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
