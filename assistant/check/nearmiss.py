"""Near misses of the political formulations (style rule P, issue 12 part 3).

A formulation of the table (rules/political.yaml `formulations`) written almost right is an error
that shows the standard form:

* 6 characters or more: any span within edit distance 2 (全过程民主 → 全过程人民民主,
  习近平新时代中国特色主义思想 → …社会主义思想), unless the formulation stands there whole with
  at most two characters added inside (…社会主义经济思想 qualifies it; it is not a slip);
* 4–5 characters: one substitution, and only by a homophone or a visually similar character
  (rules/confusables.yaml): 四个意思 → 四个意识, while 四个方面 (two changes) is left alone.

A span is no slip either when it starts or ends inside a word of its sentence (健全的人民民主 holds
“全的人民民主”, one character of 健全 and 人民民主) or names another person where the formulation
names one (邓小平外交思想 is the 1990s' formulation, not a slip of 习近平外交思想): both read by jieba on
the sentence around the candidate only, so a text without candidates never loads it.

An exact occurrence of a formulation or of one of the table's `legit` neighbours (other official
phrases close to a formulation: 马克思主义, 社会主义核心价值体系) masks its span for formulations
at most k characters longer, so 马克思主义 is not read as a near miss of 马克思列宁主义, while
社会主义 inside 社会主义核心价值关 does not hide that slip. Where several near misses overlap, the longest
formulation wins. Candidates come from shared character pairs (a span within distance k of an
n-character formulation shares at least n − 1 − 2k of its pairs), then a semi-global alignment
finds the span.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from assistant.check.reading import load_rules
from assistant.core.segment import get_jieba

LONG = 6  # from this length on, edit distance ≤ 2; below it, one confusable substitution
MIN_LEN = 4


@dataclass(frozen=True)
class NearMiss:
    start: int
    end: int
    canonical: str
    distance: int


@lru_cache(maxsize=1)
def _table() -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = load_rules("political.yaml")
    forms = tuple(sorted({f for f in data.get("formulations", []) if len(f) >= MIN_LEN}, key=len, reverse=True))
    legit = tuple(sorted(set(data.get("legit", [])), key=len, reverse=True))
    return forms, legit


@lru_cache(maxsize=1)
def _confusable() -> dict[str, frozenset[str]]:
    """Each character -> the characters it is confused with (same group of rules/confusables.yaml)."""
    data = load_rules("confusables.yaml")
    out: dict[str, set[str]] = defaultdict(set)
    for group in [*data.get("homophones", []), *data.get("similar", [])]:
        chars = set(group)
        for c in chars:
            out[c] |= chars - {c}
    return {c: frozenset(v) for c, v in out.items()}


def confusable(a: str, b: str) -> bool:
    """True when `b` is a homophone or a look-alike of `a` (one character each)."""
    return b in _confusable().get(a, frozenset())


def _masks(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    spans = []
    for p in phrases:
        i = text.find(p)
        while i >= 0:
            spans.append((i, i + len(p)))
            i = text.find(p, i + 1)
    return sorted(spans)


def _overlaps(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(a < e and s < b for a, b in spans)


@lru_cache(maxsize=1)
def _pairs() -> frozenset[str]:
    """Every character pair of the table's formulations."""
    return frozenset(f[j : j + 2] for f in _table()[0] for j in range(len(f) - 1))


def _bigrams(text: str) -> dict[str, list[int]]:
    """Where each formulation's character pair occurs in `text` (str.find: C speed)."""
    index: dict[str, list[int]] = {}
    for pair in _pairs():
        i = text.find(pair)
        while i >= 0:
            index.setdefault(pair, []).append(i)
            i = text.find(pair, i + 1)
    return index


def _shares(form: str, region: str, k: int) -> bool:
    """Cheap necessary condition: `region` holds at least len(form) − k of the form's characters."""
    return sum(min(region.count(c), form.count(c)) for c in set(form)) >= len(form) - k


def _expanded(form: str, region: str, k: int) -> bool:
    """True when every character of `form` stands in `region` in order with at most k others
    between them: a qualified formulation (…社会主义经济思想), not a slip."""
    for i, c in enumerate(region):
        if c != form[0]:
            continue
        j, pos = 1, i + 1
        while j < len(form) and pos < len(region) and pos - i < len(form) + k:
            if region[pos] == form[j]:
                j += 1
            pos += 1
        if j == len(form):
            return True
    return False


def _best(form: str, region: str, k: int) -> tuple[int, int, int] | None:
    """(distance, start, end) of the span of `region` closest to `form` (free start and end, on a
    tie the span whose length is closest to the form's); None as soon as no span can be within k."""
    n, m = len(form), len(region)
    prev = [(0, j) for j in range(m + 1)]  # (cost, where the span starts) for form[:0]
    for i in range(1, n + 1):
        cur: list[tuple[int, int]] = [(i, 0)]
        for j in range(1, m + 1):
            cur.append(
                min(
                    (prev[j - 1][0] + (form[i - 1] != region[j - 1]), prev[j - 1][1]),
                    (prev[j][0] + 1, prev[j][1]),  # a form character left out of the text
                    (cur[j - 1][0] + 1, cur[j - 1][1]),  # an extra character in the text
                )
            )
        if min(c for c, _ in cur) > k:
            return None
        prev = cur
    cost, _, start, end = min((c, abs((j - s) - n), s, j) for j, (c, s) in enumerate(prev) if j > s)
    return cost, start, end


_SENTENCE_EDGE = "。！？；\n"


def _words_around(text: str, start: int, end: int) -> tuple[int, list[tuple[str, str]]]:
    """(offset, jieba words with their part of speech) of the sentence holding text[start:end]."""
    lo = max((text.rfind(c, 0, start) for c in _SENTENCE_EDGE), default=-1) + 1
    ends = [i for i in (text.find(c, end) for c in _SENTENCE_EDGE) if i >= 0]
    hi = min(ends) if ends else len(text)
    get_jieba()  # imported and initialised quietly first (jieba warns about pkg_resources on import)
    import jieba.posseg  # heavy: only when a candidate near miss is there to read

    return lo, [(w.word, w.flag) for w in jieba.posseg.cut(text[lo:hi])]


_FUNCTION_WORDS = ("u", "p", "c")  # jieba tags of 的/地/得, 在/对/为, 和/与: grammar, not a formulation's words


def _other_wording(text: str, start: int, end: int, form: str) -> bool:
    """True when text[start:end] is another wording, not a slip of `form`: it starts or ends inside
    a word of its sentence (健全|的人民民主); it holds a person's name the formulation lacks
    (邓小平外交思想); a function word stands where the formulation has words (中国的社会主义制度,
    中国在社会主义基础上); or two adjacent characters differ and make a word of their own there
    (人民自己作主, 中国特色社会保障)."""
    span = text[start:end]
    at, words = _words_around(text, start, end)
    bounds, pos = {at}, at
    for word, flag in words:
        inside = start < pos + len(word) and pos < end
        if (
            inside
            and len(word) > 1
            and word not in form
            and (flag == "nr" or _two_changed(span, form, pos - start, word))
        ):
            return True
        if inside and len(word) == 1 and flag.startswith(_FUNCTION_WORDS) and word not in form:
            return True
        pos += len(word)
        bounds.add(pos)
    return start not in bounds or end not in bounds


def _two_changed(span: str, form: str, offset: int, word: str) -> bool:
    """`word` (at `offset` in `span`) holds both characters of a two-character substitution of `form`."""
    if len(span) != len(form):
        return False
    diff = [i for i, (a, b) in enumerate(zip(span, form)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and offset <= diff[0] and diff[1] < offset + len(word)


def near_misses(text: str) -> list[NearMiss]:
    """Spans of `text` that are near misses of a formulation of the table, longest formulation
    first where they overlap, in text order."""
    forms, legit = _table()
    masked = _masks(text, forms + legit)
    index = _bigrams(text)
    found: list[NearMiss] = []
    for form in forms:
        n = len(form)
        k = 2 if n >= LONG else 1
        votes: dict[int, int] = defaultdict(int)
        for j in range(n - 1):
            for p in index.get(form[j : j + 2], ()):
                votes[p - j] += 1
        need = max(1, n - 1 - 2 * k)
        # an inserted or left-out character shifts the pairs after it: pool the votes within ±k
        if need == 1:
            pooled: dict[int, int] | defaultdict[int, int] = votes  # any vote is enough
        else:
            pooled = {s: sum(votes.get(s + d, 0) for d in range(-k, k + 1)) for s in votes}
        for s in sorted(v for v, c in pooled.items() if c >= need):
            if n >= LONG:
                lo = max(0, s - k)
                region = text[lo : s + n + k]
                if form in region or not _shares(form, region, k):
                    continue  # written right (the usual case), or too few of its characters there
                best = _best(form, region, k)
                if best is None:
                    continue
                cost, a, b = best
                start, end = lo + a, lo + b
                if not 0 < cost <= k or "\n" in text[start:end] or _expanded(form, region, k):
                    continue
            else:
                start, end = s, s + n
                window = text[start:end]
                if start < 0 or len(window) != n:
                    continue
                diff = [i for i in range(n) if window[i] != form[i]]
                if len(diff) != 1 or not confusable(form[diff[0]], window[diff[0]]):
                    continue
                cost = 1
            # a right phrase of about this size there (马克思主义 for 马克思列宁主义) is not a near miss;
            # a short one inside (社会主义 in 社会主义核心价值关) does not excuse the longer slip
            if _overlaps(start, end, [(a, b) for a, b in masked if b - a >= n - k]):
                continue
            if _other_wording(text, start, end, form):
                continue
            found.append(NearMiss(start, end, form, cost))
    kept: list[NearMiss] = []
    for nm in sorted(found, key=lambda x: (-len(x.canonical), x.distance, x.start)):
        if not any(o.start < nm.end and nm.start < o.end for o in kept):
            kept.append(nm)
    return sorted(kept, key=lambda x: x.start)
