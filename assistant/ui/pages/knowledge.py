"""素材库: upload past reports and policy documents with their 类别 / 年度 / 单位, list what is in
the index (filtered, paged, metadata only), re-tag or remove documents, search it."""

from __future__ import annotations

import hashlib

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.core.textio import size_zh
from assistant.kb.ingest import ingest
from assistant.kb.metadata import (
    KIND_ZH,
    KINDS,
    NO_FOLDER,
    DocumentFilter,
    DocumentMeta,
    filter_documents,
    folders,
    page_of,
    parse_kind,
)
from assistant.kb.retrieve import DocumentInfo
from assistant.ui import actions
from assistant.ui import render as html
from assistant.ui.messages import for_page
from assistant.ui.shell import show_notices
from assistant.ui.state import UiSession, knowledge_base, open_workspace, session

PER_PAGE = 20
ALL = "全部"
NO_FOLDER_LABEL = "（单独导入、上传的文件）"
CONFIRM = "kb.confirm_remove"  # session key: (description, sources) the person is asked about
CONFIRM_ONE = "kb.confirm_delete"  # session key: the source whose 删除 the person is asked to confirm
SHOWN = 8  # documents named in the confirmation; the rest are counted


def _ingest(sess: UiSession, kb, paths, label: str, meta: dict | None = None) -> None:
    ws = open_workspace(sess.settings)
    try:
        ws.authorize("kb")  # admins only while accounts are on; the upload itself checked it too
    except HuibaoError as err:
        st.error(for_page(err))
        return
    bar = st.progress(0.0, text=f"正在导入{label}…")

    def progress(stage: str, done: int, total: int) -> None:
        # Runs on the script thread (ingest is called synchronously), so updating is allowed.
        what = "读取 " + stage[5:] if stage.startswith("file:") and stage[5:] else "计算向量"
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{what}（{done}/{total}）")

    try:
        report = ingest(paths, sess.settings, kb=kb, progress=progress, meta=meta)
    except HuibaoError as err:
        bar.empty()
        st.error(for_page(err))
        return
    bar.empty()
    if paths is None:
        ws.record("kb_upload", detail=f"同步素材目录 {sess.settings.knowledge_dir.name}/")
    added = len(report.added) + len(report.updated)
    msg = f"导入完成：新增或更新 {added} 个文件，未变 {len(report.unchanged)} 个。"
    sess.notify("success", msg)
    for source, reason in report.skipped:
        sess.notify("warning", f"{source} 未导入：{reason}")
    for source, note in report.warnings:
        sess.notify("warning", f"{source} 已导入，但{note}")
    st.rerun()


def _ask_delete(source: str) -> None:
    st.session_state[CONFIRM_ONE] = source


def _cancel_delete() -> None:
    st.session_state.pop(CONFIRM_ONE, None)


def _delete(sess: UiSession, source: str) -> None:
    st.session_state.pop(CONFIRM_ONE, None)
    try:
        actions.delete_document(knowledge_base(sess.settings), source, sess.settings, ws=open_workspace(sess.settings))
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        sess.notify("success", f"已从素材库删除 {source}。")


def _guess(name: str, data: bytes) -> DocumentMeta:
    """The guess for one upload, once per file content (a scanned PDF is read by OCR)."""
    guesses = st.session_state.setdefault("kb.guesses", {})
    key = (name, hashlib.sha256(data).hexdigest())
    if key not in guesses:
        guesses[key] = actions.upload_guess(name, data)
    return guesses[key]


def _upload_form(sess: UiSession, kb, uploads) -> None:
    """One row per file: its 类别 / 年度 / 单位 as guessed, for the person to correct."""
    st.caption(
        "请核对每个文件的类别、年度和单位（已按文件名和开头几行预填）。标为“往年汇报”的，起草时作为往年汇报参考。"
    )
    kinds = list(KINDS)
    rows = []
    for i, upload in enumerate(uploads):
        data = upload.getvalue()
        guess = _guess(upload.name, data)
        key = f"kb.meta.{sess.uploader_generation}.{i}"
        cols = st.columns([3, 2, 1, 3])
        cols[0].markdown(f"**{upload.name}**")
        kind = cols[1].selectbox(
            "类别",
            kinds,
            index=kinds.index(guess.kind or "other"),
            format_func=lambda k: KIND_ZH[k],
            key=f"{key}.kind",
        )
        year = cols[2].text_input("年度", value=str(guess.year or ""), key=f"{key}.year", placeholder="如 2024")
        org = cols[3].text_input("单位", value=guess.organisation or "", key=f"{key}.org", placeholder="如 某市人大办")
        rows.append((upload.name, data, kind, year, org))
    if st.button("导入", type="primary", key="kb.import"):
        try:
            # every row is checked before anything is stored: a wrong year changes nothing
            files = [(name, data, actions.upload_meta(name, kind, year, org)) for name, data, kind, year, org in rows]
            paths, meta = actions.import_uploads(files, sess.settings, kb, ws=open_workspace(sess.settings))
        except HuibaoError as err:
            st.error(for_page(err))
        else:
            sess.uploader_generation += 1
            _ingest(sess, kb, paths, f" {len(paths)} 个文件", meta)


def _filters(documents: list[DocumentInfo]) -> DocumentFilter:
    cols = st.columns([2, 2, 3, 3, 3])
    kind = cols[0].selectbox("类别", [ALL, *KINDS], format_func=lambda k: KIND_ZH.get(k, k), key="kb.filter.kind")
    years = sorted({d.year for d in documents if d.year is not None}, reverse=True)
    year = cols[1].selectbox("年度", [ALL, *years], key="kb.filter.year")
    places = [ALL, *([NO_FOLDER] if any("/" not in d.source for d in documents) else []), *folders(documents)]
    folder = cols[2].selectbox(
        "目录",
        places,
        format_func=lambda f: NO_FOLDER_LABEL if f == NO_FOLDER else f,
        key="kb.filter.folder",
    )
    org = cols[3].text_input("单位包含", key="kb.filter.org")
    text = cols[4].text_input("标题或文件名包含", key="kb.filter.text")
    return DocumentFilter(
        kind=None if kind == ALL else parse_kind(kind),
        year=year if isinstance(year, int) else None,
        organisation=org.strip() or None,
        folder=None if folder == ALL else folder,
        text=text.strip() or None,
    )


def _retag(sess: UiSession, source: str, key: str) -> None:
    state = st.session_state
    try:
        changed = actions.retag_document(
            knowledge_base(sess.settings),
            source,
            state[f"{key}.kind"],
            state[f"{key}.year"],
            state[f"{key}.org"],
            ws=open_workspace(sess.settings),
        )
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        sess.notify("success" if changed else "info", f"已修改 {source} 的标注。" if changed else "标注未变。")


ROW = [4, 1.1, 0.9, 2, 0.8, 1.2, 1]  # title and source, kind, year, organisation, chunks, 修改, 删除


def _document_row(sess: UiSession, doc: DocumentInfo) -> None:
    row = st.columns(ROW, vertical_alignment="center")
    row[0].markdown(f"**{doc.title or doc.source}**  \n`{doc.source}`")
    row[1].write(KIND_ZH.get(doc.kind, doc.kind))
    row[2].write(f"{doc.year} 年" if doc.year else "—")
    row[3].write(doc.organisation or "—")
    row[4].write(f"{doc.chunks} 段")
    key = f"kb.tag.{hashlib.sha1(doc.source.encode()).hexdigest()[:12]}"
    with row[5].popover("修改", help="修改类别、年度、单位（不重新导入）"):
        kinds = list(KINDS)
        st.selectbox("类别", kinds, index=kinds.index(doc.kind), format_func=lambda k: KIND_ZH[k], key=f"{key}.kind")
        st.text_input("年度", value=str(doc.year or ""), key=f"{key}.year")
        st.text_input("单位", value=doc.organisation or "", key=f"{key}.org")
        st.button("保存", key=f"{key}.save", on_click=_retag, args=(sess, doc.source, key))
    row[6].button("删除", key=f"kb.delete.{doc.source}", on_click=_ask_delete, args=(doc.source,))
    if st.session_state.get(CONFIRM_ONE) == doc.source:
        _confirm_delete(sess, doc)


def _confirm_delete(sess: UiSession, doc: DocumentInfo) -> None:
    """One document's 删除 asks first, as the batch removal does: the file is named, and an
    upload's saved copy (its only copy on the server) is said to go too."""
    name = f"“{doc.title}”（{doc.source}）" if doc.title and doc.title != doc.source else f"“{doc.source}”"
    copy = actions.uploaded_copy(doc.source, sess.settings)
    if copy is not None:
        what = f"这是上传的文件，服务器上保存的副本（uploads/{copy.name}）也会一并删除，删除后需重新上传才能恢复。"
    else:
        what = "原文件不在上传目录中，保留不动；删除后需重新导入才能恢复。"
    st.warning(f"确认从素材库删除{name}？{what}")
    cols = st.columns([2, 1, 5])
    cols[0].button(
        "确认删除这个文件", type="primary", key="kb.delete_confirm", on_click=_delete, args=(sess, doc.source)
    )
    cols[1].button("取消", key="kb.delete_cancel", on_click=_cancel_delete)


def _ask_removal(flt: DocumentFilter, sources: list[str]) -> None:
    st.session_state[CONFIRM] = (flt.describe(), sources)


def _remove(sess: UiSession) -> None:
    _, sources = st.session_state.pop(CONFIRM)
    try:
        n = actions.remove_confirmed(
            knowledge_base(sess.settings), sources, sess.settings, ws=open_workspace(sess.settings)
        )
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        sess.notify("success", f"已从素材库删除 {n} 个文件。")


def _removal(sess: UiSession, flt: DocumentFilter, matching: list[DocumentInfo]) -> None:
    """Remove what the filter selects, after the person has seen how many and which."""
    pending = st.session_state.get(CONFIRM)
    if pending is not None:
        description, sources = pending
        names = "、".join(sources[:SHOWN]) + (f" 等 {len(sources)} 个" if len(sources) > SHOWN else "")
        st.warning(
            f"确认从素材库删除符合条件（{description}）的 {len(sources)} 个文件？{names}。删除后需重新导入才能恢复。"
        )
        cols = st.columns([2, 1, 5])
        cols[0].button(
            f"确认删除 {len(sources)} 个文件", type="primary", key="kb.remove.confirm", on_click=_remove, args=(sess,)
        )
        cols[1].button("取消", key="kb.remove.cancel", on_click=lambda: st.session_state.pop(CONFIRM, None))
        return
    if flt.narrows_by_place_or_kind and matching:
        st.button(
            f"删除符合条件的 {len(matching)} 个文件…",
            key="kb.remove",
            help="按所选目录、年度或类别批量删除，先确认",
            on_click=_ask_removal,
            args=(flt, [d.source for d in matching]),
        )
    else:
        st.caption("按目录、年度或类别筛选后，可一次删除筛选出的全部文件。")


def render() -> None:
    sess = session()
    st.title("素材库")
    show_notices(sess)
    kb = knowledge_base(sess.settings)

    st.subheader("上传文件")
    st.caption(
        f"支持 .txt、.md、.docx、.pdf，单个文件不超过 {size_zh(sess.settings.max_upload_bytes)}"
        "（.docx 按解压后的大小计）。往年汇报和政策文件越全，起草时可参考的素材越多。"
    )
    uploads = st.file_uploader(
        "选择文件",
        type=["txt", "md", "docx", "pdf"],
        accept_multiple_files=True,
        key=f"kb.upload.{sess.uploader_generation}",
        label_visibility="collapsed",
    )
    if uploads:
        _upload_form(sess, kb, uploads)
    if st.button(
        f"同步示例素材目录（{sess.settings.knowledge_dir.name}/）", key="kb.sync", help="导入或更新该目录中的全部文件"
    ):
        _ingest(sess, kb, None, "示例素材")

    # the listing is kept between reruns; 刷新 reads it again (another computer re-tagged a file)
    documents = kb.documents(fresh=bool(st.session_state.get("kb.refresh")))
    st.subheader(f"已导入的文件（{len(documents)} 个）")
    if not documents:
        st.caption("素材库是空的。")
    else:
        flt = _filters(documents)
        matching = filter_documents(documents, flt)
        if st.session_state.get("kb.page.filter") != flt:  # another filter starts on its first page
            st.session_state["kb.page.filter"] = flt
            st.session_state["kb.page"] = 1
        shown = page_of(matching, int(st.session_state.get("kb.page", 1)), PER_PAGE)
        st.session_state["kb.page"] = shown.number  # within range after a removal, before the widget
        cols = st.columns([4, 1, 1], vertical_alignment="bottom")
        cols[0].caption(f"符合条件的 {shown.total} 个，第 {shown.number}/{shown.pages} 页，每页 {PER_PAGE} 个")
        if shown.pages > 1:
            cols[1].number_input("页码", min_value=1, max_value=shown.pages, step=1, key="kb.page")
        cols[2].button("刷新列表", key="kb.refresh", help="重新读取素材库（其他电脑或命令行改了标注时）")
        _removal(sess, flt, matching)
        if shown.items:
            for col, head in zip(st.columns(ROW), ("文件", "类别", "年度", "单位", "分块")):
                col.caption(head)
        for doc in shown.items:
            _document_row(sess, doc)

    st.subheader("检索")
    query = st.text_input("输入关键词或问题", key="kb.query", placeholder="如：新媒体 留言回复")
    if query.strip():
        try:
            passages = kb.search(query, k=5)
        except HuibaoError as err:
            st.error(for_page(err))
            return
        if not passages:
            st.caption("没有找到相关段落。")
        for p in passages:
            st.markdown(html.passage_html(p.source, p.heading_path, p.text), unsafe_allow_html=True)


if __name__ == "__main__":
    render()
