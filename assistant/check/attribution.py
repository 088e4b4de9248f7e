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
from collections import Counter
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
    "收到",
    "提出",
    "办理",
    "实现",
    "全年",
    "年末",
    "累计",
)
# Words an item may start or end with that a text leaves out ("收到的集体提案" written 集体提案).
_EDGE_WORDS = re.compile("^(?:" + "|".join(GENERIC_WORDS) + "|的)+|(?:" + "|".join(GENERIC_WORDS) + "|的)+$")
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
    whole: tuple[int, ...] = ()  # the figures this name is the whole item or alias of


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
    whole: dict[str, tuple[int, ...]]  # key -> the figures it is a whole name of


@lru_cache(maxsize=16)
def _compile(names: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]) -> _Keys:
    """names: per figure, (exact names, fuzzy runs). Cached: drafting checks the same figures
    again and again."""
    figures: dict[str, list[int]] = {}
    exact: dict[str, bool] = {}
    wholes: dict[str, list[int]] = {}
    for index, (whole, runs) in enumerate(names):
        for key in whole:
            figures.setdefault(key, []).append(index)
            wholes.setdefault(key, []).append(index)
            exact[key] = True
        for key in runs:
            figures.setdefault(key, []).append(index)
            exact.setdefault(key, False)
    keys = sorted(figures)
    keyset = set(keys)
    prefixes = {k: tuple(k[:n] for n in range(len(k), 0, -1) if k[:n] in keyset) for k in keys}
    # A lookahead finds the longest key at every position, overlapping ones included.
    pattern = re.compile(f"(?=({trie_regex(keys)}))")
    return _Keys(
        pattern,
        {k: tuple(dict.fromkeys(v)) for k, v in figures.items()},
        exact,
        prefixes,
        {k: tuple(dict.fromkeys(v)) for k, v in wholes.items()},
    )


_DIGIT = re.compile(r"\d")
_RATE_SUFFIX = re.compile(r"(?:增速|增长率|增幅|增长速度)$")
# What an item counts in, which the text says by the unit instead ("城市低保户数" written
# "城市低保6195户", "农村低保金额" written "农村低保…万元").
_MEASURE_SUFFIX = re.compile(r"(?:户数|人数|人次数|家数|个数|件数|金额|总额)$")
_QUALIFIER = re.compile(r"[（(][^）)]*[）)]")


def _distinctive(items: Sequence[str]) -> list[str | None]:
    """Per item, what tells it from its siblings: items sharing a suffix or prefix of at least
    two characters with two or more others ("工业经济方面建议", "农业经济方面建议", … share
    方面建议) are named by the rest ("工业经济"): the rest must be three characters or more, or
    two when the shared part is three or more (综合 of 综合类建议; not 代表 of 代表建议)."""
    suffixes = Counter(item[-k:] for item in set(items) for k in range(2, len(item)))
    prefixes = Counter(item[:k] for item in set(items) for k in range(2, len(item)))
    out: list[str | None] = []
    for item in items:
        best = None
        for k in range(len(item) - 2, 1, -1):  # the longest shared part first
            for shared, rest, counts in ((item[-k:], item[:-k], suffixes), (item[:k], item[k:], prefixes)):
                if counts[shared] - 1 < 2:
                    continue
                if (len(rest) >= 3 or (len(rest) >= 2 and k >= 3)) and len(_GENERIC_RE.sub("", rest)) >= 2:
                    best = rest
                    break
            if best:
                break
        out.append(best)
    return out


def figure_names(figures: Sequence[Figure], extra: dict[int, list[str]] | None = None) -> _Keys:
    """The compiled search keys of `figures`; `extra`: more exact names per figure index (from
    the section's notes). Besides the item and its aliases: the item without a bracketed
    qualifier (人均生产总值（按常住人口）), and what tells it from sibling items (_distinctive)."""
    spec = tuple((f.item, tuple(f.aliases), tuple((extra or {}).get(i, []))) for i, f in enumerate(figures))
    return _figure_names(spec)


@lru_cache(maxsize=16)
def _figure_names(spec: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]) -> _Keys:
    items = [normalise_name(item) for item, _, _ in spec]
    plain = [_QUALIFIER.sub("", item) for item in items]
    distinct = _distinctive(plain)
    names = []
    for index, (_, aliases, noted) in enumerate(spec):
        item = items[index]
        core = _EDGE_WORDS.sub("", plain[index])
        own = distinct[index]
        whole: list[str] = [
            item,
            plain[index],
            *([core] if len(core) >= 4 else []),
            *(normalise_name(a) for a in aliases),
            *noted,
            *([own] if own else []),
        ]
        whole = [w for w in dict.fromkeys(whole) if len(w) >= 2]
        # the item, its aliases and the notes' words name it in full; the rest are pieces of it,
        # never with a digit in them (a piece "12次" of 文稿数据“12次” would name every 12次)
        full = {item, *(normalise_name(a) for a in aliases), *noted}
        if plain.count(plain[index]) == 1:
            full.add(plain[index])  # 受理市民诉求 of 受理市民诉求(周), when no sibling shares it
        stem = _MEASURE_SUFFIX.sub("", plain[index])
        if stem != plain[index] and len(stem) >= 4:
            whole.append(stem)
            full.add(stem)
        rate = _RATE_SUFFIX.search(plain[index])
        if rate and rate.start() >= 2:
            # a rate typed as "生产总值年均增速" is written "生产总值年均增长5.1%"
            said = plain[index][: rate.start()] + "增长"
            whole.append(said)
            full.add(said)
            measure = plain[index][: rate.start()]
            if len(measure) >= 4 and not any(measure in other for k, other in enumerate(plain) if k != index):
                # and "一般公共预算收入和支出分别增长4.5%、10.0%": the measure named alone, when no
                # other item holds it ("增值税" of 增值税增速 also names 增值税收入: not then)
                whole.append(measure)
                full.add(measure)
        pieces = [w for w in whole if w not in full] + _fuzzy_runs(plain[index])
        names.append(
            (
                tuple(w for w in whole if w in full),
                tuple(dict.fromkeys(w for w in pieces if not _DIGIT.search(w))),
            )
        )
    return _compile(tuple(names))


LOOSE_MIN = 8  # characters: a shorter item is named in full, by an alias or by a long piece of it
LOOSE_SHARE = 0.85  # of a long item's characters a clause must hold, in runs of two or more
_LOOSE_PREFILTER = 0.6  # of its character pairs (those across the joints of runs are lost)


class _LongItems(NamedTuple):
    items: dict[int, str]  # figure index -> normalised item, for items of LOOSE_MIN or more, no digit
    pairs: dict[int, int]  # figure index -> how many distinct character pairs its item has
    postings: dict[str, tuple[int, ...]]  # character pair -> figure indices whose item has it


@lru_cache(maxsize=16)
def _long_items(items: tuple[str, ...]) -> _LongItems:
    long = {k: item for k, item in enumerate(items) if len(item) >= LOOSE_MIN and not _DIGIT.search(item)}
    postings: dict[str, list[int]] = {}
    pairs = {}
    for k, item in long.items():
        grams = {item[m : m + 2] for m in range(len(item) - 1)}
        pairs[k] = len(grams)
        for g in grams:
            postings.setdefault(g, []).append(k)
    return _LongItems(long, pairs, {g: tuple(v) for g, v in postings.items()})


def long_items(figures: Sequence[Figure]) -> _LongItems:
    """The items loose_names looks for, indexed once per set of figures."""
    return _long_items(tuple(normalise_name(f.item) for f in figures))


def loose_names(text: str, start: int, end: int, long: _LongItems, named: set[int]) -> list[Occurrence]:
    """Long items a clause states in its own words, their pieces scattered: most of the item's
    characters in runs of two or more ("已经解决或已被采纳的提案" in "提案所提问题已经解决或所提
    建议已被采纳的156件"). Items sharing too few character pairs with the clause are never tried."""
    if not long.items:
        return []
    clause = text[start:end]
    hits: Counter[int] = Counter()
    for g in {clause[k : k + 2] for k in range(len(clause) - 1)}:
        hits.update(long.postings.get(g, ()))
    out = []
    for f, count in hits.items():
        if f in named or count < _LOOSE_PREFILTER * long.pairs[f]:
            continue
        item = long.items[f]
        runs = covered(item, clause)
        if sum(b - a for a, b, _ in runs) >= LOOSE_SHARE * len(item):
            first = min(at for _, _, at in runs)
            last = max(at + b - a for a, b, at in runs)
            out.append(Occurrence(start + first, start + last, (f,), False))
    return out


def names_in(text: str, start: int, end: int, keys: _Keys) -> list[Occurrence]:
    """The names inside text[start:end] (a clause), quotes and spaces ignored, overlapping ones
    included (drop_contained narrows them)."""
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
            found.append(Occurrence(a, b, keys.figures[key], keys.exact[key], keys.whole.get(key, ())))
    return found


def drop_contained(found: list[Occurrence]) -> list[Occurrence]:
    """The names without those inside a longer name of other figures (理论文章 inside
    省级人大刊物刊发理论文章), one per figures and place. The caller narrows to one unit class
    first: a name inside a name of another class still counts."""
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
    # one occurrence per (figures, start): a key and a shorter key of the same figures. The
    # longer span stays, but a whole name at that place is not forgotten ("第三产业…" read
    # from the ordinal list "第一、二、三产业" and a fuzzy piece starting at the same 三).
    merged: dict[tuple[tuple[int, ...], int], Occurrence] = {}
    for o in kept:
        key = (o.figures, o.start)
        first = merged.get(key)
        if first is None:
            merged[key] = o
        elif o.whole or o.exact:
            merged[key] = first._replace(
                exact=first.exact or o.exact, whole=tuple(dict.fromkeys(first.whole + o.whole))
            )
    return list(merged.values())


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
    after = [i for i, r in enumerate(readings) if r.start >= cut]
    # whole names first ("第一、二、三产业…贡献率分别为": the three items, not the pieces they share)
    for pool in ([o for o in occs if set(o.figures) <= set(o.whole)], occs):
        items: list[tuple[int, ...]] = []
        for o in sorted(pool, key=lambda o: o.start):
            if o.end <= cut and o.figures not in items:
                items.append(o.figures)
        if len(items) >= 2 and len(items) == len(after):
            return dict(zip(after, items))
    return None


def specific_in(name: str, other: str, text: str) -> bool:
    """Whether what `name` says beyond `other` (its characters outside runs shared with other)
    is in `text`, each such character inside a run of two or more found
    there ("农业产值" against "农林牧渔服务业产值": 农 is only found alone: no)."""
    shared = [False] * len(name)
    for a, b, _ in covered(name, other):
        shared[a:b] = [True] * (b - a)
    found = [False] * len(name)
    for a, b, _ in covered(name, text):
        found[a:b] = [True] * (b - a)
    return all(s or f for s, f in zip(shared, found))


def beyond(name: str, other: str) -> list[str]:
    """The parts of `name` not in `other`, runs of two or more characters of `name` found in
    `other` taken greedily from the left; generic words left out."""
    parts, current, i, n = [], "", 0, len(name)
    while i < n:
        for size in range(n - i, 1, -1):
            if name[i : i + size] in other:
                if current:
                    parts.append(current)
                current = ""
                i += size
                break
        else:
            current += name[i]
            i += 1
    if current:
        parts.append(current)
    return [p for p in (_GENERIC_RE.sub("", part) for part in parts) if p]


def covered(name: str, text: str) -> list[tuple[int, int, int]]:
    """Runs of two or more characters of `name` found in `text`, taken greedily from the left:
    (start in name, end in name, start in text)."""
    runs, n, i = [], len(name), 0
    while i < n:
        for size in range(n - i, 1, -1):
            at = text.find(name[i : i + size])
            if at >= 0:
                runs.append((i, i + size, at))
                i += size
                break
        else:
            i += 1
    return runs


def coverage(name: str, text: str) -> float:
    """The share of `name` found in `text` as runs of two or more characters, the runs chosen to
    cover the most ("国务院各部门承办的人大代表建议" in "国务院各部门共承办…的人大代表建议": 1.0;
    "城市低保金" in "城市低保…发放低保金": 城市 + 低保金, not 城市低保 + 金)."""
    n = len(name)
    if not n:
        return 0.0
    best = [0] * (n + 1)  # best[i]: most characters of name[i:] covered
    for i in range(n - 1, -1, -1):
        best[i] = best[i + 1]
        for size in range(2, n - i + 1):
            if name[i : i + size] not in text:
                break  # a longer run holds this one
            best[i] = max(best[i], size + best[i + size])
    return best[0] / n


def nearest(
    reading: NumberReading, occs: list[Occurrence], others: list[NumberReading], text: str
) -> Occurrence | None:
    """The item the clause pairs with `reading` (no 分别 list): right after it ("12次新闻发布会",
    "12次的新闻发布会"), else the nearest before with no other number between, else the nearest
    after with no other number between."""

    def clear(a: int, b: int) -> bool:
        return not any(o is not reading and a < o.end and o.start < b for o in others)

    # a name written around another number ("抽取了1025个乡(镇、街道)") is that number's item
    occs = [o for o in occs if not any(r is not reading and o.start < r.start and r.end < o.end for r in others)]

    for o in occs:
        gap = text[reading.end : o.start] if o.start >= reading.end else None
        if gap is not None and gap in ("", "的"):
            return o
    before = [o for o in occs if o.end <= reading.start and clear(o.end, reading.start)]
    if before:
        return max(before, key=lambda o: (o.end, o.end - o.start))
    after = [o for o in occs if o.start >= reading.end and clear(reading.end, o.start)]
    if after:
        return min(after, key=lambda o: o.start)
    return None
