"""公文 style lint (style-rules.md §1–§4). Word lists live in rules/*.yaml; code does only what
needs code (heading numbering, part order, enumerations, sentence length).

Rule ids: S1–S5 structure, L1–L7 language, P-<name> political formulations, N1–N5 numbers.
Decisions where the rules are silent: a missing 导语 ending or wrong part order is an error,
a missing closing sentence or an L1 heading that names no part (gongwen.part_of_title) a warning;
”、“ and 》、《 between quoted items or titles are warnings (GB/T 15834: 通常不用); Latin words
outside the whitelist are warnings; S3 compares sibling （一） headings by clause count and length
(±2 characters of the median, as the rules suggest).

Calibrated on published reports (issue 12, evals/style_quality.py): an error is what an office
writer must fix, so what published reports do as a matter of course is not one: a skipped heading
level (一、 then 1.) and 感叹号 in a report delivered as a speech are warnings; items numbered
through the document (（二）3.), an appendix's own numbering, 我代表/我受……委托, 我 in set phrases
and titles, durations (工龄15年), units that begin with 千 (500千伏) and the long 总体要求 sentence
are not findings at all.
"""

from __future__ import annotations

import re
import statistics
from functools import lru_cache
from pathlib import Path
from typing import Literal

from assistant.check.nearmiss import near_misses
from assistant.check.numbers import Extraction, extract, load_rules
from assistant.check.register import merge_register
from assistant.check.result import StyleFinding
from assistant.check.terms import OfficeTerms, office_terms
from assistant.core.figures import format_value
from assistant.gongwen import (
    HAN_DIGITS,
    PART_NAMES,
    PARTS,
    SENTENCE_END,
    from_hanzi,
    heading_label,
    part_of_title,
    read_heading,
    sentences,
    to_hanzi,
)

_CJK = "\u4e00-\u9fff"


class _Finder:
    def __init__(self) -> None:
        self.out: list[StyleFinding] = []

    def add(self, rule: str, severity: str, start: int, end: int, message: str, suggestion: str | None = None):
        self.out.append(
            StyleFinding(rule=rule, severity=severity, start=start, end=end, message=message, suggestion=suggestion)
        )


# ---------- structure ----------
# Heading numbers in a wrong form (the right ones: gongwen.read_heading).
_WRONG_HEADS = [
    (re.compile(r"(\d+)、"), "三级标题应写作“1.”，不用“1、”", lambda m: f"{m.group(1)}."),
    (re.compile(rf"\(([{HAN_DIGITS}]+)\)"), "二级标题应使用全角括号“（一）”", lambda m: f"（{m.group(1)}）"),
    (re.compile(rf"（([{HAN_DIGITS}]+)）、"), "“（一）”后不加顿号", lambda m: f"（{m.group(1)}）"),
    (re.compile(rf"([{HAN_DIGITS}]+)[.．]"), "一级标题应写作“一、”", lambda m: f"{m.group(1)}、"),
    (re.compile(r"\((\d+)\)"), "四级标题应使用全角括号“（1）”", lambda m: f"（{m.group(1)}）"),
]
_LEAD_WS = " \t\u3000"  # indentation before a line's text


class _Line:
    __slots__ = ("start", "end", "text", "level", "number", "title")

    def __init__(self, start: int, end: int, text: str):
        self.start, self.end, self.text = start, end, text
        self.level, self.number, self.title = 0, 0, ""


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        lead = len(raw) - len(raw.lstrip(_LEAD_WS))
        out.append(_Line(pos + lead, pos + len(raw), raw[lead:].rstrip()))
        pos += len(raw) + 1
    return out


# An appendix (附件, 附录, 名词解释 …) has its own numbering ("1.“……”：" glossary entries): the body's
# structure rules stop at its heading.
_APPENDIX = re.compile(
    r"(?:附件|附录|附表)[\d一二三四五六七八九十]*(?:[：:][^。；\n]{0,30})?|附[：:][^。；\n]{0,30}|名词解释[：:]?|注释[：:]?"
)


def _body_lines(lines: list[_Line]) -> list[_Line]:
    """The lines before an appendix heading (a line that is only 附件/附录/名词解释 …)."""
    for i, ln in enumerate(lines):
        if _APPENDIX.fullmatch(ln.text.lstrip("#").strip()):
            return lines[:i]
    return lines


def _classify_headings(lines: list[_Line], f: _Finder) -> None:
    for ln in lines:
        body = ln.text.lstrip("#").lstrip() if ln.text.startswith("#") else ln.text
        offset = ln.start + (len(ln.text) - len(body))
        for rx, msg, fix in _WRONG_HEADS:
            m = rx.match(body)
            if m:
                f.add("S1", "error", offset, offset + m.end(), msg, fix(m))
                break
        else:
            heading = read_heading(body)
            if heading is not None:
                ln.level, ln.number, ln.title = heading
                ln.start = offset


def _check_numbering(lines: list[_Line], scope: str, f: _Finder) -> None:
    counters = [0, 0, 0, 0, 0]
    last = [0, 0, 0, 0, 0]  # the last number of each level anywhere before: 1. 2. | （二） 3. numbers on
    seen_level = [False] * 5
    for ln in lines:
        if not ln.level:
            continue
        lv = ln.level
        parent_missing = lv > 1 and not seen_level[lv - 1] and (scope == "report" or any(seen_level[1 : lv - 1]))
        if parent_missing:
            # 一、 then 1. (no （一）) is common in published documents with few levels: a warning
            f.add("S1", "warning", ln.start, ln.end, f"{lv}级标题前没有上级标题（层级跳跃）")
        expected = counters[lv] + 1
        free_start = scope == "section" and counters[lv] == 0 and not any(seen_level[1:lv])
        # items numbered through the whole document (（一）1. 2. （二）3.) are a published convention
        continued = lv >= 3 and counters[lv] == 0 and ln.number == last[lv] + 1
        if ln.number != expected and not free_start and not continued:
            label = heading_label(lv, expected)
            f.add("S1", "error", ln.start, ln.end, f"标题编号不连续：此处应为“{label}”", None)
        counters[lv] = last[lv] = ln.number
        seen_level[lv] = True
        for deeper in range(lv + 1, 5):
            counters[deeper] = 0
            seen_level[deeper] = False
        title = ln.title
        if lv <= 2 and title and len(title) <= 40 and title[-1] in "。；" and "。" not in title[:-1]:
            f.add("S1", "warning", ln.end - 1, ln.end, "单独成行的标题末尾不加句末标点", "")  # "": delete


_PART_ORDER = " → ".join(PART_NAMES[p] for p in ("achievements", "problems", "plans"))
_INTRO_END = re.compile(r"现将.{0,60}?(?:汇报|报告)如下[：:]")
_CLOSING = re.compile(r"作出.{0,6}贡献|提供.{0,10}(?:保证|保障|动力)")


def _check_parts(text: str, lines: list[_Line], f: _Finder) -> int | None:
    """S2 for a whole report; returns the offset where the 展望 part begins (for S5)."""
    l1 = [ln for ln in lines if ln.level == 1]
    if not l1:
        f.add("S2", "warning", 0, min(len(text), 1), "全文没有一级标题（一、二、三、），不像完整的汇报结构")
        return None
    intro = text[: l1[0].start]
    if not _INTRO_END.search(intro):
        end = len(intro.rstrip())
        f.add(
            "S2",
            "error",
            max(0, end - 1),
            max(end, 1),
            "导语没有以“现将……汇报如下：”结尾（如“现将有关情况汇报如下：”）",
        )
    parts = [(ln, part_of_title(ln.title)) for ln in l1]
    last_rank, plans_start = -1, None
    for ln, part in parts:
        if part is None:
            f.add("S2", "warning", ln.start, ln.end, f"无法判断一级标题“{ln.text[:20]}”属于做法成效、问题还是打算部分")
            continue
        rank = PARTS.index(part)
        if rank < last_rank:
            f.add(
                "S2",
                "error",
                ln.start,
                ln.end,
                f"一级标题应依次为 {_PART_ORDER}；“{PART_NAMES[part]}”部分位置靠后了",
            )
        last_rank = max(last_rank, rank)
        if part == "plans" and plans_start is None:
            plans_start = ln.start
    present = {p for _, p in parts}
    for part in ("problems", "plans"):
        if part not in present:
            f.add("S2", "warning", l1[-1].start, l1[-1].end, f"缺少“{PART_NAMES[part]}”部分")
    body = [ln for ln in lines if ln.text and ln.start > l1[-1].start]
    # Skip a 落款 (office name, date): short trailing lines without a full stop.
    while len(body) > 1 and len(body[-1].text) <= 30 and "。" not in body[-1].text and not body[-1].level:
        body.pop()
    tail = body[-1] if body else None
    if tail is None or not _CLOSING.search(tail.text):
        pos = tail.start if tail else l1[-1].start
        f.add(
            "S2",
            "warning",
            pos,
            tail.end if tail else l1[-1].end,
            "结尾缺少收束句（如“为……作出新的更大贡献”“提供坚强保障”）",
        )
    return plans_start


def _check_parallel(lines: list[_Line], f: _Finder) -> None:
    groups: list[list[_Line]] = [[]]
    for ln in lines:
        if ln.level == 1:
            groups.append([])
        elif ln.level == 2:
            groups[-1].append(ln)
    for sib in groups:
        titles = [ln for ln in sib if ln.title]
        if len(titles) < 2:
            continue
        clauses = [len(re.split("[，,]", ln.title)) for ln in titles]
        common = statistics.mode(clauses)
        median = statistics.median(len(ln.title) for ln in titles)
        for ln, c in zip(titles, clauses):
            if c != common:
                f.add("S3", "warning", ln.start, ln.end, "同级小标题宜结构对仗：分句数与其他小标题不一致")
            elif abs(len(ln.title) - median) > 2:
                f.add(
                    "S3",
                    "warning",
                    ln.start,
                    ln.end,
                    f"同级小标题宜长短相近：本标题 {len(ln.title)} 字，同级中位数 {median:g} 字",
                )


_ENUM = re.compile(rf"(?:^|(?<=[。；：，！？\s\u3000]))([{HAN_DIGITS}]+)是(?=[，、：:\u4e00-\u9fff“])", re.M)
_ONE_SIDE = re.compile("(?<!另)一方面")
_OTHER_SIDE = re.compile("另一方面")


def _check_enumeration(text: str, lines: list[_Line], f: _Finder) -> None:
    bounds = [ln.start for ln in lines if ln.level] + [len(text)]
    starts = [0] + bounds[:-1]
    for s, e in zip(starts, bounds):
        block = text[s:e]
        prev = 0
        for m in _ENUM.finditer(block):
            n = int(from_hanzi(m.group(1)) or 0)
            if n == 1 or n == prev + 1:
                prev = n
                continue
            what = "重复" if n <= prev else "跳号"
            f.add(
                "S4",
                "error",
                s + m.start(1),
                s + m.end(),
                f"“一是、二是……”列举{what}：此处应为“{to_hanzi(prev + 1)}是”",
                f"{to_hanzi(prev + 1)}是",
            )
            prev = n
        # a lone 一方面 wants its 另一方面; 一方面……一方面…… is the pair written the other way
        sides = list(_ONE_SIDE.finditer(block))
        if len(sides) == 1 and not _OTHER_SIDE.search(block, sides[0].end()):
            m = sides[0]
            f.add("S4", "error", s + m.start(), s + m.end(), "有“一方面”而没有对应的“另一方面”")


_LE = re.compile(r"(?<![为除明受罢终未])了(?![解如然得不])")


def _check_plans_le(text: str, plans_start: int | None, f: _Finder) -> None:
    if plans_start is None:
        return
    for m in _LE.finditer(text, plans_start):
        f.add("S5", "warning", m.start(), m.end(), "展望部分写“了”像是已经完成的事", "删去“了”")


# ---------- language ----------
_L1 = re.compile(rf"(?<=[{_CJK}“”《》（）])[,;:!?()]|[,;:!?()](?=[{_CJK}“《（])")
_L1_MAP = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"}
_L2_BAD = re.compile('["「」『』]')
_L3_BARE = re.compile(r"关于[^《》\n，。；]{2,40}?的(?:通知|意见|方案|办法|决定)")
_L3_TITLE_SEP = re.compile("》、《")
_L3_QUOTE_SEP = re.compile("”、“")
_L4_BANG = re.compile("[!！]")
_L4_QMARK = re.compile("[？?]")
_L4_MD = [
    (re.compile(r"^[ \t]*#{1,6}\s*", re.M), "不用 Markdown 标题符号“#”，标题单独成行即可", ""),
    # bold is a pair around text: a lone run of stars or underscores where a figure goes (***人,
    # 20**年, __名) is a template's placeholder, which the register rules report (R4)
    (
        re.compile(r"(?<!\*)\*\*(?=[^*\s])[^*\n]*?(?<=[^*\s])\*\*(?!\*)|(?<!_)__(?=[^_\s])[^_\n]*?(?<=[^_\s])__(?!_)"),
        "不用 Markdown 加粗符号",
        "",
    ),
    (re.compile(r"^[ \t]*[-*+][ \t]+", re.M), "不用 Markdown 列表符号，改用“一是、二是”或序号", ""),
    (re.compile(r"`+"), "不用 Markdown 反引号", ""),
    (re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.M), "正文中不用 Markdown 表格", None),
]
# The eval's structure check counts these as structure faults.
MARKDOWN_MESSAGES = frozenset(msg for _, msg, _ in _L4_MD)
_LATIN = re.compile(r"(?<![A-Za-z\d])[A-Za-z][A-Za-z\d]*(?![A-Za-z])")
# 我镇/我单位/我委/我军/我方… name the office or its side (fine); 自我/忘我/舍小我/敌我 are not
# first person; 我代表…、我受…委托、受…委托，我向大会报告 is the speaker's mandate, the formula that
# opens every report delivered to a congress.
_L5_I = re.compile(
    "(?<![自忘无小大敌])我(?![们国省市区县州盟旗局委办院厅部校镇乡村街单处科所会中司行馆站队团社党组机系军方厂矿园场代受谨])"
)
_L5_MANDATE = re.compile("委托[，,]我(?=向)")
_L5_OTHER = re.compile("咱们|咱|俺|你们|你|您")
# Idioms and set phrases that contain 你/我 but address nobody; the second line: the 成语 of jieba's
# dictionary (tag i) with 我 that speak for nobody (据我所知 does, and stays an L5 error)
_L5_IDIOMS = re.compile(
    "你追我赶|你争我赶|你中有我|我中有你|你来我往|你方唱罢我登场|你我|为我所用|舍我其谁|我行我素|唯我独尊|物我"
    "|时不我待|时不我与|岁不我与|日不我与|你死我活|尔虞我诈|你一言我一语|以我为主|卿卿我我|依然故我|惟我独尊|彼竭我盈"
    "|人取我与|你唱我和|深得我心|实获我心|先得我心"
)
_TITLE_SPAN = re.compile(r"《[^》\n]*》")  # a title names a work: 《我和我的祖国》 is nobody's 我
# A report delivered as a speech (a paragraph that opens by addressing the audience: 各位代表！,
# 各位委员、同志们：) calls and thanks with 感叹号; a written 汇报 does not.
_VOCATIVE = re.compile(r"^[ \t\u3000]*(?:各位代表|各位委员|各位领导|同志们)(?:、[^，。\n]{1,8})?[，,：:！!]", re.M)
_QUOTE_SPAN = re.compile(r"“[^”\n]*”|‘[^’\n]*’")
# Sentence length limits, calibrated on published reports (python -m evals.style_quality prints the
# percentiles): of 4,595 sentences other than the 总体要求/指导思想 ones, the 99.5th percentile is
# 123 characters and the 99.9th 156; so a warning above 120, an error only above 180 (4 published
# sentences). The 95th percentile (77) would warn on one sentence in twenty: noise, not a hint.
L6_WARNING, L6_ERROR = 120, 180
# The 总体要求/指导思想 sentence (以……为指导，…… ; 在……坚强领导下，……) is long in every real
# report: it is never an error, at most a warning.
GUIDANCE = re.compile("为指导|总体要求|指导思想|领导下")


def _quote_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTE_SPAN.finditer(text)]


def _in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    # spans are few per document; a linear scan is cheaper than bisect bookkeeping here
    for s, e in spans:
        if s <= pos < e:
            return True
        if s > pos:
            return False
    return False


def _check_language(text: str, quotes, terms: OfficeTerms, placeholders: list[tuple[int, int]], f: _Finder) -> None:
    # A wrong heading form like "(一)" is already an S1 finding; do not report it twice.
    wrong_heads = [(x.start, x.end) for x in f.out if x.rule == "S1" and x.suggestion]
    for m in _L1.finditer(text):
        if _in_spans(m.start(), wrong_heads):
            continue
        ch = m.group(0)
        f.add("L1", "error", m.start(), m.end(), f"中文语境中使用了半角标点“{ch}”", _L1_MAP[ch])
    for m in _L2_BAD.finditer(text):
        f.add("L2", "error", m.start(), m.end(), f"引号应使用“”（嵌套用‘’），不用 {m.group(0)}", None)
    pos = 0
    for para in text.split("\n"):
        if para.count("“") != para.count("”"):
            f.add("L2", "error", pos, pos + len(para), "本段中文引号“”不成对")
        pos += len(para) + 1
    titles = [m.span() for m in re.finditer(r"《[^》\n]*》", text)]
    for m in _L3_BARE.finditer(text):
        if not _in_spans(m.start(), titles) and not text[max(0, m.start() - 2) : m.start()].endswith(
            ("作出", "审议", "通过", "出台")
        ):
            f.add("L3", "warning", m.start(), m.end(), "文件名称应加书名号《》", f"《{m.group(0)}》")
    for m in _L3_TITLE_SEP.finditer(text):
        f.add("L3", "warning", m.start() + 1, m.end() - 1, "并列书名号之间通常不用顿号", "")
    for m in _L3_QUOTE_SEP.finditer(text):
        f.add("L3", "warning", m.start() + 1, m.end() - 1, "并列引号之间通常不用顿号", "")
    speech = _VOCATIVE.search(text) is not None
    for m in _L4_BANG.finditer(text):
        if speech:
            f.add("L4", "warning", m.start(), m.end(), "讲话体报告的呼告、致谢可用感叹号；书面汇报不用", "。")
        else:
            f.add("L4", "error", m.start(), m.end(), "汇报不用感叹号", "。")
    for m in _L4_QMARK.finditer(text):
        if not _in_spans(m.start(), quotes):
            f.add("L4", "error", m.start(), m.end(), "汇报正文不用问号（引语除外）", "。")
    for rx, msg, fix in _L4_MD:
        for m in rx.finditer(text):
            if m.end() > m.start():
                f.add("L4", "error", m.start(), m.end(), msg, fix)
    whitelist = set(_words()["latin_whitelist"]) | set(terms.latin_whitelist)
    for m in _LATIN.finditer(text):
        w = m.group(0)
        # XX, ooo, E社区's E: a placeholder, which the number check lists as 待补充
        if w not in whitelist and w.upper() not in whitelist and not _in_spans(m.start(), placeholders):
            f.add("L4", "warning", m.start(), m.end(), f"正文中出现外文“{w}”，宜改用中文表述")
    skip = sorted(
        quotes
        + [m.span() for m in _L5_IDIOMS.finditer(text)]
        + [m.span() for m in _TITLE_SPAN.finditer(text)]
        + [m.span() for m in _L5_MANDATE.finditer(text)]
    )
    for m in _L5_I.finditer(text):
        if not _in_spans(m.start(), skip):
            if speech:  # a report delivered to a congress: the speaker's 我 (这里我要强调) is the genre's
                f.add(
                    "L5", "warning", m.start(), m.end(), "讲话体报告里讲话人可称“我”；书面汇报不用第一人称单数", "我们"
                )
            else:
                f.add("L5", "error", m.start(), m.end(), "汇报不用第一人称单数“我”", "我们")
    for m in _L5_OTHER.finditer(text):
        if not _in_spans(m.start(), skip):
            w = m.group(0)
            f.add("L5", "error", m.start(), m.end(), f"汇报不用“{w}”", "我们" if w.startswith(("咱", "俺")) else None)
    for start, end in sentences(text):
        stop = SENTENCE_END.search(text, start, end)
        end = stop.start() if stop else end  # the length counts the words, not the end marks
        sentence = text[start:end].strip()
        n = len(sentence)
        if n > L6_ERROR and not GUIDANCE.search(sentence):
            f.add("L6", "error", start, end, f"句子过长（{n} 字，上限 {L6_ERROR} 字），宜拆分")
        elif n > L6_WARNING:
            f.add("L6", "warning", start, end, f"句子较长（{n} 字，建议不超过 {L6_WARNING} 字）")


@lru_cache(maxsize=1)
def _words() -> dict:
    return load_rules("words.yaml")


@lru_cache(maxsize=1)
def _political() -> dict:
    return load_rules("political.yaml")


@lru_cache(maxsize=1)
def _word_rules() -> list[tuple[re.Pattern, dict]]:
    data = _words()
    out = []
    for family in ("colloquial", "artefacts"):
        for entry in data[family]:
            rx = re.compile(entry["pattern"]) if entry.get("pattern") else re.compile(re.escape(entry["word"]))
            out.append((rx, {**entry, "family": family}))
    return out


def _check_words(text: str, terms: OfficeTerms, f: _Finder) -> None:
    for rx, e in _word_rules():
        for m in rx.finditer(text):
            w = m.group(0).strip()
            msg = e.get("message") or (f"口语或不规范用语“{w}”" if e["family"] == "colloquial" else "对话模型痕迹")
            f.add("L7", e.get("severity", "error"), m.start(), m.end(), msg, e.get("suggestion"))
    for t in terms.banned:
        for m in re.finditer(re.escape(t.word), text):
            f.add("L7", t.severity, m.start(), m.end(), t.message or f"本单位规定不用“{t.word}”", t.suggestion)


_CLAUSE_END = re.compile(r"[，。；：\n]")


@lru_cache(maxsize=1)
def _political_rules():
    data = _political()
    near = [(re.compile(e["pattern"]), e) for e in data["near_miss"]]
    spelled = [(re.compile(e["trigger"]), e) for e in data["spelled"]]
    ordered = []
    for e in data["ordered"]:
        alt = "|".join(re.escape(x) for x in sorted(e["members"], key=len, reverse=True))
        ordered.append((re.compile(f"(?:{alt})(?:、(?:{alt})){{2,}}"), e))
    campaigns = [(re.compile(e["phrase"]), e) for e in data["campaigns"]]
    return near, spelled, ordered, campaigns


def _contiguous_run(items: list[str], members: list[str]) -> bool:
    """True when `items` are consecutive members in the table's order (no gap, no reordering)."""
    if items[0] not in members:
        return False
    i = members.index(items[0])
    return members[i : i + len(items)] == items


def _check_political(text: str, year: int | None, terms: OfficeTerms, f: _Finder) -> None:
    near, spelled, ordered, campaigns = _political_rules()
    for rx, e in near:
        for m in rx.finditer(text):
            f.add(
                f"P-{e['id']}",
                e.get("severity", "error"),
                m.start(),
                m.end(),
                e.get("message") or f"规范表述应为“{e['canonical']}”",
                e["canonical"],
            )
    for rx, e in spelled:
        for m in rx.finditer(text):
            if not text.startswith(e["canonical"], m.start()):
                old = next((x for o in e.get("older", []) if (x := re.compile(o).match(text, m.start()))), None)
                if old is not None:
                    end = old.end()
                    f.add(
                        f"P-{e['id']}",
                        "warning",
                        m.start(),
                        end,
                        f"“{e['id']}”的早年提法，现行规范表述为：{e['canonical']}",
                        e["canonical"],
                    )
                    continue
                # the finding covers the wrongly worded clause, up to the next punctuation
                stop = _CLAUSE_END.search(text, m.start())
                end = min(stop.start() if stop else len(text), m.start() + len(e["canonical"]) + 8)
                f.add(
                    f"P-{e['id']}",
                    "error",
                    m.start(),
                    end,
                    f"“{e['id']}”须按规范表述书写：{e['canonical']}",
                    e["canonical"],
                )
    for rx, e in ordered:
        for m in rx.finditer(text):
            items = m.group(0).split("、")
            members = e["members"]
            if e.get("partial") and _contiguous_run(items, members):
                continue
            if items != members:
                f.add(
                    f"P-{e['id']}",
                    "error",
                    m.start(),
                    m.end(),
                    f"“{e['id']}”的内容或顺序有误，应为：{'、'.join(members)}",
                    "、".join(members),
                )
    if year is not None:
        for rx, e in campaigns:
            if year not in e["years"]:
                for m in rx.finditer(text):
                    f.add(
                        "P-时效",
                        "warning",
                        m.start(),
                        m.end(),
                        f"“{m.group(0)}”是 {e['years'][0]} 年前后的专项活动，{year} 年的汇报中提及请核实是否过时",
                    )
    taken = [(x.start, x.end) for x in f.out if x.rule.startswith("P-")]
    for nm in near_misses(text):
        if not any(a < nm.end and nm.start < b for a, b in taken):
            f.add(
                f"P-{nm.canonical}",
                "error",
                nm.start,
                nm.end,
                f"疑似规范表述的误写：“{text[nm.start : nm.end]}”应为“{nm.canonical}”",
                nm.canonical,
            )
    for form in terms.formulations:
        for wrong in form.wrong:
            for m in re.finditer(re.escape(wrong), text):
                if not text.startswith(form.canonical, m.start()):
                    f.add("P-本单位", "error", m.start(), m.end(), f"规范名称应为“{form.canonical}”", form.canonical)


# ---------- numbers ----------
# A two-digit year: before 度/月/半年…, or opening a clause ("25年召开…"); not a duration (10年来).
_N1_YEAR = re.compile(
    r"(?<![\d.])\d{2}年(?=度|\d{1,2}月|[上下]半年|全年|工作|以来|[，。；])"
    r"|(?:^|(?<=[，。；：\n]))\d{2}年(?!来|间|内|多|余|左右|以上|前|后|的|里|中|代)",  # 90年代: a decade
    re.M,
)
# A number of years as a length of time, not a year: the clause names a duration (受教育年限,
# 工龄, 期限 …) or the number follows a word that measures time (满15年, 长达20年, 提高到14年).
_N1_DURATION_NOUN = re.compile("年限|工龄|教龄|党龄|期限|任期|年龄|寿命|周期|刑期|学制|服务期|时长")
_N1_DURATION_BEFORE = re.compile(
    r"(?:满|近|逾|超过|长达|历时|连续|累计|为期|用了|达到?|提高到|增加到|延长到|缩短到|提高至|延长至|缩短至|不少于|不超过)$"
)
_N1_PLACEHOLDER = re.compile(r"(?<![\dA-Za-z])(?:20\d?[xXｘＸ](?![A-Za-z])|(?:19|20)\d?[*＊]{1,2}(?=年))")


def unfilled_years(text: str) -> list[tuple[int, int]]:
    """Spans of years left unfilled (201x, 20xx, 20*年): N1 reports them, the number check does not."""
    return [m.span() for m in _N1_PLACEHOLDER.finditer(text)]


_N2 = re.compile(r"\d+[千百十]")
# 1万6千、1亿3千多万: the 千 is a digit of a number already counted in 万/亿 (the spoken compound);
# GB/T 15835 prefers 1.6万, a matter of form, so a warning.
_N2_COMPOUND = re.compile(r"[万亿]\d+[千百十]$")


@lru_cache(maxsize=1)
def _prefixed_units() -> tuple[str, ...]:
    """Units whose name starts with 千/百 (rules/units.yaml `prefixed`), longest first."""
    return tuple(sorted(load_rules("units.yaml").get("prefixed", []), key=len, reverse=True))


def _is_duration(norm: str, start: int) -> bool:
    clause_start = max(norm.rfind(c, 0, start) for c in "，。；：\n") + 1
    before = norm[clause_start:start]
    return bool(_N1_DURATION_NOUN.search(before) or _N1_DURATION_BEFORE.search(before))


_N3 = re.compile(
    r"(?<![制节公签邀契条违履预相隐大])约(?=[\d一二两三四五六七八九十百千])[\d.,一二两三四五六七八九十百千万亿]+"
    r"[^\s，。；、\d]{0,6}?(?:余|多|左右|上下)|近[\d一二两三四五六七八九十百千]+[^\s，。；、\d]{0,6}?余"
)
_N4 = re.compile(r"(?<![\d.])(\d)、(\d)(?=[个次场天人名年月项件家期篇])")


def _check_number_forms(text: str, extracted: Extraction, f: _Finder) -> None:
    found, _, norm = extracted
    for m in _N1_YEAR.finditer(norm):
        if not _is_duration(norm, m.start()):
            f.add("N1", "error", m.start(), m.end(), "年份应写全四位", None)
    for start, end in unfilled_years(norm):
        f.add("N1", "error", start, end, f"年份未填写（“{text[start:end]}”）", None)
    units = _prefixed_units()
    for m in _N2.finditer(norm):
        if norm.startswith(units, m.end() - 1):
            continue  # 500千伏: the unit kilovolt, not the numeral 千
        compound = _N2_COMPOUND.search(norm, max(0, m.start() - 1), m.end()) is not None
        f.add(
            "N2",
            "warning" if compound else "error",
            m.start(),
            m.end(),
            "阿拉伯数字只与“万”“亿”连用，不与“千”“百”“十”连用" + ("（宜写作小数加“万”“亿”）" if compound else ""),
            None,
        )
    for m in _N3.finditer(norm):
        f.add("N3", "error", m.start(), m.end(), "概数不要叠用（“约”与“余/多/左右”不同时使用）", None)
    for m in _N4.finditer(norm):
        a, b = int(m.group(1)), int(m.group(2))
        fix = to_hanzi(a) + to_hanzi(b) if a and b and b == a + 1 else None
        f.add("N4", "error", m.start(), m.end(), "相邻两数表示概数用汉字且不加顿号（如“三四次”）", fix)
    arabic_units = {e.unit for e in found if e.unit and re.search(r"\d", norm[e.start : e.end])}
    for e in found:
        if e.hanzi_exact and (e.value or 0) >= 10 and e.unit in arabic_units:
            f.add(
                "N5",
                "warning",
                e.start,
                e.end,
                f"同类数字写法不一致：此处用汉字，文中别处用阿拉伯数字（{e.unit}）",
                f"{format_value(e.value)}{e.unit}",
            )


def lint_style(
    text: str,
    *,
    scope: Literal["report", "section"] = "report",
    year: int | None = None,
    terms: str | Path | None = None,
    extraction: Extraction | None = None,
) -> list[StyleFinding]:
    """Style findings for `text`, sorted by position. scope="section" skips 导语/part order/closing.
    `extraction`: extract(text, terms) when the caller already has it (the N-rules use it)."""
    office = office_terms(terms)
    f = _Finder()
    lines = _body_lines(_lines(text))
    _classify_headings(lines, f)
    _check_numbering(lines, scope, f)
    plans_start = _check_parts(text, lines, f) if scope == "report" else None
    _check_parallel(lines, f)
    _check_enumeration(text, lines, f)
    _check_plans_le(text, plans_start, f)
    quotes = _quote_spans(text)
    extraction = extraction if extraction is not None else extract(text, terms)
    _check_language(text, quotes, office, [(s, e) for s, e, _ in extraction.placeholders], f)
    _check_words(text, office, f)
    _check_political(text, year, office, f)
    _check_number_forms(text, extraction, f)
    out = merge_register(f.out, text, office)  # register R1–R5 (check/register.py)
    return sorted(out, key=lambda x: (x.start, x.rule))
