"""Derived figures (issue 10, item 2): numbers a report computes from supplied figures.

A figure may carry `last_year` (上年, same unit) and `part_of` (所属, the id of the figure that
includes it). From them the checker grounds, each tied to the item its clause names:
- growth:     同比/比上年/较上年 增长/下降/提高/降低 X%, 增幅 X%    (v − ly) / ly
- difference: 比上年 增加/减少/多/少 N                            v − ly
- points:     提高/下降 N个百分点 (a % figure and its last_year)    v − ly
- multiple:   是上年的N倍 (×N), 增长N倍 (×(1+N)), 翻一番 (×2)     v / ly
- share:      占…X%, 占比 X% (a figure and its part_of figure)     part / whole
- sum:        合计/共 N over the items named before it              a + b + …
The target is the item named in the clause, else in the nearest preceding clause of the same
sentence ("完成地区生产总值1234亿元，增长7.3%"). Rounding follows the digits written (37.5 → one
decimal); 约/左右/余/近 and word forms follow the interval rules (reading.agrees).

`derived_values(figures)` lists what can be computed, for the prompt's figures table, so the
model never does arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from pydantic import BaseModel

from assistant.check.reading import POINTS_OF, NumberReading, agrees, round_half_up, unit_class
from assistant.check.result import Derivation
from assistant.core.figures import Figure, figure_text, format_value

Kind = Literal["growth", "difference", "points", "multiple", "share", "sum"]

# Comparison with last year (or a named earlier year).
COMPARE = re.compile(
    r"同比|环比上年|比上年|较上年|比去年|较去年|与上年相比|与去年相比|同上年相比|比上一年|较上一年"
    r"|比(?:19|20)\d{2}年|较(?:19|20)\d{2}年"
)
_UP = "增长|提高|上升|增加|提升|增多|扩大|上涨|攀升|增产|增收|多增"
_DOWN = "下降|降低|减少|回落|下滑|缩小|下跌|减小|减低|减产|减收|少增"
_UP_SET = frozenset(_UP.split("|"))
_GROWTH_VERB = re.compile(rf"(?P<verb>{_UP}|{_DOWN})了?$")
# "年均增长5.1%", "两年平均增长6%": an average over years, not this year against last (a figure
# of its own, typed as such: "生产总值年均增速")
_AVERAGE = re.compile(r"(?:年均|平均|年平均)(?:增长|增速|增幅|提高|上涨)?(?:率)?(?:分别)?(?:为|达到|达|是)?$")
# "同比分别-6.2%、-19.3%": a signed rate after the comparison is a growth rate
_SIGNED_AFTER_COMPARE = re.compile(r"(?:同比|比上年|较上年|比去年|较去年)(?:分别)?(?:为|是)?$")
_RATE_WORD = re.compile(r"(?:增幅|降幅|增速|涨幅|增长率|增长幅度|下降幅度|下降率)(?:分别)?(?:为|达到|达|是)?$")
# A rate that is a share of two figures: 立案率, 完成率, 满意率, 败诉率 ("办理结果满意率分别达到98.5%").
_SHARE_RATE = re.compile(r"(?<!增长|下降|增速)率(?:分别)?(?:为|达到|达|是)?$")
_RATIO_BEFORE = re.compile(r"\d[:：︰∶]$")
_RATIO_AFTER = re.compile(r"^[:：︰∶]\d")
_MULTIPLE_OF = re.compile(r"(?:是|为|相当于|达到|达)(?:上年|去年|上一年)(?:同期)?(?:水平)?的$")
_MULTIPLE_UP = re.compile(rf"(?:{_UP})了?$")
_SHARE = re.compile(
    r"(?:占(?P<whole>[^，。；,;]{0,24}?)的?(?:比重|比例)?|占比|比重|比例"
    # a target met: "完成年目标任务12500人的98.5%" is the figure's share of its part_of (the target)
    r"|完成(?P<target>[^，。；,;]{0,24}?)的)(?:分别)?(?:为|达到|达|是)?$"
)
_DIFFERENCE = re.compile(rf"(?P<verb>{_UP}|{_DOWN}|多|少|新增)了?$")
_SUM = re.compile(r"(?:合计|共计|总计|一共|总共|共|累计)(?:为|达到|达|是)?$")
_SUM_PREFIX = ("共计", "共", "累计")


class Cue(NamedTuple):
    """What the words around a number say it is."""

    kind: Kind
    sign: int  # +1 an increase, -1 a decrease, 0 not said (增幅)
    strong: bool  # a mismatch is a wrong derived number (False: maybe not derived at all)
    offset: float = 0.0  # multiple: the ratio is N + offset (增长N倍 → 1; 是上年的N倍 → 0)
    whole: str = ""  # share: the words between 占 and the number
    ratio: bool = False  # share: one number of a ratio list (2.7:40.4:56.8)


def find_cue(before: str, sentence_before: str, mention: str, e: NumberReading, after: str = "") -> Cue | None:
    """The derivation the words suggest. `before`: the clause up to the number; `sentence_before`:
    the sentence up to the number (for 比上年 said earlier); `mention`: the number as written;
    `after`: a few characters after it (a ratio list)."""
    unit = e.unit
    before = before.rstrip()  # "增加 39公顷"
    if not unit and (_RATIO_BEFORE.search(before) or _RATIO_AFTER.match(after)):
        return Cue("share", 0, True, ratio=True)
    if unit in POINTS_OF.values():
        m = _GROWTH_VERB.search(before)
        return Cue("points", _sign(m.group("verb")) if m else 0, True)
    if unit == "倍":
        if e.ratio:
            return Cue("multiple", 1, True, 0.0)
        if _MULTIPLE_OF.search(before):
            return Cue("multiple", 1, True, 0.0)
        if _MULTIPLE_UP.search(before):
            return Cue("multiple", 1, True, 1.0)
        return None
    if unit == "%":
        if _AVERAGE.search(before):
            return None
        if _SIGNED_AFTER_COMPARE.search(before):
            return Cue("growth", 0, True)
        m = _GROWTH_VERB.search(before)
        if m:
            return Cue("growth", _sign(m.group("verb")), True)
        if _RATE_WORD.search(before):
            return Cue("growth", -1 if "降" in before[-5:] else 0, True)
        s = _SHARE.search(before)
        if s:
            return Cue("share", 0, True, whole=s.group("whole") or s.group("target") or "")
        if _SHARE_RATE.search(before):
            return Cue("share", 0, False)
        return None
    m = _DIFFERENCE.search(before)
    if m:
        compared = bool(COMPARE.search(sentence_before))
        verb = m.group("verb")
        if verb == "新增" and not compared:
            return None
        return Cue("difference", _sign(verb), compared)
    if mention.startswith(_SUM_PREFIX) or _SUM.search(before):
        return Cue("sum", 0, False)
    return None


def _sign(verb: str) -> int:
    return 1 if verb in _UP_SET or verb in ("多", "新增") else -1


def candidate(kind: Kind, figure: Figure, mention_class: str | None) -> bool:
    """Whether a named figure can be the target of a derived number of this kind."""
    if kind == "points":
        # 个百分点 of a % figure, 个千分点 of a ‰ figure
        rate = unit_class(figure.base_unit)
        return rate in POINTS_OF and (mention_class is None or POINTS_OF[rate] == mention_class)
    if kind == "difference":
        return mention_class is None or unit_class(figure.base_unit) == mention_class
    return True


def has_data(kind: Kind, figure: Figure) -> bool:
    if kind == "share":
        return figure.part_of is not None
    if kind == "sum":
        return True
    return figure.base_last_year is not None


# ---------------------------------------------------------------- computing


def _num(x: float) -> str:
    return format_value(round(x, 6))


def _shown(x: float, digits: int | None) -> str:
    """A computed value as the draft should write it: to the digits written, else one decimal."""
    return format_value(round_half_up(x, 1 if digits is None else digits))


def _exact(x: float, digits: int | None) -> str:
    """A computed value for a formula: at least one decimal, more when the draft wrote more."""
    return format_value(round_half_up(x, max(1, digits or 0)))


class Outcome(NamedTuple):
    """A derived number checked against its target: agrees or not, and how it was computed."""

    ok: bool
    derivation: Derivation
    expected: str  # what the draft should say, e.g. "37.5%" or "下降3.2%"
    basis: str  # the data the computation used, in words


def compute(cue: Cue, e: NumberReading, target: Figure, whole: Figure | None = None) -> Outcome | None:
    """Check the derived number `e` against `target` (and `whole` for a share). None when the
    data do not allow the computation (last_year missing or 0; no whole)."""
    v, ly = target.base_value, target.base_last_year
    digits = e.digits
    if cue.kind == "share":
        if whole is None or whole.base_value == 0:
            return None
        share = target.base_value / whole.base_value * 100
        same = target.unit == whole.unit
        p, w = (target.value, whole.value) if same else (target.base_value, whole.base_value)
        shown = _shown(share, digits)
        formula = f"{_num(p)}/{_num(w)} = {_exact(share, digits)}%"
        basis = f"“{target.item}”{figure_text(target)}占“{whole.item}”{figure_text(whole)}"
        return Outcome(
            agrees(share, e),
            Derivation(kind="share", figure_ids=[target.id, whole.id], formula=formula),
            f"{shown}%",
            basis,
        )
    if ly is None:
        return None
    sv, sly = format_value(target.value), format_value(target.last_year if target.last_year is not None else 0)
    basis = f"“{target.item}”今年{figure_text(target)}、上年{sly}{target.unit}"
    ids = [target.id]
    if cue.kind == "growth":
        if ly == 0:
            return None
        rate = (v - ly) / abs(ly) * 100
        want = -rate if cue.sign < 0 else rate
        if rate >= 0:
            formula = f"({sv}−{sly})/{sly} = {_exact(rate, digits)}%"
            expected = f"增长{_shown(rate, digits)}%"
        else:
            formula = f"({sly}−{sv})/{sly} = {_exact(-rate, digits)}%"
            expected = f"下降{_shown(-rate, digits)}%"
        return Outcome(agrees(want, e), Derivation(kind="growth", figure_ids=ids, formula=formula), expected, basis)
    if cue.kind in ("difference", "points"):
        diff = v - ly
        want = -diff if cue.sign < 0 else diff
        unit = POINTS_OF.get(target.base_unit, "个百分点") if cue.kind == "points" else target.unit
        d_supplied = (target.value - (target.last_year or 0)) if target.last_year is not None else diff
        amount = _num(abs(d_supplied)) if digits is None else format_value(round_half_up(abs(d_supplied), digits))
        formula = f"{sv}−{sly} = {_num(d_supplied)}{unit}"
        word = (
            ("提高" if cue.kind == "points" else "增加") if diff >= 0 else ("下降" if cue.kind == "points" else "减少")
        )
        ok = agrees(want, e)
        kind: Kind = "points" if cue.kind == "points" else "difference"
        return Outcome(ok, Derivation(kind=kind, figure_ids=ids, formula=formula), f"{word}{amount}{unit}", basis)
    if cue.kind == "multiple":
        if ly == 0:
            return None
        ratio = v / ly
        shown = _exact(ratio, digits)
        formula = f"{sv}/{sly} = {shown}倍"
        ok = agrees(ratio - cue.offset, e)
        expected = f"是上年的{shown}倍"
        return Outcome(ok, Derivation(kind="multiple", figure_ids=ids, formula=formula), expected, basis)
    return None


def compute_sum(e: NumberReading, parts: Sequence[Figure]) -> Outcome | None:
    """合计/共 N over the named parts (two or more, one unit class)."""
    if len(parts) < 2:
        return None
    total = sum(f.base_value for f in parts)
    same_unit = len({f.unit for f in parts}) == 1
    values = [f.value if same_unit else f.base_value for f in parts]
    unit = parts[0].unit if same_unit else parts[0].base_unit
    formula = "+".join(_num(x) for x in values) + f" = {_num(sum(values))}{unit}"
    basis = "、".join(f"“{f.item}”{figure_text(f)}" for f in parts)
    derivation = Derivation(kind="sum", figure_ids=[f.id for f in parts], formula=formula)
    return Outcome(agrees(total, e), derivation, f"{_num(sum(values))}{unit}", basis)


# ---------------------------------------------------------------- for the prompt


class DerivedValue(BaseModel):
    """A value computed from the supplied figures, as a drafter writes it."""

    kind: Kind
    figure_ids: list[str]
    item: str
    value: float  # rounded as written: 37.5 (%), 3 (次), 2.5 (个百分点), 2.1 (倍)
    unit: str  # "%", the figure's unit, "个百分点" or "倍"
    formula: str  # "(11−8)/8 = 37.5%"
    text: str  # "比上年增长37.5%"


def derived_values(figures: Sequence[Figure]) -> list[DerivedValue]:
    """Everything the figures allow to compute: per figure with last_year its growth (or, for a
    % figure, the change in points), difference and, from twice upward, multiple; per figure
    with part_of its share of that figure. Percentages and ratios to one decimal."""
    by_id = {f.id: f for f in figures}
    out: list[DerivedValue] = []
    for f in figures:
        if f.last_year is not None and f.base_last_year is not None:
            v, ly = f.base_value, f.base_last_year
            sv, sly = format_value(f.value), format_value(f.last_year)
            diff = round(f.value - f.last_year, 6)
            if unit_class(f.base_unit) in POINTS_OF:
                points = POINTS_OF[unit_class(f.base_unit)]
                word = "提高" if diff >= 0 else "下降"
                amount = format_value(abs(diff))
                out.append(
                    DerivedValue(
                        kind="points",
                        figure_ids=[f.id],
                        item=f.item,
                        value=abs(diff),
                        unit=points,
                        formula=f"{sv}−{sly} = {format_value(diff)}{points}",
                        text=f"比上年{word}{amount}{points}" if diff else "与上年持平",
                    )
                )
                continue
            if ly != 0:
                rate = (v - ly) / abs(ly) * 100
                shown = format_value(round_half_up(abs(rate), 1))
                formula = f"({sv}−{sly})/{sly} = {shown}%" if rate >= 0 else f"({sly}−{sv})/{sly} = {shown}%"
                out.append(
                    DerivedValue(
                        kind="growth",
                        figure_ids=[f.id],
                        item=f.item,
                        value=round_half_up(abs(rate), 1),
                        unit="%",
                        formula=formula,
                        text=f"比上年{'增长' if rate >= 0 else '下降'}{shown}%" if rate else "与上年持平",
                    )
                )
            out.append(
                DerivedValue(
                    kind="difference",
                    figure_ids=[f.id],
                    item=f.item,
                    value=abs(diff),
                    unit=f.unit,
                    formula=f"{sv}−{sly} = {format_value(diff)}{f.unit}",
                    text=f"比上年{'增加' if diff >= 0 else '减少'}{format_value(abs(diff))}{f.unit}"
                    if diff
                    else "与上年持平",
                )
            )
            if ly > 0 and v / ly >= 2:
                ratio = round_half_up(v / ly, 1)
                out.append(
                    DerivedValue(
                        kind="multiple",
                        figure_ids=[f.id],
                        item=f.item,
                        value=ratio,
                        unit="倍",
                        formula=f"{sv}/{sly} = {format_value(ratio)}倍",
                        text=f"是上年的{format_value(ratio)}倍",
                    )
                )
        whole = by_id.get(f.part_of or "")
        if whole is not None and whole.base_value:
            share = round_half_up(f.base_value / whole.base_value * 100, 1)
            p, w = (f.value, whole.value) if f.unit == whole.unit else (f.base_value, whole.base_value)
            out.append(
                DerivedValue(
                    kind="share",
                    figure_ids=[f.id, whole.id],
                    item=f.item,
                    value=share,
                    unit="%",
                    formula=f"{format_value(p)}/{format_value(w)} = {format_value(share)}%",
                    text=f"占{whole.item}的{format_value(share)}%",
                )
            )
    return out
