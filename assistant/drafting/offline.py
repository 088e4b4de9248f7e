"""The offline drafting engine: no model, deterministic.

Used when no model endpoint is configured (make_model() returns None) and with --offline. It
composes a section from the spec's notes (要点) and the supplied figures:

- notes to self (这两个数还要和省里核对, 年底再定, 先空着 …) never reach the text: the clause is
  kept as a to-do (OfflineDraft.todos → SectionDraft.todos → report.json ``todos``);
- the notes are rewritten into 公文 register mechanically with the phrase tables of
  prompts/offline-register.yaml (spoken words and structures: 发稿 → 编发稿件, X里 → X中,
  在省里 → 在全省, X也要跟上 → 同步做好X; full-width punctuation, Markdown and list markers
  dropped) and developed as 一是…二是…三是… (or 一方面…另一方面… when the matching past
  section used that pattern). Each item has a verb before its number (a bare metric takes 达),
  a summarising lead where its theme allows (一是抓实理论学习。…), never the same lead twice;
  problems keep their own short lead and get measures (the notes' own, else ones matched to
  their words); plans are tasks, verb first;
- every number in the notes is run through the number check: a number that matches a
  supplied figure is rendered exactly as supplied (value + unit); one the check ties to a
  supplied figure's item but with another value (notes written before the figures were
  settled: 读书分享会办了12期, the table says 15期) is replaced by that figure, in place (the
  table is the authority for the year's numbers); one that matches none becomes
  【待补充：<the notes' words>（<unit>）】 — a number is never copied from the notes (a change the
  figures compute, 增长12%, is kept as the check verified it);
- every figure assigned to the section is used: in the gap the notes left for its item, or
  after the item it names in the notes (never inside a placeholder), or appended to the note it
  overlaps most, or in a closing 全年… sentence;
- the lead sentence follows the closest past report section in the knowledge base (its
  opening clause) when that report is the office's own (or names no office) and the clause or
  its heading shares a key word with the section's notes, title or figures; else one of the
  genre's set phrases (phrase bank below, our own writing);
- a missing title is derived from the notes in the parallel (对仗) form of its siblings.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml

from assistant.check import check_numbers
from assistant.check.numbers import load_rules
from assistant.check.reading import counters, unit_class
from assistant.check.result import NumberMention
from assistant.core.figures import Figure, figure_text
from assistant.core.resources import resource_dir
from assistant.core.segment import get_jieba
from assistant.drafting.spec import ReportSpec, SectionSpec, figures_for
from assistant.gongwen import HAN_DIGITS, PART_NAMES, TEMPLATE_TITLES, part_of_title, to_fill, to_hanzi
from assistant.kb.retrieve import Passage
from assistant.kb.search_text import tokenize

# Colloquial → 公文 register: the tables are data (prompts/offline-register.yaml), so an office can
# add a spoken phrase without a code change. Plain word swaps that the checker also flags (挺好, 咋,
# 大概…) come from rules/words.yaml's suggestions, so the engine never writes what the checker would
# suggest differently.
REGISTER_FILE = "offline-register.yaml"


class Lead(NamedTuple):
    words: tuple[str, ...]
    lead: str  # an achievement's summarising lead: 抓实理论学习
    plan: str  # the same theme in a plan: 持续强化理论武装


class Measure(NamedTuple):
    words: tuple[str, ...]
    lead: str
    text: str


@dataclass(frozen=True)
class RegisterTables:
    notes_to_self: tuple[re.Pattern, ...]
    spoken: tuple[tuple[re.Pattern, str], ...]
    first: tuple[tuple[re.Pattern, str], ...]
    verbs_le: dict[str, str]
    register: tuple[tuple[re.Pattern, str], ...]
    items: tuple[tuple[re.Pattern, str], ...]
    leads: tuple[Lead, ...]
    measures: tuple[Measure, ...]
    verbs: frozenset[str]


@lru_cache(maxsize=1)
def register_tables() -> RegisterTables:
    """The phrase tables of prompts/offline-register.yaml, compiled once."""
    data = yaml.safe_load((resource_dir("prompts") / REGISTER_FILE).read_text(encoding="utf-8"))

    def pairs(key: str) -> tuple[tuple[re.Pattern, str], ...]:
        return tuple((re.compile(p), r) for p, r in data.get(key) or [])

    return RegisterTables(
        notes_to_self=tuple(re.compile(p) for p in data.get("notes_to_self") or []),
        spoken=pairs("spoken"),
        first=pairs("first"),
        verbs_le={str(k): str(v) for k, v in (data.get("verbs_le") or {}).items()},
        register=pairs("register"),
        items=pairs("items"),
        leads=tuple(Lead(tuple(e["words"]), e["lead"], e.get("plan") or e["lead"]) for e in data.get("leads") or []),
        measures=tuple(Measure(tuple(e["words"]), e["lead"], e["text"]) for e in data.get("measures") or []),
        verbs=frozenset(data.get("verbs") or []),
    )


@lru_cache(maxsize=1)
def _checker_words() -> tuple[re.Pattern, dict[str, str]]:
    """The checker's plain colloquial words with a suggestion (rules/words.yaml), longest first."""
    swaps = {
        e["word"]: e["suggestion"]
        for e in load_rules("words.yaml")["colloquial"]
        if e.get("word") and e.get("suggestion") is not None
    }
    return re.compile("|".join(re.escape(w) for w in sorted(swaps, key=len, reverse=True))), swaps


def _formal_verbs(text: str) -> str:
    if "了" not in text:
        return text
    # Dictionary words only: the HMM guesses new words across a verb (公众号发了 → 公众/号发/了).
    tokens = list(get_jieba().cut(text, HMM=False))  # the one quiet jieba initialisation
    verbs = register_tables().verbs_le
    out, changed, i = [], False, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in verbs and i + 1 < len(tokens) and tokens[i + 1] == "了":
            out.append(verbs[tok])
            changed, i = True, i + 2
            continue
        if len(tok) == 2 and tok[1] == "了" and tok[0] in verbs:  # jieba keeps 学了, 发了 whole
            out.append(verbs[tok[0]])
            changed, i = True, i + 1
            continue
        out.append(tok)
        i += 1
    return "".join(out) if changed else text


_PUNCT = str.maketrans(
    {
        ",": "，",
        ";": "；",
        ":": "：",
        "(": "（",
        ")": "）",
        "!": "。",
        "?": "。",
        "！": "。",
        "？": "。",
        "、": "、",
        "．": "。",
    }
)
_LIST_MARK = re.compile(
    r"^\s*(?:[#>*+\-•·]+\s*|\d+\s*[.、．)）]\s*|[（(]\d+[)）]\s*|[①-⑳]\s*"
    rf"|[{HAN_DIGITS}]+[是、]\s*|第[{HAN_DIGITS}]+[，,、：:]\s*)"
)
_SUBJECT = re.compile(r"^(?:我们单位|我们局|我们|我办|我局|本单位|办公室)?(?:觉得|认为|感觉)?(?:还|也|都)?")
_LABEL_WORD = re.compile(r"^\s*(?:问题|存在问题|改进|措施|改进措施|表态|要点|打算|说明)[：:]\s*")
_TOPIC_PREFIX = re.compile(r"^[^，。；]{0,10}(?:这块|这部分|这一块|方面)[，,]")
# Notes addressed to the writer, not content of the report.
_META = re.compile(r"放在一起写|合在一起写|单独写|写一下|要写|重点写|不用写|别写")


def to_register(text: str, *, part: str = "other", year: int | None = None) -> str:
    """Rewrite one clause of notes into 公文 register (mechanical; meaning kept)."""
    t = text.strip().translate(_PUNCT)
    if year is not None:  # relative years become the report's own years
        t = re.sub(r"今年(?=是)", f"{year}年", t)
        t = re.sub(r"明年", f"{year + 1}年", t)
        t = re.sub(r"今年", "", t)
    t = re.sub(r"\*\*|`+|^#+\s*", "", t)
    t = re.sub(r"\"([^\"]*)\"", r"“\1”", t)
    t = re.sub(r"[「『]", "“", re.sub(r"[」』]", "”", t))
    t = _LIST_MARK.sub("", _LABEL_WORD.sub("", t))
    t = _TOPIC_PREFIX.sub("", t)
    tables = register_tables()
    for pattern, repl in tables.spoken:
        t = pattern.sub(repl, t)
    words, swaps = _checker_words()
    t = words.sub(lambda m: swaps[m.group(0)], t)
    for pattern, repl in tables.first:
        t = pattern.sub(repl, t)
    t = _formal_verbs(t)
    for pattern, repl in tables.register:
        t = pattern.sub(repl, t)
    if part == "plans":
        # The completive 了 in a plan reads as already done (S5).
        t = re.sub(r"(?<![为除])了(?![解如却结])", "", t)
    else:
        t = re.sub(r"了(?=[，。；：]|$)", "", t)  # sentence-final 了 is spoken style
    t = _SUBJECT.sub("", t)
    t = re.sub(r"[吧呢啊嘛呀哈](?=[，。；：]|$)", "", t)  # spoken sentence-final particles
    t = re.sub(r"\s+", "", t)
    return t.strip("，。；：、 ")


def split_clauses(notes: str, *, min_part: int = 4) -> list[str]:
    """Notes → clauses: one per line, split further at ；。 and (for a lone line) at ， when every
    piece has `min_part` characters (a problem such as 精品少 is short and still an item)."""
    clauses: list[str] = []
    for line in notes.splitlines():
        clauses += [c for c in re.split(r"[；;。]", line.translate(_PUNCT)) if c.strip()]
    clauses = [c.strip() for c in clauses if _LIST_MARK.sub("", c).strip(" ，。") and not _META.search(c)]
    if len(clauses) == 1:
        parts = [p for p in re.split(r"[，,]", clauses[0]) if p.strip()]
        if len(parts) >= 2 and all(len(p.strip()) >= min_part for p in parts):
            clauses = parts
    while len(clauses) > 6:  # more than 六是 reads as a list, not a report; merge neighbours
        merged = []
        for i in range(0, len(clauses), 2):
            merged.append("，".join(clauses[i : i + 2]))
        clauses = merged
    return clauses


# ---------------------------------------------------------------- what an office writer checks


def drop_notes_to_self(clause: str) -> tuple[str, bool]:
    """The clause without the pieces a drafter wrote to themself (这两个数还要和省里核对, 年底再定,
    数还没统计 …): those never reach the report; the caller keeps the clause as a to-do."""
    patterns = register_tables().notes_to_self
    pieces = [p for p in re.split(r"[，,]", clause) if p.strip()]
    kept = [p for p in pieces if not any(rx.search(p) for rx in patterns)]
    return "，".join(kept), len(kept) != len(pieces)


def notes_without_self_notes(notes: str) -> tuple[str, list[str]]:
    """The notes as a model may see them: the notes to self taken out of each line (数还没统计,
    还要和省里核对 …) and returned as to-dos, so no engine copies them into the report."""
    lines, todos = [], []
    for line in notes.splitlines():
        parts = []
        for raw in re.split(r"(?<=[；;。])", line):
            body, end = raw.rstrip("；;。"), raw[len(raw.rstrip("；;。")) :]
            kept, dropped = drop_notes_to_self(body)
            if dropped:
                todos.append(_LIST_MARK.sub("", body).strip(" ，"))
            if kept.strip(" ，"):
                parts.append(kept + end)
        lines.append("".join(parts))
    return "\n".join(line for line in lines if line.strip(" ，；;。")), todos


_NUMBER_OR_GAP = re.compile(r"\d|【待补充")
_NOT_VERBS = frozenset({"是", "有", "区直", "为"})
_METRIC_END = re.compile(r"(?:量|率|总数|人数|次数|规模|总额|收入)$")
_MEASURE_VERB_END = re.compile(r"(?:达到|达|突破|超过|为|至|共计|累计|共|占|约|近|逾|超)$")


def has_verb(text: str) -> bool:
    """Whether a stretch of Chinese holds a verb: jieba's tagger, plus the office verbs it tags as
    nouns (编报, 新建 …, a list in the phrase tables)."""
    get_jieba()  # the one quiet jieba initialisation, first: importing jieba warns about pkg_resources
    from jieba import posseg  # heavy: the tagger loads its model on first use

    verbs = register_tables().verbs
    if any(v in text for v in verbs):
        return True
    return any(p.flag.startswith("v") and p.word not in _NOT_VERBS for p in posseg.cut(text))


def verb_before_number(clause: str) -> str:
    """Each comma piece with a number reads as a sentence: a verb before its number. A bare
    metric (阅读量52.6万人次, 回复率98%) takes 达; a number that is the subject of a verb after it
    (126个党组织都落实了…) is left as written."""
    out = []
    for piece in clause.split("，"):
        m = _NUMBER_OR_GAP.search(piece)
        if m is not None and m.start() > 0:
            head = piece[: m.start()]
            if not _MEASURE_VERB_END.search(head) and (_METRIC_END.search(head) or not has_verb(head)):
                tail = re.sub(r"^[\d.]+[^，。；\d]{0,4}|^【[^】]*】", "", piece[m.start() :])
                if _METRIC_END.search(head) or not has_verb(tail):
                    piece = head + "达" + piece[m.start() :]
        out.append(piece)
    return "，".join(out)


def restructure_item(item: str) -> str:
    """An item whose object comes before its verb, verb first (the phrase tables' `items`)."""
    pieces = item.split("，")
    for i, piece in enumerate(pieces):
        for pattern, repl in register_tables().items:
            piece = pattern.sub(repl, piece)
        pieces[i] = piece
    return "，".join(pieces)


def item_lead(item: str, part: str, used: set[str]) -> str | None:
    """A short summarising lead for an item (一是抓实理论学习。…), from the theme words it names.
    None when the notes do not allow one: no theme word, two themes equally named, the best
    theme's lead taken by an earlier item, or a lead that only repeats the item's own words."""
    scored = []
    for order, entry in enumerate(register_tables().leads):
        hits = sum(len(w) * item.count(w) for w in entry.words)  # 第一议题 outweighs 中心组
        if hits:
            scored.append((hits, -order, entry.plan if part == "plans" else entry.lead))
    if not scored:
        return None
    scored.sort(reverse=True)
    hits, _, lead = scored[0]
    if len(scored) > 1 and scored[1][0] == hits and scored[1][2] != lead:
        return None
    if lead in used:
        return None
    if _says(item, lead):
        used.add(lead)  # the item says it already; a later item of the theme must not take it either
        return None
    return lead


def _says(item: str, lead: str) -> bool:
    """The item already says what the lead would: half the lead's character pairs anywhere in it,
    or most of the lead's characters in its opening clause (做好换届选举宣传 / 抓好换届宣传)."""
    opening = item.split("，", 1)[0]
    return len(_bigrams(lead) & _bigrams(item)) * 2 >= len(_bigrams(lead)) or len(set(lead) & set(opening)) * 2 > len(
        set(lead)
    )


def _short_lead(item: str) -> tuple[str, str] | None:
    """(lead, rest) when an item opens with a short summary clause of its own (精品较少，…)."""
    head, _, rest = item.partition("，")
    if len(rest) >= 6 and 2 <= len(head) <= 12 and not _NUMBER_OR_GAP.search(head):
        return head, rest
    return None


def with_leads(items: list[str], part: str, *, own_first: bool = False) -> list[str]:
    """Items with a summarising lead where the notes allow. A problem or measure opening with a
    short clause of its own (own_first) keeps it as the lead, and takes no other; an achievement
    with a number or several clauses, and every plan, takes its theme's lead. No lead repeats."""
    used: set[str] = set()
    out: list[str] = []
    for item in items:
        own = _short_lead(item) if own_first else None
        if own is not None and own[0] not in used:
            used.add(own[0])
            out.append(f"{own[0]}。{own[1]}")
            continue
        if own_first:  # a problem or measure: its own words or no lead
            out.append(item)
            continue
        lead = item_lead(item, part, used)  # also marks taken a theme the item states itself
        rich = part == "plans" or "，" in item or _NUMBER_OR_GAP.search(item)
        if lead is None or not rich:
            out.append(item)
            continue
        used.add(lead)
        out.append(f"{lead}。{_no_leading_digit(item, part)}")
    return out


def measures_for(problems: list[str], count: int) -> list[str]:
    """Measures matched to the problems' words (the phrase tables' `measures`), then the general
    ones, until there are `count`: one measure per problem at least."""
    out: list[str] = []
    taken: set[str] = set()
    for problem in problems:
        hit = next(
            (m for m in register_tables().measures if m.lead not in taken and any(w in problem for w in m.words)), None
        )
        if hit is not None:
            taken.add(hit.lead)
            out.append(f"{hit.lead}。{hit.text}")
    for general in MEASURES:
        if len(out) >= count:
            break
        out.append(general)
    return out


_TOPIC_ONLY_MAX = 6


def _topic_only(item: str) -> bool:
    """A bare heading word of the notes (新闻宣传): no number, no verb, a few characters."""
    return len(item) <= _TOPIC_ONLY_MAX and not _NUMBER_OR_GAP.search(item) and not has_verb(item)


# ---------------------------------------------------------------- numbers in the notes

_EXACT_PREFIX = r"^(?:共计|共|累计|达到|达)"  # kept before a figure; 约/近/超过 would misstate it
_PREFIX_WORDS = re.compile(r"(约|近|将近|超过|超|逾|共计|共|累计|达到|达|突破|不少于|不到|不足|有|了)+$")


def _phrase_before(text: str, start: int) -> str:
    head = re.split(r"[，。；：、（）“”\s]", text[:start])[-1]
    head = _PREFIX_WORDS.sub("", head)
    return head[-10:]


@dataclass
class GroundedClause:
    text: str
    used: list[str] = field(default_factory=list)  # figure ids rendered in the clause


# Words before a number that make it a change or a share (增长12%, 比上年增加3次, 占…): such a number
# is not the item's own count, so a figure's value never replaces it.
_CHANGE_CUE = re.compile(
    r"增长|增加|增幅|提高|提升|上升|下降|减少|降低|回落|降幅|同比|环比|比上年|较上年|比去年|较去年|"
    r"上年|去年|多出|少了|占|比重|翻|倍"
)
_STALE = frozenset({"invented", "misattributed"})


def _named_figure(clause: str, m: NumberMention, figures: list[Figure], taken: AbstractSet[str]) -> Figure | None:
    """The supplied figure whose item the clause ties a number to, when the notes give another
    value for it (读书分享会办了12期, the table says 15期): the table is the authority for the
    year's numbers, so the caller writes the figure's value in its place. None when the number
    is a change or a share (增长12%), when its unit is not the item's kind, when two figures share
    the item, or when the figure is already written in this section (其中省级3次 after 13次)."""
    if m.status not in _STALE or m.attribution != "item" or not m.item or m.derivation is not None:
        return None
    piece = re.split(r"[，。；：]", clause[: m.start])[-1]
    if _CHANGE_CUE.search(piece) or _CHANGE_CUE.search(m.text):
        return None
    named = {f.id: f for f in figures if f.item == m.item and unit_class(f.base_unit) == unit_class(m.unit)}
    if len(named) != 1:
        return None
    fig = next(iter(named.values()))
    return None if fig.id in taken else fig


def ground_clause(
    clause: str, figures: list[Figure], *, terms: str | Path | None = None, taken: AbstractSet[str] = frozenset()
) -> GroundedClause:
    """Replace every number of a notes clause: a supplied figure → its value and unit as
    supplied; a number the clause ties to a supplied figure's item but with another value (the
    notes were written before the figures were settled) → that figure's value, in the same
    place; a change or share the figures compute (增长12%) → as written, it is checked; anything
    else → 【待补充：…】. No other number of the notes survives as typed. `taken`: figures already
    written in earlier clauses of the section (a stale number is not replaced by one of them)."""
    by_id = {f.id: f for f in figures}
    mentions = check_numbers(clause, figures, terms=terms)
    written = set(taken) | {
        m.figure_id for m in mentions if m.status == "grounded" and m.figure_id and m.derivation is None
    }
    out, pos, used = [], 0, []
    for m in sorted(mentions, key=lambda m: m.start):
        if m.start < pos:
            continue
        out.append(clause[pos : m.start])
        grounded = by_id.get(m.figure_id) if m.status == "grounded" and m.figure_id else None
        if grounded is not None and (m.derivation is not None or not re.search(r"\d", m.text)):
            # a change or share the figures compute (增长12%), or a 汉字 count that happens to
            # match (五次会议): the number is not the figure's own value; leave it as written
            out.append(m.text)
        elif (fig := grounded or _named_figure(clause, m, figures, written)) is not None:
            prefix = re.match(_EXACT_PREFIX, m.text)
            out.append((prefix.group(0) if prefix else "") + figure_text(fig))
            used.append(fig.id)
            written.add(fig.id)
        elif m.status in ("placeholder", "unverified") and m.text.startswith("【"):
            out.append(m.text)
        else:
            after = re.split(r"[，。；：、（）“”\s\d【]", clause[m.end :])[0][:6]
            phrase = (_phrase_before(clause, m.start) + after) or "相关数据"
            unit = f"（{m.unit}）" if m.unit else ""
            out.append(to_fill(f"{phrase}{unit}"))
        pos = m.end
    out.append(clause[pos:])
    return GroundedClause("".join(out), used)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


_BRACKET = re.compile(r"【[^】]*】")
# A gap the engine or the notes left for data: 【待补充】, 【待补充：读书分享会举办（场）】.
_FILL = re.compile(r"【待补充(?:：([^】]*?))?(?:（([^（）】]*)）)?】")


def _outside_brackets(text: str, word: str) -> int:
    """Where `word` first occurs in `text` outside any 【…】 placeholder; -1 when it does not."""
    spans = [m.span() for m in _BRACKET.finditer(text)]
    i = text.find(word)
    while i >= 0:
        if not any(s <= i < e for s, e in spans):
            return i
        i = text.find(word, i + 1)
    return -1


def _fits_gap(unit: str, fig: Figure) -> bool:
    """A gap of this unit may take the figure: no unit, the figure's unit class, or both
    counters (读书分享会12场 where the table counts 期)."""
    if not unit:
        return True
    return unit_class(unit) == unit_class(fig.base_unit) or (unit in counters() and fig.base_unit in counters())


def _gap_for(text: str, fig: Figure, at: int) -> re.Match | None:
    """The 【待补充】 gap the notes' own number left for the figure's item: in the same comma piece
    as the item (at `at`; -1: anywhere, when the gap itself names the whole item), of a unit the
    figure fits, sharing the most words with the item (then the nearest)."""
    if at >= 0:
        lo = max(text.rfind(ch, 0, at) for ch in "，；。") + 1
        hi = min((j for j in (text.find(ch, at) for ch in "，；。") if j >= 0), default=len(text))
    else:
        lo, hi = 0, len(text)
    gaps = [
        g
        for g in _FILL.finditer(text, lo, hi)
        if _fits_gap(g.group(2) or "", fig)
        and (at >= 0 or fig.item in (g.group(1) or ""))
        and not _CHANGE_CUE.search(text[lo : g.start()] + (g.group(1) or ""))  # 比上年增加【…】: not the count
    ]
    if not gaps:
        return None
    item = _bigrams(fig.item)
    return max(gaps, key=lambda g: (len(item & _bigrams(g.group(1) or "")), -abs(g.start() - max(at, 0))))


def _units_after(text: str, at: int) -> list[str]:
    """The counters `text` continues with at `at`, longest first (【待补充】场次 → 场次, 场)."""
    return sorted((u for u in counters() if text.startswith(u, at)), key=len, reverse=True)


def place_figures(clauses: list[GroundedClause], figures: list[Figure]) -> list[Figure]:
    """Put each unused assigned figure into the clause that names its item: in the gap the notes'
    own number for that item left (读书分享会举办【待补充】 → 举办15期), else right after the item;
    else append it to the clause it overlaps most. Never inside a placeholder. Return the figures
    that fit no clause."""
    used = {fid for c in clauses for fid in c.used}
    left: list[Figure] = []
    for fig in figures:
        if fig.id in used:
            continue
        found = next(((c, i) for c in clauses if (i := _outside_brackets(c.text, fig.item)) >= 0), None)
        if found is None:
            found = next(((c, -1) for c in clauses if _gap_for(c.text, fig, -1) is not None), None)
        if found is not None:
            target, at = found
            gap = _gap_for(target.text, fig, at)
            if gap is not None:
                end = gap.end()
                if not gap.group(2):  # 【待补充】期: the notes wrote the unit after the gap
                    end += next((len(u) for u in _units_after(target.text, end) if _fits_gap(u, fig)), 0)
                target.text = target.text[: gap.start()] + figure_text(fig) + target.text[end:]
            else:
                i = at + len(fig.item)
                target.text = target.text[:i] + figure_text(fig) + target.text[i:]
        else:
            scored = [(len(_bigrams(fig.item) & _bigrams(c.text)), -n, c) for n, c in enumerate(clauses)]
            best = max(scored, key=lambda s: (s[0], s[1]), default=None)
            if best is None or best[0] == 0:
                left.append(fig)
                continue
            target = best[2]
            lead = "" if any(f in target.text for f in ("全年", "累计")) else "全年"
            target.text += f"，{lead}{fig.item}{figure_text(fig)}"
        target.used.append(fig.id)
        used.add(fig.id)
    return left


def figures_sentence(figures: list[Figure]) -> str:
    if not figures:
        return ""
    return "全年" + "，".join(f"{f.item}{figure_text(f)}" for f in figures) + "。"


# ---------------------------------------------------------------- phrase bank (our own writing)


# Theme words → a 4-character slogan for a title's first clause, the noun the lead sentence
# names, and the title's second clause in an 8- and a 10-character form (matched to siblings).
class Theme(NamedTuple):
    words: tuple[str, ...]
    slogan: str
    noun: str
    short: str
    long: str


THEMES: list[Theme] = [
    Theme(
        ("理论", "学习", "第一议题", "中心组", "党课", "思想"),
        "学思践悟",
        "理论武装",
        "筑牢思想理论根基",
        "夯实党员干部思想根基",
    ),
    Theme(
        ("新媒体", "短视频", "抖音", "视频号", "公众号", "网络", "融媒体", "直播"),
        "融合创新",
        "新媒体传播",
        "拓展网络传播阵地",
        "拓展人大网络传播阵地",
    ),
    Theme(
        ("新闻", "宣传", "发布会", "稿件", "报道", "媒体"),
        "凝心聚力",
        "新闻宣传",
        "提升新闻宣传实效",
        "提升人大新闻宣传实效",
    ),
    Theme(("代表", "联络站", "履职"), "人民至上", "代表工作宣传", "展现代表为民风采", "展现人大代表为民风采"),
    Theme(
        ("文化", "读书", "书香", "文明", "文体"), "以文化人", "机关文化建设", "营造机关文化氛围", "营造机关浓厚文化氛围"
    ),
    Theme(
        ("队伍", "培训", "人才", "通讯员", "业务能力"),
        "锤炼本领",
        "队伍建设",
        "锻造过硬工作队伍",
        "锻造过硬宣传工作队伍",
    ),
    Theme(("意识形态", "阵地", "审核", "舆情"), "守土尽责", "意识形态工作", "守牢意识形态阵地", "守牢人大意识形态阵地"),
    Theme(("立法", "法治", "宪法", "普法", "法规"), "法治护航", "法治宣传", "厚植法治文化土壤", "厚植基层法治文化土壤"),
    Theme(("制度", "机制", "规范", "考核"), "建章立制", "制度建设", "健全长效工作机制", "健全宣传工作长效机制"),
    Theme(("监督", "执法检查", "调研", "视察"), "务求实效", "监督工作", "推动决策部署落实", "推动决策部署落地见效"),
    Theme(("服务", "保障", "会务", "后勤"), "优质高效", "服务保障", "提升服务保障水平", "提升机关服务保障水平"),
]
DEFAULT_THEME = Theme((), "统筹推进", "重点工作", "推动工作提质增效", "推动各项工作提质增效")
# When no theme word matches (or the theme is taken by a sibling): generic slogans, in turn.
GENERIC_THEMES: list[Theme] = [
    DEFAULT_THEME,
    Theme((), "真抓实干", "重点任务", "推动任务落地见效", "推动各项任务落地见效"),
    Theme((), "守正创新", "改革创新", "激发干事创业活力", "激发干部干事创业活力"),
    Theme((), "固本强基", "基础工作", "夯实事业发展根基", "夯实各项事业发展根基"),
    Theme((), "担当作为", "作风建设", "展现干部队伍风貌", "展现干部队伍良好风貌"),
    Theme((), "为民服务", "服务群众", "提升群众满意程度", "提升人民群众满意程度"),
]
TITLE_VERBS = ["聚焦", "立足", "着眼", "深化", "坚持", "强化", "突出", "注重"]

LEADS = [
    "坚持守正创新，围绕{kw}精准发力，推动各项任务落地见效。",
    "紧紧围绕{kw}，强化统筹协调，各项工作扎实有序推进。",
    "把{kw}摆在突出位置，建立健全工作机制，工作质效稳步提升。",
    "始终把{kw}作为重要抓手，持续用力、久久为功，取得了新的进展。",
]
LEAD_TAILS = [
    "围绕{kw}持续用力，推动各项工作落地见效",
    "在{kw}上精准发力，工作质效稳步提升",
    "着力抓好{kw}，各项任务扎实推进",
    "推动{kw}不断取得新进展",
]
MEASURES = [
    "加强统筹谋划，对照问题逐项研究改进办法，明确责任分工和完成时限",
    "强化能力建设，通过业务培训、交流研讨等方式，提升工作人员的专业素养",
    "健全长效机制，完善工作制度和考核办法，推动各项工作规范化、常态化",
    "加大创新力度，积极运用新技术、新手段，增强工作的针对性和实效性",
]


def theme_of(text: str, exclude: AbstractSet[str] = frozenset()) -> Theme:
    scored = [(sum(text.count(w) for w in t.words), -i, t) for i, t in enumerate(THEMES) if t.slogan not in exclude]
    best = max(scored, default=None, key=lambda x: (x[0], x[1]))
    if best is None or best[0] == 0:
        return next((t for t in GENERIC_THEMES if t.slogan not in exclude), DEFAULT_THEME)
    return best[2]


def _quoted(title: str) -> bool:
    return bool(re.match(r"^..“", title))


def derive_titles(spec: ReportSpec, figures: list[Figure] | None = None) -> dict[str, str]:
    """A title for every section that has none, parallel (对仗) to its titled siblings.

    Siblings are derived together so that two derived titles never repeat a slogan; the result
    depends only on the spec, so any section can be drafted on its own and agree with the rest.
    """
    figures = figures or []
    out: dict[str, str] = {}

    def family(sections: list[SectionSpec]) -> None:
        titled = [s.title for s in sections if s.title]
        two_clause = not titled or sum("，" in t for t in titled) * 2 >= len(titled)
        quoted = not titled or sum(_quoted(t) for t in titled) * 2 >= len(titled)
        verbs_used = {t[:2] for t in titled}
        shared_verb = titled[0][:2] if len(titled) >= 2 and len(verbs_used) == 1 else None
        free_verbs = [v for v in TITLE_VERBS if v not in verbs_used]
        slogans_used = {q for x in titled for q in re.findall(r"“([^”]+)”", x)}
        slogans_used |= {t.slogan for t in THEMES + GENERIC_THEMES if any(t.slogan in x for x in titled)}
        seconds = [x.split("，", 1)[1] for x in titled if "，" in x]
        target = sorted(map(len, seconds))[len(seconds) // 2] if seconds else 8
        for s in sections:
            if s.title or s.part in ("intro", "closing"):
                continue
            if spec.parent_of(s.id) is None:
                if s.part in TEMPLATE_TITLES:
                    out[s.id] = TEMPLATE_TITLES[s.part].format(next_year=spec.year + 1)
                    continue
            words = s.notes + "".join(f.item for f in figures_for(s, figures))
            theme = theme_of(words, slogans_used)
            slogans_used.add(theme.slogan)
            verb = shared_verb or (free_verbs.pop(0) if free_verbs else "坚持")
            first = f"{verb}“{theme.slogan}”" if quoted else f"{verb}{theme.slogan}"
            second = min((theme.short, theme.long), key=lambda c: abs(len(c) - target))
            out[s.id] = f"{first}，{second}" if two_clause else f"{first}{second[-4:]}"

    def visit(sections: list[SectionSpec]) -> None:
        family(sections)
        for s in sections:
            visit(s.children)

    visit(spec.sections)
    return out


# ---------------------------------------------------------------- composing


@dataclass
class OfflineDraft:
    title: str
    text: str
    passages: list[Passage] = field(default_factory=list)  # passages whose patterns were used
    used: list[str] = field(default_factory=list)  # figure ids placed in the text
    todos: list[str] = field(default_factory=list)  # notes to self, kept out of the text


def _city(org: str) -> tuple[str, str]:
    """("禾川", "市") from 禾川市人大常委会办公室; ("", "") when the org names no place."""
    m = re.match(r"^(.{1,8}?)([省市县区州盟旗])", org)
    return (m.group(1), m.group(2)) if m else ("", "")


def short_org(org: str) -> str:
    """禾川市人大常委会办公室 → 市人大常委会办公室 (how the body of a report names the org)."""
    name, level = _city(org)
    return org[len(name) :] if name and len(org) > len(name) + 3 else org


_LEADER_IN_TEXT = re.compile(r"在(.{2,30}?)的?(?:坚强)?领导下")


def leadership(org: str, passages: list[Passage], notes: str = "") -> str:
    """Who leads the office: as the staff wrote it in the notes, else as the office's own past
    reports put it, else the usual form for its kind of office. Never another office's leader."""
    m = _LEADER_IN_TEXT.search(notes)
    if m and not re.search(r"\d", m.group(1)):
        return m.group(1).removesuffix("的")
    for p in passages:
        if p.organisation and p.organisation != org:
            continue
        m = re.search(r"在(.{2,30}?)的坚强领导下", p.text)
        if m and not re.search(r"\d", m.group(1)):
            return m.group(1)
    _, level = _city(org)
    level = level or "上级"
    if "人大" in org:
        return f"{level}委和{level}人大常委会党组"
    if "政协" in org:
        return f"{level}委和{level}政协党组"
    if re.search(r"工委|党委|党组|纪委|组织部|宣传部|统战部", org):
        return f"{level}委"
    return f"{level}委、{level}政府"


def _sentence(text: str) -> str:
    """Close a clause as a sentence and keep it under the length a reader takes in (L6)."""
    text = text.strip("，。；： ")
    if len(text) > 100:
        commas, depth = [], 0
        for i, ch in enumerate(text):  # only commas outside （…） and “…” may end a sentence
            depth += ch in "（“《" and 1 or (-1 if ch in "）”》" else 0)
            if ch == "，" and depth == 0:
                commas.append(i)
        mid = min(commas, key=lambda i: abs(i - len(text) / 2), default=None)
        if mid is not None and 20 < mid < len(text) - 10:
            return _sentence(text[:mid]) + _sentence(text[mid + 1 :])
    return text + "。" if text else ""


def _no_leading_digit(item: str, part: str) -> str:
    """一是 must be followed by words: a leading year goes (the section names it), a count gets a verb."""
    item = re.sub(r"^\d{4}年[，、]?", "", item)
    if re.match(r"\d", item):
        item = ("计划" if part == "plans" else "全年") + item
    return item


def enumerate_items(items: list[str], *, two_sided: bool = False, part: str = "other") -> str:
    """一是…。二是…。 (or 一方面，…。另一方面，…。) in one paragraph; one item → one sentence."""
    items = [_no_leading_digit(i, part) for i in items if i]
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return _sentence(items[0])
    if two_sided and len(items) == 2:
        return f"一方面，{_sentence(items[0])}另一方面，{_sentence(items[1])}"
    return "".join(f"{to_hanzi(n) if n <= 10 else n}是{_sentence(t)}" for n, t in enumerate(items, start=1))


def _same_part(passage: Passage, part: str) -> bool:
    """A past passage from the same part of its report (a plan's lead does not open an achievement)."""
    found = part_of_title(passage.heading_path)
    if part in ("problems", "plans"):
        return found == part
    return found not in ("problems", "plans")


# A lead sentence of the genre opens with a stance verb (始终把…作为…, 坚持…, 围绕…).
_LEAD_START = re.compile(
    r"^(?:始终|坚持|围绕|紧扣|紧紧围绕|注重|聚焦|立足|着眼|把|以|牢牢|全面|深入|持续|积极|扎实|切实|"
    r"不断|大力|着力|突出|强化|深化|推动|加强)"
)


# Words every lead of the genre uses, whatever it is about: sharing one says nothing of the topic.
_GENERIC_TERMS = frozenset(
    "建设 落实 重点 任务 推动 作为 重要 抓手 首要 政治 全面 深入 扎实 切实 着力 各项 发展 质量 水平 "
    "能力 实施 要求 部署 中心 大局 提质 增效 实效 统筹 取得 成效 进展 工作 机关 单位 全市 我市 "
    "本级 有效 有力 不断 积极 始终 聚焦 立足 着眼 紧扣 紧紧 强化 深化 突出 注重 牢牢 大力 基层 基础 "
    "更加 起来".split()
)


def _key_terms(text: str) -> set[str]:
    """The words that say what a text is about: the knowledge base's search terms of two or more
    characters, without numbers and the genre's general words."""
    return {t for t in tokenize(text) if len(t) >= 2 and not re.search(r"\d", t) and t not in _GENERIC_TERMS}


def _lead_clause(
    passages: list[Passage],
    spec: ReportSpec,
    part: str = "achievements",
    avoid: frozenset[str] = frozenset(),
    topic: AbstractSet[str] = frozenset(),
) -> tuple[str | None, Passage | None]:
    """The opening clause of the closest past subsection, when it is a reusable pattern, not one
    a sibling section already opens with (`avoid`), from the office's own reports or a report
    naming no office, and about the section's topic: the clause or its subsection's heading
    shares a key word with the section's notes, title and figures (`topic`, _key_terms). Another
    office's lead speaks of its own work (代表联络站, 政协宣传工作) and is never borrowed."""
    for p in passages:
        if not _same_part(p, part):
            continue
        if p.organisation and p.organisation != spec.organisation:
            continue
        body = p.text
        last = p.heading_path.split(">")[-1].strip() if p.heading_path else ""
        if last and body.startswith(last):
            body = body[len(last) :]
        m = re.match(r"([^。；\n]*)[。；](\s*)(.*)", body.strip(), re.S)
        # A lead stands alone: its paragraph ends after it, or the enumeration starts right after.
        if m is None or not ("\n" in m.group(2) or m.group(3).startswith(("一是", "一方面"))):
            continue
        clause = m.group(1).split("，")[0].strip()
        if (
            8 <= len(clause) <= 40
            and _LEAD_START.match(clause)
            and not re.search(rf"[\dXx×]|[{HAN_DIGITS}]是|一方面|年", clause)
            and not clause.startswith(("（", "一、", "二、", "三、"))
            and clause not in avoid
            and _key_terms(f"{last}\n{clause}") & topic
        ):
            return clause, p
    return None, None


_CONTEXT = re.compile(r"^\d{4}年是")  # "2027年是换届之年": a setting, not a task
_LEADER = re.compile(r"在[^，。；]{2,30}?领导下[，,]?")


def _context_and_items(clauses: list[GroundedClause]) -> tuple[list[str], list[str]]:
    context = [c.text for c in clauses if _CONTEXT.match(c.text)]
    items = [c.text for c in clauses if not _CONTEXT.match(c.text)]
    return context, items


_CONCISE = re.compile(r"精炼|精简|简洁|简练|简短|压缩|短一些|少写|删繁就简")
_FOCUS = re.compile(r"(?:突出|侧重|重点写|重点突出|强调|多写)([^，。；、\s]{2,12})")


class Instruction(NamedTuple):
    """What the offline engine can do with a staff member's instruction, without a model:
    be more concise (drop the generic lead) and put what is to be stressed first."""

    concise: bool
    focus: tuple[str, ...]

    @property
    def understood(self) -> bool:
        return self.concise or bool(self.focus)


def parse_instruction(instruction: str | None) -> Instruction:
    text = instruction or ""
    focus = tuple(w.removesuffix("数据").removesuffix("方面").removesuffix("工作") or w for w in _FOCUS.findall(text))
    return Instruction(concise=bool(_CONCISE.search(text)), focus=focus)


# Words staff use for a focus, and the words the report's own sentences use for the same thing.
FOCUS_WORDS = {
    "新媒体": ("公众号", "微信", "视频号", "抖音", "微博", "短视频", "直播", "网络", "新媒体", "阅读量", "播放"),
    "理论学习": ("第一议题", "中心组", "党课", "理论", "学习"),
    "代表": ("代表", "联络站", "建议"),
    "新闻": ("新闻", "发布会", "稿件", "媒体", "专题片"),
    "舆情": ("舆情", "研判", "意识形态"),
}


def _stress_first(items: list[str], focus: tuple[str, ...]) -> list[str]:
    """Items that mention a stressed word (its synonyms, or any two-character part of it) come
    first; the order is otherwise kept."""
    if not focus:
        return items
    words = {w for f in focus for w in FOCUS_WORDS.get(f) or [f] + [f[i : i + 2] for i in range(len(f) - 1)]}
    return sorted(items, key=lambda item: not any(w in item for w in words))


def compose_section(
    section: SectionSpec,
    spec: ReportSpec,
    figures: list[Figure],
    passages: list[Passage] | None = None,
    *,
    title: str | None = None,
    terms: str | Path | None = None,
    avoid_leads: frozenset[str] = frozenset(),
    instruction: str | None = None,
) -> OfflineDraft:
    """Draft one section without a model. `figures` is every supplied figure; the section's
    own are those assigned to it (spec `figures:` or the figure's `section`)."""
    passages = [p for p in (passages or []) if p.kind == "report"]
    assigned = figures_for(section, figures)
    part = section.part
    year = spec.year
    title = title if title is not None else (section.title or derive_titles(spec, figures).get(section.id, ""))
    todos: list[str] = []
    written: set[str] = set()  # figures already written in an earlier clause of the section

    def grounded(notes: str, clause_part: str) -> list[GroundedClause]:
        out = []
        min_part = 2 if clause_part in ("problems", "plans") else 4
        for raw in split_clauses(notes, min_part=min_part):
            kept, dropped = drop_notes_to_self(raw)
            if dropped:
                todos.append(_LIST_MARK.sub("", raw).strip(" ，"))
            register = to_register(kept, part=clause_part, year=year)
            clause = ground_clause(register, figures, terms=terms, taken=written)
            written.update(clause.used)
            if clause.text:
                clause.text = verb_before_number(restructure_item(clause.text))
                out.append(clause)
        return out

    org, short = spec.organisation, short_org(spec.organisation)
    topic = spec.resolved_topic
    city, level = _city(org)
    kw = theme_of(section.notes + (title or "")).noun
    used_passages: list[Passage] = []

    if part in ("achievements", "problems", "plans", "other") and not section.notes.strip() and not assigned:
        # Nothing to write from: say what is missing rather than fill the part with generic words.
        what = f"{PART_NAMES.get(part, '本部分')}要点" if part != "other" else f"“{title or section.id}”要点"
        todos.append(f"补充{what}")
        return OfflineDraft(title=title or "", text=to_fill(what), todos=todos)

    if part == "problems":
        split = re.split(r"(?:改进措施|整改措施|措施|下一步|改进)[：:]", section.notes, maxsplit=1)
        problems = grounded(split[0], part)
        measures = grounded(split[1], "plans") if len(split) > 1 else []
        clauses = problems + measures
    elif part == "plans":
        clauses = _split_context(grounded(section.notes, part))
    else:
        clauses = grounded(section.notes, part)
    left = place_figures(clauses, assigned)
    used = [fid for c in clauses for fid in c.used] + [f.id for f in left]
    context, items = _context_and_items(clauses)
    lead_context = "".join(_sentence(c) for c in context)

    if part == "intro":
        leader = leadership(org, passages, to_register(section.notes, part=part, year=year))
        used_passages += passages[:1]
        items = [_LEADER.sub("", i).strip("，") for i in items]
        items = [_SUBJECT.sub("", i) for i in items if i]
        body = "，".join(items) if items else "以习近平新时代中国特色社会主义思想为指导，紧紧围绕中心、服务大局"
        opening = "" if lead_context.startswith(f"{year}年") else f"{year}年，"
        # The notes already say how the year went: the set phrase would say it twice (新进展…新进展).
        said = re.search(r"新进展|新成效|新突破|新成绩|有(?:所|明显)?提高|明显提升", body)
        stance = "" if said else f"坚持守正创新、真抓实干，{topic}取得了新成效、新进展。"
        paragraphs = [
            f"{lead_context}{_sentence(f'{opening}在{leader}的坚强领导下，{org}{body}')}"
            f"{figures_sentence(left)}{stance}"
            f"现将{year}年{topic}汇报如下："
        ]
    elif part == "closing":
        note = "，".join(items)
        if note and not note.startswith(("以", "将")):
            note = f"以更加饱满的热情、更加扎实的作风，{note}" if "饱满" not in note else note
        note = note or f"以更加饱满的热情、更加扎实的作风，扎实做好{year + 1}年{topic}"
        if not re.search(r"作出.{0,6}贡献|提供.{0,10}(?:保证|保障|动力)", note):
            note = re.sub(r"作(?:出)?贡献$", "作出新的更大贡献", note)
        if not re.search(r"作出.{0,6}贡献|提供.{0,10}(?:保证|保障|动力)", note):
            note += f"，为推动{city or ''}经济社会高质量发展作出新的更大贡献"
        paragraphs = [f"{lead_context}{figures_sentence(left)}{_sentence(f'{short}将{note.lstrip(chr(23558))}')}"]
    elif part == "problems":
        p_items = [c.text for c in problems if not _CONTEXT.match(c.text)]
        m_items = [c.text for c in measures]
        if m_items:
            m_items = with_leads(m_items, "plans", own_first=True)
        else:
            m_items = measures_for(p_items, max(2, min(len(p_items), 4)))
        first = f"一年来，{topic}虽然取得了一定成效，但对照新形势新任务新要求，仍存在一些不足。" + (
            enumerate_items(with_leads(p_items, part, own_first=True), part=part)
            if p_items
            else to_fill("存在的主要问题")
        )
        paragraphs = [
            lead_context + first + figures_sentence(left),
            f"针对上述问题，{short}将采取以下改进措施：" + enumerate_items(m_items, part="plans"),
        ]
    elif part == "plans":
        items = _stress_first(items, parse_instruction(instruction).focus)
        when = "" if lead_context.startswith(f"{year + 1}年") else f"{year + 1}年，"  # the year once
        lead = (
            f"{lead_context}{when}{short}将继续以习近平新时代中国特色社会主义思想为指导，"
            f"紧紧围绕{level or ''}委中心工作，统筹推进{topic}各项任务，努力在守正创新中取得新突破。"
        )
        paragraphs = [lead, enumerate_items(with_leads(items, part), part=part) + figures_sentence(left)]
    else:
        # what the section is about: its notes, title and figures, less the office's own name (人大)
        about = _key_terms("\n".join([section.notes, section.title or ""] + [f.item for f in assigned]))
        clause, passage = _lead_clause(passages, spec, part, avoid_leads, about - _key_terms(org))
        index = next((i for i, s in enumerate(spec.siblings_of(section.id)) if s.id == section.id), 0)
        topics = [i for i in items if _topic_only(i)]
        items = [i for i in items if not _topic_only(i)] or items
        if topics and not theme_of(section.notes + (title or "")).words:
            kw = topics[0]
        if clause is not None and passage is not None:  # _lead_clause returns both or neither
            lead = _sentence(f"{clause}，{LEAD_TAILS[index % len(LEAD_TAILS)].format(kw=kw)}")
            used_passages.append(passage)
        else:
            lead = LEADS[index % len(LEADS)].format(kw=kw)
        wanted = parse_instruction(instruction)
        items = _stress_first(items, wanted.focus)
        if wanted.concise:  # the lead is the genre's general statement; the items carry the facts
            lead = ""
        two_sided = passage is not None and "另一方面" in passage.text
        if not two_sided:
            items = with_leads(items, part)
        paragraphs = [
            lead_context + lead + enumerate_items(items, two_sided=two_sided, part=part) + figures_sentence(left)
        ]
    text = "\n\n".join(p for p in paragraphs if p)
    return OfflineDraft(title=title or "", text=text, passages=used_passages, used=used, todos=todos)


def _split_context(clauses: list[GroundedClause]) -> list[GroundedClause]:
    """A plan's setting (2027年是换届之年) stands alone; the tasks written after it in the same
    sentence become items of their own."""
    out: list[GroundedClause] = []
    for c in clauses:
        if _CONTEXT.match(c.text) and "，" in c.text:
            head, rest = c.text.split("，", 1)
            out.append(GroundedClause(head, []))
            out += [GroundedClause(restructure_item(t), []) for t in rest.split("，") if t]
            out[-1].used = c.used
        else:
            out.append(c)
    return out
