"""章节: the report section by section — marked numbers, style findings, and per-section tools
(regenerate with an instruction, lock, hand edit, history with diff and revert, sources).

Nothing is overwritten silently: a whole-report action asks first (locked and hand-edited
sections stay unless ticked) and is undone with one click; a hand edit saved over a version
someone else saved meanwhile shows the difference and asks."""

from __future__ import annotations

import streamlit as st

from assistant.check import office_terms
from assistant.core.errors import HuibaoError, Unchanged
from assistant.drafting.draft import drafted_sections
from assistant.drafting.drafts import SectionDraft
from assistant.drafting.review import review_check
from assistant.gongwen import PART_NAMES
from assistant.ui import actions
from assistant.ui import render as html
from assistant.ui.messages import for_page
from assistant.ui.shell import require_report, show_notices
from assistant.ui.state import (
    ConfirmWhole,
    EditBase,
    EditConflict,
    PendingDraft,
    UiSession,
    current_model,
    drafting_knowledge_base,
    open_workspace,
    session,
)
from assistant.ui.streaming import StreamedCall
from assistant.workspace.service import VersionConflict, Workspace, diff_segments
from assistant.workspace.store import AUTHOR_ZH, BATCH_ZH, ReviewInfo

PART_HEADINGS = {part: PART_NAMES[part] for part in ("intro", "closing")}


# --- callbacks: run before the script, so the page renders the state they leave ----------


def _ask_regenerate(sess: UiSession, report_id: str, section_id: str, instruction_key: str) -> None:
    instruction = (st.session_state.get(instruction_key) or "").strip()
    sess.pending = PendingDraft(section_id=section_id, instruction=instruction or None, report_id=report_id)


def _ask_review_all(sess: UiSession, report_id: str) -> None:
    sess.review_all = report_id


def _review_all(sess: UiSession, ws: Workspace, report_id: str) -> None:
    """模型审读全文: each drafted section's current version read by the model (drafting/review.py),
    kept per version in the session and shown beside each section's findings."""
    model = current_model(sess)
    if model is None:
        sess.notify("warning", "未配置模型接口（在“设置”页填写），不能做模型审读；各节规则核对的结果照常显示。")
        return
    versions = {i.section_id: i.current_version for i in ws.sections(report_id)}
    drafts = [d for d in ws.current(report_id).sections if d.text.strip() and versions.get(d.section_id)]
    bar = st.progress(0.0, text="模型审读全文……")
    found, notes = 0, []
    try:
        terms = office_terms()
        for n, d in enumerate(drafts, 1):
            bar.progress((n - 1) / len(drafts), text=f"模型审读：章节 {d.section_id}（{n}/{len(drafts)}）")
            review = review_check(d.text, d.check, model, terms=terms)[1]
            sess.reviews[(report_id, d.section_id, versions[d.section_id])] = review
            found += len(review.findings)
            notes += [f"章节 {d.section_id}：{note}" for note in review.notes]
    except HuibaoError as err:
        notes.append(f"模型审读未能进行：{for_page(err)}")
    bar.empty()
    for note in notes:
        sess.notify("warning", note)
    sess.notify("info", f"模型审读了 {len(drafts)} 节，提示 {found} 处，列在各节规则核对的结果之后（标“模型审读”）。")


def _ask_draft_all(sess: UiSession, report_id: str, only: tuple[str, ...] = (), drafted: bool = True) -> None:
    """A first draft overwrites nothing and runs at once; anything else asks first."""
    if drafted:
        sess.confirm = ConfirmWhole(report_id, only=only)
    else:
        sess.pending = PendingDraft(section_id=None, only=only, report_id=report_id)


def _confirm_whole(sess: UiSession, job: ConfirmWhole, defaults: tuple[str, ...], optional: tuple[str, ...]) -> None:
    ticked = tuple(sid for sid in optional if st.session_state.get(f"confirm.include.{sid}"))
    kept = tuple(sid for sid in optional if sid not in ticked)
    sess.confirm = None
    sess.pending = PendingDraft(
        section_id=None, only=job.only, report_id=job.report_id, include=defaults + ticked, kept=kept
    )


def _cancel_whole(sess: UiSession) -> None:
    sess.confirm = None


def _undo(sess: UiSession, report_id: str, batch_id: int) -> None:
    try:
        result = open_workspace(sess.settings).undo(report_id, batch_id)
    except HuibaoError as err:
        sess.notify("error", str(err))
        return
    ok, warning = actions.undo_message(result)
    sess.notify("success", ok)
    if warning:
        sess.notify("warning", warning)
    for line in open_workspace(sess.settings).reopened(report_id, result.reverted):
        sess.notify("warning", line)


def _toggle_lock(sess: UiSession, report_id: str, section_id: str, locked: bool) -> None:
    try:
        open_workspace(sess.settings).lock(report_id, section_id, locked)
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        sess.notify("success", f"章节 {section_id} 已{'锁定' if locked else '解锁'}。")


def _notify_reopened(sess: UiSession, ws: Workspace, report_id: str, section_id: str, version: int) -> None:
    for line in ws.reopened(report_id, {section_id: version}):
        sess.notify("warning", line)


def _review(sess: UiSession, report_id: str, section_id: str, decision: str) -> None:
    """提交审核 / 通过 / 退回: the service checks the role and the state (a drafter's 通过 is refused there)."""
    ws = open_workspace(sess.settings)
    key = f"review-comment.{section_id}"
    comment = st.session_state.get(key) or ""
    try:
        if decision == "submit":
            version = ws.submit(report_id, section_id, comment)
            done = f"章节 {section_id} 第 {version} 版已提交审核。"
        elif decision == "approve":
            version = ws.approve(report_id, section_id, comment)
            done = f"章节 {section_id} 第 {version} 版审核通过。"
        else:
            version = ws.return_section(report_id, section_id, comment)
            done = f"章节 {section_id} 第 {version} 版已退回：{comment.strip()}"
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        st.session_state[key] = ""
        sess.notify("success", done)


def _edit_key(report_id: str, section_id: str) -> str:
    return f"edit.{section_id}.{report_id}"


def _forget_edit(sess: UiSession, report_id: str, section_id: str) -> None:
    """The edit box is filled again from the current version on the next run."""
    sess.edit_bases.pop((report_id, section_id), None)
    sess.conflicts.pop((report_id, section_id), None)
    st.session_state.pop(_edit_key(report_id, section_id), None)


def _save_text(sess: UiSession, report_id: str, section_id: str, text: str, base: int | None) -> None:
    try:
        version = actions.save_hand_edit(open_workspace(sess.settings), report_id, section_id, text, base)
    except VersionConflict as conflict:  # shown beside the section with the diff: the user decides
        sess.conflicts[(report_id, section_id)] = EditConflict(conflict.base_version, conflict.current_version, text)
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        _forget_edit(sess, report_id, section_id)
        sess.notify("success", f"章节 {section_id} 的修改已保存为第 {version} 版。")
        _notify_reopened(sess, open_workspace(sess.settings), report_id, section_id, version)


def _save_edit(sess: UiSession, report_id: str, section_id: str) -> None:
    base = sess.edit_bases.get((report_id, section_id))
    text = st.session_state.get(_edit_key(report_id, section_id)) or ""
    _save_text(sess, report_id, section_id, text, base.version if base else None)


def _save_anyway(sess: UiSession, report_id: str, section_id: str) -> None:
    conflict = sess.conflicts.get((report_id, section_id))
    if conflict is not None:  # over the version whose diff the user was shown, and no newer one
        _save_text(sess, report_id, section_id, conflict.text, conflict.current_version)


def _discard_edit(sess: UiSession, report_id: str, section_id: str) -> None:
    _forget_edit(sess, report_id, section_id)
    sess.notify("info", f"已放弃对章节 {section_id} 的修改，保留当前版本。")


def _revert(sess: UiSession, report_id: str, section_id: str, version_key: str) -> None:
    version = int(st.session_state[version_key])  # the 回退到 selectbox beside the button
    try:
        new = open_workspace(sess.settings).revert(report_id, section_id, version)
    except HuibaoError as err:
        sess.notify("error", str(err))
    else:
        sess.notify("success", f"章节 {section_id} 已回退到第 {version} 版的内容（保存为第 {new} 版）。")
        _notify_reopened(sess, open_workspace(sess.settings), report_id, section_id, new)


# --- drafting jobs -------------------------------------------------------------------------


def _kb_provider(sess: UiSession):
    # Opened here, on the script thread (st.cache_resource), not inside the drafting worker.
    kb = drafting_knowledge_base(sess.settings)
    return lambda: kb


def _run_full_draft(sess: UiSession, ws: Workspace, report_id: str, job: PendingDraft, total: int) -> None:
    if job.report_id is not None and job.report_id != report_id:  # asked for another report
        sess.notify("warning", "要重新起草的报告已不是当前打开的报告，未执行。请重新操作。")
        return
    model = current_model(sess)
    bar = st.progress(0.0, text="正在重新起草待更新的章节…" if job.only else "正在起草全文…")
    kb = _kb_provider(sess)
    try:
        if job.only:
            todo = [sid for sid in job.only if job.include is None or sid in job.include]
            if not todo:
                sess.notify("info", "没有章节需要重新起草。")
                bar.empty()
                return
            batch_id = ws.begin_batch(report_id, "refresh", include=todo)
            done = 0
            for i, sid in enumerate(todo, start=1):
                try:
                    actions.regenerate_section(ws, report_id, sid, sess.settings, model, kb, batch_id=batch_id)
                    done += 1
                except Unchanged:
                    pass  # the same text: nothing to save for this one
                bar.progress(i / len(todo), text=f"已重新起草 {sid}（{i}/{len(todo)}）")
            sess.notify("success", f"已重新起草 {done} 个待更新章节。")
        else:
            call = StreamedCall(
                lambda emit: actions.draft_all(
                    ws, report_id, sess.settings, model, kb, on_section=emit, include=job.include
                )
            )
            drafted = 0  # the sections with text of their own, as the bar counts them (not 一、 headings)
            for done, section in enumerate(call, start=1):
                drafted = done
                bar.progress(min(done / max(total, 1), 1.0), text=f"已完成：{section.title}（{done}/{total}）")
            report = call.result
            engine = {"model": "模型", "offline": "离线引擎"}.get(report.engine, "模型与离线引擎")
            if job.include is None:
                sess.notify("success", f"全文已起草（{engine}），共 {drafted} 节；锁定的章节保持不变。")
            else:
                saved = sum(1 for s in report.sections if s.section_id in job.include)
                sess.notify("success", f"全文已重新起草（{engine}），共 {saved} 节。")
            if report.engine == "mixed":
                fell_back = [s.section_id for s in report.sections if s.provenance.engine == "offline"]
                sess.notify(
                    "warning",
                    f"模型未能完成章节 {'、'.join(fell_back)}，这些章节已改用离线引擎起草。请在“设置”中测试连接。",
                )
        if job.kept:
            sess.notify("info", f"章节 {'、'.join(job.kept)} 保持不变（已锁定或手工修改过，未勾选）。")
        if job.include is not None and ws.last_batch(report_id) is not None:
            sess.notify("info", "如需恢复原来的正文，可点击上方“撤销”按钮，一步恢复这次改动的所有章节。")
        for line in ws.reopened(report_id, {i.section_id: i.current_version for i in ws.sections(report_id)}):
            sess.notify("warning", line)
    except HuibaoError as err:
        sess.notify("error", str(err))
    bar.empty()


def _stream_section(
    sess: UiSession, ws: Workspace, report_id: str, section_id: str, job: PendingDraft, slot
) -> SectionDraft | None:
    """Regenerate one section, showing the text as the model writes it."""
    if job.report_id is not None and job.report_id != report_id:  # asked for another report
        return None
    model = current_model(sess)
    kb = _kb_provider(sess)
    call = StreamedCall(
        lambda emit: actions.regenerate_section(
            ws, report_id, section_id, sess.settings, model, kb, instruction=job.instruction, on_delta=emit
        )
    )
    try:
        with slot.container():
            st.caption("正在重新起草…" + (f"（要求：{job.instruction}）" if job.instruction else ""))
            st.write_stream(call)
    except Unchanged as same:  # not a failure: nothing new to save
        slot.empty()
        st.info(str(same))
        return None
    except HuibaoError as err:  # a model failure included: nothing was saved
        slot.empty()
        st.error(for_page(err))
        return None
    slot.empty()
    draft = call.result
    how = f"（要求：{job.instruction}）" if job.instruction else ""
    st.success(f"章节 {section_id} 已重新起草{how}并保存为新版本。")
    for warning in draft.provenance.warnings:
        st.warning(warning)
    for line in ws.reopened(report_id, {section_id: ws.current_version(report_id, section_id)}):
        st.warning(line)
    return draft


# --- one section ---------------------------------------------------------------------------


def _render_section(
    sess: UiSession,
    ws: Workspace,
    report_id: str,
    spec,
    info,
    draft,
    figures,
    stale,
    draftable: set[str],
    review: ReviewInfo | None = None,
) -> None:
    sid = info.section_id
    section_spec = next((s for s in spec.walk() if s.id == sid), None)
    is_leaf = section_spec is None or sid in draftable  # "leaf": a section with text of its own
    label = spec.label(sid) if section_spec is not None else ""
    if info.level == 0 and section_spec is not None and section_spec.part in PART_HEADINGS:
        heading = PART_HEADINGS[section_spec.part]  # 导语 / 结束语 carry no title in the report itself
    else:
        title = (
            (draft.title if draft else None)
            or info.title
            or (section_spec.title if section_spec else "")
            or "（标题待拟）"
        )
        heading = f"{label}{title}" if label else title
    lock_mark = " :material/lock: （已锁定）" if info.locked else ""
    with st.container(border=True, key=f"section-{sid.replace('.', '_')}"):
        if info.level <= 1 or not is_leaf:
            st.subheader(f"{heading}{lock_mark}", anchor=f"s-{sid}")
        else:
            st.markdown(f"**{heading}**{lock_mark}")
        slot = st.empty()
        job = sess.pending
        if job is not None and job.section_id == sid:
            sess.pending = None
            new = _stream_section(sess, ws, report_id, sid, job, slot)
            if new is not None:
                draft, stale = new, None
                info = next((i for i in ws.sections(report_id) if i.section_id == sid), info)
                review = next((r for r in ws.review_states(report_id) if r.section_id == sid), review)
        if draft is not None and sess.review_section == (report_id, sid):
            sess.review_section = None
            _review_section(sess, report_id, sid, info.current_version, draft)
        st.caption(
            f"章节 {sid}"
            + (f" · 第 {info.current_version} 版，共 {info.versions} 版" if info.versions else " · 尚未起草")
        )
        if stale is not None:
            st.warning("数据已变更，本节待更新：" + "；".join(stale.reasons))
        if review is not None and info.current_version:
            _render_review(sess, ws, report_id, sid, review)
        conflict = sess.conflicts.get((report_id, sid))
        if conflict is not None and draft is not None:
            _render_conflict(sess, report_id, sid, info, draft, conflict)
        for todo in draft.todos if draft is not None else []:
            st.info(f"待办（要点里的备注，未写入正文）：{todo}")
        for note in ws.comments(report_id, sid):  # a marked-up Word file's comments (huibao import)
            st.info(f"批注（{note.author or '未署名'}，{note.source}）：{note.text}")
        left, right = st.columns([3, 2])
        with left:
            if draft is not None and draft.text.strip():
                st.markdown(html.section_html(draft.text, draft.check, figures), unsafe_allow_html=True)
            elif is_leaf:
                st.caption("（尚无正文）")
        with right:
            if draft is not None and draft.text.strip():
                st.caption(html.summary_line(draft.check))
                reviewed = sess.reviews.get((report_id, sid, info.current_version))
                shown = draft.check.style + (reviewed.findings if reviewed is not None else [])
                st.markdown(html.findings_html(draft.text, shown), unsafe_allow_html=True)
        if is_leaf:
            _render_tools(sess, ws, report_id, sid, info, draft)


REVIEW_ICON = {
    "draft": ":material/edit_note:",
    "submitted": ":material/hourglass_top:",
    "approved": ":material/check_circle:",
    "returned": ":material/undo:",
}


def _render_review(sess: UiSession, ws: Workspace, report_id: str, sid: str, review: ReviewInfo) -> None:
    """The section's review state and the decisions this person may take (the service decides)."""
    with st.container(horizontal=True, vertical_alignment="center", key=f"review-{sid.replace('.', '_')}"):
        line = f"审核：**{review.state_zh}**"
        if review.version and review.state != "draft":
            line += f"（第 {review.version} 版）"
        if review.by and review.state != "draft":
            line += f" · {review.by}"
        if review.comment and review.state in ("returned", "approved", "submitted"):
            line += f" · 意见：{review.comment}"
        st.markdown(f"{REVIEW_ICON.get(review.state, '')} {line}")
        reviewer = ws.actor.at_least("reviewer")
        if review.state in ("draft", "returned") or (reviewer and review.state in ("submitted", "approved")):
            st.text_input(
                "审核意见",
                key=f"review-comment.{sid}",
                placeholder="退回须写明意见" if reviewer else "给审核人的说明（可不填）",
                label_visibility="collapsed",
                width=260,
            )
        if review.state in ("draft", "returned"):
            st.button("提交审核", key=f"submit.{sid}", on_click=_review, args=(sess, report_id, sid, "submit"))
        if reviewer and review.state == "submitted":
            st.button(
                "通过", key=f"approve.{sid}", type="primary", on_click=_review, args=(sess, report_id, sid, "approve")
            )
        if reviewer and review.state in ("submitted", "approved"):
            st.button("退回", key=f"return.{sid}", on_click=_review, args=(sess, report_id, sid, "return"))


def _render_tools(sess: UiSession, ws: Workspace, report_id: str, sid: str, info, draft) -> None:
    tools = st.expander("修改 · 历史 · 参考素材", key=f"tools.{sid}", on_change="rerun")
    if not tools.open:
        return  # lazy: history and sources are read only for the sections a user opens
    with tools:
        regen, edit, review, history, sources = st.tabs(["重新起草", "手工修改", "模型审读", "历史版本", "参考素材"])
        with regen:
            key = f"instruction.{sid}"
            st.text_input("修改要求（可不填）", key=key, placeholder="如：更精炼；突出新媒体工作；压缩到200字")
            cols = st.columns([1, 1, 3])
            cols[0].button(
                "重新起草",
                key=f"regen.{sid}",
                type="primary",
                disabled=info.locked,
                on_click=_ask_regenerate,
                args=(sess, report_id, sid, key),
            )
            if info.locked:
                cols[1].button("解锁", key=f"unlock.{sid}", on_click=_toggle_lock, args=(sess, report_id, sid, False))
                st.caption("本节已锁定：重新起草全文时保持不变，解锁后才能重新起草或修改。")
            else:
                cols[1].button(
                    "锁定",
                    key=f"lock.{sid}",
                    on_click=_toggle_lock,
                    args=(sess, report_id, sid, True),
                    help="锁定后，重新起草全文时本节保持不变",
                )
        with edit:
            if draft is None:
                st.caption("尚未起草，起草后可手工修改。")
            else:
                key = _edit_key(report_id, sid)
                base = sess.edit_bases.get((report_id, sid))
                # Filled from the current version once; kept while the user types, even when
                # someone saves meanwhile (the save then shows the difference and asks).
                untouched = base is not None and st.session_state.get(key) == base.text
                if key not in st.session_state or base is None or (untouched and base.version != info.current_version):
                    base = EditBase(info.current_version, draft.text)
                    sess.edit_bases[(report_id, sid)] = base
                    st.session_state[key] = draft.text
                st.text_area("正文", key=key, height=220, disabled=info.locked)
                if base.version != info.current_version:
                    st.caption(
                        f"您在第 {base.version} 版上修改，当前已是第 {info.current_version} 版；保存时会先显示差异。"
                    )
                st.button(
                    "保存修改",
                    key=f"save.{sid}",
                    disabled=info.locked,
                    on_click=_save_edit,
                    args=(sess, report_id, sid),
                )
        with review:
            _render_model_review(sess, report_id, sid, info, draft)
        with history:
            _render_history(sess, ws, report_id, sid, info)
        with sources:
            passages = draft.provenance.passages if draft is not None else []
            if not passages:
                st.caption("本节没有引用素材库段落。")
            for p in passages:
                st.markdown(html.passage_html(p.source, p.heading_path, p.text), unsafe_allow_html=True)


def _ask_review_section(sess: UiSession, report_id: str, sid: str) -> None:
    sess.review_section = (report_id, sid)


def _review_section(sess: UiSession, report_id: str, sid: str, version: int, draft) -> None:
    """审读本节用语: this version read by the model (drafting/review.py), before the section's
    findings are drawn, so that they show beside the rules' at once."""
    model = current_model(sess)
    if model is None:
        st.warning("未配置模型接口（在“设置”页填写），不能做模型审读。")
        return
    bar = st.progress(0.0, text="模型审读中……")

    def tick(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"模型审读 {done}/{total}")

    try:
        sess.reviews[(report_id, sid, version)] = review_check(
            draft.text, draft.check, model, terms=office_terms(), progress=tick
        )[1]
    except HuibaoError as err:
        st.error(f"模型审读未能进行：{for_page(err)}")
    bar.empty()


def _render_model_review(sess: UiSession, report_id: str, sid: str, info, draft) -> None:
    """The 模型审读 tab: the button, and what the model's reading of this version came to (its
    findings are listed with the rules', beside the text)."""
    if draft is None or not draft.text.strip():
        st.caption("尚未起草，起草后可请模型审读。")
        return
    if not sess.settings.model_configured and current_model(sess) is None:
        st.caption("未配置模型接口（在“设置”页填写），不能做模型审读；规则核对的结果见正文右侧。")
        return
    st.caption(
        "请模型再读一遍本节，找出规则没有列出的口语和起草备注。结果只作提示，以原文摘录为准，列在正文右侧规则核对的结果之后，不改动正文。"
    )
    st.button("审读本节用语", key=f"review.{sid}", on_click=_ask_review_section, args=(sess, report_id, sid))
    done = sess.reviews.get((report_id, sid, info.current_version))
    if done is None:
        return
    for note in done.notes:
        st.warning(note)
    dropped = f"；另有 {done.unquoted} 条的摘录在正文中找不到，未采用" if done.unquoted else ""
    st.caption(f"第 {info.current_version} 版：模型提示 {len(done.findings)} 处{dropped}。")


def _render_conflict(sess: UiSession, report_id: str, sid: str, info, draft, conflict: EditConflict) -> None:
    """A refused hand edit: the difference from the version saved meanwhile, then the choice."""
    conflict.current_version = info.current_version  # 仍然保存 overwrites exactly what is shown
    with st.container(border=True, key=f"conflict-{sid.replace('.', '_')}"):
        st.warning(
            f"本节在您修改期间已有人保存了第 {info.current_version} 版（您是在第 {conflict.base_version} 版上修改的），"
            "您的修改尚未保存。下面是当前版本与您的修改之间的差异（删去的标红，新增的标绿）。"
        )
        st.markdown(html.diff_html(diff_segments(draft.text, conflict.text)), unsafe_allow_html=True)
        with st.container(horizontal=True):  # buttons as wide as their labels, never cut
            st.button(
                "仍然保存",
                key=f"conflict-save.{sid}",
                type="primary",
                on_click=_save_anyway,
                args=(sess, report_id, sid),
            )
            st.button("放弃", key=f"conflict-discard.{sid}", on_click=_discard_edit, args=(sess, report_id, sid))


def _render_confirm(sess: UiSession, ws: Workspace, report_id: str, job: ConfirmWhole, draftable: set[str]) -> None:
    """Ask before a whole-report action: what it redrafts, and the locked or hand-edited
    sections it keeps unless ticked."""
    plan = ws.plan(report_id, job.only or None)
    if not job.only:  # 重新起草全文: the sections with text of their own and those already drafted
        plan = [item for item in plan if item.section_id in draftable or item.drafted]
    defaults = tuple(item.section_id for item in plan if item.included_by_default)
    optional = [item for item in plan if not item.included_by_default]
    what = "重新起草待更新的章节" if job.only else "重新起草全文"
    with st.container(border=True, key="confirm-whole"):
        st.warning(
            f"确认{what}？将为章节 {'、'.join(defaults) or '（无）'} 各保存一个新版本；"
            "原来的版本都保留，完成后可一步撤销。"
        )
        if optional:
            st.markdown("以下章节默认保持不变，勾选则一并重新起草：")
            for item in optional:
                extra = "，勾选将解锁" if item.locked else ""
                st.checkbox(
                    f"{item.section_id} {item.title or ''}（{item.why_kept}{extra}）",
                    key=f"confirm.include.{item.section_id}",
                    value=False,
                )
        with st.container(horizontal=True):  # buttons as wide as their labels, never cut
            st.button(
                f"确认{what}",
                key="confirm-whole.ok",
                type="primary",
                on_click=_confirm_whole,
                args=(sess, job, defaults, tuple(item.section_id for item in optional)),
            )
            st.button("取消", key="confirm-whole.cancel", on_click=_cancel_whole, args=(sess,))


def _render_history(sess: UiSession, ws: Workspace, report_id: str, sid: str, info) -> None:
    try:
        versions = ws.history(report_id, sid)
    except HuibaoError as err:
        st.error(for_page(err))
        return
    if not versions:
        st.caption("尚无版本。")
        return
    labels = {}
    for v in versions:
        extra = f" · 要求：{v.instruction}" if v.instruction else ""
        extra += f" · 回退自第 {v.reverted_from} 版" if v.reverted_from else ""
        labels[v.version] = (
            f"第 {v.version} 版 · {AUTHOR_ZH.get(v.author, v.author)} · {html.shown_time(v.created)}"
            f"{extra}{'（当前）' if v.is_current else ''}"
        )
    numbers = [v.version for v in versions]
    # keyed by the newest version: after a new version the pickers start again from it, instead of
    # keeping the old choice (which then named a version that was no longer the current one)
    newest = numbers[-1]
    st.dataframe(
        [
            {
                "版本": v.version,
                "来源": AUTHOR_ZH.get(v.author, v.author),
                "修改人": v.user or "（未记录）",
                "时间": html.shown_time(v.created),
                "要求": v.instruction or "",
                "核对": v.check_summary,
                "当前": "是" if v.is_current else "",
            }
            for v in reversed(versions)
        ],
        hide_index=True,
        width="stretch",
    )
    if len(numbers) >= 2:
        cols = st.columns(2)
        a = cols[0].selectbox(
            "对比：旧版本",
            numbers,
            index=len(numbers) - 2,
            key=f"diff-a.{sid}.{newest}",
            format_func=labels.__getitem__,
        )
        b = cols[1].selectbox(
            "新版本", numbers, index=len(numbers) - 1, key=f"diff-b.{sid}.{newest}", format_func=labels.__getitem__
        )
        if a != b:
            try:
                segments = ws.diff_segments(report_id, sid, a, b)
            except HuibaoError as err:
                st.error(for_page(err))
            else:
                st.markdown(html.diff_html(segments), unsafe_allow_html=True)
        key = f"revert-to.{sid}.{newest}"
        target, button = st.columns([2, 1])
        target.selectbox("回退到", numbers, index=0, key=key, format_func=labels.__getitem__)
        button.button(
            "回退", key=f"revert.{sid}", disabled=info.locked, on_click=_revert, args=(sess, report_id, sid, key)
        )


# --- the page ------------------------------------------------------------------------------


def render() -> None:
    sess = session()
    report_id = require_report(sess)
    if report_id is None:
        show_notices(sess)
        return
    ws = open_workspace(sess.settings)
    spec = ws.spec(report_id)
    infos = ws.sections(report_id)
    st.title(spec.title)
    st.caption(f"{spec.organisation} · {spec.year} 年度 · 报告编号 {report_id}")

    draftable = {s.id for s in drafted_sections(spec)}
    job = sess.pending
    if job is not None and job.section_id is None:
        sess.pending = None
        _run_full_draft(sess, ws, report_id, job, len(draftable))
        infos = ws.sections(report_id)
    if sess.review_all == report_id:
        sess.review_all = None
        _review_all(sess, ws, report_id)
    show_notices(sess)

    current = ws.current(report_id)
    figures = ws.figures(report_id)
    stale = {s.section_id: s for s in ws.stale_report(report_id)}
    drafts = {d.section_id: d for d in current.sections}

    drafted = any(i.versions for i in infos)
    with st.container(horizontal=True, key="whole-actions", vertical_alignment="center"):
        st.button(
            "重新起草全文" if drafted else "起草全文",
            key="draft-all",
            type="secondary" if drafted else "primary",
            on_click=_ask_draft_all,
            args=(sess, report_id, (), drafted),
            help="先列出要重新起草的章节请您确认；锁定的和手工修改过的章节默认保持不变",
        )
        last = ws.last_batch(report_id)
        if last is not None:
            st.button(
                f"撤销{BATCH_ZH.get(last.kind, '上次操作')}",
                key="undo-batch",
                on_click=_undo,
                args=(sess, report_id, last.id),
                help=f"{last.created[:16].replace('T', ' ')} 的这次操作改动了章节 {'、'.join(last.versions)}："
                "一步恢复它们原来的正文（作为新版本保存，什么都不丢）",
            )
        if drafted:
            st.button(
                "模型审读全文",
                key="review-all",
                on_click=_ask_review_all,
                args=(sess, report_id),
                help="请模型读一遍已起草的各节，找出规则没有列出的口语和起草备注（需配置模型接口；只作提示，不改动正文）",
            )
        if not sess.settings.model_configured:
            st.caption("当前未配置模型，使用离线引擎起草。")
    confirm = sess.confirm
    if confirm is not None and confirm.report_id == report_id:
        _render_confirm(sess, ws, report_id, confirm, draftable)
    # Filled after the sections: a section regenerated further down on this run is no longer stale.
    stale_banner = st.empty()
    if drafting_knowledge_base(sess.settings) is None:
        st.caption("素材库为空或暂时无法打开：起草时不会参考往年汇报和政策文件。可在“素材库”页上传文件或同步示例素材。")
    if drafted:
        st.markdown(html.LEGEND_HTML, unsafe_allow_html=True)
    regenerating = sess.pending is not None
    reviews = {r.section_id: r for r in ws.review_states(report_id)}
    for info in infos:
        _render_section(
            sess,
            ws,
            report_id,
            spec,
            info,
            drafts.get(info.section_id),
            figures,
            stale.get(info.section_id),
            draftable,
            reviews.get(info.section_id),
        )
    if regenerating:
        stale = {s.section_id: s for s in ws.stale_report(report_id)}
    if stale:
        _render_stale_banner(sess, report_id, stale_banner, stale)


def _render_stale_banner(sess: UiSession, report_id: str, slot, stale: dict) -> None:
    redraftable = tuple(stale)
    with slot.container(border=True):
        st.warning(
            f"数据已变更，以下 {len(stale)} 个章节待更新："
            + "、".join(f"{sid}{'（已锁定）' if s.locked else ''}" for sid, s in stale.items())
        )
        if redraftable:
            st.button(
                f"重新起草待更新的章节（{len(redraftable)} 个）",
                key="redraft-stale",
                type="primary",
                on_click=_ask_draft_all,
                args=(sess, report_id, redraftable),
            )


if __name__ == "__main__":
    render()
