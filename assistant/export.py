"""Export a report: Markdown, and Word (.docx) laid out after GB/T 9704-2012.

The .docx follows the parts of GB/T 9704-2012 (党政机关公文格式) a work report needs:

* A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm: a 156 × 225 mm type area.
* 22 lines of 28 characters. 225 mm = 637.8 pt, / 22 lines = 28.99 pt per line; the fixed
  line spacing is that rounded down to 28.9 pt so that 22 lines always fit whatever a
  renderer rounds (22 × 28.9 = 635.8 pt). 28 characters of 三号 (16 pt) are 448 pt but the
  line is 442.2 pt, so the pitch must be 442.2 / 28 = 15.79 pt: 16 pt text is condensed by
  0.25 pt (``w:spacing w:val="-5"``, twentieths of a point, rounded down so 28 always fit).
  The usual Word templates get there with a character grid (``w:charSpace="-849"``) instead,
  but LibreOffice then gives each 16 pt character two 15.8 pt grid cells (14 characters a
  line), so the line grid only is used here (``w:docGrid w:type="lines"``), which every
  renderer honours the same way.
* Title 方正小标宋简体 二号 (22 pt) centred; body 仿宋_GB2312 三号 with a two-character
  first-line indent (``w:firstLineChars="200"``, and 32 pt for renderers that ignore it);
  一级标题 (一、) 黑体, 二级标题 (（一）) 楷体_GB2312, 三级标题 (1.) 仿宋_GB2312 bold, all 16 pt.
* Page numbers: 4号 (14 pt) 半角 宋体 Arabic numerals between 一字线 (— 1 —), at the
  outside edge one character in: odd pages right, even pages left (``w:evenAndOddHeaders``
  with a PAGE field in both footers).

Fonts: each run names its East Asian font in ``w:rFonts/@w:eastAsia`` (what Word and WPS
read for Chinese) and Times New Roman for Latin letters and digits. The font table gives
each GB2312-era name an ``w:altName`` (仿宋_GB2312 → 仿宋, 楷体_GB2312 → 楷体, 方正小标宋简体 →
宋体) so a machine without the 方正/GB2312 fonts falls back to the Windows fonts of the same
face instead of to the default font.

Placeholders (【待补充：…】, 【待补充】, 【待核实：…】, XX, ××, ***件, 20*年 …: exactly the spans the checker
counts, check.numbers.placeholder_spans; 【待核实】 as unverified, the others as placeholders) stay in the text, highlighted
yellow, so nobody prints a report with a hole in it unnoticed; `export_notes` says what is left
to settle. The core properties carry the title and the organisation only: no model, no key, no
settings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.check.numbers import placeholder_spans
from assistant.check.result import Summary
from assistant.core.errors import InputError
from assistant.core.segment import get_jieba
from assistant.core.textio import strip_controls
from assistant.gongwen import LABEL, heading_label, strip_label, title_lines

if TYPE_CHECKING:
    from assistant.drafting.draft import ReportDraft

# --- the layout, in one place --------------------------------------------------------------

PAGE_W_MM, PAGE_H_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 37, 35, 28, 26
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
BODY_PT = 16  # 三号
TITLE_PT = 22  # 二号
PAGE_NUMBER_PT = 14  # 4号
_PT_PER_MM = 72 / 25.4
TYPE_AREA_W_PT = (PAGE_W_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM) * _PT_PER_MM  # 442.2
TYPE_AREA_H_PT = (PAGE_H_MM - MARGIN_TOP_MM - MARGIN_BOTTOM_MM) * _PT_PER_MM  # 637.8
LINE_PT = int(TYPE_AREA_H_PT / LINES_PER_PAGE * 10) / 10  # 28.9
LINE_PITCH_TWIPS = int(TYPE_AREA_H_PT / LINES_PER_PAGE * 20)  # 579
CHAR_SPACING = math.floor((TYPE_AREA_W_PT / CHARS_PER_LINE - BODY_PT) * 20)  # -5 (twentieths of a point)
TITLE_CHARS_PER_LINE = int(TYPE_AREA_W_PT // TITLE_PT)  # 20
TITLE_LINE_PT = 35  # a two-line 二号 title needs more than the body's 28.9 pt
# The 一字线 sits 7 mm below the type area: footer text top at 35 − 7 = 28 mm from the page
# bottom; a 14 pt line is about 5 mm high, so the footer's bottom edge is at about 23 mm.
FOOTER_DISTANCE_MM = 23

LATIN_FONT = "Times New Roman"
FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_L1 = "黑体"
FONT_L2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"
# font -> the face Word/WPS substitute when it is missing (w:altName in the font table)
FALLBACKS = {FONT_TITLE: "宋体", FONT_BODY: "仿宋", FONT_L2: "楷体", FONT_L1: "SimHei", FONT_PAGE_NUMBER: "SimSun"}

STYLE_TITLE, STYLE_L1, STYLE_L2, STYLE_L3 = "公文标题", "一级标题", "二级标题", "三级标题"
_HEADING = {1: (STYLE_L1, FONT_L1, False), 2: (STYLE_L2, FONT_L2, False), 3: (STYLE_L3, FONT_BODY, True)}


def export_notes(summaries: Iterable[Summary]) -> list[str]:
    """What a person must settle before printing, from the check summaries of the exported
    sections: the 【待核实】 and 【待补充】/XX marks the export highlights, counted apart, and
    numbers flagged in the text but not marked (a hand edit is checked, never marked)."""
    unverified = placeholders = flagged = 0
    for s in summaries:
        unverified += s.unverified
        placeholders += s.placeholders
        flagged += s.invented + s.misattributed
    marks = []
    if unverified:
        marks.append(f"{unverified} 处待核实的数字（【待核实】）")
    if placeholders:
        marks.append(f"{placeholders} 处待补充的占位（【待补充】、XX 等）")
    lines = [f"稿中还有 {' 和 '.join(marks)}，导出文件中已用黄色标出。"] if marks else []
    if flagged:
        lines.append(f"另有 {flagged} 个数字无依据或与所说事项不符，未加标注，导出前请核实。")
    return lines


def numbered_headings(report: ReportDraft) -> list[str | None]:
    """Each section's heading line (None for intro/closing).

    The draft's own ``label`` (一、 / （一）, from the outline) is used when it has one; a title
    that already starts with a label is kept as is; otherwise the headings are numbered here.
    """
    counters: dict[int, int] = {}
    out: list[str | None] = []
    for sec in report.sections:
        if sec.level <= 0:
            out.append(None)
            continue
        counters[sec.level] = counters.get(sec.level, 0) + 1
        for deeper in [lv for lv in counters if lv > sec.level]:
            del counters[deeper]
        title = sec.title.strip()
        label = getattr(sec, "label", "") or ""
        if not title:  # as SectionDraft.heading: no title, no heading line
            out.append(None)
        elif LABEL.match(title):
            out.append(title)
        else:
            out.append((label or heading_label(sec.level, counters[sec.level])) + title)
    return out


def body_paragraphs(text: str, heading: str | None) -> list[str]:
    """A section's text as the export writes it: one paragraph per non-empty line, the heading not repeated."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    # Some drafts repeat their heading as the first line; the heading is written once.
    if heading and lines and strip_label(lines[0]).rstrip("。") == strip_label(heading).rstrip("。"):
        lines = lines[1:]
    return lines


# --- Markdown -----------------------------------------------------------------------------


def export_markdown(report: ReportDraft, path: str | Path) -> Path:
    """The report as Markdown, UTF-8: ``#`` title, ``##`` 一、 headings, ``###`` （一） headings.

    The same text as ``ReportDraft.to_markdown()`` (plain text for copying), with Markdown
    heading marks so that the file reads as an outline in any Markdown viewer.
    """
    path = _target(path, ".md")
    path.write_text(markdown_text(report), encoding="utf-8")
    return path


def markdown_text(report: ReportDraft) -> str:
    """Exactly what export_markdown writes: the page offers it for download and preview
    without a round trip through a file."""
    out = [f"# {report.title}", ""]
    for sec, heading in zip(report.sections, numbered_headings(report)):
        if heading:
            out += ["#" * min(sec.level + 1, 6) + " " + heading, ""]
        paras = body_paragraphs(sec.text, heading)
        if paras:
            out += ["\n\n".join(paras), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def title_break(title: str) -> list[str]:
    """The title's lines in the Word file: one line when it fits, else broken between words
    into balanced lines (gongwen.title_lines), the words from jieba."""
    if len(title) <= TITLE_CHARS_PER_LINE:
        return [title]
    return title_lines(list(get_jieba().cut(title, HMM=False)), TITLE_CHARS_PER_LINE)


def file_stem(title: str) -> str:
    """A file name (without suffix) from the report title: no path separators, characters
    Windows refuses, spaces or control characters; at most 80 characters."""
    return (re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", title).strip("._") or "report")[:80]


def _target(path: str | Path, suffix: str) -> Path:
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise InputError(f"导出文件的扩展名应为 {suffix}。", file=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --- Word -----------------------------------------------------------------------------------


def export_docx(report: ReportDraft, path: str | Path) -> Path:
    """The report as a .docx in GB/T 9704 layout; returns the path written."""
    from docx import Document  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written

    path = _target(path, ".docx")
    doc = Document()
    _drop_template_thumbnail(doc)
    _page_setup(doc)
    _styles(doc)
    _font_table(doc)
    _footers(doc)

    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # the template's empty first paragraph
        body.remove(p)

    # A last guard: a version saved before control characters were stripped on the way in would
    # make python-docx refuse the whole file ("All strings must be XML compatible").
    _add_paragraph(doc, "\n".join(title_break(strip_controls(report.title))), STYLE_TITLE, FONT_TITLE, TITLE_PT)
    for sec, heading in zip(report.sections, numbered_headings(report)):
        if heading:
            style, font, bold = _HEADING.get(sec.level, (STYLE_L3, FONT_BODY, False))
            _add_paragraph(doc, strip_controls(heading), style, font, BODY_PT, bold=bold)
        for para in body_paragraphs(sec.text, heading):
            _add_paragraph(doc, strip_controls(para, multiline=True), "Normal", FONT_BODY, BODY_PT)

    props = doc.core_properties
    props.title = strip_controls(report.title)
    props.author = props.last_modified_by = strip_controls(report.organisation)
    props.subject = props.keywords = props.comments = props.category = props.content_status = ""
    props.identifier = props.version = ""
    props.language = "zh-CN"
    props.revision = 1
    props.created = props.modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    doc.save(str(path))
    return path


def _drop_template_thumbnail(doc) -> None:
    # python-docx's template carries a thumbnail of some other document; file managers show it.
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package.rels[rid]


def _page_setup(doc) -> None:
    from docx.oxml import OxmlElement  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written
    from docx.shared import Mm  # heavy: loaded only when a .docx is written

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.footer_distance = Mm(FOOTER_DISTANCE_MM)
    section.header_distance = Mm(15)
    section.gutter = 0
    sect_pr = section._sectPr
    for old in sect_pr.findall(qn("w:docGrid")):
        sect_pr.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    sect_pr.append(grid)
    doc.settings.odd_and_even_pages_header_footer = True


# CT_RPr's child order (ECMA-376 §17.3.2.28), as python-docx declares it.
_RPR_ORDER = (
    "w:rStyle",
    "w:rFonts",
    "w:b",
    "w:bCs",
    "w:i",
    "w:iCs",
    "w:caps",
    "w:smallCaps",
    "w:strike",
    "w:dstrike",
    "w:outline",
    "w:shadow",
    "w:emboss",
    "w:imprint",
    "w:noProof",
    "w:snapToGrid",
    "w:vanish",
    "w:webHidden",
    "w:color",
    "w:spacing",
    "w:w",
    "w:kern",
    "w:position",
    "w:sz",
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)


def _put(rpr, tag: str, **attrs: str):
    """Replace ``tag`` in a w:rPr, inserted in schema order (Word rejects out-of-order children)."""
    from docx.oxml import OxmlElement  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written

    for old in rpr.findall(qn(tag)):
        rpr.remove(old)
    el = OxmlElement(tag)
    for name, value in attrs.items():
        el.set(qn(f"w:{name}"), value)
    order = _RPR_ORDER
    later = {qn(t) for t in order[order.index(tag) + 1 :]}
    successor = next((child for child in rpr if child.tag in later), None)
    if successor is None:
        rpr.append(el)
    else:
        successor.addprevious(el)
    return el


def _set_fonts(rpr_owner, east_asia: str, size_pt: float, *, bold: bool = False, latin: str = LATIN_FONT) -> None:
    """Latin and East Asian font names and size on a run or a style (its w:rPr)."""
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written

    rpr = rpr_owner.get_or_add_rPr()
    # No theme font attributes: they would override the names.
    _put(rpr, "w:rFonts", ascii=latin, hAnsi=latin, cs=latin, eastAsia=east_asia, hint="eastAsia")
    for tag in ("w:b", "w:bCs"):
        if bold:
            _put(rpr, tag)
        else:
            for old in rpr.findall(qn(tag)):
                rpr.remove(old)
    if size_pt == BODY_PT:  # 28 characters of 三号 to a 156 mm line
        _put(rpr, "w:spacing", val=str(CHAR_SPACING))
    _put(rpr, "w:sz", val=str(int(size_pt * 2)))
    _put(rpr, "w:szCs", val=str(int(size_pt * 2)))


def _indent_two_chars(pf, p_pr) -> None:
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written
    from docx.shared import Pt  # heavy: loaded only when a .docx is written

    pf.first_line_indent = Pt(2 * BODY_PT)
    ind = p_pr.find(qn("w:ind"))
    ind.set(qn("w:firstLineChars"), "200")


def _styles(doc) -> None:
    from docx.enum.style import WD_STYLE_TYPE  # heavy: loaded only when a .docx is written
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING  # heavy: loaded only when a .docx is written
    from docx.oxml import OxmlElement  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written
    from docx.shared import Pt  # heavy: loaded only when a .docx is written

    styles = doc.styles
    # Document defaults: Chinese language, so Word picks East Asian line breaking rules.
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _put(rpr_default, "w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA")
    # 三号 by default: the first-line indent in characters is counted from it.
    _put(rpr_default, "w:rFonts", ascii=LATIN_FONT, hAnsi=LATIN_FONT, cs=LATIN_FONT, eastAsia=FONT_BODY)
    _put(rpr_default, "w:sz", val=str(BODY_PT * 2))
    _put(rpr_default, "w:szCs", val=str(BODY_PT * 2))

    normal = styles["Normal"]
    _set_fonts(normal.element, FONT_BODY, BODY_PT)
    pf = normal.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(LINE_PT)
    pf.space_before = pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.widow_control = True
    _indent_two_chars(pf, normal.element.get_or_add_pPr())

    title = styles.add_style(STYLE_TITLE, WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = normal
    title.next_paragraph_style = normal
    _set_fonts(title.element, FONT_TITLE, TITLE_PT)
    tf = title.paragraph_format
    tf.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tf.first_line_indent = Pt(0)
    title.element.get_or_add_pPr().find(qn("w:ind")).set(qn("w:firstLineChars"), "0")
    tf.line_spacing = Pt(TITLE_LINE_PT)
    tf.space_after = Pt(LINE_PT)  # one empty body line between title and text
    tf.keep_with_next = True
    snap = OxmlElement("w:snapToGrid")  # a 35 pt title line must not be pushed to two grid lines
    snap.set(qn("w:val"), "0")
    title.element.get_or_add_pPr().insert_element_before(snap, "w:spacing", "w:ind", "w:jc", "w:outlineLvl")
    _outline_level(title, 0)

    for level, (name, font, bold) in _HEADING.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.next_paragraph_style = normal
        _set_fonts(style.element, font, BODY_PT, bold=bold)
        style.paragraph_format.keep_with_next = True
        _outline_level(style, level)


def _outline_level(style, level: int) -> None:
    from docx.oxml import OxmlElement  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written

    # Word's navigation pane and table of contents read the outline level.
    ppr = style.element.get_or_add_pPr()
    el = OxmlElement("w:outlineLvl")
    el.set(qn("w:val"), str(level))
    ppr.append(el)


def _font_table(doc) -> None:
    from docx.oxml import OxmlElement, parse_xml  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written
    from lxml import etree  # heavy: loaded only when a .docx is written

    part = next(p for p in doc.part.package.iter_parts() if p.partname == "/word/fontTable.xml")
    root = parse_xml(part.blob)
    for name, alt in FALLBACKS.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alt), ("w:charset", "86"), ("w:family", "modern"), ("w:pitch", "fixed")):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            font.append(el)
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _add_paragraph(doc, text: str, style: str, font: str, size_pt: float, *, bold: bool = False):
    from docx.enum.text import WD_COLOR_INDEX  # heavy: loaded only when a .docx is written

    para = doc.add_paragraph(style=style)
    pos = 0
    for start, end in placeholder_spans(text):
        if start > pos:
            _add_run(para, text[pos:start], font, size_pt, bold)
        run = _add_run(para, text[start:end], font, size_pt, bold)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        pos = end
    if pos < len(text):
        _add_run(para, text[pos:], font, size_pt, bold)
    return para


def _add_run(para, text: str, font: str, size_pt: float, bold: bool):
    # Direct run formatting as well as the style: WPS and older Word ignore some style fonts.
    run = para.add_run(text)
    _set_fonts(run._r, font, size_pt, bold=bold)
    return run


def _footers(doc) -> None:
    section = doc.sections[0]
    section.footer.is_linked_to_previous = False
    section.even_page_footer.is_linked_to_previous = False
    _page_number(section.footer.paragraphs[0], odd=True)
    _page_number(section.even_page_footer.paragraphs[0], odd=False)


def _page_number(para, *, odd: bool) -> None:
    """— N — at the outside edge, one character (14 pt) in from the type area's edge."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING  # heavy: loaded only when a .docx is written
    from docx.oxml import OxmlElement  # heavy: loaded only when a .docx is written
    from docx.oxml.ns import qn  # heavy: loaded only when a .docx is written
    from docx.shared import Pt  # heavy: loaded only when a .docx is written

    pf = para.paragraph_format
    pf.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    pf.first_line_indent = Pt(0)
    pf.left_indent, pf.right_indent = (Pt(0), Pt(PAGE_NUMBER_PT)) if odd else (Pt(PAGE_NUMBER_PT), Pt(0))
    pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.line_spacing = 1.0
    ind = para._p.get_or_add_pPr().find(qn("w:ind"))
    ind.set(qn("w:firstLineChars"), "0")

    def run(text: str = ""):
        r = para.add_run(text)
        _set_fonts(r._r, FONT_PAGE_NUMBER, PAGE_NUMBER_PT, latin=FONT_PAGE_NUMBER)
        return r

    run("— ")
    for kind, instr in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        r = run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            r._r.append(fld)
        elif instr == " PAGE ":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._r.append(el)
        else:
            r.text = instr
    run(" —")


__all__ = [
    "export_docx",
    "export_markdown",
    "export_notes",
    "file_stem",
    "markdown_text",
    "numbered_headings",
    "LINE_PT",
    "CHAR_SPACING",
    "LINE_PITCH_TWIPS",
]
