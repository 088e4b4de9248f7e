"""A number as a draft writes it, and the shared tables that reading and grounding use: the
rules files, unit classes, the interval a mention stands for and rounding by the digits written.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import yaml

RULES_DIR = Path(__file__).parent / "rules"
DELTA = 0.1  # relative width of 约/近/左右 (style-rules.md §4 step 4; unsourced)
PERCENT_TOL = 0.05  # absolute tolerance for percentages and 个百分点
# A rate and the unit its change is written in: 5.2% → 提高0.3个百分点; 6.13‰ → 下降0.62个千分点.
POINTS_OF = {"%": "个百分点", "‰": "个千分点"}
RATE_UNITS = frozenset(POINTS_OF) | frozenset(POINTS_OF.values())


def load_rules(name: str) -> dict:
    """One rules/*.yaml file (shared by the number check and the style lint)."""
    return yaml.safe_load((RULES_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def unit_tables() -> tuple[list[str], dict[str, str], frozenset[str]]:
    """(units longest first, unit -> class, structural classifiers) from rules/units.yaml."""
    data = load_rules("units.yaml")
    units = sorted({str(u) for u in data["units"]}, key=len, reverse=True)
    classes = {member: name for name, members in data.get("classes", {}).items() for member in members}
    return units, classes, frozenset(data.get("structural", []))


def unit_class(unit: str) -> str:
    return unit_tables()[1].get(unit, unit)


@lru_cache(maxsize=1)
def counters() -> frozenset[str]:
    """Classifiers that count the thing an item names (rules/units.yaml `counters`)."""
    return frozenset(str(u) for u in load_rules("units.yaml").get("counters", []))


class NumberReading:
    """A figure as the text states it: its value and unit, and the interval of true values it
    allows (约/近/余/以上 widen it; an open end excludes the bound). `digits`: decimals written
    when the number is an exact Arabic one (37.5 → 1), else None (an approximation or a word
    form: compare by the interval); `scale`: the 万/亿 factor written; `ratio`: for 翻一番 the
    value is a ratio, not a count."""

    __slots__ = (
        "start",
        "end",
        "value",
        "unit",
        "low",
        "high",
        "low_open",
        "high_open",
        "hanzi_exact",
        "digits",
        "scale",
        "ratio",
    )

    def __init__(
        self,
        start: int,
        end: int,
        value: float,
        unit: str,
        low: float,
        high: float,
        low_open: bool = False,
        high_open: bool = False,
        hanzi_exact: bool = False,
        digits: int | None = None,
        scale: float = 1.0,
        ratio: bool = False,
    ):
        self.start, self.end, self.value, self.unit = start, end, value, unit
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.hanzi_exact, self.digits, self.scale, self.ratio = hanzi_exact, digits, scale, ratio


def inside(x: float, e: NumberReading) -> bool:
    """Whether the true value x is one the mention allows."""
    eps = 1e-9 * max(1.0, abs(x))
    above = x > e.low + eps if e.low_open else x >= e.low - eps
    under = x < e.high - eps if e.high_open else x <= e.high + eps
    return above and under


def round_half_up(x: float, digits: int) -> float:
    """x rounded the way a report rounds (37.45 → 37.5, 36.5 → 37), not banker's rounding."""
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def agrees(computed: float, e: NumberReading) -> bool:
    """A computed value agrees with the mention: rounded to the digits written when the
    mention is an exact Arabic number (37.5% → one decimal), else inside its interval
    (约/近/余/以上 and word forms follow the interval rules)."""
    if e.digits is not None and e.value is not None:
        return round_half_up(computed / e.scale, e.digits) == round_half_up(e.value / e.scale, e.digits)
    return inside(computed, e)


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
