"""Number grounding (style-rules.md §4): find every figure a draft states and match it to a
supplied figure.

Pipeline: map full-width ASCII to ASCII 1:1 (so offsets stay offsets into the original
text), find placeholders, mask what is not a figure (fixed numerals, years, dates, document
numbers, ordinals, 《》 titles, short quotes, heading numbers), extract mentions with one
compiled regex, turn each into an interval and look for a supplied figure inside it.

Decisions where style-rules.md is silent (documented for the lead):
- 次/场/场次 are one unit class, 人/名/位 another (rules/units.yaml); 人次 is not 人.
- A 汉字 number is a figure only with a unit, and not when it is 一 (一个/一次 are articles
  in prose) or below 10 before a structural classifier (三个方面, 五项措施).
- An Arabic number without a unit is a figure; it is grounded by any figure whose base
  value lies in its interval, whatever that figure's unit.
- A number inside “” is checked like any other (issue 10): names with numerals are masked
  by the fixed-expression table wherever they stand, and 《》 titles are masked whole. Only an
  exact 汉字 count below 10 inside a short quote is a slogan's word, not a figure (“两张皮”,
  “一张网”), like the structural classifiers below.
- Word forms are numbers (issue 10, item 5): N成 = N×10 % ± 5 points, 近N成 = [N×10 − 10,
  N×10) %; M分之N as a percentage (± 5 points: a fraction is a coarse statement); 翻一番 /
  翻两番 as the ratio 2 / 4 (unit 倍); 一倍 (增加一倍) is read; a 汉字 number with 万/亿 is read
  without a unit (十万); 百分之百 is 100 %.
- A leading minus is part of an Arabic number (结余-35.5万元) when no digit or letter is
  right before it (3-5天 stays a range).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from assistant.check.grounding import Grounder
from assistant.check.reading import (
    DELTA,
    PERCENT_TOL,
    RATE_UNITS,
    NumberReading,
    inside,
    load_rules,
    trie_regex,
    unit_class,
    unit_tables,
)
from assistant.check.result import NumberMention
from assistant.check.terms import office_terms
from assistant.core.figures import SCALES, Figure
from assistant.gongwen import LABEL_FORM, PLACEHOLDER, from_hanzi, is_unverified, unverified

_SCALE = "|".join(prefix for prefix, _ in SCALES)  # 万亿|亿|万, the one scale table
_SCALE_FACTOR = dict(SCALES)

MASK = "\ue000"  # private-use character: masked text never matches a number

# Full-width ASCII -> ASCII, one character for one character (NFKC would do the same for these,
# but NFKC changes the length of other characters, e.g. ㎡ or …, and offsets must not move).
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0x00A0: 0x20, 0x2009: 0x20, 0x202F: 0x20})
# Keep the Chinese punctuation that is not an ASCII look-alike in running text.
for _c in "，；：！？（）":
    _FULLWIDTH.pop(ord(_c), None)


def to_ascii_digits(text: str) -> str:
    """Full-width digits, letters, ％ ． ～ to ASCII; same length as the input."""
    return text.translate(_FULLWIDTH)


_HDIGIT = "一二两三四五六七八九"
_HNUM = f"[零〇{_HDIGIT}十百千万亿]"
_HDEC = f"(?:点[零〇{_HDIGIT}]+)?"
_ARABIC = (
    r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d])|\d+)(?:[.·]\d+)?"  # 2·9%: a middle dot as decimal point
)
_APPROX = (
    f"[{_HDIGIT}]?十几|几十|数十|几百|数百|几千|数千|几万|数万|成百上千|上百|上千|上万"
    f"|[{_HDIGIT}][{_HDIGIT}][十百千万]?"
)
_PREFIX = "约|近|将近|超过|超|逾|共计|共|累计|达到|达|突破|不少于|不到|不足"
# 成 after a digit that is not a share: 一成不变, 三五成群 (masked), 两成员 …
_NOT_CHENG = "不变|群|员|本|果|效|绩|功|就|交|熟|品|立|型|事|语|规|色|全|家|才|分|份|为|长|年|都"
_FRACTION_DEN = "[二三四五六七八九十]"
# Every character a number mention can start with: digits, 汉字 numerals, 几/数/上/成 of
# approximations, the first characters of the prefixes, 百分之, 翻一番, a minus.
_FIRST = "[0-9零〇一二两三四五六七八九十百千万亿几数上成约近将超逾共累达突不翻\\-−]"


@lru_cache(maxsize=1)
def _mention_re() -> re.Pattern:
    units = "|".join(re.escape(u) for u in unit_tables()[0])
    # Word forms first, as whole alternatives: what follows them is never their unit (近三成人员).
    words = (
        rf"(?P<wpre>{_PREFIX})?"
        rf"(?:(?P<cheng>[{_HDIGIT}])成(?!{_NOT_CHENG})"
        rf"|(?P<fden>{_FRACTION_DEN})分之(?P<fnum>[{_HDIGIT}十]+)"
        rf"|(?P<fan>翻了?(?P<fann>[一两二三四])番|翻番))"
        rf"(?P<wsuf>以上|左右|多)?"
    )
    return re.compile(
        # a cheap look at the first character: most positions of a text start no number
        rf"(?={_FIRST})(?:{words}|"
        rf"(?P<pre>{_PREFIX})?"
        rf"(?:(?P<pct>百分之)(?P<pctnum>{_ARABIC}|{_HNUM}+{_HDEC})"
        rf"|(?P<approx>{_APPROX})"
        rf"|(?P<a1>{_ARABIC})(?P<s1>{_SCALE})?%?\s*[~至到\-—–]\s*(?P<a2>{_ARABIC})"
        rf"|(?P<neg>(?<![\dA-Za-z.%])[-−])?(?P<arabic>{_ARABIC})"
        rf"|(?P<hanzi>{_HNUM}+{_HDEC}))"
        # one space before a scale or unit belongs to the number ("1.4 %", "394.8 亿元")
        rf"(?: (?=(?:余|多)?(?:{_SCALE})?(?:余|多)?(?:{units})))?"
        rf"(?P<suf1>余|多)?(?P<scale>{_SCALE})?(?P<suf2>余|多)?(?P<unit>{units})?(?P<suf3>左右|上下|以上|余|多)?)"
    )


# what a drafter or a template writes where a figure goes: x / X / × / * / _ / □, half- or full-width
_MARKS = "XxＸｘ×*＊_＿□"


def _closes_bold(norm: str, start: int) -> bool:
    """Whether the ** or __ at `start` is Markdown bold, not a placeholder. It closes bold
    (**12个**项目) when it follows text directly and the same pair opened earlier in the clause;
    it opens bold (**县级融媒体中心**建设) when the same pair closes later in the clause around two
    or more characters with no mark or list comma among them. Otherwise a run after punctuation or a clause's
    first run is a placeholder (**个单位、**个个人, 犯罪嫌疑人*余人, **届**次会议)."""
    mark = norm[start]
    if mark not in "*＊_＿" or norm[start : start + 2] != mark * 2 or norm[start + 2 : start + 3] == mark:
        return False  # bold is ** or __ (a single * is a figure's placeholder: *月*日; *** is one too)
    clause = max(norm.rfind(c, 0, start) for c in "，。；：\n") + 1
    end = min((i for i in (norm.find(c, start) for c in "，。；：\n") if i >= 0), default=len(norm))
    close = norm.find(mark * 2, start + 2, end)
    inner = norm[start + 2 : close] if close >= 0 else ""
    if len(inner) >= 2 and not any(c in _MARKS or c in "、，,  " for c in inner):
        return True
    if norm[start - 1 : start] in " \t\n，。；：、,.;:!?！？（(":
        return False
    return mark * 2 in norm[clause:start]


_INSTITUTIONS = "中学|小学|学校|大学|医院|公司|集团|银行|酒店|宾馆|广场|公园|大道"  # kinds a name goes before


@lru_cache(maxsize=1)
def _placeholder_re() -> re.Pattern:
    """A figure not filled in: gongwen.PLACEHOLDER (【待补充：…】, XX, ××), a year (20xx年, 20*年),
    one to four marks where a figure goes, that is before a unit or a date's 月/日 (X次, ***件,
    *余人, x万余元, __名, x%, x.x%, *月*日, also with a space before the unit) or after 第 (第X位), where
    a name goes (**县, *乡, **届, x年, ****同志, **中学, 星期X, （联系人姓名）, E社区, LK主任), and a date left blank (年　月　日, 3月 日). A mark alone is a placeholder only there: ** around words is Markdown bold (L4), x in 3x3 a
    multiplication. The one recogniser of the checker: the register rules do
    not repeat it (a gap is reported once, as a placeholder the summary counts)."""
    units = "|".join(re.escape(u) for u in unit_tables()[0])
    alone = r"(?<![A-Za-zＡ-Ｚａ-ｚ0-9０-９.])"
    return re.compile(
        rf"(?:{PLACEHOLDER.pattern}"
        rf"|(?<![\d０-９])(?:19|20)[XxＸｘ*＊]{{1,2}}(?=年)"
        # (a space may stand between the marks and the unit, as in text taken from a PDF: x.x 万亩;
        # not after * or _, Markdown's: "* 人才引进" is a list item)
        rf"|{alone}[{_MARKS}]{{1,8}}(?:\.[{_MARKS}]{{1,2}})?(?=(?:(?<![*＊_])[ \u3000])?(?:余|多)?(?:{_SCALE})?(?:余|多)?(?:{units})|[月日时号])"
        # where a name goes: before an administrative unit, a session (届), 同志 or a kind of institution
        # (**县, *乡, ******同志, **中学, ××公司), and a weekday (星期X)
        rf"|{alone}[{_MARKS}]{{1,8}}(?=[省市县区乡镇村届年]|街道|社区|同志|{_INSTITUTIONS})"
        rf"|(?<=星期)[{_MARKS}](?![A-Za-zＡ-Ｚａ-ｚ])"
        # one or two capitals where a place's or a person's name goes (E社区, A村, S市, LK主任); not
        # before 公司 or 区 (IBM公司, 园区A区), nor a longer Latin word
        r"|(?<![A-Za-zＡ-Ｚａ-ｚ0-9０-９.])[A-ZＡ-Ｚ]{1,2}(?=社区|街道|[省市县乡镇村](?![A-Za-z])|同志|主任|书记|主席"
        r"|[局县区市镇乡村部处科]长)"
        # a bracket holding only a form's field name, where the name or date goes: （联系人姓名）, （单位名称）
        r"|[（(](?:联系人|负责人|单位|部门|企业|学校|项目|会议)?(?:姓名|名称|职务|联系电话|电话|日期|时间|地点)[）)]"
        rf"|(?<=第)[{_MARKS}]{{1,3}}(?![A-Za-zＡ-Ｚａ-ｚ])"
        # circles or o's where a figure or a name goes (○○县, ooo乡, OO万元); not the zero of a
        # written-out numeral (二○○○年, 一○○部队) nor a Latin word (Yahoo)
        rf"|(?<![A-Za-zＡ-Ｚａ-ｚ0-9０-９.一二三四五六七八九十百千万亿〇○零两])[oOｏＯ○]{{2,8}}(?![A-Za-zＡ-Ｚａ-ｚ])"
        rf"(?=(?:余|多)?(?:{_SCALE})?(?:余|多)?(?:{units})|[月日时号省市县区乡镇村届年]|街道|社区|同志)"
        # 某 where a name or a year goes (副主席某同志, 在某年大会上, 某某同志); not 某些, 某项, 张某
        r"|(?<!某)某{1,2}(?=同志|年(?![度代龄级]))"
        # a date whose numbers were left blank (年　月　日 under a signature, 于年月日前报送); not
        # 出生年月日, a form's label
        r"|(?:(?<![\u4e00-\u9fff])|(?<=[于至在止到]))年[ \u3000]*月[ \u3000]*日"
        # a day left blank after a month (3月 日，市政协召开……)
        r"|(?<![\d０-９])[\d０-９]{1,2}月[ \u3000]{1,3}日"
        rf")(?:余|多)?(?:{_SCALE})?(?:余|多)?(?:{units})?"
    )


_STRUCTURAL_MASKS = [
    r"\d{4}\s*年(?:度)?",  # years
    r"(?:19|20)\d{2}(?=\s*(?:版|届|级|学年|赛季))",  # 2025版, 2023级
    r"(?:19|20)\d{2}\s*[-—–~至到]\s*(?:19|20)\d{2}(?:\s*学?年度?)?",  # 2024—2025年, 2024-2025学年
    r"\d{1,2}\s*[-—–~至到]\s*\d{1,2}\s*月(?:份)?",  # 1至11月
    r"(?:近|过去|最近)\s*\d{1,2}\s*(?:年|个月)(?=\s*(?:均值|平均|来|以来|同期))",  # 与近5年均值相比: a period
    r"\d+(?:\s*\+\s*[\dA-Za-z]+)+",  # 1+N, 1+3+X policy systems
    r"\d{3,}(?=[”\"’]?(?:政务)?(?:服务)?(?:热线|专线|平台))",  # 12345热线, “12345”热线
    r"[A-Z]{2,}(?:/[A-Z])?\s*\d+(?:[.\-—]\d+)*",  # GB/T 9704-2012
    r"20\d[Xx]\s*年?",  # 202x年: a style finding (N1), not a figure
    r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*日",  # dates
    r"(?<![\d.])\d{1,2}\s*[:：]\s*\d{2}(?![\d.])|\d{1,2}\s*时(?:\s*\d{1,2}\s*分)?",  # times of day
    r"[〔\[（(【]\s*\d{4}\s*[〕\]）)】]\s*\d+\s*号",  # document numbers
    r"第\s*(?:\d+|[零〇一二两三四五六七八九十百千]+)(?:\s*[、,，和]\s*\d+(?=\s*[件项条个次]))*",  # ordinals, 第17、18件
    r"\[\d{1,2}\]",  # footnote markers
    r"“\d+”",  # a quoted bare number is a name (“3820”战略, “12345”)
    r"\d+\s*[×xX*]\s*\d+(?:\.\d+)?\s*(?:万|亿)?",  # 2×100万千瓦: a specification
    r"《[^》\n]*》",  # titles
    rf"^[ \t]*(?:#+\s*)?{LABEL_FORM}",  # heading numbers
    r"[（(]\d+[）)]|[①-⑳]",  # inline list numbers
    r"[A-Za-z]+[\d][A-Za-z\d]*|\d+[A-Za-z][A-Za-z\d]*",  # 5G, H5, MP4
    r"\d+(?:\.\d+)+\s*版",  # version numbers
]


@lru_cache(maxsize=8)
def _mask_res(extra: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    """The masks, one compiled regex each: scanning them one by one and taking the union of
    their spans is about twice as fast as one alternation of all of them."""
    data = load_rules("fixed_numerals.yaml")
    literals = sorted({*map(str, data.get("literals", [])), *extra}, key=len, reverse=True)
    parts = [*_STRUCTURAL_MASKS, *data.get("patterns", []), trie_regex(literals)]
    return tuple(re.compile(p, re.M) for p in parts)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for s, e in sorted(spans):
        if e <= pos:
            continue
        s = max(s, pos)
        out.append(text[pos:s])
        out.append(MASK * (e - s))
        pos = e
    out.append(text[pos:])
    return "".join(out)


_APPROX_FIXED = {  # 数十 = 20–99 (issue 10): "some tens" runs up to the next hundred
    "几十": (20, 99),
    "数十": (20, 99),
    "几百": (200, 999),
    "数百": (200, 999),
    "几千": (2000, 9999),
    "数千": (2000, 9999),
    "几万": (20000, 99999),
    "数万": (20000, 99999),
    "上百": (100, 199),
    "上千": (1000, 1999),
    "上万": (10000, 19999),
    "成百上千": (100, 9999),
}
_MAGNITUDE = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def _digit(ch: str) -> int | None:
    value = from_hanzi(ch)
    return None if value is None else int(value)


def _approx_interval(span: str) -> tuple[float, float] | None:
    if span in _APPROX_FIXED:
        return _APPROX_FIXED[span]
    if span.endswith("十几"):
        tens = (_digit(span[0]) or 0) * 10 if len(span) == 3 else 10
        return tens + 1, tens + 9
    a, b = _digit(span[0]), _digit(span[1])
    if a is None or b is None or b <= a:
        return None  # "二二", "五四": not an approximation
    scale = _MAGNITUDE.get(span[2], 1) if len(span) == 3 else 1
    return a * scale, b * scale


def _step(n: float) -> float:
    return 10 ** math.floor(math.log10(n)) if n > 0 else 1.0


def _arabic(s: str) -> float:
    return float(s.replace(",", "").replace(" ", "").replace("·", "."))


def _decimals(raw: str) -> int:
    raw = raw.replace("·", ".")
    return len(raw.split(".", 1)[1]) if "." in raw else 0


_THRESHOLD = ("新台阶", "台阶", "大关")  # a level passed: the figure is at least the number
_CHENG_HALF = 5.0  # N成 = N×10 % ± 5 points
_FRACTION_HALF = 5.0  # M分之N: a coarse share, ± 5 points


def _word_form(m: re.Match, g: dict) -> NumberReading | None:
    """两成, 近四成, 三分之一, 翻一番 (issue 10, item 5)."""
    pre, suf = g["wpre"] or "", g["wsuf"] or ""
    more = pre in ("超", "超过", "逾", "突破") or suf == "多"
    at_least = suf == "以上" or pre == "不少于"
    below = pre in ("近", "将近", "不到", "不足")
    about = pre == "约" or suf == "左右"
    if g["fan"]:
        times = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4}[g["fann"]] if g["fann"] else 1
        value = float(2**times)
        low, high = value * (1 - DELTA), value * (1 + DELTA)  # a word form is an approximation
        return NumberReading(m.start(), m.end(), value, "倍", low, high, ratio=True)
    if g["cheng"]:
        digit = _digit(g["cheng"])
        if digit is None:
            return None
        value, half = digit * 10.0, _CHENG_HALF
    else:
        den, num = from_hanzi(g["fden"]), from_hanzi(g["fnum"])
        if not den or num is None or num >= den:
            return None
        value, half = round(num / den * 100, 6), _FRACTION_HALF
    low, high, low_open, high_open = value - half, value + half, False, False
    if below:
        low, high, high_open = value - 2 * half, value, True  # 近四成 = [30, 40)
    elif more:
        low, high, low_open = value, value + 2 * half, True
    elif at_least:
        low, high = value, 100.0
    elif about:
        low, high = value - half, value + half
    return NumberReading(m.start(), m.end(), value, "%", low, high, low_open, high_open)


def _interpret(m: re.Match) -> NumberReading | None:
    g = m.groupdict()
    if g["cheng"] or g["fden"] or g["fan"]:
        return _word_form(m, g)
    unit = g["unit"] or ""
    scale = _SCALE_FACTOR.get(g["scale"] or "", 1.0)
    pre = g["pre"] or ""
    more = bool(g["suf1"] or g["suf2"] or g["suf3"] in ("余", "多")) or pre in ("超", "超过", "逾", "突破")
    at_least = g["suf3"] == "以上" or pre == "不少于"
    about = pre == "约" or g["suf3"] in ("左右", "上下")
    below = pre in ("近", "将近", "不到", "不足")
    hanzi_exact = False
    digits: int | None = None
    if g["pct"]:
        raw = g["pctnum"]
        value = _arabic(raw) if raw[0].isdigit() else from_hanzi(raw)
        if value is None:
            return None
        digits = _decimals(raw) if raw[0].isdigit() else None
        unit, low, high = "%", value, value
    elif g["approx"]:
        if not unit:
            return None
        iv = _approx_interval(g["approx"])
        if iv is None:
            return None
        low, high = iv[0] * scale, iv[1] * scale
        value = (low + high) / 2
        if about:
            low, high = low * (1 - DELTA), high * (1 + DELTA)
        return NumberReading(m.start(), m.end(), round(value, 6), unit, low, high)
    elif g["a1"]:
        s1 = _SCALE_FACTOR.get(g["s1"] or "", scale)
        low, high = _arabic(g["a1"]) * s1, _arabic(g["a2"]) * scale
        if high < low:
            return None
        return NumberReading(m.start(), m.end(), round((low + high) / 2, 6), unit, low, high)
    elif g["arabic"]:
        value = _arabic(g["arabic"]) * scale * (-1 if g["neg"] else 1)
        digits = _decimals(g["arabic"])
        low = high = value
    else:
        raw = g["hanzi"]
        value = from_hanzi(raw)
        if value is None:
            return None
        if not unit and not _bare_hanzi_figure(raw, value * scale):
            return None
        if raw in ("万", "亿"):
            return None  # 万家, 万人: idioms, not counts (百场, 千名 are counts)
        if value * scale == 1 and unit != "倍" and not (more or about or below):
            return None  # 一个/一次: an article, not a count (一倍 is a multiple: 增加一倍)
        _, _, structural = unit_tables()
        if value < 10 and unit in structural and not (more or about or below):
            return None  # 三个方面, 五项措施
        value *= scale
        low = high = value
        hanzi_exact = bool(unit) and not (more or about or below or at_least)
    value = round(value, 6)
    low_open = high_open = False
    if more:
        low, high, low_open, high_open = value, value + _step(value), True, True
    elif at_least:
        low, high, high_open = value, value + _step(value), True
    elif below:
        low, high, high_open = value * (1 - DELTA), value, True
    elif about:
        low, high = value * (1 - DELTA), value * (1 + DELTA)
    if unit in RATE_UNITS:
        low, high = low - PERCENT_TOL, high + PERCENT_TOL
    if not (more or about or below or at_least) and m.string.startswith(_THRESHOLD, m.end()):
        low, high, high_open = value, value + _step(value), True  # 登上5500万吨新台阶: at least
        at_least = True
    exact = not (more or about or below or at_least)
    return NumberReading(
        m.start(),
        m.end(),
        value,
        unit,
        low,
        high,
        low_open,
        high_open,
        hanzi_exact,
        digits=digits if exact else None,
        scale=scale,
    )


def _bare_hanzi_figure(raw: str, value: float) -> bool:
    """A 汉字 number without a unit is a figure when it is a count of 万/亿 written from a digit
    (十万, 两万, 三亿); 千万/万万/亿万/百万 open adverbs and idioms (千万不要), not counts."""
    return raw[-1] in "万亿" and raw[0] in "一二两三四五六七八九十" and value >= 10000


class Extraction(NamedTuple):
    """What one scan of a text found; check_text scans once and hands it to both checks."""

    mentions: list[NumberReading]
    placeholders: list[tuple[int, int, str]]  # (start, end, unit)
    norm: str  # to_ascii_digits(text): same offsets


def extract(text: str, terms: str | Path | None = None) -> Extraction:
    """All figure mentions and placeholders in `text`, in text order."""
    norm = to_ascii_digits(text)
    found, placeholders = _extract(norm, tuple(office_terms(terms).fixed_numerals))
    return Extraction(found, placeholders, norm)


def placeholder_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds a placeholder or an unverified mark, as the checker counts them (with the
    unit it takes: XX篇, ***件): what the export highlights."""
    return [(s, e) for s, e, _ in extract(text)[1]]


def _extract(norm: str, extra: tuple[str, ...]) -> tuple[list[NumberReading], list[tuple[int, int, str]]]:
    placeholders: list[tuple[int, int, str]] = []
    spans: list[tuple[int, int]] = []
    units = unit_tables()[0]
    for m in _placeholder_re().finditer(norm):
        if _closes_bold(norm, m.start()):
            continue
        tail = m.group(0)
        unit = next((u for u in units if tail.endswith(u) and not tail.startswith("【")), "")
        placeholders.append((m.start(), m.end(), unit))
        spans.append(m.span())
    for rx in _mask_res(extra):
        spans.extend(m.span() for m in rx.finditer(norm))
    masked = _mask(norm, spans)
    found = []
    quotes: list[tuple[int, int]] | None = None
    for m in _mention_re().finditer(masked):
        if m.start() == m.end():
            continue
        ex = _interpret(m)
        if ex is None:
            continue
        if ex.hanzi_exact and ex.value < 10:
            if quotes is None:
                quotes = [q.span() for q in _SHORT_QUOTE.finditer(norm)]
            if any(a <= ex.start and ex.end <= b for a, b in quotes):
                continue  # “两张皮”, “一张网”: a slogan's small 汉字 count names, it does not count
        found.append(ex)
    return _borrow_units(norm, found), placeholders


_UNIT_LIST_GAP = re.compile(r"\s*(?:、|和|及|与|或)\s*")


def _borrow_units(norm: str, found: list[NumberReading]) -> list[NumberReading]:
    """A bare exact number listed before a number with a unit takes its scale and unit
    ("分别回落2.16和1.66个百分点", "增长3、5亿元"): a report writes the unit once for the list."""
    for k in range(len(found) - 2, -1, -1):
        e, nxt = found[k], found[k + 1]
        if e.unit == "个" and nxt.unit == "个百分点" and _UNIT_LIST_GAP.fullmatch(norm[e.end : nxt.start]):
            # "分别拉动增长0.63个、2.34个、3.73个百分点": 个 stands for the list's 个百分点
            found[k] = NumberReading(
                e.start,
                e.end,
                e.value,
                nxt.unit,
                e.low - PERCENT_TOL,
                e.high + PERCENT_TOL,
                digits=e.digits,
                scale=e.scale,
            )
            continue
        if e.unit or not nxt.unit or e.digits is None or e.scale != 1.0 or e.value is None:
            continue
        if not _UNIT_LIST_GAP.fullmatch(norm[e.end : nxt.start]):
            continue
        value = round(e.value * nxt.scale, 6)
        low = high = value
        if nxt.unit in RATE_UNITS:
            low, high = low - PERCENT_TOL, high + PERCENT_TOL
        found[k] = NumberReading(e.start, e.end, value, nxt.unit, low, high, digits=e.digits, scale=nxt.scale)
    return found


_SHORT_QUOTE = re.compile(r"“[^”\n]{1,20}”|\"[^\"\n]{1,20}\"|‘[^’\n]{1,20}’")


def check_numbers(
    text: str,
    figures: list[Figure],
    *,
    terms: str | Path | None = None,
    extraction: Extraction | None = None,
    notes: str | None = None,
) -> list[NumberMention]:
    """Every number mention in `text`, grounded against `figures` (style-rules.md §4) and tied
    to the item its clause names (issue 10): grounded, invented, misattributed, unverified or
    placeholder, with the item, how it was attributed and, for a derived number, its formula.
    `terms`: an office terms file whose `fixed_numerals` are masked too (default $HUIBAO_TERMS).
    `extraction`: extract(text, terms) when the caller already has it (check_text scans once).
    `notes`: the section's notes, whose words may tie a clause to a figure."""
    found, placeholders, norm = extraction if extraction is not None else extract(text, terms)
    mentions = placeholder_mentions(text, placeholders)
    if found:
        extra = _notes_names(notes, figures, terms) if notes and figures else None
        mentions.extend(Grounder(text, norm, figures, found, extra).mentions())
    mentions.sort(key=lambda m: m.start)
    return mentions


def placeholder_mentions(text: str, placeholders: list[tuple[int, int, str]]) -> list[NumberMention]:
    """The placeholders (【待补充】, XX篇, ***件) and 【待核实】 marks of `text` as mentions: what a
    person still has to fill in or settle, with or without figures to check the numbers against."""
    return [
        NumberMention(
            text=text[s:e],
            value=None,
            unit=u,
            start=s,
            end=e,
            status="unverified" if is_unverified(text[s:e]) else "placeholder",
            figure_id=None,
            message=_UNVERIFIED_MESSAGE if is_unverified(text[s:e]) else _PLACEHOLDER_MESSAGE,
        )
        for s, e, u in placeholders
    ]


_PLACEHOLDER_MESSAGE = "待补充：请填入实际数据"
_UNVERIFIED_MESSAGE = "待核实：这个数字未能在数据中核实，请核对后改为数据中的数字"
# Words before a number in the notes that are not part of what it counts.
_NOTES_LEAD = re.compile(r"^(?:全年|今年|本年|共计|共|累计|其中|召开|开展|举办|组织|完成|达到|达|全市|全县|全区)+")


def _notes_names(notes: str, figures: list[Figure], terms: str | Path | None) -> dict[int, list[str]]:
    """Phrases the section's notes tie to a figure: in a notes clause, the words right before a
    number that only one figure's value fits ("发布会11次" ties 发布会 to 新闻发布会 = 11次)."""
    found, _, norm = extract(notes, terms)
    classes = [unit_class(f.base_unit) for f in figures]
    extra: dict[int, list[str]] = {}
    for e in found:
        if not e.unit:
            continue
        cls = unit_class(e.unit)
        fits = [i for i, f in enumerate(figures) if classes[i] == cls and inside(f.base_value, e)]
        if len(fits) != 1:
            continue
        lead = re.search(r"[\u4e00-\u9fff]+$", norm[max(0, e.start - 16) : e.start])
        phrase = _NOTES_LEAD.sub("", lead.group(0)) if lead else ""
        if 2 <= len(phrase) <= 12:
            extra.setdefault(fits[0], []).append(phrase)
    return extra


def coverage(mentions: list[NumberMention], figures: list[Figure]) -> tuple[list[str], list[str]]:
    used_ids = {m.figure_id for m in mentions if m.figure_id and m.status == "grounded"}
    used_ids |= {fid for m in mentions if m.status == "grounded" and m.derivation for fid in m.derivation.figure_ids}
    used = [f.id for f in figures if f.id in used_ids]
    unused = [f.id for f in figures if f.id not in used_ids]
    return used, unused


def mark_unverified(text: str, mentions: list[NumberMention]) -> str:
    """Mark each flagged mention (invented or misattributed) 【待核实：<original text>】
    (gongwen.unverified), from the end so offsets hold."""
    out = text
    for m in sorted((m for m in mentions if m.flagged), key=lambda m: m.start, reverse=True):
        out = f"{out[: m.start]}{unverified(out[m.start : m.end])}{out[m.end :]}"
    return out
