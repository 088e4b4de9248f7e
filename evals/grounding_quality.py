"""Item-aware grounding measured on published text (issue 10, "Measure").

    python -m evals.grounding_quality [--json F] [--report F]     # from the project folder
    python -m evals.grounding_quality --all-pairs | --seed N       # the same, without the seeded draw

Writes the misses (what was expected, what the checker said) to evals/grounding/misses.md.

The labelled set is evals/grounding/paragraphs.yaml: 109 paragraphs from published documents,
each with the figures table an office would have supplied and a label for every number
(evals/grounding/README.md). Three sets are built from it, deterministically (seed SEED):

* originals - every paragraph as published, with its full figures table. Every labelled plain
  mention should be grounded to its labelled figure, every labelled derived mention grounded with
  the labelled kind; everything flagged there is a false alarm.
* swapped - a plain mention A gets the value of another plain mention B of the same paragraph
  (a different figure of the same unit class), written in A's form (A's unit text, scale and
  decimals): A should come out `misattributed`. One B per A, drawn at random among the valid
  ones; plus every pair inside a 分别 list, swapped both ways in one variant (both mentions should
  come out `misattributed`, derived values included).
* derived right/wrong - each labelled derived mention as published (right: grounded with the
  labelled derivation kind) and with its number moved clearly outside the rounding of its
  written digits, same decimals, same sign (wrong: `invented`, the message giving the computed
  value).

Decisions where the labels go beyond the data contract (core/figures.py Figure):
* Figures with `value: null` (the text gives only a rate, or only "400余") cannot be supplied;
  they are left out of the table, and every mention that needs one is out of scope (counted,
  and what the checker said is reported, but it is not scored). A `part_of` naming such a
  figure is dropped with it.
* `alt_units` (the same quantity in a second unit) and `last_period` (环比) have no column:
  `alt_unit` mentions and `base: last_period` statements are out of scope.
* `gap` ("高于全省增速1.1个百分点": one item's growth rate minus another region's % figure) is
  out of scope: the data model cannot express it (a figure's `last_year` is its own previous
  value, not another region's rate; the contract's Derivation has no such kind), so a checker
  that does not ground it is not "wrongly deriving"; its mentions are reported, not scored.
* A share of a sum of parts (p098 "案胜率" = (f4 + f5) / f3) is out of scope for the same
  reason: `part_of` links one part to its whole.
* A total labelled both as a figure and `derived: sum` is right when it is grounded to its own
  figure or as a sum.
* `of: last_year` mentions (a previous-year value stated in the text) are plain mentions of
  their figure, grounded through its `last_year`; they are never swapped.
* The one `inconsistent` mention (p032, 5/87 printed as 5.8%) is reported on its own: a good
  checker flags it; it is neither a false alarm nor in the derived sets.

Targets (issue 10): misattributed caught >= 0.90 (分别 included), derived judged right = 1.00 on
right and on wrong, 0 misattributed and 0 wrongly derived on originals. tests/
test_grounding_quality.py asserts them through `measure()`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.check import check_numbers
from assistant.check.numbers import unit_class
from assistant.check.result import NumberMention
from assistant.core.figures import Figure, figure_text, format_value, parse_figure_rows, split_scale

HERE = Path(__file__).resolve().parent
PARAGRAPHS = HERE / "grounding" / "paragraphs.yaml"
MISSES = HERE / "grounding" / "misses.md"
SEED = 10  # issue 10
TARGET_CAUGHT = 0.90
TARGET_DERIVED = 1.0
# A swapped-in value is written in A's unit only when that takes at most 4 decimals and 7 integer digits
# (18320 元 into 亿元 would read 0.0001832亿元; 92.9亿元 into 元, 9290000000元: nobody writes either).
MAX_DECIMALS, MAX_INTEGER_DIGITS = 4, 7
# Label kind -> the Derivation.kind a checker can give (the contract has no "gap").
EXPECTED_KIND = {"gap": "points"}
_NUMBER = re.compile(r"\d+(?:[.·]\d+)?")
_LIST_END = re.compile(r"[,，;；。]")
_PERCENT_UNITS = ("%", "个百分点")
_PERCENT_TOL = 0.05  # the checker's tolerance around a stated percentage (numbers.PERCENT_TOL)


# ---------------------------------------------------------------- the labelled paragraphs


@dataclass
class Label:
    """One labelled number of a paragraph, with its place in the text."""

    pid: str
    index: int
    text: str
    start: int
    end: int
    num_start: int  # the written number inside the label ("5.2" in "增长5.2%")
    num_end: int
    figure: str | None  # plain: the figure it states
    kind: str | None  # derived: the label's kind (growth, share, sum, gap ...)
    figures: list[str]
    value: float | None  # derived: the signed value
    approx: bool
    last_year: bool  # of: last_year
    scope: str  # "" when scored, else why not

    @property
    def derived(self) -> bool:
        return self.kind is not None

    @property
    def expected_kind(self) -> str | None:
        return EXPECTED_KIND.get(self.kind or "", self.kind)

    @property
    def written(self) -> str:
        return self.text[self.num_start - self.start : self.num_end - self.start]


@dataclass
class Paragraph:
    pid: str
    text: str
    figures: list[Figure]  # as the product receives them
    raw: dict[str, dict]  # the labelled figure rows by id (value null included)
    labels: list[Label]
    not_figures: list[str]
    lists: list[list[int]]  # 分别 lists: indices into labels, in text order


def _nth(text: str, sub: str, n: int) -> int:
    i = -1
    for _ in range(n):
        i = text.find(sub, i + 1)
        if i < 0:
            raise ValueError(f"“{sub}” (occurrence {n}) not in text")
    return i


def _figures(rows: list[dict], pid: str) -> list[Figure]:
    """The table the product would receive: value-null rows left out, with any part_of to them."""
    kept = [r for r in rows if r.get("value") is not None]
    ids = {r["id"] for r in kept}
    table = []
    for r in kept:
        row = {"id": r["id"], "item": r["item"], "value": r["value"], "unit": r["unit"]}
        for key in ("aliases", "last_year"):
            if r.get(key) is not None:
                row[key] = r[key]
        if r.get("part_of") in ids:
            row["part_of"] = r["part_of"]
        table.append(row)
    # a paragraph whose every figure is value-null (p078) gets an empty table
    return parse_figure_rows(table, f"{PARAGRAPHS.name}:{pid}") if table else []


def _scope(m: dict, raw: dict[str, dict], kept: set[str]) -> str:
    refs = ([m["figure"]] if "figure" in m and "derived" not in m else []) + list(m.get("figures") or [])
    if any(r not in kept for r in refs):
        return "value null"
    if m.get("alt_unit"):
        return "alt unit"
    if m.get("base") == "last_period":
        return "last_period (环比)"
    if m.get("inconsistent"):
        return "inconsistent"
    if m.get("of") == "last_year" and raw[m["figure"]].get("last_year") is None:
        return "no last_year"
    kind = m.get("derived")
    if kind == "gap":
        return "gap (against another region's rate)"
    if kind == "share" and len(refs) > 2:
        return "share of a sum of parts"
    if kind in ("growth", "difference", "points", "multiple") and raw[refs[0]].get("last_year") is None:
        return "no last_year"
    return ""


def _lists(text: str, labels: list[Label]) -> list[list[int]]:
    """Mentions that sit in one 分别 list (from 分别 to the clause's end), two or more of them."""
    out = []
    for m in re.finditer("分别", text):
        end = _LIST_END.search(text, m.end())
        stop = end.start() if end else len(text)
        members = [i for i, lab in enumerate(labels) if m.end() <= lab.num_start < stop]
        if len(members) >= 2:
            out.append(members)
    return out


@lru_cache(maxsize=2)
def load(path: Path = PARAGRAPHS) -> tuple[Paragraph, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["paragraphs"]
    paragraphs = []
    for p in data:
        raw = {f["id"]: f for f in p["figures"]}
        figures = _figures(p["figures"], p["id"])
        kept = {f.id for f in figures}
        labels = []
        for i, m in enumerate(p["mentions"]):
            start = _nth(p["text"], m["text"], m.get("occurrence", 1))
            nums = list(_NUMBER.finditer(m["text"]))
            ns, ne = (start + nums[-1].start(), start + nums[-1].end()) if nums else (start, start + len(m["text"]))
            kind = m.get("derived")
            labels.append(
                Label(
                    pid=p["id"],
                    index=i,
                    text=m["text"],
                    start=start,
                    end=start + len(m["text"]),
                    num_start=ns,
                    num_end=ne,
                    figure=m.get("figure"),
                    kind=kind,
                    figures=list(m.get("figures") or []),
                    value=m.get("value"),
                    approx=bool(m.get("approx")),
                    last_year=m.get("of") == "last_year",
                    scope=_scope(m, raw, kept),
                )
            )
        paragraphs.append(Paragraph(p["id"], p["text"], figures, raw, labels, list(p.get("not_figures") or []), []))
        paragraphs[-1].lists = _lists(p["text"], labels)
    return tuple(paragraphs)


# ---------------------------------------------------------------- judging one mention


@dataclass
class Outcome:
    """What the checker said about one labelled (or unlabelled) number, against what was expected."""

    set: str  # originals, swapped, 分别, derived-right, derived-wrong, unlabelled, out-of-scope
    pid: str
    mention: str  # the mention as it reads in the checked text
    expected: str  # grounded:f3, derived:growth, misattributed, invented, not flagged
    status: str  # the checker's status, or "not read"
    item: str | None = None
    figure_id: str | None = None
    kind: str | None = None  # derivation kind given
    message: str | None = None
    ok: bool = False
    label_kind: str | None = None  # the label's derived kind (or "plain")
    note: str = ""


def _match(span: tuple[int, int], mentions: list[NumberMention]) -> NumberMention | None:
    """The checker's mention for a label's written number at `span`: the one overlapping it the
    most (a later one on a tie: "1·8%" may be read as "1" and "8%")."""
    s, e = span
    best, best_overlap = None, 0
    for m in mentions:
        overlap = min(e, m.end) - max(s, m.start)
        if overlap > 0 and overlap >= best_overlap:
            best, best_overlap = m, overlap
    return best


def _outcome(set_: str, label: Label, got: NumberMention | None, expected: str, text: str, **kw: Any) -> Outcome:
    out = Outcome(
        set=set_,
        pid=label.pid,
        mention=kw.pop("mention", label.text),
        expected=expected,
        status=got.status if got else "not read",
        item=got.item if got else None,
        figure_id=got.figure_id if got else None,
        kind=got.derivation.kind if got and got.derivation else None,
        message=got.message if got else None,
        label_kind=label.kind or "plain",
        **kw,
    )
    return out


def _judge_original(label: Label, got: NumberMention | None) -> Outcome:
    if label.derived and not label.figure:
        out = _outcome("originals", label, got, f"derived:{label.expected_kind}", "")
        out.ok = bool(got and got.status == "grounded" and out.kind == label.expected_kind)
        return out
    if label.derived:
        # a derived number the office also supplied as its own figure (a total that is the sum of
        # its parts; a share typed in as a % figure): grounded to that figure is right too
        expected = f"grounded:{label.figure} or derived:{label.expected_kind}"
        out = _outcome("originals", label, got, expected, "")
        out.ok = bool(
            got and got.status == "grounded" and (got.figure_id == label.figure or out.kind == label.expected_kind)
        )
        return out
    out = _outcome("originals", label, got, f"grounded:{label.figure}", "")
    ids = {got.figure_id, *(got.derivation.figure_ids if got and got.derivation else [])} if got else set()
    out.ok = bool(got and got.status == "grounded" and label.figure in ids)
    return out


# ---------------------------------------------------------------- building the variants


def _decimals(written: str) -> int:
    parts = re.split(r"[.·]", written)
    return len(parts[1]) if len(parts) > 1 else 0


def _in_scale(value: float, scale: float) -> Decimal:
    """A base value written in a unit with `scale` folded in (18320 元 in 万元 -> 1.832), exactly."""
    return (Decimal(format_value(value)) / Decimal(format_value(scale))).normalize()


def _write(value: Decimal, decimals: int, sep: str = ".") -> str:
    """`value` with at least `decimals` decimals (more when the value needs them)."""
    need = max(0, -value.as_tuple().exponent)  # type: ignore[operator]
    return f"{value:.{max(decimals, need)}f}".replace(".", sep)


def _sep(written: str) -> str:
    return "·" if "·" in written else "."


def _is_percent(fig: Figure) -> bool:
    return fig.unit in _PERCENT_UNITS


def _figure(p: Paragraph, fid: str) -> Figure:
    return next(f for f in p.figures if f.id == fid)


@dataclass
class Swap:
    pid: str
    text: str
    changed: list[tuple[int, str, str]]  # (label index, new mention text, the other figure id / label index)
    spans: dict[int, tuple[int, int]]  # label index -> its written number in the new text
    in_list: bool


@dataclass
class SwapStats:
    candidate_pairs: int = 0  # ordered pairs (A, B): plain mentions, different figures, same unit class
    skipped: Counter = field(default_factory=Counter)  # reason -> pairs
    eligible_a: int = 0
    list_pairs: int = 0
    list_skipped: Counter = field(default_factory=Counter)


def _replace(p: Paragraph, edits: list[tuple[Label, str]]) -> tuple[str, dict[int, tuple[int, int]], list[str]]:
    """The paragraph with each edited label's written number replaced; where every label's
    written number now sits; the edited mentions' new text (in the order of `edits`)."""
    by_start = sorted(edits, key=lambda e: e[0].num_start)
    out, pos = [], 0
    for lab, number in by_start:
        out.append(p.text[pos : lab.num_start])
        out.append(number)
        pos = lab.num_end
    out.append(p.text[pos:])
    spans = {}
    for lab in p.labels:
        shift = sum(len(n) - (e.num_end - e.num_start) for e, n in edits if e.num_end <= lab.num_start)
        new = next((n for e, n in edits if e is lab), None)
        end = lab.num_start + shift + len(new) if new is not None else lab.num_end + shift
        spans[lab.index] = (lab.num_start + shift, end)
    news = [lab.text[: lab.num_start - lab.start] + n + lab.text[lab.num_end - lab.start :] for lab, n in edits]
    return "".join(out), spans, news


def _swappable_plain(lab: Label) -> bool:
    return not lab.derived or (lab.kind == "sum" and lab.figure is not None)


def build_swaps(
    paragraphs: tuple[Paragraph, ...], seed: int = SEED, *, all_pairs: bool = False
) -> tuple[list[Swap], SwapStats]:
    """Plain swaps (one B per A drawn with `seed`, or every valid B with `all_pairs`) and 分别 swaps."""
    rng = random.Random(seed)
    stats = SwapStats()
    swaps: list[Swap] = []
    for p in paragraphs:
        plain = [
            lab
            for lab in p.labels
            if not lab.scope and _swappable_plain(lab) and not lab.last_year and lab.figure is not None
        ]
        for a in plain:
            fa = _figure(p, a.figure)  # type: ignore[arg-type]
            valid = []
            for b in plain:
                if b is a or b.figure == a.figure:
                    continue
                fb = _figure(p, b.figure)  # type: ignore[arg-type]
                if unit_class(fa.base_unit) != unit_class(fb.base_unit):
                    continue
                stats.candidate_pairs += 1
                if a.approx:
                    stats.skipped["A is approximate (余/超过/突破…)"] += 1
                    continue
                if not a.written or not _NUMBER.fullmatch(a.written):
                    stats.skipped["A is not written in digits"] += 1
                    continue
                scale = split_scale(1.0, fa.unit)[0]
                new_value = _in_scale(fb.base_value, scale)
                if fb.base_value == fa.base_value:
                    stats.skipped["equal values"] += 1
                    continue
                if max(0, -new_value.as_tuple().exponent) > MAX_DECIMALS or abs(new_value) >= 10**MAX_INTEGER_DIGITS:  # type: ignore[operator]
                    stats.skipped["B's value not writable in A's unit (元 into 亿元 or back)"] += 1
                    continue
                if p.text[a.num_start - 1 : a.num_start] in ("-", "−"):
                    stats.skipped["A written with a minus sign"] += 1
                    continue
                tol = 0.5 * 10 ** -_decimals(a.written) + (_PERCENT_TOL if _is_percent(fa) else 0)
                if abs(float(new_value) - fa.value) <= tol + 1e-9:
                    stats.skipped["B's value within A's written interval"] += 1
                    continue
                valid.append((b, new_value))
            if not valid:
                continue
            stats.eligible_a += 1
            for b, new_value in valid if all_pairs else [rng.choice(valid)]:
                number = _write(new_value, _decimals(a.written), _sep(a.written))
                text, shifts, news = _replace(p, [(a, number)])
                swaps.append(Swap(p.pid, text, [(a.index, news[0], b.figure or "")], shifts, False))
        for members in p.lists:
            labs = [p.labels[i] for i in members]
            for i in range(len(labs)):
                for j in range(i + 1, len(labs)):
                    a, b = labs[i], labs[j]
                    stats.list_pairs += 1
                    if a.scope or b.scope:
                        stats.list_skipped[f"out of scope ({a.scope or b.scope})"] += 1
                        continue
                    if a.written == b.written or abs(_value_of(p, a) - _value_of(p, b)) <= 1e-9:
                        stats.list_skipped["equal values"] += 1
                        continue
                    tol_a = 0.5 * 10 ** -_decimals(a.written)
                    if abs(float(a.written.replace("·", ".")) - float(b.written.replace("·", "."))) <= tol_a:
                        stats.list_skipped["values within each other's rounding"] += 1
                        continue
                    text, shifts, news = _replace(p, [(a, b.written), (b, a.written)])
                    swaps.append(
                        Swap(
                            p.pid,
                            text,
                            [(a.index, news[0], str(b.index)), (b.index, news[1], str(a.index))],
                            shifts,
                            True,
                        )
                    )
    return swaps, stats


def _value_of(p: Paragraph, lab: Label) -> float:
    if lab.derived and not lab.figure:
        return float(lab.value or 0)
    return _figure(p, lab.figure).base_value  # type: ignore[arg-type]


def _legit_values(p: Paragraph) -> list[float]:
    """Every number the paragraph's table backs, as written in the text's scale: a wrong derived
    value must not land on one of them (it would then be right for another reason)."""
    vals: list[float] = []
    for f in p.figures:
        vals.append(f.value)
        if f.last_year is not None:
            vals.append(f.last_year)
    for lab in p.labels:
        if lab.value is not None:
            vals.append(abs(lab.value))
    # what an item-aware checker may compute for any figure, stated or not
    by_id = {f.id: f for f in p.figures}
    for f in p.figures:
        if f.last_year:
            vals += [abs(f.value - f.last_year), abs(f.value - f.last_year) / abs(f.last_year) * 100]
        whole = by_id.get(f.part_of or "")
        if whole is not None and whole.base_value:
            vals.append(f.base_value / whole.base_value * 100)
    return vals


@dataclass
class Perturbed:
    label: Label
    text: str
    mention: str
    spans: dict[int, tuple[int, int]]
    number: str


def build_wrong(paragraphs: tuple[Paragraph, ...], seed: int = SEED) -> tuple[list[Perturbed], Counter]:
    """Each scored derived mention with its written number moved clearly outside its rounding."""
    rng = random.Random(seed + 1)
    out: list[Perturbed] = []
    skipped: Counter = Counter()
    for p in paragraphs:
        legit = _legit_values(p)
        for lab in p.labels:
            if not lab.derived or lab.scope:
                continue
            if not lab.written or not _NUMBER.fullmatch(lab.written):
                skipped["not written in digits"] += 1
                continue
            dec = _decimals(lab.written)
            unit = 10.0**-dec
            stated = float(lab.written.replace("·", "."))
            number = None
            for attempt in range(80):
                # 8-30 % of the value, at least 3 units of the last digit; when that keeps landing on
                # a value the table backs (small numbers: "下降0.6%"), walk outwards 3, 4, 5 ... units
                if attempt < 20:
                    steps = max(3, round(abs(stated) * rng.uniform(0.08, 0.3) / unit))
                else:
                    steps = 3 + (attempt - 20) // 2
                sign = rng.choice((-1, 1))
                new = round(stated + sign * steps * unit, dec)
                if new <= 0:
                    new = round(stated + steps * unit, dec)
                if new != stated and all(abs(new - v) > unit + 1e-9 for v in legit):
                    number = f"{new:.{dec}f}".replace(".", _sep(lab.written))
                    break
            if number is None:
                skipped["no clear perturbation found"] += 1
                continue
            text, shifts, news = _replace(p, [(lab, number)])
            out.append(Perturbed(lab, text, news[0], shifts, number))
    return out, skipped


# ---------------------------------------------------------------- the measurement


@dataclass
class Measurement:
    outcomes: list[Outcome]
    swap_stats: SwapStats
    wrong_skipped: Counter
    scope: Counter  # out-of-scope labels by reason
    counts: dict[str, int]
    seed: int = SEED
    all_pairs: bool = False

    def of(self, set_: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.set == set_]

    # headline numbers -------------------------------------------------
    def caught(self, sets: tuple[str, ...] = ("swapped", "分别")) -> tuple[int, int]:
        outs = [o for o in self.outcomes if o.set in sets]
        return sum(o.status == "misattributed" for o in outs), len(outs)

    def flagged(self, sets: tuple[str, ...] = ("swapped", "分别")) -> tuple[int, int]:
        outs = [o for o in self.outcomes if o.set in sets]
        return sum(o.status in ("misattributed", "invented") for o in outs), len(outs)

    def derived_right(self, set_: str) -> tuple[int, int]:
        outs = self.of(set_)
        return sum(o.ok for o in outs), len(outs)

    def originals_alarms(self) -> Counter:
        """False alarms on the published text, by kind: status on plain / derived / unlabelled."""
        c: Counter = Counter()
        for o in self.outcomes:
            if o.set == "originals" and o.status in ("misattributed", "invented"):
                c[(o.status, "derived" if o.label_kind not in ("plain", None) else "plain")] += 1
            elif o.set == "unlabelled":
                c[(o.status, "unlabelled" if not o.note else "not_figures")] += 1
        return c

    def originals_misattributed(self) -> int:
        return sum(v for (status, _), v in self.originals_alarms().items() if status == "misattributed")

    def wrongly_derived(self) -> int:
        return sum(
            o.status in ("invented", "misattributed") for o in self.of("originals") if o.label_kind not in ("plain",)
        )

    def swapped_precision(self) -> tuple[int, int]:
        """Of all `misattributed` verdicts in the swapped variants, how many were on a swapped mention."""
        tp = sum(o.status == "misattributed" for o in self.outcomes if o.set in ("swapped", "分别"))
        fp = sum(o.status == "misattributed" for o in self.outcomes if o.set == "swap-collateral")
        return tp, tp + fp

    def headline(self) -> dict[str, Any]:
        caught, n = self.caught()
        lc, ln = self.caught(("分别",))
        fl, _ = self.flagged()
        tp, called = self.swapped_precision()
        rr, rn = self.derived_right("derived-right")
        wr, wn = self.derived_right("derived-wrong")
        return {
            "swapped_mentions": n,
            "fenbie_mentions": ln,
            "misattributed_caught": round(caught / n, 4) if n else 1.0,
            "fenbie_caught": round(lc / ln, 4) if ln else 1.0,
            "swapped_flagged": round(fl / n, 4) if n else 1.0,
            "misattributed_precision": round(tp / called, 4) if called else 1.0,
            "derived_right_n": rn,
            "derived_right": round(rr / rn, 4) if rn else 1.0,
            "derived_wrong_n": wn,
            "derived_wrong_right": round(wr / wn, 4) if wn else 1.0,
            "originals_misattributed": self.originals_misattributed(),
            "originals_wrongly_derived": self.wrongly_derived(),
            "originals_plain_ok": sum(o.ok for o in self.of("originals") if o.label_kind == "plain"),
            "originals_plain_n": sum(o.label_kind == "plain" for o in self.of("originals")),
            "originals_unlabelled_flagged": len(self.of("unlabelled")),
        }

    def targets_met(self) -> dict[str, bool]:
        h = self.headline()
        return {
            "misattributed caught >= 0.90": h["misattributed_caught"] >= TARGET_CAUGHT,
            "分别 caught >= 0.90": h["fenbie_caught"] >= TARGET_CAUGHT,
            "derived right judged right = 1.00": h["derived_right"] >= TARGET_DERIVED,
            "derived wrong judged invented = 1.00": h["derived_wrong_right"] >= TARGET_DERIVED,
            "0 misattributed on originals": h["originals_misattributed"] == 0,
            "0 wrongly derived on originals": h["originals_wrongly_derived"] == 0,
        }


def _check(p: Paragraph, text: str) -> list[NumberMention]:
    return check_numbers(text, p.figures)


def _unlabelled(p: Paragraph, text: str, mentions: list[NumberMention], set_: str) -> list[Outcome]:
    """Flagged numbers that no label covers (scored or not): false alarms."""
    out = []
    for m in mentions:
        if not m.flagged:
            continue
        if any(m.start < lab.end and lab.start < m.end for lab in p.labels):
            continue
        nf = any(
            m.start < s + len(w) and s < m.end
            for w in p.not_figures
            for s in [i.start() for i in re.finditer(re.escape(w), text)]
        )
        out.append(
            Outcome(
                set=set_,
                pid=p.pid,
                mention=m.text,
                expected="not flagged",
                status=m.status,
                item=m.item,
                figure_id=m.figure_id,
                kind=m.derivation.kind if m.derivation else None,
                message=m.message,
                note="not_figures" if nf else "",
            )
        )
    return out


def measure(path: Path = PARAGRAPHS, seed: int = SEED, *, all_pairs: bool = False) -> Measurement:
    """All three sets. `seed` draws the swaps' B and the wrong numbers' moves; `all_pairs` swaps
    every valid (A, B) instead of one B per A (slower; for a check that does not hinge on the draw)."""
    paragraphs = load(path)
    outcomes: list[Outcome] = []
    scope: Counter = Counter()
    by_pid = {p.pid: p for p in paragraphs}
    original_mentions: dict[str, list[NumberMention]] = {}
    # originals, and the right half of the derived set
    for p in paragraphs:
        ms = _check(p, p.text)
        original_mentions[p.pid] = ms
        for lab in p.labels:
            got = _match((lab.num_start, lab.num_end), ms)
            if lab.scope == "inconsistent":
                out = _outcome("inconsistent", lab, got, "invented", "")
                out.ok = bool(got and got.flagged)
                outcomes.append(out)
                continue
            if lab.scope:
                scope[lab.scope] += 1
                out = _outcome("out-of-scope", lab, got, "-", "", note=lab.scope)
                outcomes.append(out)
                continue
            out = _judge_original(lab, got)
            outcomes.append(out)
            if lab.derived and not lab.figure:
                right = _outcome("derived-right", lab, got, f"derived:{lab.expected_kind}", "")
                right.ok = out.ok
                outcomes.append(right)
            elif lab.derived:
                right = _outcome("derived-right", lab, got, out.expected, "")
                right.ok = out.ok
                outcomes.append(right)
        outcomes.extend(_unlabelled(p, p.text, ms, "unlabelled"))
    # swapped
    swaps, stats = build_swaps(paragraphs, seed, all_pairs=all_pairs)
    for sw in swaps:
        p = by_pid[sw.pid]
        ms = _check(p, sw.text)
        changed = {idx for idx, _, _ in sw.changed}
        for idx, new_text, other in sw.changed:
            lab = p.labels[idx]
            got = _match(sw.spans[idx], ms)
            if sw.in_list:
                other_desc = f"was “{lab.text}”, swapped with “{p.labels[int(other)].text}”"
            else:
                fb = _figure(p, other)
                other_desc = f"was “{lab.text}” ({lab.figure}); now {other}'s value, {fb.item} {figure_text(fb)}"
            out = _outcome(
                "分别" if sw.in_list else "swapped", lab, got, "misattributed", "", mention=new_text, note=other_desc
            )
            out.ok = bool(got and got.status == "misattributed")
            outcomes.append(out)
        # the untouched mentions of the variant: a misattributed verdict there is a wrong one
        for lab in p.labels:
            if lab.index in changed or lab.scope:
                continue
            got = _match(sw.spans[lab.index], ms)
            if got and got.status == "misattributed":
                outcomes.append(_outcome("swap-collateral", lab, got, "not misattributed", ""))
    # derived wrong
    wrong, wrong_skipped = build_wrong(paragraphs, seed)
    for w in wrong:
        p = by_pid[w.label.pid]
        ms = _check(p, w.text)
        got = _match(w.spans[w.label.index], ms)
        out = _outcome(
            "derived-wrong", w.label, got, "invented", "", mention=w.mention, note=f"published {w.label.written}"
        )
        out.ok = bool(got and got.status == "invented")
        outcomes.append(out)
    counts = {
        "paragraphs": len(paragraphs),
        "labels": sum(len(p.labels) for p in paragraphs),
        "scored_labels": sum(1 for p in paragraphs for lab in p.labels if not lab.scope),
        "figures_supplied": sum(len(p.figures) for p in paragraphs),
        "figures_value_null": sum(1 for p in paragraphs for f in p.raw.values() if f.get("value") is None),
        "swap_variants": sum(not s.in_list for s in swaps),
        "fenbie_variants": sum(s.in_list for s in swaps),
        "wrong_variants": len(wrong),
    }
    return Measurement(outcomes, stats, wrong_skipped, scope, counts, seed, all_pairs)


# ---------------------------------------------------------------- reports


def _pct(a: int, n: int) -> str:
    return f"{a}/{n} = {a / n:.1%}" if n else "0/0"


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def _gives_computed(o: Outcome) -> bool:
    """Whether a wrong derived number's message names the computed value: the published number
    (which the computed value rounds to), possibly with more digits."""
    published = o.note.split()[-1].replace("·", ".")
    return bool(o.message and re.search(rf"(?<![\d.]){re.escape(published)}\d*(?![\d])", o.message))


def _miss_reason(o: Outcome) -> str:
    if o.status == "grounded":
        return "grounded by value (clause names no item)" if not o.item else "grounded through a named item"
    if o.status == "invented":
        return "invented (flagged, not as misattributed)"
    return o.status


def report(m: Measurement) -> str:
    h = m.headline()
    lines = ["# Item-aware grounding on published paragraphs (evals/grounding_quality.py)", ""]
    c = m.counts
    lines += [
        f"{c['paragraphs']} paragraphs, {c['labels']} labelled numbers ({c['scored_labels']} scored), "
        f"{c['figures_supplied']} figures supplied ({c['figures_value_null']} value-null rows left out).",
        "",
        "## Headline",
        "",
    ]
    caught, n = m.caught()
    lc, ln = m.caught(("分别",))
    sc, sn = m.caught(("swapped",))
    fl, _ = m.flagged()
    tp, called = m.swapped_precision()
    rr, rn = m.derived_right("derived-right")
    wr, wn = m.derived_right("derived-wrong")
    rows = [
        ["misattributed caught (swapped + 分别)", _pct(caught, n), f"≥ {TARGET_CAUGHT:.0%}"],
        ["  of which plain swaps", _pct(sc, sn), ""],
        ["  of which 分别 lists", _pct(lc, ln), f"≥ {TARGET_CAUGHT:.0%}"],
        ["swapped flagged at all (misattributed or invented)", _pct(fl, n), ""],
        ["  of which 分别 lists", _pct(*m.flagged(("分别",))), ""],
        ["misattributed precision (swapped variants)", _pct(tp, called), ""],
        ["derived right judged right", _pct(rr, rn), "100%"],
        ["derived wrong judged invented", _pct(wr, wn), "100%"],
        ["originals: misattributed", str(h["originals_misattributed"]), "0"],
        ["originals: wrongly derived (right derived number flagged)", str(h["originals_wrongly_derived"]), "0"],
        [
            "originals: plain mentions grounded to their figure",
            _pct(h["originals_plain_ok"], h["originals_plain_n"]),
            "",
        ],
    ]
    lines += _table(rows, ["measure", "value", "target"])
    lines += ["", "Targets: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in m.targets_met().items())]
    for set_ in ("swapped", "分别"):
        why = Counter(_miss_reason(o) for o in m.of(set_) if not o.ok)
        if why:
            lines += [
                f"{set_} not caught, by what the checker said: " + ", ".join(f"{k} {v}" for k, v in why.most_common())
            ]

    # per set counts
    lines += ["", "## Per set", ""]
    rows = []
    for set_ in ("originals", "swapped", "分别", "derived-right", "derived-wrong", "inconsistent", "out-of-scope"):
        outs = m.of(set_)
        st = Counter(o.status for o in outs)
        rows.append(
            [
                set_,
                str(len(outs)),
                str(sum(o.ok for o in outs)) if set_ != "out-of-scope" else "-",
                *(str(st.get(s, 0)) for s in ("grounded", "misattributed", "invented", "not read")),
            ]
        )
    lines += _table(rows, ["set", "mentions", "as expected", "grounded", "misattributed", "invented", "not read"])

    # false alarms on originals
    lines += ["", "## False alarms on the originals (by status)", ""]
    alarms = m.originals_alarms()
    rows = []
    for status in ("misattributed", "invented"):
        rows.append(
            [status, *(str(alarms.get((status, w), 0)) for w in ("plain", "derived", "unlabelled", "not_figures"))]
        )
    lines += _table(rows, ["status", "labelled plain", "labelled derived", "unlabelled number", "not_figures"])
    other = Counter(
        "grounded, other figure" if o.status == "grounded" else o.status
        for o in m.of("originals")
        if not o.ok and o.status not in ("misattributed", "invented")
    )
    lines += [
        "",
        "Other misses on originals (not false alarms): "
        + (", ".join(f"{k} {v}" for k, v in sorted(other.items())) or "none"),
    ]

    # per derived kind
    lines += ["", "## Derived mentions by kind", ""]
    rows = []
    kinds = sorted({o.label_kind for o in m.outcomes if o.set.startswith("derived") and o.label_kind})
    for k in kinds:
        right = [o for o in m.of("derived-right") if o.label_kind == k]
        wrong = [o for o in m.of("derived-wrong") if o.label_kind == k]
        msg = sum(_gives_computed(o) for o in wrong)
        rows.append(
            [
                k + (f" (expected as {EXPECTED_KIND[k]})" if k in EXPECTED_KIND else ""),
                _pct(sum(o.ok for o in right), len(right)),
                _pct(sum(o.ok for o in wrong), len(wrong)),
                _pct(sum(o.status in ("invented", "misattributed") for o in wrong), len(wrong)),
                _pct(msg, len(wrong)),
            ]
        )
    lines += _table(
        rows,
        [
            "kind",
            "right judged right",
            "wrong judged invented",
            "wrong flagged at all",
            "message gives the computed value",
        ],
    )

    inc = m.of("inconsistent")
    if inc:
        lines += [
            "",
            "Published inconsistent number (p032 占5.8%, 5/87 = 5.75%) flagged: "
            + _pct(sum(o.ok for o in inc), len(inc)),
        ]

    # generation
    s = m.swap_stats
    lines += [
        "",
        "## How the variants were made",
        "",
        f"Plain swaps: {s.candidate_pairs} ordered candidate pairs (A, B: plain mentions of different figures "
        f"of the same unit class); skipped: "
        + (", ".join(f"{k} {v}" for k, v in s.skipped.most_common()) or "none")
        + f"; {s.eligible_a} mentions A had a valid B, {'every valid B' if m.all_pairs else f'one B drawn for each (seed {m.seed})'} = {m.counts['swap_variants']} variants.",
        f"分别 lists: {s.list_pairs} pairs inside lists; skipped: "
        + (", ".join(f"{k} {v}" for k, v in s.list_skipped.most_common()) or "none")
        + f"; {m.counts['fenbie_variants']} variants, each swapping two values ({len(m.of('分别'))} mentions).",
        f"Derived wrong: {m.counts['wrong_variants']} variants; skipped: "
        + (", ".join(f"{k} {v}" for k, v in m.wrong_skipped.most_common()) or "none")
        + ".",
        "Out of scope (not scored): " + (", ".join(f"{k} {v}" for k, v in m.scope.most_common()) or "none") + ".",
    ]
    return "\n".join(lines) + "\n"


def misses_md(m: Measurement) -> str:
    lines = [
        "# Misses of the item-aware checker on published paragraphs",
        "",
        "Written by `python -m evals.grounding_quality` (do not edit by hand). Each row: the set, the",
        "paragraph, the mention as checked, what was expected, and what the checker said.",
        "Sets: originals (published text), swapped / 分别 (a value swapped in), derived-right /",
        "derived-wrong, unlabelled (a flagged number that is not a labelled mention),",
        "swap-collateral (an untouched mention of a swapped variant called misattributed).",
        "",
    ]
    order = ["originals", "unlabelled", "swapped", "分别", "swap-collateral", "derived-wrong", "inconsistent"]
    for set_ in order:
        outs = [o for o in m.of(set_) if not o.ok]
        if not outs:
            continue
        lines += [f"## {set_} ({len(outs)})", ""]
        rows = [
            [
                o.pid,
                f"“{o.mention}”",
                o.label_kind or "",
                o.expected + (f" ({o.note})" if o.note else ""),
                o.status,
                o.item or "",
                o.figure_id or "",
                o.kind or "",
                (o.message or "").replace("|", "/").replace("\n", " "),
            ]
            for o in outs
        ]
        lines += _table(
            rows, ["paragraph", "mention", "label", "expected", "status", "item", "figure", "derivation", "message"]
        )
        lines.append("")
    return "\n".join(lines)


def progress_line(m: Measurement, label: str = "") -> str:
    """One line of headline numbers, for a log the checker's author can follow."""
    h = m.headline()
    return (
        f"{label}misattributed caught {h['misattributed_caught']:.1%} of {h['swapped_mentions']} "
        f"(分别 {h['fenbie_caught']:.1%} of {h['fenbie_mentions']}; flagged at all {h['swapped_flagged']:.1%}; "
        f"precision {h['misattributed_precision']:.1%}) | derived right {h['derived_right']:.1%} of "
        f"{h['derived_right_n']}, wrong {h['derived_wrong_right']:.1%} of {h['derived_wrong_n']} | originals: "
        f"misattributed {h['originals_misattributed']}, wrongly derived {h['originals_wrongly_derived']}, "
        f"plain grounded to their figure {h['originals_plain_ok']}/{h['originals_plain_n']}, "
        f"unlabelled flagged {h['originals_unlabelled_flagged']}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="write the headline numbers and every outcome as JSON")
    ap.add_argument("--report", type=Path, help="write the tables as Markdown")
    ap.add_argument("--misses", type=Path, default=MISSES, help=f"where the misses go (default {MISSES})")
    ap.add_argument("--seed", type=int, default=SEED, help=f"draws the swaps and wrong numbers (default {SEED})")
    ap.add_argument("--all-pairs", action="store_true", help="swap every valid pair, not one B per mention")
    ap.add_argument("--progress", type=Path, help="append one line of headline numbers to this file")
    ap.add_argument("--label", default="", help="what was measured (e.g. a commit), for --progress")
    ap.add_argument(
        "--paragraphs",
        type=Path,
        default=PARAGRAPHS,
        help="the labelled set (default: the development set; evals/grounding/heldout.yaml, heldout2.yaml and heldout3.yaml are held out)",
    )
    args = ap.parse_args(argv)
    m = measure(args.paragraphs, seed=args.seed, all_pairs=args.all_pairs)
    text = report(m)
    print(text)
    if args.progress:
        line = progress_line(m, args.label)
        if not args.all_pairs:  # the same swaps over every valid pair: a draw-independent check
            every = measure(args.paragraphs, seed=args.seed, all_pairs=True)
            caught, n = every.caught(("swapped",))
            line += f" | all pairs: plain swaps caught {caught / n:.1%} of {n}"
        with args.progress.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    args.misses.write_text(misses_md(m), encoding="utf-8")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "headline": m.headline(),
                    "targets": m.targets_met(),
                    "counts": m.counts,
                    "outcomes": [asdict(o) for o in m.outcomes],
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0 if all(m.targets_met().values()) else 1


if __name__ == "__main__":
    sys.exit(main())
