"""数据: the report's figures as an editable table, import/export, and the sections a change
made stale (with one click to redraft them)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.core.figures import Figure, format_value
from assistant.ui import actions
from assistant.ui.messages import for_page
from assistant.ui.shell import OUTLINE_PAGE, SECTIONS_PAGE, require_report, show_notices
from assistant.ui.state import ConfirmWhole, UiSession, open_workspace, session
from assistant.workspace.service import Workspace

# Widths in pixels: the nine columns fit a 1024 px screen without scrolling sideways.
COLUMN_CONFIG = {
    "id": st.column_config.TextColumn("编号", help="留空则自动编号（F01、F02…）", width=100),
    "item": st.column_config.TextColumn("项目", required=True, width=130),
    # Text, not a number column: the office types "1,300" or full-width digits, and a
    # value such as "约30" must get the Chinese explanation instead of silently vanishing.
    "value": st.column_config.TextColumn("数值", required=True, width=66),
    "unit": st.column_config.TextColumn("单位", required=True, width=66),
    "section": st.column_config.TextColumn("章节", help="用到这项数据的章节编号，如 1.2", width=66),
    "note": st.column_config.TextColumn("备注", width=80),
    "aliases": st.column_config.TextColumn("别名", help="正文里对这一项的其他叫法，多个用“、”分隔", width=66),
    "last_year": st.column_config.TextColumn(
        "上年", help="上年同一项的数值，单位与“单位”列相同；填了才能核对“比上年增长…”一类的数字", width=66
    ),
    "part_of": st.column_config.TextColumn("所属", help="包含这一项的那一行的编号，用于核对“占……的X%”", width=66),
    "source": st.column_config.TextColumn("来源", help="从哪份素材的哪一处摘来（“素材”页填写）"),
    "sentence": st.column_config.TextColumn("原文", help="素材中写这个数字的原句"),
}


def _table(figures) -> pd.DataFrame:
    rows = actions.figure_rows(figures)
    for row in rows:
        row["value"] = format_value(row["value"])
        row["last_year"] = "" if row["last_year"] is None else format_value(row["last_year"])
        for column in ("section", "note", "part_of", "source", "sentence"):
            row[column] = row[column] or ""  # an empty cell, not the word None
    return pd.DataFrame(rows, columns=actions.FIGURE_COLUMNS)


def _apply(
    sess: UiSession,
    ws: Workspace,
    report_id: str,
    figures: list[Figure],
    how: str,
    *,
    source: str,
    lines: list[int] | None = None,
) -> None:
    # A 章节 that is not in the outline is refused like an unknown 所属: nothing is saved.
    actions.check_figure_sections(figures, ws.spec(report_id), ws.figures(report_id), source=source, lines=lines)
    before = set(ws.stale_sections(report_id))
    stale = actions.update_figures(ws, report_id, figures)
    sess.figures_generation += 1  # a fresh table, showing what was saved
    newly = [s for s in stale if s not in before]
    msg = f"{how}，共 {len(figures)} 项。"
    msg += f"用到变更数据的章节：{'、'.join(stale)}，已标为待更新。" if stale else "没有章节需要更新。"
    if newly and len(newly) != len(stale):
        msg += f"（新增：{'、'.join(newly)}）"
    sess.notify("success", msg)


def render() -> None:
    sess = session()
    st.title("数据")
    report_id = require_report(sess)
    if report_id is None:
        return
    ws = open_workspace(sess.settings)
    figures = ws.figures(report_id)
    show_notices(sess)
    st.caption("汇报中的每个数字都要在这里有依据。修改后点“保存数据”；用到变更数据的章节会标为待更新。")

    # 来源 and 原文 (from the 素材 page) are long: shown on request, so the table fits a 1024 px screen
    provenance = st.toggle("显示来源和原文", key="figures.provenance")
    shown = [c for c in COLUMN_CONFIG if provenance or c not in ("source", "sentence")]
    edited = st.data_editor(
        _table(figures),
        key=f"figures.{report_id}.{sess.figures_generation}",
        column_config=COLUMN_CONFIG,
        column_order=shown,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
    )
    cols = st.columns([1, 1, 4])
    if cols[0].button("保存数据", type="primary", key="figures.save"):
        try:
            records = edited.to_dict("records")
            new = actions.figures_from_table(records)
            _apply(sess, ws, report_id, new, "数据已保存", source="数据表", lines=actions.table_lines(records))
        except HuibaoError as err:
            st.error(for_page(err))  # the table keeps the user's edits; nothing was saved
        else:
            st.rerun()
    if cols[1].button("放弃修改", key="figures.reset"):
        sess.figures_generation += 1
        st.rerun()

    missing = actions.notes_numbers_missing(ws, report_id)
    if missing:
        count = sum(len(rows) for rows in missing.values())
        with st.container(border=True, key="figures-notes-numbers"):
            st.warning(
                f"章节 {'、'.join(missing)} 的要点中有 {count} 个数字还不在数据中，起草时会写成【待补充】："
                + "；".join(f"{r.item} {r.value:g}{r.unit}" for rows in missing.values() for r in rows[:3])
                + "。可在上表中填写，或到“提纲”页勾选加入。"
            )
            st.page_link(OUTLINE_PAGE, label="到“提纲”页勾选加入", icon=":material/account_tree:")

    stale = [s for s in ws.stale_report(report_id)]
    if stale:
        with st.container(border=True):
            st.markdown("**待更新的章节**（所用数据已变更）")
            for s in stale:
                st.markdown(
                    f"- {s.section_id} {s.title}{'（已锁定，默认不重新起草）' if s.locked else ''}："
                    + "；".join(s.reasons)
                )
            if st.button(f"重新起草这些章节（{len(stale)} 个）", type="primary", key="figures.redraft"):
                # The 章节 page asks first (locked and hand-edited sections stay unless ticked),
                # then runs the job with its progress bar and shows the new text.
                sess.confirm = ConfirmWhole(report_id, only=tuple(s.section_id for s in stale))
                st.switch_page(SECTIONS_PAGE)

    st.divider()
    left, right = st.columns(2)
    with left:
        st.markdown("**从文件导入**（.csv、.xlsx、.yaml；替换当前数据）")
        upload = st.file_uploader(
            "数据文件",
            type=["csv", "xlsx", "yaml", "yml"],
            key=f"figures.upload.{sess.uploader_generation}",
            label_visibility="collapsed",
        )
        if upload is not None and st.button("导入", key="figures.import"):
            try:
                new = actions.figures_from_upload(upload.name, upload.getvalue(), sess.settings)
                name = actions.safe_upload_name(upload.name)
                _apply(sess, ws, report_id, new, f"已从 {name} 导入数据", source=name)
            except HuibaoError as err:
                st.error(for_page(err))
            else:
                sess.uploader_generation += 1
                st.rerun()
    with right:
        st.markdown("**导出**")
        # Built on click (a callable `data`): every edit in the table reruns this page, and
        # writing an .xlsx each time would slow typing down for a file rarely downloaded.
        settings = sess.settings
        st.download_button(
            "下载 CSV",
            lambda: actions.figures_file_bytes(figures, ".csv", settings),
            file_name="数据.csv",
            mime="text/csv",
            key="figures.csv",
            on_click="ignore",
        )
        st.download_button(
            "下载 Excel",
            lambda: actions.figures_file_bytes(figures, ".xlsx", settings),
            file_name="数据.xlsx",
            key="figures.xlsx",
            on_click="ignore",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


if __name__ == "__main__":
    render()
