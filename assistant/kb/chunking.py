"""公文-aware chunking: split on the heading hierarchy, then on sentence ends, never inside a sentence.

Heading levels (full-width or ASCII brackets, both occur in scraped text):
  1  一、  / 第一章            2  （一） / (一) / 第一节
  3  1. 1． 1、                4  （1） / (1)
Articles (第一条 …) are body paragraphs: packing them per chapter gives better-sized chunks.
A heading is either a full line (no sentence end: not part of any chunk's text, only of the heading
paths) or run-in: the line has a sentence end, the heading is its first sentence and the paragraph
continues on the same line (common for （一） and 1. headings, and for enumerated items ending in ；).
A run-in heading's line stays in the chunk text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.gongwen import ARTICLE, HEADING_FORMS, SENTENCE_END, sentences

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")

TARGET_MAX = 500  # chars: a section longer than this is split into roughly equal chunks
TARGET_MIN = 150  # a chunk is not closed before it has this many chars (unless the section ends)
HARD_MAX = 1000  # a single "sentence" longer than this (tables, PDF debris) is cut at ，or spaces
RUNIN_MAX = 60  # the first sentence of a run-in heading is at most this long
MERGE_BELOW = 100  # a section this short (an enumerated item, a one-line 要点) joins its neighbours


@dataclass
class Chunk:
    ord: int
    text: str
    heading_path: str
    start: int
    end: int


@dataclass
class _Section:
    path: list[str]
    start: int  # body start offset
    end: int
    top_level: int = 0  # level of the last heading in path (0: none)


def heading_level(line: str) -> tuple[int, str, bool] | None:
    """(level, heading text, run_in) when the stripped line is a heading, else None."""
    s = line.strip()
    if not s:
        return None
    md = _MD_HEADING.match(s)
    md_level = None
    if md:
        md_level, s = len(md.group(1)), md.group(2).strip()
    for level, pat in HEADING_FORMS:  # noqa: B007 - the matching level is used after the loop
        if pat.match(s):
            break
    else:
        if md_level is not None:
            # a markdown heading without a 公文 marker: "#" is the title (level 0), "##" level 1, ...
            return (md_level - 1, s.rstrip("。"), False)
        return None
    m = SENTENCE_END.search(s)
    if m is None:
        # no sentence end: a full-line heading (a long unpunctuated line still heads what follows)
        if len(s) <= RUNIN_MAX or md_level is not None:
            return (level, s, False)
        return (level, _first_clause(s), True) if level >= 2 else None
    if m.end() >= len(s) and md_level is not None:
        return (level, s[: m.start()], False)
    first = s[: m.start()]
    if len(first) <= RUNIN_MAX:
        return (level, first, True)
    return (level, _first_clause(s), True) if level >= 2 else None


def _first_clause(s: str) -> str:
    cut = re.search(r"[，,：:]", s)
    head = s[: cut.start()] if cut and cut.start() <= RUNIN_MAX else s[:RUNIN_MAX] + "…"
    return head


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) in text[start:end] (gongwen.sentences), without their
    surrounding spaces; an overlong one is cut."""
    out = []
    for s, e in sentences(text, start, end):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.extend(_cut_overlong(text, s, e))
    return out


def _cut_overlong(text: str, s: int, e: int) -> list[tuple[int, int]]:
    if e - s <= HARD_MAX:
        return [(s, e)]
    parts, pos = [], s
    while e - pos > HARD_MAX:
        window = text[pos : pos + HARD_MAX]
        cut = max(window.rfind("，"), window.rfind(","), window.rfind(" "), window.rfind("\t"))
        cut = pos + (cut + 1 if cut > HARD_MAX // 3 else HARD_MAX)
        parts.append((pos, cut))
        pos = cut
    parts.append((pos, e))
    return parts


def _sections(text: str, title: str | None) -> list[_Section]:
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    cur_start = 0
    title_done = title is None

    def close(end: int) -> None:
        sections.append(_Section([h for _, h in stack], cur_start, end, stack[-1][0] if stack else 0))

    for m in re.finditer(r"[^\n]*\n?", text):
        if not m.group(0):
            break
        line = m.group(0).rstrip("\n")
        if not title_done and line.strip():
            title_done = True
            if line.strip().lstrip("#").strip() == title:
                close(m.start())
                cur_start = m.end()
                continue
        h = heading_level(line)
        if h is None:
            if ARTICLE.match(line.strip()) and stack and not stack[-1][1].startswith("第"):
                # a new article ends the enumeration (（一）…；（二）…) of the previous one
                close(m.start())
                while stack and not stack[-1][1].startswith("第"):
                    stack.pop()
                cur_start = m.start()
            continue
        level, heading, run_in = h
        close(m.start())
        if level == 0:  # a markdown "# title" further down: treat as a fresh top
            stack = []
            cur_start = m.end()
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        # a run-in heading's line is body text; a full-line heading is not
        cur_start = m.start() if run_in else m.end()
    close(len(text))
    return [s for s in sections if text[s.start : s.end].strip()]


def _common(a: list[str], b: list[str]) -> list[str]:
    out = []
    for x, y in zip(a, b):
        if x != y:
            break
        out.append(x)
    return out


def _merge_small(text: str, sections: list[_Section], max_chars: int) -> list[_Section]:
    """Fold runs of small neighbouring sections (enumerated items, short 要点) into one section.

    Two neighbours merge when one of them is shorter than MERGE_BELOW, the result stays within
    max_chars and they share a parent (siblings, or the second nested in the first); the merged
    section's heading path is their common prefix.
    """
    out: list[_Section] = []
    for sec in sections:
        size = len(text[sec.start : sec.end].strip())
        if out:
            prev = out[-1]
            psize = len(text[prev.start : prev.end].strip())
            common = _common(prev.path, sec.path)
            # never across a top-level (一、/第一章) boundary
            related = (common == sec.path[:-1] or (prev.path and common == prev.path)) and (
                bool(common) or not sec.path or sec.top_level >= 2
            )
            if related and min(size, psize) < MERGE_BELOW and psize + size <= max_chars:
                out[-1] = _Section(common, prev.start, sec.end, sec.top_level if common == sec.path else 0)
                continue
        out.append(_Section(list(sec.path), sec.start, sec.end, sec.top_level))
    return out


def chunk_document(text: str, *, title: str | None = None) -> list[Chunk]:
    """Chunks with heading paths and offsets such that text[chunk.start:chunk.end] == chunk.text.

    A section no longer than TARGET_MAX is one chunk; a longer one is cut at sentence ends into
    ceil(len/TARGET_MAX) pieces of roughly equal length.
    """
    max_chars, min_chars = TARGET_MAX, TARGET_MIN  # read at call time: the benchmark tunes them
    chunks: list[Chunk] = []
    for sec in _merge_small(text, _sections(text, title), max_chars):
        sents = split_sentences(text, sec.start, sec.end)
        if not sents:
            continue
        total = sents[-1][1] - sents[0][0]
        n = max(1, -(-total // max_chars))
        target = max(min_chars, total / n)
        groups: list[list[tuple[int, int]]] = [[]]
        for s, e in sents:
            g = groups[-1]
            if g and (e - g[0][0] > max_chars or (s - g[0][0] >= target)) and s - g[0][0] >= min_chars:
                groups.append([])
            groups[-1].append((s, e))
        # a small tail is folded into the previous chunk when that stays within bounds
        if len(groups) > 1:
            tail = groups[-1][-1][1] - groups[-1][0][0]
            if tail < min_chars // 2 and groups[-1][-1][1] - groups[-2][0][0] <= max_chars * 1.2:
                groups[-2].extend(groups.pop())
        path = " > ".join(sec.path)
        for g in groups:
            start, end = g[0][0], g[-1][1]
            chunks.append(Chunk(len(chunks), text[start:end], path, start, end))
    return chunks
