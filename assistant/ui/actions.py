"""What the page's buttons do, as plain functions over the stage modules (no Streamlit).

Each is a few calls into store / draft / figures / retrieve / check; keeping them here lets
the chat (assistant.workspace.chat) and the pages share them, and lets tests call them directly.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.check.reading import unit_class
from assistant.core.errors import InputError, StoreError, Unchanged
from assistant.core.figures import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    Figure,
    figure_text,
    format_value,
    load_figures,
    parse_figure_rows,
    split_scale,
    write_figures,
)
from assistant.core.resources import resource_dir
from assistant.core.settings import Settings
from assistant.core.textio import size_zh, too_large
from assistant.drafting.context import DraftContext, SectionRequest, retrieval_query
from assistant.drafting.draft import draft_report, draft_section
from assistant.drafting.drafts import ReportDraft, SectionDraft
from assistant.drafting.engines import make_engine
from assistant.drafting.spec import ReportSpec, SectionSpec, load_spec, template_spec
from assistant.export import export_docx, markdown_text
from assistant.gongwen import PART_NAMES
from assistant.kb.ingest import SkipFile, read_document, same_document
from assistant.kb.metadata import (
    DocumentMeta,
    document_meta,
    guess_metadata,
    parse_kind,
    remove_documents,
    retag,
)
from assistant.markup import prepare_import, save_import
from assistant.materials import extract_text
from assistant.materials.accept import accept_rows
from assistant.materials.propose import NotesProposal, material_sentences, propose_notes
from assistant.materials.rows import MaterialRow
from assistant.workspace import chat
from assistant.workspace.chat import ActionResult
from assistant.workspace.outline import clean_notes
from assistant.workspace.service import section_checker
from assistant.workspace.store import WorkspaceNotEmpty

EXAMPLES = resource_dir("examples")
UPLOAD_TYPES = (".txt", ".md", ".docx", ".pdf")
MAX_UPLOAD_NAME = 120  # characters, extension included


@dataclass
class ReportRef:
    id: str
    title: str
    organisation: str = ""
    year: int = 0
    sections: int = 0
    updated: str = ""
    stale: int = 0
    deleted_at: str = ""

    @property
    def label(self) -> str:
        """What a picker shows: title · id · last update. The id makes it unique, so two reports
        with one title are told apart (and a widget that maps labels back finds the right one)."""
        return f"{self.title} · {self.id} · {self.updated[:16]}"


# --- reports ---------------------------------------------------------------------------


def list_reports(ws, *, deleted: bool = False) -> list[ReportRef]:
    """The live reports, newest first; with ``deleted`` those in the 回收站."""
    return [
        ReportRef(
            id=r.id,
            title=r.title,
            organisation=r.organisation,
            year=r.year,
            sections=r.sections,
            updated=r.updated.replace("T", " "),
            stale=r.stale,
            deleted_at=(r.deleted_at or "").replace("T", " "),
        )
        for r in ws.reports(deleted=deleted)
    ]


def sample_inputs() -> tuple[ReportSpec, list[Figure]] | None:
    """The sample report's spec and figures from examples/, or None when they are missing."""
    spec_path = EXAMPLES / "report-spec.yaml"
    figures_path = next(
        (p for p in (EXAMPLES / "figures.csv", EXAMPLES / "figures.xlsx", EXAMPLES / "figures.yaml") if p.exists()),
        None,
    )
    if not spec_path.exists() or figures_path is None:
        return None
    figures = load_figures(figures_path)
    return load_spec(spec_path, figures), figures


def ensure_sample_report(ws, settings: Settings) -> str | None:
    """On first start (empty workspace) create the sample report, undrafted: drafting is one
    click (起草全文) and shows its progress, instead of a silent wait before the first page."""
    if ws.reports() or ws.reports(deleted=True):  # a workspace whose reports are all in the 回收站 is not new
        return None
    inputs = sample_inputs()
    if inputs is None:
        return None
    spec, figures = inputs
    try:  # decided again under the write lock: another app process may be starting too
        return ws.create_report(spec, figures, only_into_empty=True)
    except WorkspaceNotEmpty:
        return None


def create_from_template(
    ws,
    title: str,
    organisation: str,
    year: int,
    achievements: str = "",
    *,
    intro: str = "",
    problems: str = "",
    plans: str = "",
    closing: str = "",
) -> str:
    """A new report with the whole 年度工作汇报 outline: 导语, 一、 with one sub-section per
    achievements line, 二、, 三、, 结束语, each with the notes given (all may stay empty and be
    written later on the 提纲 page)."""
    title, organisation = title.strip(), organisation.strip()
    if not title:
        raise InputError("请填写报告标题。", field="标题")
    if not organisation:
        raise InputError("请填写单位名称。", field="单位")
    if not 1949 <= int(year) <= 2100:
        raise InputError(f"年度“{year}”不合理。", field="年度")
    notes = {
        "achievements": [line.strip() for line in achievements.splitlines() if line.strip()],
        "intro": intro,
        "problems": problems,
        "plans": plans,
        "closing": closing,
    }
    spec = template_spec(title, organisation, int(year), notes)
    for section in spec.walk():  # the outline editor's rules: controls out, notes within bounds
        section.notes = clean_notes(section.notes, section.id)
    return ws.create_report(spec, [])


# --- outline ---------------------------------------------------------------------------


@dataclass
class OutlineRow:
    """One section as the 提纲 page lists it."""

    section: SectionSpec
    depth: int  # 0 top level
    heading: str  # "（二）新闻宣传", "导语", "（一）（标题待拟）"
    frame: bool  # 导语 / 结束语: no title, no sub-sections
    first: bool  # first among its siblings (no 上移)
    last: bool  # last among its siblings (no 下移)


def outline_rows(spec: ReportSpec) -> list[OutlineRow]:
    """The outline in document order, each section with its number and place."""
    out: list[OutlineRow] = []

    def visit(items: list[SectionSpec], depth: int) -> None:
        for k, sec in enumerate(items):
            frame = depth == 0 and sec.part in ("intro", "closing")
            heading = PART_NAMES[sec.part] if frame else spec.label(sec.id) + (sec.title or "（标题待拟）")
            out.append(OutlineRow(sec, depth, heading, frame, k == 0, k == len(items) - 1))
            visit(sec.children, depth + 1)

    visit(spec.sections, 0)
    return out


def notes_figure_rows(ws, report_id: str, section_id: str) -> list[MaterialRow]:
    """Numbers a section's notes state that the report's figures do not hold yet, as candidate
    figure rows (the materials extraction: item from the clause, value, unit, the sentence).
    Without a figure the drafter writes such a number as 【待补充】, so the page offers them."""
    notes = ws.section_spec(report_id, section_id).notes
    if not notes.strip():
        return []
    # A figure of the same value and unit class (11场 and 11次 are both counts) already holds it.
    held = {(f.base_value, unit_class(f.base_unit)) for f in ws.figures(report_id)}
    rows = extract_text(notes, source=f"章节 {section_id} 要点", year=ws.spec_year(report_id)).rows
    out = []
    for r in rows:
        value, unit = split_scale(r.value, r.unit)
        if (value, unit_class(unit)) not in held:
            out.append(r)
    return out


def notes_numbers_missing(ws, report_id: str) -> dict[str, list[MaterialRow]]:
    """Per section (outline order), the numbers its notes state that the figures lack."""
    out = {}
    for section in ws.spec(report_id).walk():
        rows = notes_figure_rows(ws, report_id, section.id)
        if rows:
            out[section.id] = rows
    return out


def add_notes_figures(ws, report_id: str, section_id: str, rows: Sequence[MaterialRow]) -> list[Figure]:
    """Add the ticked rows to the report's figures (an item already there gets the new value),
    the new ones assigned to the section and listed among its figures (the 提纲 page shows
    them); returns the figures added or changed."""
    if not rows:
        raise InputError("请先勾选要加入数据的数字。", field="数据")
    before = {f.id: f for f in ws.figures(report_id)}
    ticked = [r.model_copy(update={"conflict": None}) for r in rows]  # a person chose each one
    merged = accept_rows(list(before.values()), ticked)
    merged = [f.model_copy(update={"section": section_id}) if f.id not in before else f for f in merged]
    ws.update_figures(report_id, merged)
    changed = [f for f in merged if f.id not in before or before[f.id] != f]
    listed = ws.section_spec(report_id, section_id).figures
    ws.set_section_figures(report_id, section_id, [*listed, *(f.id for f in changed if f.id not in listed)])
    return changed


# --- drafting --------------------------------------------------------------------------


def _kb(kb_provider: Callable[[], object] | None):
    # The provider (assistant.ui.state.drafting_knowledge_base) already answers None for an
    # empty or broken index; it is called only when an action needs passages.
    return kb_provider() if kb_provider is not None else None


def draft_all(
    ws,
    report_id: str,
    settings: Settings,
    model,
    kb_provider=None,
    on_section: Callable[[SectionDraft], None] | None = None,
    *,
    include: Collection[str] | None = None,
) -> ReportDraft:
    """Draft every section and save it as the current draft, as one undoable action.

    Without ``include`` (the first draft) locked sections keep their text. With it (a redraft
    the user confirmed) only those sections are saved, the locked ones among them unlocked."""
    spec = ws.spec(report_id)
    # The snapshot read before drafting is the one the versions rest on (staleness).
    snapshot_id, figures = ws.figures_snapshot(report_id)
    ctx = DraftContext.create(spec, figures, _kb(kb_provider), settings)
    report = draft_report(ctx, make_engine(model), on_section=on_section)
    # A first draft replaces nothing: only a confirmed redraft is recorded as an undoable action.
    batch = "draft_all" if include is not None else None
    ws.save_draft(report_id, report, settings=settings, snapshot_id=snapshot_id, include=include, batch=batch)
    return report


def default_include(plan: Sequence) -> tuple[str, ...]:
    """The sections a whole-report action redrafts unless the user ticks more: all but the
    locked and the hand-edited ones."""
    return tuple(item.section_id for item in plan if item.included_by_default)


def regenerate_section(
    ws,
    report_id: str,
    section_id: str,
    settings: Settings,
    model,
    kb_provider=None,
    *,
    instruction: str | None = None,
    on_delta: Callable[[str], None] | None = None,
    batch_id: int | None = None,
) -> SectionDraft:
    """Redraft one section and save it as a new version (Workspace.regenerate); other sections
    are untouched. Returns the new draft. Raises ModelError when the model failed and Unchanged
    when the text is the current one: in both cases nothing is saved."""
    if section_id in ws.locked(report_id):
        # The store's own refusal names the CLI command (huibao unlock); the page has a button.
        raise StoreError(f"章节 {section_id} 已锁定，解锁后才能重新起草。")
    kb = _kb(kb_provider)
    engine = make_engine(model)
    drafted: list[SectionDraft] = []

    def drafter(section: SectionSpec, spec: ReportSpec, figures: list[Figure]) -> SectionDraft:
        request = SectionRequest(section, instruction=instruction or None, on_delta=on_delta)
        drafted.append(draft_section(DraftContext.create(spec, figures, kb, settings), request, engine))
        return drafted[-1]

    ws.regenerate(report_id, section_id, drafter, instruction=instruction or None, settings=settings, batch_id=batch_id)
    return drafted[-1]


def save_hand_edit(ws, report_id: str, section_id: str, text: str, base_version: int | None = None) -> int:
    """Save a hand edit made on ``base_version``; VersionConflict when another was saved since."""
    if not text.strip():
        raise InputError("正文不能为空。", field="正文")
    return ws.edit(report_id, section_id, text, base_version=base_version)


def undo_message(result) -> tuple[str, str | None]:
    """(success text, warning text or None) for an UndoResult."""
    done = "、".join(result.reverted)
    ok = f"已撤销：章节 {done} 恢复到操作前的正文（各保存为新版本）。" if done else "没有章节需要撤销。"
    skipped = "；".join(f"{sid}：{why}" for sid, why in result.skipped.items())
    return ok, (f"未撤销的章节：{skipped}。" if skipped else None)


# --- figures ---------------------------------------------------------------------------

FIGURE_COLUMNS = COLUMNS + OPTIONAL_COLUMNS  # the page's table shows every column


def figure_rows(figures: Sequence) -> list[dict]:
    """One row per figure, in FIGURE_COLUMNS; 别名 as one cell joined with 、 (what a person
    types back, and what parse_figure_rows splits)."""
    rows = []
    for f in figures:
        row = {c: getattr(f, c) for c in FIGURE_COLUMNS}
        row["aliases"] = "、".join(f.aliases)
        rows.append(row)
    return rows


def _cell(value):
    """A table cell as parse_figure_rows expects it: None for empty/NaN, else the value."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from an empty pandas cell
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def figures_from_table(rows: Sequence[dict], source: str = "数据表") -> list[Figure]:
    """Rows edited in the page (pandas records) -> validated figures; InputError names row/field."""
    clean = [{k: _cell(v) for k, v in row.items()} for row in rows]
    return parse_figure_rows(clean, source)


def table_lines(rows: Sequence[dict]) -> list[int]:
    """The row number (as figures_from_table numbers them) of each figure it returns: blank
    rows give no figure but keep their number."""
    return [i for i, row in enumerate(rows, start=1) if any(_cell(v) is not None for v in row.values())]


SECTIONS_LISTED = 20  # section ids named in the refusal of an unknown 章节; the rest are counted


def check_figure_sections(
    figures: Sequence[Figure],
    spec: ReportSpec,
    before: Sequence[Figure] = (),
    *,
    source: str | None = None,
    lines: Sequence[int] | None = None,
) -> None:
    """InputError when a figure's 章节 names no section of the outline, like an unknown 所属.
    A figure that keeps the 章节 it already had (its section since removed from the outline)
    passes: an edit of another row must not be refused for it. ``lines``: each figure's row
    (the table's); without it the figure is named by its item."""
    known = [s.id for s in spec.walk()]
    kept = {(f.id, f.section) for f in before}
    use_lines = lines is not None and len(lines) == len(figures)
    for k, fig in enumerate(figures):
        if fig.section is None or fig.section in known or (fig.id, fig.section) in kept:
            continue
        listed = "、".join(known[:SECTIONS_LISTED]) + (f" 等 {len(known)} 个" if len(known) > SECTIONS_LISTED else "")
        whose = "" if use_lines else f"数据“{fig.item}”（编号 {fig.id}）的"
        raise InputError(
            f"{whose}章节“{fig.section}”不存在（现有：{listed or '无'}）。请填提纲中的章节编号，或留空。",
            file=source,
            line=lines[k] if use_lines and lines is not None else None,
            field="章节",
        )


def _temp_path(folder: Path, suffix: str) -> Path:
    # Unique per call: two browser sessions may export at the same moment.
    fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)


def figures_file_bytes(figures: list, suffix: str, settings: Settings) -> bytes:
    """The figures as a .csv or .xlsx file's bytes (write_figures writes to a path)."""
    folder = settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    path = _temp_path(folder, suffix)
    write_figures(figures, path)
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def figures_from_upload(name: str, data: bytes, settings: Settings) -> list[Figure]:
    """Figures from an uploaded .csv/.xlsx/.yaml file (load_figures reads a path)."""
    safe = safe_upload_name(name)
    suffix = Path(safe).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".yaml", ".yml"):
        raise InputError("数据文件只能是 .csv、.xlsx 或 .yaml。", file=safe)
    if len(data) > settings.max_upload_bytes:  # load_figures applies the figures file limit itself
        raise InputError(f"文件过大，不能超过 {size_zh(settings.max_upload_bytes)}。", file=safe)
    folder = settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    path = _temp_path(folder, suffix)
    path.write_bytes(data)
    try:
        figures = load_figures(path)
    except InputError as err:
        # Name the file the user chose, not the temporary copy.
        raise InputError(str(err).replace(str(path), safe)) from None
    finally:
        path.unlink(missing_ok=True)
    return figures


def update_figures(ws, report_id: str, figures: list) -> list[str]:
    """Save new figures; returns the sections that used a changed figure (now stale)."""
    ws.update_figures(report_id, figures)
    return list(ws.stale_sections(report_id))


def set_one_figure(ws, report_id: str, ref: str, value: float, unit: str | None) -> tuple[Figure, list[str]]:
    """Change one figure found by id or item name; returns (the figure, stale sections)."""
    figures = list(ws.figures(report_id))
    target = find_figure(figures, ref)
    if target is None:
        raise InputError(f"没有找到数据“{ref}”。请写数据编号（如 F03）或项目名称。", field="项目")
    # A copy, so that 别名, 上年 and 所属 stay; base_value is derived again from value and unit.
    changed = Figure.model_validate({**target.model_dump(), "value": value, "unit": unit or target.unit})
    figures = [changed if f.id == target.id else f for f in figures]
    return changed, update_figures(ws, report_id, figures)


def find_figure(figures: Sequence, ref: str):
    ref = unicodedata.normalize("NFKC", ref).strip()
    for f in figures:
        if f.id.lower() == ref.lower() or f.item == ref:
            return f
    candidates = [f for f in figures if ref in f.item]
    return candidates[0] if len(candidates) == 1 else None


# --- knowledge base uploads --------------------------------------------------------------


def safe_upload_name(name: str) -> str:
    """A file name that cannot leave the upload folder: no separators, no '..', no control chars."""
    name = unicodedata.normalize("NFKC", name)
    name = name.replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name).strip().lstrip(".")
    name = name.replace("..", "_")
    if not name or not Path(name).stem:
        raise InputError("文件名无效。", file=name or "(空)")
    if len(name) > MAX_UPLOAD_NAME:
        # the stem is cut, not the extension: the extension decides how the file is read
        suffix = Path(name).suffix
        suffix = suffix if len(suffix) < MAX_UPLOAD_NAME // 2 else ""
        name = name[: MAX_UPLOAD_NAME - len(suffix)].rstrip() + suffix
    return name


def check_upload(name: str, data: bytes, settings: Settings) -> str:
    """The name an upload is stored under; InputError naming the file when it cannot be taken
    (over settings.max_upload_bytes, a .docx by its unpacked size)."""
    safe = safe_upload_name(name)
    if Path(safe).suffix.lower() not in UPLOAD_TYPES:
        raise InputError("不支持的文件类型，只能上传 .txt、.md、.docx、.pdf 文件。", file=safe)
    reason = too_large(safe, settings.max_upload_bytes, data)
    if reason:
        limit = size_zh(settings.max_upload_bytes)
        raise InputError(f"{reason}，网页上传的单个文件不能超过 {limit}。", file=safe)
    if not data:
        raise InputError("文件是空的。", file=safe)
    return safe


def _upload_text(name: str, data: bytes) -> str | None:
    """The text an upload would be indexed with, whitespace-insensitive; None when it cannot be read."""
    try:
        text = read_document(Path(name), data=data).text
    except SkipFile:
        return None  # ingest reports why, with the file named
    return re.sub(r"\s+", "", text)


def _unique_name(name: str, taken: set[str]) -> str:
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while name in taken:
        tail = f"（{n}）{suffix}"
        name = stem[: MAX_UPLOAD_NAME - len(tail)] + tail
        n += 1
    return name


def save_uploads(files: Sequence[tuple[str, bytes]], settings: Settings, kb=None, *, ws=None) -> list[Path]:
    """Check every file first, then write them; a bad file means none is written.

    With ``ws`` (the page's workspace, acting for its person) only someone who manages the
    knowledge base may upload (admins, while accounts are on), and the upload is recorded.

    An upload whose text is already stored (any document of the knowledge base `kb`, a file in
    the upload folder, or one earlier in this batch) is refused, naming that document; a
    different file under a name in use gets a unique name, so it never overwrites another upload
    and its indexed passages.
    """
    if ws is not None:
        ws.authorize("kb")
    checked = [(check_upload(name, data, settings), data) for name, data in files]
    for name, data in checked if kb is not None else []:
        source = same_document(kb, name, data)
        if source is not None:
            raise InputError(f"与知识库中已有的文档“{source}”内容相同，无需重复上传。", file=name)
    folder = settings.data_dir / "uploads"
    stored: dict[str, str] = {}  # text -> stored name
    taken: set[str] = set()
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            taken.add(path.name)
            if path.is_file() and path.suffix.lower() in UPLOAD_TYPES:
                text = _upload_text(path.name, path.read_bytes())
                if text:
                    stored.setdefault(text, path.name)
    planned = []
    for name, data in checked:
        text = _upload_text(name, data)
        if text and text in stored:
            raise InputError(f"与已导入的文档“{stored[text]}”内容相同，无需重复上传。", file=name)
        name = _unique_name(name, taken)
        taken.add(name)
        if text:
            stored[text] = name
        planned.append((name, data))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in planned:
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    if ws is not None:
        ws.record("kb_upload", detail="、".join(name for name, _ in planned))
    return paths


def delete_document(kb, source: str, settings: Settings, *, ws=None) -> None:
    """Remove a document from the index; an uploaded file goes too, so that the next import of
    the upload folder does not bring it back. Files in the bundled knowledge folder stay: that
    folder is the office's own source of truth. With ``ws``: admins only (accounts on), recorded."""
    if ws is not None:
        ws.authorize("kb")
    remove_documents(kb, [source], settings)
    if ws is not None:
        ws.record("kb_delete", detail=source)


def uploaded_copy(source: str, settings: Settings) -> Path | None:
    """The stored copy of an uploaded document that deleting it removes too (as
    kb.metadata.remove_documents finds it), or None for a file kept elsewhere."""
    uploads = (settings.data_dir / "uploads").resolve()
    name = source.removeprefix("uploads/")
    if "/" in name:
        return None
    path = (uploads / name).resolve()
    return path if path.parent == uploads and path.is_file() else None


def upload_guess(name: str, data: bytes) -> DocumentMeta:
    """类别 / 年度 / 单位 an upload would be filed under (its front matter, else the guess from
    its name and first lines), for the person to correct before importing."""
    try:
        doc = read_document(Path(safe_upload_name(name)), data=data)
    except (SkipFile, InputError):
        return guess_metadata(name)  # unreadable: the import says why; the name may still tell
    return DocumentMeta(kind=parse_kind(doc.kind), year=doc.year, organisation=doc.organisation)


def upload_meta(name: str, kind: object, year: object, organisation: object) -> DocumentMeta:
    """What the person confirmed for one upload; InputError naming the file and the field."""
    return document_meta(kind=kind, year=year, organisation=organisation, file=name)


def import_uploads(
    files: Sequence[tuple[str, bytes, DocumentMeta]], settings: Settings, kb, *, ws=None
) -> tuple[list[Path], dict[Path, DocumentMeta]]:
    """Store the uploads (save_uploads; with ``ws`` admins only while accounts are on, recorded)
    and pair each stored file with its metadata, for ingest(meta=)."""
    paths = save_uploads([(name, data) for name, data, _ in files], settings, kb, ws=ws)
    return paths, {path.resolve(): meta for path, (_, _, meta) in zip(paths, files)}


def retag_document(kb, source: str, kind: object, year: object, organisation: object, *, ws=None) -> bool:
    """Set a stored document's 类别 / 年度 / 单位 as typed (an empty 单位 clears it), without
    re-embedding; False when nothing changed. With ``ws``: admins only (accounts on), recorded."""
    if ws is not None:
        ws.authorize("kb")
    meta = document_meta(kind=kind, year=year, organisation=organisation, file=source)
    changed = retag(kb, source, meta, clear_organisation=meta.organisation is None)
    if changed and ws is not None:
        ws.record("kb_retag", detail=f"{source}：{meta.kind or ''} {meta.year or ''} {meta.organisation or ''}".strip())
    return changed


def remove_confirmed(kb, sources: Sequence[str], settings: Settings, *, ws=None) -> int:
    """Remove the documents the person confirmed (those still stored); how many went. With
    ``ws``: admins only (accounts on), recorded."""
    if ws is not None:
        ws.authorize("kb")
    present = {d.source for d in kb.documents()}
    doomed = [s for s in sources if s in present]
    if doomed:
        remove_documents(kb, doomed, settings)
        if ws is not None:
            ws.record("kb_delete", detail="、".join(doomed))
    return len(doomed)


# --- chat --------------------------------------------------------------------------------


class ReportActions:
    """assistant.workspace.chat.ChatActions over one open report."""

    def __init__(
        self,
        ws,
        report_id: str,
        settings: Settings,
        model,
        kb_provider=None,
        on_delta: Callable[[str], None] | None = None,
        undo_stack: list[dict] | None = None,
    ) -> None:
        self.ws, self.report_id, self.settings, self.model = ws, report_id, settings, model
        self.kb_provider, self.on_delta = kb_provider, on_delta
        # changes made from the chat, newest last (the page keeps it per report for the session)
        self.undo_stack = undo_stack if undo_stack is not None else []

    def resolve_section(self, ref: str) -> str | None:
        ref = unicodedata.normalize("NFKC", ref).strip().strip("“”\"'")
        spec = self.ws.spec(self.report_id)
        sections = spec.walk()
        for s in sections:
            if s.id == ref:
                return s.id
        titles = {s.id: (s.title or "") for s in sections}
        current = self.ws.current(self.report_id)
        for d in current.sections if current else []:
            titles[d.section_id] = titles.get(d.section_id) or d.title
        hits = [sid for sid, title in titles.items() if ref and ref in title]
        return hits[0] if len(hits) == 1 else None

    def regenerate(self, section_id: str, instruction: str | None) -> ActionResult:
        before = self._current_version(section_id)
        try:
            draft = regenerate_section(
                self.ws,
                self.report_id,
                section_id,
                self.settings,
                self.model,
                self.kb_provider,
                instruction=instruction,
                on_delta=self.on_delta,
            )
        except Unchanged as same:  # not a failure: nothing new to save
            return ActionResult(str(same))
        how = f"（要求：{instruction}）" if instruction else ""
        undo = {"kind": "section", "section_id": section_id, "version": before}
        self.undo_stack.append(undo)
        return ActionResult(
            f"已重新起草 {section_id}「{draft.title}」{how}，并保存为新版本。可发送“撤销”恢复原来的版本。",
            changed=True,
            sections=[section_id],
            undo=undo,
        )

    def _current_version(self, section_id: str) -> int:
        return next(h.version for h in self.ws.history(self.report_id, section_id) if h.is_current)

    def set_figure(self, figure: str, value: float, unit: str | None) -> ActionResult:
        old = find_figure(list(self.ws.figures(self.report_id)), figure)
        changed, stale = set_one_figure(self.ws, self.report_id, figure, value, unit)
        was = f"由 {figure_text(old)} " if old is not None else ""
        msg = f"已将数据「{changed.item}」{was}改为 {format_value(value)}{changed.unit}。"
        msg += (
            f"用到它的章节 {'、'.join(stale)} 已标为待更新，可发送“重写 {stale[0]}”重新起草。"
            if stale
            else "没有章节用到这项数据。"
        )
        undo = None
        if old is not None:
            undo = {"kind": "figure", "figure_id": old.id, "value": old.value, "unit": old.unit}
            self.undo_stack.append(undo)
        return ActionResult(msg + "可发送“撤销”改回原值。", changed=True, sections=stale, undo=undo)

    def undo(self) -> ActionResult:
        """Take back the newest change made from the chat, as new versions: a figure gets its old
        value again, a section its old text (history keeps both)."""
        if not self.undo_stack:
            return ActionResult("没有可撤销的修改（只能撤销本次对话中做的修改）。")
        last = self.undo_stack.pop()
        if last["kind"] == "figure":
            changed, stale = set_one_figure(self.ws, self.report_id, last["figure_id"], last["value"], last["unit"])
            where = f"用到它的章节 {'、'.join(stale)} 仍标为待更新。" if stale else ""
            return ActionResult(
                f"已撤销：数据「{changed.item}」恢复为 {figure_text(changed)}。{where}", changed=True, sections=stale
            )
        section_id, version = last["section_id"], last["version"]
        new = self.ws.revert(self.report_id, section_id, version)
        return ActionResult(
            f"已撤销：章节 {section_id} 恢复为第 {version} 版的内容（保存为第 {new} 版，历史保留）。",
            changed=True,
            sections=[section_id],
        )

    def search(self, query: str, k: int = 3):
        kb = _kb(self.kb_provider)
        return kb.search(query, k=k) if kb is not None else []

    def explain(self, section_id: str) -> ActionResult:
        """The section's text checked against today's figures (not the check saved when it was
        drafted), and whether it is stale."""
        current = self.ws.current(self.report_id)
        draft = next((d for d in (current.sections if current else []) if d.section_id == section_id), None)
        if draft is None:
            return ActionResult(f"章节 {section_id} 还没有起草，没有核对结果。")
        figures = self.ws.figures(self.report_id)
        notes = self.ws.section_spec(self.report_id, section_id).notes
        check = section_checker(self.ws.spec_year(self.report_id), notes)(draft.text, figures)
        stale = next((s for s in self.ws.stale_report(self.report_id) if s.section_id == section_id), None)
        head = ""
        if stale is not None:
            head = (
                f"注意：这一节用到的数据已修改（{'；'.join(stale.reasons)}），正文还是按原来的数据写的，"
                f"可发送“重写 {section_id}”按新数据重新起草。\n\n"
            )
        return ActionResult(head + explain_check(draft.text, check, figures))


def chat_turn(
    ws,
    report_id: str,
    prompt: str,
    model,
    doer: ReportActions,
    *,
    on_delta: Callable[[str], None] | None = None,
) -> chat.ChatReply:
    """One chat turn: the user's words saved, then answered. Without a model the fixed command
    grammar; with one the model calls tools, except that a command the user typed (撤销, 数据 …,
    重写 1.2) runs at once. ``on_delta`` gets the model's words and a regeneration's text as they
    are written (the page streams them). Not a drafting choice: the actions draft with
    make_engine(model)."""
    history = ws.chat_history(report_id)
    ws.add_chat(report_id, "user", prompt)
    doer.on_delta = on_delta
    typed = chat.typed_command(prompt)
    if typed is not None and typed.kind == "help":
        return chat.ChatReply(chat.help_text(model is not None))
    if model is None or typed is not None:
        return chat.offline_reply(prompt, doer)
    outline = chat.outline_for_prompt([(s.section_id, s.title) for s in ws.sections(report_id)])
    return chat.model_reply(
        model, prompt, doer, outline=outline, history=[(e.role, e.text) for e in history], on_delta=on_delta
    )


def apply_proposal(
    proposal: chat.Proposal, doer: ReportActions, *, on_delta: Callable[[str], None] | None = None
) -> ActionResult:
    """Run a change the model proposed and the user confirmed; a regeneration's text goes to
    ``on_delta`` as it is written."""
    doer.on_delta = on_delta
    return chat.apply_proposal(proposal, doer)


def explain_check(text: str, check, figures: Sequence) -> str:
    by_id = {f.id: f for f in figures}
    lines = []
    for m in check.numbers:
        if m.status == "grounded" and m.derivation is not None:
            d = m.derivation
            named = "、".join(f"「{by_id[i].item}」" if i in by_id else i for i in d.figure_ids)
            lines.append(f"- “{m.text}”有据：由数据{named}算出，{d.formula}。")
        elif m.status == "grounded":
            f = by_id.get(m.figure_id or "")
            lines.append(
                f"- “{m.text}”有据：" + (f"对应数据「{f.item}」{figure_text(f)}" if f else "与数据相符") + "。"
            )
        elif m.status == "invented":
            why = m.message or "提供的数据里没有这个数字，请核实，或改为【待补充】"
            lines.append(f"- “{m.text}”无依据：{why.rstrip('。')}。")
        elif m.status == "misattributed":
            why = m.message or "这是另一事项的数据"
            lines.append(f"- “{m.text}”错配：{why.rstrip('。')}，请改为句中事项的数据。")
        elif m.status == "unverified":
            lines.append(f"- “{m.text}”待核实：修正后仍未能在数据中核实，请核对后改为数据中的数字。")
        else:
            lines.append(f"- “{m.text}”是待补充的占位，请填入实际数据。")
    for f in check.style:
        label = "文风错误" if f.severity == "error" else "文风提示"
        quoted = text[f.start : f.end] if 0 <= f.start < f.end <= len(text) else ""
        line = f"- {label}" + (f"“{quoted}”" if quoted else "") + f"：{f.message}"
        if f.suggestion:
            line += f"（建议：{f.suggestion}）"
        lines.append(line)
    return "核对结果：\n" + "\n".join(lines) if lines else "这一节的数字都有依据，文风检查也未发现问题。"


# --- export ------------------------------------------------------------------------------


def import_preview(ws, report_id: str, name: str, data: bytes):
    """What importing a marked-up Word file would do (assistant.markup, which checks its size),
    nothing saved."""
    return prepare_import(ws, report_id, data, safe_upload_name(name))


def import_save(ws, plan, *, uploader: str, snapshot_id: int | None) -> list[tuple[str, int]]:
    return save_import(ws, plan, uploader=uploader, snapshot_id=snapshot_id)


def export_bytes(report, suffix: str, settings: Settings) -> bytes:
    """The report as .docx or .md bytes. Markdown is text already; the .docx goes through the
    export stage, which writes to a path."""
    if suffix == ".md":
        return markdown_text(report).encode("utf-8")
    folder = settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    path = _temp_path(folder, suffix)
    try:
        return export_docx(report, path).read_bytes()
    finally:
        path.unlink(missing_ok=True)


def propose_section_notes(ws, report_id: str, rows: list[MaterialRow], model=None) -> NotesProposal:
    """For each section of the report, the material sentences that match it (title, notes and
    its figures' items, as retrieval builds its query), offline or picked by the model."""
    spec = ws.spec(report_id)
    figures = ws.figures(report_id)
    sections = [s for s in spec.walk() if s.is_leaf]
    queries = {s.id: retrieval_query(s, spec, figures, s.title) for s in sections}
    existing = {s.id: s.notes for s in sections}
    return propose_notes(queries, material_sentences(rows), existing=existing, model=model)
