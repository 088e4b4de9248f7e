"""提纲: the open report's outline, edited in place: each section's title, notes (要点) and
figures; sections added, moved up and down, removed (kept with their versions, restorable) and
restored; numbers the notes state that the figures lack, offered as figure rows to tick."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.core.figures import figure_text
from assistant.ui import actions
from assistant.ui.shell import SECTIONS_PAGE, require_report, show_notices
from assistant.ui.state import UiSession, open_workspace, session
from assistant.workspace.service import Workspace


def _key(section_id: str) -> str:
    return section_id.replace(".", "_")


def _fresh(value: object) -> str:
    """Part of a widget key that changes with the saved value, so that a field shows what was
    saved (here or in another window), never a stale entry of an earlier run."""
    return format(zlib.crc32(repr(value).encode("utf-8")), "x")


def _do(sess: UiSession, change: Callable[[], object], done: str) -> None:
    try:
        change()
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    sess.notify("success", done)


# --- one section ------------------------------------------------------------------------------


def _section(sess: UiSession, ws: Workspace, report_id: str, row: actions.OutlineRow, figure_labels: dict) -> None:
    sec = row.section
    with st.container(border=True, key=f"outline-{_key(sec.id)}"):
        indent = "　" * (2 * row.depth)
        st.markdown(f"{indent}**{row.heading}**")
        st.caption(f"{indent}章节 {sec.id}" + ("（其下各节为正文，本节只有标题）" if sec.children else ""))
        fresh = _fresh((sec.title, sec.notes, sec.figures))
        with st.form(f"outline-form-{_key(sec.id)}-{fresh}", border=False):
            title = None
            if not row.frame:
                title = st.text_input(
                    "标题（可不填，起草时拟定）",
                    value=sec.title or "",
                    max_chars=200,
                    key=f"outline-title.{sec.id}.{fresh}",
                )
            notes = st.text_area(
                "要点（每行一条，大白话即可）", value=sec.notes, height=90, key=f"outline-notes.{sec.id}.{fresh}"
            )
            chosen = st.multiselect(
                "所用数据",
                options=list(figure_labels),
                default=[f for f in sec.figures if f in figure_labels],
                format_func=lambda fid: figure_labels[fid],
                placeholder="选择本节要写的数据（可不选）",
                key=f"outline-figures.{sec.id}.{fresh}",
            )
            if st.form_submit_button("保存本节"):
                _do(
                    sess,
                    lambda: ws.edit_section(report_id, sec.id, title=title, notes=notes, figure_ids=chosen),
                    f"章节 {sec.id} 已保存。",
                )
                st.rerun()
        with st.container(horizontal=True):
            st.button(
                "上移",
                key=f"outline-up.{sec.id}",
                disabled=row.first,
                on_click=_do,
                args=(sess, lambda: ws.shift_section(report_id, sec.id, -1), f"章节 {sec.id} 已上移。"),
            )
            st.button(
                "下移",
                key=f"outline-down.{sec.id}",
                disabled=row.last,
                on_click=_do,
                args=(sess, lambda: ws.shift_section(report_id, sec.id, 1), f"章节 {sec.id} 已下移。"),
            )
            if not row.frame:
                st.button(
                    "添加小节",
                    key=f"outline-child.{sec.id}",
                    on_click=_do,
                    args=(
                        sess,
                        lambda: ws.add_section(report_id, parent_id=sec.id),
                        f"已在章节 {sec.id} 下添加一个小节，请填写其标题和要点。",
                    ),
                )
            st.button(
                "移除",
                key=f"outline-remove.{sec.id}",
                on_click=_do,
                args=(
                    sess,
                    lambda: ws.remove_section(report_id, sec.id),
                    f"已移除章节 {sec.id}（全部版本保留），可在下方“已移除的章节”中恢复。",
                ),
            )
        _numbers(sess, ws, report_id, sec.id)


def _numbers(sess: UiSession, ws: Workspace, report_id: str, section_id: str) -> None:
    """The numbers the notes state that the figures lack: without a figure the drafter writes
    each as 【待补充】, so they are offered here to add with one tick."""
    rows = actions.notes_figure_rows(ws, report_id, section_id)
    if not rows:
        return
    st.warning(
        f"要点中有 {len(rows)} 个数字还不在“数据”中，起草时会写成【待补充】。勾选后点“加入数据”，"
        "即作为本节的数据（也可在“数据”页填写）。"
    )
    ticked = []
    for k, row in enumerate(rows):
        label = f"{row.item}：{row.value:g}{row.unit}　（{row.sentence}）"
        if st.checkbox(label, value=True, key=f"outline-number.{section_id}.{k}.{_fresh(row.sentence)}"):
            ticked.append(row)
    if st.button("加入数据", key=f"outline-add-numbers.{section_id}"):
        try:
            added = actions.add_notes_figures(ws, report_id, section_id, ticked)
        except HuibaoError as err:
            sess.notify("error", str(err))
        else:
            names = "、".join(f"{f.item} {figure_text(f)}" for f in added)
            sess.notify("success", f"已加入数据：{names}。")
        st.rerun()


# --- the page -------------------------------------------------------------------------------


def render() -> None:
    sess = session()
    st.title("提纲")
    report_id = require_report(sess)
    if report_id is None:
        return
    ws = open_workspace(sess.settings)
    show_notices(sess)
    spec = ws.spec(report_id)
    st.caption(
        f"{spec.title} · 编号 {report_id}。在这里写各部分的要点、改标题、选所用数据，增删和调整章节顺序；"
        "改好后到“章节”页起草。移除的章节连同全部版本保留，可以恢复。"
    )
    figure_labels = {f.id: f"{f.id} · {f.item} {figure_text(f)}" for f in ws.figures(report_id)}
    for row in actions.outline_rows(spec):
        _section(sess, ws, report_id, row, figure_labels)

    st.subheader("添加一级章节")
    with st.form("outline-new-top", clear_on_submit=True):
        title = st.text_input("标题", placeholder="如：需要协调解决的问题")
        notes = st.text_area("要点", height=80)
        if st.form_submit_button("添加"):
            _do(sess, lambda: ws.add_section(report_id, title=title, notes=notes), "已添加一级章节（在结束语之前）。")
            st.rerun()

    removed = ws.removed_sections(report_id)
    st.subheader(f"已移除的章节（{len(removed)} 个）")
    if not removed:
        st.caption("没有移除的章节。")
    for entry in removed:
        with st.container(border=True, key=f"outline-removed-{_key(entry.section.id)}"):
            name = entry.section.title or entry.section.notes[:20] or "无标题"
            st.markdown(f"章节 {entry.section.id}：{name}")
            st.caption(f"移除于 {entry.removed_at[:16].replace('T', ' ')}，全部版本保留。")
            st.button(
                "恢复",
                key=f"outline-restore.{entry.section.id}",
                on_click=_do,
                args=(
                    sess,
                    lambda sid=entry.section.id: ws.restore_section(report_id, sid),
                    f"已恢复章节 {entry.section.id}。",
                ),
            )
    if st.button("到“章节”页起草", type="primary"):
        st.switch_page(SECTIONS_PAGE)


if __name__ == "__main__":
    render()
