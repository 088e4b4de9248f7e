"""Which supplied figure a clause is about (issue 10, item 1).

A clause (gongwen.clauses: the text between two of ，；。！？) names a figure when it contains
the figure's item, one of its aliases, a phrase the section's notes tie to it, or a long enough
piece of the item: real text shortens items ("涉人大网络舆情研判" is written "网络舆情研判"), so
a run of max(4, 60 %) of the item's characters counts too, when that run is more than generic
words (工作、活动、全年…). Quotes and spaces are ignored on both sides (“禾川人大”微信公众号).

The search keys of all figures are compiled once per set of figures into one trie regex; a
text is scanned only in the clauses that hold a number.

Pairing a number with a named item inside its clause, in this order:
- "A、B分别为x、y": the items named before 分别 pair in order with the numbers after it;
- an item right after the number ("12次新闻发布会");
- the nearest item before the number with no other number between;
- the nearest item after the number with no other number between.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from assistant.check.reading import NumberReading, trie_regex
from assistant.core.figures import Figure

# Ignored when matching names: quotes, brackets around names, spaces.
_IGNORED = re.compile(r"[“”‘’\"'《》「」〈〉\s]")
# Words that name no item by themselves: a run of an item made only of these (plus one or two
# characters) does not name it.
GENERIC_WORDS = (
    "工作",
    "活动",
    "全年",
    "开展",
    "累计",
    "共计",
    "总数",
    "数量",
    "情况",
    "次数",
    "人数",
    "有关",
    "相关",
    "组织",
    "举办",
    "召开",
    "完成",
    "进行",
    "其中",
    "以上",
    "年度",
    "本年",
    "全市",
    "全县",
    "全区",
    "全省",
    "各级",
    "参加",
    "参与",
)
_GENERIC_RE = re.compile("|".join(GENERIC_WORDS) + "|[的和及与、等]")
FUZZY_MIN_ITEM = 6  # shorter items are named only in full or by an alias
FUZZY_MIN_RUN = 4  # characters
FUZZY_SHARE = 0.6  # of the item's characters
FUZZY_MIN_CONTENT = 3  # characters left once generic words are taken out


class Occurrence(NamedTuple):
    """Where a clause names figures: offsets into the checked text, the figures (indices into
    the figures list; several when one name fits several items) and whether the whole item or
    an alias was written (not a piece of it)."""

    start: int
    end: int
    figures: tuple[int, ...]
    exact: bool


def normalise_name(name: str) -> str:
    return _IGNORED.sub("", name)


def _fuzzy_runs(item: str) -> list[str]:
    n = len(item)
    if n < FUZZY_MIN_ITEM:
        return []
    size = max(FUZZY_MIN_RUN, math.ceil(FUZZY_SHARE * n))
    runs = []
    for i in range(n - size + 1):
        run = item[i : i + size]
        if len(_GENERIC_RE.sub("", run)) >= FUZZY_MIN_CONTENT:
            runs.append(run)
    return runs


class _Keys(NamedTuple):
    pattern: re.Pattern[str]
    figures: dict[str, tuple[int, ...]]  # key -> figure indices
    exact: dict[str, bool]  # key -> a whole item or alias (not a run of an item)
    prefixes: dict[str, tuple[str, ...]]  # key -> the keys it starts with, longest first


@lru_cache(maxsize=16)
def _compile(names: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]) -> _Keys:
    """names: per figure, (exact names, fuzzy runs). Cached: drafting checks the same figures
    again and again."""
    figures: dict[str, list[int]] = {}
    exact: dict[str, bool] = {}
    for index, (whole, runs) in enumerate(names):
        for key in whole:
            figures.setdefault(key, []).append(index)
            exact[key] = True
        for key in runs:
            figures.setdefault(key, []).append(index)
            exact.setdefault(key, False)
    keys = sorted(figures)
    keyset = set(keys)
    prefixes = {k: tuple(k[:n] for n in range(len(k), 0, -1) if k[:n] in keyset) for k in keys}
    # A lookahead finds the longest key at every position, overlapping ones included.
    pattern = re.compile(f"(?=({trie_regex(keys)}))")
    return _Keys(pattern, {k: tuple(dict.fromkeys(v)) for k, v in figures.items()}, exact, prefixes)


def figure_names(figures: Sequence[Figure], extra: dict[int, list[str]] | None = None) -> _Keys:
    """The compiled search keys of `figures`; `extra`: more exact names per figure index (from
    the section's notes)."""
    names = []
    for index, fig in enumerate(figures):
        item = normalise_name(fig.item)
        whole = [item, *(normalise_name(a) for a in fig.aliases), *(extra or {}).get(index, [])]
        whole = [w for w in dict.fromkeys(whole) if len(w) >= 2]
        names.append((tuple(whole), tuple(r for r in _fuzzy_runs(item) if r not in whole)))
    return _compile(tuple(names))


def names_in(text: str, start: int, end: int, keys: _Keys) -> list[Occurrence]:
    """The names inside text[start:end] (a clause), quotes and spaces ignored; a name inside a
    longer name of other figures is dropped (基层立法联系点 inside 基层立法联系点征集…)."""
    if not keys.figures or start >= end:
        return []
    span = text[start:end]
    if _IGNORED.search(span):
        pos = [start + i for i, ch in enumerate(span) if not _IGNORED.match(ch)]
        span = "".join(text[i] for i in pos)
    else:
        pos = None
    found: list[Occurrence] = []
    for m in keys.pattern.finditer(span):
        # the longest key here and the shorter keys it starts with
        for key in keys.prefixes.get(m.group(1), ()):
            a, b = m.start(), m.start() + len(key)
            if pos is None:
                a, b = start + a, start + b
            else:
                a, b = pos[a], pos[b - 1] + 1
            found.append(Occurrence(a, b, keys.figures[key], keys.exact[key]))
    return _drop_contained(found)


def _drop_contained(found: list[Occurrence]) -> list[Occurrence]:
    if len(found) < 2:
        return found
    found.sort(key=lambda o: (o.start, -(o.end - o.start)))
    kept: list[Occurrence] = []
    for o in found:
        inner = any(
            k.start <= o.start and o.end <= k.end and (k.end - k.start) > (o.end - o.start) and k.figures != o.figures
            for k in kept
        )
        if not inner:
            kept.append(o)
    # one occurrence per (figures, start): a key and a shorter key of the same figures
    seen: set[tuple[tuple[int, ...], int]] = set()
    out = []
    for o in kept:
        if (o.figures, o.start) not in seen:
            seen.add((o.figures, o.start))
            out.append(o)
    return out


_RESPECTIVELY = "分别"


def respectively(
    clause_text: str, clause_start: int, occs: list[Occurrence], readings: list[NumberReading]
) -> dict[int, tuple[int, ...]] | None:
    """ "A、B分别为x、y": reading index (into `readings`) -> the figures its item names, when the
    items named before 分别 and the numbers after it are as many (two or more)."""
    at = clause_text.find(_RESPECTIVELY)
    if at < 0:
        return None
    cut = clause_start + at
    items: list[tuple[int, ...]] = []
    for o in sorted(occs, key=lambda o: o.start):
        if o.end <= cut and o.figures not in items:
            items.append(o.figures)
    after = [i for i, r in enumerate(readings) if r.start >= cut]
    if len(items) < 2 or len(items) != len(after):
        return None
    return dict(zip(after, items))


def pair_in_order(items: list[tuple[int, ...]], count: int) -> list[tuple[int, ...]] | None:
    """分别 lists: the items pair with the numbers in order when they are as many (two or more)."""
    return items if len(items) >= 2 and len(items) == count else None


def nearest(
    reading: NumberReading, occs: list[Occurrence], others: list[NumberReading], text: str
) -> Occurrence | None:
    """The item the clause pairs with `reading` (no 分别 list): right after it ("12次新闻发布会",
    "12次的新闻发布会"), else the nearest before with no other number between, else the nearest
    after with no other number between."""

    def clear(a: int, b: int) -> bool:
        return not any(o is not reading and a < o.end and o.start < b for o in others)

    for o in occs:
        gap = text[reading.end : o.start] if o.start >= reading.end else None
        if gap is not None and gap in ("", "的"):
            return o
    before = [o for o in occs if o.end <= reading.start and clear(o.end, reading.start)]
    if before:
        return max(before, key=lambda o: o.end)
    after = [o for o in occs if o.start >= reading.end and clear(reading.end, o.start)]
    if after:
        return min(after, key=lambda o: o.start)
    return None
