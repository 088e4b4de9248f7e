"""导出: the current report as a Word file (GB/T 9704 layout) or as Markdown."""

from __future__ import annotations

import streamlit as st

from assistant.errors import HuibaoError
from assistant.ui import actions
from assistant.ui.shell import require_report, show_notices
from assistant.ui.state import open_workspace, session


def render() -> None:
    sess = session()
    st.title("导出")
    report_id = require_report(sess)
    if report_id is None:
        return
    show_notices(sess)
    try:
        ws = open_workspace(sess.settings)
        report = ws.current(report_id)
    except HuibaoError as err:
        st.error(str(err))
        return
    if not report.sections:
        st.info("报告还没有起草，请先在“章节”页点击“起草全文”。")
        return

    invented = sum(s.check.summary.invented for s in report.sections)
    placeholders = sum(s.check.summary.placeholders for s in report.sections)
    stale = ws.stale_sections(report_id)
    if invented or placeholders:
        st.warning(f"导出前请核实：无依据的数字 {invented} 个，待补充 {placeholders} 处（见“章节”页的标记）。")
    if stale:
        st.warning(f"以下章节所用数据已变更，尚未更新：{'、'.join(stale)}。")

    stem = actions.export_stem(report.title)
    try:
        docx_bytes = actions.export_bytes(report, ".docx", sess.settings)
        md_bytes = actions.export_bytes(report, ".md", sess.settings)
    except HuibaoError as err:
        st.error(str(err))
        return
    cols = st.columns([1, 1, 3])
    cols[0].download_button("下载 Word（.docx）", docx_bytes, file_name=f"{stem}.docx", type="primary",
                            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                            key="export.docx", on_click="ignore")
    cols[1].download_button("下载 Markdown", md_bytes, file_name=f"{stem}.md", mime="text/markdown",
                            key="export.md", on_click="ignore")
    st.subheader("预览")
    with st.container(border=True, height=600):
        st.markdown(md_bytes.decode("utf-8"))


if __name__ == "__main__":
    render()
