"""Export: Markdown, and .docx in GB/T 9704 layout (read back with python-docx; rendered by LibreOffice)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from assistant.check.result import Summary
from assistant.core.errors import InputError
from assistant.export import (
    export_docx,
    export_markdown,
    export_notes,
    file_stem,
    markdown_text,
    numbered_headings,
    title_break,
)
from tests.test_store import ORG, make_report_draft, make_section

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"


def _east_asia(run) -> str | None:
    fonts = run._r.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def _long_report():
    """The test report, with enough text for two pages so that both footers are used."""
    report = make_report_draft()
    long_text = "\n".join(
        [
            "我办坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻党的二十大精神，"
            "围绕中心、服务大局，扎实做好宣传思想文化工作，取得了新的成效。"
        ]
        * 8
    )
    report.sections[4] = make_section("2", text=long_text)
    return report


def test_docx_page_fonts_indent_spacing_and_footer(tmp_path):
    path = export_docx(_long_report(), tmp_path / "out" / "汇报.docx")
    doc = Document(str(path))
    sec = doc.sections[0]

    def mm(length) -> float:  # stored in twips (1/1440 inch): compare to 0.1 mm
        return round(length.mm, 1)

    assert (mm(sec.page_width), mm(sec.page_height)) == (210, 297)
    assert [mm(x) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [37, 35, 28, 26]
    assert sec._sectPr.find(qn("w:pgSz")).get(qn("w:w")) == "11906"  # A4 width in twips
    grid = sec._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"
    assert doc.settings.odd_and_even_pages_header_footer

    paras = doc.paragraphs
    texts = [p.text for p in paras]
    # a title longer than a 二号 line breaks between words, lines balanced (GB/T 9704 7.3.1)
    assert texts[0] == f"{ORG}\n2026年度宣传工作汇报"
    # intro has no heading; L1 / L2 headings are numbered; closing has no heading.
    assert texts[1].startswith("2026年，在市委的坚强领导下")
    assert texts[2] == "一、工作做法及成效" and texts[4] == "（一）着眼“培根铸魂”，筑牢理想信念之基"
    assert texts[6] == "（二）突出新媒体传播，扩大宣传覆盖面" and "二、存在的问题" in texts
    assert "三、2027年工作打算" in texts and texts[-1].startswith("我办将以更加饱满的热情")

    def by_text(start: str):
        return next(p for p in paras if p.text.startswith(start))

    expected = {
        texts[0]: ("方正小标宋简体", 22),
        "一、工作做法及成效": ("黑体", 16),
        "（一）着眼": ("楷体_GB2312", 16),
        "全年召开新闻发布会": ("仿宋_GB2312", 16),
    }
    for start, (font, size) in expected.items():
        para = by_text(start)
        for run in para.runs:
            assert _east_asia(run) == font, (start, run.text)
            assert run.font.size == Pt(size)
            assert run.font.name == "Times New Roman"  # w:ascii: the Latin fallback
    # The styles carry the same fonts, for text a user types later.
    assert doc.styles["Normal"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert doc.styles["一级标题"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"

    title = paras[0]
    assert title.style.name == "公文标题" and title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    body = by_text("全年召开新闻发布会")
    normal = doc.styles["Normal"].paragraph_format
    assert body.style.name == "Normal"
    assert normal.first_line_indent == Pt(32)
    assert doc.styles["Normal"].element.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    assert normal.line_spacing_rule == WD_LINE_SPACING.EXACTLY and normal.line_spacing == Pt(28.9)
    assert normal.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY

    # Placeholders stay, highlighted.
    ph = by_text("新媒体发稿860篇")
    marked = [r for r in ph.runs if r.text.startswith("【待补充")]
    assert marked and marked[0].font.highlight_color == WD_COLOR_INDEX.YELLOW
    assert ph.text == "新媒体发稿860篇，阅读量【待补充：阅读量】。"

    # Footers: — PAGE — at the outside edge, odd right / even left, 14 pt.
    for footer, align in ((sec.footer, WD_ALIGN_PARAGRAPH.RIGHT), (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        assert p.alignment == align
        instr = [el.text for el in p._p.iter(qn("w:instrText"))]
        assert instr == [" PAGE "]
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert all(r.font.size == Pt(14) for r in p.runs)
    assert sec.footer.paragraphs[0].paragraph_format.right_indent == Pt(14)
    assert sec.even_page_footer.paragraphs[0].paragraph_format.left_indent == Pt(14)

    # Fallback faces in the font table; metadata: title and organisation only.
    with zipfile.ZipFile(path) as z:
        fonts_xml = z.read("word/fontTable.xml").decode()
        names = z.namelist()
        everything = b"".join(z.read(n) for n in names)
    assert 'w:name="仿宋_GB2312"' in fonts_xml and '<w:altName w:val="仿宋"/>' in fonts_xml
    assert "docProps/thumbnail.jpeg" not in names
    props = doc.core_properties
    assert props.title == texts[0].replace("\n", "") and props.author == ORG and props.last_modified_by == ORG
    assert props.comments == "" and props.keywords == ""
    for secret in (b"python-docx", b"p-abc123", b"api_key", "往年的素材".encode()):
        assert secret not in everything


def test_heading_numbering_from_label_title_or_counter():
    report = make_report_draft()
    # No label from the draft: numbered here; a title that carries its label keeps it.
    report.sections = [s.model_copy(update={"label": ""}) for s in report.sections]
    report.sections[1] = report.sections[1].model_copy(update={"title": "一、工作做法及成效"})
    headings = numbered_headings(report)
    assert headings == [
        None,
        "一、工作做法及成效",
        "（一）着眼“培根铸魂”，筑牢理想信念之基",
        "（二）突出新媒体传播，扩大宣传覆盖面",
        "二、存在的问题",
        "三、2027年工作打算",
        None,
    ]


def test_markdown_export_and_wrong_suffix(tmp_path):
    path = export_markdown(make_report_draft(), tmp_path / "r.md")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {ORG}2026年度宣传工作汇报\n\n2026年，在市委") and text.endswith("\n")
    assert "\n## 一、工作做法及成效\n" in text and "\n### （二）突出新媒体传播，扩大宣传覆盖面\n" in text
    assert "【待补充：阅读量】" in text
    with pytest.raises(InputError, match=r"扩展名应为 \.docx"):
        export_docx(make_report_draft(), tmp_path / "r.doc")


def test_unverified_marks_are_highlighted_like_placeholders(tmp_path):
    report = make_report_draft()
    report.sections[3] = make_section("1.2", text="新媒体发稿【待核实：900篇】，阅读量【待补充：阅读量】。")
    doc = Document(str(export_docx(report, tmp_path / "r.docx")))
    para = next(p for p in doc.paragraphs if p.text.startswith("新媒体发稿"))
    marked = {r.text: r.font.highlight_color for r in para.runs if r.text.startswith("【")}
    assert marked == {"【待核实：900篇】": WD_COLOR_INDEX.YELLOW, "【待补充：阅读量】": WD_COLOR_INDEX.YELLOW}
    assert all(r.font.highlight_color is None for r in para.runs if not r.text.startswith("【"))


def test_export_notes_count_unverified_and_placeholders_apart():
    assert export_notes([Summary(grounded=3)]) == []
    assert export_notes([Summary(placeholders=2)]) == [
        "稿中还有 2 处待补充的占位（【待补充】、XX 等），导出文件中已用黄色标出。"
    ]
    notes = export_notes([Summary(unverified=1, placeholders=1), Summary(unverified=2)])
    assert notes == [
        "稿中还有 3 处待核实的数字（【待核实】） 和 1 处待补充的占位（【待补充】、XX 等），导出文件中已用黄色标出。"
    ]
    # a number flagged but not marked (a hand edit): invented and misattributed alike
    assert export_notes([Summary(invented=1), Summary(misattributed=1)]) == [
        "另有 2 个数字无依据或与所说事项不符，未加标注，导出前请核实。"
    ]


def test_markdown_text_is_what_the_file_holds(tmp_path):
    report = make_report_draft()
    assert export_markdown(report, tmp_path / "r.md").read_text(encoding="utf-8") == markdown_text(report)


@pytest.mark.parametrize(
    "title, stem",
    [
        ("某某局2026年度工作汇报", "某某局2026年度工作汇报"),
        ("a/b\\c: d*?", "a_b_c_d"),
        ("..报告\t 草稿..", "报告_草稿"),
        ("", "report"),
        ("...", "report"),
        ("汇" * 100, "汇" * 80),
        ("甲\x00乙", "甲_乙"),
    ],
)
def test_file_stem(title, stem):
    assert file_stem(title) == stem


@pytest.mark.slow
def test_docx_renders_in_libreoffice(tmp_path):
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        pytest.skip(
            "未安装 LibreOffice（soffice）或 poppler（pdftoppm），跳过渲染检查；运行 scripts/system-deps.sh 安装"
        )
    docx_path = export_docx(_long_report(), tmp_path / "report.docx")
    profile = tmp_path / f"lo-profile-{uuid.uuid4().hex}"
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    pdf = tmp_path / "report.pdf"
    assert pdf.exists(), proc.stdout + proc.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(ARTIFACTS / "export-page1")],
        check=True,
        timeout=60,
    )
    png = ARTIFACTS / "export-page1.png"
    assert png.exists() and png.stat().st_size > 5000
    pdfinfo, pdftotext = shutil.which("pdfinfo"), shutil.which("pdftotext")
    if pdfinfo:
        info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
        assert 2 <= pages <= 4, info
        size = next(line for line in info.splitlines() if line.startswith("Page size:"))
        assert "595" in size and "841" in size or "842" in size, size  # A4 in points
    if pdftotext:

        def page_text(n: int) -> str:
            # The character grid spreads glyphs, so pdftotext puts spaces between them: drop all whitespace.
            out = subprocess.run(
                [pdftotext, "-f", str(n), "-l", str(n), str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout
            return "".join(out.split())

        page1, page2 = page_text(1), page_text(2)
        assert f"{ORG}2026年度宣传工作汇报" in page1 and "一、工作做法及成效" in page1
        assert "—1—" in page1 and "—2—" in page2


@pytest.mark.parametrize(
    "title, lines",
    [
        ("市人大办2026年度工作汇报", ["市人大办2026年度工作汇报"]),  # fits one line
        (
            "禾川市人大常委会办公室2026年度宣传思想文化工作汇报",
            ["禾川市人大常委会办公室", "2026年度宣传思想文化工作汇报"],
        ),
        (
            "中共某某县委办公室关于进一步加强和改进新形势下机关党建工作的实施意见汇报",
            ["中共某某县委办公室关于进一步加强和改进", "新形势下机关党建工作的实施意见汇报"],
        ),
    ],
)
def test_long_title_breaks_between_words_into_balanced_lines(title, lines):
    got = title_break(title)
    assert got == lines and "".join(got) == title
    assert all(len(line) <= 20 for line in got)
    assert not any(line.startswith(("的", "和", "年")) for line in got[1:])
