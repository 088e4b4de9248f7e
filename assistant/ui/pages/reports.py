"""报告: open a saved report or create one from the 年度工作汇报 template."""

from __future__ import annotations

import datetime

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.ui import actions
from assistant.ui.shell import SECTIONS_PAGE, show_notices
from assistant.ui.state import open_workspace, session


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
        cols = st.columns([6, 1])
        marker = "（当前）" if ref.id == sess.report_id else ""
        cols[0].markdown(f"**{ref.title}**{marker}")
        stale = f" · {ref.stale} 节待更新" if ref.stale else ""
        cols[0].caption(f"{ref.organisation} · {ref.year} 年度 · {ref.sections} 节 · 更新于 {ref.updated[:16]}{stale}")
        if cols[1].button("打开", key=f"open.{ref.id}", disabled=ref.id == sess.report_id):
            sess.report_id = ref.id
            st.switch_page(SECTIONS_PAGE)

    st.subheader("新建报告")
    st.caption(
        "按内置的年度工作汇报模板新建：导语；一、工作做法及成效；二、存在的问题及改进措施；三、下一年工作打算；结束语。"
    )
    with st.form("new-report", clear_on_submit=False):
        title = st.text_input("标题", placeholder="如：某某局2026年度工作汇报")
        organisation = st.text_input("单位", placeholder="如：某某市某某局")
        year = st.number_input("年度", min_value=1949, max_value=2100, step=1, value=datetime.date.today().year)
        achievements = st.text_area("主要工作要点（每行一项，每项成为“一、”下的一个小节，可不填）", height=120)
        submitted = st.form_submit_button("新建", type="primary")
    if submitted:
        try:
            report_id = actions.create_from_template(ws, title, organisation, int(year), achievements)
        except HuibaoError as err:
            st.error(str(err))
        else:
            sess.report_id = report_id
            sess.notify("success", f"已新建报告“{title.strip()}”。")
            st.switch_page(SECTIONS_PAGE)


if __name__ == "__main__":
    render()
