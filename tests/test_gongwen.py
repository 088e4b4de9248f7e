"""公文 conventions (assistant.gongwen): heading numbers, 汉字 numerals, placeholders, sentences, parts."""

from __future__ import annotations

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX

from assistant.check import check_numbers
from assistant.export import export_docx
from assistant.gongwen import (
    LABEL,
    PART_LABELS,
    PART_NAMES,
    PARTS,
    PLACEHOLDER,
    TEMPLATE_TITLES,
    Heading,
    from_hanzi,
    heading_label,
    is_unverified,
    part_of_title,
    read_heading,
    sentences,
    strip_label,
    to_fill,
    to_hanzi,
    unverified,
)
from tests.test_store import make_report_draft, make_section

HANZI_1_TO_12 = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]


def _numeral_before_cn2an(n: int) -> str:
    """The hand-written conversion the headings used before gongwen (1..99), as the reference."""
    digits = "一二三四五六七八九十"
    if n <= 10:
        return digits[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens - 1]) + "十" + (digits[ones - 1] if ones else "")


# ---------------------------------------------------------------- headings


@pytest.mark.parametrize(
    "level, expected",
    [
        (1, [f"{h}、" for h in HANZI_1_TO_12] + ["二十、"]),
        (2, [f"（{h}）" for h in HANZI_1_TO_12] + ["（二十）"]),
        (3, [f"{i}." for i in range(1, 13)] + ["20."]),
        (4, [f"（{i}）" for i in range(1, 13)] + ["（20）"]),
    ],
)
def test_heading_labels_1_to_12_and_20(level, expected):
    assert [heading_label(level, i) for i in [*range(1, 13), 20]] == expected


@pytest.mark.parametrize(
    "line, heading",
    [
        ("一、工作做法及成效", Heading(1, 1, "工作做法及成效")),
        ("十一、其他", Heading(1, 11, "其他")),
        ("二十、其他", Heading(1, 20, "其他")),
        ("（二）抓新闻宣传，讲好人大故事", Heading(2, 2, "抓新闻宣传，讲好人大故事")),
        ("（十二）标题", Heading(2, 12, "标题")),
        ("3.抓住关键少数", Heading(3, 3, "抓住关键少数")),
        ("12．全角句点", Heading(3, 12, "全角句点")),
        ("（1）制定计划", Heading(4, 1, "制定计划")),
        ("（20）标题", Heading(4, 20, "标题")),
    ],
)
def test_read_heading(line, heading):
    assert read_heading(line) == heading


@pytest.mark.parametrize(
    "line",
    [
        "1、顿号",
        "(一)半角括号",
        "（一）、多了顿号",
        "一.句点",
        "(1)半角括号",
        "1.5万人次参加",
        "一是加强学习",
        "正文。",
    ],
)
def test_read_heading_refuses_wrong_forms_and_prose(line):
    assert read_heading(line) is None


def test_label_round_trip_at_every_level():
    for level in (1, 2, 3, 4):
        for i in (1, 9, 10, 11, 19, 20, 35, 99):
            heading = read_heading(heading_label(level, i) + "标题")
            assert heading == Heading(level, i, "标题")


@pytest.mark.parametrize(
    "line, stripped",
    [
        ("一、标题", "标题"),
        ("  （二） 标题", "标题"),
        ("(二)标题", "标题"),
        ("3. 标题", "标题"),
        ("3、标题", "标题"),
        ("（4）标题", "标题"),
        ("(4)标题", "标题"),
        ("一.标题", "标题"),
        ("1.5万人次参加", "1.5万人次参加"),  # a decimal is not a heading number
        ("一是加强学习", "一是加强学习"),
        ("## 一、标题", "## 一、标题"),  # Markdown stays: the checker reports it
    ],
)
def test_strip_label_takes_any_heading_number_form(line, stripped):
    assert strip_label(line) == stripped
    assert bool(LABEL.match(line)) == (line != stripped)


# ---------------------------------------------------------------- numerals


def test_to_hanzi_keeps_the_heading_numerals():
    assert [to_hanzi(n) for n in (1, 10, 11, 20, 23)] == ["一", "十", "十一", "二十", "二十三"]
    assert [to_hanzi(n) for n in range(1, 100)] == [_numeral_before_cn2an(n) for n in range(1, 100)]
    assert to_hanzi(101) == "一百零一"


def test_numerals_round_trip():
    for n in range(1, 1001):
        assert from_hanzi(to_hanzi(n)) == n


@pytest.mark.parametrize(
    "text, value",
    [("二十三", 23), ("两", 2), ("一〇五", 105), ("百", 100), ("千", 1000), ("万", 10000), ("三点五", 3.5)],
)
def test_from_hanzi(text, value):
    assert from_hanzi(text) == value


@pytest.mark.parametrize("text", ["", "是", "十十"])
def test_from_hanzi_refuses_what_is_no_numeral(text):
    assert from_hanzi(text) is None


# ---------------------------------------------------------------- placeholders

PLACEHOLDERS = ["【待补充：阅读量】", "【待补充】", "【待核实：30次】", "XX", "xx", "XXX", "××", "ＸＸ"]


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_placeholder_forms(text):
    assert PLACEHOLDER.fullmatch(text)
    assert [m.group(0) for m in PLACEHOLDER.finditer(f"全年发稿{text}篇。")] == [text]


@pytest.mark.parametrize("text", ["XXL号", "Maxx", "X光检查", "【说明】", "待补充"])
def test_not_placeholders(text):
    assert PLACEHOLDER.search(text) is None


def test_placeholder_marks():
    assert to_fill("阅读量（次）") == "【待补充：阅读量（次）】"
    assert unverified("30次") == "【待核实：30次】"
    assert is_unverified(unverified("30次")) and not is_unverified(to_fill("阅读量"))


def test_colon_less_placeholder_counts_in_the_checker():
    [m] = check_numbers("阅读量【待补充】。", [])
    assert (m.text, m.status) == ("【待补充】", "placeholder")


def test_checker_and_export_agree_on_placeholders(tmp_path):
    text = (
        "阅读量【待补充】，粉丝【待补充：粉丝数】，XX篇报道，培训【待核实：96人】，××项活动，XXL号文化衫，"
        "***件提案，20*年计划，**12个**项目。"
    )
    counted = [m.text for m in check_numbers(text, []) if m.status in ("placeholder", "unverified")]
    assert counted == ["【待补充】", "【待补充：粉丝数】", "XX篇", "【待核实：96人】", "××项", "***件", "20*"]

    report = make_report_draft()
    report.sections[4] = make_section("2", text=text)
    doc = Document(str(export_docx(report, tmp_path / "汇报.docx")))
    [para] = [p for p in doc.paragraphs if p.text == text]
    highlighted = [r.text for r in para.runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]
    # the export highlights exactly what the checker counts (one recogniser), bold markers aside
    assert highlighted == counted


# ---------------------------------------------------------------- sentences


def test_sentences():
    text = "第一句。第二句；第三句！\n第四"
    assert [text[s:e] for s, e in sentences(text)] == ["第一句。", "第二句；", "第三句！", "第四"]


def test_sentences_keep_closing_quotes_and_skip_blank_lines():
    text = "他说“好。”然后走了。\n\n  \n　　第二段？！结束"
    assert [text[s:e] for s, e in sentences(text)] == ["他说“好。”", "然后走了。", "　　第二段？！", "结束"]


def test_sentences_in_a_range_have_absolute_offsets():
    text = "前言。一二三。四五六。"
    spans = sentences(text, 3, 7)
    assert spans == [(3, 7)] and text[3:7] == "一二三。"


# ---------------------------------------------------------------- parts


def test_parts_and_their_names():
    assert PARTS == ("intro", "achievements", "problems", "plans", "closing", "other")
    assert set(PART_NAMES) == set(PART_LABELS) == set(PARTS)
    assert (PART_NAMES["intro"], PART_NAMES["closing"]) == ("导语", "结束语")
    assert set(TEMPLATE_TITLES) == {"achievements", "problems", "plans"}


def test_template_titles_name_their_own_part():
    for part, title in TEMPLATE_TITLES.items():
        assert part_of_title(title.format(next_year=2027)) == part
