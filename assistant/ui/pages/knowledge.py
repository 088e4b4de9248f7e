"""素材库: upload past reports and policy documents, see what is in the index, search it."""

from __future__ import annotations

import streamlit as st

from assistant.core.errors import HuibaoError
from assistant.core.textio import size_zh
from assistant.kb.ingest import ingest
from assistant.ui import actions
from assistant.ui import render as html
from assistant.ui.shell import show_notices
from assistant.ui.state import UiSession, knowledge_base, open_workspace, session

KIND_ZH = {"report": "往年汇报", "policy": "政策文件", "other": "其他"}


def _ingest(sess: UiSession, kb, paths, label: str) -> None:
    ws = open_workspace(sess.settings)
    try:
        ws.authorize("kb")  # admins only while accounts are on; the upload itself checked it too
    except HuibaoError as err:
        st.error(str(err))
        return
    bar = st.progress(0.0, text=f"正在导入{label}…")

    def progress(stage: str, done: int, total: int) -> None:
        # Runs on the script thread (ingest is called synchronously), so updating is allowed.
        what = "读取 " + stage[5:] if stage.startswith("file:") and stage[5:] else "计算向量"
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{what}（{done}/{total}）")

    try:
        report = ingest(paths, sess.settings, kb=kb, progress=progress)
    except HuibaoError as err:
        bar.empty()
        st.error(str(err))
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


def _delete(sess: UiSession, source: str) -> None:
    try:
        actions.delete_document(knowledge_base(sess.settings), source, sess.settings, ws=open_workspace(sess.settings))
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        sess.notify("success", f"已从素材库删除 {source}。")


def render() -> None:
    sess = session()
    st.title("素材库")
    show_notices(sess)
    kb = knowledge_base(sess.settings)
    documents = kb.documents()

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
    if uploads and st.button("导入", type="primary", key="kb.import"):
        try:
            paths = actions.save_uploads(
                [(u.name, u.getvalue()) for u in uploads], sess.settings, kb, ws=open_workspace(sess.settings)
            )
        except HuibaoError as err:
            st.error(str(err))
        else:
            sess.uploader_generation += 1
            _ingest(sess, kb, paths, f" {len(paths)} 个文件")
    if st.button(
        f"同步示例素材目录（{sess.settings.knowledge_dir.name}/）", key="kb.sync", help="导入或更新该目录中的全部文件"
    ):
        _ingest(sess, kb, None, "示例素材")

    st.subheader(f"已导入的文件（{len(documents)} 个）")
    if not documents:
        st.caption("素材库是空的。")
    for doc in documents:
        row = st.columns([5, 1, 1, 1, 1])
        row[0].markdown(f"**{doc.title or doc.source}**  \n`{doc.source}`")
        row[1].write(KIND_ZH.get(doc.kind, doc.kind))
        row[2].write(f"{doc.year} 年" if doc.year else "—")
        row[3].write(f"{doc.chunks} 段")
        row[4].button("删除", key=f"kb.delete.{doc.source}", on_click=_delete, args=(sess, doc.source))

    st.subheader("检索")
    query = st.text_input("输入关键词或问题", key="kb.query", placeholder="如：新媒体 留言回复")
    if query.strip():
        try:
            passages = kb.search(query, k=5)
        except HuibaoError as err:
            st.error(str(err))
            return
        if not passages:
            st.caption("没有找到相关段落。")
        for p in passages:
            st.markdown(html.passage_html(p.source, p.heading_path, p.text), unsafe_allow_html=True)


if __name__ == "__main__":
    render()
