"""A document's 类别 / 年度 / 单位: validated from what a person types, guessed from a file's name
and first lines, and the 素材库 listing (filter, page, bulk removal) over document metadata.

Every chunk carries its document's kind, year and organisation (chunk metadata, see
ingest.chunk_metadata); drafting's offline engine retrieves kind="report" passages of the
spec's organisation first, so a past report only counts as 往年汇报 when it is tagged so.

Precedence when a document is read: what the person gave (upload form, `huibao ingest --kind`)
over the file's front matter, over its folder (past-reports/, policies/, other/), over the
guess from the title and file name (the 文种 at the end of a 公文 title, gongwen.title_genre).

The listing works on KnowledgeBase.documents() (metadata only, never chunk texts), and changes
go through KnowledgeBase.retag_document / delete_documents, so an index derived from the
collection sees them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from assistant.core.errors import InputError
from assistant.core.settings import Settings
from assistant.gongwen import title_genre
from assistant.kb.retrieve import DocumentInfo, Kind

if TYPE_CHECKING:
    from assistant.kb.retrieve import KnowledgeBase

KINDS: tuple[Kind, ...] = get_args(Kind)
KIND_ZH: dict[Kind, str] = {"report": "往年汇报", "policy": "政策文件", "other": "其他"}
# the words a person (or a front matter written by hand) may use for a kind
_KIND_WORDS: dict[str, Kind] = {
    **{k: k for k in KINDS},
    **{v: k for k, v in KIND_ZH.items()},
    "汇报": "report",
    "往年": "report",
    "政策": "policy",
    "其它": "other",
}
KIND_FOLDERS: dict[str, Kind] = {"past-reports": "report", "policies": "policy", "other": "other"}
MIN_YEAR = 1949
MAX_ORGANISATION = 60
NO_FOLDER = ""  # documents ingested one by one (uploads) sit in no folder

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_YEAR_WORD = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")
# An organisation is what a 公文 title names before its year or its 关于 ("某市人大办2024年度…",
# "禾川市司法局关于2024年度…的报告"), or after a leading year ("2024年禾川市民政局工作总结"); either
# way it ends with an organ's word (局, 办公室, 人大常委会 … or a place: 市, 县), so that the name
# of a rule ("…工作规范（2025年修订）") is not taken for one.
_ORGANS = (
    "办公室|委员会|常委会|人民政府|政府|人民法院|法院|人民检察院|检察院|办事处|党组|党委|中心|局|厅|委|办|部|院|会|署"
)
_PLACES = "市|县|区|州|省|镇|乡|街道"
_ORG_BEFORE = re.compile(
    rf"^([\u4e00-\u9fff]{{1,40}}?(?:{_ORGANS}|{_PLACES}|处|科|室|所|站|队|支部))(?:(?:19|20)\d\d\s*年|关于)"
)
_LEADING_YEAR = re.compile(r"^(?:19|20)\d\d\s*年度?\s*([\u4e00-\u9fff]{3,40})")
_ENDS_ORGAN = re.compile(rf"(?:{_ORGANS})$")
_ENDS_PLACE = re.compile(rf"(?:{_PLACES})$")
_IN_PLACE = re.compile(rf"{_PLACES}|村")
_FIRST_LINES = 5  # the year and organisation are read from the title and these first lines


@dataclass(frozen=True)
class DocumentMeta:
    """类别 / 年度 / 单位 of one document; None: not given (inferred, or left as stored)."""

    kind: Kind | None = None
    year: int | None = None
    organisation: str | None = None

    def over(self, other: DocumentMeta) -> DocumentMeta:
        """These values where given, `other`'s elsewhere."""
        return DocumentMeta(
            kind=self.kind or other.kind,
            year=self.year if self.year is not None else other.year,
            organisation=self.organisation or other.organisation,
        )

    @property
    def empty(self) -> bool:
        return self.kind is None and self.year is None and not self.organisation


# ---------------------------------------------------------------- what a person types


def parse_kind(value: object, *, field: str = "类别", file: str | None = None) -> Kind | None:
    """report / policy / other, or the Chinese names (往年汇报、政策文件、其他); None when empty."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    kind = _KIND_WORDS.get(text.lower())
    if kind is None:
        raise InputError(
            f"未知的类别“{text}”，应为 往年汇报（report）、政策文件（policy）或 其他（other）。", field=field, file=file
        )
    return kind


def max_year() -> int:
    # next year's plan (工作要点) is written this year
    return dt.date.today().year + 1


def parse_year(value: object, *, field: str = "年度", file: str | None = None) -> int | None:
    """A year such as 2024, "2024", "2024年" or "2024年度"; None when empty."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().removesuffix("度").removesuffix("年").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,6}", text):
        raise InputError(f"“{value}”不是年份，请填写四位数字，如 2024。", field=field, file=file)
    year = int(text)
    if not MIN_YEAR <= year <= max_year():
        raise InputError(f"年份 {year} 超出范围，应在 {MIN_YEAR} 至 {max_year()} 之间。", field=field, file=file)
    return year


def parse_organisation(value: object, *, field: str = "单位", file: str | None = None) -> str | None:
    """The organisation's name, spaces trimmed; None when empty."""
    text = re.sub(r"\s+", "", str(value)) if value is not None else ""
    if not text:
        return None
    if len(text) > MAX_ORGANISATION:
        raise InputError(f"单位名称过长（{len(text)} 字），不能超过 {MAX_ORGANISATION} 字。", field=field, file=file)
    if re.search(r"[\x00-\x1f]", text):
        raise InputError("单位名称含有控制字符。", field=field, file=file)
    return text


def document_meta(
    *,
    kind: object = None,
    year: object = None,
    organisation: object = None,
    fields: tuple[str, str, str] | None = None,
    file: str | None = None,
) -> DocumentMeta:
    """A DocumentMeta from what a person typed; InputError naming the field (and `file`) when a
    value is wrong. `fields`: the names the person knows the three by (command options),
    default 类别/年度/单位."""
    names = fields or ("类别", "年度", "单位")
    return DocumentMeta(
        kind=parse_kind(kind, field=names[0], file=file),
        year=parse_year(year, field=names[1], file=file),
        organisation=parse_organisation(organisation, field=names[2], file=file),
    )


# ---------------------------------------------------------------- guessing


def _front_matter(front: Mapping[str, Any]) -> DocumentMeta:
    """What a file's own front matter says; a value that cannot be read is ignored (then guessed)."""

    def first(*keys: str) -> object:
        return next((front[k] for k in keys if front.get(k) not in (None, "")), None)

    def lenient(parse: Any, value: object) -> Any:
        try:
            return parse(value)
        except InputError:
            return None

    return DocumentMeta(
        kind=lenient(parse_kind, first("kind", "类别")),
        year=lenient(parse_year, first("year", "年度")),
        organisation=lenient(parse_organisation, first("organisation", "organization", "org", "单位")),
    )


def _folder_kind(source: str) -> Kind | None:
    return next((KIND_FOLDERS[p] for p in Path(source).parts[:-1] if p in KIND_FOLDERS), None)


def _year_of(*texts: str) -> int | None:
    for text in texts:
        m = _YEAR_WORD.search(text) or _YEAR.search(text)
        if m and MIN_YEAR <= int(m.group(1)) <= max_year():
            return int(m.group(1))
    return None


def _organisation_of(title: str) -> str | None:
    title = re.sub(r"\s+", "", title)
    m = _ORG_BEFORE.match(title)
    if m and not m.group(1).startswith("关于"):
        return m.group(1)
    m = _LEADING_YEAR.match(title)
    if m:
        # the longest run ending with an organ's word ("禾川市民政局", not "禾川市"), else a place's
        words = m.group(1)
        for ends in (_ENDS_ORGAN, _ENDS_PLACE):
            for n in range(len(words) - 1, 1, -1):  # something (the 事由) follows the organisation
                # a place in it too: "2024年工作部署" names no organisation
                if ends.search(words[:n]) and (_IN_PLACE.search(words[:n]) or words.startswith("中共")):
                    return words[:n]
    return None


def first_lines(text: str, n: int = _FIRST_LINES) -> list[str]:
    return [s for s in (line.strip().lstrip("#").strip() for line in text.split("\n")) if s][:n]


def guess_metadata(name: str, text: str = "", *, title: str | None = None) -> DocumentMeta:
    """类别 / 年度 / 单位 guessed from a file name and its first lines (kind is never None:
    "other" when nothing says otherwise).

    Kind: the 文种 ending the title, else the file name's (…工作汇报 → report, …办法 → policy).
    Year: the file name's, else the title's, else the first lines' (a 年度汇报 opens "2024年，…").
    Organisation: before the year or 关于 in the title (or the file name), or after a leading year.
    """
    stem = Path(name).stem
    lines = first_lines(text)
    title = (title or (lines[0] if lines else "")).strip()
    kind = title_genre(title) or title_genre(stem) or "other"
    year = _year_of(stem, title, *lines[1:])
    organisation = _organisation_of(title) or _organisation_of(stem)
    return DocumentMeta(kind=kind, year=year, organisation=organisation)


def infer_metadata(
    source: str,
    text: str,
    *,
    title: str | None,
    front: Mapping[str, Any] | None = None,
    given: DocumentMeta | None = None,
) -> DocumentMeta:
    """A document's metadata: `given` over front matter over its folder's kind over the guess."""
    stated = (given or DocumentMeta()).over(_front_matter(front or {}))
    folder = DocumentMeta(kind=_folder_kind(source))
    return stated.over(folder).over(guess_metadata(source, text, title=title))


# ---------------------------------------------------------------- the listing


def folder_of(source: str) -> str:
    """The folder a document was ingested from ("" for one ingested on its own, as uploads are).
    Sources are POSIX paths (ingest writes them so); string operations, not Path: the listing
    runs this for every document on every rerun of the page."""
    return source.rpartition("/")[0]


def folders(docs: Iterable[DocumentInfo]) -> list[str]:
    """Every folder holding documents, parents included (a folder is removed with its subfolders)."""
    out: set[str] = set()
    for here in {folder_of(d.source) for d in docs}:
        while here:
            out.add(here)
            here = folder_of(here)
    return sorted(out)


def in_folder(source: str, folder: str) -> bool:
    here = folder_of(source)
    if folder == NO_FOLDER:
        return here == NO_FOLDER
    return here == folder or here.startswith(folder + "/")


@dataclass(frozen=True)
class DocumentFilter:
    kind: Kind | None = None
    year: int | None = None
    organisation: str | None = None  # contained in the document's organisation
    folder: str | None = None  # the folder and its subfolders; NO_FOLDER: documents in none
    text: str | None = None  # contained in the title or the source

    @property
    def narrows_by_place_or_kind(self) -> bool:
        """Whether it names a folder, a year or a kind: what a bulk removal must name."""
        return self.kind is not None or self.year is not None or self.folder is not None

    def describe(self) -> str:
        parts = []
        if self.folder is not None:
            parts.append(f"目录“{self.folder}”" if self.folder else "不在任何目录中（单独导入、上传）")
        if self.kind is not None:
            parts.append(f"类别“{KIND_ZH[self.kind]}”")
        if self.year is not None:
            parts.append(f"年度 {self.year}")
        if self.organisation:
            parts.append(f"单位含“{self.organisation}”")
        if self.text:
            parts.append(f"标题或文件名含“{self.text}”")
        return "、".join(parts) or "全部"

    def matches(self, doc: DocumentInfo) -> bool:
        if self.kind is not None and doc.kind != self.kind:
            return False
        if self.year is not None and doc.year != self.year:
            return False
        if self.organisation and self.organisation not in (doc.organisation or ""):
            return False
        if self.folder is not None and not in_folder(doc.source, self.folder):
            return False
        return not self.text or self.text in (doc.title or "") or self.text in doc.source


def filter_documents(docs: Iterable[DocumentInfo], flt: DocumentFilter) -> list[DocumentInfo]:
    return [d for d in docs if flt.matches(d)]


@dataclass(frozen=True)
class Page:
    items: list[DocumentInfo]
    number: int  # 1-based, clamped to 1..pages
    pages: int
    total: int


def page_of(docs: list[DocumentInfo], number: int, per_page: int) -> Page:
    per_page = max(1, per_page)
    pages = max(1, -(-len(docs) // per_page))
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    return Page(docs[start : start + per_page], number, pages, len(docs))


def removal_plan(docs: Iterable[DocumentInfo], flt: DocumentFilter) -> list[DocumentInfo]:
    """The documents a bulk removal would take; InputError when the filter names no folder, year
    or kind (removing "everything with 局 in its organisation" by accident is too easy)."""
    if not flt.narrows_by_place_or_kind:
        raise InputError("批量删除须指定目录、年度或类别中的至少一项。")
    return filter_documents(docs, flt)


def remove_documents(kb: KnowledgeBase, sources: list[str], settings: Settings) -> int:
    """Remove documents from the index; an uploaded one loses its stored copy too, so that a
    later import of the upload folder does not bring it back. Files elsewhere (the knowledge
    folder, a folder given to `huibao ingest`) stay: they are the office's own."""
    removed = kb.delete_documents(sources)
    uploads = (settings.data_dir / "uploads").resolve()
    for source in sources:
        # uploads are ingested file by file (source: the bare name), or as a folder (uploads/<name>)
        name = source.removeprefix("uploads/")
        if "/" not in name:
            path = (uploads / name).resolve()
            if path.parent == uploads:
                path.unlink(missing_ok=True)
    return removed


def retag(kb: KnowledgeBase, source: str, meta: DocumentMeta, *, clear_organisation: bool = False) -> bool:
    """Set a stored document's kind / year / organisation (the given ones) without re-embedding
    it; False when nothing changed. InputError when the knowledge base holds no such document."""
    current = kb.document(source)
    if current is None:
        raise InputError(f"知识库中没有文档“{source}”。", field="来源")
    changes: dict[str, object] = {}
    if meta.kind is not None and meta.kind != current.kind:
        changes["kind"] = meta.kind
    if meta.year is not None and meta.year != current.year:
        changes["year"] = meta.year
    if meta.organisation and meta.organisation != current.organisation:
        changes["organisation"] = meta.organisation
    elif clear_organisation and not meta.organisation and current.organisation:
        changes["organisation"] = None
    if changes:
        kb.retag_document(source, changes)
    return bool(changes)
