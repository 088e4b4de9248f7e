"""导出: the current report as a Word file (GB/T 9704 layout) or as Markdown."""

from __future__ import annotations

import streamlit as st

from assistant.export import file_stem, markdown_text
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
    ws = open_workspace(sess.settings)
    report = ws.current(report_id)
    if not report.sections:
        st.info("报告还没有起草，请先在“章节”页点击“起草全文”。")
        return

    summaries = [s.check.summary for s in report.sections]
    flagged = sum(s.invented + s.misattributed for s in summaries)
    unverified = sum(s.unverified for s in summaries)
    placeholders = sum(s.placeholders for s in summaries)
    stale = ws.stale_sections(report_id)
    if flagged or unverified or placeholders:
        st.warning(
            f"导出前请核实：无依据或错配的数字 {flagged} 个，待核实 {unverified} 处，"
            f"待补充 {placeholders} 处（见“章节”页的标记）。"
        )
    if stale:
        st.warning(f"以下章节所用数据已变更，尚未更新：{'、'.join(stale)}。")

    stem = file_stem(report.title)
    markdown = markdown_text(report)
    cols = st.columns([1, 1, 3])
    # The .docx is built now, not on click (a callable `data`): this page reruns only when it
    # is opened (both buttons ignore clicks), and a failure shows here as a Chinese message
    # instead of as a broken download.
    cols[0].download_button(
        "下载 Word（.docx）",
        actions.export_bytes(report, ".docx", sess.settings),
        file_name=f"{stem}.docx",
        type="primary",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key="export.docx",
        on_click="ignore",
    )
    cols[1].download_button(
        "下载 Markdown", markdown, file_name=f"{stem}.md", mime="text/markdown", key="export.md", on_click="ignore"
    )
    st.subheader("预览")
    with st.container(border=True, height=600):
        st.markdown(markdown)


if __name__ == "__main__":
    render()
