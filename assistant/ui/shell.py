"""What every page shows around its content: the stylesheet, the engine banner, the report
picker in the sidebar and the notices left by the last action."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.core.settings import get_settings, is_loopback, server_endpoint_stamp
from assistant.ui import actions, chinese, render, signin
from assistant.ui.messages import for_page
from assistant.ui.state import UiSession, open_workspace, session
from assistant.workspace.accounts import COOKIE_NAME, accounts_on
from assistant.workspace.roles import ROLE_ZH, local_actor

OFFLINE_BANNER = "当前未配置模型，使用离线引擎"
# An absolute path: st.switch_page resolves a relative one against app.py's folder, which in an
# installed wheel is not the checkout's.
SECTIONS_PAGE = Path(__file__).parent / "pages" / "sections.py"
OUTLINE_PAGE = Path(__file__).parent / "pages" / "outline.py"
log = logging.getLogger("huibao.ui")


def run_page(navigation) -> None:
    """Run the chosen page; an unexpected failure becomes a message, not a dead page.

    Streamlit's own rerun/stop signals derive from BaseException and pass through."""
    try:
        navigation.run()
    except HuibaoError as err:
        st.error(for_page(err))
    except Exception:  # noqa: BLE001 - last line of defence for the page
        log.exception("page failed")
        # The exception's own text is English (and may hold paths): it goes to the log only.
        st.error("内部错误：页面出了意外问题，详细信息已写入服务器日志。已保存的内容不受影响，可刷新页面重试。")


NOT_LOCAL = (
    "未启用账户时，网页只能在本机访问。本网页正从其他地址提供服务，因此不予显示："
    "请管理员在服务器上创建账户（huibao user add 姓名 --role admin），或用 huibao ui 在本机启动。"
)


def gate(sess: UiSession) -> None:
    """Who this run acts for; stops the page when nobody may see it.

    Accounts on: the signed session cookie (HttpOnly, set by /huibao/signin) names the person;
    none, expired or disabled: the page shows only the way to sign in. Accounts off: the one
    local user, and only on a loopback address."""
    accounts = signin.accounts_for(sess.settings)
    sess.accounts = accounts_on(accounts.store, configured=sess.settings.accounts)
    if not sess.accounts:
        if not is_loopback(st.get_option("server.address")):
            st.error(NOT_LOCAL)
            st.stop()
        sess.actor = local_actor()
        return
    actor = accounts.session_actor(st.context.cookies.get(COOKIE_NAME))
    if actor is None:
        st.title("汇报起草助手")
        st.warning("请先登录：尚未登录，或登录已过期、账户已停用。")
        st.markdown(f'<a href="{signin.SIGNIN_PATH}" target="_self">前往登录</a>', unsafe_allow_html=True)
        st.stop()
    if actor != sess.actor:  # another person in this tab: nothing of the last one's session stays
        sess.report_id = None
        sess.edit_bases.clear()
        sess.conflicts.clear()
    sess.actor = actor
    stamp = server_endpoint_stamp(sess.settings.data_dir)
    if stamp != sess.server_stamp:  # an admin saved the endpoint: every session uses it from now on
        if sess.server_stamp is not None:
            get_settings.cache_clear()
            fresh = get_settings().model_copy()
            sess.settings, sess.configured, sess.personal_key = fresh, fresh.model_copy(), False
        sess.server_stamp = stamp


def start() -> UiSession:
    """The stylesheet, and who this run acts for (``gate``): before the navigation is built."""
    sess = session()
    st.markdown(render.CSS, unsafe_allow_html=True)  # fixed stylesheet, no user data
    gate(sess)
    return sess


def may_audit(sess: UiSession) -> bool:
    return sess.actor.at_least("admin")


def frame() -> None:
    sess = session()
    with st.sidebar:
        st.markdown("### 汇报起草助手")
        chinese.install()
        if sess.accounts:
            st.caption(f"当前用户：{sess.actor.name}（{ROLE_ZH[sess.actor.role]}）")
            st.markdown(f'<a href="{signin.SIGNOUT_PATH}" target="_self">退出登录</a>', unsafe_allow_html=True)
        if sess.settings.model_configured:
            st.success(f"模型：{sess.settings.model}", icon=":material/smart_toy:")
        else:
            st.info(OFFLINE_BANNER + "（可在“设置”中配置模型）", icon=":material/info:")
        try:
            ws = open_workspace(sess.settings)
            # an office's shared server gets no sample report; one local user does
            if not sess.accounts and actions.ensure_sample_report(ws, sess.settings) and sess.report_id is None:
                sess.notify("info", "已创建示例报告，可在“章节”页点击“起草全文”。")
            reports = actions.list_reports(ws)
        except HuibaoError as err:
            st.error(for_page(err))
            return
        if not reports:
            return
        ids = [r.id for r in reports]
        current = sess.report_id if sess.report_id in ids else ids[0]
        sess.report_id = current
        # The options are ids. Streamlit maps a choice back through its label, so each label
        # carries the id: two reports with one title stay two choices.
        labels = {r.id: r.label for r in reports}
        chosen = st.selectbox(
            "当前报告",
            ids,
            index=ids.index(current),
            format_func=lambda rid: labels.get(rid, rid),
            # keyed by the open report so a report opened elsewhere shows here
            key=f"sidebar.report.{current}",
        )
        if chosen != current:
            sess.report_id = chosen
        # A long title hides the rest of the label: the id and the last update stay in sight.
        shown = next(r for r in reports if r.id == sess.report_id)
        st.caption(f"编号 {shown.id} · 更新于 {shown.updated[:16]}")


def show_notices(sess: UiSession) -> None:
    while sess.notices:
        notice = sess.notices.pop(0)
        getattr(st, notice.kind)(notice.text)


def require_report(sess: UiSession) -> str | None:
    """The open report id, or a hint to create one first."""
    if sess.report_id is None:
        st.info("还没有报告。请在“报告”页新建一份。")
    return sess.report_id
