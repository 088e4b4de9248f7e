"""报告: open, rename or delete a saved report (a 回收站 keeps the deleted ones, restorable), or
create one from the 年度工作汇报 template. Reports are told apart by id, never by title. Each report
shows how far its review is and which sections are still open; an admin adds and removes members."""

from __future__ import annotations

import datetime

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.ui import actions
from assistant.ui.messages import for_page
from assistant.ui.shell import OUTLINE_PAGE, SECTIONS_PAGE, show_notices
from assistant.ui.state import UiSession, open_workspace, session

# --- callbacks ------------------------------------------------------------------------------


def _start_rename(sess: UiSession, report_id: str | None) -> None:
    sess.renaming = report_id


def _rename(sess: UiSession, report_id: str, key: str) -> None:
    try:
        title = open_workspace(sess.settings).rename(report_id, st.session_state.get(key) or "")
    except HuibaoError as err:
        sess.notify("error", str(err))
        return  # the field stays open with what was typed
    sess.renaming = None
    sess.notify("success", f"已改名为“{title}”（编号 {report_id} 不变）。")


def _delete(sess: UiSession, report_id: str, title: str) -> None:
    try:
        open_workspace(sess.settings).delete(report_id)
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    if sess.report_id == report_id:
        sess.report_id = None  # the sidebar opens the newest remaining one
    sess.notify("success", f"已将“{title}”（{report_id}）移入回收站，全部版本保留，可在下方“回收站”中恢复。")


def _member(sess: UiSession, report_id: str, add: bool) -> None:
    key = f"member-{'add' if add else 'remove'}.{report_id}"
    name = st.session_state.get(key)
    if not name:
        return
    ws = open_workspace(sess.settings)
    try:
        (ws.add_member if add else ws.remove_member)(report_id, name)
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    sess.notify("success", f"已将 {name} {'加入' if add else '移出'}报告 {report_id}。")


def _review_line(ws, report_id: str) -> tuple[str, list]:
    """“审核：已通过 3 / 共 7 节 · 待审 1 · 退回 1” and the sections still open."""
    states = [r for r in ws.review_states(report_id) if r.current_version]
    counts = {k: sum(r.state == k for r in states) for k in ("approved", "submitted", "returned", "draft")}
    line = f"审核：已通过 {counts['approved']} / 共 {len(states)} 节"
    line += "".join(
        f" · {zh} {counts[k]}"
        for k, zh in (("submitted", "待审"), ("returned", "退回"), ("draft", "草稿"))
        if counts[k]
    )
    return line, [r for r in states if r.state != "approved"]


def _render_members(sess: UiSession, ws, report_id: str) -> None:
    members = ws.members(report_id)
    st.caption(f"成员：{'、'.join(members) if members else '（无）'}")
    if not ws.may("members"):
        return
    others = [u.name for u in ws.store.users() if u.enabled and u.name not in members]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        if others:
            st.selectbox("加入成员", others, key=f"member-add.{report_id}", width=200)
            st.button("加入", key=f"member-add-btn.{report_id}", on_click=_member, args=(sess, report_id, True))
        if members:
            st.selectbox("移出成员", members, key=f"member-remove.{report_id}", width=200)
            st.button("移出", key=f"member-remove-btn.{report_id}", on_click=_member, args=(sess, report_id, False))


def _restore(sess: UiSession, report_id: str, title: str) -> None:
    try:
        open_workspace(sess.settings).restore(report_id)
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    sess.notify("success", f"已恢复“{title}”（{report_id}）。")


# --- the page -------------------------------------------------------------------------------


def render() -> None:
    sess = session()
    st.title("报告")
    show_notices(sess)
    ws = open_workspace(sess.settings)
    reports = actions.list_reports(ws)

    st.subheader("已保存的报告")
    if not reports:
        st.caption("还没有报告。")
    for ref in reports:
        with st.container(key=f"report-{ref.id}", border=True):
            marker = "（当前）" if ref.id == sess.report_id else ""
            st.markdown(f"**{ref.title}**{marker}")
            stale = f" · {ref.stale} 节待更新" if ref.stale else ""
            st.caption(
                f"编号 {ref.id} · {ref.organisation} · {ref.year} 年度 · {ref.sections} 节"
                f" · 更新于 {ref.updated[:16]}{stale}"
            )
            line, still_open = _review_line(ws, ref.id)
            st.caption(line)
            if still_open:
                with st.expander(f"尚未通过的章节（{len(still_open)}）", key=f"open-sections.{ref.id}"):
                    st.dataframe(
                        [
                            {
                                "章节": r.section_id,
                                "标题": r.title,
                                "状态": r.state_zh,
                                "意见": r.comment,
                                "经办人": r.by,
                            }
                            for r in still_open
                        ],
                        hide_index=True,
                        width="stretch",
                    )
            if sess.accounts:
                _render_members(sess, ws, ref.id)
            with st.container(horizontal=True):  # buttons as wide as their labels, never cut
                # Always enabled: 打开 on the report already open still goes to its sections.
                if st.button("打开", key=f"open.{ref.id}", type="primary" if marker else "secondary"):
                    sess.report_id = ref.id
                    st.switch_page(SECTIONS_PAGE)
                st.button("改名", key=f"rename.{ref.id}", on_click=_start_rename, args=(sess, ref.id))
                st.button("删除", key=f"delete.{ref.id}", on_click=_delete, args=(sess, ref.id, ref.title))
            if sess.renaming == ref.id:
                key = f"rename-title.{ref.id}"
                if key not in st.session_state:
                    st.session_state[key] = ref.title
                st.text_input("新标题", key=key)
                with st.container(horizontal=True):
                    st.button("保存标题", key=f"rename-save.{ref.id}", on_click=_rename, args=(sess, ref.id, key))
                    st.button("取消", key=f"rename-cancel.{ref.id}", on_click=_start_rename, args=(sess, None))

    st.subheader("新建报告")
    st.caption(
        "按内置的年度工作汇报模板新建：导语；一、工作做法及成效（每条成效要点一个小节）；二、存在的问题及改进措施；"
        "三、下一年工作打算；结束语。要点都可以先不填，新建后在“提纲”页补写、增删和调整章节。"
    )
    with st.form("new-report", clear_on_submit=False):
        title = st.text_input("标题", placeholder="如：某某局2026年度工作汇报")
        organisation = st.text_input("单位", placeholder="如：某某市某某局")
        year = st.number_input("年度", min_value=1949, max_value=2100, step=1, value=datetime.date.today().year)
        intro = st.text_area("导语要点（可不填）", height=68, key="new-report.intro")
        achievements = st.text_area(
            "主要工作要点（每行一项，每项成为“一、”下的一个小节，可不填）", height=120, key="new-report.achievements"
        )
        problems = st.text_area("存在的问题要点（可不填）", height=68, key="new-report.problems")
        plans = st.text_area("下一年工作打算要点（可不填）", height=68, key="new-report.plans")
        closing = st.text_area("结束语要点（可不填）", height=68, key="new-report.closing")
        submitted = st.form_submit_button("新建", type="primary")
    if submitted:
        try:
            report_id = actions.create_from_template(
                ws,
                title,
                organisation,
                int(year),
                achievements,
                intro=intro,
                problems=problems,
                plans=plans,
                closing=closing,
            )
        except HuibaoError as err:
            st.error(for_page(err))
        else:
            sess.report_id = report_id
            sess.notify("success", f"已新建报告“{title.strip()}”，请在下面补写和调整提纲，再到“章节”页起草。")
            st.switch_page(OUTLINE_PAGE)

    deleted = actions.list_reports(ws, deleted=True)
    st.subheader(f"回收站（{len(deleted)} 份）", anchor="trash")
    if not deleted:
        st.caption("回收站是空的。删除的报告连同全部版本保留在这里，可以恢复。")
    for ref in deleted:
        with st.container(key=f"trash-{ref.id}", border=True):
            st.markdown(f"**{ref.title}**")
            st.caption(f"编号 {ref.id} · {ref.organisation} · {ref.year} 年度 · 删除于 {ref.deleted_at[:16]}")
            st.button("恢复", key=f"restore.{ref.id}", on_click=_restore, args=(sess, ref.id, ref.title))


if __name__ == "__main__":
    render()
