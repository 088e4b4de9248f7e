"""导出: the current report as a Word file (GB/T 9704 layout) or as Markdown."""

from __future__ import annotations

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.export import file_stem, markdown_text
from assistant.ui import actions
from assistant.ui import render as html
from assistant.ui.messages import for_page
from assistant.ui.shell import require_report, show_notices
from assistant.ui.state import open_workspace, session
from assistant.workspace.service import diff_segments


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
    approved_only = st.checkbox("只导出审核已通过的章节", key="export.approved-only")
    report, left_out = ws.export_draft(report_id, approved_only=approved_only, record=False)
    if approved_only:
        if left_out:
            titles = {s.section_id: s.title for s in ws.sections(report_id)}
            st.warning(
                f"未通过审核、不导出的章节（{len(left_out)} 个）："
                + "、".join(f"{sid} {titles.get(sid) or ''}".strip() for sid in left_out)
            )
        else:
            st.success("各章节均已审核通过。")

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
        on_click=_record,
        args=(sess, report_id, "docx", approved_only, left_out),
    )
    cols[1].download_button(
        "下载 Markdown",
        markdown,
        file_name=f"{stem}.md",
        mime="text/markdown",
        key="export.md",
        on_click=_record,
        args=(sess, report_id, "md", approved_only, left_out),
    )
    st.subheader("预览")
    with st.container(border=True, height=600):
        st.markdown(markdown)
    _import_marked_up(sess, ws, report_id)


def _record(sess, report_id: str, fmt: str, approved_only: bool, left_out: list[str]) -> None:
    """A download is an export: it goes into the audit log with who made it."""
    try:
        open_workspace(sess.settings).record_export(report_id, fmt=fmt, approved_only=approved_only, left_out=left_out)
    except HuibaoError as err:
        sess.notify("error", str(err))


def _import_marked_up(sess, ws, report_id: str) -> None:
    """The leader's marked-up Word file back: a preview of what would change, saved only on 保存."""
    st.subheader("导入领导修改稿")
    st.caption(
        "上传从这里导出、经 Word 或 WPS 修改过的文件：修订视为接受，改动的章节各存为新版本，批注保留在各节，"
        "新出现的数字逐个核对。保存前先看预览。"
    )
    upload = st.file_uploader(
        "修改后的 Word 文件（.docx）", type=["docx"], key=f"import.file.{sess.uploader_generation}"
    )
    if upload is None:
        return
    data = upload.getvalue()
    try:
        plan, snapshot_id = actions.import_preview(ws, report_id, upload.name, data)
    except HuibaoError as err:
        st.error(f"无法导入：{for_page(err)}")
        return
    _show_plan(plan)
    if not plan.changes and not plan.comments:
        return
    uploader = st.text_input("上传人（可不填）", key="import.by")
    left, right = st.columns(2)
    if left.button("保存为新版本", type="primary", key="import.save"):
        try:
            saved = actions.import_save(ws, plan, uploader=uploader.strip(), snapshot_id=snapshot_id)
        except HuibaoError as err:
            st.error(f"未保存：{for_page(err)}")
            return
        sess.uploader_generation += 1
        changed = "、".join(
            f"章节 {sid} 第 {v} 版" for sid, v in saved if any(c.section_id == sid for c in plan.changes)
        )
        sess.notify("success", f"已导入 {plan.file_name}：{changed or '无正文改动'}；批注 {len(plan.comments)} 条。")
        for line in ws.reopened(report_id, dict(saved)):
            sess.notify("warning", line)
        st.rerun()
    if right.button("放弃", key="import.cancel"):
        sess.uploader_generation += 1
        st.rerun()


def _show_plan(plan) -> None:
    """The same preview `huibao import` prints: changed sections with their differences, the new
    numbers and how they check, renamed or moved headings, missing sections, comments."""
    if plan.change_authors:
        st.caption(f"文件中的修订者：{'、'.join(plan.change_authors)}")
    if not plan.changes:
        st.info("各章节正文与当前版本相同，不会生成新版本。")
    for change in plan.changes:
        with st.container(border=True):
            locked = "（已锁定，仍将按文件保存新版本）" if change.locked else ""
            st.markdown(f"**章节 {change.section_id} {change.heading or ''}** 有修改{locked}")
            st.markdown(html.diff_html(diff_segments(change.old_text, change.new_text)), unsafe_allow_html=True)
            for m in change.introduced:
                if m.flagged or m.status in ("unverified", "placeholder"):
                    st.error(f"新数字“{m.text}”：{m.message or '请核实'}")
                else:
                    st.success(f"新数字“{m.text}”有据：{m.message or ''}")
    for moved in plan.moved:
        st.warning(f"标题{moved.how}：章节 {moved.section_id} 原为“{moved.expected}”，文件中为“{moved.found}”。")
    if plan.missing:
        st.warning(f"文件中没有这些章节，保持不变：{'、'.join(plan.missing)}。")
    for note in plan.comments:
        where = f"章节 {note.section_id}" if note.section_id else "标题"
        st.info(f"批注（{where}，{note.author or '未署名'}）：{note.text}")


if __name__ == "__main__":
    render()
