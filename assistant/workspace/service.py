"""The workspace rules: what a regeneration, a hand edit or a revert saves, and what is stale.

``Workspace`` is what callers open (``Workspace.open(path)``): it wraps a ``Store``
(store.py: SQL, schema, migrations, transactions) and adds the rules, so that a page or a
command never has to remember them:

* regenerate: a section is drafted again through a drafter passed in (the drafting stage,
  called outside any transaction) and saved as a new version; a locked section is refused
  before drafting and again, under the write lock, when saving.
* edit: a hand-edited text is always checked (``assistant.check.check_text``) before it is
  saved, and the saved version carries that check; the figure uses are re-derived from it.
* revert: an old version becomes current again as a new version; history is kept.
* staleness: a section is stale when a figure it states, or is meant to state, changed
  since the snapshot its current version was drafted from.
* diffs: versions are compared sentence by sentence, then character by character.
* reports: identified by id only; renamed, moved to the 回收站 and restored, never erased.
* whole-report actions (重新起草全文, refresh): locked and hand-edited sections are left out
  unless the user includes them; the versions an action saves form one batch, undone in one
  step by saving each section's earlier text as a new version.
* concurrent edits: a hand edit names the version it was made on; when another version was
  saved meanwhile it is refused with ``VersionConflict`` instead of silently winning.
* the outline: one method per edit (add, remove, restore, move, retitle, notes, figures), the
  tree rules in ``outline.py``; each edit is checked (``check_outline``) and saved in one
  transaction, refused when the outline changed meanwhile. Removing a section keeps its
  versions (restorable); moving or renaming one keeps its id and so its history. The current
  report is read as the outline now places it (``as_outlined``: numbers, levels, titles).
* who: a Workspace acts for an ``Actor`` (roles.py); each public method names the permission it
  needs (``@guarded("write")``), checked before it runs, and the store records the actor on every
  version and audit line. ``as_actor`` gives the same file acting for another person.
* review: each section is 草稿 → 待审 (``submit``) → 已通过 (``approve``) / 退回 (``return_section``);
  any new version of a submitted or approved section puts it back to 草稿 (``reopened`` says so).

Reads and writes that involve no rule pass straight through to the store.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.check import check_text
from assistant.check.result import CheckResult
from assistant.core.errors import InputError, ModelError, StoreError, Unchanged
from assistant.core.figures import Figure, figure_text
from assistant.core.textio import strip_controls
from assistant.drafting.drafts import ReportDraft, SectionDraft
from assistant.drafting.spec import RemovedSection, ReportSpec, SectionSpec
from assistant.gongwen import sentences
from assistant.workspace import outline
from assistant.workspace.chat import Proposal
from assistant.workspace.outline import MAX_NOTES_CHARS, MAX_TITLE_CHARS
from assistant.workspace.roles import Actor, guarded, local_actor, refuse
from assistant.workspace.roles import check as check_permission
from assistant.workspace.store import (
    AuditEntry,
    Author,
    BatchInfo,
    BatchKind,
    ChatEntry,
    CommentEntry,
    FigureBasis,
    ReportInfo,
    ReviewEvent,
    ReviewInfo,
    SectionInfo,
    Store,
    UndoResult,
    VersionConflict,
    VersionInfo,
)

__all__ = [
    "BatchInfo",
    "PlanItem",
    "StaleSection",
    "UndoResult",
    "MAX_NOTES_CHARS",
    "MAX_TITLE_CHARS",
    "VersionConflict",
    "Workspace",
    "as_outlined",
    "as_placed",
    "diff_segments",
    "find_stale",
    "section_checker",
    "split_sentences",
    "unified_diff",
]


# drafter(section_spec, spec, figures) -> the new draft of that section. The drafting stage
# (assistant.drafting.draft.draft_section with its model, knowledge base and settings bound).
Drafter = Callable[[SectionSpec, ReportSpec, list[Figure]], SectionDraft]
# checker(text, figures) -> the check of a hand-edited section.
Checker = Callable[[str, list[Figure]], CheckResult]


class StaleSection(BaseModel):
    section_id: str
    title: str
    locked: bool
    reasons: list[str]  # Chinese, one per changed figure


class PlanItem(BaseModel):
    """One section of a whole-report action, before the user confirms it."""

    section_id: str
    title: str
    locked: bool
    hand_edited: bool  # its current text was written (or restored from) a hand edit
    drafted: bool  # it has a version at all

    @property
    def included_by_default(self) -> bool:
        return not (self.locked or self.hand_edited)

    @property
    def why_kept(self) -> str:
        """Why it is left out unless ticked (Chinese), or ""."""
        return "、".join(x for x in ("已锁定" if self.locked else "", "手工修改过" if self.hand_edited else "") if x)


def hand_edited(current: int, versions: dict[int, tuple[str, int | None]]) -> bool:
    """Whether a section's current text comes from a person: written by hand or imported from a
    marked-up Word file, or a revert (an undo included) that brought such a version back."""
    seen: set[int] = set()
    version: int | None = current
    while version is not None and version in versions and version not in seen:
        seen.add(version)
        author, reverted_from = versions[version]
        if author in ("hand", "import"):
            return True
        if author != "revert":
            return False
        version = reverted_from
    return False


# --- rules as plain functions ----------------------------------------------------------------


def rewritten(base: SectionDraft, text: str, check: CheckResult) -> SectionDraft:
    """A section's current version with a person's text in it (a hand edit, an imported Word
    file): its new check, and figure uses re-derived from that check (the old offsets no longer
    fit the text)."""
    data = json.loads(base.model_dump_json())
    data["text"] = text
    data["check"] = json.loads(check.model_dump_json())
    data["provenance"]["figures"] = [
        {"figure_id": m.figure_id, "start": m.start, "end": m.end, "text": m.text}
        for m in check.numbers
        if m.status == "grounded" and m.figure_id
    ]
    data["provenance"]["instruction"] = None
    return SectionDraft.model_validate(data)


def section_checker(year: int, notes: str = "") -> Checker:
    """The check a hand-edited section gets: numbers against the figures (the section's notes
    tie words to figures, as when it was drafted), and 公文 style."""

    def check(text: str, figures: list[Figure]) -> CheckResult:
        return check_text(text, figures, scope="section", year=year, notes=notes or None)

    return check


def find_stale(basis: FigureBasis) -> list[StaleSection]:
    """Sections whose current version rests on figures that changed since it was drafted.

    A section is compared on the figures its text states, the figures the outline gives it
    and the figures assigned to it (then or now): a value or unit changed, a figure removed,
    a figure added for it, or one of its figures moved to another section.
    """
    spec_figures = {s.id: set(s.figures) for s in basis.spec.walk()}
    newest_id = basis.newest_snapshot_id
    newest = {f.id: f for f in basis.snapshots[newest_id]}
    parsed: dict[int, dict[str, Figure]] = {}
    out = []
    for sec in basis.sections:
        if sec.snapshot_id is None or sec.snapshot_id == newest_id:
            continue
        if sec.snapshot_id not in parsed:
            parsed[sec.snapshot_id] = {f.id: f for f in basis.snapshots[sec.snapshot_id]}
        old = parsed[sec.snapshot_id]
        sid = sec.section_id
        planned = spec_figures.get(sid, set())
        # The figures this section is meant to state, in the snapshot it was drafted from and now.
        mine_old = {fid for fid, f in old.items() if f.section == sid} | planned
        mine_new = {fid for fid, f in newest.items() if f.section == sid} | planned
        reasons = []
        for fid in sorted(sec.figures_used | mine_old | mine_new):
            before, after = old.get(fid), newest.get(fid)
            if after is None:
                if before is not None:
                    reasons.append(f"数据「{before.item}」已删除")
            elif before is None:
                reasons.append(f"新增数据「{after.item}」{figure_text(after)}")
            elif (before.value, before.unit) != (after.value, after.unit):
                reasons.append(f"数据「{after.item}」由 {figure_text(before)} 改为 {figure_text(after)}")
            elif fid in mine_old and after.section not in (sid, None) and fid not in planned:
                reasons.append(f"数据「{after.item}」已改归章节 {after.section}")
        if reasons:
            out.append(StaleSection(section_id=sid, title=sec.title, locked=sec.locked, reasons=reasons))
    return out


def as_placed(section: SectionDraft, spec: ReportSpec) -> SectionDraft:
    """A section's current version as the outline now places it: a moved section's number and
    level follow its place, a retitled one shows its new title (the version keeps what it was
    drafted with). A section the outline does not list is left as saved."""
    try:
        outline_section = spec.get(section.section_id)
    except KeyError:
        return section
    return section.model_copy(
        update={
            "level": spec.level(section.section_id),
            "label": spec.label(section.section_id),
            "title": outline_section.title or section.title,
        }
    )


def as_outlined(draft: ReportDraft, spec: ReportSpec) -> ReportDraft:
    """The report's current versions, each placed as the outline now says (``as_placed``)."""
    return draft.model_copy(update={"sections": [as_placed(s, spec) for s in draft.sections]})


def split_sentences(text: str) -> list[str]:
    """Lines for a readable diff of Chinese prose: one per sentence (gongwen.sentences)."""
    return [text[start:end] for start, end in sentences(text)]


def diff_segments(old: str, new: str) -> list[tuple[str, str]]:
    """Structured diff: (op, text) with op in equal/delete/insert, in reading order.

    Sentences are aligned first; inside a changed block the characters are compared, so
    a one-word edit shows as one word, not as two whole sentences.
    """
    a, b = split_sentences(old), split_sentences(new)
    out: list[tuple[str, str]] = []

    def emit(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            emit("equal", "\n".join(a[i1:i2]) + "\n")
        elif tag == "delete":
            emit("delete", "\n".join(a[i1:i2]) + "\n")
        elif tag == "insert":
            emit("insert", "\n".join(b[j1:j2]) + "\n")
        else:
            x, y = "\n".join(a[i1:i2]) + "\n", "\n".join(b[j1:j2]) + "\n"
            for t2, k1, k2, l1, l2 in difflib.SequenceMatcher(None, x, y, autojunk=False).get_opcodes():
                if t2 == "equal":
                    emit("equal", x[k1:k2])
                else:
                    emit("delete", x[k1:k2])
                    emit("insert", y[l1:l2])
    return out


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        split_sentences(old), split_sentences(new), fromfile=old_name, tofile=new_name, lineterm="", n=2
    )
    return "\n".join(lines)


# --- the workspace -----------------------------------------------------------------------------


class Workspace:
    """A workspace file with its rules, acting for one ``Actor``. Open with
    ``Workspace.open(path)`` (the local user: every right); ``as_actor`` for a signed-in person.
    Safe to share between threads (the store serialises its connection)."""

    def __init__(self, store: Store, actor: Actor | None = None) -> None:
        self.actor = actor or local_actor()
        self.store = store if store.user == self.actor.name else store.as_user(self.actor.name)

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], str] | None = None, actor: Actor | None = None) -> Workspace:
        """Open (creating or migrating) the workspace file at ``path``; see ``Store.open``."""
        return cls(Store.open(path, clock=clock), actor)

    def as_actor(self, actor: Actor) -> Workspace:
        """The same file (and connection), acting for ``actor``."""
        return Workspace(self.store, actor)

    # --- who may do what ----------------------------------------------------------------------

    def authorize(self, permission: str, report_id: str | None = None, section_id: str | None = None) -> None:
        """Raise ``Forbidden`` (Chinese, exit code 1) unless the actor has ``permission`` for this
        report. Every guarded method calls it first; a page or command may call it to ask early."""
        member = (lambda: self.store.is_member(report_id, self.actor.name)) if report_id else None
        check_permission(self.actor, permission, is_member=member)

    def may(self, permission: str, report_id: str | None = None) -> bool:
        """Whether ``authorize`` would pass (for showing or hiding a button; the method checks anyway)."""
        try:
            self.authorize(permission, report_id)
        except StoreError:
            return False
        return True

    def record(
        self,
        action: str,
        report_id: str | None = None,
        section_id: str | None = None,
        version: int | None = None,
        detail: str = "",
    ) -> None:
        """An audit line for an action done outside this file (a knowledge-base upload, a model
        endpoint change), recorded as this actor."""
        self.store.audit(action, report_id, section_id, version, detail)

    @property
    def path(self) -> Path | None:
        """The workspace file; None for a workspace on a database server (see ``location``)."""
        return self.store.path

    @property
    def location(self) -> str:
        """Where the workspace is, as shown to people (a server without its password)."""
        return self.store.location

    @property
    def schema_version(self) -> int:
        return self.store.schema_version

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reports and outline ------------------------------------------------------------------

    @guarded("create")
    def create_report(
        self,
        spec: ReportSpec,
        figures: list[Figure],
        report_id: str | None = None,
        *,
        draft: ReportDraft | None = None,
        settings: Any = None,
        only_into_empty: bool = False,
    ) -> str:
        """Save a new report's outline and figures (and its first draft, in the same transaction);
        ``only_into_empty``: refuse (``WorkspaceNotEmpty``) unless the workspace has no report."""
        return self.store.create_report(
            spec, figures, report_id, draft=draft, settings=settings, only_into_empty=only_into_empty
        )

    def reports(self, *, deleted: bool = False) -> list[ReportInfo]:
        """Every saved report, newest first, with how many of its sections are stale; with
        ``deleted=True`` the reports in the 回收站 instead (their ``deleted_at`` set)."""
        out = self.store.reports(deleted=deleted)
        if not self.actor.local and self.actor.role != "admin":  # only the reports one is a member of
            mine = self.store.member_reports(self.actor.name)
            out = [info for info in out if info.id in mine]
        for info in out:
            if not deleted:
                info.stale = len(self.stale_sections(info.id))
        return out

    @guarded("write")
    def rename(self, report_id: str, title: str) -> str:
        """Give the report a new title; returns the title as saved (controls and edge spaces
        removed). The id stays: every command and the page keep finding it by id."""
        if "\x00" in title:
            raise InputError("新标题含有空字符（NUL），未改名。", field="标题")
        clean = strip_controls(title).strip()
        if not clean:
            raise InputError("新标题为空，未改名。", field="标题")
        if len(clean) > MAX_TITLE_CHARS:
            raise InputError(f"新标题过长：{len(clean)} 个字（最多 {MAX_TITLE_CHARS} 个），未改名。", field="标题")
        self.store.rename(report_id, clean)
        return clean

    @guarded("delete")
    def delete(self, report_id: str) -> None:
        """Move the report to the 回收站 (restorable with ``restore``; nothing is erased)."""
        self.store.delete(report_id)

    @guarded("delete")
    def restore(self, report_id: str) -> None:
        self.store.restore(report_id)

    @guarded("read")
    def spec(self, report_id: str) -> ReportSpec:
        return self.store.spec(report_id)

    @guarded("read")
    def section_spec(self, report_id: str, section_id: str) -> SectionSpec:
        return self.store.section_spec(report_id, section_id)

    @guarded("write")
    def append_notes(self, report_id: str, section_id: str, lines: list[str]) -> list[str]:
        """Append lines (material sentences a person ticked) to a section's notes, one a line;
        returns the lines added. The notes already there are kept as they are; a line already
        in them is not added twice. Nothing is saved when a line is unusable."""
        current = self.store.section_spec(report_id, section_id).notes
        added: list[str] = []
        for k, line in enumerate(lines, start=1):
            if "\x00" in line:
                raise InputError(f"第 {k} 句含有空字符（NUL），要点未修改。", field="要点")
            clean = " ".join(strip_controls(line).split())
            if clean and clean not in current and clean not in added:
                added.append(clean)
        if not added:
            return []
        notes = "\n".join([current.rstrip("\n"), *added] if current.strip() else added)
        if len(notes) > MAX_NOTES_CHARS:
            raise InputError(
                f"加入后章节 {section_id} 的要点有 {len(notes)} 个字（最多 {MAX_NOTES_CHARS} 个），要点未修改。",
                field="要点",
            )
        self.store.set_notes(report_id, section_id, notes, expected=current)
        return added

    @guarded("read")
    def sections(self, report_id: str) -> list[SectionInfo]:
        return self.store.sections(report_id)

    # --- the outline editor: one method per edit, each one transaction -------------------------

    @guarded("write")
    def add_section(
        self,
        report_id: str,
        *,
        parent_id: str | None = None,
        title: str | None = None,
        notes: str = "",
        index: int | None = None,
        part: str | None = None,
    ) -> str:
        """Add a section to the outline (not drafted yet); returns its new id."""
        base = self.store.spec(report_id)
        taken = [s.section_id for s in self.store.sections(report_id)]
        spec, section_id = outline.add_section(
            base, parent_id=parent_id, title=title, notes=notes, index=index, part=part, taken=taken
        )
        self.store.save_outline(report_id, spec, base=base, section_id=section_id, detail="新增章节")
        return section_id

    @guarded("write")
    def remove_section(self, report_id: str, section_id: str) -> list[str]:
        """Take a section and its sub-sections out of the outline; their versions are kept and
        ``restore_section`` brings them back. Refused when one of them is locked. Returns the
        ids removed."""
        base = self.store.spec(report_id)
        when = datetime.now().astimezone().isoformat(timespec="seconds")
        spec = outline.remove_section(base, section_id, when=when)
        removed = outline.subtree_ids(spec.removed[-1].section)
        self.store.save_outline(
            report_id, spec, base=base, frozen=removed, section_id=section_id, detail=f"移出提纲：{'、'.join(removed)}"
        )
        return removed

    @guarded("write")
    def restore_section(self, report_id: str, section_id: str) -> None:
        """Put a removed section back where it stood, with every version it had."""
        base = self.store.spec(report_id)
        self.store.save_outline(
            report_id, outline.restore_section(base, section_id), base=base, section_id=section_id, detail="恢复到提纲"
        )

    @guarded("read")
    def removed_sections(self, report_id: str) -> list[RemovedSection]:
        return list(self.store.spec(report_id).removed)

    @guarded("write")
    def move_section(self, report_id: str, section_id: str, *, parent_id: str | None, index: int) -> None:
        """Move a section (with its sub-sections) under ``parent_id`` at ``index``; it keeps its
        id and its versions, its number follows its new place. Refused when it is locked."""
        base = self.store.spec(report_id)
        spec = outline.move_section(base, section_id, parent_id=parent_id, index=index)
        where = f"移到 {parent_id} 下第 {index + 1} 位" if parent_id else f"移到第 {index + 1} 位"
        self.store.save_outline(report_id, spec, base=base, frozen=[section_id], section_id=section_id, detail=where)

    @guarded("write")
    def shift_section(self, report_id: str, section_id: str, by: int) -> None:
        """Move a section ``by`` places among its siblings (-1 up, 1 down)."""
        base = self.store.spec(report_id)
        self.store.save_outline(
            report_id,
            outline.shift_section(base, section_id, by),
            base=base,
            frozen=[section_id],
            section_id=section_id,
            detail="上移" if by < 0 else "下移",
        )

    @guarded("write")
    def retitle_section(self, report_id: str, section_id: str, title: str | None) -> str | None:
        """A new heading for a section (empty: the drafter proposes one); returns it as saved.
        Refused when the section is locked."""
        base = self.store.spec(report_id)
        spec = outline.retitle_section(base, section_id, title)
        new = spec.get(section_id).title
        self.store.save_outline(
            report_id, spec, base=base, frozen=[section_id], section_id=section_id, detail=f"标题：{new or '（待拟）'}"
        )
        return new

    @guarded("write")
    def set_notes(self, report_id: str, section_id: str, notes: str) -> str:
        """Replace a section's notes (要点); returns them as saved."""
        base = self.store.spec(report_id)
        spec = outline.set_notes(base, section_id, notes)
        self.store.save_outline(report_id, spec, base=base, section_id=section_id, detail="修改要点")
        return spec.get(section_id).notes

    @guarded("write")
    def edit_section(
        self,
        report_id: str,
        section_id: str,
        *,
        title: str | None = None,
        notes: str | None = None,
        figure_ids: Collection[str] | None = None,
    ) -> SectionSpec:
        """A section's title, notes and figures as one change (the outline page's 保存): all of
        them saved or none. ``None`` leaves a field as it is; an empty title lets the drafter
        propose one. A new title is refused on a locked section."""
        base = self.store.spec(report_id)
        spec = base
        frozen: list[str] = []
        if title is not None and outline.clean_title(title) != outline.find(base, section_id).title:
            spec = outline.retitle_section(spec, section_id, title)
            frozen.append(section_id)
        if notes is not None:
            spec = outline.set_notes(spec, section_id, notes)
        if figure_ids is not None:
            known = {f.id for f in self.store.figures(report_id)}
            spec = outline.set_figures(spec, section_id, figure_ids, known)
        if spec is not base:
            changed = [w for w, v in (("标题", title), ("要点", notes), ("数据", figure_ids)) if v is not None]
            self.store.save_outline(
                report_id, spec, base=base, frozen=frozen, section_id=section_id, detail=f"修改{'、'.join(changed)}"
            )
        return spec.get(section_id)

    @guarded("write")
    def set_section_figures(self, report_id: str, section_id: str, figure_ids: Collection[str]) -> list[str]:
        """The figures a section is to state; each must be one of the report's figures."""
        base = self.store.spec(report_id)
        known = {f.id for f in self.store.figures(report_id)}
        spec = outline.set_figures(base, section_id, figure_ids, known)
        figures = list(spec.get(section_id).figures)
        self.store.save_outline(
            report_id, spec, base=base, section_id=section_id, detail=f"所用数据：{'、'.join(figures) or '（无）'}"
        )
        return figures

    @guarded("read")
    def spec_year(self, report_id: str) -> int:
        return self.store.spec_year(report_id)

    # --- figures ------------------------------------------------------------------------------

    @guarded("read")
    def figures(self, report_id: str) -> list[Figure]:
        return self.store.figures(report_id)

    @guarded("read")
    def figures_snapshot(self, report_id: str) -> tuple[int, list[Figure]]:
        """(snapshot id, figures) of the newest snapshot: what a new draft is made against."""
        return self.store.figures_snapshot(report_id)

    @guarded("write")
    def update_figures(self, report_id: str, figures: list[Figure]) -> int:
        """Record a new figures snapshot (unless identical to the newest); returns its id.

        Nothing is redrafted: the sections resting on a changed figure become stale
        (``stale_sections``) until they are regenerated or edited.
        """
        return self.store.update_figures(report_id, figures)

    # --- versions -----------------------------------------------------------------------------

    @guarded("read")
    def current(self, report_id: str) -> ReportDraft:
        """The report as it stands: the current version of each section, in outline order,
        numbered and titled as the outline now says (``as_outlined``)."""
        return as_outlined(self.store.current(report_id), self.store.spec(report_id))

    @guarded("read")
    def section(self, report_id: str, section_id: str) -> SectionDraft:
        """The current version of one section, placed as the outline now says."""
        return as_placed(self.store.section(report_id, section_id), self.store.spec(report_id))

    @guarded("read")
    def get_version(self, report_id: str, section_id: str, version: int) -> SectionDraft:
        return self.store.get_version(report_id, section_id, version)

    @guarded("read")
    def history(self, report_id: str, section_id: str) -> list[VersionInfo]:
        return self.store.history(report_id, section_id)

    @guarded("write")
    def save_draft(
        self,
        report_id: str,
        draft: ReportDraft,
        *,
        author: Author | None = None,
        settings: Any = None,
        snapshot_id: int | None = None,
        skip_locked: bool = True,
        include: Collection[str] | None = None,
        batch: BatchKind | None = None,
    ) -> dict[str, int]:
        """Add a version of every section of a drafted report, all in one transaction.

        A locked section keeps its current version; with ``skip_locked=False`` the whole
        save is refused instead. With ``include`` (a whole-report action the user confirmed)
        only those sections are saved, the locked ones among them unlocked first. With
        ``batch`` the saved versions form one action, undone by ``undo``. Returns section id
        -> new version number.
        """
        unlock: list[str] = []
        if include is not None:
            unlock = [sid for sid in self.locked(report_id) if sid in include]
        return self.store.save_draft(
            report_id,
            draft,
            author=author,
            settings=settings,
            snapshot_id=snapshot_id,
            skip_locked=skip_locked,
            only=include,
            unlock=unlock,
            batch=batch,
        )

    # --- whole-report actions -----------------------------------------------------------------

    @guarded("read")
    def plan(self, report_id: str, only: Collection[str] | None = None) -> list[PlanItem]:
        """The sections a whole-report action would touch (``only``: those), in outline order,
        each saying whether it is locked or hand-edited, and so left out unless ticked."""
        origins = self.store.version_origins(report_id)
        out = []
        for info in self.store.sections(report_id):
            if only is not None and info.section_id not in only:
                continue
            current, versions = origins.get(info.section_id, (0, {}))
            out.append(
                PlanItem(
                    section_id=info.section_id,
                    title=info.title,
                    locked=info.locked,
                    hand_edited=hand_edited(current, versions),
                    drafted=bool(info.current_version),
                )
            )
        return out

    @guarded("write")
    def begin_batch(self, report_id: str, kind: BatchKind, include: Collection[str] = ()) -> int:
        """Start a whole-report action saved section by section (``regenerate(batch_id=)``);
        the locked sections in ``include`` are unlocked for it (and locked again by ``undo``)."""
        unlock = [sid for sid in self.locked(report_id) if sid in include]
        return self.store.new_batch(report_id, kind, unlock)

    @guarded("read")
    def last_batch(self, report_id: str) -> BatchInfo | None:
        """The newest whole-report action, while it can still be undone."""
        return self.store.last_batch(report_id)

    @guarded("write")
    def undo(self, report_id: str, batch_id: int | None = None) -> UndoResult:
        """Undo a whole-report action (default: the newest) in one step, as new versions."""
        if batch_id is None:
            last = self.store.last_batch(report_id)
            if last is None:
                raise StoreError(f"汇报“{report_id}”没有可以撤销的整篇操作。")
            batch_id = last.id
        return self.store.undo_batch(report_id, batch_id)

    @guarded("write")
    def add_version(
        self,
        report_id: str,
        draft: SectionDraft,
        *,
        author: Author,
        instruction: str | None = None,
        settings: Any = None,
        snapshot_id: int | None = None,
    ) -> int:
        """Add one version of one section and make it current; returns its version number.

        ``instruction`` defaults to the one the draft was made with. ``snapshot_id`` is the
        figures snapshot the draft was made from; it defaults to the newest one.
        """
        return self.store.add_version(
            report_id,
            draft,
            author=author,
            instruction=instruction if instruction is not None else draft.provenance.instruction,
            settings=settings,
            snapshot_id=snapshot_id,
        )

    @guarded("write")
    def regenerate(
        self,
        report_id: str,
        section_id: str,
        drafter: Drafter,
        *,
        author: Author | None = None,
        instruction: str | None = None,
        settings: Any = None,
        batch_id: int | None = None,
    ) -> int:
        """Draft one section again and save it as a new version; no other section is touched.

        ``drafter(section_spec, spec, figures)`` does the (slow) drafting outside any
        transaction; the lock is checked before drafting (to fail fast) and again when saving.
        ``author`` defaults to the engine that actually wrote the text: a model that failed
        hands the section to the offline engine, and the history must say so.

        Nothing is saved when the model failed and the section fell back offline (ModelError,
        exit code 4: a regeneration asked of the model is not done by an offline stand-in), nor
        when the new version would be identical to the current one (Unchanged).
        """
        self.store.ensure_unlocked(report_id, section_id)
        spec = self.store.spec(report_id)
        section_spec = self.store.section_spec(report_id, section_id)
        if not section_spec.is_leaf:
            children = "、".join(c.id for c in section_spec.children)
            raise InputError(
                f"章节 {section_id}（{section_spec.title}）只有标题，正文在其下各节中，不能单独重新起草；"
                f"请重新起草其下的章节（{children}）。"
            )
        # Read before drafting: the version rests on the figures it was drafted from.
        snapshot_id, figures = self.store.figures_snapshot(report_id)
        draft = drafter(section_spec, spec, figures)
        if draft.section_id != section_id:
            raise StoreError(f"重新生成的章节编号“{draft.section_id}”与请求的“{section_id}”不一致，未保存。")
        if draft.provenance.fell_back:
            raise ModelError(f"模型出错，章节 {section_id} 未重新起草，未保存任何版本：{draft.provenance.error}")
        if self._same_as_current(report_id, section_id, draft, snapshot_id):
            raise Unchanged(f"章节 {section_id} 重新起草的结果与当前版本相同，未保存。")
        return self.store.add_version(
            report_id,
            draft,
            author=author or draft.provenance.engine,
            instruction=instruction if instruction is not None else draft.provenance.instruction,
            settings=settings,
            snapshot_id=snapshot_id,
            batch_id=batch_id,
        )

    def _same_as_current(self, report_id: str, section_id: str, draft: SectionDraft, snapshot_id: int | None) -> bool:
        """Same title and text, drafted from the same figures snapshot (a stale section redrafted
        to the same words still moves onto the new figures, so it is saved)."""
        current = next((v for v in self.store.history(report_id, section_id) if v.is_current), None)
        if current is None:
            return False
        record = self.store.version_record(report_id, section_id, current.version)
        old = record.draft
        return (old.title, old.text) == (draft.title, draft.text) and record.snapshot_id == snapshot_id

    @guarded("write")
    def edit(
        self,
        report_id: str,
        section_id: str,
        text: str,
        checker: Checker | None = None,
        *,
        base_version: int | None = None,
    ) -> int:
        """Save a hand-edited text as a new version (author "hand"), checked against the figures.

        The check is never skipped: ``checker`` only replaces the standard one
        (``section_checker``), and the saved version carries its result. ``base_version`` is
        the version the edit was made on: when another version became current meanwhile,
        ``VersionConflict`` is raised and nothing is saved (checked again under the write lock).
        """
        if "\x00" in text:
            raise InputError(f"修改后的章节“{section_id}”正文含有空字符（NUL），未保存，请删除后重试。")
        # Other control characters (pasted ESC sequences, \x0b) would be saved and make Word refuse the file.
        text = strip_controls(text, multiline=True).strip("\n")
        if not text.strip():
            raise StoreError(f"修改后的章节“{section_id}”正文为空，未保存。")
        self.store.ensure_unlocked(report_id, section_id)
        base = self.store.section(report_id, section_id)
        if base_version is not None:  # fail before the check's work; the store checks again under its lock
            current = self.current_version(report_id, section_id)
            if current != base_version:
                raise VersionConflict(report_id, section_id, base_version, current)
        snapshot_id, figures = self.store.figures_snapshot(report_id)
        if checker is None:
            notes = self.store.section_spec(report_id, section_id).notes
            checker = section_checker(self.store.spec_year(report_id), notes)
        draft = rewritten(base, text, checker(text, figures))
        return self.store.add_version(
            report_id,
            draft,
            author="hand",
            instruction=None,
            snapshot_id=snapshot_id,
            expected_current=base_version,
        )

    @guarded("read")
    def current_version(self, report_id: str, section_id: str) -> int:
        """The number of the section's current version (0: not drafted yet)."""
        return next((s.current_version for s in self.store.sections(report_id) if s.section_id == section_id), 0)

    @guarded("write")
    def add_imported(
        self,
        report_id: str,
        texts: dict[str, tuple[str, CheckResult]],
        comments: list[CommentEntry],
        *,
        source: str,
        snapshot_id: int | None,
    ) -> list[tuple[str, int]]:
        """Save what a marked-up Word file changed (``assistant.markup`` plans it): one version
        per section, each from its current version with the new text and its check, and the
        file's comments, all in one transaction. Locked sections are included on purpose."""
        drafts = []
        for section_id, (text, check) in texts.items():
            text = strip_controls(text, multiline=True).strip("\n")
            if "\x00" in text or not text.strip():
                raise InputError(f"导入后章节“{section_id}”正文为空或含空字符，未保存任何内容。")
            drafts.append(rewritten(self.store.section(report_id, section_id), text, check))
        return self.store.add_imported(report_id, drafts, comments, source=source, snapshot_id=snapshot_id)

    @guarded("read")
    def comments(self, report_id: str, section_id: str | None = None) -> list[CommentEntry]:
        return self.store.comments(report_id, section_id)

    @guarded("write")
    def revert(self, report_id: str, section_id: str, version: int) -> int:
        """Make version ``version`` current again as a new version (history is kept).

        The copy keeps the old version's settings and figures snapshot, so staleness judges
        it by the figures it was really drafted from.
        """
        self.store.ensure_unlocked(report_id, section_id)
        old = self.store.version_record(report_id, section_id, version)
        return self.store.add_version(
            report_id,
            old.draft,
            author="revert",
            instruction=None,
            settings=old.settings,
            snapshot_id=old.snapshot_id,
            reverted_from=version,
        )

    @guarded("read")
    def diff_pair(self, report_id: str, section_id: str, a: int | None = None, b: int | None = None) -> tuple[int, int]:
        """Which versions `huibao diff` compares: none given, the one before the current with the
        current; one given, that one with the current; two, those two."""
        history = self.history(report_id, section_id)
        current = next((h.version for h in history if h.is_current), max((h.version for h in history), default=0))
        if a is None:
            earlier = [h.version for h in history if h.version < current]
            if not earlier:
                raise InputError(f"章节 {section_id} 只有当前这一个版本，没有可对比的旧版本。")
            return max(earlier), current
        return (a, current) if b is None else (a, b)

    @guarded("read")
    def diff(self, report_id: str, section_id: str, a: int, b: int) -> str:
        """Unified diff of two versions, one sentence per line."""
        old, new = self.get_version(report_id, section_id, a), self.get_version(report_id, section_id, b)
        return unified_diff(old.text, new.text, f"第 {a} 版", f"第 {b} 版")

    @guarded("read")
    def diff_segments(self, report_id: str, section_id: str, a: int, b: int) -> list[tuple[str, str]]:
        """Structured diff of two versions for colouring: [(equal|delete|insert, text)]."""
        old, new = self.get_version(report_id, section_id, a), self.get_version(report_id, section_id, b)
        return diff_segments(old.text, new.text)

    # --- locks --------------------------------------------------------------------------------

    @guarded("lock")
    def lock(self, report_id: str, section_id: str, locked: bool = True) -> None:
        """Lock (or unlock) a section. A drafter locks only a section whose current version they
        saved, and unlocks only what they locked; a reviewer or admin any section."""
        if not self.actor.at_least("reviewer"):
            saved_by, locked_by = self.store.section_owner(report_id, section_id)
            if locked and saved_by != self.actor.name:
                raise refuse(self.actor, "lock_any", f"章节 {section_id} 的当前版本不是您保存的")
            if not locked and locked_by not in (None, self.actor.name):
                raise refuse(self.actor, "lock_any", f"章节 {section_id} 是{locked_by}锁定的")
        self.store.lock(report_id, section_id, locked)

    def unlock(self, report_id: str, section_id: str) -> None:
        self.lock(report_id, section_id, locked=False)

    @guarded("read")
    def ensure_unlocked(self, report_id: str, section_id: str) -> None:
        """StoreError when the report or section is unknown or the section is locked."""
        self.store.ensure_unlocked(report_id, section_id)

    @guarded("read")
    def locked(self, report_id: str) -> list[str]:
        """Ids of the locked sections, in outline order."""
        return self.store.locked(report_id)

    # --- staleness ----------------------------------------------------------------------------

    @guarded("read")
    def stale_sections(self, report_id: str) -> list[str]:
        """Sections whose current version rests on figures that changed since it was drafted."""
        return [s.section_id for s in self.stale_report(report_id)]

    @guarded("read")
    def stale_report(self, report_id: str) -> list[StaleSection]:
        """The stale sections with the reasons, in Chinese, one per changed figure."""
        return find_stale(self.store.figure_basis(report_id))

    # --- chat ---------------------------------------------------------------------------------

    @guarded("write")
    def propose(self, report_id: str, proposals: list[Proposal]) -> list[int]:
        """Keep changes the chat's model proposed until the user confirms or cancels them, in the
        workspace (not the browser session): a reload or another tab still shows them."""
        return self.store.add_proposals(report_id, [p.to_json() for p in proposals])

    @guarded("read")
    def pending_proposals(self, report_id: str) -> list[tuple[int, Proposal]]:
        return [(pid, Proposal.from_json(data)) for pid, data in self.store.pending_proposals(report_id)]

    @guarded("write")
    def settle_proposal(self, report_id: str, proposal_id: int, *, confirmed: bool) -> bool:
        """True when this call settled it (then apply it if confirmed); False when it no longer waits."""
        return self.store.settle_proposal(report_id, proposal_id, "confirmed" if confirmed else "cancelled")

    @guarded("write")
    def add_chat(self, report_id: str, role: str, text: str) -> None:
        self.store.add_chat(report_id, role, text)

    @guarded("read")
    def chat_history(self, report_id: str) -> list[ChatEntry]:
        return self.store.chat_history(report_id)

    # --- review -------------------------------------------------------------------------------

    @guarded("submit")
    def submit(self, report_id: str, section_id: str, comment: str = "") -> int:
        """草稿 or 退回 → 待审; returns the version submitted (the current one)."""
        return self.store.set_review(
            report_id, section_id, "submitted", allowed_from=("draft", "returned"), comment=_comment(comment)
        )

    @guarded("review")
    def approve(self, report_id: str, section_id: str, comment: str = "") -> int:
        """待审 → 已通过; returns the version approved."""
        return self.store.set_review(
            report_id, section_id, "approved", allowed_from=("submitted",), comment=_comment(comment)
        )

    @guarded("review")
    def return_section(self, report_id: str, section_id: str, comment: str) -> int:
        """待审 (or 已通过) → 退回, with the reviewer's comment (required); returns the version."""
        clean = _comment(comment)
        if not clean:
            raise InputError(f"退回章节 {section_id} 须写明意见（退回原因），未作改动。", field="意见")
        return self.store.set_review(
            report_id, section_id, "returned", allowed_from=("submitted", "approved"), comment=clean
        )

    @guarded("read")
    def review_states(self, report_id: str) -> list[ReviewInfo]:
        """Each section's review state (草稿/待审/已通过/退回) with its last decision, in outline order."""
        return self.store.review_states(report_id)

    @guarded("read")
    def review_events(self, report_id: str, section_id: str | None = None) -> list[ReviewEvent]:
        return self.store.review_events(report_id, section_id)

    @guarded("read")
    def open_sections(self, report_id: str) -> list[ReviewInfo]:
        """What is still open: every section with text that is not approved."""
        return [r for r in self.store.review_states(report_id) if r.current_version and r.state != "approved"]

    @guarded("read")
    def reopened(self, report_id: str, versions: dict[str, int]) -> list[str]:
        """Chinese lines for the sections these new versions put back to 草稿 (they had been
        submitted or approved): what a command or the page says after saving."""
        out = []
        for event in self.store.review_events(report_id):
            if event.state == "draft" and versions.get(event.section_id) == event.version:
                out.append(f"章节 {event.section_id}：{event.comment}。")
        return out

    # --- export -------------------------------------------------------------------------------

    @guarded("export")
    def export_draft(
        self, report_id: str, *, approved_only: bool = False, fmt: str = "", record: bool = True
    ) -> tuple[ReportDraft, list[str]]:
        """The report to export and the sections left out (``approved_only``: those not approved;
        a heading whose own text is not approved but that has an approved section under it keeps
        its title with no text). The export is recorded in the audit log unless ``record`` is False."""
        spec = self.store.spec(report_id)
        draft = as_outlined(self.store.current(report_id), spec)
        left_out: list[str] = []
        if approved_only:
            states = {r.section_id: r.state for r in self.store.review_states(report_id)}
            parents = {c.id: s.id for s in spec.walk() for c in s.children}
            keep_heading: set[str] = set()
            for sid, state in states.items():
                if state == "approved":
                    up = parents.get(sid)
                    while up is not None:
                        keep_heading.add(up)
                        up = parents.get(up)
            sections = []
            for sec in draft.sections:
                if states.get(sec.section_id) == "approved":
                    sections.append(sec)
                    continue
                left_out.append(sec.section_id)
                if sec.section_id in keep_heading:
                    sections.append(sec.model_copy(update={"text": ""}))
            draft = draft.model_copy(update={"sections": sections})
        if record:
            self.record_export(report_id, fmt=fmt, approved_only=approved_only, left_out=left_out)
        return draft, left_out

    @guarded("export")
    def record_export(self, report_id: str, *, fmt: str, approved_only: bool, left_out: list[str]) -> None:
        """The audit line of an export (the page builds the file first and records it when it is
        downloaded: ``export_draft(record=False)``)."""
        detail = "只含已通过的章节" if approved_only else "当前稿"
        if fmt:
            detail = f"{fmt}，{detail}"
        if left_out:
            detail += f"；未含 {'、'.join(left_out)}"
        self.store.audit("export", report_id, detail=detail)

    # --- members and the audit log (admins) -------------------------------------------------------

    @guarded("read")
    def members(self, report_id: str) -> list[str]:
        return self.store.members(report_id)

    @guarded("members")
    def add_member(self, report_id: str, user: str) -> None:
        self.store.add_member(report_id, user)

    @guarded("members")
    def remove_member(self, report_id: str, user: str) -> None:
        self.store.remove_member(report_id, user)

    @guarded("audit")
    def audit_log(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        user: str | None = None,
        actions: Collection[str] | None = None,
        report_id: str | None = None,
    ) -> list[AuditEntry]:
        """Who did what, oldest first, filtered; never deleted (kept far beyond six months)."""
        return self.store.audit_log(since=since, until=until, user=user, actions=actions, report_id=report_id)


MAX_COMMENT_CHARS = 2000


def _comment(text: str) -> str:
    clean = strip_controls(text or "", multiline=True).strip()
    if len(clean) > MAX_COMMENT_CHARS:
        raise InputError(f"意见过长：{len(clean)} 个字（最多 {MAX_COMMENT_CHARS} 个），未作改动。", field="意见")
    return clean


AUDIT_COLUMNS = ("time", "user", "action", "report_id", "section_id", "version", "detail")


def audit_csv(entries: list[AuditEntry]) -> str:
    """The audit lines as CSV with the columns ``time,user,action,report_id,section_id,version,detail``
    (the action in Chinese, as the page shows it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for e in entries:
        writer.writerow([e.time, e.user, e.action_zh, e.report_id or "", e.section_id or "", e.version or "", e.detail])
    return out.getvalue()
