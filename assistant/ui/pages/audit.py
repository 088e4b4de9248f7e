"""操作记录 (admins): who did what and when, filtered, exported as CSV.

The workspace refuses the log to anyone but an admin (``Workspace.audit_log`` is guarded), so
opening this page's address directly shows the refusal, not the log."""

from __future__ import annotations

import datetime

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.ui.messages import for_page
from assistant.ui.shell import show_notices
from assistant.ui.state import open_workspace, session
from assistant.workspace.service import audit_csv
from assistant.workspace.store import ACTION_ZH


def render() -> None:
    sess = session()
    st.title("操作记录")
    show_notices(sess)
    ws = open_workspace(sess.settings)
    try:
        ws.authorize("audit")
    except HuibaoError as err:
        st.error(for_page(err))
        return
    st.caption("每个版本、数据更新、锁定、审核、导入、导出、删除、恢复和账户变动都记录在此，记录不会被删除。")
    reports = {r.id: r.title for r in ws.reports()} | {r.id: r.title for r in ws.reports(deleted=True)}
    users = sorted({e.user for e in ws.audit_log()})
    with st.container(horizontal=True, vertical_alignment="bottom"):
        who = st.selectbox("用户", ["（全部）", *users], key="audit.user", width=180)
        report = st.selectbox(
            "报告",
            ["", *reports],
            format_func=lambda rid: f"{reports[rid]} · {rid}" if rid else "（全部）",
            key="audit.report",
            width=320,
        )
        labels = st.multiselect(
            "操作", list(ACTION_ZH.values()), key="audit.actions", placeholder="（全部）", width=320
        )
        today = datetime.date.today()
        span = st.date_input("日期", (today - datetime.timedelta(days=183), today), key="audit.dates", width=240)
    by_label = {label: key for key, label in ACTION_ZH.items()}
    since = until = None
    if isinstance(span, tuple) and len(span) == 2:
        since, until = span[0].isoformat(), (span[1] + datetime.timedelta(days=1)).isoformat()
    entries = ws.audit_log(
        since=since,
        until=until,
        user=None if who == "（全部）" else who,
        actions={by_label[label] for label in labels} or None,
        report_id=report or None,
    )
    st.download_button(
        f"导出 CSV（{len(entries)} 条）",
        audit_csv(entries).encode("utf-8-sig"),  # with a BOM: Excel then reads the Chinese right
        file_name=f"操作记录-{today.isoformat()}.csv",
        mime="text/csv",
        key="audit.csv",
        on_click="ignore",
    )
    if not entries:
        st.info("没有符合条件的记录。")
        return
    st.dataframe(
        [
            {
                "时间": e.time[:19].replace("T", " "),
                "用户": e.user,
                "操作": e.action_zh,
                "报告": e.report_id or "",
                "章节": e.section_id or "",
                "版本": e.version or "",
                "说明": e.detail,
            }
            for e in reversed(entries)
        ],
        hide_index=True,
        width="stretch",
    )


if __name__ == "__main__":
    render()
