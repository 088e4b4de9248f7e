"""The outline editor's rules, as pure functions from one ReportSpec to the next.

Each edit takes the saved outline and returns a changed copy (the argument is never touched);
``Workspace`` (service.py) saves the copy with ``Store.save_outline`` in one transaction, after
``check_outline``. Bad input raises ``InputError`` with a Chinese message and nothing changes.

* Section ids never change: a moved or renamed section keeps its id, so its versions stay its
  own; its number (一、 / （二）) follows from its place.
* A new section gets an id no section ever had in this report (removed ones included): under
  ``1`` the next ``1.N``, at the top the next free number.
* A removed section (with its sub-sections) goes to ``spec.removed`` with where it stood; its
  versions stay in the store, and ``restore_section`` puts it back.
* 导语 and 结束语 stay at the top level and have no sub-sections.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from assistant.core.errors import InputError
from assistant.core.textio import strip_controls
from assistant.drafting.spec import RemovedSection, ReportSpec, SectionSpec
from assistant.gongwen import PART_NAMES, PARTS, part_of_title

MAX_TITLE_CHARS = 200
MAX_NOTES_CHARS = 5000  # a section's notes: what a drafter writes as 要点, not a whole material
_FRAME_PARTS = ("intro", "closing")  # 导语, 结束语: no heading, no sub-sections


def _copy(spec: ReportSpec) -> ReportSpec:
    return spec.model_copy(deep=True)


def find(spec: ReportSpec, section_id: str) -> SectionSpec:
    for s in spec.walk():
        if s.id == section_id:
            return s
    raise InputError(
        f"提纲中没有编号为“{section_id}”的章节（现有：{'、'.join(s.id for s in spec.walk()) or '无'}）。",
        field="章节",
    )


def _siblings(spec: ReportSpec, parent_id: str | None) -> list[SectionSpec]:
    return spec.sections if parent_id is None else find(spec, parent_id).children


def _name(section: SectionSpec) -> str:
    if section.part in _FRAME_PARTS:
        return PART_NAMES[section.part]
    return f"{section.id}（{section.title}）" if section.title else section.id


def subtree_ids(section: SectionSpec) -> list[str]:
    out = [section.id]
    for child in section.children:
        out += subtree_ids(child)
    return out


def all_ids(spec: ReportSpec, also: Iterable[str] = ()) -> set[str]:
    """Every id the report has used: live sections, removed ones and any ``also`` (stored rows)."""
    ids = {s.id for s in spec.walk()} | set(also)
    for r in spec.removed:
        ids |= set(subtree_ids(r.section))
    return ids


def new_id(spec: ReportSpec, parent_id: str | None, taken: Iterable[str] = ()) -> str:
    """An id never used in this report: ``P.N`` under parent P, a number at the top level."""
    used = all_ids(spec, taken)
    prefix = f"{parent_id}." if parent_id is not None else ""
    numbers = [int(m.group(1)) for u in used if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", u))]
    n = max(numbers, default=0) + 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def clean_title(title: str | None) -> str | None:
    """A heading as saved: controls and edge spaces removed; empty means "let the drafter propose"."""
    if title is None:
        return None
    if "\x00" in title:
        raise InputError("标题含有空字符（NUL），提纲未修改。", field="标题")
    clean = " ".join(strip_controls(title).split())
    if len(clean) > MAX_TITLE_CHARS:
        raise InputError(f"标题过长：{len(clean)} 个字（最多 {MAX_TITLE_CHARS} 个），提纲未修改。", field="标题")
    return clean or None


def clean_notes(notes: str, section_id: str = "") -> str:
    if "\x00" in notes:
        raise InputError("要点含有空字符（NUL），提纲未修改。", field="要点")
    clean = strip_controls(notes, multiline=True).replace("\r\n", "\n").strip()
    if len(clean) > MAX_NOTES_CHARS:
        where = f"章节 {section_id} 的" if section_id else ""
        raise InputError(
            f"{where}要点有 {len(clean)} 个字（最多 {MAX_NOTES_CHARS} 个），提纲未修改。",
            field="要点",
        )
    return clean


def _set_part(section: SectionSpec, part: str) -> None:
    section.part = part  # type: ignore[assignment]  # one of PARTS, checked by the callers
    for child in section.children:
        _set_part(child, part)


def _refuse_frame_parent(parent: SectionSpec) -> None:
    if parent.part in _FRAME_PARTS:
        raise InputError(f"{PART_NAMES[parent.part]}不分小节，不能在其下添加或移入章节。", field="上级章节")


def add_section(
    spec: ReportSpec,
    *,
    parent_id: str | None = None,
    title: str | None = None,
    notes: str = "",
    index: int | None = None,
    part: str | None = None,
    taken: Iterable[str] = (),
) -> tuple[ReportSpec, str]:
    """A new section under ``parent_id`` (None: the top level) at ``index`` among its siblings
    (None: last; at the top level, before the 结束语). Returns the outline and the new id.

    Its part is its parent's; at the top level ``part``, else what its title names
    (问题 → problems …), else "other"."""
    out = _copy(spec)
    title = clean_title(title)
    notes = clean_notes(notes)
    chosen: str
    if parent_id is not None:
        parent = find(out, parent_id)
        _refuse_frame_parent(parent)
        chosen = parent.part
    else:
        chosen = part or part_of_title(title) or "other"
        if chosen not in PARTS:
            raise InputError(f"部分“{chosen}”无效（可选：{'、'.join(PARTS)}）。", field="部分")
        if chosen in _FRAME_PARTS and any(s.part == chosen for s in out.sections):
            raise InputError(f"提纲中已有{PART_NAMES[chosen]}。", field="部分")
    siblings = _siblings(out, parent_id)
    if index is None:
        index = len(siblings)
        if parent_id is None and siblings and siblings[-1].part == "closing" and chosen != "closing":
            index -= 1
    index = max(0, min(index, len(siblings)))
    section = SectionSpec.model_validate(
        {"id": new_id(out, parent_id, taken), "title": title, "notes": notes, "part": chosen}
    )
    siblings.insert(index, section)
    return out, section.id


def remove_section(spec: ReportSpec, section_id: str, *, when: str = "") -> ReportSpec:
    """Take a section (with its sub-sections) out of the outline, into ``removed``."""
    out = _copy(spec)
    section = find(out, section_id)
    parent = out.parent_of(section_id)
    siblings = parent.children if parent is not None else out.sections
    if parent is None and len(siblings) == 1:
        raise InputError("提纲至少要保留一节，未移除。", field="章节")
    index = next(i for i, s in enumerate(siblings) if s.id == section_id)
    del siblings[index]
    out.removed.append(
        RemovedSection(section=section, parent=parent.id if parent else None, index=index, removed_at=when)
    )
    return out


def restore_section(spec: ReportSpec, section_id: str) -> ReportSpec:
    """Put a removed section back where it stood (its former parent, at its former place);
    when that parent is gone too, at the top level, before the 结束语."""
    out = _copy(spec)
    at = next((i for i, r in enumerate(out.removed) if r.section.id == section_id), None)
    if at is None:
        removed = "、".join(r.section.id for r in out.removed) or "无"
        raise InputError(f"已移除的章节中没有“{section_id}”（已移除：{removed}）。", field="章节")
    entry = out.removed.pop(at)
    live = {s.id for s in out.walk()}
    parent_id = entry.parent if entry.parent in live else None
    siblings = _siblings(out, parent_id)
    index = min(entry.index, len(siblings))
    if parent_id is None and entry.parent is not None:  # its parent is gone: before the 结束语
        index = len(siblings) - (1 if siblings and siblings[-1].part == "closing" else 0)
    section = entry.section
    if parent_id is not None:
        _set_part(section, find(out, parent_id).part)
    siblings.insert(index, section)
    return out


def move_section(spec: ReportSpec, section_id: str, *, parent_id: str | None, index: int) -> ReportSpec:
    """Move a section (with its sub-sections) under ``parent_id`` (None: the top level), at
    ``index`` among the siblings it will have. Under a new parent it takes that parent's part."""
    out = _copy(spec)
    section = find(out, section_id)
    if parent_id is not None:
        parent = find(out, parent_id)
        if parent_id in subtree_ids(section):
            raise InputError(f"不能把章节 {_name(section)} 移到它自己的下级章节中。", field="上级章节")
        _refuse_frame_parent(parent)
        if section.part in _FRAME_PARTS:
            raise InputError(f"{PART_NAMES[section.part]}只能在最上一级。", field="上级章节")
    old_parent = out.parent_of(section_id)
    old_siblings = old_parent.children if old_parent is not None else out.sections
    if old_parent is None and parent_id is not None and len(old_siblings) == 1:
        raise InputError("提纲至少要保留一节，未移动。", field="章节")
    del old_siblings[next(i for i, s in enumerate(old_siblings) if s.id == section_id)]
    siblings = _siblings(out, parent_id)
    siblings.insert(max(0, min(index, len(siblings))), section)
    if parent_id is not None:
        _set_part(section, find(out, parent_id).part)
    return out


def shift_section(spec: ReportSpec, section_id: str, by: int) -> ReportSpec:
    """Move a section ``by`` places among its siblings (-1: up, 1: down)."""
    parent = spec.parent_of(section_id)
    siblings = spec.siblings_of(section_id) if any(s.id == section_id for s in spec.walk()) else []
    if not siblings:
        find(spec, section_id)  # raises, naming the ids
    at = next(i for i, s in enumerate(siblings) if s.id == section_id)
    target = at + by
    if not 0 <= target < len(siblings):
        where = "最前" if by < 0 else "最后"
        raise InputError(f"章节 {_name(siblings[at])} 已在同级{where}，无法再移动。", field="章节")
    return move_section(spec, section_id, parent_id=parent.id if parent else None, index=target)


def retitle_section(spec: ReportSpec, section_id: str, title: str | None) -> ReportSpec:
    """A new heading; empty lets the drafter propose one. A top-level section whose new title
    names a part (问题, 打算 …) becomes that part, as a title does in a spec file."""
    out = _copy(spec)
    section = find(out, section_id)
    if section.part in _FRAME_PARTS:
        raise InputError(f"{PART_NAMES[section.part]}没有标题。", field="标题")
    section.title = clean_title(title)
    named = part_of_title(section.title)
    if named and out.parent_of(section_id) is None:
        _set_part(section, named)
    return out


def set_notes(spec: ReportSpec, section_id: str, notes: str) -> ReportSpec:
    out = _copy(spec)
    find(out, section_id).notes = clean_notes(notes, section_id)
    return out


def set_figures(spec: ReportSpec, section_id: str, figure_ids: Collection[str], known: Collection[str]) -> ReportSpec:
    """The figures a section is to state (``figures:`` in a spec file); each must be a known id."""
    out = _copy(spec)
    wanted = list(dict.fromkeys(str(f).strip() for f in figure_ids if str(f).strip()))
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise InputError(
            f"数据编号 {'、'.join(unknown)} 不在本报告的数据中（现有：{'、'.join(sorted(known)) or '无'}），提纲未修改。",
            field="数据编号",
        )
    find(out, section_id).figures = wanted
    return out
