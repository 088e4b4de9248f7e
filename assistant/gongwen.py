"""公文 conventions, in one place: heading numbers, 汉字 numerals, placeholders, sentences and
the parts of a 年度工作汇报. Everything that writes, checks, cuts or exports a report reads
them from here, so the drafting engine, the checker, the chunker and the export agree.

Headings (GB/T 9704): level 1 一、 2 （一） 3 1. 4 （1）. ``heading_label`` writes them,
``read_heading`` reads a line written that way; ``LABEL`` finds a heading number in any form
drafts and received documents use (also 1、 (一) 一.), for stripping and masking;
``HEADING_FORMS`` adds 第一章/第一节 for cutting received documents.

Placeholders: 【待补充：…】 or 【待补充】 (data to be supplied), 【待核实：…】 (a number kept but
unverified), and XX / xx / ×× (two or more). The checker counts what ``PLACEHOLDER`` finds, the
export highlights the same, the eval counts the checker's placeholders.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, NamedTuple, get_args

# ---------------------------------------------------------------- 汉字 numerals

HAN_DIGITS = "一二三四五六七八九十"  # what heading numbers and 一是、二是 enumerations are written with
NUMERALS = "一二三四五六七八九十百零〇两"  # any 汉字 numeral a received document numbers with (第一百零二条)


@lru_cache(maxsize=1024)  # pure, and cn2an is slow per call: headings repeat the same few numbers
def to_hanzi(n: int) -> str:
    """n as a 汉字 numeral: 1 → 一, 10 → 十, 11 → 十一, 20 → 二十, 101 → 一百零一."""
    import cn2an  # ~70 ms to import: only once a numeral is written or read

    return cn2an.an2cn(n)


@lru_cache(maxsize=4096)  # pure, and cn2an is slow per call
def from_hanzi(text: str) -> float | None:
    """A 汉字 numeral's value (二十三 → 23, 三点五 → 3.5); 两, 〇 and a bare 百/千/万 (cn2an refuses
    those) are read too. None when `text` is not a numeral."""
    s = text.replace("两", "二").replace("〇", "零")
    if s and s[0] in "百千万亿":
        s = "一" + s
    try:
        import cn2an  # ~70 ms to import: only once a numeral is written or read

        return float(cn2an.cn2an(s, "normal"))
    except (ValueError, KeyError, IndexError):
        return None


# ---------------------------------------------------------------- headings

_HAN = f"[{HAN_DIGITS}]+"
# A heading written the 公文 way, by level; group 1 is the number. （一）、 is not a level-2 heading
# (the checker reports it as a wrong form), nor is 1.5 a level-3 one.
_HEADINGS = (
    (1, re.compile(rf"({_HAN})、")),
    (2, re.compile(rf"（({_HAN})）(?!、)")),
    (3, re.compile(r"(\d+)[.．](?!\d)")),
    (4, re.compile(r"（(\d+)）")),
)


class Heading(NamedTuple):
    level: int  # 1 一、 2 （一） 3 1. 4 （1）
    number: int  # 三 → 3; 0 when the 汉字 do not make a numeral
    title: str  # the words after the number


def heading_label(level: int, index: int) -> str:
    """The index-th heading number of a level (GB/T 9704): 一、 / （一） / 1. / （1）."""
    if level == 1:
        return f"{to_hanzi(index)}、"
    if level == 2:
        return f"（{to_hanzi(index)}）"
    return f"{index}." if level == 3 else f"（{index}）"


def read_heading(line: str) -> Heading | None:
    """The heading `line` starts with when it is numbered the 公文 way, else None."""
    for level, rx in _HEADINGS:
        m = rx.match(line)
        if m:
            number = m.group(1)
            value = int(number) if number.isdigit() else int(from_hanzi(number) or 0)
            return Heading(level, value, line[m.end() :])
    return None


_NUM = f"[{NUMERALS}]+"
# A heading number as drafts and received documents write it (full-width or ASCII brackets, 1、,
# 一.), by level; read_heading decides whether its form is right.
_LABEL_FORMS = (
    (1, rf"{_NUM}[、．.]"),
    (2, rf"[（(]{_NUM}[）)]"),
    (4, r"[（(]\d{1,2}[）)]"),
    (3, r"\d{1,2}(?:[、．]|\.(?!\d))"),
)
# Any of those forms, as regex source for composing (the checker masks it after a Markdown #).
LABEL_FORM = f"(?:{'|'.join(form for _, form in _LABEL_FORMS)})"
_SPACE = r"[^\S\n]*"  # whitespace within a line
# The heading number a line starts with, with the spaces around it.
LABEL = re.compile(rf"^{_SPACE}{LABEL_FORM}{_SPACE}")
# Heading numbers of received documents, by level: chapters and sections too (第一章, 第一节).
HEADING_FORMS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^第[{NUMERALS}\d]+章")),
    (2, re.compile(rf"^第[{NUMERALS}\d]+节")),
    *((level, re.compile(f"^{form}")) for level, form in _LABEL_FORMS),
)
ARTICLE = re.compile(rf"^第[{NUMERALS}\d]+条")  # an article of a regulation: body text, not a heading


def strip_label(line: str) -> str:
    """`line` without the heading number it starts with (一、标题 → 标题)."""
    return LABEL.sub("", line, count=1)


# ---------------------------------------------------------------- placeholders

_LATIN = "A-Za-zＡ-Ｚａ-ｚ"
PLACEHOLDER = re.compile(rf"【待(?:补充|核实)[^】\n]*】|(?<![{_LATIN}])(?:[XxＸｘ]{{2,}}|×{{2,}})(?![{_LATIN}])")


def to_fill(what: str) -> str:
    """The placeholder for data to be supplied: 【待补充：what】."""
    return f"【待补充：{what}】"


def unverified(text: str) -> str:
    """`text` (a number no supplied figure grounds) marked for checking: 【待核实：text】."""
    return f"【待核实：{text}】"


def is_unverified(text: str) -> bool:
    """True for a 【待核实：…】 mark."""
    return text.startswith("【待核实")


# ---------------------------------------------------------------- sentences

# A sentence ends at 。！？；(and ASCII ; ! ?) with the closing quotes or brackets right after it.
SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）)】]*")


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) in text[start:end]; a line end ends a sentence too.
    Spans keep their spaces; a span of spaces only is left out."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        ls, le = start + line.start(), start + line.end()
        pos = ls
        for m in SENTENCE_END.finditer(text, ls, le):
            spans.append((pos, m.end()))
            pos = m.end()
        if pos < le:
            spans.append((pos, le))
    return [(s, e) for s, e in spans if text[s:e].strip()]


# A clause ends at ，；。！？ (and ASCII , ; ! ?; a comma between digit groups, 1,300, does not
# end one). 、 does not: "A、B分别增长x%、y%" is one clause.
CLAUSE_END = re.compile(r"[，；。！？;!?\n]|,(?!\d{3}(?!\d))")
# What ends a clause without ending its sentence: the clause after it may continue the subject
# ("完成地区生产总值1234亿元，增长7.3%").
CLAUSE_CONTINUES = frozenset("，,")


def clauses(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clause spans (absolute offsets, without the mark that ends them) in text[start:end]; an
    empty span between two marks is left out."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in CLAUSE_END.finditer(text, start, end):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return spans


# ---------------------------------------------------------------- the parts of a report

Part = Literal["intro", "achievements", "problems", "plans", "closing", "other"]
PARTS: tuple[Part, ...] = get_args(Part)  # in report order
# Short names, as messages name the parts.
PART_NAMES = {
    "intro": "导语",
    "achievements": "做法及成效",
    "problems": "问题及不足",
    "plans": "打算及展望",
    "closing": "结束语",
    "other": "其他",
}
# What a prompt and a heading path call each part.
PART_LABELS = {
    "intro": "导语（开头段）",
    "achievements": "工作做法及成效",
    "problems": "存在的问题及改进措施",
    "plans": "下一年工作打算",
    "closing": "结束语",
    "other": "其他",
}
# The L1 titles of the built-in 年度工作汇报 template.
TEMPLATE_TITLES = {
    "achievements": "工作做法及成效",
    "problems": "存在的问题及改进措施",
    "plans": "{next_year}年工作打算",
}

# Which part of a 年度工作汇报 an L1 heading belongs to, by its words. Order matters:
# "存在的问题及改进措施" names 措施 but is the problems part, and "2027年工作思路和主要工作安排"
# names 主要工作 but is the plans part.
_TITLE_PARTS = (
    ("problems", re.compile(r"问题|不足|差距|短板")),
    ("plans", re.compile(r"打算|展望|思路|计划|安排|下一步|目标任务")),
    ("achievements", re.compile(r"做法|成效|成绩|情况|进展|完成|开展|主要工作")),
)


def part_of_title(title: str | None) -> str | None:
    """ "achievements", "problems" or "plans" for an L1 heading's words; None when they name none."""
    if title:
        for part, rx in _TITLE_PARTS:
            if rx.search(title):
                return part
    return None


# ---------------------------------------------------------------- the title

# GB/T 9704-2012 7.3.1: a title that needs more than one line breaks "词意完整，排列对称，长短适宜"
# (梯形 or 菱形). A line never starts with a particle, never ends with 关于 or a conjunction, and a
# year stays with its 年/年度.
_NO_LINE_START = ("的", "和", "与", "及", "等", "年", "度", "暨")
_NO_LINE_END = ("关于", "和", "与", "及", "暨", "对")
_YEAR = re.compile(r"^\d{4}$")


def title_lines(words: list[str], per_line: int) -> list[str]:
    """The title, given as its words in order (a segmenter's output), broken into the fewest
    lines of at most `per_line` characters, each line as close to the same length as the words
    allow. A title without a break point that fits is returned as one line."""
    # a year and its 年/年度 are one word; so are runs of single characters (禾|川|市: a name)
    merged: list[str] = []
    for w in words:
        if merged and (_YEAR.match(merged[-1]) and w.startswith("年") or len(w) == 1 and len(merged[-1]) == 1):
            merged[-1] += w
        else:
            merged.append(w)
    title = "".join(merged)
    n = len(title)
    if n <= per_line:
        return [title]
    cuts = [0]
    for w in merged:
        cuts.append(cuts[-1] + len(w))
    lines_needed = -(-n // per_line)
    for count in range(lines_needed, lines_needed + 3):
        best = _balanced(title, cuts, count, per_line)
        if best is not None:
            return [title[a:b] for a, b in zip(best, best[1:])]
    return [title]


def _balanced(title: str, cuts: list[int], count: int, per_line: int) -> list[int] | None:
    """The break points (cuts, with 0 and len) into `count` lines that fit, least uneven first;
    a break before a year (the organisation, then 2026年度…) is preferred."""
    n, target = len(title), len(title) / count

    def cost(a: int, b: int) -> float | None:
        line = title[a:b]
        if len(line) > per_line or line.startswith(_NO_LINE_START) or (b < n and line.endswith(_NO_LINE_END)):
            return None
        bonus = 2.0 if b < n and title[b : b + 4].isdigit() else 0.0
        return (len(line) - target) ** 2 - bonus

    # shortest path over the cut points with exactly `count` lines (titles are short)
    best: dict[tuple[int, int], tuple[float, list[int]]] = {(0, 0): (0.0, [0])}
    for lines in range(count):
        for (i, k), (c, path) in list(best.items()):
            if k != lines:
                continue
            for j in range(i + 1, len(cuts)):
                step = cost(cuts[i], cuts[j])
                if step is None:
                    continue
                key = (j, k + 1)
                total = c + step
                if key not in best or total < best[key][0]:
                    best[key] = (total, [*path, cuts[j]])
    final = best.get((len(cuts) - 1, count))
    return final[1] if final else None


# ---------------------------------------------------------------- the 文种 of a title

# GB/T 9704-2012 7.3.1: a title names 发文机关、事由 and 文种, the 文种 last. Report-like 文种 (an
# office's account of its own year) against rule-like ones (policies, plans, notices). Longer
# names first, so "工作报告" is not read as "报告" and "实施意见" not as "意见".
REPORT_GENRES = ("工作汇报", "工作总结", "工作报告", "述职报告", "情况报告", "汇报", "总结", "报告")
POLICY_GENRES = (
    "实施意见",
    "实施方案",
    "实施细则",
    "工作要点",
    "管理办法",
    "工作规范",
    "工作规定",
    "意见",
    "办法",
    "规定",
    "规范",
    "条例",
    "细则",
    "通知",
    "要点",
    "方案",
    "规划",
    "决定",
    "制度",
    "准则",
    "纲要",
    "规则",
    "守则",
    "规程",
    "指引",
    "指南",
)
# what may follow the 文种 in a title or a file name: a draft mark, a copy number, brackets
_GENRE_TAIL = re.compile(
    r"[（(【\[][^）)】\]]*[）)】\]]$|[-_ ]*(?:定稿|终稿|送审稿|修改稿|征求意见稿|草稿|v?\d+)$", re.I
)


def title_genre(title: str | None) -> Literal["report", "policy"] | None:
    """Whether a title (or a file name without its extension) ends with a report-like 文种
    (汇报, 总结, 报告) or a rule-like one (意见, 办法, 通知, 要点 …); None when it names neither."""
    text = (title or "").strip()
    for _ in range(3):  # "……工作汇报（定稿）(2)": peel a few tails
        text = _GENRE_TAIL.sub("", text).strip()
    if not text:
        return None
    # longest match wins: "征求意见稿" was peeled above, "工作报告" beats "报告"
    for genre in sorted(REPORT_GENRES + POLICY_GENRES, key=len, reverse=True):
        if text.endswith(genre):
            return "report" if genre in REPORT_GENRES else "policy"
    return None
