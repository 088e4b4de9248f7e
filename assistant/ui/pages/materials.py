"""素材: upload the departments' materials, see each candidate figure with its sentence,
resolve conflicts, tick the rows to accept into the report's figures, and tick the material
sentences proposed for each section to append to its notes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.core.figures import format_value
from assistant.materials import MATERIAL_EXTENSIONS, Extracted, extract_materials
from assistant.materials.accept import merge_rows, resolve_conflicts
from assistant.ui import actions
from assistant.ui.messages import for_page
from assistant.ui.shell import require_report, show_notices
from assistant.ui.state import current_model, open_workspace, session

_RESULT = "materials.result"  # st.session_state key: the last extraction, per report
_NOTES = "materials.notes"  # st.session_state key: the notes proposed from it, per report
_COLUMNS = {
    "accept": st.column_config.CheckboxColumn("采用", help="勾选的行加入本汇报的数据"),
    "id": st.column_config.TextColumn("编号", disabled=True),
    "item": st.column_config.TextColumn("项目", help="可以改成本单位的叫法"),
    "value": st.column_config.TextColumn("数值", disabled=True),
    "unit": st.column_config.TextColumn("单位", disabled=True),
    "last_year": st.column_config.TextColumn("上年", disabled=True),
    "source": st.column_config.TextColumn("来源", disabled=True),
    "sentence": st.column_config.TextColumn("原文", disabled=True, width="large"),
    "conflict": st.column_config.TextColumn("冲突", disabled=True),
}


def _extract(uploads, sess) -> Extracted:
    folder = Path(sess.settings.data_dir) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        paths, names = [], []
        for k, upload in enumerate(uploads):
            name = actions.safe_upload_name(upload.name)
            path = Path(tmp) / f"{k}{Path(name).suffix.lower()}"  # the user's name goes in `source`
            path.write_bytes(upload.getvalue())
            paths.append(path)
            names.append(name)
        return extract_materials(paths, model=current_model(sess), names=names)


def _table(result: Extracted, keep: dict[int, str]) -> pd.DataFrame:
    rows = []
    for r in result.rows:
        chosen = r.conflict is None or keep.get(r.conflict) == r.id
        rows.append(
            {
                "accept": chosen,
                "id": r.id,
                "item": r.item,
                "value": format_value(r.value),
                "unit": r.unit,
                "last_year": "" if r.last_year is None else format_value(r.last_year),
                "source": r.source,  # an OCR row ends with rows.OCR_NOTE: check it against the scan
                "sentence": r.sentence,
                "conflict": "" if r.conflict is None else f"冲突{r.conflict}",
            }
        )
    return pd.DataFrame(rows, columns=list(_COLUMNS))


def render() -> None:
    sess = session()
    st.title("素材")
    report_id = require_report(sess)
    if report_id is None:
        return
    show_notices(sess)
    st.caption(
        "上传各处室报来的材料（Word、PDF、Excel、文本、图片；扫描件自动做文字识别），"
        "逐条核对摘出的数据和原句，勾选后加入本汇报的数据。"
    )
    uploads = st.file_uploader(
        "素材文件",
        type=sorted(e.lstrip(".") for e in MATERIAL_EXTENSIONS),
        accept_multiple_files=True,
        key=f"materials.upload.{sess.uploader_generation}",
    )
    if uploads and st.button("摘录数据", type="primary", key="materials.extract"):
        with st.spinner("正在读取素材并摘录数据…"):
            try:
                st.session_state[_RESULT] = (report_id, _extract(uploads, sess))
                st.session_state.pop(_NOTES, None)
            except HuibaoError as err:
                st.error(for_page(err))
                return
    stored = st.session_state.get(_RESULT)
    if not stored or stored[0] != report_id:
        return
    result: Extracted = stored[1]
    for note in result.notes:
        st.warning(note)
    if result.dropped:
        st.info(f"模型给出的 {result.dropped} 行数值在所引原句中找不到，已舍弃。")
    keep: dict[int, str] = {}
    groups = sorted({r.conflict for r in result.rows if r.conflict is not None})
    if groups:
        st.markdown(f"**{len(groups)} 组冲突**：同一事项在不同材料中数值不同，请选定采用哪一个。")
        for g in groups:
            members = [r for r in result.rows if r.conflict == g]
            options = [r.id for r in members]
            labels = {r.id: f"{format_value(r.value)}{r.unit}（{r.source}）" for r in members}
            keep[g] = st.radio(
                f"冲突{g}：{members[0].item}",
                options,
                format_func=labels.__getitem__,
                key=f"materials.conflict.{g}",
                horizontal=True,
            )
    edited = st.data_editor(
        _table(result, keep),
        column_config=_COLUMNS,
        hide_index=True,
        width="stretch",
        key=f"materials.table.{len(result.rows)}.{hash(tuple(sorted(keep.items())))}",
    )
    if st.button("把勾选的行加入本汇报的数据", type="primary", key="materials.accept"):
        ticked = {row["id"]: row["item"] for row in edited.to_dict("records") if row["accept"]}
        chosen = [
            r.model_copy(update={"item": ticked[r.id] or r.item})
            for r in resolve_conflicts(result.rows, keep)
            if r.id in ticked
        ]
        ws = open_workspace(sess.settings)
        if not chosen:
            st.error("请先在表中勾选要加入的行（“采用”列）。")
            return
        try:
            merged = merge_rows(ws.figures(report_id), chosen)
            stale = actions.update_figures(ws, report_id, merged.figures)
        except HuibaoError as err:
            st.error(for_page(err))
            return
        sess.figures_generation += 1
        # Say what happened: which figures are new and which existing ones changed, from what to what.
        msg = f"{merged.summary()}本汇报现有 {len(merged.figures)} 项数据。"
        sess.notify("success", msg + (f"用到变更数据的章节：{'、'.join(stale)}，已标为待更新。" if stale else ""))
        for warning in merged.warnings():
            sess.notify("warning", warning)
        st.rerun()
    _notes(sess, report_id, result)


def _notes(sess, report_id: str, result: Extracted) -> None:
    st.subheader("各章节要点")
    st.caption(
        "按各章节的标题、要点和数据项目，从素材原句中挑出与之相符的句子；勾选的句子加到该章节要点的末尾，原有要点不变。"
    )
    ws = open_workspace(sess.settings)
    if st.button("为各章节提出要点", key="materials.propose"):
        with st.spinner("正在为各章节挑选素材句子…"):
            try:
                proposal = actions.propose_section_notes(ws, report_id, result.rows, current_model(sess))
            except HuibaoError as err:
                st.error(for_page(err))
                return
        st.session_state[_NOTES] = (report_id, proposal)
    stored = st.session_state.get(_NOTES)
    if not stored or stored[0] != report_id:
        return
    proposal = stored[1]
    for note in proposal.notes:
        st.warning(note)
    spec = ws.spec(report_id)
    known = {s.id: s for s in spec.walk()}
    ticked: dict[str, list[str]] = {}
    shown = 0
    for sid, sentences in proposal.sections.items():
        if not sentences or sid not in known:
            continue
        sec = known[sid]
        name = sec.title or sec.notes.split("\n")[0][:24] or "（标题待拟）"
        st.markdown(f"**章节 {sid}**　{spec.label(sid)}{name}")
        for k, s in enumerate(sentences):
            shown += 1
            if st.checkbox(s.sentence, key=f"materials-note-{sid.replace('.', '_')}-{k}", help=f"来源：{s.source}"):
                ticked.setdefault(sid, []).append(s.sentence)
    if not shown:
        st.info("素材中没有与各章节相符的句子。")
        return
    if st.button("把勾选的句子加入章节要点", key="materials.notes.save", disabled=not ticked):
        try:
            added = {sid: ws.append_notes(report_id, sid, lines) for sid, lines in ticked.items()}
        except HuibaoError as err:
            st.error(for_page(err))
            return
        parts = [f"章节 {sid} 加入 {len(lines)} 句" for sid, lines in added.items() if lines]
        sess.notify("success", ("；".join(parts) + "。") if parts else "勾选的句子已在要点中，未重复加入。")
        st.session_state.pop(_NOTES, None)
        st.rerun()


if __name__ == "__main__":
    render()
