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
- Text in “” is masked only when short (≤ 20 characters: a name or slogan, not a quotation).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml

from assistant.check.result import NumberMention
from assistant.check.terms import office_terms
from assistant.core.figures import SCALES, Figure
from assistant.gongwen import LABEL_FORM, PLACEHOLDER, from_hanzi, is_unverified, unverified

_SCALE = "|".join(prefix for prefix, _ in SCALES)  # 万亿|亿|万, the one scale table
_SCALE_FACTOR = dict(SCALES)

RULES_DIR = Path(__file__).parent / "rules"
DELTA = 0.1  # relative width of 约/近/左右 (style-rules.md §4 step 4; unsourced)
PERCENT_TOL = 0.05  # absolute tolerance for percentages and 个百分点
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


def load_rules(name: str) -> dict:
    """One rules/*.yaml file (shared by the number check and the style lint)."""
    return yaml.safe_load((RULES_DIR / name).read_text(encoding="utf-8"))


_HDIGIT = "一二两三四五六七八九"
_HNUM = f"[零〇{_HDIGIT}十百千万亿]"
_HDEC = f"(?:点[零〇{_HDIGIT}]+)?"
_ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,3}(?: \d{3})+(?![\d])|\d+)(?:\.\d+)?"
_APPROX = (
    f"[{_HDIGIT}]?十几|几十|数十|几百|数百|几千|数千|几万|数万|成百上千|上百|上千|上万"
    f"|[{_HDIGIT}][{_HDIGIT}][十百千万]?"
)
_PREFIX = "约|近|将近|超过|超|逾|共计|共|累计|达到|达|突破|不少于|不到|不足"


@lru_cache(maxsize=1)
def _unit_tables() -> tuple[list[str], dict[str, str], frozenset[str]]:
    data = load_rules("units.yaml")
    units = sorted({str(u) for u in data["units"]}, key=len, reverse=True)
    classes = {member: name for name, members in data.get("classes", {}).items() for member in members}
    return units, classes, frozenset(data.get("structural", []))


def unit_class(unit: str) -> str:
    return _unit_tables()[1].get(unit, unit)


@lru_cache(maxsize=1)
def _mention_re() -> re.Pattern:
    units = "|".join(re.escape(u) for u in _unit_tables()[0])
    return re.compile(
        rf"(?P<pre>{_PREFIX})?"
        rf"(?:(?P<pct>百分之)(?P<pctnum>{_ARABIC}|{_HNUM}+{_HDEC})"
        rf"|(?P<approx>{_APPROX})"
        rf"|(?P<a1>{_ARABIC})(?P<s1>{_SCALE})?%?\s*[~至到\-—–]\s*(?P<a2>{_ARABIC})"
        rf"|(?P<arabic>{_ARABIC})"
        rf"|(?P<hanzi>{_HNUM}+{_HDEC}))"
        rf"(?P<suf1>余|多)?(?P<scale>{_SCALE})?(?P<suf2>余|多)?(?P<unit>{units})?(?P<suf3>左右|上下|以上|余|多)?"
    )


@lru_cache(maxsize=1)
def _placeholder_re() -> re.Pattern:
    units = "|".join(re.escape(u) for u in _unit_tables()[0])
    # "X次": a single X only counts as a placeholder when a unit follows.
    return re.compile(
        rf"(?:{PLACEHOLDER.pattern}|(?<![A-Za-z])X(?=(?:{_SCALE})?(?:{units})))(?:余|多)?(?:{_SCALE})?(?:{units})?"
    )


_STRUCTURAL_MASKS = [
    r"\d{4}\s*年(?:度)?",  # years
    r"(?:19|20)\d{2}(?=\s*(?:版|届|级|学年|赛季))",  # 2025版, 2023级
    r"(?:19|20)\d{2}\s*[-—–~至到]\s*(?:19|20)\d{2}(?:\s*学?年度?)?",  # 2024—2025年, 2024-2025学年
    r"\d{1,2}\s*[-—–~至到]\s*\d{1,2}\s*月(?:份)?",  # 1至11月
    r"\d+(?:\s*\+\s*[\dA-Za-z]+)+",  # 1+N, 1+3+X policy systems
    r"\d{3,}(?=(?:政务)?(?:服务)?(?:热线|专线|平台))",  # 12345热线
    r"[A-Z]{2,}(?:/[A-Z])?\s*\d+(?:[.\-—]\d+)*",  # GB/T 9704-2012
    r"20\d[Xx]\s*年?",  # 202x年: a style finding (N1), not a figure
    r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*日",  # dates
    r"\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*时(?:\s*\d{1,2}\s*分)?",  # times of day
    r"[〔\[（(【]\s*\d{4}\s*[〕\]）)】]\s*\d+\s*号",  # document numbers
    r"第\s*(?:\d+|[零〇一二两三四五六七八九十百千]+)",  # ordinals
    r"《[^》\n]*》",  # titles
    r"“[^”\n]{1,20}”|\"[^\"\n]{1,20}\"|‘[^’\n]{1,20}’",  # short quoted names and slogans
    rf"^[ \t]*(?:#+\s*)?{LABEL_FORM}",  # heading numbers
    r"[（(]\d+[）)]|[①-⑳]",  # inline list numbers
    r"[A-Za-z]+[\d][A-Za-z\d]*|\d+[A-Za-z][A-Za-z\d]*",  # 5G, H5, MP4
    r"\d+(?:\.\d+)+\s*版",  # version numbers
]


def trie_regex(words: list[str]) -> str:
    """One regex for many literals, as a character trie (a flat alternation of ~150 words makes
    the regex engine try each word at every position; the trie tries one branch per character)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie) if words else "(?!)"


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


_APPROX_FIXED = {
    "几十": (20, 90),
    "数十": (20, 90),
    "几百": (200, 900),
    "数百": (200, 900),
    "几千": (2000, 9000),
    "数千": (2000, 9000),
    "几万": (20000, 90000),
    "数万": (20000, 90000),
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


class NumberReading:
    """A figure as the text states it: its value and unit, and the interval of true values it
    allows (约/近/余/以上 widen it; an open end excludes the bound)."""

    __slots__ = ("start", "end", "value", "unit", "low", "high", "low_open", "high_open", "hanzi_exact")

    def __init__(self, start, end, value, unit, low, high, low_open=False, high_open=False, hanzi_exact=False):
        self.start, self.end, self.value, self.unit = start, end, value, unit
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.hanzi_exact = hanzi_exact


def _arabic(s: str) -> float:
    return float(s.replace(",", "").replace(" ", ""))


def _interpret(m: re.Match) -> NumberReading | None:
    g = m.groupdict()
    unit = g["unit"] or ""
    scale = _SCALE_FACTOR.get(g["scale"] or "", 1.0)
    pre = g["pre"] or ""
    more = bool(g["suf1"] or g["suf2"] or g["suf3"] in ("余", "多")) or pre in ("超", "超过", "逾", "突破")
    at_least = g["suf3"] == "以上" or pre == "不少于"
    about = pre == "约" or g["suf3"] in ("左右", "上下")
    below = pre in ("近", "将近", "不到", "不足")
    hanzi_exact = False
    if g["pct"]:
        raw = g["pctnum"]
        value = _arabic(raw) if raw[0].isdigit() else from_hanzi(raw)
        if value is None:
            return None
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
        value = _arabic(g["arabic"]) * scale
        low = high = value
    else:
        value = from_hanzi(g["hanzi"])
        if value is None or not unit:
            return None
        if value * scale == 1 and not (more or about or below):
            return None  # 一个/一次: an article, not a count
        _, _, structural = _unit_tables()
        if value < 10 and unit in structural and not (more or about or below):
            return None  # 三个方面, 五项措施
        value *= scale
        low = high = value
        hanzi_exact = not (more or about or below or at_least)
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
    if unit in ("%", "个百分点"):
        low, high = low - PERCENT_TOL, high + PERCENT_TOL
    return NumberReading(m.start(), m.end(), value, unit, low, high, low_open, high_open, hanzi_exact)


def _inside(x: float, e: NumberReading) -> bool:
    eps = 1e-9 * max(1.0, abs(x))
    above = x > e.low + eps if e.low_open else x >= e.low - eps
    under = x < e.high - eps if e.high_open else x <= e.high + eps
    return above and under


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


def _extract(norm: str, extra: tuple[str, ...]) -> tuple[list[NumberReading], list[tuple[int, int, str]]]:
    placeholders: list[tuple[int, int, str]] = []
    spans: list[tuple[int, int]] = []
    units = _unit_tables()[0]
    for m in _placeholder_re().finditer(norm):
        tail = m.group(0)
        unit = next((u for u in units if tail.endswith(u) and not tail.startswith("【")), "")
        placeholders.append((m.start(), m.end(), unit))
        spans.append(m.span())
    for rx in _mask_res(extra):
        spans.extend(m.span() for m in rx.finditer(norm))
    masked = _mask(norm, spans)
    found = []
    for m in _mention_re().finditer(masked):
        if m.start() == m.end():
            continue
        ex = _interpret(m)
        if ex is not None:
            found.append(ex)
    return found, placeholders


def _ground(e: NumberReading, figures: list[Figure], classes: list[str]) -> Figure | None:
    """The supplied figure inside the mention's interval closest to its value; `classes`: the
    figures' unit classes, computed once per check."""
    cls = unit_class(e.unit) if e.unit else None
    best, best_gap = None, math.inf
    for f, f_cls in zip(figures, classes):
        if cls is not None and f_cls != cls:
            continue
        if _inside(f.base_value, e):
            gap = abs(f.base_value - (e.value or 0))
            if gap < best_gap:
                best, best_gap = f, gap
    return best


def check_numbers(
    text: str,
    figures: list[Figure],
    *,
    terms: str | Path | None = None,
    extraction: Extraction | None = None,
    notes: str | None = None,
) -> list[NumberMention]:
    """Every number mention in `text`, grounded against `figures` (style-rules.md §4).
    `terms`: an office terms file whose `fixed_numerals` are masked too (default $HUIBAO_TERMS).
    `extraction`: extract(text, terms) when the caller already has it (check_text scans once).
    `notes`: the section's notes, whose words may tie a clause to a figure."""
    found, placeholders, _ = extraction if extraction is not None else extract(text, terms)
    mentions = [
        NumberMention(
            text=text[s:e],
            value=None,
            unit=u,
            start=s,
            end=e,
            status="unverified" if is_unverified(text[s:e]) else "placeholder",
            figure_id=None,
        )
        for s, e, u in placeholders
    ]
    classes = [unit_class(f.base_unit) for f in figures]
    for e in found:
        fig = _ground(e, figures, classes)
        mentions.append(
            NumberMention(
                text=text[e.start : e.end],
                value=e.value,
                unit=e.unit,
                start=e.start,
                end=e.end,
                status="grounded" if fig else "invented",
                figure_id=fig.id if fig else None,
                low=round(e.low, 6),
                high=round(e.high, 6),
            )
        )
    mentions.sort(key=lambda m: m.start)
    return mentions


def coverage(mentions: list[NumberMention], figures: list[Figure]) -> tuple[list[str], list[str]]:
    used_ids = {m.figure_id for m in mentions if m.figure_id}
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
