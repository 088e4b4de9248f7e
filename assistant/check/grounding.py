"""One check's grounding (issue 10): each number read from a text is tied to the item its
clause names and checked against that item's figure, or against what the figures compute.

For a number, in this order:
1. Derived words around it (增长 X%, 比上年增加 N, 占 X%, 是上年的N倍 …, derived.find_cue): its
   target is the item it is about (target()); the value computed from that item's last_year or
   part_of must agree (derived.compute). A wrong derived number of a 分别 list that is what
   another item of the list computes to → misattributed (sibling_fits). A ratio list
   ("15.3:31.3:53.4") pairs in order with the figures the table gives in a row (ratio_order).
2. The item its clause pairs it with (分别 lists in order; a clause opening with 分别 that names
   nothing goes on with the list before it; else attribution.nearest), of the same unit class:
   its value is that item's figure → grounded (attribution "item").
3. A figure of an item the clause names that no other number of the clause took → grounded.
4. 合计/共 N: the sum of the items named before it in its sentence → grounded.
5. Paired, but the value is another item's figure → misattributed, unless that other item is
   named in the clause as well (it shares the piece of name that paired the number, or most of
   its name is in the clause: the clause is ambiguous, not wrong) → grounded to it.
   Paired, value matches no figure → invented, with the item.
6. Not paired: an elliptical clause goes on with the item an earlier clause of its sentence
   names ("蔬菜播种面积3938公顷，…，产量106551吨", elliptical()), paired as in 2 and 5; else
   today's value match (attribution "value"), else invented.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from typing import Literal

from assistant.check.attribution import (
    GENERIC_WORDS,
    Occurrence,
    beyond,
    coverage,
    covered,
    drop_contained,
    figure_names,
    long_items,
    loose_names,
    names_in,
    nearest,
    normalise_name,
    respectively,
    specific_in,
)
from assistant.check.derived import Cue, Outcome, candidate, compute, compute_sum, find_cue, has_data
from assistant.check.reading import RATE_UNITS, NumberReading, counters, inside, round_half_up, unit_class
from assistant.check.result import NumberMention, Status
from assistant.core.figures import Figure, figure_text, format_value
from assistant.gongwen import CLAUSE_CONTINUES, clauses

NOT_IN_FIGURES = "提供的数据中没有这个数字，请核实，或改为【待补充】"
RESPECTIVELY = "分别"
# A number listed after another ("分别增长10%、37.5%") is what the one before it is.
_LIST_GAP = re.compile(r"\s*(?:、|和|及|与|以及)\s*")
# What may stand between an item and the number counting it: 共/达/为 (the mention itself
# takes 共计/达到/约), 的 ("10个的").
_ATTACH_GAP = re.compile(r"[共达为有的]?")
# Elliptical clauses: the share of an item the sentence must hold, and its lead over the next item.
PIECE_MAX = 8  # characters right before a number tried as a piece of an item's name
_ADJACENT_GAP = frozenset("共达为有的 ")
_ORDINAL_LIST = re.compile("第[一二三四五六七八九十](?:[、和及与][一二三四五六七八九十])+(?![一二三四五六七八九十])")
_ORDINAL = re.compile("[一二三四五六七八九十]")
_DIGITS = re.compile(r"\d+")
_CONJUNCT_SPLIT = re.compile("[、和及与]")
# What the list is compared with, written after it ("…和直接经济损失与近5年均值相比分别下降…").
_COMPARED_TAIL = re.compile(r"(?:与[^、，,]*?相比|同比|较上年|比上年|较去年|比去年)$")
# The verb between a clause's words and its number ("基本满意率为", "总数达到").
_LEAD_VERB = re.compile(r"(?:分别)?(?:为|达到|达|是|有|共|计|约|近|超过|突破)*$")
# Words that put an item in the plan rather than the outcome ("计划发放租赁补贴").
_SCOPE = re.compile("计划|预计|目标|拟")
_CONJUNCTIONS = frozenset("、和及与")
_CHANGE_UNITS = frozenset({"倍", "%"})
_FROM_TO = re.compile(r"(?:提高|增加|增长|上升|扩大|提升|下降|降低|减少|调整|调|升|降)(?:到|至|为)")
_DIGIT = re.compile(r"\d")
_ASIDE = re.compile(r"[（(][^（()）]{1,40}[）)]")
_LIST_MARK = re.compile(r"[、，,；;]|\d")
_CONJUNCT_STOP = frozenset('、和及与，,；;。：:（(“"')
_CONJUNCT_MAX = 12  # characters of one listed head
# a listed tail after a whole item: up to the next list mark, 分别 or a number
_CONJUNCT_AFTER = re.compile(r"(?:(?!分别)[^、和及与，,；;。：:（(“\"\d]){1,12}")
_EDGE_HEAD = re.compile("^(?:" + "|".join(GENERIC_WORDS) + "|的)+")
_DIGIT_OR_MARK = re.compile(r"[\d，,；;：:、（）()“”]")
MOSTLY_NAMED = 0.75  # of an item's characters in a clause paired by a piece of another name
ELLIPSIS_MIN = 0.5  # of the item's characters
ELLIPSIS_LEAD = 2  # characters
_WORD = re.compile(r"[\u4e00-\u9fff]")
_GENERIC = re.compile("|".join(GENERIC_WORDS))
_QUALIFIER = re.compile(r"[（(][^）)]*[）)]")
# A derived number followed by the value it reached: "增长12.6%达92.9亿元".
_REACHED = ("达", "达到", "为", "至")
# The clause after a 分别 list of derived numbers that gives the values: "分别达43366元和13835元".
_REACHED_LIST = re.compile(r"^\s*分别(?:达到|达|为|是)")


class Grounder:
    """The figures' names compiled once, the text's clauses split once, each clause's names
    found once, on demand; the numbers grounded in text order (a derived number's target may be
    the item an earlier number was about)."""

    def __init__(
        self,
        text: str,
        norm: str,
        figures: list[Figure],
        found: list[NumberReading],
        extra: dict[int, list[str]] | None = None,
    ):
        self.text, self.norm, self.figures, self.found = text, norm, figures, found
        self.classes = [unit_class(f.base_unit) for f in figures]
        self.by_id = {f.id: f for f in figures}
        self.item_index = {f.item: k for k, f in reversed(list(enumerate(figures)))}
        self.plain_items = [_QUALIFIER.sub("", normalise_name(f.item)) for f in figures]
        # digits never tie a clause to an item (elliptical): the items with their digits masked, once
        self.masked_items = [_DIGITS.sub("@", item) for item in self.plain_items]
        self.index = {f.id: k for k, f in enumerate(figures)}
        self.keys = figure_names(figures, extra)
        self.long = long_items(figures)
        self._of_unit_class: dict[str | None, list[int]] = {}
        self._before: dict[int, list[int]] = {}
        self.fig_digits = [len(format_value(f.value).partition(".")[2]) for f in figures]
        self.spans = clauses(norm)
        starts = [s for s, _ in self.spans]
        self._names: dict[int, list[Occurrence]] = {}
        self._tails: dict[str, tuple[int, ...]] | None = None
        self._tail_names: dict[int, list[Occurrence]] = {}
        self.in_clause: dict[int, list[int]] = {}
        self._asides: list[tuple[int, int]] | None = None
        if any(_DIGIT.search(f.item) for f in figures):
            # a number inside an item's name is part of the name ("60岁及以上人口", "0-14岁、
            # 15-59岁…人口"), not a figure
            found = [e for e in found if not self.in_a_name(e, max(0, bisect_right(starts, e.start) - 1))]
            self.found = found
        self.clause_of = [max(0, bisect_right(starts, e.start) - 1) for e in found]
        for i, ci in enumerate(self.clause_of):
            self.in_clause.setdefault(ci, []).append(i)
        self._pairs: dict[tuple[int, str | None], tuple[dict[int, tuple[int, ...]], int | None]] = {}
        self._by_value: dict[int, int | None] = {}
        self.results: list[NumberMention] = []
        self.cues: list[Cue | None] = []
        # the figures each number is about (several when one value fits several named items), for
        # the targets of later derived numbers
        self.subjects: list[tuple[int, ...]] = []

    def mentions(self) -> list[NumberMention]:
        for i in range(len(self.found)):
            mention, subject = self.ground(i)
            self.results.append(mention)
            self.subjects.append(subject)
        return self.results

    # ---------------------------------------------------------------- clauses and names

    def without_conflicting_pieces(self, found: list[Occurrence], s: int, e: int) -> list[Occurrence]:
        """A piece of an item that overlaps another item written whole, while the words the piece
        leaves out are not in the clause, is not that item ("商洛居民人均可支配收入增速" holds the
        piece 居民人均可支配收入增速 of 全省居民人均可支配收入增速, but not 全省)."""
        wholes = [o for o in found if o.whole]
        if not wholes:
            return found
        clause = normalise_name(self.norm[s:e])
        out = []
        for o in found:
            if not o.whole and any(
                w.start < o.end and o.start < w.end and not set(w.whole) & set(o.figures) for w in wholes
            ):
                figs = tuple(
                    f
                    for f in o.figures
                    if sum(b - a for a, b, _ in covered(self.plain_items[f], clause)) == len(self.plain_items[f])
                )
                if not figs:
                    continue
                o = o._replace(figures=figs)
            out.append(o)
        return out

    def aside(self, pos: int) -> tuple[int, int] | None:
        """The bracketed aside around `pos` ("（全省32128元）"), if any."""
        if self._asides is None:
            self._asides = [m.span() for m in _ASIDE.finditer(self.norm)]
        for a, b in self._asides:
            if a < pos < b:
                return (a, b)
        return None

    def in_a_name(self, e: NumberReading, ci: int) -> bool:
        return any(
            o.whole and o.start <= e.start and e.end <= o.end and _DIGIT.search(self.norm[o.start : o.end])
            for o in self.names(ci)
        )

    def names(self, ci: int) -> list[Occurrence]:
        if ci not in self._names:
            s, e = self.spans[ci]
            found = names_in(self.norm, s, e, self.keys) if self.figures else []
            if self.figures:
                found += self.ordinal_names(s, e)
                found += self.coordinated(s, found)
            found = self.without_conflicting_pieces(found, s, e)
            named = {f for o in found for f in o.figures}
            self._names[ci] = found + loose_names(self.norm, s, e, self.long, named)
        found = self._names[ci]
        if found or not self.in_clause:
            return found  # (no tail names while __init__ is still sorting out the numbers)
        if ci not in self._tail_names:
            self._tail_names[ci] = self.tail_name(ci)
        return self._tail_names[ci]

    def tail_name(self, ci: int) -> list[Occurrence]:
        """A clause that names nothing in full but opens with the end of one item's name
        ("人大代表反馈满意率为90%，基本满意率为10%": 基本满意率 ends 人大代表反馈基本满意率 only):
        the words before its first number, the verb taken off, the longest ending (four
        characters or more, not only generic words) that one item's name ends with."""
        numbers = self.in_clause.get(ci)
        if not numbers:
            return []
        s, first = self.spans[ci][0], self.found[numbers[0]].start
        lead = _LEAD_VERB.sub("", self.norm[s:first])
        tails = self.item_tails()
        for k in range(len(lead), 3, -1):
            tail = lead[-k:]
            owners = tails.get(tail)
            if owners is None or len(_GENERIC.sub("", tail)) < 2 or not _WORD.match(tail):
                continue
            if len(owners) == 1:
                at = s + self.norm[s:first].rfind(tail)
                return [Occurrence(at, at + k, owners, False)]
            return []  # the ending is shared: it names none of them
        return []

    def item_tails(self) -> dict[str, tuple[int, ...]]:
        """Every ending of four characters or more of each item's name (not the whole name) ->
        the figures whose name ends so; built once."""
        if self._tails is None:
            tails: dict[str, list[int]] = {}
            for f, item in enumerate(self.plain_items):
                for k in range(4, len(item)):
                    tails.setdefault(item[-k:], []).append(f)
            self._tails = {t: tuple(dict.fromkeys(fs)) for t, fs in tails.items()}
        return self._tails

    def ordinal_names(self, s: int, e: int) -> list[Occurrence]:
        """ "第二、三产业": an ordinal list writes 第 once; each bare ordinal names what 第N with
        the words after the list would name (第三产业…), placed at that ordinal."""
        out = []
        for m in _ORDINAL_LIST.finditer(self.norm, s, e):
            tail = self.norm[m.end() : e]
            for n in _ORDINAL.finditer(m.group(0), 1):
                virtual = f"第{n.group(0)}{tail}"
                at = m.start() + n.start()
                for o in names_in(virtual, 0, len(virtual), self.keys):
                    if o.start == 0 and o.end >= 2:
                        out.append(Occurrence(at, at + 1, o.figures, o.exact, o.whole))
        return out

    def coordinated(self, s: int, found: list[Occurrence]) -> list[Occurrence]:
        """ "0-17岁、18-34岁、35-59岁、60岁及以上户籍人口", "城镇和农村居民人均可支配收入": items listed
        with their shared words written once, after the last. Each earlier conjunct, with the
        words after the matching head of the last item, names an item of its own."""
        out: list[Occurrence] = []
        for o in found:
            if not o.whole or o.start - 1 <= s or self.norm[o.start - 1] not in _CONJUNCTIONS:
                continue
            key = normalise_name(self.norm[o.start : o.end])
            pos = o.start - 1
            while pos > s and self.norm[pos] in _CONJUNCTIONS:
                begin = pos
                while begin > s and self.norm[begin - 1] not in _CONJUNCT_STOP and pos - begin < _CONJUNCT_MAX:
                    begin -= 1
                conjunct = normalise_name(self.norm[begin:pos])
                if not conjunct or (begin > s and self.norm[begin - 1] not in _CONJUNCT_STOP):
                    break
                for k in range(1, len(key)):
                    figs = self.keys.whole.get(conjunct + key[k:])
                    if figs:
                        out.append(Occurrence(begin, pos, figs, True, figs))
                        break
                else:
                    break
                pos = begin - 1
        return out + self.coordinated_after(found)

    def coordinated_after(self, found: list[Occurrence]) -> list[Occurrence]:
        """ "群众安全感、满意度分别为…", "基金总收入、总支出分别为…": the first item written whole, the
        next ones by their own words only, the shared head written once."""
        out: list[Occurrence] = []
        for o in found:
            if not o.whole:
                continue
            key = normalise_name(self.norm[o.start : o.end])
            pos = o.end
            while pos < len(self.norm) and self.norm[pos] in _CONJUNCTIONS:
                m = _CONJUNCT_AFTER.match(self.norm, pos + 1)
                if not m:
                    break
                conjunct = normalise_name(m.group(0))
                figs = next(
                    (
                        self.keys.whole[key[:k] + conjunct]
                        for k in range(len(key) - 1, 0, -1)
                        if key[:k] + conjunct in self.keys.whole
                    ),
                    None,
                )
                if figs is None:
                    break
                out.append(Occurrence(m.start(), m.end(), figs, True, figs))
                pos = m.end()
        return out

    def of_class(self, occs: list[Occurrence], cls: str | None) -> list[Occurrence]:
        """The names of figures in unit class `cls` (all when the number has no unit), a name
        inside a longer name of the same class dropped (理论文章 inside 省级刊物刊发理论文章)."""
        out = []
        for o in occs:
            figs = tuple(f for f in o.figures if cls is None or self.classes[f] == cls)
            # a figure's whole name beats a piece of another's ("受理来电" is 受理来电(周), not a
            # piece of 日均受理来电), within the unit class
            whole = tuple(f for f in figs if f in o.whole)
            if whole:
                figs = whole
            if figs:
                out.append(o._replace(figures=figs))
        return drop_contained(out)

    def same_sentence_before(self, ci: int) -> list[int]:
        """The clauses before clause ci in its sentence, nearest first."""
        if ci not in self._before:
            self._before[ci] = self._sentence_before(ci)
        return self._before[ci]

    def _sentence_before(self, ci: int) -> list[int]:
        out = []
        while ci > 0:
            gap = self.norm[self.spans[ci - 1][1] : self.spans[ci][0]]
            if not gap or any(ch not in CLAUSE_CONTINUES for ch in gap):
                break
            ci -= 1
            out.append(ci)
        return out

    def sentence_start(self, ci: int) -> int:
        back = self.same_sentence_before(ci)
        return self.spans[back[-1]][0] if back else self.spans[ci][0]

    def respectively_at(self, ci: int) -> int:
        """Where 分别 stands in clause ci, or -1."""
        cs, ce = self.spans[ci]
        return self.norm.find(RESPECTIVELY, cs, ce)

    # ---------------------------------------------------------------- values

    def fitting(self, e: NumberReading, indices) -> int | None:
        """The figure among `indices` inside the mention's interval closest to its value."""
        best, best_gap = None, math.inf
        for f in indices:
            value = self.figures[f].base_value
            if inside(value, e) and self.same_digits(f, e):
                gap = abs(value - (e.value or 0))
                if gap < best_gap:
                    best, best_gap = f, gap
        return best

    def of_unit_class(self, e: NumberReading) -> list[int]:
        cls = _class_of(e)
        if cls not in self._of_unit_class:
            self._of_unit_class[cls] = [k for k, c in enumerate(self.classes) if cls is None or c == cls]
        return self._of_unit_class[cls]

    def same_digits(self, f: int, e: NumberReading) -> bool:
        """A percentage written to as many decimals as the figure, or more, rounds to the figure
        (18.04% is 18%; 0.65% is not 0.62%, though within the ±0.05 of a percentage); one written
        to fewer decimals is the figure rounded (18% for 18.04%)."""
        if e.unit not in RATE_UNITS or e.digits is None or e.value is None:
            return True
        fig, fig_digits = self.figures[f], self.fig_digits[f]
        if e.digits >= fig_digits:
            return round_half_up(e.value, fig_digits) == round_half_up(fig.value, fig_digits)
        return round_half_up(fig.value, e.digits) == round_half_up(e.value, e.digits)

    def by_value(self, i: int) -> int | None:
        if i not in self._by_value:
            self._by_value[i] = self.fitting(self.found[i], self.of_unit_class(self.found[i]))
        return self._by_value[i]

    def all_fitting(self, e: NumberReading, indices, first: int | None = None) -> tuple[int, ...]:
        """Every figure among `indices` the mention's value fits, `first` first."""
        fits = [f for f in indices if inside(self.figures[f].base_value, e) and self.same_digits(f, e)]
        return tuple(dict.fromkeys([*([first] if first is not None else []), *fits]))

    # ---------------------------------------------------------------- results

    def _mention(self, e: NumberReading, status: Status, **fields) -> NumberMention:
        return NumberMention(
            text=self.text[e.start : e.end],
            value=e.value,
            unit=e.unit,
            start=e.start,
            end=e.end,
            status=status,
            low=round(e.low, 6),
            high=round(e.high, 6),
            **fields,
        )

    def _derived(
        self, e: NumberReading, fig: Figure, outcome: Outcome, *, attribution: Literal["item", "value"]
    ) -> NumberMention:
        """A derived number that computes right from `fig`: grounded, with its formula."""
        return self._mention(
            e,
            "grounded",
            figure_id=fig.id,
            item=fig.item,
            attribution=attribution,
            derivation=outcome.derivation,
            message=f"按{outcome.basis}计算：{outcome.derivation.formula}",
        )

    def grounded(self, e: NumberReading, f: int, *, named: bool, item: str | None = None) -> NumberMention:
        fig = self.figures[f]
        return self._mention(
            e,
            "grounded",
            figure_id=fig.id,
            item=fig.item if named else item,
            attribution="item" if named else "value",
            message=f"数据“{fig.item}”为{figure_text(fig)}" + ("" if named else "（句中未写明项目，按数值对应）"),
        )

    def ground(self, i: int) -> tuple[NumberMention, tuple[int, ...]]:
        e = self.found[i]
        ci = self.clause_of[i]
        cs, _ = self.spans[ci]
        occs = self.names(ci)
        before = self.last_year_before(i, e, ci)
        if before is not None:
            return before, ()
        cue = find_cue(
            self.norm[max(cs, e.start - 40) : e.start],
            self.norm[self.sentence_start(ci) : e.start],
            self.norm[e.start : e.end],
            e,
            self.norm[e.end : e.end + 2],
        )
        if cue is None:
            cue = self.listed_cue(i)
        elif cue.sign == 0 and cue.kind in ("points", "growth", "difference"):
            # "分别回落2.16和1.66个百分点": the verb before the list says the sign of each
            listed = self.listed_cue(i)
            if listed is not None and listed.kind == cue.kind:
                cue = listed
        self.cues.append(cue)
        if cue is not None and cue.kind != "sum" and not self.supplied_rate(i, e, cue, occs):
            derived = self.derived(i, e, cue, ci, occs)
            if derived is not None:
                fid = derived.figure_id if derived.status == "grounded" and derived.derivation is None else None
                return derived, self.all_fitting(e, [self.index[fid]]) if fid else ()
        return self.plain(i, e, cue, ci, occs)

    def last_year_before(self, i: int, e: NumberReading, ci: int) -> NumberMention | None:
        """ "标准从1680元提高到2760元": the number after 从/由 is last year's value of the figure the
        number after 提高到 states."""
        cs, _ = self.spans[ci]
        if self.norm.rfind("从", cs, e.start) < 0 and self.norm.rfind("由", cs, e.start) < 0:
            return None
        j = i + 1
        if (
            j >= len(self.found)
            or self.clause_of[j] != ci
            or not _FROM_TO.fullmatch(self.norm[e.end : self.found[j].start])
        ):
            return None
        now = self.by_value(j)
        if now is None:
            return None
        fig = self.figures[now]
        if fig.base_last_year is None or not inside(fig.base_last_year, e):
            return None
        return self._mention(
            e,
            "grounded",
            figure_id=fig.id,
            item=fig.item,
            attribution="item",
            message=f"数据“{fig.item}”上年为{format_value(fig.last_year or 0)}{fig.unit}，今年{figure_text(fig)}",
        )

    def supplied_rate(self, i: int, e: NumberReading, cue: Cue, occs: list[Occurrence]) -> bool:
        """The clause names, next to the number, an item the office supplied in the number's own
        unit with nothing to compute it from ("第一产业拉动GDP增长0.7个百分点" with that item =
        0.7个百分点): the number is that figure, checked as a plain one."""
        if not e.unit:
            return False
        ci = self.clause_of[i]
        pairs, listed_from = self.pairs(ci, _class_of(e), self.of_class(occs, _class_of(e)))
        paired = pairs.get(i)
        if paired and listed_from is not None and listed_from <= e.start:
            # a 分别 list pairs it ("第二、三产业分别拉动增长2.1和2.4个百分点"), or a list going on
            # with one ("…分别收入5262万元和6339万元，同比增长19%和12%")
            return all(self.figures[f].base_unit == e.unit and not has_data(cue.kind, self.figures[f]) for f in paired)
        mine = [
            o._replace(figures=figs)
            for o in occs
            if (figs := tuple(f for f in o.figures if self.figures[f].base_unit == e.unit))
        ]
        if not mine:
            return False
        o = nearest(e, drop_contained(mine), [self.found[j] for j in self.in_clause[self.clause_of[i]]], self.norm)
        return o is not None and not any(has_data(cue.kind, self.figures[f]) for f in o.figures)

    def split_name(self, e: NumberReading, ci: int, cls: str | None) -> tuple[int, ...] | None:
        """An item written around the number ("作出3项决议": 作出决议; "召开了12次新闻发布会"): with
        the number taken out, a whole item or alias of the number's unit class runs across the gap,
        with two or more characters on each side. Not in a 分别 list."""
        if cls is None or self.respectively_at(ci) >= 0:
            return None
        around = [
            f
            for o in self.names(ci)
            if o.start + 2 <= e.start
            and e.end + 2 <= o.end
            and not _LIST_MARK.search(_QUALIFIER.sub("", self.norm[e.end : o.end]))  # not "…4525件、政协提案"
            for f in o.figures
            if self.classes[f] == cls
        ]
        if around:
            return tuple(dict.fromkeys(around))
        cs, ce = self.spans[ci]
        left = self.norm[cs : e.start].rstrip("了")
        right = self.norm[e.end : ce]
        right = right[1:] if right.startswith("的") else right
        if len(left) < 2 or len(right) < 2:
            return None
        window = left[-PIECE_MAX:] + right[:PIECE_MAX]
        joint = min(len(left), PIECE_MAX)
        best: Occurrence | None = None
        for o in names_in(window, 0, len(window), self.keys):
            if not o.whole or not (o.start <= joint - 2 and o.end >= joint + 2):
                continue
            if best is None or o.end - o.start > best.end - best.start:
                best = o
        if best is None:
            return None
        figs = tuple(f for f in best.whole if self.classes[f] == cls)
        return figs or None

    def plain(
        self, i: int, e: NumberReading, cue: Cue | None, ci: int, occs: list[Occurrence]
    ) -> tuple[NumberMention, tuple[int, ...]]:
        cls = unit_class(e.unit) if e.unit else None
        same = self.of_class(occs, cls)
        split = self.split_name(e, ci, cls)
        if split is not None:
            # the item is written around the number: it is what the number counts
            pairs, listed_from = {i: split}, None
        else:
            pairs, listed_from = self.pairs(ci, cls, same)
        paired = pairs.get(i)
        if paired:
            fit = self.fitting(e, paired)
            if fit is not None:
                return self.grounded(e, fit, named=True), self.all_fitting(e, self.of_unit_class(e), fit)
        claimed = {f for j, figs in pairs.items() if j != i for f in figs}
        unclaimed = [f for o in same for f in o.figures if f not in claimed]
        direct = self.fitting(e, unclaimed) if split is None else None
        if direct is not None:
            return self.grounded(e, direct, named=True), self.all_fitting(e, self.of_unit_class(e), direct)
        if cue is not None and cue.kind == "sum":
            summed = self.summed(i, e, ci, same)
            if summed is not None:
                return summed, ()
        occurrence = None
        if paired:
            occurrence = next((o for o in same if o.figures == paired), None)
        elif listed_from is None or e.start < listed_from:
            attached = self.attached(e, occs)
            if attached is not None:
                occurrence, paired = attached, attached.figures
        if paired:
            fig = self.figures[paired[0]]
            written = self.text[e.start : e.end]
            said = f"“{written}”所在句子说的是“{fig.item}”，数据为{figure_text(fig)}"
            other = self.by_value(i)
            if other is not None and other not in paired:
                if other not in claimed and self.also_named(other, paired[0], ci, occurrence):
                    return self.grounded(e, other, named=True), (other,)
                wrong = self.figures[other]
                message = f"{said}；{written}是“{wrong.item}”的数据"
                return self._mention(e, "misattributed", item=fig.item, attribution="item", message=message), paired
            return self._mention(e, "invented", item=fig.item, attribution="item", message=said), paired
        fit = self.by_value(i)
        guess = self.adjacent_piece(e, ci)
        if guess is None:
            guess = self.elliptical(i, e, ci)
        if guess is not None:
            if self.fitting(e, [guess]) is not None:
                return self.grounded(e, guess, named=True), self.all_fitting(e, self.of_unit_class(e), guess)
            if fit is not None:
                fig, wrong = self.figures[guess], self.figures[fit]
                written = self.text[e.start : e.end]
                message = (
                    f"“{written}”所在句子说的是“{fig.item}”，数据为{figure_text(fig)}；{written}是“{wrong.item}”的数据"
                )
                return self._mention(e, "misattributed", item=fig.item, attribution="item", message=message), (guess,)
        if fit is not None:
            return self.grounded(e, fit, named=False), self.all_fitting(e, self.of_unit_class(e), fit)
        return self._mention(e, "invented", message=NOT_IN_FIGURES), ()

    def adjacent_piece(self, e: NumberReading, ci: int) -> int | None:
        """The words right before the number are a piece of one item of its unit class and of
        no other ("经审查立案323件": 立案提案; "败诉38件": 行政诉讼败诉; "不予立案的17件"): the
        longest such run of two or more characters, not only generic words, decides, when the
        rest of that item is words its siblings share."""
        if _class_of(e) is None:
            return None
        pool = self.of_unit_class(e)
        if len(pool) < 2:
            return None
        cs, _ = self.spans[ci]
        end = e.start
        while end > cs and self.norm[end - 1] in _ADJACENT_GAP:
            end -= 1
        for size in range(min(PIECE_MAX, end - cs), 1, -1):
            piece = self.norm[end - size : end]
            if _DIGIT_OR_MARK.search(piece):
                continue
            owners = [f for f in pool if piece in self.plain_items[f]]
            if not owners:
                continue
            if len(owners) > 1:
                # 立案 of 立案提案, not of 不予立案提案: an item whose words before the piece the
                # text does not have is a narrower one
                heads = [f for f in owners if _EDGE_HEAD.sub("", self.plain_items[f]).startswith(piece)]
                if len(heads) == 1:
                    owners = heads
            if len(owners) == 1 and len(_GENERIC.sub("", piece)) >= 2:
                # the rest of the item is what its siblings share (立案|提案 against 提出提案):
                # the piece is what tells it from them
                f = owners[0]
                rest = self.plain_items[f].replace(piece, "", 1)
                others = "".join(self.plain_items[g] for g in pool if g != f)
                return f if not beyond(rest, others) else None
            return None
        return None

    def elliptical(self, i: int, e: NumberReading, ci: int) -> int | None:
        """A clause that names no item but goes on with the sentence's subject ("蔬菜播种面积
        3938公顷，比上年增长1.4%，产量106551吨": 蔬菜产量): the figure of the number's unit class
        whose item the sentence holds most of (runs of two or more characters), between the
        previous number of that class and this one, by a clear lead over every other figure,
        and that no earlier number of the sentence was tied to by its item; part of that item
        must stand in an earlier clause (a clause alone names an item in full). Not tried when words
        follow the number in its clause (the item may come after it: "15个集体") or in a 分别 list."""
        cls = _class_of(e)
        if cls is None:
            return None
        pool = self.of_unit_class(e)
        cs, ce = self.spans[ci]
        if len(pool) < 2 or self.respectively_at(ci) >= 0 or self.words_after(i, ce):
            return None
        start = self.sentence_start(ci)
        taken: set[int] = set()
        for j in range(i):
            if self.found[j].start < start:
                continue
            if _class_of(self.found[j]) == cls and self.results[j].derivation is None:
                # the text before belongs to that number (a growth rate does not take its subject:
                # "第一产业增加值15.79亿元，增长10.6%，两年平均增长8.2%")
                start = self.found[j].end
            if self.results[j].attribution == "item":
                taken.update(self.subjects[j][:1])
        if start >= cs:
            return None  # the sentence's earlier clauses are not in the window: nothing to continue
        # digits never tie a clause to an item: "2022年达38.2%" does not name "…2030年…目标值"
        window = _DIGITS.sub("#", normalise_name(self.norm[start : e.start]))
        scored = []
        for f in pool:
            if f in taken:
                continue
            item = self.masked_items[f]
            share = coverage(item, window)
            scored.append((round(share * len(item)), share, f))
        scored.sort(reverse=True)
        if not scored or scored[0][0] == 0:
            return None
        weak = scored[0][1] < ELLIPSIS_MIN
        if weak or (len(scored) > 1 and scored[0][0] - scored[1][0] < ELLIPSIS_LEAD):
            # a tie in the window ("城市低保新增276户462人，退出374户": 退出 fits 城市 and 农村 alike):
            # the sentence's subject, written before the window, decides between the tied
            tied = [f for n, _, f in scored if scored[0][0] - n < ELLIPSIS_LEAD]
            sentence = _DIGITS.sub("#", normalise_name(self.norm[self.sentence_start(ci) : e.start]))
            masked = {f: self.masked_items[f] for f in tied}
            again = sorted(
                ((round(coverage(masked[f], sentence) * len(masked[f])), f) for f in tied),
                reverse=True,
            )
            if len(again) > 1 and again[0][0] - again[1][0] < ELLIPSIS_LEAD:
                return None
            if weak and again[0][0] < ELLIPSIS_MIN * len(masked[again[0][1]]):
                return None  # "退出374户": 退出 plus the sentence's subject 城市低保 name 城市低保退出户数
            scored = [(again[0][0], 1.0, again[0][1])]
            start = self.sentence_start(ci)  # the subject was found before the window
        best = self.plain_items[scored[0][2]]
        if coverage(best, normalise_name(self.norm[start:cs])) == 0:
            # the subject must come from an earlier clause: what the clause leaves out of the
            # item ("提起诉讼" for 提起公益诉讼) stands earlier in the sentence ("立公益诉讼案")
            missing = beyond(best, normalise_name(self.norm[cs : e.start]))
            earlier = normalise_name(self.norm[self.sentence_start(ci) : cs])
            if not missing or not all(part in earlier for part in missing):
                return None
        return scored[0][2]

    def words_after(self, i: int, ce: int) -> bool:
        """Whether words follow number i in its clause, other numbers with their units aside
        ("退出374户714人": 714人 is a second count of the same subject, not an item)."""
        pos = self.found[i].end
        for j in range(i + 1, len(self.found)):
            nxt = self.found[j]
            if nxt.start >= ce or _WORD.search(self.norm, pos, nxt.start):
                break
            pos = nxt.end
        return _WORD.search(self.norm, pos, ce) is not None

    def pairs(self, ci: int, cls: str | None, same: list[Occurrence]) -> tuple[dict[int, tuple[int, ...]], int | None]:
        """Reading index -> the figures its clause pairs it with (one unit class), and where a
        分别 list starts (after it only the order pairs: a number is not paired by nearness)."""
        key = (ci, cls)
        if key not in self._pairs:
            members = [j for j in self.in_clause[ci] if _class_of(self.found[j]) == cls]
            cs, ce = self.spans[ci]
            listed = respectively(self.norm[cs:ce], cs, same, [self.found[j] for j in members])
            at = self.respectively_at(ci)
            out: dict[int, tuple[int, ...]] = {}
            if listed is not None:
                out = {members[k]: figs for k, figs in listed.items()}
            elif at >= 0:
                after = [j for j in members if self.found[j].start >= at]
                everyone = [o for o in self.names(ci) if cls is None or all(self.classes[f] == cls for f in o.figures)]
                order = (
                    self.enumerated(ci, at, everyone, len(after))
                    or self.continued(ci, len(after))
                    or self.table_order(self.found[after[0]].start if after else at, everyone, len(after))
                    or self.conjunct_order(ci, at, cls, len(after))
                )
                if order is not None:
                    out = {j: (f,) for j, f in zip(after, order)}
            elif len(members) >= 2 and not self.names(ci):
                order = self.list_goes_on(ci, cls, members)
                if order is not None:
                    out = {j: (f,) for j, f in zip(members, order)}
                    at = self.found[members[0]].start
            # only a number of the same class stands between an item and its number: a growth
            # rate does not ("地区生产总值增长12.6%达92.9亿元")
            rivals = [self.found[j] for j in members]
            for j in members:
                if j in out or (at >= 0 and self.found[j].start >= at):
                    continue
                o = nearest(self.found[j], same, rivals, self.norm)
                if o is not None:
                    out[j] = o.figures
            self._pairs[key] = (out, at if at >= 0 else None)
        return self._pairs[key]

    def enumerated(self, ci: int, at: int, names: list[Occurrence], count: int) -> list[int] | None:
        """ "黑龙江、河南粮食总产量分别达到…", "一、二、三档医疗参保人数分别为…": one name before 分别
        fits `count` items, and what tells each of them from the others stands, in some order,
        earlier in the sentence: that order pairs them with the numbers."""
        start = self.sentence_start(ci)
        for o in names:
            if o.end > at or len(o.figures) != count or count < 2:
                continue
            items = [normalise_name(self.figures[f].item) for f in o.figures]
            where = []
            for k, f in enumerate(o.figures):
                others = "".join(x for m, x in enumerate(items) if m != k)
                tokens = beyond(items[k], others)
                if len(tokens) != 1:
                    break
                pos = self.norm.rfind(tokens[0], start, o.end)
                if pos < 0:
                    break
                where.append((pos, f))
            if len(where) == count and len({p for p, _ in where}) == count:
                return [f for _, f in sorted(where)]
        return None

    def list_goes_on(self, ci: int, cls: str | None, members: list[int]) -> list[int] | None:
        """ "消费税和车辆购置税分别收入5262万元和6339万元，同比增长19%和12%": a clause that names
        nothing and lists as many numbers as the 分别 list of the clause before goes on with that
        list's subjects, in order, each the item of its own unit class it names most of."""
        if any(
            not _LIST_GAP.fullmatch(self.norm[self.found[a].end : self.found[b].start])
            for a, b in zip(members, members[1:])
        ):
            return None
        back = self.same_sentence_before(ci)
        if not back:
            return None
        prev = back[0]
        at = self.respectively_at(prev)
        if at < 0 or sum(self.found[j].start > at for j in self.in_clause.get(prev, [])) != len(members):
            return None
        return self.conjunct_order(prev, at, cls, len(members))

    def conjunct_order(self, ci: int, at: int, cls: str | None, count: int) -> list[int] | None:
        """ "受灾人次、因灾死亡失踪人数、倒塌房屋数量和直接经济损失与近5年均值相比分别下降…":
        as many conjuncts before 分别 as numbers after it, each holding clearly more of one
        item's name than of any other (runs of two or more characters), all different: that
        order pairs them."""
        if count < 2:
            return None
        cs, _ = self.spans[ci]
        parts = _CONJUNCT_SPLIT.split(_COMPARED_TAIL.sub("", self.norm[cs:at]))
        if len(parts) < count:
            return None
        pool = [k for k, c in enumerate(self.classes) if cls is None or c == cls]
        order: list[int] = []
        for part in parts[-count:]:
            text = _DIGITS.sub("#", normalise_name(part))
            scored = sorted(
                (
                    (round(coverage(_DIGITS.sub("@", self.plain_items[f]), text) * len(self.plain_items[f])), f)
                    for f in pool
                ),
                reverse=True,
            )
            if not scored or scored[0][0] < 3 or (len(scored) > 1 and scored[0][0] - scored[1][0] < ELLIPSIS_LEAD):
                return None
            order.append(scored[0][1])
        return order if len(set(order)) == count else None

    @staticmethod
    def table_order(at: int, names: list[Occurrence], count: int) -> list[int] | None:
        """ "三次产业对GDP增长的贡献率分别为…", "分别拉动GDP增长0.6个、2.3个、3.7个百分点": one name
        before the list fits as many items as the list has numbers, adjacent in the table: the
        table's order pairs them."""
        fits = [o.figures for o in names if o.end <= at]
        if len(set(fits)) != 1 or count < 2:
            return None
        figs = sorted(fits[0])
        if len(figs) == count and figs[-1] - figs[0] == count - 1:
            return figs
        return None

    def continued(self, ci: int, count: int) -> list[int] | None:
        """ "城乡居民收入分别增长12%和13%，分别达43366元和13835元": a clause that opens with 分别
        and names nothing goes on with the 分别 list of the clause before: the items that list's
        numbers were about, in order."""
        cs, ce = self.spans[ci]
        back = self.same_sentence_before(ci)
        if not back or not _REACHED_LIST.match(self.norm[cs:ce]) or self.names(ci):
            return None
        prev = back[0]
        at = self.respectively_at(prev)
        if at < 0:
            return None
        items = []
        for j in self.in_clause.get(prev, []):
            if self.found[j].start > at and j < len(self.results):
                f = self.item_index.get(self.results[j].item or "")
                if f is None:
                    return None
                items.append(f)
        return items if len(items) == count and len(set(items)) == count else None

    def also_named(self, f: int, paired: int, ci: int, occurrence: Occurrence | None) -> bool:
        """Whether the clause may be about figure f rather than the paired one: f's name holds
        the piece of name that paired the number, or what f's name says beyond the paired
        item's name is in the clause too ("国务院各部门承办的人大代表建议" against "全国两会期间
        提出的人大代表建议总数": 国务院各部门…承办 is in the clause)."""
        item = normalise_name(self.figures[f].item)
        cs, ce = self.spans[ci]
        clause = normalise_name(self.norm[cs:ce])
        scope = _SCOPE.match(item)
        if scope and item[scope.end() :] == normalise_name(self.figures[paired].item):
            # "计划开工改造…1250套，发放租赁补贴1095户": a 计划/预计/目标 opening the sentence
            # holds for the clauses after it
            if self.norm.find(scope.group(0), self.sentence_start(ci), cs) >= 0:
                return True
        paired_item = normalise_name(self.figures[paired].item)
        written = normalise_name(self.norm[occurrence.start : occurrence.end]) if occurrence is not None else ""
        extra = beyond(paired_item, item)
        if (
            written
            and written in paired_item
            and extra
            and not beyond(item, paired_item)
            and all(x in written for x in extra)
        ):
            # f's name says nothing the paired one does not, and the name written holds what the
            # paired one says beyond it ("省际" of 省际到位资金 against 到位资金, "不" of 不立案,
            # "基本" of 基本满意率): the clause is about the paired item
            return False
        if occurrence is not None and not occurrence.exact:
            piece = normalise_name(self.norm[occurrence.start : occurrence.end])
            if piece and piece in item:
                return True
            if coverage(item, clause) >= MOSTLY_NAMED:
                # paired by a piece of a name, while most of f's name stands in the clause
                # ("稻谷、小麦、玉米三大作物总产量超5亿吨": 三大粮食作物总产量)
                return True
        elif occurrence is not None and item not in clause and self.plain_items[f] not in clause:
            # the paired item is written in full and f's name only in pieces of it
            # ("农林牧渔业总产值" holds 渔业…产值, "猪牛羊禽肉总产量" holds 禽肉…产量): not f
            inner = normalise_name(self.norm[occurrence.start : occurrence.end])
            if coverage(item, inner) >= coverage(item, clause):
                return False
        return specific_in(item, normalise_name(self.figures[paired].item), clause)

    def listed_cue(self, i: int) -> Cue | None:
        j = i - 1
        if j < 0 or self.clause_of[j] != self.clause_of[i]:
            return None
        units = {self.found[j].unit, self.found[i].unit}
        if len(units) > 1 and not units <= _CHANGE_UNITS:
            return None
        gap = self.norm[self.found[j].end : self.found[i].start]
        cue = self.cues[j] if _LIST_GAP.fullmatch(gap) else None
        if cue is None or len(units) == 1:
            return cue
        # "分别上升1.5倍、3.3倍和72.6%": the verb before the list holds for each, in its own unit
        if self.found[i].unit == "%" and cue.kind == "multiple" and cue.offset == 1.0:
            return Cue("growth", 1, True)
        if self.found[i].unit == "倍" and cue.kind == "growth" and cue.sign > 0:
            return Cue("multiple", 1, True, 1.0)
        return None

    def attached(self, e: NumberReading, occs: list[Occurrence]) -> Occurrence | None:
        """An item counted in another classifier written right before or after the number
        ("宪法宣传周活动10个", the item counted in 场): the number counts that item."""
        count = counters()
        if e.unit not in count:
            return None
        for o in occs:
            figs = tuple(f for f in o.figures if self.figures[f].base_unit in count)
            if not figs:
                continue
            gap = self.norm[o.end : e.start] if o.end <= e.start else self.norm[e.end : o.start]
            if len(gap) <= 2 and _ATTACH_GAP.fullmatch(gap):
                return o._replace(figures=figs)
        return None

    def summed(self, i: int, e: NumberReading, ci: int, same: list[Occurrence]) -> NumberMention | None:
        """合计/共 N: the same-class items named before it in the clause, and the figures the
        sentence's earlier numbers were about."""
        cls = _class_of(e)
        start = self.sentence_start(ci)
        parts: list[int] = []
        for j in range(i):
            subject = self.subjects[j]
            if self.found[j].start >= start and self.results[j].status == "grounded" and subject:
                if cls is None or self.classes[subject[0]] == cls:
                    parts.append(subject[0])
        for o in same:
            if o.end <= e.start and len(o.figures) == 1:
                parts.append(o.figures[0])
        parts = list(dict.fromkeys(parts))
        outcome = compute_sum(e, [self.figures[f] for f in parts])
        if outcome is None or not outcome.ok:
            return None
        return self._mention(
            e,
            "grounded",
            attribution="item",
            derivation=outcome.derivation,
            message=f"按{outcome.basis}合计：{outcome.derivation.formula}",
        )

    # ---------------------------------------------------------------- derived numbers

    def usable(self, occs: list[Occurrence], cue: Cue, cls: str | None, upto: int | None) -> list[Occurrence]:
        out = []
        for o in occs:
            if upto is not None and o.end > upto:
                continue
            figs = tuple(f for f in o.figures if candidate(cue.kind, self.figures[f], cls))
            if figs:
                out.append(o._replace(figures=figs))
        return out

    def about(self, j: int, cue: Cue, cls: str | None) -> tuple[int, ...]:
        """The figures an earlier plain number j was about that can be this derived number's target."""
        if self.results[j].derivation is not None:
            return ()
        return tuple(f for f in self.subjects[j] if candidate(cue.kind, self.figures[f], cls))

    def target(self, i: int, e: NumberReading, cue: Cue, ci: int, occs: list[Occurrence]) -> tuple[int, ...] | None:
        """The figures a derived number is about, in this order:
        分别 lists: the items named before 分别 in its clause, or the items the sentence's last
        numbers were about, or the values the next clause gives (分别达…), or the items named in
        the clause before, paired in order;
        else: the item named before it in its clause (for a share, before 占), the value it
        reached ("增长12.6%达92.9亿元"), the item the sentence's nearest earlier number was
        about, the item named in the nearest earlier clause of the sentence."""
        cls = _class_of(e)
        cs, ce = self.spans[ci]
        limit = e.start
        if cue.kind == "share":
            zhan = max(self.norm.rfind("占", cs, e.start), self.norm.rfind("完成", cs, e.start))
            if zhan >= 0:
                limit = zhan  # the whole is named after 占 (or 完成: the target), the part before it
        here = drop_contained(self.usable(occs, cue, cls, limit))
        at = self.respectively_at(ci)
        if 0 <= at < e.start:
            # "分别上升1.5倍、3.3倍和72.6%": a list of changes may mix 倍 and %
            mates = [
                j
                for j in self.in_clause[ci]
                if self.found[j].start > at
                and (self.found[j].unit == e.unit or {self.found[j].unit, e.unit} <= _CHANGE_UNITS)
            ]
            k, index = len(mates), mates.index(i) if i in mates else -1
            if index >= 0 and k >= 2:
                picked = self._listed_target(i, e, cue, ci, here, at, k, index)
                if picked is not None:
                    return picked
        if here:
            return max(here, key=lambda o: (o.end, o.end - o.start)).figures
        reached = self._reached(i, ci, cue, cls)
        if reached is not None:
            return (reached,)
        start = self.sentence_start(ci)
        mine = self.aside(e.start)
        earlier = [j for j in range(i - 1, -1, -1) if self.found[j].start >= start]
        if mine is not None:
            # "(全省32128元)，增长7.7%(全省增长6.7%)": an aside goes on with the aside before it
            earlier = [j for j in earlier if self.aside(self.found[j].start) is not None] + earlier
        for j in earlier:
            if self.found[j].start >= limit:
                continue  # "完成年目标任务12500人的98.5%": the whole's number, not the part's
            if mine is None and self.aside(self.found[j].start) is not None:
                continue  # "21196元(全省32128元)，增长7.7%": the bracket is an aside
            about = self.about(j, cue, cls)
            if about:
                return about
        for back in self.same_sentence_before(ci):
            there = self.usable(self.names(back), cue, cls, None)
            if there:
                return max(there, key=lambda o: (o.end, o.end - o.start)).figures
        return None

    def _listed_target(
        self, i: int, e: NumberReading, cue: Cue, ci: int, here: list[Occurrence], at: int, k: int, index: int
    ) -> tuple[int, ...] | None:
        """A 分别 list's k-th number: the items named before 分别 (as many as the numbers), the
        values the next clause gives (分别达…), the items the sentence's last numbers before 分别
        were about, the items named in the nearest earlier clause."""
        cls = _class_of(e)
        for pool in ([o for o in here if set(o.figures) <= set(o.whole)], here):  # whole names first
            items = list(dict.fromkeys(o.figures for o in sorted(pool, key=lambda o: o.start) if o.end <= at))
            if len(items) == k:
                return items[index]
        if len(items) == 1 and len(items[0]) == k and max(items[0]) - min(items[0]) == k - 1:
            # one name fits the list's items, adjacent in the table ("城乡居民收入分别增长…"):
            # the table's order
            return (sorted(items[0])[index],)
        after = [c for c in range(ci + 1, min(ci + 2, len(self.spans))) if ci in self.same_sentence_before(c)]
        for c in after:
            cs2, ce2 = self.spans[c]
            if _REACHED_LIST.match(self.norm[cs2:ce2]):
                values = [self.by_value(j) for j in self.in_clause.get(c, [])]
                if len(values) == k and values[index] is not None:
                    return (values[index],)  # type: ignore[return-value]
        start = self.sentence_start(ci)
        earlier = [
            self.about(j, cue, cls) for j in range(i) if start <= self.found[j].start < at and self.about(j, cue, cls)
        ]
        if len(earlier) >= k:
            return earlier[len(earlier) - k + index]
        for back in self.same_sentence_before(ci):
            there = sorted(self.usable(self.names(back), cue, cls, None), key=lambda o: o.start)
            items = list(dict.fromkeys(o.figures for o in there))
            if len(items) == k:
                return items[index]
            if there:
                break
        return None

    def _reached(self, i: int, ci: int, cue: Cue, cls: str | None) -> int | None:
        """ "增长12.6%达92.9亿元": the value right after the derived number, in its clause."""
        j = i + 1
        if j >= len(self.found) or self.clause_of[j] != ci:
            return None
        nxt = self.found[j]
        gap = self.norm[self.found[i].end : nxt.start]
        written = self.norm[nxt.start : nxt.end]
        if gap in _REACHED or (gap == "" and written.startswith(_REACHED)):
            f = self.by_value(j)
            return f if f is not None and candidate(cue.kind, self.figures[f], cls) else None
        return None

    def derived(self, i: int, e: NumberReading, cue: Cue, ci: int, occs: list[Occurrence]) -> NumberMention | None:
        if cue.ratio:
            return self.ratio_order(i, e) or self.ratio_share(i, e)
        figs = self.target(i, e, cue, ci, occs)
        if figs is None:
            return None
        with_data = [f for f in figs if has_data(cue.kind, self.figures[f])] or list(figs)
        written = self.text[e.start : e.end]
        target, outcome = self.figures[with_data[0]], None
        for f in with_data:  # one value may fit several items: the one the computation agrees with
            fig = self.figures[f]
            part_whole = None
            if cue.kind == "share":
                part_whole = (
                    self.by_id.get(fig.part_of or "")
                    or self.whole_named(e, ci, occs, fig)
                    or (None if cue.strong else self.whole_fitting(e, fig))
                )
            result = compute(cue, e, fig, part_whole)
            if outcome is None or (result is not None and result.ok and not outcome.ok):
                target, outcome = fig, result
            if outcome is not None and outcome.ok:
                break
        if outcome is None:
            rates = [f for f in figs if self.classes[f] == _class_of(e)]
            if rates:  # the office supplied the rate itself ("食品烟酒类价格" = 1.1%)
                fit = self.fitting(e, rates)
                if fit is not None:
                    return self.grounded(e, fit, named=True)
                other = self.by_value(i)
                if other is not None and not self.also_named(other, rates[0], ci, None):
                    rate = self.figures[rates[0]]
                    said = f"“{written}”所在句子说的是“{rate.item}”，数据为{figure_text(rate)}"
                    message = f"{said}；{written}是“{self.figures[other].item}”的数据"
                    return self._mention(e, "misattributed", item=rate.item, attribution="item", message=message)
            fit = self.by_value(i)
            if fit is not None:
                return self.grounded(e, fit, named=False, item=target.item)
            if not cue.strong:
                return None
            if cue.kind == "share":
                why = f"“{target.item}”没有填写“所属”（包含它的总数），无法核对占比“{written}”"
            elif target.base_last_year == 0:
                why = f"“{target.item}”上年为0，无法计算“{written}”"
            else:
                why = f"“{target.item}”缺少上年数据，无法核对“{written}”"
            return self._mention(e, "invented", item=target.item, attribution="item", message=why)
        if outcome.ok:
            return self._derived(e, target, outcome, attribution="item")
        supplied = self.fitting(e, [f for x in self.of_class(occs, _class_of(e)) for f in x.figures])
        if supplied is not None:
            return self.grounded(e, supplied, named=True)
        if not cue.strong:
            return None
        swapped = self.sibling_fits(i, e, cue, ci, occs, target)
        if swapped is not None:
            sibling, right = swapped
            message = (
                f"“{written}”所在句子说的是“{target.item}”，按{outcome.basis}计算应为{outcome.expected}"
                f"（{outcome.derivation.formula}）；{written}是“{sibling.item}”的{right.derivation.formula}"
            )
            return self._mention(
                e,
                "misattributed",
                item=target.item,
                attribution="item",
                derivation=outcome.derivation,
                message=message,
            )
        return self._mention(
            e,
            "invented",
            item=target.item,
            attribution="item",
            derivation=outcome.derivation,
            message=f"“{written}”与数据不符：按{outcome.basis}计算，应为{outcome.expected}（{outcome.derivation.formula}）",
        )

    def sibling_fits(
        self, i: int, e: NumberReading, cue: Cue, ci: int, occs: list[Occurrence], target: Figure
    ) -> tuple[Figure, Outcome] | None:
        """A 分别 list's derived number that is wrong for its own item but is what another item
        of the same list computes to ("城乡居民收入分别增长13%、12%", the two rates swapped):
        that item and its computation; None when no other item, or more than one, fits."""
        at = self.respectively_at(ci)
        if not 0 <= at < e.start:
            return None
        # every number of the list counts for the order, whatever its unit ("分别上升1.5倍、3.3倍和72.6%")
        mates = [j for j in self.in_clause[ci] if self.found[j].start > at and self.found[j].unit]
        if i not in mates or sum(self.found[j].unit == e.unit for j in mates) < 2:
            return None
        cls = _class_of(e)
        limit = e.start
        if cue.kind == "share":
            zhan = self.norm.rfind("占", self.spans[ci][0], e.start)
            limit = zhan if zhan >= 0 else limit
        here = self.usable(occs, cue, cls, limit)
        fits: list[tuple[Figure, Outcome]] = []
        for k, j in enumerate(mates):
            if j == i:
                continue
            figs = self._listed_target(i, e, cue, ci, here, at, len(mates), k)
            for f in figs or ():
                fig = self.figures[f]
                if fig.id == target.id or not has_data(cue.kind, fig):
                    continue
                whole = None
                if cue.kind == "share":
                    whole = self.by_id.get(fig.part_of or "") or self.whole_named(e, ci, occs, fig)
                result = compute(cue, e, fig, whole)
                if result is not None and result.ok:
                    fits.append((fig, result))
                    break
        return fits[0] if len(fits) == 1 else None

    def whole_named(self, e: NumberReading, ci: int, occs: list[Occurrence], part: Figure) -> Figure | None:
        """A share's whole when the part has no part_of: the item named between 占 and the number."""
        zhan = self.norm.rfind("占", self.spans[ci][0], e.start)
        if zhan < 0:
            return None
        for o in occs:
            if o.start > zhan and o.end <= e.start:
                for f in o.figures:
                    fig = self.figures[f]
                    if fig.id != part.id and unit_class(fig.base_unit) == unit_class(part.base_unit):
                        return fig
        return None

    def whole_fitting(self, e: NumberReading, part: Figure) -> Figure | None:
        """A rate of two figures the table does not link ("年度投资完成率110.8%": completed over
        planned): the one figure of the part's unit class that makes the stated share."""
        cue = Cue("share", 0, True)
        fits = []
        for k, fig in enumerate(self.figures):
            if fig.id != part.id and self.classes[k] == unit_class(part.base_unit):
                outcome = compute(cue, e, part, fig)
                if outcome is not None and outcome.ok:
                    fits.append(fig)
        return fits[0] if len(fits) == 1 else None

    def ratio_order(self, i: int, e: NumberReading) -> NumberMention | None:
        """A ratio list ("三次产业结构为15.3:31.3:53.4") of figures the table gives in that order
        (one, two, three): the k-th number is the k-th of the run of adjacent same-unit figures
        its values fit; a value of another member of the run is misattributed. A list of last
        year's values ("由上年的6.9∶24.2∶68.9调整为…") is read against the run's last_year."""
        group = self.ratio_group(i)
        if len(group) < 2:
            return None
        return self._ratio_order(i, e, group, last_year=False) or self._ratio_order(i, e, group, last_year=True)

    def _ratio_order(self, i: int, e: NumberReading, group: list[int], *, last_year: bool) -> NumberMention | None:
        def fit(reading: NumberReading, indices) -> int | None:
            if not last_year:
                return self.fitting(reading, indices)
            return next(
                (
                    f
                    for f in indices
                    if self.figures[f].base_last_year is not None and inside(self.figures[f].base_last_year, reading)
                ),
                None,
            )

        fits = [fit(self.found[j], self.of_unit_class(self.found[j])) for j in group]
        family = {f for f in fits if f is not None}
        if len(family) < len(group) - 1 or not family:
            return None
        run = self.adjacent_run(min(family), max(family), len(group))
        if run is None or not family <= set(run):
            return None
        k = group.index(i)
        own, got = run[k], fits[k]
        fig = self.figures[own]
        if got == own or (got is not None and fit(e, [own]) is not None):
            if not last_year:
                return self.grounded(e, own, named=True)
            return self._mention(
                e,
                "grounded",
                figure_id=fig.id,
                item=fig.item,
                attribution="item",
                message=f"数据“{fig.item}”上年为{format_value(fig.last_year or 0)}{fig.unit}，今年{figure_text(fig)}",
            )
        if got is None:
            return None
        wrong = self.figures[got]
        written = self.text[e.start : e.end]
        year = "上年" if last_year else ""
        said = f"{year}为{format_value(fig.last_year or 0)}{fig.unit}" if last_year else f"数据为{figure_text(fig)}"
        message = f"“{written}”在比例中的位置对应“{fig.item}”，{said}；{written}是“{wrong.item}”的{year}数据"
        return self._mention(e, "misattributed", item=fig.item, attribution="item", message=message)

    def ratio_group(self, i: int) -> list[int]:
        """The numbers of the ratio list number i stands in (joined by : or ：), in order."""

        def joined(a: int, b: int) -> bool:
            return self.norm[self.found[a].end : self.found[b].start] in (":", "：", "︰", "∶")

        lo = i
        while lo > 0 and joined(lo - 1, lo):
            lo -= 1
        hi = i
        while hi + 1 < len(self.found) and joined(hi, hi + 1):
            hi += 1
        return list(range(lo, hi + 1))

    def adjacent_run(self, lo: int, hi: int, n: int) -> list[int] | None:
        """n figures adjacent in the table, of one unit, from lo to hi (extended by one on either
        side when one value of the list is missing)."""
        unit = self.figures[lo].unit
        if any(self.figures[f].unit != unit for f in range(lo, hi + 1)):
            return None
        while hi - lo + 1 < n:
            if hi + 1 < len(self.figures) and self.figures[hi + 1].unit == unit:
                hi += 1
            elif lo > 0 and self.figures[lo - 1].unit == unit:
                lo -= 1
            else:
                return None
        return list(range(lo, hi + 1)) if hi - lo + 1 == n else None

    def ratio_share(self, i: int, e: NumberReading) -> NumberMention | None:
        """A number of a ratio list ("三次产业结构为2.7:40.4:56.8"): the share of some part in
        its part_of whole that the number states."""
        cue = Cue("share", 0, True)
        for fig in self.figures:
            whole = self.by_id.get(fig.part_of or "")
            if whole is None:
                continue
            outcome = compute(cue, e, fig, whole)
            if outcome is not None and outcome.ok:
                return self._derived(e, fig, outcome, attribution="value")
        return None


def _class_of(e: NumberReading) -> str | None:
    return unit_class(e.unit) if e.unit else None
