"""The leader's marked-up Word file back into the workspace (issue 17).

A report goes out as Word (assistant.export), is edited in Word or WPS, often with tracked
changes and comments, and comes back. ``read_marked_up`` reads the file with every tracked
change accepted (insertions and moves in, deletions and moved-from text out) and the comments
anchored to their paragraphs. ``plan_import`` splits it into the report's sections by their
headings (by text, else by content: a renamed or moved heading is matched and reported), and
says which sections changed, with every number the edit introduced checked. Nothing is saved
here: the caller shows the plan and saves it with ``Workspace.import_versions``.
"""

from __future__ import annotations

import difflib
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from assistant.check.result import CheckResult, NumberMention
from assistant.core.errors import InputError
from assistant.core.settings import get_settings
from assistant.core.textio import accepted_text, too_large
from assistant.drafting.drafts import ReportDraft
from assistant.export import STYLE_L1, STYLE_L2, STYLE_L3, STYLE_TITLE, body_paragraphs, numbered_headings
from assistant.gongwen import read_heading, strip_label
from assistant.workspace.service import Checker, Workspace, section_checker
from assistant.workspace.store import CommentEntry

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLES = {STYLE_L1: 1, STYLE_L2: 2, STYLE_L3: 3}
_SPACE = re.compile(r"\s+")
HEADING_MAX = 60  # characters: a longer numbered line is body text ("一是……")
CONTENT_MATCH = 0.6  # similarity of a section's text that matches a renamed or moved heading


@dataclass
class Paragraph:
    text: str
    style: str = ""
    comments: list[str] = field(default_factory=list)  # comment ids anchored here


@dataclass
class Comment:
    id: str
    author: str
    text: str


@dataclass
class MarkedUp:
    paragraphs: list[Paragraph]
    comments: dict[str, Comment]
    change_authors: list[str]  # tracked-change authors, in order of first appearance


def _norm(text: str) -> str:
    return _SPACE.sub("", text)


def _check_zip(data: bytes, name: str) -> None:
    # the upload limit, with a .docx counted unpacked (zip bombs), as every other user file
    why = too_large(
        Path(name).with_suffix(".docx") if name else Path("修改稿.docx"), get_settings().max_upload_bytes, data
    )
    if why:
        raise InputError(f"{why}，未导入。", file=name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "word/document.xml" not in z.namelist():
                raise InputError("不是 Word 文档（.docx），请在 Word 或 WPS 中另存为 .docx 后再试。", file=name)
    except zipfile.BadZipFile:
        raise InputError("不是 Word 文档（.docx），请在 Word 或 WPS 中另存为 .docx 后再试。", file=name) from None


def read_marked_up(data: bytes, name: str = "") -> MarkedUp:
    """The file's paragraphs (tracked changes accepted, empty ones dropped) and comments."""
    _check_zip(data, name)
    from docx import Document  # heavy: python-docx is loaded only when a Word file is read
    from docx.oxml import parse_xml  # heavy: as above

    try:
        doc = Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises several kinds on a damaged file
        raise InputError(
            f"无法读取 Word 文件（{type(err).__name__}），请在 Word 中重新保存后再试。", file=name
        ) from None
    styles = {s.style_id: s.name for s in doc.styles}
    authors: list[str] = []
    for el in doc.element.body.iter(f"{_W}ins", f"{_W}del", f"{_W}moveTo", f"{_W}moveFrom"):
        who = el.get(f"{_W}author")
        if who and who not in authors:
            authors.append(who)
    paragraphs: list[Paragraph] = []
    merge_next = False
    for p in doc.element.body.iter(f"{_W}p"):
        style_el = p.find(f"{_W}pPr/{_W}pStyle")
        style = styles.get(style_el.get(f"{_W}val"), "") if style_el is not None else ""
        ids = [el.get(f"{_W}id") for el in p.iter(f"{_W}commentRangeStart", f"{_W}commentReference")]
        text = accepted_text(p)
        if merge_next and paragraphs:
            # the paragraph mark before this one was deleted (tracked): the two are one paragraph
            paragraphs[-1].text += text
            paragraphs[-1].comments += [i for i in ids if i not in paragraphs[-1].comments]
        else:
            paragraphs.append(Paragraph(text, style, list(dict.fromkeys(ids))))
        merge_next = p.find(f"{_W}pPr/{_W}rPr/{_W}del") is not None
    comments: dict[str, Comment] = {}
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/comments") and not rel.is_external:
            root = parse_xml(rel.target_part.blob)
            for c in root.iter(f"{_W}comment"):
                text = "\n".join(accepted_text(p) for p in c.iter(f"{_W}p")).strip()
                cid = c.get(f"{_W}id")
                comments[cid] = Comment(cid, c.get(f"{_W}author") or "", text)
    kept = []
    for para in paragraphs:
        para.text = para.text.strip()
        if para.text:
            kept.append(para)
        elif para.comments and kept:
            kept[-1].comments += para.comments
    return MarkedUp(kept, comments, authors)


# ---------------------------------------------------------------- splitting into sections


class SectionChange(BaseModel):
    section_id: str
    heading: str | None
    old_text: str
    new_text: str
    locked: bool = False
    check: CheckResult
    introduced: list[NumberMention]  # numbers the edit brought in (not in the old text as written)


class CommentOnSection(BaseModel):
    section_id: str | None
    author: str
    text: str
    anchor: str  # the start of the paragraph it is anchored to


class MovedHeading(BaseModel):
    section_id: str
    expected: str  # the heading as exported
    found: str  # the heading in the file
    how: str  # 改名 / 移动


class ImportPlan(BaseModel):
    report_id: str
    file_name: str
    changes: list[SectionChange]
    unchanged: list[str]
    missing: list[str]  # sections whose heading the file no longer has: left unchanged
    moved: list[MovedHeading]
    comments: list[CommentOnSection]  # the file's comments not in the workspace yet: what saving adds
    change_authors: list[str]
    # The file's comments the workspace already has (same section, author, text and anchor: the
    # file imported before), or that repeat another in the file: never saved twice.
    known_comments: list[CommentOnSection] = []

    @property
    def flagged(self) -> list[tuple[str, NumberMention]]:
        return [(c.section_id, m) for c in self.changes for m in c.introduced if m.flagged]


@dataclass
class _Expected:
    section_id: str
    level: int
    heading: str | None
    paragraphs: list[str]


def _expected(report: ReportDraft) -> list[_Expected]:
    out = []
    for sec, heading in zip(report.sections, numbered_headings(report)):
        out.append(_Expected(sec.section_id, sec.level, heading, body_paragraphs(sec.text, heading)))
    return out


def _is_heading(p: Paragraph) -> bool:
    if p.style in _HEADING_STYLES:
        return True
    if p.style == STYLE_TITLE or len(p.text) > HEADING_MAX or p.text.endswith("。"):
        return False
    h = read_heading(p.text)
    return h is not None and h.level <= 2


def _similar(a: str, b: str) -> float:
    a, b = _norm(a), _norm(b)
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _strip_title(paragraphs: list[Paragraph], title: str) -> list[Paragraph]:
    """The paragraphs after the report title (one paragraph of the 公文标题 style, or lines that
    spell the title)."""
    target, i, seen = _norm(title), 0, ""
    while i < len(paragraphs) and (
        paragraphs[i].style == STYLE_TITLE or target.startswith(seen + _norm(paragraphs[i].text))
    ):
        seen += _norm(paragraphs[i].text)
        i += 1
        if seen == target:
            break
    return paragraphs[i:]


def _match_headings(
    found: list[tuple[int, Paragraph]], expected: list[_Expected], blocks: dict[int, str]
) -> tuple[dict[int, str], list[MovedHeading], list[str]]:
    """File heading index -> section id: by the heading's text, then without its number, then by
    the content under it. Returns the matches, the renamed/moved ones and the unmatched file
    headings."""
    with_heading = [e for e in expected if e.heading]
    by_text = {_norm(e.heading or ""): e for e in with_heading}
    by_title = {_norm(strip_label(e.heading or "")): e for e in with_heading}
    order = {e.section_id: k for k, e in enumerate(with_heading)}
    matched: dict[int, str] = {}
    moved: list[MovedHeading] = []
    taken: set[str] = set()
    for idx, p in found:
        e = by_text.get(_norm(p.text))
        if e is not None and e.section_id not in taken:
            matched[idx] = e.section_id
            taken.add(e.section_id)
    for idx, p in found:
        if idx in matched:
            continue
        e = by_title.get(_norm(strip_label(p.text)))
        if e is not None and e.section_id not in taken:
            matched[idx] = e.section_id
            taken.add(e.section_id)
            moved.append(MovedHeading(section_id=e.section_id, expected=e.heading or "", found=p.text, how="移动"))
    for idx, p in found:
        if idx in matched:
            continue
        body = blocks.get(idx, "")
        best, score = None, 0.0
        for e in with_heading:
            if e.section_id in taken:
                continue
            s = max(
                _similar(p.text, e.heading or "") if e.paragraphs == [] else 0.0, _similar(body, "".join(e.paragraphs))
            )
            if s > score:
                best, score = e, s
        if best is not None and score >= CONTENT_MATCH and (body or not best.paragraphs):
            matched[idx] = best.section_id
            taken.add(best.section_id)
            moved.append(
                MovedHeading(section_id=best.section_id, expected=best.heading or "", found=p.text, how="改名")
            )
    # a heading matched out of the report's order was moved
    seq = [order[matched[i]] for i, _ in found if i in matched]
    for k, (idx, _p) in enumerate(f for f in found if f[0] in matched):
        sid = matched[idx]
        if k > 0 and seq[k] < seq[k - 1] and not any(m.section_id == sid for m in moved):
            e = next(e for e in with_heading if e.section_id == sid)
            moved.append(MovedHeading(section_id=sid, expected=e.heading or "", found=_p.text, how="移动"))
    unmatched = [p.text for i, p in found if i not in matched]
    return matched, moved, unmatched


def _split_tail(tail: list[str], last: _Expected | None, closing: _Expected) -> tuple[list[str], list[str]]:
    """The paragraphs after the last heading: the last section's and the closing's, told apart by
    aligning them with the two sections' current paragraphs."""
    old = ([(p, "last") for p in last.paragraphs] if last else []) + [(p, "closing") for p in closing.paragraphs]
    sm = difflib.SequenceMatcher(None, [_norm(p) for p, _ in old], [_norm(p) for p in tail], autojunk=False)
    side = ["last"] * len(tail)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        for j in range(j1, j2):
            if op in ("equal", "replace"):
                side[j] = old[min(i1 + (j - j1), i2 - 1)][1]
            else:  # inserted: with the paragraph before it, or the closing when it opens the tail after the last's
                side[j] = side[j - 1] if j > 0 else ("last" if last else "closing")
    # the closing is the end of the file: once a paragraph is the closing's, the rest is too
    first = next((j for j, s in enumerate(side) if s == "closing"), len(tail))
    return tail[:first], tail[first:]


def plan_import(
    report_id: str,
    report: ReportDraft,
    marked: MarkedUp,
    *,
    file_name: str,
    checker: Checker,
    figures: list,
    locked: set[str] | None = None,
    checkers: dict[str, Checker] | None = None,
) -> ImportPlan:
    """What importing the file would do. Refuses (InputError) a file whose headings do not fit
    the report."""
    expected = _expected(report)
    paragraphs = _strip_title(marked.paragraphs, report.title)
    heads = [(k, p) for k, p in enumerate(paragraphs) if _is_heading(p)]
    blocks: dict[int, str] = {}
    for n, (k, _p) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(paragraphs)
        blocks[k] = "".join(p.text for p in paragraphs[k + 1 : end])
    matched, moved, unmatched = _match_headings(heads, expected, blocks)
    top_expected = [e for e in expected if e.heading and e.level == 1]
    top_found = [sid for sid in matched.values() if any(e.section_id == sid for e in top_expected)]
    if (
        unmatched
        or (top_expected and not top_found)
        or (heads and len(matched) < len([e for e in expected if e.heading]) / 2)
    ):
        what = "；".join(f"“{t}”" for t in unmatched[:5]) if unmatched else "文件中的标题与汇报的章节大多对不上"
        raise InputError(
            f"文件的结构与汇报“{report.title}”不一致，无法按章节导入：{what}"
            + ("在汇报中找不到对应章节" if unmatched else "")
            + "。请确认上传的是从本汇报导出的 Word 文件。未保存任何内容。",
            file=file_name,
        )
    # paragraphs of each section, in file order
    texts: dict[str, list[str]] = {}
    owner: list[str | None] = [None] * len(paragraphs)
    intro = next((e for e in expected if e.level <= 0 and not e.heading and expected.index(e) == 0), None)
    closing = expected[-1] if expected and expected[-1].level <= 0 and not expected[-1].heading else None
    current: str | None = intro.section_id if intro else None
    head_positions = [k for k, _ in heads]
    last_head = head_positions[-1] if head_positions else -1
    tail: list[int] = []
    for k, p in enumerate(paragraphs):
        if k in matched:
            current = matched[k]
            owner[k] = current
            continue
        if k > last_head and closing is not None and head_positions:
            tail.append(k)
            continue
        if current is None:
            current = closing.section_id if closing and not head_positions else None
        if current is not None:
            texts.setdefault(current, []).append(p.text)
            owner[k] = current
    if tail and closing is not None:
        last = next((e for e in expected if e.section_id == matched[last_head]), None)
        mine, _theirs = _split_tail([paragraphs[k].text for k in tail], last, closing)
        for n, k in enumerate(tail):
            sid = last.section_id if last is not None and n < len(mine) else closing.section_id
            texts.setdefault(sid, []).append(paragraphs[k].text)
            owner[k] = sid
    found_ids = set(matched.values()) | set(texts)
    missing = [e.section_id for e in expected if e.heading and e.section_id not in matched.values()]
    changes: list[SectionChange] = []
    unchanged: list[str] = []
    by_id = {s.section_id: s for s in report.sections}
    for e in expected:
        if e.section_id in missing or (e.section_id not in found_ids and e.heading is None):
            continue
        new = texts.get(e.section_id, [])
        if [_norm(p) for p in new] == [_norm(p) for p in e.paragraphs]:
            unchanged.append(e.section_id)
            continue
        if not new and not e.paragraphs:
            unchanged.append(e.section_id)
            continue
        new_text = "\n".join(new)
        check = (checkers or {}).get(e.section_id, checker)(new_text, figures)
        old_seen = Counter(m.text for m in by_id[e.section_id].check.numbers)
        introduced = []
        for m in check.numbers:
            if old_seen[m.text] > 0:
                old_seen[m.text] -= 1
            else:
                introduced.append(m)
        changes.append(
            SectionChange(
                section_id=e.section_id,
                heading=e.heading,
                old_text=by_id[e.section_id].text,
                new_text=new_text,
                locked=e.section_id in (locked or set()),
                check=check,
                introduced=introduced,
            )
        )
    comments = []
    for k, p in enumerate(paragraphs):
        for cid in p.comments:
            c = marked.comments.get(cid)
            if c is not None:
                comments.append(CommentOnSection(section_id=owner[k], author=c.author, text=c.text, anchor=p.text[:30]))
    return ImportPlan(
        report_id=report_id,
        file_name=file_name,
        changes=changes,
        unchanged=unchanged,
        missing=missing,
        moved=moved,
        comments=comments,
        change_authors=marked.change_authors,
    )


def import_source(plan: ImportPlan, uploader: str) -> str:
    """What the history says a version came from: the file, who uploaded it, who changed it."""
    who = f"上传：{uploader}" if uploader else ""
    changed = f"修订：{'、'.join(plan.change_authors)}" if plan.change_authors else ""
    extra = "；".join(x for x in (who, changed) if x)
    return f"导入 Word：{plan.file_name}" + (f"（{extra}）" if extra else "")


def prepare_import(ws: Workspace, report_id: str, data: bytes, file_name: str) -> tuple[ImportPlan, int | None]:
    """Read the file and plan the import against the report's current versions and figures;
    returns the plan and the figures snapshot it was checked against."""
    marked = read_marked_up(data, file_name)
    report = ws.current(report_id)
    snapshot_id, figures = ws.figures_snapshot(report_id)
    year = ws.spec_year(report_id)
    checkers = {
        s.section_id: section_checker(year, ws.section_spec(report_id, s.section_id).notes) for s in report.sections
    }
    plan = plan_import(
        report_id,
        report,
        marked,
        file_name=file_name,
        checker=section_checker(year),
        checkers=checkers,
        figures=figures,
        locked=set(ws.locked(report_id)),
    )
    new, known = split_known_comments(plan.comments, ws.comments(report_id))
    return plan.model_copy(update={"comments": new, "known_comments": known}), snapshot_id


def comment_key(c: CommentOnSection | CommentEntry) -> tuple[str | None, str, str, str]:
    """What makes two comments the same one: section, author, text and anchor."""
    return (c.section_id, c.author, c.text, c.anchor)


def split_known_comments(
    comments: list[CommentOnSection], stored: list[CommentEntry]
) -> tuple[list[CommentOnSection], list[CommentOnSection]]:
    """(comments not stored yet, comments already stored or repeated in the file), in file order."""
    seen = {comment_key(c) for c in stored}
    new: list[CommentOnSection] = []
    known: list[CommentOnSection] = []
    for c in comments:
        key = comment_key(c)
        (known if key in seen else new).append(c)
        seen.add(key)
    return new, known


def save_import(ws: Workspace, plan: ImportPlan, *, uploader: str, snapshot_id: int | None) -> list[tuple[str, int]]:
    """Save the plan: a version per changed section and the comments, in one transaction."""
    source = import_source(plan, uploader)
    comments = [
        CommentEntry(section_id=c.section_id, author=c.author, text=c.text, anchor=c.anchor) for c in plan.comments
    ]
    texts = {c.section_id: (c.new_text, c.check) for c in plan.changes}
    if not texts and not comments:
        return []
    return ws.add_imported(plan.report_id, texts, comments, source=source, snapshot_id=snapshot_id)
