"""Scanning a text with many regexes, each tried only where a match can start.

The register rules are some 120 regexes, and `re` tries each one at every position of a report
when the pattern does not begin with a plain literal (a lookbehind, a group, a CJK class before
the word): about 30 ms on 30,000 characters, a third of `check_text`. Most rules have an anchor:
a character class of a few characters (老/小, 们, 再, 咋…) that every match holds at a bounded
distance from its start. `AnchoredPattern` reads that anchor from the parsed pattern once, and
`finditer` tries the regex only at the starts those characters allow, found in a `CharIndex`
built once per text for all rules. The matches are exactly `re.finditer`'s (same leftmost,
non-overlapping order; a lookbehind still sees the text before the start); a pattern without a
usable anchor falls back to `re.finditer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# the regex parser and its opcodes: private, but stable across 3.11–3.13 (typeshed has no stubs)
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

MAX_ANCHOR_CHARS = 64  # a class wider than this (the CJK block, \w) is no anchor: nearly every position
DENSE = 12  # more starts to try than one in DENSE characters: re.finditer is faster
MAX_BACK = 4  # an anchor further than this from the match start is not used (too many starts to try)

Anchor = tuple[frozenset[str], int, int]  # the anchor's characters; its least and most offset from the start


class _NoPlan(Exception):
    """The pattern has no usable anchor (it is scanned with re.finditer)."""


def _chars(op: object, av: object) -> frozenset[str] | None:
    """The characters a LITERAL or IN item matches, if they are few; else None."""
    if op is sre.LITERAL:
        return frozenset(chr(av))  # type: ignore[arg-type]
    if op is not sre.IN:
        return None
    out: set[str] = set()
    for o, a in av:  # type: ignore[attr-defined]
        if o is sre.LITERAL:
            out.add(chr(a))
        elif o is sre.RANGE and a[1] - a[0] < MAX_ANCHOR_CHARS:
            out.update(chr(c) for c in range(a[0], a[1] + 1))
        else:  # NEGATE, CATEGORY (\d, \w) or a wide range
            return None
    return frozenset(out) if len(out) <= MAX_ANCHOR_CHARS else None


def _width(state: sre_parse.State, items: list) -> tuple[int, int]:
    return sre_parse.SubPattern(state, items).getwidth()


def _plan(state: sre_parse.State, items: list, lo: int, hi: int) -> list[Anchor]:
    """Anchors of the sequence `items`, which starts `lo`–`hi` characters after the match start.
    Every match of the sequence holds a character of one of the anchors at its offset."""
    for k, (op, av) in enumerate(items):
        if hi > MAX_BACK:
            raise _NoPlan
        if op in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
            continue  # zero width
        chars = _chars(op, av)
        if chars is not None:
            return [(chars, lo, hi)]
        rest = items[k + 1 :]
        if op is sre.SUBPATTERN:
            if av[1] & re.IGNORECASE:
                raise _NoPlan  # (?i:…): a literal inside stands for its other cases too
            return _plan(state, list(av[3]) + rest, lo, hi)
        if op is sre.BRANCH:
            return [a for alternative in av[1] for a in _plan(state, list(alternative) + rest, lo, hi)]
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            try:  # at least one repetition: its anchor is the sequence's
                return _plan(state, list(av[2]), lo, hi)
            except _NoPlan:
                pass
        if op is sre.GROUPREF:
            raise _NoPlan  # its width is the group's: not worth following
        w_lo, w_hi = _width(state, [(op, av)])
        lo, hi = lo + w_lo, hi + w_hi
    raise _NoPlan  # the sequence can end without an anchor


def _scanned_by_re(items: list) -> bool:
    """Whether `re` itself finds the possible starts fast: the pattern begins with a literal, a
    class, or alternatives that each begin with a literal (what its compiler turns into a prefix
    or charset scan in C)."""
    while items and items[0][0] is sre.SUBPATTERN:
        items = list(items[0][1][3])
    if not items:
        return False
    op, av = items[0]
    if op is sre.BRANCH:
        return all(alt and list(alt)[0][0] is sre.LITERAL for alt in av[1])
    return op in (sre.LITERAL, sre.IN)


def anchors_of(rx: re.Pattern[str]) -> list[Anchor] | None:
    """The anchors of a compiled pattern, or None when it has none worth using."""
    if rx.flags & re.IGNORECASE:
        return None  # a literal would stand for its other cases too: not worth following
    try:
        parsed = sre_parse.parse(rx.pattern, rx.flags)
        if parsed.getwidth()[0] == 0 or _scanned_by_re(list(parsed.data)):
            return None  # it can match the empty string anywhere; or re scans it as fast
        return _plan(parsed.state, list(parsed.data), 0, 0)
    except (_NoPlan, re.error, AttributeError, TypeError, IndexError, RecursionError):
        return None


class CharIndex:
    """Where each of a set of characters stands in one text."""

    def __init__(self, text: str, chars: Iterable[str]) -> None:
        self.text = text
        self.positions: dict[str, list[int]] = {}
        wanted = "".join(sorted(set(chars)))
        if not wanted:
            return
        add = self.positions.setdefault
        for m in re.finditer(f"[{re.escape(wanted)}]", text):
            add(m.group(), []).append(m.start())


class AnchoredPattern:
    """A compiled regex with its anchors (see the module docstring)."""

    __slots__ = ("pattern", "anchors", "chars")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.anchors = anchors_of(pattern)
        self.chars: frozenset[str] = frozenset().union(*(a[0] for a in self.anchors or ()))

    def finditer(self, text: str, index: CharIndex | None = None) -> Iterator[re.Match[str]]:
        """re.finditer(pattern, text), trying only the starts the anchors allow. `index` must be
        built on `text` with (at least) this pattern's anchor characters."""
        if self.anchors is None or index is None or index.text is not text:
            yield from self.pattern.finditer(text)
            return
        tries = sum(len(index.positions.get(c, ())) * (hi - lo + 1) for chars, lo, hi in self.anchors for c in chars)
        if tries * DENSE > len(text):  # a common anchor: a Python call per start costs more than re's scan
            yield from self.pattern.finditer(text)
            return
        starts: set[int] = set()
        for chars, lo, hi in self.anchors:
            for c in chars:
                for p in index.positions.get(c, ()):
                    starts.update(range(max(0, p - hi), p - lo + 1))
        end = 0
        match = self.pattern.match
        for q in sorted(starts):
            if q < end:
                continue
            m = match(text, q)
            if m is not None:
                end = m.end()
                yield m
